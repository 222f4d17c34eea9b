/* SPDX-License-Identifier: MIT */
/* The lights' adapter: drives a backend (none, log, gpiod) from the feedback
 * core on one timer, and reads the debounced acknowledge button. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "feedback/debounce.h"
#include "feedback/gpio-driver.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* LED edges need not be exact to the microsecond; 1 ms lets sd-event batch. */
#define TIMER_ACCURACY_USEC (1 * FG_USEC_PER_MSEC)

struct fg_gpio {
	sd_event *event;
	struct fg_feedback *fb;

	/* the backend and its state; backend NULL: "none" */
	const struct fg_gpio_driver *backend;
	void *b;

	/* what each output shows now */
	bool shown_valid;
	bool level[_FG_OUTPUT_MAX];
	struct fg_feedback_output shown[_FG_OUTPUT_MAX];

	/* the next change of the outputs */
	sd_event_source *timer;

	/* the acknowledge input */
	sd_event_source *ack_io;
	sd_event_source *ack_timer;	/* end of the debounce window */
	struct fg_debounce debounce;
	fg_gpio_ack_handler_t ack_handler;
	void *ack_userdata;
};

static uint64_t now_usec(const struct fg_gpio *g)
{
	uint64_t t;

	if (sd_event_now(g->event, CLOCK_MONOTONIC, &t) < 0)
		t = fg_now_monotonic();
	return t;
}

static int arm(sd_event_source *s, uint64_t at)
{
	int r;

	if (at == FG_USEC_INFINITY)
		return sd_event_source_set_enabled(s, SD_EVENT_OFF);
	r = sd_event_source_set_time(s, at);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static bool same_show(const struct fg_feedback_output *a, const struct fg_feedback_output *b)
{
	return a->state == b->state && a->pattern == b->pattern;
}

/*
 * Bring the outputs to what the core says for now, and sleep until the
 * next change. Called after every input and from the timer.
 */
static void update(struct fg_gpio *g)
{
	struct fg_feedback_view v;
	uint64_t now, next;
	int r;

	if (!g->backend)
		return;
	now = now_usec(g);
	fg_feedback_evaluate(g->fb, now, &v);
	for (int o = 0; o < _FG_OUTPUT_MAX; o++) {
		if (g->backend->set && (!g->shown_valid || v.out[o].level != g->level[o])) {
			r = g->backend->set(g->b, o, v.out[o].level);
			if (r < 0)
				log_warning_errno(r, "Failed to set %s: %m", fg_output_to_string(o));
		}
		if (g->backend->show && (!g->shown_valid || !same_show(&v.out[o], &g->shown[o])))
			g->backend->show(g->b, o, &v.out[o]);
		g->level[o] = v.out[o].level;
		g->shown[o] = v.out[o];
	}
	g->shown_valid = true;

	next = g->backend->edges ? v.next_usec : v.next_state_usec;
	r = arm(g->timer, next);
	if (r < 0)
		log_error_errno(r, "Failed to arm the LED timer: %m");
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	update(userdata);
	return 0;
}

static void acknowledged(struct fg_gpio *g)
{
	bool any = fg_feedback_acknowledge(g->fb, now_usec(g));

	update(g);
	if (g->ack_handler)
		g->ack_handler(g, any, g->ack_userdata);
}

static void ack_settle(struct fg_gpio *g)
{
	switch (fg_debounce_settle(&g->debounce, now_usec(g))) {
	case FG_DEBOUNCE_PRESSED:
		log_info("Local acknowledge button pressed");
		acknowledged(g);
		break;
	case FG_DEBOUNCE_RELEASED:
		log_debug("Local acknowledge button released");
		break;
	case FG_DEBOUNCE_NONE:
		break;
	}
}

static int on_ack_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	ack_settle(userdata);
	return 0;
}

static int on_ack_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct fg_gpio *g = userdata;
	uint64_t deadline;
	bool level;
	int r;

	r = g->backend->ack_read(g->b, &level);
	if (r < 0) {
		/* a line that keeps failing would spin the loop: stop watching it */
		log_error_errno(r, "Failed to read the acknowledge line, ignoring it from now on: %m");
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
		return 0;
	}
	deadline = fg_debounce_input(&g->debounce, level, now_usec(g));
	if (deadline <= now_usec(g)) {
		ack_settle(g);
		return 0;
	}
	r = arm(g->ack_timer, deadline);
	if (r < 0)
		log_error_errno(r, "Failed to arm the debounce timer: %m");
	return 0;
}

static int setup_ack(struct fg_gpio *g, const struct fg_gpio_config *c)
{
	uint64_t window = c->ack_debounce_usec;
	bool level = false;
	int fd, r;

	fd = g->backend->ack_fd ? g->backend->ack_fd(g->b) : -1;
	if (fd < 0)
		return 0;
	/* the kernel already waits for quiet: waiting again only adds delay */
	if (g->backend->ack_debounced && g->backend->ack_debounced(g->b))
		window = 0;
	r = g->backend->ack_value(g->b, &level);
	if (r < 0)
		return r;
	fg_debounce_init(&g->debounce, window, level);
	r = sd_event_add_io(g->event, &g->ack_io, fd, EPOLLIN, on_ack_io, g);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(g->ack_io, "gpio-ack");
	r = sd_event_add_time(g->event, &g->ack_timer, CLOCK_MONOTONIC, FG_USEC_INFINITY,
			      TIMER_ACCURACY_USEC, on_ack_timer, g);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(g->ack_timer, "gpio-ack-debounce");
	return sd_event_source_set_enabled(g->ack_timer, SD_EVENT_OFF);
}

int fg_gpio_new_with_driver(sd_event *event, const struct fg_config *config,
			     const struct fg_gpio_driver *backend, struct fg_gpio **ret)
{
	struct fg_gpio *g;
	int r;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->event = sd_event_ref(event);

	r = fg_feedback_new_from_config(config, &g->fb);
	if (r < 0)
		goto failed;
	/* made while the daemon starts: show that until the manager says otherwise */
	(void)fg_feedback_set_condition(g->fb, FG_COND_STARTING, true, now_usec(g));
	if (!backend) {
		*ret = g;
		return 0;
	}

	r = backend->open(&config->gpio, &g->b);
	if (r < 0)
		goto failed;
	g->backend = backend;

	r = sd_event_add_time(event, &g->timer, CLOCK_MONOTONIC, FG_USEC_INFINITY,
			      TIMER_ACCURACY_USEC, on_timer, g);
	if (r < 0)
		goto failed;
	(void)sd_event_source_set_description(g->timer, "gpio-pattern");

	r = setup_ack(g, &config->gpio);
	if (r < 0)
		goto failed;

	update(g);
	*ret = g;
	return 0;

failed:
	fg_gpio_free(g);
	return r;
}

int fg_gpio_new(sd_event *event, const struct fg_config *config, struct fg_gpio **ret)
{
	const struct fg_gpio_driver *b = NULL;

	switch (config->gpio.backend) {
	case FG_GPIO_NONE:
		break;
	case FG_GPIO_LOG:
		b = &fg_gpio_driver_log;
		break;
	case FG_GPIO_GPIOD:
#if FG_GPIOD_API == 1 || FG_GPIOD_API == 2
		b = &fg_gpio_driver_gpiod;
		break;
#else
		return -EOPNOTSUPP;
#endif
	case _FG_GPIO_BACKEND_MAX:
		return -EINVAL;
	}
	return fg_gpio_new_with_driver(event, config, b, ret);
}

struct fg_gpio *fg_gpio_free(struct fg_gpio *g)
{
	if (!g)
		return NULL;
	g->ack_io = sd_event_source_disable_unref(g->ack_io);
	g->ack_timer = sd_event_source_disable_unref(g->ack_timer);
	g->timer = sd_event_source_disable_unref(g->timer);
	if (g->backend) {
		/* safe state first: a buzzer left on after exit would never stop */
		for (int o = 0; o < _FG_OUTPUT_MAX; o++) {
			struct fg_feedback_output off = { .state = _FG_FB_STATE_NONE,
							  .next_usec = FG_USEC_INFINITY };

			if (g->backend->set)
				(void)g->backend->set(g->b, o, false);
			if (g->backend->show && g->shown_valid && !same_show(&g->shown[o], &off))
				g->backend->show(g->b, o, &off);
		}
		g->backend->close(g->b);
	}
	fg_feedback_free(g->fb);
	sd_event_unref(g->event);
	free(g);
	return NULL;
}

void fg_gpio_set_ack_handler(struct fg_gpio *g, fg_gpio_ack_handler_t handler, void *userdata)
{
	g->ack_handler = handler;
	g->ack_userdata = userdata;
}

const struct fg_feedback *fg_gpio_feedback(const struct fg_gpio *g)
{
	return g->fb;
}

const char *fg_gpio_backend_name(const struct fg_gpio *g)
{
	return g->backend ? g->backend->name : "none";
}

int fg_gpio_event(struct fg_gpio *g, const struct fg_feedback_event *ev)
{
	int r = fg_feedback_event(g->fb, ev, now_usec(g));

	update(g);
	return r;
}

int fg_gpio_set_condition(struct fg_gpio *g, enum fg_feedback_condition c, bool on)
{
	int r = fg_feedback_set_condition(g->fb, c, on, now_usec(g));

	update(g);
	return r;
}

int fg_gpio_set_button_condition(struct fg_gpio *g, enum fg_feedback_condition c,
				 const char *button, bool on)
{
	int r = fg_feedback_set_button_condition(g->fb, c, button, on, now_usec(g));

	update(g);
	return r;
}

void fg_gpio_press(struct fg_gpio *g)
{
	fg_feedback_press(g->fb, now_usec(g));
	update(g);
}

int fg_gpio_alert_opened(struct fg_gpio *g, const char *button)
{
	int r = fg_feedback_alert_opened(g->fb, button, now_usec(g));

	update(g);
	return r;
}

int fg_gpio_alert_delivery(struct fg_gpio *g, const char *button, enum fg_delivery d)
{
	int r = fg_feedback_alert_delivery(g->fb, button, d, now_usec(g));

	update(g);
	return r;
}

int fg_gpio_alert_closed(struct fg_gpio *g, const char *button)
{
	int r = fg_feedback_alert_closed(g->fb, button, now_usec(g));

	update(g);
	return r;
}

bool fg_gpio_acknowledge(struct fg_gpio *g)
{
	bool any = fg_feedback_acknowledge(g->fb, now_usec(g));

	update(g);
	return any;
}
