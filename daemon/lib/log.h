/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <syslog.h>

#include "lib/log-level.h"

/*
 * Logging. Under systemd (stderr is the journal stream) records go to the
 * journal with their priority; otherwise they go to stderr with a timestamp.
 * Never pass a secret here: mask it first (mask.h).
 */

void fg_log_set_level(int level);	/* LOG_ERR .. LOG_DEBUG */
int fg_log_get_level(void);
void fg_log_set_ident(const char *ident);	/* static string, not copied */
/* Re-detect the journal (JOURNAL_STREAM); called once at start-up. */
void fg_log_open(void);
/* Parse "err", "warning", "notice", "info", "debug"; -EINVAL otherwise. */

/*
 * Log at @level. @error is an errno value (sign ignored) made available to
 * "%m"; returns -abs(error), or -EIO when error is 0, so that
 * "return log_error_errno(r, ...)" passes the failure on.
 */
int fg_log_internal(int level, int error, const char *file, int line,
		    const char *func, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#define fg_log_full_errno(level, error, ...) \
	fg_log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...)   ((void)fg_log_full_errno(LOG_DEBUG, 0, __VA_ARGS__))
#define log_info(...)    ((void)fg_log_full_errno(LOG_INFO, 0, __VA_ARGS__))
#define log_notice(...)  ((void)fg_log_full_errno(LOG_NOTICE, 0, __VA_ARGS__))
#define log_warning(...) ((void)fg_log_full_errno(LOG_WARNING, 0, __VA_ARGS__))
#define log_error(...)   ((void)fg_log_full_errno(LOG_ERR, 0, __VA_ARGS__))

#define log_debug_errno(e, ...)   fg_log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    fg_log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) fg_log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   fg_log_full_errno(LOG_ERR, (e), __VA_ARGS__)
