/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "config/config.h"
#include "feedback/feedback.h"
#include "feedback/pattern.h"
#include "feedback/gpio.h"
#include "feedback/gpio-line.h"

/*
 * What daemon/feedback/gpio.c needs from a backend. Internal to the gpio
 * adapter (and its tests, which plug in a fake one). Every function
 * returns 0 or -errno; libgpiod's "-1 and errno" is converted here.
 */
struct fg_gpio_driver {
	const char *name;
	/*
	 * Drives real lines: wake at every edge of a pattern. Otherwise only
	 * when the pattern shown changes (the log backend prints patterns).
	 */
	bool edges;
	/* Request the lines of @c; *ret is the backend's state. */
	int (*open)(const struct fg_gpio_config *c, void **ret);
	/* Release everything. The adapter has set the safe state before. */
	void (*close)(void *b);
	/* Set @o to logical @level (active-low already applied by the request). */
	int (*set)(void *b, enum fg_output o, bool level);
	/* The pattern shown on @o changed (NULL: nothing needs telling). */
	void (*show)(void *b, enum fg_output o, const struct fg_feedback_output *out);
	/* The acknowledge line: its event fd (-1: none), and whether the kernel debounces it. */
	int (*ack_fd)(void *b);
	bool (*ack_debounced)(void *b);
	/* Read the pending edge events (the fd is readable), then the current logical level. */
	int (*ack_read)(void *b, bool *ret_level);
	/* Only the current logical level. */
	int (*ack_value)(void *b, bool *ret_level);
};

extern const struct fg_gpio_driver fg_gpio_driver_log;
#if FG_GPIOD_API == 1 || FG_GPIOD_API == 2
extern const struct fg_gpio_driver fg_gpio_driver_gpiod;
#endif

/* fg_gpio_new() with a given backend (NULL: none); for tests. */
int fg_gpio_new_with_driver(sd_event *event, const struct fg_config *config,
			     const struct fg_gpio_driver *backend, struct fg_gpio **ret);

