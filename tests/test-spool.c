/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "fg-test.h"
#include "delivery/spool.h"
#include "delivery/template.h"
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

/*
 * One alert for one target, flushed at once: 0 durable, 1 held in memory
 * only, <0 not queued (fg_spool_stage_many() and fg_spool_commit()).
 */
static int add(struct fg_spool *s, const char *target, const struct fg_alert *a,
	       struct fg_spool_entry **ret_entry)
{
	struct fg_spool_entry *e;
	int result;

	assert_int_equal(fg_spool_stage_many(s, &target, 1, a, &result, &e), 0);
	if (result == 0 && fg_spool_commit(s) < 0)
		result = 1;
	if (result >= 0 && ret_entry)
		*ret_entry = e;
	return result;
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
		assert_int_equal(add(s, "alertops", &a, &e), 0);
		assert_true(e->durable);
		/* one sequence for all queues */
		assert_int_equal(e->seq, seq);
		if (i % 4 == 0)
			seq++;
		if (i % 4 == 0) {
			assert_int_equal(add(s, "pager.duty", &a, &e), 0);
			assert_int_equal(e->seq, seq);
		}
		fg_alert_clear(&a);
	}
	assert_int_equal(fg_spool_depth(s), 25);
	assert_int_equal(fg_spool_target_depth(s, "alertops"), 20);
	assert_false(fg_spool_alarm(s));
	/* names that are not safe directory names are refused */
	make_alert(&a, 99, "x");
	assert_int_equal(add(s, "../evil", &a, NULL), -EINVAL);
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
	assert_int_equal(add(s2, "alertops", &a, &e), 0);
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
	assert_int_equal(add(s, "slack", &a, &e), 0);
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

	/* counted again at the next start, and new sequence numbers go past it */
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_load(s), 0);
	assert_int_equal(fg_spool_dead_count(s), 1);
	make_alert(&a, 2, "room-1");
	assert_int_equal(add(s, "slack", &a, &e), 0);
	assert_int_equal(e->seq, 2);
	fg_alert_clear(&a);
	fg_spool_free(s);
}

/*
 * A write the file system refuses: RLIMIT_FSIZE stops the journal from
 * growing (EFBIG, as a full disk would with ENOSPC). The alert is kept in
 * memory, in alarm, and written once the limit is gone.
 */
static void test_write_failure_keeps_in_memory(void **state)
{
	struct fg_spool *s, *s2;
	struct fg_spool_entry *e;
	struct fg_alert a;
	struct rlimit old, lim;
	struct stat st;
	char path[256];
	unsigned n = 0;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	snprintf(path, sizeof(path), "%s/journal", dir);
	assert_int_equal(stat(path, &st), 0);
	make_alert(&a, 1, "room-1");
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	/* the preallocated slots take alerts without growing the file */
	while (add(s, "ntfy", &a, &e) == 0)
		n++;
	assert_int_equal(n, st.st_size / FG_SPOOL_SLOT - 1);
	assert_false(e->durable);
	assert_true(fg_spool_alarm(s));
	assert_int_equal(fg_spool_not_durable(s), 1);
	assert_int_equal(fg_spool_flush(s), 1);
	/* Repair: the flush makes it durable and the alarm clears. */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(fg_spool_flush(s), 0);
	assert_true(e->durable);
	assert_false(fg_spool_alarm(s));
	fg_spool_free(s);
	assert_int_equal(fg_spool_new(dir, 100, &s2), 0);
	assert_int_equal(fg_spool_load(s2), n + 1);
	fg_spool_free(s2);

	/* no journal at all (the disk refused it at start): memory, then disk */
	snprintf(path, sizeof(path), "rm -rf '%s/journal'", dir);
	assert_int_equal(system(path), 0);
	lim.rlim_cur = FG_SPOOL_SLOT;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(add(s, "ntfy", &a, &e), 1);
	assert_true(fg_spool_alarm(s));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(fg_spool_flush(s), 0);
	fg_spool_free(s);
	assert_int_equal(fg_spool_new(dir, 100, &s2), 0);
	assert_int_equal(fg_spool_load(s2), 1);
	fg_spool_free(s2);
	fg_alert_clear(&a);
	signal(SIGXFSZ, SIG_DFL);
}

static void test_over_max_is_alarm_not_loss(void **state)
{
	struct fg_spool *s;
	struct fg_alert a;

	assert_int_equal(fg_spool_new(dir, 10, &s), 0);
	make_alert(&a, 1, "room-1");
	for (int i = 0; i < 10; i++)
		assert_int_equal(add(s, "w", &a, NULL), 0);
	assert_false(fg_spool_alarm(s));
	assert_int_equal(add(s, "w", &a, NULL), 0);
	assert_true(fg_spool_alarm(s));
	assert_int_equal(fg_spool_depth(s), 11);
	fg_spool_remove(s, fg_spool_first(s, "w"));
	assert_false(fg_spool_alarm(s));
	fg_alert_clear(&a);
	fg_spool_free(s);
}

/* One alert for several targets: one record each, written together. */
static void test_add_many(void **state)
{
	const char *const targets[] = { "alertops", "../evil", "slack" };
	struct fg_spool_entry *e[3];
	struct fg_spool *s;
	struct fg_alert a;
	int res[3];

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	make_alert(&a, 4, "room-2");
	assert_int_equal(fg_spool_stage_many(s, targets, 3, &a, res, e), 0);
	assert_int_equal(fg_spool_commit(s), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], -EINVAL);
	assert_int_equal(res[2], 0);
	assert_null(e[1]);
	assert_true(e[0]->durable && e[2]->durable);
	assert_true(e[0]->seq < e[2]->seq);
	assert_int_equal(fg_spool_depth(s), 2);
	fg_alert_clear(&a);
	fg_spool_free(s);
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_load(s), 2);
	assert_string_equal(fg_spool_first(s, "slack")->alert.id, "alert-4");
	assert_string_equal(fg_spool_first(s, "alertops")->alert.id, "alert-4");
	fg_spool_free(s);
}

/* The descriptor of the spool's journal, found through /proc. */
static int journal_fd(void)
{
	char want[256], link[64], got[256];
	int fd = -1;

	snprintf(want, sizeof(want), "%s/journal", dir);
	for (int i = 3; i < 1024 && fd < 0; i++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", i);
		n = readlink(link, got, sizeof(got) - 1);
		if (n <= 0)
			continue;
		got[n] = '\0';
		if (strcmp(got, want) == 0)
			fd = i;
	}
	assert_true(fd >= 0);
	return fd;
}

/*
 * Point the journal's descriptor at /dev/null (writes pass, the flush
 * fails); returns it, *ret_saved is what repair_journal() puts back.
 */
static int break_journal(int *ret_saved)
{
	int fd = journal_fd(), null = open("/dev/null", O_RDWR | O_CLOEXEC);

	*ret_saved = dup(fd);
	assert_true(*ret_saved >= 0 && null >= 0);
	assert_true(dup2(null, fd) == fd);
	close(null);
	return fd;
}

static void repair_journal(int fd, int saved)
{
	assert_true(dup2(saved, fd) == fd);
	close(saved);
}

/*
 * Staged: queued and deliverable at once, flushed by the commit. An entry
 * delivered or dead-lettered before the commit is not waited for. A flush
 * the disk refuses keeps every staged entry in memory (alarm) until
 * fg_spool_flush() manages it. /dev/null in place of the journal takes
 * the writes and refuses the flush (EINVAL), as a failing disk would.
 */
static void test_stage_commit(void **state)
{
	const char *const targets[] = { "alertops", "slack" };
	struct fg_spool_entry *e[2], *x;
	struct fg_spool *s;
	struct fg_alert a;
	int res[2], fd, saved;

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_commit(s), 0);	/* nothing staged: nothing to do */
	make_alert(&a, 1, "room-1");
	assert_int_equal(fg_spool_stage_many(s, targets, 2, &a, res, e), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], 0);
	assert_int_equal(fg_spool_staged(s), 2);
	assert_ptr_equal(fg_spool_first(s, "alertops"), e[0]);
	assert_ptr_equal(fg_spool_first(s, "slack"), e[1]);
	assert_int_equal(fg_spool_commit(s), 0);
	assert_int_equal(fg_spool_staged(s), 0);
	assert_true(e[0]->durable && e[1]->durable);

	/* gone before the commit: delivered, dead-lettered */
	assert_int_equal(fg_spool_stage_many(s, targets, 1, &a, res, &x), 0);
	assert_int_equal(fg_spool_remove(s, x), 0);
	assert_int_equal(fg_spool_stage_many(s, targets + 1, 1, &a, res, &x), 0);
	assert_int_equal(fg_spool_dead_letter(s, x, "refused"), 0);
	assert_int_equal(fg_spool_staged(s), 0);
	assert_int_equal(fg_spool_commit(s), 0);

	/* the flush fails: kept, in memory only, in alarm; then repaired */
	fd = break_journal(&saved);
	assert_int_equal(fg_spool_stage_many(s, targets, 2, &a, res, e), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(fg_spool_commit(s), -EINVAL);
	assert_int_equal(fg_spool_staged(s), 0);
	assert_false(e[0]->durable || e[1]->durable);
	assert_int_equal(fg_spool_not_durable(s), 2);
	assert_true(fg_spool_alarm(s));
	assert_int_equal(fg_spool_depth(s), 4);
	repair_journal(fd, saved);
	assert_int_equal(fg_spool_flush(s), 0);
	assert_false(fg_spool_alarm(s));
	fg_alert_clear(&a);
	fg_spool_free(s);
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_load(s), 4);
	fg_spool_free(s);
}


static void assert_state(const struct fg_spool *s, const char *key, const char *want)
{
	const char *v;
	size_t len;

	assert_int_equal(fg_spool_get_state(s, key, &v, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
}

/* State records: the newest value of a key wins at load; they are no alerts. */
static void test_state_latest_wins(void **state)
{
	struct fg_spool *s;
	struct fg_alert a;

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_stage_state(s, "counter:AABBCCDDEEFF", "1\n", 2), 0);
	assert_int_equal(fg_spool_stage_state(s, "alert:room-1", "open\n", 5), 0);
	assert_int_equal(fg_spool_staged(s), 2);
	assert_int_equal(fg_spool_commit(s), 0);
	for (unsigned i = 2; i < 40; i++) {
		char v[16];

		snprintf(v, sizeof(v), "%u\n", i);
		assert_int_equal(fg_spool_stage_state(s, "counter:AABBCCDDEEFF", v, strlen(v)), 0);
		assert_int_equal(fg_spool_commit(s), 0);
	}
	/* the same value again costs nothing */
	assert_int_equal(fg_spool_stage_state(s, "alert:room-1", "open\n", 5), 0);
	assert_int_equal(fg_spool_staged(s), 0);
	make_alert(&a, 1, "room-1");
	assert_int_equal(add(s, "alertops", &a, NULL), 0);
	assert_int_equal(fg_spool_stage_state(s, "", "x", 1), -EINVAL);
	fg_spool_free(s);

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_load(s), 1);
	assert_int_equal(fg_spool_depth(s), 1);
	assert_int_equal(fg_spool_n_states(s), 2);
	assert_state(s, "counter:AABBCCDDEEFF", "39\n");
	assert_state(s, "alert:room-1", "open\n");
	assert_int_equal(fg_spool_get_state(s, "counter:000000000000", &(const char *){ NULL },
					    &(size_t){ 0 }), -ENOENT);
	fg_alert_clear(&a);
	fg_spool_free(s);
}

/*
 * A value whose flush fails is held in memory (alarm) and the one it
 * replaces stays on disk: a crash then brings back the old one, never
 * nothing. The retry makes the new one durable.
 */
static void test_state_failed_flush_keeps_old(void **state)
{
	struct fg_spool *s;
	int fd, saved;

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_stage_state(s, "counter:AABBCCDDEEFF", "old\n", 4), 0);
	assert_int_equal(fg_spool_commit(s), 0);
	fd = break_journal(&saved);
	assert_int_equal(fg_spool_stage_state(s, "counter:AABBCCDDEEFF", "new\n", 4), 0);
	assert_true(fg_spool_commit(s) < 0);
	assert_true(fg_spool_alarm(s));
	assert_int_equal(fg_spool_not_durable(s), 1);
	repair_journal(fd, saved);
	{
		/* as after kill -9 now: the old value */
		struct fg_spool *s2;

		assert_int_equal(fg_spool_new(dir, 100, &s2), 0);
		assert_int_equal(fg_spool_load(s2), 0);
		assert_state(s2, "counter:AABBCCDDEEFF", "old\n");
		fg_spool_free(s2);
	}
	assert_int_equal(fg_spool_flush(s), 0);
	assert_false(fg_spool_alarm(s));
	fg_spool_free(s);
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_load(s), 0);
	assert_state(s, "counter:AABBCCDDEEFF", "new\n");
	fg_spool_free(s);
}

/* ---- the journal on disk ------------------------------------------------ */

static void journal_path(char *buf, size_t size)
{
	snprintf(buf, size, "%s/journal", dir);
}

static uint8_t *read_bin(const char *path, size_t *ret_len)
{
	char *text;

	assert_int_equal(fg_read_file(path, 64 << 20, &text, ret_len), 0);
	return (uint8_t *)text;
}

static void write_bin(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Bit i of the result: the alert with id "alert-i" was loaded (intact). */
static uint64_t loaded_set(void)
{
	struct fg_spool *s;
	uint64_t set = 0;

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_true(fg_spool_load(s) >= 0);
	for (size_t t = 0; t < fg_spool_n_targets(s); t++)
		for (struct fg_spool_entry *e = fg_spool_first(s, fg_spool_target(s, t)); e;
		     e = fg_spool_next(e)) {
			unsigned n;
			char key[64];

			assert_int_equal(sscanf(e->alert.id, "alert-%u", &n), 1);
			assert_true(n < 64);
			/* whatever is loaded is whole: its fields match what was written */
			snprintf(key, sizeof(key), "BG30-C12345:%u:click", n);
			assert_string_equal(e->alert.idempotency_key, key);
			assert_int_equal(e->alert.event_counter, n);
			assert_string_equal(e->alert.button, n % 2 ? "room-1" : "room-2");
			assert_false(set & (UINT64_C(1) << n));
			set |= UINT64_C(1) << n;
		}
	/* a torn record is free space, never a dead letter */
	assert_int_equal(fg_spool_dead_count(s), 0);
	fg_spool_free(s);
	return set;
}

struct layout {
	size_t slot[16], size[16];	/* where alert-i's record is, and its length */
};

/*
 * Alerts 0..n-1 to two targets, alert 3 with a long info (a record over
 * several slots); then alert @freed delivered. Returns the journal image.
 */
static uint8_t *make_journal(unsigned n, int freed, struct layout *ret, size_t *ret_len)
{
	struct fg_spool *s;
	struct fg_spool_entry *e, *del = NULL;
	struct fg_alert a;
	char path[256], *text;
	uint8_t *img, *rec;
	size_t len, k;

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	for (unsigned i = 0; i < n; i++) {
		make_alert(&a, i, i % 2 ? "room-1" : "room-2");
		if (i == 3) {
			char *info = malloc(9000);

			memset(info, 'i', 8999);
			info[8999] = '\0';
			free(a.info);
			a.info = info;
		}
		assert_int_equal(add(s, i % 3 ? "alertops" : "slack", &a, &e), 0);
		assert_int_equal(fg_alert_serialize(&a, &text, &len), 0);
		assert_int_equal(fg_spool_record_encode(e->seq, e->target, text, len, &rec, &k), 0);
		ret->slot[i] = e->slot;
		ret->size[i] = FG_SPOOL_RECORD_HEADER + strlen(e->target) + len;
		assert_int_equal(e->n_slots, k);
		free(rec);
		free(text);
		if ((int)i == freed)
			del = e;
		fg_alert_clear(&a);
	}
	if (del)
		assert_int_equal(fg_spool_remove(s, del), 0);
	fg_spool_free(s);
	journal_path(path, sizeof(path));
	img = read_bin(path, ret_len);
	return img;
}

/*
 * Power loss while the last record was being written: the journal holds
 * a prefix of it (the rest still zero, or garbage: a sector that never
 * made it), at every byte offset. The other records are all there and
 * intact; the torn one is there only when complete. Then the tail of the
 * file cut at byte offsets: every record that ends before the cut is
 * there, the one it cuts is not.
 */
static void test_power_loss_tail(void **state)
{
	struct layout l;
	char path[256];
	size_t len, last_off, last_len;
	uint8_t *img, *work;
	const unsigned n = 6;
	const uint64_t all = (UINT64_C(1) << n) - 1, others = all & ~(UINT64_C(1) << (n - 1));

	img = make_journal(n, -1, &l, &len);
	journal_path(path, sizeof(path));
	work = malloc(len);
	last_off = l.slot[n - 1] * FG_SPOOL_SLOT;
	last_len = l.size[n - 1];
	assert_int_equal(loaded_set(), all);
	for (int garbage = 0; garbage < 2; garbage++)
		for (size_t o = 0; o <= last_len; o++) {
			memcpy(work, img, len);
			memset(work + last_off + o, garbage ? 0xa5 : 0, FG_SPOOL_SLOT - o);
			write_bin(path, work, len);
			assert_int_equal(loaded_set(), o == last_len ? all : others);
		}
	/* cut through the file: every byte of the last record, then coarser across all */
	for (size_t cut = 0; cut <= len; cut += cut < last_off - 8 ? 97 :
						 cut < last_off + last_len + 8 ? 1 : 509) {
		uint64_t want = 0;

		for (unsigned i = 0; i < n; i++)
			if (l.slot[i] * FG_SPOOL_SLOT + l.size[i] <= cut)
				want |= UINT64_C(1) << i;
		write_bin(path, img, cut);
		if (loaded_set() != want)
			fail_msg("cut at %zu: loaded %#" PRIx64 ", want %#" PRIx64, cut, loaded_set(), want);
	}
	free(work);
	free(img);
}

/*
 * Power loss while a record was written over the slot of one already
 * delivered (slot reuse), and while a delivered record's slot was being
 * zeroed: each mix of old and new bytes reads as the old record (it comes
 * back and is sent again: at least once), the new one (only if complete)
 * or neither; the records around it are untouched.
 */
static void test_power_loss_reuse(void **state)
{
	struct layout l, l2;
	char path[256];
	size_t len, len2, off;
	uint8_t *img, *after, *work;
	struct fg_spool *s;
	struct fg_alert a;
	struct fg_spool_entry *e;

	/* before: alerts 0..4, alert 1 delivered; after: alert 5 in alert 1's old slot */
	img = make_journal(5, 1, &l, &len);
	assert_int_equal(loaded_set(), 0x1d);
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_load(s), 4);
	make_alert(&a, 5, "room-1");
	assert_int_equal(add(s, "alertops", &a, &e), 0);
	assert_int_equal(e->slot, l.slot[1]);
	fg_alert_clear(&a);
	fg_spool_free(s);
	journal_path(path, sizeof(path));
	after = read_bin(path, &len2);
	assert_int_equal(len, len2);
	off = l.slot[1] * FG_SPOOL_SLOT;
	work = malloc(len);
	/* the old record as it was before its slot was zeroed */
	{
		uint8_t *old = make_journal(5, -1, &l2, &len2);
		struct fg_spool_record rec;
		unsigned seen_old = 0, seen_new = 0;
		size_t size5;

		assert_int_equal(l2.slot[1], l.slot[1]);
		assert_int_equal(fg_spool_record_decode(after + off, FG_SPOOL_SLOT, &rec), 0);
		size5 = rec.size;
		for (size_t o = 0; o <= FG_SPOOL_SLOT; o += o < 1200 ? 1 : 97) {
			uint64_t got;

			memcpy(work, img, len);
			memcpy(work + off, after + off, o);
			memcpy(work + off + o, old + off + o, FG_SPOOL_SLOT - o);
			write_bin(path, work, len);
			got = loaded_set();
			/*
			 * Alerts 0, 2, 3, 4 always; 1 (old) exactly when its
			 * bytes are all still there, 5 exactly when all of its
			 * are (the two share their first bytes: same target,
			 * same length).
			 */
			assert_int_equal(got & ~UINT64_C(0x22), 0x1d);
			assert_int_equal(!!(got & 0x2), memcmp(work + off, old + off, l.size[1]) == 0);
			assert_int_equal(!!(got & 0x20), memcmp(work + off, after + off, size5) == 0);
			seen_old += !!(got & 0x2);
			seen_new += !!(got & 0x20);
		}
		/* both outcomes happened, and the torn middle was neither */
		assert_true(seen_old > 0 && seen_new > 0);
		free(old);
	}
	free(work);
	free(after);
	free(img);
}

/* A record over several slots, growth past the first allocation, and the shrink when empty. */
static void test_grow_shrink(void **state)
{
	struct fg_spool *s;
	struct fg_spool_entry *e;
	struct fg_alert a;
	struct stat st;
	char path[256];
	off_t initial;
	int n = 300;

	journal_path(path, sizeof(path));
	assert_int_equal(fg_spool_new(dir, 1000, &s), 0);
	assert_int_equal(stat(path, &st), 0);
	initial = st.st_size;
	make_alert(&a, 1, "room-1");
	for (int i = 0; i < n; i++)
		assert_int_equal(add(s, "alertops", &a, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size >= (off_t)(n + 1) * FG_SPOOL_SLOT);
	assert_true(st.st_size > initial);
	fg_spool_free(s);
	assert_int_equal(fg_spool_new(dir, 1000, &s), 0);
	assert_int_equal(fg_spool_load(s), n);
	/* sequence order survives, one queue */
	for (e = fg_spool_first(s, "alertops"); e && e->next; e = e->next)
		assert_true(e->seq < e->next->seq);
	/* a state record written while the journal is big survives its compaction */
	assert_int_equal(fg_spool_stage_state(s, "alert:room-1", "kept\n", 5), 0);
	assert_int_equal(fg_spool_commit(s), 0);
	while ((e = fg_spool_first(s, "alertops")))
		assert_int_equal(fg_spool_remove(s, e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, initial);
	assert_state(s, "alert:room-1", "kept\n");
	/* and it grows again from there */
	assert_int_equal(add(s, "alertops", &a, &e), 0);
	fg_spool_free(s);
	assert_int_equal(loaded_set() , UINT64_C(1) << 1);
	fg_alert_clear(&a);
}

/* Queues of an older version (one file per alert) are read, delivered and removed. */
static void test_unreadable_and_foreign(void **state)
{
	static const char bad[] = "flicgate-alert 1\nid=x\nend\n";
	struct fg_spool *s;
	char path[256], *text;
	uint8_t *rec;
	size_t k, len;
	int fd;

	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	fg_spool_free(s);
	journal_path(path, sizeof(path));
	assert_int_equal(fg_spool_record_encode(0x42, "slack", bad, strlen(bad), &rec, &k), 0);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_int_equal(pwrite(fd, rec, k * FG_SPOOL_SLOT, 5 * FG_SPOOL_SLOT),
			 (ssize_t)(k * FG_SPOOL_SLOT));
	close(fd);
	free(rec);
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_load(s), 0);
	assert_int_equal(fg_spool_dead_count(s), 1);
	fg_spool_free(s);
	snprintf(path, sizeof(path), "%s/dead/t-slack-%016x.alert", dir, 0x42);
	assert_int_equal(fg_read_file(path, 4096, &text, &len), 0);
	assert_string_equal(text, bad);
	free(text);
	/* the slot was freed: nothing dead-lettered twice */
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_load(s), 0);
	assert_int_equal(fg_spool_dead_count(s), 1);
	fg_spool_free(s);

	journal_path(path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_int_equal(pwrite(fd, "flicgate-spool 3\n", 17, 0), 17);
	close(fd);
	assert_int_equal(fg_spool_new(dir, 100, &s), -EPROTONOSUPPORT);
	assert_int_equal(unlink(path), 0);
}

/* How many "journal.bad-*" entries the spool folder holds; the last one's name in @ret. */
static size_t set_aside(char ret[512])
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "journal.bad-", 12) == 0) {
			snprintf(ret, 512, "%s/%s", dir, de->d_name);
			n++;
		}
	closedir(d);
	return n;
}

/*
 * A journal that is no file of ours (a directory, a link) is set aside and
 * a fresh one made: the spool works, and a link's target is never written.
 */
static void test_foreign_journal_set_aside(void **state)
{
	char path[256], aside[512], target[300], *text;
	struct fg_spool *s;
	struct fg_alert a;
	struct stat st;
	size_t len;
	int res;

	journal_path(path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(set_aside(aside), 1);
	assert_int_equal(lstat(aside, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	make_alert(&a, 1, "b1");
	assert_int_equal(fg_spool_stage_many(s, (const char *[]){ "slack" }, 1, &a, &res, NULL), 0);
	assert_int_equal(res, 0);
	assert_int_equal(fg_spool_commit(s), 0);
	fg_spool_free(s);
	fg_alert_clear(&a);

	/* now a link to a file elsewhere */
	snprintf(target, sizeof(target), "%s.elsewhere", dir);
	assert_int_equal(fg_write_file_atomic(target, "not a journal", 13, 0600), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(fg_spool_new(dir, 100, &s), 0);
	assert_int_equal(fg_spool_load(s), 0);
	fg_spool_free(s);
	assert_int_equal(set_aside(aside), 2);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(fg_read_file(target, 4096, &text, &len), 0);
	assert_string_equal(text, "not a journal");
	free(text);
	assert_int_equal(unlink(target), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST_SETUP("/spool/add-load-order", test_add_load_order, setup, teardown),
		FG_TEST_SETUP("/spool/dead-letter", test_dead_letter, setup, teardown),
		FG_TEST_SETUP("/spool/write-failure-kept-in-memory", test_write_failure_keeps_in_memory, setup, teardown),
		FG_TEST_SETUP("/spool/over-max-is-alarm", test_over_max_is_alarm_not_loss, setup, teardown),
		FG_TEST_SETUP("/spool/add-many", test_add_many, setup, teardown),
		FG_TEST_SETUP("/spool/stage-commit", test_stage_commit, setup, teardown),
		FG_TEST_SETUP("/spool/state-latest-wins", test_state_latest_wins, setup, teardown),
		FG_TEST_SETUP("/spool/state-failed-flush-keeps-old", test_state_failed_flush_keeps_old, setup, teardown),
		FG_TEST_SETUP("/spool/power-loss-tail", test_power_loss_tail, setup, teardown),
		FG_TEST_SETUP("/spool/power-loss-slot-reuse", test_power_loss_reuse, setup, teardown),
		FG_TEST_SETUP("/spool/grow-shrink-multislot", test_grow_shrink, setup, teardown),
		FG_TEST_SETUP("/spool/unreadable-and-foreign", test_unreadable_and_foreign, setup, teardown),
		FG_TEST_SETUP("/spool/foreign-journal-set-aside", test_foreign_journal_set_aside, setup, teardown),
	};

	return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
