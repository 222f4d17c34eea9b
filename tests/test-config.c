/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "fg-test.h"

#include "config/config.h"
#include "lib/fileio.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

static const char base_ok[] =
	"[webhook alertops]\n"
	"url = https://notify.alertops.com/POSTAlert/abcdef0123456789/Flic\n"
	"[button reception]\n"
	"address = 80:E4:DA:70:12:34\n";

static struct fg_config *parse_ok(const char *text)
{
	struct fg_config_errors e = { 0 };
	struct fg_config *c = NULL;
	int r = fg_config_parse("t.ini", text, strlen(text), &e, &c);

	if (r < 0) {
		for (size_t i = 0; i < e.n; i++)
			fprintf(stderr, "unexpected: %s\n", e.messages[i]);
	}
	assert_int_equal(r, 0);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	fg_config_errors_clear(&e);
	return c;
}

/* Parse @text expecting failure; returns all messages joined by '\n'. */
static char *parse_bad(const char *text, size_t expected_errors)
{
	struct fg_config_errors e = { 0 };
	struct fg_config *c = NULL;
	size_t len = 1;
	char *all;
	int r = fg_config_parse("t.ini", text, strlen(text), &e, &c);

	assert_int_equal(r, -EINVAL);
	assert_null(c);
	if (expected_errors && e.n != expected_errors) {
		for (size_t i = 0; i < e.n; i++)
			fprintf(stderr, "got: %s\n", e.messages[i]);
		assert_int_equal(e.n, expected_errors);
	}
	for (size_t i = 0; i < e.n; i++)
		len += strlen(e.messages[i]) + 1;
	all = calloc(1, len);
	assert_non_null(all);
	for (size_t i = 0; i < e.n; i++) {
		strcat(all, e.messages[i]);
		strcat(all, "\n");
	}
	fg_config_errors_clear(&e);
	return all;
}

static void expect_error(const char *text, const char *fragment)
{
	char *all = parse_bad(text, 1);

	if (!strstr(all, fragment)) {
		fprintf(stderr, "expected '%s' in:\n%s", fragment, all);
		fail();
	}
	free(all);
}

static char *with_base(const char *extra)
{
	char *s;

	assert_true(asprintf(&s, "%s%s", base_ok, extra) > 0);
	return s;
}

static void test_empty_defaults(void **state)
{
	struct fg_config *c = parse_ok("");

	assert_string_equal(c->gateway.name, "flicgate");
	assert_string_equal(c->gateway.state_dir, "/var/lib/flicgate");
	assert_int_equal(c->gateway.log_level, LOG_INFO);
	assert_string_equal(c->bluetooth.adapter, "auto");
	assert_true(c->bluetooth.power_on);
	assert_int_equal(c->bluetooth.pairing, FG_PAIRING_WINDOW);
	assert_int_equal(c->bluetooth.pairing_window_usec, 2 * FG_USEC_PER_MIN);
	assert_null(c->bluetooth.trusted_keys);
	assert_int_equal(c->n_webhooks, 0);
	assert_int_equal(c->n_buttons, 0);
	assert_int_equal(c->gpio.backend, FG_GPIO_NONE);
	assert_true(c->gpio.status_led.initial);
	assert_int_equal(c->escalation.level_after_usec[0], 2 * FG_USEC_PER_MIN);
	assert_int_equal(c->health.low_battery_mv, 2600);
	assert_null(c->health.heartbeat_url);
	assert_true(c->health.require_time_sync);
	/* the link budget: the Pi's built-in controller, a minute idle, a minute starved */
	assert_int_equal(c->bluetooth.max_links, 7);
	assert_int_equal(c->bluetooth.idle_disconnect_usec, 60 * FG_USEC_PER_SEC);
	assert_int_equal(c->health.link_starved_after_usec, 60 * FG_USEC_PER_SEC);
	fg_config_unref(c);
}

static void test_link_budget_options(void **state)
{
	struct fg_config *c = parse_ok("[bluetooth]\nmax_links = auto\nidle_disconnect = 2min\n");

	assert_int_equal(c->bluetooth.max_links, 0);
	assert_int_equal(c->bluetooth.idle_disconnect_usec, 120 * FG_USEC_PER_SEC);
	fg_config_unref(c);
	c = parse_ok("[bluetooth]\nmax_links = 4\n");
	assert_int_equal(c->bluetooth.max_links, 4);
	fg_config_unref(c);
	expect_error("[bluetooth]\nmax_links = 1\n",
		     "t.ini:2: bluetooth.max_links: must be a whole number from 2 to 64 or auto");
	expect_error("[bluetooth]\nmax_links = many\n", "bluetooth.max_links: must be a whole number");
	/* the button's 9-bit field: 511 means never */
	expect_error("[bluetooth]\nidle_disconnect = 10min\n",
		     "bluetooth.idle_disconnect: must be a duration from 40s to 8min 30s");
	/* auto is for max_links only */
	expect_error("[gateway]\nspool_max = auto\n", "gateway.spool_max: must be a whole number from 10 to 1000000\n");
}

static void test_button_defaults(void **state)
{
	struct fg_config *c = parse_ok(base_ok);
	const struct fg_button_config *b = &c->buttons[0];

	assert_int_equal(c->n_webhooks, 1);
	assert_int_equal(c->webhooks[0].preset, FG_PRESET_ALERTOPS);
	assert_string_equal(c->webhooks[0].method, "POST");
	assert_true(c->webhooks[0].tls_verify);
	assert_int_equal(c->webhooks[0].timeout_usec, 10 * FG_USEC_PER_SEC);
	assert_int_equal(c->webhooks[0].line, 1);
	assert_int_equal(c->n_buttons, 1);
	assert_string_equal(b->name, "reception");
	assert_string_equal(b->name_id, "reception");
	assert_int_equal(b->line, 3);
	assert_true(b->has_address);
	assert_memory_equal(b->address, ((uint8_t[]){ 0x80, 0xE4, 0xDA, 0x70, 0x12, 0x34 }), 6);
	/* a double click must not open before it closes: single_click, not click */
	assert_int_equal(b->on, FG_GESTURE_BIT(FG_GESTURE_SINGLE_CLICK) | FG_GESTURE_BIT(FG_GESTURE_HOLD));
	assert_int_equal(b->off, FG_GESTURE_BIT(FG_GESTURE_DOUBLE_CLICK));
	assert_int_equal(b->test, 0);
	assert_int_equal(b->n_webhooks, 1);
	assert_int_equal(b->webhooks[0], 0);
	assert_int_equal(b->severity, FG_SEVERITY_CRITICAL);
	assert_int_equal(b->while_open, FG_WHILE_OPEN_APPEND);
	assert_false(b->keep_linked);
	assert_int_equal(c->health.n_webhooks, 1);
	assert_ptr_equal(fg_config_button_by_name(c, "reception"), b);
	assert_ptr_equal(fg_config_button_by_address(c, b->address), b);
	assert_null(fg_config_button_by_serial(c, "BG30-C12345"));
	assert_ptr_equal(fg_config_webhook_by_name(c, "alertops"), &c->webhooks[0]);
	fg_config_unref(c);
}

static void test_full(void **state)
{
	static const char text[] =
		"; a comment\n"
		"# another\n"
		"[gateway]\n"
		"name = Ward 3 gateway\n"
		"state_dir = /srv/flicgate\n"
		"log_level = debug\n"
		"spool_max = 500\n"
		"[bluetooth]\n"
		"adapter = hci1\n"
		"power_on = no\n"
		"pairing = listed\n"
		"pairing_window = 90s\n"
		"connect_timeout = 1min 30s\n"
		"trusted_key = e99ea68ba047103fb3559a963780fd2d1bfa591b7d79a287f577b07bafef5197\n"
		"trusted_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
		"[webhook pd]\n"
		"preset = pagerduty\n"
		"url = https://events.pagerduty.com/v2/enqueue\n"
		"routing_key = R0123456789abcdef0123456789abcde\n"
		"timeout = 5s\n"
		"rate_limit = 2/s\n"
		"[webhook hook]\n"
		"preset = generic\n"
		"url = http://127.0.0.1:8080/alert?token=xyz\n"
		"method = put\n"
		"header = Authorization: Bearer xyz\n"
		"header = X-Extra: 1\n"
		"body = {\"button\": \"${button}\",\n"
		"    \"state\": \"${state}\"}\n"
		"content_type = application/json; charset=utf-8\n"
		"tls_verify = false\n"
		"ca_file = /etc/ssl/private-ca.pem\n"
		"proxy = http://proxy:3128\n"
		"rate_limit = 1/5s\n"
		"[button bed-12]\n"
		"serial = bg30-c12345\n"
		"name_id = Bed 12, Ward 3\n"
		"on = click, hold\n"
		"off = double_click\n"
		"test = down\n"
		"info = Room 12\n"
		"  call the night nurse\n"
		"webhook = pd, hook\n"
		"severity = warning\n"
		"while_open = suppress\n"
		"offline_after = 6h\n"
		"[button door]\n"
		"address = 80-e4-da-70-12-35\n"
		"webhook = hook\n"
		"off =\n"
		"[gpio]\n"
		"backend = gpiod\n"
		"chip = pinctrl-bcm2711\n"
		"status_led = 17\n"
		"status_led_active_low = yes\n"
		"alert_led = GPIO27\n"
		"buzzer = 22\n"
		"buzzer_initial = off\n"
		"ack_input = 23\n"
		"ack_bias = pull-down\n"
		"ack_debounce = 20ms\n"
		"[escalation]\n"
		"level1_after = 1min\n"
		"level2_after = 0\n"
		"level3_after = 3min\n"
		"[health]\n"
		"heartbeat_url = https://hc-ping.com/1234\n"
		"heartbeat_interval = 30s\n"
		"low_battery_mv = 2500\n"
		"offline_after = 1d\n"
		"webhook = pd\n"
		"spool_alarm = 50\n"
		"require_time_sync = no\n"
		"[system]\n"
		"hostname = ward3\n"
		"wifi_passphrase = hunter22hunter22\n";
	struct fg_config *c = parse_ok(text);
	const struct fg_button_config *b;

	assert_string_equal(c->gateway.name, "Ward 3 gateway");
	assert_string_equal(c->gateway.state_dir, "/srv/flicgate");
	assert_int_equal(c->gateway.log_level, LOG_DEBUG);
	assert_int_equal(c->gateway.spool_max, 500);
	assert_string_equal(c->bluetooth.adapter, "hci1");
	assert_false(c->bluetooth.power_on);
	assert_int_equal(c->bluetooth.pairing, FG_PAIRING_LISTED);
	assert_int_equal(c->bluetooth.pairing_window_usec, 90 * FG_USEC_PER_SEC);
	assert_int_equal(c->bluetooth.connect_timeout_usec, 90 * FG_USEC_PER_SEC);
	assert_int_equal(fg_strv_length(c->bluetooth.trusted_keys), 2);

	assert_int_equal(c->n_webhooks, 2);
	assert_int_equal(c->webhooks[0].preset, FG_PRESET_PAGERDUTY);
	assert_string_equal(c->webhooks[0].routing_key, "R0123456789abcdef0123456789abcde");
	assert_true(c->webhooks[0].rate_limit > 1.99 && c->webhooks[0].rate_limit < 2.01);
	assert_string_equal(c->webhooks[1].method, "PUT");
	assert_int_equal(fg_strv_length(c->webhooks[1].headers), 2);
	assert_string_equal(c->webhooks[1].headers[0], "Authorization: Bearer xyz");
	assert_string_equal(c->webhooks[1].body, "{\"button\": \"${button}\",\n\"state\": \"${state}\"}");
	assert_string_equal(c->webhooks[1].content_type, "application/json; charset=utf-8");
	assert_false(c->webhooks[1].tls_verify);
	assert_string_equal(c->webhooks[1].ca_file, "/etc/ssl/private-ca.pem");
	assert_true(c->webhooks[1].rate_limit > 0.199 && c->webhooks[1].rate_limit < 0.201);

	b = fg_config_button_by_serial(c, "BG30-C12345");
	assert_non_null(b);
	assert_string_equal(b->serial, "BG30-C12345");
	assert_false(b->has_address);
	assert_string_equal(b->name_id, "Bed 12, Ward 3");
	assert_int_equal(b->on, FG_GESTURE_BIT(FG_GESTURE_CLICK) | FG_GESTURE_BIT(FG_GESTURE_HOLD));
	assert_int_equal(b->test, FG_GESTURE_BIT(FG_GESTURE_DOWN));
	assert_string_equal(b->info, "Room 12\ncall the night nurse");
	assert_int_equal(b->n_webhooks, 2);
	assert_int_equal(b->webhooks[0], 0);
	assert_int_equal(b->webhooks[1], 1);
	assert_int_equal(b->severity, FG_SEVERITY_WARNING);
	assert_int_equal(b->while_open, FG_WHILE_OPEN_SUPPRESS);
	assert_int_equal(b->offline_after_usec, 6 * FG_USEC_PER_HOUR);
	b = fg_config_button_by_name(c, "door");
	assert_non_null(b);
	assert_int_equal(b->address[5], 0x35);
	assert_int_equal(b->off, 0);
	assert_int_equal(b->n_webhooks, 1);
	assert_int_equal(b->webhooks[0], 1);

	assert_int_equal(c->gpio.backend, FG_GPIO_GPIOD);
	assert_string_equal(c->gpio.chip, "pinctrl-bcm2711");
	assert_string_equal(c->gpio.status_led.line, "17");
	assert_true(c->gpio.status_led.active_low);
	assert_string_equal(c->gpio.alert_led.line, "GPIO27");
	assert_false(c->gpio.buzzer.initial);
	assert_string_equal(c->gpio.ack_line, "23");
	assert_int_equal(c->gpio.ack_bias, FG_GPIO_BIAS_PULL_DOWN);
	assert_int_equal(c->gpio.ack_debounce_usec, 20 * FG_USEC_PER_MSEC);
	assert_int_equal(c->escalation.level_after_usec[1], 0);
	assert_int_equal(c->escalation.level_after_usec[2], 3 * FG_USEC_PER_MIN);
	assert_string_equal(c->health.heartbeat_url, "https://hc-ping.com/1234");
	assert_int_equal(c->health.n_webhooks, 1);
	assert_int_equal(c->health.webhooks[0], 0);
	assert_false(c->health.require_time_sync);
	assert_string_equal(c->system.hostname, "ward3");
	fg_config_unref(c);
}

static void test_crlf_bom(void **state)
{
	static const char text[] =
		"\xEF\xBB\xBF[gateway]\r\n"
		"name = windows\r\n"
		"\r\n"
		"[webhook w]\r\n"
		"url = https://example.com/x\r\n"
		"[button b]\r\n"
		"serial = BG30-C12345\r\n"
		"info = first\r\n"
		"  second\r\n";
	struct fg_config *c = parse_ok(text);

	assert_string_equal(c->gateway.name, "windows");
	assert_string_equal(c->webhooks[0].url, "https://example.com/x");
	assert_string_equal(c->buttons[0].serial, "BG30-C12345");
	assert_string_equal(c->buttons[0].info, "first\nsecond");
	assert_int_equal(c->buttons[0].line, 6);
	fg_config_unref(c);
}

static void test_long_lines(void **state)
{
	/* longer than inih's 200-byte line buffer, with spaces and ';' inside */
	char value[1201], text[2048];
	struct fg_config *c;

	for (size_t i = 0; i < sizeof(value) - 1; i++)
		value[i] = (i % 7 == 3) ? ' ' : (i % 13 == 5) ? ';' : (char)('a' + i % 26);
	value[sizeof(value) - 1] = '\0';
	/* inih trims the ends and cuts "<blank>;" as an inline comment */
	value[0] = 'X';
	for (size_t i = 1; i < sizeof(value) - 1; i++)
		if (value[i] == ';' && value[i - 1] == ' ')
			value[i] = 'Y';
	value[sizeof(value) - 2] = 'Z';
	snprintf(text, sizeof(text), "%s[system]\nwifi_ssid = %s\nhostname = after\n",
		 base_ok, value);
	c = parse_ok(text);
	assert_string_equal(c->system.wifi_ssid, value);
	assert_string_equal(c->system.hostname, "after");
	fg_config_unref(c);

	/* a long comment is still only a comment */
	memset(value, '#', 500);
	value[500] = '\0';
	snprintf(text, sizeof(text), "%s%s\n[gateway]\nname = x\n", base_ok, value);
	c = parse_ok(text);
	assert_string_equal(c->gateway.name, "x");
	fg_config_unref(c);
}

static void test_multiline_body_keeps_lines(void **state)
{
	struct fg_config *c = parse_ok(
		"[webhook g]\npreset = generic\nurl = https://h/x\nbody = {\n  \"a\": 1,\n  \"b\": 2\n  }\n");

	assert_string_equal(c->webhooks[0].body, "{\n\"a\": 1,\n\"b\": 2\n}");
	fg_config_unref(c);
}

static void test_bad_types(void **state)
{
	char *t;

	expect_error("[gateway]\nname =\n", "t.ini:2: gateway.name: must be 1 to 64 characters long");
	expect_error("[gateway]\nstate_dir = relative\n", "t.ini:2: gateway.state_dir: must be an absolute path");
	expect_error("[gateway]\nlog_level = loud\n", "t.ini:2: gateway.log_level: must be one of: err, warning");
	expect_error("[gateway]\nspool_max = 5\n", "t.ini:2: gateway.spool_max: must be a whole number from 10 to 1000000");
	expect_error("[gateway]\nspool_max = 12x\n", "gateway.spool_max: must be a whole number");
	expect_error("[gateway]\nspool_max = -1\n", "gateway.spool_max: must be a whole number");
	expect_error("[bluetooth]\npower_on = maybe\n", "t.ini:2: bluetooth.power_on: must be a boolean");
	expect_error("[bluetooth]\npairing = always\n", "bluetooth.pairing: must be one of: window, listed, locked");
	expect_error("[bluetooth]\npairing_window = 1s\n", "bluetooth.pairing_window: must be a duration from 5s to 1h");
	expect_error("[bluetooth]\npairing_window = soon\n", "bluetooth.pairing_window: must be a duration");
	expect_error("[bluetooth]\npairing_window = 5 parsecs\n", "bluetooth.pairing_window: must be a duration");
	expect_error("[bluetooth]\ntrusted_key = abcd\n", "bluetooth.trusted_key: must be Ed25519 public keys of 64 hex digits");
	expect_error("[escalation]\nlevel1_after = 99999999999999999999s\n", "escalation.level1_after: must be a duration");
	t = with_base("[webhook x]\nurl = ftp://example.com/\n");
	expect_error(t, "t.ini:6: webhook.url: must start with https:// or http://");
	free(t);
	t = with_base("[webhook x]\nurl = https:///path/secretkey\n");
	expect_error(t, "webhook.url: has no host name");
	free(t);
	t = with_base("[webhook x]\nurl = https://host/a b\n");
	expect_error(t, "webhook.url: contains a space");
	free(t);
	t = with_base("[webhook x]\nurl = https://h/x\nmethod = DELETE\n");
	expect_error(t, "webhook.method: must be one of: POST, PUT, PATCH");
	free(t);
	t = with_base("[webhook x]\nurl = https://h/x\nheader = NoColon\n");
	expect_error(t, "webhook.header: must be \"Name: value\"");
	free(t);
	t = with_base("[webhook x]\nurl = https://h/x\nheader = Bad Name: v\n");
	expect_error(t, "webhook.header: header name may only hold");
	free(t);
	t = with_base("[webhook x]\nurl = https://h/x\nrate_limit = fast\n");
	expect_error(t, "webhook.rate_limit: must be a rate");
	free(t);
	t = with_base("[webhook x]\nurl = https://h/x\nca_file = certs.pem\n");
	expect_error(t, "webhook.ca_file: must be an absolute path");
	free(t);
	expect_error("[gpio]\nstatus_led = 5000\n", "gpio.status_led: line offset must be a number from 0 to 1023");
	expect_error("[gpio]\nstatus_led = gpiochip0\n", "gpio.status_led: give the line's offset or name, not a chip");
	expect_error("[gpio]\nack_bias = strong\n", "gpio.ack_bias: must be one of: as-is, pull-up, pull-down, disabled");
	expect_error("[health]\nlow_battery_mv = 100\n", "health.low_battery_mv: must be a whole number from 1800 to 3300");
}

static void test_bad_url_is_masked(void **state)
{
	char *t = with_base("[webhook x]\nurl = https://host/secretpart here\n");
	char *all = parse_bad(t, 1);

	assert_null(strstr(all, "secretpart"));
	assert_non_null(strstr(all, "https://host/…(redacted)"));
	free(all);
	free(t);
}

static void test_bad_button(void **state)
{
	char *t;

	t = with_base("[button b2]\naddress = 80:E4:DA:70:12\n");
	expect_error(t, "t.ini:6: button.address: must be a Bluetooth address like 80:E4:DA:70:12:34");
	free(t);
	t = with_base("[button b2]\naddress = 80:E4:DA:70:12:3G\n");
	expect_error(t, "button.address: must be a Bluetooth address");
	free(t);
	t = with_base("[button b2]\naddress = 80:E4-DA:70:12:34\n");
	expect_error(t, "button.address: must be a Bluetooth address");
	free(t);
	t = with_base("[button b2]\nserial = 12345\n");
	expect_error(t, "t.ini:6: button.serial: must be a serial number like BG30-C12345");
	free(t);
	t = with_base("[button b2]\nserial = BG30_C12345\n");
	expect_error(t, "button.serial: must be a serial number");
	free(t);
	t = with_base("[button b2]\nserial = BG30-C12345\non = click, tap\n");
	expect_error(t, "button.on: unknown gesture 'tap'");
	free(t);
	t = with_base("[button b2]\nserial = BG30-C12345\non = click, click\n");
	expect_error(t, "button.on: gesture 'click' is listed twice");
	free(t);
	t = with_base("[button b2]\nserial = BG30-C12345\non = click\noff = click\n");
	expect_error(t, "t.ini:5: [button b2]: a gesture cannot both open (on) and close (off) an alert");
	free(t);
	t = with_base("[button b2]\nserial = BG30-C12345\ntest = double_click\n");
	expect_error(t, "[button b2]: a test gesture cannot also open or close an alert");
	free(t);
	t = with_base("[button b2]\nserial = BG30-C12345\non =\n");
	expect_error(t, "[button b2]: on is empty");
	free(t);
	t = with_base("[button b2]\ninfo = nothing else\n");
	expect_error(t, "t.ini:5: [button b2]: give its address, its serial or both");
	free(t);
	t = with_base("[button b2]\nserial = BG30-C12345\nwebhook = nowhere\n");
	expect_error(t, "t.ini:7: button b2.webhook: no [webhook nowhere] in this file");
	free(t);
	t = with_base("[button b2]\nserial = BG30-C12345\nwebhook = alertops alertops\n");
	expect_error(t, "button b2.webhook: 'alertops' is listed twice");
	free(t);
	t = with_base("[button b2]\naddress = 80:e4:da:70:12:34\n");
	expect_error(t, "t.ini:5: [button b2]: same address as [button reception] (line 3)");
	free(t);
	t = with_base("[button b2]\nserial = BG30-C12345\n[button b3]\nserial = bg30-c12345\n");
	expect_error(t, "t.ini:7: [button b3]: same serial as [button b2] (line 5)");
	free(t);
	expect_error("[button b]\nserial = BG30-C12345\n", "[button b]: no [webhook] is configured");
}

static void test_bad_structure(void **state)
{
	char *t;

	expect_error("[gatway]\nname = x\n", "t.ini:1: [gatway]: unknown section; allowed: [gateway]");
	expect_error("[gateway]\nnmae = x\n", "t.ini:2: gateway.nmae: unknown key (did you mean 'name'?)");
	expect_error("[gateway]\nfrobnicate = x\n", "t.ini:2: gateway.frobnicate: unknown key\n");
	expect_error("name = x\n", "t.ini:1: name: a key before any [section]");
	expect_error("[gateway]\nname = a\nname = b\n", "t.ini:3: gateway.name: given twice in this section (first at line 2)");
	expect_error("[gateway]\n[gateway]\n", "t.ini:2: [gateway] appears twice (first at line 1)");
	expect_error("[gateway x]\n", "[gateway] takes no name");
	expect_error("[button]\n", "t.ini:1: [button] needs a name: [button NAME]");
	expect_error("[button a/b]\n", "[button a/b]: a name may hold only letters");
	expect_error("[gateway\nname = x\n", "t.ini:1: section header without closing ']'");
	expect_error("[gateway]\njust words\n", "t.ini:2: expected \"key = value\"");
	expect_error("[gateway]\n\n  indented = x\n", "t.ini:3: indented line continues nothing");
	expect_error("[gateway]\nname = a\n  b\n", "t.ini:3: gateway.name: indented line continues a value that must fit on one line");
	t = with_base("[webhook alertops]\nurl = https://h/y\n");
	expect_error(t, "t.ini:5: [webhook alertops] appears twice (first at line 1)");
	free(t);
	t = with_base("[button reception]\nserial = BG30-C12345\n");
	expect_error(t, "t.ini:5: [button reception] appears twice (first at line 3)");
	free(t);
	expect_error("[webhook w]\npreset = slack\n", "t.ini:1: [webhook w]: url is missing");
	expect_error("[webhook w]\npreset = pagerduty\nurl = https://e/v2\n", "[webhook w]: preset pagerduty needs routing_key");
	expect_error("[webhook w]\npreset = generic\nurl = https://e/\n", "[webhook w]: preset generic needs a body template");
	expect_error("[webhook w]\nurl = https://e/\nbody = {}\n", "[webhook w]: body is only used by preset generic");
	expect_error("[gpio]\nbackend = gpiod\nstatus_led = 17\n", "t.ini:1: gpio.chip: backend gpiod needs a chip");
	expect_error("[gpio]\nbackend = gpiod\nchip = x\n", "gpio: backend gpiod with no line configured");
	expect_error("[gpio]\nstatus_led = 17\nbuzzer = 17\n", "gpio.buzzer: line 17 is already used by status_led");
	expect_error("[escalation]\nlevel1_after = 5min\nlevel2_after = 1min\n",
		     "escalation.level2_after: must be later than the level before it");
	expect_error("[gateway]\nname = a\x01b\n", "gateway.name: contains control characters");
	expect_error("[health]\nwebhook = none\n", "health.webhook: no [webhook none] in this file");
}

static void test_all_errors_at_once(void **state)
{
	char *all = parse_bad(
		"[gateway]\n"
		"log_level = loud\n"		/* 2 */
		"typo = 1\n"			/* 3 */
		"[nosuch]\n"			/* 4 */
		"x = 1\n"			/* not reported: its section was */
		"[bluetooth]\n"
		"power_on = perhaps\n"		/* 7 */
		"garbage line\n"		/* 8 */
		"[button b]\n"			/* 9: no [webhook], in the same pass */
		"address = nope\n",		/* 10 */
		7);

	assert_non_null(strstr(all, "t.ini:2: gateway.log_level"));
	assert_non_null(strstr(all, "t.ini:3: gateway.typo"));
	assert_non_null(strstr(all, "t.ini:4: [nosuch]"));
	assert_non_null(strstr(all, "t.ini:7: bluetooth.power_on"));
	assert_non_null(strstr(all, "t.ini:8: expected"));
	assert_non_null(strstr(all, "t.ini:10: button.address"));
	assert_non_null(strstr(all, "t.ini:9: [button b]: no [webhook]"));
	/* keys of an unknown section are not reported on top of it */
	assert_null(strstr(all, "t.ini:5"));
	/* an address given but refused is not "missing" as well */
	assert_null(strstr(all, "give its address"));
	/* in line order: 9 before 10 */
	assert_true(strstr(all, "t.ini:9:") < strstr(all, "t.ini:10:"));
	free(all);
}

/*
 * The cross-checks (a required key missing, a reference to no section) used
 * to run only on a file without other errors: the operator fixed one batch
 * and got the next. Now one pass lists them all.
 */
static void test_cross_checks_same_pass(void **state)
{
	char *all = parse_bad(
		"[gateway]\n"
		"name = gw\n"
		"[webhook pd]\n"			/* 3: routing_key missing */
		"preset = pagerduty\n"
		"[button b]\n"
		"adress = 80:E4:DA:70:12:34\n"	/* 6: typo */
		"serial = BG30-A00001\n"
		"webhook = nope\n",		/* 8: no such webhook */
		4);

	assert_non_null(strstr(all, "t.ini:3: [webhook pd]: url is missing"));
	assert_non_null(strstr(all, "t.ini:3: [webhook pd]: preset pagerduty needs routing_key"));
	assert_non_null(strstr(all, "t.ini:6: button.adress: unknown key (did you mean 'address'?)"));
	assert_non_null(strstr(all, "t.ini:8: button b.webhook: no [webhook nope]"));
	free(all);
}

/* The value rule of flicgate.ini(5) "VALUES": comments after a blank, quotes protect. */
static void test_value_comment_and_quotes(void **state)
{
	struct fg_config *c = parse_ok(
		"[gateway]\nname = gw # the ward's gateway\n"
		"[webhook w]\nurl = https://h.example/x#frag ; fragment kept, comment not\n"
		"[button a]\nserial = BG30-A00001\ninfo = \"Reception desk\" # front door\n"
		"[button b]\nserial = BG30-A00002\ninfo = \"Bed #2; window side\" ; quoted\n"
		"[button c]\nserial = BG30-A00003\ninfo = Room 3#4 the rest\n"
		"[button d]\nserial = BG30-A00004\ninfo = say \"hi\" twice\n"
		"[button e]\nserial = BG30-A00005\ninfo = #only a comment\n");

	assert_string_equal(c->gateway.name, "gw");
	assert_string_equal(c->webhooks[0].url, "https://h.example/x#frag");
	assert_string_equal(c->buttons[0].info, "Reception desk");
	assert_string_equal(c->buttons[1].info, "Bed #2; window side");
	assert_string_equal(c->buttons[2].info, "Room 3#4 the rest");
	/* quotes inside a value stay: only a wholly quoted value loses them */
	assert_string_equal(c->buttons[3].info, "say \"hi\" twice");
	assert_string_equal(c->buttons[4].info ? c->buttons[4].info : "", "");
	fg_config_unref(c);
}

static void test_inline_comment_and_colon(void **state)
{
	struct fg_config *c = parse_ok("[gateway]\nname: colon form ; with a comment\n");

	assert_string_equal(c->gateway.name, "colon form");
	fg_config_unref(c);
}

static void test_unreadable_file(void **state)
{
	struct fg_config_errors e = { 0 };
	struct fg_config *c = NULL;
	char dir[] = "/tmp/fg-config-XXXXXX", path[64];

	assert_int_equal(fg_config_load("/nonexistent/flicgate.ini", &e, &c), -ENOENT);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.messages[0], "/nonexistent/flicgate.ini: cannot read: No such file"));
	fg_config_errors_clear(&e);

	assert_non_null(mkdtemp(dir));
	assert_int_equal(fg_config_load(dir, &e, &c), -EISDIR);
	assert_int_equal(e.n, 1);
	fg_config_errors_clear(&e);

	snprintf(path, sizeof(path), "%s/f.ini", dir);
	assert_int_equal(fg_write_file_atomic(path, base_ok, strlen(base_ok), 0600), 0);
	assert_int_equal(fg_config_load(path, &e, &c), 0);
	assert_string_equal(c->path, path);
	fg_config_unref(c);
	c = NULL;
	if (geteuid() != 0) {
		/* root reads anything; the check is only meaningful otherwise */
		chmod(path, 0);
		assert_int_equal(fg_config_load(path, &e, &c), -EACCES);
		fg_config_errors_clear(&e);
	}
	unlink(path);
	rmdir(dir);
}

static char *read_all(const char *path)
{
	char *data = NULL;
	size_t len;

	assert_int_equal(fg_read_file(path, 1 << 20, &data, &len), 0);
	return data;
}

static char *capture(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f);
	fclose(f);
	return buf;
}

static void test_example_matches_table(void **state)
{
	char *want = capture(fg_config_write_example);
	char *have = read_all(FG_SRCDIR "/conf/flicgate.ini");

	if (strcmp(want, have) != 0) {
		fprintf(stderr, "conf/flicgate.ini is stale: run 'make docs'\n");
		fail();
	}
	free(want);
	free(have);
}

static void test_man_matches_table(void **state)
{
	char *want = capture(fg_config_write_man);
	char *have = read_all(FG_SRCDIR "/docs/flicgate.ini.5");

	if (strcmp(want, have) != 0) {
		fprintf(stderr, "docs/flicgate.ini.5 is stale: run 'make docs'\n");
		fail();
	}
	free(want);
	free(have);
}

static void test_example_parses(void **state)
{
	char *text = capture(fg_config_write_example);
	struct fg_config *c;
	char *out, *p;
	size_t n;

	/* as shipped: every key commented out, so all defaults */
	c = parse_ok(text);
	assert_int_equal(c->n_buttons, 0);
	fg_config_unref(c);

	/* every example uncommented: each documented example value is valid */
	out = calloc(1, strlen(text) + 1);
	assert_non_null(out);
	n = 0;
	for (p = text; *p; ) {
		char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);

		if (p[0] == '#' && p[1] != ' ' && p[1] != '\n' && p[1] != '\0') {
			memcpy(out + n, p + 1, len - 1);
			n += len - 1;
		} else {
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	out[n] = '\0';
	c = parse_ok(out);
	assert_int_equal(c->n_webhooks, 1);
	assert_int_equal(c->n_buttons, 1);
	assert_int_equal(c->gpio.backend, FG_GPIO_GPIOD);
	assert_non_null(c->bluetooth.trusted_keys == NULL ? "none" : "some");
	fg_config_unref(c);
	free(out);
	free(text);
}

static void drop_lines(char *s, const char *needle)
{
	char *w = s;

	for (char *p = s; *p; ) {
		char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);
		char save = p[len];

		p[len] = '\0';
		if (!strstr(p, needle)) {
			memmove(w, p, len);
			w += len;
		}
		p[len] = save;
		p += len;
	}
	*w = '\0';
}

static void test_print_masks_and_round_trips(void **state)
{
	static const char text[] =
		"[webhook w]\npreset = pagerduty\n"
		"url = https://user:pw@events.pagerduty.com/v2/enqueue?key=TOPSECRET\n"
		"routing_key = ROUTINGSECRET0123\n"
		"header = Authorization: Bearer HEADERSECRET\n"
		"[button b]\nserial = BG30-C12345\ninfo = line one\n  line two\n"
		"[health]\nheartbeat_url = https://hc-ping.com/HEARTSECRET\n"
		"[system]\nwifi_passphrase = WIFISECRET123\nadmin_password_hash = $y$HASHSECRET\n"
		"[button q]\nserial = BG30-C12346\ninfo = \"Bed #2; window\"\n";
	struct fg_config *c = parse_ok(text), *c2;
	char *out = NULL, *out2 = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fg_config_print(c, f);
	fclose(f);
	assert_null(strstr(out, "TOPSECRET"));
	assert_null(strstr(out, "user:pw"));
	assert_null(strstr(out, "ROUTINGSECRET"));
	assert_null(strstr(out, "HEADERSECRET"));
	assert_null(strstr(out, "HEARTSECRET"));
	assert_null(strstr(out, "WIFISECRET"));
	assert_null(strstr(out, "HASHSECRET"));
	assert_non_null(strstr(out, "events.pagerduty.com"));
	assert_non_null(strstr(out, "Authorization: …(redacted)"));

	/* the printout is itself a valid file that prints the same */
	c2 = parse_ok(out);
	f = open_memstream(&out2, &len);
	fg_config_print(c2, f);
	fclose(f);
	/*
	 * Only the first line (the path) and the lengths inside masked
	 * secrets ("…(13 chars)" of a mask) may differ.
	 */
	drop_lines(out, "chars)");
	drop_lines(out2, "chars)");
	assert_string_equal(strchr(out, '\n'), strchr(out2, '\n'));
	fg_config_unref(c);
	fg_config_unref(c2);
	free(out);
	free(out2);
}

/*
 * A subsystem's reference keeps the config alive after the loader drops
 * its own: every read below is a use-after-free (ASan) if unref freed it.
 */
static void test_ref_unref(void **state)
{
	struct fg_config *c = parse_ok(base_ok), *kept;
	const struct fg_button_config *b;

	assert_int_equal(c->n_ref, 1);
	kept = fg_config_ref(c);
	assert_ptr_equal(kept, c);
	assert_int_equal(kept->n_ref, 2);
	assert_null(fg_config_unref(c));	/* the loader's reference */

	assert_int_equal(kept->n_ref, 1);
	assert_string_equal(kept->path, "t.ini");
	b = fg_config_button_by_name(kept, "reception");
	assert_non_null(b);
	assert_string_equal(b->name, "reception");
	assert_int_equal(b->n_webhooks, 1);
	assert_string_equal(kept->webhooks[b->webhooks[0]].name, "alertops");
	assert_non_null(strstr(kept->webhooks[0].url, "notify.alertops.com"));

	/* a second holder, dropped in the other order */
	assert_ptr_equal(fg_config_ref(kept), kept);
	assert_null(fg_config_unref(kept));
	assert_string_equal(kept->gateway.name, "flicgate");
	assert_null(fg_config_unref(kept));	/* the last one frees (ASan/valgrind: no leak) */
}

static void test_unref_null(void **state)
{
	assert_null(fg_config_unref(NULL));
	assert_null(fg_config_ref(NULL));
}

/* Level names as flicgated --log-level takes them, as syslog(3) priorities. */
static void test_log_level(void **state)
{
	static const struct {
		const char *text;
		int level;
	} cases[] = {
		{ "err", LOG_ERR }, { "ERR", LOG_ERR }, { "error", LOG_ERR },
		{ "warning", LOG_WARNING }, { "warn", LOG_WARNING },
		{ "Notice", LOG_NOTICE }, { "info", LOG_INFO }, { "DEBUG", LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[64];
		struct fg_config *c;

		snprintf(text, sizeof(text), "[gateway]\nlog_level = %s\n", cases[i].text);
		c = parse_ok(text);
		assert_int_equal(c->gateway.log_level, cases[i].level);
		fg_config_unref(c);
	}
	free(parse_bad("[gateway]\nlog_level = emerg\n", 1));
	free(parse_bad("[gateway]\nlog_level = 7\n", 1));
	assert_string_equal(fg_config_log_level_to_string(LOG_WARNING), "warning");
	assert_null(fg_config_log_level_to_string(LOG_CRIT));
	assert_null(fg_config_log_level_to_string(LOG_DEBUG + 1));
}

static void test_address_helpers(void **state)
{
	uint8_t a[6];
	char buf[18];

	assert_int_equal(fg_parse_address("aa:bb:cc:dd:ee:ff", a), 0);
	fg_format_address(a, buf);
	assert_string_equal(buf, "AA:BB:CC:DD:EE:FF");
	assert_int_equal(fg_parse_address("AA:BB:CC:DD:EE:FF:", a), -EINVAL);
	assert_int_equal(fg_parse_address("AABBCCDDEEFF", a), -EINVAL);
	assert_int_equal(fg_parse_address("", a), -EINVAL);
	assert_int_equal(fg_parse_address(NULL, a), -EINVAL);
	assert_true(fg_serial_is_valid("BG30-C12345"));
	assert_true(fg_serial_is_valid("AB12-12345"));
	assert_false(fg_serial_is_valid("BG30-C123456"));
	assert_false(fg_serial_is_valid("bg30-c12345"));
	assert_false(fg_serial_is_valid("BG30-C123"));
	assert_false(fg_serial_is_valid(NULL));
	assert_string_equal(fg_preset_to_string(FG_PRESET_NTFY), "ntfy");
	assert_null(fg_preset_to_string(_FG_PRESET_MAX));
	assert_string_equal(fg_severity_to_string(FG_SEVERITY_INFO), "info");
	assert_string_equal(fg_pairing_policy_to_string(FG_PAIRING_LOCKED), "locked");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/config/empty-file-gives-defaults", test_empty_defaults),
		FG_TEST("/config/button-defaults", test_button_defaults),
		FG_TEST("/config/link-budget-options", test_link_budget_options),
		FG_TEST("/config/every-key-valid", test_full),
		FG_TEST("/config/crlf-and-bom", test_crlf_bom),
		FG_TEST("/config/long-lines", test_long_lines),
		FG_TEST("/config/multiline-body", test_multiline_body_keeps_lines),
		FG_TEST("/config/inline-comment-and-colon", test_inline_comment_and_colon),
		FG_TEST("/config/invalid/types-and-ranges", test_bad_types),
		FG_TEST("/config/invalid/url-masked-in-error", test_bad_url_is_masked),
		FG_TEST("/config/invalid/buttons", test_bad_button),
		FG_TEST("/config/invalid/structure", test_bad_structure),
		FG_TEST("/config/invalid/all-errors-at-once", test_all_errors_at_once),
		FG_TEST("/config/invalid/cross-checks-in-the-same-pass", test_cross_checks_same_pass),
		FG_TEST("/config/values/comment-and-quote-rule", test_value_comment_and_quotes),
		FG_TEST("/config/invalid/unreadable-file", test_unreadable_file),
		FG_TEST("/config/reference/example-file-matches-table", test_example_matches_table),
		FG_TEST("/config/reference/man-page-matches-table", test_man_matches_table),
		FG_TEST("/config/reference/example-parses", test_example_parses),
		FG_TEST("/config/print/masks-secrets-and-round-trips", test_print_masks_and_round_trips),
		FG_TEST("/config/address-and-serial", test_address_helpers),
		FG_TEST("/config/ref-unref", test_ref_unref),
		FG_TEST("/config/unref-null", test_unref_null),
		FG_TEST("/config/log-level", test_log_level),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
