/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * A growing NUL-terminated string. Appends never fail visibly: an allocation
 * failure sets @oom, later appends are ignored, and fg_strbuf_steal() then
 * returns -ENOMEM. Start with "struct fg_strbuf b = {};".
 */
struct fg_strbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void fg_strbuf_putn(struct fg_strbuf *b, const char *s, size_t n);
void fg_strbuf_puts(struct fg_strbuf *b, const char *s);
void fg_strbuf_printf(struct fg_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Appends @s escaped for the inside of a JSON string (no quotes added), by
 * lib/json.h's escaper with FG_JSON_ESCAPE_ALL_CONTROLS: ill-formed UTF-8
 * becomes U+FFFD. The _len form takes @len bytes, NULs included.
 */
void fg_strbuf_put_json(struct fg_strbuf *b, const char *s);
void fg_strbuf_put_json_len(struct fg_strbuf *b, const char *s, size_t len);
/* Appends "\"<escaped s>\"". */
void fg_strbuf_put_json_string(struct fg_strbuf *b, const char *s);
/*
 * Hands the buffer to the caller (*ret owned by caller, free()), even when
 * empty, and resets @b. -ENOMEM (buffer freed) if an append failed.
 */
int fg_strbuf_steal(struct fg_strbuf *b, char **ret, size_t *ret_len);
void fg_strbuf_done(struct fg_strbuf *b);
