/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fg-test.h"

#include "feedback/pattern.h"
#include "lib/timeutil.h"

#define MS FG_USEC_PER_MSEC
#define S FG_USEC_PER_SEC

static struct fg_pattern parse_ok(const char *s)
{
	struct fg_pattern p;
	char err[200] = "";
	int r = fg_pattern_parse(s, &p, err, sizeof(err));

	if (r < 0)
		fail_msg("'%s' failed: %s", s, err);
	return p;
}

static void test_parse_off_on(void **state)
{
	struct fg_pattern p;

	p = parse_ok("off");
	assert_int_equal(p.kind, FG_PATTERN_OFF);
	assert_int_equal(p.for_usec, 0);
	p = parse_ok("  on  ");
	assert_int_equal(p.kind, FG_PATTERN_ON);
	p = parse_ok("on for 2s");
	assert_int_equal(p.kind, FG_PATTERN_ON);
	assert_int_equal(p.for_usec, 2 * S);
	assert_true(fg_pattern_is_finite(&p));
	assert_int_equal(fg_pattern_length(&p), 2 * S);
	p = parse_ok("off\tfor 1500ms");
	assert_int_equal(p.kind, FG_PATTERN_OFF);
	assert_int_equal(p.for_usec, 1500 * MS);
}

static void test_parse_blink(void **state)
{
	struct fg_pattern p;

	p = parse_ok("blink 1s");
	assert_int_equal(p.kind, FG_PATTERN_BLINK);
	assert_int_equal(p.period_usec, 1 * S);
	assert_int_equal(p.on_usec, 500 * MS);
	assert_false(fg_pattern_is_finite(&p));

	p = parse_ok("blink 2s 10%");
	assert_int_equal(p.period_usec, 2 * S);
	assert_int_equal(p.on_usec, 200 * MS);

	p = parse_ok("blink 1s 100ms for 5s");
	assert_int_equal(p.on_usec, 100 * MS);
	assert_int_equal(p.for_usec, 5 * S);
	assert_true(fg_pattern_is_finite(&p));

	p = parse_ok("blink 1min 1%");
	assert_int_equal(p.period_usec, 60 * S);
	assert_int_equal(p.on_usec, 600 * MS);
}

static void test_parse_beep(void **state)
{
	struct fg_pattern p;

	p = parse_ok("beep 100ms");
	assert_int_equal(p.kind, FG_PATTERN_BEEP);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.on_usec, 100 * MS);
	assert_int_equal(p.gap_usec, 100 * MS);
	assert_int_equal(p.period_usec, 0);
	assert_false(p.flash);
	assert_true(fg_pattern_is_finite(&p));
	assert_int_equal(fg_pattern_length(&p), 100 * MS);

	p = parse_ok("beep 3x 100ms every 2s");
	assert_int_equal(p.count, 3);
	assert_int_equal(p.period_usec, 2 * S);
	assert_false(fg_pattern_is_finite(&p));

	p = parse_ok("flash 2x 50ms gap 200ms");
	assert_true(p.flash);
	assert_int_equal(p.gap_usec, 200 * MS);
	assert_int_equal(fg_pattern_length(&p), 300 * MS);

	/* clauses in any order */
	p = parse_ok("beep 2x 100ms for 1min every 5s gap 50ms");
	assert_int_equal(p.for_usec, 60 * S);
	assert_int_equal(p.period_usec, 5 * S);
	assert_int_equal(p.gap_usec, 50 * MS);
	assert_int_equal(fg_pattern_length(&p), 60 * S);

	/* "for" holds a single burst's silence */
	p = parse_ok("beep 1x 50ms for 2s");
	assert_int_equal(fg_pattern_length(&p), 2 * S);

	p = parse_ok("beep 20x 10ms every 1s");
	assert_int_equal(p.count, 20);
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *in;
		const char *msg;	/* substring of the error */
	} cases[] = {
		{ "", "empty pattern" },
		{ "   ", "empty pattern" },
		{ "blnk 1s", "unknown pattern 'blnk'" },
		{ "ON", "unknown pattern 'ON'" },
		{ "blink", "blink period: missing duration" },
		{ "blink fast", "'fast' is not a duration" },
		{ "blink 1s 0%", "expected 1% to 99%" },
		{ "blink 1s 100%", "expected 1% to 99%" },
		{ "blink 1s 5x%", "expected 1% to 99%" },
		{ "blink 1s 1000ms", "off time" },
		{ "blink 1s 995ms", "off time" },
		{ "blink 15ms", "on time 7500us is shorter than 10ms" },
		{ "blink 1s 5ms", "blink on time: 5ms is shorter than 10ms" },
		{ "blink 2d", "longer than" },
		{ "on 2s", "unexpected '2s' (expected for, once)" },
		{ "on for", "for: missing duration" },
		{ "on for 2s for 3s", "unexpected 'for'" },
		{ "on for 5ms", "shorter than 10ms" },
		{ "off every 1s", "unexpected 'every'" },
		{ "beep", "beep length: missing duration" },
		{ "flash 3x", "flash length: missing duration" },
		{ "beep 0x 100ms", "expected 1x to 20x" },
		{ "beep 21x 100ms", "expected 1x to 20x" },
		{ "beep 3 100ms", "unexpected '100ms'" },
		{ "beep 3x 100ms every 400ms", "every 400ms leaves no pause after the burst (500ms long)" },
		{ "beep 3x 100ms every 500ms", "leaves no pause" },
		{ "beep 100ms every 1s every 2s", "unexpected 'every'" },
		{ "beep 100ms gap", "gap: missing duration" },
		{ "beep 100ms loud", "unexpected 'loud' (expected gap, every or for, each once)" },
		{ "blink 1s gap 1s", "unexpected 'gap'" },
		{ "on for 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s", "too many words" },
		{ "on for 100000000000000000000000000000000000000000s", "word too long" },
		{ "on for 99999999999999999999s", "not a duration" },
	};
	struct fg_pattern p = { .kind = FG_PATTERN_ON, .on_usec = 42 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[200] = "";
		int r = fg_pattern_parse(cases[i].in, &p, err, sizeof(err));

		if (r != -EINVAL || !strstr(err, cases[i].msg))
			fail_msg("'%s': r=%d err='%s', expected '%s'", cases[i].in, r, err, cases[i].msg);
		/* untouched on failure */
		assert_int_equal(p.kind, FG_PATTERN_ON);
		assert_int_equal(p.on_usec, 42);
	}
	/* NULL error buffer and NULL input are fine */
	assert_int_equal(fg_pattern_parse("nope", &p, NULL, 0), -EINVAL);
	assert_int_equal(fg_pattern_parse(NULL, &p, NULL, 0), -EINVAL);
}

static void test_format_roundtrip(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "off", "off" },
		{ "on", "on" },
		{ "on for 1000ms", "on for 1s" },
		{ "off for 90s", "off for 90s" },
		{ "off for 120s", "off for 2min" },
		{ "blink 1s", "blink 1s 50%" },
		{ "blink 1s 25%", "blink 1s 25%" },
		{ "blink 1s 250ms", "blink 1s 25%" },
		{ "blink 3s 70ms", "blink 3s 70ms" },
		{ "blink 1500ms 33% for 1min", "blink 1500ms 33% for 1min" },
		{ "beep 100ms", "beep 1x 100ms" },
		{ "flash 2x 50ms gap 200ms every 3s", "flash 2x 50ms gap 200ms every 3s" },
		{ "beep 3x 100ms gap 100ms", "beep 3x 100ms" },
		{ "beep 1x 10500us every 1s", "beep 1x 10500us every 1s" },
		{ "beep 1x 50ms for 2s", "beep 1x 50ms for 2s" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fg_pattern p = parse_ok(cases[i].in), q;
		char buf[FG_PATTERN_BUF];

		fg_pattern_format(&p, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].out);
		q = parse_ok(buf);
		assert_true(fg_pattern_equal(&p, &q));
	}
}

static void test_format_small_buffer(void **state)
{
	struct fg_pattern p = parse_ok("flash 2x 50ms gap 200ms every 3s for 1min");
	char buf[8];

	fg_pattern_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "flash 2");
	fg_pattern_format(&p, buf, 1);
	assert_string_equal(buf, "");
}

static void test_equal(void **state)
{
	struct fg_pattern a = parse_ok("beep 2x 100ms every 1s");
	struct fg_pattern b = parse_ok("flash 2x 100ms every 1s");
	struct fg_pattern c = parse_ok("beep 2x 100ms every 1s");

	assert_true(fg_pattern_equal(&a, &c));
	assert_false(fg_pattern_equal(&a, &b));	/* printed differently */
	c.for_usec = 1;
	assert_false(fg_pattern_equal(&a, &c));
}

/*
 * Walk a pattern from @start by following next_usec, and compare the list
 * of (time offset, level) changes with @expect, ended by the end of the
 * pattern (level -1) or by @until.
 */
struct step {
	uint64_t at;	/* offset from start */
	int level;	/* 0, 1, or -1 = ended */
};

static void walk(const char *text, uint64_t start, uint64_t until, const struct step *expect, size_t n)
{
	struct fg_pattern p = parse_ok(text);
	struct fg_pattern_sample smp;
	uint64_t now = start;
	size_t i = 0;

	for (;;) {
		fg_pattern_sample(&p, start, now, &smp);
		if (i >= n)
			fail_msg("%s: more steps than expected at +%llu", text,
				 (unsigned long long)(now - start));
		if (expect[i].at != now - start || expect[i].level != (smp.active ? smp.level : -1))
			fail_msg("%s: step %zu: got +%llu level %d, expected +%llu level %d", text, i,
				 (unsigned long long)(now - start), smp.active ? smp.level : -1,
				 (unsigned long long)expect[i].at, expect[i].level);
		i++;
		if (!smp.active) {
			assert_int_equal(smp.next_usec, FG_USEC_INFINITY);
			assert_false(smp.level);
			break;
		}
		if (smp.next_usec == FG_USEC_INFINITY)
			break;
		assert_true(smp.next_usec > now);
		/* nothing changes strictly between now and next */
		for (uint64_t t = now + 1; t < smp.next_usec; t += (smp.next_usec - now) / 7 + 1) {
			struct fg_pattern_sample mid;

			fg_pattern_sample(&p, start, t, &mid);
			assert_true(mid.active);
			assert_int_equal(mid.level, smp.level);
			assert_int_equal(mid.next_usec, smp.next_usec);
		}
		now = smp.next_usec;
		if (now - start > until)
			break;
	}
	if (i != n)
		fail_msg("%s: %zu steps, expected %zu", text, i, n);
}

#define WALK(text, start, until, ...) do { \
		static const struct step _e[] = { __VA_ARGS__ }; \
		walk((text), (start), (until), _e, sizeof(_e) / sizeof(_e[0])); \
	} while (0)

static void test_sample_on_off(void **state)
{
	WALK("on", 5 * S, 0, { 0, 1 });
	WALK("off", 5 * S, 0, { 0, 0 });
	WALK("on for 1s", 5 * S, 10 * S, { 0, 1 }, { 1 * S, -1 });
	WALK("off for 2s", 0, 10 * S, { 0, 0 }, { 2 * S, -1 });
}

static void test_sample_blink(void **state)
{
	WALK("blink 1s", 1000, 3 * S,
	     { 0, 1 }, { 500 * MS, 0 }, { 1 * S, 1 }, { 1500 * MS, 0 }, { 2 * S, 1 },
	     { 2500 * MS, 0 }, { 3 * S, 1 });
	WALK("blink 1s 20% for 1500ms", 7 * S, 10 * S,
	     { 0, 1 }, { 200 * MS, 0 }, { 1 * S, 1 }, { 1200 * MS, 0 }, { 1500 * MS, -1 });
	/* ends exactly on an edge */
	WALK("blink 1s 50% for 1s", 0, 10 * S, { 0, 1 }, { 500 * MS, 0 }, { 1 * S, -1 });
}

static void test_sample_beep(void **state)
{
	WALK("beep 3x 100ms every 1s", 42, 2 * S,
	     { 0, 1 }, { 100 * MS, 0 }, { 200 * MS, 1 }, { 300 * MS, 0 }, { 400 * MS, 1 },
	     { 500 * MS, 0 }, { 1 * S, 1 }, { 1100 * MS, 0 }, { 1200 * MS, 1 }, { 1300 * MS, 0 },
	     { 1400 * MS, 1 }, { 1500 * MS, 0 }, { 2 * S, 1 });
	/* one burst, then the pattern ends */
	WALK("flash 2x 50ms gap 150ms", 3, 10 * S,
	     { 0, 1 }, { 50 * MS, 0 }, { 200 * MS, 1 }, { 250 * MS, -1 });
	/* one burst held silent until "for" */
	WALK("beep 50ms for 1s", 0, 10 * S, { 0, 1 }, { 50 * MS, 0 }, { 1 * S, -1 });
	/* repeating, cut by "for" in the middle of a pulse */
	WALK("beep 2x 100ms every 1s for 1150ms", 0, 10 * S,
	     { 0, 1 }, { 100 * MS, 0 }, { 200 * MS, 1 }, { 300 * MS, 0 }, { 1 * S, 1 },
	     { 1100 * MS, 0 }, { 1150 * MS, -1 });
}

static void test_sample_arbitrary_times(void **state)
{
	struct fg_pattern p = parse_ok("blink 1s 30%");
	struct fg_pattern_sample smp;

	/* far into the pattern */
	fg_pattern_sample(&p, 100, 100 + 3600 * S + 250 * MS, &smp);
	assert_true(smp.active);
	assert_true(smp.level);
	assert_int_equal(smp.next_usec, 100 + 3600 * S + 300 * MS);
	fg_pattern_sample(&p, 100, 100 + 3600 * S + 300 * MS, &smp);
	assert_false(smp.level);
	assert_int_equal(smp.next_usec, 100 + 3601 * S);

	/* before the start counts as the start */
	fg_pattern_sample(&p, 10 * S, 3 * S, &smp);
	assert_true(smp.active);
	assert_true(smp.level);
	assert_int_equal(smp.next_usec, 10 * S + 300 * MS);

	/* beep between bursts */
	p = parse_ok("beep 2x 100ms every 10s");
	fg_pattern_sample(&p, 0, 25 * S, &smp);
	assert_false(smp.level);
	assert_int_equal(smp.next_usec, 30 * S);
	fg_pattern_sample(&p, 0, 30 * S + 150 * MS, &smp);
	assert_false(smp.level);
	assert_int_equal(smp.next_usec, 30 * S + 200 * MS);

	/* start near the end of time does not overflow */
	p = parse_ok("blink 1s");
	fg_pattern_sample(&p, FG_USEC_INFINITY - 200 * MS, FG_USEC_INFINITY - 100 * MS, &smp);
	assert_true(smp.level);
	assert_int_equal(smp.next_usec, FG_USEC_INFINITY);
}

static void test_output_names(void **state)
{
	assert_string_equal(fg_output_to_string(FG_OUTPUT_STATUS_LED), "status_led");
	assert_string_equal(fg_output_to_string(FG_OUTPUT_ALERT_LED), "alert_led");
	assert_string_equal(fg_output_to_string(FG_OUTPUT_BUZZER), "buzzer");
	assert_null(fg_output_to_string(_FG_OUTPUT_MAX));
	assert_null(fg_output_to_string(_FG_OUTPUT_INVALID));
	assert_int_equal(fg_output_from_string("buzzer"), FG_OUTPUT_BUZZER);
	assert_int_equal(fg_output_from_string("Buzzer"), _FG_OUTPUT_INVALID);
	assert_int_equal(fg_output_from_string(NULL), _FG_OUTPUT_INVALID);
}

static void test_set_parse(void **state)
{
	struct fg_pattern_set set;
	char err[200] = "", buf[FG_PATTERN_SET_BUF];

	assert_int_equal(fg_pattern_set_parse("status_led: on for 1s, alert_led:on for 1s ,buzzer: beep 1x 50ms",
					      &set, err, sizeof(err)), 0);
	assert_true(set.has[FG_OUTPUT_STATUS_LED]);
	assert_true(set.has[FG_OUTPUT_ALERT_LED]);
	assert_true(set.has[FG_OUTPUT_BUZZER]);
	assert_int_equal(set.pattern[FG_OUTPUT_STATUS_LED].kind, FG_PATTERN_ON);
	assert_int_equal(set.pattern[FG_OUTPUT_ALERT_LED].for_usec, 1 * S);
	assert_int_equal(set.pattern[FG_OUTPUT_BUZZER].kind, FG_PATTERN_BEEP);
	fg_pattern_set_format(&set, buf, sizeof(buf));
	assert_string_equal(buf, "status_led: on for 1s, alert_led: on for 1s, buzzer: beep 1x 50ms");

	assert_int_equal(fg_pattern_set_parse("buzzer:off", &set, err, sizeof(err)), 0);
	assert_false(set.has[FG_OUTPUT_STATUS_LED]);
	assert_true(set.has[FG_OUTPUT_BUZZER]);
	assert_int_equal(set.pattern[FG_OUTPUT_BUZZER].kind, FG_PATTERN_OFF);

	/* empty items and a trailing ',' are fine */
	assert_int_equal(fg_pattern_set_parse(" , alert_led : blink 1s , ", &set, err, sizeof(err)), 0);
	assert_true(set.has[FG_OUTPUT_ALERT_LED]);
	fg_pattern_set_format(&set, buf, sizeof(buf));
	assert_string_equal(buf, "alert_led: blink 1s 50%");

	for (const char *const *e = (const char *const[]) { "none", "", "  none ", NULL }; *e; e++) {
		assert_int_equal(fg_pattern_set_parse(*e, &set, err, sizeof(err)), 0);
		for (int o = 0; o < _FG_OUTPUT_MAX; o++)
			assert_false(set.has[o]);
		fg_pattern_set_format(&set, buf, sizeof(buf));
		assert_string_equal(buf, "none");
	}
	assert_int_equal(fg_pattern_set_parse(NULL, &set, err, sizeof(err)), 0);
}

static void test_set_errors(void **state)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "on", "'on': expected OUTPUT: PATTERN" },
		{ "led: on", "unknown output 'led'" },
		{ "buzzer: on, buzzer: off", "buzzer: given twice" },
		{ "buzzer: on; alert_led: off", "use ',' between outputs" },
		{ "status_led alert_led: on", "unknown output 'status_led alert_led'" },
		{ "buzzer, alert_led: on", "'buzzer': expected OUTPUT: PATTERN" },
		{ ": on", "missing output before ':'" },
		{ "status_led: blink 1s 0%", "status_led: blink duty '0%': expected 1% to 99%" },
		{ "buzzer: wobble", "buzzer: unknown pattern 'wobble'" },
		{ "alert_led: ", "alert_led: empty pattern" },
		{ "none, buzzer: on", "'none': expected OUTPUT: PATTERN" },
	};
	struct fg_pattern_set set = { .has = { true } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[200] = "";
		const char *v;
		int r = fg_pattern_set_parse(cases[i].in, &set, err, sizeof(err));

		if (r != -EINVAL || !strstr(err, cases[i].msg))
			fail_msg("'%s': r=%d err='%s', expected '%s'", cases[i].in, r, err, cases[i].msg);
		assert_true(set.has[0]);	/* untouched */
		v = fg_pattern_set_validate(cases[i].in, err, sizeof(err));
		assert_non_null(v);
		assert_non_null(strstr(v, cases[i].msg));
	}
	assert_null(fg_pattern_set_validate("buzzer: beep 2x 100ms every 10s", (char[64]){ 0 }, 64));
}

static void test_set_roundtrip(void **state)
{
	static const char *const cases[] = {
		"status_led: flash 1x 100ms every 3s",
		"alert_led: blink 200ms 50%, buzzer: beep 3x 100ms every 10s",
		"status_led: on, alert_led: off, buzzer: off for 1min",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fg_pattern_set a, b;
		char buf[FG_PATTERN_SET_BUF];

		assert_int_equal(fg_pattern_set_parse(cases[i], &a, NULL, 0), 0);
		fg_pattern_set_format(&a, buf, sizeof(buf));
		assert_string_equal(buf, cases[i]);
		assert_int_equal(fg_pattern_set_parse(buf, &b, NULL, 0), 0);
		for (int o = 0; o < _FG_OUTPUT_MAX; o++) {
			assert_int_equal(a.has[o], b.has[o]);
			if (a.has[o])
				assert_true(fg_pattern_equal(&a.pattern[o], &b.pattern[o]));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/pattern/parse-off-on", test_parse_off_on),
		FG_TEST("/pattern/parse-blink", test_parse_blink),
		FG_TEST("/pattern/parse-beep", test_parse_beep),
		FG_TEST("/pattern/parse-errors", test_parse_errors),
		FG_TEST("/pattern/format-roundtrip", test_format_roundtrip),
		FG_TEST("/pattern/format-small-buffer", test_format_small_buffer),
		FG_TEST("/pattern/equal", test_equal),
		FG_TEST("/pattern/sample-on-off", test_sample_on_off),
		FG_TEST("/pattern/sample-blink", test_sample_blink),
		FG_TEST("/pattern/sample-beep", test_sample_beep),
		FG_TEST("/pattern/sample-arbitrary-times", test_sample_arbitrary_times),
		FG_TEST("/pattern/output-names", test_output_names),
		FG_TEST("/pattern/set-parse", test_set_parse),
		FG_TEST("/pattern/set-errors", test_set_errors),
		FG_TEST("/pattern/set-roundtrip", test_set_roundtrip),
	};

	return cmocka_run_group_tests_name("pattern", tests, NULL, NULL);
}
