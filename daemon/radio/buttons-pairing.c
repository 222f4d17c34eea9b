/* SPDX-License-Identifier: MIT */
/*
 * The pairing window (it pairs at most one button) and the start and end of
 * a pairing attempt. Who may be paired is decided in link-policy.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "radio/buttons-internal.h"
#include "radio/flic2-adv.h"
#include "radio/flic2-crypto.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

/* The window's one attempt ended: the window closes with it. */
void btn_pairing_attempt_over(struct button *b, const char *why)
{
	bool mine = b->by_window;

	free(b->window_alias);
	b->window_alias = NULL;
	if (!mine)
		return;
	b->bs->pw.busy = false;
	if (b->bs->pw.open)
		btn_window_close(b->bs, why, b);	/* clears b->by_window */
	b->by_window = false;
}

void btn_start_pairing(struct button *b, bool by_window)
{
	struct fg_buttons *bs = b->bs;
	int r;

	if (by_window) {
		/* the window's name goes to this button, whenever the attempt ends */
		b->by_window = true;
		bs->pw.busy = true;
		free(b->window_alias);
		b->window_alias = bs->window_name ? strdup(bs->window_name) : NULL;
	}
	b->pairing = true;
	b->repair_needed = false;
	r = btn_engine(b, FG_FLIC2_MODE_PAIR);
	if (r < 0) {
		log_error_errno(r, "Button %s: cannot start pairing: %m", b->addr_str);
		btn_set_error(b, "cannot start pairing: %s", strerror(-r));
		btn_report_pairing(bs, FG_PAIRING_FAILED, b, b->last_error);
		b->pairing = false;
		btn_pairing_attempt_over(b, "failed");
		return;
	}
	log_notice("Button %s in public mode found: pairing", b->addr_str);
	btn_report_pairing(b->bs, FG_PAIRING_FOUND, b, NULL);
	btn_cancel_retry(b);
	if (b->link != FG_BLUEZ_LINK_DOWN) {
		/* our old link to it: drop it, pair on a fresh one */
		(void)fg_bluez_disconnect(b->bs->bz, b->address);
		return;
	}
	btn_connect(b, true, false);
}

/* @attempt: the button whose attempt ended the window, or NULL. */
void btn_window_close(struct fg_buttons *bs, const char *why, const struct button *attempt)
{
	struct fg_pairing_report rep = {
		.step = FG_PAIRING_WINDOW_CLOSED,
		.address = attempt ? attempt->address : NULL,
		.name = attempt ? attempt->display : NULL,
		.serial = attempt && attempt->paired && attempt->rec.serial[0] ? attempt->rec.serial : NULL,
		.detail = why,
		.by_window = attempt != NULL,
	};

	/* the policy changed: refusals are news again */
	fg_refusals_clear(&bs->refused);
	/* an attempt still running finishes; it just no longer closes anything */
	for (struct button *b = bs->buttons; b; b = b->next)
		b->by_window = false;
	fg_pairing_window_close(&bs->pw);
	btn_scan_update(bs);
	bs->window_timer = sd_event_source_disable_unref(bs->window_timer);
	free(bs->window_name);
	bs->window_name = NULL;
	log_notice("Pairing window closed (%s)", why);
	if (bs->ops->pairing)
		bs->ops->pairing(bs, &rep, bs->userdata);
}

static int on_window_end(sd_event_source *s, uint64_t usec, void *userdata)
{
	btn_window_close(userdata, "timeout", NULL);
	return 0;
}

int fg_buttons_open_pairing_window(struct fg_buttons *bs, uint64_t duration_usec, const char *name)
{
	char d[FG_DURATION_BUF];
	struct button *other;
	char *n = NULL;
	int r;

	r = fg_pairing_window_plan(bs->cfg->bluetooth.pairing, duration_usec,
				   bs->cfg->bluetooth.pairing_window_usec, &duration_usec);
	if (r < 0)
		return r;
	if (name) {
		if (!fg_pairing_name_is_valid(name))
			return -EINVAL;
		/* names must stay unique: not a section's, not another paired button's */
		other = btn_find_by_name(bs, name);
		if ((other && other->paired) || btn_config_by_name(bs->cfg, name))
			return -EEXIST;
		n = strdup(name);
		if (!n)
			return -ENOMEM;
	}
	bs->window_timer = sd_event_source_disable_unref(bs->window_timer);
	r = sd_event_add_time_relative(bs->event, &bs->window_timer, CLOCK_MONOTONIC, duration_usec, 0,
				       on_window_end, bs);
	if (r < 0) {
		/* the old timer is gone: so is the window (quietly, as before) */
		bs->pw.open = false;
		free(n);
		return r;
	}
	free(bs->window_name);
	bs->window_name = n;
	fg_pairing_window_opened(&bs->pw, btn_now(bs), duration_usec);
	log_notice("Pairing window open for %s%s%s: hold a button for 7 s to pair it",
		   fg_format_duration(duration_usec, d, sizeof(d)), n ? " for button " : "", n ? n : "");
	btn_report_pairing(bs, FG_PAIRING_WINDOW_OPENED, NULL, NULL);
	/*
	 * Our discovery starts now if nothing else kept it running; if it ran,
	 * restart it: a button already in public mode is then announced again.
	 */
	btn_scan_update(bs);
	fg_bluez_rescan(bs->bz);
	return 0;
}

int fg_buttons_close_pairing_window(struct fg_buttons *bs)
{
	if (!bs->pw.open)
		return -ENOENT;
	btn_window_close(bs, "closed", NULL);
	return 0;
}

uint64_t fg_buttons_pairing_window_left(const struct fg_buttons *bs)
{
	return fg_pairing_window_left(&bs->pw, btn_now(bs));
}
