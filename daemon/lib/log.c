/* SPDX-License-Identifier: MIT */
/* The daemon's and the tools' log: journal records under systemd, timestamped stderr in a terminal. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static int log_level = LOG_INFO;
static const char *log_ident = "flicgate";
/* stderr is connected to the journal: use "<N>" priority prefixes, no timestamps */
static int log_to_journal;

static_assert(FG_LOG_EMERG == LOG_EMERG && FG_LOG_CRIT == LOG_CRIT && FG_LOG_ERR == LOG_ERR &&
	      FG_LOG_WARNING == LOG_WARNING && FG_LOG_NOTICE == LOG_NOTICE &&
	      FG_LOG_INFO == LOG_INFO && FG_LOG_DEBUG == LOG_DEBUG,
	      "lib/log-level.h names syslog's priorities");

void fg_log_set_level(int level)
{
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_level = level;
}

int fg_log_get_level(void)
{
	return log_level;
}

void fg_log_set_ident(const char *ident)
{
	log_ident = ident;
}

void fg_log_open(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	log_to_journal = 0;
	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return;
	if (fstat(STDERR_FILENO, &st) < 0)
		return;
	log_to_journal = (unsigned long long)st.st_dev == dev &&
			 (unsigned long long)st.st_ino == ino;
}

int fg_log_internal(int level, int error, const char *file, int line,
		    const char *func, const char *fmt, ...)
{
	int saved_errno = errno;
	char msg[2048];
	va_list ap;

	if (error < 0)
		error = -error;
	if (level > log_level)
		return error ? -error : -EIO;

	/* make "%m" print @error, as systemd's log_*_errno() do */
	errno = error;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_to_journal) {
		fprintf(stderr, "<%d>%s\n", level, msg);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		if (log_level >= LOG_DEBUG)
			fprintf(stderr, "%s.%03ld %s[%s] %s (%s:%d %s)\n", stamp,
				ts.tv_nsec / 1000000, log_ident, fg_log_level_to_string(level),
				msg, file, line, func);
		else
			fprintf(stderr, "%s.%03ld %s[%s] %s\n", stamp,
				ts.tv_nsec / 1000000, log_ident, fg_log_level_to_string(level), msg);
	}
	errno = saved_errno;
	return error ? -error : -EIO;
}
