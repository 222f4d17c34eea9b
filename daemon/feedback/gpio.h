/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "config/config.h"
#include "feedback/feedback.h"

/*
 * The gateway's lights and buzzer, and the local acknowledge button.
 *
 * Owns the feedback core (feedback/feedback.h) and drives a backend from it:
 * "none" (nothing), "log" (prints each output's pattern when it changes,
 * for the demo and machines without GPIO) or "gpiod" (real lines through
 * libgpiod 1.6 or 2.x, whichever the build found). One sd-event timer is
 * armed for the next change the core reports; nothing polls. The optional
 * acknowledge input is an sd-event io source on the line's event fd,
 * debounced in software (feedback/debounce.h) or, with libgpiod 2, by the
 * kernel.
 *
 * The manager reports what happens through the fg_gpio_* calls below; each
 * takes the loop's CLOCK_MONOTONIC time, updates the core and the outputs
 * at once. On free the outputs are put in a safe state (LEDs and buzzer
 * off) before the lines are released.
 */

struct fg_gpio;

/*
 * Called after the local acknowledge button was pressed and everything on
 * at that moment was silenced (@silenced: whether anything was on).
 * @userdata must live as long as the fg_gpio.
 */
typedef void (*fg_gpio_ack_handler_t)(struct fg_gpio *g, bool silenced, void *userdata);

/*
 * Set up from @config ([gpio] and [escalation]) on @event (a reference is
 * taken). Requests the lines at their configured initial levels, then shows
 * "starting" until FG_COND_STARTING is cleared. Errors:
 * -ENOENT (chip or line not found), -EBUSY (line in use), -EINVAL (bad
 * pattern), -ENOMEM, or what libgpiod reports. *ret owned by the caller.
 */
int fg_gpio_new(sd_event *event, const struct fg_config *config, struct fg_gpio **ret);
/* Safe state (outputs off), release the lines, drop the event sources. */
struct fg_gpio *fg_gpio_free(struct fg_gpio *g);

void fg_gpio_set_ack_handler(struct fg_gpio *g, fg_gpio_ack_handler_t handler, void *userdata);

/* The feedback core, for reading (fg_feedback_evaluate()); owned by @g. */
const struct fg_feedback *fg_gpio_feedback(const struct fg_gpio *g);
const char *fg_gpio_backend_name(const struct fg_gpio *g);

/* What happened (feedback/feedback.h): the core decides what shows. */
int fg_gpio_event(struct fg_gpio *g, const struct fg_feedback_event *ev);

/* Lower level, one condition or alert state at a time; see feedback/feedback.h for each. */
int fg_gpio_set_condition(struct fg_gpio *g, enum fg_feedback_condition c, bool on);
int fg_gpio_set_button_condition(struct fg_gpio *g, enum fg_feedback_condition c,
				 const char *button, bool on);
void fg_gpio_press(struct fg_gpio *g);
int fg_gpio_alert_opened(struct fg_gpio *g, const char *button);
int fg_gpio_alert_delivery(struct fg_gpio *g, const char *button, enum fg_delivery d);
int fg_gpio_alert_closed(struct fg_gpio *g, const char *button);
/* Silence now, as the local button does (also for the D-Bus API). */
bool fg_gpio_acknowledge(struct fg_gpio *g);
