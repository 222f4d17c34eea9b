/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg-test.h"

#include "feedback/feedback.h"
#include "lib/timeutil.h"

#define MS FG_USEC_PER_MSEC
#define S FG_USEC_PER_SEC
#define MIN FG_USEC_PER_MIN

#define STATUS FG_OUTPUT_STATUS_LED
#define ALERT FG_OUTPUT_ALERT_LED
#define BUZZER FG_OUTPUT_BUZZER
#define NONE _FG_FB_STATE_NONE

static const uint64_t default_levels[FG_ESCALATION_LEVELS] = { 2 * MIN, 5 * MIN, 10 * MIN };

static void parse_sets(const char *const text[_FG_FB_STATE_MAX], struct fg_pattern_set sets[_FG_FB_STATE_MAX])
{
	for (int s = 0; s < _FG_FB_STATE_MAX; s++) {
		const char *t = text && text[s] ? text[s] : fg_feedback_state_default(s);
		char err[200] = "";

		if (fg_pattern_set_parse(t, &sets[s], err, sizeof(err)) < 0)
			fail_msg("%s: '%s': %s", fg_feedback_state_to_string(s), t, err);
	}
}

/* Defaults, with some rows replaced (NULL = default). */
static struct fg_feedback *new_fb(const char *const text[_FG_FB_STATE_MAX], const uint64_t *levels)
{
	struct fg_pattern_set sets[_FG_FB_STATE_MAX];
	struct fg_feedback *fb = NULL;

	parse_sets(text, sets);
	assert_int_equal(fg_feedback_new(sets, levels ? levels : default_levels, &fb), 0);
	assert_non_null(fb);
	return fb;
}

/* Every row "none" except those given. */
static struct fg_feedback *new_fb_only(const char *const text[_FG_FB_STATE_MAX], const uint64_t *levels)
{
	const char *t[_FG_FB_STATE_MAX];

	for (int s = 0; s < _FG_FB_STATE_MAX; s++)
		t[s] = text[s] ? text[s] : "none";
	return new_fb(t, levels);
}

static struct fg_feedback_output out_at(const struct fg_feedback *fb, uint64_t now, enum fg_output o)
{
	struct fg_feedback_view v;

	fg_feedback_evaluate(fb, now, &v);
	return v.out[o];
}

static enum fg_feedback_state shows(const struct fg_feedback *fb, uint64_t now, enum fg_output o)
{
	return out_at(fb, now, o).state;
}

static bool level(const struct fg_feedback *fb, uint64_t now, enum fg_output o)
{
	return out_at(fb, now, o).level;
}

static uint64_t next_at(const struct fg_feedback *fb, uint64_t now)
{
	struct fg_feedback_view v;

	fg_feedback_evaluate(fb, now, &v);
	return v.next_usec;
}

static uint32_t active_at(const struct fg_feedback *fb, uint64_t now)
{
	struct fg_feedback_view v;

	fg_feedback_evaluate(fb, now, &v);
	return v.active;
}

#define BIT(s) (UINT32_C(1) << (s))

static void assert_shows(const struct fg_feedback *fb, uint64_t now, enum fg_feedback_state st,
			 enum fg_feedback_state al, enum fg_feedback_state bz)
{
	enum fg_feedback_state got[3] = { shows(fb, now, STATUS), shows(fb, now, ALERT), shows(fb, now, BUZZER) };

	if (got[0] != st || got[1] != al || got[2] != bz)
		fail_msg("at %llu us: shows %s/%s/%s, expected %s/%s/%s", (unsigned long long)now,
			 fg_feedback_state_to_string(got[0]) ?: "-", fg_feedback_state_to_string(got[1]) ?: "-",
			 fg_feedback_state_to_string(got[2]) ?: "-", fg_feedback_state_to_string(st) ?: "-",
			 fg_feedback_state_to_string(al) ?: "-", fg_feedback_state_to_string(bz) ?: "-");
}

static void test_state_names(void **state)
{
	for (int s = 0; s < _FG_FB_STATE_MAX; s++) {
		const char *name = fg_feedback_state_to_string(s);
		struct fg_pattern_set set;
		char msg[200];

		assert_non_null(name);
		assert_int_equal(fg_feedback_state_from_string(name), s);
		assert_int_equal(fg_pattern_set_parse(fg_feedback_state_default(s), &set, msg, sizeof(msg)), 0);
		if (fg_feedback_state_is_transient(s))
			assert_null(fg_feedback_validate_transient_pattern(fg_feedback_state_default(s),
									   msg, sizeof(msg)));
		else
			assert_null(fg_feedback_validate_pattern(fg_feedback_state_default(s), msg, sizeof(msg)));
	}
	assert_null(fg_feedback_state_to_string(_FG_FB_STATE_MAX));
	assert_null(fg_feedback_state_to_string(NONE));
	assert_null(fg_feedback_state_default(_FG_FB_STATE_MAX));
	assert_int_equal(fg_feedback_state_from_string("level4"), NONE);
	assert_int_equal(fg_feedback_state_from_string(NULL), NONE);
	assert_true(fg_feedback_state_is_transient(FG_FB_PRESS));
	assert_true(fg_feedback_state_is_transient(FG_FB_CLOSED));
	assert_false(fg_feedback_state_is_transient(FG_FB_OPEN));
}

static void test_validate_transient(void **state)
{
	char msg[200];
	const char *e;

	e = fg_feedback_validate_transient_pattern("status_led: on for 1s, buzzer: on", msg, sizeof(msg));
	assert_non_null(e);
	assert_string_equal(e, "buzzer: 'on' never ends; add 'for DURATION' or use a single beep/flash");
	e = fg_feedback_validate_transient_pattern("alert_led: flash 2x 100ms every 1s", msg, sizeof(msg));
	assert_non_null(e);
	assert_non_null(strstr(e, "alert_led: 'flash 2x 100ms every 1s' never ends"));
	e = fg_feedback_validate_transient_pattern("alert_led: bogus", msg, sizeof(msg));
	assert_non_null(strstr(e, "unknown pattern 'bogus'"));
	assert_null(fg_feedback_validate_transient_pattern("alert_led: blink 200ms for 1s, buzzer: beep 2x 50ms",
							   msg, sizeof(msg)));
	assert_null(fg_feedback_validate_transient_pattern("none", msg, sizeof(msg)));
	/* ordinary rows may be infinite */
	assert_null(fg_feedback_validate_pattern("buzzer: on", msg, sizeof(msg)));
	assert_non_null(fg_feedback_validate_pattern("buzzer: loud", msg, sizeof(msg)));
}

static void test_idle(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);
	struct fg_feedback_output o;

	assert_shows(fb, 10 * S, FG_FB_IDLE, NONE, NONE);
	/* "flash 1x 100ms every 3s" runs from time 0 */
	o = out_at(fb, 9 * S + 50 * MS, STATUS);
	assert_true(o.level);
	assert_int_equal(o.next_usec, 9 * S + 100 * MS);
	o = out_at(fb, 10 * S, STATUS);
	assert_false(o.level);
	assert_int_equal(o.next_usec, 12 * S);
	assert_int_equal(next_at(fb, 10 * S), 12 * S);
	o = out_at(fb, 10 * S, BUZZER);
	assert_false(o.level);
	assert_null(o.pattern);
	assert_int_equal(o.next_usec, FG_USEC_INFINITY);
	assert_int_equal(active_at(fb, 10 * S), BIT(FG_FB_IDLE));
	assert_int_equal(fg_feedback_open_alerts(fb), 0);
	fg_feedback_free(fb);
}

static void test_nothing_at_all(void **state)
{
	const char *t[_FG_FB_STATE_MAX] = { 0 };
	struct fg_feedback *fb = new_fb_only(t, NULL);

	assert_shows(fb, 1 * S, NONE, NONE, NONE);
	assert_int_equal(next_at(fb, 1 * S), FG_USEC_INFINITY);
	/* an open alert still wakes us at its escalation times */
	assert_int_equal(fg_feedback_alert_opened(fb, "bed-1", 1 * S), 0);
	assert_int_equal(next_at(fb, 1 * S), 1 * S + 2 * MIN);
	assert_int_equal(next_at(fb, 1 * S + 2 * MIN), 1 * S + 5 * MIN);
	assert_int_equal(next_at(fb, 1 * S + 9 * MIN), 1 * S + 10 * MIN);
	assert_int_equal(next_at(fb, 1 * S + 10 * MIN), FG_USEC_INFINITY);
	assert_int_equal(active_at(fb, 1 * S + 10 * MIN),
			 BIT(FG_FB_IDLE) | BIT(FG_FB_OPEN) | BIT(FG_FB_LEVEL1) | BIT(FG_FB_LEVEL2) |
			 BIT(FG_FB_LEVEL3));
	fg_feedback_free(fb);
}

/* Global conditions, in their priority order on the status LED. */
static const struct {
	enum fg_feedback_condition cond;
	enum fg_feedback_state state;
	bool buzzer;		/* its default also sounds the buzzer (the fallback alarm) */
} cond_order[] = {
	{ FG_COND_CONFIG_FAULT, FG_FB_CONFIG_FAULT, false },
	{ FG_COND_NO_ADAPTER, FG_FB_NO_ADAPTER, false },
	{ FG_COND_SPOOL_FULL, FG_FB_SPOOL_FULL, false },
	{ FG_COND_DEAD_LETTER, FG_FB_DEAD_LETTER, false },
	{ FG_COND_TARGETS_FAILING, FG_FB_TARGETS_FAILING, true },
	{ FG_COND_NOT_SEEN, FG_FB_NOT_SEEN, false },
	{ FG_COND_LOW_BATTERY, FG_FB_LOW_BATTERY, false },
	{ FG_COND_STARTING, FG_FB_STARTING, false },
};
#define N_COND (sizeof(cond_order) / sizeof(cond_order[0]))

static void test_each_condition(void **state)
{
	for (size_t i = 0; i < N_COND; i++) {
		struct fg_feedback *fb = new_fb(NULL, NULL);
		struct fg_pattern expect;
		struct fg_feedback_output o;
		char buf[FG_PATTERN_SET_BUF];

		assert_int_equal(fg_feedback_set_condition(fb, cond_order[i].cond, true, 5 * S), 0);
		assert_true(fg_feedback_condition_is_set(fb, cond_order[i].cond));
		assert_shows(fb, 5 * S, cond_order[i].state, NONE,
			     cond_order[i].buzzer ? cond_order[i].state : NONE);
		o = out_at(fb, 5 * S, STATUS);
		/* the pattern shown is the documented default, started when raised */
		snprintf(buf, sizeof(buf), "%s", fg_feedback_state_default(cond_order[i].state));
		if (strchr(buf, ','))
			*strchr(buf, ',') = '\0';	/* the status LED's part */
		assert_int_equal(fg_pattern_parse(strchr(buf, ':') + 1, &expect, NULL, 0), 0);
		assert_true(fg_pattern_equal(o.pattern, &expect));
		assert_int_equal(o.start_usec, 5 * S);
		assert_true(o.level);	/* every default fault pattern starts lit */
		assert_int_equal(active_at(fb, 5 * S), BIT(cond_order[i].state) | BIT(FG_FB_IDLE));

		assert_int_equal(fg_feedback_set_condition(fb, cond_order[i].cond, false, 6 * S), 0);
		assert_false(fg_feedback_condition_is_set(fb, cond_order[i].cond));
		assert_shows(fb, 6 * S, FG_FB_IDLE, NONE, NONE);
		fg_feedback_free(fb);
	}
}

/* The one condition whose default sounds the buzzer, while it is raised. */
static enum fg_feedback_state buzzer_row(const struct fg_feedback *fb)
{
	return fg_feedback_condition_is_set(fb, FG_COND_TARGETS_FAILING) ? FG_FB_TARGETS_FAILING : NONE;
}

static void test_condition_priorities(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);
	uint64_t t = 1 * S;

	/* raise from lowest to highest: each new one takes over */
	for (size_t i = N_COND; i-- > 0;) {
		assert_int_equal(fg_feedback_set_condition(fb, cond_order[i].cond, true, t), 0);
		assert_shows(fb, t, cond_order[i].state, NONE, buzzer_row(fb));
		t += S;
	}
	/* clear from highest to lowest: the next one shows through */
	for (size_t i = 0; i < N_COND; i++) {
		assert_int_equal(fg_feedback_set_condition(fb, cond_order[i].cond, false, t), 0);
		assert_shows(fb, t, i + 1 < N_COND ? cond_order[i + 1].state : FG_FB_IDLE, NONE,
			     buzzer_row(fb));
		t += S;
	}
	/* a lower one raised under a higher one does not show */
	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, true, t);
	fg_feedback_set_condition(fb, FG_COND_LOW_BATTERY, true, t);
	assert_shows(fb, t, FG_FB_NO_ADAPTER, NONE, NONE);
	assert_int_equal(active_at(fb, t), BIT(FG_FB_NO_ADAPTER) | BIT(FG_FB_LOW_BATTERY) | BIT(FG_FB_IDLE));
	fg_feedback_free(fb);
}

static void test_condition_keeps_time(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, true, 1 * S);
	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, true, 7 * S);
	assert_int_equal(out_at(fb, 8 * S, STATUS).start_usec, 1 * S);
	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, false, 9 * S);
	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, true, 10 * S);
	assert_int_equal(out_at(fb, 10 * S, STATUS).start_usec, 10 * S);
	fg_feedback_free(fb);
}

static void test_button_conditions(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	assert_int_equal(fg_feedback_set_button_condition(fb, FG_COND_LOW_BATTERY, "bed-1", true, 1 * S), 0);
	assert_int_equal(fg_feedback_set_button_condition(fb, FG_COND_LOW_BATTERY, "bed-2", true, 2 * S), 0);
	assert_int_equal(fg_feedback_set_button_condition(fb, FG_COND_NOT_SEEN, "bed-3", true, 3 * S), 0);
	assert_shows(fb, 3 * S, FG_FB_NOT_SEEN, NONE, NONE);
	assert_int_equal(fg_feedback_set_button_condition(fb, FG_COND_NOT_SEEN, "bed-3", false, 4 * S), 0);
	assert_shows(fb, 4 * S, FG_FB_LOW_BATTERY, NONE, NONE);
	/* periodic pattern: from the earliest button */
	assert_int_equal(out_at(fb, 4 * S, STATUS).start_usec, 1 * S);
	fg_feedback_set_button_condition(fb, FG_COND_LOW_BATTERY, "bed-1", false, 5 * S);
	assert_true(fg_feedback_condition_is_set(fb, FG_COND_LOW_BATTERY));
	assert_shows(fb, 5 * S, FG_FB_LOW_BATTERY, NONE, NONE);
	assert_int_equal(out_at(fb, 5 * S, STATUS).start_usec, 2 * S);
	fg_feedback_set_button_condition(fb, FG_COND_LOW_BATTERY, "bed-2", false, 6 * S);
	assert_false(fg_feedback_condition_is_set(fb, FG_COND_LOW_BATTERY));
	assert_shows(fb, 6 * S, FG_FB_IDLE, NONE, NONE);
	/* clearing for a button never seen is fine */
	assert_int_equal(fg_feedback_set_button_condition(fb, FG_COND_LOW_BATTERY, "bed-9", false, 7 * S), 0);
	/* global and per-button flags of one condition add up */
	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, true, 8 * S);
	fg_feedback_set_button_condition(fb, FG_COND_NO_ADAPTER, "x", true, 8 * S);
	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, false, 9 * S);
	assert_shows(fb, 9 * S, FG_FB_NO_ADAPTER, NONE, NONE);
	fg_feedback_free(fb);
}

static void test_invalid_args(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	assert_int_equal(fg_feedback_set_condition(fb, _FG_COND_MAX, true, 0), -EINVAL);
	assert_int_equal(fg_feedback_set_condition(fb, (enum fg_feedback_condition)-1, true, 0), -EINVAL);
	assert_int_equal(fg_feedback_set_button_condition(fb, _FG_COND_MAX, "b", true, 0), -EINVAL);
	assert_int_equal(fg_feedback_set_button_condition(fb, FG_COND_NOT_SEEN, NULL, true, 0), -EINVAL);
	assert_false(fg_feedback_condition_is_set(fb, _FG_COND_MAX));
	assert_int_equal(fg_feedback_alert_opened(fb, NULL, 0), -EINVAL);
	assert_int_equal(fg_feedback_alert_delivery(fb, "b", FG_DELIVERY_DELIVERED, 0), -ENOENT);
	assert_int_equal(fg_feedback_alert_delivery(fb, NULL, FG_DELIVERY_DELIVERED, 0), -ENOENT);
	assert_int_equal(fg_feedback_alert_closed(fb, "b", 0), -ENOENT);
	assert_int_equal(fg_feedback_alert_opened(fb, "b", 0), 0);
	assert_int_equal(fg_feedback_alert_delivery(fb, "b", _FG_DELIVERY_MAX, 0), -EINVAL);
	assert_int_equal(fg_feedback_alert_closed(fb, "b", 1), 0);
	assert_int_equal(fg_feedback_alert_closed(fb, "b", 2), -ENOENT);
	assert_int_equal(fg_feedback_alert_delivery(fb, "b", FG_DELIVERY_DELIVERED, 3), -ENOENT);
	assert_null(fg_feedback_free(fb));
	assert_null(fg_feedback_free(NULL));
}

static void test_press(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);
	const uint64_t t = 100 * S + 123;
	struct fg_feedback_output o;

	fg_feedback_press(fb, t);
	assert_shows(fb, t, FG_FB_PRESS, FG_FB_PRESS, FG_FB_PRESS);
	assert_true(level(fb, t, STATUS));
	assert_true(level(fb, t, ALERT));
	assert_true(level(fb, t, BUZZER));
	assert_int_equal(next_at(fb, t), t + 50 * MS);
	assert_true(active_at(fb, t) & BIT(FG_FB_PRESS));
	/* the chirp ends, the LEDs stay */
	assert_shows(fb, t + 50 * MS, FG_FB_PRESS, FG_FB_PRESS, NONE);
	assert_false(level(fb, t + 50 * MS, BUZZER));
	assert_int_equal(next_at(fb, t + 50 * MS), t + 1 * S);
	/* after a second the press is gone */
	assert_shows(fb, t + 1 * S, FG_FB_IDLE, NONE, NONE);
	assert_false(active_at(fb, t + 1 * S) & BIT(FG_FB_PRESS));
	/* a second press restarts it */
	fg_feedback_press(fb, t + 5 * S);
	o = out_at(fb, t + 5 * S + 10 * MS, BUZZER);
	assert_int_equal(o.state, FG_FB_PRESS);
	assert_int_equal(o.start_usec, t + 5 * S);
	fg_feedback_free(fb);
}

static void test_press_over_fault(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	fg_feedback_set_condition(fb, FG_COND_CONFIG_FAULT, true, 0);
	fg_feedback_press(fb, 10 * S);
	assert_shows(fb, 10 * S, FG_FB_PRESS, FG_FB_PRESS, FG_FB_PRESS);
	assert_shows(fb, 11 * S, FG_FB_CONFIG_FAULT, NONE, NONE);
	fg_feedback_free(fb);
}

static void test_alert_lifecycle(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);
	const uint64_t t = 50 * S;
	struct fg_feedback_output o;

	fg_feedback_press(fb, t);
	assert_int_equal(fg_feedback_alert_opened(fb, "bed-12", t), 0);
	assert_int_equal(fg_feedback_open_alerts(fb), 1);
	assert_shows(fb, t, FG_FB_PRESS, FG_FB_PRESS, FG_FB_PRESS);
	/* after the press: open, not yet confirmed: blink 1s on the alert LED */
	assert_shows(fb, t + 1 * S, FG_FB_IDLE, FG_FB_OPEN, NONE);
	o = out_at(fb, t + 1 * S + 600 * MS, ALERT);
	assert_false(o.level);
	assert_int_equal(o.start_usec, t);
	assert_int_equal(o.next_usec, t + 2 * S);

	/* delivered: steady */
	assert_int_equal(fg_feedback_alert_delivery(fb, "bed-12", FG_DELIVERY_DELIVERED, t + 2 * S), 0);
	assert_shows(fb, t + 2 * S, FG_FB_IDLE, FG_FB_DELIVERED, NONE);
	assert_true(level(fb, t + 2 * S + 700 * MS, ALERT));
	assert_true(active_at(fb, t + 2 * S) & BIT(FG_FB_DELIVERED));
	assert_false(active_at(fb, t + 2 * S) & BIT(FG_FB_OPEN));

	/* failing (e.g. a re-send spooled), then given up */
	fg_feedback_alert_delivery(fb, "bed-12", FG_DELIVERY_FAILING, t + 3 * S);
	assert_shows(fb, t + 3 * S, FG_FB_IDLE, FG_FB_FAILING, NONE);
	o = out_at(fb, t + 3 * S, ALERT);
	assert_int_equal(o.start_usec, t + 3 * S);
	fg_feedback_alert_delivery(fb, "bed-12", FG_DELIVERY_GAVE_UP, t + 4 * S);
	assert_shows(fb, t + 4 * S, FG_FB_IDLE, FG_FB_UNDELIVERABLE, NONE);
	/* same state again keeps its time */
	fg_feedback_alert_delivery(fb, "bed-12", FG_DELIVERY_GAVE_UP, t + 5 * S);
	assert_int_equal(out_at(fb, t + 5 * S, ALERT).start_usec, t + 4 * S);

	/* closed: three flashes, then dark */
	assert_int_equal(fg_feedback_alert_closed(fb, "bed-12", t + 6 * S), 0);
	assert_int_equal(fg_feedback_open_alerts(fb), 0);
	assert_shows(fb, t + 6 * S, FG_FB_IDLE, FG_FB_CLOSED, NONE);
	assert_true(level(fb, t + 6 * S, ALERT));
	assert_false(level(fb, t + 6 * S + 150 * MS, ALERT));
	assert_true(level(fb, t + 6 * S + 450 * MS, ALERT));
	assert_shows(fb, t + 6 * S + 500 * MS, FG_FB_IDLE, NONE, NONE);
	fg_feedback_free(fb);
}

static void test_worst_alert_shows(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	fg_feedback_alert_opened(fb, "a", 0);
	fg_feedback_alert_opened(fb, "b", 1 * S);
	fg_feedback_alert_delivery(fb, "a", FG_DELIVERY_DELIVERED, 2 * S);
	/* b is still unconfirmed: open wins over delivered */
	assert_shows(fb, 3 * S, FG_FB_IDLE, FG_FB_OPEN, NONE);
	fg_feedback_alert_delivery(fb, "b", FG_DELIVERY_DELIVERED, 4 * S);
	assert_shows(fb, 4 * S, FG_FB_IDLE, FG_FB_DELIVERED, NONE);
	fg_feedback_alert_delivery(fb, "a", FG_DELIVERY_FAILING, 5 * S);
	assert_shows(fb, 5 * S, FG_FB_IDLE, FG_FB_FAILING, NONE);
	fg_feedback_alert_delivery(fb, "b", FG_DELIVERY_GAVE_UP, 6 * S);
	assert_shows(fb, 6 * S, FG_FB_IDLE, FG_FB_UNDELIVERABLE, NONE);
	fg_feedback_alert_closed(fb, "b", 7 * S);
	assert_shows(fb, 8 * S, FG_FB_IDLE, FG_FB_FAILING, NONE);
	fg_feedback_free(fb);
}

static void test_escalation_timing(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);
	const uint64_t t0 = 1000 * S + 7;
	struct fg_feedback_output o;

	fg_feedback_alert_opened(fb, "bed-1", t0);
	fg_feedback_alert_delivery(fb, "bed-1", FG_DELIVERY_DELIVERED, t0 + 1 * S);
	assert_shows(fb, t0 + 2 * MIN - 1, FG_FB_IDLE, FG_FB_DELIVERED, NONE);
	/* the deadline is the escalation time itself */
	assert_int_equal(next_at(fb, t0 + 2 * MIN - 1000), t0 + 2 * MIN);

	/* level 1: faster blink on the alert LED, started at the threshold */
	assert_shows(fb, t0 + 2 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, NONE);
	o = out_at(fb, t0 + 2 * MIN, ALERT);
	assert_int_equal(o.start_usec, t0 + 2 * MIN);
	assert_true(o.level);
	assert_int_equal(o.next_usec, t0 + 2 * MIN + 250 * MS);

	/* level 2: buzzer chirps are added, the LED keeps level 1 */
	assert_shows(fb, t0 + 5 * MIN - 1, FG_FB_IDLE, FG_FB_LEVEL1, NONE);
	assert_shows(fb, t0 + 5 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, FG_FB_LEVEL2);
	o = out_at(fb, t0 + 5 * MIN, BUZZER);
	assert_int_equal(o.start_usec, t0 + 5 * MIN);
	assert_true(o.level);
	assert_int_equal(o.next_usec, t0 + 5 * MIN + 100 * MS);
	assert_false(level(fb, t0 + 5 * MIN + 5 * S, BUZZER));
	assert_true(level(fb, t0 + 5 * MIN + 10 * S, BUZZER));

	/* level 3: the buzzer goes continuous (500 ms on, 500 ms off) */
	assert_shows(fb, t0 + 10 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, FG_FB_LEVEL3);
	assert_true(level(fb, t0 + 10 * MIN + 499 * MS, BUZZER));
	assert_false(level(fb, t0 + 10 * MIN + 500 * MS, BUZZER));
	assert_true(level(fb, t0 + 10 * MIN + 1 * S, BUZZER));
	assert_int_equal(active_at(fb, t0 + 10 * MIN) & (BIT(FG_FB_LEVEL1) | BIT(FG_FB_LEVEL2) | BIT(FG_FB_LEVEL3)),
			 BIT(FG_FB_LEVEL1) | BIT(FG_FB_LEVEL2) | BIT(FG_FB_LEVEL3));

	/* a failing delivery still shows over the escalation blink */
	fg_feedback_alert_delivery(fb, "bed-1", FG_DELIVERY_FAILING, t0 + 11 * MIN);
	assert_shows(fb, t0 + 11 * MIN, FG_FB_IDLE, FG_FB_FAILING, FG_FB_LEVEL3);

	/* closed: everything stops */
	fg_feedback_alert_closed(fb, "bed-1", t0 + 12 * MIN);
	assert_shows(fb, t0 + 12 * MIN, FG_FB_IDLE, FG_FB_CLOSED, NONE);
	assert_shows(fb, t0 + 13 * MIN, FG_FB_IDLE, NONE, NONE);
	fg_feedback_free(fb);
}

static void test_escalation_disabled_levels(void **state)
{
	static const uint64_t levels[FG_ESCALATION_LEVELS] = { 0, 5 * MIN, 0 };
	const char *t[_FG_FB_STATE_MAX] = {
		[FG_FB_LEVEL1] = "alert_led: on",
		[FG_FB_LEVEL2] = "buzzer: on",
		[FG_FB_LEVEL3] = "status_led: on",
	};
	struct fg_feedback *fb = new_fb_only(t, levels);

	fg_feedback_alert_opened(fb, "x", 0);
	assert_int_equal(next_at(fb, 0), 5 * MIN);
	assert_shows(fb, 4 * MIN, NONE, NONE, NONE);
	assert_shows(fb, 5 * MIN, NONE, NONE, FG_FB_LEVEL2);
	assert_int_equal(next_at(fb, 5 * MIN), FG_USEC_INFINITY);
	assert_shows(fb, 60 * MIN, NONE, NONE, FG_FB_LEVEL2);
	fg_feedback_free(fb);
}

static void test_escalation_from_first_open(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	fg_feedback_alert_opened(fb, "x", 0);
	/* a second "On" while open does not restart escalation */
	fg_feedback_alert_opened(fb, "x", 90 * S);
	assert_shows(fb, 2 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, NONE);
	/* closed and opened again: starts over */
	fg_feedback_alert_closed(fb, "x", 3 * MIN);
	fg_feedback_alert_opened(fb, "x", 4 * MIN);
	assert_shows(fb, 5 * MIN, FG_FB_IDLE, FG_FB_OPEN, NONE);
	assert_shows(fb, 6 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, NONE);
	assert_shows(fb, 8 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, NONE);
	assert_shows(fb, 9 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, FG_FB_LEVEL2);
	fg_feedback_free(fb);
}

static void test_two_alerts_escalate_from_earliest(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	fg_feedback_alert_opened(fb, "a", 0);
	fg_feedback_alert_opened(fb, "b", 1 * MIN);
	assert_int_equal(out_at(fb, 3 * MIN + 1, ALERT).start_usec, 2 * MIN);
	/* the first one closes: level 1 still holds through b, from b's time */
	fg_feedback_alert_closed(fb, "a", 3 * MIN + 10);
	assert_shows(fb, 3 * MIN + 1 * S, FG_FB_IDLE, FG_FB_LEVEL1, NONE);
	assert_int_equal(out_at(fb, 3 * MIN + 1 * S, ALERT).start_usec, 3 * MIN);
	fg_feedback_free(fb);
}

static void test_acknowledge(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	/* nothing on: nothing to silence */
	assert_false(fg_feedback_acknowledge(fb, 1 * S));
	assert_false(active_at(fb, 1 * S) & BIT(FG_FB_SILENCED));

	fg_feedback_alert_opened(fb, "a", 10 * S);
	assert_shows(fb, 10 * S + 6 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, FG_FB_LEVEL2);
	/* somebody came and pressed the local button */
	assert_true(fg_feedback_acknowledge(fb, 10 * S + 6 * MIN));
	assert_shows(fb, 10 * S + 6 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, NONE);
	assert_false(level(fb, 10 * S + 6 * MIN, BUZZER));
	assert_true(active_at(fb, 10 * S + 6 * MIN) & BIT(FG_FB_SILENCED));
	/* it stays silent when level 3 comes for the same alert */
	assert_shows(fb, 10 * S + 11 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, NONE);

	/* a new alert after the silence sounds again at its own level 2 */
	fg_feedback_alert_opened(fb, "b", 10 * S + 7 * MIN);
	assert_shows(fb, 10 * S + 12 * MIN - 1, FG_FB_IDLE, FG_FB_LEVEL1, NONE);
	assert_shows(fb, 10 * S + 12 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, FG_FB_LEVEL2);
	assert_int_equal(out_at(fb, 10 * S + 12 * MIN, BUZZER).start_usec, 10 * S + 12 * MIN);
	assert_shows(fb, 10 * S + 17 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, FG_FB_LEVEL3);

	/* a silenced alert closing ends the silenced state */
	fg_feedback_alert_closed(fb, "a", 10 * S + 18 * MIN);
	assert_false(active_at(fb, 10 * S + 18 * MIN) & BIT(FG_FB_SILENCED));
	/* acknowledging again silences b too */
	assert_true(fg_feedback_acknowledge(fb, 10 * S + 19 * MIN));
	assert_shows(fb, 10 * S + 19 * MIN, FG_FB_IDLE, FG_FB_LEVEL1, NONE);
	assert_true(active_at(fb, 10 * S + 19 * MIN) & BIT(FG_FB_SILENCED));
	fg_feedback_free(fb);
}

static void test_acknowledge_press_chirp(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	fg_feedback_press(fb, 5 * S);
	assert_true(fg_feedback_acknowledge(fb, 5 * S + 10 * MS));
	assert_shows(fb, 5 * S + 10 * MS, FG_FB_PRESS, FG_FB_PRESS, NONE);
	/* once the chirp is over there is nothing left to silence */
	fg_feedback_press(fb, 9 * S);
	assert_false(fg_feedback_acknowledge(fb, 9 * S + 60 * MS));
	/* a press after the acknowledge chirps */
	fg_feedback_press(fb, 10 * S);
	assert_shows(fb, 10 * S, FG_FB_PRESS, FG_FB_PRESS, FG_FB_PRESS);
	fg_feedback_free(fb);
}

static void test_acknowledge_conditions(void **state)
{
	const char *t[_FG_FB_STATE_MAX] = {
		[FG_FB_NO_ADAPTER] = "status_led: blink 1s, buzzer: beep 1x 100ms every 5s",
		[FG_FB_LOW_BATTERY] = "buzzer: beep 2x 100ms every 5s",
		[FG_FB_SILENCED] = "alert_led: on",
	};
	struct fg_feedback *fb = new_fb_only(t, NULL);

	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, true, 1 * S);
	assert_shows(fb, 1 * S, FG_FB_NO_ADAPTER, NONE, FG_FB_NO_ADAPTER);
	assert_true(fg_feedback_acknowledge(fb, 2 * S));
	/* the buzzer stops, the LED keeps showing the fault, the silence shows */
	assert_shows(fb, 2 * S, FG_FB_NO_ADAPTER, FG_FB_SILENCED, NONE);
	assert_int_equal(out_at(fb, 2 * S, ALERT).start_usec, 2 * S);
	/* a condition raised later sounds */
	fg_feedback_set_button_condition(fb, FG_COND_LOW_BATTERY, "bed-4", true, 3 * S);
	assert_shows(fb, 3 * S, FG_FB_NO_ADAPTER, FG_FB_SILENCED, FG_FB_LOW_BATTERY);
	/* what was silenced is gone: so is the silence */
	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, false, 4 * S);
	assert_shows(fb, 4 * S, NONE, NONE, FG_FB_LOW_BATTERY);
	assert_false(active_at(fb, 4 * S) & BIT(FG_FB_SILENCED));
	/* a second acknowledge covers both */
	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, true, 5 * S);
	assert_true(fg_feedback_acknowledge(fb, 6 * S));
	assert_shows(fb, 6 * S, FG_FB_NO_ADAPTER, FG_FB_SILENCED, NONE);
	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, false, 7 * S);
	/* low battery (raised at 3 s) was silenced at 6 s and is still on */
	assert_shows(fb, 7 * S, NONE, FG_FB_SILENCED, NONE);
	assert_true(active_at(fb, 7 * S) & BIT(FG_FB_SILENCED));
	fg_feedback_set_button_condition(fb, FG_COND_LOW_BATTERY, "bed-4", false, 8 * S);
	assert_shows(fb, 8 * S, NONE, NONE, NONE);
	fg_feedback_free(fb);
}

static void test_acknowledge_only_what_could_sound(void **state)
{
	const char *t[_FG_FB_STATE_MAX] = { [FG_FB_OPEN] = "alert_led: on" };
	struct fg_feedback *fb = new_fb(NULL, NULL);

	/* no default fault row uses the buzzer: nothing to silence */
	fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, true, 1 * S);
	fg_feedback_set_condition(fb, FG_COND_STARTING, true, 1 * S);
	assert_false(fg_feedback_acknowledge(fb, 2 * S));
	assert_false(active_at(fb, 2 * S) & BIT(FG_FB_SILENCED));
	/* an open alert can escalate to the buzzer (level 2): that is silenced */
	fg_feedback_alert_opened(fb, "a", 3 * S);
	assert_true(fg_feedback_acknowledge(fb, 4 * S));
	assert_true(active_at(fb, 4 * S) & BIT(FG_FB_SILENCED));
	fg_feedback_free(fb);

	/* with no alert row using the buzzer, an open alert is nothing to silence */
	fb = new_fb_only(t, NULL);
	fg_feedback_alert_opened(fb, "a", 3 * S);
	assert_false(fg_feedback_acknowledge(fb, 4 * S));
	fg_feedback_free(fb);
}

static void test_finite_rows_fall_through(void **state)
{
	const char *t[_FG_FB_STATE_MAX] = {
		[FG_FB_DELIVERED] = "alert_led: on for 10s",
		[FG_FB_IDLE] = "alert_led: blink 4s 25%",
	};
	struct fg_feedback *fb = new_fb_only(t, (const uint64_t[3]) { 0, 0, 0 });

	fg_feedback_alert_opened(fb, "a", 0);
	fg_feedback_alert_delivery(fb, "a", FG_DELIVERY_DELIVERED, 1 * S);
	assert_shows(fb, 1 * S, NONE, FG_FB_DELIVERED, NONE);
	assert_int_equal(next_at(fb, 1 * S), 11 * S);
	assert_shows(fb, 11 * S, NONE, FG_FB_IDLE, NONE);
	/* a later delivery shows its 10 s again: finite rows run from the latest */
	fg_feedback_alert_opened(fb, "b", 12 * S);
	fg_feedback_alert_delivery(fb, "b", FG_DELIVERY_DELIVERED, 13 * S);
	assert_shows(fb, 13 * S, NONE, FG_FB_DELIVERED, NONE);
	assert_int_equal(out_at(fb, 13 * S, ALERT).start_usec, 13 * S);
	assert_shows(fb, 23 * S, NONE, FG_FB_IDLE, NONE);
	/* still "active" as a state, just no longer shown */
	assert_true(active_at(fb, 23 * S) & BIT(FG_FB_DELIVERED));
	fg_feedback_free(fb);
}

/*
 * The loop only wakes at view.next_usec. Drive a whole ward scenario that
 * way and check, at many times in between, that nothing shown differs from
 * what was shown at the last wake-up: if a change were missed by
 * next_usec, a real gateway would show it late.
 */
struct event {
	uint64_t at;
	int what;	/* 0 press, 1 open, 2 deliver, 3 fail, 4 close, 5 ack, 6 no adapter, 7 adapter back */
	const char *button;
};

static void apply(struct fg_feedback *fb, const struct event *e)
{
	switch (e->what) {
	case 0: fg_feedback_press(fb, e->at); break;
	case 1: assert_int_equal(fg_feedback_alert_opened(fb, e->button, e->at), 0); break;
	case 2: assert_int_equal(fg_feedback_alert_delivery(fb, e->button, FG_DELIVERY_DELIVERED, e->at), 0); break;
	case 3: assert_int_equal(fg_feedback_alert_delivery(fb, e->button, FG_DELIVERY_FAILING, e->at), 0); break;
	case 4: assert_int_equal(fg_feedback_alert_closed(fb, e->button, e->at), 0); break;
	case 5: fg_feedback_acknowledge(fb, e->at); break;
	case 6: fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, true, e->at); break;
	case 7: fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, false, e->at); break;
	}
}

static void test_deadlines_are_exact(void **state)
{
	static const struct event script[] = {
		{ 2 * S, 0, NULL }, { 2 * S, 1, "bed-1" }, { 3 * S + 333, 2, "bed-1" },
		{ 40 * S, 6, NULL }, { 70 * S, 7, NULL },
		{ 150 * S, 0, NULL }, { 150 * S, 1, "bed-2" }, { 151 * S, 3, "bed-2" },
		{ 7 * MIN, 5, NULL }, { 8 * MIN, 0, NULL }, { 8 * MIN, 4, "bed-1" },
		{ 9 * MIN, 2, "bed-2" }, { 16 * MIN, 0, NULL }, { 16 * MIN, 4, "bed-2" },
	};
	struct fg_feedback *fb = new_fb(NULL, NULL);
	const uint64_t end = 18 * MIN;
	size_t ev = 0, wakes = 0, changes = 0;
	uint64_t now = 0;
	struct fg_feedback_view v, prev = { 0 };
	unsigned seed = 12345;

	while (now < end) {
		uint64_t next, ev_at;

		while (ev < sizeof(script) / sizeof(script[0]) && script[ev].at <= now)
			apply(fb, &script[ev++]);
		fg_feedback_evaluate(fb, now, &v);
		wakes++;
		for (int o = 0; o < _FG_OUTPUT_MAX; o++)
			if (wakes > 1 && (v.out[o].level != prev.out[o].level || v.out[o].state != prev.out[o].state))
				changes++;
		assert_true(v.next_usec > now);
		assert_true(v.next_state_usec >= v.next_usec);
		ev_at = ev < sizeof(script) / sizeof(script[0]) ? script[ev].at : FG_USEC_INFINITY;
		next = v.next_usec < ev_at ? v.next_usec : ev_at;
		if (next > end)
			next = end;
		/* probe between wake-ups: same states, same levels */
		for (int k = 0; k < 5 && next - now > 1; k++) {
			struct fg_feedback_view mid;
			uint64_t t;

			seed = seed * 1103515245 + 12345;
			t = now + 1 + (uint64_t)(seed >> 8) % (next - now - 1);
			fg_feedback_evaluate(fb, t, &mid);
			for (int o = 0; o < _FG_OUTPUT_MAX; o++) {
				if (mid.out[o].state != v.out[o].state || mid.out[o].level != v.out[o].level)
					fail_msg("output %d changed at %llu between wake-ups %llu and %llu", o,
						 (unsigned long long)t, (unsigned long long)now,
						 (unsigned long long)next);
			}
		}
		/* rows and patterns hold until next_state_usec (or the next event) */
		for (int k = 0; k < 5; k++) {
			uint64_t lim = v.next_state_usec < ev_at ? v.next_state_usec : ev_at, t;
			struct fg_feedback_view mid;

			if (lim > end)
				lim = end;
			if (lim - now <= 1)
				break;
			seed = seed * 1103515245 + 12345;
			t = now + 1 + (uint64_t)(seed >> 8) % (lim - now - 1);
			fg_feedback_evaluate(fb, t, &mid);
			for (int o = 0; o < _FG_OUTPUT_MAX; o++)
				if (mid.out[o].state != v.out[o].state || mid.out[o].pattern != v.out[o].pattern)
					fail_msg("output %d changed row at %llu before next_state %llu", o,
						 (unsigned long long)t, (unsigned long long)v.next_state_usec);
		}
		prev = v;
		now = next;
	}
	/* the scenario exercised the outputs, and waking was bounded by edges */
	assert_true(changes > 100);
	assert_true(wakes < 2 * changes + 40);
	fg_feedback_free(fb);
}

static void test_from_config(void **state)
{
	struct fg_config c = { 0 };
	struct fg_feedback *fb = NULL;

	c.escalation.level_after_usec[0] = 1 * MIN;
	c.gpio.patterns[FG_FB_IDLE] = (char *)"status_led: on, buzzer: off";
	c.gpio.patterns[FG_FB_LEVEL1] = (char *)"buzzer: on";
	assert_int_equal(fg_feedback_new_from_config(&c, &fb), 0);
	assert_shows(fb, 0, FG_FB_IDLE, NONE, FG_FB_IDLE);
	assert_true(level(fb, 0, STATUS));
	fg_feedback_alert_opened(fb, "a", 0);
	/* NULL rows are the defaults: open blinks */
	assert_shows(fb, 0, FG_FB_IDLE, FG_FB_OPEN, FG_FB_IDLE);
	assert_shows(fb, 1 * MIN, FG_FB_IDLE, FG_FB_OPEN, FG_FB_LEVEL1);
	/* level 2 and 3 are disabled (0) in this config */
	assert_shows(fb, 60 * MIN, FG_FB_IDLE, FG_FB_OPEN, FG_FB_LEVEL1);
	fg_feedback_free(fb);

	fb = NULL;
	c.gpio.patterns[FG_FB_PRESS] = (char *)"buzzer: wobble";
	assert_int_equal(fg_feedback_new_from_config(&c, &fb), -EINVAL);
	assert_null(fb);
}

/* Every state has its [gpio] key, stored where the feedback core looks. */
static void test_config_keys(void **state)
{
	for (int s = 0; s < _FG_FB_STATE_MAX; s++) {
		struct fg_config_errors e = { 0 };
		struct fg_config *c = NULL;
		char text[200];

		/* a defaulted config has every row's default */
		assert_int_equal(fg_config_parse("t.ini", "", 0, &e, &c), 0);
		assert_string_equal(c->gpio.patterns[s], fg_feedback_state_default(s));
		fg_config_unref(c);
		c = NULL;

		snprintf(text, sizeof(text), "[gpio]\n%s_pattern = status_led: on for 2s\n",
			 fg_feedback_state_to_string(s));
		assert_int_equal(fg_config_parse("t.ini", text, strlen(text), &e, &c), 0);
		assert_string_equal(c->gpio.patterns[s], "status_led: on for 2s");
		for (int o = 0; o < _FG_FB_STATE_MAX; o++)
			if (o != s)
				assert_string_equal(c->gpio.patterns[o], fg_feedback_state_default(o));
		fg_config_unref(c);
		c = NULL;

		snprintf(text, sizeof(text), "[gpio]\n\n%s_pattern = buzzer: beep 3x 100ms every 300ms\n",
			 fg_feedback_state_to_string(s));
		assert_int_equal(fg_config_parse("t.ini", text, strlen(text), &e, &c), -EINVAL);
		assert_null(c);
		assert_int_equal(e.n, 1);
		snprintf(text, sizeof(text), "t.ini:3: gpio.%s_pattern: buzzer: every 300ms leaves no pause",
			 fg_feedback_state_to_string(s));
		if (!strstr(e.messages[0], text))
			fail_msg("'%s' does not contain '%s'", e.messages[0], text);
		fg_config_errors_clear(&e);

		/* only press and closed insist on patterns that end */
		snprintf(text, sizeof(text), "[gpio]\n%s_pattern = buzzer: on\n", fg_feedback_state_to_string(s));
		assert_int_equal(fg_config_parse("t.ini", text, strlen(text), &e, &c),
				 fg_feedback_state_is_transient(s) ? -EINVAL : 0);
		if (fg_feedback_state_is_transient(s))
			assert_non_null(strstr(e.messages[0], "buzzer: 'on' never ends"));
		fg_config_errors_clear(&e);
		fg_config_unref(c);
		c = NULL;
	}
}

/* ---- events: which light each thing that happens raises ---------------------- */

static int event(struct fg_feedback *fb, struct fg_feedback_event ev, uint64_t now)
{
	return fg_feedback_event(fb, &ev, now);
}

static void test_event_alarms(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	/* a button's battery and not-seen alarms are per button */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_BATTERY_LOW, .button = "b0", .on = true }, 1 * S), 0);
	assert_true(fg_feedback_condition_is_set(fb, FG_COND_LOW_BATTERY));
	assert_shows(fb, 1 * S, FG_FB_LOW_BATTERY, NONE, NONE);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_BUTTON_OFFLINE, .button = "b1", .on = true }, 2 * S), 0);
	assert_shows(fb, 2 * S, FG_FB_NOT_SEEN, NONE, NONE);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_BUTTON_OFFLINE, .button = "b1", .on = false }, 3 * S), 0);
	assert_false(fg_feedback_condition_is_set(fb, FG_COND_NOT_SEEN));
	assert_shows(fb, 3 * S, FG_FB_LOW_BATTERY, NONE, NONE);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_BATTERY_LOW, .button = "b0", .on = false }, 4 * S), 0);
	assert_shows(fb, 4 * S, FG_FB_IDLE, NONE, NONE);

	/* every target failing: the fallback alarm, on the buzzer too */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_TARGETS_FAILING, .on = true }, 5 * S), 0);
	assert_shows(fb, 5 * S, FG_FB_TARGETS_FAILING, NONE, FG_FB_TARGETS_FAILING);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_TARGETS_FAILING, .on = false }, 6 * S), 0);

	/* Bluetooth gone and the clock have no light of their own */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_BLUETOOTH_GONE, .on = true }, 7 * S), 0);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_CLOCK_UNSYNCED, .on = true }, 7 * S), 0);
	assert_shows(fb, 7 * S, FG_FB_IDLE, NONE, NONE);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = _FG_ALARM_KIND_MAX, .on = true }, 7 * S), -EINVAL);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = _FG_FB_EVENT_MAX }, 7 * S), -EINVAL);
	fg_feedback_free(fb);
}

/* Spool full is on while any of its sources is: the spool's alarm or a lost alert, or supervision's. */
static void test_event_spool_sources(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_SPOOL,
		.spool_alarm = true }, 1 * S), 0);
	assert_shows(fb, 1 * S, FG_FB_SPOOL_FULL, NONE, NONE);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_SPOOL_HIGH, .on = true, .spool_alarm = true }, 2 * S), 0);
	/* the pipeline's alarm ends; supervision's keeps the light, from its first time */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_SPOOL }, 3 * S), 0);
	assert_shows(fb, 3 * S, FG_FB_SPOOL_FULL, NONE, NONE);
	assert_int_equal(out_at(fb, 3 * S, STATUS).start_usec, 1 * S);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_SPOOL_HIGH, .on = false }, 4 * S), 0);
	assert_shows(fb, 4 * S, FG_FB_IDLE, NONE, NONE);

	/* supervision's alarm alone, and the spool's state read with it */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_SPOOL_HIGH, .on = true }, 5 * S), 0);
	assert_shows(fb, 5 * S, FG_FB_SPOOL_FULL, NONE, NONE);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM,
		.alarm = FG_ALARM_SPOOL_HIGH, .on = false, .spool_alarm = true }, 6 * S), 0);
	assert_shows(fb, 6 * S, FG_FB_SPOOL_FULL, NONE, NONE);
	fg_feedback_free(fb);
}

/* Only a button's own On moves its alert LED; a dead letter always raises its condition. */
static void test_event_delivery(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);
	const uint64_t t = 10 * S;

	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALERT_OPENED,
		.button = "bed-1" }, t), 0);
	assert_shows(fb, t, FG_FB_IDLE, FG_FB_OPEN, NONE);
	/* a test alert, a supervision alert and an Off of the same button change nothing */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_DELIVERED,
		.button = "bed-1", .alert_on = true, .alert_test = true }, t + 1 * S), 0);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_DELIVERED,
		.button = "bed-1", .alert_on = true, .alert_supervision = true }, t + 1 * S), 0);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_FAILING,
		.button = "bed-1" }, t + 1 * S), 0);
	assert_shows(fb, t + 1 * S, FG_FB_IDLE, FG_FB_OPEN, NONE);
	/* the On itself */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_FAILING,
		.button = "bed-1", .alert_on = true }, t + 2 * S), 0);
	assert_shows(fb, t + 2 * S, FG_FB_IDLE, FG_FB_FAILING, NONE);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_DELIVERED,
		.button = "bed-1", .alert_on = true }, t + 3 * S), 0);
	assert_shows(fb, t + 3 * S, FG_FB_IDLE, FG_FB_DELIVERED, NONE);
	/* a test alert refused for good: the dead letters show, the alert LED does not move */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_DEAD_LETTER,
		.button = "bed-1", .alert_on = true, .alert_test = true }, t + 4 * S), 0);
	assert_shows(fb, t + 4 * S, FG_FB_DEAD_LETTER, FG_FB_DELIVERED, NONE);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_DEAD_LETTER,
		.button = "bed-1", .alert_on = true }, t + 5 * S), 0);
	assert_shows(fb, t + 5 * S, FG_FB_DEAD_LETTER, FG_FB_UNDELIVERABLE, NONE);
	/* closed: a late delivery of it is nothing, and no error */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALERT_CLOSED,
		.button = "bed-1" }, t + 6 * S), 0);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_DELIVERED,
		.button = "bed-1", .alert_on = true }, t + 7 * S), 0);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_ALERT_CLOSED,
		.button = "bed-1" }, t + 7 * S), 0);
	assert_int_equal(fg_feedback_open_alerts(fb), 0);
	fg_feedback_free(fb);
}

/* A target refusing our key or URL is a configuration fault, read with every delivery event. */
static void test_event_targets(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_TARGETS,
		.targets_refusing = true }, 1 * S), 0);
	assert_shows(fb, 1 * S, FG_FB_CONFIG_FAULT, NONE, NONE);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_FAILING,
		.button = "x", .targets_refusing = true }, 2 * S), 0);
	assert_int_equal(out_at(fb, 2 * S, STATUS).start_usec, 1 * S);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_DELIVERED,
		.button = "x" }, 3 * S), 0);
	assert_shows(fb, 3 * S, FG_FB_IDLE, NONE, NONE);
	/* a dead letter or a spool event does not read it */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_SPOOL,
		.targets_refusing = true }, 4 * S), 0);
	assert_false(fg_feedback_condition_is_set(fb, FG_COND_CONFIG_FAULT));
	fg_feedback_free(fb);
}

/* Values the image could not apply at boot (flicgate-errors.txt) show as a configuration fault from the start. */
static void test_event_boot_errors(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_RESTORED,
		.boot_errors = true }, 1 * S), 0);
	assert_shows(fb, 1 * S, FG_FB_CONFIG_FAULT, NONE, NONE);
	/* a delivery event keeps reading it: still there while the file is */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_DELIVERED,
		.button = "x", .boot_errors = true }, 2 * S), 0);
	assert_true(fg_feedback_condition_is_set(fb, FG_COND_CONFIG_FAULT));
	/* fixed and reloaded: gone */
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_TARGETS }, 3 * S), 0);
	assert_false(fg_feedback_condition_is_set(fb, FG_COND_CONFIG_FAULT));
	fg_feedback_free(fb);
}

/* One chirp per physical press: not for the gestures it produces, not for queued ones. */
static void test_event_gesture(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_GESTURE }, 1 * S), 0);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_GESTURE,
		.down = true, .queued = true }, 1 * S), 0);
	assert_shows(fb, 1 * S, FG_FB_IDLE, NONE, NONE);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_GESTURE,
		.down = true }, 2 * S), 0);
	assert_shows(fb, 2 * S, FG_FB_PRESS, FG_FB_PRESS, FG_FB_PRESS);
	fg_feedback_free(fb);
}

/* Start-up, the radio at once (no waiting for the alarm), and what was found at start. */
static void test_event_radio_start_restored(void **state)
{
	struct fg_feedback *fb = new_fb(NULL, NULL);

	assert_int_equal(fg_feedback_set_condition(fb, FG_COND_STARTING, true, 0), 0);
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_RESTORED,
		.dead_letters = true, .spool_alarm = true }, 1 * S), 0);
	assert_true(fg_feedback_condition_is_set(fb, FG_COND_DEAD_LETTER));
	assert_true(fg_feedback_condition_is_set(fb, FG_COND_SPOOL_FULL));
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_STARTED }, 2 * S), 0);
	assert_false(fg_feedback_condition_is_set(fb, FG_COND_STARTING));
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_RADIO }, 3 * S), 0);
	assert_true(fg_feedback_condition_is_set(fb, FG_COND_NO_ADAPTER));
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_RADIO,
		.on = true }, 4 * S), 0);
	assert_false(fg_feedback_condition_is_set(fb, FG_COND_NO_ADAPTER));
	assert_int_equal(event(fb, (struct fg_feedback_event){ .kind = FG_FB_EVENT_RESTORED }, 5 * S), 0);
	assert_shows(fb, 5 * S, FG_FB_IDLE, NONE, NONE);
	fg_feedback_free(fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/feedback/state-names", test_state_names),
		FG_TEST("/feedback/validate-transient", test_validate_transient),
		FG_TEST("/feedback/idle", test_idle),
		FG_TEST("/feedback/nothing-at-all", test_nothing_at_all),
		FG_TEST("/feedback/each-condition", test_each_condition),
		FG_TEST("/feedback/condition-priorities", test_condition_priorities),
		FG_TEST("/feedback/condition-keeps-time", test_condition_keeps_time),
		FG_TEST("/feedback/button-conditions", test_button_conditions),
		FG_TEST("/feedback/invalid-args", test_invalid_args),
		FG_TEST("/feedback/press", test_press),
		FG_TEST("/feedback/press-over-fault", test_press_over_fault),
		FG_TEST("/feedback/alert-lifecycle", test_alert_lifecycle),
		FG_TEST("/feedback/worst-alert-shows", test_worst_alert_shows),
		FG_TEST("/feedback/escalation-timing", test_escalation_timing),
		FG_TEST("/feedback/escalation-disabled-levels", test_escalation_disabled_levels),
		FG_TEST("/feedback/escalation-from-first-open", test_escalation_from_first_open),
		FG_TEST("/feedback/two-alerts-escalate", test_two_alerts_escalate_from_earliest),
		FG_TEST("/feedback/acknowledge", test_acknowledge),
		FG_TEST("/feedback/acknowledge-press-chirp", test_acknowledge_press_chirp),
		FG_TEST("/feedback/acknowledge-conditions", test_acknowledge_conditions),
		FG_TEST("/feedback/acknowledge-only-what-could-sound", test_acknowledge_only_what_could_sound),
		FG_TEST("/feedback/finite-rows-fall-through", test_finite_rows_fall_through),
		FG_TEST("/feedback/deadlines-are-exact", test_deadlines_are_exact),
		FG_TEST("/feedback/from-config", test_from_config),
		FG_TEST("/feedback/config-keys", test_config_keys),
		FG_TEST("/feedback/events/supervision-alarms", test_event_alarms),
		FG_TEST("/feedback/events/spool-sources", test_event_spool_sources),
		FG_TEST("/feedback/events/delivery-of-a-buttons-on", test_event_delivery),
		FG_TEST("/feedback/events/targets-refusing", test_event_targets),
		FG_TEST("/feedback/events/boot-errors-config-fault", test_event_boot_errors),
		FG_TEST("/feedback/events/one-chirp-per-press", test_event_gesture),
		FG_TEST("/feedback/events/radio-start-restored", test_event_radio_start_restored),
	};

	return cmocka_run_group_tests_name("feedback", tests, NULL, NULL);
}
