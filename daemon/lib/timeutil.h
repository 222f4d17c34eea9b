/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FG_USEC_PER_MSEC UINT64_C(1000)
#define FG_USEC_PER_SEC  UINT64_C(1000000)
#define FG_USEC_PER_MIN  (UINT64_C(60) * FG_USEC_PER_SEC)
#define FG_USEC_PER_HOUR (UINT64_C(60) * FG_USEC_PER_MIN)
#define FG_USEC_INFINITY UINT64_MAX

/*
 * Parse a duration: "250ms", "30s", "5min", "2h", "1d", combinations such as
 * "1min 30s", or a bare number meaning seconds. Returns 0 or -EINVAL/-ERANGE.
 */
int fg_parse_duration(const char *s, uint64_t *ret_usec);

/* Format as the shortest exact form ("90s" -> "1min 30s"). Returns @buf. */
const char *fg_format_duration(uint64_t usec, char *buf, size_t size);
#define FG_DURATION_BUF 64

/* CLOCK_MONOTONIC / CLOCK_REALTIME in microseconds. */
uint64_t fg_now_monotonic(void);
uint64_t fg_now_realtime(void);

/* RFC 3339 UTC with milliseconds, "2026-11-24T15:41:00.123Z". Returns @buf. */
const char *fg_format_rfc3339(uint64_t realtime_usec, char *buf, size_t size);
#define FG_RFC3339_BUF 32
