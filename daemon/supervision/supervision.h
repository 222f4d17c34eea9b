/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "supervision/alarms.h"
#include "config/config.h"
#include "radio/buttons.h"
#include "delivery/pipeline.h"
#include "supervision/policy.h"

/*
 * Supervision, the I/O side (docs/supervision.md): owns the alarms core
 * (supervision/alarms.h) and the audit trail (supervision/audit.h) and
 * connects them to the loop and the disk. It holds no pointer to the
 * pipeline or the lights: the owner answers its questions and carries out
 * its actions through struct fg_supervision_ops, and hears of every alarm
 * that opens or closes there.
 *
 *  - one sd-event timer at fg_alarms_next_deadline(), re-armed after every
 *    observation (nothing polls);
 *  - <state_dir>/health.state, written atomically when an alarm opens or
 *    closes (on the next idle loop iteration), at most every 5 min for
 *    readings and last-seen times, and at free;
 *  - every alarm change becomes a supervision alert (ops->send_alert) to
 *    the [health] webhook targets, an audit record, and an alarm event
 *    (ops->alarm) for the owner, who tells the lights;
 *  - the heartbeat: every [health] heartbeat_interval a POST of the
 *    gateway's state (JSON) to heartbeat_url, never spooled, one in flight;
 *  - the clock check: adjtimex() at start and every minute.
 *
 * A reference to the configuration is held from fg_supervision_new() or
 * fg_supervision_reload() until the next reload or fg_supervision_free().
 */

struct fg_supervision;

/* What the heartbeat says about the radio, from the owner. */
struct fg_supervision_radio {
	const char *adapter;		/* "" without one */
	const char *state;		/* fg_bluez_state_to_string() */
	unsigned paired;
	unsigned ready;			/* verified sessions up now */
};

/* What supervision needs to know of delivery, from the owner, at the moment it asks. */
struct fg_supervision_delivery {
	size_t spool_depth;
	bool spool_alarm;
	size_t dead_letters;
	size_t n_targets;		/* configured and orphaned; see ops->target */
};

/*
 * The owner's side, every member optional: questions (answered at once,
 * what they return lives until the call returns), actions, and events.
 * Userdata is the one given to fg_supervision_new().
 */
struct fg_supervision_ops {
	void (*radio)(struct fg_supervision *s, struct fg_supervision_radio *ret, void *userdata);
	void (*delivery)(struct fg_supervision *s, struct fg_supervision_delivery *ret, void *userdata);
	/* Target @i (< n_targets). */
	void (*target)(struct fg_supervision *s, size_t i, struct fg_target_status *ret,
		       void *userdata);
	/* Buttons with an open alert, NULL-terminated; *ret owned by the caller (fg_strv_free). */
	int (*open_alerts)(struct fg_supervision *s, char ***ret, void *userdata);

	/* Queue a supervision alert (fg_pipeline_supervision_alert()); @ret_id as there. */
	int (*send_alert)(struct fg_supervision *s, const struct fg_supervision_alert *a,
			  char ret_id[FG_ALERT_ID_MAX], void *userdata);
	/* Tell webhook @target of a routine test press of @button (fg_pipeline_test_alert()). */
	int (*test_alert)(struct fg_supervision *s, const char *button, const char *target,
			  void *userdata);

	/*
	 * An alarm opened or closed (its alert is queued already). Also called
	 * from fg_supervision_new() for each alarm found open in health.state
	 * (@c->raised, empty name_id and info): it is open again.
	 */
	void (*alarm)(struct fg_supervision *s, const struct fg_alarm_change *c, void *userdata);
	/* The test-press window opened or closed (also when its time is up). */
	void (*test_window)(struct fg_supervision *s, bool open, void *userdata);
};

/*
 * Opens <state_dir>/audit/ and restores <state_dir>/health.state; takes a
 * reference to @c. @ops and @userdata must outlive the object. *ret owned
 * by the caller.
 */
int fg_supervision_new(sd_event *e, struct fg_config *c, const struct fg_supervision_ops *ops,
		       void *userdata, struct fg_supervision **ret);
/* Writes health.state if it changed, closes the trail. Accepts NULL. */
struct fg_supervision *fg_supervision_free(struct fg_supervision *s);

/*
 * New thresholds and buttons (buttons no longer configured close their
 * alarms). Takes a reference to @c and drops the one on the previous.
 */
int fg_supervision_reload(struct fg_supervision *s, struct fg_config *c);

/* ---- observations ---------------------------------------------------- */

/* A button's status from the radio (fg_buttons_ops.button_changed). */
void fg_supervision_button_status(struct fg_supervision *s, const struct fg_button_status *st);
/* The radio is usable (adapter present and powered, bluetoothd there). */
void fg_supervision_radio_ready(struct fg_supervision *s, bool ready);
/* State files lying set aside now (the state-files alarm); @last for people, copied. */
void fg_supervision_state_files(struct fg_supervision *s, size_t n_aside, const char *last);
/* Every pipeline event: delivery health (ops->target), spool depth, the audit trail. */
void fg_supervision_pipeline_event(struct fg_supervision *s, const struct fg_pipeline_event *ev);

/*
 * A gesture the mapping did not turn into an open/close with an alert of
 * its own (append, suppressed, close while idle): one audit record.
 * @incident_id: the button's open incident, NULL or "" for none.
 */
void fg_supervision_press(struct fg_supervision *s, const char *button, enum fg_gesture g,
			  enum fg_mapping_outcome o, const char *incident_id);
/*
 * A routine test press of configured button @b (a [button] test gesture, or
 * any gesture in a test window; @how says which): audit record, last test
 * time, and a test alert (ops->test_alert) to each [health] test_webhook.
 */
void fg_supervision_test_press(struct fg_supervision *s, const struct fg_button_config *b,
			       enum fg_gesture g, const char *how);
/*
 * The test-press window: while it is open every gesture of @button (NULL or
 * "": of every configured button) is a routine test (fg_supervision_test_press)
 * and pages nobody. @duration_usec 0: FG_SUPERVISION_TEST_WINDOW; else 1 s to
 * 1 h (-ERANGE). Opening an open window restarts it. -ENOENT: no such button.
 */
#define FG_SUPERVISION_TEST_WINDOW FG_TEST_WINDOW_DEFAULT_USEC
int fg_supervision_open_test_window(struct fg_supervision *s, uint64_t duration_usec,
				    const char *button);
/* -ENOENT if none is open. */
int fg_supervision_close_test_window(struct fg_supervision *s);
/* Whether a gesture of @button now is a test. */
bool fg_supervision_in_test_window(const struct fg_supervision *s, const char *button);
/* Open? *ret_end (CLOCK_REALTIME) and *ret_button ("" every button; lives until the next change). */
bool fg_supervision_test_window(const struct fg_supervision *s, uint64_t *ret_end,
				const char **ret_button);

/*
 * Button @button dropped @presses presses it never delivered (a gap in its
 * event counter, fg_buttons_ops.events_lost; @detail says which counters).
 * Configured: a critical supervision alert "<name_id>-events-lost" naming
 * the button and the count (On only: a person closes it), and its audit
 * record. Not configured: the audit record alone, as its presses page
 * nobody. Accepts a NULL @s.
 */
void fg_supervision_events_lost(struct fg_supervision *s, const char *button, bool configured,
				unsigned presses, const char *detail);

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
