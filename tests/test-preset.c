/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "delivery/preset.h"
#include "delivery/template.h"
#include "lib/strv.h"

static struct fg_alert alert;

static int setup(void **state)
{
	assert_int_equal(fg_alert_copy(fg_template_sample_alert(), &alert), 0);
	alert.queued = false;
	alert.age_usec = 0;
	assert_int_equal(fg_alert_set_string(&alert.name_id, "Room 12"), 0);
	assert_int_equal(fg_alert_set_string(&alert.info, "Bed <2> & \"window\""), 0);
	return 0;
}

static int teardown(void **state)
{
	fg_alert_clear(&alert);
	return 0;
}

static const char *header(const struct fg_request *r, const char *name)
{
	const char *h;
	size_t n = strlen(name);

	FG_STRV_FOREACH(h, r->headers)
		if (strncmp(h, name, n) == 0 && h[n] == ':')
			return h + n + 2;
	return NULL;
}

static void build(const struct fg_webhook_config *w, struct fg_request *r)
{
	assert_int_equal(fg_preset_build(w, &alert, r), 0);
	assert_int_equal(strlen(r->body), r->body_len);
}

static void test_alertops(void **state)
{
	struct fg_webhook_config w = { .preset = FG_PRESET_ALERTOPS,
				       .url = (char *)"https://notify.alertops.com/POSTAlert/k/Flic" };
	struct fg_request r;

	build(&w, &r);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.url, w.url);
	assert_string_equal(header(&r, "Content-Type"), "application/json");
	assert_string_equal(header(&r, "Idempotency-Key"), "BG30-C12345:41:click");
	assert_true(fg_json_is_valid(r.body, r.body_len));
	assert_non_null(strstr(r.body, "{\"flic_nameId\":\"Room 12\",\"flic_state\":\"On\","
				       "\"info\":\"Bed <2> & \\\"window\\\"\","));
	assert_non_null(strstr(r.body, "\"flic_pressTime\":\"2025-11-24T16:00:00.000Z\""));
	assert_non_null(strstr(r.body, "\"flic_queued\":false"));
	fg_request_clear(&r);

	/* A queued press says how old it is, in the info people read. */
	alert.queued = true;
	alert.age_usec = 40 * 1000000ull;
	alert.state = FG_ALERT_OFF;
	build(&w, &r);
	assert_non_null(strstr(r.body, "\"flic_state\":\"Off\""));
	assert_non_null(strstr(r.body, "\"info\":\"Bed <2> & \\\"window\\\" (pressed 40 s ago, queued)\""));
	fg_request_clear(&r);
}

static void test_pagerduty(void **state)
{
	struct fg_webhook_config w = { .preset = FG_PRESET_PAGERDUTY,
				       .routing_key = (char *)"R0UT1NG" };
	struct fg_request r;

	alert.severity = FG_SEVERITY_WARNING;
	build(&w, &r);
	assert_string_equal(r.url, FG_PAGERDUTY_DEFAULT_URL);
	assert_true(fg_json_is_valid(r.body, r.body_len));
	assert_non_null(strstr(r.body, "{\"routing_key\":\"R0UT1NG\",\"event_action\":\"trigger\","
				       "\"dedup_key\":\"flicgate/carehome-gw/room-12\",\"payload\":{"
				       "\"summary\":\"Room 12: alert button pressed (click) - Bed <2> & \\\"window\\\"\","
				       "\"source\":\"carehome-gw\",\"severity\":\"warning\","
				       "\"timestamp\":\"2025-11-24T16:00:00.000Z\""));
	fg_request_clear(&r);

	alert.state = FG_ALERT_OFF;
	build(&w, &r);
	assert_string_equal(r.body, "{\"routing_key\":\"R0UT1NG\",\"event_action\":\"resolve\","
				    "\"dedup_key\":\"flicgate/carehome-gw/room-12\"}");
	fg_request_clear(&r);

	/* The dedup key is the same for every alert of the button. */
	alert.state = FG_ALERT_ON;
	alert.event_counter = 99;
	strcpy(alert.id, "ffff");
	build(&w, &r);
	assert_non_null(strstr(r.body, "\"dedup_key\":\"flicgate/carehome-gw/room-12\""));
	fg_request_clear(&r);

	/* …but a test alert never resolves the real incident. */
	alert.test = true;
	build(&w, &r);
	assert_non_null(strstr(r.body, "\"dedup_key\":\"flicgate/carehome-gw/room-12/test\""));
	assert_non_null(strstr(r.body, "\"summary\":\"[TEST] Room 12"));
	fg_request_clear(&r);
}

static void test_pagerduty_long_summary(void **state)
{
	struct fg_webhook_config w = { .preset = FG_PRESET_PAGERDUTY };
	struct fg_request r;
	char info[3000];

	memset(info, 'x', sizeof(info) - 1);
	info[sizeof(info) - 1] = '\0';
	info[1010] = (char)0xc3;	/* a UTF-8 sequence across the cut */
	info[1011] = (char)0xa9;
	assert_int_equal(fg_alert_set_string(&alert.info, info), 0);
	build(&w, &r);
	assert_true(fg_json_is_valid(r.body, r.body_len));
	fg_request_clear(&r);
}

static void test_slack(void **state)
{
	struct fg_webhook_config w = { .preset = FG_PRESET_SLACK, .url = (char *)"https://hooks.slack.com/services/X" };
	struct fg_request r;

	alert.queued = true;
	alert.age_usec = 40 * 1000000ull;
	build(&w, &r);
	assert_string_equal(r.body, "{\"text\":\":rotating_light: *Room 12* alert: Bed &lt;2&gt; &amp; "
				    "\\\"window\\\" (click, pressed 40 s ago, queued, via carehome-gw)\"}");
	fg_request_clear(&r);

	alert.state = FG_ALERT_OFF;
	alert.gesture = FG_GESTURE_DOUBLE_CLICK;
	alert.was_open = false;
	assert_int_equal(fg_preset_build(&w, &alert, &r), -ENODATA);
	alert.was_open = true;
	build(&w, &r);
	assert_string_equal(r.body, "{\"text\":\":white_check_mark: *Room 12* resolved "
				    "(double_click on carehome-gw)\"}");
	fg_request_clear(&r);
}

static void test_ntfy(void **state)
{
	struct fg_webhook_config w = { .preset = FG_PRESET_NTFY, .url = (char *)"https://ntfy.sh/care" };
	struct fg_request r;

	assert_int_equal(fg_alert_set_string(&alert.name_id, "Room\r\nX-Evil: 1"), 0);
	build(&w, &r);
	assert_string_equal(header(&r, "Content-Type"), "text/plain; charset=utf-8");
	assert_string_equal(header(&r, "Priority"), "5");
	assert_string_equal(header(&r, "Tags"), "rotating_light");
	/* no header injection through a name */
	assert_string_equal(header(&r, "Title"), "Room  X-Evil: 1");
	assert_null(header(&r, "X-Evil"));
	assert_string_equal(r.body, "Room\r\nX-Evil: 1 alert: Bed <2> & \"window\" (click, via carehome-gw)");
	fg_request_clear(&r);

	alert.state = FG_ALERT_OFF;
	alert.was_open = false;
	assert_int_equal(fg_preset_build(&w, &alert, &r), -ENODATA);
}

static void test_generic(void **state)
{
	char *hdrs[] = { (char *)"Authorization: Bearer s3cret", (char *)"Content-Type: application/x-test", NULL };
	struct fg_webhook_config w = {
		.preset = FG_PRESET_GENERIC, .url = (char *)"http://127.0.0.1:9/x",
		.method = (char *)"PUT", .headers = hdrs,
		.body = (char *)"{\"who\":\"${name_id}\",\"what\":\"${state}\",\"n\":${event_counter}}",
	};
	struct fg_request r;

	build(&w, &r);
	assert_string_equal(r.method, "PUT");
	assert_string_equal(r.body, "{\"who\":\"Room 12\",\"what\":\"On\",\"n\":41}");
	assert_string_equal(header(&r, "Authorization"), "Bearer s3cret");
	/* a configured Content-Type wins and is not sent twice */
	assert_string_equal(header(&r, "Content-Type"), "application/x-test");
	assert_int_equal(fg_strv_length(r.headers), 3);
	fg_request_clear(&r);

	/* Off is sent to generic targets even when nothing was open. */
	alert.state = FG_ALERT_OFF;
	w.body = NULL;
	w.headers = NULL;
	w.content_type = (char *)"application/vnd.x+json";
	build(&w, &r);
	assert_string_equal(header(&r, "Content-Type"), "application/vnd.x+json");
	assert_true(fg_json_is_valid(r.body, r.body_len));
	assert_non_null(strstr(r.body, "\"flic_state\":\"Off\""));
	fg_request_clear(&r);
}

/* Supervision alerts: no gesture, marked, their own PagerDuty class, plain text for people. */
static void test_supervision(void **state)
{
	struct fg_webhook_config ao = { .preset = FG_PRESET_ALERTOPS, .url = (char *)"https://a/x" };
	struct fg_webhook_config pd = { .preset = FG_PRESET_PAGERDUTY, .routing_key = (char *)"k" };
	struct fg_webhook_config nt = { .preset = FG_PRESET_NTFY, .url = (char *)"https://ntfy.sh/care" };
	struct fg_webhook_config gen = { .preset = FG_PRESET_GENERIC, .url = (char *)"http://127.0.0.1:9/x",
					 .body = (char *)"{\"s\":${supervision},\"t\":${test}}" };
	struct fg_request r;

	alert.supervision = true;
	assert_int_equal(fg_alert_set_string(&alert.name_id, "Room 12-battery"), 0);
	assert_int_equal(fg_alert_set_string(&alert.button, "Room 12-battery"), 0);
	assert_int_equal(fg_alert_set_string(&alert.info, "Battery of button r12 is low: 2401 mV"), 0);
	build(&ao, &r);
	assert_true(fg_json_is_valid(r.body, r.body_len));
	assert_non_null(strstr(r.body, "\"flic_nameId\":\"Room 12-battery\",\"flic_state\":\"On\""));
	assert_non_null(strstr(r.body, "\"flic_gesture\":\"\""));
	assert_non_null(strstr(r.body, ",\"flic_supervision\":true}"));
	fg_request_clear(&r);

	build(&pd, &r);
	assert_true(fg_json_is_valid(r.body, r.body_len));
	assert_non_null(strstr(r.body, "\"summary\":\"Room 12-battery: gateway supervision - Battery of button r12 is low: 2401 mV\""));
	assert_non_null(strstr(r.body, "\"class\":\"flicgate-supervision\""));
	assert_non_null(strstr(r.body, "\"dedup_key\":\"flicgate/carehome-gw/Room 12-battery\""));
	fg_request_clear(&r);

	build(&nt, &r);
	assert_string_equal(r.body, "Room 12-battery: Battery of button r12 is low: 2401 mV (supervision, carehome-gw)");
	fg_request_clear(&r);
	build(&gen, &r);
	assert_string_equal(r.body, "{\"s\":true,\"t\":false}");
	fg_request_clear(&r);

	/* the close of a raised alarm: was_open, so notify-only targets say it */
	alert.state = FG_ALERT_OFF;
	alert.was_open = true;
	assert_int_equal(fg_alert_set_string(&alert.info, "Battery of button r12 is fine again: 2950 mV"), 0);
	build(&nt, &r);
	assert_string_equal(r.body, "Room 12-battery resolved: Battery of button r12 is fine again: 2950 mV (supervision, carehome-gw)");
	fg_request_clear(&r);

	/* button alerts keep their body: no flic_supervision field at all */
	alert.supervision = false;
	build(&ao, &r);
	assert_null(strstr(r.body, "flic_supervision"));
	fg_request_clear(&r);
}

/*
 * A test alert (On then Off) must never name the real button's incident:
 * every preset gives it an identity of its own, "<name_id>-test", and the
 * real alert keeps its plain name_id.
 */
static bool names_real_incident(const struct fg_request *r)
{
	/* the real identity as a whole value: followed by a quote, a colon or a space+dash */
	static const char *const forms[] = { "\"Room 12\"", "*Room 12*", "Room 12: ", "Room 12 alert",
					     "Room 12 resolved", "Room 12 pressed" };
	const char *t = header(r, "Title");

	if (t && strcmp(t, "Room 12") == 0)
		return true;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (strstr(r->body, forms[i]))
			return true;
	return false;
}

static void test_test_identity(void **state)
{
	const struct fg_webhook_config targets[] = {
		{ .preset = FG_PRESET_ALERTOPS, .url = (char *)"https://a/x" },
		{ .preset = FG_PRESET_PAGERDUTY, .routing_key = (char *)"k" },
		{ .preset = FG_PRESET_SLACK, .url = (char *)"https://hooks.slack.com/services/x" },
		{ .preset = FG_PRESET_NTFY, .url = (char *)"https://ntfy.sh/care" },
		{ .preset = FG_PRESET_GENERIC, .url = (char *)"http://127.0.0.1:9/x" },
		{ .preset = FG_PRESET_GENERIC, .url = (char *)"http://127.0.0.1:9/x",
		  .body = (char *)"{\"who\":\"${name_id}\",\"t\":${test}}" },
	};
	struct fg_request r;

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		const struct fg_webhook_config *w = &targets[i];

		alert.test = false;
		alert.state = FG_ALERT_ON;
		alert.was_open = false;
		build(w, &r);
		assert_true(names_real_incident(&r));
		assert_null(strstr(r.body, "Room 12-test"));
		fg_request_clear(&r);

		/* the test's On and the Off that closes it again */
		alert.test = true;
		for (int off = 0; off <= 1; off++) {
			alert.state = off ? FG_ALERT_OFF : FG_ALERT_ON;
			alert.was_open = off;
			build(w, &r);
			if (names_real_incident(&r))
				fail_msg("preset %zu, %s: the test alert names the real incident: %s", i,
					 off ? "Off" : "On", r.body);
			fg_request_clear(&r);
		}
	}
	build(&targets[0], &r);
	assert_non_null(strstr(r.body, "\"flic_nameId\":\"Room 12-test\""));
	fg_request_clear(&r);
	build(&targets[5], &r);
	assert_string_equal(r.body, "{\"who\":\"Room 12-test\",\"t\":true}");
	fg_request_clear(&r);
	build(&targets[3], &r);
	assert_string_equal(header(&r, "Title"), "Room 12-test");
	fg_request_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "/preset/alertops", test_alertops, setup, teardown, NULL },
		{ "/preset/pagerduty", test_pagerduty, setup, teardown, NULL },
		{ "/preset/pagerduty-long-summary", test_pagerduty_long_summary, setup, teardown, NULL },
		{ "/preset/slack", test_slack, setup, teardown, NULL },
		{ "/preset/ntfy", test_ntfy, setup, teardown, NULL },
		{ "/preset/generic", test_generic, setup, teardown, NULL },
		{ "/preset/supervision", test_supervision, setup, teardown, NULL },
		{ "/preset/test-alert/own-identity", test_test_identity, setup, teardown, NULL },
	};

	return cmocka_run_group_tests_name("preset", tests, NULL, NULL);
}
