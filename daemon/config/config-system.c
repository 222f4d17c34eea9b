/* SPDX-License-Identifier: MIT */
/* Checks of the [system] values the SD-card image applies at boot: host
 * name, time zone name, Wi-Fi country and passphrase, SSH key, password. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/config-options.h"

const char *fg_config_validate_hostname(const char *v, char *msg, size_t size)
{
	size_t n = strlen(v);
	bool ok = n >= 1 && n <= 63 && v[0] != '-' && v[n - 1] != '-';

	for (size_t i = 0; ok && i < n; i++)
		ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		     (v[i] >= '0' && v[i] <= '9') || v[i] == '-';
	if (ok)
		return NULL;
	snprintf(msg, size, "'%.64s' is not a valid host name (letters, digits, '-', at most 63)", v);
	return msg;
}

/* The syntax of a tz database name; config-load.c checks it exists in /usr/share/zoneinfo. */
const char *fg_config_validate_timezone(const char *v, char *msg, size_t size)
{
	bool ok = *v && *v != '/';

	for (const char *s = v; ok && *s; s++) {
		ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		     *s == '_' || *s == '+' || *s == '-' || (*s == '/' && s[1] && s[1] != '/');
		if (*s == '.')
			ok = false;
	}
	if (ok)
		return NULL;
	snprintf(msg, size, "'%.64s' is not a time zone name like Europe/Stockholm (see /usr/share/zoneinfo)", v);
	return msg;
}

/* ISO 3166-1 alpha-2, as tzdata's iso3166.tab lists them (tests/test-config-system.c compares). */
static const char iso3166[] =
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP "
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY "
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
	"QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ "
	"VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

bool fg_config_is_country_code(const char *v)
{
	char up[3];

	if (strlen(v) != 2)
		return false;
	for (int i = 0; i < 2; i++)
		up[i] = (char)(v[i] >= 'a' && v[i] <= 'z' ? v[i] - 'a' + 'A' : v[i]);
	up[2] = '\0';
	for (const char *s = iso3166; *s; s += s[2] ? 3 : 2)
		if (s[0] == up[0] && s[1] == up[1])
			return true;
	return false;
}

const char *fg_config_validate_country(const char *v, char *msg, size_t size)
{
	if (fg_config_is_country_code(v))
		return NULL;
	snprintf(msg, size, "'%.64s' is not a two-letter ISO 3166 country code (SE, DE, GB, US, …)", v);
	return msg;
}

/* IEEE 802.11i: a passphrase is 8 to 63 printable ASCII characters. */
const char *fg_config_validate_passphrase(const char *v, char *msg, size_t size)
{
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e) {
			snprintf(msg, size, "must be printable ASCII (IEEE 802.11i)");
			return msg;
		}
	if (n >= 8 && n <= 63)
		return NULL;
	snprintf(msg, size, "must be 8 to 63 characters, not %zu (IEEE 802.11i)", n);
	return msg;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode the first @max bytes of base64 @s (@n characters) into @out; returns the count or -1. */
static int b64_head(const char *s, size_t n, uint8_t *out, size_t max)
{
	uint32_t acc = 0;
	size_t got = 0, bits = 0, i;

	for (i = 0; i < n && s[i] != '='; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (got < max)
				out[got] = (uint8_t)(acc >> bits);
			got++;
		}
	}
	for (; i < n; i++)
		if (s[i] != '=')
			return -1;
	if (n % 4 != 0)
		return -1;
	return (int)(got < max ? got : max);
}

/*
 * "TYPE BASE64 [comment]" as in authorized_keys(5) without options; the
 * blob starts with the type again (RFC 4253 6.6: string "ssh-ed25519"…),
 * which catches a pasted private key, a cut line or a fingerprint.
 */
const char *fg_config_validate_ssh_key(const char *v, char *msg, size_t size)
{
	static const char *const types[] = {
		"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
	};
	const char *sp = strchr(v, ' '), *blob, *end;
	uint8_t head[64];
	size_t tl;
	int n;

	for (size_t i = 0; sp && i < sizeof(types) / sizeof(types[0]); i++) {
		tl = strlen(types[i]);
		if ((size_t)(sp - v) != tl || strncmp(v, types[i], tl) != 0)
			continue;
		blob = sp + 1;
		end = blob + strcspn(blob, " ");
		n = b64_head(blob, (size_t)(end - blob), head, sizeof(head));
		if (n >= (int)(4 + tl) && head[0] == 0 && head[1] == 0 && head[2] == 0 && head[3] == tl &&
		    memcmp(head + 4, v, tl) == 0)
			return NULL;
		snprintf(msg, size, "the key data after '%s' is damaged (copy the whole line of the .pub file)",
			 types[i]);
		return msg;
	}
	snprintf(msg, size, "not an OpenSSH public key: give one line of your id_ed25519.pub "
		 "(\"ssh-ed25519 AAAA… name\")");
	return msg;
}

/* crypt(5): "$id$…"; what mkpasswd or openssl passwd -6 print. */
const char *fg_config_validate_password_hash(const char *v, char *msg, size_t size)
{
	bool ok = v[0] == '$' && v[1] && strchr(v + 2, '$');

	for (const char *s = v; ok && *s; s++)
		ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		     strchr("$./=,+-", *s);
	if (ok)
		return NULL;
	snprintf(msg, size, "not a crypt(5) hash; write the password itself as admin_password instead");
	return msg;
}

const char *fg_config_validate_password(const char *v, char *msg, size_t size)
{
	if (!*v || strlen(v) >= 8)	/* empty: none given */
		return NULL;
	snprintf(msg, size, "at least 8 characters");
	return msg;
}
