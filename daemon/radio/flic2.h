/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radio/gesture.h"

/*
 * The Flic 2 protocol engine: one struct fg_flic2 per button, driven by the
 * BlueZ adapter and by nothing else. Bytes and time go in, actions come out.
 * No I/O, no clock reads, no logging, no allocation after fg_flic2_new().
 *
 * How the adapter drives it
 *
 *   1. fg_flic2_new() with the button's mode: PAIR for a button found in
 *      public mode (full verify), RECONNECT with the stored pairing record
 *      and the stored dedup state (quick verify).
 *   2. Once GATT is connected, notifications are enabled on 00420002-… and
 *      the ATT MTU is known: fg_flic2_connected(f, mtu, now).
 *   3. Every notification value: fg_flic2_receive(f, data, len, now).
 *   4. When the time returned by fg_flic2_next_deadline() is reached:
 *      fg_flic2_timeout(f, now).
 *   5. After every call above (and every request), drain the queue with
 *      fg_flic2_next_action() until it returns 0, handling each action in
 *      order (see enum fg_flic2_action_kind), then re-arm the timer.
 *   6. When the link drops: fg_flic2_disconnected(f, now). The same object
 *      can be connected again; a paired object quick-verifies.
 *
 * Times are CLOCK_MONOTONIC microseconds. Addresses are 6 bytes big endian
 * as printed ("AA:BB:…" -> address[0] = 0xAA), like config.h; the engine
 * converts to the little-endian wire order itself.
 *
 * Malformed, forged or replayed input never crashes: it is counted
 * (fg_flic2_get_counters()), described by fg_flic2_last_error(), answered
 * with -EBADMSG and leaves the session as it was, except that three MAC
 * failures in a row end it (BAD_MAC). Packets for another logical
 * connection (another app on the same link) are counted and ignored (0).
 * Protocol details: docs/flic2.md.
 */

struct fg_flic2;

#define FG_FLIC2_KEY_HEX_LEN 64
#define FG_FLIC2_WRITE_MAX 127		/* a WRITE never exceeds mtu - 3 <= 127 bytes */

/* What is persisted per paired button (pairing.h stores it). */
struct fg_flic2_pairing {
	uint8_t address[6];		/* big endian, as printed */
	uint32_t pairing_id;
	uint8_t pairing_key[16];	/* SECRET: never log */
	uint8_t uuid[16];		/* the button's own UUID */
	char serial[12];		/* "BG30-C12345", NUL-terminated printable ASCII */
	char name[24];			/* user-set name, valid UTF-8, NUL-terminated */
	uint32_t firmware_version;
	uint16_t battery_mv;		/* at pairing time */
	uint8_t identity_key[32];	/* the trusted key that vouched for the button */
};

/*
 * Event de-duplication state, persisted per button so that no event is
 * reported twice across reconnects and gateway restarts. The button numbers
 * its events with a 32-bit counter that restarts at every button boot, so
 * the key is (boot_id, event_count).
 */
struct fg_flic2_dedup {
	bool valid;			/* false: nothing known yet */
	uint32_t boot_id;		/* the button boot the counter belongs to */
	uint32_t event_count;		/* last event counter already reported */
	/*
	 * The button answered our SetAdvParametersRequest during boot_id: it
	 * keeps the settings until it reboots, so they are sent once per boot.
	 */
	bool adv_configured;
};

enum fg_flic2_mode {
	FG_FLIC2_MODE_PAIR,		/* full verify a button in public mode */
	FG_FLIC2_MODE_RECONNECT,	/* quick verify with a stored pairing */
	_FG_FLIC2_MODE_MAX,
};

/*
 * Fill @buf with @len cryptographically secure random bytes; 0 or -errno.
 * Production passes fg_flic2_system_rng (RAND_bytes); tests script it.
 */
typedef int (*fg_flic2_rng_t)(void *buf, size_t len, void *userdata);
int fg_flic2_system_rng(void *buf, size_t len, void *userdata);

struct fg_flic2_params {
	enum fg_flic2_mode mode;
	/* PAIR: the address of the button being paired (its certificate must name it) */
	uint8_t address[6];
	/* RECONNECT: the stored record (copied) and the stored dedup state */
	const struct fg_flic2_pairing *pairing;
	struct fg_flic2_dedup dedup;
	/*
	 * Ed25519 identity keys a button certificate may be signed by: normally
	 * fg_flic2_builtin_keys() plus [bluetooth] trusted_key from the config.
	 * Copied. Required (n >= 1): also a re-pair test re-checks identity.
	 */
	const uint8_t (*trusted_keys)[32];
	size_t n_trusted_keys;
	fg_flic2_rng_t rng;
	void *rng_userdata;		/* must live as long as the engine */
	/* 0 selects the defaults in brackets */
	uint16_t auto_disconnect_s;	/* [511 = never]; 40..510: button drops idle links */
	/* (fg_flic2_set_auto_disconnect() changes it later) */
	uint64_t verify_timeout_usec;	/* [31 s] connect -> session verified */
	uint64_t request_timeout_usec;	/* [10 s] per request once verified */
};

/* Flic's own certificate key(s), compiled in. Static storage. */
const uint8_t (*fg_flic2_builtin_keys(size_t *ret_n))[32];

/* Parse a hex key as written in the config ("e99ea6…", 64 hex digits). */
int fg_flic2_key_from_hex(const char *hex, uint8_t ret_key[32]);

/*
 * Create an engine. -EINVAL for inconsistent params (no trusted keys, no
 * RNG, RECONNECT without a pairing, auto_disconnect_s 1..39 or > 511). On success
 * *ret is owned by the caller: fg_flic2_free().
 */
int fg_flic2_new(const struct fg_flic2_params *p, struct fg_flic2 **ret);
/* Wipes every key. Accepts NULL; returns NULL. */
struct fg_flic2 *fg_flic2_free(struct fg_flic2 *f);

/*
 * GATT is up. Starts full or quick verify. -EISCONN if a session is running,
 * -ESTALE once the button told us the pairing is gone (re-pair needed),
 * -ENOBUFS if the action queue was not drained.
 */
int fg_flic2_connected(struct fg_flic2 *f, unsigned mtu, uint64_t now_usec);

/*
 * One notification of characteristic 00420002-…. 0 when consumed (also
 * when it was a fragment or addressed to another logical connection),
 * -EBADMSG when malformed or rejected (counted), -ENOTCONN outside a
 * session, -ENOBUFS if the action queue was not drained.
 */
int fg_flic2_receive(struct fg_flic2 *f, const uint8_t *data, size_t len,
		     uint64_t now_usec);

/* A deadline passed; 0 or -ENOBUFS. Early or spurious calls are harmless. */
int fg_flic2_timeout(struct fg_flic2 *f, uint64_t now_usec);

/* The BLE link is gone: session keys wiped, pending requests dropped. */
void fg_flic2_disconnected(struct fg_flic2 *f, uint64_t now_usec);

/*
 * Requests, valid once VERIFIED (else -ENOTCONN). Each queues one signed
 * request; its answer arrives as a BATTERY/NAME/FIRMWARE action. A request
 * already pending is not sent twice (returns 0). No answer within
 * request_timeout fails the session (FAILED reason TIMEOUT).
 */
/* (There is no ping request: the button pings, the engine answers itself.) */
int fg_flic2_request_battery(struct fg_flic2 *f, uint64_t now_usec);
int fg_flic2_request_name(struct fg_flic2 *f, uint64_t now_usec);
int fg_flic2_request_firmware(struct fg_flic2 *f, uint64_t now_usec);
/*
 * End the session: tells a verified button (DisconnectVerifiedLinkInd, or
 * FullVerifyAbortInd while pairing), then emits DISCONNECT. -ENOTCONN when
 * no session runs.
 */
int fg_flic2_request_disconnect(struct fg_flic2 *f, uint64_t now_usec);

/*
 * The button's own idle disconnect: after @seconds without an event it drops
 * the link itself and sleeps until pressed. 40..510, 511 = never; 0 also
 * means never (stored and sent as 511). The official libraries refuse
 * 1..39 (flic2lib-android) and above 511 (both): -EINVAL. The value goes
 * into every later InitButtonEvents; with a verified session up it is also
 * sent now (SetAutoDisconnectTimeInd). An unchanged value is a no-op (0,
 * nothing sent). -ENOBUFS if the action queue was not drained.
 */
int fg_flic2_set_auto_disconnect(struct fg_flic2 *f, uint16_t seconds, uint64_t now_usec);
/* The value in use: 40..511 (511 = never). */
uint16_t fg_flic2_get_auto_disconnect(const struct fg_flic2 *f);

/* Earliest deadline (CLOCK_MONOTONIC µs), or UINT64_MAX if none. */
uint64_t fg_flic2_next_deadline(const struct fg_flic2 *f);

enum fg_flic2_action_kind {
	/* write .write.data (.write.len <= mtu - 3 bytes) with write-without-
	 * response to characteristic 00420001-…, in queue order */
	FG_FLIC2_ACTION_WRITE,
	/* pairing succeeded: persist .paired (contains the SECRET key) */
	FG_FLIC2_ACTION_PAIRED,
	/* the session is authenticated (after PAIRED, or quick verify) */
	FG_FLIC2_ACTION_VERIFIED,
	/* a new button event, never reported before (.button) */
	FG_FLIC2_ACTION_BUTTON_EVENT,
	/*
	 * persist .dedup. Always queued after the BUTTON_EVENTs it covers and
	 * before the WRITE that acknowledges them to the button: hand the
	 * events on durably, then persist this, then write.
	 */
	FG_FLIC2_ACTION_STATE_TO_PERSIST,
	FG_FLIC2_ACTION_BATTERY,	/* .battery_mv */
	FG_FLIC2_ACTION_NAME,		/* .name (also update the stored record) */
	FG_FLIC2_ACTION_FIRMWARE,	/* .firmware_version (idem) */
	/* the session failed (.failed); a DISCONNECT follows */
	FG_FLIC2_ACTION_FAILED,
	/* drop the BLE connection now */
	FG_FLIC2_ACTION_DISCONNECT,
	/*
	 * the button's counter jumped past presses it never delivered (its
	 * queue overflowed, or they aged out): .lost, queued before the
	 * events that follow the gap. A loss is never silent.
	 */
	FG_FLIC2_ACTION_EVENTS_LOST,
	_FG_FLIC2_ACTION_MAX,
};

enum fg_flic2_failure {
	/* the button no longer holds our pairing (factory reset, or evicted by
	 * other pairings): the stored record is useless, the user must put the
	 * button in public mode and pair again. The engine refuses to connect
	 * again (-ESTALE), so there is no retry loop. */
	FG_FLIC2_FAIL_REPAIR_NEEDED,
	/* identity check failed: wrong address in the certificate, signature
	 * by no trusted key, button rejected our verifier, bad verify MAC */
	FG_FLIC2_FAIL_NOT_GENUINE,
	/* pairing: the button is not (or no longer) in public mode */
	FG_FLIC2_FAIL_NOT_PAIRABLE,
	/* the button gave no answer in time */
	FG_FLIC2_FAIL_TIMEOUT,
	/* quick verify answered with a MAC our key does not produce */
	FG_FLIC2_FAIL_KEY_MISMATCH,
	/* repeated session MAC failures (forged, replayed or desynchronised) */
	FG_FLIC2_FAIL_BAD_MAC,
	/* the button has no free logical connection slot */
	FG_FLIC2_FAIL_NO_SLOTS,
	/* the button requires app credentials we do not have */
	FG_FLIC2_FAIL_APP_CREDENTIALS,
	/* the button closed the verified link (.detail = its reason) */
	FG_FLIC2_FAIL_LINK_CLOSED,
	/* a well-formed but impossible answer (.detail = opcode or reason) */
	FG_FLIC2_FAIL_PROTOCOL,
	/* RNG or libcrypto failure on our side */
	FG_FLIC2_FAIL_INTERNAL,
	_FG_FLIC2_FAIL_MAX,
};

/* "repair-needed", "not-genuine", …; NULL if out of range. */
const char *fg_flic2_failure_to_string(enum fg_flic2_failure f);

struct fg_flic2_button_event {
	enum fg_gesture gesture;
	uint32_t boot_id;		/* with event_count: a unique key */
	uint32_t event_count;		/* the button's counter for this event */
	uint64_t button_time;		/* 48-bit button clock, 32768 ticks/s */
	uint64_t press_usec;		/* when it happened, CLOCK_MONOTONIC µs */
	uint64_t age_usec;		/* now_usec - press_usec at delivery */
	bool queued;			/* happened while not connected */
	/* HOLD only: this hold is the second press of a double click */
	bool double_click_pending;
};

/*
 * Presses lost in a gap of the button's event counter. Every press owns
 * four counter values (down, hold, up, single-click timeout), so the count
 * is in presses: those with no event at all between the two counters.
 */
struct fg_flic2_events_lost {
	uint32_t boot_id;
	uint32_t last_count;		/* last counter reported before the gap */
	uint32_t next_count;		/* the button's counter after it */
	uint32_t presses;		/* >= 1 */
};

struct fg_flic2_action {
	enum fg_flic2_action_kind kind;
	union {
		struct {
			uint8_t data[FG_FLIC2_WRITE_MAX];
			size_t len;
		} write;
		struct fg_flic2_pairing paired;
		struct fg_flic2_button_event button;
		struct fg_flic2_dedup dedup;
		struct fg_flic2_events_lost lost;
		uint16_t battery_mv;
		char name[24];
		uint32_t firmware_version;
		struct {
			enum fg_flic2_failure reason;
			uint8_t detail;
		} failed;
	};
};

/*
 * Take the next action: 1 and *ret filled, or 0 when the queue is empty.
 * A PAIRED action carries the pairing key: wipe the copy when done.
 */
int fg_flic2_next_action(struct fg_flic2 *f, struct fg_flic2_action *ret);

enum fg_flic2_state {
	FG_FLIC2_STATE_IDLE,		/* no link */
	FG_FLIC2_STATE_PAIRING,		/* full verify running */
	FG_FLIC2_STATE_VERIFYING,	/* quick verify (or re-pair test) running */
	FG_FLIC2_STATE_VERIFIED,	/* session up, events flowing */
	FG_FLIC2_STATE_CLOSING,		/* failed or asked to close: waiting for the link to drop */
	FG_FLIC2_STATE_REPAIR_NEEDED,	/* pairing gone on the button; terminal */
	_FG_FLIC2_STATE_MAX,
};

enum fg_flic2_state fg_flic2_get_state(const struct fg_flic2 *f);
const char *fg_flic2_state_to_string(enum fg_flic2_state s);

/* The current record (name/firmware kept up to date); -ENOENT before pairing. */
int fg_flic2_get_pairing(const struct fg_flic2 *f, struct fg_flic2_pairing *ret);
void fg_flic2_get_dedup(const struct fg_flic2 *f, struct fg_flic2_dedup *ret);

struct fg_flic2_counters {
	uint64_t rx_notifications;	/* fg_flic2_receive() calls */
	uint64_t rx_packets;		/* reassembled packets addressed to us */
	uint64_t rx_short;		/* below the layout / empty fragment */
	uint64_t rx_long;		/* over 128 bytes or over a field limit */
	uint64_t rx_unknown;		/* unknown opcode */
	uint64_t rx_bad_mac;		/* MAC mismatch (forged, replayed) */
	uint64_t rx_unexpected;		/* valid packet, wrong moment */
	uint64_t rx_foreign;		/* another logical connection / tmp id */
	uint64_t rx_trailing;		/* accepted with bytes after the layout */
	uint64_t rx_fragment_errors;	/* reassembly protocol errors */
	uint64_t events_reported;	/* BUTTON_EVENT actions */
	uint64_t events_duplicate;	/* dropped by the dedup state */
	uint64_t events_lost;		/* presses in counter gaps (EVENTS_LOST) */
	uint64_t adv_unanswered;	/* SetAdvParametersRequest without answer */
	uint64_t tx_packets;
	uint64_t tx_writes;
	uint64_t sessions;		/* verified sessions */
	uint64_t failures;		/* FAILED actions */
};

void fg_flic2_get_counters(const struct fg_flic2 *f, struct fg_flic2_counters *ret);

/*
 * Why the last input was rejected, for a log line ("short QuickVerifyResponse
 * (9 < 14 bytes)"). Never contains secrets. Static until the next call.
 */
const char *fg_flic2_last_error(const struct fg_flic2 *f);

/*
 * What the engine produces and the store accepts: a name of at most 23
 * bytes of valid UTF-8 without control characters; a serial of at most 11
 * printable ASCII characters without spaces.
 */
bool fg_flic2_name_is_valid(const char *name);
bool fg_flic2_serial_is_valid(const char *serial);

/* Battery ADC level to millivolt, as the official libraries convert it. */
uint16_t fg_flic2_battery_mv(uint16_t level);
