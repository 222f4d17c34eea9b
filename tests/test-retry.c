/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "delivery/retry.h"

#define SEC UINT64_C(1000000)

static void test_classify(void **state)
{
	static const struct {
		long status;
		enum fg_delivery_class c;
	} cases[] = {
		{ 0, FG_DELIVERY_RETRY }, { 200, FG_DELIVERY_DONE }, { 201, FG_DELIVERY_DONE },
		{ 202, FG_DELIVERY_DONE }, { 204, FG_DELIVERY_DONE }, { 299, FG_DELIVERY_DONE },
		{ 408, FG_DELIVERY_RETRY }, { 425, FG_DELIVERY_RETRY }, { 429, FG_DELIVERY_RETRY },
		{ 500, FG_DELIVERY_RETRY }, { 502, FG_DELIVERY_RETRY }, { 503, FG_DELIVERY_RETRY },
		{ 599, FG_DELIVERY_RETRY }, { 400, FG_DELIVERY_DEAD }, { 415, FG_DELIVERY_DEAD },
		{ 422, FG_DELIVERY_DEAD }, { 413, FG_DELIVERY_DEAD }, { 409, FG_DELIVERY_DEAD },
		{ 401, FG_DELIVERY_UNHEALTHY }, { 402, FG_DELIVERY_UNHEALTHY },
		{ 403, FG_DELIVERY_UNHEALTHY }, { 404, FG_DELIVERY_UNHEALTHY },
		{ 410, FG_DELIVERY_UNHEALTHY }, { 301, FG_DELIVERY_UNHEALTHY },
		{ 308, FG_DELIVERY_UNHEALTHY }, { 100, FG_DELIVERY_RETRY },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		if (fg_retry_classify(cases[i].status) != cases[i].c)
			fail_msg("status %ld classified %s", cases[i].status,
				 fg_delivery_class_to_string(fg_retry_classify(cases[i].status)));
	for (int c = 0; c < _FG_DELIVERY_CLASS_MAX; c++)
		assert_non_null(fg_delivery_class_to_string(c));
}

static void test_backoff(void **state)
{
	/* attempt n: nominal 2^(n-1) s, jitter in the upper half. */
	assert_int_equal(fg_retry_backoff(1, 0), SEC / 2);
	assert_int_equal(fg_retry_backoff(1, UINT32_MAX), SEC - 1);
	assert_int_equal(fg_retry_backoff(2, 0), SEC);
	assert_int_equal(fg_retry_backoff(3, 0), 2 * SEC);
	assert_int_equal(fg_retry_backoff(4, 1u << 31), 6 * SEC);
	assert_int_equal(fg_retry_backoff(9, 0), 128 * SEC);
	/* capped */
	assert_int_equal(fg_retry_backoff(10, 0), FG_RETRY_MAX_USEC / 2);
	assert_int_equal(fg_retry_backoff(1000, 0), FG_RETRY_MAX_USEC / 2);
	assert_true(fg_retry_backoff(1000, UINT32_MAX) < FG_RETRY_MAX_USEC);
	assert_true(fg_retry_backoff(1000, UINT32_MAX) > FG_RETRY_MAX_USEC - SEC);
	/* monotonic in the nominal value */
	for (unsigned a = 1; a < 20; a++)
		assert_true(fg_retry_backoff(a + 1, 0) >= fg_retry_backoff(a, 0));
}

static void test_retry_after_seconds(void **state)
{
	uint64_t d;

	assert_int_equal(fg_retry_after_parse("120", 0, &d), 0);
	assert_int_equal(d, 120 * SEC);
	assert_int_equal(fg_retry_after_parse(" 0 ", 0, &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(fg_retry_after_parse("99999999999999999999999", 0, &d), 0);
	assert_int_equal(d, FG_RETRY_AFTER_MAX_USEC);
	assert_int_equal(fg_retry_after_parse("-5", 0, &d), -EINVAL);
	assert_int_equal(fg_retry_after_parse("1.5", 0, &d), -EINVAL);
	assert_int_equal(fg_retry_after_parse("", 0, &d), -EINVAL);
	assert_int_equal(fg_retry_after_parse(NULL, 0, &d), -EINVAL);
	assert_int_equal(fg_retry_after_parse("soon", 0, &d), -EINVAL);
}

static void test_retry_after_date(void **state)
{
	/* 1994-11-06T08:49:37Z */
	const uint64_t t = UINT64_C(784111777) * SEC;
	uint64_t d;

	assert_int_equal(fg_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", t - 30 * SEC, &d), 0);
	assert_int_equal(d, 30 * SEC);
	assert_int_equal(fg_retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", t - 5 * SEC, &d), 0);
	assert_int_equal(d, 5 * SEC);
	assert_int_equal(fg_retry_after_parse("Sun Nov  6 08:49:37 1994", t - SEC, &d), 0);
	assert_int_equal(d, SEC);
	/* in the past */
	assert_int_equal(fg_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", t + 10 * SEC, &d), 0);
	assert_int_equal(d, 0);
	/* far future is capped */
	assert_int_equal(fg_retry_after_parse("Fri, 01 Jan 2100 00:00:00 GMT", t, &d), 0);
	assert_int_equal(d, FG_RETRY_AFTER_MAX_USEC);
	assert_int_equal(fg_retry_after_parse("Sun, 06 Nov 1994 08:49:37 CET", t, &d), -EINVAL);
	assert_int_equal(fg_retry_after_parse("Sun, 06 Foo 1994 08:49:37 GMT", t, &d), -EINVAL);
	assert_int_equal(fg_retry_after_parse("Sun, 36 Nov 1994 08:49:37 GMT", t, &d), -EINVAL);
	assert_int_equal(fg_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT x", t, &d), -EINVAL);
}

static void test_delay(void **state)
{
	assert_int_equal(fg_retry_delay(1, 0, false, 0), SEC / 2);
	assert_int_equal(fg_retry_delay(1, 0, true, 30 * SEC), 30 * SEC);
	/* Retry-After shorter than the backoff does not shorten it. */
	assert_int_equal(fg_retry_delay(5, 0, true, SEC), 8 * SEC);
	assert_int_equal(fg_retry_delay(1, 0, true, 10 * FG_RETRY_AFTER_MAX_USEC),
			 FG_RETRY_AFTER_MAX_USEC);
}

static void test_ratelimit(void **state)
{
	struct fg_ratelimit rl;
	uint64_t now = 1000 * SEC;

	fg_ratelimit_init(&rl, 2, 4, now);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fg_ratelimit_take(&rl, now), 0);
	assert_int_equal(fg_ratelimit_take(&rl, now), SEC / 2);
	assert_int_equal(fg_ratelimit_take(&rl, now + SEC / 4), SEC / 4);
	assert_int_equal(fg_ratelimit_take(&rl, now + SEC / 2), 0);
	/* sustained: 2 per second over ten seconds */
	{
		unsigned sent = 0;

		for (uint64_t t = now + SEC; t < now + 11 * SEC; t += SEC / 100)
			if (fg_ratelimit_take(&rl, t) == 0)
				sent++;
		assert_in_range(sent, 20, 22);
	}
	/* unlimited */
	fg_ratelimit_init(&rl, 0, 1, now);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(fg_ratelimit_take(&rl, now), 0);
	/* time going backwards never adds tokens */
	fg_ratelimit_init(&rl, 1, 1, now);
	assert_int_equal(fg_ratelimit_take(&rl, now), 0);
	assert_true(fg_ratelimit_take(&rl, now - SEC) > 0);
}

static void test_preset_limits(void **state)
{
	double rate, burst;

	fg_preset_rate_limit(FG_PRESET_PAGERDUTY, 0, &rate, &burst);
	assert_true(rate == 2);
	fg_preset_rate_limit(FG_PRESET_SLACK, 0, &rate, &burst);
	assert_true(rate == 1);
	fg_preset_rate_limit(FG_PRESET_NTFY, 0, &rate, &burst);
	assert_true(rate == 0.2 && burst == 60);
	fg_preset_rate_limit(FG_PRESET_GENERIC, 0, &rate, &burst);
	assert_true(rate == 0);
	fg_preset_rate_limit(FG_PRESET_SLACK, 7.5, &rate, &burst);
	assert_true(rate == 7.5 && burst == 8);
	fg_preset_rate_limit(FG_PRESET_NTFY, 0.1, &rate, &burst);
	assert_true(rate == 0.1 && burst == 1);
}

/* What status shows for a target that refuses us: the status, its name, what to check. */
static void test_rejection_reason(void **state)
{
	char buf[128], tiny[12];

	assert_string_equal(fg_retry_rejection_reason(401, buf, sizeof(buf)),
			    "HTTP 401 Unauthorized: check the key in url/routing_key");
	assert_string_equal(fg_retry_rejection_reason(403, buf, sizeof(buf)),
			    "HTTP 403 Forbidden: check the key in url/routing_key and its permissions");
	assert_string_equal(fg_retry_rejection_reason(410, buf, sizeof(buf)),
			    "HTTP 410 Gone: check url: the integration was deleted");
	assert_string_equal(fg_retry_rejection_reason(308, buf, sizeof(buf)),
			    "HTTP 308 Redirect: check url: redirects are not followed");
	assert_string_equal(fg_retry_rejection_reason(499, buf, sizeof(buf)), "HTTP 499: check url");
	/* cut, never overrun */
	assert_string_equal(fg_retry_rejection_reason(401, tiny, sizeof(tiny)), "HTTP 401 Un");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "/retry/classify", test_classify, NULL, NULL, NULL },
		{ "/retry/backoff", test_backoff, NULL, NULL, NULL },
		{ "/retry/retry-after-seconds", test_retry_after_seconds, NULL, NULL, NULL },
		{ "/retry/retry-after-date", test_retry_after_date, NULL, NULL, NULL },
		{ "/retry/delay", test_delay, NULL, NULL, NULL },
		{ "/retry/ratelimit", test_ratelimit, NULL, NULL, NULL },
		{ "/retry/preset-limits", test_preset_limits, NULL, NULL, NULL },
		{ "/retry/rejection-reason", test_rejection_reason, NULL, NULL, NULL },
	};

	return cmocka_run_group_tests_name("retry", tests, NULL, NULL);
}
