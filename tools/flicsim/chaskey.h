/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Chaskey-LTS (16 rounds) as the Flic 2 protocol uses it, written for the
 * simulator's button side. Keys and data words are little-endian.
 *
 *  - fs_chaskey_block16(): textbook Chaskey of exactly one full 16-byte block
 *    (the protocol derives the quick-verify session key with it).
 *  - fs_chaskey_packet_mac(): the protocol's variant. The state starts as
 *    K ^ (counter_lo, counter_hi, direction, 0) and is permuted once before
 *    the message blocks are absorbed; the last block is padded with 0x01 and
 *    finished with K2 (or K1 when full) as in textbook Chaskey. Only the first
 *    5 bytes of the tag are used. Direction 0 = button to client, 1 = client
 *    to button.
 */

struct fs_chaskey {
	uint32_t k[4];
	uint32_t k1[4];
	uint32_t k2[4];
};

#define FS_CHASKEY_MAC_LEN 5

void fs_chaskey_init(struct fs_chaskey *c, const uint8_t key[16]);
void fs_chaskey_permute(uint32_t v[4]);
void fs_chaskey_block16(const struct fs_chaskey *c, const uint8_t in[16],
			uint8_t out[16]);
void fs_chaskey_packet_mac(const struct fs_chaskey *c, uint32_t dir,
			   uint64_t counter, const uint8_t *data, size_t len,
			   uint8_t out[FS_CHASKEY_MAC_LEN]);
