/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fg-test.h"
#include "core/spool.h"
#include "core/template.h"
#include "lib/fileio.h"

static char dir[] = "/tmp/fg-test-spool-XXXXXX";

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	strcpy(dir, "/tmp/fg-test-spool-XXXXXX");
	return 0;
}

static void make_alert(struct fg_alert *a, unsigned n, const char *button)
{
	assert_int_equal(fg_alert_copy(fg_template_sample_alert(), a), 0);
	snprintf(a->id, sizeof(a->id), "alert-%u", n);
	snprintf(a->idempotency_key, sizeof(a->idempotency_key), "BG30-C12345:%u:click", n);
	a->event_counter = n;
	a->state = n % 2 ? FG_ALERT_OFF : FG_ALERT_ON;
	assert_int_equal(fg_alert_set_string(&a->button, button), 0);
}

static void test_add_load_order(void **state)
{
	struct fg_spool *s, *s2;
	struct fg_spool_entry *e;
	struct fg_alert a;
	unsigned n = 0;

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	for (unsigned i = 0, seq = 1; i < 20; i++, seq++) {
		make_alert(&a, i, i % 3 ? "room-1" : "room-2");
		assert_int_equal(fg_spool_add(s, "alertops", &a, &e), 0);
		assert_true(e->durable);
		/* one sequence for all queues */
		assert_int_equal(e->seq, seq);
		if (i % 4 == 0)
			seq++;
		if (i % 4 == 0) {
			assert_int_equal(fg_spool_add(s, "pager.duty", &a, &e), 0);
			assert_int_equal(e->seq, seq);
		}
		fg_alert_clear(&a);
	}
	assert_int_equal(fg_spool_depth(s), 25);
	assert_int_equal(fg_spool_target_depth(s, "alertops"), 20);
	assert_false(fg_spool_alarm(s));
	/* names that are not safe directory names are refused */
	make_alert(&a, 99, "x");
	assert_int_equal(fg_spool_add(s, "../evil", &a, NULL), -EINVAL);
	fg_alert_clear(&a);

	/* deliver two from the middle, then reload: order and content survive */
	e = fg_spool_first(s, "alertops");
	assert_int_equal(fg_spool_remove(s, fg_spool_next(fg_spool_next(e))), 0);
	assert_int_equal(fg_spool_remove(s, fg_spool_next(e)), 0);
	fg_spool_free(s);

	assert_int_equal(fg_spool_new(dir, 100, &s2), 0);
	assert_int_equal(fg_spool_load(s2), 23);
	for (e = fg_spool_first(s2, "alertops"); e; e = fg_spool_next(e), n++) {
		unsigned want = n == 0 ? 0 : n + 2;

		if (e->prev)
			assert_true(e->seq > e->prev->seq);
		assert_int_equal(e->alert.event_counter, want);
		assert_string_equal(e->alert.button, want % 3 ? "room-1" : "room-2");
		assert_true(e->durable);
	}
	assert_int_equal(n, 18);
	assert_int_equal(fg_spool_target_depth(s2, "pager.duty"), 5);
	assert_int_equal(fg_spool_n_targets(s2), 2);
	/* new entries continue after the highest sequence on disk */
	make_alert(&a, 100, "room-1");
	assert_int_equal(fg_spool_add(s2, "alertops", &a, &e), 0);
	assert_int_equal(e->seq, 26);
	fg_alert_clear(&a);
	fg_spool_free(s2);
}

static void test_dead_letter(void **state)
{
	struct fg_spool *s;
	struct fg_spool_entry *e;
	struct fg_alert a;
	char path[256], *text;
	size_t len;

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	make_alert(&a, 1, "room-1");
	assert_int_equal(fg_spool_add(s, "slack", &a, &e), 0);
	fg_alert_clear(&a);
	assert_int_equal(fg_spool_dead_letter(s, e, "HTTP 400: invalid_payload\n"), 0);
	assert_int_equal(fg_spool_depth(s), 0);
	assert_int_equal(fg_spool_dead_count(s), 1);
	snprintf(path, sizeof(path), "%s/dead/t-slack-0000000000000001.reason", dir);
	assert_int_equal(fg_read_file(path, 4096, &text, &len), 0);
	assert_string_equal(text, "HTTP 400: invalid_payload\n");
	free(text);
	snprintf(path, sizeof(path), "%s/dead/t-slack-0000000000000001.alert", dir);
	assert_int_equal(access(path, F_OK), 0);
	fg_spool_free(s);

	/* a corrupt file is dead-lettered at load, not deleted, not delivered */
	snprintf(path, sizeof(path), "%s/t-slack/0000000000000007.alert", dir);
	assert_int_equal(fg_write_file_atomic(path, "garbage", 7, 0600), 0);
	snprintf(path, sizeof(path), "%s/t-slack/0000000000000008.alert.tmp.abc123", dir);
	assert_int_equal(fg_write_file_atomic(path, "half", 4, 0600), 0);
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_load(s), 0);
	assert_int_equal(fg_spool_dead_count(s), 2);
	assert_int_equal(access(path, F_OK), -1);	/* temp file cleaned up */
	snprintf(path, sizeof(path), "%s/dead/t-slack-0000000000000007.alert", dir);
	assert_int_equal(access(path, F_OK), 0);
	fg_spool_free(s);
}

static void test_write_failure_keeps_in_memory(void **state)
{
	struct fg_spool *s, *s2;
	struct fg_spool_entry *e;
	struct fg_alert a;
	char qdir[256];

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	make_alert(&a, 1, "room-1");
	assert_int_equal(fg_spool_add(s, "ntfy", &a, NULL), 0);
	/* Break the queue directory (a file in its place): writes fail. */
	snprintf(qdir, sizeof(qdir), "%s/t-ntfy", dir);
	assert_int_equal(rename(qdir, "/tmp/fg-test-spool-moved"), 0);
	assert_int_equal(fg_write_file_atomic(qdir, "x", 1, 0600), 0);
	assert_int_equal(fg_spool_add(s, "ntfy", &a, &e), 1);
	assert_false(e->durable);
	assert_true(fg_spool_alarm(s));
	assert_int_equal(fg_spool_not_durable(s), 1);
	assert_int_equal(fg_spool_flush(s), 1);
	/* Repair: the flush makes it durable and the alarm clears. */
	assert_int_equal(unlink(qdir), 0);
	assert_int_equal(rename("/tmp/fg-test-spool-moved", qdir), 0);
	assert_int_equal(fg_spool_flush(s), 0);
	assert_true(e->durable);
	assert_false(fg_spool_alarm(s));
	fg_alert_clear(&a);
	fg_spool_free(s);
	assert_int_equal(fg_spool_new(dir, 100, &s2), 0);
	assert_int_equal(fg_spool_load(s2), 2);
	fg_spool_free(s2);
}

static void test_over_max_is_alarm_not_loss(void **state)
{
	struct fg_spool *s;
	struct fg_alert a;

	assert_int_equal(fg_spool_new(dir, 10, &s), 0);
	make_alert(&a, 1, "room-1");
	for (int i = 0; i < 10; i++)
		assert_int_equal(fg_spool_add(s, "w", &a, NULL), 0);
	assert_false(fg_spool_alarm(s));
	assert_int_equal(fg_spool_add(s, "w", &a, NULL), 0);
	assert_true(fg_spool_alarm(s));
	assert_int_equal(fg_spool_depth(s), 11);
	fg_spool_remove(s, fg_spool_first(s, "w"));
	assert_false(fg_spool_alarm(s));
	fg_alert_clear(&a);
	fg_spool_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST_SETUP("/spool/add-load-order", test_add_load_order, setup, teardown),
		FG_TEST_SETUP("/spool/dead-letter", test_dead_letter, setup, teardown),
		FG_TEST_SETUP("/spool/write-failure-kept-in-memory", test_write_failure_keeps_in_memory, setup, teardown),
		FG_TEST_SETUP("/spool/over-max-is-alarm", test_over_max_is_alarm_not_loss, setup, teardown),
	};

	return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
