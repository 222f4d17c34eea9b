/* SPDX-License-Identifier: MIT */
/* Device1 objects and their GATT objects appearing and going away, and
 * temporary devices that bluetoothd forgets when nobody hears them. */
#include <unistd.h>

#include "bluez-sim-internal.h"
#include "lib/log.h"

void bz_gatt_export(struct dev *d)
{
	if (d->gatt_exported)
		return;
	d->gatt_exported = true;
	bz_emit_added(d->bz, d->gatt_svc1801);
	bz_emit_added(d->bz, d->gatt_sc);
	bz_emit_added(d->bz, d->gatt_sc_ccc);
	bz_emit_added(d->bz, d->gatt_service);
	bz_emit_added(d->bz, d->gatt_write);
	bz_emit_added(d->bz, d->gatt_notify);
	bz_emit_added(d->bz, d->gatt_ccc);
}

void bz_close_write_fd(struct dev *d, bool announce)
{
	if (d->write_fd < 0)
		return;
	disarm(&d->write_io);
	close(d->write_fd);
	d->write_fd = -1;
	if (announce)
		bz_emit_changed(d->bz, d->gatt_write, IFACE_CHAR, "WriteAcquired", NULL);
}

void bz_close_notify_fd(struct dev *d, bool announce)
{
	if (d->notify_fd < 0)
		return;
	disarm(&d->notify_io);
	close(d->notify_fd);
	d->notify_fd = -1;
	if (announce)
		bz_emit_changed(d->bz, d->gatt_notify, IFACE_CHAR, "NotifyAcquired", "Notifying", NULL);
}

void bz_gatt_unexport(struct dev *d)
{
	bz_close_write_fd(d, false);
	bz_close_notify_fd(d, false);
	d->notify_track = sd_bus_track_unref(d->notify_track);
	d->value_len = 0;
	if (!d->gatt_exported)
		return;
	/* Children first, as BlueZ tears down its GATT client. */
	bz_emit_removed(d->bz, d->gatt_ccc, IFACE_DESC);
	bz_emit_removed(d->bz, d->gatt_notify, IFACE_CHAR);
	bz_emit_removed(d->bz, d->gatt_write, IFACE_CHAR);
	bz_emit_removed(d->bz, d->gatt_service, IFACE_SERVICE);
	bz_emit_removed(d->bz, d->gatt_sc_ccc, IFACE_DESC);
	bz_emit_removed(d->bz, d->gatt_sc, IFACE_CHAR);
	bz_emit_removed(d->bz, d->gatt_svc1801, IFACE_SERVICE);
	d->gatt_exported = false;
	d->sc_indicating = false;
}

static int on_temporary_timeout(sd_event_source *s, uint64_t usec, void *userdata);

void bz_dev_export(struct dev *d)
{
	if (d->exported)
		return;
	d->exported = true;
	bz_emit_added(d->bz, d->path);
}

void bz_dev_unexport(struct dev *d)
{
	if (!d->exported)
		return;
	bz_gatt_unexport(d);
	bz_emit_removed(d->bz, d->path, IFACE_DEVICE);
	d->exported = false;
	d->has_rssi = d->has_mfr = false;
	d->seen_public = false;
	disarm(&d->temp_timer);
}

void bz_touch_temporary(struct dev *d)
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
	bz_dev_unexport(d);
	return 0;
}
