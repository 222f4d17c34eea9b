/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"
#include "lib/fileio.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

#define PAIRINGS_MAX_SIZE (1024 * 1024)

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static const char *dash(const char *s)
{
	return s && s[0] ? s : "-";
}

static int call_gateway(struct ctl *c, const char *member, sd_bus_message **ret_reply,
			sd_bus_error *e, const char *types, ...)
{
	sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(c->bus, &m, FG_DBUS_NAME, FG_DBUS_MANAGER_PATH,
					   FG_DBUS_MANAGER_IFACE, member);
	if (r < 0)
		return r;
	if (types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call(c->bus, m, 0, e, ret_reply);
	sd_bus_message_unref(m);
	return r;
}

/* A command that prints one line of text, or {"ok": true, …} in JSON. */
static int report_done(struct ctl *c, const char *text, const char *key, const char *value)
{
	struct fg_json *j;

	if (!c->json) {
		printf("%s\n", text);
		return EXIT_OK;
	}
	j = ctl_json_begin(c);
	fg_json_begin_object(j);
	fg_json_kv_bool(j, "ok", true);
	if (key)
		fg_json_kv_string(j, key, value);
	fg_json_end_object(j);
	return ctl_json_end(c, j);
}

/* ---- status ------------------------------------------------------------------ */

static void status_json(struct ctl *c, const struct gateway_info *g, struct fg_json *j)
{
	char *s;

	fg_json_begin_object(j);
	fg_json_kv_string(j, "name", g->name);
	fg_json_kv_string(j, "version", g->version);
	fg_json_kv_string(j, "config_path", g->config_path);
	json_time(j, "start_time", g->start_time);
	fg_json_key(j, "features");
	fg_json_begin_array(j);
	FG_STRV_FOREACH(s, g->features)
		fg_json_string(j, s);
	fg_json_end_array(j);
	fg_json_key(j, "bluetooth");
	if (gateway_has_feature(g, "bluetooth")) {
		fg_json_begin_object(j);
		json_nstring(j, "adapter", g->adapter);
		json_nstring(j, "state", g->adapter_state);
		fg_json_end_object(j);
	} else
		fg_json_null(j);
	fg_json_key(j, "pairing");
	fg_json_begin_object(j);
	fg_json_kv_string(j, "policy", g->pairing_policy);
	fg_json_kv_bool(j, "window_open", g->pairing_open);
	json_time(j, "window_end", g->pairing_open ? g->pairing_end : 0);
	fg_json_end_object(j);
	fg_json_kv_uint(j, "buttons", g->buttons);
	fg_json_key(j, "connected_buttons");
	if (gateway_has_feature(g, "bluetooth"))
		fg_json_uint(j, g->connected);
	else
		fg_json_null(j);
	fg_json_key(j, "open_alerts");
	fg_json_begin_array(j);
	FG_STRV_FOREACH(s, g->open_alerts)
		fg_json_string(j, s);
	fg_json_end_array(j);
	fg_json_key(j, "supervision");
	fg_json_begin_object(j);
	fg_json_key(j, "alarms");
	fg_json_begin_array(j);
	FG_STRV_FOREACH(s, g->alarms)
		fg_json_string(j, s);
	fg_json_end_array(j);
	fg_json_key(j, "test_window");
	fg_json_begin_object(j);
	fg_json_kv_bool(j, "open", g->test_window_open);
	json_time(j, "end", g->test_window_open ? g->test_window_end : 0);
	json_nstring(j, "button", g->test_window_open ? g->test_window_button : NULL);
	fg_json_end_object(j);
	fg_json_end_object(j);
	fg_json_key(j, "delivery");
	if (gateway_has_feature(g, "delivery")) {
		fg_json_begin_object(j);
		fg_json_kv_uint(j, "spool_depth", g->spool_depth);
		fg_json_kv_bool(j, "spool_alarm", g->spool_alarm);
		fg_json_kv_uint(j, "dead_letters", g->dead_letters);
		fg_json_key(j, "targets");
		fg_json_begin_array(j);
		for (size_t i = 0; i < g->n_targets; i++) {
			const struct target_info *t = &g->targets[i];

			fg_json_begin_object(j);
			fg_json_kv_string(j, "name", t->name);
			fg_json_kv_string(j, "health", t->health);
			fg_json_kv_uint(j, "queued", t->queued);
			fg_json_kv_uint(j, "delivered", t->delivered);
			fg_json_kv_uint(j, "dead", t->dead);
			fg_json_key(j, "last_status");
			if (t->last_status)
				fg_json_int(j, t->last_status);
			else
				fg_json_null(j);
			json_nstring(j, "last_error", t->last_error);
			fg_json_end_object(j);
		}
		fg_json_end_array(j);
		fg_json_end_object(j);
	} else
		fg_json_null(j);
	fg_json_end_object(j);
}

static void status_text(const struct gateway_info *g)
{
	static const char na[] = "not available in this build";
	char t[64], ago[64];
	bool bt = gateway_has_feature(g, "bluetooth");

	printf("Gateway:    %s\n", dash(g->name));
	printf("Version:    %s\n", dash(g->version));
	printf("Config:     %s\n", dash(g->config_path));
	printf("Started:    %s (%s)\n", fmt_time(g->start_time, t, sizeof(t)),
	       fmt_ago(g->start_time, ago, sizeof(ago)));
	if (bt && g->adapter && g->adapter[0])
		printf("Bluetooth:  %s, %s\n", g->adapter, dash(g->adapter_state));
	else if (bt)
		/* no adapter in use: the state says why, in words */
		printf("Bluetooth:  %s\n", g->adapter_state && strcmp(g->adapter_state, "no-bluetoothd") == 0 ?
		       "bluetoothd is not running" : g->adapter_state && strcmp(g->adapter_state, "no-adapter") == 0 ?
		       "no adapter" : dash(g->adapter_state));
	else
		printf("Bluetooth:  %s\n", na);
	if (g->pairing_open)
		printf("Pairing:    window open until %s (%s), policy %s\n",
		       fmt_time(g->pairing_end, t, sizeof(t)), fmt_ago(g->pairing_end, ago, sizeof(ago)),
		       dash(g->pairing_policy));
	else
		printf("Pairing:    no window open, policy %s\n", dash(g->pairing_policy));
	if (bt)
		printf("Buttons:    %u known, %u connected\n", g->buttons, g->connected);
	else
		printf("Buttons:    %u known\n", g->buttons);
	if (g->open_alerts && g->open_alerts[0]) {
		size_t n = 0;

		while (g->open_alerts[n])
			n++;
		printf("Alerts:     %zu open:", n);
		for (size_t i = 0; i < n; i++)
			printf("%s %s", i ? "," : "", g->open_alerts[i]);
		printf("\n");
	} else
		printf("Alerts:     none open\n");
	if (g->alarms && g->alarms[0]) {
		printf("Alarms:     %zu open:", fg_strv_length(g->alarms));
		for (size_t i = 0; g->alarms[i]; i++)
			printf("%s %s", i ? "," : "", g->alarms[i]);
		printf("\n");
	} else
		printf("Alarms:     none open\n");
	if (g->test_window_open)
		printf("Testing:    window open until %s (%s) for %s: presses page nobody\n",
		       fmt_time(g->test_window_end, t, sizeof(t)), fmt_ago(g->test_window_end, ago, sizeof(ago)),
		       g->test_window_button && g->test_window_button[0] ? g->test_window_button : "every button");
	printf("Feedback:   %s\n", gateway_has_feature(g, "feedback") ? "LEDs and buzzer running"
								  : "no LEDs or buzzer running");
	if (!gateway_has_feature(g, "delivery")) {
		printf("Delivery:   %s\n", na);
		return;
	}
	printf("Spool:      %llu queued, %llu dead letter%s%s\n", (unsigned long long)g->spool_depth,
	       (unsigned long long)g->dead_letters, g->dead_letters == 1 ? "" : "s",
	       g->spool_alarm ? ", SPOOL ALARM" : "");
	if (g->n_targets == 0) {
		printf("Targets:    none configured\n");
		return;
	}
	printf("Targets:\n");
	struct table *tb = table_new(7);
	const char *head[] = { "NAME", "HEALTH", "QUEUED", "DELIVERED", "DEAD", "LAST", "ERROR" };

	for (size_t i = 0; i < 7; i++)
		table_add(tb, head[i]);
	for (size_t i = 0; i < g->n_targets; i++) {
		const struct target_info *x = &g->targets[i];

		table_add(tb, x->name);
		table_add(tb, x->health);
		table_addf(tb, "%llu", (unsigned long long)x->queued);
		table_addf(tb, "%llu", (unsigned long long)x->delivered);
		table_addf(tb, "%llu", (unsigned long long)x->dead);
		if (x->last_status)
			table_addf(tb, "%d", (int)x->last_status);
		else
			table_add(tb, "-");
		table_add(tb, dash(x->last_error));
	}
	table_print(tb, 2);
	table_free(tb);
}

int cmd_status(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct gateway_info g;
	int r;

	r = gateway_info_get(c->bus, &g, &e);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot read the gateway's status");
	if (c->json) {
		struct fg_json *j = ctl_json_begin(c);

		status_json(c, &g, j);
		r = ctl_json_end(c, j);
	} else {
		status_text(&g);
		r = EXIT_OK;
	}
	gateway_info_clear(&g);
	return r;
}

/* ---- buttons --------------------------------------------------------------- */

static void button_json(struct fg_json *j, const struct button_info *b, bool bt)
{
	fg_json_begin_object(j);
	fg_json_kv_string(j, "name", b->name);
	fg_json_kv_string(j, "id", b->id);
	fg_json_kv_string(j, "object", b->path);
	json_nstring(j, "address", b->address);
	json_nstring(j, "serial", b->serial);
	fg_json_kv_bool(j, "configured", b->configured);
	fg_json_kv_bool(j, "paired", b->paired);
	fg_json_key(j, "connected");
	if (bt)
		fg_json_bool(j, b->connected);
	else
		fg_json_null(j);
	json_time(j, "last_seen", b->last_seen);
	fg_json_key(j, "rssi");
	if (b->rssi)
		fg_json_int(j, b->rssi);
	else
		fg_json_null(j);
	fg_json_key(j, "battery_mv");
	if (b->battery_mv)
		fg_json_uint(j, b->battery_mv);
	else
		fg_json_null(j);
	fg_json_key(j, "firmware");
	if (b->firmware)
		fg_json_uint(j, b->firmware);
	else
		fg_json_null(j);
	json_nstring(j, "last_event", b->last_event);
	json_time(j, "last_event_time", b->last_event_time);
	json_nstring(j, "alert_state", b->alert_state);
	fg_json_key(j, "battery_percent");
	if (b->battery_percent >= 0)
		fg_json_int(j, b->battery_percent);
	else
		fg_json_null(j);
	fg_json_kv_bool(j, "battery_low", b->battery_low);
	fg_json_kv_bool(j, "not_seen", b->not_seen);
	json_time(j, "last_test", b->last_test);
	fg_json_end_object(j);
}

static const char *battery_text(uint16_t mv, char *buf, size_t size)
{
	if (!mv)
		return "-";
	snprintf(buf, size, "%u.%02uV", mv / 1000, mv % 1000 / 10);
	return buf;
}

static void button_text(const struct button_info *b, bool bt)
{
	char t[64], ago[64], v[32];

	printf("Name:        %s\n", b->name);
	printf("Object:      %s\n", b->path);
	printf("Address:     %s\n", dash(b->address));
	printf("Serial:      %s\n", dash(b->serial));
	printf("Configured:  %s\n", b->configured ? "yes, in flicgate.ini" : "no (named in the pairing store)");
	printf("Paired:      %s\n", yes_no(b->paired));
	printf("Connected:   %s\n", bt ? yes_no(b->connected) : "- (Bluetooth not available in this build)");
	if (b->last_seen)
		printf("Last seen:   %s (%s)\n", fmt_time(b->last_seen, t, sizeof(t)),
		       fmt_ago(b->last_seen, ago, sizeof(ago)));
	else
		printf("Last seen:   never\n");
	if (b->rssi)
		printf("RSSI:        %d dBm\n", b->rssi);
	else
		printf("RSSI:        -\n");
	if (b->battery_mv && b->battery_percent >= 0)
		printf("Battery:     %s (about %d%%)%s\n", battery_text(b->battery_mv, v, sizeof(v)),
		       (int)b->battery_percent, b->battery_low ? ", LOW: replace the CR2032 cell" : "");
	else
		printf("Battery:     %s\n", battery_text(b->battery_mv, v, sizeof(v)));
	if (b->firmware)
		printf("Firmware:    %u\n", b->firmware);
	else
		printf("Firmware:    -\n");
	if (b->last_event[0])
		printf("Last event:  %s at %s (%s)\n", b->last_event,
		       fmt_time(b->last_event_time, t, sizeof(t)), fmt_ago(b->last_event_time, ago, sizeof(ago)));
	else
		printf("Last event:  none\n");
	printf("Alert:       %s\n", dash(b->alert_state));
	if (b->not_seen)
		printf("Supervision: NOT SEEN for too long: check it is in range and its battery\n");
	if (b->last_test)
		printf("Last test:   %s (%s)\n", fmt_time(b->last_test, t, sizeof(t)),
		       fmt_ago(b->last_test, ago, sizeof(ago)));
	else
		printf("Last test:   never\n");
}

static void buttons_table(const struct button_info *list, size_t n, bool bt)
{
	const char *head[] = { "NAME", "ADDRESS", "SERIAL", "PAIRED", "LINK", "LAST SEEN", "RSSI",
			       "BATTERY", "ALERT" };
	struct table *t = table_new(9);
	char buf[64];

	for (size_t i = 0; i < 9; i++)
		table_add(t, head[i]);
	for (size_t i = 0; i < n; i++) {
		const struct button_info *b = &list[i];

		table_add(t, b->name);
		table_add(t, dash(b->address));
		table_add(t, dash(b->serial));
		table_add(t, yes_no(b->paired));
		table_add(t, bt ? (b->connected ? "up" : "down") : "-");
		table_add(t, b->last_seen ? fmt_ago(b->last_seen, buf, sizeof(buf)) : "never");
		if (b->rssi)
			table_addf(t, "%d", b->rssi);
		else
			table_add(t, "-");
		table_add(t, battery_text(b->battery_mv, buf, sizeof(buf)));
		table_add(t, dash(b->alert_state));
	}
	table_print(t, 0);
	table_free(t);
}

int cmd_buttons(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct gateway_info g;
	struct button_info *list = NULL, one;
	size_t count = 0;
	char *path = NULL;
	bool bt;
	int r;

	if (c->names && n > 0)
		return ctl_fail(c, EXIT_USAGE, "--names lists every button; it takes no BUTTON");
	r = gateway_info_get(c->bus, &g, &e);
	if (r < 0)
		goto bus_error;
	bt = gateway_has_feature(&g, "bluetooth");
	gateway_info_clear(&g);

	if (n == 1) {
		r = button_resolve(c->bus, args[0], &path, &e);
		if (r < 0)
			goto bus_error;
		r = button_info_get(c->bus, path, &one, &e);
		free(path);
		if (r < 0)
			goto bus_error;
		if (c->json) {
			struct fg_json *j = ctl_json_begin(c);

			button_json(j, &one, bt);
			r = ctl_json_end(c, j);
		} else {
			button_text(&one, bt);
			r = EXIT_OK;
		}
		button_info_clear(&one);
		return r;
	}

	r = buttons_list(c->bus, &list, &count, &e);
	if (r < 0)
		goto bus_error;
	if (c->json) {
		struct fg_json *j = ctl_json_begin(c);

		fg_json_begin_array(j);
		for (size_t i = 0; i < count; i++)
			if (c->names)
				fg_json_string(j, list[i].name);
			else
				button_json(j, &list[i], bt);
		fg_json_end_array(j);
		r = ctl_json_end(c, j);
	} else if (c->names) {
		for (size_t i = 0; i < count; i++)
			printf("%s\n", list[i].name);
		r = EXIT_OK;
	} else if (count == 0) {
		printf("No buttons: list them in flicgate.ini or pair one with 'flicgatectl pair'.\n");
		r = EXIT_OK;
	} else {
		buttons_table(list, count, bt);
		r = EXIT_OK;
	}
	buttons_free(list, count);
	return r;

bus_error:
	return ctl_bus_error(c, &e, r, "Cannot read the buttons");
}

/* ---- pair ------------------------------------------------------------------ */

struct pairing {
	struct ctl *c;
	sd_event *event;
	int result;
};

static void pair_print(struct pairing *p, const char *stage, const char *address, const char *button,
		       const char *message)
{
	char extra[300] = "";

	if (p->c->json) {
		/* JSON Lines: one compact object per stage, flushed at once */
		bool pretty = p->c->json_pretty;
		struct fg_json *j;

		p->c->json_pretty = false;
		j = ctl_json_begin(p->c);
		p->c->json_pretty = pretty;
		fg_json_begin_object(j);
		fg_json_kv_string(j, "stage", stage);
		json_nstring(j, "address", address);
		json_nstring(j, "button", button);
		json_nstring(j, "message", message);
		fg_json_end_object(j);
		ctl_json_end(p->c, j);
		return;
	}
	if (message[0])
		snprintf(extra, sizeof(extra), " (%s)", message);
	if (strcmp(stage, FG_DBUS_PAIRING_SCANNING) == 0)
		printf("Scanning for a button in pairing mode%s...\n", extra);
	else if (strcmp(stage, FG_DBUS_PAIRING_FOUND) == 0)
		printf("Found %s%s\n", dash(address), extra);
	else if (strcmp(stage, FG_DBUS_PAIRING_VERIFYING) == 0)
		printf("Verifying %s%s...\n", dash(address), extra);
	else if (strcmp(stage, FG_DBUS_PAIRING_PAIRED) == 0)
		printf("Paired %s%s\n", dash(address), extra);
	else if (strcmp(stage, FG_DBUS_PAIRING_SAVED) == 0)
		printf("Saved%s%s: it reconnects by itself from now on, also after a reboot.%s\n",
		       button[0] ? " as " : "", button, extra);
	else if (strcmp(stage, FG_DBUS_PAIRING_FAILED) == 0)
		printf("Pairing failed%s\n", extra);
	else if (strcmp(stage, FG_DBUS_PAIRING_TIMEOUT) == 0)
		printf("The pairing window closed before a button was paired%s.\n", extra);
	else if (strcmp(stage, FG_DBUS_PAIRING_CLOSED) == 0)
		printf("The pairing window was closed%s.\n", extra);
	else
		printf("%s%s\n", stage, extra);
	fflush(stdout);
}

static int on_pairing_progress(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct pairing *p = userdata;
	const char *stage, *address, *button, *message;
	int r;

	r = sd_bus_message_read(m, "ssss", &stage, &address, &button, &message);
	if (r < 0)
		return 0;
	pair_print(p, stage, address, button, message);
	if (strcmp(stage, FG_DBUS_PAIRING_SAVED) == 0)
		p->result = EXIT_OK;
	else if (strcmp(stage, FG_DBUS_PAIRING_FAILED) == 0)
		p->result = EXIT_FAILURE_;
	else if (strcmp(stage, FG_DBUS_PAIRING_TIMEOUT) == 0 || strcmp(stage, FG_DBUS_PAIRING_CLOSED) == 0)
		p->result = EXIT_NOT_PAIRED;
	else
		return 0;
	return sd_event_exit(p->event, 0);
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct pairing *p = userdata;
	const char *name, *old_owner, *new_owner;

	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
	    strcmp(name, FG_DBUS_NAME) != 0 || new_owner[0])
		return 0;
	p->result = ctl_fail(p->c, EXIT_NOT_RUNNING, "flicgated stopped while the pairing window was open");
	return sd_event_exit(p->event, 0);
}

static int on_interrupt(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct pairing *p = userdata;
	sd_bus_error e = SD_BUS_ERROR_NULL;

	/* leave no window open behind us */
	(void)call_gateway(p->c, FG_DBUS_GW_CLOSE_PAIRING, NULL, &e, NULL);
	sd_bus_error_free(&e);
	p->result = ctl_fail(p->c, EXIT_NOT_PAIRED, "interrupted; the pairing window is closed");
	return sd_event_exit(p->event, 0);
}

static int on_no_answer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct pairing *p = userdata;

	p->result = ctl_fail(p->c, EXIT_FAILURE_,
			     "flicgated did not report the end of the pairing window");
	return sd_event_exit(p->event, 0);
}

int cmd_pair(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct pairing p = { .c = c, .result = EXIT_FAILURE_ };
	sd_bus_slot *progress = NULL, *owner = NULL;
	sd_event_source *sigint = NULL, *sigterm = NULL, *timer = NULL;
	struct gateway_info g;
	uint64_t wait_usec;
	int r;

	r = sd_event_default(&p.event);
	if (r >= 0)
		r = sd_bus_attach_event(c->bus, p.event, 0);
	/* Ctrl-C from here on closes the window, even one still being opened */
	if (r >= 0)
		r = sd_event_add_signal(p.event, &sigint, SIGINT | SD_EVENT_SIGNAL_PROCMASK, on_interrupt, &p);
	if (r >= 0)
		r = sd_event_add_signal(p.event, &sigterm, SIGTERM | SD_EVENT_SIGNAL_PROCMASK,
					on_interrupt, &p);
	/* subscribe before opening, so that no stage can slip past */
	if (r >= 0)
		r = sd_bus_match_signal(c->bus, &progress, FG_DBUS_NAME, FG_DBUS_MANAGER_PATH,
					FG_DBUS_MANAGER_IFACE, FG_DBUS_GW_PAIRING_PROGRESS,
					on_pairing_progress, &p);
	if (r >= 0)
		r = sd_bus_add_match(c->bus, &owner,
				     "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
				     "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
				     "arg0='" FG_DBUS_NAME "'", on_owner_changed, &p);
	if (r < 0) {
		p.result = ctl_fail(c, EXIT_FAILURE_, "cannot follow the pairing signals: %s", strerror(-r));
		goto out;
	}

	r = call_gateway(c, FG_DBUS_GW_OPEN_PAIRING, NULL, &e, "us", c->timeout_sec,
			 c->name ? c->name : "");
	if (r < 0) {
		p.result = ctl_bus_error(c, &e, r, "Cannot open a pairing window");
		goto out;
	}
	/* how long to wait: the window's end as the daemon set it, plus verification */
	wait_usec = (uint64_t)(c->timeout_sec ? c->timeout_sec : 3600) * FG_USEC_PER_SEC;
	if (gateway_info_get(c->bus, &g, &e) >= 0) {
		uint64_t now = fg_now_realtime();

		if (g.pairing_open && g.pairing_end > now)
			wait_usec = g.pairing_end - now;
		gateway_info_clear(&g);
	}
	sd_bus_error_free(&e);
	wait_usec += 60 * FG_USEC_PER_SEC;

	if (!c->json)
		printf("Pairing window open. Hold the button down for about 7 seconds, until it flashes.\n");
	fflush(stdout);

	r = sd_event_add_time_relative(p.event, &timer, CLOCK_MONOTONIC, wait_usec, 0,
					       on_no_answer, &p);
	if (r >= 0)
		r = sd_event_loop(p.event);
	if (r < 0)
		p.result = ctl_fail(c, EXIT_FAILURE_, "event loop failed: %s", strerror(-r));

out:
	sd_bus_error_free(&e);
	sd_event_source_unref(timer);
	sd_event_source_unref(sigterm);
	sd_event_source_unref(sigint);
	sd_bus_slot_unref(owner);
	sd_bus_slot_unref(progress);
	sd_bus_detach_event(c->bus);
	sd_event_unref(p.event);
	return p.result;
}

/* ---- one-call commands -------------------------------------------------------- */

/* Call @member on the Button object @query names. */
static int call_button(struct ctl *c, const char *query, const char *member, sd_bus_error *e,
		       const char *types, const char *arg)
{
	char *path = NULL;
	int r;

	r = button_resolve(c->bus, query, &path, e);
	if (r < 0)
		return r;
	if (types)
		r = sd_bus_call_method(c->bus, FG_DBUS_NAME, path, FG_DBUS_BUTTON_IFACE, member, e, NULL,
				       types, arg);
	else
		r = sd_bus_call_method(c->bus, FG_DBUS_NAME, path, FG_DBUS_BUTTON_IFACE, member, e, NULL,
				       NULL);
	free(path);
	return r;
}

int cmd_unpair(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char text[200];
	int r;

	r = call_button(c, args[0], FG_DBUS_BT_UNPAIR, &e, NULL, NULL);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot unpair");
	snprintf(text, sizeof(text), "Unpaired %s: pair it again to use it.", args[0]);
	return report_done(c, text, "button", args[0]);
}

int cmd_rename(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char text[200];
	int r;

	r = call_button(c, args[0], FG_DBUS_BT_RENAME, &e, "s", args[1]);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot rename");
	snprintf(text, sizeof(text), "Renamed %s to %s.", args[0], args[1]);
	return report_done(c, text, "name", args[1]);
}

int cmd_test(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *button = n > 0 ? args[0] : "";
	char text[300];
	int r;

	r = call_gateway(c, FG_DBUS_GW_TEST_ALERT, NULL, &e, "ss", button, c->target ? c->target : "");
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot send a test alert");
	snprintf(text, sizeof(text), "Test alert queued%s%s%s%s; 'flicgatectl log' shows its delivery.",
		 button[0] ? " for " : "", button, c->target ? " to " : "", c->target ? c->target : "");
	return report_done(c, text, NULL, NULL);
}

int cmd_ack(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int silenced = 0, r;

	r = call_gateway(c, FG_DBUS_GW_ACKNOWLEDGE, &reply, &e, NULL);
	if (r >= 0)
		r = sd_bus_message_read(reply, "b", &silenced);
	sd_bus_message_unref(reply);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot acknowledge");
	if (c->json) {
		struct fg_json *j = ctl_json_begin(c);

		fg_json_begin_object(j);
		fg_json_kv_bool(j, "silenced", silenced);
		fg_json_end_object(j);
		return ctl_json_end(c, j);
	}
	printf("%s\n", silenced ? "Silenced." : "Nothing was sounding.");
	return EXIT_OK;
}

int cmd_reload(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = call_gateway(c, FG_DBUS_GW_RELOAD, NULL, &e, NULL);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot reload");
	return report_done(c, "Configuration reloaded.", NULL, NULL);
}

/* ---- log ----------------------------------------------------------------------- */

struct delivery {
	uint64_t time;
	const char *alert_id, *button, *target, *state, *result, *error;
	int test;
	int32_t http_status;
	uint64_t latency;
	uint32_t attempt;
};

static int log_audit(struct ctl *c);

int cmd_log(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct fg_json *j = NULL;
	struct table *t = NULL;
	struct delivery d;
	char buf[64];
	size_t rows = 0;
	int r;

	if (c->has_since)
		return log_audit(c);
	if (c->csv)
		return ctl_fail(c, EXIT_USAGE, "--csv exports the audit trail: give --since TIME");
	r = call_gateway(c, FG_DBUS_GW_RECENT_DELIVERIES, &reply, &e, "u", c->lines);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot read the delivery log");
	if (c->json) {
		j = ctl_json_begin(c);
		fg_json_begin_array(j);
	} else {
		const char *head[] = { "TIME", "BUTTON", "TARGET", "STATE", "RESULT", "HTTP", "LATENCY",
				       "TRY", "ALERT", "ERROR" };

		t = table_new(10);
		for (size_t i = 0; i < 10; i++)
			table_add(t, head[i]);
	}
	r = sd_bus_message_enter_container(reply, 'a', FG_DBUS_DELIVERY_SIG);
	while (r >= 0 && (r = sd_bus_message_read(reply, FG_DBUS_DELIVERY_SIG, &d.time, &d.alert_id,
						   &d.button, &d.target, &d.state, &d.test, &d.result,
						   &d.http_status, &d.error, &d.latency, &d.attempt)) > 0) {
		rows++;
		if (j) {
			fg_json_begin_object(j);
			json_time(j, "time", d.time);
			fg_json_kv_string(j, "alert_id", d.alert_id);
			fg_json_kv_string(j, "button", d.button);
			fg_json_kv_string(j, "target", d.target);
			fg_json_kv_string(j, "state", d.state);
			fg_json_kv_bool(j, "test", d.test);
			fg_json_kv_string(j, "result", d.result);
			fg_json_key(j, "http_status");
			if (d.http_status)
				fg_json_int(j, d.http_status);
			else
				fg_json_null(j);
			json_nstring(j, "error", d.error);
			fg_json_kv_uint(j, "latency_ms", d.latency / 1000);
			fg_json_kv_uint(j, "attempt", d.attempt);
			fg_json_end_object(j);
			continue;
		}
		table_add(t, fmt_time(d.time, buf, sizeof(buf)));
		table_add(t, d.button);
		table_add(t, d.target);
		table_addf(t, "%s%s", d.state, d.test ? " (test)" : "");
		table_add(t, d.result);
		if (d.http_status)
			table_addf(t, "%d", (int)d.http_status);
		else
			table_add(t, "-");
		table_addf(t, "%llums", (unsigned long long)(d.latency / 1000));
		table_addf(t, "%u", d.attempt);
		table_add(t, d.alert_id);
		table_add(t, dash(d.error));
	}
	sd_bus_message_unref(reply);
	if (r < 0) {
		fg_json_free(j);
		table_free(t);
		return ctl_fail(c, EXIT_FAILURE_, "cannot parse the delivery log: %s", strerror(-r));
	}
	if (j) {
		fg_json_end_array(j);
		return ctl_json_end(c, j);
	}
	if (rows == 0)
		printf("No deliveries yet.\n");
	else
		table_print(t, 0);
	table_free(t);
	return EXIT_OK;
}

/* ---- export / import ------------------------------------------------------------ */

static const char secret_warning[] =
	"It holds the buttons' pairing keys: keep it secret, move it only over SSH or on\n"
	"removable media you control, and delete it once imported.";

static int write_export(const char *path, const char *doc, bool force)
{
	size_t len = strlen(doc), done = 0;
	int fd, r = 0;

	/* 0600 from the first byte: never a moment where others may read it */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL), 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0)
		r = -errno;
	while (r == 0 && done < len) {
		ssize_t w = write(fd, doc + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			r = -errno;
		else
			done += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

int cmd_export(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *doc;
	uint32_t count;
	bool to_stdout = strcmp(args[0], "-") == 0;
	int r;

	r = call_gateway(c, FG_DBUS_GW_EXPORT_PAIRINGS, &reply, &e, NULL);
	if (r >= 0)
		r = sd_bus_message_read(reply, "su", &doc, &count);
	if (r < 0) {
		sd_bus_message_unref(reply);
		return ctl_bus_error(c, &e, r, "Cannot export the pairings");
	}
	if (to_stdout) {
		fprintf(stderr, "flicgatectl: %u pairing record%s on standard output. %s\n", count,
			count == 1 ? "" : "s", secret_warning);
		if (c->json) {
			struct fg_json *j = ctl_json_begin(c);

			fg_json_begin_object(j);
			fg_json_kv_uint(j, "count", count);
			fg_json_kv_string(j, "document", doc);
			fg_json_end_object(j);
			r = ctl_json_end(c, j);
		} else {
			fputs(doc, stdout);
			r = EXIT_OK;
		}
		sd_bus_message_unref(reply);
		return r;
	}
	r = write_export(args[0], doc, c->force);
	sd_bus_message_unref(reply);
	if (r == -EEXIST)
		return ctl_fail(c, EXIT_FAILURE_, "%s exists; use --force to overwrite it", args[0]);
	if (r < 0)
		return ctl_fail(c, EXIT_FAILURE_, "cannot write %s: %s", args[0], strerror(-r));
	if (c->json) {
		struct fg_json *j = ctl_json_begin(c);

		fg_json_begin_object(j);
		fg_json_kv_string(j, "file", args[0]);
		fg_json_kv_uint(j, "count", count);
		fg_json_kv_string(j, "mode", "0600");
		fg_json_kv_string(j, "warning", secret_warning);
		fg_json_end_object(j);
		return ctl_json_end(c, j);
	}
	printf("Wrote %u pairing record%s to %s (mode 0600).\n%s\n", count, count == 1 ? "" : "s",
	       args[0], secret_warning);
	return EXIT_OK;
}

static int read_input(const char *path, char **ret, size_t *ret_len, bool *ret_world_readable)
{
	struct stat st;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int r;

	*ret_world_readable = false;
	if (strcmp(path, "-") != 0) {
		r = fg_read_file(path, PAIRINGS_MAX_SIZE, ret, ret_len);
		if (r >= 0 && stat(path, &st) == 0 && (st.st_mode & 0077))
			*ret_world_readable = true;
		return r;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > PAIRINGS_MAX_SIZE + 8192) {
				free(buf);
				return -EFBIG;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t got = read(STDIN_FILENO, buf + len, cap - len - 1);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			free(buf);
			return r;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > PAIRINGS_MAX_SIZE) {
			free(buf);
			return -EFBIG;
		}
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = 0;
	*ret = buf;
	*ret_len = len;
	return 0;
}

int cmd_import(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char *doc = NULL, text[200];
	size_t len;
	uint32_t count = 0;
	bool exposed;
	int r;

	r = read_input(args[0], &doc, &len, &exposed);
	if (r < 0)
		return ctl_fail(c, EXIT_FAILURE_, "cannot read %s: %s", args[0], strerror(-r));
	if (strlen(doc) != len) {
		free(doc);
		return ctl_fail(c, EXIT_FAILURE_, "%s is not a pairing export (it is not text)", args[0]);
	}
	if (exposed)
		fprintf(stderr, "flicgatectl: warning: %s can be read by other users, but it holds pairing keys; chmod 600 it or delete it\n",
			args[0]);
	r = call_gateway(c, FG_DBUS_GW_IMPORT_PAIRINGS, &reply, &e, "sb", doc, (int)c->replace);
	if (r >= 0)
		r = sd_bus_message_read(reply, "u", &count);
	sd_bus_message_unref(reply);
	/* the daemon has its copy; ours goes */
	explicit_bzero(doc, len);
	free(doc);
	if (r == -EINVAL && !sd_bus_error_is_set(&e))
		return ctl_fail(c, EXIT_FAILURE_, "%s is not a pairing export (not UTF-8 text)", args[0]);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot import the pairings");
	if (c->json) {
		struct fg_json *j = ctl_json_begin(c);

		fg_json_begin_object(j);
		fg_json_kv_uint(j, "count", count);
		fg_json_kv_bool(j, "replaced", c->replace);
		fg_json_end_object(j);
		return ctl_json_end(c, j);
	}
	snprintf(text, sizeof(text), "Imported %u pairing record%s%s.", count, count == 1 ? "" : "s",
		 c->replace ? "; stored records not in the file were dropped" : "");
	printf("%s\n", text);
	return EXIT_OK;
}

/* ---- log --since: the audit trail ------------------------------------------------ */

/* RFC 4180: quoted when it holds a comma, a quote or a line break. */
static void csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static int log_audit(struct ctl *c)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct fg_json *j = NULL;
	struct table *t = NULL;
	uint64_t time, latency, since_press;
	const char *event, *button, *alert_id, *target, *detail;
	char buf[64];
	size_t rows = 0;
	int truncated = 0, r;
	uint32_t skipped = 0;

	if (c->json && c->csv)
		return ctl_fail(c, EXIT_USAGE, "--csv and --json: pick one");
	r = call_gateway(c, FG_DBUS_GW_EXPORT_AUDIT, &reply, &e, "ttu", c->since_usec, c->until_usec,
			 (uint32_t)0);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot read the audit trail");
	if (c->json) {
		j = ctl_json_begin(c);
		fg_json_begin_object(j);
		fg_json_key(j, "records");
		fg_json_begin_array(j);
	} else if (c->csv) {
		/* the same columns as the daemon's own export (core/audit.c) */
		fputs("time,event,button,alert_id,target,latency_ms,since_press_s,detail\r\n", stdout);
	} else {
		const char *head[] = { "TIME", "EVENT", "BUTTON", "TARGET", "LATENCY", "SINCE PRESS",
				       "ALERT", "DETAIL" };

		t = table_new(8);
		for (size_t i = 0; i < 8; i++)
			table_add(t, head[i]);
	}
	r = sd_bus_message_enter_container(reply, 'a', FG_DBUS_AUDIT_SIG);
	while (r >= 0 && (r = sd_bus_message_read(reply, FG_DBUS_AUDIT_SIG, &time, &event, &button,
						   &alert_id, &target, &latency, &since_press,
						   &detail)) > 0) {
		rows++;
		if (j) {
			fg_json_begin_object(j);
			json_time(j, "time", time);
			fg_json_kv_string(j, "event", event);
			json_nstring(j, "button", button);
			json_nstring(j, "alert_id", alert_id);
			json_nstring(j, "target", target);
			fg_json_key(j, "latency_ms");
			if (latency)
				fg_json_uint(j, latency / 1000);
			else
				fg_json_null(j);
			fg_json_key(j, "since_press_ms");
			if (since_press)
				fg_json_uint(j, since_press / 1000);
			else
				fg_json_null(j);
			json_nstring(j, "detail", detail);
			fg_json_end_object(j);
		} else if (c->csv) {
			printf("%s,", fmt_time(time, buf, sizeof(buf)));
			csv_field(event);
			putchar(',');
			csv_field(button);
			putchar(',');
			csv_field(alert_id);
			putchar(',');
			csv_field(target);
			printf(",%.1f,", (double)latency / 1000.0);
			if (since_press)
				printf("%.3f", (double)since_press / 1e6);
			putchar(',');
			csv_field(detail);
			fputs("\r\n", stdout);
		} else {
			table_add(t, fmt_time(time, buf, sizeof(buf)));
			table_add(t, event);
			table_add(t, dash(button));
			table_add(t, dash(target));
			if (latency)
				table_addf(t, "%llums", (unsigned long long)(latency / 1000));
			else
				table_add(t, "-");
			if (since_press)
				table_addf(t, "%.1fs", (double)since_press / 1e6);
			else
				table_add(t, "-");
			table_add(t, dash(alert_id));
			table_add(t, dash(detail));
		}
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "bu", &truncated, &skipped);
	sd_bus_message_unref(reply);
	if (r < 0) {
		fg_json_free(j);
		table_free(t);
		return ctl_fail(c, EXIT_FAILURE_, "cannot parse the audit trail: %s", strerror(-r));
	}
	if (truncated)
		fprintf(stderr, "flicgatectl: only the first %zu records; narrow --since/--until for the rest\n",
			rows);
	if (skipped)
		fprintf(stderr, "flicgatectl: %u damaged line%s skipped in the trail\n", skipped,
			skipped == 1 ? "" : "s");
	if (j) {
		fg_json_end_array(j);
		fg_json_kv_bool(j, "truncated", truncated);
		fg_json_kv_uint(j, "skipped", skipped);
		fg_json_end_object(j);
		return ctl_json_end(c, j);
	}
	if (c->csv)
		return EXIT_OK;
	if (rows == 0)
		printf("No audit records in that time.\n");
	else
		table_print(t, 0);
	table_free(t);
	return EXIT_OK;
}

/*
 * TIME for --since/--until: "now", "@UNIX_SECONDS", "DURATION ago" or
 * "-DURATION" (flicgate durations: 2h, 30min, 1d), or a date and time in
 * local time "YYYY-MM-DD[ HH:MM[:SS]]" ('T' also separates; a trailing
 * 'Z' means UTC).
 */
int parse_time(const char *s, uint64_t now, uint64_t *ret)
{
	struct tm tm = { .tm_isdst = -1 };
	char buf[64], *end;
	const char *rest;
	uint64_t d;
	size_t len = strlen(s);
	bool utc = false;
	time_t t;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	if (strcmp(s, "now") == 0) {
		*ret = now;
		return 0;
	}
	if (s[0] == '@') {
		unsigned long long v;

		errno = 0;
		v = strtoull(s + 1, &end, 10);
		if (errno || end == s + 1 || *end || v > UINT64_MAX / FG_USEC_PER_SEC)
			return -EINVAL;
		*ret = v * FG_USEC_PER_SEC;
		return 0;
	}
	if (s[0] == '-' || (len > 4 && strcmp(s + len - 4, " ago") == 0)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(s[0] == '-' ? len - 1 : len - 4),
			 s[0] == '-' ? s + 1 : s);
		if (fg_parse_duration(buf, &d) < 0 || d > now)
			return -EINVAL;
		*ret = now - d;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	if (buf[len - 1] == 'Z') {
		utc = true;
		buf[len - 1] = '\0';
	}
	rest = strptime(buf, "%Y-%m-%d", &tm);
	if (!rest)
		return -EINVAL;
	if (*rest == ' ' || *rest == 'T') {
		const char *r2 = strptime(rest + 1, "%H:%M:%S", &tm);

		if (!r2)
			r2 = strptime(rest + 1, "%H:%M", &tm);
		rest = r2;
	}
	if (!rest || *rest)
		return -EINVAL;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1 || t < 0)
		return -EINVAL;
	*ret = (uint64_t)t * FG_USEC_PER_SEC;
	return 0;
}

/* ---- test-press ---------------------------------------------------------------- */

int cmd_test_press(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *button = n > 0 ? args[0] : "";
	struct gateway_info g;
	char text[300], t[64];
	int r;

	if (c->close) {
		if (n > 0 || c->timeout_sec)
			return ctl_fail(c, EXIT_USAGE, "--close takes no BUTTON and no --timeout");
		r = call_gateway(c, FG_DBUS_GW_CLOSE_TEST_WINDOW, NULL, &e, NULL);
		if (r < 0)
			return ctl_bus_error(c, &e, r, "Cannot close the test window");
		return report_done(c, "Test window closed: presses page again.", NULL, NULL);
	}
	r = call_gateway(c, FG_DBUS_GW_OPEN_TEST_WINDOW, NULL, &e, "ts",
			 (uint64_t)c->timeout_sec * FG_USEC_PER_SEC, button);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot open a test window");
	snprintf(t, sizeof(t), "its end");
	if (gateway_info_get(c->bus, &g, &e) >= 0) {
		if (g.test_window_open)
			fmt_time(g.test_window_end, t, sizeof(t));
		gateway_info_clear(&g);
	}
	sd_bus_error_free(&e);
	snprintf(text, sizeof(text),
		 "Test window open until %s: presses of %s are recorded as routine tests and page nobody.\n"
		 "'flicgatectl log --since 1h ago' shows them; 'flicgatectl test-press --close' ends it early.",
		 t, button[0] ? button : "every button");
	return report_done(c, text, "until", t);
}
