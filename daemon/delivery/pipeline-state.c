/* SPDX-License-Identifier: MIT */
/* The buttons' alert states at start-up: from the journal's records, or moved
 * into it from the alerts.state file of older versions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/mapping.h"
#include "delivery/pipeline-internal.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/statefile.h"

#define STATE_FILE_MAX (4 * 1024 * 1024)

/*
 * The alert states: the journal's records, else (first start of this
 * version) <state_dir>/alerts.state, moved into the journal and removed
 * once the journal holding it is flushed.
 */
void pipeline_load_alert_states(struct fg_pipeline *p)
{
	const char *value;
	char *text = NULL;
	bool have = false, moved = true;
	size_t len;
	int r;

	for (size_t i = 0; i < fg_spool_n_states(p->spool); i++) {
		const char *key = fg_spool_state_key(p->spool, i);

		if (strncmp(key, "alert:", 6) != 0 ||
		    fg_spool_get_state(p->spool, key, &value, &len) < 0)
			continue;
		have = true;
		if (fg_mapping_merge(p->mapping, value, len) < 0)
			log_error("Spool: the alert state of %s cannot be read; it starts closed", key + 6);
	}
	r = fg_statefile_read(p->state_path, STATE_FILE_MAX, &text, &len);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		log_error_errno(r, "Failed to read %s, starting with every alert closed: %m",
				p->state_path);
		return;
	}
	if (!have) {
		r = fg_mapping_load(p->mapping, text, len);
		if (r < 0)
			/* alerts.state is written atomically; this is a disk fault */
			log_error_errno(r, "Failed to parse %s, starting with every alert closed: %m",
					p->state_path);
		for (size_t i = 0; r >= 0 && i < fg_mapping_n_buttons(p->mapping); i++) {
			struct fg_button_alert_state st;
			char key[FG_SPOOL_STATE_KEY_MAX + 1], *one = NULL;
			size_t n;

			fg_mapping_get(p->mapping, i, &st);
			snprintf(key, sizeof(key), "alert:%s", st.button);
			r = fg_mapping_serialize_button(p->mapping, st.button, &one, &n);
			if (r >= 0)
				r = fg_spool_stage_state(p->spool, key, one, n);
			free(one);
			moved = moved && r == 0;
		}
		if (fg_spool_commit(p->spool) < 0)
			moved = false;
	}
	free(text);
	if (!moved) {
		log_warning("Spool: %s could not be moved into the journal yet; it is read again at "
			    "the next start", p->state_path);
		return;
	}
	/* the journal holds it (and it is flushed): the old file goes */
	if (unlink(p->state_path) < 0 && errno != ENOENT)
		log_warning_errno(-errno, "Failed to remove %s: %m", p->state_path);
	else
		(void)fg_fsync_dir_of(p->state_path);
	if (!have)
		log_notice("Spool: alert states moved from %s into the journal", p->state_path);
}
