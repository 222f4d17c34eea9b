/* SPDX-License-Identifier: MIT */
/* The control API's one error table: each enum fg_api_errcode is one D-Bus
 * error name and one errno; and the PairingProgress stage names. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "control/api-private.h"
#include "control/flicgate-dbus.h"
#include "lib/macro.h"

static const struct {
	const char *name;
	int errnum;
} error_table[_FG_API_ERR_MAX] = {
	[FG_API_OK]			= { NULL, 0 },
	[FG_API_ERR_FAILED]		= { FG_DBUS_ERROR_FAILED, EIO },
	[FG_API_ERR_NOT_AVAILABLE]	= { FG_DBUS_ERROR_NOT_AVAILABLE, EOPNOTSUPP },
	[FG_API_ERR_NOT_AUTHORIZED]	= { FG_DBUS_ERROR_NOT_AUTHORIZED, EACCES },
	[FG_API_ERR_INVALID_ARGUMENT]	= { FG_DBUS_ERROR_INVALID_ARGUMENT, EINVAL },
	[FG_API_ERR_UNKNOWN_BUTTON]	= { FG_DBUS_ERROR_UNKNOWN_BUTTON, ENOENT },
	[FG_API_ERR_UNKNOWN_TARGET]	= { FG_DBUS_ERROR_UNKNOWN_TARGET, ENOENT },
	[FG_API_ERR_BUSY]		= { FG_DBUS_ERROR_BUSY, EBUSY },
	[FG_API_ERR_PAIRING_LOCKED]	= { FG_DBUS_ERROR_PAIRING_LOCKED, EPERM },
	[FG_API_ERR_NOT_PAIRED]		= { FG_DBUS_ERROR_NOT_PAIRED, ENOLINK },
	[FG_API_ERR_CONFIGURED]		= { FG_DBUS_ERROR_CONFIGURED, EPERM },
	[FG_API_ERR_NAME_TAKEN]		= { FG_DBUS_ERROR_NAME_TAKEN, EEXIST },
	[FG_API_ERR_CONFIG_REJECTED]	= { FG_DBUS_ERROR_CONFIG_REJECTED, EINVAL },
	[FG_API_ERR_BAD_PAIRING_FILE]	= { FG_DBUS_ERROR_BAD_PAIRING_FILE, EBADMSG },
};

const char *fg_api_error_name(enum fg_api_errcode code)
{
	if ((unsigned)code >= _FG_API_ERR_MAX)
		return NULL;
	return error_table[code].name;
}

int fg_api_error_set(struct fg_api_error *e, enum fg_api_errcode code, const char *fmt, ...)
{
	va_list ap;

	if ((unsigned)code >= _FG_API_ERR_MAX || code == FG_API_OK)
		code = FG_API_ERR_FAILED;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -error_table[code].errnum;
}

int api_set_error(sd_bus_error *ret_error, enum fg_api_errcode code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_bus_error_set(ret_error, error_table[code].name, msg);
	return -error_table[code].errnum;
}

int api_reply_failure(sd_bus_error *ret_error, int r, const struct fg_api_error *e,
		      const char *what)
{
	if (e->code != FG_API_OK)
		return api_set_error(ret_error, e->code, "%s", e->message);
	if (r == -EOPNOTSUPP)
		return api_set_error(ret_error, FG_API_ERR_NOT_AVAILABLE,
				     "%s is not available in this build", what);
	return api_set_error(ret_error, FG_API_ERR_FAILED, "%s failed: %s", what, strerror(-r));
}

static const char *const pairing_stage_table[] = {
	[FG_API_PAIRING_SCANNING] = FG_DBUS_PAIRING_SCANNING,
	[FG_API_PAIRING_FOUND] = FG_DBUS_PAIRING_FOUND,
	[FG_API_PAIRING_VERIFYING] = FG_DBUS_PAIRING_VERIFYING,
	[FG_API_PAIRING_PAIRED] = FG_DBUS_PAIRING_PAIRED,
	[FG_API_PAIRING_SAVED] = FG_DBUS_PAIRING_SAVED,
	[FG_API_PAIRING_FAILED] = FG_DBUS_PAIRING_FAILED,
	[FG_API_PAIRING_TIMEOUT] = FG_DBUS_PAIRING_TIMEOUT,
	[FG_API_PAIRING_CLOSED] = FG_DBUS_PAIRING_CLOSED,
};

_Static_assert(FG_ELEMENTSOF(pairing_stage_table) == _FG_API_PAIRING_STAGE_MAX,
	       "a name for every pairing stage");
FG_DEFINE_STRING_TABLE_TO(, fg_api_pairing_stage, enum fg_api_pairing_stage, pairing_stage_table)
