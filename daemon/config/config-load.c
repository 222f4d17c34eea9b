/* SPDX-License-Identifier: MIT */
/*
 * The config's adapter: finds and reads flicgate.ini for the pure parser,
 * and writes the generated text (config-doc.c) to a stream.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "config/config.h"
#include "lib/fileio.h"
#include "lib/strv.h"

static void add_error(struct fg_config_errors *errors, const char *msg)
{
	if (errors && fg_strv_push(&errors->messages, msg) == 0)
		errors->n++;
}

/*
 * What the pure checks cannot see: [system] timezone must be a file of
 * tzdata. A refused zone is dropped from @c. Returns -EINVAL if refused.
 */
static int check_system_files(struct fg_config *c, struct fg_config_errors *errors)
{
	char path[512], msg[768];
	struct stat st;

	if (!c->system.timezone)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", FG_ZONEINFO_DIR, c->system.timezone);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	snprintf(msg, sizeof(msg), "%s: system.timezone: '%s' is not a time zone of %s "
		 "(a region and a city, like Europe/Stockholm)", c->path, c->system.timezone, FG_ZONEINFO_DIR);
	add_error(errors, msg);
	free(c->system.timezone);
	c->system.timezone = NULL;
	return -EINVAL;
}

static int load(const char *path, bool partial, struct fg_config_errors *errors, struct fg_config **ret)
{
	static const char *const search[] = { FG_CONFIG_SEARCH_PATH_1, FG_CONFIG_SEARCH_PATH_2, NULL };
	char *text = NULL, msg[512];
	struct fg_config *c = NULL;
	size_t len = 0;
	int r;

	if (!path) {
		for (int i = 0; search[i]; i++) {
			r = fg_read_file(search[i], FG_CONFIG_MAX_SIZE, &text, &len);
			if (r == -ENOENT)
				continue;
			path = search[i];
			break;
		}
		if (!path)
			return -ENOENT;
	} else {
		r = fg_read_file(path, FG_CONFIG_MAX_SIZE, &text, &len);
	}
	if (r < 0) {
		if (r == -EFBIG)
			snprintf(msg, sizeof(msg), "%s: larger than %d bytes; is this really flicgate.ini?",
				 path, FG_CONFIG_MAX_SIZE);
		else
			snprintf(msg, sizeof(msg), "%s: cannot read: %s", path, strerror(-r));
		add_error(errors, msg);
		return r;
	}
	r = fg_config_parse_partial(path, text, len, errors, &c);
	free(text);
	if (!c)
		return r;
	if (check_system_files(c, errors) < 0)
		r = -EINVAL;
	if (r < 0 && !partial) {
		fg_config_unref(c);
		return r;
	}
	*ret = c;
	return r;
}

int fg_config_load(const char *path, struct fg_config_errors *errors, struct fg_config **ret)
{
	return load(path, false, errors, ret);
}

int fg_config_load_partial(const char *path, struct fg_config_errors *errors, struct fg_config **ret)
{
	return load(path, true, errors, ret);
}

/* Write @text (owned, freed here) to @f; nothing when it could not be made. */
static void write_text(FILE *f, int r, char *text)
{
	if (r < 0)
		return;
	fputs(text, f);
	free(text);
}

void fg_config_print(const struct fg_config *c, FILE *f)
{
	char *text = NULL;
	int r = fg_config_format(c, &text);

	write_text(f, r, text);
}

void fg_config_write_example(FILE *f)
{
	char *text = NULL;
	int r = fg_config_format_example(&text);

	write_text(f, r, text);
}

void fg_config_write_man(FILE *f)
{
	char *text = NULL;
	int r = fg_config_format_man(&text);

	write_text(f, r, text);
}
