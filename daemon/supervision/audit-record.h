/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/*
 * One record of the audit trail (supervision/audit.h is the file store):
 * the versioned, tab-separated, escaped line it is kept as, and its CSV
 * export. Pure: bytes in, bytes out.
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
	_FG_AUDIT_KIND_INVALID = -EINVAL,
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

/* Longest line a record takes; a longer detail is cut, the line stays well-formed. */
#define FG_AUDIT_LINE_MAX 4096

/*
 * Writes @e as one line ending in '\n' into @line (FG_AUDIT_LINE_MAX
 * bytes). Returns its length, or -EINVAL for a kind out of range.
 */
int fg_audit_record_format(const struct fg_audit_entry *e, char line[static FG_AUDIT_LINE_MAX]);
/*
 * Parses one line (without its '\n') in place: *ret's strings point into
 * @line. -EBADMSG for anything but a well-formed record of this version.
 */
int fg_audit_record_parse(char *line, struct fg_audit_entry *ret);

/* CSV export (RFC 4180 quoting): the header line, then one line per record. */
void fg_audit_csv_header(struct fg_strbuf *b);
void fg_audit_csv_line(struct fg_strbuf *b, const struct fg_audit_entry *e, uint64_t since_press_usec);

const char *fg_audit_kind_to_string(enum fg_audit_kind k);
int fg_audit_kind_from_string(const char *s);	/* _FG_AUDIT_KIND_INVALID: none */
