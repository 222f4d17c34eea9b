/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "delivery/spool.h"

/*
 * The spool's queues in memory, pure: one list per target, in sequence
 * order. spool.c keeps them in step with the journal.
 */

struct fg_spool_queue {
	char *target;			/* owned; entries point at it */
	struct fg_spool_entry *head, *tail;
	size_t n;
};

struct fg_spool_queues {
	struct fg_spool_queue *q;
	size_t n;
};

/* @target's queue, or NULL. The pointer lives until the next fg_spool_queues_get(). */
struct fg_spool_queue *fg_spool_queues_find(const struct fg_spool_queues *qs, const char *target);
/* @target's queue, made if missing; NULL for a name that is not a safe file name, or ENOMEM. */
struct fg_spool_queue *fg_spool_queues_get(struct fg_spool_queues *qs, const char *target);
/* Free every entry (fg_spool_entry_free) and queue. */
void fg_spool_queues_clear(struct fg_spool_queues *qs);

/* Insert @e keeping sequence order (appends are the common case). */
void fg_spool_queue_link(struct fg_spool_queue *q, struct fg_spool_entry *e);
void fg_spool_queue_unlink(struct fg_spool_queue *q, struct fg_spool_entry *e);

/* An entry and its alert. */
void fg_spool_entry_free(struct fg_spool_entry *e);
