/* SPDX-License-Identifier: MIT */
/* Supervision's records in the audit trail: one helper for every record,
 * and the records of deliveries, presses and acknowledges. */
#include <stdarg.h>
#include <stdio.h>
#include "supervision/supervision-private.h"
#include "lib/log.h"

void supervision_audit(struct fg_supervision *s, enum fg_audit_kind k, const char *button,
		       const char *alert_id, const char *target, uint64_t latency, const char *fmt, ...)
{
	struct fg_audit_entry e = {
		.time_usec = fg_now_realtime(),
		.kind = k,
		.button = button,
		.alert_id = alert_id,
		.target = target,
		.latency_usec = latency,
	};
	char detail[512];
	va_list ap;
	int r;

	if (!s->audit)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	e.detail = detail;
	r = fg_audit_append(s->audit, &e);
	if (r < 0)
		log_error_errno(r, "Failed to write the audit trail in %s: %m", s->audit_dir);
}

/* What the trail calls an alert: its incident, so that press, deliveries and close line up. */
static const char *incident_of(const struct fg_alert *a)
{
	return a->incident_id[0] ? a->incident_id : a->id;
}

void supervision_audit_pipeline_event(struct fg_supervision *s, const struct fg_pipeline_event *ev)
{
	const struct fg_alert *a = ev->alert;
	uint64_t real = fg_now_realtime();

	switch (ev->kind) {
	case FG_PIPELINE_ALERT_OPENED:
		supervision_audit(s, FG_AUDIT_PRESS, ev->button, a->id, NULL, 0,
				  "On: %s opens alert %s%s", fg_gesture_to_string(a->gesture), a->id,
				  a->queued ? " (queued in the button)" : "");
		break;
	case FG_PIPELINE_ALERT_CLOSED:
		supervision_audit(s, FG_AUDIT_CLOSED, ev->button, incident_of(a), NULL, 0,
				  "Off: %s closes it (alert %s)", fg_gesture_to_string(a->gesture), a->id);
		break;
	case FG_PIPELINE_DELIVERED:
		/* latency: from the press (the button's clock) or the condition to acceptance */
		supervision_audit(s, FG_AUDIT_DELIVERED, a->button, incident_of(a), ev->target,
				  real > a->press_usec && a->press_usec ? real - a->press_usec : 0,
				  "%s%s%s accepted (HTTP %ld), alert %s", a->test ? "test " : "",
				  a->supervision ? "supervision " : "", fg_alert_state_to_string(a->state),
				  ev->http_status, a->id);
		break;
	case FG_PIPELINE_DEAD_LETTER:
		supervision_audit(s, FG_AUDIT_FAILED, a->button, incident_of(a), ev->target, 0,
				  "%s refused for good (HTTP %ld), alert %s moved to the dead letters",
				  fg_alert_state_to_string(a->state), ev->http_status, a->id);
		break;
	case FG_PIPELINE_ALERT_LOST:
		supervision_audit(s, FG_AUDIT_FAILED, a->button, incident_of(a), ev->target, 0,
				  "%s LOST: neither disk nor memory could hold alert %s",
				  fg_alert_state_to_string(a->state), a->id);
		break;
	case FG_PIPELINE_FAILING:
	case FG_PIPELINE_TARGET_UNHEALTHY:
	case FG_PIPELINE_TARGET_HEALTHY:
	case FG_PIPELINE_SPOOL_FULL:
	case FG_PIPELINE_SPOOL_OK:
	case _FG_PIPELINE_EVENT_MAX:
		break;
	}
}

void fg_supervision_press(struct fg_supervision *s, const char *button, enum fg_gesture g,
			  enum fg_mapping_outcome o, const char *incident_id)
{
	if (!incident_id)
		incident_id = "";
	supervision_audit(s, FG_AUDIT_PRESS, button, NULL, NULL, 0, "%s: %s%s%s", fg_gesture_to_string(g),
			  fg_mapping_outcome_to_string(o), incident_id[0] ? ", incident " : "", incident_id);
}

void fg_supervision_acknowledge(struct fg_supervision *s, bool silenced, const char *via)
{
	supervision_audit(s, FG_AUDIT_ACK, NULL, NULL, NULL, 0, "acknowledged (%s): %s", via,
			  silenced ? "buzzer silenced" : "nothing was sounding");
}
