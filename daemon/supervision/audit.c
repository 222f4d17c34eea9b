/* SPDX-License-Identifier: MIT */
/* The audit trail's file store: append with rotation, read across rotated
 * files (the record format is supervision/audit-record.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervision/audit.h"
#include "lib/fileio.h"
#include "lib/statefile.h"
#include "lib/timeutil.h"

#define PRESS_MEMORY 4096	/* alert ids remembered for response intervals */

struct fg_audit {
	char *dir;
	char *path;
	size_t max_bytes;
	unsigned keep;
	int fd;
	size_t size;
};


static int open_current(struct fg_audit *a)
{
	struct stat st;
	int r = fg_statefile_open(a->path, O_WRONLY | O_APPEND | O_CREAT, 0600, &a->fd);

	if (fg_statefile_foreign(r) && fg_statefile_set_aside(a->path, fg_statefile_foreign_str(r)) >= 0)
		r = fg_statefile_open(a->path, O_WRONLY | O_APPEND | O_CREAT, 0600, &a->fd);
	if (r < 0) {
		a->fd = -1;
		return r;
	}
	if (fstat(a->fd, &st) < 0) {
		r = -errno;
		close(a->fd);
		a->fd = -1;
		return r;
	}
	a->size = (size_t)st.st_size;
	return 0;
}

int fg_audit_open(const char *dir, size_t max_bytes, unsigned keep, struct fg_audit **ret)
{
	struct fg_audit *a;
	int r;

	if (max_bytes < 4096 || keep < 1 || keep > 99)
		return -EINVAL;
	r = fg_statefile_mkdir(dir);
	if (r < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	a->max_bytes = max_bytes;
	a->keep = keep;
	a->dir = strdup(dir);
	if (!a->dir || asprintf(&a->path, "%s/audit.log", dir) < 0) {
		a->path = NULL;
		fg_audit_free(a);
		return -ENOMEM;
	}
	r = open_current(a);
	if (r < 0) {
		fg_audit_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

struct fg_audit *fg_audit_free(struct fg_audit *a)
{
	if (!a)
		return NULL;
	if (a->fd >= 0) {
		fdatasync(a->fd);
		close(a->fd);
	}
	free(a->dir);
	free(a->path);
	free(a);
	return NULL;
}

static int rotate(struct fg_audit *a)
{
	char from[PATH_MAX], to[PATH_MAX];

	fdatasync(a->fd);
	close(a->fd);
	a->fd = -1;
	/* audit.log.keep falls off the end; the others move up one */
	for (unsigned i = a->keep; i >= 1; i--) {
		snprintf(to, sizeof(to), "%s.%u", a->path, i);
		if (i == 1)
			snprintf(from, sizeof(from), "%s", a->path);
		else
			snprintf(from, sizeof(from), "%s.%u", a->path, i - 1);
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	fg_fsync_dir_of(a->path);
	return open_current(a);
}

int fg_audit_append(struct fg_audit *a, const struct fg_audit_entry *e)
{
	char line[FG_AUDIT_LINE_MAX];
	int n;

	n = fg_audit_record_format(e, line);
	if (n < 0)
		return n;
	if (a->fd < 0) {
		int r = open_current(a);

		if (r < 0)
			return r;
	}
	if (a->size > 0 && a->size + (size_t)n > a->max_bytes) {
		int r = rotate(a);

		if (r < 0)
			return r;
	}
	/* O_APPEND and one write per line: a crash leaves at most a torn last line */
	for (size_t off = 0; off < (size_t)n; ) {
		ssize_t w = write(a->fd, line + off, (size_t)n - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	a->size += (size_t)n;
	return 0;
}

struct press_memo {
	char id[64];
	uint64_t at;
};

int fg_audit_read(const char *dir, uint64_t since, uint64_t until, fg_audit_cb cb,
		  void *userdata, unsigned *ret_skipped)
{
	struct press_memo *memo;
	size_t memo_next = 0;
	unsigned skipped = 0;
	int r = 0;

	memo = calloc(PRESS_MEMORY, sizeof(*memo));
	if (!memo)
		return -ENOMEM;
	/* oldest first: the highest-numbered rotated file down to the current one */
	for (int i = 99; i >= 0 && r >= 0; i--) {
		char path[PATH_MAX], *line = NULL;
		size_t cap = 0;
		ssize_t len;
		int fd = -1;
		FILE *f;

		if (i == 0)
			snprintf(path, sizeof(path), "%s/audit.log", dir);
		else
			snprintf(path, sizeof(path), "%s/audit.log.%d", dir, i);
		r = fg_statefile_open(path, O_RDONLY, 0, &fd);
		/* not ours (a link, …): never read through; it is set aside when next written */
		if (r == -ENOENT || fg_statefile_foreign(r)) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		f = fdopen(fd, "re");
		if (!f) {
			r = -errno;
			close(fd);
			break;
		}
		while ((len = getline(&line, &cap, f)) > 0) {
			struct fg_audit_entry e;
			uint64_t since_press = 0;

			if (line[len - 1] != '\n') {
				skipped++;	/* torn last line after a crash */
				continue;
			}
			line[len - 1] = '\0';
			if (fg_audit_record_parse(line, &e) < 0) {
				skipped++;
				continue;
			}
			if (e.kind == FG_AUDIT_PRESS && *e.alert_id) {
				struct press_memo *m = &memo[memo_next++ % PRESS_MEMORY];

				snprintf(m->id, sizeof(m->id), "%s", e.alert_id);
				m->at = e.time_usec;
			} else if (*e.alert_id) {
				for (size_t k = 0; k < PRESS_MEMORY; k++)
					if (memo[k].id[0] && strcmp(memo[k].id, e.alert_id) == 0 &&
					    memo[k].at <= e.time_usec) {
						since_press = e.time_usec - memo[k].at;
						break;
					}
			}
			if (e.time_usec < since || e.time_usec > until)
				continue;
			r = cb(&e, since_press, userdata);
			if (r < 0)
				break;
		}
		free(line);
		fclose(f);
	}
	free(memo);
	if (ret_skipped)
		*ret_skipped = skipped;
	return r < 0 ? r : 0;
}

