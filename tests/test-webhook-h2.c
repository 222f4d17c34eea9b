/* SPDX-License-Identifier: MIT */
/*
 * HTTP/2 where the target offers it: the real webhook module against
 * nghttpd (package nghttp2-server) on loopback, TLS with a certificate made
 * for this run, offering h2 by ALPN. Alerts rendered by the AlertOps preset
 * go out one after the other, then in a burst; both the client (curl's
 * HTTP version and connection count) and the server (nghttpd's frame log:
 * session id and stream id of every request) must show HTTP/2 on a single
 * connection.
 *
 * nghttpd speaks nothing but HTTP/2, so a request that fell back to
 * HTTP/1.1 would fail rather than pass. If the server cannot be started
 * the program says why and exits 77.
 */
#include "fg-test.h"
#include "sink-helper.h"

#include <sys/stat.h>

#include "delivery/preset.h"
#include "delivery/template.h"
#include "delivery/webhook.h"

#define SERIAL_SENDS 4
#define BURST 12

struct server {
	pid_t pid;
	unsigned port;
	char dir[64];
	char cert[128], key[128], log[128];
};

static struct server srv;

struct result {
	bool done;
	long status;
	int curl_code;
	char error[256];
	unsigned http_version;
	unsigned new_connections;
	char response[600];
};

static void skip_exit(const char *why, const char *detail)
{
	printf("SKIP: %s%s%s\n", why, detail ? ": " : "", detail ? detail : "");
	fflush(stdout);
	exit(77);
}

/* Run @argv with stdout and stderr to @log, wait; returns the exit status or -errno. */
static int run_wait(const char *const *argv, const char *log)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], (char **)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static bool find_program(const char *name, char path[static 256])
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL };

	for (const char *const *d = dirs; *d; d++) {
		snprintf(path, 256, "%s/%s", *d, name);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

static unsigned free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool port_open(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static char *read_all(const char *path)
{
	struct sink s = {};

	/* sink_read_log() reads any file; reuse it */
	snprintf(s.log, sizeof(s.log), "%s", path);
	return sink_read_log(&s);
}

static void server_stop(void)
{
	char cmd[128];

	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		waitpid(srv.pid, NULL, 0);
		srv.pid = 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", srv.dir);
	if (srv.dir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", srv.dir);
	srv.dir[0] = '\0';
}

/* Starts nghttpd or exits 77 saying why. */
static void server_start(void)
{
	char nghttpd[256], openssl[256], openssl_log[128], why[512];

	if (!find_program("nghttpd", nghttpd))
		skip_exit("nghttpd is not installed (package nghttp2-server; make deps installs it)", NULL);
	if (!find_program("openssl", openssl))
		skip_exit("the openssl command is not installed (package openssl)", NULL);
	strcpy(srv.dir, "/tmp/fg-test-h2-XXXXXX");
	if (!mkdtemp(srv.dir))
		skip_exit("cannot make a temporary directory", strerror(errno));
	snprintf(srv.cert, sizeof(srv.cert), "%s/cert.pem", srv.dir);
	snprintf(srv.key, sizeof(srv.key), "%s/key.pem", srv.dir);
	snprintf(srv.log, sizeof(srv.log), "%s/nghttpd.log", srv.dir);
	snprintf(openssl_log, sizeof(openssl_log), "%s/openssl.log", srv.dir);
	{
		const char *const argv[] = {
			openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-keyout", srv.key,
			"-out", srv.cert, "-subj", "/CN=localhost", "-addext",
			"subjectAltName=DNS:localhost,IP:127.0.0.1", NULL,
		};
		int r = run_wait(argv, openssl_log);

		if (r != 0) {
			char *out = read_all(openssl_log);

			snprintf(why, sizeof(why), "exit %d: %.300s", r, out);
			free(out);
			server_stop();
			skip_exit("openssl could not make a self-signed certificate", why);
		}
	}
	/* The port is picked by binding port 0 first: retry if someone takes it meanwhile. */
	for (int attempt = 0; attempt < 5; attempt++) {
		char port[16];
		int status;

		srv.port = free_port();
		snprintf(port, sizeof(port), "%u", srv.port);
		srv.pid = fork();
		if (srv.pid < 0)
			skip_exit("fork failed", strerror(errno));
		if (srv.pid == 0) {
			int fd = open(srv.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			/* -v logs every frame with its session and stream id */
			execl(nghttpd, nghttpd, "-v", "-a", "127.0.0.1", "--echo-upload",
			      "-d", srv.dir, port, srv.key, srv.cert, (char *)NULL);
			_exit(127);
		}
		for (int i = 0; i < 500; i++) {
			if (waitpid(srv.pid, &status, WNOHANG) == srv.pid) {
				srv.pid = 0;
				break;
			}
			/*
			 * Listening, and still ours: a server that lost the port
			 * race exits at once, while whoever took it answers.
			 */
			if (port_open(srv.port)) {
				sink_sleep_ms(50);
				if (waitpid(srv.pid, &status, WNOHANG) == 0)
					return;
				srv.pid = 0;
				break;
			}
			sink_sleep_ms(10);
		}
		if (srv.pid > 0) {
			kill(srv.pid, SIGKILL);
			waitpid(srv.pid, NULL, 0);
			srv.pid = 0;
		}
	}
	{
		char *out = read_all(srv.log);

		snprintf(why, sizeof(why), "%.400s", out);
		free(out);
	}
	server_stop();
	skip_exit("nghttpd did not start listening on 127.0.0.1 (5 tries)", why);
}

static void on_done(struct fg_webhook *w, const struct fg_webhook_result *r, void *userdata)
{
	struct result *res = userdata;

	res->done = true;
	res->status = r->http_status;
	res->curl_code = r->curl_code;
	snprintf(res->error, sizeof(res->error), "%s", r->error);
	res->http_version = r->http_version;
	res->new_connections = r->new_connections;
	snprintf(res->response, sizeof(res->response), "%s", r->response);
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

/* An AlertOps request for alert number @n, as the pipeline would build it. */
static void build_request(const struct fg_webhook_config *cfg, unsigned n, struct fg_request *ret)
{
	struct fg_alert a;

	assert_int_equal(fg_alert_copy(fg_template_sample_alert(), &a), 0);
	a.event_counter = n;
	snprintf(a.idempotency_key, sizeof(a.idempotency_key), "BG30-C12345:%u:click", n);
	assert_int_equal(fg_preset_build(cfg, &a, ret), 0);
	fg_alert_clear(&a);
}

/*
 * nghttpd -v lines look like
 *   [id=1] [  0.571] recv (stream_id=3) :method: POST
 * Count the requests (":method: POST") and the distinct sessions and
 * streams they came on.
 */
struct server_view {
	unsigned posts;
	unsigned sessions[8];
	unsigned n_sessions;
	unsigned max_stream;
	unsigned keys;
};

static void parse_server_log(const char *log, struct server_view *v)
{
	memset(v, 0, sizeof(*v));
	for (const char *l = log; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned id, stream;
		bool known = false;

		if (sscanf(l, "[id=%u] [%*f] recv (stream_id=%u)", &id, &stream) != 2)
			continue;
		if (strncmp(strchr(l, ')') + 1, " idempotency-key: BG30-C12345:", 30) == 0)
			v->keys++;
		if (strncmp(strchr(l, ')') + 1, " :method: POST", 14) != 0)
			continue;
		v->posts++;
		if (stream > v->max_stream)
			v->max_stream = stream;
		for (unsigned i = 0; i < v->n_sessions; i++)
			known = known || v->sessions[i] == id;
		if (!known && v->n_sessions < 8)
			v->sessions[v->n_sessions++] = id;
	}
}

static void test_h2_one_connection(void **state)
{
	char url[128];
	struct fg_webhook_config cfg = {
		.name = (char *)"h2", .preset = FG_PRESET_ALERTOPS, .url = url,
		.timeout_usec = 10000000, .tls_verify = true, .ca_file = srv.cert,
	};
	struct result res[SERIAL_SENDS + BURST] = {};
	struct fg_request req[SERIAL_SENDS + BURST] = {};
	struct server_view v;
	unsigned connects = 0;
	sd_event *e;
	struct fg_webhook *w;
	char *log;

	snprintf(url, sizeof(url), "https://127.0.0.1:%u/POSTAlert/key/Flic", srv.port);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fg_webhook_new(e, &w), 0);

	/* One at a time: each waits for the previous answer (kept-alive reuse). */
	for (unsigned i = 0; i < SERIAL_SENDS; i++) {
		build_request(&cfg, i, &req[i]);
		assert_int_equal(fg_webhook_send(w, &req[i], &cfg, on_done, &res[i], NULL), 0);
		run_until(e, &res[i], 1);
		if (res[i].status != 200)
			fail_msg("request %u: HTTP %ld, curl %d: %s", i, res[i].status,
				 res[i].curl_code, res[i].error);
		assert_int_equal(res[i].http_version, 20);
		/* --echo-upload: the server got the body we sent */
		assert_non_null(strstr(res[i].response, "\"flic_state\":\"On\""));
		assert_int_equal(res[i].new_connections, i == 0 ? 1 : 0);
	}
	/* A burst: all in flight at once, multiplexed as streams of that connection. */
	for (unsigned i = SERIAL_SENDS; i < SERIAL_SENDS + BURST; i++) {
		build_request(&cfg, i, &req[i]);
		assert_int_equal(fg_webhook_send(w, &req[i], &cfg, on_done, &res[i], NULL), 0);
	}
	assert_int_equal(fg_webhook_in_flight(w), BURST);
	run_until(e, res + SERIAL_SENDS, BURST);
	for (unsigned i = 0; i < SERIAL_SENDS + BURST; i++) {
		assert_int_equal(res[i].status, 200);
		assert_int_equal(res[i].http_version, 20);
		connects += res[i].new_connections;
		fg_request_clear(&req[i]);
	}
	/* client side: one connection for all of them */
	assert_int_equal(connects, 1);
	fg_webhook_free(w);
	sd_event_unref(e);

	/* server side: every request on one session, on its own stream */
	log = read_all(srv.log);
	parse_server_log(log, &v);
	if (v.posts != SERIAL_SENDS + BURST || v.n_sessions != 1)
		fail_msg("nghttpd saw %u POSTs on %u sessions; log:\n%.2000s", v.posts,
			 v.n_sessions, log);
	assert_int_equal(v.keys, SERIAL_SENDS + BURST);
	/* client streams are odd and never reused: 1, 3, 5, ... */
	assert_int_equal(v.max_stream, 2 * (SERIAL_SENDS + BURST) - 1);
	free(log);
}

static int group_teardown(void **state)
{
	server_stop();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/webhook/h2/one-connection", test_h2_one_connection),
	};

	signal(SIGPIPE, SIG_IGN);
	/* before cmocka: a server that cannot start is a reasoned exit 77, not a failure */
	server_start();
	return cmocka_run_group_tests_name("webhook-h2", tests, NULL, group_teardown);
}
