/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg-test.h"

#include "supervision/alarms.h"
#include "lib/timeutil.h"

#define SEC FG_USEC_PER_SEC
#define MIN FG_USEC_PER_MIN
#define T0 (1000 * SEC)	/* the virtual clock starts here */

static const struct fg_alarms_params params = {
	.gateway_name = "gw",
	.low_battery_mv = 2600,
	.battery_hysteresis_mv = 100,
	.offline_after_usec = 60 * MIN,
	.bluetooth_gone_after_usec = 1 * MIN,
	.targets_failing_after_usec = 10 * MIN,
	.spool_alarm = 100,
	.require_time_sync = true,
	.link_starved_after_usec = 1 * MIN,
};

static struct fg_alarms *new_health(void)
{
	struct fg_alarms *h = NULL;

	assert_int_equal(fg_alarms_new(&params, T0, &h), 0);
	assert_int_equal(fg_alarms_add_button(h, "bed-12", "Bed 12", 0, T0), 0);
	assert_int_equal(fg_alarms_add_button(h, "door", NULL, 5 * MIN, T0), 0);
	return h;
}

static int changes(struct fg_alarms *h, struct fg_alarm_change *out, int max)
{
	int n = 0;
	struct fg_alarm_change c;

	while (fg_alarms_next_change(h, &c) == 1) {
		if (n < max)
			out[n] = c;
		n++;
	}
	return n;
}

static void test_battery_hysteresis(void **state)
{
	struct fg_alarms *h = new_health();
	struct fg_alarm_change c[4];

	assert_int_equal(fg_alarms_button_battery(h, "bed-12", 2900, T0), 0);
	assert_int_equal(changes(h, c, 4), 0);
	/* one low reading (a sag under load) does not page anyone */
	fg_alarms_button_battery(h, "bed-12", 2550, T0 + SEC);
	assert_int_equal(changes(h, c, 4), 0);
	fg_alarms_button_battery(h, "bed-12", 2650, T0 + 2 * SEC);
	fg_alarms_button_battery(h, "bed-12", 2550, T0 + 3 * SEC);
	assert_int_equal(changes(h, c, 4), 0);
	/* the second in a row does */
	fg_alarms_button_battery(h, "bed-12", 2540, T0 + 4 * SEC);
	assert_int_equal(changes(h, c, 4), 1);
	assert_true(c[0].raised);
	assert_int_equal(c[0].kind, FG_ALARM_BATTERY_LOW);
	assert_string_equal(c[0].name_id, "Bed 12-battery");
	assert_string_equal(c[0].subject, "bed-12");
	assert_int_equal(c[0].since_usec, T0 + 3 * SEC);
	assert_non_null(strstr(c[0].info, "2540 mV"));
	assert_true(fg_alarms_alarm_active(h, FG_ALARM_BATTERY_LOW, "bed-12"));
	/* readings around the threshold: no flapping */
	for (int i = 0; i < 20; i++)
		fg_alarms_button_battery(h, "bed-12", i % 2 ? 2590 : 2690, T0 + (10 + i) * SEC);
	assert_int_equal(changes(h, c, 4), 0);
	/* only above threshold + hysteresis it closes, once */
	fg_alarms_button_battery(h, "bed-12", 2700, T0 + 40 * SEC);
	fg_alarms_button_battery(h, "bed-12", 3000, T0 + 41 * SEC);
	assert_int_equal(changes(h, c, 4), 1);
	assert_false(c[0].raised);
	assert_string_equal(c[0].name_id, "Bed 12-battery");
	assert_false(fg_alarms_alarm_active(h, FG_ALARM_BATTERY_LOW, "bed-12"));
	assert_int_equal(fg_alarms_button_battery(h, "nope", 2000, T0), -ENOENT);
	fg_alarms_free(h);
}

static void test_offline(void **state)
{
	struct fg_alarms *h = new_health();
	struct fg_alarm_change c[4];

	/* never seen: door (5 min override) raises first, from when it was added */
	assert_int_equal(fg_alarms_next_deadline(h), T0 + 5 * MIN);
	fg_alarms_tick(h, T0 + 5 * MIN - 1);
	assert_int_equal(changes(h, c, 4), 0);
	fg_alarms_tick(h, T0 + 5 * MIN);
	assert_int_equal(changes(h, c, 4), 1);
	assert_true(c[0].raised);
	assert_string_equal(c[0].name_id, "door-offline");
	assert_non_null(strstr(c[0].info, "never seen"));
	/* raised once only */
	fg_alarms_tick(h, T0 + 6 * MIN);
	assert_int_equal(changes(h, c, 4), 0);
	assert_int_equal(fg_alarms_next_deadline(h), T0 + 60 * MIN);

	/* bed-12 seen: its deadline moves */
	fg_alarms_button_seen(h, "bed-12", T0 + 30 * MIN);
	assert_int_equal(fg_alarms_next_deadline(h), T0 + 90 * MIN);
	fg_alarms_tick(h, T0 + 90 * MIN);
	assert_int_equal(changes(h, c, 4), 1);
	assert_string_equal(c[0].name_id, "Bed 12-offline");
	assert_non_null(strstr(c[0].info, "not seen for more than 1h"));
	assert_true(fg_alarms_alarm_active(h, FG_ALARM_BUTTON_OFFLINE, "bed-12"));

	/* back in range: closes once */
	fg_alarms_button_seen(h, "bed-12", T0 + 95 * MIN);
	fg_alarms_button_seen(h, "bed-12", T0 + 96 * MIN);
	assert_int_equal(changes(h, c, 4), 1);
	assert_false(c[0].raised);
	assert_string_equal(c[0].name_id, "Bed 12-offline");
	assert_int_equal(fg_alarms_button_seen(h, "nope", T0), -ENOENT);
	fg_alarms_free(h);
}

static void test_offline_disabled(void **state)
{
	struct fg_alarms_params p = params;
	struct fg_alarms *h = NULL;

	p.offline_after_usec = 0;
	assert_int_equal(fg_alarms_new(&p, T0, &h), 0);
	fg_alarms_add_button(h, "a", NULL, 0, T0);
	assert_int_equal(fg_alarms_next_deadline(h), UINT64_MAX);
	fg_alarms_free(h);
}

static void test_remove_closes(void **state)
{
	struct fg_alarms *h = new_health();
	struct fg_alarm_change c[4];

	fg_alarms_tick(h, T0 + 5 * MIN);
	fg_alarms_button_battery(h, "door", 2000, T0 + 5 * MIN);
	fg_alarms_button_battery(h, "door", 2000, T0 + 5 * MIN);
	assert_int_equal(changes(h, c, 4), 2);
	assert_int_equal(fg_alarms_remove_button(h, "door", T0 + 6 * MIN), 0);
	assert_int_equal(changes(h, c, 4), 2);
	assert_false(c[0].raised);
	assert_false(c[1].raised);
	assert_int_equal(fg_alarms_n_buttons(h), 1);
	assert_int_equal(fg_alarms_remove_button(h, "door", T0), -ENOENT);
	fg_alarms_free(h);
}

static void test_conditions(void **state)
{
	struct fg_alarms *h = new_health();
	struct fg_alarm_change c[4];

	fg_alarms_remove_button(h, "door", T0);
	fg_alarms_remove_button(h, "bed-12", T0);
	/* bluetooth gone for less than its delay: nothing */
	fg_alarms_condition(h, FG_ALARM_COND_BLUETOOTH_GONE, true, T0);
	assert_int_equal(fg_alarms_next_deadline(h), T0 + MIN);
	fg_alarms_condition(h, FG_ALARM_COND_BLUETOOTH_GONE, false, T0 + 30 * SEC);
	assert_int_equal(changes(h, c, 4), 0);
	assert_int_equal(fg_alarms_next_deadline(h), UINT64_MAX);
	/* gone for longer: raised once, reported true again changes nothing */
	fg_alarms_condition(h, FG_ALARM_COND_BLUETOOTH_GONE, true, T0 + MIN);
	fg_alarms_condition(h, FG_ALARM_COND_BLUETOOTH_GONE, true, T0 + MIN + 30 * SEC);
	fg_alarms_tick(h, T0 + 2 * MIN);
	fg_alarms_condition(h, FG_ALARM_COND_BLUETOOTH_GONE, true, T0 + 3 * MIN);
	assert_int_equal(changes(h, c, 4), 1);
	assert_true(c[0].raised);
	assert_string_equal(c[0].name_id, "gw-bluetooth");
	assert_int_equal(c[0].since_usec, T0 + MIN);
	assert_non_null(strstr(c[0].info, "for 1min"));
	fg_alarms_condition(h, FG_ALARM_COND_BLUETOOTH_GONE, false, T0 + 4 * MIN);
	assert_int_equal(changes(h, c, 4), 1);
	assert_false(c[0].raised);
	assert_string_equal(c[0].name_id, "gw-bluetooth");

	/* targets failing: 10 min */
	fg_alarms_condition(h, FG_ALARM_COND_TARGETS_FAILING, true, T0);
	fg_alarms_tick(h, T0 + 10 * MIN - 1);
	assert_int_equal(changes(h, c, 4), 0);
	fg_alarms_tick(h, T0 + 10 * MIN);
	assert_int_equal(changes(h, c, 4), 1);
	assert_string_equal(c[0].name_id, "gw-delivery");
	assert_true(fg_alarms_alarm_active(h, FG_ALARM_TARGETS_FAILING, NULL));
	fg_alarms_condition(h, FG_ALARM_COND_TARGETS_FAILING, false, T0 + 11 * MIN);
	assert_int_equal(changes(h, c, 4), 1);
	assert_false(c[0].raised);
	assert_int_equal(fg_alarms_condition(h, _FG_ALARM_COND_MAX, true, T0), -EINVAL);
	fg_alarms_free(h);
}

static void test_clock(void **state)
{
	struct fg_alarms_params p = params;
	struct fg_alarms *h = NULL;
	struct fg_alarm_change c[4];

	assert_int_equal(fg_alarms_new(&p, T0, &h), 0);
	/* unsynchronised since boot: the grace runs from start-up */
	fg_alarms_condition(h, FG_ALARM_COND_CLOCK_UNSYNCED, true, T0 + SEC);
	fg_alarms_tick(h, T0 + FG_ALARMS_CLOCK_GRACE_USEC);
	assert_int_equal(changes(h, c, 4), 0);
	fg_alarms_tick(h, T0 + SEC + FG_ALARMS_CLOCK_GRACE_USEC);
	assert_int_equal(changes(h, c, 4), 1);
	assert_string_equal(c[0].name_id, "gw-clock");
	fg_alarms_free(h);

	/* not required: never raised */
	p.require_time_sync = false;
	assert_int_equal(fg_alarms_new(&p, T0, &h), 0);
	fg_alarms_condition(h, FG_ALARM_COND_CLOCK_UNSYNCED, true, T0);
	fg_alarms_tick(h, T0 + 100 * MIN);
	assert_int_equal(changes(h, c, 4), 0);
	assert_int_equal(fg_alarms_next_deadline(h), UINT64_MAX);
	fg_alarms_free(h);
}

static void test_spool(void **state)
{
	struct fg_alarms *h = new_health();
	struct fg_alarm_change c[4];

	fg_alarms_spool_depth(h, 100, T0);
	assert_int_equal(changes(h, c, 4), 0);
	fg_alarms_spool_depth(h, 101, T0);
	assert_int_equal(changes(h, c, 4), 1);
	assert_true(c[0].raised);
	assert_string_equal(c[0].name_id, "gw-spool");
	/* hovering near the level does not flap */
	for (int i = 0; i < 50; i++)
		fg_alarms_spool_depth(h, 60 + (size_t)i, T0 + (uint64_t)i);
	assert_int_equal(changes(h, c, 4), 0);
	fg_alarms_spool_depth(h, 50, T0 + MIN);
	assert_int_equal(changes(h, c, 4), 1);
	assert_false(c[0].raised);
	fg_alarms_free(h);
}

static void test_persistence(void **state)
{
	struct fg_alarms *h = new_health(), *h2 = NULL;
	struct fg_alarm_change c[4];
	struct fg_alarms_button_status st;
	uint64_t real = UINT64_C(1795535260) * SEC;
	char *text = NULL;
	size_t len;

	fg_alarms_button_seen(h, "bed-12", T0 + 10 * SEC);
	fg_alarms_button_battery(h, "bed-12", 2500, T0 + 10 * SEC);
	fg_alarms_button_battery(h, "bed-12", 2500, T0 + 11 * SEC);
	fg_alarms_tick(h, T0 + 5 * MIN);	/* door offline */
	fg_alarms_spool_depth(h, 500, T0 + 5 * MIN);
	assert_int_equal(changes(h, c, 4), 3);
	assert_int_equal(fg_alarms_serialize(h, T0 + 5 * MIN, real, &text, &len), 0);
	fg_alarms_free(h);

	/* "reboot": monotonic restarts at 7 s, the wall clock moved on 1 min */
	assert_int_equal(fg_alarms_new(&params, 7 * SEC, &h2), 0);
	fg_alarms_add_button(h2, "bed-12", "Bed 12", 0, 7 * SEC);
	fg_alarms_add_button(h2, "door", NULL, 5 * MIN, 7 * SEC);
	assert_int_equal(fg_alarms_restore(h2, text, len, 7 * SEC, real + MIN), 2);
	assert_int_equal(fg_alarms_button_status(h2, 0, &st), 0);
	assert_string_equal(st.name, "bed-12");
	assert_true(st.seen);
	/* seen 4 min 50 s before the save + 1 min: older than this boot */
	assert_int_equal(st.last_seen_usec, 0);
	assert_int_equal(st.battery_mv, 2500);
	assert_int_equal(st.battery_percent, 10);
	assert_true(st.battery_low);
	assert_true(fg_alarms_alarm_active(h2, FG_ALARM_BUTTON_OFFLINE, "door"));
	assert_true(fg_alarms_alarm_active(h2, FG_ALARM_SPOOL_HIGH, NULL));
	assert_int_equal(changes(h2, c, 4), 0);	/* nothing re-raised */
	/* the spool drained while we were down: the alarm closes */
	fg_alarms_spool_depth(h2, 0, 8 * SEC);
	assert_int_equal(changes(h2, c, 4), 1);
	assert_false(c[0].raised);
	assert_int_equal(fg_alarms_button_status(h2, 2, &st), -ENOENT);

	/* garbage is refused, damaged lines are skipped */
	assert_int_equal(fg_alarms_restore(h2, "junk", 4, 8 * SEC, real), -EBADMSG);
	{
		static const char damaged[] = "flicgate-health 1\nbutton x\n"
			"button bed-12 seen_at zz mv 9 low 1 battery_low 0 offline 0\n";

		assert_int_equal(fg_alarms_restore(h2, damaged, strlen(damaged), 8 * SEC, real), 1);
	}
	free(text);
	fg_alarms_free(h2);
}

static void test_battery_curve(void **state)
{
	assert_int_equal(fg_alarms_battery_percent(3300), 100);
	assert_int_equal(fg_alarms_battery_percent(3000), 100);
	assert_int_equal(fg_alarms_battery_percent(2975), 95);
	assert_int_equal(fg_alarms_battery_percent(2600), 20);
	assert_int_equal(fg_alarms_battery_percent(2200), 0);
	assert_int_equal(fg_alarms_battery_percent(1000), 0);
	for (unsigned mv = 2000; mv < 3100; mv++)
		assert_true(fg_alarms_battery_percent(mv) <= fg_alarms_battery_percent(mv + 1));
	assert_string_equal(fg_alarm_kind_to_string(FG_ALARM_CLOCK_UNSYNCED), "clock");
}

/*
 * A target that refuses us (401) opens its own alarm at once, with the
 * reason; a repeat is quiet; an accepted alert closes it; it stays open
 * across a restart so that its close is still sent.
 */
static void test_target_rejected(void **state)
{
	struct fg_alarms *h = new_health(), *h2 = NULL;
	struct fg_alarm_change c[4];
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(fg_alarms_target_rejected(h, "pager", true,
						   "HTTP 401 Unauthorized: check the key in url/routing_key",
						   T0), 0);
	assert_int_equal(changes(h, c, 4), 1);
	assert_true(c[0].raised);
	assert_int_equal(c[0].kind, FG_ALARM_TARGET_REJECTED);
	assert_string_equal(c[0].name_id, "gw-pager-rejected");
	assert_string_equal(c[0].subject, "pager");
	assert_non_null(strstr(c[0].info, "HTTP 401 Unauthorized: check the key in url/routing_key"));
	assert_true(fg_alarms_alarm_active(h, FG_ALARM_TARGET_REJECTED, "pager"));
	assert_true(fg_alarms_alarm_active(h, FG_ALARM_TARGET_REJECTED, NULL));
	assert_false(fg_alarms_alarm_active(h, FG_ALARM_TARGET_REJECTED, "slack"));
	/* once is enough */
	assert_int_equal(fg_alarms_target_rejected(h, "pager", true, "HTTP 401", T0 + SEC), 0);
	assert_int_equal(changes(h, c, 4), 0);
	/* a delivery to another target closes nothing */
	assert_int_equal(fg_alarms_target_rejected(h, "slack", false, NULL, T0 + SEC), 0);
	assert_int_equal(changes(h, c, 4), 0);

	/* a restart keeps it open */
	assert_int_equal(fg_alarms_serialize(h, T0 + SEC, 1700000000 * SEC, &text, &len), 0);
	assert_int_equal(fg_alarms_new(&params, T0, &h2), 0);
	assert_true(fg_alarms_restore(h2, text, len, T0, 1700000001 * SEC) >= 0);
	assert_true(fg_alarms_alarm_active(h2, FG_ALARM_TARGET_REJECTED, "pager"));
	assert_int_equal(changes(h2, c, 4), 0);
	/* the target accepts an alert: closed, once */
	assert_int_equal(fg_alarms_target_rejected(h2, "pager", false, NULL, T0 + 2 * SEC), 0);
	assert_int_equal(changes(h2, c, 4), 1);
	assert_false(c[0].raised);
	assert_string_equal(c[0].name_id, "gw-pager-rejected");
	assert_false(fg_alarms_alarm_active(h2, FG_ALARM_TARGET_REJECTED, NULL));
	assert_int_equal(fg_alarms_target_rejected(h2, "pager", false, NULL, T0 + 3 * SEC), 0);
	assert_int_equal(changes(h2, c, 4), 0);
	assert_int_equal(fg_alarms_target_rejected(h2, NULL, true, NULL, T0), -EINVAL);
	free(text);
	fg_alarms_free(h2);
	fg_alarms_free(h);
}

/*
 * A state file set aside opens "<gateway>-state-files" once, at once; it
 * stays open while any lies set aside (also across a restart, through
 * health.state) and closes when none is left.
 */
static void test_state_files(void **state)
{
	struct fg_alarms *h = new_health(), *h2 = NULL;
	struct fg_alarm_change c[4];
	char *text = NULL;
	size_t len;

	assert_int_equal(fg_alarms_state_files(h, 0, NULL, T0), 0);
	assert_int_equal(changes(h, c, 4), 0);
	assert_int_equal(fg_alarms_state_files(h, 1, "/var/lib/flicgate/spool/journal was a symbolic link",
					       T0 + SEC), 0);
	assert_int_equal(changes(h, c, 4), 1);
	assert_true(c[0].raised);
	assert_int_equal(c[0].kind, FG_ALARM_STATE_FILES);
	assert_string_equal(c[0].name_id, "gw-state-files");
	assert_non_null(strstr(c[0].info, "journal was a symbolic link"));
	assert_true(fg_alarms_alarm_active(h, FG_ALARM_STATE_FILES, NULL));
	/* a second one while open: no second alert */
	assert_int_equal(fg_alarms_state_files(h, 2, "pairings/X.pairing was a directory", T0 + 2 * SEC), 0);
	assert_int_equal(changes(h, c, 4), 0);

	/* a restart keeps it open until the files are gone */
	assert_int_equal(fg_alarms_serialize(h, T0 + 3 * SEC, 100 * MIN, &text, &len), 0);
	assert_int_equal(fg_alarms_new(&params, T0, &h2), 0);
	assert_int_equal(fg_alarms_restore(h2, text, len, T0, 100 * MIN), 0);
	free(text);
	assert_true(fg_alarms_alarm_active(h2, FG_ALARM_STATE_FILES, NULL));
	assert_int_equal(fg_alarms_state_files(h2, 0, NULL, T0 + SEC), 0);
	assert_int_equal(changes(h2, c, 4), 1);
	assert_false(c[0].raised);
	assert_string_equal(c[0].name_id, "gw-state-files");
	assert_false(fg_alarms_alarm_active(h2, FG_ALARM_STATE_FILES, NULL));
	assert_int_equal(fg_alarm_kind_severity(FG_ALARM_STATE_FILES), FG_SEVERITY_ERROR);
	fg_alarms_free(h2);
	fg_alarms_free(h);
}

/* Names and severities: the alarm's name suffix round-trips, and the gateway's losses are critical. */
static void test_link_starved(void **state)
{
	struct fg_alarms *h = new_health();
	struct fg_alarm_change c[4];
	struct fg_alarms_button_status st;

	/* wanting a link briefly is normal: a press wakes it, it links */
	assert_int_equal(fg_alarms_button_link_wanted(h, "bed-12", true, T0), 0);
	assert_int_equal(fg_alarms_next_deadline(h), T0 + MIN);
	assert_int_equal(fg_alarms_button_link_wanted(h, "bed-12", false, T0 + 2 * SEC), 0);
	fg_alarms_tick(h, T0 + 2 * MIN);
	assert_int_equal(changes(h, c, 4), 0);
	/* wanting it on and on counts from the first time, not the last */
	fg_alarms_button_link_wanted(h, "bed-12", true, T0 + 3 * MIN);
	fg_alarms_button_link_wanted(h, "bed-12", true, T0 + 3 * MIN + 30 * SEC);
	fg_alarms_tick(h, T0 + 3 * MIN + 59 * SEC);
	assert_int_equal(changes(h, c, 4), 0);
	fg_alarms_tick(h, T0 + 4 * MIN);
	assert_int_equal(changes(h, c, 4), 1);
	assert_true(c[0].raised);
	assert_int_equal(c[0].kind, FG_ALARM_LINK_STARVED);
	assert_string_equal(c[0].name_id, "Bed 12-link");
	assert_int_equal(c[0].since_usec, T0 + 3 * MIN);
	assert_true(fg_alarms_alarm_active(h, FG_ALARM_LINK_STARVED, "bed-12"));
	assert_false(fg_alarms_alarm_active(h, FG_ALARM_LINK_STARVED, "door"));
	assert_int_equal(fg_alarms_button_status(h, 0, &st), 0);
	assert_true(st.link_starved);
	/* once: more wanting and ticks raise nothing new */
	fg_alarms_button_link_wanted(h, "bed-12", true, T0 + 4 * MIN + 10 * SEC);
	fg_alarms_tick(h, T0 + 4 * MIN + 50 * SEC);
	assert_int_equal(changes(h, c, 4), 0);
	/* it got a link: closed, once */
	fg_alarms_button_link_wanted(h, "bed-12", false, T0 + 7 * MIN);
	fg_alarms_button_link_wanted(h, "bed-12", false, T0 + 7 * MIN);
	assert_int_equal(changes(h, c, 4), 1);
	assert_false(c[0].raised);
	assert_false(fg_alarms_alarm_active(h, FG_ALARM_LINK_STARVED, "bed-12"));
	assert_int_equal(fg_alarms_button_link_wanted(h, "nobody", true, T0), -ENOENT);
	fg_alarms_free(h);
}

static void test_kinds(void **state)
{
	for (int k = 0; k < _FG_ALARM_KIND_MAX; k++) {
		assert_non_null(fg_alarm_kind_to_string(k));
		assert_int_equal(fg_alarm_kind_from_string(fg_alarm_kind_to_string(k)), k);
	}
	assert_string_equal(fg_alarm_kind_to_string(FG_ALARM_TARGETS_FAILING), "delivery");
	assert_null(fg_alarm_kind_to_string(_FG_ALARM_KIND_MAX));
	assert_int_equal(fg_alarm_kind_from_string("nope"), -EINVAL);
	assert_int_equal(fg_alarm_kind_severity(FG_ALARM_BATTERY_LOW), FG_SEVERITY_WARNING);
	assert_int_equal(fg_alarm_kind_severity(FG_ALARM_CLOCK_UNSYNCED), FG_SEVERITY_WARNING);
	assert_int_equal(fg_alarm_kind_severity(FG_ALARM_BUTTON_OFFLINE), FG_SEVERITY_ERROR);
	assert_int_equal(fg_alarm_kind_severity(FG_ALARM_SPOOL_HIGH), FG_SEVERITY_ERROR);
	assert_int_equal(fg_alarm_kind_severity(FG_ALARM_TARGET_REJECTED), FG_SEVERITY_ERROR);
	assert_string_equal(fg_alarm_kind_to_string(FG_ALARM_TARGET_REJECTED), "rejected");
	assert_int_equal(fg_alarm_kind_severity(FG_ALARM_BLUETOOTH_GONE), FG_SEVERITY_CRITICAL);
	assert_int_equal(fg_alarm_kind_severity(FG_ALARM_TARGETS_FAILING), FG_SEVERITY_CRITICAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/supervision/alarms/battery/hysteresis-and-two-readings", test_battery_hysteresis),
		FG_TEST("/supervision/alarms/battery/percent-curve", test_battery_curve),
		FG_TEST("/supervision/alarms/offline/raise-once-and-recover", test_offline),
		FG_TEST("/supervision/alarms/offline/disabled", test_offline_disabled),
		FG_TEST("/supervision/alarms/offline/removed-button-closes-alarms", test_remove_closes),
		FG_TEST("/supervision/alarms/gateway/conditions-after-delay", test_conditions),
		FG_TEST("/supervision/alarms/gateway/clock-grace", test_clock),
		FG_TEST("/supervision/alarms/gateway/spool-hysteresis", test_spool),
		FG_TEST("/supervision/alarms/gateway/state-files", test_state_files),
		FG_TEST("/supervision/alarms/persistence/across-reboot", test_persistence),
		FG_TEST("/supervision/alarms/link/starved-raise-once-and-clear", test_link_starved),
		FG_TEST("/supervision/alarms/kinds/names-and-severity", test_kinds),
		FG_TEST("/supervision/alarms/target/rejected-at-once-and-kept", test_target_rejected),
	};

	return cmocka_run_group_tests_name("supervision-alarms", tests, NULL, NULL);
}
