/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "button.h"

/*
 * A stand-in for bluetoothd: owns org.bluez on its own bus connection and
 * exports the object tree a BlueZ client sees (ObjectManager at "/",
 * /org/bluez/hci0 with Adapter1, one Device1 per emulated button that the
 * adapter has seen, and the Flic GATT service while a device is connected),
 * with BlueZ's property rules, signals and error names. Properties are
 * served by hand (not sd-bus vtables) because BlueZ omits properties it does
 * not know (RSSI, Name, ManufacturerData...) and invalidates them in
 * PropertiesChanged.
 */

struct fs_bluez;

enum fs_bus_kind {
	FS_BUS_ADDRESS,
	FS_BUS_SESSION,
	FS_BUS_SYSTEM,
};

struct fs_bluez_config {
	enum fs_bus_kind bus_kind;
	const char *bus_address;	/* FS_BUS_ADDRESS */
	char adapter_address[18];
	uint16_t mtu;			/* ATT MTU of every link */
	uint32_t connect_ms;		/* link set-up time */
	uint32_t connect_timeout_ms;	/* a Connect() with nothing to connect to */
	uint32_t resolve_ms;		/* GATT discovery time */
	uint32_t supervision_ms;	/* link loss noticed after out of range */
	uint32_t scan_interval_ms;	/* one advertising report per button */
	uint32_t discovery_window_ms;	/* the kernel's LE discovery window; 0: no hold */
	uint32_t temporary_timeout_s;	/* unseen temporary devices go away */
	uint32_t max_links;		/* LE links the controller holds at once */
	uint32_t accept_list;		/* the controller's filter accept list size */
	bool modern;			/* BlueZ >= 5.82 extras (Bonded, Disconnected) */
	bool steady;			/* no RSSI noise; public adverts re-announce nothing */
};

void fs_bluez_config_init(struct fs_bluez_config *c);

/* Opens a bus connection of the configured kind; *ret owned by caller. */
int fs_bus_open(enum fs_bus_kind kind, const char *address, sd_bus **ret);

/* Starts "bluetoothd" (name + adapter). *ret owned by the caller. */
int fs_bluez_new(sd_event *event, const struct fs_bluez_config *cfg,
		 struct fs_bluez **ret);
struct fs_bluez *fs_bluez_free(struct fs_bluez *bz);

/* Buttons the radio can hear. The button must outlive its registration. */
int fs_bluez_add_button(struct fs_bluez *bz, struct fs_button *btn);
void fs_bluez_remove_button(struct fs_bluez *bz, struct fs_button *btn);

/* Hooks for struct fs_button_ops (userdata = the fs_bluez). */
int fs_bluez_notify(struct fs_bluez *bz, struct fs_button *btn,
		    const uint8_t *att, size_t len);
void fs_bluez_terminate_link(struct fs_bluez *bz, struct fs_button *btn);
void fs_bluez_button_changed(struct fs_bluez *bz, struct fs_button *btn);

/* bluetoothd "crash": drop the name and every object, come back later. */
int fs_bluez_restart(struct fs_bluez *bz, uint32_t delay_ms);
int fs_bluez_remove_adapter(struct fs_bluez *bz);
int fs_bluez_add_adapter(struct fs_bluez *bz);
bool fs_bluez_running(const struct fs_bluez *bz);
bool fs_bluez_adapter_present(const struct fs_bluez *bz);
/* Appends global state and counters as a{sv}. */
int fs_bluez_append_state(struct fs_bluez *bz, sd_bus_message *m);
