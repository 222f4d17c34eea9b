/* SPDX-License-Identifier: MIT */
#include "fg-test.h"

#include "feedback/debounce.h"
#include "lib/timeutil.h"

#define MS FG_USEC_PER_MSEC
#define INF FG_USEC_INFINITY

/* Feed edges (time, level); settle at each deadline; count events. */
struct edge {
	uint64_t at;
	bool level;
};

struct result {
	unsigned pressed, released;
	uint64_t first_press_at;
};

static struct result run(uint64_t window, bool initial, const struct edge *edges, size_t n)
{
	struct fg_debounce d;
	struct result res = { 0 };
	uint64_t deadline = INF;

	fg_debounce_init(&d, window, initial);
	for (size_t i = 0; i <= n; i++) {
		uint64_t next_edge = i < n ? edges[i].at : INF;

		/* the timer fires before the next edge if its deadline comes first */
		if (deadline != INF && deadline <= next_edge) {
			switch (fg_debounce_settle(&d, deadline)) {
			case FG_DEBOUNCE_PRESSED:
				if (res.pressed++ == 0)
					res.first_press_at = deadline;
				break;
			case FG_DEBOUNCE_RELEASED:
				res.released++;
				break;
			case FG_DEBOUNCE_NONE:
				break;
			}
			deadline = INF;
		}
		if (i < n)
			deadline = fg_debounce_input(&d, edges[i].level, edges[i].at);
	}
	assert_int_equal(d.deadline_usec, INF);
	return res;
}

#define RUN(window, initial, ...) ({ \
		static const struct edge _e[] = { __VA_ARGS__ }; \
		run((window), (initial), _e, sizeof(_e) / sizeof(_e[0])); \
	})

static void test_clean_press(void **state)
{
	struct result r = RUN(50 * MS, false, { 1000 * MS, true }, { 1300 * MS, false });

	assert_int_equal(r.pressed, 1);
	assert_int_equal(r.released, 1);
	assert_int_equal(r.first_press_at, 1050 * MS);
}

static void test_bounces(void **state)
{
	/* contact bounce for 8 ms on press and on release */
	struct result r = RUN(50 * MS, false,
			      { 1000 * MS, true }, { 1002 * MS, false }, { 1003 * MS, true },
			      { 1005 * MS, false }, { 1008 * MS, true },
			      { 1500 * MS, false }, { 1501 * MS, true }, { 1504 * MS, false });

	assert_int_equal(r.pressed, 1);
	assert_int_equal(r.released, 1);
	/* counted once quiet: 50 ms after the last bounce */
	assert_int_equal(r.first_press_at, 1058 * MS);
}

static void test_glitch_ignored(void **state)
{
	/* a spike shorter than the window, back to the stable level */
	struct result r = RUN(50 * MS, false, { 1000 * MS, true }, { 1010 * MS, false });

	assert_int_equal(r.pressed, 0);
	assert_int_equal(r.released, 0);
}

static void test_chatter_holds_off(void **state)
{
	/* edges every 30 ms for a second: never quiet for 50 ms, then pressed */
	struct edge e[40];
	struct result r;

	for (size_t i = 0; i < 40; i++)
		e[i] = (struct edge) { .at = 1000 * MS + i * 30 * MS, .level = i % 2 == 0 };
	e[39].level = true;
	r = run(50 * MS, false, e, 40);
	assert_int_equal(r.pressed, 1);
	assert_int_equal(r.first_press_at, 1000 * MS + 39 * 30 * MS + 50 * MS);
}

static void test_zero_window(void **state)
{
	struct fg_debounce d;

	fg_debounce_init(&d, 0, false);
	assert_int_equal(fg_debounce_input(&d, true, 7), 7);
	assert_int_equal(fg_debounce_settle(&d, 7), FG_DEBOUNCE_PRESSED);
	assert_int_equal(fg_debounce_settle(&d, 8), FG_DEBOUNCE_NONE);
	assert_int_equal(fg_debounce_input(&d, false, 9), 9);
	assert_int_equal(fg_debounce_settle(&d, 9), FG_DEBOUNCE_RELEASED);
}

static void test_active_at_start(void **state)
{
	/* pressed while the daemon starts: no press until released and pressed again */
	struct result r = RUN(20 * MS, true, { 100 * MS, false }, { 200 * MS, true });

	assert_int_equal(r.released, 1);
	assert_int_equal(r.pressed, 1);
	assert_int_equal(r.first_press_at, 220 * MS);
}

static void test_spurious_and_early(void **state)
{
	struct fg_debounce d;

	fg_debounce_init(&d, 50 * MS, false);
	/* a wake-up with no change and nothing pending does nothing */
	assert_int_equal(fg_debounce_input(&d, false, 10 * MS), INF);
	assert_int_equal(fg_debounce_settle(&d, 10 * MS), FG_DEBOUNCE_NONE);
	assert_int_equal(fg_debounce_input(&d, true, 20 * MS), 70 * MS);
	/* settling before the deadline does nothing and keeps it */
	assert_int_equal(fg_debounce_settle(&d, 69 * MS), FG_DEBOUNCE_NONE);
	assert_int_equal(d.deadline_usec, 70 * MS);
	/* a repeated reading of the new level while pending restarts the window */
	assert_int_equal(fg_debounce_input(&d, true, 40 * MS), 90 * MS);
	assert_int_equal(fg_debounce_settle(&d, 95 * MS), FG_DEBOUNCE_PRESSED);
	/* no overflow at the end of time */
	assert_true(fg_debounce_input(&d, false, INF - 1) < INF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/debounce/clean-press", test_clean_press),
		FG_TEST("/debounce/bounces", test_bounces),
		FG_TEST("/debounce/glitch-ignored", test_glitch_ignored),
		FG_TEST("/debounce/chatter-holds-off", test_chatter_holds_off),
		FG_TEST("/debounce/zero-window", test_zero_window),
		FG_TEST("/debounce/active-at-start", test_active_at_start),
		FG_TEST("/debounce/spurious-and-early", test_spurious_and_early),
	};

	return cmocka_run_group_tests_name("debounce", tests, NULL, NULL);
}
