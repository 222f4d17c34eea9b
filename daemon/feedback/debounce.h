/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Debouncing for a push button on a GPIO line: the level counts once it
 * has stayed the same for the whole window after the last edge. Pure: the
 * caller feeds edges (or fresh readings) with their time and calls
 * fg_debounce_settle() at the deadline it was given; daemon/feedback/gpio.c
 * does that with an sd-event timer.
 *
 * A plain value type (no allocation): embed it, fg_debounce_init() it.
 */
struct fg_debounce {
	uint64_t window_usec;
	bool stable;		/* debounced logical level */
	bool raw;		/* last level seen */
	uint64_t deadline_usec;	/* settle at; FG_USEC_INFINITY when settled */
};

enum fg_debounce_event {
	FG_DEBOUNCE_NONE,
	FG_DEBOUNCE_PRESSED,	/* stable level went active */
	FG_DEBOUNCE_RELEASED,	/* stable level went inactive */
};

void fg_debounce_init(struct fg_debounce *d, uint64_t window_usec, bool level);

/*
 * Edges happened; the line reads @level at @now_usec. Restarts the window
 * (unless nothing is pending and the level is unchanged). Returns the time at
 * which to call fg_debounce_settle(), or FG_USEC_INFINITY if nothing is
 * pending.
 */
uint64_t fg_debounce_input(struct fg_debounce *d, bool level, uint64_t now_usec);

/* At or after the deadline: the change of the stable level, if any. */
enum fg_debounce_event fg_debounce_settle(struct fg_debounce *d, uint64_t now_usec);
