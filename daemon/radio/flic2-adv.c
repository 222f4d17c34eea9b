/* SPDX-License-Identifier: MIT */
/* Reading a Flic 2 button's advertisements: which protocol, public mode, connected elsewhere (flic2-adv.h). */
#include <errno.h>
#include <string.h>

#include "lib/hex.h"
#include "radio/flic2-adv.h"

/* AD types (Bluetooth Assigned Numbers, "Common Data Types") */
#define AD_UUID128_INCOMPLETE 0x06
#define AD_UUID128_COMPLETE 0x07
#define AD_NAME_SHORT 0x08
#define AD_NAME_COMPLETE 0x09
#define AD_SERVICE_DATA128 0x21
#define AD_MANUFACTURER 0xff

int fg_flic2_uuid_parse(const char *s, uint8_t ret[16])
{
	char digits[32];
	size_t n = 0;

	if (!s || strlen(s) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		digits[n++] = s[i];
	}
	return fg_unhex(digits, sizeof(digits), ret, 16);
}

enum service { SVC_NONE, SVC_FLIC2, SVC_TWIST };

static enum service service_of(const uint8_t uuid[16])
{
	uint8_t u[16];

	if (fg_flic2_uuid_parse(FG_FLIC2_SERVICE_UUID, u) == 0 && memcmp(u, uuid, 16) == 0)
		return SVC_FLIC2;
	if (fg_flic2_uuid_parse(FG_FLIC_TWIST_SERVICE_UUID, u) == 0 && memcmp(u, uuid, 16) == 0)
		return SVC_TWIST;
	return SVC_NONE;
}

static void note_service(struct fg_flic2_adv *adv, enum service s)
{
	if (s == SVC_FLIC2)
		adv->public_mode = true;
	else if (s == SVC_TWIST)
		adv->kind = FG_FLIC2_ADV_TWIST;
}

static void note_mfr(struct fg_flic2_adv *adv, const uint8_t *data, size_t len)
{
	adv->has_mfr_data = true;
	adv->mfr_type = len > 0 ? data[0] : 0;
	/* the official Android library reads "connected" from byte 4, bit 1 */
	if (len >= 5)
		adv->connected_elsewhere = data[4] & 0x02;
}

static void note_name(struct fg_flic2_adv *adv, const uint8_t *name, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && name[i] && n + 1 < sizeof(adv->name); i++)
		adv->name[n++] = name[i] >= 0x20 && name[i] < 0x7f ? (char)name[i] : '?';
	adv->name[n] = '\0';
}

static void finish(struct fg_flic2_adv *adv)
{
	/* a Twist also carries Shortcut Labs data: its service decides */
	if (adv->kind == FG_FLIC2_ADV_TWIST) {
		adv->public_mode = false;
		return;
	}
	if (adv->public_mode || adv->has_mfr_data)
		adv->kind = FG_FLIC2_ADV_FLIC2;
}

int fg_flic2_adv_parse(const struct fg_flic2_adv_input *in, struct fg_flic2_adv *ret)
{
	struct fg_flic2_adv adv = { .kind = FG_FLIC2_ADV_OTHER };
	uint8_t uuid[16];

	for (size_t i = 0; in->uuids && i < in->n_uuids; i++)
		if (fg_flic2_uuid_parse(in->uuids[i], uuid) == 0)
			note_service(&adv, service_of(uuid));
	for (size_t i = 0; in->service_data_uuids && i < in->n_service_data; i++)
		if (fg_flic2_uuid_parse(in->service_data_uuids[i], uuid) == 0)
			note_service(&adv, service_of(uuid));
	for (size_t i = 0; in->mfr && i < in->n_mfr; i++)
		if (in->mfr[i].company == FG_FLIC2_COMPANY_ID)
			note_mfr(&adv, in->mfr[i].data, in->mfr[i].data ? in->mfr[i].len : 0);
	if (in->name)
		note_name(&adv, (const uint8_t *)in->name, strlen(in->name));
	finish(&adv);
	*ret = adv;
	return 0;
}

/* 128-bit UUIDs travel little endian in advertising data. */
static void uuid_from_le(const uint8_t *le, uint8_t be[16])
{
	for (int i = 0; i < 16; i++)
		be[i] = le[15 - i];
}

static void apply_ad(struct fg_flic2_adv *adv, uint8_t type, const uint8_t *d, size_t len)
{
	uint8_t uuid[16];

	switch (type) {
	case AD_UUID128_INCOMPLETE:
	case AD_UUID128_COMPLETE:
		for (size_t off = 0; off + 16 <= len; off += 16) {
			uuid_from_le(d + off, uuid);
			note_service(adv, service_of(uuid));
		}
		break;
	case AD_SERVICE_DATA128:
		if (len >= 16) {
			uuid_from_le(d, uuid);
			note_service(adv, service_of(uuid));
		}
		break;
	case AD_MANUFACTURER:
		if (len >= 2 && (d[0] | d[1] << 8) == FG_FLIC2_COMPANY_ID)
			note_mfr(adv, d + 2, len - 2);
		break;
	case AD_NAME_SHORT:
	case AD_NAME_COMPLETE:
		note_name(adv, d, len);
		break;
	}
}

int fg_flic2_adv_parse_ad(const struct fg_flic2_ad *ad, size_t n, struct fg_flic2_adv *ret)
{
	struct fg_flic2_adv adv = { .kind = FG_FLIC2_ADV_OTHER };

	for (size_t i = 0; i < n; i++) {
		if (!ad[i].data && ad[i].len > 0)
			return -EINVAL;
		apply_ad(&adv, ad[i].type, ad[i].data, ad[i].len);
	}
	finish(&adv);
	*ret = adv;
	return 0;
}

int fg_flic2_adv_parse_raw(const uint8_t *data, size_t len, struct fg_flic2_adv *ret)
{
	struct fg_flic2_adv adv = { .kind = FG_FLIC2_ADV_OTHER };
	size_t pos = 0;

	if (!data && len > 0)
		return -EINVAL;
	while (pos < len) {
		size_t rec = data[pos];

		if (rec == 0)
			break;		/* zero padding ends the significant part */
		if (rec > len - pos - 1)
			return -EBADMSG;
		apply_ad(&adv, data[pos + 1], data + pos + 2, rec - 1);
		pos += rec + 1;
	}
	finish(&adv);
	*ret = adv;
	return 0;
}
