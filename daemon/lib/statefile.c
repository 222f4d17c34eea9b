/* SPDX-License-Identifier: MIT */
/* State files and folders that cannot be tricked: no symbolic links followed,
 * owner and type checked, anything else set aside (lib/statefile.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/statefile.h"

static fg_statefile_handler_t handler;
static void *handler_userdata;
static uid_t also_trusted = (uid_t)-1;

void fg_statefile_trust_owner(uid_t uid)
{
	also_trusted = uid;
}

void fg_statefile_set_handler(fg_statefile_handler_t h, void *userdata)
{
	handler = h;
	handler_userdata = userdata;
}

bool fg_statefile_foreign(int r)
{
	return r == -ELOOP || r == -EISDIR || r == -ENOTDIR || r == -EBADF || r == -EPERM;
}

const char *fg_statefile_foreign_str(int r)
{
	switch (r) {
	case -ELOOP:
		return "a symbolic link";
	case -EISDIR:
		return "a directory";
	case -ENOTDIR:
		return "not a directory";
	case -EBADF:
		return "not a regular file";
	case -EPERM:
		return "owned by another user";
	}
	return "not ours";
}

int fg_statefile_check_fd(int fd, bool dir)
{
	mode_t want = dir ? 0700 : 0600;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (dir && !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!dir && S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!dir && !S_ISREG(st.st_mode))
		return -EBADF;
	if (st.st_uid != geteuid() && st.st_uid != also_trusted)
		return -EPERM;
	/* ours, so we may: nobody else reads keys or alerts */
	if ((st.st_mode & 0077) && fchmod(fd, st.st_mode & want & 07777) < 0)
		return -errno;
	return 0;
}

int fg_statefile_open(const char *path, int flags, mode_t mode, int *ret_fd)
{
	int fd, r;

	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer */
	fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, mode);
	if (fd < 0) {
		r = -errno;
		/* O_RDWR on a directory; O_PATH-less way to tell a link apart */
		if (r == -EISDIR || r == -ELOOP || r == -ENXIO || r == -EWOULDBLOCK) {
			struct stat st;

			if (lstat(path, &st) == 0)
				r = S_ISLNK(st.st_mode) ? -ELOOP : S_ISDIR(st.st_mode) ? -EISDIR : -EBADF;
		}
		return r;
	}
	r = fg_statefile_check_fd(fd, false);
	if (r >= 0 && !(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int fg_statefile_open_existing(const char *path, int flags, int *ret_fd)
{
	int r = fg_statefile_open(path, flags & ~O_CREAT, 0, ret_fd);

	if (!fg_statefile_foreign(r))
		return r;
	r = fg_statefile_set_aside(path, fg_statefile_foreign_str(r));
	return r < 0 && r != -ENOENT ? r : -ENOENT;
}

int fg_statefile_set_aside(const char *path, const char *why)
{
	char aside[PATH_MAX], stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return -EINVAL;
	for (unsigned i = 1; i <= 100; i++) {
		n = i == 1 ? snprintf(aside, sizeof(aside), "%s.bad-%s", path, stamp)
			   : snprintf(aside, sizeof(aside), "%s.bad-%s-%u", path, stamp, i);
		if (n < 0 || (size_t)n >= sizeof(aside))
			return -ENAMETOOLONG;
		/* rename() works on the entry itself: a link's target is never touched */
		if (renameat2(AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE) == 0) {
			(void)fg_fsync_dir_of(aside);
			if (handler)
				handler(path, aside, why, handler_userdata);
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Set @path aside because of @r, for the read and write helpers. */
static int set_aside_for(const char *path, int r)
{
	char why[64];

	snprintf(why, sizeof(why), "%s", fg_statefile_foreign_str(r));
	return fg_statefile_set_aside(path, why);
}

int fg_statefile_read(const char *path, size_t max_size, char **ret_data, size_t *ret_len)
{
	int fd, r;

	r = fg_statefile_open(path, O_RDONLY, 0, &fd);
	if (fg_statefile_foreign(r)) {
		r = set_aside_for(path, r);
		return r < 0 ? r : -ENOENT;
	}
	if (r < 0)
		return r;
	r = fg_read_fd(fd, max_size, ret_data, ret_len);
	close(fd);
	return r;
}

int fg_statefile_write(const char *path, const void *data, size_t len, mode_t mode)
{
	struct stat st;
	int r = 0;

	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			r = -ELOOP;
		else if (S_ISDIR(st.st_mode))
			r = -EISDIR;
		else if (!S_ISREG(st.st_mode))
			r = -EBADF;
		else if (st.st_uid != geteuid() && st.st_uid != also_trusted)
			r = -EPERM;
	}
	if (r < 0) {
		r = set_aside_for(path, r);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return fg_write_file_atomic(path, data, len, mode);
}

/* Open the folder @path itself, not through a link; checked. */
static int open_dir(const char *path, int *ret_fd)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP || r == -ENOTDIR) {
			struct stat st;

			if (lstat(path, &st) == 0)
				r = S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
		}
		return r;
	}
	r = fg_statefile_check_fd(fd, true);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int fg_statefile_mkdir(const char *path)
{
	int fd, r;

	for (int tries = 0; tries < 2; tries++) {
		r = open_dir(path, &fd);
		if (r >= 0) {
			close(fd);
			return 0;
		}
		if (r == -ENOENT) {
			r = fg_mkdir_p(path, 0700);
			if (r < 0 && r != -ENOTDIR)
				return r;
			r = open_dir(path, &fd);
			if (r >= 0) {
				close(fd);
				return 0;
			}
		}
		if (!fg_statefile_foreign(r))
			return r;
		r = set_aside_for(path, r);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return -ELOOP;
}

int fg_file_data_run(int fd, off_t off, off_t *ret_start, off_t *ret_end)
{
	off_t start, end;

	start = lseek(fd, off, SEEK_DATA);
	if (start < 0 && errno == EINVAL) {
		/* no hole support: all of it is data */
		struct stat st;

		if (fstat(fd, &st) < 0)
			return -errno;
		if (off >= st.st_size)
			return 0;
		*ret_start = off;
		*ret_end = st.st_size;
		return 1;
	}
	if (start < 0)
		/* ENXIO: nothing but a hole (or EOF) from @off on */
		return errno == ENXIO ? 0 : -errno;
	end = lseek(fd, start, SEEK_HOLE);
	if (end < 0)
		return -errno;
	*ret_start = start;
	*ret_end = end;
	return 1;
}

int fg_file_cut_hole_tail(int fd, off_t min_size, off_t align, off_t *ret_size)
{
	off_t start, end, last = 0, keep;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	for (off_t off = 0; (r = fg_file_data_run(fd, off, &start, &end)) > 0; off = end)
		last = end;
	if (r < 0)
		return r;
	keep = (last + align - 1) / align * align;
	if (keep < min_size)
		keep = min_size;
	if (keep < st.st_size) {
		if (ftruncate(fd, keep) < 0)
			return -errno;
		st.st_size = keep;
	}
	*ret_size = st.st_size;
	return 0;
}

size_t fg_statefile_count_aside(const char *dir, char *ret_name, size_t size)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".bad-")) {
			if (ret_name && size)
				snprintf(ret_name, size, "%s/%s", dir, de->d_name);
			n++;
		}
	closedir(d);
	return n;
}
