/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * Secret masking for logs, status and --check-config output. The result is
 * written to @buf (always NUL-terminated, truncated to @size) and @buf is
 * returned so calls can sit inside printf arguments.
 */

/*
 * "https://notify.alertops.com/POSTAlert/abc123/Flic?x=1" ->
 * "https://notify.alertops.com/…(redacted)". Scheme, host and port stay
 * visible so an operator can tell targets apart; userinfo, path and query
 * (where the keys live) are hidden. Non-URLs are masked like secrets.
 */
const char *fg_mask_url(const char *url, char *buf, size_t size);

/* "0123456789abcdef" -> "01…(16 chars)"; NULL or "" -> "(unset)". */
const char *fg_mask_secret(const char *secret, char *buf, size_t size);

/*
 * "Authorization: Bearer xyz" -> "Authorization: …(redacted)". Header
 * values are all treated as secret; the name stays visible.
 */
const char *fg_mask_header(const char *header, char *buf, size_t size);

#define FG_MASK_BUF 160
