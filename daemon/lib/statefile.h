/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The files and folders the daemon keeps its state in, opened so that they
 * cannot be tricked: never through a symbolic link (O_NOFOLLOW on the last
 * component), and only if fstat() says it is a regular file (a directory
 * for folders) owned by the daemon's effective user. A group or world bit
 * on one of ours is taken away (files 0600, folders 0700).
 *
 * Something else found where a state file should be is "foreign": it is
 * set aside, renamed to "<path>.bad-<UTC time>" (a symbolic link is
 * renamed itself; its target is never opened, read or written), the
 * handler set with fg_statefile_set_handler() hears of it (the daemon
 * raises its state-files alarm), and the caller makes a fresh one.
 *
 * Errors, as -errno: a foreign entry gives -ELOOP (a symbolic link),
 * -EISDIR (a directory where a file belongs), -ENOTDIR (a file where a
 * folder belongs), -EBADF (a device, FIFO or socket) or -EPERM (another
 * user's); fg_statefile_foreign() tells those from a failing disk.
 */

/*
 * Files of @uid count as the daemon's own too: root running the daemon on
 * the service user's state folder (its owner could change anything in it
 * anyway). (uid_t)-1, the default: only the effective user's.
 */
void fg_statefile_trust_owner(uid_t uid);

/* True for the errors above that mean "not one of ours" (set it aside). */
bool fg_statefile_foreign(int r);

/*
 * Open the state file @path: @flags (O_RDONLY, O_RDWR, O_CREAT, O_EXCL…)
 * plus O_NOFOLLOW, O_CLOEXEC and O_NOCTTY; a new file gets @mode. Never
 * blocks on a FIFO. On success *ret_fd is the caller's to close().
 */
int fg_statefile_open(const char *path, int flags, mode_t mode, int *ret_fd);

/*
 * The same for a file that is only opened if it exists: a foreign entry
 * is set aside and the result is -ENOENT, as if nothing had been there.
 */
int fg_statefile_open_existing(const char *path, int flags, int *ret_fd);

/*
 * Check an open descriptor the same way: a regular file (@dir false) or a
 * directory (@dir true) owned by the effective user; fixes the mode.
 */
int fg_statefile_check_fd(int fd, bool dir);

/*
 * Rename @path (whatever it is) to "<path>.bad-<YYYYmmddTHHMMSSZ>" (with
 * "-2", "-3"… if taken) and fsync the folder; @why says what was wrong, for
 * the handler and the log. Returns 0 or -errno (-ENOENT if it is gone).
 */
int fg_statefile_set_aside(const char *path, const char *why);

/* What made @r foreign, for people: "a symbolic link", "a directory"… */
const char *fg_statefile_foreign_str(int r);

/*
 * Read the whole state file @path into a NUL-terminated buffer, like
 * fg_read_file() but through fg_statefile_open(). A foreign entry is set
 * aside and reads as missing (-ENOENT). *ret_data owned by the caller.
 */
int fg_statefile_read(const char *path, size_t max_size, char **ret_data, size_t *ret_len);

/*
 * Replace the state file @path durably (fg_write_file_atomic(), whose temp
 * file is made with O_EXCL and so never follows a link planted there). A
 * foreign entry at @path is set aside first: a directory would make the
 * rename fail for ever, and a link is reported rather than quietly replaced.
 */
int fg_statefile_write(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Make sure the state folder @path exists (parents as fg_mkdir_p(), 0700)
 * and is a folder of ours, not a link to one; a foreign entry is set aside
 * and a fresh folder made. The folder the administrator configured
 * (state_dir) may itself be a link: systemd's DynamicUser= makes it one;
 * the daemon checks that one on its own (root may use another user's).
 */
int fg_statefile_mkdir(const char *path);

/*
 * Where the data of @fd is, for a fast scan of a sparse file: the first
 * byte of data at or after @off in *ret_start and the end of that run of
 * data in *ret_end (SEEK_DATA, SEEK_HOLE). Returns 1 with both set, 0 when
 * no data follows @off. A file system without hole support reports the
 * whole rest as data.
 */
int fg_file_data_run(int fd, off_t off, off_t *ret_start, off_t *ret_end);

/*
 * Cut a hole at the end of @fd off (it reads as zeros), keeping at least
 * @min_size bytes and whole @align units; *ret_size is the size after.
 * A hole inside the file or data at the end are left as they are.
 */
int fg_file_cut_hole_tail(int fd, off_t min_size, off_t align, off_t *ret_size);

/*
 * How many entries of @dir are set aside ("<name>.bad-<time>"); the name
 * of one of them (the path) goes to @ret_name if it is not NULL. 0 when
 * @dir cannot be read.
 */
size_t fg_statefile_count_aside(const char *dir, char *ret_name, size_t size);

/*
 * Who hears of every file set aside: @path the old name, @aside the new
 * one, @why what was wrong. One handler per process; NULL clears it.
 * @userdata must live until cleared.
 */
typedef void (*fg_statefile_handler_t)(const char *path, const char *aside, const char *why,
				       void *userdata);
void fg_statefile_set_handler(fg_statefile_handler_t handler, void *userdata);
