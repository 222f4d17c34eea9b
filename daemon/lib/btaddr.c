/* Bluetooth addresses as text (see btaddr.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/btaddr.h"

int fg_parse_address(const char *s, uint8_t ret[6])
{
	uint8_t a[6];

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *h = s + i * 3;
		char sep = h[2];

		if (!isxdigit((unsigned char)h[0]) || !isxdigit((unsigned char)h[1]))
			return -EINVAL;
		if (i < 5 && sep != ':' && sep != '-')
			return -EINVAL;
		if (i < 5 && sep != s[2])
			return -EINVAL;	/* mixed separators */
		a[i] = (uint8_t)strtoul((char[]){ h[0], h[1], 0 }, NULL, 16);
	}
	memcpy(ret, a, 6);
	return 0;
}

void fg_format_address(const uint8_t addr[6], char buf[18])
{
	snprintf(buf, 18, "%02X:%02X:%02X:%02X:%02X:%02X", addr[0], addr[1],
		 addr[2], addr[3], addr[4], addr[5]);
}
