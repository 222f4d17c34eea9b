/* SPDX-License-Identifier: MIT */
/* The test-press window: for a while every gesture of one button (or of all)
 * is a routine test that pages nobody. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "supervision/supervision-private.h"
#include "supervision/policy.h"
#include "lib/log.h"

static void close_test_window(struct fg_supervision *s, const char *why)
{
	if (!s->test_open)
		return;
	s->test_timer = sd_event_source_disable_unref(s->test_timer);
	s->test_open = false;
	log_notice("Test-press window closed (%s)", why);
	supervision_audit(s, FG_AUDIT_TEST, s->test_button, NULL, NULL, 0, "test window closed (%s)", why);
	if (s->ops && s->ops->test_window)
		s->ops->test_window(s, false, s->userdata);
}

static int on_test_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	close_test_window(userdata, "time is up");
	return 0;
}

int fg_supervision_open_test_window(struct fg_supervision *s, uint64_t duration_usec,
				    const char *button)
{
	char d[FG_DURATION_BUF];
	int r;

	r = fg_test_window_duration(duration_usec, &duration_usec);
	if (r < 0)
		return r;
	if (button && *button && !fg_config_button_by_name(s->config, button))
		return -ENOENT;
	s->test_timer = sd_event_source_disable_unref(s->test_timer);
	r = sd_event_add_time_relative(s->event, &s->test_timer, CLOCK_MONOTONIC, duration_usec,
				       10 * FG_USEC_PER_MSEC, on_test_timer, s);
	if (r < 0)
		return r;
	s->test_open = true;
	s->test_end = fg_now_realtime() + duration_usec;
	snprintf(s->test_button, sizeof(s->test_button), "%s", button ? button : "");
	fg_format_duration(duration_usec, d, sizeof(d));
	log_notice("Test-press window open for %s: every gesture of %s is a routine test, nobody is paged",
		   d, s->test_button[0] ? s->test_button : "every button");
	supervision_audit(s, FG_AUDIT_TEST, s->test_button, NULL, NULL, 0, "test window opened for %s", d);
	return 0;
}

int fg_supervision_close_test_window(struct fg_supervision *s)
{
	if (!s->test_open)
		return -ENOENT;
	close_test_window(s, "closed on request");
	return 0;
}

bool fg_supervision_in_test_window(const struct fg_supervision *s, const char *button)
{
	return s->test_open && fg_test_window_covers(s->test_button, button);
}

bool fg_supervision_test_window(const struct fg_supervision *s, uint64_t *ret_end,
				const char **ret_button)
{
	if (ret_end)
		*ret_end = s->test_open ? s->test_end : 0;
	if (ret_button)
		*ret_button = s->test_open ? s->test_button : "";
	return s->test_open;
}
