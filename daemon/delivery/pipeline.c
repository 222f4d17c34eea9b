/* SPDX-License-Identifier: MIT */
/* The alert pipeline: button events through the mapping into the spool, and
 * the actions of the dispatch policy (dispatch.c) performed with webhook.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "delivery/pipeline-internal.h"
#include "delivery/preset.h"
#include "delivery/spool.h"
#include "lib/fileio.h"
#include "lib/statefile.h"
#include "lib/log.h"
#include "lib/macro.h"
#include "lib/mask.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

/* Retry writing alerts held in memory (disk full) this often. */
#define SPOOL_FLUSH_USEC (5 * UINT64_C(1000000))
/* Targets of one alert spooled with a single flush. */
#define ENQUEUE_BATCH 16
/* The longest a batch waits for the loop to run dry before it is flushed anyway. */
#define COMMIT_MAX_WAIT_USEC (5 * FG_USEC_PER_MSEC)

static const char *const event_kind_table[] = {
	[FG_PIPELINE_ALERT_OPENED] = "alert-opened",
	[FG_PIPELINE_ALERT_CLOSED] = "alert-closed",
	[FG_PIPELINE_DELIVERED] = "delivered",
	[FG_PIPELINE_FAILING] = "failing",
	[FG_PIPELINE_TARGET_UNHEALTHY] = "target-unhealthy",
	[FG_PIPELINE_TARGET_HEALTHY] = "target-healthy",
	[FG_PIPELINE_DEAD_LETTER] = "dead-letter",
	[FG_PIPELINE_SPOOL_FULL] = "spool-full",
	[FG_PIPELINE_SPOOL_OK] = "spool-ok",
	[FG_PIPELINE_ALERT_LOST] = "alert-lost",
};

FG_DEFINE_STRING_TABLE_TO(, fg_pipeline_event_kind, enum fg_pipeline_event_kind, event_kind_table)

void pipeline_emit(struct fg_pipeline *p, enum fg_pipeline_event_kind kind, const char *button,
		   const char *target, const struct fg_alert *a, long status)
{
	struct fg_pipeline_event ev = {
		.kind = kind, .button = button, .target = target, .alert = a, .http_status = status,
	};

	if (p->cb)
		p->cb(p, &ev, p->cb_userdata);
}

static uint64_t pipeline_now(struct fg_pipeline *p)
{
	uint64_t t;

	if (sd_event_now(p->event, CLOCK_MONOTONIC, &t) < 0)
		t = fg_now_monotonic();
	return t;
}

static struct target *find_target(struct fg_pipeline *p, const char *name)
{
	for (size_t i = 0; i < p->n_targets; i++)
		if (strcmp(p->targets[i].name, name) == 0)
			return &p->targets[i];
	return NULL;
}

static void check_alarm(struct fg_pipeline *p)
{
	bool alarm = fg_spool_alarm(p->spool);

	if (alarm == p->alarm)
		return;
	p->alarm = alarm;
	if (alarm) {
		log_error("Spool alarm: %zu alerts queued (limit %u), %zu records held in memory only "
			  "(disk full or failing): nothing is dropped, and presses are not "
			  "acknowledged until they are on disk (the buttons keep them)",
			  fg_spool_depth(p->spool), fg_spool_max(p->spool),
			  fg_spool_not_durable(p->spool));
		pipeline_emit(p, FG_PIPELINE_SPOOL_FULL, NULL, NULL, NULL, 0);
	} else {
		log_notice("Spool alarm cleared: %zu alerts queued, all on disk",
			   fg_spool_depth(p->spool));
		pipeline_emit(p, FG_PIPELINE_SPOOL_OK, NULL, NULL, NULL, 0);
	}
}

static int on_flush_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void arm_flush(struct fg_pipeline *p)
{
	if (fg_spool_not_durable(p->spool) == 0) {
		p->flush_timer = sd_event_source_disable_unref(p->flush_timer);
		return;
	}
	if (p->flush_timer)
		return;
	if (sd_event_add_time_relative(p->event, &p->flush_timer, CLOCK_MONOTONIC,
				       SPOOL_FLUSH_USEC, 0, on_flush_timer, p) < 0)
		log_error("Failed to arm the spool flush timer; will retry on the next alert");
}

static int on_flush_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fg_pipeline *p = userdata;
	int left;

	p->flush_timer = sd_event_source_disable_unref(p->flush_timer);
	left = fg_spool_flush(p->spool);
	if (left > 0)
		log_warning("Spool: %d alerts still held in memory only (disk full?)", left);
	arm_flush(p);
	check_alarm(p);
	return 0;
}

static void dispatch(struct target *t);

static int on_target_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct target *t = userdata;

	t->timer = sd_event_source_disable_unref(t->timer);
	t->timer_at = 0;
	dispatch(t);
	return 0;
}

static void arm_target(struct target *t, uint64_t at)
{
	if (t->timer && t->timer_at <= at)
		return;
	t->timer = sd_event_source_disable_unref(t->timer);
	/* 1 ms accuracy: rate-limit waits are short and sd-event's default slack is 250 ms */
	if (sd_event_add_time(t->p->event, &t->timer, CLOCK_MONOTONIC, at, FG_USEC_PER_MSEC,
			      on_target_timer, t) < 0) {
		log_error("Failed to arm the retry timer of target %s", t->name);
		return;
	}
	t->timer_at = at;
}

static void unlink_delivery(struct fg_pipeline *p, struct delivery *d)
{
	for (struct delivery **q = &p->deliveries; *q; q = &(*q)->next)
		if (*q == d) {
			*q = d->next;
			return;
		}
}

/* What an answer said, for the log lines of the actions it leads to. */
struct answer {
	const struct fg_webhook_result *r;
	const char *url, *what, *lat;
	struct fg_alert delivered;	/* the delivered alert, announced last */
	bool has_delivered;
};

static void start(struct target *t, struct fg_spool_entry *e);

/*
 * Perform the dispatch engine's actions, in order. @ans: the answer they
 * come from (NULL for a dispatch pass, which only sends and arms). An
 * announcement is always the last action of an answer, so a listener that
 * queues and dispatches (nesting this loop) finds nothing of ours left.
 */
static void perform(struct fg_pipeline *p, struct answer *ans)
{
	struct fg_dispatch_action a;

	while (fg_dispatch_next_action(p->dispatch, &a) > 0) {
		struct target *t = a.target->userdata;
		struct fg_spool_entry *e = a.entry;

		switch (a.kind) {
		case FG_DISPATCH_SEND:
			start(t, e);
			break;
		case FG_DISPATCH_ARM:
			arm_target(t, a.at);
			break;
		case FG_DISPATCH_DELIVERED:
			log_info("Delivered %s%s alert %s of %s to %s (%s): %s in %s, attempt %u",
				 e->alert.test ? "test " : "", fg_alert_state_to_string(e->alert.state),
				 e->alert.id, e->alert.button, t->name, ans->url, ans->what, ans->lat,
				 e->attempts);
			ans->has_delivered = fg_alert_copy(&e->alert, &ans->delivered) >= 0;
			(void)fg_spool_remove(p->spool, e);
			break;
		case FG_DISPATCH_RECOVERED:
			log_notice("Target %s accepts alerts again", t->name);
			pipeline_emit(p, FG_PIPELINE_TARGET_HEALTHY, NULL, t->name, NULL, ans->r->http_status);
			break;
		case FG_DISPATCH_RETRY:
			log_warning("Delivery of alert %s of %s to %s (%s) failed: %s after %s, attempt %u; "
				    "retrying in %" PRIu64 " ms%s",
				    e->alert.id, e->alert.button, t->name, ans->url, ans->what, ans->lat,
				    e->attempts, a.delay_usec / 1000, a.retry_after ? " (Retry-After)" : "");
			pipeline_emit(p, FG_PIPELINE_FAILING, e->alert.button, t->name, &e->alert,
			     ans->r->http_status);
			break;
		case FG_DISPATCH_DEAD_LETTER: {
			struct fg_alert copy = {};
			char reason[700];

			snprintf(reason, sizeof(reason), "%s from target %s after %u attempt(s)\n%s\n",
				 ans->what, t->name, e->attempts, ans->r->response);
			log_error("Target %s refused alert %s of %s for good (%s): moved to the "
				  "dead-letter folder; response: %.200s", t->name, e->alert.id,
				  e->alert.button, ans->what, ans->r->response);
			if (fg_alert_copy(&e->alert, &copy) < 0)
				break;
			if (fg_spool_dead_letter(p->spool, e, reason) < 0) {
				/* Cannot move it: keep it queued and retry rather than lose it. */
				log_error("Failed to dead-letter alert %s; keeping it queued", copy.id);
				fg_dispatch_dead_letter_failed(p->dispatch, e, pipeline_now(p));
			}
			pipeline_emit(p, FG_PIPELINE_DEAD_LETTER, copy.button, t->name, &copy,
			     ans->r->http_status);
			fg_alert_clear(&copy);
			break;
		}
		case FG_DISPATCH_REJECTED:
			log_error("Target %s (%s) rejects us: %s; its %zu alerts are kept, retried at "
				  "once after a configuration reload and probed in %" PRIu64 " s; new "
				  "alerts are still tried at once", t->name, ans->url, t->last_error,
				  fg_spool_target_depth(p->spool, t->name),
				  (a.delay_usec + FG_USEC_PER_SEC - 1) / FG_USEC_PER_SEC);
			break;
		case FG_DISPATCH_UNHEALTHY:
			pipeline_emit(p, FG_PIPELINE_TARGET_UNHEALTHY, NULL, t->name, NULL, ans->r->http_status);
			break;
		case _FG_DISPATCH_ACTION_MAX:
			break;
		}
	}
}

static void on_done(struct fg_webhook *w, const struct fg_webhook_result *r, void *userdata)
{
	struct delivery *d = userdata;
	struct target *t = d->t;
	struct fg_pipeline *p = t->p;
	struct fg_spool_entry *e = d->e;
	enum fg_delivery_class cls = fg_retry_classify(r->http_status);
	char url[FG_MASK_BUF], lat[32], what[160];
	struct answer ans = { .r = r, .url = url, .what = what, .lat = lat };
	uint64_t ra = 0;
	bool has_ra = false;
	int k;

	unlink_delivery(p, d);
	free(d);
	t->last_status = r->http_status;
	if (cls == FG_DELIVERY_UNHEALTHY)
		fg_retry_rejection_reason(r->http_status, t->last_error, sizeof(t->last_error));
	else
		snprintf(t->last_error, sizeof(t->last_error), "%s", r->error);
	snprintf(lat, sizeof(lat), "%" PRIu64 ".%03" PRIu64 " ms", r->latency_usec / 1000,
		 r->latency_usec % 1000);
	if (r->http_status)
		snprintf(what, sizeof(what), "HTTP %ld", r->http_status);
	else
		snprintf(what, sizeof(what), "%s", r->error);
	fg_mask_url(t->cfg ? t->cfg->url : "", url, sizeof(url));
	pipeline_record_history(p, t, e, cls, r);

	if (cls == FG_DELIVERY_RETRY && r->has_retry_after &&
	    fg_retry_after_parse(r->retry_after, fg_now_realtime(), &ra) >= 0)
		has_ra = true;
	k = fg_dispatch_done(p->dispatch, &t->d, e, cls, has_ra, ra,
			     fg_spool_first(p->spool, t->name), pipeline_now(p));
	if (k < 0)
		log_error_errno(k, "Failed to handle the answer of target %s: %m", t->name);
	perform(p, &ans);
	if (ans.has_delivered) {
		pipeline_emit(p, FG_PIPELINE_DELIVERED, ans.delivered.button, t->name, &ans.delivered,
		     r->http_status);
		fg_alert_clear(&ans.delivered);
	}
	/* a delivery freed journal space: what a full disk kept in memory may fit now */
	if (fg_spool_not_durable(p->spool) > 0 && !p->commit_pending) {
		(void)fg_spool_flush(p->spool);
		arm_flush(p);
	}
	check_alarm(p);
	dispatch(t);
}

static void start_failed(struct target *t, struct fg_spool_entry *e, int r)
{
	log_error("Failed to start delivery to %s: %s; retrying in 1 s", t->name, strerror(-r));
	(void)fg_dispatch_send_failed(t->p->dispatch, &t->d, e, pipeline_now(t->p));
}

/* A SEND action: build the request and hand it to curl. */
static void start(struct target *t, struct fg_spool_entry *e)
{
	struct fg_pipeline *p = t->p;
	struct fg_request req = {};
	struct delivery *d;
	bool dead = false;
	int r;

	r = fg_preset_build(t->cfg, &e->alert, &req);
	if (r == -ENODATA) {
		log_debug("Target %s (%s) has nothing to send for %s alert %s",
			  t->name, fg_preset_to_string(t->cfg->preset),
			  fg_alert_state_to_string(e->alert.state), e->alert.id);
		(void)fg_spool_remove(p->spool, e);
		goto skipped;
	}
	if (r < 0) {
		char reason[128];

		snprintf(reason, sizeof(reason), "cannot build the request: %s\n", strerror(-r));
		log_error("Cannot build the request of alert %s for %s: %s", e->alert.id, t->name,
			  strerror(-r));
		if (r == -ENOMEM)
			return start_failed(t, e, r);
		(void)fg_spool_dead_letter(p->spool, e, reason);
		dead = true;
		goto skipped;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		fg_request_clear(&req);
		return start_failed(t, e, -ENOMEM);
	}
	d->t = t;
	d->e = e;
	r = fg_webhook_send(p->webhook, &req, t->cfg, on_done, d, &d->xfer);
	fg_request_clear(&req);
	if (r < 0) {
		free(d);
		return start_failed(t, e, r);
	}
	d->next = p->deliveries;
	p->deliveries = d;
	return;
skipped:
	r = fg_dispatch_send_skipped(p->dispatch, &t->d, dead, fg_spool_first(p->spool, t->name),
				     pipeline_now(p));
	if (r < 0)
		log_error_errno(r, "Failed to dispatch to %s: %m", t->name);
}

/* Start what may start (dispatch.c decides), arm the target's timer. */
static void dispatch(struct target *t)
{
	struct fg_pipeline *p = t->p;
	int r;

	r = fg_dispatch_run(p->dispatch, &t->d, fg_spool_first(p->spool, t->name), pipeline_now(p));
	if (r < 0)
		log_error_errno(r, "Failed to dispatch to %s: %m", t->name);
	perform(p, NULL);
}

static void dispatch_all(struct fg_pipeline *p)
{
	for (size_t i = 0; i < p->n_targets; i++)
		dispatch(&p->targets[i]);
}

static int on_start(sd_event_source *s, void *userdata)
{
	struct fg_pipeline *p = userdata;

	p->start = sd_event_source_disable_unref(p->start);
	dispatch_all(p);
	return 0;
}

/* Rebuild the target table for @c, keeping counters of known names. */
static int build_targets(struct fg_pipeline *p, const struct fg_config *c)
{
	struct target *n;
	size_t cap = c->n_webhooks + fg_spool_n_targets(p->spool), k = 0;
	uint64_t now = pipeline_now(p);

	n = calloc(cap ? cap : 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_webhooks + fg_spool_n_targets(p->spool); i++) {
		const char *name = i < c->n_webhooks ? c->webhooks[i].name
						      : fg_spool_target(p->spool, i - c->n_webhooks);
		struct target *old = find_target(p, name);
		bool dup = false;

		for (size_t j = 0; j < k; j++)
			dup = dup || strcmp(n[j].name, name) == 0;
		if (dup)
			continue;
		n[k].p = p;
		n[k].name = strdup(name);
		if (!n[k].name)
			goto oom;
		n[k].d.userdata = &n[k];
		if (old) {
			n[k].d.delivered = old->d.delivered;
			n[k].d.dead = old->d.dead;
			n[k].d.in_flight = old->d.in_flight;
			n[k].last_status = old->last_status;
			memcpy(n[k].last_error, old->last_error, sizeof(n[k].last_error));
		}
		n[k].cfg = i < c->n_webhooks ? &c->webhooks[i] : NULL;
		fg_dispatch_target_configure(&n[k].d, n[k].cfg, now);
		if (!n[k].cfg)
			log_warning("Spool queue %s has %zu alerts but no [webhook %s] is configured; "
				    "they are kept until it is", name,
				    fg_spool_target_depth(p->spool, name), name);
		k++;
	}
	/* Deliveries in flight now point at the new table. */
	for (struct delivery *d = p->deliveries; d; d = d->next)
		for (size_t j = 0; j < k; j++)
			if (strcmp(n[j].name, d->t->name) == 0) {
				d->t = &n[j];
				break;
			}
	for (size_t i = 0; i < p->n_targets; i++) {
		sd_event_source_disable_unref(p->targets[i].timer);
		free(p->targets[i].name);
	}
	free(p->targets);
	p->targets = n;
	p->n_targets = k;
	return 0;
oom:
	for (size_t j = 0; j <= k && j < cap; j++)
		free(n[j].name);
	free(n);
	return -ENOMEM;
}

static void run_commit(struct fg_pipeline *p)
{
	int r;

	p->commit_pending = false;
	(void)sd_event_source_set_enabled(p->commit, SD_EVENT_OFF);
	(void)sd_event_source_set_enabled(p->commit_deadline, SD_EVENT_OFF);
	r = fg_spool_commit(p->spool);
	if (r < 0)
		log_error_errno(r, "Failed to flush the spool: the alerts just queued are held in "
				"memory only (disk full or failing?): %m");
	if (r >= 0 && p->batch_error < 0)
		r = p->batch_error;
	/*
	 * Held in memory from before (a full disk): written now if it can
	 * be; while any is left, no batch counts as safe, so a press the
	 * button sends again is not acknowledged before its alert is on disk.
	 */
	if (r >= 0 && fg_spool_not_durable(p->spool) > 0 && fg_spool_flush(p->spool) > 0)
		r = -ENOSPC;
	p->batch_error = 0;
	arm_flush(p);
	check_alarm(p);
	if (p->commit_cb)
		p->commit_cb(p, r, p->commit_userdata);
}

static int on_commit(sd_event_source *s, void *userdata)
{
	run_commit(userdata);
	return 0;
}

static int on_commit_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	run_commit(userdata);
	return 0;
}

/*
 * Group commit. The flush is a defer source of a priority below every
 * other source, so it runs once the loop has handled what was ready:
 * every press of that pass (and the requests they started, whose sources
 * run first) shares one fdatasync. A loop that never runs dry must not
 * hold presses back: a timer of a priority above the others flushes a
 * batch that has waited COMMIT_MAX_WAIT_USEC. Both are sources of the
 * loop, never a call from inside a press's handling, so whoever is told
 * of the commit (the radio) is never in the middle of its own work.
 */
static void request_commit(struct fg_pipeline *p)
{
	int r;

	if (p->commit_pending)
		return;
	p->commit_pending = true;
	r = sd_event_source_set_enabled(p->commit, SD_EVENT_ONESHOT);
	if (r >= 0)
		r = sd_event_source_set_time(p->commit_deadline, pipeline_now(p) + COMMIT_MAX_WAIT_USEC);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->commit_deadline, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error_errno(r, "Failed to schedule the spool flush: %m");
}

void pipeline_stage_alert_state(struct fg_pipeline *p, const char *button)
{
	char key[FG_SPOOL_STATE_KEY_MAX + 1], *text = NULL;
	size_t len;
	int r;

	snprintf(key, sizeof(key), "alert:%s", button);
	r = fg_mapping_serialize_button(p->mapping, button, &text, &len);
	if (r >= 0)
		r = fg_spool_stage_state(p->spool, key, text, len);
	free(text);
	if (r != 0) {
		log_error("Alert state of %s is held in memory only: the spool cannot be written "
			  "(disk full?)", button);
		p->batch_error = r < 0 ? r : -ENOSPC;
	}
	request_commit(p);
}

int fg_pipeline_stage_state(struct fg_pipeline *p, const char *key, const char *value, size_t len)
{
	int r = fg_spool_stage_state(p->spool, key, value, len);

	if (r < 0)
		return r;
	if (r > 0) {
		log_error("State %s is held in memory only: the spool cannot be written (disk full?)",
			  key);
		p->batch_error = -ENOSPC;
	}
	request_commit(p);
	return 1;
}

int fg_pipeline_get_state(const struct fg_pipeline *p, const char *key, const char **ret,
			  size_t *ret_len)
{
	return fg_spool_get_state(p->spool, key, ret, ret_len);
}

uint64_t fg_pipeline_bytes_written(const struct fg_pipeline *p)
{
	return fg_spool_bytes_written(p->spool);
}

void fg_pipeline_set_commit_callback(struct fg_pipeline *p, fg_pipeline_commit_callback_t cb,
				     void *userdata)
{
	p->commit_cb = cb;
	p->commit_userdata = userdata;
}

int fg_pipeline_new(sd_event *e, struct fg_config *c, struct fg_pipeline **ret)
{
	struct fg_pipeline *p;
	char *spool_dir = NULL;
	uint64_t seed;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->event = sd_event_ref(e);
	p->config = fg_config_ref(c);
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed) || seed == 0)
		seed = fg_now_monotonic() | 1;
	r = fg_dispatch_new(seed, &p->dispatch);
	if (r < 0)
		goto fail;

	r = fg_mkdir_p(c->gateway.state_dir, 0700);
	if (r < 0) {
		log_error_errno(r, "Failed to create state directory %s: %m", c->gateway.state_dir);
		goto fail;
	}
	if (asprintf(&p->state_path, "%s/alerts.state", c->gateway.state_dir) < 0 ||
	    asprintf(&spool_dir, "%s/spool", c->gateway.state_dir) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	p->mapping = fg_mapping_new();
	if (!p->mapping) {
		r = -ENOMEM;
		goto fail;
	}
	r = fg_spool_new(spool_dir, c->gateway.spool_max, &p->spool);
	if (r < 0) {
		log_error_errno(r, "Failed to open the spool in %s: %m", spool_dir);
		goto fail;
	}
	r = fg_spool_load(p->spool);
	if (r < 0) {
		log_error_errno(r, "Failed to read the spool in %s: %m", spool_dir);
		goto fail;
	}
	if (r > 0)
		log_notice("Spool: %d alerts waiting from before the restart; delivering them in order", r);
	pipeline_load_alert_states(p);

	r = fg_webhook_new(e, &p->webhook);
	if (r < 0) {
		log_error_errno(r, "Failed to set up HTTP delivery: %m");
		goto fail;
	}
	r = build_targets(p, c);
	if (r < 0)
		goto fail;
	r = sd_event_add_defer(e, &p->start, on_start, p);
	if (r >= 0)
		r = sd_event_add_defer(e, &p->commit, on_commit, p);
	if (r >= 0)
		r = sd_event_source_set_priority(p->commit, SD_EVENT_PRIORITY_IDLE);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->commit, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time(e, &p->commit_deadline, CLOCK_MONOTONIC, 0, FG_USEC_PER_MSEC,
				      on_commit_deadline, p);
	if (r >= 0)
		r = sd_event_source_set_priority(p->commit_deadline, SD_EVENT_PRIORITY_IMPORTANT);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->commit_deadline, SD_EVENT_OFF);
	if (r < 0)
		goto fail;
	free(spool_dir);
	check_alarm(p);
	*ret = p;
	return 0;
fail:
	free(spool_dir);
	fg_pipeline_free(p);
	return r;
}

struct fg_pipeline *fg_pipeline_free(struct fg_pipeline *p)
{
	if (!p)
		return NULL;
	while (p->deliveries) {
		struct delivery *d = p->deliveries;

		p->deliveries = d->next;
		fg_webhook_cancel(p->webhook, d->xfer);
		free(d);
	}
	fg_webhook_free(p->webhook);
	for (size_t i = 0; i < p->n_targets; i++) {
		sd_event_source_disable_unref(p->targets[i].timer);
		free(p->targets[i].name);
	}
	free(p->targets);
	sd_event_source_disable_unref(p->flush_timer);
	sd_event_source_disable_unref(p->start);
	if (p->commit_pending && p->spool)
		run_commit(p);
	sd_event_source_disable_unref(p->commit);
	sd_event_source_disable_unref(p->commit_deadline);
	fg_spool_free(p->spool);
	fg_dispatch_free(p->dispatch);
	fg_mapping_free(p->mapping);
	free(p->state_path);
	fg_config_unref(p->config);
	sd_event_unref(p->event);
	free(p);
	return NULL;
}

void fg_pipeline_set_callback(struct fg_pipeline *p, fg_pipeline_callback_t cb, void *userdata)
{
	p->cb = cb;
	p->cb_userdata = userdata;
}

/* Spool @a for @n targets, flushed by pipeline_send_then_commit(); returns the number of losses. */
static unsigned enqueue_batch(struct fg_pipeline *p, const struct fg_alert *a,
			      const char *const *names, size_t n)
{
	int results[ENQUEUE_BATCH], r;
	uint64_t now = pipeline_now(p);
	unsigned lost = 0;
	struct target *t;

	r = fg_spool_stage_many(p->spool, names, n, a, results, NULL);
	for (size_t i = 0; i < n; i++) {
		int ri = r < 0 ? r : results[i];

		if (ri != 0)
			p->batch_error = ri < 0 ? ri : -ENOSPC;
		if (ri < 0) {
			/* The one case the spool gives up: say it as loudly as we can. */
			lost++;
			p->lost++;
			log_error_errno(ri, "ALERT LOST: %s alert %s of %s for %s could not be queued "
					"on disk or in memory: %m", fg_alert_state_to_string(a->state),
					a->id, a->button, names[i]);
			pipeline_emit(p, FG_PIPELINE_ALERT_LOST, a->button, names[i], a, 0);
			continue;
		} else if (ri > 0) {
			log_error("Alert %s of %s for %s is held in memory only: the spool cannot be "
				  "written (disk full?)", a->id, a->button, names[i]);
		}
		t = find_target(p, names[i]);
		/* a new alert for a failing target is tried at once, not after its backoff */
		if (t)
			fg_dispatch_new_alerts(&t->d, now);
	}
	return lost;
}

/*
 * Queue @a for @b's targets (or @only): one spool flush for all of them
 * (per ENQUEUE_BATCH targets). Returns the number of losses.
 */
unsigned pipeline_enqueue(struct fg_pipeline *p, const struct fg_button_config *b,
			const struct fg_alert *a, const char *only)
{
	const char *names[ENQUEUE_BATCH];
	unsigned lost = 0;
	size_t n = 0;

	for (size_t i = 0; i < p->config->n_webhooks; i++) {
		const char *name = p->config->webhooks[i].name;
		bool wanted = false;

		if (only)
			wanted = strcmp(only, name) == 0;
		else if (!b)
			wanted = true;
		else
			for (size_t k = 0; k < b->n_webhooks; k++)
				wanted = wanted || b->webhooks[k] == i;
		if (!wanted)
			continue;
		names[n++] = name;
		if (n == ENQUEUE_BATCH) {
			lost += enqueue_batch(p, a, names, n);
			n = 0;
		}
	}
	if (n > 0)
		lost += enqueue_batch(p, a, names, n);
	return lost;
}

/*
 * What pipeline_enqueue() wrote is not flushed yet: start the requests first, so
 * that on a kept-alive connection they are on the wire while the batch's
 * one fdatasync runs (the flush, not the request, is most of a press's
 * cost on an SD card). Nobody relies on the alerts before the commit: the
 * button is acknowledged after it, so a power cut before the flush makes
 * the button send the press again (docs/alerts.md).
 */
void pipeline_send_then_commit(struct fg_pipeline *p)
{
	dispatch_all(p);
	if (fg_spool_staged(p->spool) > 0)
		fg_webhook_kick(p->webhook);
	if (p->commit_pending || fg_spool_staged(p->spool) > 0)
		request_commit(p);
	check_alarm(p);
}

int fg_pipeline_reload(struct fg_pipeline *p, struct fg_config *c)
{
	int r;

	r = build_targets(p, c);
	if (r < 0)
		return log_error_errno(r, "Failed to apply the new webhook configuration: %m");
	/* the targets point into @c now: the old one may go (ref first: @c may be it) */
	fg_config_ref(c);
	fg_config_unref(p->config);
	p->config = c;
	fg_spool_set_max(p->spool, c->gateway.spool_max);
	/* A reload is the operator saying "fixed": retry everything now. */
	for (size_t i = 0; i < p->n_targets; i++)
		fg_dispatch_retry_now(fg_spool_first(p->spool, p->targets[i].name));
	check_alarm(p);
	dispatch_all(p);
	return 0;
}

