/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

/*
 * The control API on D-Bus (docs/dbus-api.md): one Gateway object, one
 * Button object per known button, an ObjectManager over both.
 *
 * This module owns only the D-Bus side. Everything it shows or does comes
 * from a provider: a table of callbacks the manager fills in, every one
 * of them required, so no subsystem has to know about D-Bus. When
 * something changes, the owner
 * calls the fg_api_*_changed() / fg_api_pairing_progress() /
 * fg_api_delivery() notifiers below, which emit the signals.
 *
 * Methods that change something are allowed to root, to the daemon's own
 * user and to members of group "flicgate" (FG_DBUS_OPERATOR_GROUP); the
 * caller is checked here in addition to the bus policy, so a permissive
 * bus configuration opens nothing. The check never blocks: a caller's
 * credentials are asked of the bus asynchronously (the call waits,
 * unanswered, meanwhile) and the verdict is kept per unique name
 * (docs/dbus-api.md, "Who may call, without blocking").
 * Properties, introspection, GetManagedObjects and GetButton are open to
 * everyone the bus lets through.
 */

struct fg_api;

/* Error codes; each maps to one D-Bus error name (the table in api-errors.c). */
enum fg_api_errcode {
	FG_API_OK,
	FG_API_ERR_FAILED,
	FG_API_ERR_NOT_AVAILABLE,
	FG_API_ERR_NOT_AUTHORIZED,
	FG_API_ERR_INVALID_ARGUMENT,
	FG_API_ERR_UNKNOWN_BUTTON,
	FG_API_ERR_UNKNOWN_TARGET,
	FG_API_ERR_BUSY,
	FG_API_ERR_PAIRING_LOCKED,
	FG_API_ERR_NOT_PAIRED,
	FG_API_ERR_CONFIGURED,
	FG_API_ERR_NAME_TAKEN,
	FG_API_ERR_CONFIG_REJECTED,
	FG_API_ERR_BAD_PAIRING_FILE,
	_FG_API_ERR_MAX,
};

/* How a provider callback explains a failure to the caller. */
struct fg_api_error {
	enum fg_api_errcode code;
	char message[1024];
};

/*
 * Fill @e and return the negative errno that goes with @code, so a
 * callback can "return fg_api_error_set(e, FG_API_ERR_BUSY, "…");".
 * A callback that returns -errno without setting @e gets a generic
 * Error.Failed (Error.NotAvailable for -EOPNOTSUPP) with strerror().
 */
int fg_api_error_set(struct fg_api_error *e, enum fg_api_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "io.github.flicgate1.Error.Busy"; NULL for FG_API_OK. Static storage. */
const char *fg_api_error_name(enum fg_api_errcode code);

/* FG_API_FEATURE_*: which subsystems this build runs (Gateway.Features). */
enum {
	FG_API_FEATURE_BLUETOOTH = 1 << 0,	/* "bluetooth": BlueZ adapter, links, pairing */
	FG_API_FEATURE_DELIVERY = 1 << 1,	/* "delivery": alert pipeline, spool, targets */
	FG_API_FEATURE_FEEDBACK = 1 << 2,	/* "feedback": LEDs, buzzer, acknowledge */
	FG_API_FEATURE_PAIRING_STORE = 1 << 3,	/* "pairing-store": persisted pairings */
};

/*
 * Strings in the records below are borrowed from the provider: they must
 * stay valid until control returns to the event loop. "" means unknown.
 */
struct fg_api_gateway {
	const char *name;		/* [gateway] name */
	const char *config_path;
	uint64_t start_time_usec;	/* CLOCK_REALTIME */
	unsigned features;		/* FG_API_FEATURE_* */
	const char *adapter;		/* "hci0"; "" without one */
	const char *adapter_state;	/* "ready", "powered-off", …; "" unknown */
	const char *pairing_policy;	/* "window", "listed", "locked" */
	bool pairing_open;
	uint64_t pairing_end_usec;	/* CLOCK_REALTIME end of the open window, else 0 */
	uint64_t spool_depth;
	bool spool_alarm;
	uint64_t dead_letters;
	size_t n_targets;		/* then get_target(0 … n_targets - 1) */
	/* the link budget ([bluetooth] max_links) */
	uint32_t links_used;		/* buttons linked now */
	uint32_t link_budget;		/* max_links; one is kept free */
	uint32_t sleeping_buttons;	/* paired buttons without a link */
};

struct fg_api_target {
	const char *name;
	const char *health;		/* "healthy", "failing", "unhealthy", "orphaned" */
	uint64_t queued;
	uint64_t delivered;
	uint64_t dead;
	int32_t last_status;		/* last HTTP status, 0 none */
	const char *last_error;
};

struct fg_api_button {
	/*
	 * Stable identity, the last element of the object path (escaped with
	 * sd_bus_path_encode()). The provider chooses it: the [button] name
	 * for configured buttons.
	 */
	const char *id;
	const char *name;
	const char *serial;
	bool has_address;
	uint8_t address[6];		/* big endian, as printed */
	bool configured;		/* has a [button NAME] section */
	bool paired;			/* a pairing record is stored */
	bool connected;
	uint64_t last_seen_usec;	/* CLOCK_REALTIME; 0 never */
	bool has_rssi;
	int16_t rssi;			/* dBm */
	uint16_t battery_mv;		/* 0 unknown */
	uint32_t firmware;		/* 0 unknown */
	const char *last_event;		/* gesture name ("click", …); "" none */
	uint64_t last_event_usec;	/* CLOCK_REALTIME; 0 none */
	const char *alert_state;	/* "closed", "open"; "" unknown */
	bool keep_linked;		/* [button] keep_linked */
	bool sleeping;			/* paired, no link: wakes when pressed */
};

struct fg_api_delivery {
	uint64_t time_usec;		/* CLOCK_REALTIME, when the attempt ended */
	const char *alert_id;
	const char *button;
	const char *target;
	const char *state;		/* "on", "off" */
	bool test;
	const char *result;		/* "delivered", "retry", "rejected", … */
	int32_t http_status;		/* 0: none (transport error) */
	const char *error;
	uint64_t latency_usec;
	uint32_t attempt;
};

struct fg_api_supervision {
	bool test_window_open;
	uint64_t test_window_end_usec;	/* CLOCK_REALTIME; 0 when closed */
	const char *test_window_button;	/* "" every button */
	char **alarms;			/* open supervision alarms' names; owned by the caller */
	uint64_t heartbeats_sent;
	uint64_t heartbeats_failed;
};

struct fg_api_button_supervision {
	uint64_t last_seen_usec;	/* CLOCK_REALTIME, kept across restarts; 0 never */
	uint16_t battery_mv;		/* last reading, kept across restarts; 0 unknown */
	int32_t battery_percent;	/* an estimate; -1 unknown */
	bool battery_low;		/* its <name>-battery alarm is open */
	bool not_seen;			/* its <name>-offline alarm is open */
	uint64_t last_test_usec;	/* CLOCK_REALTIME of the last routine test press; 0 never */
};

/* One audit trail record (core/audit.h), strings borrowed for the call. */
struct fg_api_audit_record {
	uint64_t time_usec;		/* CLOCK_REALTIME */
	const char *event;		/* "press", "delivered", … */
	const char *button;
	const char *alert_id;
	const char *target;
	uint64_t latency_usec;
	uint64_t since_press_usec;	/* 0: unknown */
	const char *detail;
};

enum fg_api_pairing_stage {
	FG_API_PAIRING_SCANNING,	/* window open, looking for a button in pairing mode */
	FG_API_PAIRING_FOUND,		/* a button in pairing mode was seen */
	FG_API_PAIRING_VERIFYING,	/* connected, checking it is a genuine Flic 2 */
	FG_API_PAIRING_PAIRED,		/* keys agreed */
	FG_API_PAIRING_SAVED,		/* record written to state; the window closes */
	FG_API_PAIRING_FAILED,		/* the window closes */
	FG_API_PAIRING_TIMEOUT,		/* nothing paired in time; the window closes */
	FG_API_PAIRING_CLOSED,		/* closed on request */
	_FG_API_PAIRING_STAGE_MAX,
};
const char *fg_api_pairing_stage_to_string(enum fg_api_pairing_stage s);

/*
 * Callbacks, all required (fg_api_new() refuses a provider that lacks
 * one). @userdata, last, is fg_api_provider.userdata. Each returns 0 or a
 * negative errno; on failure it may explain itself in @err (see above).
 * Lookups by @id get the id of a button the provider listed.
 */
struct fg_api_provider {
	void *userdata;			/* must outlive the fg_api */

	/* required */
	void (*get_gateway)(struct fg_api_gateway *ret, void *userdata);
	size_t (*n_buttons)(void *userdata);
	/* i < n_buttons(); -ENOENT if the list changed meanwhile */
	int (*button_at)(size_t i, struct fg_api_button *ret, void *userdata);
	/* -ENOENT if unknown */
	int (*button_by_id)(const char *id, struct fg_api_button *ret, void *userdata);

	int (*get_target)(size_t i, struct fg_api_target *ret, void *userdata);
	/* i < n_deliveries(); 0 is the newest */
	size_t (*n_deliveries)(void *userdata);
	int (*delivery_at)(size_t i, struct fg_api_delivery *ret, void *userdata);

	int (*reload)(struct fg_api_error *err, void *userdata);
	/*
	 * Open a window that pairs at most one button. @timeout_usec 0: the
	 * configured length. @name ("" none) names the button it pairs.
	 * Progress is reported with fg_api_pairing_progress(), starting with
	 * SCANNING and ending with one of SAVED, FAILED, TIMEOUT, CLOSED.
	 */
	int (*open_pairing)(uint64_t timeout_usec, const char *name,
			    struct fg_api_error *err, void *userdata);
	int (*close_pairing)(struct fg_api_error *err, void *userdata);
	/* @button_id, @target: NULL for none (the pipeline's defaults) */
	int (*test_alert)(const char *button_id, const char *target,
			  struct fg_api_error *err, void *userdata);
	/* Silence local feedback; *ret_silenced: whether anything was on. */
	int (*acknowledge)(bool *ret_silenced, struct fg_api_error *err, void *userdata);
	int (*unpair)(const char *id, struct fg_api_error *err, void *userdata);
	/* @name was checked with fg_name_is_valid() */
	int (*rename)(const char *id, const char *name, struct fg_api_error *err, void *userdata);
	/* *ret_document: malloc'd text owned by the caller (it holds SECRETS) */
	int (*export_pairings)(char **ret_document, unsigned *ret_count,
			       struct fg_api_error *err, void *userdata);
	int (*import_pairings)(const char *document, bool replace,
			       unsigned *ret_count, struct fg_api_error *err, void *userdata);

	/* ---- supervision (docs/supervision.md) ---- */
	/* The Gateway's supervision properties; ret->alarms is the caller's (fg_strv_free). */
	void (*get_supervision)(struct fg_api_supervision *ret, void *userdata);
	/* One button's supervision properties; -ENOENT: not supervised (not configured). */
	int (*button_supervision)(const char *id, struct fg_api_button_supervision *ret, void *userdata);
	/*
	 * Every mapped gesture of @button_id (NULL: of every button) is a
	 * routine test until the window closes. @timeout_usec 0: the default.
	 */
	int (*open_test_window)(uint64_t timeout_usec, const char *button_id,
				struct fg_api_error *err, void *userdata);
	int (*close_test_window)(struct fg_api_error *err, void *userdata);
	/*
	 * The audit trail between @since_usec and @until_usec (CLOCK_REALTIME),
	 * oldest first: @cb once per record (as fg_audit_read() gives them; it
	 * returns < 0 to stop). *ret_skipped: damaged lines skipped.
	 */
	int (*export_audit)(uint64_t since_usec, uint64_t until_usec,
			    int (*cb)(const struct fg_api_audit_record *r, void *cb_userdata),
			    void *cb_userdata, unsigned *ret_skipped, struct fg_api_error *err, void *userdata);
};

/*
 * Register the objects on @bus (a reference is taken). @provider is
 * copied; -EINVAL when a callback is missing. @operator_gid: members
 * may call methods; (gid_t)-1 for none.
 * *ret owned by the caller: fg_api_free().
 */
int fg_api_new(sd_bus *bus, const struct fg_api_provider *provider, gid_t operator_gid,
	       struct fg_api **ret);
/*
 * Unregisters everything; calls still waiting for their caller's
 * credentials are dropped unanswered. Accepts NULL; returns NULL.
 */
struct fg_api *fg_api_free(struct fg_api *a);

/*
 * Notifiers. Each accepts a NULL @a (no API) and never fails the caller:
 * a signal that cannot be sent is logged at debug level.
 */
/* Gateway properties changed (PropertiesChanged with the current values). */
void fg_api_gateway_changed(struct fg_api *a);
/* LinksUsed, LinkBudget, SleepingButtons changed (PropertiesChanged on those). */
void fg_api_budget_changed(struct fg_api *a);
/*
 * One button's properties changed: PropertiesChanged on it (every
 * property, current values) and on the Gateway's Buttons,
 * ConnectedButtons and OpenAlerts, which are derived from the buttons.
 * If the provider now lists an @id it did not before, or no longer lists
 * it, this is fg_api_buttons_changed() (InterfacesAdded/Removed); an @id
 * it neither lists nor listed is ignored.
 */
void fg_api_button_changed(struct fg_api *a, const char *id);
/*
 * The set of buttons may have changed (reload, pairing, unpair): emits
 * InterfacesRemoved/InterfacesAdded for the difference, PropertiesChanged
 * for the buttons that stay, and the Gateway's button counters.
 */
void fg_api_buttons_changed(struct fg_api *a);
/*
 * Pairing progress: the PairingProgress signal. @address, @button and
 * @message may be NULL. The stages that end a window also refresh the
 * Gateway's PairingWindowOpen/PairingWindowEnd.
 */
void fg_api_pairing_progress(struct fg_api *a, enum fg_api_pairing_stage stage,
			     const char *address, const char *button, const char *message);
/* One delivery attempt ended: the Delivery signal. */
void fg_api_delivery(struct fg_api *a, const struct fg_api_delivery *d);
