/* SPDX-License-Identifier: MIT */
/*
 * flicgated at rest: RSS and CPU of the real daemon (private dbus-daemon,
 * 20 buttons, 3 webhook targets, the alert pipeline with an empty spool,
 * GPIO "log" backend), sampled from /proc after it settled.
 * Prints the numbers; docs/benchmarks.md records them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IDLE_SECONDS 10

static void sleep_s(unsigned s)
{
	struct timespec ts = { s, 0 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int proc_sample(pid_t pid, double *ret_cpu_s, long *ret_rss_kb)
{
	char path[64], buf[2048], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	/* fields 14 and 15 (utime, stime) after the command name */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	*ret_cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	*ret_rss_kb = -1;
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "VmRSS: %ld kB", ret_rss_kb) == 1)
			break;
	if (f)
		fclose(f);
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/fg-bench-idle-XXXXXX", ini[128], addr[512] = "", cmd[256];
	const char *build = getenv("FG_BUILD") ? getenv("FG_BUILD") : "build";
	char daemon_path[256];
	int pipefd[2];
	pid_t bus, gw;
	double c0, c1;
	long rss0, rss1;
	FILE *f;

	if (!mkdtemp(dir))
		return 1;
	snprintf(ini, sizeof(ini), "%s/flicgate.ini", dir);
	f = fopen(ini, "we");
	if (!f)
		return 1;
	fprintf(f, "[gateway]\nname = idle\nstate_dir = %s/state\nlog_level = notice\n"
		   "[gpio]\nbackend = log\n", dir);
	fprintf(f, "[webhook a]\nurl = http://127.0.0.1:9/a\n"
		   "[webhook s]\npreset = slack\nurl = http://127.0.0.1:9/s\n"
		   "[webhook p]\npreset = pagerduty\nurl = http://127.0.0.1:9/p\nrouting_key = x\n");
	for (int b = 0; b < 20; b++)
		fprintf(f, "[button b%d]\nserial = BG30-I%05d\non = click, hold\noff = double_click\n", b, b);
	fclose(f);

	if (pipe(pipefd) < 0)
		return 1;
	bus = fork();
	if (bus == 0) {
		FILE *null = freopen("/dev/null", "w", stderr);

		(void)null;
		dup2(pipefd[1], 1);
		execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork", "--print-address=1",
		       (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	f = fdopen(pipefd[0], "r");
	if (!f || !fgets(addr, sizeof(addr), f)) {
		fprintf(stderr, "bench-idle: dbus-daemon did not start\n");
		kill(bus, SIGTERM);
		return 1;
	}
	addr[strcspn(addr, "\n")] = '\0';

	snprintf(daemon_path, sizeof(daemon_path), "%s/flicgated", build);
	gw = fork();
	if (gw == 0) {
		FILE *null = freopen("/dev/null", "w", stderr);

		(void)null;
		execl(daemon_path, "flicgated", "-c", ini, "--bus", addr, (char *)NULL);
		_exit(127);
	}
	sleep_s(2);
	if (proc_sample(gw, &c0, &rss0) < 0) {
		fprintf(stderr, "bench-idle: flicgated is not running\n");
		kill(bus, SIGTERM);
		return 1;
	}
	sleep_s(IDLE_SECONDS);
	if (proc_sample(gw, &c1, &rss1) < 0) {
		fprintf(stderr, "bench-idle: flicgated died\n");
		kill(bus, SIGTERM);
		return 1;
	}
	printf("idle    flicgated (20 buttons, 3 targets, empty spool): RSS %ld kB, "
	       "CPU %.3f%% over %d s (%.3f s used)\n", rss1, (c1 - c0) / IDLE_SECONDS * 100,
	       IDLE_SECONDS, c1 - c0);
	kill(gw, SIGTERM);
	waitpid(gw, NULL, 0);
	kill(bus, SIGTERM);
	waitpid(bus, NULL, 0);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
