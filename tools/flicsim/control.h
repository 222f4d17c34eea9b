/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

/*
 * io.github.flicgate.Sim1 at /io/github/flicgate/sim, on its own bus
 * connection under the name io.github.flicgate.Sim1, so that it stays up
 * while the fake bluetoothd "restarts". See docs/simulator.md for the API.
 */

#define FS_CONTROL_NAME  "io.github.flicgate.Sim1"
#define FS_CONTROL_PATH  "/io/github/flicgate/sim"
#define FS_CONTROL_IFACE "io.github.flicgate.Sim1"

struct fs_control;

/* @sim must outlive the control. *ret owned by the caller. */
int fs_control_new(struct fs_sim *sim, enum fs_bus_kind kind, const char *address,
		   struct fs_control **ret);
struct fs_control *fs_control_free(struct fs_control *c);

/* Emits ButtonEventSent for one event item written to the client; an
 * fs_sim_event_sent_cb, @userdata the fs_control (may be NULL). */
void fs_control_event_sent(struct fs_button *b, const struct fs_event_item *ev,
			   bool queued, uint64_t sent_usec, void *userdata);
