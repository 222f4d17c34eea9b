/* SPDX-License-Identifier: MIT */
/*
 * The pairing store: text formats (round trip and every rejection), files
 * on a real file system (modes, listing, removal), and what an interrupted
 * write can leave behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-flic2-util.h"

#include "radio/pairing.h"
#include "lib/fileio.h"

static struct fg_flic2_pairing sample(void)
{
	struct fg_flic2_pairing p;

	memset(&p, 0, sizeof(p));
	test_unhex("80e4da712345", p.address, 6);
	p.pairing_id = 0x047bee88;
	test_unhex("b63a5656ee87e05e25d41f137dfce6ef", p.pairing_key, 16);
	test_unhex("00112233445566778899aabbccddeeff", p.uuid, 16);
	strcpy(p.serial, "BG30-C12345");
	strcpy(p.name, "K\xc3\xbc" "che=\xe2\x98\x95");	/* '=' and UTF-8 */
	p.firmware_version = 10;
	p.battery_mv = 3182;
	test_unhex("e99ea68ba047103fb3559a963780fd2d1bfa591b7d79a287f577b07bafef5197",
		   p.identity_key, 32);
	return p;
}

static void assert_pairing_equal(const struct fg_flic2_pairing *a, const struct fg_flic2_pairing *b)
{
	assert_memory_equal(a->address, b->address, 6);
	assert_int_equal(a->pairing_id, b->pairing_id);
	assert_memory_equal(a->pairing_key, b->pairing_key, 16);
	assert_memory_equal(a->uuid, b->uuid, 16);
	assert_string_equal(a->serial, b->serial);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->firmware_version, b->firmware_version);
	assert_int_equal(a->battery_mv, b->battery_mv);
	assert_memory_equal(a->identity_key, b->identity_key, 32);
}

static const char good[] =
	"# a comment\r\n"
	"version=1\r\n"
	"address=80:e4:DA:71:23:45\n"
	"\n"
	"pairing_id=75230856\n"
	"pairing_key=B63A5656EE87E05E25D41F137DFCE6EF\n"
	"uuid=00112233445566778899aabbccddeeff\n"
	"serial=BG30-C12345\n"
	"name=4bc3bc6368653de29895\n"
	"firmware=10\n"
	"battery_mv=3182\n"
	"identity_key=e99ea68ba047103fb3559a963780fd2d1bfa591b7d79a287f577b07bafef5197";

static void test_format_parse(void **state)
{
	struct fg_flic2_pairing p = sample(), q;
	char *text;
	size_t len;

	assert_int_equal(fg_pairing_format(&p, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "\naddress=80:E4:DA:71:23:45\n"));
	assert_non_null(strstr(text, "\npairing_id=75230856\n"));
	assert_non_null(strstr(text, "\nname=4bc3bc6368653de29895\n"));
	assert_int_equal(fg_pairing_parse(text, len, &q), 0);
	assert_pairing_equal(&p, &q);
	free(text);

	/* hand-written: comments, blank lines, CRLF, mixed case, no final newline */
	memset(&q, 0, sizeof(q));
	assert_int_equal(fg_pairing_parse(good, strlen(good), &q), 0);
	assert_pairing_equal(&p, &q);

	/* the engine never produces these, so the store refuses to write them */
	strcpy(p.name, "bad\nname");
	assert_int_equal(fg_pairing_format(&p, &text, &len), -EINVAL);
	p = sample();
	strcpy(p.serial, "BG 30");
	assert_int_equal(fg_pairing_format(&p, &text, &len), -EINVAL);
}

/* Replace the line starting with @key in good[] by @line (NULL: drop it). */
static int parse_with(const char *key, const char *line)
{
	struct fg_flic2_pairing q;
	char buf[2048] = "", copy[sizeof(good)];
	char *save = NULL;

	memcpy(copy, good, sizeof(good));
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, key, strlen(key)) == 0) {
			if (line) {
				strcat(buf, line);
				strcat(buf, "\n");
			}
			continue;
		}
		strcat(buf, l);
		strcat(buf, "\n");
	}
	return fg_pairing_parse(buf, strlen(buf), &q);
}

static void test_parse_rejects(void **state)
{
	static const struct {
		const char *key, *line;
	} bad[] = {
		{ "version", NULL },			/* missing */
		{ "pairing_key", NULL },
		{ "identity_key", NULL },
		{ "version", "version=2" },
		{ "version", "version=01x" },
		{ "version", "version=" },
		{ "address", "address=80:E4:DA:71:23" },
		{ "address", "address=80-E4-DA-71-23-45" },
		{ "address", "address=80:E4:DA:71:23:4G" },
		{ "pairing_id", "pairing_id=4294967296" },
		{ "pairing_id", "pairing_id=-1" },
		{ "pairing_id", "pairing_id= 1" },
		{ "pairing_id", "pairing_id=123456789012345678901" },
		{ "pairing_key", "pairing_key=b63a5656ee87e05e25d41f137dfce6e" },
		{ "pairing_key", "pairing_key=b63a5656ee87e05e25d41f137dfce6efff" },
		{ "uuid", "uuid=0011223344556677889zaabbccddeeff" },
		{ "serial", "serial=BG30-C123456" },
		{ "serial", "serial=BG30 C1234" },
		{ "name", "name=4" },					/* odd length */
		{ "name", "name=c328" },				/* not UTF-8 */
		{ "name", "name=410a42" },				/* a newline */
		{ "name", "name=410042" },				/* a NUL */
		{ "name", "name=414141414141414141414141414141414141414141414141" },	/* 24 bytes */
		{ "battery_mv", "battery_mv=65536" },
		{ "firmware", "firmware=10\nfirmware=11" },		/* repeated */
		{ "firmware", "firmware=10\ncolour=red" },		/* unknown */
		{ "firmware", "firmware=10\njust text" },		/* no '=' */
		{ "firmware", "firmware=10\n=10" },			/* no key */
	};

	assert_int_equal(parse_with("nothing", NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_with(bad[i].key, bad[i].line) != -EBADMSG)
			fail_msg("accepted: %s", bad[i].line ? bad[i].line : bad[i].key);
	{
		struct fg_flic2_pairing q;
		char big[5000], nul[] = "version=1\nfirm\0ware=10\n";

		memset(big, '#', sizeof(big));
		assert_int_equal(fg_pairing_parse(big, sizeof(big), &q), -EBADMSG);
		assert_int_equal(fg_pairing_parse(nul, sizeof(nul) - 1, &q), -EBADMSG);
		assert_int_equal(fg_pairing_parse("", 0, &q), -EBADMSG);
	}
}

static void test_dedup_format_parse(void **state)
{
	struct fg_flic2_dedup d = { .valid = true, .boot_id = 0xffffffff, .event_count = 104 }, e;
	char *text;
	size_t len;

	assert_int_equal(fg_pairing_format_dedup(&d, &text, &len), 0);
	assert_int_equal(fg_pairing_parse_dedup(text, len, &e), 0);
	assert_true(e.valid);
	assert_int_equal(e.boot_id, 0xffffffff);
	assert_int_equal(e.event_count, 104);
	free(text);
	d.valid = false;
	assert_int_equal(fg_pairing_format_dedup(&d, &text, &len), -EINVAL);

	assert_int_equal(fg_pairing_parse_dedup("version=1\nboot_id=1\n", 20, &e), -EBADMSG);
	assert_int_equal(fg_pairing_parse_dedup("version=1\nboot_id=1\nevent_count=2\nboot_id=1\n", 44, &e), -EBADMSG);
	assert_int_equal(fg_pairing_parse_dedup("version=1\nboot_id=1\nevent_count=x\n", 34, &e), -EBADMSG);
	assert_int_equal(fg_pairing_parse_dedup("version=3\nboot_id=1\nevent_count=2\n", 34, &e), -EBADMSG);
	assert_int_equal(fg_pairing_parse_dedup("version=1\nboot=1\nevent_count=2\n", 31, &e), -EBADMSG);
	assert_int_equal(fg_pairing_parse_dedup("version=1\nboot_id=1\nevent_count=2", 33, &e), 0);
	assert_int_equal(e.event_count, 2);
	/* files from before adv_configured load, as "not yet configured" */
	assert_false(e.adv_configured);

	/* the advertising settings of this boot round-trip; only 0 or 1, once */
	d = (struct fg_flic2_dedup){ .valid = true, .boot_id = 5, .event_count = 6,
				     .adv_configured = true };
	assert_int_equal(fg_pairing_format_dedup(&d, &text, &len), 0);
	assert_non_null(strstr(text, "\nadv_configured=1\n"));
	assert_int_equal(fg_pairing_parse_dedup(text, len, &e), 0);
	assert_true(e.adv_configured);
	assert_int_equal(e.event_count, 6);
	free(text);
	assert_int_equal(fg_pairing_parse_dedup("version=1\nboot_id=1\nevent_count=2\nadv_configured=0\n",
						51, &e), 0);
	assert_false(e.adv_configured);
	assert_int_equal(fg_pairing_parse_dedup("version=1\nboot_id=1\nevent_count=2\nadv_configured=2\n",
						51, &e), -EBADMSG);
	assert_int_equal(fg_pairing_parse_dedup("version=1\nboot_id=1\nadv_configured=1\n", 37, &e),
			 -EBADMSG);
	assert_int_equal(fg_pairing_parse_dedup("version=1\nboot_id=1\nevent_count=2\nadv_configured=1\n"
						"adv_configured=1\n", 68, &e), -EBADMSG);
}

/* --- files --------------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static char *tmpdir_new(void)
{
	char *dir = strdup("/tmp/test-pairing.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void tmpdir_free(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_store(void **state)
{
	char *dir = tmpdir_new(), path[512];
	struct fg_pairing_store *s;
	struct fg_flic2_pairing p = sample(), q;
	struct fg_flic2_dedup d = { .valid = true, .boot_id = 7, .event_count = 9 }, e;
	uint8_t (*list)[6], other[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	size_t n;

	assert_int_equal(fg_pairing_store_open(dir, &s), 0);
	snprintf(path, sizeof(path), "%s/pairings", dir);
	assert_string_equal(fg_pairing_store_dir(s), path);
	assert_int_equal(mode_of(path), 0700);

	assert_int_equal(fg_pairing_store_load(s, p.address, &q), -ENOENT);
	assert_int_equal(fg_pairing_store_load_dedup(s, p.address, &e), -ENOENT);
	assert_int_equal(fg_pairing_store_list(s, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);

	assert_int_equal(fg_pairing_store_save(s, &p), 0);
	assert_int_equal(fg_pairing_store_save_dedup(s, p.address, &d), 0);
	snprintf(path, sizeof(path), "%s/pairings/80E4DA712345.pairing", dir);
	assert_int_equal(mode_of(path), 0600);
	snprintf(path, sizeof(path), "%s/pairings/80E4DA712345.events", dir);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(fg_pairing_store_load(s, p.address, &q), 0);
	assert_pairing_equal(&p, &q);
	assert_int_equal(fg_pairing_store_load_dedup(s, p.address, &e), 0);
	assert_int_equal(e.boot_id, 7);
	assert_int_equal(e.event_count, 9);

	/* replace in place; a second button; the list is sorted */
	p.firmware_version = 11;
	assert_int_equal(fg_pairing_store_save(s, &p), 0);
	assert_int_equal(fg_pairing_store_load(s, p.address, &q), 0);
	assert_int_equal(q.firmware_version, 11);
	memcpy(q.address, other, 6);
	assert_int_equal(fg_pairing_store_save(s, &q), 0);
	assert_int_equal(fg_pairing_store_list(s, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(list[0], other, 6);
	assert_memory_equal(list[1], p.address, 6);
	free(list);

	/* forget the first: both files go, the other stays */
	assert_int_equal(fg_pairing_store_remove(s, p.address), 0);
	assert_int_equal(fg_pairing_store_load(s, p.address, &q), -ENOENT);
	assert_int_equal(fg_pairing_store_load_dedup(s, p.address, &e), -ENOENT);
	assert_int_equal(fg_pairing_store_remove(s, p.address), -ENOENT);
	assert_int_equal(fg_pairing_store_load(s, other, &q), 0);
	/* a dedup file alone is removable too */
	assert_int_equal(fg_pairing_store_save_dedup(s, p.address, &d), 0);
	assert_int_equal(fg_pairing_store_remove(s, p.address), 0);
	d.valid = false;
	assert_int_equal(fg_pairing_store_save_dedup(s, p.address, &d), -EINVAL);
	fg_pairing_store_free(s);
	assert_null(fg_pairing_store_free(NULL));
	tmpdir_free(dir);
}

static void write_raw(const char *path, const char *text)
{
	assert_int_equal(fg_write_file_atomic(path, text, strlen(text), 0600), 0);
}

/*
 * What a power loss can leave: a temp file next to the old record (crash
 * before the rename), or a damaged file (disk trouble; atomic writes never
 * produce one). Old data stays readable, temp files are ignored and then
 * cleaned, damage is reported instead of guessed around.
 */
static void test_interrupted_writes(void **state)
{
	char *dir = tmpdir_new(), path[512], tmp[600];
	struct fg_pairing_store *s;
	struct fg_flic2_pairing p = sample(), q;
	struct fg_flic2_dedup d = { .valid = true, .boot_id = 1, .event_count = 2 }, e;
	uint8_t (*list)[6];
	size_t n;

	assert_int_equal(fg_pairing_store_open(dir, &s), 0);
	assert_int_equal(fg_pairing_store_save(s, &p), 0);
	assert_int_equal(fg_pairing_store_save_dedup(s, p.address, &d), 0);

	/* crash mid-write of the new versions: half-written temp files */
	snprintf(path, sizeof(path), "%s/pairings/80E4DA712345.pairing", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp.AbC123", path);
	write_raw(tmp, "version=1\naddress=80:E4");
	snprintf(tmp, sizeof(tmp), "%s/pairings/80E4DA712345.events.tmp.x1y2z3", dir);
	write_raw(tmp, "version=1\nboot_id=1\nevent_co");
	assert_int_equal(fg_pairing_store_load(s, p.address, &q), 0);
	assert_pairing_equal(&p, &q);
	assert_int_equal(fg_pairing_store_load_dedup(s, p.address, &e), 0);
	assert_int_equal(e.event_count, 2);
	assert_int_equal(fg_pairing_store_list(s, &list, &n), 0);
	assert_int_equal(n, 1);
	free(list);
	fg_pairing_store_free(s);

	/* the next start cleans them up */
	assert_int_equal(fg_pairing_store_open(dir, &s), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	snprintf(tmp, sizeof(tmp), "%s.tmp.AbC123", path);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(fg_pairing_store_load(s, p.address, &q), 0);

	/* damaged files are reported, not half-used */
	write_raw(path, "version=1\naddress=80:E4:DA:71:23:45\npairing_id=1\n");
	assert_int_equal(fg_pairing_store_load(s, p.address, &q), -EBADMSG);
	snprintf(path, sizeof(path), "%s/pairings/80E4DA712345.events", dir);
	write_raw(path, "version=1\nboot_id=");
	assert_int_equal(fg_pairing_store_load_dedup(s, p.address, &e), -EBADMSG);
	{
		char big[5000];

		memset(big, '#', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		write_raw(path, big);
		assert_int_equal(fg_pairing_store_load_dedup(s, p.address, &e), -EBADMSG);
	}
	fg_pairing_store_free(s);
	tmpdir_free(dir);
}

/* A record only counts under its own address, and junk in the directory is ignored. */
static void test_names(void **state)
{
	char *dir = tmpdir_new(), path[512];
	struct fg_pairing_store *s;
	struct fg_flic2_pairing p = sample(), q;
	uint8_t other[6] = { 0x80, 0xe4, 0xda, 0, 0, 1 };
	uint8_t (*list)[6];
	size_t n;
	char *text;
	size_t len;

	assert_int_equal(fg_pairing_store_open(dir, &s), 0);
	assert_int_equal(fg_pairing_format(&p, &text, &len), 0);
	snprintf(path, sizeof(path), "%s/pairings/80E4DA000001.pairing", dir);
	write_raw(path, text);
	free(text);
	assert_int_equal(fg_pairing_store_load(s, other, &q), -EBADMSG);

	snprintf(path, sizeof(path), "%s/pairings/80e4da000002.pairing", dir);
	write_raw(path, "x");
	snprintf(path, sizeof(path), "%s/pairings/80E4DA000003.pairing.bak", dir);
	write_raw(path, "x");
	snprintf(path, sizeof(path), "%s/pairings/80E4DA00004.pairing", dir);
	write_raw(path, "x");
	snprintf(path, sizeof(path), "%s/pairings/80E4DA00000G.pairing", dir);
	write_raw(path, "x");
	snprintf(path, sizeof(path), "%s/pairings/80E4DA000005.events", dir);
	write_raw(path, "x");
	assert_int_equal(fg_pairing_store_list(s, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(list[0], other, 6);
	free(list);
	fg_pairing_store_free(s);
	tmpdir_free(dir);
}

static void test_open(void **state)
{
	char *dir = tmpdir_new(), path[512];
	struct fg_pairing_store *s;

	assert_int_equal(fg_pairing_store_open(NULL, &s), -EINVAL);
	assert_int_equal(fg_pairing_store_open("", &s), -EINVAL);
	/* an existing, too open directory is closed down */
	snprintf(path, sizeof(path), "%s/pairings", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(fg_pairing_store_open(dir, &s), 0);
	assert_int_equal(mode_of(path), 0700);
	fg_pairing_store_free(s);
	/* a file where the state directory should be */
	snprintf(path, sizeof(path), "%s/file", dir);
	write_raw(path, "x");
	assert_true(fg_pairing_store_open(path, &s) < 0);
	tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/pairing/format-parse", test_format_parse),
		FG_TEST("/pairing/parse-rejects", test_parse_rejects),
		FG_TEST("/pairing/dedup-format-parse", test_dedup_format_parse),
		FG_TEST("/pairing/store", test_store),
		FG_TEST("/pairing/interrupted-writes", test_interrupted_writes),
		FG_TEST("/pairing/file-names", test_names),
		FG_TEST("/pairing/open", test_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
