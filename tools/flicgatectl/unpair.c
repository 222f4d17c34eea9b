/* SPDX-License-Identifier: MIT */
/* flicgatectl unpair: forget a button's pairing. */
#include <stdio.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"

int cmd_unpair(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char text[200];
	int r;

	r = ctl_call_button(c, args[0], FG_DBUS_BT_UNPAIR, &e, NULL, NULL);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot unpair");
	snprintf(text, sizeof(text), "Unpaired %s: pair it again to use it.", args[0]);
	return ctl_report_done(c, text, "button", args[0]);
}
