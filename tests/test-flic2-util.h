/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Small helpers shared by the Flic 2 unit tests (header only, every function
 * static): hex decoding with loud failure, and a deterministic byte source
 * for the engine's RNG callback.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg-test.h"

static inline int test_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode exactly @n bytes of hex (spaces ignored); the test fails otherwise. */
static inline void test_unhex(const char *hex, uint8_t *out, size_t n)
{
	size_t got = 0;

	for (const char *p = hex; *p; p++) {
		int hi, lo;

		if (*p == ' ' || *p == '\n')
			continue;
		hi = test_hexval(p[0]);
		lo = p[1] ? test_hexval(p[1]) : -1;
		assert_true(hi >= 0 && lo >= 0);
		assert_true(got < n);
		out[got++] = (uint8_t)(hi << 4 | lo);
		p++;
	}
	assert_int_equal(got, n);
}

/* Length in bytes of a hex string (spaces ignored). */
static inline size_t test_hexlen(const char *hex)
{
	size_t n = 0;

	for (const char *p = hex; *p; p++)
		if (*p != ' ' && *p != '\n')
			n++;
	return n / 2;
}

/* Decode into a malloc'd buffer; *ret_len set. */
static inline uint8_t *test_unhex_alloc(const char *hex, size_t *ret_len)
{
	size_t n = test_hexlen(hex);
	uint8_t *b = malloc(n ? n : 1);

	assert_non_null(b);
	test_unhex(hex, b, n);
	*ret_len = n;
	return b;
}

/*
 * Deterministic "random" bytes for tests: hands out a fixed script of bytes
 * in order and fails the test if the engine asks for more than scripted.
 */
struct test_rng {
	const uint8_t *bytes;
	size_t len;
	size_t pos;
	int fail;		/* when non-zero, return this error instead */
};

static inline int test_rng_cb(void *buf, size_t len, void *userdata)
{
	struct test_rng *r = userdata;

	if (r->fail)
		return r->fail;
	assert_true(r->pos + len <= r->len);
	memcpy(buf, r->bytes + r->pos, len);
	r->pos += len;
	return 0;
}

/* An endless pseudo-random stream (xorshift) for tests that need no script. */
struct test_prng {
	uint64_t s;
};

static inline int test_prng_cb(void *buf, size_t len, void *userdata)
{
	struct test_prng *r = userdata;
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i++) {
		r->s ^= r->s << 13;
		r->s ^= r->s >> 7;
		r->s ^= r->s << 17;
		b[i] = (uint8_t)(r->s >> 24);
	}
	return 0;
}
