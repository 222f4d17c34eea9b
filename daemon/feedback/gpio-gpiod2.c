/* SPDX-License-Identifier: MIT */
/*
 * The "gpiod" backend for libgpiod 2.x (Debian 13, Raspberry Pi OS). The
 * Makefile passes FG_GPIOD_API=1 or 2 from pkg-config; gpio-gpiod1.c holds
 * the 1.x one.
 */
#if FG_GPIOD_API == 2

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpiod.h>

#include "feedback/gpio-driver.h"
#include "lib/log.h"

#define CONSUMER "flicgated"

struct gpiod2 {
	struct gpiod_chip *chip;
	/* all outputs in one request */
	struct gpiod_line_request *out_req;
	bool has[_FG_OUTPUT_MAX];
	unsigned offset[_FG_OUTPUT_MAX];
	/* the acknowledge input in its own request: its fd carries only its edges */
	struct gpiod_line_request *ack_req;
	unsigned ack_offset;
	bool ack_debounced;
	struct gpiod_edge_event_buffer *events;
};

static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static void gpiod2_close(void *p)
{
	struct gpiod2 *b = p;

	if (!b)
		return;
	if (b->out_req)
		gpiod_line_request_release(b->out_req);
	if (b->ack_req)
		gpiod_line_request_release(b->ack_req);
	if (b->events)
		gpiod_edge_event_buffer_free(b->events);
	if (b->chip)
		gpiod_chip_close(b->chip);
	free(b);
}

/*
 * libgpiod 2 has no open-by-label: look at every /dev/gpiochip*. The
 * number of a chip changes between kernels and Pi models; its label does
 * not (pinctrl-bcm2835, pinctrl-bcm2711, pinctrl-rp1).
 */
static int open_by_label(const char *label, struct gpiod_chip **ret)
{
	struct dirent *de;
	DIR *d;
	int r = -ENOENT;

	d = opendir("/dev");
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		struct gpiod_chip_info *info;
		struct gpiod_chip *chip;
		char path[300];
		bool match;

		if (strncmp(de->d_name, "gpiochip", 8) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", de->d_name);
		if (!gpiod_is_gpiochip_device(path))
			continue;
		chip = gpiod_chip_open(path);
		if (!chip) {
			r = r == -ENOENT ? neg_errno() : r;	/* e.g. -EACCES: say so */
			continue;
		}
		info = gpiod_chip_get_info(chip);
		match = info && strcmp(gpiod_chip_info_get_label(info), label) == 0;
		if (info)
			gpiod_chip_info_free(info);
		if (match) {
			closedir(d);
			*ret = chip;
			return 0;
		}
		gpiod_chip_close(chip);
	}
	closedir(d);
	return r;
}

static int find_offset(struct gpiod_chip *chip, const char *spec, unsigned *ret)
{
	struct gpiod_chip_info *info;
	unsigned off;
	int v;

	if (fg_gpio_line_is_offset(spec, &off)) {
		size_t n;

		info = gpiod_chip_get_info(chip);
		if (!info)
			return neg_errno();
		n = gpiod_chip_info_get_num_lines(info);
		gpiod_chip_info_free(info);
		if (off >= n)
			return -ERANGE;
		*ret = off;
		return 0;
	}
	errno = 0;
	v = gpiod_chip_get_line_offset_from_name(chip, spec);
	if (v < 0)
		return errno == 0 ? -ENOENT : neg_errno();
	*ret = (unsigned)v;
	return 0;
}

static enum gpiod_line_bias to_bias(enum fg_gpio_bias bias)
{
	switch (bias) {
	case FG_GPIO_BIAS_AS_IS:
	case _FG_GPIO_BIAS_MAX:
		return GPIOD_LINE_BIAS_AS_IS;
	case FG_GPIO_BIAS_PULL_UP:
		return GPIOD_LINE_BIAS_PULL_UP;
	case FG_GPIO_BIAS_PULL_DOWN:
		return GPIOD_LINE_BIAS_PULL_DOWN;
	case FG_GPIO_BIAS_DISABLED:
		return GPIOD_LINE_BIAS_DISABLED;
	}
	return GPIOD_LINE_BIAS_AS_IS;
}

/* One request of @n lines, each with its own settings. */
static int request(struct gpiod_chip *chip, const unsigned *offsets,
		   struct gpiod_line_settings *const *settings, size_t n,
		   struct gpiod_line_request **ret)
{
	struct gpiod_request_config *rc = NULL;
	struct gpiod_line_config *lc = NULL;
	struct gpiod_line_request *req;
	int r = 0;

	rc = gpiod_request_config_new();
	lc = gpiod_line_config_new();
	if (!rc || !lc) {
		r = -ENOMEM;
		goto out;
	}
	gpiod_request_config_set_consumer(rc, CONSUMER);
	for (size_t i = 0; i < n; i++)
		if (gpiod_line_config_add_line_settings(lc, &offsets[i], 1, settings[i]) < 0) {
			r = neg_errno();
			goto out;
		}
	req = gpiod_chip_request_lines(chip, rc, lc);
	if (!req) {
		r = neg_errno();
		goto out;
	}
	*ret = req;
out:
	gpiod_line_config_free(lc);
	gpiod_request_config_free(rc);
	return r;
}

static int gpiod2_open(const struct fg_gpio_config *c, void **ret)
{
	const struct fg_gpio_output_config *outs[_FG_OUTPUT_MAX] = {
		[FG_OUTPUT_STATUS_LED] = &c->status_led,
		[FG_OUTPUT_ALERT_LED] = &c->alert_led,
		[FG_OUTPUT_BUZZER] = &c->buzzer,
	};
	struct gpiod_line_settings *settings[_FG_OUTPUT_MAX] = { 0 };
	unsigned offsets[_FG_OUTPUT_MAX];
	struct gpiod2 *b;
	size_t n = 0;
	int r;

	if (!c->chip)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;

	if (c->chip[0] == '/') {
		errno = 0;
		b->chip = gpiod_chip_open(c->chip);
		r = b->chip ? 0 : neg_errno();
	} else
		r = open_by_label(c->chip, &b->chip);
	if (r < 0) {
		log_error_errno(r, "Failed to open GPIO chip '%s': %m", c->chip);
		goto failed;
	}

	for (int o = 0; o < _FG_OUTPUT_MAX; o++) {
		if (!outs[o]->line)
			continue;
		r = find_offset(b->chip, outs[o]->line, &b->offset[o]);
		if (r < 0) {
			log_error_errno(r, "Failed to find %s line '%s' on '%s': %m",
					fg_output_to_string(o), outs[o]->line, c->chip);
			goto failed;
		}
		settings[n] = gpiod_line_settings_new();
		if (!settings[n]) {
			r = -ENOMEM;
			goto failed;
		}
		gpiod_line_settings_set_direction(settings[n], GPIOD_LINE_DIRECTION_OUTPUT);
		gpiod_line_settings_set_active_low(settings[n], outs[o]->active_low);
		gpiod_line_settings_set_output_value(settings[n], outs[o]->initial ?
						     GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
		offsets[n++] = b->offset[o];
		b->has[o] = true;
	}
	if (n > 0) {
		r = request(b->chip, offsets, settings, n, &b->out_req);
		if (r < 0) {
			log_error_errno(r, "Failed to request the output lines on '%s': %m", c->chip);
			goto failed;
		}
	}

	if (c->ack_line) {
		struct gpiod_line_settings *s;

		r = find_offset(b->chip, c->ack_line, &b->ack_offset);
		if (r < 0) {
			log_error_errno(r, "Failed to find the acknowledge line '%s' on '%s': %m",
					c->ack_line, c->chip);
			goto failed;
		}
		s = gpiod_line_settings_new();
		if (!s) {
			r = -ENOMEM;
			goto failed;
		}
		gpiod_line_settings_set_direction(s, GPIOD_LINE_DIRECTION_INPUT);
		gpiod_line_settings_set_edge_detection(s, GPIOD_LINE_EDGE_BOTH);
		gpiod_line_settings_set_bias(s, to_bias(c->ack_bias));
		gpiod_line_settings_set_active_low(s, c->ack_active_low);
		/* the kernel debounces (in hardware or in gpiolib): fewer wake-ups */
		gpiod_line_settings_set_debounce_period_us(s, (unsigned long)c->ack_debounce_usec);
		r = request(b->chip, &b->ack_offset, &s, 1, &b->ack_req);
		gpiod_line_settings_free(s);
		if (r < 0) {
			log_error_errno(r, "Failed to request the acknowledge line '%s': %m", c->ack_line);
			goto failed;
		}
		b->ack_debounced = c->ack_debounce_usec > 0;
		b->events = gpiod_edge_event_buffer_new(16);
		if (!b->events) {
			r = -ENOMEM;
			goto failed;
		}
	}

	for (size_t i = 0; i < n; i++)
		gpiod_line_settings_free(settings[i]);
	*ret = b;
	return 0;

failed:
	for (size_t i = 0; i < _FG_OUTPUT_MAX; i++)
		if (settings[i])
			gpiod_line_settings_free(settings[i]);
	gpiod2_close(b);
	return r;
}

static int gpiod2_set(void *p, enum fg_output o, bool level)
{
	struct gpiod2 *b = p;

	if (!b->has[o])
		return 0;
	if (gpiod_line_request_set_value(b->out_req, b->offset[o],
					 level ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE) < 0)
		return neg_errno();
	return 0;
}

static int gpiod2_ack_fd(void *p)
{
	struct gpiod2 *b = p;

	return b->ack_req ? gpiod_line_request_get_fd(b->ack_req) : -1;
}

static bool gpiod2_ack_debounced(void *p)
{
	struct gpiod2 *b = p;

	return b->ack_debounced;
}

static int gpiod2_ack_value(void *p, bool *ret_level)
{
	struct gpiod2 *b = p;
	enum gpiod_line_value v;

	v = gpiod_line_request_get_value(b->ack_req, b->ack_offset);
	if (v == GPIOD_LINE_VALUE_ERROR)
		return neg_errno();
	*ret_level = v == GPIOD_LINE_VALUE_ACTIVE;
	return 0;
}

static int gpiod2_ack_read(void *p, bool *ret_level)
{
	struct gpiod2 *b = p;

	/*
	 * Called when the fd is readable, so this does not block. The level
	 * read afterwards is the truth even if events were lost.
	 */
	if (gpiod_line_request_read_edge_events(b->ack_req, b->events,
						gpiod_edge_event_buffer_get_capacity(b->events)) < 0)
		return neg_errno();
	return gpiod2_ack_value(p, ret_level);
}

const struct fg_gpio_driver fg_gpio_driver_gpiod = {
	.name = "gpiod (libgpiod 2)",
	.edges = true,
	.open = gpiod2_open,
	.close = gpiod2_close,
	.set = gpiod2_set,
	.ack_fd = gpiod2_ack_fd,
	.ack_debounced = gpiod2_ack_debounced,
	.ack_read = gpiod2_ack_read,
	.ack_value = gpiod2_ack_value,
};

#endif /* FG_GPIOD_API == 2 */
