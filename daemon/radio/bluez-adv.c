/* SPDX-License-Identifier: MIT */
/*
 * What a device advertises (ManufacturerData, UUIDs, AdvertisingData),
 * whether it looks like a Flic, and the advertisement told to the owner.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "radio/bluez-private.h"
#include "lib/macro.h"

int bluez_read_mfr(sd_bus_message *m, void *base, void *userdata)
{
	struct device *d = base;
	unsigned *changed = userdata;
	bool found = false;
	int r;

	/* any ManufacturerData is news of an advertisement */
	*changed |= CH_ADV;
	r = sd_bus_message_enter_container(m, 'a', "{qv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "qv")) > 0) {
		uint16_t id;

		r = sd_bus_message_read_basic(m, 'q', &id);
		if (r < 0)
			return r;
		if (id == FG_FLIC2_COMPANY_ID && sd_bus_message_verify_type(m, 'v', "ay") > 0) {
			free(d->mfr);
			d->mfr = NULL;
			r = bluez_read_variant_bytes(m, &d->mfr, &d->mfr_len);
			if (r < 0)
				return r;
			found = true;
		} else {
			r = sd_bus_message_skip(m, "v");
			if (r < 0)
				return r;
		}
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	if (!found) {
		free(d->mfr);
		d->mfr = NULL;
		d->mfr_len = 0;
	}
	return sd_bus_message_exit_container(m);
}

int bluez_read_uuids(sd_bus_message *m, void *base, void *userdata)
{
	struct device *d = base;
	const char *u;
	bool flic = false, twist = false;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "s");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read_basic(m, 's', &u)) > 0) {
		flic = flic || strcasecmp(u, FG_FLIC2_SERVICE_UUID) == 0;
		twist = twist || strcasecmp(u, FG_FLIC_TWIST_SERVICE_UUID) == 0;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	if (flic == d->flic_service && twist == d->twist_service)
		return 0;
	d->flic_service = flic;
	d->twist_service = twist;
	return 1;
}

int bluez_read_ad(sd_bus_message *m, void *base, void *userdata)
{
	struct device *d = base;
	unsigned *changed = userdata;
	int r;

	*changed |= CH_ADV;
	d->n_ad = 0;
	r = sd_bus_message_enter_container(m, 'a', "{yv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "yv")) > 0) {
		uint8_t type;
		const void *p;
		size_t n;

		r = sd_bus_message_read_basic(m, 'y', &type);
		if (r < 0)
			return r;
		if (sd_bus_message_verify_type(m, 'v', "ay") > 0) {
			r = sd_bus_message_enter_container(m, 'v', "ay");
			if (r >= 0)
				r = sd_bus_message_read_array(m, 'y', &p, &n);
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
			if (r < 0)
				return r;
			/* an advertisement holds 31 bytes: anything longer is not one */
			if (d->n_ad < FG_ELEMENTSOF(d->ad) && n <= sizeof(d->ad[0].data)) {
				d->ad[d->n_ad].type = type;
				d->ad[d->n_ad].len = (uint8_t)n;
				memcpy(d->ad[d->n_ad].data, p, n);
				d->n_ad++;
			}
		} else {
			r = sd_bus_message_skip(m, "v");
			if (r < 0)
				return r;
		}
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	d->ad_fresh = true;
	return sd_bus_message_exit_container(m);
}

bool bluez_device_is_flic(const struct device *d)
{
	return d->flic_service || d->mfr || d->write_path || bluez_is_watched(d->bz, d->address);
}

void bluez_report_presence(struct device *d, bool present)
{
	if (bluez_device_is_flic(d) && d->bz->ops->device_present)
		d->bz->ops->device_present(d->bz, d->address, present, d->bz->userdata);
}

void bluez_report_adv(struct device *d)
{
	struct fg_bluez_adv adv = {
		.has_rssi = d->has_rssi,
		.rssi = d->rssi,
		.connected = d->connected,
	};

	if (!bluez_device_is_flic(d) || !d->bz->ops->advertisement)
		return;
	memcpy(adv.address, d->address, 6);
	if (d->ad_fresh) {
		struct fg_flic2_ad ad[FG_ELEMENTSOF(d->ad)];

		for (size_t i = 0; i < d->n_ad; i++)
			ad[i] = (struct fg_flic2_ad){ d->ad[i].type, d->ad[i].data, d->ad[i].len };
		/*
		 * BlueZ exposes only the AD types it deems safe there; if the
		 * Flic ones are not among them, the properties must do.
		 */
		adv.from_ad = fg_flic2_adv_parse_ad(ad, d->n_ad, &adv.info) >= 0 &&
			      adv.info.kind != FG_FLIC2_ADV_OTHER;
	}
	if (!adv.from_ad) {
		const char *uuids[2];
		size_t n_uuids = 0;
		struct fg_flic2_adv_mfr mfr = { FG_FLIC2_COMPANY_ID, d->mfr, d->mfr_len };
		struct fg_flic2_adv_input in = {
			.uuids = uuids,
			.mfr = d->mfr ? &mfr : NULL,
			.n_mfr = d->mfr ? 1 : 0,
			.name = d->name,
		};

		if (d->flic_service)
			uuids[n_uuids++] = FG_FLIC2_SERVICE_UUID;
		if (d->twist_service)
			uuids[n_uuids++] = FG_FLIC_TWIST_SERVICE_UUID;
		in.n_uuids = n_uuids;
		(void)fg_flic2_adv_parse(&in, &adv.info);
	}
	d->ad_fresh = false;
	d->bz->ops->advertisement(d->bz, &adv, d->bz->userdata);
}
