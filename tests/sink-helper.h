/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Run build/flicsink for a test or benchmark: start it on a free loopback
 * port, steer it through its control endpoint, read what it recorded.
 * Header-only (static functions) so each test binary stays one file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sink {
	pid_t pid;
	unsigned port;
	char dir[64];
	char log[128];
	char url[128];		/* http://127.0.0.1:PORT */
};

static inline const char *sink_binary(void)
{
	static char path[512];
	const char *b = getenv("FG_BUILD");

	snprintf(path, sizeof(path), "%s/flicsink", b ? b : "build");
	return path;
}

static inline void sink_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Returns 0 or -errno; extra arguments (NULL-terminated) go to flicsink. */
static inline int sink_start(struct sink *s, const char *const *extra)
{
	char portfile[160];
	const char *argv[32];
	int n = 0;
	FILE *f;

	memset(s, 0, sizeof(*s));
	strcpy(s->dir, "/tmp/fg-sink-XXXXXX");
	if (!mkdtemp(s->dir))
		return -errno;
	snprintf(s->log, sizeof(s->log), "%s/requests.jsonl", s->dir);
	snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
	argv[n++] = sink_binary();
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	argv[n++] = "--log";
	argv[n++] = s->log;
	for (; extra && *extra && n < 30; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (s->pid == 0) {
		if (!getenv("FG_SINK_VERBOSE")) {
			int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (fd >= 0)
				dup2(fd, 2);
		}
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		f = fopen(portfile, "re");
		if (f) {
			int ok = fscanf(f, "%u", &s->port) == 1;

			fclose(f);
			if (ok) {
				snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", s->port);
				return 0;
			}
		}
		sink_sleep_ms(10);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	return -ETIMEDOUT;
}

static inline void sink_stop(struct sink *s)
{
	char cmd[128];

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (s->dir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", s->dir);
}

/* Blocking request to the sink's control endpoint; returns the HTTP status. */
static inline int sink_control(const struct sink *s, const char *path, const char *body)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
	char req[1024], resp[512];
	int fd, n, status = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -errno;
	}
	n = snprintf(req, sizeof(req),
		     "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
		     path, strlen(body), body);
	if (write(fd, req, (size_t)n) == n) {
		n = (int)read(fd, resp, sizeof(resp) - 1);
		if (n > 12) {
			resp[n] = '\0';
			sscanf(resp, "HTTP/1.1 %d", &status);
		}
	}
	close(fd);
	return status;
}

static inline int sink_mode(const struct sink *s, const char *spec)
{
	return sink_control(s, "/_sink/mode", spec);
}

/* The recorded requests, whole file; caller frees. */
static inline char *sink_read_log(const struct sink *s)
{
	FILE *f = fopen(s->log, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return strdup("");
	{
		char chunk[65536];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			char *nb = realloc(buf, len + n + 1);

			if (!nb)
				break;
			buf = nb;
			memcpy(buf + len, chunk, n);
			len += n;
		}
	}
	fclose(f);
	if (!buf)
		return strdup("");
	buf[len] = '\0';
	return buf;
}

static inline size_t count_substr(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}
