/* SPDX-License-Identifier: MIT */
/* Supervision's owner object: life cycle, the observations it is fed
 * (buttons, radio, deliveries, test presses) and the status it reports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "supervision/supervision-private.h"
#include "delivery/retry.h"
#include "supervision/policy.h"
#include "lib/log.h"

static int sync_buttons(struct fg_supervision *s, const struct fg_config *c, uint64_t now)
{
	struct fg_alarms_button_status st;
	int r;

	/* gone from the configuration: its alarms close (the core queues the Offs) */
	for (size_t i = fg_alarms_n_buttons(s->alarms); i-- > 0;) {
		if (fg_alarms_button_status(s->alarms, i, &st) < 0 ||
		    fg_config_button_by_name(c, st.name))
			continue;
		(void)fg_alarms_remove_button(s->alarms, st.name, now);
	}
	for (size_t i = 0; i < s->n_extras;) {
		if (fg_config_button_by_name(c, s->extras[i].name)) {
			i++;
			continue;
		}
		free(s->extras[i].name);
		memmove(&s->extras[i], &s->extras[i + 1], (s->n_extras - i - 1) * sizeof(*s->extras));
		s->n_extras--;
	}
	for (size_t i = 0; i < c->n_buttons; i++) {
		const struct fg_button_config *b = &c->buttons[i];

		r = fg_alarms_add_button(s->alarms, b->name, b->name_id ? b->name_id : b->name,
					 b->offline_after_usec, now);
		if (r < 0)
			return r;
		if (!supervision_find_extra(s, b->name)) {
			struct extra *n = realloc(s->extras, (s->n_extras + 1) * sizeof(*n));

			if (!n)
				return -ENOMEM;
			s->extras = n;
			memset(&n[s->n_extras], 0, sizeof(*n));
			n[s->n_extras].name = strdup(b->name);
			if (!n[s->n_extras].name)
				return -ENOMEM;
			s->n_extras++;
		}
	}
	return 0;
}

static bool link_up(enum fg_button_state st)
{
	switch (st) {
	case FG_BUTTON_VERIFYING:
	case FG_BUTTON_PAIRING:
	case FG_BUTTON_READY:
		return true;
	case FG_BUTTON_UNPAIRED:
	case FG_BUTTON_ASLEEP:
	case FG_BUTTON_CONNECTING:
	case FG_BUTTON_REPAIR_NEEDED:
	case _FG_BUTTON_STATE_MAX:
		break;
	}
	return false;
}

void fg_supervision_button_status(struct fg_supervision *s, const struct fg_button_status *st)
{
	struct extra *x;
	uint64_t now = supervision_now(s);
	bool connected = link_up(st->state), seen = false;

	if (!st->configured || !(x = supervision_find_extra(s, st->name)))
		return;	/* only configured buttons are supervised */
	/* an advertisement, a connection or a press: last_seen moved */
	if (st->last_seen_usec > x->seen_reported) {
		x->seen_reported = st->last_seen_usec;
		seen = true;
	}
	/* a link going down is news from the button too, just now */
	if (connected != x->connected) {
		x->connected = connected;
		seen = true;
	}
	if (seen || connected) {
		(void)fg_alarms_button_seen(s->alarms, x->name, now);
		supervision_mark_seen_dirty(s);
	}
	(void)fg_alarms_button_link_wanted(s->alarms, x->name, st->link_wanted, now);
	if (st->battery_readings != x->readings) {
		x->readings = st->battery_readings;
		if (st->battery_mv) {
			(void)fg_alarms_button_battery(s->alarms, x->name, st->battery_mv, now);
			/* coalesced: 64 buttons connecting must not mean 64 fsyncs */
			supervision_mark_seen_dirty(s);
		}
	}
	if (st->has_rssi) {
		x->has_rssi = true;
		x->rssi = st->rssi;
	}
	if (st->firmware && st->firmware != x->firmware) {
		x->firmware = st->firmware;
		supervision_mark_seen_dirty(s);
	}
	supervision_settle(s);
}

void fg_supervision_radio_ready(struct fg_supervision *s, bool ready)
{
	(void)fg_alarms_condition(s->alarms, FG_ALARM_COND_BLUETOOTH_GONE, !ready, supervision_now(s));
	supervision_settle(s);
}

/* Every configured target failing or refusing us: nobody can be told. */
static bool all_targets_failing(struct fg_supervision *s)
{
	struct fg_supervision_delivery d;
	size_t n = 0, bad = 0;

	supervision_delivery_facts(s, &d);
	for (size_t i = 0; i < d.n_targets; i++) {
		struct fg_target_status ts;

		supervision_target_status(s, i, &ts);
		if (ts.health == FG_TARGET_ORPHANED)
			continue;
		n++;
		if (ts.health == FG_TARGET_FAILING || ts.health == FG_TARGET_UNHEALTHY)
			bad++;
	}
	return fg_delivery_all_failing(n, bad);
}

/* Which pipeline events say something about delivery as a whole. */
static bool moves_delivery(enum fg_pipeline_event_kind k)
{
	switch (k) {
	case FG_PIPELINE_DELIVERED:
	case FG_PIPELINE_DEAD_LETTER:
	case FG_PIPELINE_FAILING:
	case FG_PIPELINE_TARGET_UNHEALTHY:
	case FG_PIPELINE_TARGET_HEALTHY:
		return true;
	case FG_PIPELINE_ALERT_OPENED:
	case FG_PIPELINE_ALERT_CLOSED:
	case FG_PIPELINE_ALERT_LOST:
	case FG_PIPELINE_SPOOL_FULL:
	case FG_PIPELINE_SPOOL_OK:
	case _FG_PIPELINE_EVENT_MAX:
		break;
	}
	return false;
}

void fg_supervision_pipeline_event(struct fg_supervision *s, const struct fg_pipeline_event *ev)
{
	uint64_t now = supervision_now(s);
	struct fg_supervision_delivery d;

	supervision_audit_pipeline_event(s, ev);
	/* a target that refuses us (its key, its URL) is an alarm of its own, at once */
	if (ev->kind == FG_PIPELINE_TARGET_UNHEALTHY && ev->target) {
		char reason[128];

		fg_retry_rejection_reason(ev->http_status, reason, sizeof(reason));
		(void)fg_alarms_target_rejected(s->alarms, ev->target, true, reason, now);
	} else if ((ev->kind == FG_PIPELINE_DELIVERED || ev->kind == FG_PIPELINE_TARGET_HEALTHY) &&
		   ev->target) {
		(void)fg_alarms_target_rejected(s->alarms, ev->target, false, NULL, now);
	}
	/* only what deliveries say moves the condition: a restart knows nothing yet */
	if (moves_delivery(ev->kind))
		(void)fg_alarms_condition(s->alarms, FG_ALARM_COND_TARGETS_FAILING,
					  all_targets_failing(s), now);
	supervision_delivery_facts(s, &d);
	(void)fg_alarms_spool_depth(s->alarms, d.spool_depth, now);
	supervision_settle(s);
}

void fg_supervision_state_files(struct fg_supervision *s, size_t n_aside, const char *last)
{
	(void)fg_alarms_state_files(s->alarms, n_aside, last, supervision_now(s));
	supervision_settle(s);
}

void fg_supervision_test_press(struct fg_supervision *s, const struct fg_button_config *b,
			       enum fg_gesture g, const char *how)
{
	struct extra *x = supervision_find_extra(s, b->name);
	uint64_t real = fg_now_realtime();

	log_notice("Button %s: routine test press (%s, %s); nobody is paged", b->name,
		   fg_gesture_to_string(g), how);
	supervision_audit(s, FG_AUDIT_TEST, b->name, NULL, NULL, 0, "%s (%s)", fg_gesture_to_string(g), how);
	if (x) {
		x->last_test = real;
		supervision_mark_dirty(s);
	}
	/* a test press is seen too */
	(void)fg_alarms_button_seen(s->alarms, b->name, supervision_now(s));
	for (size_t i = 0; i < s->config->health.n_test_webhooks; i++) {
		const char *t = s->config->webhooks[s->config->health.test_webhooks[i]].name;
		int r = s->ops && s->ops->test_alert ? s->ops->test_alert(s, b->name, t, s->userdata)
						     : -EOPNOTSUPP;

		if (r < 0)
			log_error_errno(r, "Failed to tell %s of the test press of %s: %m", t, b->name);
	}
	supervision_settle(s);
}

static void params_from(const struct fg_config *c, struct fg_alarms_params *p)
{
	*p = (struct fg_alarms_params){
		.gateway_name = c->gateway.name,
		.low_battery_mv = c->health.low_battery_mv,
		.battery_hysteresis_mv = c->health.battery_hysteresis_mv,
		.offline_after_usec = c->health.offline_after_usec,
		.bluetooth_gone_after_usec = c->health.bluetoothd_gone_after_usec,
		.targets_failing_after_usec = c->health.targets_failing_after_usec,
		.spool_alarm = c->health.spool_alarm,
		.require_time_sync = c->health.require_time_sync,
		.link_starved_after_usec = c->health.link_starved_after_usec,
	};
}

int fg_supervision_new(sd_event *e, struct fg_config *c, const struct fg_supervision_ops *ops,
		       void *userdata, struct fg_supervision **ret)
{
	struct fg_supervision_delivery d;
	struct fg_alarms_params hp;
	struct fg_supervision *s;
	uint64_t now;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->event = sd_event_ref(e);
	s->config = fg_config_ref(c);
	s->ops = ops;
	s->userdata = userdata;
	s->clock_state = FG_CLOCK_NEVER;
	now = s->started = supervision_now(s);
	if (asprintf(&s->state_path, "%s/health.state", c->gateway.state_dir) < 0) {
		s->state_path = NULL;
		r = -ENOMEM;
		goto fail;
	}
	if (asprintf(&s->audit_dir, "%s/audit", c->gateway.state_dir) < 0) {
		s->audit_dir = NULL;
		r = -ENOMEM;
		goto fail;
	}
	/* without a trail the gateway still pages: say so and go on */
	r = fg_audit_open(s->audit_dir, AUDIT_FILE_BYTES, AUDIT_KEEP, &s->audit);
	if (r < 0)
		log_error_errno(r, "Failed to open the audit trail in %s, running without it: %m",
				s->audit_dir);
	params_from(c, &hp);
	r = fg_alarms_new(&hp, now, &s->alarms);
	if (r < 0)
		goto fail;
	r = sync_buttons(s, c, now);
	if (r < 0)
		goto fail;
	r = supervision_state_init(s);
	if (r < 0)
		goto fail;
	supervision_restore(s);
	supervision_show_restored(s);
	r = supervision_setup_heartbeat(s);
	if (r < 0) {
		log_error_errno(r, "Failed to set up the heartbeat: %m");
		goto fail;
	}
	r = supervision_clock_init(s, now);
	if (r < 0)
		goto fail;
	supervision_check_clock(s);
	/* the spool as found at start */
	supervision_delivery_facts(s, &d);
	(void)fg_alarms_spool_depth(s->alarms, d.spool_depth, now);
	supervision_settle(s);
	*ret = s;
	return 0;
fail:
	fg_supervision_free(s);
	return r;
}

struct fg_supervision *fg_supervision_free(struct fg_supervision *s)
{
	if (!s)
		return NULL;
	if (s->hb_xfer)
		fg_webhook_cancel(s->webhook, s->hb_xfer);
	fg_webhook_free(s->webhook);
	sd_event_source_disable_unref(s->hb_timer);
	sd_event_source_disable_unref(s->test_timer);
	sd_event_source_disable_unref(s->clock_timer);
	sd_event_source_disable_unref(s->timer);
	sd_event_source_disable_unref(s->seen_save);
	if (s->dirty && s->alarms && supervision_save_state(s) < 0)
		log_error("Failed to save %s (button supervision) at exit", s->state_path);
	sd_event_source_disable_unref(s->save);
	fg_alarms_free(s->alarms);
	fg_audit_free(s->audit);
	for (size_t i = 0; i < s->n_extras; i++)
		free(s->extras[i].name);
	free(s->extras);
	free(s->state_path);
	free(s->audit_dir);
	fg_config_unref(s->config);
	sd_event_unref(s->event);
	free(s);
	return NULL;
}

int fg_supervision_reload(struct fg_supervision *s, struct fg_config *c)
{
	struct fg_config *old;
	struct fg_alarms_params hp;
	uint64_t now = supervision_now(s);
	bool hb_changed;
	int r;

	hb_changed = (!!c->health.heartbeat_url != !!s->config->health.heartbeat_url) ||
		     (c->health.heartbeat_url && strcmp(c->health.heartbeat_url, s->config->health.heartbeat_url) != 0) ||
		     c->health.heartbeat_interval_usec != s->config->health.heartbeat_interval_usec;
	old = s->config;
	s->config = fg_config_ref(c);
	fg_config_unref(old);
	params_from(c, &hp);
	r = fg_alarms_set_params(s->alarms, &hp, now);
	if (r >= 0)
		r = sync_buttons(s, c, now);
	if (r < 0)
		return log_error_errno(r, "Failed to apply the new [health] settings: %m");
	if (hb_changed) {
		r = supervision_setup_heartbeat(s);
		if (r < 0)
			log_error_errno(r, "Failed to set up the heartbeat: %m");
	} else {
		/* the old config's URL string is gone with it */
		s->hb.url = c->health.heartbeat_url;
	}
	supervision_check_clock(s);
	supervision_mark_dirty(s);
	supervision_settle(s);
	return 0;
}

int fg_supervision_button_info(const struct fg_supervision *s, const char *name,
			       struct fg_supervision_button *ret)
{
	const struct extra *x = supervision_find_extra(s, name);

	for (size_t i = 0; x && i < fg_alarms_n_buttons(s->alarms); i++) {
		struct fg_alarms_button_status st;

		if (fg_alarms_button_status(s->alarms, i, &st) < 0 || strcmp(st.name, name) != 0)
			continue;
		*ret = (struct fg_supervision_button){
			.last_seen_usec = st.seen ? supervision_to_realtime(s, st.last_seen_usec) : 0,
			.battery_mv = st.battery_mv,
			.battery_percent = st.battery_percent,
			.battery_low = st.battery_low,
			.not_seen = st.offline,
			.has_rssi = x->has_rssi,
			.rssi = x->rssi,
			.firmware = x->firmware,
			.last_test_usec = x->last_test,
		};
		return 0;
	}
	return -ENOENT;
}

const char *fg_supervision_audit_dir(const struct fg_supervision *s)
{
	return s->audit_dir;
}
