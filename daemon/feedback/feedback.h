/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "feedback/pattern.h"
#include "supervision/alarms.h"

/*
 * Local feedback: what the status LED, the alert LED and the buzzer show.
 *
 * The rest of the gateway tells this core what is going on as events
 * (fg_feedback_event(): alerts opened, delivered, closed, presses, the
 * radio, the spool, supervision alarms; and the local acknowledge); the
 * core alone decides which condition an event raises and, for each output,
 * which state shows and when anything changes next. Pure: every call takes the CLOCK_MONOTONIC
 * time, nothing reads a clock, nothing arms a timer. daemon/feedback/gpio.c
 * drives real lines from fg_feedback_evaluate() and sleeps until
 * view.next_usec.
 *
 * States are rows in one priority order (highest first, below). Each row
 * has a pattern set (pattern.h): per output a pattern, or nothing. For
 * each output the highest active row that has a pattern for it, and whose
 * pattern has not ended, shows; an output no active row drives is off.
 * So rows layer: escalation level 2 adds buzzer chirps while level 1's
 * faster blink stays on the alert LED.
 *
 * Local acknowledge ("silence"): everything that was already going on at
 * the moment of the acknowledge (alerts open then, conditions raised
 * before it, a press just before it) stops driving the buzzer; LEDs keep
 * showing it. Anything newer (a new alert, a condition raised later) sounds
 * again. The SILENCED row is active while anything silenced (that the
 * buzzer could sound for) is still on.
 */

enum fg_feedback_state {
	FG_FB_PRESS,		/* transient: a button press was received */
	FG_FB_CLOSED,		/* transient: an alert was closed */
	FG_FB_UNDELIVERABLE,	/* an open alert's delivery was given up */
	FG_FB_FAILING,		/* an open alert is retrying / spooled */
	FG_FB_LEVEL3,		/* escalation levels: an alert open long enough */
	FG_FB_LEVEL2,
	FG_FB_LEVEL1,
	FG_FB_OPEN,		/* an open alert not yet confirmed by its target */
	FG_FB_DELIVERED,	/* an open alert confirmed by its target */
	FG_FB_SILENCED,		/* something acknowledged locally is still on */
	FG_FB_CONFIG_FAULT,
	FG_FB_NO_ADAPTER,
	FG_FB_SPOOL_FULL,
	FG_FB_DEAD_LETTER,	/* dead letters wait for the operator */
	FG_FB_TARGETS_FAILING,	/* every target failing for [health] targets_failing_after */
	FG_FB_NOT_SEEN,		/* a button has not been seen for too long */
	FG_FB_LOW_BATTERY,	/* a button's battery is low */
	FG_FB_STARTING,
	FG_FB_IDLE,		/* always active: the heartbeat */
	_FG_FB_STATE_MAX,
	_FG_FB_STATE_NONE = -1,	/* no row drives the output */
};

/*
 * Default pattern sets, chosen for a ward: the status LED says how the
 * gateway is (a short blip every 3 s while all is well, flash counts for
 * faults), the alert LED says where the alert is, the buzzer is used for a
 * press chirp and for escalation only. As macros so that the config table
 * can use them as its defaults.
 */
#define FG_FB_DEFAULT_PRESS		"status_led: on for 1s, alert_led: on for 1s, buzzer: beep 1x 50ms"
#define FG_FB_DEFAULT_CLOSED		"alert_led: flash 3x 100ms"
#define FG_FB_DEFAULT_UNDELIVERABLE	"alert_led: blink 200ms 50%"
#define FG_FB_DEFAULT_FAILING		"alert_led: flash 2x 100ms every 1s"
#define FG_FB_DEFAULT_LEVEL3		"buzzer: blink 1s 50%"
#define FG_FB_DEFAULT_LEVEL2		"buzzer: beep 2x 100ms every 10s"
#define FG_FB_DEFAULT_LEVEL1		"alert_led: blink 500ms 50%"
#define FG_FB_DEFAULT_OPEN		"alert_led: blink 1s 50%"
#define FG_FB_DEFAULT_DELIVERED		"alert_led: on"
#define FG_FB_DEFAULT_SILENCED		"none"
#define FG_FB_DEFAULT_CONFIG_FAULT	"status_led: blink 200ms 50%"
#define FG_FB_DEFAULT_NO_ADAPTER	"status_led: blink 1s 50%"
#define FG_FB_DEFAULT_SPOOL_FULL	"status_led: flash 5x 100ms every 3s"
#define FG_FB_DEFAULT_DEAD_LETTER	"status_led: flash 4x 100ms every 3s"
/* every target failing for [health] targets_failing_after: nobody can be paged, the buzzer is the alarm */
#define FG_FB_DEFAULT_TARGETS_FAILING	"status_led: flash 3x 100ms every 3s, buzzer: beep 3x 100ms every 30s"
#define FG_FB_DEFAULT_NOT_SEEN		"status_led: flash 2x 100ms every 3s"
#define FG_FB_DEFAULT_LOW_BATTERY	"status_led: flash 1x 500ms every 3s"
#define FG_FB_DEFAULT_STARTING		"status_led: on"
#define FG_FB_DEFAULT_IDLE		"status_led: flash 1x 100ms every 3s"

/* "press", "level1", "no_adapter", …: the config key is "<name>_pattern". */
const char *fg_feedback_state_to_string(enum fg_feedback_state s);
enum fg_feedback_state fg_feedback_state_from_string(const char *s);
const char *fg_feedback_state_default(enum fg_feedback_state s);
/* PRESS and CLOSED: their patterns must all end (see validate below). */
bool fg_feedback_state_is_transient(enum fg_feedback_state s);

/*
 * Config validators: a pattern set for an ordinary row, and one for a
 * transient row (every pattern must end). NULL or the message in @msg.
 */
const char *fg_feedback_validate_pattern(const char *value, char *msg, size_t size);
const char *fg_feedback_validate_transient_pattern(const char *value, char *msg, size_t size);

/* Conditions reported by the manager (BlueZ adapter, health, pipeline). */
enum fg_feedback_condition {
	FG_COND_STARTING,
	FG_COND_CONFIG_FAULT,
	FG_COND_NO_ADAPTER,
	FG_COND_SPOOL_FULL,
	FG_COND_DEAD_LETTER,
	FG_COND_TARGETS_FAILING,
	FG_COND_NOT_SEEN,	/* per button */
	FG_COND_LOW_BATTERY,	/* per button */
	_FG_COND_MAX,
};

/* Delivery state of an open alert, from the alert pipeline. */
enum fg_delivery {
	FG_DELIVERY_SENDING,	/* not confirmed yet (the state at open) */
	FG_DELIVERY_DELIVERED,	/* the target acknowledged it */
	FG_DELIVERY_FAILING,	/* retrying, spooled */
	FG_DELIVERY_GAVE_UP,	/* dead-lettered */
	_FG_DELIVERY_MAX,
};

struct fg_feedback;

/*
 * @sets: one pattern set per state (copied). @level_after_usec: time an
 * alert stays open before level N+1, 0 disables that level (copied).
 * *ret is owned by the caller (fg_feedback_free()).
 */
int fg_feedback_new(const struct fg_pattern_set sets[_FG_FB_STATE_MAX],
		    const uint64_t level_after_usec[FG_ESCALATION_LEVELS],
		    struct fg_feedback **ret);
/* From the [gpio] *_pattern keys and [escalation] level*_after. */
int fg_feedback_new_from_config(const struct fg_config *c, struct fg_feedback **ret);
struct fg_feedback *fg_feedback_free(struct fg_feedback *fb);

/*
 * Raise or clear a condition. fg_feedback_set_condition() is for the
 * gateway-wide conditions; fg_feedback_set_button_condition() keeps one
 * flag per button (@button is copied), and the row is active while any
 * button has it. Raising a raised condition keeps its original time.
 * -EINVAL for an out-of-range condition, -ENOMEM.
 */
int fg_feedback_set_condition(struct fg_feedback *fb, enum fg_feedback_condition c,
			      bool on, uint64_t now_usec);
int fg_feedback_set_button_condition(struct fg_feedback *fb, enum fg_feedback_condition c,
				     const char *button, bool on, uint64_t now_usec);
bool fg_feedback_condition_is_set(const struct fg_feedback *fb, enum fg_feedback_condition c);

/* A press was received (any gesture, any button). */
void fg_feedback_press(struct fg_feedback *fb, uint64_t now_usec);

/*
 * The alert of @button was opened. Opening an alert that is already open
 * keeps its first time (escalation runs from the first "On"). -ENOMEM.
 */
int fg_feedback_alert_opened(struct fg_feedback *fb, const char *button, uint64_t now_usec);
/* New delivery state of @button's open alert; -ENOENT if none is open. */
int fg_feedback_alert_delivery(struct fg_feedback *fb, const char *button,
			       enum fg_delivery d, uint64_t now_usec);
/* @button's alert was closed; -ENOENT if none was open. */
int fg_feedback_alert_closed(struct fg_feedback *fb, const char *button, uint64_t now_usec);
size_t fg_feedback_open_alerts(const struct fg_feedback *fb);

/*
 * Local acknowledge: silence the buzzer for everything on at @now_usec.
 * Returns true if anything the buzzer could sound for was on (an alert,
 * with escalation rows that use the buzzer; a condition whose row does; a
 * press chirp still sounding).
 */
bool fg_feedback_acknowledge(struct fg_feedback *fb, uint64_t now_usec);

/* What one output shows at a moment. */
struct fg_feedback_output {
	enum fg_feedback_state state;	/* the row shown; _FG_FB_STATE_NONE: off */
	const struct fg_pattern *pattern; /* NULL with _FG_FB_STATE_NONE; lives as long as fb */
	uint64_t start_usec;		/* when that pattern started */
	bool level;			/* logical level now */
	uint64_t next_usec;		/* this output's next change */
};

struct fg_feedback_view {
	struct fg_feedback_output out[_FG_OUTPUT_MAX];
	/* Next time anything may change (edges, ends, escalation); FG_USEC_INFINITY: none. */
	uint64_t next_usec;
	/*
	 * Next time the row or pattern shown on an output may change (a
	 * pattern ends, an escalation level is reached), ignoring edges
	 * within patterns: enough for a display that prints patterns.
	 */
	uint64_t next_state_usec;
	/* States active at the moment, bit (1u << state), whether shown or not. */
	uint32_t active;
};

void fg_feedback_evaluate(const struct fg_feedback *fb, uint64_t now_usec,
			  struct fg_feedback_view *ret);

/*
 * Events from the rest of the gateway. This is what the owner reports: the
 * mapping from what happened to which condition or alert state lights is
 * decided in fg_feedback_event() and nowhere else. The facts at the end of
 * struct fg_feedback_event are the owner's view at the moment of the event;
 * each kind reads only those it says.
 */
enum fg_feedback_event_kind {
	FG_FB_EVENT_STARTED,		/* start-up is over */
	FG_FB_EVENT_GESTURE,		/* a verified gesture: .down (the button went down), .queued */
	FG_FB_EVENT_RADIO,		/* .on: the radio is usable (adapter present and powered) */
	FG_FB_EVENT_ALERT_OPENED,	/* .button's alert opened */
	FG_FB_EVENT_ALERT_CLOSED,	/* .button's alert closed */
	FG_FB_EVENT_DELIVERED,		/* a target accepted an alert of .button (.alert_*); .targets_refusing */
	FG_FB_EVENT_FAILING,		/* an alert of .button (.alert_*) is retrying; .targets_refusing */
	FG_FB_EVENT_DEAD_LETTER,	/* an alert of .button (.alert_*) was refused for good */
	FG_FB_EVENT_TARGETS,		/* a target's health changed; .targets_refusing */
	FG_FB_EVENT_SPOOL,		/* the spool filled, drained or lost an alert; .spool_alarm */
	FG_FB_EVENT_RESTORED,		/* the delivery state found at start: .dead_letters, .spool_alarm */
	FG_FB_EVENT_ALARM,		/* supervision alarm .alarm of .button (NULL: the gateway)
					 * opened (.on) or closed; .spool_alarm */
	_FG_FB_EVENT_MAX,
};

struct fg_feedback_event {
	enum fg_feedback_event_kind kind;
	const char *button;		/* borrowed for the call */
	bool on;
	/* FG_FB_EVENT_GESTURE */
	bool down;			/* the gesture is the button going down */
	bool queued;			/* replayed from the button's own queue, not pressed now */
	/* DELIVERED, FAILING, DEAD_LETTER: the alert they are about */
	bool alert_on;			/* an On, not an Off */
	bool alert_test;		/* a routine test alert */
	bool alert_supervision;		/* a supervision alert */
	/* FG_FB_EVENT_ALARM */
	enum fg_alarm_kind alarm;
	/* facts */
	bool targets_refusing;		/* some target refuses our key or URL */
	bool boot_errors;		/* the image left flicgate-errors.txt: [system] values not applied */
	bool spool_alarm;		/* the spool's own alarm is on, or an alert was lost */
	bool dead_letters;		/* dead letters wait for the operator */
};

/* -EINVAL for a bad event, -ENOMEM; an alert event for a closed alert is no error. */
int fg_feedback_event(struct fg_feedback *fb, const struct fg_feedback_event *ev, uint64_t now_usec);
