/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Supervision's small decisions that are not alarms (docs/supervision.md):
 * when the next heartbeat is due and how long one may take, which failures
 * are worth a warning, what a clock probe's answer means, how long a
 * test-press window may stay open, whether delivery has failed as a whole.
 * Pure: times are CLOCK_MONOTONIC microseconds given by the caller.
 */

/* A heartbeat times out after this, or half the interval if that is shorter. */
#define FG_HEARTBEAT_TIMEOUT_USEC (UINT64_C(10) * 1000000)

uint64_t fg_heartbeat_timeout(uint64_t interval_usec);
/*
 * The heartbeat after the one due at @due: a fixed rhythm, but after a
 * stall (suspend, a long callback) the next one counts from @now.
 */
uint64_t fg_heartbeat_next(uint64_t due, uint64_t interval_usec, uint64_t now);
/*
 * Whether failure number @in_a_row (1, 2, …) of an outage is logged as a
 * warning: the 1st, 2nd, 4th, 8th …, so an outage does not flood the journal.
 */
bool fg_heartbeat_failure_is_loud(unsigned long in_a_row);

/* What the clock check makes of a probe's answer, given what it knew before. */
enum fg_clock_verdict {
	FG_CLOCK_SAME,			/* nothing new to say */
	FG_CLOCK_UNKNOWN,		/* the probe failed, for the first time in a row: warn */
	FG_CLOCK_SYNCED,		/* became synchronised */
	FG_CLOCK_UNSYNCED,		/* became (or started) unsynchronised */
};
/* Clock states: FG_CLOCK_NEVER before the first probe. */
#define FG_CLOCK_NEVER (-2)
#define FG_CLOCK_STATE_UNKNOWN (-1)
/*
 * @probe: 1 synchronised, 0 not, < 0 unknown. Updates *@state (one of
 * FG_CLOCK_NEVER, FG_CLOCK_STATE_UNKNOWN, 0, 1) and says what to report.
 * The unsynchronised condition follows *@state == 0 whenever @probe >= 0.
 */
enum fg_clock_verdict fg_clock_check(int *state, int probe);

/* The test-press window: 0 means the default; else 1 s to 1 h. */
#define FG_TEST_WINDOW_DEFAULT_USEC (UINT64_C(5) * 60 * 1000000)
/* -ERANGE outside the bounds. */
int fg_test_window_duration(uint64_t requested_usec, uint64_t *ret_usec);
/* Whether a gesture of @button is a test in a window for @window_button ("" every button). */
bool fg_test_window_covers(const char *window_button, const char *button);

/*
 * Delivery has failed as a whole when every target that is configured
 * (@n_configured, orphaned queues not counted) is failing or refusing us
 * (@n_bad); with no target at all nobody is being told either way.
 */
bool fg_delivery_all_failing(size_t n_configured, size_t n_bad);
