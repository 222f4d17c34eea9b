/* SPDX-License-Identifier: MIT */
/* flicsink --alertops: the incident list AlertOps keeps, driven by webhook bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertops.h"

/* The string value of "key" in a flat JSON object, unescaped simply. */
static char *json_get(const char *body, const char *key)
{
	char pat[64], *out, *o;
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(body, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p != '"')
		return NULL;
	p++;
	out = o = malloc(strlen(p) + 1);
	if (!out)
		abort();
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			*o++ = *p == 'n' ? ' ' : *p;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

const char *alertops_handle(struct alertops *a, const char *body, char *buf, size_t size)
{
	char *name = json_get(body, "flic_nameId"), *state = json_get(body, "flic_state");
	char *info = json_get(body, "info");
	struct incident *in = NULL;
	const char *what;

	if (!name || !state) {
		snprintf(buf, size, "{\"status\":\"Ignored\",\"reason\":\"no flic_nameId/flic_state\"}");
		goto out;
	}
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, name) == 0)
			in = &a->v[i];
	if (strcmp(state, "On") == 0) {
		if (in && in->open) {
			in->appended++;
			what = "Mapped Appended";
		} else {
			if (!in) {
				struct incident *n = realloc(a->v, (a->n + 1) * sizeof(*n));

				if (!n)
					abort();
				a->v = n;
				in = &n[a->n++];
				memset(in, 0, sizeof(*in));
				in->name = strdup(name);
			}
			in->open = true;
			in->appended = 0;
			in->number = ++a->next;
			free(in->info);
			in->info = strdup(info ? info : "");
			what = "Mapped Opened";
		}
	} else if (strcmp(state, "Off") == 0) {
		if (in && in->open) {
			in->open = false;
			what = "Mapped Closed";
		} else {
			what = "Mapped Ignored (no open incident)";
		}
	} else {
		what = "Unmapped";
	}
	if (a->out) {
		fprintf(a->out, "alertops: %-34s %s%s%u  %s%s%s\n", what,
			in ? "incident #" : "", in ? "" : "-", in ? in->number : 0, name,
			info && *info ? " - " : "", info ? info : "");
		fflush(a->out);
	}
	snprintf(buf, size, "{\"status\":\"%s\",\"incident\":%u}", what, in ? in->number : 0);
out:
	free(name);
	free(state);
	free(info);
	return buf;
}

void alertops_list(const struct alertops *a, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->n && off < size; i++) {
		const struct incident *in = &a->v[i];
		int n = snprintf(buf + off, size - off, "#%u %-6s %s (appended %u) %s\n", in->number,
				 in->open ? "OPEN" : "CLOSED", in->name, in->appended, in->info);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

void alertops_clear(struct alertops *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].info);
	}
	free(a->v);
	a->v = NULL;
	a->n = 0;
}
