/* SPDX-License-Identifier: MIT */
/*
 * The disk path of a press (make bench): the real pipeline on sd-event,
 * state on disk (FG_BENCH_DISK_DIR, default /var/tmp: ext4 here), libcurl
 * to build/flicsink on loopback. Each press does what the daemon does for
 * one: the alert and its button's alert state through
 * fg_pipeline_button_event(), the button's event counter through
 * fg_pipeline_stage_state() (the radio's "counter:<address>"), and it is
 * acknowledged when the batch's commit reports success. The radio itself
 * is not in this path (every button counts as linked):
 * tests/bench/bench-press-latency.py measures a press through the
 * simulator.
 *
 *  1. one press at a time: press -> acknowledged, press -> request at the sink;
 *  2. 48 buttons pressed within the same 100 ms, 20 rounds;
 *  3. 32 buttons, 2 000 presses/s offered for FG_BENCH_SECONDS (5).
 *
 * Per scenario: p50/p99/max latency, lost (acknowledged, never at the
 * sink), duplicated (a key accepted twice), presses per flush, and the
 * bytes written per press (the journal's own count and /proc/self/io
 * write_bytes). Prints numbers only; docs/benchmarks.md records them.
 */
#include <sys/resource.h>

#include "../sink-helper.h"
#include "bench-config.h"

#include "delivery/pipeline.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define MAX_BUTTONS 64

static struct sink sink;

struct run {
	sd_event *event;
	struct fg_config *config;
	struct fg_pipeline *p;
	unsigned buttons;
	uint32_t counter[MAX_BUTTONS];
	/* presses by index: when pressed, when acknowledged, their keys */
	uint64_t *pressed, *acked;
	char (*keys)[FG_IDEMPOTENCY_KEY_MAX];
	unsigned n, cap;
	unsigned first_pending;		/* presses from here on wait for a commit */
	unsigned commits, failed;
};

static void on_commit(struct fg_pipeline *p, int r, void *userdata)
{
	struct run *run = userdata;
	uint64_t now = fg_now_monotonic();

	run->commits++;
	if (r < 0) {
		run->failed++;
		return;
	}
	for (unsigned i = run->first_pending; i < run->n; i++)
		run->acked[i] = now;
	run->first_pending = run->n;
}

static void press(struct run *run, unsigned b)
{
	const struct fg_button_config *bc = &run->config->buttons[b];
	uint32_t j = run->counter[b]++;
	struct fg_button_event ev = {
		.gesture = j % 2 ? FG_GESTURE_DOUBLE_CLICK : FG_GESTURE_CLICK,
		.event_counter = j + 1,
		.battery_mv = 3000,
	};
	char key[32], value[64];

	if (run->n == run->cap) {
		run->cap = run->cap ? 2 * run->cap : 1024;
		run->pressed = reallocarray(run->pressed, run->cap, sizeof(*run->pressed));
		run->acked = reallocarray(run->acked, run->cap, sizeof(*run->acked));
		run->keys = reallocarray(run->keys, run->cap, sizeof(*run->keys));
		CHECK(run->pressed && run->acked && run->keys);
	}
	run->pressed[run->n] = fg_now_monotonic();
	run->acked[run->n] = 0;
	fg_mapping_idempotency_key(bc, &ev, run->keys[run->n]);
	run->n++;
	CHECK(fg_pipeline_button_event(run->p, bc, &ev, NULL) == 0);
	/* what the radio hands on for the same press: its counter */
	snprintf(key, sizeof(key), "counter:80E4DA7000%02X", b);
	snprintf(value, sizeof(value), "boot 1\ncounter %u\n", j + 1);
	CHECK(fg_pipeline_stage_state(run->p, key, value, strlen(value)) == 1);
}

static uint64_t write_bytes(void)
{
	FILE *f = fopen("/proc/self/io", "re");
	unsigned long long v = 0;
	char line[128];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "write_bytes: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The sink's receive time (CLOCK_MONOTONIC µs) of each key's first acceptance; count them. */
static void sink_times(const char *log, struct run *run, uint64_t *ret, unsigned *ret_dup)
{
	unsigned dup = 0;

	for (unsigned i = 0; i < run->n; i++) {
		char pat[FG_IDEMPOTENCY_KEY_MAX + 32];
		const char *k, *line, *t;
		unsigned long long v;

		ret[i] = 0;
		snprintf(pat, sizeof(pat), "\"idempotency-key\":\"%s\"", run->keys[i]);
		k = strstr(log, pat);
		if (!k)
			continue;
		for (line = k; line > log && line[-1] != '\n'; line--)
			;
		t = strstr(line, "\"t_us\":");
		if (t && sscanf(t, "\"t_us\":%llu", &v) == 1)
			ret[i] = v;
		if (strstr(k + 1, pat))
			dup++;
	}
	*ret_dup = dup;
}

static void pcts(const char *what, uint64_t *v, unsigned n)
{
	if (n == 0) {
		printf("  %-22s no samples\n", what);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("  %-22s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms\n", what, v[n / 2] / 1000.0,
	       v[(size_t)n * 99 / 100] / 1000.0, v[n - 1] / 1000.0);
}

static void run_start(struct run *run, const char *base, unsigned buttons, char *dir, size_t size)
{
	snprintf(dir, size, "%s/fg-bench-press-XXXXXX", base);
	CHECK(mkdtemp(dir));
	CHECK(sink_control(&sink, "/_sink/clear", "") == 200);
	CHECK(truncate(sink.log, 0) == 0);
	*run = (struct run){ .buttons = buttons };
	run->config = bench_config(dir, sink.url, buttons, "BG30-P");
	CHECK(sd_event_new(&run->event) == 0);
	CHECK(fg_pipeline_new(run->event, run->config, &run->p) == 0);
	fg_pipeline_set_commit_callback(run->p, on_commit, run);
}

static void loop_until(struct run *run, uint64_t until)
{
	uint64_t now;

	while ((now = fg_now_monotonic()) < until)
		CHECK(sd_event_run(run->event, until - now) >= 0);
}

/* Run the loop until every press is acknowledged and at the sink. */
static void settle(struct run *run)
{
	uint64_t end = fg_now_monotonic() + 60 * FG_USEC_PER_SEC;

	while (fg_now_monotonic() < end &&
	       (run->first_pending < run->n || fg_pipeline_spool_depth(run->p) > 0))
		CHECK(sd_event_run(run->event, 10 * FG_USEC_PER_MSEC) >= 0);
}

static void run_report(struct run *run, const char *label, char *dir, uint64_t bytes0,
		       uint64_t journal0, unsigned warmup, double seconds)
{
	uint64_t *at_sink = calloc(run->n, sizeof(uint64_t));
	uint64_t *ack = calloc(run->n, sizeof(uint64_t)), *deliv = calloc(run->n, sizeof(uint64_t));
	unsigned n_ack = 0, n_deliv = 0, lost = 0, dup, presses = run->n - warmup;
	uint64_t bytes = write_bytes() - bytes0;
	uint64_t journal = fg_pipeline_bytes_written(run->p) - journal0;
	char *log = sink_read_log(&sink);

	CHECK(at_sink && ack && deliv && log);
	sink_times(log, run, at_sink, &dup);
	for (unsigned i = warmup; i < run->n; i++) {
		if (run->acked[i])
			ack[n_ack++] = run->acked[i] - run->pressed[i];
		if (at_sink[i] >= run->pressed[i])
			deliv[n_deliv++] = at_sink[i] - run->pressed[i];
		if (run->acked[i] && !at_sink[i])
			lost++;
	}
	printf("%s: %u presses", label, presses);
	if (seconds > 0)
		printf(" in %.2f s (%.0f presses/s acknowledged)", seconds, n_ack / seconds);
	printf(", %u acknowledged, lost %u, duplicated %u, %u flushes (%.1f presses per flush)\n",
	       n_ack, lost, dup, run->commits, run->commits ? (double)run->n / run->commits : 0.0);
	pcts("press -> acknowledged", ack, n_ack);
	pcts("press -> at the sink", deliv, n_deliv);
	printf("  bytes written per press: journal %.0f, block layer (write_bytes) %.0f\n",
	       presses ? (double)journal / presses : 0.0, presses ? (double)bytes / presses : 0.0);
	free(log);
	free(at_sink);
	free(ack);
	free(deliv);
	fg_pipeline_free(run->p);
	sd_event_unref(run->event);
	fg_config_unref(run->config);
	free(run->pressed);
	free(run->acked);
	free(run->keys);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
}

/* Presses seconds apart: each its own batch. */
static void bench_single(const char *base, unsigned presses)
{
	struct run run;
	char dir[256];
	uint64_t b0, j0;

	run_start(&run, base, 1, dir, sizeof(dir));
	for (unsigned i = 0; i < 10; i++) {	/* warm up: connection, journal */
		press(&run, 0);
		settle(&run);
	}
	b0 = write_bytes();
	j0 = fg_pipeline_bytes_written(run.p);
	for (unsigned i = 0; i < presses; i++) {
		press(&run, 0);
		settle(&run);
		loop_until(&run, fg_now_monotonic() + 2 * FG_USEC_PER_MSEC);
	}
	run_report(&run, "single press, state on disk", dir, b0, j0, 10, 0);
}

/* @buttons pressed spread over 100 ms, @rounds times. */
static void bench_burst(const char *base, unsigned buttons, unsigned rounds)
{
	struct run run;
	char dir[256], label[64];
	uint64_t b0, j0;

	run_start(&run, base, buttons, dir, sizeof(dir));
	press(&run, 0);
	settle(&run);
	b0 = write_bytes();
	j0 = fg_pipeline_bytes_written(run.p);
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t t0 = fg_now_monotonic();

		for (unsigned b = 0; b < buttons; b++) {
			loop_until(&run, t0 + (uint64_t)b * 100 * FG_USEC_PER_MSEC / buttons);
			press(&run, b);
		}
		settle(&run);
		loop_until(&run, fg_now_monotonic() + 150 * FG_USEC_PER_MSEC);
	}
	snprintf(label, sizeof(label), "%u buttons within 100 ms, %u rounds", buttons, rounds);
	run_report(&run, label, dir, b0, j0, 1, 0);
}

/* @rate presses/s offered over @buttons for @seconds: a few presses per millisecond. */
static void bench_sustained(const char *base, unsigned buttons, unsigned rate, unsigned seconds)
{
	struct run run;
	char dir[256], label[64];
	uint64_t b0, j0, t0, end;
	unsigned next = 0, total = rate * seconds;

	run_start(&run, base, buttons, dir, sizeof(dir));
	press(&run, 0);
	settle(&run);
	b0 = write_bytes();
	j0 = fg_pipeline_bytes_written(run.p);
	t0 = fg_now_monotonic();
	while (next < total) {
		/* every press due by now, then let the loop run */
		uint64_t now = fg_now_monotonic();
		unsigned due = (unsigned)((now - t0) * rate / FG_USEC_PER_SEC);

		for (; next < total && next < due; next++)
			press(&run, next % buttons);
		CHECK(sd_event_run(run.event, 500) >= 0);
	}
	end = fg_now_monotonic();
	while (run.first_pending < run.n && fg_now_monotonic() < end + 10 * FG_USEC_PER_SEC)
		CHECK(sd_event_run(run.event, FG_USEC_PER_MSEC) >= 0);
	end = fg_now_monotonic();
	settle(&run);
	snprintf(label, sizeof(label), "%u buttons, %u presses/s offered", buttons, rate);
	run_report(&run, label, dir, b0, j0, 1, (double)(end - t0) / FG_USEC_PER_SEC);
}

int main(void)
{
	const char *disk = getenv("FG_BENCH_DISK_DIR") ? getenv("FG_BENCH_DISK_DIR") : "/var/tmp";
	unsigned presses = 500, seconds = 5;
	const char *s;

	if ((s = getenv("FG_BENCH_PRESSES")))
		presses = (unsigned)atoi(s);
	if ((s = getenv("FG_BENCH_SECONDS")))
		seconds = (unsigned)atoi(s);
	signal(SIGPIPE, SIG_IGN);
	fg_log_set_level(LOG_ERR);
	if (sink_start(&sink, NULL) < 0) {
		fprintf(stderr, "cannot start %s\n", sink_binary());
		return 1;
	}
	printf("state in %s\n", disk);
	bench_single(disk, presses);
	bench_burst(disk, 48, 20);
	bench_sustained(disk, 32, 2000, seconds);
	sink_stop(&sink);
	return 0;
}
