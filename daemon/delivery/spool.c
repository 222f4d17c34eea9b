/* SPDX-License-Identifier: MIT */
/* The spool's journal store: alert records into the journal (spool-file.c),
 * the queues in memory, the scan at start-up, and dead/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delivery/spool-dead.h"
#include "delivery/spool-internal.h"
#include "lib/fileio.h"
#include "lib/statefile.h"
#include "lib/strv.h"

#define SLOT FG_SPOOL_SLOT

/* ---- queues ------------------------------------------------------------ */

int fg_spool_new(const char *dir, unsigned max_entries, struct fg_spool **ret)
{
	struct fg_spool *s;
	char *dead = NULL;
	int r;

	r = fg_statefile_mkdir(dir);
	if (r < 0)
		return r;
	if (asprintf(&dead, "%s/dead", dir) < 0)
		return -ENOMEM;
	r = fg_statefile_mkdir(dead);
	free(dead);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->max = max_entries;
	s->next_seq = 1;
	s->dir = strdup(dir);
	if (!s->dir || asprintf(&s->journal, "%s/journal", dir) < 0) {
		s->journal = NULL;
		fg_spool_free(s);
		return -ENOMEM;
	}
	r = spool_journal_open(s);
	if (r == -ENOENT) {
		/* a full disk may refuse it: alerts are then held in memory (alarm) */
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		r = spool_journal_ensure(s);
		if (r == -ENOMEM)
			goto fail;
		r = 0;
	}
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	fg_spool_free(s);
	return r;
}

struct fg_spool *fg_spool_free(struct fg_spool *s)
{
	if (!s)
		return NULL;
	fg_spool_queues_clear(&s->queues);
	spool_state_clear(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s->staged);
	free(s->used);
	free(s->journal);
	free(s->dir);
	free(s);
	return NULL;
}

/*
 * Write @e into its slots (taken now if it has none), without syncing. On
 * failure the slots stay reserved for @e: fg_spool_flush() writes the same
 * place again, so no second copy is left behind. A failed fdatasync may
 * have dropped the dirty pages, hence the rewrite before every retry.
 */
static int put_entry(struct fg_spool *s, struct fg_spool_entry *e)
{
	uint8_t *buf = NULL;
	char *text = NULL;
	size_t len, k;
	int r;

	r = fg_alert_serialize(&e->alert, &text, &len);
	if (r < 0)
		return r;
	r = fg_spool_record_encode(e->seq, e->target, text, len, &buf, &k);
	free(text);
	if (r < 0)
		return r;
	r = spool_put_slots(s, buf, k, &e->slot, &e->n_slots);
	free(buf);
	return r;
}

static int write_entry(struct fg_spool *s, struct fg_spool_entry *e)
{
	int r = put_entry(s, e);

	return r < 0 ? r : spool_sync(s);
}

/*
 * Free @e's slots: zero its first slot, unsynced. The next fdatasync (the
 * next alert) makes it durable; a crash before may bring the record back,
 * and the alert is delivered again with the same idempotency key.
 */
static int erase_entry(struct fg_spool *s, struct fg_spool_entry *e)
{
	static const uint8_t zeros[SLOT];
	int r = 0;

	if (e->n_slots == 0)
		return 0;
	if (s->fd >= 0) {
		r = fg_pwrite_all(s->fd, zeros, SLOT, (off_t)e->slot * SLOT);
		s->bytes_written += SLOT;
	}
	spool_slots_release(s, e->slot, e->n_slots);
	e->n_slots = 0;
	return r;
}

/* A staged entry that leaves the spool before its flush is no longer waited for. */
static void staged_forget(struct fg_spool *s, const struct fg_spool_entry *e)
{
	for (size_t i = 0; i < s->n_staged; i++)
		if (s->staged[i] == e) {
			s->staged[i] = s->staged[--s->n_staged];
			return;
		}
}

/* The entry has left the journal (erased or dead-lettered): drop it from memory. */
static void entry_gone(struct fg_spool *s, struct fg_spool_entry *e)
{
	if (!e->durable)
		s->not_durable--;
	fg_spool_queue_unlink(fg_spool_queues_find(&s->queues, e->target), e);
	s->depth--;
	fg_spool_entry_free(e);
	/* a journal a burst made big is rewritten small once it drains */
	(void)spool_maybe_compact(s);
}

static int add_entries(struct fg_spool *s, const char *const *targets, size_t n,
		       const struct fg_alert *a, bool stage, int *ret_results,
		       struct fg_spool_entry **ret_entries)
{
	struct fg_spool_entry **e = calloc(n ? n : 1, sizeof(*e));
	bool put = false;
	int sync_r = 0;

	if (!e)
		return -ENOMEM;
	if (stage && s->n_staged + n > s->staged_cap) {
		size_t cap = s->n_staged + n + 8;
		struct fg_spool_entry **st = reallocarray(s->staged, cap, sizeof(*st));

		if (st) {
			s->staged = st;
			s->staged_cap = cap;
		} else
			stage = false;	/* no room to remember them: flush now instead */
	}
	/* every record written first, then one flush for all */
	for (size_t i = 0; i < n; i++) {
		struct fg_spool_queue *q = fg_spool_queues_get(&s->queues, targets[i]);

		ret_results[i] = 0;
		if (!q) {
			ret_results[i] = fg_name_is_valid(targets[i]) ? -ENOMEM : -EINVAL;
			continue;
		}
		e[i] = calloc(1, sizeof(*e[i]));
		if (!e[i] || fg_alert_copy(a, &e[i]->alert) < 0) {
			free(e[i]);
			e[i] = NULL;
			ret_results[i] = -ENOMEM;
			continue;
		}
		e[i]->seq = s->next_seq++;
		e[i]->target = q->target;
		ret_results[i] = put_entry(s, e[i]);
		put = put || ret_results[i] >= 0;
	}
	if (put && !stage)
		sync_r = spool_sync(s);
	for (size_t i = 0; i < n; i++) {
		int r = ret_results[i] < 0 ? ret_results[i] : sync_r;

		if (!e[i])
			continue;
		if (r < 0) {
			if (r == -ENOMEM || r == -EINVAL || s->not_durable >= FG_SPOOL_MEMORY_MAX) {
				(void)erase_entry(s, e[i]);
				fg_spool_entry_free(e[i]);
				e[i] = NULL;
				ret_results[i] = r == -ENOMEM || r == -EINVAL ? r : -ENOSPC;
				continue;
			}
			/* ENOSPC, EDQUOT, EIO, EROFS: keep it in memory and say so. */
			e[i]->durable = false;
			s->not_durable++;
			ret_results[i] = 1;
		} else {
			/* staged: durable once fg_spool_commit() has flushed it */
			e[i]->durable = true;
			ret_results[i] = 0;
			if (stage)
				s->staged[s->n_staged++] = e[i];
		}
		fg_spool_queue_link(fg_spool_queues_find(&s->queues, e[i]->target), e[i]);
		s->depth++;
	}
	if (ret_entries)
		memcpy(ret_entries, e, n * sizeof(*e));
	free(e);
	return 0;
}

int fg_spool_stage_many(struct fg_spool *s, const char *const *targets, size_t n,
			const struct fg_alert *a, int *ret_results,
			struct fg_spool_entry **ret_entries)
{
	return add_entries(s, targets, n, a, true, ret_results, ret_entries);
}

int fg_spool_commit(struct fg_spool *s)
{
	int r;

	if (s->n_staged == 0 && s->states_staged == 0)
		return 0;
	r = spool_sync(s);
	if (r < 0)
		/*
		 * Already queued, perhaps already on the wire: keep them, in
		 * memory only (alarm), even beyond FG_SPOOL_MEMORY_MAX, which
		 * one batch can exceed at most.
		 */
		for (size_t i = 0; i < s->n_staged; i++) {
			s->staged[i]->durable = false;
			s->not_durable++;
		}
	s->n_staged = 0;
	spool_state_committed(s, r >= 0);
	if (r >= 0)
		(void)spool_maybe_compact(s);
	return r;
}

size_t fg_spool_staged(const struct fg_spool *s)
{
	return s->n_staged + s->states_staged;
}

int fg_spool_remove(struct fg_spool *s, struct fg_spool_entry *e)
{
	int r;

	staged_forget(s, e);

	r = erase_entry(s, e);
	entry_gone(s, e);
	return r < 0 ? r : 0;
}

/* Write @text as a dead letter with @reason, durably, and count it. */
static int write_dead(struct fg_spool *s, const char *target, uint64_t seq, const char *text,
		      size_t len, const char *reason)
{
	int r = fg_spool_dead_write(s->dir, target, seq, text, len, reason);

	if (r >= 0)
		s->dead++;
	return r;
}

int fg_spool_dead_letter(struct fg_spool *s, struct fg_spool_entry *e, const char *reason)
{
	char *text = NULL;
	size_t len;
	int r;

	staged_forget(s, e);

	/* the dead letter is durable before the slot is freed */
	r = fg_alert_serialize(&e->alert, &text, &len);
	if (r >= 0)
		r = write_dead(s, e->target, e->seq, text, len, reason);
	free(text);
	if (r >= 0)
		(void)erase_entry(s, e);
	if (r < 0)
		return r;
	entry_gone(s, e);
	return 0;
}

int fg_spool_flush(struct fg_spool *s)
{
	for (size_t i = 0; i < s->queues.n; i++)
		for (struct fg_spool_entry *e = s->queues.q[i].head; e; e = e->next) {
			if (e->durable)
				continue;
			if (write_entry(s, e) < 0)
				return (int)(s->not_durable + spool_state_not_durable(s));
			e->durable = true;
			s->not_durable--;
		}
	(void)spool_state_flush(s);
	return (int)(s->not_durable + spool_state_not_durable(s));
}

/* ---- loading ----------------------------------------------------------- */

static void seen_seq(struct fg_spool *s, uint64_t seq)
{
	if (seq >= s->next_seq)
		s->next_seq = seq + 1;
}

/* One slot's record, if valid: queue it. Returns the slots it covers (0: none). */
static int load_slot(struct fg_spool *s, size_t i, uint8_t **buf, size_t *cap, int *ret_loaded)
{
	struct fg_spool_record rec;
	struct fg_spool_entry *e;
	struct fg_spool_queue *q;
	size_t avail = (s->n_slots - i) * SLOT, want, k;
	char *target;
	ssize_t n;
	int r;

	*ret_loaded = 0;
	n = fg_pread_full(s->fd, *buf, SLOT, (off_t)i * SLOT);
	if (n < 0)
		return (int)n;
	want = fg_spool_record_wanted(*buf, (size_t)n, avail);
	if (want == 0)
		return 0;
	if (want > (size_t)n) {
		if (*cap < want) {
			uint8_t *b = realloc(*buf, FG_SPOOL_RECORD_MAX);

			if (!b)
				return -ENOMEM;
			*buf = b;
			*cap = FG_SPOOL_RECORD_MAX;
		}
		n = fg_pread_full(s->fd, *buf, want, (off_t)i * SLOT);
		if (n < 0)
			return (int)n;
	}
	if (fg_spool_record_decode(*buf, (size_t)n, &rec) < 0)
		return 0;
	k = fg_spool_record_slots(rec.size);
	seen_seq(s, rec.seq);
	if (rec.target_len > 1 && rec.target[0] == FG_SPOOL_STATE_PREFIX) {
		r = spool_state_loaded(s, rec.target + 1, rec.target_len - 1, rec.text, rec.text_len,
				       rec.seq, i, k);
		return r < 0 ? r : (int)k;
	}
	target = strndup(rec.target, rec.target_len);
	e = calloc(1, sizeof(*e));
	if (!target || !e) {
		free(target);
		free(e);
		return -ENOMEM;
	}
	e->seq = rec.seq;
	e->slot = (uint32_t)i;
	e->n_slots = (uint32_t)k;
	spool_slots_take(s, i, k);
	q = fg_name_is_valid(target) ? fg_spool_queues_get(&s->queues, target) : NULL;
	r = q ? fg_alert_parse(rec.text, rec.text_len, &e->alert) : -EBADMSG;
	if (r == -ENOMEM || (!q && fg_name_is_valid(target))) {
		spool_slots_release(s, i, k);
		free(target);
		free(e);
		return -ENOMEM;
	}
	if (r < 0) {
		/*
		 * The CRC holds but the contents do not parse (a newer
		 * writer, a bug): not ours to deliver or to delete. The raw
		 * text goes to dead/ for people, durably, then the slot is free.
		 */
		char reason[96];

		snprintf(reason, sizeof(reason), "unreadable spool record%s: %s\n",
			 q ? "" : " (invalid target name)", strerror(-r));
		r = write_dead(s, q ? target : "invalid", rec.seq, rec.text, rec.text_len, reason);
		if (r >= 0)
			(void)erase_entry(s, e);
		free(target);
		free(e);
		return r < 0 ? -EIO : (int)k;
	}
	free(target);
	e->target = q->target;
	e->durable = true;
	fg_spool_queue_link(q, e);
	s->depth++;
	*ret_loaded = 1;
	return (int)k;
}

static int load_journal(struct fg_spool *s)
{
	size_t cap = SLOT, ahead_first = 0, ahead_n = 0;
	uint8_t *buf = malloc(cap), *ahead = malloc(64 * SLOT);
	off_t start = 0, data_end = 0;
	ssize_t got;
	int r = 0, n = 0;

	if (!buf || !ahead) {
		free(buf);
		free(ahead);
		return -ENOMEM;
	}
	for (size_t i = 1; i < s->n_slots;) {
		int loaded;

		/* holes read as zeros, free slots: skip them unread */
		if ((off_t)i * SLOT >= data_end &&
		    (r = fg_file_data_run(s->fd, (off_t)i * SLOT, &start, &data_end)) <= 0)
			break;
		if ((size_t)(start / SLOT) > i && (i = (size_t)(start / SLOT)) >= s->n_slots)
			break;
		/* read ahead 64 slots at once: a slot no record starts in costs no read of its own */
		if (i < ahead_first || i >= ahead_first + ahead_n) {
			got = fg_pread_full(s->fd, ahead, 64 * SLOT, (off_t)i * SLOT);
			ahead_first = i;
			ahead_n = got > 0 ? (size_t)got / SLOT : 0;
		}
		if (i < ahead_first + ahead_n &&
		    fg_spool_record_wanted(ahead + (i - ahead_first) * SLOT, SLOT, SIZE_MAX) == 0) {
			i++;
			continue;
		}
		r = load_slot(s, i, &buf, &cap, &loaded);
		if (r < 0)
			break;
		n += loaded;
		i += r > 0 ? (size_t)r : 1;
		r = 0;
	}
	free(ahead);
	free(buf);
	for (s->free_hint = 1; s->free_hint < s->n_slots && s->used[s->free_hint];)
		s->free_hint++;
	return r < 0 ? r : n;
}

int fg_spool_load(struct fg_spool *s)
{
	struct dirent *de;
	uint64_t max_seq;
	size_t dead;
	DIR *d;
	int r = 0, n = 0;

	/* count what earlier runs dead-lettered; new sequence numbers go past theirs */
	r = fg_spool_dead_scan(s->dir, &dead, &max_seq);
	if (r < 0)
		return r;
	s->dead += dead;
	if (dead > 0 && max_seq > 0)
		seen_seq(s, max_seq);
	d = opendir(s->dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "journal.tmp.", 12) == 0)
			/* an interrupted creation */
			(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	if (s->fd >= 0) {
		r = load_journal(s);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

struct fg_spool_entry *fg_spool_first(const struct fg_spool *s, const char *target)
{
	const struct fg_spool_queue *q = fg_spool_queues_find(&s->queues, target);

	return q ? q->head : NULL;
}

size_t fg_spool_n_targets(const struct fg_spool *s)
{
	return s->queues.n;
}

const char *fg_spool_target(const struct fg_spool *s, size_t i)
{
	return i < s->queues.n ? s->queues.q[i].target : NULL;
}

size_t fg_spool_target_depth(const struct fg_spool *s, const char *target)
{
	const struct fg_spool_queue *q = fg_spool_queues_find(&s->queues, target);

	return q ? q->n : 0;
}

size_t fg_spool_depth(const struct fg_spool *s)
{
	return s->depth;
}

size_t fg_spool_not_durable(const struct fg_spool *s)
{
	return s->not_durable + spool_state_not_durable(s);
}

size_t fg_spool_dead_count(const struct fg_spool *s)
{
	return s->dead;
}

uint64_t fg_spool_bytes_written(const struct fg_spool *s)
{
	return s->bytes_written;
}

bool fg_spool_alarm(const struct fg_spool *s)
{
	return s->not_durable > 0 || spool_state_not_durable(s) > 0 || (s->max && s->depth > s->max);
}

unsigned fg_spool_max(const struct fg_spool *s)
{
	return s->max;
}

void fg_spool_set_max(struct fg_spool *s, unsigned max_entries)
{
	s->max = max_entries;
}
