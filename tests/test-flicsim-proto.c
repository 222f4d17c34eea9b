/* SPDX-License-Identifier: MIT */
/*
 * The simulator's pure protocol pieces (tools/flicsim/chaskey.c and
 * button-proto.c): Chaskey subkeys and MACs, framing, the identity
 * certificate and the key derivation. The MAC vectors were computed with
 * the separate Python client of tests/integration/flicsimtest.py.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "fg-test.h"

#include "../tools/flicsim/button-proto.h"
#include "../tools/flicsim/chaskey.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void put_words(uint8_t *out, const uint32_t w[4])
{
	for (int i = 0; i < 4; i++)
		fs_put_le32(out + 4 * i, w[i]);
}

static void test_subkeys(void **state)
{
	uint8_t key[16], k1[16], want[16];
	struct fs_chaskey c;

	/* Doubling in GF(2^128) without carry: every byte doubles. */
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	fs_chaskey_init(&c, key);
	put_words(k1, c.k1);
	for (int i = 0; i < 16; i++)
		want[i] = (uint8_t)(2 * i);
	assert_memory_equal(k1, want, 16);
	put_words(k1, c.k2);
	for (int i = 0; i < 16; i++)
		want[i] = (uint8_t)(4 * i);
	assert_memory_equal(k1, want, 16);

	/* With the top bit set the reduction constant 0x87 comes in. */
	memset(key, 0xff, 16);
	fs_chaskey_init(&c, key);
	put_words(k1, c.k1);
	memset(want, 0xff, 16);
	want[0] = 0xfe ^ 0x87;
	assert_memory_equal(k1, want, 16);
}

static void test_packet_mac(void **state)
{
	static const struct {
		uint32_t dir;
		uint64_t counter;
		size_t len;
		const char *mac;
	} v[] = {
		{ 0, UINT64_C(0x0), 0, "3331d2c953" },
		{ 1, UINT64_C(0x0), 1, "35c83149ed" },
		{ 0, UINT64_C(0x1), 15, "7b2a41d89b" },
		{ 1, UINT64_C(0x5), 16, "8b25913ddc" },
		{ 0, UINT64_C(0x100000002), 17, "e442eba04f" },
		{ 1, UINT64_C(0x2a), 32, "1d2b1c99b9" },
		{ 0, UINT64_C(0x7), 33, "16bb11b79f" },
		{ 1, UINT64_C(0x3), 40, "61ecbdd9b4" },
	};
	uint8_t key[16], msg[40], mac[5], want[5], block[16];
	struct fs_chaskey c;

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 40; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	fs_chaskey_init(&c, key);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fs_chaskey_packet_mac(&c, v[i].dir, v[i].counter, msg, v[i].len, mac);
		unhex(v[i].mac, want, 5);
		assert_memory_equal(mac, want, 5);
	}
	/* Direction and counter both matter. */
	fs_chaskey_packet_mac(&c, 1, 0, msg, 0, mac);
	unhex(v[0].mac, want, 5);
	assert_memory_not_equal(mac, want, 5);

	fs_chaskey_block16(&c, msg, block);
	{
		uint8_t want16[16];

		unhex("1a74cc19c522a126e9dfeb59a2e1b7f4", want16, 16);
		assert_memory_equal(block, want16, 16);
	}
}

struct frames {
	uint8_t att[16][140];
	size_t len[16];
	bool last[16];
	size_t n;
};

static int collect(const uint8_t *att, size_t len, bool last, void *userdata)
{
	struct frames *f = userdata;

	assert_true(f->n < 16);
	memcpy(f->att[f->n], att, len);
	f->len[f->n] = len;
	f->last[f->n++] = last;
	return 0;
}

static void test_framing(void **state)
{
	uint8_t pkt[FS_MAX_PACKET + 1], conn;
	struct fs_rx_frame rx = { 0 };
	struct frames f = { 0 };
	const uint8_t *out = NULL;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;
	/* MTU 23: 20-byte ATT values, 19 bytes of packet each. */
	assert_int_equal(fs_frame_split(3, pkt, FS_MAX_PACKET, 23, collect, &f), 0);
	assert_int_equal(f.n, 7);
	for (size_t i = 0; i < f.n; i++) {
		assert_true(f.len[i] <= 20);
		assert_int_equal(f.att[i][0] & FS_FRAME_CONN_ID_MASK, 3);
		assert_int_equal(!!(f.att[i][0] & FS_FRAME_MORE), i + 1 < f.n);
		assert_int_equal(f.last[i], i + 1 == f.n);
		r = fs_frame_feed(&rx, f.att[i], f.len[i], &conn, &out, &n);
		assert_int_equal(r, i + 1 == f.n ? 1 : 0);
	}
	assert_int_equal(n, FS_MAX_PACKET);
	assert_int_equal(conn, 3);
	assert_memory_equal(out, pkt, n);

	/* A bigger MTU carries it whole. */
	memset(&f, 0, sizeof(f));
	assert_int_equal(fs_frame_split(1, pkt, 118, 140, collect, &f), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.len[0], 119);

	/* Too long either way. */
	assert_int_equal(fs_frame_split(1, pkt, FS_MAX_PACKET + 1, 140, collect, &f), -EINVAL);
	memset(&f, 0, sizeof(f));
	assert_int_equal(fs_frame_split(FS_FRAME_MORE, pkt, 100, 23, collect, &f), 0);
	for (size_t i = 0; i < f.n; i++)
		f.att[i][0] |= FS_FRAME_MORE;	/* never ends */
	/* 100 bytes are kept; the fragment that would pass 128 is refused. */
	for (size_t i = 0; i < f.n; i++)
		assert_int_equal(fs_frame_feed(&rx, f.att[i], f.len[i], &conn, &out, &n), 0);
	assert_int_equal(fs_frame_feed(&rx, f.att[0], f.len[0], &conn, &out, &n), 0);
	r = fs_frame_feed(&rx, f.att[0], f.len[0], &conn, &out, &n);
	assert_int_equal(r, -EBADMSG);
	assert_int_equal(fs_frame_feed(&rx, pkt, 0, &conn, &out, &n), -EBADMSG);
}

static bool verify(const uint8_t *pub_hex_bytes, const uint8_t sig[64], const uint8_t *msg,
		   size_t len)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub_hex_bytes, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok;

	assert_non_null(k);
	assert_non_null(md);
	ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
	     EVP_DigestVerify(md, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ok;
}

static void test_identity(void **state)
{
	static const uint8_t addr[6] = { 0x80, 0xe4, 0xda, 0x70, 0x12, 0x34 };
	uint8_t pub[32], msg[39], sig[64];
	struct fs_identity id, rogue;

	unhex(fs_test_identity_public_hex, pub, 32);
	assert_int_equal(fs_identity_make(&id, addr, true), 0);
	/* On air the address is least significant byte first. */
	assert_int_equal(id.addr_le[0], 0x34);
	assert_int_equal(id.addr_le[5], 0x80);
	memcpy(msg, id.addr_le, 6);
	msg[6] = 0;
	memcpy(msg + 7, id.ecdh_public, 32);
	assert_true(verify(pub, id.signature, msg, sizeof(msg)));
	assert_int_equal(id.variant, id.signature[32] & 3);
	/* Other low bits: the plain Ed25519 check fails, which is why a client
	 * must try the four variants. */
	memcpy(sig, id.signature, 64);
	sig[32] ^= 1;
	assert_false(verify(pub, sig, msg, sizeof(msg)));
	/* Same address, same static ECDH key. */
	assert_int_equal(fs_identity_make(&rogue, addr, false), 0);
	assert_memory_equal(rogue.ecdh_public, id.ecdh_public, 32);
	assert_false(verify(pub, rogue.signature, msg, sizeof(msg)));
}

static void test_kdf(void **state)
{
	uint8_t shared[32], br[8], cr[8], got[32], want[32], cat[50], mac[32];
	unsigned int n = 32;

	for (int i = 0; i < 32; i++)
		shared[i] = (uint8_t)(0xa0 + i);
	memset(br, 0x11, 8);
	memset(cr, 0x22, 8);
	fs_full_verify_secret(shared, 2, br, cr, 0x80, got);
	memcpy(cat, shared, 32);
	cat[32] = 2;
	memcpy(cat + 33, br, 8);
	memcpy(cat + 41, cr, 8);
	cat[49] = 0x80;
	EVP_Digest(cat, sizeof(cat), want, &n, EVP_sha256(), NULL);
	assert_memory_equal(got, want, 32);
	/* HMAC(key, "PT" || 20 bytes) == HMAC over the concatenation. */
	fs_hmac_label(got, "PT", shared, 20, mac);
	fs_hmac_label(got, "AT", NULL, 0, want);
	assert_memory_not_equal(mac, want, 32);
}

static void test_x25519(void **state)
{
	uint8_t a[32], b[32], pa[32], pb[32], s1[32], s2[32], zero[32] = { 0 };
	struct fs_identity ia, ib;
	static const uint8_t addr_a[6] = { 1, 2, 3, 4, 5, 6 }, addr_b[6] = { 6, 5, 4, 3, 2, 1 };

	assert_int_equal(fs_identity_make(&ia, addr_a, true), 0);
	assert_int_equal(fs_identity_make(&ib, addr_b, true), 0);
	memcpy(a, ia.ecdh_private, 32);
	memcpy(b, ib.ecdh_private, 32);
	memcpy(pa, ia.ecdh_public, 32);
	memcpy(pb, ib.ecdh_public, 32);
	assert_int_equal(fs_x25519(a, pb, s1), 0);
	assert_int_equal(fs_x25519(b, pa, s2), 0);
	assert_memory_equal(s1, s2, 32);
	/* A low-order point (zero) is refused. */
	assert_int_equal(fs_x25519(a, zero, s1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/flicsim/chaskey/subkeys", test_subkeys),
		FG_TEST("/flicsim/chaskey/packet-mac", test_packet_mac),
		FG_TEST("/flicsim/frame/split-and-reassemble", test_framing),
		FG_TEST("/flicsim/identity/test-key-certificate", test_identity),
		FG_TEST("/flicsim/kdf/full-verify-secret", test_kdf),
		FG_TEST("/flicsim/x25519/agreement", test_x25519),
	};

	return cmocka_run_group_tests_name("flicsim-proto", tests, NULL, NULL);
}
