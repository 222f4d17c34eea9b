/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "lib/strbuf.h"
#include "delivery/template.h"

static char *render(const char *tpl)
{
	char *out = NULL;
	size_t len;

	assert_int_equal(fg_template_render(tpl, fg_template_sample_alert(), &out, &len), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

static void expect_invalid(const char *tpl, const char *fragment)
{
	char *msg = NULL;

	assert_int_equal(fg_template_validate(tpl, &msg), -EINVAL);
	assert_non_null(msg);
	if (!strstr(msg, fragment))
		fail_msg("message \"%s\" lacks \"%s\"", msg, fragment);
	free(msg);
}

static void test_substitution(void **state)
{
	char *out = render("{\"n\":\"${name_id}\",\"s\":\"${state}\",\"c\":${event_counter},"
			   "\"q\":${queued},\"t\":\"${press_time}\"}");

	assert_string_equal(out,
		"{\"n\":\"Room 12 \\\"bed\\\" \\\\ side\",\"s\":\"On\",\"c\":41,"
		"\"q\":true,\"t\":\"2025-11-24T16:00:00.000Z\"}");
	free(out);
}

static void test_escaping(void **state)
{
	char *out = render("${info}");

	assert_string_equal(out, "line one\\nline two \\\"quoted\\\"");
	free(out);
}

static void test_control_chars(void **state)
{
	struct fg_strbuf b = {};
	char *out;

	fg_strbuf_put_json(&b, "a\x01" "b\x7f" "c\t");
	assert_int_equal(fg_strbuf_steal(&b, &out, NULL), 0);
	assert_string_equal(out, "a\\u0001b\\u007fc\\t");
	free(out);
}

static void test_dollar(void **state)
{
	char *out = render("cost $5 $${state} $$ ${state}$");

	assert_string_equal(out, "cost $5 ${state} $ On$");
	free(out);
}

static void test_every_name_renders(void **state)
{
	for (size_t i = 0; fg_template_names[i]; i++) {
		char tpl[64], *msg = NULL, *out;

		snprintf(tpl, sizeof(tpl), "[\"${%s}\"]", fg_template_names[i]);
		assert_int_equal(fg_template_validate(tpl, &msg), 0);
		assert_non_null(fg_template_describe(fg_template_names[i]));
		out = render(tpl);
		assert_true(fg_json_is_valid(out, strlen(out)));
		free(out);
	}
	assert_null(fg_template_describe("nope"));
}

static void test_malformed(void **state)
{
	expect_invalid("{\"a\":\"${name_id\"}", "invalid character '\"' in placeholder at column 16");
	expect_invalid("x ${info", "unterminated \"${\" at column 3");
	expect_invalid("x ${}", "empty placeholder");
	expect_invalid("${nmae}", "unknown placeholder \"${nmae}\" at column 1");
	expect_invalid("${na-me}", "invalid character '-'");
	/* JSON-looking templates must render to JSON. */
	expect_invalid("{\"a\": ${info}}", "not valid JSON");
	expect_invalid("{\"a\": \"${info}\",}", "not valid JSON");
	expect_invalid("  [1, 2", "not valid JSON");
}

static void test_valid(void **state)
{
	char *msg = NULL;

	assert_int_equal(fg_template_validate("", &msg), 0);
	assert_int_equal(fg_template_validate("plain text ${info}", &msg), 0);
	assert_int_equal(fg_template_validate("{\"a\":[1,-2.5e3,true,null,{\"b\":\"\\u00e9\"}]}", &msg), 0);
	assert_null(msg);
}

static void test_json_checker(void **state)
{
	static const char *const good[] = {
		"0", "-0.1", "1e5", "\"\"", "[]", "{}", " {\"a\" : [ ] } ", "\"\\/\"",
	};
	static const char *const bad[] = {
		"", "01", "1.", "-", "[1,]", "{\"a\"}", "{a:1}", "\"\\q\"", "\"abc",
		"tru", "[1] 2", "\"\\u12g4\"", "{\"a\":1,}",
	};
	char deep[200];

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_true(fg_json_is_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (fg_json_is_valid(bad[i], strlen(bad[i])))
			fail_msg("accepted %s", bad[i]);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	assert_false(fg_json_is_valid(deep, sizeof(deep)));	/* depth limit */
	assert_true(fg_json_is_valid(deep + 40, 120));
	assert_false(fg_json_is_valid("\"a\0b\"", 5));
}

/* A bad template is a configuration error with file:line, never a runtime one. */
static void test_config_rejects(void **state)
{
	static const char ini[] =
		"[webhook good]\n"
		"preset = generic\n"
		"url = https://example.org/hook\n"
		"body = {\"who\": \"${name_id}\",\n"
		"  \"state\": \"${state}\"}\n"
		"\n"
		"[webhook bad]\n"
		"preset = generic\n"
		"url = https://example.org/hook2\n"
		"body = {\"who\": \"${nmae}\"}\n"
		"\n"
		"[webhook badjson]\n"
		"preset = generic\n"
		"url = https://example.org/hook3\n"
		"body = {\"who\": ${name_id}}\n";
	struct fg_config_errors errors = {};
	struct fg_config *c = NULL;

	assert_int_equal(fg_config_parse("/etc/flicgate/flicgate.ini", ini, strlen(ini), &errors, &c), -EINVAL);
	assert_null(c);
	assert_int_equal(errors.n, 2);
	assert_string_equal(errors.messages[0], "/etc/flicgate/flicgate.ini:10: webhook.body: "
			    "unknown placeholder \"${nmae}\" at column 10");
	assert_non_null(strstr(errors.messages[1], "/etc/flicgate/flicgate.ini:15: webhook.body: "
			       "looks like JSON but is not valid JSON"));
	fg_config_errors_clear(&errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "/template/substitution", test_substitution, NULL, NULL, NULL },
		{ "/template/escaping", test_escaping, NULL, NULL, NULL },
		{ "/template/control-chars", test_control_chars, NULL, NULL, NULL },
		{ "/template/dollar", test_dollar, NULL, NULL, NULL },
		{ "/template/every-name", test_every_name_renders, NULL, NULL, NULL },
		{ "/template/malformed", test_malformed, NULL, NULL, NULL },
		{ "/template/valid", test_valid, NULL, NULL, NULL },
		{ "/template/json-checker", test_json_checker, NULL, NULL, NULL },
		{ "/template/config-load-error", test_config_rejects, NULL, NULL, NULL },
	};

	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
