/* Hex text <-> bytes (see hex.h). */
#include <errno.h>

#include "lib/hex.h"

static int digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int fg_unhex(const char *hex, size_t len, uint8_t *ret, size_t n)
{
	if (!hex || len != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (digit(hex[i]) < 0)
			return -EINVAL;
	for (size_t i = 0; i < n; i++)
		ret[i] = (uint8_t)(digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1]));
	return 0;
}

void fg_hex(const uint8_t *p, size_t n, char *ret)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		ret[2 * i] = digits[p[i] >> 4];
		ret[2 * i + 1] = digits[p[i] & 15];
	}
	ret[2 * n] = '\0';
}
