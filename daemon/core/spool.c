/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "../lib/fileio.h"
#include "../lib/strv.h"

#define MAX_RECORD (64 * 1024)

struct queue {
	char *target;
	struct fg_spool_entry *head, *tail;
	size_t n;
};

struct fg_spool {
	char *dir;
	unsigned max;
	uint64_t next_seq;
	struct queue *queues;
	size_t n_queues;
	size_t depth;
	size_t not_durable;
	size_t dead;
};

int fg_spool_new(const char *dir, unsigned max_entries, struct fg_spool **ret)
{
	struct fg_spool *s;
	char *dead = NULL;
	int r;

	r = fg_mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	if (asprintf(&dead, "%s/dead", dir) < 0)
		return -ENOMEM;
	r = fg_mkdir_p(dead, 0700);
	free(dead);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dir = strdup(dir);
	if (!s->dir) {
		free(s);
		return -ENOMEM;
	}
	s->max = max_entries;
	s->next_seq = 1;
	*ret = s;
	return 0;
}

static void entry_free(struct fg_spool_entry *e)
{
	fg_alert_clear(&e->alert);
	free(e);
}

struct fg_spool *fg_spool_free(struct fg_spool *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_queues; i++) {
		struct fg_spool_entry *e = s->queues[i].head, *n;

		for (; e; e = n) {
			n = e->next;
			entry_free(e);
		}
		free(s->queues[i].target);
	}
	free(s->queues);
	free(s->dir);
	free(s);
	return NULL;
}

static struct queue *find_queue(const struct fg_spool *s, const char *target)
{
	for (size_t i = 0; i < s->n_queues; i++)
		if (strcmp(s->queues[i].target, target) == 0)
			return &s->queues[i];
	return NULL;
}

static struct queue *get_queue(struct fg_spool *s, const char *target)
{
	struct queue *q = find_queue(s, target), *n;
	char *dir = NULL;
	int r;

	if (q)
		return q;
	if (!fg_name_is_valid(target))
		return NULL;
	if (asprintf(&dir, "%s/t-%s", s->dir, target) < 0)
		return NULL;
	r = fg_mkdir_p(dir, 0700);
	free(dir);
	/* A full disk may refuse the directory: the queue still lives in memory. */
	(void)r;
	n = realloc(s->queues, (s->n_queues + 1) * sizeof(*n));
	if (!n)
		return NULL;
	s->queues = n;
	q = &n[s->n_queues];
	memset(q, 0, sizeof(*q));
	q->target = strdup(target);
	if (!q->target)
		return NULL;
	s->n_queues++;
	return q;
}

/* Insert keeping sequence order (appends are the common case). */
static void link_entry(struct queue *q, struct fg_spool_entry *e)
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

static void unlink_entry(struct queue *q, struct fg_spool_entry *e)
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

static int entry_path(const struct fg_spool *s, const struct fg_spool_entry *e,
		      char **ret)
{
	return asprintf(ret, "%s/t-%s/%016" PRIx64 ".alert", s->dir, e->target, e->seq) < 0
		? -ENOMEM : 0;
}

static int write_entry(struct fg_spool *s, struct fg_spool_entry *e)
{
	char *path = NULL, *text = NULL, *dir = NULL;
	size_t len;
	int r;

	r = fg_alert_serialize(&e->alert, &text, &len);
	if (r < 0)
		return r;
	r = entry_path(s, e, &path);
	if (r < 0)
		goto out;
	r = fg_write_file_atomic(path, text, len, 0600);
	if (r == -ENOENT) {
		/* the queue directory could not be made earlier (disk full) */
		if (asprintf(&dir, "%s/t-%s", s->dir, e->target) < 0) {
			r = -ENOMEM;
			goto out;
		}
		r = fg_mkdir_p(dir, 0700);
		if (r >= 0)
			r = fg_fsync_dir_of(dir);
		if (r >= 0)
			r = fg_write_file_atomic(path, text, len, 0600);
	}
out:
	free(dir);
	free(path);
	free(text);
	return r;
}

int fg_spool_add(struct fg_spool *s, const char *target, const struct fg_alert *a,
		 struct fg_spool_entry **ret_entry)
{
	struct fg_spool_entry *e;
	struct queue *q;
	int r;

	q = get_queue(s, target);
	if (!q)
		return fg_name_is_valid(target) ? -ENOMEM : -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	r = fg_alert_copy(a, &e->alert);
	if (r < 0) {
		free(e);
		return r;
	}
	e->seq = s->next_seq;
	e->target = q->target;
	r = write_entry(s, e);
	if (r < 0) {
		if (r == -ENOMEM || s->not_durable >= FG_SPOOL_MEMORY_MAX) {
			entry_free(e);
			return r == -ENOMEM ? r : -ENOSPC;
		}
		/* ENOSPC, EDQUOT, EIO, EROFS: keep it in memory and say so. */
		e->durable = false;
		s->not_durable++;
	} else {
		e->durable = true;
	}
	s->next_seq++;
	link_entry(q, e);
	s->depth++;
	if (ret_entry)
		*ret_entry = e;
	return e->durable ? 0 : 1;
}

int fg_spool_remove(struct fg_spool *s, struct fg_spool_entry *e)
{
	struct queue *q = find_queue(s, e->target);
	char *path = NULL;
	int r = 0;

	if (e->durable) {
		r = entry_path(s, e, &path);
		if (r >= 0 && unlink(path) < 0 && errno != ENOENT)
			r = -errno;
		free(path);
	} else {
		s->not_durable--;
	}
	/*
	 * The unlink is not fsynced: after a crash the file may come back
	 * and the alert be delivered a second time, with the same
	 * idempotency key. At least once, never zero times.
	 */
	unlink_entry(q, e);
	s->depth--;
	entry_free(e);
	return r < 0 ? r : 0;
}

int fg_spool_dead_letter(struct fg_spool *s, struct fg_spool_entry *e, const char *reason)
{
	struct queue *q = find_queue(s, e->target);
	char *from = NULL, *to = NULL, *why = NULL, *text = NULL;
	size_t len;
	int r = 0;

	if (asprintf(&to, "%s/dead/t-%s-%016" PRIx64 ".alert", s->dir, e->target, e->seq) < 0 ||
	    asprintf(&why, "%s/dead/t-%s-%016" PRIx64 ".reason", s->dir, e->target, e->seq) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (e->durable) {
		r = entry_path(s, e, &from);
		if (r < 0)
			goto out;
		if (rename(from, to) < 0)
			r = -errno;
	} else {
		r = fg_alert_serialize(&e->alert, &text, &len);
		if (r >= 0)
			r = fg_write_file_atomic(to, text, len, 0600);
		if (r >= 0)
			s->not_durable--;
	}
	if (r < 0)
		goto out;
	/* The reason is for people; losing it to a full disk loses nothing. */
	(void)fg_write_file_atomic(why, reason, strlen(reason), 0600);
	(void)fg_fsync_dir_of(to);
	unlink_entry(q, e);
	s->depth--;
	s->dead++;
	entry_free(e);
out:
	free(from);
	free(to);
	free(why);
	free(text);
	return r;
}

int fg_spool_flush(struct fg_spool *s)
{
	for (size_t i = 0; i < s->n_queues; i++)
		for (struct fg_spool_entry *e = s->queues[i].head; e; e = e->next) {
			if (e->durable)
				continue;
			if (write_entry(s, e) < 0)
				return (int)s->not_durable;
			e->durable = true;
			s->not_durable--;
		}
	return (int)s->not_durable;
}

static int load_file(struct fg_spool *s, struct queue *q, const char *dir, const char *name,
		     uint64_t seq)
{
	struct fg_spool_entry *e;
	char *path = NULL, *text = NULL;
	size_t len;
	int r;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	e = calloc(1, sizeof(*e));
	if (!e) {
		free(path);
		return -ENOMEM;
	}
	e->seq = seq;
	e->target = q->target;
	e->durable = true;
	r = fg_read_file(path, MAX_RECORD, &text, &len);
	if (r >= 0)
		r = fg_alert_parse(text, len, &e->alert);
	free(text);
	free(path);
	if (r == -ENOMEM) {
		free(e);
		return r;
	}
	link_entry(q, e);
	s->depth++;
	if (seq >= s->next_seq)
		s->next_seq = seq + 1;
	if (r < 0) {
		char reason[64];

		snprintf(reason, sizeof(reason), "unreadable spool file: %s\n", strerror(-r));
		return fg_spool_dead_letter(s, e, reason) < 0 ? -EIO : 0;
	}
	return 1;
}

static int load_queue(struct fg_spool *s, const char *target)
{
	struct queue *q;
	struct dirent *de;
	char *dir = NULL;
	DIR *d;
	int r = 0, n = 0;

	q = get_queue(s, target);
	if (!q)
		return -ENOMEM;
	if (asprintf(&dir, "%s/t-%s", s->dir, target) < 0)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) {
		r = -errno;
		free(dir);
		return r;
	}
	while ((de = readdir(d))) {
		uint64_t seq;
		int used = 0;

		if (sscanf(de->d_name, "%16" SCNx64 ".alert%n", &seq, &used) != 1 ||
		    used != 22 || de->d_name[used] != '\0') {
			/* leftover temp files of an interrupted atomic write */
			if (strstr(de->d_name, ".tmp."))
				(void)unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		r = load_file(s, q, dir, de->d_name, seq);
		if (r < 0)
			break;
		n += r;
	}
	closedir(d);
	free(dir);
	return r < 0 ? r : n;
}

int fg_spool_load(struct fg_spool *s)
{
	struct dirent *de;
	DIR *d;
	int r = 0, n = 0;

	/* count what earlier runs dead-lettered, before adding ours */
	{
		char *dead = NULL;

		if (asprintf(&dead, "%s/dead", s->dir) < 0)
			return -ENOMEM;
		d = opendir(dead);
		free(dead);
		if (d) {
			while ((de = readdir(d)))
				if (strstr(de->d_name, ".alert"))
					s->dead++;
			closedir(d);
		}
	}
	d = opendir(s->dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "t-", 2) != 0 || !fg_name_is_valid(de->d_name + 2))
			continue;
		r = load_queue(s, de->d_name + 2);
		if (r < 0)
			break;
		n += r;
	}
	closedir(d);
	if (r < 0)
		return r;

	return n;
}

struct fg_spool_entry *fg_spool_first(const struct fg_spool *s, const char *target)
{
	const struct queue *q = find_queue(s, target);

	return q ? q->head : NULL;
}

size_t fg_spool_n_targets(const struct fg_spool *s)
{
	return s->n_queues;
}

const char *fg_spool_target(const struct fg_spool *s, size_t i)
{
	return i < s->n_queues ? s->queues[i].target : NULL;
}

size_t fg_spool_target_depth(const struct fg_spool *s, const char *target)
{
	const struct queue *q = find_queue(s, target);

	return q ? q->n : 0;
}

size_t fg_spool_depth(const struct fg_spool *s)
{
	return s->depth;
}

size_t fg_spool_not_durable(const struct fg_spool *s)
{
	return s->not_durable;
}

size_t fg_spool_dead_count(const struct fg_spool *s)
{
	return s->dead;
}

bool fg_spool_alarm(const struct fg_spool *s)
{
	return s->not_durable > 0 || (s->max && s->depth > s->max);
}

unsigned fg_spool_max(const struct fg_spool *s)
{
	return s->max;
}

void fg_spool_set_max(struct fg_spool *s, unsigned max_entries)
{
	s->max = max_entries;
}

const char *fg_spool_dir(const struct fg_spool *s)
{
	return s->dir;
}
