/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "delivery/severity.h"

/*
 * Supervision: turns what the gateway observes (a button seen, a battery
 * reading, BlueZ gone, every target failing, a deep spool, an unsynchronised
 * clock) into supervision alarms that open once when a threshold is crossed
 * and close once on recovery. Pure: every call takes the time, CLOCK_MONOTONIC
 * in microseconds; nothing here reads a clock or touches a file.
 *
 * Alarms have stable names so that the incident system can map them:
 * "<button name_id>-battery", "<button name_id>-offline",
 * "<button name_id>-link", "<gateway>-bluetooth", "<gateway>-delivery",
 * "<gateway>-spool", "<gateway>-clock", "<gateway>-state-files",
 * "<gateway>-<target>-rejected".
 */

enum fg_alarm_kind {
	FG_ALARM_BATTERY_LOW,		/* per button */
	FG_ALARM_BUTTON_OFFLINE,	/* per button: not seen for too long */
	FG_ALARM_LINK_STARVED,		/* per button: wanted a link and got none, for too long */
	FG_ALARM_TARGET_REJECTED,	/* per target: it refuses us (401, 403, 404…), at once */
	FG_ALARM_BLUETOOTH_GONE,	/* no adapter or bluetoothd gone, for too long */
	FG_ALARM_TARGETS_FAILING,	/* every target failing, for too long */
	FG_ALARM_SPOOL_HIGH,		/* undelivered alerts above the alarm level */
	FG_ALARM_CLOCK_UNSYNCED,	/* clock not synchronised past the grace time */
	FG_ALARM_STATE_FILES,		/* a state file was no file of ours: set aside */
	_FG_ALARM_KIND_MAX,
};

/* Raw gateway conditions the manager reports; alarms follow after a delay. */
enum fg_alarms_condition {
	FG_ALARM_COND_BLUETOOTH_GONE,
	FG_ALARM_COND_TARGETS_FAILING,
	FG_ALARM_COND_CLOCK_UNSYNCED,
	_FG_ALARM_COND_MAX,
};

/* A clock not synchronised this long after start-up raises its alarm. */
#define FG_ALARMS_CLOCK_GRACE_USEC (UINT64_C(120) * 1000000)
/* Consecutive low readings before the battery alarm opens. */
#define FG_ALARMS_LOW_READINGS 2

struct fg_alarms_params {
	const char *gateway_name;		/* copied */
	unsigned low_battery_mv;
	unsigned battery_hysteresis_mv;
	uint64_t offline_after_usec;		/* default per button; 0 = never */
	uint64_t bluetooth_gone_after_usec;
	uint64_t targets_failing_after_usec;
	unsigned spool_alarm;			/* depth above which the spool alarm opens */
	bool require_time_sync;
	uint64_t link_starved_after_usec;	/* 0 = never */
};

struct fg_alarm_change {
	enum fg_alarm_kind kind;
	bool raised;			/* true: alarm opens; false: it closes */
	char subject[72];		/* button or target name, or "" for the gateway */
	char name_id[200];		/* stable alarm name, see above */
	char info[200];			/* human text for the alert */
	uint64_t since_usec;		/* when the condition began */
};

struct fg_alarms_button_status {
	const char *name;		/* lives until the button is removed */
	bool seen;			/* ever seen (since configured or restored) */
	uint64_t last_seen_usec;	/* monotonic; valid if seen */
	unsigned battery_mv;		/* 0: unknown */
	int battery_percent;		/* -1: unknown; an estimate, see docs */
	bool battery_low;
	bool offline;
	bool link_starved;
};

struct fg_alarms;

/* *ret owned by the caller: fg_alarms_free(). */
int fg_alarms_new(const struct fg_alarms_params *p, uint64_t now, struct fg_alarms **ret);
struct fg_alarms *fg_alarms_free(struct fg_alarms *h);
/* New thresholds (reload). Open alarms stay open until they clear. */
int fg_alarms_set_params(struct fg_alarms *h, const struct fg_alarms_params *p, uint64_t now);

/*
 * Buttons are named by their config section name. @name_id is the name the
 * targets know (flic_nameId); @offline_after_usec 0 uses the default.
 * Adding a known name updates it. Removing closes its open alarms.
 */
int fg_alarms_add_button(struct fg_alarms *h, const char *name, const char *name_id,
			 uint64_t offline_after_usec, uint64_t now);
int fg_alarms_remove_button(struct fg_alarms *h, const char *name, uint64_t now);

/* Observations. -ENOENT for a name that was never added. */
int fg_alarms_button_seen(struct fg_alarms *h, const char *name, uint64_t now);
int fg_alarms_button_battery(struct fg_alarms *h, const char *name, unsigned mv, uint64_t now);
/*
 * Does the button want a link it has not got (it advertised, or the
 * controller had no slot for it)? Wanting longer than
 * link_starved_after raises its "link" alarm; getting one clears it.
 */
int fg_alarms_button_link_wanted(struct fg_alarms *h, const char *name, bool wanted, uint64_t now);
int fg_alarms_condition(struct fg_alarms *h, enum fg_alarms_condition c, bool active, uint64_t now);
int fg_alarms_spool_depth(struct fg_alarms *h, size_t depth, uint64_t now);
/*
 * @n_aside state files lie set aside ("<file>.bad-<time>": a link, a
 * directory or another user's file found where a state file belongs); the
 * alarm is open while there are any. @last names the latest, for people.
 */
int fg_alarms_state_files(struct fg_alarms *h, size_t n_aside, const char *last, uint64_t now);

/*
 * Target @target refuses the gateway (@rejected; @reason says why and what
 * to check, e.g. "HTTP 401 Unauthorized: check the key in url/routing_key"):
 * its alarm opens at once; false (it accepted an alert) closes it. A
 * repeat changes nothing.
 */
int fg_alarms_target_rejected(struct fg_alarms *h, const char *target, bool rejected,
			      const char *reason, uint64_t now);

/* Evaluate time-based thresholds at @now; call when the deadline passes. */
void fg_alarms_tick(struct fg_alarms *h, uint64_t now);
/* Next time fg_alarms_tick() has something to do; UINT64_MAX if none. */
uint64_t fg_alarms_next_deadline(const struct fg_alarms *h);

/* Pops the oldest pending change: 1 with *ret filled, 0 when none. */
int fg_alarms_next_change(struct fg_alarms *h, struct fg_alarm_change *ret);

/* @subject: a button's or target's name; for FG_ALARM_TARGET_REJECTED NULL asks "any target?". */
bool fg_alarms_alarm_active(const struct fg_alarms *h, enum fg_alarm_kind k, const char *subject);
size_t fg_alarms_n_buttons(const struct fg_alarms *h);
int fg_alarms_button_status(const struct fg_alarms *h, size_t i, struct fg_alarms_button_status *ret);

/* CR2032 voltage to an estimated charge in percent (0..100). */
int fg_alarms_battery_percent(unsigned mv);

/*
 * Persistence (last seen, battery, open alarms) across restarts. Times are
 * stored as wall-clock ages so they survive reboots; @now_mono/@now_real are
 * the current CLOCK_MONOTONIC and CLOCK_REALTIME in µs. *ret is malloc'd.
 * Restoring ignores buttons no longer added and is tolerant of garbage
 * (a damaged state file only loses history, never raises false alarms).
 */
int fg_alarms_serialize(const struct fg_alarms *h, uint64_t now_mono, uint64_t now_real,
			char **ret, size_t *ret_len);
int fg_alarms_restore(struct fg_alarms *h, const char *text, size_t len, uint64_t now_mono,
		      uint64_t now_real);

/* "battery", "offline", "link", "rejected", "bluetooth", "delivery", "spool", "clock", "state-files": the alarm name's suffix. */
const char *fg_alarm_kind_to_string(enum fg_alarm_kind k);
int fg_alarm_kind_from_string(const char *s);
/* The severity of an alarm's supervision alert. */
enum fg_severity fg_alarm_kind_severity(enum fg_alarm_kind k);
