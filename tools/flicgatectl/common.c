/* SPDX-License-Identifier: MIT */
/*
 * What the commands share: reporting a failure (text or JSON), the JSON
 * writer, calls on the Manager and on a Button, the one-line "done" reply.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"

static void json_error(struct ctl *c, const char *name, const char *message)
{
	struct fg_json *j;

	if (!c->json)
		return;
	j = ctl_json_begin(c);
	fg_json_begin_object(j);
	fg_json_key(j, "error");
	fg_json_begin_object(j);
	fg_json_kv_string(j, "name", name);
	fg_json_kv_string(j, "message", message);
	fg_json_end_object(j);
	fg_json_end_object(j);
	ctl_json_end(c, j);
}

int ctl_fail(struct ctl *c, int exit_code, const char *fmt, ...)
{
	static const char *const names[] = {
		[EXIT_FAILURE_] = "failed",
		[EXIT_USAGE] = "usage",
		[EXIT_NOT_RUNNING] = "not-running",
		[EXIT_NOT_AUTHORIZED] = "not-authorized",
		[EXIT_UNKNOWN_BUTTON] = "unknown-button",
		[EXIT_NOT_AVAILABLE] = "not-available",
		[EXIT_NOT_PAIRED] = "not-paired",
	};
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "flicgatectl: %s\n", msg);
	json_error(c, exit_code > 0 && exit_code <= EXIT_NOT_PAIRED ? names[exit_code] : "failed", msg);
	return exit_code;
}

static bool error_is(const sd_bus_error *e, const char *name)
{
	return sd_bus_error_has_name(e, name);
}

int ctl_bus_error(struct ctl *c, sd_bus_error *e, int r, const char *what)
{
	int code = EXIT_FAILURE_;
	char msg[1200];

	if (!sd_bus_error_is_set(e)) {
		snprintf(msg, sizeof(msg), "%s: %s", what, strerror(r < 0 ? -r : EIO));
		fprintf(stderr, "flicgatectl: %s\n", msg);
		json_error(c, "failed", msg);
		return EXIT_FAILURE_;
	}
	if (error_is(e, SD_BUS_ERROR_SERVICE_UNKNOWN) || error_is(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
		snprintf(msg, sizeof(msg), "flicgated is not running (nobody owns %s on the %s)",
			 FG_DBUS_NAME, c->bus_desc);
		code = EXIT_NOT_RUNNING;
	} else if (error_is(e, SD_BUS_ERROR_ACCESS_DENIED)) {
		/* dbus-daemon's own text is a long dump of the policy match */
		snprintf(msg, sizeof(msg), "%s: not authorised, the bus refused the call; run as root or as a member of group '%s'",
			 what, FG_DBUS_OPERATOR_GROUP);
		code = EXIT_NOT_AUTHORIZED;
	} else if (error_is(e, FG_DBUS_ERROR_NOT_AUTHORIZED)) {
		snprintf(msg, sizeof(msg), "%s: not authorised: %s", what, e->message ? e->message : e->name);
		code = EXIT_NOT_AUTHORIZED;
	} else {
		if (error_is(e, FG_DBUS_ERROR_UNKNOWN_BUTTON) || error_is(e, FG_DBUS_ERROR_UNKNOWN_TARGET))
			code = EXIT_UNKNOWN_BUTTON;
		else if (error_is(e, FG_DBUS_ERROR_NOT_AVAILABLE))
			code = EXIT_NOT_AVAILABLE;
		else if (error_is(e, FG_DBUS_ERROR_INVALID_ARGUMENT))
			code = EXIT_USAGE;
		snprintf(msg, sizeof(msg), "%s", e->message ? e->message : e->name);
	}
	fprintf(stderr, "flicgatectl: %s\n", msg);
	json_error(c, e->name, msg);
	sd_bus_error_free(e);
	return code;
}

struct fg_json *ctl_json_begin(struct ctl *c)
{
	struct fg_json *j;

	if (fg_json_new(stdout, c->json_pretty ? FG_JSON_PRETTY : 0, &j) < 0) {
		fputs("flicgatectl: out of memory\n", stderr);
		exit(EXIT_FAILURE_);
	}
	return j;
}

int ctl_json_end(struct ctl *c, struct fg_json *j)
{
	int r = fg_json_finish(j);

	fg_json_free(j);
	if (r < 0) {
		fprintf(stderr, "flicgatectl: cannot write JSON: %s\n", strerror(-r));
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}

/* ---- calls ------------------------------------------------------------------- */

int ctl_call_gateway(struct ctl *c, const char *member, sd_bus_message **ret_reply,
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

int ctl_report_done(struct ctl *c, const char *text, const char *key, const char *value)
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

int ctl_call_button(struct ctl *c, const char *query, const char *member, sd_bus_error *e,
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
