/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "lib/json.h"

/*
 * flicgatectl: a thin D-Bus client of flicgated (docs/dbus-api.md). One
 * table of commands (flicgatectl.c) drives the parser, --help, the bash
 * completion and the man page's command list check. Files call downwards
 * only: flicgatectl.c -> one file per command -> common.c, props.c,
 * output.c.
 */

/* Exit codes, documented in flicgatectl(1). */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_ = 1,	/* the daemon refused or failed; the message says why */
	EXIT_USAGE = 2,		/* bad command line or argument */
	EXIT_NOT_RUNNING = 3,	/* no bus, or flicgated is not on it */
	EXIT_NOT_AUTHORIZED = 4,
	EXIT_UNKNOWN_BUTTON = 5,	/* or unknown target */
	EXIT_NOT_AVAILABLE = 6,	/* the feature is not part of this flicgated build */
	EXIT_NOT_PAIRED = 7,	/* pair: the window ended without a paired button */
};

/* Options a command may accept (struct command.options). */
enum {
	OPT_TIMEOUT = 1 << 0,
	OPT_NAME = 1 << 1,
	OPT_TARGET = 1 << 2,
	OPT_REPLACE = 1 << 3,
	OPT_NAMES = 1 << 4,
	OPT_LINES = 1 << 5,
	OPT_FORCE = 1 << 6,
	OPT_SINCE = 1 << 7,	/* --since, --until */
	OPT_CSV = 1 << 8,
	OPT_CLOSE = 1 << 9,
};

struct ctl {
	sd_bus *bus;
	const char *bus_desc;	/* "system bus", "user bus", the address */
	bool json;
	bool json_pretty;
	/* per-command options */
	unsigned timeout_sec;	/* 0: the daemon's default */
	const char *name;
	const char *target;
	bool replace;
	bool names;
	unsigned lines;
	bool force;
	bool has_since;
	uint64_t since_usec, until_usec;	/* CLOCK_REALTIME */
	bool csv;
	bool close;
};

struct command {
	const char *name;
	const char *args;	/* synopsis after the name */
	int min_args, max_args;
	unsigned options;	/* OPT_* */
	/* completion of positional arguments: "button", "file" or NULL */
	const char *complete;
	int (*run)(struct ctl *c, char **args, int n);
	const char *help;
};

/* One file per command (status.c, buttons.c, pair.c, …): each runs its
 * command and returns the exit code. */
int cmd_status(struct ctl *c, char **args, int n);
int cmd_buttons(struct ctl *c, char **args, int n);
int cmd_pair(struct ctl *c, char **args, int n);
int cmd_unpair(struct ctl *c, char **args, int n);
int cmd_rename(struct ctl *c, char **args, int n);
int cmd_test(struct ctl *c, char **args, int n);
int cmd_ack(struct ctl *c, char **args, int n);
int cmd_log(struct ctl *c, char **args, int n);
int cmd_reload(struct ctl *c, char **args, int n);
int cmd_export(struct ctl *c, char **args, int n);
int cmd_import(struct ctl *c, char **args, int n);
int cmd_test_press(struct ctl *c, char **args, int n);

/*
 * common.c: report a failed call (text on stderr, JSON on stdout),
 * free @e and return the exit code.
 */
int ctl_bus_error(struct ctl *c, sd_bus_error *e, int r, const char *what);
/* report a local failure with an exit code */
int ctl_fail(struct ctl *c, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* a JSON writer on stdout, as --json asked; exits on ENOMEM */
struct fg_json *ctl_json_begin(struct ctl *c);
/* finishes and frees @j; the exit code */
int ctl_json_end(struct ctl *c, struct fg_json *j);
/*
 * Calls @member on the Manager with the arguments @types says (NULL: none);
 * *ret_reply (may be NULL) is the caller's to unref. -errno, @e set.
 */
int ctl_call_gateway(struct ctl *c, const char *member, sd_bus_message **ret_reply,
		     sd_bus_error *e, const char *types, ...);
/* Calls @member on the Button @query names, with one argument when @types
 * is "s", none when NULL. -errno, @e set. */
int ctl_call_button(struct ctl *c, const char *query, const char *member, sd_bus_error *e,
		    const char *types, const char *arg);
/* A command that prints one line of text, or {"ok": true, @key: @value}
 * in JSON (@key may be NULL); the exit code. */
int ctl_report_done(struct ctl *c, const char *text, const char *key, const char *value);

/* props.c: what GetAll/GetManagedObjects return, decoded */
struct target_info {
	char *name;
	char *health;
	uint64_t queued, delivered, dead;
	int32_t last_status;
	char *last_error;
};

struct gateway_info {
	char *version;
	char *name;
	char *config_path;
	uint64_t start_time;
	char **features;
	char *adapter;
	char *adapter_state;
	char *pairing_policy;
	bool pairing_open;
	uint64_t pairing_end;
	uint32_t buttons;
	uint32_t connected;
	char **open_alerts;
	uint64_t spool_depth;
	bool spool_alarm;
	uint64_t dead_letters;
	struct target_info *targets;
	size_t n_targets;
	bool test_window_open;
	uint64_t test_window_end;
	char *test_window_button;
	char **alarms;
	uint32_t links_used;
	uint32_t link_budget;
	uint32_t sleeping_buttons;
};

struct button_info {
	char *path;
	char *id;
	char *name;
	char *serial;
	char *address;
	bool configured;
	bool paired;
	bool connected;
	uint64_t last_seen;
	int16_t rssi;
	uint16_t battery_mv;
	uint32_t firmware;
	char *last_event;
	uint64_t last_event_time;
	char *alert_state;
	int32_t battery_percent;
	bool battery_low;
	bool not_seen;
	uint64_t last_test;
	bool keep_linked;
	bool sleeping;
};

int gateway_info_get(sd_bus *bus, struct gateway_info *ret, sd_bus_error *e);
void gateway_info_clear(struct gateway_info *g);
bool gateway_has_feature(const struct gateway_info *g, const char *feature);

int button_info_get(sd_bus *bus, const char *path, struct button_info *ret, sd_bus_error *e);
/* every button, sorted by name; *ret owned by the caller (buttons_free) */
int buttons_list(sd_bus *bus, struct button_info **ret, size_t *ret_n, sd_bus_error *e);
void button_info_clear(struct button_info *b);
void buttons_free(struct button_info *b, size_t n);
/* GetButton: name, address or serial -> object path (malloc'd) */
int button_resolve(sd_bus *bus, const char *query, char **ret_path, sd_bus_error *e);

/* output.c */
/* "yes" or "no" */
const char *yes_no(bool b);
/* @s, or "-" when NULL or empty */
const char *dash(const char *s);
/* "2026-11-24T15:41:00.123Z" or "never"; @buf >= 32 bytes */
/*
 * Human output: local time, RFC 3339 with the zone's offset
 * ("2026-12-08T05:20:01.123+01:00"; "…Z" where the zone is UTC), or UTC
 * after fmt_set_utc(true) (--utc). JSON and CSV are always UTC.
 */
const char *fmt_time(uint64_t realtime_usec, char *buf, size_t size);
void fmt_set_utc(bool utc);
/* "3min ago", "2h 5min ago"; relative to now */
const char *fmt_ago(uint64_t realtime_usec, char *buf, size_t size);
/* JSON: RFC 3339 or null */
void json_time(struct fg_json *j, const char *key, uint64_t realtime_usec);
/* JSON: string or null when empty */
void json_nstring(struct fg_json *j, const char *key, const char *s);
/* JSON: the number, or null when 0 (not known) */
void json_nint(struct fg_json *j, const char *key, int64_t v);

/* A plain text table: add cells row by row, then print aligned. */
struct table;
struct table *table_new(size_t columns);
void table_add(struct table *t, const char *cell);
void table_addf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* the number, or "-" when 0 (not known) */
void table_add_nint(struct table *t, long long v);
/* @indent spaces before every row; the last column is not padded */
void table_print(struct table *t, unsigned indent);
struct table *table_free(struct table *t);
