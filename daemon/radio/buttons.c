/* SPDX-License-Identifier: MIT */
/*
 * The buttons: connection state machines around flic2.c engines, on top of
 * bluez.c. See buttons.h for the contract and docs/bluez.md for the states
 * and the reasoning behind the timers. This file: creation, configuration,
 * shutdown and the status getters; the rest is in buttons-*.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "radio/buttons-internal.h"
#include "radio/flic2-adv.h"
#include "radio/flic2-crypto.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macro.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

static const char *const state_names[] = {
	[FG_BUTTON_UNPAIRED] = "unpaired",
	[FG_BUTTON_ASLEEP] = "asleep",
	[FG_BUTTON_CONNECTING] = "connecting",
	[FG_BUTTON_VERIFYING] = "verifying",
	[FG_BUTTON_PAIRING] = "pairing",
	[FG_BUTTON_READY] = "ready",
	[FG_BUTTON_REPAIR_NEEDED] = "repair-needed",
};
FG_DEFINE_STRING_TABLE_TO(, fg_button_state, enum fg_button_state, state_names)

static const char *const step_names[] = {
	[FG_PAIRING_WINDOW_OPENED] = "window-opened",
	[FG_PAIRING_WINDOW_CLOSED] = "window-closed",
	[FG_PAIRING_FOUND] = "found",
	[FG_PAIRING_VERIFYING] = "verifying",
	[FG_PAIRING_PAIRED] = "paired",
	[FG_PAIRING_FAILED] = "failed",
	[FG_PAIRING_REFUSED] = "refused",
};
FG_DEFINE_STRING_TABLE_TO(, fg_pairing_step, enum fg_pairing_step, step_names)

size_t fg_buttons_count(const struct fg_buttons *bs)
{
	return bs->n_buttons;
}

void fg_buttons_get(const struct fg_buttons *bs, size_t i, struct fg_button_status *ret)
{
	struct button *b = bs->buttons;

	while (b && i--)
		b = b->next;
	if (b)
		btn_fill_status(b, ret);
}

int fg_buttons_find(const struct fg_buttons *bs, const char *which, struct fg_button_status *ret)
{
	struct button *b = btn_find_by_name(bs, which);

	if (!b)
		return -ENOENT;
	btn_fill_status(b, ret);
	return 0;
}

int fg_buttons_find_configured(const struct fg_buttons *bs, const struct fg_button_config *c,
			       struct fg_button_status *ret)
{
	for (struct button *b = bs->buttons; b; b = b->next)
		if (b->cfg == c) {
			btn_fill_status(b, ret);
			return 0;
		}
	return -ENOENT;
}

enum fg_bluez_state fg_buttons_radio_state(const struct fg_buttons *bs)
{
	return fg_bluez_get_state(bs->bz);
}

const char *fg_buttons_adapter(const struct fg_buttons *bs)
{
	return fg_bluez_adapter_name(bs->bz);
}

void fg_buttons_get_stats(const struct fg_buttons *bs, struct fg_buttons_stats *ret)
{
	*ret = bs->stats;
	ret->paired = ret->ready = 0;
	for (struct button *b = bs->buttons; b; b = b->next) {
		ret->paired += b->paired;
		ret->ready += btn_state(b) == FG_BUTTON_READY;
	}
	fg_bluez_get_stats(bs->bz, &ret->radio);
}

static int load_keys(struct fg_buttons *bs, const struct fg_config *c)
{
	const uint8_t (*builtin)[32];
	size_t n_builtin, n;
	uint8_t (*keys)[32];
	char *hex;
	int r;

	builtin = fg_flic2_builtin_keys(&n_builtin);
	n = n_builtin + fg_strv_length(c->bluetooth.trusted_keys);
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	memcpy(keys, builtin, n_builtin * sizeof(*keys));
	n = n_builtin;
	FG_STRV_FOREACH(hex, c->bluetooth.trusted_keys) {
		r = fg_flic2_key_from_hex(hex, keys[n]);
		if (r < 0) {
			free(keys);
			return r;
		}
		n++;
	}
	if (n > n_builtin)
		log_warning("Bluetooth: %zu extra identity key%s trusted ([bluetooth] trusted_key): test rigs only",
			    n - n_builtin, n - n_builtin == 1 ? "" : "s");
	free(bs->keys);
	bs->keys = keys;
	bs->n_keys = n;
	return 0;
}

int fg_buttons_new(sd_event *event, sd_bus *bus, struct fg_config *config,
		   const struct fg_buttons_ops *ops, void *userdata, struct fg_buttons **ret)
{
	struct fg_buttons *bs;
	int r;

	bs = calloc(1, sizeof(*bs));
	if (!bs)
		return -ENOMEM;
	bs->event = sd_event_ref(event);
	bs->bus = sd_bus_ref(bus);
	bs->cfg = fg_config_ref(config);
	bs->ops = ops;
	bs->userdata = userdata;

	r = load_keys(bs, config);
	if (r < 0) {
		log_error_errno(r, "Bluetooth: bad trusted_key: %m");
		goto failed;
	}
	if (asprintf(&bs->names_path, "%s/button-names", config->gateway.state_dir) < 0) {
		bs->names_path = NULL;
		r = -ENOMEM;
		goto failed;
	}
	r = fg_pairing_store_open(config->gateway.state_dir, &bs->store);
	if (r < 0) {
		log_error_errno(r, "Bluetooth: cannot open the pairing store in %s: %m",
				config->gateway.state_dir);
		goto failed;
	}
	r = btn_load_pairings(bs);
	if (r < 0) {
		log_error_errno(r, "Bluetooth: cannot load the pairings: %m");
		goto failed;
	}
	/* counters read from older .events files go to the owner's journal */
	for (struct button *b = bs->buttons; b; b = b->next)
		(void)btn_flush_dedup(b);
	r = btn_sync_config(bs);
	if (r < 0)
		goto failed;
	r = fg_bluez_new(event, bus, config, &btn_bluez_ops, bs, &bs->bz);
	if (r < 0)
		goto failed;
	btn_budget_resolve(bs);
	for (struct button *b = bs->buttons; b; b = b->next)
		if (b->paired && (r = fg_bluez_watch(bs->bz, b->address, true)) < 0)
			goto failed;
	btn_scan_update(bs);
	*ret = bs;
	return 0;

failed:
	fg_buttons_free(bs);
	return r;
}

/*
 * Shutting down: give the button its logical connection back
 * (DisconnectVerifiedLink) but leave the BLE link to bluetoothd, so that
 * the next start quick-verifies at once instead of waiting for a press.
 */
static void button_release(struct button *b)
{
	struct fg_flic2_action a;

	(void)btn_flush_dedup(b);
	if (!b->engine || fg_flic2_get_state(b->engine) != FG_FLIC2_STATE_VERIFIED)
		return;
	if (fg_flic2_request_disconnect(b->engine, btn_now(b->bs)) < 0)
		return;
	while (fg_flic2_next_action(b->engine, &a) > 0)
		if (a.kind == FG_FLIC2_ACTION_WRITE)
			(void)fg_bluez_write(b->bs->bz, b->address, a.write.data, a.write.len);
	explicit_bzero(&a, sizeof(a));
}

struct fg_buttons *fg_buttons_free(struct fg_buttons *bs)
{
	if (!bs)
		return NULL;
	for (struct button *b = bs->buttons; b; b = b->next)
		button_release(b);
	bs->bz = fg_bluez_free(bs->bz);
	while (bs->buttons) {
		struct button *b = bs->buttons;

		bs->buttons = b->next;
		btn_free(b);
	}
	sd_event_source_disable_unref(bs->window_timer);
	sd_event_source_disable_unref(bs->budget_timer);
	free(bs->window_name);
	fg_pairing_store_free(bs->store);
	free(bs->names_path);
	if (bs->keys)
		explicit_bzero(bs->keys, bs->n_keys * sizeof(*bs->keys));
	free(bs->keys);
	sd_bus_unref(bs->bus);
	sd_event_unref(bs->event);
	fg_config_unref(bs->cfg);
	free(bs);
	return NULL;
}

int fg_buttons_set_config(struct fg_buttons *bs, struct fg_config *config)
{
	struct fg_config *old = bs->cfg;
	int r, k;

	/*
	 * Switch whole, whatever fails below: the owner drops its reference
	 * to the old configuration after this call, whatever it returns, so
	 * nothing here may keep pointing into it. Ours goes last.
	 */
	bs->cfg = fg_config_ref(config);
	btn_resolve_all(bs);
	k = load_keys(bs, config);
	if (k < 0)
		log_error_errno(k, "Bluetooth: bad trusted_key, keeping the old keys: %m");
	fg_refusals_clear(&bs->refused);
	r = btn_sync_config(bs);
	if (fg_pairing_window_locked_out(&bs->pw, config->bluetooth.pairing))
		btn_window_close(bs, "locked", NULL);
	(void)fg_bluez_set_config(bs->bz, config);
	btn_scan_update(bs);
	btn_budget_resolve(bs);
	btn_budget_update(bs);
	fg_config_unref(old);
	return r < 0 ? r : k;
}
