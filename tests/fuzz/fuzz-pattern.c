/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feedback/pattern.h"
#include "lib/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The pattern and pattern-set parsers on any text. Whatever parses must
 * print back to text that parses to the same pattern, and sampling it must
 * keep its promises: the next change is in the future and the level holds
 * until then.
 */
static void check_pattern(const struct fg_pattern *p)
{
	char buf[FG_PATTERN_BUF];
	struct fg_pattern q;
	struct fg_pattern_sample a, b;
	uint64_t start = 1000, now = start;

	fg_pattern_format(p, buf, sizeof(buf));
	if (fg_pattern_parse(buf, &q, NULL, 0) < 0 || !fg_pattern_equal(p, &q))
		abort();
	for (int i = 0; i < 64; i++) {
		fg_pattern_sample(p, start, now, &a);
		if (!a.active || a.next_usec == FG_USEC_INFINITY)
			break;
		if (a.next_usec <= now)
			abort();
		fg_pattern_sample(p, start, a.next_usec - 1, &b);
		if (!b.active || b.level != a.level || b.next_usec != a.next_usec)
			abort();
		now = a.next_usec;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_pattern_set set;
	struct fg_pattern p;
	char err[200];
	char *s;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (fg_pattern_parse(s, &p, err, sizeof(err)) == 0)
		check_pattern(&p);
	else if (err[0] == '\0')
		abort();	/* every error says what is wrong */

	if (fg_pattern_set_parse(s, &set, err, sizeof(err)) == 0) {
		char buf[FG_PATTERN_SET_BUF];
		struct fg_pattern_set again;

		fg_pattern_set_format(&set, buf, sizeof(buf));
		if (fg_pattern_set_parse(buf, &again, NULL, 0) < 0)
			abort();
		for (int o = 0; o < _FG_OUTPUT_MAX; o++) {
			if (set.has[o] != again.has[o])
				abort();
			if (set.has[o]) {
				if (!fg_pattern_equal(&set.pattern[o], &again.pattern[o]))
					abort();
				check_pattern(&set.pattern[o]);
			}
		}
	}
	free(s);
	return 0;
}
