/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the buttons-*.c files share: the button and the owner struct, and
 * each file's functions for the others. The files form layers, each calling
 * only those listed before it: table, link, pairing, session, budget, then
 * radio, records and buttons.c (creation, configuration, getters).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "radio/bluez.h"
#include "radio/buttons.h"
#include "radio/flic2.h"
#include "radio/link-budget.h"
#include "radio/link-policy.h"
#include "radio/pairing-export.h"
#include "radio/pairing.h"
#include "radio/scan-policy.h"
#include "lib/timeutil.h"

/* "Seen" alone is reported to the owner at most this often per button. */
#define SEEN_REPORT_USEC	(30 * FG_USEC_PER_SEC)

struct button {
	struct button *next;
	struct fg_buttons *bs;
	uint8_t address[6];
	char addr_str[18];
	char *alias;			/* name given when paired in a named window */
	const struct fg_button_config *cfg;
	char *display;			/* what logs and status call it */

	/* pairing */
	bool paired;
	struct fg_flic2_pairing rec;	/* SECRET key inside; valid if paired */
	struct fg_flic2_dedup dedup;	/* the engine's latest */
	bool dedup_dirty;		/* not yet handed on to be stored */
	struct fg_flic2_dedup dedup_staged;	/* handed on, its flush to come */
	struct fg_flic2_dedup dedup_durable;	/* the latest one on disk */
	bool awaiting;			/* packets wait for the owner's flush */
	bool counter_file;		/* pairings/<addr>.events goes once the journal has it */
	struct held_write *held;	/* packets held until the flush, in order */
	size_t n_held;
	bool pairing;			/* a full verify is wanted or running */
	bool by_window;			/* ...as the one attempt of the pairing window */
	char *window_alias;		/* the name that window gives it, or NULL */
	bool repair_needed;

	/* the link and the session */
	struct fg_flic2 *engine;
	enum fg_bluez_link link;
	struct fg_link lp;		/* when to connect, backoff (link-policy.h) */
	bool verified;			/* this link reached a verified session */
	sd_event_source *deadline;	/* the engine's next deadline */
	sd_event_source *retry;		/* backoff before the next attempt */

	/* status */
	unsigned failures;		/* consecutive failed attempts */
	bool has_rssi;
	int rssi;
	unsigned battery_mv;
	unsigned long battery_readings;
	uint64_t last_seen;		/* CLOCK_REALTIME */
	uint64_t last_connected;
	uint64_t last_press;
	uint64_t last_seen_reported;	/* CLOCK_MONOTONIC */
	enum fg_gesture last_gesture;
	unsigned sessions;
	unsigned long events;
	unsigned long rejected;
	char last_error[160];

	/* the link budget (buttons-budget.c); CLOCK_MONOTONIC */
	uint64_t last_press_mono;	/* when its last press arrived; 0: none yet */
	uint64_t verified_mono;		/* when its last session was verified */
	uint64_t wanted_since;		/* wants a link and has none since; 0: not */
	uint64_t wanted_seen;		/* ...and said so last then (advertised, refused) */
	bool refused;			/* its connect failed for lack of a controller slot */
	uint64_t freed_at;		/* when we last disconnected it to free a slot; 0: never */
	bool leaving;			/* disconnected to free a slot, the link not down yet */
	bool kept;			/* among those held linked */
	uint16_t auto_disconnect_s;	/* the budget's choice; 0: none yet (never) */
};

/* A packet held back until the events it acknowledges are durable. */
struct held_write {
	uint8_t data[FG_FLIC2_WRITE_MAX];
	size_t len;
};

struct fg_buttons {
	sd_event *event;
	sd_bus *bus;
	struct fg_config *cfg;		/* our reference (fg_config_ref()) */
	const struct fg_buttons_ops *ops;
	void *userdata;
	struct fg_bluez *bz;
	struct fg_pairing_store *store;	/* <state_dir>/pairings: records and dedup state */
	char *names_path;		/* <state_dir>/button-names: names given at pairing */

	/* identity keys a certificate may be signed by: Flic's and the config's */
	uint8_t (*keys)[32];
	size_t n_keys;

	struct button *buttons;
	size_t n_buttons;

	/* public-mode buttons refused lately: log and btn_report each once a while */
	struct fg_refusals refused;

	/* pairing window: pairs at most one button */
	struct fg_pairing_window pw;
	sd_event_source *window_timer;
	char *window_name;

	struct fg_buttons_stats stats;

	/* the link budget (buttons-budget.c) */
	unsigned max_links;		/* [bluetooth] max_links, auto resolved */
	struct fg_budget_summary budget;
	sd_event_source *budget_timer;
	bool budget_running;		/* carrying out a plan */
};

/* buttons-table.c: the table, names, status, reports, records on disk */
uint64_t btn_now(const struct fg_buttons *bs);
enum fg_button_state btn_state(const struct button *b);
int btn_rename(struct button *b);
void btn_fill_status(const struct button *b, struct fg_button_status *st);
void btn_scan_update(struct fg_buttons *bs);
void btn_report(struct button *b);
void btn_report_pairing(struct fg_buttons *bs, enum fg_pairing_step step, const struct button *b,
			   const char *detail);
void btn_set_error(struct button *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct button *btn_find_by_address(const struct fg_buttons *bs, const uint8_t a[6]);
struct button *btn_find_by_name(const struct fg_buttons *bs, const char *name);
const struct fg_button_config *btn_config_by_name(const struct fg_config *c, const char *name);
struct button *btn_new(struct fg_buttons *bs, const uint8_t address[6]);
void btn_free(struct button *b);
void btn_remove(struct button *b);
void btn_maybe_forget(struct button *b);
bool btn_among(const struct fg_pairing_export_entry *e, size_t n, const uint8_t address[6]);
int btn_write_names(struct fg_buttons *bs, bool importing, const struct fg_pairing_export_entry *imp,
		       size_t n, bool replace);
int btn_save_names(struct fg_buttons *bs);
int btn_load_names(struct fg_buttons *bs);
int btn_save_record(struct button *b);
/*
 * Hand a new counter on to be stored: 0 durable now (or nothing to do),
 * 1 b->awaiting (the owner's flush to come), -errno not taken.
 */
int btn_flush_dedup(struct button *b);
/* Hold a packet until the flush; forget the held ones (the link ended). */
int btn_hold_write(struct button *b, const uint8_t *data, size_t len);
void btn_drop_held(struct button *b);
int btn_engine(struct button *b, enum fg_flic2_mode mode);
bool btn_wants_link(const struct button *b);
void btn_resolve_all(struct fg_buttons *bs);
int btn_sync_config(struct fg_buttons *bs);
int btn_load_pairings(struct fg_buttons *bs);

/* buttons-link.c: carrying out the link policy */
struct fg_link_input btn_link_input(const struct button *b);
void btn_link_drain(struct button *b);
void btn_connect(struct button *b, bool foreground, bool kick);
void btn_cancel_retry(struct button *b);

/* buttons-pairing.c: the pairing window and pairing attempts */
void btn_pairing_attempt_over(struct button *b, const char *why);
void btn_start_pairing(struct button *b, bool by_window);
void btn_window_close(struct fg_buttons *bs, const char *why, const struct button *attempt);

/* buttons-session.c: the engine glue */
void btn_arm_deadline(struct button *b);
void btn_on_failed(struct button *b, enum fg_flic2_failure reason, uint8_t detail);
void btn_on_events_lost(struct button *b, const struct fg_flic2_events_lost *l);
void btn_drain(struct button *b);
/* Its events could not be stored: not acknowledged, the session restarts. */
void btn_not_durable(struct button *b, int r);

/* buttons-budget.c: carrying out the link budget */
void btn_budget_resolve(struct fg_buttons *bs);
void btn_budget_update(struct fg_buttons *bs);
void btn_budget_refused(struct button *b);
void btn_budget_wanted(struct button *b);
void btn_budget_linked(struct button *b);
void btn_budget_link_down(struct button *b);

/* buttons-radio.c: BlueZ callbacks */
extern const struct fg_bluez_ops btn_bluez_ops;
