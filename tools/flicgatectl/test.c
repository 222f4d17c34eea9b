/* SPDX-License-Identifier: MIT */
/* flicgatectl test: queue a test alert, marked as a test. */
#include <stdio.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"

int cmd_test(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *button = n > 0 ? args[0] : "";
	char text[300];
	int r;

	r = ctl_call_gateway(c, FG_DBUS_GW_TEST_ALERT, NULL, &e, "ss", button, c->target ? c->target : "");
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot send a test alert");
	snprintf(text, sizeof(text), "Test alert queued%s%s%s%s; 'flicgatectl log' shows its delivery.",
		 button[0] ? " for " : "", button, c->target ? " to " : "", c->target ? c->target : "");
	return ctl_report_done(c, text, NULL, NULL);
}
