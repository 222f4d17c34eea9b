/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config/config.h"
#include "delivery/preset.h"

/*
 * HTTP delivery: libcurl's multi-socket API driven by an sd-event loop
 * (socket callback -> io sources, timer callback -> one timer source, then
 * curl_multi_info_read). No thread, nothing blocks. Connections are kept
 * alive and shared between transfers; HTTP/2 is used where the server
 * offers it and transfers to one host are multiplexed.
 *
 * The module only moves bytes: it neither classifies responses nor logs.
 */

struct fg_webhook;
struct fg_webhook_transfer;

struct fg_webhook_result {
	long http_status;		/* 0: no HTTP response */
	int curl_code;			/* CURLcode; 0 for any HTTP response */
	const char *error;		/* human text for a transport failure, else "" */
	bool has_retry_after;
	const char *retry_after;	/* raw header value, or "" */
	const char *response;		/* first bytes of the response body */
	uint64_t latency_usec;		/* request start to completion */
	unsigned http_version;		/* of the response: 10, 11, 20, 30; 0: none */
	unsigned new_connections;	/* connections this transfer opened (0: reused one) */
};

/*
 * Called once per transfer when it completes or fails. @r and the strings
 * in it live only during the call. The transfer is gone afterwards. The
 * callback may start new transfers.
 */
typedef void (*fg_webhook_done_t)(struct fg_webhook *w, const struct fg_webhook_result *r,
				  void *userdata);

/* *ret owned by the caller (fg_webhook_free). @e must outlive it. */
int fg_webhook_new(sd_event *e, struct fg_webhook **ret);
/* Aborts every transfer without calling its callback. Accepts NULL. */
struct fg_webhook *fg_webhook_free(struct fg_webhook *w);

/*
 * Start sending @req with @cfg's transport settings (timeout, TLS, CA
 * file, proxy). @req is copied; @userdata must live until the callback
 * or fg_webhook_cancel(). *ret_transfer (optional) identifies the transfer.
 */
int fg_webhook_send(struct fg_webhook *w, const struct fg_request *req,
		    const struct fg_webhook_config *cfg, fg_webhook_done_t cb, void *userdata,
		    struct fg_webhook_transfer **ret_transfer);

/*
 * Let curl act now on the transfers just started (on a kept-alive
 * connection: write the requests) instead of on the next loop iteration,
 * for a caller that is about to block (an fdatasync). Callbacks of
 * transfers that ended are still called from the loop. A no-op when called
 * from a completion callback.
 */
void fg_webhook_kick(struct fg_webhook *w);

/* Abort a transfer; its callback is not called. */
void fg_webhook_cancel(struct fg_webhook *w, struct fg_webhook_transfer *t);

unsigned fg_webhook_in_flight(const struct fg_webhook *w);
