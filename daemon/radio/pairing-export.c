/* SPDX-License-Identifier: MIT */
/* The export document of every pairing, for a hot-spare gateway: its format and checks (pairing-export.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/hex.h"
#include "lib/strv.h"
#include "config/config.h"
#include "radio/flic2-crypto.h"
#include "radio/pairing-export.h"
#include "radio/pairing-codec.h"

#define HEADER		"flicgate-pairings 1\n"
#define M_PAIRING	"--- pairing "
#define M_DEDUP		"--- dedup"
#define M_END		"--- end"
#define M_SHA256	"--- sha256 "

bool fg_pairing_name_is_valid(const char *name)
{
	uint8_t a[6];

	/* a name that reads as an address would make "unpair NAME" ambiguous */
	return fg_name_is_valid(name) && strlen(name) <= FG_PAIRING_NAME_MAX &&
	       fg_parse_address(name, a) < 0;
}

/* ---- format ------------------------------------------------------------------ */

static int cmp_address(const void *a, const void *b)
{
	const struct fg_pairing_export_entry *const *x = a, *const *y = b;

	return memcmp((*x)->rec.address, (*y)->rec.address, 6);
}

/* The two records of one entry as text (SECRET); dedup NULL when none. */
struct block {
	char *rec, *dedup;
	size_t rec_len, dedup_len;
};

static void blocks_free(struct block *bl, size_t n)
{
	for (size_t i = 0; bl && i < n; i++) {
		if (bl[i].rec)
			fg_crypto_wipe(bl[i].rec, bl[i].rec_len);
		free(bl[i].rec);
		free(bl[i].dedup);
	}
	free(bl);
}

int fg_pairing_export_format(const struct fg_pairing_export_entry *entries, size_t n, char **ret,
			     size_t *ret_len)
{
	const struct fg_pairing_export_entry **sorted = NULL;
	struct block *bl = NULL;
	uint8_t digest[FG_CRYPTO_SHA256_LEN];
	char *doc = NULL, *p, comment[128];
	size_t size, len;
	int r = 0;

	if (n > FG_PAIRING_EXPORT_MAX_BUTTONS)
		return -E2BIG;
	sorted = calloc(n ? n : 1, sizeof(*sorted));
	bl = calloc(n ? n : 1, sizeof(*bl));
	if (!sorted || !bl) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &entries[i];
	qsort(sorted, n, sizeof(*sorted), cmp_address);

	/*
	 * Sized first, written once: a growing buffer would leave copies of
	 * the keys behind in the memory it gave back.
	 */
	snprintf(comment, sizeof(comment),
		 "# SECRET: the pairing keys of %zu Flic 2 button%s. Keep this file mode 0600.\n",
		 n, n == 1 ? "" : "s");
	size = strlen(HEADER) + strlen(comment);
	for (size_t i = 0; i < n; i++) {
		const struct fg_pairing_export_entry *e = sorted[i];

		if ((e->name[0] && !fg_pairing_name_is_valid(e->name)) ||
		    (i > 0 && memcmp(sorted[i - 1]->rec.address, e->rec.address, 6) == 0)) {
			r = -EINVAL;
			goto out;
		}
		r = fg_pairing_format(&e->rec, &bl[i].rec, &bl[i].rec_len);
		if (r < 0)
			goto out;
		if (e->dedup.valid) {
			r = fg_pairing_format_dedup(&e->dedup, &bl[i].dedup, &bl[i].dedup_len);
			if (r < 0)
				goto out;
		}
		/* "--- pairing " ADDR " " NAME "\n" */
		size += strlen(M_PAIRING) + 17 + 1 + (e->name[0] ? strlen(e->name) : 1) + 1;
		size += bl[i].rec_len;
		if (bl[i].dedup)
			size += strlen(M_DEDUP) + 1 + bl[i].dedup_len;
		size += strlen(M_END) + 1;
	}
	size += strlen(M_SHA256) + 2 * FG_CRYPTO_SHA256_LEN + 1;
	if (size > FG_PAIRING_EXPORT_MAX_SIZE) {
		r = -E2BIG;
		goto out;
	}
	doc = malloc(size + 1);
	if (!doc) {
		r = -ENOMEM;
		goto out;
	}
	p = doc;
#define PUT(s, l) do { memcpy(p, (s), (l)); p += (l); } while (0)
#define PUTS(s) PUT((s), strlen(s))
	PUTS(HEADER);
	PUTS(comment);
	for (size_t i = 0; i < n; i++) {
		const struct fg_pairing_export_entry *e = sorted[i];
		char addr[18];

		fg_format_address(e->rec.address, addr);
		PUTS(M_PAIRING);
		PUTS(addr);
		PUTS(" ");
		PUTS(e->name[0] ? e->name : "-");
		PUTS("\n");
		PUT(bl[i].rec, bl[i].rec_len);
		if (bl[i].dedup) {
			PUTS(M_DEDUP "\n");
			PUT(bl[i].dedup, bl[i].dedup_len);
		}
		PUTS(M_END "\n");
	}
	len = (size_t)(p - doc);
	r = fg_crypto_sha256(doc, len, digest);
	if (r < 0)
		goto out;
	PUTS(M_SHA256);
	for (size_t i = 0; i < sizeof(digest); i++) {
		snprintf(p, 3, "%02x", digest[i]);
		p += 2;
	}
	PUTS("\n");
#undef PUTS
#undef PUT
	*p = '\0';
	*ret_len = (size_t)(p - doc);
	*ret = doc;
	doc = NULL;
out:
	free(doc);
	blocks_free(bl, n);
	free(sorted);
	return r;
}

/* ---- parse ---------------------------------------------------------------------- */

static int refuse(struct fg_pairing_export_error *err, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(struct fg_pairing_export_error *err, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->what, sizeof(err->what), fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static bool line_is(const char *line, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(line, word, len) == 0;
}

static bool line_starts(const char *line, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);

	return len >= pl && memcmp(line, prefix, pl) == 0;
}

/*
 * The digest line must be the document's last line and match every byte
 * before it. Checked before anything else, so that damage is reported as
 * damage and not as whatever it happened to break.
 */
static int check_digest(const char *text, size_t len, struct fg_pairing_export_error *err)
{
	uint8_t want[FG_CRYPTO_SHA256_LEN], got[FG_CRYPTO_SHA256_LEN];
	size_t end = len, start;
	unsigned lines = 1;
	int r;

	if (end > 0 && text[end - 1] == '\n')
		end--;
	start = end;
	while (start > 0 && text[start - 1] != '\n')
		start--;
	for (size_t i = 0; i < start; i++)
		lines += text[i] == '\n';
	if (!line_starts(text + start, end - start, M_SHA256))
		return refuse(err, lines, "cut short: the last line is not the '" M_SHA256 "…' line an export ends with");
	if (fg_unhex(text + start + strlen(M_SHA256), end - start - strlen(M_SHA256), want,
			    sizeof(want)) < 0)
		return refuse(err, lines, "the SHA-256 line is malformed");
	r = fg_crypto_sha256(text, start, got);
	if (r < 0)
		return r;
	if (!fg_crypto_equal(want, got, sizeof(got)))
		return refuse(err, 0, "damaged or edited after export: its SHA-256 does not match");
	return 0;
}

enum where { OUTSIDE, IN_RECORD, IN_DEDUP };

int fg_pairing_export_parse(const char *text, size_t len, struct fg_pairing_export_error *err,
			    struct fg_pairing_export_entry **ret, size_t *ret_n)
{
	struct fg_pairing_export_entry *entries = NULL, *e = NULL;
	size_t n = 0, pos, rec_start = 0, dedup_start = 0;
	unsigned lineno = 1, block_line = 0;
	enum where where = OUTSIDE;
	int r = 0;

	if (len > FG_PAIRING_EXPORT_MAX_SIZE)
		return refuse(err, 0, "larger than an export can be (%u bytes)", FG_PAIRING_EXPORT_MAX_SIZE);
	if (len < strlen(HEADER) || memcmp(text, HEADER, strlen(HEADER)) != 0)
		return refuse(err, 1, "not a flicgate pairing export (the first line is not '%.*s')",
			      (int)strlen(HEADER) - 1, HEADER);
	if (memchr(text, '\0', len))
		return refuse(err, 0, "not text (it holds a NUL byte)");
	r = check_digest(text, len, err);
	if (r < 0)
		return r;

	for (pos = strlen(HEADER); pos < len && r >= 0;) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		size_t next = pos + ll + (nl ? 1 : 0);

		lineno++;
		if (line_starts(line, ll, M_SHA256)) {
			if (next < len)
				r = refuse(err, lineno, "'" M_SHA256 "…' before the end");
			else if (where != OUTSIDE)
				r = refuse(err, lineno, "the block of line %u has no '" M_END "'", block_line);
			break;
		} else if (line_starts(line, ll, M_PAIRING)) {
			const char *a = line + strlen(M_PAIRING), *name;
			size_t rest = ll - strlen(M_PAIRING), nl_len;
			struct fg_pairing_export_entry *grown;
			char addr[18];

			if (where != OUTSIDE) {
				r = refuse(err, lineno, "a new block before the '" M_END "' of line %u", block_line);
				break;
			}
			if (n >= FG_PAIRING_EXPORT_MAX_BUTTONS) {
				r = refuse(err, lineno, "more than %d buttons", FG_PAIRING_EXPORT_MAX_BUTTONS);
				break;
			}
			grown = realloc(entries, (n + 1) * sizeof(*entries));
			if (!grown) {
				r = -ENOMEM;
				break;
			}
			entries = grown;
			e = &entries[n++];
			memset(e, 0, sizeof(*e));
			if (rest < 19 || a[17] != ' ') {
				r = refuse(err, lineno, "expected '" M_PAIRING "ADDRESS NAME'");
				break;
			}
			memcpy(addr, a, 17);
			addr[17] = '\0';
			name = a + 18;
			nl_len = rest - 18;
			if (addr[2] != ':' || fg_parse_address(addr, e->rec.address) < 0) {
				r = refuse(err, lineno, "'%s' is not an address like 80:E4:DA:70:12:34", addr);
				break;
			}
			if (!(nl_len == 1 && name[0] == '-')) {
				if (nl_len > FG_PAIRING_NAME_MAX) {
					r = refuse(err, lineno, "the name is longer than %d", FG_PAIRING_NAME_MAX);
					break;
				}
				memcpy(e->name, name, nl_len);
				e->name[nl_len] = '\0';
				if (!fg_pairing_name_is_valid(e->name)) {
					r = refuse(err, lineno, "'%s' is not a valid button name", e->name);
					break;
				}
			}
			for (size_t i = 0; i + 1 < n && r >= 0; i++) {
				if (memcmp(entries[i].rec.address, e->rec.address, 6) == 0)
					r = refuse(err, lineno, "button %s appears twice", addr);
				else if (e->name[0] && strcasecmp(entries[i].name, e->name) == 0)
					r = refuse(err, lineno, "two buttons are called '%s'", e->name);
			}
			where = IN_RECORD;
			rec_start = next;
			block_line = lineno;
		} else if (line_is(line, ll, M_DEDUP)) {
			uint8_t want[6];

			if (where != IN_RECORD) {
				r = refuse(err, lineno, "'" M_DEDUP "' outside a button's block");
				break;
			}
			memcpy(want, e->rec.address, 6);
			if (fg_pairing_parse(text + rec_start, pos - rec_start, &e->rec) < 0 ||
			    memcmp(want, e->rec.address, 6) != 0) {
				r = refuse(err, block_line, "the pairing record of this block does not parse");
				break;
			}
			where = IN_DEDUP;
			dedup_start = next;
		} else if (line_is(line, ll, M_END)) {
			uint8_t want[6];

			if (where == OUTSIDE) {
				r = refuse(err, lineno, "'" M_END "' outside a button's block");
				break;
			}
			memcpy(want, e->rec.address, 6);
			if (where == IN_RECORD &&
			    (fg_pairing_parse(text + rec_start, pos - rec_start, &e->rec) < 0 ||
			     memcmp(want, e->rec.address, 6) != 0)) {
				r = refuse(err, block_line, "the pairing record of this block does not parse");
				break;
			}
			if (where == IN_DEDUP &&
			    fg_pairing_parse_dedup(text + dedup_start, pos - dedup_start, &e->dedup) < 0) {
				r = refuse(err, block_line, "the event counter of this block does not parse");
				break;
			}
			where = OUTSIDE;
		} else if (line_starts(line, ll, "---")) {
			r = refuse(err, lineno, "unknown marker line");
			break;
		} else if (where == OUTSIDE && ll > 0 && line[0] != '#') {
			r = refuse(err, lineno, "text outside a button's block");
			break;
		}
		pos = next;
	}
	if (r < 0) {
		if (entries)
			fg_crypto_wipe(entries, n * sizeof(*entries));
		free(entries);
		return r;
	}
	*ret = entries;
	*ret_n = n;
	return 0;
}
