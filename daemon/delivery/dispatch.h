/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "delivery/retry.h"
#include "delivery/spool.h"

/*
 * Delivery policy, pure: which queued alert goes out to which target and
 * when, what an answer does to the alert and to the target's health, when
 * a target is announced failing or recovered. State, events and time go
 * in; actions come out, the way flic2.c works: after each call the owner
 * (pipeline.c) drains fg_dispatch_next_action() in order and performs each
 * action with the spool and webhook.c. The engine reads and writes the
 * delivery bookkeeping of the spool entries (attempts, next_attempt_usec,
 * in_flight); it never frees one: entries leave the spool only through
 * the owner, on a DELIVERED or DEAD_LETTER action or when a send turns
 * out to need no request.
 *
 * Rules (docs/alerts.md, "Ordering" and "Response classes"):
 *  - per target and button only the oldest queued alert may be in flight
 *    or waiting for its retry, so an Off never overtakes its On; other
 *    buttons are not held up; at most FG_DISPATCH_MAX_IN_FLIGHT requests
 *    per target; a token bucket per target;
 *  - Retry-After pauses the whole target;
 *  - a failing or rejecting target is probed, one request at a time, on
 *    the target's backoff (not one timer per alert): a dead endpoint sees
 *    one request per backoff step; a new alert is tried at once (at most
 *    one such probe per FG_DISPATCH_NEW_PROBE_GAP_USEC);
 *  - the first 2xx from a failing or rejecting target releases every alert
 *    waiting for it at once: the queue drains bounded only by the rate
 *    limit and FG_DISPATCH_MAX_IN_FLIGHT;
 *  - a delivered alert leaves the spool before the target's recovery is
 *    announced (a listener may dispatch, and must not find it idle).
 */

/* Requests in flight per target (each a connection with HTTP/1.1). */
#define FG_DISPATCH_MAX_IN_FLIGHT 8
/*
 * A failing target (no answer, 5xx, 429) is probed at most this far apart
 * (1.5–3 s with the jitter), one request at a time: a dead endpoint sees
 * one request every 2–3 s, the order of what 64 buttons' alerts each
 * backing off to 5 min made (one every 3–4 s), and a target that is back
 * is found within 3 s, so 10 000 waiting alerts are out within about 4 s
 * of its return. A target that rejects us (401…) backs off up to
 * FG_RETRY_MAX_USEC: its key does not fix itself every few seconds, and
 * new alerts and a reload try it at once.
 */
#define FG_DISPATCH_PROBE_MAX_USEC (3 * UINT64_C(1000000))
/* New alerts for a failing target probe it at most this often. */
#define FG_DISPATCH_NEW_PROBE_GAP_USEC (1 * UINT64_C(1000000))
/* A request that could not be started is tried again after this. */
#define FG_DISPATCH_START_RETRY_USEC (1 * UINT64_C(1000000))

enum fg_target_health {
	FG_TARGET_HEALTHY,
	FG_TARGET_FAILING,		/* retrying: probed on the backoff */
	FG_TARGET_UNHEALTHY,		/* rejects us (401, 404…): probed, and retried on reload */
	FG_TARGET_ORPHANED,		/* spool queue without a configured target */
	_FG_TARGET_HEALTH_MAX,
};
const char *fg_target_health_to_string(enum fg_target_health h);

/* One target's delivery state; plain data, embedded by its owner. */
struct fg_dispatch_target {
	bool configured;		/* false: an orphaned queue, never sent */
	struct fg_ratelimit rl;
	enum fg_target_health health;
	unsigned failures;		/* failed probes in a row: the backoff's step */
	uint64_t probe_at;		/* failing/unhealthy: next probe */
	uint64_t last_probe;		/* when the last probe started */
	const struct fg_spool_entry *probe;	/* the probe in flight; compared, never used */
	uint64_t paused_until;		/* Retry-After: the whole target waits */
	unsigned in_flight;
	unsigned long delivered, dead;
	void *userdata;			/* the owner's, handed back in actions */
};

enum fg_dispatch_action_kind {
	/* start a request for .entry to .target (the engine counts it in flight) */
	FG_DISPATCH_SEND,
	/* wake .target at .at (CLOCK_MONOTONIC µs), unless it wakes earlier */
	FG_DISPATCH_ARM,
	/* .entry was accepted: take it out of the spool, before anything is announced */
	FG_DISPATCH_DELIVERED,
	/* .target accepts alerts again (it was failing or unhealthy): announce */
	FG_DISPATCH_RECOVERED,
	/* an attempt of .entry failed; the target is probed in .delay_usec (.retry_after: the server's) */
	FG_DISPATCH_RETRY,
	/* .entry will never be accepted as is: move it to the dead letters */
	FG_DISPATCH_DEAD_LETTER,
	/* .target rejected .entry (config fault); probed in .delay_usec, retried on reload */
	FG_DISPATCH_REJECTED,
	/* .target has just become unhealthy: announce */
	FG_DISPATCH_UNHEALTHY,
	_FG_DISPATCH_ACTION_MAX,
};
const char *fg_dispatch_action_kind_to_string(enum fg_dispatch_action_kind k);

struct fg_dispatch_action {
	enum fg_dispatch_action_kind kind;
	struct fg_dispatch_target *target;
	struct fg_spool_entry *entry;	/* NULL for ARM, RECOVERED, UNHEALTHY */
	uint64_t at;			/* ARM */
	uint64_t delay_usec;		/* RETRY, REJECTED */
	bool retry_after;		/* RETRY */
};

struct fg_dispatch;

/* @seed: randomness for the retry jitter (0 is replaced). *ret owned by the caller. */
int fg_dispatch_new(uint64_t seed, struct fg_dispatch **ret);
struct fg_dispatch *fg_dispatch_free(struct fg_dispatch *d);

/* Take the next action: 1 and *ret filled, or 0 when the queue is empty. */
int fg_dispatch_next_action(struct fg_dispatch *d, struct fg_dispatch_action *ret);

/*
 * (Re)configure @t for @cfg (NULL: an orphaned queue): healthy (or
 * orphaned), no pause, no backoff, the rate limit of its preset.
 * Counters and in_flight are kept.
 */
void fg_dispatch_target_configure(struct fg_dispatch_target *t,
				  const struct fg_webhook_config *cfg, uint64_t now);

/*
 * Start what may start of @t's queue (@head, in sequence order): SEND
 * actions, then an ARM for the earliest moment something else may start.
 * -ENOMEM if the action queue could not grow (nothing started then).
 */
int fg_dispatch_run(struct fg_dispatch *d, struct fg_dispatch_target *t,
		    struct fg_spool_entry *head, uint64_t now);

/* A SEND could not be started (-errno from the owner): tried again in 1 s (ARM). */
int fg_dispatch_send_failed(struct fg_dispatch *d, struct fg_dispatch_target *t,
			    struct fg_spool_entry *e, uint64_t now);
/*
 * A SEND needed no request after all (nothing to send for this preset, or
 * the request cannot be built): the owner took the entry out of the spool
 * (@dead_lettered: to the dead letters). Its button is free again: the
 * queue (@head) is run again.
 */
int fg_dispatch_send_skipped(struct fg_dispatch *d, struct fg_dispatch_target *t,
			     bool dead_lettered, struct fg_spool_entry *head, uint64_t now);

/*
 * The answer to @e's request: @cls from fg_retry_classify(); a valid
 * Retry-After (@has_retry_after) of @retry_after_usec; @head: @t's queue.
 * Queues what the answer means (DELIVERED, RECOVERED, RETRY, DEAD_LETTER,
 * REJECTED, UNHEALTHY); the owner then runs the queue again
 * (fg_dispatch_run). A 2xx from a failing or unhealthy target makes
 * every entry of @head due now.
 */
int fg_dispatch_done(struct fg_dispatch *d, struct fg_dispatch_target *t,
		     struct fg_spool_entry *e, enum fg_delivery_class cls, bool has_retry_after,
		     uint64_t retry_after_usec, struct fg_spool_entry *head, uint64_t now);

/*
 * New alerts were queued for @t: a failing or unhealthy target is probed
 * now rather than at the end of its backoff, unless a probe started less
 * than FG_DISPATCH_NEW_PROBE_GAP_USEC ago. The owner then runs the queue.
 */
void fg_dispatch_new_alerts(struct fg_dispatch_target *t, uint64_t now);

/* A DEAD_LETTER could not be written: @e stays queued and is retried after a backoff. */
void fg_dispatch_dead_letter_failed(struct fg_dispatch *d, struct fg_spool_entry *e,
				    uint64_t now);

/* A reload is the operator saying "fixed": every entry of the queue @head is due now. */
void fg_dispatch_retry_now(struct fg_spool_entry *head);

/* When @t tries its queue @head next (its probe, or an entry's retry); 0 when nothing waits. */
uint64_t fg_dispatch_next_attempt(const struct fg_dispatch_target *t,
				  const struct fg_spool_entry *head);
