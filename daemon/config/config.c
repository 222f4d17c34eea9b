/* SPDX-License-Identifier: MIT */
/*
 * flicgate.ini parser. inih splits lines into section/key/value; this file
 * drives it over the table in config-options.c: sections, keys, repeats and
 * continuations, with file:line messages; values are parsed in
 * config-value.c, cross-checked in config-check.c. Also the config's life
 * (ref/unref) and lookups.
 *
 * inih (as packaged by Debian) reads lines of at most 199 characters. The
 * reader below therefore feeds it physical lines itself: it numbers them
 * (for messages), spots sections and syntax errors (so that all of them
 * are reported, not only the first), and cuts over-long key lines into
 * pieces that come back to the handler as continuations and are glued
 * together again before the value is used.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "config/config-parser.h"
#include "lib/strv.h"

static void init_config(struct parser *p)
{
	for (int k = 0; k < _SEC_MAX; k++)
		if (!fg_config_sections[k].named)
			fg_config_apply_defaults(p, k, fg_config_section_obj(p->config, k));
}

static void begin_section(struct parser *p, const char *header, unsigned line)
{
	char kind[32], name[128];
	const char *sp;
	int k;

	p->in_bad_section = true;
	p->cur_obj = NULL;
	p->cur_seen = NULL;

	sp = header + strcspn(header, " \t");
	if ((size_t)(sp - header) >= sizeof(kind)) {
		fg_config_add_error(p, line, "[%.40s]: unknown section", header);
		return;
	}
	memcpy(kind, header, (size_t)(sp - header));
	kind[sp - header] = '\0';
	while (*sp == ' ' || *sp == '\t')
		sp++;
	snprintf(name, sizeof(name), "%s", sp);
	for (size_t n = strlen(name); n > 0 && isspace((unsigned char)name[n - 1]); n--)
		name[n - 1] = '\0';

	for (k = 0; k < _SEC_MAX; k++)
		if (strcasecmp(kind, fg_config_sections[k].name) == 0)
			break;
	if (k == _SEC_MAX) {
		fg_config_add_error(p, line,
			  "[%.40s]: unknown section; allowed: [gateway], [bluetooth], [webhook NAME], [button NAME], [gpio], [escalation], [health], [system]",
			  header);
		return;
	}

	if (!fg_config_sections[k].named) {
		if (*name) {
			fg_config_add_error(p, line, "[%s] takes no name (found '%.40s')", fg_config_sections[k].name, name);
			return;
		}
		if (p->fixed_line[k]) {
			fg_config_add_error(p, line, "[%s] appears twice (first at line %u); merge them",
				  fg_config_sections[k].name, p->fixed_line[k]);
			return;
		}
		p->fixed_line[k] = line;
		p->cur_kind = k;
		p->cur_obj = fg_config_section_obj(p->config, k);
		p->cur_seen = p->fixed_seen[k];
		p->in_bad_section = false;
		return;
	}

	if (!*name) {
		fg_config_add_error(p, line, "[%s] needs a name: [%s NAME]", fg_config_sections[k].name, fg_config_sections[k].name);
		return;
	}
	if (!fg_name_is_valid(name) || strlen(name) > 64) {
		fg_config_add_error(p, line, "[%s %.40s]: a name may hold only letters, digits, '_', '-' and '.' (at most 64)",
			  fg_config_sections[k].name, name);
		return;
	}

	if (k == SEC_WEBHOOK) {
		struct fg_config *c = p->config;
		size_t n = c->n_webhooks;

		for (size_t i = 0; i < n; i++)
			if (strcmp(c->webhooks[i].name, name) == 0) {
				fg_config_add_error(p, line, "[webhook %s] appears twice (first at line %u)",
					  name, c->webhooks[i].line);
				return;
			}
		c->webhooks = realloc(c->webhooks, (n + 1) * sizeof(*c->webhooks));
		p->webhook_seen = realloc(p->webhook_seen, (n + 1) * sizeof(*p->webhook_seen));
		if (!c->webhooks || !p->webhook_seen)
			abort();
		memset(&c->webhooks[n], 0, sizeof(c->webhooks[n]));
		memset(p->webhook_seen[n], 0, sizeof(p->webhook_seen[n]));
		c->n_webhooks = n + 1;
		fg_config_replace_str(&c->webhooks[n].name, name);
		c->webhooks[n].line = line;
		fg_config_apply_defaults(p, SEC_WEBHOOK, &c->webhooks[n]);
		p->cur_obj = &c->webhooks[n];
		p->cur_seen = p->webhook_seen[n];
	} else {
		struct fg_config *c = p->config;
		size_t n = c->n_buttons;

		for (size_t i = 0; i < n; i++)
			if (strcmp(c->buttons[i].name, name) == 0) {
				fg_config_add_error(p, line, "[button %s] appears twice (first at line %u)",
					  name, c->buttons[i].line);
				return;
			}
		c->buttons = realloc(c->buttons, (n + 1) * sizeof(*c->buttons));
		p->button_seen = realloc(p->button_seen, (n + 1) * sizeof(*p->button_seen));
		p->webhook_refs = realloc(p->webhook_refs, (n + 1) * sizeof(*p->webhook_refs));
		p->webhook_ref_line = realloc(p->webhook_ref_line, (n + 1) * sizeof(*p->webhook_ref_line));
		if (!c->buttons || !p->button_seen || !p->webhook_refs || !p->webhook_ref_line)
			abort();
		memset(&c->buttons[n], 0, sizeof(c->buttons[n]));
		memset(p->button_seen[n], 0, sizeof(p->button_seen[n]));
		p->webhook_refs[n] = NULL;
		p->webhook_ref_line[n] = 0;
		c->n_buttons = n + 1;
		fg_config_replace_str(&c->buttons[n].name, name);
		c->buttons[n].line = line;
		fg_config_apply_defaults(p, SEC_BUTTON, &c->buttons[n]);
		p->cur_obj = &c->buttons[n];
		p->cur_seen = p->button_seen[n];
	}
	p->cur_kind = k;
	p->in_bad_section = false;
}

/* ------------------------------------------------------------------ */
/* Keys */

static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned prev = row[0], tmp;

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			unsigned best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

static void flush_pending(struct parser *p)
{
	const struct fg_config_option *o = p->pend_opt;
	char msg[512];
	const char *err;

	if (!o)
		return;
	fg_config_unquote(p->pend_value);
	/* checked first: a refused value is not stored (a partial load keeps the rest) */
	err = o->validate ? o->validate(p->pend_value, msg, sizeof(msg)) : NULL;
	if (!err)
		err = fg_config_apply_value(p, o, p->pend_obj, p->pend_value, p->pend_line, msg, sizeof(msg));
	if (err)
		fg_config_add_error(p, p->pend_line, "%s.%s: %s", fg_config_sections[o->section].name, o->key, err);
	free(p->pend_value);
	p->pend_value = NULL;
	p->pend_opt = NULL;
}

static void append_pending(struct parser *p, const char *sep, const char *value)
{
	size_t a = strlen(p->pend_value), b = strlen(sep), c = strlen(value);
	char *n = realloc(p->pend_value, a + b + c + 1);

	if (!n)
		abort();
	memcpy(n + a, sep, b);
	memcpy(n + a + b, value, c + 1);
	p->pend_value = n;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	const struct fg_config_option *o = NULL, *best = NULL;
	unsigned best_d = 99;

	if (p->chunk == CHUNK_SPLIT)
		return 1;	/* the reader cut an over-long line: its value came whole with the first piece */
	/* inih's value knows only its own comment rule: use the line's, by ours */
	if (p->line_value)
		value = p->line_value;
	if (p->chunk == CHUNK_INDENTED) {
		if (!p->pend_opt)
			return 1;	/* continuation of a key already reported */
		if (!(p->pend_opt->flags & F_MULTILINE)) {
			fg_config_add_error(p, p->lineno,
				  "%s.%s: indented line continues a value that must fit on one line (only body and info may continue)",
				  fg_config_sections[p->pend_opt->section].name, p->pend_opt->key);
			free(p->pend_value);
			p->pend_value = NULL;
			p->pend_opt = NULL;
			return 1;
		}
		append_pending(p, "\n", value);
		return 1;
	}

	flush_pending(p);

	if (p->in_bad_section)
		return 1;	/* the header was reported already */
	if (!*section) {
		fg_config_add_error(p, p->lineno, "%.60s: a key before any [section]", name);
		return 1;
	}

	for (size_t i = 0; i < FG_CONFIG_N_OPTIONS; i++) {
		unsigned d;

		if (fg_config_options[i].section != p->cur_kind)
			continue;
		if (strcasecmp(fg_config_options[i].key, name) == 0) {
			o = &fg_config_options[i];
			break;
		}
		d = edit_distance(fg_config_options[i].key, name);
		if (d < best_d) {
			best_d = d;
			best = &fg_config_options[i];
		}
	}
	if (!o) {
		if (best && best_d <= 2)
			fg_config_add_error(p, p->lineno, "%s.%.60s: unknown key (did you mean '%s'?)",
				  fg_config_sections[p->cur_kind].name, name, best->key);
		else
			fg_config_add_error(p, p->lineno, "%s.%.60s: unknown key", fg_config_sections[p->cur_kind].name, name);
		return 1;
	}
	if (p->cur_seen[o - fg_config_options] && !(o->flags & F_REPEAT)) {
		fg_config_add_error(p, p->lineno, "%s.%s: given twice in this section (first at line %u)",
			  fg_config_sections[o->section].name, o->key, p->cur_seen[o - fg_config_options]);
		return 1;
	}
	p->cur_seen[o - fg_config_options] = p->lineno;
	p->pend_opt = o;
	p->pend_obj = p->cur_obj;
	p->pend_line = p->lineno;
	p->pend_value = strdup(value);
	if (!p->pend_value)
		abort();
	return 1;
}

/* ------------------------------------------------------------------ */
/* Reader: see the comment at the top of the file. */

static bool is_comment_start(char c)
{
	return c == ';' || c == '#';
}

static char *reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	size_t max = (size_t)num - 3;	/* room for "\n", "\0" and a lead blank */
	const char *line, *eol, *start;
	size_t len;

	if (p->split_rest) {
		size_t take = p->split_rest_len;

		if (take > max - 1) {
			take = max - 1;
			/* inih trims blanks at both ends: cut between two non-blanks */
			while (take > 1 && (isspace((unsigned char)p->split_rest[take - 1]) ||
					    isspace((unsigned char)p->split_rest[take]) ||
					    is_comment_start(p->split_rest[take])))
				take--;
		}
		str[0] = ' ';	/* leading blank: inih calls it a continuation */
		memcpy(str + 1, p->split_rest, take);
		str[take + 1] = '\n';
		str[take + 2] = '\0';
		p->split_rest += take;
		p->split_rest_len -= take;
		if (p->split_rest_len == 0)
			p->split_rest = NULL;
		p->chunk = CHUNK_SPLIT;
		return str;
	}

	if (p->pos >= p->end)
		return NULL;
	line = p->pos;
	eol = memchr(line, '\n', (size_t)(p->end - line));
	if (!eol)
		eol = p->end;
	p->pos = eol < p->end ? eol + 1 : eol;
	len = (size_t)(eol - line);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	p->lineno++;

	start = line;
	while (start < line + len && isspace((unsigned char)*start))
		start++;

	if (memchr(line, '\0', len)) {
		fg_config_add_error(p, p->lineno, "contains a NUL byte");
		str[0] = '\n';
		str[1] = '\0';
		p->chunk = CHUNK_LINE;
		return str;
	}

	if (start == line + len || is_comment_start(*start)) {
		/* blank or comment: nothing for inih to do, whatever its length */
		if (start == line + len) {
			flush_pending(p);
			p->can_continue = false;
		}
		str[0] = '\n';
		str[1] = '\0';
		p->chunk = CHUNK_LINE;
		return str;
	}

	if (start > line) {
		p->chunk = CHUNK_INDENTED;
		if (!p->can_continue) {
			fg_config_add_error(p, p->lineno,
				  "indented line continues nothing (remove the leading blanks)");
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
	} else if (*start == '[') {
		const char *close = memchr(start, ']', len);
		char header[160];
		size_t hl;

		flush_pending(p);
		p->chunk = CHUNK_LINE;
		p->can_continue = false;
		if (!close) {
			fg_config_add_error(p, p->lineno, "section header without closing ']'");
			p->in_bad_section = true;
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
		hl = (size_t)(close - start - 1);
		if (hl >= sizeof(header))
			hl = sizeof(header) - 1;
		memcpy(header, start + 1, hl);
		header[hl] = '\0';
		{
			/* trim blanks inside the brackets */
			char *h = header;
			size_t n;

			while (isspace((unsigned char)*h))
				h++;
			memmove(header, h, strlen(h) + 1);
			n = strlen(header);
			while (n > 0 && isspace((unsigned char)header[n - 1]))
				header[--n] = '\0';
		}
		begin_section(p, header, p->lineno);
		/* hand inih a header it accepts, whatever we decided */
		snprintf(str, (size_t)num, "[%.*s]\n", (int)(max - 2 < hl ? max - 2 : hl), header);
		return str;
	} else {
		const char *eq = memchr(start, '=', len);
		const char *colon = memchr(start, ':', len);

		p->chunk = CHUNK_LINE;
		if (!eq && !colon) {
			flush_pending(p);
			p->can_continue = false;
			fg_config_add_error(p, p->lineno, "expected \"key = value\", a [section] or a comment");
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
	}

	p->can_continue = true;
	free(p->line_value);
	if (start > line) {
		p->line_value = fg_config_strip_comment(start, len - (size_t)(start - line));
	} else {
		size_t k = strcspn(start, "=:");

		/* k < len: the line has '=' or ':' (checked above) */
		p->line_value = fg_config_strip_comment(start + k + 1, len - k - 1);
	}
	if (len <= max) {
		memcpy(str, line, len);
		str[len] = '\n';
		str[len + 1] = '\0';
		return str;
	}

	/* over-long: hand out the first piece, keep the rest for later calls */
	{
		size_t take = max;

		while (take > 1 && (isspace((unsigned char)line[take - 1]) ||
				    isspace((unsigned char)line[take]) ||
				    is_comment_start(line[take])))
			take--;
		memcpy(str, line, take);
		str[take] = '\n';
		str[take + 1] = '\0';
		p->split_rest = line + take;
		p->split_rest_len = len - take;
	}
	return str;
}

/* ------------------------------------------------------------------ */
/* Entry points */

struct fg_config *fg_config_ref(struct fg_config *c)
{
	if (c) {
		assert(c->n_ref > 0);
		c->n_ref++;
	}
	return c;
}

static void config_free(struct fg_config *c)
{
	for (size_t i = 0; i < FG_CONFIG_N_OPTIONS; i++) {
		const struct fg_config_option *o = &fg_config_options[i];
		size_t n = 1;
		char *base;

		if (o->section == SEC_WEBHOOK)
			n = c->n_webhooks;
		else if (o->section == SEC_BUTTON)
			n = c->n_buttons;
		for (size_t j = 0; j < n; j++) {
			if (o->section == SEC_WEBHOOK)
				base = (char *)&c->webhooks[j];
			else if (o->section == SEC_BUTTON)
				base = (char *)&c->buttons[j];
			else
				base = fg_config_section_obj(c, o->section);
			switch (o->type) {
			case T_STRING:
			case T_NAME_TEXT:
			case T_PATH:
			case T_URL:
			case T_SERIAL:
			case T_LINE:
				free(*(char **)(base + o->offset));
				break;
			case T_ENUM:
				if (o->names == fg_config_method_names)
					free(*(char **)(base + o->offset));
				break;
			case T_HEADER:
			case T_KEYS:
				fg_strv_free(*(char ***)(base + o->offset));
				break;
			case T_WEBHOOKS:
				free(*(size_t **)(base + o->offset));
				break;
			case T_BOOL:
			case T_UINT:
			case T_DURATION:
			case T_LOGLEVEL:
			case T_ADDRESS:
			case T_GESTURES:
			case T_RATE:
				break;
			}
		}
	}
	for (size_t j = 0; j < c->n_webhooks; j++)
		free(c->webhooks[j].name);
	for (size_t j = 0; j < c->n_buttons; j++)
		free(c->buttons[j].name);
	free(c->webhooks);
	free(c->buttons);
	free(c->path);
	free(c);
}

struct fg_config *fg_config_unref(struct fg_config *c)
{
	if (!c)
		return NULL;
	assert(c->n_ref > 0);
	if (--c->n_ref == 0)
		config_free(c);
	return NULL;
}

static void parser_done(struct parser *p)
{
	for (size_t i = 0; p->config && i < p->config->n_buttons; i++)
		fg_strv_free(p->webhook_refs[i]);
	free(p->webhook_refs);
	free(p->webhook_ref_line);
	fg_strv_free(p->health_refs);
	fg_strv_free(p->health_test_refs);
	free(p->webhook_seen);
	free(p->button_seen);
	free(p->pend_value);
	free(p->line_value);
}

/* The line number of "file:line: …" (0 for a message without one). */
static unsigned long message_line(const struct parser *p, const char *m)
{
	size_t n = strlen(p->filename);

	if (strncmp(m, p->filename, n) != 0 || m[n] != ':')
		return 0;
	return strtoul(m + n + 1, NULL, 10);
}

/* The cross-checks come after the file is read: put every message in line order (stable). */
static void sort_messages(const struct parser *p, size_t first)
{
	char **m;

	if (!p->errors)
		return;
	m = p->errors->messages;
	for (size_t i = first + 1; i < p->errors->n; i++) {
		char *x = m[i];
		unsigned long l = message_line(p, x);
		size_t j = i;

		for (; j > first && message_line(p, m[j - 1]) > l; j--)
			m[j] = m[j - 1];
		m[j] = x;
	}
}

static int parse(const char *filename, const char *text, size_t len, bool partial,
		 struct fg_config_errors *errors, struct fg_config **ret)
{
	struct parser p = {
		.filename = filename,
		.errors = errors,
		.cur_kind = _SEC_MAX,
	};
	size_t first_error = errors ? errors->n : 0;
	int r;

	p.config = calloc(1, sizeof(*p.config));
	if (p.config)
		p.config->n_ref = 1;
	if (!p.config)
		return -ENOMEM;
	p.config->path = strdup(filename);
	if (!p.config->path) {
		free(p.config);
		return -ENOMEM;
	}

	/* a UTF-8 byte order mark, as Windows Notepad writes */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	p.text = p.pos = text;
	p.end = text + len;

	init_config(&p);
	r = ini_parse_stream(reader, &p, handler, &p);
	flush_pending(&p);
	if (r == -2) {
		parser_done(&p);
		fg_config_unref(p.config);
		return -ENOMEM;
	}
	/*
	 * r > 0 is inih's first syntax error; the reader has already
	 * reported every malformed line with a clearer message.
	 */
	if (r > 0 && p.n_errors == 0)
		fg_config_add_error(&p, (unsigned)r, "syntax error");

	/* even after errors: one pass lists them all (a missing key too) */
	fg_config_check(&p);
	sort_messages(&p, first_error);
	parser_done(&p);
	if (p.n_errors > 0 && !partial) {
		fg_config_unref(p.config);
		return -EINVAL;
	}
	*ret = p.config;
	return p.n_errors > 0 ? -EINVAL : 0;
}

int fg_config_parse(const char *filename, const char *text, size_t len,
		    struct fg_config_errors *errors, struct fg_config **ret)
{
	return parse(filename, text, len, false, errors, ret);
}

int fg_config_parse_partial(const char *filename, const char *text, size_t len,
			    struct fg_config_errors *errors, struct fg_config **ret)
{
	return parse(filename, text, len, true, errors, ret);
}

/* ------------------------------------------------------------------ */
/* Lookups and names */

const struct fg_button_config *fg_config_button_by_address(const struct fg_config *c, const uint8_t addr[6])
{
	for (size_t i = 0; i < c->n_buttons; i++)
		if (c->buttons[i].has_address && memcmp(c->buttons[i].address, addr, 6) == 0)
			return &c->buttons[i];
	return NULL;
}

const struct fg_button_config *fg_config_button_by_serial(const struct fg_config *c, const char *serial)
{
	for (size_t i = 0; serial && i < c->n_buttons; i++)
		if (c->buttons[i].serial && strcasecmp(c->buttons[i].serial, serial) == 0)
			return &c->buttons[i];
	return NULL;
}

const struct fg_button_config *fg_config_button_by_name(const struct fg_config *c, const char *name)
{
	for (size_t i = 0; name && i < c->n_buttons; i++)
		if (strcmp(c->buttons[i].name, name) == 0)
			return &c->buttons[i];
	return NULL;
}

const struct fg_webhook_config *fg_config_webhook_by_name(const struct fg_config *c, const char *name)
{
	for (size_t i = 0; name && i < c->n_webhooks; i++)
		if (strcmp(c->webhooks[i].name, name) == 0)
			return &c->webhooks[i];
	return NULL;
}
