/* SPDX-License-Identifier: MIT */
/* The spool's record codec (spool-record.c) on byte buffers: the layout of
 * docs/alerts.md field by field, and every way a record can be damaged. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fg-test.h"
#include "delivery/spool-record.h"

#define HDR FG_SPOOL_RECORD_HEADER

/* The zlib CRC-32, written independently of the codec's. */
static uint32_t crc32_ref(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
	}
	return ~crc;
}

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Re-seal a hand-edited record with a correct CRC, as a buggy writer would. */
static void reseal(uint8_t *rec)
{
	size_t payload = le(rec + 8, 4);
	uint32_t crc = crc32_ref(crc32_ref(0, rec, 12), rec + 16, HDR - 16 + payload);

	put(rec + 12, crc, 4);
}

static void test_layout(void **state)
{
	static const char text[] = "flicgate-alert 1\nid=x\nend\n";
	struct fg_spool_record r;
	uint8_t *rec;
	size_t k, n = strlen(text);

	assert_int_equal(fg_spool_record_encode(UINT64_C(0x0102030405060708), "alertops", text, n,
						&rec, &k), 0);
	assert_int_equal(k, 1);
	assert_memory_equal(rec, "FGSR", 4);
	assert_int_equal(le(rec + 4, 2), 1);			/* version */
	assert_int_equal(le(rec + 6, 2), 8);			/* target length */
	assert_int_equal(le(rec + 8, 4), 8 + n);		/* target + text */
	assert_int_equal(le(rec + 16, 8), UINT64_C(0x0102030405060708));
	assert_int_equal(le(rec + 24, 8), 0);			/* reserved */
	assert_memory_equal(rec + HDR, "alertops", 8);
	assert_memory_equal(rec + HDR + 8, text, n);
	/* the CRC is zlib's over bytes 0..11 and 16 to the end of the text */
	assert_int_equal(le(rec + 12, 4),
			 crc32_ref(crc32_ref(0, rec, 12), rec + 16, HDR - 16 + 8 + n));
	/* zero padding to the slot's end */
	for (size_t i = HDR + 8 + n; i < FG_SPOOL_SLOT; i++)
		assert_int_equal(rec[i], 0);

	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), 0);
	assert_int_equal(r.seq, UINT64_C(0x0102030405060708));
	assert_int_equal(r.target_len, 8);
	assert_memory_equal(r.target, "alertops", 8);
	assert_ptr_equal(r.target, (const char *)rec + HDR);
	assert_int_equal(r.text_len, n);
	assert_memory_equal(r.text, text, n);
	assert_int_equal(r.size, HDR + 8 + n);
	free(rec);
}

/* The codec refuses what it did not write, whatever the bytes. */
static void test_bit_flips(void **state)
{
	struct fg_spool_record r;
	uint8_t *rec;
	size_t k;

	assert_int_equal(fg_spool_record_encode(7, "t", "hello\n", 6, &rec, &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), 0);
	assert_int_equal(r.seq, 7);
	assert_int_equal(r.size, HDR + 7);
	assert_memory_equal(r.text, "hello\n", 6);
	assert_int_equal(fg_spool_record_decode(rec, r.size - 1, &r), -EBADMSG);
	/* every single bit flip in the record is caught */
	for (size_t i = 0; i < HDR + 7; i++)
		for (int b = 0; b < 8; b++) {
			rec[i] ^= (uint8_t)(1 << b);
			assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), -EBADMSG);
			rec[i] ^= (uint8_t)(1 << b);
		}
	free(rec);
	assert_int_equal(fg_spool_record_encode(7, "", "x", 1, &rec, &k), -EINVAL);
}

/* Cut short anywhere (a torn write, a short file): refused, never over-read. */
static void test_truncated(void **state)
{
	struct fg_spool_record r;
	uint8_t *rec;
	size_t k, size;

	assert_int_equal(fg_spool_record_encode(3, "slack", "abc\n", 4, &rec, &k), 0);
	size = HDR + 5 + 4;
	for (size_t avail = 0; avail < size; avail++) {
		/* an exact-size copy, so a sanitizer sees any read past it */
		uint8_t *copy = malloc(avail ? avail : 1);

		memcpy(copy, rec, avail);
		assert_int_equal(fg_spool_record_decode(copy, avail, &r), -EBADMSG);
		free(copy);
	}
	assert_int_equal(fg_spool_record_decode(rec, size, &r), 0);
	/* the rest of a torn record zeroed, as a power cut leaves it */
	for (size_t cut = 0; cut < size; cut++) {
		uint8_t buf[FG_SPOOL_SLOT] = { 0 };

		memcpy(buf, rec, cut);
		assert_int_equal(fg_spool_record_decode(buf, sizeof(buf), &r), -EBADMSG);
	}
	free(rec);
}

/* Sizes at and past the limits, in both directions. */
static void test_oversized(void **state)
{
	struct fg_spool_record r;
	size_t k, max_text = FG_SPOOL_RECORD_MAX - HDR - 1;
	char *big = malloc(FG_SPOOL_RECORD_MAX), *long_target = malloc(UINT16_MAX + 2);
	uint8_t *rec, *bigger;

	memset(big, 'x', FG_SPOOL_RECORD_MAX);
	memset(long_target, 't', UINT16_MAX + 1);
	/* exactly the maximum: 16 slots, decodes */
	assert_int_equal(fg_spool_record_encode(1, "t", big, max_text, &rec, &k), 0);
	assert_int_equal(k, FG_SPOOL_RECORD_MAX / FG_SPOOL_SLOT);
	assert_int_equal(fg_spool_record_decode(rec, k * FG_SPOOL_SLOT, &r), 0);
	assert_int_equal(r.size, FG_SPOOL_RECORD_MAX);
	assert_int_equal(r.text_len, max_text);
	/* a claim past the maximum is refused even with a valid CRC and the bytes there */
	bigger = calloc(1, FG_SPOOL_RECORD_MAX + FG_SPOOL_SLOT);
	assert_non_null(bigger);
	memcpy(bigger, rec, k * FG_SPOOL_SLOT);
	put(bigger + 8, FG_SPOOL_RECORD_MAX - HDR + 1, 4);
	reseal(bigger);
	assert_int_equal(fg_spool_record_decode(bigger, FG_SPOOL_RECORD_MAX + FG_SPOOL_SLOT, &r),
			 -EBADMSG);
	free(bigger);
	free(rec);
	/* one byte over */
	assert_int_equal(fg_spool_record_encode(1, "t", big, max_text + 1, &rec, &k), -EINVAL);
	/* a target longer than its 16-bit length field */
	long_target[UINT16_MAX + 1] = '\0';
	assert_int_equal(fg_spool_record_encode(1, long_target, "x", 1, &rec, &k), -EINVAL);
	/* a slot boundary: 4096 bytes is one slot, 4097 two */
	assert_int_equal(fg_spool_record_encode(1, "t", big, FG_SPOOL_SLOT - HDR - 1, &rec, &k), 0);
	assert_int_equal(k, 1);
	free(rec);
	assert_int_equal(fg_spool_record_encode(1, "t", big, FG_SPOOL_SLOT - HDR, &rec, &k), 0);
	assert_int_equal(k, 2);
	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), -EBADMSG);
	assert_int_equal(fg_spool_record_decode(rec, 2 * FG_SPOOL_SLOT, &r), 0);
	free(rec);
	assert_int_equal(fg_spool_record_slots(1), 1);
	assert_int_equal(fg_spool_record_slots(FG_SPOOL_SLOT), 1);
	assert_int_equal(fg_spool_record_slots(FG_SPOOL_SLOT + 1), 2);
	free(big);
	free(long_target);
}

/* Each header field checked on its own, with a CRC that holds (a buggy or newer writer). */
static void test_fields(void **state)
{
	struct fg_spool_record r;
	uint8_t *rec;
	size_t k;

	assert_int_equal(fg_spool_record_encode(9, "ntfy", "body\n", 5, &rec, &k), 0);
	/* version 2 */
	put(rec + 4, 2, 2);
	reseal(rec);
	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), -EBADMSG);
	put(rec + 4, 1, 2);
	/* reserved bytes not zero */
	put(rec + 24, 1, 8);
	reseal(rec);
	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), -EBADMSG);
	put(rec + 24, 0, 8);
	/* no target */
	put(rec + 6, 0, 2);
	reseal(rec);
	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), -EBADMSG);
	/* a target longer than target + text */
	put(rec + 6, 10, 2);
	reseal(rec);
	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), -EBADMSG);
	/* the whole payload is the target: decodes, with an empty text */
	put(rec + 6, 9, 2);
	reseal(rec);
	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), 0);
	assert_int_equal(r.target_len, 9);
	assert_int_equal(r.text_len, 0);
	put(rec + 6, 4, 2);
	reseal(rec);
	/* another magic */
	memcpy(rec, "FGSQ", 4);
	reseal(rec);
	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), -EBADMSG);
	memcpy(rec, "FGSR", 4);
	reseal(rec);
	/* the sequence number is covered by the CRC, the CRC field is not */
	put(rec + 16, 10, 8);
	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), -EBADMSG);
	reseal(rec);
	assert_int_equal(fg_spool_record_decode(rec, FG_SPOOL_SLOT, &r), 0);
	assert_int_equal(r.seq, 10);
	free(rec);
}

/* How much the scan reads at a slot: nothing more for free space or a bad claim. */
static void test_wanted(void **state)
{
	uint8_t slot[FG_SPOOL_SLOT] = { 0 };
	uint8_t *rec;
	char big[6000];
	size_t k;

	assert_int_equal(fg_spool_record_wanted(slot, sizeof(slot), 1 << 20), 0);
	memset(big, 'y', sizeof(big));
	assert_int_equal(fg_spool_record_encode(1, "t", big, sizeof(big), &rec, &k), 0);
	assert_int_equal(k, 2);
	/* a header cut short, a slot of one record, a record over two slots */
	assert_int_equal(fg_spool_record_wanted(rec, HDR - 1, 1 << 20), 0);
	assert_int_equal(fg_spool_record_wanted(rec, FG_SPOOL_SLOT, 1 << 20), HDR + 1 + sizeof(big));
	/* the journal ends before the record would: only the slot */
	assert_int_equal(fg_spool_record_wanted(rec, FG_SPOOL_SLOT, FG_SPOOL_SLOT), FG_SPOOL_SLOT);
	/* a claim past the codec's maximum is not read */
	put(rec + 8, FG_SPOOL_RECORD_MAX, 4);
	assert_int_equal(fg_spool_record_wanted(rec, FG_SPOOL_SLOT, 1 << 20), FG_SPOOL_SLOT);
	free(rec);
	assert_int_equal(fg_spool_record_encode(1, "t", "x", 1, &rec, &k), 0);
	assert_int_equal(fg_spool_record_wanted(rec, FG_SPOOL_SLOT, 1 << 20), FG_SPOOL_SLOT);
	free(rec);
}

static void test_journal_header(void **state)
{
	uint8_t slot[FG_SPOOL_SLOT] = { 0 };

	fg_spool_journal_header(slot);
	assert_string_equal((char *)slot, "flicgate-spool 2\nslot 4096\n");
	assert_int_equal(fg_spool_journal_check((char *)slot, 63), 0);
	/* a later format of ours is refused, in full or cut short */
	assert_int_equal(fg_spool_journal_check("flicgate-spool 3\n", 17), -EPROTONOSUPPORT);
	assert_int_equal(fg_spool_journal_check("flicgate-spool 2", 16), -EPROTONOSUPPORT);
	/* damage is not a reason to refuse: the records check themselves */
	assert_int_equal(fg_spool_journal_check("", 0), 0);
	assert_int_equal(fg_spool_journal_check("flicgate-spoo", 13), 0);
	assert_int_equal(fg_spool_journal_check("\0\0\0\0", 4), 0);
	assert_int_equal(fg_spool_journal_check("FGSR", 4), 0);
}

static void test_dead_names(void **state)
{
	uint64_t seq = 0;

	assert_int_equal(fg_spool_dead_name_seq("t-slack-0000000000000042.alert", &seq), 1);
	assert_int_equal(seq, 0x42);
	assert_int_equal(fg_spool_dead_name_seq("t-a-b-00000000000000ff.alert", &seq), 1);
	assert_int_equal(seq, 0xff);
	/* a taken name's suffix gives no sequence, but is a dead letter */
	seq = 7;
	assert_int_equal(fg_spool_dead_name_seq("t-slack-0000000000000042-2.alert", &seq), 0);
	assert_int_equal(seq, 7);
	assert_int_equal(fg_spool_dead_name_seq("t-slack-42.alert", &seq), 0);
	assert_int_equal(fg_spool_dead_name_seq("t-slack-0000000000000042.reason", &seq), -ENOENT);
	assert_int_equal(fg_spool_dead_name_seq(".", &seq), -ENOENT);
	assert_int_equal(seq, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/spool-record/layout", test_layout),
		FG_TEST("/spool-record/bit-flips", test_bit_flips),
		FG_TEST("/spool-record/truncated", test_truncated),
		FG_TEST("/spool-record/oversized", test_oversized),
		FG_TEST("/spool-record/fields", test_fields),
		FG_TEST("/spool-record/wanted", test_wanted),
		FG_TEST("/spool-record/journal-header", test_journal_header),
		FG_TEST("/spool-record/dead-names", test_dead_names),
	};

	return cmocka_run_group_tests_name("spool-record", tests, NULL, NULL);
}
