/* SPDX-License-Identifier: MIT */
/* Chaskey-LTS as Flic 2 uses it: packet MACs and the quick-verify session
 * key (see chaskey.h). */
#include <string.h>

#include "chaskey.h"

static uint32_t rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* Multiplication by x in GF(2^128), the Chaskey subkey step. */
static void times_two(uint32_t out[4], const uint32_t in[4])
{
	uint32_t carry = (in[3] >> 31) ? 0x87 : 0;

	out[3] = (in[3] << 1) | (in[2] >> 31);
	out[2] = (in[2] << 1) | (in[1] >> 31);
	out[1] = (in[1] << 1) | (in[0] >> 31);
	out[0] = (in[0] << 1) ^ carry;
}

void fs_chaskey_init(struct fs_chaskey *c, const uint8_t key[16])
{
	for (int i = 0; i < 4; i++)
		c->k[i] = le32(key + 4 * i);
	times_two(c->k1, c->k);
	times_two(c->k2, c->k1);
}

/* The textbook round function, applied 16 times (the "LTS" strength). */
void fs_chaskey_permute(uint32_t v[4])
{
	for (int r = 0; r < 16; r++) {
		v[0] += v[1];
		v[1] = rotl(v[1], 5) ^ v[0];
		v[0] = rotl(v[0], 16);
		v[2] += v[3];
		v[3] = rotl(v[3], 8) ^ v[2];
		v[0] += v[3];
		v[3] = rotl(v[3], 13) ^ v[0];
		v[2] += v[1];
		v[1] = rotl(v[1], 7) ^ v[2];
		v[2] = rotl(v[2], 16);
	}
}

void fs_chaskey_block16(const struct fs_chaskey *c, const uint8_t in[16],
			uint8_t out[16])
{
	uint32_t v[4];

	for (int i = 0; i < 4; i++)
		v[i] = c->k[i] ^ c->k1[i] ^ le32(in + 4 * i);
	fs_chaskey_permute(v);
	for (int i = 0; i < 4; i++)
		put_le32(out + 4 * i, v[i] ^ c->k1[i]);
}

void fs_chaskey_packet_mac(const struct fs_chaskey *c, uint32_t dir,
			   uint64_t counter, const uint8_t *data, size_t len,
			   uint8_t out[FS_CHASKEY_MAC_LEN])
{
	const uint32_t *fin;
	uint8_t last[16];
	uint32_t v[4];

	v[0] = c->k[0] ^ (uint32_t)counter;
	v[1] = c->k[1] ^ (uint32_t)(counter >> 32);
	v[2] = c->k[2] ^ dir;
	v[3] = c->k[3];
	fs_chaskey_permute(v);

	while (len > 16) {
		for (int i = 0; i < 4; i++)
			v[i] ^= le32(data + 4 * i);
		fs_chaskey_permute(v);
		data += 16;
		len -= 16;
	}
	memset(last, 0, sizeof(last));
	memcpy(last, data, len);
	if (len < 16) {
		last[len] = 0x01;
		fin = c->k2;
	} else {
		fin = c->k1;
	}
	for (int i = 0; i < 4; i++)
		v[i] ^= le32(last + 4 * i) ^ fin[i];
	fs_chaskey_permute(v);
	v[0] ^= fin[0];
	v[1] ^= fin[1];
	put_le32(out, v[0]);
	out[4] = (uint8_t)v[1];
}
