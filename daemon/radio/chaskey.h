/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Chaskey (Mouha et al., 2014), the 128-bit permutation-based MAC, and the
 * way the Flic 2 protocol uses its 16-round variant Chaskey-LTS.
 *
 * Byte order is little endian throughout: the key, message blocks and tags
 * are read and written as four little-endian 32-bit words, exactly as in the
 * reference implementation, so results do not depend on the host.
 *
 * Plain functions over a plain key schedule; nothing is allocated.
 */

#define FG_CHASKEY_KEY_LEN 16
#define FG_CHASKEY_TAG_LEN 16
#define FG_CHASKEY_ROUNDS_ORIGINAL 8	/* "Chaskey" as first published */
#define FG_CHASKEY_ROUNDS_LTS 16	/* Chaskey-LTS, used by Flic 2 */

/* The Flic 2 per-packet MAC is the first 5 bytes of a Chaskey-LTS tag. */
#define FG_CHASKEY_FLIC2_MAC_LEN 5

/* Direction values mixed into the Flic 2 MAC. */
#define FG_CHASKEY_DIR_FROM_BUTTON 0u
#define FG_CHASKEY_DIR_TO_BUTTON 1u

/* K, K1 = 2K and K2 = 4K in GF(2^128); secret, wipe after use. */
struct fg_chaskey_keys {
	uint32_t k[4];
	uint32_t k1[4];
	uint32_t k2[4];
};

/* Expand a 16-byte key into the three subkeys. */
void fg_chaskey_subkeys(struct fg_chaskey_keys *keys,
			const uint8_t key[FG_CHASKEY_KEY_LEN]);

/* Apply @rounds rounds of the Chaskey permutation to @v in place. */
void fg_chaskey_permute(uint32_t v[4], unsigned rounds);

/*
 * Textbook Chaskey MAC over @len bytes of @msg with @rounds permutation
 * rounds; writes the full 16-byte tag. @msg may be NULL when @len is 0.
 */
void fg_chaskey_mac(const struct fg_chaskey_keys *keys, unsigned rounds,
		    const uint8_t *msg, size_t len,
		    uint8_t tag[FG_CHASKEY_TAG_LEN]);

/*
 * The Flic 2 packet MAC: Chaskey-LTS keyed by the session key, whose first
 * block is the packet @counter (64-bit, little endian) followed by @dir
 * (32-bit) and four zero bytes, then the packet bytes @data. For @len > 0
 * this equals fg_chaskey_mac(keys, 16, counter||dir||0||data) truncated to
 * 5 bytes; for @len == 0 the protocol still absorbs one padding block.
 */
void fg_chaskey_flic2_mac(const struct fg_chaskey_keys *keys, uint64_t counter,
			  uint32_t dir, const uint8_t *data, size_t len,
			  uint8_t mac[FG_CHASKEY_FLIC2_MAC_LEN]);

/* Zero a key schedule (not optimised away). */
void fg_chaskey_wipe(struct fg_chaskey_keys *keys);
