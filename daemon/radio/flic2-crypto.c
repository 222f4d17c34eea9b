/* SPDX-License-Identifier: MIT */
/* The cryptography of Flic 2 pairing over OpenSSL: X25519, Ed25519, SHA-256, HMAC, randomness (flic2-crypto.h). */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "radio/flic2-crypto.h"

/* The public key of a raw 32-byte X25519 or Ed25519 private key. */
static int raw_public(int type, const uint8_t priv[32], uint8_t ret_pub[32])
{
	size_t len = 32;
	EVP_PKEY *key;
	int r = 0;

	key = EVP_PKEY_new_raw_private_key(type, NULL, priv, 32);
	if (!key)
		return -ENOMEM;
	if (EVP_PKEY_get_raw_public_key(key, ret_pub, &len) != 1 || len != 32)
		r = -EIO;
	EVP_PKEY_free(key);
	return r;
}

int fg_crypto_x25519_public(const uint8_t priv[FG_CRYPTO_X25519_LEN],
			    uint8_t ret_pub[FG_CRYPTO_X25519_LEN])
{
	return raw_public(EVP_PKEY_X25519, priv, ret_pub);
}

int fg_crypto_x25519_shared(const uint8_t priv[FG_CRYPTO_X25519_LEN],
			    const uint8_t peer[FG_CRYPTO_X25519_LEN],
			    uint8_t ret_shared[FG_CRYPTO_X25519_LEN])
{
	static const uint8_t zero[FG_CRYPTO_X25519_LEN];
	uint8_t out[FG_CRYPTO_X25519_LEN];
	EVP_PKEY *key = NULL, *peer_key = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = sizeof(out);
	int r = -ENOMEM;

	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
					   FG_CRYPTO_X25519_LEN);
	peer_key = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
					       FG_CRYPTO_X25519_LEN);
	if (!key || !peer_key)
		goto out;
	ctx = EVP_PKEY_CTX_new(key, NULL);
	if (!ctx)
		goto out;
	/*
	 * libcrypto refuses to derive an all-zero secret (a low-order peer
	 * point); report that, and check again in case it ever does not.
	 */
	if (EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peer_key) != 1 ||
	    EVP_PKEY_derive(ctx, out, &len) != 1 || len != sizeof(out) ||
	    fg_crypto_equal(out, zero, sizeof(out))) {
		r = -EINVAL;
		goto out;
	}
	memcpy(ret_shared, out, sizeof(out));
	r = 0;
out:
	OPENSSL_cleanse(out, sizeof(out));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer_key);
	EVP_PKEY_free(key);
	return r;
}

int fg_crypto_ed25519_verify(const uint8_t pub[FG_CRYPTO_ED25519_KEY_LEN],
			     const uint8_t *msg, size_t len,
			     const uint8_t sig[FG_CRYPTO_ED25519_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	EVP_PKEY *key;
	int r;

	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
					  FG_CRYPTO_ED25519_KEY_LEN);
	if (!key)
		return -ENOMEM;
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		EVP_PKEY_free(key);
		return -ENOMEM;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1)
		r = -EIO;
	else if (EVP_DigestVerify(ctx, sig, FG_CRYPTO_ED25519_SIG_LEN,
				  msg ? msg : (const uint8_t *)"", len) == 1)
		r = 0;
	else
		r = -EBADMSG;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return r;
}

int fg_crypto_ed25519_public(const uint8_t seed[32],
			     uint8_t ret_pub[FG_CRYPTO_ED25519_KEY_LEN])
{
	return raw_public(EVP_PKEY_ED25519, seed, ret_pub);
}

int fg_crypto_ed25519_sign(const uint8_t seed[32], const uint8_t *msg,
			   size_t len, uint8_t ret_sig[FG_CRYPTO_ED25519_SIG_LEN])
{
	size_t sig_len = FG_CRYPTO_ED25519_SIG_LEN;
	EVP_MD_CTX *ctx;
	EVP_PKEY *key;
	int r = 0;

	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (!key)
		return -ENOMEM;
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		EVP_PKEY_free(key);
		return -ENOMEM;
	}
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, ret_sig, &sig_len,
			   msg ? msg : (const uint8_t *)"", len) != 1 ||
	    sig_len != FG_CRYPTO_ED25519_SIG_LEN)
		r = -EIO;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return r;
}

int fg_crypto_flic2_verify_identity(const uint8_t (*keys)[FG_CRYPTO_ED25519_KEY_LEN],
				    size_t n_keys, const uint8_t *msg, size_t len,
				    const uint8_t sig[FG_CRYPTO_ED25519_SIG_LEN],
				    unsigned *ret_variant, size_t *ret_key_index)
{
	uint8_t candidate[FG_CRYPTO_ED25519_SIG_LEN];

	if (n_keys == 0)
		return -ENOKEY;
	memcpy(candidate, sig, sizeof(candidate));
	for (size_t k = 0; k < n_keys; k++) {
		for (unsigned variant = 0; variant < 4; variant++) {
			int r;

			/* byte 32 is the least significant byte of S */
			candidate[32] = (uint8_t)((sig[32] & 0xfc) | variant);
			r = fg_crypto_ed25519_verify(keys[k], msg, len, candidate);
			if (r == -EBADMSG)
				continue;
			if (r < 0)
				return r;
			*ret_variant = variant;
			*ret_key_index = k;
			return 0;
		}
	}
	return -EBADMSG;
}

int fg_crypto_sha256(const void *data, size_t len,
		     uint8_t ret_digest[FG_CRYPTO_SHA256_LEN])
{
	unsigned int out_len = 0;

	if (EVP_Digest(data, len, ret_digest, &out_len, EVP_sha256(), NULL) != 1 ||
	    out_len != FG_CRYPTO_SHA256_LEN)
		return -EIO;
	return 0;
}

int fg_crypto_flic2_full_verify_secret(const uint8_t shared[32], uint8_t variant,
				       const uint8_t button_random[8],
				       const uint8_t client_random[8], uint8_t flags,
				       uint8_t ret_secret[32])
{
	uint8_t in[32 + 1 + 8 + 8 + 1];
	int r;

	memcpy(in, shared, 32);
	in[32] = variant;
	memcpy(in + 33, button_random, 8);
	memcpy(in + 41, client_random, 8);
	in[49] = flags;
	r = fg_crypto_sha256(in, sizeof(in), ret_secret);
	OPENSSL_cleanse(in, sizeof(in));
	return r;
}

int fg_crypto_hmac_sha256(const void *key, size_t key_len, const void *msg,
			  size_t msg_len, uint8_t ret_mac[FG_CRYPTO_SHA256_LEN])
{
	unsigned int out_len = 0;

	if (key_len > INT32_MAX)
		return -EINVAL;
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, ret_mac,
		  &out_len) || out_len != FG_CRYPTO_SHA256_LEN)
		return -EIO;
	return 0;
}

bool fg_crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void fg_crypto_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

int fg_crypto_random(void *buf, size_t len)
{
	if (len > INT32_MAX)
		return -EINVAL;
	if (RAND_bytes(buf, (int)len) != 1)
		return -EIO;
	return 0;
}
