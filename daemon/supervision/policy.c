/* SPDX-License-Identifier: MIT */
/* Supervision's decisions that are not alarms: heartbeat rhythm and logging,
 * the clock probe's verdict, test-window bounds, delivery failed as a whole. */
#include <errno.h>
#include <string.h>

#include "supervision/policy.h"

uint64_t fg_heartbeat_timeout(uint64_t interval_usec)
{
	return interval_usec / 2 < FG_HEARTBEAT_TIMEOUT_USEC ? interval_usec / 2
							     : FG_HEARTBEAT_TIMEOUT_USEC;
}

uint64_t fg_heartbeat_next(uint64_t due, uint64_t interval_usec, uint64_t now)
{
	due += interval_usec;
	if (due <= now)
		due = now + interval_usec;
	return due;
}

bool fg_heartbeat_failure_is_loud(unsigned long in_a_row)
{
	return (in_a_row & (in_a_row - 1)) == 0;
}

enum fg_clock_verdict fg_clock_check(int *state, int probe)
{
	enum fg_clock_verdict v = FG_CLOCK_SAME;

	if (probe < 0) {
		if (*state != FG_CLOCK_STATE_UNKNOWN)
			v = FG_CLOCK_UNKNOWN;
		*state = FG_CLOCK_STATE_UNKNOWN;
		return v;
	}
	if (probe != *state)
		v = probe ? FG_CLOCK_SYNCED : FG_CLOCK_UNSYNCED;
	*state = probe;
	return v;
}

int fg_test_window_duration(uint64_t requested_usec, uint64_t *ret_usec)
{
	if (requested_usec == 0)
		requested_usec = FG_TEST_WINDOW_DEFAULT_USEC;
	if (requested_usec < UINT64_C(1000000) || requested_usec > UINT64_C(3600) * 1000000)
		return -ERANGE;
	*ret_usec = requested_usec;
	return 0;
}

bool fg_test_window_covers(const char *window_button, const char *button)
{
	return !window_button[0] || (button && strcmp(window_button, button) == 0);
}

bool fg_delivery_all_failing(size_t n_configured, size_t n_bad)
{
	return n_configured > 0 && n_bad == n_configured;
}
