/* SPDX-License-Identifier: MIT */
/* flicsink's answer rules: parsed from a mode spec, picked by path, counted down. */
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static int parse_rule(const char *spec, struct rule *ret)
{
	struct rule r = { .count = -1 };
	char *copy = strdup(spec), *save = NULL, *tok, *mode = NULL, *arg = NULL;
	int ok = -1;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (strncmp(tok, "path=", 5) == 0) {
			free(r.path);
			r.path = strdup(tok + 5);
		} else if (strncmp(tok, "count=", 6) == 0)
			r.count = strtol(tok + 6, NULL, 10);
		else if (!mode)
			mode = tok;
		else if (!arg)
			arg = tok;
		else
			goto out;
	}
	if (!mode)
		goto out;
	r.arg = arg ? strtol(arg, NULL, 10) : 0;
	if (strcmp(mode, "ok") == 0 || strcmp(mode, "status") == 0) {
		r.action = A_OK;
		if (!arg)
			r.arg = 200;
		if (r.arg < 100 || r.arg > 599)
			goto out;
	} else if (strcmp(mode, "retry-after") == 0)
		r.action = A_RETRY_AFTER;
	else if (strcmp(mode, "retry-after-date") == 0)
		r.action = A_RETRY_AFTER_DATE;
	else if (strcmp(mode, "hang") == 0)
		r.action = A_HANG;
	else if (strcmp(mode, "slow") == 0)
		r.action = A_SLOW;
	else if (strcmp(mode, "reset") == 0)
		r.action = A_RESET;
	else if (strcmp(mode, "down") == 0)
		r.action = A_DOWN;
	else
		goto out;
	ok = 0;
out:
	free(copy);
	if (ok < 0)
		free(r.path);
	else
		*ret = r;
	return ok;
}

void rules_clear(struct rules *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].path);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

int rules_add(struct rules *rs, const char *spec)
{
	struct rule r, *n;

	if (parse_rule(spec, &r) < 0)
		return -1;
	n = realloc(rs->v, (rs->n + 1) * sizeof(*n));
	if (!n)
		abort();
	rs->v = n;
	rs->v[rs->n++] = r;
	return 0;
}

struct rule rules_pick(struct rules *rs, const char *path)
{
	for (size_t i = rs->n; i-- > 0;) {
		struct rule *r = &rs->v[i];

		if (r->count == 0)
			continue;
		if (r->path && strncmp(path, r->path, strlen(r->path)) != 0)
			continue;
		if (r->count > 0)
			r->count--;
		return *r;
	}
	return (struct rule){ .action = A_OK, .arg = 200, .count = -1 };
}
