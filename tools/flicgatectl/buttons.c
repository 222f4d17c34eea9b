/* SPDX-License-Identifier: MIT */
/* flicgatectl buttons: the list of buttons, or one in detail. */
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-bus.h>

#include "ctl.h"

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
	json_nint(j, "rssi", b->rssi);
	json_nint(j, "battery_mv", b->battery_mv);
	json_nint(j, "firmware", b->firmware);
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
	fg_json_kv_bool(j, "keep_linked", b->keep_linked);
	fg_json_kv_bool(j, "sleeping", b->sleeping);
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
	if (bt && b->paired)
		printf("Link:        %s%s\n", b->sleeping ? "asleep (wakes when pressed)" : "linked",
		       b->keep_linked ? ", kept linked (keep_linked)" : "");
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
		table_add_nint(t, b->rssi);
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
