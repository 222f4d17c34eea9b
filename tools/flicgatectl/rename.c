/* SPDX-License-Identifier: MIT */
/* flicgatectl rename: name a paired button that flicgate.ini does not list. */
#include <stdio.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"

int cmd_rename(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char text[200];
	int r;

	r = ctl_call_button(c, args[0], FG_DBUS_BT_RENAME, &e, "s", args[1]);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot rename");
	snprintf(text, sizeof(text), "Renamed %s to %s.", args[0], args[1]);
	return ctl_report_done(c, text, "name", args[1]);
}
