/* SPDX-License-Identifier: MIT */
/* What each target kind receives: the request (method, headers, body) an alert
 * becomes for AlertOps, PagerDuty, Slack, ntfy or a generic template. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "delivery/preset.h"
#include "delivery/template.h"
#include "lib/macro.h"
#include "lib/strbuf.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

void fg_request_clear(struct fg_request *r)
{
	if (!r)
		return;
	fg_strv_free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * Header values built from button names and info text: a CR or LF there
 * would let a config value smuggle extra headers, so control bytes become
 * spaces.
 */
static int push_header(char ***headers, const char *name, const char *value)
{
	struct fg_strbuf b = {};
	char *h;
	int r;

	fg_strbuf_printf(&b, "%s: ", name);
	for (const char *s = value; *s; s++) {
		char c = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;

		fg_strbuf_putn(&b, &c, 1);
	}
	r = fg_strbuf_steal(&b, &h, NULL);
	if (r < 0)
		return r;
	r = fg_strv_push(headers, h);
	free(h);
	return r;
}

static bool has_header(char *const *headers, const char *name)
{
	const char *h;
	size_t n = strlen(name);

	FG_STRV_FOREACH(h, headers)
		if (strncasecmp(h, name, n) == 0 && h[n] == ':')
			return true;
	return false;
}

/* Content-Type, Idempotency-Key, then the configured headers. */
static int common_headers(const struct fg_webhook_config *w, const struct fg_alert *a,
			  const char *content_type, char ***headers)
{
	const char *h;
	int r;

	if (!has_header(w->headers, "Content-Type")) {
		r = push_header(headers, "Content-Type",
				w->content_type ? w->content_type : content_type);
		if (r < 0)
			return r;
	}
	if (!has_header(w->headers, "Idempotency-Key")) {
		r = push_header(headers, "Idempotency-Key", a->idempotency_key);
		if (r < 0)
			return r;
	}
	FG_STRV_FOREACH(h, w->headers) {
		r = fg_strv_push(headers, h);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Info text as people read it: "[TEST] " prefix, "(pressed 40 s ago)" suffix. */
static void put_info_text(struct fg_strbuf *b, const struct fg_alert *a)
{
	char age[FG_AGE_TEXT_BUF];

	if (a->test)
		fg_strbuf_puts(b, "[TEST] ");
	fg_strbuf_puts(b, a->info ? a->info : "");
	fg_alert_age_text(a, age, sizeof(age));
	if (*age)
		fg_strbuf_printf(b, "%s(%s%s)", a->info && *a->info ? " " : "", age,
				 a->queued ? ", queued" : "");
}

static void json_field(struct fg_strbuf *b, const char *key, const char *value, bool comma)
{
	fg_strbuf_puts(b, comma ? ",\"" : "\"");
	fg_strbuf_puts(b, key);
	fg_strbuf_putn(b, "\":", 2);
	fg_strbuf_put_json_string(b, value);
}

/* A supervision alert has no gesture: "" rather than a made-up one. */
static const char *gesture_text(const struct fg_alert *a)
{
	return a->supervision ? "" : fg_gesture_to_string(a->gesture);
}

static void build_alertops(struct fg_strbuf *b, const struct fg_alert *a)
{
	struct fg_strbuf info = {};
	char t[FG_RFC3339_BUF], addr[18] = "", nid[FG_ALERT_NAME_ID_BUF];
	char *info_text = NULL;

	put_info_text(&info, a);
	if (fg_strbuf_steal(&info, &info_text, NULL) < 0) {
		b->oom = true;
		return;
	}
	if (a->has_address)
		fg_format_address(a->address, addr);
	/* The three fields the AlertOps inbound integration maps first. */
	fg_strbuf_puts(b, "{");
	/* a test alert has a name of its own: it never touches a live incident */
	json_field(b, "flic_nameId", fg_alert_target_name_id(a, nid, sizeof(nid)), false);
	json_field(b, "flic_state", fg_alert_state_to_string(a->state), true);
	json_field(b, "info", info_text, true);
	/* Context for mapping rules and the incident's details. */
	json_field(b, "flic_gesture", gesture_text(a), true);
	json_field(b, "flic_serial", a->serial, true);
	json_field(b, "flic_address", addr, true);
	json_field(b, "flic_pressTime", fg_format_rfc3339(a->press_usec, t, sizeof(t)), true);
	fg_strbuf_printf(b, ",\"flic_queued\":%s", a->queued ? "true" : "false");
	fg_strbuf_printf(b, ",\"flic_battery_mV\":%u", a->battery_mv);
	json_field(b, "flic_severity", fg_severity_to_string(a->severity), true);
	json_field(b, "flic_gateway", a->gateway, true);
	json_field(b, "flic_alertId", a->id, true);
	json_field(b, "flic_incidentId", a->incident_id, true);
	json_field(b, "flic_idempotencyKey", a->idempotency_key, true);
	fg_strbuf_printf(b, ",\"flic_appended\":%s", a->appended ? "true" : "false");
	fg_strbuf_printf(b, ",\"flic_test\":%s", a->test ? "true" : "false");
	/* only on supervision alerts, so button alerts keep their documented body */
	if (a->supervision)
		fg_strbuf_puts(b, ",\"flic_supervision\":true");
	fg_strbuf_puts(b, "}");
	free(info_text);
}

int fg_preset_dedup_key(const struct fg_alert *a, char **ret)
{
	struct fg_strbuf b = {};

	/* Test alerts get their own incident so they never touch a real one. */
	fg_strbuf_printf(&b, "flicgate/%s/%s%s", a->gateway, a->button,
			 a->test ? "/test" : "");
	return fg_strbuf_steal(&b, ret, NULL);
}

static int build_pagerduty(struct fg_strbuf *b, const struct fg_webhook_config *w,
			   const struct fg_alert *a)
{
	struct fg_strbuf s = {};
	char t[FG_RFC3339_BUF], addr[18] = "", *dedup = NULL, *summary = NULL;
	char nid[FG_ALERT_NAME_ID_BUF];
	const char *name_id = fg_alert_target_name_id(a, nid, sizeof(nid));
	int r;

	r = fg_preset_dedup_key(a, &dedup);
	if (r < 0)
		return r;
	fg_strbuf_puts(b, "{");
	json_field(b, "routing_key", w->routing_key ? w->routing_key : "", false);
	json_field(b, "event_action", a->state == FG_ALERT_ON ? "trigger" : "resolve", true);
	json_field(b, "dedup_key", dedup, true);
	free(dedup);
	if (a->state == FG_ALERT_OFF) {
		fg_strbuf_puts(b, "}");
		return 0;
	}

	if (a->supervision)
		fg_strbuf_printf(&s, "%s%s: gateway supervision", a->test ? "[TEST] " : "",
				 name_id);
	else
		fg_strbuf_printf(&s, "%s%s: alert button pressed (%s)", a->test ? "[TEST] " : "",
				 name_id, fg_gesture_to_string(a->gesture));
	if (a->info && *a->info)
		fg_strbuf_printf(&s, " - %s", a->info);
	/* PagerDuty truncates summaries at 1024 characters. */
	if (s.len > 1024 && !s.oom) {
		s.len = 1024;
		/* do not split a UTF-8 sequence */
		while (s.len > 0 && ((unsigned char)s.p[s.len] & 0xc0) == 0x80)
			s.len--;
		s.p[s.len] = '\0';
	}
	r = fg_strbuf_steal(&s, &summary, NULL);
	if (r < 0)
		return r;
	if (a->has_address)
		fg_format_address(a->address, addr);

	fg_strbuf_puts(b, ",\"payload\":{");
	json_field(b, "summary", summary, false);
	free(summary);
	json_field(b, "source", a->gateway, true);
	json_field(b, "severity", fg_severity_to_string(a->severity), true);
	/* The button's own press time: a queued press keeps its real time. */
	json_field(b, "timestamp", fg_format_rfc3339(a->press_usec, t, sizeof(t)), true);
	json_field(b, "component", name_id, true);
	json_field(b, "group", a->button, true);
	json_field(b, "class", a->supervision ? "flicgate-supervision" : "flic-button", true);
	fg_strbuf_puts(b, ",\"custom_details\":{");
	json_field(b, "info", a->info, false);
	json_field(b, "gesture", gesture_text(a), true);
	json_field(b, "serial", a->serial, true);
	json_field(b, "address", addr, true);
	fg_strbuf_printf(b, ",\"queued\":%s,\"age_s\":%llu,\"battery_mV\":%u",
			 a->queued ? "true" : "false",
			 (unsigned long long)(a->age_usec / 1000000), a->battery_mv);
	fg_strbuf_printf(b, ",\"appended\":%s", a->appended ? "true" : "false");
	json_field(b, "alert_id", a->id, true);
	json_field(b, "idempotency_key", a->idempotency_key, true);
	fg_strbuf_puts(b, "}}}");
	return 0;
}

/* Slack mrkdwn: &, < and > are control characters there. */
static void put_slack_escaped(struct fg_strbuf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '&')
			fg_strbuf_puts(b, "&amp;");
		else if (*s == '<')
			fg_strbuf_puts(b, "&lt;");
		else if (*s == '>')
			fg_strbuf_puts(b, "&gt;");
		else
			fg_strbuf_putn(b, s, 1);
	}
}

/* The one-line human message Slack and ntfy show. */
static int notify_text(const struct fg_alert *a, bool slack, char **ret)
{
	struct fg_strbuf b = {};
	char age[FG_AGE_TEXT_BUF], nid[FG_ALERT_NAME_ID_BUF];
	void (*put)(struct fg_strbuf *, const char *) = slack ? put_slack_escaped : fg_strbuf_puts;

	if (a->test)
		fg_strbuf_puts(&b, "[TEST] ");
	if (slack)
		fg_strbuf_puts(&b, a->state == FG_ALERT_ON ? ":rotating_light: *" : ":white_check_mark: *");
	put(&b, fg_alert_target_name_id(a, nid, sizeof(nid)));
	if (slack)
		fg_strbuf_puts(&b, "*");
	if (a->supervision) {
		/* the info text says what is wrong, or that it is fine again */
		fg_strbuf_puts(&b, a->state == FG_ALERT_OFF ? " resolved: " : ": ");
		put(&b, a->info);
		fg_strbuf_puts(&b, " (supervision, ");
		put(&b, a->gateway);
		fg_strbuf_puts(&b, ")");
		return fg_strbuf_steal(&b, ret, NULL);
	}
	if (a->state == FG_ALERT_OFF) {
		fg_strbuf_printf(&b, " resolved (%s on ", fg_gesture_to_string(a->gesture));
		put(&b, a->gateway);
		fg_strbuf_puts(&b, ")");
		return fg_strbuf_steal(&b, ret, NULL);
	}
	fg_strbuf_puts(&b, a->appended ? " pressed again" : " alert");
	if (a->info && *a->info) {
		fg_strbuf_puts(&b, ": ");
		put(&b, a->info);
	}
	fg_strbuf_printf(&b, " (%s", fg_gesture_to_string(a->gesture));
	fg_alert_age_text(a, age, sizeof(age));
	if (*age)
		fg_strbuf_printf(&b, ", %s", age);
	if (a->queued)
		fg_strbuf_puts(&b, ", queued");
	fg_strbuf_puts(&b, ", via ");
	put(&b, a->gateway);
	fg_strbuf_puts(&b, ")");
	return fg_strbuf_steal(&b, ret, NULL);
}

static const char *const ntfy_priority_table[] = {
	[FG_SEVERITY_CRITICAL] = "5",
	[FG_SEVERITY_ERROR] = "4",
	[FG_SEVERITY_WARNING] = "3",
	[FG_SEVERITY_INFO] = "2",
};
FG_DEFINE_STRING_TABLE_TO(static, ntfy_priority_of, enum fg_severity, ntfy_priority_table)

static const char *ntfy_priority(const struct fg_alert *a)
{
	const char *p = ntfy_priority_of_to_string(a->severity);

	/* resolved: 3, like a warning */
	return a->state == FG_ALERT_OFF || !p ? "3" : p;
}

int fg_preset_build(const struct fg_webhook_config *w, const struct fg_alert *a,
		    struct fg_request *ret)
{
	struct fg_request req = {};
	struct fg_strbuf b = {};
	const char *ctype = "application/json";
	char *text = NULL, nid[FG_ALERT_NAME_ID_BUF];
	int r;

	req.method = w->method && *w->method ? w->method : "POST";
	req.url = w->url;

	switch (w->preset) {
	case FG_PRESET_ALERTOPS:
		build_alertops(&b, a);
		break;
	case FG_PRESET_PAGERDUTY:
		if (!req.url || !*req.url)
			req.url = FG_PAGERDUTY_DEFAULT_URL;
		r = build_pagerduty(&b, w, a);
		if (r < 0)
			goto fail;
		break;
	case FG_PRESET_SLACK:
	case FG_PRESET_NTFY:
		if (a->state == FG_ALERT_OFF && !a->was_open) {
			r = -ENODATA;
			goto fail;
		}
		r = notify_text(a, w->preset == FG_PRESET_SLACK, &text);
		if (r < 0)
			goto fail;
		if (w->preset == FG_PRESET_SLACK) {
			fg_strbuf_puts(&b, "{");
			json_field(&b, "text", text, false);
			fg_strbuf_puts(&b, "}");
		} else {
			/* ntfy: the body is the message; the rest are headers. */
			ctype = "text/plain; charset=utf-8";
			fg_strbuf_puts(&b, text);
			r = push_header(&req.headers, "Title",
					fg_alert_target_name_id(a, nid, sizeof(nid)));
			if (r >= 0)
				r = push_header(&req.headers, "Priority", ntfy_priority(a));
			if (r >= 0)
				r = push_header(&req.headers, "Tags",
						a->state == FG_ALERT_ON ? "rotating_light"
									: "white_check_mark");
			if (r < 0)
				goto fail;
		}
		break;
	case FG_PRESET_GENERIC:
		if (w->body) {
			r = fg_template_render(w->body, a, &req.body, &req.body_len);
			if (r < 0)
				goto fail;
		} else {
			build_alertops(&b, a);
		}
		break;
	case _FG_PRESET_MAX:
		r = -EINVAL;
		goto fail;
	}
	if (!req.body) {
		r = fg_strbuf_steal(&b, &req.body, &req.body_len);
		if (r < 0)
			goto fail;
	}
	r = common_headers(w, a, ctype, &req.headers);
	if (r < 0)
		goto fail;
	free(text);
	*ret = req;
	return 0;
fail:
	free(text);
	fg_strbuf_done(&b);
	fg_request_clear(&req);
	return r;
}
