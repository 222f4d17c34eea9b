/* SPDX-License-Identifier: MIT */
/*
 * Who may call a changing method, without blocking: the real API
 * (daemon/control/api*.c; the check is api-creds.c) on a bus connection
 * whose other end is played by the test. The test stands in for
 * dbus-daemon: it answers Hello, sends
 * method calls "from" any unique name it likes, and holds every
 * GetConnectionCredentials the API asks until the test case answers it,
 * so that calls on hold, their order and the answers are all seen.
 * (A check that blocked would never get its answer: the test's end of
 * the socket runs on the same loop.)
 */
#include "fg-test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "control/flicgate-dbus.h"
#include "control/api.h"

#define MAX_ANSWERS 160
#define MAX_ASKED 160

struct answer {
	bool done;
	char error[128];	/* "" success */
	char message[256];
	sd_bus_slot *slot;
};

struct creds_call {
	sd_bus_message *m;	/* NULL once answered */
	char sender[32];	/* whom it asks about */
};

static struct {
	sd_event *event;
	sd_bus *api_bus;	/* the daemon's connection */
	sd_bus *driver;		/* the test's end: "dbus-daemon" */
	sd_bus_slot *filter;
	struct fg_api *api;

	struct creds_call asked[MAX_ASKED];
	size_t n_asked;
	struct answer answers[MAX_ANSWERS];
	size_t n_answers;

	/* what the provider saw */
	unsigned reloads;
	char alerts[MAX_ANSWERS][32];	/* test_alert's target, in call order */
	size_t n_alerts;
	char renamed[64];	/* "id=name" */
} t;

/* ---- a provider with one button, "b1" ---- */

static void get_gateway(struct fg_api_gateway *ret, void *userdata)
{
	*ret = (struct fg_api_gateway){ .name = "test", .config_path = "", .adapter = "",
					.adapter_state = "", .pairing_policy = "window" };
}

static size_t n_buttons(void *userdata)
{
	return 1;
}

static int button_at(size_t i, struct fg_api_button *ret, void *userdata)
{
	if (i != 0)
		return -ENOENT;
	*ret = (struct fg_api_button){ .id = "b1", .name = "b1", .paired = true };
	return 0;
}

static int button_by_id(const char *id, struct fg_api_button *ret, void *userdata)
{
	return strcmp(id, "b1") ? -ENOENT : button_at(0, ret, userdata);
}

static int rename_button(const char *id, const char *name, struct fg_api_error *err, void *userdata)
{
	snprintf(t.renamed, sizeof(t.renamed), "%s=%s", id, name);
	return 0;
}

static int reload(struct fg_api_error *err, void *userdata)
{
	t.reloads++;
	return 0;
}

static int test_alert(const char *button_id, const char *target,
		      struct fg_api_error *err, void *userdata)
{
	assert_true(t.n_alerts < MAX_ANSWERS);
	snprintf(t.alerts[t.n_alerts++], sizeof(t.alerts[0]), "%s", target ? target : "");
	return 0;
}

/* The rest of the provider: these tests never reach it. */
static int unused(struct fg_api_error *err)
{
	return fg_api_error_set(err, FG_API_ERR_FAILED, "not part of this test");
}

static int get_target(size_t i, struct fg_api_target *ret, void *userdata) { return -ENOENT; }
static size_t n_deliveries(void *userdata) { return 0; }
static int delivery_at(size_t i, struct fg_api_delivery *ret, void *userdata) { return -ENOENT; }
static int open_pairing(uint64_t timeout_usec, const char *name,
			struct fg_api_error *err, void *userdata) { return unused(err); }
static int close_pairing(struct fg_api_error *err, void *userdata) { return unused(err); }
static int acknowledge(bool *ret_silenced, struct fg_api_error *err, void *userdata)
{
	return unused(err);
}
static int unpair(const char *id, struct fg_api_error *err, void *userdata) { return unused(err); }
static int export_pairings(char **ret_document, unsigned *ret_count,
			   struct fg_api_error *err, void *userdata) { return unused(err); }
static int import_pairings(const char *document, bool replace,
			   unsigned *ret_count, struct fg_api_error *err, void *userdata) { return unused(err); }
static void get_supervision(struct fg_api_supervision *ret, void *userdata)
{
	*ret = (struct fg_api_supervision){ .test_window_button = "" };
}
static int button_supervision(const char *id,
			      struct fg_api_button_supervision *ret, void *userdata) { return -ENOENT; }
static int open_test_window(uint64_t timeout_usec, const char *button_id,
			    struct fg_api_error *err, void *userdata) { return unused(err); }
static int close_test_window(struct fg_api_error *err, void *userdata) { return unused(err); }
static int export_audit(uint64_t since_usec, uint64_t until_usec,
			int (*cb)(const struct fg_api_audit_record *r, void *cb_userdata),
			void *cb_userdata, unsigned *ret_skipped, struct fg_api_error *err, void *userdata)
{
	return unused(err);
}

/* ---- the test's end of the connection ---- */

static int driver_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	const char *who;

	if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus", "Hello")) {
		assert_int_equal(sd_bus_reply_method_return(m, "s", ":1.1") >= 0, true);
		return 1;
	}
	if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus", "GetConnectionCredentials")) {
		assert_true(t.n_asked < MAX_ASKED);
		assert_true(sd_bus_message_read(m, "s", &who) >= 0);
		snprintf(t.asked[t.n_asked].sender, sizeof(t.asked[0].sender), "%s", who);
		t.asked[t.n_asked++].m = sd_bus_message_ref(m);
		return 1;
	}
	return 0;
}

static void run_until(bool (*done)(void))
{
	/* a bound on waiting for something that is already on its way */
	for (int i = 0; i < 2000 && !done(); i++)
		assert_true(sd_event_run(t.event, 100000) >= 0);
	assert_true(done());
}

static bool api_ready(void)
{
	return sd_bus_is_ready(t.api_bus) > 0;
}

static int setup(void **state)
{
	int fds[2];
	sd_id128_t id;

	memset(&t, 0, sizeof(t));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
	assert_int_equal(sd_event_new(&t.event), 0);

	assert_int_equal(sd_bus_new(&t.driver), 0);
	assert_int_equal(sd_bus_set_fd(t.driver, fds[0], fds[0]), 0);
	assert_int_equal(sd_id128_randomize(&id), 0);
	assert_int_equal(sd_bus_set_server(t.driver, 1, id), 0);
	assert_true(sd_bus_add_filter(t.driver, &t.filter, driver_filter, NULL) >= 0);
	assert_true(sd_bus_start(t.driver) >= 0);
	assert_int_equal(sd_bus_attach_event(t.driver, t.event, 0), 0);

	assert_int_equal(sd_bus_new(&t.api_bus), 0);
	assert_int_equal(sd_bus_set_fd(t.api_bus, fds[1], fds[1]), 0);
	assert_int_equal(sd_bus_set_bus_client(t.api_bus, 1), 0);
	assert_true(sd_bus_start(t.api_bus) >= 0);
	assert_int_equal(sd_bus_attach_event(t.api_bus, t.event, 0), 0);
	run_until(api_ready);
	return 0;
}

static void start_api(gid_t operator_gid)
{
	static const struct fg_api_provider provider = {
		.get_gateway = get_gateway,
		.n_buttons = n_buttons,
		.button_at = button_at,
		.button_by_id = button_by_id,
		.reload = reload,
		.test_alert = test_alert,
		.rename = rename_button,
		.get_target = get_target,
		.n_deliveries = n_deliveries,
		.delivery_at = delivery_at,
		.open_pairing = open_pairing,
		.close_pairing = close_pairing,
		.acknowledge = acknowledge,
		.unpair = unpair,
		.export_pairings = export_pairings,
		.import_pairings = import_pairings,
		.get_supervision = get_supervision,
		.button_supervision = button_supervision,
		.open_test_window = open_test_window,
		.close_test_window = close_test_window,
		.export_audit = export_audit,
	};

	assert_int_equal(fg_api_new(t.api_bus, &provider, operator_gid, &t.api), 0);
}

static int teardown(void **state)
{
	t.api = fg_api_free(t.api);
	for (size_t i = 0; i < t.n_asked; i++)
		sd_bus_message_unref(t.asked[i].m);
	for (size_t i = 0; i < t.n_answers; i++)
		sd_bus_slot_unref(t.answers[i].slot);
	sd_bus_slot_unref(t.filter);
	sd_bus_flush_close_unref(t.api_bus);
	sd_bus_flush_close_unref(t.driver);
	sd_event_unref(t.event);
	return 0;
}

static int on_answer(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct answer *a = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	a->done = true;
	if (e) {
		snprintf(a->error, sizeof(a->error), "%s", e->name);
		snprintf(a->message, sizeof(a->message), "%s", e->message ? e->message : "");
	}
	return 0;
}

/*
 * Sends @iface.@member to the gateway from @sender (NULL: none, as on a
 * direct connection), with up to two string arguments.
 */
static struct answer *call_at(const char *path, const char *sender, const char *iface,
			      const char *member, const char *s1, const char *s2)
{
	struct answer *a = &t.answers[t.n_answers];
	sd_bus_message *m = NULL;

	assert_true(t.n_answers < MAX_ANSWERS);
	t.n_answers++;
	assert_true(sd_bus_message_new_method_call(t.driver, &m, ":1.1", path, iface, member) >= 0);
	if (s1)
		assert_true(sd_bus_message_append(m, "s", s1) >= 0);
	if (s2)
		assert_true(sd_bus_message_append(m, "s", s2) >= 0);
	if (sender)
		assert_true(sd_bus_message_set_sender(m, sender) >= 0);
	assert_true(sd_bus_call_async(t.driver, &a->slot, m, on_answer, a, 0) >= 0);
	sd_bus_message_unref(m);
	return a;
}

static struct answer *call(const char *sender, const char *iface, const char *member,
			   const char *s1, const char *s2)
{
	return call_at(FG_DBUS_MANAGER_PATH, sender, iface, member, s1, s2);
}

static struct answer *reload_from(const char *sender)
{
	return call(sender, FG_DBUS_MANAGER_IFACE, FG_DBUS_GW_RELOAD, NULL, NULL);
}

static struct answer *alert_from(const char *sender, const char *target)
{
	return call(sender, FG_DBUS_MANAGER_IFACE, FG_DBUS_GW_TEST_ALERT, "", target);
}

/* The open GetConnectionCredentials about @sender, NULL if none is. */
static struct creds_call *asked_about(const char *sender)
{
	for (size_t i = 0; i < t.n_asked; i++)
		if (t.asked[i].m && !strcmp(t.asked[i].sender, sender))
			return &t.asked[i];
	return NULL;
}

static unsigned times_asked(const char *sender)
{
	unsigned n = 0;

	for (size_t i = 0; i < t.n_asked; i++)
		n += !strcmp(t.asked[i].sender, sender);
	return n;
}

/* Answers what the API asked about @sender, as dbus-daemon would. */
static void tell(const char *sender, uid_t uid, const gid_t *gids, int n_gids, pid_t pid)
{
	struct creds_call *c = asked_about(sender);
	sd_bus_message *reply = NULL;

	if (!c) {
		fail_msg("nobody asked about %s", sender);
		return;
	}
	assert_true(sd_bus_message_new_method_return(c->m, &reply) >= 0);
	assert_true(sd_bus_message_open_container(reply, 'a', "{sv}") >= 0);
	assert_true(sd_bus_message_append(reply, "{sv}", "UnixUserID", "u", (uint32_t)uid) >= 0);
	if (pid > 0)
		assert_true(sd_bus_message_append(reply, "{sv}", "ProcessID", "u", (uint32_t)pid) >= 0);
	if (n_gids >= 0) {
		assert_true(sd_bus_message_open_container(reply, 'e', "sv") >= 0);
		assert_true(sd_bus_message_append(reply, "s", "UnixGroupIDs") >= 0);
		assert_true(sd_bus_message_open_container(reply, 'v', "au") >= 0);
		assert_true(sd_bus_message_append_array(reply, 'u', gids,
							(size_t)n_gids * sizeof(gid_t)) >= 0);
		assert_true(sd_bus_message_close_container(reply) >= 0);
		assert_true(sd_bus_message_close_container(reply) >= 0);
	}
	/* a key nobody knows yet is skipped */
	assert_true(sd_bus_message_append(reply, "{sv}", "LinuxSecurityLabel.Future", "s", "x") >= 0);
	assert_true(sd_bus_message_close_container(reply) >= 0);
	assert_true(sd_bus_send(t.driver, reply, NULL) >= 0);
	sd_bus_message_unref(reply);
	c->m = sd_bus_message_unref(c->m);
}

static void tell_error(const char *sender)
{
	struct creds_call *c = asked_about(sender);

	if (!c) {
		fail_msg("nobody asked about %s", sender);
		return;
	}
	assert_true(sd_bus_reply_method_errorf(c->m, "org.freedesktop.DBus.Error.NameHasNoOwner",
					       "Could not get owner of name '%s'", sender) >= 0);
	c->m = sd_bus_message_unref(c->m);
}

static struct answer *waiting_for;
static bool answered(void)
{
	return waiting_for->done;
}

static void wait_answer(struct answer *a)
{
	waiting_for = a;
	run_until(answered);
}

static const char *asked_sender;
static bool was_asked(void)
{
	return asked_about(asked_sender) != NULL;
}

static void wait_asked(const char *sender)
{
	asked_sender = sender;
	run_until(was_asked);
}

/*
 * Lets everything sent so far take effect: the API handles one
 * connection's messages in order, so once it answered a Ping, it handled
 * what came before and its questions about it are in.
 */
static void settle(void)
{
	wait_answer(call(":1.99", "org.freedesktop.DBus.Peer", "Ping", NULL, NULL));
}

/* A uid that is neither root nor the test's own. */
static uid_t stranger(void)
{
	return geteuid() == 4711 ? 4712 : 4711;
}

#define NOT_AUTHORIZED FG_DBUS_ERROR_NOT_AUTHORIZED

/* ---- cases ---- */

static void test_cached(void **state)
{
	struct answer *a;

	start_api((gid_t)-1);
	a = reload_from(":1.7");
	wait_asked(":1.7");
	settle();
	/* on hold: no reply, nothing done yet */
	assert_false(a->done);
	assert_int_equal(t.reloads, 0);
	tell(":1.7", 0, NULL, -1, 0);
	wait_answer(a);
	assert_string_equal(a->error, "");
	assert_int_equal(t.reloads, 1);

	/* the same connection again: judged at once, the bus is not asked */
	a = reload_from(":1.7");
	wait_answer(a);
	assert_string_equal(a->error, "");
	assert_int_equal(t.reloads, 2);
	assert_int_equal(times_asked(":1.7"), 1);
}

static void test_refused(void **state)
{
	struct answer *a, *b;

	start_api((gid_t)-1);
	a = reload_from(":1.8");
	wait_asked(":1.8");
	tell(":1.8", stranger(), NULL, -1, 0);
	wait_answer(a);
	assert_string_equal(a->error, NOT_AUTHORIZED);
	assert_string_equal(a->message, "Only root and members of group 'flicgate' may call Reload");

	/* refused the same way from the cache */
	b = reload_from(":1.8");
	wait_answer(b);
	assert_string_equal(b->error, NOT_AUTHORIZED);
	assert_string_equal(b->message, a->message);
	assert_int_equal(times_asked(":1.8"), 1);
	assert_int_equal(t.reloads, 0);
}

static void test_groups(void **state)
{
	gid_t member[] = { 100, getegid() }, other[] = { getegid() + 1 };
	struct answer *a, *b, *c, *d;
	pid_t gone;
	int status;

	start_api(getegid());
	/* the bus reports the groups: they decide */
	a = reload_from(":1.20");
	b = reload_from(":1.21");
	wait_asked(":1.20");
	wait_asked(":1.21");
	tell(":1.20", stranger(), member, 2, 0);
	tell(":1.21", stranger(), other, 1, getpid());
	wait_answer(a);
	wait_answer(b);
	assert_string_equal(a->error, "");
	/* reported groups are believed even if /proc would say otherwise */
	assert_string_equal(b->error, NOT_AUTHORIZED);

	/* no groups reported: those of the process, from /proc (ours: egid) */
	c = reload_from(":1.22");
	wait_asked(":1.22");
	tell(":1.22", stranger(), NULL, -1, getpid());
	wait_answer(c);
	assert_string_equal(c->error, "");

	/* ... and a process that is gone has none */
	gone = fork();
	assert_true(gone >= 0);
	if (gone == 0)
		_exit(0);
	assert_int_equal(waitpid(gone, &status, 0), gone);
	d = reload_from(":1.23");
	wait_asked(":1.23");
	tell(":1.23", stranger(), NULL, -1, gone);
	wait_answer(d);
	assert_string_equal(d->error, NOT_AUTHORIZED);
	assert_int_equal(t.reloads, 2);
}

static void test_failed(void **state)
{
	struct answer *a, *b;

	start_api((gid_t)-1);
	a = reload_from(":1.9");
	wait_asked(":1.9");
	tell_error(":1.9");
	wait_answer(a);
	assert_string_equal(a->error, NOT_AUTHORIZED);
	assert_string_equal(a->message, "Cannot determine the caller's identity");

	/* a failure is not remembered: the next call asks again */
	b = reload_from(":1.9");
	wait_asked(":1.9");
	tell(":1.9", 0, NULL, -1, 0);
	wait_answer(b);
	assert_string_equal(b->error, "");
	assert_int_equal(times_asked(":1.9"), 2);
	assert_int_equal(t.reloads, 1);
}

static void test_timeout(void **state)
{
	struct answer *a;

	start_api((gid_t)-1);
	a = reload_from(":1.10");
	wait_asked(":1.10");
	/* the bus never answers: refused when the question times out (5 s) */
	wait_answer(a);
	assert_string_equal(a->error, NOT_AUTHORIZED);
	assert_string_equal(a->message, "Cannot determine the caller's identity");
	assert_int_equal(t.reloads, 0);
}

static void test_concurrent(void **state)
{
	struct answer *a[20];
	char sender[16], target[16];

	start_api((gid_t)-1);
	for (int i = 0; i < 20; i++) {
		snprintf(sender, sizeof(sender), ":1.%d", 100 + i);
		snprintf(target, sizeof(target), "t%d", i);
		a[i] = alert_from(sender, target);
	}
	for (int i = 0; i < 20; i++) {
		snprintf(sender, sizeof(sender), ":1.%d", 100 + i);
		wait_asked(sender);
	}
	settle();
	assert_int_equal(t.n_alerts, 0);
	/* answered last first: each call runs with its own arguments */
	for (int i = 19; i >= 0; i--) {
		snprintf(sender, sizeof(sender), ":1.%d", 100 + i);
		tell(sender, 0, NULL, -1, 0);
	}
	for (int i = 0; i < 20; i++) {
		wait_answer(a[i]);
		assert_string_equal(a[i]->error, "");
	}
	assert_int_equal(t.n_alerts, 20);
	for (int i = 0; i < 20; i++) {
		snprintf(target, sizeof(target), "t%d", 19 - i);
		assert_string_equal(t.alerts[i], target);
	}
}

static void test_one_sender_in_order(void **state)
{
	struct answer *a[3];

	start_api((gid_t)-1);
	a[0] = alert_from(":1.30", "first");
	a[1] = alert_from(":1.30", "second");
	a[2] = alert_from(":1.30", "third");
	wait_asked(":1.30");
	settle();
	/* one question for the three calls, which run in the order they came */
	assert_int_equal(times_asked(":1.30"), 1);
	tell(":1.30", 0, NULL, -1, 0);
	for (int i = 0; i < 3; i++) {
		wait_answer(a[i]);
		assert_string_equal(a[i]->error, "");
	}
	assert_int_equal(t.n_alerts, 3);
	assert_string_equal(t.alerts[0], "first");
	assert_string_equal(t.alerts[1], "second");
	assert_string_equal(t.alerts[2], "third");
}

static void test_responsive(void **state)
{
	struct answer *known, *held, *b;

	start_api((gid_t)-1);
	known = reload_from(":1.40");
	wait_asked(":1.40");
	tell(":1.40", 0, NULL, -1, 0);
	wait_answer(known);

	/* one caller on hold does not hold up another */
	held = reload_from(":1.41");
	wait_asked(":1.41");
	b = reload_from(":1.40");
	wait_answer(b);
	assert_string_equal(b->error, "");
	b = call(":1.42", FG_DBUS_MANAGER_IFACE, FG_DBUS_GW_GET_BUTTON, "nothing", NULL);
	wait_answer(b);
	assert_string_equal(b->error, FG_DBUS_ERROR_UNKNOWN_BUTTON);
	assert_false(held->done);
	tell(":1.41", 0, NULL, -1, 0);
	wait_answer(held);
	assert_string_equal(held->error, "");
	assert_int_equal(t.reloads, 3);
}

static void test_limit(void **state)
{
	struct answer *a[33], *late;
	char sender[16];

	start_api((gid_t)-1);
	for (int i = 0; i < 33; i++) {
		snprintf(sender, sizeof(sender), ":1.%d", 200 + i);
		a[i] = reload_from(sender);
	}
	/* 32 held at most: the one over is refused at once, and asks nothing */
	wait_answer(a[32]);
	assert_string_equal(a[32]->error, FG_DBUS_ERROR_BUSY);
	for (int i = 0; i < 32; i++) {
		snprintf(sender, sizeof(sender), ":1.%d", 200 + i);
		wait_asked(sender);
		assert_false(a[i]->done);
	}
	assert_int_equal(times_asked(":1.232"), 0);
	for (int i = 0; i < 32; i++) {
		snprintf(sender, sizeof(sender), ":1.%d", 200 + i);
		tell(sender, 0, NULL, -1, 0);
	}
	for (int i = 0; i < 32; i++) {
		wait_answer(a[i]);
		assert_string_equal(a[i]->error, "");
	}
	/* room again */
	late = reload_from(":1.232");
	wait_asked(":1.232");
	tell(":1.232", 0, NULL, -1, 0);
	wait_answer(late);
	assert_string_equal(late->error, "");
	assert_int_equal(t.reloads, 33);
}

static void test_cache_bounded(void **state)
{
	struct answer *a;
	char sender[16];

	start_api((gid_t)-1);
	/* 65 callers through a cache of 64: the first is forgotten */
	for (int i = 0; i < 65; i++) {
		snprintf(sender, sizeof(sender), ":1.%d", 300 + i);
		a = reload_from(sender);
		wait_asked(sender);
		tell(sender, 0, NULL, -1, 0);
		wait_answer(a);
	}
	a = reload_from(":1.364");
	wait_answer(a);
	assert_int_equal(times_asked(":1.364"), 1);
	a = reload_from(":1.300");
	wait_asked(":1.300");
	tell(":1.300", 0, NULL, -1, 0);
	wait_answer(a);
	assert_int_equal(times_asked(":1.300"), 2);
	assert_int_equal(t.reloads, 67);
}

static void test_free_while_held(void **state)
{
	struct answer *a;

	start_api((gid_t)-1);
	a = reload_from(":1.50");
	reload_from(":1.50");
	reload_from(":1.51");
	wait_asked(":1.50");
	wait_asked(":1.51");
	/* the held calls and their questions go with the API (leaks: valgrind, ASan) */
	t.api = fg_api_free(t.api);
	tell(":1.50", 0, NULL, -1, 0);
	settle();
	assert_false(a->done);
	assert_int_equal(t.reloads, 0);
}

static void test_button_method(void **state)
{
	struct answer *a;

	start_api((gid_t)-1);
	/* a method of the buttons' fallback vtable runs again as well */
	a = call_at(FG_DBUS_BUTTON_PREFIX "/b1", ":1.60", FG_DBUS_BUTTON_IFACE, FG_DBUS_BT_RENAME,
		    "desk", NULL);
	wait_asked(":1.60");
	settle();
	assert_string_equal(t.renamed, "");
	tell(":1.60", 0, NULL, -1, 0);
	wait_answer(a);
	assert_string_equal(a->error, "");
	assert_string_equal(t.renamed, "b1=desk");
}

static void test_direct(void **state)
{
	struct answer *a;

	start_api((gid_t)-1);
	/* no sender: a direct connection, whose peer (us) the socket names */
	a = reload_from(NULL);
	wait_answer(a);
	assert_string_equal(a->error, "");
	assert_int_equal(t.n_asked, 0);
	assert_int_equal(t.reloads, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST_SETUP("/api/creds/cached", test_cached, setup, teardown),
		FG_TEST_SETUP("/api/creds/refused", test_refused, setup, teardown),
		FG_TEST_SETUP("/api/creds/groups", test_groups, setup, teardown),
		FG_TEST_SETUP("/api/creds/failed", test_failed, setup, teardown),
		FG_TEST_SETUP("/api/creds/timeout", test_timeout, setup, teardown),
		FG_TEST_SETUP("/api/creds/concurrent", test_concurrent, setup, teardown),
		FG_TEST_SETUP("/api/creds/one-sender-in-order", test_one_sender_in_order, setup,
			      teardown),
		FG_TEST_SETUP("/api/creds/responsive", test_responsive, setup, teardown),
		FG_TEST_SETUP("/api/creds/limit", test_limit, setup, teardown),
		FG_TEST_SETUP("/api/creds/cache-bounded", test_cache_bounded, setup, teardown),
		FG_TEST_SETUP("/api/creds/free-while-held", test_free_while_held, setup, teardown),
		FG_TEST_SETUP("/api/creds/button-method", test_button_method, setup, teardown),
		FG_TEST_SETUP("/api/creds/direct", test_direct, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
