/* SPDX-License-Identifier: MIT */
/* Adapter1 (hci0): power, the adapter being present or removed, and its
 * methods (discovery, RemoveDevice). */
#include <errno.h>
#include <string.h>

#include "bluez-sim-internal.h"
#include "lib/log.h"

void bz_set_powered(struct fs_bluez *bz, bool on)
{
	if (bz->powered == on)
		return;
	if (!on) {
		bz_drop_all_links(bz, DROP_LOCAL);
		bz_clear_clients(bz);
	}
	bz->powered = on;
	log_info("adapter powered %s", on ? "on" : "off");
	bz_emit_changed(bz, ADAPTER_PATH, IFACE_ADAPTER, "Powered", "PowerState", NULL);
	if (on)
		for (size_t i = 0; i < bz->n_devs; i++)
			bz_schedule_connect(bz->devs[i]);
}

void bz_export_adapter(struct fs_bluez *bz)
{
	bz->present = true;
	bz->powered = true;	/* main.conf AutoEnable=true */
	bz_emit_added(bz, ADAPTER_PATH);
	/* Devices bluetoothd had stored come back (without RSSI). */
	for (size_t i = 0; i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];

		if (!d->temporary && !d->exported && d->path[0]) {
			d->has_rssi = false;
			bz_dev_export(d);
		}
	}
}

void bz_unexport_adapter(struct fs_bluez *bz, bool silent)
{
	bz_drop_all_links(bz, silent ? DROP_SILENT : DROP_LOCAL);
	bz_clear_clients(bz);
	for (size_t i = 0; i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];

		if (silent) {
			d->exported = d->gatt_exported = false;
			disarm(&d->temp_timer);
		} else {
			bz_dev_unexport(d);
		}
		if (d->temporary)
			d->exported = false;
	}
	if (!silent)
		bz_emit_removed(bz, ADAPTER_PATH, IFACE_ADAPTER);
	bz->present = false;
	bz->powered = false;
}

int fs_bluez_remove_adapter(struct fs_bluez *bz)
{
	if (!bz->running || !bz->present)
		return -ENODEV;
	log_info("adapter hci0 removed");
	bz_unexport_adapter(bz, false);
	return 0;
}

int fs_bluez_add_adapter(struct fs_bluez *bz)
{
	if (!bz->running)
		return -ENODEV;
	if (bz->present)
		return -EEXIST;
	log_info("adapter hci0 added");
	bz_export_adapter(bz);
	return 0;
}

bool fs_bluez_running(const struct fs_bluez *bz)
{
	return bz->running;
}

bool fs_bluez_adapter_present(const struct fs_bluez *bz)
{
	return bz->running && bz->present;
}

int bz_adapter_method(struct fs_bluez *bz, sd_bus_message *m, const char *member)
{
	const char *sender = sd_bus_message_get_sender(m);
	struct dclient *c;
	int r;

	if (strcmp(member, "StartDiscovery") == 0) {
		if (!bz->powered)
			return bz_err(m, E_NOTREADY, "Resource Not Ready");
		c = bz_dclient_get(bz, sender, true);
		if (!c)
			return bz_err(m, E_FAILED, "Out of memory");
		if (c->discovering)
			return bz_err(m, E_INPROGRESS, "Operation already in progress");
		c->discovering = true;
		log_debug("discovery started by %s", sender);
		r = bz_reply_ok(m);
		bz_update_discovering(bz);
		return r;
	}
	if (strcmp(member, "StopDiscovery") == 0) {
		if (!bz->powered)
			return bz_err(m, E_NOTREADY, "Resource Not Ready");
		c = bz_dclient_get(bz, sender, false);
		if (!c || !c->discovering)
			return bz_err(m, E_FAILED, "No discovery started");
		c->discovering = false;
		log_debug("discovery stopped by %s", sender);
		r = bz_reply_ok(m);
		bz_dclient_remove(bz, c);
		return r;
	}
	if (strcmp(member, "SetDiscoveryFilter") == 0) {
		if (!bz->powered)
			return bz_err(m, E_NOTREADY, "Resource Not Ready");
		c = bz_dclient_get(bz, sender, true);
		if (!c)
			return bz_err(m, E_FAILED, "Out of memory");
		r = bz_parse_filter(c, m);
		if (r < 0)
			return bz_err(m, E_INVALIDARGS, "Invalid arguments in method call");
		log_debug("discovery filter of %s: %s, %zu UUIDs, transport %s, duplicates %s",
			  sender, c->has_filter ? "set" : "cleared", c->n_uuids, c->transport,
			  c->duplicate ? "yes" : "no");
		return bz_reply_ok(m);
	}
	if (strcmp(member, "GetDiscoveryFilters") == 0) {
		static const char *const f[] = { "UUIDs", "RSSI", "Pathloss", "Transport",
						 "DuplicateData", "Discoverable", "Pattern" };
		__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;

		r = sd_bus_message_new_method_return(m, &reply);
		if (r >= 0)
			r = bz_append_strv(reply, f, 7);
		return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
	}
	if (strcmp(member, "RemoveDevice") == 0) {
		const char *path;
		struct bz_obj o;

		r = sd_bus_message_read(m, "o", &path);
		if (r < 0)
			return bz_err(m, E_INVALIDARGS, "Invalid arguments in method call");
		o = bz_lookup(bz, path);
		if (o.kind != OBJ_DEVICE)
			return bz_err(m, E_DOESNOTEXIST, "Does Not Exist");
		log_info("%s: RemoveDevice", fs_button_address(o.dev->btn));
		bz_link_down(o.dev, DROP_LOCAL);
		bz_dev_unexport(o.dev);
		o.dev->temporary = true;
		o.dev->trusted = false;
		o.dev->alias[0] = 0;
		return bz_reply_ok(m);
	}
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s", member);
}
