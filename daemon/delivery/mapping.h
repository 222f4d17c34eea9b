/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "delivery/alert.h"
#include "config/config.h"

/*
 * Gesture -> alert mapping and the local alert state of every button, pure.
 *
 * A button's alert is open or closed. A gesture in the button's "on" set
 * opens it (or, while open, follows while_open: append or suppress); one in
 * the "off" set closes it; a gesture in both sets toggles. Every event
 * remembers (counter, gesture, press time) for the last FG_MAPPING_SEEN
 * events of the button, so an event the button replays after a reconnect,
 * or the adapter delivers twice, never opens a second alert.
 *
 * The state is saved per button with fg_mapping_serialize_button() (the
 * pipeline keeps it in the spool journal) and restored with
 * fg_mapping_merge(); fg_mapping_serialize()/fg_mapping_load() read and
 * write the whole state, as the alerts.state file of older versions held it.
 */

#define FG_MAPPING_SEEN 64
/* A replay reports the same press time give or take clock drift. */
#define FG_MAPPING_REPLAY_SLACK_USEC (10 * UINT64_C(1000000))

struct fg_mapping;

enum fg_mapping_outcome {
	FG_MAPPING_IGNORED,	/* gesture not mapped for this button */
	FG_MAPPING_DUPLICATE,	/* an event already handled */
	FG_MAPPING_OPEN,	/* emits On */
	FG_MAPPING_APPEND,	/* emits On, incident already open */
	FG_MAPPING_SUPPRESSED,	/* On while open, held back by policy */
	FG_MAPPING_CLOSE,	/* emits Off */
	FG_MAPPING_CLOSE_IDLE,	/* emits Off although nothing was open */
	FG_MAPPING_TEST,	/* a routine test press; nothing sent */
	_FG_MAPPING_OUTCOME_MAX,
};

const char *fg_mapping_outcome_to_string(enum fg_mapping_outcome o);
bool fg_mapping_outcome_emits(enum fg_mapping_outcome o);

struct fg_mapping_input {
	const struct fg_button_config *button;
	const char *gateway;
	const struct fg_button_event *event;
	const char *alert_id;		/* fresh unique id (the caller's RNG) */
	uint64_t now_realtime_usec;
};

/* Per-button state, as reported to status and LEDs. */
struct fg_button_alert_state {
	const char *button;		/* lives until the next fg_mapping_* call */
	bool open;
	char incident_id[FG_ALERT_ID_MAX];
	uint64_t opened_usec;		/* CLOCK_REALTIME of the opening press */
	unsigned appended;		/* On presses while open */
};

struct fg_mapping *fg_mapping_new(void);
struct fg_mapping *fg_mapping_free(struct fg_mapping *m);

/*
 * Handle one event. On success *ret_outcome says what happened; if it
 * emits (fg_mapping_outcome_emits), *ret_alert is filled and owned by the
 * caller (fg_alert_clear). The state changes even when nothing is emitted
 * (duplicate detection), so save after every call that returns 0.
 */
int fg_mapping_handle(struct fg_mapping *m, const struct fg_mapping_input *in,
		      enum fg_mapping_outcome *ret_outcome, struct fg_alert *ret_alert);

bool fg_mapping_is_open(const struct fg_mapping *m, const char *button);
size_t fg_mapping_n_buttons(const struct fg_mapping *m);
/* @i < fg_mapping_n_buttons(); fills *ret. */
void fg_mapping_get(const struct fg_mapping *m, size_t i, struct fg_button_alert_state *ret);

/* "flicgate-alerts 1" text; *ret owned by the caller. */
int fg_mapping_serialize(const struct fg_mapping *m, char **ret, size_t *ret_len);
/* Replace the state with @text. -EBADMSG on a malformed file (state unchanged). */
int fg_mapping_load(struct fg_mapping *m, const char *text, size_t len);
/* The same text for @button alone (one journal record); -ENOENT if it has no state. */
int fg_mapping_serialize_button(const struct fg_mapping *m, const char *button, char **ret,
				size_t *ret_len);
/* Add or replace the buttons @text names, keep the others. -EBADMSG: nothing changed. */
int fg_mapping_merge(struct fg_mapping *m, const char *text, size_t len);

/* serial, else address, else button name ":" counter ":" gesture. */
void fg_mapping_idempotency_key(const struct fg_button_config *b,
				const struct fg_button_event *ev,
				char ret[FG_IDEMPOTENCY_KEY_MAX]);
