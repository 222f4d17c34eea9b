/* SPDX-License-Identifier: MIT */
/* LED and buzzer patterns ("blink 1s 50%", "flash 3x 100ms every 3s"):
 * parse, print back, and the level of a pattern at a moment. Pure. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback/pattern.h"
#include "lib/macro.h"
#include "lib/timeutil.h"

#define MAX_WORDS 16
#define MAX_WORD 32

static const char *const output_names[_FG_OUTPUT_MAX] = {
	[FG_OUTPUT_STATUS_LED] = "status_led",
	[FG_OUTPUT_ALERT_LED] = "alert_led",
	[FG_OUTPUT_BUZZER] = "buzzer",
};

FG_DEFINE_STRING_TABLE(, fg_output, enum fg_output, output_names)

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * One word per duration, so that a pattern prints back as it parses: the
 * largest unit that divides the value exactly.
 */
static const char *format_duration_word(uint64_t usec, char *buf, size_t size)
{
	if (usec >= FG_USEC_PER_MIN && usec % FG_USEC_PER_MIN == 0)
		snprintf(buf, size, "%" PRIu64 "min", usec / FG_USEC_PER_MIN);
	else if (usec >= FG_USEC_PER_SEC && usec % FG_USEC_PER_SEC == 0)
		snprintf(buf, size, "%" PRIu64 "s", usec / FG_USEC_PER_SEC);
	else if (usec % FG_USEC_PER_MSEC == 0)
		snprintf(buf, size, "%" PRIu64 "ms", usec / FG_USEC_PER_MSEC);
	else
		snprintf(buf, size, "%" PRIu64 "us", usec);
	return buf;
}

#define DUR(u) format_duration_word((u), (char[24]){ 0 }, 24)

struct words {
	char w[MAX_WORDS][MAX_WORD];
	size_t n;
};

static int split_words(const char *s, struct words *ret, char *err, size_t errlen)
{
	const char *p = s;

	ret->n = 0;
	for (;;) {
		size_t len = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return 0;
		while (p[len] && !isspace((unsigned char)p[len]))
			len++;
		if (ret->n == MAX_WORDS)
			return fail(err, errlen, "too many words (at most %d)", MAX_WORDS);
		if (len >= MAX_WORD)
			return fail(err, errlen, "'%.*s…': word too long", 20, p);
		memcpy(ret->w[ret->n], p, len);
		ret->w[ret->n][len] = '\0';
		ret->n++;
		p += len;
	}
}

static int parse_dur(const char *what, const char *w, uint64_t *ret, char *err, size_t errlen)
{
	uint64_t u;

	if (!w)
		return fail(err, errlen, "%s: missing duration (e.g. 500ms, 2s)", what);
	if (fg_parse_duration(w, &u) < 0)
		return fail(err, errlen, "%s: '%s' is not a duration (e.g. 500ms, 2s)", what, w);
	if (u < FG_PATTERN_MIN_USEC)
		return fail(err, errlen, "%s: %s is shorter than %s", what, w, DUR(FG_PATTERN_MIN_USEC));
	if (u > FG_PATTERN_MAX_USEC)
		return fail(err, errlen, "%s: %s is longer than %s", what, w, DUR(FG_PATTERN_MAX_USEC));
	*ret = u;
	return 0;
}

/* "50%" -> 50, "3x" -> 3: one to three digits and @suffix. */
static int parse_suffixed(const char *w, char suffix, unsigned *ret)
{
	size_t len = strlen(w);
	unsigned v = 0;

	if (len < 2 || len > 4 || w[len - 1] != suffix)
		return -EINVAL;
	for (size_t i = 0; i + 1 < len; i++) {
		if (!isdigit((unsigned char)w[i]))
			return -EINVAL;
		v = v * 10 + (unsigned)(w[i] - '0');
	}
	*ret = v;
	return 0;
}

static uint64_t burst_length(const struct fg_pattern *p)
{
	return p->count * p->on_usec + (p->count - 1) * p->gap_usec;
}

int fg_pattern_parse(const char *s, struct fg_pattern *ret, char *err, size_t errlen)
{
	struct fg_pattern p = { .kind = FG_PATTERN_OFF };
	struct words w;
	bool have_gap = false, have_every = false, have_for = false;
	size_t i = 1;
	int r;

	if (!s)
		return fail(err, errlen, "empty pattern (expected off, on, blink, beep or flash)");
	r = split_words(s, &w, err, errlen);
	if (r < 0)
		return r;
	if (w.n == 0)
		return fail(err, errlen, "empty pattern (expected off, on, blink, beep or flash)");

	if (strcmp(w.w[0], "off") == 0) {
		p.kind = FG_PATTERN_OFF;
	} else if (strcmp(w.w[0], "on") == 0) {
		p.kind = FG_PATTERN_ON;
	} else if (strcmp(w.w[0], "blink") == 0) {
		unsigned duty;

		p.kind = FG_PATTERN_BLINK;
		r = parse_dur("blink period", i < w.n ? w.w[i] : NULL, &p.period_usec, err, errlen);
		if (r < 0)
			return r;
		i++;
		p.on_usec = p.period_usec / 2;
		if (i < w.n && isdigit((unsigned char)w.w[i][0])) {
			if (strchr(w.w[i], '%')) {
				if (parse_suffixed(w.w[i], '%', &duty) < 0 || duty < 1 || duty > 99)
					return fail(err, errlen, "blink duty '%s': expected 1%% to 99%%", w.w[i]);
				p.on_usec = p.period_usec * duty / 100;
			} else {
				r = parse_dur("blink on time", w.w[i], &p.on_usec, err, errlen);
				if (r < 0)
					return r;
			}
			i++;
		}
		if (p.on_usec < FG_PATTERN_MIN_USEC)
			return fail(err, errlen, "blink: on time %s is shorter than %s",
				    DUR(p.on_usec), DUR(FG_PATTERN_MIN_USEC));
		if (p.on_usec >= p.period_usec ||
		    p.period_usec - p.on_usec < FG_PATTERN_MIN_USEC)
			return fail(err, errlen, "blink: off time (period %s minus on time %s) is shorter than %s",
				    DUR(p.period_usec), DUR(p.on_usec), DUR(FG_PATTERN_MIN_USEC));
	} else if (strcmp(w.w[0], "beep") == 0 || strcmp(w.w[0], "flash") == 0) {
		p.kind = FG_PATTERN_BEEP;
		p.flash = w.w[0][0] == 'f';
		p.count = 1;
		if (i < w.n && parse_suffixed(w.w[i], 'x', &p.count) == 0) {
			if (p.count < 1 || p.count > FG_PATTERN_MAX_COUNT)
				return fail(err, errlen, "%s count '%s': expected 1x to %dx",
					    w.w[0], w.w[i], FG_PATTERN_MAX_COUNT);
			i++;
		}
		r = parse_dur(p.flash ? "flash length" : "beep length",
			      i < w.n ? w.w[i] : NULL, &p.on_usec, err, errlen);
		if (r < 0)
			return r;
		i++;
		p.gap_usec = p.on_usec;
	} else
		return fail(err, errlen, "unknown pattern '%s' (expected off, on, blink, beep or flash)", w.w[0]);

	/* Trailing clauses, any order, each once. */
	while (i < w.n) {
		const char *kw = w.w[i];
		const char *arg = i + 1 < w.n ? w.w[i + 1] : NULL;

		if (strcmp(kw, "for") == 0 && !have_for) {
			r = parse_dur("for", arg, &p.for_usec, err, errlen);
			have_for = true;
		} else if (strcmp(kw, "gap") == 0 && p.kind == FG_PATTERN_BEEP && !have_gap) {
			r = parse_dur("gap", arg, &p.gap_usec, err, errlen);
			have_gap = true;
		} else if (strcmp(kw, "every") == 0 && p.kind == FG_PATTERN_BEEP && !have_every) {
			r = parse_dur("every", arg, &p.period_usec, err, errlen);
			have_every = true;
		} else if (p.kind == FG_PATTERN_BEEP)
			return fail(err, errlen, "unexpected '%s' (expected gap, every or for, each once)", kw);
		else
			return fail(err, errlen, "unexpected '%s' (expected for, once)", kw);
		if (r < 0)
			return r;
		i += 2;
	}

	if (p.kind == FG_PATTERN_BEEP && p.period_usec > 0) {
		uint64_t b = burst_length(&p);

		if (p.period_usec < b + FG_PATTERN_MIN_USEC)
			return fail(err, errlen, "every %s leaves no pause after the burst (%s long)",
				    DUR(p.period_usec), DUR(b));
	}

	*ret = p;
	return 0;
}

const char *fg_pattern_format(const struct fg_pattern *p, char *buf, size_t size)
{
	size_t off = 0;
	int n = 0;

#define PUT(...) do { \
		n = snprintf(buf + off, size > off ? size - off : 0, __VA_ARGS__); \
		if (n > 0) off += (size_t)n; \
	} while (0)

	if (size == 0)
		return buf;
	buf[0] = '\0';
	switch (p->kind) {
	case FG_PATTERN_OFF:
		PUT("off");
		break;
	case FG_PATTERN_ON:
		PUT("on");
		break;
	case FG_PATTERN_BLINK:
		PUT("blink %s", DUR(p->period_usec));
		if ((p->on_usec * 100) % p->period_usec == 0)
			PUT(" %" PRIu64 "%%", p->on_usec * 100 / p->period_usec);
		else
			PUT(" %s", DUR(p->on_usec));
		break;
	case FG_PATTERN_BEEP:
		PUT("%s %ux %s", p->flash ? "flash" : "beep", p->count, DUR(p->on_usec));
		if (p->gap_usec != p->on_usec)
			PUT(" gap %s", DUR(p->gap_usec));
		if (p->period_usec)
			PUT(" every %s", DUR(p->period_usec));
		break;
	case _FG_PATTERN_KIND_MAX:
		PUT("?");
		break;
	}
	if (p->for_usec)
		PUT(" for %s", DUR(p->for_usec));
#undef PUT
	if (off >= size)
		buf[size - 1] = '\0';
	return buf;
}

bool fg_pattern_equal(const struct fg_pattern *a, const struct fg_pattern *b)
{
	return a->kind == b->kind && a->on_usec == b->on_usec &&
	       a->period_usec == b->period_usec && a->gap_usec == b->gap_usec &&
	       a->count == b->count && a->for_usec == b->for_usec && a->flash == b->flash;
}

uint64_t fg_pattern_length(const struct fg_pattern *p)
{
	uint64_t len = FG_USEC_INFINITY;

	if (p->kind == FG_PATTERN_BEEP && p->period_usec == 0)
		len = burst_length(p);
	/* "for" wins over the burst: "beep 1x 50ms for 2s" holds off to 2 s */
	if (p->for_usec)
		len = p->for_usec;
	return len;
}

bool fg_pattern_is_finite(const struct fg_pattern *p)
{
	return fg_pattern_length(p) != FG_USEC_INFINITY;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > FG_USEC_INFINITY - b ? FG_USEC_INFINITY : a + b;
}

void fg_pattern_sample(const struct fg_pattern *p, uint64_t start_usec,
		       uint64_t now_usec, struct fg_pattern_sample *ret)
{
	uint64_t len = fg_pattern_length(p);
	uint64_t t = now_usec > start_usec ? now_usec - start_usec : 0;
	uint64_t next = FG_USEC_INFINITY;	/* relative to start */
	bool level = false;

	if (len != FG_USEC_INFINITY && t >= len) {
		*ret = (struct fg_pattern_sample) { .active = false, .level = false,
						    .next_usec = FG_USEC_INFINITY };
		return;
	}

	switch (p->kind) {
	case FG_PATTERN_OFF:
	case _FG_PATTERN_KIND_MAX:
		break;
	case FG_PATTERN_ON:
		level = true;
		break;
	case FG_PATTERN_BLINK: {
		uint64_t phase = t % p->period_usec, cycle = t - phase;

		level = phase < p->on_usec;
		next = cycle + (level ? p->on_usec : p->period_usec);
		break;
	}
	case FG_PATTERN_BEEP: {
		uint64_t phase = p->period_usec ? t % p->period_usec : t;
		uint64_t burst_start = t - phase, b = burst_length(p);
		uint64_t slot = p->on_usec + p->gap_usec;

		if (phase < b) {
			uint64_t in = phase % slot;

			level = in < p->on_usec;
			next = burst_start + (phase - in) + (level ? p->on_usec : slot);
		} else if (p->period_usec)
			next = burst_start + p->period_usec;
		break;
	}
	}

	if (len != FG_USEC_INFINITY && next > len)
		next = len;
	ret->active = true;
	ret->level = level;
	ret->next_usec = next == FG_USEC_INFINITY ? FG_USEC_INFINITY : add_sat(start_usec, next);
}

/* ---- pattern sets --------------------------------------------------------- */

static char *strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int fg_pattern_set_parse(const char *s, struct fg_pattern_set *ret, char *err, size_t errlen)
{
	struct fg_pattern_set set = {};
	char *copy, *item, *save = NULL;
	int r = 0;

	if (!s)
		s = "";
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	if (strcmp(strip(copy), "none") == 0 || *strip(copy) == '\0')
		goto done;
	/*
	 * ';' would be the natural separator, but " ;" starts a comment in
	 * flicgate.ini and silently cuts the rest: refuse it outright.
	 */
	if (strchr(copy, ';')) {
		r = fail(err, errlen, "use ',' between outputs (';' starts a comment in flicgate.ini)");
		goto done;
	}

	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *colon, *name;
		struct fg_pattern p;
		char perr[160];
		enum fg_output o;

		item = strip(item);
		if (*item == '\0')
			continue;
		colon = strchr(item, ':');
		if (!colon) {
			r = fail(err, errlen, "'%.40s': expected OUTPUT: PATTERN (outputs: status_led, alert_led, buzzer)",
				 item);
			goto done;
		}
		*colon = '\0';
		name = strip(item);
		if (*name == '\0') {
			r = fail(err, errlen, "missing output before ':' (expected status_led, alert_led or buzzer)");
			goto done;
		}
		o = fg_output_from_string(name);
		if (o == _FG_OUTPUT_INVALID) {
			r = fail(err, errlen, "unknown output '%.40s' (expected status_led, alert_led or buzzer)",
				 name);
			goto done;
		}
		if (set.has[o]) {
			r = fail(err, errlen, "%s: given twice", name);
			goto done;
		}
		r = fg_pattern_parse(colon + 1, &p, perr, sizeof(perr));
		if (r < 0) {
			fail(err, errlen, "%s: %s", name, perr);
			goto done;
		}
		set.has[o] = true;
		set.pattern[o] = p;
	}
done:
	free(copy);
	if (r == 0)
		*ret = set;
	return r;
}

const char *fg_pattern_set_format(const struct fg_pattern_set *set, char *buf, size_t size)
{
	size_t off = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (int o = 0; o < _FG_OUTPUT_MAX; o++) {
		char pb[FG_PATTERN_BUF];
		int n;

		if (!set->has[o])
			continue;
		n = snprintf(buf + off, size - off, "%s%s: %s", off ? ", " : "",
			     output_names[o], fg_pattern_format(&set->pattern[o], pb, sizeof(pb)));
		if (n < 0 || (size_t)n >= size - off)
			return buf;
		off += (size_t)n;
	}
	if (off == 0)
		snprintf(buf, size, "none");
	return buf;
}

const char *fg_pattern_set_validate(const char *value, char *msg, size_t size)
{
	struct fg_pattern_set set;
	int r;

	r = fg_pattern_set_parse(value, &set, msg, size);
	if (r == -ENOMEM) {
		snprintf(msg, size, "out of memory");
		return msg;
	}
	return r < 0 ? msg : NULL;
}
