/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "delivery/alert.h"

/*
 * Body templates for the generic webhook preset.
 *
 * "${name}" is replaced by a field of the alert, always JSON-escaped by
 * lib's one escaper (fg_strbuf_put_json: ill-formed UTF-8 becomes U+FFFD;
 * no quotes added: write "\"${info}\"" for a JSON string); "$$" is a literal
 * "$"; any other "$" is copied as is. Unknown names, empty or unterminated
 * placeholders are errors, found when the configuration is loaded.
 */

/* Placeholder names in documentation order; NULL-terminated. */
extern const char *const fg_template_names[];
/* One-line description of a placeholder (for docs/alerts.md); NULL if unknown. */
const char *fg_template_describe(const char *name);

/*
 * Check @tpl. Returns 0, or -EINVAL with *ret_message set to a description
 * such as "unknown placeholder ${nmae} at column 12" (owned by the caller,
 * free()). A template whose first non-blank character is '{' or '[' must
 * also render to valid JSON for a sample alert (so a stray quote or comma
 * is caught at load time instead of at 3 a.m.).
 */
int fg_template_validate(const char *tpl, char **ret_message);

/* Render; *ret owned by the caller (free()). -EINVAL for an invalid @tpl. */
int fg_template_render(const char *tpl, const struct fg_alert *a, char **ret,
		       size_t *ret_len);

/*
 * True if [s, s+len) is one valid JSON value (RFC 8259), whitespace around:
 * a syntax check of rendered templates (lib/json.h only writes JSON).
 */
bool fg_json_is_valid(const char *s, size_t len);

/* The alert used to check templates; static, never freed. */
const struct fg_alert *fg_template_sample_alert(void);
