/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "delivery/mapping.h"

#define SEC UINT64_C(1000000)
#define NOW (UINT64_C(1764000000) * SEC)

static struct fg_button_config button = {
	.name = (char *)"room-12",
	.name_id = (char *)"Room 12",
	.serial = (char *)"BG30-C12345",
	.on = FG_GESTURE_BIT(FG_GESTURE_CLICK) | FG_GESTURE_BIT(FG_GESTURE_HOLD),
	.off = FG_GESTURE_BIT(FG_GESTURE_DOUBLE_CLICK),
	.test = FG_GESTURE_BIT(FG_GESTURE_SINGLE_CLICK),
	.info = (char *)"Bed by the window",
	.severity = FG_SEVERITY_CRITICAL,
	.while_open = FG_WHILE_OPEN_APPEND,
};

static unsigned next_id;

static int feed(struct fg_mapping *m, const struct fg_button_config *b, enum fg_gesture g,
		uint32_t counter, uint64_t now, uint64_t age, struct fg_alert *ret)
{
	struct fg_button_event ev = { .gesture = g, .event_counter = counter, .age_usec = age,
				      .queued = age > 0, .battery_mv = 3000 };
	char id[FG_ALERT_ID_MAX];
	struct fg_mapping_input in = { .button = b, .gateway = "gw", .event = &ev,
				       .alert_id = id, .now_realtime_usec = now };
	enum fg_mapping_outcome o;
	struct fg_alert a = {};

	snprintf(id, sizeof(id), "id%u", ++next_id);
	assert_int_equal(fg_mapping_handle(m, &in, &o, &a), 0);
	if (ret)
		*ret = a;
	else
		fg_alert_clear(&a);
	if (!fg_mapping_outcome_emits(o))
		assert_null(a.button);
	return o;
}

static void test_open_append_close(void **state)
{
	struct fg_mapping *m = fg_mapping_new();
	struct fg_alert a;

	assert_int_equal(feed(m, &button, FG_GESTURE_DOWN, 1, NOW, 0, NULL), FG_MAPPING_IGNORED);
	assert_int_equal(feed(m, &button, FG_GESTURE_SINGLE_CLICK, 1, NOW, 0, NULL), FG_MAPPING_TEST);
	assert_false(fg_mapping_is_open(m, "room-12"));

	assert_int_equal(feed(m, &button, FG_GESTURE_CLICK, 2, NOW, 40 * SEC, &a), FG_MAPPING_OPEN);
	assert_int_equal(a.state, FG_ALERT_ON);
	assert_false(a.appended);
	assert_string_equal(a.name_id, "Room 12");
	assert_string_equal(a.button, "room-12");
	assert_string_equal(a.info, "Bed by the window");
	assert_string_equal(a.gateway, "gw");
	assert_string_equal(a.serial, "BG30-C12345");
	assert_string_equal(a.idempotency_key, "BG30-C12345:2:click");
	assert_string_equal(a.incident_id, a.id);
	assert_int_equal(a.press_usec, NOW - 40 * SEC);
	assert_int_equal(a.age_usec, 40 * SEC);
	assert_true(a.queued);
	assert_int_equal(a.battery_mv, 3000);
	char incident[FG_ALERT_ID_MAX];
	strcpy(incident, a.id);
	fg_alert_clear(&a);
	assert_true(fg_mapping_is_open(m, "room-12"));

	assert_int_equal(feed(m, &button, FG_GESTURE_HOLD, 3, NOW + SEC, 0, &a), FG_MAPPING_APPEND);
	assert_true(a.appended);
	assert_string_equal(a.incident_id, incident);
	assert_string_not_equal(a.id, incident);
	fg_alert_clear(&a);

	assert_int_equal(feed(m, &button, FG_GESTURE_DOUBLE_CLICK, 4, NOW + 2 * SEC, 0, &a), FG_MAPPING_CLOSE);
	assert_int_equal(a.state, FG_ALERT_OFF);
	assert_true(a.was_open);
	assert_string_equal(a.incident_id, incident);
	fg_alert_clear(&a);
	assert_false(fg_mapping_is_open(m, "room-12"));

	/* Off with nothing open is still emitted, marked as such. */
	assert_int_equal(feed(m, &button, FG_GESTURE_DOUBLE_CLICK, 5, NOW + 3 * SEC, 0, &a), FG_MAPPING_CLOSE_IDLE);
	assert_false(a.was_open);
	assert_string_equal(a.incident_id, "");
	fg_alert_clear(&a);
	fg_mapping_free(m);
}

static void test_suppress(void **state)
{
	struct fg_button_config b = button;
	struct fg_mapping *m = fg_mapping_new();
	struct fg_button_alert_state st;

	b.while_open = FG_WHILE_OPEN_SUPPRESS;
	assert_int_equal(feed(m, &b, FG_GESTURE_CLICK, 10, NOW, 0, NULL), FG_MAPPING_OPEN);
	assert_int_equal(feed(m, &b, FG_GESTURE_CLICK, 11, NOW, 0, NULL), FG_MAPPING_SUPPRESSED);
	assert_int_equal(feed(m, &b, FG_GESTURE_HOLD, 12, NOW, 0, NULL), FG_MAPPING_SUPPRESSED);
	assert_int_equal(fg_mapping_n_buttons(m), 1);
	fg_mapping_get(m, 0, &st);
	assert_true(st.open);
	assert_int_equal(st.appended, 2);
	assert_int_equal(feed(m, &b, FG_GESTURE_DOUBLE_CLICK, 13, NOW, 0, NULL), FG_MAPPING_CLOSE);
	fg_mapping_free(m);
}

static void test_duplicates(void **state)
{
	struct fg_mapping *m = fg_mapping_new();

	assert_int_equal(feed(m, &button, FG_GESTURE_CLICK, 7, NOW, 0, NULL), FG_MAPPING_OPEN);
	/* The same event again after a reconnect: same counter, same press time. */
	assert_int_equal(feed(m, &button, FG_GESTURE_CLICK, 7, NOW + 30 * SEC, 30 * SEC, NULL), FG_MAPPING_DUPLICATE);
	assert_int_equal(feed(m, &button, FG_GESTURE_CLICK, 7, NOW + 2 * SEC, 0, NULL), FG_MAPPING_DUPLICATE);
	/* A reset button reuses the counter for a press long after: a new press. */
	assert_int_equal(feed(m, &button, FG_GESTURE_CLICK, 7, NOW + 3600 * SEC, 0, NULL), FG_MAPPING_APPEND);
	/* Same counter, other gesture (click and hold of one press differ). */
	assert_int_equal(feed(m, &button, FG_GESTURE_DOUBLE_CLICK, 7, NOW + 3600 * SEC, 0, NULL), FG_MAPPING_CLOSE);
	/* The ring forgets the oldest after FG_MAPPING_SEEN events. */
	for (uint32_t c = 100; c < 100 + FG_MAPPING_SEEN; c++)
		feed(m, &button, FG_GESTURE_HOLD, c, NOW + 3600 * SEC, 0, NULL);
	assert_int_equal(feed(m, &button, FG_GESTURE_HOLD, 100 + FG_MAPPING_SEEN - 1, NOW + 3600 * SEC, 0, NULL),
			 FG_MAPPING_DUPLICATE);
	fg_mapping_free(m);
}

static void test_toggle(void **state)
{
	struct fg_button_config b = button;
	struct fg_mapping *m = fg_mapping_new();

	b.on = b.off = FG_GESTURE_BIT(FG_GESTURE_CLICK);
	assert_int_equal(feed(m, &b, FG_GESTURE_CLICK, 1, NOW, 0, NULL), FG_MAPPING_OPEN);
	assert_int_equal(feed(m, &b, FG_GESTURE_CLICK, 2, NOW, 0, NULL), FG_MAPPING_CLOSE);
	assert_int_equal(feed(m, &b, FG_GESTURE_CLICK, 3, NOW, 0, NULL), FG_MAPPING_OPEN);
	fg_mapping_free(m);
}

static void test_keys(void **state)
{
	struct fg_button_config b = button;
	struct fg_button_event ev = { .gesture = FG_GESTURE_HOLD, .event_counter = 4000000000u };
	char key[FG_IDEMPOTENCY_KEY_MAX];

	fg_mapping_idempotency_key(&b, &ev, key);
	assert_string_equal(key, "BG30-C12345:4000000000:hold");
	strcpy(ev.serial, "BG31-D00001");
	fg_mapping_idempotency_key(&b, &ev, key);
	assert_string_equal(key, "BG31-D00001:4000000000:hold");
	ev.serial[0] = '\0';
	b.serial = NULL;
	b.has_address = true;
	memcpy(b.address, (uint8_t[]){ 0x80, 0xe4, 0xda, 0x70, 0x12, 0x34 }, 6);
	fg_mapping_idempotency_key(&b, &ev, key);
	assert_string_equal(key, "80E4DA701234:4000000000:hold");
	b.has_address = false;
	fg_mapping_idempotency_key(&b, &ev, key);
	assert_string_equal(key, "room-12:4000000000:hold");
}

static void test_persist(void **state)
{
	struct fg_button_config b2 = button;
	struct fg_mapping *m = fg_mapping_new(), *m2 = fg_mapping_new();
	struct fg_button_alert_state st;
	char *text, *text2;
	size_t len, len2;

	b2.name = (char *)"hall";
	feed(m, &button, FG_GESTURE_CLICK, 1, NOW, 0, NULL);
	feed(m, &button, FG_GESTURE_HOLD, 2, NOW, 0, NULL);
	feed(m, &b2, FG_GESTURE_CLICK, 1, NOW, 0, NULL);
	feed(m, &b2, FG_GESTURE_DOUBLE_CLICK, 2, NOW, 0, NULL);
	assert_int_equal(fg_mapping_serialize(m, &text, &len), 0);
	assert_int_equal(fg_mapping_load(m2, text, len), 0);
	assert_true(fg_mapping_is_open(m2, "room-12"));
	assert_false(fg_mapping_is_open(m2, "hall"));
	fg_mapping_get(m2, 0, &st);
	assert_string_equal(st.button, "room-12");
	assert_int_equal(st.appended, 1);
	assert_int_equal(st.opened_usec, NOW);
	/* duplicates survive a restart */
	assert_int_equal(feed(m2, &button, FG_GESTURE_HOLD, 2, NOW, 0, NULL), FG_MAPPING_DUPLICATE);
	assert_int_equal(fg_mapping_serialize(m, &text2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(text, text2, len);
	/* every truncation is rejected and leaves the state alone */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(fg_mapping_load(m2, text, n), -EBADMSG);
	assert_true(fg_mapping_is_open(m2, "room-12"));
	assert_int_equal(fg_mapping_load(m2, "flicgate-alerts 1\nseen 1 click 5\nend\n", 37), -EBADMSG);
	assert_int_equal(fg_mapping_load(m2, "flicgate-alerts 1\nbutton a/b 0 - 0 0\nend\n", 41), -EBADMSG);
	assert_int_equal(fg_mapping_load(m2, "flicgate-alerts 1\nbutton a 2 - 0 0\nend\n", 39), -EBADMSG);
	/* and so do the refused ones: still open */
	assert_true(fg_mapping_is_open(m2, "room-12"));
	free(text);
	free(text2);
	fg_mapping_free(m);
	fg_mapping_free(m2);
}

/* One button's record (a journal record) merges into a state, the others stay. */
static void test_persist_one_button(void **state)
{
	struct fg_button_config b2 = button;
	struct fg_mapping *m = fg_mapping_new(), *m2 = fg_mapping_new();
	char *one, *other;
	size_t len, len2;

	b2.name = (char *)"hall";
	feed(m, &button, FG_GESTURE_CLICK, 1, NOW, 0, NULL);
	feed(m, &b2, FG_GESTURE_CLICK, 1, NOW, 0, NULL);
	assert_int_equal(fg_mapping_serialize_button(m, "room-12", &one, &len), 0);
	assert_null(strstr(one, "hall"));
	assert_int_equal(fg_mapping_serialize_button(m, "nobody", &other, &len2), -ENOENT);
	assert_int_equal(fg_mapping_serialize_button(m, "hall", &other, &len2), 0);
	assert_int_equal(fg_mapping_merge(m2, one, len), 0);
	assert_true(fg_mapping_is_open(m2, "room-12"));
	assert_false(fg_mapping_is_open(m2, "hall"));
	assert_int_equal(fg_mapping_merge(m2, other, len2), 0);
	assert_true(fg_mapping_is_open(m2, "hall"));
	assert_int_equal(fg_mapping_n_buttons(m2), 2);
	/* a newer record of a button replaces its state, duplicates included */
	feed(m, &button, FG_GESTURE_DOUBLE_CLICK, 2, NOW, 0, NULL);
	free(one);
	assert_int_equal(fg_mapping_serialize_button(m, "room-12", &one, &len), 0);
	assert_int_equal(fg_mapping_merge(m2, one, len), 0);
	assert_false(fg_mapping_is_open(m2, "room-12"));
	assert_true(fg_mapping_is_open(m2, "hall"));
	assert_int_equal(fg_mapping_n_buttons(m2), 2);
	assert_int_equal(feed(m2, &button, FG_GESTURE_DOUBLE_CLICK, 2, NOW, 0, NULL), FG_MAPPING_DUPLICATE);
	/* a damaged record changes nothing */
	assert_int_equal(fg_mapping_merge(m2, one, len - 2), -EBADMSG);
	assert_true(fg_mapping_is_open(m2, "hall"));
	free(one);
	free(other);
	fg_mapping_free(m);
	fg_mapping_free(m2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "/mapping/open-append-close", test_open_append_close, NULL, NULL, NULL },
		{ "/mapping/suppress", test_suppress, NULL, NULL, NULL },
		{ "/mapping/duplicates", test_duplicates, NULL, NULL, NULL },
		{ "/mapping/toggle", test_toggle, NULL, NULL, NULL },
		{ "/mapping/idempotency-key", test_keys, NULL, NULL, NULL },
		{ "/mapping/persist", test_persist, NULL, NULL, NULL },
		{ "/mapping/persist-one-button", test_persist_one_button, NULL, NULL, NULL },
	};

	for (int o = 0; o < _FG_MAPPING_OUTCOME_MAX; o++)
		if (!fg_mapping_outcome_to_string(o))
			return 1;
	return cmocka_run_group_tests_name("mapping", tests, NULL, NULL);
}
