/* SPDX-License-Identifier: MIT */
#pragma once

/* What the delivery benchmarks share: CHECK() and their configuration. */

/* Benchmarks are not tests, but a broken run must not print numbers. */
#define CHECK(x)								\
	do {									\
		if (!(x)) {							\
			fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #x); \
			exit(1);						\
		}								\
	} while (0)

/*
 * The benchmarks' configuration: one AlertOps target at @url with its rate
 * limit lifted, @buttons buttons b0.. with serials <@serial_prefix>00000..
 * (click On, double click Off). Exits on a parse error; the caller owns
 * the result (fg_config_unref).
 */
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"

static inline struct fg_config *bench_config(const char *state_dir, const char *url,
					     unsigned buttons, const char *serial_prefix)
{
	struct fg_config_errors errors = {};
	struct fg_config *c = NULL;
	char *ini = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&ini, &len);

	if (!f)
		exit(1);
	fprintf(f, "[gateway]\nname = bench\nstate_dir = %s\nspool_max = 100000\nlog_level = err\n"
		   "[webhook main]\npreset = alertops\nurl = %s/alertops\nrate_limit = 100000/s\n",
		state_dir, url);
	for (unsigned b = 0; b < buttons; b++)
		fprintf(f, "[button b%u]\nserial = %s%05u\non = click\noff = double_click\n"
			   "info = Room %u\n", b, serial_prefix, b, b);
	fclose(f);
	if (fg_config_parse("bench.ini", ini, len, &errors, &c) < 0) {
		for (size_t i = 0; i < errors.n; i++)
			fprintf(stderr, "%s\n", errors.messages[i]);
		exit(1);
	}
	free(ini);
	return c;
}
