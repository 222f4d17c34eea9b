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
		.features = FG_API_FEATURE_DELIVERY | (m->gpio ? FG_API_FEATURE_FEEDBACK : 0),
		.spool_depth = fg_pipeline_spool_depth(m->pipeline),
		.spool_alarm = fg_pipeline_spool_alarm(m->pipeline),
		.dead_letters = fg_pipeline_dead_count(m->pipeline),
		.n_targets = fg_pipeline_n_targets(m->pipeline),
	};
}

static size_t api_n_buttons(void *userdata)
{
	struct fg_manager *m = userdata;

	return m->config->n_buttons;
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

static void api_fill_button(struct fg_manager *m, const struct fg_button_config *bc,
			    struct fg_api_button *ret)
{
	/* configured buttons are known by their [button NAME] */
	*ret = (struct fg_api_button) {
		.id = bc->name,
		.name = bc->name,
		.serial = bc->serial ? bc->serial : "",
		.has_address = bc->has_address,
		.configured = true,
		.alert_state = api_alert_state(m, bc->name),
	};
	memcpy(ret->address, bc->address, sizeof(ret->address));
}

static int api_button_at(void *userdata, size_t i, struct fg_api_button *ret)
{
	struct fg_manager *m = userdata;

	if (i >= m->config->n_buttons)
		return -ENOENT;
	api_fill_button(m, &m->config->buttons[i], ret);
	return 0;
}

static int api_button_by_id(void *userdata, const char *id, struct fg_api_button *ret)
{
	struct fg_manager *m = userdata;
	const struct fg_button_config *bc = fg_config_button_by_name(m->config, id);

	if (!bc)
		return -ENOENT;
	api_fill_button(m, bc, ret);
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
	manager_supervision_ack(m, *ret_silenced, "D-Bus");
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

	if (fg_config_button_by_name(m->config, id))
		return fg_api_error_set(err, FG_API_ERR_CONFIGURED,
					"Button '%s' is named by its [button %s] section in %s: rename it there, then run 'flicgatectl reload'",
					id, id, m->config->path);
	return fg_api_error_set(err, FG_API_ERR_NOT_AVAILABLE,
				"Renaming paired buttons is not available in this build (no pairing store)");
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
	/*
	 * Not in this build yet, answered with Error.NotAvailable: pairing
	 * windows, unpair and the radio properties (BlueZ adapter),
	 * export/import (pairing store).
	 */
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
	manager_supervision_api(&p);
	return fg_api_new(m->bus, &p, operator_gid, &m->api);
}

