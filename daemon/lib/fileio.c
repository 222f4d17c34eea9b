/* SPDX-License-Identifier: MIT */
/* Durable file writes (temp file, fsync, rename, directory fsync) and whole-file reads for state files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
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
	r = write_all(fd, data, len);
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

int fg_read_file(const char *path, size_t max_size, char **ret_data,
		 size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto failed_fd;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto failed_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EBADF;
		goto failed_fd;
	}
	if ((size_t)st.st_size > max_size) {
		r = -EFBIG;
		goto failed_fd;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		r = -ENOMEM;
		goto failed_fd;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto failed_buf;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max_size) {
			r = -EFBIG;
			goto failed_buf;
		}
		if (len == cap) {
			/* the file grew while we read it */
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb) {
				r = -ENOMEM;
				goto failed_buf;
			}
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	close(fd);
	*ret_data = buf;
	if (ret_len)
		*ret_len = len;
	return 0;

failed_buf:
	free(buf);
failed_fd:
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
