/* SPDX-License-Identifier: MIT */
/*
 * Engine behaviour against an emulated button: every malformed-input class
 * while a session is up, failures during pairing and verify, timeouts,
 * event de-duplication across reconnects and reboots, every event code,
 * requests, closing, and the queue contract.
 *
 * The emulated button below plays the button side with the same primitives
 * the engine uses (their correctness is pinned by the known-answer tests
 * and the independent transcripts in test-flic2-transcript.c).
 */
#include <errno.h>

#include "test-flic2-util.h"

#include "radio/chaskey.h"
#include "radio/flic2-crypto.h"
#include "radio/flic2-packet.h"
#include "radio/flic2.h"

#define SEC UINT64_C(1000000)
#define MAX_ACTS 128
#define TEST_SEED "1ea780d41136521b088967c433d135849f1dfb0cb52dac953130297b9f29360d"

struct btn {
	/* identity */
	uint8_t seed[32];
	uint8_t address[6];		/* big endian */
	uint8_t address_type;
	uint8_t cert_address[6];	/* what the certificate names (big endian) */
	bool public_mode;
	uint8_t fv2_flags;
	bool low_order_key;
	/* the pairing the button holds */
	bool knows_pairing;
	uint32_t pairing_id;
	uint8_t pairing_key[16];
	/* session */
	uint8_t conn_id;
	uint32_t tmp_id;
	uint8_t fvs[32];
	struct fg_chaskey_keys keys;
	uint64_t tx;			/* button -> client counter */
	uint64_t rx;			/* client -> button counter */
	unsigned mtu;
	struct fg_flic2_reassembler reasm;
	uint32_t boot_id;
	uint32_t event_count;
	uint64_t clock;			/* button ticks */
	uint32_t firmware;		/* below 6 takes no advertising settings */
};

struct t {
	struct fg_flic2 *f;
	struct btn b;
	struct test_prng prng;
	uint8_t keys[2][32];
	struct fg_flic2_params params;
	uint64_t now;
	/* what the engine emitted since the last pump() */
	struct fg_flic2_action acts[MAX_ACTS];
	size_t n_acts;
	/* client packets (reassembled, MAC included) from those writes */
	uint8_t pkts[64][FG_FLIC2_MAX_PACKET];
	size_t pkt_len[64];
	size_t n_pkts;
};

static void btn_init(struct btn *b)
{
	memset(b, 0, sizeof(*b));
	test_unhex(TEST_SEED, b->seed, 32);
	test_unhex("80e4da00beef", b->address, 6);
	memcpy(b->cert_address, b->address, 6);
	b->public_mode = true;
	b->fv2_flags = FG_FLIC2_FV2_APP_CREDENTIALS_MATCH;
	b->mtu = 23;
	b->boot_id = 0x5eed0001;
	b->event_count = 400;
	b->clock = UINT64_C(1) << 40;
	b->firmware = 5;
}

static struct t *t_new(enum fg_flic2_mode mode)
{
	struct t *t = calloc(1, sizeof(*t));
	size_t n;

	assert_non_null(t);
	btn_init(&t->b);
	memcpy(t->keys[0], fg_flic2_builtin_keys(&n)[0], 32);
	assert_int_equal(fg_crypto_ed25519_public(t->b.seed, t->keys[1]), 0);
	t->prng.s = 0x9e3779b97f4a7c15u;
	t->params.mode = mode;
	memcpy(t->params.address, t->b.address, 6);
	t->params.trusted_keys = (const uint8_t (*)[32])t->keys;
	t->params.n_trusted_keys = 2;
	t->params.rng = test_prng_cb;
	t->params.rng_userdata = &t->prng;
	t->now = 100 * SEC;
	return t;
}

static void t_free(struct t *t)
{
	fg_flic2_free(t->f);
	free(t);
}

/* Drain the engine; reassemble its writes as the button would. */
static void pump(struct t *t)
{
	struct fg_flic2_action a;

	t->n_acts = 0;
	t->n_pkts = 0;
	while (fg_flic2_next_action(t->f, &a) == 1) {
		assert_true(t->n_acts < MAX_ACTS);
		t->acts[t->n_acts++] = a;
		if (a.kind == FG_FLIC2_ACTION_WRITE) {
			const uint8_t *pkt;
			uint8_t header;
			size_t len;

			assert_true(a.write.len >= 2 && a.write.len <= t->b.mtu - 3);
			if (fg_flic2_reassembler_feed(&t->b.reasm, a.write.data, a.write.len,
						      &header, &pkt, &len) == 1) {
				assert_true(t->n_pkts < 64);
				memcpy(t->pkts[t->n_pkts], pkt, len);
				t->pkt_len[t->n_pkts++] = len;
			}
		}
	}
}

static size_t count_kind(struct t *t, enum fg_flic2_action_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_acts; i++)
		n += t->acts[i].kind == kind;
	return n;
}

static bool has_kind(struct t *t, enum fg_flic2_action_kind kind)
{
	return count_kind(t, kind) > 0;
}

/* The first action of @kind; the test fails when there is none. */
static const struct fg_flic2_action *find_kind(struct t *t, enum fg_flic2_action_kind kind)
{
	static const struct fg_flic2_action none;

	for (size_t i = 0; i < t->n_acts; i++)
		if (t->acts[i].kind == kind)
			return &t->acts[i];
	fail_msg("no action of kind %d", kind);
	return &none;
}

static void expect_failed(struct t *t, enum fg_flic2_failure reason, int detail)
{
	const struct fg_flic2_action *a = find_kind(t, FG_FLIC2_ACTION_FAILED);

	if (a->failed.reason != reason)
		fail_msg("FAILED %s, wanted %s", fg_flic2_failure_to_string(a->failed.reason),
			 fg_flic2_failure_to_string(reason));
	if (detail >= 0)
		assert_int_equal(a->failed.detail, detail);
	/* DISCONNECT is the last thing asked for */
	assert_int_equal(t->acts[t->n_acts - 1].kind, FG_FLIC2_ACTION_DISCONNECT);
}

/* Button side: verify and strip the MAC of a signed client packet. */
static size_t btn_open(struct t *t, size_t i, struct fg_flic2_tx *ret)
{
	uint8_t mac[5];
	size_t len = t->pkt_len[i];

	assert_true(len > 5);
	fg_chaskey_flic2_mac(&t->b.keys, t->b.rx++, FG_CHASKEY_DIR_TO_BUTTON,
			     t->pkts[i], len - 5, mac);
	assert_memory_equal(mac, t->pkts[i] + len - 5, 5);
	assert_int_equal(fg_flic2_decode_tx(t->pkts[i], len - 5, ret), 0);
	return len - 5;
}

/* Button side: send raw packet bytes as notifications; returns the last result. */
static int btn_send_raw(struct t *t, uint8_t header, const uint8_t *pkt, size_t len)
{
	uint8_t out[FG_FLIC2_MAX_FRAGMENTS][FG_FLIC2_MAX_WRITE];
	size_t out_len[FG_FLIC2_MAX_FRAGMENTS];
	int n, r = 0;

	n = fg_flic2_fragment(header & FG_FLIC2_HDR_CONN_ID_MASK, pkt, len, t->b.mtu,
			      out, out_len);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		out[i][0] |= header & FG_FLIC2_HDR_NEWLY_ASSIGNED;
		r = fg_flic2_receive(t->f, out[i], out_len[i], t->now);
	}
	return r;
}

static int btn_send(struct t *t, const struct fg_flic2_rx *rx, bool sign, uint8_t header)
{
	uint8_t pkt[FG_FLIC2_MAX_PACKET];
	int len = fg_flic2_encode_rx(rx, pkt, sizeof(pkt) - 5);

	assert_true(len > 0);
	if (sign) {
		fg_chaskey_flic2_mac(&t->b.keys, t->b.tx++, FG_CHASKEY_DIR_FROM_BUTTON,
				     pkt, (size_t)len, pkt + len);
		len += 5;
	}
	return btn_send_raw(t, header, pkt, (size_t)len);
}

/* Send a signed session packet from raw body bytes (for malformed bodies). */
static int btn_send_signed_raw(struct t *t, const uint8_t *body, size_t len)
{
	uint8_t pkt[FG_FLIC2_MAX_PACKET + 8];

	assert_true(len + 5 <= sizeof(pkt));
	memcpy(pkt, body, len);
	fg_chaskey_flic2_mac(&t->b.keys, t->b.tx++, FG_CHASKEY_DIR_FROM_BUTTON, pkt, len,
			     pkt + len);
	return btn_send_raw(t, t->b.conn_id, pkt, len + 5);
}

static void wire(const uint8_t be[6], uint8_t le[6])
{
	for (int i = 0; i < 6; i++)
		le[i] = be[5 - i];
}

/* Build the FullVerifyResponse1 for the client's tmp id; remembers the keys. */
static void btn_fv_response1(struct t *t, struct fg_flic2_rx *rx, uint8_t btn_priv[32],
			     unsigned *variant)
{
	uint8_t sig[64];

	memset(rx, 0, sizeof(*rx));
	rx->opcode = FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1;
	rx->fv_response1.tmp_id = t->b.tmp_id;
	wire(t->b.cert_address, rx->fv_response1.address);
	rx->fv_response1.address_type = t->b.address_type;
	for (int i = 0; i < 32; i++)
		btn_priv[i] = (uint8_t)(0x70 + i * 3);
	if (t->b.low_order_key)
		memset(rx->fv_response1.ecdh_public, 0, 32);
	else
		assert_int_equal(fg_crypto_x25519_public(btn_priv, rx->fv_response1.ecdh_public), 0);
	memcpy(rx->fv_response1.random, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	rx->fv_response1.flags = t->b.public_mode ? FG_FLIC2_FV1_PUBLIC_MODE : 0;
	{
		uint8_t cert[39];

		memcpy(cert, rx->fv_response1.address, 6);
		cert[6] = rx->fv_response1.address_type;
		memcpy(cert + 7, rx->fv_response1.ecdh_public, 32);
		assert_int_equal(fg_crypto_ed25519_sign(t->b.seed, cert, sizeof(cert), sig), 0);
	}
	*variant = sig[32] & 3;
	sig[32] ^= 1;		/* transmitted low bits differ from the variant */
	memcpy(rx->fv_response1.signature, sig, 64);
}

static void btn_fvs(struct t *t, const struct fg_flic2_rx *rsp1, const uint8_t btn_priv[32],
		    unsigned variant, const uint8_t client_pub[32],
		    const uint8_t client_random[8])
{
	uint8_t shared[32], in[50];

	assert_int_equal(fg_crypto_x25519_shared(btn_priv, client_pub, shared), 0);
	memcpy(in, shared, 32);
	in[32] = (uint8_t)variant;
	memcpy(in + 33, rsp1->fv_response1.random, 8);
	memcpy(in + 41, client_random, 8);
	in[49] = 0;
	assert_int_equal(fg_crypto_sha256(in, sizeof(in), t->b.fvs), 0);
}

static void hmac16(const uint8_t key[32], const void *msg, size_t len, uint8_t out[16])
{
	uint8_t mac[32];

	assert_int_equal(fg_crypto_hmac_sha256(key, 32, msg, len, mac), 0);
	memcpy(out, mac, 16);
}

static void init_response(struct t *t, bool with_boot, bool queued)
{
	struct fg_flic2_rx rx = { 0 };

	rx.opcode = with_boot ? FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID :
				FG_FLIC2_RX_INIT_EVENTS_WITHOUT_BOOT_ID;
	rx.init_events.has_queued_events = queued;
	rx.init_events.timestamp = t->b.clock;
	rx.init_events.event_count = t->b.event_count;
	rx.init_events.boot_id = with_boot ? t->b.boot_id : 0;
	assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
}

/*
 * Drive a full verify up to the FullVerifyResponse2 (not sent). Returns
 * with the button holding the session keys.
 */
static void pair_until_fv2(struct t *t)
{
	struct fg_flic2_rx rsp1;
	struct fg_flic2_tx tx;
	uint8_t priv[32], sk[16], verifier[16];
	unsigned variant;

	if (!t->f)
		assert_int_equal(fg_flic2_new(&t->params, &t->f), 0);
	assert_int_equal(fg_flic2_connected(t->f, t->b.mtu, t->now), 0);
	pump(t);
	if (t->n_pkts == 0)
		return;		/* refused before asking: the caller checks why */
	assert_int_equal(fg_flic2_decode_tx(t->pkts[0], t->pkt_len[0], &tx), 0);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_FULL_VERIFY_REQUEST_1);
	t->b.tmp_id = tx.fv_request1.tmp_id;
	t->b.conn_id = 3;
	btn_fv_response1(t, &rsp1, priv, &variant);
	assert_int_equal(btn_send(t, &rsp1, false, FG_FLIC2_HDR_NEWLY_ASSIGNED | t->b.conn_id), 0);
	pump(t);
	if (t->n_pkts == 0)
		return;		/* refused: the caller checks why */
	assert_int_equal(fg_flic2_decode_tx(t->pkts[0], t->pkt_len[0], &tx), 0);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_FULL_VERIFY_REQUEST_2);
	btn_fvs(t, &rsp1, priv, variant, tx.fv_request2.ecdh_public, tx.fv_request2.random);
	hmac16(t->b.fvs, "AT", 2, verifier);
	assert_memory_equal(verifier, tx.fv_request2.verifier, 16);
	hmac16(t->b.fvs, "SK", 2, sk);
	fg_chaskey_subkeys(&t->b.keys, sk);
	t->b.tx = t->b.rx = 0;
}

static int send_fv2(struct t *t)
{
	struct fg_flic2_rx rsp2 = { .opcode = FG_FLIC2_RX_FULL_VERIFY_RESPONSE_2 };
	uint8_t pk[32];
	int r;

	rsp2.fv_response2.flags = t->b.fv2_flags;
	memcpy(rsp2.fv_response2.uuid, "UUIDUUIDUUIDUUID", 16);
	rsp2.fv_response2.name_len = 4;
	memcpy(rsp2.fv_response2.name, "Desk", 4);
	rsp2.fv_response2.firmware_version = t->b.firmware;
	rsp2.fv_response2.battery_level = 850;
	memcpy(rsp2.fv_response2.serial, "BG30-C99999", 11);
	r = btn_send(t, &rsp2, true, t->b.conn_id);
	assert_int_equal(fg_crypto_hmac_sha256(t->b.fvs, 32, "PK", 2, pk), 0);
	t->b.pairing_id = fg_flic2_le32(pk);
	memcpy(t->b.pairing_key, pk + 4, 16);
	t->b.knows_pairing = true;
	return r;
}

/* Full pairing; the init request answered; ends with a drained queue. */
static void pair(struct t *t)
{
	struct fg_flic2_tx tx;

	pair_until_fv2(t);
	assert_int_equal(send_fv2(t), 0);
	pump(t);
	assert_true(has_kind(t, FG_FLIC2_ACTION_PAIRED));
	assert_int_equal(t->n_pkts, 1);
	btn_open(t, 0, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT);
	assert_int_equal(tx.init_events.max_queued_packets, 0);
	init_response(t, true, false);
	pump(t);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST), 1);
	assert_int_equal(t->n_pkts, 1);	/* connection parameters */
	btn_open(t, 0, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_SET_CONNECTION_PARAMETERS);
}

/* Quick verify with the pairing the engine holds; stops after VERIFIED + init. */
static void reconnect_until_init(struct t *t, struct fg_flic2_tx *init)
{
	struct fg_chaskey_keys pk;
	struct fg_flic2_rx rsp = { .opcode = FG_FLIC2_RX_QUICK_VERIFY_RESPONSE };
	struct fg_flic2_tx tx;
	uint8_t seed[16], sk[16];

	fg_flic2_reassembler_reset(&t->b.reasm);
	assert_int_equal(fg_flic2_connected(t->f, t->b.mtu, t->now), 0);
	pump(t);
	assert_int_equal(t->n_pkts, 1);
	assert_int_equal(fg_flic2_decode_tx(t->pkts[0], t->pkt_len[0], &tx), 0);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_QUICK_VERIFY_REQUEST);
	assert_int_equal(tx.qv_request.pairing_id, t->b.pairing_id);
	t->b.tmp_id = tx.qv_request.tmp_id;
	t->b.conn_id = 4;
	memcpy(seed, tx.qv_request.random, 7);
	seed[7] = tx.qv_request.flags;
	memcpy(seed + 8, "ABCDEFGH", 8);
	fg_chaskey_subkeys(&pk, t->b.pairing_key);
	fg_chaskey_mac(&pk, 16, seed, 16, sk);
	fg_chaskey_subkeys(&t->b.keys, sk);
	t->b.tx = t->b.rx = 0;
	memcpy(rsp.qv_response.random, "ABCDEFGH", 8);
	rsp.qv_response.tmp_id = t->b.tmp_id;
	assert_int_equal(btn_send(t, &rsp, true, FG_FLIC2_HDR_NEWLY_ASSIGNED | t->b.conn_id), 0);
	pump(t);
	assert_true(has_kind(t, FG_FLIC2_ACTION_VERIFIED));
	assert_int_equal(t->n_pkts, 1);
	btn_open(t, 0, init);
	assert_int_equal(init->opcode, FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT);
}

/* One live ping round trip: proves the session and both counters are intact. */
static void ping_ok(struct t *t)
{
	struct fg_flic2_rx ping = { .opcode = FG_FLIC2_RX_PING_REQUEST };
	struct fg_flic2_tx tx;

	assert_int_equal(btn_send(t, &ping, true, t->b.conn_id), 0);
	pump(t);
	assert_int_equal(t->n_acts, 1);
	assert_int_equal(t->n_pkts, 1);
	btn_open(t, 0, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_PING_RESPONSE);
}

static void send_events(struct t *t, uint32_t press_counter, const uint8_t *codes, size_t n,
			bool queued)
{
	struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_BUTTON_EVENTS };

	rx.events.press_counter = press_counter;
	rx.events.n = n;
	for (size_t i = 0; i < n; i++) {
		rx.events.items[i].code = codes[i];
		rx.events.items[i].timestamp = t->b.clock + i * 1000;
		rx.events.items[i].queued = queued;
		rx.events.items[i].queued_last = queued && i == n - 1;
	}
	assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
}

/*
 * A gateway restart: a new engine from the persisted record and dedup
 * state (@p keeps the record; it must outlive the call only).
 */
static void restart(struct t *t, struct fg_flic2_pairing *p)
{
	struct fg_flic2 *restarted;

	assert_int_equal(fg_flic2_get_pairing(t->f, p), 0);
	fg_flic2_get_dedup(t->f, &t->params.dedup);
	t->params.mode = FG_FLIC2_MODE_RECONNECT;
	t->params.pairing = p;
	assert_int_equal(fg_flic2_new(&t->params, &restarted), 0);
	fg_flic2_free(t->f);
	t->f = restarted;
}

/* --- the tests ------------------------------------------------------------- */

static void test_params(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_params p = t->params;
	struct fg_flic2 *f;

	p.n_trusted_keys = 0;
	assert_int_equal(fg_flic2_new(&p, &f), -EINVAL);
	p = t->params;
	p.trusted_keys = NULL;
	assert_int_equal(fg_flic2_new(&p, &f), -EINVAL);
	p = t->params;
	p.rng = NULL;
	assert_int_equal(fg_flic2_new(&p, &f), -EINVAL);
	p = t->params;
	p.mode = FG_FLIC2_MODE_RECONNECT;
	assert_int_equal(fg_flic2_new(&p, &f), -EINVAL);
	p = t->params;
	p.mode = _FG_FLIC2_MODE_MAX;
	assert_int_equal(fg_flic2_new(&p, &f), -EINVAL);
	p = t->params;
	p.auto_disconnect_s = 512;
	assert_int_equal(fg_flic2_new(&p, &f), -EINVAL);
	p.auto_disconnect_s = 39;	/* the official clients' floor is 40 */
	assert_int_equal(fg_flic2_new(&p, &f), -EINVAL);
	p.auto_disconnect_s = 40;
	assert_int_equal(fg_flic2_new(&p, &f), 0);
	assert_int_equal(fg_flic2_get_auto_disconnect(f), 40);
	f = fg_flic2_free(f);
	assert_int_equal(fg_flic2_new(NULL, &f), -EINVAL);
	assert_null(fg_flic2_free(NULL));

	assert_int_equal(fg_flic2_new(&t->params, &t->f), 0);
	assert_int_equal(fg_flic2_get_state(t->f), FG_FLIC2_STATE_IDLE);
	assert_int_equal(fg_flic2_next_deadline(t->f), UINT64_MAX);
	assert_int_equal(fg_flic2_receive(t->f, (const uint8_t *)"\x00\x0f", 2, t->now), -ENOTCONN);
	assert_int_equal(fg_flic2_request_battery(t->f, t->now), -ENOTCONN);
	assert_int_equal(fg_flic2_request_disconnect(t->f, t->now), -ENOTCONN);
	assert_int_equal(fg_flic2_timeout(t->f, t->now), 0);
	t_free(t);
}

static void test_pair_and_requests(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_pairing p;
	struct fg_flic2_rx rx = { 0 };
	struct fg_flic2_tx tx;
	const struct fg_flic2_action *a;

	pair(t);
	assert_int_equal(fg_flic2_get_pairing(t->f, &p), 0);
	assert_int_equal(p.pairing_id, t->b.pairing_id);
	assert_memory_equal(p.pairing_key, t->b.pairing_key, 16);
	assert_string_equal(p.serial, "BG30-C99999");
	assert_string_equal(p.name, "Desk");
	assert_memory_equal(p.address, t->b.address, 6);
	assert_memory_equal(p.identity_key, t->keys[1], 32);
	ping_ok(t);

	/* three requests: two go out, the third waits for a free slot */
	assert_int_equal(fg_flic2_request_battery(t->f, t->now), 0);
	assert_int_equal(fg_flic2_request_battery(t->f, t->now), 0);	/* coalesced */
	assert_int_equal(fg_flic2_request_firmware(t->f, t->now), 0);
	assert_int_equal(fg_flic2_request_name(t->f, t->now), 0);
	pump(t);
	assert_int_equal(t->n_pkts, 2);
	btn_open(t, 0, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_GET_BATTERY_LEVEL);
	btn_open(t, 1, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_GET_FIRMWARE_VERSION);
	assert_int_equal(fg_flic2_next_deadline(t->f), t->now + 10 * SEC);
	assert_int_equal(fg_flic2_timeout(t->f, t->now + 10 * SEC - 1), 0);	/* not yet */
	pump(t);
	assert_int_equal(t->n_acts, 0);

	rx.opcode = FG_FLIC2_RX_FIRMWARE_VERSION;
	rx.firmware.version = 4;	/* 6 and later would ask for advertising settings */
	assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
	pump(t);
	a = find_kind(t, FG_FLIC2_ACTION_FIRMWARE);
	assert_int_equal(a->firmware_version, 4);
	assert_int_equal(t->n_pkts, 1);
	btn_open(t, 0, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_GET_NAME);

	rx.opcode = FG_FLIC2_RX_BATTERY_LEVEL;
	rx.battery.level = 1023;
	assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
	pump(t);
	a = find_kind(t, FG_FLIC2_ACTION_BATTERY);
	assert_int_equal(a->battery_mv, 3596);

	/* a name with a control character, a broken sequence and a 4-byte emoji */
	memset(&rx, 0, sizeof(rx));
	rx.opcode = FG_FLIC2_RX_GET_NAME_RESPONSE;
	rx.name.len = 10;
	memcpy(rx.name.name, "A\nB\xc3\x28\xf0\x9f\x98\x80Z", 10);
	assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
	pump(t);
	a = find_kind(t, FG_FLIC2_ACTION_NAME);
	assert_string_equal(a->name, "A?B?(\xf0\x9f\x98\x80Z");
	assert_int_equal(fg_flic2_next_deadline(t->f), UINT64_MAX);
	assert_int_equal(fg_flic2_get_pairing(t->f, &p), 0);
	assert_int_equal(p.firmware_version, 4);
	assert_string_equal(p.name, "A?B?(\xf0\x9f\x98\x80Z");

	/* the button renames itself */
	memset(&rx, 0, sizeof(rx));
	rx.opcode = FG_FLIC2_RX_NAME_UPDATED;
	rx.name.len = 3;
	memcpy(rx.name.name, "Hal", 3);
	assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
	pump(t);
	assert_string_equal(find_kind(t, FG_FLIC2_ACTION_NAME)->name, "Hal");
	ping_ok(t);
	t_free(t);
}

/* Every malformed class while verified: rejected, counted, session intact. */
static void test_malformed_session(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_counters c;
	uint8_t buf[200];

	pair(t);
	memset(buf, 0, sizeof(buf));

	/* empty notification; a header without packet bytes */
	assert_int_equal(fg_flic2_receive(t->f, buf, 0, t->now), -EBADMSG);
	assert_int_equal(fg_flic2_receive(t->f, NULL, 0, t->now), -EBADMSG);
	buf[0] = t->b.conn_id;
	assert_int_equal(fg_flic2_receive(t->f, buf, 1, t->now), -EBADMSG);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_short, 3);

	/* another client's logical connection, an id assignment, connection 0 */
	buf[0] = 9;
	buf[1] = FG_FLIC2_RX_PING_REQUEST;
	assert_int_equal(fg_flic2_receive(t->f, buf, 7, t->now), 0);
	buf[0] = FG_FLIC2_HDR_NEWLY_ASSIGNED | 9;
	assert_int_equal(fg_flic2_receive(t->f, buf, 7, t->now), 0);
	buf[0] = 0;
	assert_int_equal(fg_flic2_receive(t->f, buf, 7, t->now), 0);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_foreign, 3);

	/* too short to carry a MAC */
	buf[0] = t->b.conn_id;
	assert_int_equal(fg_flic2_receive(t->f, buf, 5, t->now), -EBADMSG);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_short, 4);

	/* a bad MAC, twice: tolerated (counter not advanced) */
	buf[1] = FG_FLIC2_RX_PING_REQUEST;
	assert_int_equal(fg_flic2_receive(t->f, buf, 7, t->now), -EBADMSG);
	assert_int_equal(fg_flic2_receive(t->f, buf, 7, t->now), -EBADMSG);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	ping_ok(t);		/* resets the run of failures */

	/* authentic but malformed: unknown opcode, short layout, long name */
	assert_int_equal(btn_send_signed_raw(t, (const uint8_t *)"\xc8", 1), -EBADMSG);
	assert_int_equal(btn_send_signed_raw(t, (const uint8_t *)"\x14\x01", 2), -EBADMSG);
	memset(buf, 'x', sizeof(buf));
	buf[0] = FG_FLIC2_RX_NAME_UPDATED;
	assert_int_equal(btn_send_signed_raw(t, buf, 1 + 24), -EBADMSG);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_unknown, 1);
	assert_int_equal(c.rx_short, 5);
	assert_int_equal(c.rx_long, 1);
	pump(t);
	assert_int_equal(t->n_acts, 0);

	/* authentic, well-formed, unsolicited or out of place */
	assert_int_equal(btn_send_signed_raw(t, (const uint8_t *)"\x14\x01\x02", 3), 0);
	assert_int_equal(btn_send_signed_raw(t, (const uint8_t *)"\x05\x01\x02\x03\x04", 5), 0);
	assert_int_equal(btn_send_signed_raw(t, (const uint8_t *)"\x10\x00\x00\x00\x00\x00\x00", 7), 0);
	assert_int_equal(btn_send_signed_raw(t, (const uint8_t *)"\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 11), 0);
	assert_int_equal(btn_send_signed_raw(t, (const uint8_t *)"\x16", 1), 0);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_unexpected, 5);
	pump(t);
	assert_int_equal(t->n_acts, 0);

	/* trailing bytes after a layout: accepted (forward compatible), counted */
	assert_int_equal(fg_flic2_request_battery(t->f, t->now), 0);
	pump(t);
	t->b.rx++;
	assert_int_equal(btn_send_signed_raw(t, (const uint8_t *)"\x14\x00\x02\xaa\xbb", 5), 0);
	pump(t);
	assert_int_equal(find_kind(t, FG_FLIC2_ACTION_BATTERY)->battery_mv, 1800);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_trailing, 1);

	/* a packet growing past 128 bytes, a fragment switching connection */
	memset(buf, 0, sizeof(buf));
	buf[0] = FG_FLIC2_HDR_MORE | t->b.conn_id;
	assert_int_equal(fg_flic2_receive(t->f, buf, 100, t->now), 0);
	assert_int_equal(fg_flic2_receive(t->f, buf, 40, t->now), -EBADMSG);
	assert_int_equal(fg_flic2_receive(t->f, buf, 10, t->now), 0);
	buf[0] = 0;
	assert_int_equal(fg_flic2_receive(t->f, buf, 10, t->now), -EBADMSG);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_long, 2);
	assert_int_equal(c.rx_fragment_errors, 1);
	assert_true(strlen(fg_flic2_last_error(t->f)) > 0);

	ping_ok(t);
	assert_int_equal(fg_flic2_get_state(t->f), FG_FLIC2_STATE_VERIFIED);
	t_free(t);
}

/* Three bad MACs in a row: the session is over. */
static void test_bad_mac_run(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	uint8_t buf[8] = { 0 };
	struct fg_flic2_tx tx;

	pair(t);
	buf[0] = t->b.conn_id;
	buf[1] = FG_FLIC2_RX_PING_REQUEST;
	for (int i = 0; i < 3; i++)
		assert_int_equal(fg_flic2_receive(t->f, buf, 7, t->now), -EBADMSG);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_BAD_MAC, 0);
	/* the button is told, in a packet it can still verify */
	assert_int_equal(t->n_pkts, 1);
	btn_open(t, 0, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_DISCONNECT_VERIFIED_LINK);
	assert_int_equal(fg_flic2_get_state(t->f), FG_FLIC2_STATE_CLOSING);
	assert_int_equal(fg_flic2_receive(t->f, buf, 7, t->now), -ENOTCONN);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), -EISCONN);
	fg_flic2_disconnected(t->f, t->now);
	assert_int_equal(fg_flic2_get_state(t->f), FG_FLIC2_STATE_IDLE);
	t_free(t);
}

static void test_pairing_failures(void **state)
{
	struct t *t;
	struct fg_flic2_rx rx = { 0 };
	struct fg_flic2_counters c;

	/* the certificate names another device */
	t = t_new(FG_FLIC2_MODE_PAIR);
	t->b.cert_address[5] ^= 1;
	pair_until_fv2(t);
	expect_failed(t, FG_FLIC2_FAIL_NOT_GENUINE, 0);
	t_free(t);

	/* a random address type */
	t = t_new(FG_FLIC2_MODE_PAIR);
	t->b.address_type = 1;
	pair_until_fv2(t);
	expect_failed(t, FG_FLIC2_FAIL_NOT_GENUINE, 0);
	t_free(t);

	/* private mode */
	t = t_new(FG_FLIC2_MODE_PAIR);
	t->b.public_mode = false;
	pair_until_fv2(t);
	expect_failed(t, FG_FLIC2_FAIL_NOT_PAIRABLE, 0);
	t_free(t);

	/* a low-order X25519 key under a valid signature */
	t = t_new(FG_FLIC2_MODE_PAIR);
	t->b.low_order_key = true;
	pair_until_fv2(t);
	expect_failed(t, FG_FLIC2_FAIL_NOT_GENUINE, 4);
	t_free(t);

	/* FullVerifyFailResponse reasons */
	for (int reason = 0; reason < 3; reason++) {
		t = t_new(FG_FLIC2_MODE_PAIR);
		pair_until_fv2(t);
		rx.opcode = FG_FLIC2_RX_FULL_VERIFY_FAIL;
		rx.fv_fail.reason = (uint8_t)(reason == 2 ? 7 : reason);
		assert_int_equal(btn_send(t, &rx, false, t->b.conn_id), 0);
		pump(t);
		if (reason == 0)
			expect_failed(t, FG_FLIC2_FAIL_NOT_GENUINE, 2);
		else if (reason == 1)
			expect_failed(t, FG_FLIC2_FAIL_NOT_PAIRABLE, 1);
		else
			expect_failed(t, FG_FLIC2_FAIL_PROTOCOL, 7);
		t_free(t);
	}

	/* the button wants app credentials */
	t = t_new(FG_FLIC2_MODE_PAIR);
	pair_until_fv2(t);
	t->b.fv2_flags = FG_FLIC2_FV2_CARES_ABOUT_APP_CREDENTIALS;
	send_fv2(t);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_APP_CREDENTIALS, 0);
	assert_false(has_kind(t, FG_FLIC2_ACTION_PAIRED));
	t_free(t);

	/* a FullVerifyResponse2 with a wrong MAC */
	t = t_new(FG_FLIC2_MODE_PAIR);
	pair_until_fv2(t);
	t->b.tx = 1;
	assert_int_equal(send_fv2(t), -EBADMSG);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_NOT_GENUINE, 3);
	assert_false(has_kind(t, FG_FLIC2_ACTION_PAIRED));
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_bad_mac, 1);
	t_free(t);
}

/* Packets that do not belong to the handshake are ignored, not fatal. */
static void test_pairing_noise(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_rx rsp1, rx = { 0 };
	struct fg_flic2_tx tx;
	struct fg_flic2_counters c;
	uint8_t priv[32], buf[4] = { 0, FG_FLIC2_RX_PING_REQUEST };
	unsigned variant;

	assert_int_equal(fg_flic2_new(&t->params, &t->f), 0);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), 0);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), -EISCONN);
	pump(t);
	assert_int_equal(fg_flic2_decode_tx(t->pkts[0], t->pkt_len[0], &tx), 0);
	t->b.tmp_id = tx.fv_request1.tmp_id;

	/* another app's FullVerifyResponse1, no-slots for someone else */
	btn_fv_response1(t, &rsp1, priv, &variant);
	rsp1.fv_response1.tmp_id ^= 1;
	assert_int_equal(btn_send(t, &rsp1, false, FG_FLIC2_HDR_NEWLY_ASSIGNED | 2), 0);
	memset(&rx, 0, sizeof(rx));
	rx.opcode = FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS;
	rx.no_slots.n = 1;
	rx.no_slots.tmp_ids[0] = t->b.tmp_id + 1;
	assert_int_equal(btn_send(t, &rx, false, 0), 0);
	/* a ping, a short FullVerifyResponse1 */
	assert_int_equal(fg_flic2_receive(t->f, buf, 2, t->now), 0);
	buf[1] = FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1;
	assert_int_equal(fg_flic2_receive(t->f, buf, 4, t->now), -EBADMSG);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_foreign, 2);
	assert_int_equal(c.rx_unexpected, 1);
	assert_int_equal(c.rx_short, 1);
	assert_int_equal(fg_flic2_get_state(t->f), FG_FLIC2_STATE_PAIRING);

	/* an id assignment of 0 is impossible */
	btn_fv_response1(t, &rsp1, priv, &variant);
	assert_int_equal(btn_send(t, &rsp1, false, FG_FLIC2_HDR_NEWLY_ASSIGNED), 0);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_PROTOCOL, FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1);
	t_free(t);

	/* no slots for us */
	t = t_new(FG_FLIC2_MODE_PAIR);
	assert_int_equal(fg_flic2_new(&t->params, &t->f), 0);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), 0);
	pump(t);
	memset(&rx, 0, sizeof(rx));
	rx.opcode = FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS;
	rx.no_slots.n = 2;
	rx.no_slots.tmp_ids[1] = fg_flic2_le32(t->pkts[0] + 1);
	assert_int_equal(btn_send(t, &rx, false, 0), 0);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_NO_SLOTS, 0);
	t_free(t);
}

static void test_timeouts(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_tx tx;
	uint64_t start = t->now;

	/* verify: nothing answers */
	assert_int_equal(fg_flic2_new(&t->params, &t->f), 0);
	assert_int_equal(fg_flic2_connected(t->f, 23, start), 0);
	pump(t);
	assert_int_equal(fg_flic2_next_deadline(t->f), start + 31 * SEC);
	assert_int_equal(fg_flic2_timeout(t->f, start + 30 * SEC), 0);	/* early: harmless */
	pump(t);
	assert_int_equal(t->n_acts, 0);
	assert_int_equal(fg_flic2_timeout(t->f, start + 31 * SEC), 0);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_TIMEOUT, 0);
	assert_int_equal(t->n_pkts, 0);
	assert_int_equal(fg_flic2_next_deadline(t->f), UINT64_MAX);
	t_free(t);

	/* init: the button verifies but never answers InitButtonEvents */
	t = t_new(FG_FLIC2_MODE_PAIR);
	t->params.request_timeout_usec = 2 * SEC;
	pair_until_fv2(t);
	send_fv2(t);
	pump(t);
	assert_int_equal(fg_flic2_next_deadline(t->f), t->now + 2 * SEC);
	assert_int_equal(fg_flic2_timeout(t->f, t->now + 2 * SEC), 0);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_TIMEOUT, FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT);
	assert_int_equal(t->n_pkts, 1);
	t->b.rx = 1;		/* the unanswered init used counter 0 */
	btn_open(t, 0, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_DISCONNECT_VERIFIED_LINK);
	t_free(t);
}

/* Every event code, as a single live item, to gestures and acknowledgement. */
static void test_event_codes(void **state)
{
	static const struct {
		uint8_t code;
		uint32_t counter;	/* the slot the code lives in */
		enum fg_gesture g[3];
		size_t n;
		bool ack;
		bool double_pending;
	} v[] = {
		{ 0, 3, { FG_GESTURE_UP, FG_GESTURE_CLICK }, 2, false, false },
		{ 1, 1, { FG_GESTURE_DOWN }, 1, false, false },
		{ 2, 0, { FG_GESTURE_SINGLE_CLICK }, 1, true, false },
		{ 3, 2, { FG_GESTURE_HOLD }, 1, false, false },
		{ 7, 2, { FG_GESTURE_HOLD }, 1, false, true },
		{ 8, 3, { FG_GESTURE_UP, FG_GESTURE_CLICK }, 2, false, false },
		{ 9, 3, { FG_GESTURE_UP, FG_GESTURE_CLICK }, 2, false, false },
		{ 10, 3, { FG_GESTURE_UP, FG_GESTURE_CLICK, FG_GESTURE_SINGLE_CLICK }, 3, true, false },
		{ 11, 3, { FG_GESTURE_UP, FG_GESTURE_CLICK, FG_GESTURE_DOUBLE_CLICK }, 3, true, false },
		{ 12, 3, { FG_GESTURE_UP }, 1, false, false },
		{ 14, 3, { FG_GESTURE_UP, FG_GESTURE_SINGLE_CLICK }, 2, true, false },
		{ 15, 3, { FG_GESTURE_UP, FG_GESTURE_DOUBLE_CLICK }, 2, true, false },
	};
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	uint32_t base = 1000;

	pair(t);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t counter = base + v[i].counter;
		size_t k = 0;

		send_events(t, counter, &v[i].code, 1, false);
		pump(t);
		for (size_t j = 0; j < t->n_acts; j++) {
			const struct fg_flic2_action *a = &t->acts[j];

			if (a->kind != FG_FLIC2_ACTION_BUTTON_EVENT)
				continue;
			assert_true(k < v[i].n);
			if (a->button.gesture != v[i].g[k])
				fail_msg("code %u: gesture %zu is %s", v[i].code, k,
					 fg_gesture_to_string(a->button.gesture));
			assert_int_equal(a->button.event_count, counter);
			assert_int_equal(a->button.double_click_pending, v[i].double_pending);
			assert_false(a->button.queued);
			assert_int_equal(a->button.age_usec, 0);
			k++;
		}
		assert_int_equal(k, v[i].n);
		assert_int_equal(find_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST)->dedup.event_count,
				 counter);
		assert_int_equal(t->n_pkts, v[i].ack ? 1 : 0);
		if (v[i].ack) {
			struct fg_flic2_tx tx;

			btn_open(t, 0, &tx);
			assert_int_equal(tx.opcode, FG_FLIC2_TX_ACK_BUTTON_EVENTS);
			assert_int_equal(tx.ack.event_count, counter);
		}
		base += 4;
	}
	t_free(t);
}

/* down (1), up with click pending (3), single-click timeout (4), twice */
static const uint8_t two_presses[] = { 1, 8, 2, 1, 8, 2 };

/* No event is reported twice across reconnects, restarts and reboots. */
static void test_dedup(void **state)
{
	const uint8_t *press = two_presses;
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_tx init;
	struct fg_flic2_dedup d;
	struct fg_flic2_counters c;
	struct fg_flic2_pairing p;

	pair(t);
	/* the button counted 400 before pairing: those are not reported */
	send_events(t, 400, press + 2, 1, false);
	pump(t);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_BUTTON_EVENT), 0);
	send_events(t, 404, press, 3, false);
	pump(t);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_BUTTON_EVENT), 4);
	fg_flic2_get_dedup(t->f, &d);
	assert_int_equal(d.event_count, 404);
	assert_int_equal(d.boot_id, t->b.boot_id);

	/* reconnect; the button sends the same press again plus a new one */
	fg_flic2_disconnected(t->f, t->now);
	reconnect_until_init(t, &init);
	assert_int_equal(init.init_events.event_count, 404);
	assert_int_equal(init.init_events.boot_id, t->b.boot_id);
	assert_int_equal(init.init_events.max_queued_packets, 31);
	assert_int_equal(init.init_events.max_queued_age_s, 0xfffff);
	assert_int_equal(init.init_events.auto_disconnect_s, 511);
	init_response(t, false, true);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	send_events(t, 408, two_presses, 6, true);
	pump(t);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_BUTTON_EVENT), 4);
	for (size_t i = 0; i < t->n_acts; i++)
		if (t->acts[i].kind == FG_FLIC2_ACTION_BUTTON_EVENT)
			assert_true(t->acts[i].button.event_count > 404);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.events_duplicate, 3 + 1);

	/* a gateway restart: a new engine from the persisted state */
	restart(t, &p);
	reconnect_until_init(t, &init);
	assert_int_equal(init.init_events.event_count, 408);
	init_response(t, false, true);
	send_events(t, 408, press, 3, true);
	pump(t);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_BUTTON_EVENT), 0);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST), 0);
	assert_int_equal(t->n_pkts, 4);	/* ack, conn params, battery, firmware */

	/* "new boot" naming the boot we know contradicts itself: nothing is reset */
	fg_flic2_disconnected(t->f, t->now);
	reconnect_until_init(t, &init);
	init_response(t, true, true);
	send_events(t, 408, press, 3, true);
	pump(t);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_BUTTON_EVENT), 0);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST), 0);

	/* the button rebooted: new boot id, counters restart low */
	fg_flic2_disconnected(t->f, t->now);
	t->b.boot_id = 0x5eed0002;
	t->b.event_count = 8;
	reconnect_until_init(t, &init);
	init_response(t, true, true);
	pump(t);
	assert_int_equal(find_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST)->dedup.event_count, 0);
	send_events(t, 8, two_presses, 6, true);
	pump(t);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_BUTTON_EVENT), 8);
	assert_int_equal(t->acts[0].button.boot_id, 0x5eed0002);
	assert_int_equal(t->acts[0].button.event_count, 1);
	t_free(t);
}

static void test_quick_verify_failures(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_rx rsp = { .opcode = FG_FLIC2_RX_QUICK_VERIFY_RESPONSE };
	struct fg_flic2_tx tx;
	struct fg_flic2_counters c;
	uint8_t sk[16] = { 0 };

	pair(t);
	fg_flic2_disconnected(t->f, t->now);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), 0);
	pump(t);
	assert_int_equal(fg_flic2_decode_tx(t->pkts[0], t->pkt_len[0], &tx), 0);
	assert_int_equal(fg_flic2_get_state(t->f), FG_FLIC2_STATE_VERIFYING);

	/* a negative answer for another client's tmp id is not ours */
	memset(&rsp, 0, sizeof(rsp));
	rsp.opcode = FG_FLIC2_RX_QUICK_VERIFY_NEGATIVE;
	rsp.qv_negative.tmp_id = tx.qv_request.tmp_id + 1;
	assert_int_equal(btn_send(t, &rsp, false, 0), 0);
	/* nor a response to another tmp id, however it is signed */
	memset(&rsp, 0, sizeof(rsp));
	rsp.opcode = FG_FLIC2_RX_QUICK_VERIFY_RESPONSE;
	rsp.qv_response.tmp_id = tx.qv_request.tmp_id + 1;
	fg_chaskey_subkeys(&t->b.keys, sk);
	assert_int_equal(btn_send(t, &rsp, true, FG_FLIC2_HDR_NEWLY_ASSIGNED | 6), 0);
	/* a short one is malformed */
	assert_int_equal(fg_flic2_receive(t->f, (const uint8_t *)"\x26\x08\x01\x02", 4, t->now), -EBADMSG);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_foreign, 2);
	assert_int_equal(c.rx_short, 1);

	/* the right tmp id, but a MAC from another key */
	rsp.qv_response.tmp_id = tx.qv_request.tmp_id;
	t->b.tx = 0;
	assert_int_equal(btn_send(t, &rsp, true, FG_FLIC2_HDR_NEWLY_ASSIGNED | 6), -EBADMSG);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_KEY_MISMATCH, 0);
	/* not a reason to forget the pairing: it may be a glitch or an impostor */
	fg_flic2_disconnected(t->f, t->now);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), 0);
	pump(t);
	assert_int_equal(t->n_pkts, 1);
	assert_int_equal(t->pkts[0][0], FG_FLIC2_TX_QUICK_VERIFY_REQUEST);
	t_free(t);
}

static void test_link_closed(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_DISCONNECTED_VERIFIED_LINK };

	pair(t);
	rx.link_closed.reason = FG_FLIC2_LINK_NEW_SESSION_SAME_PAIRING;
	assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_LINK_CLOSED, FG_FLIC2_LINK_NEW_SESSION_SAME_PAIRING);
	assert_int_equal(t->n_pkts, 0);	/* the button already closed it */
	t_free(t);
}

static void test_request_disconnect(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_tx tx;

	/* verified: DisconnectVerifiedLinkInd, signed, then DISCONNECT */
	pair(t);
	assert_int_equal(fg_flic2_request_disconnect(t->f, t->now), 0);
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_FAILED));
	assert_int_equal(t->acts[t->n_acts - 1].kind, FG_FLIC2_ACTION_DISCONNECT);
	assert_int_equal(t->n_pkts, 1);
	btn_open(t, 0, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_DISCONNECT_VERIFIED_LINK);
	assert_int_equal(fg_flic2_get_state(t->f), FG_FLIC2_STATE_CLOSING);
	assert_int_equal(fg_flic2_request_disconnect(t->f, t->now), -ENOTCONN);
	assert_int_equal(fg_flic2_request_battery(t->f, t->now), -ENOTCONN);
	t_free(t);

	/* while pairing, with a connection id: FullVerifyAbortInd */
	t = t_new(FG_FLIC2_MODE_PAIR);
	pair_until_fv2(t);
	assert_int_equal(fg_flic2_request_disconnect(t->f, t->now), 0);
	pump(t);
	assert_int_equal(t->n_pkts, 1);
	assert_int_equal(t->pkt_len[0], 1);
	assert_int_equal(t->pkts[0][0], FG_FLIC2_TX_FULL_VERIFY_ABORT);
	assert_int_equal(t->acts[t->n_acts - 1].kind, FG_FLIC2_ACTION_DISCONNECT);
	t_free(t);

	/* before any answer: just drop the link */
	t = t_new(FG_FLIC2_MODE_PAIR);
	assert_int_equal(fg_flic2_new(&t->params, &t->f), 0);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), 0);
	pump(t);
	assert_int_equal(fg_flic2_request_disconnect(t->f, t->now), 0);
	pump(t);
	assert_int_equal(t->n_acts, 1);
	assert_int_equal(t->acts[0].kind, FG_FLIC2_ACTION_DISCONNECT);
	t_free(t);
}

static int failing_rng(void *buf, size_t len, void *userdata)
{
	unsigned *budget = userdata;

	if (*budget < len)
		return -EIO;
	*budget -= (unsigned)len;
	memset(buf, 0x42, len);
	return 0;
}

static void test_rng_failure(void **state)
{
	unsigned budgets[] = { 0, 4, 4 + 32 };

	for (size_t i = 0; i < 3; i++) {
		struct t *t = t_new(FG_FLIC2_MODE_PAIR);
		unsigned budget = budgets[i];

		t->params.rng = failing_rng;
		t->params.rng_userdata = &budget;
		pair_until_fv2(t);
		expect_failed(t, FG_FLIC2_FAIL_INTERNAL, -1);
		t_free(t);
	}
}

static void test_queue_contract(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	uint8_t ping[7] = { 0 };
	int n = 0;

	pair(t);
	/* never drained: past the reserve, input is refused instead of output lost */
	for (;;) {
		struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_PING_REQUEST };
		int r = btn_send(t, &rx, true, t->b.conn_id);

		if (r == -ENOBUFS)
			break;
		assert_int_equal(r, 0);
		n++;
		assert_true(n < 100);
	}
	/* 96 slots, 64 kept free for one input's worst case */
	assert_int_equal(n, 96 - 64 + 1);
	ping[0] = t->b.conn_id;
	assert_int_equal(fg_flic2_receive(t->f, ping, 7, t->now), -ENOBUFS);
	assert_int_equal(fg_flic2_timeout(t->f, t->now), -ENOBUFS);
	assert_int_equal(fg_flic2_request_name(t->f, t->now), -ENOBUFS);
	assert_int_equal(fg_flic2_request_disconnect(t->f, t->now), -ENOBUFS);
	/* drained, nothing was lost and the session goes on */
	pump(t);
	assert_int_equal(t->n_acts, (size_t)n);
	for (int i = 0; i < n; i++) {
		struct fg_flic2_tx tx;

		btn_open(t, (size_t)i, &tx);
		assert_int_equal(tx.opcode, FG_FLIC2_TX_PING_RESPONSE);
	}
	t->b.tx--;		/* the refused ping never reached the engine */
	ping_ok(t);

	/* once closed and disconnected, requests are refused */
	assert_int_equal(fg_flic2_request_disconnect(t->f, t->now), 0);
	fg_flic2_disconnected(t->f, t->now);
	for (int i = 0; i < 40; i++)
		assert_int_equal(fg_flic2_request_battery(t->f, t->now), -ENOTCONN);
	pump(t);
	t_free(t);
}

/* The purge keeps order wherever the queue's ring happens to wrap. */
static void test_purge_order(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_tx init;
	uint32_t counter = 400;		/* the button's counter at pairing: no gap */

	pair(t);
	for (int round = 0; round < 100; round++) {
		struct fg_flic2_action a;
		uint32_t last = 0;
		size_t events = 0, states = 0;

		fg_flic2_disconnected(t->f, t->now);
		pump(t);
		reconnect_until_init(t, &init);
		init_response(t, false, false);
		pump(t);
		for (size_t i = 0; i < t->n_pkts; i++) {
			struct fg_flic2_tx tx;

			btn_open(t, i, &tx);	/* connection parameters, requests */
		}
		for (int i = 0; i < round % 7; i++)
			ping_ok(t);
		/* a pong queued first, so kept actions must move down */
		{
			struct fg_flic2_rx ping = { .opcode = FG_FLIC2_RX_PING_REQUEST };

			assert_int_equal(btn_send(t, &ping, true, t->b.conn_id), 0);
		}
		counter += 4;
		send_events(t, counter, two_presses, 3, false);
		assert_int_equal(fg_flic2_request_firmware(t->f, t->now), 0);
		fg_flic2_disconnected(t->f, t->now);
		while (fg_flic2_next_action(t->f, &a) == 1) {
			assert_true(a.kind == FG_FLIC2_ACTION_BUTTON_EVENT ||
				    a.kind == FG_FLIC2_ACTION_STATE_TO_PERSIST);
			if (a.kind == FG_FLIC2_ACTION_BUTTON_EVENT) {
				assert_true(a.button.event_count >= last);
				assert_int_equal(states, 0);	/* events before their state */
				last = a.button.event_count;
				events++;
			} else {
				assert_int_equal(a.dedup.event_count, counter);
				states++;
			}
		}
		assert_int_equal(events, 4);
		assert_int_equal(states, 1);
	}
	t_free(t);
}

/* A dropped link takes its queued writes with it, but not its events. */
static void test_disconnect_purges_writes(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	static const uint8_t decided[] = { 10 };
	struct fg_flic2_action a;
	size_t events = 0, others = 0;

	pair(t);
	send_events(t, 403, decided, 1, false);	/* events, state, ack write */
	assert_int_equal(fg_flic2_request_battery(t->f, t->now), 0);
	fg_flic2_disconnected(t->f, t->now);
	while (fg_flic2_next_action(t->f, &a) == 1) {
		assert_true(a.kind != FG_FLIC2_ACTION_WRITE);
		assert_true(a.kind != FG_FLIC2_ACTION_DISCONNECT);
		if (a.kind == FG_FLIC2_ACTION_BUTTON_EVENT)
			events++;
		else
			others++;
	}
	assert_int_equal(events, 3);
	assert_int_equal(others, 1);	/* the dedup state */
	assert_int_equal(fg_flic2_get_state(t->f), FG_FLIC2_STATE_IDLE);
	t_free(t);
}

static void test_event_anomalies(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	static const uint8_t press[] = { 1, 3, 12 };
	struct fg_flic2_counters c;
	struct fg_flic2_tx init;

	pair(t);
	/* a counter too small for its items (a button never does this) */
	assert_int_equal(btn_send(t, &(struct fg_flic2_rx){
		.opcode = FG_FLIC2_RX_BUTTON_EVENTS,
		.events = { .press_counter = 1, .n = 3,
			    .items = { { .code = 1 }, { .code = 3 }, { .code = 12 } } },
	}, true, t->b.conn_id), -EBADMSG);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	ping_ok(t);

	/* events before the init response are not processed */
	fg_flic2_disconnected(t->f, t->now);
	reconnect_until_init(t, &init);
	send_events(t, 2003, press, 3, false);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_unexpected, 2);
	init_response(t, false, false);
	pump(t);
	send_events(t, 2003, press, 3, false);
	pump(t);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_BUTTON_EVENT), 3);
	t_free(t);
}

static void test_mtu(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);

	t->b.mtu = 130;
	assert_int_equal(fg_flic2_new(&t->params, &t->f), 0);
	/* a tiny MTU is used as 23, a huge one as 130 */
	assert_int_equal(fg_flic2_connected(t->f, 5, t->now), 0);
	fg_flic2_disconnected(t->f, t->now);
	assert_int_equal(fg_flic2_connected(t->f, 517, t->now), 0);
	pump(t);
	fg_flic2_disconnected(t->f, t->now);
	fg_flic2_free(t->f);
	t->f = NULL;
	pair_until_fv2(t);
	/* FullVerifyRequest2 (58 bytes) in one write at MTU 130 */
	assert_int_equal(t->n_acts, 1);
	assert_int_equal(t->acts[0].write.len, 59);
	t_free(t);
}

/* Quick verify and re-pair test: the less travelled answers. */
static void test_verify_edges(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_rx rx = { 0 }, rsp1;
	struct fg_flic2_tx tx;
	struct fg_flic2_counters c;
	uint8_t priv[32], buf[8] = { 0 };
	unsigned variant;

	pair(t);
	fg_flic2_disconnected(t->f, t->now);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), 0);
	pump(t);
	assert_int_equal(fg_flic2_decode_tx(t->pkts[0], t->pkt_len[0], &tx), 0);
	t->b.tmp_id = tx.qv_request.tmp_id;

	/* while quick-verifying: a short negative answer, a ping, no slots for us */
	buf[1] = FG_FLIC2_RX_QUICK_VERIFY_NEGATIVE;
	assert_int_equal(fg_flic2_receive(t->f, buf, 3, t->now), -EBADMSG);
	buf[1] = FG_FLIC2_RX_PING_REQUEST;
	assert_int_equal(fg_flic2_receive(t->f, buf, 2, t->now), 0);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_short, 1);
	assert_int_equal(c.rx_unexpected, 1);
	rx.opcode = FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS;
	rx.no_slots.n = 1;
	rx.no_slots.tmp_ids[0] = t->b.tmp_id;
	assert_int_equal(btn_send(t, &rx, false, 0), 0);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_NO_SLOTS, 0);

	/* a quick-verify answer that assigns connection id 0 */
	fg_flic2_disconnected(t->f, t->now);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), 0);
	pump(t);
	assert_int_equal(fg_flic2_decode_tx(t->pkts[0], t->pkt_len[0], &tx), 0);
	memset(&rx, 0, sizeof(rx));
	rx.opcode = FG_FLIC2_RX_QUICK_VERIFY_RESPONSE;
	rx.qv_response.tmp_id = tx.qv_request.tmp_id;
	assert_int_equal(btn_send(t, &rx, true, FG_FLIC2_HDR_NEWLY_ASSIGNED), 0);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_PROTOCOL, FG_FLIC2_RX_QUICK_VERIFY_RESPONSE);

	/* refused: the re-pair test, with a result that proves nothing */
	fg_flic2_disconnected(t->f, t->now);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), 0);
	pump(t);
	assert_int_equal(fg_flic2_decode_tx(t->pkts[0], t->pkt_len[0], &tx), 0);
	t->b.tmp_id = tx.qv_request.tmp_id;
	memset(&rx, 0, sizeof(rx));
	rx.opcode = FG_FLIC2_RX_QUICK_VERIFY_NEGATIVE;
	rx.qv_negative.tmp_id = t->b.tmp_id;
	assert_int_equal(btn_send(t, &rx, false, 0), 0);
	pump(t);
	assert_int_equal(t->n_pkts, 1);
	assert_int_equal(t->pkts[0][0], FG_FLIC2_TX_FULL_VERIFY_REQUEST_1);
	t->b.public_mode = false;	/* not needed for the test */
	btn_fv_response1(t, &rsp1, priv, &variant);
	assert_int_equal(btn_send(t, &rsp1, false, FG_FLIC2_HDR_NEWLY_ASSIGNED | 8), 0);
	pump(t);
	assert_int_equal(t->n_pkts, 1);
	assert_int_equal(t->pkts[0][0], FG_FLIC2_TX_TEST_IF_REALLY_UNPAIRED);
	/* noise first: connection 0, a short answer, an answer of the wrong kind */
	buf[0] = 0;
	buf[1] = FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED;
	assert_int_equal(fg_flic2_receive(t->f, buf, 3, t->now), 0);
	buf[0] = 8;
	assert_int_equal(fg_flic2_receive(t->f, buf, 3, t->now), -EBADMSG);
	buf[1] = FG_FLIC2_RX_FULL_VERIFY_FAIL;
	assert_int_equal(fg_flic2_receive(t->f, buf, 3, t->now), 0);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	memset(&rx, 0, sizeof(rx));
	rx.opcode = FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED;
	memset(rx.test_unpaired.result, 0xee, 16);
	assert_int_equal(btn_send(t, &rx, false, 8), 0);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_NOT_GENUINE, 3);
	/* the pairing is kept: only the NE proof forgets it */
	fg_flic2_disconnected(t->f, t->now);
	assert_int_equal(fg_flic2_get_state(t->f), FG_FLIC2_STATE_IDLE);
	t_free(t);

	/* while pairing (FullVerifyResponse2 awaited): noise is ignored */
	t = t_new(FG_FLIC2_MODE_PAIR);
	pair_until_fv2(t);
	buf[0] = 0;
	buf[1] = FG_FLIC2_RX_FULL_VERIFY_RESPONSE_2;
	assert_int_equal(fg_flic2_receive(t->f, buf, 8, t->now), 0);
	buf[0] = t->b.conn_id;
	assert_int_equal(fg_flic2_receive(t->f, buf, 8, t->now), -EBADMSG);
	buf[1] = FG_FLIC2_RX_PING_REQUEST;
	assert_int_equal(fg_flic2_receive(t->f, buf, 2, t->now), 0);
	buf[1] = FG_FLIC2_RX_BATTERY_LEVEL;
	assert_int_equal(fg_flic2_receive(t->f, buf, 2, t->now), -EBADMSG);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.rx_foreign, 1);
	assert_int_equal(c.rx_short, 2);
	assert_int_equal(c.rx_unexpected, 1);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	/* a FullVerifyResponse2 whose MAC is fine but whose name is too long a claim */
	t->b.fv2_flags = FG_FLIC2_FV2_APP_CREDENTIALS_MATCH | FG_FLIC2_FV2_IS_DUO;
	{
		struct fg_flic2_rx rsp2 = { .opcode = FG_FLIC2_RX_FULL_VERIFY_RESPONSE_2 };
		struct fg_flic2_pairing p;

		rsp2.fv_response2.flags = t->b.fv2_flags;
		rsp2.fv_response2.name_len = 200;
		memset(rsp2.fv_response2.name, 'n', sizeof(rsp2.fv_response2.name));
		memcpy(rsp2.fv_response2.serial, "AB12-\x01\0\0\0\0", 11);
		assert_int_equal(btn_send(t, &rsp2, true, t->b.conn_id), 0);
		pump(t);
		assert_true(has_kind(t, FG_FLIC2_ACTION_PAIRED));
		assert_int_equal(fg_flic2_get_pairing(t->f, &p), 0);
		assert_int_equal(strlen(p.name), 23);
		assert_string_equal(p.serial, "AB12-?");
	}
	t_free(t);
}

/* A reconnect whose event state was lost (the file is gone). */
static void test_lost_dedup_state(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_pairing p;
	struct fg_flic2_tx init;
	struct fg_flic2 *restarted;
	const struct fg_flic2_action *a;

	pair(t);
	assert_int_equal(fg_flic2_get_pairing(t->f, &p), 0);
	t->params.mode = FG_FLIC2_MODE_RECONNECT;
	t->params.pairing = &p;
	t->params.dedup = (struct fg_flic2_dedup){ 0 };
	assert_int_equal(fg_flic2_new(&t->params, &restarted), 0);
	fg_flic2_free(t->f);
	t->f = restarted;
	reconnect_until_init(t, &init);
	assert_int_equal(init.init_events.boot_id, 0);
	assert_int_equal(init.init_events.event_count, 0);
	/* the unlikely answer "same boot" to boot id 0: a state is made up and kept */
	init_response(t, false, false);
	pump(t);
	a = find_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST);
	assert_true(a->dedup.valid);
	assert_int_equal(a->dedup.event_count, 0);
	t_free(t);
}

static void test_validators_and_rng(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_pairing p = { 0 };
	unsigned budget = 7;	/* enough for the quick-verify nonce, not its tmp id */
	uint8_t r1[16], r2[16];

	assert_true(fg_flic2_name_is_valid(""));
	assert_true(fg_flic2_name_is_valid("Kitchen \xe2\x98\x95"));
	assert_false(fg_flic2_name_is_valid(NULL));
	assert_false(fg_flic2_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaa"));	/* 24 */
	assert_false(fg_flic2_name_is_valid("tab\there"));
	assert_false(fg_flic2_name_is_valid("del\x7f"));
	assert_false(fg_flic2_name_is_valid("\xc0\x80"));		/* overlong */
	assert_false(fg_flic2_name_is_valid("\xe0\x80\x80"));	/* overlong */
	assert_false(fg_flic2_name_is_valid("\xf0\x80\x80\x80"));	/* overlong */
	assert_false(fg_flic2_name_is_valid("\xed\xa0\x80"));	/* surrogate */
	assert_false(fg_flic2_name_is_valid("\xf4\x90\x80\x80"));	/* > U+10FFFF */
	assert_false(fg_flic2_name_is_valid("\xf8\x88\x80\x80\x80"));
	assert_false(fg_flic2_name_is_valid("ab\xe2\x98"));		/* cut short */
	assert_true(fg_flic2_name_is_valid("\xf4\x8f\xbf\xbf"));	/* U+10FFFF */
	assert_true(fg_flic2_serial_is_valid("BG30-C12345"));
	assert_true(fg_flic2_serial_is_valid(""));
	assert_false(fg_flic2_serial_is_valid("BG30-C123456"));
	assert_false(fg_flic2_serial_is_valid("BG 30"));
	assert_false(fg_flic2_serial_is_valid(NULL));

	assert_int_equal(fg_flic2_system_rng(r1, sizeof(r1), NULL), 0);
	assert_int_equal(fg_flic2_system_rng(r2, sizeof(r2), NULL), 0);
	assert_memory_not_equal(r1, r2, sizeof(r1));

	/* the RNG fails while starting a quick verify */
	memcpy(p.address, t->b.address, 6);
	t->params.mode = FG_FLIC2_MODE_RECONNECT;
	t->params.pairing = &p;
	t->params.rng = failing_rng;
	t->params.rng_userdata = &budget;
	assert_int_equal(fg_flic2_new(&t->params, &t->f), 0);
	assert_int_equal(fg_flic2_connected(t->f, 23, t->now), 0);
	pump(t);
	expect_failed(t, FG_FLIC2_FAIL_INTERNAL, 0);
	assert_int_equal(t->n_pkts, 0);
	t_free(t);
}

/*
 * The button's idle disconnect: the official limits (40..511, 0 = never),
 * the next InitButtonEvents carries it, a live session is told at once
 * with SetAutoDisconnectTimeInd, an unchanged value sends nothing.
 */
static void test_auto_disconnect(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_tx tx, init;
	struct fg_flic2_action a;

	assert_int_equal(fg_flic2_new(&t->params, &t->f), 0);
	assert_int_equal(fg_flic2_get_auto_disconnect(t->f), 511);
	assert_int_equal(fg_flic2_set_auto_disconnect(t->f, 39, t->now), -EINVAL);
	assert_int_equal(fg_flic2_set_auto_disconnect(t->f, 1, t->now), -EINVAL);
	assert_int_equal(fg_flic2_set_auto_disconnect(t->f, 512, t->now), -EINVAL);
	assert_int_equal(fg_flic2_get_auto_disconnect(t->f), 511);
	/* 0 means never: the same as 511, so nothing changes */
	assert_int_equal(fg_flic2_set_auto_disconnect(t->f, 0, t->now), 0);
	assert_int_equal(fg_flic2_get_auto_disconnect(t->f), 511);
	/* no session: only remembered */
	assert_int_equal(fg_flic2_set_auto_disconnect(t->f, 60, t->now), 0);
	assert_int_equal(fg_flic2_next_action(t->f, &a), 0);
	assert_int_equal(fg_flic2_get_auto_disconnect(t->f), 60);

	/* the pairing session's init carries it */
	pair_until_fv2(t);
	assert_int_equal(send_fv2(t), 0);
	pump(t);
	btn_open(t, 0, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT);
	assert_int_equal(tx.init_events.auto_disconnect_s, 60);
	init_response(t, true, false);
	pump(t);
	btn_open(t, 0, &tx);	/* connection parameters */

	/* a live session is told now, with the button's 9-bit field */
	assert_int_equal(fg_flic2_set_auto_disconnect(t->f, 120, t->now), 0);
	pump(t);
	assert_int_equal(t->n_acts, 1);
	assert_int_equal(t->n_pkts, 1);
	assert_int_equal(btn_open(t, 0, &tx), FG_FLIC2_LEN_AUTO_DISCONNECT);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_SET_AUTO_DISCONNECT_TIME);
	assert_int_equal(tx.auto_disconnect.seconds, 120);
	assert_int_equal(t->pkts[0][1], 120);
	assert_int_equal(t->pkts[0][2], 0);
	/* unchanged: nothing */
	assert_int_equal(fg_flic2_set_auto_disconnect(t->f, 120, t->now), 0);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	/* an indication: no answer awaited, no deadline */
	assert_int_equal(fg_flic2_next_deadline(t->f), UINT64_MAX);
	/* refused values change nothing and send nothing */
	assert_int_equal(fg_flic2_set_auto_disconnect(t->f, 20, t->now), -EINVAL);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	assert_int_equal(fg_flic2_get_auto_disconnect(t->f), 120);
	/* back to never */
	assert_int_equal(fg_flic2_set_auto_disconnect(t->f, 0, t->now), 0);
	pump(t);
	btn_open(t, 0, &tx);
	assert_int_equal(tx.auto_disconnect.seconds, 511);
	ping_ok(t);	/* the counters still agree */

	/* while verifying: remembered for the init, not sent */
	fg_flic2_disconnected(t->f, t->now);
	pump(t);
	fg_flic2_reassembler_reset(&t->b.reasm);
	assert_int_equal(fg_flic2_connected(t->f, t->b.mtu, t->now), 0);
	assert_int_equal(fg_flic2_set_auto_disconnect(t->f, 45, t->now), 0);
	pump(t);
	for (size_t i = 0; i < t->n_pkts; i++)
		assert_int_equal(t->pkts[i][0], FG_FLIC2_TX_QUICK_VERIFY_REQUEST);
	fg_flic2_disconnected(t->f, t->now);
	pump(t);
	reconnect_until_init(t, &init);
	assert_int_equal(init.init_events.auto_disconnect_s, 45);
	t_free(t);
}

/*
 * Asking the button to sleep: only on a verified session; one signed
 * ForceBtDisconnectInd carrying the flag; the engine does not end the
 * session itself (the button drops the link); the session goes on
 * being signed in order afterwards.
 */
static void test_request_sleep(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_tx tx;

	assert_int_equal(fg_flic2_new(&t->params, &t->f), 0);
	assert_int_equal(fg_flic2_request_sleep(t->f, false, t->now), -ENOTCONN);
	pair_until_fv2(t);
	/* still verifying: refused, nothing sent */
	assert_int_equal(fg_flic2_request_sleep(t->f, false, t->now), -ENOTCONN);
	assert_int_equal(send_fv2(t), 0);
	pump(t);
	btn_open(t, 0, &tx);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT);
	init_response(t, true, false);
	pump(t);
	btn_open(t, 0, &tx);	/* connection parameters */

	assert_int_equal(fg_flic2_request_sleep(t->f, false, t->now), 0);
	pump(t);
	assert_int_equal(t->n_acts, 1);	/* the SEND alone: no DISCONNECT */
	assert_int_equal(t->n_pkts, 1);
	assert_int_equal(btn_open(t, 0, &tx), FG_FLIC2_LEN_FORCE_DISCONNECT);
	assert_int_equal(tx.opcode, FG_FLIC2_TX_FORCE_BT_DISCONNECT);
	assert_false(tx.force_disconnect.restart_adv);
	assert_int_equal(t->pkts[0][0], 6);
	assert_int_equal(t->pkts[0][1], 0);
	/* an indication: no answer awaited */
	assert_int_equal(fg_flic2_next_deadline(t->f), UINT64_MAX);

	assert_int_equal(fg_flic2_request_sleep(t->f, true, t->now), 0);
	pump(t);
	btn_open(t, 0, &tx);
	assert_true(tx.force_disconnect.restart_adv);
	assert_int_equal(t->pkts[0][1], 1);
	ping_ok(t);	/* the counters still agree */

	/* once the link is gone there is nothing to ask */
	fg_flic2_disconnected(t->f, t->now);
	pump(t);
	assert_int_equal(fg_flic2_request_sleep(t->f, false, t->now), -ENOTCONN);
	t_free(t);
}

/* Open every client packet of the last pump, in order; returns how many. */
static size_t open_all(struct t *t, struct fg_flic2_tx *out, size_t max)
{
	assert_true(t->n_pkts <= max);
	for (size_t i = 0; i < t->n_pkts; i++)
		btn_open(t, i, &out[i]);
	return t->n_pkts;
}

/* How many of @tx (n) carry @opcode. */
static size_t n_opcode(const struct fg_flic2_tx *tx, size_t n, uint8_t opcode)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += tx[i].opcode == opcode;
	return k;
}

/* Reconnect in the same boot, nothing queued: how many SetAdvParametersRequests follow. */
static size_t adv_on_reconnect(struct t *t)
{
	struct fg_flic2_tx tx[8], init;
	size_t n;

	fg_flic2_disconnected(t->f, t->now);
	reconnect_until_init(t, &init);
	init_response(t, false, false);
	pump(t);
	n = open_all(t, tx, 8);
	assert_int_equal(n_opcode(tx, n, FG_FLIC2_TX_GET_BATTERY_LEVEL), 1);
	return n_opcode(tx, n, FG_FLIC2_TX_SET_ADV_PARAMETERS);
}

static void adv_response(struct t *t)
{
	struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_SET_ADV_PARAMETERS };

	assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
}

/*
 * SetAdvParametersRequest: as flic2lib-c-module sends it (byte for byte)
 * but with flic2lib-android's slow interval, 1636 (docs/flic2.md: why),
 * once per button boot from firmware 6 on, remembered across reconnects
 * and restarts in the dedup state, sent again after a reboot; a missing,
 * forged or short answer never ends the session.
 */
static void test_adv_parameters(void **state)
{
	static const char official[] = "1b 01 00 01 00 a000 6406 80510100";
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_tx tx[8], init;
	struct fg_flic2_dedup d;
	struct fg_flic2_counters c;
	struct fg_flic2_pairing p;
	uint8_t want[FG_FLIC2_LEN_ADV_PARAMS], bad[1 + FG_FLIC2_MAC_LEN];
	uint64_t t0;
	size_t n;

	t->b.firmware = 6;
	pair_until_fv2(t);
	assert_int_equal(send_fv2(t), 0);
	pump(t);
	btn_open(t, 0, &init);
	init_response(t, true, false);
	t0 = t->now;
	pump(t);
	find_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST);
	assert_false(find_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST)->dedup.adv_configured);
	n = open_all(t, tx, 8);
	assert_int_equal(n, 2);
	assert_int_equal(tx[0].opcode, FG_FLIC2_TX_SET_CONNECTION_PARAMETERS);
	assert_int_equal(tx[1].opcode, FG_FLIC2_TX_SET_ADV_PARAMETERS);
	test_unhex(official, want, sizeof(want));
	assert_int_equal(t->pkt_len[1], FG_FLIC2_LEN_ADV_PARAMS + FG_FLIC2_MAC_LEN);
	assert_memory_equal(t->pkts[1], want, sizeof(want));
	assert_int_equal(fg_flic2_next_deadline(t->f), t0 + 10 * SEC);

	/* refused answers: forged (bad MAC), then too short for a MAC */
	memset(bad, 0, sizeof(bad));
	bad[0] = FG_FLIC2_RX_SET_ADV_PARAMETERS;
	assert_int_equal(btn_send_raw(t, t->b.conn_id, bad, sizeof(bad)), -EBADMSG);
	assert_int_equal(btn_send_raw(t, t->b.conn_id, bad, 1), -EBADMSG);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	fg_flic2_get_dedup(t->f, &d);
	assert_false(d.adv_configured);
	/* the genuine answer: remembered for this boot */
	adv_response(t);
	pump(t);
	assert_int_equal(t->n_acts, 1);
	assert_true(t->acts[0].dedup.adv_configured);
	assert_int_equal(t->acts[0].dedup.boot_id, t->b.boot_id);
	assert_int_equal(t->acts[0].dedup.event_count, 400);
	assert_int_equal(fg_flic2_next_deadline(t->f), UINT64_MAX);
	/* a second answer nobody asked for changes nothing */
	adv_response(t);
	pump(t);
	assert_int_equal(t->n_acts, 0);
	ping_ok(t);

	/* reconnect within the same boot: not again */
	assert_int_equal(adv_on_reconnect(t), 0);

	/* a gateway restart in the same boot: the stored state says it is done */
	fg_flic2_get_dedup(t->f, &d);
	assert_true(d.adv_configured);
	restart(t, &p);
	assert_true(t->params.dedup.adv_configured);
	assert_int_equal(adv_on_reconnect(t), 0);

	/* the button rebooted: a new boot id forgets the settings, ask again */
	fg_flic2_disconnected(t->f, t->now);
	t->b.boot_id++;
	reconnect_until_init(t, &init);
	init_response(t, true, false);
	t0 = t->now;
	pump(t);
	assert_false(find_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST)->dedup.adv_configured);
	n = open_all(t, tx, 8);
	assert_int_equal(n, 3);		/* conn params, adv, battery: two in flight */
	assert_int_equal(tx[1].opcode, FG_FLIC2_TX_SET_ADV_PARAMETERS);
	assert_memory_equal(t->pkts[1], want, sizeof(want));
	assert_int_equal(tx[2].opcode, FG_FLIC2_TX_GET_BATTERY_LEVEL);

	/* no answer: the slot is freed, the session lives on */
	t->now = t0 + SEC;
	{
		struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_BATTERY_LEVEL, .battery.level = 900 };

		assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
	}
	pump(t);
	n = open_all(t, tx, 8);
	assert_int_equal(n, 1);
	assert_int_equal(tx[0].opcode, FG_FLIC2_TX_GET_FIRMWARE_VERSION);
	assert_int_equal(fg_flic2_next_deadline(t->f), t0 + 10 * SEC);
	t->now = t0 + 10 * SEC;
	assert_int_equal(fg_flic2_timeout(t->f, t->now), 0);
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_FAILED));
	assert_false(has_kind(t, FG_FLIC2_ACTION_DISCONNECT));
	n = open_all(t, tx, 8);
	assert_int_equal(n, 1);		/* the name request takes the free slot */
	assert_int_equal(tx[0].opcode, FG_FLIC2_TX_GET_NAME);
	assert_int_equal(fg_flic2_get_state(t->f), FG_FLIC2_STATE_VERIFIED);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.adv_unanswered, 1);
	assert_int_equal(c.failures, 0);
	/* a late answer is unsolicited: not taken as done */
	adv_response(t);
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST));
	fg_flic2_get_dedup(t->f, &d);
	assert_false(d.adv_configured);
	ping_ok(t);

	/* so the next session of this boot asks again */
	assert_int_equal(adv_on_reconnect(t), 1);
	t_free(t);
}

/* Below firmware 6 never; an update to 6 takes the settings in that session. */
static void test_adv_parameters_firmware(void **state)
{
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_FIRMWARE_VERSION };
	struct fg_flic2_tx tx[8], init;
	size_t n;

	pair(t);	/* firmware 5: connection parameters only */
	fg_flic2_disconnected(t->f, t->now);
	reconnect_until_init(t, &init);
	init_response(t, false, false);
	pump(t);
	n = open_all(t, tx, 8);
	assert_int_equal(n_opcode(tx, n, FG_FLIC2_TX_SET_ADV_PARAMETERS), 0);
	/* the reconnect asks for the firmware: it was updated to 6 */
	assert_int_equal(n_opcode(tx, n, FG_FLIC2_TX_GET_FIRMWARE_VERSION), 1);
	rx.firmware.version = 6;
	assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
	pump(t);
	assert_int_equal(find_kind(t, FG_FLIC2_ACTION_FIRMWARE)->firmware_version, 6);
	n = open_all(t, tx, 8);
	assert_int_equal(n_opcode(tx, n, FG_FLIC2_TX_SET_ADV_PARAMETERS), 1);
	adv_response(t);
	pump(t);
	assert_true(find_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST)->dedup.adv_configured);
	/* the firmware asked again in this boot: nothing more */
	assert_int_equal(fg_flic2_request_firmware(t->f, t->now), 0);
	pump(t);
	open_all(t, tx, 8);
	assert_int_equal(btn_send(t, &rx, true, t->b.conn_id), 0);
	pump(t);
	n = open_all(t, tx, 8);
	assert_int_equal(n_opcode(tx, n, FG_FLIC2_TX_SET_ADV_PARAMETERS), 0);
	t_free(t);
}

/* The one EVENTS_LOST of the last pump, which comes before any BUTTON_EVENT. */
static const struct fg_flic2_events_lost *lost_of(struct t *t)
{
	const struct fg_flic2_action *a = NULL;

	for (size_t i = 0; i < t->n_acts; i++) {
		if (t->acts[i].kind == FG_FLIC2_ACTION_BUTTON_EVENT)
			assert_non_null(a);	/* the loss is told first */
		if (t->acts[i].kind == FG_FLIC2_ACTION_EVENTS_LOST) {
			assert_null(a);
			a = &t->acts[i];
		}
	}
	assert_non_null(a);
	return &a->lost;
}

/*
 * Counter gaps: presses the button dropped are reported, in presses (four
 * counter values each), never for slots a press simply did not use, never
 * for a fresh pairing's history, and also when the button sends nothing
 * queued yet counted on.
 */
static void test_events_lost(void **state)
{
	static const uint8_t down = 1, up = 8, up_single = 10, timeout = 2, hold = 3;
	const uint8_t click[] = { down, up, timeout };
	struct t *t = t_new(FG_FLIC2_MODE_PAIR);
	struct fg_flic2_tx init;
	struct fg_flic2_counters c;
	const struct fg_flic2_events_lost *l;
	struct fg_flic2_dedup d;

	/* a fresh pairing: the 100 presses before it are history, not a loss */
	pair(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_EVENTS_LOST));
	send_events(t, 404, click, 3, false);	/* press 101: 401, 403, 404 */
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_EVENTS_LOST));

	/* presses 102 and 103 never arrive; 104 does (down 413) */
	send_events(t, 413, &down, 1, false);
	pump(t);
	l = lost_of(t);
	assert_int_equal(l->presses, 2);
	assert_int_equal(l->last_count, 404);
	assert_int_equal(l->next_count, 413);
	assert_int_equal(l->boot_id, t->b.boot_id);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_BUTTON_EVENT), 1);

	/* slots a press leaves unused are no loss: hold skipped, timeout skipped */
	send_events(t, 415, &up_single, 1, false);	/* 414 (hold) unused */
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_EVENTS_LOST));
	send_events(t, 417, &down, 1, false);	/* 416 (timeout) unused */
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_EVENTS_LOST));
	{
		const uint8_t h[] = { hold, up };	/* 418, 419 */

		send_events(t, 419, h, 2, false);
	}
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_EVENTS_LOST));
	/* a resent, already reported item: a duplicate, not a loss */
	send_events(t, 404, &timeout, 1, false);
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_EVENTS_LOST));
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.events_lost, 2);

	/*
	 * Reconnect: nothing queued, yet the button counted to 430 (press 108):
	 * presses 106..108 are gone. The counter moves on with the loss told.
	 */
	fg_flic2_disconnected(t->f, t->now);
	t->b.event_count = 430;
	reconnect_until_init(t, &init);
	assert_int_equal(init.init_events.event_count, 419);
	init_response(t, false, false);
	pump(t);
	l = lost_of(t);
	assert_int_equal(l->presses, 3);
	assert_int_equal(l->last_count, 419);
	assert_int_equal(l->next_count, 430);
	assert_int_equal(find_kind(t, FG_FLIC2_ACTION_STATE_TO_PERSIST)->dedup.event_count, 430);
	for (size_t i = 0; i < t->n_pkts; i++)
		btn_open(t, i, &init);
	/* the rest of press 108 is no new loss */
	send_events(t, 431, &up, 1, false);
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_EVENTS_LOST));
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_BUTTON_EVENT), 2);

	/* queued events follow: the gap shows at the first of them */
	fg_flic2_disconnected(t->f, t->now);
	t->b.event_count = 444;
	reconnect_until_init(t, &init);
	init_response(t, false, true);
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_EVENTS_LOST));
	send_events(t, 444, click, 3, true);	/* press 111: 441, 443, 444 */
	pump(t);
	l = lost_of(t);
	assert_int_equal(l->presses, 2);	/* 109 and 110 */
	assert_int_equal(l->next_count, 441);
	assert_int_equal(count_kind(t, FG_FLIC2_ACTION_EVENTS_LOST), 1);

	/* a reboot: counting restarts, the presses before the first delivered are lost */
	fg_flic2_disconnected(t->f, t->now);
	t->b.boot_id = 0x5eed0002;
	t->b.event_count = 12;
	reconnect_until_init(t, &init);
	init_response(t, true, true);
	pump(t);
	assert_false(has_kind(t, FG_FLIC2_ACTION_EVENTS_LOST));
	send_events(t, 12, click, 3, true);	/* press 3: 9, 11, 12 */
	pump(t);
	l = lost_of(t);
	assert_int_equal(l->presses, 2);
	assert_int_equal(l->boot_id, 0x5eed0002);
	assert_int_equal(l->last_count, 0);
	assert_int_equal(l->next_count, 9);
	fg_flic2_get_dedup(t->f, &d);
	assert_int_equal(d.event_count, 12);
	fg_flic2_get_counters(t->f, &c);
	assert_int_equal(c.events_lost, 2 + 3 + 2 + 2);
	t_free(t);
}

static void test_strings(void **state)
{
	assert_string_equal(fg_flic2_state_to_string(FG_FLIC2_STATE_VERIFIED), "verified");
	assert_string_equal(fg_flic2_state_to_string(FG_FLIC2_STATE_REPAIR_NEEDED), "repair-needed");
	assert_null(fg_flic2_state_to_string(_FG_FLIC2_STATE_MAX));
	assert_null(fg_flic2_state_to_string((enum fg_flic2_state)-1));
	for (int i = 0; i < _FG_FLIC2_FAIL_MAX; i++)
		assert_non_null(fg_flic2_failure_to_string((enum fg_flic2_failure)i));
	assert_null(fg_flic2_failure_to_string(_FG_FLIC2_FAIL_MAX));
	assert_null(fg_flic2_failure_to_string((enum fg_flic2_failure)-1));
	/* ADC levels to millivolt, rounded (level * 3600 / 1024) */
	assert_int_equal(fg_flic2_battery_mv(0), 0);
	assert_int_equal(fg_flic2_battery_mv(512), 1800);
	assert_int_equal(fg_flic2_battery_mv(1024), 3600);
	assert_int_equal(fg_flic2_battery_mv(905), 3182);
	assert_int_equal(fg_flic2_battery_mv(65535), 230396 & 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/flic2-engine/params", test_params),
		FG_TEST("/flic2-engine/pair-and-requests", test_pair_and_requests),
		FG_TEST("/flic2-engine/malformed-in-session", test_malformed_session),
		FG_TEST("/flic2-engine/bad-mac-run", test_bad_mac_run),
		FG_TEST("/flic2-engine/pairing-failures", test_pairing_failures),
		FG_TEST("/flic2-engine/pairing-noise", test_pairing_noise),
		FG_TEST("/flic2-engine/timeouts", test_timeouts),
		FG_TEST("/flic2-engine/event-codes", test_event_codes),
		FG_TEST("/flic2-engine/dedup", test_dedup),
		FG_TEST("/flic2-engine/quick-verify-failures", test_quick_verify_failures),
		FG_TEST("/flic2-engine/link-closed", test_link_closed),
		FG_TEST("/flic2-engine/request-disconnect", test_request_disconnect),
		FG_TEST("/flic2-engine/rng-failure", test_rng_failure),
		FG_TEST("/flic2-engine/queue-contract", test_queue_contract),
		FG_TEST("/flic2-engine/disconnect-purges-writes", test_disconnect_purges_writes),
		FG_TEST("/flic2-engine/purge-order-wraps", test_purge_order),
		FG_TEST("/flic2-engine/event-anomalies", test_event_anomalies),
		FG_TEST("/flic2-engine/mtu", test_mtu),
		FG_TEST("/flic2-engine/verify-edges", test_verify_edges),
		FG_TEST("/flic2-engine/lost-dedup-state", test_lost_dedup_state),
		FG_TEST("/flic2-engine/validators-and-rng", test_validators_and_rng),
		FG_TEST("/flic2-engine/strings", test_strings),
		FG_TEST("/flic2-engine/auto-disconnect", test_auto_disconnect),
		FG_TEST("/flic2-engine/request-sleep", test_request_sleep),
		FG_TEST("/flic2-engine/adv-parameters", test_adv_parameters),
		FG_TEST("/flic2-engine/adv-parameters-firmware", test_adv_parameters_firmware),
		FG_TEST("/flic2-engine/events-lost", test_events_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
