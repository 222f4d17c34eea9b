/* SPDX-License-Identifier: MIT */
/* flicgatectl status: the gateway, its adapter, buttons, alerts and targets. */
#include <stdio.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "lib/strv.h"

/* What a fresh install most often lacks; the daemon logs the same at start. */
static size_t status_warnings(const struct gateway_info *g, const char *ret[2])
{
	size_t n = 0;

	if (gateway_has_feature(g, "delivery") && g->n_targets == 0)
		ret[n++] = "no [webhook] target configured: alerts and tests reach nobody";
	if (g->buttons == 0)
		ret[n++] = "no button: list each one as [button NAME] and pair it (flicgatectl pair --name NAME)";
	return n;
}

/* The link budget: used, budget, asleep, and per button (NULL list: not readable). */
static void links_json(const struct gateway_info *g, const struct button_info *list, size_t n,
		       struct fg_json *j)
{
	bool bt = gateway_has_feature(g, "bluetooth");

	fg_json_key(j, "links_used");
	bt ? fg_json_uint(j, g->links_used) : fg_json_null(j);
	fg_json_key(j, "link_budget");
	bt ? fg_json_uint(j, g->link_budget) : fg_json_null(j);
	fg_json_key(j, "sleeping_buttons");
	bt ? fg_json_uint(j, g->sleeping_buttons) : fg_json_null(j);
	fg_json_key(j, "button_links");
	fg_json_begin_array(j);
	for (size_t i = 0; list && i < n; i++) {
		fg_json_begin_object(j);
		fg_json_kv_string(j, "name", list[i].name);
		fg_json_kv_bool(j, "connected", list[i].connected);
		fg_json_kv_bool(j, "keep_linked", list[i].keep_linked);
		fg_json_kv_bool(j, "sleeping", list[i].sleeping);
		fg_json_end_object(j);
	}
	fg_json_end_array(j);
}

static void status_json(struct ctl *c, const struct gateway_info *g, const struct button_info *list,
			size_t n, struct fg_json *j)
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
	links_json(g, list, n, j);
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
			json_nint(j, "last_status", t->last_status);
			json_nstring(j, "last_error", t->last_error);
			fg_json_end_object(j);
		}
		fg_json_end_array(j);
		fg_json_end_object(j);
	} else
		fg_json_null(j);
	{
		const char *w[2];
		size_t nw = status_warnings(g, w);

		fg_json_key(j, "warnings");
		fg_json_begin_array(j);
		for (size_t i = 0; i < nw; i++)
			fg_json_string(j, w[i]);
		fg_json_end_array(j);
	}
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
	if (bt) {
		printf("Buttons:    %u known, %u connected\n", g->buttons, g->connected);
		printf("Links:      %u used of %u (1 kept free), %u button%s asleep\n", g->links_used,
		       g->link_budget, g->sleeping_buttons, g->sleeping_buttons == 1 ? "" : "s");
	} else
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
		table_add_nint(tb, x->last_status);
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
		struct button_info *list = NULL;
		size_t count = 0;

		/* per button: keep_linked, sleeping; without them the rest still answers */
		if (buttons_list(c->bus, &list, &count, &e) < 0) {
			sd_bus_error_free(&e);
			list = NULL;
			count = 0;
		}
		status_json(c, &g, list, count, j);
		buttons_free(list, count);
		r = ctl_json_end(c, j);
	} else {
		const char *w[2];
		size_t nw = status_warnings(&g, w);

		status_text(&g);
		for (size_t i = 0; i < nw; i++)
			printf("Warning:    %s\n", w[i]);
		r = EXIT_OK;
	}
	gateway_info_clear(&g);
	return r;
}
