/* SPDX-License-Identifier: MIT */
/* The control API's Button objects: finding a button by path, id, name,
 * address or serial, its properties, Unpair and Rename. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <systemd/sd-bus.h>

#include "config/config.h"
#include "control/api-private.h"
#include "control/flicgate-dbus.h"
#include "lib/log.h"
#include "lib/strv.h"

char *api_button_path(const char *id)
{
	char *path = NULL;

	if (sd_bus_path_encode(FG_DBUS_BUTTON_PREFIX, id, &path) < 0)
		return NULL;
	return path;
}

/* Find the button behind @path; *ret_id is malloc'd for the caller. */
static int lookup_button(struct fg_api *a, const char *path, char **ret_id,
			 struct fg_api_button *ret)
{
	char *id = NULL;
	int r;

	r = sd_bus_path_decode(path, FG_DBUS_BUTTON_PREFIX, &id);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	r = a->p.button_by_id(id, ret, a->p.userdata);
	if (r < 0) {
		free(id);
		return r;
	}
	*ret_id = id;
	return 0;
}

int api_current_ids(struct fg_api *a, char ***ret)
{
	size_t n = a->p.n_buttons(a->p.userdata);
	struct fg_api_button b;
	char **ids = NULL;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (a->p.button_at(i, &b, a->p.userdata) < 0 || !b.id)
			continue;
		r = fg_strv_push(&ids, b.id);
		if (r < 0) {
			fg_strv_free(ids);
			return r;
		}
	}
	if (!ids) {
		ids = calloc(1, sizeof(char *));
		if (!ids)
			return -ENOMEM;
	}
	*ret = ids;
	return 0;
}

/* What "flicgatectl unpair reception" may name (api-private.h). */
int api_find_button(struct fg_api *a, const char *query, struct fg_api_button *ret)
{
	size_t n = a->p.n_buttons(a->p.userdata);
	struct fg_api_button b;
	uint8_t addr[6];
	bool is_addr = fg_parse_address(query, addr) == 0;

	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < n; i++) {
			if (a->p.button_at(i, &b, a->p.userdata) < 0)
				continue;
			if ((pass == 0 && (streq_ptr(b.id, query) || streq_ptr(b.name, query))) ||
			    (pass == 1 && is_addr && b.has_address && memcmp(b.address, addr, 6) == 0) ||
			    (pass == 2 && b.serial && b.serial[0] && strcasecmp(b.serial, query) == 0)) {
				*ret = b;
				return 0;
			}
		}
	return -ENOENT;
}

int api_button_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
		    void **ret_found, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_button b;
	char *id = NULL;

	if (lookup_button(a, path, &id, &b) < 0)
		return 0;
	free(id);
	*ret_found = a;
	return 1;
}

int api_button_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***ret_nodes,
			 sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	char **ids = NULL, **paths = NULL, *id;
	int r;

	r = api_current_ids(a, &ids);
	if (r < 0)
		return r;
	FG_STRV_FOREACH(id, ids) {
		char *path = api_button_path(id);

		if (!path || fg_strv_push(&paths, path) < 0) {
			free(path);
			fg_strv_free(paths);
			fg_strv_free(ids);
			return -ENOMEM;
		}
		free(path);
	}
	fg_strv_free(ids);
	*ret_nodes = paths;
	return 0;
}

static void format_address(const struct fg_api_button *b, char buf[18])
{
	if (b->has_address)
		fg_format_address(b->address, buf);
	else
		buf[0] = 0;
}

static int button_property(sd_bus *bus, const char *path, const char *interface,
			   const char *property, sd_bus_message *reply, void *userdata,
			   sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_button b;
	struct fg_api_button_supervision sup;
	char *id = NULL, addr[18];
	int r;

	r = lookup_button(a, path, &id, &b);
	if (r < 0)
		return sd_bus_error_setf(ret_error, SD_BUS_ERROR_UNKNOWN_OBJECT,
					 "No button at %s", path);
	/* unsupervised: unknown everywhere */
	if (a->p.button_supervision(id, &sup, a->p.userdata) < 0)
		sup = (struct fg_api_button_supervision){ .battery_percent = -1 };
	if (streq(property, FG_DBUS_BT_ID))
		r = sd_bus_message_append(reply, "s", strempty(b.id));
	else if (streq(property, FG_DBUS_BT_NAME))
		r = sd_bus_message_append(reply, "s", strempty(b.name));
	else if (streq(property, FG_DBUS_BT_SERIAL))
		r = sd_bus_message_append(reply, "s", strempty(b.serial));
	else if (streq(property, FG_DBUS_BT_ADDRESS)) {
		format_address(&b, addr);
		r = sd_bus_message_append(reply, "s", addr);
	} else if (streq(property, FG_DBUS_BT_CONFIGURED))
		r = sd_bus_message_append(reply, "b", (int)b.configured);
	else if (streq(property, FG_DBUS_BT_PAIRED))
		r = sd_bus_message_append(reply, "b", (int)b.paired);
	else if (streq(property, FG_DBUS_BT_CONNECTED))
		r = sd_bus_message_append(reply, "b", (int)b.connected);
	else if (streq(property, FG_DBUS_BT_LAST_SEEN))
		/* the radio's own since start, else supervision's, kept across restarts */
		r = sd_bus_message_append(reply, "t", b.last_seen_usec ? b.last_seen_usec
									: sup.last_seen_usec);
	else if (streq(property, FG_DBUS_BT_RSSI))
		/* 0 dBm cannot be received from a button: it means unknown */
		r = sd_bus_message_append(reply, "n", b.has_rssi ? b.rssi : (int16_t)0);
	else if (streq(property, FG_DBUS_BT_BATTERY))
		r = sd_bus_message_append(reply, "q", b.battery_mv ? b.battery_mv : sup.battery_mv);
	else if (streq(property, FG_DBUS_BT_BATTERY_PERCENT))
		r = sd_bus_message_append(reply, "i", sup.battery_percent);
	else if (streq(property, FG_DBUS_BT_BATTERY_LOW))
		r = sd_bus_message_append(reply, "b", (int)sup.battery_low);
	else if (streq(property, FG_DBUS_BT_NOT_SEEN))
		r = sd_bus_message_append(reply, "b", (int)sup.not_seen);
	else if (streq(property, FG_DBUS_BT_LAST_TEST))
		r = sd_bus_message_append(reply, "t", sup.last_test_usec);
	else if (streq(property, FG_DBUS_BT_FIRMWARE))
		r = sd_bus_message_append(reply, "u", b.firmware);
	else if (streq(property, FG_DBUS_BT_LAST_EVENT))
		r = sd_bus_message_append(reply, "s", strempty(b.last_event));
	else if (streq(property, FG_DBUS_BT_LAST_EVENT_TIME))
		r = sd_bus_message_append(reply, "t", b.last_event_usec);
	else if (streq(property, FG_DBUS_BT_ALERT_STATE))
		r = sd_bus_message_append(reply, "s", strempty(b.alert_state));
	else if (streq(property, FG_DBUS_BT_KEEP_LINKED))
		r = sd_bus_message_append(reply, "b", (int)b.keep_linked);
	else if (streq(property, FG_DBUS_BT_SLEEPING))
		r = sd_bus_message_append(reply, "b", (int)b.sleeping);
	else
		r = -ENOENT;
	free(id);
	return r;
}

static int method_unpair(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct fg_api_button b;
	char *id = NULL;
	int r;

	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	if (lookup_button(a, sd_bus_message_get_path(m), &id, &b) < 0)
		return api_set_error(ret_error, FG_API_ERR_UNKNOWN_BUTTON, "No such button");
	r = a->p.unpair(id, &e, a->p.userdata);
	if (r < 0) {
		free(id);
		return api_reply_failure(ret_error, r, &e, "Unpairing");
	}
	log_notice("Button %s unpaired over D-Bus", id);
	free(id);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_rename(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct fg_api_button b, other;
	const char *name;
	char *id = NULL;
	int r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	if (!fg_name_is_valid(name) || strlen(name) > 63)
		return api_set_error(ret_error, FG_API_ERR_INVALID_ARGUMENT,
				     "'%s' is not a valid button name (1-63 of A-Z a-z 0-9 _ . -)", name);
	if (lookup_button(a, sd_bus_message_get_path(m), &id, &b) < 0)
		return api_set_error(ret_error, FG_API_ERR_UNKNOWN_BUTTON, "No such button");
	if (api_find_button(a, name, &other) == 0 && !streq_ptr(other.id, id)) {
		free(id);
		return api_set_error(ret_error, FG_API_ERR_NAME_TAKEN,
				     "Another button is already called or matches '%s'", name);
	}
	r = a->p.rename(id, name, &e, a->p.userdata);
	if (r < 0) {
		free(id);
		return api_reply_failure(ret_error, r, &e, "Renaming");
	}
	log_notice("Button %s renamed to %s over D-Bus", id, name);
	free(id);
	return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable api_button_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY(FG_DBUS_BT_ID, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_NAME, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_SERIAL, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_ADDRESS, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_CONFIGURED, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_PAIRED, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_CONNECTED, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_LAST_SEEN, "t", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_RSSI, "n", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_BATTERY, "q", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_FIRMWARE, "u", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_LAST_EVENT, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_LAST_EVENT_TIME, "t", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_ALERT_STATE, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_BATTERY_PERCENT, "i", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_BATTERY_LOW, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_NOT_SEEN, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_LAST_TEST, "t", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_KEEP_LINKED, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_SLEEPING, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD(FG_DBUS_BT_UNPAIR, "", "", method_unpair, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_BT_RENAME, "s", SD_BUS_PARAM(name), "", ,
				 method_rename, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

