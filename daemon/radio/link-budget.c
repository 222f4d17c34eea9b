/* SPDX-License-Identifier: MIT */
/* The link budget: which buttons stay linked, their auto-disconnect, who is disconnected (link-budget.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macro.h"
#include "radio/link-budget.h"

/* Is @a ranked before @b for a kept slot? keep_linked, then the latest press, then linked already. */
static bool keeps_before(const struct fg_budget_button *a, const struct fg_budget_button *b)
{
	if (a->keep_linked != b->keep_linked)
		return a->keep_linked;
	if (a->last_press != b->last_press)
		return a->last_press > b->last_press;
	return a->linked && !b->linked;
}

/* May @b be disconnected now? */
static bool may_leave(const struct fg_budget_button *b, const struct fg_budget_verdict *v,
		      const struct fg_budget_params *p, uint64_t now, uint64_t *next_at)
{
	if (!b->linked || !b->verified || b->busy || b->leaving)
		return false;
	if (v->kept && b->keep_linked)
		return false;
	if (b->last_press && now < b->last_press + p->linger_usec) {
		uint64_t t = b->last_press + p->linger_usec;

		if (!*next_at || t < *next_at)
			*next_at = t;
		return false;
	}
	return true;
}

/* The one to disconnect first: not kept before kept, then the least recently pressed. */
static bool leaves_before(const struct fg_budget_button *a, bool a_kept, const struct fg_budget_button *b,
			  bool b_kept)
{
	if (a_kept != b_kept)
		return !a_kept;
	return a->last_press < b->last_press;
}

uint16_t fg_budget_idle_seconds(uint64_t idle_usec)
{
	uint64_t s = (idle_usec + 999999) / 1000000;

	if (s < FG_BUDGET_IDLE_MIN_S)
		return FG_BUDGET_IDLE_MIN_S;
	return s > FG_BUDGET_IDLE_MAX_S ? FG_BUDGET_IDLE_MAX_S : (uint16_t)s;
}

int fg_budget_plan(const struct fg_budget_button *bt, size_t n, const struct fg_budget_params *p, uint64_t now,
		   struct fg_budget_verdict *ret, struct fg_budget_summary *ret_sum)
{
	struct fg_budget_summary sum = { .link_budget = p->max_links };
	uint16_t idle_s = fg_budget_idle_seconds(p->idle_disconnect_usec);
	unsigned leaving = 0, need = 0;

	if (p->max_links < FG_BUDGET_LINKS_MIN)
		return -EINVAL;

	/* the kept set: the max_links - 1 best ranked (n is tens: a selection is plenty) */
	for (size_t i = 0; i < n; i++) {
		unsigned better = 0;

		for (size_t j = 0; j < n; j++)
			if (j != i && (keeps_before(&bt[j], &bt[i]) ||
				       (j < i && !keeps_before(&bt[i], &bt[j]))))
				better++;
		ret[i] = (struct fg_budget_verdict){ .kept = better < p->max_links - 1 };
		ret[i].auto_disconnect_s = ret[i].kept ? FG_BUDGET_NEVER_S : idle_s;
		if (ret[i].kept)
			sum.kept++;
		if (bt[i].linked)
			sum.links_used++;
		else
			sum.sleeping++;
		if ((bt[i].waiting || bt[i].refused) && !bt[i].linked)
			sum.waiting++;
		if (bt[i].refused && !bt[i].linked)
			sum.refused++;
	}

	/* those disconnected already free their slot soon: not two for one */
	for (size_t i = 0; i < n; i++)
		if (bt[i].linked && bt[i].leaving)
			leaving++;

	/*
	 * Slots wanted now: one is always kept free for a waking button, so
	 * every link above max_links - 1 is one too many, and a button the
	 * controller refused (it holds fewer than max_links) wants one more.
	 * The one asked to leave is put to sleep (ForceBtDisconnectInd): it
	 * stays quiet until pressed, so it does not take the slot back.
	 */
	if (sum.links_used + 1 > p->max_links)
		need = sum.links_used + 1 - p->max_links;
	if (sum.refused && need == 0)
		need = 1;
	need = need > leaving ? need - leaving : 0;

	while (need > 0) {
		size_t best = n;

		for (size_t i = 0; i < n; i++) {
			if (ret[i].disconnect || !may_leave(&bt[i], &ret[i], p, now, &sum.next_at))
				continue;
			if (best == n || leaves_before(&bt[i], ret[i].kept, &bt[best], ret[best].kept))
				best = i;
		}
		if (best == n)
			break;
		ret[best].disconnect = true;
		need--;
	}
	if (need == 0)
		sum.next_at = 0;
	if (ret_sum)
		*ret_sum = sum;
	return 0;
}

bool fg_budget_starved(uint64_t wanted_since, uint64_t after, uint64_t now)
{
	return wanted_since && now >= wanted_since && now - wanted_since >= after;
}

/*
 * What a controller holds, from public measurements (docs/bluez.md "The
 * link budget"): the Raspberry Pi's built-in Cypress/Broadcom controller,
 * attached over UART by hci_uart_bcm, held about 9 LE links, 7 of them
 * stable; a CSR8510 USB dongle holds 5.
 */
static const struct {
	const char *driver;	/* NULL: match vendor:product */
	uint16_t vendor, product;
	unsigned links;
	const char *source;
} controllers[] = {
	{ "hci_uart_bcm", 0, 0, 7, "Raspberry Pi built-in (hci_uart_bcm)" },
	{ NULL, 0x0a12, 0x0001, 5, "CSR8510 (0a12:0001)" },
};

unsigned fg_budget_links_for(const char *driver, uint16_t vendor, uint16_t product, const char **ret_source)
{
	for (size_t i = 0; i < FG_ELEMENTSOF(controllers); i++) {
		bool match = controllers[i].driver ? driver && strcmp(driver, controllers[i].driver) == 0 :
			     vendor == controllers[i].vendor && product == controllers[i].product;

		if (match) {
			if (ret_source)
				*ret_source = controllers[i].source;
			return controllers[i].links;
		}
	}
	if (ret_source)
		*ret_source = "unknown controller: the default";
	return FG_BUDGET_LINKS_DEFAULT;
}
