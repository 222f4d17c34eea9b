/* SPDX-License-Identifier: MIT */
/* Chaskey-LTS, the MAC that signs Flic 2 packets (chaskey.h). */
#include <string.h>

#include "radio/chaskey.h"

static inline uint32_t rotl32(uint32_t x, unsigned b)
{
	return (x << b) | (x >> (32 - b));
}

static inline uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Multiply by x in GF(2^128) with the polynomial x^128 + x^7 + x^2 + x + 1. */
static void times_two(uint32_t out[4], const uint32_t in[4])
{
	/* branch-free: the reduction constant is selected by a mask */
	uint32_t carry = (uint32_t)0 - (in[3] >> 31);

	out[3] = (in[3] << 1) | (in[2] >> 31);
	out[2] = (in[2] << 1) | (in[1] >> 31);
	out[1] = (in[1] << 1) | (in[0] >> 31);
	out[0] = (in[0] << 1) ^ (carry & 0x87);
}

void fg_chaskey_subkeys(struct fg_chaskey_keys *keys,
			const uint8_t key[FG_CHASKEY_KEY_LEN])
{
	for (int i = 0; i < 4; i++)
		keys->k[i] = load_le32(key + 4 * i);
	times_two(keys->k1, keys->k);
	times_two(keys->k2, keys->k1);
}

void fg_chaskey_permute(uint32_t v[4], unsigned rounds)
{
	uint32_t v0 = v[0], v1 = v[1], v2 = v[2], v3 = v[3];

	for (unsigned r = 0; r < rounds; r++) {
		v0 += v1;
		v1 = rotl32(v1, 5) ^ v0;
		v0 = rotl32(v0, 16);
		v2 += v3;
		v3 = rotl32(v3, 8) ^ v2;
		v0 += v3;
		v3 = rotl32(v3, 13) ^ v0;
		v2 += v1;
		v1 = rotl32(v1, 7) ^ v2;
		v2 = rotl32(v2, 16);
	}
	v[0] = v0;
	v[1] = v1;
	v[2] = v2;
	v[3] = v3;
}

static void absorb(uint32_t v[4], const uint8_t block[16])
{
	for (int i = 0; i < 4; i++)
		v[i] ^= load_le32(block + 4 * i);
}

/*
 * Absorb @len message bytes into the running state @v, the last block
 * included, and finish the MAC into @tag. Shared by the textbook MAC and the
 * Flic 2 variant, which differ only in how the state starts.
 */
static void finish(const struct fg_chaskey_keys *keys, unsigned rounds,
		   uint32_t v[4], const uint8_t *msg, size_t len,
		   uint8_t tag[FG_CHASKEY_TAG_LEN])
{
	const uint32_t *last_key;
	uint8_t last[16];

	while (len > 16) {
		absorb(v, msg);
		fg_chaskey_permute(v, rounds);
		msg += 16;
		len -= 16;
	}
	if (len == 16) {
		memcpy(last, msg, 16);
		last_key = keys->k1;
	} else {
		/* 10* padding; len may be 0 */
		if (len > 0)
			memcpy(last, msg, len);
		last[len] = 0x01;
		memset(last + len + 1, 0, 16 - len - 1);
		last_key = keys->k2;
	}
	absorb(v, last);
	for (int i = 0; i < 4; i++)
		v[i] ^= last_key[i];
	fg_chaskey_permute(v, rounds);
	for (int i = 0; i < 4; i++)
		store_le32(tag + 4 * i, v[i] ^ last_key[i]);
	explicit_bzero(last, sizeof(last));
	explicit_bzero(v, 4 * sizeof(*v));
}

void fg_chaskey_mac(const struct fg_chaskey_keys *keys, unsigned rounds,
		    const uint8_t *msg, size_t len,
		    uint8_t tag[FG_CHASKEY_TAG_LEN])
{
	uint32_t v[4];

	memcpy(v, keys->k, sizeof(v));
	finish(keys, rounds, v, msg, len, tag);
}

void fg_chaskey_flic2_mac(const struct fg_chaskey_keys *keys, uint64_t counter,
			  uint32_t dir, const uint8_t *data, size_t len,
			  uint8_t mac[FG_CHASKEY_FLIC2_MAC_LEN])
{
	uint8_t tag[FG_CHASKEY_TAG_LEN];
	uint32_t v[4];

	/*
	 * The counter/direction block is always a full, non-final block, so
	 * it is absorbed and permuted before the packet bytes are looked at.
	 */
	v[0] = keys->k[0] ^ (uint32_t)counter;
	v[1] = keys->k[1] ^ (uint32_t)(counter >> 32);
	v[2] = keys->k[2] ^ dir;
	v[3] = keys->k[3];
	fg_chaskey_permute(v, FG_CHASKEY_ROUNDS_LTS);
	finish(keys, FG_CHASKEY_ROUNDS_LTS, v, data, len, tag);
	memcpy(mac, tag, FG_CHASKEY_FLIC2_MAC_LEN);
	explicit_bzero(tag, sizeof(tag));
}

void fg_chaskey_wipe(struct fg_chaskey_keys *keys)
{
	explicit_bzero(keys, sizeof(*keys));
}
