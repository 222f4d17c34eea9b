/* SPDX-License-Identifier: MIT */
/* Where alerts come from: a button event through the mapping, a test alert,
 * a supervision alarm; each is spooled and sent by pipeline.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "delivery/mapping.h"
#include "delivery/pipeline-internal.h"
#include "lib/log.h"
#include "lib/timeutil.h"

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
		/* the alert, then its button's state: one flush for both (the batch's) */
		pipeline_enqueue(p, b, &a, NULL);
	} else if (o != FG_MAPPING_IGNORED) {
		log_info("Button %s: %s (counter %" PRIu32 ") -> %s", b->name,
			 fg_gesture_to_string(ev->gesture), ev->event_counter,
			 fg_mapping_outcome_to_string(o));
	}
	if (o != FG_MAPPING_IGNORED && o != FG_MAPPING_TEST)
		pipeline_stage_alert_state(p, b->name);
	if (o == FG_MAPPING_OPEN)
		pipeline_emit(p, FG_PIPELINE_ALERT_OPENED, b->name, NULL, &a, 0);
	else if (o == FG_MAPPING_CLOSE)
		pipeline_emit(p, FG_PIPELINE_ALERT_CLOSED, b->name, NULL, &a, 0);
	fg_alert_clear(&a);
	pipeline_send_then_commit(p);
	if (ret_outcome)
		*ret_outcome = o;
	return 0;
}

int fg_pipeline_test_alert(struct fg_pipeline *p, const char *button, const char *target)
{
	const struct fg_button_config *b = NULL;
	struct fg_button_config synthetic = {
		.name = (char *)"flicgate-test",
		.name_id = (char *)"flicgate",
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
	/* what pipeline_enqueue() would pick: the target, the button's, or every one */
	if (!target && (b ? b->n_webhooks == 0 : p->config->n_webhooks == 0))
		return -EDESTADDRREQ;
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
	pipeline_enqueue(p, b, &a, target);
	/* Close it again so no test incident stays open at the target. */
	a.state = FG_ALERT_OFF;
	a.gesture = FG_GESTURE_DOUBLE_CLICK;
	snprintf(a.idempotency_key, sizeof(a.idempotency_key), "%s:off", id);
	pipeline_enqueue(p, b, &a, target);
	fg_alert_clear(&a);
	pipeline_send_then_commit(p);
	return 0;
}

int fg_pipeline_supervision_alert(struct fg_pipeline *p, const struct fg_supervision_alert *s,
				  char ret_id[FG_ALERT_ID_MAX])
{
	/* only its webhooks matter to pipeline_enqueue(); the name is for the log */
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
	pipeline_enqueue(p, s->n_webhooks ? &targets : NULL, &a, NULL);
	fg_alert_clear(&a);
	pipeline_send_then_commit(p);
	if (ret_id)
		memcpy(ret_id, id, FG_ALERT_ID_MAX);
	return 0;
}
