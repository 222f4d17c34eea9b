/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "supervision/audit-record.h"

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
 *
 * This is the file store; the line format and the CSV export are pure,
 * in supervision/audit-record.h.
 */

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
