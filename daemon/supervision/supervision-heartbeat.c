/* SPDX-License-Identifier: MIT */
/* The heartbeat: every [health] heartbeat_interval a POST of the gateway's
 * state (JSON) to heartbeat_url, one in flight, never retried or spooled. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "supervision/supervision-private.h"
#include "supervision/policy.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mask.h"
#include "lib/strv.h"

static void heartbeat_body(struct fg_supervision *s, FILE *f)
{
	struct fg_supervision_radio radio = { .adapter = "", .state = "" };
	struct fg_supervision_delivery d;
	struct fg_json *j = NULL;
	char t[FG_RFC3339_BUF], **alarms = NULL, **open = NULL, *a;

	if (fg_json_new(f, 0, &j) < 0)
		return;
	if (s->ops && s->ops->radio)
		s->ops->radio(s, &radio, s->userdata);
	supervision_delivery_facts(s, &d);
	fg_json_begin_object(j);
	fg_json_kv_string(j, "gateway", s->config->gateway.name);
	fg_json_kv_string(j, "version", FG_VERSION);
	fg_json_kv_string(j, "time", fg_format_rfc3339(fg_now_realtime(), t, sizeof(t)));
	fg_json_kv_uint(j, "uptime_s", (supervision_now(s) - s->started) / FG_USEC_PER_SEC);
	fg_json_key(j, "bluetooth");
	fg_json_begin_object(j);
	fg_json_kv_string(j, "adapter", radio.adapter);
	fg_json_kv_string(j, "state", radio.state);
	fg_json_end_object(j);
	fg_json_key(j, "buttons");
	fg_json_begin_object(j);
	fg_json_kv_uint(j, "configured", s->config->n_buttons);
	fg_json_kv_uint(j, "paired", radio.paired);
	fg_json_kv_uint(j, "ready", radio.ready);
	fg_json_end_object(j);
	fg_json_key(j, "spool");
	fg_json_begin_object(j);
	fg_json_kv_uint(j, "depth", d.spool_depth);
	fg_json_kv_bool(j, "alarm", d.spool_alarm);
	fg_json_kv_uint(j, "dead_letters", d.dead_letters);
	fg_json_end_object(j);
	fg_json_key(j, "targets");
	fg_json_begin_array(j);
	for (size_t i = 0; i < d.n_targets; i++) {
		struct fg_target_status ts;

		supervision_target_status(s, i, &ts);
		fg_json_begin_object(j);
		fg_json_kv_string(j, "name", ts.name);
		fg_json_kv_string(j, "health", fg_target_health_to_string(ts.health));
		fg_json_kv_uint(j, "queued", ts.depth);
		fg_json_end_object(j);
	}
	fg_json_end_array(j);
	fg_json_key(j, "open_alerts");
	fg_json_begin_array(j);
	if (s->ops && s->ops->open_alerts && s->ops->open_alerts(s, &open, s->userdata) >= 0)
		FG_STRV_FOREACH(a, open)
			fg_json_string(j, a);
	fg_strv_free(open);
	fg_json_end_array(j);
	fg_json_key(j, "alarms");
	fg_json_begin_array(j);
	if (fg_supervision_alarms(s, &alarms) >= 0)
		FG_STRV_FOREACH(a, alarms)
			fg_json_string(j, a);
	fg_strv_free(alarms);
	fg_json_end_array(j);
	fg_json_kv_uint(j, "heartbeats_failed", s->hb_in_a_row);
	fg_json_end_object(j);
	(void)fg_json_finish(j);
	fg_json_free(j);
}

static void on_heartbeat_done(struct fg_webhook *w, const struct fg_webhook_result *r, void *userdata)
{
	struct fg_supervision *s = userdata;
	char url[FG_MASK_BUF], what[160];

	s->hb_xfer = NULL;
	fg_mask_url(s->hb.url, url, sizeof(url));
	if (r->http_status >= 200 && r->http_status < 300) {
		s->hb_sent++;
		if (s->hb_in_a_row)
			log_notice("Heartbeat to %s works again after %lu failed", url, s->hb_in_a_row);
		else if (!s->hb_ok_logged)
			log_info("Heartbeat to %s: HTTP %ld", url, r->http_status);
		s->hb_ok_logged = true;
		s->hb_in_a_row = 0;
		return;
	}
	s->hb_failed++;
	s->hb_in_a_row++;
	if (r->http_status)
		snprintf(what, sizeof(what), "HTTP %ld", r->http_status);
	else
		snprintf(what, sizeof(what), "%s", r->error);
	/*
	 * Not retried, not spooled: a missed heartbeat is the signal. Logged
	 * at 1, 2, 4, 8, … failures in a row, so an outage does not flood.
	 */
	if (fg_heartbeat_failure_is_loud(s->hb_in_a_row))
		log_warning("Heartbeat to %s failed: %s (%lu in a row); the monitor will raise its alarm if this goes on",
			    url, what, s->hb_in_a_row);
	else
		log_debug("Heartbeat to %s failed: %s (%lu in a row)", url, what, s->hb_in_a_row);
}

static void heartbeat(struct fg_supervision *s)
{
	struct fg_request req = { .method = "POST", .url = s->hb.url };
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (s->hb_xfer) {
		/* the last one still hangs: that one's timeout reports it */
		log_debug("Heartbeat skipped: the previous one is still in flight");
		return;
	}
	f = open_memstream(&body, &len);
	if (!f)
		return (void)log_error("Heartbeat: out of memory");
	heartbeat_body(s, f);
	if (fclose(f) != 0) {
		free(body);
		return (void)log_error("Heartbeat: out of memory");
	}
	req.body = body;
	req.body_len = len;
	r = fg_strv_push(&req.headers, "Content-Type: application/json");
	if (r >= 0)
		r = fg_strv_push(&req.headers, "User-Agent: flicgate/" FG_VERSION);
	if (r >= 0)
		r = fg_webhook_send(s->webhook, &req, &s->hb, on_heartbeat_done, s, &s->hb_xfer);
	req.method = NULL;
	req.url = NULL;
	fg_request_clear(&req);
	if (r < 0) {
		s->hb_failed++;
		s->hb_in_a_row++;
		log_error_errno(r, "Failed to start the heartbeat: %m");
	}
}

static int on_heartbeat_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct fg_supervision *s = userdata;
	uint64_t now = supervision_now(s);

	heartbeat(s);
	/* a fixed rhythm; after a stall (suspend) start again from now */
	s->hb_next = fg_heartbeat_next(s->hb_next, s->config->health.heartbeat_interval_usec, now);
	(void)sd_event_source_set_time(src, s->hb_next);
	(void)sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	return 0;
}

int supervision_setup_heartbeat(struct fg_supervision *s)
{
	const struct fg_health_config *h = &s->config->health;
	char url[FG_MASK_BUF];
	int r;

	if (s->hb_xfer) {
		fg_webhook_cancel(s->webhook, s->hb_xfer);
		s->hb_xfer = NULL;
	}
	s->hb_timer = sd_event_source_disable_unref(s->hb_timer);
	s->hb = (struct fg_webhook_config){
		.name = (char *)"heartbeat",
		.url = h->heartbeat_url,
		.method = (char *)"POST",
		.timeout_usec = fg_heartbeat_timeout(h->heartbeat_interval_usec),
		.tls_verify = true,
	};
	if (!h->heartbeat_url)
		return 0;
	if (!s->webhook) {
		r = fg_webhook_new(s->event, &s->webhook);
		if (r < 0)
			return r;
	}
	log_info("Heartbeat to %s every %llu s", fg_mask_url(h->heartbeat_url, url, sizeof(url)),
		 (unsigned long long)(h->heartbeat_interval_usec / FG_USEC_PER_SEC));
	/* the first one at once: the monitor learns that we are up */
	s->hb_next = supervision_now(s);
	return sd_event_add_time(s->event, &s->hb_timer, CLOCK_MONOTONIC, s->hb_next,
				 10 * FG_USEC_PER_MSEC, on_heartbeat_timer, s);
}

void fg_supervision_heartbeat_counts(const struct fg_supervision *s, unsigned long *ret_sent,
				     unsigned long *ret_failed)
{
	*ret_sent = s->hb_sent;
	*ret_failed = s->hb_failed;
}
