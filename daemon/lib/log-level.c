/* Log level names (see log-level.h). */
#include <errno.h>
#include <stddef.h>
#include <strings.h>

#include "lib/log-level.h"
#include "lib/macro.h"

static const char *const level_names[] = {
	[FG_LOG_EMERG] = "emerg", [FG_LOG_ALERT] = "alert", [FG_LOG_CRIT] = "crit",
	[FG_LOG_ERR] = "err", [FG_LOG_WARNING] = "warning", [FG_LOG_NOTICE] = "notice",
	[FG_LOG_INFO] = "info", [FG_LOG_DEBUG] = "debug",
};

FG_DEFINE_STRING_TABLE_TO(, fg_log_level, int, level_names)

int fg_log_level_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (int l = FG_LOG_ERR; l <= FG_LOG_DEBUG; l++)
		if (strcasecmp(s, level_names[l]) == 0)
			return l;
	if (strcasecmp(s, "error") == 0)
		return FG_LOG_ERR;
	if (strcasecmp(s, "warn") == 0)
		return FG_LOG_WARNING;
	return -EINVAL;
}
