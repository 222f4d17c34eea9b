/* SPDX-License-Identifier: MIT */
/*
 * Text generated from the option table: the effective configuration
 * (--check-config), the example conf/flicgate.ini and flicgate.ini(5).
 * Pure: it returns the text; config-load.c writes it out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config-options.h"
#include "lib/mask.h"
#include "lib/strbuf.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

static void fg_strbuf_putc(struct fg_strbuf *out, char c)
{
	fg_strbuf_putn(out, &c, 1);
}

static void format_gestures(fg_gesture_mask m, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int g = 0; g < _FG_GESTURE_MAX; g++)
		if (m & FG_GESTURE_BIT(g)) {
			int w = snprintf(buf + off, size - off, "%s%s", off ? ", " : "",
					 fg_gesture_to_string(g));

			if (w < 0 || (size_t)w >= size - off)
				break;
			off += (size_t)w;
		}
}

/* Would flicgate.ini's value rule change @v as written bare? One line, no '"' inside: quotable. */
static bool needs_quotes(const char *v)
{
	size_t n = strlen(v);

	if (strchr(v, '"') || strchr(v, '\n') || n == 0)
		return false;
	if (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t' || v[0] == '#' || v[0] == ';')
		return true;
	for (size_t i = 1; i < n; i++)
		if ((v[i] == '#' || v[i] == ';') && (v[i - 1] == ' ' || v[i - 1] == '\t'))
			return true;
	return false;
}

static void print_value(struct fg_strbuf *out, const struct fg_config *c, const struct fg_config_option *o, const void *obj)
{
	const char *field = (const char *)obj + o->offset;
	char buf[512], mb[FG_MASK_BUF];
	bool quote;

	switch (o->type) {
	case T_STRING:
	case T_NAME_TEXT:
	case T_PATH:
	case T_SERIAL:
	case T_LINE: {
		const char *s = *(char *const *)field;

		if (!s)
			return;	/* unset: not printed */
		if (o->flags & F_SECRET) {
			s = fg_mask_secret(s, mb, sizeof(mb));
			/* a checked secret's mask would not pass its check: shown as a comment */
			if (o->validate) {
				fg_strbuf_printf(out, "# %s = %s (masked)\n", o->key, s);
				return;
			}
		}
		fg_strbuf_printf(out, "%s = ", o->key);
		/* by the value rule: quoted when a blank + '#'/';' or the ends would be lost */
		quote = needs_quotes(s);
		if (quote)
			fg_strbuf_putc(out, '"');
		/* multi-line values continue on indented lines */
		for (const char *q = s; *q; q++) {
			fg_strbuf_putc(out, *q);
			if (*q == '\n')
				fg_strbuf_puts(out, "    ");
		}
		if (quote)
			fg_strbuf_putc(out, '"');
		fg_strbuf_putc(out, '\n');
		return;
	}
	case T_URL: {
		const char *s = *(char *const *)field;

		if (s)
			fg_strbuf_printf(out, "%s = %s\n", o->key, fg_mask_url(s, mb, sizeof(mb)));
		return;
	}
	case T_BOOL:
		fg_strbuf_printf(out, "%s = %s\n", o->key, *(const bool *)field ? "yes" : "no");
		return;
	case T_UINT:
		if ((o->flags & F_AUTO) && *(const unsigned *)field == 0)
			fg_strbuf_printf(out, "%s = auto\n", o->key);
		else
			fg_strbuf_printf(out, "%s = %u\n", o->key, *(const unsigned *)field);
		return;
	case T_DURATION:
		fg_strbuf_printf(out, "%s = %s\n", o->key,
			fg_format_duration(*(const uint64_t *)field, buf, sizeof(buf)));
		return;
	case T_ENUM:
		if (o->names == fg_config_method_names)
			fg_strbuf_printf(out, "%s = %s\n", o->key, *(char *const *)field);
		else
			fg_strbuf_printf(out, "%s = %s\n", o->key, o->names[*(const int *)field]);
		return;
	case T_LOGLEVEL:
		fg_strbuf_printf(out, "%s = %s\n", o->key, fg_config_log_level_to_string(*(const int *)field));
		return;
	case T_ADDRESS: {
		const struct fg_button_config *b = obj;

		if (b->has_address) {
			fg_format_address(b->address, buf);
			fg_strbuf_printf(out, "%s = %s\n", o->key, buf);
		}
		return;
	}
	case T_GESTURES:
		format_gestures(*(const fg_gesture_mask *)field, buf, sizeof(buf));
		fg_strbuf_printf(out, "%s = %s\n", o->key, buf);
		return;
	case T_WEBHOOKS: {
		const size_t *idx;
		size_t n;

		if (o->section == SEC_BUTTON) {
			idx = ((const struct fg_button_config *)obj)->webhooks;
			n = ((const struct fg_button_config *)obj)->n_webhooks;
		} else if (strcmp(o->key, "test_webhook") == 0) {
			idx = c->health.test_webhooks;
			n = c->health.n_test_webhooks;
		} else {
			idx = c->health.webhooks;
			n = c->health.n_webhooks;
		}
		fg_strbuf_printf(out, "%s =", o->key);
		for (size_t i = 0; i < n; i++)
			fg_strbuf_printf(out, "%s %s", i ? "," : "", c->webhooks[idx[i]].name);
		fg_strbuf_putc(out, '\n');
		return;
	}
	case T_HEADER: {
		char *h;

		FG_STRV_FOREACH(h, *(char **const *)field)
			fg_strbuf_printf(out, "%s = %s\n", o->key, fg_mask_header(h, mb, sizeof(mb)));
		return;
	}
	case T_KEYS: {
		char *k;

		/* public keys are not secret */
		FG_STRV_FOREACH(k, *(char **const *)field)
			fg_strbuf_printf(out, "%s = %s\n", o->key, k);
		return;
	}
	case T_RATE: {
		double r = *(const double *)field;

		if (r == 0)
			fg_strbuf_printf(out, "%s = 0\n", o->key);
		else
			fg_strbuf_printf(out, "%s = %g/s\n", o->key, r);
		return;
	}
	}
}

static void print_section(struct fg_strbuf *out, const struct fg_config *c, enum section_kind k,
			  const char *name, const void *obj)
{
	if (name)
		fg_strbuf_printf(out, "\n[%s %s]\n", fg_config_sections[k].name, name);
	else
		fg_strbuf_printf(out, "\n[%s]\n", fg_config_sections[k].name);
	for (size_t i = 0; i < FG_CONFIG_N_OPTIONS; i++)
		if (fg_config_options[i].section == k)
			print_value(out, c, &fg_config_options[i], obj);
}

static void format_effective(struct fg_strbuf *out, const struct fg_config *c)
{
	fg_strbuf_printf(out, "# effective configuration from %s (secrets masked)\n", c->path);
	for (int k = 0; k < _SEC_MAX; k++) {
		if (k == SEC_WEBHOOK) {
			for (size_t i = 0; i < c->n_webhooks; i++)
				print_section(out, c, k, c->webhooks[i].name, &c->webhooks[i]);
		} else if (k == SEC_BUTTON) {
			for (size_t i = 0; i < c->n_buttons; i++)
				print_section(out, c, k, c->buttons[i].name, &c->buttons[i]);
		} else {
			print_section(out, c, k, NULL, fg_config_section_obj((struct fg_config *)c, k));
		}
	}
}

static const char *type_doc(const struct fg_config_option *o, char *buf, size_t size)
{
	char a[FG_DURATION_BUF], b[FG_DURATION_BUF], l[256];

	switch (o->type) {
	case T_STRING: return "text";
	case T_NAME_TEXT: return "text (one line)";
	case T_BOOL: return "boolean";
	case T_UINT:
		snprintf(buf, size, "integer %llu..%llu%s", (unsigned long long)o->min,
			 (unsigned long long)o->max, o->flags & F_AUTO ? " or auto" : "");
		return buf;
	case T_DURATION:
		snprintf(buf, size, "duration %s..%s", fg_format_duration(o->min, a, sizeof(a)),
			 fg_format_duration(o->max, b, sizeof(b)));
		return buf;
	case T_ENUM:
		snprintf(buf, size, "one of %s", fg_config_enum_list(o->names, l, sizeof(l)));
		return buf;
	case T_LOGLEVEL: return "log level";
	case T_PATH: return "absolute path";
	case T_URL: return "URL";
	case T_ADDRESS: return "Bluetooth address";
	case T_SERIAL: return "serial number";
	case T_GESTURES: return "list of gestures";
	case T_WEBHOOKS: return "list of webhook names";
	case T_HEADER: return "header, repeatable";
	case T_KEYS: return "hex keys, repeatable";
	case T_RATE: return "rate";
	case T_LINE: return "GPIO line";
	}
	return "?";
}

static void format_example(struct fg_strbuf *out)
{
	fg_strbuf_puts(out, "# flicgate.ini: configuration of the flicgate gateway.\n"
	      "#\n"
	      "# Generated from the option table in daemon/config/config-options.c; see flicgate.ini(5).\n"
	      "# Every key is shown commented out with its default. Lines \"#key = value\"\n"
	      "# are examples; remove the '#' to use one. Durations: 250ms, 30s, 5min, 2h, 1d.\n"
	      "# Booleans: yes/no. Check a file with: flicgated --check-config --config FILE\n");
	for (int k = 0; k < _SEC_MAX; k++) {
		bool named = fg_config_sections[k].named;

		fg_strbuf_putc(out, '\n');
		fg_strbuf_printf(out, "# %s\n", fg_config_sections[k].doc);
		if (named)
			fg_strbuf_printf(out, "#[%s %s]\n", fg_config_sections[k].name,
				k == SEC_WEBHOOK ? "alertops" : "reception");
		else
			fg_strbuf_printf(out, "[%s]\n", fg_config_sections[k].name);
		for (size_t i = 0; i < FG_CONFIG_N_OPTIONS; i++) {
			const struct fg_config_option *o = &fg_config_options[i];
			char tb[128];
			const char *v = o->example ? o->example : o->def;

			if ((int)o->section != k)
				continue;
			fg_strbuf_printf(out, "\n# %s\n# (%s%s%s%s%s)\n", o->doc, type_doc(o, tb, sizeof(tb)),
				o->def && *o->def ? ", default " : "", o->def && *o->def ? o->def : "",
				(o->flags & F_REQUIRED) ? ", required" : "",
				(o->flags & F_SECRET) ? ", secret" : "");
			fg_strbuf_printf(out, "#%s = %s\n", o->key, v ? v : "");
		}
	}
}

static void man_escape(struct fg_strbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fg_strbuf_puts(out, "\\e");
		else if (*s == '-')
			fg_strbuf_puts(out, "\\-");
		else
			fg_strbuf_putc(out, *s);
	}
}

static void format_man(struct fg_strbuf *out)
{
	fg_strbuf_puts(out, ".\\\" Generated from daemon/config/config-options.c; do not edit.\n"
	      ".TH FLICGATE.INI 5 \"\" \"flicgate\" \"File Formats\"\n"
	      ".SH NAME\nflicgate.ini \\- configuration of the flicgate gateway\n"
	      ".SH SYNOPSIS\n/boot/firmware/flicgate.ini, /etc/flicgate/flicgate.ini\n"
	      ".SH DESCRIPTION\n"
	      "\\fBflicgated\\fR(8) reads the first of \\fB\\-\\-config\\fR \\fIPATH\\fR, "
	      "\\fI/boot/firmware/flicgate.ini\\fR and \\fI/etc/flicgate/flicgate.ini\\fR that exists.\n"
	      "The file is INI: \\fB[section]\\fR headers, \\fBkey = value\\fR lines, comments starting "
	      "with \\fB#\\fR or \\fB;\\fR. Files written on Windows (CRLF line ends, UTF\\-8 byte order mark) "
	      "are accepted. Unknown sections and keys are errors, so that a typo cannot silently "
	      "disable a button. Every error is reported as \\fIfile\\fB:\\fIline\\fB: \\fIsection.key\\fB: "
	      "\\fImessage\\fR, all at once, in line order (a missing key or a reference to a section "
	      "that does not exist too). The body and info values may continue on indented lines.\n"
	      ".SS VALUES\n"
	      "One rule for every value: outside double quotes, a \\fB#\\fR or \\fB;\\fR after a blank "
	      "(or right after the \\fB=\\fR) starts a comment, which is dropped with the blanks before it. "
	      "A value written wholly in double quotes loses them, and a \\fB#\\fR or \\fB;\\fR inside "
	      "them is kept; quotes inside a value stay as written. So\n"
	      ".PP\n.nf\ninfo = \"Reception desk\" # front door\ninfo = \"Bed #2; window side\"\n"
	      "url = https://example.org/hook#part\n.fi\n"
	      ".PP\ngive \\fBReception desk\\fR, \\fBBed #2; window side\\fR and the URL with its "
	      "\\fB#part\\fR (no blank before the \\fB#\\fR). A passphrase or password with a blank "
	      "followed by \\fB#\\fR or \\fB;\\fR must be quoted.\n"
	      ".PP\nDurations are written like \\fB250ms\\fR, \\fB30s\\fR, \\fB5min\\fR, \\fB2h\\fR, \\fB1d\\fR "
	      "(a bare number is seconds); booleans as yes/no, true/false, on/off or 1/0.\n"
	      "Values marked \\fIsecret\\fR are never printed or logged in full.\n"
	      ".PP\nSending SIGHUP to \\fBflicgated\\fR reloads the file; a file with errors is "
	      "rejected and the running configuration is kept.\n");
	for (int k = 0; k < _SEC_MAX; k++) {
		fg_strbuf_printf(out, ".SH [%s%s]\n", fg_config_sections[k].name,
			fg_config_sections[k].named ? " \\fINAME\\fB" : "");
		man_escape(out, fg_config_sections[k].doc);
		fg_strbuf_putc(out, '\n');
		for (size_t i = 0; i < FG_CONFIG_N_OPTIONS; i++) {
			const struct fg_config_option *o = &fg_config_options[i];
			char tb[128];

			if ((int)o->section != k)
				continue;
			fg_strbuf_printf(out, ".TP\n\\fB%s\\fR = \\fI", o->key);
			man_escape(out, type_doc(o, tb, sizeof(tb)));
			fg_strbuf_puts(out, "\\fR");
			if (o->def && *o->def) {
				fg_strbuf_puts(out, " (default: ");
				man_escape(out, o->def);
				fg_strbuf_puts(out, ")");
			}
			if (o->flags & F_REQUIRED)
				fg_strbuf_puts(out, " (required)");
			if (o->flags & F_SECRET)
				fg_strbuf_puts(out, " (secret)");
			fg_strbuf_putc(out, '\n');
			man_escape(out, o->doc);
			fg_strbuf_putc(out, '\n');
		}
	}
	fg_strbuf_puts(out, ".SH EXAMPLE\nSee \\fI/usr/share/doc/flicgate/flicgate.ini\\fR.\n"
	      ".SH SEE ALSO\n\\fBflicgated\\fR(8), \\fBflicgatectl\\fR(1)\n");
}

int fg_config_format(const struct fg_config *c, char **ret)
{
	struct fg_strbuf b = {};

	format_effective(&b, c);
	return fg_strbuf_steal(&b, ret, NULL);
}

int fg_config_format_example(char **ret)
{
	struct fg_strbuf b = {};

	format_example(&b);
	return fg_strbuf_steal(&b, ret, NULL);
}

int fg_config_format_man(char **ret)
{
	struct fg_strbuf b = {};

	format_man(&b);
	return fg_strbuf_steal(&b, ret, NULL);
}
