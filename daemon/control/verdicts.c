/* SPDX-License-Identifier: MIT */
/* The control API's bounded, least-recently-used cache of verdicts on its
 * callers, by unique bus name (verdicts.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/verdicts.h"

const struct fg_verdict *fg_verdict_cache_lookup(struct fg_verdict_cache *c, const char *sender)
{
	for (size_t i = 0; i < FG_VERDICT_CACHE_MAX; i++) {
		struct fg_verdict_entry *e = &c->entries[i];

		if (e->sender && strcmp(e->sender, sender) == 0) {
			e->used = ++c->clock;
			return &e->v;
		}
	}
	return NULL;
}

int fg_verdict_cache_store(struct fg_verdict_cache *c, const char *sender,
			   const struct fg_verdict *v)
{
	struct fg_verdict_entry *oldest = &c->entries[0];
	char *copy = strdup(sender);

	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < FG_VERDICT_CACHE_MAX; i++) {
		struct fg_verdict_entry *e = &c->entries[i];

		if (!e->sender) {
			oldest = e;
			break;
		}
		if (e->used < oldest->used)
			oldest = e;
	}
	free(oldest->sender);
	*oldest = (struct fg_verdict_entry){ .sender = copy, .v = *v, .used = ++c->clock };
	return 0;
}

void fg_verdict_cache_clear(struct fg_verdict_cache *c)
{
	for (size_t i = 0; i < FG_VERDICT_CACHE_MAX; i++)
		free(c->entries[i].sender);
	*c = (struct fg_verdict_cache){ 0 };
}
