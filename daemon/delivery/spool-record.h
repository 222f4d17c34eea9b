/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * The spool journal's record codec, pure: bytes in, bytes and decisions
 * out (spool.c does the file I/O). docs/alerts.md has the layout.
 *
 * A journal is cut into FG_SPOOL_SLOT-byte slots. Slot 0 is the journal
 * header ("flicgate-spool 2", the slot size); a record starts on a slot
 * boundary and takes ceil(size / FG_SPOOL_SLOT) slots: FG_SPOOL_RECORD_HEADER
 * bytes of header, the target name, then the alert text.
 */

#define FG_SPOOL_SLOT 4096		/* journal slot, one file system block */
#define FG_SPOOL_RECORD_HEADER 32
#define FG_SPOOL_RECORD_MAX (64 * 1024)

struct fg_spool_record {
	uint64_t seq;
	const char *target;		/* points into the buffer, not NUL-terminated */
	size_t target_len;
	const char *text;		/* points into the buffer */
	size_t text_len;
	size_t size;			/* header + target + text */
};

/*
 * Encode a record of @seq for @target (1..65535 bytes) holding @len bytes
 * of @text. *ret_buf (owned by the caller, free()) is zero-padded to whole
 * slots, *ret_n_slots of them. -EINVAL for an empty or over-long target or
 * a record over FG_SPOOL_RECORD_MAX, -ENOMEM.
 */
int fg_spool_record_encode(uint64_t seq, const char *target, const char *text, size_t len,
			   uint8_t **ret_buf, size_t *ret_n_slots);

/*
 * 0 and *ret (pointing into @buf) for a valid record at @buf, @avail bytes
 * readable; -EBADMSG for anything else (torn, garbled, foreign, cut short).
 */
int fg_spool_record_decode(const uint8_t *buf, size_t avail, struct fg_spool_record *ret);

/*
 * Recovery: how many bytes to read to decode the record that may start at
 * @head (@n bytes of one slot already read, @avail bytes left in the
 * journal from the slot's start). 0 when @head cannot start a record (free
 * space); the record's claimed size when it spans more than one slot and
 * fits; else @n (the decode then judges what was read).
 */
size_t fg_spool_record_wanted(const uint8_t *head, size_t n, size_t avail);

/* Slots a record of @size bytes occupies. */
static inline size_t fg_spool_record_slots(size_t size)
{
	return (size + FG_SPOOL_SLOT - 1) / FG_SPOOL_SLOT;
}

/* The journal's header slot: write it into @buf (FG_SPOOL_SLOT bytes, zeroed). */
void fg_spool_journal_header(uint8_t *buf);

/*
 * Judge the start of an existing journal (@n bytes of it): -EPROTONOSUPPORT
 * for a later format of ours (left alone), else 0. A damaged header is 0:
 * the records check themselves.
 */
int fg_spool_journal_check(const char *head, size_t n);

/*
 * A file name in dead/, "t-<target>-<seq>[-N].alert": -ENOENT if it is not
 * a dead letter (no ".alert"); 1 and *ret_seq when the part before
 * ".alert" is the 16 hex digits of a sequence number; 0 for a dead letter
 * whose name gives no sequence (a "-N" suffix).
 */
int fg_spool_dead_name_seq(const char *name, uint64_t *ret_seq);
