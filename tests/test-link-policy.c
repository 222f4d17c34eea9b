/* SPDX-License-Identifier: MIT */
/*
 * The radio's link policy (daemon/radio/link-policy.c): when a link is
 * asked for, the backoff, broken packet channels, the pairing cooldown,
 * who may pair, the pairing window and the throttling of refusals.
 */
#include <errno.h>
#include <string.h>

#include "fg-test.h"

#include "radio/link-policy.h"

#define S 1000000ULL

static const struct fg_link_input ready = {
	.wants_link = true,
	.paired = true,
	.radio_ready = true,
	.link_up = false,
	.connect_timeout_usec = 10 * S,
};

/* The next action must be @kind; returns it. */
static struct fg_link_action expect(struct fg_link *l, enum fg_link_action_kind kind)
{
	struct fg_link_action a;

	assert_int_equal(fg_link_next_action(l, &a), 1);
	assert_int_equal(a.kind, kind);
	return a;
}

static void expect_none(struct fg_link *l)
{
	struct fg_link_action a;

	assert_int_equal(fg_link_next_action(l, &a), 0);
}

/* A connect that BlueZ refuses at @now: returns when the retry is armed for. */
static uint64_t refused_connect(struct fg_link *l, uint64_t now)
{
	struct fg_link_action a;

	fg_link_want(l, &ready, true);
	expect(l, FG_LINK_ACTION_TRUST);
	a = expect(l, FG_LINK_ACTION_CONNECT);
	fg_link_connect_done(l, &a, -EIO, now);
	a = expect(l, FG_LINK_ACTION_ARM_RETRY);
	expect_none(l);
	return a.at;
}

static void test_background_connect(void **state)
{
	struct fg_link l;
	struct fg_link_action a;

	fg_link_init(&l);
	fg_link_want(&l, &ready, false);
	expect(&l, FG_LINK_ACTION_TRUST);
	a = expect(&l, FG_LINK_ACTION_CONNECT);
	assert_int_equal(a.timeout_usec, 0);	/* waits for the button, unbounded */
	assert_false(a.take);
	assert_false(a.foreground);
	expect_none(&l);
	fg_link_connect_done(&l, &a, 0, 100);
	expect(&l, FG_LINK_ACTION_CANCEL_RETRY);
	assert_true(l.requested);
	/* pending: asking again does nothing */
	fg_link_want(&l, &ready, true);
	expect_none(&l);
}

static void test_foreground_connect(void **state)
{
	struct fg_link l;
	struct fg_link_action a;
	struct fg_link_input in = ready;

	fg_link_init(&l);
	in.paired = false;	/* being paired: no Trusted yet */
	fg_link_want(&l, &in, true);
	a = expect(&l, FG_LINK_ACTION_CONNECT);
	assert_int_equal(a.timeout_usec, 10 * S);
	assert_true(a.foreground);
	expect_none(&l);
}

static void test_nothing_wanted(void **state)
{
	struct fg_link l;
	struct fg_link_input in = ready;

	fg_link_init(&l);
	in.radio_ready = false;
	fg_link_want(&l, &in, true);
	expect_none(&l);
	in = ready;
	in.wants_link = false;
	fg_link_want(&l, &in, true);
	expect_none(&l);
}

/* A fresh policy asked for a link that is up already: it takes it. */
static struct fg_link_action take_link(struct fg_link *l)
{
	struct fg_link_action a;
	struct fg_link_input in = ready;

	fg_link_init(l);
	in.link_up = true;
	fg_link_want(l, &in, false);
	a = expect(l, FG_LINK_ACTION_CONNECT);
	assert_true(a.take);
	assert_int_equal(a.timeout_usec, 0);
	expect_none(l);
	return a;
}

static void test_take_link(void **state)
{
	struct fg_link l;
	struct fg_link_action a = take_link(&l);

	fg_link_connect_done(&l, &a, -EALREADY, 5);
	assert_true(l.requested);
	expect_none(&l);	/* no retry touched */
}

/*
 * A link found up at start and claimed; the button refuses our quick
 * verify: its one slot holds the session of the instance that was killed.
 * The link is dropped and made again at once (no backoff), once; a second
 * refusal backs off like any failure until a session is verified again.
 */
static void test_stale_session_relinks_at_once(void **state)
{
	struct fg_link l;
	struct fg_link_action a = take_link(&l);

	fg_link_connect_done(&l, &a, 0, 1 * S);
	fg_link_stale_session(&l);
	fg_link_down(&l, 2 * S);
	assert_false(fg_link_attempt_failed(&l, true, 2 * S));
	a = expect(&l, FG_LINK_ACTION_ARM_RETRY);
	assert_int_equal(a.at, 2 * S);	/* now, not after a backoff */
	expect_none(&l);
	fg_link_retry_due(&l, &ready);
	expect(&l, FG_LINK_ACTION_TRUST);
	a = expect(&l, FG_LINK_ACTION_CONNECT);
	assert_int_equal(a.timeout_usec, 0);
	fg_link_connect_done(&l, &a, 0, 2 * S);
	expect(&l, FG_LINK_ACTION_CANCEL_RETRY);

	/* refused again on the new link: a real failure, with its backoff */
	fg_link_stale_session(&l);
	fg_link_down(&l, 3 * S);
	assert_true(fg_link_attempt_failed(&l, true, 3 * S));
	a = expect(&l, FG_LINK_ACTION_ARM_RETRY);
	assert_int_equal(a.at, 4 * S);

	/* a verified session allows the quick relink again */
	fg_link_verified(&l);
	fg_link_stale_session(&l);
	fg_link_down(&l, 10 * S);
	assert_false(fg_link_attempt_failed(&l, true, 10 * S));
	a = expect(&l, FG_LINK_ACTION_ARM_RETRY);
	assert_int_equal(a.at, 10 * S);
}

static void test_backoff_sequence(void **state)
{
	struct fg_link l;
	uint64_t now = 50 * S, at;

	fg_link_init(&l);
	for (uint64_t d = 1; d <= 32; d *= 2) {
		at = refused_connect(&l, now);
		assert_int_equal(at, now + d * S);
	}
	at = refused_connect(&l, now);
	assert_int_equal(at, now + 60 * S);
	at = refused_connect(&l, now);
	assert_int_equal(at, now + 60 * S);
}

static void test_retry_pending_blocks_background(void **state)
{
	struct fg_link l;
	struct fg_link_action a;

	fg_link_init(&l);
	(void)refused_connect(&l, 10 * S);
	/* a background ask waits for the retry ... */
	fg_link_want(&l, &ready, false);
	expect_none(&l);
	/* ... a foreground one (the button advertises) does not */
	fg_link_want(&l, &ready, true);
	expect(&l, FG_LINK_ACTION_TRUST);
	a = expect(&l, FG_LINK_ACTION_CONNECT);
	fg_link_connect_done(&l, &a, 0, 11 * S);
	expect(&l, FG_LINK_ACTION_CANCEL_RETRY);
	expect_none(&l);
}

static void test_kick_drops_retry(void **state)
{
	struct fg_link l;

	fg_link_init(&l);
	(void)refused_connect(&l, 10 * S);
	fg_link_kick(&l, &ready, false);
	expect(&l, FG_LINK_ACTION_CANCEL_RETRY);
	expect(&l, FG_LINK_ACTION_TRUST);
	expect(&l, FG_LINK_ACTION_CONNECT);
	expect_none(&l);
}

static void test_no_device_waits(void **state)
{
	struct fg_link l;
	struct fg_link_action a;

	fg_link_init(&l);
	fg_link_want(&l, &ready, true);
	expect(&l, FG_LINK_ACTION_TRUST);
	a = expect(&l, FG_LINK_ACTION_CONNECT);
	fg_link_connect_done(&l, &a, -ENODEV, 0);
	expect_none(&l);	/* no backoff: its next advertisement makes the object */
	assert_false(l.requested);
	assert_int_equal(l.backoff, FG_LINK_RETRY_MIN_USEC);
}

static void test_verified_resets(void **state)
{
	struct fg_link l;
	uint64_t at;

	fg_link_init(&l);
	(void)refused_connect(&l, 0);
	(void)refused_connect(&l, 0);
	at = refused_connect(&l, 0);
	assert_int_equal(at, 4 * S);
	fg_link_verified(&l);
	at = refused_connect(&l, 100 * S);
	assert_int_equal(at, 101 * S);
}

static void test_session_over_reconnects(void **state)
{
	struct fg_link l;
	struct fg_link_action a;

	fg_link_init(&l);
	(void)refused_connect(&l, 0);
	(void)refused_connect(&l, 0);
	fg_link_cancel_retry(&l);
	expect(&l, FG_LINK_ACTION_CANCEL_RETRY);
	fg_link_want(&l, &ready, false);
	expect(&l, FG_LINK_ACTION_TRUST);
	a = expect(&l, FG_LINK_ACTION_CONNECT);
	fg_link_connect_done(&l, &a, 0, 10 * S);
	expect(&l, FG_LINK_ACTION_CANCEL_RETRY);
	/* verified session, then the button sleeps */
	fg_link_down(&l, 20 * S);
	assert_false(l.requested);
	fg_link_session_over(&l, &ready);
	expect(&l, FG_LINK_ACTION_TRUST);
	a = expect(&l, FG_LINK_ACTION_CONNECT);
	assert_int_equal(a.timeout_usec, 0);	/* waits in the background at once */
	expect_none(&l);
	assert_int_equal(l.backoff, FG_LINK_RETRY_MIN_USEC);
}

/* A background connect made at @start (by a due retry: @retry) that BlueZ ends at @end. */
static bool background_ends(struct fg_link *l, bool retry, uint64_t start, uint64_t end)
{
	struct fg_link_action a;

	if (retry)
		fg_link_retry_due(l, &ready);
	else
		fg_link_want(l, &ready, false);
	expect(l, FG_LINK_ACTION_TRUST);
	a = expect(l, FG_LINK_ACTION_CONNECT);
	fg_link_connect_done(l, &a, 0, start);
	expect(l, FG_LINK_ACTION_CANCEL_RETRY);
	fg_link_down(l, end);
	return fg_link_attempt_failed(l, false, end);
}

static void test_background_long_wait(void **state)
{
	struct fg_link l;
	struct fg_link_action a;

	fg_link_init(&l);
	(void)refused_connect(&l, 0);
	(void)refused_connect(&l, 0);
	fg_link_cancel_retry(&l);
	expect(&l, FG_LINK_ACTION_CANCEL_RETRY);
	/* held 5 s: a real wait, again in 1 s, backoff back to the start */
	assert_false(background_ends(&l, false, 10 * S, 15 * S));
	a = expect(&l, FG_LINK_ACTION_ARM_RETRY);
	assert_int_equal(a.at, 16 * S);
	expect_none(&l);
	assert_int_equal(l.backoff, FG_LINK_RETRY_MIN_USEC);
}

static void test_background_refused_backs_off(void **state)
{
	struct fg_link l;
	struct fg_link_action a;

	fg_link_init(&l);
	assert_false(background_ends(&l, false, 10 * S, 10 * S + 100));
	a = expect(&l, FG_LINK_ACTION_ARM_RETRY);
	assert_int_equal(a.at, 11 * S + 100);
	assert_false(background_ends(&l, true, 12 * S, 12 * S));
	a = expect(&l, FG_LINK_ACTION_ARM_RETRY);
	assert_int_equal(a.at, 14 * S);	/* doubled */
}

static void test_foreground_failure_counts(void **state)
{
	struct fg_link l;
	struct fg_link_action a;

	fg_link_init(&l);
	fg_link_want(&l, &ready, true);
	expect(&l, FG_LINK_ACTION_TRUST);
	a = expect(&l, FG_LINK_ACTION_CONNECT);
	fg_link_connect_done(&l, &a, 0, 0);
	expect(&l, FG_LINK_ACTION_CANCEL_RETRY);
	fg_link_down(&l, 10 * S);
	assert_true(fg_link_attempt_failed(&l, false, 10 * S));
	a = expect(&l, FG_LINK_ACTION_ARM_RETRY);
	assert_int_equal(a.at, 11 * S);
	/* a link lost before verification is a failure too, even from the background */
	fg_link_retry_due(&l, &ready);
	expect(&l, FG_LINK_ACTION_TRUST);
	a = expect(&l, FG_LINK_ACTION_CONNECT);
	fg_link_connect_done(&l, &a, 0, 11 * S);
	expect(&l, FG_LINK_ACTION_CANCEL_RETRY);
	fg_link_down(&l, 30 * S);
	assert_true(fg_link_attempt_failed(&l, true, 30 * S));
	a = expect(&l, FG_LINK_ACTION_ARM_RETRY);
	assert_int_equal(a.at, 32 * S);
}

static void test_channel_errors(void **state)
{
	struct fg_link l;

	fg_link_init(&l);
	assert_int_equal(fg_link_channel_error(&l, -EPIPE, true), FG_LINK_CHANNEL_HANG_UP);
	expect(&l, FG_LINK_ACTION_DISCONNECT);
	assert_int_equal(l.gatt_failures, 0);
	assert_int_equal(fg_link_channel_error(&l, -ENOENT, false), FG_LINK_CHANNEL_RETRY);
	expect(&l, FG_LINK_ACTION_DISCONNECT);
	assert_int_equal(fg_link_channel_error(&l, -ENOENT, false), FG_LINK_CHANNEL_DROP_CACHE);
	expect(&l, FG_LINK_ACTION_REMOVE_DEVICE);
	expect_none(&l);
	/* counted again from zero */
	assert_int_equal(fg_link_channel_error(&l, -ENOENT, false), FG_LINK_CHANNEL_RETRY);
	expect(&l, FG_LINK_ACTION_DISCONNECT);
	/* other errors never drop the cache; a verified session clears the count */
	assert_int_equal(fg_link_channel_error(&l, -EIO, false), FG_LINK_CHANNEL_RETRY);
	expect(&l, FG_LINK_ACTION_DISCONNECT);
	fg_link_verified(&l);
	assert_int_equal(fg_link_channel_error(&l, -ENOENT, false), FG_LINK_CHANNEL_RETRY);
	expect(&l, FG_LINK_ACTION_DISCONNECT);
}

static void test_pair_cooldown(void **state)
{
	struct fg_link l;

	fg_link_init(&l);
	assert_true(fg_link_may_pair(&l, 0));
	fg_link_pairing_failed(&l, 100 * S);
	assert_false(fg_link_may_pair(&l, 100 * S));
	assert_false(fg_link_may_pair(&l, 105 * S - 1));
	assert_true(fg_link_may_pair(&l, 105 * S));
}

static void test_forget(void **state)
{
	struct fg_link l;
	struct fg_link_action a;

	fg_link_init(&l);
	fg_link_want(&l, &ready, false);
	expect(&l, FG_LINK_ACTION_TRUST);
	a = expect(&l, FG_LINK_ACTION_CONNECT);
	fg_link_connect_done(&l, &a, 0, 0);
	expect(&l, FG_LINK_ACTION_CANCEL_RETRY);
	fg_link_forget(&l);
	assert_false(l.requested);
	fg_link_reset(&l);
	assert_int_equal(l.backoff, FG_LINK_RETRY_MIN_USEC);
}

static void test_pairing_allowed(void **state)
{
	const char *why = NULL;
	bool w = true;

	assert_false(fg_pairing_allowed(FG_PAIRING_LOCKED, true, true, false, &w, &why));
	assert_false(w);
	assert_non_null(strstr(why, "locked"));

	assert_false(fg_pairing_allowed(FG_PAIRING_WINDOW, true, false, false, &w, &why));
	assert_string_equal(why, "no pairing window is open");
	assert_true(fg_pairing_allowed(FG_PAIRING_WINDOW, false, true, false, &w, &why));
	assert_true(w);
	assert_false(fg_pairing_allowed(FG_PAIRING_WINDOW, false, true, true, &w, &why));
	assert_string_equal(why, "the pairing window is busy with another button");

	/* listed: a listed button pairs any time, not as the window's attempt */
	assert_true(fg_pairing_allowed(FG_PAIRING_LISTED, true, false, false, &w, &why));
	assert_false(w);
	assert_true(fg_pairing_allowed(FG_PAIRING_LISTED, true, true, true, &w, &why));
	assert_false(w);
	assert_false(fg_pairing_allowed(FG_PAIRING_LISTED, false, false, false, &w, &why));
	assert_string_equal(why, "not listed in a [button] section and no pairing window is open");
	assert_true(fg_pairing_allowed(FG_PAIRING_LISTED, false, true, false, &w, &why));
	assert_true(w);
}

static void test_window(void **state)
{
	struct fg_pairing_window w = { 0 };
	uint64_t d = 0;

	assert_int_equal(fg_pairing_window_plan(FG_PAIRING_LOCKED, 30 * S, 120 * S, &d), -EPERM);
	assert_int_equal(d, 0);
	assert_int_equal(fg_pairing_window_plan(FG_PAIRING_WINDOW, 0, 120 * S, &d), 0);
	assert_int_equal(d, 120 * S);
	assert_int_equal(fg_pairing_window_plan(FG_PAIRING_LISTED, 30 * S, 120 * S, &d), 0);
	assert_int_equal(d, 30 * S);

	assert_int_equal(fg_pairing_window_left(&w, 0), 0);
	fg_pairing_window_opened(&w, 10 * S, 30 * S);
	assert_true(w.open);
	assert_int_equal(fg_pairing_window_left(&w, 15 * S), 25 * S);
	assert_int_equal(fg_pairing_window_left(&w, 41 * S), 0);
	/* reopened while its attempt runs: the attempt still holds it */
	w.busy = true;
	fg_pairing_window_opened(&w, 20 * S, 30 * S);
	assert_true(w.busy);
	assert_int_equal(fg_pairing_window_left(&w, 20 * S), 30 * S);

	assert_false(fg_pairing_window_locked_out(&w, FG_PAIRING_WINDOW));
	assert_true(fg_pairing_window_locked_out(&w, FG_PAIRING_LOCKED));
	fg_pairing_window_close(&w);
	assert_false(w.open);
	assert_false(w.busy);
	assert_false(fg_pairing_window_locked_out(&w, FG_PAIRING_LOCKED));
	assert_int_equal(fg_pairing_window_left(&w, 20 * S), 0);
}

static void test_refusals(void **state)
{
	struct fg_refusals rf;
	uint8_t a[6] = { 0x80, 0xE4, 0xDA, 0x70, 0, 1 }, b[6] = { 0x80, 0xE4, 0xDA, 0x70, 0, 2 };

	fg_refusals_clear(&rf);
	assert_true(fg_refusals_is_news(&rf, a, 0));	/* time 0 still counts */
	assert_false(fg_refusals_is_news(&rf, a, 1 * S));
	assert_true(fg_refusals_is_news(&rf, b, 1 * S));
	assert_false(fg_refusals_is_news(&rf, a, 60 * S));
	assert_true(fg_refusals_is_news(&rf, a, 60 * S + 1));
	assert_false(fg_refusals_is_news(&rf, a, 61 * S));
	fg_refusals_clear(&rf);
	assert_true(fg_refusals_is_news(&rf, a, 61 * S));

	/* more buttons than slots: the oldest is forgotten (news again) */
	for (uint8_t i = 0; i < 17; i++) {
		uint8_t x[6] = { 1, 2, 3, 4, 5, i };

		assert_true(fg_refusals_is_news(&rf, x, 100 * S + i));
	}
	assert_true(fg_refusals_is_news(&rf, a, 100 * S + 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/linkpolicy/background-connect", test_background_connect),
		FG_TEST("/linkpolicy/foreground-connect", test_foreground_connect),
		FG_TEST("/linkpolicy/nothing-wanted", test_nothing_wanted),
		FG_TEST("/linkpolicy/take-link", test_take_link),
		FG_TEST("/linkpolicy/stale-session-relinks-at-once", test_stale_session_relinks_at_once),
		FG_TEST("/linkpolicy/backoff-doubles-to-cap", test_backoff_sequence),
		FG_TEST("/linkpolicy/retry-pending-blocks-background", test_retry_pending_blocks_background),
		FG_TEST("/linkpolicy/kick-drops-retry", test_kick_drops_retry),
		FG_TEST("/linkpolicy/no-device-waits", test_no_device_waits),
		FG_TEST("/linkpolicy/verified-resets-backoff", test_verified_resets),
		FG_TEST("/linkpolicy/session-over-reconnects", test_session_over_reconnects),
		FG_TEST("/linkpolicy/background-long-wait", test_background_long_wait),
		FG_TEST("/linkpolicy/background-refused-backs-off", test_background_refused_backs_off),
		FG_TEST("/linkpolicy/foreground-failure-counts", test_foreground_failure_counts),
		FG_TEST("/linkpolicy/channel-errors", test_channel_errors),
		FG_TEST("/linkpolicy/pair-cooldown", test_pair_cooldown),
		FG_TEST("/linkpolicy/forget", test_forget),
		FG_TEST("/linkpolicy/pairing-allowed", test_pairing_allowed),
		FG_TEST("/linkpolicy/window", test_window),
		FG_TEST("/linkpolicy/refusals", test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
