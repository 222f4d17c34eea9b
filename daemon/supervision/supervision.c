/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>

#include "supervision/supervision.h"
#include "supervision/audit.h"
#include "delivery/webhook.h"
#include "delivery/preset.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mask.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

/* The trail: 1 MiB per file and 9 older files, so at most 10 MiB. */
#define AUDIT_FILE_BYTES (1024 * 1024)
#define AUDIT_KEEP 9
/* Last-seen times alone are saved at most this often (an SD card wears). */
#define SUPERVISOR_SEEN_SAVE (5 * FG_USEC_PER_MIN)
/* The clock check; the kernel tells nobody when NTP synchronises it. */
#define SUPERVISOR_CLOCK_CHECK (60 * FG_USEC_PER_SEC)
#define HEARTBEAT_TIMEOUT (10 * FG_USEC_PER_SEC)
#define STATE_MAX (1024 * 1024)
/* Remembered On ids, so that an Off names its incident. */
#define ON_IDS 64

/* What the alarms core does not keep about a button. */
struct extra {
	char *name;
	uint64_t seen_reported;		/* fg_button_status.last_seen_usec last handled */
	unsigned long readings;		/* fg_button_status.battery_readings last handled */
	bool connected;
	bool has_rssi;
	int rssi;
	uint32_t firmware;
	uint64_t last_test;		/* CLOCK_REALTIME */
};

struct on_id {
	char name_id[200];
	char id[FG_ALERT_ID_MAX];
};

struct fg_supervision {
	sd_event *event;
	struct fg_config *config;	/* a reference */
	const struct fg_supervision_ops *ops;
	void *userdata;
	uint64_t started;		/* CLOCK_MONOTONIC */

	struct fg_alarms *alarms;
	struct fg_audit *audit;
	char *audit_dir;
	char *state_path;
	struct extra *extras;
	size_t n_extras;
	struct on_id on_ids[ON_IDS];
	size_t on_next;

	/* health.state */
	sd_event_source *save;		/* idle, one-shot: alarms, battery */
	sd_event_source *seen_save;	/* timer: last-seen times */
	bool dirty;

	sd_event_source *timer;		/* fg_alarms_next_deadline() */

	/* heartbeat */
	struct fg_webhook *webhook;
	struct fg_webhook_config hb;
	sd_event_source *hb_timer;
	uint64_t hb_next;
	struct fg_webhook_transfer *hb_xfer;
	unsigned long hb_sent, hb_failed, hb_in_a_row;
	bool hb_ok_logged;

	/* clock */
	sd_event_source *clock_timer;
	int (*clock_probe)(void *userdata);
	void *clock_userdata;
	int clock_state;		/* -2 never checked, -1 unknown, 0 unsynchronised, 1 synchronised */

	/* test-press window */
	sd_event_source *test_timer;
	bool test_open;
	uint64_t test_end;		/* CLOCK_REALTIME */
	char test_button[72];		/* "" every button */
};

static uint64_t now_mono(const struct fg_supervision *s)
{
	uint64_t t;

	if (sd_event_now(s->event, CLOCK_MONOTONIC, &t) < 0)
		t = fg_now_monotonic();
	return t;
}

/* A CLOCK_MONOTONIC instant as CLOCK_REALTIME. */
static uint64_t to_realtime(const struct fg_supervision *s, uint64_t mono)
{
	uint64_t now = now_mono(s), real = fg_now_realtime();

	if (mono > now)
		return real;
	return real > now - mono ? real - (now - mono) : 0;
}

static struct extra *find_extra(const struct fg_supervision *s, const char *name)
{
	for (size_t i = 0; name && i < s->n_extras; i++)
		if (strcmp(s->extras[i].name, name) == 0)
			return &s->extras[i];
	return NULL;
}

/* ---- the audit trail ------------------------------------------------------ */

static void audit(struct fg_supervision *s, enum fg_audit_kind k, const char *button,
		  const char *alert_id, const char *target, uint64_t latency, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void audit(struct fg_supervision *s, enum fg_audit_kind k, const char *button,
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

/* ---- health.state ----------------------------------------------------------- */

/*
 * health.state is the alarms core's text, then one line per button for
 * what only we keep: "extra NAME rssi N|- firmware N last_test N". The
 * core's reader skips lines it does not know, so both share the file.
 */
static int save_state(struct fg_supervision *s)
{
	char *core = NULL, *text = NULL;
	size_t core_len, len = 0;
	FILE *f;
	int r;

	s->dirty = false;
	r = fg_alarms_serialize(s->alarms, now_mono(s), fg_now_realtime(), &core, &core_len);
	if (r < 0)
		return r;
	f = open_memstream(&text, &len);
	if (!f) {
		free(core);
		return -ENOMEM;
	}
	fwrite(core, 1, core_len, f);
	free(core);
	for (size_t i = 0; i < s->n_extras; i++) {
		const struct extra *x = &s->extras[i];

		fprintf(f, "extra %s rssi ", x->name);
		if (x->has_rssi)
			fprintf(f, "%d", x->rssi);
		else
			fputc('-', f);
		fprintf(f, " firmware %" PRIu32 " last_test %" PRIu64 "\n", x->firmware, x->last_test);
	}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	r = fg_write_file_atomic(s->state_path, text, len, 0600);
	free(text);
	return r;
}

static int on_save(sd_event_source *src, void *userdata)
{
	struct fg_supervision *s = userdata;
	int r;

	s->seen_save = sd_event_source_disable_unref(s->seen_save);
	r = save_state(s);
	if (r < 0)
		log_error_errno(r, "Failed to save %s (button supervision): %m", s->state_path);
	return 0;
}

static int on_seen_save(sd_event_source *src, uint64_t usec, void *userdata)
{
	return on_save(src, userdata);
}

/* Alarms and battery readings: saved on the next idle loop iteration. */
static void mark_dirty(struct fg_supervision *s)
{
	s->dirty = true;
	if (sd_event_source_set_enabled(s->save, SD_EVENT_ONESHOT) < 0)
		(void)on_save(s->save, s);
}

/* Last-seen times alone: saved within SUPERVISOR_SEEN_SAVE. */
static void mark_seen_dirty(struct fg_supervision *s)
{
	s->dirty = true;
	if (s->seen_save)
		return;
	if (sd_event_add_time_relative(s->event, &s->seen_save, CLOCK_MONOTONIC, SUPERVISOR_SEEN_SAVE,
				       FG_USEC_PER_SEC, on_seen_save, s) < 0)
		mark_dirty(s);
}

static void restore_extras(struct fg_supervision *s, const char *text)
{
	const char *p = text;

	while (p && *p) {
		char name[128], rssi[16];
		unsigned long long test;
		unsigned fw;

		if (sscanf(p, "extra %127s rssi %15s firmware %u last_test %llu", name, rssi, &fw,
			   &test) == 4) {
			struct extra *x = find_extra(s, name);

			if (x) {
				char *end;
				long v = strtol(rssi, &end, 10);

				x->has_rssi = *end == '\0' && end != rssi && v >= -127 && v <= 20;
				x->rssi = x->has_rssi ? (int)v : 0;
				x->firmware = fw;
				x->last_test = test;
			}
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

static void restore(struct fg_supervision *s)
{
	char *text = NULL;
	size_t len;
	int r;

	r = fg_read_file(s->state_path, STATE_MAX, &text, &len);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		log_error_errno(r, "Failed to read %s, button supervision starts afresh: %m", s->state_path);
		return;
	}
	r = fg_alarms_restore(s->alarms, text, len, now_mono(s), fg_now_realtime());
	if (r < 0)
		log_error_errno(r, "Failed to parse %s, button supervision starts afresh: %m",
				s->state_path);
	else
		restore_extras(s, text);
	free(text);
}

/* ---- alarms -> alerts, trail, lights ---------------------------------------- */

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

static void send_alert(struct fg_supervision *s, const char *name_id, bool on, const char *info,
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
	audit(s, on ? FG_AUDIT_SUPERVISION_OPEN : FG_AUDIT_SUPERVISION_CLOSE, subject,
	      a.incident_id ? a.incident_id : id, NULL, 0, "%s: %s", name_id, info);
}

static void apply_change(struct fg_supervision *s, const struct fg_alarm_change *c)
{
	if (c->raised)
		log_warning("Supervision: %s opens: %s", c->name_id, c->info);
	else
		log_notice("Supervision: %s closes: %s", c->name_id, c->info);
	send_alert(s, c->name_id, c->raised, c->info, fg_alarm_kind_severity(c->kind),
		   to_realtime(s, c->since_usec), c->subject[0] ? c->subject : NULL);
	if (s->ops && s->ops->alarm)
		s->ops->alarm(s, c, s->userdata);
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata);

/* Hand out what the core decided, then sleep until its next deadline. */
static void settle(struct fg_supervision *s)
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
		mark_dirty(s);
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
	uint64_t now = now_mono(s);

	/* a button with a link up is there: the link is the proof */
	for (size_t i = 0; i < s->n_extras; i++)
		if (s->extras[i].connected) {
			(void)fg_alarms_button_seen(s->alarms, s->extras[i].name, now);
			mark_seen_dirty(s);
		}
	fg_alarms_tick(s->alarms, now);
	settle(s);
	return 0;
}

/* ---- buttons ------------------------------------------------------------------ */

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
		if (!find_extra(s, b->name)) {
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
	uint64_t now = now_mono(s);
	bool connected = link_up(st->state), seen = false;

	if (!st->configured || !(x = find_extra(s, st->name)))
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
		mark_seen_dirty(s);
	}
	if (st->battery_readings != x->readings) {
		x->readings = st->battery_readings;
		if (st->battery_mv) {
			(void)fg_alarms_button_battery(s->alarms, x->name, st->battery_mv, now);
			/* coalesced: 64 buttons connecting must not mean 64 fsyncs */
			mark_seen_dirty(s);
		}
	}
	if (st->has_rssi) {
		x->has_rssi = true;
		x->rssi = st->rssi;
	}
	if (st->firmware && st->firmware != x->firmware) {
		x->firmware = st->firmware;
		mark_seen_dirty(s);
	}
	settle(s);
}

/* ---- gateway conditions -------------------------------------------------------- */

void fg_supervision_radio_ready(struct fg_supervision *s, bool ready)
{
	(void)fg_alarms_condition(s->alarms, FG_ALARM_COND_BLUETOOTH_GONE, !ready, now_mono(s));
	settle(s);
}

static void delivery_facts(struct fg_supervision *s, struct fg_supervision_delivery *ret)
{
	*ret = (struct fg_supervision_delivery){ 0 };
	if (s->ops && s->ops->delivery)
		s->ops->delivery(s, ret, s->userdata);
}

static void target_status(struct fg_supervision *s, size_t i, struct fg_target_status *ret)
{
	*ret = (struct fg_target_status){ .name = "", .last_error = "" };
	if (s->ops && s->ops->target)
		s->ops->target(s, i, ret, s->userdata);
}

/* Every configured target failing or refusing us: nobody can be told. */
static bool all_targets_failing(struct fg_supervision *s)
{
	struct fg_supervision_delivery d;
	size_t n = 0, bad = 0;

	delivery_facts(s, &d);
	for (size_t i = 0; i < d.n_targets; i++) {
		struct fg_target_status ts;

		target_status(s, i, &ts);
		if (ts.health == FG_TARGET_ORPHANED)
			continue;
		n++;
		if (ts.health == FG_TARGET_FAILING || ts.health == FG_TARGET_UNHEALTHY)
			bad++;
	}
	return n > 0 && bad == n;
}

/* What the trail calls an alert: its incident, so that press, deliveries and close line up. */
static const char *incident_of(const struct fg_alert *a)
{
	return a->incident_id[0] ? a->incident_id : a->id;
}

void fg_supervision_pipeline_event(struct fg_supervision *s, const struct fg_pipeline_event *ev)
{
	const struct fg_alert *a = ev->alert;
	uint64_t now = now_mono(s), real = fg_now_realtime();
	struct fg_supervision_delivery d;
	bool delivery = false;

	switch (ev->kind) {
	case FG_PIPELINE_ALERT_OPENED:
		audit(s, FG_AUDIT_PRESS, ev->button, a->id, NULL, 0, "On: %s opens alert %s%s",
		      fg_gesture_to_string(a->gesture), a->id, a->queued ? " (queued in the button)" : "");
		break;
	case FG_PIPELINE_ALERT_CLOSED:
		audit(s, FG_AUDIT_CLOSED, ev->button, incident_of(a), NULL, 0, "Off: %s closes it (alert %s)",
		      fg_gesture_to_string(a->gesture), a->id);
		break;
	case FG_PIPELINE_DELIVERED:
		/* latency: from the press (the button's clock) or the condition to acceptance */
		audit(s, FG_AUDIT_DELIVERED, a->button, incident_of(a), ev->target,
		      real > a->press_usec && a->press_usec ? real - a->press_usec : 0,
		      "%s%s%s accepted (HTTP %ld), alert %s", a->test ? "test " : "",
		      a->supervision ? "supervision " : "", fg_alert_state_to_string(a->state),
		      ev->http_status, a->id);
		delivery = true;
		break;
	case FG_PIPELINE_DEAD_LETTER:
		audit(s, FG_AUDIT_FAILED, a->button, incident_of(a), ev->target, 0,
		      "%s refused for good (HTTP %ld), alert %s moved to the dead letters",
		      fg_alert_state_to_string(a->state), ev->http_status, a->id);
		delivery = true;
		break;
	case FG_PIPELINE_ALERT_LOST:
		audit(s, FG_AUDIT_FAILED, a->button, incident_of(a), ev->target, 0,
		      "%s LOST: neither disk nor memory could hold alert %s",
		      fg_alert_state_to_string(a->state), a->id);
		break;
	case FG_PIPELINE_FAILING:
	case FG_PIPELINE_TARGET_UNHEALTHY:
	case FG_PIPELINE_TARGET_HEALTHY:
		delivery = true;
		break;
	case FG_PIPELINE_SPOOL_FULL:
	case FG_PIPELINE_SPOOL_OK:
	case _FG_PIPELINE_EVENT_MAX:
		break;
	}
	/* only what deliveries say moves the condition: a restart knows nothing yet */
	if (delivery)
		(void)fg_alarms_condition(s->alarms, FG_ALARM_COND_TARGETS_FAILING,
					  all_targets_failing(s), now);
	delivery_facts(s, &d);
	(void)fg_alarms_spool_depth(s->alarms, d.spool_depth, now);
	settle(s);
}

void fg_supervision_press(struct fg_supervision *s, const char *button, enum fg_gesture g,
			  enum fg_mapping_outcome o, const char *incident_id)
{
	if (!incident_id)
		incident_id = "";
	audit(s, FG_AUDIT_PRESS, button, NULL, NULL, 0, "%s: %s%s%s", fg_gesture_to_string(g),
	      fg_mapping_outcome_to_string(o), incident_id[0] ? ", incident " : "", incident_id);
}

void fg_supervision_test_press(struct fg_supervision *s, const struct fg_button_config *b,
			      enum fg_gesture g, const char *how)
{
	struct extra *x = find_extra(s, b->name);
	uint64_t real = fg_now_realtime();

	log_notice("Button %s: routine test press (%s, %s); nobody is paged", b->name,
		   fg_gesture_to_string(g), how);
	audit(s, FG_AUDIT_TEST, b->name, NULL, NULL, 0, "%s (%s)", fg_gesture_to_string(g), how);
	if (x) {
		x->last_test = real;
		mark_dirty(s);
	}
	/* a test press is seen too */
	(void)fg_alarms_button_seen(s->alarms, b->name, now_mono(s));
	for (size_t i = 0; i < s->config->health.n_test_webhooks; i++) {
		const char *t = s->config->webhooks[s->config->health.test_webhooks[i]].name;
		int r = s->ops && s->ops->test_alert ? s->ops->test_alert(s, b->name, t, s->userdata)
						     : -EOPNOTSUPP;

		if (r < 0)
			log_error_errno(r, "Failed to tell %s of the test press of %s: %m", t, b->name);
	}
	settle(s);
}

void fg_supervision_acknowledge(struct fg_supervision *s, bool silenced, const char *via)
{
	audit(s, FG_AUDIT_ACK, NULL, NULL, NULL, 0, "acknowledged (%s): %s", via,
	      silenced ? "buzzer silenced" : "nothing was sounding");
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
	send_alert(s, name_id, true, info, FG_SEVERITY_WARNING, real, NULL);
	send_alert(s, name_id, false, info, FG_SEVERITY_WARNING, real, NULL);
}

/* ---- test-press window ------------------------------------------------------ */

static void close_test_window(struct fg_supervision *s, const char *why)
{
	if (!s->test_open)
		return;
	s->test_timer = sd_event_source_disable_unref(s->test_timer);
	s->test_open = false;
	log_notice("Test-press window closed (%s)", why);
	audit(s, FG_AUDIT_TEST, s->test_button, NULL, NULL, 0, "test window closed (%s)", why);
	if (s->ops && s->ops->test_window)
		s->ops->test_window(s, false, s->userdata);
}

static int on_test_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	close_test_window(userdata, "time is up");
	return 0;
}

int fg_supervision_open_test_window(struct fg_supervision *s, uint64_t duration_usec,
				   const char *button)
{
	char d[FG_DURATION_BUF];
	int r;

	if (duration_usec == 0)
		duration_usec = FG_SUPERVISION_TEST_WINDOW;
	if (duration_usec < FG_USEC_PER_SEC || duration_usec > FG_USEC_PER_HOUR)
		return -ERANGE;
	if (button && *button && !fg_config_button_by_name(s->config, button))
		return -ENOENT;
	s->test_timer = sd_event_source_disable_unref(s->test_timer);
	r = sd_event_add_time_relative(s->event, &s->test_timer, CLOCK_MONOTONIC, duration_usec,
				       10 * FG_USEC_PER_MSEC, on_test_timer, s);
	if (r < 0)
		return r;
	s->test_open = true;
	s->test_end = fg_now_realtime() + duration_usec;
	snprintf(s->test_button, sizeof(s->test_button), "%s", button ? button : "");
	fg_format_duration(duration_usec, d, sizeof(d));
	log_notice("Test-press window open for %s: every gesture of %s is a routine test, nobody is paged",
		   d, s->test_button[0] ? s->test_button : "every button");
	audit(s, FG_AUDIT_TEST, s->test_button, NULL, NULL, 0, "test window opened for %s", d);
	return 0;
}

int fg_supervision_close_test_window(struct fg_supervision *s)
{
	if (!s->test_open)
		return -ENOENT;
	close_test_window(s, "closed on request");
	return 0;
}

bool fg_supervision_in_test_window(const struct fg_supervision *s, const char *button)
{
	return s->test_open && (!s->test_button[0] || strcmp(s->test_button, button) == 0);
}

bool fg_supervision_test_window(const struct fg_supervision *s, uint64_t *ret_end,
			       const char **ret_button)
{
	if (ret_end)
		*ret_end = s->test_open ? s->test_end : 0;
	if (ret_button)
		*ret_button = s->test_open ? s->test_button : "";
	return s->test_open;
}

/* ---- the clock --------------------------------------------------------------- */

static int adjtimex_probe(void *userdata)
{
	struct timex tx = { 0 };
	int r = adjtimex(&tx);

	if (r < 0)
		return -errno;
	/* what timedated's NTPSynchronized reads too */
	return r != TIME_ERROR && !(tx.status & STA_UNSYNC);
}

static void check_clock(struct fg_supervision *s)
{
	int r = s->clock_probe(s->clock_userdata);

	if (r < 0) {
		if (s->clock_state != -1)
			log_warning_errno(r, "Cannot tell whether the clock is synchronised: %m");
		s->clock_state = -1;
		return;
	}
	if (r != s->clock_state) {
		if (r)
			log_info("System clock synchronised");
		else
			log_notice("System clock not synchronised (yet)%s",
				   s->config->health.require_time_sync ? "" : "; not required");
	}
	s->clock_state = r;
	(void)fg_alarms_condition(s->alarms, FG_ALARM_COND_CLOCK_UNSYNCED, r == 0, now_mono(s));
	settle(s);
}

static int on_clock_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct fg_supervision *s = userdata;

	check_clock(s);
	(void)sd_event_source_set_time(src, usec + SUPERVISOR_CLOCK_CHECK);
	(void)sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	return 0;
}

void fg_supervision_set_clock_probe(struct fg_supervision *s, int (*probe)(void *userdata),
				   void *userdata)
{
	s->clock_probe = probe ? probe : adjtimex_probe;
	s->clock_userdata = userdata;
	check_clock(s);
}

/* ---- heartbeat ----------------------------------------------------------------- */

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
	delivery_facts(s, &d);
	fg_json_begin_object(j);
	fg_json_kv_string(j, "gateway", s->config->gateway.name);
	fg_json_kv_string(j, "version", FG_VERSION);
	fg_json_kv_string(j, "time", fg_format_rfc3339(fg_now_realtime(), t, sizeof(t)));
	fg_json_kv_uint(j, "uptime_s", (now_mono(s) - s->started) / FG_USEC_PER_SEC);
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

		target_status(s, i, &ts);
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
	if ((s->hb_in_a_row & (s->hb_in_a_row - 1)) == 0)
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
	uint64_t now = now_mono(s);

	heartbeat(s);
	/* a fixed rhythm; after a stall (suspend) start again from now */
	s->hb_next += s->config->health.heartbeat_interval_usec;
	if (s->hb_next <= now)
		s->hb_next = now + s->config->health.heartbeat_interval_usec;
	(void)sd_event_source_set_time(src, s->hb_next);
	(void)sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	return 0;
}

static int setup_heartbeat(struct fg_supervision *s)
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
		.timeout_usec = h->heartbeat_interval_usec / 2 < HEARTBEAT_TIMEOUT ?
				h->heartbeat_interval_usec / 2 : HEARTBEAT_TIMEOUT,
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
	s->hb_next = now_mono(s);
	return sd_event_add_time(s->event, &s->hb_timer, CLOCK_MONOTONIC, s->hb_next,
				 10 * FG_USEC_PER_MSEC, on_heartbeat_timer, s);
}

void fg_supervision_heartbeat_counts(const struct fg_supervision *s, unsigned long *ret_sent,
				    unsigned long *ret_failed)
{
	*ret_sent = s->hb_sent;
	*ret_failed = s->hb_failed;
}

/* ---- life cycle ---------------------------------------------------------------- */

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
	};
}

/* Alarms that were open before the restart: the owner hears of them again. */
static void show_restored(struct fg_supervision *s)
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
	c.subject[0] = '\0';
	for (int k = FG_ALARM_BLUETOOTH_GONE; k < _FG_ALARM_KIND_MAX; k++) {
		c.kind = k;
		if (fg_alarms_alarm_active(s->alarms, k, NULL))
			s->ops->alarm(s, &c, s->userdata);
	}
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
	s->clock_probe = adjtimex_probe;
	s->clock_state = -2;
	now = s->started = now_mono(s);
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
	r = sd_event_add_defer(e, &s->save, on_save, s);
	if (r >= 0)
		r = sd_event_source_set_priority(s->save, SD_EVENT_PRIORITY_IDLE);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->save, SD_EVENT_OFF);
	if (r < 0)
		goto fail;
	restore(s);
	show_restored(s);
	r = setup_heartbeat(s);
	if (r < 0) {
		log_error_errno(r, "Failed to set up the heartbeat: %m");
		goto fail;
	}
	r = sd_event_add_time(e, &s->clock_timer, CLOCK_MONOTONIC, now + SUPERVISOR_CLOCK_CHECK,
			      FG_USEC_PER_SEC, on_clock_timer, s);
	if (r < 0)
		goto fail;
	check_clock(s);
	/* the spool as found at start */
	delivery_facts(s, &d);
	(void)fg_alarms_spool_depth(s->alarms, d.spool_depth, now);
	settle(s);
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
	if (s->dirty && s->alarms && save_state(s) < 0)
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
	uint64_t now = now_mono(s);
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
		r = setup_heartbeat(s);
		if (r < 0)
			log_error_errno(r, "Failed to set up the heartbeat: %m");
	} else {
		/* the old config's URL string is gone with it */
		s->hb.url = c->health.heartbeat_url;
	}
	check_clock(s);
	mark_dirty(s);
	settle(s);
	return 0;
}

/* ---- status ------------------------------------------------------------------- */

int fg_supervision_button_info(const struct fg_supervision *s, const char *name,
			      struct fg_supervision_button *ret)
{
	const struct extra *x = find_extra(s, name);

	for (size_t i = 0; x && i < fg_alarms_n_buttons(s->alarms); i++) {
		struct fg_alarms_button_status st;

		if (fg_alarms_button_status(s->alarms, i, &st) < 0 || strcmp(st.name, name) != 0)
			continue;
		*ret = (struct fg_supervision_button){
			.last_seen_usec = st.seen ? to_realtime(s, st.last_seen_usec) : 0,
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

const char *fg_supervision_audit_dir(const struct fg_supervision *s)
{
	return s->audit_dir;
}
