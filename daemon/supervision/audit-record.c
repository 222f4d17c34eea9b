/* SPDX-License-Identifier: MIT */
/* One audit record: the versioned, tab-separated, escaped line it is kept as,
 * and its CSV export. Pure. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervision/audit-record.h"
#include "lib/macro.h"
#include "lib/timeutil.h"

#define AUDIT_VERSION "a1"

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

FG_DEFINE_STRING_TABLE(, fg_audit_kind, enum fg_audit_kind, kind_names)

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

int fg_audit_record_format(const struct fg_audit_entry *e, char line[static FG_AUDIT_LINE_MAX])
{
	char b[256], id[128], t[128], d[2048];
	int n;

	if (e->kind < 0 || e->kind >= _FG_AUDIT_KIND_MAX)
		return -EINVAL;
	escape(b, sizeof(b), e->button);
	escape(id, sizeof(id), e->alert_id);
	escape(t, sizeof(t), e->target);
	escape(d, sizeof(d), e->detail);
	n = snprintf(line, FG_AUDIT_LINE_MAX, AUDIT_VERSION "\t%" PRIu64 "\t%s\t%s\t%s\t%s\t%" PRIu64 "\t%s\n",
		     e->time_usec, kind_names[e->kind], b, id, t, e->latency_usec, d);
	if (n < 0)
		return -EINVAL;
	if (n >= FG_AUDIT_LINE_MAX) {
		/* truncated detail: keep the line well-formed */
		n = FG_AUDIT_LINE_MAX - 1;
		line[n - 1] = '\n';
	}
	return n;
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

int fg_audit_record_parse(char *line, struct fg_audit_entry *e)
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

static void csv_field(struct fg_strbuf *f, const char *s)
{
	if (!s)
		s = "";
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fg_strbuf_puts(f, s);
		return;
	}
	fg_strbuf_puts(f, "\"");
	for (; *s; s++) {
		if (*s == '"')
			fg_strbuf_puts(f, "\"");
		fg_strbuf_putn(f, s, 1);
	}
	fg_strbuf_puts(f, "\"");
}

void fg_audit_csv_header(struct fg_strbuf *f)
{
	fg_strbuf_puts(f, "time,event,button,alert_id,target,latency_ms,since_press_s,detail\r\n");
}

void fg_audit_csv_line(struct fg_strbuf *f, const struct fg_audit_entry *e, uint64_t since_press_usec)
{
	char t[FG_RFC3339_BUF];

	fg_strbuf_printf(f, "%s,%s,", fg_format_rfc3339(e->time_usec, t, sizeof(t)),
		fg_audit_kind_to_string(e->kind));
	csv_field(f, e->button);
	fg_strbuf_puts(f, ",");
	csv_field(f, e->alert_id);
	fg_strbuf_puts(f, ",");
	csv_field(f, e->target);
	fg_strbuf_printf(f, ",%.1f,", (double)e->latency_usec / 1000.0);
	if (since_press_usec)
		fg_strbuf_printf(f, "%.3f", (double)since_press_usec / 1e6);
	fg_strbuf_puts(f, ",");
	csv_field(f, e->detail);
	fg_strbuf_puts(f, "\r\n");
}
