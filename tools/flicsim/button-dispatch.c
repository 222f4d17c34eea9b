/* SPDX-License-Identifier: MIT */
/* The client's writes to a button: frames reassembled into packets, each
 * handled by the session state (verify requests, then MAC-checked session
 * requests). */
#include <string.h>

#include <openssl/crypto.h>

#include "button-internal.h"
#include "lib/log.h"

/*
 * SetAdvParametersRequest (flic2_packets.h): opcode, is_active,
 * remove_other_pairings_adv_settings, with_short_range, with_long_range
 * (one byte each), adv_intervals[2] (u16, 0.625 ms), timeout_seconds (u32):
 * 13 bytes before the MAC; the answer is the bare opcode 25, signed.
 * Intervals outside 20 ms..10.24 s (the range BLE allows, and the one a
 * description of the firmware family gives) or a short packet are refused:
 * nothing is stored and nothing is answered. With neither PHY chosen both
 * are used. is_active = 0 removes what was set: defaults again.
 */
static void handle_set_adv_params(struct fs_button *b, const uint8_t *p, size_t len)
{
	uint8_t rsp[1 + FS_CHASKEY_MAC_LEN];
	uint16_t i0, i1;

	if (len < ADV_PARAMS_LEN) {
		b->stats.adv_params_rejected++;
		log_warning("%s: SetAdvParametersRequest too short (%zu bytes), refused", b->address, len);
		return;
	}
	i0 = (uint16_t)(p[5] | p[6] << 8);
	i1 = (uint16_t)(p[7] | p[8] << 8);
	if (p[1] && (i0 < ADV_INTERVAL_MIN || i0 > ADV_INTERVAL_MAX ||
		     i1 < ADV_INTERVAL_MIN || i1 > ADV_INTERVAL_MAX)) {
		b->stats.adv_params_rejected++;
		log_warning("%s: SetAdvParametersRequest intervals %u/%u out of %u..%u, refused",
			    b->address, i0, i1, ADV_INTERVAL_MIN, ADV_INTERVAL_MAX);
		return;
	}
	memset(&b->advp, 0, sizeof(b->advp));
	if (p[1]) {
		b->advp.set = true;
		b->advp.short_range = p[3] || !p[4];
		b->advp.long_range = p[4] || !p[3];
		b->advp.interval[0] = i0;
		b->advp.interval[1] = i1;
		b->advp.timeout_s = fs_le32(p + 9);
		log_info("%s: advertising after a lost link: %u then %u x 0.625 ms for %u s",
			 b->address, i0, i1, b->advp.timeout_s);
	} else {
		log_info("%s: advertising parameters removed, defaults again", b->address);
	}
	b->stats.adv_params_set++;
	rsp[0] = FS_RSP_SET_ADV_PARAMETERS_RESPONSE;
	btn_send_signed(b, rsp, 1);
}

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
		btn_disconnect_verified_link(b, FS_DISCONNECT_INVALID_SIGNATURE);
		return;
	}
	b->rx_counter++;
	log_debug("%s: <- opcode %u (%zu bytes, MAC ok)", b->address, p[0], len);

	switch (p[0]) {
	case FS_OP_INIT_BUTTON_EVENTS_REQUEST:
	case FS_OP_INIT_BUTTON_EVENTS_LIGHT_REQUEST:
		btn_handle_init_events(b, p, len);
		break;
	case FS_OP_ACK_BUTTON_EVENTS_IND:
		if (len >= 5)
			btn_handle_ack(b, fs_le32(p + 1));
		break;
	case FS_OP_GET_BATTERY_LEVEL_REQUEST:
		rsp[0] = FS_RSP_GET_BATTERY_LEVEL_RESPONSE;
		fs_put_le16(rsp + 1, battery_level(b->cfg.battery_mv));
		log_debug("%s: battery %u mV", b->address, b->cfg.battery_mv);
		btn_send_signed(b, rsp, 3);
		break;
	case FS_OP_GET_FIRMWARE_VERSION_REQUEST:
		rsp[0] = FS_RSP_GET_FIRMWARE_VERSION_RESPONSE;
		fs_put_le32(rsp + 1, b->cfg.firmware);
		btn_send_signed(b, rsp, 5);
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
		btn_send_signed(b, rsp, 7 + n);
		break;
	case FS_OP_SET_AUTO_DISCONNECT_TIME_IND:
		if (len >= 3) {
			b->auto_disconnect_s = (p[1] | p[2] << 8) & 0x1ff;
			log_info("%s: auto-disconnect time %us", b->address, b->auto_disconnect_s);
			btn_restart_idle(b);
		}
		break;
	case FS_OP_PING_RESPONSE:
		b->ping_outstanding = false;
		break;
	case FS_OP_SET_CONNECTION_PARAMETERS_IND:
		log_debug("%s: connection parameters noted", b->address);
		break;
	case FS_OP_SET_ADV_PARAMETERS_REQUEST:
		handle_set_adv_params(b, p, len);
		break;
	case FS_OP_DISCONNECT_VERIFIED_LINK_IND:
		log_info("%s: client ended the verified session", b->address);
		btn_end_session(b);
		break;
	case FS_OP_FORCE_BT_DISCONNECT_IND:
		log_info("%s: client asks the button to drop the link", b->address);
		b->save_battery_disconnect = !(len >= 2 && p[1]);
		b->ops->terminate_link(b, b->userdata);
		break;
	case FS_OP_FACTORY_RESET_REQUEST:
		rsp[0] = FS_RSP_FACTORY_RESET_RESPONSE;
		btn_send_signed(b, rsp, 1);
		btn_flush(b);
		btn_factory_reset(b);
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
		btn_handle_full_verify_1(b, p, len);
		return;
	}
	if (p[0] == FS_OP_QUICK_VERIFY_REQUEST && conn_id == 0 &&
	    b->state != SESSION_ESTABLISHED) {
		btn_handle_quick_verify(b, p, len);
		return;
	}
	if (p[0] == FS_OP_QUICK_VERIFY_REQUEST && conn_id == 0) {
		btn_refuse_logical_connection(b, p, len);
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
			btn_handle_full_verify_2(b, p, len);
		else if (p[0] == FS_OP_TEST_IF_REALLY_UNPAIRED_REQUEST)
			btn_handle_test_unpaired(b, p, len);
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
