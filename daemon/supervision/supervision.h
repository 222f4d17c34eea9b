/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "supervision/audit.h"
#include "config/config.h"
#include "supervision/alarms.h"
#include "radio/buttons.h"
#include "feedback/gpio.h"
#include "delivery/pipeline.h"

/*
 * Supervision, the I/O side (docs/supervision.md): owns the alarms core
 * (supervision/alarms.h) and the audit trail (supervision/audit.h) and connects them to
 * the loop, the disk, the pipeline and the lights.
 *
 *  - one sd-event timer at fg_alarms_next_deadline(), re-armed after every
 *    observation (nothing polls);
 *  - <state_dir>/health.state, written atomically when an alarm opens or
 *    closes (on the next idle loop iteration), at most every 5 min for
 *    readings and last-seen times, and at free;
 *  - every alarm change becomes a supervision alert through
 *    fg_pipeline_supervision_alert() to the [health] webhook targets, an
 *    audit record, and the GPIO conditions NOT_SEEN / LOW_BATTERY (per
 *    button) and TARGETS_FAILING (the fallback alarm);
 *  - the heartbeat: every [health] heartbeat_interval a POST of the
 *    gateway's state (JSON) to heartbeat_url, never spooled, one in flight;
 *  - the clock check: adjtimex() at start and every SUPERVISOR_CLOCK_CHECK.
 *
 * The configuration, pipeline and gpio (may be NULL) are borrowed: the
 * configuration until the next fg_supervision_reload(), the others until
 * fg_supervision_free().
 */

struct fg_supervision;

/* What the heartbeat says about the radio, from the owner. */
struct fg_supervision_radio {
	const char *adapter;		/* "" without one */
	const char *state;		/* fg_bluez_state_to_string() */
	unsigned paired;
	unsigned ready;			/* verified sessions up now */
};

struct fg_supervision_ops {
	void (*radio)(void *userdata, struct fg_supervision_radio *ret);
	/* An alarm opened or closed (the alert is queued already). Optional. */
	void (*alarm)(void *userdata, const struct fg_alarm_change *c);
	/* The test-press window opened or closed (also when its time is up). Optional. */
	void (*test_window)(void *userdata, bool open);
};

/*
 * Opens <state_dir>/audit/ and restores <state_dir>/health.state. @ops and
 * @userdata must outlive the object. *ret owned by the caller.
 */
int fg_supervision_new(sd_event *e, const struct fg_config *c, struct fg_pipeline *p,
		      struct fg_gpio *gpio, const struct fg_supervision_ops *ops, void *userdata,
		      struct fg_supervision **ret);
/* Writes health.state if it changed, closes the trail. Accepts NULL. */
struct fg_supervision *fg_supervision_free(struct fg_supervision *s);

/* New thresholds and buttons (buttons no longer configured close their alarms). */
int fg_supervision_reload(struct fg_supervision *s, const struct fg_config *c);

/* ---- observations ---------------------------------------------------- */

/* A button's status from the radio (fg_buttons_ops.button_changed). */
void fg_supervision_button_status(struct fg_supervision *s, const struct fg_button_status *st);
/* The radio is usable (adapter present and powered, bluetoothd there). */
void fg_supervision_radio_ready(struct fg_supervision *s, bool ready);
/* Every pipeline event: delivery health, spool depth, the audit trail. */
void fg_supervision_pipeline_event(struct fg_supervision *s, const struct fg_pipeline_event *ev);

/*
 * A gesture the mapping did not turn into an open/close with an alert of
 * its own (append, suppressed, close while idle): one audit record.
 */
void fg_supervision_press(struct fg_supervision *s, const char *button, enum fg_gesture g,
			 enum fg_mapping_outcome o);
/*
 * A routine test press of configured button @b (a [button] test gesture, or
 * any gesture in a test window; @how says which): audit record, last test
 * time, and a test alert to the [health] test_webhook targets if any.
 */
void fg_supervision_test_press(struct fg_supervision *s, const struct fg_button_config *b,
			      enum fg_gesture g, const char *how);
/*
 * The test-press window: while it is open every gesture of @button (NULL or
 * "": of every configured button) is a routine test (fg_supervision_test_press)
 * and pages nobody. @duration_usec 0: FG_SUPERVISION_TEST_WINDOW; else 1 s to
 * 1 h (-ERANGE). Opening an open window restarts it. -ENOENT: no such button.
 */
#define FG_SUPERVISION_TEST_WINDOW (5 * 60 * UINT64_C(1000000))
int fg_supervision_open_test_window(struct fg_supervision *s, uint64_t duration_usec,
				   const char *button);
/* -ENOENT if none is open. */
int fg_supervision_close_test_window(struct fg_supervision *s);
/* Whether a gesture of @button now is a test. */
bool fg_supervision_in_test_window(const struct fg_supervision *s, const char *button);
/* Open? *ret_end (CLOCK_REALTIME) and *ret_button ("" every button; lives until the next change). */
bool fg_supervision_test_window(const struct fg_supervision *s, uint64_t *ret_end,
			       const char **ret_button);

/* Local acknowledge; @via: "button", "D-Bus". */
void fg_supervision_acknowledge(struct fg_supervision *s, bool silenced, const char *via);

/*
 * The previous run ended without a clean stop (found by the owner: the
 * <state_dir>/running marker). Logged, recorded, and reported as the
 * supervision alert "<gateway>-restarted", On then at once Off.
 */
void fg_supervision_report_restart(struct fg_supervision *s, const char *why);

/* ---- status ---------------------------------------------------------- */

struct fg_supervision_button {
	uint64_t last_seen_usec;	/* CLOCK_REALTIME; 0 never (persisted) */
	unsigned battery_mv;		/* 0 unknown (persisted) */
	int battery_percent;		/* -1 unknown */
	bool battery_low;
	bool not_seen;
	bool has_rssi;			/* persisted */
	int rssi;
	uint32_t firmware;		/* 0 unknown (persisted) */
	uint64_t last_test_usec;	/* CLOCK_REALTIME; 0 never (persisted) */
};

/* -ENOENT for a button that is not configured. */
int fg_supervision_button_info(const struct fg_supervision *s, const char *name,
			      struct fg_supervision_button *ret);
bool fg_supervision_alarm_active(const struct fg_supervision *s, enum fg_alarm_kind k,
				const char *subject);
/* Names of the open alarms ("reception-battery", …), NULL-terminated; caller frees (fg_strv_free). */
int fg_supervision_alarms(const struct fg_supervision *s, char ***ret);

/* Where the trail lives (<state_dir>/audit), for fg_audit_read(). */
const char *fg_supervision_audit_dir(const struct fg_supervision *s);

/* ---- tests ----------------------------------------------------------- */

/*
 * Replace the clock-sync probe (adjtimex()). @probe returns 1 synchronised,
 * 0 not, < 0 unknown. The check runs at once.
 */
void fg_supervision_set_clock_probe(struct fg_supervision *s, int (*probe)(void *userdata),
				   void *userdata);
/* Heartbeats sent and failed since start. */
void fg_supervision_heartbeat_counts(const struct fg_supervision *s, unsigned long *ret_sent,
				    unsigned long *ret_failed);
