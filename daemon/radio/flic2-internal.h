/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the Flic 2 engine's files share: the engine struct and each file's
 * functions for the others. Layers, each calling only those before it:
 * flic2-core.c, flic2-verify.c and flic2-events.c, then flic2.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radio/chaskey.h"
#include "radio/flic2-packet.h"
#include "radio/flic2.h"

#define DEFAULT_VERIFY_TIMEOUT_USEC (UINT64_C(31) * 1000000)
#define DEFAULT_REQUEST_TIMEOUT_USEC (UINT64_C(10) * 1000000)
#define NO_DEADLINE UINT64_MAX

/* Session MAC failures tolerated in a row before the session is declared bad. */
#define MAX_BAD_MAC_RUN 3
/* Official clients keep at most two requests in flight. */
#define MAX_INFLIGHT 2
/* Connection parameters the official clients ask for (1.25 ms, -, 10 ms units). */
#define CONN_INTERVAL_MIN 80
#define CONN_INTERVAL_MAX 90
#define CONN_LATENCY 17
#define CONN_TIMEOUT 800

/*
 * SetAdvParametersRequest, when and how flic2lib-c-module sends it
 * (docs/flic2.md: why): firmware 6 and later, once per button boot;
 * active, on the 1M PHY only, for 86400 s; 160 x 0.625 ms (100 ms) as the
 * C module, then 1636 x 0.625 ms (~1 s) as the Android library, not the C
 * module's 8 s: a woken button that finds no free link slot must be heard
 * again soon after one frees (docs/benchmarks.md, "Many buttons").
 */
#define ADV_MIN_FIRMWARE 6
#define ADV_INTERVAL_FAST 160
#define ADV_INTERVAL_SLOW 1636
#define ADV_TIMEOUT_S 86400
/* The official clients' limits for the auto-disconnect time. */
#define AUTO_DISCONNECT_MIN_S 40
#define AUTO_DISCONNECT_NEVER 511

/* One input never queues more than this many actions (16 items x 3 + extras). */
#define QUEUE_RESERVE 64
#define QUEUE_CAP 96

_Static_assert(FG_FLIC2_WRITE_MAX == FG_FLIC2_MAX_WRITE, "write size");

enum phase {
	PH_IDLE,
	PH_WAIT_FV1,		/* pairing: FullVerifyRequest1 sent */
	PH_WAIT_FV2,		/* pairing: FullVerifyRequest2 sent */
	PH_WAIT_QV,		/* QuickVerifyRequest sent */
	PH_WAIT_FV1_TEST,	/* quick verify refused: FullVerifyRequest1 sent */
	PH_WAIT_TEST,		/* TestIfReallyUnpairedRequest sent */
	PH_ESTABLISHED,
	PH_CLOSING,		/* failed or asked to close: waiting for the link to drop */
	PH_REPAIR_NEEDED,
};

/* in the order they are sent when several are pending (the C module's) */
enum request {
	REQ_INIT,
	REQ_ADV,		/* SetAdvParametersRequest: unanswered is not fatal */
	REQ_BATTERY,
	REQ_FIRMWARE,
	REQ_NAME,
	_REQ_MAX,
};

struct fg_flic2 {
	/* configuration */
	uint8_t (*keys)[32];
	size_t n_keys;
	fg_flic2_rng_t rng;
	void *rng_userdata;
	uint16_t auto_disconnect_s;
	uint64_t verify_timeout_usec;
	uint64_t request_timeout_usec;

	/* what outlives a session */
	uint8_t address[6];		/* big endian */
	bool paired;
	struct fg_flic2_pairing pairing;
	struct fg_flic2_dedup dedup;

	/* the session */
	enum phase phase;
	unsigned mtu;
	uint8_t conn_id;
	uint32_t tmp_id;
	struct fg_flic2_reassembler reasm;
	uint8_t fvs[32];		/* fullVerifySecret, pairing / re-pair test only */
	uint8_t pairing_token[16];	/* re-pair test */
	uint8_t qv_random[7];
	struct fg_chaskey_keys keys_session;
	uint64_t tx_counter;
	uint64_t rx_counter;
	unsigned bad_mac_run;
	bool fresh;			/* this session is the pairing one */
	bool init_done;			/* InitButtonEventsResponse received */
	bool queue_drained;		/* all events queued before the session delivered */
	uint64_t base_button_time;	/* button clock <-> our clock anchor */
	uint64_t base_usec;
	uint64_t verify_deadline;
	unsigned pending;		/* requests to send (bit per enum request) */
	unsigned inflight;		/* requests sent, answer awaited */
	uint64_t request_deadline[_REQ_MAX];

	/* output */
	struct fg_flic2_action queue[QUEUE_CAP];
	size_t q_head;
	size_t q_len;

	struct fg_flic2_counters counters;
	char last_error[128];
};

/* the opcode that asks for each request */
extern const uint8_t f2_request_opcode[_REQ_MAX];

/* flic2-core.c */
__attribute__((format(printf, 2, 3)))
void f2_set_error(struct fg_flic2 *f, const char *fmt, ...);
size_t f2_queue_free(const struct fg_flic2 *f);
struct fg_flic2_action *f2_push(struct fg_flic2 *f, enum fg_flic2_action_kind kind);
void f2_purge_link_actions(struct fg_flic2 *f);
void f2_send_unsigned(struct fg_flic2 *f, const struct fg_flic2_tx *tx);
void f2_send_signed(struct fg_flic2 *f, const struct fg_flic2_tx *tx);
void f2_send_simple(struct fg_flic2 *f, uint8_t opcode);
void f2_pump_requests(struct fg_flic2 *f, uint64_t now);
void f2_queue_request(struct fg_flic2 *f, enum request req, uint64_t now);
void f2_wipe_session(struct fg_flic2 *f);
void f2_fail(struct fg_flic2 *f, enum fg_flic2_failure reason, uint8_t detail);
void f2_sanitize_serial(const uint8_t *in, size_t len, char *out, size_t size);
void f2_sanitize_name(const uint8_t *in, size_t len, char out[24]);
bool f2_in_session(const struct fg_flic2 *f);

/* flic2-verify.c */
int f2_random_bytes(struct fg_flic2 *f, void *buf, size_t len);
void f2_send_full_verify1(struct fg_flic2 *f);
int f2_on_full_verify_response1(struct fg_flic2 *f, uint8_t header,
				    const struct fg_flic2_rx *rx);
bool f2_mac_ok(struct fg_flic2 *f, const uint8_t *pkt, size_t len);
int f2_on_full_verify_response2(struct fg_flic2 *f, const struct fg_flic2_rx *rx,
				    uint64_t now);
int f2_on_quick_verify_response(struct fg_flic2 *f, uint8_t header,
				    const uint8_t *pkt, size_t len,
				    const struct fg_flic2_rx *rx, uint64_t now);
int f2_on_test_unpaired_response(struct fg_flic2 *f, const struct fg_flic2_rx *rx);

/* flic2-events.c */
void f2_on_init_response(struct fg_flic2 *f, const struct fg_flic2_rx *rx, uint64_t now);
int f2_on_button_events(struct fg_flic2 *f, const struct fg_flic2_rx *rx, uint64_t now);
void f2_emit_name(struct fg_flic2 *f, const struct fg_flic2_rx *rx);
bool f2_take_response(struct fg_flic2 *f, enum request req, uint8_t opcode);
void f2_maybe_send_adv(struct fg_flic2 *f, uint64_t now);
void f2_on_adv_response(struct fg_flic2 *f);
