/* SPDX-License-Identifier: MIT */
/*
 * flicgatectl pair: opens a pairing window and follows its PairingProgress
 * signals to the end; Ctrl-C closes the window.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"
#include "lib/timeutil.h"

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
	(void)ctl_call_gateway(p->c, FG_DBUS_GW_CLOSE_PAIRING, NULL, &e, NULL);
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

	r = ctl_call_gateway(c, FG_DBUS_GW_OPEN_PAIRING, NULL, &e, "us", c->timeout_sec,
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
