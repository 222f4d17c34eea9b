/* SPDX-License-Identifier: MIT */
/*
 * Whatever bytes a button, a target or a config file hand to flicgatectl's
 * JSON writer, the result is one well-formed JSON string in valid UTF-8.
 * The checker below is written independently of the writer's own decoder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

/* Code point of the UTF-8 sequence at @s, its length in *n; -1 if invalid. */
static long decode(const unsigned char *s, size_t left, size_t *n)
{
	long cp;
	size_t len;

	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return -1;
	if (left < len)
		return -1;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* shortest form only, no surrogates, nothing past U+10FFFF */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return -1;
	*n = len;
	return cp;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0, i, n;
	FILE *f = open_memstream(&out, &len);
	const unsigned char *s;

	if (!f)
		return 0;
	fg_json_write_string(f, (const char *)data, size);
	fclose(f);
	s = (const unsigned char *)out;
	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		abort();
	for (i = 1; i < len - 1; i += n) {
		if (s[i] == '"' || s[i] < 0x20)
			abort();
		if (s[i] == '\\') {
			if (i + 1 >= len - 1 || !strchr("\"\\/bfnrtu", s[i + 1]))
				abort();
			n = s[i + 1] == 'u' ? 6 : 2;
			if (i + n > len - 1)
				abort();
			continue;
		}
		if (decode(s + i, len - 1 - i, &n) < 0)
			abort();
	}
	free(out);
	return 0;
}
