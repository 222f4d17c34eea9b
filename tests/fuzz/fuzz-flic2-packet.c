/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "radio/chaskey.h"
#include "radio/flic2-adv.h"
#include "radio/flic2-packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The packet parsers, both directions, on any bytes. Whatever decodes must
 * encode, and decoding that encoding must encode to the same bytes (a
 * canonical form); nothing may read outside the input (ASan). The same
 * bytes also go through the advertisement parser and, as a check of two
 * computation paths, the Flic 2 MAC against the textbook Chaskey-LTS MAC
 * of counter || direction || 0 || data.
 */
static void check_rx(const uint8_t *data, size_t size)
{
	struct fg_flic2_rx a, b;
	uint8_t buf1[FG_FLIC2_MAX_PACKET], buf2[FG_FLIC2_MAX_PACKET];
	int len1, len2;

	if (fg_flic2_decode_rx(data, size, &a) < 0)
		return;
	if (a.trailing > size || a.opcode != data[0])
		abort();
	len1 = fg_flic2_encode_rx(&a, buf1, sizeof(buf1));
	if (len1 <= 0 || (size_t)len1 > size - a.trailing)
		abort();
	if (fg_flic2_decode_rx(buf1, (size_t)len1, &b) < 0 || b.trailing != 0)
		abort();
	len2 = fg_flic2_encode_rx(&b, buf2, sizeof(buf2));
	if (len2 != len1 || memcmp(buf1, buf2, (size_t)len1) != 0)
		abort();
	if (!fg_flic2_rx_opcode_to_string(a.opcode))
		abort();
}

static void check_tx(const uint8_t *data, size_t size)
{
	struct fg_flic2_tx a, b;
	uint8_t buf1[FG_FLIC2_MAX_PACKET], buf2[FG_FLIC2_MAX_PACKET];
	int len1, len2;

	if (fg_flic2_decode_tx(data, size, &a) < 0)
		return;
	len1 = fg_flic2_encode_tx(&a, buf1, sizeof(buf1));
	if (len1 <= 0 || (size_t)len1 > size)
		abort();
	if (fg_flic2_decode_tx(buf1, (size_t)len1, &b) < 0)
		abort();
	len2 = fg_flic2_encode_tx(&b, buf2, sizeof(buf2));
	if (len2 != len1 || memcmp(buf1, buf2, (size_t)len1) != 0)
		abort();
}

static void check_mac(const uint8_t *data, size_t size)
{
	static const uint8_t key[16] = "fuzzing the MAC!";
	struct fg_chaskey_keys keys;
	uint8_t msg[16 + 256], tag[16], mac[5];
	uint64_t counter;
	uint32_t dir;

	if (size < 10 || size > 9 + 256)
		return;
	memcpy(&counter, data, 8);
	dir = data[8] & 1;
	data += 9;
	size -= 9;
	fg_chaskey_subkeys(&keys, key);
	for (int i = 0; i < 8; i++)
		msg[i] = (uint8_t)(counter >> (8 * i));
	memset(msg + 8, 0, 8);
	msg[8] = (uint8_t)dir;
	memcpy(msg + 16, data, size);
	fg_chaskey_mac(&keys, FG_CHASKEY_ROUNDS_LTS, msg, 16 + size, tag);
	fg_chaskey_flic2_mac(&keys, counter, dir, data, size, mac);
	if (memcmp(tag, mac, 5) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_flic2_adv adv;
	char uuid[37];
	uint8_t u[16];

	if (size > 512)
		return 0;
	check_rx(data, size);
	check_tx(data, size);
	check_mac(data, size);
	if (fg_flic2_adv_parse_raw(data, size, &adv) == 0 &&
	    (adv.kind >= _FG_FLIC2_ADV_KIND_MAX || strlen(adv.name) >= sizeof(adv.name)))
		abort();
	if (size >= 36) {
		memcpy(uuid, data, 36);
		uuid[36] = '\0';
		(void)fg_flic2_uuid_parse(uuid, u);
	}
	return 0;
}
