/* SPDX-License-Identifier: MIT */
/*
 * The option table: every (section, key, type, default, doc) of flicgate.ini,
 * as data. Parsing, validation, the example file and the man page follow it.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/config-options.h"
#include "delivery/template.h"
#include "feedback/feedback.h"
#include "lib/macro.h"
#include "lib/timeutil.h"

const struct fg_config_section fg_config_sections[_SEC_MAX] = {
	[SEC_GATEWAY] = { "gateway", false, "The gateway itself." },
	[SEC_BLUETOOTH] = { "bluetooth", false, "The Bluetooth adapter and how buttons are paired." },
	[SEC_WEBHOOK] = { "webhook", true, "A delivery target. Repeat with distinct names; buttons refer to them by name." },
	[SEC_BUTTON] = { "button", true, "One Flic 2 button. NAME is how logs, status and flicgatectl call it." },
	[SEC_GPIO] = { "gpio", false, "LEDs, buzzer and the local acknowledge button." },
	[SEC_ESCALATION] = { "escalation", false, "How the gateway escalates locally while an alert stays open." },
	[SEC_HEALTH] = { "health", false, "Supervision of the buttons and of the gateway itself." },
	[SEC_SYSTEM] = { "system", false, "Applied by the SD-card image at boot (hostname, Wi-Fi, SSH); ignored by flicgated." },
};

/*
 * Enum names as written in the file. Each list ends in NULL: the table's
 * T_ENUM rows take it as their choices (matched in any case, so only the
 * _to_string half of FG_DEFINE_STRING_TABLE is used).
 */
static const char *const pairing_names[] = {
	[FG_PAIRING_WINDOW] = "window", [FG_PAIRING_LISTED] = "listed",
	[FG_PAIRING_LOCKED] = "locked", NULL,
};
static const char *const preset_names[] = {
	[FG_PRESET_ALERTOPS] = "alertops", [FG_PRESET_PAGERDUTY] = "pagerduty",
	[FG_PRESET_SLACK] = "slack", [FG_PRESET_NTFY] = "ntfy",
	[FG_PRESET_GENERIC] = "generic", NULL,
};
static const char *const while_open_names[] = {
	[FG_WHILE_OPEN_APPEND] = "append", [FG_WHILE_OPEN_SUPPRESS] = "suppress", NULL,
};
static const char *const backend_names[] = {
	[FG_GPIO_NONE] = "none", [FG_GPIO_LOG] = "log", [FG_GPIO_GPIOD] = "gpiod", NULL,
};
static const char *const bias_names[] = {
	[FG_GPIO_BIAS_AS_IS] = "as-is", [FG_GPIO_BIAS_PULL_UP] = "pull-up",
	[FG_GPIO_BIAS_PULL_DOWN] = "pull-down", [FG_GPIO_BIAS_DISABLED] = "disabled", NULL,
};
const char *const fg_config_method_names[] = { "POST", "PUT", "PATCH", NULL };

#define S FG_USEC_PER_SEC
#define MS FG_USEC_PER_MSEC
#define MIN FG_USEC_PER_MIN
#define H FG_USEC_PER_HOUR
#define DAY (24 * H)

#define OPT(_s, _k, _t, _def, _ex, _doc, _off, _fl, _min, _max, _names) \
	{ .section = (_s), .key = (_k), .type = (_t), .def = (_def), .example = (_ex), \
	  .doc = (_doc), .offset = (_off), .flags = (_fl), .min = (_min), .max = (_max), \
	  .names = (_names) }

/* A row whose value a module checks further (see struct option.validate). */
#define OPTV(_s, _k, _t, _def, _ex, _doc, _off, _fl, _min, _max, _names, _v) \
	{ .section = (_s), .key = (_k), .type = (_t), .def = (_def), .example = (_ex), \
	  .doc = (_doc), .offset = (_off), .flags = (_fl), .min = (_min), .max = (_max), \
	  .names = (_names), .validate = (_v) }

static const char *validate_template(const char *value, char *msg, size_t size)
{
	char *m = NULL;

	if (fg_template_validate(value, &m) >= 0)
		return NULL;
	snprintf(msg, size, "%s", m ? m : "cannot check the template (out of memory)");
	free(m);
	return msg;
}

#define GW(f) offsetof(struct fg_gateway_config, f)
#define BT(f) offsetof(struct fg_bluetooth_config, f)
#define WH(f) offsetof(struct fg_webhook_config, f)
#define BU(f) offsetof(struct fg_button_config, f)
#define GP(f) offsetof(struct fg_gpio_config, f)
#define ES(f) offsetof(struct fg_escalation_config, f)
#define HE(f) offsetof(struct fg_health_config, f)
#define SY(f) offsetof(struct fg_system_config, f)

/*
 * The one table. Order here is the order of the example file and the man
 * page. Keep doc strings to one line: they are printed as comments.
 */
const struct fg_config_option fg_config_options[] = {
	/* [gateway] */
	OPT(SEC_GATEWAY, "name", T_NAME_TEXT, "flicgate", "ward-3-gateway",
	  "Name of this gateway, sent with every alert and heartbeat.", GW(name), 0, 1, 64, NULL),
	OPT(SEC_GATEWAY, "state_dir", T_PATH, "/var/lib/flicgate", NULL,
	  "Where pairings, the alert spool and alert state are kept (mode 0700).", GW(state_dir), 0, 0, 0, NULL),
	OPT(SEC_GATEWAY, "log_level", T_LOGLEVEL, "info", NULL,
	  "One of err, warning, notice, info, debug.", GW(log_level), 0, 0, 0, NULL),
	OPT(SEC_GATEWAY, "spool_max", T_UINT, "10000", NULL,
	  "Alerts kept on disk awaiting delivery; more raises the spool-full alarm (none is dropped).",
	  GW(spool_max), 0, 10, 1000000, NULL),

	/* [bluetooth] */
	OPT(SEC_BLUETOOTH, "adapter", T_STRING, "auto", NULL,
	  "Adapter to use: auto (the first one BlueZ offers) or hciN.", BT(adapter), 0, 0, 0, NULL),
	OPT(SEC_BLUETOOTH, "power_on", T_BOOL, "yes", NULL,
	  "Power the adapter on if it is off.", BT(power_on), 0, 0, 0, NULL),
	OPT(SEC_BLUETOOTH, "pairing", T_ENUM, "window", NULL,
	  "window: pair only while a pairing window is open; listed: also pair listed buttons at any time; locked: never pair.",
	  BT(pairing), 0, 0, 0, pairing_names),
	OPT(SEC_BLUETOOTH, "pairing_window", T_DURATION, "2min", NULL,
	  "How long a pairing window stays open unless told otherwise.", BT(pairing_window_usec), 0, 5 * S, 1 * H, NULL),
	OPT(SEC_BLUETOOTH, "connect_timeout", T_DURATION, "10s", NULL,
	  "Give up a connection attempt after this long.", BT(connect_timeout_usec), 0, 1 * S, 2 * MIN, NULL),
	OPT(SEC_BLUETOOTH, "max_links", T_UINT, "7", NULL,
	  "LE links the controller holds at once (Pi built-in: 7, CSR8510: 5), or auto to read it from the adapter; one is kept free for a waking button.",
	  BT(max_links), F_AUTO, 2, 64, NULL),
	OPT(SEC_BLUETOOTH, "idle_disconnect", T_DURATION, "1min", NULL,
	  "A button that is not among those kept linked drops its link after this idle time and sleeps until pressed.",
	  BT(idle_disconnect_usec), 0, 40 * S, 510 * S, NULL),
	OPT(SEC_BLUETOOTH, "trusted_key", T_KEYS, NULL, NULL,
	  "Extra Ed25519 identity keys (64 hex digits) trusted besides Flic's own; for test rigs only.",
	  BT(trusted_keys), F_REPEAT, 0, 0, NULL),

	/* [webhook NAME] */
	OPT(SEC_WEBHOOK, "preset", T_ENUM, "alertops", NULL,
	  "alertops, pagerduty, slack, ntfy or generic: decides the request body.", WH(preset), 0, 0, 0, preset_names),
	OPT(SEC_WEBHOOK, "url", T_URL, NULL, "https://notify.alertops.com/POSTAlert/00000000-0000-0000-0000-000000000000/Flic",
	  "Where alerts are sent (http or https). Carries the API key: never logged in full.",
	  WH(url), F_SECRET | F_REQUIRED, 0, 0, NULL),
	OPT(SEC_WEBHOOK, "method", T_ENUM, "POST", NULL,
	  "HTTP method: POST, PUT or PATCH.", WH(method), 0, 0, 0, fg_config_method_names),
	OPT(SEC_WEBHOOK, "header", T_HEADER, NULL, "Authorization: Bearer 0123456789abcdef",
	  "Extra request header \"Name: value\"; repeat for more. Values are never logged.",
	  WH(headers), F_REPEAT, 0, 0, NULL),
	OPTV(SEC_WEBHOOK, "body", T_STRING, NULL, NULL,
	  "generic preset: body template with ${placeholders}; may continue on indented lines.",
	  WH(body), F_MULTILINE, 0, 0, NULL, validate_template),
	OPT(SEC_WEBHOOK, "content_type", T_STRING, "application/json", NULL,
	  "Content-Type of the request body.", WH(content_type), 0, 0, 0, NULL),
	OPT(SEC_WEBHOOK, "timeout", T_DURATION, "10s", NULL,
	  "Give up one attempt after this long (the alert is retried).", WH(timeout_usec), 0, 1 * S, 5 * MIN, NULL),
	OPT(SEC_WEBHOOK, "tls_verify", T_BOOL, "yes", NULL,
	  "Verify the server's TLS certificate and name. Turn off only on a closed test network.",
	  WH(tls_verify), 0, 0, 0, NULL),
	OPT(SEC_WEBHOOK, "ca_file", T_PATH, NULL, NULL,
	  "PEM file of CA certificates to trust instead of the system store.", WH(ca_file), 0, 0, 0, NULL),
	OPT(SEC_WEBHOOK, "proxy", T_STRING, NULL, NULL,
	  "Proxy URL (http://host:port); unset uses the environment's proxy settings.", WH(proxy), F_SECRET, 0, 0, NULL),
	OPT(SEC_WEBHOOK, "routing_key", T_STRING, NULL, NULL,
	  "pagerduty preset: the Events API v2 integration key.", WH(routing_key), F_SECRET, 0, 0, NULL),
	OPT(SEC_WEBHOOK, "rate_limit", T_RATE, "0", NULL,
	  "Most requests per time (\"2/s\", \"1/5s\", \"30/min\"); 0 keeps the preset's documented limit.",
	  WH(rate_limit), 0, 0, 0, NULL),

	/* [button NAME] */
	OPT(SEC_BUTTON, "address", T_ADDRESS, NULL, "80:E4:DA:70:12:34",
	  "Bluetooth address AA:BB:CC:DD:EE:FF. Give address, serial or both.", BU(address), 0, 0, 0, NULL),
	OPT(SEC_BUTTON, "serial", T_SERIAL, NULL, "BG30-C12345",
	  "Serial number printed on the button (for example BG30-C12345).", BU(serial), 0, 0, 0, NULL),
	OPT(SEC_BUTTON, "name_id", T_NAME_TEXT, NULL, "Reception desk",
	  "Name sent to the target (AlertOps flic_nameId); default: the section's NAME.", BU(name_id), 0, 1, 128, NULL),
	OPT(SEC_BUTTON, "on", T_GESTURES, "single_click, hold", NULL,
	  "Gestures that open an alert: down, up, click (every click, also within a double click), single_click, double_click, hold.",
	  BU(on), 0, 0, 0, NULL),
	OPT(SEC_BUTTON, "off", T_GESTURES, "double_click", NULL,
	  "Gestures that close it; empty means alerts are closed by the target only.", BU(off), 0, 0, 0, NULL),
	OPT(SEC_BUTTON, "test", T_GESTURES, "", NULL,
	  "Gestures that record a routine test press without paging anyone.", BU(test), 0, 0, 0, NULL),
	OPT(SEC_BUTTON, "info", T_STRING, "", "Room 12, nurse call",
	  "Free text sent with the alert (AlertOps info); may continue on indented lines.", BU(info), F_MULTILINE, 0, 0, NULL),
	OPT(SEC_BUTTON, "webhook", T_WEBHOOKS, NULL, "alertops",
	  "Targets for this button's alerts (names of [webhook] sections); default: all of them.",
	  BU(webhooks), 0, 0, 0, NULL),
	OPT(SEC_BUTTON, "severity", T_ENUM, "critical", NULL,
	  "critical, error, warning or info (for targets that have severities).", BU(severity), 0, 0, 0, fg_severity_names),
	OPT(SEC_BUTTON, "while_open", T_ENUM, "append", NULL,
	  "Another open gesture while the alert is open: append (send again) or suppress.",
	  BU(while_open), 0, 0, 0, while_open_names),
	OPT(SEC_BUTTON, "offline_after", T_DURATION, "0", NULL,
	  "Raise a supervision alert when not seen this long; 0 uses [health] offline_after.",
	  BU(offline_after_usec), 0, 0, 365 * DAY, NULL),
	OPT(SEC_BUTTON, "keep_linked", T_BOOL, "no", NULL,
	  "Keep this button linked first (never asleep), for the few that must answer in tens of milliseconds.",
	  BU(keep_linked), 0, 0, 0, NULL),

	/* [gpio] */
	OPT(SEC_GPIO, "backend", T_ENUM, "none", "gpiod",
	  "none, log (print LED/buzzer changes to the journal) or gpiod (real lines).", GP(backend), 0, 0, 0, backend_names),
	OPT(SEC_GPIO, "chip", T_STRING, NULL, "pinctrl-bcm2711",
	  "GPIO chip by label (pinctrl-bcm2835, pinctrl-bcm2711, pinctrl-rp1) or path (/dev/gpiochip0).",
	  GP(chip), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "status_led", T_LINE, NULL, "17",
	  "Line (offset or name) of the status LED; unset if not fitted.", GP(status_led.line), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "status_led_active_low", T_BOOL, "no", NULL,
	  "The status LED lights when its line is low.", GP(status_led.active_low), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "status_led_initial", T_BOOL, "on", NULL,
	  "Status LED state from start-up until the daemon shows its first state.", GP(status_led.initial), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "alert_led", T_LINE, NULL, "27",
	  "Line (offset or name) of the alert LED; unset if not fitted.", GP(alert_led.line), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "alert_led_active_low", T_BOOL, "no", NULL,
	  "The alert LED lights when its line is low.", GP(alert_led.active_low), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "alert_led_initial", T_BOOL, "off", NULL,
	  "Alert LED state from start-up until the daemon shows its first state.", GP(alert_led.initial), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "buzzer", T_LINE, NULL, "22",
	  "Line (offset or name) of the buzzer; unset if not fitted.", GP(buzzer.line), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "buzzer_active_low", T_BOOL, "no", NULL,
	  "The buzzer sounds when its line is low.", GP(buzzer.active_low), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "buzzer_initial", T_BOOL, "off", NULL,
	  "Buzzer state from start-up until the daemon shows its first state.", GP(buzzer.initial), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "ack_input", T_LINE, NULL, "23",
	  "Line of a local acknowledge/silence push button; unset if not fitted.", GP(ack_line), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "ack_active_low", T_BOOL, "yes", NULL,
	  "The acknowledge button pulls its line low when pressed.", GP(ack_active_low), 0, 0, 0, NULL),
	OPT(SEC_GPIO, "ack_bias", T_ENUM, "pull-up", NULL,
	  "Bias of the acknowledge line: as-is, pull-up, pull-down or disabled.", GP(ack_bias), 0, 0, 0, bias_names),
	OPT(SEC_GPIO, "ack_debounce", T_DURATION, "50ms", NULL,
	  "Ignore acknowledge-line bounces shorter than this.", GP(ack_debounce_usec), 0, 0, 1 * S, NULL),

	/*
	 * [gpio] <state>_pattern: what each feedback state shows, highest
	 * priority first (feedback.h; syntax in pattern.h and docs/gpio.md).
	 */
#define PATTERN(_st, _key, _def, _doc) \
	{ .section = SEC_GPIO, .key = (_key), .type = T_STRING, .def = (_def), .doc = (_doc), \
	  .offset = GP(patterns[_st]), \
	  .validate = ((_st) == FG_FB_PRESS || (_st) == FG_FB_CLOSED) ? \
			fg_feedback_validate_transient_pattern : fg_feedback_validate_pattern }
	PATTERN(FG_FB_PRESS, "press_pattern", FG_FB_DEFAULT_PRESS,
	  "A press was received (every pattern must end). Syntax: OUTPUT: PATTERN, …"),
	PATTERN(FG_FB_CLOSED, "closed_pattern", FG_FB_DEFAULT_CLOSED,
	  "An alert was closed (every pattern must end)."),
	PATTERN(FG_FB_UNDELIVERABLE, "undeliverable_pattern", FG_FB_DEFAULT_UNDELIVERABLE,
	  "An open alert's delivery was given up."),
	PATTERN(FG_FB_FAILING, "failing_pattern", FG_FB_DEFAULT_FAILING,
	  "An open alert is not delivered yet (target failing, spooled, retried)."),
	PATTERN(FG_FB_LEVEL3, "level3_pattern", FG_FB_DEFAULT_LEVEL3,
	  "An alert has been open for [escalation] level3_after."),
	PATTERN(FG_FB_LEVEL2, "level2_pattern", FG_FB_DEFAULT_LEVEL2,
	  "An alert has been open for [escalation] level2_after."),
	PATTERN(FG_FB_LEVEL1, "level1_pattern", FG_FB_DEFAULT_LEVEL1,
	  "An alert has been open for [escalation] level1_after."),
	PATTERN(FG_FB_OPEN, "open_pattern", FG_FB_DEFAULT_OPEN,
	  "An alert is open, its target has not confirmed it yet."),
	PATTERN(FG_FB_DELIVERED, "delivered_pattern", FG_FB_DEFAULT_DELIVERED,
	  "An alert is open and its target confirmed it."),
	PATTERN(FG_FB_SILENCED, "silenced_pattern", FG_FB_DEFAULT_SILENCED,
	  "Something silenced with the acknowledge button is still on."),
	PATTERN(FG_FB_CONFIG_FAULT, "config_fault_pattern", FG_FB_DEFAULT_CONFIG_FAULT,
	  "The configuration has a fault the gateway runs around."),
	PATTERN(FG_FB_NO_ADAPTER, "no_adapter_pattern", FG_FB_DEFAULT_NO_ADAPTER,
	  "No Bluetooth adapter: presses cannot be heard."),
	PATTERN(FG_FB_SPOOL_FULL, "spool_full_pattern", FG_FB_DEFAULT_SPOOL_FULL,
	  "The alert spool reached its alarm depth."),
	PATTERN(FG_FB_DEAD_LETTER, "dead_letter_pattern", FG_FB_DEFAULT_DEAD_LETTER,
	  "Given-up deliveries wait for the operator."),
	PATTERN(FG_FB_TARGETS_FAILING, "targets_failing_pattern", FG_FB_DEFAULT_TARGETS_FAILING,
	  "Deliveries have been failing for a while."),
	PATTERN(FG_FB_NOT_SEEN, "not_seen_pattern", FG_FB_DEFAULT_NOT_SEEN,
	  "A button has not been seen for too long."),
	PATTERN(FG_FB_LOW_BATTERY, "low_battery_pattern", FG_FB_DEFAULT_LOW_BATTERY,
	  "A button reports a low battery."),
	PATTERN(FG_FB_STARTING, "starting_pattern", FG_FB_DEFAULT_STARTING,
	  "The daemon is starting."),
	PATTERN(FG_FB_IDLE, "idle_pattern", FG_FB_DEFAULT_IDLE,
	  "All is well (always active, lowest priority)."),
#undef PATTERN

	/* [escalation] */
	OPT(SEC_ESCALATION, "level1_after", T_DURATION, "2min", NULL,
	  "Open this long: escalation level 1 (faster blink); 0 disables the level.",
	  ES(level_after_usec[0]), 0, 0, 1 * DAY, NULL),
	OPT(SEC_ESCALATION, "level2_after", T_DURATION, "5min", NULL,
	  "Open this long: level 2 (buzzer chirps); 0 disables the level.",
	  ES(level_after_usec[1]), 0, 0, 1 * DAY, NULL),
	OPT(SEC_ESCALATION, "level3_after", T_DURATION, "10min", NULL,
	  "Open this long: level 3 (continuous); 0 disables the level.",
	  ES(level_after_usec[2]), 0, 0, 1 * DAY, NULL),

	/* [health] */
	OPT(SEC_HEALTH, "heartbeat_url", T_URL, NULL, "https://hc-ping.com/00000000-0000-0000-0000-000000000000",
	  "Dead-man switch pinged every heartbeat_interval; unset disables it. Never logged in full.",
	  HE(heartbeat_url), F_SECRET, 0, 0, NULL),
	OPT(SEC_HEALTH, "heartbeat_interval", T_DURATION, "1min", NULL,
	  "Time between heartbeats.", HE(heartbeat_interval_usec), 0, 10 * S, 1 * DAY, NULL),
	OPT(SEC_HEALTH, "low_battery_mv", T_UINT, "2600", NULL,
	  "Battery below this many millivolts raises a low-battery supervision alert.",
	  HE(low_battery_mv), 0, 1800, 3300, NULL),
	OPT(SEC_HEALTH, "battery_hysteresis_mv", T_UINT, "100", NULL,
	  "The low-battery alert closes only above low_battery_mv plus this.",
	  HE(battery_hysteresis_mv), 0, 0, 1000, NULL),
	OPT(SEC_HEALTH, "offline_after", T_DURATION, "0", "1d",
	  "A button not seen (advertising, connected or pressed) this long raises an alert; 0 disables.",
	  HE(offline_after_usec), 0, 0, 365 * DAY, NULL),
	OPT(SEC_HEALTH, "webhook", T_WEBHOOKS, NULL, NULL,
	  "Targets for supervision alerts; default: all webhooks.", HE(webhooks), 0, 0, 0, NULL),
	OPT(SEC_HEALTH, "test_webhook", T_WEBHOOKS, NULL, NULL,
	  "Notify-only targets told of routine test presses ([button] test, flicgatectl test-press); unset: tests are only logged.",
	  HE(test_webhooks), 0, 0, 0, NULL),
	OPT(SEC_HEALTH, "bluetoothd_gone_after", T_DURATION, "1min", NULL,
	  "Raise an alert when BlueZ or the adapter is gone this long.", HE(bluetoothd_gone_after_usec), 0, 5 * S, 1 * DAY, NULL),
	OPT(SEC_HEALTH, "targets_failing_after", T_DURATION, "10min", NULL,
	  "When every target has failed this long, the local buzzer becomes the alarm.",
	  HE(targets_failing_after_usec), 0, 30 * S, 1 * DAY, NULL),
	OPT(SEC_HEALTH, "spool_alarm", T_UINT, "100", NULL,
	  "Undelivered alerts above this count raise an alarm.", HE(spool_alarm), 0, 1, 1000000, NULL),
	OPT(SEC_HEALTH, "require_time_sync", T_BOOL, "yes", NULL,
	  "Raise an alarm while the system clock is not synchronised (TLS needs a sane clock).",
	  HE(require_time_sync), 0, 0, 0, NULL),
	OPT(SEC_HEALTH, "link_starved_after", T_DURATION, "1min", NULL,
	  "Raise an alarm when a button wanted a link (it advertised, or the controller had no slot) and got none this long.",
	  HE(link_starved_after_usec), 0, 1 * S, 1 * DAY, NULL),

	/* [system] */
	OPTV(SEC_SYSTEM, "hostname", T_STRING, NULL, "flicgate-ward3",
	  "Host name set at boot.", SY(hostname), 0, 0, 0, NULL, fg_config_validate_hostname),
	OPTV(SEC_SYSTEM, "timezone", T_STRING, NULL, "Europe/Stockholm",
	  "Time zone (an entry of /usr/share/zoneinfo).", SY(timezone), 0, 0, 0, NULL,
	  fg_config_validate_timezone),
	OPTV(SEC_SYSTEM, "wifi_country", T_STRING, NULL, "SE",
	  "Two-letter ISO 3166 country code for Wi-Fi regulations.", SY(wifi_country), 0, 0, 0, NULL,
	  fg_config_validate_country),
	OPT(SEC_SYSTEM, "wifi_ssid", T_STRING, NULL, "WardNet",
	  "Wi-Fi network to join; unset for wired Ethernet only.", SY(wifi_ssid), 0, 0, 0, NULL),
	OPTV(SEC_SYSTEM, "wifi_passphrase", T_STRING, NULL, "correct horse battery staple",
	  "Wi-Fi passphrase, 8 to 63 characters; removed from this file once applied.",
	  SY(wifi_passphrase), F_SECRET, 0, 0, NULL, fg_config_validate_passphrase),
	OPTV(SEC_SYSTEM, "ssh_authorized_key", T_STRING, NULL, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@laptop",
	  "Public key allowed to log in as the admin user over SSH.", SY(ssh_authorized_key), 0, 0, 0, NULL,
	  fg_config_validate_ssh_key),
	OPTV(SEC_SYSTEM, "admin_password", T_STRING, NULL, NULL,
	  "The admin user's console password, at least 8 characters; hashed at boot and removed from this file.",
	  SY(admin_password), F_SECRET, 0, 0, NULL, fg_config_validate_password),
	OPTV(SEC_SYSTEM, "admin_password_hash", T_STRING, NULL, "$6$salt$hash",
	  "Instead of admin_password: its crypt(5) hash (mkpasswd, openssl passwd -6); removed once applied.",
	  SY(admin_password_hash), F_SECRET, 0, 0, NULL, fg_config_validate_password_hash),
};

static_assert(FG_ELEMENTSOF(fg_config_options) == FG_CONFIG_N_OPTIONS,
	      "set FG_CONFIG_N_OPTIONS in config-options.h to the number of rows");

void *fg_config_section_obj(struct fg_config *c, enum section_kind k)
{
	switch (k) {
	case SEC_GATEWAY: return &c->gateway;
	case SEC_BLUETOOTH: return &c->bluetooth;
	case SEC_GPIO: return &c->gpio;
	case SEC_ESCALATION: return &c->escalation;
	case SEC_HEALTH: return &c->health;
	case SEC_SYSTEM: return &c->system;
	case SEC_WEBHOOK:
	case SEC_BUTTON:
	case _SEC_MAX:
		break;
	}
	return NULL;
}

const char *fg_config_enum_list(const char *const *names, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; names[i]; i++) {
		int w = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", names[i]);

		if (w < 0 || (size_t)w >= size - off)
			break;
		off += (size_t)w;
	}
	return buf;
}

/* Names for logs and the D-Bus API (config.h). */
FG_DEFINE_STRING_TABLE_TO(, fg_preset, enum fg_preset, preset_names)
FG_DEFINE_STRING_TABLE_TO(, fg_pairing_policy, enum fg_pairing_policy, pairing_names)

/* the file takes err .. debug only: flicgate never filters above err */
const char *fg_config_log_level_to_string(int level)
{
	return level >= FG_LOG_ERR && level <= FG_LOG_DEBUG ? fg_log_level_to_string(level) : NULL;
}
