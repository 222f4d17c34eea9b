/* SPDX-License-Identifier: MIT */
/* Alarms out: each change the alarms core decides becomes a supervision alert,
 * an audit record and an event for the owner; the timer for the core's deadlines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "supervision/supervision-private.h"
#include "lib/log.h"
#include "lib/strv.h"

static const char *remember_on(struct fg_supervision *s, const char *name_id, const char *id)
{
	struct on_id *o = &s->on_ids[s->on_next++ % ON_IDS];

	snprintf(o->name_id, sizeof(o->name_id), "%s", name_id);
	snprintf(o->id, sizeof(o->id), "%s", id);
	return o->id;
}

static const char *find_on(const struct fg_supervision *s, const char *name_id)
{
	for (size_t i = ON_IDS; i-- > 0;) {
		const struct on_id *o = &s->on_ids[(s->on_next + i) % ON_IDS];

		if (o->id[0] && strcmp(o->name_id, name_id) == 0)
			return o->id;
	}
	return NULL;
}

void supervision_send_alert(struct fg_supervision *s, const char *name_id, bool on, const char *info,
			    enum fg_severity sev, uint64_t since_real, const char *subject)
{
	struct fg_supervision_alert a = {
		.name_id = name_id,
		.on = on,
		.info = info,
		.severity = sev,
		.since_usec = since_real,
		.incident_id = on ? NULL : find_on(s, name_id),
		.webhooks = s->config->health.webhooks,
		.n_webhooks = s->config->health.n_webhooks,
	};
	char id[FG_ALERT_ID_MAX] = "";
	int r;

	/* [health] webhook resolves to every webhook by default; none at all: nobody */
	if (s->config->health.n_webhooks == 0) {
		log_warning("Supervision alert %s %s not sent: no [webhook] configured: %s", name_id,
			    on ? "On" : "Off", info);
	} else {
		r = s->ops && s->ops->send_alert ? s->ops->send_alert(s, &a, id, s->userdata)
						  : -EOPNOTSUPP;
		if (r < 0)
			log_error_errno(r, "Failed to queue supervision alert %s: %m", name_id);
	}
	if (on && id[0])
		remember_on(s, name_id, id);
	supervision_audit(s, on ? FG_AUDIT_SUPERVISION_OPEN : FG_AUDIT_SUPERVISION_CLOSE, subject,
			  a.incident_id ? a.incident_id : id, NULL, 0, "%s: %s", name_id, info);
}

void fg_supervision_events_lost(struct fg_supervision *s, const char *button, bool configured,
				unsigned presses, const char *detail)
{
	char name_id[256], info[200];
	const char *id = button;

	if (!s)
		return;
	snprintf(info, sizeof(info), "%s: %u press%s lost by the button, never delivered (%s)",
		 button, presses, presses == 1 ? "" : "es", detail);
	if (!configured) {
		/* like its presses: recorded, nobody paged */
		supervision_audit(s, FG_AUDIT_SUPERVISION_OPEN, button, NULL, NULL, 0, "%s", info);
		return;
	}
	for (size_t i = 0; i < s->config->n_buttons; i++)
		if (strcmp(s->config->buttons[i].name, button) == 0 && s->config->buttons[i].name_id)
			id = s->config->buttons[i].name_id;
	snprintf(name_id, sizeof(name_id), "%s-events-lost", id);
	log_warning("Supervision: %s: %s", name_id, info);
	/*
	 * Any of them may have been a call for help: critical, and only an
	 * On (an incident a person closes), since nothing here recovers.
	 */
	supervision_send_alert(s, name_id, true, info, FG_SEVERITY_CRITICAL,
			       supervision_to_realtime(s, supervision_now(s)), button);
}

static void apply_change(struct fg_supervision *s, const struct fg_alarm_change *c)
{
	if (c->raised)
		log_warning("Supervision: %s opens: %s", c->name_id, c->info);
	else
		log_notice("Supervision: %s closes: %s", c->name_id, c->info);
	supervision_send_alert(s, c->name_id, c->raised, c->info, fg_alarm_kind_severity(c->kind),
			       supervision_to_realtime(s, c->since_usec), c->subject[0] ? c->subject : NULL);
	if (s->ops && s->ops->alarm)
		s->ops->alarm(s, c, s->userdata);
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata);

/* Hand out what the core decided, then sleep until its next deadline. */
void supervision_settle(struct fg_supervision *s)
{
	struct fg_alarm_change c;
	uint64_t next;
	bool changed = false;
	int r;

	while (fg_alarms_next_change(s->alarms, &c) > 0) {
		apply_change(s, &c);
		changed = true;
	}
	if (changed)
		supervision_mark_dirty(s);
	next = fg_alarms_next_deadline(s->alarms);
	if (next == UINT64_MAX) {
		if (s->timer)
			(void)sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
		return;
	}
	if (!s->timer) {
		r = sd_event_add_time(s->event, &s->timer, CLOCK_MONOTONIC, next, 100 * FG_USEC_PER_MSEC,
				      on_timer, s);
		if (r < 0)
			log_error_errno(r, "Failed to arm the supervision timer: %m");
		return;
	}
	r = sd_event_source_set_time(s->timer, next);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error_errno(r, "Failed to re-arm the supervision timer: %m");
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct fg_supervision *s = userdata;
	uint64_t now = supervision_now(s);

	/* a button with a link up is there: the link is the proof */
	for (size_t i = 0; i < s->n_extras; i++)
		if (s->extras[i].connected) {
			(void)fg_alarms_button_seen(s->alarms, s->extras[i].name, now);
			supervision_mark_seen_dirty(s);
		}
	fg_alarms_tick(s->alarms, now);
	supervision_settle(s);
	return 0;
}

/* Alarms that were open before the restart: the owner hears of them again. */
void supervision_show_restored(struct fg_supervision *s)
{
	struct fg_alarm_change c = { .raised = true };

	if (!s->ops || !s->ops->alarm)
		return;
	for (size_t i = 0; i < fg_alarms_n_buttons(s->alarms); i++) {
		struct fg_alarms_button_status st;

		if (fg_alarms_button_status(s->alarms, i, &st) < 0)
			continue;
		snprintf(c.subject, sizeof(c.subject), "%s", st.name);
		c.kind = FG_ALARM_BATTERY_LOW;
		if (st.battery_low)
			s->ops->alarm(s, &c, s->userdata);
		c.kind = FG_ALARM_BUTTON_OFFLINE;
		if (st.offline)
			s->ops->alarm(s, &c, s->userdata);
	}
	c.kind = FG_ALARM_TARGET_REJECTED;
	for (size_t i = 0; i < s->config->n_webhooks; i++) {
		snprintf(c.subject, sizeof(c.subject), "%s", s->config->webhooks[i].name);
		if (fg_alarms_alarm_active(s->alarms, c.kind, c.subject))
			s->ops->alarm(s, &c, s->userdata);
	}
	c.subject[0] = '\0';
	for (int k = FG_ALARM_BLUETOOTH_GONE; k < _FG_ALARM_KIND_MAX; k++) {
		c.kind = k;
		if (fg_alarms_alarm_active(s->alarms, k, NULL))
			s->ops->alarm(s, &c, s->userdata);
	}
}

void fg_supervision_report_restart(struct fg_supervision *s, const char *why)
{
	char name_id[200], info[300];
	uint64_t real = fg_now_realtime();

	snprintf(name_id, sizeof(name_id), "%s-restarted", s->config->gateway.name);
	snprintf(info, sizeof(info), "Gateway %s restarted after %s; alerts held on disk are being delivered",
		 s->config->gateway.name, why);
	log_warning("%s", info);
	/* a report, not a condition: it opens and closes at once (docs/supervision.md) */
	supervision_send_alert(s, name_id, true, info, FG_SEVERITY_WARNING, real, NULL);
	supervision_send_alert(s, name_id, false, info, FG_SEVERITY_WARNING, real, NULL);
}

bool fg_supervision_alarm_active(const struct fg_supervision *s, enum fg_alarm_kind k,
				 const char *subject)
{
	return fg_alarms_alarm_active(s->alarms, k, subject);
}

int fg_supervision_alarms(const struct fg_supervision *s, char ***ret)
{
	char **l = NULL, name[300];
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->config->n_buttons; i++) {
		const struct fg_button_config *b = &s->config->buttons[i];
		const char *id = b->name_id ? b->name_id : b->name;

		if (fg_alarms_alarm_active(s->alarms, FG_ALARM_BATTERY_LOW, b->name)) {
			snprintf(name, sizeof(name), "%s-battery", id);
			r = fg_strv_push(&l, name);
		}
		if (r >= 0 && fg_alarms_alarm_active(s->alarms, FG_ALARM_BUTTON_OFFLINE, b->name)) {
			snprintf(name, sizeof(name), "%s-offline", id);
			r = fg_strv_push(&l, name);
		}
		if (r >= 0 && fg_alarms_alarm_active(s->alarms, FG_ALARM_LINK_STARVED, b->name)) {
			snprintf(name, sizeof(name), "%s-link", id);
			r = fg_strv_push(&l, name);
		}
	}
	for (size_t i = 0; r >= 0 && i < s->config->n_webhooks; i++)
		if (fg_alarms_alarm_active(s->alarms, FG_ALARM_TARGET_REJECTED, s->config->webhooks[i].name)) {
			snprintf(name, sizeof(name), "%s-%s-rejected", s->config->gateway.name,
				 s->config->webhooks[i].name);
			r = fg_strv_push(&l, name);
		}
	for (int k = FG_ALARM_BLUETOOTH_GONE; r >= 0 && k < _FG_ALARM_KIND_MAX; k++)
		if (fg_alarms_alarm_active(s->alarms, k, NULL)) {
			snprintf(name, sizeof(name), "%s-%s", s->config->gateway.name,
				 fg_alarm_kind_to_string(k));
			r = fg_strv_push(&l, name);
		}
	if (r >= 0 && !l && !(l = calloc(1, sizeof(char *))))
		r = -ENOMEM;
	if (r < 0) {
		fg_strv_free(l);
		return r;
	}
	*ret = l;
	return 0;
}
