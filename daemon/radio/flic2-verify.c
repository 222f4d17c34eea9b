/* SPDX-License-Identifier: MIT */
/*
 * Flic 2 verification: the full verify that pairs a button (its identity
 * checked against the trusted keys) and the quick verify that reconnects it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "lib/macro.h"
#include "radio/chaskey.h"
#include "radio/flic2-crypto.h"
#include "radio/flic2-internal.h"
#include "radio/flic2-packet.h"

int f2_random_bytes(struct fg_flic2 *f, void *buf, size_t len)
{
	int r = f->rng(buf, len, f->rng_userdata);

	if (r < 0) {
		f2_set_error(f, "random number generator failed (%d)", r);
		f2_fail(f, FG_FLIC2_FAIL_INTERNAL, 0);
	}
	return r;
}

void f2_send_full_verify1(struct fg_flic2 *f)
{
	struct fg_flic2_tx tx = {
		.opcode = FG_FLIC2_TX_FULL_VERIFY_REQUEST_1,
		.fv_request1.tmp_id = f->tmp_id,
	};

	f2_send_unsigned(f, &tx);
}

static bool hmac16(struct fg_flic2 *f, const uint8_t *msg, size_t len, uint8_t out[16])
{
	uint8_t mac[32];
	int r = fg_crypto_hmac_sha256(f->fvs, sizeof(f->fvs), msg, len, mac);

	memcpy(out, mac, 16);
	fg_crypto_wipe(mac, sizeof(mac));
	return r == 0;
}

/* pairing token = HMAC(fvs, "PT" || pairing id || pairing key)[0..16] */
static bool make_pairing_token(struct fg_flic2 *f)
{
	uint8_t msg[2 + 4 + 16];
	bool ok;

	msg[0] = 'P';
	msg[1] = 'T';
	fg_flic2_put_le32(msg + 2, f->pairing.pairing_id);
	memcpy(msg + 6, f->pairing.pairing_key, 16);
	ok = hmac16(f, msg, sizeof(msg), f->pairing_token);
	fg_crypto_wipe(msg, sizeof(msg));
	return ok;
}

static void wire_address(const uint8_t be[6], uint8_t le[6])
{
	for (int i = 0; i < 6; i++)
		le[i] = be[5 - i];
}

int f2_on_full_verify_response1(struct fg_flic2 *f, uint8_t header,
				    const struct fg_flic2_rx *rx)
{
	static const uint8_t label_at[2] = { 'A', 'T' }, label_sk[2] = { 'S', 'K' };
	uint8_t expect[6], cert[6 + 1 + 32], priv[32], shared[32];
	uint8_t sk[16], client_random[8];
	unsigned variant;
	size_t key_index;
	int r;

	if (rx->fv_response1.tmp_id != f->tmp_id) {
		f->counters.rx_foreign++;
		f2_set_error(f, "FullVerifyResponse1 for another tmp id");
		return 0;
	}
	if ((header & FG_FLIC2_HDR_CONN_ID_MASK) == 0) {
		f2_set_error(f, "FullVerifyResponse1 assigned no connection id");
		f2_fail(f, FG_FLIC2_FAIL_PROTOCOL, FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1);
		return 0;
	}
	f->conn_id = header & FG_FLIC2_HDR_CONN_ID_MASK;

	/* the certificate must name the device we are connected to */
	wire_address(f->address, expect);
	if (memcmp(rx->fv_response1.address, expect, 6) != 0 ||
	    rx->fv_response1.address_type != 0) {
		f2_set_error(f, "certificate is for another address");
		f2_fail(f, FG_FLIC2_FAIL_NOT_GENUINE, 0);
		return 0;
	}
	/* the signed certificate: address (6) || address type (1) || X25519 key (32) */
	memcpy(cert, rx->fv_response1.address, 6);
	cert[6] = rx->fv_response1.address_type;
	memcpy(cert + 7, rx->fv_response1.ecdh_public, 32);
	r = fg_crypto_flic2_verify_identity((const uint8_t (*)[32])f->keys, f->n_keys,
					    cert, sizeof(cert), rx->fv_response1.signature,
					    &variant, &key_index);
	if (r == -EBADMSG) {
		f2_set_error(f, "certificate not signed by a trusted key");
		f2_fail(f, FG_FLIC2_FAIL_NOT_GENUINE, 1);
		return 0;
	}
	if (r < 0) {
		f2_set_error(f, "identity check failed (%d)", r);
		f2_fail(f, FG_FLIC2_FAIL_INTERNAL, 1);
		return 0;
	}
	if (f->phase == PH_WAIT_FV1 && !(rx->fv_response1.flags & FG_FLIC2_FV1_PUBLIC_MODE)) {
		f2_set_error(f, "button is not in public mode");
		f2_fail(f, FG_FLIC2_FAIL_NOT_PAIRABLE, 0);
		return 0;
	}

	/* our ephemeral key, then our nonce: the transcript order */
	if (f2_random_bytes(f, priv, sizeof(priv)) < 0 ||
	    f2_random_bytes(f, client_random, sizeof(client_random)) < 0)
		goto out;
	r = fg_crypto_x25519_shared(priv, rx->fv_response1.ecdh_public, shared);
	if (r == -EINVAL) {
		f2_set_error(f, "button sent a low-order X25519 key");
		f2_fail(f, FG_FLIC2_FAIL_NOT_GENUINE, 4);
		goto out;
	}
	/* the flags byte we send in FullVerifyRequest2 is 0 */
	if (r < 0 || fg_crypto_flic2_full_verify_secret(shared, (uint8_t)variant,
						       rx->fv_response1.random, client_random,
						       0, f->fvs) < 0) {
		f2_set_error(f, "key agreement failed");
		f2_fail(f, FG_FLIC2_FAIL_INTERNAL, 2);
		goto out;
	}
	if (f->phase == PH_WAIT_FV1) {
		struct fg_flic2_tx tx = { .opcode = FG_FLIC2_TX_FULL_VERIFY_REQUEST_2 };

		if (fg_crypto_x25519_public(priv, tx.fv_request2.ecdh_public) < 0 ||
		    !hmac16(f, label_at, 2, tx.fv_request2.verifier) ||
		    !hmac16(f, label_sk, 2, sk)) {
			f2_set_error(f, "key derivation failed");
			f2_fail(f, FG_FLIC2_FAIL_INTERNAL, 3);
			goto out;
		}
		memcpy(tx.fv_request2.random, client_random, 8);
		tx.fv_request2.flags = 0;
		fg_chaskey_subkeys(&f->keys_session, sk);
		memcpy(f->pairing.identity_key, f->keys[key_index], 32);
		f2_send_unsigned(f, &tx);
		f->phase = PH_WAIT_FV2;
	} else {
		struct fg_flic2_tx tx = { .opcode = FG_FLIC2_TX_TEST_IF_REALLY_UNPAIRED };

		if (fg_crypto_x25519_public(priv, tx.test_unpaired.ecdh_public) < 0 ||
		    !make_pairing_token(f)) {
			f2_set_error(f, "key derivation failed");
			f2_fail(f, FG_FLIC2_FAIL_INTERNAL, 3);
			goto out;
		}
		memcpy(tx.test_unpaired.random, client_random, 8);
		tx.test_unpaired.pairing_id = f->pairing.pairing_id;
		memcpy(tx.test_unpaired.pairing_token, f->pairing_token, 16);
		f2_send_unsigned(f, &tx);
		f->phase = PH_WAIT_TEST;
	}
out:
	fg_crypto_wipe(priv, sizeof(priv));
	fg_crypto_wipe(shared, sizeof(shared));
	fg_crypto_wipe(sk, sizeof(sk));
	return 0;
}

bool f2_mac_ok(struct fg_flic2 *f, const uint8_t *pkt, size_t len)
{
	uint8_t mac[FG_FLIC2_MAC_LEN];
	bool ok;

	fg_chaskey_flic2_mac(&f->keys_session, f->rx_counter, FG_CHASKEY_DIR_FROM_BUTTON,
			     pkt, len - FG_FLIC2_MAC_LEN, mac);
	ok = fg_crypto_equal(mac, pkt + len - FG_FLIC2_MAC_LEN, FG_FLIC2_MAC_LEN);
	fg_crypto_wipe(mac, sizeof(mac));
	return ok;
}

static void session_verified(struct fg_flic2 *f, uint64_t now)
{
	f->phase = PH_ESTABLISHED;
	f->verify_deadline = NO_DEADLINE;
	f->counters.sessions++;
	f2_push(f, FG_FLIC2_ACTION_VERIFIED);
	f2_queue_request(f, REQ_INIT, now);
}

int f2_on_full_verify_response2(struct fg_flic2 *f, const struct fg_flic2_rx *rx,
				    uint64_t now)
{
	static const uint8_t label_pk[2] = { 'P', 'K' };
	struct fg_flic2_action *a;
	uint8_t pk[32];
	int r;

	if (!(rx->fv_response2.flags & FG_FLIC2_FV2_APP_CREDENTIALS_MATCH) &&
	    (rx->fv_response2.flags & FG_FLIC2_FV2_CARES_ABOUT_APP_CREDENTIALS)) {
		f2_set_error(f, "button requires app credentials");
		f2_fail(f, FG_FLIC2_FAIL_APP_CREDENTIALS, 0);
		return 0;
	}
	/* pairing id = PK[0..4] (LE), pairing key = PK[4..20] */
	r = fg_crypto_hmac_sha256(f->fvs, sizeof(f->fvs), label_pk, 2, pk);
	if (r < 0) {
		f2_set_error(f, "key derivation failed");
		f2_fail(f, FG_FLIC2_FAIL_INTERNAL, 3);
		return 0;
	}
	memcpy(f->pairing.address, f->address, 6);
	f->pairing.pairing_id = fg_flic2_le32(pk);
	memcpy(f->pairing.pairing_key, pk + 4, 16);
	fg_crypto_wipe(pk, sizeof(pk));
	memcpy(f->pairing.uuid, rx->fv_response2.uuid, 16);
	f2_sanitize_serial(rx->fv_response2.serial, FG_FLIC2_SERIAL_LEN, f->pairing.serial,
			sizeof(f->pairing.serial));
	f2_sanitize_name(rx->fv_response2.name, rx->fv_response2.name_len, f->pairing.name);
	f->pairing.firmware_version = rx->fv_response2.firmware_version;
	f->pairing.battery_mv = fg_flic2_battery_mv(rx->fv_response2.battery_level);
	f->paired = true;
	fg_crypto_wipe(f->fvs, sizeof(f->fvs));

	/* a new pairing starts a new event history */
	f->dedup.valid = false;
	f->dedup.boot_id = 0;
	f->dedup.event_count = 0;
	f->fresh = true;

	a = f2_push(f, FG_FLIC2_ACTION_PAIRED);
	if (a)
		a->paired = f->pairing;
	a = f2_push(f, FG_FLIC2_ACTION_BATTERY);
	if (a)
		a->battery_mv = f->pairing.battery_mv;
	session_verified(f, now);
	return 0;
}

int f2_on_quick_verify_response(struct fg_flic2 *f, uint8_t header,
				    const uint8_t *pkt, size_t len,
				    const struct fg_flic2_rx *rx, uint64_t now)
{
	struct fg_chaskey_keys pairing_keys;
	uint8_t seed[16], sk[16];

	if (rx->qv_response.tmp_id != f->tmp_id) {
		f->counters.rx_foreign++;
		f2_set_error(f, "QuickVerifyResponse for another tmp id");
		return 0;
	}
	if ((header & FG_FLIC2_HDR_CONN_ID_MASK) == 0) {
		f2_set_error(f, "QuickVerifyResponse assigned no connection id");
		f2_fail(f, FG_FLIC2_FAIL_PROTOCOL, FG_FLIC2_RX_QUICK_VERIFY_RESPONSE);
		return 0;
	}
	f->conn_id = header & FG_FLIC2_HDR_CONN_ID_MASK;

	/*
	 * session key = Chaskey-LTS_pairingkey(our 7-byte nonce || the flags
	 * byte we sent (0) || the button's 8-byte nonce), a one-block MAC
	 */
	memcpy(seed, f->qv_random, 7);
	seed[7] = 0;
	memcpy(seed + 8, rx->qv_response.random, 8);
	fg_chaskey_subkeys(&pairing_keys, f->pairing.pairing_key);
	fg_chaskey_mac(&pairing_keys, FG_CHASKEY_ROUNDS_LTS, seed, sizeof(seed), sk);
	fg_chaskey_subkeys(&f->keys_session, sk);
	fg_chaskey_wipe(&pairing_keys);
	fg_crypto_wipe(sk, sizeof(sk));
	fg_crypto_wipe(seed, sizeof(seed));

	if (!f2_mac_ok(f, pkt, len)) {
		f->counters.rx_bad_mac++;
		f2_set_error(f, "QuickVerifyResponse MAC does not match the stored key");
		f2_fail(f, FG_FLIC2_FAIL_KEY_MISMATCH, 0);
		return -EBADMSG;
	}
	f->rx_counter++;
	fg_crypto_wipe(f->qv_random, sizeof(f->qv_random));
	session_verified(f, now);
	return 0;
}

int f2_on_test_unpaired_response(struct fg_flic2 *f, const struct fg_flic2_rx *rx)
{
	uint8_t msg[2 + 16], expect[16];
	bool ok;

	/* "NE" (not existing): the button does not know our pairing */
	msg[0] = 'N';
	msg[1] = 'E';
	memcpy(msg + 2, f->pairing_token, 16);
	ok = hmac16(f, msg, sizeof(msg), expect);
	if (ok && fg_crypto_equal(expect, rx->test_unpaired.result, 16)) {
		f2_set_error(f, "the button no longer has this pairing");
		f2_fail(f, FG_FLIC2_FAIL_REPAIR_NEEDED, 0);
		return 0;
	}
	/* "EX" (existing): it does, yet refused quick verify */
	msg[0] = 'E';
	msg[1] = 'X';
	ok = ok && hmac16(f, msg, sizeof(msg), expect);
	if (ok && fg_crypto_equal(expect, rx->test_unpaired.result, 16)) {
		f2_set_error(f, "button holds the pairing but refused quick verify");
		f2_fail(f, FG_FLIC2_FAIL_PROTOCOL, FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED);
		return 0;
	}
	f2_set_error(f, "TestIfReallyUnpairedResponse proves nothing");
	f2_fail(f, ok ? FG_FLIC2_FAIL_NOT_GENUINE : FG_FLIC2_FAIL_INTERNAL, 3);
	return 0;
}
