/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The manager's insides, shared by manager.c (start-up, subsystems, signals),
 * manager-api.c (what the control API shows and does), manager-journal.c
 * (counters in the journal) and manager-supervision.c. Nothing else
 * includes this.
 */

#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "control/api.h"
#include "radio/buttons.h"
#include "feedback/gpio.h"
#include "delivery/pipeline.h"
#include "manager.h"

struct fg_manager {
	struct fg_manager_options opts;
	char *config_path;		/* as given; NULL = search path */
	char *bus_address;
	struct fg_config *config;
	bool boot_errors;		/* flicgate-errors.txt lies beside the config file */

	sd_event *event;
	sd_bus *bus;
	uint64_t start_time_usec;	/* CLOCK_REALTIME */

	/* control API (D-Bus) */
	struct fg_api *api;
	char api_last_delivery[256];	/* key of the newest attempt announced */
	uint64_t api_pairing_end;	/* CLOCK_REALTIME end of the open window, else 0 */
	char api_pairing_failure[160];	/* why the window's attempt failed */

	/* subsystems */
	struct fg_gpio *gpio;		/* NULL if its lines could not be had */
	struct fg_pipeline *pipeline;	/* alerts: mapping, spool, delivery */
	struct fg_buttons *buttons;	/* the radio: BlueZ and the Flic 2 buttons */

	/* signals */
	sd_event_source *sigterm_source;
	sd_event_source *sigint_source;
	sd_event_source *sighup_source;

	int exit_code;

	/* supervision: alarms, audit trail, heartbeat (supervision/supervision.h) */
	struct fg_supervision *supervision;
	char *running_marker;		/* <state_dir>/running while the loop runs */
	char restart_reason[160];	/* "" or why the last run ended badly */
	char state_aside_last[320];	/* the latest state file set aside, for the alarm */
};

/*
 * manager-api.c. Calls go one way, from manager.c: what manager-api.c
 * needs of manager.c (the reload) it is handed at set-up.
 * @reload: the Gateway's Reload, called with @m as userdata.
 */
int manager_api_setup(struct fg_manager *m, int (*reload)(struct fg_api_error *err, void *userdata));
void manager_api_pipeline_event(struct fg_manager *m, const struct fg_pipeline_event *ev);
void manager_api_button_changed(struct fg_manager *m, const struct fg_button_status *st);
void manager_api_pairing(struct fg_manager *m, const struct fg_pairing_report *rep);

/*
 * manager-journal.c: a button's event counter goes into the pipeline's
 * journal as "counter:aabbccddeeff" (the radio's persist_counter and
 * load_counter, @userdata the manager); the journal's commit is passed on
 * to the radio (the pipeline's commit callback), which acknowledges then.
 */
int manager_persist_counter(struct fg_buttons *bs, const uint8_t address[6],
			    const struct fg_flic2_dedup *d, void *userdata);
int manager_load_counter(struct fg_buttons *bs, const uint8_t address[6],
			 struct fg_flic2_dedup *ret, void *userdata);
void manager_journal_committed(struct fg_pipeline *p, int r, void *userdata);

/* manager-supervision.c: the control API's supervision calls (io/api.h) */
void manager_supervision_api(struct fg_api_provider *p);
void manager_supervision_ack(struct fg_manager *m, bool silenced, const char *via);
/*
 * State files set aside (lib/statefile.h): _setup() hears of each from now
 * on (the log); _check() counts what lies set aside in the state folders
 * and opens or closes the state-files alarm (at start, reload, each one).
 */
void manager_state_files_setup(struct fg_manager *m);
void manager_state_files_check(struct fg_manager *m);

/*
 * manager-state.c. The running marker: read at start (a leftover one sets
 * m->restart_reason), written once the loop runs. manager_read_boot_errors()
 * sets m->boot_errors from flicgate-errors.txt beside the configuration.
 */
void manager_read_running_marker(struct fg_manager *m);
int manager_write_running_marker(struct fg_manager *m);
void manager_read_boot_errors(struct fg_manager *m);
