/* SPDX-License-Identifier: MIT */
/* The lights' decisions, pure: which event raises which condition, and which
 * row each output shows at a moment (feedback/feedback.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback/feedback.h"
#include "lib/timeutil.h"

_Static_assert(_FG_FB_STATE_MAX == FG_FEEDBACK_STATES,
	       "config.h FG_FEEDBACK_STATES must match enum fg_feedback_state");
_Static_assert(_FG_FB_STATE_MAX <= 32, "fg_feedback_view.active is 32 bits");

static const struct {
	const char *name;
	const char *def;
} states[_FG_FB_STATE_MAX] = {
	[FG_FB_PRESS] = { "press", FG_FB_DEFAULT_PRESS },
	[FG_FB_CLOSED] = { "closed", FG_FB_DEFAULT_CLOSED },
	[FG_FB_UNDELIVERABLE] = { "undeliverable", FG_FB_DEFAULT_UNDELIVERABLE },
	[FG_FB_FAILING] = { "failing", FG_FB_DEFAULT_FAILING },
	[FG_FB_LEVEL3] = { "level3", FG_FB_DEFAULT_LEVEL3 },
	[FG_FB_LEVEL2] = { "level2", FG_FB_DEFAULT_LEVEL2 },
	[FG_FB_LEVEL1] = { "level1", FG_FB_DEFAULT_LEVEL1 },
	[FG_FB_OPEN] = { "open", FG_FB_DEFAULT_OPEN },
	[FG_FB_DELIVERED] = { "delivered", FG_FB_DEFAULT_DELIVERED },
	[FG_FB_SILENCED] = { "silenced", FG_FB_DEFAULT_SILENCED },
	[FG_FB_CONFIG_FAULT] = { "config_fault", FG_FB_DEFAULT_CONFIG_FAULT },
	[FG_FB_NO_ADAPTER] = { "no_adapter", FG_FB_DEFAULT_NO_ADAPTER },
	[FG_FB_SPOOL_FULL] = { "spool_full", FG_FB_DEFAULT_SPOOL_FULL },
	[FG_FB_DEAD_LETTER] = { "dead_letter", FG_FB_DEFAULT_DEAD_LETTER },
	[FG_FB_TARGETS_FAILING] = { "targets_failing", FG_FB_DEFAULT_TARGETS_FAILING },
	[FG_FB_NOT_SEEN] = { "not_seen", FG_FB_DEFAULT_NOT_SEEN },
	[FG_FB_LOW_BATTERY] = { "low_battery", FG_FB_DEFAULT_LOW_BATTERY },
	[FG_FB_STARTING] = { "starting", FG_FB_DEFAULT_STARTING },
	[FG_FB_IDLE] = { "idle", FG_FB_DEFAULT_IDLE },
};

static const enum fg_feedback_state cond_state[_FG_COND_MAX] = {
	[FG_COND_STARTING] = FG_FB_STARTING,
	[FG_COND_CONFIG_FAULT] = FG_FB_CONFIG_FAULT,
	[FG_COND_NO_ADAPTER] = FG_FB_NO_ADAPTER,
	[FG_COND_SPOOL_FULL] = FG_FB_SPOOL_FULL,
	[FG_COND_DEAD_LETTER] = FG_FB_DEAD_LETTER,
	[FG_COND_TARGETS_FAILING] = FG_FB_TARGETS_FAILING,
	[FG_COND_NOT_SEEN] = FG_FB_NOT_SEEN,
	[FG_COND_LOW_BATTERY] = FG_FB_LOW_BATTERY,
};

const char *fg_feedback_state_to_string(enum fg_feedback_state s)
{
	if (s < 0 || s >= _FG_FB_STATE_MAX)
		return NULL;
	return states[s].name;
}

enum fg_feedback_state fg_feedback_state_from_string(const char *s)
{
	if (!s)
		return _FG_FB_STATE_NONE;
	for (int i = 0; i < _FG_FB_STATE_MAX; i++)
		if (strcmp(states[i].name, s) == 0)
			return (enum fg_feedback_state)i;
	return _FG_FB_STATE_NONE;
}

const char *fg_feedback_state_default(enum fg_feedback_state s)
{
	if (s < 0 || s >= _FG_FB_STATE_MAX)
		return NULL;
	return states[s].def;
}

bool fg_feedback_state_is_transient(enum fg_feedback_state s)
{
	return s == FG_FB_PRESS || s == FG_FB_CLOSED;
}

const char *fg_feedback_validate_pattern(const char *value, char *msg, size_t size)
{
	return fg_pattern_set_validate(value, msg, size);
}

const char *fg_feedback_validate_transient_pattern(const char *value, char *msg, size_t size)
{
	struct fg_pattern_set set;
	char pb[FG_PATTERN_BUF];

	if (fg_pattern_set_validate(value, msg, size))
		return msg;
	if (fg_pattern_set_parse(value, &set, NULL, 0) < 0) {
		snprintf(msg, size, "out of memory");
		return msg;
	}
	for (int o = 0; o < _FG_OUTPUT_MAX; o++)
		if (set.has[o] && !fg_pattern_is_finite(&set.pattern[o])) {
			snprintf(msg, size, "%s: '%s' never ends; add 'for DURATION' or use a single beep/flash",
				 fg_output_to_string(o), fg_pattern_format(&set.pattern[o], pb, sizeof(pb)));
			return msg;
		}
	return NULL;
}

struct button {
	char *name;
	bool cond[_FG_COND_MAX];
	uint64_t cond_since[_FG_COND_MAX];
	bool open;			/* its alert is open */
	uint64_t opened;
	enum fg_delivery delivery;
	uint64_t delivery_since;
};

struct fg_feedback {
	struct fg_pattern_set sets[_FG_FB_STATE_MAX];
	uint64_t level_after[FG_ESCALATION_LEVELS];

	/* gateway-wide conditions */
	bool cond[_FG_COND_MAX];
	uint64_t cond_since[_FG_COND_MAX];

	/* per button: conditions and its alert */
	struct button *buttons;
	size_t n_buttons;

	/* the sources of FG_COND_SPOOL_FULL (fg_feedback_event()) */
	bool spool_alarm, spool_high;

	/* transient events and the last local acknowledge */
	bool have_press, have_closed, have_ack;
	uint64_t press_at, closed_at, ack_at;
};

int fg_feedback_new(const struct fg_pattern_set sets[_FG_FB_STATE_MAX],
		    const uint64_t level_after_usec[FG_ESCALATION_LEVELS],
		    struct fg_feedback **ret)
{
	struct fg_feedback *fb;

	fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	memcpy(fb->sets, sets, sizeof(fb->sets));
	memcpy(fb->level_after, level_after_usec, sizeof(fb->level_after));
	*ret = fb;
	return 0;
}

int fg_feedback_new_from_config(const struct fg_config *c, struct fg_feedback **ret)
{
	struct fg_pattern_set sets[_FG_FB_STATE_MAX];

	for (int s = 0; s < _FG_FB_STATE_MAX; s++) {
		const char *text = c->gpio.patterns[s] ? c->gpio.patterns[s] : states[s].def;
		int r = fg_pattern_set_parse(text, &sets[s], NULL, 0);

		if (r < 0)
			return r;
	}
	return fg_feedback_new(sets, c->escalation.level_after_usec, ret);
}

struct fg_feedback *fg_feedback_free(struct fg_feedback *fb)
{
	if (!fb)
		return NULL;
	for (size_t i = 0; i < fb->n_buttons; i++)
		free(fb->buttons[i].name);
	free(fb->buttons);
	free(fb);
	return NULL;
}

static struct button *find_button(const struct fg_feedback *fb, const char *name)
{
	for (size_t i = 0; i < fb->n_buttons; i++)
		if (strcmp(fb->buttons[i].name, name) == 0)
			return &fb->buttons[i];
	return NULL;
}

/* Buttons are the configured ones; the list only grows, and stays small. */
static int get_button(struct fg_feedback *fb, const char *name, struct button **ret)
{
	struct button *b = find_button(fb, name), *n;

	if (!b) {
		char *copy = strdup(name);

		if (!copy)
			return -ENOMEM;
		n = realloc(fb->buttons, (fb->n_buttons + 1) * sizeof(*n));
		if (!n) {
			free(copy);
			return -ENOMEM;
		}
		fb->buttons = n;
		b = &fb->buttons[fb->n_buttons++];
		*b = (struct button) { .name = copy };
	}
	*ret = b;
	return 0;
}

static void set_flag(bool *flag, uint64_t *since, bool on, uint64_t now)
{
	if (on && !*flag)
		*since = now;
	*flag = on;
}

int fg_feedback_set_condition(struct fg_feedback *fb, enum fg_feedback_condition c,
			      bool on, uint64_t now_usec)
{
	if (c < 0 || c >= _FG_COND_MAX)
		return -EINVAL;
	set_flag(&fb->cond[c], &fb->cond_since[c], on, now_usec);
	return 0;
}

int fg_feedback_set_button_condition(struct fg_feedback *fb, enum fg_feedback_condition c,
				     const char *button, bool on, uint64_t now_usec)
{
	struct button *b;
	int r;

	if (c < 0 || c >= _FG_COND_MAX || !button)
		return -EINVAL;
	if (!on) {
		/* clearing never allocates */
		b = find_button(fb, button);
		if (b)
			b->cond[c] = false;
		return 0;
	}
	r = get_button(fb, button, &b);
	if (r < 0)
		return r;
	set_flag(&b->cond[c], &b->cond_since[c], true, now_usec);
	return 0;
}

bool fg_feedback_condition_is_set(const struct fg_feedback *fb, enum fg_feedback_condition c)
{
	if (c < 0 || c >= _FG_COND_MAX)
		return false;
	if (fb->cond[c])
		return true;
	for (size_t i = 0; i < fb->n_buttons; i++)
		if (fb->buttons[i].cond[c])
			return true;
	return false;
}

void fg_feedback_press(struct fg_feedback *fb, uint64_t now_usec)
{
	fb->have_press = true;
	fb->press_at = now_usec;
}

int fg_feedback_alert_opened(struct fg_feedback *fb, const char *button, uint64_t now_usec)
{
	struct button *b;
	int r;

	if (!button)
		return -EINVAL;
	r = get_button(fb, button, &b);
	if (r < 0)
		return r;
	if (b->open)
		return 0;
	b->open = true;
	b->opened = now_usec;
	b->delivery = FG_DELIVERY_SENDING;
	b->delivery_since = now_usec;
	return 0;
}

int fg_feedback_alert_delivery(struct fg_feedback *fb, const char *button,
			       enum fg_delivery d, uint64_t now_usec)
{
	struct button *b = button ? find_button(fb, button) : NULL;

	if (d < 0 || d >= _FG_DELIVERY_MAX)
		return -EINVAL;
	if (!b || !b->open)
		return -ENOENT;
	if (b->delivery != d) {
		b->delivery = d;
		b->delivery_since = now_usec;
	}
	return 0;
}

int fg_feedback_alert_closed(struct fg_feedback *fb, const char *button, uint64_t now_usec)
{
	struct button *b = button ? find_button(fb, button) : NULL;

	if (!b || !b->open)
		return -ENOENT;
	b->open = false;
	fb->have_closed = true;
	fb->closed_at = now_usec;
	return 0;
}

size_t fg_feedback_open_alerts(const struct fg_feedback *fb)
{
	size_t n = 0;

	for (size_t i = 0; i < fb->n_buttons; i++)
		n += fb->buttons[i].open;
	return n;
}

/* FG_COND_SPOOL_FULL: the spool's own alarm, a lost alert, or supervision's spool alarm. */
static int show_spool(struct fg_feedback *fb, uint64_t now)
{
	return fg_feedback_set_condition(fb, FG_COND_SPOOL_FULL, fb->spool_alarm || fb->spool_high, now);
}

/* Which light each supervision alarm has; the others show elsewhere or not at all. */
static int show_alarm(struct fg_feedback *fb, const struct fg_feedback_event *ev, uint64_t now)
{
	switch (ev->alarm) {
	case FG_ALARM_BATTERY_LOW:
		return fg_feedback_set_button_condition(fb, FG_COND_LOW_BATTERY, ev->button, ev->on, now);
	case FG_ALARM_BUTTON_OFFLINE:
		return fg_feedback_set_button_condition(fb, FG_COND_NOT_SEEN, ev->button, ev->on, now);
	case FG_ALARM_TARGETS_FAILING:
		/* the fallback alarm: nobody can be paged, the box must say so */
		return fg_feedback_set_condition(fb, FG_COND_TARGETS_FAILING, ev->on, now);
	case FG_ALARM_SPOOL_HIGH:
		fb->spool_high = ev->on;
		fb->spool_alarm = ev->spool_alarm;
		return show_spool(fb, now);
	case FG_ALARM_BLUETOOTH_GONE:
		/* no adapter shows at once, from FG_FB_EVENT_RADIO, without waiting for the alarm */
	case FG_ALARM_TARGET_REJECTED:
		/* shows from the targets' health (FG_FB_EVENT_FAILING's targets_refusing) */
	case FG_ALARM_CLOCK_UNSYNCED:
	case FG_ALARM_STATE_FILES:
	case FG_ALARM_LINK_STARVED:
		/* a button held out of the link budget: status, the API and the alert say so */
		return 0;
	case _FG_ALARM_KIND_MAX:
		break;
	}
	return -EINVAL;
}

/* A delivery outcome shows on the alert LED only for a button's own open On. */
static int show_delivery(struct fg_feedback *fb, const struct fg_feedback_event *ev,
			 enum fg_delivery d, uint64_t now)
{
	if (!ev->alert_on || ev->alert_test || ev->alert_supervision)
		return 0;
	/* -ENOENT when the alert was closed meanwhile: nothing to show */
	(void)fg_feedback_alert_delivery(fb, ev->button, d, now);
	return 0;
}

int fg_feedback_event(struct fg_feedback *fb, const struct fg_feedback_event *ev, uint64_t now_usec)
{
	int r;

	switch (ev->kind) {
	case FG_FB_EVENT_STARTED:
		return fg_feedback_set_condition(fb, FG_COND_STARTING, false, now_usec);
	case FG_FB_EVENT_GESTURE:
		/* one chirp per physical press, not one per event it produces */
		if (ev->down && !ev->queued)
			fg_feedback_press(fb, now_usec);
		return 0;
	case FG_FB_EVENT_RADIO:
		return fg_feedback_set_condition(fb, FG_COND_NO_ADAPTER, !ev->on, now_usec);
	case FG_FB_EVENT_ALERT_OPENED:
		return fg_feedback_alert_opened(fb, ev->button, now_usec);
	case FG_FB_EVENT_ALERT_CLOSED:
		(void)fg_feedback_alert_closed(fb, ev->button, now_usec);
		return 0;
	case FG_FB_EVENT_DELIVERED:
	case FG_FB_EVENT_FAILING:
		r = show_delivery(fb, ev, ev->kind == FG_FB_EVENT_DELIVERED ? FG_DELIVERY_DELIVERED
									     : FG_DELIVERY_FAILING, now_usec);
		if (r < 0)
			return r;
		/* fall through */
	case FG_FB_EVENT_TARGETS:
		/*
		 * A target refusing our key or URL is a configuration fault,
		 * and so are values the image could not apply at boot.
		 * FG_COND_TARGETS_FAILING is supervision's alarm (every
		 * target failing for a while); one target retrying shows on
		 * the alert LED of the alerts it holds.
		 */
		return fg_feedback_set_condition(fb, FG_COND_CONFIG_FAULT,
						 ev->targets_refusing || ev->boot_errors, now_usec);
	case FG_FB_EVENT_DEAD_LETTER:
		r = show_delivery(fb, ev, FG_DELIVERY_GAVE_UP, now_usec);
		if (r < 0)
			return r;
		return fg_feedback_set_condition(fb, FG_COND_DEAD_LETTER, true, now_usec);
	case FG_FB_EVENT_SPOOL:
		/* a lost alert keeps the alarm on until someone restarts us */
		fb->spool_alarm = ev->spool_alarm;
		return show_spool(fb, now_usec);
	case FG_FB_EVENT_RESTORED:
		r = fg_feedback_set_condition(fb, FG_COND_DEAD_LETTER, ev->dead_letters, now_usec);
		if (r >= 0)
			r = fg_feedback_set_condition(fb, FG_COND_CONFIG_FAULT,
						      ev->targets_refusing || ev->boot_errors, now_usec);
		if (r < 0)
			return r;
		fb->spool_alarm = ev->spool_alarm;
		return show_spool(fb, now_usec);
	case FG_FB_EVENT_ALARM:
		return show_alarm(fb, ev, now_usec);
	case _FG_FB_EVENT_MAX:
		break;
	}
	return -EINVAL;
}

static bool row_buzzes(const struct fg_feedback *fb, enum fg_feedback_state s)
{
	return fb->sets[s].has[FG_OUTPUT_BUZZER];
}

static bool alerts_buzz(const struct fg_feedback *fb)
{
	static const enum fg_feedback_state rows[] = {
		FG_FB_UNDELIVERABLE, FG_FB_FAILING, FG_FB_LEVEL3, FG_FB_LEVEL2, FG_FB_LEVEL1,
		FG_FB_OPEN, FG_FB_DELIVERED,
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (row_buzzes(fb, rows[i]))
			return true;
	return false;
}

/*
 * Anything still on, raised or opened at or before @t, that the buzzer
 * could sound for (its rows have a buzzer pattern): what an acknowledge
 * at @t silences.
 */
static bool anything_on_since(const struct fg_feedback *fb, uint64_t t)
{
	bool alerts = alerts_buzz(fb);

	for (int c = 0; c < _FG_COND_MAX; c++)
		if (fb->cond[c] && fb->cond_since[c] <= t && row_buzzes(fb, cond_state[c]))
			return true;
	for (size_t i = 0; i < fb->n_buttons; i++) {
		const struct button *b = &fb->buttons[i];

		if (alerts && b->open && b->opened <= t)
			return true;
		for (int c = 0; c < _FG_COND_MAX; c++)
			if (b->cond[c] && b->cond_since[c] <= t && row_buzzes(fb, cond_state[c]))
				return true;
	}
	return false;
}

bool fg_feedback_acknowledge(struct fg_feedback *fb, uint64_t now_usec)
{
	bool any = anything_on_since(fb, now_usec);
	struct fg_feedback_view v;

	/* a press chirp still sounding counts too */
	if (!any && fb->have_press) {
		fg_feedback_evaluate(fb, now_usec, &v);
		any = v.out[FG_OUTPUT_BUZZER].state == FG_FB_PRESS;
	}
	fb->have_ack = true;
	fb->ack_at = now_usec;
	return any;
}

/*
 * The instances of one row at one moment: whether there is any, and the
 * start to run its pattern from. Each instance has a key (when the thing
 * behind it began: the alert's opening, the condition's raising) that the
 * local acknowledge compares against, and a start for the pattern.
 *
 * With several instances, a pattern that ends is run from the latest start
 * (each new delivery shows its "for 10s" again); one that goes on forever
 * from the earliest, so a second alert does not make a blink jump phase.
 */
struct instances {
	const struct fg_feedback *fb;
	bool audible;		/* for the buzzer: skip what was acknowledged */
	bool latest;
	bool any;
	uint64_t start;
};

static void consider(struct instances *in, uint64_t key, uint64_t start)
{
	if (in->audible && in->fb->have_ack && key <= in->fb->ack_at)
		return;
	if (!in->any || (in->latest ? start > in->start : start < in->start))
		in->start = start;
	in->any = true;
}

static enum fg_feedback_condition state_cond(enum fg_feedback_state s)
{
	for (int c = 0; c < _FG_COND_MAX; c++)
		if (cond_state[c] == s)
			return (enum fg_feedback_condition)c;
	return _FG_COND_MAX;
}

static bool row_start(const struct fg_feedback *fb, enum fg_feedback_state s, uint64_t now,
		      bool audible, bool latest, uint64_t *ret_start)
{
	struct instances in = { .fb = fb, .audible = audible, .latest = latest };
	enum fg_delivery want = _FG_DELIVERY_MAX;
	enum fg_feedback_condition c;
	int level = -1;

	switch (s) {
	case FG_FB_PRESS:
		if (fb->have_press)
			consider(&in, fb->press_at, fb->press_at);
		break;
	case FG_FB_CLOSED:
		if (fb->have_closed)
			consider(&in, fb->closed_at, fb->closed_at);
		break;
	case FG_FB_UNDELIVERABLE:
		want = FG_DELIVERY_GAVE_UP;
		break;
	case FG_FB_FAILING:
		want = FG_DELIVERY_FAILING;
		break;
	case FG_FB_OPEN:
		want = FG_DELIVERY_SENDING;
		break;
	case FG_FB_DELIVERED:
		want = FG_DELIVERY_DELIVERED;
		break;
	case FG_FB_LEVEL3:
		level = 2;
		break;
	case FG_FB_LEVEL2:
		level = 1;
		break;
	case FG_FB_LEVEL1:
		level = 0;
		break;
	case FG_FB_SILENCED:
		/* never filtered itself: it is what shows the silence */
		if (fb->have_ack && anything_on_since(fb, fb->ack_at)) {
			*ret_start = fb->ack_at;
			return true;
		}
		return false;
	case FG_FB_CONFIG_FAULT:
	case FG_FB_NO_ADAPTER:
	case FG_FB_SPOOL_FULL:
	case FG_FB_DEAD_LETTER:
	case FG_FB_TARGETS_FAILING:
	case FG_FB_NOT_SEEN:
	case FG_FB_LOW_BATTERY:
	case FG_FB_STARTING:
		c = state_cond(s);
		if (fb->cond[c])
			consider(&in, fb->cond_since[c], fb->cond_since[c]);
		for (size_t i = 0; i < fb->n_buttons; i++)
			if (fb->buttons[i].cond[c])
				consider(&in, fb->buttons[i].cond_since[c], fb->buttons[i].cond_since[c]);
		break;
	case FG_FB_IDLE:
		/* always on; the phase of its pattern is arbitrary */
		*ret_start = 0;
		return true;
	case _FG_FB_STATE_MAX:
	case _FG_FB_STATE_NONE:
		return false;
	}

	for (size_t i = 0; (want != _FG_DELIVERY_MAX || level >= 0) && i < fb->n_buttons; i++) {
		const struct button *b = &fb->buttons[i];

		if (!b->open)
			continue;
		if (want != _FG_DELIVERY_MAX && b->delivery == want)
			consider(&in, b->opened, b->delivery_since);
		if (level >= 0 && fb->level_after[level] > 0 && now >= b->opened &&
		    now - b->opened >= fb->level_after[level])
			consider(&in, b->opened, b->opened + fb->level_after[level]);
	}

	if (in.any)
		*ret_start = in.start;
	return in.any;
}

void fg_feedback_evaluate(const struct fg_feedback *fb, uint64_t now_usec,
			  struct fg_feedback_view *ret)
{
	struct fg_feedback_view v = { .next_usec = FG_USEC_INFINITY, .next_state_usec = FG_USEC_INFINITY };

	for (int o = 0; o < _FG_OUTPUT_MAX; o++) {
		struct fg_feedback_output *out = &v.out[o];

		*out = (struct fg_feedback_output) {
			.state = _FG_FB_STATE_NONE,
			.next_usec = FG_USEC_INFINITY,
		};
		for (int s = 0; s < _FG_FB_STATE_MAX; s++) {
			const struct fg_pattern *p = &fb->sets[s].pattern[o];
			struct fg_pattern_sample smp;
			uint64_t start;

			if (!fb->sets[s].has[o])
				continue;
			if (!row_start(fb, s, now_usec, o == FG_OUTPUT_BUZZER,
				       fg_pattern_is_finite(p), &start))
				continue;
			fg_pattern_sample(p, start, now_usec, &smp);
			if (!smp.active)
				continue;	/* it has ended: lower rows show through */
			*out = (struct fg_feedback_output) {
				.state = s,
				.pattern = p,
				.start_usec = start,
				.level = smp.level,
				.next_usec = smp.next_usec,
			};
			break;
		}
		if (out->next_usec < v.next_usec)
			v.next_usec = out->next_usec;
		if (out->pattern && fg_pattern_is_finite(out->pattern)) {
			uint64_t len = fg_pattern_length(out->pattern);
			uint64_t end = out->start_usec > FG_USEC_INFINITY - len ?
				FG_USEC_INFINITY : out->start_usec + len;

			if (end < v.next_state_usec)
				v.next_state_usec = end;
		}
	}

	/* Escalation deadlines still ahead wake us even if nothing shows yet. */
	for (size_t i = 0; i < fb->n_buttons; i++) {
		const struct button *b = &fb->buttons[i];

		if (!b->open)
			continue;
		for (int l = 0; l < FG_ESCALATION_LEVELS; l++) {
			uint64_t t;

			if (fb->level_after[l] == 0)
				continue;
			t = b->opened + fb->level_after[l];
			if (t > now_usec && t < v.next_usec)
				v.next_usec = t;
			if (t > now_usec && t < v.next_state_usec)
				v.next_state_usec = t;
		}
	}

	for (int s = 0; s < _FG_FB_STATE_MAX; s++) {
		uint64_t start;
		bool on;

		if (!row_start(fb, s, now_usec, false, false, &start))
			continue;
		on = !fg_feedback_state_is_transient(s);
		for (int o = 0; !on && o < _FG_OUTPUT_MAX; o++) {
			struct fg_pattern_sample smp;
			uint64_t st;

			if (!fb->sets[s].has[o])
				continue;
			row_start(fb, s, now_usec, false, fg_pattern_is_finite(&fb->sets[s].pattern[o]), &st);
			fg_pattern_sample(&fb->sets[s].pattern[o], st, now_usec, &smp);
			on = smp.active;
		}
		if (on)
			v.active |= UINT32_C(1) << s;
	}

	*ret = v;
}
