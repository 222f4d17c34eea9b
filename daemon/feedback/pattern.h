/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Output patterns: what one LED or the buzzer does over time, as plain data.
 *
 * A pattern is started at some time (when the state that shows it began)
 * and can be sampled at any later time: the logical level at that moment
 * and when the level next changes. Nothing here reads a clock; the caller
 * passes CLOCK_MONOTONIC microseconds.
 *
 * Syntax (one word per duration: "500ms", "2s", "1min"; docs/gpio.md):
 *
 *	off [for D]
 *	on [for D]
 *	blink PERIOD [DUTY% | ON-TIME] [for D]		duty defaults to 50%
 *	beep|flash [Nx] ON-TIME [gap D] [every PERIOD] [for D]
 *
 * "beep"/"flash" are synonyms (say "flash" for an LED): N pulses (default
 * 1) of ON-TIME, GAP apart (default ON-TIME), as one burst. With "every"
 * the burst repeats every PERIOD; without it the burst plays once and the
 * pattern ends. "for D" ends any pattern D after it started. An ended
 * pattern no longer shows: whatever lies below it shows through.
 */

/* Shortest on or off phase, and the longest duration, a pattern may have. */
#define FG_PATTERN_MIN_USEC (10 * UINT64_C(1000))
#define FG_PATTERN_MAX_USEC (24 * UINT64_C(3600) * UINT64_C(1000000))
#define FG_PATTERN_MAX_COUNT 20

enum fg_pattern_kind {
	FG_PATTERN_OFF,
	FG_PATTERN_ON,
	FG_PATTERN_BLINK,	/* on for on_usec at the start of every period_usec */
	FG_PATTERN_BEEP,	/* bursts of count pulses */
	_FG_PATTERN_KIND_MAX,
};

struct fg_pattern {
	enum fg_pattern_kind kind;
	uint64_t on_usec;	/* BLINK, BEEP: length of each "on" */
	uint64_t period_usec;	/* BLINK: cycle; BEEP: burst repeat, 0 = once */
	uint64_t gap_usec;	/* BEEP: off time between the pulses of a burst */
	unsigned count;		/* BEEP: pulses per burst */
	uint64_t for_usec;	/* > 0: the pattern ends this long after its start */
	bool flash;		/* BEEP written as "flash" (printing only) */
};

/* The value of a pattern at one moment. */
struct fg_pattern_sample {
	bool active;		/* false once a finite pattern has ended */
	bool level;		/* logical level; false when !active */
	uint64_t next_usec;	/* next change (edge or end); FG_USEC_INFINITY: none */
};

/*
 * Parse @s (see above). On success fills *ret and returns 0. On failure
 * returns -EINVAL and, when @err is not NULL, writes a one-line message
 * naming the offending word and what was expected.
 */
int fg_pattern_parse(const char *s, struct fg_pattern *ret, char *err, size_t errlen);

/* Canonical text of @p, which fg_pattern_parse() reads back. Returns @buf. */
const char *fg_pattern_format(const struct fg_pattern *p, char *buf, size_t size);
#define FG_PATTERN_BUF 96

bool fg_pattern_equal(const struct fg_pattern *a, const struct fg_pattern *b);

/* True when the pattern ends by itself (a single burst or "for D"). */
bool fg_pattern_is_finite(const struct fg_pattern *p);
/* Time from start to end; FG_USEC_INFINITY when not finite. */
uint64_t fg_pattern_length(const struct fg_pattern *p);

/*
 * Sample @p started at @start_usec, at @now_usec. A @now_usec before the
 * start is treated as the start itself.
 */
void fg_pattern_sample(const struct fg_pattern *p, uint64_t start_usec,
		       uint64_t now_usec, struct fg_pattern_sample *ret);

/*
 * The outputs a pattern can drive. A pattern set says, for one state of
 * the gateway, which pattern each output shows; an output the set does
 * not mention is left to the states below it.
 */
enum fg_output {
	FG_OUTPUT_STATUS_LED,
	FG_OUTPUT_ALERT_LED,
	FG_OUTPUT_BUZZER,
	_FG_OUTPUT_MAX,
	_FG_OUTPUT_INVALID = -EINVAL,
};

const char *fg_output_to_string(enum fg_output o);	/* "status_led", … */
int fg_output_from_string(const char *s);		/* _FG_OUTPUT_INVALID: none */

struct fg_pattern_set {
	bool has[_FG_OUTPUT_MAX];
	struct fg_pattern pattern[_FG_OUTPUT_MAX];
};

/*
 * Parse a pattern set:
 *
 *	OUTPUT: PATTERN [, OUTPUT: PATTERN]…
 *
 * e.g. "status_led: on for 1s, buzzer: beep 1x 50ms". "none" (or an empty
 * string) is the empty set. Each output may appear once. Not ';': in
 * flicgate.ini " ;" starts a comment.
 * Errors as fg_pattern_parse(), prefixed with the output concerned.
 */
int fg_pattern_set_parse(const char *s, struct fg_pattern_set *ret, char *err, size_t errlen);

/* Canonical text of @set (outputs in enum order, "none" if empty). */
const char *fg_pattern_set_format(const struct fg_pattern_set *set, char *buf, size_t size);
#define FG_PATTERN_SET_BUF (3 * (FG_PATTERN_BUF + 16))

/*
 * For the config table: NULL if @value is a valid pattern set, else the
 * message (in @msg).
 */
const char *fg_pattern_set_validate(const char *value, char *msg, size_t size);
