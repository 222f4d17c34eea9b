/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bluez-sim.h"
#include "button.h"

/*
 * Peripheral mode (flicsim --peripheral hciN): instead of standing in for
 * bluetoothd, one emulated button goes on the air through a real
 * bluetoothd, on one of its adapters. The button's GATT service is a
 * GattManager1 application (the Flic 2 service with its write and notify
 * characteristics) and its advertising an LEAdvertisingManager1
 * advertisement that follows the button's state (public mode: the Flic
 * service UUID and name "F2"; private: Shortcut Labs manufacturer data
 * only; none while linked or asleep). A central on another adapter (the
 * gateway) connects over the kernel's real HCI, L2CAP and ATT.
 *
 * The link is the connection bluetoothd reports on this adapter (a Device1
 * for the central with Connected); the button sees it go up at the first
 * write, whose options carry the ATT MTU the two sides agreed. When
 * bluetoothd goes away the registrations and the link are gone; they are
 * made again when it comes back.
 *
 * Used by the real-kernel test lane (tests/vm, docs/testing.md).
 */

struct fs_periph;

/* @adapter is "hciN". *ret owned by the caller, freed with fs_periph_free(). */
int fs_periph_new(sd_event *event, enum fs_bus_kind kind, const char *bus_address,
		  const char *adapter, struct fs_periph **ret);
struct fs_periph *fs_periph_free(struct fs_periph *p);

/* One button per adapter: -EBUSY for a second. It must outlive its registration. */
int fs_periph_add_button(struct fs_periph *p, struct fs_button *btn);
void fs_periph_remove_button(struct fs_periph *p, struct fs_button *btn);

/* Hooks for struct fs_button_ops. */
int fs_periph_notify(struct fs_periph *p, struct fs_button *btn, const uint8_t *att, size_t len);
void fs_periph_terminate_link(struct fs_periph *p, struct fs_button *btn);
void fs_periph_button_changed(struct fs_periph *p, struct fs_button *btn);

bool fs_periph_bluez_running(const struct fs_periph *p);
/* Appends state and counters as a{sv} (GetStatus in peripheral mode). */
int fs_periph_append_state(struct fs_periph *p, sd_bus_message *m);
