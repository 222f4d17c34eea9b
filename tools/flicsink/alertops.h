/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct incident {
	char *name;
	unsigned number;
	bool open;
	unsigned appended;
	char *info;
};

/*
 * The incident list AlertOps keeps for the Flic integration: On opens an
 * incident, On while open is "Mapped Appended", Off closes it. Zero-
 * initialised is empty; @out (may be NULL) gets a line per change and is
 * the caller's.
 */
struct alertops {
	struct incident *v;
	size_t n;
	unsigned next;
	FILE *out;
};

/* Applies a webhook @body; the JSON answer, written to @buf. */
const char *alertops_handle(struct alertops *a, const char *body, char *buf, size_t size);
/* The incidents as text, one a line, into @buf. */
void alertops_list(const struct alertops *a, char *buf, size_t size);
/* Frees the incidents (not @out). */
void alertops_clear(struct alertops *a);
