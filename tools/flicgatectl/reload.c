/* SPDX-License-Identifier: MIT */
/* flicgatectl reload: have flicgated re-read flicgate.ini. */
#include <systemd/sd-bus.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"

int cmd_reload(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = ctl_call_gateway(c, FG_DBUS_GW_RELOAD, NULL, &e, NULL);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot reload");
	return ctl_report_done(c, "Configuration reloaded.", NULL, NULL);
}
