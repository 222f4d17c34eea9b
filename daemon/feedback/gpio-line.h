/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* "17" is offset 17 (0..65535), "GPIO17" a line name: true and *ret_offset for an offset. */
bool fg_gpio_line_is_offset(const char *s, unsigned *ret_offset);
