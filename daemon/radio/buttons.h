/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "delivery/alert.h"
#include "config/config.h"
#include "radio/bluez.h"
#include "radio/flic2.h"

/*
 * The Flic 2 buttons of this gateway: one connection state machine per
 * button around one protocol engine (flic2.h), on top of the BlueZ
 * adapter (bluez.h), following the link policy of link-policy.h. Decides when to connect (a paired button that
 * advertises, a button in public mode while pairing is allowed), drives the
 * engine with notification bytes and deadlines, writes its packets, and
 * hands verified, de-duplicated button events to the owner. Keeps pairing
 * records and event de-duplication state on disk so that a restart of the
 * gateway reconnects with a quick verify and never reports an event twice.
 *
 * Pairing policy ([bluetooth] pairing): "window" pairs a button in public
 * mode only while a pairing window is open, one button per window; "listed"
 * also pairs, at any time, a button in public mode whose address is in a
 * [button NAME] section; "locked" never pairs. A button that is not in
 * public mode is never paired (the engine checks what the button says, too).
 *
 * A paired button without a [button] section is called "flic-<serial>"
 * (or "flic-<address>" before its serial is known). It is connected,
 * reported in status, and its presses are logged, but it opens no alert
 * until a section names it (docs/bluez.md).
 */

struct fg_buttons;

enum fg_button_state {
	FG_BUTTON_UNPAIRED,	/* configured but never paired with this gateway */
	FG_BUTTON_ASLEEP,	/* paired, no link: it connects when pressed or in range */
	FG_BUTTON_CONNECTING,	/* link being made (or waiting to be seen) */
	FG_BUTTON_VERIFYING,	/* link up: quick verify running */
	FG_BUTTON_PAIRING,	/* link up: full verify (pairing) running */
	FG_BUTTON_READY,	/* verified session: presses arrive now */
	FG_BUTTON_REPAIR_NEEDED, /* the button lost our pairing: pair it again */
	_FG_BUTTON_STATE_MAX,
};

const char *fg_button_state_to_string(enum fg_button_state s);

/*
 * What status, health and flicgatectl know about one button. The strings
 * belong to the button: they stay valid until it is renamed, unpaired or
 * forgotten, i.e. at least until control returns to the event loop.
 */
struct fg_button_status {
	const char *name;		/* [button NAME], its given name, or "flic-…" */
	bool configured;		/* a [button] section refers to it */
	bool paired;
	enum fg_button_state state;
	uint8_t address[6];
	const char *address_str;	/* "80:E4:DA:70:12:34" */
	const char *serial;		/* "" until known */
	char flic_name[24];		/* the name stored in the button, "" if none */
	uint32_t firmware;		/* 0: unknown */
	unsigned battery_mv;		/* 0: unknown */
	/* battery readings since start: supervision counts low readings, not reports */
	unsigned long battery_readings;
	bool has_rssi;
	int rssi;
	/* CLOCK_REALTIME µs; 0: never */
	uint64_t last_seen_usec;	/* advertisement, connection or press */
	uint64_t last_connected_usec;	/* last verified session */
	uint64_t last_press_usec;
	enum fg_gesture last_gesture;	/* _FG_GESTURE_INVALID if none */
	unsigned sessions;		/* verified sessions since start */
	unsigned connect_failures;	/* consecutive */
	unsigned long events;		/* button events delivered */
	unsigned long rejected;		/* packets rejected by the engine (forged, corrupt) */
	const char *last_error;		/* "" if none; lives until the next call */
	/* the link budget (link-budget.h) */
	bool keep_linked;		/* [button] keep_linked */
	bool kept;			/* among those held linked now */
	bool sleeping;			/* paired, no link: it wakes when pressed */
	bool link_wanted;		/* wants a link and has none (advertised, or no slot) */
};

enum fg_pairing_step {
	FG_PAIRING_WINDOW_OPENED,
	/*
	 * .detail: "paired", "failed" (its one attempt ended: .address and
	 * .name are that button's), "timeout", "closed", "locked"
	 */
	FG_PAIRING_WINDOW_CLOSED,
	FG_PAIRING_FOUND,		/* a button in public mode: .address */
	FG_PAIRING_VERIFYING,		/* connected, full verify running */
	FG_PAIRING_PAIRED,		/* .name, .address, .serial; the record is on disk */
	FG_PAIRING_FAILED,		/* .detail says why (also: paired, but not saved) */
	FG_PAIRING_REFUSED,		/* public-mode button ignored by policy: .detail */
	_FG_PAIRING_STEP_MAX,
};

const char *fg_pairing_step_to_string(enum fg_pairing_step s);

struct fg_pairing_report {
	enum fg_pairing_step step;
	const uint8_t *address;		/* NULL when not about one button */
	const char *name;		/* NULL if none */
	const char *serial;		/* NULL if unknown */
	const char *detail;		/* NULL if none */
	/*
	 * FOUND … FAILED: this is the pairing window's one attempt (not a
	 * listed button pairing on its own under "listed").
	 */
	bool by_window;
};

struct fg_button_loss {
	const char *name;		/* as in fg_button_status */
	const char *address_str;
	bool configured;		/* a [button] section refers to it */
	uint32_t presses;		/* presses lost, >= 1 */
	uint32_t boot_id;		/* the button boot of both counters */
	uint32_t last_count;		/* last event counter reported */
	uint32_t next_count;		/* the button's counter after the gap */
};

/*
 * Everything handed to a callback lives only during the call; @userdata is
 * the one given to fg_buttons_new().
 */
struct fg_buttons_ops {
	/*
	 * A gesture of a paired, configured button, verified and never
	 * reported before. Return 0 once it is durably handed on (spooled):
	 * only then is it acknowledged to the button. A negative errno keeps
	 * it queued in the button, which sends it again on the next link.
	 */
	int (*button_event)(struct fg_buttons *bs, const struct fg_button_config *button,
			    const struct fg_button_event *ev, void *userdata);
	/* The radio's state (bluetoothd, adapter, power). */
	void (*radio_changed)(struct fg_buttons *bs, enum fg_bluez_state state, const char *adapter,
			      void *userdata);
	/* A button was seen, connected, disconnected, its battery read, … */
	void (*button_changed)(struct fg_buttons *bs, const struct fg_button_status *st, void *userdata);
	/* Pairing window and pairing progress, for the control API. */
	void (*pairing)(struct fg_buttons *bs, const struct fg_pairing_report *rep, void *userdata);
	/* Links used, the budget or the sleeping buttons changed (fg_buttons_get_budget()). */
	void (*budget_changed)(struct fg_buttons *bs, void *userdata);
	/*
	 * Make a button's event counter (its de-duplication state, which
	 * goes with the events it covers) durable. 1: staged; the owner
	 * calls fg_buttons_counters_durable() when its flush is done, and
	 * until then the button's packets (its acknowledgement first) are
	 * held back. 0: durable already. A negative errno: not taken (the
	 * button is not acknowledged). NULL: pairings/<address>.events.
	 */
	int (*persist_counter)(struct fg_buttons *bs, const uint8_t address[6],
			       const struct fg_flic2_dedup *d, void *userdata);
	/*
	 * The durable counter of @address: 0 and *ret, or -ENOENT; then an
	 * older pairings/<address>.events is read and handed to
	 * persist_counter (moved; the file goes once it is durable).
	 */
	int (*load_counter)(struct fg_buttons *bs, const uint8_t address[6],
			    struct fg_flic2_dedup *ret, void *userdata);
	/*
	 * The button dropped presses it never delivered (a gap in its event
	 * counter, see flic2.h): a loss the owner must record and raise.
	 */
	void (*events_lost)(struct fg_buttons *bs, const struct fg_button_loss *loss, void *userdata);
};

/*
 * Load the pairings in <state_dir>, start following BlueZ on @bus.
 * Takes its own reference to @config (fg_config_ref()), dropped when
 * fg_buttons_set_config() switches or in fg_buttons_free(); the caller
 * keeps its own. @ops and @userdata must outlive the object.
 * *ret owned by the caller.
 */
int fg_buttons_new(sd_event *event, sd_bus *bus, struct fg_config *config,
		   const struct fg_buttons_ops *ops, void *userdata, struct fg_buttons **ret);
struct fg_buttons *fg_buttons_free(struct fg_buttons *bs);

/*
 * The counters persist_counter() staged are durable (@r = 0): the held
 * packets go out, acknowledging the events. A negative @r: they are held
 * in memory only, so nothing is acknowledged: the links of those buttons
 * are dropped and their sessions restart from the last durable counter,
 * and the buttons send the events again.
 */
void fg_buttons_counters_durable(struct fg_buttons *bs, int r);

/*
 * Switch to a reloaded configuration (names, policy, adapter). The switch
 * is whole and happens whatever is returned: a reference to @config is
 * taken and the one to the old configuration dropped, so the caller may
 * drop its own to the old one right after. A negative errno says what
 * could not be applied: -ENOMEM (a button could not be listed or
 * renamed), or an error from the trusted keys, which then stay the old
 * ones (they are copies, not pointers into the old configuration).
 */
int fg_buttons_set_config(struct fg_buttons *bs, struct fg_config *config);

/*
 * Open a pairing window for @duration_usec (0: [bluetooth] pairing_window).
 * It pairs at most one button: the first one in public mode that is not
 * otherwise allowed (listed) is tried, and the window closes when that
 * attempt ends (WINDOW_CLOSED "paired" or "failed") or the time is up. With
 * @name the button is called that until a [button] section names its
 * address or serial. Opening an open window restarts it. -EPERM when the
 * policy is "locked", -EINVAL for an invalid name (fg_pairing_name_is_valid()),
 * -EEXIST if @name is already a paired button's or a [button] section's.
 */
int fg_buttons_open_pairing_window(struct fg_buttons *bs, uint64_t duration_usec, const char *name);
/* -ENOENT if no window is open. */
int fg_buttons_close_pairing_window(struct fg_buttons *bs);
/* Time left (µs), 0 when closed. */
uint64_t fg_buttons_pairing_window_left(const struct fg_buttons *bs);

/*
 * Forget a button: its pairing record and dedup state are deleted, the
 * link dropped and BlueZ's device removed. @which is a name or an address.
 * -ENOENT if no paired button matches. A button that is the pairing
 * window's attempt ends it (FAILED, then WINDOW_CLOSED "failed").
 */
int fg_buttons_unpair(struct fg_buttons *bs, const char *which);

/*
 * Give a paired button that no [button] section names another name (as a
 * named pairing window would have). -ENOENT unknown or not paired, -EPERM
 * if a section names it (rename it there), -EINVAL invalid, -EEXIST taken.
 * The name is on disk when this returns 0; on failure nothing changed.
 */
int fg_buttons_rename(struct fg_buttons *bs, const char *which, const char *name);

/* Buttons known (paired, configured, or being paired), in a stable order. */
size_t fg_buttons_count(const struct fg_buttons *bs);
/* @i < fg_buttons_count(); fills *ret (strings live until the next call). */
void fg_buttons_get(const struct fg_buttons *bs, size_t i, struct fg_button_status *ret);
/* -ENOENT if unknown. @which: name or address. */
int fg_buttons_find(const struct fg_buttons *bs, const char *which, struct fg_button_status *ret);
/*
 * The button that [button] section @c names (@c from the configuration
 * last given); -ENOENT if none: never paired and no address to list it by.
 */
int fg_buttons_find_configured(const struct fg_buttons *bs, const struct fg_button_config *c,
			       struct fg_button_status *ret);

enum fg_bluez_state fg_buttons_radio_state(const struct fg_buttons *bs);
const char *fg_buttons_adapter(const struct fg_buttons *bs);

/* Totals for status, health and tests. */
struct fg_buttons_stats {
	unsigned paired;
	unsigned ready;			/* verified sessions up now */
	unsigned long events;		/* delivered to the owner */
	unsigned long events_unconfigured; /* presses of buttons without a section */
	unsigned long events_held;	/* handed back unacknowledged (owner failed) */
	unsigned long events_lost;	/* presses the buttons dropped (counter gaps) */
	unsigned long rejected;		/* packets the engines rejected */
	unsigned long pairings;		/* successful pairings since start */
	unsigned long pairing_failures;
	unsigned long refused;		/* public-mode buttons ignored by policy */
	struct fg_bluez_stats radio;
};
void fg_buttons_get_stats(const struct fg_buttons *bs, struct fg_buttons_stats *ret);

/* The link budget now ([bluetooth] max_links; docs/bluez.md "The link budget"). */
struct fg_buttons_budget {
	unsigned links_used;		/* paired buttons linked now */
	unsigned link_budget;		/* max_links (auto resolved); one is kept free */
	unsigned sleeping;		/* paired buttons without a link */
	unsigned waiting;		/* ...of which want one now */
};
void fg_buttons_get_budget(const struct fg_buttons *bs, struct fg_buttons_budget *ret);

/*
 * Pairing records of every paired button as one text document
 * (pairing-export.h), for a hot-spare gateway to take over without
 * re-pairing a building. *ret is malloc'd, NUL-terminated, owned by the
 * caller and holds SECRET keys: wipe it before free(). *ret_count: buttons
 * in it.
 */
int fg_buttons_export(struct fg_buttons *bs, char **ret, unsigned *ret_count);
/*
 * Store and use the records in @doc (@len bytes, from fg_buttons_export()).
 * A button already paired takes the imported record (its name and counter
 * too); with @replace, paired buttons not in @doc are unpaired. Every
 * record is checked first, then the files are written: if one write fails
 * the ones before are put back, so the store holds either the old or the
 * new state, never a mix. Imported buttons connect with a quick verify.
 *
 * -EBADMSG: @doc is no complete, undamaged export; -EEXIST: a name in it
 * is a [button] section's or another button's here. Then nothing changed,
 * and @why (@why_size bytes) says what is wrong, with the line if any.
 */
int fg_buttons_import(struct fg_buttons *bs, const char *doc, size_t len, bool replace, char *why,
		      size_t why_size, unsigned *ret_count);
