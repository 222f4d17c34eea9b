/* SPDX-License-Identifier: MIT */
/* The control API's notifiers (api.h): what changed, turned into
 * PropertiesChanged, InterfacesAdded/Removed, PairingProgress, Delivery. */
#include <stdlib.h>

#include <systemd/sd-bus.h>

#include "control/api-private.h"
#include "control/flicgate-dbus.h"
#include "lib/log.h"
#include "lib/strv.h"

void fg_api_gateway_changed(struct fg_api *a)
{
	int r;

	if (!a)
		return;
	/* NULL: every property flagged EMITS_CHANGE, with its current value */
	r = sd_bus_emit_properties_changed_strv(a->bus, FG_DBUS_MANAGER_PATH, FG_DBUS_MANAGER_IFACE, NULL);
	if (r < 0)
		log_debug_errno(r, "Cannot emit the gateway's PropertiesChanged: %m");
}

static void emit_button_summary(struct fg_api *a)
{
	int r;

	r = sd_bus_emit_properties_changed(a->bus, FG_DBUS_MANAGER_PATH, FG_DBUS_MANAGER_IFACE,
					   FG_DBUS_GW_BUTTONS, FG_DBUS_GW_CONNECTED,
					   FG_DBUS_GW_OPEN_ALERTS, NULL);
	if (r < 0)
		log_debug_errno(r, "Cannot emit the gateway's PropertiesChanged: %m");
}

void fg_api_budget_changed(struct fg_api *a)
{
	int r;

	if (!a)
		return;
	r = sd_bus_emit_properties_changed(a->bus, FG_DBUS_MANAGER_PATH, FG_DBUS_MANAGER_IFACE,
					   FG_DBUS_GW_LINKS_USED, FG_DBUS_GW_LINK_BUDGET, FG_DBUS_GW_SLEEPING,
					   NULL);
	if (r < 0)
		log_debug_errno(r, "Cannot emit the gateway's PropertiesChanged: %m");
}

static void emit_button(struct fg_api *a, const char *id)
{
	char *path = api_button_path(id);
	int r;

	if (!path)
		return;
	r = sd_bus_emit_properties_changed_strv(a->bus, path, FG_DBUS_BUTTON_IFACE, NULL);
	if (r < 0)
		log_debug_errno(r, "Cannot emit PropertiesChanged for button %s: %m", id);
	free(path);
}

void fg_api_button_changed(struct fg_api *a, const char *id)
{
	struct fg_api_button b;
	bool known, listed;

	if (!a || !id)
		return;
	known = fg_strv_contains(a->known_ids, id);
	listed = a->p.button_by_id(id, &b, a->p.userdata) >= 0;
	if (known != listed) {
		/* it came (paired) or went (unpaired): the set of buttons changed */
		fg_api_buttons_changed(a);
		return;
	}
	if (!known)
		return;	/* not one the API shows (being paired for the first time) */
	emit_button(a, id);
	emit_button_summary(a);
}

void fg_api_buttons_changed(struct fg_api *a)
{
	char **now = NULL, *id, *path;
	int r;

	if (!a)
		return;
	r = api_current_ids(a, &now);
	if (r < 0) {
		log_debug_errno(r, "Cannot list buttons: %m");
		return;
	}
	FG_STRV_FOREACH(id, a->known_ids) {
		if (fg_strv_contains(now, id))
			continue;
		path = api_button_path(id);
		if (!path)
			continue;
		r = sd_bus_emit_interfaces_removed(a->bus, path, FG_DBUS_BUTTON_IFACE, NULL);
		if (r < 0)
			log_debug_errno(r, "Cannot emit InterfacesRemoved for %s: %m", id);
		free(path);
	}
	FG_STRV_FOREACH(id, now) {
		if (fg_strv_contains(a->known_ids, id)) {
			emit_button(a, id);
			continue;
		}
		path = api_button_path(id);
		if (!path)
			continue;
		r = sd_bus_emit_interfaces_added(a->bus, path, FG_DBUS_BUTTON_IFACE, NULL);
		if (r < 0)
			log_debug_errno(r, "Cannot emit InterfacesAdded for %s: %m", id);
		free(path);
	}
	fg_strv_free(a->known_ids);
	a->known_ids = now;
	emit_button_summary(a);
}

void fg_api_pairing_progress(struct fg_api *a, enum fg_api_pairing_stage stage,
			     const char *address, const char *button, const char *message)
{
	int r;

	if (!a || (unsigned)stage >= _FG_API_PAIRING_STAGE_MAX)
		return;
	r = sd_bus_emit_signal(a->bus, FG_DBUS_MANAGER_PATH, FG_DBUS_MANAGER_IFACE,
			       FG_DBUS_GW_PAIRING_PROGRESS, "ssss", fg_api_pairing_stage_to_string(stage),
			       strempty(address), strempty(button), strempty(message));
	if (r < 0)
		log_debug_errno(r, "Cannot emit PairingProgress: %m");
	if (stage == FG_API_PAIRING_SCANNING || stage >= FG_API_PAIRING_SAVED) {
		r = sd_bus_emit_properties_changed(a->bus, FG_DBUS_MANAGER_PATH, FG_DBUS_MANAGER_IFACE,
						   FG_DBUS_GW_PAIRING_OPEN, FG_DBUS_GW_PAIRING_END, NULL);
		if (r < 0)
			log_debug_errno(r, "Cannot emit the gateway's PropertiesChanged: %m");
	}
}

void fg_api_delivery(struct fg_api *a, const struct fg_api_delivery *d)
{
	int r;

	if (!a || !d)
		return;
	r = sd_bus_emit_signal(a->bus, FG_DBUS_MANAGER_PATH, FG_DBUS_MANAGER_IFACE, FG_DBUS_GW_DELIVERY,
			       FG_DBUS_DELIVERY_FIELDS, d->time_usec, strempty(d->alert_id),
			       strempty(d->button), strempty(d->target), strempty(d->state), (int)d->test,
			       strempty(d->result), d->http_status, strempty(d->error), d->latency_usec,
			       d->attempt);
	if (r < 0)
		log_debug_errno(r, "Cannot emit Delivery: %m");
	/* queue depth and target health move with every attempt */
	r = sd_bus_emit_properties_changed(a->bus, FG_DBUS_MANAGER_PATH, FG_DBUS_MANAGER_IFACE,
					   FG_DBUS_GW_SPOOL_DEPTH, FG_DBUS_GW_DEAD_LETTERS,
					   FG_DBUS_GW_TARGETS, NULL);
	if (r < 0)
		log_debug_errno(r, "Cannot emit the gateway's PropertiesChanged: %m");
}
