/* SPDX-License-Identifier: MIT */
/*
 * Small pieces every part of fg_bluez uses: reading BlueZ's messages
 * (errors, variants) and finding things in our mirror of org.bluez.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "radio/bluez-private.h"

bool bluez_path_is_under(const char *path, const char *parent)
{
	size_t n = strlen(parent);

	return strncmp(path, parent, n) == 0 && path[n] == '/';
}

const char *bluez_fmt_addr(const uint8_t a[6], char buf[18])
{
	fg_format_address(a, buf);
	return buf;
}

/* The first error of a BlueZ reply as -errno; the message is logged by callers. */
int bluez_reply_errno(const sd_bus_error *e)
{
	if (!e || !sd_bus_error_is_set(e))
		return 0;
	if (sd_bus_error_has_name(e, "org.bluez.Error.InProgress"))
		return -EINPROGRESS;
	if (sd_bus_error_has_name(e, "org.bluez.Error.AlreadyConnected") ||
	    sd_bus_error_has_name(e, "org.bluez.Error.AlreadyExists"))
		return -EALREADY;
	if (sd_bus_error_has_name(e, "org.bluez.Error.NotReady"))
		return -ENETDOWN;
	if (sd_bus_error_has_name(e, "org.bluez.Error.NotSupported") ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_METHOD) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NOT_SUPPORTED))
		return -EOPNOTSUPP;
	if (sd_bus_error_has_name(e, "org.bluez.Error.NotPermitted") ||
	    sd_bus_error_has_name(e, "org.bluez.Error.NotAuthorized"))
		return -EPERM;
	if (sd_bus_error_has_name(e, "org.bluez.Error.DoesNotExist") ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_INTERFACE))
		return -ENODEV;
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT))
		return -ETIMEDOUT;
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_DISCONNECTED))
		return -ENETDOWN;
	if (sd_bus_error_has_name(e, "org.bluez.Error.Failed"))
		return -ECONNREFUSED;
	return -EIO;
}

/* A message from bluetoothd as we know it (drops stale signals). */
bool bluez_from_owner(struct fg_bluez *bz, sd_bus_message *m)
{
	const char *sender = sd_bus_message_get_sender(m);

	return bz->owner && sender && strcmp(sender, bz->owner) == 0;
}

/* Read a variant holding "ay" into a new buffer. */
int bluez_read_variant_bytes(sd_bus_message *m, uint8_t **ret, size_t *ret_len)
{
	const void *p;
	size_t n;
	uint8_t *copy = NULL;
	int r;

	r = sd_bus_message_enter_container(m, 'v', "ay");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	r = sd_bus_message_read_array(m, 'y', &p, &n);
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	if (n > 0) {
		copy = malloc(n);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, p, n);
	}
	*ret = copy;
	*ret_len = n;
	return 0;
}

enum fg_bluez_state bluez_compute_state(const struct fg_bluez *bz)
{
	if (!bz->owner)
		return FG_BLUEZ_NO_SERVICE;
	if (!bz->adapter)
		return FG_BLUEZ_NO_ADAPTER;
	if (!bz->adapter->powered)
		return FG_BLUEZ_POWERED_OFF;
	return FG_BLUEZ_READY;
}

uint64_t bluez_now_usec(const struct fg_bluez *bz)
{
	uint64_t t;

	if (sd_event_now(bz->event, CLOCK_MONOTONIC, &t) < 0)
		t = fg_now_monotonic();
	return t;
}

bool bluez_foreground_pending(const struct fg_bluez *bz)
{
	for (struct device *d = bz->devices; d; d = d->next)
		if (d->foreground)
			return true;
	return false;
}

struct device *bluez_device_by_address(const struct fg_bluez *bz, const uint8_t a[6])
{
	for (struct device *d = bz->devices; d; d = d->next)
		if (memcmp(d->address, a, 6) == 0)
			return d;
	return NULL;
}

struct device *bluez_device_by_path(const struct fg_bluez *bz, const char *path)
{
	for (struct device *d = bz->devices; d; d = d->next)
		if (strcmp(d->path, path) == 0)
			return d;
	return NULL;
}

struct device *bluez_device_owning(const struct fg_bluez *bz, const char *path)
{
	for (struct device *d = bz->devices; d; d = d->next)
		if (bluez_path_is_under(path, d->path))
			return d;
	return NULL;
}

bool bluez_is_watched(const struct fg_bluez *bz, const uint8_t a[6])
{
	for (size_t i = 0; i < bz->n_watch; i++)
		if (memcmp(bz->watch[i], a, 6) == 0)
			return true;
	return false;
}
