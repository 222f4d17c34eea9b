/* SPDX-License-Identifier: MIT */
/* Flic 2 packets: the opcodes, and parsing and building each packet (flic2-packet.h). */
#include <errno.h>
#include <string.h>

#include "lib/macro.h"
#include "radio/flic2-packet.h"

static uint64_t le48(const uint8_t *p)
{
	return (uint64_t)fg_flic2_le32(p) | (uint64_t)fg_flic2_le16(p + 4) << 32;
}

static void put_le48(uint8_t *p, uint64_t v)
{
	fg_flic2_put_le32(p, (uint32_t)v);
	fg_flic2_put_le16(p + 4, (uint16_t)(v >> 32));
}

/*
 * Minimum length of each button -> client packet (MAC excluded), the
 * layout of the official C module's flic2_packets.h; 0 = unknown opcode.
 * Variable-length packets list their fixed head.
 */
static const uint8_t rx_min_len[_FG_FLIC2_RX_OPCODE_MAX] = {
	[FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1] = FG_FLIC2_LEN_FV_RESPONSE1,
	[FG_FLIC2_RX_FULL_VERIFY_RESPONSE_2] = FG_FLIC2_LEN_FV_RESPONSE2,
	[FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS] = 1,
	[FG_FLIC2_RX_FULL_VERIFY_FAIL] = 2,
	[FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED] = 17,
	[FG_FLIC2_RX_FIRMWARE_VERSION] = 5,
	[FG_FLIC2_RX_QUICK_VERIFY_NEGATIVE] = 5,
	[FG_FLIC2_RX_PAIRING_FINISHED] = 3,
	[FG_FLIC2_RX_QUICK_VERIFY_RESPONSE] = FG_FLIC2_LEN_QV_RESPONSE,
	[FG_FLIC2_RX_DISCONNECTED_VERIFIED_LINK] = 2,
	[FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID] = 15,
	[FG_FLIC2_RX_INIT_EVENTS_WITHOUT_BOOT_ID] = 11,
	[FG_FLIC2_RX_BUTTON_EVENTS] = 5 + FG_FLIC2_LEN_EVENT_ITEM,
	[FG_FLIC2_RX_API_TIMER] = 5,
	[FG_FLIC2_RX_NAME_UPDATED] = 1,
	[FG_FLIC2_RX_PING_REQUEST] = 1,
	[FG_FLIC2_RX_GET_NAME_RESPONSE] = 7,
	[FG_FLIC2_RX_SET_NAME_RESPONSE] = 7,
	[FG_FLIC2_RX_START_FIRMWARE_UPDATE] = 5,
	[FG_FLIC2_RX_FIRMWARE_UPDATE_NOTIFICATION] = 5,
	[FG_FLIC2_RX_BATTERY_LEVEL] = 3,
	[FG_FLIC2_RX_SERVICES_CHANGED] = 2,
	[FG_FLIC2_RX_FACTORY_RESET] = 1,
	[FG_FLIC2_RX_CURRENT_TIME] = 8,
	[FG_FLIC2_RX_DEVICE_ID] = 9,
	[FG_FLIC2_RX_SET_ADV_PARAMETERS] = 1,
};

static const char *const rx_names[_FG_FLIC2_RX_OPCODE_MAX] = {
	[FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1] = "FullVerifyResponse1",
	[FG_FLIC2_RX_FULL_VERIFY_RESPONSE_2] = "FullVerifyResponse2",
	[FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS] = "NoLogicalConnectionSlotsInd",
	[FG_FLIC2_RX_FULL_VERIFY_FAIL] = "FullVerifyFailResponse",
	[FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED] = "TestIfReallyUnpairedResponse",
	[FG_FLIC2_RX_FIRMWARE_VERSION] = "GetFirmwareVersionResponse",
	[FG_FLIC2_RX_QUICK_VERIFY_NEGATIVE] = "QuickVerifyNegativeResponse",
	[FG_FLIC2_RX_PAIRING_FINISHED] = "PairingFinishedInd",
	[FG_FLIC2_RX_QUICK_VERIFY_RESPONSE] = "QuickVerifyResponse",
	[FG_FLIC2_RX_DISCONNECTED_VERIFIED_LINK] = "DisconnectedVerifiedLinkInd",
	[FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID] = "InitButtonEventsResponseWithBootId",
	[FG_FLIC2_RX_INIT_EVENTS_WITHOUT_BOOT_ID] = "InitButtonEventsResponseWithoutBootId",
	[FG_FLIC2_RX_BUTTON_EVENTS] = "ButtonEventNotification",
	[FG_FLIC2_RX_API_TIMER] = "ApiTimerNotification",
	[FG_FLIC2_RX_NAME_UPDATED] = "NameUpdatedNotification",
	[FG_FLIC2_RX_PING_REQUEST] = "PingRequest",
	[FG_FLIC2_RX_GET_NAME_RESPONSE] = "GetNameResponse",
	[FG_FLIC2_RX_SET_NAME_RESPONSE] = "SetNameResponse",
	[FG_FLIC2_RX_START_FIRMWARE_UPDATE] = "StartFirmwareUpdateResponse",
	[FG_FLIC2_RX_FIRMWARE_UPDATE_NOTIFICATION] = "FirmwareUpdateNotification",
	[FG_FLIC2_RX_BATTERY_LEVEL] = "GetBatteryLevelResponse",
	[FG_FLIC2_RX_SERVICES_CHANGED] = "ServicesChangedConfirmedInd",
	[FG_FLIC2_RX_FACTORY_RESET] = "FactoryResetResponse",
	[FG_FLIC2_RX_CURRENT_TIME] = "GetCurrentTimeResponse",
	[FG_FLIC2_RX_DEVICE_ID] = "GetDeviceIdResponse",
	[FG_FLIC2_RX_SET_ADV_PARAMETERS] = "SetAdvParametersResponse",
};

FG_DEFINE_STRING_TABLE_TO(, fg_flic2_rx_opcode, uint8_t, rx_names)

static const char *const tx_names[] = {
	[FG_FLIC2_TX_FULL_VERIFY_REQUEST_1] = "FullVerifyRequest1",
	[FG_FLIC2_TX_FULL_VERIFY_REQUEST_2] = "FullVerifyRequest2",
	[FG_FLIC2_TX_FULL_VERIFY_ABORT] = "FullVerifyAbortInd",
	[FG_FLIC2_TX_TEST_IF_REALLY_UNPAIRED] = "TestIfReallyUnpairedRequest",
	[FG_FLIC2_TX_QUICK_VERIFY_REQUEST] = "QuickVerifyRequest",
	[FG_FLIC2_TX_GET_FIRMWARE_VERSION] = "GetFirmwareVersionRequest",
	[FG_FLIC2_TX_DISCONNECT_VERIFIED_LINK] = "DisconnectVerifiedLinkInd",
	[FG_FLIC2_TX_GET_NAME] = "GetNameRequest",
	[FG_FLIC2_TX_SET_CONNECTION_PARAMETERS] = "SetConnectionParametersInd",
	[FG_FLIC2_TX_PING_RESPONSE] = "PingResponse",
	[FG_FLIC2_TX_ACK_BUTTON_EVENTS] = "AckButtonEventsInd",
	[FG_FLIC2_TX_GET_BATTERY_LEVEL] = "GetBatteryLevelRequest",
	[FG_FLIC2_TX_SET_AUTO_DISCONNECT_TIME] = "SetAutoDisconnectTimeInd",
	[FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT] = "InitButtonEventsLightRequest",
	[FG_FLIC2_TX_SET_ADV_PARAMETERS] = "SetAdvParametersRequest",
};
FG_DEFINE_STRING_TABLE_TO(, fg_flic2_tx_opcode, uint8_t, tx_names)

/* Fixed-layout packets: anything after the layout is "trailing". */
static size_t fixed_trailing(uint8_t opcode, size_t len)
{
	switch (opcode) {
	case FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS:
		return (len - 1) % 4;
	case FG_FLIC2_RX_BUTTON_EVENTS:
		return (len - 5) % FG_FLIC2_LEN_EVENT_ITEM;
	case FG_FLIC2_RX_NAME_UPDATED:
	case FG_FLIC2_RX_GET_NAME_RESPONSE:
	case FG_FLIC2_RX_SET_NAME_RESPONSE:
		return 0;	/* the name takes the rest */
	}
	return len - rx_min_len[opcode];
}

static int decode_name(const uint8_t *p, size_t len, size_t *ret_len,
		       uint8_t name[FG_FLIC2_NAME_MAX])
{
	if (len > FG_FLIC2_NAME_MAX)
		return -EMSGSIZE;
	memset(name, 0, FG_FLIC2_NAME_MAX);
	if (len > 0)
		memcpy(name, p, len);
	*ret_len = len;
	return 0;
}

int fg_flic2_decode_rx(const uint8_t *pkt, size_t len, struct fg_flic2_rx *ret)
{
	struct fg_flic2_rx rx;
	uint8_t op;
	int r;

	if (len == 0)
		return -EBADMSG;
	if (len > FG_FLIC2_MAX_PACKET)
		return -EMSGSIZE;
	op = pkt[0];
	if (op >= _FG_FLIC2_RX_OPCODE_MAX || rx_min_len[op] == 0)
		return -EOPNOTSUPP;
	if (len < rx_min_len[op])
		return -EBADMSG;

	memset(&rx, 0, sizeof(rx));
	rx.opcode = op;
	rx.trailing = fixed_trailing(op, len);
	switch (op) {
	case FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1:
		rx.fv_response1.tmp_id = fg_flic2_le32(pkt + 1);
		memcpy(rx.fv_response1.signature, pkt + 5, 64);
		memcpy(rx.fv_response1.address, pkt + 69, 6);
		rx.fv_response1.address_type = pkt[75];
		memcpy(rx.fv_response1.ecdh_public, pkt + 76, 32);
		memcpy(rx.fv_response1.random, pkt + 108, 8);
		rx.fv_response1.flags = pkt[116];
		break;
	case FG_FLIC2_RX_FULL_VERIFY_RESPONSE_2:
		rx.fv_response2.flags = pkt[1];
		memcpy(rx.fv_response2.uuid, pkt + 2, 16);
		rx.fv_response2.name_len = pkt[18];
		memcpy(rx.fv_response2.name, pkt + 19, FG_FLIC2_NAME_MAX);
		rx.fv_response2.firmware_version = fg_flic2_le32(pkt + 42);
		rx.fv_response2.battery_level = fg_flic2_le16(pkt + 46);
		memcpy(rx.fv_response2.serial, pkt + 48, FG_FLIC2_SERIAL_LEN);
		break;
	case FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS:
		rx.no_slots.n = (len - 1) / 4;
		for (size_t i = 0; i < rx.no_slots.n; i++)
			rx.no_slots.tmp_ids[i] = fg_flic2_le32(pkt + 1 + 4 * i);
		break;
	case FG_FLIC2_RX_FULL_VERIFY_FAIL:
		rx.fv_fail.reason = pkt[1];
		break;
	case FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED:
		memcpy(rx.test_unpaired.result, pkt + 1, 16);
		break;
	case FG_FLIC2_RX_FIRMWARE_VERSION:
		rx.firmware.version = fg_flic2_le32(pkt + 1);
		break;
	case FG_FLIC2_RX_QUICK_VERIFY_NEGATIVE:
		rx.qv_negative.tmp_id = fg_flic2_le32(pkt + 1);
		break;
	case FG_FLIC2_RX_PAIRING_FINISHED:
		rx.pairing_finished.flags = pkt[1];
		rx.pairing_finished.reason = pkt[2];
		break;
	case FG_FLIC2_RX_QUICK_VERIFY_RESPONSE:
		memcpy(rx.qv_response.random, pkt + 1, 8);
		rx.qv_response.tmp_id = fg_flic2_le32(pkt + 9);
		rx.qv_response.flags = pkt[13];
		break;
	case FG_FLIC2_RX_DISCONNECTED_VERIFIED_LINK:
		rx.link_closed.reason = pkt[1];
		break;
	case FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID:
	case FG_FLIC2_RX_INIT_EVENTS_WITHOUT_BOOT_ID: {
		uint64_t v = le48(pkt + 1);

		rx.init_events.has_queued_events = v & 1;
		rx.init_events.timestamp = v >> 1;
		rx.init_events.event_count = fg_flic2_le32(pkt + 7);
		if (op == FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID) {
			rx.init_events.has_boot_id = true;
			rx.init_events.boot_id = fg_flic2_le32(pkt + 11);
		}
		break;
	}
	case FG_FLIC2_RX_BUTTON_EVENTS:
		rx.events.press_counter = fg_flic2_le32(pkt + 1);
		rx.events.n = (len - 5) / FG_FLIC2_LEN_EVENT_ITEM;
		if (rx.events.n > FG_FLIC2_MAX_EVENT_ITEMS)
			return -EMSGSIZE;
		for (size_t i = 0; i < rx.events.n; i++) {
			const uint8_t *item = pkt + 5 + FG_FLIC2_LEN_EVENT_ITEM * i;

			rx.events.items[i].timestamp = le48(item);
			rx.events.items[i].code = item[6] & 0x0f;
			rx.events.items[i].queued = item[6] & 0x10;
			rx.events.items[i].queued_last = item[6] & 0x20;
		}
		break;
	case FG_FLIC2_RX_API_TIMER:
		rx.api_timer.message = fg_flic2_le32(pkt + 1);
		break;
	case FG_FLIC2_RX_NAME_UPDATED:
		r = decode_name(pkt + 1, len - 1, &rx.name.len, rx.name.name);
		if (r < 0)
			return r;
		break;
	case FG_FLIC2_RX_GET_NAME_RESPONSE:
	case FG_FLIC2_RX_SET_NAME_RESPONSE:
		rx.name.timestamp_ms = le48(pkt + 1);
		r = decode_name(pkt + 7, len - 7, &rx.name.len, rx.name.name);
		if (r < 0)
			return r;
		break;
	case FG_FLIC2_RX_START_FIRMWARE_UPDATE:
	case FG_FLIC2_RX_FIRMWARE_UPDATE_NOTIFICATION:
		rx.firmware_update.value = (int32_t)fg_flic2_le32(pkt + 1);
		break;
	case FG_FLIC2_RX_BATTERY_LEVEL:
		rx.battery.level = fg_flic2_le16(pkt + 1);
		break;
	case FG_FLIC2_RX_SERVICES_CHANGED:
		rx.services_changed.reason = pkt[1];
		break;
	case FG_FLIC2_RX_CURRENT_TIME:
		rx.current_time.time = le48(pkt + 1) | (uint64_t)pkt[7] << 48;
		break;
	case FG_FLIC2_RX_DEVICE_ID:
		memcpy(rx.device_id.id, pkt + 1, 8);
		break;
	case FG_FLIC2_RX_PING_REQUEST:
	case FG_FLIC2_RX_FACTORY_RESET:
	case FG_FLIC2_RX_SET_ADV_PARAMETERS:
		break;
	}
	*ret = rx;
	return 0;
}

static int need(size_t have, size_t want)
{
	return have < want ? -ENOBUFS : 0;
}

int fg_flic2_encode_rx(const struct fg_flic2_rx *rx, uint8_t *out, size_t size)
{
	uint8_t op = rx->opcode;
	size_t len;

	if (op >= _FG_FLIC2_RX_OPCODE_MAX || rx_min_len[op] == 0)
		return -EOPNOTSUPP;
	len = rx_min_len[op];
	switch (op) {
	case FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS:
		if (rx->no_slots.n > (FG_FLIC2_MAX_PACKET - 1) / 4)
			return -EINVAL;
		len = 1 + 4 * rx->no_slots.n;
		break;
	case FG_FLIC2_RX_BUTTON_EVENTS:
		if (rx->events.n == 0 || rx->events.n > FG_FLIC2_MAX_EVENT_ITEMS)
			return -EINVAL;
		len = 5 + FG_FLIC2_LEN_EVENT_ITEM * rx->events.n;
		break;
	case FG_FLIC2_RX_NAME_UPDATED:
	case FG_FLIC2_RX_GET_NAME_RESPONSE:
	case FG_FLIC2_RX_SET_NAME_RESPONSE:
		if (rx->name.len > FG_FLIC2_NAME_MAX)
			return -EINVAL;
		len += rx->name.len;
		break;
	}
	if (need(size, len) < 0)
		return -ENOBUFS;

	memset(out, 0, len);
	out[0] = op;
	switch (op) {
	case FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1:
		fg_flic2_put_le32(out + 1, rx->fv_response1.tmp_id);
		memcpy(out + 5, rx->fv_response1.signature, 64);
		memcpy(out + 69, rx->fv_response1.address, 6);
		out[75] = rx->fv_response1.address_type;
		memcpy(out + 76, rx->fv_response1.ecdh_public, 32);
		memcpy(out + 108, rx->fv_response1.random, 8);
		out[116] = rx->fv_response1.flags;
		break;
	case FG_FLIC2_RX_FULL_VERIFY_RESPONSE_2:
		out[1] = rx->fv_response2.flags;
		memcpy(out + 2, rx->fv_response2.uuid, 16);
		out[18] = rx->fv_response2.name_len;
		memcpy(out + 19, rx->fv_response2.name, FG_FLIC2_NAME_MAX);
		fg_flic2_put_le32(out + 42, rx->fv_response2.firmware_version);
		fg_flic2_put_le16(out + 46, rx->fv_response2.battery_level);
		memcpy(out + 48, rx->fv_response2.serial, FG_FLIC2_SERIAL_LEN);
		break;
	case FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS:
		for (size_t i = 0; i < rx->no_slots.n; i++)
			fg_flic2_put_le32(out + 1 + 4 * i, rx->no_slots.tmp_ids[i]);
		break;
	case FG_FLIC2_RX_FULL_VERIFY_FAIL:
		out[1] = rx->fv_fail.reason;
		break;
	case FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED:
		memcpy(out + 1, rx->test_unpaired.result, 16);
		break;
	case FG_FLIC2_RX_FIRMWARE_VERSION:
		fg_flic2_put_le32(out + 1, rx->firmware.version);
		break;
	case FG_FLIC2_RX_QUICK_VERIFY_NEGATIVE:
		fg_flic2_put_le32(out + 1, rx->qv_negative.tmp_id);
		break;
	case FG_FLIC2_RX_PAIRING_FINISHED:
		out[1] = rx->pairing_finished.flags;
		out[2] = rx->pairing_finished.reason;
		break;
	case FG_FLIC2_RX_QUICK_VERIFY_RESPONSE:
		memcpy(out + 1, rx->qv_response.random, 8);
		fg_flic2_put_le32(out + 9, rx->qv_response.tmp_id);
		out[13] = rx->qv_response.flags;
		break;
	case FG_FLIC2_RX_DISCONNECTED_VERIFIED_LINK:
		out[1] = rx->link_closed.reason;
		break;
	case FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID:
	case FG_FLIC2_RX_INIT_EVENTS_WITHOUT_BOOT_ID:
		if (rx->init_events.timestamp >> 47)
			return -EINVAL;
		put_le48(out + 1, rx->init_events.timestamp << 1 |
			 (rx->init_events.has_queued_events ? 1 : 0));
		fg_flic2_put_le32(out + 7, rx->init_events.event_count);
		if (op == FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID)
			fg_flic2_put_le32(out + 11, rx->init_events.boot_id);
		break;
	case FG_FLIC2_RX_BUTTON_EVENTS:
		fg_flic2_put_le32(out + 1, rx->events.press_counter);
		for (size_t i = 0; i < rx->events.n; i++) {
			const struct fg_flic2_event_item *it = &rx->events.items[i];
			uint8_t *item = out + 5 + FG_FLIC2_LEN_EVENT_ITEM * i;

			if ((it->timestamp >> 48) || it->code > 15)
				return -EINVAL;
			put_le48(item, it->timestamp);
			item[6] = (uint8_t)(it->code | (it->queued ? 0x10 : 0) |
					    (it->queued_last ? 0x20 : 0));
		}
		break;
	case FG_FLIC2_RX_API_TIMER:
		fg_flic2_put_le32(out + 1, rx->api_timer.message);
		break;
	case FG_FLIC2_RX_NAME_UPDATED:
		memcpy(out + 1, rx->name.name, rx->name.len);
		break;
	case FG_FLIC2_RX_GET_NAME_RESPONSE:
	case FG_FLIC2_RX_SET_NAME_RESPONSE:
		if (rx->name.timestamp_ms >> 48)
			return -EINVAL;
		put_le48(out + 1, rx->name.timestamp_ms);
		memcpy(out + 7, rx->name.name, rx->name.len);
		break;
	case FG_FLIC2_RX_START_FIRMWARE_UPDATE:
	case FG_FLIC2_RX_FIRMWARE_UPDATE_NOTIFICATION:
		fg_flic2_put_le32(out + 1, (uint32_t)rx->firmware_update.value);
		break;
	case FG_FLIC2_RX_BATTERY_LEVEL:
		fg_flic2_put_le16(out + 1, rx->battery.level);
		break;
	case FG_FLIC2_RX_SERVICES_CHANGED:
		out[1] = rx->services_changed.reason;
		break;
	case FG_FLIC2_RX_CURRENT_TIME:
		if (rx->current_time.time >> 56)
			return -EINVAL;
		put_le48(out + 1, rx->current_time.time);
		out[7] = (uint8_t)(rx->current_time.time >> 48);
		break;
	case FG_FLIC2_RX_DEVICE_ID:
		memcpy(out + 1, rx->device_id.id, 8);
		break;
	case FG_FLIC2_RX_PING_REQUEST:
	case FG_FLIC2_RX_FACTORY_RESET:
	case FG_FLIC2_RX_SET_ADV_PARAMETERS:
		break;
	}
	return (int)len;
}

static bool adv_interval_ok(uint16_t v)
{
	return v >= FG_FLIC2_ADV_INTERVAL_MIN && v <= FG_FLIC2_ADV_INTERVAL_MAX;
}

static size_t tx_len(uint8_t opcode)
{
	switch (opcode) {
	case FG_FLIC2_TX_FULL_VERIFY_REQUEST_1:
		return FG_FLIC2_LEN_FV_REQUEST1;
	case FG_FLIC2_TX_FULL_VERIFY_REQUEST_2:
		return FG_FLIC2_LEN_FV_REQUEST2;
	case FG_FLIC2_TX_TEST_IF_REALLY_UNPAIRED:
		return FG_FLIC2_LEN_TEST_UNPAIRED;
	case FG_FLIC2_TX_QUICK_VERIFY_REQUEST:
		return FG_FLIC2_LEN_QV_REQUEST;
	case FG_FLIC2_TX_SET_CONNECTION_PARAMETERS:
		return FG_FLIC2_LEN_CONN_PARAMS;
	case FG_FLIC2_TX_ACK_BUTTON_EVENTS:
		return FG_FLIC2_LEN_ACK;
	case FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT:
		return FG_FLIC2_LEN_INIT_EVENTS;
	case FG_FLIC2_TX_SET_AUTO_DISCONNECT_TIME:
		return FG_FLIC2_LEN_AUTO_DISCONNECT;
	case FG_FLIC2_TX_SET_ADV_PARAMETERS:
		return FG_FLIC2_LEN_ADV_PARAMS;
	case FG_FLIC2_TX_FULL_VERIFY_ABORT:
	case FG_FLIC2_TX_GET_FIRMWARE_VERSION:
	case FG_FLIC2_TX_DISCONNECT_VERIFIED_LINK:
	case FG_FLIC2_TX_GET_NAME:
	case FG_FLIC2_TX_PING_RESPONSE:
	case FG_FLIC2_TX_GET_BATTERY_LEVEL:
		return 1;
	}
	return 0;
}

int fg_flic2_encode_tx(const struct fg_flic2_tx *tx, uint8_t *out, size_t size)
{
	size_t len = tx_len(tx->opcode);

	if (len == 0)
		return -EOPNOTSUPP;
	if (need(size, len) < 0)
		return -ENOBUFS;
	memset(out, 0, len);
	out[0] = tx->opcode;
	switch (tx->opcode) {
	case FG_FLIC2_TX_FULL_VERIFY_REQUEST_1:
		fg_flic2_put_le32(out + 1, tx->fv_request1.tmp_id);
		break;
	case FG_FLIC2_TX_FULL_VERIFY_REQUEST_2:
		memcpy(out + 1, tx->fv_request2.ecdh_public, 32);
		memcpy(out + 33, tx->fv_request2.random, 8);
		out[41] = tx->fv_request2.flags;
		memcpy(out + 42, tx->fv_request2.verifier, 16);
		break;
	case FG_FLIC2_TX_TEST_IF_REALLY_UNPAIRED:
		memcpy(out + 1, tx->test_unpaired.ecdh_public, 32);
		memcpy(out + 33, tx->test_unpaired.random, 8);
		fg_flic2_put_le32(out + 41, tx->test_unpaired.pairing_id);
		memcpy(out + 45, tx->test_unpaired.pairing_token, 16);
		break;
	case FG_FLIC2_TX_QUICK_VERIFY_REQUEST:
		memcpy(out + 1, tx->qv_request.random, 7);
		out[8] = tx->qv_request.flags;
		fg_flic2_put_le32(out + 9, tx->qv_request.tmp_id);
		fg_flic2_put_le32(out + 13, tx->qv_request.pairing_id);
		break;
	case FG_FLIC2_TX_SET_CONNECTION_PARAMETERS:
		fg_flic2_put_le16(out + 1, tx->conn_params.interval_min);
		fg_flic2_put_le16(out + 3, tx->conn_params.interval_max);
		fg_flic2_put_le16(out + 5, tx->conn_params.latency);
		fg_flic2_put_le16(out + 7, tx->conn_params.timeout);
		break;
	case FG_FLIC2_TX_ACK_BUTTON_EVENTS:
		fg_flic2_put_le32(out + 1, tx->ack.event_count);
		break;
	case FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT: {
		uint64_t bits;

		if (tx->init_events.auto_disconnect_s > 511 ||
		    tx->init_events.max_queued_packets > 31 ||
		    tx->init_events.max_queued_age_s > 0xfffff)
			return -EINVAL;
		fg_flic2_put_le32(out + 1, tx->init_events.event_count);
		fg_flic2_put_le32(out + 5, tx->init_events.boot_id);
		/* 40-bit little-endian bit field; bits 34..39 (enable_hid, RFU) zero */
		bits = (uint64_t)tx->init_events.auto_disconnect_s |
		       (uint64_t)tx->init_events.max_queued_packets << 9 |
		       (uint64_t)tx->init_events.max_queued_age_s << 14;
		for (int i = 0; i < 5; i++)
			out[9 + i] = (uint8_t)(bits >> (8 * i));
		break;
	}
	case FG_FLIC2_TX_SET_AUTO_DISCONNECT_TIME:
		/* 9-bit field, 7 bits of padding */
		if (tx->auto_disconnect.seconds > 511)
			return -EINVAL;
		fg_flic2_put_le16(out + 1, tx->auto_disconnect.seconds);
		break;
	case FG_FLIC2_TX_SET_ADV_PARAMETERS:
		for (int i = 0; i < 2; i++)
			if (!adv_interval_ok(tx->adv_params.interval[i]))
				return -EINVAL;
		out[1] = tx->adv_params.active;
		out[2] = tx->adv_params.remove_other_pairings;
		out[3] = tx->adv_params.short_range;
		out[4] = tx->adv_params.long_range;
		fg_flic2_put_le16(out + 5, tx->adv_params.interval[0]);
		fg_flic2_put_le16(out + 7, tx->adv_params.interval[1]);
		fg_flic2_put_le32(out + 9, tx->adv_params.timeout_s);
		break;
	}
	return (int)len;
}

int fg_flic2_decode_tx(const uint8_t *pkt, size_t len, struct fg_flic2_tx *ret)
{
	struct fg_flic2_tx tx;
	size_t want;

	if (len == 0)
		return -EBADMSG;
	if (len > FG_FLIC2_MAX_PACKET)
		return -EMSGSIZE;
	want = tx_len(pkt[0]);
	if (want == 0)
		return -EOPNOTSUPP;
	if (len < want)
		return -EBADMSG;
	memset(&tx, 0, sizeof(tx));
	tx.opcode = pkt[0];
	switch (tx.opcode) {
	case FG_FLIC2_TX_FULL_VERIFY_REQUEST_1:
		tx.fv_request1.tmp_id = fg_flic2_le32(pkt + 1);
		break;
	case FG_FLIC2_TX_FULL_VERIFY_REQUEST_2:
		memcpy(tx.fv_request2.ecdh_public, pkt + 1, 32);
		memcpy(tx.fv_request2.random, pkt + 33, 8);
		tx.fv_request2.flags = pkt[41];
		memcpy(tx.fv_request2.verifier, pkt + 42, 16);
		break;
	case FG_FLIC2_TX_TEST_IF_REALLY_UNPAIRED:
		memcpy(tx.test_unpaired.ecdh_public, pkt + 1, 32);
		memcpy(tx.test_unpaired.random, pkt + 33, 8);
		tx.test_unpaired.pairing_id = fg_flic2_le32(pkt + 41);
		memcpy(tx.test_unpaired.pairing_token, pkt + 45, 16);
		break;
	case FG_FLIC2_TX_QUICK_VERIFY_REQUEST:
		memcpy(tx.qv_request.random, pkt + 1, 7);
		tx.qv_request.flags = pkt[8];
		tx.qv_request.tmp_id = fg_flic2_le32(pkt + 9);
		tx.qv_request.pairing_id = fg_flic2_le32(pkt + 13);
		break;
	case FG_FLIC2_TX_SET_CONNECTION_PARAMETERS:
		tx.conn_params.interval_min = fg_flic2_le16(pkt + 1);
		tx.conn_params.interval_max = fg_flic2_le16(pkt + 3);
		tx.conn_params.latency = fg_flic2_le16(pkt + 5);
		tx.conn_params.timeout = fg_flic2_le16(pkt + 7);
		break;
	case FG_FLIC2_TX_ACK_BUTTON_EVENTS:
		tx.ack.event_count = fg_flic2_le32(pkt + 1);
		break;
	case FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT: {
		uint64_t bits = 0;

		tx.init_events.event_count = fg_flic2_le32(pkt + 1);
		tx.init_events.boot_id = fg_flic2_le32(pkt + 5);
		for (int i = 0; i < 5; i++)
			bits |= (uint64_t)pkt[9 + i] << (8 * i);
		tx.init_events.auto_disconnect_s = (uint16_t)(bits & 0x1ff);
		tx.init_events.max_queued_packets = (uint8_t)(bits >> 9 & 0x1f);
		tx.init_events.max_queued_age_s = (uint32_t)(bits >> 14 & 0xfffff);
		break;
	}
	case FG_FLIC2_TX_SET_AUTO_DISCONNECT_TIME:
		tx.auto_disconnect.seconds = fg_flic2_le16(pkt + 1) & 0x1ff;
		break;
	case FG_FLIC2_TX_SET_ADV_PARAMETERS:
		for (int i = 1; i <= 4; i++)
			if (pkt[i] > 1)
				return -EBADMSG;
		tx.adv_params.active = pkt[1];
		tx.adv_params.remove_other_pairings = pkt[2];
		tx.adv_params.short_range = pkt[3];
		tx.adv_params.long_range = pkt[4];
		tx.adv_params.interval[0] = fg_flic2_le16(pkt + 5);
		tx.adv_params.interval[1] = fg_flic2_le16(pkt + 7);
		tx.adv_params.timeout_s = fg_flic2_le32(pkt + 9);
		for (int i = 0; i < 2; i++)
			if (!adv_interval_ok(tx.adv_params.interval[i]))
				return -EBADMSG;
		break;
	}
	*ret = tx;
	return 0;
}

void fg_flic2_reassembler_reset(struct fg_flic2_reassembler *r)
{
	r->len = 0;
	r->active = false;
	r->header = 0;
}

int fg_flic2_reassembler_feed(struct fg_flic2_reassembler *r, const uint8_t *data,
			      size_t len, uint8_t *ret_header,
			      const uint8_t **ret_pkt, size_t *ret_len)
{
	uint8_t header;
	size_t body;

	if (len < 2) {
		/* every fragment carries at least one packet byte */
		fg_flic2_reassembler_reset(r);
		return -EBADMSG;
	}
	header = data[0];
	body = len - 1;
	if (!r->active) {
		r->header = header;
		r->len = 0;
	} else if ((header & FG_FLIC2_HDR_CONN_ID_MASK) !=
		   (r->header & FG_FLIC2_HDR_CONN_ID_MASK)) {
		fg_flic2_reassembler_reset(r);
		return -EPROTO;
	}
	if (body > FG_FLIC2_MAX_PACKET - r->len) {
		fg_flic2_reassembler_reset(r);
		return -EMSGSIZE;
	}
	memcpy(r->buf + r->len, data + 1, body);
	r->len += body;
	if (header & FG_FLIC2_HDR_MORE) {
		r->active = true;
		return 0;
	}
	*ret_header = r->header;
	*ret_pkt = r->buf;
	*ret_len = r->len;
	r->active = false;
	return 1;
}

int fg_flic2_fragment(uint8_t conn_id, const uint8_t *pkt, size_t len, unsigned mtu,
		      uint8_t out[FG_FLIC2_MAX_FRAGMENTS][FG_FLIC2_MAX_WRITE],
		      size_t out_len[FG_FLIC2_MAX_FRAGMENTS])
{
	size_t chunk, pos = 0;
	int n = 0;

	if (len == 0 || len > FG_FLIC2_MAX_PACKET)
		return -EINVAL;
	if (mtu < FG_FLIC2_MTU_MIN)
		mtu = FG_FLIC2_MTU_MIN;
	if (mtu > FG_FLIC2_MTU_MAX)
		mtu = FG_FLIC2_MTU_MAX;
	/* ATT write-without-response carries mtu - 3 bytes: header + chunk */
	chunk = mtu - 4;
	while (pos < len) {
		size_t take = len - pos < chunk ? len - pos : chunk;
		bool more = pos + take < len;

		out[n][0] = (uint8_t)((conn_id & FG_FLIC2_HDR_CONN_ID_MASK) |
				      (more ? FG_FLIC2_HDR_MORE : 0));
		memcpy(out[n] + 1, pkt + pos, take);
		out_len[n] = 1 + take;
		pos += take;
		n++;
	}
	return n;
}
