/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Inside the spool: its owner struct and what its files share. spool.c
 * (alerts, the public calls) uses spool-state.c (the state records) and
 * spool-file.c (the journal file: slots, growth, compaction);
 * spool-state.c uses spool-file.c; never the other way.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "delivery/spool.h"
#include "delivery/spool-queue.h"

/* One state key's latest value (spool-state.c). */
struct spool_state {
	char *key;			/* owned */
	char *value;			/* owned, NUL-terminated, len bytes */
	size_t len;
	uint64_t seq;
	uint32_t slot, n_slots;		/* the latest record; n_slots 0: none on disk */
	uint32_t old_slot, old_n_slots;	/* the durable one it replaces, freed by the commit */
	bool durable;			/* the latest value is on disk (synced) */
	bool staged;			/* written since the last commit */
};

struct fg_spool {
	char *dir;
	char *journal;			/* path of the journal file */
	int fd;				/* -1: no journal yet (could not be created) */
	uint8_t *used;			/* per slot: 1 = taken; slot 0 is the file header */
	size_t n_slots;			/* slots in the file, header included */
	size_t n_used;			/* record slots taken */
	size_t free_hint;		/* no free slot below this one */
	unsigned max;
	uint64_t next_seq;
	struct fg_spool_queues queues;
	size_t depth;
	size_t not_durable;
	size_t dead;
	/* written by fg_spool_stage_many(), their flush still to come (fg_spool_commit) */
	struct fg_spool_entry **staged;
	size_t n_staged, staged_cap;
	/* state records (spool-state.c) */
	struct spool_state *states;
	size_t n_states;
	size_t states_staged;
	/* bytes handed to pwrite() for records, since start (docs: bytes per press) */
	uint64_t bytes_written;
};

/* ---- spool-file.c ---- */
#define SPOOL_INITIAL_SLOTS 64
int spool_set_slots(struct fg_spool *s, size_t n);
int spool_journal_open(struct fg_spool *s);
int spool_journal_ensure(struct fg_spool *s);
/* Find (or make) @k free consecutive slots: the first one, or -errno. */
int64_t spool_slots_alloc(struct fg_spool *s, size_t k);
void spool_slots_release(struct fg_spool *s, size_t first, size_t k);
void spool_slots_take(struct fg_spool *s, size_t first, size_t k);
/*
 * Write @buf (@k slots) at @*slot/@*n_slots, taking new slots when they
 * hold another size; on failure the slots stay reserved. Not synced.
 */
int spool_put_slots(struct fg_spool *s, const uint8_t *buf, size_t k, uint32_t *slot,
		    uint32_t *n_slots);
/* The one flush that makes what was put durable. */
int spool_sync(struct fg_spool *s);
/*
 * Rewrite the journal without its free space when few of its slots are
 * taken (a new file: temp, fsync, rename, directory fsync). Only between
 * batches (nothing staged). 1 compacted, 0 not needed, -errno (the old
 * journal stays in use).
 */
int spool_maybe_compact(struct fg_spool *s);

/* ---- spool-state.c ---- */
/* A state record found at load, at @slot (@k slots): kept if newest for its key. */
int spool_state_loaded(struct fg_spool *s, const char *key, size_t key_len, const char *value,
		       size_t len, uint64_t seq, size_t slot, size_t k);
/* After the commit's flush: @ok frees the replaced records; else the new ones are memory only. */
void spool_state_committed(struct fg_spool *s, bool ok);
void spool_state_clear(struct fg_spool *s);
/* Values held in memory only (their write or flush failed). */
size_t spool_state_not_durable(const struct fg_spool *s);
/* Retry writing the state values held in memory only; 0 or -errno (none synced). */
int spool_state_flush(struct fg_spool *s);
