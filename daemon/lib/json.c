/* SPDX-License-Identifier: MIT */
/*
 * JSON out: the one string escaper (UTF-8 repair included) and the streaming
 * writer flicgatectl --json is built on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

enum frame {
	FRAME_ARRAY,
	FRAME_OBJECT,
};

struct fg_json {
	FILE *f;
	unsigned flags;
	unsigned depth;
	enum frame stack[FG_JSON_MAX_DEPTH];
	unsigned count[FG_JSON_MAX_DEPTH];	/* members written at each level */
	bool have_key;				/* a key waits for its value */
	bool done;				/* the top-level value is complete */
	bool misuse;
};

int fg_json_new(FILE *f, unsigned flags, struct fg_json **ret)
{
	struct fg_json *j;

	if (!f)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->f = f;
	j->flags = flags;
	*ret = j;
	return 0;
}

struct fg_json *fg_json_free(struct fg_json *j)
{
	free(j);
	return NULL;
}

static void newline_indent(struct fg_json *j, unsigned depth)
{
	if (!(j->flags & FG_JSON_PRETTY))
		return;
	fputc('\n', j->f);
	for (unsigned i = 0; i < depth; i++)
		fputs("  ", j->f);
}

/* Everything a value needs before it: a comma, a line, or a key check. */
static bool before_value(struct fg_json *j)
{
	if (j->misuse)
		return false;
	if (j->depth == 0) {
		if (j->done) {
			j->misuse = true;	/* a second top-level value */
			return false;
		}
		return true;
	}
	if (j->stack[j->depth - 1] == FRAME_OBJECT) {
		if (!j->have_key) {
			j->misuse = true;
			return false;
		}
		j->have_key = false;
		return true;
	}
	if (j->count[j->depth - 1]++ > 0)
		fputc(',', j->f);
	newline_indent(j, j->depth);
	return true;
}

static void after_value(struct fg_json *j)
{
	if (j->depth == 0)
		j->done = true;
}

void fg_json_key(struct fg_json *j, const char *key)
{
	if (j->misuse)
		return;
	if (j->depth == 0 || j->stack[j->depth - 1] != FRAME_OBJECT || j->have_key || !key) {
		j->misuse = true;
		return;
	}
	if (j->count[j->depth - 1]++ > 0)
		fputc(',', j->f);
	newline_indent(j, j->depth);
	fg_json_write_string(j->f, key, strlen(key));
	fputs((j->flags & FG_JSON_PRETTY) ? ": " : ":", j->f);
	j->have_key = true;
}

static void begin(struct fg_json *j, enum frame kind, char open)
{
	if (!before_value(j))
		return;
	if (j->depth == FG_JSON_MAX_DEPTH) {
		j->misuse = true;
		return;
	}
	fputc(open, j->f);
	j->stack[j->depth] = kind;
	j->count[j->depth] = 0;
	j->depth++;
}

static void end(struct fg_json *j, enum frame kind, char close)
{
	if (j->misuse)
		return;
	if (j->depth == 0 || j->stack[j->depth - 1] != kind || j->have_key) {
		j->misuse = true;
		return;
	}
	j->depth--;
	/* an empty container stays on one line: [] and {} */
	if (j->count[j->depth] > 0)
		newline_indent(j, j->depth);
	fputc(close, j->f);
	after_value(j);
}

void fg_json_begin_object(struct fg_json *j) { begin(j, FRAME_OBJECT, '{'); }
void fg_json_end_object(struct fg_json *j) { end(j, FRAME_OBJECT, '}'); }
void fg_json_begin_array(struct fg_json *j) { begin(j, FRAME_ARRAY, '['); }
void fg_json_end_array(struct fg_json *j) { end(j, FRAME_ARRAY, ']'); }

/*
 * Length of the well-formed UTF-8 sequence at @s (RFC 3629 table 3), or 0
 * if the bytes there are not one.
 */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;	/* range of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;		/* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F;		/* no UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;		/* nothing above U+10FFFF */
	} else
		return 0;
	if (left < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

/* The escape for the ASCII byte @c, or NULL when it passes through. */
static const char *escape_ascii(unsigned char c, unsigned flags, char hex[static 7])
{
	switch (c) {
	case '"':  return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	}
	if (!(flags & FG_JSON_ESCAPE_ALL_CONTROLS)) {
		if (c == '\b')
			return "\\b";
		if (c == '\f')
			return "\\f";
	}
	if (c < 0x20 || (c == 0x7f && (flags & FG_JSON_ESCAPE_ALL_CONTROLS))) {
		snprintf(hex, 7, "\\u%04x", c);
		return hex;
	}
	return NULL;
}

void fg_json_escape(const char *str, size_t len, unsigned flags,
		    fg_json_put_fn put, void *userdata)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;	/* s[run..i) passes through unchanged */

	/* Hand over unescaped runs in one go: webhook bodies are on the latency path. */
	while (i < len) {
		const char *e = NULL;
		char hex[7];
		size_t n = 1;

		if (s[i] < 0x80)
			e = escape_ascii(s[i], flags, hex);
		else if ((n = utf8_sequence(s + i, len - i)) == 0) {
			e = "\xEF\xBF\xBD";	/* one U+FFFD per bad byte */
			n = 1;
		}
		if (!e) {
			i += n;
			continue;
		}
		if (i > run)
			put(str + run, i - run, userdata);
		put(e, strlen(e), userdata);
		i += n;
		run = i;
	}
	if (i > run)
		put(str + run, i - run, userdata);
}

static void put_file(const char *s, size_t n, void *userdata)
{
	fwrite(s, 1, n, userdata);
}

void fg_json_write_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	fg_json_escape(s, len, 0, put_file, f);
	fputc('"', f);
}

void fg_json_string_len(struct fg_json *j, const char *s, size_t len)
{
	if (!before_value(j))
		return;
	fg_json_write_string(j->f, s, len);
	after_value(j);
}

void fg_json_string(struct fg_json *j, const char *s)
{
	if (!s) {
		fg_json_null(j);
		return;
	}
	fg_json_string_len(j, s, strlen(s));
}

void fg_json_int(struct fg_json *j, int64_t v)
{
	if (!before_value(j))
		return;
	fprintf(j->f, "%" PRId64, v);
	after_value(j);
}

void fg_json_uint(struct fg_json *j, uint64_t v)
{
	if (!before_value(j))
		return;
	fprintf(j->f, "%" PRIu64, v);
	after_value(j);
}

void fg_json_bool(struct fg_json *j, bool v)
{
	if (!before_value(j))
		return;
	fputs(v ? "true" : "false", j->f);
	after_value(j);
}

void fg_json_null(struct fg_json *j)
{
	if (!before_value(j))
		return;
	fputs("null", j->f);
	after_value(j);
}

void fg_json_kv_string(struct fg_json *j, const char *key, const char *s)
{
	fg_json_key(j, key);
	fg_json_string(j, s);
}

void fg_json_kv_int(struct fg_json *j, const char *key, int64_t v)
{
	fg_json_key(j, key);
	fg_json_int(j, v);
}

void fg_json_kv_uint(struct fg_json *j, const char *key, uint64_t v)
{
	fg_json_key(j, key);
	fg_json_uint(j, v);
}

void fg_json_kv_bool(struct fg_json *j, const char *key, bool v)
{
	fg_json_key(j, key);
	fg_json_bool(j, v);
}

int fg_json_finish(struct fg_json *j)
{
	if (j->misuse || j->depth > 0 || !j->done)
		return -EINVAL;
	fputc('\n', j->f);
	if (fflush(j->f) != 0 || ferror(j->f))
		return -EIO;
	return 0;
}
