/* SPDX-License-Identifier: MIT */
/* Supervision on a real loop, pipeline and sink: readings to alarms to alerts, state kept. */
#include "fg-test.h"
#include "sink-helper.h"

#include "delivery/pipeline.h"
#include "supervision/supervision.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

static struct sink sink;
static char state_dir[64];

static int setup(void **state)
{
	strcpy(state_dir, "/tmp/fg-test-supervision-XXXXXX");
	assert_non_null(mkdtemp(state_dir));
	assert_int_equal(sink_start(&sink, NULL), 0);
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

static struct fg_config *load_with(bool with_b0, const char *health)
{
	struct fg_config_errors errors = {};
	struct fg_config *c = NULL;
	char *ini;

	assert_true(asprintf(&ini,
		"[gateway]\nname = gw\nstate_dir = %s\n"
		"[webhook main]\npreset = alertops\nurl = %s/alertops\nrate_limit = 1000/s\n"
		"%s"
		"[button b1]\nserial = BG30-A00001\n"
		"[health]\nrequire_time_sync = no\n%s",
		state_dir, sink.url, with_b0 ? "[button b0]\nserial = BG30-A00000\nname_id = Reception\n" : "",
		health) > 0);
	if (fg_config_parse("test.ini", ini, strlen(ini), &errors, &c) < 0) {
		for (size_t i = 0; i < errors.n; i++)
			fprintf(stderr, "%s\n", errors.messages[i]);
		fail();
	}
	free(ini);
	return c;
}

static struct fg_config *load(void)
{
	return load_with(true, "");
}

/* The owner's side, as the manager wires it: the pipeline answers and sends. */
static void t_delivery(struct fg_supervision *s, struct fg_supervision_delivery *ret, void *userdata)
{
	struct fg_pipeline *p = userdata;

	*ret = (struct fg_supervision_delivery){
		.spool_depth = fg_pipeline_spool_depth(p),
		.spool_alarm = fg_pipeline_spool_alarm(p),
		.dead_letters = fg_pipeline_dead_count(p),
		.n_targets = fg_pipeline_n_targets(p),
	};
}

static void t_target(struct fg_supervision *s, size_t i, struct fg_target_status *ret, void *userdata)
{
	fg_pipeline_target_status(userdata, i, ret);
}

static int t_send_alert(struct fg_supervision *s, const struct fg_supervision_alert *a,
			char ret_id[FG_ALERT_ID_MAX], void *userdata)
{
	return fg_pipeline_supervision_alert(userdata, a, ret_id);
}

static int t_test_alert(struct fg_supervision *s, const char *button, const char *target, void *userdata)
{
	return fg_pipeline_test_alert(userdata, button, target);
}

static const struct fg_supervision_ops ops = {
	.delivery = t_delivery,
	.target = t_target,
	.send_alert = t_send_alert,
	.test_alert = t_test_alert,
};

static void run_until_empty(sd_event *e, struct fg_pipeline *p)
{
	for (unsigned i = 0; i < 500; i++) {
		if (fg_pipeline_spool_depth(p) == 0)
			return;
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	}
	fail_msg("spool still holds %zu alerts", fg_pipeline_spool_depth(p));
}

static void reading(struct fg_supervision *s, const char *name, unsigned mv, unsigned long n)
{
	struct fg_button_status st = {
		.name = name,
		.configured = true,
		.paired = true,
		.state = FG_BUTTON_READY,
		.battery_mv = mv,
		.battery_readings = n,
		.last_seen_usec = fg_now_realtime(),
		.has_rssi = true,
		.rssi = -61,
		.firmware = 12,
	};

	fg_supervision_button_status(s, &st);
}

static void test_battery_alarm_and_state(void **state)
{
	struct fg_config *c = load();
	struct fg_supervision_button info;
	struct fg_pipeline *p;
	struct fg_supervision *s;
	char **alarms = NULL, *log;
	sd_event *e;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_int_equal(fg_supervision_new(e, c, &ops, p, &s), 0);

	/* the same report twice is one reading; a second reading opens the alarm */
	reading(s, "b0", 2400, 1);
	reading(s, "b0", 2400, 1);
	assert_false(fg_supervision_alarm_active(s, FG_ALARM_BATTERY_LOW, "b0"));
	reading(s, "b0", 2400, 2);
	assert_true(fg_supervision_alarm_active(s, FG_ALARM_BATTERY_LOW, "b0"));
	/* buttons nobody configured are not supervised */
	reading(s, "flic-BG30-X", 2000, 5);
	assert_int_equal(fg_supervision_button_info(s, "flic-BG30-X", &info), -ENOENT);

	assert_int_equal(fg_supervision_alarms(s, &alarms), 0);
	assert_int_equal(fg_strv_length(alarms), 1);
	assert_string_equal(alarms[0], "Reception-battery");
	fg_strv_free(alarms);
	assert_int_equal(fg_supervision_button_info(s, "b0", &info), 0);
	assert_true(info.battery_low);
	assert_int_equal(info.battery_mv, 2400);
	assert_int_equal(info.battery_percent, 5);
	assert_true(info.last_seen_usec > 0);
	assert_int_equal(info.rssi, -61);
	assert_int_equal(info.firmware, 12);
	run_until_empty(e, p);
	log = sink_read_log(&sink);
	assert_int_equal(count_substr(log, "\\\"flic_nameId\\\":\\\"Reception-battery\\\",\\\"flic_state\\\":\\\"On\\\""), 1);
	free(log);

	/* a restart keeps the alarm open: no second On, and the reading and extras stay */
	fg_supervision_free(s);
	assert_int_equal(fg_supervision_new(e, c, &ops, p, &s), 0);
	assert_true(fg_supervision_alarm_active(s, FG_ALARM_BATTERY_LOW, "b0"));
	assert_int_equal(fg_supervision_button_info(s, "b0", &info), 0);
	assert_int_equal(info.battery_mv, 2400);
	assert_int_equal(info.rssi, -61);
	assert_int_equal(info.firmware, 12);
	assert_int_equal(fg_pipeline_spool_depth(p), 0);

	/* recovery closes it, once */
	reading(s, "b0", 2950, 1);
	assert_false(fg_supervision_alarm_active(s, FG_ALARM_BATTERY_LOW, "b0"));
	run_until_empty(e, p);
	log = sink_read_log(&sink);
	assert_int_equal(count_substr(log, "Reception-battery\\\",\\\"flic_state\\\":\\\"Off\\\""), 1);
	assert_int_equal(count_substr(log, "Reception-battery\\\",\\\"flic_state\\\":\\\"On\\\""), 1);
	free(log);

	fg_supervision_free(s);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

static void test_test_window(void **state)
{
	struct fg_config *c = load();
	struct fg_supervision_button info;
	struct fg_pipeline *p;
	struct fg_supervision *s;
	const char *button;
	uint64_t end;
	sd_event *e;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_int_equal(fg_supervision_new(e, c, &ops, p, &s), 0);

	assert_false(fg_supervision_test_window(s, &end, &button));
	assert_int_equal(end, 0);
	assert_int_equal(fg_supervision_close_test_window(s), -ENOENT);
	assert_int_equal(fg_supervision_open_test_window(s, 0, "nope"), -ENOENT);
	assert_int_equal(fg_supervision_open_test_window(s, 500 * FG_USEC_PER_MSEC, NULL), -ERANGE);
	assert_int_equal(fg_supervision_open_test_window(s, 2 * FG_USEC_PER_HOUR, NULL), -ERANGE);

	assert_int_equal(fg_supervision_open_test_window(s, 0, "b1"), 0);
	assert_true(fg_supervision_test_window(s, &end, &button));
	assert_string_equal(button, "b1");
	assert_true(end > fg_now_realtime() + 4 * FG_USEC_PER_MIN);
	assert_true(fg_supervision_in_test_window(s, "b1"));
	assert_false(fg_supervision_in_test_window(s, "b0"));

	/* every button, and it ends by itself */
	assert_int_equal(fg_supervision_open_test_window(s, FG_USEC_PER_SEC, ""), 0);
	assert_true(fg_supervision_in_test_window(s, "b0"));
	fg_supervision_test_press(s, &c->buttons[0], FG_GESTURE_HOLD, "test window");
	assert_int_equal(fg_supervision_button_info(s, "b0", &info), 0);
	assert_true(info.last_test_usec > 0);
	for (unsigned i = 0; i < 300 && fg_supervision_in_test_window(s, "b0"); i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_false(fg_supervision_in_test_window(s, "b0"));
	/* nobody was told: no [health] test_webhook */
	assert_int_equal(fg_pipeline_spool_depth(p), 0);

	fg_supervision_free(s);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

static int probe_value;

static int fake_probe(void *userdata)
{
	return probe_value;
}

/* The clock check asks the probe at once; an unknown answer is no alarm. */
static void test_clock_probe(void **state)
{
	struct fg_config *c = load();
	struct fg_pipeline *p;
	struct fg_supervision *s;
	sd_event *e;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_int_equal(fg_supervision_new(e, c, &ops, p, &s), 0);
	probe_value = -EIO;
	fg_supervision_set_clock_probe(s, fake_probe, NULL);
	assert_false(fg_supervision_alarm_active(s, FG_ALARM_CLOCK_UNSYNCED, NULL));
	probe_value = 0;
	fg_supervision_set_clock_probe(s, fake_probe, NULL);
	/* not synchronised, but within the grace time and not required here */
	assert_false(fg_supervision_alarm_active(s, FG_ALARM_CLOCK_UNSYNCED, NULL));
	probe_value = 1;
	fg_supervision_set_clock_probe(s, fake_probe, NULL);
	assert_false(fg_supervision_alarm_active(s, FG_ALARM_CLOCK_UNSYNCED, NULL));
	fg_supervision_free(s);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
}

/* A reload applies new thresholds and closes the alarms of buttons no longer listed. */
static void test_reload(void **state)
{
	struct fg_config *c = load(), *c2 = load_with(false, "low_battery_mv = 2000\n");
	struct fg_supervision_button info;
	struct fg_pipeline *p;
	struct fg_supervision *s;
	sd_event *e;
	char *log;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, c, &p), 0);
	assert_int_equal(fg_supervision_new(e, c, &ops, p, &s), 0);
	reading(s, "b0", 2400, 1);
	reading(s, "b0", 2400, 2);
	reading(s, "b1", 2400, 1);
	assert_true(fg_supervision_alarm_active(s, FG_ALARM_BATTERY_LOW, "b0"));
	run_until_empty(e, p);

	assert_int_equal(fg_pipeline_reload(p, c2), 0);
	assert_int_equal(fg_supervision_reload(s, c2), 0);
	assert_int_equal(fg_supervision_button_info(s, "b0", &info), -ENOENT);
	run_until_empty(e, p);
	log = sink_read_log(&sink);
	assert_int_equal(count_substr(log, "Reception-battery\\\",\\\"flic_state\\\":\\\"Off\\\""), 1);
	free(log);
	/* 2400 mV is fine under the new threshold: no alarm for b1 */
	reading(s, "b1", 2400, 2);
	assert_false(fg_supervision_alarm_active(s, FG_ALARM_BATTERY_LOW, "b1"));
	assert_int_equal(fg_pipeline_spool_depth(p), 0);

	fg_supervision_free(s);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(c);
	fg_config_unref(c2);
}

/* Supervision keeps the configuration it was given alive: the caller may drop its own reference. */
static void test_config_reference(void **state)
{
	struct fg_config *pc = load(), *c = load(), *c2 = load_with(true, "low_battery_mv = 2500\n");
	struct fg_pipeline *p;
	struct fg_supervision *s;
	char **alarms = NULL;
	sd_event *e;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_pipeline_new(e, pc, &p), 0);
	assert_int_equal(fg_supervision_new(e, c, &ops, p, &s), 0);
	fg_config_unref(c);
	reading(s, "b0", 2400, 1);
	reading(s, "b0", 2400, 2);
	assert_int_equal(fg_supervision_alarms(s, &alarms), 0);
	assert_int_equal(fg_strv_length(alarms), 1);
	assert_string_equal(alarms[0], "Reception-battery");
	fg_strv_free(alarms);

	assert_int_equal(fg_supervision_reload(s, c2), 0);
	fg_config_unref(c2);
	assert_int_equal(fg_supervision_open_test_window(s, 0, "b0"), 0);
	assert_true(fg_supervision_in_test_window(s, "b0"));
	assert_int_equal(fg_supervision_alarms(s, &alarms), 0);
	assert_string_equal(alarms[0], "Reception-battery");
	fg_strv_free(alarms);
	run_until_empty(e, p);

	fg_supervision_free(s);
	fg_pipeline_free(p);
	sd_event_unref(e);
	fg_config_unref(pc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST_SETUP("/supervision/battery-alarm-and-state", test_battery_alarm_and_state, setup, teardown),
		FG_TEST_SETUP("/supervision/test-window", test_test_window, setup, teardown),
		FG_TEST_SETUP("/supervision/clock-probe", test_clock_probe, setup, teardown),
		FG_TEST_SETUP("/supervision/reload", test_reload, setup, teardown),
		FG_TEST_SETUP("/supervision/config-reference", test_config_reference, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	fg_log_set_level(getenv("FG_TEST_VERBOSE") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests_name("supervision", tests, NULL, NULL);
}
