/* SPDX-License-Identifier: MIT */
/* lib/statefile.c on real files in a temp folder: links never followed,
 * foreign entries set aside, holes skipped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fg-test.h"

#include "lib/fileio.h"
#include "lib/statefile.h"

static char dir[] = "/tmp/fg-test-statefile-XXXXXX";
static char path[512], other[512];

/* what the handler heard */
static unsigned heard;
static char heard_path[600], heard_aside[600], heard_why[64];

static void on_set_aside(const char *p, const char *aside, const char *why, void *userdata)
{
	assert_ptr_equal(userdata, &heard);
	snprintf(heard_path, sizeof(heard_path), "%s", p);
	heard++;
	snprintf(heard_aside, sizeof(heard_aside), "%s", aside);
	snprintf(heard_why, sizeof(heard_why), "%s", why);
}

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	heard = 0;
	heard_aside[0] = '\0';
	fg_statefile_set_handler(on_set_aside, &heard);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	fg_statefile_set_handler(NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	strcpy(dir, "/tmp/fg-test-statefile-XXXXXX");
	return 0;
}

static void put(const char *p, const char *text, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static char *slurp(const char *p)
{
	char *text = NULL;
	size_t len;

	assert_int_equal(fg_read_file(p, 1 << 20, &text, &len), 0);
	return text;
}

static void test_open_regular(void **state)
{
	struct stat st;
	int fd = -1;

	assert_int_equal(fg_statefile_open(path, O_RDWR, 0, &fd), -ENOENT);
	assert_int_equal(fd, -1);
	assert_int_equal(fg_statefile_open(path, O_RDWR | O_CREAT, 0600, &fd), 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	/* a group or world bit on one of ours is taken away */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(fg_statefile_open(path, O_RDONLY, 0, &fd), 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(heard, 0);
}

static void test_open_refuses_foreign(void **state)
{
	int fd = -1;

	put(other, "precious", 0600);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(fg_statefile_open(path, O_RDWR, 0, &fd), -ELOOP);
	/* not even created through a dangling link */
	assert_int_equal(unlink(other), 0);
	assert_int_equal(fg_statefile_open(path, O_RDWR | O_CREAT, 0600, &fd), -ELOOP);
	assert_int_equal(access(other, F_OK), -1);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(fg_statefile_open(path, O_RDWR, 0, &fd), -EISDIR);
	assert_int_equal(fg_statefile_open(path, O_RDONLY, 0, &fd), -EISDIR);
	assert_int_equal(rmdir(path), 0);

	/* a FIFO must neither block the open nor be taken for a file */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(fg_statefile_open(path, O_RDONLY, 0, &fd), -EBADF);
	assert_int_equal(fg_statefile_open(path, O_WRONLY, 0, &fd), -EBADF);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(fd, -1);

	assert_true(fg_statefile_foreign(-ELOOP) && fg_statefile_foreign(-EISDIR) &&
		    fg_statefile_foreign(-EBADF) && fg_statefile_foreign(-EPERM) &&
		    fg_statefile_foreign(-ENOTDIR));
	assert_false(fg_statefile_foreign(-ENOENT) || fg_statefile_foreign(-EIO) ||
		     fg_statefile_foreign(-ENOSPC) || fg_statefile_foreign(0));
	assert_int_equal(heard, 0);	/* opening sets nothing aside by itself */
}

static void test_other_owner(void **state)
{
	int fd;

	if (geteuid() != 0) {
		/* only root can give a file away: use one root owns */
		assert_int_equal(fg_statefile_open("/etc/passwd", O_RDONLY, 0, &fd), -EPERM);
		return;
	}
	put(path, "x", 0600);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(fg_statefile_open(path, O_RDONLY, 0, &fd), -EPERM);
	/* root on the service user's folder: that user's files are ours */
	fg_statefile_trust_owner(65534);
	assert_int_equal(fg_statefile_open(path, O_RDONLY, 0, &fd), 0);
	close(fd);
	fg_statefile_trust_owner((uid_t)-1);
	assert_int_equal(fg_statefile_open_existing(path, O_RDONLY, &fd), -ENOENT);
	assert_int_equal(heard, 1);
	assert_string_equal(heard_why, "owned by another user");
}

static void test_set_aside_link_keeps_target(void **state)
{
	char link_target[512], *text;
	struct stat st;
	ssize_t n;
	int fd;

	put(other, "precious", 0644);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(fg_statefile_open_existing(path, O_RDWR, &fd), -ENOENT);
	assert_int_equal(heard, 1);
	assert_string_equal(heard_why, "a symbolic link");
	assert_string_equal(heard_path, path);
	assert_int_equal(strncmp(heard_aside, path, strlen(path)), 0);
	assert_int_equal(strncmp(heard_aside + strlen(path), ".bad-", 5), 0);
	/* the link itself moved, still pointing where it did; the target as it was */
	assert_int_equal(lstat(heard_aside, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(heard_aside, link_target, sizeof(link_target) - 1);
	assert_true(n > 0);
	link_target[n] = '\0';
	assert_string_equal(link_target, other);
	assert_int_equal(lstat(path, &st), -1);
	text = slurp(other);
	assert_string_equal(text, "precious");
	free(text);
	assert_int_equal(stat(other, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	/* a second one in the same second gets its own name */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(fg_statefile_open_existing(path, O_RDWR, &fd), -ENOENT);
	assert_int_equal(heard, 2);
	assert_string_equal(heard_why, "a directory");
	assert_int_equal(fg_statefile_count_aside(dir, NULL, 0), 2);
	assert_int_equal(fg_statefile_set_aside(path, "gone"), -ENOENT);
	assert_int_equal(heard, 2);
}

static void test_read_and_write(void **state)
{
	char *text = NULL;
	struct stat st;
	size_t len;

	assert_int_equal(fg_statefile_write(path, "one", 3, 0600), 0);
	assert_int_equal(fg_statefile_read(path, 100, &text, &len), 0);
	assert_string_equal(text, "one");
	assert_int_equal(len, 3);
	free(text);

	/* reading through a link: refused, set aside, reads as missing */
	put(other, "secret", 0600);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(fg_statefile_read(path, 100, &text, &len), -ENOENT);
	assert_int_equal(heard, 1);

	/* writing over a link: the link goes aside, the target keeps its bytes */
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(fg_statefile_write(path, "two", 3, 0600), 0);
	assert_int_equal(heard, 2);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	text = slurp(other);
	assert_string_equal(text, "secret");
	free(text);

	/* a directory in the way would make every rename fail: set aside */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(fg_statefile_write(path, "three", 5, 0600), 0);
	assert_int_equal(heard, 3);
	text = slurp(path);
	assert_string_equal(text, "three");
	free(text);
	assert_int_equal(fg_statefile_count_aside(dir, NULL, 0), 3);
}

static void test_mkdir(void **state)
{
	char sub[600], found[700];
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/a/b", path);
	assert_int_equal(fg_statefile_mkdir(sub), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(fg_statefile_mkdir(sub), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(heard, 0);
	assert_int_equal(rmdir(sub), 0);
	*strrchr(sub, '/') = '\0';
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(path), 0);

	/* a link to a folder elsewhere: set aside, a folder of our own made */
	assert_int_equal(mkdir(other, 0700), 0);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(fg_statefile_mkdir(path), 0);
	assert_int_equal(heard, 1);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* a file where a folder belongs */
	snprintf(sub, sizeof(sub), "%s/f", path);
	put(sub, "x", 0600);
	assert_int_equal(fg_statefile_mkdir(sub), 0);
	assert_int_equal(heard, 2);
	assert_string_equal(heard_why, "not a directory");
	assert_string_equal(heard_path, sub);
	assert_int_equal(fg_statefile_count_aside(path, found, sizeof(found)), 1);
	assert_int_equal(strncmp(found, sub, strlen(sub)), 0);
}

static void test_data_runs_skip_holes(void **state)
{
	const off_t gib = (off_t)1 << 30;
	off_t start, end, size;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fg_pwrite_all(fd, "head", 4, 0), 0);
	assert_int_equal(ftruncate(fd, 4 * gib), 0);
	assert_int_equal(fg_pwrite_all(fd, "tail", 4, 4 * gib - 4096), 0);
	assert_int_equal(fg_file_data_run(fd, 0, &start, &end), 1);
	assert_int_equal(start, 0);
	assert_true(end >= 4 && end < 4 * gib - 4096);
	if (end < gib) {
		/* the file system knows holes (tmpfs, ext4, xfs, btrfs do) */
		assert_int_equal(fg_file_data_run(fd, end, &start, &end), 1);
		assert_true(start <= 4 * gib - 4096 && start > gib);
		assert_int_equal(end, 4 * gib);
		assert_int_equal(fg_file_data_run(fd, end, &start, &end), 0);
	}
	/* data at the end: nothing to cut */
	assert_int_equal(fg_file_cut_hole_tail(fd, 8192, 4096, &size), 0);
	assert_int_equal(size, 4 * gib);
	/* a hole at the end: cut, to whole units, never below the minimum */
	assert_int_equal(ftruncate(fd, 4 * gib - 4096), 0);
	assert_int_equal(ftruncate(fd, 4 * gib), 0);
	assert_int_equal(fg_file_cut_hole_tail(fd, 8192, 4096, &size), 0);
	if (end < gib) {
		assert_int_equal(size, 8192);
		assert_int_equal(lseek(fd, 0, SEEK_END), 8192);
	}
	assert_int_equal(ftruncate(fd, 100), 0);
	assert_int_equal(fg_file_cut_hole_tail(fd, 8192, 4096, &size), 0);
	assert_int_equal(size, 100);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST_SETUP("/statefile/open-regular", test_open_regular, setup, teardown),
		FG_TEST_SETUP("/statefile/open-refuses-foreign", test_open_refuses_foreign, setup, teardown),
		FG_TEST_SETUP("/statefile/other-owner", test_other_owner, setup, teardown),
		FG_TEST_SETUP("/statefile/set-aside-link-keeps-target", test_set_aside_link_keeps_target, setup,
			      teardown),
		FG_TEST_SETUP("/statefile/read-and-write", test_read_and_write, setup, teardown),
		FG_TEST_SETUP("/statefile/mkdir", test_mkdir, setup, teardown),
		FG_TEST_SETUP("/statefile/data-runs-skip-holes", test_data_runs_skip_holes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
