/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Recognising Flic 2 buttons from what BlueZ reports about a device: the
 * properties of org.bluez.Device1 (UUIDs, ManufacturerData, ServiceData,
 * Name) or the raw advertising data. Pure functions; docs/flic2.md says
 * which source settled each rule.
 *
 * - A button in public mode (held ~7 s, ready to pair) advertises the Flic
 *   service UUID 00420000-8f59-4420-870d-84f3b617e493.
 * - A paired button in private mode reconnects with a directed
 *   advertisement that carries no data at all: it is recognised by its
 *   address (a stored pairing), not by anything parsed here.
 * - Shortcut Labs manufacturer data (company 0x030f): byte 4 bit 1 says the
 *   button already has a physical link to another device.
 * - A Flic Twist advertises its own service; it speaks another protocol.
 *
 * BlueZ keeps Device1.UUIDs across advertisements and adds the GATT
 * services after a connection, so "public mode" from UUIDs is only
 * trustworthy for a device never connected; prefer AdvertisingData
 * (fg_flic2_adv_parse_ad) where BlueZ provides it.
 */

#define FG_FLIC2_COMPANY_ID 0x030f
#define FG_FLIC2_SERVICE_UUID "00420000-8f59-4420-870d-84f3b617e493"
#define FG_FLIC2_WRITE_UUID "00420001-8f59-4420-870d-84f3b617e493"
#define FG_FLIC2_NOTIFY_UUID "00420002-8f59-4420-870d-84f3b617e493"
#define FG_FLIC_TWIST_SERVICE_UUID "00c90000-2cbd-4f2a-a725-5ccd960ffb7d"

enum fg_flic2_adv_kind {
	FG_FLIC2_ADV_OTHER,		/* not a Flic */
	FG_FLIC2_ADV_FLIC2,		/* a Flic 2 (or Duo, which speaks Flic 2) */
	FG_FLIC2_ADV_TWIST,		/* a Flic Twist: not supported */
	_FG_FLIC2_ADV_KIND_MAX,
};

struct fg_flic2_adv {
	enum fg_flic2_adv_kind kind;
	bool public_mode;		/* advertises the Flic service: pairable now */
	bool has_mfr_data;		/* Shortcut Labs manufacturer data seen */
	uint8_t mfr_type;		/* its first byte (2 on Flic 2) */
	bool connected_elsewhere;	/* has a link to another device already */
	char name[32];			/* advertised name, printable ASCII, may be "" */
};

/* One manufacturer data entry (BlueZ ManufacturerData: company -> bytes). */
struct fg_flic2_adv_mfr {
	uint16_t company;
	const uint8_t *data;
	size_t len;
};

/* The Device1 properties as BlueZ reports them; absent ones NULL/0. */
struct fg_flic2_adv_input {
	const char *const *uuids;	/* UUIDs: "0000180a-0000-1000-8000-00805f9b34fb"… */
	size_t n_uuids;
	const struct fg_flic2_adv_mfr *mfr;
	size_t n_mfr;
	const char *const *service_data_uuids;	/* the keys of ServiceData */
	size_t n_service_data;
	const char *name;
};

/* One AD structure (BlueZ AdvertisingData: type -> bytes, or raw). */
struct fg_flic2_ad {
	uint8_t type;			/* 0x07 128-bit UUIDs, 0xff manufacturer, … */
	const uint8_t *data;
	size_t len;
};

/* Parse Device1 properties. Always succeeds for valid pointers: 0. */
int fg_flic2_adv_parse(const struct fg_flic2_adv_input *in, struct fg_flic2_adv *ret);

/* Parse AD structures. 0, or -EINVAL for a NULL data with len > 0. */
int fg_flic2_adv_parse_ad(const struct fg_flic2_ad *ad, size_t n, struct fg_flic2_adv *ret);

/*
 * Parse raw advertising data (length/type/value records, as in an HCI
 * advertising report or scan response). -EBADMSG when a record runs past
 * the end; *ret is written only on success.
 */
int fg_flic2_adv_parse_raw(const uint8_t *data, size_t len, struct fg_flic2_adv *ret);

/* "00420000-8f59-…" (either case) -> 16 bytes, big endian as written; -EINVAL otherwise. */
int fg_flic2_uuid_parse(const char *s, uint8_t ret[16]);
