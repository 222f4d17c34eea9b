/* Hex text <-> bytes: the one decoder and encoder (pairing files, keys,
 * advertisement digits, the simulator's and the CLI's arguments). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Exactly 2 * @n hex digits (either case; @len is the number of characters
 * given, which must be 2 * @n) -> @n bytes in @ret. Returns 0, or -EINVAL
 * for a wrong length or a non-digit; @ret is written only on success.
 */
int fg_unhex(const char *hex, size_t len, uint8_t *ret, size_t n);

/* @n bytes -> 2 * @n lower-case digits and a NUL in @ret (2 * @n + 1 bytes). */
void fg_hex(const uint8_t *p, size_t n, char *ret);
