/* SPDX-License-Identifier: MIT */
/* The spool's dead-letter folder: alerts a target will never accept, written
 * for people with the reason beside them, and counted at start-up. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/spool-dead.h"
#include "delivery/spool-record.h"
#include "lib/fileio.h"
#include "lib/statefile.h"

/*
 * dead/t-<target>-<seq>.alert, or with a -2, -3… suffix if taken (a
 * record resurrected by a crash can share its sequence with a new one).
 */
static int dead_path(const char *dir, const char *target, uint64_t seq, char **ret_alert,
		     char **ret_reason)
{
	for (unsigned n = 1; n < 1000; n++) {
		char sfx[16] = "";

		if (n > 1)
			snprintf(sfx, sizeof(sfx), "-%u", n);
		if (asprintf(ret_alert, "%s/dead/t-%s-%016" PRIx64 "%s.alert", dir, target, seq,
			     sfx) < 0)
			return -ENOMEM;
		if (access(*ret_alert, F_OK) < 0 && errno == ENOENT) {
			if (asprintf(ret_reason, "%s/dead/t-%s-%016" PRIx64 "%s.reason", dir, target,
				     seq, sfx) < 0) {
				free(*ret_alert);
				return -ENOMEM;
			}
			return 0;
		}
		free(*ret_alert);
	}
	return -EEXIST;
}

int fg_spool_dead_write(const char *spool_dir, const char *target, uint64_t seq, const char *text,
			size_t len, const char *reason)
{
	char *to = NULL, *why = NULL;
	int r;

	r = dead_path(spool_dir, target, seq, &to, &why);
	if (r < 0)
		return r;
	r = fg_statefile_write(to, text, len, 0600);
	/* The reason is for people; losing it to a full disk loses nothing. */
	if (r >= 0)
		(void)fg_statefile_write(why, reason, strlen(reason), 0600);
	free(to);
	free(why);
	return r;
}

int fg_spool_dead_scan(const char *spool_dir, size_t *ret_count, uint64_t *ret_max_seq)
{
	struct dirent *de;
	char *dead = NULL;
	uint64_t max = 0;
	size_t count = 0;
	DIR *d;

	if (asprintf(&dead, "%s/dead", spool_dir) < 0)
		return -ENOMEM;
	d = opendir(dead);
	free(dead);
	if (d) {
		while ((de = readdir(d))) {
			uint64_t seq;
			int k = fg_spool_dead_name_seq(de->d_name, &seq);

			if (k < 0)
				continue;
			count++;
			if (k > 0 && seq > max)
				max = seq;
		}
		closedir(d);
	}
	*ret_count = count;
	*ret_max_seq = max;
	return 0;
}
