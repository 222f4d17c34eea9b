/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "delivery/alert.h"
#include "config/config.h"
#include "delivery/dispatch.h"
#include "delivery/mapping.h"
#include "delivery/retry.h"

/*
 * The alert pipeline: button events -> mapping -> durable spool -> webhook
 * delivery with retries, in order per button and target. Owned by the
 * manager; everything runs on its sd-event loop.
 *
 * fg_pipeline_new() and fg_pipeline_reload() take a reference on the
 * configuration they are given (fg_config_ref) and drop it at the next
 * reload or in fg_pipeline_free(): the caller may unref its own at once.
 */

struct fg_pipeline;

enum fg_pipeline_event_kind {
	FG_PIPELINE_ALERT_OPENED,	/* a button's alert is open locally */
	FG_PIPELINE_ALERT_CLOSED,
	FG_PIPELINE_DELIVERED,		/* a target accepted an alert */
	FG_PIPELINE_FAILING,		/* an attempt failed; the alert will be retried */
	FG_PIPELINE_TARGET_UNHEALTHY,	/* a target rejects us: config fault */
	FG_PIPELINE_TARGET_HEALTHY,	/* a failing/unhealthy target accepts again */
	FG_PIPELINE_DEAD_LETTER,	/* an alert will never be accepted as is */
	FG_PIPELINE_SPOOL_FULL,		/* alerts held in memory or spool over its limit */
	FG_PIPELINE_SPOOL_OK,
	FG_PIPELINE_ALERT_LOST,		/* neither disk nor memory took an alert */
	_FG_PIPELINE_EVENT_MAX,
};

const char *fg_pipeline_event_kind_to_string(enum fg_pipeline_event_kind k);

struct fg_pipeline_event {
	enum fg_pipeline_event_kind kind;
	const char *button;		/* NULL when not about one button */
	const char *target;		/* NULL when not about one target */
	const struct fg_alert *alert;	/* NULL when not about one alert */
	long http_status;		/* DELIVERED/FAILING/UNHEALTHY/DEAD_LETTER: 0 = none */
};

/*
 * Everything in @ev lives only during the call. The callback must not
 * reload or free the pipeline.
 */
typedef void (*fg_pipeline_callback_t)(struct fg_pipeline *p, const struct fg_pipeline_event *ev,
				       void *userdata);

/*
 * Opens <state_dir>/spool, replays its journal (alerts, alert states;
 * delivery starts on the first loop iteration) and migrates an older
 * <state_dir>/alerts.state into it. *ret owned by the caller.
 */
int fg_pipeline_new(sd_event *e, struct fg_config *c, struct fg_pipeline **ret);
/* Aborts transfers (their alerts stay spooled). Accepts NULL. */
struct fg_pipeline *fg_pipeline_free(struct fg_pipeline *p);

/* One subscriber; @userdata must live until replaced or the pipeline is freed. */
void fg_pipeline_set_callback(struct fg_pipeline *p, fg_pipeline_callback_t cb, void *userdata);

/*
 * Group commit. Everything staged while the loop works through what is
 * ready (alerts, alert states, fg_pipeline_stage_state() values) is made
 * durable by one fdatasync in a deferred source that runs after the
 * iteration's other sources (or at once past a batch limit). Then the
 * callback hears @r: 0 all of the batch is on disk; negative (-ENOSPC,
 * -EIO, …) some of it is held in memory only (the alarm is up): whoever
 * waits must not tell anyone it is safe (the radio does not acknowledge).
 * fg_pipeline_free() commits what is pending, and calls it too.
 */
typedef void (*fg_pipeline_commit_callback_t)(struct fg_pipeline *p, int r, void *userdata);
void fg_pipeline_set_commit_callback(struct fg_pipeline *p, fg_pipeline_commit_callback_t cb,
				     void *userdata);

/*
 * Stage a named value (another domain's state, e.g. a button's event
 * counter) in the journal, durable with the batch's commit. 1 (wait for
 * the commit callback), -EINVAL for a bad key, -ENOMEM.
 */
int fg_pipeline_stage_state(struct fg_pipeline *p, const char *key, const char *value, size_t len);
/* The latest value of @key (lives until it is staged again); -ENOENT. */
int fg_pipeline_get_state(const struct fg_pipeline *p, const char *key, const char **ret,
			  size_t *ret_len);
/* Bytes the journal wrote since start (bytes per press: docs/alerts.md). */
uint64_t fg_pipeline_bytes_written(const struct fg_pipeline *p);

/*
 * A button event from the Flic adapter. @b must belong to the current
 * configuration. When this returns 0 every alert it produced and the
 * button's alert state are staged in the journal and their requests
 * started; they are durable when the batch's commit reports success
 * (fg_pipeline_set_commit_callback): only then may the button be
 * acknowledged. *ret_outcome (optional) says what the mapping did.
 */
int fg_pipeline_button_event(struct fg_pipeline *p, const struct fg_button_config *b,
			     const struct fg_button_event *ev, enum fg_mapping_outcome *ret_outcome);

/*
 * Send a test alert (On, then Off) marked as a test, as if @button (NULL:
 * a synthetic "flicgate-test" button) had been pressed, to @target (NULL:
 * the button's targets, or every target for the synthetic button). The
 * button's alert state is not touched. -ENOENT for an unknown name,
 * -EDESTADDRREQ when it would reach no target (no [webhook] at all, or none
 * for @button): nothing is queued.
 */
int fg_pipeline_test_alert(struct fg_pipeline *p, const char *button, const char *target);

/*
 * A supervision alert (docs/supervision.md): a battery, not-seen or
 * gateway alarm opening (@on) or closing. Spooled and delivered like a
 * button's alert (durable, retried, in order per @name_id), rendered by
 * each target's preset with fg_alert.supervision set: AlertOps gets
 * flic_nameId = @name_id with On/Off. It never touches a button's alert
 * state. Its idempotency key is "supervision:<gateway>:<name_id>:<time>:on|off",
 * @since_usec (CLOCK_REALTIME) being when the condition began or ended.
 */
struct fg_supervision_alert {
	const char *name_id;		/* "<button>-battery", "<gateway>-delivery", … */
	bool on;
	const char *info;		/* human text; may be "" */
	enum fg_severity severity;
	uint64_t since_usec;
	const char *incident_id;	/* Off: the id of its On if known; NULL: its own */
	const size_t *webhooks;		/* indexes into the config's webhooks */
	size_t n_webhooks;		/* 0: every webhook */
};

/* *ret_id (optional) receives the alert id. -EINVAL without a name_id. */
int fg_pipeline_supervision_alert(struct fg_pipeline *p, const struct fg_supervision_alert *s,
				  char ret_id[FG_ALERT_ID_MAX]);

/*
 * Switch to @c. Targets are matched by name; each one's health is reset
 * and its queue retried now. Queues of targets no longer configured stay
 * on disk (reported as orphaned) until a target of that name returns.
 */
int fg_pipeline_reload(struct fg_pipeline *p, struct fg_config *c);

/* ---- status (control API, LEDs) ---------------------------------- */

/* enum fg_target_health: dispatch.h */
struct fg_target_status {
	const char *name;		/* lives until the next reload */
	enum fg_target_health health;
	size_t depth;			/* alerts queued */
	unsigned in_flight;
	unsigned long delivered;
	unsigned long dead;
	long last_status;		/* last HTTP status, 0 = none/transport */
	const char *last_error;		/* "" if none */
	uint64_t next_attempt_usec;	/* CLOCK_MONOTONIC; 0: none pending */
};

size_t fg_pipeline_n_targets(const struct fg_pipeline *p);
void fg_pipeline_target_status(const struct fg_pipeline *p, size_t i, struct fg_target_status *ret);

#define FG_PIPELINE_HISTORY 32
struct fg_delivery_record {
	char alert_id[FG_ALERT_ID_MAX];
	char idempotency_key[FG_IDEMPOTENCY_KEY_MAX];
	char button[72];
	char target[72];
	enum fg_alert_state state;
	bool test;
	enum fg_delivery_class result;
	long http_status;
	char error[96];
	uint64_t latency_usec;
	unsigned attempt;
	uint64_t realtime_usec;		/* when the attempt ended */
};

/* Number of records kept (≤ FG_PIPELINE_HISTORY); index 0 is the newest. */
size_t fg_pipeline_n_deliveries(const struct fg_pipeline *p);
const struct fg_delivery_record *fg_pipeline_delivery(const struct fg_pipeline *p, size_t i);

size_t fg_pipeline_spool_depth(const struct fg_pipeline *p);
bool fg_pipeline_spool_alarm(const struct fg_pipeline *p);
size_t fg_pipeline_dead_count(const struct fg_pipeline *p);
unsigned long fg_pipeline_lost_count(const struct fg_pipeline *p);
/* Button alert states (open/closed); lives as long as the pipeline. */
const struct fg_mapping *fg_pipeline_mapping(const struct fg_pipeline *p);
