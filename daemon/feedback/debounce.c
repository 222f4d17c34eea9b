/* SPDX-License-Identifier: MIT */
/* Software debounce of the acknowledge input: a level counts once it held
 * for the window. Pure. */
#include "feedback/debounce.h"
#include "lib/timeutil.h"

void fg_debounce_init(struct fg_debounce *d, uint64_t window_usec, bool level)
{
	*d = (struct fg_debounce) {
		.window_usec = window_usec,
		.stable = level,
		.raw = level,
		.deadline_usec = FG_USEC_INFINITY,
	};
}

uint64_t fg_debounce_input(struct fg_debounce *d, bool level, uint64_t now_usec)
{
	/*
	 * Each call stands for one or more edges, and every edge restarts the
	 * window, also one that brings the level back to the stable one: a
	 * bounce must be followed by quiet before either level counts. Only a
	 * call with nothing pending and no change (a spurious wake-up) is
	 * ignored.
	 */
	if (level != d->raw || d->deadline_usec != FG_USEC_INFINITY) {
		d->raw = level;
		d->deadline_usec = now_usec > FG_USEC_INFINITY - 1 - d->window_usec ?
			FG_USEC_INFINITY - 1 : now_usec + d->window_usec;
	}
	return d->deadline_usec;
}

enum fg_debounce_event fg_debounce_settle(struct fg_debounce *d, uint64_t now_usec)
{
	if (d->deadline_usec == FG_USEC_INFINITY || now_usec < d->deadline_usec)
		return FG_DEBOUNCE_NONE;
	d->deadline_usec = FG_USEC_INFINITY;
	if (d->raw == d->stable)
		return FG_DEBOUNCE_NONE;
	d->stable = d->raw;
	return d->stable ? FG_DEBOUNCE_PRESSED : FG_DEBOUNCE_RELEASED;
}
