/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config/config.h"
#include "radio/flic2-adv.h"

/*
 * BlueZ over D-Bus: the radio side of flicgated, shared with every other
 * Bluetooth user of the machine through the stock bluetoothd.
 *
 * fg_bluez follows org.bluez through its ObjectManager (InterfacesAdded,
 * InterfacesRemoved, PropertiesChanged) and NameOwnerChanged, so that a
 * bluetoothd restart or an adapter unplugged and plugged back is just more
 * events. It picks the adapter ([bluetooth] adapter), powers it on if
 * asked, runs an LE discovery session filtered on the Flic 2 service while
 * the owner looks for buttons to pair (fg_bluez_set_pairing_scan()) or a
 * watched address has no device object (fg_bluez_watch()), and never
 * otherwise, and for each device it is asked to link: connects, finds the
 * Flic 2 characteristics once services are resolved, and sets up the
 * packet channel (AcquireWrite/AcquireNotify file descriptors on the event
 * loop, falling back to WriteValue and StartNotify + PropertiesChanged).
 *
 * It knows nothing of the Flic 2 protocol beyond its UUIDs and company id:
 * advertisements and notification payloads go up as bytes, packets come
 * down as bytes. Every BlueZ call is asynchronous.
 */

/* The ATT MTU every LE link starts with (a write then carries 20 bytes). */
#define FG_BLUEZ_DEFAULT_MTU	23

struct fg_bluez;

enum fg_bluez_state {
	FG_BLUEZ_NO_SERVICE,	/* nobody owns org.bluez: bluetoothd is not running */
	FG_BLUEZ_NO_ADAPTER,	/* bluetoothd runs, the configured adapter is absent */
	FG_BLUEZ_POWERED_OFF,	/* adapter present, not powered (rfkill, power_on = no) */
	FG_BLUEZ_READY,		/* powered; discovery runs when needed */
	_FG_BLUEZ_STATE_MAX,
};

enum fg_bluez_link {
	FG_BLUEZ_LINK_DOWN,	/* no connection; error says why (0: closed normally) */
	FG_BLUEZ_LINK_CONNECTED, /* connected; GATT not (yet) usable; error != 0: setup failed */
	FG_BLUEZ_LINK_READY,	/* packets can be written and notifications flow */
	_FG_BLUEZ_LINK_MAX,
};

/* One advertisement (or the first sight of a device). Valid during the call. */
struct fg_bluez_adv {
	uint8_t address[6];
	bool has_rssi;
	int rssi;			/* dBm */
	/*
	 * What it is, per core/flic2-adv.h. From this advertisement's own
	 * data when BlueZ exposes AdvertisingData (@from_ad), else from the
	 * Device1 properties, whose UUIDs BlueZ keeps from earlier
	 * advertisements and connections: "public mode" is then only a hint.
	 */
	struct fg_flic2_adv info;
	bool from_ad;
	bool connected;			/* BlueZ already holds a connection */
};

/*
 * Callbacks into the owner, each given the fg_bluez and, last, the
 * userdata of fg_bluez_new(). They may call back into fg_bluez (connect,
 * write, disconnect) but must not free it.
 */
struct fg_bluez_ops {
	/* The adapter's state changed; @adapter is "hci0" or NULL. */
	void (*state_changed)(struct fg_bluez *bz, enum fg_bluez_state state, const char *adapter,
			      void *userdata);
	/* A device that looks like a Flic button advertised (or was found). */
	void (*advertisement)(struct fg_bluez *bz, const struct fg_bluez_adv *adv, void *userdata);
	/*
	 * A link changed. @error is 0 or a negative errno: -ETIMEDOUT connect
	 * timeout, -ECONNREFUSED connect failed, -ENOENT the Flic service is
	 * missing (stale GATT cache or not a Flic), -EPIPE the packet channel
	 * closed, -ENODEV the device object went away, -ENETDOWN the adapter
	 * or bluetoothd went away, -EIO other BlueZ failures. @mtu is the ATT
	 * MTU once READY (payload per packet: mtu - 3), else 0.
	 */
	void (*link_changed)(struct fg_bluez *bz, const uint8_t address[6], enum fg_bluez_link link,
			     int error, unsigned mtu, void *userdata);
	/*
	 * BlueZ created or dropped its object for a device that looks like a
	 * Flic or is watched (fg_bluez_watch): a kept device came back after
	 * a restart, or a device went away. Only with an object can a device
	 * be connected.
	 */
	void (*device_present)(struct fg_bluez *bz, const uint8_t address[6], bool present,
			       void *userdata);
	/* One notification from the Flic 2 notify characteristic of a READY link. */
	void (*notification)(struct fg_bluez *bz, const uint8_t address[6], const uint8_t *data,
			     size_t len, void *userdata);
};

/*
 * Start following BlueZ on @bus (attached to @event), configured by
 * @config's [bluetooth] section. Takes a reference on @config (dropped by
 * fg_bluez_set_config() and fg_bluez_free()); @ops and @userdata must
 * outlive the object. *ret owned by the caller, freed by fg_bluez_free().
 */
int fg_bluez_new(sd_event *event, sd_bus *bus, struct fg_config *config,
		 const struct fg_bluez_ops *ops, void *userdata, struct fg_bluez **ret);

/* Closes every packet channel; links stay up in bluetoothd until it drops them. */
struct fg_bluez *fg_bluez_free(struct fg_bluez *bz);

/*
 * A reloaded configuration: re-selects the adapter if [bluetooth] adapter
 * changed. Takes a reference on @config and drops the one on the old.
 */
int fg_bluez_set_config(struct fg_bluez *bz, struct fg_config *config);

enum fg_bluez_state fg_bluez_get_state(const struct fg_bluez *bz);
/* "hci0", or NULL without an adapter. Lives until the next event. */
const char *fg_bluez_adapter_name(const struct fg_bluez *bz);
const char *fg_bluez_state_to_string(enum fg_bluez_state s);

/*
 * Ask BlueZ for a link to @address and to set up the packet channel.
 * Progress comes through link_changed. -ENODEV if BlueZ has no device
 * object for it (wait for its next advertisement), -ENETDOWN without a
 * powered adapter, -EALREADY if a link exists or is being made. After
 * @timeout_usec without a connection the attempt is cancelled and the link
 * reported DOWN with -ETIMEDOUT.
 */
int fg_bluez_connect(struct fg_bluez *bz, const uint8_t address[6], uint64_t timeout_usec);

/* Drop the link (or a pending attempt). 0, or -ENODEV if unknown. */
int fg_bluez_disconnect(struct fg_bluez *bz, const uint8_t address[6]);

/*
 * Send one packet (write without response) on a READY link. -ENOTCONN if
 * the link is not READY, -EMSGSIZE if longer than mtu - 3. Packets are
 * delivered in order.
 */
int fg_bluez_write(struct fg_bluez *bz, const uint8_t address[6], const uint8_t *data, size_t len);

/*
 * Have BlueZ forget the device (Adapter1.RemoveDevice): drops the link and
 * any cached GATT database. The next advertisement creates a fresh object.
 */
int fg_bluez_remove_device(struct fg_bluez *bz, const uint8_t address[6]);

/*
 * Mark the device trusted in BlueZ. A trusted device is kept (and stored
 * by bluetoothd across its restarts) instead of being dropped a while after
 * its last advertisement, so that a paired button can be connected as soon
 * as it advertises, whatever its advertisement contains. -ENODEV if BlueZ
 * has no object for it yet.
 */
int fg_bluez_set_trusted(struct fg_bluez *bz, const uint8_t address[6], bool trusted);

/*
 * Watch @address (a paired button): while BlueZ has no device object for
 * a watched address, discovery widens to every LE advertisement so that
 * the button's own advertisements (which do not name the Flic service)
 * bring the object back. -ENOMEM.
 */
int fg_bluez_watch(struct fg_bluez *bz, const uint8_t address[6], bool on);

/*
 * Does the owner look for buttons to pair (a pairing window is open, or a
 * button may be paired at any time: scan-policy.h fg_scan_for_pairing())?
 * Our discovery runs while it does or while a watched address has no device
 * object, and is stopped otherwise: advertisements are then reported only
 * while someone else's discovery runs.
 */
void fg_bluez_set_pairing_scan(struct fg_bluez *bz, bool on);

/*
 * Restart our discovery session so that bluetoothd announces every device
 * in range again, also one whose advertisement has not changed (a button
 * already in public mode when a pairing window opens). Asynchronous; a
 * no-op while discovery is not running (it announces everything when it
 * starts).
 */
void fg_bluez_rescan(struct fg_bluez *bz);

/* Counters for status and tests. */
struct fg_bluez_stats {
	unsigned bluetoothd_restarts;	/* org.bluez changed owner */
	unsigned adapter_changes;	/* adapters selected */
	unsigned connects;		/* Connect calls made */
	unsigned connect_failures;
	unsigned fd_channels;		/* links served through Acquire* fds */
	unsigned fallback_channels;	/* links served through WriteValue/StartNotify */
	unsigned notifications;
	unsigned writes;
};
void fg_bluez_get_stats(const struct fg_bluez *bz, struct fg_bluez_stats *ret);
