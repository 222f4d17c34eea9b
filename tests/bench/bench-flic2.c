/* SPDX-License-Identifier: MIT */
/*
 * Costs of the Flic 2 engine on this machine: the per-packet MAC, a button
 * event notification end to end (decode, MAC, dedup, actions, the signed
 * acknowledgement), the quick-verify key derivation, and the identity check
 * of a pairing in its worst case (the right key tried last, all variants).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "radio/chaskey.h"
#include "radio/flic2-crypto.h"
#include "radio/flic2-packet.h"
#include "radio/flic2.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void report(const char *what, uint64_t ns, unsigned n)
{
	double per = (double)ns / n;

	if (per >= 10000)
		printf("%-44s %10.1f us/op  (%u ops)\n", what, per / 1000, n);
	else
		printf("%-44s %10.0f ns/op  (%u ops)\n", what, per, n);
}

static int rng(void *buf, size_t len, void *userdata)
{
	memset(buf, 0x33, len);
	return 0;
}

static void drain(struct fg_flic2 *f)
{
	struct fg_flic2_action a;

	while (fg_flic2_next_action(f, &a) == 1)
		;
}

static void send(struct fg_flic2 *f, struct fg_chaskey_keys *keys, uint64_t *ctr,
		 const struct fg_flic2_rx *rx, uint8_t header)
{
	uint8_t pkt[FG_FLIC2_MAX_PACKET + 1];
	int len = fg_flic2_encode_rx(rx, pkt + 1, FG_FLIC2_MAX_PACKET - 5);

	fg_chaskey_flic2_mac(keys, (*ctr)++, FG_CHASKEY_DIR_FROM_BUTTON, pkt + 1,
			     (size_t)len, pkt + 1 + len);
	pkt[0] = header;
	if (fg_flic2_receive(f, pkt, (size_t)len + 6, 1) != 0)
		abort();
}

int main(void)
{
	struct fg_chaskey_keys keys, pk;
	uint8_t key[16] = "benchmark key!!!", data[20] = { 12 }, mac[5];
	uint64_t t0, ctr = 0;
	unsigned n;

	/* the MAC of a typical 20-byte packet */
	fg_chaskey_subkeys(&keys, key);
	n = 1000000;
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		fg_chaskey_flic2_mac(&keys, i, 0, data, sizeof(data), mac);
		data[1] ^= mac[0];
	}
	report("Chaskey-LTS packet MAC, 20 bytes", now_ns() - t0, n);

	/* a verified session: quick verify against a known pairing */
	{
		struct fg_flic2_pairing pairing = { .pairing_id = 1 };
		uint8_t seed[16] = { 0 }, sk[16], k[1][32] = { { 1 } };
		struct fg_flic2_params p = {
			.mode = FG_FLIC2_MODE_RECONNECT, .pairing = &pairing,
			.trusted_keys = (const uint8_t (*)[32])k, .n_trusted_keys = 1, .rng = rng,
		};
		struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_QUICK_VERIFY_RESPONSE };
		struct fg_flic2 *f;

		memset(pairing.pairing_key, 0x44, 16);
		if (fg_flic2_new(&p, &f) < 0 || fg_flic2_connected(f, 130, 1) < 0)
			abort();
		drain(f);
		memset(seed, 0x33, 7);	/* what rng() handed out */
		fg_chaskey_subkeys(&pk, pairing.pairing_key);
		n = 100000;
		t0 = now_ns();
		for (unsigned i = 0; i < n; i++)
			fg_chaskey_mac(&pk, FG_CHASKEY_ROUNDS_LTS, seed, 16, sk);
		report("quick-verify session key derivation", now_ns() - t0, n);
		fg_chaskey_subkeys(&keys, sk);
		memcpy(rx.qv_response.random, seed + 8, 8);
		rx.qv_response.tmp_id = 0x33333333;
		send(f, &keys, &ctr, &rx, 0x21);
		drain(f);
		memset(&rx, 0, sizeof(rx));
		rx.opcode = FG_FLIC2_RX_INIT_EVENTS_WITHOUT_BOOT_ID;
		send(f, &keys, &ctr, &rx, 0x01);
		drain(f);
		if (fg_flic2_get_state(f) != FG_FLIC2_STATE_VERIFIED)
			abort();

		/* a click: down, up, single-click timeout in one notification */
		memset(&rx, 0, sizeof(rx));
		rx.opcode = FG_FLIC2_RX_BUTTON_EVENTS;
		rx.events.n = 3;
		rx.events.items[0].code = 1;
		rx.events.items[1].code = 8;
		rx.events.items[2].code = 2;
		n = 200000;
		t0 = now_ns();
		for (unsigned i = 0; i < n; i++) {
			rx.events.press_counter = 4 * (i + 1);
			send(f, &keys, &ctr, &rx, 0x01);
			drain(f);
		}
		report("event notification in, 4 gestures + ack out", now_ns() - t0, n);
		fg_flic2_free(f);
	}

	/* the identity check of a pairing: the real key fails (4 tries), then the test key */
	{
		uint8_t seed[32] = { 7 }, keys2[2][32], cert[39] = { 1 }, sig[64];
		unsigned variant;
		size_t index;

		memcpy(keys2[0], fg_flic2_builtin_keys(&index)[0], 32);
		if (fg_crypto_ed25519_public(seed, keys2[1]) < 0 ||
		    fg_crypto_ed25519_sign(seed, cert, sizeof(cert), sig) < 0)
			abort();
		sig[32] ^= (uint8_t)((sig[32] & 3) ^ ((sig[32] & 3) == 3 ? 0 : 3)) & 3;
		n = 200;
		t0 = now_ns();
		for (unsigned i = 0; i < n; i++)
			if (fg_crypto_flic2_verify_identity((const uint8_t (*)[32])keys2, 2, cert,
							    sizeof(cert), sig, &variant, &index) < 0)
				abort();
		report("identity check, test key after Flic key", now_ns() - t0, n);
	}
	return 0;
}
