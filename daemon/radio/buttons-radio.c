/* SPDX-License-Identifier: MIT */
/*
 * What BlueZ tells the buttons (bluez.h callbacks): the radio's state,
 * advertisements, links, devices, notifications.
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

static void on_radio(struct fg_bluez *bz, enum fg_bluez_state state, const char *adapter, void *userdata)
{
	struct fg_buttons *bs = userdata;

	if (bs->ops->radio_changed)
		bs->ops->radio_changed(bs, state, adapter, bs->userdata);
	if (state != FG_BLUEZ_READY)
		return;
	btn_budget_resolve(bs);
	for (struct button *b = bs->buttons; b; b = b->next)
		btn_connect(b, false, true);
	btn_budget_update(bs);
}

static void on_advertisement(struct fg_bluez *bz, const struct fg_bluez_adv *adv, void *userdata)
{
	struct fg_buttons *bs = userdata;
	struct button *b = btn_find_by_address(bs, adv->address);
	uint64_t now = btn_now(bs);
	bool public_mode;
	const char *why = NULL;

	if (adv->info.kind != FG_FLIC2_ADV_FLIC2 && !b)
		return;	/* a Twist speaks another protocol; anything else is not ours */
	if (b) {
		b->last_seen = fg_now_realtime();
		b->has_rssi = adv->has_rssi;
		b->rssi = adv->rssi;
	}
	/*
	 * Pairable: in public mode and not linked to another device. A button
	 * we hold a good pairing for is never re-paired from an advertisement:
	 * BlueZ keeps the service UUID it saw once, so "public mode" would be
	 * stale; unpair it first, or let the engine find it lost our pairing.
	 */
	public_mode = adv->info.public_mode && !adv->connected && !adv->info.connected_elsewhere &&
		      !(b && b->paired && !b->repair_needed);

	if (public_mode && (!b || !b->pairing) && (!b || fg_link_may_pair(&b->lp, now))) {
		bool by_window;

		if (fg_pairing_allowed(bs->cfg->bluetooth.pairing,
				       fg_config_button_by_address(bs->cfg, adv->address) != NULL, bs->pw.open,
				       bs->pw.busy, &by_window, &why)) {
			if (!b)
				b = btn_new(bs, adv->address);
			if (!b)
				return (void)log_error("Button %02X:…: out of memory", adv->address[0]);
			b->has_rssi = adv->has_rssi;
			b->rssi = adv->rssi;
			b->last_seen = fg_now_realtime();
			btn_start_pairing(b, by_window);
			btn_report(b);
			return;
		}
		if (fg_refusals_is_news(&bs->refused, adv->address, now)) {
			struct fg_pairing_report rep = {
				.step = FG_PAIRING_REFUSED,
				.address = adv->address,
				.name = b ? b->display : NULL,
				.detail = why,
			};
			char a[18];

			fg_format_address(adv->address, a);
			bs->stats.refused++;
			log_info("Button %s is in public mode but is not paired: %s", a, why);
			if (bs->ops->pairing)
				bs->ops->pairing(bs, &rep, bs->userdata);
		}
	}
	if (!b)
		return;
	if (btn_wants_link(b) && b->link == FG_BLUEZ_LINK_DOWN) {
		if (b->paired)
			btn_budget_wanted(b);
		/* it is there now: whatever we were waiting for, connect */
		if (!b->lp.requested || !b->lp.foreground) {
			if (b->lp.requested)
				/* a background attempt is pending in BlueZ already */
				log_debug("Button %s advertises; connect pending", b->display);
			else
				btn_connect(b, true, true);
		}
	}
	if (now >= b->last_seen_reported + SEEN_REPORT_USEC)
		btn_report(b);
}

static void on_link(struct fg_bluez *bz, const uint8_t address[6], enum fg_bluez_link link, int error,
		    unsigned mtu, void *userdata)
{
	struct fg_buttons *bs = userdata;
	struct button *b = btn_find_by_address(bs, address);
	uint64_t now = btn_now(bs);
	struct fg_link_input in;
	enum fg_bluez_link old;
	int r;

	if (!b)
		return;
	old = b->link;
	b->link = link;
	switch (link) {
	case FG_BLUEZ_LINK_DOWN: {
		bool was_verified = b->verified;

		fg_link_down(&b->lp, now);
		b->verified = false;
		(void)btn_flush_dedup(b);
		/* packets of the session that ended cannot go on another one */
		btn_drop_held(b);
		if (b->engine)
			fg_flic2_disconnected(b->engine, now);
		btn_arm_deadline(b);
		if (old != FG_BLUEZ_LINK_DOWN)
			btn_budget_link_down(b);	/* a slot is free */
		if (!btn_wants_link(b) && !b->repair_needed) {
			/* unpaired while the link was up: forget it now */
			log_info("Button %s: disconnected", b->display);
			btn_report(b);
			btn_maybe_forget(b);
			break;
		}
		if (was_verified) {
			/* a verified session ended: the button sleeps (normal) or left */
			log_info("Button %s: disconnected%s%s", b->display, error ? ": " : "",
				 error ? strerror(-error) : "");
			btn_report(b);
			in = btn_link_input(b);
			fg_link_session_over(&b->lp, &in);
			btn_link_drain(b);
			break;
		}
		if (b->pairing && old != FG_BLUEZ_LINK_DOWN) {
			btn_on_failed(b, FG_FLIC2_FAIL_TIMEOUT, 0);
			btn_set_error(b, "link lost while pairing");
			btn_report(b);
			btn_maybe_forget(b);
			break;
		}
		if (b->pairing) {
			/* the pairing connect failed */
			b->pairing = false;
			fg_link_pairing_failed(&b->lp, now);
			bs->stats.pairing_failures++;
			btn_set_error(b, "cannot connect: %s", strerror(-(error ? error : EIO)));
			btn_report_pairing(bs, FG_PAIRING_FAILED, b, b->last_error);
			btn_pairing_attempt_over(b, "failed");
			btn_report(b);
			btn_maybe_forget(b);
			break;
		}
		if (old == FG_BLUEZ_LINK_DOWN && error == -ECONNREFUSED && bs->budget.links_used > 0) {
			/* most likely no controller slot: not the button's fault */
			btn_budget_refused(b);
			break;
		}
		if (!fg_link_attempt_failed(&b->lp, old != FG_BLUEZ_LINK_DOWN, now)) {
			/* a background wait ran out */
			btn_link_drain(b);
			break;
		}
		/* a foreground attempt or an unverified link failed */
		b->failures++;
		if (error)
			btn_set_error(b, "link failed: %s", strerror(-error));
		log_info("Button %s: %s%s%s", b->display,
			 old == FG_BLUEZ_LINK_DOWN ? "connect failed" : "link lost before verification",
			 error ? ": " : "", error ? strerror(-error) : "");
		btn_report(b);
		btn_link_drain(b);
		break;
	}
	case FG_BLUEZ_LINK_CONNECTED:
		b->last_seen = fg_now_realtime();
		btn_budget_linked(b);
		if (error) {
			/* the packet channel could not be set up or broke */
			enum fg_link_channel_verdict v = fg_link_channel_error(&b->lp, error, b->verified);

			if (v != FG_LINK_CHANNEL_HANG_UP)
				btn_set_error(b, "GATT: %s", strerror(-error));
			if (v == FG_LINK_CHANNEL_DROP_CACHE)
				log_warning("Button %s: the Flic service is missing again; dropping BlueZ's cached copy",
					    b->display);
			btn_link_drain(b);
			break;
		}
		btn_connect(b, false, false);
		if (b->pairing)
			btn_report_pairing(bs, FG_PAIRING_VERIFYING, b, NULL);
		btn_report(b);
		break;
	case FG_BLUEZ_LINK_READY:
		if (!btn_wants_link(b)) {
			(void)fg_bluez_disconnect(bs->bz, b->address);
			break;
		}
		if (!b->engine) {
			r = btn_engine(b, b->paired && !b->pairing ? FG_FLIC2_MODE_RECONNECT : FG_FLIC2_MODE_PAIR);
			if (r < 0) {
				log_error_errno(r, "Button %s: cannot start a session: %m", b->display);
				(void)fg_bluez_disconnect(bs->bz, b->address);
				break;
			}
		}
		/* a new channel on the same link (services re-resolved): a new session */
		if (fg_flic2_get_state(b->engine) != FG_FLIC2_STATE_IDLE &&
		    fg_flic2_get_state(b->engine) != FG_FLIC2_STATE_REPAIR_NEEDED)
			fg_flic2_disconnected(b->engine, now);
		r = fg_flic2_connected(b->engine, mtu, now);
		if (r == -ESTALE) {
			b->repair_needed = true;
			(void)fg_bluez_disconnect(bs->bz, b->address);
		} else if (r < 0) {
			log_warning_errno(r, "Button %s: cannot start a session: %m", b->display);
			(void)fg_bluez_disconnect(bs->bz, b->address);
		}
		btn_drain(b);
		break;
	case _FG_BLUEZ_LINK_MAX:
		break;
	}
	btn_budget_update(bs);
}

static void on_device_present(struct fg_bluez *bz, const uint8_t address[6], bool present, void *userdata)
{
	struct fg_buttons *bs = userdata;
	struct button *b = btn_find_by_address(bs, address);

	/* a kept device is back (bluetoothd restart, adapter back): wait for it */
	if (b && present && !b->lp.requested)
		btn_connect(b, false, true);
}

static void on_notification(struct fg_bluez *bz, const uint8_t address[6], const uint8_t *data, size_t len,
			    void *userdata)
{
	struct fg_buttons *bs = userdata;
	struct button *b = btn_find_by_address(bs, address);
	int r;

	if (!b || !b->engine)
		return;
	r = fg_flic2_receive(b->engine, data, len, btn_now(bs));
	if (r == -EBADMSG) {
		b->rejected++;
		bs->stats.rejected++;
		btn_set_error(b, "rejected packet: %s", fg_flic2_last_error(b->engine));
		log_info("Button %s: rejected a packet: %s", b->display, fg_flic2_last_error(b->engine));
	}
	btn_drain(b);
	btn_budget_update(bs);
}

const struct fg_bluez_ops btn_bluez_ops = {
	.state_changed = on_radio,
	.advertisement = on_advertisement,
	.link_changed = on_link,
	.device_present = on_device_present,
	.notification = on_notification,
};
