/* SPDX-License-Identifier: MIT */
/*
 * The config's adapter: finds and reads flicgate.ini for the pure parser,
 * and writes the generated text (config-doc.c) to a stream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/fileio.h"
#include "lib/strv.h"

int fg_config_load(const char *path, struct fg_config_errors *errors, struct fg_config **ret)
{
	static const char *const search[] = { FG_CONFIG_SEARCH_PATH_1, FG_CONFIG_SEARCH_PATH_2, NULL };
	char *text = NULL, msg[512];
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
		if (errors && fg_strv_push(&errors->messages, msg) == 0)
			errors->n++;
		return r;
	}
	r = fg_config_parse(path, text, len, errors, ret);
	free(text);
	return r;
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
