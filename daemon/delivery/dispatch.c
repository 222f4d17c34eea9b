/* SPDX-License-Identifier: MIT */
/* Delivery policy: dispatch order, what is due, target health and retry
 * scheduling, as actions for pipeline.c to perform (dispatch.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/dispatch.h"
#include "lib/macro.h"

/* Distinct buttons one pass looks at (the rest wait for the next pass). */
#define MAX_BLOCKED 128

struct fg_dispatch {
	struct fg_dispatch_action *queue;
	size_t head, n, cap;
	uint64_t rng;
};

static const char *const target_health_table[] = {
	[FG_TARGET_HEALTHY] = "healthy",
	[FG_TARGET_FAILING] = "failing",
	[FG_TARGET_UNHEALTHY] = "unhealthy",
	[FG_TARGET_ORPHANED] = "orphaned",
};
FG_DEFINE_STRING_TABLE_TO(, fg_target_health, enum fg_target_health, target_health_table)

static const char *const action_kind_table[] = {
	[FG_DISPATCH_SEND] = "send",
	[FG_DISPATCH_ARM] = "arm",
	[FG_DISPATCH_DELIVERED] = "delivered",
	[FG_DISPATCH_RECOVERED] = "recovered",
	[FG_DISPATCH_RETRY] = "retry",
	[FG_DISPATCH_DEAD_LETTER] = "dead-letter",
	[FG_DISPATCH_REJECTED] = "rejected",
	[FG_DISPATCH_UNHEALTHY] = "unhealthy",
};
FG_DEFINE_STRING_TABLE_TO(, fg_dispatch_action_kind, enum fg_dispatch_action_kind,
			  action_kind_table)

int fg_dispatch_new(uint64_t seed, struct fg_dispatch **ret)
{
	struct fg_dispatch *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->rng = seed ? seed : UINT64_C(0x9E3779B97F4A7C15);
	*ret = d;
	return 0;
}

struct fg_dispatch *fg_dispatch_free(struct fg_dispatch *d)
{
	if (d) {
		free(d->queue);
		free(d);
	}
	return NULL;
}

static uint32_t rng_next(struct fg_dispatch *d)
{
	/* xorshift64*: jitter only needs to differ between gateways */
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return (uint32_t)((d->rng * UINT64_C(2685821657736338717)) >> 32);
}

static int push(struct fg_dispatch *d, const struct fg_dispatch_action *a)
{
	if (d->head + d->n == d->cap) {
		if (d->head > 0) {
			memmove(d->queue, d->queue + d->head, d->n * sizeof(*d->queue));
			d->head = 0;
		} else {
			size_t cap = d->cap ? 2 * d->cap : 16;
			struct fg_dispatch_action *q = reallocarray(d->queue, cap, sizeof(*q));

			if (!q)
				return -ENOMEM;
			d->queue = q;
			d->cap = cap;
		}
	}
	d->queue[d->head + d->n++] = *a;
	return 0;
}

int fg_dispatch_next_action(struct fg_dispatch *d, struct fg_dispatch_action *ret)
{
	if (d->n == 0)
		return 0;
	*ret = d->queue[d->head++];
	if (--d->n == 0)
		d->head = 0;
	return 1;
}

void fg_dispatch_target_configure(struct fg_dispatch_target *t,
				  const struct fg_webhook_config *cfg, uint64_t now)
{
	double rate, burst;

	t->configured = cfg != NULL;
	if (!cfg) {
		t->health = FG_TARGET_ORPHANED;
		return;
	}
	fg_preset_rate_limit(cfg->preset, cfg->rate_limit, &rate, &burst);
	fg_ratelimit_init(&t->rl, rate, burst, now);
	t->health = FG_TARGET_HEALTHY;
	t->failures = 0;
	t->probe_at = 0;
	t->paused_until = 0;
}

static int arm(struct fg_dispatch *d, struct fg_dispatch_target *t, uint64_t at)
{
	return push(d, &(struct fg_dispatch_action){ .kind = FG_DISPATCH_ARM, .target = t, .at = at });
}

static bool probing(const struct fg_dispatch_target *t)
{
	return t->health == FG_TARGET_FAILING || t->health == FG_TARGET_UNHEALTHY;
}

/* The buttons one pass has met, in queue order. */
struct buttons_seen {
	const char *name[MAX_BLOCKED];
	size_t n;
};

/*
 * 1 if @e is the oldest queued alert of its button (the first of it this
 * pass meets), 0 if an older one holds the button, -ENOSPC when the pass
 * has met MAX_BLOCKED buttons already (the rest wait for the next pass).
 */
static int first_of_button(struct buttons_seen *seen, const struct fg_spool_entry *e)
{
	for (size_t i = 0; i < seen->n; i++)
		if (strcmp(seen->name[i], e->alert.button) == 0)
			return 0;
	if (seen->n == MAX_BLOCKED)
		return -ENOSPC;
	seen->name[seen->n++] = e->alert.button;
	return 1;
}

/*
 * Whether @e may go at @now: 1 yes; 0 no (an older alert holds its button,
 * it is in flight, or it waits for a retry of its own: *wake is lowered to
 * that); -ENOSPC: the pass has met enough buttons, stop.
 */
static int may_go(struct buttons_seen *seen, const struct fg_spool_entry *e, uint64_t now,
		  uint64_t *wake)
{
	int r = first_of_button(seen, e);

	if (r <= 0)
		return r;
	if (e->in_flight)
		return 0;
	if (e->next_attempt_usec > now) {
		if (e->next_attempt_usec < *wake)
			*wake = e->next_attempt_usec;
		return 0;
	}
	return 1;
}

static int send(struct fg_dispatch *d, struct fg_dispatch_target *t, struct fg_spool_entry *e)
{
	int r = push(d, &(struct fg_dispatch_action){
		.kind = FG_DISPATCH_SEND, .target = t, .entry = e,
	});

	if (r < 0)
		return r;
	/* in flight from now on: a pass run while this one drains must not send it again */
	e->in_flight = true;
	e->attempts++;
	t->in_flight++;
	return 0;
}

/*
 * A failing target's one request: the newest alert that may go (the
 * oldest of its button), so that a press made while the target fails is
 * the one tried at once; which one proves the target back matters not,
 * its success releases them all.
 */
static int probe(struct fg_dispatch *d, struct fg_dispatch_target *t,
		 struct fg_spool_entry *head, uint64_t now)
{
	struct buttons_seen seen = {};
	struct fg_spool_entry *pick = NULL;
	uint64_t wake = UINT64_MAX, wait;
	int r;

	if (t->in_flight > 0)
		return 0;
	if (now < t->probe_at)
		return head ? arm(d, t, t->probe_at) : 0;
	for (struct fg_spool_entry *e = head; e; e = fg_spool_next(e)) {
		r = may_go(&seen, e, now, &wake);
		if (r < 0)
			break;
		if (r > 0)
			pick = e;
	}
	if (!pick)
		return wake != UINT64_MAX ? arm(d, t, wake) : 0;
	wait = fg_ratelimit_take(&t->rl, now);
	if (wait > 0)
		return arm(d, t, now + wait);
	r = send(d, t, pick);
	if (r < 0)
		return r;
	t->probe = pick;
	t->last_probe = now;
	return 0;
}

/*
 * Start what may start: per button only the oldest queued alert may be
 * in flight or waiting for its retry, so an Off never overtakes its On;
 * other buttons are not held up by it. A failing target gets one probe
 * at a time, when its backoff ends.
 */
int fg_dispatch_run(struct fg_dispatch *d, struct fg_dispatch_target *t,
		    struct fg_spool_entry *head, uint64_t now)
{
	struct buttons_seen seen = {};
	uint64_t wake = UINT64_MAX;
	int r;

	if (!t->configured)
		return 0;
	if (now < t->paused_until)
		return arm(d, t, t->paused_until);
	/* no hammering a dead endpoint: one request, on the target's backoff */
	if (probing(t))
		return probe(d, t, head, now);
	for (struct fg_spool_entry *e = head; e; e = fg_spool_next(e)) {
		uint64_t wait;

		if (t->in_flight >= FG_DISPATCH_MAX_IN_FLIGHT)
			break;
		r = may_go(&seen, e, now, &wake);
		if (r < 0)
			break;
		if (r == 0)
			continue;
		wait = fg_ratelimit_take(&t->rl, now);
		if (wait > 0) {
			if (now + wait < wake)
				wake = now + wait;
			break;
		}
		r = send(d, t, e);
		if (r < 0)
			return r;
	}
	if (wake != UINT64_MAX)
		return arm(d, t, wake);
	return 0;
}

int fg_dispatch_send_failed(struct fg_dispatch *d, struct fg_dispatch_target *t,
			    struct fg_spool_entry *e, uint64_t now)
{
	e->in_flight = false;
	e->attempts--;
	t->in_flight--;
	if (t->probe == e)
		t->probe = NULL;
	e->next_attempt_usec = now + FG_DISPATCH_START_RETRY_USEC;
	return arm(d, t, e->next_attempt_usec);
}

int fg_dispatch_send_skipped(struct fg_dispatch *d, struct fg_dispatch_target *t,
			     bool dead_lettered, struct fg_spool_entry *head, uint64_t now)
{
	t->in_flight--;
	/* the skipped entry is gone: whatever probe it was, it proved nothing */
	t->probe = NULL;
	if (dead_lettered)
		t->dead++;
	/* handled without a request: the button is free again */
	return fg_dispatch_run(d, t, head, now);
}

/*
 * A failed attempt moves the target's backoff: the first failure of a
 * healthy target (or its first rejection) starts it afresh, a failed
 * probe doubles it. Answers to requests that were in flight before the
 * target failed leave it as it is, or a burst of eight failures would
 * park the target for minutes at once. Returns the delay to the probe.
 */
static uint64_t backoff(struct fg_dispatch *d, struct fg_dispatch_target *t,
			const struct fg_spool_entry *e, bool restart, bool has_retry_after,
			uint64_t retry_after_usec, uint64_t now)
{
	if (restart || t->probe == e) {
		uint64_t max = t->health == FG_TARGET_UNHEALTHY ? FG_RETRY_MAX_USEC
								: FG_DISPATCH_PROBE_MAX_USEC;
		uint64_t delay;

		t->failures = restart ? 1 : t->failures + 1;
		delay = fg_retry_backoff_max(t->failures, rng_next(d), max);
		if (has_retry_after && retry_after_usec > delay)
			delay = retry_after_usec;
		t->probe_at = now + delay;
	}
	/* Retry-After speaks for the server, not for one alert: nothing goes before it. */
	if (has_retry_after && now + retry_after_usec > t->paused_until)
		t->paused_until = now + retry_after_usec;
	return t->probe_at > now ? t->probe_at - now : 0;
}

/* The target answers 2xx again: everything that waited for it is due now. */
static void release(struct fg_dispatch_target *t, struct fg_spool_entry *head)
{
	t->failures = 0;
	t->probe_at = 0;
	for (struct fg_spool_entry *e = head; e; e = fg_spool_next(e))
		if (!e->in_flight)
			e->next_attempt_usec = 0;
}

int fg_dispatch_done(struct fg_dispatch *d, struct fg_dispatch_target *t,
		     struct fg_spool_entry *e, enum fg_delivery_class cls, bool has_retry_after,
		     uint64_t retry_after_usec, struct fg_spool_entry *head, uint64_t now)
{
	struct fg_dispatch_action a = { .target = t, .entry = e };
	int r = 0;

	e->in_flight = false;
	t->in_flight--;
	switch (cls) {
	case FG_DELIVERY_DONE:
		t->delivered++;
		/*
		 * Out of the spool before anyone hears of it: a listener may
		 * queue and dispatch (a supervision alert when the target
		 * recovers), and must not find this entry idle and send it
		 * again, or free it under us.
		 */
		a.kind = FG_DISPATCH_DELIVERED;
		r = push(d, &a);
		if (r >= 0 && probing(t)) {
			t->health = t->configured ? FG_TARGET_HEALTHY : FG_TARGET_ORPHANED;
			release(t, head);
			r = push(d, &(struct fg_dispatch_action){
				.kind = FG_DISPATCH_RECOVERED, .target = t,
			});
		}
		break;
	case FG_DELIVERY_RETRY:
		a.kind = FG_DISPATCH_RETRY;
		a.retry_after = has_retry_after;
		a.delay_usec = backoff(d, t, e, !probing(t), has_retry_after, retry_after_usec, now);
		if (t->health == FG_TARGET_HEALTHY)
			t->health = FG_TARGET_FAILING;
		r = push(d, &a);
		break;
	case FG_DELIVERY_DEAD:
		t->dead++;
		/* an answer, if not a welcome one: the next probe need not wait */
		if (t->probe == e)
			t->probe_at = now;
		a.kind = FG_DISPATCH_DEAD_LETTER;
		r = push(d, &a);
		break;
	case FG_DELIVERY_UNHEALTHY: {
		bool announce = t->health != FG_TARGET_UNHEALTHY && t->configured;

		/*
		 * Probed on the backoff like a failing target, and new alerts
		 * are still tried at once: a key fixed on the target's side
		 * is found without a reload, and nothing waits ten minutes.
		 */
		if (announce)
			t->health = FG_TARGET_UNHEALTHY;
		a.delay_usec = backoff(d, t, e, announce, false, 0, now);
		a.kind = FG_DISPATCH_REJECTED;
		r = push(d, &a);
		if (r >= 0 && announce)
			r = push(d, &(struct fg_dispatch_action){
				.kind = FG_DISPATCH_UNHEALTHY, .target = t,
			});
		break;
	}
	case _FG_DELIVERY_CLASS_MAX:
		break;
	}
	if (t->probe == e)
		t->probe = NULL;
	return r;
}

void fg_dispatch_new_alerts(struct fg_dispatch_target *t, uint64_t now)
{
	uint64_t at;

	if (!probing(t))
		return;
	at = t->last_probe + FG_DISPATCH_NEW_PROBE_GAP_USEC;
	if (at < now)
		at = now;
	if (at < t->probe_at)
		t->probe_at = at;
}

void fg_dispatch_dead_letter_failed(struct fg_dispatch *d, struct fg_spool_entry *e,
				    uint64_t now)
{
	e->next_attempt_usec = now + fg_retry_backoff(e->attempts, rng_next(d));
}

void fg_dispatch_retry_now(struct fg_spool_entry *head)
{
	for (struct fg_spool_entry *e = head; e; e = fg_spool_next(e))
		e->next_attempt_usec = 0;
}

uint64_t fg_dispatch_next_attempt(const struct fg_dispatch_target *t,
				  const struct fg_spool_entry *head)
{
	uint64_t next = 0;

	if (!head)
		return 0;
	for (const struct fg_spool_entry *e = head; e; e = e->next)
		if (!e->in_flight && e->next_attempt_usec && (!next || e->next_attempt_usec < next))
			next = e->next_attempt_usec;
	if (probing(t) && t->probe_at > next)
		next = t->probe_at;
	return next;
}
