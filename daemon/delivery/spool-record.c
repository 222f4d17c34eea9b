/* SPDX-License-Identifier: MIT */
/* The spool journal's record codec: encode, decode and judge records and the
 * journal header on byte buffers; the file I/O is spool.c's. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/spool-record.h"

#define SLOT FG_SPOOL_SLOT
#define HDR FG_SPOOL_RECORD_HEADER
#define JOURNAL_MAGIC "flicgate-spool 2\n"
#define JOURNAL_FAMILY "flicgate-spool "
#define RECORD_MAGIC "FGSR"
#define RECORD_VERSION 1

/* CRC-32 as in zlib and Ethernet (reflected 0xEDB88320), so tools can check records. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	static uint32_t table[256];

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * Header, little-endian:
 *   0  "FGSR"          4  u16 version   6  u16 target length
 *   8  u32 length of target + text      12 u32 CRC-32 of all the rest
 *  16  u64 sequence    24  u64 zero (reserved)
 * The CRC covers bytes 0..11, then 16 to the end of the text.
 * The header holds zero bytes that the alert text (escaped, no control
 * bytes but newline) never does, so a record cannot hide inside another.
 */
static uint32_t record_crc(const uint8_t *rec, size_t payload)
{
	return crc32_update(crc32_update(0, rec, 12), rec + 16, HDR - 16 + payload);
}

int fg_spool_record_encode(uint64_t seq, const char *target, const char *text, size_t len,
			   uint8_t **ret_buf, size_t *ret_n_slots)
{
	size_t tlen = strlen(target), payload = tlen + len, n;
	uint8_t *b;

	if (tlen == 0 || tlen > UINT16_MAX || HDR + payload > FG_SPOOL_RECORD_MAX)
		return -EINVAL;
	n = fg_spool_record_slots(HDR + payload);
	b = calloc(n, SLOT);
	if (!b)
		return -ENOMEM;
	memcpy(b, RECORD_MAGIC, 4);
	put_le(b + 4, RECORD_VERSION, 2);
	put_le(b + 6, tlen, 2);
	put_le(b + 8, payload, 4);
	put_le(b + 16, seq, 8);
	memcpy(b + HDR, target, tlen);
	memcpy(b + HDR + tlen, text, len);
	put_le(b + 12, record_crc(b, payload), 4);
	*ret_buf = b;
	*ret_n_slots = n;
	return 0;
}

int fg_spool_record_decode(const uint8_t *buf, size_t avail, struct fg_spool_record *ret)
{
	size_t tlen, payload;

	if (avail < HDR || memcmp(buf, RECORD_MAGIC, 4) != 0 ||
	    get_le(buf + 4, 2) != RECORD_VERSION || get_le(buf + 24, 8) != 0)
		return -EBADMSG;
	tlen = get_le(buf + 6, 2);
	payload = get_le(buf + 8, 4);
	if (tlen == 0 || tlen > payload || payload > FG_SPOOL_RECORD_MAX - HDR ||
	    HDR + payload > avail)
		return -EBADMSG;
	if (record_crc(buf, payload) != (uint32_t)get_le(buf + 12, 4))
		return -EBADMSG;
	*ret = (struct fg_spool_record){
		.seq = get_le(buf + 16, 8),
		.target = (const char *)buf + HDR,
		.target_len = tlen,
		.text = (const char *)buf + HDR + tlen,
		.text_len = payload - tlen,
		.size = HDR + payload,
	};
	return 0;
}

size_t fg_spool_record_wanted(const uint8_t *head, size_t n, size_t avail)
{
	size_t want;

	if (n < HDR || memcmp(head, RECORD_MAGIC, 4) != 0)
		return 0;
	/* a record longer than a slot: all of it, bounded by the codec's maximum */
	want = HDR + (size_t)get_le(head + 8, 4);
	if (want > SLOT && want <= FG_SPOOL_RECORD_MAX && want <= avail)
		return want;
	return n;
}

void fg_spool_journal_header(uint8_t *buf)
{
	snprintf((char *)buf, SLOT, "%sslot %d\n", JOURNAL_MAGIC, SLOT);
}

int fg_spool_journal_check(const char *head, size_t n)
{
	size_t fam = strlen(JOURNAL_FAMILY), magic = strlen(JOURNAL_MAGIC);

	if (n >= fam && strncmp(head, JOURNAL_FAMILY, fam) == 0 &&
	    (n < magic || strncmp(head, JOURNAL_MAGIC, magic) != 0))
		return -EPROTONOSUPPORT;
	return 0;
}

int fg_spool_dead_name_seq(const char *name, uint64_t *ret_seq)
{
	const char *dot = strstr(name, ".alert"), *dash;
	uint64_t seq;

	if (!dot)
		return -ENOENT;
	for (dash = dot; dash > name && dash[-1] != '-'; dash--)
		;
	if (dot - dash == 16 && sscanf(dash, "%16" SCNx64, &seq) == 1) {
		*ret_seq = seq;
		return 1;
	}
	return 0;
}
