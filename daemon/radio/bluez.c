/* SPDX-License-Identifier: MIT */
/*
 * BlueZ adapter: sd-bus <-> the button layer. See bluez.h and docs/bluez.md.
 * This file holds the object itself: following org.bluez (its owner, the
 * GetManagedObjects snapshot, InterfacesAdded/Removed, PropertiesChanged),
 * choosing the adapter, and the lifecycle. bluez-private.h lists the rest.
 *
 * State is a mirror of the org.bluez objects we care about (adapters,
 * devices under the chosen adapter, the Flic 2 characteristics under those
 * devices), refreshed from GetManagedObjects whenever org.bluez gets a new
 * owner and kept current from InterfacesAdded/Removed and
 * PropertiesChanged. Signals from anybody but the current owner are
 * ignored: after a bluetoothd restart the old instance's last words may
 * still be queued.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "radio/bluez-private.h"
#include "lib/log.h"
#include "lib/macro.h"

static const char *const state_names[_FG_BLUEZ_STATE_MAX] = {
	[FG_BLUEZ_NO_SERVICE] = "no-bluetoothd",
	[FG_BLUEZ_NO_ADAPTER] = "no-adapter",
	[FG_BLUEZ_POWERED_OFF] = "powered-off",
	[FG_BLUEZ_READY] = "ready",
};

FG_DEFINE_STRING_TABLE_TO(, fg_bluez_state, enum fg_bluez_state, state_names)

static void report_state(struct fg_bluez *bz)
{
	enum fg_bluez_state s = bluez_compute_state(bz);
	const char *name = bz->adapter ? bz->adapter->name : NULL;

	if (s == bz->state && !!name == !!bz->reported_adapter &&
	    (!name || strcmp(name, bz->reported_adapter) == 0))
		return;
	bz->state = s;
	free(bz->reported_adapter);
	bz->reported_adapter = name ? strdup(name) : NULL;
	switch (s) {
	case FG_BLUEZ_NO_SERVICE:
		log_warning("Bluetooth: bluetoothd is not running (nobody owns org.bluez)");
		break;
	case FG_BLUEZ_NO_ADAPTER:
		log_warning("Bluetooth: no adapter%s%s", strcmp(bz->config->bluetooth.adapter, "auto") ? " named " : "",
			    strcmp(bz->config->bluetooth.adapter, "auto") ? bz->config->bluetooth.adapter : "");
		break;
	case FG_BLUEZ_POWERED_OFF:
		log_warning("Bluetooth: adapter %s is powered off", name);
		break;
	case FG_BLUEZ_READY:
		log_notice("Bluetooth: adapter %s is ready", name);
		break;
	case _FG_BLUEZ_STATE_MAX:
		break;
	}
	if (bz->ops->state_changed)
		bz->ops->state_changed(bz, s, name, bz->userdata);
}

static int start_sync(struct fg_bluez *bz);

/* Make the chosen adapter match the configuration; resync if it changes. */
static void select_adapter(struct fg_bluez *bz)
{
	struct adapter *a = bluez_pick_adapter(bz);

	if (a == bz->adapter) {
		bluez_power_update(bz);
		bluez_discovery_update(bz);
		report_state(bz);
		return;
	}
	/* leaving the old adapter: its devices and our discovery go with it */
	bluez_drop_all_devices(bz, -ENETDOWN);
	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	bz->power_slot = sd_bus_slot_unref(bz->power_slot);
	bz->discovery_active = false;
	bz->discovery_paused = false;
	bz->power_warned = false;
	bz->adapter = a;
	if (a) {
		bz->stats.adapter_changes++;
		log_info("Bluetooth: using adapter %s", a->name);
		/* its devices are in the snapshot we need to (re)read */
		if (bz->synced) {
			report_state(bz);
			(void)start_sync(bz);
			return;
		}
	}
	bluez_power_update(bz);
	bluez_discovery_update(bz);
	report_state(bz);
}

/* ---- signals and the snapshot ------------------------------------------------- */

/*
 * Walk an "a{sa{sv}}" (one object's interfaces). Pass 0 adapters, pass 1
 * devices, pass 2 characteristics: a device must be known before its
 * characteristics, an adapter before its devices, whatever order BlueZ
 * lists them in.
 */
static int add_object(struct fg_bluez *bz, const char *path, sd_bus_message *m, int pass)
{
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
	if (r < 0)
		return r;
	for (;;) {
		const char *iface;

		r = sd_bus_message_enter_container(m, 'e', "sa{sv}");
		if (r <= 0)
			break;
		r = sd_bus_message_read_basic(m, 's', &iface);
		if (r < 0)
			return r;
		if (pass == 0 && strcmp(iface, IFACE_ADAPTER) == 0)
			r = bluez_add_adapter(bz, path, m);
		else if (pass == 1 && strcmp(iface, IFACE_DEVICE) == 0)
			r = bluez_add_device(bz, path, m);
		else if (pass == 2 && strcmp(iface, IFACE_CHAR) == 0)
			r = bluez_add_char(bz, path, m);
		else
			r = sd_bus_message_skip(m, "a{sv}");
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

static int walk_objects(struct fg_bluez *bz, sd_bus_message *m, int pass)
{
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		const char *path;

		r = sd_bus_message_read_basic(m, 'o', &path);
		if (r < 0)
			return r;
		r = add_object(bz, path, m, pass);
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

static int on_managed_objects(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	const char *sender = sd_bus_message_get_sender(reply);
	int r;

	bz->sync_slot = sd_bus_slot_unref(bz->sync_slot);
	if (e) {
		if (bluez_reply_errno(e) == -ENETDOWN) {
			/* not running: NameOwnerChanged will tell us when it is */
			free(bz->owner);
			bz->owner = NULL;
		} else {
			log_warning("Bluetooth: GetManagedObjects failed: %s", e->message);
		}
		report_state(bz);
		return 0;
	}
	if (sender && (!bz->owner || strcmp(sender, bz->owner) != 0)) {
		char *o = strdup(sender);

		if (!o)
			return log_error_errno(-ENOMEM, "Bluetooth: out of memory"), 0;
		free(bz->owner);
		bz->owner = o;
		bz->had_owner = true;
	}

	/* the snapshot replaces what we had: forget devices, keep links reported by re-adding */
	bluez_drop_all_devices(bz, -ENETDOWN);
	bluez_adapters_free(bz);
	bz->synced = true;

	r = walk_objects(bz, reply, 0);
	if (r < 0)
		goto bad;
	bz->adapter = bluez_pick_adapter(bz);
	if (bz->adapter)
		log_info("Bluetooth: using adapter %s", bz->adapter->name);
	/* the adapter's state first: the owner may act on the links reported next */
	bluez_power_update(bz);
	report_state(bz);
	bz->loading = true;
	for (int pass = 1; pass <= 2; pass++) {
		r = sd_bus_message_rewind(reply, true);
		if (r >= 0)
			r = walk_objects(bz, reply, pass);
		if (r < 0)
			break;
	}
	bz->loading = false;
	if (r < 0)
		goto bad;
	/* links the owner already asked for, now that characteristics are known */
	for (struct device *d = bz->devices; d; d = d->next)
		bluez_channel_setup(d);
	/* after the devices: whether the wide filter is needed depends on them */
	bluez_discovery_update(bz);
	return 0;
bad:
	log_warning_errno(r, "Bluetooth: cannot parse GetManagedObjects: %m");
	report_state(bz);
	return 0;
}

static int start_sync(struct fg_bluez *bz)
{
	sd_bus_message *m = NULL;
	int r;

	bz->sync_slot = sd_bus_slot_unref(bz->sync_slot);
	r = sd_bus_message_new_method_call(bz->bus, &m, BLUEZ_NAME, "/", IFACE_OM, "GetManagedObjects");
	/* never start bluetoothd by asking: the system decides whether it runs */
	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, false);
	if (r >= 0)
		r = sd_bus_call_async(bz->bus, &bz->sync_slot, m, on_managed_objects, bz, CALL_TIMEOUT_USEC);
	sd_bus_message_unref(m);
	if (r < 0)
		log_warning_errno(r, "Bluetooth: cannot call GetManagedObjects: %m");
	return r;
}

static void bluez_gone(struct fg_bluez *bz)
{
	bluez_drop_all_devices(bz, -ENETDOWN);
	bluez_adapters_free(bz);
	bz->sync_slot = sd_bus_slot_unref(bz->sync_slot);
	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	bz->power_slot = sd_bus_slot_unref(bz->power_slot);
	bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
	bz->discovery_active = false;
	bz->discovery_paused = false;
	bz->filter_wide = false;
	bz->power_warned = false;
	bz->synced = false;
	free(bz->owner);
	bz->owner = NULL;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const char *name, *old, *new;
	int r;

	r = sd_bus_message_read(m, "sss", &name, &old, &new);
	if (r < 0 || strcmp(name, BLUEZ_NAME) != 0)
		return 0;
	if (bz->owner && (!*new || strcmp(bz->owner, new) != 0)) {
		log_warning("Bluetooth: bluetoothd %s", *new ? "was replaced" : "went away");
		bluez_gone(bz);
	}
	if (*new && !bz->owner) {
		bz->owner = strdup(new);
		if (!bz->owner)
			return log_error_errno(-ENOMEM, "Bluetooth: out of memory"), 0;
		if (bz->had_owner)
			bz->stats.bluetoothd_restarts++;
		log_notice("Bluetooth: bluetoothd is %s", bz->had_owner ? "back" : "up");
		bz->had_owner = true;
		/* its state is reported once the snapshot is read */
		(void)start_sync(bz);
		return 0;
	}
	report_state(bz);
	return 0;
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const char *path;
	bool known;
	int r;

	if (!bluez_from_owner(bz, m) || !bz->synced)
		return 0;
	r = sd_bus_message_read_basic(m, 'o', &path);
	if (r < 0)
		goto bad;
	known = bluez_adapter_by_path(bz, path) != NULL;
	/* one object, but still: adapter first, then device, then characteristic */
	for (int pass = 0; pass <= 2; pass++) {
		if (pass > 0) {
			r = sd_bus_message_rewind(m, true);
			if (r >= 0)
				r = sd_bus_message_read_basic(m, 'o', &path);
			if (r < 0)
				goto bad;
		}
		r = add_object(bz, path, m, pass);
		if (r < 0)
			goto bad;
		if (pass == 0 && !known && bluez_adapter_by_path(bz, path)) {
			log_info("Bluetooth: adapter %s appeared", bluez_adapter_by_path(bz, path)->name);
			select_adapter(bz);
		}
	}
	return 0;
bad:
	log_debug_errno(r, "Bluetooth: ignoring a malformed InterfacesAdded: %m");
	return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const char *path, *iface;
	int r;

	if (!bluez_from_owner(bz, m) || !bz->synced)
		return 0;
	r = sd_bus_message_read_basic(m, 'o', &path);
	if (r < 0)
		return 0;
	r = sd_bus_message_enter_container(m, 'a', "s");
	if (r < 0)
		return 0;
	while (sd_bus_message_read_basic(m, 's', &iface) > 0) {
		if (strcmp(iface, IFACE_DEVICE) == 0) {
			struct device *d = bluez_device_by_path(bz, path);

			if (d)
				bluez_device_drop(bz, d, -ENODEV);
		} else if (strcmp(iface, IFACE_CHAR) == 0) {
			bluez_remove_char(bz, path);
		} else if (strcmp(iface, IFACE_ADAPTER) == 0) {
			struct adapter *a = bluez_adapter_by_path(bz, path), **pp;

			if (!a)
				continue;
			log_warning("Bluetooth: adapter %s went away", a->name);
			for (pp = &bz->adapters; *pp; pp = &(*pp)->next)
				if (*pp == a) {
					*pp = a->next;
					break;
				}
			if (bz->adapter == a) {
				bluez_drop_all_devices(bz, -ENETDOWN);
				bz->adapter = NULL;
				bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
				bz->power_slot = sd_bus_slot_unref(bz->power_slot);
				bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
				bz->discovery_active = false;
				bz->discovery_paused = false;
			}
			free(a->path);
			free(a);
			select_adapter(bz);
		}
	}
	return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const char *path = sd_bus_message_get_path(m), *iface, *inv;
	int r;

	if (!bluez_from_owner(bz, m) || !bz->synced || !path)
		return 0;
	r = sd_bus_message_read_basic(m, 's', &iface);
	if (r < 0)
		return 0;

	if (strcmp(iface, IFACE_DEVICE) == 0) {
		struct device *d = bluez_device_by_path(bz, path);
		unsigned changed = 0;

		if (!d)
			return 0;
		r = bluez_parse_device_props(d, m, &changed);
		if (r >= 0 && sd_bus_message_enter_container(m, 'a', "s") > 0) {
			while (sd_bus_message_read_basic(m, 's', &inv) > 0) {
				if (strcmp(inv, "RSSI") == 0) {
					d->has_rssi = false;
				} else if (strcmp(inv, "ManufacturerData") == 0) {
					free(d->mfr);
					d->mfr = NULL;
					d->mfr_len = 0;
				}
			}
		}
		if (r < 0)
			log_debug_errno(r, "Bluetooth: ignoring a malformed PropertiesChanged: %m");
		bluez_device_changed(d, changed);
	} else if (strcmp(iface, IFACE_CHAR) == 0) {
		struct device *d = bluez_device_owning(bz, path);

		if (d && d->gatt == GATT_READY && d->notify_by_signal && d->notify_path &&
		    strcmp(d->notify_path, path) == 0)
			(void)bluez_on_char_value(d, m);
	} else if (strcmp(iface, IFACE_ADAPTER) == 0) {
		struct adapter *a = bluez_adapter_by_path(bz, path);
		bool pc = false, dc = false;

		if (!a)
			return 0;
		r = bluez_parse_adapter_props(a, m, &pc, &dc);
		if (r < 0 || a != bz->adapter)
			return 0;
		if (pc && !a->powered) {
			/* power off ends every link and every discovery session */
			bz->discovery_active = false;
			bz->discovery_paused = false;
			bz->power_warned = false;
			log_warning("Bluetooth: adapter %s was powered off", a->name);
		}
		if (dc && !a->discovering && bz->discovery_active && a->powered) {
			/*
			 * Discovering dropped while powered: BlueZ restarts
			 * scanning briefly when filters change, or our
			 * session is gone. Ask again shortly; InProgress
			 * tells us it was the former.
			 */
			log_debug("Bluetooth: discovery stopped on %s, re-checking", a->name);
			bluez_discovery_retry_later(bz);
		}
		bluez_power_update(bz);
		bluez_discovery_update(bz);
		report_state(bz);
	}
	return 0;
}

/* ---- lifecycle --------------------------------------------------------------------- */

int fg_bluez_new(sd_event *event, sd_bus *bus, struct fg_config *config,
		 const struct fg_bluez_ops *ops, void *userdata, struct fg_bluez **ret)
{
	struct fg_bluez *bz;
	int r;

	bz = calloc(1, sizeof(*bz));
	if (!bz)
		return -ENOMEM;
	bz->event = sd_event_ref(event);
	bz->bus = sd_bus_ref(bus);
	bz->config = fg_config_ref(config);
	bz->channel_changed = bluez_link_channel_changed;
	bz->ops = ops;
	bz->userdata = userdata;
	/* force the first report */
	bz->state = _FG_BLUEZ_STATE_MAX;

	r = sd_bus_match_signal_async(bus, &bz->owner_match, "org.freedesktop.DBus", "/org/freedesktop/DBus",
				      "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed,
				      NULL, bz);
	if (r >= 0)
		r = sd_bus_match_signal_async(bus, &bz->added_match, BLUEZ_NAME, NULL, IFACE_OM,
					      "InterfacesAdded", on_interfaces_added, NULL, bz);
	if (r >= 0)
		r = sd_bus_match_signal_async(bus, &bz->removed_match, BLUEZ_NAME, NULL, IFACE_OM,
					      "InterfacesRemoved", on_interfaces_removed, NULL, bz);
	if (r >= 0)
		r = sd_bus_match_signal_async(bus, &bz->props_match, BLUEZ_NAME, NULL, IFACE_PROPS,
					      "PropertiesChanged", on_properties_changed, NULL, bz);
	if (r < 0) {
		log_error_errno(r, "Failed to subscribe to BlueZ signals: %m");
		fg_bluez_free(bz);
		return r;
	}
	/*
	 * The AddMatch calls above are queued before this one, and the bus
	 * handles one connection's messages in order: nothing emitted after
	 * the snapshot is missed.
	 */
	r = start_sync(bz);
	if (r < 0) {
		fg_bluez_free(bz);
		return r;
	}
	*ret = bz;
	return 0;
}

struct fg_bluez *fg_bluez_free(struct fg_bluez *bz)
{
	if (!bz)
		return NULL;
	while (bz->devices) {
		struct device *d = bz->devices;

		bz->devices = d->next;
		bluez_device_free(d);
	}
	bluez_adapters_free(bz);
	sd_bus_slot_unref(bz->owner_match);
	sd_bus_slot_unref(bz->added_match);
	sd_bus_slot_unref(bz->removed_match);
	sd_bus_slot_unref(bz->props_match);
	sd_bus_slot_unref(bz->sync_slot);
	sd_bus_slot_unref(bz->power_slot);
	sd_bus_slot_unref(bz->discovery_slot);
	sd_event_source_disable_unref(bz->discovery_timer);
	free(bz->owner);
	free(bz->reported_adapter);
	free(bz->watch);
	fg_config_unref(bz->config);
	sd_bus_unref(bz->bus);
	sd_event_unref(bz->event);
	free(bz);
	return NULL;
}

int fg_bluez_set_config(struct fg_bluez *bz, struct fg_config *config)
{
	/* ref first: @config may be the one we hold already */
	fg_config_ref(config);
	fg_config_unref(bz->config);
	bz->config = config;
	bz->power_warned = false;
	if (bz->synced)
		select_adapter(bz);
	return 0;
}

enum fg_bluez_state fg_bluez_get_state(const struct fg_bluez *bz)
{
	return bluez_compute_state(bz);
}

const char *fg_bluez_adapter_name(const struct fg_bluez *bz)
{
	return bz->adapter ? bz->adapter->name : NULL;
}

void fg_bluez_get_stats(const struct fg_bluez *bz, struct fg_bluez_stats *ret)
{
	*ret = bz->stats;
}
