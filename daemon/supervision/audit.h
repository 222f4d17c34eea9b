/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The audit trail: an append-only local record of what happened to every
 * press (pressed → delivered → closed), test presses, acknowledgements and
 * supervision alarms, kept for inspections that look at response times.
 *
 * Files: DIR/audit.log (current) and DIR/audit.log.1 … .N (older), rotated
 * when the current one would grow past max_bytes; at most keep+1 files, so
 * the trail is bounded. Lines are tab-separated, versioned, escaped.
 *
 * Records are written with write(2) but not fsync'd one by one (an SD card
 * would stall the event loop); the alert spool is what guarantees delivery,
 * the trail is its readable history. Rotation and close do fdatasync.
 */

enum fg_audit_kind {
	FG_AUDIT_PRESS,			/* a gesture opened or closed an alert locally */
	FG_AUDIT_DELIVERED,		/* a target accepted an alert */
	FG_AUDIT_FAILED,		/* a target refused an alert for good (dead letter) */
	FG_AUDIT_CLOSED,		/* the alert was closed */
	FG_AUDIT_TEST,			/* a routine test press; nobody paged */
	FG_AUDIT_ACK,			/* local acknowledge/silence */
	FG_AUDIT_SUPERVISION_OPEN,
	FG_AUDIT_SUPERVISION_CLOSE,
	_FG_AUDIT_KIND_MAX,
	_FG_AUDIT_KIND_INVALID = -1,
};

struct fg_audit_entry {
	uint64_t time_usec;		/* CLOCK_REALTIME µs */
	enum fg_audit_kind kind;
	const char *button;		/* NULL or "" if none */
	const char *alert_id;
	const char *target;
	uint64_t latency_usec;		/* kind-specific, e.g. press → accepted; 0 if none */
	const char *detail;		/* free text; never a secret */
};

struct fg_audit;

/*
 * Opens (creating @dir 0700 if needed) the trail. *ret owned by the caller:
 * fg_audit_free(). @max_bytes per file (≥ 4096), @keep older files (1..99).
 */
int fg_audit_open(const char *dir, size_t max_bytes, unsigned keep, struct fg_audit **ret);
struct fg_audit *fg_audit_free(struct fg_audit *a);

/* Appends one record, rotating first if needed. Returns 0 or -errno. */
int fg_audit_append(struct fg_audit *a, const struct fg_audit_entry *e);

/*
 * Calls @cb for every record in DIR with @since ≤ time ≤ @until, oldest
 * first, across rotated files. @since_press_usec is the time from the press
 * that opened the same alert id (0 when unknown): the response interval.
 * A damaged line is skipped and counted in *ret_skipped (may be NULL).
 * @cb returning < 0 stops the walk with that value.
 */
typedef int (*fg_audit_cb)(const struct fg_audit_entry *e, uint64_t since_press_usec,
			   void *userdata);
int fg_audit_read(const char *dir, uint64_t since, uint64_t until, fg_audit_cb cb,
		  void *userdata, unsigned *ret_skipped);

/* CSV export (RFC 4180 quoting): the header line, then one line per record. */
void fg_audit_csv_header(FILE *f);
void fg_audit_csv_line(FILE *f, const struct fg_audit_entry *e, uint64_t since_press_usec);

const char *fg_audit_kind_to_string(enum fg_audit_kind k);
enum fg_audit_kind fg_audit_kind_from_string(const char *s);
