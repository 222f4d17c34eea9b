/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "core/flic2.h"

/*
 * The paired buttons on disk: <state_dir>/buttons/<AABBCCDDEEFF>, one small
 * text file per button (mode 0600, written atomically), holding the pairing
 * record (with its SECRET key), the event de-duplication state and the name
 * the button was paired under. A file that cannot be parsed is renamed
 * aside (".corrupt") and reported, never silently dropped.
 */

struct fg_store;

struct fg_store_entry {
	struct fg_flic2_pairing pairing;	/* SECRET key inside */
	struct fg_flic2_dedup dedup;
	char *alias;				/* NULL if none */
};

/* Creates the directory if needed. *ret owned by the caller. */
int fg_store_open(const char *state_dir, struct fg_store **ret);
struct fg_store *fg_store_free(struct fg_store *s);

/*
 * Every stored button. *ret (an array of *ret_n entries) is owned by the
 * caller: fg_store_entries_free() wipes the keys and frees it.
 */
int fg_store_load(struct fg_store *s, struct fg_store_entry **ret, size_t *ret_n);
void fg_store_entries_free(struct fg_store_entry *e, size_t n);

/* Write (replace) the entry for e->pairing.address, durably. */
int fg_store_save(struct fg_store *s, const struct fg_store_entry *e);
/* Delete it; -ENOENT if there was none. */
int fg_store_remove(struct fg_store *s, const uint8_t address[6]);

/* Text form, for tests: *ret owned by the caller (free; holds the key). */
int fg_store_format(const struct fg_store_entry *e, char **ret, size_t *ret_len);
/* -EBADMSG on any malformed line; *ret filled only on success. */
int fg_store_parse(const char *text, size_t len, struct fg_store_entry *ret);
