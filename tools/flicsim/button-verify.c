/* SPDX-License-Identifier: MIT */
/* The button's side of the handshakes: full verify (certificate, ECDH, a
 * new pairing in public mode), TestIfReallyUnpaired and quick verify with
 * a stored pairing. */
#include <string.h>

#include <openssl/crypto.h>

#include "button-internal.h"
#include "lib/log.h"

void btn_handle_full_verify_1(struct fs_button *b, const uint8_t *p, size_t len)
{
	uint8_t rsp[1 + 4 + 64 + 6 + 1 + 32 + 8 + 1], *q = rsp;
	const struct fs_identity *id = &b->id;
	struct fs_identity other;
	uint8_t noise;

	if (len < 5) {
		log_warning("%s: short FullVerifyRequest1 (%zu bytes)", b->address, len);
		return;
	}
	btn_end_session(b);
	b->tmp_id = fs_le32(p + 1);
	fs_random(b->button_random, 8);
	if (fs_button_take_fault(b, FS_FAULT_BAD_ADDRESS)) {
		/* A genuine certificate, but of a neighbour: a relayed or
		 * swapped identity the client must refuse by its address. */
		uint8_t a[6];

		memcpy(a, b->cfg.addr, 6);
		a[5] ^= 0x01;
		if (fs_identity_make(&other, a, b->cfg.genuine) == 0) {
			id = &other;
			log_info("%s: fault: presenting the certificate of %02X:..:%02X",
				 b->address, a[0], a[5]);
		}
	}

	*q++ = FS_RSP_FULL_VERIFY_RESPONSE_1;
	fs_put_le32(q, b->tmp_id);
	q += 4;
	memcpy(q, id->signature, 64);
	/* The two low bits of S stay secret: they are the "variant" that enters
	 * the key derivation. What goes on air there is noise. */
	fs_random(&noise, 1);
	q[32] = (q[32] & 0xfc) | (noise & 3);
	q += 64;
	memcpy(q, id->addr_le, 6);
	q += 6;
	*q++ = 0;	/* public address */
	memcpy(q, id->ecdh_public, 32);
	q += 32;
	memcpy(q, b->button_random, 8);
	q += 8;
	*q++ = b->public_mode ? 0x02 : 0x00;	/* is_in_public_mode */

	b->state = SESSION_WAIT_FULL_VERIFY_2;
	log_info("%s: FullVerifyRequest1 tmp_id %08x: sending identity (public mode %s, %s certificate)",
		 b->address, b->tmp_id, b->public_mode ? "yes" : "no",
		 b->cfg.genuine ? "test-key" : "unknown-key");
	btn_send_unsigned(b, CONN_ID | FS_FRAME_NEWLY_ASSIGNED, rsp, sizeof(rsp));
}

static int handshake_secret(struct fs_button *b, const uint8_t client_pub[32],
			    const uint8_t client_random[8], uint8_t flags,
			    uint8_t ret[32])
{
	uint8_t shared[32];
	int r;

	r = fs_x25519(b->id.ecdh_private, client_pub, shared);
	if (r < 0)
		return r;
	fs_full_verify_secret(shared, b->id.variant, b->button_random,
			      client_random, flags, ret);
	OPENSSL_cleanse(shared, sizeof(shared));
	return 0;
}

static void full_verify_fail(struct fs_button *b, uint8_t reason)
{
	uint8_t rsp[2] = { FS_RSP_FULL_VERIFY_FAIL_RESPONSE, reason };

	b->stats.full_verify_fail++;
	b->state = SESSION_NONE;
	btn_send_unsigned(b, CONN_ID, rsp, sizeof(rsp));
}

void btn_handle_full_verify_2(struct fs_button *b, const uint8_t *p, size_t len)
{
	bool with_token = p[0] == FS_OP_FULL_VERIFY_REQUEST_2_WITH_TOKEN;
	size_t need = 1 + 32 + 8 + 1 + (with_token ? 16 : 0) + 16;
	uint8_t fvss[32], mac[32], pk[32], sk[32], buf[FS_MAX_PACKET], *q = buf;
	const uint8_t *verifier;
	char h1[16], h2[16];
	uint8_t flags;
	size_t n;

	if (len < need) {
		log_warning("%s: short FullVerifyRequest2 (%zu < %zu bytes)", b->address, len, need);
		return;
	}
	flags = p[41];
	verifier = p + 42 + (with_token ? 16 : 0);
	if (handshake_secret(b, p + 1, p + 33, flags, fvss) < 0) {
		log_warning("%s: FullVerifyRequest2 with an unusable ECDH key", b->address);
		full_verify_fail(b, FS_FAIL_INVALID_VERIFIER);
		return;
	}
	fs_hmac_label(fvss, "AT", NULL, 0, mac);
	if (CRYPTO_memcmp(mac, verifier, 16) != 0) {
		log_warning("%s: FullVerifyRequest2: wrong verifier (flags %02x, variant %u)",
			    b->address, flags, b->id.variant);
		full_verify_fail(b, FS_FAIL_INVALID_VERIFIER);
		goto out;
	}
	if (!b->public_mode) {
		log_info("%s: FullVerifyRequest2: verifier ok but not in public mode", b->address);
		full_verify_fail(b, FS_FAIL_NOT_IN_PUBLIC_MODE);
		goto out;
	}
	fs_hmac_label(fvss, "PK", NULL, 0, pk);
	fs_hmac_label(fvss, "SK", NULL, 0, sk);
	btn_store_pairing(b, fs_le32(pk), pk + 4);
	fs_chaskey_init(&b->keys, sk);
	b->tx_counter = 0;
	btn_session_established(b, false);
	b->public_mode = false;
	disarm(&b->public_timer);
	b->stats.full_verify_ok++;
	log_info("%s: paired: pairing id %08x, key %s, session key %s (variant %u, flags %02x)",
		 b->address, fs_le32(pk), fs_short_hex(pk + 4, 16, h1),
		 fs_short_hex(sk, 16, h2), b->id.variant, flags);

	*q++ = FS_RSP_FULL_VERIFY_RESPONSE_2;
	*q++ = 0;	/* app credentials: not used */
	memcpy(q, b->cfg.uuid, 16);
	q += 16;
	n = strnlen(b->cfg.name, 23);
	*q++ = (uint8_t)n;
	memset(q, 0, 23);
	memcpy(q, b->cfg.name, n);
	q += 23;
	fs_put_le32(q, b->cfg.firmware);
	q += 4;
	fs_put_le16(q, battery_level(b->cfg.battery_mv));
	q += 2;
	memset(q, 0, 11);
	memcpy(q, b->cfg.serial, strnlen(b->cfg.serial, 11));
	q += 11;
	btn_send_signed(b, buf, (size_t)(q - buf));
	adv_changed(b);
out:
	OPENSSL_cleanse(fvss, sizeof(fvss));
	OPENSSL_cleanse(pk, sizeof(pk));
	OPENSSL_cleanse(sk, sizeof(sk));
}

void btn_handle_test_unpaired(struct fs_button *b, const uint8_t *p, size_t len)
{
	uint8_t fvss[32], token[32], res[32], rsp[17], ex[16];
	struct pairing *pr;
	uint32_t id;

	if (len < 1 + 32 + 8 + 4 + 16) {
		log_warning("%s: short TestIfReallyUnpairedRequest", b->address);
		return;
	}
	id = fs_le32(p + 41);
	if (handshake_secret(b, p + 1, p + 33, 0, fvss) < 0)
		return;
	pr = btn_find_pairing(b, id);
	if (pr) {
		uint8_t pt[20];

		fs_put_le32(pt, pr->id);
		memcpy(pt + 4, pr->key, 16);
		fs_hmac_label(fvss, "PT", pt, 20, token);
		if (CRYPTO_memcmp(token, p + 45, 16) != 0)
			pr = NULL;
		else {
			memcpy(ex, pt, 16);
			fs_hmac_label(fvss, "EX", ex, 16, res);
		}
		OPENSSL_cleanse(pt, sizeof(pt));
	}
	if (!pr)
		fs_hmac_label(fvss, "NE", p + 45, 16, res);
	log_info("%s: TestIfReallyUnpaired for pairing %08x: %s", b->address, id,
		 pr ? "exists" : "does not exist");
	rsp[0] = FS_RSP_TEST_IF_REALLY_UNPAIRED_RESPONSE;
	memcpy(rsp + 1, res, 16);
	b->state = SESSION_NONE;
	btn_send_unsigned(b, CONN_ID, rsp, sizeof(rsp));
	OPENSSL_cleanse(fvss, sizeof(fvss));
}

/*
 * A verify request for a new logical connection while ours is taken (a
 * client that lost its side of the link without ending it: killed with
 * the link kept by bluetoothd). A Flic 2 multiplexes logical connections
 * on one link and answers a request it has no slot for with
 * NoLogicalConnectionSlotsInd naming the request's tmp_id (both official
 * host libraries handle it: docs/simulator.md); we model one slot. Only
 * a new link (or the ping timeout, when pings are on) frees it.
 */
void btn_refuse_logical_connection(struct fs_button *b, const uint8_t *p, size_t len)
{
	uint8_t rsp[5] = { FS_RSP_NO_LOGICAL_CONNECTION_SLOTS_IND };

	if (len < 1 + 7 + 1 + 4 + 4) {
		log_warning("%s: short QuickVerifyRequest (%zu bytes)", b->address, len);
		return;
	}
	memcpy(rsp + 1, p + 9, 4);	/* the tmp_id, as it came */
	b->stats.no_slots++;
	log_info("%s: QuickVerifyRequest tmp_id %08x while a logical connection is established: no free slot",
		 b->address, fs_le32(p + 9));
	btn_send_unsigned(b, 0, rsp, sizeof(rsp));
}

void btn_handle_quick_verify(struct fs_button *b, const uint8_t *p, size_t len)
{
	uint8_t seed[16], sk[16], rsp[1 + 8 + 4 + 1 + FS_CHASKEY_MAC_LEN];
	struct fs_chaskey pk;
	struct pairing *pr;
	uint32_t tmp_id, id;
	char h[16];

	if (len < 1 + 7 + 1 + 4 + 4) {
		log_warning("%s: short QuickVerifyRequest (%zu bytes)", b->address, len);
		return;
	}
	btn_end_session(b);
	tmp_id = fs_le32(p + 9);
	id = fs_le32(p + 13);
	pr = btn_find_pairing(b, id);
	if (!pr) {
		uint8_t neg[5] = { FS_RSP_QUICK_VERIFY_NEGATIVE_RESPONSE };

		fs_put_le32(neg + 1, tmp_id);
		b->stats.quick_verify_negative++;
		log_info("%s: QuickVerifyRequest for unknown pairing %08x: negative response",
			 b->address, id);
		btn_send_unsigned(b, CONN_ID | FS_FRAME_NEWLY_ASSIGNED, neg, sizeof(neg));
		return;
	}
	fs_random(b->button_random, 8);
	/* session key = Chaskey(pairing key, client random(7) || client flags
	 * byte || button random(8)) */
	memcpy(seed, p + 1, 8);
	memcpy(seed + 8, b->button_random, 8);
	fs_chaskey_init(&pk, pr->key);
	fs_chaskey_block16(&pk, seed, sk);
	fs_chaskey_init(&b->keys, sk);
	b->tx_counter = 0;
	btn_session_established(b, true);
	b->stats.quick_verify_ok++;
	log_info("%s: quick verify ok: pairing %08x, tmp_id %08x, session key %s",
		 b->address, id, tmp_id, fs_short_hex(sk, 16, h));
	OPENSSL_cleanse(sk, sizeof(sk));
	OPENSSL_cleanse(&pk, sizeof(pk));

	rsp[0] = FS_RSP_QUICK_VERIFY_RESPONSE;
	memcpy(rsp + 1, b->button_random, 8);
	fs_put_le32(rsp + 9, tmp_id);
	rsp[13] = 0;	/* link not encrypted, no bond info */
	fs_chaskey_packet_mac(&b->keys, 0, b->tx_counter++, rsp, 14, rsp + 14);
	if (fs_button_take_fault(b, FS_FAULT_BAD_MAC))
		rsp[14] ^= 0x5a;
	btn_send_packet_events(b, CONN_ID | FS_FRAME_NEWLY_ASSIGNED, rsp, sizeof(rsp),
			   NULL, 0, false);
}
