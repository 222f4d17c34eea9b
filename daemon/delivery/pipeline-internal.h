/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Inside the pipeline: its owner struct and the few helpers that its
 * parts share. pipeline.c owns the struct and performs delivery;
 * pipeline-alerts.c turns button events, test and supervision requests
 * into alerts through pipeline_enqueue(); pipeline-status.c answers the
 * status questions. The arrows point at pipeline.c (and
 * pipeline-status.c), never back; pipeline-state.c (the alert states
 * read at start-up) is called by pipeline.c and calls nothing of it.
 */

#include <systemd/sd-event.h>

#include "delivery/dispatch.h"
#include "delivery/pipeline.h"
#include "delivery/spool.h"
#include "delivery/webhook.h"

struct target {
	struct fg_pipeline *p;
	char *name;
	const struct fg_webhook_config *cfg;	/* NULL: orphaned queue */
	struct fg_dispatch_target d;		/* health, pauses, counters: dispatch.c's */
	sd_event_source *timer;
	uint64_t timer_at;
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
	struct fg_config *config;		/* a reference (fg_config_ref) */
	char *state_path;
	struct fg_mapping *mapping;
	struct fg_spool *spool;
	struct fg_dispatch *dispatch;
	struct fg_webhook *webhook;
	struct target *targets;
	size_t n_targets;
	struct delivery *deliveries;
	sd_event_source *flush_timer;
	sd_event_source *start;			/* first dispatch, deferred */
	sd_event_source *commit;		/* the batch's one flush, after the iteration's work */
	sd_event_source *commit_deadline;	/* ...or when the batch has waited long enough */
	bool commit_pending;			/* something was staged since the last commit */
	int batch_error;			/* a record of this batch is in memory only */
	fg_pipeline_commit_callback_t commit_cb;
	void *commit_userdata;
	bool alarm;
	unsigned long lost;
	fg_pipeline_callback_t cb;
	void *cb_userdata;
	struct fg_delivery_record history[FG_PIPELINE_HISTORY];
	size_t n_history, history_head;
};

void pipeline_emit(struct fg_pipeline *p, enum fg_pipeline_event_kind kind, const char *button,
		   const char *target, const struct fg_alert *a, long status);
/* @button's alert state changed: stage its record (flushed with the batch). */
void pipeline_stage_alert_state(struct fg_pipeline *p, const char *button);
/*
 * Queue @a for @b's targets (NULL: every target), or only @only (a
 * target's name): staged in the spool, flushed by
 * pipeline_send_then_commit(). Returns the number of alerts lost.
 */
unsigned pipeline_enqueue(struct fg_pipeline *p, const struct fg_button_config *b,
			  const struct fg_alert *a, const char *only);
/* Load the alert states: journal records, or alerts.state moved into the journal. */
void pipeline_load_alert_states(struct fg_pipeline *p);
/* Start the requests of what was staged; the batch's flush follows (group commit). */
void pipeline_send_then_commit(struct fg_pipeline *p);
/* One attempt's outcome into the delivery history (pipeline-status.c). */
void pipeline_record_history(struct fg_pipeline *p, const struct target *t,
			     const struct fg_spool_entry *e, enum fg_delivery_class cls,
			     const struct fg_webhook_result *r);
