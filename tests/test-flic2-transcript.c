/* SPDX-License-Identifier: MIT */
/*
 * Byte-by-byte replay of complete Flic 2 sessions through the engine:
 * pairing, reconnect with queued events, and a factory-reset button. Every
 * notification fed in and every write expected out was computed by
 * tests/flic2-vectors.py, an independent implementation of both sides
 * (Python, python3-cryptography, textbook Chaskey), with fixed randomness.
 */
#include <errno.h>

#include "test-flic2-util.h"
#include "test-flic2-transcript.h"

#include "radio/flic2.h"

#define SEC UINT64_C(1000000)

struct ctx {
	struct fg_flic2 *f;
	struct test_rng rng;
	uint8_t rng_bytes[128];
	uint8_t keys[2][32];
	size_t n_keys;
};

static void ctx_keys(struct ctx *c, bool with_test_key)
{
	size_t n;
	const uint8_t (*builtin)[32] = fg_flic2_builtin_keys(&n);

	assert_int_equal(n, 1);
	memcpy(c->keys[0], builtin[0], 32);
	c->n_keys = 1;
	if (with_test_key) {
		assert_int_equal(fg_flic2_key_from_hex(T_TEST_KEY, c->keys[1]), 0);
		c->n_keys = 2;
	}
}

static void ctx_rng(struct ctx *c, const char *hex)
{
	c->rng.len = test_hexlen(hex);
	assert_true(c->rng.len <= sizeof(c->rng_bytes));
	test_unhex(hex, c->rng_bytes, c->rng.len);
	c->rng.bytes = c->rng_bytes;
	c->rng.pos = 0;
}

static void ctx_new(struct ctx *c, enum fg_flic2_mode mode,
		    const struct fg_flic2_pairing *pairing, struct fg_flic2_dedup dedup)
{
	struct fg_flic2_params p = {
		.mode = mode,
		.pairing = pairing,
		.dedup = dedup,
		.trusted_keys = (const uint8_t (*)[32])c->keys,
		.n_trusted_keys = c->n_keys,
		.rng = test_rng_cb,
		.rng_userdata = &c->rng,
	};

	test_unhex(T_ADDRESS, p.address, 6);
	assert_int_equal(fg_flic2_new(&p, &c->f), 0);
}

static void feed(struct ctx *c, const char *const *frags, uint64_t now)
{
	for (size_t i = 0; frags[i]; i++) {
		uint8_t buf[FG_FLIC2_WRITE_MAX];
		size_t n = test_hexlen(frags[i]);

		test_unhex(frags[i], buf, n);
		if (fg_flic2_receive(c->f, buf, n, now) != 0)
			fail_msg("notification %zu rejected: %s", i, fg_flic2_last_error(c->f));
	}
}

static int feed_one(struct ctx *c, const char *const *frags, uint64_t now)
{
	int r = 0;

	for (size_t i = 0; frags[i]; i++) {
		uint8_t buf[FG_FLIC2_WRITE_MAX];
		size_t n = test_hexlen(frags[i]);

		test_unhex(frags[i], buf, n);
		r = fg_flic2_receive(c->f, buf, n, now);
	}
	return r;
}

static void next(struct ctx *c, enum fg_flic2_action_kind kind, struct fg_flic2_action *a)
{
	if (fg_flic2_next_action(c->f, a) != 1)
		fail_msg("expected action %d, queue empty", kind);
	if (a->kind != kind)
		fail_msg("expected action %d, got %d", kind, a->kind);
}

static void expect_writes(struct ctx *c, const char *const *frags)
{
	for (size_t i = 0; frags[i]; i++) {
		struct fg_flic2_action a;
		uint8_t want[FG_FLIC2_WRITE_MAX];
		size_t n = test_hexlen(frags[i]);

		test_unhex(frags[i], want, n);
		next(c, FG_FLIC2_ACTION_WRITE, &a);
		assert_int_equal(a.write.len, n);
		if (memcmp(a.write.data, want, n) != 0)
			fail_msg("write %zu differs from %s", i, frags[i]);
	}
}

static void expect_event(struct ctx *c, enum fg_gesture g, uint32_t count, bool queued)
{
	struct fg_flic2_action a;

	next(c, FG_FLIC2_ACTION_BUTTON_EVENT, &a);
	if (a.button.gesture != g || a.button.event_count != count)
		fail_msg("event %s/%u, expected %s/%u", fg_gesture_to_string(a.button.gesture),
			 a.button.event_count, fg_gesture_to_string(g), count);
	assert_int_equal(a.button.boot_id, T_BOOT_ID);
	assert_int_equal(a.button.queued, queued);
}

static void expect_state(struct ctx *c, uint32_t count)
{
	struct fg_flic2_action a;

	next(c, FG_FLIC2_ACTION_STATE_TO_PERSIST, &a);
	assert_true(a.dedup.valid);
	assert_int_equal(a.dedup.boot_id, T_BOOT_ID);
	assert_int_equal(a.dedup.event_count, count);
}

static void expect_empty(struct ctx *c)
{
	struct fg_flic2_action a;

	if (fg_flic2_next_action(c->f, &a) != 0)
		fail_msg("unexpected action %d", a.kind);
}

static void transcript_pairing(struct ctx *c, struct fg_flic2_pairing *ret_pairing)
{
	struct fg_flic2_action a;
	struct fg_flic2_counters cnt;
	uint8_t b[32];
	uint64_t now = 1000 * SEC;

	ctx_keys(c, true);
	ctx_rng(c, T_A_RNG);
	ctx_new(c, FG_FLIC2_MODE_PAIR, NULL, (struct fg_flic2_dedup){ 0 });

	assert_int_equal(fg_flic2_connected(c->f, T_A_MTU, now), 0);
	assert_int_equal(fg_flic2_get_state(c->f), FG_FLIC2_STATE_PAIRING);
	expect_writes(c, T_A_W_FV1);
	expect_empty(c);
	assert_int_equal(fg_flic2_next_deadline(c->f), now + 31 * SEC);

	feed(c, T_A_R_FV1, now + SEC / 10);
	expect_writes(c, T_A_W_FV2);
	expect_empty(c);

	feed(c, T_A_R_FV2, now + SEC / 5);
	next(c, FG_FLIC2_ACTION_PAIRED, &a);
	test_unhex(T_ADDRESS, b, 6);
	assert_memory_equal(a.paired.address, b, 6);
	assert_int_equal(a.paired.pairing_id, T_A_PAIRING_ID);
	test_unhex(T_A_PAIRING_KEY, b, 16);
	assert_memory_equal(a.paired.pairing_key, b, 16);
	test_unhex(T_A_UUID, b, 16);
	assert_memory_equal(a.paired.uuid, b, 16);
	assert_string_equal(a.paired.serial, "BG30-C12345");
	assert_string_equal(a.paired.name, "Kitchen");
	assert_int_equal(a.paired.firmware_version, 10);
	assert_int_equal(a.paired.battery_mv, T_A_BATTERY_MV);
	test_unhex(T_TEST_KEY, b, 32);
	assert_memory_equal(a.paired.identity_key, b, 32);
	*ret_pairing = a.paired;
	next(c, FG_FLIC2_ACTION_BATTERY, &a);
	assert_int_equal(a.battery_mv, T_A_BATTERY_MV);
	next(c, FG_FLIC2_ACTION_VERIFIED, &a);
	expect_writes(c, T_A_W_INIT);
	expect_empty(c);
	assert_int_equal(fg_flic2_get_state(c->f), FG_FLIC2_STATE_VERIFIED);
	assert_int_equal(fg_flic2_next_deadline(c->f), now + SEC / 5 + 10 * SEC);

	feed(c, T_A_R_INIT, now + SEC / 4);
	/* a fresh pairing starts counting at the button's counter (100) */
	expect_state(c, 100);
	expect_writes(c, T_A_W_CONNPARAMS);
	/* firmware 10: advertising settings, once in this boot */
	expect_writes(c, T_A_W_ADV);
	expect_empty(c);
	assert_int_equal(fg_flic2_next_deadline(c->f), now + SEC / 4 + 10 * SEC);
	feed(c, T_A_R_ADV, now + SEC / 3);
	next(c, FG_FLIC2_ACTION_STATE_TO_PERSIST, &a);
	assert_true(a.dedup.adv_configured);
	assert_int_equal(a.dedup.boot_id, T_BOOT_ID);
	assert_int_equal(a.dedup.event_count, 100);
	expect_empty(c);
	assert_int_equal(fg_flic2_next_deadline(c->f), UINT64_MAX);

	feed(c, T_A_R_EV1, now + 2 * SEC);
	expect_event(c, FG_GESTURE_DOWN, 101, false);
	expect_event(c, FG_GESTURE_UP, 103, false);
	expect_event(c, FG_GESTURE_CLICK, 103, false);
	expect_state(c, 103);
	expect_empty(c);	/* no decision yet: nothing to acknowledge */

	feed(c, T_A_R_EV2, now + 3 * SEC);
	next(c, FG_FLIC2_ACTION_BUTTON_EVENT, &a);
	assert_int_equal(a.button.gesture, FG_GESTURE_SINGLE_CLICK);
	assert_int_equal(a.button.event_count, 104);
	assert_int_equal(a.button.age_usec, 0);
	assert_int_equal(a.button.press_usec, now + 3 * SEC);
	expect_state(c, 104);
	expect_writes(c, T_A_W_ACK);
	expect_empty(c);

	feed(c, T_A_R_PING, now + 4 * SEC);
	expect_writes(c, T_A_W_PONG);
	expect_empty(c);

	assert_int_equal(fg_flic2_request_battery(c->f, now + 5 * SEC), 0);
	expect_writes(c, T_A_W_BATTERY);
	expect_empty(c);
	assert_int_equal(fg_flic2_next_deadline(c->f), now + 15 * SEC);
	feed(c, T_A_R_BATTERY, now + 5 * SEC + 1);
	next(c, FG_FLIC2_ACTION_BATTERY, &a);
	assert_int_equal(a.battery_mv, T_A_BATTERY2_MV);
	expect_empty(c);

	/* every scripted random byte used, in order */
	assert_int_equal(c->rng.pos, c->rng.len);
	fg_flic2_get_counters(c->f, &cnt);
	assert_int_equal(cnt.rx_bad_mac + cnt.rx_short + cnt.rx_long + cnt.rx_unknown +
			 cnt.rx_unexpected + cnt.rx_foreign + cnt.rx_trailing, 0);
	assert_int_equal(cnt.events_reported, 4);
	assert_int_equal(cnt.sessions, 1);
	fg_flic2_disconnected(c->f, now + 6 * SEC);
	assert_int_equal(fg_flic2_get_state(c->f), FG_FLIC2_STATE_IDLE);
	c->f = fg_flic2_free(c->f);
}

static void test_pairing(void **state)
{
	struct ctx c = { 0 };
	struct fg_flic2_pairing p;

	transcript_pairing(&c, &p);
}

/* A gateway restart: a new engine from the persisted record and dedup state. */
static void test_reconnect(void **state)
{
	struct ctx c = { 0 };
	struct fg_flic2_pairing p, cur;
	/* the pairing session set the advertising parameters of this boot */
	struct fg_flic2_dedup d = { .valid = true, .boot_id = T_BOOT_ID, .event_count = 104,
				    .adv_configured = true };
	struct fg_flic2_action a;
	struct fg_flic2_counters cnt;
	uint64_t now = 10000 * SEC, t_init = now + SEC / 10, t_ev = now + SEC / 5;
	uint8_t name[32];
	size_t name_len = test_hexlen(T_B_NAME);

	transcript_pairing(&c, &p);
	ctx_keys(&c, true);
	ctx_rng(&c, T_B_RNG);
	ctx_new(&c, FG_FLIC2_MODE_RECONNECT, &p, d);

	assert_int_equal(fg_flic2_connected(c.f, T_B_MTU, now), 0);
	assert_int_equal(fg_flic2_get_state(c.f), FG_FLIC2_STATE_VERIFYING);
	expect_writes(&c, T_B_W_QV);
	expect_empty(&c);

	feed(&c, T_B_R_QV, now + SEC / 20);
	next(&c, FG_FLIC2_ACTION_VERIFIED, &a);
	expect_writes(&c, T_B_W_INIT);
	expect_empty(&c);

	feed(&c, T_B_R_INIT, t_init);
	expect_empty(&c);	/* same boot, queued events follow */

	feed(&c, T_B_R_EV, t_ev);
	/* 104 was reported before the restart: not again */
	next(&c, FG_FLIC2_ACTION_BUTTON_EVENT, &a);
	assert_int_equal(a.button.gesture, FG_GESTURE_DOWN);
	assert_int_equal(a.button.event_count, 105);
	assert_true(a.button.queued);
	assert_int_equal(a.button.button_time, T_B_EV_TS);
	/* ten minutes before the init response, on our clock */
	assert_int_equal(a.button.press_usec, t_init - 600 * SEC);
	assert_int_equal(a.button.age_usec, t_ev - t_init + 600 * SEC);
	next(&c, FG_FLIC2_ACTION_BUTTON_EVENT, &a);
	assert_int_equal(a.button.gesture, FG_GESTURE_HOLD);
	assert_int_equal(a.button.event_count, 106);
	assert_int_equal(a.button.press_usec, t_init - 599 * SEC);
	assert_false(a.button.double_click_pending);
	expect_event(&c, FG_GESTURE_UP, 107, true);	/* after a hold: no click */
	expect_event(&c, FG_GESTURE_DOWN, 109, true);
	expect_event(&c, FG_GESTURE_UP, 111, true);
	expect_event(&c, FG_GESTURE_CLICK, 111, true);
	expect_event(&c, FG_GESTURE_SINGLE_CLICK, 111, true);
	expect_state(&c, 111);
	expect_writes(&c, T_B_W_ACK);
	/* queue drained: connection parameters, then two requests in flight */
	expect_writes(&c, T_B_W_CONNPARAMS);
	expect_writes(&c, T_B_W_BATTERY);
	expect_writes(&c, T_B_W_FIRMWARE);
	expect_empty(&c);

	feed(&c, T_B_R_BATTERY, now + SEC);
	next(&c, FG_FLIC2_ACTION_BATTERY, &a);
	assert_int_equal(a.battery_mv, T_B_BATTERY_MV);
	expect_writes(&c, T_B_W_NAME);	/* a slot freed up */
	expect_empty(&c);
	feed(&c, T_B_R_FIRMWARE, now + SEC);
	next(&c, FG_FLIC2_ACTION_FIRMWARE, &a);
	assert_int_equal(a.firmware_version, 11);
	feed(&c, T_B_R_NAME, now + SEC);
	next(&c, FG_FLIC2_ACTION_NAME, &a);
	test_unhex(T_B_NAME, name, name_len);
	name[name_len] = 0;
	assert_string_equal(a.name, (const char *)name);
	expect_empty(&c);

	/* replayed and forged packets: rejected, counted, nothing changes */
	assert_int_equal(feed_one(&c, T_B_R_REPLAY, now + 2 * SEC), -EBADMSG);
	assert_int_equal(feed_one(&c, T_B_R_FORGED, now + 2 * SEC), -EBADMSG);
	expect_empty(&c);
	assert_int_equal(fg_flic2_get_state(c.f), FG_FLIC2_STATE_VERIFIED);
	feed(&c, T_B_R_PING, now + 3 * SEC);
	expect_writes(&c, T_B_W_PONG);
	expect_empty(&c);

	fg_flic2_get_counters(c.f, &cnt);
	assert_int_equal(cnt.rx_bad_mac, 2);
	assert_int_equal(cnt.events_duplicate, 1);
	assert_int_equal(cnt.events_reported, 7);
	assert_int_equal(fg_flic2_get_pairing(c.f, &cur), 0);
	assert_string_equal(cur.name, (const char *)name);
	assert_int_equal(cur.firmware_version, 11);
	assert_memory_equal(cur.pairing_key, p.pairing_key, 16);
	assert_int_equal(c.rng.pos, c.rng.len);
	c.f = fg_flic2_free(c.f);
}

static void repair_flow(struct ctx *c, struct fg_flic2_pairing *p)
{
	uint64_t now = 50 * SEC;

	ctx_keys(c, true);
	ctx_rng(c, T_C_RNG);
	ctx_new(c, FG_FLIC2_MODE_RECONNECT, p,
		(struct fg_flic2_dedup){ .valid = true, .boot_id = T_BOOT_ID, .event_count = 104 });
	assert_int_equal(fg_flic2_connected(c->f, T_C_MTU, now), 0);
	expect_writes(c, T_C_W_QV);
	feed(c, T_C_R_QVNEG, now + 1);
	expect_writes(c, T_C_W_FV1);
	expect_empty(c);
	assert_int_equal(fg_flic2_get_state(c->f), FG_FLIC2_STATE_VERIFYING);
	feed(c, T_C_R_FV1, now + 2);
	expect_writes(c, T_C_W_TEST);
	expect_empty(c);
}

static void test_repair_needed(void **state)
{
	struct ctx c = { 0 };
	struct fg_flic2_pairing p, cur;
	struct fg_flic2_action a;

	transcript_pairing(&c, &p);
	repair_flow(&c, &p);
	feed(&c, T_C_R_TEST_NE, 50 * SEC + 3);
	next(&c, FG_FLIC2_ACTION_FAILED, &a);
	assert_int_equal(a.failed.reason, FG_FLIC2_FAIL_REPAIR_NEEDED);
	assert_string_equal(fg_flic2_failure_to_string(a.failed.reason), "repair-needed");
	next(&c, FG_FLIC2_ACTION_DISCONNECT, &a);
	expect_empty(&c);
	assert_int_equal(fg_flic2_get_state(c.f), FG_FLIC2_STATE_REPAIR_NEEDED);
	assert_int_equal(c.rng.pos, c.rng.len);
	/* no endless loop: the engine will not try again, even after a reconnect */
	fg_flic2_disconnected(c.f, 60 * SEC);
	assert_int_equal(fg_flic2_get_state(c.f), FG_FLIC2_STATE_REPAIR_NEEDED);
	assert_int_equal(fg_flic2_connected(c.f, 23, 61 * SEC), -ESTALE);
	assert_int_equal(fg_flic2_get_pairing(c.f, &cur), -ENOENT);
	expect_empty(&c);
	c.f = fg_flic2_free(c.f);
}

/* The button still holds the pairing: odd, not a reason to forget it. */
static void test_repair_exists(void **state)
{
	struct ctx c = { 0 };
	struct fg_flic2_pairing p, cur;
	struct fg_flic2_action a;

	transcript_pairing(&c, &p);
	repair_flow(&c, &p);
	feed(&c, T_C_R_TEST_EX, 50 * SEC + 3);
	next(&c, FG_FLIC2_ACTION_FAILED, &a);
	assert_int_equal(a.failed.reason, FG_FLIC2_FAIL_PROTOCOL);
	next(&c, FG_FLIC2_ACTION_DISCONNECT, &a);
	expect_empty(&c);
	assert_int_equal(fg_flic2_get_state(c.f), FG_FLIC2_STATE_CLOSING);
	fg_flic2_disconnected(c.f, 60 * SEC);
	assert_int_equal(fg_flic2_get_state(c.f), FG_FLIC2_STATE_IDLE);
	assert_int_equal(fg_flic2_get_pairing(c.f, &cur), 0);
	assert_memory_equal(cur.pairing_key, p.pairing_key, 16);
	c.f = fg_flic2_free(c.f);
}

/* Production trusts only Flic's key: the emulated button is refused. */
static void test_untrusted_identity(void **state)
{
	struct ctx c = { 0 };
	struct fg_flic2_action a;

	ctx_keys(&c, false);
	ctx_rng(&c, T_A_RNG);
	ctx_new(&c, FG_FLIC2_MODE_PAIR, NULL, (struct fg_flic2_dedup){ 0 });
	assert_int_equal(fg_flic2_connected(c.f, T_A_MTU, SEC), 0);
	expect_writes(&c, T_A_W_FV1);
	feed(&c, T_A_R_FV1, 2 * SEC);
	next(&c, FG_FLIC2_ACTION_FAILED, &a);
	assert_int_equal(a.failed.reason, FG_FLIC2_FAIL_NOT_GENUINE);
	assert_int_equal(a.failed.detail, 1);
	next(&c, FG_FLIC2_ACTION_DISCONNECT, &a);
	expect_empty(&c);
	/* no key material was drawn for a button that failed the check */
	assert_int_equal(c.rng.pos, 4);
	c.f = fg_flic2_free(c.f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/flic2-transcript/pairing", test_pairing),
		FG_TEST("/flic2-transcript/reconnect-queued-events", test_reconnect),
		FG_TEST("/flic2-transcript/factory-reset-repair-needed", test_repair_needed),
		FG_TEST("/flic2-transcript/pairing-still-exists", test_repair_exists),
		FG_TEST("/flic2-transcript/untrusted-identity", test_untrusted_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
