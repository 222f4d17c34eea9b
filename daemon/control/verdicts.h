/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The control API's verdicts on its callers, kept per unique bus name
 * (":1.42"): a connection's credentials never change and dbus-daemon never
 * reuses a unique name, so a caller is judged once. The cache is bounded:
 * FG_VERDICT_CACHE_MAX verdicts, the least recently used one goes first.
 * Pure: daemon/control/api-creds.c asks the bus and keeps the answers here.
 */

#define FG_VERDICT_CACHE_MAX 64

struct fg_verdict {
	int error;		/* < 0: the caller's credentials could not be had */
	uid_t uid;
	bool allowed;		/* may call the methods that change something */
};

struct fg_verdict_cache {
	struct fg_verdict_entry {
		char *sender;	/* unique name, owned; NULL: unused */
		struct fg_verdict v;
		uint64_t used;	/* clock when last looked up or stored */
	} entries[FG_VERDICT_CACHE_MAX];
	uint64_t clock;
};

/*
 * The verdict on @sender, or NULL if none is kept; a hit counts as a use.
 * The pointer is valid until the next fg_verdict_cache_store().
 */
const struct fg_verdict *fg_verdict_cache_lookup(struct fg_verdict_cache *c, const char *sender);
/*
 * Keep @v for @sender (copied) in a free slot, else in place of the least
 * recently used one. -ENOMEM: nothing kept (the next call asks again).
 */
int fg_verdict_cache_store(struct fg_verdict_cache *c, const char *sender,
			   const struct fg_verdict *v);
/* Forget every verdict; the cache is empty and usable again. */
void fg_verdict_cache_clear(struct fg_verdict_cache *c);
