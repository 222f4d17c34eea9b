/* SPDX-License-Identifier: MIT */
/*
 * What every part of the Flic 2 engine stands on: its action queue, sending
 * packets (fragments, signatures, requests), failing and wiping a session,
 * names and serials, the getters.
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

const uint8_t f2_request_opcode[_REQ_MAX] = {
	[REQ_INIT] = FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT,
	[REQ_ADV] = FG_FLIC2_TX_SET_ADV_PARAMETERS,
	[REQ_BATTERY] = FG_FLIC2_TX_GET_BATTERY_LEVEL,
	[REQ_FIRMWARE] = FG_FLIC2_TX_GET_FIRMWARE_VERSION,
	[REQ_NAME] = FG_FLIC2_TX_GET_NAME,
};

int fg_flic2_key_from_hex(const char *hex, uint8_t ret_key[32])
{
	return fg_unhex(hex, hex ? strlen(hex) : 0, ret_key, 32);
}

int fg_flic2_system_rng(void *buf, size_t len, void *userdata)
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
void f2_set_error(struct fg_flic2 *f, const char *fmt, ...)
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

size_t f2_queue_free(const struct fg_flic2 *f)
{
	return QUEUE_CAP - f->q_len;
}

/*
 * Inputs check QUEUE_RESERVE free slots before doing anything, and no input
 * queues more than that, so this never runs out; if it ever did, the action
 * is dropped rather than overwriting one.
 */
struct fg_flic2_action *f2_push(struct fg_flic2 *f, enum fg_flic2_action_kind kind)
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
void f2_purge_link_actions(struct fg_flic2 *f)
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

static void queue_fragments(struct fg_flic2 *f, const uint8_t *pkt, size_t len)
{
	uint8_t frag[FG_FLIC2_MAX_FRAGMENTS][FG_FLIC2_MAX_WRITE];
	size_t frag_len[FG_FLIC2_MAX_FRAGMENTS];
	int n;

	n = fg_flic2_fragment(f->conn_id, pkt, len, f->mtu, frag, frag_len);
	for (int i = 0; i < n; i++) {
		struct fg_flic2_action *a = f2_push(f, FG_FLIC2_ACTION_WRITE);

		if (!a)
			break;
		memcpy(a->write.data, frag[i], frag_len[i]);
		a->write.len = frag_len[i];
		f->counters.tx_writes++;
	}
	f->counters.tx_packets++;
}

void f2_send_unsigned(struct fg_flic2 *f, const struct fg_flic2_tx *tx)
{
	uint8_t pkt[FG_FLIC2_MAX_PACKET];
	int len = fg_flic2_encode_tx(tx, pkt, sizeof(pkt));

	/* our own packets always encode; the fuzzers check it */
	if (len > 0)
		queue_fragments(f, pkt, (size_t)len);
	fg_crypto_wipe(pkt, sizeof(pkt));
}

void f2_send_signed(struct fg_flic2 *f, const struct fg_flic2_tx *tx)
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

void f2_send_simple(struct fg_flic2 *f, uint8_t opcode)
{
	struct fg_flic2_tx tx = { .opcode = opcode };

	f2_send_signed(f, &tx);
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
	struct fg_flic2_tx tx = { .opcode = f2_request_opcode[req] };

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
	} else if (req == REQ_ADV) {
		tx.adv_params.active = true;
		tx.adv_params.remove_other_pairings = false;
		tx.adv_params.short_range = true;
		tx.adv_params.long_range = false;	/* BlueZ scans the 1M PHY */
		tx.adv_params.interval[0] = ADV_INTERVAL_FAST;
		tx.adv_params.interval[1] = ADV_INTERVAL_SLOW;
		tx.adv_params.timeout_s = ADV_TIMEOUT_S;
	}
	f2_send_signed(f, &tx);
	f->inflight |= 1u << req;
	f->request_deadline[req] = now + f->request_timeout_usec;
}

/* Send what is pending while fewer than MAX_INFLIGHT requests are open. */
void f2_pump_requests(struct fg_flic2 *f, uint64_t now)
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

void f2_queue_request(struct fg_flic2 *f, enum request req, uint64_t now)
{
	if ((f->pending | f->inflight) & (1u << req))
		return;
	f->pending |= 1u << req;
	f2_pump_requests(f, now);
}

void f2_wipe_session(struct fg_flic2 *f)
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
void f2_fail(struct fg_flic2 *f, enum fg_flic2_failure reason, uint8_t detail)
{
	struct fg_flic2_action *a;

	if (f->phase == PH_ESTABLISHED && reason != FG_FLIC2_FAIL_LINK_CLOSED)
		f2_send_simple(f, FG_FLIC2_TX_DISCONNECT_VERIFIED_LINK);
	a = f2_push(f, FG_FLIC2_ACTION_FAILED);
	if (a) {
		a->failed.reason = reason;
		a->failed.detail = detail;
	}
	f2_push(f, FG_FLIC2_ACTION_DISCONNECT);
	f->counters.failures++;
	f2_wipe_session(f);
	if (reason == FG_FLIC2_FAIL_REPAIR_NEEDED) {
		/* the stored key is worthless now; forget it */
		fg_crypto_wipe(f->pairing.pairing_key, sizeof(f->pairing.pairing_key));
		f->paired = false;
		f->phase = PH_REPAIR_NEEDED;
	} else {
		f->phase = PH_CLOSING;
	}
}

/* Printable ASCII up to the first NUL; anything else becomes '?'. */
void f2_sanitize_serial(const uint8_t *in, size_t len, char *out, size_t size)
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
void f2_sanitize_name(const uint8_t *in, size_t len, char out[24])
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

bool f2_in_session(const struct fg_flic2 *f)
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
