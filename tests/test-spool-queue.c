/* SPDX-License-Identifier: MIT */
/* The spool's queues in memory (spool-queue.c): sequence order whatever the
 * insertion order, one queue per safe target name. */
#include <stdlib.h>
#include <string.h>

#include "fg-test.h"
#include "delivery/spool-queue.h"

static struct fg_spool_entry *entry(uint64_t seq)
{
	struct fg_spool_entry *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->seq = seq;
	return e;
}

static void test_order(void **state)
{
	static const uint64_t seqs[] = { 5, 1, 9, 7, 3, 10 };
	struct fg_spool_queues qs = {};
	struct fg_spool_queue *q = fg_spool_queues_get(&qs, "alertops");
	struct fg_spool_entry *e, *middle = NULL;
	uint64_t last = 0;
	size_t n = 0;

	assert_non_null(q);
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		e = entry(seqs[i]);
		if (seqs[i] == 7)
			middle = e;
		fg_spool_queue_link(q, e);
	}
	assert_int_equal(q->n, 6);
	for (e = q->head; e; e = e->next, n++) {
		assert_true(e->seq > last);
		assert_true(e->prev ? e->prev->next == e : q->head == e);
		last = e->seq;
	}
	assert_int_equal(n, 6);
	assert_int_equal(q->tail->seq, 10);
	/* out of the middle, the head and the tail */
	fg_spool_queue_unlink(q, middle);
	fg_spool_entry_free(middle);
	e = q->head;
	fg_spool_queue_unlink(q, e);
	fg_spool_entry_free(e);
	e = q->tail;
	fg_spool_queue_unlink(q, e);
	fg_spool_entry_free(e);
	assert_int_equal(q->n, 3);
	assert_int_equal(q->head->seq, 3);
	assert_int_equal(q->head->next->seq, 5);
	assert_int_equal(q->tail->seq, 9);
	assert_ptr_equal(q->tail->prev, q->head->next);
	fg_spool_queues_clear(&qs);
	assert_int_equal(qs.n, 0);
}

static void test_names(void **state)
{
	struct fg_spool_queues qs = {};
	struct fg_spool_queue *a = fg_spool_queues_get(&qs, "a");

	assert_non_null(a);
	assert_ptr_equal(fg_spool_queues_get(&qs, "a"), a);
	assert_non_null(fg_spool_queues_get(&qs, "pager.duty"));
	assert_int_equal(qs.n, 2);
	/* queues are file names on disk too: nothing that could leave the folder */
	assert_null(fg_spool_queues_get(&qs, "../evil"));
	assert_null(fg_spool_queues_get(&qs, ""));
	assert_int_equal(qs.n, 2);
	assert_null(fg_spool_queues_find(&qs, "b"));
	assert_string_equal(fg_spool_queues_find(&qs, "pager.duty")->target, "pager.duty");
	fg_spool_queue_link(fg_spool_queues_find(&qs, "a"), entry(1));
	fg_spool_queues_clear(&qs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/spool-queue/sequence-order", test_order),
		FG_TEST("/spool-queue/names", test_names),
	};

	return cmocka_run_group_tests_name("spool-queue", tests, NULL, NULL);
}
