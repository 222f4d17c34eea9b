/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "delivery/severity.h"
#include "lib/btaddr.h"
#include "lib/log-level.h"
#include "radio/gesture.h"

/*
 * flicgate.ini: the parsed, validated configuration.
 *
 * One table in config.c (section, key, type, default, one-line doc) drives
 * parsing, validation, the example conf/flicgate.ini and flicgate.ini(5);
 * tests/test-config.c proves they agree. Everything below is plain data:
 * a struct fg_config is built by fg_config_load*() with every default
 * filled in and every cross-reference resolved, and is immutable after.
 */

/* tzdata: [system] timezone names a file under it */
#define FG_ZONEINFO_DIR "/usr/share/zoneinfo"
#define FG_CONFIG_SEARCH_PATH_1 "/boot/firmware/flicgate.ini"
#define FG_CONFIG_SEARCH_PATH_2 "/etc/flicgate/flicgate.ini"
#define FG_CONFIG_MAX_SIZE (1024 * 1024)

enum fg_pairing_policy {
	FG_PAIRING_WINDOW,	/* pair public-mode buttons only while a window is open */
	FG_PAIRING_LISTED,	/* also pair, any time, buttons listed in a [button] */
	FG_PAIRING_LOCKED,	/* never pair; windows are refused */
	_FG_PAIRING_MAX,
};

enum fg_preset {
	FG_PRESET_ALERTOPS,
	FG_PRESET_PAGERDUTY,
	FG_PRESET_SLACK,
	FG_PRESET_NTFY,
	FG_PRESET_GENERIC,
	_FG_PRESET_MAX,
};

/* What a second "On" does while the button's alert is already open. */
enum fg_while_open {
	FG_WHILE_OPEN_APPEND,	/* send it again (AlertOps: "Mapped Appended") */
	FG_WHILE_OPEN_SUPPRESS,	/* record it locally, send nothing */
	_FG_WHILE_OPEN_MAX,
};

enum fg_gpio_backend {
	FG_GPIO_NONE,		/* no outputs at all */
	FG_GPIO_LOG,		/* print LED/buzzer changes to the log (demo, no GPIO) */
	FG_GPIO_GPIOD,		/* real lines through libgpiod */
	_FG_GPIO_BACKEND_MAX,
};

enum fg_gpio_bias {
	FG_GPIO_BIAS_AS_IS,
	FG_GPIO_BIAS_PULL_UP,
	FG_GPIO_BIAS_PULL_DOWN,
	FG_GPIO_BIAS_DISABLED,
	_FG_GPIO_BIAS_MAX,
};

/* [gateway] log_level: FG_LOG_ERR .. FG_LOG_DEBUG (lib/log-level.h). */

struct fg_gateway_config {
	char *name;			/* gateway name, sent with every alert */
	char *state_dir;		/* pairings, spool, alert state, audit */
	int log_level;			/* FG_LOG_ERR .. FG_LOG_DEBUG (lib/log-level.h) */
	unsigned spool_max;		/* alerts kept on disk before the spool-full alarm */
};

struct fg_bluetooth_config {
	char *adapter;			/* "auto" or "hciN" */
	bool power_on;			/* power the adapter on if it is off */
	enum fg_pairing_policy pairing;
	uint64_t pairing_window_usec;	/* default length of a pairing window */
	uint64_t connect_timeout_usec;
	unsigned max_links;		/* LE links held at once; 0: auto (read the controller) */
	uint64_t idle_disconnect_usec;	/* a button not kept linked hangs up after this idle time */
	/* Extra Ed25519 identity public keys trusted besides Flic's own (tests). */
	char **trusted_keys;		/* hex, 64 chars each */
};

struct fg_webhook_config {
	char *name;			/* section name: [webhook NAME] */
	unsigned line;			/* line of the section header */
	enum fg_preset preset;
	char *url;			/* SECRET: carries the API key */
	char *method;			/* "POST", "PUT" */
	char **headers;			/* "Name: value" each; values are secret */
	char *body;			/* generic preset: template with ${…} */
	char *content_type;
	uint64_t timeout_usec;
	bool tls_verify;
	char *ca_file;			/* NULL: the system store */
	char *proxy;			/* NULL: libcurl's environment handling */
	char *routing_key;		/* SECRET: PagerDuty integration key */
	double rate_limit;		/* requests/s; 0 = the preset's documented limit */
};

struct fg_button_config {
	char *name;			/* section name: [button NAME] */
	unsigned line;
	char *name_id;			/* flic_nameId sent to the target (default: name) */
	bool has_address;
	uint8_t address[6];		/* big-endian, as printed: address[0] is "AA" of AA:… */
	char *serial;			/* e.g. "BG30-C12345"; NULL if not given */
	fg_gesture_mask on;		/* gestures that open an alert */
	fg_gesture_mask off;		/* gestures that close it */
	fg_gesture_mask test;		/* gestures that record a routine test press */
	char *info;			/* free text sent with the alert */
	size_t *webhooks;		/* indexes into fg_config.webhooks */
	size_t n_webhooks;
	enum fg_severity severity;
	enum fg_while_open while_open;
	uint64_t offline_after_usec;	/* 0: [health] offline_after */
	bool keep_linked;		/* held linked first: its auto-disconnect is never */
};

struct fg_gpio_output_config {
	char *line;			/* NULL: not connected; offset ("17") or line name */
	bool active_low;
	bool initial;			/* level (logical) before the first pattern runs */
};

#define FG_FEEDBACK_STATES 19
struct fg_gpio_config {
	enum fg_gpio_backend backend;
	char *chip;			/* label ("pinctrl-bcm2711") or path ("/dev/gpiochip0") */
	struct fg_gpio_output_config status_led;
	struct fg_gpio_output_config alert_led;
	struct fg_gpio_output_config buzzer;
	char *ack_line;			/* NULL: no local acknowledge button */
	bool ack_active_low;
	enum fg_gpio_bias ack_bias;
	uint64_t ack_debounce_usec;
	/*
	 * What each feedback state shows ([gpio] <state>_pattern, pattern.h
	 * syntax), indexed by enum fg_feedback_state (feedback.h); NULL: the
	 * built-in default.
	 */
	char *patterns[FG_FEEDBACK_STATES];
};

#define FG_ESCALATION_LEVELS 3
struct fg_escalation_config {
	/* Time an alert stays open before level N+1; 0 disables that level. */
	uint64_t level_after_usec[FG_ESCALATION_LEVELS];
};

struct fg_health_config {
	char *heartbeat_url;		/* SECRET; NULL: no heartbeat */
	uint64_t heartbeat_interval_usec;
	unsigned low_battery_mv;
	unsigned battery_hysteresis_mv;
	uint64_t offline_after_usec;	/* 0: never */
	size_t *webhooks;		/* supervision alert targets (indexes) */
	size_t n_webhooks;
	size_t *test_webhooks;		/* told of routine test presses (indexes); none by default */
	size_t n_test_webhooks;
	uint64_t bluetoothd_gone_after_usec;
	uint64_t targets_failing_after_usec;
	unsigned spool_alarm;		/* spool depth that raises an alarm */
	uint64_t link_starved_after_usec; /* a button wanting a link this long raises an alarm */
	bool require_time_sync;
};

/* [system]: applied by the image's first-boot unit, ignored by the daemon. */
struct fg_system_config {
	char *hostname;
	char *timezone;
	char *wifi_country;
	char *wifi_ssid;
	char *wifi_passphrase;		/* SECRET */
	char *ssh_authorized_key;
	char *admin_password;		/* SECRET: plain text, hashed at boot */
	char *admin_password_hash;	/* SECRET */
};

struct fg_config {
	unsigned n_ref;			/* fg_config_ref()/fg_config_unref() */
	char *path;			/* file it was loaded from */
	struct fg_gateway_config gateway;
	struct fg_bluetooth_config bluetooth;
	struct fg_webhook_config *webhooks;
	size_t n_webhooks;
	struct fg_button_config *buttons;
	size_t n_buttons;
	struct fg_gpio_config gpio;
	struct fg_escalation_config escalation;
	struct fg_health_config health;
	struct fg_system_config system;
};

/* Every problem found in one load, each "file:line: section.key: message". */
struct fg_config_errors {
	char **messages;		/* NULL-terminated, owned by the struct */
	size_t n;
};
void fg_config_errors_clear(struct fg_config_errors *e);

/*
 * Parse @text (@len bytes, CRLF and a UTF-8 BOM accepted) as if read from
 * @filename. On success *ret is a new config owned by the caller
 * (fg_config_unref()). On any error returns -EINVAL, leaves *ret untouched
 * and appends every error found to @errors (which may be NULL).
 */
int fg_config_parse(const char *filename, const char *text, size_t len,
		    struct fg_config_errors *errors, struct fg_config **ret);

/*
 * Like fg_config_parse(), but on -EINVAL *ret is set too (when not -ENOMEM):
 * every value that was valid is in it, the refused ones are left unset. For
 * [system], which the image applies whatever else is wrong, so that the
 * network comes up for the operator to fix the rest.
 */
int fg_config_parse_partial(const char *filename, const char *text, size_t len,
			    struct fg_config_errors *errors, struct fg_config **ret);

/*
 * Problems of a valid configuration that a new install should hear about
 * (no [webhook], no [button]). *ret is a NULL-terminated strv owned by the
 * caller (fg_strv_free), NULL when there is nothing to say. 0 or -ENOMEM.
 */
int fg_config_warnings(const struct fg_config *c, char ***ret);

/*
 * Load @path, or when @path is NULL the first existing file of the search
 * path. -ENOENT when no file exists; unreadable files add an error.
 */
int fg_config_load(const char *path, struct fg_config_errors *errors,
		   struct fg_config **ret);
/* fg_config_load() by fg_config_parse_partial(): *ret set on -EINVAL too. */
int fg_config_load_partial(const char *path, struct fg_config_errors *errors,
			   struct fg_config **ret);

/*
 * A loaded config is reference-counted and never changes after loading: a
 * subsystem that keeps it past the call that handed it over takes a
 * reference (fg_config_ref() returns @c) and drops it with fg_config_unref()
 * when it switches to another one or is freed, so a reload can never leave
 * anyone with a freed config. unref accepts NULL and returns NULL.
 */
struct fg_config *fg_config_ref(struct fg_config *c);
struct fg_config *fg_config_unref(struct fg_config *c);

/*
 * Text generated from the option table (config-doc.c, pure): the effective
 * configuration as INI with secrets masked (flicgated --check-config), the
 * example conf/flicgate.ini and the man page docs/flicgate.ini.5. *ret is
 * NUL-terminated and owned by the caller (free()); -ENOMEM leaves it alone.
 */
int fg_config_format(const struct fg_config *c, char **ret);
int fg_config_format_example(char **ret);
int fg_config_format_man(char **ret);

/* The same, written to @f (config-load.c); nothing when out of memory. */
void fg_config_print(const struct fg_config *c, FILE *f);
void fg_config_write_example(FILE *f);
void fg_config_write_man(FILE *f);

/* Lookups; NULL when absent. Returned pointers live as long as @c. */
const struct fg_button_config *fg_config_button_by_address(const struct fg_config *c, const uint8_t addr[6]);
const struct fg_button_config *fg_config_button_by_serial(const struct fg_config *c, const char *serial);
const struct fg_button_config *fg_config_button_by_name(const struct fg_config *c, const char *name);
const struct fg_webhook_config *fg_config_webhook_by_name(const struct fg_config *c, const char *name);

/* Enum names as written in the file; NULL outside the enum. */
const char *fg_preset_to_string(enum fg_preset p);
const char *fg_pairing_policy_to_string(enum fg_pairing_policy p);
/* "err", "warning", "notice", "info", "debug" for FG_LOG_ERR .. FG_LOG_DEBUG, else NULL. */
const char *fg_config_log_level_to_string(int level);

/* Flic serial numbers: four letters/digits, '-', five or six letters/digits. */
bool fg_serial_is_valid(const char *s);
