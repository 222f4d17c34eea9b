/* Log levels by name: the syslog(3) priorities the log, the config file's
 * [gateway] log_level and flicgated --log-level share, without <syslog.h>
 * (so pure code can parse them; lib/log.c checks the numbers). */
#pragma once

enum {
	FG_LOG_EMERG = 0,
	FG_LOG_ALERT = 1,
	FG_LOG_CRIT = 2,
	FG_LOG_ERR = 3,
	FG_LOG_WARNING = 4,
	FG_LOG_NOTICE = 5,
	FG_LOG_INFO = 6,
	FG_LOG_DEBUG = 7,
};

/*
 * "err", "warning", "notice", "info", "debug" in any case, and the aliases
 * "error" and "warn" -> FG_LOG_ERR .. FG_LOG_DEBUG; -EINVAL otherwise (also
 * for the levels above err, which flicgate never filters at).
 */
int fg_log_level_from_string(const char *s);
/* FG_LOG_EMERG .. FG_LOG_DEBUG -> its name; NULL out of range. */
const char *fg_log_level_to_string(int level);
