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

uint32_t bz_links_in_use(struct fs_bluez *bz)
{
	uint32_t n = 0;

	for (size_t i = 0; i < bz->n_devs; i++)
		n += bz->devs[i]->connected;
	return n + (bz->initiator && !bz->initiator->connected);
}

uint32_t bz_pending_connects(struct fs_bluez *bz)
{
	uint32_t n = 0;

	for (size_t i = 0; i < bz->n_devs; i++)
		n += bz->devs[i]->connecting;
	return n;
}

/*
 * The kernel programs every pending LE connection into the controller's
 * filter accept list; when they do not fit it scans without the list and
 * filters advertising reports itself (hci_sync.c
 * hci_update_accept_list_sync → filter policy 0x00). Connections still
 * happen, the controller just reports every advertiser to the host.
 */
static void update_accept_list(struct fs_bluez *bz)
{
	bool bypass = bz_pending_connects(bz) > bz->cfg.accept_list;

	if (bypass && !bz->accept_list_bypassed) {
		bz->stats.accept_list_fallbacks++;
		log_info("%u pending connections, accept list holds %u: scanning without it",
			 bz_pending_connects(bz), bz->cfg.accept_list);
	}
	bz->accept_list_bypassed = bypass;
}

static void kick_pending(struct fs_bluez *bz);

/* The Create Connection of @d ended (link up, refused or aborted): the
 * kernel scans again and the next pending connection can start. */
static void initiator_done(struct dev *d)
{
	if (d->bz->initiator != d)
		return;
	d->bz->initiator = NULL;
	kick_pending(d->bz);
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
	update_accept_list(d->bz);
	initiator_done(d);
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

/* The link set-up ended: the link is up. */
static int on_link_setup(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dev *d = userdata;

	disarm(&d->connect_timer);
	d->connect_scheduled = false;
	if (!bz_connectable(d)) {
		/* the button went away during set-up: this attempt is lost,
		 * the kernel keeps the connection pending */
		initiator_done(d);
		return 0;
	}
	disarm(&d->connect_timeout);
	d->connecting = false;
	d->held = false;
	d->connected = true;
	update_accept_list(d->bz);
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
	initiator_done(d);
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

/*
 * The kernel sends LE Create Connection for a pending connection when an
 * advertisement of the device is heard (hci_event.c check_pending_le_conn),
 * one at a time: while the controller initiates, the kernel does not scan
 * (hci_update_passive_scan_sync: "some controllers are not able to scan and
 * connect at the same time"), so the others wait for their next advert
 * after it. The controller refuses a link beyond what it can hold with
 * "Connection Rejected due to Limited Resources" (0x0d); the kernel ends
 * the socket with bt_to_errno(0x0d) = ECONNREFUSED (l2cap_connect_cfm),
 * and bluetoothd's att_connect_cb turns every socket error but
 * ECONNABORTED into -ECONNABORTED: Device1.Connect() fails with
 * org.bluez.Error.Failed "le-connection-abort-by-local" (5.66 and 5.82).
 */
static int on_advert_heard(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dev *d = userdata;
	struct fs_bluez *bz = d->bz;
	uint64_t ms = bz->cfg.connect_ms;

	disarm(&d->connect_timer);
	d->connect_scheduled = false;
	if (!bz_connectable(d) || bz->initiator)
		return 0;	/* missed: rescheduled when it changes or the initiator is done */
	fs_button_advert_heard(d->btn, usec);
	if (bz_links_in_use(bz) >= bz->cfg.max_links) {
		bz->stats.refused++;
		log_info("%s: Create Connection refused: Connection Rejected due to Limited Resources (0x0d), %u of %u links in use",
			 fs_button_address(d->btn), bz_links_in_use(bz), bz->cfg.max_links);
		connect_abort(d, LE_ABORT_LOCAL);
		return 0;
	}
	bz->initiator = d;
	d->heard_usec = usec;
	if (bz_links_in_use(bz) > bz->peak_links)
		bz->peak_links = bz_links_in_use(bz);
	if (fs_button_take_fault(d->btn, FS_FAULT_SLOW_CONNECT)) {
		ms += fs_button_slow_connect_ms(d->btn);
		log_info("%s: fault: slow connect (+%ums)", fs_button_address(d->btn),
			 fs_button_slow_connect_ms(d->btn));
	}
	d->connect_scheduled = true;
	arm(bz, &d->connect_timer, ms * FG_USEC_PER_MSEC, on_link_setup, d);
	return 0;
}

void bz_schedule_connect(struct dev *d)
{
	struct fs_bluez *bz = d->bz;
	uint64_t now = 0, at;

	if (!d->connecting || d->connect_scheduled || !bz_connectable(d))
		return;
	if (held_by_discovery(d)) {
		if (!d->held) {
			d->held = true;
			bz->stats.held++;
			log_info("%s: Connect held by the discovery window (reported in it already)",
				 fs_button_address(d->btn));
		}
		return;
	}
	d->held = false;
	if (bz->initiator)
		return;		/* not scanning: kick_pending() comes back */
	sd_event_now(bz->event, CLOCK_MONOTONIC, &now);
	at = fs_button_next_advert_usec(d->btn, now, SCAN_CONNECT_INTERVAL_USEC,
					SCAN_CONNECT_WINDOW_USEC);
	d->connect_scheduled = true;
	arm(bz, &d->connect_timer, at - now, on_advert_heard, d);
}

static void kick_pending(struct fs_bluez *bz)
{
	for (size_t i = 0; i < bz->n_devs; i++)
		bz_schedule_connect(bz->devs[i]);
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
	if (d->connect_scheduled && bz->initiator != d) {
		/* waiting for an advert: it may have a new period now */
		disarm(&d->connect_timer);
		d->connect_scheduled = false;
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
		update_accept_list(bz);
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
