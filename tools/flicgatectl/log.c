/* SPDX-License-Identifier: MIT */
/*
 * flicgatectl log: the recent delivery attempts, or with --since the audit
 * trail as a table, JSON or CSV.
 */
#include <stdio.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "lib/timeutil.h"
#include "control/flicgate-dbus.h"

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
	r = ctl_call_gateway(c, FG_DBUS_GW_EXPORT_AUDIT, &reply, &e, "ttu", c->since_usec, c->until_usec,
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
			/* machine-readable: RFC 3339 UTC, whatever the local zone */
			printf("%s,", time ? fg_format_rfc3339(time, buf, sizeof(buf)) : "never");
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

/* ---- log: the recent deliveries ------------------------------------------------- */

struct delivery {
	uint64_t time;
	const char *alert_id, *button, *target, *state, *result, *error;
	int test;
	int32_t http_status;
	uint64_t latency;
	uint32_t attempt;
};

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
	r = ctl_call_gateway(c, FG_DBUS_GW_RECENT_DELIVERIES, &reply, &e, "u", c->lines);
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
			json_nint(j, "http_status", d.http_status);
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
		table_add_nint(t, d.http_status);
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
