/* SPDX-License-Identifier: MIT */
/*
 * Device objects under the chosen adapter: created from Device1, their
 * properties kept current, dropped when BlueZ drops them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "radio/bluez-private.h"
#include "lib/log.h"

/* ---- devices -------------------------------------------------------------- */

struct device *bluez_device_free(struct device *d)
{
	if (!d)
		return NULL;
	bluez_channel_close(d);
	sd_event_source_disable_unref(d->attempt_timer);
	sd_bus_slot_unref(d->connect_slot);
	sd_bus_slot_unref(d->disconnect_slot);
	sd_bus_slot_unref(d->trust_slot);
	free(d->path);
	free(d->name);
	free(d->mfr);
	free(d->write_path);
	free(d->notify_path);
	free(d);
	return NULL;
}

/* The object went away (or everything did): close, report, forget. */
void bluez_device_drop(struct fg_bluez *bz, struct device *d, int error)
{
	struct device **pp;

	for (pp = &bz->devices; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	bluez_channel_close(d);
	d->connected = false;
	/* an attempt still pending ends here too: say so even if never up */
	if (d->connect_slot)
		bluez_device_report(d, FG_BLUEZ_LINK_DOWN, error);
	else
		bluez_device_sync_link(d, error);
	d->connect_slot = sd_bus_slot_unref(d->connect_slot);
	bluez_report_presence(d, false);
	bluez_device_free(d);
	bluez_filter_update(bz);
}

void bluez_drop_all_devices(struct fg_bluez *bz, int error)
{
	while (bz->devices)
		bluez_device_drop(bz, bz->devices, error);
}

/* Apply an a{sv} of Device1 properties; ORs CH_* into *changed. */
int bluez_parse_device_props(struct device *d, sd_bus_message *m, unsigned *changed)
{
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key;
		bool ok = true;

		r = sd_bus_message_read_basic(m, 's', &key);
		if (r < 0)
			return r;
		if (strcmp(key, "RSSI") == 0) {
			int16_t v;

			r = bluez_read_variant_basic_or_skip(m, 'n', &v, &ok);
			if (r >= 0 && ok) {
				d->has_rssi = true;
				d->rssi = v;
				*changed |= CH_ADV;
			}
		} else if (strcmp(key, "ManufacturerData") == 0) {
			r = sd_bus_message_verify_type(m, 'v', "a{qv}");
			if (r > 0) {
				r = bluez_parse_mfr(d, m);
				*changed |= CH_ADV;
			} else if (r == 0) {
				r = sd_bus_message_skip(m, "v");
			}
		} else if (strcmp(key, "ServiceData") == 0) {
			*changed |= CH_ADV;
			r = sd_bus_message_skip(m, "v");
		} else if (strcmp(key, "Connected") == 0) {
			r = bluez_read_bool_prop(m, &d->connected, changed, CH_CONNECTED);
		} else if (strcmp(key, "ServicesResolved") == 0) {
			r = bluez_read_bool_prop(m, &d->resolved, changed, CH_RESOLVED);
		} else if (strcmp(key, "UUIDs") == 0) {
			bool flic = false, twist = false, got = false;

			r = sd_bus_message_verify_type(m, 'v', "as");
			if (r > 0)
				got = (r = bluez_read_uuids(m, &flic, &twist)) > 0;
			else if (r == 0)
				r = sd_bus_message_skip(m, "v");
			if (got && (flic != d->flic_service || twist != d->twist_service)) {
				d->flic_service = flic;
				d->twist_service = twist;
				*changed |= CH_UUIDS;
			}
		} else if (strcmp(key, "AdvertisingData") == 0) {
			r = sd_bus_message_verify_type(m, 'v', "a{yv}");
			if (r > 0) {
				r = bluez_parse_ad(d, m);
				*changed |= CH_ADV;
			} else if (r == 0) {
				r = sd_bus_message_skip(m, "v");
			}
		} else if (strcmp(key, "Trusted") == 0) {
			r = bluez_read_bool_prop(m, &d->trusted, changed, 0);
		} else if (strcmp(key, "Name") == 0) {
			const char *s;

			r = bluez_read_variant_basic_or_skip(m, 's', &s, &ok);
			if (r >= 0 && ok && (!d->name || strcmp(d->name, s))) {
				free(d->name);
				d->name = strdup(s);
			}
		} else if (strcmp(key, "Address") == 0) {
			const char *s;

			r = bluez_read_variant_basic_or_skip(m, 's', &s, &ok);
			if (r >= 0 && ok)
				(void)fg_parse_address(s, d->address);
		} else {
			r = sd_bus_message_skip(m, "v");
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* ".../dev_80_E4_DA_70_12_34": the Address property says the same, first */
static void address_from_path(const char *path, uint8_t ret[6])
{
	const char *p = strrchr(path, '/');
	char buf[18];

	if (!p || strncmp(p, "/dev_", 5) != 0 || strlen(p + 5) != 17)
		return;
	memcpy(buf, p + 5, 18);
	for (int i = 2; i < 17; i += 3)
		buf[i] = ':';
	(void)fg_parse_address(buf, ret);
}

static struct device *device_new(struct fg_bluez *bz, const char *path)
{
	struct device *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->path = strdup(path);
	if (!d->path) {
		free(d);
		return NULL;
	}
	d->bz = bz;
	d->notify_fd = d->write_fd = -1;
	d->reported = FG_BLUEZ_LINK_DOWN;
	address_from_path(path, d->address);
	return d;
}

/* Device1 appeared (InterfacesAdded or the GetManagedObjects snapshot). */
int bluez_add_device(struct fg_bluez *bz, const char *path, sd_bus_message *m)
{
	struct device *d = bluez_device_by_path(bz, path);
	unsigned changed = 0;
	bool fresh = false;
	int r;

	if (!bz->adapter || !bluez_path_is_under(path, bz->adapter->path))
		return sd_bus_message_skip(m, "a{sv}");
	if (!d) {
		d = device_new(bz, path);
		if (!d)
			return -ENOMEM;
		fresh = true;
	}
	r = bluez_parse_device_props(d, m, &changed);
	if (r < 0) {
		if (fresh)
			bluez_device_free(d);
		return r;
	}
	if (fresh) {
		d->next = bz->devices;
		bz->devices = d;
		bluez_filter_update(bz);
		/* a device object is created by an advertisement, but only RSSI proves one */
		if (!d->has_rssi)
			changed &= ~CH_ADV;
		changed |= d->connected ? CH_CONNECTED : 0;
		changed |= d->resolved ? CH_RESOLVED : 0;
		bluez_report_presence(d, true);
	}
	bluez_device_changed(d, changed);
	return 0;
}
