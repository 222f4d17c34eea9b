/* SPDX-License-Identifier: MIT */
/*
 * buttons-driver: the real button layer (radio/buttons*.c over radio/bluez.c) on a
 * given bus, without the alert pipeline, controlled line by line on stdin
 * and reporting line by line on stdout. Integration tests use it for what
 * the control API will expose (pairing windows, unpairing, status) and to
 * make the event consumer fail on purpose.
 *
 *   buttons-driver --config FILE --bus ADDRESS
 *
 * Commands (one per line):
 *   window [SECONDS [NAME]]   open a pairing window (0 s: the configured length)
 *   close                     close it
 *   unpair WHICH              name or address
 *   rename WHICH NAME
 *   list                      one BUTTON line per button, then "END list"
 *   stats                     one STATS line
 *   fail N                    refuse the next N events (the button keeps them)
 *   reload                    re-read the configuration file
 *   reload-nomem              re-read it as the manager does (its old one is
 *                             dropped whatever the buttons say) while the
 *                             allocation of the trusted keys fails
 *   quit
 *
 * Output:
 *   READY
 *   RADIO <state> <adapter|->
 *   EVENT <button> <gesture> <counter> <queued 0|1> <age_ms>
 *   REFUSED-EVENT <button> <gesture> <counter>
 *   PAIRING <step> <address|-> <name|-> <detail...>
 *   BUTTON <name> <state> <address> paired=<0|1> configured=<0|1> serial=<s|-> battery=<mV> rssi=<dBm|-> sessions=<n> events=<n> rejected=<n> seen=<0|1>
 *   STATS key=value ...
 *   OK <command> | ERR <command> <errno name>
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config/config.h"
#include "radio/buttons.h"
#include "lib/log.h"
#include "lib/strv.h"

/*
 * This program is linked with -Wl,--wrap=calloc (Makefile): while
 * fail_key_alloc is set, the next allocation of 32-byte elements (the
 * buttons' table of trusted identity keys) fails with ENOMEM.
 */
static bool fail_key_alloc;

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_key_alloc && size == 32) {
		fail_key_alloc = false;
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

struct driver {
	sd_event *event;
	sd_bus *bus;
	struct fg_config *config;
	const char *config_path;
	struct fg_buttons *buttons;
	unsigned fail_next;
	char line[512];
	size_t line_len;
};

static int on_event(struct fg_buttons *bs, const struct fg_button_config *b, const struct fg_button_event *ev,
		    void *userdata)
{
	struct driver *d = userdata;

	if (d->fail_next > 0) {
		d->fail_next--;
		printf("REFUSED-EVENT %s %s %" PRIu32 "\n", b->name, fg_gesture_to_string(ev->gesture),
		       ev->event_counter);
		fflush(stdout);
		return -EIO;
	}
	printf("EVENT %s %s %" PRIu32 " %d %" PRIu64 "\n", b->name, fg_gesture_to_string(ev->gesture),
	       ev->event_counter, ev->queued ? 1 : 0, ev->age_usec / 1000);
	fflush(stdout);
	return 0;
}

static void on_radio(struct fg_buttons *bs, enum fg_bluez_state state, const char *adapter, void *userdata)
{
	printf("RADIO %s %s\n", fg_bluez_state_to_string(state), adapter ? adapter : "-");
	fflush(stdout);
}

static void on_pairing(struct fg_buttons *bs, const struct fg_pairing_report *rep, void *userdata)
{
	char a[18] = "-";

	if (rep->address)
		fg_format_address(rep->address, a);
	printf("PAIRING %s %s %s %s\n", fg_pairing_step_to_string(rep->step), a, rep->name ? rep->name : "-",
	       rep->detail ? rep->detail : "");
	fflush(stdout);
}

static const struct fg_buttons_ops ops = {
	.button_event = on_event,
	.radio_changed = on_radio,
	.pairing = on_pairing,
};

static void print_button(const struct fg_button_status *st)
{
	char a[18], rssi[8] = "-";

	fg_format_address(st->address, a);
	if (st->has_rssi)
		snprintf(rssi, sizeof(rssi), "%d", st->rssi);
	printf("BUTTON %s %s %s paired=%d configured=%d serial=%s battery=%u rssi=%s sessions=%u events=%lu rejected=%lu seen=%d\n",
	       st->name, fg_button_state_to_string(st->state), a, st->paired, st->configured,
	       st->serial[0] ? st->serial : "-", st->battery_mv, rssi, st->sessions, st->events, st->rejected,
	       st->last_seen_usec > 0);
}


/*
 * Re-read the configuration. @nomem: as the manager does (its old one is
 * dropped whatever the buttons say) while the allocation of the trusted
 * keys fails; otherwise the old one is kept when the buttons refuse.
 */
static int reload(struct driver *d, bool nomem)
{
	struct fg_config *c = NULL;
	struct fg_config_errors errors = { 0 };
	int r;

	r = fg_config_load(d->config_path, &errors, &c);
	fg_config_errors_clear(&errors);
	if (r < 0)
		return r;
	fail_key_alloc = nomem;
	r = fg_buttons_set_config(d->buttons, c);
	fail_key_alloc = false;
	if (r < 0 && !nomem) {
		fg_config_unref(c);
		return r;
	}
	fg_config_unref(d->config);
	d->config = c;
	return r;
}
static void command(struct driver *d, char *line)
{
	char *cmd = strtok(line, " \t"), *a1 = strtok(NULL, " \t"), *a2 = strtok(NULL, " \t");
	int r = 0;

	if (!cmd)
		return;
	if (strcmp(cmd, "window") == 0) {
		r = fg_buttons_open_pairing_window(d->buttons, a1 ? strtoull(a1, NULL, 10) * 1000000ULL : 0, a2);
	} else if (strcmp(cmd, "close") == 0) {
		r = fg_buttons_close_pairing_window(d->buttons);
	} else if (strcmp(cmd, "unpair") == 0) {
		r = a1 ? fg_buttons_unpair(d->buttons, a1) : -EINVAL;
	} else if (strcmp(cmd, "rename") == 0) {
		r = a1 && a2 ? fg_buttons_rename(d->buttons, a1, a2) : -EINVAL;
	} else if (strcmp(cmd, "list") == 0) {
		struct fg_button_status st;

		for (size_t i = 0; i < fg_buttons_count(d->buttons); i++) {
			fg_buttons_get(d->buttons, i, &st);
			print_button(&st);
		}
		printf("END list\n");
	} else if (strcmp(cmd, "stats") == 0) {
		struct fg_buttons_stats s;

		fg_buttons_get_stats(d->buttons, &s);
		printf("STATS paired=%u ready=%u events=%lu unconfigured=%lu held=%lu rejected=%lu pairings=%lu pairing_failures=%lu refused=%lu restarts=%u adapters=%u connects=%u fd_channels=%u fallback_channels=%u window_left=%" PRIu64 "\n",
		       s.paired, s.ready, s.events, s.events_unconfigured, s.events_held, s.rejected, s.pairings,
		       s.pairing_failures, s.refused, s.radio.bluetoothd_restarts, s.radio.adapter_changes,
		       s.radio.connects, s.radio.fd_channels, s.radio.fallback_channels,
		       fg_buttons_pairing_window_left(d->buttons) / 1000000);
	} else if (strcmp(cmd, "fail") == 0) {
		d->fail_next = a1 ? (unsigned)strtoul(a1, NULL, 10) : 1;
	} else if (strcmp(cmd, "reload") == 0 || strcmp(cmd, "reload-nomem") == 0) {
		r = reload(d, strcmp(cmd, "reload-nomem") == 0);
	} else if (strcmp(cmd, "quit") == 0) {
		sd_event_exit(d->event, 0);
	} else {
		r = -EBADRQC;
	}
	if (r < 0)
		printf("ERR %s %s\n", cmd, strerrorname_np(-r) ? strerrorname_np(-r) : "?");
	else
		printf("OK %s\n", cmd);
	fflush(stdout);
}

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct driver *d = userdata;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0)
		return sd_event_exit(d->event, 0);
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			d->line[d->line_len] = 0;
			d->line_len = 0;
			command(d, d->line);
		} else if (d->line_len + 1 < sizeof(d->line)) {
			d->line[d->line_len++] = buf[i];
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "bus", required_argument, NULL, 'b' },
		{}
	};
	struct driver d = { 0 };
	struct fg_config_errors errors = { 0 };
	const char *bus_address = NULL;
	sd_event_source *in = NULL, *sigterm = NULL;
	int c, r;

	fg_log_set_ident("buttons-driver");
	fg_log_open();
	while ((c = getopt_long(argc, argv, "c:b:", longopts, NULL)) != -1) {
		if (c == 'c')
			d.config_path = optarg;
		else if (c == 'b')
			bus_address = optarg;
		else
			return 2;
	}
	if (!d.config_path || !bus_address) {
		fprintf(stderr, "usage: buttons-driver --config FILE --bus ADDRESS\n");
		return 2;
	}
	r = fg_config_load(d.config_path, &errors, &d.config);
	if (r < 0) {
		char *msg;

		FG_STRV_FOREACH(msg, errors.messages)
			fprintf(stderr, "%s\n", msg);
		fg_config_errors_clear(&errors);
		return 1;
	}
	fg_config_errors_clear(&errors);
	fg_log_set_level(LOG_DEBUG);

	r = sd_event_default(&d.event);
	if (r >= 0)
		r = sd_event_add_signal(d.event, &sigterm, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, NULL, NULL);
	if (r >= 0)
		r = sd_bus_new(&d.bus);
	if (r >= 0)
		r = sd_bus_set_address(d.bus, bus_address);
	if (r >= 0)
		r = sd_bus_set_bus_client(d.bus, true);
	if (r >= 0)
		r = sd_bus_start(d.bus);
	if (r >= 0)
		r = sd_bus_attach_event(d.bus, d.event, 0);
	if (r >= 0)
		r = fg_buttons_new(d.event, d.bus, d.config, &ops, &d, &d.buttons);
	if (r >= 0)
		r = sd_event_add_io(d.event, &in, STDIN_FILENO, EPOLLIN, on_stdin, &d);
	if (r < 0) {
		log_error_errno(r, "buttons-driver: cannot start: %m");
		return 1;
	}
	printf("READY\n");
	fflush(stdout);
	r = sd_event_loop(d.event);
	sd_event_source_unref(in);
	sd_event_source_unref(sigterm);
	fg_buttons_free(d.buttons);
	sd_bus_flush_close_unref(d.bus);
	sd_event_unref(d.event);
	fg_config_unref(d.config);
	return r < 0 ? 1 : 0;
}
