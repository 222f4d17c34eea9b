/* SPDX-License-Identifier: MIT */
/* The clock check: is the system clock synchronised (adjtimex()), at start
 * and every minute; an unsynchronised clock feeds the alarms core. */
#include <errno.h>
#include <sys/timex.h>
#include "supervision/supervision-private.h"
#include "supervision/policy.h"
#include "lib/log.h"

static int adjtimex_probe(void *userdata)
{
	struct timex tx = { 0 };
	int r = adjtimex(&tx);

	if (r < 0)
		return -errno;
	/* what timedated's NTPSynchronized reads too */
	return r != TIME_ERROR && !(tx.status & STA_UNSYNC);
}

void supervision_check_clock(struct fg_supervision *s)
{
	int r = s->clock_probe(s->clock_userdata);

	switch (fg_clock_check(&s->clock_state, r)) {
	case FG_CLOCK_UNKNOWN:
		log_warning_errno(r, "Cannot tell whether the clock is synchronised: %m");
		break;
	case FG_CLOCK_SYNCED:
		log_info("System clock synchronised");
		break;
	case FG_CLOCK_UNSYNCED:
		log_notice("System clock not synchronised (yet)%s",
			   s->config->health.require_time_sync ? "" : "; not required");
		break;
	case FG_CLOCK_SAME:
		break;
	}
	if (r < 0)
		return;
	(void)fg_alarms_condition(s->alarms, FG_ALARM_COND_CLOCK_UNSYNCED, r == 0, supervision_now(s));
	supervision_settle(s);
}

static int on_clock_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct fg_supervision *s = userdata;

	supervision_check_clock(s);
	(void)sd_event_source_set_time(src, usec + SUPERVISION_CLOCK_CHECK);
	(void)sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	return 0;
}

int supervision_clock_init(struct fg_supervision *s, uint64_t now)
{
	s->clock_probe = adjtimex_probe;
	return sd_event_add_time(s->event, &s->clock_timer, CLOCK_MONOTONIC,
				 now + SUPERVISION_CLOCK_CHECK, FG_USEC_PER_SEC, on_clock_timer, s);
}

void fg_supervision_set_clock_probe(struct fg_supervision *s, int (*probe)(void *userdata),
				    void *userdata)
{
	s->clock_probe = probe ? probe : adjtimex_probe;
	s->clock_userdata = userdata;
	supervision_check_clock(s);
}
