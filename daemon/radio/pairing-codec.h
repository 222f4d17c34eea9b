/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "radio/flic2.h"

/*
 * The text of the pairing store's two files per button (pairing.h,
 * docs/flic2.md): "key=value" lines, '#' comments, a format version; the
 * record holds the SECRET pairing key, the counter file the event
 * de-duplication state. Pure: the store, the export (pairing-export.h),
 * tests and the fuzzer share it.
 */

/* Files longer than this are no file of ours. */
#define FG_PAIRING_FILE_MAX 4096

/*
 * The file formats as text, for the store itself, tests and the fuzzer.
 * format: *ret is NUL-terminated, owned by the caller; it holds the key,
 * so wipe it (fg_crypto_wipe) before free(). parse: -EBADMSG for anything
 * but a complete, valid file of that kind.
 */
int fg_pairing_format(const struct fg_flic2_pairing *p, char **ret, size_t *ret_len);
int fg_pairing_parse(const char *text, size_t len, struct fg_flic2_pairing *ret);
int fg_pairing_format_dedup(const struct fg_flic2_dedup *d, char **ret, size_t *ret_len);
int fg_pairing_parse_dedup(const char *text, size_t len, struct fg_flic2_dedup *ret);
