/* SPDX-License-Identifier: MIT */
/* The press's durability across domains: the radio's event counters kept in
 * the pipeline's journal, and the journal's flush passed on to the radio. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "radio/pairing-codec.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "manager-private.h"

/*
 * A button's event counter goes into the pipeline's journal as the state
 * "counter:aabbccddeeff", beside the alerts of the events it covers: one
 * flush for both, after which the radio acknowledges (manager_journal_committed).
 */
static void counter_key(const uint8_t address[6], char ret[static 21])
{
	memcpy(ret, "counter:", 8);
	fg_hex(address, 6, ret + 8);
}

int manager_persist_counter(struct fg_buttons *bs, const uint8_t address[6],
			    const struct fg_flic2_dedup *d, void *userdata)
{
	struct fg_manager *m = userdata;
	char key[21], *text = NULL;
	size_t len;
	int r;

	counter_key(address, key);
	r = fg_pairing_format_dedup(d, &text, &len);
	if (r < 0)
		return r;
	r = fg_pipeline_stage_state(m->pipeline, key, text, len);
	free(text);
	return r;
}

int manager_load_counter(struct fg_buttons *bs, const uint8_t address[6],
			 struct fg_flic2_dedup *ret, void *userdata)
{
	struct fg_manager *m = userdata;
	const char *text;
	char key[21];
	size_t len;
	int r;

	counter_key(address, key);
	r = fg_pipeline_get_state(m->pipeline, key, &text, &len);
	if (r < 0)
		return r;
	r = fg_pairing_parse_dedup(text, len, ret);
	if (r < 0)
		log_warning_errno(r, "Journal: the event counter %s cannot be read, starting afresh: %m",
				  key);
	return r < 0 ? -ENOENT : 0;
}

/* The batch's flush is done (or failed): the radio acknowledges, or does not. */
void manager_journal_committed(struct fg_pipeline *p, int r, void *userdata)
{
	struct fg_manager *m = userdata;

	if (m->buttons)
		fg_buttons_counters_durable(m->buttons, r);
}
