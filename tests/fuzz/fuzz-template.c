/* SPDX-License-Identifier: MIT */
/* Any template: validation never crashes; a valid one renders, and a valid JSON-looking one renders to JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *tpl = malloc(size + 1), *msg = NULL, *out = NULL;
	size_t len;

	if (!tpl)
		return 0;
	memcpy(tpl, data, size);
	tpl[size] = '\0';
	if (fg_template_validate(tpl, &msg) == 0) {
		size_t i = strspn(tpl, " \t\r\n");

		if (fg_template_render(tpl, fg_template_sample_alert(), &out, &len) != 0)
			abort();
		if ((tpl[i] == '{' || tpl[i] == '[') && !fg_json_is_valid(out, len))
			abort();
		free(out);
	}
	free(msg);
	(void)fg_json_is_valid((const char *)data, size);
	free(tpl);
	return 0;
}
