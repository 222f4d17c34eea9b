/* SPDX-License-Identifier: MIT */
/* Recognising Flic 2 buttons from BlueZ properties and raw advertising data. */
#include <errno.h>

#include "test-flic2-util.h"

#include "radio/flic2-adv.h"

static void test_uuid_parse(void **state)
{
	uint8_t u[16], want[16];

	test_unhex("00420000 8f59 4420 870d 84f3b617e493", want, 16);
	assert_int_equal(fg_flic2_uuid_parse("00420000-8f59-4420-870d-84f3b617e493", u), 0);
	assert_memory_equal(u, want, 16);
	assert_int_equal(fg_flic2_uuid_parse("00420000-8F59-4420-870D-84F3B617E493", u), 0);
	assert_memory_equal(u, want, 16);
	memset(u, 0, sizeof(u));
	assert_int_equal(fg_flic2_uuid_parse("00420000-8f59-4420-870d-84f3b617e49", u), -EINVAL);
	assert_int_equal(fg_flic2_uuid_parse("00420000-8f59-4420-870d-84f3b617e4933", u), -EINVAL);
	assert_int_equal(fg_flic2_uuid_parse("00420000+8f59-4420-870d-84f3b617e493", u), -EINVAL);
	assert_int_equal(fg_flic2_uuid_parse("0042000g-8f59-4420-870d-84f3b617e493", u), -EINVAL);
	assert_int_equal(fg_flic2_uuid_parse("00420000-8f59-4420-870d-84f3b617e4-3", u), -EINVAL);
	assert_int_equal(fg_flic2_uuid_parse(NULL, u), -EINVAL);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(u[i], 0);
}

static void test_bluez_public(void **state)
{
	static const char *const uuids[] = {
		"0000180a-0000-1000-8000-00805f9b34fb",
		"00420000-8F59-4420-870D-84F3B617E493",
	};
	static const uint8_t mfr_data[] = { 2, 0, 0, 0, 0x02 };
	static const uint8_t other_data[] = { 1, 2, 3, 4, 0xff };
	const struct fg_flic2_adv_mfr mfr[] = {
		{ 0x004c, other_data, sizeof(other_data) },
		{ FG_FLIC2_COMPANY_ID, mfr_data, sizeof(mfr_data) },
	};
	struct fg_flic2_adv_input in = {
		.uuids = uuids, .n_uuids = 2, .mfr = mfr, .n_mfr = 2, .name = "F2 \x01 Desk",
	};
	struct fg_flic2_adv adv;

	assert_int_equal(fg_flic2_adv_parse(&in, &adv), 0);
	assert_int_equal(adv.kind, FG_FLIC2_ADV_FLIC2);
	assert_true(adv.public_mode);
	assert_true(adv.has_mfr_data);
	assert_int_equal(adv.mfr_type, 2);
	assert_true(adv.connected_elsewhere);
	assert_string_equal(adv.name, "F2 ? Desk");

	/* flag bit clear, data too short for the flag */
	in.n_uuids = 1;
	in.mfr = &mfr[1];
	in.n_mfr = 1;
	{
		static const uint8_t clear[] = { 2, 0, 0, 0, 0xfd };
		static const uint8_t shorter[] = { 2, 0, 0, 0 };
		struct fg_flic2_adv_mfr m = { FG_FLIC2_COMPANY_ID, clear, sizeof(clear) };

		in.mfr = &m;
		assert_int_equal(fg_flic2_adv_parse(&in, &adv), 0);
		assert_int_equal(adv.kind, FG_FLIC2_ADV_FLIC2);
		assert_false(adv.public_mode);
		assert_false(adv.connected_elsewhere);
		m.data = shorter;
		m.len = sizeof(shorter);
		assert_int_equal(fg_flic2_adv_parse(&in, &adv), 0);
		assert_true(adv.has_mfr_data);
		assert_false(adv.connected_elsewhere);
		m.data = NULL;
		m.len = 5;	/* BlueZ gave the key but no bytes */
		assert_int_equal(fg_flic2_adv_parse(&in, &adv), 0);
		assert_int_equal(adv.mfr_type, 0);
	}
}

static void test_bluez_other(void **state)
{
	static const char *const uuids[] = { "0000180f-0000-1000-8000-00805f9b34fb", "junk" };
	static const uint8_t d[] = { 2, 0, 0, 0, 2 };
	const struct fg_flic2_adv_mfr mfr = { 0x030e, d, sizeof(d) };
	struct fg_flic2_adv_input in = { .uuids = uuids, .n_uuids = 2, .mfr = &mfr, .n_mfr = 1 };
	struct fg_flic2_adv adv;

	assert_int_equal(fg_flic2_adv_parse(&in, &adv), 0);
	assert_int_equal(adv.kind, FG_FLIC2_ADV_OTHER);
	assert_false(adv.public_mode);
	assert_false(adv.has_mfr_data);
	assert_string_equal(adv.name, "");

	memset(&in, 0, sizeof(in));
	assert_int_equal(fg_flic2_adv_parse(&in, &adv), 0);
	assert_int_equal(adv.kind, FG_FLIC2_ADV_OTHER);
}

static void test_bluez_service_data_and_twist(void **state)
{
	static const char *const flic[] = { FG_FLIC2_SERVICE_UUID };
	static const char *const twist[] = { FG_FLIC_TWIST_SERVICE_UUID };
	static const uint8_t d[] = { 2, 0, 0, 0, 0 };
	const struct fg_flic2_adv_mfr mfr = { FG_FLIC2_COMPANY_ID, d, sizeof(d) };
	struct fg_flic2_adv_input in = { .service_data_uuids = flic, .n_service_data = 1 };
	struct fg_flic2_adv adv;

	assert_int_equal(fg_flic2_adv_parse(&in, &adv), 0);
	assert_int_equal(adv.kind, FG_FLIC2_ADV_FLIC2);
	assert_true(adv.public_mode);

	in = (struct fg_flic2_adv_input){ .uuids = twist, .n_uuids = 1, .mfr = &mfr, .n_mfr = 1 };
	assert_int_equal(fg_flic2_adv_parse(&in, &adv), 0);
	assert_int_equal(adv.kind, FG_FLIC2_ADV_TWIST);
	assert_false(adv.public_mode);
}

static void test_raw(void **state)
{
	/* flags, complete 128-bit UUID list (two), manufacturer data, name */
	uint8_t raw[64];
	size_t n = 0;
	uint8_t flic[16], other[16];
	struct fg_flic2_adv adv;

	assert_int_equal(fg_flic2_uuid_parse(FG_FLIC2_SERVICE_UUID, flic), 0);
	assert_int_equal(fg_flic2_uuid_parse("12345678-1234-5678-1234-56789abcdef0", other), 0);
	raw[n++] = 2;
	raw[n++] = 0x01;
	raw[n++] = 0x06;
	raw[n++] = 33;
	raw[n++] = 0x07;
	for (int i = 15; i >= 0; i--)
		raw[n++] = other[i];
	for (int i = 15; i >= 0; i--)
		raw[n++] = flic[i];	/* little endian on air */
	raw[n++] = 8;
	raw[n++] = 0xff;
	raw[n++] = 0x0f;
	raw[n++] = 0x03;
	memcpy(raw + n, "\x02\x00\x00\x00\x02", 5);
	n += 5;
	raw[n++] = 4;
	raw[n++] = 0x09;
	memcpy(raw + n, "F2!", 3);
	n += 3;
	assert_int_equal(fg_flic2_adv_parse_raw(raw, n, &adv), 0);
	assert_int_equal(adv.kind, FG_FLIC2_ADV_FLIC2);
	assert_true(adv.public_mode);
	assert_true(adv.connected_elsewhere);
	assert_string_equal(adv.name, "F2!");

	/* zero padding ends the data; a record running past the end does not parse */
	raw[n] = 0;
	raw[n + 1] = 0x55;
	assert_int_equal(fg_flic2_adv_parse_raw(raw, n + 2, &adv), 0);
	assert_int_equal(fg_flic2_adv_parse_raw(raw, n - 1, &adv), -EBADMSG);
	assert_int_equal(fg_flic2_adv_parse_raw(raw, 4, &adv), -EBADMSG);
	assert_int_equal(fg_flic2_adv_parse_raw(NULL, 3, &adv), -EINVAL);
	assert_int_equal(fg_flic2_adv_parse_raw(NULL, 0, &adv), 0);
	assert_int_equal(adv.kind, FG_FLIC2_ADV_OTHER);

	/* the flic UUID in service data; a truncated UUID list; a 1-byte "manufacturer" */
	n = 0;
	raw[n++] = 18;
	raw[n++] = 0x21;
	for (int i = 15; i >= 0; i--)
		raw[n++] = flic[i];
	raw[n++] = 0xaa;
	assert_int_equal(fg_flic2_adv_parse_raw(raw, n, &adv), 0);
	assert_true(adv.public_mode);
	raw[0] = 16;		/* 15 bytes of service data: too short for a UUID */
	raw[1] = 0x21;
	assert_int_equal(fg_flic2_adv_parse_raw(raw, 17, &adv), 0);
	assert_false(adv.public_mode);
	raw[1] = 0x06;		/* incomplete list, 15 bytes: no whole UUID */
	assert_int_equal(fg_flic2_adv_parse_raw(raw, 17, &adv), 0);
	assert_int_equal(adv.kind, FG_FLIC2_ADV_OTHER);
	memcpy(raw, "\x02\xff\x0f", 3);
	assert_int_equal(fg_flic2_adv_parse_raw(raw, 3, &adv), 0);
	assert_false(adv.has_mfr_data);
	memcpy(raw, "\x03\xff\x0f\x03", 4);
	assert_int_equal(fg_flic2_adv_parse_raw(raw, 4, &adv), 0);
	assert_true(adv.has_mfr_data);
	assert_int_equal(adv.mfr_type, 0);
}

static void test_ad_list(void **state)
{
	uint8_t twist_le[16], t[16];
	struct fg_flic2_ad ad[3];
	struct fg_flic2_adv adv;
	char long_name[40];

	assert_int_equal(fg_flic2_uuid_parse(FG_FLIC_TWIST_SERVICE_UUID, t), 0);
	for (int i = 0; i < 16; i++)
		twist_le[i] = t[15 - i];
	memset(long_name, 'N', sizeof(long_name));
	ad[0] = (struct fg_flic2_ad){ 0x07, twist_le, 16 };
	ad[1] = (struct fg_flic2_ad){ 0x08, (const uint8_t *)long_name, sizeof(long_name) };
	ad[2] = (struct fg_flic2_ad){ 0x01, NULL, 0 };
	assert_int_equal(fg_flic2_adv_parse_ad(ad, 3, &adv), 0);
	assert_int_equal(adv.kind, FG_FLIC2_ADV_TWIST);
	assert_int_equal(strlen(adv.name), 31);
	ad[2].len = 1;
	assert_int_equal(fg_flic2_adv_parse_ad(ad, 3, &adv), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/flic2-adv/uuid-parse", test_uuid_parse),
		FG_TEST("/flic2-adv/bluez-public-mode", test_bluez_public),
		FG_TEST("/flic2-adv/bluez-other", test_bluez_other),
		FG_TEST("/flic2-adv/service-data-and-twist", test_bluez_service_data_and_twist),
		FG_TEST("/flic2-adv/raw", test_raw),
		FG_TEST("/flic2-adv/ad-list", test_ad_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
