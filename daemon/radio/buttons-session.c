/* SPDX-License-Identifier: MIT */
/*
 * A button's session: the glue between its Flic 2 engine (flic2.h) and the
 * rest: packets out, deadlines, button events to the owner, a new pairing
 * stored, failures.
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

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct button *b = userdata;

	if (!b->engine)
		return 0;
	(void)fg_flic2_timeout(b->engine, btn_now(b->bs));
	btn_drain(b);
	return 0;
}

void btn_arm_deadline(struct button *b)
{
	uint64_t t = b->engine ? fg_flic2_next_deadline(b->engine) : UINT64_MAX;
	int r;

	if (t == UINT64_MAX) {
		if (b->deadline)
			(void)sd_event_source_set_enabled(b->deadline, SD_EVENT_OFF);
		return;
	}
	if (!b->deadline) {
		r = sd_event_add_time(b->bs->event, &b->deadline, CLOCK_MONOTONIC, t, 0, on_deadline, b);
		if (r < 0)
			log_error_errno(r, "Button %s: cannot arm a timer: %m", b->display);
		return;
	}
	r = sd_event_source_set_time(b->deadline, t);
	if (r >= 0)
		r = sd_event_source_set_enabled(b->deadline, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error_errno(r, "Button %s: cannot arm a timer: %m", b->display);
}

/*
 * The owner could not take an event: the button must keep it. Drop the
 * link before the acknowledgement goes out, and start the next session
 * from the persisted state so the engine does not think it was reported.
 */
static void hold_events(struct button *b)
{
	uint64_t now = btn_now(b->bs);

	b->bs->stats.events_held++;
	/*
	 * b->dedup is the counter of the last packet whose events were all
	 * taken (this packet's comes after its events): keep that one; the
	 * next engine starts from it.
	 */
	(void)btn_flush_dedup(b);
	(void)fg_bluez_disconnect(b->bs->bz, b->address);
	fg_flic2_disconnected(b->engine, now);
	b->engine = fg_flic2_free(b->engine);
	btn_arm_deadline(b);
}

void btn_not_durable(struct button *b, int r)
{
	uint64_t now = btn_now(b->bs);

	b->bs->stats.events_held++;
	log_error("Button %s: its events could not be stored (%s): not acknowledged, the button "
		  "keeps them and sends them again on its next connection", b->display,
		  strerror(r < 0 ? -r : ENOSPC));
	btn_set_error(b, "events not stored (%s): not acknowledged", strerror(r < 0 ? -r : ENOSPC));
	btn_drop_held(b);
	b->awaiting = false;
	/* the next session starts from what is on disk, so the events count as new */
	b->dedup = b->dedup_durable;
	b->dedup_dirty = false;
	if (!b->engine)
		return;
	(void)fg_bluez_disconnect(b->bs->bz, b->address);
	fg_flic2_disconnected(b->engine, now);
	b->engine = fg_flic2_free(b->engine);
	btn_arm_deadline(b);
}

void fg_buttons_counters_durable(struct fg_buttons *bs, int r)
{
	for (struct button *b = bs->buttons; b; b = b->next) {
		if (!b->awaiting)
			continue;
		if (r < 0) {
			btn_not_durable(b, r);
			continue;
		}
		b->awaiting = false;
		b->dedup_durable = b->dedup_staged;
		if (b->counter_file) {
			int k = fg_pairing_store_remove_dedup(bs->store, b->address);

			if (k < 0 && k != -ENOENT)
				log_warning_errno(k, "Button %s: cannot remove its old counter file: %m",
						  b->display);
			b->counter_file = false;
		}
		/* the acknowledgement (and what queued behind it) goes out now */
		for (size_t i = 0; i < b->n_held; i++)
			if (fg_bluez_write(bs->bz, b->address, b->held[i].data, b->held[i].len) < 0) {
				(void)fg_bluez_disconnect(bs->bz, b->address);
				break;
			}
		btn_drop_held(b);
	}
}

static void on_button_event(struct button *b, const struct fg_flic2_button_event *e)
{
	struct fg_button_event ev = {
		.gesture = e->gesture,
		.event_counter = e->event_count,
		.age_usec = e->age_usec,
		.queued = e->queued,
		.battery_mv = b->battery_mv,
		.has_address = true,
	};
	char age[FG_DURATION_BUF];
	int r;

	memcpy(ev.address, b->address, 6);
	if (b->paired)
		snprintf(ev.serial, sizeof(ev.serial), "%s", b->rec.serial);
	b->last_press = fg_now_realtime() - e->age_usec;
	b->last_press_mono = btn_now(b->bs);
	b->last_seen = fg_now_realtime();
	b->last_gesture = e->gesture;
	b->events++;

	if (e->queued || e->age_usec >= FG_USEC_PER_SEC)
		fg_format_duration(e->age_usec / FG_USEC_PER_MSEC * FG_USEC_PER_MSEC, age, sizeof(age));
	if (!b->cfg) {
		/* documented: an unconfigured button's presses open no alert */
		b->bs->stats.events_unconfigured++;
		log_notice("Button %s (not in the configuration): %s%s%s%s, no alert sent", b->display,
			   fg_gesture_to_string(e->gesture), e->queued ? " (queued" : "",
			   e->queued ? ", " : "", e->queued ? age : "");
		if (e->queued)
			log_notice("Button %s: add a [button] section with address = %s to map it", b->display,
				   b->addr_str);
		return;
	}
	/* down and up are for the mapping; people read about clicks and holds */
	fg_log_full_errno(e->gesture == FG_GESTURE_DOWN || e->gesture == FG_GESTURE_UP ? LOG_DEBUG : LOG_INFO, 0,
			  "Button %s: %s #%u%s%s%s", b->display, fg_gesture_to_string(e->gesture),
			  e->event_count, e->queued ? " (queued, " : "", e->queued ? age : "",
			  e->queued ? " old)" : "");
	b->bs->stats.events++;
	r = b->bs->ops->button_event ? b->bs->ops->button_event(b->bs, b->cfg, &ev, b->bs->userdata) : 0;
	if (r < 0) {
		log_error_errno(r, "Button %s: event not accepted, the button keeps it: %m", b->display);
		btn_set_error(b, "event not accepted: %s", strerror(-r));
		hold_events(b);
	}
}

void btn_on_events_lost(struct button *b, const struct fg_flic2_events_lost *l)
{
	struct fg_button_loss loss = {
		.name = b->display,
		.address_str = b->addr_str,
		.configured = b->cfg != NULL,
		.presses = l->presses,
		.boot_id = l->boot_id,
		.last_count = l->last_count,
		.next_count = l->next_count,
	};

	b->bs->stats.events_lost += l->presses;
	log_warning("Button %s: %u press%s lost by the button (event counter %u -> %u)",
		    b->display, l->presses, l->presses == 1 ? "" : "es", l->last_count,
		    l->next_count);
	if (b->bs->ops->events_lost)
		b->bs->ops->events_lost(b->bs, &loss, b->bs->userdata);
}

void btn_on_failed(struct button *b, enum fg_flic2_failure reason, uint8_t detail)
{
	const char *why = fg_flic2_failure_to_string(reason);
	const char *err = b->engine ? fg_flic2_last_error(b->engine) : "";

	btn_set_error(b, "%s%s%s", why, err && *err ? ": " : "", err ? err : "");
	if (b->pairing) {
		b->pairing = false;
		fg_link_pairing_failed(&b->lp, btn_now(b->bs));
		b->bs->stats.pairing_failures++;
		log_warning("Button %s: pairing failed: %s", b->display, b->last_error);
		btn_report_pairing(b->bs, FG_PAIRING_FAILED, b, b->last_error);
		btn_pairing_attempt_over(b, "failed");
		return;
	}
	b->failures++;
	switch (reason) {
	case FG_FLIC2_FAIL_REPAIR_NEEDED:
		/* the stored key is useless: forget it, say so loudly */
		log_error("Button %s: it no longer holds our pairing (factory reset?): pair it again",
			  b->display);
		b->repair_needed = true;
		b->paired = false;
		(void)fg_pairing_store_remove(b->bs->store, b->address);
		(void)fg_bluez_watch(b->bs->bz, b->address, false);
		explicit_bzero(&b->rec.pairing_key, sizeof(b->rec.pairing_key));
		break;
	case FG_FLIC2_FAIL_NOT_GENUINE:
	case FG_FLIC2_FAIL_KEY_MISMATCH:
	case FG_FLIC2_FAIL_BAD_MAC:
		log_warning("Button %s: session refused: %s", b->display, b->last_error);
		break;
	case FG_FLIC2_FAIL_LINK_CLOSED:
		/* the button closed it on purpose: not a fault */
		log_info("Button %s: the button closed the session", b->display);
		b->failures--;
		break;
	case FG_FLIC2_FAIL_NO_SLOTS:
		/* likely our own session from before a restart: a new link frees it */
		log_info("Button %s: no free logical connection on the link (one of ours from before a restart?): "
			 "linking it afresh", b->display);
		b->failures--;
		fg_link_stale_session(&b->lp);
		break;
	case FG_FLIC2_FAIL_NOT_PAIRABLE:
	case FG_FLIC2_FAIL_TIMEOUT:
	case FG_FLIC2_FAIL_APP_CREDENTIALS:
	case FG_FLIC2_FAIL_PROTOCOL:
	case FG_FLIC2_FAIL_INTERNAL:
	case _FG_FLIC2_FAIL_MAX:
		log_info("Button %s: session failed: %s", b->display, b->last_error);
		break;
	}
	(void)detail;
}

static void on_paired(struct button *b, const struct fg_flic2_pairing *rec)
{
	struct fg_buttons *bs = b->bs;
	int r;

	b->rec = *rec;
	b->paired = true;
	b->repair_needed = false;
	b->dedup = b->dedup_durable = (struct fg_flic2_dedup){ 0 };
	if (b->window_alias) {
		free(b->alias);
		b->alias = b->window_alias;
		b->window_alias = NULL;
	}
	(void)btn_rename(b);
	/*
	 * A new pairing starts a new event history: drop what an older
	 * pairing of this address left (its counter file), then store the
	 * record. The engine asks to persist the first counter right after.
	 */
	r = fg_pairing_store_remove(bs->store, b->address);
	if (r < 0 && r != -ENOENT)
		log_warning_errno(r, "Button %s: cannot remove its old pairing files: %m", b->display);
	r = btn_save_record(b);
	if (r >= 0 && b->alias)
		(void)btn_save_names(bs);
	(void)fg_bluez_set_trusted(bs->bz, b->address, true);
	(void)fg_bluez_watch(bs->bz, b->address, true);
	bs->stats.pairings++;
	log_notice("Button %s paired: %s, serial %s, firmware %u%s", b->display, b->addr_str,
		   b->rec.serial, b->rec.firmware_version,
		   b->cfg ? "" : " (no [button] section names it: its presses open no alert)");
	if (r < 0) {
		/*
		 * It works until we restart, then it is gone: say so now, while
		 * someone is watching the window, not after the next reboot.
		 */
		btn_set_error(b, "paired, but the pairing could not be saved: %s", strerror(-r));
		bs->stats.pairing_failures++;
		btn_report_pairing(bs, FG_PAIRING_FAILED, b, b->last_error);
		btn_pairing_attempt_over(b, "failed");
		return;
	}
	btn_report_pairing(bs, FG_PAIRING_PAIRED, b, NULL);
	btn_pairing_attempt_over(b, "paired");
}

static void on_verified(struct button *b)
{
	uint64_t now = fg_now_realtime();

	if (b->pairing)
		b->pairing = false;
	b->verified = true;
	b->verified_mono = btn_now(b->bs);
	b->failures = 0;
	fg_link_verified(&b->lp);
	b->sessions++;
	b->last_connected = b->last_seen = now;
	b->last_error[0] = 0;
	log_info("Button %s: connected and verified", b->display);
}

/* Run every queued engine action, in order (see core/flic2.h). */
void btn_drain(struct button *b)
{
	struct fg_flic2_action a;
	bool changed = false;
	int r;

	while (b->engine && fg_flic2_next_action(b->engine, &a) > 0) {
		switch (a.kind) {
		case FG_FLIC2_ACTION_WRITE:
			r = btn_flush_dedup(b);
			if (r > 0)
				/* held until the events it acknowledges are durable */
				r = btn_hold_write(b, a.write.data, a.write.len);
			if (r < 0) {
				btn_not_durable(b, r);
				break;
			}
			if (b->awaiting)
				break;
			r = fg_bluez_write(b->bs->bz, b->address, a.write.data, a.write.len);
			if (r < 0) {
				log_info_errno(r, "Button %s: cannot write a packet: %m", b->display);
				(void)fg_bluez_disconnect(b->bs->bz, b->address);
			}
			break;
		case FG_FLIC2_ACTION_PAIRED:
			on_paired(b, &a.paired);
			changed = true;
			break;
		case FG_FLIC2_ACTION_VERIFIED:
			on_verified(b);
			changed = true;
			break;
		case FG_FLIC2_ACTION_BUTTON_EVENT:
			on_button_event(b, &a.button);
			changed = true;
			break;
		case FG_FLIC2_ACTION_STATE_TO_PERSIST:
			b->dedup = a.dedup;
			b->dedup_dirty = true;
			break;
		case FG_FLIC2_ACTION_BATTERY:
			/* every reading is news: two low ones in a row make an alarm */
			changed = true;
			b->battery_mv = a.battery_mv;
			b->battery_readings++;
			break;
		case FG_FLIC2_ACTION_NAME:
			if (b->paired && strcmp(b->rec.name, a.name) != 0) {
				snprintf(b->rec.name, sizeof(b->rec.name), "%s", a.name);
				(void)btn_save_record(b);
				changed = true;
			}
			break;
		case FG_FLIC2_ACTION_FIRMWARE:
			if (b->paired && b->rec.firmware_version != a.firmware_version) {
				b->rec.firmware_version = a.firmware_version;
				(void)btn_save_record(b);
				changed = true;
			}
			break;
		case FG_FLIC2_ACTION_FAILED:
			btn_on_failed(b, a.failed.reason, a.failed.detail);
			changed = true;
			break;
		case FG_FLIC2_ACTION_DISCONNECT:
			(void)fg_bluez_disconnect(b->bs->bz, b->address);
			break;
		case FG_FLIC2_ACTION_EVENTS_LOST:
			btn_on_events_lost(b, &a.lost);
			break;
		case _FG_FLIC2_ACTION_MAX:
			break;
		}
	}
	explicit_bzero(&a, sizeof(a));
	btn_arm_deadline(b);
	if (changed)
		btn_report(b);
}
