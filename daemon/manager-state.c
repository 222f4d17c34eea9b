/* SPDX-License-Identifier: MIT */
/* The manager's own small state files: the running marker that tells a
 * crash from a clean stop, and the image's flicgate-errors.txt beside the
 * configuration. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/statefile.h"
#include "lib/strv.h"
#include "manager-private.h"

/*
 * The SD-card image's boot-time applier writes flicgate-errors.txt beside
 * flicgate.ini for every value it could not apply; the status LED shows
 * the config-fault pattern while it is there (read at start and reload).
 */
void manager_read_boot_errors(struct fg_manager *m)
{
	_cleanup_free_ char *dir = strdup(m->config->path);
	char path[PATH_MAX];

	m->boot_errors = false;
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/flicgate-errors.txt", dirname(dir));
	m->boot_errors = access(path, F_OK) == 0;
	if (m->boot_errors)
		log_warning("%s: values of flicgate.ini were not applied at boot; it says which", path);
}

/*
 * <state_dir>/running exists while the loop runs and goes at a clean stop.
 * Found at start, it means the last run ended otherwise: killed by the
 * watchdog (a hung loop), a crash, kill -9, or power lost. The boot id in
 * it tells a reboot from a restart of the daemon alone.
 */
void manager_read_running_marker(struct fg_manager *m)
{
	char *text = NULL, boot[64] = "", *cur = NULL;
	size_t len;
	unsigned long pid = 0;

	if (fg_statefile_read(m->running_marker, 4096, &text, &len) < 0)
		return;
	if (sscanf(text, "pid %lu boot %63s", &pid, boot) < 2)
		boot[0] = '\0';
	free(text);
	if (fg_read_file("/proc/sys/kernel/random/boot_id", 128, &cur, &len) >= 0) {
		cur[strcspn(cur, "\n")] = '\0';
		if (boot[0] && strcmp(cur, boot) != 0)
			snprintf(m->restart_reason, sizeof(m->restart_reason),
				 "a reboot without a clean stop (power lost?)");
	}
	free(cur);
	if (!m->restart_reason[0])
		snprintf(m->restart_reason, sizeof(m->restart_reason),
			 "an abnormal end of flicgated (pid %lu): crash, hung loop killed by the watchdog, or kill",
			 pid);
}

int manager_write_running_marker(struct fg_manager *m)
{
	char *boot = NULL, text[160];
	size_t len;

	if (fg_read_file("/proc/sys/kernel/random/boot_id", 128, &boot, &len) >= 0)
		boot[strcspn(boot, "\n")] = '\0';
	snprintf(text, sizeof(text), "pid %lu boot %s\n", (unsigned long)getpid(), boot ? boot : "-");
	free(boot);
	return fg_statefile_write(m->running_marker, text, strlen(text), 0600);
}
