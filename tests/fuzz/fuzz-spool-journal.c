/* SPDX-License-Identifier: MIT */
/*
 * Spool journal records: decode any bytes without reading past them; what
 * decodes is a record the encoder writes byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/spool-record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_spool_record r;
	uint8_t *copy = malloc(size ? size : 1), *again;
	char *target;
	size_t k;

	if (!copy)
		return 0;
	/* an exact-size copy, so ASan sees any read past the end */
	memcpy(copy, data, size);
	if (fg_spool_record_decode(copy, size, &r) == 0) {
		if (r.size > size || r.target_len + r.text_len + FG_SPOOL_RECORD_HEADER != r.size)
			abort();
		target = strndup(r.target, r.target_len);
		/* a target with a NUL inside cannot be re-encoded as it is: skip it */
		if (target && strlen(target) == r.target_len) {
			if (fg_spool_record_encode(r.seq, target, r.text, r.text_len, &again, &k) != 0)
				abort();
			if (memcmp(again, copy, r.size) != 0)
				abort();
			free(again);
		}
		free(target);
	}
	free(copy);
	return 0;
}
