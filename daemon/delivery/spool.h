/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "delivery/alert.h"

/*
 * The durable alert spool: one queue per webhook target, all kept in one
 * journal file, <state_dir>/spool/journal. The file is allocated ahead of
 * use (written with zeros and fsynced) and cut into 4 KiB slots; an alert
 * is one record (length, sequence number, target, CRC-32, then the text of
 * fg_alert_serialize()) written into free slots with one pwrite() and made
 * durable with one fdatasync() before fg_spool_add() returns. The file's
 * size and blocks do not change on that path, so no directory or inode
 * update has to reach the disk: one flush instead of the two of a new file.
 * A delivered alert's first slot is overwritten with zeros (not synced: a
 * crash may bring it back, to be delivered again with the same idempotency
 * key). Records that a target will never accept go to
 * <state_dir>/spool/dead/ as files, with a .reason file beside them.
 *
 * On load every slot is checked on its own: a record counts only if its
 * header, length and CRC agree, so a write torn by a power cut (which was
 * never acknowledged) reads as free space. Records never share a block
 * with another record, so writing one cannot damage another. See
 * docs/alerts.md for the format and the failure analysis.
 *
 * Queues written by older versions (one file per alert in
 * <state_dir>/spool/t-<target>/<seq>.alert) are read as well, delivered and
 * removed file by file; new alerts always go to the journal.
 *
 * When the disk is full (or the write fails otherwise) the entry stays in
 * memory, flagged not durable, and the spool is in alarm; fg_spool_flush()
 * retries the writes. Only past FG_SPOOL_MEMORY_MAX such entries is an add
 * refused (-ENOSPC): the caller must log that loss loudly.
 *
 * The spool does blocking file I/O of a few KiB per alert, like every
 * state file the daemon writes; it does no network I/O.
 */

#define FG_SPOOL_SLOT 4096		/* journal slot, one file system block */

#define FG_SPOOL_MEMORY_MAX 4096

struct fg_spool;

/* One queued alert for one target; owned by the spool. */
struct fg_spool_entry {
	uint64_t seq;
	const char *target;		/* lives as long as the spool */
	struct fg_alert alert;
	bool durable;			/* its record is on disk (synced) */
	/* Delivery bookkeeping, for the pipeline; the spool never reads it. */
	unsigned attempts;
	uint64_t next_attempt_usec;
	bool in_flight;
	/* spool-private: journal slots (n_slots 0: a file of an older version) */
	uint32_t slot, n_slots;
	struct fg_spool_entry *prev, *next;
};

/*
 * @dir is created (0700) if missing, and the journal in it. A journal that
 * exists but cannot be opened is an error (never replaced); one that cannot
 * be created (disk full) leaves the spool in memory-only alarm mode until
 * fg_spool_flush() manages it. *ret owned by caller (fg_spool_free).
 */
int fg_spool_new(const char *dir, unsigned max_entries, struct fg_spool **ret);
struct fg_spool *fg_spool_free(struct fg_spool *s);

/*
 * Read every queue back from disk, in sequence order. A slot that holds no
 * valid record is free space (torn writes were never acknowledged). A
 * record whose CRC holds but whose alert does not parse, and an older
 * version's file that does not parse, are moved to the dead-letter folder
 * with reason "unreadable", never deleted. Returns the number of entries
 * loaded.
 */
int fg_spool_load(struct fg_spool *s);

/*
 * Queue a copy of @a for @target. Returns 0 when the record is durable, 1
 * when the entry is kept in memory only (disk full or failing: alarm), or
 * -ENOSPC when even memory is exhausted (the alert is NOT queued), -ENOMEM.
 * *ret_entry (optional) points into the spool.
 */
int fg_spool_add(struct fg_spool *s, const char *target, const struct fg_alert *a,
		 struct fg_spool_entry **ret_entry);

/*
 * The same for each of the @n @targets, with one flush for all of them (a
 * button with two targets costs one fdatasync, not two). ret_results[i]
 * gets what fg_spool_add() would return for targets[i]; ret_entries[i]
 * (optional) the entry, NULL where the result is negative. Returns 0, or
 * -ENOMEM before anything was queued.
 */
int fg_spool_add_many(struct fg_spool *s, const char *const *targets, size_t n,
		      const struct fg_alert *a, int *ret_results,
		      struct fg_spool_entry **ret_entries);

/*
 * fg_spool_add_many() without the flush: the records are written (one
 * pwrite each) and queued, deliverable at once, and flushed by the next
 * fg_spool_commit(), which the caller must call before it lets anyone rely
 * on them (the pipeline: before the button is acknowledged). This lets the
 * requests go out while the flush runs. Results as for fg_spool_add_many();
 * 0 means "written, durable after the commit".
 */
int fg_spool_stage_many(struct fg_spool *s, const char *const *targets, size_t n,
			const struct fg_alert *a, int *ret_results,
			struct fg_spool_entry **ret_entries);

/*
 * Flush what was staged, with one fdatasync(). On failure (-EIO, -ENOSPC…)
 * the staged entries stay queued in memory only, counted by
 * fg_spool_not_durable() (alarm; fg_spool_flush() retries them). 0 when
 * nothing was staged.
 */
int fg_spool_commit(struct fg_spool *s);

/* Entries staged and not yet committed. */
size_t fg_spool_staged(const struct fg_spool *s);

/* Delivered: free its journal slot (or delete its file) and the entry. */
int fg_spool_remove(struct fg_spool *s, struct fg_spool_entry *e);

/*
 * Never deliverable as is: move to dead/t-<target>-<seq>.alert with
 * @reason in a .reason file; the entry is freed.
 */
int fg_spool_dead_letter(struct fg_spool *s, struct fg_spool_entry *e, const char *reason);

/* Retry writing the in-memory-only entries. Returns how many are still not durable. */
int fg_spool_flush(struct fg_spool *s);

/*
 * The journal record codec, pure (for the tests and the fuzzer). A record
 * is FG_SPOOL_RECORD_HEADER bytes of header, the target name, then the
 * alert text; it occupies ceil(size / FG_SPOOL_SLOT) slots.
 */
#define FG_SPOOL_RECORD_HEADER 32
#define FG_SPOOL_RECORD_MAX (64 * 1024)
struct fg_spool_record {
	uint64_t seq;
	const char *target;		/* points into the buffer, not NUL-terminated */
	size_t target_len;
	const char *text;		/* points into the buffer */
	size_t text_len;
	size_t size;			/* header + target + text */
};
/* *ret_buf (owned by the caller, free()) is zero-padded to whole slots. */
int fg_spool_record_encode(uint64_t seq, const char *target, const char *text, size_t len,
			   uint8_t **ret_buf, size_t *ret_n_slots);
/* 0 and *ret for a valid record at @buf (@avail bytes readable), else -EBADMSG. */
int fg_spool_record_decode(const uint8_t *buf, size_t avail, struct fg_spool_record *ret);

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
