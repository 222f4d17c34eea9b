/* SPDX-License-Identifier: MIT */
/* The pipeline's status: targets, the last deliveries, the spool's counters
 * and the open alerts, for the control API and the LEDs. */
#include <stdio.h>
#include <string.h>

#include "delivery/pipeline-internal.h"
#include "lib/timeutil.h"

void pipeline_record_history(struct fg_pipeline *p, const struct target *t,
			   const struct fg_spool_entry *e, enum fg_delivery_class cls,
			   const struct fg_webhook_result *r)
{
	struct fg_delivery_record *h;

	p->history_head = (p->history_head + FG_PIPELINE_HISTORY - 1) % FG_PIPELINE_HISTORY;
	h = &p->history[p->history_head];
	if (p->n_history < FG_PIPELINE_HISTORY)
		p->n_history++;
	memset(h, 0, sizeof(*h));
	snprintf(h->alert_id, sizeof(h->alert_id), "%s", e->alert.id);
	snprintf(h->idempotency_key, sizeof(h->idempotency_key), "%s", e->alert.idempotency_key);
	snprintf(h->button, sizeof(h->button), "%s", e->alert.button);
	snprintf(h->target, sizeof(h->target), "%s", t->name);
	h->state = e->alert.state;
	h->test = e->alert.test;
	h->result = cls;
	h->http_status = r ? r->http_status : 0;
	snprintf(h->error, sizeof(h->error), "%s", r ? r->error : "");
	h->latency_usec = r ? r->latency_usec : 0;
	h->attempt = e->attempts;
	h->realtime_usec = fg_now_realtime();
}

size_t fg_pipeline_n_targets(const struct fg_pipeline *p)
{
	return p->n_targets;
}

void fg_pipeline_target_status(const struct fg_pipeline *p, size_t i, struct fg_target_status *ret)
{
	const struct target *t = &p->targets[i];

	*ret = (struct fg_target_status){
		.name = t->name,
		.health = t->d.health,
		.depth = fg_spool_target_depth(p->spool, t->name),
		.in_flight = t->d.in_flight,
		.delivered = t->d.delivered,
		.dead = t->d.dead,
		.last_status = t->last_status,
		.last_error = t->last_error,
		.next_attempt_usec = fg_dispatch_next_attempt(&t->d, fg_spool_first(p->spool, t->name)),
	};
}

size_t fg_pipeline_n_deliveries(const struct fg_pipeline *p)
{
	return p->n_history;
}

const struct fg_delivery_record *fg_pipeline_delivery(const struct fg_pipeline *p, size_t i)
{
	if (i >= p->n_history)
		return NULL;
	return &p->history[(p->history_head + i) % FG_PIPELINE_HISTORY];
}

size_t fg_pipeline_spool_depth(const struct fg_pipeline *p)
{
	return fg_spool_depth(p->spool);
}

bool fg_pipeline_spool_alarm(const struct fg_pipeline *p)
{
	return fg_spool_alarm(p->spool);
}

size_t fg_pipeline_dead_count(const struct fg_pipeline *p)
{
	return fg_spool_dead_count(p->spool);
}

unsigned long fg_pipeline_lost_count(const struct fg_pipeline *p)
{
	return p->lost;
}

const struct fg_mapping *fg_pipeline_mapping(const struct fg_pipeline *p)
{
	return p->mapping;
}
