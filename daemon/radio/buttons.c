/* SPDX-License-Identifier: MIT */
/*
 * The buttons: connection state machines around core/flic2.c engines, on
 * top of io/bluez.c. See buttons.h for the contract and docs/bluez.md for
 * the states and the reasoning behind the timers.
 *
 * How a paired button gets connected. Flic 2 buttons are not bonded in
 * BlueZ's sense (their pairing is their own protocol), so bluetoothd would
 * forget their device objects a while after the last advertisement. We mark
 * them Trusted, which keeps the object, and keep one Device1.Connect()
 * pending whenever the button has no link: the kernel then connects on the
 * button's first connectable advertisement, whatever it contains, with no
 * work on our side. When BlueZ gives up on that attempt it is simply made
 * again (no faster than the attempt lasted: see background_retry()). An
 * advertisement seen by our discovery session short-cuts any wait.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "radio/buttons.h"
#include "radio/flic2-adv.h"
#include "radio/flic2-crypto.h"
#include "radio/flic2.h"
#include "radio/pairing-export.h"
#include "radio/pairing.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

/* Backoff after a failed connection or session: doubles up to the max. */
#define RETRY_MIN_USEC		(1 * FG_USEC_PER_SEC)
#define RETRY_MAX_USEC		(60 * FG_USEC_PER_SEC)
/* A background attempt that BlueZ held this long was a real wait, not a refusal. */
#define BACKGROUND_LONG_USEC	(5 * FG_USEC_PER_SEC)
/* Channel set-up failures in a row before BlueZ's GATT cache is dropped. */
#define GATT_FAILURES_MAX	2
/* After a failed pairing attempt, leave that button alone this long. */
#define PAIR_COOLDOWN_USEC	(5 * FG_USEC_PER_SEC)
/* "Seen" alone is reported to the owner at most this often per button. */
#define SEEN_REPORT_USEC	(30 * FG_USEC_PER_SEC)
/* Refused public-mode buttons are logged at most this often per button. */
#define REFUSED_LOG_USEC	(60 * FG_USEC_PER_SEC)

#define FG_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define _fallthrough_ __attribute__((__fallthrough__))

struct button {
	struct button *next;
	struct fg_buttons *bs;
	uint8_t address[6];
	char addr_str[18];
	char *alias;			/* name given when paired in a named window */
	const struct fg_button_config *cfg;
	char *display;			/* what logs and status call it */

	/* pairing */
	bool paired;
	struct fg_flic2_pairing rec;	/* SECRET key inside; valid if paired */
	struct fg_flic2_dedup dedup;	/* the engine's latest */
	bool dedup_dirty;		/* not yet on disk */
	bool pairing;			/* a full verify is wanted or running */
	bool by_window;			/* ...as the one attempt of the pairing window */
	char *window_alias;		/* the name that window gives it, or NULL */
	bool repair_needed;
	uint64_t pair_blocked_until;	/* CLOCK_MONOTONIC */

	/* the link and the session */
	struct fg_flic2 *engine;
	enum fg_bluez_link link;
	bool requested;			/* our Connect is pending or the link is ours */
	bool foreground;		/* requested because it was seen just now */
	uint64_t requested_at;
	bool verified;			/* this link reached a verified session */
	sd_event_source *deadline;	/* the engine's next deadline */
	sd_event_source *retry;		/* backoff before the next attempt */
	uint64_t backoff;
	unsigned gatt_failures;

	/* status */
	unsigned failures;		/* consecutive failed attempts */
	bool has_rssi;
	int rssi;
	unsigned battery_mv;
	unsigned long battery_readings;
	uint64_t last_seen;		/* CLOCK_REALTIME */
	uint64_t last_connected;
	uint64_t last_press;
	uint64_t last_seen_reported;	/* CLOCK_MONOTONIC */
	enum fg_gesture last_gesture;
	unsigned sessions;
	unsigned long events;
	unsigned long rejected;
	char last_error[160];
};

struct fg_buttons {
	sd_event *event;
	sd_bus *bus;
	const struct fg_config *cfg;
	const struct fg_buttons_ops *ops;
	void *userdata;
	struct fg_bluez *bz;
	struct fg_pairing_store *store;	/* <state_dir>/pairings: records and dedup state */
	char *names_path;		/* <state_dir>/button-names: names given at pairing */

	/* identity keys a certificate may be signed by: Flic's and the config's */
	uint8_t (*keys)[32];
	size_t n_keys;

	struct button *buttons;
	size_t n_buttons;

	/* public-mode buttons refused lately: log and report each once a while */
	struct {
		uint8_t address[6];
		uint64_t when;		/* CLOCK_MONOTONIC; 0: free */
	} refused[16];

	/* pairing window: pairs at most one button */
	sd_event_source *window;
	char *window_name;
	uint64_t window_end;		/* CLOCK_MONOTONIC */
	bool window_busy;		/* its one attempt is running */

	struct fg_buttons_stats stats;
};

static const char *const state_names[_FG_BUTTON_STATE_MAX] = {
	[FG_BUTTON_UNPAIRED] = "unpaired",
	[FG_BUTTON_ASLEEP] = "asleep",
	[FG_BUTTON_CONNECTING] = "connecting",
	[FG_BUTTON_VERIFYING] = "verifying",
	[FG_BUTTON_PAIRING] = "pairing",
	[FG_BUTTON_READY] = "ready",
	[FG_BUTTON_REPAIR_NEEDED] = "repair-needed",
};

static const char *const step_names[_FG_PAIRING_STEP_MAX] = {
	[FG_PAIRING_WINDOW_OPENED] = "window-opened",
	[FG_PAIRING_WINDOW_CLOSED] = "window-closed",
	[FG_PAIRING_FOUND] = "found",
	[FG_PAIRING_VERIFYING] = "verifying",
	[FG_PAIRING_PAIRED] = "paired",
	[FG_PAIRING_FAILED] = "failed",
	[FG_PAIRING_REFUSED] = "refused",
};

const char *fg_button_state_to_string(enum fg_button_state s)
{
	return s < _FG_BUTTON_STATE_MAX ? state_names[s] : NULL;
}

const char *fg_pairing_step_to_string(enum fg_pairing_step s)
{
	return s < _FG_PAIRING_STEP_MAX ? step_names[s] : NULL;
}

static void button_connect(struct button *b, bool foreground);
static void button_drain(struct button *b);

static uint64_t now_mono(const struct fg_buttons *bs)
{
	uint64_t t;

	if (sd_event_now(bs->event, CLOCK_MONOTONIC, &t) < 0)
		t = fg_now_monotonic();
	return t;
}

/* ---- names and status ------------------------------------------------------ */

static enum fg_button_state button_state(const struct button *b)
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
	if (b->requested && b->foreground)
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

static int button_rename(struct button *b)
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

static void fill_status(const struct button *b, struct fg_button_status *st)
{
	*st = (struct fg_button_status){
		.name = b->display,
		.configured = b->cfg != NULL,
		.paired = b->paired,
		.state = button_state(b),
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
	};
	memcpy(st->address, b->address, 6);
	if (b->paired)
		snprintf(st->flic_name, sizeof(st->flic_name), "%s", b->rec.name);
}

static void report(struct button *b)
{
	struct fg_button_status st;

	if (!b->bs->ops->button_changed)
		return;
	fill_status(b, &st);
	b->last_seen_reported = now_mono(b->bs);
	b->bs->ops->button_changed(b->bs->userdata, &st);
}

static void report_pairing(struct fg_buttons *bs, enum fg_pairing_step step, const struct button *b,
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
		bs->ops->pairing(bs->userdata, &rep);
}

static void set_error(struct button *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct button *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->last_error, sizeof(b->last_error), fmt, ap);
	va_end(ap);
}

/* ---- the button table -------------------------------------------------------- */

static struct button *find_by_address(const struct fg_buttons *bs, const uint8_t a[6])
{
	for (struct button *b = bs->buttons; b; b = b->next)
		if (memcmp(b->address, a, 6) == 0)
			return b;
	return NULL;
}

static struct button *find_by_name(const struct fg_buttons *bs, const char *name)
{
	uint8_t a[6];

	if (fg_parse_address(name, a) == 0)
		return find_by_address(bs, a);
	for (struct button *b = bs->buttons; b; b = b->next)
		if (b->display && strcasecmp(b->display, name) == 0)
			return b;
	return NULL;
}

/*
 * A [button] section called @name in any case: names are looked up without
 * case (find_by_name()), so two that differ only in case would be one.
 */
static const struct fg_button_config *config_by_name(const struct fg_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_buttons; i++)
		if (strcasecmp(c->buttons[i].name, name) == 0)
			return &c->buttons[i];
	return NULL;
}

static struct button *button_new(struct fg_buttons *bs, const uint8_t address[6])
{
	struct button *b = calloc(1, sizeof(*b)), **pp;

	if (!b)
		return NULL;
	b->bs = bs;
	memcpy(b->address, address, 6);
	fg_format_address(address, b->addr_str);
	b->link = FG_BLUEZ_LINK_DOWN;
	b->last_gesture = _FG_GESTURE_INVALID;
	b->backoff = RETRY_MIN_USEC;
	if (button_rename(b) < 0) {
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

static void button_free(struct button *b)
{
	b->engine = fg_flic2_free(b->engine);
	sd_event_source_disable_unref(b->deadline);
	sd_event_source_disable_unref(b->retry);
	explicit_bzero(&b->rec, sizeof(b->rec));
	free(b->alias);
	free(b->window_alias);
	free(b->display);
	free(b);
}

static void button_remove(struct button *b)
{
	struct fg_buttons *bs = b->bs;

	for (struct button **pp = &bs->buttons; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			bs->n_buttons--;
			break;
		}
	button_free(b);
}

/* A button nobody needs any more: not paired, not configured, not pairing. */
static void button_maybe_forget(struct button *b)
{
	if (b->paired || b->pairing || b->repair_needed || b->link != FG_BLUEZ_LINK_DOWN ||
	    (b->cfg && b->cfg->has_address))
		return;
	button_remove(b);
}

/* ---- persistence ------------------------------------------------------------------ */

/*
 * Records and dedup state live in the engine's pairing store. The names
 * given in a named pairing window live beside it in one small file,
 * "AA:BB:CC:DD:EE:FF name" per line, rewritten whole when one changes.
 */
#define NAMES_MAX_SIZE (64 * 1024)

static bool among(const struct fg_pairing_export_entry *e, size_t n, const uint8_t address[6])
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
static int write_names(struct fg_buttons *bs, bool importing, const struct fg_pairing_export_entry *imp,
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
		if (b->paired && b->alias && !among(imp, n, b->address) && !(importing && replace))
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
	r = fg_write_file_atomic(bs->names_path, text, len, 0600);
	free(text);
	if (r < 0)
		log_error_errno(r, "Bluetooth: cannot save %s: %m", bs->names_path);
	return r;
}

static int save_names(struct fg_buttons *bs)
{
	return write_names(bs, false, NULL, 0, false);
}

/* Lines that do not parse are skipped (and said so): a name is not worth failing for. */
static int load_names(struct fg_buttons *bs)
{
	char *text = NULL, *line, *save = NULL;
	size_t len;
	int r;

	r = fg_read_file(bs->names_path, NAMES_MAX_SIZE, &text, &len);
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
		b = find_by_address(bs, addr);
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

static int save_record(struct button *b)
{
	int r = fg_pairing_store_save(b->bs->store, &b->rec);

	if (r < 0)
		log_error_errno(r, "Button %s: cannot save its pairing: %m", b->display);
	return r;
}

static int save_dedup(struct button *b)
{
	int r = fg_pairing_store_save_dedup(b->bs->store, b->address, &b->dedup);

	if (r < 0)
		log_error_errno(r, "Button %s: cannot save its event counter: %m", b->display);
	else
		b->dedup_dirty = false;
	return r;
}

/*
 * The counter must be on disk before the button is told its events were
 * taken (the acknowledgement is a write), not after every packet: a packet
 * that is not acknowledged is sent again anyway. So it is written before
 * the next write and when the link ends, which saves two of the three
 * fsync'd writes of a click.
 */
static void flush_dedup(struct button *b)
{
	if (b->dedup_dirty && b->paired && b->dedup.valid)
		(void)save_dedup(b);
}

/* ---- engine --------------------------------------------------------------------------- */

static int button_engine(struct button *b, enum fg_flic2_mode mode)
{
	struct fg_flic2_params p = {
		.mode = mode,
		.pairing = mode == FG_FLIC2_MODE_RECONNECT ? &b->rec : NULL,
		.dedup = b->dedup,
		.trusted_keys = (const uint8_t (*)[32])b->bs->keys,
		.n_trusted_keys = b->bs->n_keys,
		.rng = fg_flic2_system_rng,
		.verify_timeout_usec = b->bs->cfg->bluetooth.connect_timeout_usec,
	};

	memcpy(p.address, b->address, 6);
	b->engine = fg_flic2_free(b->engine);
	return fg_flic2_new(&p, &b->engine);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct button *b = userdata;

	if (!b->engine)
		return 0;
	(void)fg_flic2_timeout(b->engine, now_mono(b->bs));
	button_drain(b);
	return 0;
}

static void arm_deadline(struct button *b)
{
	uint64_t t = b->engine ? fg_flic2_next_deadline(b->engine) : UINT64_MAX;
	int r;

	if (t == UINT64_MAX) {
		if (b->deadline)
			(void)sd_event_source_set_enabled(b->deadline, SD_EVENT_OFF);
		return;
	}
	if (!b->deadline) {
		r = sd_event_add_time(b->bs->event, &b->deadline, CLOCK_MONOTONIC, t, 0, on_deadline, b);
		if (r < 0)
			log_error_errno(r, "Button %s: cannot arm a timer: %m", b->display);
		return;
	}
	r = sd_event_source_set_time(b->deadline, t);
	if (r >= 0)
		r = sd_event_source_set_enabled(b->deadline, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error_errno(r, "Button %s: cannot arm a timer: %m", b->display);
}

/*
 * The owner could not take an event: the button must keep it. Drop the
 * link before the acknowledgement goes out, and start the next session
 * from the persisted state so the engine does not think it was reported.
 */
static void hold_events(struct button *b)
{
	uint64_t now = now_mono(b->bs);

	b->bs->stats.events_held++;
	/*
	 * b->dedup is the counter of the last packet whose events were all
	 * taken (this packet's comes after its events): keep that one; the
	 * next engine starts from it.
	 */
	flush_dedup(b);
	(void)fg_bluez_disconnect(b->bs->bz, b->address);
	fg_flic2_disconnected(b->engine, now);
	b->engine = fg_flic2_free(b->engine);
	arm_deadline(b);
}

static void on_button_event(struct button *b, const struct fg_flic2_button_event *e)
{
	struct fg_button_event ev = {
		.gesture = e->gesture,
		.event_counter = e->event_count,
		.age_usec = e->age_usec,
		.queued = e->queued,
		.battery_mv = b->battery_mv,
		.has_address = true,
	};
	char age[FG_DURATION_BUF];
	int r;

	memcpy(ev.address, b->address, 6);
	if (b->paired)
		snprintf(ev.serial, sizeof(ev.serial), "%s", b->rec.serial);
	b->last_press = fg_now_realtime() - e->age_usec;
	b->last_seen = fg_now_realtime();
	b->last_gesture = e->gesture;
	b->events++;

	if (e->queued || e->age_usec >= FG_USEC_PER_SEC)
		fg_format_duration(e->age_usec / FG_USEC_PER_MSEC * FG_USEC_PER_MSEC, age, sizeof(age));
	if (!b->cfg) {
		/* documented: an unconfigured button's presses open no alert */
		b->bs->stats.events_unconfigured++;
		log_notice("Button %s (not in the configuration): %s%s%s%s, no alert sent", b->display,
			   fg_gesture_to_string(e->gesture), e->queued ? " (queued" : "",
			   e->queued ? ", " : "", e->queued ? age : "");
		if (e->queued)
			log_notice("Button %s: add a [button] section with address = %s to map it", b->display,
				   b->addr_str);
		return;
	}
	/* down and up are for the mapping; people read about clicks and holds */
	fg_log_full_errno(e->gesture == FG_GESTURE_DOWN || e->gesture == FG_GESTURE_UP ? LOG_DEBUG : LOG_INFO, 0,
			  "Button %s: %s #%u%s%s%s", b->display, fg_gesture_to_string(e->gesture),
			  e->event_count, e->queued ? " (queued, " : "", e->queued ? age : "",
			  e->queued ? " old)" : "");
	b->bs->stats.events++;
	r = b->bs->ops->button_event ? b->bs->ops->button_event(b->bs->userdata, b->cfg, &ev) : 0;
	if (r < 0) {
		log_error_errno(r, "Button %s: event not accepted, the button keeps it: %m", b->display);
		set_error(b, "event not accepted: %s", strerror(-r));
		hold_events(b);
	}
}

static void window_close(struct fg_buttons *bs, const char *why, const struct button *attempt);

/* The window's one attempt ended: the window closes with it. */
static void pairing_attempt_over(struct button *b, const char *why)
{
	bool mine = b->by_window;

	free(b->window_alias);
	b->window_alias = NULL;
	if (!mine)
		return;
	b->bs->window_busy = false;
	if (b->bs->window)
		window_close(b->bs, why, b);	/* clears b->by_window */
	b->by_window = false;
}

static void on_failed(struct button *b, enum fg_flic2_failure reason, uint8_t detail)
{
	const char *why = fg_flic2_failure_to_string(reason);
	const char *err = b->engine ? fg_flic2_last_error(b->engine) : "";

	set_error(b, "%s%s%s", why, err && *err ? ": " : "", err ? err : "");
	if (b->pairing) {
		b->pairing = false;
		b->pair_blocked_until = now_mono(b->bs) + PAIR_COOLDOWN_USEC;
		b->bs->stats.pairing_failures++;
		log_warning("Button %s: pairing failed: %s", b->display, b->last_error);
		report_pairing(b->bs, FG_PAIRING_FAILED, b, b->last_error);
		pairing_attempt_over(b, "failed");
		return;
	}
	b->failures++;
	switch (reason) {
	case FG_FLIC2_FAIL_REPAIR_NEEDED:
		/* the stored key is useless: forget it, say so loudly */
		log_error("Button %s: it no longer holds our pairing (factory reset?): pair it again",
			  b->display);
		b->repair_needed = true;
		b->paired = false;
		(void)fg_pairing_store_remove(b->bs->store, b->address);
		(void)fg_bluez_watch(b->bs->bz, b->address, false);
		explicit_bzero(&b->rec.pairing_key, sizeof(b->rec.pairing_key));
		break;
	case FG_FLIC2_FAIL_NOT_GENUINE:
	case FG_FLIC2_FAIL_KEY_MISMATCH:
	case FG_FLIC2_FAIL_BAD_MAC:
		log_warning("Button %s: session refused: %s", b->display, b->last_error);
		break;
	case FG_FLIC2_FAIL_LINK_CLOSED:
		/* the button closed it on purpose: not a fault */
		log_info("Button %s: the button closed the session", b->display);
		b->failures--;
		break;
	case FG_FLIC2_FAIL_NOT_PAIRABLE:
	case FG_FLIC2_FAIL_TIMEOUT:
	case FG_FLIC2_FAIL_NO_SLOTS:
	case FG_FLIC2_FAIL_APP_CREDENTIALS:
	case FG_FLIC2_FAIL_PROTOCOL:
	case FG_FLIC2_FAIL_INTERNAL:
	case _FG_FLIC2_FAIL_MAX:
		log_info("Button %s: session failed: %s", b->display, b->last_error);
		break;
	}
	(void)detail;
}

static void on_paired(struct button *b, const struct fg_flic2_pairing *rec)
{
	struct fg_buttons *bs = b->bs;
	int r;

	b->rec = *rec;
	b->paired = true;
	b->repair_needed = false;
	b->dedup = (struct fg_flic2_dedup){ 0 };
	if (b->window_alias) {
		free(b->alias);
		b->alias = b->window_alias;
		b->window_alias = NULL;
	}
	(void)button_rename(b);
	/*
	 * A new pairing starts a new event history: drop what an older
	 * pairing of this address left (its counter file), then store the
	 * record. The engine asks to persist the first counter right after.
	 */
	r = fg_pairing_store_remove(bs->store, b->address);
	if (r < 0 && r != -ENOENT)
		log_warning_errno(r, "Button %s: cannot remove its old pairing files: %m", b->display);
	r = save_record(b);
	if (r >= 0 && b->alias)
		(void)save_names(bs);
	(void)fg_bluez_set_trusted(bs->bz, b->address, true);
	(void)fg_bluez_watch(bs->bz, b->address, true);
	bs->stats.pairings++;
	log_notice("Button %s paired: %s, serial %s, firmware %u%s", b->display, b->addr_str,
		   b->rec.serial, b->rec.firmware_version,
		   b->cfg ? "" : " (no [button] section names it: its presses open no alert)");
	if (r < 0) {
		/*
		 * It works until we restart, then it is gone: say so now, while
		 * someone is watching the window, not after the next reboot.
		 */
		set_error(b, "paired, but the pairing could not be saved: %s", strerror(-r));
		bs->stats.pairing_failures++;
		report_pairing(bs, FG_PAIRING_FAILED, b, b->last_error);
		pairing_attempt_over(b, "failed");
		return;
	}
	report_pairing(bs, FG_PAIRING_PAIRED, b, NULL);
	pairing_attempt_over(b, "paired");
}

static void on_verified(struct button *b)
{
	uint64_t now = fg_now_realtime();

	if (b->pairing)
		b->pairing = false;
	b->verified = true;
	b->failures = 0;
	b->gatt_failures = 0;
	b->backoff = RETRY_MIN_USEC;
	b->sessions++;
	b->last_connected = b->last_seen = now;
	b->last_error[0] = 0;
	log_info("Button %s: connected and verified", b->display);
}

/* Run every queued engine action, in order (see core/flic2.h). */
static void button_drain(struct button *b)
{
	struct fg_flic2_action a;
	bool changed = false;
	int r;

	while (b->engine && fg_flic2_next_action(b->engine, &a) > 0) {
		switch (a.kind) {
		case FG_FLIC2_ACTION_WRITE:
			flush_dedup(b);
			r = fg_bluez_write(b->bs->bz, b->address, a.write.data, a.write.len);
			if (r < 0) {
				log_info_errno(r, "Button %s: cannot write a packet: %m", b->display);
				(void)fg_bluez_disconnect(b->bs->bz, b->address);
			}
			break;
		case FG_FLIC2_ACTION_PAIRED:
			on_paired(b, &a.paired);
			changed = true;
			break;
		case FG_FLIC2_ACTION_VERIFIED:
			on_verified(b);
			changed = true;
			break;
		case FG_FLIC2_ACTION_BUTTON_EVENT:
			on_button_event(b, &a.button);
			changed = true;
			break;
		case FG_FLIC2_ACTION_STATE_TO_PERSIST:
			b->dedup = a.dedup;
			b->dedup_dirty = true;
			break;
		case FG_FLIC2_ACTION_BATTERY:
			/* every reading is news: two low ones in a row make an alarm */
			changed = true;
			b->battery_mv = a.battery_mv;
			b->battery_readings++;
			break;
		case FG_FLIC2_ACTION_NAME:
			if (b->paired && strcmp(b->rec.name, a.name) != 0) {
				snprintf(b->rec.name, sizeof(b->rec.name), "%s", a.name);
				(void)save_record(b);
				changed = true;
			}
			break;
		case FG_FLIC2_ACTION_FIRMWARE:
			if (b->paired && b->rec.firmware_version != a.firmware_version) {
				b->rec.firmware_version = a.firmware_version;
				(void)save_record(b);
				changed = true;
			}
			break;
		case FG_FLIC2_ACTION_FAILED:
			on_failed(b, a.failed.reason, a.failed.detail);
			changed = true;
			break;
		case FG_FLIC2_ACTION_DISCONNECT:
			(void)fg_bluez_disconnect(b->bs->bz, b->address);
			break;
		case _FG_FLIC2_ACTION_MAX:
			break;
		}
	}
	explicit_bzero(&a, sizeof(a));
	arm_deadline(b);
	if (changed)
		report(b);
}

/* ---- connecting -------------------------------------------------------------------- */

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct button *b = userdata;

	b->retry = sd_event_source_disable_unref(b->retry);
	button_connect(b, false);
	return 0;
}

static void schedule_retry(struct button *b, uint64_t delay)
{
	int r;

	b->retry = sd_event_source_disable_unref(b->retry);
	r = sd_event_add_time_relative(b->bs->event, &b->retry, CLOCK_MONOTONIC, delay, 0, on_retry, b);
	if (r < 0)
		log_error_errno(r, "Button %s: cannot arm the retry timer: %m", b->display);
}

static void backoff(struct button *b)
{
	schedule_retry(b, b->backoff);
	b->backoff = b->backoff * 2 > RETRY_MAX_USEC ? RETRY_MAX_USEC : b->backoff * 2;
}

static bool wants_link(const struct button *b)
{
	return (b->paired && !b->repair_needed) || b->pairing;
}

/*
 * Ask for a link. @foreground: the button advertises right now, so the
 * attempt is bounded by [bluetooth] connect_timeout; otherwise it waits in
 * the background for the button to show up (see the top of this file).
 */
static void button_connect(struct button *b, bool foreground)
{
	struct fg_buttons *bs = b->bs;
	int r;

	if (!wants_link(b) || b->requested || fg_bluez_get_state(bs->bz) != FG_BLUEZ_READY)
		return;
	if (b->link != FG_BLUEZ_LINK_DOWN) {
		/* up without us asking (kept by bluetoothd across our restart): take it */
		r = fg_bluez_connect(bs->bz, b->address, 0);
		if (r >= 0 || r == -EALREADY)
			b->requested = true;
		return;
	}
	if (b->retry && !foreground)
		return;
	if (b->paired)
		(void)fg_bluez_set_trusted(bs->bz, b->address, true);
	r = fg_bluez_connect(bs->bz, b->address, foreground ? bs->cfg->bluetooth.connect_timeout_usec : 0);
	if (r == -ENODEV) {
		/* BlueZ has no object for it: its next advertisement creates one */
		log_debug("Button %s: waiting for it to advertise", b->display);
		return;
	}
	if (r < 0 && r != -EALREADY) {
		log_info_errno(r, "Button %s: cannot connect: %m", b->display);
		backoff(b);
		return;
	}
	b->retry = sd_event_source_disable_unref(b->retry);
	b->requested = true;
	b->foreground = foreground;
	b->requested_at = now_mono(bs);
	log_debug("Button %s: %s connect", b->display, foreground ? "foreground" : "background");
}

/*
 * A background attempt ended without a link. If BlueZ held it for a while
 * it was a real wait (the button is asleep or away): wait again at once.
 * If it was refused quickly, back off so that we never spin.
 */
static void background_retry(struct button *b, uint64_t held)
{
	if (held >= BACKGROUND_LONG_USEC) {
		b->backoff = RETRY_MIN_USEC;
		schedule_retry(b, RETRY_MIN_USEC);
	} else {
		backoff(b);
	}
}

/*
 * May this public-mode button be paired now? *ret_by_window: it would be
 * the open window's one attempt (a listed button under "listed" is not).
 */
static bool pairing_allowed(const struct fg_buttons *bs, const uint8_t address[6], bool *ret_by_window,
			    const char **ret_why)
{
	*ret_by_window = false;
	switch (bs->cfg->bluetooth.pairing) {
	case FG_PAIRING_LOCKED:
		*ret_why = "pairing is locked ([bluetooth] pairing = locked)";
		return false;
	case FG_PAIRING_LISTED:
		if (fg_config_button_by_address(bs->cfg, address))
			return true;
		_fallthrough_;
	case FG_PAIRING_WINDOW:
		if (!bs->window) {
			*ret_why = bs->cfg->bluetooth.pairing == FG_PAIRING_LISTED ?
				   "not listed in a [button] section and no pairing window is open" :
				   "no pairing window is open";
			return false;
		}
		if (bs->window_busy) {
			*ret_why = "the pairing window is busy with another button";
			return false;
		}
		*ret_by_window = true;
		return true;
	case _FG_PAIRING_MAX:
		break;
	}
	*ret_why = "unknown policy";
	return false;
}

static void start_pairing(struct button *b, bool by_window)
{
	struct fg_buttons *bs = b->bs;
	int r;

	if (by_window) {
		/* the window's name goes to this button, whenever the attempt ends */
		b->by_window = true;
		bs->window_busy = true;
		free(b->window_alias);
		b->window_alias = bs->window_name ? strdup(bs->window_name) : NULL;
	}
	b->pairing = true;
	b->repair_needed = false;
	r = button_engine(b, FG_FLIC2_MODE_PAIR);
	if (r < 0) {
		log_error_errno(r, "Button %s: cannot start pairing: %m", b->addr_str);
		set_error(b, "cannot start pairing: %s", strerror(-r));
		report_pairing(bs, FG_PAIRING_FAILED, b, b->last_error);
		b->pairing = false;
		pairing_attempt_over(b, "failed");
		return;
	}
	log_notice("Button %s in public mode found: pairing", b->addr_str);
	report_pairing(b->bs, FG_PAIRING_FOUND, b, NULL);
	b->retry = sd_event_source_disable_unref(b->retry);
	if (b->link != FG_BLUEZ_LINK_DOWN) {
		/* our old link to it: drop it, pair on a fresh one */
		(void)fg_bluez_disconnect(b->bs->bz, b->address);
		return;
	}
	button_connect(b, true);
}

/* ---- BlueZ callbacks ----------------------------------------------------------------- */

static void on_radio(struct fg_bluez *bz, enum fg_bluez_state state, const char *adapter, void *userdata)
{
	struct fg_buttons *bs = userdata;

	if (bs->ops->radio_changed)
		bs->ops->radio_changed(bs->userdata, state, adapter);
	if (state != FG_BLUEZ_READY)
		return;
	for (struct button *b = bs->buttons; b; b = b->next) {
		b->retry = sd_event_source_disable_unref(b->retry);
		button_connect(b, false);
	}
}

/*
 * A public-mode button advertises several times a second: say once per
 * REFUSED_LOG_USEC that it is refused, for a handful of buttons at a time.
 */
static bool refusal_is_news(struct fg_buttons *bs, const uint8_t address[6], uint64_t now)
{
	size_t oldest = 0;

	for (size_t i = 0; i < FG_ELEMENTSOF(bs->refused); i++) {
		if (bs->refused[i].when && memcmp(bs->refused[i].address, address, 6) == 0) {
			if (now < bs->refused[i].when + REFUSED_LOG_USEC)
				return false;
			bs->refused[i].when = now;
			return true;
		}
		if (bs->refused[i].when < bs->refused[oldest].when)
			oldest = i;
	}
	memcpy(bs->refused[oldest].address, address, 6);
	bs->refused[oldest].when = now ? now : 1;
	return true;
}

static void on_advertisement(struct fg_bluez *bz, const struct fg_bluez_adv *adv, void *userdata)
{
	struct fg_buttons *bs = userdata;
	struct button *b = find_by_address(bs, adv->address);
	uint64_t now = now_mono(bs);
	bool public_mode;
	const char *why = NULL;

	if (adv->info.kind != FG_FLIC2_ADV_FLIC2 && !b)
		return;	/* a Twist speaks another protocol; anything else is not ours */
	if (b) {
		b->last_seen = fg_now_realtime();
		b->has_rssi = adv->has_rssi;
		b->rssi = adv->rssi;
	}
	/*
	 * Pairable: in public mode and not linked to another device. A button
	 * we hold a good pairing for is never re-paired from an advertisement:
	 * BlueZ keeps the service UUID it saw once, so "public mode" would be
	 * stale; unpair it first, or let the engine find it lost our pairing.
	 */
	public_mode = adv->info.public_mode && !adv->connected && !adv->info.connected_elsewhere &&
		      !(b && b->paired && !b->repair_needed);

	if (public_mode && (!b || !b->pairing) && (!b || now >= b->pair_blocked_until)) {
		bool by_window;

		if (pairing_allowed(bs, adv->address, &by_window, &why)) {
			if (!b)
				b = button_new(bs, adv->address);
			if (!b)
				return (void)log_error("Button %02X:…: out of memory", adv->address[0]);
			b->has_rssi = adv->has_rssi;
			b->rssi = adv->rssi;
			b->last_seen = fg_now_realtime();
			start_pairing(b, by_window);
			report(b);
			return;
		}
		if (refusal_is_news(bs, adv->address, now)) {
			struct fg_pairing_report rep = {
				.step = FG_PAIRING_REFUSED,
				.address = adv->address,
				.name = b ? b->display : NULL,
				.detail = why,
			};
			char a[18];

			fg_format_address(adv->address, a);
			bs->stats.refused++;
			log_info("Button %s is in public mode but is not paired: %s", a, why);
			if (bs->ops->pairing)
				bs->ops->pairing(bs->userdata, &rep);
		}
	}
	if (!b)
		return;
	if (wants_link(b) && b->link == FG_BLUEZ_LINK_DOWN) {
		/* it is there now: whatever we were waiting for, connect */
		if (!b->requested || !b->foreground) {
			if (b->requested) {
				/* a background attempt is pending in BlueZ already */
				log_debug("Button %s advertises; connect pending", b->display);
			} else {
				b->retry = sd_event_source_disable_unref(b->retry);
				button_connect(b, true);
			}
		}
	}
	if (now >= b->last_seen_reported + SEEN_REPORT_USEC)
		report(b);
}

static void on_link(struct fg_bluez *bz, const uint8_t address[6], enum fg_bluez_link link, int error,
		    unsigned mtu, void *userdata)
{
	struct fg_buttons *bs = userdata;
	struct button *b = find_by_address(bs, address);
	uint64_t now = now_mono(bs);
	enum fg_bluez_link old;
	int r;

	if (!b)
		return;
	old = b->link;
	b->link = link;
	switch (link) {
	case FG_BLUEZ_LINK_DOWN: {
		bool was_verified = b->verified, was_requested = b->requested;
		uint64_t held = now - b->requested_at;

		b->requested = false;
		b->verified = false;
		flush_dedup(b);
		if (b->engine)
			fg_flic2_disconnected(b->engine, now);
		arm_deadline(b);
		if (!wants_link(b) && !b->repair_needed) {
			/* unpaired while the link was up: forget it now */
			log_info("Button %s: disconnected", b->display);
			report(b);
			button_maybe_forget(b);
			break;
		}
		if (was_verified) {
			/* a verified session ended: the button sleeps (normal) or left */
			log_info("Button %s: disconnected%s%s", b->display, error ? ": " : "",
				 error ? strerror(-error) : "");
			b->backoff = RETRY_MIN_USEC;
			report(b);
			button_connect(b, false);
			break;
		}
		if (b->pairing && old != FG_BLUEZ_LINK_DOWN) {
			on_failed(b, FG_FLIC2_FAIL_TIMEOUT, 0);
			set_error(b, "link lost while pairing");
			report(b);
			button_maybe_forget(b);
			break;
		}
		if (b->pairing) {
			/* the pairing connect failed */
			b->pairing = false;
			b->pair_blocked_until = now + PAIR_COOLDOWN_USEC;
			bs->stats.pairing_failures++;
			set_error(b, "cannot connect: %s", strerror(-(error ? error : EIO)));
			report_pairing(bs, FG_PAIRING_FAILED, b, b->last_error);
			pairing_attempt_over(b, "failed");
			report(b);
			button_maybe_forget(b);
			break;
		}
		if (old == FG_BLUEZ_LINK_DOWN && was_requested && !b->foreground) {
			background_retry(b, held);
			break;
		}
		/* a foreground attempt or an unverified link failed */
		b->failures++;
		if (error)
			set_error(b, "link failed: %s", strerror(-error));
		log_info("Button %s: %s%s%s", b->display,
			 old == FG_BLUEZ_LINK_DOWN ? "connect failed" : "link lost before verification",
			 error ? ": " : "", error ? strerror(-error) : "");
		report(b);
		backoff(b);
		break;
	}
	case FG_BLUEZ_LINK_CONNECTED:
		b->last_seen = fg_now_realtime();
		if (error == -EPIPE && b->verified) {
			/* the channel hung up under a live session: the link is going */
			(void)fg_bluez_disconnect(bs->bz, b->address);
			break;
		}
		if (error) {
			/* the packet channel could not be set up or broke */
			b->gatt_failures++;
			set_error(b, "GATT: %s", strerror(-error));
			if (b->gatt_failures >= GATT_FAILURES_MAX && error == -ENOENT) {
				log_warning("Button %s: the Flic service is missing again; dropping BlueZ's cached copy",
					    b->display);
				(void)fg_bluez_remove_device(bs->bz, b->address);
				b->gatt_failures = 0;
			} else {
				(void)fg_bluez_disconnect(bs->bz, b->address);
			}
			break;
		}
		button_connect(b, false);
		if (b->pairing)
			report_pairing(bs, FG_PAIRING_VERIFYING, b, NULL);
		report(b);
		break;
	case FG_BLUEZ_LINK_READY:
		if (!wants_link(b)) {
			(void)fg_bluez_disconnect(bs->bz, b->address);
			break;
		}
		if (!b->engine) {
			r = button_engine(b, b->paired && !b->pairing ? FG_FLIC2_MODE_RECONNECT : FG_FLIC2_MODE_PAIR);
			if (r < 0) {
				log_error_errno(r, "Button %s: cannot start a session: %m", b->display);
				(void)fg_bluez_disconnect(bs->bz, b->address);
				break;
			}
		}
		/* a new channel on the same link (services re-resolved): a new session */
		if (fg_flic2_get_state(b->engine) != FG_FLIC2_STATE_IDLE &&
		    fg_flic2_get_state(b->engine) != FG_FLIC2_STATE_REPAIR_NEEDED)
			fg_flic2_disconnected(b->engine, now);
		r = fg_flic2_connected(b->engine, mtu, now);
		if (r == -ESTALE) {
			b->repair_needed = true;
			(void)fg_bluez_disconnect(bs->bz, b->address);
		} else if (r < 0) {
			log_warning_errno(r, "Button %s: cannot start a session: %m", b->display);
			(void)fg_bluez_disconnect(bs->bz, b->address);
		}
		button_drain(b);
		break;
	case _FG_BLUEZ_LINK_MAX:
		break;
	}
}

static void on_device_present(struct fg_bluez *bz, const uint8_t address[6], bool present, void *userdata)
{
	struct fg_buttons *bs = userdata;
	struct button *b = find_by_address(bs, address);

	/* a kept device is back (bluetoothd restart, adapter back): wait for it */
	if (b && present && !b->requested) {
		b->retry = sd_event_source_disable_unref(b->retry);
		button_connect(b, false);
	}
}

static void on_notification(struct fg_bluez *bz, const uint8_t address[6], const uint8_t *data, size_t len,
			    void *userdata)
{
	struct fg_buttons *bs = userdata;
	struct button *b = find_by_address(bs, address);
	int r;

	if (!b || !b->engine)
		return;
	r = fg_flic2_receive(b->engine, data, len, now_mono(bs));
	if (r == -EBADMSG) {
		b->rejected++;
		bs->stats.rejected++;
		set_error(b, "rejected packet: %s", fg_flic2_last_error(b->engine));
		log_info("Button %s: rejected a packet: %s", b->display, fg_flic2_last_error(b->engine));
	}
	button_drain(b);
}

static const struct fg_bluez_ops bluez_ops = {
	.state_changed = on_radio,
	.advertisement = on_advertisement,
	.link_changed = on_link,
	.device_present = on_device_present,
	.notification = on_notification,
};

/* ---- pairing window ------------------------------------------------------------------- */

/* @attempt: the button whose attempt ended the window, or NULL. */
static void window_close(struct fg_buttons *bs, const char *why, const struct button *attempt)
{
	struct fg_pairing_report rep = {
		.step = FG_PAIRING_WINDOW_CLOSED,
		.address = attempt ? attempt->address : NULL,
		.name = attempt ? attempt->display : NULL,
		.serial = attempt && attempt->paired && attempt->rec.serial[0] ? attempt->rec.serial : NULL,
		.detail = why,
		.by_window = attempt != NULL,
	};

	/* the policy changed: refusals are news again */
	memset(bs->refused, 0, sizeof(bs->refused));
	/* an attempt still running finishes; it just no longer closes anything */
	for (struct button *b = bs->buttons; b; b = b->next)
		b->by_window = false;
	bs->window_busy = false;
	bs->window = sd_event_source_disable_unref(bs->window);
	free(bs->window_name);
	bs->window_name = NULL;
	bs->window_end = 0;
	log_notice("Pairing window closed (%s)", why);
	if (bs->ops->pairing)
		bs->ops->pairing(bs->userdata, &rep);
}

static int on_window_end(sd_event_source *s, uint64_t usec, void *userdata)
{
	window_close(userdata, "timeout", NULL);
	return 0;
}

int fg_buttons_open_pairing_window(struct fg_buttons *bs, uint64_t duration_usec, const char *name)
{
	char d[FG_DURATION_BUF];
	struct button *other;
	char *n = NULL;
	int r;

	if (bs->cfg->bluetooth.pairing == FG_PAIRING_LOCKED)
		return -EPERM;
	if (name) {
		if (!fg_pairing_name_is_valid(name))
			return -EINVAL;
		/* names must stay unique: not a section's, not another paired button's */
		other = find_by_name(bs, name);
		if ((other && other->paired) || config_by_name(bs->cfg, name))
			return -EEXIST;
		n = strdup(name);
		if (!n)
			return -ENOMEM;
	}
	if (!duration_usec)
		duration_usec = bs->cfg->bluetooth.pairing_window_usec;
	bs->window = sd_event_source_disable_unref(bs->window);
	r = sd_event_add_time_relative(bs->event, &bs->window, CLOCK_MONOTONIC, duration_usec, 0,
				       on_window_end, bs);
	if (r < 0) {
		free(n);
		return r;
	}
	free(bs->window_name);
	bs->window_name = n;
	bs->window_end = now_mono(bs) + duration_usec;
	log_notice("Pairing window open for %s%s%s: hold a button for 7 s to pair it",
		   fg_format_duration(duration_usec, d, sizeof(d)), n ? " for button " : "", n ? n : "");
	report_pairing(bs, FG_PAIRING_WINDOW_OPENED, NULL, NULL);
	/* a button already in public mode is picked up by its next announced advertisement */
	fg_bluez_rescan(bs->bz);
	return 0;
}

int fg_buttons_close_pairing_window(struct fg_buttons *bs)
{
	if (!bs->window)
		return -ENOENT;
	window_close(bs, "closed", NULL);
	return 0;
}

uint64_t fg_buttons_pairing_window_left(const struct fg_buttons *bs)
{
	uint64_t now;

	if (!bs->window)
		return 0;
	now = now_mono(bs);
	return bs->window_end > now ? bs->window_end - now : 0;
}

/* ---- unpair, listing --------------------------------------------------------------------- */

int fg_buttons_unpair(struct fg_buttons *bs, const char *which)
{
	struct button *b = find_by_name(bs, which);
	int r;

	if (!b || (!b->paired && !b->repair_needed && !b->pairing))
		return -ENOENT;
	r = fg_pairing_store_remove(bs->store, b->address);
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "Button %s: cannot remove its pairing: %m", b->display);
	if (b->pairing && b->by_window) {
		/* someone gave up on the window's attempt: it ends the window */
		set_error(b, "unpaired while it was being paired");
		report_pairing(bs, FG_PAIRING_FAILED, b, b->last_error);
		pairing_attempt_over(b, "failed");
	}
	log_notice("Button %s (%s) unpaired", b->display, b->addr_str);
	b->paired = b->pairing = b->repair_needed = false;
	explicit_bzero(&b->rec, sizeof(b->rec));
	b->dedup = (struct fg_flic2_dedup){ 0 };
	if (b->alias) {
		free(b->alias);
		b->alias = NULL;
		(void)save_names(bs);
	}
	b->engine = fg_flic2_free(b->engine);
	b->retry = sd_event_source_disable_unref(b->retry);
	arm_deadline(b);
	/* also drops the link and BlueZ's copy of the device */
	(void)fg_bluez_watch(bs->bz, b->address, false);
	(void)fg_bluez_remove_device(bs->bz, b->address);
	b->requested = false;
	(void)button_rename(b);
	report(b);
	button_maybe_forget(b);
	return 0;
}

int fg_buttons_rename(struct fg_buttons *bs, const char *which, const char *name)
{
	struct button *b = find_by_name(bs, which), *other;
	char *n, *old;
	int r;

	if (!b || !b->paired)
		return -ENOENT;
	if (b->cfg)
		return -EPERM;
	if (!fg_pairing_name_is_valid(name))
		return -EINVAL;
	other = find_by_name(bs, name);
	if ((other && other != b) || config_by_name(bs->cfg, name))
		return -EEXIST;
	n = strdup(name);
	if (!n)
		return -ENOMEM;
	/* on disk first: a name that would be gone after a restart is no rename */
	old = b->alias;
	b->alias = n;
	r = save_names(bs);
	if (r < 0) {
		b->alias = old;
		free(n);
		return r;
	}
	free(old);
	(void)button_rename(b);
	log_notice("Button %s (%s) renamed", b->display, b->addr_str);
	report(b);
	return 0;
}

size_t fg_buttons_count(const struct fg_buttons *bs)
{
	return bs->n_buttons;
}

void fg_buttons_get(const struct fg_buttons *bs, size_t i, struct fg_button_status *ret)
{
	struct button *b = bs->buttons;

	while (b && i--)
		b = b->next;
	if (b)
		fill_status(b, ret);
}

int fg_buttons_find(const struct fg_buttons *bs, const char *which, struct fg_button_status *ret)
{
	struct button *b = find_by_name(bs, which);

	if (!b)
		return -ENOENT;
	fill_status(b, ret);
	return 0;
}

int fg_buttons_find_configured(const struct fg_buttons *bs, const struct fg_button_config *c,
			       struct fg_button_status *ret)
{
	for (struct button *b = bs->buttons; b; b = b->next)
		if (b->cfg == c) {
			fill_status(b, ret);
			return 0;
		}
	return -ENOENT;
}

enum fg_bluez_state fg_buttons_radio_state(const struct fg_buttons *bs)
{
	return fg_bluez_get_state(bs->bz);
}

const char *fg_buttons_adapter(const struct fg_buttons *bs)
{
	return fg_bluez_adapter_name(bs->bz);
}

void fg_buttons_get_stats(const struct fg_buttons *bs, struct fg_buttons_stats *ret)
{
	*ret = bs->stats;
	ret->paired = ret->ready = 0;
	for (struct button *b = bs->buttons; b; b = b->next) {
		ret->paired += b->paired;
		ret->ready += button_state(b) == FG_BUTTON_READY;
	}
	fg_bluez_get_stats(bs->bz, &ret->radio);
}

/* ---- configuration and lifecycle ---------------------------------------------------------- */

static int load_keys(struct fg_buttons *bs, const struct fg_config *c)
{
	const uint8_t (*builtin)[32];
	size_t n_builtin, n;
	uint8_t (*keys)[32];
	char *hex;
	int r;

	builtin = fg_flic2_builtin_keys(&n_builtin);
	n = n_builtin + fg_strv_length(c->bluetooth.trusted_keys);
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	memcpy(keys, builtin, n_builtin * sizeof(*keys));
	n = n_builtin;
	FG_STRV_FOREACH(hex, c->bluetooth.trusted_keys) {
		r = fg_flic2_key_from_hex(hex, keys[n]);
		if (r < 0) {
			free(keys);
			return r;
		}
		n++;
	}
	if (n > n_builtin)
		log_warning("Bluetooth: %zu extra identity key%s trusted ([bluetooth] trusted_key): test rigs only",
			    n - n_builtin, n - n_builtin == 1 ? "" : "s");
	free(bs->keys);
	bs->keys = keys;
	bs->n_keys = n;
	return 0;
}

/* Configured buttons with an address are listed even before they are paired. */
static int sync_config_buttons(struct fg_buttons *bs)
{
	struct button *b, *next;

	for (size_t i = 0; i < bs->cfg->n_buttons; i++) {
		const struct fg_button_config *c = &bs->cfg->buttons[i];

		if (c->has_address && !find_by_address(bs, c->address) && !button_new(bs, c->address))
			return -ENOMEM;
	}
	for (b = bs->buttons; b; b = b->next)
		if (button_rename(b) < 0)
			return -ENOMEM;
	for (b = bs->buttons; b; b = next) {
		next = b->next;
		button_maybe_forget(b);
	}
	return 0;
}

static int load_pairings(struct fg_buttons *bs)
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
		b = find_by_address(bs, addrs[i]);
		if (!b)
			b = button_new(bs, addrs[i]);
		if (!b) {
			explicit_bzero(&rec, sizeof(rec));
			r = -ENOMEM;
			break;
		}
		b->paired = true;
		b->rec = rec;
		explicit_bzero(&rec, sizeof(rec));
		b->battery_mv = b->rec.battery_mv;
		r = fg_pairing_store_load_dedup(bs->store, addrs[i], &b->dedup);
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
	r = load_names(bs);
	if (r < 0)
		return r;
	for (struct button *b = bs->buttons; b; b = b->next)
		if (button_rename(b) < 0)
			return -ENOMEM;
	log_info("Bluetooth: %zu paired button%s", loaded, loaded == 1 ? "" : "s");
	return 0;
}

int fg_buttons_new(sd_event *event, sd_bus *bus, const struct fg_config *config,
		   const struct fg_buttons_ops *ops, void *userdata, struct fg_buttons **ret)
{
	struct fg_buttons *bs;
	int r;

	bs = calloc(1, sizeof(*bs));
	if (!bs)
		return -ENOMEM;
	bs->event = sd_event_ref(event);
	bs->bus = sd_bus_ref(bus);
	bs->cfg = config;
	bs->ops = ops;
	bs->userdata = userdata;

	r = load_keys(bs, config);
	if (r < 0) {
		log_error_errno(r, "Bluetooth: bad trusted_key: %m");
		goto failed;
	}
	if (asprintf(&bs->names_path, "%s/button-names", config->gateway.state_dir) < 0) {
		bs->names_path = NULL;
		r = -ENOMEM;
		goto failed;
	}
	r = fg_pairing_store_open(config->gateway.state_dir, &bs->store);
	if (r < 0) {
		log_error_errno(r, "Bluetooth: cannot open the pairing store in %s: %m",
				config->gateway.state_dir);
		goto failed;
	}
	r = load_pairings(bs);
	if (r < 0) {
		log_error_errno(r, "Bluetooth: cannot load the pairings: %m");
		goto failed;
	}
	r = sync_config_buttons(bs);
	if (r < 0)
		goto failed;
	r = fg_bluez_new(event, bus, (struct fg_config *)config, &bluez_ops, bs, &bs->bz);
	if (r < 0)
		goto failed;
	for (struct button *b = bs->buttons; b; b = b->next)
		if (b->paired && (r = fg_bluez_watch(bs->bz, b->address, true)) < 0)
			goto failed;
	*ret = bs;
	return 0;

failed:
	fg_buttons_free(bs);
	return r;
}

/*
 * Shutting down: give the button its logical connection back
 * (DisconnectVerifiedLink) but leave the BLE link to bluetoothd, so that
 * the next start quick-verifies at once instead of waiting for a press.
 */
static void button_release(struct button *b)
{
	struct fg_flic2_action a;

	flush_dedup(b);
	if (!b->engine || fg_flic2_get_state(b->engine) != FG_FLIC2_STATE_VERIFIED)
		return;
	if (fg_flic2_request_disconnect(b->engine, now_mono(b->bs)) < 0)
		return;
	while (fg_flic2_next_action(b->engine, &a) > 0)
		if (a.kind == FG_FLIC2_ACTION_WRITE)
			(void)fg_bluez_write(b->bs->bz, b->address, a.write.data, a.write.len);
	explicit_bzero(&a, sizeof(a));
}

struct fg_buttons *fg_buttons_free(struct fg_buttons *bs)
{
	if (!bs)
		return NULL;
	for (struct button *b = bs->buttons; b; b = b->next)
		button_release(b);
	bs->bz = fg_bluez_free(bs->bz);
	while (bs->buttons) {
		struct button *b = bs->buttons;

		bs->buttons = b->next;
		button_free(b);
	}
	sd_event_source_disable_unref(bs->window);
	free(bs->window_name);
	fg_pairing_store_free(bs->store);
	free(bs->names_path);
	if (bs->keys)
		explicit_bzero(bs->keys, bs->n_keys * sizeof(*bs->keys));
	free(bs->keys);
	sd_bus_unref(bs->bus);
	sd_event_unref(bs->event);
	free(bs);
	return NULL;
}

int fg_buttons_set_config(struct fg_buttons *bs, const struct fg_config *config)
{
	int r;

	r = load_keys(bs, config);
	if (r < 0)
		return log_error_errno(r, "Bluetooth: bad trusted_key, keeping the old keys: %m");
	bs->cfg = config;
	memset(bs->refused, 0, sizeof(bs->refused));
	r = sync_config_buttons(bs);
	if (r < 0)
		return r;
	if (config->bluetooth.pairing == FG_PAIRING_LOCKED && bs->window)
		window_close(bs, "locked", NULL);
	return fg_bluez_set_config(bs->bz, (struct fg_config *)config);
}

/* ---- export and import of pairings ----------------------------------------------------- */

int fg_buttons_export(struct fg_buttons *bs, char **ret, unsigned *ret_count)
{
	struct fg_pairing_export_entry *e;
	size_t n = 0, len;
	int r;

	for (struct button *b = bs->buttons; b; b = b->next)
		n += b->paired;
	e = calloc(n ? n : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	n = 0;
	for (struct button *b = bs->buttons; b; b = b->next) {
		if (!b->paired)
			continue;
		/* the counter in the export is the one on disk here */
		flush_dedup(b);
		e[n].rec = b->rec;
		e[n].dedup = b->dedup;
		if (b->alias && fg_pairing_name_is_valid(b->alias))
			snprintf(e[n].name, sizeof(e[n].name), "%s", b->alias);
		n++;
	}
	r = fg_pairing_export_format(e, n, ret, &len);
	fg_crypto_wipe(e, n * sizeof(*e));
	free(e);
	if (r < 0)
		return r;
	*ret_count = (unsigned)n;
	return 0;
}

/*
 * A name in the export must not be taken here: by a [button] section
 * other than the one that names this very button, or by a button that
 * stays as it is (one in the export gets its name from the export, and
 * with @replace the unconfigured ones not in it go).
 */
static int check_import_names(struct fg_buttons *bs, const struct fg_pairing_export_entry *e, size_t n,
			      bool replace, char *why, size_t why_size)
{
	for (size_t i = 0; i < n; i++) {
		const struct fg_button_config *c, *own;
		char a[18];

		if (!e[i].name[0])
			continue;
		fg_format_address(e[i].rec.address, a);
		own = fg_config_button_by_address(bs->cfg, e[i].rec.address);
		if (!own) {
			own = fg_config_button_by_serial(bs->cfg, e[i].rec.serial);
			if (own && own->has_address)
				own = NULL;
		}
		c = config_by_name(bs->cfg, e[i].name);
		if (c && c != own) {
			snprintf(why, why_size, "the name '%s' of %s in the export is [button %s]'s in %s",
				 e[i].name, a, c->name, bs->cfg->path);
			return -EEXIST;
		}
		for (struct button *b = bs->buttons; b; b = b->next) {
			if (!b->display || strcasecmp(b->display, e[i].name) != 0 ||
			    among(e, n, b->address) || (replace && b->paired && !b->cfg))
				continue;
			snprintf(why, why_size, "the name '%s' of %s in the export is already %s's here",
				 e[i].name, a, b->addr_str);
			return -EEXIST;
		}
	}
	return 0;
}

/* What an import needs per button, and what it takes to undo it. */
struct import_slot {
	struct button *b;
	bool created;			/* button_new() for the import */
	char *alias;			/* the export's name, until the button owns it */
	bool was_paired;
	struct fg_flic2_pairing old_rec;	/* SECRET */
	struct fg_flic2_dedup old_dedup;
};

/* Put the store back as it was for the first @n slots (best effort, logged). */
static void import_rollback(struct fg_buttons *bs, struct import_slot *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = fg_pairing_store_remove(bs->store, s[i].b->address);

		if (r < 0 && r != -ENOENT)
			log_error_errno(r, "Button %s: cannot undo its import: %m", s[i].b->addr_str);
		if (!s[i].was_paired)
			continue;
		r = fg_pairing_store_save(bs->store, &s[i].old_rec);
		if (r >= 0 && s[i].old_dedup.valid)
			r = fg_pairing_store_save_dedup(bs->store, s[i].b->address, &s[i].old_dedup);
		if (r < 0)
			log_error_errno(r, "Button %s: cannot put its pairing back after a failed import: %m",
					s[i].b->addr_str);
	}
	(void)save_names(bs);
}

/* The imported record replaces whatever the button had; @alias is taken over. */
static void button_adopt(struct button *b, const struct fg_pairing_export_entry *e, char *alias)
{
	struct fg_buttons *bs = b->bs;

	if (b->pairing) {
		/* the imported record wins over an attempt to pair it afresh */
		if (b->by_window) {
			set_error(b, "a pairing for it was imported meanwhile");
			report_pairing(bs, FG_PAIRING_FAILED, b, b->last_error);
		}
		b->pairing = false;
		pairing_attempt_over(b, "failed");
	}
	b->engine = fg_flic2_free(b->engine);
	b->retry = sd_event_source_disable_unref(b->retry);
	arm_deadline(b);
	b->paired = true;
	b->repair_needed = false;
	b->rec = e->rec;
	b->dedup = e->dedup;
	b->dedup_dirty = false;
	b->battery_mv = e->rec.battery_mv;
	b->failures = 0;
	b->backoff = RETRY_MIN_USEC;
	b->last_error[0] = '\0';
	free(b->alias);
	b->alias = alias;
	(void)button_rename(b);
	(void)fg_bluez_watch(bs->bz, b->address, true);
	log_notice("Button %s (%s) imported", b->display, b->addr_str);
	if (b->link != FG_BLUEZ_LINK_DOWN)
		/* a session on the old record: the link going down reconnects with the new one */
		(void)fg_bluez_disconnect(bs->bz, b->address);
	else
		button_connect(b, false);
}

int fg_buttons_import(struct fg_buttons *bs, const char *doc, size_t len, bool replace, char *why,
		      size_t why_size, unsigned *ret_count)
{
	struct fg_pairing_export_error perr = { 0 };
	struct fg_pairing_export_entry *e = NULL;
	struct import_slot *s = NULL;
	size_t n = 0, i;
	int r;

	r = fg_pairing_export_parse(doc, len, &perr, &e, &n);
	if (r == -EBADMSG) {
		if (perr.line)
			snprintf(why, why_size, "line %u: %s", perr.line, perr.what);
		else
			snprintf(why, why_size, "%s", perr.what);
		return r;
	}
	if (r < 0)
		return r;
	r = check_import_names(bs, e, n, replace, why, why_size);
	if (r < 0)
		goto out;

	/* everything that can run out of memory, before anything is written */
	s = calloc(n ? n : 1, sizeof(*s));
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		s[i].b = find_by_address(bs, e[i].rec.address);
		if (!s[i].b) {
			s[i].b = button_new(bs, e[i].rec.address);
			s[i].created = true;
		}
		if (!s[i].b || (e[i].name[0] && !(s[i].alias = strdup(e[i].name)))) {
			r = -ENOMEM;
			goto undo;
		}
	}

	/* the names first: undoing them is rewriting them from memory */
	r = write_names(bs, true, e, n, replace);
	if (r < 0)
		goto undo;
	for (i = 0; i < n; i++) {
		struct button *b = s[i].b;

		flush_dedup(b);
		s[i].was_paired = b->paired;
		s[i].old_rec = b->rec;
		s[i].old_dedup = b->dedup;
		/* an older pairing's counter file must not outlive it */
		r = fg_pairing_store_remove(bs->store, b->address);
		if (r == -ENOENT)
			r = 0;
		if (r >= 0)
			r = fg_pairing_store_save(bs->store, &e[i].rec);
		if (r >= 0 && e[i].dedup.valid)
			r = fg_pairing_store_save_dedup(bs->store, b->address, &e[i].dedup);
		if (r < 0) {
			log_error_errno(r, "Button %s: cannot store its imported pairing, nothing is imported: %m",
					b->addr_str);
			import_rollback(bs, s, i + 1);
			goto undo;
		}
	}

	/* on disk: now in memory, where nothing can fail any more */
	for (i = 0; i < n; i++) {
		button_adopt(s[i].b, &e[i], s[i].alias);
		s[i].alias = NULL;
	}
	if (replace) {
		struct button *b, *next;

		for (b = bs->buttons; b; b = next) {
			next = b->next;
			if (b->paired && !among(e, n, b->address))
				(void)fg_buttons_unpair(bs, b->addr_str);	/* logs */
		}
	}
	for (i = 0; i < n; i++)
		report(s[i].b);
	log_notice("Bluetooth: %zu pairing%s imported%s", n, n == 1 ? "" : "s",
		   replace ? ", the others unpaired" : "");
	*ret_count = (unsigned)n;
	r = 0;
	goto out;

undo:
	for (i = 0; s && i < n; i++) {
		free(s[i].alias);
		if (s[i].created && s[i].b)
			button_maybe_forget(s[i].b);
	}
out:
	if (s)
		fg_crypto_wipe(s, n * sizeof(*s));
	free(s);
	if (e)
		fg_crypto_wipe(e, n * sizeof(*e));
	free(e);
	return r;
}
