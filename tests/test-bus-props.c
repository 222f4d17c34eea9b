/* SPDX-License-Identifier: MIT */
/* lib/bus-props: reading a{sv} dictionaries by table, on real sd-bus messages. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fg-test.h"

#include "lib/bus-props.h"
#include "lib/strv.h"

struct rec {
	char *name;
	bool connected;
	int16_t rssi;
	uint16_t mtu;
	uint32_t count;
	uint64_t since;
	double ratio;
	char **uuids;
	int calls;		/* of the custom reader */
	int others;		/* names the table does not know */
};

enum { CH_NAME = 1, CH_LINK = 2, CH_ADV = 4, CH_MFR = 8 };

/* a{qv} -> counts the entries, always "changed" */
static int read_mfr(sd_bus_message *m, void *base, void *userdata)
{
	struct rec *r = base;
	uint16_t id;
	int k;

	assert_ptr_equal(userdata, &r->calls);
	k = sd_bus_message_enter_container(m, 'a', "{qv}");
	if (k < 0)
		return k;
	while ((k = sd_bus_message_enter_container(m, 'e', "qv")) > 0) {
		k = sd_bus_message_read_basic(m, 'q', &id);
		if (k >= 0)
			k = sd_bus_message_skip(m, "v");
		if (k >= 0)
			k = sd_bus_message_exit_container(m);
		if (k < 0)
			return k;
		r->calls++;
	}
	if (k < 0)
		return k;
	k = sd_bus_message_exit_container(m);
	return k < 0 ? k : 1;
}

static int other(sd_bus_message *m, const char *name, void *base, void *userdata)
{
	((struct rec *)base)->others++;
	return sd_bus_message_skip(m, "v");
}

static const struct fg_bus_prop table[] = {
	FG_BUS_PROP("Name", "s", struct rec, name, CH_NAME),
	FG_BUS_PROP("Connected", "b", struct rec, connected, CH_LINK),
	FG_BUS_PROP("RSSI", "n", struct rec, rssi, CH_ADV),
	FG_BUS_PROP("MTU", "q", struct rec, mtu, 0),
	FG_BUS_PROP("Count", "u", struct rec, count, 0),
	FG_BUS_PROP("Since", "t", struct rec, since, 0),
	FG_BUS_PROP("Ratio", "d", struct rec, ratio, 0),
	FG_BUS_PROP("UUIDs", "as", struct rec, uuids, CH_ADV),
	FG_BUS_PROP_FN("ManufacturerData", "a{qv}", read_mfr, CH_MFR),
	{ 0 },
};

static sd_bus *bus;
static int peer = -1;	/* the other end: nobody answers, messages are only built */

static int setup(void **state)
{
	int fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
	peer = fds[1];
	assert_int_equal(sd_bus_new(&bus), 0);
	assert_int_equal(sd_bus_set_fd(bus, fds[0], fds[0]), 0);
	assert_true(sd_bus_start(bus) >= 0);
	return 0;
}

static int teardown(void **state)
{
	bus = sd_bus_close_unref(bus);
	close(peer);
	return 0;
}

/* A sealed message holding one a{sv} built by @fill, rewound for reading. */
static sd_bus_message *dict(void (*fill)(sd_bus_message *m))
{
	sd_bus_message *m = NULL;

	assert_int_equal(sd_bus_message_new_method_call(bus, &m, "a.b", "/a", "a.b", "C"), 0);
	assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
	fill(m);
	assert_true(sd_bus_message_close_container(m) >= 0);
	assert_int_equal(sd_bus_message_seal(m, 1, 0), 0);
	assert_true(sd_bus_message_rewind(m, true) >= 0);
	return m;
}

static void fill_all(sd_bus_message *m)
{
	assert_true(sd_bus_message_append(m, "{sv}", "Name", "s", "F018-alpha") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Connected", "b", 1) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "RSSI", "n", (int16_t)-61) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "MTU", "q", (uint16_t)140) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Count", "u", (uint32_t)7) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Since", "t", (uint64_t)1ULL << 40) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Ratio", "d", 0.25) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "UUIDs", "as", 2, "u1", "u2") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "ManufacturerData", "a{qv}", 2,
					  (uint16_t)0x030f, "ay", 1, (uint8_t)1,
					  (uint16_t)0x0001, "s", "x") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Unknown", "i", (int32_t)3) >= 0);
}

static void test_all_types(void **state)
{
	sd_bus_message *m = dict(fill_all);
	struct rec r = { 0 };
	unsigned changed = 0;

	assert_int_equal(fg_bus_props_read(m, table, 0, other, &r, &changed, &r.calls), 0);
	assert_string_equal(r.name, "F018-alpha");
	assert_true(r.connected);
	assert_int_equal(r.rssi, -61);
	assert_int_equal(r.mtu, 140);
	assert_int_equal(r.count, 7);
	assert_true(r.since == 1ULL << 40);
	assert_true(r.ratio == 0.25);
	assert_int_equal(fg_strv_length(r.uuids), 2);
	assert_string_equal(r.uuids[1], "u2");
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.others, 1);
	assert_int_equal(changed, CH_NAME | CH_LINK | CH_ADV | CH_MFR);
	/* the message is consumed whole */
	assert_int_equal(sd_bus_message_at_end(m, true), 1);
	sd_bus_message_unref(m);

	/* the same values again change nothing but the reader's own report */
	m = dict(fill_all);
	changed = 0;
	assert_int_equal(fg_bus_props_read(m, table, 0, NULL, &r, &changed, &r.calls), 0);
	assert_int_equal(changed, CH_MFR);
	assert_int_equal(r.others, 1);	/* no @other: skipped */
	sd_bus_message_unref(m);

	fg_bus_props_clear(table, &r);
	assert_null(r.name);
	assert_null(r.uuids);
}

static void fill_wrong_type(sd_bus_message *m)
{
	assert_true(sd_bus_message_append(m, "{sv}", "RSSI", "s", "loud") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Connected", "b", 1) >= 0);
}

static void test_wrong_type(void **state)
{
	sd_bus_message *m = dict(fill_wrong_type);
	struct rec r = { .rssi = 5 };
	unsigned changed = 0;

	/* lenient (a foreign service): the odd value is skipped, the rest read */
	assert_int_equal(fg_bus_props_read(m, table, 0, NULL, &r, &changed, &r.calls), 0);
	assert_int_equal(r.rssi, 5);
	assert_true(r.connected);
	assert_int_equal(changed, CH_LINK);
	sd_bus_message_unref(m);

	/* strict (our own API): a mismatch is an error */
	m = dict(fill_wrong_type);
	r.connected = false;
	assert_int_equal(fg_bus_props_read(m, table, FG_BUS_PROPS_STRICT, NULL, &r, NULL, &r.calls),
			 -EBADMSG);
	assert_int_equal(r.rssi, 5);
	sd_bus_message_unref(m);
	fg_bus_props_clear(table, &r);
}

static void test_not_a_dict(void **state)
{
	sd_bus_message *m = NULL;
	struct rec r = { 0 };

	assert_int_equal(sd_bus_message_new_method_call(bus, &m, "a.b", "/a", "a.b", "C"), 0);
	assert_true(sd_bus_message_append(m, "s", "nope") >= 0);
	assert_int_equal(sd_bus_message_seal(m, 1, 0), 0);
	assert_true(sd_bus_message_rewind(m, true) >= 0);
	assert_true(fg_bus_props_read(m, table, 0, NULL, &r, NULL, NULL) < 0);
	assert_null(r.name);
	sd_bus_message_unref(m);
}

static int reader_fails(sd_bus_message *m, void *base, void *userdata)
{
	return -ENOMEM;
}

static void test_reader_error_stops(void **state)
{
	static const struct fg_bus_prop failing[] = {
		FG_BUS_PROP_FN("Connected", "b", reader_fails, 1),
		{ 0 },
	};
	sd_bus_message *m = dict(fill_wrong_type);
	struct rec r = { 0 };

	assert_int_equal(fg_bus_props_read(m, failing, 0, NULL, &r, NULL, NULL), -ENOMEM);
	sd_bus_message_unref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/bus-props/all-types", test_all_types),
		FG_TEST("/bus-props/wrong-type", test_wrong_type),
		FG_TEST("/bus-props/not-a-dict", test_not_a_dict),
		FG_TEST("/bus-props/reader-error-stops", test_reader_error_stops),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
