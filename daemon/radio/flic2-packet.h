/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Flic 2 wire format: GATT framing (one header byte per notification or
 * write, fragmentation by ATT MTU, reassembly) and the byte layout of every
 * opcode, in both directions, with strict length checks. Pure functions over
 * caller buffers; docs/flic2.md has the tables.
 *
 * A "packet" is opcode || payload [|| 5-byte MAC]; it travels in one or
 * more "fragments", each a 1-byte frame header followed by packet bytes.
 * All integers are little endian.
 */

#define FG_FLIC2_MTU_MIN 23		/* the BLE default ATT_MTU */
#define FG_FLIC2_MTU_MAX 130		/* larger MTUs are used as 130 */
#define FG_FLIC2_MAX_PACKET 128		/* reassembled packet, MAC included */
#define FG_FLIC2_MAX_WRITE (FG_FLIC2_MTU_MAX - 3)	/* ATT payload: header + 126 */
#define FG_FLIC2_MAX_FRAGMENTS 7	/* 128 bytes at the minimum MTU */
#define FG_FLIC2_MAC_LEN 5
#define FG_FLIC2_NAME_MAX 23		/* bytes of UTF-8 */
#define FG_FLIC2_SERIAL_LEN 11
#define FG_FLIC2_MAX_EVENT_ITEMS 16	/* what fits in 128 bytes with a MAC */

/* Frame header byte */
#define FG_FLIC2_HDR_CONN_ID_MASK 0x1f	/* logical connection id, 0 = none yet */
#define FG_FLIC2_HDR_NEWLY_ASSIGNED 0x20	/* button -> client: id assigned now */
#define FG_FLIC2_HDR_MORE 0x80		/* more fragments of this packet follow */

/* Client -> button opcodes (the ones this client sends). */
enum fg_flic2_tx_opcode {
	FG_FLIC2_TX_FULL_VERIFY_REQUEST_1 = 0,
	FG_FLIC2_TX_FULL_VERIFY_REQUEST_2 = 2,	/* "without app token" */
	FG_FLIC2_TX_FULL_VERIFY_ABORT = 3,
	FG_FLIC2_TX_TEST_IF_REALLY_UNPAIRED = 4,
	FG_FLIC2_TX_QUICK_VERIFY_REQUEST = 5,
	FG_FLIC2_TX_GET_FIRMWARE_VERSION = 8,
	FG_FLIC2_TX_DISCONNECT_VERIFIED_LINK = 9,
	FG_FLIC2_TX_GET_NAME = 11,
	FG_FLIC2_TX_SET_CONNECTION_PARAMETERS = 12,
	FG_FLIC2_TX_PING_RESPONSE = 14,
	FG_FLIC2_TX_ACK_BUTTON_EVENTS = 16,
	FG_FLIC2_TX_SET_AUTO_DISCONNECT_TIME = 19,
	FG_FLIC2_TX_GET_BATTERY_LEVEL = 20,
	FG_FLIC2_TX_INIT_BUTTON_EVENTS_LIGHT = 23,
	FG_FLIC2_TX_SET_ADV_PARAMETERS = 27,
};

/* Button -> client opcodes: all of them are length-checked. */
enum fg_flic2_rx_opcode {
	FG_FLIC2_RX_FULL_VERIFY_RESPONSE_1 = 0,
	FG_FLIC2_RX_FULL_VERIFY_RESPONSE_2 = 1,
	FG_FLIC2_RX_NO_LOGICAL_CONNECTION_SLOTS = 2,
	FG_FLIC2_RX_FULL_VERIFY_FAIL = 3,
	FG_FLIC2_RX_TEST_IF_REALLY_UNPAIRED = 4,
	FG_FLIC2_RX_FIRMWARE_VERSION = 5,
	FG_FLIC2_RX_QUICK_VERIFY_NEGATIVE = 6,
	FG_FLIC2_RX_PAIRING_FINISHED = 7,
	FG_FLIC2_RX_QUICK_VERIFY_RESPONSE = 8,
	FG_FLIC2_RX_DISCONNECTED_VERIFIED_LINK = 9,
	FG_FLIC2_RX_INIT_EVENTS_WITH_BOOT_ID = 10,
	FG_FLIC2_RX_INIT_EVENTS_WITHOUT_BOOT_ID = 11,
	FG_FLIC2_RX_BUTTON_EVENTS = 12,
	FG_FLIC2_RX_API_TIMER = 13,
	FG_FLIC2_RX_NAME_UPDATED = 14,
	FG_FLIC2_RX_PING_REQUEST = 15,
	FG_FLIC2_RX_GET_NAME_RESPONSE = 16,
	FG_FLIC2_RX_SET_NAME_RESPONSE = 17,
	FG_FLIC2_RX_START_FIRMWARE_UPDATE = 18,
	FG_FLIC2_RX_FIRMWARE_UPDATE_NOTIFICATION = 19,
	FG_FLIC2_RX_BATTERY_LEVEL = 20,
	FG_FLIC2_RX_SERVICES_CHANGED = 21,
	FG_FLIC2_RX_FACTORY_RESET = 22,
	FG_FLIC2_RX_CURRENT_TIME = 23,
	FG_FLIC2_RX_DEVICE_ID = 24,
	FG_FLIC2_RX_SET_ADV_PARAMETERS = 25,
	_FG_FLIC2_RX_OPCODE_MAX,
};

/* FullVerifyResponse1 flags */
#define FG_FLIC2_FV1_LINK_ENCRYPTED 0x01
#define FG_FLIC2_FV1_PUBLIC_MODE 0x02
#define FG_FLIC2_FV1_HAS_BOND_INFO 0x04
/* FullVerifyResponse2 flags */
#define FG_FLIC2_FV2_APP_CREDENTIALS_MATCH 0x01
#define FG_FLIC2_FV2_CARES_ABOUT_APP_CREDENTIALS 0x02
#define FG_FLIC2_FV2_IS_DUO 0x04
/* FullVerifyFailResponse reasons */
#define FG_FLIC2_FV_FAIL_INVALID_VERIFIER 0
#define FG_FLIC2_FV_FAIL_NOT_IN_PUBLIC_MODE 1
/* DisconnectedVerifiedLinkInd reasons */
#define FG_FLIC2_LINK_PING_TIMEOUT 0
#define FG_FLIC2_LINK_INVALID_SIGNATURE 1
#define FG_FLIC2_LINK_NEW_SESSION_SAME_PAIRING 2
#define FG_FLIC2_LINK_BY_USER 3

/* One item of a ButtonEventNotification (7 bytes on the wire). */
struct fg_flic2_event_item {
	uint64_t timestamp;		/* 48 bits, button clock, 32768 Hz */
	uint8_t code;			/* 4 bits; see docs/flic2.md */
	bool queued;			/* happened before this session */
	bool queued_last;		/* last of the queued ones */
};

/* A decoded button -> client packet. Fields outside the opcode's member are unset. */
struct fg_flic2_rx {
	uint8_t opcode;			/* enum fg_flic2_rx_opcode */
	size_t trailing;		/* bytes after the layout, ignored (spec: forward compatible) */
	union {
		struct {
			uint32_t tmp_id;
			uint8_t signature[64];
			uint8_t address[6];	/* little endian, as on the wire */
			uint8_t address_type;	/* 0 public, 1 random */
			uint8_t ecdh_public[32];
			uint8_t random[8];
			uint8_t flags;		/* FG_FLIC2_FV1_* */
		} fv_response1;
		struct {
			uint8_t flags;		/* FG_FLIC2_FV2_* */
			uint8_t uuid[16];
			uint8_t name_len;	/* as sent; the engine clamps to 23 */
			uint8_t name[FG_FLIC2_NAME_MAX];
			uint32_t firmware_version;
			uint16_t battery_level;	/* ADC units: mV = level * 3600 / 1024 */
			uint8_t serial[FG_FLIC2_SERIAL_LEN];
		} fv_response2;
		struct {
			size_t n;
			uint32_t tmp_ids[(FG_FLIC2_MAX_PACKET - 1) / 4];
		} no_slots;
		struct {
			uint8_t reason;
		} fv_fail;
		struct {
			uint8_t result[16];
		} test_unpaired;
		struct {
			uint32_t version;
		} firmware;
		struct {
			uint32_t tmp_id;
		} qv_negative;
		struct {
			uint8_t flags;
			uint8_t reason;
		} pairing_finished;
		struct {
			uint8_t random[8];
			uint32_t tmp_id;
			uint8_t flags;
		} qv_response;
		struct {
			uint8_t reason;		/* FG_FLIC2_LINK_* */
		} link_closed;
		struct {
			bool has_queued_events;
			bool has_boot_id;	/* opcode 10 */
			uint64_t timestamp;	/* 47 bits, button clock */
			uint32_t event_count;
			uint32_t boot_id;	/* 0 unless has_boot_id */
		} init_events;
		struct {
			uint32_t press_counter;	/* event counter of the last item */
			size_t n;
			struct fg_flic2_event_item items[FG_FLIC2_MAX_EVENT_ITEMS];
		} events;
		struct {
			uint32_t message;
		} api_timer;
		struct {
			uint64_t timestamp_ms;	/* 48 bits; 0 for NameUpdated */
			size_t len;
			uint8_t name[FG_FLIC2_NAME_MAX];
		} name;
		struct {
			uint16_t level;
		} battery;
		struct {
			int32_t value;		/* StartFirmwareUpdate/FirmwareUpdateNotification */
		} firmware_update;
		struct {
			uint8_t reason;
		} services_changed;
		struct {
			uint64_t time;		/* 56 bits */
		} current_time;
		struct {
			uint8_t id[8];
		} device_id;
	};
};

/* A client -> button packet before encoding (MAC not included). */
struct fg_flic2_tx {
	uint8_t opcode;			/* enum fg_flic2_tx_opcode */
	union {
		struct {
			uint32_t tmp_id;
		} fv_request1;
		struct {
			uint8_t ecdh_public[32];
			uint8_t random[8];
			uint8_t flags;		/* 0: variants 0, no app token, no Duo */
			uint8_t verifier[16];
		} fv_request2;
		struct {
			uint8_t ecdh_public[32];
			uint8_t random[8];
			uint32_t pairing_id;
			uint8_t pairing_token[16];
		} test_unpaired;
		struct {
			uint8_t random[7];
			uint8_t flags;		/* 0: variants 0, no Duo */
			uint32_t tmp_id;
			uint32_t pairing_id;
		} qv_request;
		struct {
			uint16_t interval_min;	/* 1.25 ms units */
			uint16_t interval_max;
			uint16_t latency;
			uint16_t timeout;	/* 10 ms units */
		} conn_params;
		struct {
			uint32_t event_count;
		} ack;
		struct {
			uint32_t event_count;
			uint32_t boot_id;
			uint16_t auto_disconnect_s;	/* 9 bits; 511 = never */
			uint8_t max_queued_packets;	/* 5 bits; 31 = no limit */
			uint32_t max_queued_age_s;	/* 20 bits; 0xfffff = no limit */
		} init_events;
		struct {
			uint16_t seconds;	/* 9 bits; 511 = never */
		} auto_disconnect;
		struct {
			bool active;
			bool remove_other_pairings;	/* drop other apps' settings */
			bool short_range;	/* advertise on the 1M PHY */
			bool long_range;	/* advertise on the coded PHY */
			uint16_t interval[2];	/* 0.625 ms units, 0x20..0x4000 */
			uint32_t timeout_s;
		} adv_params;
	};
};

/* Packet sizes without MAC */
#define FG_FLIC2_LEN_FV_REQUEST1 5
#define FG_FLIC2_LEN_FV_REQUEST2 58
#define FG_FLIC2_LEN_TEST_UNPAIRED 61
#define FG_FLIC2_LEN_QV_REQUEST 17
#define FG_FLIC2_LEN_CONN_PARAMS 9
#define FG_FLIC2_LEN_ACK 5
#define FG_FLIC2_LEN_INIT_EVENTS 14
#define FG_FLIC2_LEN_AUTO_DISCONNECT 3
#define FG_FLIC2_LEN_ADV_PARAMS 13
/* Core spec, LE Set Advertising Parameters: the advertising interval range */
#define FG_FLIC2_ADV_INTERVAL_MIN 0x20
#define FG_FLIC2_ADV_INTERVAL_MAX 0x4000
#define FG_FLIC2_LEN_FV_RESPONSE1 117
#define FG_FLIC2_LEN_FV_RESPONSE2 59
#define FG_FLIC2_LEN_QV_RESPONSE 14
#define FG_FLIC2_LEN_EVENT_ITEM 7

/*
 * Decode a button -> client packet of @len bytes (MAC already removed).
 * Returns 0, -EBADMSG when shorter than the opcode's layout (or empty),
 * -EMSGSIZE when longer than the protocol allows (a name over 23 bytes,
 * more than 16 event items, a packet over 128 bytes), -EOPNOTSUPP for an
 * unknown opcode. Bytes after a fixed layout are accepted and counted in
 * ret->trailing: the specification reserves them for future extensions.
 * *ret is written only on success.
 */
int fg_flic2_decode_rx(const uint8_t *pkt, size_t len, struct fg_flic2_rx *ret);

/*
 * Encode a button -> client packet (the button side; used by tests and the
 * fuzz harnesses to play a button). Returns the length or -ENOBUFS,
 * -EINVAL (field out of range), -EOPNOTSUPP.
 */
int fg_flic2_encode_rx(const struct fg_flic2_rx *rx, uint8_t *out, size_t size);

/* Encode a client -> button packet; returns the length or -ENOBUFS/-EINVAL/-EOPNOTSUPP. */
int fg_flic2_encode_tx(const struct fg_flic2_tx *tx, uint8_t *out, size_t size);

/*
 * Decode a client -> button packet (the button side); same errors as
 * decode_rx, and -EBADMSG for a SetAdvParametersRequest flag byte other
 * than 0 or 1 or an interval out of range.
 */
int fg_flic2_decode_tx(const uint8_t *pkt, size_t len, struct fg_flic2_tx *ret);

/* Opcode names for logs ("FullVerifyResponse1"); NULL if unknown. */
const char *fg_flic2_rx_opcode_to_string(uint8_t opcode);
const char *fg_flic2_tx_opcode_to_string(uint8_t opcode);

/* Reassembly of fragments into packets. Plain data; zero-init or reset. */
struct fg_flic2_reassembler {
	uint8_t buf[FG_FLIC2_MAX_PACKET];
	size_t len;
	bool active;			/* a packet is partly received */
	uint8_t header;			/* header byte of its first fragment */
};

void fg_flic2_reassembler_reset(struct fg_flic2_reassembler *r);

/*
 * Feed one notification (header byte + packet bytes). Returns 1 when a
 * packet is complete: *ret_header is the header of its first fragment and
 * *ret_pkt and *ret_len point into @r (valid until the next feed or reset).
 * Returns 0 when more fragments are expected. Errors, after which the
 * partial packet is dropped: -EBADMSG for a notification without packet
 * bytes, -EMSGSIZE when the packet would exceed 128 bytes, -EPROTO when a
 * continuation carries another connection id than its first fragment.
 */
int fg_flic2_reassembler_feed(struct fg_flic2_reassembler *r, const uint8_t *data,
			      size_t len, uint8_t *ret_header,
			      const uint8_t **ret_pkt, size_t *ret_len);

/*
 * Split @pkt into ATT writes for @mtu (clamped to 23..130): each write is
 * a header byte (@conn_id, plus FG_FLIC2_HDR_MORE on all but the last)
 * followed by at most mtu - 4 packet bytes. Returns the number of writes
 * (1..7) or -EINVAL for an empty or oversized packet.
 */
int fg_flic2_fragment(uint8_t conn_id, const uint8_t *pkt, size_t len, unsigned mtu,
		      uint8_t out[FG_FLIC2_MAX_FRAGMENTS][FG_FLIC2_MAX_WRITE],
		      size_t out_len[FG_FLIC2_MAX_FRAGMENTS]);

/* Little-endian helpers shared with the engine. */
static inline uint16_t fg_flic2_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t fg_flic2_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void fg_flic2_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void fg_flic2_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
