/* SPDX-License-Identifier: MIT */
/* Who may call the control API's changing methods: the caller's
 * credentials asked of dbus-daemon without blocking, the calls held
 * meanwhile, and the verdict (docs/dbus-api.md, "Who may call"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "control/api-private.h"
#include "control/flicgate-dbus.h"
#include "lib/bus-props.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* calls waiting for their caller's credentials, over all callers */
#define DEFERRED_MAX 32
/* dbus-daemon answers from memory: a slow answer is a sick bus */
#define CREDS_TIMEOUT_USEC (5 * FG_USEC_PER_SEC)

/* A method call put on hold until its sender's credentials are in. */
struct deferred_call {
	sd_bus_message *m;
	sd_bus_message_handler_t handler;
	void *userdata;
	struct deferred_call *next;
};

/* One GetConnectionCredentials in flight; every call of @sender waits on it. */
struct creds_query {
	struct fg_api *api;
	char *sender;
	sd_bus_slot *slot;
	struct deferred_call *calls, **calls_tail;	/* in arrival order */
	struct creds_query *next;
};

/*
 * The bus policy is the first gate on the system bus; this is the second,
 * so that a permissive or mistaken bus configuration opens nothing. The
 * uid is the effective uid dbus-daemon recorded when the caller connected
 * (SO_PEERCRED; it is what the bus policy judged too). The groups are the
 * ones dbus-daemon reports (UnixGroupIDs: the primary and supplementary
 * groups at connection time); a bus that does not report them leaves
 * them to /proc/<pid>/status of the caller, only ever used to grant
 * access to a non-root user that the bus policy already let through.
 *
 * Nothing blocks in the daemon, so asking dbus-daemon who a caller is
 * (GetConnectionCredentials) is asynchronous: the method handler hands
 * its message over and returns without a reply; the answer re-runs the
 * handler from the start with the verdict known. A unique name's
 * credentials never change and dbus-daemon never reuses a unique name, so
 * the verdict is kept per sender, in a small cache (least recently used
 * out), and a connection's later calls are judged at once.
 */

static bool gid_listed(gid_t gid, const gid_t *gids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (gids[i] == gid)
			return true;
	return false;
}

/*
 * Whether @uid, in the groups given (or else those of @pid, when > 0),
 * may change things.
 */
static bool operator_allowed(struct fg_api *a, uid_t uid, const gid_t *gids, int n_gids, pid_t pid)
{
	sd_bus_creds *creds = NULL;
	const gid_t *sup = NULL;
	gid_t gid;
	bool ok = false;
	int n;

	if (uid == 0 || uid == a->own_uid)
		return true;
	if (a->operator_gid == (gid_t)-1)
		return false;
	if (n_gids >= 0)
		return gid_listed(a->operator_gid, gids, (size_t)n_gids);
	if (pid <= 0 || sd_bus_creds_new_from_pid(&creds, pid, SD_BUS_CREDS_EGID |
						  SD_BUS_CREDS_SUPPLEMENTARY_GIDS) < 0)
		return false;
	if (sd_bus_creds_get_egid(creds, &gid) >= 0 && gid == a->operator_gid)
		ok = true;
	n = sd_bus_creds_get_supplementary_gids(creds, &sup);
	if (!ok && n > 0)
		ok = gid_listed(a->operator_gid, sup, (size_t)n);
	sd_bus_creds_unref(creds);
	return ok;
}

/*
 * A call without a sender came over a direct connection, not through a
 * bus: the peer is the socket's, known since the connection was made, and
 * sd-bus answers from it without a round trip.
 */
static void verdict_from_peer(struct fg_api *a, sd_bus_message *m, struct fg_verdict *ret)
{
	sd_bus_creds *creds = NULL;
	const gid_t *gids = NULL;
	gid_t gid;
	int r, n;

	*ret = (struct fg_verdict){ .uid = (uid_t)-1 };
	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
				      SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT, &creds);
	if (r >= 0)
		r = sd_bus_creds_get_euid(creds, &ret->uid);
	if (r < 0) {
		ret->error = r;
		sd_bus_creds_unref(creds);
		return;
	}
	ret->allowed = operator_allowed(a, ret->uid, NULL, 0, 0);
	if (!ret->allowed && a->operator_gid != (gid_t)-1) {
		if (sd_bus_creds_get_egid(creds, &gid) >= 0 && gid == a->operator_gid)
			ret->allowed = true;
		n = sd_bus_creds_get_supplementary_gids(creds, &gids);
		if (n > 0 && gid_listed(a->operator_gid, gids, (size_t)n))
			ret->allowed = true;
	}
	sd_bus_creds_unref(creds);
}

/* What dbus-daemon's answer to GetConnectionCredentials says of a caller. */
struct caller_creds {
	uint32_t uid, pid;
	bool has_uid;
	const gid_t *gids;	/* points into the answer */
	int n_gids;		/* -1: not reported */
};

static int read_uid(sd_bus_message *m, void *base, void *userdata)
{
	struct caller_creds *c = base;
	int r = sd_bus_message_read_basic(m, 'u', &c->uid);

	if (r < 0)
		return r;
	c->has_uid = true;
	return 1;
}

static int read_gids(sd_bus_message *m, void *base, void *userdata)
{
	struct caller_creds *c = base;
	const void *p;
	size_t size = 0;
	int r;

	/* groups we cannot take as they are: left to /proc, as if not reported */
	if (sizeof(gid_t) != sizeof(uint32_t))
		return sd_bus_message_skip(m, "au");
	r = sd_bus_message_read_array(m, 'u', &p, &size);
	if (r < 0)
		return r;
	c->gids = p;
	c->n_gids = (int)(size / sizeof(uint32_t));
	return 1;
}

static const struct fg_bus_prop caller_creds_props[] = {
	FG_BUS_PROP_FN("UnixUserID", "u", read_uid, 0),
	FG_BUS_PROP("ProcessID", "u", struct caller_creds, pid, 0),
	FG_BUS_PROP_FN("UnixGroupIDs", "au", read_gids, 0),
	{ 0 }
};

/* The verdict in dbus-daemon's answer to GetConnectionCredentials. */
static void verdict_from_reply(struct fg_api *a, sd_bus_message *reply, struct fg_verdict *ret)
{
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	struct caller_creds c = { .n_gids = -1 };
	int r;

	*ret = (struct fg_verdict){ .uid = (uid_t)-1 };
	if (e) {
		ret->error = -sd_bus_error_get_errno(e);
		return;
	}
	/* a value of another type than the specification's is a broken answer */
	r = fg_bus_props_read(reply, caller_creds_props, FG_BUS_PROPS_STRICT, NULL, &c, NULL, NULL);
	if (r >= 0 && !c.has_uid)
		r = -ENODATA;
	if (r < 0) {
		ret->error = r;
		return;
	}
	ret->uid = c.uid;
	ret->allowed = operator_allowed(a, c.uid, c.gids, c.n_gids, (pid_t)c.pid);
}

static int defer_call(struct fg_api *a, sd_bus_message *m, const char *sender,
		      sd_bus_error *ret_error);

/*
 * 0: the caller may go on; < 0: refused, @ret_error set; 1: the call is on
 * hold until the caller's credentials are in (the handler must return 1
 * at once, without a reply: it runs again from the start then).
 */
int api_check_operator(struct fg_api *a, sd_bus_message *m, sd_bus_error *ret_error)
{
	const char *sender = sd_bus_message_get_sender(m);
	const struct fg_verdict *v;
	struct fg_verdict peer;

	if (a->resuming == m)
		v = &a->resume_verdict;
	else if (!sender) {
		verdict_from_peer(a, m, &peer);
		v = &peer;
	} else {
		v = fg_verdict_cache_lookup(&a->verdicts, sender);
		if (!v)
			return defer_call(a, m, sender, ret_error);
	}
	if (v->error < 0) {
		log_warning_errno(v->error, "Cannot tell who %s is, refusing: %m", strna(sender));
		return api_set_error(ret_error, FG_API_ERR_NOT_AUTHORIZED,
				     "Cannot determine the caller's identity");
	}
	if (v->allowed)
		return 0;
	log_notice("Refused %s.%s from uid %d: not root, not our user, not in group %s",
		   strna(sd_bus_message_get_interface(m)), strna(sd_bus_message_get_member(m)),
		   (int)v->uid, FG_DBUS_OPERATOR_GROUP);
	return api_set_error(ret_error, FG_API_ERR_NOT_AUTHORIZED,
			     "Only root and members of group '%s' may call %s",
			     FG_DBUS_OPERATOR_GROUP, strna(sd_bus_message_get_member(m)));
}

/* Run a held call's handler again, and answer for it as sd-bus would have. */
static void resume_call(struct fg_api *a, struct deferred_call *c, const struct fg_verdict *v)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	a->resuming = c->m;
	a->resume_verdict = *v;
	r = sd_bus_message_rewind(c->m, true);
	if (r >= 0)
		r = c->handler(c->m, c->userdata, &error);
	a->resuming = NULL;
	if (sd_bus_error_is_set(&error))
		r = sd_bus_reply_method_error(c->m, &error);
	else if (r < 0)
		r = sd_bus_reply_method_errno(c->m, r, NULL);
	if (r < 0)
		log_debug_errno(r, "Cannot answer %s.%s: %m",
				strna(sd_bus_message_get_interface(c->m)),
				strna(sd_bus_message_get_member(c->m)));
	sd_bus_error_free(&error);
}

static struct deferred_call *deferred_call_free(struct deferred_call *c)
{
	struct deferred_call *next = c->next;

	sd_bus_message_unref(c->m);
	free(c);
	return next;
}

/* Unlinks @q from @a's queries and frees it with the calls still on it. */
static void creds_query_free(struct fg_api *a, struct creds_query *q)
{
	struct creds_query **pp;
	struct deferred_call *c;

	for (pp = &a->queries; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	for (c = q->calls; c; c = deferred_call_free(c))
		a->n_deferred--;
	sd_bus_slot_unref(q->slot);
	free(q->sender);
	free(q);
}

static int on_credentials(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct creds_query *q = userdata;
	struct fg_api *a = q->api;
	struct deferred_call *c;
	struct fg_verdict v;

	verdict_from_reply(a, reply, &v);
	/*
	 * A failure is not kept (a sick bus may recover): the next call asks
	 * again; nor is a verdict without memory: nothing is lost but time.
	 */
	if (v.error == 0)
		(void)fg_verdict_cache_store(&a->verdicts, q->sender, &v);
	/* off the list before any handler runs: nothing joins this query now */
	c = q->calls;
	q->calls = NULL;
	creds_query_free(a, q);
	while (c) {
		resume_call(a, c, &v);
		a->n_deferred--;
		c = deferred_call_free(c);
	}
	return 0;
}

/* Put @m on hold and ask dbus-daemon who @sender is, unless that is under way. */
static int defer_call(struct fg_api *a, sd_bus_message *m, const char *sender,
		      sd_bus_error *ret_error)
{
	sd_bus_message *call = NULL;
	struct deferred_call *c;
	struct creds_query *q;
	int r;

	/* only a handler sd-bus is running can be run again */
	if (sd_bus_get_current_message(a->bus) != m || !sd_bus_get_current_handler(a->bus)) {
		log_warning("Cannot tell who %s is outside of its call, refusing", sender);
		return api_set_error(ret_error, FG_API_ERR_NOT_AUTHORIZED,
				     "Cannot determine the caller's identity");
	}
	if (a->n_deferred >= DEFERRED_MAX) {
		/* once per flood, not once per call */
		if (!a->deferred_full)
			log_warning("%d calls are waiting for their callers' credentials: "
				    "refusing more", DEFERRED_MAX);
		a->deferred_full = true;
		return api_set_error(ret_error, FG_API_ERR_BUSY, "Too many calls are waiting for "
				     "their callers' identity; try again");
	}
	a->deferred_full = false;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (q = a->queries; q; q = q->next)
		if (streq(q->sender, sender))
			break;
	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q || !(q->sender = strdup(sender))) {
			free(q);
			free(c);
			return -ENOMEM;
		}
		q->api = a;
		q->calls_tail = &q->calls;
		r = sd_bus_message_new_method_call(a->bus, &call, "org.freedesktop.DBus",
						   "/org/freedesktop/DBus", "org.freedesktop.DBus",
						   "GetConnectionCredentials");
		if (r >= 0)
			r = sd_bus_message_append(call, "s", sender);
		if (r >= 0)
			r = sd_bus_call_async(a->bus, &q->slot, call, on_credentials, q,
					      CREDS_TIMEOUT_USEC);
		sd_bus_message_unref(call);
		if (r < 0) {
			free(q->sender);
			free(q);
			free(c);
			log_warning_errno(r, "Cannot tell who %s is, refusing: %m", sender);
			return api_set_error(ret_error, FG_API_ERR_NOT_AUTHORIZED,
					     "Cannot determine the caller's identity");
		}
		q->next = a->queries;
		a->queries = q;
	}
	c->m = sd_bus_message_ref(m);
	c->handler = sd_bus_get_current_handler(a->bus);
	c->userdata = sd_bus_get_current_userdata(a->bus);
	*q->calls_tail = c;
	q->calls_tail = &c->next;
	a->n_deferred++;
	return 1;
}


void api_creds_free(struct fg_api *a)
{
	while (a->queries)
		creds_query_free(a, a->queries);
	fg_verdict_cache_clear(&a->verdicts);
}
