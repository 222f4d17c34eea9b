/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"

/*
 * The durable alert spool: one queue per webhook target, kept in
 * <state_dir>/spool/t-<target>/<seq>.alert (sequence numbers in 16 hex
 * digits, so names sort in order). A file is written with a temp file,
 * fsync, rename and a directory fsync before fg_spool_add() returns, and
 * removed only when the target has accepted the alert. Alerts that a
 * target will never accept go to <state_dir>/spool/dead/ with a .reason
 * file beside them.
 *
 * When the disk is full (or the write fails otherwise) the entry stays in
 * memory, flagged not durable, and the spool is in alarm; fg_spool_flush()
 * retries the writes. Only past FG_SPOOL_MEMORY_MAX such entries is an add
 * refused (-ENOSPC): the caller must log that loss loudly.
 *
 * The spool does blocking file I/O of a few hundred bytes per alert, like
 * every state file the daemon writes; it does no network I/O.
 */

#define FG_SPOOL_MEMORY_MAX 4096

struct fg_spool;

/* One queued alert for one target; owned by the spool. */
struct fg_spool_entry {
	uint64_t seq;
	const char *target;		/* lives as long as the spool */
	struct fg_alert alert;
	bool durable;			/* its file is on disk */
	/* Delivery bookkeeping, for the pipeline; the spool never reads it. */
	unsigned attempts;
	uint64_t next_attempt_usec;
	bool in_flight;
	/* queue links (spool-private) */
	struct fg_spool_entry *prev, *next;
};

/* @dir is created (0700) if missing. *ret owned by caller (fg_spool_free). */
int fg_spool_new(const char *dir, unsigned max_entries, struct fg_spool **ret);
struct fg_spool *fg_spool_free(struct fg_spool *s);

/*
 * Read every queue back from disk, in sequence order. Files that cannot be
 * parsed (a torn write from before a crash cannot happen, but a disk error
 * can) are moved to the dead-letter folder with reason "unreadable", never
 * deleted. Returns the number of entries loaded.
 */
int fg_spool_load(struct fg_spool *s);

/*
 * Queue a copy of @a for @target. Returns 0 when the file is durable, 1
 * when the entry is kept in memory only (disk full or failing: alarm), or
 * -ENOSPC when even memory is exhausted (the alert is NOT queued), -ENOMEM.
 * *ret_entry (optional) points into the spool.
 */
int fg_spool_add(struct fg_spool *s, const char *target, const struct fg_alert *a,
		 struct fg_spool_entry **ret_entry);

/* Delivered: delete the file and the entry. */
int fg_spool_remove(struct fg_spool *s, struct fg_spool_entry *e);

/*
 * Never deliverable as is: move to dead/t-<target>-<seq>.alert with
 * @reason in a .reason file; the entry is freed.
 */
int fg_spool_dead_letter(struct fg_spool *s, struct fg_spool_entry *e, const char *reason);

/* Retry writing the in-memory-only entries. Returns how many are still not durable. */
int fg_spool_flush(struct fg_spool *s);

/* Queue of @target in sequence order; NULL if empty. */
struct fg_spool_entry *fg_spool_first(const struct fg_spool *s, const char *target);
static inline struct fg_spool_entry *fg_spool_next(const struct fg_spool_entry *e)
{
	return e->next;
}

/* Targets that have (or had) a queue, including ones no longer configured. */
size_t fg_spool_n_targets(const struct fg_spool *s);
const char *fg_spool_target(const struct fg_spool *s, size_t i);
size_t fg_spool_target_depth(const struct fg_spool *s, const char *target);

size_t fg_spool_depth(const struct fg_spool *s);	/* all queues */
size_t fg_spool_not_durable(const struct fg_spool *s);
size_t fg_spool_dead_count(const struct fg_spool *s);	/* dead-lettered since start + found */
/* In alarm: over max_entries, or an entry is held in memory only. */
bool fg_spool_alarm(const struct fg_spool *s);
unsigned fg_spool_max(const struct fg_spool *s);
void fg_spool_set_max(struct fg_spool *s, unsigned max_entries);
const char *fg_spool_dir(const struct fg_spool *s);
