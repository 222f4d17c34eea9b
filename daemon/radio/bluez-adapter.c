/* SPDX-License-Identifier: MIT */
/*
 * The adapters BlueZ has, the one [bluetooth] adapter picks, powering it
 * on, and our LE discovery session on it, run only while needed (filter,
 * pause, rescan, retry, stop).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "radio/bluez-private.h"
#include "lib/bus-props.h"
#include "lib/log.h"

/* ---- adapters --------------------------------------------------------------- */

struct adapter *bluez_adapter_by_path(const struct fg_bluez *bz, const char *path)
{
	for (struct adapter *a = bz->adapters; a; a = a->next)
		if (strcmp(a->path, path) == 0)
			return a;
	return NULL;
}

static const struct fg_bus_prop adapter_props[] = {
	FG_BUS_PROP("Powered", "b", struct adapter, powered, 1),
	FG_BUS_PROP("Discovering", "b", struct adapter, discovering, 2),
	{ 0 },
};

int bluez_parse_adapter_props(struct adapter *a, sd_bus_message *m, bool *ret_power_changed,
			      bool *ret_disc_changed)
{
	unsigned changed = 0;
	int r;

	r = fg_bus_props_read(m, adapter_props, 0, NULL, a, &changed, NULL);
	if (r < 0)
		return r;
	*ret_power_changed = changed & 1;
	*ret_disc_changed = changed & 2;
	return 0;
}

int bluez_add_adapter(struct fg_bluez *bz, const char *path, sd_bus_message *m)
{
	struct adapter *a = bluez_adapter_by_path(bz, path);
	bool pc = false, dc = false;
	const char *slash;

	if (a)
		return bluez_parse_adapter_props(a, m, &pc, &dc);
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->path = strdup(path);
	if (!a->path) {
		free(a);
		return -ENOMEM;
	}
	slash = strrchr(a->path, '/');
	a->name = slash ? slash + 1 : a->path;
	a->next = bz->adapters;
	bz->adapters = a;
	return bluez_parse_adapter_props(a, m, &pc, &dc);
}

void bluez_adapters_free(struct fg_bluez *bz)
{
	while (bz->adapters) {
		struct adapter *a = bz->adapters;

		bz->adapters = a->next;
		free(a->path);
		free(a);
	}
	bz->adapter = NULL;
}

struct adapter *bluez_pick_adapter(const struct fg_bluez *bz)
{
	struct adapter *best = NULL;

	for (struct adapter *a = bz->adapters; a; a = a->next)
		if (fg_scan_adapter_prefer(a->name, best ? best->name : NULL, bz->config->bluetooth.adapter))
			best = a;
	return best;
}

static int on_power_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);

	bz->power_slot = sd_bus_slot_unref(bz->power_slot);
	if (e && !bz->power_warned) {
		bz->power_warned = true;
		log_warning("Bluetooth: cannot power on %s: %s", bz->adapter ? bz->adapter->name : "the adapter",
			    e->message);
	}
	return 0;
}

void bluez_power_update(struct fg_bluez *bz)
{
	int r;

	if (!bz->adapter || bz->adapter->powered || !bz->config->bluetooth.power_on || bz->power_slot ||
	    bz->power_warned)
		return;
	log_info("Bluetooth: powering on %s", bz->adapter->name);
	r = sd_bus_call_method_async(bz->bus, &bz->power_slot, BLUEZ_NAME, bz->adapter->path, IFACE_PROPS,
				     "Set", on_power_reply, bz, "ssv", IFACE_ADAPTER, "Powered", "b", 1);
	if (r < 0)
		log_warning_errno(r, "Bluetooth: cannot ask to power on %s: %m", bz->adapter->name);
}

/* ---- discovery --------------------------------------------------------------- */

/*
 * A watched address without a device object: BlueZ forgot a paired button
 * (removed by someone, or never stored). Only a discovery brings the object
 * back, and its own advertisements do not carry the Flic service UUID, so
 * the usual filter would hide it forever.
 */
static bool needs_wide_filter(const struct fg_bluez *bz)
{
	for (size_t i = 0; i < bz->n_watch; i++)
		if (!bluez_device_by_address(bz, bz->watch[i]))
			return true;
	return false;
}

bool bluez_scan_wanted(const struct fg_bluez *bz)
{
	return bz->pairing_scan || needs_wide_filter(bz);
}

static int call_set_filter(struct fg_bluez *bz);

static int on_recheck_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int r;

	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	if (e && bluez_reply_errno(e) == -EINPROGRESS) {
		/* our session is alive: it was a restart inside BlueZ */
		bluez_discovery_update(bz);
		return 0;
	}
	if (e) {
		log_warning("Bluetooth: StartDiscovery failed: %s", e->message);
		bz->discovery_active = false;
		bluez_discovery_retry_later(bz);
		return 0;
	}
	/*
	 * It started a new session: the old one (and its filter) was gone.
	 * Put the filter back on the running session.
	 */
	log_info("Bluetooth: discovery session was lost, restarted it");
	r = call_set_filter(bz);
	if (r < 0)
		log_warning_errno(r, "Bluetooth: cannot call SetDiscoveryFilter: %m");
	return 0;
}

static int on_discovery_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fg_bluez *bz = userdata;
	int r;

	if (!bz->adapter || !bz->adapter->powered || bz->discovery_slot)
		return 0;
	if (!bz->discovery_active || bluez_foreground_pending(bz) || !bluez_scan_wanted(bz)) {
		bluez_discovery_update(bz);
		return 0;
	}
	/* re-check: is our session still there? */
	r = sd_bus_call_method_async(bz->bus, &bz->discovery_slot, BLUEZ_NAME, bz->adapter->path,
				     IFACE_ADAPTER, "StartDiscovery", on_recheck_reply, bz, "");
	if (r < 0) {
		bz->discovery_active = false;
		bluez_discovery_retry_later(bz);
	}
	return 0;
}

void bluez_discovery_retry_later(struct fg_bluez *bz)
{
	int r;

	bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
	r = sd_event_add_time_relative(bz->event, &bz->discovery_timer, CLOCK_MONOTONIC,
				       DISCOVERY_RETRY_USEC, 0, on_discovery_timer, bz);
	if (r < 0)
		log_warning_errno(r, "Bluetooth: cannot arm the discovery retry timer: %m");
}

static int on_start_discovery(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);

	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	/* InProgress: our session is still there */
	if (e && bluez_reply_errno(e) != -EINPROGRESS) {
		log_warning("Bluetooth: StartDiscovery failed: %s", e->message);
		bluez_discovery_retry_later(bz);
		return 0;
	}
	if (!bz->discovery_active && !bz->discovery_paused)
		log_info("Bluetooth: scanning for Flic 2 buttons on %s", bz->adapter ? bz->adapter->name : "?");
	else if (bz->discovery_paused)
		log_debug("Bluetooth: discovery resumed");
	bz->discovery_active = true;
	bz->discovery_paused = false;
	bluez_filter_update(bz);
	/* a foreground connect may have started meanwhile */
	bluez_discovery_update(bz);
	return 0;
}

static int on_stop_discovery(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);

	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	/* "No discovery started": it was gone already, which is what we wanted */
	if (e)
		log_debug("Bluetooth: StopDiscovery: %s", e->message);
	/* the connect may be over already */
	bluez_discovery_update(bz);
	return 0;
}

static int on_set_filter(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int r;

	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	if (e) {
		log_warning("Bluetooth: SetDiscoveryFilter failed: %s", e->message);
		bz->discovery_active = false;
		bluez_discovery_retry_later(bz);
		return 0;
	}
	if (!bz->adapter)
		return 0;
	if (bz->discovery_active) {
		/* a filter change on the running session; another may be due */
		bluez_filter_update(bz);
		/* or a pause */
		bluez_discovery_update(bz);
		return 0;
	}
	if (bluez_foreground_pending(bz))
		return 0;	/* paused meanwhile: started when the connect is over */
	r = sd_bus_call_method_async(bz->bus, &bz->discovery_slot, BLUEZ_NAME, bz->adapter->path,
				     IFACE_ADAPTER, "StartDiscovery", on_start_discovery, bz, "");
	if (r < 0) {
		log_warning_errno(r, "Bluetooth: cannot call StartDiscovery: %m");
		bluez_discovery_retry_later(bz);
	}
	return 0;
}


/*
 * Normally: LE only, only devices advertising the Flic 2 service (buttons
 * in public mode), and every advertisement reported (DuplicateData) so
 * that repeated ones are seen even when nothing in them changed. Paired
 * buttons are reached through their kept device objects (buttons.c). While
 * one of those objects is missing: every LE advertisement, duplicates
 * folded, until it is back. The filter belongs to our D-Bus connection
 * and dies with our discovery session.
 */
static int call_set_filter(struct fg_bluez *bz)
{
	sd_bus_message *m = NULL;
	int r;

	bool wide = needs_wide_filter(bz);

	r = sd_bus_message_new_method_call(bz->bus, &m, BLUEZ_NAME, bz->adapter->path, IFACE_ADAPTER,
					   "SetDiscoveryFilter");
	if (r >= 0 && !wide)
		r = sd_bus_message_append(m, "a{sv}", 3,
					  "UUIDs", "as", 1, FG_FLIC2_SERVICE_UUID,
					  "Transport", "s", "le",
					  "DuplicateData", "b", 1);
	else if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 2,
					  "Transport", "s", "le",
					  "DuplicateData", "b", 0);
	if (r >= 0)
		r = sd_bus_call_async(bz->bus, &bz->discovery_slot, m, on_set_filter, bz, CALL_TIMEOUT_USEC);
	sd_bus_message_unref(m);
	if (r >= 0 && wide)
		log_info("Bluetooth: a paired button has no BlueZ device: scanning for every LE advertisement until it shows");
	if (r >= 0)
		bz->filter_wide = wide;
	return r;
}

/*
 * Switch the running session's filter when the need for the wide one
 * changed, or start or stop the session when the need for it did.
 */
void bluez_filter_update(struct fg_bluez *bz)
{
	int r;

	if (!bz->adapter || bz->discovery_slot || bz->loading)
		return;
	if (!bz->discovery_active || !bluez_scan_wanted(bz)) {
		/* a session to start or stop rather than refilter */
		bluez_discovery_update(bz);
		return;
	}
	if (needs_wide_filter(bz) == bz->filter_wide)
		return;
	if (bz->filter_wide)
		log_info("Bluetooth: every paired button is known to BlueZ again: scanning for the Flic service only");
	r = call_set_filter(bz);
	if (r < 0)
		log_warning_errno(r, "Bluetooth: cannot call SetDiscoveryFilter: %m");
}

/*
 * Pause our discovery while a foreground connect is in flight: during an
 * LE discovery the kernel acts on a pending connection only at an
 * advertising report, and the controller's duplicate filter shows each
 * device once per scan window, so a connect asked for in reaction to that
 * one report would wait for the next window (docs/bluez.md). Without our
 * session (if it was the only one) the kernel scans passively for the
 * devices it has pending connections to and connects at once.
 */
static void discovery_pause(struct fg_bluez *bz, const char *why, bool resume)
{
	int r;

	bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
	r = sd_bus_call_method_async(bz->bus, &bz->discovery_slot, BLUEZ_NAME, bz->adapter->path,
				     IFACE_ADAPTER, "StopDiscovery", on_stop_discovery, bz, "");
	if (r < 0) {
		log_warning_errno(r, "Bluetooth: cannot call StopDiscovery: %m");
		return;
	}
	if (resume)
		log_debug("Bluetooth: discovery paused %s", why);
	else
		log_info("Bluetooth: discovery stopped on %s: %s", bz->adapter->name, why);
	/* BlueZ drops a session's filter with it: set again on resume */
	bz->discovery_active = false;
	bz->discovery_paused = resume;
}

void bluez_discovery_update(struct fg_bluez *bz)
{
	struct fg_scan_state s = {
		.powered = bz->adapter && bz->adapter->powered,
		.pairing = bz->pairing_scan,
		.missing_device = needs_wide_filter(bz),
		.call_busy = bz->discovery_slot,
		.loading = bz->loading,
		.foreground = bluez_foreground_pending(bz),
		.rescan = bz->rescan,
		.active = bz->discovery_active,
		.retry_armed = bz->discovery_timer &&
			       sd_event_source_get_enabled(bz->discovery_timer, NULL) > 0,
	};
	int r;

	switch (fg_scan_next(&s)) {
	case FG_SCAN_OFF:
		bz->discovery_active = false;
		bz->discovery_paused = false;
		bz->rescan = false;
		bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
		bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
		break;
	case FG_SCAN_WAIT:
	case FG_SCAN_KEEP:
		break;
	case FG_SCAN_HOLD:
		bz->rescan = false;
		break;
	case FG_SCAN_STOP:
		bz->rescan = false;
		discovery_pause(bz, "no pairing window and every paired button known to BlueZ", false);
		break;
	case FG_SCAN_IDLE:
		bz->rescan = false;
		bz->discovery_paused = false;
		bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
		break;
	case FG_SCAN_PAUSE:
		/* stopping anyway: the restart after the connect is the rescan */
		bz->rescan = false;
		discovery_pause(bz, "while connecting", true);
		break;
	case FG_SCAN_RESTART:
		bz->rescan = false;
		discovery_pause(bz, "to hear every device afresh", true);
		break;
	case FG_SCAN_START:
		r = call_set_filter(bz);
		if (r < 0) {
			log_warning_errno(r, "Bluetooth: cannot call SetDiscoveryFilter: %m");
			bluez_discovery_retry_later(bz);
		}
		break;
	}
}

/*
 * bluetoothd tells of an advertisement only through a property change: a
 * device whose advertisement and RSSI stay the same (a button put in
 * public mode before the pairing window opened, a radio with a steady
 * RSSI) is heard but not announced again. A discovery session that ends
 * forgets the RSSI of what it found, so the next one announces every
 * device in range: stop ours and start it again (if ours is the only
 * session: another program's keeps the RSSI, and its own announcements).
 */
void fg_bluez_rescan(struct fg_bluez *bz)
{
	/* a session being started announces everything anyway */
	if (!bz->discovery_active)
		return;
	bz->rescan = true;
	bluez_discovery_update(bz);
}

void fg_bluez_set_pairing_scan(struct fg_bluez *bz, bool on)
{
	if (bz->pairing_scan == on)
		return;
	bz->pairing_scan = on;
	bluez_discovery_update(bz);
}

int fg_bluez_watch(struct fg_bluez *bz, const uint8_t address[6], bool on)
{
	size_t i;

	for (i = 0; i < bz->n_watch; i++)
		if (memcmp(bz->watch[i], address, 6) == 0)
			break;
	if (on && i == bz->n_watch) {
		uint8_t (*w)[6] = realloc(bz->watch, (bz->n_watch + 1) * sizeof(*w));

		if (!w)
			return -ENOMEM;
		bz->watch = w;
		memcpy(bz->watch[bz->n_watch++], address, 6);
	} else if (!on && i < bz->n_watch) {
		memmove(bz->watch[i], bz->watch[i + 1], (bz->n_watch - i - 1) * sizeof(*bz->watch));
		bz->n_watch--;
	}
	bluez_filter_update(bz);
	return 0;
}
