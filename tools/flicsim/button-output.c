/* SPDX-License-Identifier: MIT */
/* What a button sends: packets signed and split into ATT values for the
 * link's MTU, held for the button's latency, and the faults that drop,
 * corrupt, duplicate or reorder notifications on their way out. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "button-internal.h"
#include "lib/log.h"

/* --- output path: framing, faults, delivery --------------------------------- */

static void deliver(struct fs_button *b, struct out *o)
{
	uint64_t t;
	int r;

	r = b->ops->notify(b, o->att, o->len, b->userdata);
	if (r < 0) {
		b->stats.tx_undelivered++;
		log_debug("%s: notification of %zu bytes not delivered: %s",
			  b->address, o->len, strerror(-r));
		return;
	}
	b->stats.tx_notifications++;
	t = fg_now_monotonic();
	for (size_t i = 0; i < o->n_evs; i++)
		if (b->ops->event_sent)
			b->ops->event_sent(b, &o->evs[i], o->queued, t, b->userdata);
}

static int on_held(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;
	struct out *o = b->held;

	disarm(&b->held_timer);
	b->held = NULL;
	if (o && b->linked)
		deliver(b, o);
	free(o);
	return 0;
}

static void flush_one(struct fs_button *b, struct out *o)
{
	struct out *prev;

	if (fs_button_take_fault(b, FS_FAULT_DROP)) {
		log_info("%s: fault: dropping a notification (%zu bytes)", b->address, o->len);
		return;
	}
	if (fs_button_take_fault(b, FS_FAULT_CORRUPT)) {
		size_t i = o->len > 1 ? 1 + (size_t)(o->len - 1) / 2 : 0;

		o->att[i] ^= 0x10;
		log_info("%s: fault: corrupting byte %zu of a notification", b->address, i);
	}
	if (!b->held && fs_button_take_fault(b, FS_FAULT_REORDER)) {
		/* Hold this one back until the next one has gone out. */
		struct out *copy = malloc(sizeof(*copy));

		if (copy) {
			*copy = *o;
			copy->next = NULL;
			b->held = copy;
			arm(b, &b->held_timer, REORDER_HOLD_USEC, on_held);
			log_info("%s: fault: holding a notification back", b->address);
			return;
		}
	}
	deliver(b, o);
	if (fs_button_take_fault(b, FS_FAULT_DUPLICATE)) {
		log_info("%s: fault: sending a notification twice", b->address);
		deliver(b, o);
	}
	if (b->held) {
		prev = b->held;
		b->held = NULL;
		disarm(&b->held_timer);
		deliver(b, prev);
		free(prev);
	}
}

static int on_flush(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;
	struct out *o;

	disarm(&b->flush_timer);
	while ((o = b->out_head)) {
		b->out_head = o->next;
		if (!b->out_head)
			b->out_tail = NULL;
		if (b->linked)
			flush_one(b, o);
		free(o);
	}
	return 0;
}

void btn_flush(struct fs_button *b)
{
	on_flush(NULL, 0, b);
}

void btn_drop_output(struct fs_button *b)
{
	struct out *o;

	while ((o = b->out_head)) {
		b->out_head = o->next;
		free(o);
	}
	b->out_tail = NULL;
	free(b->held);
	b->held = NULL;
	disarm(&b->flush_timer);
	disarm(&b->held_timer);
}

struct split_ctx {
	struct fs_button *b;
	const struct fs_event_item *evs;
	size_t n_evs;
	bool queued;
};

static int queue_fragment(const uint8_t *att, size_t len, bool last, void *userdata)
{
	struct split_ctx *c = userdata;
	struct fs_button *b = c->b;
	struct out *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	memcpy(o->att, att, len);
	o->len = len;
	if (last && c->n_evs) {
		memcpy(o->evs, c->evs, c->n_evs * sizeof(*c->evs));
		o->n_evs = c->n_evs;
		o->queued = c->queued;
	}
	if (b->out_tail)
		b->out_tail->next = o;
	else
		b->out_head = o;
	b->out_tail = o;
	if (!b->flush_timer)
		arm(b, &b->flush_timer, (uint64_t)b->cfg.latency_ms * FG_USEC_PER_MSEC,
		    on_flush);
	return 0;
}

int btn_send_packet_events(struct fs_button *b, uint8_t header,
			      const uint8_t *pkt, size_t len,
			      const struct fs_event_item *evs, size_t n_evs,
			      bool queued)
{
	struct split_ctx c = { b, evs, n_evs, queued };

	if (!b->linked)
		return -ENOTCONN;
	return fs_frame_split(header, pkt, len, b->mtu, queue_fragment, &c);
}

int btn_send_unsigned(struct fs_button *b, uint8_t header,
			 const uint8_t *pkt, size_t len)
{
	log_debug("%s: -> opcode %u (%zu bytes, unsigned)", b->address, pkt[0], len);
	return btn_send_packet_events(b, header, pkt, len, NULL, 0, false);
}

/* @pkt must have room for the MAC after @len bytes. */
int btn_send_signed_events(struct fs_button *b, uint8_t *pkt, size_t len,
			      const struct fs_event_item *evs, size_t n_evs,
			      bool queued)
{
	fs_chaskey_packet_mac(&b->keys, 0, b->tx_counter, pkt, len, pkt + len);
	log_debug("%s: -> opcode %u (%zu bytes, signed, counter %llu)", b->address,
		  pkt[0], len + FS_CHASKEY_MAC_LEN, (unsigned long long)b->tx_counter);
	b->tx_counter++;
	if (fs_button_take_fault(b, FS_FAULT_BAD_MAC)) {
		pkt[len] ^= 0x5a;
		log_info("%s: fault: wrong MAC on opcode %u", b->address, pkt[0]);
	}
	return btn_send_packet_events(b, CONN_ID, pkt, len + FS_CHASKEY_MAC_LEN,
				  evs, n_evs, queued);
}

int btn_send_signed(struct fs_button *b, uint8_t *pkt, size_t len)
{
	return btn_send_signed_events(b, pkt, len, NULL, 0, false);
}
