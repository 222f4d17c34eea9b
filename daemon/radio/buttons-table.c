/* SPDX-License-Identifier: MIT */
/*
 * The buttons' table and what every other buttons-*.c file stands on: finding
 * a button, its name and status, reports to the owner, the names file and
 * the pairing records on disk, and its protocol engine made afresh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "radio/buttons-internal.h"
#include "radio/flic2-adv.h"
#include "radio/flic2-crypto.h"
#include "lib/fileio.h"
#include "lib/statefile.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

uint64_t btn_now(const struct fg_buttons *bs)
{
	uint64_t t;

	if (sd_event_now(bs->event, CLOCK_MONOTONIC, &t) < 0)
		t = fg_now_monotonic();
	return t;
}

enum fg_button_state btn_state(const struct button *b)
{
	if (b->repair_needed)
		return FG_BUTTON_REPAIR_NEEDED;
	if (b->engine && fg_flic2_get_state(b->engine) == FG_FLIC2_STATE_VERIFIED)
		return FG_BUTTON_READY;
	if (b->pairing && b->link != FG_BLUEZ_LINK_DOWN)
		return FG_BUTTON_PAIRING;
	if (b->pairing)
		return FG_BUTTON_CONNECTING;
	if (!b->paired)
		return FG_BUTTON_UNPAIRED;
	if (b->link != FG_BLUEZ_LINK_DOWN)
		return FG_BUTTON_VERIFYING;
	/* a pending background Connect is how a sleeping button is waited for */
	if (b->lp.requested && b->lp.foreground)
		return FG_BUTTON_CONNECTING;
	return FG_BUTTON_ASLEEP;
}

/* [button] section: by address, else by serial (a section without address). */
static const struct fg_button_config *resolve_config(const struct fg_buttons *bs, const struct button *b)
{
	const struct fg_button_config *c;

	c = fg_config_button_by_address(bs->cfg, b->address);
	if (c)
		return c;
	if (b->paired && b->rec.serial[0]) {
		c = fg_config_button_by_serial(bs->cfg, b->rec.serial);
		if (c && !c->has_address)
			return c;
	}
	return NULL;
}

int btn_rename(struct button *b)
{
	char buf[64], *s;

	b->cfg = resolve_config(b->bs, b);
	if (b->cfg)
		snprintf(buf, sizeof(buf), "%s", b->cfg->name);
	else if (b->alias)
		snprintf(buf, sizeof(buf), "%s", b->alias);
	else if (b->paired && b->rec.serial[0])
		snprintf(buf, sizeof(buf), "flic-%s", b->rec.serial);
	else
		snprintf(buf, sizeof(buf), "flic-%02X%02X%02X%02X%02X%02X", b->address[0], b->address[1],
			 b->address[2], b->address[3], b->address[4], b->address[5]);
	if (b->display && strcmp(b->display, buf) == 0)
		return 0;
	s = strdup(buf);
	if (!s)
		return -ENOMEM;
	free(b->display);
	b->display = s;
	return 0;
}

void btn_fill_status(const struct button *b, struct fg_button_status *st)
{
	*st = (struct fg_button_status){
		.name = b->display,
		.configured = b->cfg != NULL,
		.paired = b->paired,
		.state = btn_state(b),
		.address_str = b->addr_str,
		.serial = b->rec.serial,	/* zeroed until paired and after unpair */
		.firmware = b->paired ? b->rec.firmware_version : 0,
		.battery_mv = b->battery_mv,
		.battery_readings = b->battery_readings,
		.has_rssi = b->has_rssi,
		.rssi = b->rssi,
		.last_seen_usec = b->last_seen,
		.last_connected_usec = b->last_connected,
		.last_press_usec = b->last_press,
		.last_gesture = b->last_gesture,
		.sessions = b->sessions,
		.connect_failures = b->failures,
		.events = b->events,
		.rejected = b->rejected,
		.last_error = b->last_error,
		.keep_linked = b->cfg && b->cfg->keep_linked,
		.kept = b->kept,
		.sleeping = b->paired && !b->repair_needed && b->link == FG_BLUEZ_LINK_DOWN,
		.link_wanted = b->wanted_since != 0,
	};
	memcpy(st->address, b->address, 6);
	if (b->paired)
		snprintf(st->flic_name, sizeof(st->flic_name), "%s", b->rec.name);
}

/*
 * Tell fg_bluez whether pairing needs its discovery: a window is open, or
 * under "listed" a listed button has no good pairing (scan-policy.h).
 */
void btn_scan_update(struct fg_buttons *bs)
{
	size_t waiting = 0;

	if (!bs->bz)
		return;
	for (size_t i = 0; i < bs->cfg->n_buttons; i++) {
		const struct fg_button_config *c = &bs->cfg->buttons[i];
		const struct button *b = c->has_address ? btn_find_by_address(bs, c->address) : NULL;

		if (c->has_address && (!b || !b->paired || b->repair_needed))
			waiting++;
	}
	fg_bluez_set_pairing_scan(bs->bz, fg_scan_for_pairing(bs->cfg->bluetooth.pairing, bs->pw.open, waiting));
}

void btn_report(struct button *b)
{
	struct fg_button_status st;

	btn_scan_update(b->bs);
	if (!b->bs->ops->button_changed)
		return;
	btn_fill_status(b, &st);
	b->last_seen_reported = btn_now(b->bs);
	b->bs->ops->button_changed(b->bs, &st, b->bs->userdata);
}

void btn_report_pairing(struct fg_buttons *bs, enum fg_pairing_step step, const struct button *b,
			   const char *detail)
{
	struct fg_pairing_report rep = {
		.step = step,
		.address = b ? b->address : NULL,
		.name = b ? b->display : NULL,
		.serial = b && b->paired && b->rec.serial[0] ? b->rec.serial : NULL,
		.detail = detail,
		.by_window = b && b->by_window,
	};

	if (bs->ops->pairing)
		bs->ops->pairing(bs, &rep, bs->userdata);
}

void btn_set_error(struct button *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->last_error, sizeof(b->last_error), fmt, ap);
	va_end(ap);
}

struct button *btn_find_by_address(const struct fg_buttons *bs, const uint8_t a[6])
{
	for (struct button *b = bs->buttons; b; b = b->next)
		if (memcmp(b->address, a, 6) == 0)
			return b;
	return NULL;
}

struct button *btn_find_by_name(const struct fg_buttons *bs, const char *name)
{
	uint8_t a[6];

	if (fg_parse_address(name, a) == 0)
		return btn_find_by_address(bs, a);
	for (struct button *b = bs->buttons; b; b = b->next)
		if (b->display && strcasecmp(b->display, name) == 0)
			return b;
	return NULL;
}

/*
 * A [button] section called @name in any case: names are looked up without
 * case (btn_find_by_name()), so two that differ only in case would be one.
 */
const struct fg_button_config *btn_config_by_name(const struct fg_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_buttons; i++)
		if (strcasecmp(c->buttons[i].name, name) == 0)
			return &c->buttons[i];
	return NULL;
}

struct button *btn_new(struct fg_buttons *bs, const uint8_t address[6])
{
	struct button *b = calloc(1, sizeof(*b)), **pp;

	if (!b)
		return NULL;
	b->bs = bs;
	memcpy(b->address, address, 6);
	fg_format_address(address, b->addr_str);
	b->link = FG_BLUEZ_LINK_DOWN;
	b->last_gesture = _FG_GESTURE_INVALID;
	fg_link_init(&b->lp);
	if (btn_rename(b) < 0) {
		free(b);
		return NULL;
	}
	/* keep the table sorted by address: a stable order for status */
	for (pp = &bs->buttons; *pp && memcmp((*pp)->address, address, 6) < 0; pp = &(*pp)->next)
		;
	b->next = *pp;
	*pp = b;
	bs->n_buttons++;
	return b;
}

void btn_free(struct button *b)
{
	b->engine = fg_flic2_free(b->engine);
	btn_drop_held(b);
	sd_event_source_disable_unref(b->deadline);
	sd_event_source_disable_unref(b->retry);
	explicit_bzero(&b->rec, sizeof(b->rec));
	free(b->alias);
	free(b->window_alias);
	free(b->display);
	free(b);
}

void btn_remove(struct button *b)
{
	struct fg_buttons *bs = b->bs;

	for (struct button **pp = &bs->buttons; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			bs->n_buttons--;
			break;
		}
	btn_free(b);
}

/* A button nobody needs any more: not paired, not configured, not pairing. */
void btn_maybe_forget(struct button *b)
{
	if (b->paired || b->pairing || b->repair_needed || b->link != FG_BLUEZ_LINK_DOWN ||
	    (b->cfg && b->cfg->has_address))
		return;
	btn_remove(b);
}

/*
 * Records and dedup state live in the engine's pairing store. The names
 * given in a named pairing window live beside it in one small file,
 * "AA:BB:CC:DD:EE:FF name" per line, rewritten whole when one changes.
 */
#define NAMES_MAX_SIZE (64 * 1024)

bool btn_among(const struct fg_pairing_export_entry *e, size_t n, const uint8_t address[6])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(e[i].rec.address, address, 6) == 0)
			return true;
	return false;
}

/*
 * Write the names file: the name of every paired button, or, before an
 * import of @n entries @imp is applied (@importing), the names as they will
 * be: the entries' take the place of those of the same buttons, and with
 * @replace the other paired buttons are about to be unpaired.
 */
int btn_write_names(struct fg_buttons *bs, bool importing, const struct fg_pairing_export_entry *imp,
		       size_t n, bool replace)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fputs("# flicgate: names given to buttons when they were paired\n", f);
	for (struct button *b = bs->buttons; b; b = b->next)
		if (b->paired && b->alias && !btn_among(imp, n, b->address) && !(importing && replace))
			fprintf(f, "%s %s\n", b->addr_str, b->alias);
	for (size_t i = 0; importing && i < n; i++)
		if (imp[i].name[0]) {
			char a[18];

			fg_format_address(imp[i].rec.address, a);
			fprintf(f, "%s %s\n", a, imp[i].name);
		}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	r = fg_statefile_write(bs->names_path, text, len, 0600);
	free(text);
	if (r < 0)
		log_error_errno(r, "Bluetooth: cannot save %s: %m", bs->names_path);
	return r;
}

int btn_save_names(struct fg_buttons *bs)
{
	return btn_write_names(bs, false, NULL, 0, false);
}

/* Lines that do not parse are skipped (and said so): a name is not worth failing for. */
int btn_load_names(struct fg_buttons *bs)
{
	char *text = NULL, *line, *save = NULL;
	size_t len;
	int r;

	r = fg_statefile_read(bs->names_path, NAMES_MAX_SIZE, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return log_error_errno(r, "Bluetooth: cannot read %s: %m", bs->names_path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char a[18], name[64];
		uint8_t addr[6];
		struct button *b;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%17s %63s", a, name) != 2 || fg_parse_address(a, addr) < 0 ||
		    !fg_name_is_valid(name)) {
			log_warning("Bluetooth: %s: ignoring a damaged line", bs->names_path);
			continue;
		}
		b = btn_find_by_address(bs, addr);
		if (!b || !b->paired)
			continue;
		free(b->alias);
		b->alias = strdup(name);
		if (!b->alias) {
			free(text);
			return -ENOMEM;
		}
	}
	free(text);
	return 0;
}

int btn_save_record(struct button *b)
{
	int r = fg_pairing_store_save(b->bs->store, &b->rec);

	if (r < 0)
		log_error_errno(r, "Button %s: cannot save its pairing: %m", b->display);
	return r;
}

/*
 * The counter must be on disk before the button is told its events were
 * taken (the acknowledgement is a write), not after every packet: a packet
 * that is not acknowledged is sent again anyway. So it is handed on before
 * the next write and when the link ends. The owner keeps it in the same
 * journal as the events' alerts, flushed once for every press of a loop
 * pass; the write waits for that flush (fg_buttons_counters_durable()).
 */
int btn_flush_dedup(struct button *b)
{
	const struct fg_buttons_ops *ops = b->bs->ops;
	int r;

	if (!b->dedup_dirty || !b->paired || !b->dedup.valid)
		return b->awaiting;
	if (!ops->persist_counter) {
		r = fg_pairing_store_save_dedup(b->bs->store, b->address, &b->dedup);
		if (r < 0)
			return log_error_errno(r, "Button %s: cannot save its event counter: %m",
					       b->display);
		b->dedup_dirty = false;
		b->dedup_durable = b->dedup;
		return 0;
	}
	r = ops->persist_counter(b->bs, b->address, &b->dedup, b->bs->userdata);
	if (r < 0)
		return log_error_errno(r, "Button %s: cannot store its event counter: %m", b->display);
	b->dedup_dirty = false;
	if (r == 0) {
		b->dedup_durable = b->dedup;
		return b->awaiting;
	}
	b->dedup_staged = b->dedup;
	b->awaiting = true;
	return 1;
}

int btn_hold_write(struct button *b, const uint8_t *data, size_t len)
{
	struct held_write *h;

	if (len > FG_FLIC2_WRITE_MAX)
		return -EINVAL;
	h = reallocarray(b->held, b->n_held + 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	b->held = h;
	memcpy(h[b->n_held].data, data, len);
	h[b->n_held++].len = len;
	return 0;
}

void btn_drop_held(struct button *b)
{
	free(b->held);
	b->held = NULL;
	b->n_held = 0;
}

int btn_engine(struct button *b, enum fg_flic2_mode mode)
{
	struct fg_flic2_params p = {
		.mode = mode,
		.pairing = mode == FG_FLIC2_MODE_RECONNECT ? &b->rec : NULL,
		.dedup = b->dedup,
		.trusted_keys = (const uint8_t (*)[32])b->bs->keys,
		.n_trusted_keys = b->bs->n_keys,
		.rng = fg_flic2_system_rng,
		.verify_timeout_usec = b->bs->cfg->bluetooth.connect_timeout_usec,
		.auto_disconnect_s = b->auto_disconnect_s,	/* the link budget's; 0: never */
	};

	memcpy(p.address, b->address, 6);
	b->engine = fg_flic2_free(b->engine);
	return fg_flic2_new(&p, &b->engine);
}

bool btn_wants_link(const struct button *b)
{
	return (b->paired && !b->repair_needed) || b->pairing;
}

/* Every button's [button] section, from the configuration now in use; cannot fail. */
void btn_resolve_all(struct fg_buttons *bs)
{
	for (struct button *b = bs->buttons; b; b = b->next)
		b->cfg = resolve_config(bs, b);
}

/* Configured buttons with an address are listed even before they are paired. */
int btn_sync_config(struct fg_buttons *bs)
{
	struct button *b, *next;

	for (size_t i = 0; i < bs->cfg->n_buttons; i++) {
		const struct fg_button_config *c = &bs->cfg->buttons[i];

		if (c->has_address && !btn_find_by_address(bs, c->address) && !btn_new(bs, c->address))
			return -ENOMEM;
	}
	for (b = bs->buttons; b; b = b->next)
		if (btn_rename(b) < 0)
			return -ENOMEM;
	for (b = bs->buttons; b; b = next) {
		next = b->next;
		btn_maybe_forget(b);
	}
	return 0;
}

int btn_load_pairings(struct fg_buttons *bs)
{
	uint8_t (*addrs)[6] = NULL;
	size_t n = 0, loaded = 0;
	int r;

	r = fg_pairing_store_list(bs->store, &addrs, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct fg_flic2_pairing rec;
		struct button *b;
		char a[18];

		fg_format_address(addrs[i], a);
		r = fg_pairing_store_load(bs->store, addrs[i], &rec);
		if (r < 0) {
			/* keep the file for a human; this button must be paired again */
			log_error_errno(r, "Button %s: its pairing record cannot be read (%m): pair it again", a);
			r = 0;
			continue;
		}
		b = btn_find_by_address(bs, addrs[i]);
		if (!b)
			b = btn_new(bs, addrs[i]);
		if (!b) {
			explicit_bzero(&rec, sizeof(rec));
			r = -ENOMEM;
			break;
		}
		b->paired = true;
		b->rec = rec;
		explicit_bzero(&rec, sizeof(rec));
		b->battery_mv = b->rec.battery_mv;
		r = bs->ops->load_counter ? bs->ops->load_counter(bs, addrs[i], &b->dedup, bs->userdata)
					  : -ENOENT;
		if (r >= 0) {
			/* the journal's is the newest: an older file beside it is stale */
			r = fg_pairing_store_remove_dedup(bs->store, addrs[i]);
			if (r < 0 && r != -ENOENT)
				log_warning_errno(r, "Button %s: cannot remove its old counter file: %m", a);
			r = 0;
		} else {
			r = fg_pairing_store_load_dedup(bs->store, addrs[i], &b->dedup);
			/* moved into the owner's journal, then removed */
			if (r >= 0 && bs->ops->persist_counter && b->dedup.valid)
				b->dedup_dirty = b->counter_file = true;
		}
		b->dedup_durable = b->dedup;
		if (r < 0) {
			/* no (or a damaged) counter: the engine starts without one */
			if (r != -ENOENT)
				log_warning_errno(r, "Button %s: event counter unreadable (%m), starting afresh", a);
			b->dedup = (struct fg_flic2_dedup){ 0 };
			r = 0;
		}
		loaded++;
	}
	free(addrs);
	if (r < 0)
		return r;
	r = btn_load_names(bs);
	if (r < 0)
		return r;
	for (struct button *b = bs->buttons; b; b = b->next)
		if (btn_rename(b) < 0)
			return -ENOMEM;
	log_info("Bluetooth: %zu paired button%s", loaded, loaded == 1 ? "" : "s");
	return 0;
}
