/* SPDX-License-Identifier: MIT */
/* How a [gpio] line is named: a number is an offset on the chip, anything
 * else a line name. Pure; shared by the libgpiod drivers. */
#include <ctype.h>

#include "feedback/gpio-line.h"

bool fg_gpio_line_is_offset(const char *s, unsigned *ret_offset)
{
	unsigned long v = 0;

	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return false;
	}
	*ret_offset = (unsigned)v;
	return true;
}
