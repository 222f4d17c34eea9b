/* SPDX-License-Identifier: MIT */
/*
 * The control API provider: what flicgatectl and busctl see and do, taken
 * from the subsystems the manager owns (daemon/control/api.h explains the
 * provider contract).
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radio/pairing-export.h"
#include "control/flicgate-dbus.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/timeutil.h"
#include "manager-private.h"

/* ---- control API provider (daemon/control/api.h) ---------------------------
 *
 * What the D-Bus API shows comes from here; every callback is set.
 */

static void api_get_gateway(struct fg_api_gateway *ret, void *userdata)
{
	struct fg_manager *m = userdata;

	*ret = (struct fg_api_gateway) {
		.name = m->config->gateway.name,
		.config_path = m->config->path,
		.start_time_usec = m->start_time_usec,
		.pairing_policy = fg_pairing_policy_to_string(m->config->bluetooth.pairing),
		.features = FG_API_FEATURE_DELIVERY | (m->gpio ? FG_API_FEATURE_FEEDBACK : 0) |
			    (m->buttons ? FG_API_FEATURE_BLUETOOTH | FG_API_FEATURE_PAIRING_STORE : 0),
		.spool_depth = fg_pipeline_spool_depth(m->pipeline),
		.spool_alarm = fg_pipeline_spool_alarm(m->pipeline),
		.dead_letters = fg_pipeline_dead_count(m->pipeline),
		.n_targets = fg_pipeline_n_targets(m->pipeline),
		.adapter = "",
		.adapter_state = "",
		/* set and cleared by the buttons' window reports: one stable value */
		.pairing_open = m->api_pairing_end != 0,
		.pairing_end_usec = m->api_pairing_end,
	};
	if (m->buttons) {
		const char *adapter = fg_buttons_adapter(m->buttons);

		struct fg_buttons_budget bb;

		ret->adapter = adapter ? adapter : "";
		ret->adapter_state = fg_bluez_state_to_string(fg_buttons_radio_state(m->buttons));
		fg_buttons_get_budget(m->buttons, &bb);
		ret->links_used = bb.links_used;
		ret->link_budget = bb.link_budget;
		ret->sleeping_buttons = bb.sleeping;
	}
}

/*
 * The buttons the API shows, in a stable order: every [button] section in
 * the file's order, then the paired buttons no section names, by address.
 * Button ids (the last element of a Button object's path): a configured
 * button is known by its [button NAME], which only the INI file changes; a
 * paired button that no section names by its address, because its name
 * changes with a rename. A button being paired for the first time shows
 * up once it is paired.
 */
static bool api_listed_unconfigured(const struct fg_button_status *st)
{
	return !st->configured && (st->paired || st->state == FG_BUTTON_REPAIR_NEEDED);
}

static size_t api_n_buttons(void *userdata)
{
	struct fg_manager *m = userdata;
	struct fg_button_status st;
	size_t n = m->config->n_buttons;

	for (size_t i = 0; m->buttons && i < fg_buttons_count(m->buttons); i++) {
		fg_buttons_get(m->buttons, i, &st);
		n += api_listed_unconfigured(&st);
	}
	return n;
}

static const char *api_alert_state(struct fg_manager *m, const char *button)
{
	const struct fg_mapping *map = fg_pipeline_mapping(m->pipeline);
	struct fg_button_alert_state st;

	for (size_t i = 0; i < fg_mapping_n_buttons(map); i++) {
		fg_mapping_get(map, i, &st);
		if (strcmp(st.button, button) == 0)
			return st.open ? "open" : "closed";
	}
	return "closed";
}

/* @bc: its [button] section or NULL; @st: what the radio knows, or NULL. */
static void api_fill_button(struct fg_manager *m, const struct fg_button_config *bc,
			    const struct fg_button_status *st, struct fg_api_button *ret)
{
	const char *g = st ? fg_gesture_to_string(st->last_gesture) : NULL;

	*ret = (struct fg_api_button) {
		.id = bc ? bc->name : st->address_str,
		.name = bc ? bc->name : st->name,
		.serial = st && st->serial[0] ? st->serial : bc && bc->serial ? bc->serial : "",
		/* the radio knows every button it lists by address */
		.has_address = st || bc->has_address,
		.configured = bc != NULL,
		.last_event = g ? g : "",
		/* an unconfigured button's presses open no alert */
		.alert_state = bc ? api_alert_state(m, bc->name) : "",
		.keep_linked = bc && bc->keep_linked,
	};
	if (st) {
		memcpy(ret->address, st->address, sizeof(ret->address));
		ret->paired = st->paired;
		ret->connected = st->state == FG_BUTTON_READY;
		ret->last_seen_usec = st->last_seen_usec;
		ret->has_rssi = st->has_rssi;
		ret->rssi = (int16_t)st->rssi;
		ret->battery_mv = (uint16_t)st->battery_mv;
		ret->firmware = st->firmware;
		ret->last_event_usec = st->last_press_usec;
		ret->sleeping = st->sleeping;
	} else {
		memcpy(ret->address, bc->address, sizeof(ret->address));
	}
}

static void api_fill_configured(struct fg_manager *m, const struct fg_button_config *bc,
				struct fg_api_button *ret)
{
	struct fg_button_status st;

	if (m->buttons && fg_buttons_find_configured(m->buttons, bc, &st) >= 0)
		api_fill_button(m, bc, &st, ret);
	else
		api_fill_button(m, bc, NULL, ret);
}

static int api_button_at(size_t i, struct fg_api_button *ret, void *userdata)
{
	struct fg_manager *m = userdata;
	struct fg_button_status st;

	if (i < m->config->n_buttons) {
		api_fill_configured(m, &m->config->buttons[i], ret);
		return 0;
	}
	i -= m->config->n_buttons;
	for (size_t j = 0; m->buttons && j < fg_buttons_count(m->buttons); j++) {
		fg_buttons_get(m->buttons, j, &st);
		if (api_listed_unconfigured(&st) && i-- == 0) {
			api_fill_button(m, NULL, &st, ret);
			return 0;
		}
	}
	return -ENOENT;
}

static int api_button_by_id(const char *id, struct fg_api_button *ret, void *userdata)
{
	struct fg_manager *m = userdata;
	const struct fg_button_config *bc = fg_config_button_by_name(m->config, id);
	struct fg_button_status st;
	uint8_t a[6];

	if (bc) {
		api_fill_configured(m, bc, ret);
		return 0;
	}
	/* else the canonical address of a listed button that no section names */
	if (!m->buttons || fg_parse_address(id, a) < 0 || fg_buttons_find(m->buttons, id, &st) < 0 ||
	    !api_listed_unconfigured(&st) || strcmp(id, st.address_str) != 0)
		return -ENOENT;
	api_fill_button(m, NULL, &st, ret);
	return 0;
}

static int api_get_target(size_t i, struct fg_api_target *ret, void *userdata)
{
	struct fg_manager *m = userdata;
	struct fg_target_status ts;

	if (i >= fg_pipeline_n_targets(m->pipeline))
		return -ENOENT;
	fg_pipeline_target_status(m->pipeline, i, &ts);
	*ret = (struct fg_api_target) {
		.name = ts.name,
		.health = fg_target_health_to_string(ts.health),
		.queued = ts.depth,
		.delivered = ts.delivered,
		.dead = ts.dead,
		.last_status = (int32_t)ts.last_status,
		.last_error = ts.last_error,
	};
	return 0;
}

static size_t api_n_deliveries(void *userdata)
{
	struct fg_manager *m = userdata;

	return fg_pipeline_n_deliveries(m->pipeline);
}

static void api_fill_delivery(const struct fg_delivery_record *h, struct fg_api_delivery *ret)
{
	*ret = (struct fg_api_delivery) {
		.time_usec = h->realtime_usec,
		.alert_id = h->alert_id,
		.button = h->button,
		.target = h->target,
		.state = h->state == FG_ALERT_ON ? "on" : "off",
		.test = h->test,
		.result = h->result == FG_DELIVERY_DONE ? "delivered" : fg_delivery_class_to_string(h->result),
		.http_status = (int32_t)h->http_status,
		.error = h->error,
		.latency_usec = h->latency_usec,
		.attempt = h->attempt,
	};
}

static int api_delivery_at(size_t i, struct fg_api_delivery *ret, void *userdata)
{
	struct fg_manager *m = userdata;
	const struct fg_delivery_record *h = fg_pipeline_delivery(m->pipeline, i);

	if (!h)
		return -ENOENT;
	api_fill_delivery(h, ret);
	return 0;
}

static void delivery_key(const struct fg_delivery_record *h, char *buf, size_t size)
{
	snprintf(buf, size, "%llu/%s/%s/%u", (unsigned long long)h->realtime_usec, h->alert_id,
		 h->target, h->attempt);
}

/*
 * Announce the attempts recorded since the last announcement, oldest
 * first. The pipeline records every attempt but tells of some only (a
 * target that stays unhealthy is not news): what it recorded meanwhile
 * goes out with the next event.
 */
static void api_announce_deliveries(struct fg_manager *m)
{
	size_t n = fg_pipeline_n_deliveries(m->pipeline), k;
	struct fg_api_delivery d;
	char key[sizeof(m->api_last_delivery)];

	for (k = 0; k < n; k++) {
		delivery_key(fg_pipeline_delivery(m->pipeline, k), key, sizeof(key));
		if (strcmp(key, m->api_last_delivery) == 0)
			break;
	}
	while (k-- > 0) {
		api_fill_delivery(fg_pipeline_delivery(m->pipeline, k), &d);
		fg_api_delivery(m->api, &d);
	}
	if (n > 0)
		delivery_key(fg_pipeline_delivery(m->pipeline, 0), m->api_last_delivery,
			     sizeof(m->api_last_delivery));
}

void manager_api_pipeline_event(struct fg_manager *m, const struct fg_pipeline_event *ev)
{
	switch (ev->kind) {
	case FG_PIPELINE_ALERT_OPENED:
	case FG_PIPELINE_ALERT_CLOSED:
		fg_api_button_changed(m->api, ev->button);
		break;
	case FG_PIPELINE_DELIVERED:
	case FG_PIPELINE_FAILING:
	case FG_PIPELINE_TARGET_UNHEALTHY:
	case FG_PIPELINE_TARGET_HEALTHY:
	case FG_PIPELINE_DEAD_LETTER:
		api_announce_deliveries(m);
		break;
	case FG_PIPELINE_SPOOL_FULL:
	case FG_PIPELINE_SPOOL_OK:
	case FG_PIPELINE_ALERT_LOST:
		fg_api_gateway_changed(m->api);
		break;
	case _FG_PIPELINE_EVENT_MAX:
		break;
	}
}

static int api_test_alert(const char *button_id, const char *target,
			  struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;
	int r;

	if (target && !fg_config_webhook_by_name(m->config, target))
		return fg_api_error_set(err, FG_API_ERR_UNKNOWN_TARGET, "No [webhook %s] in %s",
					target, m->config->path);
	r = fg_pipeline_test_alert(m->pipeline, button_id, target);
	if (r == -ENOENT)
		return fg_api_error_set(err, FG_API_ERR_UNKNOWN_BUTTON,
					"Only buttons listed in %s send alerts", m->config->path);
	if (r == -EDESTADDRREQ)
		return fg_api_error_set(err, FG_API_ERR_UNKNOWN_TARGET,
					m->config->n_webhooks == 0
					? "No target: %s has no [webhook NAME] section, so a test alert "
					  "(or a press) would reach nobody; add one (docs/alerts.md)"
					: "No target: %s gives this button no webhook",
					m->config->path);
	return r;
}

static int api_acknowledge(bool *ret_silenced, struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;

	if (!m->gpio)
		return fg_api_error_set(err, FG_API_ERR_FAILED,
					"The LEDs and buzzer could not be set up at start-up; the log says why");
	*ret_silenced = fg_gpio_acknowledge(m->gpio);
	manager_supervision_ack(m, *ret_silenced, "D-Bus");
	return 0;
}

/*
 * The button an API id stands for, as the radio knows it: the [button]
 * section's (by its name) or the unconfigured one's (by its address).
 * -ENOENT when the radio does not know it (a section never paired).
 */
static int api_status_of(struct fg_manager *m, const char *id, struct fg_button_status *ret)
{
	const struct fg_button_config *bc = fg_config_button_by_name(m->config, id);

	if (bc)
		return fg_buttons_find_configured(m->buttons, bc, ret);
	return fg_buttons_find(m->buttons, id, ret);
}

static int api_no_bluetooth(struct fg_api_error *err)
{
	/* only while starting: flicgated does not run without its button layer */
	return fg_api_error_set(err, FG_API_ERR_NOT_AVAILABLE, "Bluetooth is not set up yet");
}

/*
 * flicgate.ini is the source of truth for the names of the buttons it
 * lists: the daemon never rewrites it (it may sit on the FAT boot partition
 * and is the installer's document). Such a button is renamed by editing
 * its [button NAME] section. Names of paired buttons the file does not
 * list live beside the pairing store (<state_dir>/button-names).
 */
static int api_rename(const char *id, const char *name, struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;
	struct fg_button_status st;
	int r;

	if (fg_config_button_by_name(m->config, id))
		return fg_api_error_set(err, FG_API_ERR_CONFIGURED,
					"Button '%s' is named by its [button %s] section in %s: rename it there, then run 'flicgatectl reload'",
					id, id, m->config->path);
	if (!m->buttons)
		return api_no_bluetooth(err);
	r = api_status_of(m, id, &st);
	if (r >= 0)
		r = fg_buttons_rename(m->buttons, st.address_str, name);
	switch (r) {
	case -ENOENT:
		return fg_api_error_set(err, FG_API_ERR_NOT_PAIRED, "Button '%s' is not paired", id);
	case -EPERM:
		return fg_api_error_set(err, FG_API_ERR_CONFIGURED,
					"A [button] section in %s names this button: rename it there",
					m->config->path);
	case -EEXIST:
		return fg_api_error_set(err, FG_API_ERR_NAME_TAKEN, "The name '%s' is taken", name);
	case -EINVAL:
		return fg_api_error_set(err, FG_API_ERR_INVALID_ARGUMENT,
					"'%s' is not a valid button name (1-%d of A-Z a-z 0-9 _ . -, not an address)",
					name, FG_PAIRING_NAME_MAX);
	default:
		/* the signals came with the buttons' report */
		return r;
	}
}

static int api_open_pairing(uint64_t timeout_usec, const char *name,
			    struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;
	int r;

	if (!m->buttons)
		return api_no_bluetooth(err);
	/* the one open window belongs to whoever opened it: no silent restart */
	if (m->api_pairing_end)
		return fg_api_error_set(err, FG_API_ERR_BUSY,
					"A pairing window is already open; wait for it or close it first");
	r = fg_buttons_open_pairing_window(m->buttons, timeout_usec, name && *name ? name : NULL);
	switch (r) {
	case -EPERM:
		return fg_api_error_set(err, FG_API_ERR_PAIRING_LOCKED,
					"Pairing is locked ([bluetooth] pairing = locked in %s)", m->config->path);
	case -EINVAL:
		return fg_api_error_set(err, FG_API_ERR_INVALID_ARGUMENT,
					"'%s' is not a valid button name (1-%d of A-Z a-z 0-9 _ . -, not an address)",
					name, FG_PAIRING_NAME_MAX);
	case -EEXIST:
		return fg_api_error_set(err, FG_API_ERR_NAME_TAKEN,
					"The name '%s' is already a button's", name);
	default:
		return r;
	}
}

static int api_close_pairing(struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;
	int r;

	if (!m->buttons)
		return api_no_bluetooth(err);
	r = fg_buttons_close_pairing_window(m->buttons);
	/* documented: a no-op without a window */
	return r == -ENOENT ? 0 : r;
}

static int api_unpair(const char *id, struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;
	struct fg_button_status st;
	int r;

	if (!m->buttons)
		return api_no_bluetooth(err);
	r = api_status_of(m, id, &st);
	if (r >= 0)
		r = fg_buttons_unpair(m->buttons, st.address_str);
	if (r == -ENOENT)
		return fg_api_error_set(err, FG_API_ERR_NOT_PAIRED, "Button '%s' is not paired", id);
	return r;
}

static int api_export_pairings(char **ret_document, unsigned *ret_count,
			       struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;

	if (!m->buttons)
		return api_no_bluetooth(err);
	return fg_buttons_export(m->buttons, ret_document, ret_count);
}

static int api_import_pairings(const char *document, bool replace,
			       unsigned *ret_count, struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;
	char why[256] = "";
	int r;

	if (!m->buttons)
		return api_no_bluetooth(err);
	r = fg_buttons_import(m->buttons, document, strlen(document), replace, why, sizeof(why),
			      ret_count);
	if (r == -EBADMSG)
		return fg_api_error_set(err, FG_API_ERR_BAD_PAIRING_FILE,
					"Not a flicgate pairing export, or a damaged one (%s); nothing was imported",
					why);
	if (r == -EEXIST)
		return fg_api_error_set(err, FG_API_ERR_NAME_TAKEN, "%s; nothing was imported", why);
	if (r < 0)
		return fg_api_error_set(err, FG_API_ERR_FAILED,
					"Cannot store the pairings (%s); nothing was imported, the log says more",
					strerror(-r));
	return 0;
}

/* ---- what the buttons report, as the API's signals ------------------------ */

static const char *api_id_of(const struct fg_button_status *st)
{
	/* a configured button's name is its section's */
	return st->configured ? st->name : st->address_str;
}

void manager_api_button_changed(struct fg_manager *m, const struct fg_button_status *st)
{
	/* fg_api_button_changed() also announces a button that came or went */
	fg_api_button_changed(m->api, api_id_of(st));
}

/*
 * Buttons report steps; the API reports the stages of the window's one
 * attempt (a listed button pairing by itself under "listed" is no window's
 * business: its Button object's Paired property says it). The button is
 * on disk when PAIRED comes, so the order is: PairingProgress "paired",
 * the Button object (InterfacesAdded, or PropertiesChanged for a
 * configured one), then "saved" when the window closes.
 */
void manager_api_pairing(struct fg_manager *m, const struct fg_pairing_report *rep)
{
	struct fg_button_status st;
	char addr[18] = "", msg[64] = "";

	if (rep->address)
		fg_format_address(rep->address, addr);
	switch (rep->step) {
	case FG_PAIRING_WINDOW_OPENED:
		m->api_pairing_failure[0] = '\0';
		m->api_pairing_end = fg_now_realtime() + fg_buttons_pairing_window_left(m->buttons);
		fg_api_pairing_progress(m->api, FG_API_PAIRING_SCANNING, NULL, NULL, NULL);
		break;
	case FG_PAIRING_FOUND:
		if (!rep->by_window)
			break;
		if (fg_buttons_find(m->buttons, addr, &st) >= 0 && st.has_rssi)
			snprintf(msg, sizeof(msg), "RSSI %d dBm", st.rssi);
		fg_api_pairing_progress(m->api, FG_API_PAIRING_FOUND, addr, NULL, msg);
		break;
	case FG_PAIRING_VERIFYING:
		if (rep->by_window)
			fg_api_pairing_progress(m->api, FG_API_PAIRING_VERIFYING, addr, NULL, NULL);
		break;
	case FG_PAIRING_PAIRED:
		if (rep->by_window) {
			snprintf(msg, sizeof(msg), "%s", rep->serial ? rep->serial : "");
			fg_api_pairing_progress(m->api, FG_API_PAIRING_PAIRED, addr, NULL, msg);
		}
		if (fg_buttons_find(m->buttons, addr, &st) >= 0)
			manager_api_button_changed(m, &st);
		break;
	case FG_PAIRING_FAILED:
		if (rep->by_window)
			snprintf(m->api_pairing_failure, sizeof(m->api_pairing_failure), "%s",
				 rep->detail ? rep->detail : "");
		break;
	case FG_PAIRING_REFUSED:
		/* the buttons log it, once a minute per button */
		break;
	case FG_PAIRING_WINDOW_CLOSED: {
		const char *why = rep->detail ? rep->detail : "";

		m->api_pairing_end = 0;
		if (strcmp(why, "paired") == 0)
			fg_api_pairing_progress(m->api, FG_API_PAIRING_SAVED, addr, rep->name, NULL);
		else if (strcmp(why, "failed") == 0)
			fg_api_pairing_progress(m->api, FG_API_PAIRING_FAILED, addr, NULL,
						m->api_pairing_failure[0] ? m->api_pairing_failure
									  : "pairing failed; the log says why");
		else if (strcmp(why, "timeout") == 0)
			fg_api_pairing_progress(m->api, FG_API_PAIRING_TIMEOUT, NULL, NULL, NULL);
		else if (strcmp(why, "locked") == 0)
			fg_api_pairing_progress(m->api, FG_API_PAIRING_CLOSED, NULL, NULL,
						"pairing is now locked ([bluetooth] pairing = locked)");
		else
			fg_api_pairing_progress(m->api, FG_API_PAIRING_CLOSED, NULL, NULL, "closed on request");
		m->api_pairing_failure[0] = '\0';
		break;
	}
	case _FG_PAIRING_STEP_MAX:
		break;
	}
}

static const struct fg_api_provider api_provider = {
	.get_gateway = api_get_gateway,
	.n_buttons = api_n_buttons,
	.button_at = api_button_at,
	.button_by_id = api_button_by_id,
	.rename = api_rename,
	.acknowledge = api_acknowledge,
	.get_target = api_get_target,
	.n_deliveries = api_n_deliveries,
	.delivery_at = api_delivery_at,
	.test_alert = api_test_alert,
	.open_pairing = api_open_pairing,
	.close_pairing = api_close_pairing,
	.unpair = api_unpair,
	.export_pairings = api_export_pairings,
	.import_pairings = api_import_pairings,
};

int manager_api_setup(struct fg_manager *m, int (*reload)(struct fg_api_error *err, void *userdata))
{
	struct fg_api_provider p = api_provider;
	struct group *gr;
	gid_t operator_gid = (gid_t)-1;

	/* start-up only: NSS may be slow, it runs before the loop does */
	errno = 0;
	gr = getgrnam(FG_DBUS_OPERATOR_GROUP);
	if (gr)
		operator_gid = gr->gr_gid;
	else
		log_info("No group '%s': only root and our own user may use flicgatectl's changing commands",
			 FG_DBUS_OPERATOR_GROUP);
	p.userdata = m;
	p.reload = reload;
	manager_supervision_api(&p);
	return fg_api_new(m->bus, &p, operator_gid, &m->api);
}

