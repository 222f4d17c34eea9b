/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "bluez-sim.h"
#include "button.h"

/*
 * The simulator as a whole: the radio (the fake bluetoothd of bluez-sim.c,
 * or a real one in peripheral mode, periph.c) and the emulated buttons on
 * it. main.c sets it up; control.c drives it. It knows neither: who hears
 * about events sent registers with fs_sim_set_event_sent().
 */

struct fs_periph;

/* An event item was written to the client by button @b. */
typedef void (*fs_sim_event_sent_cb)(struct fs_button *b, const struct fs_event_item *ev,
				     bool queued, uint64_t sent_usec, void *userdata);

struct fs_sim {
	sd_event *event;
	struct fs_bluez *bluez;		/* NULL in peripheral mode */
	struct fs_periph *periph;	/* --peripheral: the button on a real bluetoothd */
	struct fs_button **buttons;
	size_t n_buttons;
	uint32_t latency_ms;	/* default for new buttons */

	fs_sim_event_sent_cb event_sent;
	void *event_sent_userdata;
};

/* @userdata must live as long as the registration (NULL @cb: none). */
void fs_sim_set_event_sent(struct fs_sim *sim, fs_sim_event_sent_cb cb, void *userdata);

/* Creates a button, registers it with the radio. *ret_button (may be NULL
 * @ret_button) is owned by @sim. */
int fs_sim_add_button(struct fs_sim *sim, const struct fs_button_config *cfg,
		      struct fs_button **ret_button);
/* Unregisters and frees @btn. 0 or -ENOENT. */
int fs_sim_remove_button(struct fs_sim *sim, struct fs_button *btn);
/* Every button, and the list itself. */
void fs_sim_remove_all(struct fs_sim *sim);
/* Case-insensitive "AA:BB:CC:DD:EE:FF"; NULL if unknown. Owned by @sim. */
struct fs_button *fs_sim_find_button(struct fs_sim *sim, const char *address);

/*
 * --buttons FILE: one button per line, NAME ADDRESS [SERIAL] [key=value ...];
 * '#' starts a comment, NAME "-" keeps the default. Errors are logged with
 * file:line. 0 or -errno.
 */
int fs_sim_load_buttons(struct fs_sim *sim, const char *path);

/* A number (C syntax: decimal, 0x.., 0..) up to @max. 0 or -EINVAL. */
int fs_parse_u32(const char *s, uint32_t max, uint32_t *ret);
/* Parses "AA:BB:CC:DD:EE:FF" into display-order bytes. 0 or -EINVAL. */
int fs_parse_address(const char *s, uint8_t ret[6]);
/* Applies one "key=value" button option (the --buttons file and the
 * AddButton options share the names). 0, -EINVAL, or -ENOENT (unknown key). */
int fs_button_config_set(struct fs_button_config *c, const char *key, const char *value);
