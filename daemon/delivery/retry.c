/* SPDX-License-Identifier: MIT */
/* Response classes, retry backoff, Retry-After parsing and the per-target
 * token bucket: the numbers of delivery, pure. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "delivery/retry.h"
#include "lib/macro.h"

enum fg_delivery_class fg_retry_classify(long status)
{
	if (status <= 0)
		return FG_DELIVERY_RETRY;
	if (status >= 200 && status < 300)
		return FG_DELIVERY_DONE;
	switch (status) {
	case 408:	/* request timeout */
	case 425:	/* too early */
	case 429:	/* too many requests */
		return FG_DELIVERY_RETRY;
	case 401:	/* the key is wrong or revoked */
	case 402:	/* account lapsed */
	case 403:
	case 404:	/* the URL or integration was deleted */
	case 405:	/* wrong method configured */
	case 407:	/* proxy credentials */
	case 410:
		return FG_DELIVERY_UNHEALTHY;
	}
	if (status >= 500)
		return FG_DELIVERY_RETRY;
	/*
	 * A redirect on a webhook means the URL is stale: following it with
	 * a POST is unsafe, so an operator has to fix the configuration.
	 */
	if (status >= 300 && status < 400)
		return FG_DELIVERY_UNHEALTHY;
	if (status >= 400)
		return FG_DELIVERY_DEAD;
	/* 1xx as a final status is a broken server; try again later. */
	return FG_DELIVERY_RETRY;
}

static const char *const delivery_class_table[] = {
	[FG_DELIVERY_DONE] = "done",
	[FG_DELIVERY_RETRY] = "retry",
	[FG_DELIVERY_DEAD] = "dead-letter",
	[FG_DELIVERY_UNHEALTHY] = "unhealthy",
};
FG_DEFINE_STRING_TABLE_TO(, fg_delivery_class, enum fg_delivery_class, delivery_class_table)

char *fg_retry_rejection_reason(long status, char *buf, size_t size)
{
	static const struct {
		long status;
		const char *phrase, *hint;
	} table[] = {
		{ 401, "Unauthorized", "check the key in url/routing_key" },
		{ 402, "Payment Required", "check the account of the target's service" },
		{ 403, "Forbidden", "check the key in url/routing_key and its permissions" },
		{ 404, "Not Found", "check url: the integration may have been deleted" },
		{ 405, "Method Not Allowed", "check url and preset" },
		{ 407, "Proxy Authentication Required", "check the proxy's credentials" },
		{ 410, "Gone", "check url: the integration was deleted" },
	};
	const char *phrase = "", *hint = "check url";

	for (size_t i = 0; i < FG_ELEMENTSOF(table); i++)
		if (table[i].status == status) {
			phrase = table[i].phrase;
			hint = table[i].hint;
		}
	if (status >= 300 && status < 400) {
		phrase = "Redirect";
		hint = "check url: redirects are not followed";
	}
	snprintf(buf, size, "HTTP %ld%s%s: %s", status, phrase[0] ? " " : "", phrase, hint);
	return buf;
}

uint64_t fg_retry_backoff(unsigned attempt, uint32_t random)
{
	return fg_retry_backoff_max(attempt, random, FG_RETRY_MAX_USEC);
}

uint64_t fg_retry_backoff_max(unsigned attempt, uint32_t random, uint64_t max_usec)
{
	uint64_t d = FG_RETRY_BASE_USEC, half;

	if (attempt == 0)
		attempt = 1;
	for (unsigned i = 1; i < attempt && d < max_usec; i++)
		d *= 2;
	if (d > max_usec)
		d = max_usec;
	half = d / 2;
	return d - half + (uint64_t)((double)half * ((double)random / 4294967296.0));
}

static int month_from_name(const char *m)
{
	static const char *const names[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};

	for (int i = 0; i < 12; i++)
		if (strcmp(m, names[i]) == 0)
			return i;
	return -1;
}

static int parse_http_date(const char *v, time_t *ret)
{
	char wday[16], mon[4], zone[4], tail;
	int d, y, h, mi, s, n = 0;
	struct tm tm = {};
	time_t t;

	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	if (sscanf(v, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &d, mon, &y, &h,
		   &mi, &s, zone, &n) == 8 && v[n] == '\0') {
	/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
	} else if (sscanf(v, "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3s%n", wday,
			  &d, mon, &y, &h, &mi, &s, zone, &n) == 8 && v[n] == '\0') {
		/* Two-digit years: the RFC 850 form predates 2000 in practice. */
		y += y < 70 ? 2000 : 1900;
	/* asctime: "Sun Nov  6 08:49:37 1994" */
	} else if (sscanf(v, "%3s %3s %2d %2d:%2d:%2d %4d%c", wday, mon, &d, &h, &mi,
			  &s, &y, &tail) == 7) {
		strcpy(zone, "GMT");
	} else {
		return -EINVAL;
	}
	if (strcmp(zone, "GMT") != 0)
		return -EINVAL;
	tm.tm_mon = month_from_name(mon);
	if (tm.tm_mon < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 ||
	    y < 1970 || y > 9999 || h < 0 || mi < 0 || s < 0)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = t;
	return 0;
}

int fg_retry_after_parse(const char *value, uint64_t now_realtime_usec,
			 uint64_t *ret_delay_usec)
{
	uint64_t delay;
	size_t len;
	time_t t;

	if (!value)
		return -EINVAL;
	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len && (value[len - 1] == ' ' || value[len - 1] == '\t' ||
		       value[len - 1] == '\r' || value[len - 1] == '\n'))
		len--;
	if (len == 0 || len > 64)
		return -EINVAL;

	if (strspn(value, "0123456789") == len) {
		uint64_t secs = 0;

		for (size_t i = 0; i < len; i++) {
			secs = secs * 10 + (uint64_t)(value[i] - '0');
			if (secs > FG_RETRY_AFTER_MAX_USEC / 1000000)
				break;
		}
		delay = secs * 1000000;
	} else {
		char buf[65];
		uint64_t when;

		memcpy(buf, value, len);
		buf[len] = '\0';
		if (parse_http_date(buf, &t) < 0)
			return -EINVAL;
		when = (uint64_t)t * 1000000;
		delay = when > now_realtime_usec ? when - now_realtime_usec : 0;
	}
	if (delay > FG_RETRY_AFTER_MAX_USEC)
		delay = FG_RETRY_AFTER_MAX_USEC;
	*ret_delay_usec = delay;
	return 0;
}

uint64_t fg_retry_delay(unsigned attempt, uint32_t random, bool has_retry_after,
			uint64_t retry_after_usec)
{
	uint64_t d = fg_retry_backoff(attempt, random);

	if (has_retry_after && retry_after_usec > d)
		d = retry_after_usec > FG_RETRY_AFTER_MAX_USEC ? FG_RETRY_AFTER_MAX_USEC
							     : retry_after_usec;
	return d;
}

void fg_ratelimit_init(struct fg_ratelimit *rl, double rate, double burst,
		       uint64_t now_usec)
{
	rl->rate = rate > 0 ? rate : 0;
	rl->burst = burst >= 1 ? burst : 1;
	rl->tokens = rl->burst;
	rl->last_usec = now_usec;
}

uint64_t fg_ratelimit_take(struct fg_ratelimit *rl, uint64_t now_usec)
{
	if (rl->rate <= 0)
		return 0;
	if (now_usec > rl->last_usec) {
		rl->tokens += (double)(now_usec - rl->last_usec) * rl->rate / 1e6;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last_usec = now_usec;
	}
	if (rl->tokens >= 1.0) {
		rl->tokens -= 1.0;
		return 0;
	}
	return (uint64_t)ceil((1.0 - rl->tokens) * 1e6 / rl->rate);
}

void fg_preset_rate_limit(enum fg_preset p, double configured, double *ret_rate,
			  double *ret_burst)
{
	double rate = 0, burst = 1;

	switch (p) {
	case FG_PRESET_ALERTOPS:
		/* No published limit; stay polite. */
		rate = 5;
		burst = 10;
		break;
	case FG_PRESET_PAGERDUTY:
		/* Events API v2: 120 events per minute per routing key. */
		rate = 2;
		burst = 4;
		break;
	case FG_PRESET_SLACK:
		/* Incoming webhooks: 1 message per second, short bursts allowed. */
		rate = 1;
		burst = 3;
		break;
	case FG_PRESET_NTFY:
		/* ntfy.sh: a burst of 60 requests, then one per 5 s. */
		rate = 0.2;
		burst = 60;
		break;
	case FG_PRESET_GENERIC:
		rate = 0;
		burst = 1;
		break;
	case _FG_PRESET_MAX:
		break;
	}
	if (configured > 0) {
		rate = configured;
		burst = configured < 1 ? 1 : ceil(configured);
	}
	*ret_rate = rate;
	*ret_burst = burst;
}
