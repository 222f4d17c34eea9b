/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The link budget: which paired buttons stay linked when the controller
 * holds fewer links than there are buttons ([bluetooth] max_links). Pure:
 * every paired button's state and CLOCK_MONOTONIC times in, one verdict
 * per button out; buttons-budget.c carries them out. docs/bluez.md ("The
 * link budget") gives the reasons.
 *
 * - One slot is always kept free for a waking button: at most
 *   max_links - 1 buttons are kept, keep_linked ones first, then the most
 *   recently pressed.
 * - A kept button's own auto-disconnect is "never" (511); every other
 *   linked button drops its link after idle_disconnect and sleeps until
 *   it is pressed, with a pending connect armed for it.
 * - A button that woke takes the free slot; one slot is always kept
 *   free, so while more than max_links - 1 are linked (or the controller
 *   refused one), a linked button is asked to leave now: the least
 *   recently pressed one that is not kept first, then the least recently
 *   pressed kept one that is not keep_linked; never a keep_linked one,
 *   one with events in flight or an unverified session, or one pressed
 *   within the linger.
 */

/* 9-bit auto-disconnect field of InitButtonEvents / SetAutoDisconnectTime: 511 = never. */
#define FG_BUDGET_NEVER_S		511
/* idle_disconnect limits: the official libraries refuse 1..39 and above 510 (flic2.h). */
#define FG_BUDGET_IDLE_MIN_S		40
#define FG_BUDGET_IDLE_MAX_S		510
/* A button pressed this recently keeps its link (its user may press again). */
#define FG_BUDGET_LINGER_USEC		(5 * 1000000ULL)
/* [bluetooth] max_links limits and default (docs/bluez.md). */
#define FG_BUDGET_LINKS_MIN		2
#define FG_BUDGET_LINKS_MAX		64
#define FG_BUDGET_LINKS_DEFAULT		7

/* One paired button, as the button layer sees it now. */
struct fg_budget_button {
	bool keep_linked;		/* [button] keep_linked = yes */
	uint64_t last_press;		/* when its last press arrived; 0: none yet */
	bool linked;			/* a link is up: it holds a controller slot */
	bool verified;			/* ...with a verified session */
	bool busy;			/* events in flight: a press not yet acknowledged */
	bool waiting;			/* wants a link and has none (it advertised, or was refused) */
	bool refused;			/* ...its connect was refused for lack of controller slots */
	bool leaving;			/* disconnected by us, the link not down yet */
};

struct fg_budget_params {
	unsigned max_links;		/* [bluetooth] max_links (resolved), >= 2 */
	uint64_t idle_disconnect_usec;	/* [bluetooth] idle_disconnect */
	uint64_t linger_usec;		/* FG_BUDGET_LINGER_USEC outside tests */
};

struct fg_budget_verdict {
	bool kept;			/* among the max_links - 1 held linked */
	uint16_t auto_disconnect_s;	/* what its session should use now */
	bool disconnect;		/* drop its link now to free a slot */
};

struct fg_budget_summary {
	unsigned links_used;		/* buttons linked now */
	unsigned link_budget;		/* max_links */
	unsigned kept;
	unsigned sleeping;		/* paired buttons without a link */
	unsigned waiting;		/* buttons that want a link and have none */
	unsigned refused;		/* ...refused by the controller for lack of slots */
	uint64_t next_at;		/* plan again then (a linger ends); 0: no need */
};

/*
 * Decide for @n buttons @bt (any order; ties keep it): ret[i] for bt[i]
 * (@ret holds @n). -EINVAL for max_links < 2. *ret_sum may be NULL.
 */
int fg_budget_plan(const struct fg_budget_button *bt, size_t n, const struct fg_budget_params *p, uint64_t now,
		   struct fg_budget_verdict *ret, struct fg_budget_summary *ret_sum);

/* The auto-disconnect seconds for @idle_usec: whole seconds, FG_BUDGET_IDLE_MIN_S..FG_BUDGET_IDLE_MAX_S. */
uint16_t fg_budget_idle_seconds(uint64_t idle_usec);

/*
 * Starvation: a button that wanted a link since @wanted_since (0: it does
 * not want one, or has it) is starved at @now when that is longer than
 * @after ago.
 */
bool fg_budget_starved(uint64_t wanted_since, uint64_t after, uint64_t now);

/*
 * [bluetooth] max_links = auto: the links a controller holds, from what the
 * system says of it: @driver (the kernel driver bound to the adapter's
 * device, e.g. "hci_uart_bcm", "btusb"; NULL if unknown) and, for USB, its
 * vendor and product (0 if unknown). FG_BUDGET_LINKS_DEFAULT when not in
 * the table. *ret_source (static) names the row that matched.
 */
unsigned fg_budget_links_for(const char *driver, uint16_t vendor, uint16_t product, const char **ret_source);
