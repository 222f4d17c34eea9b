/* SPDX-License-Identifier: MIT */
/* The manager: owns the event loop, the bus and every subsystem; starts
 * them, reloads the configuration and stops them (manager-api.c serves the
 * control API from them, manager-supervision.c the supervision calls). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "control/flicgate-dbus.h"
#include "control/api.h"
#include "radio/buttons.h"
#include "feedback/gpio.h"
#include "delivery/pipeline.h"
#include "supervision/supervision.h"
#include "lib/fileio.h"
#include "lib/statefile.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/timeutil.h"
#include "manager.h"
#include "manager-private.h"


static int apply_log_level(struct fg_manager *m)
{
	fg_log_set_level(m->opts.log_level >= 0 ? m->opts.log_level
						: m->config->gateway.log_level);
	return 0;
}

static void on_local_ack(struct fg_gpio *g, bool silenced, void *userdata)
{
	struct fg_manager *m = userdata;

	log_notice("Local acknowledge: %s", silenced ? "buzzer silenced for everything on now"
						   : "nothing on to silence");
	manager_supervision_ack(m, silenced, "button");
}

/* ---- feedback: what happened; the lights decide (feedback/feedback.h) ---- */

/* The facts an event for the lights carries: targets, spool, dead letters. */
static void feedback_facts(struct fg_manager *m, struct fg_feedback_event *ev)
{
	if (!m->pipeline)
		return;
	for (size_t i = 0; i < fg_pipeline_n_targets(m->pipeline); i++) {
		struct fg_target_status ts;

		fg_pipeline_target_status(m->pipeline, i, &ts);
		ev->targets_refusing = ev->targets_refusing || ts.health == FG_TARGET_UNHEALTHY;
	}
	ev->boot_errors = m->boot_errors;
	ev->spool_alarm = fg_pipeline_spool_alarm(m->pipeline) || fg_pipeline_lost_count(m->pipeline) > 0;
	ev->dead_letters = fg_pipeline_dead_count(m->pipeline) > 0;
}

static void feedback_event(struct fg_manager *m, struct fg_feedback_event *ev)
{
	if (!m->gpio)
		return;
	feedback_facts(m, ev);
	(void)fg_gpio_event(m->gpio, ev);
}

static const enum fg_feedback_event_kind feedback_kind[_FG_PIPELINE_EVENT_MAX] = {
	[FG_PIPELINE_ALERT_OPENED] = FG_FB_EVENT_ALERT_OPENED,
	[FG_PIPELINE_ALERT_CLOSED] = FG_FB_EVENT_ALERT_CLOSED,
	[FG_PIPELINE_DELIVERED] = FG_FB_EVENT_DELIVERED,
	[FG_PIPELINE_FAILING] = FG_FB_EVENT_FAILING,
	[FG_PIPELINE_TARGET_UNHEALTHY] = FG_FB_EVENT_TARGETS,
	[FG_PIPELINE_TARGET_HEALTHY] = FG_FB_EVENT_TARGETS,
	[FG_PIPELINE_DEAD_LETTER] = FG_FB_EVENT_DEAD_LETTER,
	[FG_PIPELINE_SPOOL_FULL] = FG_FB_EVENT_SPOOL,
	[FG_PIPELINE_SPOOL_OK] = FG_FB_EVENT_SPOOL,
	[FG_PIPELINE_ALERT_LOST] = FG_FB_EVENT_SPOOL,
};

static void on_pipeline_event(struct fg_pipeline *p, const struct fg_pipeline_event *ev,
			      void *userdata)
{
	struct fg_manager *m = userdata;
	struct fg_feedback_event fe = {
		.kind = feedback_kind[ev->kind],
		.button = ev->button,
		.alert_on = ev->alert && ev->alert->state == FG_ALERT_ON,
		.alert_test = ev->alert && ev->alert->test,
		.alert_supervision = ev->alert && ev->alert->supervision,
	};

	manager_api_pipeline_event(m, ev);
	if (m->supervision)
		fg_supervision_pipeline_event(m->supervision, ev);
	feedback_event(m, &fe);
}

/* What was true before a restart: open alerts, dead letters, a full spool. */
static void show_pipeline_state(struct fg_manager *m)
{
	const struct fg_mapping *map = fg_pipeline_mapping(m->pipeline);

	for (size_t i = 0; i < fg_mapping_n_buttons(map); i++) {
		struct fg_button_alert_state st;

		fg_mapping_get(map, i, &st);
		if (st.open)
			feedback_event(m, &(struct fg_feedback_event){ .kind = FG_FB_EVENT_ALERT_OPENED,
								       .button = st.button });
	}
	feedback_event(m, &(struct fg_feedback_event){ .kind = FG_FB_EVENT_RESTORED });
}

/* A configuration that is valid but sends nothing: say so at start and reload. */
static void log_config_warnings(const struct fg_config *c)
{
	char **w = NULL;
	const char *msg;

	if (fg_config_warnings(c, &w) < 0)
		return;
	FG_STRV_FOREACH(msg, w)
		log_warning("%s: %s", c->path, msg);
	fg_strv_free(w);
}

static void notify_status(struct fg_manager *m)
{
	const char *adapter = m->buttons ? fg_buttons_adapter(m->buttons) : NULL;
	enum fg_bluez_state st = m->buttons ? fg_buttons_radio_state(m->buttons) : FG_BLUEZ_NO_SERVICE;

	if (st == FG_BLUEZ_READY)
		sd_notifyf(false, "STATUS=Running; adapter %s", adapter);
	else
		sd_notifyf(false, "STATUS=Running; Bluetooth %s: no button presses can arrive",
			   fg_bluez_state_to_string(st));
}

/* The open incident of @button ("" none), for the audit trail. */
static const char *button_incident(struct fg_manager *m, const char *button,
				   char ret[static FG_ALERT_ID_MAX])
{
	const struct fg_mapping *map = fg_pipeline_mapping(m->pipeline);
	struct fg_button_alert_state st;

	ret[0] = '\0';
	for (size_t i = 0; i < fg_mapping_n_buttons(map); i++) {
		fg_mapping_get(map, i, &st);
		if (strcmp(st.button, button) == 0) {
			snprintf(ret, FG_ALERT_ID_MAX, "%s", st.incident_id);
			break;
		}
	}
	return ret;
}

/* A verified, de-duplicated button event: the LEDs chirp, the pipeline spools it. */
static int on_button_event(struct fg_buttons *bs, const struct fg_button_config *b, const struct fg_button_event *ev,
			   void *userdata)
{
	struct fg_manager *m = userdata;
	char incident[FG_ALERT_ID_MAX];
	enum fg_mapping_outcome o;
	int r;

	feedback_event(m, &(struct fg_feedback_event){ .kind = FG_FB_EVENT_GESTURE,
						       .down = ev->gesture == FG_GESTURE_DOWN,
						       .queued = ev->queued });
	/*
	 * In a test-press window every gesture the button maps is a routine
	 * test: recorded, nobody paged. Unmapped ones (down, up, …) are
	 * nothing, as always.
	 */
	if (fg_supervision_in_test_window(m->supervision, b->name)) {
		if ((b->on | b->off | b->test) & FG_GESTURE_BIT(ev->gesture))
			fg_supervision_test_press(m->supervision, b, ev->gesture, "test window");
		return 0;
	}
	r = fg_pipeline_button_event(m->pipeline, b, ev, &o);
	if (r < 0)
		return r;
	switch (o) {
	case FG_MAPPING_TEST:
		fg_supervision_test_press(m->supervision, b, ev->gesture, "test gesture");
		fg_api_button_changed(m->api, b->name);
		break;
	case FG_MAPPING_APPEND:
	case FG_MAPPING_SUPPRESSED:
	case FG_MAPPING_CLOSE_IDLE:
		fg_supervision_press(m->supervision, b->name, ev->gesture, o,
				     button_incident(m, b->name, incident));
		break;
	case FG_MAPPING_OPEN:
	case FG_MAPPING_CLOSE:
		/* recorded from the pipeline's event, with the alert's id */
	case FG_MAPPING_IGNORED:
	case FG_MAPPING_DUPLICATE:
	case _FG_MAPPING_OUTCOME_MAX:
		break;
	}
	return 0;
}

/* The adapter's real presence is the status (and the status LED). */
static void on_radio_changed(struct fg_buttons *bs, enum fg_bluez_state state, const char *adapter,
			     void *userdata)
{
	struct fg_manager *m = userdata;

	feedback_event(m, &(struct fg_feedback_event){ .kind = FG_FB_EVENT_RADIO,
						       .on = state == FG_BLUEZ_READY });
	fg_supervision_radio_ready(m->supervision, state == FG_BLUEZ_READY);
	notify_status(m);
	fg_api_gateway_changed(m->api);
}

static void on_pairing(struct fg_buttons *bs, const struct fg_pairing_report *rep, void *userdata)
{
	struct fg_manager *m = userdata;

	manager_api_pairing(m, rep);
}

/* Seen, connected, battery read: supervision follows what the button tells. */
static void on_button_changed(struct fg_buttons *bs, const struct fg_button_status *st, void *userdata)
{
	struct fg_manager *m = userdata;

	fg_supervision_button_status(m->supervision, st);
	/* the Button object's properties (Connected, LastEvent, RSSI, ...) */
	manager_api_button_changed(m, st);
}

/* Links used, the budget, sleeping buttons: the Gateway's properties. */
static void on_budget_changed(struct fg_buttons *bs, void *userdata)
{
	struct fg_manager *m = userdata;

	fg_api_budget_changed(m->api);
}

/* Presses a button dropped: never silent (audit trail, supervision alert). */
static void on_events_lost(struct fg_buttons *bs, const struct fg_button_loss *loss, void *userdata)
{
	struct fg_manager *m = userdata;
	char detail[96];

	snprintf(detail, sizeof(detail), "event counter %u -> %u, boot %08x", loss->last_count,
		 loss->next_count, loss->boot_id);
	fg_supervision_events_lost(m->supervision, loss->name, loss->configured, loss->presses,
				   detail);
}

static const struct fg_buttons_ops buttons_ops = {
	.button_event = on_button_event,
	.radio_changed = on_radio_changed,
	.button_changed = on_button_changed,
	.pairing = on_pairing,
	.persist_counter = manager_persist_counter,
	.load_counter = manager_load_counter,
	.budget_changed = on_budget_changed,
	.events_lost = on_events_lost,
};

/* ---- supervision ------------------------------------------------------ */

static void sup_radio(struct fg_supervision *s, struct fg_supervision_radio *ret, void *userdata)
{
	struct fg_manager *m = userdata;
	struct fg_buttons_stats st = { 0 };

	*ret = (struct fg_supervision_radio){
		.adapter = "",
		.state = fg_bluez_state_to_string(FG_BLUEZ_NO_SERVICE),
	};
	if (!m->buttons)
		return;
	fg_buttons_get_stats(m->buttons, &st);
	ret->adapter = fg_buttons_adapter(m->buttons) ? fg_buttons_adapter(m->buttons) : "";
	ret->state = fg_bluez_state_to_string(fg_buttons_radio_state(m->buttons));
	ret->paired = st.paired;
	ret->ready = st.ready;
}

static void sup_delivery(struct fg_supervision *s, struct fg_supervision_delivery *ret,
			 void *userdata)
{
	struct fg_manager *m = userdata;

	*ret = (struct fg_supervision_delivery){
		.spool_depth = fg_pipeline_spool_depth(m->pipeline),
		.spool_alarm = fg_pipeline_spool_alarm(m->pipeline),
		.dead_letters = fg_pipeline_dead_count(m->pipeline),
		.n_targets = fg_pipeline_n_targets(m->pipeline),
	};
}

static void sup_target(struct fg_supervision *s, size_t i, struct fg_target_status *ret,
		       void *userdata)
{
	struct fg_manager *m = userdata;

	fg_pipeline_target_status(m->pipeline, i, ret);
}

static int sup_open_alerts(struct fg_supervision *s, char ***ret, void *userdata)
{
	struct fg_manager *m = userdata;
	const struct fg_mapping *map = fg_pipeline_mapping(m->pipeline);
	char **l = NULL;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < fg_mapping_n_buttons(map); i++) {
		struct fg_button_alert_state st;

		fg_mapping_get(map, i, &st);
		if (st.open)
			r = fg_strv_push(&l, st.button);
	}
	if (r < 0) {
		fg_strv_free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static int sup_send_alert(struct fg_supervision *s, const struct fg_supervision_alert *a,
			  char ret_id[FG_ALERT_ID_MAX], void *userdata)
{
	struct fg_manager *m = userdata;

	return fg_pipeline_supervision_alert(m->pipeline, a, ret_id);
}

static int sup_test_alert(struct fg_supervision *s, const char *button, const char *target,
			  void *userdata)
{
	struct fg_manager *m = userdata;

	return fg_pipeline_test_alert(m->pipeline, button, target);
}

/* An alarm opened or closed: the lights and the control API hear of it. */
static void sup_alarm(struct fg_supervision *s, const struct fg_alarm_change *c, void *userdata)
{
	struct fg_manager *m = userdata;

	bool of_button = c->subject[0] && c->kind != FG_ALARM_TARGET_REJECTED;

	feedback_event(m, &(struct fg_feedback_event){ .kind = FG_FB_EVENT_ALARM, .alarm = c->kind,
						       .button = of_button ? c->subject : NULL,
						       .on = c->raised });
	if (of_button)
		fg_api_button_changed(m->api, c->subject);
	fg_api_gateway_changed(m->api);
}

static void sup_test_window(struct fg_supervision *s, bool open, void *userdata)
{
	struct fg_manager *m = userdata;

	fg_api_gateway_changed(m->api);
}

static const struct fg_supervision_ops supervision_ops = {
	.radio = sup_radio,
	.delivery = sup_delivery,
	.target = sup_target,
	.open_alerts = sup_open_alerts,
	.send_alert = sup_send_alert,
	.test_alert = sup_test_alert,
	.alarm = sup_alarm,
	.test_window = sup_test_window,
};


/* A rejected configuration as the control API reports it: every error. */
static void api_reload_error(struct fg_api_error *err, int r, const struct fg_config_errors *errors)
{
	size_t len;
	char *msg;

	if (errors->n == 0) {
		fg_api_error_set(err, FG_API_ERR_CONFIG_REJECTED,
				 "Configuration rejected, the running one is kept: %s", strerror(-r));
		return;
	}
	fg_api_error_set(err, FG_API_ERR_CONFIG_REJECTED,
			 "Configuration rejected, the running one is kept (%zu error%s):",
			 errors->n, errors->n == 1 ? "" : "s");
	FG_STRV_FOREACH(msg, errors->messages) {
		len = strlen(err->message);
		if (len + 2 >= sizeof(err->message))
			break;
		snprintf(err->message + len, sizeof(err->message) - len, "\n%s", msg);
	}
}

/* @err (optional): the rejection, every error in it, for the control API */
static int manager_reload(struct fg_manager *m, struct fg_api_error *err)
{
	struct fg_config_errors errors = { 0 };
	struct fg_config *c = NULL;
	char *msg;
	int r;

	/* MONOTONIC_USEC lets systemd match this to the reload it asked for */
	sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading configuration",
		   (unsigned long long)fg_now_monotonic());
	r = fg_config_load(m->config_path, &errors, &c);
	if (r < 0) {
		FG_STRV_FOREACH(msg, errors.messages)
			log_error("%s", msg);
		if (err)
			api_reload_error(err, r, &errors);
		fg_config_errors_clear(&errors);
		log_error_errno(r, "Configuration rejected, keeping the running one: %m");
		sd_notify(false, "READY=1\nSTATUS=Configuration rejected; running with the previous one");
		return r;
	}
	fg_config_errors_clear(&errors);

	/*
	 * Each subsystem takes its own reference on the new configuration
	 * and drops the one it held; the manager's reference on the old one
	 * goes last, so nobody ever holds a freed config (docs/architecture.md).
	 */
	r = fg_pipeline_reload(m->pipeline, c);
	if (r < 0) {
		fg_config_unref(c);
		sd_notify(false, "READY=1\nSTATUS=Reload failed; running with the previous configuration");
		return r;
	}
	manager_read_boot_errors(m);	/* same file, same folder */
	feedback_event(m, &(struct fg_feedback_event){ .kind = FG_FB_EVENT_TARGETS });
	if (m->buttons)
		(void)fg_buttons_set_config(m->buttons, c);
	if (m->supervision)
		(void)fg_supervision_reload(m->supervision, c);
	fg_config_unref(m->config);
	m->config = c;
	manager_state_files_check(m);
	apply_log_level(m);
	log_notice("Configuration reloaded from %s", c->path);
	log_config_warnings(c);
	sd_notify(false, "READY=1");
	notify_status(m);
	fg_api_buttons_changed(m->api);
	fg_api_gateway_changed(m->api);
	return 0;
}

int fg_manager_reload(struct fg_manager *m)
{
	return manager_reload(m, NULL);
}

/* The control API's Reload: handed to manager_api_setup(), which calls back. */
static int api_reload(struct fg_api_error *err, void *userdata)
{
	return manager_reload(userdata, err);
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct fg_manager *m = userdata;

	log_notice("Received %s, shutting down", strsignal((int)si->ssi_signo));
	sd_notify(false, "STOPPING=1\nSTATUS=Shutting down");
	return sd_event_exit(m->event, m->exit_code);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	fg_manager_reload(userdata);
	return 0;
}

static int on_name_acquired(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_manager *m = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	uint32_t result;
	int r;

	if (e) {
		/* the bus policy forbids us the name */
		log_error("Cannot own %s on the bus: %s", FG_DBUS_NAME, e->message);
		goto fail;
	}
	r = sd_bus_message_read(reply, "u", &result);
	if (r < 0) {
		log_error_errno(r, "Cannot parse the reply to RequestName: %m");
		goto fail;
	}
	/* 1: primary owner, 4: already ours; 3: someone else has it (we asked not to queue) */
	if (result != 1 && result != 4) {
		log_error("Cannot own %s on the bus: another flicgated is running", FG_DBUS_NAME);
		goto fail;
	}
	log_debug("Acquired %s", FG_DBUS_NAME);
	return 0;

fail:
	m->exit_code = EXIT_FAILURE;
	return sd_event_exit(m->event, EXIT_FAILURE);
}

static int connect_bus(struct fg_manager *m)
{
	int r;

	if (m->bus_address) {
		r = sd_bus_new(&m->bus);
		if (r < 0)
			return r;
		r = sd_bus_set_address(m->bus, m->bus_address);
		if (r >= 0)
			r = sd_bus_set_bus_client(m->bus, true);
		if (r >= 0)
			r = sd_bus_start(m->bus);
	} else if (m->opts.user_bus) {
		r = sd_bus_open_user(&m->bus);
	} else {
		r = sd_bus_open_system(&m->bus);
	}
	if (r < 0)
		return r;
	r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return r;
	/* objects first: whoever sees the name may call at once */
	r = manager_api_setup(m, api_reload);
	if (r < 0)
		return log_error_errno(r, "Failed to register the control API on the bus: %m");
	/* DBUS_NAME_FLAG_DO_NOT_QUEUE: a second instance must fail, not wait */
	return sd_bus_call_method_async(m->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					"org.freedesktop.DBus", "RequestName", on_name_acquired, m,
					"su", FG_DBUS_NAME, (uint32_t)4);
}

/*
 * The configured folder may be a link (systemd's DynamicUser= makes one);
 * what it leads to must be ours: pairing keys live there. Root may run the
 * daemon on the service user's folder: that user's files count as ours
 * then. A group or world bit is taken away. What lies inside is never
 * followed (lib/statefile.h).
 */
static int prepare_state_dir(const char *dir)
{
	struct stat st;
	int fd, r;

	r = fg_mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (geteuid() == 0)
		fg_statefile_trust_owner(st.st_uid);
	if (r >= 0)
		r = fg_statefile_check_fd(fd, true);
	close(fd);
	return r;
}

int fg_manager_new(const struct fg_manager_options *opts, struct fg_config *config,
		   struct fg_manager **ret)
{
	struct fg_manager *m;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m) {
		fg_config_unref(config);
		return -ENOMEM;
	}
	m->opts = *opts;
	m->config = config;
	m->exit_code = EXIT_SUCCESS;
	m->start_time_usec = fg_now_realtime();
	if ((opts->config_path && !(m->config_path = strdup(opts->config_path))) ||
	    (opts->bus_address && !(m->bus_address = strdup(opts->bus_address)))) {
		r = -ENOMEM;
		goto failed;
	}
	m->opts.config_path = m->config_path;
	m->opts.bus_address = m->bus_address;
	apply_log_level(m);

	r = sd_event_default(&m->event);
	if (r < 0) {
		log_error_errno(r, "Failed to create the event loop: %m");
		goto failed;
	}
	/* handles WATCHDOG=1 on its own when WatchdogSec= is set */
	r = sd_event_set_watchdog(m->event, true);
	if (r < 0) {
		log_error_errno(r, "Failed to enable the systemd watchdog: %m");
		goto failed;
	}

	r = sd_event_add_signal(m->event, &m->sigterm_source, SIGTERM | SD_EVENT_SIGNAL_PROCMASK,
				on_exit_signal, m);
	if (r >= 0)
		r = sd_event_add_signal(m->event, &m->sigint_source, SIGINT | SD_EVENT_SIGNAL_PROCMASK,
					on_exit_signal, m);
	if (r >= 0)
		r = sd_event_add_signal(m->event, &m->sighup_source, SIGHUP | SD_EVENT_SIGNAL_PROCMASK,
					on_sighup, m);
	if (r < 0) {
		log_error_errno(r, "Failed to set up signal handling: %m");
		goto failed;
	}

	/*
	 * Lights and buzzer early, so that "starting" shows. Missing GPIO
	 * hardware must not stop alerts from being delivered: log and go on.
	 * [gpio] changes take effect at the next start, not on reload.
	 */
	r = fg_gpio_new(m->event, m->config, &m->gpio);
	if (r < 0)
		log_error_errno(r, "Failed to set up the LEDs and buzzer, running without them: %m");
	else
		fg_gpio_set_ack_handler(m->gpio, on_local_ack, m);

	manager_state_files_setup(m);
	r = prepare_state_dir(m->config->gateway.state_dir);
	if (r < 0) {
		log_error_errno(r, "Failed to create state directory %s: %m", m->config->gateway.state_dir);
		goto failed;
	}

	r = fg_pipeline_new(m->event, m->config, &m->pipeline);
	if (r < 0) {
		log_error_errno(r, "Failed to start the alert pipeline: %m");
		goto failed;
	}
	fg_pipeline_set_callback(m->pipeline, on_pipeline_event, m);
	fg_pipeline_set_commit_callback(m->pipeline, manager_journal_committed, m);

	if (asprintf(&m->running_marker, "%s/running", m->config->gateway.state_dir) < 0) {
		m->running_marker = NULL;
		r = -ENOMEM;
		goto failed;
	}
	manager_read_running_marker(m);
	r = fg_supervision_new(m->event, m->config, &supervision_ops, m, &m->supervision);
	if (r < 0) {
		log_error_errno(r, "Failed to start supervision: %m");
		goto failed;
	}
	manager_read_boot_errors(m);
	manager_state_files_check(m);
	show_pipeline_state(m);

	r = connect_bus(m);
	if (r < 0) {
		log_error_errno(r, "Failed to connect to the %s bus: %m",
				m->bus_address ? "given" : m->opts.user_bus ? "user" : "system");
		goto failed;
	}

	/* the buttons follow bluetoothd on the same bus; its absence is a state, not an error */
	r = fg_buttons_new(m->event, m->bus, m->config, &buttons_ops, m, &m->buttons);
	if (r < 0) {
		log_error_errno(r, "Failed to set up the buttons: %m");
		goto failed;
	}
	/* the API went up before them: paired buttons no section names join it now */
	fg_api_buttons_changed(m->api);

	*ret = m;
	return 0;

failed:
	fg_manager_free(m);
	return r;
}

int fg_manager_run(struct fg_manager *m)
{
	int r;

	feedback_event(m, &(struct fg_feedback_event){ .kind = FG_FB_EVENT_STARTED });
	if (m->restart_reason[0])
		fg_supervision_report_restart(m->supervision, m->restart_reason);
	r = manager_write_running_marker(m);
	if (r < 0)
		log_warning_errno(r, "Failed to write %s; an abnormal end will go unreported: %m",
				  m->running_marker);
	/* STATUS= follows the radio from here on (notify_status) */
	sd_notify(false, "READY=1");
	notify_status(m);
	log_notice("flicgated %s running (%zu buttons, %zu webhooks, config %s)", FG_VERSION,
		   m->config->n_buttons, m->config->n_webhooks, m->config->path);
	log_config_warnings(m->config);
	r = sd_event_loop(m->event);
	/* the loop ended as asked (or failed and says so): not an abnormal end */
	if (unlink(m->running_marker) < 0 && errno != ENOENT)
		log_warning_errno(-errno, "Failed to remove %s: %m", m->running_marker);
	else
		(void)fg_fsync_dir_of(m->running_marker);
	if (r < 0)
		return log_error_errno(r, "Event loop failed: %m"), EXIT_FAILURE;
	return r;
}

struct fg_manager *fg_manager_free(struct fg_manager *m)
{
	if (!m)
		return NULL;
	fg_statefile_set_handler(NULL, NULL);
	/* subsystems go first: they hold sources on the loop and the bus */
	m->api = fg_api_free(m->api);
	m->buttons = fg_buttons_free(m->buttons);
	m->supervision = fg_supervision_free(m->supervision);
	m->pipeline = fg_pipeline_free(m->pipeline);
	m->gpio = fg_gpio_free(m->gpio);
	m->bus = sd_bus_flush_close_unref(m->bus);
	sd_event_source_unref(m->sighup_source);
	sd_event_source_unref(m->sigint_source);
	sd_event_source_unref(m->sigterm_source);
	sd_event_unref(m->event);
	fg_config_unref(m->config);
	free(m->config_path);
	free(m->bus_address);
	free(m->running_marker);
	free(m);
	return NULL;
}
