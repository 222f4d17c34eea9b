/* SPDX-License-Identifier: MIT */
/* HTTP transport: libcurl's multi-socket API driven by the sd-event loop;
 * moves bytes, neither classifies nor logs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "delivery/webhook.h"
#include "lib/strv.h"

#ifndef FG_VERSION
#define FG_VERSION "dev"
#endif

#define RESPONSE_KEEP 512
/* Parallel connections per host; more requests wait in curl's queue. */
#define MAX_HOST_CONNECTIONS 8

struct fg_webhook_transfer {
	struct fg_webhook *w;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	fg_webhook_done_t cb;
	void *userdata;
	char errbuf[CURL_ERROR_SIZE];
	char retry_after[64];
	bool has_retry_after;
	char response[RESPONSE_KEEP + 1];
	size_t response_len;
	struct fg_webhook_transfer *prev, *next;
};

struct fg_webhook {
	sd_event *event;
	CURLM *multi;
	sd_event_source *timer;
	struct fg_webhook_transfer *transfers;
	unsigned n_transfers;
	bool in_curl;		/* inside curl_multi_socket_action() or our completion pass */
};

static unsigned curl_users;

static void transfer_free(struct fg_webhook *w, struct fg_webhook_transfer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		w->transfers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	w->n_transfers--;
	curl_multi_remove_handle(w->multi, t->easy);
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	free(t->body);
	free(t);
}

/* What was spoken, for status and tests: 11 for HTTP/1.1, 20 for HTTP/2. */
static unsigned http_version(long v)
{
	switch (v) {
	case CURL_HTTP_VERSION_1_0:
		return 10;
	case CURL_HTTP_VERSION_1_1:
		return 11;
	case CURL_HTTP_VERSION_2_0:
		return 20;
#ifdef CURL_HTTP_VERSION_3
	case CURL_HTTP_VERSION_3:
		return 30;
#endif
	}
	return 0;
}

static void check_done(struct fg_webhook *w)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(w->multi, &left))) {
		struct fg_webhook_transfer *t = NULL;
		struct fg_webhook_result r = {};
		curl_off_t total = 0;
		long status = 0, version = 0, connects = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(m->easy_handle, CURLINFO_TOTAL_TIME_T, &total);
		curl_easy_getinfo(m->easy_handle, CURLINFO_HTTP_VERSION, &version);
		curl_easy_getinfo(m->easy_handle, CURLINFO_NUM_CONNECTS, &connects);
		r.curl_code = m->data.result;
		/* A response that was cut off is not an acceptance. */
		r.http_status = m->data.result == CURLE_OK ? status : 0;
		r.error = m->data.result == CURLE_OK ? ""
			: (t->errbuf[0] ? t->errbuf : curl_easy_strerror(m->data.result));
		r.has_retry_after = t->has_retry_after;
		r.retry_after = t->retry_after;
		t->response[t->response_len] = '\0';
		r.response = t->response;
		r.latency_usec = total > 0 ? (uint64_t)total : 0;
		r.http_version = http_version(version);
		r.new_connections = connects > 0 ? (unsigned)connects : 0;
		/*
		 * The result points into @t, so @t is freed after the
		 * callback; the callback may start transfers or cancel
		 * others, but not this one (it is complete).
		 */
		t->cb(w, &r, t->userdata);
		transfer_free(w, t);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct fg_webhook *w = userdata;
	int flags = 0, running;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	w->in_curl = true;
	curl_multi_socket_action(w->multi, fd, flags, &running);
	check_done(w);
	w->in_curl = false;
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fg_webhook *w = userdata;
	int running;

	w->in_curl = true;
	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(w);
	w->in_curl = false;
	return 0;
}

void fg_webhook_kick(struct fg_webhook *w)
{
	uint64_t now;
	int running;

	/* from inside curl's own pass the loop comes back at once anyway */
	if (!w || w->in_curl || w->n_transfers == 0)
		return;
	w->in_curl = true;
	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	w->in_curl = false;
	/*
	 * Transfers that ended in that pass are reported from the loop, never
	 * from inside our caller: the timer fires on the next iteration.
	 */
	if (sd_event_now(w->event, CLOCK_MONOTONIC, &now) >= 0 &&
	    sd_event_source_set_time(w->timer, now) >= 0)
		(void)sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct fg_webhook *w = userp;
	sd_event_source *s = socketp;
	uint32_t events = 0;
	int r;

	if (what == CURL_POLL_REMOVE) {
		sd_event_source_disable_unref(s);
		curl_multi_assign(w->multi, fd, NULL);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= EPOLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= EPOLLOUT;
	if (s)
		r = sd_event_source_set_io_events(s, events);
	else {
		r = sd_event_add_io(w->event, &s, fd, events, on_io, w);
		if (r >= 0)
			curl_multi_assign(w->multi, fd, s);
	}
	return r < 0 ? -1 : 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct fg_webhook *w = userp;
	uint64_t now;
	int r;

	if (timeout_ms < 0)
		return sd_event_source_set_enabled(w->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	r = sd_event_now(w->event, CLOCK_MONOTONIC, &now);
	if (r < 0)
		return -1;
	/* 0 means "as soon as possible": the timer fires on the next iteration. */
	r = sd_event_source_set_time(w->timer, now + (uint64_t)timeout_ms * 1000);
	if (r >= 0)
		r = sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
	return r < 0 ? -1 : 0;
}

static size_t header_cb(char *buf, size_t size, size_t n, void *userdata)
{
	struct fg_webhook_transfer *t = userdata;
	size_t len = size * n;

	/* A new status line (after 100 Continue or a redirect) resets it. */
	if (len > 5 && strncmp(buf, "HTTP/", 5) == 0)
		t->has_retry_after = false;
	if (len > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
		size_t v = len - 12;

		if (v >= sizeof(t->retry_after))
			v = sizeof(t->retry_after) - 1;
		memcpy(t->retry_after, buf + 12, v);
		t->retry_after[v] = '\0';
		t->has_retry_after = true;
	}
	return len;
}

static size_t write_cb(char *buf, size_t size, size_t n, void *userdata)
{
	struct fg_webhook_transfer *t = userdata;
	size_t len = size * n, room = RESPONSE_KEEP - t->response_len;

	if (room > len)
		room = len;
	memcpy(t->response + t->response_len, buf, room);
	t->response_len += room;
	return len;
}

int fg_webhook_new(sd_event *e, struct fg_webhook **ret)
{
	struct fg_webhook *w;
	int r;

	if (curl_users++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		curl_users--;
		return -EIO;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		r = -ENOMEM;
		goto fail_global;
	}
	w->event = sd_event_ref(e);
	w->multi = curl_multi_init();
	if (!w->multi) {
		r = -ENOMEM;
		goto fail_alloc;
	}
	/* curl's timeouts are precise ("now" is 0 ms): no 250 ms default slack */
	r = sd_event_add_time(e, &w->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, w);
	if (r < 0)
		goto fail_multi;
	sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_HOST_CONNECTIONS);
	*ret = w;
	return 0;

fail_multi:
	curl_multi_cleanup(w->multi);
fail_alloc:
	sd_event_unref(w->event);
	free(w);
fail_global:
	if (--curl_users == 0)
		curl_global_cleanup();
	return r;
}

struct fg_webhook *fg_webhook_free(struct fg_webhook *w)
{
	if (!w)
		return NULL;
	while (w->transfers)
		transfer_free(w, w->transfers);
	/* Closes the cached connections: socket_cb drops their io sources. */
	curl_multi_cleanup(w->multi);
	sd_event_source_disable_unref(w->timer);
	sd_event_unref(w->event);
	free(w);
	if (--curl_users == 0)
		curl_global_cleanup();
	return NULL;
}

int fg_webhook_send(struct fg_webhook *w, const struct fg_request *req,
		    const struct fg_webhook_config *cfg, fg_webhook_done_t cb, void *userdata,
		    struct fg_webhook_transfer **ret_transfer)
{
	struct fg_webhook_transfer *t;
	const char *h;
	long timeout_ms = (long)(cfg->timeout_usec / 1000);

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->w = w;
	t->cb = cb;
	t->userdata = userdata;
	t->easy = curl_easy_init();
	t->body = malloc(req->body_len + 1);
	if (!t->easy || !t->body)
		goto oom;
	memcpy(t->body, req->body ? req->body : "", req->body_len);
	t->body[req->body_len] = '\0';

	FG_STRV_FOREACH(h, req->headers) {
		struct curl_slist *l = curl_slist_append(t->headers, h);

		if (!l)
			goto oom;
		t->headers = l;
	}
	/* No "Expect: 100-continue" round trip for small bodies. */
	{
		struct curl_slist *l = curl_slist_append(t->headers, "Expect:");

		if (!l)
			goto oom;
		t->headers = l;
	}

	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(t->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	if (strcmp(req->method, "POST") != 0)
		curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "flicgate/" FG_VERSION);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 10000L);
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout_ms > 0 && timeout_ms < 10000 ? timeout_ms : 10000L);
	curl_easy_setopt(t->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(t->easy, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(t->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYPEER, cfg->tls_verify ? 1L : 0L);
	curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYHOST, cfg->tls_verify ? 2L : 0L);
	if (cfg->ca_file)
		curl_easy_setopt(t->easy, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->proxy)
		curl_easy_setopt(t->easy, CURLOPT_PROXY, cfg->proxy);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);

	t->next = w->transfers;
	if (t->next)
		t->next->prev = t;
	w->transfers = t;
	w->n_transfers++;
	if (curl_multi_add_handle(w->multi, t->easy) != CURLM_OK) {
		transfer_free(w, t);
		return -EIO;
	}
	if (ret_transfer)
		*ret_transfer = t;
	return 0;
oom:
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	free(t->body);
	free(t);
	return -ENOMEM;
}

void fg_webhook_cancel(struct fg_webhook *w, struct fg_webhook_transfer *t)
{
	transfer_free(w, t);
}

unsigned fg_webhook_in_flight(const struct fg_webhook *w)
{
	return w->n_transfers;
}
