/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Inside supervision's adapter: struct fg_supervision, shared by the
 * supervision-*.c files, and the calls between them. Files call downwards
 * only: supervision.c → heartbeat, clock, test-window → alerts → state,
 * audit; nothing below calls back up.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "supervision/supervision.h"
#include "supervision/audit.h"
#include "delivery/webhook.h"
#include "lib/timeutil.h"

/* The trail: 1 MiB per file and 9 older files, so at most 10 MiB. */
#define AUDIT_FILE_BYTES (1024 * 1024)
#define AUDIT_KEEP 9
/* Last-seen times alone are saved at most this often (an SD card wears). */
#define SUPERVISION_SEEN_SAVE (5 * FG_USEC_PER_MIN)
/* The clock check; the kernel tells nobody when NTP synchronises it. */
#define SUPERVISION_CLOCK_CHECK (60 * FG_USEC_PER_SEC)
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
	int clock_state;		/* supervision/policy.h: FG_CLOCK_NEVER, …_STATE_UNKNOWN, 0, 1 */

	/* test-press window */
	sd_event_source *test_timer;
	bool test_open;
	uint64_t test_end;		/* CLOCK_REALTIME */
	char test_button[72];		/* "" every button */
};

static inline uint64_t supervision_now(const struct fg_supervision *s)
{
	uint64_t t;

	if (sd_event_now(s->event, CLOCK_MONOTONIC, &t) < 0)
		t = fg_now_monotonic();
	return t;
}

/* A CLOCK_MONOTONIC instant as CLOCK_REALTIME. */
static inline uint64_t supervision_to_realtime(const struct fg_supervision *s, uint64_t mono)
{
	uint64_t now = supervision_now(s), real = fg_now_realtime();

	if (mono > now)
		return real;
	return real > now - mono ? real - (now - mono) : 0;
}

static inline struct extra *supervision_find_extra(const struct fg_supervision *s, const char *name)
{
	for (size_t i = 0; name && i < s->n_extras; i++)
		if (strcmp(s->extras[i].name, name) == 0)
			return &s->extras[i];
	return NULL;
}

/* The owner's answers (struct fg_supervision_ops); empty without one. */
static inline void supervision_delivery_facts(struct fg_supervision *s,
					      struct fg_supervision_delivery *ret)
{
	*ret = (struct fg_supervision_delivery){ 0 };
	if (s->ops && s->ops->delivery)
		s->ops->delivery(s, ret, s->userdata);
}

static inline void supervision_target_status(struct fg_supervision *s, size_t i,
					     struct fg_target_status *ret)
{
	*ret = (struct fg_target_status){ .name = "", .last_error = "" };
	if (s->ops && s->ops->target)
		s->ops->target(s, i, ret, s->userdata);
}

/* supervision-audit.c: one record in the trail (none without a trail). */
void supervision_audit(struct fg_supervision *s, enum fg_audit_kind k, const char *button,
		       const char *alert_id, const char *target, uint64_t latency, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
/* The record a pipeline event leaves, if any. */
void supervision_audit_pipeline_event(struct fg_supervision *s, const struct fg_pipeline_event *ev);

/* supervision-state.c */
int supervision_state_init(struct fg_supervision *s);
int supervision_save_state(struct fg_supervision *s);
void supervision_restore(struct fg_supervision *s);
/* Alarms and battery readings: saved on the next idle loop iteration. */
void supervision_mark_dirty(struct fg_supervision *s);
/* Last-seen times alone: saved within SUPERVISION_SEEN_SAVE. */
void supervision_mark_seen_dirty(struct fg_supervision *s);

/* supervision-alerts.c */
void supervision_send_alert(struct fg_supervision *s, const char *name_id, bool on, const char *info,
			    enum fg_severity sev, uint64_t since_real, const char *subject);
/* Hand out what the core decided, then sleep until its next deadline. */
void supervision_settle(struct fg_supervision *s);
void supervision_show_restored(struct fg_supervision *s);

/* supervision-clock.c */
int supervision_clock_init(struct fg_supervision *s, uint64_t now);
void supervision_check_clock(struct fg_supervision *s);

/* supervision-heartbeat.c */
int supervision_setup_heartbeat(struct fg_supervision *s);
