/* SPDX-License-Identifier: MIT */
/* A button's events: counters with the protocol's residues, the queue of
 * unacknowledged events, live notifications, and the replay the client
 * asks for with InitButtonEvents. */
#include <string.h>

#include "button-internal.h"
#include "lib/log.h"

/* Counter residues: down 1, hold 2, up 3, single-click timeout 0. */
static unsigned residue(uint8_t enc)
{
	if (enc & 8)
		return 3;
	switch (enc & 3) {
	case FS_EVT_DOWN:
		return 1;
	case FS_EVT_HOLD:
		return 2;
	case FS_EVT_SINGLE_TIMEOUT:
		return 0;
	default:
		return 3;
	}
}

static bool ends_gesture(uint8_t enc)
{
	return enc == FS_EVT_SINGLE_TIMEOUT || enc == FS_EVT_UP_DOUBLE ||
	       enc == FS_EVT_UP_DOUBLE_HOLD || enc == FS_EVT_UP_AFTER_HOLD ||
	       enc == FS_EVT_UP_SINGLE;
}

static int send_events(struct fs_button *b, const struct fs_event_item *evs,
		       size_t n, bool queued, bool last_queued)
{
	uint8_t pkt[FS_MAX_PACKET], *q = pkt;

	*q++ = FS_RSP_BUTTON_EVENT_NOTIFICATION;
	fs_put_le32(q, evs[n - 1].counter);
	q += 4;
	for (size_t i = 0; i < n; i++) {
		fs_put_le48(q, evs[i].ticks);
		q[6] = (evs[i].encoded & 0x0f) | (queued ? 0x10 : 0) |
		       (last_queued && i == n - 1 ? 0x20 : 0);
		q += 7;
	}
	if (queued)
		b->stats.events_queued += n;
	else
		b->stats.events_live += n;
	return btn_send_signed_events(b, pkt, (size_t)(q - pkt), evs, n, queued);
}

void btn_handle_init_events(struct fs_button *b, const uint8_t *p, size_t len)
{
	uint32_t want_count, want_boot, max_packets, max_age_s, bits;
	uint8_t rsp[1 + 6 + 4 + 4 + FS_CHASKEY_MAC_LEN];
	size_t first, n_packets = 0, start, end, n_rsp;
	uint64_t now = now_usec(b), ticks = button_ticks(b);
	bool same_boot;

	if (len < 14) {
		log_warning("%s: short InitButtonEventsRequest (%zu bytes)", b->address, len);
		return;
	}
	want_count = fs_le32(p + 1);
	want_boot = fs_le32(p + 5);
	bits = fs_le32(p + 9);
	b->auto_disconnect_s = bits & 0x1ff;
	max_packets = (bits >> 9) & 0x1f;
	max_age_s = (bits >> 14) | (uint32_t)(p[13] & 0x03) << 18;
	same_boot = want_boot == b->boot_id;

	/* Which queued gestures to replay: newer than what the client has seen
	 * (only meaningful within one boot) and not older than max_age; of those
	 * the newest max_packets gestures, one notification each. */
	first = b->n_queue;
	for (size_t i = 0; i < b->n_queue; i++) {
		const struct fs_event_item *e = &b->queue[i];

		if (same_boot && (int32_t)(e->counter - want_count) <= 0)
			continue;
		if (now - e->mono_usec > (uint64_t)max_age_s * FG_USEC_PER_SEC)
			continue;
		first = i;
		break;
	}
	start = b->n_queue;
	for (size_t i = b->n_queue; i > first && n_packets < max_packets;) {
		size_t j = i - 1;

		while (j > first && !ends_gesture(b->queue[j - 1].encoded))
			j--;
		start = j;
		n_packets++;
		i = j;
	}

	rsp[0] = same_boot ? FS_RSP_INIT_BUTTON_EVENTS_WITHOUT_BOOT_ID
			   : FS_RSP_INIT_BUTTON_EVENTS_WITH_BOOT_ID;
	fs_put_le48(rsp + 1, (ticks << 1 & ((UINT64_C(1) << 48) - 2)) | (start < b->n_queue));
	fs_put_le32(rsp + 7, b->event_count);
	n_rsp = 11;
	if (!same_boot) {
		fs_put_le32(rsp + 11, b->boot_id);
		n_rsp = 15;
	}
	log_info("%s: InitButtonEvents: client count %u boot %08x, auto-disconnect %us, "
		 "max %u packets / %us; button count %u boot %08x; replaying %zu events",
		 b->address, want_count, want_boot, b->auto_disconnect_s, max_packets,
		 max_age_s, b->event_count, b->boot_id, b->n_queue - start);
	btn_send_signed(b, rsp, n_rsp);
	b->events_ready = true;

	/* One notification per queued gesture, the last item flagged. */
	while (start < b->n_queue) {
		end = start;
		while (end + 1 < b->n_queue && !ends_gesture(b->queue[end].encoded))
			end++;
		send_events(b, b->queue + start, end - start + 1, true,
			    end + 1 == b->n_queue);
		start = end + 1;
	}
	btn_restart_idle(b);
}

void btn_handle_ack(struct fs_button *b, uint32_t count)
{
	size_t keep = 0;

	for (size_t i = 0; i < b->n_queue; i++)
		if ((int32_t)(b->queue[i].counter - count) > 0)
			b->queue[keep++] = b->queue[i];
	log_debug("%s: ack up to %u: %zu events acknowledged, %zu kept", b->address,
		  count, b->n_queue - keep, keep);
	b->n_queue = keep;
}

/* --- a new event ----------------------------------------------------------------- */

void btn_emit_event(struct fs_button *b, uint8_t enc)
{
	struct fs_event_item ev;
	uint32_t c = b->event_count + 1;

	while (c % 4 != residue(enc))
		c++;
	b->event_count = c;
	ev.counter = c;
	ev.ticks = button_ticks(b) & ((UINT64_C(1) << 48) - 1);
	ev.encoded = enc;
	ev.mono_usec = now_usec(b);
	b->stats.events++;

	if (b->n_queue == MAX_QUEUE) {
		memmove(b->queue, b->queue + 1, (MAX_QUEUE - 1) * sizeof(*b->queue));
		b->n_queue--;
	}
	b->queue[b->n_queue++] = ev;
	log_info("%s: event %u: encoded %u at tick %llu (%s)", b->address, c, enc,
		 (unsigned long long)ev.ticks,
		 b->events_ready ? "live" : b->linked ? "queued, session not ready" : "queued, not connected");

	if (b->linked && b->state == SESSION_ESTABLISHED && b->events_ready) {
		send_events(b, &ev, 1, false, false);
		btn_restart_idle(b);
	}
}
