/* SPDX-License-Identifier: MIT */
/*
 * Device objects under the chosen adapter: created from Device1, their
 * properties kept current, dropped when BlueZ drops them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "radio/bluez-private.h"
#include "lib/bus-props.h"
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

static int read_rssi(sd_bus_message *m, void *base, void *userdata)
{
	struct device *d = base;
	int16_t v;
	int r;

	r = sd_bus_message_read_basic(m, 'n', &v);
	if (r < 0)
		return r;
	/* even if unchanged: only an advertisement brings an RSSI */
	d->has_rssi = true;
	d->rssi = v;
	return 1;
}

static int read_address(sd_bus_message *m, void *base, void *userdata)
{
	struct device *d = base;
	const char *s;
	int r;

	r = sd_bus_message_read_basic(m, 's', &s);
	if (r >= 0)
		(void)fg_parse_address(s, d->address);
	return r < 0 ? r : 0;
}

/* Properties the table does not name: ServiceData of any shape is an advertisement. */
static int read_other(sd_bus_message *m, const char *name, void *base, void *userdata)
{
	unsigned *changed = userdata;

	if (strcmp(name, "ServiceData") == 0)
		*changed |= CH_ADV;
	return sd_bus_message_skip(m, "v");
}

static const struct fg_bus_prop device_props[] = {
	FG_BUS_PROP_FN("RSSI", "n", read_rssi, CH_ADV),
	FG_BUS_PROP_FN("ManufacturerData", "a{qv}", bluez_read_mfr, 0),
	FG_BUS_PROP("Connected", "b", struct device, connected, CH_CONNECTED),
	FG_BUS_PROP("ServicesResolved", "b", struct device, resolved, CH_RESOLVED),
	FG_BUS_PROP_FN("UUIDs", "as", bluez_read_uuids, CH_UUIDS),
	FG_BUS_PROP_FN("AdvertisingData", "a{yv}", bluez_read_ad, 0),
	FG_BUS_PROP("Trusted", "b", struct device, trusted, 0),
	FG_BUS_PROP("Name", "s", struct device, name, 0),
	FG_BUS_PROP_FN("Address", "s", read_address, 0),
	{ 0 },
};

int bluez_parse_device_props(struct device *d, sd_bus_message *m, unsigned *changed)
{
	/* a property of another type than expected is skipped (lenient): BlueZ may change */
	return fg_bus_props_read(m, device_props, 0, read_other, d, changed, changed);
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
