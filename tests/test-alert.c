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

#include "delivery/alert.h"
#include "delivery/template.h"

static void test_roundtrip(void **state)
{
	struct fg_alert a = {}, b = {};
	char *text, *text2;
	size_t len, len2;

	assert_int_equal(fg_alert_copy(fg_template_sample_alert(), &a), 0);
	a.state = FG_ALERT_OFF;
	a.was_open = true;
	a.battery_mv = 2900;
	assert_int_equal(fg_alert_set_string(&a.info, "tab\there\\ and \x01 bell\r\n"), 0);
	assert_int_equal(fg_alert_serialize(&a, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "info=tab\\there\\\\ and \\x01 bell\\r\\n\n"));
	assert_int_equal(fg_alert_parse(text, len, &b), 0);
	assert_string_equal(b.info, a.info);
	assert_string_equal(b.name_id, a.name_id);
	assert_string_equal(b.id, a.id);
	assert_string_equal(b.idempotency_key, a.idempotency_key);
	assert_int_equal(b.state, FG_ALERT_OFF);
	assert_true(b.was_open);
	assert_true(b.queued);
	assert_true(b.has_address);
	assert_memory_equal(b.address, a.address, 6);
	assert_int_equal(b.press_usec, a.press_usec);
	assert_int_equal(b.event_counter, 41);
	assert_int_equal(b.battery_mv, 2900);
	assert_int_equal(b.severity, a.severity);
	assert_int_equal(b.gesture, a.gesture);
	/* Serializing the parsed record gives the same bytes. */
	assert_int_equal(fg_alert_serialize(&b, &text2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(text, text2, len);
	assert_false(b.supervision);
	/* a button alert's record has no supervision line; a supervision alert's has */
	assert_null(strstr(text, "supervision="));
	free(text);
	free(text2);
	fg_alert_clear(&b);
	a.supervision = true;
	assert_int_equal(fg_alert_serialize(&a, &text, &len), 0);
	assert_non_null(strstr(text, "\nsupervision=1\n"));
	assert_int_equal(fg_alert_parse(text, len, &b), 0);
	assert_true(b.supervision);
	free(text);
	fg_alert_clear(&a);
	fg_alert_clear(&b);
}

static void test_truncated(void **state)
{
	struct fg_alert b = {};
	char *text;
	size_t len;

	assert_int_equal(fg_alert_serialize(fg_template_sample_alert(), &text, &len), 0);
	/* Every strict prefix is rejected: a torn write is never half-parsed. */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(fg_alert_parse(text, n, &b), -EBADMSG);
	assert_int_equal(fg_alert_parse(text, len, &b), 0);
	fg_alert_clear(&b);
	free(text);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
		"flicgate-alert 2\nend\n",
		"flicgate-alert 1\nend\n",	/* required fields missing */
		"flicgate-alert 1\nid=a\nkey=k\nstate=Maybe\nbutton=b\nname_id=n\ngateway=g\ngesture=click\nend\n",
		"flicgate-alert 1\nid=a\nkey=k\nstate=On\nbutton=b\nname_id=n\ngateway=g\ngesture=wiggle\nend\n",
		"flicgate-alert 1\nid=a\nkey=k\nstate=On\nbutton=b\\q\nname_id=n\ngateway=g\ngesture=click\nend\n",
		"flicgate-alert 1\nid=a\nkey=k\nstate=On\nbutton=b\\x00\nname_id=n\ngateway=g\ngesture=click\nend\n",
		"flicgate-alert 1\nid=a\nkey=k\nstate=On\nbutton=b\nname_id=n\ngateway=g\ngesture=click\ncounter=4294967296\nend\n",
		"flicgate-alert 1\nid=a\nkey=k\nstate=On\nbutton=b\nname_id=n\ngateway=g\ngesture=click\nend\nextra\n",
		"flicgate-alert 1\nid=0123456789012345678901234567890123456789\nkey=k\nstate=On\nbutton=b\nname_id=n\ngateway=g\ngesture=click\nend\n",
		"flicgate-alert 1\nid=a\nkey=k\nstate=On\nbutton=b\nname_id=n\ngateway=g\ngesture=click\naddress=zz\nend\n",
		"flicgate-alert 1\n=x\nend\n",
	};
	static const char good[] =
		"flicgate-alert 1\nid=a\nkey=k\nstate=On\nbutton=b\nname_id=n\ngateway=g\n"
		"gesture=hold\nfuture_field=whatever\nend\n";
	struct fg_alert b = {};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (fg_alert_parse(bad[i], strlen(bad[i]), &b) != -EBADMSG)
			fail_msg("accepted case %zu", i);
	assert_int_equal(fg_alert_parse(good, strlen(good), &b), 0);
	assert_int_equal(b.gesture, FG_GESTURE_HOLD);
	assert_string_equal(b.info, "");
	assert_false(b.has_address);
	fg_alert_clear(&b);
}

static void test_age_text(void **state)
{
	struct fg_alert a = {};
	char buf[FG_AGE_TEXT_BUF];

	a.age_usec = 500000;
	assert_string_equal(fg_alert_age_text(&a, buf, sizeof(buf)), "");
	a.age_usec = 40 * 1000000ull;
	assert_string_equal(fg_alert_age_text(&a, buf, sizeof(buf)), "pressed 40 s ago");
	a.age_usec = 600 * 1000000ull;
	assert_string_equal(fg_alert_age_text(&a, buf, sizeof(buf)), "pressed 10 min ago");
	a.age_usec = 3 * 3600 * 1000000ull;
	assert_string_equal(fg_alert_age_text(&a, buf, sizeof(buf)), "pressed 3 h ago");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "/alert/roundtrip", test_roundtrip, NULL, NULL, NULL },
		{ "/alert/truncated", test_truncated, NULL, NULL, NULL },
		{ "/alert/rejects", test_rejects, NULL, NULL, NULL },
		{ "/alert/age-text", test_age_text, NULL, NULL, NULL },
	};

	return cmocka_run_group_tests_name("alert", tests, NULL, NULL);
}
