/* SPDX-License-Identifier: MIT */
/*
 * Known-answer tests for the libcrypto wrappers: RFC 7748 (X25519),
 * RFC 8032 (Ed25519), FIPS 180-2 examples (SHA-256), RFC 4231 (HMAC), and
 * the Flic 2 identity check with its signature-variant search, against
 * fixtures generated with the official pyflic-ble code (published by the
 * flic-rs project) and against the test identity key of the simulator.
 */
#include <errno.h>

#include "test-flic2-util.h"

#include "radio/flic2-crypto.h"
#include "radio/flic2.h"

static void hex32(const char *hex, uint8_t out[32])
{
	test_unhex(hex, out, 32);
}

static void test_x25519_rfc7748_scalarmult(void **state)
{
	static const struct {
		const char *k, *u, *out;
	} v[] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		/* the top bit of u is set and must be ignored */
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};

	for (size_t i = 0; i < 2; i++) {
		uint8_t k[32], u[32], want[32], out[32];

		hex32(v[i].k, k);
		hex32(v[i].u, u);
		hex32(v[i].out, want);
		assert_int_equal(fg_crypto_x25519_shared(k, u, out), 0);
		assert_memory_equal(out, want, 32);
	}
}

static void test_x25519_rfc7748_dh(void **state)
{
	uint8_t a[32], b[32], apub[32], bpub[32], want_a[32], want_b[32];
	uint8_t s1[32], s2[32], shared[32];

	hex32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a);
	hex32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b);
	hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want_a);
	hex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", want_b);
	hex32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", shared);
	assert_int_equal(fg_crypto_x25519_public(a, apub), 0);
	assert_int_equal(fg_crypto_x25519_public(b, bpub), 0);
	assert_memory_equal(apub, want_a, 32);
	assert_memory_equal(bpub, want_b, 32);
	assert_int_equal(fg_crypto_x25519_shared(a, bpub, s1), 0);
	assert_int_equal(fg_crypto_x25519_shared(b, apub, s2), 0);
	assert_memory_equal(s1, shared, 32);
	assert_memory_equal(s2, shared, 32);
}

/* A button that sends a low-order point must not yield a usable secret. */
static void test_x25519_low_order(void **state)
{
	uint8_t k[32], peer[32] = { 0 }, out[32];

	memset(out, 0x55, sizeof(out));
	hex32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", k);
	assert_int_equal(fg_crypto_x25519_shared(k, peer, out), -EINVAL);
	peer[0] = 1;		/* the point of order 4 */
	assert_int_equal(fg_crypto_x25519_shared(k, peer, out), -EINVAL);
	/* outputs untouched on failure */
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0x55);
}

static const struct {
	const char *seed, *pub, *msg, *sig;
} rfc8032[] = {
	{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
	  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
};

static void test_ed25519_rfc8032(void **state)
{
	for (size_t i = 0; i < 3; i++) {
		uint8_t seed[32], pub[32], want_pub[32], sig[64], want_sig[64];
		size_t len;
		uint8_t *msg = test_unhex_alloc(rfc8032[i].msg, &len);

		hex32(rfc8032[i].seed, seed);
		hex32(rfc8032[i].pub, want_pub);
		test_unhex(rfc8032[i].sig, want_sig, 64);
		assert_int_equal(fg_crypto_ed25519_public(seed, pub), 0);
		assert_memory_equal(pub, want_pub, 32);
		assert_int_equal(fg_crypto_ed25519_sign(seed, len ? msg : NULL, len, sig), 0);
		assert_memory_equal(sig, want_sig, 64);
		assert_int_equal(fg_crypto_ed25519_verify(pub, len ? msg : NULL, len, sig), 0);
		/* any flipped bit in R, S or the message must fail */
		for (size_t bit = 0; bit < 512; bit += 13) {
			sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_int_equal(fg_crypto_ed25519_verify(pub, msg, len, sig), -EBADMSG);
			sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		if (len) {
			msg[0] ^= 1;
			assert_int_equal(fg_crypto_ed25519_verify(pub, msg, len, sig), -EBADMSG);
		}
		free(msg);
	}
}

/* S + L verifies mathematically but is non-canonical: must be refused. */
static void test_ed25519_non_canonical(void **state)
{
	static const uint8_t L[32] = {
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2,
		0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
	};
	uint8_t pub[32], sig[64];
	unsigned carry = 0;

	hex32(rfc8032[0].pub, pub);
	test_unhex(rfc8032[0].sig, sig, 64);
	for (int i = 0; i < 32; i++) {
		unsigned s = sig[32 + i] + L[i] + carry;

		sig[32 + i] = (uint8_t)s;
		carry = s >> 8;
	}
	assert_int_equal(carry, 0);
	assert_int_equal(fg_crypto_ed25519_verify(pub, NULL, 0, sig), -EBADMSG);
}

/*
 * flic-rs fixtures/ed25519_variant.ndjson, generated with pyflic-ble's
 * verify_ed25519_signature_with_variant(): expected variant, or -1 where
 * one byte of R was changed and no variant may verify.
 */
static void test_identity_variant_fixtures(void **state)
{
	static const struct {
		int variant;
		const char *msg, *pub, *sig;
	} v[] = {
		{ 3, "", "3e59fc1c354335b6250b24736f0fcd2273fe516fc9906f3a821f13220ec07ceb",
		  "349eed08b824bca5676b746efcdd003e889c56143338d94870a5f0f7bd5912ede32dc2edf5e69727a5dfeb460b739c0bcf9075a77c17a37d0e5de5ba97bc0c0c" },
		{ -1, "", "3e59fc1c354335b6250b24736f0fcd2273fe516fc9906f3a821f13220ec07ceb",
		  "349eed08b824bca5676b756efcdd003e889c56143338d94870a5f0f7bd5912ede32dc2edf5e69727a5dfeb460b739c0bcf9075a77c17a37d0e5de5ba97bc0c0c" },
		{ 0, "666c6963207465737420766563746f72", "3e59fc1c354335b6250b24736f0fcd2273fe516fc9906f3a821f13220ec07ceb",
		  "f1bf3918bc13676219ab7e96241786d79ae8549ef0d97de70bce06c16c8adb7560d1ec713227f2eaea0be05e4f494c5f3a92ea0b94ca3677b24ae476bba78b0b" },
		{ -1, "666c6963207465737420766563746f72", "3e59fc1c354335b6250b24736f0fcd2273fe516fc9906f3a821f13220ec07ceb",
		  "f1bf3918bc13676219ab7f96241786d79ae8549ef0d97de70bce06c16c8adb7560d1ec713227f2eaea0be05e4f494c5f3a92ea0b94ca3677b24ae476bba78b0b" },
		{ 2, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "3e59fc1c354335b6250b24736f0fcd2273fe516fc9906f3a821f13220ec07ceb",
		  "809c8fe4c19419b44a38e628d78950312437168ce229ffe5405130786c4750694e38cfc16824f2c73aadd76cf3eb3d5cf16fac0ab830e2b345754ea28fc6df09" },
		{ 2, "", "6fbc3ef9c7f640572d9989ad48aa0eaaceedd73655cd2b5bb5cac51ab64e1606",
		  "f33143e312f37c47a89e5ac3d930673d936b3f33745ac5251459bb5bd1f02fa52e97f1b86bb68143f7b05140f99a83d74e43a8e3f664a26a8158a253720ac907" },
		{ 3, "666c6963207465737420766563746f72", "6fbc3ef9c7f640572d9989ad48aa0eaaceedd73655cd2b5bb5cac51ab64e1606",
		  "d393bd149e56f1db4b59a528239461d0ec192fa7cf949c84a85fe037275bbcf80fc680b4d09344feb8e78b44ec7a69fd8833af3eee7c4ce872e02185a6fcd401" },
		{ 0, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "6fbc3ef9c7f640572d9989ad48aa0eaaceedd73655cd2b5bb5cac51ab64e1606",
		  "5e0678664caa807175d486b14f6181b1159845a52718a034788ef74863deafd1b48e4dc45ea5121d1f7607f1d94b4022fe396b451f9d42b42d9a036eadb7740c" },
		{ 1, "", "befcbbf78f29c3546c65eba6802a0a12d80a9775145438155f50a0d33e13a462",
		  "a6840ea29725d87fe2f5a642777e086b401f2f7d6b56e68a25b90cf4fb5ed021ad8f0e04853e1414158a1598c3f63c615752059eddc37ad7c7b5c505384a700c" },
		{ 2, "666c6963207465737420766563746f72", "befcbbf78f29c3546c65eba6802a0a12d80a9775145438155f50a0d33e13a462",
		  "d753e346e95e6d6e860caf109823089ba311def0985c93a9dd75b526eba02c3af28379c07941b0b8203f22d83ebd76881e5dc7cc6caa225776cddfaa0d54190d" },
		{ 3, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "befcbbf78f29c3546c65eba6802a0a12d80a9775145438155f50a0d33e13a462",
		  "18f346c831d9f1d664689dccdf187933880aa192294692603024b4a77e6e6d286faf58a00d26967b4956747d300d6c665227e299f0d5d9eabff49970ccdc5b01" },
		{ -1, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "befcbbf78f29c3546c65eba6802a0a12d80a9775145438155f50a0d33e13a462",
		  "18f346c831d9f1d664689cccdf187933880aa192294692603024b4a77e6e6d286faf58a00d26967b4956747d300d6c665227e299f0d5d9eabff49970ccdc5b01" },
		{ 1, "", "2b05f9482cb860e7a18ccfc2c431499af7a6dddecd48c8ca8183244d14474a7f",
		  "ff97ba75aa7d08d70e76e7594228b22fb6b62edc8d7f5be6127c65c641411ce139009f5a8c17c4932ee21a1ad28c4c0c62c3cc6d206c61aa65f6309f80915c02" },
		{ 2, "666c6963207465737420766563746f72", "2b05f9482cb860e7a18ccfc2c431499af7a6dddecd48c8ca8183244d14474a7f",
		  "a7b59cd1417e131015c36989c570c7a50c46862365e136f002bce4e8382c09dc960a12e1ead3241541eb60a43cb75a847b46e0b24502aa7ea7b90f264b97e70f" },
		{ 0, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "2b05f9482cb860e7a18ccfc2c431499af7a6dddecd48c8ca8183244d14474a7f",
		  "799ecb8361d362cb609459bbfe169b5eed7d4ca112e7ca27161c299c59717a7b088c43429331f24aa1547fcd19260b2eb1d93b4a20fb0af69cf4c781e41b9001" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t key[1][32], sig[64];
		unsigned variant = 99;
		size_t index = 99, len;
		uint8_t *msg = test_unhex_alloc(v[i].msg, &len);
		int r;

		hex32(v[i].pub, key[0]);
		test_unhex(v[i].sig, sig, 64);
		r = fg_crypto_flic2_verify_identity((const uint8_t (*)[32])key, 1, msg,
						    len, sig, &variant, &index);
		if (v[i].variant < 0) {
			assert_int_equal(r, -EBADMSG);
			assert_int_equal(variant, 99);
		} else {
			if (r != 0 || variant != (unsigned)v[i].variant)
				fail_msg("fixture %zu: r=%d variant=%u", i, r, variant);
			assert_int_equal(index, 0);
		}
		free(msg);
	}
}

/*
 * The simulator's test identity key signs a certificate the way a button's
 * certificate is shaped (address || address type || X25519 key); whatever
 * the transmitted low bits of S, the variant found is the true one, and the
 * key index tells which trusted key verified.
 */
static void test_identity_test_key(void **state)
{
	uint8_t seed[32], pub[32], want_pub[32], cert[39], sig[64], sent[64];
	uint8_t keys[3][32];
	unsigned variant;
	size_t index;

	hex32("1ea780d41136521b088967c433d135849f1dfb0cb52dac953130297b9f29360d", seed);
	hex32("e99ea68ba047103fb3559a963780fd2d1bfa591b7d79a287f577b07bafef5197", want_pub);
	assert_int_equal(fg_crypto_ed25519_public(seed, pub), 0);
	assert_memory_equal(pub, want_pub, 32);

	for (size_t i = 0; i < sizeof(cert); i++)
		cert[i] = (uint8_t)(i * 29 + 1);
	assert_int_equal(fg_crypto_ed25519_sign(seed, cert, sizeof(cert), sig), 0);

	/* Flic's real key first, an unrelated key, then the test key */
	hex32("d33f2440dd54b31b2e1dcf40132efa41d8f8a7474168df4008f5a95fb3b0d022", keys[0]);
	hex32(rfc8032[1].pub, keys[1]);
	memcpy(keys[2], pub, 32);
	for (unsigned sent_bits = 0; sent_bits < 4; sent_bits++) {
		memcpy(sent, sig, 64);
		sent[32] = (uint8_t)((sent[32] & 0xfc) | sent_bits);
		assert_int_equal(fg_crypto_flic2_verify_identity((const uint8_t (*)[32])keys, 3,
								 cert, sizeof(cert), sent,
								 &variant, &index), 0);
		assert_int_equal(variant, sig[32] & 3);
		assert_int_equal(index, 2);
	}
	/* only the real key trusted: refused */
	assert_int_equal(fg_crypto_flic2_verify_identity((const uint8_t (*)[32])keys, 2,
							 cert, sizeof(cert), sig,
							 &variant, &index), -EBADMSG);
	/* a changed certificate byte: refused */
	cert[6] ^= 1;
	assert_int_equal(fg_crypto_flic2_verify_identity((const uint8_t (*)[32])keys, 3,
							 cert, sizeof(cert), sig,
							 &variant, &index), -EBADMSG);
	assert_int_equal(fg_crypto_flic2_verify_identity((const uint8_t (*)[32])keys, 0,
							 cert, sizeof(cert), sig,
							 &variant, &index), -ENOKEY);
}

/*
 * flic-rs fixtures/kdf.ndjson, generated with pyflic-ble's
 * derive_full_verify_keys(): every pairing derivation from a shared secret.
 * pyflic hashes flags 0x80 (it announces Duo support; "is_twist" rows use
 * 0x00, which is what this client sends).
 */
static void test_derivation_fixtures(void **state)
{
	static const struct {
		const char *shared, *btn, *cli, *fvs, *verifier, *sk, *pk;
		uint8_t variant, flags;
		uint32_t pairing_id;
	} v[] = {
		{ "0000000000000000000000000000000000000000000000000000000000000000",
		  "0000000000000000", "0000000000000000",
		  "daf24267fea991916b972e6c099439118171bfd7f5c6781ee5940c835d90d48a",
		  "77af0fc79000cd791917ddf223c15817", "6902117267cefe666249e6965e77be08",
		  "564cb533ed3b6d0759d62664eb1d91ee", 0, 0x80, 382045991u },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		  "0001020304050607", "08090a0b0c0d0e0f",
		  "be12bda330cec7a96cf6cf27bd4b5a71561b541a7a0751945405beea4dd4ec39",
		  "33e13c1920332d239c39a263044c3427", "03b932cfddd99d1d61a71acbeed9a232",
		  "435ab2d0fa7bc9d6b084a27a3046a6f3", 1, 0x80, 3254939590u },
		{ "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0",
		  "0011223344556677", "8899aabbccddeeff",
		  "ced1e8e61f9b89b10d4cb0db6accf7dafed4b0beee25e7c06af74811a8821ff7",
		  "2cc85a0aceb6625890c416e9be45f8e6", "206600ad6170362323b7cf360ea32c6f",
		  "4c997909015b9c0a7b55c485e3db90d1", 2, 0x80, 952253343u },
		{ "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
		  "0000000000000000", "0000000000000000",
		  "87048f3724a07666cd5c18890f909bb078ec2355516eef8bafdd0153e29a3063",
		  "5771fcfd4da93bc2896794dfb4d480c1", "97c393d3b23ee549a1bd0b2d7f6cd140",
		  "394d9777258b911cf677c3fe353aef85", 3, 0x00, 1372750523u },
		{ "c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4",
		  "6465666768696a6b", "c8c9cacbcccdcecf",
		  "1347070bccf964acf0f2f184300f54e3dc41b624902db29a1e4671570b843cb0",
		  "00d10f5fac54ba0f48118b7b2ddb0218", "43b48ef75ab09e296a86fb1f97a224a0",
		  "8d9b2bf59b15b7cd5300ee5215cf5132", 0, 0x80, 873567692u },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t shared[32], btn[8], cli[8], fvs[32], want[32], mac[32];

		hex32(v[i].shared, shared);
		test_unhex(v[i].btn, btn, 8);
		test_unhex(v[i].cli, cli, 8);
		assert_int_equal(fg_crypto_flic2_full_verify_secret(shared, v[i].variant, btn, cli,
								    v[i].flags, fvs), 0);
		hex32(v[i].fvs, want);
		assert_memory_equal(fvs, want, 32);
		/* verifier, session key, pairing id and key */
		assert_int_equal(fg_crypto_hmac_sha256(fvs, 32, "AT", 2, mac), 0);
		test_unhex(v[i].verifier, want, 16);
		assert_memory_equal(mac, want, 16);
		assert_int_equal(fg_crypto_hmac_sha256(fvs, 32, "SK", 2, mac), 0);
		test_unhex(v[i].sk, want, 16);
		assert_memory_equal(mac, want, 16);
		assert_int_equal(fg_crypto_hmac_sha256(fvs, 32, "PK", 2, mac), 0);
		assert_int_equal((uint32_t)(mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24),
				 v[i].pairing_id);
		test_unhex(v[i].pk, want, 16);
		assert_memory_equal(mac + 4, want, 16);
	}
}

static void test_sha256(void **state)
{
	static const struct {
		const char *msg, *digest;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};

	for (size_t i = 0; i < 3; i++) {
		uint8_t d[32], want[32];

		hex32(v[i].digest, want);
		assert_int_equal(fg_crypto_sha256(v[i].msg, strlen(v[i].msg), d), 0);
		assert_memory_equal(d, want, 32);
	}
}

static void test_hmac_rfc4231(void **state)
{
	uint8_t key[131], mac[32], want[32];

	memset(key, 0x0b, 20);
	hex32("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", want);
	assert_int_equal(fg_crypto_hmac_sha256(key, 20, "Hi There", 8, mac), 0);
	assert_memory_equal(mac, want, 32);

	hex32("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want);
	assert_int_equal(fg_crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?",
					       28, mac), 0);
	assert_memory_equal(mac, want, 32);

	/* test case 6: a key longer than the block is hashed first */
	memset(key, 0xaa, sizeof(key));
	hex32("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", want);
	assert_int_equal(fg_crypto_hmac_sha256(key, sizeof(key),
					       "Test Using Larger Than Block-Size Key - Hash Key First",
					       54, mac), 0);
	assert_memory_equal(mac, want, 32);
}

static void test_equal_wipe_random(void **state)
{
	uint8_t a[40], b[40], c[40];

	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(a));
	assert_true(fg_crypto_equal(a, b, sizeof(a)));
	b[39] ^= 0x80;
	assert_false(fg_crypto_equal(a, b, sizeof(a)));
	assert_true(fg_crypto_equal(a, b, 39));
	fg_crypto_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], 0);

	assert_int_equal(fg_crypto_random(b, sizeof(b)), 0);
	assert_int_equal(fg_crypto_random(c, sizeof(c)), 0);
	assert_memory_not_equal(b, c, sizeof(b));
}

static void test_key_from_hex(void **state)
{
	uint8_t key[32], want[32];

	hex32("e99ea68ba047103fb3559a963780fd2d1bfa591b7d79a287f577b07bafef5197", want);
	assert_int_equal(fg_flic2_key_from_hex("E99EA68BA047103FB3559A963780FD2D1BFA591B7D79A287F577B07BAFEF5197", key), 0);
	assert_memory_equal(key, want, 32);
	memset(key, 0, sizeof(key));
	assert_int_equal(fg_flic2_key_from_hex("e99ea68ba047103fb3559a963780fd2d1bfa591b7d79a287f577b07bafef519", key), -EINVAL);
	assert_int_equal(fg_flic2_key_from_hex("e99ea68ba047103fb3559a963780fd2d1bfa591b7d79a287f577b07bafef51970", key), -EINVAL);
	assert_int_equal(fg_flic2_key_from_hex("g99ea68ba047103fb3559a963780fd2d1bfa591b7d79a287f577b07bafef5197", key), -EINVAL);
	assert_int_equal(fg_flic2_key_from_hex(NULL, key), -EINVAL);
	for (size_t i = 0; i < sizeof(key); i++)
		assert_int_equal(key[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/flic2-crypto/x25519-rfc7748-scalarmult", test_x25519_rfc7748_scalarmult),
		FG_TEST("/flic2-crypto/x25519-rfc7748-dh", test_x25519_rfc7748_dh),
		FG_TEST("/flic2-crypto/x25519-low-order", test_x25519_low_order),
		FG_TEST("/flic2-crypto/ed25519-rfc8032", test_ed25519_rfc8032),
		FG_TEST("/flic2-crypto/ed25519-non-canonical", test_ed25519_non_canonical),
		FG_TEST("/flic2-crypto/identity-variant-fixtures", test_identity_variant_fixtures),
		FG_TEST("/flic2-crypto/identity-test-key", test_identity_test_key),
		FG_TEST("/flic2-crypto/derivation-fixtures", test_derivation_fixtures),
		FG_TEST("/flic2-crypto/sha256", test_sha256),
		FG_TEST("/flic2-crypto/hmac-rfc4231", test_hmac_rfc4231),
		FG_TEST("/flic2-crypto/equal-wipe-random", test_equal_wipe_random),
		FG_TEST("/flic2-crypto/key-from-hex", test_key_from_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
