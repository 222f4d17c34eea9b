/* SPDX-License-Identifier: MIT */
/* The whole pipeline (mapping, spool, curl on sd-event) against the real sink. */
#include "fg-test.h"
#include "sink-helper.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delivery/pipeline.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/timeutil.h"

static struct sink sink;
static char state_dir[64];
static unsigned events[_FG_PIPELINE_EVENT_MAX];

static int setup(void **state)
{
	strcpy(state_dir, "/tmp/fg-test-pipeline-XXXXXX");
	assert_non_null(mkdtemp(state_dir));
	assert_int_equal(sink_start(&sink, NULL), 0);
	memset(events, 0, sizeof(events));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	sink_stop(&sink);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void on_event(struct fg_pipeline *p, const struct fg_pipeline_event *ev, void *userdata)
{
	events[ev->kind]++;
}

static struct fg_config *load(const char *extra_webhook)
{
	char *ini;
	struct fg_config *c = NULL;
	struct fg_config_errors errors = {};

	assert_true(asprintf(&ini,
		"[gateway]\nname = test-gw\nstate_dir = %s\n"
		"[webhook main]\npreset = alertops\nurl = %s/alertops\n%s\n"
		"[button b0]\nserial = BG30-A00000\non = click\noff = double_click\ninfo = Room 0\n"
		"[button b1]\nserial = BG30-A00001\non = click\noff = double_click\n"
		"[button b2]\nserial = BG30-A00002\non = click\noff = double_click\n",
		state_dir, sink.url, extra_webhook ? extra_webhook : "rate_limit = 1000/s\n") > 0);
	if (fg_config_parse("test.ini", ini, strlen(ini), &errors, &c) < 0) {
		for (size_t i = 0; i < errors.n; i++)
			fprintf(stderr, "%s\n", errors.messages[i]);
		fail();
	}
	free(ini);
	return c;
}

static void press(struct fg_pipeline *p, const struct fg_config *c, unsigned button,
		  enum fg_gesture g, uint32_t counter, enum fg_mapping_outcome want)
{
	struct fg_button_event ev = { .gesture = g, .event_counter = counter, .battery_mv = 3000 };
	enum fg_mapping_outcome o;

	assert_int_equal(fg_pipeline_button_event(p, &c->buttons[button], &ev, &o), 0);
	assert_int_equal(o, want);
}

static void run_until_empty(sd_event *e, struct fg_pipeline *p, unsigned max_ms)
{
	for (unsigned i = 0; i < max_ms / 10; i++) {
		if (fg_pipeline_spool_depth(p) == 0)
			return;
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	}
	fail_msg("spool still holds %zu alerts", fg_pipeline_spool_depth(p));
}

static void run_for(sd_event *e, unsigned ms)
{
	uint64_t end = fg_now_monotonic() + ms * 1000ull;

	while (fg_now_monotonic() < end)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
}

/* The idempotency keys of the requests answered 200, in order, space-separated. */
static void accepted_keys(const char *log, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const char *line = log; line && *line;) {
		const char *eol = strchr(line, '\n'), *k = strstr(line, "\"idempotency-key\":\""),
			   *st = strstr(line, "\"status\":200}");

		if (k && st && (!eol || (k < eol && st < eol))) {
			const char *v = k + 19, *q = strchr(v, '"');

			off += (size_t)snprintf(buf + off, size - off, "%.*s ", (int)(q - v), v);
		}
		line = eol ? eol + 1 : NULL;
	}
}

static void test_order_per_button(void **state)
{
	struct fg_config *c = load(NULL);
	sd_event *e;
	struct fg_pipeline *p;
	char *log;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	fg_pipeline_set_callback(p, on_event, NULL);
	/* the sink is slow: order must come from the pipeline, not from luck */
	assert_int_equal(sink_mode(&sink, "slow 30"), 200);
	for (uint32_t n = 1; n <= 6; n++)
		for (unsigned b = 0; b < 3; b++)
			press(p, c, b, n % 2 ? FG_GESTURE_CLICK : FG_GESTURE_DOUBLE_CLICK, n,
			      n % 2 ? FG_MAPPING_OPEN : FG_MAPPING_CLOSE);
	press(p, c, 0, FG_GESTURE_DOUBLE_CLICK, 6, FG_MAPPING_DUPLICATE);
	assert_int_equal(fg_pipeline_spool_depth(p), 18);
	run_until_empty(e, p, 10000);
	assert_int_equal(events[FG_PIPELINE_DELIVERED], 18);
	assert_int_equal(events[FG_PIPELINE_ALERT_OPENED], 9);
	assert_int_equal(events[FG_PIPELINE_ALERT_CLOSED], 9);

	log = sink_read_log(&sink);
	assert_int_equal(count_substr(log, "\"path\":\"/alertops\""), 18);
	for (unsigned b = 0; b < 3; b++) {
		const char *last = log;

		for (uint32_t n = 1; n <= 6; n++) {
			char key[64];
			const char *at;

			snprintf(key, sizeof(key), "\"idempotency-key\":\"BG30-A0000%u:%u:%s\"", b, n,
				 n % 2 ? "click" : "double_click");
			at = strstr(log, key);
			assert_non_null(at);
			/* the Off of a button never before its On */
			assert_true(at > last);
			last = at;
		}
	}
	assert_non_null(strstr(log, "\\\"flic_nameId\\\":\\\"b0\\\",\\\"flic_state\\\":\\\"On\\\",\\\"info\\\":\\\"Room 0\\\""));
	free(log);
	assert_int_equal(fg_pipeline_n_deliveries(p), 18);
	assert_int_equal(fg_pipeline_delivery(p, 0)->http_status, 200);
	assert_int_equal(fg_pipeline_delivery(p, 0)->result, FG_DELIVERY_DONE);
	assert_false(fg_mapping_is_open(fg_pipeline_mapping(p), "b1"));
	/* the alert state is in the journal (not only at exit) */
	{
		const char *text;
		size_t len;

		assert_int_equal(fg_pipeline_get_state(p, "alert:b2", &text, &len), 0);
		assert_non_null(strstr(text, "button b2 0 - "));
		assert_non_null(strstr(text, "seen 6 double_click "));
	}
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

static void test_outage_then_recovery(void **state)
{
	struct fg_config *c = load(NULL);
	sd_event *e;
	struct fg_pipeline *p;
	struct fg_target_status ts;
	char *log;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	fg_pipeline_set_callback(p, on_event, NULL);
	/* two 503s, then a reset, then a 429 with Retry-After: then it works */
	assert_int_equal(sink_mode(&sink, "count=1 retry-after 1"), 200);
	assert_int_equal(sink_mode(&sink, "count=2 reset"), 200);
	assert_int_equal(sink_mode(&sink, "count=2 status 503"), 200);
	press(p, c, 0, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	press(p, c, 0, FG_GESTURE_DOUBLE_CLICK, 2, FG_MAPPING_CLOSE);
	press(p, c, 1, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	run_for(e, 300);
	fg_pipeline_target_status(p, 0, &ts);
	assert_string_equal(ts.name, "main");
	assert_int_equal(ts.health, FG_TARGET_FAILING);
	/* both buttons' first attempts got a 503 */
	assert_int_equal(events[FG_PIPELINE_FAILING], 2);
	run_until_empty(e, p, 20000);
	assert_int_equal(events[FG_PIPELINE_TARGET_HEALTHY], 1);
	fg_pipeline_target_status(p, 0, &ts);
	assert_int_equal(ts.health, FG_TARGET_HEALTHY);
	assert_int_equal(ts.delivered, 3);
	log = sink_read_log(&sink);
	{
		const char *on = strstr(log, "\"BG30-A00000:1:click\"\\\""), *off;

		(void)on;
		on = strstr(log, "\"status\":200");
		assert_non_null(on);
		off = strstr(log, "BG30-A00000:2:double_click\",");
		assert_non_null(off);
		/* the Off is accepted only after the On was */
		assert_true(strstr(log, "BG30-A00000:1:click\",") < off);
	}
	/* Retry-After 1 s was honoured: that alert's next try came at least 1 s later */
	{
		const char *ra = strstr(log, "\"action\":\"retry-after\""), *line = ra, *k, *again;
		unsigned long long t1, t2;
		char key[96];

		assert_non_null(ra);
		while (line > log && line[-1] != '\n')
			line--;
		k = strstr(line, "\"idempotency-key\":\"");
		assert_non_null(k);
		assert_true(k < ra);
		snprintf(key, sizeof(key), "%.*s", (int)(strchr(k + 19, '"') - k + 1), k);
		assert_int_equal(sscanf(strstr(line, "\"t_us\":"), "\"t_us\":%llu", &t1), 1);
		again = strstr(ra, key);
		assert_non_null(again);
		for (line = again; line[-1] != '\n'; line--)
			;
		assert_int_equal(sscanf(strstr(line, "\"t_us\":"), "\"t_us\":%llu", &t2), 1);
		assert_true(t2 - t1 >= 1000000);
	}
	free(log);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

/* On recovery a listener queues and dispatches at once, as supervision does. */
static void on_event_queue_more(struct fg_pipeline *p, const struct fg_pipeline_event *ev,
				void *userdata)
{
	on_event(p, ev, userdata);
	if (ev->kind == FG_PIPELINE_TARGET_HEALTHY)
		assert_int_equal(fg_pipeline_test_alert(p, "b2", NULL), 0);
}

/*
 * The delivery that brings a target back is out of the spool before the
 * pipeline says so: the listener's dispatch must neither send it again
 * nor free it under the delivery (a use-after-free before).
 */
static void test_recovery_listener_dispatches(void **state)
{
	struct fg_config *c = load(NULL);
	sd_event *e;
	struct fg_pipeline *p;
	char *log;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	fg_pipeline_set_callback(p, on_event_queue_more, NULL);
	assert_int_equal(sink_mode(&sink, "count=1 status 503"), 200);
	press(p, c, 0, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	run_until_empty(e, p, 20000);
	assert_int_equal(events[FG_PIPELINE_TARGET_HEALTHY], 1);
	/* the press, then the test alert's On and Off */
	assert_int_equal(events[FG_PIPELINE_DELIVERED], 3);
	log = sink_read_log(&sink);
	/* the press: one 503, one 200, never a third request */
	assert_int_equal(count_substr(log, "\"idempotency-key\":\"BG30-A00000:1:click\""), 2);
	assert_int_equal(count_substr(log, "\"path\":\"/alertops\""), 4);
	free(log);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

static void test_dead_letter_and_unhealthy(void **state)
{
	struct fg_config *c = load(NULL), *c2;
	sd_event *e;
	struct fg_pipeline *p;
	struct fg_target_status ts;
	char path[256];

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	fg_pipeline_set_callback(p, on_event, NULL);

	assert_int_equal(sink_mode(&sink, "count=1 status 422"), 200);
	press(p, c, 0, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	press(p, c, 0, FG_GESTURE_DOUBLE_CLICK, 2, FG_MAPPING_CLOSE);
	run_until_empty(e, p, 5000);
	assert_int_equal(events[FG_PIPELINE_DEAD_LETTER], 1);
	assert_int_equal(events[FG_PIPELINE_DELIVERED], 1);
	assert_int_equal(fg_pipeline_dead_count(p), 1);
	snprintf(path, sizeof(path), "%s/spool/dead", state_dir);
	assert_int_equal(access(path, F_OK), 0);

	/* 401: the target is unhealthy, alerts are kept, a reload retries */
	assert_int_equal(sink_mode(&sink, "count=1 status 401"), 200);
	press(p, c, 1, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	press(p, c, 1, FG_GESTURE_DOUBLE_CLICK, 2, FG_MAPPING_CLOSE);
	run_for(e, 500);
	assert_int_equal(events[FG_PIPELINE_TARGET_UNHEALTHY], 1);
	fg_pipeline_target_status(p, 0, &ts);
	assert_int_equal(ts.health, FG_TARGET_UNHEALTHY);
	assert_int_equal(ts.depth, 2);
	assert_int_equal(ts.last_status, 401);
	c2 = load(NULL);
	assert_int_equal(fg_pipeline_reload(p, c2), 0);
	fg_config_unref(c);
	run_until_empty(e, p, 5000);
	assert_int_equal(events[FG_PIPELINE_DELIVERED], 3);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c2);
}

static void test_restart_replays(void **state)
{
	struct fg_config *c = load(NULL);
	sd_event *e;
	struct fg_pipeline *p;
	char *log;
	unsigned port = sink.port;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	/* target down: everything waits in the spool */
	assert_int_equal(sink_mode(&sink, "status 503"), 200);
	for (uint32_t n = 1; n <= 4; n++)
		press(p, c, 2, n % 2 ? FG_GESTURE_CLICK : FG_GESTURE_DOUBLE_CLICK, n,
		      n % 2 ? FG_MAPPING_OPEN : FG_MAPPING_CLOSE);
	run_for(e, 200);
	assert_int_equal(fg_pipeline_spool_depth(p), 4);
	fg_pipeline_free(p);
	(void)port;

	/* new process, target back */
	assert_int_equal(sink_control(&sink, "/_sink/clear", ""), 200);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_int_equal(fg_pipeline_spool_depth(p), 4);
	/* the state survived too: a replayed press is a duplicate */
	press(p, c, 2, FG_GESTURE_DOUBLE_CLICK, 4, FG_MAPPING_DUPLICATE);
	run_until_empty(e, p, 10000);
	log = sink_read_log(&sink);
	{
		char accepted[4096];

		accepted_keys(log, accepted, sizeof(accepted));
		assert_string_equal(accepted, "BG30-A00002:1:click BG30-A00002:2:double_click "
					      "BG30-A00002:3:click BG30-A00002:4:double_click ");
	}
	free(log);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

static void test_test_alert_and_presets(void **state)
{
	char extra[512];
	struct fg_config *c;
	sd_event *e;
	struct fg_pipeline *p;
	char *log;

	snprintf(extra, sizeof(extra),
		 "rate_limit = 1000/s\n"
		 "[webhook slack]\npreset = slack\nurl = %s/slack\nrate_limit = 1000/s\n"
		 "[webhook gen]\npreset = generic\nurl = %s/gen\nmethod = PUT\n"
		 "header = Authorization: Bearer sekrit\n"
		 "body = {\"b\": \"${button}\", \"s\": \"${state}\", \"k\": \"${idempotency_key}\"}\n",
		 sink.url, sink.url);
	c = load(extra);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_int_equal(fg_pipeline_test_alert(p, "b1", NULL), 0);
	assert_int_equal(fg_pipeline_test_alert(p, "nope", NULL), -ENOENT);
	assert_int_equal(fg_pipeline_test_alert(p, NULL, "nope"), -ENOENT);
	run_until_empty(e, p, 5000);
	assert_false(fg_mapping_is_open(fg_pipeline_mapping(p), "b1"));
	log = sink_read_log(&sink);
	/* On and Off to alertops and generic; Slack only gets the On */
	assert_int_equal(count_substr(log, "\"path\":\"/alertops\""), 2);
	assert_int_equal(count_substr(log, "\"path\":\"/gen\""), 2);
	assert_int_equal(count_substr(log, "\"path\":\"/slack\""), 1);
	/* a test alert has a name of its own (docs/alerts.md) */
	assert_non_null(strstr(log, "[TEST] :rotating_light: *b1-test* alert"));
	assert_non_null(strstr(log, "\\\"flic_nameId\\\":\\\"b1-test\\\""));
	assert_non_null(strstr(log, "\"method\":\"PUT\",\"path\":\"/gen\""));
	assert_non_null(strstr(log, "\"authorization\":\"Bearer sekrit\""));
	assert_non_null(strstr(log, "\\\"flic_test\\\":true"));
	free(log);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

/*
 * On a kept-alive connection the request of a press is on the wire before
 * fg_pipeline_button_event() returns (its flush comes after it): the sink
 * gets it while this process runs no loop iteration at all.
 */
static void test_request_before_flush(void **state)
{
	struct fg_config *c = load(NULL);
	sd_event *e;
	struct fg_pipeline *p;
	size_t got = 0;
	char *log;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	fg_pipeline_set_callback(p, on_event, NULL);
	press(p, c, 0, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	run_until_empty(e, p, 5000);	/* the connection is open now */
	press(p, c, 1, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	for (unsigned i = 0; i < 500 && got < 2; i++) {
		sink_sleep_ms(10);
		log = sink_read_log(&sink);
		got = count_substr(log, "\"path\":\"/alertops\"");
		free(log);
	}
	assert_int_equal(got, 2);
	assert_int_equal(fg_pipeline_spool_depth(p), 1);	/* its answer waits for the loop */
	run_until_empty(e, p, 5000);
	assert_int_equal(events[FG_PIPELINE_DELIVERED], 2);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

/* A Retry-After pauses the whole target, not only the alert that got it. */
static void test_retry_after_pauses_target(void **state)
{
	struct fg_config *c = load(NULL);
	sd_event *e;
	struct fg_pipeline *p;
	unsigned long long t429 = 0, tb1 = 0;
	char *log, *l;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	fg_pipeline_set_callback(p, on_event, NULL);
	assert_int_equal(sink_mode(&sink, "count=1 retry-after 1"), 200);
	press(p, c, 0, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	for (int i = 0; i < 500 && events[FG_PIPELINE_FAILING] == 0; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_int_equal(events[FG_PIPELINE_FAILING], 1);
	/* another button, after the 429: it waits out the Retry-After too */
	press(p, c, 1, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	run_until_empty(e, p, 10000);
	log = sink_read_log(&sink);
	l = strstr(log, "\"action\":\"retry-after\"");
	assert_non_null(l);
	while (l > log && l[-1] != '\n')
		l--;
	assert_int_equal(sscanf(strstr(l, "\"t_us\":"), "\"t_us\":%llu", &t429), 1);
	l = strstr(log, "BG30-A00001:1:click");
	assert_non_null(l);
	while (l > log && l[-1] != '\n')
		l--;
	assert_int_equal(sscanf(strstr(l, "\"t_us\":"), "\"t_us\":%llu", &tb1), 1);
	assert_true(tb1 - t429 >= 1000000);
	free(log);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

/* The per-target token bucket spaces requests after the burst. */
static void test_rate_limit(void **state)
{
	struct fg_config *c = load("rate_limit = 4/s\n");
	sd_event *e;
	struct fg_pipeline *p;
	unsigned long long t[8], t_press;
	size_t n = 0;
	char *log;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	t_press = fg_now_monotonic();
	for (uint32_t k = 1; k <= 4; k++)
		for (unsigned b = 0; b < 2; b++)
			press(p, c, b, k % 2 ? FG_GESTURE_CLICK : FG_GESTURE_DOUBLE_CLICK, k,
			      k % 2 ? FG_MAPPING_OPEN : FG_MAPPING_CLOSE);
	run_until_empty(e, p, 10000);
	log = sink_read_log(&sink);
	for (const char *l = strstr(log, "\"t_us\":"); l && n < 8; l = strstr(l + 1, "\"t_us\":"))
		assert_int_equal(sscanf(l, "\"t_us\":%llu", &t[n++]), 1);
	assert_int_equal(n, 8);
	/*
	 * A burst of 4, then one every 250 ms: the 8th request cannot leave
	 * before 1 s after the presses (without the limit it takes ms).
	 * Measured from the presses, so a slow start (valgrind) cannot fool it.
	 */
	assert_true(t[7] - t_press >= 1000000);
	free(log);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

/* A queue whose [webhook] left the config is kept, shown, and sent once it is back. */
static void test_orphaned_queue(void **state)
{
	char extra[256];
	struct fg_config *c, *c2;
	struct fg_target_status ts;
	sd_event *e;
	struct fg_pipeline *p;
	size_t i;

	snprintf(extra, sizeof(extra), "[webhook second]\npreset = generic\nurl = %s/second\n"
		 "body = {\"k\": \"${idempotency_key}\"}\n", sink.url);
	c = load(extra);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_int_equal(sink_mode(&sink, "path=/second status 503"), 200);
	press(p, c, 0, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	run_for(e, 200);
	fg_pipeline_free(p);

	c2 = load(NULL);	/* "second" is gone */
	assert_int_equal(fg_pipeline_new(e, c2, &p), 0);
	run_for(e, 200);
	assert_int_equal(fg_pipeline_spool_depth(p), 1);
	for (i = 0; i < fg_pipeline_n_targets(p); i++) {
		fg_pipeline_target_status(p, i, &ts);
		if (strcmp(ts.name, "second") == 0)
			break;
	}
	assert_true(i < fg_pipeline_n_targets(p));
	assert_int_equal(ts.health, FG_TARGET_ORPHANED);
	assert_int_equal(ts.depth, 1);

	assert_int_equal(sink_control(&sink, "/_sink/clear", ""), 200);
	assert_int_equal(fg_pipeline_reload(p, c), 0);
	run_until_empty(e, p, 5000);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
	fg_config_unref(c2);
}

/*
 * A supervision alert goes to the [health] targets only, durable and in
 * order (On before Off), AlertOps gets flic_nameId = the alarm's name and
 * flic_supervision, Slack says "resolved" for the Off; no button's alert
 * state moves.
 */
static void test_supervision_alert(void **state)
{
	char extra[512], id[FG_ALERT_ID_MAX] = "";
	struct fg_config *c;
	sd_event *e;
	struct fg_pipeline *p;
	size_t only_slack_and_main[2];
	struct fg_supervision_alert on = {
		.name_id = "b0-battery", .on = true, .info = "Battery of button b0 is low: 2400 mV",
		.severity = FG_SEVERITY_WARNING, .since_usec = 1700000000000000,
	}, off = on;
	char *log;
	const char *at_on, *at_off;

	snprintf(extra, sizeof(extra),
		 "rate_limit = 1000/s\n"
		 "[webhook slack]\npreset = slack\nurl = %s/slack\nrate_limit = 1000/s\n"
		 "[webhook other]\npreset = alertops\nurl = %s/other\nrate_limit = 1000/s\n",
		 sink.url, sink.url);
	c = load(extra);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	fg_pipeline_set_callback(p, on_event, NULL);
	only_slack_and_main[0] = 0;	/* main */
	only_slack_and_main[1] = 1;	/* slack */
	on.webhooks = off.webhooks = only_slack_and_main;
	on.n_webhooks = off.n_webhooks = 2;
	/* the target is slow: the Off must still come after its On */
	assert_int_equal(sink_mode(&sink, "slow 50"), 200);
	assert_int_equal(fg_pipeline_supervision_alert(p, &on, id), 0);
	assert_true(strncmp(id, "sup-", 4) == 0);
	off.on = false;
	off.info = "Battery of button b0 is fine again: 2900 mV";
	off.since_usec = 1700000100000000;
	off.incident_id = id;
	assert_int_equal(fg_pipeline_supervision_alert(p, &off, NULL), 0);
	off.name_id = "";
	assert_int_equal(fg_pipeline_supervision_alert(p, &off, NULL), -EINVAL);
	assert_int_equal(fg_pipeline_spool_depth(p), 4);
	run_until_empty(e, p, 5000);
	assert_int_equal(events[FG_PIPELINE_DELIVERED], 4);
	assert_int_equal(events[FG_PIPELINE_ALERT_OPENED], 0);
	assert_int_equal(fg_mapping_n_buttons(fg_pipeline_mapping(p)), 0);

	log = sink_read_log(&sink);
	assert_int_equal(count_substr(log, "\"path\":\"/alertops\""), 2);
	assert_int_equal(count_substr(log, "\"path\":\"/slack\""), 2);
	assert_int_equal(count_substr(log, "\"path\":\"/other\""), 0);
	at_on = strstr(log, "\"idempotency-key\":\"supervision:test-gw:b0-battery:1700000000000000:on\"");
	at_off = strstr(log, "\"idempotency-key\":\"supervision:test-gw:b0-battery:1700000100000000:off\"");
	assert_non_null(at_on);
	assert_non_null(at_off);
	assert_true(at_on < at_off);
	assert_non_null(strstr(log, "\\\"flic_nameId\\\":\\\"b0-battery\\\",\\\"flic_state\\\":\\\"On\\\""));
	assert_non_null(strstr(log, "\\\"flic_nameId\\\":\\\"b0-battery\\\",\\\"flic_state\\\":\\\"Off\\\""));
	assert_non_null(strstr(log, "\\\"flic_gesture\\\":\\\"\\\""));
	assert_int_equal(count_substr(log, "\\\"flic_supervision\\\":true"), 2);
	assert_non_null(strstr(log, "\\\"flic_incidentId\\\":\\\""));
	assert_non_null(strstr(log, ":rotating_light: *b0-battery*: Battery of button b0 is low: 2400 mV (supervision, test-gw)"));
	assert_non_null(strstr(log, ":white_check_mark: *b0-battery* resolved: Battery of button b0 is fine again"));
	/* the Off names the On's incident */
	{
		char want[80];

		snprintf(want, sizeof(want), "\\\"flic_incidentId\\\":\\\"%s\\\"", id);
		assert_int_equal(count_substr(log, want), 2);
	}
	free(log);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

/*
 * The pipeline holds its own reference on the configuration: the caller
 * may drop its one at once, a reload swaps the reference, free drops it.
 * Its targets point into the config, so a borrowed one would be read
 * after it was freed.
 */
static void test_holds_config_reference(void **state)
{
	struct fg_config *c = load(NULL), *c2 = load(NULL);
	sd_event *e;
	struct fg_pipeline *p;
	struct fg_target_status ts;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_int_equal(c->n_ref, 2);
	fg_pipeline_set_callback(p, on_event, NULL);
	press(p, c, 0, FG_GESTURE_CLICK, 1, FG_MAPPING_OPEN);
	assert_int_equal(fg_pipeline_reload(p, c2), 0);
	assert_int_equal(c->n_ref, 1);
	assert_int_equal(c2->n_ref, 2);
	/* the same one again: still one reference of the pipeline's */
	assert_int_equal(fg_pipeline_reload(p, c2), 0);
	assert_int_equal(c2->n_ref, 2);
	fg_config_unref(c);
	fg_config_unref(c2);
	/* only the pipeline's references are left: the targets still work */
	fg_pipeline_target_status(p, 0, &ts);
	assert_string_equal(ts.name, "main");
	run_until_empty(e, p, 5000);
	assert_int_equal(events[FG_PIPELINE_DELIVERED], 1);
	assert_int_equal(fg_pipeline_test_alert(p, NULL, "main"), 0);
	run_until_empty(e, p, 5000);
	assert_int_equal(events[FG_PIPELINE_DELIVERED], 3);
	fg_pipeline_free(p);
	sd_event_unref(e);
}

/* A test alert that would reach no target is refused, not "queued" into nothing. */
static void test_test_alert_no_target(void **state)
{
	struct fg_config_errors errors = {};
	struct fg_config *c = NULL;
	struct fg_pipeline *p;
	sd_event *e;
	char *ini;

	/* (a [button] needs a [webhook]: only an empty file has no target) */
	assert_true(asprintf(&ini, "[gateway]\nname = test-gw\nstate_dir = %s\n", state_dir) > 0);
	assert_int_equal(fg_config_parse("test.ini", ini, strlen(ini), &errors, &c), 0);
	free(ini);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_int_equal(fg_pipeline_test_alert(p, NULL, NULL), -EDESTADDRREQ);
	assert_int_equal(fg_pipeline_spool_depth(p), 0);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

static unsigned commits;
static int last_commit = 1;

static void on_commit(struct fg_pipeline *p, int r, void *userdata)
{
	commits++;
	last_commit = r;
}

static void run_until_committed(sd_event *e, unsigned want)
{
	for (unsigned i = 0; i < 500 && commits < want; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_int_equal(commits, want);
}

/*
 * Presses of one loop pass, and another domain's state staged with them,
 * share one commit; they are back after a restart, from the journal.
 */
static void test_group_commit(void **state)
{
	struct fg_config *c = load(NULL);
	const char *text;
	size_t len;
	sd_event *e;
	struct fg_pipeline *p;

	commits = 0;
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	fg_pipeline_set_commit_callback(p, on_commit, NULL);
	for (unsigned b = 0; b < 3; b++)
		press(p, c, b, FG_GESTURE_CLICK, 7, FG_MAPPING_OPEN);
	assert_int_equal(fg_pipeline_stage_state(p, "counter:AABBCCDDEEFF", "x 1\n", 4), 1);
	/* nothing is flushed before the loop has worked through the batch */
	assert_int_equal(commits, 0);
	run_until_committed(e, 1);
	assert_int_equal(last_commit, 0);
	run_until_empty(e, p, 5000);
	assert_int_equal(commits, 1);
	fg_pipeline_free(p);

	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_int_equal(fg_pipeline_get_state(p, "counter:AABBCCDDEEFF", &text, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(text, "x 1\n", 4);
	assert_true(fg_mapping_is_open(fg_pipeline_mapping(p), "b2"));
	press(p, c, 1, FG_GESTURE_CLICK, 7, FG_MAPPING_DUPLICATE);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

/* An older alerts.state is moved into the journal, then removed. */
static void test_state_file_migrated(void **state)
{
	static const char old[] = "flicgate-alerts 1\nbutton b1 1 inc-1 5 0\nseen 3 click 5\nend\n";
	struct fg_config *c = load(NULL);
	char path[128];
	const char *text;
	size_t len;
	sd_event *e;
	struct fg_pipeline *p;

	snprintf(path, sizeof(path), "%s/alerts.state", state_dir);
	assert_int_equal(fg_write_file_atomic(path, old, sizeof(old) - 1, 0600), 0);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_true(fg_mapping_is_open(fg_pipeline_mapping(p), "b1"));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(fg_pipeline_get_state(p, "alert:b1", &text, &len), 0);
	fg_pipeline_free(p);
	/* and the journal alone brings it back */
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_true(fg_mapping_is_open(fg_pipeline_mapping(p), "b1"));
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

/*
 * A journal that cannot grow (file size limit standing in for a full
 * disk): the commit reports the failure, so nobody is told the press is
 * safe, the alarm is up, and the alert is still delivered from memory.
 */
static void test_full_journal_fails_commit(void **state)
{
	struct fg_config *c = load(NULL);
	struct rlimit old_lim, lim;
	char path[128];
	struct stat st;
	sd_event *e;
	struct fg_pipeline *p;
	uint32_t n;

	commits = 0;
	snprintf(path, sizeof(path), "%s/spool/journal", state_dir);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	fg_pipeline_set_commit_callback(p, on_commit, NULL);
	fg_pipeline_set_callback(p, on_event, NULL);
	assert_int_equal(sink_mode(&sink, "status 503"), 200);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
	lim = old_lim;
	lim.rlim_cur = (rlim_t)st.st_size;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	/* each press takes a slot (the state's is reused): the journal fills */
	for (n = 1; n <= 150 && (commits == 0 || last_commit == 0); n++) {
		press(p, c, 0, n % 2 ? FG_GESTURE_CLICK : FG_GESTURE_DOUBLE_CLICK, n,
		      n % 2 ? FG_MAPPING_OPEN : FG_MAPPING_CLOSE);
		run_until_committed(e, n);
	}
	assert_true(last_commit < 0);
	assert_true(fg_pipeline_spool_alarm(p));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
	/* the target answers again: everything goes out, memory-held alerts too */
	assert_int_equal(sink_mode(&sink, "status 200"), 200);
	assert_int_equal(fg_pipeline_reload(p, c), 0);
	run_until_empty(e, p, 10000);
	assert_int_equal(events[FG_PIPELINE_DELIVERED], n - 1);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST_SETUP("/pipeline/order-per-button", test_order_per_button, setup, teardown),
		FG_TEST_SETUP("/pipeline/request-before-flush", test_request_before_flush, setup, teardown),
		FG_TEST_SETUP("/pipeline/outage-then-recovery", test_outage_then_recovery, setup, teardown),
		FG_TEST_SETUP("/pipeline/recovery-listener-dispatches", test_recovery_listener_dispatches, setup, teardown),
		FG_TEST_SETUP("/pipeline/dead-letter-and-unhealthy", test_dead_letter_and_unhealthy, setup, teardown),
		FG_TEST_SETUP("/pipeline/restart-replays-spool", test_restart_replays, setup, teardown),
		FG_TEST_SETUP("/pipeline/test-alert-and-presets", test_test_alert_and_presets, setup, teardown),
		FG_TEST_SETUP("/pipeline/test-alert/no-target", test_test_alert_no_target, setup, teardown),
		FG_TEST_SETUP("/pipeline/rate-limit", test_rate_limit, setup, teardown),
		FG_TEST_SETUP("/pipeline/retry-after-pauses-target", test_retry_after_pauses_target, setup, teardown),
		FG_TEST_SETUP("/pipeline/orphaned-queue", test_orphaned_queue, setup, teardown),
		FG_TEST_SETUP("/pipeline/supervision-alert", test_supervision_alert, setup, teardown),
		FG_TEST_SETUP("/pipeline/holds-config-reference", test_holds_config_reference, setup, teardown),
		FG_TEST_SETUP("/pipeline/group-commit", test_group_commit, setup, teardown),
		FG_TEST_SETUP("/pipeline/state-file-migrated", test_state_file_migrated, setup, teardown),
		FG_TEST_SETUP("/pipeline/full-journal-fails-commit", test_full_journal_fails_commit, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	fg_log_set_level(getenv("FG_TEST_VERBOSE") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
