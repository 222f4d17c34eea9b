/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The public-key and hash primitives the Flic 2 protocol needs, as thin
 * wrappers around OpenSSL's libcrypto (EVP X25519/Ed25519, SHA-256, HMAC).
 * Byte strings in, byte strings out; every function returns 0 or -errno and
 * writes its outputs only on success. Nothing here logs.
 */

#define FG_CRYPTO_X25519_LEN 32
#define FG_CRYPTO_ED25519_KEY_LEN 32
#define FG_CRYPTO_ED25519_SIG_LEN 64
#define FG_CRYPTO_SHA256_LEN 32

/* X25519 public key for a 32-byte private scalar (clamped by X25519). */
int fg_crypto_x25519_public(const uint8_t priv[FG_CRYPTO_X25519_LEN],
			    uint8_t ret_pub[FG_CRYPTO_X25519_LEN]);

/*
 * X25519 shared secret. -EINVAL when the peer key is a low-order point
 * (the shared secret would be all zero); such a key is never accepted.
 */
int fg_crypto_x25519_shared(const uint8_t priv[FG_CRYPTO_X25519_LEN],
			    const uint8_t peer[FG_CRYPTO_X25519_LEN],
			    uint8_t ret_shared[FG_CRYPTO_X25519_LEN]);

/* Ed25519 verification (RFC 8032, strict S < L): 0 valid, -EBADMSG not. */
int fg_crypto_ed25519_verify(const uint8_t pub[FG_CRYPTO_ED25519_KEY_LEN],
			     const uint8_t *msg, size_t len,
			     const uint8_t sig[FG_CRYPTO_ED25519_SIG_LEN]);

/* Ed25519 from a 32-byte seed (tests and emulated buttons sign with it). */
int fg_crypto_ed25519_public(const uint8_t seed[32],
			     uint8_t ret_pub[FG_CRYPTO_ED25519_KEY_LEN]);
int fg_crypto_ed25519_sign(const uint8_t seed[32], const uint8_t *msg,
			   size_t len, uint8_t ret_sig[FG_CRYPTO_ED25519_SIG_LEN]);

/*
 * The Flic 2 identity check. The button sends an Ed25519 signature whose
 * scalar S has its two lowest bits replaced; the true bits (the "signature
 * variant", 0..3) are found by trying all four and are later mixed into the
 * key derivation. Tries every key of @keys in order. On success stores the
 * variant and the index of the key that verified; -EBADMSG when no key and
 * no variant verifies, -ENOKEY when @n_keys is 0.
 */
int fg_crypto_flic2_verify_identity(const uint8_t (*keys)[FG_CRYPTO_ED25519_KEY_LEN],
				    size_t n_keys, const uint8_t *msg, size_t len,
				    const uint8_t sig[FG_CRYPTO_ED25519_SIG_LEN],
				    unsigned *ret_variant, size_t *ret_key_index);

/*
 * fullVerifySecret = SHA-256(shared (32) || variant (1) || button nonce (8)
 * || client nonce (8) || flags (1)), where flags is the byte the client
 * sent in FullVerifyRequest2 (0 for this client). Every pairing key is an
 * HMAC-SHA-256 of a two-letter label under it ("AT", "SK", "PK", "PT"…).
 */
int fg_crypto_flic2_full_verify_secret(const uint8_t shared[32], uint8_t variant,
				       const uint8_t button_random[8],
				       const uint8_t client_random[8], uint8_t flags,
				       uint8_t ret_secret[32]);

/* SHA-256 of @len bytes. */
int fg_crypto_sha256(const void *data, size_t len,
		     uint8_t ret_digest[FG_CRYPTO_SHA256_LEN]);

/* HMAC-SHA-256. */
int fg_crypto_hmac_sha256(const void *key, size_t key_len, const void *msg,
			  size_t msg_len, uint8_t ret_mac[FG_CRYPTO_SHA256_LEN]);

/* Constant-time comparison; true when equal. */
bool fg_crypto_equal(const void *a, const void *b, size_t len);

/* Zero memory holding secrets (never optimised away). */
void fg_crypto_wipe(void *p, size_t len);

/* Fill @buf from the system CSPRNG (RAND_bytes). */
int fg_crypto_random(void *buf, size_t len);
