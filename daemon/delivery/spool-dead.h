/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * The spool's dead letters: <spool>/dead/t-<target>-<seq>.alert, each with
 * a .reason file beside it, for people to read. Written durably; never
 * read back as alerts.
 */

/* Write @len bytes of @text as @target's dead letter @seq, with @reason, durably. */
int fg_spool_dead_write(const char *spool_dir, const char *target, uint64_t seq, const char *text,
			size_t len, const char *reason);

/*
 * Count the dead letters earlier runs left (*ret_count) and the highest
 * sequence number their names give (*ret_max_seq, 0 if none). A missing
 * folder counts nothing.
 */
int fg_spool_dead_scan(const char *spool_dir, size_t *ret_count, uint64_t *ret_max_seq);
