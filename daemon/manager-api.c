/* SPDX-License-Identifier: MIT */
/*
 * The control API provider: what flicgatectl and busctl see and do, taken
 * from the subsystems the manager owns (daemon/io/api.h explains the
 * provider contract).
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flicgate-dbus.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/timeutil.h"
#include "manager-private.h"

/* ---- control API provider (daemon/io/api.h) ---------------------------
 *
 * What the D-Bus API shows comes from here. Subsystems that are not part
 * of this build leave their callbacks NULL: the API answers NotAvailable.
 */

static void api_get_gateway(void *userdata, struct fg_api_gateway *ret)
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
	};
	if (m->buttons) {
		uint64_t left = fg_buttons_pairing_window_left(m->buttons);
		const char *adapter = fg_buttons_adapter(m->buttons);

		ret->adapter = adapter ? adapter : "";
		ret->adapter_state = fg_bluez_state_to_string(fg_buttons_radio_state(m->buttons));
		ret->pairing_open = left > 0;
		ret->pairing_end_usec = left > 0 ? fg_now_realtime() + left : 0;
	}
}

/*
 * Button ids (the last element of a Button object's path): a configured
 * button is known by its [button NAME], which only the INI file changes; a
 * paired button that no section names by its address, because its name
 * changes with a rename.
 */
static size_t api_n_buttons(void *userdata)
{
	struct fg_manager *m = userdata;

	return m->buttons ? fg_buttons_count(m->buttons) : m->config->n_buttons;
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

static void api_fill_config_button(struct fg_manager *m, const struct fg_button_config *bc,
				   struct fg_api_button *ret)
{
	*ret = (struct fg_api_button) {
		.id = bc->name,
		.name = bc->name,
		.serial = bc->serial ? bc->serial : "",
		.has_address = bc->has_address,
		.configured = true,
		.last_event = "",
		.alert_state = api_alert_state(m, bc->name),
	};
	memcpy(ret->address, bc->address, sizeof(ret->address));
}

static void api_fill_status(struct fg_manager *m, const struct fg_button_status *st,
			    struct fg_api_button *ret)
{
	const struct fg_button_config *bc = st->configured ? fg_config_button_by_name(m->config, st->name)
							   : NULL;
	const char *g = fg_gesture_to_string(st->last_gesture);

	fg_format_address(st->address, m->api_id);
	*ret = (struct fg_api_button) {
		.id = bc ? bc->name : m->api_id,
		.name = st->name,
		.serial = st->serial[0] ? st->serial : bc && bc->serial ? bc->serial : "",
		/* a configured button known only by serial has no address until paired */
		.has_address = st->paired || !bc || bc->has_address,
		.configured = bc != NULL,
		.paired = st->paired,
		.connected = st->state == FG_BUTTON_READY,
		.last_seen_usec = st->last_seen_usec,
		.has_rssi = st->has_rssi,
		.rssi = (int16_t)st->rssi,
		.battery_mv = (uint16_t)st->battery_mv,
		.firmware = st->firmware,
		.last_event = g ? g : "",
		.last_event_usec = st->last_press_usec,
		.alert_state = bc ? api_alert_state(m, bc->name) : "",
	};
	memcpy(ret->address, st->address, sizeof(ret->address));
}

static int api_button_at(void *userdata, size_t i, struct fg_api_button *ret)
{
	struct fg_manager *m = userdata;
	struct fg_button_status st;

	if (!m->buttons) {
		if (i >= m->config->n_buttons)
			return -ENOENT;
		api_fill_config_button(m, &m->config->buttons[i], ret);
		return 0;
	}
	if (i >= fg_buttons_count(m->buttons))
		return -ENOENT;
	fg_buttons_get(m->buttons, i, &st);
	api_fill_status(m, &st, ret);
	return 0;
}

static int api_button_by_id(void *userdata, const char *id, struct fg_api_button *ret)
{
	struct fg_manager *m = userdata;
	const struct fg_button_config *bc = fg_config_button_by_name(m->config, id);
	struct fg_button_status st;
	uint8_t a[6];

	if (!m->buttons) {
		if (!bc)
			return -ENOENT;
		api_fill_config_button(m, bc, ret);
		return 0;
	}
	/* an id is a configured button's name, or the address of one no section names */
	if (!bc && fg_parse_address(id, a) < 0)
		return -ENOENT;
	if (fg_buttons_find(m->buttons, id, &st) < 0)
		return -ENOENT;
	api_fill_status(m, &st, ret);
	if (!bc && ret->configured)
		return -ENOENT;	/* a configured button's id is its name, not its address */
	return 0;
}

static int api_get_target(void *userdata, size_t i, struct fg_api_target *ret)
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

static int api_delivery_at(void *userdata, size_t i, struct fg_api_delivery *ret)
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

static int api_test_alert(void *userdata, const char *button_id, const char *target,
			  struct fg_api_error *err)
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
	return r;
}

static int api_acknowledge(void *userdata, bool *ret_silenced, struct fg_api_error *err)
{
	struct fg_manager *m = userdata;

	if (!m->gpio)
		return fg_api_error_set(err, FG_API_ERR_FAILED,
					"The LEDs and buzzer could not be set up at start-up; the log says why");
	*ret_silenced = fg_gpio_acknowledge(m->gpio);
	return 0;
}

static int api_reload(void *userdata, struct fg_api_error *err)
{
	return manager_reload(userdata, err);
}

/*
 * flicgate.ini is the source of truth for the names of the buttons it
 * lists: the daemon never rewrites it (it may sit on the FAT boot partition
 * and is the installer's document). Such a button is renamed by editing
 * its [button NAME] section. Names of paired buttons the file does not
 * list live in the pairing store, once it is part of the build.
 */
static int api_rename(void *userdata, const char *id, const char *name, struct fg_api_error *err)
{
	struct fg_manager *m = userdata;
	struct fg_button_status st;
	int r;

	if (fg_config_button_by_name(m->config, id))
		return fg_api_error_set(err, FG_API_ERR_CONFIGURED,
					"Button '%s' is named by its [button %s] section in %s: rename it there, then run 'flicgatectl reload'",
					id, id, m->config->path);
	if (!m->buttons)
		return fg_api_error_set(err, FG_API_ERR_NOT_AVAILABLE,
					"Bluetooth could not be set up at start-up; the log says why");
	r = fg_buttons_rename(m->buttons, id, name);
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
					"'%s' is not a valid name (letters, digits, '_', '-', '.'; at most 48)",
					name);
	default:
		break;
	}
	if (r < 0)
		return r;
	if (fg_buttons_find(m->buttons, name, &st) >= 0)
		fg_api_buttons_changed(m->api);
	return 0;
}

static int api_open_pairing(void *userdata, uint64_t timeout_usec, const char *name,
			    struct fg_api_error *err)
{
	struct fg_manager *m = userdata;
	int r;

	if (!m->buttons)
		return fg_api_error_set(err, FG_API_ERR_NOT_AVAILABLE,
					"Bluetooth could not be set up at start-up; the log says why");
	r = fg_buttons_open_pairing_window(m->buttons, timeout_usec, name && *name ? name : NULL);
	switch (r) {
	case -EPERM:
		return fg_api_error_set(err, FG_API_ERR_PAIRING_LOCKED,
					"Pairing is locked ([bluetooth] pairing = locked in %s)", m->config->path);
	case -EINVAL:
		return fg_api_error_set(err, FG_API_ERR_INVALID_ARGUMENT,
					"'%s' is not a valid button name", name);
	case -EEXIST:
		return fg_api_error_set(err, FG_API_ERR_NAME_TAKEN,
					"The name '%s' is already a button's", name);
	default:
		break;
	}
	if (r >= 0)
		fg_api_gateway_changed(m->api);
	return r;
}

static int api_close_pairing(void *userdata, struct fg_api_error *err)
{
	struct fg_manager *m = userdata;
	int r;

	if (!m->buttons)
		return fg_api_error_set(err, FG_API_ERR_NOT_AVAILABLE,
					"Bluetooth could not be set up at start-up; the log says why");
	r = fg_buttons_close_pairing_window(m->buttons);
	if (r == -ENOENT)
		return fg_api_error_set(err, FG_API_ERR_FAILED, "No pairing window is open");
	return r;
}

static int api_unpair(void *userdata, const char *id, struct fg_api_error *err)
{
	struct fg_manager *m = userdata;
	int r;

	if (!m->buttons)
		return fg_api_error_set(err, FG_API_ERR_NOT_AVAILABLE,
					"Bluetooth could not be set up at start-up; the log says why");
	r = fg_buttons_unpair(m->buttons, id);
	if (r == -ENOENT)
		return fg_api_error_set(err, FG_API_ERR_NOT_PAIRED, "Button '%s' is not paired", id);
	if (r >= 0)
		fg_api_buttons_changed(m->api);
	return r;
}

static int api_export_pairings(void *userdata, char **ret_document, unsigned *ret_count,
			       struct fg_api_error *err)
{
	struct fg_manager *m = userdata;

	if (!m->buttons)
		return fg_api_error_set(err, FG_API_ERR_NOT_AVAILABLE,
					"Bluetooth could not be set up at start-up; the log says why");
	return fg_buttons_export(m->buttons, ret_document, ret_count);
}

static int api_import_pairings(void *userdata, const char *document, bool replace,
			       unsigned *ret_count, struct fg_api_error *err)
{
	struct fg_manager *m = userdata;
	int r;

	if (!m->buttons)
		return fg_api_error_set(err, FG_API_ERR_NOT_AVAILABLE,
					"Bluetooth could not be set up at start-up; the log says why");
	r = fg_buttons_import(m->buttons, document, replace, ret_count);
	if (r == -EBADMSG)
		return fg_api_error_set(err, FG_API_ERR_BAD_PAIRING_FILE,
					"Not a flicgate pairing export, or a damaged one; nothing was imported");
	if (r == -EEXIST)
		return fg_api_error_set(err, FG_API_ERR_BAD_PAIRING_FILE,
					"The export gives one name to two buttons; nothing was imported");
	if (r >= 0)
		fg_api_buttons_changed(m->api);
	return r;
}

/* What the buttons report, as the API's signals. */
void manager_api_button_changed(struct fg_manager *m, const struct fg_button_status *st)
{
	struct fg_api_button b;

	api_fill_status(m, st, &b);
	fg_api_button_changed(m->api, b.id);
}

void manager_api_pairing(struct fg_manager *m, const struct fg_pairing_report *rep)
{
	char addr[18] = "";

	if (rep->address)
		fg_format_address(rep->address, addr);
	switch (rep->step) {
	case FG_PAIRING_WINDOW_OPENED:
		fg_api_pairing_progress(m->api, FG_API_PAIRING_SCANNING, NULL, rep->name, NULL);
		fg_api_gateway_changed(m->api);
		break;
	case FG_PAIRING_FOUND:
		fg_api_pairing_progress(m->api, FG_API_PAIRING_FOUND, addr, NULL, NULL);
		break;
	case FG_PAIRING_VERIFYING:
		fg_api_pairing_progress(m->api, FG_API_PAIRING_VERIFYING, addr, NULL, NULL);
		break;
	case FG_PAIRING_PAIRED:
		/* the record is on disk when the buttons report it */
		fg_api_pairing_progress(m->api, FG_API_PAIRING_PAIRED, addr, rep->name, rep->serial);
		fg_api_buttons_changed(m->api);
		break;
	case FG_PAIRING_FAILED:
		snprintf(m->api_pairing_failure, sizeof(m->api_pairing_failure), "%s",
			 rep->detail ? rep->detail : "");
		break;
	case FG_PAIRING_REFUSED:
		/* the buttons log it; it is not about the window */
		break;
	case FG_PAIRING_WINDOW_CLOSED: {
		const char *why = rep->detail ? rep->detail : "";

		if (strcmp(why, "paired") == 0)
			fg_api_pairing_progress(m->api, FG_API_PAIRING_SAVED, addr, rep->name, NULL);
		else if (strcmp(why, "failed") == 0)
			fg_api_pairing_progress(m->api, FG_API_PAIRING_FAILED, addr, rep->name,
						m->api_pairing_failure[0] ? m->api_pairing_failure : NULL);
		else if (strcmp(why, "timeout") == 0)
			fg_api_pairing_progress(m->api, FG_API_PAIRING_TIMEOUT, NULL, NULL, NULL);
		else
			fg_api_pairing_progress(m->api, FG_API_PAIRING_CLOSED, NULL, NULL, why);
		m->api_pairing_failure[0] = '\0';
		fg_api_gateway_changed(m->api);
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
	.reload = api_reload,
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

int manager_api_setup(struct fg_manager *m)
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
	return fg_api_new(m->bus, &p, operator_gid, &m->api);
}

