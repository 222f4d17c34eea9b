/* SPDX-License-Identifier: MIT */
/*
 * The pairing export document: a round trip (names, counters, sorting, no
 * buttons at all), the digest catching every kind of damage, and each
 * structural rejection with the line it names.
 */
#include <errno.h>

#include "test-flic2-util.h"

#include "radio/flic2-crypto.h"
#include "radio/pairing-export.h"

static struct fg_pairing_export_entry entry(unsigned last, const char *name, bool dedup)
{
	struct fg_pairing_export_entry e;

	memset(&e, 0, sizeof(e));
	test_unhex("80e4da7000", e.rec.address, 5);
	e.rec.address[5] = (uint8_t)last;
	e.rec.pairing_id = 1000 + last;
	memset(e.rec.pairing_key, (int)last, 16);
	memset(e.rec.uuid, 0x5a, 16);
	snprintf(e.rec.serial, sizeof(e.rec.serial), "BG30-T%05u", last);
	strcpy(e.rec.name, "Flic 2");
	e.rec.firmware_version = 10;
	e.rec.battery_mv = 3000;
	memset(e.rec.identity_key, 0xe9, 32);
	if (dedup)
		e.dedup = (struct fg_flic2_dedup){ .valid = true, .boot_id = 7, .event_count = 40 + last };
	if (name)
		snprintf(e.name, sizeof(e.name), "%s", name);
	return e;
}

static void assert_entry_equal(const struct fg_pairing_export_entry *a,
			       const struct fg_pairing_export_entry *b)
{
	assert_memory_equal(a->rec.address, b->rec.address, 6);
	assert_int_equal(a->rec.pairing_id, b->rec.pairing_id);
	assert_memory_equal(a->rec.pairing_key, b->rec.pairing_key, 16);
	assert_memory_equal(a->rec.uuid, b->rec.uuid, 16);
	assert_string_equal(a->rec.serial, b->rec.serial);
	assert_string_equal(a->rec.name, b->rec.name);
	assert_int_equal(a->rec.firmware_version, b->rec.firmware_version);
	assert_int_equal(a->rec.battery_mv, b->rec.battery_mv);
	assert_memory_equal(a->rec.identity_key, b->rec.identity_key, 32);
	assert_int_equal(a->dedup.valid, b->dedup.valid);
	assert_int_equal(a->dedup.boot_id, b->dedup.boot_id);
	assert_int_equal(a->dedup.event_count, b->dedup.event_count);
	assert_string_equal(a->name, b->name);
}

/* @body plus the digest line an export ends with. */
static char *seal(const char *body)
{
	uint8_t d[FG_CRYPTO_SHA256_LEN];
	size_t len = strlen(body);
	char *doc = malloc(len + 80), *p;

	assert_non_null(doc);
	assert_int_equal(fg_crypto_sha256(body, len, d), 0);
	memcpy(doc, body, len);
	p = doc + len + sprintf(doc + len, "--- sha256 ");
	for (size_t i = 0; i < sizeof(d); i++)
		p += sprintf(p, "%02x", d[i]);
	strcpy(p, "\n");
	return doc;
}

static int parse(const char *doc, struct fg_pairing_export_error *err,
		 struct fg_pairing_export_entry **ret, size_t *ret_n)
{
	return fg_pairing_export_parse(doc, strlen(doc), err, ret, ret_n);
}

static void test_round_trip(void **state)
{
	struct fg_pairing_export_entry in[3], *out = NULL;
	char *doc = NULL;
	size_t len, n = 0;

	/* given out of order: the document is sorted by address */
	in[0] = entry(3, "lobby", true);
	in[1] = entry(1, NULL, false);
	in[2] = entry(2, "bed-2", true);
	assert_int_equal(fg_pairing_export_format(in, 3, &doc, &len), 0);
	assert_int_equal(strlen(doc), len);
	assert_true(strncmp(doc, "flicgate-pairings 1\n# SECRET:", 29) == 0);
	assert_non_null(strstr(doc, "--- pairing 80:E4:DA:70:00:01 -\n"));
	assert_non_null(strstr(doc, "--- pairing 80:E4:DA:70:00:03 lobby\n"));
	assert_true(strstr(doc, "00:01 -") < strstr(doc, "00:02 bed-2"));
	assert_true(strstr(doc, "00:02 bed-2") < strstr(doc, "00:03 lobby"));

	assert_int_equal(parse(doc, NULL, &out, &n), 0);
	assert_int_equal(n, 3);
	assert_entry_equal(&out[0], &in[1]);
	assert_entry_equal(&out[1], &in[2]);
	assert_entry_equal(&out[2], &in[0]);
	fg_crypto_wipe(doc, len);
	free(doc);
	free(out);

	/* a gateway without pairings exports a valid, empty document */
	assert_int_equal(fg_pairing_export_format(NULL, 0, &doc, &len), 0);
	out = (void *)1;
	assert_int_equal(parse(doc, NULL, &out, &n), 0);
	assert_int_equal(n, 0);
	free(out);
	free(doc);
}

static void test_format_refuses(void **state)
{
	struct fg_pairing_export_entry in[2];
	char *doc = (char *)"untouched";
	size_t len = 0;

	in[0] = entry(1, "a b", false);
	assert_int_equal(fg_pairing_export_format(in, 1, &doc, &len), -EINVAL);
	in[0] = entry(1, "80-E4-DA-70-00-09", false);
	assert_int_equal(fg_pairing_export_format(in, 1, &doc, &len), -EINVAL);
	in[0] = entry(1, NULL, false);
	in[1] = entry(1, NULL, false);
	assert_int_equal(fg_pairing_export_format(in, 2, &doc, &len), -EINVAL);
	in[0] = entry(1, NULL, false);
	strcpy(in[0].rec.serial, "bad serial");
	assert_int_equal(fg_pairing_export_format(in, 1, &doc, &len), -EINVAL);
	assert_string_equal(doc, "untouched");
	assert_int_equal(len, 0);
}

static void test_damage(void **state)
{
	struct fg_pairing_export_entry in[2], *out = NULL;
	struct fg_pairing_export_error err;
	char *doc = NULL, *bad;
	size_t len, n = 0;

	in[0] = entry(1, "lobby", true);
	in[1] = entry(2, NULL, false);
	assert_int_equal(fg_pairing_export_format(in, 2, &doc, &len), 0);

	/* any one byte changed anywhere before the digest line */
	bad = strdup(doc);
	for (size_t i = strlen("flicgate-pairings 1\n"); i < len - 80; i += 7) {
		char was = bad[i];

		bad[i] = was == '0' ? '1' : '0';
		memset(&err, 0, sizeof(err));
		assert_int_equal(fg_pairing_export_parse(bad, len, &err, &out, &n), -EBADMSG);
		assert_true(err.what[0] != '\0');
		bad[i] = was;
	}
	/* the pairing key changed: the digest says so, not the record parser */
	{
		char *k = strstr(bad, "pairing_key=") + strlen("pairing_key=");

		*k = *k == 'f' ? 'e' : 'f';
		assert_int_equal(parse(bad, &err, &out, &n), -EBADMSG);
		assert_int_equal(err.line, 0);
		assert_non_null(strstr(err.what, "SHA-256 does not match"));
	}
	free(bad);

	/* cut short anywhere: at a block boundary, mid-record, mid-digest */
	for (size_t cut = 1; cut < len - 1; cut++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(fg_pairing_export_parse(doc, cut, &err, &out, &n), -EBADMSG);
	}
	assert_int_equal(fg_pairing_export_parse(doc, strstr(doc, "--- sha256") - doc, &err, &out, &n),
			 -EBADMSG);
	assert_non_null(strstr(err.what, "cut short"));
	/* the trailing newline is optional, nothing may follow it */
	assert_int_equal(fg_pairing_export_parse(doc, len - 1, &err, &out, &n), 0);
	fg_crypto_wipe(out, n * sizeof(*out));
	free(out);
	bad = malloc(len + 3);
	memcpy(bad, doc, len);
	memcpy(bad + len, "x\n", 3);
	assert_int_equal(parse(bad, &err, &out, &n), -EBADMSG);
	free(bad);
	/* not an export at all */
	assert_int_equal(parse("hello\n", &err, &out, &n), -EBADMSG);
	assert_int_equal(err.line, 1);
	assert_int_equal(parse("", &err, &out, &n), -EBADMSG);
	assert_int_equal(parse("flicgate-pairings 2\n", &err, &out, &n), -EBADMSG);
	/* CRLF line ends (a file that went through a text-mode copy) */
	{
		size_t m = 0;

		bad = malloc(2 * len + 1);
		for (size_t i = 0; i < len; i++) {
			if (doc[i] == '\n')
				bad[m++] = '\r';
			bad[m++] = doc[i];
		}
		assert_int_equal(fg_pairing_export_parse(bad, m, &err, &out, &n), -EBADMSG);
		free(bad);
	}
	fg_crypto_wipe(doc, len);
	free(doc);
}

static const char rec1[] =
	"version=1\n"
	"address=80:E4:DA:70:00:01\n"
	"pairing_id=1001\n"
	"pairing_key=01010101010101010101010101010101\n"
	"uuid=5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\n"
	"serial=BG30-T00001\n"
	"name=466c69632032\n"
	"firmware=10\n"
	"battery_mv=3000\n"
	"identity_key=e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9\n";
static const char dedup1[] = "version=1\nboot_id=7\nevent_count=41\n";

/* A hand-made body with a valid digest; the structure is what fails. */
static void expect_refused(const char *body, unsigned line, const char *what)
{
	struct fg_pairing_export_entry *out = NULL;
	struct fg_pairing_export_error err = { 0 };
	char *doc = seal(body);
	size_t n = 0;

	if (parse(doc, &err, &out, &n) != -EBADMSG || err.line != line || !strstr(err.what, what))
		fail_msg("%s\nwant line %u '%s', got line %u '%s'", body, line, what, err.line, err.what);
	free(doc);
}

static void test_structure(void **state)
{
	struct fg_pairing_export_entry *out = NULL;
	char body[4096], *doc;
	size_t n = 0;

	/* the hand-made baseline parses */
	snprintf(body, sizeof(body), "flicgate-pairings 1\n# c\n\n--- pairing 80:E4:DA:70:00:01 x\n%s"
		 "--- dedup\n%s--- end\n", rec1, dedup1);
	doc = seal(body);
	assert_int_equal(parse(doc, NULL, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].name, "x");
	assert_true(out[0].dedup.valid);
	assert_int_equal(out[0].dedup.event_count, 41);
	free(out);
	free(doc);

#define B(s) "flicgate-pairings 1\n" s
	snprintf(body, sizeof(body), B("--- pairing 80:E4:DA:70:00:01 x\n%s"), rec1);
	expect_refused(body, 3 + 10, "has no '--- end'");
	snprintf(body, sizeof(body), B("--- pairing 80:E4:DA:70:00:01 x\n%s--- pairing 80:E4:DA:70:00:02 y\n"), rec1);
	expect_refused(body, 13, "before the '--- end' of line 2");
	snprintf(body, sizeof(body), B("--- pairing 80:E4:DA:70:00:01 x\n%s--- end\n"
				       "--- pairing 80:E4:DA:70:00:01 y\n%s--- end\n"), rec1, rec1);
	expect_refused(body, 14, "appears twice");
	snprintf(body, sizeof(body), B("--- pairing 80:E4:DA:70:00:01 x\n%s--- end\n"
				       "--- pairing 80:E4:DA:70:00:02 X\n"), rec1);
	expect_refused(body, 14, "two buttons are called 'X'");
	snprintf(body, sizeof(body), B("--- pairing 80:E4:DA:70:00:02 x\n%s--- end\n"), rec1);
	expect_refused(body, 2, "record of this block does not parse");
	snprintf(body, sizeof(body), B("--- pairing 80:E4:DA:70:00:01 x\nversion=1\n--- end\n"));
	expect_refused(body, 2, "record of this block does not parse");
	snprintf(body, sizeof(body), B("--- pairing 80:E4:DA:70:00:01 x\n%s--- dedup\nboot_id=1\n--- end\n"), rec1);
	expect_refused(body, 2, "event counter of this block does not parse");
	expect_refused(B("--- pairing 80-E4-DA-70-00-01 x\n"), 2, "is not an address");
	expect_refused(B("--- pairing 80:E4:DA:70:00:01\n"), 2, "expected '--- pairing ADDRESS NAME'");
	expect_refused(B("--- pairing 80:E4:DA:70:00:01 a b\n"), 2, "'a b' is not a valid button name");
	expect_refused(B("--- pairing 80:E4:DA:70:00:01 80:E4:DA:70:00:02\n"), 2, "not a valid button name");
	expect_refused(B("--- pairing 80:E4:DA:70:00:01 "
			 "a123456789012345678901234567890123456789012345678901234567890123\n"),
		       2, "longer than 63");
	expect_refused(B("--- dedup\n"), 2, "outside a button's block");
	expect_refused(B("--- end\n"), 2, "outside a button's block");
	expect_refused(B("--- frobnicate\n"), 2, "unknown marker");
	expect_refused(B("version=1\n"), 2, "text outside a button's block");
	snprintf(body, sizeof(body), B("--- pairing 80:E4:DA:70:00:01 x\n%s--- end\n--- sha256 00\n"), rec1);
	expect_refused(body, 14, "before the end");
#undef B
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/pairing-export/round-trip", test_round_trip),
		FG_TEST("/pairing-export/format-refuses", test_format_refuses),
		FG_TEST("/pairing-export/damage", test_damage),
		FG_TEST("/pairing-export/structure", test_structure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
