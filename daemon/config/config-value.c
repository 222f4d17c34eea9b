/* SPDX-License-Identifier: MIT */
/*
 * Typed values: one option's text parsed and checked into its field of
 * struct fg_config (durations, addresses, URLs, lists, ...), and defaults.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config-parser.h"
#include "lib/mask.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

bool fg_serial_is_valid(const char *s)
{
	size_t n, i;

	if (!s)
		return false;
	n = strlen(s);
	if (n < 10 || n > 11 || s[4] != '-')
		return false;
	for (i = 0; i < n; i++) {
		if (i == 4)
			continue;
		if (!isdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i]))
			return false;
	}
	return true;
}

static int parse_bool(const char *v, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };

	for (int i = 0; yes[i]; i++)
		if (strcasecmp(v, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
	for (int i = 0; no[i]; i++)
		if (strcasecmp(v, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	return -EINVAL;
}

static int parse_uint(const char *v, uint64_t *ret)
{
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = n;
	return 0;
}

static int parse_rate(const char *v, double *ret)
{
	double count, per = 1.0;
	char *end;

	errno = 0;
	count = strtod(v, &end);
	if (end == v || errno || !isfinite(count) || count < 0)
		return -EINVAL;
	while (*end == ' ')
		end++;
	if (*end == '/') {
		uint64_t usec;
		const char *unit = end + 1;
		char buf[32];

		/* "1/5s" means one per five seconds; "2/s" needs a count of 1 */
		if (isdigit((unsigned char)*unit))
			snprintf(buf, sizeof(buf), "%s", unit);
		else
			snprintf(buf, sizeof(buf), "1%s", unit);
		if (fg_parse_duration(buf, &usec) < 0 || usec == 0)
			return -EINVAL;
		per = (double)usec / (double)FG_USEC_PER_SEC;
	} else if (*end) {
		return -EINVAL;
	}
	*ret = count / per;
	return 0;
}

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool text_is_printable(const char *s, bool allow_newline)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n' && allow_newline)
			continue;
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

/* Accepts http(s)://host[:port][/path…]; the rest is the target's business. */
static const char *url_problem(const char *v)
{
	const char *host, *host_end;

	if (strncasecmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncasecmp(v, "http://", 7) == 0)
		host = v + 7;
	else
		return "must start with https:// or http://";
	host_end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(host_end - host)))
		host = (const char *)memchr(host, '@', (size_t)(host_end - host)) + 1;
	if (host == host_end || *host == ':')
		return "has no host name";
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '"' || *p == '<' ||
		    *p == '>' || *p == '\\')
			return "contains a space or a character that must be %-encoded";
	return NULL;
}

void fg_config_replace_str(char **slot, const char *v)
{
	char *copy = strdup(v);

	if (!copy)
		abort();	/* a config that cannot be held in memory is not a config */
	free(*slot);
	*slot = copy;
}

/* As flicgated --log-level takes it: the names, any case, "error" and "warn". */
/* see config-parser.h */
const char *fg_config_apply_value(struct parser *p, const struct fg_config_option *o,
			       void *obj, const char *value, unsigned line,
			       char *msg, size_t msgsize)
{
	char *field = (char *)obj + o->offset;
	char buf[256];

	switch (o->type) {
	case T_STRING:
		if (!text_is_printable(value, o->flags & F_MULTILINE))
			return "contains control characters";
		if (*value == '\0' && o->def == NULL) {
			/* "key =" on an optional string means unset */
			free(*(char **)field);
			*(char **)field = NULL;
			return NULL;
		}
		fg_config_replace_str((char **)field, value);
		return NULL;
	case T_NAME_TEXT:
		if (*value == '\0' && o->def == NULL) {
			free(*(char **)field);
			*(char **)field = NULL;
			return NULL;
		}
		if (!text_is_printable(value, false))
			return "contains control characters";
		if (strlen(value) < o->min || strlen(value) > o->max) {
			snprintf(msg, msgsize, "must be %llu to %llu characters long",
				 (unsigned long long)o->min, (unsigned long long)o->max);
			return msg;
		}
		fg_config_replace_str((char **)field, value);
		return NULL;
	case T_PATH:
		if (*value == '\0' && o->def == NULL) {
			free(*(char **)field);
			*(char **)field = NULL;
			return NULL;
		}
		if (value[0] != '/')
			return "must be an absolute path (starting with /)";
		if (!text_is_printable(value, false))
			return "contains control characters";
		fg_config_replace_str((char **)field, value);
		return NULL;
	case T_URL: {
		const char *why;

		if (*value == '\0' && !(o->flags & F_REQUIRED)) {
			free(*(char **)field);
			*(char **)field = NULL;
			return NULL;
		}
		why = url_problem(value);
		if (why) {
			/* never echo the URL back: it carries the key */
			snprintf(msg, msgsize, "%s (value %s)", why,
				 fg_mask_url(value, buf, sizeof(buf)));
			return msg;
		}
		fg_config_replace_str((char **)field, value);
		return NULL;
	}
	case T_BOOL:
		if (parse_bool(value, (bool *)field) < 0)
			return "must be a boolean: yes/no, true/false, on/off or 1/0";
		return NULL;
	case T_UINT: {
		uint64_t n;

		if ((o->flags & F_AUTO) && strcasecmp(value, "auto") == 0) {
			*(unsigned *)field = 0;
			return NULL;
		}
		if (parse_uint(value, &n) < 0 || n < o->min || n > o->max) {
			snprintf(msg, msgsize, "must be a whole number from %llu to %llu%s",
				 (unsigned long long)o->min, (unsigned long long)o->max,
				 o->flags & F_AUTO ? " or auto" : "");
			return msg;
		}
		*(unsigned *)field = (unsigned)n;
		return NULL;
	}
	case T_DURATION: {
		char a[FG_DURATION_BUF], b[FG_DURATION_BUF];
		uint64_t usec;

		if (fg_parse_duration(value, &usec) < 0 ||
		    (usec != 0 && usec < o->min) || usec > o->max ||
		    (usec == 0 && o->min > 0)) {
			snprintf(msg, msgsize,
				 "must be a duration from %s to %s (like 250ms, 30s, 5min, 2h, 1d)",
				 fg_format_duration(o->min, a, sizeof(a)),
				 fg_format_duration(o->max, b, sizeof(b)));
			return msg;
		}
		*(uint64_t *)field = usec;
		return NULL;
	}
	case T_ENUM:
		for (int i = 0; o->names[i]; i++)
			if (strcasecmp(value, o->names[i]) == 0) {
				if (o->names == fg_config_method_names)
					fg_config_replace_str((char **)field, o->names[i]);
				else
					*(int *)field = i;
				return NULL;
			}
		snprintf(msg, msgsize, "must be one of: %s",
			 fg_config_enum_list(o->names, buf, sizeof(buf)));
		return msg;
	case T_LOGLEVEL: {
		int l = fg_log_level_from_string(value);

		if (l < 0)
			return "must be one of: err, warning, notice, info, debug";
		*(int *)field = l;
		return NULL;
	}
	case T_ADDRESS: {
		struct fg_button_config *b = obj;

		if (fg_parse_address(value, b->address) < 0)
			return "must be a Bluetooth address like 80:E4:DA:70:12:34 (six hex pairs separated by ':')";
		b->has_address = true;
		return NULL;
	}
	case T_SERIAL: {
		char up[32];
		size_t n = strlen(value);

		if (n >= sizeof(up))
			return "must be a serial number like BG30-C12345";
		for (size_t i = 0; i <= n; i++)
			up[i] = (char)toupper((unsigned char)value[i]);
		if (!fg_serial_is_valid(up))
			return "must be a serial number like BG30-C12345 (four letters/digits, '-', five or six letters/digits)";
		fg_config_replace_str((char **)field, up);
		return NULL;
	}
	case T_GESTURES: {
		fg_gesture_mask m = 0;
		char **l = NULL, *g;

		if (fg_strv_split_list(value, &l) < 0)
			abort();
		FG_STRV_FOREACH(g, l) {
			enum fg_gesture x = fg_gesture_from_string(g);

			if (x == _FG_GESTURE_INVALID) {
				snprintf(msg, msgsize,
					 "unknown gesture '%.40s'; allowed: down, up, click, single_click, double_click, hold",
					 g);
				fg_strv_free(l);
				return msg;
			}
			if (m & FG_GESTURE_BIT(x)) {
				snprintf(msg, msgsize, "gesture '%.40s' is listed twice", g);
				fg_strv_free(l);
				return msg;
			}
			m |= FG_GESTURE_BIT(x);
		}
		fg_strv_free(l);
		*(fg_gesture_mask *)field = m;
		return NULL;
	}
	case T_WEBHOOKS: {
		char **l = NULL, *n;

		if (fg_strv_split_list(value, &l) < 0)
			abort();
		FG_STRV_FOREACH(n, l)
			if (!fg_name_is_valid(n)) {
				snprintf(msg, msgsize, "'%.40s' is not a webhook name", n);
				fg_strv_free(l);
				return msg;
			}
		if (o->section == SEC_BUTTON) {
			size_t i = (size_t)((struct fg_button_config *)obj - p->config->buttons);

			fg_strv_free(p->webhook_refs[i]);
			p->webhook_refs[i] = l;
			p->webhook_ref_line[i] = line;
		} else if (strcmp(o->key, "test_webhook") == 0) {
			fg_strv_free(p->health_test_refs);
			p->health_test_refs = l;
		} else {
			fg_strv_free(p->health_refs);
			p->health_refs = l;
			p->health_ref_line = line;
		}
		return NULL;
	}
	case T_HEADER: {
		const char *colon = strchr(value, ':');

		if (!colon || colon == value)
			return "must be \"Name: value\"";
		for (const char *q = value; q < colon; q++)
			if (!isalnum((unsigned char)*q) && !strchr("!#$%&'*+-.^_`|~", *q))
				return "header name may only hold letters, digits and -_.!#$%&'*+^`|~";
		if (!text_is_printable(value, false))
			return "contains control characters";
		if (fg_strv_push((char ***)field, value) < 0)
			abort();
		return NULL;
	}
	case T_KEYS: {
		char **l = NULL, *k;

		if (fg_strv_split_list(value, &l) < 0)
			abort();
		FG_STRV_FOREACH(k, l)
			if (!is_hex(k, 64)) {
				fg_strv_free(l);
				return "must be Ed25519 public keys of 64 hex digits each";
			}
		FG_STRV_FOREACH(k, l)
			if (fg_strv_push((char ***)field, k) < 0)
				abort();
		fg_strv_free(l);
		return NULL;
	}
	case T_RATE:
		if (parse_rate(value, (double *)field) < 0)
			return "must be a rate like 2/s, 1/5s or 30/min (0 = the preset's limit)";
		return NULL;
	case T_LINE: {
		uint64_t n;

		if (*value == '\0') {
			free(*(char **)field);
			*(char **)field = NULL;
			return NULL;
		}
		if (isdigit((unsigned char)*value)) {
			if (parse_uint(value, &n) < 0 || n > 1023)
				return "line offset must be a number from 0 to 1023 (or give the line's name)";
		} else if (strncasecmp(value, "gpiochip", 8) == 0) {
			return "give the line's offset or name, not a chip";
		} else if (!fg_name_is_valid(value)) {
			return "must be a line offset (17) or a line name (GPIO17)";
		}
		fg_config_replace_str((char **)field, value);
		return NULL;
	}
	}
	return "unsupported option type";
}

void fg_config_apply_defaults(struct parser *p, enum section_kind k, void *obj)
{
	char msg[256];

	for (size_t i = 0; i < FG_CONFIG_N_OPTIONS; i++) {
		const struct fg_config_option *o = &fg_config_options[i];
		const char *err;

		if (o->section != k || !o->def)
			continue;
		err = fg_config_apply_value(p, o, obj, o->def, 0, msg, sizeof(msg));
		if (err)	/* the table itself is wrong: tests catch this */
			fg_config_add_error(p, 0, "internal: default of %s.%s: %s",
				  fg_config_sections[k].name, o->key, err);
	}
}

char *fg_config_strip_comment(const char *v, size_t n)
{
	bool quoted = false;
	size_t end = n, start = 0;
	char *out;

	for (size_t i = 0; i < n; i++) {
		if (v[i] == '"') {
			quoted = !quoted;
		} else if (!quoted && (v[i] == '#' || v[i] == ';') &&
			   (i == 0 || v[i - 1] == ' ' || v[i - 1] == '\t')) {
			end = i;
			break;
		}
	}
	while (start < end && (v[start] == ' ' || v[start] == '\t'))
		start++;
	while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
		end--;
	out = strndup(v + start, end - start);
	if (!out)
		abort();
	return out;
}

void fg_config_unquote(char *v)
{
	size_t n = strlen(v);

	if (n < 2 || v[0] != '"' || v[n - 1] != '"' || memchr(v + 1, '"', n - 2))
		return;
	memmove(v, v + 1, n - 2);
	v[n - 2] = '\0';
}
