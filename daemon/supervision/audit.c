/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervision/audit.h"
#include "lib/fileio.h"
#include "lib/timeutil.h"

#define AUDIT_VERSION "a1"
#define LINE_MAX_BYTES 4096
#define PRESS_MEMORY 4096	/* alert ids remembered for response intervals */

struct fg_audit {
	char *dir;
	char *path;
	size_t max_bytes;
	unsigned keep;
	int fd;
	size_t size;
};

static const char *const kind_names[_FG_AUDIT_KIND_MAX] = {
	[FG_AUDIT_PRESS] = "press",
	[FG_AUDIT_DELIVERED] = "delivered",
	[FG_AUDIT_FAILED] = "failed",
	[FG_AUDIT_CLOSED] = "closed",
	[FG_AUDIT_TEST] = "test",
	[FG_AUDIT_ACK] = "ack",
	[FG_AUDIT_SUPERVISION_OPEN] = "supervision-open",
	[FG_AUDIT_SUPERVISION_CLOSE] = "supervision-close",
};

const char *fg_audit_kind_to_string(enum fg_audit_kind k)
{
	return k >= 0 && k < _FG_AUDIT_KIND_MAX ? kind_names[k] : NULL;
}

enum fg_audit_kind fg_audit_kind_from_string(const char *s)
{
	for (int k = 0; s && k < _FG_AUDIT_KIND_MAX; k++)
		if (strcmp(s, kind_names[k]) == 0)
			return k;
	return _FG_AUDIT_KIND_INVALID;
}

static int open_current(struct fg_audit *a)
{
	struct stat st;

	a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->fd < 0)
		return -errno;
	if (fstat(a->fd, &st) < 0) {
		int r = -errno;

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
	r = fg_mkdir_p(dir, 0700);
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

/* Tabs, newlines and backslashes would break the line format. */
static size_t escape(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 2 < size; s++) {
		switch (*s) {
		case '\t': out[n++] = '\\'; out[n++] = 't'; break;
		case '\n': out[n++] = '\\'; out[n++] = 'n'; break;
		case '\r': out[n++] = '\\'; out[n++] = 'r'; break;
		case '\\': out[n++] = '\\'; out[n++] = '\\'; break;
		default: out[n++] = *s; break;
		}
	}
	if (n == 0 && n + 1 < size)
		out[n++] = '-';	/* empty fields stay visible */
	out[n] = '\0';
	return n;
}

int fg_audit_append(struct fg_audit *a, const struct fg_audit_entry *e)
{
	char line[LINE_MAX_BYTES], b[256], id[128], t[128], d[2048];
	int n;

	if (e->kind < 0 || e->kind >= _FG_AUDIT_KIND_MAX)
		return -EINVAL;
	escape(b, sizeof(b), e->button);
	escape(id, sizeof(id), e->alert_id);
	escape(t, sizeof(t), e->target);
	escape(d, sizeof(d), e->detail);
	n = snprintf(line, sizeof(line), AUDIT_VERSION "\t%" PRIu64 "\t%s\t%s\t%s\t%s\t%" PRIu64 "\t%s\n",
		     e->time_usec, kind_names[e->kind], b, id, t, e->latency_usec, d);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(line)) {
		/* truncated detail: keep the line well-formed */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
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

static char *unescape(char *s)
{
	char *w = s;

	if (strcmp(s, "-") == 0) {
		*s = '\0';
		return s;
	}
	for (char *p = s; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			*w++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return s;
}

static int parse_line(char *line, struct fg_audit_entry *e)
{
	char *f[8], *save = NULL, *end;
	int n = 0;

	for (char *tok = strtok_r(line, "\t", &save); tok && n < 8; tok = strtok_r(NULL, "\t", &save))
		f[n++] = tok;
	if (n != 8 || strcmp(f[0], AUDIT_VERSION) != 0)
		return -EBADMSG;
	errno = 0;
	e->time_usec = strtoull(f[1], &end, 10);
	if (errno || *end)
		return -EBADMSG;
	e->kind = fg_audit_kind_from_string(f[2]);
	if (e->kind == _FG_AUDIT_KIND_INVALID)
		return -EBADMSG;
	e->button = unescape(f[3]);
	e->alert_id = unescape(f[4]);
	e->target = unescape(f[5]);
	e->latency_usec = strtoull(f[6], &end, 10);
	if (*end)
		return -EBADMSG;
	e->detail = unescape(f[7]);
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
		FILE *f;

		if (i == 0)
			snprintf(path, sizeof(path), "%s/audit.log", dir);
		else
			snprintf(path, sizeof(path), "%s/audit.log.%d", dir, i);
		f = fopen(path, "re");
		if (!f) {
			if (errno == ENOENT)
				continue;
			r = -errno;
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
			if (parse_line(line, &e) < 0) {
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

static void csv_field(FILE *f, const char *s)
{
	if (!s)
		s = "";
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void fg_audit_csv_header(FILE *f)
{
	fputs("time,event,button,alert_id,target,latency_ms,since_press_s,detail\r\n", f);
}

void fg_audit_csv_line(FILE *f, const struct fg_audit_entry *e, uint64_t since_press_usec)
{
	char t[FG_RFC3339_BUF];

	fprintf(f, "%s,%s,", fg_format_rfc3339(e->time_usec, t, sizeof(t)),
		fg_audit_kind_to_string(e->kind));
	csv_field(f, e->button);
	fputc(',', f);
	csv_field(f, e->alert_id);
	fputc(',', f);
	csv_field(f, e->target);
	fprintf(f, ",%.1f,", (double)e->latency_usec / 1000.0);
	if (since_press_usec)
		fprintf(f, "%.3f", (double)since_press_usec / 1e6);
	fputc(',', f);
	csv_field(f, e->detail);
	fputs("\r\n", f);
}
