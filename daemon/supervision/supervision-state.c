/* SPDX-License-Identifier: MIT */
/* <state_dir>/health.state: the alarms core's text and supervision's own
 * per-button lines, written atomically, coalesced, restored at start. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "supervision/supervision-private.h"
#include "lib/fileio.h"
#include "lib/statefile.h"
#include "lib/log.h"
#include "lib/strbuf.h"

/*
 * health.state is the alarms core's text, then one line per button for
 * what only we keep: "extra NAME rssi N|- firmware N last_test N". The
 * core's reader skips lines it does not know, so both share the file.
 */
int supervision_save_state(struct fg_supervision *s)
{
	struct fg_strbuf f = {};
	char *core = NULL, *text = NULL;
	size_t core_len, len = 0;
	int r;

	s->dirty = false;
	r = fg_alarms_serialize(s->alarms, supervision_now(s), fg_now_realtime(), &core, &core_len);
	if (r < 0)
		return r;
	fg_strbuf_putn(&f, core, core_len);
	free(core);
	for (size_t i = 0; i < s->n_extras; i++) {
		const struct extra *x = &s->extras[i];

		fg_strbuf_printf(&f, "extra %s rssi ", x->name);
		if (x->has_rssi)
			fg_strbuf_printf(&f, "%d", x->rssi);
		else
			fg_strbuf_puts(&f, "-");
		fg_strbuf_printf(&f, " firmware %" PRIu32 " last_test %" PRIu64 "\n", x->firmware,
				 x->last_test);
	}
	r = fg_strbuf_steal(&f, &text, &len);
	if (r < 0)
		return r;
	r = fg_statefile_write(s->state_path, text, len, 0600);
	free(text);
	return r;
}

static int on_save(sd_event_source *src, void *userdata)
{
	struct fg_supervision *s = userdata;
	int r;

	s->seen_save = sd_event_source_disable_unref(s->seen_save);
	r = supervision_save_state(s);
	if (r < 0)
		log_error_errno(r, "Failed to save %s (button supervision): %m", s->state_path);
	return 0;
}

static int on_seen_save(sd_event_source *src, uint64_t usec, void *userdata)
{
	return on_save(src, userdata);
}

/* Alarms and battery readings: saved on the next idle loop iteration. */
void supervision_mark_dirty(struct fg_supervision *s)
{
	s->dirty = true;
	if (sd_event_source_set_enabled(s->save, SD_EVENT_ONESHOT) < 0)
		(void)on_save(s->save, s);
}

/* Last-seen times alone: saved within SUPERVISION_SEEN_SAVE. */
void supervision_mark_seen_dirty(struct fg_supervision *s)
{
	s->dirty = true;
	if (s->seen_save)
		return;
	if (sd_event_add_time_relative(s->event, &s->seen_save, CLOCK_MONOTONIC, SUPERVISION_SEEN_SAVE,
				       FG_USEC_PER_SEC, on_seen_save, s) < 0)
		supervision_mark_dirty(s);
}

static void restore_extras(struct fg_supervision *s, const char *text)
{
	const char *p = text;

	while (p && *p) {
		char name[128], rssi[16];
		unsigned long long test;
		unsigned fw;

		if (sscanf(p, "extra %127s rssi %15s firmware %u last_test %llu", name, rssi, &fw,
			   &test) == 4) {
			struct extra *x = supervision_find_extra(s, name);

			if (x) {
				char *end;
				long v = strtol(rssi, &end, 10);

				x->has_rssi = *end == '\0' && end != rssi && v >= -127 && v <= 20;
				x->rssi = x->has_rssi ? (int)v : 0;
				x->firmware = fw;
				x->last_test = test;
			}
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

void supervision_restore(struct fg_supervision *s)
{
	char *text = NULL;
	size_t len;
	int r;

	r = fg_statefile_read(s->state_path, STATE_MAX, &text, &len);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		log_error_errno(r, "Failed to read %s, button supervision starts afresh: %m", s->state_path);
		return;
	}
	r = fg_alarms_restore(s->alarms, text, len, supervision_now(s), fg_now_realtime());
	if (r < 0)
		log_error_errno(r, "Failed to parse %s, button supervision starts afresh: %m",
				s->state_path);
	else
		restore_extras(s, text);
	free(text);
}

int supervision_state_init(struct fg_supervision *s)
{
	int r;

	r = sd_event_add_defer(s->event, &s->save, on_save, s);
	if (r >= 0)
		r = sd_event_source_set_priority(s->save, SD_EVENT_PRIORITY_IDLE);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->save, SD_EVENT_OFF);
	return r;
}
