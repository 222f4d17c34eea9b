/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fg-test.h"

#include "feedback/gpio-driver.h"
#include "feedback/gpio.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define MS FG_USEC_PER_MSEC
#define S FG_USEC_PER_SEC

/*
 * The adapter on a real sd-event loop, with a fake driver that records
 * every line change (with the loop's time) and gives the acknowledge
 * "line" as a pipe: each byte written is an edge to level '0' or '1'.
 */
#define MAX_SETS 512

struct fake {
	int pipe[2];
	bool ack;		/* has an acknowledge line */
	bool debounced;		/* pretend the kernel debounces */
	bool level;		/* the ack line's current level */
	sd_event *event;
	size_t n_sets;
	struct {
		enum fg_output o;
		bool level;
		uint64_t at;
	} sets[MAX_SETS];
	bool line[_FG_OUTPUT_MAX];
	unsigned shows[_FG_OUTPUT_MAX];
	bool closed;
};

static struct fake fake;

static int fake_open(const struct fg_gpio_config *c, void **ret)
{
	for (int o = 0; o < _FG_OUTPUT_MAX; o++)
		fake.line[o] = false;
	fake.line[FG_OUTPUT_STATUS_LED] = c->status_led.initial;
	*ret = &fake;
	return 0;
}

static void fake_close(void *b)
{
	fake.closed = true;
}

static int fake_set(void *b, enum fg_output o, bool level)
{
	uint64_t now = 0;

	assert_false(fake.closed);
	assert_int_equal(sd_event_now(fake.event, CLOCK_MONOTONIC, &now) >= 0, 1);
	if (fake.n_sets < MAX_SETS)
		fake.sets[fake.n_sets++] = (typeof(fake.sets[0])) { o, level, now };
	fake.line[o] = level;
	return 0;
}

static void fake_show(void *b, enum fg_output o, const struct fg_feedback_output *out)
{
	fake.shows[o]++;
}

static int fake_ack_fd(void *b)
{
	return fake.ack ? fake.pipe[0] : -1;
}

static bool fake_ack_debounced(void *b)
{
	return fake.debounced;
}

static int fake_ack_value(void *b, bool *ret)
{
	*ret = fake.level;
	return 0;
}

static int fake_ack_read(void *b, bool *ret)
{
	char buf[64];
	ssize_t n = read(fake.pipe[0], buf, sizeof(buf));

	if (n <= 0)
		return n == 0 ? -EIO : -errno;
	fake.level = buf[n - 1] == '1';
	*ret = fake.level;
	return 0;
}

static const struct fg_gpio_driver fake_driver = {
	.name = "fake",
	.edges = true,
	.open = fake_open,
	.close = fake_close,
	.set = fake_set,
	.show = fake_show,
	.ack_fd = fake_ack_fd,
	.ack_debounced = fake_ack_debounced,
	.ack_read = fake_ack_read,
	.ack_value = fake_ack_value,
};

static int setup(void **state)
{
	memset(&fake, 0, sizeof(fake));
	assert_int_equal(pipe2(fake.pipe, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(sd_event_new(&fake.event), 0);
	return 0;
}

static int teardown(void **state)
{
	close(fake.pipe[0]);
	close(fake.pipe[1]);
	fake.event = sd_event_unref(fake.event);
	return 0;
}

/* A config as the parser leaves it, with every pattern row "none". */
static struct fg_config *new_config(void)
{
	struct fg_config *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	for (int s = 0; s < _FG_FB_STATE_MAX; s++)
		c->gpio.patterns[s] = strdup("none");
	c->gpio.ack_debounce_usec = 30 * MS;
	c->escalation.level_after_usec[0] = 2 * FG_USEC_PER_MIN;
	return c;
}

static void set_pattern(struct fg_config *c, enum fg_feedback_state s, const char *text)
{
	free(c->gpio.patterns[s]);
	c->gpio.patterns[s] = text ? strdup(text) : NULL;
}

static void free_config(struct fg_config *c)
{
	for (int s = 0; s < _FG_FB_STATE_MAX; s++)
		free(c->gpio.patterns[s]);
	free(c);
}

/*
 * Run the loop for @usec. Not with sd_event_exit(): a loop that exited is
 * finished for good, and the tests go on using it.
 */
static void run_for(sd_event *e, uint64_t usec)
{
	uint64_t end = fg_now_monotonic() + usec, now;

	while ((now = fg_now_monotonic()) < end)
		assert_true(sd_event_run(e, end - now) >= 0);
}

/* Write @bytes to the ack pipe after @delay (from a timer on the loop). */
static int on_edge_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	const char *bytes = userdata;

	assert_int_equal(write(fake.pipe[1], bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	return 0;
}

static sd_event_source *edges_after(uint64_t delay, const char *bytes)
{
	sd_event_source *t = NULL;
	uint64_t now;

	assert_true(sd_event_now(fake.event, CLOCK_MONOTONIC, &now) >= 0);
	/* accuracy 1 us: the default (0) lets sd-event delay it by up to 250 ms */
	assert_int_equal(sd_event_add_time(fake.event, &t, CLOCK_MONOTONIC, now + delay, 1,
					   on_edge_timer, (void *)bytes), 0);
	return t;
}

static void test_line_is_offset(void **state)
{
	unsigned off = 99;

	assert_true(fg_gpio_line_is_offset("17", &off));
	assert_int_equal(off, 17);
	assert_true(fg_gpio_line_is_offset("0", &off));
	assert_int_equal(off, 0);
	off = 5;
	assert_false(fg_gpio_line_is_offset("GPIO17", &off));
	assert_false(fg_gpio_line_is_offset("", &off));
	assert_false(fg_gpio_line_is_offset(NULL, &off));
	assert_false(fg_gpio_line_is_offset("17a", &off));
	assert_false(fg_gpio_line_is_offset("99999", &off));
	assert_int_equal(off, 5);
}

static void test_none(void **state)
{
	struct fg_config *c = new_config();
	struct fg_feedback_view v;
	struct fg_gpio *g = NULL;

	c->gpio.backend = FG_GPIO_NONE;
	set_pattern(c, FG_FB_OPEN, "alert_led: on");
	assert_int_equal(fg_gpio_new(fake.event, c, &g), 0);
	assert_string_equal(fg_gpio_backend_name(g), "none");
	/* the state is kept (for the API), nothing is driven */
	assert_int_equal(fg_gpio_alert_opened(g, "bed-1"), 0);
	fg_feedback_evaluate(fg_gpio_feedback(g), fg_now_monotonic(), &v);
	assert_int_equal(v.out[FG_OUTPUT_ALERT_LED].state, FG_FB_OPEN);
	/* nothing was added to the loop */
	assert_int_equal(sd_event_run(fake.event, 0), 0);
	assert_null(fg_gpio_free(g));
	assert_null(fg_gpio_free(NULL));
	free_config(c);
}

/*
 * The outputs follow the pattern, are changed only when the level
 * changes, never early, and the timer keeps re-arming itself.
 */
static void test_outputs_follow_pattern(void **state)
{
	struct fg_config *c = new_config();
	struct fg_gpio *g = NULL;
	uint64_t t0;
	bool expect;

	set_pattern(c, FG_FB_IDLE, "status_led: blink 40ms 50%");
	c->gpio.status_led.initial = false;
	assert_int_equal(fg_gpio_new_with_driver(fake.event, c, &fake_driver, &g), 0);
	assert_true(sd_event_now(fake.event, CLOCK_MONOTONIC, &t0) >= 0);
	run_for(fake.event, 300 * MS);

	/* the first update set all three outputs, then only status_led toggles */
	assert_true(fake.n_sets >= 4);
	expect = fake.sets[0].level;
	for (size_t i = 0; i < fake.n_sets; i++) {
		struct fg_feedback_view v;

		if (i < 3) {
			assert_int_equal(fake.sets[i].o, i);
			continue;
		}
		assert_int_equal(fake.sets[i].o, FG_OUTPUT_STATUS_LED);
		/* alternates from the first level set */
		expect = !expect;
		assert_int_equal(fake.sets[i].level, expect);
		/* the level set is the one the core gives for that moment: never early */
		fg_feedback_evaluate(fg_gpio_feedback(g), fake.sets[i].at, &v);
		assert_int_equal(v.out[FG_OUTPUT_STATUS_LED].level, fake.sets[i].level);
		assert_true(fake.sets[i].at > fake.sets[i - 1].at);
	}
	assert_false(fake.sets[1].level);
	assert_false(fake.sets[2].level);
	/* the driver was told the pattern once per output, not per edge */
	assert_int_equal(fake.shows[FG_OUTPUT_STATUS_LED], 1);

	fg_gpio_free(g);
	assert_true(fake.closed);
	free_config(c);
}

static void test_safe_state_on_free(void **state)
{
	struct fg_config *c = new_config();
	struct fg_gpio *g = NULL;

	set_pattern(c, FG_FB_PRESS, "status_led: on for 10s, alert_led: on for 10s, buzzer: on for 10s");
	assert_int_equal(fg_gpio_new_with_driver(fake.event, c, &fake_driver, &g), 0);
	fg_gpio_press(g);
	for (int o = 0; o < _FG_OUTPUT_MAX; o++)
		assert_true(fake.line[o]);
	fg_gpio_free(g);
	/* everything off, and set before the driver was closed (fake_set checks) */
	for (int o = 0; o < _FG_OUTPUT_MAX; o++)
		assert_false(fake.line[o]);
	assert_true(fake.closed);
	free_config(c);
}

static void test_setters(void **state)
{
	struct fg_config *c = new_config();
	struct fg_feedback_view v;
	struct fg_gpio *g = NULL;

	set_pattern(c, FG_FB_NO_ADAPTER, "status_led: on");
	set_pattern(c, FG_FB_LOW_BATTERY, "status_led: blink 1s");
	set_pattern(c, FG_FB_OPEN, "alert_led: blink 1s");
	set_pattern(c, FG_FB_DELIVERED, "alert_led: on");
	set_pattern(c, FG_FB_CLOSED, "alert_led: off for 1s");
	assert_int_equal(fg_gpio_new_with_driver(fake.event, c, &fake_driver, &g), 0);

	assert_int_equal(fg_gpio_set_condition(g, FG_COND_NO_ADAPTER, true), 0);
	assert_true(fake.line[FG_OUTPUT_STATUS_LED]);
	assert_int_equal(fg_gpio_set_condition(g, FG_COND_NO_ADAPTER, false), 0);
	assert_false(fake.line[FG_OUTPUT_STATUS_LED]);
	assert_int_equal(fg_gpio_set_button_condition(g, FG_COND_LOW_BATTERY, "bed-2", true), 0);
	assert_true(fake.line[FG_OUTPUT_STATUS_LED]);
	assert_int_equal(fg_gpio_set_condition(g, _FG_COND_MAX, true), -EINVAL);

	assert_int_equal(fg_gpio_alert_opened(g, "bed-1"), 0);
	assert_true(fake.line[FG_OUTPUT_ALERT_LED]);
	assert_int_equal(fg_gpio_alert_delivery(g, "bed-1", FG_DELIVERY_DELIVERED), 0);
	fg_feedback_evaluate(fg_gpio_feedback(g), fg_now_monotonic(), &v);
	assert_int_equal(v.out[FG_OUTPUT_ALERT_LED].state, FG_FB_DELIVERED);
	assert_int_equal(fg_gpio_alert_closed(g, "bed-1"), 0);
	assert_false(fake.line[FG_OUTPUT_ALERT_LED]);
	assert_int_equal(fg_gpio_alert_closed(g, "bed-1"), -ENOENT);
	assert_int_equal(fg_gpio_alert_delivery(g, "bed-1", FG_DELIVERY_FAILING), -ENOENT);
	fg_gpio_free(g);
	free_config(c);
}

struct acks {
	unsigned calls;
	bool silenced;
};

static void on_ack(struct fg_gpio *g, bool silenced, void *userdata)
{
	struct acks *a = userdata;

	a->calls++;
	a->silenced = silenced;
}

static void test_ack_input(void **state)
{
	struct fg_config *c = new_config();
	struct fg_feedback_view v;
	struct fg_gpio *g = NULL;
	struct acks a = { 0 };
	sd_event_source *e1, *e2, *e3, *e4, *e5;

	fake.ack = true;
	/* margins wide enough for valgrind and a loaded CI machine */
	c->gpio.ack_debounce_usec = 80 * MS;
	set_pattern(c, FG_FB_OPEN, "alert_led: on, buzzer: on");
	assert_int_equal(fg_gpio_new_with_driver(fake.event, c, &fake_driver, &g), 0);
	fg_gpio_set_ack_handler(g, on_ack, &a);
	assert_int_equal(fg_gpio_alert_opened(g, "bed-1"), 0);
	assert_true(fake.line[FG_OUTPUT_BUZZER]);

	/* a 5 ms glitch: ignored */
	e1 = edges_after(10 * MS, "1");
	e2 = edges_after(15 * MS, "0");
	/* a press with contact bounce, held, then released */
	e3 = edges_after(200 * MS, "1");
	e4 = edges_after(203 * MS, "101");
	e5 = edges_after(600 * MS, "0");
	run_for(fake.event, 500 * MS);
	assert_int_equal(a.calls, 1);
	assert_true(a.silenced);
	/* the buzzer is silent, the LED still shows the open alert */
	assert_false(fake.line[FG_OUTPUT_BUZZER]);
	assert_true(fake.line[FG_OUTPUT_ALERT_LED]);
	fg_feedback_evaluate(fg_gpio_feedback(g), fg_now_monotonic(), &v);
	assert_true(v.active & (UINT32_C(1) << FG_FB_SILENCED));

	/* the release is no second press */
	run_for(fake.event, 300 * MS);
	assert_int_equal(a.calls, 1);

	/* a press with nothing new to silence still calls, saying so */
	assert_int_equal(fg_gpio_alert_closed(g, "bed-1"), 0);
	sd_event_source_unref(e1);
	e1 = edges_after(1 * MS, "1");
	run_for(fake.event, 300 * MS);
	assert_int_equal(a.calls, 2);
	assert_false(a.silenced);

	sd_event_source_unref(e1);
	sd_event_source_unref(e2);
	sd_event_source_unref(e3);
	sd_event_source_unref(e4);
	sd_event_source_unref(e5);
	fg_gpio_free(g);
	free_config(c);
}

static void test_ack_kernel_debounced(void **state)
{
	struct fg_config *c = new_config();
	struct fg_gpio *g = NULL;
	struct acks a = { 0 };
	sd_event_source *e1;

	fake.ack = true;
	fake.debounced = true;
	c->gpio.ack_debounce_usec = 10 * S;	/* would never settle in this test if applied twice */
	assert_int_equal(fg_gpio_new_with_driver(fake.event, c, &fake_driver, &g), 0);
	fg_gpio_set_ack_handler(g, on_ack, &a);
	e1 = edges_after(5 * MS, "1");
	run_for(fake.event, 200 * MS);
	assert_int_equal(a.calls, 1);
	sd_event_source_unref(e1);
	fg_gpio_free(g);
	free_config(c);
}

static void test_ack_pressed_at_start(void **state)
{
	struct fg_config *c = new_config();
	struct fg_gpio *g = NULL;
	struct acks a = { 0 };
	sd_event_source *e1, *e2;

	/* held down (or stuck) while the daemon starts: not a press */
	fake.ack = true;
	fake.level = true;
	assert_int_equal(fg_gpio_new_with_driver(fake.event, c, &fake_driver, &g), 0);
	fg_gpio_set_ack_handler(g, on_ack, &a);
	e1 = edges_after(5 * MS, "0");
	run_for(fake.event, 200 * MS);
	assert_int_equal(a.calls, 0);
	e2 = edges_after(5 * MS, "1");
	run_for(fake.event, 200 * MS);
	assert_int_equal(a.calls, 1);
	sd_event_source_unref(e1);
	sd_event_source_unref(e2);
	fg_gpio_free(g);
	free_config(c);
}

/* Run @fn with stderr going to a file; return what was written. */
static char *capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/fg-test-gpio-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *buf;
	off_t len;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	assert_int_equal(dup2(fd, 2), 2);
	fn();
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	len = lseek(fd, 0, SEEK_END);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)len, 0), len);
	close(fd);
	return buf;
}

static void log_scenario(void)
{
	struct fg_config *c = new_config();
	struct fg_gpio *g = NULL;

	c->gpio.backend = FG_GPIO_LOG;
	/* the shipped defaults */
	for (int s = 0; s < _FG_FB_STATE_MAX; s++)
		set_pattern(c, s, NULL);
	fg_log_set_level(LOG_INFO);
	assert_int_equal(fg_gpio_new(fake.event, c, &g), 0);
	assert_string_equal(fg_gpio_backend_name(g), "log");
	/* the adapter starts in "starting" */
	assert_true(fg_feedback_condition_is_set(fg_gpio_feedback(g), FG_COND_STARTING));
	fg_gpio_set_condition(g, FG_COND_STARTING, false);
	/* idle only: the log driver needs no wake-up at all */
	assert_int_equal(sd_event_run(fake.event, 30 * MS), 0);

	fg_gpio_press(g);
	fg_gpio_alert_opened(g, "bed-7");
	/* the chirp ends after 50 ms, the press after 1 s: a wake-up for each */
	run_for(fake.event, 1400 * MS);
	fg_gpio_alert_delivery(g, "bed-7", FG_DELIVERY_DELIVERED);
	fg_gpio_alert_closed(g, "bed-7");
	fg_gpio_free(g);
	free_config(c);
}

static void test_log_driver(void **state)
{
	char *out = capture_stderr(log_scenario);
	static const char *const expect[] = {
		"LED status_led: on (starting)",
		"LED alert_led: off\n",
		"BUZZER: off\n",
		"LED status_led: flash 1x 100ms every 3s (idle)",
		"LED status_led: on for 1s (press)",
		"LED alert_led: on for 1s (press)",
		"BUZZER: beep 1x 50ms (press)",
		"BUZZER: off\n",
		"LED status_led: flash 1x 100ms every 3s (idle)",
		"LED alert_led: blink 1s 50% (open)",
		"LED alert_led: on (delivered)",
		"LED alert_led: flash 3x 100ms (closed)",
		"LED status_led: off\n",
		"LED alert_led: off\n",
	};
	const char *p = out;

	/* in this order, each once where listed */
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		const char *hit = strstr(p, expect[i]);

		if (!hit)
			fail_msg("missing '%s' after offset %zu in:\n%s", expect[i], (size_t)(p - out), out);
		p = hit + strlen(expect[i]);
	}
	/* state-level only: no line per blink edge */
	{
		unsigned lines = 0;

		for (const char *q = out; (q = strchr(q, '\n')); q++)
			lines++;
		assert_true(lines <= 16);
	}
	free(out);
}

static void test_gpiod_missing_chip(void **state)
{
	static const char *const chips[] = {
		"no-such-gpio-chip-label",
		"/nonexistent/gpiochip9",
	};
	struct fg_config *c = new_config();
	struct fg_gpio *g = NULL;
	int r;

	c->gpio.backend = FG_GPIO_GPIOD;
	c->gpio.status_led.line = strdup("17");
	for (size_t i = 0; i < sizeof(chips) / sizeof(chips[0]); i++) {
		free(c->gpio.chip);
		c->gpio.chip = strdup(chips[i]);
		r = fg_gpio_new(fake.event, c, &g);
		if (r != -ENOENT)
			fail_msg("%s: got %d, expected -ENOENT", chips[i], r);
		assert_null(g);
	}
	/* something that is not a GPIO chip */
	free(c->gpio.chip);
	c->gpio.chip = strdup("/dev/null");
	r = fg_gpio_new(fake.event, c, &g);
	assert_true(r < 0);
	assert_null(g);
	/* no chip at all */
	free(c->gpio.chip);
	c->gpio.chip = NULL;
	assert_int_equal(fg_gpio_new(fake.event, c, &g), -EINVAL);
	free(c->gpio.status_led.line);
	free_config(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/gpio/line-is-offset", test_line_is_offset),
		FG_TEST_SETUP("/gpio/none", test_none, setup, teardown),
		FG_TEST_SETUP("/gpio/outputs-follow-pattern", test_outputs_follow_pattern, setup, teardown),
		FG_TEST_SETUP("/gpio/safe-state-on-free", test_safe_state_on_free, setup, teardown),
		FG_TEST_SETUP("/gpio/setters", test_setters, setup, teardown),
		FG_TEST_SETUP("/gpio/ack-input", test_ack_input, setup, teardown),
		FG_TEST_SETUP("/gpio/ack-kernel-debounced", test_ack_kernel_debounced, setup, teardown),
		FG_TEST_SETUP("/gpio/ack-pressed-at-start", test_ack_pressed_at_start, setup, teardown),
		FG_TEST_SETUP("/gpio/log-driver", test_log_driver, setup, teardown),
		FG_TEST_SETUP("/gpio/gpiod-missing-chip", test_gpiod_missing_chip, setup, teardown),
	};

	return cmocka_run_group_tests_name("gpio", tests, NULL, NULL);
}
