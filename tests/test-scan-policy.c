/* SPDX-License-Identifier: MIT */
/* The scanner decisions of fg_bluez (daemon/radio/scan-policy.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "radio/scan-policy.h"

#define SEC UINT64_C(1000000)

/* The adapter a walk over @names (BlueZ's order) ends with, or -1. */
static int pick(const char *const *names, size_t n, const char *wanted)
{
	int best = -1;

	for (size_t i = 0; i < n; i++)
		if (fg_scan_adapter_prefer(names[i], best < 0 ? NULL : names[best], wanted))
			best = (int)i;
	return best;
}

static void test_adapter_auto(void **state)
{
	const char *const names[] = { "hci10", "hci2", "hci9", "hci1" };
	const char *const one[] = { "hci3" };

	/* by number, not by string: hci10 sorts after hci9 */
	assert_int_equal(pick(names, 4, "auto"), 3);
	assert_int_equal(pick(names, 3, "auto"), 1);
	assert_int_equal(pick(names, 1, "auto"), 0);
	assert_int_equal(pick(one, 1, "auto"), 0);
	assert_int_equal(pick(names, 0, "auto"), -1);
}

static void test_adapter_named(void **state)
{
	const char *const names[] = { "hci1", "hci0", "hci0" };

	assert_int_equal(pick(names, 3, "hci0"), 1);	/* the first one seen */
	assert_int_equal(pick(names, 3, "hci1"), 0);
	/* a named adapter that is absent is not replaced by another */
	assert_int_equal(pick(names, 3, "hci7"), -1);
	assert_int_equal(pick(names, 3, "hci"), -1);
}

static void test_next_off(void **state)
{
	struct fg_scan_state s = { .powered = false, .active = true, .foreground = true };

	assert_int_equal(fg_scan_next(&s), FG_SCAN_OFF);
}

static void test_next_one_call_at_a_time(void **state)
{
	struct fg_scan_state s = { .powered = true, .call_busy = true, .foreground = true, .active = true };

	assert_int_equal(fg_scan_next(&s), FG_SCAN_WAIT);
	s.call_busy = false;
	s.loading = true;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_WAIT);
}

static void test_next_foreground_pauses(void **state)
{
	struct fg_scan_state s = { .powered = true, .pairing = true, .foreground = true, .active = true, .rescan = true };

	assert_int_equal(fg_scan_next(&s), FG_SCAN_PAUSE);
	/* paused already: stays so, whatever else is asked */
	s.active = false;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_HOLD);
	s.retry_armed = true;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_HOLD);
	/* connect over: the session comes back */
	s.foreground = false;
	s.retry_armed = false;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_START);
}

static void test_next_rescan(void **state)
{
	struct fg_scan_state s = { .powered = true, .pairing = true, .rescan = true, .active = true };

	assert_int_equal(fg_scan_next(&s), FG_SCAN_RESTART);
	s.active = false;	/* not running: starting it is the rescan */
	assert_int_equal(fg_scan_next(&s), FG_SCAN_START);
}

static void test_next_keep_or_start(void **state)
{
	struct fg_scan_state s = { .powered = true, .missing_device = true, .active = true };

	assert_int_equal(fg_scan_next(&s), FG_SCAN_KEEP);
	s.active = false;
	s.retry_armed = true;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_KEEP);
	s.retry_armed = false;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_START);
}

static void test_next_idle_without_need(void **state)
{
	/* every paired button has its device, no window: no discovery of ours */
	struct fg_scan_state s = { .powered = true };

	assert_int_equal(fg_scan_next(&s), FG_SCAN_IDLE);
	/* not even the retry timer or a rescan starts it */
	s.retry_armed = true;
	s.rescan = true;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_IDLE);
	/* running (the window closed, the device came back): stopped */
	s.active = true;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_STOP);
	s.rescan = false;
	s.retry_armed = false;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_STOP);
	/* a call in flight first */
	s.call_busy = true;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_WAIT);
}

static void test_next_runs_for_missing_device(void **state)
{
	/* a paired button BlueZ forgot: only a discovery brings its object back */
	struct fg_scan_state s = { .powered = true, .missing_device = true };

	assert_int_equal(fg_scan_next(&s), FG_SCAN_START);
	s.active = true;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_KEEP);
	/* found: nothing else needs it */
	s.missing_device = false;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_STOP);
	/* without power there is nothing to run it on */
	s.missing_device = true;
	s.powered = false;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_OFF);
}

static void test_next_runs_for_pairing(void **state)
{
	struct fg_scan_state s = { .powered = true, .pairing = true };

	assert_int_equal(fg_scan_next(&s), FG_SCAN_START);
	s.active = true;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_KEEP);
	s.pairing = false;	/* the window closed */
	assert_int_equal(fg_scan_next(&s), FG_SCAN_STOP);
	/* a foreground connect pauses, it does not stop for good */
	s.pairing = true;
	s.foreground = true;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_PAUSE);
	/* a foreground connect when nothing needs a scan: nothing to pause */
	s.pairing = false;
	s.active = false;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_HOLD);
	s.foreground = false;
	assert_int_equal(fg_scan_next(&s), FG_SCAN_IDLE);
}

static void test_pairing_needs_scan(void **state)
{
	/* window: only while a window is open */
	assert_false(fg_scan_for_pairing(FG_PAIRING_WINDOW, false, 0));
	assert_false(fg_scan_for_pairing(FG_PAIRING_WINDOW, false, 3));
	assert_true(fg_scan_for_pairing(FG_PAIRING_WINDOW, true, 0));
	/* listed: also while a listed button waits for a pairing */
	assert_false(fg_scan_for_pairing(FG_PAIRING_LISTED, false, 0));
	assert_true(fg_scan_for_pairing(FG_PAIRING_LISTED, false, 1));
	assert_true(fg_scan_for_pairing(FG_PAIRING_LISTED, true, 0));
	/* locked: never (windows are refused) */
	assert_false(fg_scan_for_pairing(FG_PAIRING_LOCKED, true, 2));
	assert_false(fg_scan_for_pairing(FG_PAIRING_LOCKED, false, 0));
}

static void test_connect_after_drop(void **state)
{
	uint64_t drop = 100 * SEC;

	/* within a scan window of our drop, while discovering: in the foreground */
	assert_true(fg_scan_connect_foreground(0, drop, true, drop));
	assert_true(fg_scan_connect_foreground(0, drop, true, drop + FG_SCAN_WINDOW_USEC - 1));
	assert_false(fg_scan_connect_foreground(0, drop, true, drop + FG_SCAN_WINDOW_USEC));
	/* no discovery holds it: the pending connect goes on in the background */
	assert_false(fg_scan_connect_foreground(0, drop, false, drop));
	/* no drop, or bounded anyway */
	assert_false(fg_scan_connect_foreground(0, 0, true, 5 * SEC));
	assert_false(fg_scan_connect_foreground(30 * SEC, drop, true, drop + 1));
	assert_int_equal(FG_SCAN_WINDOW_USEC, 10240000);
}

static void test_extend_once(void **state)
{
	assert_true(fg_scan_extend_connect(true, false, true));
	assert_false(fg_scan_extend_connect(true, true, true));	/* once only */
	assert_false(fg_scan_extend_connect(true, false, false));	/* no scan holds it */
	assert_false(fg_scan_extend_connect(false, false, true));	/* background connect */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "/scan-policy/adapter-auto-lowest-number", test_adapter_auto, NULL, NULL, NULL },
		{ "/scan-policy/adapter-named-only", test_adapter_named, NULL, NULL, NULL },
		{ "/scan-policy/next-off-without-power", test_next_off, NULL, NULL, NULL },
		{ "/scan-policy/next-one-call-at-a-time", test_next_one_call_at_a_time, NULL, NULL, NULL },
		{ "/scan-policy/next-foreground-pauses", test_next_foreground_pauses, NULL, NULL, NULL },
		{ "/scan-policy/next-rescan-restarts", test_next_rescan, NULL, NULL, NULL },
		{ "/scan-policy/next-keep-or-start", test_next_keep_or_start, NULL, NULL, NULL },
		{ "/scan-policy/next-idle-without-need", test_next_idle_without_need, NULL, NULL, NULL },
		{ "/scan-policy/next-runs-for-missing-device", test_next_runs_for_missing_device, NULL, NULL, NULL },
		{ "/scan-policy/next-runs-for-pairing", test_next_runs_for_pairing, NULL, NULL, NULL },
		{ "/scan-policy/pairing-needs-scan-by-policy", test_pairing_needs_scan, NULL, NULL, NULL },
		{ "/scan-policy/connect-after-drop-in-foreground", test_connect_after_drop, NULL, NULL, NULL },
		{ "/scan-policy/extend-connect-once", test_extend_once, NULL, NULL, NULL },
	};

	return cmocka_run_group_tests_name("scan-policy", tests, NULL, NULL);
}
