/* SPDX-License-Identifier: MIT */
/* Spool records and the alert-state file: parse anything; what parses re-serializes to a fixed point. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/alert.h"
#include "delivery/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_alert a = {}, b = {};
	struct fg_mapping *m;
	char *t1, *t2;
	size_t l1, l2;

	if (fg_alert_parse((const char *)data, size, &a) == 0) {
		if (fg_alert_serialize(&a, &t1, &l1) != 0)
			abort();
		if (fg_alert_parse(t1, l1, &b) != 0)
			abort();
		if (fg_alert_serialize(&b, &t2, &l2) != 0 || l1 != l2 || memcmp(t1, t2, l1) != 0)
			abort();
		free(t1);
		free(t2);
		fg_alert_clear(&a);
		fg_alert_clear(&b);
	}
	m = fg_mapping_new();
	if (m && fg_mapping_load(m, (const char *)data, size) == 0) {
		struct fg_mapping *m2 = fg_mapping_new();

		if (fg_mapping_serialize(m, &t1, &l1) != 0 || !m2 || fg_mapping_load(m2, t1, l1) != 0)
			abort();
		if (fg_mapping_serialize(m2, &t2, &l2) != 0 || l1 != l2 || memcmp(t1, t2, l1) != 0)
			abort();
		free(t1);
		free(t2);
		fg_mapping_free(m2);
	}
	fg_mapping_free(m);
	return 0;
}
