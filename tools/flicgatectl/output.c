/* SPDX-License-Identifier: MIT */
/* Text and JSON output: times, "ago", aligned tables. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "lib/timeutil.h"

const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

const char *dash(const char *s)
{
	return s && s[0] ? s : "-";
}

static bool output_utc;

void fmt_set_utc(bool utc)
{
	output_utc = utc;
}

const char *fmt_time(uint64_t realtime_usec, char *buf, size_t size)
{
	time_t t = (time_t)(realtime_usec / FG_USEC_PER_SEC);
	struct tm tm;
	long off;

	if (realtime_usec == 0) {
		snprintf(buf, size, "never");
		return buf;
	}
	if (output_utc || !localtime_r(&t, &tm) || tm.tm_gmtoff == 0)
		return fg_format_rfc3339(realtime_usec, buf, size);
	off = tm.tm_gmtoff / 60;
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03u%c%02ld:%02ld", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(realtime_usec % FG_USEC_PER_SEC / 1000), off < 0 ? '-' : '+',
		 (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	return buf;
}

/* Coarse on purpose: "3min ago" reads better than "3min 12s 455ms ago". */
const char *fmt_ago(uint64_t realtime_usec, char *buf, size_t size)
{
	uint64_t now = fg_now_realtime(), d, s;

	if (realtime_usec == 0) {
		snprintf(buf, size, "never");
		return buf;
	}
	if (realtime_usec > now) {
		d = (realtime_usec - now) / FG_USEC_PER_SEC;
		if (d < 60)
			snprintf(buf, size, "in %llus", (unsigned long long)d);
		else
			snprintf(buf, size, "in %llumin %llus", (unsigned long long)(d / 60),
				 (unsigned long long)(d % 60));
		return buf;
	}
	s = (now - realtime_usec) / FG_USEC_PER_SEC;
	if (s < 60)
		snprintf(buf, size, "%llus ago", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%llumin ago", (unsigned long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, size, "%lluh %llumin ago", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, size, "%llud %lluh ago", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	return buf;
}

void json_time(struct fg_json *j, const char *key, uint64_t realtime_usec)
{
	char buf[FG_RFC3339_BUF];

	fg_json_key(j, key);
	if (realtime_usec == 0)
		fg_json_null(j);
	else
		fg_json_string(j, fg_format_rfc3339(realtime_usec, buf, sizeof(buf)));
}

void json_nint(struct fg_json *j, const char *key, int64_t v)
{
	fg_json_key(j, key);
	if (v)
		fg_json_int(j, v);
	else
		fg_json_null(j);
}

void json_nstring(struct fg_json *j, const char *key, const char *s)
{
	fg_json_kv_string(j, key, s && s[0] ? s : NULL);
}

/* ---- tables ---------------------------------------------------------------- */

struct table {
	size_t columns;
	char **cells;
	size_t n_cells;
};

struct table *table_new(size_t columns)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t) {
		fputs("flicgatectl: out of memory\n", stderr);
		exit(1);
	}
	t->columns = columns;
	return t;
}

void table_add(struct table *t, const char *cell)
{
	char **n = realloc(t->cells, (t->n_cells + 1) * sizeof(*n));

	if (!n || !(n[t->n_cells] = strdup(cell ? cell : ""))) {
		fputs("flicgatectl: out of memory\n", stderr);
		exit(1);
	}
	t->cells = n;
	t->n_cells++;
}

void table_addf(struct table *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	table_add(t, buf);
}

void table_add_nint(struct table *t, long long v)
{
	if (v)
		table_addf(t, "%lld", v);
	else
		table_add(t, "-");
}

/* Display width: counts UTF-8 sequences, not bytes (names may be UTF-8). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

void table_print(struct table *t, unsigned indent)
{
	size_t *w = calloc(t->columns, sizeof(*w));

	if (!w) {
		fputs("flicgatectl: out of memory\n", stderr);
		exit(1);
	}
	for (size_t i = 0; i < t->n_cells; i++) {
		size_t cw = width(t->cells[i]);

		if (cw > w[i % t->columns])
			w[i % t->columns] = cw;
	}
	for (size_t i = 0; i < t->n_cells; i++) {
		size_t col = i % t->columns;

		if (col == 0)
			printf("%*s", (int)indent, "");
		fputs(t->cells[i], stdout);
		if (col + 1 == t->columns || i + 1 == t->n_cells)
			putchar('\n');
		else
			printf("%*s", (int)(w[col] - width(t->cells[i]) + 2), "");
	}
	free(w);
}

struct table *table_free(struct table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n_cells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	return NULL;
}
