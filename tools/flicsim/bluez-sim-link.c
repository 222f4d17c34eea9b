/* SPDX-License-Identifier: MIT */
/* The controller's link model: Connect() waits for the button to advertise
 * (and for the discovery window), link set-up, services resolving, link
 * loss out of range, Disconnect; and the Device1 methods that drive it. */
#include <string.h>

#include "bluez-sim-internal.h"
#include "lib/log.h"

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

void bz_link_down(struct dev *d, enum drop_reason why)
{
	/* BlueZ's names and messages for Device1.Disconnected (5.82); our log's word. */
	static const char *const reasons[][3] = {
		[DROP_LOCAL] = { "org.bluez.Reason.Local", "Connection terminated by local host", "local" },
		[DROP_REMOTE] = { "org.bluez.Reason.Remote", "Connection terminated by remote user", "remote" },
		[DROP_TIMEOUT] = { "org.bluez.Reason.Timeout", "Connection timeout", "link loss" },
		[DROP_SILENT] = { "", "", "bluetoothd gone" },
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
		bz_close_write_fd(d, false);
		bz_close_notify_fd(d, false);
		d->notify_track = sd_bus_track_unref(d->notify_track);
		d->gatt_exported = false;
		d->sc_indicating = false;
	} else {
		/* The order bluetoothctl shows: ServicesResolved, Disconnected,
		 * Connected. */
		if (d->resolved) {
			d->resolved = false;
			bz_emit_changed(bz, d->path, IFACE_DEVICE, "ServicesResolved", NULL);
		}
		if (bz->cfg.modern && bz->running)
			sd_bus_emit_signal(bz->bus, d->path, IFACE_DEVICE, "Disconnected", "ss",
					   reasons[why][0], reasons[why][1]);
		bz_gatt_unexport(d);
		bz_emit_changed(bz, d->path, IFACE_DEVICE, "Connected", NULL);
	}
	log_info("%s: disconnected (%s)", fs_button_address(d->btn), reasons[why][2]);
	fs_button_link_down(d->btn);
	bz_touch_temporary(d);
}

static int on_resolved(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dev *d = userdata;

	disarm(&d->resolve_timer);
	d->resolved = true;
	bz_emit_changed(d->bz, d->path, IFACE_DEVICE, "UUIDs", "ServicesResolved", NULL);
	log_info("%s: services resolved", fs_button_address(d->btn));
	return 0;
}

bool bz_connectable(struct dev *d)
{
	return d->bz->powered && fs_button_in_range(d->btn) &&
	       fs_button_adv(d->btn) != FS_ADV_NONE;
}

static int on_connect_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dev *d = userdata;

	disarm(&d->connect_timer);
	d->connect_scheduled = false;
	if (!bz_connectable(d))
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
		bz_emit_changed(d->bz, d->path, IFACE_DEVICE, "RSSI", NULL);
	} else {
		bz_emit_changed(d->bz, d->path, IFACE_DEVICE, "Connected", "RSSI", NULL);
	}
	log_info("%s: connected", fs_button_address(d->btn));
	fs_button_link_up(d->btn, d->bz->cfg.mtu);
	bz_gatt_export(d);
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

void bz_schedule_connect(struct dev *d)
{
	uint64_t ms = d->bz->cfg.connect_ms;

	if (!d->connecting || d->connect_scheduled || !bz_connectable(d))
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
		bz_link_down(d, DROP_TIMEOUT);
	return 0;
}

void bz_drop_all_links(struct fs_bluez *bz, enum drop_reason why)
{
	for (size_t i = 0; i < bz->n_devs; i++)
		bz_link_down(bz->devs[i], why);
}

void fs_bluez_terminate_link(struct fs_bluez *bz, struct fs_button *btn)
{
	struct dev *d = bz_find_dev_by_button(bz, btn);

	if (d && d->connected)
		bz_link_down(d, DROP_REMOTE);
	else
		fs_button_link_down(btn);
}

void fs_bluez_button_changed(struct fs_bluez *bz, struct fs_button *btn)
{
	struct dev *d = bz_find_dev_by_button(bz, btn);

	if (!d)
		return;
	if (d->connected && !fs_button_in_range(btn)) {
		if (!d->loss_timer)
			arm(bz, &d->loss_timer, (uint64_t)bz->cfg.supervision_ms * FG_USEC_PER_MSEC,
			    on_link_loss, d);
	} else if (d->connected) {
		disarm(&d->loss_timer);
	}
	bz_schedule_connect(d);
}

/* --- Device1 methods ------------------------------------------------------------ */

int bz_device_method(struct dev *d, sd_bus_message *m, const char *member)
{
	struct fs_bluez *bz = d->bz;

	if (strcmp(member, "Connect") == 0) {
		if (!bz->powered)
			return bz_err(m, E_NOTREADY, "Resource Not Ready");
		if (d->connected)
			return bz_err(m, E_ALREADYCONN, "Already Connected");
		if (d->connecting)
			return bz_err(m, E_INPROGRESS, "In Progress");
		d->connecting = true;
		d->temporary = false;	/* bluetoothd stores it from now on */
		disarm(&d->temp_timer);
		d->connect_msg = sd_bus_message_ref(m);
		log_info("%s: Connect (button %s)", fs_button_address(d->btn),
			 bz_connectable(d) ? "advertising" : "not advertising, waiting");
		arm(bz, &d->connect_timeout, (uint64_t)bz->cfg.connect_timeout_ms * FG_USEC_PER_MSEC,
		    on_connect_timeout, d);
		bz_schedule_connect(d);
		return 1;
	}
	if (strcmp(member, "Disconnect") == 0) {
		if (d->connecting && !d->connected) {
			connect_abort(d, LE_ABORT_LOCAL);
			return bz_reply_ok(m);
		}
		if (!d->connected)
			return bz_err(m, E_NOTCONNECTED, "Not Connected");
		bz_link_down(d, DROP_LOCAL);
		return bz_reply_ok(m);
	}
	if (strcmp(member, "Pair") == 0)
		return bz_err(m, E_NOTSUPPORTED, "Operation is not supported");
	if (strcmp(member, "CancelPairing") == 0)
		return bz_err(m, E_DOESNOTEXIST, "Does Not Exist");
	if (strcmp(member, "ConnectProfile") == 0 || strcmp(member, "DisconnectProfile") == 0)
		return bz_err(m, E_NOTSUPPORTED, "Operation is not supported");
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s", member);
}
