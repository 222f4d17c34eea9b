/* SPDX-License-Identifier: MIT */
/* Durations as text, RFC 3339 timestamps and the clocks the daemon reads. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/timeutil.h"

static const struct {
	const char *suffix;
	uint64_t usec;
} units[] = {
	/* longest suffixes first so "ms" is not read as "m" + garbage */
	{ "usec", 1 },
	{ "us", 1 },
	{ "msec", FG_USEC_PER_MSEC },
	{ "ms", FG_USEC_PER_MSEC },
	{ "seconds", FG_USEC_PER_SEC },
	{ "second", FG_USEC_PER_SEC },
	{ "sec", FG_USEC_PER_SEC },
	{ "s", FG_USEC_PER_SEC },
	{ "minutes", FG_USEC_PER_MIN },
	{ "minute", FG_USEC_PER_MIN },
	{ "min", FG_USEC_PER_MIN },
	{ "m", FG_USEC_PER_MIN },
	{ "hours", FG_USEC_PER_HOUR },
	{ "hour", FG_USEC_PER_HOUR },
	{ "h", FG_USEC_PER_HOUR },
	{ "days", 24 * FG_USEC_PER_HOUR },
	{ "day", 24 * FG_USEC_PER_HOUR },
	{ "d", 24 * FG_USEC_PER_HOUR },
};

int fg_parse_duration(const char *s, uint64_t *ret_usec)
{
	uint64_t total = 0;
	bool any = false;
	const char *p = s;

	if (!s)
		return -EINVAL;
	for (;;) {
		unsigned long long v;
		uint64_t mult = 0;
		size_t ulen = 0;
		char *end;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno == ERANGE)
			return -ERANGE;
		p = end;
		while (*p == ' ')
			p++;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].suffix);

			if (strncmp(p, units[i].suffix, n) == 0 &&
			    !isalpha((unsigned char)p[n])) {
				mult = units[i].usec;
				ulen = n;
				break;
			}
		}
		if (mult == 0) {
			/* a bare number is seconds, but only on its own */
			if (any || (*p != '\0' && !isspace((unsigned char)*p)))
				return -EINVAL;
			while (isspace((unsigned char)*p))
				p++;
			if (*p != '\0')
				return -EINVAL;
			mult = FG_USEC_PER_SEC;
		}
		if (v > (UINT64_MAX - 1 - total) / mult)
			return -ERANGE;
		total += v * mult;
		p += ulen;
		any = true;
	}
	if (!any)
		return -EINVAL;
	*ret_usec = total;
	return 0;
}

const char *fg_format_duration(uint64_t usec, char *buf, size_t size)
{
	static const struct {
		const char *suffix;
		uint64_t usec;
	} parts[] = {
		{ "d", 24 * FG_USEC_PER_HOUR }, { "h", FG_USEC_PER_HOUR },
		{ "min", FG_USEC_PER_MIN }, { "s", FG_USEC_PER_SEC },
		{ "ms", FG_USEC_PER_MSEC }, { "us", 1 },
	};
	size_t off = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (usec == FG_USEC_INFINITY) {
		snprintf(buf, size, "infinity");
		return buf;
	}
	if (usec == 0) {
		snprintf(buf, size, "0");
		return buf;
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && usec > 0; i++) {
		uint64_t n = usec / parts[i].usec;
		int w;

		if (n == 0)
			continue;
		usec -= n * parts[i].usec;
		w = snprintf(buf + off, size - off, "%s%llu%s", off ? " " : "",
			     (unsigned long long)n, parts[i].suffix);
		if (w < 0 || (size_t)w >= size - off)
			break;
		off += (size_t)w;
	}
	return buf;
}

static uint64_t now_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * FG_USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t fg_now_monotonic(void)
{
	return now_clock(CLOCK_MONOTONIC);
}

uint64_t fg_now_realtime(void)
{
	return now_clock(CLOCK_REALTIME);
}

const char *fg_format_rfc3339(uint64_t realtime_usec, char *buf, size_t size)
{
	time_t sec = (time_t)(realtime_usec / FG_USEC_PER_SEC);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec,
		 (unsigned)(realtime_usec % FG_USEC_PER_SEC / 1000));
	return buf;
}
