/* SPDX-License-Identifier: MIT */
/* A growing string that never fails visibly (webhook bodies, config text). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/strbuf.h"

static bool reserve(struct fg_strbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (b->len + n + 1 > cap)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void fg_strbuf_putn(struct fg_strbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void fg_strbuf_puts(struct fg_strbuf *b, const char *s)
{
	fg_strbuf_putn(b, s, strlen(s));
}

void fg_strbuf_printf(struct fg_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (!reserve(b, 64))
		return;
	/* one pass when it fits (the common case), a second one when not */
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->p[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		if (!reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static void put_strbuf(const char *s, size_t n, void *userdata)
{
	fg_strbuf_putn(userdata, s, n);
}

void fg_strbuf_put_json_len(struct fg_strbuf *b, const char *s, size_t len)
{
	fg_json_escape(s, len, FG_JSON_ESCAPE_ALL_CONTROLS, put_strbuf, b);
}

void fg_strbuf_put_json(struct fg_strbuf *b, const char *s)
{
	fg_strbuf_put_json_len(b, s, strlen(s));
}

void fg_strbuf_put_json_string(struct fg_strbuf *b, const char *s)
{
	fg_strbuf_putn(b, "\"", 1);
	fg_strbuf_put_json(b, s ? s : "");
	fg_strbuf_putn(b, "\"", 1);
}

int fg_strbuf_steal(struct fg_strbuf *b, char **ret, size_t *ret_len)
{
	if (!b->oom && !b->p)
		reserve(b, 0);
	if (b->oom) {
		fg_strbuf_done(b);
		return -ENOMEM;
	}
	b->p[b->len] = '\0';
	*ret = b->p;
	if (ret_len)
		*ret_len = b->len;
	*b = (struct fg_strbuf){};
	return 0;
}

void fg_strbuf_done(struct fg_strbuf *b)
{
	free(b->p);
	*b = (struct fg_strbuf){};
}
