/* SPDX-License-Identifier: MIT */
/* The "log" backend: prints each output's pattern when it changes (the demo,
 * machines without GPIO lines). */
#include <errno.h>
#include <stdlib.h>

#include "feedback/gpio-driver.h"
#include "lib/log.h"

/*
 * The "log" backend: no lines, one log record each time an output starts
 * showing another pattern ("LED status_led: blink 1s 50% (no_adapter)").
 * Edges within a pattern are not printed, so the demo stays readable; the
 * adapter only wakes when a pattern changes.
 */

struct log_backend {
	int unused;
};

static int log_open(const struct fg_gpio_config *c, void **ret)
{
	struct log_backend *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	*ret = b;
	return 0;
}

static void log_close(void *b)
{
	free(b);
}

static void log_show(void *b, enum fg_output o, const struct fg_feedback_output *out)
{
	char pb[FG_PATTERN_BUF];
	const char *what = out->pattern ? fg_pattern_format(out->pattern, pb, sizeof(pb)) : "off";
	const char *why = fg_feedback_state_to_string(out->state);

	if (o == FG_OUTPUT_BUZZER)
		log_info("BUZZER: %s%s%s%s", what, why ? " (" : "", why ?: "", why ? ")" : "");
	else
		log_info("LED %s: %s%s%s%s", fg_output_to_string(o), what,
			 why ? " (" : "", why ?: "", why ? ")" : "");
}

const struct fg_gpio_driver fg_gpio_driver_log = {
	.name = "log",
	.edges = false,
	.open = log_open,
	.close = log_close,
	.show = log_show,
};
