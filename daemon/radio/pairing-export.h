/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "radio/flic2.h"

/*
 * The pairing export: every paired button of a gateway in one text
 * document, so that a hot-spare gateway can take over a building without
 * pairing any button again (Gateway.ExportPairings / ImportPairings,
 * flicgatectl export / import). Pure: records in, text out, and back.
 *
 * Format, version 1 (docs/bluez.md, "Pairing export"):
 *
 *   flicgate-pairings 1
 *   # comment lines (only here, before the first button)
 *   --- pairing AA:BB:CC:DD:EE:FF NAME      NAME: given at pairing or by
 *   <the pairing record, as in the store>   a rename; "-" for none
 *   --- dedup                               only when a counter is known
 *   <the event counter record>
 *   --- end
 *   … one such block per button, sorted by address …
 *   --- sha256 <64 hex digits>
 *
 * The records are the pairing store's own formats (core/pairing.h), so one
 * parser checks both. The last line is the SHA-256 of every byte before it:
 * a file that was cut short, edited or damaged in transit is refused as a
 * whole, instead of handing a building's buttons a wrong key.
 */

#define FG_PAIRING_EXPORT_MAX_SIZE	(1024 * 1024)
#define FG_PAIRING_EXPORT_MAX_BUTTONS	4096
/* The longest name a button gets from a window, a rename or an export. */
#define FG_PAIRING_NAME_MAX		63

struct fg_pairing_export_entry {
	struct fg_flic2_pairing rec;	/* SECRET key inside */
	struct fg_flic2_dedup dedup;	/* .valid false: no counter known */
	char name[FG_PAIRING_NAME_MAX + 1]; /* "" none */
};

/* Why a document was refused: the 1-based line at fault (0: the whole document). */
struct fg_pairing_export_error {
	unsigned line;
	char what[128];
};

/*
 * A name a button may be given: fg_name_is_valid(), at most
 * FG_PAIRING_NAME_MAX, and not something that reads as an address.
 */
bool fg_pairing_name_is_valid(const char *name);

/*
 * Format @n entries (sorted by address here). *ret is NUL-terminated,
 * owned by the caller and holds SECRET keys: fg_crypto_wipe() it before
 * free(). -EINVAL if an entry cannot be exported (an invalid name or
 * record), -E2BIG over the limits above.
 */
int fg_pairing_export_format(const struct fg_pairing_export_entry *entries, size_t n, char **ret,
			     size_t *ret_len);

/*
 * Parse a whole document. *ret (malloc'd, SECRET: wipe before free())
 * holds *ret_n entries, in the document's order. -EBADMSG for anything but
 * a complete, undamaged document of version 1 with at most one block per
 * address and per name; @err (optional) then says where and why.
 */
int fg_pairing_export_parse(const char *text, size_t len, struct fg_pairing_export_error *err,
			    struct fg_pairing_export_entry **ret, size_t *ret_n);
