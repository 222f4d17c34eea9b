/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bluez-sim.h"
#include "button-proto.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define BLUEZ_NAME	"org.bluez"
#define ADAPTER_PATH	"/org/bluez/hci0"
#define IFACE_ADAPTER	"org.bluez.Adapter1"
#define IFACE_DEVICE	"org.bluez.Device1"
#define IFACE_SERVICE	"org.bluez.GattService1"
#define IFACE_CHAR	"org.bluez.GattCharacteristic1"
#define IFACE_DESC	"org.bluez.GattDescriptor1"
#define IFACE_AGENTMGR	"org.bluez.AgentManager1"
#define IFACE_PROPS	"org.freedesktop.DBus.Properties"
#define IFACE_INTRO	"org.freedesktop.DBus.Introspectable"
#define IFACE_OM	"org.freedesktop.DBus.ObjectManager"

#define FLIC_SERVICE_UUID "00420000-8f59-4420-870d-84f3b617e493"
#define FLIC_WRITE_UUID   "00420001-8f59-4420-870d-84f3b617e493"
#define FLIC_NOTIFY_UUID  "00420002-8f59-4420-870d-84f3b617e493"
#define CCC_UUID          "00002902-0000-1000-8000-00805f9b34fb"
#define GATT_SVC_UUID     "00001801-0000-1000-8000-00805f9b34fb"
#define SVC_CHANGED_UUID  "00002a05-0000-1000-8000-00805f9b34fb"
#define FLIC_COMPANY_ID   0x030f

/* ATT handles of the emulated GATT database; paths are named after them.
 * GAP (0x0001..) is used by bluetoothd itself and not exported; the Generic
 * Attribute service with Service Changed is, as on real devices. */
#define H_GATT_SVC	0x0008
#define H_SVC_CHANGED	0x0009
#define H_SVC_CHANGED_CCC 0x000b
#define H_SERVICE	0x000c
#define H_WRITE		0x000d
#define H_NOTIFY	0x000f
#define H_CCC		0x0011

/* BlueZ's error names and texts (src/error.c). */
#define E_FAILED	"org.bluez.Error.Failed"
#define E_INPROGRESS	"org.bluez.Error.InProgress"
#define E_NOTCONNECTED	"org.bluez.Error.NotConnected"
#define E_ALREADYCONN	"org.bluez.Error.AlreadyConnected"
#define E_NOTPERMITTED	"org.bluez.Error.NotPermitted"
#define E_NOTSUPPORTED	"org.bluez.Error.NotSupported"
#define E_INVALIDARGS	"org.bluez.Error.InvalidArguments"
#define E_DOESNOTEXIST	"org.bluez.Error.DoesNotExist"
#define E_NOTREADY	"org.bluez.Error.NotReady"
#define E_NOTAUTHORIZED	"org.bluez.Error.NotAuthorized"
#define LE_ABORT_LOCAL	"le-connection-abort-by-local"

enum obj_kind {
	OBJ_NONE,
	OBJ_ROOT,
	OBJ_BLUEZ,
	OBJ_ADAPTER,
	OBJ_DEVICE,
	OBJ_SERVICE,
	OBJ_CHAR_WRITE,
	OBJ_CHAR_NOTIFY,
	OBJ_DESC,
	OBJ_GATT_SERVICE,	/* 0x1801 */
	OBJ_SVC_CHANGED,	/* 0x2a05 */
	OBJ_SVC_CHANGED_CCC,
};

struct dev {
	struct fs_bluez *bz;
	struct fs_button *btn;
	char path[64];
	char gatt_service[80], gatt_write[96], gatt_notify[96], gatt_ccc[112];
	char gatt_svc1801[80], gatt_sc[96], gatt_sc_ccc[112];
	bool sc_indicating;	/* StartNotify on Service Changed */

	bool exported;		/* the Device1 object exists */
	bool temporary;		/* not stored: forgotten when unseen */
	bool trusted, blocked;
	bool seen_public;	/* UUIDs has the Flic service */
	bool has_rssi;
	int16_t rssi;
	bool has_mfr;
	uint8_t mfr[5];
	unsigned jitter;
	char alias[32];		/* set through Alias; empty: derived */
	char dashed[18];	/* AA-BB-CC-DD-EE-FF, BlueZ's last-resort alias */

	bool connecting, connected, resolved, gatt_exported;
	/*
	 * The kernel's view during an LE discovery: reported once in this
	 * scan window (the controller's duplicate filter hides the rest), a
	 * Connect() waiting for the device's next report.
	 */
	bool window_seen, held;
	sd_bus_message *connect_msg;
	sd_event_source *connect_timer, *connect_timeout, *resolve_timer;
	sd_event_source *loss_timer, *temp_timer;
	bool connect_scheduled;

	/* GATT client state */
	sd_bus_track *notify_track;
	int write_fd, notify_fd;
	sd_event_source *write_io, *notify_io;
	uint8_t value[FS_MAX_PACKET + 1];
	size_t value_len;
	uint64_t values_written, values_notified;
};

struct dclient {
	struct dclient *next;
	struct fs_bluez *bz;
	char *sender;
	sd_bus_track *track;
	bool discovering;
	bool has_filter;
	char **uuids;
	size_t n_uuids;
	bool has_rssi;
	int16_t rssi;
	char transport[8];
	bool duplicate;
	char *pattern;
};

struct fs_bluez {
	sd_event *event;
	struct fs_bluez_config cfg;
	sd_bus *bus;
	bool running, present, powered, discovering;
	char alias[64];
	sd_event_source *scan_timer, *restart_timer, *window_timer;
	struct dclient *clients;
	struct dev **devs;
	size_t n_devs;
	struct {
		uint64_t restarts, connects, connect_failures, writes, notifications;
		uint64_t reports, held, window_waits;
	} stats;
};

static int emit_changed(struct fs_bluez *bz, const char *path, const char *iface, ...)
	__attribute__((sentinel));

void fs_bluez_config_init(struct fs_bluez_config *c)
{
	memset(c, 0, sizeof(*c));
	c->bus_kind = FS_BUS_SESSION;
	snprintf(c->adapter_address, sizeof(c->adapter_address), "00:1A:7D:DA:71:13");
	c->mtu = 23;
	c->connect_ms = 30;
	c->connect_timeout_ms = 20000;
	c->resolve_ms = 10;
	c->supervision_ms = 1000;
	c->scan_interval_ms = 500;
	c->discovery_window_ms = 10240;
	c->temporary_timeout_s = 30;
}

int fs_bus_open(enum fs_bus_kind kind, const char *address, sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	switch (kind) {
	case FS_BUS_SESSION:
		return sd_bus_open_user(ret);
	case FS_BUS_SYSTEM:
		return sd_bus_open_system(ret);
	case FS_BUS_ADDRESS:
		break;
	}
	r = sd_bus_new(&bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, true);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

/* --- timers ------------------------------------------------------------------ */

static int arm(struct fs_bluez *bz, sd_event_source **s, uint64_t usec,
	       sd_event_time_handler_t cb, void *userdata)
{
	*s = sd_event_source_disable_unref(*s);
	return sd_event_add_time_relative(bz->event, s, CLOCK_MONOTONIC, usec,
					  FG_USEC_PER_MSEC / 2, cb, userdata);
}

static void disarm(sd_event_source **s)
{
	*s = sd_event_source_disable_unref(*s);
}

/* --- property serialisation ---------------------------------------------------
 * Each iface function appends every present property as {sv} (only == NULL),
 * or just the variant of property @only (returns 1, or -ENOENT when the
 * property is unknown or absent). With m == NULL it only tells whether
 * @only is present. */

#define WANT(n) (!only || strcmp(only, (n)) == 0)
#define SIMPLE(n, sig, val)							\
	if (WANT(n)) {								\
		if (!m)								\
			return 1;						\
		if ((r = pbegin(m, only, n, sig)) < 0 ||			\
		    (r = sd_bus_message_append(m, sig, val)) < 0 ||		\
		    (r = pend(m, only)) < 0)					\
			return r;						\
		if (only)							\
			return 1;						\
	}
#define COMPLEX(n, sig, code)							\
	if (WANT(n)) {								\
		if (!m)								\
			return 1;						\
		if ((r = pbegin(m, only, n, sig)) < 0)				\
			return r;						\
		code;								\
		if ((r = pend(m, only)) < 0)					\
			return r;						\
		if (only)							\
			return 1;						\
	}

static int pbegin(sd_bus_message *m, const char *only, const char *name,
		  const char *sig)
{
	int r;

	if (!only) {
		r = sd_bus_message_open_container(m, 'e', "sv");
		if (r < 0)
			return r;
		r = sd_bus_message_append(m, "s", name);
		if (r < 0)
			return r;
	}
	return sd_bus_message_open_container(m, 'v', sig);
}

static int pend(sd_bus_message *m, const char *only)
{
	int r = sd_bus_message_close_container(m);

	if (r < 0 || only)
		return r;
	return sd_bus_message_close_container(m);
}

static int append_strv(sd_bus_message *m, const char *const *v, size_t n)
{
	int r = sd_bus_message_open_container(m, 'a', "s");

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = sd_bus_message_append(m, "s", v[i]);
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static int props_adapter(struct fs_bluez *bz, sd_bus_message *m, const char *only)
{
	static const char *const roles[] = { "central", "peripheral" };
	int r;

	SIMPLE("Address", "s", bz->cfg.adapter_address);
	SIMPLE("AddressType", "s", "public");
	SIMPLE("Name", "s", "flicsim");
	SIMPLE("Alias", "s", bz->alias);
	SIMPLE("Class", "u", 0x000000u);
	SIMPLE("Powered", "b", (int)bz->powered);
	SIMPLE("PowerState", "s", bz->powered ? "on" : "off");
	SIMPLE("Discoverable", "b", 0);
	SIMPLE("DiscoverableTimeout", "u", 180u);
	SIMPLE("Pairable", "b", 1);
	SIMPLE("PairableTimeout", "u", 0u);
	SIMPLE("Discovering", "b", (int)bz->discovering);
	COMPLEX("UUIDs", "as", r = append_strv(m, NULL, 0); if (r < 0) return r);
	SIMPLE("Modalias", "s", "usb:v1D6Bp0246d0542");
	COMPLEX("Roles", "as", r = append_strv(m, roles, 2); if (r < 0) return r);
	return only ? -ENOENT : 0;
}

static const char *dev_name(struct dev *d)
{
	/* Only a button in public mode has been heard saying its name. */
	return d->seen_public ? "F2" : NULL;
}

static int props_device(struct dev *d, sd_bus_message *m, const char *only)
{
	const char *name = dev_name(d);
	const char *uuids[2];
	size_t n_uuids = 0;
	bool modern = d->bz->cfg.modern;
	int r;

	SIMPLE("Address", "s", fs_button_address(d->btn));
	SIMPLE("AddressType", "s", "public");
	if (name)
		SIMPLE("Name", "s", name);
	SIMPLE("Alias", "s", d->alias[0] ? d->alias : name ? name : d->dashed);
	SIMPLE("Paired", "b", 0);
	if (modern)
		SIMPLE("Bonded", "b", 0);
	SIMPLE("Trusted", "b", (int)d->trusted);
	SIMPLE("Blocked", "b", (int)d->blocked);
	SIMPLE("LegacyPairing", "b", 0);
	if (d->has_rssi)
		SIMPLE("RSSI", "n", (int)d->rssi);
	SIMPLE("Connected", "b", (int)d->connected);
	/* Advertised UUIDs, plus every primary service once resolved (sorted). */
	if (d->resolved) {
		uuids[n_uuids++] = GATT_SVC_UUID;
		uuids[n_uuids++] = FLIC_SERVICE_UUID;
	} else if (d->seen_public) {
		uuids[n_uuids++] = FLIC_SERVICE_UUID;
	}
	COMPLEX("UUIDs", "as", r = append_strv(m, uuids, n_uuids); if (r < 0) return r);
	SIMPLE("Adapter", "o", ADAPTER_PATH);
	if (d->has_mfr)
		COMPLEX("ManufacturerData", "a{qv}",
			if ((r = sd_bus_message_open_container(m, 'a', "{qv}")) < 0 ||
			    (r = sd_bus_message_open_container(m, 'e', "qv")) < 0 ||
			    (r = sd_bus_message_append(m, "q", FLIC_COMPANY_ID)) < 0 ||
			    (r = sd_bus_message_open_container(m, 'v', "ay")) < 0 ||
			    (r = sd_bus_message_append_array(m, 'y', d->mfr, sizeof(d->mfr))) < 0 ||
			    (r = sd_bus_message_close_container(m)) < 0 ||
			    (r = sd_bus_message_close_container(m)) < 0 ||
			    (r = sd_bus_message_close_container(m)) < 0)
				return r);
	SIMPLE("ServicesResolved", "b", (int)d->resolved);
	COMPLEX("AdvertisingFlags", "ay",
		r = sd_bus_message_append_array(m, 'y', (uint8_t[]){ 0x06 }, d->has_mfr ? 1 : 0);
		if (r < 0) return r);
	return only ? -ENOENT : 0;
}

static bool notifying(struct dev *d)
{
	return d->notify_fd >= 0 || sd_bus_track_count(d->notify_track) > 0;
}

/* Both primary services: Generic Attribute (0x1801) and Flic. */
static int props_service(struct dev *d, const char *uuid, uint16_t handle,
			 sd_bus_message *m, const char *only)
{
	int r;

	SIMPLE("UUID", "s", uuid);
	SIMPLE("Device", "o", d->path);
	SIMPLE("Primary", "b", 1);
	COMPLEX("Includes", "ao",
		if ((r = sd_bus_message_open_container(m, 'a', "o")) < 0 ||
		    (r = sd_bus_message_close_container(m)) < 0)
			return r);
	SIMPLE("Handle", "q", handle);
	return only ? -ENOENT : 0;
}

static int props_char(struct dev *d, bool notify, sd_bus_message *m, const char *only)
{
	const char *flag = notify ? "notify" : "write-without-response";
	int r;

	SIMPLE("UUID", "s", notify ? FLIC_NOTIFY_UUID : FLIC_WRITE_UUID);
	SIMPLE("Service", "o", d->gatt_service);
	COMPLEX("Value", "ay",
		r = sd_bus_message_append_array(m, 'y', d->value, notify ? d->value_len : 0);
		if (r < 0) return r);
	if (notify) {
		SIMPLE("Notifying", "b", (int)notifying(d));
		SIMPLE("NotifyAcquired", "b", (int)(d->notify_fd >= 0));
	} else {
		SIMPLE("WriteAcquired", "b", (int)(d->write_fd >= 0));
	}
	COMPLEX("Flags", "as", r = append_strv(m, &flag, 1); if (r < 0) return r);
	SIMPLE("Handle", "q", notify ? H_NOTIFY : H_WRITE);
	SIMPLE("MTU", "q", d->bz->cfg.mtu);
	return only ? -ENOENT : 0;
}

/* A CCC descriptor: @bits is 1 for notifications, 2 for indications. */
static int props_ccc(const char *chr, uint16_t handle, uint8_t bits,
		     sd_bus_message *m, const char *only)
{
	uint8_t ccc[2] = { bits, 0 };
	int r;

	SIMPLE("UUID", "s", CCC_UUID);
	SIMPLE("Characteristic", "o", chr);
	COMPLEX("Value", "ay", r = sd_bus_message_append_array(m, 'y', ccc, 2); if (r < 0) return r);
	SIMPLE("Handle", "q", handle);
	return only ? -ENOENT : 0;
}

static int props_svc_changed(struct dev *d, sd_bus_message *m, const char *only)
{
	const char *flag = "indicate";
	int r;

	SIMPLE("UUID", "s", SVC_CHANGED_UUID);
	SIMPLE("Service", "o", d->gatt_svc1801);
	COMPLEX("Value", "ay", r = sd_bus_message_append_array(m, 'y', "", 0); if (r < 0) return r);
	SIMPLE("Notifying", "b", (int)d->sc_indicating);
	COMPLEX("Flags", "as", r = append_strv(m, &flag, 1); if (r < 0) return r);
	SIMPLE("Handle", "q", H_SVC_CHANGED);
	SIMPLE("MTU", "q", d->bz->cfg.mtu);
	return only ? -ENOENT : 0;
}

/* --- object lookup ------------------------------------------------------------- */

struct obj {
	enum obj_kind kind;
	struct dev *dev;
	const char *path;
};

static struct dev *find_dev_by_button(struct fs_bluez *bz, struct fs_button *btn)
{
	for (size_t i = 0; i < bz->n_devs; i++)
		if (bz->devs[i]->btn == btn)
			return bz->devs[i];
	return NULL;
}

static struct obj lookup(struct fs_bluez *bz, const char *path)
{
	struct obj o = { OBJ_NONE, NULL, path };

	if (strcmp(path, "/") == 0) {
		o.kind = OBJ_ROOT;
		return o;
	}
	if (!bz->running)
		return o;
	if (strcmp(path, "/org/bluez") == 0) {
		o.kind = OBJ_BLUEZ;
		return o;
	}
	if (!bz->present)
		return o;
	if (strcmp(path, ADAPTER_PATH) == 0) {
		o.kind = OBJ_ADAPTER;
		return o;
	}
	for (size_t i = 0; i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];

		if (!d->exported)
			continue;
		o.dev = d;
		if (strcmp(path, d->path) == 0)
			o.kind = OBJ_DEVICE;
		else if (d->gatt_exported && strcmp(path, d->gatt_service) == 0)
			o.kind = OBJ_SERVICE;
		else if (d->gatt_exported && strcmp(path, d->gatt_write) == 0)
			o.kind = OBJ_CHAR_WRITE;
		else if (d->gatt_exported && strcmp(path, d->gatt_notify) == 0)
			o.kind = OBJ_CHAR_NOTIFY;
		else if (d->gatt_exported && strcmp(path, d->gatt_ccc) == 0)
			o.kind = OBJ_DESC;
		else if (d->gatt_exported && strcmp(path, d->gatt_svc1801) == 0)
			o.kind = OBJ_GATT_SERVICE;
		else if (d->gatt_exported && strcmp(path, d->gatt_sc) == 0)
			o.kind = OBJ_SVC_CHANGED;
		else if (d->gatt_exported && strcmp(path, d->gatt_sc_ccc) == 0)
			o.kind = OBJ_SVC_CHANGED_CCC;
		if (o.kind != OBJ_NONE)
			return o;
	}
	o.dev = NULL;
	return o;
}

static const char *main_iface(enum obj_kind k)
{
	switch (k) {
	case OBJ_BLUEZ:
		return IFACE_AGENTMGR;
	case OBJ_ADAPTER:
		return IFACE_ADAPTER;
	case OBJ_DEVICE:
		return IFACE_DEVICE;
	case OBJ_SERVICE:
	case OBJ_GATT_SERVICE:
		return IFACE_SERVICE;
	case OBJ_CHAR_WRITE:
	case OBJ_CHAR_NOTIFY:
	case OBJ_SVC_CHANGED:
		return IFACE_CHAR;
	case OBJ_DESC:
	case OBJ_SVC_CHANGED_CCC:
		return IFACE_DESC;
	case OBJ_ROOT:
	case OBJ_NONE:
		return NULL;
	}
	return NULL;
}

static int props_of(struct fs_bluez *bz, struct obj *o, sd_bus_message *m, const char *only)
{
	switch (o->kind) {
	case OBJ_ADAPTER:
		return props_adapter(bz, m, only);
	case OBJ_DEVICE:
		return props_device(o->dev, m, only);
	case OBJ_SERVICE:
		return props_service(o->dev, FLIC_SERVICE_UUID, H_SERVICE, m, only);
	case OBJ_CHAR_WRITE:
		return props_char(o->dev, false, m, only);
	case OBJ_CHAR_NOTIFY:
		return props_char(o->dev, true, m, only);
	case OBJ_DESC:
		return props_ccc(o->dev->gatt_notify, H_CCC, notifying(o->dev), m, only);
	case OBJ_GATT_SERVICE:
		return props_service(o->dev, GATT_SVC_UUID, H_GATT_SVC, m, only);
	case OBJ_SVC_CHANGED:
		return props_svc_changed(o->dev, m, only);
	case OBJ_SVC_CHANGED_CCC:
		return props_ccc(o->dev->gatt_sc, H_SVC_CHANGED_CCC, o->dev->sc_indicating ? 2 : 0, m, only);
	case OBJ_BLUEZ:
	case OBJ_ROOT:
	case OBJ_NONE:
		return only ? -ENOENT : 0;
	}
	return -ENOENT;
}

/* a{sa{sv}} of an object, standard interfaces included as BlueZ does. */
static int append_ifaces(struct fs_bluez *bz, struct obj *o, sd_bus_message *m)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "{sa{sv}}", IFACE_INTRO, 0);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(m, 'e', "sa{sv}");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", main_iface(o->kind));
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = props_of(bz, o, m, NULL);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "{sa{sv}}", IFACE_PROPS, 0);
	if (r < 0)
		return r;
	return sd_bus_message_close_container(m);
}

static int emit_added(struct fs_bluez *bz, const char *path)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL;
	struct obj o = lookup(bz, path);
	int r;

	if (!bz->running)
		return 0;
	r = sd_bus_message_new_signal(bz->bus, &m, "/", IFACE_OM, "InterfacesAdded");
	if (r >= 0)
		r = sd_bus_message_append(m, "o", path);
	if (r >= 0)
		r = append_ifaces(bz, &o, m);
	if (r >= 0)
		r = sd_bus_send(bz->bus, m, NULL);
	return r;
}

static int emit_removed(struct fs_bluez *bz, const char *path, const char *iface)
{
	if (!bz->running)
		return 0;
	return sd_bus_emit_signal(bz->bus, "/", IFACE_OM, "InterfacesRemoved", "oas",
				  path, 3, IFACE_INTRO, iface, IFACE_PROPS);
}

static int emit_changed(struct fs_bluez *bz, const char *path, const char *iface, ...)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL;
	const char *invalid[8], *name;
	struct obj o = lookup(bz, path);
	size_t n_invalid = 0;
	va_list ap;
	int r;

	if (!bz->running || o.kind == OBJ_NONE)
		return 0;
	r = sd_bus_message_new_signal(bz->bus, &m, path, IFACE_PROPS, "PropertiesChanged");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", iface);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	va_start(ap, iface);
	while (r >= 0 && (name = va_arg(ap, const char *))) {
		if (props_of(bz, &o, NULL, name) <= 0) {
			if (n_invalid < 8)
				invalid[n_invalid++] = name;
			continue;
		}
		r = sd_bus_message_open_container(m, 'e', "sv");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", name);
		if (r >= 0)
			r = props_of(bz, &o, m, name);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	va_end(ap);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = append_strv(m, invalid, n_invalid);
	if (r >= 0)
		r = sd_bus_send(bz->bus, m, NULL);
	if (r < 0)
		log_warning_errno(r, "Failed to emit PropertiesChanged on %s: %m", path);
	return r;
}

/* --- export / unexport ------------------------------------------------------------ */

static void gatt_export(struct dev *d)
{
	if (d->gatt_exported)
		return;
	d->gatt_exported = true;
	emit_added(d->bz, d->gatt_svc1801);
	emit_added(d->bz, d->gatt_sc);
	emit_added(d->bz, d->gatt_sc_ccc);
	emit_added(d->bz, d->gatt_service);
	emit_added(d->bz, d->gatt_write);
	emit_added(d->bz, d->gatt_notify);
	emit_added(d->bz, d->gatt_ccc);
}

static void close_write_fd(struct dev *d, bool announce)
{
	if (d->write_fd < 0)
		return;
	disarm(&d->write_io);
	close(d->write_fd);
	d->write_fd = -1;
	if (announce)
		emit_changed(d->bz, d->gatt_write, IFACE_CHAR, "WriteAcquired", NULL);
}

static void close_notify_fd(struct dev *d, bool announce)
{
	if (d->notify_fd < 0)
		return;
	disarm(&d->notify_io);
	close(d->notify_fd);
	d->notify_fd = -1;
	if (announce)
		emit_changed(d->bz, d->gatt_notify, IFACE_CHAR, "NotifyAcquired", "Notifying", NULL);
}

static void gatt_unexport(struct dev *d)
{
	close_write_fd(d, false);
	close_notify_fd(d, false);
	d->notify_track = sd_bus_track_unref(d->notify_track);
	d->value_len = 0;
	if (!d->gatt_exported)
		return;
	/* Children first, as BlueZ tears down its GATT client. */
	emit_removed(d->bz, d->gatt_ccc, IFACE_DESC);
	emit_removed(d->bz, d->gatt_notify, IFACE_CHAR);
	emit_removed(d->bz, d->gatt_write, IFACE_CHAR);
	emit_removed(d->bz, d->gatt_service, IFACE_SERVICE);
	emit_removed(d->bz, d->gatt_sc_ccc, IFACE_DESC);
	emit_removed(d->bz, d->gatt_sc, IFACE_CHAR);
	emit_removed(d->bz, d->gatt_svc1801, IFACE_SERVICE);
	d->gatt_exported = false;
	d->sc_indicating = false;
}

static int on_temporary_timeout(sd_event_source *s, uint64_t usec, void *userdata);

static void dev_export(struct dev *d)
{
	if (d->exported)
		return;
	d->exported = true;
	emit_added(d->bz, d->path);
}

static void dev_unexport(struct dev *d)
{
	if (!d->exported)
		return;
	gatt_unexport(d);
	emit_removed(d->bz, d->path, IFACE_DEVICE);
	d->exported = false;
	d->has_rssi = d->has_mfr = false;
	d->seen_public = false;
	disarm(&d->temp_timer);
}

static void touch_temporary(struct dev *d)
{
	if (!d->temporary || d->bz->cfg.temporary_timeout_s == 0) {
		disarm(&d->temp_timer);
		return;
	}
	arm(d->bz, &d->temp_timer, (uint64_t)d->bz->cfg.temporary_timeout_s * FG_USEC_PER_SEC,
	    on_temporary_timeout, d);
}

static int on_temporary_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dev *d = userdata;

	disarm(&d->temp_timer);
	if (d->connected || d->connecting || !d->temporary)
		return 0;
	log_info("%s: temporary device not seen for %us, removing it",
		 fs_button_address(d->btn), d->bz->cfg.temporary_timeout_s);
	dev_unexport(d);
	return 0;
}

/* --- links ------------------------------------------------------------------------- */

static void connect_reply_error(struct dev *d, const char *name, const char *text)
{
	if (!d->connect_msg)
		return;
	sd_bus_reply_method_errorf(d->connect_msg, name, "%s", text);
	d->connect_msg = sd_bus_message_unref(d->connect_msg);
}

static void connect_abort(struct dev *d, const char *text)
{
	d->connecting = false;
	d->held = false;
	disarm(&d->connect_timer);
	disarm(&d->connect_timeout);
	d->connect_scheduled = false;
	if (d->connect_msg)
		d->bz->stats.connect_failures++;
	connect_reply_error(d, E_FAILED, text);
}

enum drop_reason {
	DROP_LOCAL,	/* Disconnect(), power off, RemoveDevice */
	DROP_REMOTE,	/* the button hung up */
	DROP_TIMEOUT,	/* supervision timeout: out of range */
	DROP_SILENT,	/* bluetoothd died: nobody is told */
};

static void link_down(struct dev *d, enum drop_reason why)
{
	/* BlueZ's names and messages for Device1.Disconnected (5.82). */
	static const char *const reasons[][2] = {
		[DROP_LOCAL] = { "org.bluez.Reason.Local", "Connection terminated by local host" },
		[DROP_REMOTE] = { "org.bluez.Reason.Remote", "Connection terminated by remote user" },
		[DROP_TIMEOUT] = { "org.bluez.Reason.Timeout", "Connection timeout" },
		[DROP_SILENT] = { "", "" },
	};
	struct fs_bluez *bz = d->bz;
	bool was = d->connected;

	disarm(&d->resolve_timer);
	disarm(&d->loss_timer);
	if (why == DROP_SILENT)
		/* A dying bluetoothd answers nothing; the bus tells the caller. */
		d->connect_msg = sd_bus_message_unref(d->connect_msg);
	if (d->connecting)
		connect_abort(d, LE_ABORT_LOCAL);
	if (!was)
		return;
	d->connected = false;
	if (why == DROP_SILENT) {
		d->resolved = false;
		close_write_fd(d, false);
		close_notify_fd(d, false);
		d->notify_track = sd_bus_track_unref(d->notify_track);
		d->gatt_exported = false;
		d->sc_indicating = false;
	} else {
		/* The order bluetoothctl shows: ServicesResolved, Disconnected,
		 * Connected. */
		if (d->resolved) {
			d->resolved = false;
			emit_changed(bz, d->path, IFACE_DEVICE, "ServicesResolved", NULL);
		}
		if (bz->cfg.modern && bz->running)
			sd_bus_emit_signal(bz->bus, d->path, IFACE_DEVICE, "Disconnected", "ss",
					   reasons[why][0], reasons[why][1]);
		gatt_unexport(d);
		emit_changed(bz, d->path, IFACE_DEVICE, "Connected", NULL);
	}
	log_info("%s: disconnected (%s)", fs_button_address(d->btn),
		 why == DROP_LOCAL ? "local" : why == DROP_REMOTE ? "remote" :
		 why == DROP_TIMEOUT ? "link loss" : "bluetoothd gone");
	fs_button_link_down(d->btn);
	touch_temporary(d);
}

static int on_resolved(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dev *d = userdata;

	disarm(&d->resolve_timer);
	d->resolved = true;
	emit_changed(d->bz, d->path, IFACE_DEVICE, "UUIDs", "ServicesResolved", NULL);
	log_info("%s: services resolved", fs_button_address(d->btn));
	return 0;
}

static bool connectable(struct dev *d)
{
	return d->bz->powered && fs_button_in_range(d->btn) &&
	       fs_button_adv(d->btn) != FS_ADV_NONE;
}

static int on_connect_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dev *d = userdata;

	disarm(&d->connect_timer);
	d->connect_scheduled = false;
	if (!connectable(d))
		return 0;	/* keep waiting until the timeout */
	disarm(&d->connect_timeout);
	d->connecting = false;
	d->held = false;
	d->connected = true;
	d->has_rssi = false;
	d->bz->stats.connects++;
	if (fs_button_take_fault(d->btn, FS_FAULT_SILENT_CONNECT)) {
		/* as bluetoothd 5.66 once did: the property reads true, no signal says so */
		log_info("%s: fault: link up not signalled", fs_button_address(d->btn));
		emit_changed(d->bz, d->path, IFACE_DEVICE, "RSSI", NULL);
	} else {
		emit_changed(d->bz, d->path, IFACE_DEVICE, "Connected", "RSSI", NULL);
	}
	log_info("%s: connected", fs_button_address(d->btn));
	fs_button_link_up(d->btn, d->bz->cfg.mtu);
	gatt_export(d);
	/* bluetoothd answers Connect() once ATT is attached, before services resolve */
	if (d->connect_msg) {
		sd_bus_reply_method_return(d->connect_msg, NULL);
		d->connect_msg = sd_bus_message_unref(d->connect_msg);
	}
	if (fs_button_take_fault(d->btn, FS_FAULT_NO_RESOLVE))
		log_info("%s: fault: services never resolve on this link", fs_button_address(d->btn));
	else
		arm(d->bz, &d->resolve_timer, (uint64_t)d->bz->cfg.resolve_ms * FG_USEC_PER_MSEC,
		    on_resolved, d);
	return 0;
}

/*
 * During an LE discovery the kernel acts on a pending connection only at
 * an advertising report of that device, and the controller's duplicate
 * filter passes one report per device per scan window: a Connect() for a
 * device already reported in this window waits until the window ends
 * (bluetoothd then restarts the scan) or the discovery stops (the kernel
 * then scans passively for it and connects at once). docs/bluez.md.
 */
static bool held_by_discovery(struct dev *d)
{
	return d->bz->cfg.discovery_window_ms && d->bz->discovering && d->window_seen;
}

static void schedule_connect(struct dev *d)
{
	uint64_t ms = d->bz->cfg.connect_ms;

	if (!d->connecting || d->connect_scheduled || !connectable(d))
		return;
	if (held_by_discovery(d)) {
		if (!d->held) {
			d->held = true;
			d->bz->stats.held++;
			log_info("%s: Connect held by the discovery window (reported in it already)",
				 fs_button_address(d->btn));
		}
		return;
	}
	d->held = false;
	if (fs_button_take_fault(d->btn, FS_FAULT_SLOW_CONNECT)) {
		ms += fs_button_slow_connect_ms(d->btn);
		log_info("%s: fault: slow connect (+%ums)", fs_button_address(d->btn),
			 fs_button_slow_connect_ms(d->btn));
	}
	d->connect_scheduled = true;
	arm(d->bz, &d->connect_timer, ms * FG_USEC_PER_MSEC, on_connect_timer, d);
}

static int on_connect_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dev *d = userdata;

	log_info("%s: connect timed out", fs_button_address(d->btn));
	connect_abort(d, LE_ABORT_LOCAL);
	return 0;
}

static int on_link_loss(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dev *d = userdata;

	disarm(&d->loss_timer);
	if (d->connected && !fs_button_in_range(d->btn))
		link_down(d, DROP_TIMEOUT);
	return 0;
}

/* --- advertising reports ------------------------------------------------------------- */

static bool client_matches(struct dclient *c, struct dev *d, bool public)
{
	const char *name = public ? "F2" : NULL;

	if (!c->discovering)
		return false;
	if (!c->has_filter)
		return true;
	if (strcmp(c->transport, "bredr") == 0)
		return false;
	if (c->n_uuids) {
		bool hit = false;

		for (size_t i = 0; i < c->n_uuids; i++)
			if (public && strcasecmp(c->uuids[i], FLIC_SERVICE_UUID) == 0)
				hit = true;
		if (!hit)
			return false;
	}
	if (c->has_rssi && fs_button_rssi(d->btn) < c->rssi)
		return false;
	if (c->pattern && c->pattern[0] &&
	    strncasecmp(fs_button_address(d->btn), c->pattern, strlen(c->pattern)) != 0 &&
	    !(name && strncmp(name, c->pattern, strlen(c->pattern)) == 0))
		return false;
	return true;
}

static void report(struct dev *d)
{
	struct fs_bluez *bz = d->bz;
	bool public = fs_button_adv(d->btn) == FS_ADV_PUBLIC, match = false, dup = false;
	uint8_t mfr[5];
	int16_t rssi;
	bool new_public, mfr_changed;

	for (struct dclient *c = bz->clients; c; c = c->next)
		if (client_matches(c, d, public)) {
			match = true;
			dup |= !c->has_filter || c->duplicate;
		}
	if (!match)
		return;
	bz->stats.reports++;
	fs_button_manufacturer_data(d->btn, mfr);
	/* A little noise, as a real radio would show. With duplicate
	 * filtering on for every client (DuplicateData false) the controller
	 * reports a device once per scan, so nothing changes after that
	 * unless the advertisement itself does. */
	d->jitter = d->jitter * 1103515245u + 12345u;
	rssi = fs_button_rssi(d->btn);
	/*
	 * --steady: RSSI as btvirt's (never moving), and a public-mode
	 * advertisement (service UUID and name, no manufacturer data) has
	 * nothing bluetoothd would announce again: the button is reported
	 * once, until a discovery session ends and forgets its RSSI.
	 */
	if (dup && bz->cfg.steady)
		dup = !public;
	else if (dup)
		rssi += (int16_t)((d->jitter >> 16) % 5) - 2;
	else if (d->has_rssi)
		rssi = d->rssi;
	new_public = public && !d->seen_public;
	mfr_changed = !d->has_mfr || memcmp(mfr, d->mfr, 5) != 0;

	if (!d->exported) {
		d->seen_public = public;
		d->has_rssi = true;
		d->rssi = rssi;
		d->has_mfr = true;
		memcpy(d->mfr, mfr, 5);
		d->temporary = true;
		dev_export(d);
		log_info("%s: found (%s advertisement, RSSI %d)", fs_button_address(d->btn),
			 public ? "public" : "private", rssi);
	} else {
		bool rssi_changed = !d->has_rssi || d->rssi != rssi;

		d->seen_public |= public;
		d->has_rssi = true;
		d->rssi = rssi;
		d->has_mfr = true;
		memcpy(d->mfr, mfr, 5);
		log_debug("%s: advertising report (RSSI %d%s%s)", fs_button_address(d->btn), rssi,
			  rssi_changed ? ", changed" : "", dup ? ", duplicates on" : "");
		if (new_public)
			emit_changed(bz, d->path, IFACE_DEVICE, "Name", "Alias", "UUIDs", NULL);
		if (rssi_changed && (mfr_changed || dup))
			emit_changed(bz, d->path, IFACE_DEVICE, "RSSI", "ManufacturerData", NULL);
		else if (rssi_changed)
			emit_changed(bz, d->path, IFACE_DEVICE, "RSSI", NULL);
		else if (mfr_changed || dup)
			emit_changed(bz, d->path, IFACE_DEVICE, "ManufacturerData", NULL);
	}
	touch_temporary(d);
}

static int on_scan(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_bluez *bz = userdata;

	disarm(&bz->scan_timer);
	if (!bz->discovering)
		return 0;
	for (size_t i = 0; i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];
		bool first = !d->window_seen;

		if (d->connected || !connectable(d))
			continue;
		/* the controller hears it: the first time in this window, the kernel too */
		d->window_seen = true;
		if (!d->connecting) {
			report(d);
		} else if (first) {
			d->window_seen = false;
			schedule_connect(d);
			d->window_seen = true;
		}
	}
	arm(bz, &bz->scan_timer, (uint64_t)bz->cfg.scan_interval_ms * FG_USEC_PER_MSEC,
	    on_scan, bz);
	return 0;
}

static void new_window(struct fs_bluez *bz)
{
	for (size_t i = 0; i < bz->n_devs; i++)
		bz->devs[i]->window_seen = false;
}

static int on_window(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_bluez *bz = userdata;

	/* the kernel ended the window; bluetoothd starts the next one at once */
	log_debug("discovery window ended, scanning again");
	for (size_t i = 0; i < bz->n_devs; i++)
		if (bz->devs[i]->connecting && bz->devs[i]->held) {
			bz->stats.window_waits++;
			log_info("%s: the held Connect goes on: the discovery window ended",
				 fs_button_address(bz->devs[i]->btn));
		}
	new_window(bz);
	arm(bz, &bz->window_timer, (uint64_t)bz->cfg.discovery_window_ms * FG_USEC_PER_MSEC, on_window, bz);
	arm(bz, &bz->scan_timer, 0, on_scan, bz);
	return 0;
}

static void update_discovering(struct fs_bluez *bz)
{
	bool any = false;

	for (struct dclient *c = bz->clients; c; c = c->next)
		any |= c->discovering;
	if (any == bz->discovering)
		return;
	bz->discovering = any;
	emit_changed(bz, ADAPTER_PATH, IFACE_ADAPTER, "Discovering", NULL);
	new_window(bz);
	if (any) {
		if (bz->cfg.discovery_window_ms)
			arm(bz, &bz->window_timer, (uint64_t)bz->cfg.discovery_window_ms * FG_USEC_PER_MSEC,
			    on_window, bz);
		arm(bz, &bz->scan_timer, 0, on_scan, bz);
	} else {
		disarm(&bz->window_timer);
		disarm(&bz->scan_timer);
		/* the kernel scans passively for pending connections: held ones go now */
		for (size_t i = 0; i < bz->n_devs; i++)
			schedule_connect(bz->devs[i]);
		/* BlueZ forgets RSSI when a discovery session ends. */
		for (size_t i = 0; i < bz->n_devs; i++) {
			struct dev *d = bz->devs[i];

			if (d->exported && d->has_rssi) {
				d->has_rssi = false;
				emit_changed(bz, d->path, IFACE_DEVICE, "RSSI", NULL);
			}
		}
	}
}

static struct dclient *dclient_free(struct dclient *c)
{
	if (!c)
		return NULL;
	sd_bus_track_unref(c->track);
	for (size_t i = 0; i < c->n_uuids; i++)
		free(c->uuids[i]);
	free(c->uuids);
	free(c->pattern);
	free(c->sender);
	free(c);
	return NULL;
}

static void dclient_remove(struct fs_bluez *bz, struct dclient *c)
{
	for (struct dclient **p = &bz->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	dclient_free(c);
	update_discovering(bz);
}

static int on_client_gone(sd_bus_track *t, void *userdata)
{
	struct dclient *c = userdata;

	log_debug("discovery client %s left the bus", c->sender);
	dclient_remove(c->bz, c);
	return 0;
}

static struct dclient *dclient_get(struct fs_bluez *bz, const char *sender, bool create)
{
	struct dclient *c;

	for (c = bz->clients; c; c = c->next)
		if (strcmp(c->sender, sender) == 0)
			return c;
	if (!create)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->bz = bz;
	c->sender = strdup(sender);
	if (!c->sender || sd_bus_track_new(bz->bus, &c->track, on_client_gone, c) < 0 ||
	    sd_bus_track_add_name(c->track, sender) < 0)
		return dclient_free(c);
	c->next = bz->clients;
	bz->clients = c;
	return c;
}

/* --- power, adapter, restart ------------------------------------------------------------ */

static void drop_all_links(struct fs_bluez *bz, enum drop_reason why)
{
	for (size_t i = 0; i < bz->n_devs; i++)
		link_down(bz->devs[i], why);
}

static void clear_clients(struct fs_bluez *bz)
{
	while (bz->clients) {
		struct dclient *c = bz->clients;

		bz->clients = c->next;
		dclient_free(c);
	}
	disarm(&bz->scan_timer);
	disarm(&bz->window_timer);
	new_window(bz);
	if (bz->discovering) {
		bz->discovering = false;
		emit_changed(bz, ADAPTER_PATH, IFACE_ADAPTER, "Discovering", NULL);
	}
}

static void set_powered(struct fs_bluez *bz, bool on)
{
	if (bz->powered == on)
		return;
	if (!on) {
		drop_all_links(bz, DROP_LOCAL);
		clear_clients(bz);
	}
	bz->powered = on;
	log_info("adapter powered %s", on ? "on" : "off");
	emit_changed(bz, ADAPTER_PATH, IFACE_ADAPTER, "Powered", "PowerState", NULL);
	if (on)
		for (size_t i = 0; i < bz->n_devs; i++)
			schedule_connect(bz->devs[i]);
}

static void export_adapter(struct fs_bluez *bz)
{
	bz->present = true;
	bz->powered = true;	/* main.conf AutoEnable=true */
	emit_added(bz, ADAPTER_PATH);
	/* Devices bluetoothd had stored come back (without RSSI). */
	for (size_t i = 0; i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];

		if (!d->temporary && !d->exported && d->path[0]) {
			d->has_rssi = false;
			dev_export(d);
		}
	}
}

static void unexport_adapter(struct fs_bluez *bz, bool silent)
{
	drop_all_links(bz, silent ? DROP_SILENT : DROP_LOCAL);
	clear_clients(bz);
	for (size_t i = 0; i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];

		if (silent) {
			d->exported = d->gatt_exported = false;
			disarm(&d->temp_timer);
		} else {
			dev_unexport(d);
		}
		if (d->temporary)
			d->exported = false;
	}
	if (!silent)
		emit_removed(bz, ADAPTER_PATH, IFACE_ADAPTER);
	bz->present = false;
	bz->powered = false;
}

int fs_bluez_remove_adapter(struct fs_bluez *bz)
{
	if (!bz->running || !bz->present)
		return -ENODEV;
	log_info("adapter hci0 removed");
	unexport_adapter(bz, false);
	return 0;
}

int fs_bluez_add_adapter(struct fs_bluez *bz)
{
	if (!bz->running)
		return -ENODEV;
	if (bz->present)
		return -EEXIST;
	log_info("adapter hci0 added");
	export_adapter(bz);
	return 0;
}

static int bus_attach(struct fs_bluez *bz);

static int on_restart(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_bluez *bz = userdata;
	int r;

	disarm(&bz->restart_timer);
	r = bus_attach(bz);
	if (r < 0) {
		log_error_errno(r, "bluetoothd could not come back: %m");
		return 0;
	}
	log_info("bluetoothd is back");
	return 0;
}

int fs_bluez_restart(struct fs_bluez *bz, uint32_t delay_ms)
{
	if (!bz->running)
		return -EALREADY;
	log_info("bluetoothd restarting (down for %ums)", delay_ms);
	bz->stats.restarts++;
	unexport_adapter(bz, true);
	bz->running = false;
	bz->bus = sd_bus_flush_close_unref(bz->bus);
	for (size_t i = 0; i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];

		/* Stored devices come back; the rest is forgotten. */
		if (d->temporary)
			d->seen_public = false;
	}
	return arm(bz, &bz->restart_timer, (uint64_t)delay_ms * FG_USEC_PER_MSEC,
		   on_restart, bz);
}

bool fs_bluez_running(const struct fs_bluez *bz)
{
	return bz->running;
}

bool fs_bluez_adapter_present(const struct fs_bluez *bz)
{
	return bz->running && bz->present;
}

/* --- fd-based GATT paths ------------------------------------------------------------------ */

static int on_write_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct dev *d = userdata;
	uint8_t buf[512];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			d->values_written++;
			d->bz->stats.writes++;
			/* Out of range, the write never reaches the button. */
			if (fs_button_in_range(d->btn) &&
			    fs_button_att_write(d->btn, buf, (size_t)n) == -EMSGSIZE)
				log_warning("%s: dropping a %zd-byte write over the ATT MTU",
					    fs_button_address(d->btn), n);
			if (d->write_fd != fd)
				return 0;	/* the write ended the link */
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		break;
	}
	log_debug("%s: AcquireWrite fd closed by the client", fs_button_address(d->btn));
	close_write_fd(d, true);
	return 0;
}

static int on_notify_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct dev *d = userdata;
	uint8_t buf[16];

	if (!(revents & (EPOLLHUP | EPOLLERR)) && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) != 0)
		return 0;
	log_debug("%s: AcquireNotify fd closed by the client", fs_button_address(d->btn));
	close_notify_fd(d, true);
	return 0;
}

static int acquire(struct dev *d, sd_bus_message *m, bool notify)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return sd_bus_reply_method_errorf(m, E_FAILED, "%s", strerror(errno));
	r = sd_event_add_io(d->bz->event, notify ? &d->notify_io : &d->write_io, sv[0],
			    EPOLLIN, notify ? on_notify_io : on_write_io, d);
	if (r < 0) {
		close(sv[0]);
		close(sv[1]);
		return sd_bus_reply_method_errorf(m, E_FAILED, "%s", strerror(-r));
	}
	if (notify)
		d->notify_fd = sv[0];
	else
		d->write_fd = sv[0];
	r = sd_bus_reply_method_return(m, "hq", sv[1], d->bz->cfg.mtu);
	close(sv[1]);
	if (notify)
		emit_changed(d->bz, d->gatt_notify, IFACE_CHAR, "NotifyAcquired", "Notifying", NULL);
	else
		emit_changed(d->bz, d->gatt_write, IFACE_CHAR, "WriteAcquired", NULL);
	log_debug("%s: %s acquired (fd, MTU %u)", fs_button_address(d->btn),
		  notify ? "notify" : "write", d->bz->cfg.mtu);
	return r;
}

int fs_bluez_notify(struct fs_bluez *bz, struct fs_button *btn, const uint8_t *att, size_t len)
{
	struct dev *d = find_dev_by_button(bz, btn);

	if (!d || !d->connected || !d->gatt_exported)
		return -ENOTCONN;
	if (!fs_button_in_range(btn))
		return -EHOSTUNREACH;	/* lost until the link times out */
	if (d->notify_fd >= 0) {
		if (send(d->notify_fd, att, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			return -errno == -EAGAIN ? -ENOBUFS : -errno;
	} else if (sd_bus_track_count(d->notify_track) > 0) {
		memcpy(d->value, att, len);
		d->value_len = len;
		emit_changed(bz, d->gatt_notify, IFACE_CHAR, "Value", NULL);
	} else {
		return -ENOTCONN;
	}
	d->values_notified++;
	bz->stats.notifications++;
	return 0;
}

void fs_bluez_terminate_link(struct fs_bluez *bz, struct fs_button *btn)
{
	struct dev *d = find_dev_by_button(bz, btn);

	if (d && d->connected)
		link_down(d, DROP_REMOTE);
	else
		fs_button_link_down(btn);
}

void fs_bluez_button_changed(struct fs_bluez *bz, struct fs_button *btn)
{
	struct dev *d = find_dev_by_button(bz, btn);

	if (!d)
		return;
	if (d->connected && !fs_button_in_range(btn)) {
		if (!d->loss_timer)
			arm(bz, &d->loss_timer, (uint64_t)bz->cfg.supervision_ms * FG_USEC_PER_MSEC,
			    on_link_loss, d);
	} else if (d->connected) {
		disarm(&d->loss_timer);
	}
	schedule_connect(d);
}

/* --- method handlers ----------------------------------------------------------------- */

static int reply_ok(sd_bus_message *m)
{
	return sd_bus_reply_method_return(m, NULL);
}

static int err(sd_bus_message *m, const char *name, const char *text)
{
	return sd_bus_reply_method_errorf(m, name, "%s", text);
}

static int parse_filter(struct dclient *c, sd_bus_message *m)
{
	const char *key;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	c->has_filter = false;
	c->has_rssi = false;
	c->duplicate = true;
	snprintf(c->transport, sizeof(c->transport), "auto");
	for (size_t i = 0; i < c->n_uuids; i++)
		free(c->uuids[i]);
	c->n_uuids = 0;
	c->pattern = (free(c->pattern), NULL);
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		c->has_filter = true;
		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		if (strcmp(key, "UUIDs") == 0) {
			char **l = NULL;

			r = sd_bus_message_enter_container(m, 'v', "as");
			if (r < 0)
				return -EINVAL;
			r = sd_bus_message_read_strv(m, &l);
			if (r < 0)
				return -EINVAL;
			free(c->uuids);
			c->uuids = l;
			for (c->n_uuids = 0; l && l[c->n_uuids]; c->n_uuids++)
				;
		} else if (strcmp(key, "RSSI") == 0) {
			r = sd_bus_message_read(m, "v", "n", &c->rssi);
			c->has_rssi = true;
		} else if (strcmp(key, "Pathloss") == 0) {
			uint16_t pl;

			r = sd_bus_message_read(m, "v", "q", &pl);
			if (r >= 0 && c->has_rssi)
				return -EINVAL;	/* RSSI and Pathloss exclude each other */
		} else if (strcmp(key, "Transport") == 0) {
			const char *t;

			r = sd_bus_message_read(m, "v", "s", &t);
			if (r >= 0 && strcmp(t, "auto") && strcmp(t, "le") && strcmp(t, "bredr"))
				return -EINVAL;
			if (r >= 0)
				snprintf(c->transport, sizeof(c->transport), "%s", t);
		} else if (strcmp(key, "DuplicateData") == 0) {
			int b;

			r = sd_bus_message_read(m, "v", "b", &b);
			c->duplicate = b;
		} else if (strcmp(key, "Discoverable") == 0) {
			int b;

			r = sd_bus_message_read(m, "v", "b", &b);
		} else if (strcmp(key, "Pattern") == 0) {
			const char *p;

			r = sd_bus_message_read(m, "v", "s", &p);
			if (r >= 0 && !(c->pattern = strdup(p)))
				return -ENOMEM;
		} else {
			return -EINVAL;
		}
		if (r < 0)
			return -EINVAL;
		if (strcmp(key, "UUIDs") == 0 && (r = sd_bus_message_exit_container(m)) < 0)
			return -EINVAL;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return -EINVAL;
	return sd_bus_message_exit_container(m);
}

static int adapter_method(struct fs_bluez *bz, sd_bus_message *m, const char *member)
{
	const char *sender = sd_bus_message_get_sender(m);
	struct dclient *c;
	int r;

	if (strcmp(member, "StartDiscovery") == 0) {
		if (!bz->powered)
			return err(m, E_NOTREADY, "Resource Not Ready");
		c = dclient_get(bz, sender, true);
		if (!c)
			return err(m, E_FAILED, "Out of memory");
		if (c->discovering)
			return err(m, E_INPROGRESS, "Operation already in progress");
		c->discovering = true;
		log_debug("discovery started by %s", sender);
		r = reply_ok(m);
		update_discovering(bz);
		return r;
	}
	if (strcmp(member, "StopDiscovery") == 0) {
		if (!bz->powered)
			return err(m, E_NOTREADY, "Resource Not Ready");
		c = dclient_get(bz, sender, false);
		if (!c || !c->discovering)
			return err(m, E_FAILED, "No discovery started");
		c->discovering = false;
		log_debug("discovery stopped by %s", sender);
		r = reply_ok(m);
		dclient_remove(bz, c);
		return r;
	}
	if (strcmp(member, "SetDiscoveryFilter") == 0) {
		if (!bz->powered)
			return err(m, E_NOTREADY, "Resource Not Ready");
		c = dclient_get(bz, sender, true);
		if (!c)
			return err(m, E_FAILED, "Out of memory");
		r = parse_filter(c, m);
		if (r < 0)
			return err(m, E_INVALIDARGS, "Invalid arguments in method call");
		log_debug("discovery filter of %s: %s, %zu UUIDs, transport %s, duplicates %s",
			  sender, c->has_filter ? "set" : "cleared", c->n_uuids, c->transport,
			  c->duplicate ? "yes" : "no");
		return reply_ok(m);
	}
	if (strcmp(member, "GetDiscoveryFilters") == 0) {
		static const char *const f[] = { "UUIDs", "RSSI", "Pathloss", "Transport",
						 "DuplicateData", "Discoverable", "Pattern" };
		__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;

		r = sd_bus_message_new_method_return(m, &reply);
		if (r >= 0)
			r = append_strv(reply, f, 7);
		return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
	}
	if (strcmp(member, "RemoveDevice") == 0) {
		const char *path;
		struct obj o;

		r = sd_bus_message_read(m, "o", &path);
		if (r < 0)
			return err(m, E_INVALIDARGS, "Invalid arguments in method call");
		o = lookup(bz, path);
		if (o.kind != OBJ_DEVICE)
			return err(m, E_DOESNOTEXIST, "Does Not Exist");
		log_info("%s: RemoveDevice", fs_button_address(o.dev->btn));
		link_down(o.dev, DROP_LOCAL);
		dev_unexport(o.dev);
		o.dev->temporary = true;
		o.dev->trusted = false;
		o.dev->alias[0] = 0;
		return reply_ok(m);
	}
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s", member);
}

static int device_method(struct dev *d, sd_bus_message *m, const char *member)
{
	struct fs_bluez *bz = d->bz;

	if (strcmp(member, "Connect") == 0) {
		if (!bz->powered)
			return err(m, E_NOTREADY, "Resource Not Ready");
		if (d->connected)
			return err(m, E_ALREADYCONN, "Already Connected");
		if (d->connecting)
			return err(m, E_INPROGRESS, "In Progress");
		d->connecting = true;
		d->temporary = false;	/* bluetoothd stores it from now on */
		disarm(&d->temp_timer);
		d->connect_msg = sd_bus_message_ref(m);
		log_info("%s: Connect (button %s)", fs_button_address(d->btn),
			 connectable(d) ? "advertising" : "not advertising, waiting");
		arm(bz, &d->connect_timeout, (uint64_t)bz->cfg.connect_timeout_ms * FG_USEC_PER_MSEC,
		    on_connect_timeout, d);
		schedule_connect(d);
		return 1;
	}
	if (strcmp(member, "Disconnect") == 0) {
		if (d->connecting && !d->connected) {
			connect_abort(d, LE_ABORT_LOCAL);
			return reply_ok(m);
		}
		if (!d->connected)
			return err(m, E_NOTCONNECTED, "Not Connected");
		link_down(d, DROP_LOCAL);
		return reply_ok(m);
	}
	if (strcmp(member, "Pair") == 0)
		return err(m, E_NOTSUPPORTED, "Operation is not supported");
	if (strcmp(member, "CancelPairing") == 0)
		return err(m, E_DOESNOTEXIST, "Does Not Exist");
	if (strcmp(member, "ConnectProfile") == 0 || strcmp(member, "DisconnectProfile") == 0)
		return err(m, E_NOTSUPPORTED, "Operation is not supported");
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s", member);
}

static int skip_options(sd_bus_message *m)
{
	int r = sd_bus_message_skip(m, "a{sv}");

	return r < 0 ? -EINVAL : 0;
}

static int on_notify_track_empty(sd_bus_track *t, void *userdata)
{
	struct dev *d = userdata;

	d->notify_track = sd_bus_track_unref(d->notify_track);
	emit_changed(d->bz, d->gatt_notify, IFACE_CHAR, "Notifying", NULL);
	return 0;
}

static int char_method(struct dev *d, bool notify, sd_bus_message *m, const char *member)
{
	const char *sender = sd_bus_message_get_sender(m);
	int r;

	if (strcmp(member, "ReadValue") == 0) {
		if (skip_options(m) < 0)
			return err(m, E_INVALIDARGS, "Invalid arguments in method call");
		return err(m, E_NOTPERMITTED, "Read not permitted");
	}
	if (strcmp(member, "WriteValue") == 0) {
		const void *val;
		size_t len;
		const char *key, *type = NULL;

		r = sd_bus_message_read_array(m, 'y', &val, &len);
		if (r < 0)
			return err(m, E_INVALIDARGS, "Invalid arguments in method call");
		r = sd_bus_message_enter_container(m, 'a', "{sv}");
		while (r > 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
			if (sd_bus_message_read(m, "s", &key) < 0)
				return err(m, E_INVALIDARGS, "Invalid arguments in method call");
			if (strcmp(key, "type") == 0)
				r = sd_bus_message_read(m, "v", "s", &type);
			else
				r = sd_bus_message_skip(m, "v");
			if (r < 0 || sd_bus_message_exit_container(m) < 0)
				return err(m, E_INVALIDARGS, "Invalid arguments in method call");
		}
		if (r < 0)
			return err(m, E_INVALIDARGS, "Invalid arguments in method call");
		if (notify)
			return err(m, E_NOTPERMITTED, "Write not permitted");
		if (d->write_fd >= 0)
			return err(m, E_NOTPERMITTED, "Write acquired");
		/* Only write-without-response: "request" and "reliable" are refused. */
		if (type && strcmp(type, "command") != 0)
			return err(m, E_NOTSUPPORTED, "Operation is not supported");
		if (len > (size_t)d->bz->cfg.mtu - 3)
			return err(m, E_FAILED, "Failed to initiate write");
		d->values_written++;
		d->bz->stats.writes++;
		r = reply_ok(m);
		if (fs_button_in_range(d->btn))
			fs_button_att_write(d->btn, val, len);
		return r;
	}
	if (strcmp(member, "AcquireWrite") == 0) {
		if (skip_options(m) < 0)
			return err(m, E_INVALIDARGS, "Invalid arguments in method call");
		if (notify)
			return err(m, E_NOTSUPPORTED, "Operation is not supported");
		if (d->write_fd >= 0)
			return err(m, E_NOTPERMITTED, "Write acquired");
		return acquire(d, m, false);
	}
	if (strcmp(member, "AcquireNotify") == 0) {
		if (skip_options(m) < 0)
			return err(m, E_INVALIDARGS, "Invalid arguments in method call");
		if (!notify)
			return err(m, E_NOTSUPPORTED, "Operation is not supported");
		if (d->notify_fd >= 0)
			return err(m, E_NOTPERMITTED, "Notify acquired");
		if (sd_bus_track_count(d->notify_track) > 0)
			return err(m, E_INPROGRESS, "In Progress");
		return acquire(d, m, true);
	}
	if (strcmp(member, "StartNotify") == 0) {
		bool was;

		if (!notify)
			return err(m, E_NOTSUPPORTED, "Operation is not supported");
		if (d->notify_fd >= 0)
			return err(m, E_NOTPERMITTED, "Notify acquired");
		was = sd_bus_track_count(d->notify_track) > 0;
		if (!d->notify_track &&
		    sd_bus_track_new(d->bz->bus, &d->notify_track, on_notify_track_empty, d) < 0)
			return err(m, E_FAILED, "Out of memory");
		if (sd_bus_track_count_name(d->notify_track, sender) > 0)
			return reply_ok(m);	/* already notifying for this client */
		if (sd_bus_track_add_name(d->notify_track, sender) < 0)
			return err(m, E_FAILED, "Failed to subscribe");
		r = reply_ok(m);
		if (!was)
			emit_changed(d->bz, d->gatt_notify, IFACE_CHAR, "Notifying", NULL);
		log_debug("%s: notifications on for %s", fs_button_address(d->btn), sender);
		return r;
	}
	if (strcmp(member, "StopNotify") == 0) {
		if (!notify)
			return err(m, E_NOTSUPPORTED, "Operation is not supported");
		if (sd_bus_track_count_name(d->notify_track, sender) <= 0)
			return err(m, E_FAILED, "No notify session started");
		sd_bus_track_remove_name(d->notify_track, sender);
		return reply_ok(m);
	}
	if (strcmp(member, "Confirm") == 0)
		return reply_ok(m);
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s", member);
}

/* Service Changed: indications can be switched on; the button never sends one. */
static int svc_changed_method(struct dev *d, sd_bus_message *m, const char *member)
{
	bool on;
	int r;

	if (strcmp(member, "ReadValue") == 0)
		return err(m, E_NOTPERMITTED, "Read not permitted");
	if (strcmp(member, "WriteValue") == 0)
		return err(m, E_NOTPERMITTED, "Write not permitted");
	if (strcmp(member, "AcquireWrite") == 0 || strcmp(member, "AcquireNotify") == 0)
		return err(m, E_NOTSUPPORTED, "Operation is not supported");
	if (strcmp(member, "StartNotify") == 0 || strcmp(member, "StopNotify") == 0) {
		on = member[2] == 'a';
		if (!on && !d->sc_indicating)
			return err(m, E_FAILED, "No notify session started");
		r = reply_ok(m);
		if (d->sc_indicating != on) {
			d->sc_indicating = on;
			emit_changed(d->bz, d->gatt_sc, IFACE_CHAR, "Notifying", NULL);
		}
		return r;
	}
	if (strcmp(member, "Confirm") == 0)
		return reply_ok(m);
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s", member);
}

static int desc_method(struct dev *d, sd_bus_message *m, const char *member)
{
	if (strcmp(member, "ReadValue") == 0) {
		__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
		uint8_t ccc[2] = { notifying(d), 0 };
		int r;

		if (skip_options(m) < 0)
			return err(m, E_INVALIDARGS, "Invalid arguments in method call");
		r = sd_bus_message_new_method_return(m, &reply);
		if (r >= 0)
			r = sd_bus_message_append_array(reply, 'y', ccc, 2);
		return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
	}
	if (strcmp(member, "WriteValue") == 0)
		/* BlueZ keeps the CCC to itself: StartNotify/StopNotify. */
		return err(m, E_NOTPERMITTED, "Write not permitted");
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s", member);
}

/* --- Properties, ObjectManager, Introspectable ------------------------------------------ */

/*
 * Reads (interface, name) of Get/Set and checks both exist on @o. Returns 1
 * when the caller may go on, else the result of the error reply sent.
 */
static int read_prop_args(struct fs_bluez *bz, struct obj *o, sd_bus_message *m,
			  const char **ret_iface, const char **ret_name)
{
	const char *iface, *name;

	if (sd_bus_message_read(m, "ss", &iface, &name) < 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Invalid arguments");
	if (!main_iface(o->kind) || strcmp(iface, main_iface(o->kind)) != 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
						  "No such interface '%s'", iface);
	if (props_of(bz, o, NULL, name) <= 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
						  "No such property '%s'", name);
	*ret_iface = iface;
	*ret_name = name;
	return 1;
}

static int props_get(struct fs_bluez *bz, struct obj *o, sd_bus_message *m)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
	const char *iface = NULL, *name = NULL;
	int r;

	r = read_prop_args(bz, o, m, &iface, &name);
	if (r != 1)
		return r;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = props_of(bz, o, reply, name);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int props_get_all(struct fs_bluez *bz, struct obj *o, sd_bus_message *m)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
	const char *iface;
	int r;

	r = sd_bus_message_read(m, "s", &iface);
	if (r < 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Invalid arguments");
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0 && main_iface(o->kind) && strcmp(iface, main_iface(o->kind)) == 0)
		r = props_of(bz, o, reply, NULL);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int props_set(struct fs_bluez *bz, struct obj *o, sd_bus_message *m)
{
	const char *iface = NULL, *name = NULL, *contents;
	char type;
	int r, b;

	r = read_prop_args(bz, o, m, &iface, &name);
	if (r != 1)
		return r;
	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0 || type != 'v')
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Invalid arguments");

	if (o->kind == OBJ_ADAPTER && strcmp(name, "Powered") == 0) {
		if (strcmp(contents, "b") || sd_bus_message_read(m, "v", "b", &b) < 0)
			return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
							  "Invalid argument type: '%s'", contents);
		r = reply_ok(m);
		set_powered(bz, b);
		return r;
	}
	if ((o->kind == OBJ_ADAPTER || o->kind == OBJ_DEVICE) && strcmp(name, "Alias") == 0) {
		const char *s;

		if (strcmp(contents, "s") || sd_bus_message_read(m, "v", "s", &s) < 0)
			return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
							  "Invalid argument type: '%s'", contents);
		snprintf(o->kind == OBJ_ADAPTER ? bz->alias : o->dev->alias,
			 o->kind == OBJ_ADAPTER ? sizeof(bz->alias) : sizeof(o->dev->alias), "%s", s);
		r = reply_ok(m);
		emit_changed(bz, o->path, iface, "Alias", NULL);
		return r;
	}
	if (o->kind == OBJ_DEVICE && (strcmp(name, "Trusted") == 0 || strcmp(name, "Blocked") == 0)) {
		if (strcmp(contents, "b") || sd_bus_message_read(m, "v", "b", &b) < 0)
			return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
							  "Invalid argument type: '%s'", contents);
		if (name[0] == 'T') {
			o->dev->trusted = b;
			if (b) {
				o->dev->temporary = false;
				disarm(&o->dev->temp_timer);
			}
		} else {
			o->dev->blocked = b;
			if (b)
				link_down(o->dev, DROP_LOCAL);
		}
		r = reply_ok(m);
		emit_changed(bz, o->path, iface, name, NULL);
		return r;
	}
	if (o->kind == OBJ_ADAPTER && (strcmp(name, "Discoverable") == 0 || strcmp(name, "Pairable") == 0 ||
				       strcmp(name, "DiscoverableTimeout") == 0 ||
				       strcmp(name, "PairableTimeout") == 0))
		return reply_ok(m);	/* accepted; a Flic gateway never uses them */
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_PROPERTY_READ_ONLY,
					  "Property '%s' is not writable", name);
}

struct walk {
	struct fs_bluez *bz;
	sd_bus_message *m;
	const char *prefix;
	char **children;
	size_t n_children;
};

typedef int (*walk_fn)(struct walk *w, const char *path);

/* Calls @fn for every exported object below "/". */
static int walk_objects(struct fs_bluez *bz, struct walk *w, walk_fn fn)
{
	int r;

	if (!bz->running)
		return 0;
	r = fn(w, "/org/bluez");
	if (r < 0 || !bz->present)
		return r;
	r = fn(w, ADAPTER_PATH);
	for (size_t i = 0; r >= 0 && i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];

		if (!d->exported)
			continue;
		r = fn(w, d->path);
		if (r >= 0 && d->gatt_exported) {
			r = fn(w, d->gatt_svc1801);
			if (r >= 0)
				r = fn(w, d->gatt_sc);
			if (r >= 0)
				r = fn(w, d->gatt_sc_ccc);
			if (r >= 0)
				r = fn(w, d->gatt_service);
			if (r >= 0)
				r = fn(w, d->gatt_write);
			if (r >= 0)
				r = fn(w, d->gatt_notify);
			if (r >= 0)
				r = fn(w, d->gatt_ccc);
		}
	}
	return r;
}

static int managed_one(struct walk *w, const char *path)
{
	struct obj o = lookup(w->bz, path);
	int r;

	r = sd_bus_message_open_container(w->m, 'e', "oa{sa{sv}}");
	if (r >= 0)
		r = sd_bus_message_append(w->m, "o", path);
	if (r >= 0)
		r = append_ifaces(w->bz, &o, w->m);
	if (r >= 0)
		r = sd_bus_message_close_container(w->m);
	return r;
}

static int child_one(struct walk *w, const char *path)
{
	size_t n = strlen(w->prefix);
	const char *rest, *slash;
	char *name;

	if (strcmp(w->prefix, "/") == 0)
		n = 0;
	if (strncmp(path, w->prefix, n) != 0 || path[n] != '/')
		return 0;
	rest = path + n + 1;
	slash = strchr(rest, '/');
	name = strndup(rest, slash ? (size_t)(slash - rest) : strlen(rest));
	if (!name)
		return -ENOMEM;
	for (size_t i = 0; i < w->n_children; i++)
		if (strcmp(w->children[i], name) == 0) {
			free(name);
			return 0;
		}
	w->children = realloc(w->children, (w->n_children + 1) * sizeof(char *));
	if (!w->children) {
		free(name);
		return -ENOMEM;
	}
	w->children[w->n_children++] = name;
	return 0;
}

static const char *iface_xml(enum obj_kind k)
{
	switch (k) {
	case OBJ_ROOT:
		return " <interface name=\"org.freedesktop.DBus.ObjectManager\">\n"
		       "  <method name=\"GetManagedObjects\"><arg name=\"objects\" type=\"a{oa{sa{sv}}}\" direction=\"out\"/></method>\n"
		       "  <signal name=\"InterfacesAdded\"><arg name=\"object\" type=\"o\"/><arg name=\"interfaces\" type=\"a{sa{sv}}\"/></signal>\n"
		       "  <signal name=\"InterfacesRemoved\"><arg name=\"object\" type=\"o\"/><arg name=\"interfaces\" type=\"as\"/></signal>\n"
		       " </interface>\n";
	case OBJ_BLUEZ:
		return " <interface name=\"org.bluez.AgentManager1\">\n"
		       "  <method name=\"RegisterAgent\"><arg name=\"agent\" type=\"o\" direction=\"in\"/><arg name=\"capability\" type=\"s\" direction=\"in\"/></method>\n"
		       "  <method name=\"UnregisterAgent\"><arg name=\"agent\" type=\"o\" direction=\"in\"/></method>\n"
		       "  <method name=\"RequestDefaultAgent\"><arg name=\"agent\" type=\"o\" direction=\"in\"/></method>\n"
		       " </interface>\n";
	case OBJ_ADAPTER:
		return " <interface name=\"org.bluez.Adapter1\">\n"
		       "  <method name=\"StartDiscovery\"/>\n"
		       "  <method name=\"SetDiscoveryFilter\"><arg name=\"properties\" type=\"a{sv}\" direction=\"in\"/></method>\n"
		       "  <method name=\"StopDiscovery\"/>\n"
		       "  <method name=\"RemoveDevice\"><arg name=\"device\" type=\"o\" direction=\"in\"/></method>\n"
		       "  <method name=\"GetDiscoveryFilters\"><arg name=\"filters\" type=\"as\" direction=\"out\"/></method>\n"
		       "  <property name=\"Address\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"AddressType\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"Name\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"Alias\" type=\"s\" access=\"readwrite\"/>\n"
		       "  <property name=\"Class\" type=\"u\" access=\"read\"/>\n"
		       "  <property name=\"Powered\" type=\"b\" access=\"readwrite\"/>\n"
		       "  <property name=\"PowerState\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"Discoverable\" type=\"b\" access=\"readwrite\"/>\n"
		       "  <property name=\"DiscoverableTimeout\" type=\"u\" access=\"readwrite\"/>\n"
		       "  <property name=\"Pairable\" type=\"b\" access=\"readwrite\"/>\n"
		       "  <property name=\"PairableTimeout\" type=\"u\" access=\"readwrite\"/>\n"
		       "  <property name=\"Discovering\" type=\"b\" access=\"read\"/>\n"
		       "  <property name=\"UUIDs\" type=\"as\" access=\"read\"/>\n"
		       "  <property name=\"Modalias\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"Roles\" type=\"as\" access=\"read\"/>\n"
		       " </interface>\n";
	case OBJ_DEVICE:
		return " <interface name=\"org.bluez.Device1\">\n"
		       "  <method name=\"Disconnect\"/>\n"
		       "  <method name=\"Connect\"/>\n"
		       "  <method name=\"ConnectProfile\"><arg name=\"UUID\" type=\"s\" direction=\"in\"/></method>\n"
		       "  <method name=\"DisconnectProfile\"><arg name=\"UUID\" type=\"s\" direction=\"in\"/></method>\n"
		       "  <method name=\"Pair\"/>\n"
		       "  <method name=\"CancelPairing\"/>\n"
		       "  <signal name=\"Disconnected\"><arg name=\"name\" type=\"s\"/><arg name=\"message\" type=\"s\"/></signal>\n"
		       "  <property name=\"Address\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"AddressType\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"Name\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"Alias\" type=\"s\" access=\"readwrite\"/>\n"
		       "  <property name=\"Paired\" type=\"b\" access=\"read\"/>\n"
		       "  <property name=\"Bonded\" type=\"b\" access=\"read\"/>\n"
		       "  <property name=\"Trusted\" type=\"b\" access=\"readwrite\"/>\n"
		       "  <property name=\"Blocked\" type=\"b\" access=\"readwrite\"/>\n"
		       "  <property name=\"LegacyPairing\" type=\"b\" access=\"read\"/>\n"
		       "  <property name=\"RSSI\" type=\"n\" access=\"read\"/>\n"
		       "  <property name=\"Connected\" type=\"b\" access=\"read\"/>\n"
		       "  <property name=\"UUIDs\" type=\"as\" access=\"read\"/>\n"
		       "  <property name=\"Adapter\" type=\"o\" access=\"read\"/>\n"
		       "  <property name=\"ManufacturerData\" type=\"a{qv}\" access=\"read\"/>\n"
		       "  <property name=\"ServicesResolved\" type=\"b\" access=\"read\"/>\n"
		       "  <property name=\"AdvertisingFlags\" type=\"ay\" access=\"read\"/>\n"
		       " </interface>\n";
	case OBJ_GATT_SERVICE:
	case OBJ_SERVICE:
		return " <interface name=\"org.bluez.GattService1\">\n"
		       "  <property name=\"UUID\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"Device\" type=\"o\" access=\"read\"/>\n"
		       "  <property name=\"Primary\" type=\"b\" access=\"read\"/>\n"
		       "  <property name=\"Includes\" type=\"ao\" access=\"read\"/>\n"
		       "  <property name=\"Handle\" type=\"q\" access=\"read\"/>\n"
		       " </interface>\n";
	case OBJ_SVC_CHANGED:
	case OBJ_CHAR_WRITE:
	case OBJ_CHAR_NOTIFY:
		return " <interface name=\"org.bluez.GattCharacteristic1\">\n"
		       "  <method name=\"ReadValue\"><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/><arg name=\"value\" type=\"ay\" direction=\"out\"/></method>\n"
		       "  <method name=\"WriteValue\"><arg name=\"value\" type=\"ay\" direction=\"in\"/><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/></method>\n"
		       "  <method name=\"AcquireWrite\"><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/><arg name=\"fd\" type=\"h\" direction=\"out\"/><arg name=\"mtu\" type=\"q\" direction=\"out\"/></method>\n"
		       "  <method name=\"AcquireNotify\"><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/><arg name=\"fd\" type=\"h\" direction=\"out\"/><arg name=\"mtu\" type=\"q\" direction=\"out\"/></method>\n"
		       "  <method name=\"StartNotify\"/>\n"
		       "  <method name=\"StopNotify\"/>\n"
		       "  <method name=\"Confirm\"/>\n"
		       "  <property name=\"UUID\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"Service\" type=\"o\" access=\"read\"/>\n"
		       "  <property name=\"Value\" type=\"ay\" access=\"read\"/>\n"
		       "  <property name=\"Notifying\" type=\"b\" access=\"read\"/>\n"
		       "  <property name=\"Flags\" type=\"as\" access=\"read\"/>\n"
		       "  <property name=\"WriteAcquired\" type=\"b\" access=\"read\"/>\n"
		       "  <property name=\"NotifyAcquired\" type=\"b\" access=\"read\"/>\n"
		       "  <property name=\"Handle\" type=\"q\" access=\"read\"/>\n"
		       "  <property name=\"MTU\" type=\"q\" access=\"read\"/>\n"
		       " </interface>\n";
	case OBJ_SVC_CHANGED_CCC:
	case OBJ_DESC:
		return " <interface name=\"org.bluez.GattDescriptor1\">\n"
		       "  <method name=\"ReadValue\"><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/><arg name=\"value\" type=\"ay\" direction=\"out\"/></method>\n"
		       "  <method name=\"WriteValue\"><arg name=\"value\" type=\"ay\" direction=\"in\"/><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/></method>\n"
		       "  <property name=\"UUID\" type=\"s\" access=\"read\"/>\n"
		       "  <property name=\"Characteristic\" type=\"o\" access=\"read\"/>\n"
		       "  <property name=\"Value\" type=\"ay\" access=\"read\"/>\n"
		       "  <property name=\"Handle\" type=\"q\" access=\"read\"/>\n"
		       " </interface>\n";
	case OBJ_NONE:
		return "";
	}
	return "";
}

static int introspect(struct fs_bluez *bz, struct obj *o, const char *path, sd_bus_message *m)
{
	struct walk w = { .bz = bz, .prefix = path };
	char *xml = NULL;
	size_t size = 0;
	FILE *f;
	int r;

	r = walk_objects(bz, &w, child_one);
	if (r < 0)
		goto out;
	if (strcmp(path, "/") == 0 && bz->running && w.n_children == 0)
		child_one(&w, "/org");
	f = open_memstream(&xml, &size);
	if (!f) {
		r = -ENOMEM;
		goto out;
	}
	fputs("<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
	      "\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n"
	      " <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
	      "  <method name=\"Introspect\"><arg name=\"xml\" type=\"s\" direction=\"out\"/></method>\n"
	      " </interface>\n", f);
	if (o->kind != OBJ_ROOT && o->kind != OBJ_NONE)
		fputs(" <interface name=\"org.freedesktop.DBus.Properties\">\n"
		      "  <method name=\"Get\"><arg name=\"interface\" type=\"s\" direction=\"in\"/><arg name=\"name\" type=\"s\" direction=\"in\"/><arg name=\"value\" type=\"v\" direction=\"out\"/></method>\n"
		      "  <method name=\"Set\"><arg name=\"interface\" type=\"s\" direction=\"in\"/><arg name=\"name\" type=\"s\" direction=\"in\"/><arg name=\"value\" type=\"v\" direction=\"in\"/></method>\n"
		      "  <method name=\"GetAll\"><arg name=\"interface\" type=\"s\" direction=\"in\"/><arg name=\"properties\" type=\"a{sv}\" direction=\"out\"/></method>\n"
		      "  <signal name=\"PropertiesChanged\"><arg name=\"interface\" type=\"s\"/><arg name=\"changed_properties\" type=\"a{sv}\"/><arg name=\"invalidated_properties\" type=\"as\"/></signal>\n"
		      " </interface>\n", f);
	fputs(iface_xml(o->kind), f);
	for (size_t i = 0; i < w.n_children; i++)
		fprintf(f, " <node name=\"%s\"/>\n", w.children[i]);
	fputs("</node>\n", f);
	fclose(f);
	r = sd_bus_reply_method_return(m, "s", xml);
out:
	for (size_t i = 0; i < w.n_children; i++)
		free(w.children[i]);
	free(w.children);
	free(xml);
	return r;
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_bluez *bz = userdata;
	const char *path = sd_bus_message_get_path(m);
	const char *iface = sd_bus_message_get_interface(m);
	const char *member = sd_bus_message_get_member(m);
	struct obj o;
	int r;

	if (!sd_bus_message_is_method_call(m, NULL, NULL) || !path || !member)
		return 0;
	o = lookup(bz, path);
	if (o.kind == OBJ_NONE) {
		/* Intermediate nodes ("/org") answer Introspect only. */
		if (iface && strcmp(iface, IFACE_INTRO) == 0 && strcmp(path, "/org") == 0 && bz->running)
			return introspect(bz, &o, path, m);
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_OBJECT,
						  "Unknown object '%s'", path);
	}
	if (!iface)
		iface = main_iface(o.kind);
	if (strcmp(iface, IFACE_INTRO) == 0 && strcmp(member, "Introspect") == 0)
		return introspect(bz, &o, path, m);
	if (o.kind == OBJ_ROOT) {
		if (strcmp(iface, IFACE_OM) == 0 && strcmp(member, "GetManagedObjects") == 0) {
			__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
			struct walk w = { .bz = bz };

			r = sd_bus_message_new_method_return(m, &reply);
			if (r >= 0)
				r = sd_bus_message_open_container(reply, 'a', "{oa{sa{sv}}}");
			w.m = reply;
			if (r >= 0)
				r = walk_objects(bz, &w, managed_one);
			if (r >= 0)
				r = sd_bus_message_close_container(reply);
			return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
		}
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
						  "Unknown method %s.%s", iface, member);
	}
	if (strcmp(iface, IFACE_PROPS) == 0) {
		if (strcmp(member, "Get") == 0)
			return props_get(bz, &o, m);
		if (strcmp(member, "GetAll") == 0)
			return props_get_all(bz, &o, m);
		if (strcmp(member, "Set") == 0)
			return props_set(bz, &o, m);
	}
	if (strcmp(iface, main_iface(o.kind)) != 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
						  "Unknown method %s.%s", iface, member);
	switch (o.kind) {
	case OBJ_BLUEZ:
		return reply_ok(m);	/* agents: accepted and never called */
	case OBJ_ADAPTER:
		return adapter_method(bz, m, member);
	case OBJ_DEVICE:
		return device_method(o.dev, m, member);
	case OBJ_CHAR_WRITE:
		return char_method(o.dev, false, m, member);
	case OBJ_CHAR_NOTIFY:
		return char_method(o.dev, true, m, member);
	case OBJ_DESC:
		return desc_method(o.dev, m, member);
	case OBJ_SVC_CHANGED:
		return svc_changed_method(o.dev, m, member);
	case OBJ_SVC_CHANGED_CCC:
		if (strcmp(member, "WriteValue") == 0)
			return err(m, E_NOTPERMITTED, "Write not permitted");
		return err(m, E_NOTPERMITTED, "Read not permitted");
	case OBJ_GATT_SERVICE:
	case OBJ_SERVICE:
	case OBJ_ROOT:
	case OBJ_NONE:
		break;
	}
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s.%s", iface, member);
}

static int bus_attach(struct fs_bluez *bz)
{
	int r;

	r = fs_bus_open(bz->cfg.bus_kind, bz->cfg.bus_address, &bz->bus);
	if (r < 0)
		return log_error_errno(r, "Failed to connect to the bus: %m");
	r = sd_bus_attach_event(bz->bus, bz->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		goto fail;
	r = sd_bus_add_fallback(bz->bus, NULL, "/", on_message, bz);
	if (r < 0)
		goto fail;
	r = sd_bus_request_name(bz->bus, BLUEZ_NAME, 0);
	if (r < 0) {
		log_error_errno(r, "Cannot own " BLUEZ_NAME ": %m");
		goto fail;
	}
	bz->running = true;
	emit_added(bz, "/org/bluez");
	export_adapter(bz);
	return 0;
fail:
	bz->bus = sd_bus_flush_close_unref(bz->bus);
	return r;
}

/* --- buttons ---------------------------------------------------------------------------- */

int fs_bluez_add_button(struct fs_bluez *bz, struct fs_button *btn)
{
	const char *a = fs_button_address(btn);
	struct dev **devs, *d;
	char p[32];

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	devs = realloc(bz->devs, (bz->n_devs + 1) * sizeof(*devs));
	if (!devs) {
		free(d);
		return -ENOMEM;
	}
	bz->devs = devs;
	d->bz = bz;
	d->btn = btn;
	d->write_fd = d->notify_fd = -1;
	d->temporary = true;
	d->jitter = (unsigned)(a[15] * 31 + a[16]);
	snprintf(p, sizeof(p), "%s", a);
	for (char *c = p; *c; c++)
		if (*c == ':')
			*c = '_';
	snprintf(d->path, sizeof(d->path), ADAPTER_PATH "/dev_%s", p);
	snprintf(d->gatt_service, sizeof(d->gatt_service), "%s/service%04x", d->path, H_SERVICE);
	snprintf(d->gatt_write, sizeof(d->gatt_write), "%s/char%04x", d->gatt_service, H_WRITE);
	snprintf(d->gatt_notify, sizeof(d->gatt_notify), "%s/char%04x", d->gatt_service, H_NOTIFY);
	snprintf(d->gatt_ccc, sizeof(d->gatt_ccc), "%s/desc%04x", d->gatt_notify, H_CCC);
	snprintf(d->gatt_svc1801, sizeof(d->gatt_svc1801), "%s/service%04x", d->path, H_GATT_SVC);
	snprintf(d->gatt_sc, sizeof(d->gatt_sc), "%s/char%04x", d->gatt_svc1801, H_SVC_CHANGED);
	snprintf(d->gatt_sc_ccc, sizeof(d->gatt_sc_ccc), "%s/desc%04x", d->gatt_sc, H_SVC_CHANGED_CCC);
	snprintf(d->dashed, sizeof(d->dashed), "%.2s-%.2s-%.2s-%.2s-%.2s-%.2s", a, a + 3, a + 6,
		 a + 9, a + 12, a + 15);
	bz->devs[bz->n_devs++] = d;
	return 0;
}

static void dev_free(struct dev *d)
{
	link_down(d, DROP_REMOTE);
	dev_unexport(d);
	disarm(&d->connect_timer);
	disarm(&d->connect_timeout);
	disarm(&d->resolve_timer);
	disarm(&d->loss_timer);
	disarm(&d->temp_timer);
	close_write_fd(d, false);
	close_notify_fd(d, false);
	sd_bus_track_unref(d->notify_track);
	sd_bus_message_unref(d->connect_msg);
	free(d);
}

void fs_bluez_remove_button(struct fs_bluez *bz, struct fs_button *btn)
{
	for (size_t i = 0; i < bz->n_devs; i++)
		if (bz->devs[i]->btn == btn) {
			dev_free(bz->devs[i]);
			memmove(bz->devs + i, bz->devs + i + 1, (bz->n_devs - i - 1) * sizeof(*bz->devs));
			bz->n_devs--;
			return;
		}
}

int fs_bluez_append_state(struct fs_bluez *bz, sd_bus_message *m)
{
	size_t connected = 0, exported = 0;

	for (size_t i = 0; i < bz->n_devs; i++) {
		connected += bz->devs[i]->connected;
		exported += bz->devs[i]->exported;
	}
	return sd_bus_message_append(m, "a{sv}", 14,
				     "Running", "b", (int)bz->running,
				     "AdapterPresent", "b", (int)bz->present,
				     "Powered", "b", (int)bz->powered,
				     "Discovering", "b", (int)bz->discovering,
				     "Devices", "u", (uint32_t)exported,
				     "Connected", "u", (uint32_t)connected,
				     "Restarts", "t", bz->stats.restarts,
				     "Connects", "t", bz->stats.connects,
				     "ConnectFailures", "t", bz->stats.connect_failures,
				     "Writes", "t", bz->stats.writes,
				     "Notifications", "t", bz->stats.notifications,
				     "AdvertisingReports", "t", bz->stats.reports,
				     "ConnectsHeld", "t", bz->stats.held,
				     "WindowWaits", "t", bz->stats.window_waits);
}

/* --- life cycle ----------------------------------------------------------------------------- */

int fs_bluez_new(sd_event *event, const struct fs_bluez_config *cfg, struct fs_bluez **ret)
{
	struct fs_bluez *bz;
	int r;

	bz = calloc(1, sizeof(*bz));
	if (!bz)
		return -ENOMEM;
	bz->event = sd_event_ref(event);
	bz->cfg = *cfg;
	snprintf(bz->alias, sizeof(bz->alias), "flicsim");
	r = bus_attach(bz);
	if (r < 0) {
		fs_bluez_free(bz);
		return r;
	}
	*ret = bz;
	return 0;
}

struct fs_bluez *fs_bluez_free(struct fs_bluez *bz)
{
	if (!bz)
		return NULL;
	for (size_t i = 0; i < bz->n_devs; i++)
		dev_free(bz->devs[i]);
	free(bz->devs);
	clear_clients(bz);
	disarm(&bz->scan_timer);
	disarm(&bz->restart_timer);
	disarm(&bz->window_timer);
	sd_bus_flush_close_unref(bz->bus);
	sd_event_unref(bz->event);
	free(bz);
	return NULL;
}
