/* SPDX-License-Identifier: MIT */
/*
 * api-driver: the real control API (daemon/control/api*.c) on a bus, fed by a
 * scripted provider instead of the BlueZ adapter, the pipeline and the
 * GPIO code. The integration tests drive it through stdin, one command a
 * line, and read "OK" (or "ERR …") after each, plus "CALL …" lines for
 * every provider callback the API made. It lets the tests cover pairing
 * progress, deliveries, acknowledge, unpair, rename, export and import
 * end to end (API + flicgatectl) before those subsystems are wired.
 *
 *   api-driver --bus ADDRESS
 *
 * Commands (see tests/integration/fgapi.py):
 *   button ID key=value…     add or change a button (name serial address
 *                            configured paired connected last_seen rssi
 *                            battery firmware last_event last_event_time alert)
 *   remove ID
 *   gateway key=value…       spool_depth spool_alarm dead_letters adapter
 *                            adapter_state policy
 *   target NAME HEALTH QUEUED DELIVERED DEAD STATUS [ERROR…]
 *   delivery ALERT BUTTON TARGET STATE TEST RESULT HTTP LATENCY_US ATTEMPT [ERROR…]
 *   plan STAGE [ADDRESS [MESSAGE…]]   next step of the pairing script
 *   fail CALLBACK ERRNAME MESSAGE…    the next CALLBACK fails with that error
 *   features LIST            comma-separated subset of bluetooth,delivery,…
 *   quit
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config/config.h"
#include "control/flicgate-dbus.h"
#include "control/api.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

#define MAX_BUTTONS 64
#define MAX_TARGETS 8
#define MAX_DELIVERIES 32
#define MAX_PLAN 16

struct button {
	bool used;
	char id[64], name[64], serial[16], last_event[16], alert[16];
	bool has_address;
	uint8_t address[6];
	bool configured, paired, connected;
	uint64_t last_seen, last_event_time;
	bool has_rssi;
	int rssi;
	unsigned battery, firmware;
};

struct target {
	char name[64], health[16], error[128];
	uint64_t queued, delivered, dead;
	int status;
};

struct delivery {
	uint64_t time;
	char alert_id[64], button[64], target[64], state[8], result[16], error[128];
	bool test;
	int http;
	uint64_t latency;
	unsigned attempt;
};

struct step {
	enum fg_api_pairing_stage stage;
	char address[18];
	char message[128];
};

struct fail {
	char callback[32];
	enum fg_api_errcode code;
	char message[256];
};

static struct {
	sd_event *event;
	sd_bus *bus;
	struct fg_api *api;
	sd_event_source *stdin_source;
	char inbuf[8192];
	size_t inlen;

	struct button buttons[MAX_BUTTONS];
	struct target targets[MAX_TARGETS];
	size_t n_targets;
	struct delivery deliveries[MAX_DELIVERIES];	/* [0] newest */
	size_t n_deliveries;
	unsigned features;
	char adapter[16], adapter_state[16], policy[16];
	uint64_t spool_depth, dead_letters;
	bool spool_alarm;
	uint64_t start_time;

	/* pairing */
	struct step plan[MAX_PLAN];
	size_t n_plan, next_step;
	bool pairing_open;
	uint64_t pairing_end;
	char pairing_name[64];
	char pairing_address[18];
	sd_event_source *pairing_timer;
	unsigned paired_count;

	struct fail fail;
} d;

/* ---- helpers ---------------------------------------------------------------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static struct button *button_get(const char *id)
{
	for (size_t i = 0; i < MAX_BUTTONS; i++)
		if (d.buttons[i].used && strcmp(d.buttons[i].id, id) == 0)
			return &d.buttons[i];
	return NULL;
}

static struct button *button_new(const char *id)
{
	for (size_t i = 0; i < MAX_BUTTONS; i++)
		if (!d.buttons[i].used) {
			struct button *b = &d.buttons[i];

			memset(b, 0, sizeof(*b));
			b->used = true;
			snprintf(b->id, sizeof(b->id), "%s", id);
			snprintf(b->name, sizeof(b->name), "%s", id);
			return b;
		}
	return NULL;
}

/* A failure the test asked for with "fail CALLBACK …". */
static int injected(const char *callback, struct fg_api_error *err)
{
	if (!d.fail.callback[0] || strcmp(d.fail.callback, callback) != 0)
		return 0;
	d.fail.callback[0] = 0;
	return fg_api_error_set(err, d.fail.code, "%s", d.fail.message);
}

static enum fg_api_errcode errcode_from_name(const char *name)
{
	for (int c = FG_API_ERR_FAILED; c < _FG_API_ERR_MAX; c++)
		if (strcmp(fg_api_error_name(c) + strlen(FG_DBUS_ERROR_PREFIX), name) == 0)
			return c;
	return FG_API_ERR_FAILED;
}

/* ---- provider ---------------------------------------------------------------- */

static void p_get_gateway(struct fg_api_gateway *ret, void *userdata)
{
	uint32_t linked = 0, asleep = 0;

	/* the link budget as the radio would count it: [bluetooth] max_links' default */
	for (size_t i = 0; i < MAX_BUTTONS; i++) {
		linked += d.buttons[i].used && d.buttons[i].connected;
		asleep += d.buttons[i].used && d.buttons[i].paired && !d.buttons[i].connected;
	}
	*ret = (struct fg_api_gateway) {
		.name = "driver",
		.config_path = "/etc/flicgate/flicgate.ini",
		.start_time_usec = d.start_time,
		.features = d.features,
		.adapter = d.adapter,
		.adapter_state = d.adapter_state,
		.pairing_policy = d.policy,
		.pairing_open = d.pairing_open,
		.pairing_end_usec = d.pairing_end,
		.spool_depth = d.spool_depth,
		.spool_alarm = d.spool_alarm,
		.dead_letters = d.dead_letters,
		.n_targets = d.n_targets,
		.links_used = linked,
		.link_budget = 7,
		.sleeping_buttons = asleep,
	};
}

static size_t p_n_buttons(void *userdata)
{
	size_t n = 0;

	for (size_t i = 0; i < MAX_BUTTONS; i++)
		n += d.buttons[i].used;
	return n;
}

static void fill(const struct button *b, struct fg_api_button *ret)
{
	*ret = (struct fg_api_button) {
		.id = b->id, .name = b->name, .serial = b->serial,
		.has_address = b->has_address, .configured = b->configured, .paired = b->paired,
		.connected = b->connected, .last_seen_usec = b->last_seen, .has_rssi = b->has_rssi,
		.rssi = (int16_t)b->rssi, .battery_mv = (uint16_t)b->battery, .firmware = b->firmware,
		.last_event = b->last_event, .last_event_usec = b->last_event_time,
		.alert_state = b->alert,
		.sleeping = b->paired && !b->connected,
	};
	memcpy(ret->address, b->address, 6);
}

static int p_button_at(size_t i, struct fg_api_button *ret, void *userdata)
{
	for (size_t k = 0; k < MAX_BUTTONS; k++) {
		if (!d.buttons[k].used)
			continue;
		if (i-- == 0) {
			fill(&d.buttons[k], ret);
			return 0;
		}
	}
	return -ENOENT;
}

static int p_button_by_id(const char *id, struct fg_api_button *ret, void *userdata)
{
	struct button *b = button_get(id);

	if (!b)
		return -ENOENT;
	fill(b, ret);
	return 0;
}

static int p_get_target(size_t i, struct fg_api_target *ret, void *userdata)
{
	const struct target *t = &d.targets[i];

	if (i >= d.n_targets)
		return -ENOENT;
	*ret = (struct fg_api_target) { .name = t->name, .health = t->health, .queued = t->queued,
		.delivered = t->delivered, .dead = t->dead, .last_status = t->status,
		.last_error = t->error };
	return 0;
}

static size_t p_n_deliveries(void *userdata)
{
	return d.n_deliveries;
}

static int p_delivery_at(size_t i, struct fg_api_delivery *ret, void *userdata)
{
	const struct delivery *x = &d.deliveries[i];

	if (i >= d.n_deliveries)
		return -ENOENT;
	*ret = (struct fg_api_delivery) { .time_usec = x->time, .alert_id = x->alert_id,
		.button = x->button, .target = x->target, .state = x->state, .test = x->test,
		.result = x->result, .http_status = x->http, .error = x->error,
		.latency_usec = x->latency, .attempt = x->attempt };
	return 0;
}

static void add_delivery(const struct delivery *x)
{
	struct fg_api_delivery ad;

	memmove(&d.deliveries[1], &d.deliveries[0], sizeof(d.deliveries[0]) * (MAX_DELIVERIES - 1));
	d.deliveries[0] = *x;
	if (d.n_deliveries < MAX_DELIVERIES)
		d.n_deliveries++;
	p_delivery_at(0, &ad, NULL);
	fg_api_delivery(d.api, &ad);
}

static int p_reload(struct fg_api_error *err, void *userdata)
{
	say("CALL reload");
	return injected("reload", err);
}

static void pairing_end(void)
{
	d.pairing_open = false;
	d.pairing_end = 0;
	d.pairing_timer = sd_event_source_disable_unref(d.pairing_timer);
}

static int run_step(sd_event_source *s, uint64_t usec, void *userdata);

static void arm(uint64_t after_usec)
{
	d.pairing_timer = sd_event_source_disable_unref(d.pairing_timer);
	sd_event_add_time_relative(d.event, &d.pairing_timer, CLOCK_MONOTONIC, after_usec, 0,
				   run_step, NULL);
}

/* One step of the script every 50 ms; without one left, wait for the end. */
static int run_step(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct step *st;
	struct button *b;
	char name[64];

	if (d.next_step >= d.n_plan) {
		/* the window ran out */
		pairing_end();
		fg_api_pairing_progress(d.api, FG_API_PAIRING_TIMEOUT, NULL, NULL, NULL);
		return 0;
	}
	st = &d.plan[d.next_step++];
	if (st->address[0])
		snprintf(d.pairing_address, sizeof(d.pairing_address), "%s", st->address);
	if (st->stage == FG_API_PAIRING_SAVED) {
		if (d.pairing_name[0])
			snprintf(name, sizeof(name), "%s", d.pairing_name);
		else
			snprintf(name, sizeof(name), "button-%u", ++d.paired_count);
		b = button_new(name);
		if (b) {
			b->paired = true;
			b->connected = true;
			b->has_address = fg_parse_address(d.pairing_address, b->address) == 0;
			snprintf(b->serial, sizeof(b->serial), "BG30-P%05u", 10000 + d.paired_count);
			b->last_seen = fg_now_realtime();
		}
		pairing_end();
		fg_api_buttons_changed(d.api);
		fg_api_pairing_progress(d.api, st->stage, d.pairing_address, name, st->message);
		return 0;
	}
	if (st->stage >= FG_API_PAIRING_FAILED) {
		pairing_end();
		fg_api_pairing_progress(d.api, st->stage, d.pairing_address, NULL, st->message);
		return 0;
	}
	fg_api_pairing_progress(d.api, st->stage, d.pairing_address, NULL, st->message);
	arm(50 * FG_USEC_PER_MSEC);
	return 0;
}

static int p_open_pairing(uint64_t timeout_usec, const char *name,
			  struct fg_api_error *err, void *userdata)
{
	int r;

	say("CALL open_pairing %llu %s", (unsigned long long)(timeout_usec / FG_USEC_PER_SEC),
	    name[0] ? name : "-");
	r = injected("open_pairing", err);
	if (r < 0)
		return r;
	if (strcmp(d.policy, "locked") == 0)
		return fg_api_error_set(err, FG_API_ERR_PAIRING_LOCKED,
					"Pairing is locked ([bluetooth] pairing = locked)");
	if (d.pairing_open)
		return fg_api_error_set(err, FG_API_ERR_BUSY, "A pairing window is already open");
	if (timeout_usec == 0)
		timeout_usec = 120 * FG_USEC_PER_SEC;
	d.pairing_open = true;
	d.pairing_end = fg_now_realtime() + timeout_usec;
	snprintf(d.pairing_name, sizeof(d.pairing_name), "%s", name);
	d.pairing_address[0] = 0;
	d.next_step = 0;
	fg_api_pairing_progress(d.api, FG_API_PAIRING_SCANNING, NULL, NULL, NULL);
	/* without a script the window just runs out */
	arm(d.n_plan ? 50 * FG_USEC_PER_MSEC : timeout_usec);
	if (!d.n_plan)
		d.next_step = 0;
	return 0;
}

static int p_close_pairing(struct fg_api_error *err, void *userdata)
{
	say("CALL close_pairing");
	if (!d.pairing_open)
		return 0;
	pairing_end();
	fg_api_pairing_progress(d.api, FG_API_PAIRING_CLOSED, NULL, NULL, "closed on request");
	return 0;
}

static int p_test_alert(const char *button_id, const char *target,
			struct fg_api_error *err, void *userdata)
{
	struct delivery x = { 0 };
	size_t i;
	int r;

	say("CALL test_alert %s %s", button_id ? button_id : "-", target ? target : "-");
	r = injected("test_alert", err);
	if (r < 0)
		return r;
	if (target) {
		for (i = 0; i < d.n_targets && strcmp(d.targets[i].name, target) != 0; i++)
			;
		if (i == d.n_targets)
			return fg_api_error_set(err, FG_API_ERR_UNKNOWN_TARGET, "No target called '%s'",
						target);
	}
	x.time = fg_now_realtime();
	snprintf(x.alert_id, sizeof(x.alert_id), "test-%zu", d.n_deliveries + 1);
	snprintf(x.button, sizeof(x.button), "%s", button_id ? button_id : "flicgate-test");
	snprintf(x.target, sizeof(x.target), "%s", target ? target : (d.n_targets ? d.targets[0].name : "none"));
	snprintf(x.state, sizeof(x.state), "on");
	x.test = true;
	snprintf(x.result, sizeof(x.result), "delivered");
	x.http = 200;
	x.latency = 12000;
	x.attempt = 1;
	add_delivery(&x);
	return 0;
}

static int p_acknowledge(bool *ret_silenced, struct fg_api_error *err, void *userdata)
{
	bool any = false;

	say("CALL acknowledge");
	for (size_t i = 0; i < MAX_BUTTONS; i++)
		if (d.buttons[i].used && strcmp(d.buttons[i].alert, "open") == 0)
			any = true;
	*ret_silenced = any;
	return 0;
}

static int p_unpair(const char *id, struct fg_api_error *err, void *userdata)
{
	struct button *b = button_get(id);
	int r;

	say("CALL unpair %s", id);
	r = injected("unpair", err);
	if (r < 0)
		return r;
	if (!b || !b->paired)
		return fg_api_error_set(err, FG_API_ERR_NOT_PAIRED, "Button '%s' is not paired", id);
	b->paired = false;
	b->connected = false;
	if (!b->configured) {
		b->used = false;
		fg_api_buttons_changed(d.api);
	} else
		fg_api_button_changed(d.api, id);
	return 0;
}

static int p_rename(const char *id, const char *name, struct fg_api_error *err, void *userdata)
{
	struct button *b = button_get(id);

	say("CALL rename %s %s", id, name);
	if (!b)
		return -ENOENT;
	if (b->configured)
		return fg_api_error_set(err, FG_API_ERR_CONFIGURED,
					"Button '%s' is named in flicgate.ini: rename it there", id);
	snprintf(b->name, sizeof(b->name), "%s", name);
	fg_api_button_changed(d.api, id);
	return 0;
}

static int p_export(char **ret_document, unsigned *ret_count,
		    struct fg_api_error *err, void *userdata)
{
	char *doc = NULL, addr[18];
	size_t len = 0;
	unsigned n = 0;
	FILE *f;

	say("CALL export");
	f = open_memstream(&doc, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# flicgate pairing records (api-driver)\n");
	for (size_t i = 0; i < MAX_BUTTONS; i++) {
		const struct button *b = &d.buttons[i];

		if (!b->used || !b->paired)
			continue;
		fg_format_address(b->address, addr);
		fprintf(f, "pairing %s %s %s key=SECRET%02zu\n", addr, b->serial[0] ? b->serial : "-",
			b->name, i);
		n++;
	}
	fclose(f);
	*ret_document = doc;
	*ret_count = n;
	return 0;
}

static int p_import(const char *document, bool replace, unsigned *ret_count,
		    struct fg_api_error *err, void *userdata)
{
	char *line, addr[18], serial[16], name[64], key[64];
	unsigned n = 0, lineno = 0;
	uint8_t a[6];
	struct button *b;

	say("CALL import %s", replace ? "replace" : "merge");
	const char *p = document;

	/* check everything before changing anything */
	while (*p) {
		const char *eol = strchrnul(p, '\n');
		char buf[256];

		lineno++;
		snprintf(buf, sizeof(buf), "%.*s", (int)(eol - p), p);
		p = *eol ? eol + 1 : eol;
		if (!buf[0] || buf[0] == '#')
			continue;
		if (sscanf(buf, "pairing %17s %15s %63s %63s", addr, serial, name, key) != 4 ||
		    fg_parse_address(addr, a) < 0)
			return fg_api_error_set(err, FG_API_ERR_BAD_PAIRING_FILE,
						"line %u: not a pairing record", lineno);
	}
	if (replace)
		for (size_t i = 0; i < MAX_BUTTONS; i++)
			if (d.buttons[i].used && !d.buttons[i].configured)
				d.buttons[i].used = false;
	p = document;
	while (*p) {
		const char *eol = strchrnul(p, '\n');
		char buf[256];

		snprintf(buf, sizeof(buf), "%.*s", (int)(eol - p), p);
		p = *eol ? eol + 1 : eol;
		line = buf;
		if (!line[0] || line[0] == '#')
			continue;
		sscanf(line, "pairing %17s %15s %63s %63s", addr, serial, name, key);
		b = button_get(name);
		if (!b)
			b = button_new(name);
		if (!b)
			break;
		b->paired = true;
		b->has_address = fg_parse_address(addr, b->address) == 0;
		snprintf(b->serial, sizeof(b->serial), "%s", strcmp(serial, "-") ? serial : "");
		n++;
	}
	*ret_count = n;
	return 0;
}

/*
 * Supervision is not scripted here (test-supervision-*.py run the real
 * daemon): its methods answer NotAvailable, its properties are neutral.
 */
static int p_no_supervision(struct fg_api_error *err)
{
	return fg_api_error_set(err, FG_API_ERR_NOT_AVAILABLE,
				"Supervision is not available in this build");
}

static void p_get_supervision(struct fg_api_supervision *ret, void *userdata)
{
	*ret = (struct fg_api_supervision){ .test_window_button = "" };
}

static int p_button_supervision(const char *id, struct fg_api_button_supervision *ret,
				void *userdata)
{
	return -ENOENT;
}

static int p_open_test_window(uint64_t timeout_usec, const char *button_id,
			      struct fg_api_error *err, void *userdata)
{
	return p_no_supervision(err);
}

static int p_close_test_window(struct fg_api_error *err, void *userdata)
{
	return p_no_supervision(err);
}

static int p_export_audit(uint64_t since_usec, uint64_t until_usec,
			  int (*cb)(const struct fg_api_audit_record *r, void *cb_userdata),
			  void *cb_userdata, unsigned *ret_skipped, struct fg_api_error *err, void *userdata)
{
	return fg_api_error_set(err, FG_API_ERR_NOT_AVAILABLE,
				"The audit trail is not available in this build");
}

static const struct fg_api_provider provider = {
	.get_gateway = p_get_gateway,
	.n_buttons = p_n_buttons,
	.button_at = p_button_at,
	.button_by_id = p_button_by_id,
	.get_target = p_get_target,
	.n_deliveries = p_n_deliveries,
	.delivery_at = p_delivery_at,
	.reload = p_reload,
	.open_pairing = p_open_pairing,
	.close_pairing = p_close_pairing,
	.test_alert = p_test_alert,
	.acknowledge = p_acknowledge,
	.unpair = p_unpair,
	.rename = p_rename,
	.export_pairings = p_export,
	.import_pairings = p_import,
	.get_supervision = p_get_supervision,
	.button_supervision = p_button_supervision,
	.open_test_window = p_open_test_window,
	.close_test_window = p_close_test_window,
	.export_audit = p_export_audit,
};

/* ---- commands ------------------------------------------------------------------- */

static bool parse_bool(const char *v)
{
	return strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0;
}

static int cmd_button(char **w, size_t n)
{
	struct button *b;
	bool added = false;

	if (n < 2)
		return -EINVAL;
	b = button_get(w[1]);
	if (!b) {
		b = button_new(w[1]);
		added = true;
	}
	if (!b)
		return -ENOSPC;
	for (size_t i = 2; i < n; i++) {
		char *k = w[i], *v = strchr(k, '=');

		if (!v)
			return -EINVAL;
		*v++ = 0;
		if (!strcmp(k, "name"))
			snprintf(b->name, sizeof(b->name), "%s", v);
		else if (!strcmp(k, "serial"))
			snprintf(b->serial, sizeof(b->serial), "%s", v);
		else if (!strcmp(k, "address"))
			b->has_address = fg_parse_address(v, b->address) == 0;
		else if (!strcmp(k, "configured"))
			b->configured = parse_bool(v);
		else if (!strcmp(k, "paired"))
			b->paired = parse_bool(v);
		else if (!strcmp(k, "connected"))
			b->connected = parse_bool(v);
		else if (!strcmp(k, "last_seen"))
			b->last_seen = strtoull(v, NULL, 10);
		else if (!strcmp(k, "rssi")) {
			b->has_rssi = true;
			b->rssi = atoi(v);
		} else if (!strcmp(k, "battery"))
			b->battery = (unsigned)atoi(v);
		else if (!strcmp(k, "firmware"))
			b->firmware = (unsigned)atoi(v);
		else if (!strcmp(k, "last_event"))
			snprintf(b->last_event, sizeof(b->last_event), "%s", v);
		else if (!strcmp(k, "last_event_time"))
			b->last_event_time = strtoull(v, NULL, 10);
		else if (!strcmp(k, "alert"))
			snprintf(b->alert, sizeof(b->alert), "%s", v);
		else
			return -EINVAL;
	}
	if (added)
		fg_api_buttons_changed(d.api);
	else
		fg_api_button_changed(d.api, b->id);
	return 0;
}

static int cmd_gateway(char **w, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		char *k = w[i], *v = strchr(k, '=');

		if (!v)
			return -EINVAL;
		*v++ = 0;
		if (!strcmp(k, "spool_depth"))
			d.spool_depth = strtoull(v, NULL, 10);
		else if (!strcmp(k, "spool_alarm"))
			d.spool_alarm = parse_bool(v);
		else if (!strcmp(k, "dead_letters"))
			d.dead_letters = strtoull(v, NULL, 10);
		else if (!strcmp(k, "adapter"))
			snprintf(d.adapter, sizeof(d.adapter), "%s", v);
		else if (!strcmp(k, "adapter_state"))
			snprintf(d.adapter_state, sizeof(d.adapter_state), "%s", v);
		else if (!strcmp(k, "policy"))
			snprintf(d.policy, sizeof(d.policy), "%s", v);
		else
			return -EINVAL;
	}
	fg_api_gateway_changed(d.api);
	return 0;
}

/* words from @from on, joined by spaces */
static void rest(char **w, size_t n, size_t from, char *buf, size_t size)
{
	buf[0] = 0;
	for (size_t i = from; i < n; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, "%s%s", i > from ? " " : "", w[i]);
	}
}

static int cmd_target(char **w, size_t n)
{
	struct target *t;
	size_t i;

	if (n < 7)
		return -EINVAL;
	for (i = 0; i < d.n_targets && strcmp(d.targets[i].name, w[1]) != 0; i++)
		;
	if (i == MAX_TARGETS)
		return -ENOSPC;
	if (i == d.n_targets)
		d.n_targets++;
	t = &d.targets[i];
	snprintf(t->name, sizeof(t->name), "%s", w[1]);
	snprintf(t->health, sizeof(t->health), "%s", w[2]);
	t->queued = strtoull(w[3], NULL, 10);
	t->delivered = strtoull(w[4], NULL, 10);
	t->dead = strtoull(w[5], NULL, 10);
	t->status = atoi(w[6]);
	rest(w, n, 7, t->error, sizeof(t->error));
	fg_api_gateway_changed(d.api);
	return 0;
}

static int cmd_delivery(char **w, size_t n)
{
	struct delivery x = { .time = fg_now_realtime() };

	if (n < 10)
		return -EINVAL;
	snprintf(x.alert_id, sizeof(x.alert_id), "%s", w[1]);
	snprintf(x.button, sizeof(x.button), "%s", w[2]);
	snprintf(x.target, sizeof(x.target), "%s", w[3]);
	snprintf(x.state, sizeof(x.state), "%s", w[4]);
	x.test = parse_bool(w[5]);
	snprintf(x.result, sizeof(x.result), "%s", w[6]);
	x.http = atoi(w[7]);
	x.latency = strtoull(w[8], NULL, 10);
	x.attempt = (unsigned)atoi(w[9]);
	rest(w, n, 10, x.error, sizeof(x.error));
	add_delivery(&x);
	return 0;
}

static int cmd_plan(char **w, size_t n)
{
	struct step *st;
	int s;

	if (n < 2 || d.n_plan == MAX_PLAN)
		return -EINVAL;
	if (!strcmp(w[1], "clear")) {
		d.n_plan = 0;
		return 0;
	}
	for (s = 0; s < _FG_API_PAIRING_STAGE_MAX; s++)
		if (!strcmp(w[1], fg_api_pairing_stage_to_string(s)))
			break;
	if (s == _FG_API_PAIRING_STAGE_MAX)
		return -EINVAL;
	st = &d.plan[d.n_plan++];
	memset(st, 0, sizeof(*st));
	st->stage = s;
	if (n > 2 && strcmp(w[2], "-") != 0)
		snprintf(st->address, sizeof(st->address), "%s", w[2]);
	rest(w, n, 3, st->message, sizeof(st->message));
	return 0;
}

static int cmd_features(char **w, size_t n)
{
	char **l = NULL, *f;

	d.features = 0;
	if (n > 1 && fg_strv_split_list(w[1], &l) < 0)
		return -ENOMEM;
	FG_STRV_FOREACH(f, l) {
		if (!strcmp(f, "bluetooth"))
			d.features |= FG_API_FEATURE_BLUETOOTH;
		else if (!strcmp(f, "delivery"))
			d.features |= FG_API_FEATURE_DELIVERY;
		else if (!strcmp(f, "feedback"))
			d.features |= FG_API_FEATURE_FEEDBACK;
		else if (!strcmp(f, "pairing-store"))
			d.features |= FG_API_FEATURE_PAIRING_STORE;
	}
	fg_strv_free(l);
	fg_api_gateway_changed(d.api);
	return 0;
}

static void command(char *line)
{
	char *w[32], *save = NULL, *tok;
	size_t n = 0;
	int r = -EINVAL;

	for (tok = strtok_r(line, " \t", &save); tok && n < 32; tok = strtok_r(NULL, " \t", &save))
		w[n++] = tok;
	if (n == 0)
		return;
	if (!strcmp(w[0], "button"))
		r = cmd_button(w, n);
	else if (!strcmp(w[0], "remove")) {
		struct button *b = n > 1 ? button_get(w[1]) : NULL;

		if (b) {
			b->used = false;
			fg_api_buttons_changed(d.api);
			r = 0;
		}
	} else if (!strcmp(w[0], "gateway"))
		r = cmd_gateway(w, n);
	else if (!strcmp(w[0], "target"))
		r = cmd_target(w, n);
	else if (!strcmp(w[0], "delivery"))
		r = cmd_delivery(w, n);
	else if (!strcmp(w[0], "plan"))
		r = cmd_plan(w, n);
	else if (!strcmp(w[0], "features"))
		r = cmd_features(w, n);
	else if (!strcmp(w[0], "fail") && n >= 3) {
		snprintf(d.fail.callback, sizeof(d.fail.callback), "%s", w[1]);
		d.fail.code = errcode_from_name(w[2]);
		rest(w, n, 3, d.fail.message, sizeof(d.fail.message));
		r = 0;
	} else if (!strcmp(w[0], "quit")) {
		sd_event_exit(d.event, 0);
		r = 0;
	}
	if (r < 0)
		say("ERR %s", strerror(-r));
	else
		say("OK");
}

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	ssize_t n = read(fd, d.inbuf + d.inlen, sizeof(d.inbuf) - d.inlen - 1);
	char *nl;

	if (n <= 0) {
		/* the test went away: so do we */
		return sd_event_exit(d.event, 0);
	}
	d.inlen += (size_t)n;
	d.inbuf[d.inlen] = 0;
	while ((nl = strchr(d.inbuf, '\n'))) {
		*nl = 0;
		command(d.inbuf);
		memmove(d.inbuf, nl + 1, d.inlen - (size_t)(nl + 1 - d.inbuf) + 1);
		d.inlen -= (size_t)(nl + 1 - d.inbuf);
	}
	return 0;
}

int main(int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *address = NULL;
	int r;

	if (argc == 3 && !strcmp(argv[1], "--bus"))
		address = argv[2];
	if (!address) {
		fprintf(stderr, "usage: api-driver --bus ADDRESS\n");
		return 2;
	}
	d.features = FG_API_FEATURE_BLUETOOTH | FG_API_FEATURE_DELIVERY | FG_API_FEATURE_FEEDBACK |
		     FG_API_FEATURE_PAIRING_STORE;
	snprintf(d.adapter, sizeof(d.adapter), "hci0");
	snprintf(d.adapter_state, sizeof(d.adapter_state), "ready");
	snprintf(d.policy, sizeof(d.policy), "window");
	d.start_time = fg_now_realtime();

	r = sd_event_default(&d.event);
	if (r >= 0)
		r = sd_bus_new(&d.bus);
	if (r >= 0)
		r = sd_bus_set_address(d.bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(d.bus, true);
	if (r >= 0)
		r = sd_bus_start(d.bus);
	if (r >= 0)
		r = sd_bus_attach_event(d.bus, d.event, 0);
	if (r >= 0)
		r = fg_api_new(d.bus, &provider, (gid_t)-1, &d.api);
	if (r >= 0)
		r = sd_bus_request_name(d.bus, FG_DBUS_NAME, 0);
	if (r >= 0)
		r = sd_event_add_io(d.event, &d.stdin_source, STDIN_FILENO, EPOLLIN, on_stdin, NULL);
	if (r < 0) {
		fprintf(stderr, "api-driver: %s\n", strerror(-r));
		return 1;
	}
	say("READY");
	r = sd_event_loop(d.event);
	d.pairing_timer = sd_event_source_disable_unref(d.pairing_timer);
	sd_event_source_unref(d.stdin_source);
	fg_api_free(d.api);
	sd_bus_flush_close_unref(d.bus);
	sd_event_unref(d.event);
	sd_bus_error_free(&e);
	return r < 0 ? 1 : 0;
}
