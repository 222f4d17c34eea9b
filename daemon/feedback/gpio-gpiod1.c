/* SPDX-License-Identifier: MIT */
/*
 * The "gpiod" backend for libgpiod 1.x (Debian 12). The Makefile passes
 * FG_GPIOD_API=1 or 2 from pkg-config; gpio-gpiod2.c holds the 2.x one.
 */
#if FG_GPIOD_API == 1

#include <errno.h>
#include <stdlib.h>

#include <gpiod.h>

#include "feedback/gpio-driver.h"
#include "lib/log.h"

#define CONSUMER "flicgated"

struct gpiod1 {
	struct gpiod_chip *chip;
	struct gpiod_line *out[_FG_OUTPUT_MAX];
	struct gpiod_line *ack;
};

static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static void gpiod1_close(void *p)
{
	struct gpiod1 *b = p;

	if (!b)
		return;
	for (int o = 0; o < _FG_OUTPUT_MAX; o++)
		if (b->out[o])
			gpiod_line_release(b->out[o]);
	if (b->ack)
		gpiod_line_release(b->ack);
	if (b->chip)
		gpiod_chip_close(b->chip);
	free(b);
}

static int find_line(struct gpiod_chip *chip, const char *spec, struct gpiod_line **ret)
{
	struct gpiod_line *l;
	unsigned off;

	if (fg_gpio_line_is_offset(spec, &off)) {
		if (off >= gpiod_chip_num_lines(chip))
			return -ERANGE;
		l = gpiod_chip_get_line(chip, off);
	} else
		l = gpiod_chip_find_line(chip, spec);
	if (!l)
		return errno == 0 ? -ENOENT : neg_errno();
	*ret = l;
	return 0;
}

static int bias_flags(enum fg_gpio_bias bias)
{
	switch (bias) {
	case FG_GPIO_BIAS_AS_IS:
	case _FG_GPIO_BIAS_MAX:
		return 0;
	case FG_GPIO_BIAS_PULL_UP:
		return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
	case FG_GPIO_BIAS_PULL_DOWN:
		return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
	case FG_GPIO_BIAS_DISABLED:
		return GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
	}
	return 0;
}

static int gpiod1_open(const struct fg_gpio_config *c, void **ret)
{
	const struct fg_gpio_output_config *outs[_FG_OUTPUT_MAX] = {
		[FG_OUTPUT_STATUS_LED] = &c->status_led,
		[FG_OUTPUT_ALERT_LED] = &c->alert_led,
		[FG_OUTPUT_BUZZER] = &c->buzzer,
	};
	struct gpiod1 *b;
	int r;

	if (!c->chip)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;

	errno = 0;
	/* by label, never by number: gpiochipN changes between kernels (Pi 5) */
	b->chip = c->chip[0] == '/' ? gpiod_chip_open(c->chip) : gpiod_chip_open_by_label(c->chip);
	if (!b->chip) {
		r = errno == 0 ? -ENOENT : neg_errno();
		log_error_errno(r, "Failed to open GPIO chip '%s': %m", c->chip);
		goto failed;
	}

	for (int o = 0; o < _FG_OUTPUT_MAX; o++) {
		struct gpiod_line *l;

		if (!outs[o]->line)
			continue;
		errno = 0;
		r = find_line(b->chip, outs[o]->line, &l);
		if (r < 0) {
			log_error_errno(r, "Failed to find %s line '%s' on '%s': %m",
					fg_output_to_string(o), outs[o]->line, c->chip);
			goto failed;
		}
		if (gpiod_line_request_output_flags(l, CONSUMER,
						    outs[o]->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0,
						    outs[o]->initial) < 0) {
			r = neg_errno();
			log_error_errno(r, "Failed to request %s line '%s': %m",
					fg_output_to_string(o), outs[o]->line);
			goto failed;
		}
		b->out[o] = l;
	}

	if (c->ack_line) {
		struct gpiod_line *l;
		int flags = bias_flags(c->ack_bias) |
			(c->ack_active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0);

		errno = 0;
		r = find_line(b->chip, c->ack_line, &l);
		if (r < 0) {
			log_error_errno(r, "Failed to find the acknowledge line '%s' on '%s': %m",
					c->ack_line, c->chip);
			goto failed;
		}
		if (gpiod_line_request_both_edges_events_flags(l, CONSUMER, flags) < 0) {
			r = neg_errno();
			log_error_errno(r, "Failed to request the acknowledge line '%s': %m", c->ack_line);
			goto failed;
		}
		b->ack = l;
	}

	*ret = b;
	return 0;

failed:
	gpiod1_close(b);
	return r;
}

static int gpiod1_set(void *p, enum fg_output o, bool level)
{
	struct gpiod1 *b = p;

	if (!b->out[o])
		return 0;
	if (gpiod_line_set_value(b->out[o], level) < 0)
		return neg_errno();
	return 0;
}

static int gpiod1_ack_fd(void *p)
{
	struct gpiod1 *b = p;

	return b->ack ? gpiod_line_event_get_fd(b->ack) : -1;
}

static bool gpiod1_ack_debounced(void *p)
{
	return false;	/* the v1 uAPI has no debounce setting */
}

static int gpiod1_ack_value(void *p, bool *ret_level)
{
	struct gpiod1 *b = p;
	int v;

	v = gpiod_line_get_value(b->ack);
	if (v < 0)
		return neg_errno();
	*ret_level = v > 0;
	return 0;
}

static int gpiod1_ack_read(void *p, bool *ret_level)
{
	struct gpiod1 *b = p;
	struct gpiod_line_event ev[16];

	/*
	 * Only called when the fd is readable, so this read does not block.
	 * The edge types are not used: the level read afterwards is the truth
	 * even if the kernel's event queue overflowed.
	 */
	if (gpiod_line_event_read_multiple(b->ack, ev, sizeof(ev) / sizeof(ev[0])) < 0)
		return neg_errno();
	return gpiod1_ack_value(p, ret_level);
}

const struct fg_gpio_driver fg_gpio_driver_gpiod = {
	.name = "gpiod (libgpiod 1)",
	.edges = true,
	.open = gpiod1_open,
	.close = gpiod1_close,
	.set = gpiod1_set,
	.ack_fd = gpiod1_ack_fd,
	.ack_debounced = gpiod1_ack_debounced,
	.ack_read = gpiod1_ack_read,
	.ack_value = gpiod1_ack_value,
};

#endif /* FG_GPIOD_API == 1 */
