/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/*
 * Replace @path with @data durably: write "<path>.tmp.XXXXXX" in the same
 * directory, fsync it, fchmod to @mode, rename over @path, fsync the
 * directory. After a power loss at any point, @path holds either the old or
 * the new contents, never a mix. Returns 0 or -errno (-ENOSPC on a full
 * disk: the old file is left untouched and the temp file removed).
 */
int fg_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode);

/*
 * Read a whole regular file into a NUL-terminated buffer (the NUL is not
 * counted in *ret_len). Refuses files larger than @max_size with -EFBIG.
 * On success *ret_data is owned by the caller (free()).
 */
int fg_read_file(const char *path, size_t max_size, char **ret_data,
		 size_t *ret_len);
/* The same from the current offset of an open @fd (not closed here). */
int fg_read_fd(int fd, size_t max_size, char **ret_data, size_t *ret_len);

/* fsync the directory that contains @path (or @path itself if a dir). */
int fg_fsync_dir_of(const char *path);

/* mkdir -p with @mode for created components; existing dirs are kept. */
int fg_mkdir_p(const char *path, mode_t mode);

/* pwrite()/pread() all of @len at @off, through EINTR and short transfers.
 * fg_pread_full() returns the bytes read (fewer only at the end of the file). */
int fg_pwrite_all(int fd, const void *data, size_t len, off_t off);
ssize_t fg_pread_full(int fd, void *data, size_t len, off_t off);
