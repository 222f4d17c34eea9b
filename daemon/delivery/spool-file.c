/* SPDX-License-Identifier: MIT */
/* The spool's journal file: its slots (taken, free, grown ahead of use),
 * positioned writes, the one flush, and compaction into a new file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delivery/spool-internal.h"
#include "delivery/spool-record.h"
#include "lib/fileio.h"
#include "lib/statefile.h"

#define SLOT FG_SPOOL_SLOT
/* The most the journal grows by at once (4 MiB); it doubles below that. */
#define GROW_MAX_SLOTS 1024

int spool_set_slots(struct fg_spool *s, size_t n)
{
	uint8_t *u = realloc(s->used, n ? n : 1);

	if (!u)
		return -ENOMEM;
	if (n > s->n_slots)
		memset(u + s->n_slots, 0, n - s->n_slots);
	s->used = u;
	s->n_slots = n;
	u[0] = 1;
	if (s->free_hint > n)
		s->free_hint = n;
	return 0;
}

/* Write @n zeroed slots from slot @first: allocated now, later writes change no metadata. */
static int write_zeros(int fd, size_t first, size_t n)
{
	static const uint8_t zeros[64 * 1024];
	off_t off = (off_t)first * SLOT, end = off + (off_t)n * SLOT;
	int r = 0;

	while (off < end && r >= 0) {
		size_t k = (size_t)(end - off) < sizeof(zeros) ? (size_t)(end - off) : sizeof(zeros);

		r = fg_pwrite_all(fd, zeros, k, off);
		off += (off_t)k;
	}
	return r;
}

/*
 * A new journal is made like any state file (temp file, fsync, rename,
 * directory fsync), already holding SPOOL_INITIAL_SLOTS zeroed slots; on a
 * full disk, just the header and one slot.
 */
static int journal_create(struct fg_spool *s)
{
	size_t tries[] = { 1 + SPOOL_INITIAL_SLOTS, 2 };
	int r = -ENOSPC;

	for (size_t i = 0; i < 2; i++) {
		uint8_t *b = calloc(tries[i], SLOT);

		if (!b)
			return -ENOMEM;
		fg_spool_journal_header(b);
		r = fg_statefile_write(s->journal, b, tries[i] * SLOT, 0600);
		free(b);
		if (r >= 0)
			break;
		if (r != -ENOSPC && r != -EDQUOT)
			return r;
	}
	if (r < 0)
		return r;
	r = fg_statefile_open(s->journal, O_RDWR, 0, &s->fd);
	if (r < 0)
		return r;
	s->n_slots = 0;
	s->free_hint = 1;
	return spool_set_slots(s, (size_t)lseek(s->fd, 0, SEEK_END) / SLOT);
}

int spool_journal_open(struct fg_spool *s)
{
	char head[64] = "";
	off_t size;
	ssize_t n;
	int r;

	r = fg_statefile_open_existing(s->journal, O_RDWR, &s->fd);
	if (r < 0)
		return r;
	n = fg_pread_full(s->fd, head, sizeof(head) - 1, 0);
	if (n < 0)
		return (int)n;
	/*
	 * A later format is left alone. A damaged header is not a reason
	 * to drop the records: they check themselves.
	 */
	if (fg_spool_journal_check(head, (size_t)n) < 0)
		return -EPROTONOSUPPORT;
	/* a hole at the end holds no record: a sparse journal of any size costs nothing */
	r = fg_file_cut_hole_tail(s->fd, (off_t)(1 + SPOOL_INITIAL_SLOTS) * SLOT, SLOT, &size);
	if (r < 0)
		return r;
	s->free_hint = 1;
	/*
	 * A last slot cut short (the file is never shorter than what was
	 * synced, but be kind to a copied or damaged file) is scanned too:
	 * a record that ends before the cut is still whole.
	 */
	return spool_set_slots(s, size > SLOT ? ((size_t)size + SLOT - 1) / SLOT : 1);
}

int spool_journal_ensure(struct fg_spool *s)
{
	int r;

	if (s->fd >= 0)
		return 0;
	/*
	 * A full disk refused it at start. (If it exists, it is the one we
	 * made and failed to open: it holds no record yet.)
	 */
	r = spool_journal_open(s);
	if (r == -ENOENT)
		r = journal_create(s);
	if (r < 0 && s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	return r;
}

/*
 * Add @add zeroed slots at the end and fsync: blocks allocated and
 * written now are what lets a record write skip metadata updates.
 */
static int journal_grow(struct fg_spool *s, size_t add)
{
	int r = write_zeros(s->fd, s->n_slots, add);

	if (r >= 0 && fsync(s->fd) < 0)
		r = -errno;
	if (r < 0) {
		/* give back what a full disk half allowed; the slots stay unused */
		if (ftruncate(s->fd, (off_t)s->n_slots * SLOT) < 0) {
			/* the next growth writes over it */
		}
		return r;
	}
	return spool_set_slots(s, s->n_slots + add);
}

void spool_slots_take(struct fg_spool *s, size_t first, size_t k)
{
	for (size_t i = first; i < first + k; i++)
		if (!s->used[i]) {
			s->used[i] = 1;
			s->n_used++;
		}
	if (first == s->free_hint)
		s->free_hint = first + k;
}

int64_t spool_slots_alloc(struct fg_spool *s, size_t k)
{
	size_t run = 0, i;
	size_t grow;
	int r;

	for (i = s->free_hint; i < s->n_slots; i++) {
		run = s->used[i] ? 0 : run + 1;
		if (run == k)
			break;
	}
	if (run < k) {
		/* the free run at the end counts towards the new space */
		size_t old = s->n_slots;

		grow = s->n_slots < GROW_MAX_SLOTS ? s->n_slots : GROW_MAX_SLOTS;
		if (grow < k - run)
			grow = k - run;
		r = journal_grow(s, grow);
		if ((r == -ENOSPC || r == -EDQUOT) && grow > k - run)
			r = journal_grow(s, k - run);
		if (r < 0)
			return r;
		i = old - run + k - 1;
	}
	i = i + 1 - k;
	spool_slots_take(s, i, k);
	return (int64_t)i;
}

void spool_slots_release(struct fg_spool *s, size_t first, size_t k)
{
	for (size_t i = first; i < first + k && i < s->n_slots; i++)
		if (s->used[i]) {
			s->used[i] = 0;
			s->n_used--;
		}
	if (first < s->free_hint)
		s->free_hint = first;
}

int spool_put_slots(struct fg_spool *s, const uint8_t *buf, size_t k, uint32_t *slot,
		    uint32_t *n_slots)
{
	int64_t at;
	int r;

	r = spool_journal_ensure(s);
	if (r < 0)
		return r;
	if (*n_slots != k) {
		if (*n_slots)
			spool_slots_release(s, *slot, *n_slots);
		*n_slots = 0;
		at = spool_slots_alloc(s, k);
		if (at < 0)
			return (int)at;
		*slot = (uint32_t)at;
		*n_slots = (uint32_t)k;
	}
	r = fg_pwrite_all(s->fd, buf, k * SLOT, (off_t)*slot * SLOT);
	if (r >= 0)
		s->bytes_written += k * SLOT;
	return r;
}

int spool_sync(struct fg_spool *s)
{
	if (s->fd < 0)
		return -EIO;
	return fdatasync(s->fd) < 0 ? -errno : 0;
}

/* ---- compaction ---------------------------------------------------------- */

/* One record to carry over: where it is, where it goes. */
struct move {
	uint32_t *slot;
	uint32_t n_slots;
	uint32_t to;
};

static int collect(struct fg_spool *s, struct move **ret, size_t *ret_n)
{
	size_t n = 0, cap = s->depth + s->n_states + 1;
	struct move *m = calloc(cap, sizeof(*m));

	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < s->queues.n; i++)
		for (struct fg_spool_entry *e = s->queues.q[i].head; e; e = e->next)
			if (e->durable && e->n_slots && n < cap)
				m[n++] = (struct move){ .slot = &e->slot, .n_slots = e->n_slots };
	for (size_t i = 0; i < s->n_states; i++)
		if (s->states[i].durable && s->states[i].n_slots && n < cap)
			m[n++] = (struct move){ .slot = &s->states[i].slot,
						.n_slots = s->states[i].n_slots };
	*ret = m;
	*ret_n = n;
	return 0;
}

/* Copy every record in @m into @fd, packed from slot 1, then zeros up to @total slots. */
static int copy_records(struct fg_spool *s, int fd, struct move *m, size_t n, size_t total)
{
	uint8_t *buf = malloc(FG_SPOOL_RECORD_MAX > SLOT ? FG_SPOOL_RECORD_MAX : SLOT);
	uint32_t at = 1;
	int r;

	if (!buf)
		return -ENOMEM;
	memset(buf, 0, SLOT);
	fg_spool_journal_header(buf);
	r = fg_pwrite_all(fd, buf, SLOT, 0);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		size_t len = (size_t)m[i].n_slots * SLOT;
		ssize_t got = fg_pread_full(s->fd, buf, len, (off_t)*m[i].slot * SLOT);

		if (got != (ssize_t)len) {
			r = got < 0 ? (int)got : -EIO;
			break;
		}
		r = fg_pwrite_all(fd, buf, len, (off_t)at * SLOT);
		m[i].to = at;
		at += m[i].n_slots;
	}
	free(buf);
	if (r >= 0)
		r = write_zeros(fd, at, total - at);
	return r;
}

int spool_maybe_compact(struct fg_spool *s)
{
	size_t n = 0, total;
	struct move *m = NULL;
	char *tmp = NULL;
	int fd = -1, r;

	if (s->fd < 0 || s->n_staged || s->states_staged ||
	    s->n_slots <= 1 + SPOOL_INITIAL_SLOTS || s->n_used * 4 >= s->n_slots)
		return 0;
	total = 1 + (2 * s->n_used > SPOOL_INITIAL_SLOTS ? 2 * s->n_used : SPOOL_INITIAL_SLOTS);
	if (total >= s->n_slots)
		return 0;
	r = collect(s, &m, &n);
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", s->journal) < 0) {
		tmp = NULL;
		r = -ENOMEM;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = fchmod(fd, 0600) < 0 ? -errno : 0;
	if (r >= 0)
		r = copy_records(s, fd, m, n, total);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && rename(tmp, s->journal) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(tmp);
		goto out;
	}
	/* renamed: the new file is the journal, whatever the directory flush says */
	(void)fg_fsync_dir_of(s->journal);
	close(s->fd);
	s->fd = fd;
	fd = -1;
	memset(s->used, 0, s->n_slots);
	s->n_used = 0;
	s->free_hint = 1;
	(void)spool_set_slots(s, total);	/* never grows: cannot fail */
	for (size_t i = 0; i < n; i++) {
		*m[i].slot = m[i].to;
		spool_slots_take(s, m[i].to, m[i].n_slots);
	}
	/* records that never reached the disk keep no place in the new file */
	for (size_t i = 0; i < s->queues.n; i++)
		for (struct fg_spool_entry *e = s->queues.q[i].head; e; e = e->next)
			if (!e->durable)
				e->n_slots = 0;
	for (size_t i = 0; i < s->n_states; i++)
		if (!s->states[i].durable)
			s->states[i].n_slots = 0;
	r = 1;
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(m);
	return r;
}
