/* SPDX-License-Identifier: MIT */
/*
 * The control API's supervision calls (daemon/control/api.h): test-press
 * window, the audit trail export, the supervision properties of the
 * Gateway and of each button. Everything comes from m->supervision.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervision/audit.h"
#include "supervision/supervision.h"
#include "lib/log.h"
#include "lib/macro.h"
#include "lib/statefile.h"
#include "manager-private.h"

static void api_get_supervision(struct fg_api_supervision *ret, void *userdata)
{
	struct fg_manager *m = userdata;
	unsigned long sent = 0, failed = 0;
	const char *button = "";
	uint64_t end = 0;
	char **alarms = NULL;

	*ret = (struct fg_api_supervision){ .test_window_button = "" };
	if (!m->supervision)
		return;
	ret->test_window_open = fg_supervision_test_window(m->supervision, &end, &button);
	ret->test_window_end_usec = end;
	ret->test_window_button = button;
	if (fg_supervision_alarms(m->supervision, &alarms) >= 0)
		ret->alarms = alarms;
	fg_supervision_heartbeat_counts(m->supervision, &sent, &failed);
	ret->heartbeats_sent = sent;
	ret->heartbeats_failed = failed;
}

static int api_button_supervision(const char *id,
				  struct fg_api_button_supervision *ret, void *userdata)
{
	struct fg_manager *m = userdata;
	struct fg_supervision_button b;
	int r;

	if (!m->supervision)
		return -ENOENT;
	r = fg_supervision_button_info(m->supervision, id, &b);
	if (r < 0)
		return r;
	*ret = (struct fg_api_button_supervision){
		.last_seen_usec = b.last_seen_usec,
		.battery_mv = (uint16_t)b.battery_mv,
		.battery_percent = b.battery_percent,
		.battery_low = b.battery_low,
		.not_seen = b.not_seen,
		.last_test_usec = b.last_test_usec,
	};
	return 0;
}

static int api_open_test_window(uint64_t timeout_usec, const char *button_id,
				struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;
	int r;

	r = fg_supervision_open_test_window(m->supervision, timeout_usec, button_id);
	if (r == -ENOENT)
		return fg_api_error_set(err, FG_API_ERR_UNKNOWN_BUTTON,
					"Only buttons listed in %s are supervised", m->config->path);
	if (r == -ERANGE)
		return fg_api_error_set(err, FG_API_ERR_INVALID_ARGUMENT,
					"A test window lasts 1 s to 1 h");
	return r;
}

static int api_close_test_window(struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;
	int r = fg_supervision_close_test_window(m->supervision);

	if (r == -ENOENT)
		return fg_api_error_set(err, FG_API_ERR_FAILED, "No test window is open");
	return r;
}

struct export {
	int (*cb)(const struct fg_api_audit_record *r, void *userdata);
	void *userdata;
};

static int export_one(const struct fg_audit_entry *e, uint64_t since_press_usec, void *userdata)
{
	struct export *x = userdata;
	struct fg_api_audit_record rec = {
		.time_usec = e->time_usec,
		.event = fg_audit_kind_to_string(e->kind),
		.button = e->button,
		.alert_id = e->alert_id,
		.target = e->target,
		.latency_usec = e->latency_usec,
		.since_press_usec = since_press_usec,
		.detail = e->detail,
	};

	return x->cb(&rec, x->userdata);
}

/*
 * Reads the files on the loop: bounded by the trail's own bound (10 MiB,
 * see supervision/supervision.c) and done on an operator's request only.
 */
static int api_export_audit(uint64_t since_usec, uint64_t until_usec,
			    int (*cb)(const struct fg_api_audit_record *r, void *cb_userdata),
			    void *cb_userdata, unsigned *ret_skipped, struct fg_api_error *err, void *userdata)
{
	struct fg_manager *m = userdata;
	struct export x = { cb, cb_userdata };
	int r;

	r = fg_audit_read(fg_supervision_audit_dir(m->supervision), since_usec, until_usec, export_one,
			  &x, ret_skipped);
	if (r < 0 && r != -ENOBUFS)
		log_error_errno(r, "Failed to read the audit trail: %m");
	return r;
}

void manager_supervision_api(struct fg_api_provider *p)
{
	p->get_supervision = api_get_supervision;
	p->button_supervision = api_button_supervision;
	p->open_test_window = api_open_test_window;
	p->close_test_window = api_close_test_window;
	p->export_audit = api_export_audit;
}

void manager_supervision_ack(struct fg_manager *m, bool silenced, const char *via)
{
	if (m->supervision)
		fg_supervision_acknowledge(m->supervision, silenced, via);
}

/* ---- state files set aside: the state-files alarm ---------------------- */

static void on_state_file_set_aside(const char *path, const char *aside, const char *why,
				    void *userdata)
{
	struct fg_manager *m = userdata;

	log_error("State file %s was %s, not a file of the gateway's own: set aside as %s, "
		  "a fresh one is used", path, why, aside);
	snprintf(m->state_aside_last, sizeof(m->state_aside_last), "%s was %s", path, why);
	manager_state_files_check(m);
}

void manager_state_files_setup(struct fg_manager *m)
{
	fg_statefile_set_handler(on_state_file_set_aside, m);
}

void manager_state_files_check(struct fg_manager *m)
{
	static const char *const sub[] = { "", "/spool", "/spool/dead", "/pairings", "/audit" };
	const char *state = m->config->gateway.state_dir;
	char dir[PATH_MAX], found[256] = "";
	size_t n = 0;

	if (!m->supervision)
		return;
	for (size_t i = 0; i < FG_ELEMENTSOF(sub); i++)
		if (snprintf(dir, sizeof(dir), "%s%s", state, sub[i]) < (int)sizeof(dir))
			n += fg_statefile_count_aside(dir, found, sizeof(found));
	if (n > 0 && !m->state_aside_last[0])
		snprintf(m->state_aside_last, sizeof(m->state_aside_last), "%s", found);
	if (n == 0)
		m->state_aside_last[0] = '\0';
	fg_supervision_state_files(m->supervision, n, m->state_aside_last);
}
