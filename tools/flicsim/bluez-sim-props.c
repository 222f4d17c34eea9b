/* SPDX-License-Identifier: MIT */
/* The fake bluetoothd's object tree: which path is what, every object's
 * properties with BlueZ's rules (absent ones omitted), and the
 * ObjectManager and PropertiesChanged signals. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "bluez-sim-internal.h"
#include "lib/log.h"
#include "lib/macro.h"

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

int bz_append_strv(sd_bus_message *m, const char *const *v, size_t n)
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
	COMPLEX("UUIDs", "as", r = bz_append_strv(m, NULL, 0); if (r < 0) return r);
	SIMPLE("Modalias", "s", "usb:v1D6Bp0246d0542");
	COMPLEX("Roles", "as", r = bz_append_strv(m, roles, 2); if (r < 0) return r);
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
	COMPLEX("UUIDs", "as", r = bz_append_strv(m, uuids, n_uuids); if (r < 0) return r);
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

bool bz_notifying(struct dev *d)
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
		SIMPLE("Notifying", "b", (int)bz_notifying(d));
		SIMPLE("NotifyAcquired", "b", (int)(d->notify_fd >= 0));
	} else {
		SIMPLE("WriteAcquired", "b", (int)(d->write_fd >= 0));
	}
	COMPLEX("Flags", "as", r = bz_append_strv(m, &flag, 1); if (r < 0) return r);
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
	COMPLEX("Flags", "as", r = bz_append_strv(m, &flag, 1); if (r < 0) return r);
	SIMPLE("Handle", "q", H_SVC_CHANGED);
	SIMPLE("MTU", "q", d->bz->cfg.mtu);
	return only ? -ENOENT : 0;
}

/* --- object lookup ------------------------------------------------------------- */

struct dev *bz_find_dev_by_button(struct fs_bluez *bz, struct fs_button *btn)
{
	for (size_t i = 0; i < bz->n_devs; i++)
		if (bz->devs[i]->btn == btn)
			return bz->devs[i];
	return NULL;
}

struct bz_obj bz_lookup(struct fs_bluez *bz, const char *path)
{
	struct bz_obj o = { OBJ_NONE, NULL, path };

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

static const char *const obj_ifaces[] = {
	[OBJ_BLUEZ] = IFACE_AGENTMGR,
	[OBJ_ADAPTER] = IFACE_ADAPTER,
	[OBJ_DEVICE] = IFACE_DEVICE,
	[OBJ_SERVICE] = IFACE_SERVICE,
	[OBJ_CHAR_WRITE] = IFACE_CHAR,
	[OBJ_CHAR_NOTIFY] = IFACE_CHAR,
	[OBJ_DESC] = IFACE_DESC,
	[OBJ_GATT_SERVICE] = IFACE_SERVICE,
	[OBJ_SVC_CHANGED] = IFACE_CHAR,
	[OBJ_SVC_CHANGED_CCC] = IFACE_DESC,
};

FG_DEFINE_STRING_TABLE_TO(, bz_obj_iface, enum obj_kind, obj_ifaces)

int bz_props_of(struct fs_bluez *bz, struct bz_obj *o, sd_bus_message *m, const char *only)
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
		return props_ccc(o->dev->gatt_notify, H_CCC, bz_notifying(o->dev), m, only);
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
int bz_append_ifaces(struct fs_bluez *bz, struct bz_obj *o, sd_bus_message *m)
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
		r = sd_bus_message_append(m, "s", bz_obj_iface_to_string(o->kind));
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = bz_props_of(bz, o, m, NULL);
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

int bz_emit_added(struct fs_bluez *bz, const char *path)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL;
	struct bz_obj o = bz_lookup(bz, path);
	int r;

	if (!bz->running)
		return 0;
	r = sd_bus_message_new_signal(bz->bus, &m, "/", IFACE_OM, "InterfacesAdded");
	if (r >= 0)
		r = sd_bus_message_append(m, "o", path);
	if (r >= 0)
		r = bz_append_ifaces(bz, &o, m);
	if (r >= 0)
		r = sd_bus_send(bz->bus, m, NULL);
	return r;
}

int bz_emit_removed(struct fs_bluez *bz, const char *path, const char *iface)
{
	if (!bz->running)
		return 0;
	return sd_bus_emit_signal(bz->bus, "/", IFACE_OM, "InterfacesRemoved", "oas",
				  path, 3, IFACE_INTRO, iface, IFACE_PROPS);
}

int bz_emit_changed(struct fs_bluez *bz, const char *path, const char *iface, ...)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL;
	const char *invalid[8], *name;
	struct bz_obj o = bz_lookup(bz, path);
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
		if (bz_props_of(bz, &o, NULL, name) <= 0) {
			if (n_invalid < 8)
				invalid[n_invalid++] = name;
			continue;
		}
		r = sd_bus_message_open_container(m, 'e', "sv");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", name);
		if (r >= 0)
			r = bz_props_of(bz, &o, m, name);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	va_end(ap);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = bz_append_strv(m, invalid, n_invalid);
	if (r >= 0)
		r = sd_bus_send(bz->bus, m, NULL);
	if (r < 0)
		log_warning_errno(r, "Failed to emit PropertiesChanged on %s: %m", path);
	return r;
}
