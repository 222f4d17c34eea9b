/* SPDX-License-Identifier: MIT */
/*
 * The Flic 2 protocol engine: pairing, quick verify, sessions and button
 * events, as an action queue (flic2.h). This file: its life cycle, packets
 * in and their dispatch by phase, deadlines, requests.
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

/* Flic's certificate key (flic2lib-c-module flic2_crypto.c, pyflic-ble const.py). */
static const uint8_t builtin_keys[][32] = {
	{ 0xd3, 0x3f, 0x24, 0x40, 0xdd, 0x54, 0xb3, 0x1b, 0x2e, 0x1d, 0xcf, 0x40,
	  0x13, 0x2e, 0xfa, 0x41, 0xd8, 0xf8, 0xa7, 0x47, 0x41, 0x68, 0xdf, 0x40,
	  0x08, 0xf5, 0xa9, 0x5f, 0xb3, 0xb0, 0xd0, 0x22 },
};

const uint8_t (*fg_flic2_builtin_keys(size_t *ret_n))[32]
{
	*ret_n = sizeof(builtin_keys) / sizeof(builtin_keys[0]);
	return builtin_keys;
}

int fg_flic2_new(const struct fg_flic2_params *p, struct fg_flic2 **ret)
{
	struct fg_flic2 *f;

	if (!p || !p->rng || !p->trusted_keys || p->n_trusted_keys == 0 ||
	    p->n_trusted_keys > 64 || p->auto_disconnect_s > AUTO_DISCONNECT_NEVER ||
	    (p->auto_disconnect_s > 0 && p->auto_disconnect_s < AUTO_DISCONNECT_MIN_S) ||
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
						    : AUTO_DISCONNECT_NEVER;
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
	f2_wipe_session(f);
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

int fg_flic2_connected(struct fg_flic2 *f, unsigned mtu, uint64_t now)
{
	uint8_t buf[4];

	if (f->phase == PH_REPAIR_NEEDED)
		return -ESTALE;
	if (f->phase != PH_IDLE)
		return -EISCONN;
	if (f2_queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;

	f2_wipe_session(f);
	f->mtu = mtu < FG_FLIC2_MTU_MIN ? FG_FLIC2_MTU_MIN :
		 mtu > FG_FLIC2_MTU_MAX ? FG_FLIC2_MTU_MAX : mtu;
	f->verify_deadline = now + f->verify_timeout_usec;

	if (!f->paired) {
		f->phase = PH_WAIT_FV1;
		if (f2_random_bytes(f, buf, 4) < 0)
			return 0;
		f->tmp_id = fg_flic2_le32(buf);
		f2_send_full_verify1(f);
	} else {
		struct fg_flic2_tx tx = { .opcode = FG_FLIC2_TX_QUICK_VERIFY_REQUEST };

		f->phase = PH_WAIT_QV;
		/* order matters for reproducible transcripts: nonce, then tmp id */
		if (f2_random_bytes(f, f->qv_random, sizeof(f->qv_random)) < 0 ||
		    f2_random_bytes(f, buf, 4) < 0)
			return 0;
		f->tmp_id = fg_flic2_le32(buf);
		memcpy(tx.qv_request.random, f->qv_random, 7);
		tx.qv_request.flags = 0;	/* signature/encryption variant 0, no Duo */
		tx.qv_request.tmp_id = f->tmp_id;
		tx.qv_request.pairing_id = f->pairing.pairing_id;
		f2_send_unsigned(f, &tx);
	}
	return 0;
}

void fg_flic2_disconnected(struct fg_flic2 *f, uint64_t now)
{
	f2_wipe_session(f);
	f2_purge_link_actions(f);
	if (f->phase != PH_REPAIR_NEEDED)
		f->phase = PH_IDLE;
}

static int on_session_packet(struct fg_flic2 *f, const uint8_t *pkt, size_t len,
			     uint64_t now);

static void count_decode_error(struct fg_flic2 *f, int r, const uint8_t *pkt, size_t len)
{
	const char *name = len ? fg_flic2_rx_opcode_to_string(pkt[0]) : NULL;

	if (r == -EOPNOTSUPP) {
		f->counters.rx_unknown++;
		f2_set_error(f, "unknown opcode %u (%zu bytes)", len ? pkt[0] : 0, len);
	} else if (r == -EMSGSIZE) {
		f->counters.rx_long++;
		f2_set_error(f, "long %s (%zu bytes)", name ? name : "packet", len);
	} else {
		f->counters.rx_short++;
		f2_set_error(f, "short %s (%zu bytes)", name ? name : "packet", len);
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
	f2_set_error(f, "unexpected %s", name ? name : "packet");
	return 0;
}

static int on_no_slots(struct fg_flic2 *f, const struct fg_flic2_rx *rx)
{
	for (size_t i = 0; i < rx->no_slots.n; i++) {
		if (rx->no_slots.tmp_ids[i] == f->tmp_id) {
			f2_set_error(f, "the button has no free logical connection");
			f2_fail(f, FG_FLIC2_FAIL_NO_SLOTS, 0);
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
		return f2_on_full_verify_response1(f, header, &rx);

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
			return f2_on_quick_verify_response(f, header, pkt, len, &rx, now);
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
		f2_send_full_verify1(f);
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
			if (!f2_mac_ok(f, pkt, len)) {
				f->counters.rx_bad_mac++;
				f2_set_error(f, "FullVerifyResponse2 MAC does not match");
				f2_fail(f, FG_FLIC2_FAIL_NOT_GENUINE, 3);
				return -EBADMSG;
			}
			f->rx_counter++;
			return f2_on_full_verify_response2(f, &rx, now);
		}
		r = decode(f, pkt, len, &rx);
		if (r < 0)
			return r;
		if (f->phase == PH_WAIT_FV2 && rx.opcode == FG_FLIC2_RX_FULL_VERIFY_FAIL) {
			f2_set_error(f, "button refused pairing (reason %u)", rx.fv_fail.reason);
			if (rx.fv_fail.reason == FG_FLIC2_FV_FAIL_INVALID_VERIFIER)
				f2_fail(f, FG_FLIC2_FAIL_NOT_GENUINE, 2);
			else if (rx.fv_fail.reason == FG_FLIC2_FV_FAIL_NOT_IN_PUBLIC_MODE)
				f2_fail(f, FG_FLIC2_FAIL_NOT_PAIRABLE, 1);
			else
				f2_fail(f, FG_FLIC2_FAIL_PROTOCOL, rx.fv_fail.reason);
			return 0;
		}
		if (f->phase == PH_WAIT_TEST && rx.opcode == FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED)
			return f2_on_test_unpaired_response(f, &rx);
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
	if (!f2_mac_ok(f, pkt, len)) {
		/*
		 * Forged, replayed (its counter is behind) or corrupted. The
		 * counter does not advance, so noise cannot desynchronise us;
		 * a real desynchronisation fails every packet and ends the
		 * session after a few.
		 */
		f->counters.rx_bad_mac++;
		f2_set_error(f, "session MAC mismatch (opcode %u, %zu bytes)", pkt[0], len);
		if (++f->bad_mac_run >= MAX_BAD_MAC_RUN)
			f2_fail(f, FG_FLIC2_FAIL_BAD_MAC, 0);
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
		if (!f2_take_response(f, REQ_INIT, rx.opcode))
			return 0;
		f2_on_init_response(f, &rx, now);
		return 0;
	case FG_FLIC2_RX_BUTTON_EVENTS:
		if (!f->init_done)
			return unexpected(f, rx.opcode);
		return f2_on_button_events(f, &rx, now);
	case FG_FLIC2_RX_PING_REQUEST:
		f2_send_simple(f, FG_FLIC2_TX_PING_RESPONSE);
		return 0;
	case FG_FLIC2_RX_BATTERY_LEVEL:
		if (f2_take_response(f, REQ_BATTERY, rx.opcode)) {
			struct fg_flic2_action *a = f2_push(f, FG_FLIC2_ACTION_BATTERY);

			if (a)
				a->battery_mv = fg_flic2_battery_mv(rx.battery.level);
		}
		break;
	case FG_FLIC2_RX_FIRMWARE_VERSION:
		if (f2_take_response(f, REQ_FIRMWARE, rx.opcode)) {
			struct fg_flic2_action *a = f2_push(f, FG_FLIC2_ACTION_FIRMWARE);

			f->pairing.firmware_version = rx.firmware.version;
			if (a)
				a->firmware_version = rx.firmware.version;
			/* an update to firmware 6 takes the settings this boot */
			f2_maybe_send_adv(f, now);
		}
		break;
	case FG_FLIC2_RX_SET_ADV_PARAMETERS:
		f2_on_adv_response(f);
		break;
	case FG_FLIC2_RX_GET_NAME_RESPONSE:
		if (f2_take_response(f, REQ_NAME, rx.opcode))
			f2_emit_name(f, &rx);
		break;
	case FG_FLIC2_RX_NAME_UPDATED:
		f2_emit_name(f, &rx);
		break;
	case FG_FLIC2_RX_DISCONNECTED_VERIFIED_LINK:
		f2_set_error(f, "button closed the verified link (reason %u)",
			  rx.link_closed.reason);
		f2_fail(f, FG_FLIC2_FAIL_LINK_CLOSED, rx.link_closed.reason);
		return 0;
	default:
		/* authentic but not for us: handshake leftovers, firmware, HID… */
		return unexpected(f, rx.opcode);
	}
	f2_pump_requests(f, now);
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

int fg_flic2_receive(struct fg_flic2 *f, const uint8_t *data, size_t len, uint64_t now)
{
	const uint8_t *pkt;
	uint8_t header;
	size_t pkt_len;
	int r;

	f->counters.rx_notifications++;
	if (!f2_in_session(f))
		return -ENOTCONN;
	if (f2_queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;
	if (len == 0 || !data) {
		f->counters.rx_short++;
		f2_set_error(f, "empty notification");
		return -EBADMSG;
	}
	if (!header_is_ours(f, data[0])) {
		f->counters.rx_foreign++;
		f2_set_error(f, "fragment for logical connection %u", data[0] & FG_FLIC2_HDR_CONN_ID_MASK);
		return 0;
	}
	r = fg_flic2_reassembler_feed(&f->reasm, data, len, &header, &pkt, &pkt_len);
	if (r == 0)
		return 0;
	if (r < 0) {
		if (r == -EMSGSIZE) {
			f->counters.rx_long++;
			f2_set_error(f, "packet over %d bytes", FG_FLIC2_MAX_PACKET);
		} else if (r == -EBADMSG) {
			f->counters.rx_short++;
			f2_set_error(f, "fragment without packet bytes");
		} else {
			f->counters.rx_fragment_errors++;
			f2_set_error(f, "fragment switched logical connection");
		}
		return -EBADMSG;
	}
	return on_packet(f, header, pkt, pkt_len, now);
}

int fg_flic2_timeout(struct fg_flic2 *f, uint64_t now)
{
	if (f2_queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;
	if (!f2_in_session(f))
		return 0;
	if (f->phase != PH_ESTABLISHED) {
		if (now >= f->verify_deadline) {
			f2_set_error(f, "no answer while %s",
				  fg_flic2_state_to_string(fg_flic2_get_state(f)));
			f2_fail(f, FG_FLIC2_FAIL_TIMEOUT, 0);
		}
		return 0;
	}
	for (int req = 0; req < _REQ_MAX; req++) {
		if (!(f->inflight & (1u << req)) || now < f->request_deadline[req])
			continue;
		if (req == REQ_ADV) {
			/*
			 * Optional: the button keeps its own advertising. Free
			 * the slot; the next session asks again.
			 */
			f->inflight &= ~(1u << REQ_ADV);
			f->request_deadline[REQ_ADV] = NO_DEADLINE;
			f->counters.adv_unanswered++;
			f2_set_error(f, "no answer to SetAdvParametersRequest");
			f2_pump_requests(f, now);
			continue;
		}
		f2_set_error(f, "no answer to %s",
			  fg_flic2_tx_opcode_to_string(f2_request_opcode[req]));
		f2_fail(f, FG_FLIC2_FAIL_TIMEOUT, f2_request_opcode[req]);
		return 0;
	}
	return 0;
}

uint64_t fg_flic2_next_deadline(const struct fg_flic2 *f)
{
	uint64_t d = NO_DEADLINE;

	if (!f2_in_session(f))
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
	if (f2_queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;
	f2_queue_request(f, req, now);
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

int fg_flic2_set_auto_disconnect(struct fg_flic2 *f, uint16_t seconds, uint64_t now)
{
	struct fg_flic2_tx tx = { .opcode = FG_FLIC2_TX_SET_AUTO_DISCONNECT_TIME };

	if (seconds == 0)
		seconds = AUTO_DISCONNECT_NEVER;
	if (seconds < AUTO_DISCONNECT_MIN_S || seconds > AUTO_DISCONNECT_NEVER)
		return -EINVAL;
	if (seconds == f->auto_disconnect_s)
		return 0;
	if (f2_queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;
	f->auto_disconnect_s = seconds;
	/* the init request went out at verification: tell the button now */
	if (f->phase == PH_ESTABLISHED) {
		tx.auto_disconnect.seconds = seconds;
		f2_send_signed(f, &tx);
	}
	return 0;
}

uint16_t fg_flic2_get_auto_disconnect(const struct fg_flic2 *f)
{
	return f->auto_disconnect_s;
}

int fg_flic2_request_disconnect(struct fg_flic2 *f, uint64_t now)
{
	if (!f2_in_session(f))
		return -ENOTCONN;
	if (f2_queue_free(f) < QUEUE_RESERVE)
		return -ENOBUFS;
	if (f->phase == PH_ESTABLISHED) {
		f2_send_simple(f, FG_FLIC2_TX_DISCONNECT_VERIFIED_LINK);
	} else if (f->phase == PH_WAIT_FV2) {
		/* the button assigned us a connection id: give it back */
		struct fg_flic2_tx tx = { .opcode = FG_FLIC2_TX_FULL_VERIFY_ABORT };

		f2_send_unsigned(f, &tx);
	}
	f2_push(f, FG_FLIC2_ACTION_DISCONNECT);
	f2_wipe_session(f);
	f->phase = PH_CLOSING;
	return 0;
}
