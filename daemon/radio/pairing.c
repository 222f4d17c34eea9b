/* SPDX-License-Identifier: MIT */
/* The pairing store: the files of <state_dir>/pairings (pairing.h); their text is pairing-codec.c. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/statefile.h"
#include "lib/hex.h"
#include "radio/flic2-crypto.h"
#include "radio/pairing.h"

#define SUFFIX_PAIRING ".pairing"
#define SUFFIX_EVENTS ".events"

struct fg_pairing_store {
	char *dir;
};

const char *fg_pairing_store_dir(const struct fg_pairing_store *s)
{
	return s->dir;
}

static int path_of(const struct fg_pairing_store *s, const uint8_t a[6], const char *suffix,
		   char path[PATH_MAX])
{
	int n = snprintf(path, PATH_MAX, "%s/%02X%02X%02X%02X%02X%02X%s", s->dir, a[0], a[1],
			 a[2], a[3], a[4], a[5], suffix);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* "AABBCCDDEEFF" + @suffix, exactly; fills @ret. */
static bool name_to_address(const char *name, const char *suffix, uint8_t ret[6])
{
	size_t len = strlen(name), slen = strlen(suffix);

	if (len != 12 + slen || strcmp(name + 12, suffix) != 0)
		return false;
	/* only what path_of() writes: upper case */
	for (size_t i = 0; i < 12; i++)
		if (name[i] >= 'a')
			return false;
	return fg_unhex(name, 12, ret, 6) == 0;
}

/* An interrupted fg_write_file_atomic() leaves "<file>.tmp.XXXXXX" behind. */
static void remove_stale_temps(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX];

		if (!strstr(de->d_name, ".tmp."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
}

int fg_pairing_store_open(const char *state_dir, struct fg_pairing_store **ret)
{
	struct fg_pairing_store *s;
	int r;

	if (!state_dir || !*state_dir)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (asprintf(&s->dir, "%s/pairings", state_dir) < 0) {
		free(s);
		return -ENOMEM;
	}
	/* keys live here: the directory is ours alone (0700), never a link */
	r = fg_statefile_mkdir(s->dir);
	if (r < 0) {
		fg_pairing_store_free(s);
		return r;
	}
	remove_stale_temps(s->dir);
	*ret = s;
	return 0;
}

struct fg_pairing_store *fg_pairing_store_free(struct fg_pairing_store *s)
{
	if (!s)
		return NULL;
	free(s->dir);
	free(s);
	return NULL;
}

/* Write @text (which holds secrets: wiped and freed here) to the file of @a. */
static int write_record(struct fg_pairing_store *s, const uint8_t a[6], const char *suffix,
			char *text, size_t len)
{
	char path[PATH_MAX];
	int r = path_of(s, a, suffix, path);

	if (r == 0)
		r = fg_statefile_write(path, text, len, 0600);
	fg_crypto_wipe(text, len);
	free(text);
	return r;
}

/* Read the file of @a; *ret_text owned by the caller (wipe, then free). */
static int read_record(struct fg_pairing_store *s, const uint8_t a[6], const char *suffix,
		       char **ret_text, size_t *ret_len)
{
	char path[PATH_MAX];
	int r = path_of(s, a, suffix, path);

	if (r < 0)
		return r;
	r = fg_statefile_read(path, FG_PAIRING_FILE_MAX, ret_text, ret_len);
	return r == -EFBIG ? -EBADMSG : r;
}

int fg_pairing_store_save(struct fg_pairing_store *s, const struct fg_flic2_pairing *p)
{
	char *text;
	size_t len;
	int r = fg_pairing_format(p, &text, &len);

	if (r < 0)
		return r;
	return write_record(s, p->address, SUFFIX_PAIRING, text, len);
}

int fg_pairing_store_load(struct fg_pairing_store *s, const uint8_t address[6],
			  struct fg_flic2_pairing *ret)
{
	struct fg_flic2_pairing p;
	char *text;
	size_t len;
	int r = read_record(s, address, SUFFIX_PAIRING, &text, &len);

	if (r < 0)
		return r;
	r = fg_pairing_parse(text, len, &p);
	fg_crypto_wipe(text, len);
	free(text);
	/* a record copied under another button's name is not that button's */
	if (r == 0 && memcmp(p.address, address, 6) != 0)
		r = -EBADMSG;
	if (r == 0)
		*ret = p;
	fg_crypto_wipe(&p, sizeof(p));
	return r;
}

static int cmp_address(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

int fg_pairing_store_list(struct fg_pairing_store *s, uint8_t (**ret_addresses)[6],
			  size_t *ret_n)
{
	uint8_t (*list)[6] = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	d = opendir(s->dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint8_t a[6];

		if (!name_to_address(de->d_name, SUFFIX_PAIRING, a))
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			void *nl = realloc(list, ncap * sizeof(*list));

			if (!nl) {
				free(list);
				closedir(d);
				return -ENOMEM;
			}
			list = nl;
			cap = ncap;
		}
		memcpy(list[n++], a, 6);
	}
	closedir(d);
	if (n > 1)
		qsort(list, n, sizeof(*list), cmp_address);
	*ret_addresses = list;
	*ret_n = n;
	return 0;
}

int fg_pairing_store_remove(struct fg_pairing_store *s, const uint8_t address[6])
{
	char path[PATH_MAX];
	bool removed = false;
	int r;

	/* the key first: a half-removed button must not stay usable */
	for (size_t i = 0; i < 2; i++) {
		r = path_of(s, address, i == 0 ? SUFFIX_PAIRING : SUFFIX_EVENTS, path);
		if (r < 0)
			return r;
		if (unlink(path) == 0)
			removed = true;
		else if (errno != ENOENT)
			return -errno;
	}
	if (!removed)
		return -ENOENT;
	return fg_fsync_dir_of(path);
}

int fg_pairing_store_remove_dedup(struct fg_pairing_store *s, const uint8_t address[6])
{
	char path[PATH_MAX];
	int r = path_of(s, address, SUFFIX_EVENTS, path);

	if (r < 0)
		return r;
	if (unlink(path) < 0)
		return -errno;
	return fg_fsync_dir_of(path);
}

int fg_pairing_store_save_dedup(struct fg_pairing_store *s, const uint8_t address[6],
				const struct fg_flic2_dedup *d)
{
	char *text;
	size_t len;
	int r = fg_pairing_format_dedup(d, &text, &len);

	if (r < 0)
		return r;
	return write_record(s, address, SUFFIX_EVENTS, text, len);
}

int fg_pairing_store_load_dedup(struct fg_pairing_store *s, const uint8_t address[6],
				struct fg_flic2_dedup *ret)
{
	char *text;
	size_t len;
	int r = read_record(s, address, SUFFIX_EVENTS, &text, &len);

	if (r < 0)
		return r;
	r = fg_pairing_parse_dedup(text, len, ret);
	free(text);
	return r;
}
