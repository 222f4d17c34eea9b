/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "radio/pairing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The pairing store's file parsers on any text: whatever parses must be
 * something the engine could have produced, and format -> parse must give
 * it back unchanged.
 */
static bool same(const struct fg_flic2_pairing *a, const struct fg_flic2_pairing *b)
{
	return memcmp(a->address, b->address, 6) == 0 && a->pairing_id == b->pairing_id &&
	       memcmp(a->pairing_key, b->pairing_key, 16) == 0 &&
	       memcmp(a->uuid, b->uuid, 16) == 0 && strcmp(a->serial, b->serial) == 0 &&
	       strcmp(a->name, b->name) == 0 && a->firmware_version == b->firmware_version &&
	       a->battery_mv == b->battery_mv &&
	       memcmp(a->identity_key, b->identity_key, 32) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_flic2_pairing p, q;
	struct fg_flic2_dedup d, e;
	char *text;
	size_t len;

	if (size > 8192)
		return 0;
	if (fg_pairing_parse((const char *)data, size, &p) == 0) {
		if (!fg_flic2_name_is_valid(p.name) || !fg_flic2_serial_is_valid(p.serial))
			abort();
		if (fg_pairing_format(&p, &text, &len) < 0)
			abort();
		if (fg_pairing_parse(text, len, &q) < 0 || !same(&p, &q))
			abort();
		free(text);
	}
	if (fg_pairing_parse_dedup((const char *)data, size, &d) == 0) {
		if (!d.valid || fg_pairing_format_dedup(&d, &text, &len) < 0)
			abort();
		if (fg_pairing_parse_dedup(text, len, &e) < 0 || e.valid != d.valid ||
		    e.boot_id != d.boot_id || e.event_count != d.event_count)
			abort();
		free(text);
	}
	return 0;
}
