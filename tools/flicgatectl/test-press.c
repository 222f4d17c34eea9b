/* SPDX-License-Identifier: MIT */
/* flicgatectl test-press: a window in which presses are routine tests. */
#include <stdio.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"
#include "lib/timeutil.h"

int cmd_test_press(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *button = n > 0 ? args[0] : "";
	struct gateway_info g;
	char text[300], t[64];
	int r;

	if (c->close) {
		if (n > 0 || c->timeout_sec)
			return ctl_fail(c, EXIT_USAGE, "--close takes no BUTTON and no --timeout");
		r = ctl_call_gateway(c, FG_DBUS_GW_CLOSE_TEST_WINDOW, NULL, &e, NULL);
		if (r < 0)
			return ctl_bus_error(c, &e, r, "Cannot close the test window");
		return ctl_report_done(c, "Test window closed: presses page again.", NULL, NULL);
	}
	r = ctl_call_gateway(c, FG_DBUS_GW_OPEN_TEST_WINDOW, NULL, &e, "ts",
			 (uint64_t)c->timeout_sec * FG_USEC_PER_SEC, button);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot open a test window");
	snprintf(t, sizeof(t), "its end");
	if (gateway_info_get(c->bus, &g, &e) >= 0) {
		if (g.test_window_open)
			fmt_time(g.test_window_end, t, sizeof(t));
		gateway_info_clear(&g);
	}
	sd_bus_error_free(&e);
	snprintf(text, sizeof(text),
		 "Test window open until %s: presses of %s are recorded as routine tests and page nobody.\n"
		 "'flicgatectl log --since 1h ago' shows them; 'flicgatectl test-press --close' ends it early.",
		 t, button[0] ? button : "every button");
	return ctl_report_done(c, text, "until", t);
}
