/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Shared inside one emulated button only (button*.c): its state and the
 * functions its files call each other by. The files, lowest first:
 *   button-fault.c     pending faults, injected through the control API
 *   button-output.c    notifications out: framing, MACs, faults, latency
 *   button-session.c   the logical session: end, idle auto-disconnect, pings
 *   button-pairing.c   what the button remembers: pairings, factory reset
 *   button-verify.c    full verify, quick verify, TestIfReallyUnpaired
 *   button-events.c    the event queue: counters, live events, replay, acks
 *   button-dispatch.c  the client's writes: packets by session state
 *   button-physical.c  presses and gestures, public mode, advertising, range
 *   button.c           life cycle, the BLE link, queries, state for GetButton
 * Each calls only files above it in this list.
 */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "button-proto.h"
#include "button.h"
#include "chaskey.h"
#include "lib/timeutil.h"

#define MAX_PAIRINGS	8	/* pairings a button remembers */
#define MAX_QUEUE	512	/* unacknowledged events kept */
#define MAX_ITEMS	16	/* event items in one notification */
#define CONN_ID		1	/* the logical connection id we hand out */
#define REORDER_HOLD_USEC (200 * FG_USEC_PER_MSEC)
#define SCRIPT_MAX	8

/*
 * Advertising of a button nobody set SetAdvParametersRequest on: the public
 * sources do not give the firmware's defaults, so these are chosen (see
 * docs/simulator.md): 100 ms for the first 5 s (what flic2lib-c-module asks
 * for that phase), then 1 s; intervals in 0.625 ms units.
 */
#define ADV_DEFAULT_INTERVAL0	160
#define ADV_DEFAULT_INTERVAL1	1600
#define ADV_FAST_PHASE_USEC	(5 * FG_USEC_PER_SEC)	/* adv_intervals[0] lasts this long */
#define ADV_INTERVAL_MIN	32	/* 20 ms */
#define ADV_INTERVAL_MAX	16384	/* 10.24 s */
#define ADV_PARAMS_LEN		13	/* SetAdvParametersRequest without its MAC */

enum session_state {
	SESSION_NONE,
	SESSION_WAIT_FULL_VERIFY_2,	/* FullVerifyResponse1 sent */
	SESSION_ESTABLISHED,
};

struct pairing {
	uint32_t id;
	uint8_t key[16];
	uint64_t seq;		/* age, to evict the oldest */
};

/* One ATT value on its way to the client, with the events it carries. */
struct out {
	struct out *next;
	uint8_t att[FS_MAX_PACKET + 1];
	size_t len;
	struct fs_event_item evs[MAX_ITEMS];
	size_t n_evs;
	bool queued;
};

/* What a client set with SetAdvParametersRequest; kept until the next boot. */
struct adv_params {
	bool set;
	bool short_range, long_range;
	uint16_t interval[2];	/* 0.625 ms units */
	uint32_t timeout_s;
};

struct script_step {
	uint32_t at_ms;
	bool down;
};

struct fs_button {
	sd_event *event;
	const struct fs_button_ops *ops;
	void *userdata;
	struct fs_button_config cfg;
	char address[18];
	struct fs_identity id;

	/* identity that changes at a factory reset */
	uint32_t boot_id;
	uint64_t boot_usec;
	struct pairing pairings[MAX_PAIRINGS];
	size_t n_pairings;
	uint64_t pairing_seq;
	uint64_t name_timestamp_ms;

	/* physical */
	bool public_mode;
	bool adv_after_press;
	bool adv_reconnect;
	sd_event_source *public_timer;
	sd_event_source *adv_timer;
	struct adv_params advp;
	uint64_t adv_start_usec;	/* this advertising period began */
	uint64_t adv_phase_usec;	/* its first advertising event, after the start */
	uint64_t adv_until_usec;	/* private advertising ends */
	uint64_t adv_heard_usec;	/* the controller last acted on an advert */

	/* gesture engine */
	bool pressed, second_press, hold_fired, click_pending;
	sd_event_source *hold_timer, *single_timer, *script_timer;
	struct script_step script[SCRIPT_MAX];
	size_t n_script, script_pos;
	uint64_t script_start;

	/* events */
	uint32_t event_count;
	struct fs_event_item *queue;
	size_t n_queue;

	/* link and logical session */
	bool linked;
	uint64_t linked_usec;		/* link up since (CLOCK_MONOTONIC) */
	bool save_battery_disconnect;
	uint16_t mtu;
	struct fs_rx_frame rx;
	enum session_state state;
	bool quick;			/* session came from quick verify */
	uint32_t tmp_id;
	uint8_t button_random[8];
	struct fs_chaskey keys;
	uint64_t tx_counter, rx_counter;
	bool events_ready;		/* InitButtonEvents done */
	uint32_t auto_disconnect_s;
	sd_event_source *idle_timer, *ping_timer;
	bool ping_outstanding;

	/* output */
	struct out *out_head, *out_tail;
	struct out *held;		/* reorder fault */
	sd_event_source *flush_timer, *held_timer;

	uint32_t faults[_FS_FAULT_MAX];

	struct {
		uint64_t rx_packets, rx_bad_mac, tx_notifications;
		uint64_t tx_undelivered, events, events_live, events_queued;
		uint64_t full_verify_ok, full_verify_fail, quick_verify_ok;
		uint64_t quick_verify_negative, links, faults_applied;
		uint64_t adv_params_set, adv_params_rejected;
		uint64_t no_slots;	/* verify requests refused: the slot was taken */
	} stats;
};
/* --- small helpers ----------------------------------------------------------- */

static inline uint64_t now_usec(struct fs_button *b)
{
	uint64_t t = 0;

	sd_event_now(b->event, CLOCK_MONOTONIC, &t);
	return t;
}

/* The button's own clock: 32768 Hz since its boot (or factory reset). */
static inline uint64_t button_ticks(struct fs_button *b)
{
	uint64_t d = now_usec(b) - b->boot_usec;

	return d * FS_BUTTON_TICKS_PER_SEC / FG_USEC_PER_SEC;
}

static inline int arm(struct fs_button *b, sd_event_source **s, uint64_t usec,
		      sd_event_time_handler_t cb)
{
	*s = sd_event_source_disable_unref(*s);
	return sd_event_add_time_relative(b->event, s, CLOCK_MONOTONIC, usec,
					  FG_USEC_PER_MSEC / 2, cb, b);
}

static inline void disarm(sd_event_source **s)
{
	*s = sd_event_source_disable_unref(*s);
}

/* It advertises (public mode, after a press, after a lost link). */
static inline bool advertising(const struct fs_button *b)
{
	return b->public_mode || (!b->linked && (b->adv_after_press || b->adv_reconnect));
}

static inline void adv_changed(struct fs_button *b)
{
	if (b->ops->adv_changed)
		b->ops->adv_changed(b, b->userdata);
}

static inline uint16_t battery_level(uint16_t mv)
{
	/* Reported as a 10-bit ADC value: mV = level * 3600 / 1024. */
	uint32_t l = ((uint32_t)mv * 1024 + 1800) / 3600;

	return l > 1023 ? 1023 : (uint16_t)l;
}

/* --- button-output.c ----------------------------------------------------------
 * Packets to the client, split into ATT values for the link's MTU and
 * queued for the button's latency; -ENOTCONN without a link. */
int btn_send_packet_events(struct fs_button *b, uint8_t header,
			   const uint8_t *pkt, size_t len,
			   const struct fs_event_item *evs, size_t n_evs,
			   bool queued);
int btn_send_unsigned(struct fs_button *b, uint8_t header,
		      const uint8_t *pkt, size_t len);
/* Signs with the session key; @pkt must have room for the MAC after @len. */
int btn_send_signed_events(struct fs_button *b, uint8_t *pkt, size_t len,
			   const struct fs_event_item *evs, size_t n_evs,
			   bool queued);
int btn_send_signed(struct fs_button *b, uint8_t *pkt, size_t len);
/* Sends what is queued now, without waiting for the latency. */
void btn_flush(struct fs_button *b);
/* Forgets everything queued (the link went down). */
void btn_drop_output(struct fs_button *b);

/* --- button-session.c ------------------------------------------------------- */
void btn_end_session(struct fs_button *b);
void btn_session_established(struct fs_button *b, bool quick);
/* Sends DisconnectedVerifiedLinkInd and ends the session. */
void btn_disconnect_verified_link(struct fs_button *b, uint8_t reason);
/* (Re)starts the auto-disconnect timer the client asked for. */
void btn_restart_idle(struct fs_button *b);

/* --- button-pairing.c ------------------------------------------------------- */
/* NULL when the button does not know @id. */
struct pairing *btn_find_pairing(struct fs_button *b, uint32_t id);
/* Adds or replaces a pairing; the oldest goes when all slots are taken. */
void btn_store_pairing(struct fs_button *b, uint32_t id, const uint8_t key[16]);
void btn_factory_reset(struct fs_button *b);

/* --- button-verify.c: handlers of the verify requests (@p: the packet) ---- */
void btn_handle_full_verify_1(struct fs_button *b, const uint8_t *p, size_t len);
void btn_handle_full_verify_2(struct fs_button *b, const uint8_t *p, size_t len);
void btn_handle_test_unpaired(struct fs_button *b, const uint8_t *p, size_t len);
void btn_handle_quick_verify(struct fs_button *b, const uint8_t *p, size_t len);
void btn_refuse_logical_connection(struct fs_button *b, const uint8_t *p, size_t len);

/* --- button-events.c ---------------------------------------------------------- */
/* A new event (FS_EVT_*): queued, and sent at once when the session is ready. */
void btn_emit_event(struct fs_button *b, uint8_t enc);
void btn_handle_init_events(struct fs_button *b, const uint8_t *p, size_t len);
void btn_handle_ack(struct fs_button *b, uint32_t count);

/* --- button-physical.c ---------------------------------------------------------- */
/* Private advertising for @duration_usec more (a press, a lost link). */
void btn_adv_start(struct fs_button *b, uint64_t duration_usec);
/* How long the button advertises after losing its link. */
uint64_t btn_reconnect_adv_usec(const struct fs_button *b);
