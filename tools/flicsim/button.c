/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "button-proto.h"
#include "button.h"
#include "chaskey.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define MAX_PAIRINGS	8	/* pairings a button remembers */
#define MAX_QUEUE	512	/* unacknowledged events kept */
#define MAX_ITEMS	16	/* event items in one notification */
#define CONN_ID		1	/* the logical connection id we hand out */
#define REORDER_HOLD_USEC (200 * FG_USEC_PER_MSEC)
#define SCRIPT_MAX	8

enum session_state {
	SESSION_NONE,
	SESSION_WAIT_FULL_VERIFY_2,	/* FullVerifyResponse1 sent */
	SESSION_ESTABLISHED,
};

struct pairing {
	uint32_t id;
	uint8_t key[16];
	uint64_t seq;		/* age, to evict the oldest */
};

/* One ATT value on its way to the client, with the events it carries. */
struct out {
	struct out *next;
	uint8_t att[FS_MAX_PACKET + 1];
	size_t len;
	struct fs_event_item evs[MAX_ITEMS];
	size_t n_evs;
	bool queued;
};

struct script_step {
	uint32_t at_ms;
	bool down;
};

struct fs_button {
	sd_event *event;
	const struct fs_button_ops *ops;
	void *userdata;
	struct fs_button_config cfg;
	char address[18];
	struct fs_identity id;

	/* identity that changes at a factory reset */
	uint32_t boot_id;
	uint64_t boot_usec;
	struct pairing pairings[MAX_PAIRINGS];
	size_t n_pairings;
	uint64_t pairing_seq;
	uint64_t name_timestamp_ms;

	/* physical */
	bool public_mode;
	bool adv_after_press;
	bool adv_reconnect;
	sd_event_source *public_timer;
	sd_event_source *adv_timer;

	/* gesture engine */
	bool pressed, second_press, hold_fired, click_pending;
	sd_event_source *hold_timer, *single_timer, *script_timer;
	struct script_step script[SCRIPT_MAX];
	size_t n_script, script_pos;
	uint64_t script_start;

	/* events */
	uint32_t event_count;
	struct fs_event_item *queue;
	size_t n_queue;

	/* link and logical session */
	bool linked;
	bool save_battery_disconnect;
	uint16_t mtu;
	struct fs_rx_frame rx;
	enum session_state state;
	bool quick;			/* session came from quick verify */
	uint32_t tmp_id;
	uint8_t button_random[8];
	struct fs_chaskey keys;
	uint64_t tx_counter, rx_counter;
	bool events_ready;		/* InitButtonEvents done */
	uint32_t auto_disconnect_s;
	sd_event_source *idle_timer, *ping_timer;
	bool ping_outstanding;

	/* output */
	struct out *out_head, *out_tail;
	struct out *held;		/* reorder fault */
	sd_event_source *flush_timer, *held_timer;

	uint32_t faults[_FS_FAULT_MAX];

	struct {
		uint64_t rx_packets, rx_bad_mac, tx_notifications;
		uint64_t tx_undelivered, events, events_live, events_queued;
		uint64_t full_verify_ok, full_verify_fail, quick_verify_ok;
		uint64_t quick_verify_negative, links, faults_applied;
	} stats;
};

static const char *const fault_names[_FS_FAULT_MAX] = {
	[FS_FAULT_DROP] = "drop",
	[FS_FAULT_CORRUPT] = "corrupt",
	[FS_FAULT_DUPLICATE] = "duplicate",
	[FS_FAULT_REORDER] = "reorder",
	[FS_FAULT_BAD_MAC] = "bad_mac",
	[FS_FAULT_SLOW_CONNECT] = "slow_connect",
	[FS_FAULT_BAD_ADDRESS] = "bad_address",
	[FS_FAULT_SILENT_CONNECT] = "silent_connect",
	[FS_FAULT_NO_RESOLVE] = "no_resolve",
};

const char *fs_fault_to_string(enum fs_fault f)
{
	return f < _FS_FAULT_MAX ? fault_names[f] : NULL;
}

int fs_fault_from_string(const char *s)
{
	for (int i = 0; i < _FS_FAULT_MAX; i++)
		if (strcmp(s, fault_names[i]) == 0)
			return i;
	return -EINVAL;
}

void fs_button_config_init(struct fs_button_config *c)
{
	memset(c, 0, sizeof(*c));
	c->genuine = true;
	c->in_range = true;
	c->rssi = -60;
	c->battery_mv = 3000;
	c->firmware = 10;
	c->click_ms = 100;
	c->hold_ms = 1000;
	c->double_click_ms = 500;
	c->public_mode_s = 30;
	c->adv_after_press_s = 30;
	c->slow_connect_ms = 5000;
}

/* --- small helpers ---------------------------------------------------------- */

static uint64_t now_usec(struct fs_button *b)
{
	uint64_t t = 0;

	sd_event_now(b->event, CLOCK_MONOTONIC, &t);
	return t;
}

static uint64_t button_ticks(struct fs_button *b)
{
	uint64_t d = now_usec(b) - b->boot_usec;

	return d * FS_BUTTON_TICKS_PER_SEC / FG_USEC_PER_SEC;
}

static int arm(struct fs_button *b, sd_event_source **s, uint64_t usec,
	       sd_event_time_handler_t cb)
{
	*s = sd_event_source_disable_unref(*s);
	return sd_event_add_time_relative(b->event, s, CLOCK_MONOTONIC, usec,
					  FG_USEC_PER_MSEC / 2, cb, b);
}

static void disarm(sd_event_source **s)
{
	*s = sd_event_source_disable_unref(*s);
}

static void adv_changed(struct fs_button *b)
{
	if (b->ops->adv_changed)
		b->ops->adv_changed(b->userdata, b);
}

static uint16_t battery_level(uint16_t mv)
{
	/* Reported as a 10-bit ADC value: mV = level * 3600 / 1024. */
	uint32_t l = ((uint32_t)mv * 1024 + 1800) / 3600;

	return l > 1023 ? 1023 : (uint16_t)l;
}

static struct pairing *find_pairing(struct fs_button *b, uint32_t id)
{
	for (size_t i = 0; i < b->n_pairings; i++)
		if (b->pairings[i].id == id)
			return &b->pairings[i];
	return NULL;
}

static void store_pairing(struct fs_button *b, uint32_t id,
			  const uint8_t key[16])
{
	struct pairing *p = find_pairing(b, id);

	if (!p) {
		if (b->n_pairings < MAX_PAIRINGS) {
			p = &b->pairings[b->n_pairings++];
		} else {
			p = &b->pairings[0];
			for (size_t i = 1; i < b->n_pairings; i++)
				if (b->pairings[i].seq < p->seq)
					p = &b->pairings[i];
		}
	}
	p->id = id;
	memcpy(p->key, key, 16);
	p->seq = ++b->pairing_seq;
}

/* --- output path: framing, faults, delivery --------------------------------- */

static void deliver(struct fs_button *b, struct out *o)
{
	uint64_t t;
	int r;

	r = b->ops->notify(b->userdata, b, o->att, o->len);
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
			b->ops->event_sent(b->userdata, b, &o->evs[i], o->queued, t);
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

static void drop_output(struct fs_button *b)
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

static int queue_fragment(void *userdata, const uint8_t *att, size_t len,
			  bool last)
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

static int send_packet_events(struct fs_button *b, uint8_t header,
			      const uint8_t *pkt, size_t len,
			      const struct fs_event_item *evs, size_t n_evs,
			      bool queued)
{
	struct split_ctx c = { b, evs, n_evs, queued };

	if (!b->linked)
		return -ENOTCONN;
	return fs_frame_split(header, pkt, len, b->mtu, queue_fragment, &c);
}

static int send_unsigned(struct fs_button *b, uint8_t header,
			 const uint8_t *pkt, size_t len)
{
	log_debug("%s: -> opcode %u (%zu bytes, unsigned)", b->address, pkt[0], len);
	return send_packet_events(b, header, pkt, len, NULL, 0, false);
}

/* @pkt must have room for the MAC after @len bytes. */
static int send_signed_events(struct fs_button *b, uint8_t *pkt, size_t len,
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
	return send_packet_events(b, CONN_ID, pkt, len + FS_CHASKEY_MAC_LEN,
				  evs, n_evs, queued);
}

static int send_signed(struct fs_button *b, uint8_t *pkt, size_t len)
{
	return send_signed_events(b, pkt, len, NULL, 0, false);
}

/* --- session ------------------------------------------------------------------ */

static void end_session(struct fs_button *b)
{
	b->state = SESSION_NONE;
	b->events_ready = false;
	b->ping_outstanding = false;
	disarm(&b->idle_timer);
	disarm(&b->ping_timer);
	OPENSSL_cleanse(&b->keys, sizeof(b->keys));
}

static void disconnect_verified_link(struct fs_button *b, uint8_t reason)
{
	uint8_t pkt[2 + FS_CHASKEY_MAC_LEN] = { FS_RSP_DISCONNECTED_VERIFIED_LINK_IND, reason };

	log_info("%s: ending the verified session (reason %u)", b->address, reason);
	send_signed(b, pkt, 2);
	end_session(b);
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;

	disarm(&b->idle_timer);
	log_info("%s: idle for %us, disconnecting to save battery", b->address,
		 b->auto_disconnect_s);
	b->save_battery_disconnect = true;
	b->ops->terminate_link(b->userdata, b);
	return 0;
}

static void restart_idle(struct fs_button *b)
{
	/* 0 and 511 both mean "never" (511 is the 9-bit field's maximum). */
	if (!b->events_ready || b->auto_disconnect_s == 0 || b->auto_disconnect_s >= 511) {
		disarm(&b->idle_timer);
		return;
	}
	arm(b, &b->idle_timer, (uint64_t)b->auto_disconnect_s * FG_USEC_PER_SEC, on_idle);
}

static int on_ping(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;
	uint8_t pkt[1 + FS_CHASKEY_MAC_LEN] = { FS_RSP_PING_REQUEST };

	disarm(&b->ping_timer);
	if (b->state != SESSION_ESTABLISHED)
		return 0;
	if (b->ping_outstanding) {
		disconnect_verified_link(b, FS_DISCONNECT_PING_TIMEOUT);
		return 0;
	}
	b->ping_outstanding = true;
	send_signed(b, pkt, 1);
	arm(b, &b->ping_timer, (uint64_t)b->cfg.ping_interval_s * FG_USEC_PER_SEC, on_ping);
	return 0;
}

static void session_established(struct fs_button *b, bool quick)
{
	b->state = SESSION_ESTABLISHED;
	b->quick = quick;
	b->rx_counter = 0;
	b->events_ready = false;
	b->auto_disconnect_s = 511;
	if (b->cfg.ping_interval_s)
		arm(b, &b->ping_timer, (uint64_t)b->cfg.ping_interval_s * FG_USEC_PER_SEC, on_ping);
}

static void handle_full_verify_1(struct fs_button *b, const uint8_t *p, size_t len)
{
	uint8_t rsp[1 + 4 + 64 + 6 + 1 + 32 + 8 + 1], *q = rsp;
	const struct fs_identity *id = &b->id;
	struct fs_identity other;
	uint8_t noise;

	if (len < 5) {
		log_warning("%s: short FullVerifyRequest1 (%zu bytes)", b->address, len);
		return;
	}
	end_session(b);
	b->tmp_id = fs_le32(p + 1);
	fs_random(b->button_random, 8);
	if (fs_button_take_fault(b, FS_FAULT_BAD_ADDRESS)) {
		/* A genuine certificate, but of a neighbour: a relayed or
		 * swapped identity the client must refuse by its address. */
		uint8_t a[6];

		memcpy(a, b->cfg.addr, 6);
		a[5] ^= 0x01;
		if (fs_identity_make(&other, a, b->cfg.genuine) == 0) {
			id = &other;
			log_info("%s: fault: presenting the certificate of %02X:..:%02X",
				 b->address, a[0], a[5]);
		}
	}

	*q++ = FS_RSP_FULL_VERIFY_RESPONSE_1;
	fs_put_le32(q, b->tmp_id);
	q += 4;
	memcpy(q, id->signature, 64);
	/* The two low bits of S stay secret: they are the "variant" that enters
	 * the key derivation. What goes on air there is noise. */
	fs_random(&noise, 1);
	q[32] = (q[32] & 0xfc) | (noise & 3);
	q += 64;
	memcpy(q, id->addr_le, 6);
	q += 6;
	*q++ = 0;	/* public address */
	memcpy(q, id->ecdh_public, 32);
	q += 32;
	memcpy(q, b->button_random, 8);
	q += 8;
	*q++ = b->public_mode ? 0x02 : 0x00;	/* is_in_public_mode */

	b->state = SESSION_WAIT_FULL_VERIFY_2;
	log_info("%s: FullVerifyRequest1 tmp_id %08x: sending identity (public mode %s, %s certificate)",
		 b->address, b->tmp_id, b->public_mode ? "yes" : "no",
		 b->cfg.genuine ? "test-key" : "unknown-key");
	send_unsigned(b, CONN_ID | FS_FRAME_NEWLY_ASSIGNED, rsp, sizeof(rsp));
}

static int handshake_secret(struct fs_button *b, const uint8_t client_pub[32],
			    const uint8_t client_random[8], uint8_t flags,
			    uint8_t ret[32])
{
	uint8_t shared[32];
	int r;

	r = fs_x25519(b->id.ecdh_private, client_pub, shared);
	if (r < 0)
		return r;
	fs_full_verify_secret(shared, b->id.variant, b->button_random,
			      client_random, flags, ret);
	OPENSSL_cleanse(shared, sizeof(shared));
	return 0;
}

static void full_verify_fail(struct fs_button *b, uint8_t reason)
{
	uint8_t rsp[2] = { FS_RSP_FULL_VERIFY_FAIL_RESPONSE, reason };

	b->stats.full_verify_fail++;
	b->state = SESSION_NONE;
	send_unsigned(b, CONN_ID, rsp, sizeof(rsp));
}

static void handle_full_verify_2(struct fs_button *b, const uint8_t *p, size_t len)
{
	bool with_token = p[0] == FS_OP_FULL_VERIFY_REQUEST_2_WITH_TOKEN;
	size_t need = 1 + 32 + 8 + 1 + (with_token ? 16 : 0) + 16;
	uint8_t fvss[32], mac[32], pk[32], sk[32], buf[FS_MAX_PACKET], *q = buf;
	const uint8_t *verifier;
	char h1[16], h2[16];
	uint8_t flags;
	size_t n;

	if (len < need) {
		log_warning("%s: short FullVerifyRequest2 (%zu < %zu bytes)", b->address, len, need);
		return;
	}
	flags = p[41];
	verifier = p + 42 + (with_token ? 16 : 0);
	if (handshake_secret(b, p + 1, p + 33, flags, fvss) < 0) {
		log_warning("%s: FullVerifyRequest2 with an unusable ECDH key", b->address);
		full_verify_fail(b, FS_FAIL_INVALID_VERIFIER);
		return;
	}
	fs_hmac_label(fvss, "AT", NULL, 0, mac);
	if (CRYPTO_memcmp(mac, verifier, 16) != 0) {
		log_warning("%s: FullVerifyRequest2: wrong verifier (flags %02x, variant %u)",
			    b->address, flags, b->id.variant);
		full_verify_fail(b, FS_FAIL_INVALID_VERIFIER);
		goto out;
	}
	if (!b->public_mode) {
		log_info("%s: FullVerifyRequest2: verifier ok but not in public mode", b->address);
		full_verify_fail(b, FS_FAIL_NOT_IN_PUBLIC_MODE);
		goto out;
	}
	fs_hmac_label(fvss, "PK", NULL, 0, pk);
	fs_hmac_label(fvss, "SK", NULL, 0, sk);
	store_pairing(b, fs_le32(pk), pk + 4);
	fs_chaskey_init(&b->keys, sk);
	b->tx_counter = 0;
	session_established(b, false);
	b->public_mode = false;
	disarm(&b->public_timer);
	b->stats.full_verify_ok++;
	log_info("%s: paired: pairing id %08x, key %s, session key %s (variant %u, flags %02x)",
		 b->address, fs_le32(pk), fs_short_hex(pk + 4, 16, h1),
		 fs_short_hex(sk, 16, h2), b->id.variant, flags);

	*q++ = FS_RSP_FULL_VERIFY_RESPONSE_2;
	*q++ = 0;	/* app credentials: not used */
	memcpy(q, b->cfg.uuid, 16);
	q += 16;
	n = strnlen(b->cfg.name, 23);
	*q++ = (uint8_t)n;
	memset(q, 0, 23);
	memcpy(q, b->cfg.name, n);
	q += 23;
	fs_put_le32(q, b->cfg.firmware);
	q += 4;
	fs_put_le16(q, battery_level(b->cfg.battery_mv));
	q += 2;
	memset(q, 0, 11);
	memcpy(q, b->cfg.serial, strnlen(b->cfg.serial, 11));
	q += 11;
	send_signed(b, buf, (size_t)(q - buf));
	adv_changed(b);
out:
	OPENSSL_cleanse(fvss, sizeof(fvss));
	OPENSSL_cleanse(pk, sizeof(pk));
	OPENSSL_cleanse(sk, sizeof(sk));
}

static void handle_test_unpaired(struct fs_button *b, const uint8_t *p, size_t len)
{
	uint8_t fvss[32], token[32], res[32], rsp[17], ex[16];
	struct pairing *pr;
	uint32_t id;

	if (len < 1 + 32 + 8 + 4 + 16) {
		log_warning("%s: short TestIfReallyUnpairedRequest", b->address);
		return;
	}
	id = fs_le32(p + 41);
	if (handshake_secret(b, p + 1, p + 33, 0, fvss) < 0)
		return;
	pr = find_pairing(b, id);
	if (pr) {
		uint8_t pt[20];

		fs_put_le32(pt, pr->id);
		memcpy(pt + 4, pr->key, 16);
		fs_hmac_label(fvss, "PT", pt, 20, token);
		if (CRYPTO_memcmp(token, p + 45, 16) != 0)
			pr = NULL;
		else {
			memcpy(ex, pt, 16);
			fs_hmac_label(fvss, "EX", ex, 16, res);
		}
		OPENSSL_cleanse(pt, sizeof(pt));
	}
	if (!pr)
		fs_hmac_label(fvss, "NE", p + 45, 16, res);
	log_info("%s: TestIfReallyUnpaired for pairing %08x: %s", b->address, id,
		 pr ? "exists" : "does not exist");
	rsp[0] = FS_RSP_TEST_IF_REALLY_UNPAIRED_RESPONSE;
	memcpy(rsp + 1, res, 16);
	b->state = SESSION_NONE;
	send_unsigned(b, CONN_ID, rsp, sizeof(rsp));
	OPENSSL_cleanse(fvss, sizeof(fvss));
}

static void handle_quick_verify(struct fs_button *b, const uint8_t *p, size_t len)
{
	uint8_t seed[16], sk[16], rsp[1 + 8 + 4 + 1 + FS_CHASKEY_MAC_LEN];
	struct fs_chaskey pk;
	struct pairing *pr;
	uint32_t tmp_id, id;
	char h[16];

	if (len < 1 + 7 + 1 + 4 + 4) {
		log_warning("%s: short QuickVerifyRequest (%zu bytes)", b->address, len);
		return;
	}
	end_session(b);
	tmp_id = fs_le32(p + 9);
	id = fs_le32(p + 13);
	pr = find_pairing(b, id);
	if (!pr) {
		uint8_t neg[5] = { FS_RSP_QUICK_VERIFY_NEGATIVE_RESPONSE };

		fs_put_le32(neg + 1, tmp_id);
		b->stats.quick_verify_negative++;
		log_info("%s: QuickVerifyRequest for unknown pairing %08x: negative response",
			 b->address, id);
		send_unsigned(b, CONN_ID | FS_FRAME_NEWLY_ASSIGNED, neg, sizeof(neg));
		return;
	}
	fs_random(b->button_random, 8);
	/* session key = Chaskey(pairing key, client random(7) || client flags
	 * byte || button random(8)) */
	memcpy(seed, p + 1, 8);
	memcpy(seed + 8, b->button_random, 8);
	fs_chaskey_init(&pk, pr->key);
	fs_chaskey_block16(&pk, seed, sk);
	fs_chaskey_init(&b->keys, sk);
	b->tx_counter = 0;
	session_established(b, true);
	b->stats.quick_verify_ok++;
	log_info("%s: quick verify ok: pairing %08x, tmp_id %08x, session key %s",
		 b->address, id, tmp_id, fs_short_hex(sk, 16, h));
	OPENSSL_cleanse(sk, sizeof(sk));
	OPENSSL_cleanse(&pk, sizeof(pk));

	rsp[0] = FS_RSP_QUICK_VERIFY_RESPONSE;
	memcpy(rsp + 1, b->button_random, 8);
	fs_put_le32(rsp + 9, tmp_id);
	rsp[13] = 0;	/* link not encrypted, no bond info */
	fs_chaskey_packet_mac(&b->keys, 0, b->tx_counter++, rsp, 14, rsp + 14);
	if (fs_button_take_fault(b, FS_FAULT_BAD_MAC))
		rsp[14] ^= 0x5a;
	send_packet_events(b, CONN_ID | FS_FRAME_NEWLY_ASSIGNED, rsp, sizeof(rsp),
			   NULL, 0, false);
}

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
	return send_signed_events(b, pkt, (size_t)(q - pkt), evs, n, queued);
}

static void handle_init_events(struct fs_button *b, const uint8_t *p, size_t len)
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
	send_signed(b, rsp, n_rsp);
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
	restart_idle(b);
}

static void handle_ack(struct fs_button *b, uint32_t count)
{
	size_t keep = 0;

	for (size_t i = 0; i < b->n_queue; i++)
		if ((int32_t)(b->queue[i].counter - count) > 0)
			b->queue[keep++] = b->queue[i];
	log_debug("%s: ack up to %u: %zu events acknowledged, %zu kept", b->address,
		  count, b->n_queue - keep, keep);
	b->n_queue = keep;
}

static void factory_reset(struct fs_button *b);

static void handle_session_packet(struct fs_button *b, uint8_t *p, size_t len)
{
	uint8_t mac[FS_CHASKEY_MAC_LEN], rsp[FS_MAX_PACKET];
	size_t n;

	if (len < 1 + FS_CHASKEY_MAC_LEN) {
		log_warning("%s: session packet too short (%zu bytes)", b->address, len);
		return;
	}
	len -= FS_CHASKEY_MAC_LEN;
	fs_chaskey_packet_mac(&b->keys, 1, b->rx_counter, p, len, mac);
	if (CRYPTO_memcmp(mac, p + len, FS_CHASKEY_MAC_LEN) != 0) {
		b->stats.rx_bad_mac++;
		log_warning("%s: bad MAC on opcode %u (counter %llu)", b->address, p[0],
			    (unsigned long long)b->rx_counter);
		disconnect_verified_link(b, FS_DISCONNECT_INVALID_SIGNATURE);
		return;
	}
	b->rx_counter++;
	log_debug("%s: <- opcode %u (%zu bytes, MAC ok)", b->address, p[0], len);

	switch (p[0]) {
	case FS_OP_INIT_BUTTON_EVENTS_REQUEST:
	case FS_OP_INIT_BUTTON_EVENTS_LIGHT_REQUEST:
		handle_init_events(b, p, len);
		break;
	case FS_OP_ACK_BUTTON_EVENTS_IND:
		if (len >= 5)
			handle_ack(b, fs_le32(p + 1));
		break;
	case FS_OP_GET_BATTERY_LEVEL_REQUEST:
		rsp[0] = FS_RSP_GET_BATTERY_LEVEL_RESPONSE;
		fs_put_le16(rsp + 1, battery_level(b->cfg.battery_mv));
		log_debug("%s: battery %u mV", b->address, b->cfg.battery_mv);
		send_signed(b, rsp, 3);
		break;
	case FS_OP_GET_FIRMWARE_VERSION_REQUEST:
		rsp[0] = FS_RSP_GET_FIRMWARE_VERSION_RESPONSE;
		fs_put_le32(rsp + 1, b->cfg.firmware);
		send_signed(b, rsp, 5);
		break;
	case FS_OP_SET_NAME_REQUEST:
		if (len >= 7) {
			uint64_t v = fs_le48(p + 1);
			uint64_t ts = v & ((UINT64_C(1) << 47) - 1);
			bool force = v >> 47;
			size_t nl = len - 7 > 23 ? 23 : len - 7;

			if (force || ts > b->name_timestamp_ms) {
				memset(b->cfg.name, 0, sizeof(b->cfg.name));
				memcpy(b->cfg.name, p + 7, nl);
				b->name_timestamp_ms = ts;
				log_info("%s: name set to \"%s\"", b->address, b->cfg.name);
			}
		}
		/* both answer with the current name */
		__attribute__((fallthrough));
	case FS_OP_GET_NAME_REQUEST:
		rsp[0] = p[0] == FS_OP_GET_NAME_REQUEST ? FS_RSP_GET_NAME_RESPONSE
							: FS_RSP_SET_NAME_RESPONSE;
		fs_put_le48(rsp + 1, b->name_timestamp_ms);
		n = strnlen(b->cfg.name, 23);
		memcpy(rsp + 7, b->cfg.name, n);
		send_signed(b, rsp, 7 + n);
		break;
	case FS_OP_SET_AUTO_DISCONNECT_TIME_IND:
		if (len >= 3) {
			b->auto_disconnect_s = (p[1] | p[2] << 8) & 0x1ff;
			log_info("%s: auto-disconnect time %us", b->address, b->auto_disconnect_s);
			restart_idle(b);
		}
		break;
	case FS_OP_PING_RESPONSE:
		b->ping_outstanding = false;
		break;
	case FS_OP_SET_CONNECTION_PARAMETERS_IND:
		log_debug("%s: connection parameters noted", b->address);
		break;
	case FS_OP_SET_ADV_PARAMETERS_REQUEST:
		rsp[0] = FS_RSP_SET_ADV_PARAMETERS_RESPONSE;
		send_signed(b, rsp, 1);
		break;
	case FS_OP_DISCONNECT_VERIFIED_LINK_IND:
		log_info("%s: client ended the verified session", b->address);
		end_session(b);
		break;
	case FS_OP_FORCE_BT_DISCONNECT_IND:
		log_info("%s: client asks the button to drop the link", b->address);
		b->save_battery_disconnect = !(len >= 2 && p[1]);
		b->ops->terminate_link(b->userdata, b);
		break;
	case FS_OP_FACTORY_RESET_REQUEST:
		rsp[0] = FS_RSP_FACTORY_RESET_RESPONSE;
		send_signed(b, rsp, 1);
		on_flush(NULL, 0, b);
		factory_reset(b);
		break;
	default:
		log_info("%s: ignoring opcode %u in a session", b->address, p[0]);
		break;
	}
}

static void handle_packet(struct fs_button *b, uint8_t conn_id, uint8_t *p, size_t len)
{
	b->stats.rx_packets++;
	if (len < 1)
		return;
	/* Verify requests open a logical connection on id 0. */
	if (p[0] == FS_OP_FULL_VERIFY_REQUEST_1 && conn_id == 0) {
		handle_full_verify_1(b, p, len);
		return;
	}
	if (p[0] == FS_OP_QUICK_VERIFY_REQUEST && conn_id == 0 &&
	    b->state != SESSION_ESTABLISHED) {
		handle_quick_verify(b, p, len);
		return;
	}
	if (conn_id != CONN_ID) {
		log_debug("%s: ignoring opcode %u for logical connection %u", b->address,
			  p[0], conn_id);
		return;
	}
	switch (b->state) {
	case SESSION_NONE:
		log_debug("%s: ignoring opcode %u without a session", b->address, p[0]);
		return;
	case SESSION_WAIT_FULL_VERIFY_2:
		if (p[0] == FS_OP_FULL_VERIFY_REQUEST_2 ||
		    p[0] == FS_OP_FULL_VERIFY_REQUEST_2_WITH_TOKEN)
			handle_full_verify_2(b, p, len);
		else if (p[0] == FS_OP_TEST_IF_REALLY_UNPAIRED_REQUEST)
			handle_test_unpaired(b, p, len);
		else if (p[0] == FS_OP_FULL_VERIFY_ABORT_IND) {
			log_info("%s: client aborted full verify", b->address);
			b->state = SESSION_NONE;
		} else
			log_debug("%s: ignoring opcode %u during full verify", b->address, p[0]);
		return;
	case SESSION_ESTABLISHED:
		handle_session_packet(b, p, len);
		return;
	}
}

int fs_button_att_write(struct fs_button *b, const uint8_t *data, size_t len)
{
	const uint8_t *pkt;
	uint8_t copy[FS_MAX_PACKET], conn_id;
	size_t n;
	int r;

	if (!b->linked)
		return -ENOTCONN;
	if (len > (size_t)b->mtu - 3)
		return -EMSGSIZE;
	r = fs_frame_feed(&b->rx, data, len, &conn_id, &pkt, &n);
	if (r < 0) {
		log_warning("%s: dropping a malformed frame (%zu bytes)", b->address, len);
		return 0;
	}
	if (r == 0)
		return 0;
	memcpy(copy, pkt, n);
	handle_packet(b, conn_id, copy, n);
	return 0;
}

/* --- events and the gesture engine ---------------------------------------------- */

static void emit_event(struct fs_button *b, uint8_t enc)
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
		restart_idle(b);
	}
}

static int on_adv_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;

	disarm(&b->adv_timer);
	b->adv_after_press = false;
	adv_changed(b);
	return 0;
}

/* A press wakes a disconnected button: it advertises for a while. */
static void keep_advertising(struct fs_button *b)
{
	bool was = b->adv_after_press;

	if (b->linked)
		return;
	b->adv_after_press = true;
	arm(b, &b->adv_timer, (uint64_t)b->cfg.adv_after_press_s * FG_USEC_PER_SEC,
	    on_adv_timeout);
	if (!was)
		adv_changed(b);
}

static int on_hold(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;

	disarm(&b->hold_timer);
	b->hold_fired = true;
	emit_event(b, b->second_press ? FS_EVT_HOLD_SECOND : FS_EVT_HOLD);
	return 0;
}

static int on_single(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;

	disarm(&b->single_timer);
	b->click_pending = false;
	emit_event(b, FS_EVT_SINGLE_TIMEOUT);
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
	emit_event(b, FS_EVT_DOWN);
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
		emit_event(b, b->hold_fired ? FS_EVT_UP_DOUBLE_HOLD : FS_EVT_UP_DOUBLE);
	else if (b->hold_fired)
		emit_event(b, FS_EVT_UP_AFTER_HOLD);
	else {
		emit_event(b, FS_EVT_UP_CLICK);
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

static void factory_reset(struct fs_button *b)
{
	log_info("%s: factory reset: %zu pairings forgotten", b->address, b->n_pairings);
	OPENSSL_cleanse(b->pairings, sizeof(b->pairings));
	b->n_pairings = 0;
	b->event_count = 0;
	b->n_queue = 0;
	b->boot_id++;
	b->boot_usec = now_usec(b);
	b->public_mode = false;
	b->adv_after_press = b->adv_reconnect = false;
	disarm(&b->public_timer);
	disarm(&b->adv_timer);
	end_session(b);
	if (b->linked) {
		b->save_battery_disconnect = true;
		b->ops->terminate_link(b->userdata, b);
	}
	adv_changed(b);
}

void fs_button_factory_reset(struct fs_button *b)
{
	factory_reset(b);
}

/* --- link ------------------------------------------------------------------------ */

void fs_button_link_up(struct fs_button *b, uint16_t mtu)
{
	b->linked = true;
	b->mtu = mtu;
	b->save_battery_disconnect = false;
	b->adv_after_press = b->adv_reconnect = false;
	disarm(&b->adv_timer);
	memset(&b->rx, 0, sizeof(b->rx));
	end_session(b);
	b->stats.links++;
	log_info("%s: link up (ATT MTU %u)", b->address, mtu);
}

void fs_button_link_down(struct fs_button *b)
{
	if (!b->linked)
		return;
	b->linked = false;
	drop_output(b);
	end_session(b);
	memset(&b->rx, 0, sizeof(b->rx));
	/* A paired button that lost its link advertises to be found again;
	 * one that hung up to save battery waits for the next press. */
	b->adv_reconnect = b->n_pairings > 0 && !b->save_battery_disconnect;
	log_info("%s: link down (%s)", b->address,
		 b->adv_reconnect ? "advertising to reconnect" : "quiet until pressed");
	adv_changed(b);
}

/* --- queries ---------------------------------------------------------------------- */

const char *fs_button_address(const struct fs_button *b)
{
	return b->address;
}

const char *fs_button_name(const struct fs_button *b)
{
	return b->cfg.name;
}

int16_t fs_button_rssi(const struct fs_button *b)
{
	return b->cfg.rssi;
}

bool fs_button_in_range(const struct fs_button *b)
{
	return b->cfg.in_range;
}

bool fs_button_linked(const struct fs_button *b)
{
	return b->linked;
}

enum fs_adv fs_button_adv(const struct fs_button *b)
{
	if (b->public_mode)
		return FS_ADV_PUBLIC;
	if (!b->linked && (b->adv_after_press || b->adv_reconnect))
		return FS_ADV_PRIVATE;
	return FS_ADV_NONE;
}

void fs_button_manufacturer_data(const struct fs_button *b, uint8_t ret[5])
{
	/* Company 0x030f: type 0x02, three bytes we keep zero, flags with
	 * bit 1 = a link is up (see docs/simulator.md for what is known). */
	ret[0] = 0x02;
	ret[1] = ret[2] = ret[3] = 0;
	ret[4] = b->linked ? 0x02 : 0x00;
}

uint32_t fs_button_slow_connect_ms(const struct fs_button *b)
{
	return b->cfg.slow_connect_ms;
}

void fs_button_inject_fault(struct fs_button *b, enum fs_fault kind, uint32_t count)
{
	if (kind >= _FS_FAULT_MAX)
		return;
	b->faults[kind] += count;
	log_info("%s: %u %s fault(s) pending", b->address, b->faults[kind],
		 fault_names[kind]);
}

void fs_button_clear_faults(struct fs_button *b)
{
	memset(b->faults, 0, sizeof(b->faults));
}

bool fs_button_take_fault(struct fs_button *b, enum fs_fault kind)
{
	if (kind >= _FS_FAULT_MAX || b->faults[kind] == 0)
		return false;
	b->faults[kind]--;
	b->stats.faults_applied++;
	return true;
}

static int append_u64(sd_bus_message *m, const char *k, uint64_t v)
{
	return sd_bus_message_append(m, "{sv}", k, "t", v);
}

int fs_button_append_state(struct fs_button *b, sd_bus_message *m)
{
	static const char *const adv[] = { "none", "public", "private" };
	static const char *const st[] = { "none", "wait-full-verify-2", "established" };
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
				  "Address", "s", b->address,
				  "Name", "s", b->cfg.name,
				  "Serial", "s", b->cfg.serial,
				  "Genuine", "b", b->cfg.genuine,
				  "InRange", "b", b->cfg.in_range,
				  "RSSI", "n", b->cfg.rssi,
				  "BatteryMillivolt", "q", b->cfg.battery_mv,
				  "PublicMode", "b", b->public_mode,
				  "Advertising", "s", adv[fs_button_adv(b)],
				  "Linked", "b", b->linked,
				  "Session", "s", st[b->state],
				  "SessionKind", "s", b->state == SESSION_ESTABLISHED ? (b->quick ? "quick" : "full") : "",
				  "EventsReady", "b", b->events_ready,
				  "Pairings", "u", (uint32_t)b->n_pairings);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}",
				  "EventCount", "u", b->event_count,
				  "BootId", "u", b->boot_id,
				  "QueuedEvents", "u", (uint32_t)b->n_queue,
				  "AutoDisconnectSeconds", "u", b->auto_disconnect_s,
				  "Variant", "y", b->id.variant);
	if (r < 0)
		return r;
	if ((r = append_u64(m, "RxPackets", b->stats.rx_packets)) < 0 ||
	    (r = append_u64(m, "RxBadMac", b->stats.rx_bad_mac)) < 0 ||
	    (r = append_u64(m, "TxNotifications", b->stats.tx_notifications)) < 0 ||
	    (r = append_u64(m, "TxUndelivered", b->stats.tx_undelivered)) < 0 ||
	    (r = append_u64(m, "Events", b->stats.events)) < 0 ||
	    (r = append_u64(m, "EventsSentLive", b->stats.events_live)) < 0 ||
	    (r = append_u64(m, "EventsSentQueued", b->stats.events_queued)) < 0 ||
	    (r = append_u64(m, "FullVerifyOk", b->stats.full_verify_ok)) < 0 ||
	    (r = append_u64(m, "FullVerifyFailed", b->stats.full_verify_fail)) < 0 ||
	    (r = append_u64(m, "QuickVerifyOk", b->stats.quick_verify_ok)) < 0 ||
	    (r = append_u64(m, "QuickVerifyNegative", b->stats.quick_verify_negative)) < 0 ||
	    (r = append_u64(m, "Links", b->stats.links)) < 0 ||
	    (r = append_u64(m, "FaultsApplied", b->stats.faults_applied)) < 0)
		return r;
	return sd_bus_message_close_container(m);
}

/* --- life cycle ------------------------------------------------------------------- */

int fs_button_new(sd_event *event, const struct fs_button_config *cfg,
		  const struct fs_button_ops *ops, void *userdata,
		  struct fs_button **ret)
{
	struct fs_button *b;
	int r;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->queue = calloc(MAX_QUEUE, sizeof(*b->queue));
	if (!b->queue) {
		free(b);
		return -ENOMEM;
	}
	b->event = sd_event_ref(event);
	b->ops = ops;
	b->userdata = userdata;
	b->cfg = *cfg;
	snprintf(b->address, sizeof(b->address), "%02X:%02X:%02X:%02X:%02X:%02X",
		 cfg->addr[0], cfg->addr[1], cfg->addr[2], cfg->addr[3], cfg->addr[4],
		 cfg->addr[5]);
	r = fs_identity_make(&b->id, cfg->addr, cfg->genuine);
	if (r < 0) {
		fs_button_free(b);
		return r;
	}
	fs_random(&b->boot_id, sizeof(b->boot_id));
	b->boot_usec = now_usec(b);
	b->auto_disconnect_s = 511;
	if (cfg->has_pairing) {
		store_pairing(b, cfg->pairing_id, cfg->pairing_key);
		b->adv_reconnect = true;
	}
	if (cfg->public_mode)
		fs_button_set_public_mode(b, true);
	*ret = b;
	return 0;
}

struct fs_button *fs_button_free(struct fs_button *b)
{
	if (!b)
		return NULL;
	drop_output(b);
	disarm(&b->public_timer);
	disarm(&b->adv_timer);
	disarm(&b->hold_timer);
	disarm(&b->single_timer);
	disarm(&b->script_timer);
	disarm(&b->idle_timer);
	disarm(&b->ping_timer);
	OPENSSL_cleanse(b->pairings, sizeof(b->pairings));
	OPENSSL_cleanse(&b->keys, sizeof(b->keys));
	free(b->queue);
	sd_event_unref(b->event);
	free(b);
	return NULL;
}
