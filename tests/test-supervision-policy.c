/* SPDX-License-Identifier: MIT */
/* Supervision's decisions that are not alarms (supervision/policy.h). */
#include <errno.h>

#include "fg-test.h"

#include "supervision/policy.h"
#include "lib/macro.h"
#include "lib/timeutil.h"

#define SEC FG_USEC_PER_SEC
#define MIN FG_USEC_PER_MIN

static void test_heartbeat_rhythm(void **state)
{
	/* a fixed rhythm: a late timer does not shift the next one */
	assert_int_equal(fg_heartbeat_next(100 * SEC, MIN, 100 * SEC + 300), 160 * SEC);
	assert_int_equal(fg_heartbeat_next(160 * SEC, MIN, 219 * SEC), 220 * SEC);
	/* after a stall (suspend) it starts again from now, no burst to catch up */
	assert_int_equal(fg_heartbeat_next(160 * SEC, MIN, 1000 * SEC), 1060 * SEC);
	assert_int_equal(fg_heartbeat_next(160 * SEC, MIN, 220 * SEC), 280 * SEC);
}

static void test_heartbeat_timeout(void **state)
{
	assert_int_equal(fg_heartbeat_timeout(MIN), 10 * SEC);
	assert_int_equal(fg_heartbeat_timeout(8 * SEC), 4 * SEC);
	assert_int_equal(fg_heartbeat_timeout(20 * SEC), 10 * SEC);
}

static void test_heartbeat_loud(void **state)
{
	static const unsigned long loud[] = { 1, 2, 4, 8, 16, 1024 };
	static const unsigned long quiet[] = { 3, 5, 6, 7, 9, 1023 };

	for (size_t i = 0; i < FG_ELEMENTSOF(loud); i++)
		assert_true(fg_heartbeat_failure_is_loud(loud[i]));
	for (size_t i = 0; i < FG_ELEMENTSOF(quiet); i++)
		assert_false(fg_heartbeat_failure_is_loud(quiet[i]));
}

static void test_clock_verdict(void **state)
{
	int st = FG_CLOCK_NEVER;

	/* the first answer is always news */
	assert_int_equal(fg_clock_check(&st, 0), FG_CLOCK_UNSYNCED);
	assert_int_equal(st, 0);
	assert_int_equal(fg_clock_check(&st, 0), FG_CLOCK_SAME);
	assert_int_equal(fg_clock_check(&st, 1), FG_CLOCK_SYNCED);
	assert_int_equal(fg_clock_check(&st, 1), FG_CLOCK_SAME);
	/* a failing probe warns once, and what follows is news again */
	assert_int_equal(fg_clock_check(&st, -EIO), FG_CLOCK_UNKNOWN);
	assert_int_equal(st, FG_CLOCK_STATE_UNKNOWN);
	assert_int_equal(fg_clock_check(&st, -EIO), FG_CLOCK_SAME);
	assert_int_equal(fg_clock_check(&st, 1), FG_CLOCK_SYNCED);
	st = FG_CLOCK_NEVER;
	assert_int_equal(fg_clock_check(&st, 1), FG_CLOCK_SYNCED);
	st = FG_CLOCK_NEVER;
	assert_int_equal(fg_clock_check(&st, -EPERM), FG_CLOCK_UNKNOWN);
}

static void test_window_bounds(void **state)
{
	uint64_t d = 42;

	assert_int_equal(fg_test_window_duration(0, &d), 0);
	assert_int_equal(d, 5 * MIN);
	assert_int_equal(fg_test_window_duration(SEC, &d), 0);
	assert_int_equal(d, SEC);
	assert_int_equal(fg_test_window_duration(60 * MIN, &d), 0);
	assert_int_equal(d, 60 * MIN);
	d = 42;
	assert_int_equal(fg_test_window_duration(SEC - 1, &d), -ERANGE);
	assert_int_equal(fg_test_window_duration(60 * MIN + 1, &d), -ERANGE);
	assert_int_equal(d, 42);
}

static void test_window_covers(void **state)
{
	assert_true(fg_test_window_covers("", "b0"));
	assert_true(fg_test_window_covers("b1", "b1"));
	assert_false(fg_test_window_covers("b1", "b0"));
	assert_false(fg_test_window_covers("b1", NULL));
}

static void test_delivery_all_failing(void **state)
{
	assert_false(fg_delivery_all_failing(0, 0));
	assert_false(fg_delivery_all_failing(2, 1));
	assert_true(fg_delivery_all_failing(2, 2));
	assert_true(fg_delivery_all_failing(1, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/supervision/policy/heartbeat/fixed-rhythm", test_heartbeat_rhythm),
		FG_TEST("/supervision/policy/heartbeat/timeout", test_heartbeat_timeout),
		FG_TEST("/supervision/policy/heartbeat/loud-failures", test_heartbeat_loud),
		FG_TEST("/supervision/policy/clock/verdict", test_clock_verdict),
		FG_TEST("/supervision/policy/test-window/bounds", test_window_bounds),
		FG_TEST("/supervision/policy/test-window/covers", test_window_covers),
		FG_TEST("/supervision/policy/delivery/all-failing", test_delivery_all_failing),
	};

	return cmocka_run_group_tests_name("supervision-policy", tests, NULL, NULL);
}
