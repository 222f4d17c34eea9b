/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* How the sink answers a request (POST /_sink/mode, --mode). */
enum action { A_OK, A_RETRY_AFTER, A_RETRY_AFTER_DATE, A_HANG, A_SLOW, A_RESET, A_DOWN };

struct rule {
	char *path;		/* prefix; NULL: every path */
	long count;		/* < 0: unlimited */
	enum action action;
	long arg;
};

/* The rules given so far, oldest first; zero-initialised is empty. */
struct rules {
	struct rule *v;
	size_t n;
};

/* Adds the rule @spec says ("[path=/p] [count=N] MODE [ARG]"); -1 when
 * @spec is not one. */
int rules_add(struct rules *rs, const char *spec);
/* The newest rule matching @path, counted down; "ok 200" when none does. */
struct rule rules_pick(struct rules *rs, const char *path);
/* Drops every rule. */
void rules_clear(struct rules *rs);
