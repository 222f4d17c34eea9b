/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include <systemd/sd-event.h>

#include "bluez-sim.h"
#include "button.h"

/*
 * The simulator process: one sd-event loop that owns the fake bluetoothd
 * (bluez-sim.c), the emulated buttons (button.c) and the control interface
 * (control.c). Shared by the three; the struct lives in main.c.
 */

struct fs_control;
struct fs_periph;

struct fs_sim {
	sd_event *event;
	struct fs_bluez *bluez;		/* NULL in peripheral mode */
	struct fs_periph *periph;	/* --peripheral: the button on a real bluetoothd */
	struct fs_control *control;
	struct fs_button **buttons;
	size_t n_buttons;
	uint32_t latency_ms;	/* default for new buttons */
};

/* Creates a button, registers it with the radio. *ret_button borrowed. */
int fs_sim_add_button(struct fs_sim *sim, const struct fs_button_config *cfg,
		      struct fs_button **ret_button);
int fs_sim_remove_button(struct fs_sim *sim, struct fs_button *btn);
/* Case-insensitive "AA:BB:CC:DD:EE:FF"; NULL if unknown. */
struct fs_button *fs_sim_find_button(struct fs_sim *sim, const char *address);

/* Parses "AA:BB:CC:DD:EE:FF" into display-order bytes. 0 or -EINVAL. */
int fs_parse_address(const char *s, uint8_t ret[6]);
/* Applies one "key=value" button option (the --buttons file and the
 * AddButton options share the names). 0, -EINVAL, or -ENOENT (unknown key). */
int fs_button_config_set(struct fs_button_config *c, const char *key, const char *value);
