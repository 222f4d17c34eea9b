/* SPDX-License-Identifier: MIT */
/* The physical button: presses played as gestures on the button's timing
 * (click, hold, double click), advertising after a press, public mode,
 * range, RSSI and battery. */
#include <errno.h>
#include <string.h>

#include "button-internal.h"
#include "lib/log.h"

/* --- advertising ------------------------------------------------------------------ */

static int on_adv_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;

	disarm(&b->adv_timer);
	b->adv_after_press = b->adv_reconnect = false;
	log_info("%s: advertising timed out, quiet until pressed", b->address);
	adv_changed(b);
	return 0;
}

static uint16_t adv_interval(const struct fs_button *b, unsigned phase)
{
	if (b->advp.set)
		return b->advp.interval[phase];
	return phase ? ADV_DEFAULT_INTERVAL1 : ADV_DEFAULT_INTERVAL0;
}

/* A new advertising period: its first event comes a random part of the
 * first interval after the start (the firmware's timer is not aligned with
 * the press), then one per interval. */
static void adv_period_begin(struct fs_button *b)
{
	uint32_t r;

	fs_random(&r, sizeof(r));
	b->adv_start_usec = now_usec(b);
	b->adv_phase_usec = r % ((uint64_t)adv_interval(b, 0) * 625);
}

uint64_t btn_reconnect_adv_usec(const struct fs_button *b)
{
	if (b->advp.set)
		return (uint64_t)b->advp.timeout_s * FG_USEC_PER_SEC;
	return (uint64_t)b->cfg.adv_after_press_s * FG_USEC_PER_SEC;
}

void btn_adv_start(struct fs_button *b, uint64_t duration_usec)
{
	bool was = advertising(b);
	uint64_t until = now_usec(b) + duration_usec;

	if (b->linked)
		return;
	if (!was)
		adv_period_begin(b);
	if (!was || until > b->adv_until_usec) {
		b->adv_until_usec = until;
		arm(b, &b->adv_timer, duration_usec, on_adv_timeout);
	}
}

/* A press wakes a disconnected button: it advertises for a while. */
static void keep_advertising(struct fs_button *b)
{
	bool was = advertising(b);

	if (b->linked)
		return;
	btn_adv_start(b, (uint64_t)b->cfg.adv_after_press_s * FG_USEC_PER_SEC);
	b->adv_after_press = true;
	if (!was)
		adv_changed(b);
}

uint64_t fs_button_next_advert_usec(const struct fs_button *b, uint64_t after,
				    uint64_t scan_interval, uint64_t scan_window)
{
	uint64_t t = b->adv_start_usec + b->adv_phase_usec;

	if (!b->adv_start_usec)
		return after;	/* never advertised: nothing to hear */
	/* Advertising events: adv_intervals[0] for the first 5 s, then [1]
	 * (public mode keeps the first), each plus the link layer's advDelay
	 * of 0..10 ms (Core spec Vol 6 Part B 4.4.2.2), here a fixed
	 * pseudo-random sequence. Heard when it falls in a scan window. */
	for (uint64_t k = 0; k < 10000000; k++) {
		unsigned phase = !b->public_mode && t - b->adv_start_usec >= ADV_FAST_PHASE_USEC;

		if (t >= after && t % scan_interval < scan_window)
			return t;
		t += (uint64_t)adv_interval(b, phase) * 625 +
		     (b->adv_phase_usec + k * 7919) % 10001;
	}
	return after;
}

static int on_hold(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;

	disarm(&b->hold_timer);
	b->hold_fired = true;
	btn_emit_event(b, b->second_press ? FS_EVT_HOLD_SECOND : FS_EVT_HOLD);
	return 0;
}

static int on_single(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;

	disarm(&b->single_timer);
	b->click_pending = false;
	btn_emit_event(b, FS_EVT_SINGLE_TIMEOUT);
	return 0;
}

static void physical_down(struct fs_button *b)
{
	if (b->pressed)
		return;
	b->pressed = true;
	b->hold_fired = false;
	b->second_press = b->click_pending;
	b->click_pending = false;
	disarm(&b->single_timer);
	btn_emit_event(b, FS_EVT_DOWN);
	keep_advertising(b);
	arm(b, &b->hold_timer, (uint64_t)b->cfg.hold_ms * FG_USEC_PER_MSEC, on_hold);
}

static void physical_up(struct fs_button *b)
{
	if (!b->pressed)
		return;
	b->pressed = false;
	disarm(&b->hold_timer);
	if (b->second_press)
		btn_emit_event(b, b->hold_fired ? FS_EVT_UP_DOUBLE_HOLD : FS_EVT_UP_DOUBLE);
	else if (b->hold_fired)
		btn_emit_event(b, FS_EVT_UP_AFTER_HOLD);
	else {
		btn_emit_event(b, FS_EVT_UP_CLICK);
		b->click_pending = true;
		arm(b, &b->single_timer, (uint64_t)b->cfg.double_click_ms * FG_USEC_PER_MSEC,
		    on_single);
	}
	b->second_press = false;
}

static int on_script(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;
	uint64_t elapsed;

	disarm(&b->script_timer);
	while (b->script_pos < b->n_script) {
		struct script_step *st = &b->script[b->script_pos];

		elapsed = now_usec(b) - b->script_start;
		if ((uint64_t)st->at_ms * FG_USEC_PER_MSEC > elapsed) {
			arm(b, &b->script_timer,
			    (uint64_t)st->at_ms * FG_USEC_PER_MSEC - elapsed, on_script);
			return 0;
		}
		b->script_pos++;
		if (st->down)
			physical_down(b);
		else
			physical_up(b);
	}
	b->n_script = b->script_pos = 0;
	return 0;
}

int fs_button_press(struct fs_button *b, const char *gesture)
{
	uint32_t c = b->cfg.click_ms, gap = b->cfg.double_click_ms / 2;
	size_t n = 0;

	if (b->n_script)
		return -EBUSY;
	if (strcmp(gesture, "click") == 0) {
		b->script[n++] = (struct script_step){ 0, true };
		b->script[n++] = (struct script_step){ c, false };
	} else if (strcmp(gesture, "double_click") == 0) {
		b->script[n++] = (struct script_step){ 0, true };
		b->script[n++] = (struct script_step){ c, false };
		b->script[n++] = (struct script_step){ c + gap, true };
		b->script[n++] = (struct script_step){ 2 * c + gap, false };
	} else if (strcmp(gesture, "hold") == 0) {
		b->script[n++] = (struct script_step){ 0, true };
		b->script[n++] = (struct script_step){ b->cfg.hold_ms + 500, false };
	} else if (strcmp(gesture, "down") == 0) {
		b->script[n++] = (struct script_step){ 0, true };
	} else if (strcmp(gesture, "up") == 0) {
		b->script[n++] = (struct script_step){ 0, false };
	} else {
		return -EINVAL;
	}
	if ((strcmp(gesture, "down") == 0 && b->pressed) ||
	    (strcmp(gesture, "up") == 0 && !b->pressed) ||
	    (strcmp(gesture, "up") != 0 && b->pressed))
		return -EALREADY;
	b->n_script = n;
	b->script_pos = 0;
	b->script_start = now_usec(b);
	on_script(NULL, 0, b);
	return 0;
}

/* --- physical state -------------------------------------------------------------- */

static int on_public_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;

	disarm(&b->public_timer);
	b->public_mode = false;
	log_info("%s: public mode ended", b->address);
	adv_changed(b);
	return 0;
}

void fs_button_set_public_mode(struct fs_button *b, bool on)
{
	if (on && !advertising(b))
		adv_period_begin(b);
	b->public_mode = on;
	if (on)
		arm(b, &b->public_timer, (uint64_t)b->cfg.public_mode_s * FG_USEC_PER_SEC,
		    on_public_timeout);
	else
		disarm(&b->public_timer);
	log_info("%s: public mode %s", b->address, on ? "on (held 7 s)" : "off");
	adv_changed(b);
}

void fs_button_set_in_range(struct fs_button *b, bool in_range)
{
	if (b->cfg.in_range == in_range)
		return;
	b->cfg.in_range = in_range;
	log_info("%s: %s range", b->address, in_range ? "back in" : "out of");
	/* bluez-sim sees the change through adv_changed and drops the link. */
	adv_changed(b);
}

void fs_button_set_rssi(struct fs_button *b, int16_t rssi)
{
	b->cfg.rssi = rssi;
	adv_changed(b);
}

void fs_button_set_battery(struct fs_button *b, uint16_t mv)
{
	b->cfg.battery_mv = mv;
	log_info("%s: battery %u mV", b->address, mv);
}
