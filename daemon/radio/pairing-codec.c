/* SPDX-License-Identifier: MIT */
/* The pairing files' text: a button's record and its event counter (pairing-codec.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "radio/flic2-crypto.h"
#include "radio/flic2-packet.h"
#include "radio/pairing-codec.h"

#define FORMAT_VERSION 1

/* Exactly @n bytes of hex in @v (length @len). */
static int get_hex(const char *v, size_t len, uint8_t *out, size_t n)
{
	return fg_unhex(v, len, out, n) < 0 ? -EBADMSG : 0;
}

/* A decimal number up to @max, no sign, no leading junk. */
static int get_uint(const char *v, size_t len, uint64_t max, uint64_t *ret)
{
	uint64_t n = 0;

	if (len == 0 || len > 20)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EBADMSG;
		if (n > (max - (uint64_t)(v[i] - '0')) / 10)
			return -EBADMSG;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*ret = n;
	return 0;
}

/* "80:E4:DA:71:23:45" */
static int get_address(const char *v, size_t len, uint8_t out[6])
{
	if (len != 17)
		return -EBADMSG;
	for (int i = 0; i < 6; i++)
		if (fg_unhex(v + 3 * i, 2, out + i, 1) < 0 ||
		    (i < 5 && v[3 * i + 2] != ':'))
			return -EBADMSG;
	return 0;
}

/*
 * Walk "key=value" lines: blank lines and '#' comments are skipped, a
 * trailing '\r' is dropped, anything else is an error. @cb gets each pair.
 */
static int parse_lines(const char *text, size_t len,
		       int (*cb)(const char *key, size_t key_len,
				 const char *value, size_t value_len, void *userdata),
		       void *userdata)
{
	size_t pos = 0;

	if (len > FG_PAIRING_FILE_MAX)
		return -EBADMSG;
	while (pos < len) {
		const char *line = text + pos, *nl, *eq;
		size_t line_len;
		int r;

		nl = memchr(line, '\n', len - pos);
		line_len = nl ? (size_t)(nl - line) : len - pos;
		pos += line_len + (nl ? 1 : 0);
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		if (line_len == 0 || line[0] == '#')
			continue;
		if (memchr(line, '\0', line_len))
			return -EBADMSG;
		eq = memchr(line, '=', line_len);
		if (!eq || eq == line)
			return -EBADMSG;
		r = cb(line, (size_t)(eq - line), eq + 1,
		       line_len - (size_t)(eq - line) - 1, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool key_is(const char *key, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(key, want, len) == 0;
}

enum pairing_field {
	F_VERSION,
	F_ADDRESS,
	F_PAIRING_ID,
	F_PAIRING_KEY,
	F_UUID,
	F_SERIAL,
	F_NAME,
	F_FIRMWARE,
	F_BATTERY,
	F_IDENTITY_KEY,
	_F_MAX,
};

static const char *const pairing_keys[_F_MAX] = {
	[F_VERSION] = "version",
	[F_ADDRESS] = "address",
	[F_PAIRING_ID] = "pairing_id",
	[F_PAIRING_KEY] = "pairing_key",
	[F_UUID] = "uuid",
	[F_SERIAL] = "serial",
	[F_NAME] = "name",
	[F_FIRMWARE] = "firmware",
	[F_BATTERY] = "battery_mv",
	[F_IDENTITY_KEY] = "identity_key",
};

struct pairing_parse {
	struct fg_flic2_pairing p;
	unsigned seen;
};

static int pairing_field(const char *key, size_t key_len, const char *v, size_t len,
			 void *userdata)
{
	struct pairing_parse *pp = userdata;
	uint8_t name[FG_FLIC2_NAME_MAX];
	uint64_t n = 0;
	int f, r = 0;

	for (f = 0; f < _F_MAX; f++)
		if (key_is(key, key_len, pairing_keys[f]))
			break;
	if (f == _F_MAX || (pp->seen & (1u << f)))
		return -EBADMSG;	/* unknown or repeated */
	pp->seen |= 1u << f;

	switch ((enum pairing_field)f) {
	case F_VERSION:
		r = get_uint(v, len, UINT32_MAX, &n);
		if (r == 0 && n != FORMAT_VERSION)
			r = -EBADMSG;
		break;
	case F_ADDRESS:
		r = get_address(v, len, pp->p.address);
		break;
	case F_PAIRING_ID:
		r = get_uint(v, len, UINT32_MAX, &n);
		pp->p.pairing_id = (uint32_t)n;
		break;
	case F_PAIRING_KEY:
		r = get_hex(v, len, pp->p.pairing_key, 16);
		break;
	case F_UUID:
		r = get_hex(v, len, pp->p.uuid, 16);
		break;
	case F_SERIAL:
		if (len >= sizeof(pp->p.serial))
			return -EBADMSG;
		memcpy(pp->p.serial, v, len);
		pp->p.serial[len] = '\0';
		if (!fg_flic2_serial_is_valid(pp->p.serial))
			r = -EBADMSG;
		break;
	case F_NAME:
		/* hex: a name is arbitrary UTF-8, newlines and '=' included */
		if (len % 2 || len / 2 > FG_FLIC2_NAME_MAX)
			return -EBADMSG;
		r = get_hex(v, len, name, len / 2);
		if (r < 0)
			break;
		memcpy(pp->p.name, name, len / 2);
		pp->p.name[len / 2] = '\0';
		if (strlen(pp->p.name) != len / 2 || !fg_flic2_name_is_valid(pp->p.name))
			r = -EBADMSG;
		break;
	case F_FIRMWARE:
		r = get_uint(v, len, UINT32_MAX, &n);
		pp->p.firmware_version = (uint32_t)n;
		break;
	case F_BATTERY:
		r = get_uint(v, len, UINT16_MAX, &n);
		pp->p.battery_mv = (uint16_t)n;
		break;
	case F_IDENTITY_KEY:
		r = get_hex(v, len, pp->p.identity_key, 32);
		break;
	case _F_MAX:
		r = -EBADMSG;
		break;
	}
	return r < 0 ? -EBADMSG : 0;
}

int fg_pairing_parse(const char *text, size_t len, struct fg_flic2_pairing *ret)
{
	struct pairing_parse pp;
	int r;

	memset(&pp, 0, sizeof(pp));
	r = parse_lines(text, len, pairing_field, &pp);
	if (r == 0 && pp.seen != (1u << _F_MAX) - 1)
		r = -EBADMSG;	/* a field is missing */
	if (r == 0)
		*ret = pp.p;
	fg_crypto_wipe(&pp, sizeof(pp));
	return r;
}

int fg_pairing_format(const struct fg_flic2_pairing *p, char **ret, size_t *ret_len)
{
	char key[33], uuid[33], name[2 * FG_FLIC2_NAME_MAX + 1], identity[65];
	char *text = NULL;
	int n;

	if (!fg_flic2_name_is_valid(p->name) || !fg_flic2_serial_is_valid(p->serial))
		return -EINVAL;
	fg_hex(p->pairing_key, 16, key);
	fg_hex(p->uuid, 16, uuid);
	fg_hex((const uint8_t *)p->name, strlen(p->name), name);
	fg_hex(p->identity_key, 32, identity);
	n = asprintf(&text,
		     "# flicgate Flic 2 pairing. SECRET: holds the pairing key.\n"
		     "version=%d\n"
		     "address=%02X:%02X:%02X:%02X:%02X:%02X\n"
		     "pairing_id=%" PRIu32 "\n"
		     "pairing_key=%s\n"
		     "uuid=%s\n"
		     "serial=%s\n"
		     "name=%s\n"
		     "firmware=%" PRIu32 "\n"
		     "battery_mv=%u\n"
		     "identity_key=%s\n",
		     FORMAT_VERSION, p->address[0], p->address[1], p->address[2],
		     p->address[3], p->address[4], p->address[5], p->pairing_id, key,
		     uuid, p->serial, name, p->firmware_version, (unsigned)p->battery_mv,
		     identity);
	fg_crypto_wipe(key, sizeof(key));
	if (n < 0)
		return -ENOMEM;
	*ret = text;
	*ret_len = (size_t)n;
	return 0;
}

struct dedup_parse {
	struct fg_flic2_dedup d;
	unsigned seen;
};

static int dedup_field(const char *key, size_t key_len, const char *v, size_t len,
		       void *userdata)
{
	struct dedup_parse *dp = userdata;
	uint64_t n = 0;
	unsigned bit;

	if (key_is(key, key_len, "version"))
		bit = 1;
	else if (key_is(key, key_len, "boot_id"))
		bit = 2;
	else if (key_is(key, key_len, "event_count"))
		bit = 4;
	else if (key_is(key, key_len, "adv_configured"))
		bit = 8;	/* optional: files from before it say nothing */
	else
		return -EBADMSG;
	if ((dp->seen & bit) || get_uint(v, len, UINT32_MAX, &n) < 0 || (bit == 8 && n > 1))
		return -EBADMSG;
	dp->seen |= bit;
	if (bit == 1 && n != FORMAT_VERSION)
		return -EBADMSG;
	if (bit == 2)
		dp->d.boot_id = (uint32_t)n;
	if (bit == 4)
		dp->d.event_count = (uint32_t)n;
	if (bit == 8)
		dp->d.adv_configured = n;
	return 0;
}

int fg_pairing_parse_dedup(const char *text, size_t len, struct fg_flic2_dedup *ret)
{
	struct dedup_parse dp = { 0 };
	int r;

	r = parse_lines(text, len, dedup_field, &dp);
	if (r < 0)
		return r;
	if ((dp.seen & 7) != 7)
		return -EBADMSG;
	dp.d.valid = true;
	*ret = dp.d;
	return 0;
}

int fg_pairing_format_dedup(const struct fg_flic2_dedup *d, char **ret, size_t *ret_len)
{
	char *text = NULL;
	int n;

	if (!d->valid)
		return -EINVAL;
	n = asprintf(&text,
		     "# flicgate Flic 2 event counter: events up to here were reported.\n"
		     "version=%d\n"
		     "boot_id=%" PRIu32 "\n"
		     "event_count=%" PRIu32 "\n"
		     "adv_configured=%d\n",
		     FORMAT_VERSION, d->boot_id, d->event_count, d->adv_configured);
	if (n < 0)
		return -ENOMEM;
	*ret = text;
	*ret_len = (size_t)n;
	return 0;
}
