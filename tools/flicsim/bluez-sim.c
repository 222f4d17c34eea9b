/* SPDX-License-Identifier: MIT */
/* The fake bluetoothd's life cycle (bus name, restarts, the buttons it
 * hears), Properties Get/Set, and the dispatch of every method call to its
 * object. The other pieces are listed in bluez-sim-internal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bluez-sim-internal.h"
#include "lib/log.h"

void fs_bluez_config_init(struct fs_bluez_config *c)
{
	memset(c, 0, sizeof(*c));
	c->bus_kind = FS_BUS_SESSION;
	snprintf(c->adapter_address, sizeof(c->adapter_address), "00:1A:7D:DA:71:13");
	c->mtu = 23;
	c->connect_ms = 30;
	c->connect_timeout_ms = 20000;
	c->resolve_ms = 10;
	c->supervision_ms = 1000;
	c->scan_interval_ms = 500;
	c->discovery_window_ms = 10240;
	c->temporary_timeout_s = 30;
	c->max_links = 8;
	c->accept_list = 8;
}

int fs_bus_open(enum fs_bus_kind kind, const char *address, sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	switch (kind) {
	case FS_BUS_SESSION:
		return sd_bus_open_user(ret);
	case FS_BUS_SYSTEM:
		return sd_bus_open_system(ret);
	case FS_BUS_ADDRESS:
		break;
	}
	r = sd_bus_new(&bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, true);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

static int bus_attach(struct fs_bluez *bz);

static int on_restart(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_bluez *bz = userdata;
	int r;

	disarm(&bz->restart_timer);
	r = bus_attach(bz);
	if (r < 0) {
		log_error_errno(r, "bluetoothd could not come back: %m");
		return 0;
	}
	log_info("bluetoothd is back");
	return 0;
}

int fs_bluez_restart(struct fs_bluez *bz, uint32_t delay_ms)
{
	if (!bz->running)
		return -EALREADY;
	log_info("bluetoothd restarting (down for %ums)", delay_ms);
	bz->stats.restarts++;
	bz_unexport_adapter(bz, true);
	bz->running = false;
	bz->bus = sd_bus_flush_close_unref(bz->bus);
	for (size_t i = 0; i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];

		/* Stored devices come back; the rest is forgotten. */
		if (d->temporary)
			d->seen_public = false;
	}
	return arm(bz, &bz->restart_timer, (uint64_t)delay_ms * FG_USEC_PER_MSEC,
		   on_restart, bz);
}

/* --- Properties ------------------------------------------------------------------ */

/*
 * Reads (interface, name) of Get/Set and checks both exist on @o. Returns 1
 * when the caller may go on, else the result of the error reply sent.
 */
static int read_prop_args(struct fs_bluez *bz, struct bz_obj *o, sd_bus_message *m,
			  const char **ret_iface, const char **ret_name)
{
	const char *iface, *name;

	if (sd_bus_message_read(m, "ss", &iface, &name) < 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Invalid arguments");
	if (!bz_obj_iface_to_string(o->kind) || strcmp(iface, bz_obj_iface_to_string(o->kind)) != 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
						  "No such interface '%s'", iface);
	if (bz_props_of(bz, o, NULL, name) <= 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
						  "No such property '%s'", name);
	*ret_iface = iface;
	*ret_name = name;
	return 1;
}

static int props_get(struct fs_bluez *bz, struct bz_obj *o, sd_bus_message *m)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
	const char *iface = NULL, *name = NULL;
	int r;

	r = read_prop_args(bz, o, m, &iface, &name);
	if (r != 1)
		return r;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = bz_props_of(bz, o, reply, name);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int props_get_all(struct fs_bluez *bz, struct bz_obj *o, sd_bus_message *m)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
	const char *iface;
	int r;

	r = sd_bus_message_read(m, "s", &iface);
	if (r < 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Invalid arguments");
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0 && bz_obj_iface_to_string(o->kind) && strcmp(iface, bz_obj_iface_to_string(o->kind)) == 0)
		r = bz_props_of(bz, o, reply, NULL);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int props_set(struct fs_bluez *bz, struct bz_obj *o, sd_bus_message *m)
{
	const char *iface = NULL, *name = NULL, *contents;
	char type;
	int r, b;

	r = read_prop_args(bz, o, m, &iface, &name);
	if (r != 1)
		return r;
	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0 || type != 'v')
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Invalid arguments");

	if (o->kind == OBJ_ADAPTER && strcmp(name, "Powered") == 0) {
		if (strcmp(contents, "b") || sd_bus_message_read(m, "v", "b", &b) < 0)
			return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
							  "Invalid argument type: '%s'", contents);
		r = bz_reply_ok(m);
		bz_set_powered(bz, b);
		return r;
	}
	if ((o->kind == OBJ_ADAPTER || o->kind == OBJ_DEVICE) && strcmp(name, "Alias") == 0) {
		const char *s;

		if (strcmp(contents, "s") || sd_bus_message_read(m, "v", "s", &s) < 0)
			return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
							  "Invalid argument type: '%s'", contents);
		snprintf(o->kind == OBJ_ADAPTER ? bz->alias : o->dev->alias,
			 o->kind == OBJ_ADAPTER ? sizeof(bz->alias) : sizeof(o->dev->alias), "%s", s);
		r = bz_reply_ok(m);
		bz_emit_changed(bz, o->path, iface, "Alias", NULL);
		return r;
	}
	if (o->kind == OBJ_DEVICE && (strcmp(name, "Trusted") == 0 || strcmp(name, "Blocked") == 0)) {
		if (strcmp(contents, "b") || sd_bus_message_read(m, "v", "b", &b) < 0)
			return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
							  "Invalid argument type: '%s'", contents);
		if (name[0] == 'T') {
			o->dev->trusted = b;
			if (b) {
				o->dev->temporary = false;
				disarm(&o->dev->temp_timer);
			}
		} else {
			o->dev->blocked = b;
			if (b)
				bz_link_down(o->dev, DROP_LOCAL);
		}
		r = bz_reply_ok(m);
		bz_emit_changed(bz, o->path, iface, name, NULL);
		return r;
	}
	if (o->kind == OBJ_ADAPTER && (strcmp(name, "Discoverable") == 0 || strcmp(name, "Pairable") == 0 ||
				       strcmp(name, "DiscoverableTimeout") == 0 ||
				       strcmp(name, "PairableTimeout") == 0))
		return bz_reply_ok(m);	/* accepted; a Flic gateway never uses them */
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_PROPERTY_READ_ONLY,
					  "Property '%s' is not writable", name);
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_bluez *bz = userdata;
	const char *path = sd_bus_message_get_path(m);
	const char *iface = sd_bus_message_get_interface(m);
	const char *member = sd_bus_message_get_member(m);
	struct bz_obj o;

	if (!sd_bus_message_is_method_call(m, NULL, NULL) || !path || !member)
		return 0;
	o = bz_lookup(bz, path);
	if (o.kind == OBJ_NONE) {
		/* Intermediate nodes ("/org") answer Introspect only. */
		if (iface && strcmp(iface, IFACE_INTRO) == 0 && strcmp(path, "/org") == 0 && bz->running)
			return bz_introspect(bz, &o, path, m);
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_OBJECT,
						  "Unknown object '%s'", path);
	}
	if (!iface)
		iface = bz_obj_iface_to_string(o.kind);
	if (strcmp(iface, IFACE_INTRO) == 0 && strcmp(member, "Introspect") == 0)
		return bz_introspect(bz, &o, path, m);
	if (o.kind == OBJ_ROOT) {
		if (strcmp(iface, IFACE_OM) == 0 && strcmp(member, "GetManagedObjects") == 0)
			return bz_get_managed_objects(bz, m);
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
						  "Unknown method %s.%s", iface, member);
	}
	if (strcmp(iface, IFACE_PROPS) == 0) {
		if (strcmp(member, "Get") == 0)
			return props_get(bz, &o, m);
		if (strcmp(member, "GetAll") == 0)
			return props_get_all(bz, &o, m);
		if (strcmp(member, "Set") == 0)
			return props_set(bz, &o, m);
	}
	if (strcmp(iface, bz_obj_iface_to_string(o.kind)) != 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
						  "Unknown method %s.%s", iface, member);
	switch (o.kind) {
	case OBJ_BLUEZ:
		return bz_reply_ok(m);	/* agents: accepted and never called */
	case OBJ_ADAPTER:
		return bz_adapter_method(bz, m, member);
	case OBJ_DEVICE:
		return bz_device_method(o.dev, m, member);
	case OBJ_CHAR_WRITE:
		return bz_char_method(o.dev, false, m, member);
	case OBJ_CHAR_NOTIFY:
		return bz_char_method(o.dev, true, m, member);
	case OBJ_DESC:
		return bz_desc_method(o.dev, m, member);
	case OBJ_SVC_CHANGED:
		return bz_svc_changed_method(o.dev, m, member);
	case OBJ_SVC_CHANGED_CCC:
		if (strcmp(member, "WriteValue") == 0)
			return bz_err(m, E_NOTPERMITTED, "Write not permitted");
		return bz_err(m, E_NOTPERMITTED, "Read not permitted");
	case OBJ_GATT_SERVICE:
	case OBJ_SERVICE:
	case OBJ_ROOT:
	case OBJ_NONE:
		break;
	}
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s.%s", iface, member);
}

static int bus_attach(struct fs_bluez *bz)
{
	int r;

	r = fs_bus_open(bz->cfg.bus_kind, bz->cfg.bus_address, &bz->bus);
	if (r < 0)
		return log_error_errno(r, "Failed to connect to the bus: %m");
	r = sd_bus_attach_event(bz->bus, bz->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		goto fail;
	r = sd_bus_add_fallback(bz->bus, NULL, "/", on_message, bz);
	if (r < 0)
		goto fail;
	r = sd_bus_request_name(bz->bus, BLUEZ_NAME, 0);
	if (r < 0) {
		log_error_errno(r, "Cannot own " BLUEZ_NAME ": %m");
		goto fail;
	}
	bz->running = true;
	bz_emit_added(bz, "/org/bluez");
	bz_export_adapter(bz);
	return 0;
fail:
	bz->bus = sd_bus_flush_close_unref(bz->bus);
	return r;
}

/* --- buttons ---------------------------------------------------------------------------- */

int fs_bluez_add_button(struct fs_bluez *bz, struct fs_button *btn)
{
	const char *a = fs_button_address(btn);
	struct dev **devs, *d;
	char p[32];

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	devs = realloc(bz->devs, (bz->n_devs + 1) * sizeof(*devs));
	if (!devs) {
		free(d);
		return -ENOMEM;
	}
	bz->devs = devs;
	d->bz = bz;
	d->btn = btn;
	d->write_fd = d->notify_fd = -1;
	d->temporary = true;
	d->jitter = (unsigned)(a[15] * 31 + a[16]);
	snprintf(p, sizeof(p), "%s", a);
	for (char *c = p; *c; c++)
		if (*c == ':')
			*c = '_';
	snprintf(d->path, sizeof(d->path), ADAPTER_PATH "/dev_%s", p);
	snprintf(d->gatt_service, sizeof(d->gatt_service), "%s/service%04x", d->path, H_SERVICE);
	snprintf(d->gatt_write, sizeof(d->gatt_write), "%s/char%04x", d->gatt_service, H_WRITE);
	snprintf(d->gatt_notify, sizeof(d->gatt_notify), "%s/char%04x", d->gatt_service, H_NOTIFY);
	snprintf(d->gatt_ccc, sizeof(d->gatt_ccc), "%s/desc%04x", d->gatt_notify, H_CCC);
	snprintf(d->gatt_svc1801, sizeof(d->gatt_svc1801), "%s/service%04x", d->path, H_GATT_SVC);
	snprintf(d->gatt_sc, sizeof(d->gatt_sc), "%s/char%04x", d->gatt_svc1801, H_SVC_CHANGED);
	snprintf(d->gatt_sc_ccc, sizeof(d->gatt_sc_ccc), "%s/desc%04x", d->gatt_sc, H_SVC_CHANGED_CCC);
	snprintf(d->dashed, sizeof(d->dashed), "%.2s-%.2s-%.2s-%.2s-%.2s-%.2s", a, a + 3, a + 6,
		 a + 9, a + 12, a + 15);
	bz->devs[bz->n_devs++] = d;
	return 0;
}

static void dev_free(struct dev *d)
{
	bz_link_down(d, DROP_REMOTE);
	bz_dev_unexport(d);
	disarm(&d->connect_timer);
	disarm(&d->connect_timeout);
	disarm(&d->resolve_timer);
	disarm(&d->loss_timer);
	disarm(&d->temp_timer);
	bz_close_write_fd(d, false);
	bz_close_notify_fd(d, false);
	sd_bus_track_unref(d->notify_track);
	sd_bus_message_unref(d->connect_msg);
	free(d);
}

void fs_bluez_remove_button(struct fs_bluez *bz, struct fs_button *btn)
{
	for (size_t i = 0; i < bz->n_devs; i++)
		if (bz->devs[i]->btn == btn) {
			dev_free(bz->devs[i]);
			memmove(bz->devs + i, bz->devs + i + 1, (bz->n_devs - i - 1) * sizeof(*bz->devs));
			bz->n_devs--;
			return;
		}
}

int fs_bluez_append_state(struct fs_bluez *bz, sd_bus_message *m)
{
	size_t connected = 0, exported = 0;

	for (size_t i = 0; i < bz->n_devs; i++) {
		connected += bz->devs[i]->connected;
		exported += bz->devs[i]->exported;
	}
	return sd_bus_message_append(m, "a{sv}", 23,
				     "Running", "b", (int)bz->running,
				     "AdapterPresent", "b", (int)bz->present,
				     "Powered", "b", (int)bz->powered,
				     "Discovering", "b", (int)bz->discovering,
				     "Devices", "u", (uint32_t)exported,
				     "Connected", "u", (uint32_t)connected,
				     "Restarts", "t", bz->stats.restarts,
				     "Connects", "t", bz->stats.connects,
				     "ConnectFailures", "t", bz->stats.connect_failures,
				     "Writes", "t", bz->stats.writes,
				     "Notifications", "t", bz->stats.notifications,
				     "AdvertisingReports", "t", bz->stats.reports,
				     "ConnectsHeld", "t", bz->stats.held,
				     "WindowWaits", "t", bz->stats.window_waits,
				     "MaxLinks", "u", bz->cfg.max_links,
				     "Links", "u", bz_links_in_use(bz),
				     "PeakLinks", "u", bz->peak_links,
				     "LinkRefusals", "t", bz->stats.refused,
				     "Initiating", "s", bz->initiator ? fs_button_address(bz->initiator->btn) : "",
				     "PendingConnects", "u", bz_pending_connects(bz),
				     "AcceptListSize", "u", bz->cfg.accept_list,
				     "AcceptListBypassed", "b", (int)bz->accept_list_bypassed,
				     "AcceptListFallbacks", "t", bz->stats.accept_list_fallbacks);
}

/* --- life cycle ----------------------------------------------------------------------------- */

int fs_bluez_new(sd_event *event, const struct fs_bluez_config *cfg, struct fs_bluez **ret)
{
	struct fs_bluez *bz;
	int r;

	bz = calloc(1, sizeof(*bz));
	if (!bz)
		return -ENOMEM;
	bz->event = sd_event_ref(event);
	bz->cfg = *cfg;
	snprintf(bz->alias, sizeof(bz->alias), "flicsim");
	r = bus_attach(bz);
	if (r < 0) {
		fs_bluez_free(bz);
		return r;
	}
	*ret = bz;
	return 0;
}

struct fs_bluez *fs_bluez_free(struct fs_bluez *bz)
{
	if (!bz)
		return NULL;
	for (size_t i = 0; i < bz->n_devs; i++)
		dev_free(bz->devs[i]);
	free(bz->devs);
	bz_clear_clients(bz);
	disarm(&bz->scan_timer);
	disarm(&bz->restart_timer);
	disarm(&bz->window_timer);
	sd_bus_flush_close_unref(bz->bus);
	sd_event_unref(bz->event);
	free(bz);
	return NULL;
}
