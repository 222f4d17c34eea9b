/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "delivery/alert.h"
#include "delivery/spool-record.h"

/*
 * The durable alert spool: one queue per webhook target, all kept in one
 * journal file, <state_dir>/spool/journal. The file is allocated ahead of
 * use (written with zeros and fsynced) and cut into 4 KiB slots; an alert
 * is one record (length, sequence number, target, CRC-32, then the text of
 * fg_alert_serialize(); spool-record.h) written into free slots with one
 * pwrite() and made durable with one fdatasync() by fg_spool_commit(). The file's
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
 * When the disk is full (or the write fails otherwise) the entry stays in
 * memory, flagged not durable, and the spool is in alarm; fg_spool_flush()
 * retries the writes. Only past FG_SPOOL_MEMORY_MAX such entries is an add
 * refused (-ENOSPC): the caller must log that loss loudly.
 *
 * The spool does blocking file I/O of a few KiB per alert, like every
 * state file the daemon writes; it does no network I/O.
 */

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
	/* spool-private: journal slots (n_slots 0: none, held in memory only) */
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
 * record whose CRC holds but whose alert does not parse is moved to the
 * dead-letter folder with reason "unreadable", never deleted. Returns the number of entries
 * loaded.
 */
int fg_spool_load(struct fg_spool *s);

/*
 * Queue a copy of @a for each of the @n @targets: the records are written
 * (one pwrite each) and queued, deliverable at once, and flushed by the
 * next fg_spool_commit() (one fdatasync for all), which the caller must
 * call before it lets anyone rely on them (the pipeline: before the button
 * is acknowledged). This lets the requests go out while the flush runs.
 * ret_results[i] for targets[i]: 0 written (durable after the commit), 1
 * kept in memory only (disk full or failing: alarm), -ENOSPC when even
 * memory is exhausted (the alert is NOT queued), -EINVAL for a target
 * name that is not a safe file name, -ENOMEM. ret_entries[i] (optional)
 * the entry, pointing into the spool, NULL where the result is negative.
 * Returns 0, or -ENOMEM before anything was queued.
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

/* Entries and state values staged and not yet committed. */
size_t fg_spool_staged(const struct fg_spool *s);

/* Delivered: free its journal slot and the entry. */
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
/*
 * State records: small named values kept in the same journal, so that a
 * press's alert, its button's event counter and its alert state reach the
 * disk with one flush (docs/alerts.md, "The journal"). A key is 1 to
 * FG_SPOOL_STATE_KEY_MAX bytes ("counter:aabbccddeeff", "alert:<button>");
 * its record is named FG_SPOOL_STATE_PREFIX + key, which no target name
 * starts with. On load the newest record of each key wins.
 */
#define FG_SPOOL_STATE_PREFIX '@'
#define FG_SPOOL_STATE_KEY_MAX 200

/*
 * Stage @key's new value (@len bytes): written now (one pwrite), durable
 * with the next fg_spool_commit(); the value it replaces stays on disk
 * until then. 0 written (or unchanged), 1 kept in memory only (disk full
 * or failing: alarm; fg_spool_flush() retries), -EINVAL for a bad key,
 * -ENOMEM.
 */
int fg_spool_stage_state(struct fg_spool *s, const char *key, const char *value, size_t len);
/* The latest value of @key (NUL-terminated, lives until the key is staged again); -ENOENT. */
int fg_spool_get_state(const struct fg_spool *s, const char *key, const char **ret,
		       size_t *ret_len);
size_t fg_spool_n_states(const struct fg_spool *s);
const char *fg_spool_state_key(const struct fg_spool *s, size_t i);
/* Bytes of records written since start (what the journal costs the disk). */
uint64_t fg_spool_bytes_written(const struct fg_spool *s);

/* In alarm: over max_entries, or an entry or state value is held in memory only. */
bool fg_spool_alarm(const struct fg_spool *s);
unsigned fg_spool_max(const struct fg_spool *s);
void fg_spool_set_max(struct fg_spool *s, unsigned max_entries);
