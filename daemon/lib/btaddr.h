/* Bluetooth device addresses as text: "AA:BB:CC:DD:EE:FF" <-> 6 bytes, most
 * significant byte first (the order BlueZ prints and the config file uses). */
#pragma once

#include <stdint.h>

/*
 * "AA:BB:CC:DD:EE:FF" (either case, also '-' separated, not mixed) -> bytes.
 * Returns 0 or -EINVAL; @ret is written only on success.
 */
int fg_parse_address(const char *s, uint8_t ret[6]);
/* Upper case, ':' separated; writes 18 bytes with the NUL. */
void fg_format_address(const uint8_t addr[6], char buf[18]);
