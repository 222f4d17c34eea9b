/* SPDX-License-Identifier: MIT */
/* flicgatectl ack: silence the buzzer for what is sounding now. */
#include <stdio.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"

int cmd_ack(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int silenced = 0, r;

	r = ctl_call_gateway(c, FG_DBUS_GW_ACKNOWLEDGE, &reply, &e, NULL);
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
