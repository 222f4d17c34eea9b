/* SPDX-License-Identifier: MIT */
/* The logical session of a button on a link: established by a verify,
 * ended by either side, the client's auto-disconnect time and the
 * button's pings. */
#include <openssl/crypto.h>

#include "button-internal.h"
#include "lib/log.h"

/* --- session ------------------------------------------------------------------ */

void btn_end_session(struct fs_button *b)
{
	b->state = SESSION_NONE;
	b->events_ready = false;
	b->ping_outstanding = false;
	disarm(&b->idle_timer);
	disarm(&b->ping_timer);
	OPENSSL_cleanse(&b->keys, sizeof(b->keys));
}

void btn_disconnect_verified_link(struct fs_button *b, uint8_t reason)
{
	uint8_t pkt[2 + FS_CHASKEY_MAC_LEN] = { FS_RSP_DISCONNECTED_VERIFIED_LINK_IND, reason };

	log_info("%s: ending the verified session (reason %u)", b->address, reason);
	btn_send_signed(b, pkt, 2);
	btn_end_session(b);
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fs_button *b = userdata;

	disarm(&b->idle_timer);
	log_info("%s: idle for %us, disconnecting to save battery", b->address,
		 b->auto_disconnect_s);
	b->save_battery_disconnect = true;
	b->ops->terminate_link(b, b->userdata);
	return 0;
}

void btn_restart_idle(struct fs_button *b)
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
		btn_disconnect_verified_link(b, FS_DISCONNECT_PING_TIMEOUT);
		return 0;
	}
	b->ping_outstanding = true;
	btn_send_signed(b, pkt, 1);
	arm(b, &b->ping_timer, (uint64_t)b->cfg.ping_interval_s * FG_USEC_PER_SEC, on_ping);
	return 0;
}

void btn_session_established(struct fs_button *b, bool quick)
{
	b->state = SESSION_ESTABLISHED;
	b->quick = quick;
	b->rx_counter = 0;
	b->events_ready = false;
	b->auto_disconnect_s = 511;
	if (b->cfg.ping_interval_s)
		arm(b, &b->ping_timer, (uint64_t)b->cfg.ping_interval_s * FG_USEC_PER_SEC, on_ping);
}
