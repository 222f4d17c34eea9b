/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "radio/chaskey.h"
#include "radio/flic2-crypto.h"
#include "radio/flic2-packet.h"
#include "radio/flic2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The engine driven by a fuzzed script against an emulated button that can
 * also answer correctly (sign with the test identity key, derive the keys,
 * MAC its packets), so the fuzzer reaches the verified session and not only
 * the MAC check. Invariants checked after every step:
 *  - every write fits the MTU; every signed client packet carries a valid
 *    MAC for the next counter (the engine never desynchronises itself);
 *  - no (boot id, event counter) is reported twice, and the persisted
 *    counter never falls behind what was reported;
 *  - actions are well formed (gestures, failure reasons, DISCONNECT last
 *    after FAILED); the engine never asks for a full queue.
 */

static const uint8_t test_seed[32] = {
	0x1e, 0xa7, 0x80, 0xd4, 0x11, 0x36, 0x52, 0x1b, 0x08, 0x89, 0x67, 0xc4,
	0x33, 0xd1, 0x35, 0x84, 0x9f, 0x1d, 0xfb, 0x0c, 0xb5, 0x2d, 0xac, 0x95,
	0x31, 0x30, 0x29, 0x7b, 0x9f, 0x29, 0x36, 0x0d,
};
static const uint8_t address[6] = { 0x80, 0xe4, 0xda, 0x12, 0x34, 0x56 };

struct h {
	struct fg_flic2 *f;
	const uint8_t *in;
	size_t left;
	uint64_t now;
	uint64_t prng;
	unsigned mtu;
	/* the emulated button */
	uint8_t conn;
	uint32_t tmp_id;
	bool have_qv;			/* a QuickVerifyRequest to answer */
	uint8_t qv_random[7];
	uint8_t qv_flags;
	bool have_fv1;			/* a FullVerifyRequest1 to answer */
	bool have_fv2;			/* a FullVerifyRequest2 to answer */
	bool have_test;			/* a TestIfReallyUnpairedRequest to answer */
	uint8_t client_pub[32], client_random[8], test_token[16];
	uint8_t btn_priv[32], btn_random[8];
	unsigned variant;
	uint8_t fvs[32];
	bool have_keys;
	struct fg_chaskey_keys keys;
	uint64_t btx, brx;
	uint32_t pairing_id;
	uint8_t pairing_key[16];
	struct fg_flic2_reassembler reasm;
	/* invariants */
	bool have_last;
	uint32_t last_boot, last_count;
};

static uint8_t byte(struct h *h)
{
	if (h->left == 0)
		return 0;
	h->left--;
	return *h->in++;
}

static uint32_t u32(struct h *h)
{
	uint32_t v = byte(h);

	v |= (uint32_t)byte(h) << 8;
	v |= (uint32_t)byte(h) << 16;
	return v | (uint32_t)byte(h) << 24;
}

static int rng(void *buf, size_t len, void *userdata)
{
	struct h *h = userdata;
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i++) {
		h->prng = h->prng * 6364136223846793005u + 1442695040888963407u;
		b[i] = (uint8_t)(h->prng >> 56);
	}
	return 0;
}

/* A packet the engine wrote, reassembled: learn from it, check its MAC. */
static void client_packet(struct h *h, const uint8_t *pkt, size_t len)
{
	struct fg_flic2_tx tx;

	if (len == 0)
		abort();
	switch (pkt[0]) {
	case FG_FLIC2_TX_FULL_VERIFY_REQUEST_1:
		if (fg_flic2_decode_tx(pkt, len, &tx) < 0 || len != FG_FLIC2_LEN_FV_REQUEST1)
			abort();
		h->tmp_id = tx.fv_request1.tmp_id;
		h->have_fv1 = true;
		return;
	case FG_FLIC2_TX_FULL_VERIFY_REQUEST_2:
		if (fg_flic2_decode_tx(pkt, len, &tx) < 0 || len != FG_FLIC2_LEN_FV_REQUEST2)
			abort();
		memcpy(h->client_pub, tx.fv_request2.ecdh_public, 32);
		memcpy(h->client_random, tx.fv_request2.random, 8);
		h->have_fv2 = true;
		return;
	case FG_FLIC2_TX_TEST_IF_REALLY_UNPAIRED:
		if (fg_flic2_decode_tx(pkt, len, &tx) < 0 || len != FG_FLIC2_LEN_TEST_UNPAIRED)
			abort();
		memcpy(h->client_pub, tx.test_unpaired.ecdh_public, 32);
		memcpy(h->client_random, tx.test_unpaired.random, 8);
		memcpy(h->test_token, tx.test_unpaired.pairing_token, 16);
		h->have_test = true;
		return;
	case FG_FLIC2_TX_QUICK_VERIFY_REQUEST:
		if (fg_flic2_decode_tx(pkt, len, &tx) < 0 || len != FG_FLIC2_LEN_QV_REQUEST)
			abort();
		h->tmp_id = tx.qv_request.tmp_id;
		memcpy(h->qv_random, tx.qv_request.random, 7);
		h->qv_flags = tx.qv_request.flags;
		h->have_qv = true;
		return;
	case FG_FLIC2_TX_FULL_VERIFY_ABORT:
		if (len != 1)
			abort();
		return;
	}
	/* everything else is signed with the session key */
	if (!h->have_keys)
		abort();
	{
		uint8_t mac[5];

		if (len < 6)
			abort();
		fg_chaskey_flic2_mac(&h->keys, h->brx++, FG_CHASKEY_DIR_TO_BUTTON, pkt, len - 5, mac);
		if (memcmp(mac, pkt + len - 5, 5) != 0)
			abort();
		if (fg_flic2_decode_tx(pkt, len - 5, &tx) < 0)
			abort();
	}
}

static void drain(struct h *h)
{
	struct fg_flic2_action a;
	bool failed = false, first_event = true;
	unsigned eff_mtu = h->mtu < 23 ? 23 : h->mtu > 130 ? 130 : h->mtu;
	uint32_t call_start = h->last_count;

	while (fg_flic2_next_action(h->f, &a) == 1) {
		if (failed && a.kind != FG_FLIC2_ACTION_DISCONNECT && a.kind != FG_FLIC2_ACTION_WRITE)
			abort();
		switch (a.kind) {
		case FG_FLIC2_ACTION_WRITE: {
			const uint8_t *pkt;
			uint8_t header;
			size_t len;
			int r;

			if (a.write.len < 2 || a.write.len > eff_mtu - 3)
				abort();
			r = fg_flic2_reassembler_feed(&h->reasm, a.write.data, a.write.len,
						      &header, &pkt, &len);
			if (r < 0)
				abort();
			if (r == 1)
				client_packet(h, pkt, len);
			break;
		}
		case FG_FLIC2_ACTION_PAIRED:
			/* a new pairing starts a new event history */
			h->have_last = false;
			if (memcmp(a.paired.address, address, 6) != 0 ||
			    !fg_flic2_name_is_valid(a.paired.name) ||
			    !fg_flic2_serial_is_valid(a.paired.serial))
				abort();
			break;
		case FG_FLIC2_ACTION_BUTTON_EVENT:
			if ((int)a.button.gesture < 0 || a.button.gesture >= _FG_GESTURE_MAX ||
			    a.button.press_usec > h->now || a.button.age_usec != h->now - a.button.press_usec)
				abort();
			if (h->have_last && a.button.boot_id == h->last_boot) {
				/* within one input several gestures share an item's counter */
				if (first_event ? a.button.event_count <= call_start
						: a.button.event_count < h->last_count)
					abort();
			}
			first_event = false;
			h->have_last = true;
			h->last_boot = a.button.boot_id;
			h->last_count = a.button.event_count;
			break;
		case FG_FLIC2_ACTION_STATE_TO_PERSIST:
			if (!a.dedup.valid)
				abort();
			if (h->have_last && a.dedup.boot_id == h->last_boot &&
			    a.dedup.event_count < h->last_count)
				abort();
			if (!h->have_last || a.dedup.boot_id != h->last_boot) {
				/* a new boot: its baseline */
				h->have_last = true;
				h->last_boot = a.dedup.boot_id;
				h->last_count = a.dedup.event_count;
				call_start = a.dedup.event_count;
			}
			break;
		case FG_FLIC2_ACTION_FAILED:
			if (!fg_flic2_failure_to_string(a.failed.reason))
				abort();
			failed = true;
			break;
		case FG_FLIC2_ACTION_NAME:
			if (!fg_flic2_name_is_valid(a.name))
				abort();
			break;
		case FG_FLIC2_ACTION_EVENTS_LOST:
			/* a gap counts whole presses: four counter values each */
			if (a.lost.presses == 0 || a.lost.next_count <= a.lost.last_count ||
			    a.lost.presses > (a.lost.next_count - a.lost.last_count) / 4 + 1)
				abort();
			break;
		case FG_FLIC2_ACTION_VERIFIED:
		case FG_FLIC2_ACTION_BATTERY:
		case FG_FLIC2_ACTION_FIRMWARE:
		case FG_FLIC2_ACTION_DISCONNECT:
			break;
		case _FG_FLIC2_ACTION_MAX:
			abort();
		}
	}
	if (!fg_flic2_state_to_string(fg_flic2_get_state(h->f)))
		abort();
}

/* Send packet bytes from the button, fragmented for the MTU. */
static void send_raw(struct h *h, uint8_t header, const uint8_t *pkt, size_t len)
{
	uint8_t out[FG_FLIC2_MAX_FRAGMENTS][FG_FLIC2_MAX_WRITE];
	size_t out_len[FG_FLIC2_MAX_FRAGMENTS];
	int n = fg_flic2_fragment(header, pkt, len, h->mtu, out, out_len);

	for (int i = 0; i < n; i++) {
		out[i][0] |= header & FG_FLIC2_HDR_NEWLY_ASSIGNED;
		if (fg_flic2_receive(h->f, out[i], out_len[i], h->now) == -ENOBUFS)
			abort();
	}
}

static void send_rx(struct h *h, const struct fg_flic2_rx *rx, bool sign, uint8_t header)
{
	uint8_t pkt[FG_FLIC2_MAX_PACKET];
	int len = fg_flic2_encode_rx(rx, pkt, sizeof(pkt) - 5);

	if (len <= 0)
		return;
	if (sign) {
		if (!h->have_keys)
			return;
		fg_chaskey_flic2_mac(&h->keys, h->btx++, FG_CHASKEY_DIR_FROM_BUTTON, pkt,
				     (size_t)len, pkt + len);
		len += 5;
	}
	send_raw(h, header, pkt, (size_t)len);
}

static void start_session(struct h *h)
{
	h->have_keys = h->have_qv = h->have_fv1 = h->have_fv2 = h->have_test = false;
	h->btx = h->brx = 0;
	fg_flic2_reassembler_reset(&h->reasm);
}

static void answer_qv(struct h *h)
{
	struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_QUICK_VERIFY_RESPONSE };
	struct fg_chaskey_keys pk;
	uint8_t seed[16], sk[16];

	if (!h->have_qv)
		return;
	h->have_qv = false;	/* one answer per request */
	memcpy(seed, h->qv_random, 7);
	seed[7] = h->qv_flags;
	for (int i = 0; i < 8; i++)
		rx.qv_response.random[i] = seed[8 + i] = byte(h);
	fg_chaskey_subkeys(&pk, h->pairing_key);
	fg_chaskey_mac(&pk, FG_CHASKEY_ROUNDS_LTS, seed, 16, sk);
	fg_chaskey_subkeys(&h->keys, sk);
	h->have_keys = true;
	h->btx = h->brx = 0;
	h->conn = byte(h) & 0x1f;
	rx.qv_response.tmp_id = h->tmp_id;
	send_rx(h, &rx, true, FG_FLIC2_HDR_NEWLY_ASSIGNED | h->conn);
}

static void answer_fv1(struct h *h)
{
	/* the certificate never changes: sign it once (libcrypto is slow to set up) */
	static uint8_t cert[39], sig[64];
	static bool cert_ready;
	struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1 };

	if (!h->have_fv1)
		return;
	h->have_fv1 = false;
	for (int i = 0; i < 32; i++)
		h->btn_priv[i] = (uint8_t)(i * 7 + 1);
	if (!cert_ready) {
		for (int i = 0; i < 6; i++)
			cert[i] = address[5 - i];
		if (fg_crypto_x25519_public(h->btn_priv, cert + 7) < 0 ||
		    fg_crypto_ed25519_sign(test_seed, cert, sizeof(cert), sig) < 0)
			abort();
		cert_ready = true;
	}
	rx.fv_response1.tmp_id = h->tmp_id;
	memcpy(rx.fv_response1.address, cert, 6);
	memcpy(rx.fv_response1.ecdh_public, cert + 7, 32);
	for (int i = 0; i < 8; i++)
		h->btn_random[i] = rx.fv_response1.random[i] = byte(h);
	rx.fv_response1.flags = byte(h);
	h->variant = sig[32] & 3;
	memcpy(rx.fv_response1.signature, sig, 64);
	rx.fv_response1.signature[32] = (uint8_t)((sig[32] & 0xfc) | (byte(h) & 3));
	h->conn = byte(h) & 0x1f;
	send_rx(h, &rx, false, FG_FLIC2_HDR_NEWLY_ASSIGNED | h->conn);
}

static bool derive_fvs(struct h *h)
{
	uint8_t shared[32], in[50];

	if (fg_crypto_x25519_shared(h->btn_priv, h->client_pub, shared) < 0)
		return false;
	memcpy(in, shared, 32);
	in[32] = (uint8_t)h->variant;
	memcpy(in + 33, h->btn_random, 8);
	memcpy(in + 41, h->client_random, 8);
	in[49] = 0;
	return fg_crypto_sha256(in, sizeof(in), h->fvs) == 0;
}

static void answer_fv2_or_test(struct h *h)
{
	uint8_t mac[32];

	if (h->have_fv2 && derive_fvs(h)) {
		struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_FULL_VERIFY_RESPONSE_2 };

		if (fg_crypto_hmac_sha256(h->fvs, 32, "SK", 2, mac) < 0)
			abort();
		fg_chaskey_subkeys(&h->keys, mac);
		h->have_keys = true;
		h->btx = h->brx = 0;
		if (fg_crypto_hmac_sha256(h->fvs, 32, "PK", 2, mac) < 0)
			abort();
		h->pairing_id = fg_flic2_le32(mac);
		memcpy(h->pairing_key, mac + 4, 16);
		rx.fv_response2.flags = byte(h);
		rx.fv_response2.name_len = byte(h);
		for (int i = 0; i < FG_FLIC2_NAME_MAX; i++)
			rx.fv_response2.name[i] = byte(h);
		for (int i = 0; i < FG_FLIC2_SERIAL_LEN; i++)
			rx.fv_response2.serial[i] = byte(h);
		rx.fv_response2.battery_level = (uint16_t)u32(h);
		send_rx(h, &rx, true, h->conn);
		h->have_fv2 = false;
	} else if (h->have_test && derive_fvs(h)) {
		struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED };
		uint8_t msg[18], choice = byte(h) % 3;

		msg[0] = choice == 0 ? 'N' : 'E';
		msg[1] = choice == 0 ? 'E' : 'X';
		memcpy(msg + 2, h->test_token, 16);
		if (fg_crypto_hmac_sha256(h->fvs, 32, msg, sizeof(msg), mac) < 0)
			abort();
		memcpy(rx.test_unpaired.result, mac, 16);
		if (choice == 2)
			rx.test_unpaired.result[0] ^= 1;
		send_rx(h, &rx, false, h->conn);
		h->have_test = false;
	}
}

static void send_events(struct h *h)
{
	struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_BUTTON_EVENTS };

	rx.events.press_counter = u32(h);
	rx.events.n = 1 + byte(h) % FG_FLIC2_MAX_EVENT_ITEMS;
	for (size_t i = 0; i < rx.events.n; i++) {
		uint8_t b = byte(h);

		rx.events.items[i].code = b & 15;
		rx.events.items[i].queued = b & 0x10;
		rx.events.items[i].queued_last = b & 0x20;
		rx.events.items[i].timestamp = ((uint64_t)u32(h) << 8) & UINT64_C(0xffffffffffff);
	}
	send_rx(h, &rx, true, h->conn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t keys[2][32];
	static bool keys_ready;
	struct fg_flic2_pairing pairing = { 0 };
	struct fg_flic2_params p = { 0 };
	struct h h;
	size_t n;

	if (size > 8192)
		return 0;
	memset(&h, 0, sizeof(h));
	h.in = data;
	h.left = size;
	h.now = 1000000;
	h.prng = 42;
	if (!keys_ready) {
		/* the test key first: the real key is tried only when it fails */
		if (fg_crypto_ed25519_public(test_seed, keys[0]) < 0)
			abort();
		memcpy(keys[1], fg_flic2_builtin_keys(&n)[0], 32);
		keys_ready = true;
	}

	/* a reconnecting button with a known key, or one being paired */
	memcpy(pairing.address, address, 6);
	pairing.pairing_id = 0x12345678;
	memset(pairing.pairing_key, 0x5a, 16);
	h.pairing_id = pairing.pairing_id;
	memcpy(h.pairing_key, pairing.pairing_key, 16);
	p.mode = byte(&h) & 1 ? FG_FLIC2_MODE_PAIR : FG_FLIC2_MODE_RECONNECT;
	memcpy(p.address, address, 6);
	p.pairing = &pairing;
	p.dedup.valid = byte(&h) & 1;
	p.dedup.boot_id = 7;
	p.dedup.event_count = 100;
	p.trusted_keys = (const uint8_t (*)[32])keys;
	p.n_trusted_keys = 2;
	p.rng = rng;
	p.rng_userdata = &h;
	if (fg_flic2_new(&p, &h.f) < 0)
		abort();
	if (p.mode == FG_FLIC2_MODE_RECONNECT && p.dedup.valid) {
		/* what was reported before this run */
		h.have_last = true;
		h.last_boot = p.dedup.boot_id;
		h.last_count = p.dedup.event_count;
	}
	h.mtu = byte(&h);
	start_session(&h);
	if (fg_flic2_connected(h.f, h.mtu, h.now) < 0)
		abort();
	drain(&h);

	while (h.left > 0) {
		uint8_t op = byte(&h);

		h.now += 1000;
		switch (op % 12) {
		case 0: {	/* a signed packet with a fuzzed body */
			uint8_t body[FG_FLIC2_MAX_PACKET];
			size_t len = 1 + byte(&h) % (FG_FLIC2_MAX_PACKET - 5);

			for (size_t i = 0; i < len; i++)
				body[i] = byte(&h);
			if (h.have_keys) {
				fg_chaskey_flic2_mac(&h.keys, h.btx++, FG_CHASKEY_DIR_FROM_BUTTON,
						     body, len, body + len);
				send_raw(&h, h.conn, body, len + 5);
			}
			break;
		}
		case 1: {	/* a raw notification, any header */
			uint8_t buf[256];
			size_t len = byte(&h);

			for (size_t i = 0; i < len; i++)
				buf[i] = byte(&h);
			if (fg_flic2_receive(h.f, buf, len, h.now) == -ENOBUFS)
				abort();
			break;
		}
		case 2:		/* time passes */
			h.now += (uint64_t)(u32(&h) & 0xffffff) * 10;
			if (fg_flic2_timeout(h.f, h.now) < 0)
				abort();
			if (fg_flic2_next_deadline(h.f) < h.now && fg_flic2_get_state(h.f) == FG_FLIC2_STATE_VERIFIED)
				abort();
			break;
		case 3:
			switch (byte(&h) % 4) {
			case 0:
				(void)fg_flic2_request_battery(h.f, h.now);
				break;
			case 1:
				(void)fg_flic2_request_name(h.f, h.now);
				break;
			case 2:
				(void)fg_flic2_request_firmware(h.f, h.now);
				break;
			default:
				(void)fg_flic2_request_disconnect(h.f, h.now);
				break;
			}
			break;
		case 4:		/* the link drops and comes back */
			fg_flic2_disconnected(h.f, h.now);
			drain(&h);
			start_session(&h);
			h.mtu = byte(&h);
			(void)fg_flic2_connected(h.f, h.mtu, h.now);
			break;
		case 5:
			answer_qv(&h);
			break;
		case 6: {
			struct fg_flic2_rx rx = { 0 };
			uint8_t b = byte(&h);

			rx.opcode = b & 1 ? FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID
					  : FG_FLIC2_RX_INIT_EVENTS_WITHOUT_BOOT_ID;
			rx.init_events.has_queued_events = b & 2;
			rx.init_events.timestamp = u32(&h);
			rx.init_events.event_count = u32(&h);
			if (b & 1)
				rx.init_events.boot_id = u32(&h);
			send_rx(&h, &rx, true, h.conn);
			break;
		}
		case 7:
			send_events(&h);
			break;
		case 8:
			answer_fv1(&h);
			break;
		case 9:
			answer_fv2_or_test(&h);
			break;
		case 10: {
			struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_QUICK_VERIFY_NEGATIVE };

			rx.qv_negative.tmp_id = byte(&h) & 1 ? h.tmp_id : u32(&h);
			send_rx(&h, &rx, false, 0);
			break;
		}
		default: {
			struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS };

			rx.no_slots.n = 1;
			rx.no_slots.tmp_ids[0] = byte(&h) & 1 ? h.tmp_id : u32(&h);
			send_rx(&h, &rx, false, 0);
			break;
		}
		}
		drain(&h);
	}
	fg_flic2_free(h.f);
	return 0;
}
