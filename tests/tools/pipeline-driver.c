/* SPDX-License-Identifier: MIT */
/*
 * pipeline-driver: runs the real alert pipeline (mapping, spool, libcurl on
 * sd-event) and feeds it a deterministic burst of synthetic button events,
 * the way the Flic adapter would. Integration tests kill it with SIGKILL
 * at random moments and start it again where the "button" left off.
 *
 *   pipeline-driver --config FILE --events N [--start K] --ack FILE
 *                   [--interval-ms M] [--exit-when-drained]
 *
 * Event i goes to button b<i % B> (B = buttons in the config); that
 * button's j-th event (j = i / B) has counter j + 1 and is a click (On) for
 * even j, a double click (Off) for odd j. Once the pipeline's commit
 * says the batch holding the event is on disk, the event's idempotency
 * key is appended to the ack file: that is the moment the real adapter
 * acknowledges the event to the button, so every key in that file must
 * reach the target at least once. A commit that fails (full disk) leaves
 * its events unacknowledged: like a button, the driver keeps them and
 * sends them again (after RESEND_USEC), in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "config/config.h"
#include "delivery/mapping.h"
#include "delivery/pipeline.h"
#include "lib/log.h"

/* A button that was not acknowledged sends its events again this much later. */
#define RESEND_USEC (50 * 1000)

struct driver {
	sd_event *event;
	struct fg_config *config;
	struct fg_pipeline *pipeline;
	unsigned next, total;
	uint64_t interval_usec;
	int ack_fd;
	bool exit_when_drained;
	sd_event_source *feeder;
	/* fed, waiting for their commit: the events first_pending .. next - 1 */
	unsigned first_pending;
	char *pending;
	size_t pending_len;
	unsigned long not_acked;
};

static void on_pipeline_event(struct fg_pipeline *p, const struct fg_pipeline_event *ev, void *userdata)
{
	if (ev->kind == FG_PIPELINE_DELIVERED || ev->kind == FG_PIPELINE_ALERT_OPENED ||
	    ev->kind == FG_PIPELINE_ALERT_CLOSED)
		return;
	printf("EVENT %s%s%s\n", fg_pipeline_event_kind_to_string(ev->kind),
	       ev->target ? " " : "", ev->target ? ev->target : "");
	fflush(stdout);
}

static int feed_one(struct driver *d)
{
	const struct fg_config *c = d->config;
	unsigned i = d->next, b = i % (unsigned)c->n_buttons, j = i / (unsigned)c->n_buttons;
	struct fg_button_event ev = {
		.gesture = j % 2 ? FG_GESTURE_DOUBLE_CLICK : FG_GESTURE_CLICK,
		.event_counter = j + 1,
		.battery_mv = 3000,
	};
	char key[FG_IDEMPOTENCY_KEY_MAX + 1];
	size_t len;
	int r;

	r = fg_pipeline_button_event(d->pipeline, &c->buttons[b], &ev, NULL);
	if (r < 0)
		return r;
	fg_mapping_idempotency_key(&c->buttons[b], &ev, key);
	len = strlen(key);
	key[len++] = '\n';
	{
		char *n = realloc(d->pending, d->pending_len + len);

		if (!n)
			return -ENOMEM;
		memcpy(n + d->pending_len, key, len);
		d->pending = n;
		d->pending_len += len;
	}
	d->next++;
	return 0;
}

/* The batch is on disk: acknowledge; or not: the "button" keeps its events. */
static void on_commit(struct fg_pipeline *p, int r, void *userdata)
{
	struct driver *d = userdata;

	if (d->pending_len == 0)
		return;
	if (r >= 0) {
		if (write(d->ack_fd, d->pending, d->pending_len) != (ssize_t)d->pending_len)
			log_error("Failed to write the ack file");
	} else {
		d->not_acked += d->next - d->first_pending;
		printf("NOT-ACKED %u (%s): sent again\n", d->next - d->first_pending, strerror(-r));
		fflush(stdout);
		d->next = d->first_pending;
		if (d->feeder) {
			sd_event_source_set_time_relative(d->feeder, RESEND_USEC);
			sd_event_source_set_enabled(d->feeder, SD_EVENT_ONESHOT);
		}
	}
	d->pending_len = 0;
	d->first_pending = d->next;
}

static int maybe_exit(struct driver *d)
{
	if (d->exit_when_drained && d->next >= d->total && d->pending_len == 0 &&
	    fg_pipeline_spool_depth(d->pipeline) == 0)
		return sd_event_exit(d->event, 0);
	return 0;
}

static int on_feed(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct driver *d = userdata;
	int r;

	if (d->next < d->total) {
		r = feed_one(d);
		if (r < 0) {
			log_error_errno(r, "Failed to feed event %u: %m", d->next);
			return sd_event_exit(d->event, 1);
		}
	}
	maybe_exit(d);
	if (d->next < d->total || d->exit_when_drained) {
		/* drained check continues at a slow pace once everything is fed */
		uint64_t next = d->next < d->total ? d->interval_usec : 20000;

		sd_event_source_set_time_relative(s, next);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "events", required_argument, NULL, 'n' },
		{ "start", required_argument, NULL, 's' },
		{ "ack", required_argument, NULL, 'a' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "exit-when-drained", no_argument, NULL, 'x' },
		{}
	};
	struct driver d = { .ack_fd = -1, .interval_usec = 1000 };
	struct fg_config_errors errors = {};
	const char *config = NULL, *ack = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:n:s:a:i:x", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			d.total = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			d.next = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'a':
			ack = optarg;
			break;
		case 'i':
			d.interval_usec = strtoull(optarg, NULL, 10) * 1000;
			break;
		case 'x':
			d.exit_when_drained = true;
			break;
		default:
			return 2;
		}
	}
	if (!config || !ack) {
		fprintf(stderr, "pipeline-driver: --config and --ack are required\n");
		return 2;
	}
	fg_log_open();
	signal(SIGPIPE, SIG_IGN);
	r = fg_config_load(config, &errors, &d.config);
	if (r < 0) {
		for (size_t i = 0; i < errors.n; i++)
			fprintf(stderr, "%s\n", errors.messages[i]);
		fg_config_errors_clear(&errors);
		return 2;
	}
	fg_log_set_level(d.config->gateway.log_level);
	if (d.config->n_buttons == 0) {
		fprintf(stderr, "pipeline-driver: the config has no [button]\n");
		return 2;
	}
	d.first_pending = d.next;
	d.ack_fd = open(ack, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (d.ack_fd < 0) {
		perror(ack);
		return 2;
	}
	r = sd_event_default(&d.event);
	if (r >= 0)
		r = fg_pipeline_new(d.event, d.config, &d.pipeline);
	if (r >= 0) {
		fg_pipeline_set_callback(d.pipeline, on_pipeline_event, &d);
		fg_pipeline_set_commit_callback(d.pipeline, on_commit, &d);
		r = sd_event_add_time_relative(d.event, &d.feeder, CLOCK_MONOTONIC, 0, 1, on_feed, &d);
	}
	if (r >= 0) {
		printf("READY spool=%zu start=%u\n", fg_pipeline_spool_depth(d.pipeline), d.next);
		fflush(stdout);
		r = sd_event_loop(d.event);
	}
	printf("EXIT fed=%u spool=%zu lost=%lu not-acked=%lu\n", d.next,
	       d.pipeline ? fg_pipeline_spool_depth(d.pipeline) : 0,
	       d.pipeline ? fg_pipeline_lost_count(d.pipeline) : 0, d.not_acked);
	sd_event_source_disable_unref(d.feeder);
	d.feeder = NULL;
	fg_pipeline_free(d.pipeline);	/* commits what is pending: on_commit acks it */
	free(d.pending);
	sd_event_unref(d.event);
	fg_config_unref(d.config);
	close(d.ack_fd);
	return r < 0 ? 1 : r;
}
