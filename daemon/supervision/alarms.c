/* SPDX-License-Identifier: MIT */
/*
 * Supervision's alarms, pure: thresholds, hysteresis, not-seen, gateway
 * conditions with their delays, and the health.state text (docs/supervision.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervision/alarms.h"
#include "lib/macro.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"

struct button {
	char *name;
	char *name_id;
	uint64_t offline_after;		/* 0: the default */
	uint64_t added_at;		/* offline counts from here until first seen */
	bool seen;
	uint64_t last_seen;
	unsigned mv;
	unsigned low_count;
	bool battery_low;
	uint64_t low_since;
	bool offline;
	uint64_t wanted_since;		/* wants a link since; 0: has one or wants none */
	bool starved;
};

/* A target with its rejected alarm open. */
struct rejected {
	char *target;
};

struct fg_alarms {
	struct fg_alarms_params p;
	char *gateway;
	uint64_t started;

	struct button *buttons;
	size_t n_buttons;
	struct rejected *rejected;
	size_t n_rejected;

	bool cond_active[_FG_ALARM_COND_MAX];
	uint64_t cond_since[_FG_ALARM_COND_MAX];
	bool raised[_FG_ALARM_KIND_MAX];	/* gateway alarms only */
	uint64_t spool_since;
	size_t spool_depth;

	struct fg_alarm_change *queue;
	size_t n_queue, queue_cap;
};

static const char *const kind_names[_FG_ALARM_KIND_MAX] = {
	[FG_ALARM_BATTERY_LOW] = "battery",
	[FG_ALARM_BUTTON_OFFLINE] = "offline",
	[FG_ALARM_LINK_STARVED] = "link",
	[FG_ALARM_TARGET_REJECTED] = "rejected",
	[FG_ALARM_BLUETOOTH_GONE] = "bluetooth",
	[FG_ALARM_TARGETS_FAILING] = "delivery",
	[FG_ALARM_SPOOL_HIGH] = "spool",
	[FG_ALARM_CLOCK_UNSYNCED] = "clock",
	[FG_ALARM_STATE_FILES] = "state-files",
};

/* which gateway alarm follows each raw condition */
static const enum fg_alarm_kind cond_kind[_FG_ALARM_COND_MAX] = {
	[FG_ALARM_COND_BLUETOOTH_GONE] = FG_ALARM_BLUETOOTH_GONE,
	[FG_ALARM_COND_TARGETS_FAILING] = FG_ALARM_TARGETS_FAILING,
	[FG_ALARM_COND_CLOCK_UNSYNCED] = FG_ALARM_CLOCK_UNSYNCED,
};

FG_DEFINE_STRING_TABLE(, fg_alarm_kind, enum fg_alarm_kind, kind_names)

enum fg_severity fg_alarm_kind_severity(enum fg_alarm_kind k)
{
	switch (k) {
	case FG_ALARM_BATTERY_LOW:
	case FG_ALARM_CLOCK_UNSYNCED:
		return FG_SEVERITY_WARNING;
	case FG_ALARM_BUTTON_OFFLINE:
	case FG_ALARM_TARGET_REJECTED:
	case FG_ALARM_SPOOL_HIGH:
	case FG_ALARM_LINK_STARVED:
	case FG_ALARM_STATE_FILES:
		return FG_SEVERITY_ERROR;
	case FG_ALARM_BLUETOOTH_GONE:
	case FG_ALARM_TARGETS_FAILING:
	case _FG_ALARM_KIND_MAX:
		break;
	}
	/* presses cannot be heard, or nobody can be told */
	return FG_SEVERITY_CRITICAL;
}

int fg_alarms_battery_percent(unsigned mv)
{
	/*
	 * A CR2032 under the button's light load: flat near 3.0 V for most of
	 * its life, then a knee. Piecewise linear between these points; an
	 * estimate for people, never a threshold (thresholds are in mV).
	 */
	static const struct {
		unsigned mv;
		int pct;
	} curve[] = {
		{ 3000, 100 }, { 2950, 90 }, { 2900, 80 }, { 2850, 70 }, { 2800, 60 },
		{ 2750, 50 }, { 2700, 40 }, { 2650, 30 }, { 2600, 20 }, { 2500, 10 },
		{ 2400, 5 }, { 2200, 0 },
	};
	size_t n = sizeof(curve) / sizeof(curve[0]);

	if (mv >= curve[0].mv)
		return 100;
	for (size_t i = 1; i < n; i++)
		if (mv >= curve[i].mv) {
			unsigned span = curve[i - 1].mv - curve[i].mv;
			int dp = curve[i - 1].pct - curve[i].pct;

			return curve[i].pct + (int)((mv - curve[i].mv) * (unsigned)dp / span);
		}
	return 0;
}

static int push(struct fg_alarms *h, enum fg_alarm_kind k, bool raised, const char *subject,
		const char *name_id_base, uint64_t since, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static int push(struct fg_alarms *h, enum fg_alarm_kind k, bool raised, const char *subject,
		const char *name_id_base, uint64_t since, const char *fmt, ...)
{
	struct fg_alarm_change *c;
	va_list ap;

	if (h->n_queue == h->queue_cap) {
		size_t cap = h->queue_cap ? h->queue_cap * 2 : 8;
		struct fg_alarm_change *q = realloc(h->queue, cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		h->queue = q;
		h->queue_cap = cap;
	}
	c = &h->queue[h->n_queue++];
	memset(c, 0, sizeof(*c));
	c->kind = k;
	c->raised = raised;
	c->since_usec = since;
	snprintf(c->subject, sizeof(c->subject), "%s", subject ? subject : "");
	snprintf(c->name_id, sizeof(c->name_id), "%s-%s", name_id_base, kind_names[k]);
	va_start(ap, fmt);
	vsnprintf(c->info, sizeof(c->info), fmt, ap);
	va_end(ap);
	return 0;
}

static int set_params(struct fg_alarms *h, const struct fg_alarms_params *p)
{
	char *g = strdup(p->gateway_name ? p->gateway_name : "flicgate");

	if (!g)
		return -ENOMEM;
	free(h->gateway);
	h->gateway = g;
	h->p = *p;
	h->p.gateway_name = h->gateway;
	return 0;
}

int fg_alarms_new(const struct fg_alarms_params *p, uint64_t now, struct fg_alarms **ret)
{
	struct fg_alarms *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	r = set_params(h, p);
	if (r < 0) {
		free(h);
		return r;
	}
	h->started = now;
	*ret = h;
	return 0;
}

struct fg_alarms *fg_alarms_free(struct fg_alarms *h)
{
	if (!h)
		return NULL;
	for (size_t i = 0; i < h->n_buttons; i++) {
		free(h->buttons[i].name);
		free(h->buttons[i].name_id);
	}
	free(h->buttons);
	for (size_t i = 0; i < h->n_rejected; i++)
		free(h->rejected[i].target);
	free(h->rejected);
	free(h->queue);
	free(h->gateway);
	free(h);
	return NULL;
}

int fg_alarms_set_params(struct fg_alarms *h, const struct fg_alarms_params *p, uint64_t now)
{
	int r = set_params(h, p);

	if (r < 0)
		return r;
	/* a spool alarm level that moved may close the alarm at once */
	return fg_alarms_spool_depth(h, h->spool_depth, now);
}

static struct button *find(const struct fg_alarms *h, const char *name)
{
	for (size_t i = 0; name && i < h->n_buttons; i++)
		if (strcmp(h->buttons[i].name, name) == 0)
			return &h->buttons[i];
	return NULL;
}

static uint64_t offline_after(const struct fg_alarms *h, const struct button *b)
{
	return b->offline_after ? b->offline_after : h->p.offline_after_usec;
}

int fg_alarms_add_button(struct fg_alarms *h, const char *name, const char *name_id,
			 uint64_t offline_after_usec, uint64_t now)
{
	struct button *b = find(h, name), *nb;
	char *id;

	id = strdup(name_id ? name_id : name);
	if (!id)
		return -ENOMEM;
	if (b) {
		free(b->name_id);
		b->name_id = id;
		b->offline_after = offline_after_usec;
		return 0;
	}
	nb = realloc(h->buttons, (h->n_buttons + 1) * sizeof(*nb));
	if (!nb) {
		free(id);
		return -ENOMEM;
	}
	h->buttons = nb;
	b = &h->buttons[h->n_buttons];
	memset(b, 0, sizeof(*b));
	b->name = strdup(name);
	if (!b->name) {
		free(id);
		return -ENOMEM;
	}
	b->name_id = id;
	b->offline_after = offline_after_usec;
	b->added_at = now;
	h->n_buttons++;
	return 0;
}

int fg_alarms_remove_button(struct fg_alarms *h, const char *name, uint64_t now)
{
	struct button *b = find(h, name);
	size_t i;

	if (!b)
		return -ENOENT;
	/* a button taken out of service must not leave an alarm open forever */
	if (b->battery_low)
		push(h, FG_ALARM_BATTERY_LOW, false, b->name, b->name_id, b->low_since,
		     "Button %s removed from the configuration", b->name);
	if (b->offline)
		push(h, FG_ALARM_BUTTON_OFFLINE, false, b->name, b->name_id, b->last_seen,
		     "Button %s removed from the configuration", b->name);
	if (b->starved)
		push(h, FG_ALARM_LINK_STARVED, false, b->name, b->name_id, b->wanted_since,
		     "Button %s removed from the configuration", b->name);
	free(b->name);
	free(b->name_id);
	i = (size_t)(b - h->buttons);
	memmove(b, b + 1, (h->n_buttons - i - 1) * sizeof(*b));
	h->n_buttons--;
	return 0;
}

int fg_alarms_button_seen(struct fg_alarms *h, const char *name, uint64_t now)
{
	struct button *b = find(h, name);

	if (!b)
		return -ENOENT;
	b->seen = true;
	b->last_seen = now;
	if (b->offline) {
		b->offline = false;
		return push(h, FG_ALARM_BUTTON_OFFLINE, false, b->name, b->name_id, now,
			    "Button %s is seen again", b->name);
	}
	return 0;
}

int fg_alarms_button_link_wanted(struct fg_alarms *h, const char *name, bool wanted, uint64_t now)
{
	struct button *b = find(h, name);

	if (!b)
		return -ENOENT;
	if (wanted) {
		if (!b->wanted_since)
			b->wanted_since = now ? now : 1;
		return 0;
	}
	b->wanted_since = 0;
	if (b->starved) {
		b->starved = false;
		return push(h, FG_ALARM_LINK_STARVED, false, b->name, b->name_id, now,
			    "Button %s got a link again", b->name);
	}
	return 0;
}

int fg_alarms_button_battery(struct fg_alarms *h, const char *name, unsigned mv, uint64_t now)
{
	struct button *b = find(h, name);

	if (!b)
		return -ENOENT;
	b->mv = mv;
	if (mv < h->p.low_battery_mv) {
		/* one sag under load is not a flat battery: wait for a second reading */
		if (b->low_count++ == 0)
			b->low_since = now;
		if (!b->battery_low && b->low_count >= FG_ALARMS_LOW_READINGS) {
			b->battery_low = true;
			return push(h, FG_ALARM_BATTERY_LOW, true, b->name, b->name_id, b->low_since,
				    "Battery of button %s is low: %u mV (about %d%%); replace its CR2032 cell",
				    b->name, mv, fg_alarms_battery_percent(mv));
		}
		return 0;
	}
	b->low_count = 0;
	if (b->battery_low && mv >= h->p.low_battery_mv + h->p.battery_hysteresis_mv) {
		b->battery_low = false;
		return push(h, FG_ALARM_BATTERY_LOW, false, b->name, b->name_id, now,
			    "Battery of button %s is fine again: %u mV", b->name, mv);
	}
	return 0;
}

static uint64_t cond_delay(const struct fg_alarms *h, enum fg_alarms_condition c)
{
	switch (c) {
	case FG_ALARM_COND_BLUETOOTH_GONE:
		return h->p.bluetooth_gone_after_usec;
	case FG_ALARM_COND_TARGETS_FAILING:
		return h->p.targets_failing_after_usec;
	case FG_ALARM_COND_CLOCK_UNSYNCED:
		return FG_ALARMS_CLOCK_GRACE_USEC;
	case _FG_ALARM_COND_MAX:
		break;
	}
	return UINT64_MAX;
}

static bool cond_enabled(const struct fg_alarms *h, enum fg_alarms_condition c)
{
	return c != FG_ALARM_COND_CLOCK_UNSYNCED || h->p.require_time_sync;
}

static int raise_cond(struct fg_alarms *h, enum fg_alarms_condition c, uint64_t now)
{
	enum fg_alarm_kind k = cond_kind[c];
	char d[FG_DURATION_BUF];
	uint64_t since = h->cond_since[c];

	h->raised[k] = true;
	fg_format_duration((now - since) / FG_USEC_PER_SEC * FG_USEC_PER_SEC, d, sizeof(d));
	switch (c) {
	case FG_ALARM_COND_BLUETOOTH_GONE:
		return push(h, k, true, NULL, h->gateway, since,
			    "Gateway %s: no Bluetooth adapter or bluetoothd for %s; button presses cannot be received",
			    h->gateway, d);
	case FG_ALARM_COND_TARGETS_FAILING:
		return push(h, k, true, NULL, h->gateway, since,
			    "Gateway %s: every alert target has failed for %s; alerts are kept on disk",
			    h->gateway, d);
	case FG_ALARM_COND_CLOCK_UNSYNCED:
		return push(h, k, true, NULL, h->gateway, since,
			    "Gateway %s: system clock not synchronised for %s; TLS to the targets may fail",
			    h->gateway, d);
	case _FG_ALARM_COND_MAX:
		break;
	}
	return -EINVAL;
}

int fg_alarms_condition(struct fg_alarms *h, enum fg_alarms_condition c, bool active, uint64_t now)
{
	enum fg_alarm_kind k;

	if (c < 0 || c >= _FG_ALARM_COND_MAX)
		return -EINVAL;
	k = cond_kind[c];
	if (active) {
		if (!h->cond_active[c]) {
			h->cond_active[c] = true;
			/* the clock may be unsynchronised since boot: grace counts from start */
			h->cond_since[c] = now;
		}
		fg_alarms_tick(h, now);
		return 0;
	}
	h->cond_active[c] = false;
	if (h->raised[k]) {
		static const char *const back[_FG_ALARM_COND_MAX] = {
			[FG_ALARM_COND_BLUETOOTH_GONE] = "Bluetooth is back",
			[FG_ALARM_COND_TARGETS_FAILING] = "alert delivery works again",
			[FG_ALARM_COND_CLOCK_UNSYNCED] = "system clock synchronised",
		};

		h->raised[k] = false;
		return push(h, k, false, NULL, h->gateway, now, "Gateway %s: %s", h->gateway, back[c]);
	}
	return 0;
}

int fg_alarms_spool_depth(struct fg_alarms *h, size_t depth, uint64_t now)
{
	h->spool_depth = depth;
	if (!h->raised[FG_ALARM_SPOOL_HIGH] && depth > h->p.spool_alarm) {
		h->raised[FG_ALARM_SPOOL_HIGH] = true;
		h->spool_since = now;
		return push(h, FG_ALARM_SPOOL_HIGH, true, NULL, h->gateway, now,
			    "Gateway %s: %zu alerts waiting for delivery (alarm above %u)",
			    h->gateway, depth, h->p.spool_alarm);
	}
	/* close only well below the level, so a spool hovering there stays quiet */
	if (h->raised[FG_ALARM_SPOOL_HIGH] && depth <= h->p.spool_alarm / 2) {
		h->raised[FG_ALARM_SPOOL_HIGH] = false;
		return push(h, FG_ALARM_SPOOL_HIGH, false, NULL, h->gateway, now,
			    "Gateway %s: spool down to %zu alerts", h->gateway, depth);
	}
	return 0;
}

int fg_alarms_state_files(struct fg_alarms *h, size_t n_aside, const char *last, uint64_t now)
{
	bool raise = n_aside > 0;

	if (raise == h->raised[FG_ALARM_STATE_FILES])
		return 0;
	h->raised[FG_ALARM_STATE_FILES] = raise;
	if (raise)
		return push(h, FG_ALARM_STATE_FILES, true, NULL, h->gateway, now,
			    "Gateway %s: %zu state file%s set aside as not the gateway's own (%s); "
			    "fresh ones are in use, the old ones wait to be looked at",
			    h->gateway, n_aside, n_aside == 1 ? "" : "s", last && *last ? last : "?");
	return push(h, FG_ALARM_STATE_FILES, false, NULL, h->gateway, now,
		    "Gateway %s: no state file set aside any more", h->gateway);
}

static struct rejected *find_rejected(const struct fg_alarms *h, const char *target)
{
	for (size_t i = 0; target && i < h->n_rejected; i++)
		if (strcmp(h->rejected[i].target, target) == 0)
			return &h->rejected[i];
	return NULL;
}

static int add_rejected(struct fg_alarms *h, const char *target)
{
	struct rejected *n;
	char *copy;

	if (find_rejected(h, target))
		return 0;
	copy = strdup(target);
	if (!copy)
		return -ENOMEM;
	n = realloc(h->rejected, (h->n_rejected + 1) * sizeof(*n));
	if (!n) {
		free(copy);
		return -ENOMEM;
	}
	h->rejected = n;
	h->rejected[h->n_rejected++].target = copy;
	return 1;
}

int fg_alarms_target_rejected(struct fg_alarms *h, const char *target, bool rejected,
			      const char *reason, uint64_t now)
{
	struct rejected *x;
	char base[200];
	int r;

	if (!target)
		return -EINVAL;
	snprintf(base, sizeof(base), "%s-%s", h->gateway, target);
	if (rejected) {
		r = add_rejected(h, target);
		if (r <= 0)
			return r;
		return push(h, FG_ALARM_TARGET_REJECTED, true, target, base, now,
			    "Target %s refuses gateway %s: %s; its alerts are kept, new ones are "
			    "tried at once, a reload retries them all", target, h->gateway,
			    reason && reason[0] ? reason : "check its url and key");
	}
	x = find_rejected(h, target);
	if (!x)
		return 0;
	free(x->target);
	*x = h->rejected[--h->n_rejected];
	return push(h, FG_ALARM_TARGET_REJECTED, false, target, base, now,
		    "Target %s accepts alerts from gateway %s again", target, h->gateway);
}

static uint64_t button_deadline(const struct fg_alarms *h, const struct button *b)
{
	uint64_t after = offline_after(h, b), ref;

	if (after == 0 || b->offline)
		return UINT64_MAX;
	ref = b->seen ? b->last_seen : b->added_at;
	return ref > UINT64_MAX - after ? UINT64_MAX : ref + after;
}

static uint64_t starved_deadline(const struct fg_alarms *h, const struct button *b)
{
	uint64_t after = h->p.link_starved_after_usec;

	if (after == 0 || b->starved || !b->wanted_since)
		return UINT64_MAX;
	return b->wanted_since > UINT64_MAX - after ? UINT64_MAX : b->wanted_since + after;
}

static uint64_t cond_deadline(const struct fg_alarms *h, enum fg_alarms_condition c)
{
	uint64_t since = h->cond_since[c], delay = cond_delay(h, c);

	if (!h->cond_active[c] || h->raised[cond_kind[c]] || !cond_enabled(h, c))
		return UINT64_MAX;
	if (c == FG_ALARM_COND_CLOCK_UNSYNCED && since < h->started)
		since = h->started;
	return since > UINT64_MAX - delay ? UINT64_MAX : since + delay;
}

void fg_alarms_tick(struct fg_alarms *h, uint64_t now)
{
	for (size_t i = 0; i < h->n_buttons; i++) {
		struct button *b = &h->buttons[i];
		char d[FG_DURATION_BUF];

		if (now >= starved_deadline(h, b)) {
			b->starved = true;
			fg_format_duration(h->p.link_starved_after_usec, d, sizeof(d));
			push(h, FG_ALARM_LINK_STARVED, true, b->name, b->name_id, b->wanted_since,
			     "Button %s wanted a link for more than %s and got none: the controller has no slot for it (see [bluetooth] max_links)",
			     b->name, d);
		}
		if (now < button_deadline(h, b))
			continue;
		b->offline = true;
		fg_format_duration(offline_after(h, b), d, sizeof(d));
		if (b->seen)
			push(h, FG_ALARM_BUTTON_OFFLINE, true, b->name, b->name_id, b->last_seen,
			     "Button %s not seen for more than %s: check it is in range and its battery",
			     b->name, d);
		else
			push(h, FG_ALARM_BUTTON_OFFLINE, true, b->name, b->name_id, b->added_at,
			     "Button %s never seen in %s since the gateway started watching it",
			     b->name, d);
	}
	for (int c = 0; c < _FG_ALARM_COND_MAX; c++)
		if (now >= cond_deadline(h, c))
			raise_cond(h, c, now);
}

uint64_t fg_alarms_next_deadline(const struct fg_alarms *h)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < h->n_buttons; i++) {
		uint64_t d = button_deadline(h, &h->buttons[i]);

		if (d < next)
			next = d;
		d = starved_deadline(h, &h->buttons[i]);
		if (d < next)
			next = d;
	}
	for (int c = 0; c < _FG_ALARM_COND_MAX; c++) {
		uint64_t d = cond_deadline(h, c);

		if (d < next)
			next = d;
	}
	return next;
}

int fg_alarms_next_change(struct fg_alarms *h, struct fg_alarm_change *ret)
{
	if (h->n_queue == 0)
		return 0;
	*ret = h->queue[0];
	memmove(h->queue, h->queue + 1, (h->n_queue - 1) * sizeof(*h->queue));
	h->n_queue--;
	return 1;
}

bool fg_alarms_alarm_active(const struct fg_alarms *h, enum fg_alarm_kind k, const char *subject)
{
	const struct button *b;

	switch (k) {
	case FG_ALARM_BATTERY_LOW:
		b = find(h, subject);
		return b && b->battery_low;
	case FG_ALARM_BUTTON_OFFLINE:
		b = find(h, subject);
		return b && b->offline;
	case FG_ALARM_LINK_STARVED:
		b = find(h, subject);
		return b && b->starved;
	case FG_ALARM_TARGET_REJECTED:
		return subject ? find_rejected(h, subject) != NULL : h->n_rejected > 0;
	case FG_ALARM_BLUETOOTH_GONE:
	case FG_ALARM_TARGETS_FAILING:
	case FG_ALARM_SPOOL_HIGH:
	case FG_ALARM_CLOCK_UNSYNCED:
	case FG_ALARM_STATE_FILES:
		return h->raised[k];
	case _FG_ALARM_KIND_MAX:
		break;
	}
	return false;
}

size_t fg_alarms_n_buttons(const struct fg_alarms *h)
{
	return h->n_buttons;
}

int fg_alarms_button_status(const struct fg_alarms *h, size_t i, struct fg_alarms_button_status *ret)
{
	const struct button *b;

	if (i >= h->n_buttons)
		return -ENOENT;
	b = &h->buttons[i];
	*ret = (struct fg_alarms_button_status){
		.name = b->name,
		.seen = b->seen,
		.last_seen_usec = b->last_seen,
		.battery_mv = b->mv,
		.battery_percent = b->mv ? fg_alarms_battery_percent(b->mv) : -1,
		.battery_low = b->battery_low,
		.offline = b->offline,
		.link_starved = b->starved,
	};
	return 0;
}

/*
 * State file, one record per line:
 *   flicgate-health 1
 *   button NAME seen_at REALTIME|- mv N low N battery_low 0|1 offline 0|1
 *   gateway KIND
 *   target NAME rejected
 * Ages go through the wall clock because CLOCK_MONOTONIC restarts at boot.
 */
int fg_alarms_serialize(const struct fg_alarms *h, uint64_t now_mono, uint64_t now_real,
			char **ret, size_t *ret_len)
{
	struct fg_strbuf f = {};

	fg_strbuf_puts(&f, "flicgate-health 1\n");
	for (size_t i = 0; i < h->n_buttons; i++) {
		const struct button *b = &h->buttons[i];

		fg_strbuf_printf(&f, "button %s seen_at ", b->name);
		if (b->seen && now_mono >= b->last_seen && now_real >= now_mono - b->last_seen)
			fg_strbuf_printf(&f, "%" PRIu64, now_real - (now_mono - b->last_seen));
		else
			fg_strbuf_puts(&f, "-");
		fg_strbuf_printf(&f, " mv %u low %u battery_low %d offline %d\n", b->mv, b->low_count,
				 b->battery_low, b->offline);
	}
	for (int k = FG_ALARM_BLUETOOTH_GONE; k < _FG_ALARM_KIND_MAX; k++)
		if (h->raised[k])
			fg_strbuf_printf(&f, "gateway %s\n", kind_names[k]);
	/* open until the target accepts an alert, across restarts: its close must be sent */
	for (size_t i = 0; i < h->n_rejected; i++)
		fg_strbuf_printf(&f, "target %s rejected\n", h->rejected[i].target);
	return fg_strbuf_steal(&f, ret, ret_len);
}

int fg_alarms_restore(struct fg_alarms *h, const char *text, size_t len, uint64_t now_mono,
		      uint64_t now_real)
{
	char *copy, *line, *save = NULL;
	int restored = 0;

	if (len < 17 || memcmp(text, "flicgate-health 1", 17) != 0)
		return -EBADMSG;
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], seen[32], kind[32], tail;
		unsigned mv, low;
		int bl, off;

		if (sscanf(line, "button %127s seen_at %31s mv %u low %u battery_low %d offline %d",
			   name, seen, &mv, &low, &bl, &off) == 6) {
			struct button *b = find(h, name);

			if (!b)
				continue;	/* no longer configured */
			if (strcmp(seen, "-") != 0) {
				char *end;
				unsigned long long at = strtoull(seen, &end, 10);

				if (*end == '\0' && at <= now_real) {
					uint64_t age = now_real - at;

					/* older than our monotonic clock: counts from boot */
					b->seen = true;
					b->last_seen = age <= now_mono ? now_mono - age : 0;
				}
			}
			if (mv <= 5000) {
				b->mv = mv;
				b->low_count = low > 100 ? 100 : low;
			}
			/* an alarm that was open stays open: its close must still be sent */
			b->battery_low = bl == 1;
			b->offline = off == 1 && !(b->seen && button_deadline(h, b) > now_mono);
			if (off == 1 && !b->offline)
				push(h, FG_ALARM_BUTTON_OFFLINE, false, b->name, b->name_id, b->last_seen,
				     "Button %s is seen again", b->name);
			restored++;
		} else if (sscanf(line, "gateway %31s", kind) == 1) {
			int k = fg_alarm_kind_from_string(kind);

			/* only the gateway's alarms are kept by kind */
			if (k >= FG_ALARM_BLUETOOTH_GONE)
				h->raised[k] = true;
		} else if (sscanf(line, "target %127s rejected%c", name, &tail) == 1) {
			if (add_rejected(h, name) < 0)
				break;
		}
	}
	free(copy);
	return restored;
}
