/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg-test.h"

#include "lib/json.h"
#include "lib/strbuf.h"

/* A writer on a memory stream; text() closes the stream and returns it. */
struct buf {
	char *data;
	size_t len;
	FILE *f;
	struct fg_json *j;
};

static void buf_open(struct buf *b, unsigned flags)
{
	memset(b, 0, sizeof(*b));
	b->f = open_memstream(&b->data, &b->len);
	assert_non_null(b->f);
	assert_int_equal(fg_json_new(b->f, flags, &b->j), 0);
}

static int buf_finish(struct buf *b)
{
	int r = fg_json_finish(b->j);

	b->j = fg_json_free(b->j);
	fclose(b->f);
	return r;
}

static char *escaped(const char *s, size_t len)
{
	char *data = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&data, &n);

	assert_non_null(f);
	fg_json_write_string(f, s, len);
	fclose(f);
	return data;
}

/* @escape(@in) must give @out; @in is a literal (NULs count). */
#define assert_escapes_by(escape, in, out) do { \
	char *_e = escape((in), sizeof(in) - 1); \
	assert_string_equal(_e, (out)); \
	free(_e); \
} while (0)
#define assert_escapes(in, out) assert_escapes_by(escaped, in, out)

static void test_escape_specials(void **state)
{
	assert_escapes("", "\"\"");
	assert_escapes("plain", "\"plain\"");
	assert_escapes("a\"b", "\"a\\\"b\"");
	assert_escapes("a\\b", "\"a\\\\b\"");
	assert_escapes("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	assert_escapes("/", "\"/\"");	/* legal unescaped */
	assert_escapes("\x7f", "\"\x7f\"");	/* DEL is not a JSON control char */
}

static void test_escape_controls(void **state)
{
	char in[32], want[32 * 6 + 3], *p = want;

	for (int c = 1; c < 0x20; c++)
		in[c - 1] = (char)c;
	*p++ = '"';
	for (int c = 1; c < 0x20; c++) {
		switch (c) {
		case '\b': p += sprintf(p, "\\b"); break;
		case '\f': p += sprintf(p, "\\f"); break;
		case '\n': p += sprintf(p, "\\n"); break;
		case '\r': p += sprintf(p, "\\r"); break;
		case '\t': p += sprintf(p, "\\t"); break;
		default: p += sprintf(p, "\\u%04x", c); break;
		}
	}
	*p++ = '"';
	*p = 0;
	char *e = escaped(in, 31);
	assert_string_equal(e, want);
	free(e);

	/* an embedded NUL is data, not the end */
	char *z = escaped("a\0b", 3);
	assert_string_equal(z, "\"a\\u0000b\"");
	free(z);
}

static void test_escape_utf8_valid(void **state)
{
	/* 2, 3 and 4 byte forms at their edges pass through unchanged */
	assert_escapes("\xC2\x80", "\"\xC2\x80\"");			/* U+0080 */
	assert_escapes("\xDF\xBF", "\"\xDF\xBF\"");			/* U+07FF */
	assert_escapes("\xE0\xA0\x80", "\"\xE0\xA0\x80\"");		/* U+0800 */
	assert_escapes("\xED\x9F\xBF", "\"\xED\x9F\xBF\"");		/* U+D7FF */
	assert_escapes("\xEE\x80\x80", "\"\xEE\x80\x80\"");		/* U+E000 */
	assert_escapes("\xEF\xBF\xBF", "\"\xEF\xBF\xBF\"");		/* U+FFFF */
	assert_escapes("\xF0\x90\x80\x80", "\"\xF0\x90\x80\x80\"");	/* U+10000 */
	assert_escapes("\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\"");	/* U+10FFFF */
	assert_escapes("Sjukhus \xC3\xA5\xC3\xA4\xC3\xB6 \xE2\x9C\x93",
		       "\"Sjukhus \xC3\xA5\xC3\xA4\xC3\xB6 \xE2\x9C\x93\"");
}

#define FFFD "\xEF\xBF\xBD"

static void test_escape_utf8_invalid(void **state)
{
	assert_escapes("\x80", "\"" FFFD "\"");			/* stray continuation */
	assert_escapes("\xC0\xAF", "\"" FFFD FFFD "\"");		/* overlong '/' */
	assert_escapes("\xC1\xBF", "\"" FFFD FFFD "\"");		/* overlong */
	assert_escapes("\xE0\x80\xAF", "\"" FFFD FFFD FFFD "\"");	/* overlong 3-byte */
	assert_escapes("\xED\xA0\x80", "\"" FFFD FFFD FFFD "\"");	/* surrogate D800 */
	assert_escapes("\xF0\x80\x80\xAF", "\"" FFFD FFFD FFFD FFFD "\""); /* overlong 4-byte */
	assert_escapes("\xF4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* U+110000 */
	assert_escapes("\xF5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
	assert_escapes("\xFF", "\"" FFFD "\"");
	/* truncated sequences, then plain text resumes */
	assert_escapes("\xE2\x9C", "\"" FFFD FFFD "\"");
	assert_escapes("a\xC3", "\"a" FFFD "\"");
	assert_escapes("\xC3(", "\"" FFFD "(\"");
	/* a bad byte followed by a quote still escapes the quote */
	assert_escapes("\xC3\"", "\"" FFFD "\\\"\"");
}

/*
 * The same escaper as webhook bodies see it (lib/strbuf.h): every control
 * character but \n \r \t as \u00XX, DEL included, and the same UTF-8 repair.
 */
static char *body_escaped(const char *s, size_t len)
{
	struct fg_strbuf b = {};
	char *out;

	fg_strbuf_put_json_len(&b, s, len);
	assert_int_equal(fg_strbuf_steal(&b, &out, NULL), 0);
	return out;
}

#define assert_body_escapes(in, out) assert_escapes_by(body_escaped, in, out)

static void test_body_specials(void **state)
{
	assert_body_escapes("", "");
	assert_body_escapes("a\"b\\c/d", "a\\\"b\\\\c/d");
	assert_body_escapes("\n\r\t", "\\n\\r\\t");
	assert_body_escapes("\b\f\x01\x1f\x7f", "\\u0008\\u000c\\u0001\\u001f\\u007f");
	assert_body_escapes("a\0b", "a\\u0000b");	/* _len keeps NULs */
}

static void test_body_utf8(void **state)
{
	/* valid UTF-8 is byte-identical */
	assert_body_escapes("\xC2\x80\xE0\xA0\x80\xED\x9F\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF",
			    "\xC2\x80\xE0\xA0\x80\xED\x9F\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF");
	assert_body_escapes("\xC0\xAF", FFFD FFFD);			/* overlong */
	assert_body_escapes("\xE0\x9F\xBF", FFFD FFFD FFFD);		/* overlong 3-byte */
	assert_body_escapes("\xED\xB0\x80", FFFD FFFD FFFD);		/* surrogate DC00 */
	assert_body_escapes("x\x80y\xBFz", "x" FFFD "y" FFFD "z");	/* stray continuations */
	assert_body_escapes("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);	/* > U+10FFFF */
	assert_body_escapes("\xF7\xBF\xBF\xBF", FFFD FFFD FFFD FFFD);
	assert_body_escapes("ok \xF0\x9F\x98", "ok " FFFD FFFD FFFD);	/* truncated at the end */
	assert_body_escapes("\xE2\x9C\n", FFFD FFFD "\\n");		/* truncated before a control */
	assert_body_escapes("\xC3\\", FFFD "\\\\");

	/* the NUL-terminated form and the quoted form go the same way */
	struct fg_strbuf b = {};
	char *out;

	fg_strbuf_put_json(&b, "\xFF\x7f");
	fg_strbuf_put_json_string(&b, "\"\xC0");
	fg_strbuf_put_json_string(&b, NULL);
	assert_int_equal(fg_strbuf_steal(&b, &out, NULL), 0);
	assert_string_equal(out, FFFD "\\u007f\"\\\"" FFFD "\"\"\"");
	free(out);
}

/* The pieces handed to the sink: unescaped runs whole, never empty. */
static void count_put(const char *s, size_t n, void *userdata)
{
	unsigned *calls = userdata;

	assert_non_null(s);
	assert_true(n > 0);
	(*calls)++;
}

static void test_escape_runs(void **state)
{
	unsigned calls = 0;

	fg_json_escape("plain text \xC3\xA5", 13, 0, count_put, &calls);
	assert_int_equal(calls, 1);
	calls = 0;
	fg_json_escape("a\"b", 3, 0, count_put, &calls);
	assert_int_equal(calls, 3);
	calls = 0;
	fg_json_escape("", 0, 0, count_put, &calls);
	assert_int_equal(calls, 0);
}

static void test_compact_document(void **state)
{
	struct buf b;

	buf_open(&b, 0);
	fg_json_begin_object(b.j);
	fg_json_kv_string(b.j, "name", "reception");
	fg_json_kv_uint(b.j, "max", UINT64_MAX);
	fg_json_kv_int(b.j, "min", INT64_MIN);
	fg_json_kv_int(b.j, "rssi", -61);
	fg_json_kv_bool(b.j, "connected", true);
	fg_json_kv_bool(b.j, "paired", false);
	fg_json_kv_string(b.j, "serial", NULL);
	fg_json_key(b.j, "list");
	fg_json_begin_array(b.j);
	fg_json_uint(b.j, 1);
	fg_json_string(b.j, "two");
	fg_json_begin_object(b.j);
	fg_json_end_object(b.j);
	fg_json_begin_array(b.j);
	fg_json_end_array(b.j);
	fg_json_null(b.j);
	fg_json_end_array(b.j);
	fg_json_end_object(b.j);
	assert_int_equal(buf_finish(&b), 0);
	assert_string_equal(b.data,
		"{\"name\":\"reception\",\"max\":18446744073709551615,"
		"\"min\":-9223372036854775808,\"rssi\":-61,\"connected\":true,"
		"\"paired\":false,\"serial\":null,\"list\":[1,\"two\",{},[],null]}\n");
	free(b.data);
}

static void test_pretty_document(void **state)
{
	struct buf b;

	buf_open(&b, FG_JSON_PRETTY);
	fg_json_begin_object(b.j);
	fg_json_kv_string(b.j, "a", "x");
	fg_json_key(b.j, "b");
	fg_json_begin_array(b.j);
	fg_json_int(b.j, 1);
	fg_json_begin_object(b.j);
	fg_json_kv_bool(b.j, "c", true);
	fg_json_end_object(b.j);
	fg_json_end_array(b.j);
	fg_json_key(b.j, "e");
	fg_json_begin_array(b.j);
	fg_json_end_array(b.j);
	fg_json_end_object(b.j);
	assert_int_equal(buf_finish(&b), 0);
	assert_string_equal(b.data,
		"{\n"
		"  \"a\": \"x\",\n"
		"  \"b\": [\n"
		"    1,\n"
		"    {\n"
		"      \"c\": true\n"
		"    }\n"
		"  ],\n"
		"  \"e\": []\n"
		"}\n");
	free(b.data);
}

static void test_scalar_and_keys_escaped(void **state)
{
	struct buf b;

	buf_open(&b, 0);
	fg_json_string_len(b.j, "a\0b", 3);
	assert_int_equal(buf_finish(&b), 0);
	assert_string_equal(b.data, "\"a\\u0000b\"\n");
	free(b.data);

	buf_open(&b, 0);
	fg_json_begin_object(b.j);
	fg_json_kv_string(b.j, "we\"ird\n", "v");
	fg_json_end_object(b.j);
	assert_int_equal(buf_finish(&b), 0);
	assert_string_equal(b.data, "{\"we\\\"ird\\n\":\"v\"}\n");
	free(b.data);
}

/* Each misuse is caught by finish(), whatever comes after it. */
static void test_misuse(void **state)
{
	struct buf b;

	/* value without a key inside an object */
	buf_open(&b, 0);
	fg_json_begin_object(b.j);
	fg_json_int(b.j, 1);
	fg_json_end_object(b.j);
	assert_int_equal(buf_finish(&b), -EINVAL);
	free(b.data);

	/* key inside an array */
	buf_open(&b, 0);
	fg_json_begin_array(b.j);
	fg_json_key(b.j, "k");
	fg_json_end_array(b.j);
	assert_int_equal(buf_finish(&b), -EINVAL);
	free(b.data);

	/* two keys in a row */
	buf_open(&b, 0);
	fg_json_begin_object(b.j);
	fg_json_key(b.j, "a");
	fg_json_key(b.j, "b");
	fg_json_int(b.j, 1);
	fg_json_end_object(b.j);
	assert_int_equal(buf_finish(&b), -EINVAL);
	free(b.data);

	/* key with no value before the end */
	buf_open(&b, 0);
	fg_json_begin_object(b.j);
	fg_json_key(b.j, "a");
	fg_json_end_object(b.j);
	assert_int_equal(buf_finish(&b), -EINVAL);
	free(b.data);

	/* mismatched end */
	buf_open(&b, 0);
	fg_json_begin_object(b.j);
	fg_json_end_array(b.j);
	assert_int_equal(buf_finish(&b), -EINVAL);
	free(b.data);

	/* still open */
	buf_open(&b, 0);
	fg_json_begin_array(b.j);
	assert_int_equal(buf_finish(&b), -EINVAL);
	free(b.data);

	/* nothing written */
	buf_open(&b, 0);
	assert_int_equal(buf_finish(&b), -EINVAL);
	free(b.data);

	/* two top-level values */
	buf_open(&b, 0);
	fg_json_int(b.j, 1);
	fg_json_int(b.j, 2);
	assert_int_equal(buf_finish(&b), -EINVAL);
	free(b.data);

	/* end at the top */
	buf_open(&b, 0);
	fg_json_end_object(b.j);
	assert_int_equal(buf_finish(&b), -EINVAL);
	free(b.data);
}

static void test_depth_limit(void **state)
{
	struct buf b;

	buf_open(&b, 0);
	for (int i = 0; i < FG_JSON_MAX_DEPTH; i++)
		fg_json_begin_array(b.j);
	for (int i = 0; i < FG_JSON_MAX_DEPTH; i++)
		fg_json_end_array(b.j);
	assert_int_equal(buf_finish(&b), 0);
	free(b.data);

	buf_open(&b, 0);
	for (int i = 0; i <= FG_JSON_MAX_DEPTH; i++)
		fg_json_begin_array(b.j);
	for (int i = 0; i <= FG_JSON_MAX_DEPTH; i++)
		fg_json_end_array(b.j);
	assert_int_equal(buf_finish(&b), -EINVAL);
	free(b.data);
}

static void test_write_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	struct fg_json *j;

	assert_non_null(f);
	assert_int_equal(fg_json_new(f, 0, &j), 0);
	fg_json_string(j, "this cannot be written");
	assert_int_equal(fg_json_finish(j), -EIO);
	fg_json_free(j);
	fclose(f);
	assert_int_equal(fg_json_new(NULL, 0, &j), -EINVAL);
	assert_null(fg_json_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/json/escape/specials", test_escape_specials),
		FG_TEST("/json/escape/controls", test_escape_controls),
		FG_TEST("/json/escape/utf8-valid", test_escape_utf8_valid),
		FG_TEST("/json/escape/utf8-invalid", test_escape_utf8_invalid),
		FG_TEST("/json/escape/body-specials", test_body_specials),
		FG_TEST("/json/escape/body-utf8", test_body_utf8),
		FG_TEST("/json/escape/runs", test_escape_runs),
		FG_TEST("/json/compact", test_compact_document),
		FG_TEST("/json/pretty", test_pretty_document),
		FG_TEST("/json/scalar-and-keys", test_scalar_and_keys_escaped),
		FG_TEST("/json/misuse", test_misuse),
		FG_TEST("/json/depth-limit", test_depth_limit),
		FG_TEST("/json/write-error", test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
