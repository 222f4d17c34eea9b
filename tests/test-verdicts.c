/* SPDX-License-Identifier: MIT */
/* The control API's verdict cache: one verdict per unique name, bounded,
 * least recently used out (daemon/control/verdicts.h). */
#include "fg-test.h"

#include <stdio.h>

#include "control/verdicts.h"

static void sender_name(unsigned i, char buf[16])
{
	snprintf(buf, 16, ":1.%u", i);
}

static void fill(struct fg_verdict_cache *c, unsigned n)
{
	char name[16];

	for (unsigned i = 0; i < n; i++) {
		struct fg_verdict v = { .uid = 1000 + i, .allowed = i % 2 == 0 };

		sender_name(i, name);
		assert_int_equal(fg_verdict_cache_store(c, name, &v), 0);
	}
}

static void test_kept_per_sender(void **state)
{
	struct fg_verdict_cache c = { 0 };
	const struct fg_verdict *v;

	assert_null(fg_verdict_cache_lookup(&c, ":1.1"));
	fill(&c, 3);
	v = fg_verdict_cache_lookup(&c, ":1.1");
	assert_non_null(v);
	assert_int_equal(v->uid, 1001);
	assert_false(v->allowed);
	v = fg_verdict_cache_lookup(&c, ":1.2");
	assert_non_null(v);
	assert_true(v->allowed);
	assert_null(fg_verdict_cache_lookup(&c, ":1.3"));
	fg_verdict_cache_clear(&c);
}

static void test_bounded(void **state)
{
	struct fg_verdict_cache c = { 0 };
	unsigned kept = 0;
	char name[16];

	fill(&c, 3 * FG_VERDICT_CACHE_MAX);
	for (unsigned i = 0; i < 3 * FG_VERDICT_CACHE_MAX; i++) {
		sender_name(i, name);
		kept += fg_verdict_cache_lookup(&c, name) != NULL;
	}
	assert_int_equal(kept, FG_VERDICT_CACHE_MAX);
	/* the newest are the ones kept */
	sender_name(3 * FG_VERDICT_CACHE_MAX - 1, name);
	assert_non_null(fg_verdict_cache_lookup(&c, name));
	fg_verdict_cache_clear(&c);
}

static void test_least_recently_used_goes(void **state)
{
	struct fg_verdict_cache c = { 0 };
	struct fg_verdict v = { .uid = 7 };
	char name[16];

	fill(&c, FG_VERDICT_CACHE_MAX);
	/* :1.0 is the oldest stored, but used now: :1.1 goes instead */
	assert_non_null(fg_verdict_cache_lookup(&c, ":1.0"));
	assert_int_equal(fg_verdict_cache_store(&c, ":9.9", &v), 0);
	assert_non_null(fg_verdict_cache_lookup(&c, ":1.0"));
	assert_null(fg_verdict_cache_lookup(&c, ":1.1"));
	assert_int_equal(fg_verdict_cache_lookup(&c, ":9.9")->uid, 7);
	for (unsigned i = 2; i < FG_VERDICT_CACHE_MAX; i++) {
		sender_name(i, name);
		assert_non_null(fg_verdict_cache_lookup(&c, name));
	}
	fg_verdict_cache_clear(&c);
}

static void test_clear_empties(void **state)
{
	struct fg_verdict_cache c = { 0 };

	fill(&c, 5);
	fg_verdict_cache_clear(&c);
	assert_null(fg_verdict_cache_lookup(&c, ":1.0"));
	fill(&c, 1);
	assert_non_null(fg_verdict_cache_lookup(&c, ":1.0"));
	fg_verdict_cache_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/verdicts/kept-per-sender", test_kept_per_sender),
		FG_TEST("/verdicts/bounded", test_bounded),
		FG_TEST("/verdicts/least-recently-used-goes", test_least_recently_used_goes),
		FG_TEST("/verdicts/clear-empties", test_clear_empties),
	};

	return cmocka_run_group_tests_name("verdicts", tests, NULL, NULL);
}
