/* SPDX-License-Identifier: MIT */
/*
 * Carrying out the link policy (link-policy.h) for one button: BlueZ
 * connects, the retry timer.
 *
 * How a paired button gets connected. Flic 2 buttons are not bonded in
 * BlueZ's sense (their pairing is their own protocol), so bluetoothd would
 * forget their device objects a while after the last advertisement. We mark
 * them Trusted, which keeps the object, and keep one Device1.Connect()
 * pending whenever the button has no link: the kernel then connects on the
 * button's first connectable advertisement, whatever it contains, with no
 * work on our side. When BlueZ gives up on that attempt it is simply made
 * again (no faster than the attempt lasted: see fg_link_attempt_failed()).
 * An advertisement seen by our discovery session short-cuts any wait.
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

/* What the link policy needs to know of @b now. */
struct fg_link_input btn_link_input(const struct button *b)
{
	return (struct fg_link_input){
		.wants_link = btn_wants_link(b),
		.paired = b->paired,
		.radio_ready = fg_bluez_get_state(b->bs->bz) == FG_BLUEZ_READY,
		.link_up = b->link != FG_BLUEZ_LINK_DOWN,
		.connect_timeout_usec = b->bs->cfg->bluetooth.connect_timeout_usec,
	};
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct button *b = userdata;
	struct fg_link_input in = btn_link_input(b);

	b->retry = sd_event_source_disable_unref(b->retry);
	fg_link_retry_due(&b->lp, &in);
	btn_link_drain(b);
	return 0;
}

/* Carry out what the link policy decided, in order (see link-policy.h). */
void btn_link_drain(struct button *b)
{
	struct fg_buttons *bs = b->bs;
	struct fg_link_action a;
	int r;

	while (fg_link_next_action(&b->lp, &a) > 0) {
		switch (a.kind) {
		case FG_LINK_ACTION_TRUST:
			(void)fg_bluez_set_trusted(bs->bz, b->address, true);
			break;
		case FG_LINK_ACTION_CONNECT:
			r = fg_bluez_connect(bs->bz, b->address, a.timeout_usec);
			if (a.take)
				;
			else if (r == -ENODEV)
				/* BlueZ has no object for it: its next advertisement creates one */
				log_debug("Button %s: waiting for it to advertise", b->display);
			else if (r < 0 && r != -EALREADY)
				log_info_errno(r, "Button %s: cannot connect: %m", b->display);
			fg_link_connect_done(&b->lp, &a, r, btn_now(bs));
			if (!a.take && (r >= 0 || r == -EALREADY))
				log_debug("Button %s: %s connect", b->display,
					  a.foreground ? "foreground" : "background");
			break;
		case FG_LINK_ACTION_CANCEL_RETRY:
			b->retry = sd_event_source_disable_unref(b->retry);
			break;
		case FG_LINK_ACTION_ARM_RETRY:
			b->retry = sd_event_source_disable_unref(b->retry);
			r = sd_event_add_time(bs->event, &b->retry, CLOCK_MONOTONIC, a.at, 0, on_retry, b);
			if (r < 0)
				log_error_errno(r, "Button %s: cannot arm the retry timer: %m", b->display);
			break;
		case FG_LINK_ACTION_DISCONNECT:
			(void)fg_bluez_disconnect(bs->bz, b->address);
			break;
		case FG_LINK_ACTION_REMOVE_DEVICE:
			(void)fg_bluez_remove_device(bs->bz, b->address);
			break;
		case _FG_LINK_ACTION_MAX:
			break;
		}
	}
}

/*
 * Ask for a link. @foreground: the button advertises right now, so the
 * attempt is bounded by [bluetooth] connect_timeout; otherwise it waits in
 * the background for the button to show up (see the top of this file).
 * @kick: drop a pending backoff first.
 */
void btn_connect(struct button *b, bool foreground, bool kick)
{
	struct fg_link_input in = btn_link_input(b);

	if (kick)
		fg_link_kick(&b->lp, &in, foreground);
	else
		fg_link_want(&b->lp, &in, foreground);
	btn_link_drain(b);
}

void btn_cancel_retry(struct button *b)
{
	fg_link_cancel_retry(&b->lp);
	btn_link_drain(b);
}
