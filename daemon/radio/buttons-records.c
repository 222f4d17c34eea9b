/* SPDX-License-Identifier: MIT */
/*
 * Operations on the pairing records: unpair, rename, and the export and
 * import of every pairing for a hot-spare gateway (pairing-export.h).
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
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/timeutil.h"

int fg_buttons_unpair(struct fg_buttons *bs, const char *which)
{
	struct button *b = btn_find_by_name(bs, which);
	int r;

	if (!b || (!b->paired && !b->repair_needed && !b->pairing))
		return -ENOENT;
	r = fg_pairing_store_remove(bs->store, b->address);
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "Button %s: cannot remove its pairing: %m", b->display);
	if (b->pairing && b->by_window) {
		/* someone gave up on the window's attempt: it ends the window */
		btn_set_error(b, "unpaired while it was being paired");
		btn_report_pairing(bs, FG_PAIRING_FAILED, b, b->last_error);
		btn_pairing_attempt_over(b, "failed");
	}
	log_notice("Button %s (%s) unpaired", b->display, b->addr_str);
	b->paired = b->pairing = b->repair_needed = false;
	explicit_bzero(&b->rec, sizeof(b->rec));
	b->dedup = (struct fg_flic2_dedup){ 0 };
	if (b->alias) {
		free(b->alias);
		b->alias = NULL;
		(void)btn_save_names(bs);
	}
	b->engine = fg_flic2_free(b->engine);
	btn_cancel_retry(b);
	btn_arm_deadline(b);
	/* also drops the link and BlueZ's copy of the device */
	(void)fg_bluez_watch(bs->bz, b->address, false);
	(void)fg_bluez_remove_device(bs->bz, b->address);
	fg_link_forget(&b->lp);
	(void)btn_rename(b);
	btn_report(b);
	btn_maybe_forget(b);
	return 0;
}

int fg_buttons_rename(struct fg_buttons *bs, const char *which, const char *name)
{
	struct button *b = btn_find_by_name(bs, which), *other;
	char *n, *old;
	int r;

	if (!b || !b->paired)
		return -ENOENT;
	if (b->cfg)
		return -EPERM;
	if (!fg_pairing_name_is_valid(name))
		return -EINVAL;
	other = btn_find_by_name(bs, name);
	if ((other && other != b) || btn_config_by_name(bs->cfg, name))
		return -EEXIST;
	n = strdup(name);
	if (!n)
		return -ENOMEM;
	/* on disk first: a name that would be gone after a restart is no rename */
	old = b->alias;
	b->alias = n;
	r = btn_save_names(bs);
	if (r < 0) {
		b->alias = old;
		free(n);
		return r;
	}
	free(old);
	(void)btn_rename(b);
	log_notice("Button %s (%s) renamed", b->display, b->addr_str);
	btn_report(b);
	return 0;
}

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
		(void)btn_flush_dedup(b);
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
		c = btn_config_by_name(bs->cfg, e[i].name);
		if (c && c != own) {
			snprintf(why, why_size, "the name '%s' of %s in the export is [button %s]'s in %s",
				 e[i].name, a, c->name, bs->cfg->path);
			return -EEXIST;
		}
		for (struct button *b = bs->buttons; b; b = b->next) {
			if (!b->display || strcasecmp(b->display, e[i].name) != 0 ||
			    btn_among(e, n, b->address) || (replace && b->paired && !b->cfg))
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
	bool created;			/* btn_new() for the import */
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
	(void)btn_save_names(bs);
}

/* The imported record replaces whatever the button had; @alias is taken over. */
static void button_adopt(struct button *b, const struct fg_pairing_export_entry *e, char *alias)
{
	struct fg_buttons *bs = b->bs;

	if (b->pairing) {
		/* the imported record wins over an attempt to pair it afresh */
		if (b->by_window) {
			btn_set_error(b, "a pairing for it was imported meanwhile");
			btn_report_pairing(bs, FG_PAIRING_FAILED, b, b->last_error);
		}
		b->pairing = false;
		btn_pairing_attempt_over(b, "failed");
	}
	b->engine = fg_flic2_free(b->engine);
	btn_cancel_retry(b);
	btn_arm_deadline(b);
	b->paired = true;
	b->repair_needed = false;
	b->rec = e->rec;
	b->dedup = b->dedup_durable = e->dedup;
	/*
	 * The import wrote it beside the record (all or nothing, with the
	 * records); the owner's journal, which wins at the next start, gets
	 * it too. The file goes at that start.
	 */
	b->dedup_dirty = e->dedup.valid;
	(void)btn_flush_dedup(b);
	b->battery_mv = e->rec.battery_mv;
	b->failures = 0;
	fg_link_reset(&b->lp);
	b->last_error[0] = '\0';
	free(b->alias);
	b->alias = alias;
	(void)btn_rename(b);
	(void)fg_bluez_watch(bs->bz, b->address, true);
	log_notice("Button %s (%s) imported", b->display, b->addr_str);
	if (b->link != FG_BLUEZ_LINK_DOWN)
		/* a session on the old record: the link going down reconnects with the new one */
		(void)fg_bluez_disconnect(bs->bz, b->address);
	else
		btn_connect(b, false, false);
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
		s[i].b = btn_find_by_address(bs, e[i].rec.address);
		if (!s[i].b) {
			s[i].b = btn_new(bs, e[i].rec.address);
			s[i].created = true;
		}
		if (!s[i].b || (e[i].name[0] && !(s[i].alias = strdup(e[i].name)))) {
			r = -ENOMEM;
			goto undo;
		}
	}

	/* the names first: undoing them is rewriting them from memory */
	r = btn_write_names(bs, true, e, n, replace);
	if (r < 0)
		goto undo;
	for (i = 0; i < n; i++) {
		struct button *b = s[i].b;

		(void)btn_flush_dedup(b);
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
			if (b->paired && !btn_among(e, n, b->address))
				(void)fg_buttons_unpair(bs, b->addr_str);	/* logs */
		}
	}
	for (i = 0; i < n; i++)
		btn_report(s[i].b);
	log_notice("Bluetooth: %zu pairing%s imported%s", n, n == 1 ? "" : "s",
		   replace ? ", the others unpaired" : "");
	*ret_count = (unsigned)n;
	r = 0;
	goto out;

undo:
	for (i = 0; s && i < n; i++) {
		free(s[i].alias);
		if (s[i].created && s[i].b)
			btn_maybe_forget(s[i].b);
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
