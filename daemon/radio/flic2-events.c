/* SPDX-License-Identifier: MIT */
/*
 * The Flic 2 engine's verified session: the event queue's set-up, button
 * events into gestures (de-duplicated by counter) and answers to requests.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "lib/macro.h"
#include "radio/chaskey.h"
#include "radio/flic2-crypto.h"
#include "radio/flic2-internal.h"
#include "radio/flic2-packet.h"

static void persist_dedup(struct fg_flic2 *f)
{
	struct fg_flic2_action *a = f2_push(f, FG_FLIC2_ACTION_STATE_TO_PERSIST);

	if (a)
		a->dedup = f->dedup;
}

/* All events queued before this session are out: the normal requests follow. */
static void after_queue_drained(struct fg_flic2 *f, uint64_t now)
{
	struct fg_flic2_tx tx = {
		.opcode = FG_FLIC2_TX_SET_CONNECTION_PARAMETERS,
		.conn_params = {
			.interval_min = CONN_INTERVAL_MIN,
			.interval_max = CONN_INTERVAL_MAX,
			.latency = CONN_LATENCY,
			.timeout = CONN_TIMEOUT,
		},
	};

	if (f->queue_drained)
		return;
	f->queue_drained = true;
	f2_send_signed(f, &tx);
	f2_maybe_send_adv(f, now);
	if (!f->fresh) {
		/* pairing already told us these; a reconnect refreshes them */
		f2_queue_request(f, REQ_BATTERY, now);
		f2_queue_request(f, REQ_FIRMWARE, now);
		f2_queue_request(f, REQ_NAME, now);
	}
}

/* The press a counter value belongs to: press n owns 4n-3 .. 4n. */
static uint32_t press_of(uint32_t count)
{
	return (uint32_t)(((uint64_t)count + 3) / 4);
}

/* Presses that left no event between the last reported counter and @next. */
static void report_lost(struct fg_flic2 *f, uint32_t next, uint32_t presses)
{
	struct fg_flic2_action *a;

	if (presses == 0)
		return;
	a = f2_push(f, FG_FLIC2_ACTION_EVENTS_LOST);
	if (a) {
		a->lost.boot_id = f->dedup.boot_id;
		a->lost.last_count = f->dedup.event_count;
		a->lost.next_count = next;
		a->lost.presses = presses;
	}
	f->counters.events_lost += presses;
}

void f2_on_init_response(struct fg_flic2 *f, const struct fg_flic2_rx *rx, uint64_t now)
{
	bool changed = false;

	f->inflight &= ~(1u << REQ_INIT);
	f->request_deadline[REQ_INIT] = NO_DEADLINE;
	f->init_done = true;
	f->base_button_time = rx->init_events.timestamp;
	f->base_usec = now;

	if (rx->init_events.has_boot_id && !f->fresh && f->dedup.valid &&
	    rx->init_events.boot_id == f->dedup.boot_id) {
		/*
		 * "New boot" naming the boot we already know contradicts
		 * itself; keeping the counter is the safe reading, since
		 * resetting it would report old events a second time.
		 */
	} else if (rx->init_events.has_boot_id) {
		/*
		 * A boot id we did not know: either a fresh pairing (take its
		 * counter as the start: older presses predate the pairing) or
		 * the button rebooted and counts from zero again.
		 */
		f->dedup.boot_id = rx->init_events.boot_id;
		f->dedup.event_count = f->fresh ? rx->init_events.event_count : 0;
		f->dedup.valid = true;
		/* a new boot forgot the advertising settings */
		f->dedup.adv_configured = false;
		changed = true;
	} else if (!f->dedup.valid) {
		f->dedup.boot_id = 0;
		f->dedup.event_count = f->fresh ? rx->init_events.event_count : 0;
		f->dedup.valid = true;
		f->dedup.adv_configured = false;
		changed = true;
	} else if (!f->fresh && !rx->init_events.has_queued_events &&
		   rx->init_events.event_count > f->dedup.event_count) {
		/*
		 * Same boot, nothing queued, yet the button counted past what
		 * we reported: everything in between was dropped.
		 */
		uint32_t count = rx->init_events.event_count;

		report_lost(f, count, press_of(count) - press_of(f->dedup.event_count));
		f->dedup.event_count = count;
		changed = true;
	}
	if (changed)
		persist_dedup(f);
	if (!rx->init_events.has_queued_events)
		after_queue_drained(f, now);
	f2_pump_requests(f, now);
}

/* 48-bit button ticks (32768 Hz) to microseconds, without overflow. */
static uint64_t ticks_to_usec(uint64_t ticks)
{
	return (ticks >> 15) * 1000000u + ((ticks & 0x7fff) * 1000000u >> 15);
}

enum item_kind { ITEM_UP, ITEM_DOWN, ITEM_SINGLE_CLICK_TIMEOUT, ITEM_HOLD };

struct item_info {
	enum item_kind kind;
	bool was_hold, single, dbl, double_pending;
};

/*
 * Event codes: 8..15 are "up" with flags (bit 2 the press was a hold,
 * bit 1 decided: bit 0 double else single); below 8 the low two bits say
 * up (0), down (1), single-click timeout (2) or hold (3), and 7 is a hold
 * that ends a double click.
 */
static struct item_info classify(uint8_t code)
{
	struct item_info i = { 0 };

	if (code >> 3) {
		i.kind = ITEM_UP;
		i.was_hold = code & 4;
		i.single = (code & 2) && !(code & 1);
		i.dbl = (code & 2) && (code & 1);
		return i;
	}
	switch (code & 3) {
	case 0:
		i.kind = ITEM_UP;
		break;
	case 1:
		i.kind = ITEM_DOWN;
		break;
	case 2:
		i.kind = ITEM_SINGLE_CLICK_TIMEOUT;
		break;
	default:
		i.kind = ITEM_HOLD;
		i.double_pending = code == 7;
		break;
	}
	return i;
}

/*
 * Every press owns four counter values: down = 1, hold = 2, up = 3 and
 * single-click timeout = 0 (mod 4), used or not. The notification carries
 * the counter of its last item; walking backwards, each earlier item sits
 * one or two steps lower depending on which slots were skipped. False when
 * the counter would run below zero (impossible for a genuine button).
 */
static bool item_counters(const struct fg_flic2_rx *rx, uint32_t counters[])
{
	uint32_t ec = rx->events.press_counter;

	counters[rx->events.n - 1] = ec;
	for (size_t i = rx->events.n - 1; i-- > 0;) {
		struct item_info info = classify(rx->events.items[i].code);
		uint32_t step;

		switch (ec % 4) {
		case 0:		/* after a timeout comes... it follows an up */
		case 2:		/* a hold follows its down */
			step = 1;
			break;
		case 1:		/* a down follows a timeout, or an up (timeout skipped) */
			step = info.kind == ITEM_SINGLE_CLICK_TIMEOUT ? 1 : 2;
			break;
		default:	/* an up follows a hold, or a down (hold skipped) */
			step = info.kind == ITEM_HOLD ? 1 : 2;
			break;
		}
		if (ec < step)
			return false;
		ec -= step;
		counters[i] = ec;
	}
	return true;
}

static void report(struct fg_flic2 *f, enum fg_gesture g, uint32_t count,
		   const struct fg_flic2_event_item *item, uint64_t press,
		   uint64_t now, bool double_pending)
{
	struct fg_flic2_action *a = f2_push(f, FG_FLIC2_ACTION_BUTTON_EVENT);

	if (!a)
		return;
	a->button.gesture = g;
	a->button.boot_id = f->dedup.boot_id;
	a->button.event_count = count;
	a->button.button_time = item->timestamp;
	a->button.press_usec = press;
	a->button.age_usec = now - press;
	a->button.queued = item->queued;
	a->button.double_click_pending = double_pending;
	f->counters.events_reported++;
}

/* When the item happened on our clock. */
static uint64_t press_time(struct fg_flic2 *f, const struct fg_flic2_event_item *item,
			   uint64_t now)
{
	uint64_t t;

	if (!item->queued) {
		/*
		 * Live events arrive within one connection interval: take now,
		 * and re-anchor the clock mapping so crystal drift over a long
		 * session never ages later queued-looking events.
		 */
		f->base_button_time = item->timestamp;
		f->base_usec = now;
		return now;
	}
	if (item->timestamp <= f->base_button_time) {
		uint64_t ago = ticks_to_usec(f->base_button_time - item->timestamp);

		t = ago < f->base_usec ? f->base_usec - ago : 0;
	} else {
		t = f->base_usec + ticks_to_usec(item->timestamp - f->base_button_time);
	}
	return t > now ? now : t;
}

int f2_on_button_events(struct fg_flic2 *f, const struct fg_flic2_rx *rx, uint64_t now)
{
	uint32_t counters[FG_FLIC2_MAX_EVENT_ITEMS];
	bool ack = false, any_new = false, drained = false;

	if (!item_counters(rx, counters)) {
		f->counters.rx_unexpected++;
		f2_set_error(f, "ButtonEventNotification counter %u below its %zu items",
			  rx->events.press_counter, rx->events.n);
		return -EBADMSG;
	}
	for (size_t i = 0; i < rx->events.n; i++) {
		const struct fg_flic2_event_item *item = &rx->events.items[i];
		struct item_info info = classify(item->code);
		uint64_t press = press_time(f, item, now);
		uint32_t gap;

		if ((info.kind == ITEM_UP && (info.single || info.dbl)) ||
		    info.kind == ITEM_SINGLE_CLICK_TIMEOUT)
			ack = true;
		if (item->queued_last)
			drained = true;

		if (counters[i] <= f->dedup.event_count) {
			/* already reported in this boot, maybe before a restart */
			f->counters.events_duplicate++;
			continue;
		}
		gap = press_of(counters[i]) - press_of(f->dedup.event_count);
		if (gap > 1)
			report_lost(f, counters[i], gap - 1);
		f->dedup.event_count = counters[i];
		any_new = true;
		switch (info.kind) {
		case ITEM_UP:
			report(f, FG_GESTURE_UP, counters[i], item, press, now, false);
			if (!info.was_hold)
				report(f, FG_GESTURE_CLICK, counters[i], item, press, now, false);
			if (info.single)
				report(f, FG_GESTURE_SINGLE_CLICK, counters[i], item, press, now, false);
			if (info.dbl)
				report(f, FG_GESTURE_DOUBLE_CLICK, counters[i], item, press, now, false);
			break;
		case ITEM_DOWN:
			report(f, FG_GESTURE_DOWN, counters[i], item, press, now, false);
			break;
		case ITEM_SINGLE_CLICK_TIMEOUT:
			report(f, FG_GESTURE_SINGLE_CLICK, counters[i], item, press, now, false);
			break;
		case ITEM_HOLD:
			report(f, FG_GESTURE_HOLD, counters[i], item, press, now,
			       info.double_pending);
			break;
		}
	}
	/* order: the events, their dedup state, then the acknowledgement */
	if (any_new)
		persist_dedup(f);
	if (ack) {
		struct fg_flic2_tx tx = {
			.opcode = FG_FLIC2_TX_ACK_BUTTON_EVENTS,
			.ack.event_count = rx->events.press_counter,
		};

		f2_send_signed(f, &tx);
	}
	if (drained)
		after_queue_drained(f, now);
	return 0;
}

void f2_emit_name(struct fg_flic2 *f, const struct fg_flic2_rx *rx)
{
	struct fg_flic2_action *a;

	f2_sanitize_name(rx->name.name, rx->name.len, f->pairing.name);
	a = f2_push(f, FG_FLIC2_ACTION_NAME);
	if (a)
		memcpy(a->name, f->pairing.name, sizeof(a->name));
}

bool f2_take_response(struct fg_flic2 *f, enum request req, uint8_t opcode)
{
	if (!(f->inflight & (1u << req))) {
		f->counters.rx_unexpected++;
		f2_set_error(f, "unsolicited %s", fg_flic2_rx_opcode_to_string(opcode));
		return false;
	}
	f->inflight &= ~(1u << req);
	f->request_deadline[req] = NO_DEADLINE;
	return true;
}

/* Firmware 6 and later take advertising settings; once per boot, as the official clients. */
void f2_maybe_send_adv(struct fg_flic2 *f, uint64_t now)
{
	if (!f->queue_drained || f->dedup.adv_configured ||
	    f->pairing.firmware_version < ADV_MIN_FIRMWARE)
		return;
	f2_queue_request(f, REQ_ADV, now);
}

void f2_on_adv_response(struct fg_flic2 *f)
{
	if (!f2_take_response(f, REQ_ADV, FG_FLIC2_RX_SET_ADV_PARAMETERS))
		return;
	f->dedup.adv_configured = true;
	persist_dedup(f);
}
