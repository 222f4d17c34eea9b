/* SPDX-License-Identifier: MIT */
/* Durable file writes (temp file, fsync, rename, directory fsync) and whole-file reads for state files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"

int fg_pwrite_all(int fd, const void *data, size_t len, off_t off)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

ssize_t fg_pread_full(int fd, void *data, size_t len, off_t off)
{
	uint8_t *p = data;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, off + (off_t)got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int fg_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	const char *slash;
	int fd, r = 0;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (strlen(path) >= sizeof(dir))
			return -ENAMETOOLONG;
		strcpy(dir, path);
	} else {
		slash = strrchr(path, '/');
		if (!slash) {
			strcpy(dir, ".");
		} else if (slash == path) {
			strcpy(dir, "/");
		} else {
			if ((size_t)(slash - path) >= sizeof(dir))
				return -ENAMETOOLONG;
			memcpy(dir, path, (size_t)(slash - path));
			dir[slash - path] = '\0';
		}
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int fg_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* mkostemp creates 0600; set the wanted mode before any data lands */
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto failed_tmp;
	}
	r = fg_pwrite_all(fd, data, len, 0);
	if (r < 0)
		goto failed_tmp;
	if (fsync(fd) < 0) {
		r = -errno;
		goto failed_tmp;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto failed_tmp;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto failed_tmp;
	}
	/* the rename is only durable once the directory entry is on disk */
	return fg_fsync_dir_of(path);

failed_tmp:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

int fg_read_fd(int fd, size_t max_size, char **ret_data, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EBADF;
	if ((size_t)st.st_size > max_size)
		return -EFBIG;
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max_size) {
			free(buf);
			return -EFBIG;
		}
		if (len == cap) {
			/* the file grew while we read it */
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	*ret_data = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int fg_read_file(const char *path, size_t max_size, char **ret_data,
		 size_t *ret_len)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = fg_read_fd(fd, max_size, ret_data, ret_len);
	close(fd);
	return r;
}

int fg_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}
