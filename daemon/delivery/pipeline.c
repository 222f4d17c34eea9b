/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "delivery/pipeline.h"
#include "delivery/webhook.h"
#include "delivery/preset.h"
#include "delivery/spool.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/mask.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

/* Requests in flight per target (each a connection with HTTP/1.1). */
#define MAX_IN_FLIGHT 8
/* An unhealthy target is probed this often besides on every reload. */
#define UNHEALTHY_PROBE_USEC (10 * FG_USEC_PER_MIN)
/* Retry writing alerts held in memory (disk full) this often. */
#define SPOOL_FLUSH_USEC (5 * UINT64_C(1000000))
#define MAX_BLOCKED 128
#define STATE_FILE_MAX (4 * 1024 * 1024)
/* Targets of one alert spooled with a single flush. */
#define ENQUEUE_BATCH 16

struct target {
	struct fg_pipeline *p;
	char *name;
	const struct fg_webhook_config *cfg;	/* NULL: orphaned queue */
	struct fg_ratelimit rl;
	enum fg_target_health health;
	uint64_t probe_at;			/* unhealthy: next probe */
	uint64_t paused_until;			/* Retry-After: the whole target waits */
	unsigned in_flight;
	sd_event_source *timer;
	uint64_t timer_at;
	unsigned long delivered, dead;
	long last_status;
	char last_error[128];
};

struct delivery {
	struct target *t;
	struct fg_spool_entry *e;
	struct fg_webhook_transfer *xfer;
	struct delivery *next;
};

struct fg_pipeline {
	sd_event *event;
	const struct fg_config *config;
	char *state_path;
	struct fg_mapping *mapping;
	struct fg_spool *spool;
	struct fg_webhook *webhook;
	struct target *targets;
	size_t n_targets;
	struct delivery *deliveries;
	sd_event_source *flush_timer;
	sd_event_source *start;			/* first dispatch, deferred */
	sd_event_source *save;			/* alerts.state write, after the sends */
	bool state_dirty;
	bool alarm;
	unsigned long lost;
	uint64_t rng;
	fg_pipeline_callback_t cb;
	void *cb_userdata;
	struct fg_delivery_record history[FG_PIPELINE_HISTORY];
	size_t n_history, history_head;
};

static const char *const event_kind_names[_FG_PIPELINE_EVENT_MAX] = {
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

const char *fg_pipeline_event_kind_to_string(enum fg_pipeline_event_kind k)
{
	return k >= 0 && k < _FG_PIPELINE_EVENT_MAX ? event_kind_names[k] : NULL;
}

const char *fg_target_health_to_string(enum fg_target_health h)
{
	switch (h) {
	case FG_TARGET_HEALTHY:
		return "healthy";
	case FG_TARGET_FAILING:
		return "failing";
	case FG_TARGET_UNHEALTHY:
		return "unhealthy";
	case FG_TARGET_ORPHANED:
		return "orphaned";
	case _FG_TARGET_HEALTH_MAX:
		break;
	}
	return NULL;
}

static void emit(struct fg_pipeline *p, enum fg_pipeline_event_kind kind, const char *button,
		 const char *target, const struct fg_alert *a, long status)
{
	struct fg_pipeline_event ev = {
		.kind = kind, .button = button, .target = target, .alert = a, .http_status = status,
	};

	if (p->cb)
		p->cb(p, &ev, p->cb_userdata);
}

static uint64_t now_mono(struct fg_pipeline *p)
{
	uint64_t t;

	if (sd_event_now(p->event, CLOCK_MONOTONIC, &t) < 0)
		t = fg_now_monotonic();
	return t;
}

static uint32_t rng_next(struct fg_pipeline *p)
{
	/* xorshift64*: jitter only needs to differ between gateways */
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return (uint32_t)((p->rng * UINT64_C(2685821657736338717)) >> 32);
}

static int new_alert_id(char ret[FG_ALERT_ID_MAX], const char *prefix)
{
	uint8_t b[16];
	size_t off;

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != sizeof(b))
		return -errno ? -errno : -EIO;
	off = (size_t)snprintf(ret, FG_ALERT_ID_MAX, "%s", prefix);
	for (size_t i = 0; i < sizeof(b) && off + 2 < FG_ALERT_ID_MAX; i++, off += 2)
		snprintf(ret + off, 3, "%02x", b[i]);
	return 0;
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
		log_error("Spool alarm: %zu alerts queued (limit %u), %zu held in memory only "
			  "(disk full or failing); nothing is dropped",
			  fg_spool_depth(p->spool), fg_spool_max(p->spool),
			  fg_spool_not_durable(p->spool));
		emit(p, FG_PIPELINE_SPOOL_FULL, NULL, NULL, NULL, 0);
	} else {
		log_notice("Spool alarm cleared: %zu alerts queued, all on disk",
			   fg_spool_depth(p->spool));
		emit(p, FG_PIPELINE_SPOOL_OK, NULL, NULL, NULL, 0);
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

static void record_history(struct fg_pipeline *p, const struct target *t,
			   const struct fg_spool_entry *e, enum fg_delivery_class cls,
			   const struct fg_webhook_result *r)
{
	struct fg_delivery_record *h;

	p->history_head = (p->history_head + FG_PIPELINE_HISTORY - 1) % FG_PIPELINE_HISTORY;
	h = &p->history[p->history_head];
	if (p->n_history < FG_PIPELINE_HISTORY)
		p->n_history++;
	memset(h, 0, sizeof(*h));
	snprintf(h->alert_id, sizeof(h->alert_id), "%s", e->alert.id);
	snprintf(h->idempotency_key, sizeof(h->idempotency_key), "%s", e->alert.idempotency_key);
	snprintf(h->button, sizeof(h->button), "%s", e->alert.button);
	snprintf(h->target, sizeof(h->target), "%s", t->name);
	h->state = e->alert.state;
	h->test = e->alert.test;
	h->result = cls;
	h->http_status = r ? r->http_status : 0;
	snprintf(h->error, sizeof(h->error), "%s", r ? r->error : "");
	h->latency_usec = r ? r->latency_usec : 0;
	h->attempt = e->attempts;
	h->realtime_usec = fg_now_realtime();
}

static void unlink_delivery(struct fg_pipeline *p, struct delivery *d)
{
	for (struct delivery **q = &p->deliveries; *q; q = &(*q)->next)
		if (*q == d) {
			*q = d->next;
			return;
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
	uint64_t now = now_mono(p), delay, ra = 0;
	bool has_ra = false;
	struct fg_alert alert_copy = {};

	unlink_delivery(p, d);
	free(d);
	e->in_flight = false;
	t->in_flight--;
	t->last_status = r->http_status;
	snprintf(t->last_error, sizeof(t->last_error), "%s", r->error);
	snprintf(lat, sizeof(lat), "%" PRIu64 ".%03" PRIu64 " ms", r->latency_usec / 1000,
		 r->latency_usec % 1000);
	if (r->http_status)
		snprintf(what, sizeof(what), "HTTP %ld", r->http_status);
	else
		snprintf(what, sizeof(what), "%s", r->error);
	fg_mask_url(t->cfg ? t->cfg->url : "", url, sizeof(url));
	record_history(p, t, e, cls, r);

	switch (cls) {
	case FG_DELIVERY_DONE:
		log_info("Delivered %s%s alert %s of %s to %s (%s): %s in %s, attempt %u",
			 e->alert.test ? "test " : "", fg_alert_state_to_string(e->alert.state),
			 e->alert.id, e->alert.button, t->name, url, what, lat, e->attempts);
		t->delivered++;
		/*
		 * Out of the spool before anyone hears of it: a listener may
		 * queue and dispatch (a supervision alert when the target
		 * recovers), and must not find this entry idle and send it
		 * again, or free it under us.
		 */
		bool copied = fg_alert_copy(&e->alert, &alert_copy) >= 0;

		(void)fg_spool_remove(p->spool, e);
		e = NULL;
		if (t->health == FG_TARGET_FAILING || t->health == FG_TARGET_UNHEALTHY) {
			log_notice("Target %s accepts alerts again", t->name);
			t->health = t->cfg ? FG_TARGET_HEALTHY : FG_TARGET_ORPHANED;
			emit(p, FG_PIPELINE_TARGET_HEALTHY, NULL, t->name, NULL, r->http_status);
		}
		if (copied) {
			emit(p, FG_PIPELINE_DELIVERED, alert_copy.button, t->name, &alert_copy,
			     r->http_status);
			fg_alert_clear(&alert_copy);
		}
		break;
	case FG_DELIVERY_RETRY:
		if (r->has_retry_after &&
		    fg_retry_after_parse(r->retry_after, fg_now_realtime(), &ra) >= 0)
			has_ra = true;
		delay = fg_retry_delay(e->attempts, rng_next(p), has_ra, ra);
		e->next_attempt_usec = now + delay;
		/* Retry-After speaks for the server, not for one alert: nothing goes before it. */
		if (has_ra && now + ra > t->paused_until)
			t->paused_until = now + ra;
		log_warning("Delivery of alert %s of %s to %s (%s) failed: %s after %s, attempt %u; "
			    "retrying in %" PRIu64 " ms%s",
			    e->alert.id, e->alert.button, t->name, url, what, lat, e->attempts,
			    delay / 1000, has_ra ? " (Retry-After)" : "");
		if (t->health == FG_TARGET_HEALTHY)
			t->health = FG_TARGET_FAILING;
		emit(p, FG_PIPELINE_FAILING, e->alert.button, t->name, &e->alert, r->http_status);
		break;
	case FG_DELIVERY_DEAD: {
		char reason[700];

		snprintf(reason, sizeof(reason), "%s from target %s after %u attempt(s)\n%s\n",
			 what, t->name, e->attempts, r->response);
		log_error("Target %s refused alert %s of %s for good (%s): moved to the dead-letter "
			  "folder; response: %.200s", t->name, e->alert.id, e->alert.button, what,
			  r->response);
		t->dead++;
		if (fg_alert_copy(&e->alert, &alert_copy) < 0)
			break;
		if (fg_spool_dead_letter(p->spool, e, reason) < 0) {
			/* Cannot move it: keep it queued and retry rather than lose it. */
			log_error("Failed to dead-letter alert %s; keeping it queued", alert_copy.id);
			e->next_attempt_usec = now + fg_retry_backoff(e->attempts, rng_next(p));
		}
		emit(p, FG_PIPELINE_DEAD_LETTER, alert_copy.button, t->name, &alert_copy,
		     r->http_status);
		fg_alert_clear(&alert_copy);
		break;
	}
	case FG_DELIVERY_UNHEALTHY:
		log_error("Target %s (%s) rejects us with %s: check its URL and key; its %zu alerts "
			  "are kept and retried after a configuration reload (and every %u min)",
			  t->name, url, what, fg_spool_target_depth(p->spool, t->name),
			  (unsigned)(UNHEALTHY_PROBE_USEC / FG_USEC_PER_MIN));
		e->next_attempt_usec = now + UNHEALTHY_PROBE_USEC;
		t->probe_at = now + UNHEALTHY_PROBE_USEC;
		if (t->health != FG_TARGET_UNHEALTHY) {
			t->health = FG_TARGET_UNHEALTHY;
			emit(p, FG_PIPELINE_TARGET_UNHEALTHY, NULL, t->name, NULL, r->http_status);
		}
		break;
	case _FG_DELIVERY_CLASS_MAX:
		break;
	}
	check_alarm(p);
	dispatch(t);
}

/* Returns 1 if started, 0 if the entry needed no request (handled), <0 error. */
static int start(struct target *t, struct fg_spool_entry *e)
{
	struct fg_pipeline *p = t->p;
	struct fg_request req = {};
	struct delivery *d;
	int r;

	r = fg_preset_build(t->cfg, &e->alert, &req);
	if (r == -ENODATA) {
		log_debug("Target %s (%s) has nothing to send for %s alert %s",
			  t->name, fg_preset_to_string(t->cfg->preset),
			  fg_alert_state_to_string(e->alert.state), e->alert.id);
		(void)fg_spool_remove(p->spool, e);
		return 0;
	}
	if (r < 0) {
		char reason[128];

		snprintf(reason, sizeof(reason), "cannot build the request: %s\n", strerror(-r));
		log_error("Cannot build the request of alert %s for %s: %s", e->alert.id, t->name,
			  strerror(-r));
		if (r == -ENOMEM)
			return r;
		t->dead++;
		(void)fg_spool_dead_letter(p->spool, e, reason);
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		fg_request_clear(&req);
		return -ENOMEM;
	}
	d->t = t;
	d->e = e;
	r = fg_webhook_send(p->webhook, &req, t->cfg, on_done, d, &d->xfer);
	fg_request_clear(&req);
	if (r < 0) {
		free(d);
		return r;
	}
	d->next = p->deliveries;
	p->deliveries = d;
	e->in_flight = true;
	e->attempts++;
	t->in_flight++;
	return 1;
}

/*
 * Start what may start: per button only the oldest queued alert may be
 * in flight or waiting for its retry, so an Off never overtakes its On;
 * other buttons are not held up by it.
 */
static void dispatch(struct target *t)
{
	struct fg_pipeline *p = t->p;
	const char *blocked[MAX_BLOCKED];
	size_t n_blocked = 0;
	uint64_t now = now_mono(p), wake = UINT64_MAX;
	struct fg_spool_entry *e, *next;

	if (!t->cfg)
		return;
	if (t->health == FG_TARGET_UNHEALTHY && now < t->probe_at) {
		arm_target(t, t->probe_at);
		return;
	}
	if (now < t->paused_until) {
		arm_target(t, t->paused_until);
		return;
	}
	for (e = fg_spool_first(p->spool, t->name); e; e = next) {
		const char *b = e->alert.button;
		bool is_blocked = false;
		uint64_t wait;
		int r;

		next = fg_spool_next(e);
		if (t->in_flight >= MAX_IN_FLIGHT)
			break;
		for (size_t i = 0; i < n_blocked && !is_blocked; i++)
			is_blocked = strcmp(blocked[i], b) == 0;
		if (is_blocked)
			continue;
		if (n_blocked == MAX_BLOCKED)
			break;
		blocked[n_blocked++] = b;
		if (e->in_flight)
			continue;
		if (e->next_attempt_usec > now) {
			if (e->next_attempt_usec < wake)
				wake = e->next_attempt_usec;
			continue;
		}
		wait = fg_ratelimit_take(&t->rl, now);
		if (wait > 0) {
			if (now + wait < wake)
				wake = now + wait;
			break;
		}
		r = start(t, e);
		if (r == 0) {
			/* handled without a request: the button is free again */
			n_blocked--;
			continue;
		}
		if (r < 0) {
			log_error("Failed to start delivery to %s: %s; retrying in 1 s", t->name,
				  strerror(-r));
			e->next_attempt_usec = now + FG_USEC_PER_SEC;
			if (e->next_attempt_usec < wake)
				wake = e->next_attempt_usec;
		}
	}
	if (wake != UINT64_MAX)
		arm_target(t, wake);
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

static void target_configure(struct target *t, const struct fg_webhook_config *cfg, uint64_t now)
{
	double rate, burst;

	t->cfg = cfg;
	if (!cfg) {
		t->health = FG_TARGET_ORPHANED;
		return;
	}
	fg_preset_rate_limit(cfg->preset, cfg->rate_limit, &rate, &burst);
	fg_ratelimit_init(&t->rl, rate, burst, now);
	t->health = FG_TARGET_HEALTHY;
	t->probe_at = 0;
	t->paused_until = 0;
}

/* Rebuild the target table for @c, keeping counters of known names. */
static int build_targets(struct fg_pipeline *p, const struct fg_config *c)
{
	struct target *n;
	size_t cap = c->n_webhooks + fg_spool_n_targets(p->spool), k = 0;
	uint64_t now = now_mono(p);

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
		if (old) {
			n[k].delivered = old->delivered;
			n[k].dead = old->dead;
			n[k].in_flight = old->in_flight;
			n[k].last_status = old->last_status;
			memcpy(n[k].last_error, old->last_error, sizeof(n[k].last_error));
		}
		target_configure(&n[k], i < c->n_webhooks ? &c->webhooks[i] : NULL, now);
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

static int save_state(struct fg_pipeline *p)
{
	char *text = NULL;
	size_t len;
	int r;

	p->state_dirty = false;
	r = fg_mapping_serialize(p->mapping, &text, &len);
	if (r >= 0)
		r = fg_write_file_atomic(p->state_path, text, len, 0600);
	free(text);
	return r;
}

static int on_save(sd_event_source *s, void *userdata)
{
	struct fg_pipeline *p = userdata;
	int r;

	r = save_state(p);
	if (r < 0)
		log_error_errno(r, "Failed to save %s (alert state): %m", p->state_path);
	return 0;
}

/*
 * The state file is written on the next loop iteration, after curl's
 * sources (higher priority) have put the requests on the wire: the two
 * fsyncs it costs stay off the press-to-target path. A crash before it
 * runs can only make a replayed event look new, which re-sends an alert
 * with the same idempotency key; the alert itself is already spooled.
 */
static void mark_dirty(struct fg_pipeline *p)
{
	p->state_dirty = true;
	if (sd_event_source_set_enabled(p->save, SD_EVENT_ONESHOT) < 0)
		(void)on_save(p->save, p);
}

int fg_pipeline_new(sd_event *e, const struct fg_config *c, struct fg_pipeline **ret)
{
	struct fg_pipeline *p;
	char *spool_dir = NULL, *text = NULL;
	size_t len;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->event = sd_event_ref(e);
	p->config = c;
	if (getrandom(&p->rng, sizeof(p->rng), GRND_NONBLOCK) != sizeof(p->rng) || p->rng == 0)
		p->rng = fg_now_monotonic() | 1;

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
	r = fg_read_file(p->state_path, STATE_FILE_MAX, &text, &len);
	if (r >= 0) {
		r = fg_mapping_load(p->mapping, text, len);
		free(text);
		if (r < 0)
			/* alerts.state is written atomically; this is a disk fault */
			log_error_errno(r, "Failed to parse %s, starting with every alert closed: %m",
					p->state_path);
	} else if (r != -ENOENT) {
		log_error_errno(r, "Failed to read %s, starting with every alert closed: %m",
				p->state_path);
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
		r = sd_event_add_defer(e, &p->save, on_save, p);
	if (r >= 0)
		r = sd_event_source_set_priority(p->save, SD_EVENT_PRIORITY_IDLE);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->save, SD_EVENT_OFF);
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
	if (p->state_dirty && save_state(p) < 0)
		log_error("Failed to save %s (alert state) at exit", p->state_path);
	sd_event_source_disable_unref(p->save);
	fg_spool_free(p->spool);
	fg_mapping_free(p->mapping);
	free(p->state_path);
	sd_event_unref(p->event);
	free(p);
	return NULL;
}

void fg_pipeline_set_callback(struct fg_pipeline *p, fg_pipeline_callback_t cb, void *userdata)
{
	p->cb = cb;
	p->cb_userdata = userdata;
}

/* Spool @a for @n targets, flushed by send_then_commit(); returns the number of losses. */
static unsigned enqueue_batch(struct fg_pipeline *p, const struct fg_alert *a,
			      const char *const *names, size_t n)
{
	int results[ENQUEUE_BATCH], r;
	unsigned lost = 0;

	r = fg_spool_stage_many(p->spool, names, n, a, results, NULL);
	for (size_t i = 0; i < n; i++) {
		int ri = r < 0 ? r : results[i];

		if (ri < 0) {
			/* The one case the spool gives up: say it as loudly as we can. */
			lost++;
			p->lost++;
			log_error_errno(ri, "ALERT LOST: %s alert %s of %s for %s could not be queued "
					"on disk or in memory: %m", fg_alert_state_to_string(a->state),
					a->id, a->button, names[i]);
			emit(p, FG_PIPELINE_ALERT_LOST, a->button, names[i], a, 0);
		} else if (ri > 0) {
			log_error("Alert %s of %s for %s is held in memory only: the spool cannot be "
				  "written (disk full?)", a->id, a->button, names[i]);
		}
	}
	return lost;
}

/*
 * Queue @a for @b's targets (or @only): one spool flush for all of them
 * (per ENQUEUE_BATCH targets). Returns the number of losses.
 */
static unsigned enqueue(struct fg_pipeline *p, const struct fg_button_config *b,
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
 * What enqueue() wrote is not flushed yet: start the requests first, so
 * that on a kept-alive connection they are on the wire while the one
 * fdatasync runs (the flush, not the request, is most of a press's cost on
 * an SD card), then flush. Nobody relies on the alerts before this
 * returns: the button is acknowledged after it, so a power cut before the
 * flush makes the button send the press again (docs/alerts.md).
 */
static void send_then_commit(struct fg_pipeline *p)
{
	int r;

	dispatch_all(p);
	if (fg_spool_staged(p->spool) > 0)
		fg_webhook_kick(p->webhook);
	r = fg_spool_commit(p->spool);
	if (r < 0)
		log_error_errno(r, "Failed to flush the spool: the alerts just queued are held in "
				"memory only (disk full or failing?): %m");
	arm_flush(p);
	check_alarm(p);
}

int fg_pipeline_button_event(struct fg_pipeline *p, const struct fg_button_config *b,
			     const struct fg_button_event *ev, enum fg_mapping_outcome *ret_outcome)
{
	struct fg_mapping_input in = {
		.button = b,
		.gateway = p->config->gateway.name,
		.event = ev,
		.now_realtime_usec = fg_now_realtime(),
	};
	char id[FG_ALERT_ID_MAX], age[FG_AGE_TEXT_BUF];
	enum fg_mapping_outcome o;
	struct fg_alert a = {};
	int r;

	r = new_alert_id(id, "");
	if (r < 0)
		return log_error_errno(r, "Failed to make an alert id: %m");
	in.alert_id = id;
	r = fg_mapping_handle(p->mapping, &in, &o, &a);
	if (r < 0)
		return log_error_errno(r, "Failed to map %s of button %s: %m",
				       fg_gesture_to_string(ev->gesture), b->name);
	if (fg_mapping_outcome_emits(o)) {
		log_info("Button %s: %s -> %s alert %s (%s)%s%s", b->name,
			 fg_gesture_to_string(ev->gesture), fg_alert_state_to_string(a.state), a.id,
			 fg_mapping_outcome_to_string(o), ev->queued ? ", queued, " : "",
			 ev->queued ? fg_alert_age_text(&a, age, sizeof(age)) : "");
		if (b->n_webhooks == 0)
			log_error("Button %s has no [webhook] to send alert %s to: nobody is told",
				  b->name, a.id);
		/* Spool first: a crash after this and before the state save re-sends, never loses. */
		enqueue(p, b, &a, NULL);
	} else if (o != FG_MAPPING_IGNORED) {
		log_info("Button %s: %s (counter %" PRIu32 ") -> %s", b->name,
			 fg_gesture_to_string(ev->gesture), ev->event_counter,
			 fg_mapping_outcome_to_string(o));
	}
	if (o != FG_MAPPING_IGNORED && o != FG_MAPPING_TEST)
		mark_dirty(p);
	if (o == FG_MAPPING_OPEN)
		emit(p, FG_PIPELINE_ALERT_OPENED, b->name, NULL, &a, 0);
	else if (o == FG_MAPPING_CLOSE)
		emit(p, FG_PIPELINE_ALERT_CLOSED, b->name, NULL, &a, 0);
	fg_alert_clear(&a);
	send_then_commit(p);
	if (ret_outcome)
		*ret_outcome = o;
	return 0;
}

int fg_pipeline_test_alert(struct fg_pipeline *p, const char *button, const char *target)
{
	const struct fg_button_config *b = NULL;
	struct fg_button_config synthetic = {
		.name = (char *)"flicgate-test",
		.name_id = (char *)"flicgate test",
		.info = (char *)"Test alert from flicgatectl",
		.severity = FG_SEVERITY_INFO,
	};
	struct fg_alert a = {};
	char id[FG_ALERT_ID_MAX];
	int r;

	if (button) {
		b = fg_config_button_by_name(p->config, button);
		if (!b)
			return -ENOENT;
	}
	if (target && !fg_config_webhook_by_name(p->config, target))
		return -ENOENT;
	r = new_alert_id(id, "test-");
	if (r < 0)
		return r;
	{
		const struct fg_button_config *src = b ? b : &synthetic;

		snprintf(a.id, sizeof(a.id), "%s", id);
		snprintf(a.incident_id, sizeof(a.incident_id), "%s", id);
		snprintf(a.idempotency_key, sizeof(a.idempotency_key), "%s:on", id);
		a.test = true;
		a.state = FG_ALERT_ON;
		a.gesture = FG_GESTURE_CLICK;
		a.severity = src->severity;
		a.press_usec = a.created_usec = fg_now_realtime();
		if (src->serial)
			snprintf(a.serial, sizeof(a.serial), "%s", src->serial);
		a.has_address = src->has_address;
		memcpy(a.address, src->address, 6);
		if (fg_alert_set_string(&a.button, src->name) < 0 ||
		    fg_alert_set_string(&a.name_id, src->name_id ? src->name_id : src->name) < 0 ||
		    fg_alert_set_string(&a.gateway, p->config->gateway.name) < 0 ||
		    fg_alert_set_string(&a.info, src->info) < 0) {
			fg_alert_clear(&a);
			return -ENOMEM;
		}
	}
	log_notice("Sending test alert %s as %s to %s", a.id, a.button, target ? target : "its targets");
	enqueue(p, b, &a, target);
	/* Close it again so no test incident stays open at the target. */
	a.state = FG_ALERT_OFF;
	a.gesture = FG_GESTURE_DOUBLE_CLICK;
	snprintf(a.idempotency_key, sizeof(a.idempotency_key), "%s:off", id);
	enqueue(p, b, &a, target);
	fg_alert_clear(&a);
	send_then_commit(p);
	return 0;
}

int fg_pipeline_supervision_alert(struct fg_pipeline *p, const struct fg_supervision_alert *s,
				  char ret_id[FG_ALERT_ID_MAX])
{
	/* only its webhooks matter to enqueue(); the name is for the log */
	struct fg_button_config targets = {
		.name = (char *)"supervision",
		.webhooks = (size_t *)s->webhooks,
		.n_webhooks = s->n_webhooks,
	};
	struct fg_alert a = {};
	char id[FG_ALERT_ID_MAX];
	const char *st = s->on ? "on" : "off";
	int r;

	if (!s->name_id || !*s->name_id)
		return -EINVAL;
	r = new_alert_id(id, "sup-");
	if (r < 0)
		return r;
	snprintf(a.id, sizeof(a.id), "%s", id);
	snprintf(a.incident_id, sizeof(a.incident_id), "%s",
		 s->incident_id && *s->incident_id ? s->incident_id : id);
	snprintf(a.idempotency_key, sizeof(a.idempotency_key), "supervision:%s:%s:%" PRIu64 ":%s",
		 p->config->gateway.name, s->name_id, s->since_usec, st);
	a.supervision = true;
	a.state = s->on ? FG_ALERT_ON : FG_ALERT_OFF;
	/* notify-only presets say "resolved" for an alarm that was raised */
	a.was_open = !s->on;
	a.severity = s->severity;
	a.gesture = FG_GESTURE_CLICK;	/* stored, never shown for supervision */
	a.press_usec = s->since_usec;
	a.created_usec = fg_now_realtime();
	if (fg_alert_set_string(&a.button, s->name_id) < 0 ||
	    fg_alert_set_string(&a.name_id, s->name_id) < 0 ||
	    fg_alert_set_string(&a.gateway, p->config->gateway.name) < 0 ||
	    fg_alert_set_string(&a.info, s->info ? s->info : "") < 0) {
		fg_alert_clear(&a);
		return -ENOMEM;
	}
	log_notice("Supervision alert %s %s (%s): %s", s->name_id, fg_alert_state_to_string(a.state),
		   a.id, a.info);
	if (p->config->n_webhooks == 0)
		log_error("No [webhook] to send supervision alert %s to: nobody is told", s->name_id);
	enqueue(p, s->n_webhooks ? &targets : NULL, &a, NULL);
	fg_alert_clear(&a);
	send_then_commit(p);
	if (ret_id)
		memcpy(ret_id, id, FG_ALERT_ID_MAX);
	return 0;
}

int fg_pipeline_reload(struct fg_pipeline *p, const struct fg_config *c)
{
	const struct fg_config *old = p->config;
	int r;

	p->config = c;
	r = build_targets(p, c);
	if (r < 0) {
		p->config = old;
		return log_error_errno(r, "Failed to apply the new webhook configuration: %m");
	}
	fg_spool_set_max(p->spool, c->gateway.spool_max);
	/* A reload is the operator saying "fixed": retry everything now. */
	for (size_t i = 0; i < p->n_targets; i++)
		for (struct fg_spool_entry *e = fg_spool_first(p->spool, p->targets[i].name); e;
		     e = fg_spool_next(e))
			e->next_attempt_usec = 0;
	check_alarm(p);
	dispatch_all(p);
	return 0;
}

size_t fg_pipeline_n_targets(const struct fg_pipeline *p)
{
	return p->n_targets;
}

void fg_pipeline_target_status(const struct fg_pipeline *p, size_t i, struct fg_target_status *ret)
{
	const struct target *t = &p->targets[i];
	uint64_t next = 0;

	for (struct fg_spool_entry *e = fg_spool_first(p->spool, t->name); e; e = fg_spool_next(e))
		if (!e->in_flight && e->next_attempt_usec && (!next || e->next_attempt_usec < next))
			next = e->next_attempt_usec;
	*ret = (struct fg_target_status){
		.name = t->name,
		.health = t->health,
		.depth = fg_spool_target_depth(p->spool, t->name),
		.in_flight = t->in_flight,
		.delivered = t->delivered,
		.dead = t->dead,
		.last_status = t->last_status,
		.last_error = t->last_error,
		.next_attempt_usec = next,
	};
}

size_t fg_pipeline_n_deliveries(const struct fg_pipeline *p)
{
	return p->n_history;
}

const struct fg_delivery_record *fg_pipeline_delivery(const struct fg_pipeline *p, size_t i)
{
	if (i >= p->n_history)
		return NULL;
	return &p->history[(p->history_head + i) % FG_PIPELINE_HISTORY];
}

size_t fg_pipeline_spool_depth(const struct fg_pipeline *p)
{
	return fg_spool_depth(p->spool);
}

bool fg_pipeline_spool_alarm(const struct fg_pipeline *p)
{
	return fg_spool_alarm(p->spool);
}

size_t fg_pipeline_dead_count(const struct fg_pipeline *p)
{
	return fg_spool_dead_count(p->spool);
}

unsigned long fg_pipeline_lost_count(const struct fg_pipeline *p)
{
	return p->lost;
}

const struct fg_mapping *fg_pipeline_mapping(const struct fg_pipeline *p)
{
	return p->mapping;
}
