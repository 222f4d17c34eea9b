/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* NULL-terminated arrays of malloc'd strings; NULL is the empty list. */

size_t fg_strv_length(char *const *l);
/* Appends a copy of @s. Returns 0 or -ENOMEM (list unchanged). */
int fg_strv_push(char ***l, const char *s);
bool fg_strv_contains(char *const *l, const char *s);
/* Deep copy; *ret owned by caller. */
int fg_strv_copy(char *const *l, char ***ret);
/* Frees every string and the array; accepts NULL. Returns NULL. */
char **fg_strv_free(char **l);
/*
 * Split @s at commas and/or whitespace, dropping empty items
 * ("click, hold" -> {"click", "hold"}). *ret owned by caller.
 */
int fg_strv_split_list(const char *s, char ***ret);

/* True if @s is non-empty and only [A-Za-z0-9_.-]. */
bool fg_name_is_valid(const char *s);

#define FG_STRV_FOREACH(s, l) \
	for (char *const *_p = (l); _p && *_p && ((s) = *_p, 1); _p++)

static inline void fg_freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ __attribute__((cleanup(fg_freep)))
