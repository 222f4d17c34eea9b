/* SPDX-License-Identifier: MIT */
/*
 * Delivery benchmarks (make bench), against build/flicsink on loopback:
 *
 *  1. press -> request fully received by the sink: p50/p99/max of the
 *     gateway-added latency, one press at a time, state dir on disk
 *     (ext4 here: includes the spool's fdatasync) and on tmpfs;
 *  2. 10 000 spooled alerts drained to the sink after a restart;
 *  3. 10 000 alerts of 64 buttons spooled while the sink answers 503,
 *     drained while the pipeline keeps running once it answers 200 again;
 *  4. RSS and CPU of the idle pipeline.
 *
 * Prints the numbers; docs/benchmarks.md records them with the machine.
 * Environment: FG_BENCH_PRESSES (default 1000), FG_BENCH_DRAIN (10000),
 * FG_BENCH_DISK_DIR (default /var/tmp; the drain there uses FG_BENCH_DRAIN / 5),
 * FG_BENCH_OUTAGE (seconds the sink fails before the running drain, 20),
 * FG_BENCH_ONLY=drain-running (that one alone).
 */
#include <sys/resource.h>

#include "../sink-helper.h"
#include "bench-config.h"

#include "delivery/pipeline.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define BUTTONS 100
/* Buttons of the running drain (the measurement of the issue it answers). */
#define DRAIN_BUTTONS 64

static struct sink sink;
static unsigned delivered;
static uint64_t first_delivered_at;

static void on_event(struct fg_pipeline *p, const struct fg_pipeline_event *ev, void *userdata)
{
	if (ev->kind == FG_PIPELINE_DELIVERED && delivered++ == 0)
		first_delivered_at = fg_now_monotonic();
}

/* A fresh state dir under @base (its path into @dir) and the bench's config for it. */
static struct fg_config *make_state_dir(const char *base, char *dir, size_t size)
{
	snprintf(dir, size, "%s/fg-bench-XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror(dir);
		exit(1);
	}
	return bench_config(dir, sink.url, BUTTONS, "BG30-B");
}

/* The @i-th press when @n buttons take turns: button i % n, its counter i / n + 1. */
static struct fg_button_event event_of(unsigned i, unsigned n)
{
	unsigned j = i / n;

	return (struct fg_button_event){
		.gesture = j % 2 ? FG_GESTURE_DOUBLE_CLICK : FG_GESTURE_CLICK,
		.event_counter = j + 1,
		.battery_mv = 3000,
	};
}

static struct fg_button_event event(unsigned i)
{
	return event_of(i, BUTTONS);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* The sink's receive time of the first request carrying @key. */
static uint64_t received_at(const char *log, const char *key)
{
	char pat[128];
	const char *k, *line;
	unsigned long long t;

	snprintf(pat, sizeof(pat), "\"idempotency-key\":\"%s\"", key);
	k = strstr(log, pat);
	if (!k)
		return 0;
	for (line = k; line > log && line[-1] != '\n'; line--)
		;
	if (sscanf(strstr(line, "\"t_us\":"), "\"t_us\":%llu", &t) != 1)
		return 0;
	return t;
}

static void bench_latency(const char *base, const char *label, unsigned presses)
{
	char dir[256], key[FG_IDEMPOTENCY_KEY_MAX];
	uint64_t *sent = calloc(presses, sizeof(uint64_t)), *lat = calloc(presses, sizeof(uint64_t));
	struct fg_config *c;
	struct fg_pipeline *p;
	sd_event *e;
	char *log;
	size_t n = 0;

	snprintf(dir, sizeof(dir), "%s/fg-bench-XXXXXX", base);
	if (!mkdtemp(dir) || !sent || !lat) {
		perror(dir);
		exit(1);
	}
	CHECK((sink_control(&sink, "/_sink/clear", "")) == (200));
	CHECK(truncate(sink.log, 0) == 0);
	c = bench_config(dir, sink.url, BUTTONS, "BG30-B");
	CHECK((sd_event_new(&e)) == (0));
	CHECK((fg_pipeline_new(e, c, &p)) == (0));
	fg_pipeline_set_callback(p, on_event, NULL);
	/* warm up: the connection is open and kept alive */
	for (unsigned i = 0; i < presses + 10; i++) {
		unsigned idx = i;
		struct fg_button_event ev = event(idx);
		unsigned want = delivered + 1;

		if (i >= 10)
			sent[i - 10] = fg_now_monotonic();
		CHECK((fg_pipeline_button_event(p, &c->buttons[idx % BUTTONS], &ev, NULL)) == (0));
		while (delivered < want)
			CHECK(sd_event_run(e, UINT64_MAX) >= 0);
		/* presses are seconds apart: let the loop finish (state save) first */
		while (sd_event_run(e, 0) > 0)
			;
	}
	log = sink_read_log(&sink);
	for (unsigned i = 0; i < presses; i++) {
		struct fg_button_event ev = event(i + 10);
		uint64_t t;

		fg_mapping_idempotency_key(&c->buttons[(i + 10) % BUTTONS], &ev, key);
		t = received_at(log, key);
		if (t && t >= sent[i])
			lat[n++] = t - sent[i];
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("latency %-28s presses=%zu p50=%.3f ms p99=%.3f ms max=%.3f ms\n", label, n,
	       lat[n / 2] / 1000.0, lat[n * 99 / 100] / 1000.0, lat[n - 1] / 1000.0);
	free(log);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
	rm_rf(dir);
	free(sent);
	free(lat);
}

/*
 * The floor under any durable-before-the-first-attempt design: one 4 KiB
 * overwrite in allocated space plus fdatasync, on the same file system,
 * right before the latency run. Printed so the latency can be read
 * against what the storage costs at that moment.
 */
static void bench_flush_floor(const char *base, const char *label, unsigned n)
{
	static uint8_t block[4096];
	char path[256];
	uint64_t *lat = calloc(n, sizeof(uint64_t));
	int fd;

	snprintf(path, sizeof(path), "%s/fg-bench-flush-XXXXXX", base);
	fd = mkstemp(path);
	CHECK(fd >= 0 && lat);
	for (unsigned i = 0; i < n; i++)
		CHECK(pwrite(fd, block, sizeof(block), (off_t)i * 4096) == sizeof(block));
	CHECK(fsync(fd) == 0);
	memset(block, 'x', sizeof(block));
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = fg_now_monotonic();

		CHECK(pwrite(fd, block, sizeof(block), (off_t)i * 4096) == sizeof(block));
		CHECK(fdatasync(fd) == 0);
		lat[i] = fg_now_monotonic() - t0;
		/* presses are apart: let the device settle as it would between them */
		sink_sleep_ms(2);
	}
	close(fd);
	unlink(path);
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("floor   %-28s pwrite 4 KiB + fdatasync, n=%u p50=%.3f ms p99=%.3f ms\n", label, n,
	       lat[n / 2] / 1000.0, lat[n * 99 / 100] / 1000.0);
	free(lat);
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void bench_drain(const char *base, unsigned count)
{
	char dir[256];
	struct fg_config *c;
	struct fg_pipeline *p;
	sd_event *e;
	uint64_t t0, t1, fill0, fill1;
	double c0, c1;
	long rss_before;

	c = make_state_dir(base, dir, sizeof(dir));
	CHECK((sd_event_new(&e)) == (0));
	/* fill the spool without running the loop: nothing goes out */
	CHECK((fg_pipeline_new(e, c, &p)) == (0));
	fill0 = fg_now_monotonic();
	for (unsigned i = 0; i < count; i++) {
		struct fg_button_event ev = event(i);

		CHECK((fg_pipeline_button_event(p, &c->buttons[i % BUTTONS], &ev, NULL)) == (0));
	}
	fill1 = fg_now_monotonic();
	fg_pipeline_free(p);
	printf("spool   fill %u alerts (durable: journal pwrite + fdatasync each): %.0f alerts/s\n", count,
	       count / ((fill1 - fill0) / 1e6));

	/* restart: replay and drain */
	CHECK((sink_control(&sink, "/_sink/clear", "")) == (200));
	delivered = 0;
	t0 = fg_now_monotonic();
	CHECK((fg_pipeline_new(e, c, &p)) == (0));
	fg_pipeline_set_callback(p, on_event, NULL);
	CHECK((fg_pipeline_spool_depth(p)) == (count));
	while (fg_pipeline_spool_depth(p) > 0)
		CHECK(sd_event_run(e, UINT64_MAX) >= 0);
	t1 = fg_now_monotonic();
	printf("drain   %u spooled alerts -> sink (keep-alive, %d buttons): %.2f s, %.0f alerts/s\n",
	       delivered, BUTTONS, (t1 - t0) / 1e6, delivered / ((t1 - t0) / 1e6));

	/* idle: nothing queued, loop waiting */
	rss_before = rss_kb();
	c0 = cpu_s();
	for (uint64_t end = fg_now_monotonic() + 5 * FG_USEC_PER_SEC; fg_now_monotonic() < end;)
		CHECK(sd_event_run(e, 500 * 1000) >= 0);
	c1 = cpu_s();
	printf("idle    RSS %ld kB (whole bench process), CPU %.3f%% over 5 s\n", rss_before,
	       (c1 - c0) / 5.0 * 100);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
	rm_rf(dir);
}

/*
 * Spool @count alerts of DRAIN_BUTTONS buttons while the sink answers 503
 * and keep failing for @outage_s seconds (each button's alert backs off),
 * then let the sink answer 200 and time the drain, the pipeline running
 * all along: no restart.
 */
static void bench_drain_running(const char *base, unsigned count, unsigned outage_s)
{
	char dir[256];
	struct fg_config *c;
	struct fg_pipeline *p;
	sd_event *e;
	uint64_t t0, t1, end;

	c = make_state_dir(base, dir, sizeof(dir));
	CHECK((sd_event_new(&e)) == (0));
	CHECK((sink_control(&sink, "/_sink/clear", "")) == (200));
	CHECK((sink_mode(&sink, "status 503")) == (200));
	CHECK((fg_pipeline_new(e, c, &p)) == (0));
	fg_pipeline_set_callback(p, on_event, NULL);
	end = fg_now_monotonic() + (uint64_t)outage_s * FG_USEC_PER_SEC;
	for (unsigned i = 0; i < count; i++) {
		struct fg_button_event ev = event_of(i, DRAIN_BUTTONS);

		CHECK((fg_pipeline_button_event(p, &c->buttons[i % DRAIN_BUTTONS], &ev, NULL)) == (0));
		CHECK(sd_event_run(e, 0) >= 0);
	}
	while (fg_now_monotonic() < end)
		CHECK(sd_event_run(e, 100 * 1000) >= 0);
	CHECK((fg_pipeline_spool_depth(p)) == (count));

	/* the sink answers again */
	CHECK((sink_control(&sink, "/_sink/clear", "")) == (200));
	delivered = 0;
	t0 = fg_now_monotonic();
	end = t0 + 600 * FG_USEC_PER_SEC;
	while (fg_pipeline_spool_depth(p) > 0 && fg_now_monotonic() < end)
		CHECK(sd_event_run(e, 100 * 1000) >= 0);
	t1 = fg_now_monotonic();
	CHECK((fg_pipeline_spool_depth(p)) == (0));
	/*
	 * Two numbers: how long the failing target took to be found back
	 * (its next probe, at most FG_DISPATCH_PROBE_MAX_USEC away), and the
	 * drain once it answered, which is what the queue's policy decides.
	 */
	printf("drain   %u alerts of %d buttons after a %u s outage, while running (no restart): "
	       "found back after %.2f s, then %.2f s: %.0f alerts/s (%.0f alerts/s from the sink's return)\n",
	       delivered, DRAIN_BUTTONS, outage_s, (first_delivered_at - t0) / 1e6,
	       (t1 - first_delivered_at) / 1e6, (delivered - 1) / ((t1 - first_delivered_at) / 1e6),
	       delivered / ((t1 - t0) / 1e6));
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
	rm_rf(dir);
}

int main(void)
{
	const char *s;
	unsigned presses = 1000, drain = 10000, outage = 20;
	const char *disk = getenv("FG_BENCH_DISK_DIR") ? getenv("FG_BENCH_DISK_DIR") : "/var/tmp";

	if ((s = getenv("FG_BENCH_PRESSES")))
		presses = (unsigned)atoi(s);
	if ((s = getenv("FG_BENCH_DRAIN")))
		drain = (unsigned)atoi(s);
	if ((s = getenv("FG_BENCH_OUTAGE")))
		outage = (unsigned)atoi(s);
	signal(SIGPIPE, SIG_IGN);
	fg_log_set_level(LOG_ERR);
	if (sink_start(&sink, NULL) < 0) {
		fprintf(stderr, "cannot start %s\n", sink_binary());
		return 1;
	}
	if (getenv("FG_BENCH_ONLY") && strcmp(getenv("FG_BENCH_ONLY"), "drain-running") == 0) {
		bench_drain_running("/dev/shm", drain, outage);
		sink_stop(&sink);
		return 0;
	}
	bench_flush_floor(disk, "(disk)", 300);
	bench_latency(disk, "(state on disk)", presses);
	bench_latency("/dev/shm", "(state on tmpfs)", presses);
	bench_drain("/dev/shm", drain);
	bench_drain_running("/dev/shm", drain, outage);
	/* on ext4 each alert costs a flush to the disk: keep that run shorter */
	bench_drain(disk, drain / 5);
	sink_stop(&sink);
	return 0;
}
