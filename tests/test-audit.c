/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fg-test.h"

#include "supervision/audit.h"
#include "lib/timeutil.h"

#define SEC FG_USEC_PER_SEC
#define T0 (UINT64_C(1795535260) * SEC)

struct collected {
	size_t n;
	struct {
		enum fg_audit_kind kind;
		uint64_t time;
		uint64_t since_press;
		char button[64], id[64], target[64], detail[256];
		uint64_t latency;
	} e[64];
};

static int collect(const struct fg_audit_entry *e, uint64_t since_press, void *userdata)
{
	struct collected *c = userdata;

	if (c->n < 64) {
		c->e[c->n].kind = e->kind;
		c->e[c->n].time = e->time_usec;
		c->e[c->n].since_press = since_press;
		c->e[c->n].latency = e->latency_usec;
		snprintf(c->e[c->n].button, 64, "%s", e->button);
		snprintf(c->e[c->n].id, 64, "%s", e->alert_id);
		snprintf(c->e[c->n].target, 64, "%s", e->target);
		snprintf(c->e[c->n].detail, 256, "%s", e->detail);
	}
	c->n++;
	return 0;
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/fg-audit-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_rf(char *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

static void test_round_trip(void **state)
{
	char *dir = tmpdir(), sub[128];
	struct fg_audit *a = NULL;
	struct collected c = { 0 };
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/audit", dir);
	assert_int_equal(fg_audit_open(sub, 1 << 20, 3, &a), 0);
	assert_int_equal(fg_audit_append(a, &(struct fg_audit_entry){
		.time_usec = T0, .kind = FG_AUDIT_PRESS, .button = "bed-12", .alert_id = "A1",
		.detail = "click" }), 0);
	assert_int_equal(fg_audit_append(a, &(struct fg_audit_entry){
		.time_usec = T0 + 2 * SEC, .kind = FG_AUDIT_DELIVERED, .button = "bed-12",
		.alert_id = "A1", .target = "alertops", .latency_usec = 350000,
		.detail = "HTTP 200\tafter\n1 attempt \\ ok" }), 0);
	assert_int_equal(fg_audit_append(a, &(struct fg_audit_entry){
		.time_usec = T0 + 95 * SEC, .kind = FG_AUDIT_CLOSED, .button = "bed-12",
		.alert_id = "A1", .detail = "double_click" }), 0);
	assert_int_equal(fg_audit_append(a, &(struct fg_audit_entry){
		.time_usec = T0 + 100 * SEC, .kind = FG_AUDIT_SUPERVISION_OPEN, .alert_id = "",
		.detail = "gw-clock" }), 0);
	assert_int_equal(fg_audit_append(a, &(struct fg_audit_entry){ .kind = _FG_AUDIT_KIND_MAX }),
			 -EINVAL);
	fg_audit_free(a);

	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(sub, sizeof(sub), "%s/audit/audit.log", dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	snprintf(sub, sizeof(sub), "%s/audit", dir);
	assert_int_equal(fg_audit_read(sub, 0, UINT64_MAX, collect, &c, NULL), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.e[0].kind, FG_AUDIT_PRESS);
	assert_int_equal(c.e[0].since_press, 0);
	assert_string_equal(c.e[1].detail, "HTTP 200\tafter\n1 attempt \\ ok");
	assert_string_equal(c.e[1].target, "alertops");
	assert_int_equal(c.e[1].latency, 350000);
	assert_int_equal(c.e[1].since_press, 2 * SEC);
	assert_int_equal(c.e[2].since_press, 95 * SEC);
	assert_string_equal(c.e[3].button, "");
	assert_int_equal(c.e[3].since_press, 0);

	/* a time window */
	memset(&c, 0, sizeof(c));
	assert_int_equal(fg_audit_read(sub, T0 + SEC, T0 + 99 * SEC, collect, &c, NULL), 0);
	assert_int_equal(c.n, 2);
	/* the response interval needs the press, even outside the window */
	assert_int_equal(c.e[0].since_press, 2 * SEC);
	rm_rf(dir);
}

static void test_rotation_bounded(void **state)
{
	char *dir = tmpdir(), path[160];
	struct fg_audit *a = NULL;
	struct collected c = { 0 };
	struct stat st;
	char detail[300];

	memset(detail, 'x', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	assert_int_equal(fg_audit_open(dir, 4096, 2, &a), 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(fg_audit_append(a, &(struct fg_audit_entry){
			.time_usec = T0 + (uint64_t)i * SEC, .kind = FG_AUDIT_TEST,
			.button = "b", .alert_id = "T", .detail = detail }), 0);
	fg_audit_free(a);
	for (int i = 0; i <= 2; i++) {
		if (i == 0)
			snprintf(path, sizeof(path), "%s/audit.log", dir);
		else
			snprintf(path, sizeof(path), "%s/audit.log.%d", dir, i);
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_size <= 4096);
	}
	snprintf(path, sizeof(path), "%s/audit.log.3", dir);
	assert_int_equal(stat(path, &st), -1);
	/* the newest records survive, oldest first, none torn */
	assert_int_equal(fg_audit_read(dir, 0, UINT64_MAX, collect, &c, NULL), 0);
	assert_true(c.n > 10 && c.n < 200);
	assert_int_equal(c.e[c.n < 64 ? c.n - 1 : 63].time >= c.e[0].time, 1);
	rm_rf(dir);
}

static void test_damaged_lines_skipped(void **state)
{
	char *dir = tmpdir(), path[160];
	struct collected c = { 0 };
	unsigned skipped = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit.log", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "a1\t%llu\tpress\tb\tA\t-\t0\tclick\n", (unsigned long long)T0);
	fprintf(f, "garbage\n");
	fprintf(f, "a1\tnotanumber\tpress\tb\tA\t-\t0\tx\n");
	fprintf(f, "a1\t1\tnosuchkind\tb\tA\t-\t0\tx\n");
	fprintf(f, "a1\t%llu\tdelivered\tb\tA\tw\t5\tok\n", (unsigned long long)(T0 + SEC));
	fprintf(f, "a1\t%llu\tclosed\tb\tA\t-\t0\ttorn", (unsigned long long)(T0 + 2 * SEC));
	fclose(f);
	assert_int_equal(fg_audit_read(dir, 0, UINT64_MAX, collect, &c, &skipped), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(skipped, 4);
	assert_int_equal(c.e[1].since_press, SEC);
	rm_rf(dir);
}

static int stop_at_two(const struct fg_audit_entry *e, uint64_t s, void *userdata)
{
	return ++*(int *)userdata == 2 ? -ECANCELED : 0;
}

static void test_callback_stops(void **state)
{
	char *dir = tmpdir();
	struct fg_audit *a = NULL;
	int n = 0;

	assert_int_equal(fg_audit_open(dir, 4096, 1, &a), 0);
	for (int i = 0; i < 5; i++)
		fg_audit_append(a, &(struct fg_audit_entry){ .time_usec = T0, .kind = FG_AUDIT_ACK });
	fg_audit_free(a);
	assert_int_equal(fg_audit_read(dir, 0, UINT64_MAX, stop_at_two, &n, NULL), -ECANCELED);
	assert_int_equal(n, 2);
	assert_int_equal(fg_audit_open(dir, 100, 1, &a), -EINVAL);
	assert_int_equal(fg_audit_open(dir, 4096, 0, &a), -EINVAL);
	rm_rf(dir);
}

static void test_csv(void **state)
{
	struct fg_strbuf sb = {};
	struct fg_strbuf *f = &sb;
	char *buf = NULL;

	fg_audit_csv_header(f);
	fg_audit_csv_line(f, &(struct fg_audit_entry){
		.time_usec = T0 + 123456, .kind = FG_AUDIT_DELIVERED, .button = "bed-12",
		.alert_id = "A1", .target = "alertops", .latency_usec = 1500,
		.detail = "said \"ok\", twice\nreally" }, 2500000);
	fg_audit_csv_line(f, &(struct fg_audit_entry){
		.time_usec = T0, .kind = FG_AUDIT_PRESS, .button = "b" }, 0);
	assert_int_equal(fg_strbuf_steal(f, &buf, NULL), 0);
	assert_string_equal(buf,
		"time,event,button,alert_id,target,latency_ms,since_press_s,detail\r\n"
		"2026-11-24T15:47:40.123Z,delivered,bed-12,A1,alertops,1.5,2.500,\"said \"\"ok\"\", twice\nreally\"\r\n"
		"2026-11-24T15:47:40.000Z,press,b,,,0.0,,\r\n");
	free(buf);
	for (int k = 0; k < _FG_AUDIT_KIND_MAX; k++)
		assert_int_equal(fg_audit_kind_from_string(fg_audit_kind_to_string(k)), k);
}

/* The line format alone: escapes survive, a long detail is cut but the line stays whole. */
static void test_record_line(void **state)
{
	char line[FG_AUDIT_LINE_MAX], big[6000];
	struct fg_audit_entry e;
	int n;

	n = fg_audit_record_format(&(struct fg_audit_entry){
		.time_usec = T0, .kind = FG_AUDIT_ACK, .button = "a\tb\\c",
		.detail = "two\nlines" }, line);
	assert_int_equal(n, (int)strlen(line));
	assert_string_equal(line, "a1\t1795535260000000\tack\ta\\tb\\\\c\t-\t-\t0\ttwo\\nlines\n");
	line[n - 1] = '\0';
	assert_int_equal(fg_audit_record_parse(line, &e), 0);
	assert_int_equal(e.kind, FG_AUDIT_ACK);
	assert_int_equal(e.time_usec, T0);
	assert_string_equal(e.button, "a\tb\\c");
	assert_string_equal(e.alert_id, "");
	assert_string_equal(e.detail, "two\nlines");

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = fg_audit_record_format(&(struct fg_audit_entry){ .kind = FG_AUDIT_TEST, .detail = big }, line);
	assert_true(n > 0 && n < FG_AUDIT_LINE_MAX);
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(fg_audit_record_format(&(struct fg_audit_entry){ .kind = _FG_AUDIT_KIND_MAX }, line),
			 -EINVAL);

	strcpy(line, "a2\t1\tack\t-\t-\t-\t0\t-");
	assert_int_equal(fg_audit_record_parse(line, &e), -EBADMSG);
	strcpy(line, "a1\t1\tnope\t-\t-\t-\t0\t-");
	assert_int_equal(fg_audit_record_parse(line, &e), -EBADMSG);
	strcpy(line, "a1\t1\tack\t-\t-\t-\t0");
	assert_int_equal(fg_audit_record_parse(line, &e), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/audit/append-read-round-trip", test_round_trip),
		FG_TEST("/audit/record/line-format", test_record_line),
		FG_TEST("/audit/rotation-is-bounded", test_rotation_bounded),
		FG_TEST("/audit/damaged-and-torn-lines-skipped", test_damaged_lines_skipped),
		FG_TEST("/audit/callback-stops-walk", test_callback_stops),
		FG_TEST("/audit/csv-export", test_csv),
	};

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
