/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "delivery/alert.h"
#include "config/config.h"

/*
 * The HTTP request each webhook preset makes for an alert. Pure: the same
 * alert and configuration always give the same bytes (docs/alerts.md shows
 * every body).
 */

#define FG_PAGERDUTY_DEFAULT_URL "https://events.pagerduty.com/v2/enqueue"

struct fg_request {
	const char *method;	/* static or borrowed from the config */
	const char *url;	/* borrowed from the config (or static): lives as long as it */
	char **headers;		/* owned strv, "Name: value" */
	char *body;		/* owned */
	size_t body_len;
};

void fg_request_clear(struct fg_request *r);

/*
 * Build the request for @a to @w. Returns 0 and fills *ret (clear it with
 * fg_request_clear), -ENODATA when this preset has nothing to say about
 * @a (Slack/ntfy are notify-only: an Off with no open incident is not
 * worth a message), -EINVAL for a template that fails (config not
 * validated), -ENOMEM.
 */
int fg_preset_build(const struct fg_webhook_config *w, const struct fg_alert *a,
		    struct fg_request *ret);

/* PagerDuty dedup_key, stable per gateway and button: "flicgate/<gw>/<button>". */
int fg_preset_dedup_key(const struct fg_alert *a, char **ret);
