/* SPDX-License-Identifier: MIT */
/* The button side's pure protocol pieces: framing, the identity certificate,
 * X25519, key derivation and HMAC labels (see button-proto.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "button-proto.h"

/*
 * The TEST identity: emulated genuine buttons carry a certificate made with
 * this key, and the daemon is told to trust its public half through
 * [bluetooth] trusted_key. It is published on purpose; it proves nothing
 * about real hardware.
 */
static const uint8_t test_identity_seed[32] = {
	0x1e, 0xa7, 0x80, 0xd4, 0x11, 0x36, 0x52, 0x1b, 0x08, 0x89, 0x67,
	0xc4, 0x33, 0xd1, 0x35, 0x84, 0x9f, 0x1d, 0xfb, 0x0c, 0xb5, 0x2d,
	0xac, 0x95, 0x31, 0x30, 0x29, 0x7b, 0x9f, 0x29, 0x36, 0x0d,
};

const char fs_test_identity_public_hex[] =
	"e99ea68ba047103fb3559a963780fd2d1bfa591b7d79a287f577b07bafef5197";

struct part {
	const void *p;
	size_t n;
};

static void sha256_parts(const struct part *parts, size_t n, uint8_t ret[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 32;

	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		abort();
	for (size_t i = 0; i < n; i++)
		if (EVP_DigestUpdate(md, parts[i].p, parts[i].n) != 1)
			abort();
	if (EVP_DigestFinal_ex(md, ret, &len) != 1)
		abort();
	EVP_MD_CTX_free(md);
}

int fs_frame_feed(struct fs_rx_frame *f, const uint8_t *att, size_t len,
		  uint8_t *ret_conn_id, const uint8_t **ret_packet,
		  size_t *ret_len)
{
	bool more;

	if (len < 1) {
		f->active = false;
		f->len = 0;
		return -EBADMSG;
	}
	more = att[0] & FS_FRAME_MORE;
	if (!f->active && !more) {
		if (len - 1 > FS_MAX_PACKET)
			return -EBADMSG;
		*ret_conn_id = att[0] & FS_FRAME_CONN_ID_MASK;
		*ret_packet = att + 1;
		*ret_len = len - 1;
		return 1;
	}
	if (f->len + (len - 1) > FS_MAX_PACKET) {
		f->active = false;
		f->len = 0;
		return -EBADMSG;
	}
	memcpy(f->buf + f->len, att + 1, len - 1);
	f->len += len - 1;
	f->active = true;
	if (more)
		return 0;
	f->active = false;
	*ret_conn_id = att[0] & FS_FRAME_CONN_ID_MASK;
	*ret_packet = f->buf;
	*ret_len = f->len;
	f->len = 0;
	return 1;
}

int fs_frame_split(uint8_t header, const uint8_t *packet, size_t len,
		   uint16_t mtu, fs_fragment_fn emit, void *userdata)
{
	uint8_t att[FS_MAX_PACKET + 1];
	size_t pos = 0, chunk;
	int r;

	if (mtu < 23 || len > FS_MAX_PACKET)
		return -EINVAL;
	/* An ATT notification carries mtu - 3 bytes; one is the header. */
	do {
		chunk = len - pos;
		att[0] = header & ~FS_FRAME_MORE;
		if (chunk + 1 > (size_t)mtu - 3u) {
			chunk = mtu - 4u;
			att[0] |= FS_FRAME_MORE;
		}
		memcpy(att + 1, packet + pos, chunk);
		pos += chunk;
		r = emit(att, chunk + 1, pos == len, userdata);
		if (r < 0)
			return r;
	} while (pos < len);
	return 0;
}

static int x25519_public(const uint8_t private_key[32], uint8_t ret[32])
{
	EVP_PKEY *k;
	size_t n = 32;
	int r = 0;

	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, private_key, 32);
	if (!k)
		return -EIO;
	if (EVP_PKEY_get_raw_public_key(k, ret, &n) != 1 || n != 32)
		r = -EIO;
	EVP_PKEY_free(k);
	return r;
}

int fs_x25519(const uint8_t private_key[32], const uint8_t peer[32],
	      uint8_t ret_shared[32])
{
	EVP_PKEY *mine = NULL, *theirs = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t out[32], zero[32] = { 0 };
	size_t n = sizeof(out);
	int r = -EIO;

	mine = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, private_key, 32);
	theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
	if (!mine || !theirs)
		goto out;
	ctx = EVP_PKEY_CTX_new(mine, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, theirs) != 1)
		goto out;
	if (EVP_PKEY_derive(ctx, out, &n) != 1 || n != 32) {
		/* OpenSSL refuses low-order points (all-zero result). */
		r = -EINVAL;
		goto out;
	}
	if (memcmp(out, zero, 32) == 0) {
		r = -EINVAL;
		goto out;
	}
	memcpy(ret_shared, out, 32);
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(theirs);
	return r;
}

static int ed25519_sign(const uint8_t seed[32], const uint8_t *msg,
			size_t len, uint8_t ret[64])
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *k;
	size_t n = 64;
	int r = -EIO;

	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (!k)
		return -EIO;
	md = EVP_MD_CTX_new();
	if (md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestSign(md, ret, &n, msg, len) == 1 && n == 64)
		r = 0;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return r;
}

int fs_identity_make(struct fs_identity *id, const uint8_t addr[6],
		     bool genuine)
{
	static const char ecdh_label[] = "flicsim button ecdh key";
	static const char rogue_label[] = "flicsim unknown identity key";
	uint8_t msg[39], seed[32];
	int r;

	for (int i = 0; i < 6; i++)
		id->addr_le[i] = addr[5 - i];

	/*
	 * The certificate covers the ECDH key, so a real button's key is static
	 * (signed once at the factory). Derive it from the address so that the
	 * same emulated button keeps its identity across simulator runs.
	 */
	sha256_parts((struct part[]){ { ecdh_label, sizeof(ecdh_label) - 1 },
				      { addr, 6 } }, 2, id->ecdh_private);
	r = x25519_public(id->ecdh_private, id->ecdh_public);
	if (r < 0)
		return r;

	memcpy(msg, id->addr_le, 6);
	msg[6] = 0;	/* public address */
	memcpy(msg + 7, id->ecdh_public, 32);
	if (genuine) {
		memcpy(seed, test_identity_seed, 32);
	} else {
		sha256_parts((struct part[]){ { rogue_label, sizeof(rogue_label) - 1 },
					      { addr, 6 } }, 2, seed);
	}
	r = ed25519_sign(seed, msg, sizeof(msg), id->signature);
	OPENSSL_cleanse(seed, sizeof(seed));
	if (r < 0)
		return r;
	id->variant = id->signature[32] & 3;
	return 0;
}

void fs_full_verify_secret(const uint8_t shared[32], uint8_t variant,
			   const uint8_t button_random[8],
			   const uint8_t client_random[8], uint8_t flags,
			   uint8_t ret[32])
{
	struct part parts[] = {
		{ shared, 32 }, { &variant, 1 }, { button_random, 8 },
		{ client_random, 8 }, { &flags, 1 },
	};

	sha256_parts(parts, 5, ret);
}

void fs_hmac_label(const uint8_t key[32], const char *label,
		   const uint8_t *extra, size_t extra_len, uint8_t ret[32])
{
	uint8_t msg[64];
	size_t n = strlen(label);
	unsigned int out_len = 32;

	memcpy(msg, label, n);
	if (extra_len)
		memcpy(msg + n, extra, extra_len);
	HMAC(EVP_sha256(), key, 32, msg, n + extra_len, ret, &out_len);
}

void fs_random(void *buf, size_t len)
{
	if (RAND_bytes(buf, (int)len) != 1)
		abort();
}

const char *fs_short_hex(const uint8_t *p, size_t len, char buf[16])
{
	snprintf(buf, 16, "%02x%02x…(%zu)", len > 0 ? p[0] : 0,
		 len > 1 ? p[1] : 0, len);
	return buf;
}
