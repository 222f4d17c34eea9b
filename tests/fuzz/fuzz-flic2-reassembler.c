/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "radio/flic2-packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Fragment reassembly on any notification sequence (input: length byte,
 * then that many bytes, repeated): completed packets are 1..128 bytes and
 * errors leave the reassembler idle. Then fragmentation round trip: the
 * input's first byte picks an MTU, the rest is a packet; its fragments must
 * fit the MTU, carry the more-bit on all but the last, and reassemble to
 * exactly the packet.
 */
static void feed_sequence(const uint8_t *data, size_t size)
{
	struct fg_flic2_reassembler r;
	size_t pos = 0;

	fg_flic2_reassembler_reset(&r);
	while (pos < size) {
		size_t n = data[pos++];
		const uint8_t *pkt;
		uint8_t header;
		size_t len;
		int ret;

		if (n > size - pos)
			n = size - pos;
		ret = fg_flic2_reassembler_feed(&r, data + pos, n, &header, &pkt, &len);
		pos += n;
		if (ret == 1) {
			if (len == 0 || len > FG_FLIC2_MAX_PACKET || pkt != r.buf || r.active)
				abort();
		} else if (ret == 0) {
			if (!r.active || r.len > FG_FLIC2_MAX_PACKET)
				abort();
		} else if (r.active || r.len != 0) {
			abort();
		}
	}
}

static void roundtrip(const uint8_t *data, size_t size)
{
	uint8_t out[FG_FLIC2_MAX_FRAGMENTS][FG_FLIC2_MAX_WRITE];
	size_t out_len[FG_FLIC2_MAX_FRAGMENTS];
	struct fg_flic2_reassembler r = { 0 };
	const uint8_t *pkt = NULL;
	unsigned mtu, chunk;
	uint8_t header = 0, conn;
	size_t len = 0;
	int n;

	if (size < 3)
		return;
	mtu = data[0];
	conn = data[1];
	data += 2;
	size -= 2;
	n = fg_flic2_fragment(conn, data, size, mtu, out, out_len);
	if (size == 0 || size > FG_FLIC2_MAX_PACKET) {
		if (n != -EINVAL)
			abort();
		return;
	}
	mtu = mtu < FG_FLIC2_MTU_MIN ? FG_FLIC2_MTU_MIN : mtu > FG_FLIC2_MTU_MAX ? FG_FLIC2_MTU_MAX : mtu;
	chunk = mtu - 4;
	if (n != (int)((size + chunk - 1) / chunk))
		abort();
	for (int i = 0; i < n; i++) {
		int ret;

		if (out_len[i] < 2 || out_len[i] > mtu - 3 ||
		    (out[i][0] & FG_FLIC2_HDR_CONN_ID_MASK) != (conn & FG_FLIC2_HDR_CONN_ID_MASK) ||
		    !!(out[i][0] & FG_FLIC2_HDR_MORE) != (i < n - 1))
			abort();
		ret = fg_flic2_reassembler_feed(&r, out[i], out_len[i], &header, &pkt, &len);
		if (ret != (i == n - 1 ? 1 : 0))
			abort();
	}
	if (len != size || memcmp(pkt, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	feed_sequence(data, size);
	roundtrip(data, size);
	return 0;
}
