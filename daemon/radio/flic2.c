/* SPDX-License-Identifier: MIT */
/* The Flic 2 protocol engine: pairing, quick verify, sessions and button events, as an action queue (flic2.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "lib/macro.h"
#include "radio/chaskey.h"
#include "radio/flic2-crypto.h"
#include "radio/flic2-packet.h"
#include "radio/flic2.h"

#define DEFAULT_AUTO_DISCONNECT_S 511
#define DEFAULT_VERIFY_TIMEOUT_USEC (UINT64_C(31) * 1000000)
#define DEFAULT_REQUEST_TIMEOUT_USEC (UINT64_C(10) * 1000000)
#define NO_DEADLINE UINT64_MAX

/* Session MAC failures tolerated in a row before the session is declared bad. */
#define MAX_BAD_MAC_RUN 3
/* Official clients keep at most two requests in flight. */
#define MAX_INFLIGHT 2
/* Connection parameters the official clients ask for (1.25 ms, -, 10 ms units). */
#define CONN_INTERVAL_MIN 80
#define CONN_INTERVAL_MAX 90
#define CONN_LATENCY 17
#define CONN_TIMEOUT 800

/* One input never queues more than this many actions (16 items x 3 + extras). */
#define QUEUE_RESERVE 64
#define QUEUE_CAP 96

_Static_assert(FG_FLIC2_WRITE_MAX == FG_FLIC2_MAX_WRITE, "write size");

/* Flic's certificate key (flic2lib-c-module flic2_crypto.c, pyflic-ble const.py). */
static const uint8_t builtin_keys[][32] = {
	{ 0xd3, 0x3f, 0x24, 0x40, 0xdd, 0x54, 0xb3, 0x1b, 0x2e, 0x1d, 0xcf, 0x40,
	  0x13, 0x2e, 0xfa, 0x41, 0xd8, 0xf8, 0xa7, 0x47, 0x41, 0x68, 0xdf, 0x40,
	  0x08, 0xf5, 0xa9, 0x5f, 0xb3, 0xb0, 0xd0, 0x22 },
};

enum phase {
	PH_IDLE,
	PH_WAIT_FV1,		/* pairing: FullVerifyRequest1 sent */
	PH_WAIT_FV2,		/* pairing: FullVerifyRequest2 sent */
	PH_WAIT_QV,		/* QuickVerifyRequest sent */
	PH_WAIT_FV1_TEST,	/* quick verify refused: FullVerifyRequest1 sent */
	PH_WAIT_TEST,		/* TestIfReallyUnpairedRequest sent */
	PH_ESTABLISHED,
	PH_CLOSING,		/* failed or asked to close: waiting for the link to drop */
	PH_REPAIR_NEEDED,
};

enum request {
	REQ_INIT,
	REQ_BATTERY,
	REQ_FIRMWARE,
	REQ_NAME,
	_REQ_MAX,
};

static const uint8_t request_opcode[_REQ_MAX] = {
	[REQ_INIT] = FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT,
	[REQ_BATTERY] = FG_FLIC2_TX_GET_BATTERY_LEVEL,
	[REQ_FIRMWARE] = FG_FLIC2_TX_GET_FIRMWARE_VERSION,
	[REQ_NAME] = FG_FLIC2_TX_GET_NAME,
};

struct fg_flic2 {
	/* configuration */
	uint8_t (*keys)[32];
	size_t n_keys;
	fg_flic2_rng_t rng;
	void *rng_userdata;
	uint16_t auto_disconnect_s;
	uint64_t verify_timeout_usec;
	uint64_t request_timeout_usec;

	/* what outlives a session */
	uint8_t address[6];		/* big endian */
	bool paired;
	struct fg_flic2_pairing pairing;
	struct fg_flic2_dedup dedup;

	/* the session */
	enum phase phase;
	unsigned mtu;
	uint8_t conn_id;
	uint32_t tmp_id;
	struct fg_flic2_reassembler reasm;
	uint8_t fvs[32];		/* fullVerifySecret, pairing / re-pair test only */
	uint8_t pairing_token[16];	/* re-pair test */
	uint8_t qv_random[7];
	struct fg_chaskey_keys keys_session;
	uint64_t tx_counter;
	uint64_t rx_counter;
	unsigned bad_mac_run;
	bool fresh;			/* this session is the pairing one */
	bool init_done;			/* InitButtonEventsResponse received */
	bool queue_drained;		/* all events queued before the session delivered */
	uint64_t base_button_time;	/* button clock <-> our clock anchor */
	uint64_t base_usec;
	uint64_t verify_deadline;
	unsigned pending;		/* requests to send (bit per enum request) */
	unsigned inflight;		/* requests sent, answer awaited */
	uint64_t request_deadline[_REQ_MAX];

	/* output */
	struct fg_flic2_action queue[QUEUE_CAP];
	size_t q_head;
	size_t q_len;

	struct fg_flic2_counters counters;
	char last_error[128];
};

const uint8_t (*fg_flic2_builtin_keys(size_t *ret_n))[32]
{
	*ret_n = sizeof(builtin_keys) / sizeof(builtin_keys[0]);
	return builtin_keys;
}

int fg_flic2_key_from_hex(const char *hex, uint8_t ret_key[32])
{
	return fg_unhex(hex, hex ? strlen(hex) : 0, ret_key, 32);
}

int fg_flic2_system_rng(void *userdata, void *buf, size_t len)
{
	return fg_crypto_random(buf, len);
}

uint16_t fg_flic2_battery_mv(uint16_t level)
{
	/* 10-bit ADC against a 3.6 V reference, rounded */
	return (uint16_t)(((uint32_t)level * 3600u + 512u) / 1024u);
}

static const char *const failure_names[_FG_FLIC2_FAIL_MAX] = {
	[FG_FLIC2_FAIL_REPAIR_NEEDED] = "repair-needed",
	[FG_FLIC2_FAIL_NOT_GENUINE] = "not-genuine",
	[FG_FLIC2_FAIL_NOT_PAIRABLE] = "not-pairable",
	[FG_FLIC2_FAIL_TIMEOUT] = "timeout",
	[FG_FLIC2_FAIL_KEY_MISMATCH] = "key-mismatch",
	[FG_FLIC2_FAIL_BAD_MAC] = "bad-mac",
	[FG_FLIC2_FAIL_NO_SLOTS] = "no-slots",
	[FG_FLIC2_FAIL_APP_CREDENTIALS] = "app-credentials",
	[FG_FLIC2_FAIL_LINK_CLOSED] = "link-closed",
	[FG_FLIC2_FAIL_PROTOCOL] = "protocol-error",
	[FG_FLIC2_FAIL_INTERNAL] = "internal-error",
};

FG_DEFINE_STRING_TABLE_TO(, fg_flic2_failure, enum fg_flic2_failure, failure_names)

static const char *const state_names[_FG_FLIC2_STATE_MAX] = {
	[FG_FLIC2_STATE_IDLE] = "idle",
	[FG_FLIC2_STATE_PAIRING] = "pairing",
	[FG_FLIC2_STATE_VERIFYING] = "verifying",
	[FG_FLIC2_STATE_VERIFIED] = "verified",
	[FG_FLIC2_STATE_CLOSING] = "closing",
	[FG_FLIC2_STATE_REPAIR_NEEDED] = "repair-needed",
};

FG_DEFINE_STRING_TABLE_TO(, fg_flic2_state, enum fg_flic2_state, state_names)

enum fg_flic2_state fg_flic2_get_state(const struct fg_flic2 *f)
{
	switch (f->phase) {
	case PH_IDLE:
		return FG_FLIC2_STATE_IDLE;
	case PH_WAIT_FV1:
	case PH_WAIT_FV2:
		return FG_FLIC2_STATE_PAIRING;
	case PH_WAIT_QV:
	case PH_WAIT_FV1_TEST:
	case PH_WAIT_TEST:
		return FG_FLIC2_STATE_VERIFYING;
	case PH_ESTABLISHED:
		return FG_FLIC2_STATE_VERIFIED;
	case PH_CLOSING:
		return FG_FLIC2_STATE_CLOSING;
	case PH_REPAIR_NEEDED:
		return FG_FLIC2_STATE_REPAIR_NEEDED;
	}
	return FG_FLIC2_STATE_IDLE;
}

__attribute__((format(printf, 2, 3)))
static void set_error(struct fg_flic2 *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->last_error, sizeof(f->last_error), fmt, ap);
	va_end(ap);
}

const char *fg_flic2_last_error(const struct fg_flic2 *f)
{
	return f->last_error;
}

void fg_flic2_get_counters(const struct fg_flic2 *f, struct fg_flic2_counters *ret)
{
	*ret = f->counters;
}

int fg_flic2_get_pairing(const struct fg_flic2 *f, struct fg_flic2_pairing *ret)
{
	if (!f->paired)
		return -ENOENT;
	*ret = f->pairing;
	return 0;
}

void fg_flic2_get_dedup(const struct fg_flic2 *f, struct fg_flic2_dedup *ret)
{
	*ret = f->dedup;
}

/* --- action queue --------------------------------------------------------- */

static size_t queue_free(const struct fg_flic2 *f)
{
	return QUEUE_CAP - f->q_len;
}

/*
 * Inputs check QUEUE_RESERVE free slots before doing anything, and no input
 * queues more than that, so this never runs out; if it ever did, the action
 * is dropped rather than overwriting one.
 */
static struct fg_flic2_action *push(struct fg_flic2 *f, enum fg_flic2_action_kind kind)
{
	struct fg_flic2_action *a;

	if (f->q_len >= QUEUE_CAP)
		return NULL;
	a = &f->queue[(f->q_head + f->q_len) % QUEUE_CAP];
	f->q_len++;
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

int fg_flic2_next_action(struct fg_flic2 *f, struct fg_flic2_action *ret)
{
	struct fg_flic2_action *a;

	if (f->q_len == 0)
		return 0;
	a = &f->queue[f->q_head];
	*ret = *a;
	fg_crypto_wipe(a, sizeof(*a));
	f->q_head = (f->q_head + 1) % QUEUE_CAP;
	f->q_len--;
	return 1;
}

/* Drop queued writes/disconnects: they belong to a link that is gone. */
static void purge_link_actions(struct fg_flic2 *f)
{
	size_t n = 0;

	/* compact in place, keeping order: a kept action only moves forward */
	for (size_t i = 0; i < f->q_len; i++) {
		struct fg_flic2_action *a = &f->queue[(f->q_head + i) % QUEUE_CAP];

		if (a->kind != FG_FLIC2_ACTION_WRITE && a->kind != FG_FLIC2_ACTION_DISCONNECT) {
			if (n != i)
				f->queue[(f->q_head + n) % QUEUE_CAP] = *a;
			n++;
		}
	}
	for (size_t i = n; i < f->q_len; i++)
		fg_crypto_wipe(&f->queue[(f->q_head + i) % QUEUE_CAP], sizeof(f->queue[0]));
	f->q_len = n;
}

/* --- sending ----------------------------------------------------------------- */

static void queue_fragments(struct fg_flic2 *f, const uint8_t *pkt, size_t len)
{
	uint8_t frag[FG_FLIC2_MAX_FRAGMENTS][FG_FLIC2_MAX_WRITE];
	size_t frag_len[FG_FLIC2_MAX_FRAGMENTS];
	int n;

	n = fg_flic2_fragment(f->conn_id, pkt, len, f->mtu, frag, frag_len);
	for (int i = 0; i < n; i++) {
		struct fg_flic2_action *a = push(f, FG_FLIC2_ACTION_WRITE);

		if (!a)
			break;
		memcpy(a->write.data, frag[i], frag_len[i]);
		a->write.len = frag_len[i];
		f->counters.tx_writes++;
	}
	f->counters.tx_packets++;
}

static void send_unsigned(struct fg_flic2 *f, const struct fg_flic2_tx *tx)
{
	uint8_t pkt[FG_FLIC2_MAX_PACKET];
	int len = fg_flic2_encode_tx(tx, pkt, sizeof(pkt));

	/* our own packets always encode; the fuzzers check it */
	if (len > 0)
		queue_fragments(f, pkt, (size_t)len);
	fg_crypto_wipe(pkt, sizeof(pkt));
}

static void send_signed(struct fg_flic2 *f, const struct fg_flic2_tx *tx)
{
	uint8_t pkt[FG_FLIC2_MAX_PACKET];
	int len = fg_flic2_encode_tx(tx, pkt, sizeof(pkt) - FG_FLIC2_MAC_LEN);

	if (len > 0) {
		fg_chaskey_flic2_mac(&f->keys_session, f->tx_counter++,
				     FG_CHASKEY_DIR_TO_BUTTON, pkt, (size_t)len,
				     pkt + len);
		queue_fragments(f, pkt, (size_t)len + FG_FLIC2_MAC_LEN);
	}
}

static void send_simple(struct fg_flic2 *f, uint8_t opcode)
{
	struct fg_flic2_tx tx = { .opcode = opcode };

	send_signed(f, &tx);
}

static unsigned popcount(unsigned v)
{
	unsigned n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

static void send_request(struct fg_flic2 *f, enum request req, uint64_t now)
{
	struct fg_flic2_tx tx = { .opcode = request_opcode[req] };

	if (req == REQ_INIT) {
		tx.init_events.event_count = f->dedup.valid ? f->dedup.event_count : 0;
		tx.init_events.boot_id = f->dedup.valid ? f->dedup.boot_id : 0;
		tx.init_events.auto_disconnect_s = f->auto_disconnect_s;
		/*
		 * On reconnect, ask for every event queued while we were away
		 * (31 packets, any age: the maxima). A fresh pairing asks for
		 * none: those presses predate the pairing, e.g. the 7 s hold.
		 */
		tx.init_events.max_queued_packets = f->fresh ? 0 : 31;
		tx.init_events.max_queued_age_s = 0xfffff;
	}
	send_signed(f, &tx);
	f->inflight |= 1u << req;
	f->request_deadline[req] = now + f->request_timeout_usec;
}

/* Send what is pending while fewer than MAX_INFLIGHT requests are open. */
static void pump_requests(struct fg_flic2 *f, uint64_t now)
{
	for (int req = 0; req < _REQ_MAX; req++) {
		if (!(f->pending & (1u << req)))
			continue;
		if (popcount(f->inflight) >= MAX_INFLIGHT)
			return;
		f->pending &= ~(1u << req);
		send_request(f, (enum request)req, now);
	}
}

static void queue_request(struct fg_flic2 *f, enum request req, uint64_t now)
{
	if ((f->pending | f->inflight) & (1u << req))
		return;
	f->pending |= 1u << req;
	pump_requests(f, now);
}

/* --- session teardown ---------------------------------------------------- */

static void wipe_session(struct fg_flic2 *f)
{
	fg_crypto_wipe(f->fvs, sizeof(f->fvs));
	fg_crypto_wipe(f->pairing_token, sizeof(f->pairing_token));
	fg_crypto_wipe(f->qv_random, sizeof(f->qv_random));
	fg_chaskey_wipe(&f->keys_session);
	fg_flic2_reassembler_reset(&f->reasm);
	fg_crypto_wipe(f->reasm.buf, sizeof(f->reasm.buf));
	f->conn_id = 0;
	f->tmp_id = 0;
	f->tx_counter = 0;
	f->rx_counter = 0;
	f->bad_mac_run = 0;
	f->fresh = false;
	f->init_done = false;
	f->queue_drained = false;
	f->verify_deadline = NO_DEADLINE;
	f->pending = 0;
	f->inflight = 0;
	for (int i = 0; i < _REQ_MAX; i++)
		f->request_deadline[i] = NO_DEADLINE;
}

/*
 * End the session with @reason: tell a verified button first so it frees
 * the logical connection, then FAILED and DISCONNECT for the adapter.
 */
static void fail(struct fg_flic2 *f, enum fg_flic2_failure reason, uint8_t detail)
{
	struct fg_flic2_action *a;

	if (f->phase == PH_ESTABLISHED && reason != FG_FLIC2_FAIL_LINK_CLOSED)
		send_simple(f, FG_FLIC2_TX_DISCONNECT_VERIFIED_LINK);
	a = push(f, FG_FLIC2_ACTION_FAILED);
	if (a) {
		a->failed.reason = reason;
		a->failed.detail = detail;
	}
	push(f, FG_FLIC2_ACTION_DISCONNECT);
	f->counters.failures++;
	wipe_session(f);
	if (reason == FG_FLIC2_FAIL_REPAIR_NEEDED) {
		/* the stored key is worthless now; forget it */
		fg_crypto_wipe(f->pairing.pairing_key, sizeof(f->pairing.pairing_key));
		f->paired = false;
		f->phase = PH_REPAIR_NEEDED;
	} else {
		f->phase = PH_CLOSING;
	}
}

/* --- lifecycle ------------------------------------------------------------------- */

int fg_flic2_new(const struct fg_flic2_params *p, struct fg_flic2 **ret)
{
	struct fg_flic2 *f;

	if (!p || !p->rng || !p->trusted_keys || p->n_trusted_keys == 0 ||
	    p->n_trusted_keys > 64 || p->auto_disconnect_s > 511 ||
	    (int)p->mode < 0 || p->mode >= _FG_FLIC2_MODE_MAX ||
	    (p->mode == FG_FLIC2_MODE_RECONNECT && !p->pairing))
		return -EINVAL;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->keys = calloc(p->n_trusted_keys, sizeof(f->keys[0]));
	if (!f->keys) {
		free(f);
		return -ENOMEM;
	}
	memcpy(f->keys, p->trusted_keys, p->n_trusted_keys * sizeof(f->keys[0]));
	f->n_keys = p->n_trusted_keys;
	f->rng = p->rng;
	f->rng_userdata = p->rng_userdata;
	f->auto_disconnect_s = p->auto_disconnect_s ? p->auto_disconnect_s
						    : DEFAULT_AUTO_DISCONNECT_S;
	f->verify_timeout_usec = p->verify_timeout_usec ? p->verify_timeout_usec
							: DEFAULT_VERIFY_TIMEOUT_USEC;
	f->request_timeout_usec = p->request_timeout_usec ? p->request_timeout_usec
							  : DEFAULT_REQUEST_TIMEOUT_USEC;
	if (p->mode == FG_FLIC2_MODE_RECONNECT) {
		f->pairing = *p->pairing;
		f->paired = true;
		memcpy(f->address, p->pairing->address, 6);
		f->dedup = p->dedup;
	} else {
		memcpy(f->address, p->address, 6);
	}
	f->phase = PH_IDLE;
	wipe_session(f);
	*ret = f;
	return 0;
}

struct fg_flic2 *fg_flic2_free(struct fg_flic2 *f)
{
	if (!f)
		return NULL;
	fg_crypto_wipe(f->keys, f->n_keys * sizeof(f->keys[0]));
	free(f->keys);
	fg_crypto_wipe(f, sizeof(*f));
	free(f);
	return NULL;
}

static int random_bytes(struct fg_flic2 *f, void *buf, size_t len)
{
	int r = f->rng(f->rng_userdata, buf, len);

	if (r < 0) {
		set_error(f, "random number generator failed (%d)", r);
		fail(f, FG_FLIC2_FAIL_INTERNAL, 0);
	}
	return r;
}

static void send_full_verify1(struct fg_flic2 *f)
{
	struct fg_flic2_tx tx = {
		.opcode = FG_FLIC2_TX_FULL_VERIFY_REQUEST_1,
		.fv_request1.tmp_id = f->tmp_id,
	};

	send_unsigned(f, &tx);
}

int fg_flic2_connected(struct fg_flic2 *f, unsigned mtu, uint64_t now)
{
	uint8_t buf[4];

	if (f->phase == PH_REPAIR_NEEDED)
		return -ESTALE;
	if (f->phase != PH_IDLE)
		return -EISCONN;
	if (queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;

	wipe_session(f);
	f->mtu = mtu < FG_FLIC2_MTU_MIN ? FG_FLIC2_MTU_MIN :
		 mtu > FG_FLIC2_MTU_MAX ? FG_FLIC2_MTU_MAX : mtu;
	f->verify_deadline = now + f->verify_timeout_usec;

	if (!f->paired) {
		f->phase = PH_WAIT_FV1;
		if (random_bytes(f, buf, 4) < 0)
			return 0;
		f->tmp_id = fg_flic2_le32(buf);
		send_full_verify1(f);
	} else {
		struct fg_flic2_tx tx = { .opcode = FG_FLIC2_TX_QUICK_VERIFY_REQUEST };

		f->phase = PH_WAIT_QV;
		/* order matters for reproducible transcripts: nonce, then tmp id */
		if (random_bytes(f, f->qv_random, sizeof(f->qv_random)) < 0 ||
		    random_bytes(f, buf, 4) < 0)
			return 0;
		f->tmp_id = fg_flic2_le32(buf);
		memcpy(tx.qv_request.random, f->qv_random, 7);
		tx.qv_request.flags = 0;	/* signature/encryption variant 0, no Duo */
		tx.qv_request.tmp_id = f->tmp_id;
		tx.qv_request.pairing_id = f->pairing.pairing_id;
		send_unsigned(f, &tx);
	}
	return 0;
}

void fg_flic2_disconnected(struct fg_flic2 *f, uint64_t now)
{
	wipe_session(f);
	purge_link_actions(f);
	if (f->phase != PH_REPAIR_NEEDED)
		f->phase = PH_IDLE;
}

/* --- verification ------------------------------------------------------------ */

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

static int on_full_verify_response1(struct fg_flic2 *f, uint8_t header,
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
		set_error(f, "FullVerifyResponse1 for another tmp id");
		return 0;
	}
	if ((header & FG_FLIC2_HDR_CONN_ID_MASK) == 0) {
		set_error(f, "FullVerifyResponse1 assigned no connection id");
		fail(f, FG_FLIC2_FAIL_PROTOCOL, FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1);
		return 0;
	}
	f->conn_id = header & FG_FLIC2_HDR_CONN_ID_MASK;

	/* the certificate must name the device we are connected to */
	wire_address(f->address, expect);
	if (memcmp(rx->fv_response1.address, expect, 6) != 0 ||
	    rx->fv_response1.address_type != 0) {
		set_error(f, "certificate is for another address");
		fail(f, FG_FLIC2_FAIL_NOT_GENUINE, 0);
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
		set_error(f, "certificate not signed by a trusted key");
		fail(f, FG_FLIC2_FAIL_NOT_GENUINE, 1);
		return 0;
	}
	if (r < 0) {
		set_error(f, "identity check failed (%d)", r);
		fail(f, FG_FLIC2_FAIL_INTERNAL, 1);
		return 0;
	}
	if (f->phase == PH_WAIT_FV1 && !(rx->fv_response1.flags & FG_FLIC2_FV1_PUBLIC_MODE)) {
		set_error(f, "button is not in public mode");
		fail(f, FG_FLIC2_FAIL_NOT_PAIRABLE, 0);
		return 0;
	}

	/* our ephemeral key, then our nonce: the transcript order */
	if (random_bytes(f, priv, sizeof(priv)) < 0 ||
	    random_bytes(f, client_random, sizeof(client_random)) < 0)
		goto out;
	r = fg_crypto_x25519_shared(priv, rx->fv_response1.ecdh_public, shared);
	if (r == -EINVAL) {
		set_error(f, "button sent a low-order X25519 key");
		fail(f, FG_FLIC2_FAIL_NOT_GENUINE, 4);
		goto out;
	}
	/* the flags byte we send in FullVerifyRequest2 is 0 */
	if (r < 0 || fg_crypto_flic2_full_verify_secret(shared, (uint8_t)variant,
						       rx->fv_response1.random, client_random,
						       0, f->fvs) < 0) {
		set_error(f, "key agreement failed");
		fail(f, FG_FLIC2_FAIL_INTERNAL, 2);
		goto out;
	}
	if (f->phase == PH_WAIT_FV1) {
		struct fg_flic2_tx tx = { .opcode = FG_FLIC2_TX_FULL_VERIFY_REQUEST_2 };

		if (fg_crypto_x25519_public(priv, tx.fv_request2.ecdh_public) < 0 ||
		    !hmac16(f, label_at, 2, tx.fv_request2.verifier) ||
		    !hmac16(f, label_sk, 2, sk)) {
			set_error(f, "key derivation failed");
			fail(f, FG_FLIC2_FAIL_INTERNAL, 3);
			goto out;
		}
		memcpy(tx.fv_request2.random, client_random, 8);
		tx.fv_request2.flags = 0;
		fg_chaskey_subkeys(&f->keys_session, sk);
		memcpy(f->pairing.identity_key, f->keys[key_index], 32);
		send_unsigned(f, &tx);
		f->phase = PH_WAIT_FV2;
	} else {
		struct fg_flic2_tx tx = { .opcode = FG_FLIC2_TX_TEST_IF_REALLY_UNPAIRED };

		if (fg_crypto_x25519_public(priv, tx.test_unpaired.ecdh_public) < 0 ||
		    !make_pairing_token(f)) {
			set_error(f, "key derivation failed");
			fail(f, FG_FLIC2_FAIL_INTERNAL, 3);
			goto out;
		}
		memcpy(tx.test_unpaired.random, client_random, 8);
		tx.test_unpaired.pairing_id = f->pairing.pairing_id;
		memcpy(tx.test_unpaired.pairing_token, f->pairing_token, 16);
		send_unsigned(f, &tx);
		f->phase = PH_WAIT_TEST;
	}
out:
	fg_crypto_wipe(priv, sizeof(priv));
	fg_crypto_wipe(shared, sizeof(shared));
	fg_crypto_wipe(sk, sizeof(sk));
	return 0;
}

/* Printable ASCII up to the first NUL; anything else becomes '?'. */
static void sanitize_serial(const uint8_t *in, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && in[i] && n + 1 < size; i++)
		out[n++] = in[i] > 0x20 && in[i] < 0x7f ? (char)in[i] : '?';
	out[n] = '\0';
}

/* Length of the valid UTF-8 sequence at @p (1..4), 0 if invalid. */
static size_t utf8_len(const uint8_t *p, size_t left)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong, surrogate, beyond Unicode */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

bool fg_flic2_name_is_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len > FG_FLIC2_NAME_MAX)
		return false;
	for (size_t i = 0; i < len;) {
		size_t l = utf8_len((const uint8_t *)name + i, len - i);

		if (l == 0 || (l == 1 && ((uint8_t)name[i] < 0x20 || name[i] == 0x7f)))
			return false;
		i += l;
	}
	return true;
}

bool fg_flic2_serial_is_valid(const char *serial)
{
	size_t len;

	if (!serial)
		return false;
	len = strlen(serial);
	if (len > FG_FLIC2_SERIAL_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)serial[i] <= 0x20 || (uint8_t)serial[i] >= 0x7f)
			return false;
	return true;
}

/*
 * Names travel on D-Bus and into logs and webhooks: keep valid UTF-8 and
 * replace control characters and broken sequences by '?'.
 */
static void sanitize_name(const uint8_t *in, size_t len, char out[24])
{
	size_t n = 0;

	if (len > FG_FLIC2_NAME_MAX)
		len = FG_FLIC2_NAME_MAX;
	for (size_t i = 0; i < len;) {
		size_t l = utf8_len(in + i, len - i);

		if (l == 0 || (l == 1 && (in[i] < 0x20 || in[i] == 0x7f))) {
			out[n++] = '?';
			i++;
			continue;
		}
		memcpy(out + n, in + i, l);
		n += l;
		i += l;
	}
	out[n] = '\0';
}

static bool mac_ok(struct fg_flic2 *f, const uint8_t *pkt, size_t len)
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
	push(f, FG_FLIC2_ACTION_VERIFIED);
	queue_request(f, REQ_INIT, now);
}

static int on_full_verify_response2(struct fg_flic2 *f, const struct fg_flic2_rx *rx,
				    uint64_t now)
{
	static const uint8_t label_pk[2] = { 'P', 'K' };
	struct fg_flic2_action *a;
	uint8_t pk[32];
	int r;

	if (!(rx->fv_response2.flags & FG_FLIC2_FV2_APP_CREDENTIALS_MATCH) &&
	    (rx->fv_response2.flags & FG_FLIC2_FV2_CARES_ABOUT_APP_CREDENTIALS)) {
		set_error(f, "button requires app credentials");
		fail(f, FG_FLIC2_FAIL_APP_CREDENTIALS, 0);
		return 0;
	}
	/* pairing id = PK[0..4] (LE), pairing key = PK[4..20] */
	r = fg_crypto_hmac_sha256(f->fvs, sizeof(f->fvs), label_pk, 2, pk);
	if (r < 0) {
		set_error(f, "key derivation failed");
		fail(f, FG_FLIC2_FAIL_INTERNAL, 3);
		return 0;
	}
	memcpy(f->pairing.address, f->address, 6);
	f->pairing.pairing_id = fg_flic2_le32(pk);
	memcpy(f->pairing.pairing_key, pk + 4, 16);
	fg_crypto_wipe(pk, sizeof(pk));
	memcpy(f->pairing.uuid, rx->fv_response2.uuid, 16);
	sanitize_serial(rx->fv_response2.serial, FG_FLIC2_SERIAL_LEN, f->pairing.serial,
			sizeof(f->pairing.serial));
	sanitize_name(rx->fv_response2.name, rx->fv_response2.name_len, f->pairing.name);
	f->pairing.firmware_version = rx->fv_response2.firmware_version;
	f->pairing.battery_mv = fg_flic2_battery_mv(rx->fv_response2.battery_level);
	f->paired = true;
	fg_crypto_wipe(f->fvs, sizeof(f->fvs));

	/* a new pairing starts a new event history */
	f->dedup.valid = false;
	f->dedup.boot_id = 0;
	f->dedup.event_count = 0;
	f->fresh = true;

	a = push(f, FG_FLIC2_ACTION_PAIRED);
	if (a)
		a->paired = f->pairing;
	a = push(f, FG_FLIC2_ACTION_BATTERY);
	if (a)
		a->battery_mv = f->pairing.battery_mv;
	session_verified(f, now);
	return 0;
}

static int on_quick_verify_response(struct fg_flic2 *f, uint8_t header,
				    const uint8_t *pkt, size_t len,
				    const struct fg_flic2_rx *rx, uint64_t now)
{
	struct fg_chaskey_keys pairing_keys;
	uint8_t seed[16], sk[16];

	if (rx->qv_response.tmp_id != f->tmp_id) {
		f->counters.rx_foreign++;
		set_error(f, "QuickVerifyResponse for another tmp id");
		return 0;
	}
	if ((header & FG_FLIC2_HDR_CONN_ID_MASK) == 0) {
		set_error(f, "QuickVerifyResponse assigned no connection id");
		fail(f, FG_FLIC2_FAIL_PROTOCOL, FG_FLIC2_RX_QUICK_VERIFY_RESPONSE);
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

	if (!mac_ok(f, pkt, len)) {
		f->counters.rx_bad_mac++;
		set_error(f, "QuickVerifyResponse MAC does not match the stored key");
		fail(f, FG_FLIC2_FAIL_KEY_MISMATCH, 0);
		return -EBADMSG;
	}
	f->rx_counter++;
	fg_crypto_wipe(f->qv_random, sizeof(f->qv_random));
	session_verified(f, now);
	return 0;
}

static int on_test_unpaired_response(struct fg_flic2 *f, const struct fg_flic2_rx *rx)
{
	uint8_t msg[2 + 16], expect[16];
	bool ok;

	/* "NE" (not existing): the button does not know our pairing */
	msg[0] = 'N';
	msg[1] = 'E';
	memcpy(msg + 2, f->pairing_token, 16);
	ok = hmac16(f, msg, sizeof(msg), expect);
	if (ok && fg_crypto_equal(expect, rx->test_unpaired.result, 16)) {
		set_error(f, "the button no longer has this pairing");
		fail(f, FG_FLIC2_FAIL_REPAIR_NEEDED, 0);
		return 0;
	}
	/* "EX" (existing): it does, yet refused quick verify */
	msg[0] = 'E';
	msg[1] = 'X';
	ok = ok && hmac16(f, msg, sizeof(msg), expect);
	if (ok && fg_crypto_equal(expect, rx->test_unpaired.result, 16)) {
		set_error(f, "button holds the pairing but refused quick verify");
		fail(f, FG_FLIC2_FAIL_PROTOCOL, FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED);
		return 0;
	}
	set_error(f, "TestIfReallyUnpairedResponse proves nothing");
	fail(f, ok ? FG_FLIC2_FAIL_NOT_GENUINE : FG_FLIC2_FAIL_INTERNAL, 3);
	return 0;
}

/* --- the verified session ---------------------------------------------------- */

static void persist_dedup(struct fg_flic2 *f)
{
	struct fg_flic2_action *a = push(f, FG_FLIC2_ACTION_STATE_TO_PERSIST);

	if (a)
		a->dedup = f->dedup;
}

/* All events queued before this session are out: the normal requests follow. */
static void after_queue_drained(struct fg_flic2 *f, uint64_t now)
{
	struct fg_flic2_tx tx = {
		.opcode = FG_FLIC2_TX_SET_CONNECTION_PARAMETERS,
		.conn_params = {
			.interval_min = CONN_INTERVAL_MIN,
			.interval_max = CONN_INTERVAL_MAX,
			.latency = CONN_LATENCY,
			.timeout = CONN_TIMEOUT,
		},
	};

	if (f->queue_drained)
		return;
	f->queue_drained = true;
	send_signed(f, &tx);
	if (!f->fresh) {
		/* pairing already told us these; a reconnect refreshes them */
		queue_request(f, REQ_BATTERY, now);
		queue_request(f, REQ_FIRMWARE, now);
		queue_request(f, REQ_NAME, now);
	}
}

static void on_init_response(struct fg_flic2 *f, const struct fg_flic2_rx *rx, uint64_t now)
{
	bool changed = false;

	f->inflight &= ~(1u << REQ_INIT);
	f->request_deadline[REQ_INIT] = NO_DEADLINE;
	f->init_done = true;
	f->base_button_time = rx->init_events.timestamp;
	f->base_usec = now;

	if (rx->init_events.has_boot_id && !f->fresh && f->dedup.valid &&
	    rx->init_events.boot_id == f->dedup.boot_id) {
		/*
		 * "New boot" naming the boot we already know contradicts
		 * itself; keeping the counter is the safe reading, since
		 * resetting it would report old events a second time.
		 */
	} else if (rx->init_events.has_boot_id) {
		/*
		 * A boot id we did not know: either a fresh pairing (take its
		 * counter as the start: older presses predate the pairing) or
		 * the button rebooted and counts from zero again.
		 */
		f->dedup.boot_id = rx->init_events.boot_id;
		f->dedup.event_count = f->fresh ? rx->init_events.event_count : 0;
		f->dedup.valid = true;
		changed = true;
	} else if (!f->dedup.valid) {
		f->dedup.boot_id = 0;
		f->dedup.event_count = f->fresh ? rx->init_events.event_count : 0;
		f->dedup.valid = true;
		changed = true;
	}
	if (changed)
		persist_dedup(f);
	if (!rx->init_events.has_queued_events)
		after_queue_drained(f, now);
	pump_requests(f, now);
}

/* 48-bit button ticks (32768 Hz) to microseconds, without overflow. */
static uint64_t ticks_to_usec(uint64_t ticks)
{
	return (ticks >> 15) * 1000000u + ((ticks & 0x7fff) * 1000000u >> 15);
}

enum item_kind { ITEM_UP, ITEM_DOWN, ITEM_SINGLE_CLICK_TIMEOUT, ITEM_HOLD };

struct item_info {
	enum item_kind kind;
	bool was_hold, single, dbl, double_pending;
};

/*
 * Event codes: 8..15 are "up" with flags (bit 2 the press was a hold,
 * bit 1 decided: bit 0 double else single); below 8 the low two bits say
 * up (0), down (1), single-click timeout (2) or hold (3), and 7 is a hold
 * that ends a double click.
 */
static struct item_info classify(uint8_t code)
{
	struct item_info i = { 0 };

	if (code >> 3) {
		i.kind = ITEM_UP;
		i.was_hold = code & 4;
		i.single = (code & 2) && !(code & 1);
		i.dbl = (code & 2) && (code & 1);
		return i;
	}
	switch (code & 3) {
	case 0:
		i.kind = ITEM_UP;
		break;
	case 1:
		i.kind = ITEM_DOWN;
		break;
	case 2:
		i.kind = ITEM_SINGLE_CLICK_TIMEOUT;
		break;
	default:
		i.kind = ITEM_HOLD;
		i.double_pending = code == 7;
		break;
	}
	return i;
}

/*
 * Every press owns four counter values: down = 1, hold = 2, up = 3 and
 * single-click timeout = 0 (mod 4), used or not. The notification carries
 * the counter of its last item; walking backwards, each earlier item sits
 * one or two steps lower depending on which slots were skipped. False when
 * the counter would run below zero (impossible for a genuine button).
 */
static bool item_counters(const struct fg_flic2_rx *rx, uint32_t counters[])
{
	uint32_t ec = rx->events.press_counter;

	counters[rx->events.n - 1] = ec;
	for (size_t i = rx->events.n - 1; i-- > 0;) {
		struct item_info info = classify(rx->events.items[i].code);
		uint32_t step;

		switch (ec % 4) {
		case 0:		/* after a timeout comes... it follows an up */
		case 2:		/* a hold follows its down */
			step = 1;
			break;
		case 1:		/* a down follows a timeout, or an up (timeout skipped) */
			step = info.kind == ITEM_SINGLE_CLICK_TIMEOUT ? 1 : 2;
			break;
		default:	/* an up follows a hold, or a down (hold skipped) */
			step = info.kind == ITEM_HOLD ? 1 : 2;
			break;
		}
		if (ec < step)
			return false;
		ec -= step;
		counters[i] = ec;
	}
	return true;
}

static void report(struct fg_flic2 *f, enum fg_gesture g, uint32_t count,
		   const struct fg_flic2_event_item *item, uint64_t press,
		   uint64_t now, bool double_pending)
{
	struct fg_flic2_action *a = push(f, FG_FLIC2_ACTION_BUTTON_EVENT);

	if (!a)
		return;
	a->button.gesture = g;
	a->button.boot_id = f->dedup.boot_id;
	a->button.event_count = count;
	a->button.button_time = item->timestamp;
	a->button.press_usec = press;
	a->button.age_usec = now - press;
	a->button.queued = item->queued;
	a->button.double_click_pending = double_pending;
	f->counters.events_reported++;
}

/* When the item happened on our clock. */
static uint64_t press_time(struct fg_flic2 *f, const struct fg_flic2_event_item *item,
			   uint64_t now)
{
	uint64_t t;

	if (!item->queued) {
		/*
		 * Live events arrive within one connection interval: take now,
		 * and re-anchor the clock mapping so crystal drift over a long
		 * session never ages later queued-looking events.
		 */
		f->base_button_time = item->timestamp;
		f->base_usec = now;
		return now;
	}
	if (item->timestamp <= f->base_button_time) {
		uint64_t ago = ticks_to_usec(f->base_button_time - item->timestamp);

		t = ago < f->base_usec ? f->base_usec - ago : 0;
	} else {
		t = f->base_usec + ticks_to_usec(item->timestamp - f->base_button_time);
	}
	return t > now ? now : t;
}

static int on_button_events(struct fg_flic2 *f, const struct fg_flic2_rx *rx, uint64_t now)
{
	uint32_t counters[FG_FLIC2_MAX_EVENT_ITEMS];
	bool ack = false, any_new = false, drained = false;

	if (!item_counters(rx, counters)) {
		f->counters.rx_unexpected++;
		set_error(f, "ButtonEventNotification counter %u below its %zu items",
			  rx->events.press_counter, rx->events.n);
		return -EBADMSG;
	}
	for (size_t i = 0; i < rx->events.n; i++) {
		const struct fg_flic2_event_item *item = &rx->events.items[i];
		struct item_info info = classify(item->code);
		uint64_t press = press_time(f, item, now);

		if ((info.kind == ITEM_UP && (info.single || info.dbl)) ||
		    info.kind == ITEM_SINGLE_CLICK_TIMEOUT)
			ack = true;
		if (item->queued_last)
			drained = true;

		if (counters[i] <= f->dedup.event_count) {
			/* already reported in this boot, maybe before a restart */
			f->counters.events_duplicate++;
			continue;
		}
		f->dedup.event_count = counters[i];
		any_new = true;
		switch (info.kind) {
		case ITEM_UP:
			report(f, FG_GESTURE_UP, counters[i], item, press, now, false);
			if (!info.was_hold)
				report(f, FG_GESTURE_CLICK, counters[i], item, press, now, false);
			if (info.single)
				report(f, FG_GESTURE_SINGLE_CLICK, counters[i], item, press, now, false);
			if (info.dbl)
				report(f, FG_GESTURE_DOUBLE_CLICK, counters[i], item, press, now, false);
			break;
		case ITEM_DOWN:
			report(f, FG_GESTURE_DOWN, counters[i], item, press, now, false);
			break;
		case ITEM_SINGLE_CLICK_TIMEOUT:
			report(f, FG_GESTURE_SINGLE_CLICK, counters[i], item, press, now, false);
			break;
		case ITEM_HOLD:
			report(f, FG_GESTURE_HOLD, counters[i], item, press, now,
			       info.double_pending);
			break;
		}
	}
	/* order: the events, their dedup state, then the acknowledgement */
	if (any_new)
		persist_dedup(f);
	if (ack) {
		struct fg_flic2_tx tx = {
			.opcode = FG_FLIC2_TX_ACK_BUTTON_EVENTS,
			.ack.event_count = rx->events.press_counter,
		};

		send_signed(f, &tx);
	}
	if (drained)
		after_queue_drained(f, now);
	return 0;
}

static void emit_name(struct fg_flic2 *f, const struct fg_flic2_rx *rx)
{
	struct fg_flic2_action *a;

	sanitize_name(rx->name.name, rx->name.len, f->pairing.name);
	a = push(f, FG_FLIC2_ACTION_NAME);
	if (a)
		memcpy(a->name, f->pairing.name, sizeof(a->name));
}

static bool take_response(struct fg_flic2 *f, enum request req, uint8_t opcode)
{
	if (!(f->inflight & (1u << req))) {
		f->counters.rx_unexpected++;
		set_error(f, "unsolicited %s", fg_flic2_rx_opcode_to_string(opcode));
		return false;
	}
	f->inflight &= ~(1u << req);
	f->request_deadline[req] = NO_DEADLINE;
	return true;
}

static int on_session_packet(struct fg_flic2 *f, const uint8_t *pkt, size_t len,
			     uint64_t now);

static void count_decode_error(struct fg_flic2 *f, int r, const uint8_t *pkt, size_t len)
{
	const char *name = len ? fg_flic2_rx_opcode_to_string(pkt[0]) : NULL;

	if (r == -EOPNOTSUPP) {
		f->counters.rx_unknown++;
		set_error(f, "unknown opcode %u (%zu bytes)", len ? pkt[0] : 0, len);
	} else if (r == -EMSGSIZE) {
		f->counters.rx_long++;
		set_error(f, "long %s (%zu bytes)", name ? name : "packet", len);
	} else {
		f->counters.rx_short++;
		set_error(f, "short %s (%zu bytes)", name ? name : "packet", len);
	}
}

/* Decode; on error count it. */
static int decode(struct fg_flic2 *f, const uint8_t *pkt, size_t len, struct fg_flic2_rx *rx)
{
	int r = fg_flic2_decode_rx(pkt, len, rx);

	if (r < 0) {
		count_decode_error(f, r, pkt, len);
		return -EBADMSG;
	}
	if (rx->trailing)
		f->counters.rx_trailing++;
	return 0;
}

static int unexpected(struct fg_flic2 *f, uint8_t opcode)
{
	const char *name = fg_flic2_rx_opcode_to_string(opcode);

	f->counters.rx_unexpected++;
	set_error(f, "unexpected %s", name ? name : "packet");
	return 0;
}

static int on_no_slots(struct fg_flic2 *f, const struct fg_flic2_rx *rx)
{
	for (size_t i = 0; i < rx->no_slots.n; i++) {
		if (rx->no_slots.tmp_ids[i] == f->tmp_id) {
			set_error(f, "the button has no free logical connection");
			fail(f, FG_FLIC2_FAIL_NO_SLOTS, 0);
			return 0;
		}
	}
	f->counters.rx_foreign++;
	return 0;
}

/* A complete packet: dispatch on the phase. */
static int on_packet(struct fg_flic2 *f, uint8_t header, const uint8_t *pkt, size_t len,
		     uint64_t now)
{
	struct fg_flic2_rx rx;
	uint8_t conn = header & FG_FLIC2_HDR_CONN_ID_MASK;
	int r;

	f->counters.rx_packets++;
	switch (f->phase) {
	case PH_WAIT_FV1:
	case PH_WAIT_FV1_TEST:
		r = decode(f, pkt, len, &rx);
		if (r < 0)
			return r;
		if (rx.opcode == FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS)
			return on_no_slots(f, &rx);
		if (rx.opcode != FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1)
			return unexpected(f, rx.opcode);
		return on_full_verify_response1(f, header, &rx);

	case PH_WAIT_QV:
		if (len > 0 && pkt[0] == FG_FLIC2_RX_QUICK_VERIFY_RESPONSE) {
			/* signed: check the layout before the MAC */
			if (len < FG_FLIC2_LEN_QV_RESPONSE + FG_FLIC2_MAC_LEN) {
				count_decode_error(f, -EBADMSG, pkt, len);
				return -EBADMSG;
			}
			r = decode(f, pkt, len - FG_FLIC2_MAC_LEN, &rx);
			if (r < 0)
				return r;
			return on_quick_verify_response(f, header, pkt, len, &rx, now);
		}
		r = decode(f, pkt, len, &rx);
		if (r < 0)
			return r;
		if (rx.opcode == FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS)
			return on_no_slots(f, &rx);
		if (rx.opcode != FG_FLIC2_RX_QUICK_VERIFY_NEGATIVE)
			return unexpected(f, rx.opcode);
		if (rx.qv_negative.tmp_id != f->tmp_id) {
			f->counters.rx_foreign++;
			return 0;
		}
		/*
		 * The button does not accept our pairing id. Find out whether
		 * it really lost the pairing: identity check, then a proof
		 * only a button without our pairing can give.
		 */
		fg_crypto_wipe(f->qv_random, sizeof(f->qv_random));
		f->phase = PH_WAIT_FV1_TEST;
		send_full_verify1(f);
		return 0;

	case PH_WAIT_FV2:
	case PH_WAIT_TEST:
		if (conn == 0) {
			f->counters.rx_foreign++;
			return 0;
		}
		if (f->phase == PH_WAIT_FV2 && len > 0 &&
		    pkt[0] == FG_FLIC2_RX_FULL_VERIFY_RESPONSE_2) {
			if (len < FG_FLIC2_LEN_FV_RESPONSE2 + FG_FLIC2_MAC_LEN) {
				count_decode_error(f, -EBADMSG, pkt, len);
				return -EBADMSG;
			}
			r = decode(f, pkt, len - FG_FLIC2_MAC_LEN, &rx);
			if (r < 0)
				return r;
			if (!mac_ok(f, pkt, len)) {
				f->counters.rx_bad_mac++;
				set_error(f, "FullVerifyResponse2 MAC does not match");
				fail(f, FG_FLIC2_FAIL_NOT_GENUINE, 3);
				return -EBADMSG;
			}
			f->rx_counter++;
			return on_full_verify_response2(f, &rx, now);
		}
		r = decode(f, pkt, len, &rx);
		if (r < 0)
			return r;
		if (f->phase == PH_WAIT_FV2 && rx.opcode == FG_FLIC2_RX_FULL_VERIFY_FAIL) {
			set_error(f, "button refused pairing (reason %u)", rx.fv_fail.reason);
			if (rx.fv_fail.reason == FG_FLIC2_FV_FAIL_INVALID_VERIFIER)
				fail(f, FG_FLIC2_FAIL_NOT_GENUINE, 2);
			else if (rx.fv_fail.reason == FG_FLIC2_FV_FAIL_NOT_IN_PUBLIC_MODE)
				fail(f, FG_FLIC2_FAIL_NOT_PAIRABLE, 1);
			else
				fail(f, FG_FLIC2_FAIL_PROTOCOL, rx.fv_fail.reason);
			return 0;
		}
		if (f->phase == PH_WAIT_TEST && rx.opcode == FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED)
			return on_test_unpaired_response(f, &rx);
		return unexpected(f, rx.opcode);

	case PH_ESTABLISHED:
		if (conn == 0) {
			/* meant for a client that has no logical connection yet */
			f->counters.rx_foreign++;
			return 0;
		}
		return on_session_packet(f, pkt, len, now);

	case PH_IDLE:
	case PH_CLOSING:
	case PH_REPAIR_NEEDED:
		break;
	}
	return -ENOTCONN;
}

static int on_session_packet(struct fg_flic2 *f, const uint8_t *pkt, size_t len,
			     uint64_t now)
{
	struct fg_flic2_rx rx;
	int r;

	if (len < 1 + FG_FLIC2_MAC_LEN) {
		count_decode_error(f, -EBADMSG, pkt, len);
		return -EBADMSG;
	}
	if (!mac_ok(f, pkt, len)) {
		/*
		 * Forged, replayed (its counter is behind) or corrupted. The
		 * counter does not advance, so noise cannot desynchronise us;
		 * a real desynchronisation fails every packet and ends the
		 * session after a few.
		 */
		f->counters.rx_bad_mac++;
		set_error(f, "session MAC mismatch (opcode %u, %zu bytes)", pkt[0], len);
		if (++f->bad_mac_run >= MAX_BAD_MAC_RUN)
			fail(f, FG_FLIC2_FAIL_BAD_MAC, 0);
		return -EBADMSG;
	}
	f->rx_counter++;
	f->bad_mac_run = 0;
	r = decode(f, pkt, len - FG_FLIC2_MAC_LEN, &rx);
	if (r < 0)
		return r;

	switch (rx.opcode) {
	case FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID:
	case FG_FLIC2_RX_INIT_EVENTS_WITHOUT_BOOT_ID:
		if (!take_response(f, REQ_INIT, rx.opcode))
			return 0;
		on_init_response(f, &rx, now);
		return 0;
	case FG_FLIC2_RX_BUTTON_EVENTS:
		if (!f->init_done)
			return unexpected(f, rx.opcode);
		return on_button_events(f, &rx, now);
	case FG_FLIC2_RX_PING_REQUEST:
		send_simple(f, FG_FLIC2_TX_PING_RESPONSE);
		return 0;
	case FG_FLIC2_RX_BATTERY_LEVEL:
		if (take_response(f, REQ_BATTERY, rx.opcode)) {
			struct fg_flic2_action *a = push(f, FG_FLIC2_ACTION_BATTERY);

			if (a)
				a->battery_mv = fg_flic2_battery_mv(rx.battery.level);
		}
		break;
	case FG_FLIC2_RX_FIRMWARE_VERSION:
		if (take_response(f, REQ_FIRMWARE, rx.opcode)) {
			struct fg_flic2_action *a = push(f, FG_FLIC2_ACTION_FIRMWARE);

			f->pairing.firmware_version = rx.firmware.version;
			if (a)
				a->firmware_version = rx.firmware.version;
		}
		break;
	case FG_FLIC2_RX_GET_NAME_RESPONSE:
		if (take_response(f, REQ_NAME, rx.opcode))
			emit_name(f, &rx);
		break;
	case FG_FLIC2_RX_NAME_UPDATED:
		emit_name(f, &rx);
		break;
	case FG_FLIC2_RX_DISCONNECTED_VERIFIED_LINK:
		set_error(f, "button closed the verified link (reason %u)",
			  rx.link_closed.reason);
		fail(f, FG_FLIC2_FAIL_LINK_CLOSED, rx.link_closed.reason);
		return 0;
	default:
		/* authentic but not for us: handshake leftovers, firmware, HID… */
		return unexpected(f, rx.opcode);
	}
	pump_requests(f, now);
	return 0;
}

/*
 * Logical connection filter, per fragment, as the official clients do: a
 * header with another client's id, or assigning an id while we have one,
 * is not ours.
 */
static bool header_is_ours(const struct fg_flic2 *f, uint8_t header)
{
	uint8_t conn = header & FG_FLIC2_HDR_CONN_ID_MASK;

	if (header & FG_FLIC2_HDR_NEWLY_ASSIGNED)
		return f->conn_id == 0;
	return conn == 0 || conn == f->conn_id;
}

static bool in_session(const struct fg_flic2 *f)
{
	switch (f->phase) {
	case PH_WAIT_FV1:
	case PH_WAIT_FV2:
	case PH_WAIT_QV:
	case PH_WAIT_FV1_TEST:
	case PH_WAIT_TEST:
	case PH_ESTABLISHED:
		return true;
	case PH_IDLE:
	case PH_CLOSING:
	case PH_REPAIR_NEEDED:
		break;
	}
	return false;
}

int fg_flic2_receive(struct fg_flic2 *f, const uint8_t *data, size_t len, uint64_t now)
{
	const uint8_t *pkt;
	uint8_t header;
	size_t pkt_len;
	int r;

	f->counters.rx_notifications++;
	if (!in_session(f))
		return -ENOTCONN;
	if (queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;
	if (len == 0 || !data) {
		f->counters.rx_short++;
		set_error(f, "empty notification");
		return -EBADMSG;
	}
	if (!header_is_ours(f, data[0])) {
		f->counters.rx_foreign++;
		set_error(f, "fragment for logical connection %u", data[0] & FG_FLIC2_HDR_CONN_ID_MASK);
		return 0;
	}
	r = fg_flic2_reassembler_feed(&f->reasm, data, len, &header, &pkt, &pkt_len);
	if (r == 0)
		return 0;
	if (r < 0) {
		if (r == -EMSGSIZE) {
			f->counters.rx_long++;
			set_error(f, "packet over %d bytes", FG_FLIC2_MAX_PACKET);
		} else if (r == -EBADMSG) {
			f->counters.rx_short++;
			set_error(f, "fragment without packet bytes");
		} else {
			f->counters.rx_fragment_errors++;
			set_error(f, "fragment switched logical connection");
		}
		return -EBADMSG;
	}
	return on_packet(f, header, pkt, pkt_len, now);
}

int fg_flic2_timeout(struct fg_flic2 *f, uint64_t now)
{
	if (queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;
	if (!in_session(f))
		return 0;
	if (f->phase != PH_ESTABLISHED) {
		if (now >= f->verify_deadline) {
			set_error(f, "no answer while %s",
				  fg_flic2_state_to_string(fg_flic2_get_state(f)));
			fail(f, FG_FLIC2_FAIL_TIMEOUT, 0);
		}
		return 0;
	}
	for (int req = 0; req < _REQ_MAX; req++) {
		if ((f->inflight & (1u << req)) && now >= f->request_deadline[req]) {
			set_error(f, "no answer to %s",
				  fg_flic2_tx_opcode_to_string(request_opcode[req]));
			fail(f, FG_FLIC2_FAIL_TIMEOUT, request_opcode[req]);
			return 0;
		}
	}
	return 0;
}

uint64_t fg_flic2_next_deadline(const struct fg_flic2 *f)
{
	uint64_t d = NO_DEADLINE;

	if (!in_session(f))
		return NO_DEADLINE;
	if (f->phase != PH_ESTABLISHED)
		return f->verify_deadline;
	for (int req = 0; req < _REQ_MAX; req++)
		if ((f->inflight & (1u << req)) && f->request_deadline[req] < d)
			d = f->request_deadline[req];
	return d;
}

static int request(struct fg_flic2 *f, enum request req, uint64_t now)
{
	if (f->phase != PH_ESTABLISHED)
		return -ENOTCONN;
	if (queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;
	queue_request(f, req, now);
	return 0;
}

int fg_flic2_request_battery(struct fg_flic2 *f, uint64_t now)
{
	return request(f, REQ_BATTERY, now);
}

int fg_flic2_request_name(struct fg_flic2 *f, uint64_t now)
{
	return request(f, REQ_NAME, now);
}

int fg_flic2_request_firmware(struct fg_flic2 *f, uint64_t now)
{
	return request(f, REQ_FIRMWARE, now);
}

int fg_flic2_request_disconnect(struct fg_flic2 *f, uint64_t now)
{
	if (!in_session(f))
		return -ENOTCONN;
	if (queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;
	if (f->phase == PH_ESTABLISHED) {
		send_simple(f, FG_FLIC2_TX_DISCONNECT_VERIFIED_LINK);
	} else if (f->phase == PH_WAIT_FV2) {
		/* the button assigned us a connection id: give it back */
		struct fg_flic2_tx tx = { .opcode = FG_FLIC2_TX_FULL_VERIFY_ABORT };

		send_unsigned(f, &tx);
	}
	push(f, FG_FLIC2_ACTION_DISCONNECT);
	wipe_session(f);
	f->phase = PH_CLOSING;
	return 0;
}
