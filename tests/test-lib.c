/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fg-test.h"

#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/mask.h"
#include "lib/strv.h"
#include "lib/timeutil.h"
#include "radio/gesture.h"

static void test_duration_parse(void **state)
{
	static const struct {
		const char *in;
		uint64_t usec;
	} ok[] = {
		{ "0", 0 },
		{ "30", 30 * FG_USEC_PER_SEC },
		{ "250ms", 250 * FG_USEC_PER_MSEC },
		{ "30s", 30 * FG_USEC_PER_SEC },
		{ "5min", 5 * FG_USEC_PER_MIN },
		{ "5m", 5 * FG_USEC_PER_MIN },
		{ "2h", 2 * FG_USEC_PER_HOUR },
		{ "1d", 24 * FG_USEC_PER_HOUR },
		{ "1min 30s", 90 * FG_USEC_PER_SEC },
		{ "1min30s", 90 * FG_USEC_PER_SEC },
		{ " 10 s ", 10 * FG_USEC_PER_SEC },
		{ "7us", 7 },
		{ "2 hours", 2 * FG_USEC_PER_HOUR },
	};
	static const char *const bad[] = {
		"", " ", "s", "-1s", "1.5s", "10 parsecs", "1s x", "5 5", "1min 30",
		"abc", "99999999999999999999999s", "18446744073709551615d",
	};
	uint64_t u;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		u = 12345;
		if (fg_parse_duration(ok[i].in, &u) != 0 || u != ok[i].usec) {
			fprintf(stderr, "'%s' -> %llu\n", ok[i].in, (unsigned long long)u);
			fail();
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u = 12345;
		if (fg_parse_duration(bad[i], &u) >= 0) {
			fprintf(stderr, "'%s' accepted as %llu\n", bad[i], (unsigned long long)u);
			fail();
		}
		assert_int_equal(u, 12345);	/* untouched on failure */
	}
	assert_int_equal(fg_parse_duration(NULL, &u), -EINVAL);
}

static void test_duration_format(void **state)
{
	char buf[FG_DURATION_BUF];
	uint64_t u;

	assert_string_equal(fg_format_duration(0, buf, sizeof(buf)), "0");
	assert_string_equal(fg_format_duration(90 * FG_USEC_PER_SEC, buf, sizeof(buf)), "1min 30s");
	assert_string_equal(fg_format_duration(FG_USEC_PER_HOUR + 5 * FG_USEC_PER_MSEC, buf, sizeof(buf)),
			    "1h 5ms");
	assert_string_equal(fg_format_duration(FG_USEC_INFINITY, buf, sizeof(buf)), "infinity");
	/* formatting then parsing gives the same value */
	for (uint64_t v = 1; v < UINT64_C(1) << 50; v = v * 7 + 3) {
		fg_format_duration(v, buf, sizeof(buf));
		assert_int_equal(fg_parse_duration(buf, &u), 0);
		assert_int_equal(u, v);
	}
}

static void test_rfc3339(void **state)
{
	char buf[FG_RFC3339_BUF];

	assert_string_equal(fg_format_rfc3339(UINT64_C(1795535260123456), buf, sizeof(buf)),
			    "2026-11-24T15:47:40.123Z");
	assert_string_equal(fg_format_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000Z");
	assert_true(fg_now_monotonic() > 0);
	assert_true(fg_now_realtime() > UINT64_C(1600000000) * FG_USEC_PER_SEC);
}

static void test_mask(void **state)
{
	char buf[FG_MASK_BUF];

	assert_string_equal(fg_mask_url("https://notify.alertops.com/POSTAlert/KEY/Flic", buf, sizeof(buf)),
			    "https://notify.alertops.com/…(redacted)");
	assert_string_equal(fg_mask_url("http://u:p@host:8080/x?y", buf, sizeof(buf)),
			    "http://…@host:8080/…(redacted)");
	assert_string_equal(fg_mask_url("https://host", buf, sizeof(buf)), "https://host");
	assert_string_equal(fg_mask_url("https://host?token=1", buf, sizeof(buf)),
			    "https://host/…(redacted)");
	assert_string_equal(fg_mask_url("not a url with KEY", buf, sizeof(buf)), "no…(18 chars)");
	assert_string_equal(fg_mask_url(NULL, buf, sizeof(buf)), "(unset)");
	assert_string_equal(fg_mask_secret("0123456789abcdef", buf, sizeof(buf)), "01…(16 chars)");
	assert_string_equal(fg_mask_secret("short", buf, sizeof(buf)), "…(5 chars)");
	assert_string_equal(fg_mask_secret("", buf, sizeof(buf)), "(unset)");
	assert_string_equal(fg_mask_header("Authorization: Bearer x", buf, sizeof(buf)),
			    "Authorization: …(redacted)");
	assert_string_equal(fg_mask_header("garbage", buf, sizeof(buf)), "…(7 chars)");
	/* truncation keeps a terminated string */
	assert_string_equal(fg_mask_url("https://averyveryverylonghostname/x", buf, 12), "https://ave");
}

static void test_strv(void **state)
{
	char **l = NULL, **c = NULL, *s;
	size_t n = 0;

	assert_int_equal(fg_strv_length(NULL), 0);
	assert_int_equal(fg_strv_split_list(" click,hold ,, double_click\t", &l), 0);
	assert_int_equal(fg_strv_length(l), 3);
	assert_string_equal(l[0], "click");
	assert_string_equal(l[1], "hold");
	assert_string_equal(l[2], "double_click");
	assert_true(fg_strv_contains(l, "hold"));
	assert_false(fg_strv_contains(l, "down"));
	assert_int_equal(fg_strv_copy(l, &c), 0);
	FG_STRV_FOREACH(s, c)
		assert_string_equal(s, l[n++]);
	assert_int_equal(n, 3);
	fg_strv_free(l);
	fg_strv_free(c);
	assert_int_equal(fg_strv_split_list("", &l), 0);
	assert_null(l);
	assert_true(fg_name_is_valid("ward-3_bed.12"));
	assert_false(fg_name_is_valid("a b"));
	assert_false(fg_name_is_valid(""));
	assert_false(fg_name_is_valid(NULL));
}

static void test_gesture_names(void **state)
{
	for (int g = 0; g < _FG_GESTURE_MAX; g++)
		assert_int_equal(fg_gesture_from_string(fg_gesture_to_string(g)), g);
	assert_int_equal(fg_gesture_from_string("double-click"), FG_GESTURE_DOUBLE_CLICK);
	assert_int_equal(fg_gesture_from_string("triple_click"), _FG_GESTURE_INVALID);
	assert_int_equal(fg_gesture_from_string(""), _FG_GESTURE_INVALID);
	assert_null(fg_gesture_to_string(_FG_GESTURE_MAX));
}

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/fg-lib-XXXXXX", path[64], sub[96];
	char *data = NULL;
	size_t len;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(fg_write_file_atomic(path, "one", 3, 0600), 0);
	assert_int_equal(fg_write_file_atomic(path, "second", 6, 0600), 0);
	assert_int_equal(fg_read_file(path, 100, &data, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(data, "second");
	free(data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fg_read_file(path, 3, &data, &len), -EFBIG);
	assert_int_equal(fg_read_file(dir, 100, &data, &len), -EISDIR);
	assert_int_equal(fg_read_file("/dev/null", 100, &data, &len), -EBADF);

	/* a failed write leaves the old file and no temp file behind */
	snprintf(sub, sizeof(sub), "%s/missing/state", dir);
	assert_int_equal(fg_write_file_atomic(sub, "x", 1, 0600), -ENOENT);
	assert_int_equal(fg_fsync_dir_of(path), 0);

	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	assert_int_equal(fg_mkdir_p(sub, 0700), 0);
	assert_int_equal(fg_mkdir_p(sub, 0700), 0);
	assert_int_equal(fg_mkdir_p(path, 0700), -ENOTDIR);
	assert_int_equal(system(NULL) >= 0, 1);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_atomic_write_full_disk(void **state)
{
	/* /dev/full: every write fails with ENOSPC; the target is untouched */
	char dir[] = "/tmp/fg-lib-XXXXXX", path[64];
	char *data = NULL;
	size_t len;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(fg_write_file_atomic(path, "old", 3, 0600), 0);
	/* fill the temp-name space is not possible here; emulate with a read-only dir */
	if (geteuid() != 0) {
		assert_int_equal(chmod(dir, 0500), 0);
		assert_int_equal(fg_write_file_atomic(path, "new", 3, 0600), -EACCES);
		assert_int_equal(chmod(dir, 0700), 0);
	}
	assert_int_equal(fg_read_file(path, 100, &data, &len), 0);
	assert_string_equal(data, "old");
	free(data);
	unlink(path);
	rmdir(dir);
}

static void test_log_levels(void **state)
{
	assert_int_equal(fg_log_level_from_string("debug"), LOG_DEBUG);
	assert_int_equal(fg_log_level_from_string("ERR"), LOG_ERR);
	assert_int_equal(fg_log_level_from_string("error"), LOG_ERR);
	assert_int_equal(fg_log_level_from_string("warn"), LOG_WARNING);
	assert_int_equal(fg_log_level_from_string("loud"), -EINVAL);
	assert_string_equal(fg_log_level_to_string(LOG_NOTICE), "notice");
	fg_log_set_level(LOG_ERR);
	/* below the level: nothing printed, the error still passed on */
	assert_int_equal(log_info_errno(ENOENT, "x"), -ENOENT);
	assert_int_equal(log_debug_errno(0, "x"), -EIO);
	fg_log_set_level(LOG_INFO);
	assert_int_equal(fg_log_get_level(), LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/lib/duration/parse", test_duration_parse),
		FG_TEST("/lib/duration/format-round-trip", test_duration_format),
		FG_TEST("/lib/time/rfc3339", test_rfc3339),
		FG_TEST("/lib/mask", test_mask),
		FG_TEST("/lib/strv", test_strv),
		FG_TEST("/lib/gesture-names", test_gesture_names),
		FG_TEST("/lib/fileio/atomic-write", test_atomic_write),
		FG_TEST("/lib/fileio/failed-write-keeps-old", test_atomic_write_full_disk),
		FG_TEST("/lib/log/levels", test_log_levels),
	};

	return cmocka_run_group_tests_name("lib", tests, NULL, NULL);
}
