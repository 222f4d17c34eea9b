/* SPDX-License-Identifier: MIT */
/*
 * Inside fg_bluez: the mirror of org.bluez shared by bluez*.c. Not for
 * anyone else (bluez.h is the interface).
 *
 * The files, lowest first; a file calls only into those below it:
 *   bluez-bus.c      reading BlueZ's messages, lookups in the mirror
 *   bluez-adapter.c  the adapters, powering one on, our discovery session
 *   bluez-adv.c      what a device advertises, reported to the owner
 *   bluez-gatt.c     the Flic 2 characteristics and the packet channel
 *   bluez-link.c     connect/disconnect, the attempt deadline, link reports
 *   bluez-device.c   device objects and their Device1 properties
 *   bluez.c          the object itself: snapshot, signals, lifecycle
 * The packet channel reports up to the link layer through
 * fg_bluez.channel_changed (set by bluez.c). The decisions about the
 * scanner (which adapter, discovery steps, scan windows) are the pure
 * scan-policy.c; BlueZ's property dictionaries are read by lib/bus-props.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "radio/bluez.h"
#include "radio/scan-policy.h"
#include "lib/timeutil.h"

#define BLUEZ_NAME		"org.bluez"
#define IFACE_ADAPTER		"org.bluez.Adapter1"
#define IFACE_DEVICE		"org.bluez.Device1"
#define IFACE_CHAR		"org.bluez.GattCharacteristic1"
#define IFACE_PROPS		"org.freedesktop.DBus.Properties"
#define IFACE_OM		"org.freedesktop.DBus.ObjectManager"

/* D-Bus timeout for the short BlueZ calls (power, discovery, GATT setup) */
#define CALL_TIMEOUT_USEC	(25 * FG_USEC_PER_SEC)
/* Retry StartDiscovery after a failure or after discovery stopped under us */
#define DISCOVERY_RETRY_USEC	(2 * FG_USEC_PER_SEC)
/* A notification is at most one ATT payload; BlueZ caps the MTU at 517 */
#define NOTIFY_BUF		600
/* Packets queued on a write fd that is momentarily full */
#define WRITE_QUEUE_MAX		64

struct adapter {
	struct adapter *next;
	char *path;			/* /org/bluez/hci0 */
	const char *name;		/* "hci0", points into path */
	bool powered;
	bool discovering;
};

struct packet {
	struct packet *next;
	size_t len;
	uint8_t data[];
};

enum gatt_state {
	GATT_NONE,		/* nothing set up */
	GATT_SETUP,		/* Acquire or Start calls in flight */
	GATT_READY,
	GATT_FAILED,		/* reported; waits for the owner to disconnect */
};

struct device {
	struct device *next;
	struct fg_bluez *bz;
	char *path;
	uint8_t address[6];
	char *name;
	bool has_rssi;
	int rssi;
	uint8_t *mfr;			/* FG_FLIC2_COMPANY_ID payload */
	size_t mfr_len;
	bool flic_service;		/* UUIDs contains the Flic 2 service */
	bool twist_service;		/* UUIDs contains the Flic Twist service */
	/* AdvertisingData (BlueZ with it enabled): the last advertisement's AD structures */
	struct {
		uint8_t type;
		uint8_t len;
		uint8_t data[31];
	} ad[8];
	size_t n_ad;
	bool ad_fresh;			/* came with the change being handled */
	bool connected;
	bool resolved;			/* ServicesResolved */
	bool trusted;
	sd_bus_slot *trust_slot;

	/* what the owner asked for and what it was told */
	bool wanted;
	enum fg_bluez_link reported;
	sd_bus_slot *connect_slot;
	sd_bus_slot *disconnect_slot;

	/*
	 * The attempt's deadline: until the link is up for a foreground
	 * connect (@foreground), then from link up until the packet channel
	 * is ready, whoever asked. Nothing we wait for goes without one.
	 */
	sd_event_source *attempt_timer;
	bool foreground;		/* a bounded connect, link not up yet: discovery paused */
	bool extended;			/* given one more discovery window */
	uint64_t attempt_start;		/* CLOCK_MONOTONIC */
	uint64_t attempt_timeout;
	uint64_t dropped_at;		/* we ended a live link then; 0: no */

	/* the Flic 2 characteristics, once exported */
	char *write_path;
	char *notify_path;
	bool write_cmd;			/* "write-without-response" offered */
	bool can_notify;
	unsigned char_mtu;		/* GattCharacteristic1.MTU, 0 if absent */

	/* packet channel */
	enum gatt_state gatt;
	sd_bus_slot *notify_slot;
	sd_bus_slot *write_slot;
	bool notify_ok, write_ok;
	bool notify_by_signal;		/* StartNotify: Value PropertiesChanged */
	bool write_by_call;		/* WriteValue calls */
	int notify_fd, write_fd;
	sd_event_source *notify_io;
	sd_event_source *write_io;
	unsigned mtu;
	struct packet *wq_head, *wq_tail;
	size_t wq_len;
};

struct fg_bluez {
	sd_event *event;
	sd_bus *bus;
	struct fg_config *config;		/* a reference: fg_config_ref() */
	const struct fg_bluez_ops *ops;
	void *userdata;

	/* signal subscriptions */
	sd_bus_slot *owner_match;
	sd_bus_slot *added_match;
	sd_bus_slot *removed_match;
	sd_bus_slot *props_match;

	/* org.bluez */
	char *owner;			/* unique name of bluetoothd; NULL: not running */
	bool had_owner;			/* it ran before: a new owner is a restart */
	sd_bus_slot *sync_slot;		/* GetManagedObjects in flight */
	bool synced;
	bool loading;			/* walking a snapshot: characteristics come last */

	struct adapter *adapters;
	struct adapter *adapter;	/* the chosen one, or NULL */
	struct device *devices;		/* under the chosen adapter */

	/* adapter power and discovery */
	sd_bus_slot *power_slot;
	bool power_warned;
	sd_bus_slot *discovery_slot;
	bool discovery_active;		/* our StartDiscovery succeeded (and no StopDiscovery since) */
	bool discovery_paused;		/* stopped by us while a foreground connect is in flight */
	bool rescan;			/* stop and start our session once: fg_bluez_rescan() */
	bool pairing_scan;		/* the owner looks for buttons to pair: fg_bluez_set_pairing_scan() */
	sd_event_source *discovery_timer;
	bool filter_wide;		/* the filter installed (or being installed) is the wide one */

	/* addresses the owner wants to reach (paired buttons) */
	uint8_t (*watch)[6];
	size_t n_watch;

	enum fg_bluez_state state;
	char *reported_adapter;
	struct fg_bluez_stats stats;

	/* the packet channel of @d became ready or failed (bluez-link.c) */
	void (*channel_changed)(struct device *d, int error);
};

/* What a Device1 change touched (device_changed). */
enum {
	CH_ADV = 1 << 0,	/* RSSI, manufacturer or service data: an advertisement */
	CH_CONNECTED = 1 << 1,
	CH_RESOLVED = 1 << 2,
	CH_UUIDS = 1 << 3,
};

/* ---- bluez-bus.c ---------------------------------------------------------- */

bool bluez_path_is_under(const char *path, const char *parent);
/* "80:E4:DA:70:12:34" into @buf, which is returned. */
const char *bluez_fmt_addr(const uint8_t a[6], char buf[18]);
/* The error of a BlueZ reply as -errno, 0 if none. */
int bluez_reply_errno(const sd_bus_error *e);
/* A message from bluetoothd as we know it (drops stale signals). */
bool bluez_from_owner(struct fg_bluez *bz, sd_bus_message *m);
/* A variant holding "ay" into a new buffer (*ret NULL when empty), owned by the caller. */
int bluez_read_variant_bytes(sd_bus_message *m, uint8_t **ret, size_t *ret_len);
uint64_t bluez_now_usec(const struct fg_bluez *bz);

struct device *bluez_device_by_address(const struct fg_bluez *bz, const uint8_t a[6]);
struct device *bluez_device_by_path(const struct fg_bluez *bz, const char *path);
/* The device a characteristic's @path lies under. */
struct device *bluez_device_owning(const struct fg_bluez *bz, const char *path);
bool bluez_is_watched(const struct fg_bluez *bz, const uint8_t a[6]);
/* A foreground connect is in flight: our discovery stays paused. */
bool bluez_foreground_pending(const struct fg_bluez *bz);
enum fg_bluez_state bluez_compute_state(const struct fg_bluez *bz);

/* ---- bluez-adapter.c ------------------------------------------------------ */

struct adapter *bluez_adapter_by_path(const struct fg_bluez *bz, const char *path);
/* Adapter1 appeared: a new record, or its properties refreshed. */
int bluez_add_adapter(struct fg_bluez *bz, const char *path, sd_bus_message *m);
int bluez_parse_adapter_props(struct adapter *a, sd_bus_message *m, bool *ret_power_changed,
			      bool *ret_disc_changed);
void bluez_adapters_free(struct fg_bluez *bz);
/* The adapter [bluetooth] adapter names, or the first one for "auto"; NULL if none. */
struct adapter *bluez_pick_adapter(const struct fg_bluez *bz);
/* Ask for the chosen adapter to be powered on, if configured and needed. */
void bluez_power_update(struct fg_bluez *bz);
/* Is our discovery needed: pairing, or a watched address without a device? */
bool bluez_scan_wanted(const struct fg_bluez *bz);
/* Start, pause, resume or stop our discovery session as the state asks. */
void bluez_discovery_update(struct fg_bluez *bz);
void bluez_discovery_retry_later(struct fg_bluez *bz);
/* Refilter the running session, or start or stop it, as the need changed. */
void bluez_filter_update(struct fg_bluez *bz);

/* ---- bluez-adv.c ---------------------------------------------------------- */

/*
 * Readers of Device1 properties for lib/bus-props.h, at the variant's
 * contents, @base the struct device, @userdata its unsigned CH_* set:
 * ManufacturerData a{qv} (keeps the Flic 2 company's payload; CH_ADV),
 * UUIDs as (names it the Flic 2 and/or the Twist service? 1 if that
 * changed), AdvertisingData a{yv} (AD type -> bytes of the last
 * advertisement; CH_ADV).
 */
int bluez_read_mfr(sd_bus_message *m, void *base, void *userdata);
int bluez_read_uuids(sd_bus_message *m, void *base, void *userdata);
int bluez_read_ad(sd_bus_message *m, void *base, void *userdata);
bool bluez_device_is_flic(const struct device *d);
void bluez_report_presence(struct device *d, bool present);
void bluez_report_adv(struct device *d);

/* ---- bluez-gatt.c --------------------------------------------------------- */

/* Close the packet channel (fds, calls in flight, queued packets). */
void bluez_channel_close(struct device *d);
/* Build the channel once the link is up, services resolved and wanted. */
void bluez_channel_setup(struct device *d);
/* GattCharacteristic1 appeared / went away under a device. */
int bluez_add_char(struct fg_bluez *bz, const char *path, sd_bus_message *m);
void bluez_remove_char(struct fg_bluez *bz, const char *path);
/* A PropertiesChanged a{sv} of the notify characteristic (StartNotify). */
int bluez_on_char_value(struct device *d, sd_bus_message *m);

/* ---- bluez-link.c --------------------------------------------------------- */

/* Tell the owner @l (and @error) and end the attempt on DOWN. */
void bluez_device_report(struct device *d, enum fg_bluez_link l, int error);
/* Report the link state derived from the device's properties, once per change. */
void bluez_device_sync_link(struct device *d, int error);
/* The fg_bluez.channel_changed hook. */
void bluez_link_channel_changed(struct device *d, int error);
/* React to what changed on a device (CH_* flags). */
void bluez_device_changed(struct device *d, unsigned changed);

/* ---- bluez-device.c ------------------------------------------------------- */

/* Device1 appeared (InterfacesAdded or the GetManagedObjects snapshot). */
int bluez_add_device(struct fg_bluez *bz, const char *path, sd_bus_message *m);
/* Apply an a{sv} of Device1 properties; ORs CH_* into *changed. */
int bluez_parse_device_props(struct device *d, sd_bus_message *m, unsigned *changed);
/* The object went away (or everything did): close, report, forget. */
void bluez_device_drop(struct fg_bluez *bz, struct device *d, int error);
void bluez_drop_all_devices(struct fg_bluez *bz, int error);
/* Frees without reporting; returns NULL. */
struct device *bluez_device_free(struct device *d);
