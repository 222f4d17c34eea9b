/* SPDX-License-Identifier: MIT */
/* Discovery: the clients' sessions and filters, the scan that reports each
 * advertising button, and the kernel's discovery window that holds a
 * Connect() to a device already reported in it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bluez-sim-internal.h"
#include "lib/bus-props.h"
#include "lib/log.h"

/* --- advertising reports ------------------------------------------------------------- */

static bool client_matches(struct dclient *c, struct dev *d, bool public)
{
	const char *name = public ? "F2" : NULL;

	if (!c->discovering)
		return false;
	if (!c->has_filter)
		return true;
	if (strcmp(c->transport, "bredr") == 0)
		return false;
	if (c->n_uuids) {
		bool hit = false;

		for (size_t i = 0; i < c->n_uuids; i++)
			if (public && strcasecmp(c->uuids[i], FLIC_SERVICE_UUID) == 0)
				hit = true;
		if (!hit)
			return false;
	}
	if (c->has_rssi && fs_button_rssi(d->btn) < c->rssi)
		return false;
	if (c->pattern && c->pattern[0] &&
	    strncasecmp(fs_button_address(d->btn), c->pattern, strlen(c->pattern)) != 0 &&
	    !(name && strncmp(name, c->pattern, strlen(c->pattern)) == 0))
		return false;
	return true;
}

static void report(struct dev *d)
{
	struct fs_bluez *bz = d->bz;
	bool public = fs_button_adv(d->btn) == FS_ADV_PUBLIC, match = false, dup = false;
	uint8_t mfr[5];
	int16_t rssi;
	bool new_public, mfr_changed;

	for (struct dclient *c = bz->clients; c; c = c->next)
		if (client_matches(c, d, public)) {
			match = true;
			dup |= !c->has_filter || c->duplicate;
		}
	if (!match)
		return;
	bz->stats.reports++;
	fs_button_manufacturer_data(d->btn, mfr);
	/* A little noise, as a real radio would show. With duplicate
	 * filtering on for every client (DuplicateData false) the controller
	 * reports a device once per scan, so nothing changes after that
	 * unless the advertisement itself does. */
	d->jitter = d->jitter * 1103515245u + 12345u;
	rssi = fs_button_rssi(d->btn);
	/*
	 * --steady: RSSI as btvirt's (never moving), and a public-mode
	 * advertisement (service UUID and name, no manufacturer data) has
	 * nothing bluetoothd would announce again: the button is reported
	 * once, until a discovery session ends and forgets its RSSI.
	 */
	if (dup && bz->cfg.steady)
		dup = !public;
	else if (dup)
		rssi += (int16_t)((d->jitter >> 16) % 5) - 2;
	else if (d->has_rssi)
		rssi = d->rssi;
	new_public = public && !d->seen_public;
	mfr_changed = !d->has_mfr || memcmp(mfr, d->mfr, 5) != 0;

	if (!d->exported) {
		d->seen_public = public;
		d->has_rssi = true;
		d->rssi = rssi;
		d->has_mfr = true;
		memcpy(d->mfr, mfr, 5);
		d->temporary = true;
		bz_dev_export(d);
		log_info("%s: found (%s advertisement, RSSI %d)", fs_button_address(d->btn),
			 public ? "public" : "private", rssi);
	} else {
		bool rssi_changed = !d->has_rssi || d->rssi != rssi;

		d->seen_public |= public;
		d->has_rssi = true;
		d->rssi = rssi;
		d->has_mfr = true;
		memcpy(d->mfr, mfr, 5);
		log_debug("%s: advertising report (RSSI %d%s%s)", fs_button_address(d->btn), rssi,
			  rssi_changed ? ", changed" : "", dup ? ", duplicates on" : "");
		if (new_public)
			bz_emit_changed(bz, d->path, IFACE_DEVICE, "Name", "Alias", "UUIDs", NULL);
		if (rssi_changed && (mfr_changed || dup))
			bz_emit_changed(bz, d->path, IFACE_DEVICE, "RSSI", "ManufacturerData", NULL);
		else if (rssi_changed)
			bz_emit_changed(bz, d->path, IFACE_DEVICE, "RSSI", NULL);
		else if (mfr_changed || dup)
			bz_emit_changed(bz, d->path, IFACE_DEVICE, "ManufacturerData", NULL);
	}
	bz_touch_temporary(d);
}

static int on_scan(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_bluez *bz = userdata;

	disarm(&bz->scan_timer);
	if (!bz->discovering)
		return 0;
	for (size_t i = 0; i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];
		bool first = !d->window_seen;

		if (d->connected || !bz_connectable(d))
			continue;
		/* the controller hears it: the first time in this window, the kernel too */
		d->window_seen = true;
		if (!d->connecting) {
			report(d);
		} else if (first) {
			d->window_seen = false;
			bz_schedule_connect(d);
			d->window_seen = true;
		}
	}
	arm(bz, &bz->scan_timer, (uint64_t)bz->cfg.scan_interval_ms * FG_USEC_PER_MSEC,
	    on_scan, bz);
	return 0;
}

static void new_window(struct fs_bluez *bz)
{
	for (size_t i = 0; i < bz->n_devs; i++)
		bz->devs[i]->window_seen = false;
}

static int on_window(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_bluez *bz = userdata;

	/* the kernel ended the window; bluetoothd starts the next one at once */
	log_debug("discovery window ended, scanning again");
	for (size_t i = 0; i < bz->n_devs; i++)
		if (bz->devs[i]->connecting && bz->devs[i]->held) {
			bz->stats.window_waits++;
			log_info("%s: the held Connect goes on: the discovery window ended",
				 fs_button_address(bz->devs[i]->btn));
		}
	new_window(bz);
	arm(bz, &bz->window_timer, (uint64_t)bz->cfg.discovery_window_ms * FG_USEC_PER_MSEC, on_window, bz);
	arm(bz, &bz->scan_timer, 0, on_scan, bz);
	return 0;
}

void bz_update_discovering(struct fs_bluez *bz)
{
	bool any = false;

	for (struct dclient *c = bz->clients; c; c = c->next)
		any |= c->discovering;
	if (any == bz->discovering)
		return;
	bz->discovering = any;
	bz_emit_changed(bz, ADAPTER_PATH, IFACE_ADAPTER, "Discovering", NULL);
	new_window(bz);
	if (any) {
		if (bz->cfg.discovery_window_ms)
			arm(bz, &bz->window_timer, (uint64_t)bz->cfg.discovery_window_ms * FG_USEC_PER_MSEC,
			    on_window, bz);
		arm(bz, &bz->scan_timer, 0, on_scan, bz);
	} else {
		disarm(&bz->window_timer);
		disarm(&bz->scan_timer);
		/* the kernel scans passively for pending connections: held ones go now */
		for (size_t i = 0; i < bz->n_devs; i++)
			bz_schedule_connect(bz->devs[i]);
		/* BlueZ forgets RSSI when a discovery session ends. */
		for (size_t i = 0; i < bz->n_devs; i++) {
			struct dev *d = bz->devs[i];

			if (d->exported && d->has_rssi) {
				d->has_rssi = false;
				bz_emit_changed(bz, d->path, IFACE_DEVICE, "RSSI", NULL);
			}
		}
	}
}

static struct dclient *dclient_free(struct dclient *c)
{
	if (!c)
		return NULL;
	sd_bus_track_unref(c->track);
	for (size_t i = 0; i < c->n_uuids; i++)
		free(c->uuids[i]);
	free(c->uuids);
	free(c->pattern);
	free(c->sender);
	free(c);
	return NULL;
}

void bz_dclient_remove(struct fs_bluez *bz, struct dclient *c)
{
	for (struct dclient **p = &bz->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	dclient_free(c);
	bz_update_discovering(bz);
}

static int on_client_gone(sd_bus_track *t, void *userdata)
{
	struct dclient *c = userdata;

	log_debug("discovery client %s left the bus", c->sender);
	bz_dclient_remove(c->bz, c);
	return 0;
}

struct dclient *bz_dclient_get(struct fs_bluez *bz, const char *sender, bool create)
{
	struct dclient *c;

	for (c = bz->clients; c; c = c->next)
		if (strcmp(c->sender, sender) == 0)
			return c;
	if (!create)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->bz = bz;
	c->sender = strdup(sender);
	if (!c->sender || sd_bus_track_new(bz->bus, &c->track, on_client_gone, c) < 0 ||
	    sd_bus_track_add_name(c->track, sender) < 0)
		return dclient_free(c);
	c->next = bz->clients;
	bz->clients = c;
	return c;
}

void bz_clear_clients(struct fs_bluez *bz)
{
	while (bz->clients) {
		struct dclient *c = bz->clients;

		bz->clients = c->next;
		dclient_free(c);
	}
	disarm(&bz->scan_timer);
	disarm(&bz->window_timer);
	new_window(bz);
	if (bz->discovering) {
		bz->discovering = false;
		bz_emit_changed(bz, ADAPTER_PATH, IFACE_ADAPTER, "Discovering", NULL);
	}
}

/*
 * SetDiscoveryFilter's keys, read into the client (@base). Each marks the
 * filter as set; a wrong type or an unknown key is InvalidArguments.
 */
static int filter_uuids(sd_bus_message *m, void *base, void *userdata)
{
	struct dclient *c = base;
	char **l = NULL;

	c->has_filter = true;
	if (sd_bus_message_read_strv(m, &l) < 0)
		return -EINVAL;
	free(c->uuids);
	c->uuids = l;
	for (c->n_uuids = 0; l && l[c->n_uuids]; c->n_uuids++)
		;
	return 1;
}

static int filter_rssi(sd_bus_message *m, void *base, void *userdata)
{
	struct dclient *c = base;

	c->has_filter = true;
	c->has_rssi = true;
	return sd_bus_message_read_basic(m, 'n', &c->rssi);
}

static int filter_pathloss(sd_bus_message *m, void *base, void *userdata)
{
	struct dclient *c = base;
	uint16_t pl;
	int r;

	c->has_filter = true;
	r = sd_bus_message_read_basic(m, 'q', &pl);
	if (r >= 0 && c->has_rssi)
		return -EINVAL;	/* RSSI and Pathloss exclude each other */
	return r;
}

static int filter_transport(sd_bus_message *m, void *base, void *userdata)
{
	struct dclient *c = base;
	const char *t;
	int r;

	c->has_filter = true;
	r = sd_bus_message_read_basic(m, 's', &t);
	if (r < 0)
		return r;
	if (strcmp(t, "auto") && strcmp(t, "le") && strcmp(t, "bredr"))
		return -EINVAL;
	snprintf(c->transport, sizeof(c->transport), "%s", t);
	return 1;
}

static int filter_duplicate(sd_bus_message *m, void *base, void *userdata)
{
	struct dclient *c = base;
	int b, r;

	c->has_filter = true;
	r = sd_bus_message_read_basic(m, 'b', &b);
	if (r >= 0)
		c->duplicate = b;
	return r;
}

static int filter_discoverable(sd_bus_message *m, void *base, void *userdata)
{
	struct dclient *c = base;
	int b;

	c->has_filter = true;
	return sd_bus_message_read_basic(m, 'b', &b);	/* accepted, no meaning here */
}

static int filter_pattern(sd_bus_message *m, void *base, void *userdata)
{
	struct dclient *c = base;
	const char *p;
	int r;

	c->has_filter = true;
	r = sd_bus_message_read_basic(m, 's', &p);
	if (r < 0)
		return r;
	free(c->pattern);
	c->pattern = strdup(p);
	return c->pattern ? 1 : -ENOMEM;
}

static int filter_unknown(sd_bus_message *m, const char *name, void *base, void *userdata)
{
	struct dclient *c = base;

	c->has_filter = true;
	return -EINVAL;
}

static const struct fg_bus_prop filter_props[] = {
	FG_BUS_PROP_FN("UUIDs", "as", filter_uuids, 0),
	FG_BUS_PROP_FN("RSSI", "n", filter_rssi, 0),
	FG_BUS_PROP_FN("Pathloss", "q", filter_pathloss, 0),
	FG_BUS_PROP_FN("Transport", "s", filter_transport, 0),
	FG_BUS_PROP_FN("DuplicateData", "b", filter_duplicate, 0),
	FG_BUS_PROP_FN("Discoverable", "b", filter_discoverable, 0),
	FG_BUS_PROP_FN("Pattern", "s", filter_pattern, 0),
	{}
};

int bz_parse_filter(struct dclient *c, sd_bus_message *m)
{
	const char *contents;
	char type;
	int r;

	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r <= 0 || type != 'a' || strcmp(contents, "{sv}") != 0)
		return r < 0 ? r : -EINVAL;
	c->has_filter = false;
	c->has_rssi = false;
	c->duplicate = true;
	snprintf(c->transport, sizeof(c->transport), "auto");
	for (size_t i = 0; i < c->n_uuids; i++)
		free(c->uuids[i]);
	c->n_uuids = 0;
	c->pattern = (free(c->pattern), NULL);
	r = fg_bus_props_read(m, filter_props, FG_BUS_PROPS_STRICT, filter_unknown, c, NULL, NULL);
	if (r < 0) {
		/* as far as it got, with an entry seen (a wrong type included) */
		c->has_filter = true;
		return -EINVAL;
	}
	return 0;
}
