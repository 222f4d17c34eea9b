/* SPDX-License-Identifier: MIT */
/*
 * The parser's state while one file is read, and the steps config.c drives:
 * typed values (config-value.c), cross-checks (config-check.c) and error
 * messages (config-error.c). Internal to daemon/config/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/config-options.h"

struct parser {
	const char *filename;
	struct fg_config *config;
	struct fg_config_errors *errors;
	unsigned n_errors;

	/* reader */
	const char *text, *end, *pos;
	unsigned lineno;		/* physical line of the text just handed out */
	const char *split_rest;		/* rest of an over-long key line */
	size_t split_rest_len;
	enum { CHUNK_LINE, CHUNK_INDENTED, CHUNK_SPLIT } chunk;
	bool can_continue;		/* an indented line would continue a key */
	bool in_bad_section;		/* keys after an invalid header are not reported */
	enum section_kind cur_kind;
	void *cur_obj;			/* the struct that the current section fills */
	unsigned *cur_seen;		/* per option: line it was given on, or 0 */

	/* the value being assembled, applied when the next key starts */
	const struct fg_config_option *pend_opt;
	void *pend_obj;
	unsigned pend_line;
	char *pend_value;
	/* the value of the line just handed to inih, by the rule below (owned) */
	char *line_value;

	/* per fixed section: header line (0 = absent) and seen flags */
	unsigned fixed_line[_SEC_MAX];
	unsigned fixed_seen[_SEC_MAX][FG_CONFIG_N_OPTIONS];
	unsigned (*webhook_seen)[FG_CONFIG_N_OPTIONS];
	unsigned (*button_seen)[FG_CONFIG_N_OPTIONS];
	char ***webhook_refs;		/* per button: names given in "webhook =" */
	unsigned *webhook_ref_line;
	char **health_refs;
	char **health_test_refs;	/* [health] test_webhook */
	unsigned health_ref_line;
};

/*
 * The one rule for values (flicgate.ini(5) "VALUES"), applied by the
 * reader to each physical line's value: outside double quotes, '#' or ';'
 * after a blank (or right after the '=') starts a comment; blanks around
 * are dropped. Returns a new string (abort()s on OOM).
 */
char *fg_config_strip_comment(const char *v, size_t n);
/* Then, on the whole value: "…" with no other '"' inside loses its quotes, in place. */
void fg_config_unquote(char *v);

/* Records "file:line: message" (no line when @line is 0). */
void fg_config_add_error(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* *slot = a copy of @v (the old value freed); aborts when out of memory. */
void fg_config_replace_str(char **slot, const char *v);
/*
 * Parse @value for @o into @obj. Returns NULL on success or a message
 * (static or in @msg) saying what is wrong and what is allowed.
 */
const char *fg_config_apply_value(struct parser *p, const struct fg_config_option *o,
				  void *obj, const char *value, unsigned line,
				  char *msg, size_t msgsize);
/* Every default of section kind @k into @obj. */
void fg_config_apply_defaults(struct parser *p, enum section_kind k, void *obj);
/* Cross-checks once everything is read: references, required keys, ... */
void fg_config_check(struct parser *p);
