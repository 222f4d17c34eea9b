/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "radio/gesture.h"

/*
 * A button event as the Flic 2 adapter hands it to the alert pipeline, and
 * the alert record built from it. The alert is plain data: it is what the
 * spool stores on disk (fg_alert_serialize / fg_alert_parse) and what the
 * presets and templates render into HTTP requests.
 */

#define FG_SERIAL_MAX 24		/* "BG30-C12345" plus room */
#define FG_ALERT_ID_MAX 40		/* 32 hex digits, or "test-" + 32 */
#define FG_IDEMPOTENCY_KEY_MAX 96

struct fg_button_event {
	enum fg_gesture gesture;
	uint32_t event_counter;		/* the button's own counter for this event */
	/*
	 * How long before delivery to the gateway the button saw the event,
	 * derived from the button's own timestamp. A press queued while the
	 * button was out of range arrives with a large age.
	 */
	uint64_t age_usec;
	bool queued;			/* replayed from the button's queue */
	unsigned battery_mv;		/* 0: unknown */
	char serial[FG_SERIAL_MAX];	/* "" if unknown */
	bool has_address;
	uint8_t address[6];
};

enum fg_alert_state {
	FG_ALERT_ON,			/* open (or append to) the incident */
	FG_ALERT_OFF,			/* close it */
	_FG_ALERT_STATE_MAX,
};

struct fg_alert {
	char id[FG_ALERT_ID_MAX];	/* unique per alert */
	char incident_id[FG_ALERT_ID_MAX]; /* id of the On that opened the incident */
	/* serial-or-address ":" counter ":" gesture; stable across replays */
	char idempotency_key[FG_IDEMPOTENCY_KEY_MAX];
	enum fg_alert_state state;
	bool appended;			/* On while the incident was already open */
	bool was_open;			/* for Off: an incident was open locally */
	bool test;			/* from the test-alert command */
	/*
	 * A supervision alert (docs/supervision.md): not a press but a
	 * battery, not-seen or gateway alarm; button is then the alarm's
	 * name, gesture means nothing and presets say so.
	 */
	bool supervision;
	char *button;			/* [button NAME] */
	char *name_id;			/* flic_nameId */
	char *gateway;			/* [gateway] name */
	char *info;			/* may be "" */
	enum fg_severity severity;
	char serial[FG_SERIAL_MAX];
	bool has_address;
	uint8_t address[6];
	enum fg_gesture gesture;
	uint32_t event_counter;
	uint64_t press_usec;		/* CLOCK_REALTIME of the press, per the button */
	uint64_t age_usec;		/* age of the press when the gateway got it */
	uint64_t created_usec;		/* CLOCK_REALTIME when the gateway built the alert */
	bool queued;
	unsigned battery_mv;		/* 0: unknown */
};

const char *fg_alert_state_to_string(enum fg_alert_state s);	/* "On"/"Off" */

/* Frees the strings inside @a (not @a itself); accepts NULL. */
void fg_alert_clear(struct fg_alert *a);
/* Deep copy into *ret (caller clears it with fg_alert_clear). 0 or -ENOMEM. */
int fg_alert_copy(const struct fg_alert *a, struct fg_alert *ret);
/* Sets a string member (button, name_id, gateway, info) to a copy of @s. */
int fg_alert_set_string(char **field, const char *s);

/*
 * The name a target knows the alert by (AlertOps flic_nameId, PagerDuty
 * component, Slack/ntfy title, ${name_id}): name_id, and for a test alert
 * name_id with FG_ALERT_TEST_SUFFIX, so a test never opens, appends to or
 * closes the incident of a real alert (docs/alerts.md). Returns a->name_id
 * or @buf.
 */
#define FG_ALERT_TEST_SUFFIX "-test"
#define FG_ALERT_NAME_ID_BUF 256
const char *fg_alert_target_name_id(const struct fg_alert *a, char *buf, size_t size);

/* "pressed 40 s ago" style phrase for humans; "" for a fresh press. */
const char *fg_alert_age_text(const struct fg_alert *a, char *buf, size_t size);
#define FG_AGE_TEXT_BUF 48

/*
 * Spool record format, version 1: a header line "flicgate-alert 1", then
 * one "key=value" line per field, values escaped (\\, \n, \r, \t, \xHH for
 * other control bytes), then a final "end" line so a truncated file is
 * detected. Unknown keys are ignored (forward compatibility); missing
 * required keys or a missing "end" are -EBADMSG.
 */
#define FG_ALERT_RECORD_VERSION 1
/* *ret_text is NUL-terminated, owned by the caller (free()). */
int fg_alert_serialize(const struct fg_alert *a, char **ret_text, size_t *ret_len);
/* On success *ret is filled (clear it with fg_alert_clear). */
int fg_alert_parse(const char *text, size_t len, struct fg_alert *ret);
