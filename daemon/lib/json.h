/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A small streaming JSON writer (flicgatectl --json). Values are written to
 * a FILE as they come; the writer only keeps the nesting stack so that it
 * can place commas, newlines and indentation.
 *
 * Strings are always emitted as valid UTF-8 JSON: '"', '\\' and control
 * characters are escaped, and bytes that are not well-formed UTF-8
 * (overlong forms, surrogates, stray continuation bytes, code points above
 * U+10FFFF) are replaced by U+FFFD, so nothing a button or a target sends
 * can break a script's parser.
 *
 * Misuse (a value where a key is due, a key inside an array, unbalanced
 * ends, nesting deeper than FG_JSON_MAX_DEPTH) is not fatal at the call:
 * it is remembered and reported by fg_json_finish().
 */

struct fg_json;

#define FG_JSON_MAX_DEPTH 32

enum {
	FG_JSON_PRETTY = 1 << 0,	/* two-space indentation, one member per line */
};

/* @f is borrowed and must outlive the writer. *ret owned by the caller. */
int fg_json_new(FILE *f, unsigned flags, struct fg_json **ret);
/* Accepts NULL; returns NULL. Does not close @f. */
struct fg_json *fg_json_free(struct fg_json *j);

void fg_json_begin_object(struct fg_json *j);
void fg_json_end_object(struct fg_json *j);
void fg_json_begin_array(struct fg_json *j);
void fg_json_end_array(struct fg_json *j);
/* The next member's name; only inside an object, once before each value. */
void fg_json_key(struct fg_json *j, const char *key);

void fg_json_string(struct fg_json *j, const char *s);	/* NULL writes null */
void fg_json_string_len(struct fg_json *j, const char *s, size_t len);
void fg_json_int(struct fg_json *j, int64_t v);
void fg_json_uint(struct fg_json *j, uint64_t v);
void fg_json_bool(struct fg_json *j, bool v);
void fg_json_null(struct fg_json *j);

/* key + value in one call, for the common object member */
void fg_json_kv_string(struct fg_json *j, const char *key, const char *s);
void fg_json_kv_int(struct fg_json *j, const char *key, int64_t v);
void fg_json_kv_uint(struct fg_json *j, const char *key, uint64_t v);
void fg_json_kv_bool(struct fg_json *j, const char *key, bool v);

/*
 * End the document: writes the final newline and flushes. 0 when exactly
 * one complete value was written; -EINVAL after any misuse or when values
 * are still open; -EIO when the stream reported a write error.
 */
int fg_json_finish(struct fg_json *j);

/* Write @len bytes of @s as a quoted JSON string (escaping as above). */
void fg_json_write_string(FILE *f, const char *s, size_t len);

/*
 * The one JSON string escaper, which every writer here is built on: the
 * inside of a JSON string (no quotes) for @len bytes of @s, embedded NULs
 * included, escaped and UTF-8-repaired as described at the top. It hands
 * the text to @put in pieces (unescaped runs in one piece); @userdata is
 * passed to @put and only used during the call.
 *
 * By default '\b' and '\f' take their short escapes and DEL passes through
 * (the --json writer). FG_JSON_ESCAPE_ALL_CONTROLS writes every control
 * character other than '\n', '\r' and '\t' as \u00XX, DEL included (the
 * form webhook bodies have always carried).
 */
enum {
	FG_JSON_ESCAPE_ALL_CONTROLS = 1 << 0,
};
typedef void (*fg_json_put_fn)(const char *s, size_t n, void *userdata);
void fg_json_escape(const char *s, size_t len, unsigned flags,
		    fg_json_put_fn put, void *userdata);
