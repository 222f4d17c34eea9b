/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The control API's insides, shared by its files and by nothing else.
 * Calls go one way, top to bottom:
 *
 *   api.c          fg_api_new()/fg_api_free(): the object tree
 *   api-gateway.c  the Gateway interface (properties, methods, vtable)
 *   api-signals.c  the notifiers: PropertiesChanged, InterfacesAdded/
 *                  Removed, PairingProgress, Delivery
 *   api-buttons.c  the Button interface, and finding buttons by path,
 *                  id, name, address or serial
 *   api-creds.c    who may call a changing method (held calls, the bus's
 *                  answers; verdicts.c keeps them)
 *   api-errors.c   the one error table
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "control/api.h"
#include "control/verdicts.h"

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool streq_ptr(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
static inline const char *strempty(const char *s) { return s ? s : ""; }
static inline const char *strna(const char *s) { return s ? s : "n/a"; }

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

	/* who may change things (api_check_operator()) */
	struct fg_verdict_cache verdicts;
	struct creds_query *queries;	/* GetConnectionCredentials in flight */
	unsigned n_deferred;		/* calls held by them */
	bool deferred_full;		/* DEFERRED_MAX reached (logged) */
	sd_bus_message *resuming;	/* the held call running again, with: */
	struct fg_verdict resume_verdict;
};

/* ---- api-errors.c ---- */
/* Set @ret_error to @code's D-Bus error; returns its -errno. */
int api_set_error(sd_bus_error *ret_error, enum fg_api_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Turn what a provider callback returned (@r, @e) into the D-Bus error reply. */
int api_reply_failure(sd_bus_error *ret_error, int r, const struct fg_api_error *e,
		      const char *what);

/* ---- api-creds.c ---- */
/*
 * 0: the caller may go on; < 0: refused, @ret_error set; 1: the call is on
 * hold until the caller's credentials are in (the handler must return 1
 * at once, without a reply: it runs again from the start then).
 */
int api_check_operator(struct fg_api *a, sd_bus_message *m, sd_bus_error *ret_error);
/* Drop the held calls unanswered and forget every verdict. */
void api_creds_free(struct fg_api *a);

/* ---- api-buttons.c ---- */
extern const sd_bus_vtable api_button_vtable[];
/* The object path of button @id; malloc'd for the caller, NULL without memory. */
char *api_button_path(const char *id);
/* The ids the provider lists now; *ret: a strv owned by the caller (fg_strv_free). */
int api_current_ids(struct fg_api *a, char ***ret);
/*
 * The button @query names: its id, name, address (any case, ':' or '-')
 * or serial (any case), tried in that order. -ENOENT: none.
 */
int api_find_button(struct fg_api *a, const char *query, struct fg_api_button *ret);
/* sd-bus's object find and node enumerator under FG_DBUS_BUTTON_PREFIX. */
int api_button_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
		    void **ret_found, sd_bus_error *ret_error);
int api_button_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***ret_nodes,
			 sd_bus_error *ret_error);

/* ---- api-gateway.c ---- */
extern const sd_bus_vtable api_gateway_vtable[];
