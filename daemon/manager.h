/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "config/config.h"

/*
 * The one owner of everything flicgated runs: the sd-event loop, the D-Bus
 * connection, the configuration and every subsystem. Single-threaded.
 */
struct fg_manager;

struct fg_manager_options {
	const char *config_path;	/* NULL: the search path; kept for reloads */
	const char *bus_address;	/* NULL: the system bus (or user bus) */
	bool user_bus;			/* connect to the session bus (tests) */
	int log_level;			/* -1: from the config */
};

/*
 * Takes ownership of @config (also on failure). @opts is copied.
 * *ret is owned by the caller: fg_manager_free().
 */
int fg_manager_new(const struct fg_manager_options *opts, struct fg_config *config,
		   struct fg_manager **ret);

/* Runs the loop until SIGTERM/SIGINT or a fatal error; returns an exit code. */
int fg_manager_run(struct fg_manager *m);

/*
 * Re-read the configuration. A file with errors is rejected (each error is
 * logged) and the running configuration stays. Returns 0 or -errno.
 */
int fg_manager_reload(struct fg_manager *m);

struct fg_manager *fg_manager_free(struct fg_manager *m);
