/* SPDX-License-Identifier: MIT */
/*
 * flicgate.ini parser. inih splits lines into section/key/value; this file
 * owns everything else: the option table, types, defaults, validation with
 * file:line messages, and the generated reference (example INI, man page).
 *
 * inih (as packaged by Debian) reads lines of at most 199 characters. The
 * reader below therefore feeds it physical lines itself: it numbers them
 * (for messages), spots sections and syntax errors (so that all of them
 * are reported, not only the first), and cuts over-long key lines into
 * pieces that come back to the handler as continuations and are glued
 * together again before the value is used.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <ini.h>

#include "config/config.h"
#include "feedback/feedback.h"
#include "delivery/template.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/mask.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

enum section_kind {
	SEC_GATEWAY,
	SEC_BLUETOOTH,
	SEC_WEBHOOK,
	SEC_BUTTON,
	SEC_GPIO,
	SEC_ESCALATION,
	SEC_HEALTH,
	SEC_SYSTEM,
	_SEC_MAX,
};

static const struct {
	const char *name;
	bool named;		/* [kind NAME], may repeat with distinct names */
	const char *doc;
} sections[_SEC_MAX] = {
	[SEC_GATEWAY] = { "gateway", false, "The gateway itself." },
	[SEC_BLUETOOTH] = { "bluetooth", false, "The Bluetooth adapter and how buttons are paired." },
	[SEC_WEBHOOK] = { "webhook", true, "A delivery target. Repeat with distinct names; buttons refer to them by name." },
	[SEC_BUTTON] = { "button", true, "One Flic 2 button. NAME is how logs, status and flicgatectl call it." },
	[SEC_GPIO] = { "gpio", false, "LEDs, buzzer and the local acknowledge button." },
	[SEC_ESCALATION] = { "escalation", false, "How the gateway escalates locally while an alert stays open." },
	[SEC_HEALTH] = { "health", false, "Supervision of the buttons and of the gateway itself." },
	[SEC_SYSTEM] = { "system", false, "Applied by the SD-card image at boot (hostname, Wi-Fi, SSH); ignored by flicgated." },
};

enum opt_type {
	T_STRING,
	T_NAME_TEXT,	/* single-line free text, printable */
	T_BOOL,
	T_UINT,
	T_DURATION,
	T_ENUM,
	T_LOGLEVEL,
	T_PATH,
	T_URL,
	T_ADDRESS,
	T_SERIAL,
	T_GESTURES,
	T_WEBHOOKS,	/* list of [webhook] names, resolved after parsing */
	T_HEADER,	/* "Name: value", may repeat */
	T_KEYS,		/* hex Ed25519 public keys, list, may repeat */
	T_RATE,		/* "2/s", "1/5s", "30/min", bare number = per second */
	T_LINE,		/* GPIO line: offset or name */
};

enum {
	F_SECRET = 1 << 0,	/* masked in every printout */
	F_REQUIRED = 1 << 1,
	F_REPEAT = 1 << 2,	/* may be given several times; values accumulate */
	F_MULTILINE = 1 << 3,	/* may continue on indented lines (joined by \n) */
};

struct option {
	enum section_kind section;
	const char *key;
	enum opt_type type;
	const char *def;		/* default as written in the file; NULL = unset */
	const char *example;		/* value shown in the example if it differs */
	const char *doc;
	size_t offset;			/* into the section's struct */
	unsigned flags;
	uint64_t min, max;		/* T_UINT: value; T_DURATION: usec */
	const char *const *names;	/* T_ENUM */
	/*
	 * Extra check after the type's own, by the module that uses the
	 * value (templates, patterns): NULL or a message into @msg.
	 */
	const char *(*validate)(const char *value, char *msg, size_t size);
};

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
static const char *const method_names[] = { "POST", "PUT", "PATCH", NULL };

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
static const struct option options[] = {
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
	  "HTTP method: POST, PUT or PATCH.", WH(method), 0, 0, 0, method_names),
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

	/* [system] */
	OPT(SEC_SYSTEM, "hostname", T_STRING, NULL, "flicgate-ward3",
	  "Host name set at boot.", SY(hostname), 0, 0, 0, NULL),
	OPT(SEC_SYSTEM, "timezone", T_STRING, NULL, "Europe/Stockholm",
	  "Time zone (an entry of /usr/share/zoneinfo).", SY(timezone), 0, 0, 0, NULL),
	OPT(SEC_SYSTEM, "wifi_country", T_STRING, NULL, "SE",
	  "Two-letter country code for Wi-Fi regulations.", SY(wifi_country), 0, 0, 0, NULL),
	OPT(SEC_SYSTEM, "wifi_ssid", T_STRING, NULL, "WardNet",
	  "Wi-Fi network to join; unset for wired Ethernet only.", SY(wifi_ssid), 0, 0, 0, NULL),
	OPT(SEC_SYSTEM, "wifi_passphrase", T_STRING, NULL, "correct horse battery staple",
	  "Wi-Fi passphrase; removed from this file once applied.", SY(wifi_passphrase), F_SECRET, 0, 0, NULL),
	OPT(SEC_SYSTEM, "ssh_authorized_key", T_STRING, NULL, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExampleEx admin@laptop",
	  "Public key allowed to log in as the admin user over SSH.", SY(ssh_authorized_key), 0, 0, 0, NULL),
	OPT(SEC_SYSTEM, "admin_password_hash", T_STRING, NULL, NULL,
	  "crypt(5) hash for the admin user's console password (mkpasswd); removed once applied.",
	  SY(admin_password_hash), F_SECRET, 0, 0, NULL),
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* ------------------------------------------------------------------ */
/* Errors */

void fg_config_errors_clear(struct fg_config_errors *e)
{
	if (!e)
		return;
	e->messages = fg_strv_free(e->messages);
	e->n = 0;
}

struct parser {
	const char *filename;
	struct fg_config *config;
	struct fg_config_errors *errors;
	unsigned n_errors;

	/* reader */
	const char *text, *end, *pos;
	unsigned lineno;		/* physical line of the text just handed out */
	const char *split_rest;		/* rest of an over-long key line */
	size_t split_rest_len;
	enum { CHUNK_LINE, CHUNK_INDENTED, CHUNK_SPLIT } chunk;
	bool can_continue;		/* an indented line would continue a key */
	bool in_bad_section;		/* keys after an invalid header are not reported */
	enum section_kind cur_kind;
	void *cur_obj;			/* the struct that the current section fills */
	unsigned *cur_seen;		/* per option: line it was given on, or 0 */

	/* the value being assembled, applied when the next key starts */
	const struct option *pend_opt;
	void *pend_obj;
	unsigned pend_line;
	char *pend_value;

	/* per fixed section: header line (0 = absent) and seen flags */
	unsigned fixed_line[_SEC_MAX];
	unsigned fixed_seen[_SEC_MAX][N_OPTIONS];
	unsigned (*webhook_seen)[N_OPTIONS];
	unsigned (*button_seen)[N_OPTIONS];
	char ***webhook_refs;		/* per button: names given in "webhook =" */
	unsigned *webhook_ref_line;
	char **health_refs;
	char **health_test_refs;	/* [health] test_webhook */
	unsigned health_ref_line;
};

static void add_error(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_error(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[768], full[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(full, sizeof(full), "%s:%u: %s", p->filename, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", p->filename, msg);
	p->n_errors++;
	if (p->errors && fg_strv_push(&p->errors->messages, full) == 0)
		p->errors->n++;
}

/* ------------------------------------------------------------------ */
/* Small parsers */

bool fg_serial_is_valid(const char *s)
{
	size_t n, i;

	if (!s)
		return false;
	n = strlen(s);
	if (n < 10 || n > 11 || s[4] != '-')
		return false;
	for (i = 0; i < n; i++) {
		if (i == 4)
			continue;
		if (!isdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i]))
			return false;
	}
	return true;
}

static int parse_bool(const char *v, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };

	for (int i = 0; yes[i]; i++)
		if (strcasecmp(v, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
	for (int i = 0; no[i]; i++)
		if (strcasecmp(v, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	return -EINVAL;
}

static int parse_uint(const char *v, uint64_t *ret)
{
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = n;
	return 0;
}

static int parse_rate(const char *v, double *ret)
{
	double count, per = 1.0;
	char *end;

	errno = 0;
	count = strtod(v, &end);
	if (end == v || errno || !isfinite(count) || count < 0)
		return -EINVAL;
	while (*end == ' ')
		end++;
	if (*end == '/') {
		uint64_t usec;
		const char *unit = end + 1;
		char buf[32];

		/* "1/5s" means one per five seconds; "2/s" needs a count of 1 */
		if (isdigit((unsigned char)*unit))
			snprintf(buf, sizeof(buf), "%s", unit);
		else
			snprintf(buf, sizeof(buf), "1%s", unit);
		if (fg_parse_duration(buf, &usec) < 0 || usec == 0)
			return -EINVAL;
		per = (double)usec / (double)FG_USEC_PER_SEC;
	} else if (*end) {
		return -EINVAL;
	}
	*ret = count / per;
	return 0;
}

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool text_is_printable(const char *s, bool allow_newline)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n' && allow_newline)
			continue;
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

/* Accepts http(s)://host[:port][/path…]; the rest is the target's business. */
static const char *url_problem(const char *v)
{
	const char *host, *host_end;

	if (strncasecmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncasecmp(v, "http://", 7) == 0)
		host = v + 7;
	else
		return "must start with https:// or http://";
	host_end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(host_end - host)))
		host = (const char *)memchr(host, '@', (size_t)(host_end - host)) + 1;
	if (host == host_end || *host == ':')
		return "has no host name";
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '"' || *p == '<' ||
		    *p == '>' || *p == '\\')
			return "contains a space or a character that must be %-encoded";
	return NULL;
}

static const char *enum_list(const char *const *names, char *buf, size_t size)
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

/* ------------------------------------------------------------------ */
/* Applying one value */

static void *section_obj(struct fg_config *c, enum section_kind k)
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

static void replace_str(char **slot, const char *v)
{
	char *copy = strdup(v);

	if (!copy)
		abort();	/* a config that cannot be held in memory is not a config */
	free(*slot);
	*slot = copy;
}

/*
 * Parse @value for @o into @obj. Returns NULL on success or a message
 * (static or in @msg) saying what is wrong and what is allowed.
 */
static const char *apply_value(struct parser *p, const struct option *o,
			       void *obj, const char *value, unsigned line,
			       char *msg, size_t msgsize)
{
	char *field = (char *)obj + o->offset;
	char buf[256];

	switch (o->type) {
	case T_STRING:
		if (!text_is_printable(value, o->flags & F_MULTILINE))
			return "contains control characters";
		if (*value == '\0' && o->def == NULL) {
			/* "key =" on an optional string means unset */
			free(*(char **)field);
			*(char **)field = NULL;
			return NULL;
		}
		replace_str((char **)field, value);
		return NULL;
	case T_NAME_TEXT:
		if (*value == '\0' && o->def == NULL) {
			free(*(char **)field);
			*(char **)field = NULL;
			return NULL;
		}
		if (!text_is_printable(value, false))
			return "contains control characters";
		if (strlen(value) < o->min || strlen(value) > o->max) {
			snprintf(msg, msgsize, "must be %llu to %llu characters long",
				 (unsigned long long)o->min, (unsigned long long)o->max);
			return msg;
		}
		replace_str((char **)field, value);
		return NULL;
	case T_PATH:
		if (*value == '\0' && o->def == NULL) {
			free(*(char **)field);
			*(char **)field = NULL;
			return NULL;
		}
		if (value[0] != '/')
			return "must be an absolute path (starting with /)";
		if (!text_is_printable(value, false))
			return "contains control characters";
		replace_str((char **)field, value);
		return NULL;
	case T_URL: {
		const char *why;

		if (*value == '\0' && !(o->flags & F_REQUIRED)) {
			free(*(char **)field);
			*(char **)field = NULL;
			return NULL;
		}
		why = url_problem(value);
		if (why) {
			/* never echo the URL back: it carries the key */
			snprintf(msg, msgsize, "%s (value %s)", why,
				 fg_mask_url(value, buf, sizeof(buf)));
			return msg;
		}
		replace_str((char **)field, value);
		return NULL;
	}
	case T_BOOL:
		if (parse_bool(value, (bool *)field) < 0)
			return "must be a boolean: yes/no, true/false, on/off or 1/0";
		return NULL;
	case T_UINT: {
		uint64_t n;

		if (parse_uint(value, &n) < 0 || n < o->min || n > o->max) {
			snprintf(msg, msgsize, "must be a whole number from %llu to %llu",
				 (unsigned long long)o->min, (unsigned long long)o->max);
			return msg;
		}
		*(unsigned *)field = (unsigned)n;
		return NULL;
	}
	case T_DURATION: {
		char a[FG_DURATION_BUF], b[FG_DURATION_BUF];
		uint64_t usec;

		if (fg_parse_duration(value, &usec) < 0 ||
		    (usec != 0 && usec < o->min) || usec > o->max ||
		    (usec == 0 && o->min > 0)) {
			snprintf(msg, msgsize,
				 "must be a duration from %s to %s (like 250ms, 30s, 5min, 2h, 1d)",
				 fg_format_duration(o->min, a, sizeof(a)),
				 fg_format_duration(o->max, b, sizeof(b)));
			return msg;
		}
		*(uint64_t *)field = usec;
		return NULL;
	}
	case T_ENUM:
		for (int i = 0; o->names[i]; i++)
			if (strcasecmp(value, o->names[i]) == 0) {
				if (o->names == method_names)
					replace_str((char **)field, o->names[i]);
				else
					*(int *)field = i;
				return NULL;
			}
		snprintf(msg, msgsize, "must be one of: %s",
			 enum_list(o->names, buf, sizeof(buf)));
		return msg;
	case T_LOGLEVEL: {
		int l = fg_log_level_from_string(value);

		if (l < 0)
			return "must be one of: err, warning, notice, info, debug";
		*(int *)field = l;
		return NULL;
	}
	case T_ADDRESS: {
		struct fg_button_config *b = obj;

		if (fg_parse_address(value, b->address) < 0)
			return "must be a Bluetooth address like 80:E4:DA:70:12:34 (six hex pairs separated by ':')";
		b->has_address = true;
		return NULL;
	}
	case T_SERIAL: {
		char up[32];
		size_t n = strlen(value);

		if (n >= sizeof(up))
			return "must be a serial number like BG30-C12345";
		for (size_t i = 0; i <= n; i++)
			up[i] = (char)toupper((unsigned char)value[i]);
		if (!fg_serial_is_valid(up))
			return "must be a serial number like BG30-C12345 (four letters/digits, '-', five or six letters/digits)";
		replace_str((char **)field, up);
		return NULL;
	}
	case T_GESTURES: {
		fg_gesture_mask m = 0;
		char **l = NULL, *g;

		if (fg_strv_split_list(value, &l) < 0)
			abort();
		FG_STRV_FOREACH(g, l) {
			enum fg_gesture x = fg_gesture_from_string(g);

			if (x == _FG_GESTURE_INVALID) {
				snprintf(msg, msgsize,
					 "unknown gesture '%.40s'; allowed: down, up, click, single_click, double_click, hold",
					 g);
				fg_strv_free(l);
				return msg;
			}
			if (m & FG_GESTURE_BIT(x)) {
				snprintf(msg, msgsize, "gesture '%.40s' is listed twice", g);
				fg_strv_free(l);
				return msg;
			}
			m |= FG_GESTURE_BIT(x);
		}
		fg_strv_free(l);
		*(fg_gesture_mask *)field = m;
		return NULL;
	}
	case T_WEBHOOKS: {
		char **l = NULL, *n;

		if (fg_strv_split_list(value, &l) < 0)
			abort();
		FG_STRV_FOREACH(n, l)
			if (!fg_name_is_valid(n)) {
				snprintf(msg, msgsize, "'%.40s' is not a webhook name", n);
				fg_strv_free(l);
				return msg;
			}
		if (o->section == SEC_BUTTON) {
			size_t i = (size_t)((struct fg_button_config *)obj - p->config->buttons);

			fg_strv_free(p->webhook_refs[i]);
			p->webhook_refs[i] = l;
			p->webhook_ref_line[i] = line;
		} else if (strcmp(o->key, "test_webhook") == 0) {
			fg_strv_free(p->health_test_refs);
			p->health_test_refs = l;
		} else {
			fg_strv_free(p->health_refs);
			p->health_refs = l;
			p->health_ref_line = line;
		}
		return NULL;
	}
	case T_HEADER: {
		const char *colon = strchr(value, ':');

		if (!colon || colon == value)
			return "must be \"Name: value\"";
		for (const char *q = value; q < colon; q++)
			if (!isalnum((unsigned char)*q) && !strchr("!#$%&'*+-.^_`|~", *q))
				return "header name may only hold letters, digits and -_.!#$%&'*+^`|~";
		if (!text_is_printable(value, false))
			return "contains control characters";
		if (fg_strv_push((char ***)field, value) < 0)
			abort();
		return NULL;
	}
	case T_KEYS: {
		char **l = NULL, *k;

		if (fg_strv_split_list(value, &l) < 0)
			abort();
		FG_STRV_FOREACH(k, l)
			if (!is_hex(k, 64)) {
				fg_strv_free(l);
				return "must be Ed25519 public keys of 64 hex digits each";
			}
		FG_STRV_FOREACH(k, l)
			if (fg_strv_push((char ***)field, k) < 0)
				abort();
		fg_strv_free(l);
		return NULL;
	}
	case T_RATE:
		if (parse_rate(value, (double *)field) < 0)
			return "must be a rate like 2/s, 1/5s or 30/min (0 = the preset's limit)";
		return NULL;
	case T_LINE: {
		uint64_t n;

		if (*value == '\0') {
			free(*(char **)field);
			*(char **)field = NULL;
			return NULL;
		}
		if (isdigit((unsigned char)*value)) {
			if (parse_uint(value, &n) < 0 || n > 1023)
				return "line offset must be a number from 0 to 1023 (or give the line's name)";
		} else if (strncasecmp(value, "gpiochip", 8) == 0) {
			return "give the line's offset or name, not a chip";
		} else if (!fg_name_is_valid(value)) {
			return "must be a line offset (17) or a line name (GPIO17)";
		}
		replace_str((char **)field, value);
		return NULL;
	}
	}
	return "unsupported option type";
}

/* ------------------------------------------------------------------ */
/* Sections */

static void apply_defaults(struct parser *p, enum section_kind k, void *obj)
{
	char msg[256];

	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option *o = &options[i];
		const char *err;

		if (o->section != k || !o->def)
			continue;
		err = apply_value(p, o, obj, o->def, 0, msg, sizeof(msg));
		if (err)	/* the table itself is wrong: tests catch this */
			add_error(p, 0, "internal: default of %s.%s: %s",
				  sections[k].name, o->key, err);
	}
}

static void init_config(struct parser *p)
{
	for (int k = 0; k < _SEC_MAX; k++)
		if (!sections[k].named)
			apply_defaults(p, k, section_obj(p->config, k));
}

static void begin_section(struct parser *p, const char *header, unsigned line)
{
	char kind[32], name[128];
	const char *sp;
	int k;

	p->in_bad_section = true;
	p->cur_obj = NULL;
	p->cur_seen = NULL;

	sp = header + strcspn(header, " \t");
	if ((size_t)(sp - header) >= sizeof(kind)) {
		add_error(p, line, "[%.40s]: unknown section", header);
		return;
	}
	memcpy(kind, header, (size_t)(sp - header));
	kind[sp - header] = '\0';
	while (*sp == ' ' || *sp == '\t')
		sp++;
	snprintf(name, sizeof(name), "%s", sp);
	for (size_t n = strlen(name); n > 0 && isspace((unsigned char)name[n - 1]); n--)
		name[n - 1] = '\0';

	for (k = 0; k < _SEC_MAX; k++)
		if (strcasecmp(kind, sections[k].name) == 0)
			break;
	if (k == _SEC_MAX) {
		add_error(p, line,
			  "[%.40s]: unknown section; allowed: [gateway], [bluetooth], [webhook NAME], [button NAME], [gpio], [escalation], [health], [system]",
			  header);
		return;
	}

	if (!sections[k].named) {
		if (*name) {
			add_error(p, line, "[%s] takes no name (found '%.40s')", sections[k].name, name);
			return;
		}
		if (p->fixed_line[k]) {
			add_error(p, line, "[%s] appears twice (first at line %u); merge them",
				  sections[k].name, p->fixed_line[k]);
			return;
		}
		p->fixed_line[k] = line;
		p->cur_kind = k;
		p->cur_obj = section_obj(p->config, k);
		p->cur_seen = p->fixed_seen[k];
		p->in_bad_section = false;
		return;
	}

	if (!*name) {
		add_error(p, line, "[%s] needs a name: [%s NAME]", sections[k].name, sections[k].name);
		return;
	}
	if (!fg_name_is_valid(name) || strlen(name) > 64) {
		add_error(p, line, "[%s %.40s]: a name may hold only letters, digits, '_', '-' and '.' (at most 64)",
			  sections[k].name, name);
		return;
	}

	if (k == SEC_WEBHOOK) {
		struct fg_config *c = p->config;
		size_t n = c->n_webhooks;

		for (size_t i = 0; i < n; i++)
			if (strcmp(c->webhooks[i].name, name) == 0) {
				add_error(p, line, "[webhook %s] appears twice (first at line %u)",
					  name, c->webhooks[i].line);
				return;
			}
		c->webhooks = realloc(c->webhooks, (n + 1) * sizeof(*c->webhooks));
		p->webhook_seen = realloc(p->webhook_seen, (n + 1) * sizeof(*p->webhook_seen));
		if (!c->webhooks || !p->webhook_seen)
			abort();
		memset(&c->webhooks[n], 0, sizeof(c->webhooks[n]));
		memset(p->webhook_seen[n], 0, sizeof(p->webhook_seen[n]));
		c->n_webhooks = n + 1;
		replace_str(&c->webhooks[n].name, name);
		c->webhooks[n].line = line;
		apply_defaults(p, SEC_WEBHOOK, &c->webhooks[n]);
		p->cur_obj = &c->webhooks[n];
		p->cur_seen = p->webhook_seen[n];
	} else {
		struct fg_config *c = p->config;
		size_t n = c->n_buttons;

		for (size_t i = 0; i < n; i++)
			if (strcmp(c->buttons[i].name, name) == 0) {
				add_error(p, line, "[button %s] appears twice (first at line %u)",
					  name, c->buttons[i].line);
				return;
			}
		c->buttons = realloc(c->buttons, (n + 1) * sizeof(*c->buttons));
		p->button_seen = realloc(p->button_seen, (n + 1) * sizeof(*p->button_seen));
		p->webhook_refs = realloc(p->webhook_refs, (n + 1) * sizeof(*p->webhook_refs));
		p->webhook_ref_line = realloc(p->webhook_ref_line, (n + 1) * sizeof(*p->webhook_ref_line));
		if (!c->buttons || !p->button_seen || !p->webhook_refs || !p->webhook_ref_line)
			abort();
		memset(&c->buttons[n], 0, sizeof(c->buttons[n]));
		memset(p->button_seen[n], 0, sizeof(p->button_seen[n]));
		p->webhook_refs[n] = NULL;
		p->webhook_ref_line[n] = 0;
		c->n_buttons = n + 1;
		replace_str(&c->buttons[n].name, name);
		c->buttons[n].line = line;
		apply_defaults(p, SEC_BUTTON, &c->buttons[n]);
		p->cur_obj = &c->buttons[n];
		p->cur_seen = p->button_seen[n];
	}
	p->cur_kind = k;
	p->in_bad_section = false;
}

/* ------------------------------------------------------------------ */
/* Keys */

static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned prev = row[0], tmp;

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			unsigned best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

static void flush_pending(struct parser *p)
{
	const struct option *o = p->pend_opt;
	char msg[512];
	const char *err;

	if (!o)
		return;
	err = apply_value(p, o, p->pend_obj, p->pend_value, p->pend_line, msg, sizeof(msg));
	if (!err && o->validate)
		err = o->validate(p->pend_value, msg, sizeof(msg));
	if (err)
		add_error(p, p->pend_line, "%s.%s: %s", sections[o->section].name, o->key, err);
	free(p->pend_value);
	p->pend_value = NULL;
	p->pend_opt = NULL;
}

static void append_pending(struct parser *p, const char *sep, const char *value)
{
	size_t a = strlen(p->pend_value), b = strlen(sep), c = strlen(value);
	char *n = realloc(p->pend_value, a + b + c + 1);

	if (!n)
		abort();
	memcpy(n + a, sep, b);
	memcpy(n + a + b, value, c + 1);
	p->pend_value = n;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	const struct option *o = NULL, *best = NULL;
	unsigned best_d = 99;

	if (p->chunk == CHUNK_SPLIT) {
		/* the reader cut an over-long line: glue it back */
		if (p->pend_opt)
			append_pending(p, "", value);
		return 1;
	}
	if (p->chunk == CHUNK_INDENTED) {
		if (!p->pend_opt)
			return 1;	/* continuation of a key already reported */
		if (!(p->pend_opt->flags & F_MULTILINE)) {
			add_error(p, p->lineno,
				  "%s.%s: indented line continues a value that must fit on one line (only body and info may continue)",
				  sections[p->pend_opt->section].name, p->pend_opt->key);
			free(p->pend_value);
			p->pend_value = NULL;
			p->pend_opt = NULL;
			return 1;
		}
		append_pending(p, "\n", value);
		return 1;
	}

	flush_pending(p);

	if (p->in_bad_section)
		return 1;	/* the header was reported already */
	if (!*section) {
		add_error(p, p->lineno, "%.60s: a key before any [section]", name);
		return 1;
	}

	for (size_t i = 0; i < N_OPTIONS; i++) {
		unsigned d;

		if (options[i].section != p->cur_kind)
			continue;
		if (strcasecmp(options[i].key, name) == 0) {
			o = &options[i];
			break;
		}
		d = edit_distance(options[i].key, name);
		if (d < best_d) {
			best_d = d;
			best = &options[i];
		}
	}
	if (!o) {
		if (best && best_d <= 2)
			add_error(p, p->lineno, "%s.%.60s: unknown key (did you mean '%s'?)",
				  sections[p->cur_kind].name, name, best->key);
		else
			add_error(p, p->lineno, "%s.%.60s: unknown key", sections[p->cur_kind].name, name);
		return 1;
	}
	if (p->cur_seen[o - options] && !(o->flags & F_REPEAT)) {
		add_error(p, p->lineno, "%s.%s: given twice in this section (first at line %u)",
			  sections[o->section].name, o->key, p->cur_seen[o - options]);
		return 1;
	}
	p->cur_seen[o - options] = p->lineno;
	p->pend_opt = o;
	p->pend_obj = p->cur_obj;
	p->pend_line = p->lineno;
	p->pend_value = strdup(value);
	if (!p->pend_value)
		abort();
	return 1;
}

/* ------------------------------------------------------------------ */
/* Reader: see the comment at the top of the file. */

static bool is_comment_start(char c)
{
	return c == ';' || c == '#';
}

static char *reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	size_t max = (size_t)num - 3;	/* room for "\n", "\0" and a lead blank */
	const char *line, *eol, *start;
	size_t len;

	if (p->split_rest) {
		size_t take = p->split_rest_len;

		if (take > max - 1) {
			take = max - 1;
			/* inih trims blanks at both ends: cut between two non-blanks */
			while (take > 1 && (isspace((unsigned char)p->split_rest[take - 1]) ||
					    isspace((unsigned char)p->split_rest[take]) ||
					    is_comment_start(p->split_rest[take])))
				take--;
		}
		str[0] = ' ';	/* leading blank: inih calls it a continuation */
		memcpy(str + 1, p->split_rest, take);
		str[take + 1] = '\n';
		str[take + 2] = '\0';
		p->split_rest += take;
		p->split_rest_len -= take;
		if (p->split_rest_len == 0)
			p->split_rest = NULL;
		p->chunk = CHUNK_SPLIT;
		return str;
	}

	if (p->pos >= p->end)
		return NULL;
	line = p->pos;
	eol = memchr(line, '\n', (size_t)(p->end - line));
	if (!eol)
		eol = p->end;
	p->pos = eol < p->end ? eol + 1 : eol;
	len = (size_t)(eol - line);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	p->lineno++;

	start = line;
	while (start < line + len && isspace((unsigned char)*start))
		start++;

	if (memchr(line, '\0', len)) {
		add_error(p, p->lineno, "contains a NUL byte");
		str[0] = '\n';
		str[1] = '\0';
		p->chunk = CHUNK_LINE;
		return str;
	}

	if (start == line + len || is_comment_start(*start)) {
		/* blank or comment: nothing for inih to do, whatever its length */
		if (start == line + len) {
			flush_pending(p);
			p->can_continue = false;
		}
		str[0] = '\n';
		str[1] = '\0';
		p->chunk = CHUNK_LINE;
		return str;
	}

	if (start > line) {
		p->chunk = CHUNK_INDENTED;
		if (!p->can_continue) {
			add_error(p, p->lineno,
				  "indented line continues nothing (remove the leading blanks)");
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
	} else if (*start == '[') {
		const char *close = memchr(start, ']', len);
		char header[160];
		size_t hl;

		flush_pending(p);
		p->chunk = CHUNK_LINE;
		p->can_continue = false;
		if (!close) {
			add_error(p, p->lineno, "section header without closing ']'");
			p->in_bad_section = true;
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
		hl = (size_t)(close - start - 1);
		if (hl >= sizeof(header))
			hl = sizeof(header) - 1;
		memcpy(header, start + 1, hl);
		header[hl] = '\0';
		{
			/* trim blanks inside the brackets */
			char *h = header;
			size_t n;

			while (isspace((unsigned char)*h))
				h++;
			memmove(header, h, strlen(h) + 1);
			n = strlen(header);
			while (n > 0 && isspace((unsigned char)header[n - 1]))
				header[--n] = '\0';
		}
		begin_section(p, header, p->lineno);
		/* hand inih a header it accepts, whatever we decided */
		snprintf(str, (size_t)num, "[%.*s]\n", (int)(max - 2 < hl ? max - 2 : hl), header);
		return str;
	} else {
		const char *eq = memchr(start, '=', len);
		const char *colon = memchr(start, ':', len);

		p->chunk = CHUNK_LINE;
		if (!eq && !colon) {
			flush_pending(p);
			p->can_continue = false;
			add_error(p, p->lineno, "expected \"key = value\", a [section] or a comment");
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
	}

	p->can_continue = true;
	if (len <= max) {
		memcpy(str, line, len);
		str[len] = '\n';
		str[len + 1] = '\0';
		return str;
	}

	/* over-long: hand out the first piece, keep the rest for later calls */
	{
		size_t take = max;

		while (take > 1 && (isspace((unsigned char)line[take - 1]) ||
				    isspace((unsigned char)line[take]) ||
				    is_comment_start(line[take])))
			take--;
		memcpy(str, line, take);
		str[take] = '\n';
		str[take + 1] = '\0';
		p->split_rest = line + take;
		p->split_rest_len = len - take;
	}
	return str;
}

/* ------------------------------------------------------------------ */
/* Cross-checks once everything is read */

static int resolve_refs(struct parser *p, char **names, unsigned line, const char *where,
			size_t **ret, size_t *ret_n)
{
	struct fg_config *c = p->config;
	size_t *idx = NULL, n = 0;
	char *name;

	if (!names) {
		/* default: every webhook */
		if (c->n_webhooks) {
			idx = calloc(c->n_webhooks, sizeof(*idx));
			if (!idx)
				abort();
			for (size_t i = 0; i < c->n_webhooks; i++)
				idx[i] = i;
			n = c->n_webhooks;
		}
		*ret = idx;
		*ret_n = n;
		return 0;
	}
	idx = calloc(fg_strv_length(names) + 1, sizeof(*idx));
	if (!idx)
		abort();
	FG_STRV_FOREACH(name, names) {
		size_t i;

		for (i = 0; i < c->n_webhooks; i++)
			if (strcmp(c->webhooks[i].name, name) == 0)
				break;
		if (i == c->n_webhooks) {
			add_error(p, line, "%s.webhook: no [webhook %s] in this file", where, name);
			continue;
		}
		for (size_t j = 0; j < n; j++)
			if (idx[j] == i) {
				add_error(p, line, "%s.webhook: '%s' is listed twice", where, name);
				i = SIZE_MAX;
				break;
			}
		if (i != SIZE_MAX)
			idx[n++] = i;
	}
	*ret = idx;
	*ret_n = n;
	return 0;
}

static void check_config(struct parser *p)
{
	struct fg_config *c = p->config;

	for (size_t i = 0; i < c->n_webhooks; i++) {
		struct fg_webhook_config *w = &c->webhooks[i];

		for (size_t k = 0; k < N_OPTIONS; k++)
			if (options[k].section == SEC_WEBHOOK && (options[k].flags & F_REQUIRED) &&
			    !p->webhook_seen[i][k])
				add_error(p, w->line, "[webhook %s]: %s is missing", w->name, options[k].key);
		if (w->preset == FG_PRESET_PAGERDUTY && !w->routing_key)
			add_error(p, w->line, "[webhook %s]: preset pagerduty needs routing_key (the integration key)",
				  w->name);
		if (w->preset == FG_PRESET_GENERIC && !w->body)
			add_error(p, w->line, "[webhook %s]: preset generic needs a body template", w->name);
		if (w->preset != FG_PRESET_GENERIC && w->body)
			add_error(p, w->line, "[webhook %s]: body is only used by preset generic (this one is %s)",
				  w->name, preset_names[w->preset]);
	}

	for (size_t i = 0; i < c->n_buttons; i++) {
		struct fg_button_config *b = &c->buttons[i];
		char where[96];

		snprintf(where, sizeof(where), "button %s", b->name);
		if (!b->has_address && !b->serial)
			add_error(p, b->line, "[button %s]: give its address, its serial or both", b->name);
		if (!b->name_id)
			replace_str(&b->name_id, b->name);
		if (b->on & b->off)
			add_error(p, b->line, "[button %s]: a gesture cannot both open (on) and close (off) an alert",
				  b->name);
		if (b->test & (b->on | b->off))
			add_error(p, b->line, "[button %s]: a test gesture cannot also open or close an alert",
				  b->name);
		if (!b->on)
			add_error(p, b->line, "[button %s]: on is empty: this button could never raise an alert",
				  b->name);
		for (size_t j = 0; j < i; j++) {
			const struct fg_button_config *o = &c->buttons[j];

			if (b->has_address && o->has_address && memcmp(b->address, o->address, 6) == 0)
				add_error(p, b->line, "[button %s]: same address as [button %s] (line %u)",
					  b->name, o->name, o->line);
			if (b->serial && o->serial && strcmp(b->serial, o->serial) == 0)
				add_error(p, b->line, "[button %s]: same serial as [button %s] (line %u)",
					  b->name, o->name, o->line);
		}
		resolve_refs(p, p->webhook_refs[i], p->webhook_ref_line[i] ? p->webhook_ref_line[i] : b->line,
			     where, &b->webhooks, &b->n_webhooks);
		if (b->n_webhooks == 0 && !p->webhook_refs[i])
			add_error(p, b->line, "[button %s]: no [webhook] is configured, so its alerts could go nowhere",
				  b->name);
	}
	resolve_refs(p, p->health_refs, p->health_ref_line ? p->health_ref_line : p->fixed_line[SEC_HEALTH],
		     "health", &c->health.webhooks, &c->health.n_webhooks);
	/* unlike webhook, none by default: a test press is nobody's business unless asked */
	if (p->health_test_refs)
		resolve_refs(p, p->health_test_refs, p->fixed_line[SEC_HEALTH], "health",
			     &c->health.test_webhooks, &c->health.n_test_webhooks);

	if (c->gpio.backend == FG_GPIO_GPIOD) {
		if (!c->gpio.chip)
			add_error(p, p->fixed_line[SEC_GPIO], "gpio.chip: backend gpiod needs a chip label or path");
		if (!c->gpio.status_led.line && !c->gpio.alert_led.line && !c->gpio.buzzer.line &&
		    !c->gpio.ack_line)
			add_error(p, p->fixed_line[SEC_GPIO],
				  "gpio: backend gpiod with no line configured (set status_led, alert_led, buzzer or ack_input)");
	}
	{
		const char *lines[] = { c->gpio.status_led.line, c->gpio.alert_led.line,
					c->gpio.buzzer.line, c->gpio.ack_line };
		const char *lnames[] = { "status_led", "alert_led", "buzzer", "ack_input" };

		for (int i = 0; i < 4; i++)
			for (int j = 0; j < i; j++)
				if (lines[i] && lines[j] && strcmp(lines[i], lines[j]) == 0)
					add_error(p, p->fixed_line[SEC_GPIO],
						  "gpio.%s: line %s is already used by %s", lnames[i],
						  lines[i], lnames[j]);
	}

	{
		uint64_t prev = 0;

		for (int i = 0; i < FG_ESCALATION_LEVELS; i++) {
			uint64_t t = c->escalation.level_after_usec[i];

			if (t == 0)
				continue;
			if (t <= prev)
				add_error(p, p->fixed_line[SEC_ESCALATION],
					  "escalation.level%d_after: must be later than the level before it", i + 1);
			prev = t;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Entry points */

struct fg_config *fg_config_ref(struct fg_config *c)
{
	if (c) {
		assert(c->n_ref > 0);
		c->n_ref++;
	}
	return c;
}

static void config_free(struct fg_config *c)
{
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option *o = &options[i];
		size_t n = 1;
		char *base;

		if (o->section == SEC_WEBHOOK)
			n = c->n_webhooks;
		else if (o->section == SEC_BUTTON)
			n = c->n_buttons;
		for (size_t j = 0; j < n; j++) {
			if (o->section == SEC_WEBHOOK)
				base = (char *)&c->webhooks[j];
			else if (o->section == SEC_BUTTON)
				base = (char *)&c->buttons[j];
			else
				base = section_obj(c, o->section);
			switch (o->type) {
			case T_STRING:
			case T_NAME_TEXT:
			case T_PATH:
			case T_URL:
			case T_SERIAL:
			case T_LINE:
				free(*(char **)(base + o->offset));
				break;
			case T_ENUM:
				if (o->names == method_names)
					free(*(char **)(base + o->offset));
				break;
			case T_HEADER:
			case T_KEYS:
				fg_strv_free(*(char ***)(base + o->offset));
				break;
			case T_WEBHOOKS:
				free(*(size_t **)(base + o->offset));
				break;
			case T_BOOL:
			case T_UINT:
			case T_DURATION:
			case T_LOGLEVEL:
			case T_ADDRESS:
			case T_GESTURES:
			case T_RATE:
				break;
			}
		}
	}
	for (size_t j = 0; j < c->n_webhooks; j++)
		free(c->webhooks[j].name);
	for (size_t j = 0; j < c->n_buttons; j++)
		free(c->buttons[j].name);
	free(c->webhooks);
	free(c->buttons);
	free(c->path);
	free(c);
}

struct fg_config *fg_config_unref(struct fg_config *c)
{
	if (!c)
		return NULL;
	assert(c->n_ref > 0);
	if (--c->n_ref == 0)
		config_free(c);
	return NULL;
}

static void parser_done(struct parser *p)
{
	for (size_t i = 0; p->config && i < p->config->n_buttons; i++)
		fg_strv_free(p->webhook_refs[i]);
	free(p->webhook_refs);
	free(p->webhook_ref_line);
	fg_strv_free(p->health_refs);
	fg_strv_free(p->health_test_refs);
	free(p->webhook_seen);
	free(p->button_seen);
	free(p->pend_value);
}

int fg_config_parse(const char *filename, const char *text, size_t len,
		    struct fg_config_errors *errors, struct fg_config **ret)
{
	struct parser p = {
		.filename = filename,
		.errors = errors,
		.cur_kind = _SEC_MAX,
	};
	int r;

	p.config = calloc(1, sizeof(*p.config));
	if (p.config)
		p.config->n_ref = 1;
	if (!p.config)
		return -ENOMEM;
	p.config->path = strdup(filename);
	if (!p.config->path) {
		free(p.config);
		return -ENOMEM;
	}

	/* a UTF-8 byte order mark, as Windows Notepad writes */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	p.text = p.pos = text;
	p.end = text + len;

	init_config(&p);
	r = ini_parse_stream(reader, &p, handler, &p);
	flush_pending(&p);
	if (r == -2) {
		parser_done(&p);
		fg_config_unref(p.config);
		return -ENOMEM;
	}
	/*
	 * r > 0 is inih's first syntax error; the reader has already
	 * reported every malformed line with a clearer message.
	 */
	if (r > 0 && p.n_errors == 0)
		add_error(&p, (unsigned)r, "syntax error");

	if (p.n_errors == 0)
		check_config(&p);
	parser_done(&p);
	if (p.n_errors > 0) {
		fg_config_unref(p.config);
		return -EINVAL;
	}
	*ret = p.config;
	return 0;
}

int fg_config_load(const char *path, struct fg_config_errors *errors, struct fg_config **ret)
{
	static const char *const search[] = { FG_CONFIG_SEARCH_PATH_1, FG_CONFIG_SEARCH_PATH_2, NULL };
	char *text = NULL, msg[512];
	size_t len = 0;
	int r;

	if (!path) {
		for (int i = 0; search[i]; i++) {
			r = fg_read_file(search[i], FG_CONFIG_MAX_SIZE, &text, &len);
			if (r == -ENOENT)
				continue;
			path = search[i];
			break;
		}
		if (!path)
			return -ENOENT;
	} else {
		r = fg_read_file(path, FG_CONFIG_MAX_SIZE, &text, &len);
	}
	if (r < 0) {
		if (r == -EFBIG)
			snprintf(msg, sizeof(msg), "%s: larger than %d bytes; is this really flicgate.ini?",
				 path, FG_CONFIG_MAX_SIZE);
		else
			snprintf(msg, sizeof(msg), "%s: cannot read: %s", path, strerror(-r));
		if (errors && fg_strv_push(&errors->messages, msg) == 0)
			errors->n++;
		return r;
	}
	r = fg_config_parse(path, text, len, errors, ret);
	free(text);
	return r;
}

/* ------------------------------------------------------------------ */
/* Lookups and names */

const struct fg_button_config *fg_config_button_by_address(const struct fg_config *c, const uint8_t addr[6])
{
	for (size_t i = 0; i < c->n_buttons; i++)
		if (c->buttons[i].has_address && memcmp(c->buttons[i].address, addr, 6) == 0)
			return &c->buttons[i];
	return NULL;
}

const struct fg_button_config *fg_config_button_by_serial(const struct fg_config *c, const char *serial)
{
	for (size_t i = 0; serial && i < c->n_buttons; i++)
		if (c->buttons[i].serial && strcasecmp(c->buttons[i].serial, serial) == 0)
			return &c->buttons[i];
	return NULL;
}

const struct fg_button_config *fg_config_button_by_name(const struct fg_config *c, const char *name)
{
	for (size_t i = 0; name && i < c->n_buttons; i++)
		if (strcmp(c->buttons[i].name, name) == 0)
			return &c->buttons[i];
	return NULL;
}

const struct fg_webhook_config *fg_config_webhook_by_name(const struct fg_config *c, const char *name)
{
	for (size_t i = 0; name && i < c->n_webhooks; i++)
		if (strcmp(c->webhooks[i].name, name) == 0)
			return &c->webhooks[i];
	return NULL;
}

const char *fg_preset_to_string(enum fg_preset v)
{
	return v >= 0 && v < _FG_PRESET_MAX ? preset_names[v] : NULL;
}

const char *fg_pairing_policy_to_string(enum fg_pairing_policy v)
{
	return v >= 0 && v < _FG_PAIRING_MAX ? pairing_names[v] : NULL;
}

/* ------------------------------------------------------------------ */
/* Printing */

static void format_gestures(fg_gesture_mask m, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int g = 0; g < _FG_GESTURE_MAX; g++)
		if (m & FG_GESTURE_BIT(g)) {
			int w = snprintf(buf + off, size - off, "%s%s", off ? ", " : "",
					 fg_gesture_to_string(g));

			if (w < 0 || (size_t)w >= size - off)
				break;
			off += (size_t)w;
		}
}

static void print_value(FILE *f, const struct fg_config *c, const struct option *o, const void *obj)
{
	const char *field = (const char *)obj + o->offset;
	char buf[512], mb[FG_MASK_BUF];

	switch (o->type) {
	case T_STRING:
	case T_NAME_TEXT:
	case T_PATH:
	case T_SERIAL:
	case T_LINE: {
		const char *s = *(char *const *)field;

		if (!s)
			return;	/* unset: not printed */
		if (o->flags & F_SECRET)
			s = fg_mask_secret(s, mb, sizeof(mb));
		fprintf(f, "%s = ", o->key);
		/* multi-line values continue on indented lines */
		for (const char *q = s; *q; q++) {
			fputc(*q, f);
			if (*q == '\n')
				fputs("    ", f);
		}
		fputc('\n', f);
		return;
	}
	case T_URL: {
		const char *s = *(char *const *)field;

		if (s)
			fprintf(f, "%s = %s\n", o->key, fg_mask_url(s, mb, sizeof(mb)));
		return;
	}
	case T_BOOL:
		fprintf(f, "%s = %s\n", o->key, *(const bool *)field ? "yes" : "no");
		return;
	case T_UINT:
		fprintf(f, "%s = %u\n", o->key, *(const unsigned *)field);
		return;
	case T_DURATION:
		fprintf(f, "%s = %s\n", o->key,
			fg_format_duration(*(const uint64_t *)field, buf, sizeof(buf)));
		return;
	case T_ENUM:
		if (o->names == method_names)
			fprintf(f, "%s = %s\n", o->key, *(char *const *)field);
		else
			fprintf(f, "%s = %s\n", o->key, o->names[*(const int *)field]);
		return;
	case T_LOGLEVEL:
		fprintf(f, "%s = %s\n", o->key, fg_log_level_to_string(*(const int *)field));
		return;
	case T_ADDRESS: {
		const struct fg_button_config *b = obj;

		if (b->has_address) {
			fg_format_address(b->address, buf);
			fprintf(f, "%s = %s\n", o->key, buf);
		}
		return;
	}
	case T_GESTURES:
		format_gestures(*(const fg_gesture_mask *)field, buf, sizeof(buf));
		fprintf(f, "%s = %s\n", o->key, buf);
		return;
	case T_WEBHOOKS: {
		const size_t *idx;
		size_t n;

		if (o->section == SEC_BUTTON) {
			idx = ((const struct fg_button_config *)obj)->webhooks;
			n = ((const struct fg_button_config *)obj)->n_webhooks;
		} else if (strcmp(o->key, "test_webhook") == 0) {
			idx = c->health.test_webhooks;
			n = c->health.n_test_webhooks;
		} else {
			idx = c->health.webhooks;
			n = c->health.n_webhooks;
		}
		fprintf(f, "%s =", o->key);
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s %s", i ? "," : "", c->webhooks[idx[i]].name);
		fputc('\n', f);
		return;
	}
	case T_HEADER: {
		char *h;

		FG_STRV_FOREACH(h, *(char **const *)field)
			fprintf(f, "%s = %s\n", o->key, fg_mask_header(h, mb, sizeof(mb)));
		return;
	}
	case T_KEYS: {
		char *k;

		/* public keys are not secret */
		FG_STRV_FOREACH(k, *(char **const *)field)
			fprintf(f, "%s = %s\n", o->key, k);
		return;
	}
	case T_RATE: {
		double r = *(const double *)field;

		if (r == 0)
			fprintf(f, "%s = 0\n", o->key);
		else
			fprintf(f, "%s = %g/s\n", o->key, r);
		return;
	}
	}
}

static void print_section(FILE *f, const struct fg_config *c, enum section_kind k,
			  const char *name, const void *obj)
{
	if (name)
		fprintf(f, "\n[%s %s]\n", sections[k].name, name);
	else
		fprintf(f, "\n[%s]\n", sections[k].name);
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (options[i].section == k)
			print_value(f, c, &options[i], obj);
}

void fg_config_print(const struct fg_config *c, FILE *f)
{
	fprintf(f, "# effective configuration from %s (secrets masked)\n", c->path);
	for (int k = 0; k < _SEC_MAX; k++) {
		if (k == SEC_WEBHOOK) {
			for (size_t i = 0; i < c->n_webhooks; i++)
				print_section(f, c, k, c->webhooks[i].name, &c->webhooks[i]);
		} else if (k == SEC_BUTTON) {
			for (size_t i = 0; i < c->n_buttons; i++)
				print_section(f, c, k, c->buttons[i].name, &c->buttons[i]);
		} else {
			print_section(f, c, k, NULL, section_obj((struct fg_config *)c, k));
		}
	}
}

static const char *type_doc(const struct option *o, char *buf, size_t size)
{
	char a[FG_DURATION_BUF], b[FG_DURATION_BUF], l[256];

	switch (o->type) {
	case T_STRING: return "text";
	case T_NAME_TEXT: return "text (one line)";
	case T_BOOL: return "boolean";
	case T_UINT:
		snprintf(buf, size, "integer %llu..%llu", (unsigned long long)o->min,
			 (unsigned long long)o->max);
		return buf;
	case T_DURATION:
		snprintf(buf, size, "duration %s..%s", fg_format_duration(o->min, a, sizeof(a)),
			 fg_format_duration(o->max, b, sizeof(b)));
		return buf;
	case T_ENUM:
		snprintf(buf, size, "one of %s", enum_list(o->names, l, sizeof(l)));
		return buf;
	case T_LOGLEVEL: return "log level";
	case T_PATH: return "absolute path";
	case T_URL: return "URL";
	case T_ADDRESS: return "Bluetooth address";
	case T_SERIAL: return "serial number";
	case T_GESTURES: return "list of gestures";
	case T_WEBHOOKS: return "list of webhook names";
	case T_HEADER: return "header, repeatable";
	case T_KEYS: return "hex keys, repeatable";
	case T_RATE: return "rate";
	case T_LINE: return "GPIO line";
	}
	return "?";
}

void fg_config_write_example(FILE *f)
{
	fputs("# flicgate.ini: configuration of the flicgate gateway.\n"
	      "#\n"
	      "# Generated from the option table in daemon/config/config.c; see flicgate.ini(5).\n"
	      "# Every key is shown commented out with its default. Lines \"#key = value\"\n"
	      "# are examples; remove the '#' to use one. Durations: 250ms, 30s, 5min, 2h, 1d.\n"
	      "# Booleans: yes/no. Check a file with: flicgated --check-config --config FILE\n", f);
	for (int k = 0; k < _SEC_MAX; k++) {
		bool named = sections[k].named;

		fputc('\n', f);
		fprintf(f, "# %s\n", sections[k].doc);
		if (named)
			fprintf(f, "#[%s %s]\n", sections[k].name,
				k == SEC_WEBHOOK ? "alertops" : "reception");
		else
			fprintf(f, "[%s]\n", sections[k].name);
		for (size_t i = 0; i < N_OPTIONS; i++) {
			const struct option *o = &options[i];
			char tb[128];
			const char *v = o->example ? o->example : o->def;

			if ((int)o->section != k)
				continue;
			fprintf(f, "\n# %s\n# (%s%s%s%s%s)\n", o->doc, type_doc(o, tb, sizeof(tb)),
				o->def && *o->def ? ", default " : "", o->def && *o->def ? o->def : "",
				(o->flags & F_REQUIRED) ? ", required" : "",
				(o->flags & F_SECRET) ? ", secret" : "");
			fprintf(f, "#%s = %s\n", o->key, v ? v : "");
		}
	}
}

static void man_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void fg_config_write_man(FILE *f)
{
	fputs(".\\\" Generated from daemon/config/config.c; do not edit.\n"
	      ".TH FLICGATE.INI 5 \"\" \"flicgate\" \"File Formats\"\n"
	      ".SH NAME\nflicgate.ini \\- configuration of the flicgate gateway\n"
	      ".SH SYNOPSIS\n/boot/firmware/flicgate.ini, /etc/flicgate/flicgate.ini\n"
	      ".SH DESCRIPTION\n"
	      "\\fBflicgated\\fR(8) reads the first of \\fB\\-\\-config\\fR \\fIPATH\\fR, "
	      "\\fI/boot/firmware/flicgate.ini\\fR and \\fI/etc/flicgate/flicgate.ini\\fR that exists.\n"
	      "The file is INI: \\fB[section]\\fR headers, \\fBkey = value\\fR lines, comments starting "
	      "with \\fB#\\fR or \\fB;\\fR. Files written on Windows (CRLF line ends, UTF\\-8 byte order mark) "
	      "are accepted. Unknown sections and keys are errors, so that a typo cannot silently "
	      "disable a button. Every error is reported as \\fIfile\\fB:\\fIline\\fB: \\fIsection.key\\fB: "
	      "\\fImessage\\fR, all at once. The body and info values may continue on indented lines.\n"
	      ".PP\nDurations are written like \\fB250ms\\fR, \\fB30s\\fR, \\fB5min\\fR, \\fB2h\\fR, \\fB1d\\fR "
	      "(a bare number is seconds); booleans as yes/no, true/false, on/off or 1/0.\n"
	      "Values marked \\fIsecret\\fR are never printed or logged in full.\n"
	      ".PP\nSending SIGHUP to \\fBflicgated\\fR reloads the file; a file with errors is "
	      "rejected and the running configuration is kept.\n", f);
	for (int k = 0; k < _SEC_MAX; k++) {
		fprintf(f, ".SH [%s%s]\n", sections[k].name,
			sections[k].named ? " \\fINAME\\fB" : "");
		man_escape(f, sections[k].doc);
		fputc('\n', f);
		for (size_t i = 0; i < N_OPTIONS; i++) {
			const struct option *o = &options[i];
			char tb[128];

			if ((int)o->section != k)
				continue;
			fprintf(f, ".TP\n\\fB%s\\fR = \\fI", o->key);
			man_escape(f, type_doc(o, tb, sizeof(tb)));
			fputs("\\fR", f);
			if (o->def && *o->def) {
				fputs(" (default: ", f);
				man_escape(f, o->def);
				fputs(")", f);
			}
			if (o->flags & F_REQUIRED)
				fputs(" (required)", f);
			if (o->flags & F_SECRET)
				fputs(" (secret)", f);
			fputc('\n', f);
			man_escape(f, o->doc);
			fputc('\n', f);
		}
	}
	fputs(".SH EXAMPLE\nSee \\fI/usr/share/doc/flicgate/flicgate.ini\\fR.\n"
	      ".SH SEE ALSO\n\\fBflicgated\\fR(8), \\fBflicgatectl\\fR(1)\n", f);
}
