/* SPDX-License-Identifier: MIT */
/*
 * flicsink: a loopback HTTP/1.1 webhook sink for tests, benchmarks and the
 * demo. It records every request as one JSON line and answers as told:
 *
 *   POST /_sink/mode    body: [path=/prefix] [count=N] MODE [ARG]
 *       ok [STATUS]         answer STATUS (default 200)
 *       status N            same as "ok N"
 *       retry-after N       429 with "Retry-After: N"
 *       retry-after-date N  429 with Retry-After as an HTTP-date N s ahead
 *       hang                read the request, never answer
 *       slow MS             answer 200 after MS milliseconds
 *       reset               close the connection with a TCP reset
 *       down SECS           close the listener and every connection for SECS
 *   POST /_sink/clear   drop every rule (back to "ok 200")
 *   GET  /_sink/stats   {"requests":N}
 *   GET  /_sink/incidents   the AlertOps-style incident list (text)
 *
 * The newest matching rule wins; a rule with count=N applies N times.
 * With --alertops the sink keeps an incident list the way AlertOps does
 * for the Flic integration: On opens an incident, On while open is
 * "Mapped Appended", Off closes it; every change is printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "alertops.h"
#include "rules.h"
#include "lib/json.h"

#define MAX_REQUEST (1024 * 1024)

struct conn {
	struct sink *sink;
	int fd;
	unsigned id;
	sd_event_source *io;
	sd_event_source *timer;		/* slow answer */
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off;
	bool busy;			/* a request is being held (hang/slow) */
	bool closing;			/* close once out is written */
	struct conn *next;
};

struct sink {
	sd_event *event;
	struct sockaddr_in addr;
	int listen_fd;
	sd_event_source *listen_io;
	sd_event_source *down_timer;
	struct conn *conns;
	unsigned next_conn;
	unsigned long requests;
	FILE *log;
	bool alertops;
	struct alertops incidents;
	struct rules rules;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void conn_free(struct conn *c)
{
	struct conn **p;

	for (p = &c->sink->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void conn_reset(struct conn *c)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	conn_free(c);
}

static int conn_flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0) {
			if (errno == EAGAIN)
				return sd_event_source_set_io_events(c->io, EPOLLIN | EPOLLOUT);
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
	if (c->closing)
		return -ECONNRESET;
	return sd_event_source_set_io_events(c->io, EPOLLIN);
}

static void conn_queue(struct conn *c, const char *s, size_t n)
{
	char *p = realloc(c->out, c->out_len + n);

	if (!p)
		abort();
	memcpy(p + c->out_len, s, n);
	c->out = p;
	c->out_len += n;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	}
	return "Status";
}

static void respond(struct conn *c, int status, const char *extra_headers, const char *body)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
		     status, reason(status),
		     body[0] == '{' ? "application/json" : "text/plain; charset=utf-8",
		     strlen(body), extra_headers ? extra_headers : "");
	conn_queue(c, head, (size_t)n);
	conn_queue(c, body, strlen(body));
}

/* ---- HTTP ---------------------------------------------------------- */

static void listener_close(struct sink *s);
static int listener_open(struct sink *s);

static int on_down_over(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct sink *s = userdata;

	s->down_timer = sd_event_source_disable_unref(s->down_timer);
	if (listener_open(s) < 0)
		fprintf(stderr, "flicsink: cannot listen again: %m\n");
	return 0;
}

static int on_slow(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct conn *c = userdata;

	c->timer = sd_event_source_disable_unref(c->timer);
	respond(c, 200, NULL, "{\"status\":\"ok (slow)\"}");
	c->busy = false;
	if (conn_flush(c) < 0)
		conn_free(c);
	return 0;
}

static void record(struct sink *s, struct conn *c, const char *method, const char *path,
		   const char *headers, size_t headers_len, const char *body, size_t body_len,
		   uint64_t t, const char *action, int status)
{
	FILE *f = s->log;
	const char *h = headers, *end = headers + headers_len;
	bool first = true;

	fprintf(f, "{\"seq\":%lu,\"t_us\":%llu,\"conn\":%u,\"method\":", s->requests,
		(unsigned long long)t, c->id);
	fg_json_write_string(f, method, strlen(method));
	fputs(",\"path\":", f);
	fg_json_write_string(f, path, strlen(path));
	fputs(",\"headers\":{", f);
	while (h < end) {
		const char *eol = memmem(h, (size_t)(end - h), "\r\n", 2), *colon;
		char name[128];
		size_t nl;

		if (!eol)
			eol = end;
		colon = memchr(h, ':', (size_t)(eol - h));
		if (colon && (size_t)(colon - h) < sizeof(name)) {
			const char *v = colon + 1;

			nl = (size_t)(colon - h);
			for (size_t i = 0; i < nl; i++)
				name[i] = (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32 : h[i]);
			while (v < eol && *v == ' ')
				v++;
			fputs(first ? "" : ",", f);
			fg_json_write_string(f, name, nl);
			fputc(':', f);
			fg_json_write_string(f, v, (size_t)(eol - v));
			first = false;
		}
		h = eol + 2;
	}
	fputs("},\"body\":", f);
	fg_json_write_string(f, body, body_len);
	fprintf(f, ",\"action\":\"%s\",\"status\":%d}\n", action, status);
	fflush(f);
}

static const char *find_header(const char *headers, size_t len, const char *name, size_t *ret_len)
{
	size_t n = strlen(name);

	for (const char *h = headers; h < headers + len;) {
		const char *eol = memmem(h, (size_t)(headers + len - h), "\r\n", 2);

		if (!eol)
			eol = headers + len;
		if ((size_t)(eol - h) > n && strncasecmp(h, name, n) == 0 && h[n] == ':') {
			const char *v = h + n + 1;

			while (v < eol && *v == ' ')
				v++;
			*ret_len = (size_t)(eol - v);
			return v;
		}
		h = eol + 2;
	}
	return NULL;
}

/* Handle one complete request at the start of c->in. Returns bytes used, 0 if incomplete, <0 to drop. */
static ssize_t handle_request(struct conn *c)
{
	struct sink *s = c->sink;
	char *hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	char method[16], path[1024], buf[8192];
	const char *headers, *v, *body;
	size_t headers_len, vlen, body_len = 0, total;
	struct rule rule;
	uint64_t t;
	char *line_end;

	if (!hend)
		return c->in_len > 64 * 1024 ? -1 : 0;
	line_end = memmem(c->in, (size_t)(hend - c->in) + 2, "\r\n", 2);
	if (sscanf(c->in, "%15s %1023s HTTP/1.", method, path) != 2)
		return -1;
	headers = line_end + 2;
	headers_len = (size_t)(hend - headers);
	if (find_header(headers, headers_len, "Transfer-Encoding", &vlen)) {
		respond(c, 411, NULL, "{\"error\":\"chunked not supported\"}");
		c->closing = true;
		return (ssize_t)c->in_len;
	}
	v = find_header(headers, headers_len, "Content-Length", &vlen);
	if (v)
		body_len = strtoul(v, NULL, 10);
	if (body_len > MAX_REQUEST)
		return -1;
	total = (size_t)(hend + 4 - c->in) + body_len;
	if (c->in_len < total) {
		/* curl waits for this before sending a large body */
		if (find_header(headers, headers_len, "Expect", &vlen) && c->in_len == (size_t)(hend + 4 - c->in))
			conn_queue(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		return 0;
	}
	body = hend + 4;
	t = now_us();

	if (strncmp(path, "/_sink/", 7) == 0) {
		char spec[512];

		snprintf(spec, sizeof(spec), "%.*s", (int)body_len, body);
		if (strcmp(path, "/_sink/mode") == 0) {
			if (rules_add(&s->rules, spec) < 0)
				respond(c, 400, NULL, "{\"error\":\"bad mode\"}");
			else
				respond(c, 200, NULL, "{\"ok\":true}");
		} else if (strcmp(path, "/_sink/clear") == 0) {
			rules_clear(&s->rules);
			respond(c, 200, NULL, "{\"ok\":true}");
		} else if (strcmp(path, "/_sink/stats") == 0) {
			snprintf(buf, sizeof(buf), "{\"requests\":%lu}", s->requests);
			respond(c, 200, NULL, buf);
		} else if (strcmp(path, "/_sink/incidents") == 0) {
			alertops_list(&s->incidents, buf, sizeof(buf));
			respond(c, 200, NULL, buf);
		} else {
			respond(c, 404, NULL, "{\"error\":\"unknown control path\"}");
		}
		return (ssize_t)total;
	}

	s->requests++;
	rule = rules_pick(&s->rules, path);
	switch (rule.action) {
	case A_OK: {
		const char *rb = "{\"status\":\"ok\"}";

		if (s->alertops && rule.arg >= 200 && rule.arg < 300) {
			char *b = strndup(body, body_len);

			rb = alertops_handle(&s->incidents, b ? b : "", buf, sizeof(buf));
			free(b);
		}
		record(s, c, method, path, headers, headers_len, body, body_len, t, "respond", (int)rule.arg);
		respond(c, (int)rule.arg, NULL, rule.arg >= 200 && rule.arg < 300 ? rb : "{\"error\":\"as configured\"}");
		break;
	}
	case A_RETRY_AFTER:
	case A_RETRY_AFTER_DATE: {
		char h[96];

		if (rule.action == A_RETRY_AFTER) {
			snprintf(h, sizeof(h), "Retry-After: %ld\r\n", rule.arg);
		} else {
			time_t when = time(NULL) + rule.arg;
			struct tm tm;

			gmtime_r(&when, &tm);
			strftime(h, sizeof(h), "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		}
		record(s, c, method, path, headers, headers_len, body, body_len, t, "retry-after", 429);
		respond(c, 429, h, "{\"error\":\"slow down\"}");
		break;
	}
	case A_HANG:
		record(s, c, method, path, headers, headers_len, body, body_len, t, "hang", 0);
		c->busy = true;
		break;
	case A_SLOW:
		record(s, c, method, path, headers, headers_len, body, body_len, t, "slow", 200);
		c->busy = true;
		if (sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC,
					       (uint64_t)rule.arg * 1000, 1000, on_slow, c) < 0)
			return -1;
		break;
	case A_RESET:
		record(s, c, method, path, headers, headers_len, body, body_len, t, "reset", 0);
		return -2;
	case A_DOWN:
		record(s, c, method, path, headers, headers_len, body, body_len, t, "down", 0);
		listener_close(s);
		sd_event_add_time_relative(s->event, &s->down_timer, CLOCK_MONOTONIC,
					   (uint64_t)rule.arg * 1000000, 0, on_down_over, s);
		return -3;
	}
	return (ssize_t)total;
}

static void conn_process(struct conn *c)
{
	while (!c->busy && c->in_len > 0) {
		ssize_t used = handle_request(c);

		if (used == -2) {
			conn_reset(c);
			return;
		}
		if (used == -3)
			return;	/* every connection is gone, including this one */
		if (used < 0) {
			conn_free(c);
			return;
		}
		if (used == 0)
			break;
		memmove(c->in, c->in + used, c->in_len - (size_t)used);
		c->in_len -= (size_t)used;
	}
	if (conn_flush(c) < 0)
		conn_free(c);
}

static int on_conn_io(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct conn *c = userdata;

	if (revents & EPOLLOUT) {
		if (conn_flush(c) < 0) {
			conn_free(c);
			return 0;
		}
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t n;

			if (c->in_cap - c->in_len < 16384) {
				char *p = realloc(c->in, c->in_cap + 65536);

				if (!p)
					abort();
				c->in = p;
				c->in_cap += 65536;
			}
			n = read(fd, c->in + c->in_len, c->in_cap - c->in_len - 1);
			if (n < 0 && errno == EAGAIN)
				break;
			if (n <= 0) {
				conn_free(c);
				return 0;
			}
			c->in_len += (size_t)n;
			c->in[c->in_len] = '\0';
			if (c->in_len > MAX_REQUEST + 65536) {
				conn_free(c);
				return 0;
			}
		}
		conn_process(c);
	}
	return 0;
}

static int on_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct sink *s = userdata;

	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct conn *c;

		if (cfd < 0)
			return 0;
		(void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c)
			abort();
		c->sink = s;
		c->fd = cfd;
		c->id = ++s->next_conn;
		if (sd_event_add_io(s->event, &c->io, cfd, EPOLLIN, on_conn_io, c) < 0) {
			close(cfd);
			free(c);
			continue;
		}
		c->next = s->conns;
		s->conns = c;
	}
}

static void listener_close(struct sink *s)
{
	while (s->conns)
		conn_free(s->conns);
	s->listen_io = sd_event_source_disable_unref(s->listen_io);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}

static int listener_open(struct sink *s)
{
	int one = 1, fd;
	socklen_t len = sizeof(s->addr);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&s->addr, sizeof(s->addr)) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&s->addr, &len) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	s->listen_fd = fd;
	return sd_event_add_io(s->event, &s->listen_io, fd, EPOLLIN, on_accept, s);
}

static void usage(void)
{
	printf("Usage: flicsink [--listen ADDR:PORT] [--port-file FILE] [--log FILE]\n"
	       "                [--alertops] [--incidents FILE] [--mode SPEC]...\n"
	       "Records every request as a JSON line (default stdout); see the\n"
	       "comment at the top of tools/flicsink/flicsink.c for the modes.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'o' },
		{ "alertops", no_argument, NULL, 'a' },
		{ "incidents", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct sink s = { .listen_fd = -1, .log = stdout, .incidents.out = stderr };
	const char *listen_at = "127.0.0.1:0", *port_file = NULL;
	char host[64];
	unsigned port;
	sigset_t mask;
	int c, r;

	while ((c = getopt_long(argc, argv, "l:p:o:ai:m:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'l':
			listen_at = optarg;
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'o':
			s.log = fopen(optarg, "ae");
			if (!s.log) {
				fprintf(stderr, "flicsink: %s: %m\n", optarg);
				return 1;
			}
			break;
		case 'a':
			s.alertops = true;
			break;
		case 'i':
			s.incidents.out = fopen(optarg, "ae");
			if (!s.incidents.out) {
				fprintf(stderr, "flicsink: %s: %m\n", optarg);
				return 1;
			}
			break;
		case 'm':
			if (rules_add(&s.rules, optarg) < 0) {
				fprintf(stderr, "flicsink: bad mode '%s'\n", optarg);
				return 1;
			}
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 1;
		}
	}
	if (sscanf(listen_at, "%63[^:]:%u", host, &port) != 2 || port > 65535) {
		fprintf(stderr, "flicsink: --listen wants ADDR:PORT\n");
		return 1;
	}
	s.addr.sin_family = AF_INET;
	s.addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &s.addr.sin_addr) != 1) {
		fprintf(stderr, "flicsink: bad address %s\n", host);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_default(&s.event);
	if (r >= 0)
		r = sd_event_add_signal(s.event, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(s.event, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = listener_open(&s);
	if (r < 0) {
		fprintf(stderr, "flicsink: cannot listen on %s: %s\n", listen_at, strerror(-r));
		return 1;
	}
	if (port_file) {
		char tmp[4096];
		FILE *f;

		/* written atomically: a test polls for it */
		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		f = fopen(tmp, "we");
		if (!f || fprintf(f, "%u\n", ntohs(s.addr.sin_port)) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) < 0) {
			fprintf(stderr, "flicsink: %s: %m\n", port_file);
			return 1;
		}
	}
	fprintf(stderr, "flicsink: listening on %s:%u%s\n", host, ntohs(s.addr.sin_port),
		s.alertops ? " (AlertOps mimic)" : "");
	r = sd_event_loop(s.event);
	listener_close(&s);
	s.down_timer = sd_event_source_disable_unref(s.down_timer);
	rules_clear(&s.rules);
	alertops_clear(&s.incidents);
	sd_event_unref(s.event);
	if (s.log != stdout)
		fclose(s.log);
	if (s.incidents.out != stderr)
		fclose(s.incidents.out);
	return r < 0 ? 1 : 0;
}
