/* SPDX-License-Identifier: MIT */
/* The delivery policy (dispatch.c): order per button, what is due, target
 * health and its announcements, retry scheduling, as queued actions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fg-test.h"
#include "delivery/dispatch.h"
#include "lib/macro.h"

#define SEC UINT64_C(1000000)
#define T0 (1000 * SEC)

/* A target's queue built by hand: entries in sequence order. */
struct queue {
	struct fg_spool_entry e[32];
	bool gone[32];
	size_t n;
};

static struct fg_spool_entry *add(struct queue *q, const char *button)
{
	struct fg_spool_entry *e = &q->e[q->n];

	assert_true(q->n < FG_ELEMENTSOF(q->e));
	memset(e, 0, sizeof(*e));
	e->seq = q->n + 1;
	e->alert.button = (char *)button;
	if (q->n > 0) {
		e->prev = &q->e[q->n - 1];
		q->e[q->n - 1].next = e;
	}
	q->n++;
	return e;
}

/* Take @e out of the queue, as the spool does on a DELIVERED action. */
static void drop(struct queue *q, struct fg_spool_entry *e)
{
	q->gone[e - q->e] = true;
	if (e->prev)
		e->prev->next = e->next;
	if (e->next)
		e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

/* The oldest entry still queued. */
static struct fg_spool_entry *head(struct queue *q)
{
	for (size_t i = 0; i < q->n; i++)
		if (!q->gone[i])
			return &q->e[i];
	return NULL;
}

struct env {
	struct fg_dispatch *d;
	struct fg_dispatch_target t;
	struct fg_webhook_config cfg;
	struct queue q;
	struct fg_dispatch_action a[64];
	size_t n;
};

static int setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));

	assert_non_null(env);
	assert_int_equal(fg_dispatch_new(42, &env->d), 0);
	env->cfg.preset = FG_PRESET_GENERIC;	/* unlimited unless a test sets rate_limit */
	fg_dispatch_target_configure(&env->t, &env->cfg, T0);
	*state = env;
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;

	fg_dispatch_free(env->d);
	free(env);
	return 0;
}

/* Take every queued action into env->a. */
static size_t drain(struct env *env)
{
	env->n = 0;
	while (env->n < FG_ELEMENTSOF(env->a) && fg_dispatch_next_action(env->d, &env->a[env->n]) > 0)
		env->n++;
	return env->n;
}

static size_t count(const struct env *env, enum fg_dispatch_action_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < env->n; i++)
		n += env->a[i].kind == k;
	return n;
}

static const struct fg_dispatch_action *find(const struct env *env, enum fg_dispatch_action_kind k)
{
	for (size_t i = 0; i < env->n; i++)
		if (env->a[i].kind == k)
			return &env->a[i];
	return NULL;
}

static void run(struct env *env, struct fg_spool_entry *h, uint64_t now)
{
	assert_int_equal(fg_dispatch_run(env->d, &env->t, h, now), 0);
	drain(env);
}

/* An Off never overtakes its On; other buttons are not held up. */
static void test_one_per_button(void **state)
{
	struct env *env = *state;
	struct fg_spool_entry *a1 = add(&env->q, "A"), *a2 = add(&env->q, "A"),
			      *b1 = add(&env->q, "B");

	run(env, a1, T0);
	assert_int_equal(env->n, 2);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_SEND);
	assert_ptr_equal(env->a[0].entry, a1);
	assert_ptr_equal(env->a[0].target, &env->t);
	assert_int_equal(env->a[1].kind, FG_DISPATCH_SEND);
	assert_ptr_equal(env->a[1].entry, b1);
	assert_true(a1->in_flight && b1->in_flight && !a2->in_flight);
	assert_int_equal(a1->attempts, 1);
	assert_int_equal(env->t.in_flight, 2);
	/* nothing new while both are in flight */
	run(env, a1, T0);
	assert_int_equal(env->n, 0);
	/* A's first delivered: A's second goes */
	assert_int_equal(fg_dispatch_done(env->d, &env->t, a1, FG_DELIVERY_DONE, false, 0, head(&env->q), T0), 0);
	drain(env);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_DELIVERED);
	assert_ptr_equal(env->a[0].entry, a1);
	drop(&env->q, a1);
	run(env, a2, T0);
	assert_int_equal(env->n, 1);
	assert_ptr_equal(env->a[0].entry, a2);
	assert_int_equal(env->t.delivered, 1);
	assert_int_equal(env->t.health, FG_TARGET_HEALTHY);
}

/* At most FG_DISPATCH_MAX_IN_FLIGHT requests per target. */
static void test_in_flight_limit(void **state)
{
	static const char *const names[] = { "b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7",
					     "b8", "b9" };
	struct env *env = *state;

	for (size_t i = 0; i < 10; i++)
		add(&env->q, names[i]);
	run(env, &env->q.e[0], T0);
	assert_int_equal(count(env, FG_DISPATCH_SEND), FG_DISPATCH_MAX_IN_FLIGHT);
	assert_int_equal(env->t.in_flight, FG_DISPATCH_MAX_IN_FLIGHT);
	assert_false(env->q.e[8].in_flight);
	/* one answer frees one place: the next in sequence goes */
	assert_int_equal(fg_dispatch_done(env->d, &env->t, &env->q.e[0], FG_DELIVERY_DONE, false, 0, head(&env->q),
					  T0), 0);
	drain(env);
	drop(&env->q, &env->q.e[0]);
	run(env, &env->q.e[1], T0);
	assert_int_equal(env->n, 1);
	assert_ptr_equal(env->a[0].entry, &env->q.e[8]);
}

/*
 * A failure makes the target failing: the alert keeps its button, the
 * target is probed on its backoff, one request at a time, and only a
 * failed probe doubles the backoff (not the answers already in flight).
 */
static void test_retry_backoff(void **state)
{
	struct env *env = *state;
	struct fg_spool_entry *a1 = add(&env->q, "A"), *a2 = add(&env->q, "A"),
			      *b1 = add(&env->q, "B");
	const struct fg_dispatch_action *x;
	uint64_t at;

	run(env, a1, T0);
	assert_int_equal(fg_dispatch_done(env->d, &env->t, a1, FG_DELIVERY_RETRY, false, 0, head(&env->q), T0), 0);
	drain(env);
	assert_int_equal(env->n, 1);
	x = &env->a[0];
	assert_int_equal(x->kind, FG_DISPATCH_RETRY);
	assert_ptr_equal(x->entry, a1);
	assert_false(x->retry_after);
	/* first failure: 1 s nominal, equal jitter keeps it in [0.5 s, 1 s] */
	assert_true(x->delay_usec >= SEC / 2 && x->delay_usec <= SEC);
	at = T0 + x->delay_usec;
	assert_int_equal(env->t.probe_at, at);
	assert_int_equal(fg_dispatch_next_attempt(&env->t, head(&env->q)), at);
	assert_false(a1->in_flight);
	assert_int_equal(env->t.health, FG_TARGET_FAILING);
	assert_null(find(env, FG_DISPATCH_RECOVERED));
	/* B, in flight before the failure, fails too: the backoff stays as it is */
	assert_int_equal(fg_dispatch_done(env->d, &env->t, b1, FG_DELIVERY_RETRY, false, 0, head(&env->q), T0 + 1), 0);
	drain(env);
	assert_int_equal(env->a[0].delay_usec, at - T0 - 1);
	assert_int_equal(env->t.probe_at, at);
	/* nothing before the probe, though a1 and b1 have no timer of their own */
	run(env, a1, T0 + 2);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_ARM);
	assert_int_equal(env->a[0].at, at);
	/* due: one probe, the newest that may go: B's (attempt 2); not A's second, nor A's first too */
	run(env, a1, at);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_SEND);
	assert_ptr_equal(env->a[0].entry, b1);
	assert_int_equal(b1->attempts, 2);
	assert_false(a1->in_flight || a2->in_flight);
	run(env, a1, at);
	assert_int_equal(env->n, 0);
	/* the failed probe doubles the nominal delay */
	assert_int_equal(fg_dispatch_done(env->d, &env->t, b1, FG_DELIVERY_RETRY, false, 0, head(&env->q), at), 0);
	drain(env);
	assert_true(env->a[0].delay_usec >= SEC && env->a[0].delay_usec <= 2 * SEC);
	assert_int_equal(env->t.failures, 2);
}

/* While failing, ten due alerts of ten buttons make one request, not ten. */
static void test_failing_one_probe(void **state)
{
	static const char *const names[] = { "b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7",
					     "b8", "b9" };
	struct env *env = *state;
	uint64_t at;

	for (size_t i = 0; i < 10; i++)
		add(&env->q, names[i]);
	run(env, &env->q.e[0], T0);
	assert_int_equal(count(env, FG_DISPATCH_SEND), FG_DISPATCH_MAX_IN_FLIGHT);
	for (size_t i = 0; i < FG_DISPATCH_MAX_IN_FLIGHT; i++)
		assert_int_equal(fg_dispatch_done(env->d, &env->t, &env->q.e[i], FG_DELIVERY_RETRY,
						  false, 0, head(&env->q), T0), 0);
	drain(env);
	/* one backoff step for the burst, not eight */
	assert_int_equal(env->t.failures, 1);
	at = env->t.probe_at;
	assert_true(at <= T0 + SEC);
	run(env, &env->q.e[0], at);
	assert_int_equal(count(env, FG_DISPATCH_SEND), 1);
	assert_int_equal(env->t.in_flight, 1);
	run(env, &env->q.e[0], at + 10 * SEC);
	assert_int_equal(env->n, 0);
}

/*
 * The first 2xx of a failing target releases everything that waited for
 * it: every button's alert goes at once (up to the in-flight limit), none
 * waits for a timer of its own.
 */
static void test_recovery_drains_at_once(void **state)
{
	static const char *const names[] = { "b0", "b1", "b2", "b3", "b4", "b5" };
	struct env *env = *state;
	uint64_t now = T0;

	for (size_t i = 0; i < 6; i++)
		add(&env->q, names[i]);
	for (size_t i = 0; i < 6; i++)
		add(&env->q, names[i]);
	/* the target is down for a while: the first of each button fails, the probes fail */
	run(env, head(&env->q), now);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(fg_dispatch_done(env->d, &env->t, &env->q.e[i], FG_DELIVERY_RETRY,
						  false, 0, head(&env->q), now), 0);
	drain(env);
	for (int k = 0; k < 6; k++) {
		now = env->t.probe_at;
		run(env, head(&env->q), now);
		assert_int_equal(count(env, FG_DISPATCH_SEND), 1);
		assert_int_equal(fg_dispatch_done(env->d, &env->t, env->a[0].entry, FG_DELIVERY_RETRY,
						  false, 0, head(&env->q), now), 0);
		drain(env);
	}
	/* the probes back off, but a target that is back is found within the cap */
	assert_int_equal(env->t.failures, 7);
	assert_true(env->t.probe_at - now >= FG_DISPATCH_PROBE_MAX_USEC / 2);
	assert_true(env->t.probe_at - now <= FG_DISPATCH_PROBE_MAX_USEC);
	/* back: the next probe (b5's first, the newest that may go) is accepted */
	now = env->t.probe_at;
	run(env, head(&env->q), now);
	assert_int_equal(count(env, FG_DISPATCH_SEND), 1);
	assert_ptr_equal(env->a[0].entry, &env->q.e[5]);
	assert_int_equal(fg_dispatch_done(env->d, &env->t, &env->q.e[5], FG_DELIVERY_DONE, false, 0,
					  head(&env->q), now), 0);
	drain(env);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_DELIVERED);
	assert_int_equal(env->a[1].kind, FG_DISPATCH_RECOVERED);
	drop(&env->q, &env->q.e[5]);
	assert_int_equal(env->t.failures, 0);
	assert_int_equal(fg_dispatch_next_attempt(&env->t, head(&env->q)), 0);
	/* in the same instant: the first of b0..b4 and b5's second, six requests */
	run(env, head(&env->q), now);
	assert_int_equal(count(env, FG_DISPATCH_SEND), 6);
	assert_null(find(env, FG_DISPATCH_ARM));
	assert_int_equal(env->t.in_flight, 6);
}

/* Retry-After pauses the whole target, other buttons too, and is never shortened. */
static void test_retry_after_pauses_target(void **state)
{
	struct env *env = *state;
	struct fg_spool_entry *a1 = add(&env->q, "A"), *b1;

	run(env, a1, T0);
	b1 = add(&env->q, "B");
	assert_int_equal(fg_dispatch_done(env->d, &env->t, a1, FG_DELIVERY_RETRY, true, 30 * SEC,
					  head(&env->q), T0), 0);
	drain(env);
	assert_true(env->a[0].retry_after);
	assert_int_equal(env->a[0].delay_usec, 30 * SEC);
	assert_int_equal(env->t.paused_until, T0 + 30 * SEC);
	run(env, a1, T0 + SEC);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_ARM);
	assert_int_equal(env->a[0].at, T0 + 30 * SEC);
	/* a new alert does not go before the server's pause either */
	fg_dispatch_new_alerts(&env->t, T0 + 2 * SEC);
	run(env, a1, T0 + 2 * SEC);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_ARM);
	assert_int_equal(env->a[0].at, T0 + 30 * SEC);
	run(env, a1, T0 + 30 * SEC);
	assert_int_equal(count(env, FG_DISPATCH_SEND), 1);
	assert_ptr_equal(env->a[0].entry, b1);
	assert_int_equal(fg_dispatch_done(env->d, &env->t, b1, FG_DELIVERY_RETRY, true, 5 * SEC,
					  head(&env->q), T0 + 30 * SEC), 0);
	drain(env);
	assert_int_equal(env->t.paused_until, T0 + 35 * SEC);
	assert_true(env->t.probe_at >= T0 + 35 * SEC);
	/* a shorter Retry-After later does not shorten the pause */
	env->t.paused_until = T0 + 40 * SEC;
	run(env, a1, T0 + 40 * SEC);
	assert_int_equal(count(env, FG_DISPATCH_SEND), 1);
	assert_int_equal(fg_dispatch_done(env->d, &env->t, env->a[0].entry, FG_DELIVERY_RETRY, true,
					  1 * SEC, head(&env->q), T0 + 36 * SEC), 0);
	drain(env);
	assert_int_equal(env->t.paused_until, T0 + 40 * SEC);
	assert_int_equal(env->t.in_flight, 0);
}

/*
 * A config fault (401): announced once, the entry kept, the target probed
 * on its backoff (seconds, not ten minutes); a reload clears it.
 */
static void test_unhealthy_probe(void **state)
{
	struct env *env = *state;
	struct fg_spool_entry *a1 = add(&env->q, "A"), *b1 = add(&env->q, "B");
	uint64_t probe;

	run(env, a1, T0);
	assert_int_equal(fg_dispatch_done(env->d, &env->t, a1, FG_DELIVERY_UNHEALTHY, false, 0,
					  head(&env->q), T0), 0);
	drain(env);
	assert_int_equal(env->n, 2);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_REJECTED);
	assert_ptr_equal(env->a[0].entry, a1);
	assert_true(env->a[0].delay_usec >= SEC / 2 && env->a[0].delay_usec <= SEC);
	assert_int_equal(env->a[1].kind, FG_DISPATCH_UNHEALTHY);
	assert_int_equal(env->t.health, FG_TARGET_UNHEALTHY);
	probe = env->t.probe_at;
	assert_int_equal(probe, T0 + env->a[0].delay_usec);
	/* the second rejection is logged, not announced again, and moves nothing */
	assert_int_equal(fg_dispatch_done(env->d, &env->t, b1, FG_DELIVERY_UNHEALTHY, false, 0,
					  head(&env->q), T0), 0);
	drain(env);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_REJECTED);
	assert_int_equal(env->t.probe_at, probe);
	/* nothing goes before the probe */
	run(env, a1, T0 + 1);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_ARM);
	assert_int_equal(env->a[0].at, probe);
	run(env, a1, probe);
	assert_int_equal(count(env, FG_DISPATCH_SEND), 1);
	assert_ptr_equal(env->a[0].entry, b1);
	/* a 2xx brings it back, announced after the entry left the spool */
	assert_int_equal(fg_dispatch_done(env->d, &env->t, b1, FG_DELIVERY_DONE, false, 0,
					  head(&env->q), probe), 0);
	drain(env);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_DELIVERED);
	assert_int_equal(env->a[1].kind, FG_DISPATCH_RECOVERED);
	assert_int_equal(env->t.health, FG_TARGET_HEALTHY);

	/* reload: health reset, every entry due now */
	env->t.health = FG_TARGET_UNHEALTHY;
	env->t.probe_at = probe + 300 * SEC;
	env->t.paused_until = probe + SEC;
	a1->next_attempt_usec = probe + SEC;
	drop(&env->q, b1);
	assert_int_equal(fg_dispatch_next_attempt(&env->t, a1), probe + 300 * SEC);
	fg_dispatch_target_configure(&env->t, &env->cfg, probe);
	fg_dispatch_retry_now(a1);
	assert_int_equal(env->t.health, FG_TARGET_HEALTHY);
	assert_int_equal(fg_dispatch_next_attempt(&env->t, a1), 0);
	run(env, a1, probe);
	assert_int_equal(env->n, 1);
	assert_ptr_equal(env->a[0].entry, a1);
}

/*
 * A new alert for a target that rejects us (or fails) is tried at once,
 * not after the backoff; at most one such probe a second.
 */
static void test_new_alert_probes_at_once(void **state)
{
	struct env *env = *state;
	struct fg_spool_entry *a1 = add(&env->q, "A"), *b1;
	uint64_t now = T0;

	run(env, a1, now);
	for (int k = 0; k < 8; k++) {
		assert_int_equal(fg_dispatch_done(env->d, &env->t, a1, FG_DELIVERY_UNHEALTHY, false, 0,
						  head(&env->q), now), 0);
		drain(env);
		now = env->t.probe_at;
		run(env, a1, now);
		assert_int_equal(count(env, FG_DISPATCH_SEND), 1);
	}
	assert_int_equal(fg_dispatch_done(env->d, &env->t, a1, FG_DELIVERY_UNHEALTHY, false, 0,
					  head(&env->q), now), 0);
	drain(env);
	assert_true(env->t.probe_at - now >= 64 * SEC);
	/* a press of another button 10 s later: that alert is tried now */
	now += 10 * SEC;
	b1 = add(&env->q, "B");
	fg_dispatch_new_alerts(&env->t, now);
	run(env, a1, now);
	assert_int_equal(count(env, FG_DISPATCH_SEND), 1);
	assert_ptr_equal(env->a[0].entry, b1);
	assert_int_equal(fg_dispatch_done(env->d, &env->t, b1, FG_DELIVERY_UNHEALTHY, false, 0,
					  head(&env->q), now), 0);
	drain(env);
	/* another half a second later: it waits for the second to end */
	fg_dispatch_new_alerts(&env->t, now + SEC / 2);
	run(env, a1, now + SEC / 2);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_ARM);
	assert_int_equal(env->a[0].at, now + SEC);
	run(env, a1, now + SEC);
	assert_int_equal(count(env, FG_DISPATCH_SEND), 1);
	assert_false(b1->in_flight && a1->in_flight);
	/* a second alert of a button: its first goes first, an Off never overtakes its On */
	assert_int_equal(fg_dispatch_done(env->d, &env->t, env->a[0].entry, FG_DELIVERY_UNHEALTHY,
					  false, 0, head(&env->q), now + SEC), 0);
	drain(env);
	add(&env->q, "A");
	fg_dispatch_new_alerts(&env->t, now + 3 * SEC);
	run(env, a1, now + 3 * SEC);
	assert_int_equal(count(env, FG_DISPATCH_SEND), 1);
	assert_ptr_equal(env->a[0].entry, b1);
	assert_int_equal(fg_dispatch_done(env->d, &env->t, b1, FG_DELIVERY_UNHEALTHY, false, 0,
					  head(&env->q), now + 3 * SEC), 0);
	drain(env);
	drop(&env->q, b1);
	fg_dispatch_new_alerts(&env->t, now + 5 * SEC);
	run(env, a1, now + 5 * SEC);
	assert_ptr_equal(env->a[0].entry, a1);
	/* a healthy target is not touched */
	fg_dispatch_target_configure(&env->t, &env->cfg, now);
	env->t.probe_at = 5;
	fg_dispatch_new_alerts(&env->t, now);
	assert_int_equal(env->t.probe_at, 5);
}

/* A dead letter frees the button; a dead letter that cannot be written backs off. */
static void test_dead_letter(void **state)
{
	struct env *env = *state;
	struct fg_spool_entry *a1 = add(&env->q, "A"), *a2 = add(&env->q, "A");

	run(env, a1, T0);
	assert_int_equal(fg_dispatch_done(env->d, &env->t, a1, FG_DELIVERY_DEAD, false, 0, head(&env->q), T0), 0);
	drain(env);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_DEAD_LETTER);
	assert_int_equal(env->t.dead, 1);
	assert_int_equal(env->t.health, FG_TARGET_HEALTHY);
	/* the spool could not write it: kept, retried after a backoff */
	fg_dispatch_dead_letter_failed(env->d, a1, T0);
	assert_true(a1->next_attempt_usec >= T0 + SEC / 2 && a1->next_attempt_usec <= T0 + SEC);
	run(env, a1, T0);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_ARM);
	assert_false(a2->in_flight);
	/* written: the next of the button goes */
	drop(&env->q, a1);
	run(env, a2, T0);
	assert_ptr_equal(env->a[0].entry, a2);
}

/* The token bucket: a configured rate of 1/s lets one go, then arms for the next token. */
static void test_rate_limit(void **state)
{
	struct env *env = *state;
	struct fg_spool_entry *a1 = add(&env->q, "A");

	add(&env->q, "B");
	env->cfg.rate_limit = 1;
	fg_dispatch_target_configure(&env->t, &env->cfg, T0);
	run(env, a1, T0);
	assert_int_equal(env->n, 2);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_SEND);
	assert_int_equal(env->a[1].kind, FG_DISPATCH_ARM);
	assert_int_equal(env->a[1].at, T0 + SEC);
	run(env, a1, T0 + SEC);
	assert_int_equal(env->n, 1);
	assert_ptr_equal(env->a[0].entry, &env->q.e[1]);
}

/* A send that could not start is tried again in 1 s; one that needed no request frees its button. */
static void test_send_failed_and_skipped(void **state)
{
	struct env *env = *state;
	struct fg_spool_entry *a1 = add(&env->q, "A"), *a2 = add(&env->q, "A");

	run(env, a1, T0);
	assert_int_equal(fg_dispatch_send_failed(env->d, &env->t, a1, T0), 0);
	drain(env);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_ARM);
	assert_int_equal(env->a[0].at, T0 + FG_DISPATCH_START_RETRY_USEC);
	assert_false(a1->in_flight);
	assert_int_equal(a1->attempts, 0);
	assert_int_equal(env->t.in_flight, 0);
	/* a1 needs no request (a notify-only preset and an Off): gone, a2 goes at once */
	run(env, a1, T0 + FG_DISPATCH_START_RETRY_USEC);
	assert_ptr_equal(env->a[0].entry, a1);
	drop(&env->q, a1);
	assert_int_equal(fg_dispatch_send_skipped(env->d, &env->t, false, a2,
						  T0 + FG_DISPATCH_START_RETRY_USEC), 0);
	drain(env);
	assert_int_equal(env->n, 1);
	assert_int_equal(env->a[0].kind, FG_DISPATCH_SEND);
	assert_ptr_equal(env->a[0].entry, a2);
	assert_int_equal(env->t.in_flight, 1);
	assert_int_equal(env->t.dead, 0);
	/* a request that cannot be built is a dead letter */
	drop(&env->q, a2);
	assert_int_equal(fg_dispatch_send_skipped(env->d, &env->t, true, NULL, T0), 0);
	assert_int_equal(drain(env), 0);
	assert_int_equal(env->t.dead, 1);
	assert_int_equal(env->t.in_flight, 0);
}

/* An orphaned queue is never sent; a delivery to it in flight leaves it orphaned. */
static void test_orphaned(void **state)
{
	struct env *env = *state;
	struct fg_spool_entry *a1 = add(&env->q, "A");

	run(env, a1, T0);
	fg_dispatch_target_configure(&env->t, NULL, T0);
	assert_int_equal(env->t.health, FG_TARGET_ORPHANED);
	assert_int_equal(env->t.in_flight, 1);
	add(&env->q, "B");
	run(env, a1, T0);
	assert_int_equal(env->n, 0);
	/* a failure of the request still in flight: retried later, still orphaned */
	assert_int_equal(fg_dispatch_done(env->d, &env->t, a1, FG_DELIVERY_RETRY, false, 0, head(&env->q), T0), 0);
	drain(env);
	assert_int_equal(env->t.health, FG_TARGET_ORPHANED);
	run(env, a1, T0 + 3600 * SEC);
	assert_int_equal(env->n, 0);
	assert_string_equal(fg_target_health_to_string(FG_TARGET_ORPHANED), "orphaned");
	assert_null(fg_target_health_to_string(_FG_TARGET_HEALTH_MAX));
	assert_string_equal(fg_dispatch_action_kind_to_string(FG_DISPATCH_RECOVERED), "recovered");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST_SETUP("/dispatch/one-per-button", test_one_per_button, setup, teardown),
		FG_TEST_SETUP("/dispatch/in-flight-limit", test_in_flight_limit, setup, teardown),
		FG_TEST_SETUP("/dispatch/retry-backoff-holds-button", test_retry_backoff, setup, teardown),
		FG_TEST_SETUP("/dispatch/failing/one-probe-at-a-time", test_failing_one_probe, setup,
			      teardown),
		FG_TEST_SETUP("/dispatch/failing/recovery-drains-at-once", test_recovery_drains_at_once,
			      setup, teardown),
		FG_TEST_SETUP("/dispatch/unhealthy/new-alert-probes-at-once",
			      test_new_alert_probes_at_once, setup, teardown),
		FG_TEST_SETUP("/dispatch/retry-after-pauses-target", test_retry_after_pauses_target, setup,
			      teardown),
		FG_TEST_SETUP("/dispatch/unhealthy-probe-reload", test_unhealthy_probe, setup, teardown),
		FG_TEST_SETUP("/dispatch/dead-letter", test_dead_letter, setup, teardown),
		FG_TEST_SETUP("/dispatch/rate-limit", test_rate_limit, setup, teardown),
		FG_TEST_SETUP("/dispatch/send-failed-skipped", test_send_failed_and_skipped, setup,
			      teardown),
		FG_TEST_SETUP("/dispatch/orphaned", test_orphaned, setup, teardown),
	};

	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
