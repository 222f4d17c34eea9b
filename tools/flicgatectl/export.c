/* SPDX-License-Identifier: MIT */
/* flicgatectl export: the pairing records (secret) to a 0600 file or stdout. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"

static const char secret_warning[] =
	"It holds the buttons' pairing keys: keep it secret, move it only over SSH or on\n"
	"removable media you control, and delete it once imported.";

static int write_export(const char *path, const char *doc, bool force)
{
	size_t len = strlen(doc), done = 0;
	int fd, r = 0;

	/* 0600 from the first byte: never a moment where others may read it */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL), 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0)
		r = -errno;
	while (r == 0 && done < len) {
		ssize_t w = write(fd, doc + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			r = -errno;
		else
			done += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

int cmd_export(struct ctl *c, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *doc;
	uint32_t count;
	bool to_stdout = strcmp(args[0], "-") == 0;
	int r;

	r = ctl_call_gateway(c, FG_DBUS_GW_EXPORT_PAIRINGS, &reply, &e, NULL);
	if (r >= 0)
		r = sd_bus_message_read(reply, "su", &doc, &count);
	if (r < 0) {
		sd_bus_message_unref(reply);
		return ctl_bus_error(c, &e, r, "Cannot export the pairings");
	}
	if (to_stdout) {
		fprintf(stderr, "flicgatectl: %u pairing record%s on standard output. %s\n", count,
			count == 1 ? "" : "s", secret_warning);
		if (c->json) {
			struct fg_json *j = ctl_json_begin(c);

			fg_json_begin_object(j);
			fg_json_kv_uint(j, "count", count);
			fg_json_kv_string(j, "document", doc);
			fg_json_end_object(j);
			r = ctl_json_end(c, j);
		} else {
			fputs(doc, stdout);
			r = EXIT_OK;
		}
		sd_bus_message_unref(reply);
		return r;
	}
	r = write_export(args[0], doc, c->force);
	sd_bus_message_unref(reply);
	if (r == -EEXIST)
		return ctl_fail(c, EXIT_FAILURE_, "%s exists; use --force to overwrite it", args[0]);
	if (r < 0)
		return ctl_fail(c, EXIT_FAILURE_, "cannot write %s: %s", args[0], strerror(-r));
	if (c->json) {
		struct fg_json *j = ctl_json_begin(c);

		fg_json_begin_object(j);
		fg_json_kv_string(j, "file", args[0]);
		fg_json_kv_uint(j, "count", count);
		fg_json_kv_string(j, "mode", "0600");
		fg_json_kv_string(j, "warning", secret_warning);
		fg_json_end_object(j);
		return ctl_json_end(c, j);
	}
	printf("Wrote %u pairing record%s to %s (mode 0600).\n%s\n", count, count == 1 ? "" : "s",
	       args[0], secret_warning);
	return EXIT_OK;
}
