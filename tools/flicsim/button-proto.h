/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Building blocks of the Flic 2 protocol, seen from the button: framing,
 * identity certificate, key derivation and packet MACs. Pure functions over
 * bytes; the session state machine lives in button.c. Written for the
 * simulator only, independently of the daemon's client-side code, from the
 * public sources listed in docs/simulator.md.
 */

/* Client -> button opcodes. */
#define FS_OP_FULL_VERIFY_REQUEST_1		0
#define FS_OP_FULL_VERIFY_REQUEST_2_WITH_TOKEN	1
#define FS_OP_FULL_VERIFY_REQUEST_2		2
#define FS_OP_FULL_VERIFY_ABORT_IND		3
#define FS_OP_TEST_IF_REALLY_UNPAIRED_REQUEST	4
#define FS_OP_QUICK_VERIFY_REQUEST		5
#define FS_OP_FORCE_BT_DISCONNECT_IND		6
#define FS_OP_GET_FIRMWARE_VERSION_REQUEST	8
#define FS_OP_DISCONNECT_VERIFIED_LINK_IND	9
#define FS_OP_SET_NAME_REQUEST			10
#define FS_OP_GET_NAME_REQUEST			11
#define FS_OP_SET_CONNECTION_PARAMETERS_IND	12
#define FS_OP_PING_RESPONSE			14
#define FS_OP_INIT_BUTTON_EVENTS_REQUEST	15
#define FS_OP_ACK_BUTTON_EVENTS_IND		16
#define FS_OP_SET_AUTO_DISCONNECT_TIME_IND	19
#define FS_OP_GET_BATTERY_LEVEL_REQUEST		20
#define FS_OP_INIT_BUTTON_EVENTS_LIGHT_REQUEST	23
#define FS_OP_FACTORY_RESET_REQUEST		24
#define FS_OP_SET_ADV_PARAMETERS_REQUEST	27

/* Button -> client opcodes. */
#define FS_RSP_FULL_VERIFY_RESPONSE_1		0
#define FS_RSP_FULL_VERIFY_RESPONSE_2		1
#define FS_RSP_NO_LOGICAL_CONNECTION_SLOTS_IND	2
#define FS_RSP_FULL_VERIFY_FAIL_RESPONSE	3
#define FS_RSP_TEST_IF_REALLY_UNPAIRED_RESPONSE	4
#define FS_RSP_GET_FIRMWARE_VERSION_RESPONSE	5
#define FS_RSP_QUICK_VERIFY_NEGATIVE_RESPONSE	6
#define FS_RSP_QUICK_VERIFY_RESPONSE		8
#define FS_RSP_DISCONNECTED_VERIFIED_LINK_IND	9
#define FS_RSP_INIT_BUTTON_EVENTS_WITH_BOOT_ID	10
#define FS_RSP_INIT_BUTTON_EVENTS_WITHOUT_BOOT_ID 11
#define FS_RSP_BUTTON_EVENT_NOTIFICATION	12
#define FS_RSP_PING_REQUEST			15
#define FS_RSP_GET_NAME_RESPONSE		16
#define FS_RSP_SET_NAME_RESPONSE		17
#define FS_RSP_GET_BATTERY_LEVEL_RESPONSE	20
#define FS_RSP_FACTORY_RESET_RESPONSE		22
#define FS_RSP_SET_ADV_PARAMETERS_RESPONSE	25

/* FullVerifyFailResponse reasons, DisconnectedVerifiedLinkInd reasons. */
#define FS_FAIL_INVALID_VERIFIER	0
#define FS_FAIL_NOT_IN_PUBLIC_MODE	1
#define FS_DISCONNECT_PING_TIMEOUT	0
#define FS_DISCONNECT_INVALID_SIGNATURE	1
#define FS_DISCONNECT_NEW_SAME_PAIRING	2
#define FS_DISCONNECT_BY_USER		3

/* Frame header bits: logical connection id, newly assigned, more fragments. */
#define FS_FRAME_CONN_ID_MASK	0x1f
#define FS_FRAME_NEWLY_ASSIGNED	0x20
#define FS_FRAME_MORE		0x80

/* Largest reassembled packet (opcode .. MAC) either side accepts. */
#define FS_MAX_PACKET 128

/* Button event encodings (4 bits) in ButtonEventNotification items. */
#define FS_EVT_UP		0
#define FS_EVT_DOWN		1
#define FS_EVT_SINGLE_TIMEOUT	2
#define FS_EVT_HOLD		3
#define FS_EVT_HOLD_SECOND	7	/* hold during the second press */
#define FS_EVT_UP_CLICK		8	/* released, single or double pending */
#define FS_EVT_UP_SINGLE	10
#define FS_EVT_UP_DOUBLE	11
#define FS_EVT_UP_AFTER_HOLD	14	/* released after hold: single */
#define FS_EVT_UP_DOUBLE_HOLD	15	/* second press held: double */

/* Clock of the button's event timestamps. */
#define FS_BUTTON_TICKS_PER_SEC 32768

struct fs_rx_frame {
	uint8_t buf[FS_MAX_PACKET];
	size_t len;
	bool active;
};

/*
 * Feeds one ATT value written by the client. Returns 1 and points
 * *ret_packet (into @f or @att, valid until the next call) at a whole
 * packet, 0 when more fragments are expected, -EBADMSG when the frame is
 * empty or the reassembled packet would exceed FS_MAX_PACKET (state reset).
 */
int fs_frame_feed(struct fs_rx_frame *f, const uint8_t *att, size_t len,
		  uint8_t *ret_conn_id, const uint8_t **ret_packet,
		  size_t *ret_len);

/*
 * Splits @packet into ATT values for @mtu (payload mtu - 3; each fragment
 * carries a header byte). Calls @emit for each; stops at its first error.
 */
typedef int (*fs_fragment_fn)(const uint8_t *att, size_t len, bool last,
			      void *userdata);
int fs_frame_split(uint8_t header, const uint8_t *packet, size_t len,
		   uint16_t mtu, fs_fragment_fn emit, void *userdata);

/*
 * The button's static identity: an X25519 key pair and the certificate
 * (Ed25519 signature over address(6, least significant byte first) ||
 * address type(1) || X25519 public key(32)). Real buttons carry Flic's
 * signature; the simulator signs with the TEST key, or with an unknown key
 * when !genuine. variant = the two low bits of the signature's S, which the
 * button never sends (they are replaced by random bits on air) and which
 * enter the key derivation.
 */
struct fs_identity {
	uint8_t addr_le[6];
	uint8_t ecdh_private[32];
	uint8_t ecdh_public[32];
	uint8_t signature[64];
	uint8_t variant;
};

/* Public half of the TEST identity key, for logs and docs. */
extern const char fs_test_identity_public_hex[];

/* @addr is in display order (AA:BB:.. -> {0xAA, 0xBB, ..}). 0 or -errno. */
int fs_identity_make(struct fs_identity *id, const uint8_t addr[6],
		     bool genuine);

/* X25519(@private, @peer). -EINVAL for a low-order peer key. */
int fs_x25519(const uint8_t private_key[32], const uint8_t peer[32],
	      uint8_t ret_shared[32]);

/*
 * fullVerifySecret = SHA-256(shared || variant || button random(8) ||
 * client random(8) || client flags byte).
 */
void fs_full_verify_secret(const uint8_t shared[32], uint8_t variant,
			   const uint8_t button_random[8],
			   const uint8_t client_random[8], uint8_t flags,
			   uint8_t ret[32]);

/* HMAC-SHA-256(@key32, @label || @extra). */
void fs_hmac_label(const uint8_t key[32], const char *label,
		   const uint8_t *extra, size_t extra_len, uint8_t ret[32]);

/* Fills @buf with @len random bytes (OpenSSL RAND). */
void fs_random(void *buf, size_t len);

static inline void fs_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void fs_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline uint32_t fs_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t fs_le48(const uint8_t *p)
{
	return (uint64_t)fs_le32(p) | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40;
}

static inline void fs_put_le48(uint8_t *p, uint64_t v)
{
	fs_put_le32(p, (uint32_t)v);
	p[4] = v >> 32;
	p[5] = v >> 40;
}

/* "01ab…" style short hex of a secret for logs (first 2 bytes). */
const char *fs_short_hex(const uint8_t *p, size_t len, char buf[16]);
