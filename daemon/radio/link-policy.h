/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/*
 * The radio's policy, apart from the BlueZ calls that carry it out
 * (buttons.c): when a button's link is asked for, how long to back off
 * after a failure, what to do with a broken packet channel, and who may be
 * paired while a pairing window is open or shut. Pure: state, events and
 * CLOCK_MONOTONIC times in, decisions and a queue of actions out, the way
 * flic2.h works. docs/bluez.md gives the reasons behind the numbers.
 */

/* Backoff after a failed connection or session: doubles up to the max. */
#define FG_LINK_RETRY_MIN_USEC		(1 * 1000000ULL)
#define FG_LINK_RETRY_MAX_USEC		(60 * 1000000ULL)
/* A background attempt that BlueZ held this long was a real wait, not a refusal. */
#define FG_LINK_BACKGROUND_LONG_USEC	(5 * 1000000ULL)
/* Channel set-up failures in a row before BlueZ's GATT cache is dropped. */
#define FG_LINK_GATT_FAILURES_MAX	2
/* After a failed pairing attempt, leave that button alone this long. */
#define FG_LINK_PAIR_COOLDOWN_USEC	(5 * 1000000ULL)
/* Refused public-mode buttons are reported at most this often per button. */
#define FG_REFUSAL_REPORT_USEC		(60 * 1000000ULL)

enum fg_link_action_kind {
	FG_LINK_ACTION_TRUST,		/* mark the device Trusted (BlueZ keeps it) */
	FG_LINK_ACTION_CONNECT,		/* Device1.Connect: .timeout_usec, 0 = wait in the background */
	FG_LINK_ACTION_CANCEL_RETRY,	/* drop the retry timer */
	FG_LINK_ACTION_ARM_RETRY,	/* call fg_link_retry_due() at .at */
	FG_LINK_ACTION_DISCONNECT,
	FG_LINK_ACTION_REMOVE_DEVICE,	/* drop BlueZ's device (and its GATT cache) */
	_FG_LINK_ACTION_MAX,
};

struct fg_link_action {
	enum fg_link_action_kind kind;
	uint64_t at;			/* ARM_RETRY: CLOCK_MONOTONIC */
	uint64_t timeout_usec;		/* CONNECT */
	bool take;			/* CONNECT: the link is up already, claim it */
	bool foreground;		/* CONNECT: the button advertises right now */
};

/* What the button layer knows when the policy decides to connect. */
struct fg_link_input {
	bool wants_link;		/* paired (and not lost) or being paired */
	bool paired;
	bool radio_ready;		/* adapter powered and followed */
	bool link_up;			/* BlueZ has a link to it */
	uint64_t connect_timeout_usec;	/* [bluetooth] connect_timeout */
};

#define FG_LINK_QUEUE_MAX 8

/* One button's link policy; embed it and start with fg_link_init(). */
struct fg_link {
	uint64_t backoff;		/* the next retry's delay */
	uint64_t retry_at;		/* a retry is armed for then; 0: none */
	bool requested;			/* our Connect is pending or the link is ours */
	bool foreground;		/* requested because it was seen just now */
	uint64_t requested_at;
	unsigned gatt_failures;
	uint64_t pair_blocked_until;
	bool stale;			/* fg_link_stale_session(): reconnect at once */
	bool stale_retried;		/* ...done once since the last verified session */
	/* what the last fg_link_down() found */
	bool down_was_requested;
	uint64_t down_held;
	/* actions not yet taken by fg_link_next_action() */
	struct fg_link_action queue[FG_LINK_QUEUE_MAX];
	size_t head, n;
};

void fg_link_init(struct fg_link *l);
/* The oldest queued action into *ret: 1, or 0 when there is none. */
int fg_link_next_action(struct fg_link *l, struct fg_link_action *ret);

/*
 * Ask for a link (whenever it might be due: radio ready, the button seen,
 * a link up without us). @foreground: the button advertises now, so the
 * attempt is bounded by the connect timeout and jumps a pending backoff.
 * Queues TRUST and CONNECT, or nothing; report what CONNECT gave with
 * fg_link_connect_done().
 */
void fg_link_want(struct fg_link *l, const struct fg_link_input *in, bool foreground);
/* fg_link_want() after dropping the pending retry (the button is here now). */
void fg_link_kick(struct fg_link *l, const struct fg_link_input *in, bool foreground);
/*
 * What the CONNECT action @a returned (0 or -errno). -ENODEV: BlueZ has no
 * object for it yet (its next advertisement makes one): wait. Any other
 * error but -EALREADY backs off.
 */
void fg_link_connect_done(struct fg_link *l, const struct fg_link_action *a, int r, uint64_t now);
/* The retry armed by ARM_RETRY is due. */
void fg_link_retry_due(struct fg_link *l, const struct fg_link_input *in);
/* Drop the pending retry, if any. */
void fg_link_cancel_retry(struct fg_link *l);
/* Hold the background connect off until @at (the link budget's): ARM_RETRY. */
void fg_link_hold(struct fg_link *l, uint64_t at);

/* The link went down (first, before anything else is decided). */
void fg_link_down(struct fg_link *l, uint64_t now);
/* ...after a verified session: the button sleeps or left. Waits for it again at once. */
void fg_link_session_over(struct fg_link *l, const struct fg_link_input *in);
/*
 * ...without a verified session (@was_up: a link had been made). Returns
 * false when it was only a background wait that ran out (BlueZ held it
 * long: wait again at once; refused quickly: back off), true for a real
 * failure, which backs off.
 */
bool fg_link_attempt_failed(struct fg_link *l, bool was_up, uint64_t now);
/*
 * The button refused our verify request for want of a free logical
 * connection slot on a link we claimed: a slot still held by our own
 * earlier session (an instance killed with the link up; bluetoothd kept
 * the link, the button kept the session). The link is being dropped (the
 * engine asks for it); a new link frees every logical connection, so the
 * next fg_link_attempt_failed() reconnects at once instead of backing off:
 * once, until a session is verified again, so that a button whose slots
 * are really taken is not hammered.
 */
void fg_link_stale_session(struct fg_link *l);
/* A verified session: the backoff and the channel failures start over. */
void fg_link_verified(struct fg_link *l);
/* A new pairing record (imported): start over. */
void fg_link_reset(struct fg_link *l);
/* Forgotten (unpaired; drop the retry with fg_link_cancel_retry()): nothing requested. */
void fg_link_forget(struct fg_link *l);

enum fg_link_channel_verdict {
	FG_LINK_CHANNEL_HANG_UP,	/* hung up under a live session: the link is going */
	FG_LINK_CHANNEL_RETRY,		/* drop the link, set it up again */
	FG_LINK_CHANNEL_DROP_CACHE,	/* the service is missing again: drop BlueZ's copy */
};
/*
 * The packet channel on a connected link could not be set up or broke
 * (@error: -errno; -ENOENT: no Flic service, -EPIPE: hung up). Queues
 * DISCONNECT or REMOVE_DEVICE.
 */
enum fg_link_channel_verdict fg_link_channel_error(struct fg_link *l, int error, bool verified);

/* A pairing attempt failed: leave the button alone for a while. */
void fg_link_pairing_failed(struct fg_link *l, uint64_t now);
/* May a pairing attempt start (no cooldown running)? */
bool fg_link_may_pair(const struct fg_link *l, uint64_t now);

/*
 * May a button in public mode be paired now, under @policy? @listed: a
 * [button] section has its address. *ret_by_window: it would be the open
 * window's one attempt (a listed button under "listed" is not); *ret_why
 * (a static string) when not.
 */
bool fg_pairing_allowed(enum fg_pairing_policy policy, bool listed, bool window_open, bool window_busy,
			bool *ret_by_window, const char **ret_why);

/* The pairing window: pairs at most one button. */
struct fg_pairing_window {
	bool open;
	bool busy;			/* its one attempt is running */
	uint64_t end;			/* CLOCK_MONOTONIC */
};
/*
 * May a window be opened under @policy, and for how long: -EPERM under
 * "locked", else 0 and *ret_duration (@duration, 0: @default_duration).
 */
int fg_pairing_window_plan(enum fg_pairing_policy policy, uint64_t duration, uint64_t default_duration,
			   uint64_t *ret_duration);
/* It is open (or restarted) at @now for @duration; its one attempt is not taken. */
void fg_pairing_window_opened(struct fg_pairing_window *w, uint64_t now, uint64_t duration);
void fg_pairing_window_close(struct fg_pairing_window *w);
/* Time left at @now, 0 when closed. */
uint64_t fg_pairing_window_left(const struct fg_pairing_window *w, uint64_t now);
/* A new configuration: true when it locks pairing while the window is open (close it). */
bool fg_pairing_window_locked_out(const struct fg_pairing_window *w, enum fg_pairing_policy policy);

/*
 * A public-mode button advertises several times a second: its refusal is
 * news once per FG_REFUSAL_REPORT_USEC, for a handful of buttons at a time.
 */
struct fg_refusals {
	struct {
		uint8_t address[6];
		uint64_t when;		/* 0: free */
	} slot[16];
};
bool fg_refusals_is_news(struct fg_refusals *rf, const uint8_t address[6], uint64_t now);
/* The policy changed: every refusal is news again. */
void fg_refusals_clear(struct fg_refusals *rf);
