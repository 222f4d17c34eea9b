/* SPDX-License-Identifier: MIT */
/* flicgatectl import: load pairing records from a file or stdin. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"
#include "lib/fileio.h"

#define PAIRINGS_MAX_SIZE (1024 * 1024)

static int read_input(const char *path, char **ret, size_t *ret_len, bool *ret_world_readable)
{
	struct stat st;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int r;

	*ret_world_readable = false;
	if (strcmp(path, "-") != 0) {
		r = fg_read_file(path, PAIRINGS_MAX_SIZE, ret, ret_len);
		if (r >= 0 && stat(path, &st) == 0 && (st.st_mode & 0077))
			*ret_world_readable = true;
		return r;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > PAIRINGS_MAX_SIZE + 8192) {
				free(buf);
				return -EFBIG;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t got = read(STDIN_FILENO, buf + len, cap - len - 1);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			free(buf);
			return r;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > PAIRINGS_MAX_SIZE) {
			free(buf);
			return -EFBIG;
		}
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = 0;
	*ret = buf;
	*ret_len = len;
	return 0;
}

int cmd_import(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char *doc = NULL, text[200];
	size_t len;
	uint32_t count = 0;
	bool exposed;
	int r;

	r = read_input(args[0], &doc, &len, &exposed);
	if (r < 0)
		return ctl_fail(c, EXIT_FAILURE_, "cannot read %s: %s", args[0], strerror(-r));
	if (strlen(doc) != len) {
		free(doc);
		return ctl_fail(c, EXIT_FAILURE_, "%s is not a pairing export (it is not text)", args[0]);
	}
	if (exposed)
		fprintf(stderr, "flicgatectl: warning: %s can be read by other users, but it holds pairing keys; chmod 600 it or delete it\n",
			args[0]);
	r = ctl_call_gateway(c, FG_DBUS_GW_IMPORT_PAIRINGS, &reply, &e, "sb", doc, (int)c->replace);
	if (r >= 0)
		r = sd_bus_message_read(reply, "u", &count);
	sd_bus_message_unref(reply);
	/* the daemon has its copy; ours goes */
	explicit_bzero(doc, len);
	free(doc);
	if (r == -EINVAL && !sd_bus_error_is_set(&e))
		return ctl_fail(c, EXIT_FAILURE_, "%s is not a pairing export (not UTF-8 text)", args[0]);
	if (r < 0)
		return ctl_bus_error(c, &e, r, "Cannot import the pairings");
	if (c->json) {
		struct fg_json *j = ctl_json_begin(c);

		fg_json_begin_object(j);
		fg_json_kv_uint(j, "count", count);
		fg_json_kv_bool(j, "replaced", c->replace);
		fg_json_end_object(j);
		return ctl_json_end(c, j);
	}
	snprintf(text, sizeof(text), "Imported %u pairing record%s%s.", count, count == 1 ? "" : "s",
		 c->replace ? "; stored records not in the file were dropped" : "");
	printf("%s\n", text);
	return EXIT_OK;
}
