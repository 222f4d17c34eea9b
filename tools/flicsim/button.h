/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

/*
 * One emulated Flic 2 button: the physical side (presses with the button's
 * own 32768 Hz clock, public mode, advertising, battery, range) and the
 * button side of the protocol session on a BLE link (full verify, quick
 * verify, events, queued events, acks, battery, name, auto-disconnect,
 * factory reset), plus fault injection on what it sends.
 *
 * The BLE link itself belongs to bluez-sim.c, which calls fs_button_link_up()
 * / _link_down() / _att_write() and receives notifications through the ops.
 */

struct fs_button;

enum fs_fault {
	FS_FAULT_DROP,		/* drop the next notification */
	FS_FAULT_CORRUPT,	/* flip a bit in the next notification */
	FS_FAULT_DUPLICATE,	/* send the next notification twice */
	FS_FAULT_REORDER,	/* swap the next notification with the one after */
	FS_FAULT_BAD_MAC,	/* wrong MAC on the next signed packet */
	FS_FAULT_SLOW_CONNECT,	/* the next Connect() takes slow_connect_ms */
	FS_FAULT_BAD_ADDRESS,	/* the next certificate is another button's */
	FS_FAULT_SILENT_CONNECT, /* the next link up is not signalled (Connected reads true) */
	FS_FAULT_NO_RESOLVE,	/* services never resolve on the next link */
	_FS_FAULT_MAX,
};

const char *fs_fault_to_string(enum fs_fault f);
int fs_fault_from_string(const char *s);	/* enum value or -EINVAL */

enum fs_adv {
	FS_ADV_NONE,
	FS_ADV_PUBLIC,		/* public mode: advertises the Flic service */
	FS_ADV_PRIVATE,		/* paired/pressed: manufacturer data only */
};

struct fs_button_config {
	char name[24];		/* the user-set name, at most 23 bytes */
	uint8_t addr[6];	/* display order */
	char serial[12];	/* at most 11 characters */
	uint8_t uuid[16];
	bool genuine;		/* false: certificate by an unknown key */
	bool public_mode;	/* start in public mode */
	bool in_range;
	int16_t rssi;
	uint16_t battery_mv;
	uint32_t firmware;
	uint32_t click_ms;		/* press length of a click */
	uint32_t hold_ms;		/* hold fires after this */
	uint32_t double_click_ms;	/* single-click timeout after release */
	uint32_t public_mode_s;		/* public mode lasts this long */
	uint32_t adv_after_press_s;	/* advertising after a press */
	uint32_t slow_connect_ms;	/* delay of a slow_connect fault */
	uint32_t ping_interval_s;	/* 0: the button never pings */
	uint32_t latency_ms;		/* button -> client notification delay */
	bool has_pairing;		/* start with this pairing stored */
	uint32_t pairing_id;
	uint8_t pairing_key[16];
};

/* Defaults for every field but addr/serial/name. */
void fs_button_config_init(struct fs_button_config *c);

struct fs_event_item {
	uint32_t counter;
	uint64_t ticks;		/* button clock, 32768 Hz since its boot */
	uint8_t encoded;	/* FS_EVT_* */
	uint64_t mono_usec;	/* when it happened (CLOCK_MONOTONIC) */
};

struct fs_button_ops {
	/* One ATT notification to the client: 0, or -ENOTCONN when the client
	 * has not enabled notifications (the value is lost, as over the air). */
	int (*notify)(struct fs_button *b, const uint8_t *att, size_t len,
		      void *userdata);
	/* The button ends the BLE link; bluez-sim calls fs_button_link_down(). */
	void (*terminate_link)(struct fs_button *b, void *userdata);
	/* Advertising, range or connectability changed. */
	void (*adv_changed)(struct fs_button *b, void *userdata);
	/* An event item was written to the client. */
	void (*event_sent)(struct fs_button *b, const struct fs_event_item *ev,
			   bool queued, uint64_t mono_usec, void *userdata);
};

/* @ops and @userdata must outlive the button. *ret owned by the caller. */
int fs_button_new(sd_event *event, const struct fs_button_config *cfg,
		  const struct fs_button_ops *ops, void *userdata,
		  struct fs_button **ret);
struct fs_button *fs_button_free(struct fs_button *b);

/* "AA:BB:CC:DD:EE:FF"; owned by the button. */
const char *fs_button_address(const struct fs_button *b);
const char *fs_button_name(const struct fs_button *b);
int16_t fs_button_rssi(const struct fs_button *b);
bool fs_button_in_range(const struct fs_button *b);
enum fs_adv fs_button_adv(const struct fs_button *b);
bool fs_button_linked(const struct fs_button *b);
/* Advertised manufacturer data for company 0x030f (5 bytes). */
void fs_button_manufacturer_data(const struct fs_button *b, uint8_t ret[5]);
uint32_t fs_button_slow_connect_ms(const struct fs_button *b);
/* When the controller, scanning @scan_window of every @scan_interval (µs,
 * CLOCK_MONOTONIC from 0), first hears an advertising event of this button
 * at or after @after; meaningful while fs_button_adv() is not NONE. */
uint64_t fs_button_next_advert_usec(const struct fs_button *b, uint64_t after,
				    uint64_t scan_interval, uint64_t scan_window);
/* The controller acted on an advert heard at @usec (a Create Connection). */
void fs_button_advert_heard(struct fs_button *b, uint64_t usec);

/* The BLE link (called by bluez-sim). */
void fs_button_link_up(struct fs_button *b, uint16_t mtu);
void fs_button_link_down(struct fs_button *b);
/* One ATT write from the client. -ENOTCONN, -EMSGSIZE or 0. */
int fs_button_att_write(struct fs_button *b, const uint8_t *data, size_t len);

/* Physical actions. */
int fs_button_press(struct fs_button *b, const char *gesture);
void fs_button_set_public_mode(struct fs_button *b, bool on);
void fs_button_set_in_range(struct fs_button *b, bool in_range);
void fs_button_set_rssi(struct fs_button *b, int16_t rssi);
void fs_button_set_battery(struct fs_button *b, uint16_t mv);
void fs_button_factory_reset(struct fs_button *b);

/* Faults: add @count pending faults of @kind. */
void fs_button_inject_fault(struct fs_button *b, enum fs_fault kind,
			    uint32_t count);
void fs_button_clear_faults(struct fs_button *b);
/* Consumes one pending fault of @kind; true if there was one. */
bool fs_button_take_fault(struct fs_button *b, enum fs_fault kind);

/* Appends the button's state and counters as a{sv} to @m. */
int fs_button_append_state(struct fs_button *b, sd_bus_message *m);
