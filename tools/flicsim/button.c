/* SPDX-License-Identifier: MIT */
/* One emulated Flic 2 button: life cycle, the BLE link going up and down,
 * what the radio asks of it, its state for GetButton. The other pieces are
 * listed in button-internal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "button-internal.h"
#include "lib/btaddr.h"
#include "lib/log.h"

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

/* --- link ------------------------------------------------------------------------ */

void fs_button_link_up(struct fs_button *b, uint16_t mtu)
{
	b->linked = true;
	b->linked_usec = now_usec(b);
	b->mtu = mtu;
	b->save_battery_disconnect = false;
	b->adv_after_press = b->adv_reconnect = false;
	disarm(&b->adv_timer);
	memset(&b->rx, 0, sizeof(b->rx));
	btn_end_session(b);
	b->stats.links++;
	log_info("%s: link up (ATT MTU %u)", b->address, mtu);
}

void fs_button_link_down(struct fs_button *b)
{
	if (!b->linked)
		return;
	b->linked = false;
	btn_drop_output(b);
	btn_end_session(b);
	memset(&b->rx, 0, sizeof(b->rx));
	/* A paired button that lost its link advertises to be found again;
	 * one that hung up to save battery waits for the next press. */
	if (b->n_pairings > 0 && !b->save_battery_disconnect) {
		btn_adv_start(b, btn_reconnect_adv_usec(b));
		b->adv_reconnect = true;
	}
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
	return advertising(b) ? FS_ADV_PRIVATE : FS_ADV_NONE;
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

void fs_button_advert_heard(struct fs_button *b, uint64_t usec)
{
	b->adv_heard_usec = usec;
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
	r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
				  "LinkedSinceUsec", "t", b->linked ? b->linked_usec : UINT64_C(0),
				  "AdvParamsSet", "b", b->advp.set,
				  "AdvInterval0", "q", b->advp.set ? b->advp.interval[0] : (uint16_t)ADV_DEFAULT_INTERVAL0,
				  "AdvInterval1", "q", b->advp.set ? b->advp.interval[1] : (uint16_t)ADV_DEFAULT_INTERVAL1,
				  "AdvTimeoutSeconds", "u", (uint32_t)(btn_reconnect_adv_usec(b) / FG_USEC_PER_SEC),
				  "AdvShortRange", "b", !b->advp.set || b->advp.short_range,
				  "AdvLongRange", "b", b->advp.set && b->advp.long_range,
				  "AdvStartUsec", "t", b->adv_start_usec,
				  "AdvFirstEventUsec", "t", b->adv_start_usec + b->adv_phase_usec,
				  "AdvHeardUsec", "t", b->adv_heard_usec);
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
	    (r = append_u64(m, "NoSlotsRefused", b->stats.no_slots)) < 0 ||
	    (r = append_u64(m, "Links", b->stats.links)) < 0 ||
	    (r = append_u64(m, "FaultsApplied", b->stats.faults_applied)) < 0 ||
	    (r = append_u64(m, "AdvParamsAccepted", b->stats.adv_params_set)) < 0 ||
	    (r = append_u64(m, "AdvParamsRejected", b->stats.adv_params_rejected)) < 0)
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
	fg_format_address(cfg->addr, b->address);
	r = fs_identity_make(&b->id, cfg->addr, cfg->genuine);
	if (r < 0) {
		fs_button_free(b);
		return r;
	}
	fs_random(&b->boot_id, sizeof(b->boot_id));
	b->boot_usec = now_usec(b);
	b->auto_disconnect_s = 511;
	if (cfg->has_pairing) {
		btn_store_pairing(b, cfg->pairing_id, cfg->pairing_key);
		btn_adv_start(b, btn_reconnect_adv_usec(b));
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
	btn_drop_output(b);
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
