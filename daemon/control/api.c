/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "control/api.h"
#include "config/config.h"
#include "control/flicgate-dbus.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool streq_ptr(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
static inline const char *strempty(const char *s) { return s ? s : ""; }
static inline const char *strna(const char *s) { return s ? s : "n/a"; }

/* verdicts remembered; a caller with many connections costs no more */
#define VERDICT_CACHE_MAX 64
/* calls waiting for their caller's credentials, over all callers */
#define DEFERRED_MAX 32
/* dbus-daemon answers from memory: a slow answer is a sick bus */
#define CREDS_TIMEOUT_USEC (5 * FG_USEC_PER_SEC)

struct verdict {
	int error;		/* < 0: the caller's credentials could not be had */
	uid_t uid;
	bool allowed;
};

struct verdict_entry {
	char *sender;		/* unique name; NULL: unused */
	struct verdict v;
	uint64_t used;		/* a->verdict_clock when last looked up */
};

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

struct creds_query;

struct fg_api {
	sd_bus *bus;
	struct fg_api_provider p;
	uid_t own_uid;			/* the daemon's user may always call */
	gid_t operator_gid;		/* (gid_t)-1: no operator group */

	/* object tree */
	sd_bus_slot *manager_slot;	/* ObjectManager on the root */
	sd_bus_slot *gateway_slot;
	sd_bus_slot *button_slot;	/* fallback vtable under the button prefix */
	sd_bus_slot *enumerator_slot;

	/* button ids last announced, to diff on fg_api_buttons_changed() */
	char **known_ids;

	/* who may change things (check_operator()) */
	struct verdict_entry verdicts[VERDICT_CACHE_MAX];
	uint64_t verdict_clock;
	struct creds_query *queries;	/* GetConnectionCredentials in flight */
	unsigned n_deferred;		/* calls held by them */
	bool deferred_full;		/* DEFERRED_MAX reached (logged) */
	sd_bus_message *resuming;	/* the held call running again, with: */
	struct verdict resume_verdict;
};

/* ---- errors: the one table ------------------------------------------- */

static const struct {
	const char *name;
	int errnum;
} error_table[_FG_API_ERR_MAX] = {
	[FG_API_OK]			= { NULL, 0 },
	[FG_API_ERR_FAILED]		= { FG_DBUS_ERROR_FAILED, EIO },
	[FG_API_ERR_NOT_AVAILABLE]	= { FG_DBUS_ERROR_NOT_AVAILABLE, EOPNOTSUPP },
	[FG_API_ERR_NOT_AUTHORIZED]	= { FG_DBUS_ERROR_NOT_AUTHORIZED, EACCES },
	[FG_API_ERR_INVALID_ARGUMENT]	= { FG_DBUS_ERROR_INVALID_ARGUMENT, EINVAL },
	[FG_API_ERR_UNKNOWN_BUTTON]	= { FG_DBUS_ERROR_UNKNOWN_BUTTON, ENOENT },
	[FG_API_ERR_UNKNOWN_TARGET]	= { FG_DBUS_ERROR_UNKNOWN_TARGET, ENOENT },
	[FG_API_ERR_BUSY]		= { FG_DBUS_ERROR_BUSY, EBUSY },
	[FG_API_ERR_PAIRING_LOCKED]	= { FG_DBUS_ERROR_PAIRING_LOCKED, EPERM },
	[FG_API_ERR_NOT_PAIRED]		= { FG_DBUS_ERROR_NOT_PAIRED, ENOLINK },
	[FG_API_ERR_CONFIGURED]		= { FG_DBUS_ERROR_CONFIGURED, EPERM },
	[FG_API_ERR_NAME_TAKEN]		= { FG_DBUS_ERROR_NAME_TAKEN, EEXIST },
	[FG_API_ERR_CONFIG_REJECTED]	= { FG_DBUS_ERROR_CONFIG_REJECTED, EINVAL },
	[FG_API_ERR_BAD_PAIRING_FILE]	= { FG_DBUS_ERROR_BAD_PAIRING_FILE, EBADMSG },
};

const char *fg_api_error_name(enum fg_api_errcode code)
{
	if ((unsigned)code >= _FG_API_ERR_MAX)
		return NULL;
	return error_table[code].name;
}

int fg_api_error_set(struct fg_api_error *e, enum fg_api_errcode code, const char *fmt, ...)
{
	va_list ap;

	if ((unsigned)code >= _FG_API_ERR_MAX || code == FG_API_OK)
		code = FG_API_ERR_FAILED;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -error_table[code].errnum;
}

static int set_error(sd_bus_error *ret_error, enum fg_api_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set_error(sd_bus_error *ret_error, enum fg_api_errcode code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_bus_error_set(ret_error, error_table[code].name, msg);
	return -error_table[code].errnum;
}

/* Turn what a provider callback returned into the D-Bus error reply. */
static int reply_failure(sd_bus_error *ret_error, int r, const struct fg_api_error *e,
			 const char *what)
{
	if (e->code != FG_API_OK)
		return set_error(ret_error, e->code, "%s", e->message);
	if (r == -EOPNOTSUPP)
		return set_error(ret_error, FG_API_ERR_NOT_AVAILABLE,
				 "%s is not available in this build", what);
	return set_error(ret_error, FG_API_ERR_FAILED, "%s failed: %s", what, strerror(-r));
}

const char *fg_api_pairing_stage_to_string(enum fg_api_pairing_stage s)
{
	static const char *const names[_FG_API_PAIRING_STAGE_MAX] = {
		[FG_API_PAIRING_SCANNING] = FG_DBUS_PAIRING_SCANNING,
		[FG_API_PAIRING_FOUND] = FG_DBUS_PAIRING_FOUND,
		[FG_API_PAIRING_VERIFYING] = FG_DBUS_PAIRING_VERIFYING,
		[FG_API_PAIRING_PAIRED] = FG_DBUS_PAIRING_PAIRED,
		[FG_API_PAIRING_SAVED] = FG_DBUS_PAIRING_SAVED,
		[FG_API_PAIRING_FAILED] = FG_DBUS_PAIRING_FAILED,
		[FG_API_PAIRING_TIMEOUT] = FG_DBUS_PAIRING_TIMEOUT,
		[FG_API_PAIRING_CLOSED] = FG_DBUS_PAIRING_CLOSED,
	};

	return (unsigned)s < _FG_API_PAIRING_STAGE_MAX ? names[s] : NULL;
}

/* ---- who may change things -------------------------------------------- */

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

static const struct verdict *verdict_lookup(struct fg_api *a, const char *sender)
{
	for (size_t i = 0; i < VERDICT_CACHE_MAX; i++) {
		struct verdict_entry *e = &a->verdicts[i];

		if (e->sender && streq(e->sender, sender)) {
			e->used = ++a->verdict_clock;
			return &e->v;
		}
	}
	return NULL;
}

static void verdict_store(struct fg_api *a, const char *sender, const struct verdict *v)
{
	struct verdict_entry *oldest = &a->verdicts[0];
	char *copy = strdup(sender);

	/* without memory the next call asks again: nothing is lost but time */
	if (!copy)
		return;
	for (size_t i = 0; i < VERDICT_CACHE_MAX; i++) {
		struct verdict_entry *e = &a->verdicts[i];

		if (!e->sender) {
			oldest = e;
			break;
		}
		if (e->used < oldest->used)
			oldest = e;
	}
	free(oldest->sender);
	*oldest = (struct verdict_entry){ .sender = copy, .v = *v, .used = ++a->verdict_clock };
}

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
static void verdict_from_peer(struct fg_api *a, sd_bus_message *m, struct verdict *ret)
{
	sd_bus_creds *creds = NULL;
	const gid_t *gids = NULL;
	gid_t gid;
	int r, n;

	*ret = (struct verdict){ .uid = (uid_t)-1 };
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

/* The verdict in dbus-daemon's answer to GetConnectionCredentials. */
static void verdict_from_reply(struct fg_api *a, sd_bus_message *reply, struct verdict *ret)
{
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	const gid_t *gids = NULL;
	bool has_uid = false;
	uint32_t uid = 0, pid = 0;
	size_t size = 0;
	int n_gids = -1;
	int r;

	*ret = (struct verdict){ .uid = (uid_t)-1 };
	if (e) {
		ret->error = -sd_bus_error_get_errno(e);
		return;
	}
	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const char *key;

		r = sd_bus_message_read(reply, "s", &key);
		if (r < 0)
			break;
		if (streq(key, "UnixUserID")) {
			r = sd_bus_message_read(reply, "v", "u", &uid);
			has_uid = r >= 0;
		} else if (streq(key, "ProcessID"))
			r = sd_bus_message_read(reply, "v", "u", &pid);
		else if (streq(key, "UnixGroupIDs") && sizeof(gid_t) == sizeof(uint32_t)) {
			const void *p;

			r = sd_bus_message_enter_container(reply, 'v', "au");
			if (r >= 0)
				r = sd_bus_message_read_array(reply, 'u', &p, &size);
			if (r >= 0) {
				gids = p;
				n_gids = (int)(size / sizeof(uint32_t));
				r = sd_bus_message_exit_container(reply);
			}
		} else
			r = sd_bus_message_skip(reply, "v");
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	if (r >= 0 && !has_uid)
		r = -ENODATA;
	if (r < 0) {
		ret->error = r;
		return;
	}
	ret->uid = uid;
	ret->allowed = operator_allowed(a, uid, gids, n_gids, (pid_t)pid);
}

static int defer_call(struct fg_api *a, sd_bus_message *m, const char *sender,
		      sd_bus_error *ret_error);

/*
 * 0: the caller may go on; < 0: refused, @ret_error set; 1: the call is on
 * hold until the caller's credentials are in (the handler must return 1
 * at once, without a reply: it runs again from the start then).
 */
static int check_operator(struct fg_api *a, sd_bus_message *m, sd_bus_error *ret_error)
{
	const char *sender = sd_bus_message_get_sender(m);
	const struct verdict *v;
	struct verdict peer;

	if (a->resuming == m)
		v = &a->resume_verdict;
	else if (!sender) {
		verdict_from_peer(a, m, &peer);
		v = &peer;
	} else {
		v = verdict_lookup(a, sender);
		if (!v)
			return defer_call(a, m, sender, ret_error);
	}
	if (v->error < 0) {
		log_warning_errno(v->error, "Cannot tell who %s is, refusing: %m", strna(sender));
		return set_error(ret_error, FG_API_ERR_NOT_AUTHORIZED,
				 "Cannot determine the caller's identity");
	}
	if (v->allowed)
		return 0;
	log_notice("Refused %s.%s from uid %d: not root, not our user, not in group %s",
		   strna(sd_bus_message_get_interface(m)), strna(sd_bus_message_get_member(m)),
		   (int)v->uid, FG_DBUS_OPERATOR_GROUP);
	return set_error(ret_error, FG_API_ERR_NOT_AUTHORIZED,
			 "Only root and members of group '%s' may call %s",
			 FG_DBUS_OPERATOR_GROUP, strna(sd_bus_message_get_member(m)));
}

/* Run a held call's handler again, and answer for it as sd-bus would have. */
static void resume_call(struct fg_api *a, struct deferred_call *c, const struct verdict *v)
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
	struct verdict v;

	verdict_from_reply(a, reply, &v);
	/* a failure is not kept (a sick bus may recover): the next call asks again */
	if (v.error == 0)
		verdict_store(a, q->sender, &v);
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
		return set_error(ret_error, FG_API_ERR_NOT_AUTHORIZED,
				 "Cannot determine the caller's identity");
	}
	if (a->n_deferred >= DEFERRED_MAX) {
		/* once per flood, not once per call */
		if (!a->deferred_full)
			log_warning("%d calls are waiting for their callers' credentials: "
				    "refusing more", DEFERRED_MAX);
		a->deferred_full = true;
		return set_error(ret_error, FG_API_ERR_BUSY, "Too many calls are waiting for "
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
			return set_error(ret_error, FG_API_ERR_NOT_AUTHORIZED,
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

/* ---- buttons ------------------------------------------------------------ */

static char *button_path(const char *id)
{
	char *path = NULL;

	if (sd_bus_path_encode(FG_DBUS_BUTTON_PREFIX, id, &path) < 0)
		return NULL;
	return path;
}

/* Find the button behind @path; *ret_id is malloc'd for the caller. */
static int lookup_button(struct fg_api *a, const char *path, char **ret_id,
			 struct fg_api_button *ret)
{
	char *id = NULL;
	int r;

	r = sd_bus_path_decode(path, FG_DBUS_BUTTON_PREFIX, &id);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	r = a->p.button_by_id(a->p.userdata, id, ret);
	if (r < 0) {
		free(id);
		return r;
	}
	*ret_id = id;
	return 0;
}

static int current_ids(struct fg_api *a, char ***ret)
{
	size_t n = a->p.n_buttons(a->p.userdata);
	struct fg_api_button b;
	char **ids = NULL;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (a->p.button_at(a->p.userdata, i, &b) < 0 || !b.id)
			continue;
		r = fg_strv_push(&ids, b.id);
		if (r < 0) {
			fg_strv_free(ids);
			return r;
		}
	}
	if (!ids) {
		ids = calloc(1, sizeof(char *));
		if (!ids)
			return -ENOMEM;
	}
	*ret = ids;
	return 0;
}

/*
 * What "flicgatectl unpair reception" may name: the id, the name, the
 * address (any case, ':' or '-') or the serial (any case), in that order.
 */
static int find_button(struct fg_api *a, const char *query, struct fg_api_button *ret)
{
	size_t n = a->p.n_buttons(a->p.userdata);
	struct fg_api_button b;
	uint8_t addr[6];
	bool is_addr = fg_parse_address(query, addr) == 0;

	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < n; i++) {
			if (a->p.button_at(a->p.userdata, i, &b) < 0)
				continue;
			if ((pass == 0 && (streq_ptr(b.id, query) || streq_ptr(b.name, query))) ||
			    (pass == 1 && is_addr && b.has_address && memcmp(b.address, addr, 6) == 0) ||
			    (pass == 2 && b.serial && b.serial[0] && strcasecmp(b.serial, query) == 0)) {
				*ret = b;
				return 0;
			}
		}
	return -ENOENT;
}

static int button_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
		       void **ret_found, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_button b;
	char *id = NULL;

	if (lookup_button(a, path, &id, &b) < 0)
		return 0;
	free(id);
	*ret_found = a;
	return 1;
}

static int button_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***ret_nodes,
			    sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	char **ids = NULL, **paths = NULL, *id;
	int r;

	r = current_ids(a, &ids);
	if (r < 0)
		return r;
	FG_STRV_FOREACH(id, ids) {
		char *path = button_path(id);

		if (!path || fg_strv_push(&paths, path) < 0) {
			free(path);
			fg_strv_free(paths);
			fg_strv_free(ids);
			return -ENOMEM;
		}
		free(path);
	}
	fg_strv_free(ids);
	*ret_nodes = paths;
	return 0;
}

static void format_address(const struct fg_api_button *b, char buf[18])
{
	if (b->has_address)
		fg_format_address(b->address, buf);
	else
		buf[0] = 0;
}

static int button_property(sd_bus *bus, const char *path, const char *interface,
			   const char *property, sd_bus_message *reply, void *userdata,
			   sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_button b;
	struct fg_api_button_supervision sup;
	char *id = NULL, addr[18];
	int r;

	r = lookup_button(a, path, &id, &b);
	if (r < 0)
		return sd_bus_error_setf(ret_error, SD_BUS_ERROR_UNKNOWN_OBJECT,
					 "No button at %s", path);
	/* unsupervised: unknown everywhere */
	if (a->p.button_supervision(a->p.userdata, id, &sup) < 0)
		sup = (struct fg_api_button_supervision){ .battery_percent = -1 };
	if (streq(property, FG_DBUS_BT_ID))
		r = sd_bus_message_append(reply, "s", strempty(b.id));
	else if (streq(property, FG_DBUS_BT_NAME))
		r = sd_bus_message_append(reply, "s", strempty(b.name));
	else if (streq(property, FG_DBUS_BT_SERIAL))
		r = sd_bus_message_append(reply, "s", strempty(b.serial));
	else if (streq(property, FG_DBUS_BT_ADDRESS)) {
		format_address(&b, addr);
		r = sd_bus_message_append(reply, "s", addr);
	} else if (streq(property, FG_DBUS_BT_CONFIGURED))
		r = sd_bus_message_append(reply, "b", (int)b.configured);
	else if (streq(property, FG_DBUS_BT_PAIRED))
		r = sd_bus_message_append(reply, "b", (int)b.paired);
	else if (streq(property, FG_DBUS_BT_CONNECTED))
		r = sd_bus_message_append(reply, "b", (int)b.connected);
	else if (streq(property, FG_DBUS_BT_LAST_SEEN))
		/* the radio's own since start, else supervision's, kept across restarts */
		r = sd_bus_message_append(reply, "t", b.last_seen_usec ? b.last_seen_usec
									: sup.last_seen_usec);
	else if (streq(property, FG_DBUS_BT_RSSI))
		/* 0 dBm cannot be received from a button: it means unknown */
		r = sd_bus_message_append(reply, "n", b.has_rssi ? b.rssi : (int16_t)0);
	else if (streq(property, FG_DBUS_BT_BATTERY))
		r = sd_bus_message_append(reply, "q", b.battery_mv ? b.battery_mv : sup.battery_mv);
	else if (streq(property, FG_DBUS_BT_BATTERY_PERCENT))
		r = sd_bus_message_append(reply, "i", sup.battery_percent);
	else if (streq(property, FG_DBUS_BT_BATTERY_LOW))
		r = sd_bus_message_append(reply, "b", (int)sup.battery_low);
	else if (streq(property, FG_DBUS_BT_NOT_SEEN))
		r = sd_bus_message_append(reply, "b", (int)sup.not_seen);
	else if (streq(property, FG_DBUS_BT_LAST_TEST))
		r = sd_bus_message_append(reply, "t", sup.last_test_usec);
	else if (streq(property, FG_DBUS_BT_FIRMWARE))
		r = sd_bus_message_append(reply, "u", b.firmware);
	else if (streq(property, FG_DBUS_BT_LAST_EVENT))
		r = sd_bus_message_append(reply, "s", strempty(b.last_event));
	else if (streq(property, FG_DBUS_BT_LAST_EVENT_TIME))
		r = sd_bus_message_append(reply, "t", b.last_event_usec);
	else if (streq(property, FG_DBUS_BT_ALERT_STATE))
		r = sd_bus_message_append(reply, "s", strempty(b.alert_state));
	else
		r = -ENOENT;
	free(id);
	return r;
}

static int method_unpair(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct fg_api_button b;
	char *id = NULL;
	int r;

	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	if (lookup_button(a, sd_bus_message_get_path(m), &id, &b) < 0)
		return set_error(ret_error, FG_API_ERR_UNKNOWN_BUTTON, "No such button");
	r = a->p.unpair(a->p.userdata, id, &e);
	if (r < 0) {
		free(id);
		return reply_failure(ret_error, r, &e, "Unpairing");
	}
	log_notice("Button %s unpaired over D-Bus", id);
	free(id);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_rename(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct fg_api_button b, other;
	const char *name;
	char *id = NULL;
	int r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	if (!fg_name_is_valid(name) || strlen(name) > 63)
		return set_error(ret_error, FG_API_ERR_INVALID_ARGUMENT,
				 "'%s' is not a valid button name (1-63 of A-Z a-z 0-9 _ . -)", name);
	if (lookup_button(a, sd_bus_message_get_path(m), &id, &b) < 0)
		return set_error(ret_error, FG_API_ERR_UNKNOWN_BUTTON, "No such button");
	if (find_button(a, name, &other) == 0 && !streq_ptr(other.id, id)) {
		free(id);
		return set_error(ret_error, FG_API_ERR_NAME_TAKEN,
				 "Another button is already called or matches '%s'", name);
	}
	r = a->p.rename(a->p.userdata, id, name, &e);
	if (r < 0) {
		free(id);
		return reply_failure(ret_error, r, &e, "Renaming");
	}
	log_notice("Button %s renamed to %s over D-Bus", id, name);
	free(id);
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable button_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY(FG_DBUS_BT_ID, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_NAME, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_SERIAL, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_ADDRESS, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_CONFIGURED, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_PAIRED, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_CONNECTED, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_LAST_SEEN, "t", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_RSSI, "n", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_BATTERY, "q", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_FIRMWARE, "u", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_LAST_EVENT, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_LAST_EVENT_TIME, "t", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_ALERT_STATE, "s", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_BATTERY_PERCENT, "i", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_BATTERY_LOW, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_NOT_SEEN, "b", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY(FG_DBUS_BT_LAST_TEST, "t", button_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD(FG_DBUS_BT_UNPAIR, "", "", method_unpair, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_BT_RENAME, "s", SD_BUS_PARAM(name), "", ,
				 method_rename, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

/* ---- the gateway -------------------------------------------------------- */

static int append_features(sd_bus_message *reply, unsigned features)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ FG_API_FEATURE_BLUETOOTH, "bluetooth" },
		{ FG_API_FEATURE_DELIVERY, "delivery" },
		{ FG_API_FEATURE_FEEDBACK, "feedback" },
		{ FG_API_FEATURE_PAIRING_STORE, "pairing-store" },
	};
	int r;

	r = sd_bus_message_open_container(reply, 'a', "s");
	for (size_t i = 0; r >= 0 && i < sizeof(names) / sizeof(names[0]); i++)
		if (features & names[i].bit)
			r = sd_bus_message_append(reply, "s", names[i].name);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r;
}

static int append_targets(struct fg_api *a, sd_bus_message *reply, size_t n)
{
	struct fg_api_target t;
	int r;

	r = sd_bus_message_open_container(reply, 'a', FG_DBUS_TARGET_SIG);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (a->p.get_target(a->p.userdata, i, &t) < 0)
			continue;
		r = sd_bus_message_append(reply, FG_DBUS_TARGET_SIG, strempty(t.name),
					  strempty(t.health), t.queued, t.delivered, t.dead,
					  t.last_status, strempty(t.last_error));
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r;
}

/* Counters derived from the buttons: Buttons, ConnectedButtons, OpenAlerts. */
static int append_button_summary(struct fg_api *a, const char *property, sd_bus_message *reply)
{
	size_t n = a->p.n_buttons(a->p.userdata);
	struct fg_api_button b;
	uint32_t connected = 0;
	int r = 0;

	if (streq(property, FG_DBUS_GW_BUTTONS))
		return sd_bus_message_append(reply, "u", (uint32_t)n);
	if (streq(property, FG_DBUS_GW_OPEN_ALERTS))
		r = sd_bus_message_open_container(reply, 'a', "s");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (a->p.button_at(a->p.userdata, i, &b) < 0)
			continue;
		connected += b.connected;
		if (streq(property, FG_DBUS_GW_OPEN_ALERTS) && streq_ptr(b.alert_state, "open"))
			r = sd_bus_message_append(reply, "s", strempty(b.name));
	}
	if (r < 0)
		return r;
	if (streq(property, FG_DBUS_GW_OPEN_ALERTS))
		return sd_bus_message_close_container(reply);
	return sd_bus_message_append(reply, "u", connected);
}

/* TestWindowOpen, TestWindowEnd, TestWindowButton, Alarms. */
static int append_supervision(struct fg_api *a, const char *property, sd_bus_message *reply)
{
	struct fg_api_supervision sv = { .test_window_button = "" };
	char *name;
	int r;

	a->p.get_supervision(a->p.userdata, &sv);
	if (streq(property, FG_DBUS_GW_TEST_WINDOW_OPEN))
		r = sd_bus_message_append(reply, "b", (int)sv.test_window_open);
	else if (streq(property, FG_DBUS_GW_TEST_WINDOW_END))
		r = sd_bus_message_append(reply, "t", sv.test_window_open ? sv.test_window_end_usec : 0);
	else if (streq(property, FG_DBUS_GW_TEST_WINDOW_BUTTON))
		r = sd_bus_message_append(reply, "s", strempty(sv.test_window_button));
	else {
		r = sd_bus_message_open_container(reply, 'a', "s");
		FG_STRV_FOREACH(name, sv.alarms) {
			if (r < 0)
				break;
			r = sd_bus_message_append(reply, "s", name);
		}
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
	}
	fg_strv_free(sv.alarms);
	return r;
}

static int gateway_property(sd_bus *bus, const char *path, const char *interface,
			    const char *property, sd_bus_message *reply, void *userdata,
			    sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_gateway g = { 0 };

	if (streq(property, FG_DBUS_GW_VERSION))
		return sd_bus_message_append(reply, "s", FG_VERSION);
	if (streq(property, FG_DBUS_GW_BUTTONS) || streq(property, FG_DBUS_GW_CONNECTED) ||
	    streq(property, FG_DBUS_GW_OPEN_ALERTS))
		return append_button_summary(a, property, reply);

	if (streq(property, FG_DBUS_GW_TEST_WINDOW_OPEN) || streq(property, FG_DBUS_GW_TEST_WINDOW_END) ||
	    streq(property, FG_DBUS_GW_TEST_WINDOW_BUTTON) || streq(property, FG_DBUS_GW_ALARMS))
		return append_supervision(a, property, reply);

	a->p.get_gateway(a->p.userdata, &g);
	if (streq(property, FG_DBUS_GW_NAME))
		return sd_bus_message_append(reply, "s", strempty(g.name));
	if (streq(property, FG_DBUS_GW_CONFIG_PATH))
		return sd_bus_message_append(reply, "s", strempty(g.config_path));
	if (streq(property, FG_DBUS_GW_START_TIME))
		return sd_bus_message_append(reply, "t", g.start_time_usec);
	if (streq(property, FG_DBUS_GW_FEATURES))
		return append_features(reply, g.features);
	if (streq(property, FG_DBUS_GW_ADAPTER))
		return sd_bus_message_append(reply, "s", strempty(g.adapter));
	if (streq(property, FG_DBUS_GW_ADAPTER_STATE))
		return sd_bus_message_append(reply, "s", strempty(g.adapter_state));
	if (streq(property, FG_DBUS_GW_PAIRING_POLICY))
		return sd_bus_message_append(reply, "s", strempty(g.pairing_policy));
	if (streq(property, FG_DBUS_GW_PAIRING_OPEN))
		return sd_bus_message_append(reply, "b", (int)g.pairing_open);
	if (streq(property, FG_DBUS_GW_PAIRING_END))
		return sd_bus_message_append(reply, "t", g.pairing_open ? g.pairing_end_usec : 0);
	if (streq(property, FG_DBUS_GW_SPOOL_DEPTH))
		return sd_bus_message_append(reply, "t", g.spool_depth);
	if (streq(property, FG_DBUS_GW_SPOOL_ALARM))
		return sd_bus_message_append(reply, "b", (int)g.spool_alarm);
	if (streq(property, FG_DBUS_GW_DEAD_LETTERS))
		return sd_bus_message_append(reply, "t", g.dead_letters);
	if (streq(property, FG_DBUS_GW_TARGETS))
		return append_targets(a, reply, g.n_targets);
	return -ENOENT;
}

static int method_get_button(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_button b;
	const char *query;
	char *path;
	int r;

	r = sd_bus_message_read(m, "s", &query);
	if (r < 0)
		return r;
	if (find_button(a, query, &b) < 0 || !b.id)
		return set_error(ret_error, FG_API_ERR_UNKNOWN_BUTTON,
				 "No button called '%s' (name, address or serial)", query);
	path = button_path(b.id);
	if (!path)
		return -ENOMEM;
	r = sd_bus_reply_method_return(m, "o", path);
	free(path);
	return r;
}

static int method_open_pairing(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct fg_api_button other;
	const char *name;
	uint32_t seconds;
	int r;

	r = sd_bus_message_read(m, "us", &seconds, &name);
	if (r < 0)
		return r;
	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	/* the same bounds as [bluetooth] pairing_window */
	if (seconds != 0 && (seconds < 5 || seconds > 3600))
		return set_error(ret_error, FG_API_ERR_INVALID_ARGUMENT,
				 "A pairing window lasts 5 to 3600 seconds (0: the configured length)");
	if (name[0] && (!fg_name_is_valid(name) || strlen(name) > 63))
		return set_error(ret_error, FG_API_ERR_INVALID_ARGUMENT,
				 "'%s' is not a valid button name (1-63 of A-Z a-z 0-9 _ . -)", name);
	if (name[0] && find_button(a, name, &other) == 0)
		return set_error(ret_error, FG_API_ERR_NAME_TAKEN,
				 "A button is already called or matches '%s'", name);
	r = a->p.open_pairing(a->p.userdata, (uint64_t)seconds * 1000000, name, &e);
	if (r < 0)
		return reply_failure(ret_error, r, &e, "Opening the pairing window");
	log_notice("Pairing window opened over D-Bus%s%s", name[0] ? " for " : "", name);
	fg_api_gateway_changed(a);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_close_pairing(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	int r;

	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	r = a->p.close_pairing(a->p.userdata, &e);
	if (r < 0)
		return reply_failure(ret_error, r, &e, "Closing the pairing window");
	fg_api_gateway_changed(a);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_test_alert(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct fg_api_button b;
	const char *button, *target;
	char *id = NULL;
	int r;

	r = sd_bus_message_read(m, "ss", &button, &target);
	if (r < 0)
		return r;
	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	if (button[0]) {
		if (find_button(a, button, &b) < 0 || !b.id)
			return set_error(ret_error, FG_API_ERR_UNKNOWN_BUTTON,
					 "No button called '%s' (name, address or serial)", button);
		id = strdup(b.id);
		if (!id)
			return -ENOMEM;
	}
	r = a->p.test_alert(a->p.userdata, id, target[0] ? target : NULL, &e);
	if (r < 0) {
		free(id);
		return reply_failure(ret_error, r, &e, "The test alert");
	}
	log_notice("Test alert requested over D-Bus (button %s, target %s)",
		   id ? id : "(synthetic)", target[0] ? target : "(default)");
	free(id);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_acknowledge(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	bool silenced = false;
	int r;

	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	r = a->p.acknowledge(a->p.userdata, &silenced, &e);
	if (r < 0)
		return reply_failure(ret_error, r, &e, "Acknowledging");
	log_notice("Acknowledged over D-Bus: %s", silenced ? "silenced" : "nothing to silence");
	return sd_bus_reply_method_return(m, "b", (int)silenced);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	int r;

	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	r = a->p.reload(a->p.userdata, &e);
	if (r < 0)
		return reply_failure(ret_error, r, &e, "Reloading the configuration");
	return sd_bus_reply_method_return(m, NULL);
}

static int method_recent_deliveries(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	sd_bus_message *reply = NULL;
	struct fg_api_delivery d;
	uint32_t max;
	size_t n;
	int r;

	r = sd_bus_message_read(m, "u", &max);
	if (r < 0)
		return r;
	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	n = a->p.n_deliveries(a->p.userdata);
	if (max > 0 && n > max)
		n = max;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', FG_DBUS_DELIVERY_SIG);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (a->p.delivery_at(a->p.userdata, i, &d) < 0)
			continue;
		r = sd_bus_message_append(reply, FG_DBUS_DELIVERY_SIG, d.time_usec,
					  strempty(d.alert_id), strempty(d.button), strempty(d.target),
					  strempty(d.state), (int)d.test, strempty(d.result),
					  d.http_status, strempty(d.error), d.latency_usec, d.attempt);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_export_pairings(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	char *doc = NULL;
	unsigned count = 0;
	int r;

	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	r = a->p.export_pairings(a->p.userdata, &doc, &count, &e);
	if (r < 0)
		return reply_failure(ret_error, r, &e, "Exporting pairings");
	log_notice("%u pairing record%s exported over D-Bus", count, count == 1 ? "" : "s");
	r = sd_bus_reply_method_return(m, "su", doc, count);
	/* it held pairing keys */
	explicit_bzero(doc, strlen(doc));
	free(doc);
	return r;
}

static int method_import_pairings(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	const char *doc;
	unsigned count = 0;
	int replace, r;

	r = sd_bus_message_read(m, "sb", &doc, &replace);
	if (r < 0)
		return r;
	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	r = a->p.import_pairings(a->p.userdata, doc, replace, &count, &e);
	if (r < 0)
		return reply_failure(ret_error, r, &e, "Importing pairings");
	log_notice("%u pairing record%s imported over D-Bus%s", count, count == 1 ? "" : "s",
		   replace ? " (replacing the stored ones)" : "");
	fg_api_buttons_changed(a);
	return sd_bus_reply_method_return(m, "u", count);
}

static int method_open_test_window(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct fg_api_button b;
	const char *button;
	uint64_t timeout;
	char *id = NULL;
	int r;

	r = sd_bus_message_read(m, "ts", &timeout, &button);
	if (r < 0)
		return r;
	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	if (timeout != 0 && (timeout < 1000000 || timeout > 3600 * UINT64_C(1000000)))
		return set_error(ret_error, FG_API_ERR_INVALID_ARGUMENT,
				 "A test window lasts 1 s to 1 h (0: the default, 5 min)");
	if (button[0]) {
		if (find_button(a, button, &b) < 0 || !b.id || !b.configured)
			return set_error(ret_error, FG_API_ERR_UNKNOWN_BUTTON,
					 "No button listed in the configuration is called '%s'", button);
		id = strdup(b.id);
		if (!id)
			return -ENOMEM;
	}
	r = a->p.open_test_window(a->p.userdata, timeout, id, &e);
	free(id);
	if (r < 0)
		return reply_failure(ret_error, r, &e, "Opening the test window");
	fg_api_gateway_changed(a);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_close_test_window(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	int r;

	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	r = a->p.close_test_window(a->p.userdata, &e);
	if (r < 0)
		return reply_failure(ret_error, r, &e, "Closing the test window");
	fg_api_gateway_changed(a);
	return sd_bus_reply_method_return(m, NULL);
}

struct audit_export {
	sd_bus_message *reply;
	uint32_t n, max;
	bool truncated;
};

static int audit_record(const struct fg_api_audit_record *rec, void *userdata)
{
	struct audit_export *x = userdata;

	if (x->n >= x->max) {
		x->truncated = true;
		return -ENOBUFS;
	}
	x->n++;
	return sd_bus_message_append(x->reply, FG_DBUS_AUDIT_SIG, rec->time_usec, strempty(rec->event),
				     strempty(rec->button), strempty(rec->alert_id),
				     strempty(rec->target), rec->latency_usec, rec->since_press_usec,
				     strempty(rec->detail));
}

static int method_export_audit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_api *a = userdata;
	struct fg_api_error e = { 0 };
	struct audit_export x = { .max = FG_DBUS_AUDIT_MAX };
	uint64_t since, until;
	uint32_t max;
	unsigned skipped = 0;
	int r;

	r = sd_bus_message_read(m, "ttu", &since, &until, &max);
	if (r < 0)
		return r;
	r = check_operator(a, m, ret_error);
	if (r != 0)
		return r;
	if (until < since)
		return set_error(ret_error, FG_API_ERR_INVALID_ARGUMENT, "until is before since");
	if (max > 0 && max < x.max)
		x.max = max;
	r = sd_bus_message_new_method_return(m, &x.reply);
	if (r >= 0)
		r = sd_bus_message_open_container(x.reply, 'a', FG_DBUS_AUDIT_SIG);
	if (r >= 0) {
		r = a->p.export_audit(a->p.userdata, since, until, audit_record, &x, &skipped, &e);
		if (r == -ENOBUFS && x.truncated)
			r = 0;
		if (r < 0) {
			sd_bus_message_unref(x.reply);
			return reply_failure(ret_error, r, &e, "Reading the audit trail");
		}
	}
	if (r >= 0)
		r = sd_bus_message_close_container(x.reply);
	if (r >= 0)
		r = sd_bus_message_append(x.reply, "bu", (int)x.truncated, (uint32_t)skipped);
	if (r >= 0)
		r = sd_bus_send(NULL, x.reply, NULL);
	sd_bus_message_unref(x.reply);
	return r;
}

#define GW_PROP(name, sig) \
	SD_BUS_PROPERTY(name, sig, gateway_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

static const sd_bus_vtable gateway_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY(FG_DBUS_GW_VERSION, "s", gateway_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	GW_PROP(FG_DBUS_GW_NAME, "s"),
	GW_PROP(FG_DBUS_GW_CONFIG_PATH, "s"),
	SD_BUS_PROPERTY(FG_DBUS_GW_START_TIME, "t", gateway_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	GW_PROP(FG_DBUS_GW_FEATURES, "as"),
	GW_PROP(FG_DBUS_GW_ADAPTER, "s"),
	GW_PROP(FG_DBUS_GW_ADAPTER_STATE, "s"),
	GW_PROP(FG_DBUS_GW_PAIRING_POLICY, "s"),
	GW_PROP(FG_DBUS_GW_PAIRING_OPEN, "b"),
	GW_PROP(FG_DBUS_GW_PAIRING_END, "t"),
	GW_PROP(FG_DBUS_GW_BUTTONS, "u"),
	GW_PROP(FG_DBUS_GW_CONNECTED, "u"),
	GW_PROP(FG_DBUS_GW_OPEN_ALERTS, "as"),
	GW_PROP(FG_DBUS_GW_SPOOL_DEPTH, "t"),
	GW_PROP(FG_DBUS_GW_SPOOL_ALARM, "b"),
	GW_PROP(FG_DBUS_GW_DEAD_LETTERS, "t"),
	GW_PROP(FG_DBUS_GW_TARGETS, "a" FG_DBUS_TARGET_SIG),
	GW_PROP(FG_DBUS_GW_TEST_WINDOW_OPEN, "b"),
	GW_PROP(FG_DBUS_GW_TEST_WINDOW_END, "t"),
	GW_PROP(FG_DBUS_GW_TEST_WINDOW_BUTTON, "s"),
	GW_PROP(FG_DBUS_GW_ALARMS, "as"),

	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_GET_BUTTON, "s", SD_BUS_PARAM(query),
				 "o", SD_BUS_PARAM(button), method_get_button,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_OPEN_PAIRING, "us", SD_BUS_PARAM(timeout_sec) SD_BUS_PARAM(name),
				 "", , method_open_pairing, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD(FG_DBUS_GW_CLOSE_PAIRING, "", "", method_close_pairing, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_TEST_ALERT, "ss", SD_BUS_PARAM(button) SD_BUS_PARAM(target),
				 "", , method_test_alert, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_ACKNOWLEDGE, "", ,
				 "b", SD_BUS_PARAM(silenced), method_acknowledge,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD(FG_DBUS_GW_RELOAD, "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_RECENT_DELIVERIES, "u", SD_BUS_PARAM(max),
				 "a" FG_DBUS_DELIVERY_SIG, SD_BUS_PARAM(deliveries),
				 method_recent_deliveries, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_EXPORT_PAIRINGS, "", ,
				 "su", SD_BUS_PARAM(document) SD_BUS_PARAM(count),
				 method_export_pairings, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_IMPORT_PAIRINGS, "sb",
				 SD_BUS_PARAM(document) SD_BUS_PARAM(replace),
				 "u", SD_BUS_PARAM(count), method_import_pairings,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_OPEN_TEST_WINDOW, "ts",
				 SD_BUS_PARAM(timeout_usec) SD_BUS_PARAM(button),
				 "", , method_open_test_window, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD(FG_DBUS_GW_CLOSE_TEST_WINDOW, "", "", method_close_test_window,
		      SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(FG_DBUS_GW_EXPORT_AUDIT, "ttu",
				 SD_BUS_PARAM(since_usec) SD_BUS_PARAM(until_usec) SD_BUS_PARAM(max),
				 "a" FG_DBUS_AUDIT_SIG "bu",
				 SD_BUS_PARAM(records) SD_BUS_PARAM(truncated) SD_BUS_PARAM(skipped),
				 method_export_audit, SD_BUS_VTABLE_UNPRIVILEGED),

	SD_BUS_SIGNAL_WITH_NAMES(FG_DBUS_GW_PAIRING_PROGRESS, "ssss",
				 SD_BUS_PARAM(stage) SD_BUS_PARAM(address) SD_BUS_PARAM(button)
				 SD_BUS_PARAM(message), 0),
	SD_BUS_SIGNAL_WITH_NAMES(FG_DBUS_GW_DELIVERY, FG_DBUS_DELIVERY_FIELDS,
				 SD_BUS_PARAM(time) SD_BUS_PARAM(alert_id) SD_BUS_PARAM(button)
				 SD_BUS_PARAM(target) SD_BUS_PARAM(state) SD_BUS_PARAM(test)
				 SD_BUS_PARAM(result) SD_BUS_PARAM(http_status) SD_BUS_PARAM(error)
				 SD_BUS_PARAM(latency_usec) SD_BUS_PARAM(attempt), 0),
	SD_BUS_VTABLE_END
};

/* ---- life cycle ------------------------------------------------------------ */

/* Every callback is required: the daemon runs every subsystem. */
static bool provider_complete(const struct fg_api_provider *p)
{
	return p && p->get_gateway && p->n_buttons && p->button_at && p->button_by_id &&
	       p->get_target && p->n_deliveries && p->delivery_at && p->reload &&
	       p->open_pairing && p->close_pairing && p->test_alert && p->acknowledge &&
	       p->unpair && p->rename && p->export_pairings && p->import_pairings &&
	       p->get_supervision && p->button_supervision && p->open_test_window &&
	       p->close_test_window && p->export_audit;
}

int fg_api_new(sd_bus *bus, const struct fg_api_provider *provider, gid_t operator_gid,
	       struct fg_api **ret)
{
	struct fg_api *a;
	int r;

	if (!bus || !provider_complete(provider))
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->bus = sd_bus_ref(bus);
	a->p = *provider;
	a->own_uid = geteuid();
	a->operator_gid = operator_gid;

	r = sd_bus_add_object_manager(bus, &a->manager_slot, FG_DBUS_OBJECT_MANAGER_PATH);
	if (r < 0)
		goto failed;
	r = sd_bus_add_object_vtable(bus, &a->gateway_slot, FG_DBUS_MANAGER_PATH,
				     FG_DBUS_MANAGER_IFACE, gateway_vtable, a);
	if (r < 0)
		goto failed;
	r = sd_bus_add_fallback_vtable(bus, &a->button_slot, FG_DBUS_BUTTON_PREFIX,
				       FG_DBUS_BUTTON_IFACE, button_vtable, button_find, a);
	if (r < 0)
		goto failed;
	r = sd_bus_add_node_enumerator(bus, &a->enumerator_slot, FG_DBUS_BUTTON_PREFIX,
				       button_enumerate, a);
	if (r < 0)
		goto failed;
	r = current_ids(a, &a->known_ids);
	if (r < 0)
		goto failed;
	*ret = a;
	return 0;

failed:
	fg_api_free(a);
	return r;
}

struct fg_api *fg_api_free(struct fg_api *a)
{
	if (!a)
		return NULL;
	/* held calls go unanswered: the daemon is going away with its name */
	while (a->queries)
		creds_query_free(a, a->queries);
	for (size_t i = 0; i < VERDICT_CACHE_MAX; i++)
		free(a->verdicts[i].sender);
	sd_bus_slot_unref(a->enumerator_slot);
	sd_bus_slot_unref(a->button_slot);
	sd_bus_slot_unref(a->gateway_slot);
	sd_bus_slot_unref(a->manager_slot);
	sd_bus_unref(a->bus);
	fg_strv_free(a->known_ids);
	free(a);
	return NULL;
}

/* ---- notifiers ------------------------------------------------------------- */

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

static void emit_button(struct fg_api *a, const char *id)
{
	char *path = button_path(id);
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
	listed = a->p.button_by_id(a->p.userdata, id, &b) >= 0;
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
	r = current_ids(a, &now);
	if (r < 0) {
		log_debug_errno(r, "Cannot list buttons: %m");
		return;
	}
	FG_STRV_FOREACH(id, a->known_ids) {
		if (fg_strv_contains(now, id))
			continue;
		path = button_path(id);
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
		path = button_path(id);
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
