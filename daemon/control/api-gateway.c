/* SPDX-License-Identifier: MIT */
/* The control API's Gateway object: its properties, its methods (pairing
 * windows, test alerts and windows, reload, deliveries, pairing export and
 * import, the audit trail) and its vtable. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "config/config.h"
#include "control/api-private.h"
#include "control/flicgate-dbus.h"
#include "lib/log.h"
#include "lib/macro.h"
#include "lib/strv.h"

static int append_features(sd_bus_message *reply, unsigned features)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ FG_API_FEATURE_BLUETOOTH, "bluetooth" },
		{ FG_API_FEATURE_DELIVERY, "delivery" },
		{ FG_API_FEATURE_FEEDBACK, "feedback" },
		{ FG_API_FEATURE_PAIRING_STORE, "pairing-store" },
	};
	int r;

	r = sd_bus_message_open_container(reply, 'a', "s");
	for (size_t i = 0; r >= 0 && i < FG_ELEMENTSOF(names); i++)
		if (features & names[i].bit)
			r = sd_bus_message_append(reply, "s", names[i].name);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r;
}

static int append_targets(struct fg_api *a, sd_bus_message *reply, size_t n)
{
	struct fg_api_target t;
	int r;

	r = sd_bus_message_open_container(reply, 'a', FG_DBUS_TARGET_SIG);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (a->p.get_target(i, &t, a->p.userdata) < 0)
			continue;
		r = sd_bus_message_append(reply, FG_DBUS_TARGET_SIG, strempty(t.name),
					  strempty(t.health), t.queued, t.delivered, t.dead,
					  t.last_status, strempty(t.last_error));
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r;
}

/* Counters derived from the buttons: Buttons, ConnectedButtons, OpenAlerts. */
static int append_button_summary(struct fg_api *a, const char *property, sd_bus_message *reply)
{
	size_t n = a->p.n_buttons(a->p.userdata);
	struct fg_api_button b;
	uint32_t connected = 0;
	int r = 0;

	if (streq(property, FG_DBUS_GW_BUTTONS))
		return sd_bus_message_append(reply, "u", (uint32_t)n);
	if (streq(property, FG_DBUS_GW_OPEN_ALERTS))
		r = sd_bus_message_open_container(reply, 'a', "s");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (a->p.button_at(i, &b, a->p.userdata) < 0)
			continue;
		connected += b.connected;
		if (streq(property, FG_DBUS_GW_OPEN_ALERTS) && streq_ptr(b.alert_state, "open"))
			r = sd_bus_message_append(reply, "s", strempty(b.name));
	}
	if (r < 0)
		return r;
	if (streq(property, FG_DBUS_GW_OPEN_ALERTS))
		return sd_bus_message_close_container(reply);
	return sd_bus_message_append(reply, "u", connected);
}

/* TestWindowOpen, TestWindowEnd, TestWindowButton, Alarms. */
static int append_supervision(struct fg_api *a, const char *property, sd_bus_message *reply)
{
	struct fg_api_supervision sv = { .test_window_button = "" };
	char *name;
	int r;

	a->p.get_supervision(&sv, a->p.userdata);
	if (streq(property, FG_DBUS_GW_TEST_WINDOW_OPEN))
		r = sd_bus_message_append(reply, "b", (int)sv.test_window_open);
	else if (streq(property, FG_DBUS_GW_TEST_WINDOW_END))
		r = sd_bus_message_append(reply, "t", sv.test_window_open ? sv.test_window_end_usec : 0);
	else if (streq(property, FG_DBUS_GW_TEST_WINDOW_BUTTON))
		r = sd_bus_message_append(reply, "s", strempty(sv.test_window_button));
	else {
		r = sd_bus_message_open_container(reply, 'a', "s");
		FG_STRV_FOREACH(name, sv.alarms) {
			if (r < 0)
				break;
			r = sd_bus_message_append(reply, "s", name);
		}
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
	}
	fg_strv_free(sv.alarms);
	return r;
}

static int gateway_property(sd_bus *bus, const char *path, const char *interface,
			    const char *property, sd_bus_message *reply, void *userdata,
			    sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_gateway g = { 0 };

	if (streq(property, FG_DBUS_GW_VERSION))
		return sd_bus_message_append(reply, "s", FG_VERSION);
	if (streq(property, FG_DBUS_GW_BUTTONS) || streq(property, FG_DBUS_GW_CONNECTED) ||
	    streq(property, FG_DBUS_GW_OPEN_ALERTS))
		return append_button_summary(a, property, reply);

	if (streq(property, FG_DBUS_GW_TEST_WINDOW_OPEN) || streq(property, FG_DBUS_GW_TEST_WINDOW_END) ||
	    streq(property, FG_DBUS_GW_TEST_WINDOW_BUTTON) || streq(property, FG_DBUS_GW_ALARMS))
		return append_supervision(a, property, reply);

	a->p.get_gateway(&g, a->p.userdata);
	if (streq(property, FG_DBUS_GW_NAME))
		return sd_bus_message_append(reply, "s", strempty(g.name));
	if (streq(property, FG_DBUS_GW_CONFIG_PATH))
		return sd_bus_message_append(reply, "s", strempty(g.config_path));
	if (streq(property, FG_DBUS_GW_START_TIME))
		return sd_bus_message_append(reply, "t", g.start_time_usec);
	if (streq(property, FG_DBUS_GW_FEATURES))
		return append_features(reply, g.features);
	if (streq(property, FG_DBUS_GW_ADAPTER))
		return sd_bus_message_append(reply, "s", strempty(g.adapter));
	if (streq(property, FG_DBUS_GW_LINKS_USED))
		return sd_bus_message_append(reply, "u", g.links_used);
	if (streq(property, FG_DBUS_GW_LINK_BUDGET))
		return sd_bus_message_append(reply, "u", g.link_budget);
	if (streq(property, FG_DBUS_GW_SLEEPING))
		return sd_bus_message_append(reply, "u", g.sleeping_buttons);
	if (streq(property, FG_DBUS_GW_ADAPTER_STATE))
		return sd_bus_message_append(reply, "s", strempty(g.adapter_state));
	if (streq(property, FG_DBUS_GW_PAIRING_POLICY))
		return sd_bus_message_append(reply, "s", strempty(g.pairing_policy));
	if (streq(property, FG_DBUS_GW_PAIRING_OPEN))
		return sd_bus_message_append(reply, "b", (int)g.pairing_open);
	if (streq(property, FG_DBUS_GW_PAIRING_END))
		return sd_bus_message_append(reply, "t", g.pairing_open ? g.pairing_end_usec : 0);
	if (streq(property, FG_DBUS_GW_SPOOL_DEPTH))
		return sd_bus_message_append(reply, "t", g.spool_depth);
	if (streq(property, FG_DBUS_GW_SPOOL_ALARM))
		return sd_bus_message_append(reply, "b", (int)g.spool_alarm);
	if (streq(property, FG_DBUS_GW_DEAD_LETTERS))
		return sd_bus_message_append(reply, "t", g.dead_letters);
	if (streq(property, FG_DBUS_GW_TARGETS))
		return append_targets(a, reply, g.n_targets);
	return -ENOENT;
}

/*
 * A changing method without arguments that answers nothing: the caller is
 * checked, then @call does it; @changed: the Gateway's properties moved.
 */
static int run_plain(sd_bus_message *m, struct fg_api *a,
		     int (*call)(struct fg_api_error *err, void *userdata), const char *what,
		     bool changed, sd_bus_error *ret_error)
{
	struct fg_api_error e = { 0 };
	int r;

	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	r = call(&e, a->p.userdata);
	if (r < 0)
		return api_reply_failure(ret_error, r, &e, what);
	if (changed)
		fg_api_gateway_changed(a);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_get_button(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_button b;
	const char *query;
	char *path;
	int r;

	r = sd_bus_message_read(m, "s", &query);
	if (r < 0)
		return r;
	if (api_find_button(a, query, &b) < 0 || !b.id)
		return api_set_error(ret_error, FG_API_ERR_UNKNOWN_BUTTON,
				     "No button called '%s' (name, address or serial)", query);
	path = api_button_path(b.id);
	if (!path)
		return -ENOMEM;
	r = sd_bus_reply_method_return(m, "o", path);
	free(path);
	return r;
}

static int method_open_pairing(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct fg_api_button other;
	const char *name;
	uint32_t seconds;
	int r;

	r = sd_bus_message_read(m, "us", &seconds, &name);
	if (r < 0)
		return r;
	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	/* the same bounds as [bluetooth] pairing_window */
	if (seconds != 0 && (seconds < 5 || seconds > 3600))
		return api_set_error(ret_error, FG_API_ERR_INVALID_ARGUMENT,
				     "A pairing window lasts 5 to 3600 seconds (0: the configured length)");
	if (name[0] && (!fg_name_is_valid(name) || strlen(name) > 63))
		return api_set_error(ret_error, FG_API_ERR_INVALID_ARGUMENT,
				     "'%s' is not a valid button name (1-63 of A-Z a-z 0-9 _ . -)", name);
	if (name[0] && api_find_button(a, name, &other) == 0)
		return api_set_error(ret_error, FG_API_ERR_NAME_TAKEN,
				     "A button is already called or matches '%s'", name);
	r = a->p.open_pairing((uint64_t)seconds * 1000000, name, &e, a->p.userdata);
	if (r < 0)
		return api_reply_failure(ret_error, r, &e, "Opening the pairing window");
	log_notice("Pairing window opened over D-Bus%s%s", name[0] ? " for " : "", name);
	fg_api_gateway_changed(a);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_close_pairing(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;

	return run_plain(m, a, a->p.close_pairing, "Closing the pairing window", true, ret_error);
}

static int method_test_alert(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct fg_api_button b;
	const char *button, *target;
	char *id = NULL;
	int r;

	r = sd_bus_message_read(m, "ss", &button, &target);
	if (r < 0)
		return r;
	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	if (button[0]) {
		if (api_find_button(a, button, &b) < 0 || !b.id)
			return api_set_error(ret_error, FG_API_ERR_UNKNOWN_BUTTON,
					     "No button called '%s' (name, address or serial)", button);
		id = strdup(b.id);
		if (!id)
			return -ENOMEM;
	}
	r = a->p.test_alert(id, target[0] ? target : NULL, &e, a->p.userdata);
	if (r < 0) {
		free(id);
		return api_reply_failure(ret_error, r, &e, "The test alert");
	}
	log_notice("Test alert requested over D-Bus (button %s, target %s)",
		   id ? id : "(synthetic)", target[0] ? target : "(default)");
	free(id);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_acknowledge(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	bool silenced = false;
	int r;

	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	r = a->p.acknowledge(&silenced, &e, a->p.userdata);
	if (r < 0)
		return api_reply_failure(ret_error, r, &e, "Acknowledging");
	log_notice("Acknowledged over D-Bus: %s", silenced ? "silenced" : "nothing to silence");
	return sd_bus_reply_method_return(m, "b", (int)silenced);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;

	return run_plain(m, a, a->p.reload, "Reloading the configuration", false, ret_error);
}

static int method_recent_deliveries(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	sd_bus_message *reply = NULL;
	struct fg_api_delivery d;
	uint32_t max;
	size_t n;
	int r;

	r = sd_bus_message_read(m, "u", &max);
	if (r < 0)
		return r;
	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	n = a->p.n_deliveries(a->p.userdata);
	if (max > 0 && n > max)
		n = max;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', FG_DBUS_DELIVERY_SIG);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (a->p.delivery_at(i, &d, a->p.userdata) < 0)
			continue;
		r = sd_bus_message_append(reply, FG_DBUS_DELIVERY_SIG, d.time_usec,
					  strempty(d.alert_id), strempty(d.button), strempty(d.target),
					  strempty(d.state), (int)d.test, strempty(d.result),
					  d.http_status, strempty(d.error), d.latency_usec, d.attempt);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_export_pairings(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	char *doc = NULL;
	unsigned count = 0;
	int r;

	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	r = a->p.export_pairings(&doc, &count, &e, a->p.userdata);
	if (r < 0)
		return api_reply_failure(ret_error, r, &e, "Exporting pairings");
	log_notice("%u pairing record%s exported over D-Bus", count, count == 1 ? "" : "s");
	r = sd_bus_reply_method_return(m, "su", doc, count);
	/* it held pairing keys */
	explicit_bzero(doc, strlen(doc));
	free(doc);
	return r;
}

static int method_import_pairings(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	const char *doc;
	unsigned count = 0;
	int replace, r;

	r = sd_bus_message_read(m, "sb", &doc, &replace);
	if (r < 0)
		return r;
	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	r = a->p.import_pairings(doc, replace, &count, &e, a->p.userdata);
	if (r < 0)
		return api_reply_failure(ret_error, r, &e, "Importing pairings");
	log_notice("%u pairing record%s imported over D-Bus%s", count, count == 1 ? "" : "s",
		   replace ? " (replacing the stored ones)" : "");
	fg_api_buttons_changed(a);
	return sd_bus_reply_method_return(m, "u", count);
}

static int method_open_test_window(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct fg_api_button b;
	const char *button;
	uint64_t timeout;
	char *id = NULL;
	int r;

	r = sd_bus_message_read(m, "ts", &timeout, &button);
	if (r < 0)
		return r;
	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	if (timeout != 0 && (timeout < 1000000 || timeout > 3600 * UINT64_C(1000000)))
		return api_set_error(ret_error, FG_API_ERR_INVALID_ARGUMENT,
				     "A test window lasts 1 s to 1 h (0: the default, 5 min)");
	if (button[0]) {
		if (api_find_button(a, button, &b) < 0 || !b.id || !b.configured)
			return api_set_error(ret_error, FG_API_ERR_UNKNOWN_BUTTON,
					     "No button listed in the configuration is called '%s'", button);
		id = strdup(b.id);
		if (!id)
			return -ENOMEM;
	}
	r = a->p.open_test_window(timeout, id, &e, a->p.userdata);
	free(id);
	if (r < 0)
		return api_reply_failure(ret_error, r, &e, "Opening the test window");
	fg_api_gateway_changed(a);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_close_test_window(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;

	return run_plain(m, a, a->p.close_test_window, "Closing the test window", true, ret_error);
}

struct audit_export {
	sd_bus_message *reply;
	uint32_t n, max;
	bool truncated;
};

static int audit_record(const struct fg_api_audit_record *rec, void *userdata)
{
	struct audit_export *x = userdata;

	if (x->n >= x->max) {
		x->truncated = true;
		return -ENOBUFS;
	}
	x->n++;
	return sd_bus_message_append(x->reply, FG_DBUS_AUDIT_SIG, rec->time_usec, strempty(rec->event),
				     strempty(rec->button), strempty(rec->alert_id),
				     strempty(rec->target), rec->latency_usec, rec->since_press_usec,
				     strempty(rec->detail));
}

static int method_export_audit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct audit_export x = { .max = FG_DBUS_AUDIT_MAX };
	uint64_t since, until;
	uint32_t max;
	unsigned skipped = 0;
	int r;

	r = sd_bus_message_read(m, "ttu", &since, &until, &max);
	if (r < 0)
		return r;
	r = api_check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	if (until < since)
		return api_set_error(ret_error, FG_API_ERR_INVALID_ARGUMENT, "until is before since");
	if (max > 0 && max < x.max)
		x.max = max;
	r = sd_bus_message_new_method_return(m, &x.reply);
	if (r >= 0)
		r = sd_bus_message_open_container(x.reply, 'a', FG_DBUS_AUDIT_SIG);
	if (r >= 0) {
		r = a->p.export_audit(since, until, audit_record, &x, &skipped, &e, a->p.userdata);
		if (r == -ENOBUFS && x.truncated)
			r = 0;
		if (r < 0) {
			sd_bus_message_unref(x.reply);
			return api_reply_failure(ret_error, r, &e, "Reading the audit trail");
		}
	}
	if (r >= 0)
		r = sd_bus_message_close_container(x.reply);
	if (r >= 0)
		r = sd_bus_message_append(x.reply, "bu", (int)x.truncated, (uint32_t)skipped);
	if (r >= 0)
		r = sd_bus_send(NULL, x.reply, NULL);
	sd_bus_message_unref(x.reply);
	return r;
}

#define GW_PROP(name, sig) \
	SD_BUS_PROPERTY(name, sig, gateway_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

const sd_bus_vtable api_gateway_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY(FG_DBUS_GW_VERSION, "s", gateway_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	GW_PROP(FG_DBUS_GW_NAME, "s"),
	GW_PROP(FG_DBUS_GW_CONFIG_PATH, "s"),
	SD_BUS_PROPERTY(FG_DBUS_GW_START_TIME, "t", gateway_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	GW_PROP(FG_DBUS_GW_FEATURES, "as"),
	GW_PROP(FG_DBUS_GW_ADAPTER, "s"),
	GW_PROP(FG_DBUS_GW_ADAPTER_STATE, "s"),
	GW_PROP(FG_DBUS_GW_PAIRING_POLICY, "s"),
	GW_PROP(FG_DBUS_GW_PAIRING_OPEN, "b"),
	GW_PROP(FG_DBUS_GW_PAIRING_END, "t"),
	GW_PROP(FG_DBUS_GW_BUTTONS, "u"),
	GW_PROP(FG_DBUS_GW_CONNECTED, "u"),
	GW_PROP(FG_DBUS_GW_OPEN_ALERTS, "as"),
	GW_PROP(FG_DBUS_GW_SPOOL_DEPTH, "t"),
	GW_PROP(FG_DBUS_GW_SPOOL_ALARM, "b"),
	GW_PROP(FG_DBUS_GW_DEAD_LETTERS, "t"),
	GW_PROP(FG_DBUS_GW_TARGETS, "a" FG_DBUS_TARGET_SIG),
	GW_PROP(FG_DBUS_GW_TEST_WINDOW_OPEN, "b"),
	GW_PROP(FG_DBUS_GW_TEST_WINDOW_END, "t"),
	GW_PROP(FG_DBUS_GW_TEST_WINDOW_BUTTON, "s"),
	GW_PROP(FG_DBUS_GW_ALARMS, "as"),
	GW_PROP(FG_DBUS_GW_LINKS_USED, "u"),
	GW_PROP(FG_DBUS_GW_LINK_BUDGET, "u"),
	GW_PROP(FG_DBUS_GW_SLEEPING, "u"),

	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_GET_BUTTON, "s", SD_BUS_PARAM(query),
				 "o", SD_BUS_PARAM(button), method_get_button,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_OPEN_PAIRING, "us", SD_BUS_PARAM(timeout_sec) SD_BUS_PARAM(name),
				 "", , method_open_pairing, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD(FG_DBUS_GW_CLOSE_PAIRING, "", "", method_close_pairing, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_TEST_ALERT, "ss", SD_BUS_PARAM(button) SD_BUS_PARAM(target),
				 "", , method_test_alert, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_ACKNOWLEDGE, "", ,
				 "b", SD_BUS_PARAM(silenced), method_acknowledge,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD(FG_DBUS_GW_RELOAD, "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_RECENT_DELIVERIES, "u", SD_BUS_PARAM(max),
				 "a" FG_DBUS_DELIVERY_SIG, SD_BUS_PARAM(deliveries),
				 method_recent_deliveries, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_EXPORT_PAIRINGS, "", ,
				 "su", SD_BUS_PARAM(document) SD_BUS_PARAM(count),
				 method_export_pairings, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_IMPORT_PAIRINGS, "sb",
				 SD_BUS_PARAM(document) SD_BUS_PARAM(replace),
				 "u", SD_BUS_PARAM(count), method_import_pairings,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_OPEN_TEST_WINDOW, "ts",
				 SD_BUS_PARAM(timeout_usec) SD_BUS_PARAM(button),
				 "", , method_open_test_window, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD(FG_DBUS_GW_CLOSE_TEST_WINDOW, "", "", method_close_test_window,
		      SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_EXPORT_AUDIT, "ttu",
				 SD_BUS_PARAM(since_usec) SD_BUS_PARAM(until_usec) SD_BUS_PARAM(max),
				 "a" FG_DBUS_AUDIT_SIG "bu",
				 SD_BUS_PARAM(records) SD_BUS_PARAM(truncated) SD_BUS_PARAM(skipped),
				 method_export_audit, SD_BUS_VTABLE_UNPRIVILEGED),

	SD_BUS_SIGNAL_WITH_NAMES(FG_DBUS_GW_PAIRING_PROGRESS, "ssss",
				 SD_BUS_PARAM(stage) SD_BUS_PARAM(address) SD_BUS_PARAM(button)
				 SD_BUS_PARAM(message), 0),
	SD_BUS_SIGNAL_WITH_NAMES(FG_DBUS_GW_DELIVERY, FG_DBUS_DELIVERY_FIELDS,
				 SD_BUS_PARAM(time) SD_BUS_PARAM(alert_id) SD_BUS_PARAM(button)
				 SD_BUS_PARAM(target) SD_BUS_PARAM(state) SD_BUS_PARAM(test)
				 SD_BUS_PARAM(result) SD_BUS_PARAM(http_status) SD_BUS_PARAM(error)
				 SD_BUS_PARAM(latency_usec) SD_BUS_PARAM(attempt), 0),
	SD_BUS_VTABLE_END
};

