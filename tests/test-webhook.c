/* SPDX-License-Identifier: MIT */
/* libcurl multi on sd-event against the real loopback sink. */
#include "fg-test.h"
#include "sink-helper.h"

#include "delivery/webhook.h"
#include "lib/strv.h"

struct result {
	bool done;
	long status;
	int curl_code;
	char error[256];
	bool has_retry_after;
	char retry_after[64];
	char response[600];
	uint64_t latency;
	unsigned http_version;
	unsigned new_connections;
};

static struct sink sink;

static int setup(void **state)
{
	assert_int_equal(sink_start(&sink, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	sink_stop(&sink);
	return 0;
}

static void on_done(struct fg_webhook *w, const struct fg_webhook_result *r, void *userdata)
{
	struct result *res = userdata;

	res->done = true;
	res->status = r->http_status;
	res->curl_code = r->curl_code;
	snprintf(res->error, sizeof(res->error), "%s", r->error);
	res->has_retry_after = r->has_retry_after;
	snprintf(res->retry_after, sizeof(res->retry_after), "%s", r->retry_after);
	snprintf(res->response, sizeof(res->response), "%s", r->response);
	res->latency = r->latency_usec;
	res->http_version = r->http_version;
	res->new_connections = r->new_connections;
}

static void run_until(sd_event *e, struct result *res, size_t n)
{
	for (int i = 0; i < 2000; i++) {
		bool all = true;

		for (size_t k = 0; k < n; k++)
			all = all && res[k].done;
		if (all)
			return;
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	}
	fail_msg("transfers did not finish");
}

static void send_one(sd_event *e, struct fg_webhook *w, const char *path, uint64_t timeout,
		     struct result *res)
{
	char url[256];
	char *headers[] = { (char *)"Content-Type: application/json",
			    (char *)"Idempotency-Key: BG30-C12345:7:click", NULL };
	struct fg_request req = { .method = "POST", .url = url, .headers = headers,
				  .body = (char *)"{\"flic_nameId\":\"Room 1\",\"flic_state\":\"On\"}" };
	struct fg_webhook_config cfg = { .timeout_usec = timeout, .tls_verify = true };

	req.body_len = strlen(req.body);
	snprintf(url, sizeof(url), "%s%s", sink.url, path);
	memset(res, 0, sizeof(*res));
	assert_int_equal(fg_webhook_send(w, &req, &cfg, on_done, res, NULL), 0);
	run_until(e, res, 1);
}

static void test_ok_and_recorded(void **state)
{
	sd_event *e;
	struct fg_webhook *w;
	struct result res;
	char *log;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_webhook_new(e, &w), 0);
	send_one(e, w, "/hook/a", 5000000, &res);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.curl_code, 0);
	assert_string_equal(res.error, "");
	assert_false(res.has_retry_after);
	assert_non_null(strstr(res.response, "ok"));
	assert_true(res.latency > 0);
	/* plain http: HTTP/1.1 on a connection this transfer opened */
	assert_int_equal(res.http_version, 11);
	assert_int_equal(res.new_connections, 1);
	assert_int_equal(fg_webhook_in_flight(w), 0);
	log = sink_read_log(&sink);
	assert_non_null(strstr(log, "\"method\":\"POST\",\"path\":\"/hook/a\""));
	assert_non_null(strstr(log, "\"idempotency-key\":\"BG30-C12345:7:click\""));
	assert_non_null(strstr(log, "\"content-type\":\"application/json\""));
	assert_non_null(strstr(log, "\"user-agent\":\"flicgate/"));
	assert_non_null(strstr(log, "\"body\":\"{\\\"flic_nameId\\\":\\\"Room 1\\\",\\\"flic_state\\\":\\\"On\\\"}\""));
	assert_null(strstr(log, "\"expect\""));
	free(log);

	/*
	 * The next requests reuse the kept-alive connection: curl opened
	 * none (client side) and the sink saw them all on its connection 1.
	 */
	for (int i = 0; i < 3; i++) {
		send_one(e, w, "/hook/b", 5000000, &res);
		assert_int_equal(res.status, 200);
		assert_int_equal(res.http_version, 11);
		assert_int_equal(res.new_connections, 0);
	}
	log = sink_read_log(&sink);
	assert_int_equal(count_substr(log, "\"conn\":1,"), 4);
	assert_null(strstr(log, "\"conn\":2,"));
	free(log);
	fg_webhook_free(w);
	sd_event_unref(e);
}

static void test_response_classes(void **state)
{
	sd_event *e;
	struct fg_webhook *w;
	struct result res;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_webhook_new(e, &w), 0);

	assert_int_equal(sink_mode(&sink, "count=1 status 503"), 200);
	send_one(e, w, "/x", 5000000, &res);
	assert_int_equal(res.status, 503);

	assert_int_equal(sink_mode(&sink, "count=1 retry-after 7"), 200);
	send_one(e, w, "/x", 5000000, &res);
	assert_int_equal(res.status, 429);
	assert_true(res.has_retry_after);
	assert_non_null(strstr(res.retry_after, "7"));

	assert_int_equal(sink_mode(&sink, "count=1 status 400"), 200);
	send_one(e, w, "/x", 5000000, &res);
	assert_int_equal(res.status, 400);

	/* per path: only /other is refused */
	assert_int_equal(sink_mode(&sink, "path=/other status 401"), 200);
	send_one(e, w, "/other", 5000000, &res);
	assert_int_equal(res.status, 401);
	send_one(e, w, "/x", 5000000, &res);
	assert_int_equal(res.status, 200);
	assert_int_equal(sink_control(&sink, "/_sink/clear", ""), 200);

	/*
	 * A reset connection is a transport error, not an answer. (curl
	 * itself retries once on a fresh connection when a kept-alive one
	 * dies before any response, hence count=2.)
	 */
	assert_int_equal(sink_mode(&sink, "count=2 reset"), 200);
	send_one(e, w, "/x", 5000000, &res);
	assert_int_equal(res.status, 0);
	assert_true(res.curl_code != 0);
	assert_true(strlen(res.error) > 0);

	/* a hanging server hits the timeout */
	assert_int_equal(sink_mode(&sink, "count=1 hang"), 200);
	send_one(e, w, "/x", 1000000, &res);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.curl_code, 28);	/* CURLE_OPERATION_TIMEDOUT */

	/* slow but within the timeout is fine */
	assert_int_equal(sink_mode(&sink, "count=1 slow 200"), 200);
	send_one(e, w, "/x", 5000000, &res);
	assert_int_equal(res.status, 200);
	assert_true(res.latency >= 200000);

	fg_webhook_free(w);
	sd_event_unref(e);
}

static void test_refused_and_parallel(void **state)
{
	sd_event *e;
	struct fg_webhook *w;
	struct result res[20];
	char *log;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_webhook_new(e, &w), 0);
	/* 20 at once share a few kept-alive connections */
	for (int i = 0; i < 20; i++) {
		char url[256];
		struct fg_request req = { .method = "PUT", .url = url, .body = (char *)"x", .body_len = 1 };
		struct fg_webhook_config cfg = { .timeout_usec = 5000000, .tls_verify = true };

		snprintf(url, sizeof(url), "%s/p/%d", sink.url, i);
		memset(&res[i], 0, sizeof(res[i]));
		assert_int_equal(fg_webhook_send(w, &req, &cfg, on_done, &res[i], NULL), 0);
	}
	assert_int_equal(fg_webhook_in_flight(w), 20);
	run_until(e, res, 20);
	for (int i = 0; i < 20; i++)
		assert_int_equal(res[i].status, 200);
	log = sink_read_log(&sink);
	assert_int_equal(count_substr(log, "\"method\":\"PUT\""), 20);
	/* at most MAX_HOST_CONNECTIONS connections were opened */
	assert_null(strstr(log, "\"conn\":9,"));
	free(log);

	/* nobody listening */
	sink_stop(&sink);
	send_one(e, w, "/x", 2000000, &res[0]);
	assert_int_equal(res[0].status, 0);
	/* refused, or a kept-alive connection found dead */
	assert_true(res[0].curl_code != 0);
	assert_int_equal(sink_start(&sink, NULL), 0);

	/* cancel: no callback, nothing leaks */
	{
		struct fg_webhook_transfer *t;
		char url[256];
		struct fg_request req = { .method = "POST", .url = url, .body = (char *)"", .body_len = 0 };
		struct fg_webhook_config cfg = { .timeout_usec = 5000000 };

		snprintf(url, sizeof(url), "%s/cancelled", sink.url);
		memset(&res[1], 0, sizeof(res[1]));
		assert_int_equal(fg_webhook_send(w, &req, &cfg, on_done, &res[1], &t), 0);
		fg_webhook_cancel(w, t);
		assert_int_equal(sd_event_run(e, 100000) >= 0, 1);
		assert_false(res[1].done);
	}
	fg_webhook_free(w);
	sd_event_unref(e);
}

static void test_proxy_and_down(void **state)
{
	sd_event *e;
	struct fg_webhook *w;
	struct result res = {};
	struct fg_request req = { .method = "POST", .url = "http://alerts.invalid/via-proxy",
				  .body = (char *)"{}", .body_len = 2 };
	struct fg_webhook_config cfg = { .timeout_usec = 5000000, .tls_verify = true,
					 .proxy = sink.url };
	char *log;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_webhook_new(e, &w), 0);
	/* the proxy setting is used: the sink, as proxy, sees the absolute URL */
	assert_int_equal(fg_webhook_send(w, &req, &cfg, on_done, &res, NULL), 0);
	run_until(e, &res, 1);
	assert_int_equal(res.status, 200);
	log = sink_read_log(&sink);
	assert_non_null(strstr(log, "\"path\":\"http://alerts.invalid/via-proxy\""));
	free(log);

	/* "down 1": listener closed for a second, then back */
	assert_int_equal(sink_mode(&sink, "count=1 down 1"), 200);
	send_one(e, w, "/x", 2000000, &res);
	assert_int_equal(res.status, 0);
	/*
	 * While down: no answer. (Refused for a new connection; a kept-alive
	 * one curl still holds fails on send or receive instead.)
	 */
	send_one(e, w, "/x", 2000000, &res);
	assert_int_equal(res.status, 0);
	assert_true(res.curl_code != 0);
	sink_sleep_ms(1300);
	send_one(e, w, "/x", 2000000, &res);
	assert_int_equal(res.status, 200);
	fg_webhook_free(w);
	sd_event_unref(e);
}

/* The sink's AlertOps mimic: On opens, On while open appends, Off closes. */
static void test_alertops_mimic(void **state)
{
	static const char *const args[] = { "--alertops", NULL };
	static const char *const bodies[] = {
		"{\"flic_nameId\":\"Room 1\",\"flic_state\":\"On\",\"info\":\"bed\"}",
		"{\"flic_nameId\":\"Room 1\",\"flic_state\":\"On\",\"info\":\"bed\"}",
		"{\"flic_nameId\":\"Room 1\",\"flic_state\":\"Off\",\"info\":\"bed\"}",
		"{\"flic_nameId\":\"Room 2\",\"flic_state\":\"On\",\"info\":\"\"}",
	};
	static const char *const want[] = {
		"Mapped Opened", "Mapped Appended", "Mapped Closed", "Mapped Opened",
	};
	struct sink mimic;
	sd_event *e;
	struct fg_webhook *w;
	char url[256];

	assert_int_equal(sink_start(&mimic, args), 0);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_webhook_new(e, &w), 0);
	snprintf(url, sizeof(url), "%s/POSTAlert/k/Flic", mimic.url);
	for (size_t i = 0; i < 4; i++) {
		struct fg_request req = { .method = "POST", .url = url, .body = (char *)bodies[i],
					  .body_len = strlen(bodies[i]) };
		struct fg_webhook_config cfg = { .timeout_usec = 5000000 };
		struct result res = {};

		assert_int_equal(fg_webhook_send(w, &req, &cfg, on_done, &res, NULL), 0);
		run_until(e, &res, 1);
		assert_int_equal(res.status, 200);
		if (!strstr(res.response, want[i]))
			fail_msg("request %zu: %s, wanted %s", i, res.response, want[i]);
	}
	{
		struct fg_request req = { .method = "POST", .url = url, .body = (char *)"", .body_len = 0 };
		struct fg_webhook_config cfg = { .timeout_usec = 5000000 };
		struct result res = {};

		snprintf(url, sizeof(url), "%s/_sink/incidents", mimic.url);
		assert_int_equal(fg_webhook_send(w, &req, &cfg, on_done, &res, NULL), 0);
		run_until(e, &res, 1);
		assert_non_null(strstr(res.response, "#1 CLOSED Room 1 (appended 1) bed"));
		assert_non_null(strstr(res.response, "#2 OPEN   Room 2 (appended 0)"));
	}
	fg_webhook_free(w);
	sd_event_unref(e);
	sink_stop(&mimic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST_SETUP("/webhook/ok-and-recorded", test_ok_and_recorded, setup, teardown),
		FG_TEST_SETUP("/webhook/response-classes", test_response_classes, setup, teardown),
		FG_TEST_SETUP("/webhook/parallel-refused-cancel", test_refused_and_parallel, setup, teardown),
		FG_TEST_SETUP("/webhook/proxy-and-down", test_proxy_and_down, setup, teardown),
		FG_TEST("/webhook/sink-alertops-mimic", test_alertops_mimic),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("webhook", tests, NULL, NULL);
}
