/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/*
 * Delivery policy, pure: what a response means, when to try again, how fast
 * a target may be sent to. Time comes in as arguments, randomness as a
 * 32-bit number from the caller's RNG.
 */

enum fg_delivery_class {
	FG_DELIVERY_DONE,	/* 2xx: the target has it */
	FG_DELIVERY_RETRY,	/* 408/425/429/5xx/transport: back off, try again */
	FG_DELIVERY_DEAD,	/* 400/413/415/422, other 4xx: never accepted as is */
	FG_DELIVERY_UNHEALTHY,	/* 3xx/401/402/403/404/405/407/410: target misconfigured */
	_FG_DELIVERY_CLASS_MAX,
};

/*
 * @http_status is the response code, or 0 when no response came (connect,
 * DNS, TLS, timeout, reset: always retried).
 */
enum fg_delivery_class fg_retry_classify(long http_status);
const char *fg_delivery_class_to_string(enum fg_delivery_class c);

/*
 * Why a target that answered @http_status (FG_DELIVERY_UNHEALTHY) refuses
 * us, for people: "HTTP 401 Unauthorized: check the key in url/routing_key".
 * Written to @buf (always terminated); returns @buf.
 */
char *fg_retry_rejection_reason(long http_status, char *buf, size_t size);

#define FG_RETRY_BASE_USEC (1 * UINT64_C(1000000))
#define FG_RETRY_MAX_USEC (5 * 60 * UINT64_C(1000000))
/* A target cannot park us for longer than this with Retry-After. */
#define FG_RETRY_AFTER_MAX_USEC (60 * 60 * UINT64_C(1000000))

/*
 * Delay before attempt @attempt + 1 after @attempt failures (attempt >= 1):
 * min(max, base * 2^(attempt-1)), of which the upper half is jittered with
 * @random ("equal jitter": never less than half the nominal delay, so a
 * burst of failures spreads out without hammering the target).
 */
uint64_t fg_retry_backoff(unsigned attempt, uint32_t random);
/* The same with a cap of its own, @max_usec, instead of FG_RETRY_MAX_USEC. */
uint64_t fg_retry_backoff_max(unsigned attempt, uint32_t random, uint64_t max_usec);

/*
 * Parse a Retry-After value: delta-seconds or an HTTP-date (IMF-fixdate,
 * RFC 850 or asctime form, RFC 9110 section 10.2.3). A date in the past
 * gives 0. The delay is capped at FG_RETRY_AFTER_MAX_USEC. Returns 0 or
 * -EINVAL.
 */
int fg_retry_after_parse(const char *value, uint64_t now_realtime_usec,
			 uint64_t *ret_delay_usec);

/* The delay to use: the larger of the backoff and a valid Retry-After. */
uint64_t fg_retry_delay(unsigned attempt, uint32_t random, bool has_retry_after,
			uint64_t retry_after_usec);

/*
 * Token bucket. @rate tokens per second, at most @burst stored; rate 0
 * means unlimited. Plain data so the owner embeds it.
 */
struct fg_ratelimit {
	double rate;
	double burst;
	double tokens;
	uint64_t last_usec;
};

void fg_ratelimit_init(struct fg_ratelimit *rl, double rate, double burst,
		       uint64_t now_usec);
/* 0: a token was taken, send now. Else: microseconds until one is free. */
uint64_t fg_ratelimit_take(struct fg_ratelimit *rl, uint64_t now_usec);

/*
 * The documented limit of each preset's service (docs/alerts.md lists the
 * sources); a configured rate_limit > 0 replaces the rate.
 */
void fg_preset_rate_limit(enum fg_preset p, double configured, double *ret_rate,
			  double *ret_burst);
