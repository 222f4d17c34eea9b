/* SPDX-License-Identifier: MIT */
/* What the gateway and its buttons say about themselves, read into structs. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"
#include "lib/bus-props.h"
#include "lib/strv.h"

/*
 * Properties are read by table with lib/bus-props.h, strictly: a known
 * name with another type is an error (-EBADMSG), not a silent zero, while
 * names the table does not know are skipped, so a newer daemon with more
 * properties works with an older flicgatectl.
 */
static int read_targets(sd_bus_message *m, void *base, void *userdata);

#define G(n, t, f) FG_BUS_PROP(n, t, struct gateway_info, f, 0)
static const struct fg_bus_prop gateway_map[] = {
	G(FG_DBUS_GW_VERSION, "s", version),
	G(FG_DBUS_GW_NAME, "s", name),
	G(FG_DBUS_GW_CONFIG_PATH, "s", config_path),
	G(FG_DBUS_GW_START_TIME, "t", start_time),
	G(FG_DBUS_GW_FEATURES, "as", features),
	G(FG_DBUS_GW_ADAPTER, "s", adapter),
	G(FG_DBUS_GW_ADAPTER_STATE, "s", adapter_state),
	G(FG_DBUS_GW_PAIRING_POLICY, "s", pairing_policy),
	G(FG_DBUS_GW_PAIRING_OPEN, "b", pairing_open),
	G(FG_DBUS_GW_PAIRING_END, "t", pairing_end),
	G(FG_DBUS_GW_BUTTONS, "u", buttons),
	G(FG_DBUS_GW_CONNECTED, "u", connected),
	G(FG_DBUS_GW_OPEN_ALERTS, "as", open_alerts),
	G(FG_DBUS_GW_SPOOL_DEPTH, "t", spool_depth),
	G(FG_DBUS_GW_SPOOL_ALARM, "b", spool_alarm),
	G(FG_DBUS_GW_DEAD_LETTERS, "t", dead_letters),
	G(FG_DBUS_GW_TEST_WINDOW_OPEN, "b", test_window_open),
	G(FG_DBUS_GW_TEST_WINDOW_END, "t", test_window_end),
	G(FG_DBUS_GW_TEST_WINDOW_BUTTON, "s", test_window_button),
	G(FG_DBUS_GW_ALARMS, "as", alarms),
	G(FG_DBUS_GW_LINKS_USED, "u", links_used),
	G(FG_DBUS_GW_LINK_BUDGET, "u", link_budget),
	G(FG_DBUS_GW_SLEEPING, "u", sleeping_buttons),
	FG_BUS_PROP_FN(FG_DBUS_GW_TARGETS, "a" FG_DBUS_TARGET_SIG, read_targets, 0),
	{}
};
#undef G

/* Targets, an array of structs: at the variant's contents. */
static int read_targets(sd_bus_message *m, void *base, void *userdata)
{
	struct gateway_info *g = base;
	struct target_info t;
	const char *tn, *th, *te;
	int r;

	r = sd_bus_message_enter_container(m, 'a', FG_DBUS_TARGET_SIG);
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read(m, FG_DBUS_TARGET_SIG, &tn, &th, &t.queued, &t.delivered,
					&t.dead, &t.last_status, &te)) > 0) {
		struct target_info *n = realloc(g->targets, (g->n_targets + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		g->targets = n;
		t.name = strdup(tn);
		t.health = strdup(th);
		t.last_error = strdup(te);
		g->targets[g->n_targets++] = t;
		if (!t.name || !t.health || !t.last_error)
			return -ENOMEM;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	return r < 0 ? r : 1;
}

int gateway_info_get(sd_bus *bus, struct gateway_info *ret, sd_bus_error *e)
{
	sd_bus_message *reply = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = sd_bus_call_method(bus, FG_DBUS_NAME, FG_DBUS_MANAGER_PATH, "org.freedesktop.DBus.Properties",
			       "GetAll", e, &reply, "s", FG_DBUS_MANAGER_IFACE);
	if (r < 0)
		return r;
	r = fg_bus_props_read(reply, gateway_map, FG_BUS_PROPS_STRICT, NULL, ret, NULL, NULL);
	sd_bus_message_unref(reply);
	if (r < 0)
		gateway_info_clear(ret);
	return r;
}

void gateway_info_clear(struct gateway_info *g)
{
	fg_bus_props_clear(gateway_map, g);
	for (size_t i = 0; i < g->n_targets; i++) {
		free(g->targets[i].name);
		free(g->targets[i].health);
		free(g->targets[i].last_error);
	}
	free(g->targets);
	memset(g, 0, sizeof(*g));
}

bool gateway_has_feature(const struct gateway_info *g, const char *feature)
{
	return fg_strv_contains(g->features, feature);
}

#define B(n, t, f) FG_BUS_PROP(n, t, struct button_info, f, 0)
static const struct fg_bus_prop button_map[] = {
	B(FG_DBUS_BT_ID, "s", id),
	B(FG_DBUS_BT_NAME, "s", name),
	B(FG_DBUS_BT_SERIAL, "s", serial),
	B(FG_DBUS_BT_ADDRESS, "s", address),
	B(FG_DBUS_BT_CONFIGURED, "b", configured),
	B(FG_DBUS_BT_PAIRED, "b", paired),
	B(FG_DBUS_BT_CONNECTED, "b", connected),
	B(FG_DBUS_BT_LAST_SEEN, "t", last_seen),
	B(FG_DBUS_BT_RSSI, "n", rssi),
	B(FG_DBUS_BT_BATTERY, "q", battery_mv),
	B(FG_DBUS_BT_FIRMWARE, "u", firmware),
	B(FG_DBUS_BT_LAST_EVENT, "s", last_event),
	B(FG_DBUS_BT_LAST_EVENT_TIME, "t", last_event_time),
	B(FG_DBUS_BT_ALERT_STATE, "s", alert_state),
	B(FG_DBUS_BT_BATTERY_PERCENT, "i", battery_percent),
	B(FG_DBUS_BT_BATTERY_LOW, "b", battery_low),
	B(FG_DBUS_BT_NOT_SEEN, "b", not_seen),
	B(FG_DBUS_BT_LAST_TEST, "t", last_test),
	B(FG_DBUS_BT_KEEP_LINKED, "b", keep_linked),
	B(FG_DBUS_BT_SLEEPING, "b", sleeping),
	{}
};
#undef B

/* Strings are never NULL afterwards, whatever the daemon sent. */
static int button_fill_empty(struct button_info *b)
{
	char **fields[] = { &b->id, &b->name, &b->serial, &b->address, &b->last_event,
			    &b->alert_state };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!*fields[i] && !(*fields[i] = strdup("")))
			return -ENOMEM;
	return 0;
}

int button_info_get(sd_bus *bus, const char *path, struct button_info *ret, sd_bus_error *e)
{
	sd_bus_message *reply = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->battery_percent = -1;	/* a daemon without supervision says nothing */
	ret->path = strdup(path);
	if (!ret->path)
		return -ENOMEM;
	r = sd_bus_call_method(bus, FG_DBUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
			       e, &reply, "s", FG_DBUS_BUTTON_IFACE);
	if (r >= 0)
		r = fg_bus_props_read(reply, button_map, FG_BUS_PROPS_STRICT, NULL, ret, NULL, NULL);
	if (r >= 0)
		r = button_fill_empty(ret);
	sd_bus_message_unref(reply);
	if (r < 0)
		button_info_clear(ret);
	return r;
}

void button_info_clear(struct button_info *b)
{
	free(b->path);
	fg_bus_props_clear(button_map, b);
	memset(b, 0, sizeof(*b));
}

void buttons_free(struct button_info *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		button_info_clear(&b[i]);
	free(b);
}

static int by_name(const void *x, const void *y)
{
	const struct button_info *a = x, *b = y;

	return strcmp(a->name, b->name);
}

/* One object of GetManagedObjects: keep it if it has the Button interface. */
static int read_object(sd_bus_message *m, struct button_info **list, size_t *n)
{
	struct button_info b = { .battery_percent = -1 };
	const char *path, *iface;
	bool is_button = false;
	int r;

	r = sd_bus_message_read(m, "o", &path);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		r = sd_bus_message_read(m, "s", &iface);
		if (r < 0)
			break;
		if (strcmp(iface, FG_DBUS_BUTTON_IFACE) == 0) {
			is_button = true;
			r = fg_bus_props_read(m, button_map, FG_BUS_PROPS_STRICT, NULL, &b, NULL, NULL);
		} else
			r = sd_bus_message_skip(m, "a{sv}");
		if (r < 0)
			break;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			break;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0 && is_button) {
		struct button_info *nl = realloc(*list, (*n + 1) * sizeof(*nl));

		b.path = strdup(path);
		if (!nl || !b.path)
			r = -ENOMEM;
		else {
			*list = nl;
			r = button_fill_empty(&b);
		}
		if (r >= 0) {
			(*list)[(*n)++] = b;
			return 0;
		}
	}
	button_info_clear(&b);
	return r;
}

int buttons_list(sd_bus *bus, struct button_info **ret, size_t *ret_n, sd_bus_error *e)
{
	sd_bus_message *reply = NULL;
	struct button_info *list = NULL;
	size_t n = 0;
	int r;

	r = sd_bus_call_method(bus, FG_DBUS_NAME, FG_DBUS_OBJECT_MANAGER_PATH,
			       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", e, &reply, NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
		r = read_object(reply, &list, &n);
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	sd_bus_message_unref(reply);
	if (r < 0) {
		buttons_free(list, n);
		return r;
	}
	if (n > 1)
		qsort(list, n, sizeof(*list), by_name);
	*ret = list;
	*ret_n = n;
	return 0;
}

int button_resolve(sd_bus *bus, const char *query, char **ret_path, sd_bus_error *e)
{
	sd_bus_message *reply = NULL;
	const char *path;
	int r;

	r = sd_bus_call_method(bus, FG_DBUS_NAME, FG_DBUS_MANAGER_PATH, FG_DBUS_MANAGER_IFACE,
			       FG_DBUS_GW_GET_BUTTON, e, &reply, "s", query);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0) {
		*ret_path = strdup(path);
		if (!*ret_path)
			r = -ENOMEM;
	}
	sd_bus_message_unref(reply);
	return r;
}
