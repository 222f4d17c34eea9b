/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "store.h"

#define STORE_MAGIC "flicgate-button 1"
#define STORE_MAX_SIZE 4096

struct fg_store {
	char *dir;
};

int fg_store_open(const char *state_dir, struct fg_store **ret)
{
	struct fg_store *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (asprintf(&s->dir, "%s/buttons", state_dir) < 0) {
		free(s);
		return -ENOMEM;
	}
	r = fg_mkdir_p(s->dir, 0700);
	if (r < 0) {
		fg_store_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct fg_store *fg_store_free(struct fg_store *s)
{
	if (!s)
		return NULL;
	free(s->dir);
	free(s);
	return NULL;
}

static void hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly @n bytes of hex (2n digits); -EBADMSG otherwise. */
static int hex_decode(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Variable-length hex into a NUL-terminated string of at most @size - 1 bytes. */
static int hex_decode_str(const char *s, char *out, size_t size)
{
	size_t n = strlen(s) / 2;

	if (strlen(s) % 2 || n >= size)
		return -EBADMSG;
	if (hex_decode(s, (uint8_t *)out, n) < 0)
		return -EBADMSG;
	out[n] = 0;
	if (memchr(out, 0, n))
		return -EBADMSG;
	return 0;
}

int fg_store_format(const struct fg_store_entry *e, char **ret, size_t *ret_len)
{
	const struct fg_flic2_pairing *p = &e->pairing;
	char addr[18], key[33], uuid[33], idk[65], name[2 * sizeof(p->name) + 1];
	char *text = NULL;
	int n;

	fg_format_address(p->address, addr);
	hex_encode(p->pairing_key, 16, key);
	hex_encode(p->uuid, 16, uuid);
	hex_encode(p->identity_key, 32, idk);
	/* the button's own name is arbitrary UTF-8: hex keeps the file line-safe */
	hex_encode((const uint8_t *)p->name, strnlen(p->name, sizeof(p->name) - 1), name);
	n = asprintf(&text,
		     STORE_MAGIC "\n"
		     "address=%s\n"
		     "pairing_id=%" PRIu32 "\n"
		     "pairing_key=%s\n"
		     "uuid=%s\n"
		     "serial=%s\n"
		     "name=%s\n"
		     "firmware=%" PRIu32 "\n"
		     "battery_mv=%u\n"
		     "identity_key=%s\n"
		     "dedup=%d %" PRIu32 " %" PRIu32 "\n"
		     "alias=%s\n",
		     addr, p->pairing_id, key, uuid, p->serial, name, p->firmware_version,
		     (unsigned)p->battery_mv, idk, e->dedup.valid ? 1 : 0, e->dedup.boot_id,
		     e->dedup.event_count, e->alias ? e->alias : "");
	explicit_bzero(key, sizeof(key));
	if (n < 0)
		return -ENOMEM;
	*ret = text;
	*ret_len = (size_t)n;
	return 0;
}

static int parse_u32(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -EBADMSG;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EBADMSG;
	*ret = (uint32_t)v;
	return 0;
}

enum {
	HAVE_ADDRESS = 1 << 0,
	HAVE_ID = 1 << 1,
	HAVE_KEY = 1 << 2,
	HAVE_ALL = HAVE_ADDRESS | HAVE_ID | HAVE_KEY,
};

static int parse_line(struct fg_store_entry *e, char *line, unsigned *have)
{
	struct fg_flic2_pairing *p = &e->pairing;
	char *v = strchr(line, '=');
	uint32_t u;
	int r = 0;

	if (!v)
		return -EBADMSG;
	*v++ = 0;
	if (strcmp(line, "address") == 0) {
		r = fg_parse_address(v, p->address) < 0 ? -EBADMSG : 0;
		*have |= HAVE_ADDRESS;
	} else if (strcmp(line, "pairing_id") == 0) {
		r = parse_u32(v, &p->pairing_id);
		*have |= HAVE_ID;
	} else if (strcmp(line, "pairing_key") == 0) {
		r = hex_decode(v, p->pairing_key, 16);
		*have |= HAVE_KEY;
	} else if (strcmp(line, "uuid") == 0) {
		r = hex_decode(v, p->uuid, 16);
	} else if (strcmp(line, "serial") == 0) {
		if (strlen(v) >= sizeof(p->serial))
			return -EBADMSG;
		for (const char *c = v; *c; c++)
			if (!isprint((unsigned char)*c))
				return -EBADMSG;
		strcpy(p->serial, v);
	} else if (strcmp(line, "name") == 0) {
		r = hex_decode_str(v, p->name, sizeof(p->name));
	} else if (strcmp(line, "firmware") == 0) {
		r = parse_u32(v, &p->firmware_version);
	} else if (strcmp(line, "battery_mv") == 0) {
		r = parse_u32(v, &u);
		if (r >= 0 && u > UINT16_MAX)
			r = -EBADMSG;
		p->battery_mv = (uint16_t)u;
	} else if (strcmp(line, "identity_key") == 0) {
		r = hex_decode(v, p->identity_key, 32);
	} else if (strcmp(line, "dedup") == 0) {
		unsigned valid;
		char extra;

		if (sscanf(v, "%u %" SCNu32 " %" SCNu32 " %c", &valid, &e->dedup.boot_id,
			   &e->dedup.event_count, &extra) != 3 || valid > 1)
			return -EBADMSG;
		e->dedup.valid = valid;
	} else if (strcmp(line, "alias") == 0) {
		if (*v && !fg_name_is_valid(v))
			return -EBADMSG;
		free(e->alias);
		e->alias = *v ? strdup(v) : NULL;
		if (*v && !e->alias)
			return -ENOMEM;
	}
	/* unknown keys are kept for forward compatibility: ignored */
	return r;
}

int fg_store_parse(const char *text, size_t len, struct fg_store_entry *ret)
{
	struct fg_store_entry e = { 0 };
	unsigned have = 0;
	char *copy, *line, *save = NULL;
	int r = 0;

	if (len > STORE_MAX_SIZE || memchr(text, 0, len))
		return -EBADMSG;
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	line = strtok_r(copy, "\n", &save);
	if (!line || strcmp(line, STORE_MAGIC) != 0)
		r = -EBADMSG;
	while (r >= 0 && (line = strtok_r(NULL, "\n", &save)))
		r = parse_line(&e, line, &have);
	explicit_bzero(copy, len);
	free(copy);
	if (r >= 0 && (have & HAVE_ALL) != HAVE_ALL)
		r = -EBADMSG;
	if (r < 0) {
		explicit_bzero(&e.pairing, sizeof(e.pairing));
		free(e.alias);
		return r;
	}
	*ret = e;
	return 0;
}

static int entry_path(const struct fg_store *s, const uint8_t a[6], char **ret)
{
	if (asprintf(ret, "%s/%02X%02X%02X%02X%02X%02X", s->dir, a[0], a[1], a[2], a[3], a[4], a[5]) < 0)
		return -ENOMEM;
	return 0;
}

int fg_store_save(struct fg_store *s, const struct fg_store_entry *e)
{
	char *path = NULL, *text = NULL;
	size_t len;
	int r;

	r = entry_path(s, e->pairing.address, &path);
	if (r >= 0)
		r = fg_store_format(e, &text, &len);
	if (r >= 0)
		r = fg_write_file_atomic(path, text, len, 0600);
	if (text)
		explicit_bzero(text, len);
	free(text);
	free(path);
	return r;
}

int fg_store_remove(struct fg_store *s, const uint8_t address[6])
{
	char *path = NULL;
	int r;

	r = entry_path(s, address, &path);
	if (r < 0)
		return r;
	r = unlink(path) < 0 ? -errno : 0;
	if (r == 0)
		r = fg_fsync_dir_of(path);
	free(path);
	return r;
}

void fg_store_entries_free(struct fg_store_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		explicit_bzero(&e[i].pairing, sizeof(e[i].pairing));
		free(e[i].alias);
	}
	free(e);
}

static bool is_entry_name(const char *n)
{
	if (strlen(n) != 12)
		return false;
	for (int i = 0; i < 12; i++)
		if (!isxdigit((unsigned char)n[i]))
			return false;
	return true;
}

int fg_store_load(struct fg_store *s, struct fg_store_entry **ret, size_t *ret_n)
{
	struct fg_store_entry *list = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(s->dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct fg_store_entry e, *grown;
		char *path = NULL, *text = NULL;
		size_t len;

		if (!is_entry_name(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", s->dir, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		r = fg_read_file(path, STORE_MAX_SIZE, &text, &len);
		if (r >= 0)
			r = fg_store_parse(text, len, &e);
		if (text)
			explicit_bzero(text, len);
		free(text);
		if (r == -EBADMSG || r == -EFBIG) {
			char *aside = NULL;

			/* keep it for a human, out of the way of the next start */
			log_error("Pairing file %s is damaged; moved aside, pair that button again", path);
			if (asprintf(&aside, "%s.corrupt", path) >= 0 && rename(path, aside) < 0)
				log_error_errno(-errno, "Cannot move %s aside: %m", path);
			free(aside);
			free(path);
			r = 0;
			continue;
		}
		free(path);
		if (r < 0)
			break;
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (!grown) {
			explicit_bzero(&e.pairing, sizeof(e.pairing));
			free(e.alias);
			r = -ENOMEM;
			break;
		}
		list = grown;
		list[n++] = e;
	}
	closedir(d);
	if (r < 0) {
		fg_store_entries_free(list, n);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}
