/* SPDX-License-Identifier: MIT */
/*
 * Carrying out the link budget (link-budget.h): which buttons stay linked,
 * their own auto-disconnect, disconnecting one to free a slot, refused
 * connects, and [bluetooth] max_links = auto read from sysfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "radio/buttons-internal.h"
#include "radio/link-budget.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* A refused button tries again at least this often, even when no slot frees. */
#define REFUSED_RETRY_USEC	(10 * FG_USEC_PER_SEC)
/*
 * A button we disconnected advertises to reconnect: its connect waits this
 * long, so that the button that needed the slot gets it. Shorter than a
 * button advertises after a press (30 s), so a press meanwhile still finds
 * its pending connect armed while it advertises.
 */
#define DISCONNECTED_HOLD_USEC	(10 * FG_USEC_PER_SEC)
/*
 * A button stops wanting a link when it stops advertising, which is seen
 * only as the absence of news: refused again (every REFUSED_RETRY_USEC
 * while it advertises) or an advertisement. Without news this long it
 * sleeps again, and starvation stops counting.
 */
#define WANTED_FRESH_USEC	(25 * FG_USEC_PER_SEC)

/* Reads a short sysfs file into @buf (trailing newline dropped). */
static int read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return 0;
}

/*
 * What the system says of @adapter's controller: the driver bound to its
 * device and, for USB, the vendor and product of the device above it.
 * BlueZ's Adapter1 exposes no link limit (docs/bluez.md).
 */
static unsigned links_of_adapter(const char *adapter, const char **ret_source)
{
	char path[PATH_MAX], link[PATH_MAX], hex[16];
	const char *driver = NULL;
	unsigned long vendor = 0, product = 0;
	ssize_t n;

	if (!adapter || strchr(adapter, '/'))
		return fg_budget_links_for(NULL, 0, 0, ret_source);
	snprintf(path, sizeof(path), "/sys/class/bluetooth/%s/device/driver", adapter);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		driver = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	}
	snprintf(path, sizeof(path), "/sys/class/bluetooth/%s/device/../idVendor", adapter);
	if (read_small(path, hex, sizeof(hex)) >= 0)
		vendor = strtoul(hex, NULL, 16);
	snprintf(path, sizeof(path), "/sys/class/bluetooth/%s/device/../idProduct", adapter);
	if (read_small(path, hex, sizeof(hex)) >= 0)
		product = strtoul(hex, NULL, 16);
	return fg_budget_links_for(driver, (uint16_t)vendor, (uint16_t)product, ret_source);
}

/* [bluetooth] max_links as a number: auto reads the adapter in use. */
void btn_budget_resolve(struct fg_buttons *bs)
{
	const char *source = NULL;
	unsigned n = bs->cfg->bluetooth.max_links;

	if (n == 0) {
		n = links_of_adapter(fg_bluez_adapter_name(bs->bz), &source);
		if (n != bs->max_links)
			log_info("Bluetooth: max_links = auto: %u links (%s)", n, source);
	}
	bs->max_links = n;
}

static int on_budget_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fg_buttons *bs = userdata;

	bs->budget_timer = sd_event_source_disable_unref(bs->budget_timer);
	btn_budget_update(bs);
	return 0;
}

/* Does @b count for the budget: a paired button that wants its link. */
static bool budgeted(const struct button *b)
{
	return b->paired && !b->repair_needed && !b->pairing;
}

/* Did we disconnect @b to free a slot lately? Then it only advertises to reconnect. */
static bool freed_lately(const struct button *b, uint64_t now)
{
	return b->freed_at && now < b->freed_at + b->bs->cfg->bluetooth.idle_disconnect_usec;
}

static struct fg_budget_button budget_input(const struct button *b, uint64_t now)
{
	bool verified = b->engine && fg_flic2_get_state(b->engine) == FG_FLIC2_STATE_VERIFIED;

	return (struct fg_budget_button){
		.keep_linked = b->cfg && b->cfg->keep_linked,
		.last_press = b->last_press_mono,
		.linked = b->link != FG_BLUEZ_LINK_DOWN,
		.verified = verified,
		/* a session verified just now still hands over its queued presses */
		.busy = verified && now < b->verified_mono + FG_BUDGET_LINGER_USEC,
		.waiting = b->wanted_since != 0,
		.refused = b->refused && !freed_lately(b, now),
		.leaving = b->leaving,
	};
}

/* Free a slot: end @b's session and drop its link. */
static void disconnect_for_slot(struct button *b, uint64_t now)
{
	log_info("Button %s: disconnected to free a link for another button", b->display);
	b->leaving = true;
	b->freed_at = now ? now : 1;
	if (b->engine && fg_flic2_request_disconnect(b->engine, now) >= 0)
		btn_drain(b);
	else
		(void)fg_bluez_disconnect(b->bs->bz, b->address);
}

/* Buttons without news for WANTED_FRESH_USEC want nothing any more; the next such time, or 0. */
static uint64_t expire_wanted(struct fg_buttons *bs, uint64_t now)
{
	uint64_t next = 0;

	for (struct button *b = bs->buttons; b; b = b->next) {
		if (!b->wanted_since)
			continue;
		if (now >= b->wanted_seen + WANTED_FRESH_USEC) {
			b->wanted_since = 0;
			b->refused = false;
			btn_report(b);
		} else if (!next || b->wanted_seen + WANTED_FRESH_USEC < next) {
			next = b->wanted_seen + WANTED_FRESH_USEC;
		}
	}
	return next;
}

/* Decide again and carry it out: kept set, auto-disconnect, a slot freed. */
void btn_budget_update(struct fg_buttons *bs)
{
	struct fg_budget_params p = {
		.max_links = bs->max_links,
		.idle_disconnect_usec = bs->cfg->bluetooth.idle_disconnect_usec,
		.linger_usec = FG_BUDGET_LINGER_USEC,
	};
	struct fg_budget_button *in;
	struct fg_budget_verdict *v;
	struct fg_budget_summary sum;
	struct button **map;
	uint64_t now = btn_now(bs), next;
	size_t n = 0, i = 0;
	bool changed;
	int r;

	if (bs->budget_running)
		return;		/* carrying out one plan: its effects come back as events */
	next = expire_wanted(bs, now);
	for (struct button *b = bs->buttons; b; b = b->next)
		n += budgeted(b);
	in = calloc(n ? n : 1, sizeof(*in));
	v = calloc(n ? n : 1, sizeof(*v));
	map = calloc(n ? n : 1, sizeof(*map));
	if (!in || !v || !map) {
		log_error("Bluetooth: out of memory planning the link budget");
		goto finish;
	}
	for (struct button *b = bs->buttons; b; b = b->next)
		if (budgeted(b)) {
			map[i] = b;
			in[i++] = budget_input(b, now);
		}
	r = fg_budget_plan(in, n, &p, now, v, &sum);
	if (r < 0) {
		log_error_errno(r, "Bluetooth: cannot plan the link budget: %m");
		goto finish;
	}
	bs->budget_running = true;
	for (i = 0; i < n; i++) {
		struct button *b = map[i];

		b->kept = v[i].kept;
		b->auto_disconnect_s = v[i].auto_disconnect_s;
		if (b->engine) {
			r = fg_flic2_set_auto_disconnect(b->engine, v[i].auto_disconnect_s, now);
			if (r < 0)
				log_warning_errno(r, "Button %s: cannot set its auto-disconnect: %m", b->display);
			btn_drain(b);
		}
		if (v[i].disconnect)
			disconnect_for_slot(b, now);
	}
	bs->budget_running = false;

	bs->budget_timer = sd_event_source_disable_unref(bs->budget_timer);
	if (sum.next_at && (!next || sum.next_at < next))
		next = sum.next_at;
	if (next) {
		r = sd_event_add_time(bs->event, &bs->budget_timer, CLOCK_MONOTONIC, next, 0,
				      on_budget_timer, bs);
		if (r < 0)
			log_error_errno(r, "Bluetooth: cannot arm the link budget timer: %m");
	}
	changed = sum.links_used != bs->budget.links_used || sum.link_budget != bs->budget.link_budget ||
		  sum.sleeping != bs->budget.sleeping;
	bs->budget = sum;
	if (changed && bs->ops->budget_changed)
		bs->ops->budget_changed(bs, bs->userdata);
finish:
	free(in);
	free(v);
	free(map);
}

/*
 * @b's connect failed before a link was up while other links are up: the
 * controller most likely had no slot (BlueZ says only "Failed:
 * le-connection-abort-by-local" for 0x0d, docs/bluez.md). Not the button's
 * fault: no long backoff; it tries again when a slot frees (the budget
 * frees one if it can) or after REFUSED_RETRY_USEC.
 */
void btn_budget_refused(struct button *b)
{
	uint64_t now = btn_now(b->bs);

	fg_link_hold(&b->lp, now + REFUSED_RETRY_USEC);
	btn_link_drain(b);
	if (freed_lately(b, now)) {
		/*
		 * We disconnected it lately: it only advertises to reconnect.
		 * It waits for a slot that frees by itself, taking none by force.
		 */
		log_debug("Button %s: no link slot free; it waits for one", b->display);
		b->refused = true;
		return;
	}
	if (!b->refused)
		log_info("Button %s: no link slot free for it; waiting for one", b->display);
	b->refused = true;
	btn_budget_wanted(b);
	btn_budget_update(b->bs);
}

/* @b wants a link it has not got (it advertised): starvation counts from now. */
void btn_budget_wanted(struct button *b)
{
	b->wanted_seen = btn_now(b->bs);
	if (b->wanted_since)
		return;
	b->wanted_since = b->wanted_seen ? b->wanted_seen : 1;
	btn_report(b);
}


/* @b has a link: it wants nothing more. */
void btn_budget_linked(struct button *b)
{
	b->refused = false;
	if (b->wanted_since) {
		b->wanted_since = 0;
		btn_report(b);
	}
}

/*
 * @b's link went down. A button we disconnected advertises to reconnect:
 * its pending connect waits DISCONNECTED_HOLD_USEC. A slot is free now:
 * refused buttons try again at once.
 */
void btn_budget_link_down(struct button *b)
{
	struct fg_buttons *bs = b->bs;

	if (b->leaving) {
		b->leaving = false;
		fg_link_hold(&b->lp, btn_now(bs) + DISCONNECTED_HOLD_USEC);
		btn_link_drain(b);
	}
	for (struct button *o = bs->buttons; o; o = o->next)
		if (o != b && o->refused && o->link == FG_BLUEZ_LINK_DOWN)
			btn_connect(o, false, true);
}

void fg_buttons_get_budget(const struct fg_buttons *bs, struct fg_buttons_budget *ret)
{
	struct fg_buttons_budget bb = { .link_budget = bs->max_links };

	/* counted now, not from the last plan: right also before the radio is ready */
	for (const struct button *b = bs->buttons; b; b = b->next) {
		if (!budgeted(b))
			continue;
		if (b->link != FG_BLUEZ_LINK_DOWN)
			bb.links_used++;
		else
			bb.sleeping++;
		if (b->wanted_since && b->link == FG_BLUEZ_LINK_DOWN)
			bb.waiting++;
	}
	*ret = bb;
}
