/* SPDX-License-Identifier: MIT */
/* The spool's queues in memory: one list of entries per target, kept in
 * sequence order; the journal file is spool.c's. */
#include <stdlib.h>
#include <string.h>

#include "delivery/spool-queue.h"
#include "lib/strv.h"

struct fg_spool_queue *fg_spool_queues_find(const struct fg_spool_queues *qs, const char *target)
{
	for (size_t i = 0; i < qs->n; i++)
		if (strcmp(qs->q[i].target, target) == 0)
			return &qs->q[i];
	return NULL;
}

struct fg_spool_queue *fg_spool_queues_get(struct fg_spool_queues *qs, const char *target)
{
	struct fg_spool_queue *q = fg_spool_queues_find(qs, target), *n;

	if (q)
		return q;
	if (!fg_name_is_valid(target))
		return NULL;
	n = realloc(qs->q, (qs->n + 1) * sizeof(*n));
	if (!n)
		return NULL;
	qs->q = n;
	q = &n[qs->n];
	memset(q, 0, sizeof(*q));
	q->target = strdup(target);
	if (!q->target)
		return NULL;
	qs->n++;
	return q;
}

void fg_spool_entry_free(struct fg_spool_entry *e)
{
	fg_alert_clear(&e->alert);
	free(e);
}

void fg_spool_queues_clear(struct fg_spool_queues *qs)
{
	for (size_t i = 0; i < qs->n; i++) {
		struct fg_spool_entry *e = qs->q[i].head, *n;

		for (; e; e = n) {
			n = e->next;
			fg_spool_entry_free(e);
		}
		free(qs->q[i].target);
	}
	free(qs->q);
	qs->q = NULL;
	qs->n = 0;
}

void fg_spool_queue_link(struct fg_spool_queue *q, struct fg_spool_entry *e)
{
	struct fg_spool_entry *at = q->tail;

	while (at && at->seq > e->seq)
		at = at->prev;
	e->prev = at;
	e->next = at ? at->next : q->head;
	if (e->next)
		e->next->prev = e;
	else
		q->tail = e;
	if (at)
		at->next = e;
	else
		q->head = e;
	q->n++;
}

void fg_spool_queue_unlink(struct fg_spool_queue *q, struct fg_spool_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		q->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		q->tail = e->prev;
	q->n--;
}
