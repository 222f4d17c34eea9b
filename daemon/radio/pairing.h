/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "radio/flic2.h"
#include "radio/pairing-codec.h"

/*
 * The pairing store: <state_dir>/pairings/ (mode 0700), two small text
 * files per button, named after its address:
 *
 *   AABBCCDDEEFF.pairing  the record from pairing (holds the SECRET key);
 *                         written at pairing, and when name/firmware change
 *   AABBCCDDEEFF.events   the event de-duplication state, as older versions
 *                         and imports write it; the daemon keeps the
 *                         counter in the spool journal (its owner's
 *                         persist_counter) and removes this file then
 *
 * Every write goes through fg_write_file_atomic() (temp file, fsync,
 * rename, directory fsync) with mode 0600, so after a power loss at any
 * point each file holds either its old or its new contents. Keeping the
 * frequently written counter out of the key file means the key is written
 * only when it must be. Temp files an interrupted write left behind are
 * removed when the store is opened. Formats: docs/flic2.md.
 */

struct fg_pairing_store;

/* Create <state_dir>/pairings if needed. *ret owned by the caller. */
int fg_pairing_store_open(const char *state_dir, struct fg_pairing_store **ret);
/* Accepts NULL; returns NULL. */
struct fg_pairing_store *fg_pairing_store_free(struct fg_pairing_store *s);

/* The directory in use; lives as long as @s. */
const char *fg_pairing_store_dir(const struct fg_pairing_store *s);

/* Write (or replace) the record of p->address. */
int fg_pairing_store_save(struct fg_pairing_store *s, const struct fg_flic2_pairing *p);

/*
 * Read the record of @address: -ENOENT when there is none, -EBADMSG when
 * the file is damaged or was not written by us (the caller decides whether
 * to ask for a re-pair).
 */
int fg_pairing_store_load(struct fg_pairing_store *s, const uint8_t address[6],
			  struct fg_flic2_pairing *ret);

/* Addresses with a record, sorted. *ret_addresses owned by the caller (free()). */
int fg_pairing_store_list(struct fg_pairing_store *s, uint8_t (**ret_addresses)[6],
			  size_t *ret_n);

/* Forget a button: both files. -ENOENT when neither existed. */
int fg_pairing_store_remove(struct fg_pairing_store *s, const uint8_t address[6]);

/* Remove the .events file alone (its counter is kept elsewhere now); -ENOENT if none. */
int fg_pairing_store_remove_dedup(struct fg_pairing_store *s, const uint8_t address[6]);

int fg_pairing_store_save_dedup(struct fg_pairing_store *s, const uint8_t address[6],
				const struct fg_flic2_dedup *d);
/* -ENOENT: nothing stored yet (start with an invalid dedup state). */
int fg_pairing_store_load_dedup(struct fg_pairing_store *s, const uint8_t address[6],
				struct fg_flic2_dedup *ret);
