/* SPDX-License-Identifier: MIT */
/* Peripheral mode: one emulated button on the air through a real
 * bluetoothd, as a GATT application and an advertisement (see periph.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bus-props.h"
#include "lib/log.h"
#include "lib/macro.h"
#include "periph.h"

#define BLUEZ_NAME	"org.bluez"
#define IFACE_PROPS	"org.freedesktop.DBus.Properties"
#define IFACE_ADAPTER	"org.bluez.Adapter1"
#define IFACE_DEVICE	"org.bluez.Device1"
#define IFACE_GATT_MGR	"org.bluez.GattManager1"
#define IFACE_ADV_MGR	"org.bluez.LEAdvertisingManager1"
#define IFACE_SERVICE	"org.bluez.GattService1"
#define IFACE_CHAR	"org.bluez.GattCharacteristic1"
#define IFACE_ADV	"org.bluez.LEAdvertisement1"
#define E_FAILED	"org.bluez.Error.Failed"
#define E_LENGTH	"org.bluez.Error.InvalidValueLength"
#define E_NOT_PERMITTED	"org.bluez.Error.NotPermitted"

#define FLIC_SERVICE_UUID "00420000-8f59-4420-870d-84f3b617e493"
#define FLIC_WRITE_UUID   "00420001-8f59-4420-870d-84f3b617e493"
#define FLIC_NOTIFY_UUID  "00420002-8f59-4420-870d-84f3b617e493"
#define FLIC_COMPANY_ID   0x030f

#define APP_PATH	"/io/github/flicgate/periph"
#define SVC_PATH	APP_PATH "/service0"
#define WRITE_PATH	SVC_PATH "/char0"
#define NOTIFY_PATH	SVC_PATH "/char1"
/* Outside the application's tree: bluetoothd reads the GATT objects from
 * APP_PATH's ObjectManager and must not meet the advertisements there. */
#define ADV_PUBLIC_PATH		"/io/github/flicgate/adv/public"
#define ADV_PRIVATE_PATH	"/io/github/flicgate/adv/private"

/* bluetoothd has its name before its adapters: retry set-up this often */
#define SETUP_RETRY_USEC	(200 * 1000ULL)
#define SETUP_RETRIES		100

struct fs_periph {
	sd_event *event;
	sd_bus *bus;
	char adapter_path[32];
	struct fs_button *btn;

	/* bluetoothd */
	bool bluez_up;
	unsigned setup_tries;
	sd_event_source *retry_timer;
	sd_bus_slot *owner_match;
	sd_bus_slot *device_match;
	sd_bus_slot *removed_match;
	sd_bus_slot *setup_call;	/* GetNameOwner, Powered, RegisterApplication */
	sd_bus_slot *adv_call;
	sd_bus_slot *disconnect_call;
	bool app_registered;
	enum fs_adv adv_registered;	/* FS_ADV_NONE: nothing registered */
	enum fs_adv adv_wanted_in_call;

	/* the link */
	char central[128];		/* the central's Device1 path, "" if none */
	bool dropping;			/* the button hung up; the link is going */
	bool notifying;
	uint8_t value[517];
	size_t value_len;

	/* exported objects */
	sd_bus_slot *om_slot;
	sd_bus_slot *svc_slot;
	sd_bus_slot *write_slot;
	sd_bus_slot *notify_slot;
	sd_bus_slot *adv_public_slot;
	sd_bus_slot *adv_private_slot;

	struct {
		uint64_t bluez_appearances;
		uint64_t registrations;
		uint64_t links;
		uint64_t writes;
		uint64_t notifications;
	} stats;
};

static const char *const adv_names[] = {
	[FS_ADV_NONE] = "none", [FS_ADV_PUBLIC] = "public", [FS_ADV_PRIVATE] = "private",
};
FG_DEFINE_STRING_TABLE_TO(static, adv, enum fs_adv, adv_names)

static void setup(struct fs_periph *p);
static void adv_update(struct fs_periph *p);

/* --- the link ----------------------------------------------------------------------- */

static void link_gone(struct fs_periph *p, const char *why)
{
	if (!p->central[0])
		return;
	log_info("peripheral: central %s gone (%s)", p->central, why);
	p->central[0] = 0;
	p->dropping = false;
	p->notifying = false;
	p->disconnect_call = sd_bus_slot_unref(p->disconnect_call);
	if (p->btn && fs_button_linked(p->btn))
		fs_button_link_down(p->btn);	/* calls adv_changed */
	adv_update(p);
}

static int read_connected(sd_bus_message *m, void *base, void *userdata)
{
	return sd_bus_message_read_basic(m, 'b', base);
}

/* Device1's Connected, as an int (-1 when not in the dictionary). */
static const struct fg_bus_prop device_props[] = {
	FG_BUS_PROP_FN("Connected", "b", read_connected, 0),
	{}
};

static int on_device_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;
	const char *path = sd_bus_message_get_path(m), *iface;
	int r, connected = -1;

	r = sd_bus_message_read(m, "s", &iface);
	if (r < 0 || strcmp(iface, IFACE_DEVICE) != 0)
		return 0;
	r = fg_bus_props_read(m, device_props, 0, NULL, &connected, NULL, NULL);
	if (r < 0 || connected < 0)
		return 0;
	if (connected && !p->central[0]) {
		snprintf(p->central, sizeof(p->central), "%s", path);
		log_info("peripheral: central %s connected", path);
	} else if (!connected && strcmp(path, p->central) == 0) {
		link_gone(p, "disconnected");
	}
	return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;
	const char *path;

	if (sd_bus_message_read(m, "o", &path) >= 0 && strcmp(path, p->central) == 0)
		link_gone(p, "device removed");
	return 0;
}

static int on_disconnect_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	p->disconnect_call = sd_bus_slot_unref(p->disconnect_call);
	if (e)
		log_warning("peripheral: Disconnect of %s failed: %s", p->central, e->message);
	return 0;
}

int fs_periph_notify(struct fs_periph *p, struct fs_button *btn, const uint8_t *att, size_t len)
{
	if (btn != p->btn || !fs_button_linked(btn) || !p->notifying || p->dropping)
		return -ENOTCONN;
	if (len > sizeof(p->value))
		return -EMSGSIZE;
	memcpy(p->value, att, len);
	p->value_len = len;
	p->stats.notifications++;
	/* bluetoothd sends an ATT notification for each change of Value */
	return sd_bus_emit_properties_changed(p->bus, NOTIFY_PATH, IFACE_CHAR, "Value", NULL);
}

void fs_periph_terminate_link(struct fs_periph *p, struct fs_button *btn)
{
	int r;

	if (btn != p->btn)
		return;
	fs_button_link_down(btn);
	if (!p->central[0] || p->dropping)
		return;
	/* The button hangs up: writes until bluetoothd reports the link down are
	 * refused, so that they cannot bring the link back up. */
	p->dropping = true;
	p->notifying = false;
	log_info("peripheral: the button ends the link with %s", p->central);
	r = sd_bus_call_method_async(p->bus, &p->disconnect_call, BLUEZ_NAME, p->central,
				     IFACE_DEVICE, "Disconnect", on_disconnect_reply, p, "");
	if (r < 0)
		log_warning_errno(r, "peripheral: cannot call Disconnect: %m");
}

/* --- GATT objects ------------------------------------------------------------------- */

static int prop_const_s(sd_bus *bus, const char *path, const char *iface, const char *prop,
			sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	if (strcmp(prop, "UUID") == 0) {
		if (strcmp(path, SVC_PATH) == 0)
			return sd_bus_message_append(reply, "s", FLIC_SERVICE_UUID);
		return sd_bus_message_append(reply, "s", strcmp(path, WRITE_PATH) == 0 ?
					     FLIC_WRITE_UUID : FLIC_NOTIFY_UUID);
	}
	if (strcmp(prop, "Service") == 0)
		return sd_bus_message_append(reply, "o", SVC_PATH);
	if (strcmp(prop, "Type") == 0)
		return sd_bus_message_append(reply, "s", "peripheral");
	if (strcmp(prop, "LocalName") == 0)
		return sd_bus_message_append(reply, "s", "F2");
	return -ENOENT;
}

static int prop_true(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	return sd_bus_message_append(reply, "b", 1);
}

static int prop_flags(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	if (strcmp(path, WRITE_PATH) == 0)
		return sd_bus_message_append(reply, "as", 2, "write", "write-without-response");
	return sd_bus_message_append(reply, "as", 1, "notify");
}

static int prop_value(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;

	return sd_bus_message_append_array(reply, 'y', p->value, p->value_len);
}

static int prop_notifying(sd_bus *bus, const char *path, const char *iface, const char *prop,
			  sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;

	return sd_bus_message_append(reply, "b", (int)p->notifying);
}

/* WriteValue's options: the central (a pointer into the message) and the
 * link's ATT MTU. */
struct write_options {
	const char *device;
	uint16_t mtu;
};

static int read_device(sd_bus_message *m, void *base, void *userdata)
{
	struct write_options *o = base;

	return sd_bus_message_read_basic(m, 'o', &o->device);
}

static const struct fg_bus_prop write_option_props[] = {
	FG_BUS_PROP_FN("device", "o", read_device, 0),
	FG_BUS_PROP("mtu", "q", struct write_options, mtu, 0),
	{}
};

static int read_write_options(sd_bus_message *m, const char **ret_device, uint16_t *ret_mtu)
{
	struct write_options o = { *ret_device, *ret_mtu };
	int r;

	r = fg_bus_props_read(m, write_option_props, 0, NULL, &o, NULL, NULL);
	if (r < 0)
		return r;
	*ret_device = o.device;
	*ret_mtu = o.mtu;
	return 0;
}

static int method_write_value(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;
	const char *device = NULL;
	uint16_t mtu = 23;
	const void *data;
	size_t len;
	int r;

	r = sd_bus_message_read_array(m, 'y', &data, &len);
	if (r >= 0)
		r = read_write_options(m, &device, &mtu);
	if (r < 0)
		return r;
	if (!p->btn)
		return sd_bus_error_set(ret_error, E_FAILED, "No button");
	if (p->dropping)
		return sd_bus_error_set(ret_error, E_NOT_PERMITTED, "The button ended the link");
	if (!fs_button_linked(p->btn)) {
		/* The first write carries the MTU the two sides agreed on. */
		if (device && !p->central[0])
			snprintf(p->central, sizeof(p->central), "%s", device);
		p->stats.links++;
		fs_button_link_up(p->btn, mtu);
	}
	p->stats.writes++;
	r = fs_button_att_write(p->btn, data, len);
	if (r == -EMSGSIZE)
		return sd_bus_error_set(ret_error, E_LENGTH, "Longer than the ATT MTU allows");
	if (r < 0)
		return sd_bus_error_set_errnof(ret_error, -r, "Write refused: %m");
	return sd_bus_reply_method_return(m, NULL);
}

static int method_read_value(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	return sd_bus_error_set(ret_error, E_NOT_PERMITTED, "Not readable");
}

static int method_notify(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;
	bool start = strcmp(sd_bus_message_get_member(m), "StartNotify") == 0;

	if (p->notifying != start) {
		p->notifying = start;
		log_debug("peripheral: notifications %s", start ? "on" : "off");
		sd_bus_emit_properties_changed(p->bus, NOTIFY_PATH, IFACE_CHAR, "Notifying", NULL);
	}
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable service_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UUID", "s", prop_const_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Primary", "b", prop_true, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_VTABLE_END,
};

static const sd_bus_vtable write_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UUID", "s", prop_const_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Service", "o", prop_const_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Flags", "as", prop_flags, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("WriteValue", "aya{sv}", "", method_write_value, 0),
	SD_BUS_METHOD("ReadValue", "a{sv}", "ay", method_read_value, 0),
	SD_BUS_VTABLE_END,
};

static const sd_bus_vtable notify_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UUID", "s", prop_const_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Service", "o", prop_const_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Flags", "as", prop_flags, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Value", "ay", prop_value, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Notifying", "b", prop_notifying, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("StartNotify", "", "", method_notify, 0),
	SD_BUS_METHOD("StopNotify", "", "", method_notify, 0),
	SD_BUS_METHOD("ReadValue", "a{sv}", "ay", method_read_value, 0),
	SD_BUS_VTABLE_END,
};

/* --- advertising -------------------------------------------------------------------- */

static int prop_service_uuids(sd_bus *bus, const char *path, const char *iface, const char *prop,
			      sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	return sd_bus_message_append(reply, "as", 1, FLIC_SERVICE_UUID);
}

static int prop_manufacturer_data(sd_bus *bus, const char *path, const char *iface,
				  const char *prop, sd_bus_message *reply, void *userdata,
				  sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;
	uint8_t mfr[5] = { 0 };
	int r;

	if (p->btn)
		fs_button_manufacturer_data(p->btn, mfr);
	r = sd_bus_message_open_container(reply, 'a', "{qv}");
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'e', "qv");
	if (r >= 0)
		r = sd_bus_message_append(reply, "q", (uint16_t)FLIC_COMPANY_ID);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'v', "ay");
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', mfr, sizeof(mfr));
	for (int i = 0; r >= 0 && i < 3; i++)
		r = sd_bus_message_close_container(reply);
	return r;
}

static int prop_discoverable(sd_bus *bus, const char *path, const char *iface, const char *prop,
			     sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	/* Only public mode is discoverable; a paired button that wants its
	 * gateway back is merely connectable, as a real one is. */
	return sd_bus_message_append(reply, "b", (int)(strcmp(path, ADV_PUBLIC_PATH) == 0));
}

static int method_release(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;
	int r;

	log_info("peripheral: bluetoothd released the advertisement");
	p->adv_registered = FS_ADV_NONE;
	r = sd_bus_reply_method_return(m, NULL);
	adv_update(p);
	return r;
}

/*
 * Two objects rather than one with changing properties: bluetoothd reads an
 * advertisement once, at registration, and a 31-byte legacy advertisement
 * has no room for both the 128-bit service UUID and the manufacturer data.
 */
static const sd_bus_vtable adv_public_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Type", "s", prop_const_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ServiceUUIDs", "as", prop_service_uuids, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("LocalName", "s", prop_const_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Discoverable", "b", prop_discoverable, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("Release", "", "", method_release, 0),
	SD_BUS_VTABLE_END,
};

static const sd_bus_vtable adv_private_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Type", "s", prop_const_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ManufacturerData", "a{qv}", prop_manufacturer_data, 0, 0),
	SD_BUS_PROPERTY("Discoverable", "b", prop_discoverable, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("Release", "", "", method_release, 0),
	SD_BUS_VTABLE_END,
};

static const char *adv_path(enum fs_adv a)
{
	return a == FS_ADV_PUBLIC ? ADV_PUBLIC_PATH : ADV_PRIVATE_PATH;
}

static int on_adv_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	enum fs_adv a = p->adv_wanted_in_call;

	p->adv_call = sd_bus_slot_unref(p->adv_call);
	if (e) {
		/* Unregistering something bluetoothd already dropped is fine. */
		log_warning("peripheral: %s advertisement failed: %s",
			    a == FS_ADV_NONE ? "removing the" : "registering the", e->message);
		if (a == FS_ADV_NONE)
			p->adv_registered = FS_ADV_NONE;
		return 0;
	}
	p->adv_registered = a;
	log_info("peripheral: advertising: %s", adv_to_string(a));
	adv_update(p);
	return 0;
}

/* Brings bluetoothd's advertisement in line with the button, one call at a time. */
static void adv_update(struct fs_periph *p)
{
	enum fs_adv want;
	int r;

	if (!p->bluez_up || !p->app_registered || p->adv_call)
		return;
	want = p->btn && fs_button_in_range(p->btn) ? fs_button_adv(p->btn) : FS_ADV_NONE;
	if (want == p->adv_registered)
		return;
	if (p->adv_registered != FS_ADV_NONE) {
		p->adv_wanted_in_call = FS_ADV_NONE;
		r = sd_bus_call_method_async(p->bus, &p->adv_call, BLUEZ_NAME, p->adapter_path,
					     IFACE_ADV_MGR, "UnregisterAdvertisement", on_adv_reply, p,
					     "o", adv_path(p->adv_registered));
	} else {
		p->adv_wanted_in_call = want;
		r = sd_bus_call_method_async(p->bus, &p->adv_call, BLUEZ_NAME, p->adapter_path,
					     IFACE_ADV_MGR, "RegisterAdvertisement", on_adv_reply, p,
					     "oa{sv}", adv_path(want), 0);
	}
	if (r < 0)
		log_warning_errno(r, "peripheral: cannot call LEAdvertisingManager1: %m");
}

void fs_periph_button_changed(struct fs_periph *p, struct fs_button *btn)
{
	if (btn != p->btn)
		return;
	/* Out of range is a lost link: take it down from this side. */
	if (!fs_button_in_range(btn) && p->central[0] && !p->dropping)
		fs_periph_terminate_link(p, btn);
	adv_update(p);
}

/* --- bluetoothd coming and going -------------------------------------------------------- */

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_periph *p = userdata;

	p->retry_timer = sd_event_source_disable_unref(p->retry_timer);
	setup(p);
	return 0;
}

static void retry_later(struct fs_periph *p, const char *what, const sd_bus_error *e)
{
	int r;

	if (++p->setup_tries > SETUP_RETRIES) {
		log_error("peripheral: %s keeps failing (%s); giving up", what, e->message);
		return;
	}
	log_debug("peripheral: %s failed (%s), retrying", what, e->message);
	r = sd_event_add_time_relative(p->event, &p->retry_timer, CLOCK_MONOTONIC, SETUP_RETRY_USEC,
				       0, on_retry, p);
	if (r < 0)
		log_error_errno(r, "peripheral: cannot arm a timer: %m");
}

static int on_register_app_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	p->setup_call = sd_bus_slot_unref(p->setup_call);
	if (e) {
		retry_later(p, "RegisterApplication", e);
		return 0;
	}
	p->app_registered = true;
	p->setup_tries = 0;
	p->stats.registrations++;
	log_info("peripheral: Flic 2 GATT service registered on %s", p->adapter_path);
	adv_update(p);
	return 0;
}

static int on_powered_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	int r;

	p->setup_call = sd_bus_slot_unref(p->setup_call);
	if (e) {
		retry_later(p, "powering the adapter on", e);
		return 0;
	}
	r = sd_bus_call_method_async(p->bus, &p->setup_call, BLUEZ_NAME, p->adapter_path,
				     IFACE_GATT_MGR, "RegisterApplication", on_register_app_reply, p,
				     "oa{sv}", APP_PATH, 0);
	if (r < 0)
		log_error_errno(r, "peripheral: cannot call RegisterApplication: %m");
	return 0;
}

static void setup(struct fs_periph *p)
{
	int r;

	if (!p->bluez_up || p->app_registered || p->setup_call)
		return;
	r = sd_bus_call_method_async(p->bus, &p->setup_call, BLUEZ_NAME, p->adapter_path,
				     IFACE_PROPS, "Set", on_powered_reply, p, "ssv", IFACE_ADAPTER,
				     "Powered", "b", 1);
	if (r < 0)
		log_error_errno(r, "peripheral: cannot power the adapter on: %m");
}

static void bluez_changed(struct fs_periph *p, bool up)
{
	if (up == p->bluez_up)
		return;
	p->bluez_up = up;
	if (up) {
		p->stats.bluez_appearances++;
		p->setup_tries = 0;
		log_info("peripheral: bluetoothd is on the bus");
		setup(p);
		return;
	}
	/* bluetoothd went away: so did our registrations and the link */
	log_info("peripheral: bluetoothd left the bus");
	p->app_registered = false;
	p->adv_registered = FS_ADV_NONE;
	p->setup_call = sd_bus_slot_unref(p->setup_call);
	p->adv_call = sd_bus_slot_unref(p->adv_call);
	p->retry_timer = sd_event_source_disable_unref(p->retry_timer);
	link_gone(p, "bluetoothd left");
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	const char *name, *old, *new;

	if (sd_bus_message_read(m, "sss", &name, &old, &new) >= 0 && strcmp(name, BLUEZ_NAME) == 0)
		bluez_changed(userdata, new[0] != 0);
	return 0;
}

static int on_get_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fs_periph *p = userdata;

	p->setup_call = sd_bus_slot_unref(p->setup_call);
	bluez_changed(p, !sd_bus_message_is_method_error(m, NULL));
	return 0;
}

/* --- life cycle ----------------------------------------------------------------------- */

int fs_periph_add_button(struct fs_periph *p, struct fs_button *btn)
{
	if (p->btn)
		return -EBUSY;
	p->btn = btn;
	adv_update(p);
	return 0;
}

void fs_periph_remove_button(struct fs_periph *p, struct fs_button *btn)
{
	if (btn != p->btn)
		return;
	if (p->central[0] && !p->dropping)
		fs_periph_terminate_link(p, btn);
	p->btn = NULL;
	adv_update(p);
}

bool fs_periph_bluez_running(const struct fs_periph *p)
{
	return p->bluez_up;
}

int fs_periph_append_state(struct fs_periph *p, sd_bus_message *m)
{
	int r;

	r = sd_bus_message_append(m, "a{sv}", 9,
				  "Running", "b", (int)p->bluez_up,
				  "Registered", "b", (int)p->app_registered,
				  "Advertising", "s", adv_to_string(p->adv_registered),
				  "Central", "s", p->central,
				  "Notifying", "b", (int)p->notifying,
				  "Restarts", "t", p->stats.bluez_appearances ? p->stats.bluez_appearances - 1 : 0,
				  "Links", "t", p->stats.links,
				  "Writes", "t", p->stats.writes,
				  "Notifications", "t", p->stats.notifications);
	return r;
}

int fs_periph_new(sd_event *event, enum fs_bus_kind kind, const char *bus_address,
		  const char *adapter, struct fs_periph **ret)
{
	struct fs_periph *p;
	char match[256];
	int r;

	if (strncmp(adapter, "hci", 3) != 0 || strlen(adapter) > 8)
		return log_error_errno(-EINVAL, "--peripheral: '%s' is not an adapter name (hciN)",
				       adapter);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->event = sd_event_ref(event);
	snprintf(p->adapter_path, sizeof(p->adapter_path), "/org/bluez/%s", adapter);

	r = fs_bus_open(kind, bus_address, &p->bus);
	if (r < 0) {
		log_error_errno(r, "Failed to connect to the bus: %m");
		goto fail;
	}
	r = sd_bus_attach_event(p->bus, event, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = sd_bus_add_object_manager(p->bus, &p->om_slot, APP_PATH);
	if (r >= 0)
		r = sd_bus_add_object_vtable(p->bus, &p->svc_slot, SVC_PATH, IFACE_SERVICE,
					     service_vtable, p);
	if (r >= 0)
		r = sd_bus_add_object_vtable(p->bus, &p->write_slot, WRITE_PATH, IFACE_CHAR,
					     write_vtable, p);
	if (r >= 0)
		r = sd_bus_add_object_vtable(p->bus, &p->notify_slot, NOTIFY_PATH, IFACE_CHAR,
					     notify_vtable, p);
	if (r >= 0)
		r = sd_bus_add_object_vtable(p->bus, &p->adv_public_slot, ADV_PUBLIC_PATH, IFACE_ADV,
					     adv_public_vtable, p);
	if (r >= 0)
		r = sd_bus_add_object_vtable(p->bus, &p->adv_private_slot, ADV_PRIVATE_PATH,
					     IFACE_ADV, adv_private_vtable, p);
	if (r < 0) {
		log_error_errno(r, "Failed to export the GATT objects: %m");
		goto fail;
	}

	r = sd_bus_add_match_async(p->bus, &p->owner_match,
				   "type='signal',sender='org.freedesktop.DBus',"
				   "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
				   "arg0='" BLUEZ_NAME "'", on_name_owner_changed, NULL, p);
	if (r >= 0) {
		snprintf(match, sizeof(match),
			 "type='signal',sender='" BLUEZ_NAME "',interface='" IFACE_PROPS "',"
			 "member='PropertiesChanged',arg0='" IFACE_DEVICE "',path_namespace='%s'",
			 p->adapter_path);
		r = sd_bus_add_match_async(p->bus, &p->device_match, match, on_device_changed, NULL, p);
	}
	if (r >= 0)
		r = sd_bus_match_signal_async(p->bus, &p->removed_match, BLUEZ_NAME, "/",
					      "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
					      on_interfaces_removed, NULL, p);
	if (r >= 0)
		r = sd_bus_call_method_async(p->bus, &p->setup_call, "org.freedesktop.DBus",
					     "/org/freedesktop/DBus", "org.freedesktop.DBus",
					     "GetNameOwner", on_get_name_owner, p, "s", BLUEZ_NAME);
	if (r < 0) {
		log_error_errno(r, "Failed to watch bluetoothd: %m");
		goto fail;
	}
	*ret = p;
	return 0;

fail:
	fs_periph_free(p);
	return r;
}

struct fs_periph *fs_periph_free(struct fs_periph *p)
{
	if (!p)
		return NULL;
	sd_event_source_disable_unref(p->retry_timer);
	sd_bus_slot_unref(p->owner_match);
	sd_bus_slot_unref(p->device_match);
	sd_bus_slot_unref(p->removed_match);
	sd_bus_slot_unref(p->setup_call);
	sd_bus_slot_unref(p->adv_call);
	sd_bus_slot_unref(p->disconnect_call);
	sd_bus_slot_unref(p->om_slot);
	sd_bus_slot_unref(p->svc_slot);
	sd_bus_slot_unref(p->write_slot);
	sd_bus_slot_unref(p->notify_slot);
	sd_bus_slot_unref(p->adv_public_slot);
	sd_bus_slot_unref(p->adv_private_slot);
	sd_bus_flush_close_unref(p->bus);
	sd_event_unref(p->event);
	free(p);
	return NULL;
}
