/* SPDX-License-Identifier: MIT */
/* The link budget (daemon/radio/link-budget.c): who stays linked, auto-disconnect, who leaves. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fg-test.h"
#include "radio/link-budget.h"

#define SEC UINT64_C(1000000)
#define NOW (1000 * SEC)

static const struct fg_budget_params P4 = {
	.max_links = 4,
	.idle_disconnect_usec = 60 * SEC,
	.linger_usec = 5 * SEC,
};

/* A linked, verified, idle button last pressed @ago seconds before NOW (0: never). */
static struct fg_budget_button linked(unsigned ago)
{
	return (struct fg_budget_button){
		.linked = true,
		.verified = true,
		.last_press = ago ? NOW - ago * SEC : 0,
	};
}

static struct fg_budget_button asleep(unsigned ago)
{
	return (struct fg_budget_button){ .last_press = ago ? NOW - ago * SEC : 0 };
}

static unsigned count_kept(const struct fg_budget_verdict *v, size_t n)
{
	unsigned k = 0;

	for (size_t i = 0; i < n; i++)
		k += v[i].kept;
	return k;
}

static void test_kept_one_slot_free(void **state)
{
	struct fg_budget_button bt[10];
	struct fg_budget_verdict v[10];
	struct fg_budget_summary sum;

	for (size_t i = 0; i < 10; i++)
		bt[i] = asleep(100 + (unsigned)i);
	assert_int_equal(fg_budget_plan(bt, 10, &P4, NOW, v, &sum), 0);
	/* max_links - 1: one slot stays free for a waking button */
	assert_int_equal(count_kept(v, 10), 3);
	assert_int_equal(sum.kept, 3);
	/* the most recently pressed */
	assert_true(v[0].kept && v[1].kept && v[2].kept);
	assert_false(v[3].kept);
	assert_int_equal(sum.sleeping, 10);
	assert_int_equal(sum.links_used, 0);
	assert_int_equal(sum.link_budget, 4);
}

static void test_kept_keep_linked_first(void **state)
{
	struct fg_budget_button bt[5] = { asleep(1), asleep(2), asleep(3), asleep(0), asleep(500) };
	struct fg_budget_verdict v[5];

	bt[3].keep_linked = true;	/* never pressed, still first */
	bt[4].keep_linked = true;
	assert_int_equal(fg_budget_plan(bt, 5, &P4, NOW, v, NULL), 0);
	assert_true(v[3].kept);
	assert_true(v[4].kept);
	assert_true(v[0].kept);
	assert_false(v[1].kept);
	assert_false(v[2].kept);
}

static void test_kept_ties_prefer_linked(void **state)
{
	struct fg_budget_button bt[3] = { asleep(0), asleep(0), linked(0) };
	struct fg_budget_verdict v[3];
	struct fg_budget_params p2 = P4;

	p2.max_links = 2;
	assert_int_equal(fg_budget_plan(bt, 3, &p2, NOW, v, NULL), 0);
	/* nobody pressed yet: the one linked stays, no churn */
	assert_true(v[2].kept);
	assert_false(v[0].kept);
	assert_false(v[1].kept);
}

static void test_auto_disconnect_kept_never_others_idle(void **state)
{
	struct fg_budget_button bt[5] = { linked(1), linked(2), linked(3), linked(4), asleep(5) };
	struct fg_budget_verdict v[5];
	struct fg_budget_params p = P4;

	p.max_links = 8;
	p.idle_disconnect_usec = 90 * SEC + 1;	/* whole seconds, rounded up */
	assert_int_equal(fg_budget_plan(bt, 5, &p, NOW, v, NULL), 0);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(v[i].auto_disconnect_s, 511);
	p.max_links = 3;
	assert_int_equal(fg_budget_plan(bt, 5, &p, NOW, v, NULL), 0);
	assert_int_equal(v[0].auto_disconnect_s, 511);
	assert_int_equal(v[1].auto_disconnect_s, 511);
	assert_int_equal(v[2].auto_disconnect_s, 91);
	assert_int_equal(v[4].auto_disconnect_s, 91);
}

static void test_idle_seconds_clamped(void **state)
{
	/* the official libraries refuse 1..39 s */
	assert_int_equal(fg_budget_idle_seconds(0), FG_BUDGET_IDLE_MIN_S);
	assert_int_equal(fg_budget_idle_seconds(5 * SEC), 40);
	assert_int_equal(fg_budget_idle_seconds(60 * SEC), 60);
	assert_int_equal(fg_budget_idle_seconds(3600 * SEC), FG_BUDGET_IDLE_MAX_S);
	/* never "never": 511 is the field's meaning of that */
	assert_true(fg_budget_idle_seconds(511 * SEC) < FG_BUDGET_NEVER_S);
}

static void test_leave_none_while_a_slot_is_free(void **state)
{
	struct fg_budget_button bt[6] = { linked(10), linked(20), linked(30), asleep(1), asleep(2), asleep(3) };
	struct fg_budget_verdict v[6];
	struct fg_budget_summary sum;

	assert_int_equal(fg_budget_plan(bt, 6, &P4, NOW, v, &sum), 0);
	for (size_t i = 0; i < 6; i++)
		assert_false(v[i].disconnect);
	assert_int_equal(sum.links_used, 3);
	assert_int_equal(sum.sleeping, 3);
	assert_int_equal(sum.next_at, 0);
	/*
	 * the free slot taken by a button that woke: a slot is freed again at
	 * once, by the one it pushed out of the kept set (the least recently
	 * pressed); the waking one, just pressed, stays
	 */
	bt[3].linked = true;
	bt[3].verified = true;
	bt[3].last_press = NOW - 1 * SEC;
	assert_int_equal(fg_budget_plan(bt, 6, &P4, NOW + 10 * SEC, v, &sum), 0);
	assert_true(v[3].kept);
	assert_false(v[3].disconnect);
	assert_false(v[2].kept);
	assert_int_equal(v[2].auto_disconnect_s, 60);
	assert_true(v[2].disconnect);
	assert_false(v[0].disconnect);
	assert_false(v[1].disconnect);
	/* while it leaves, nobody else is asked to */
	bt[2].leaving = true;
	assert_int_equal(fg_budget_plan(bt, 6, &P4, NOW + 11 * SEC, v, &sum), 0);
	for (size_t i = 0; i < 6; i++)
		assert_false(v[i].disconnect);
}

static void test_leave_over_budget_least_recent_not_kept(void **state)
{
	/*
	 * 5 linked of 4 (a controller that holds more): back to max_links - 1,
	 * so two go, the least recently pressed not kept
	 */
	struct fg_budget_button bt[5] = { linked(40), linked(10), linked(20), linked(30), linked(50) };
	struct fg_budget_verdict v[5];
	struct fg_budget_summary sum;

	assert_int_equal(fg_budget_plan(bt, 5, &P4, NOW, v, &sum), 0);
	assert_true(v[4].disconnect);
	assert_true(v[0].disconnect);
	assert_false(v[1].disconnect);
	assert_false(v[2].disconnect);
	assert_false(v[3].disconnect);
	assert_int_equal(v[4].auto_disconnect_s, 60);
	/* six: three go, never one of the three kept */
	struct fg_budget_button bt6[6] = { linked(40), linked(10), linked(20), linked(30), linked(50), linked(5) };
	struct fg_budget_verdict v6[6];

	assert_int_equal(fg_budget_plan(bt6, 6, &P4, NOW, v6, &sum), 0);
	assert_true(v6[4].disconnect);
	assert_true(v6[0].disconnect);
	assert_true(v6[3].disconnect);
	assert_false(v6[1].disconnect);
	assert_false(v6[2].disconnect);
	assert_false(v6[5].disconnect);
}

/* One more, refused by the controller: @bt[n - 1] waits. */
static struct fg_budget_button refused(void)
{
	return (struct fg_budget_button){ .waiting = true, .refused = true };
}

static void test_leave_kept_after_not_kept(void **state)
{
	/* 4 linked, all kept but one, and that one is busy: a kept one goes */
	struct fg_budget_button bt[5] = { linked(10), linked(30), linked(20), linked(40), refused() };
	struct fg_budget_verdict v[5];

	bt[3].busy = true;
	assert_int_equal(fg_budget_plan(bt, 5, &P4, NOW, v, NULL), 0);
	assert_false(v[3].disconnect);
	assert_true(v[1].kept);
	assert_true(v[1].disconnect);	/* least recently pressed kept */
	assert_false(v[0].disconnect);
	assert_false(v[2].disconnect);
}

static void test_leave_never_protected(void **state)
{
	struct fg_budget_button bt[5] = { linked(100), linked(200), linked(2), linked(300), refused() };
	struct fg_budget_verdict v[5];
	struct fg_budget_summary sum;

	bt[0].keep_linked = true;
	bt[1].verified = false;		/* an unverified session in progress */
	/* bt[2]: pressed 2 s ago, within the linger */
	bt[3].busy = true;		/* a press not yet acknowledged */
	assert_int_equal(fg_budget_plan(bt, 5, &P4, NOW, v, &sum), 0);
	for (size_t i = 0; i < 5; i++)
		assert_false(v[i].disconnect);
	/* plan again when the linger is over */
	assert_int_equal(sum.next_at, NOW + 3 * SEC);
	assert_int_equal(fg_budget_plan(bt, 5, &P4, NOW + 3 * SEC, v, &sum), 0);
	assert_true(v[2].disconnect);
	assert_false(v[0].disconnect);
}

static void test_leave_keep_linked_beyond_budget(void **state)
{
	/* more keep_linked than slots: the surplus is not kept and may go */
	struct fg_budget_button bt[5] = { linked(10), linked(20), linked(30), linked(40), refused() };
	struct fg_budget_verdict v[5];

	for (size_t i = 0; i < 4; i++)
		bt[i].keep_linked = true;
	assert_int_equal(fg_budget_plan(bt, 5, &P4, NOW, v, NULL), 0);
	assert_int_equal(count_kept(v, 5), 3);
	assert_true(v[3].disconnect);
	assert_false(v[2].disconnect);
	assert_false(v[0].disconnect);
}

static void test_leave_refused_below_count(void **state)
{
	/* 2 linked of 4, yet the controller refused one: it holds fewer */
	struct fg_budget_button bt[3] = { linked(10), linked(20), asleep(0) };
	struct fg_budget_verdict v[3];
	struct fg_budget_summary sum;

	bt[2].waiting = true;
	assert_int_equal(fg_budget_plan(bt, 3, &P4, NOW, v, &sum), 0);
	/* only advertising: it takes the free slot itself */
	assert_false(v[1].disconnect);
	assert_int_equal(sum.waiting, 1);
	assert_int_equal(sum.refused, 0);
	bt[2].refused = true;
	assert_int_equal(fg_budget_plan(bt, 3, &P4, NOW, v, &sum), 0);
	assert_true(v[1].disconnect);
	assert_false(v[0].disconnect);
	assert_int_equal(sum.refused, 1);
}

static void test_leave_leaving_counts(void **state)
{
	struct fg_budget_button bt[6] = { linked(40), linked(10), linked(20), linked(30), linked(50), refused() };
	struct fg_budget_verdict v[6];

	/* 5 linked of 4 and one refused: two must go, and two are on their way out already */
	bt[4].leaving = true;
	bt[0].leaving = true;
	assert_int_equal(fg_budget_plan(bt, 6, &P4, NOW, v, NULL), 0);
	for (size_t i = 0; i < 6; i++)
		assert_false(v[i].disconnect);	/* not twice, nobody else */
	/* they are down and the refused one tries again: a slot is free, nobody else goes */
	bt[4].linked = bt[0].linked = false;
	bt[4].leaving = bt[0].leaving = false;
	bt[5].refused = false;
	assert_int_equal(fg_budget_plan(bt, 6, &P4, NOW, v, NULL), 0);
	for (size_t i = 0; i < 6; i++)
		assert_false(v[i].disconnect);
}

static void test_plan_invalid(void **state)
{
	struct fg_budget_params p = P4;
	struct fg_budget_verdict v[1];
	struct fg_budget_button bt[1] = { asleep(0) };

	p.max_links = 1;
	assert_int_equal(fg_budget_plan(bt, 1, &p, NOW, v, NULL), -EINVAL);
	p.max_links = 2;
	assert_int_equal(fg_budget_plan(bt, 1, &p, NOW, v, NULL), 0);
	assert_true(v[0].kept);
}

static void test_starved(void **state)
{
	assert_false(fg_budget_starved(0, 60 * SEC, NOW));
	assert_false(fg_budget_starved(NOW - 59 * SEC, 60 * SEC, NOW));
	assert_true(fg_budget_starved(NOW - 60 * SEC, 60 * SEC, NOW));
	assert_false(fg_budget_starved(NOW + SEC, 60 * SEC, NOW));
}

static void test_links_for_controllers(void **state)
{
	const char *src = NULL;

	assert_int_equal(fg_budget_links_for("hci_uart_bcm", 0, 0, &src), 7);
	assert_non_null(src);
	assert_int_equal(fg_budget_links_for("btusb", 0x0a12, 0x0001, &src), 5);
	assert_int_equal(fg_budget_links_for("btusb", 0x0a12, 0x0002, &src), FG_BUDGET_LINKS_DEFAULT);
	assert_int_equal(fg_budget_links_for(NULL, 0, 0, NULL), FG_BUDGET_LINKS_DEFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/budget/kept/one-slot-free", test_kept_one_slot_free),
		FG_TEST("/budget/kept/keep-linked-first", test_kept_keep_linked_first),
		FG_TEST("/budget/kept/ties-prefer-linked", test_kept_ties_prefer_linked),
		FG_TEST("/budget/auto/disconnect-kept-never-others-idle", test_auto_disconnect_kept_never_others_idle),
		FG_TEST("/budget/idle/seconds-clamped", test_idle_seconds_clamped),
		FG_TEST("/budget/leave/none-while-a-slot-is-free", test_leave_none_while_a_slot_is_free),
		FG_TEST("/budget/leave/over-budget-least-recent-not-kept", test_leave_over_budget_least_recent_not_kept),
		FG_TEST("/budget/leave/kept-after-not-kept", test_leave_kept_after_not_kept),
		FG_TEST("/budget/leave/never-protected", test_leave_never_protected),
		FG_TEST("/budget/leave/keep-linked-beyond-budget", test_leave_keep_linked_beyond_budget),
		FG_TEST("/budget/leave/refused-below-count", test_leave_refused_below_count),
		FG_TEST("/budget/leave/leaving-counts", test_leave_leaving_counts),
		FG_TEST("/budget/plan/invalid", test_plan_invalid),
		FG_TEST("/budget/starved", test_starved),
		FG_TEST("/budget/links/for-controllers", test_links_for_controllers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
