/* SPDX-License-Identifier: MIT */
/* The radio's decisions: when to connect, backoff, channel failures, who may pair (link-policy.h). */
#include <errno.h>
#include <string.h>

#include "lib/macro.h"
#include "radio/link-policy.h"

void fg_link_init(struct fg_link *l)
{
	*l = (struct fg_link){ .backoff = FG_LINK_RETRY_MIN_USEC };
}

static void push(struct fg_link *l, struct fg_link_action a)
{
	/* every event queues at most three: a full queue is a missing drain */
	if (l->n == FG_LINK_QUEUE_MAX)
		return;
	l->queue[(l->head + l->n) % FG_LINK_QUEUE_MAX] = a;
	l->n++;
}

int fg_link_next_action(struct fg_link *l, struct fg_link_action *ret)
{
	if (l->n == 0)
		return 0;
	*ret = l->queue[l->head];
	l->head = (l->head + 1) % FG_LINK_QUEUE_MAX;
	l->n--;
	return 1;
}

static void arm_retry(struct fg_link *l, uint64_t at)
{
	l->retry_at = at ? at : 1;
	push(l, (struct fg_link_action){ .kind = FG_LINK_ACTION_ARM_RETRY, .at = at });
}

void fg_link_cancel_retry(struct fg_link *l)
{
	l->retry_at = 0;
	push(l, (struct fg_link_action){ .kind = FG_LINK_ACTION_CANCEL_RETRY });
}

void fg_link_hold(struct fg_link *l, uint64_t at)
{
	arm_retry(l, at);
}

static void back_off(struct fg_link *l, uint64_t now)
{
	arm_retry(l, now + l->backoff);
	l->backoff = l->backoff * 2 > FG_LINK_RETRY_MAX_USEC ? FG_LINK_RETRY_MAX_USEC : l->backoff * 2;
}

/*
 * How a paired button gets connected: one Device1.Connect() is kept
 * pending whenever it has no link, and the kernel connects on its first
 * connectable advertisement (buttons.c says why). A foreground attempt is
 * one for a button that advertises right now.
 */
void fg_link_want(struct fg_link *l, const struct fg_link_input *in, bool foreground)
{
	if (!in->wants_link || l->requested || !in->radio_ready)
		return;
	if (in->link_up) {
		/* up without us asking (kept by bluetoothd across our restart): take it */
		push(l, (struct fg_link_action){ .kind = FG_LINK_ACTION_CONNECT, .take = true });
		return;
	}
	if (l->retry_at && !foreground)
		return;
	if (in->paired)
		push(l, (struct fg_link_action){ .kind = FG_LINK_ACTION_TRUST });
	push(l, (struct fg_link_action){
		.kind = FG_LINK_ACTION_CONNECT,
		.timeout_usec = foreground ? in->connect_timeout_usec : 0,
		.foreground = foreground,
	});
}

void fg_link_kick(struct fg_link *l, const struct fg_link_input *in, bool foreground)
{
	fg_link_cancel_retry(l);
	fg_link_want(l, in, foreground);
}

void fg_link_connect_done(struct fg_link *l, const struct fg_link_action *a, int r, uint64_t now)
{
	if (a->take) {
		if (r >= 0 || r == -EALREADY)
			l->requested = true;
		return;
	}
	if (r == -ENODEV)
		return;
	if (r < 0 && r != -EALREADY) {
		back_off(l, now);
		return;
	}
	fg_link_cancel_retry(l);
	l->requested = true;
	l->foreground = a->foreground;
	l->requested_at = now;
}

void fg_link_retry_due(struct fg_link *l, const struct fg_link_input *in)
{
	l->retry_at = 0;
	fg_link_want(l, in, false);
}

void fg_link_down(struct fg_link *l, uint64_t now)
{
	l->down_was_requested = l->requested;
	l->down_held = now - l->requested_at;
	l->requested = false;
}

void fg_link_session_over(struct fg_link *l, const struct fg_link_input *in)
{
	l->backoff = FG_LINK_RETRY_MIN_USEC;
	fg_link_want(l, in, false);
}

bool fg_link_attempt_failed(struct fg_link *l, bool was_up, uint64_t now)
{
	if (l->stale) {
		/* not a failure: the old session's slot goes with the link */
		l->stale = false;
		arm_retry(l, now);
		return false;
	}
	if (!was_up && l->down_was_requested && !l->foreground) {
		/*
		 * A background attempt ended. If BlueZ held it for a while it
		 * was a real wait (the button is asleep or away): wait again at
		 * once. If it was refused quickly, back off so that we never spin.
		 */
		if (l->down_held >= FG_LINK_BACKGROUND_LONG_USEC) {
			l->backoff = FG_LINK_RETRY_MIN_USEC;
			arm_retry(l, now + FG_LINK_RETRY_MIN_USEC);
		} else {
			back_off(l, now);
		}
		return false;
	}
	back_off(l, now);
	return true;
}

void fg_link_stale_session(struct fg_link *l)
{
	if (l->stale_retried)
		return;
	l->stale = true;
	l->stale_retried = true;
}

void fg_link_verified(struct fg_link *l)
{
	l->stale_retried = false;
	l->gatt_failures = 0;
	l->backoff = FG_LINK_RETRY_MIN_USEC;
}

void fg_link_reset(struct fg_link *l)
{
	l->backoff = FG_LINK_RETRY_MIN_USEC;
}

void fg_link_forget(struct fg_link *l)
{
	l->requested = false;
}

enum fg_link_channel_verdict fg_link_channel_error(struct fg_link *l, int error, bool verified)
{
	if (error == -EPIPE && verified) {
		push(l, (struct fg_link_action){ .kind = FG_LINK_ACTION_DISCONNECT });
		return FG_LINK_CHANNEL_HANG_UP;
	}
	l->gatt_failures++;
	if (l->gatt_failures >= FG_LINK_GATT_FAILURES_MAX && error == -ENOENT) {
		l->gatt_failures = 0;
		push(l, (struct fg_link_action){ .kind = FG_LINK_ACTION_REMOVE_DEVICE });
		return FG_LINK_CHANNEL_DROP_CACHE;
	}
	push(l, (struct fg_link_action){ .kind = FG_LINK_ACTION_DISCONNECT });
	return FG_LINK_CHANNEL_RETRY;
}

void fg_link_pairing_failed(struct fg_link *l, uint64_t now)
{
	l->pair_blocked_until = now + FG_LINK_PAIR_COOLDOWN_USEC;
}

bool fg_link_may_pair(const struct fg_link *l, uint64_t now)
{
	return now >= l->pair_blocked_until;
}

/* ---- pairing ------------------------------------------------------------------ */

bool fg_pairing_allowed(enum fg_pairing_policy policy, bool listed, bool window_open, bool window_busy,
			bool *ret_by_window, const char **ret_why)
{
	*ret_by_window = false;
	switch (policy) {
	case FG_PAIRING_LOCKED:
		*ret_why = "pairing is locked ([bluetooth] pairing = locked)";
		return false;
	case FG_PAIRING_LISTED:
		if (listed)
			return true;
		__attribute__((__fallthrough__));
	case FG_PAIRING_WINDOW:
		if (!window_open) {
			*ret_why = policy == FG_PAIRING_LISTED ?
				   "not listed in a [button] section and no pairing window is open" :
				   "no pairing window is open";
			return false;
		}
		if (window_busy) {
			*ret_why = "the pairing window is busy with another button";
			return false;
		}
		*ret_by_window = true;
		return true;
	case _FG_PAIRING_MAX:
		break;
	}
	*ret_why = "unknown policy";
	return false;
}

int fg_pairing_window_plan(enum fg_pairing_policy policy, uint64_t duration, uint64_t default_duration,
			   uint64_t *ret_duration)
{
	if (policy == FG_PAIRING_LOCKED)
		return -EPERM;
	*ret_duration = duration ? duration : default_duration;
	return 0;
}

void fg_pairing_window_opened(struct fg_pairing_window *w, uint64_t now, uint64_t duration)
{
	w->open = true;
	w->end = now + duration;
}

void fg_pairing_window_close(struct fg_pairing_window *w)
{
	*w = (struct fg_pairing_window){ 0 };
}

uint64_t fg_pairing_window_left(const struct fg_pairing_window *w, uint64_t now)
{
	if (!w->open)
		return 0;
	return w->end > now ? w->end - now : 0;
}

bool fg_pairing_window_locked_out(const struct fg_pairing_window *w, enum fg_pairing_policy policy)
{
	return w->open && policy == FG_PAIRING_LOCKED;
}

bool fg_refusals_is_news(struct fg_refusals *rf, const uint8_t address[6], uint64_t now)
{
	size_t oldest = 0;

	for (size_t i = 0; i < FG_ELEMENTSOF(rf->slot); i++) {
		if (rf->slot[i].when && memcmp(rf->slot[i].address, address, 6) == 0) {
			if (now < rf->slot[i].when + FG_REFUSAL_REPORT_USEC)
				return false;
			rf->slot[i].when = now;
			return true;
		}
		if (rf->slot[i].when < rf->slot[oldest].when)
			oldest = i;
	}
	memcpy(rf->slot[oldest].address, address, 6);
	rf->slot[oldest].when = now ? now : 1;
	return true;
}

void fg_refusals_clear(struct fg_refusals *rf)
{
	memset(rf, 0, sizeof(*rf));
}
