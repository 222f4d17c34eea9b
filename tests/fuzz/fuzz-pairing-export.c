/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "radio/flic2-crypto.h"
#include "radio/pairing-export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The pairing export parser on any bytes. The digest rejects nearly all
 * of them, so half of the inputs are sealed with a correct digest first:
 * that lets the fuzzer reach the block structure. Whatever parses must
 * format again, and format -> parse must give the same entries.
 */
static char *seal(const uint8_t *data, size_t size, size_t *ret_len)
{
	static const char header[] = "flicgate-pairings 1\n";
	uint8_t d[FG_CRYPTO_SHA256_LEN];
	size_t hl = strlen(header), len = hl + size;
	char *doc = malloc(len + 12 + 2 * sizeof(d) + 1);

	if (!doc)
		abort();
	memcpy(doc, header, hl);
	memcpy(doc + hl, data, size);
	if (fg_crypto_sha256(doc, len, d) < 0)
		abort();
	memcpy(doc + len, "--- sha256 ", 11);
	len += 11;
	for (size_t i = 0; i < sizeof(d); i++) {
		static const char hex[] = "0123456789abcdef";

		doc[len++] = hex[d[i] >> 4];
		doc[len++] = hex[d[i] & 15];
	}
	doc[len++] = '\n';
	*ret_len = len;
	return doc;
}

static bool same(const struct fg_pairing_export_entry *a, const struct fg_pairing_export_entry *b)
{
	return memcmp(&a->rec.address, &b->rec.address, 6) == 0 && a->rec.pairing_id == b->rec.pairing_id &&
	       memcmp(a->rec.pairing_key, b->rec.pairing_key, 16) == 0 &&
	       strcmp(a->rec.serial, b->rec.serial) == 0 && strcmp(a->rec.name, b->rec.name) == 0 &&
	       a->dedup.valid == b->dedup.valid && a->dedup.event_count == b->dedup.event_count &&
	       a->dedup.boot_id == b->dedup.boot_id && strcmp(a->name, b->name) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_pairing_export_entry *e = NULL, *f = NULL;
	struct fg_pairing_export_error err = { 0 };
	size_t n = 0, m = 0, len, tl;
	char *doc, *text;

	if (size > 65536 || size < 1)
		return 0;
	if (data[0] & 1) {
		doc = seal(data + 1, size - 1, &len);
	} else {
		doc = malloc(size);
		if (!doc)
			abort();
		memcpy(doc, data + 1, size - 1);
		len = size - 1;
	}
	if (fg_pairing_export_parse(doc, len, &err, &e, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (e[i].name[0] && !fg_pairing_name_is_valid(e[i].name))
				abort();
		if (fg_pairing_export_format(e, n, &text, &tl) < 0)
			abort();
		if (fg_pairing_export_parse(text, tl, &err, &f, &m) < 0 || m != n)
			abort();
		/* the document is sorted by address; find each entry again */
		for (size_t i = 0; i < n; i++) {
			bool found = false;

			for (size_t j = 0; j < m && !found; j++)
				found = same(&e[i], &f[j]);
			if (!found)
				abort();
		}
		free(text);
		free(f);
		free(e);
	} else if (err.what[0] == '\0') {
		abort();	/* every refusal says why */
	}
	free(doc);
	return 0;
}
