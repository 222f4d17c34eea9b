/* SPDX-License-Identifier: MIT */
/*
 * The wire format: every opcode's layout at hand-written byte offsets,
 * every length class (exact, short, trailing, long, unknown), encode/decode
 * round trips in both directions, fragmentation and reassembly.
 */
#include <errno.h>

#include "test-flic2-util.h"

#include "radio/flic2-packet.h"

static void fill(uint8_t *p, size_t n, uint8_t start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

/* FullVerifyResponse1 field offsets, from a packet built byte by byte. */
static void test_fv_response1_layout(void **state)
{
	uint8_t p[117 + 2];
	struct fg_flic2_rx rx;

	fill(p, sizeof(p), 0);
	p[0] = 0;			/* opcode */
	assert_int_equal(fg_flic2_decode_rx(p, 117, &rx), 0);
	assert_int_equal(rx.opcode, FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1);
	assert_int_equal(rx.fv_response1.tmp_id, 0x04030201);
	assert_int_equal(rx.fv_response1.signature[0], 5);
	assert_int_equal(rx.fv_response1.signature[63], 68);
	assert_int_equal(rx.fv_response1.address[0], 69);
	assert_int_equal(rx.fv_response1.address[5], 74);
	assert_int_equal(rx.fv_response1.address_type, 75);
	assert_int_equal(rx.fv_response1.ecdh_public[0], 76);
	assert_int_equal(rx.fv_response1.ecdh_public[31], 107);
	assert_int_equal(rx.fv_response1.random[0], 108);
	assert_int_equal(rx.fv_response1.random[7], 115);
	assert_int_equal(rx.fv_response1.flags, 116);
	assert_int_equal(rx.trailing, 0);
	assert_int_equal(fg_flic2_decode_rx(p, 116, &rx), -EBADMSG);
	assert_int_equal(fg_flic2_decode_rx(p, 119, &rx), 0);
	assert_int_equal(rx.trailing, 2);
}

static void test_fv_response2_layout(void **state)
{
	uint8_t p[59];
	struct fg_flic2_rx rx;

	fill(p, sizeof(p), 0);
	p[0] = 1;
	assert_int_equal(fg_flic2_decode_rx(p, 59, &rx), 0);
	assert_int_equal(rx.fv_response2.flags, 1);
	assert_int_equal(rx.fv_response2.uuid[0], 2);
	assert_int_equal(rx.fv_response2.uuid[15], 17);
	assert_int_equal(rx.fv_response2.name_len, 18);
	assert_int_equal(rx.fv_response2.name[0], 19);
	assert_int_equal(rx.fv_response2.name[22], 41);
	assert_int_equal(rx.fv_response2.firmware_version, 0x2d2c2b2a);
	assert_int_equal(rx.fv_response2.battery_level, 0x2f2e);
	assert_int_equal(rx.fv_response2.serial[0], 48);
	assert_int_equal(rx.fv_response2.serial[10], 58);
	assert_int_equal(fg_flic2_decode_rx(p, 58, &rx), -EBADMSG);
}

/* Every opcode: exact length decodes, one byte less does not, more is trailing. */
static void test_rx_length_classes(void **state)
{
	static const struct {
		uint8_t opcode;
		size_t min;
		bool fixed;	/* trailing bytes counted */
	} v[] = {
		{ 0, 117, true }, { 1, 59, true }, { 3, 2, true }, { 4, 17, true },
		{ 5, 5, true }, { 6, 5, true }, { 7, 3, true }, { 8, 14, true },
		{ 9, 2, true }, { 10, 15, true }, { 11, 11, true }, { 13, 5, true },
		{ 15, 1, true }, { 18, 5, true }, { 19, 5, true }, { 20, 3, true },
		{ 21, 2, true }, { 22, 1, true }, { 23, 8, true }, { 24, 9, true },
		{ 25, 1, true },
		/* variable */
		{ 2, 1, false }, { 12, 12, false }, { 14, 1, false }, { 16, 7, false },
		{ 17, 7, false },
	};
	uint8_t p[FG_FLIC2_MAX_PACKET + 1];
	struct fg_flic2_rx rx;

	memset(p, 0, sizeof(p));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p[0] = v[i].opcode;
		if (fg_flic2_decode_rx(p, v[i].min, &rx) != 0)
			fail_msg("opcode %u: exact length %zu refused", v[i].opcode, v[i].min);
		assert_int_equal(rx.opcode, v[i].opcode);
		assert_int_equal(rx.trailing, 0);
		if (v[i].min > 1)
			assert_int_equal(fg_flic2_decode_rx(p, v[i].min - 1, &rx), -EBADMSG);
		if (v[i].fixed) {
			assert_int_equal(fg_flic2_decode_rx(p, v[i].min + 3, &rx), 0);
			assert_int_equal(rx.trailing, 3);
		}
		assert_non_null(fg_flic2_rx_opcode_to_string(v[i].opcode));
	}
	/* unknown opcodes, empty, oversized */
	for (int op = 26; op < 256; op++) {
		p[0] = (uint8_t)op;
		assert_int_equal(fg_flic2_decode_rx(p, 20, &rx), -EOPNOTSUPP);
		assert_null(fg_flic2_rx_opcode_to_string((uint8_t)op));
	}
	assert_int_equal(fg_flic2_decode_rx(p, 0, &rx), -EBADMSG);
	p[0] = FG_FLIC2_RX_PING_REQUEST;
	assert_int_equal(fg_flic2_decode_rx(p, FG_FLIC2_MAX_PACKET, &rx), 0);
	assert_int_equal(fg_flic2_decode_rx(p, FG_FLIC2_MAX_PACKET + 1, &rx), -EMSGSIZE);
}

static void test_variable_lengths(void **state)
{
	uint8_t p[FG_FLIC2_MAX_PACKET];
	struct fg_flic2_rx rx;

	/* names: 0..23 bytes after the head, 24 is too long */
	memset(p, 'a', sizeof(p));
	p[0] = FG_FLIC2_RX_GET_NAME_RESPONSE;
	fg_flic2_put_le32(p + 1, 0x11223344);
	p[5] = 0x55;
	p[6] = 0x66;
	assert_int_equal(fg_flic2_decode_rx(p, 7 + 23, &rx), 0);
	assert_int_equal(rx.name.len, 23);
	assert_int_equal(rx.name.timestamp_ms, UINT64_C(0x665511223344));
	assert_int_equal(fg_flic2_decode_rx(p, 7 + 24, &rx), -EMSGSIZE);
	p[0] = FG_FLIC2_RX_NAME_UPDATED;
	assert_int_equal(fg_flic2_decode_rx(p, 1 + 23, &rx), 0);
	assert_int_equal(rx.name.len, 23);
	assert_int_equal(rx.name.timestamp_ms, 0);
	assert_int_equal(fg_flic2_decode_rx(p, 1, &rx), 0);
	assert_int_equal(rx.name.len, 0);
	assert_int_equal(fg_flic2_decode_rx(p, 1 + 24, &rx), -EMSGSIZE);

	/* events: 1..16 items of 7 bytes; a partial item is trailing */
	memset(p, 0, sizeof(p));
	p[0] = FG_FLIC2_RX_BUTTON_EVENTS;
	fg_flic2_put_le32(p + 1, 0xdeadbeef);
	p[5] = 1;
	p[10] = 0x80;		/* top byte of the 48-bit timestamp */
	p[11] = 0x2a;		/* code 10, queued_last, not queued */
	assert_int_equal(fg_flic2_decode_rx(p, 5 + 7, &rx), 0);
	assert_int_equal(rx.events.press_counter, 0xdeadbeef);
	assert_int_equal(rx.events.n, 1);
	assert_int_equal(rx.events.items[0].timestamp, UINT64_C(0x800000000001));
	assert_int_equal(rx.events.items[0].code, 10);
	assert_false(rx.events.items[0].queued);
	assert_true(rx.events.items[0].queued_last);
	assert_int_equal(fg_flic2_decode_rx(p, 5 + 7 * 16, &rx), 0);
	assert_int_equal(rx.events.n, 16);
	assert_int_equal(fg_flic2_decode_rx(p, 5 + 7 * 16 + 6, &rx), 0);
	assert_int_equal(rx.trailing, 6);
	assert_int_equal(fg_flic2_decode_rx(p, 5 + 7 * 17, &rx), -EMSGSIZE);
	assert_int_equal(fg_flic2_decode_rx(p, 5 + 6, &rx), -EBADMSG);

	/* no-slots: any number of tmp ids */
	p[0] = FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS;
	fg_flic2_put_le32(p + 1, 7);
	fg_flic2_put_le32(p + 5, 9);
	assert_int_equal(fg_flic2_decode_rx(p, 9, &rx), 0);
	assert_int_equal(rx.no_slots.n, 2);
	assert_int_equal(rx.no_slots.tmp_ids[1], 9);
	assert_int_equal(fg_flic2_decode_rx(p, 10, &rx), 0);
	assert_int_equal(rx.trailing, 1);
	assert_int_equal(fg_flic2_decode_rx(p, 128, &rx), 0);
	assert_int_equal(rx.no_slots.n, 31);
}

static void test_small_layouts(void **state)
{
	struct fg_flic2_rx rx;
	uint8_t init[15] = { 10, 0x03, 0, 0, 0, 0, 0x80, 0x10, 0, 0, 0, 0x44, 0x33, 0x22, 0x11 };
	uint8_t time[8] = { 23, 1, 2, 3, 4, 5, 6, 7 };
	uint8_t fw[5] = { 19, 0xfe, 0xff, 0xff, 0xff };
	uint8_t qv[14] = { 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x78, 0x56, 0x34, 0x12, 0x80 };

	/* has_queued in bit 0, then a 47-bit timestamp */
	assert_int_equal(fg_flic2_decode_rx(init, sizeof(init), &rx), 0);
	assert_true(rx.init_events.has_queued_events);
	assert_true(rx.init_events.has_boot_id);
	assert_int_equal(rx.init_events.timestamp, (UINT64_C(0x800000000003) >> 1));
	assert_int_equal(rx.init_events.event_count, 16);
	assert_int_equal(rx.init_events.boot_id, 0x11223344);
	init[0] = 11;
	assert_int_equal(fg_flic2_decode_rx(init, 11, &rx), 0);
	assert_false(rx.init_events.has_boot_id);
	assert_int_equal(rx.init_events.boot_id, 0);

	assert_int_equal(fg_flic2_decode_rx(time, sizeof(time), &rx), 0);
	assert_int_equal(rx.current_time.time, UINT64_C(0x07060504030201));
	assert_int_equal(fg_flic2_decode_rx(fw, sizeof(fw), &rx), 0);
	assert_int_equal(rx.firmware_update.value, -2);
	assert_int_equal(fg_flic2_decode_rx(qv, sizeof(qv), &rx), 0);
	assert_int_equal(rx.qv_response.random[7], 8);
	assert_int_equal(rx.qv_response.tmp_id, 0x12345678);
	assert_int_equal(rx.qv_response.flags, 0x80);
}

/* Every opcode: decode(encode(x)) == x. */
static void test_rx_roundtrip(void **state)
{
	for (int op = 0; op < _FG_FLIC2_RX_OPCODE_MAX; op++) {
		struct fg_flic2_rx in, out;
		uint8_t buf[FG_FLIC2_MAX_PACKET];
		int len;

		memset(&in, 0, sizeof(in));
		in.opcode = (uint8_t)op;
		/* fill the whole union with a pattern, then make it valid */
		fill((uint8_t *)&in + offsetof(struct fg_flic2_rx, fv_response1),
		     sizeof(in) - offsetof(struct fg_flic2_rx, fv_response1), 1);
		switch (op) {
		case FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS:
			in.no_slots.n = 3;
			break;
		case FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID:
		case FG_FLIC2_RX_INIT_EVENTS_WITHOUT_BOOT_ID:
			in.init_events.has_queued_events = true;
			in.init_events.has_boot_id = op == FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID;
			in.init_events.timestamp = UINT64_C(0x7fffffffffff);
			if (!in.init_events.has_boot_id)
				in.init_events.boot_id = 0;
			break;
		case FG_FLIC2_RX_BUTTON_EVENTS:
			in.events.n = FG_FLIC2_MAX_EVENT_ITEMS;
			for (int i = 0; i < FG_FLIC2_MAX_EVENT_ITEMS; i++) {
				in.events.items[i].timestamp = UINT64_C(0xffffffffffff) - (uint64_t)i;
				in.events.items[i].code = (uint8_t)(i & 15);
				in.events.items[i].queued = i & 1;
				in.events.items[i].queued_last = i & 2;
			}
			break;
		case FG_FLIC2_RX_NAME_UPDATED:
			in.name.timestamp_ms = 0;
			/* fall through */
		case FG_FLIC2_RX_GET_NAME_RESPONSE:
		case FG_FLIC2_RX_SET_NAME_RESPONSE:
			in.name.len = 23;
			if (op != FG_FLIC2_RX_NAME_UPDATED)
				in.name.timestamp_ms = UINT64_C(0x123456789abc);
			break;
		case FG_FLIC2_RX_CURRENT_TIME:
			in.current_time.time = UINT64_C(0xffffffffffffff);
			break;
		}
		len = fg_flic2_encode_rx(&in, buf, sizeof(buf));
		if (len <= 0)
			fail_msg("opcode %d: encode %d", op, len);
		assert_int_equal(fg_flic2_decode_rx(buf, (size_t)len, &out), 0);
		assert_int_equal(out.trailing, 0);
		switch (op) {
		case FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS:
			assert_int_equal(out.no_slots.n, 3);
			assert_memory_equal(out.no_slots.tmp_ids, in.no_slots.tmp_ids, 12);
			break;
		case FG_FLIC2_RX_BUTTON_EVENTS:
			assert_int_equal(out.events.n, in.events.n);
			assert_int_equal(out.events.press_counter, in.events.press_counter);
			for (int i = 0; i < FG_FLIC2_MAX_EVENT_ITEMS; i++) {
				assert_int_equal(out.events.items[i].timestamp, in.events.items[i].timestamp);
				assert_int_equal(out.events.items[i].code, in.events.items[i].code);
				assert_int_equal(out.events.items[i].queued, in.events.items[i].queued);
				assert_int_equal(out.events.items[i].queued_last, in.events.items[i].queued_last);
			}
			break;
		case FG_FLIC2_RX_NAME_UPDATED:
		case FG_FLIC2_RX_GET_NAME_RESPONSE:
		case FG_FLIC2_RX_SET_NAME_RESPONSE:
			assert_int_equal(out.name.len, 23);
			assert_int_equal(out.name.timestamp_ms, in.name.timestamp_ms);
			assert_memory_equal(out.name.name, in.name.name, 23);
			break;
		case FG_FLIC2_RX_PING_REQUEST:
		case FG_FLIC2_RX_FACTORY_RESET:
		case FG_FLIC2_RX_SET_ADV_PARAMETERS:
			assert_int_equal(len, 1);
			break;
		default: {
			/* fixed layouts: re-encoding the decode gives the same bytes */
			uint8_t again[FG_FLIC2_MAX_PACKET];

			assert_int_equal(fg_flic2_encode_rx(&out, again, sizeof(again)), len);
			assert_memory_equal(again, buf, (size_t)len);
			break;
		}
		}
	}
}

static void test_rx_encode_invalid(void **state)
{
	struct fg_flic2_rx rx = { .opcode = FG_FLIC2_RX_BUTTON_EVENTS };
	uint8_t buf[FG_FLIC2_MAX_PACKET];

	assert_int_equal(fg_flic2_encode_rx(&rx, buf, sizeof(buf)), -EINVAL);	/* 0 items */
	rx.events.n = 17;
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, sizeof(buf)), -EINVAL);
	rx.events.n = 1;
	rx.events.items[0].code = 16;
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, sizeof(buf)), -EINVAL);
	rx.events.items[0].code = 1;
	rx.events.items[0].timestamp = UINT64_C(1) << 48;
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, sizeof(buf)), -EINVAL);
	rx.events.items[0].timestamp = 0;
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, 11), -ENOBUFS);
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, 12), 12);

	memset(&rx, 0, sizeof(rx));
	rx.opcode = FG_FLIC2_RX_GET_NAME_RESPONSE;
	rx.name.len = 24;
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, sizeof(buf)), -EINVAL);
	rx.name.len = 1;
	rx.name.timestamp_ms = UINT64_C(1) << 48;
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, sizeof(buf)), -EINVAL);
	rx.opcode = FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID;
	rx.init_events.timestamp = UINT64_C(1) << 47;
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, sizeof(buf)), -EINVAL);
	rx.opcode = FG_FLIC2_RX_CURRENT_TIME;
	rx.current_time.time = UINT64_C(1) << 56;
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, sizeof(buf)), -EINVAL);
	rx.opcode = FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS;
	rx.no_slots.n = 32;
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, sizeof(buf)), -EINVAL);
	rx.opcode = 26;
	assert_int_equal(fg_flic2_encode_rx(&rx, buf, sizeof(buf)), -EOPNOTSUPP);
}

/* Client packets at hand-written offsets. */
static void test_tx_layouts(void **state)
{
	struct fg_flic2_tx tx;
	uint8_t buf[FG_FLIC2_MAX_PACKET], want[64];

	memset(&tx, 0, sizeof(tx));
	tx.opcode = FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT;
	tx.init_events.event_count = 0x01020304;
	tx.init_events.boot_id = 0x0a0b0c0d;
	tx.init_events.auto_disconnect_s = 511;
	tx.init_events.max_queued_packets = 31;
	tx.init_events.max_queued_age_s = 0xfffff;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 14);
	test_unhex("17 04030201 0d0c0b0a ffffffff03", want, 14);
	assert_memory_equal(buf, want, 14);
	/* the three fields at their bit positions: 0..8, 9..13, 14..33 */
	tx.init_events.auto_disconnect_s = 1;
	tx.init_events.max_queued_packets = 1;
	tx.init_events.max_queued_age_s = 1;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 14);
	test_unhex("01 42 00 00 00", want, 5);	/* 1 | 1 << 9 | 1 << 14 */
	assert_memory_equal(buf + 9, want, 5);
	tx.init_events.max_queued_age_s = 0x80000;	/* bit 33 */
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 14);
	assert_int_equal(buf[13], 0x02);

	memset(&tx, 0, sizeof(tx));
	tx.opcode = FG_FLIC2_TX_QUICK_VERIFY_REQUEST;
	memcpy(tx.qv_request.random, "\xa1\xa2\xa3\xa4\xa5\xa6\xa7", 7);
	tx.qv_request.flags = 0;
	tx.qv_request.tmp_id = 0x01020304;
	tx.qv_request.pairing_id = 0xcafebabe;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 17);
	test_unhex("05 a1a2a3a4a5a6a7 00 04030201 bebafeca", want, 17);
	assert_memory_equal(buf, want, 17);

	memset(&tx, 0, sizeof(tx));
	tx.opcode = FG_FLIC2_TX_SET_CONNECTION_PARAMETERS;
	tx.conn_params.interval_min = 80;
	tx.conn_params.interval_max = 90;
	tx.conn_params.latency = 17;
	tx.conn_params.timeout = 800;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 9);
	test_unhex("0c 5000 5a00 1100 2003", want, 9);
	assert_memory_equal(buf, want, 9);

	memset(&tx, 0, sizeof(tx));
	tx.opcode = FG_FLIC2_TX_FULL_VERIFY_REQUEST_2;
	fill(tx.fv_request2.ecdh_public, 32, 0x10);
	fill(tx.fv_request2.random, 8, 0x40);
	tx.fv_request2.flags = 0x5a;
	fill(tx.fv_request2.verifier, 16, 0x70);
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 58);
	assert_int_equal(buf[0], 2);
	assert_int_equal(buf[1], 0x10);
	assert_int_equal(buf[33], 0x40);
	assert_int_equal(buf[41], 0x5a);
	assert_int_equal(buf[42], 0x70);
	assert_int_equal(buf[57], 0x7f);

	memset(&tx, 0, sizeof(tx));
	tx.opcode = FG_FLIC2_TX_TEST_IF_REALLY_UNPAIRED;
	tx.test_unpaired.pairing_id = 0x11223344;
	fill(tx.test_unpaired.pairing_token, 16, 0x90);
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 61);
	assert_int_equal(fg_flic2_le32(buf + 41), 0x11223344);
	assert_int_equal(buf[45], 0x90);
	assert_int_equal(buf[60], 0x9f);

	tx.opcode = FG_FLIC2_TX_ACK_BUTTON_EVENTS;
	tx.ack.event_count = 0x12345678;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 5);
	test_unhex("10 78563412", want, 5);
	assert_memory_equal(buf, want, 5);
	/* flic2_packets.h SetAutoDisconnectTimeInd: opcode 19, 9 bits + 7 padding */
	memset(&tx, 0, sizeof(tx));
	tx.opcode = FG_FLIC2_TX_SET_AUTO_DISCONNECT_TIME;
	tx.auto_disconnect.seconds = 511;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 3);
	test_unhex("13 ff01", want, 3);
	assert_memory_equal(buf, want, 3);
	tx.auto_disconnect.seconds = 40;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 3);
	test_unhex("13 2800", want, 3);
	assert_memory_equal(buf, want, 3);
	/* the button reads 9 bits: padding bits set by someone else are ignored */
	test_unhex("13 2cfe", want, 3);
	assert_int_equal(fg_flic2_decode_tx(want, 3, &tx), 0);
	assert_int_equal(tx.auto_disconnect.seconds, 0x2c);

	/*
	 * flic2_packets.h SetAdvParametersRequest (packed): opcode 27, bools
	 * is_active, remove_other_pairings_adv_settings, with_short_range,
	 * with_long_range, u16 adv_intervals[2], u32 timeout_seconds; the C
	 * module's values: 1, 0, 1, 0 (HAS_CODED_PHY false), 160, 12800, 86400.
	 */
	memset(&tx, 0, sizeof(tx));
	tx.opcode = FG_FLIC2_TX_SET_ADV_PARAMETERS;
	tx.adv_params.active = true;
	tx.adv_params.short_range = true;
	tx.adv_params.interval[0] = 160;
	tx.adv_params.interval[1] = 12800;
	tx.adv_params.timeout_s = 86400;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 13);
	test_unhex("1b 01 00 01 00 a000 0032 80510100", want, 13);
	assert_memory_equal(buf, want, 13);
	/* flic2lib-android's values: 64 and 1636, same flags and timeout */
	tx.adv_params.interval[0] = 64;
	tx.adv_params.interval[1] = 1636;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 13);
	test_unhex("1b 01 00 01 00 4000 6406 80510100", want, 13);
	assert_memory_equal(buf, want, 13);
}

static void test_tx_roundtrip(void **state)
{
	static const uint8_t ops[] = {
		0, 2, 3, 4, 5, 8, 9, 11, 12, 14, 16, 19, 20, 23, 27,
	};

	for (size_t i = 0; i < sizeof(ops); i++) {
		struct fg_flic2_tx in, out;
		uint8_t buf[FG_FLIC2_MAX_PACKET], again[FG_FLIC2_MAX_PACKET];
		int len;

		memset(&in, 0, sizeof(in));
		fill((uint8_t *)&in.fv_request2, sizeof(in.fv_request2), 0x21);
		in.opcode = ops[i];
		if (in.opcode == FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT) {
			in.init_events.auto_disconnect_s = 300;
			in.init_events.max_queued_packets = 17;
			in.init_events.max_queued_age_s = 0xabcde;
		} else if (in.opcode == FG_FLIC2_TX_SET_AUTO_DISCONNECT_TIME) {
			memset(&in, 0, sizeof(in));
			in.opcode = ops[i];
			in.auto_disconnect.seconds = 300;
		} else if (in.opcode == FG_FLIC2_TX_SET_ADV_PARAMETERS) {
			memset(&in, 0, sizeof(in));
			in.opcode = ops[i];
			in.adv_params.remove_other_pairings = true;
			in.adv_params.long_range = true;
			in.adv_params.interval[0] = FG_FLIC2_ADV_INTERVAL_MIN;
			in.adv_params.interval[1] = FG_FLIC2_ADV_INTERVAL_MAX;
			in.adv_params.timeout_s = 0xfedcba98;
		}
		len = fg_flic2_encode_tx(&in, buf, sizeof(buf));
		assert_true(len > 0);
		assert_non_null(fg_flic2_tx_opcode_to_string(ops[i]));
		assert_int_equal(fg_flic2_decode_tx(buf, (size_t)len, &out), 0);
		assert_int_equal(fg_flic2_encode_tx(&out, again, sizeof(again)), len);
		assert_memory_equal(again, buf, (size_t)len);
		if (len > 1)
			assert_int_equal(fg_flic2_decode_tx(buf, (size_t)len - 1, &out), -EBADMSG);
		/* tiny output buffer */
		assert_int_equal(fg_flic2_encode_tx(&in, buf, (size_t)len - 1), -ENOBUFS);
	}
}

static void test_tx_invalid(void **state)
{
	struct fg_flic2_tx tx = { .opcode = FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT };
	uint8_t buf[FG_FLIC2_MAX_PACKET + 1] = { 0 };

	tx.init_events.auto_disconnect_s = 512;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), -EINVAL);
	tx.init_events.auto_disconnect_s = 0;
	tx.init_events.max_queued_packets = 32;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), -EINVAL);
	tx.init_events.max_queued_packets = 0;
	tx.init_events.max_queued_age_s = 0x100000;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), -EINVAL);
	memset(&tx, 0, sizeof(tx));
	tx.opcode = FG_FLIC2_TX_SET_AUTO_DISCONNECT_TIME;
	tx.auto_disconnect.seconds = 512;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), -EINVAL);
	/* advertising intervals outside the Core spec's 0x20..0x4000 */
	memset(&tx, 0, sizeof(tx));
	tx.opcode = FG_FLIC2_TX_SET_ADV_PARAMETERS;
	tx.adv_params.interval[0] = 0x1f;
	tx.adv_params.interval[1] = 160;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), -EINVAL);
	tx.adv_params.interval[0] = 160;
	tx.adv_params.interval[1] = 0x4001;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), -EINVAL);
	tx.adv_params.interval[1] = 0x4000;
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), 13);
	/* decoding: a flag byte that is no bool, an interval out of range, short */
	buf[3] = 2;
	assert_int_equal(fg_flic2_decode_tx(buf, 13, &tx), -EBADMSG);
	buf[3] = 1;
	assert_int_equal(fg_flic2_decode_tx(buf, 13, &tx), 0);
	fg_flic2_put_le16(buf + 5, 0);
	assert_int_equal(fg_flic2_decode_tx(buf, 13, &tx), -EBADMSG);
	fg_flic2_put_le16(buf + 5, 160);
	assert_int_equal(fg_flic2_decode_tx(buf, 12, &tx), -EBADMSG);

	tx.opcode = 1;		/* not something a client of ours sends */
	assert_int_equal(fg_flic2_encode_tx(&tx, buf, sizeof(buf)), -EOPNOTSUPP);
	assert_null(fg_flic2_tx_opcode_to_string(1));
	buf[0] = 1;
	assert_int_equal(fg_flic2_decode_tx(buf, 5, &tx), -EOPNOTSUPP);
	assert_int_equal(fg_flic2_decode_tx(buf, 0, &tx), -EBADMSG);
	buf[0] = FG_FLIC2_TX_PING_RESPONSE;
	assert_int_equal(fg_flic2_decode_tx(buf, FG_FLIC2_MAX_PACKET + 1, &tx), -EMSGSIZE);
}

static void test_fragment(void **state)
{
	uint8_t pkt[FG_FLIC2_MAX_PACKET];
	uint8_t out[FG_FLIC2_MAX_FRAGMENTS][FG_FLIC2_MAX_WRITE];
	size_t out_len[FG_FLIC2_MAX_FRAGMENTS];

	fill(pkt, sizeof(pkt), 0);
	/* MTU 23: 20-byte writes, 19 packet bytes each */
	assert_int_equal(fg_flic2_fragment(5, pkt, 58, 23, out, out_len), 4);
	assert_int_equal(out_len[0], 20);
	assert_int_equal(out[0][0], 0x85);
	assert_int_equal(out[0][1], 0);
	assert_int_equal(out[1][1], 19);
	assert_int_equal(out[3][0], 0x05);
	assert_int_equal(out_len[3], 2);
	assert_int_equal(out[3][1], 57);
	/* exactly one chunk: no more-bit */
	assert_int_equal(fg_flic2_fragment(0x3f, pkt, 19, 23, out, out_len), 1);
	assert_int_equal(out[0][0], 0x1f);	/* conn id masked to 5 bits */
	assert_int_equal(fg_flic2_fragment(1, pkt, 128, 23, out, out_len), 7);
	/* MTU clamps */
	assert_int_equal(fg_flic2_fragment(1, pkt, 20, 10, out, out_len), 2);
	assert_int_equal(out_len[0], 20);
	assert_int_equal(fg_flic2_fragment(1, pkt, 128, 517, out, out_len), 2);
	assert_int_equal(out_len[0], 127);
	assert_int_equal(out_len[1], 3);
	assert_int_equal(fg_flic2_fragment(1, pkt, 126, 130, out, out_len), 1);
	assert_int_equal(fg_flic2_fragment(1, pkt, 0, 23, out, out_len), -EINVAL);
	assert_int_equal(fg_flic2_fragment(1, pkt, 129, 23, out, out_len), -EINVAL);
}

static void test_reassemble(void **state)
{
	struct fg_flic2_reassembler r;
	const uint8_t *pkt;
	uint8_t header, big[FG_FLIC2_MAX_WRITE];
	size_t len;

	fg_flic2_reassembler_reset(&r);
	assert_int_equal(fg_flic2_reassembler_feed(&r, (const uint8_t *)"\x25\x0f", 2,
						   &header, &pkt, &len), 1);
	assert_int_equal(header, 0x25);
	assert_int_equal(len, 1);
	assert_int_equal(pkt[0], 0x0f);

	assert_int_equal(fg_flic2_reassembler_feed(&r, (const uint8_t *)"\xa5\x01\x02", 3,
						   &header, &pkt, &len), 0);
	assert_int_equal(fg_flic2_reassembler_feed(&r, (const uint8_t *)"\x85\x03", 2,
						   &header, &pkt, &len), 0);
	assert_int_equal(fg_flic2_reassembler_feed(&r, (const uint8_t *)"\x05\x04", 2,
						   &header, &pkt, &len), 1);
	assert_int_equal(header, 0xa5);	/* the first fragment's header */
	assert_int_equal(len, 4);
	assert_memory_equal(pkt, "\x01\x02\x03\x04", 4);

	/* a continuation with another connection id */
	assert_int_equal(fg_flic2_reassembler_feed(&r, (const uint8_t *)"\x85\x01", 2,
						   &header, &pkt, &len), 0);
	assert_int_equal(fg_flic2_reassembler_feed(&r, (const uint8_t *)"\x06\x01", 2,
						   &header, &pkt, &len), -EPROTO);
	assert_false(r.active);
	/* a fragment with no packet byte */
	assert_int_equal(fg_flic2_reassembler_feed(&r, (const uint8_t *)"\x85\x01", 2,
						   &header, &pkt, &len), 0);
	assert_int_equal(fg_flic2_reassembler_feed(&r, (const uint8_t *)"\x05", 1,
						   &header, &pkt, &len), -EBADMSG);
	assert_false(r.active);
	assert_int_equal(fg_flic2_reassembler_feed(&r, NULL, 0, &header, &pkt, &len), -EBADMSG);
	/* more than 128 bytes */
	memset(big, 0, sizeof(big));
	big[0] = 0x85;
	assert_int_equal(fg_flic2_reassembler_feed(&r, big, 127, &header, &pkt, &len), 0);
	assert_int_equal(fg_flic2_reassembler_feed(&r, big, 3, &header, &pkt, &len), 0);
	big[0] = 0x05;
	assert_int_equal(fg_flic2_reassembler_feed(&r, big, 2, &header, &pkt, &len), -EMSGSIZE);
	assert_false(r.active);
	/* after every error a fresh packet goes through */
	assert_int_equal(fg_flic2_reassembler_feed(&r, (const uint8_t *)"\x05\x0f", 2,
						   &header, &pkt, &len), 1);
	assert_int_equal(len, 1);
}

/* fragment() then feed() gives back every packet, for every length and MTU. */
static void test_fragment_reassemble_roundtrip(void **state)
{
	uint8_t pkt[FG_FLIC2_MAX_PACKET];
	uint8_t out[FG_FLIC2_MAX_FRAGMENTS][FG_FLIC2_MAX_WRITE];
	size_t out_len[FG_FLIC2_MAX_FRAGMENTS];
	struct fg_flic2_reassembler r = { 0 };

	for (unsigned mtu = FG_FLIC2_MTU_MIN; mtu <= FG_FLIC2_MTU_MAX; mtu++) {
		for (size_t len = 1; len <= FG_FLIC2_MAX_PACKET; len++) {
			const uint8_t *got = NULL;
			uint8_t header = 0;
			size_t got_len = 0;
			int n;

			fill(pkt, len, (uint8_t)(mtu + len));
			n = fg_flic2_fragment(9, pkt, len, mtu, out, out_len);
			assert_true(n >= 1 && n <= FG_FLIC2_MAX_FRAGMENTS);
			for (int i = 0; i < n; i++) {
				int r2;

				assert_true(out_len[i] <= mtu - 3);
				r2 = fg_flic2_reassembler_feed(&r, out[i], out_len[i],
							       &header, &got, &got_len);
				assert_int_equal(r2, i == n - 1 ? 1 : 0);
			}
			assert_int_equal(header & FG_FLIC2_HDR_CONN_ID_MASK, 9);
			assert_int_equal(got_len, len);
			assert_memory_equal(got, pkt, len);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/flic2-packet/fv-response1-layout", test_fv_response1_layout),
		FG_TEST("/flic2-packet/fv-response2-layout", test_fv_response2_layout),
		FG_TEST("/flic2-packet/rx-length-classes", test_rx_length_classes),
		FG_TEST("/flic2-packet/variable-lengths", test_variable_lengths),
		FG_TEST("/flic2-packet/small-layouts", test_small_layouts),
		FG_TEST("/flic2-packet/rx-roundtrip", test_rx_roundtrip),
		FG_TEST("/flic2-packet/rx-encode-invalid", test_rx_encode_invalid),
		FG_TEST("/flic2-packet/tx-layouts", test_tx_layouts),
		FG_TEST("/flic2-packet/tx-roundtrip", test_tx_roundtrip),
		FG_TEST("/flic2-packet/tx-invalid", test_tx_invalid),
		FG_TEST("/flic2-packet/fragment", test_fragment),
		FG_TEST("/flic2-packet/reassemble", test_reassemble),
		FG_TEST("/flic2-packet/fragment-reassemble-roundtrip", test_fragment_reassemble_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
