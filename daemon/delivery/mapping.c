/* SPDX-License-Identifier: MIT */
/* Button events to alerts: per-button open/closed state, replay detection,
 * and the alerts.state text that keeps them across restarts. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/mapping.h"
#include "lib/macro.h"
#include "lib/strbuf.h"
#include "lib/strv.h"

struct seen {
	uint32_t counter;
	enum fg_gesture gesture;
	uint64_t press_usec;
};

struct button_state {
	char *name;
	bool open;
	char incident_id[FG_ALERT_ID_MAX];
	uint64_t opened_usec;
	unsigned appended;
	struct seen seen[FG_MAPPING_SEEN];
	size_t n_seen;		/* valid entries */
	size_t next_seen;	/* ring position of the next write */
};

struct fg_mapping {
	struct button_state *buttons;
	size_t n_buttons;
};

static const char *const mapping_outcome_table[] = {
	[FG_MAPPING_IGNORED] = "ignored",
	[FG_MAPPING_DUPLICATE] = "duplicate",
	[FG_MAPPING_OPEN] = "open",
	[FG_MAPPING_APPEND] = "append",
	[FG_MAPPING_SUPPRESSED] = "suppressed",
	[FG_MAPPING_CLOSE] = "close",
	[FG_MAPPING_CLOSE_IDLE] = "close-idle",
	[FG_MAPPING_TEST] = "test",
};
FG_DEFINE_STRING_TABLE_TO(, fg_mapping_outcome, enum fg_mapping_outcome, mapping_outcome_table)

bool fg_mapping_outcome_emits(enum fg_mapping_outcome o)
{
	return o == FG_MAPPING_OPEN || o == FG_MAPPING_APPEND ||
	       o == FG_MAPPING_CLOSE || o == FG_MAPPING_CLOSE_IDLE;
}

struct fg_mapping *fg_mapping_new(void)
{
	return calloc(1, sizeof(struct fg_mapping));
}

static void clear_buttons(struct button_state *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].name);
	free(b);
}

struct fg_mapping *fg_mapping_free(struct fg_mapping *m)
{
	if (!m)
		return NULL;
	clear_buttons(m->buttons, m->n_buttons);
	free(m);
	return NULL;
}

static struct button_state *find(const struct fg_mapping *m, const char *name)
{
	for (size_t i = 0; i < m->n_buttons; i++)
		if (strcmp(m->buttons[i].name, name) == 0)
			return &m->buttons[i];
	return NULL;
}

static struct button_state *find_or_add(struct fg_mapping *m, const char *name)
{
	struct button_state *b = find(m, name), *n;

	if (b)
		return b;
	n = realloc(m->buttons, (m->n_buttons + 1) * sizeof(*n));
	if (!n)
		return NULL;
	m->buttons = n;
	b = &n[m->n_buttons];
	memset(b, 0, sizeof(*b));
	b->name = strdup(name);
	if (!b->name)
		return NULL;
	m->n_buttons++;
	return b;
}

static bool seen_before(const struct button_state *b, uint32_t counter,
			enum fg_gesture g, uint64_t press_usec)
{
	for (size_t i = 0; i < b->n_seen; i++) {
		const struct seen *s = &b->seen[i];
		uint64_t d;

		if (s->counter != counter || s->gesture != g)
			continue;
		/*
		 * Same counter and gesture but a press time far apart is a
		 * button whose counter restarted (reset, re-pair): a new press.
		 */
		d = s->press_usec > press_usec ? s->press_usec - press_usec
					       : press_usec - s->press_usec;
		if (d <= FG_MAPPING_REPLAY_SLACK_USEC)
			return true;
	}
	return false;
}

static void remember(struct button_state *b, uint32_t counter, enum fg_gesture g,
		     uint64_t press_usec)
{
	b->seen[b->next_seen] = (struct seen){ counter, g, press_usec };
	b->next_seen = (b->next_seen + 1) % FG_MAPPING_SEEN;
	if (b->n_seen < FG_MAPPING_SEEN)
		b->n_seen++;
}

void fg_mapping_idempotency_key(const struct fg_button_config *b,
				const struct fg_button_event *ev,
				char ret[FG_IDEMPOTENCY_KEY_MAX])
{
	char id[64];

	if (ev->serial[0])
		snprintf(id, sizeof(id), "%s", ev->serial);
	else if (b->serial && *b->serial)
		snprintf(id, sizeof(id), "%s", b->serial);
	else if (ev->has_address || b->has_address) {
		const uint8_t *a = ev->has_address ? ev->address : b->address;

		snprintf(id, sizeof(id), "%02X%02X%02X%02X%02X%02X", a[0], a[1], a[2],
			 a[3], a[4], a[5]);
	} else
		snprintf(id, sizeof(id), "%s", b->name);
	snprintf(ret, FG_IDEMPOTENCY_KEY_MAX, "%s:%" PRIu32 ":%s", id, ev->event_counter,
		 fg_gesture_to_string(ev->gesture));
}

static int build_alert(const struct fg_mapping_input *in, const struct button_state *bs,
		       enum fg_alert_state state, uint64_t press_usec,
		       struct fg_alert *ret)
{
	const struct fg_button_config *b = in->button;
	const struct fg_button_event *ev = in->event;
	struct fg_alert a = {};

	if (strlen(in->alert_id) >= sizeof(a.id))
		return -EINVAL;
	strcpy(a.id, in->alert_id);
	fg_mapping_idempotency_key(b, ev, a.idempotency_key);
	a.state = state;
	if (fg_alert_set_string(&a.button, b->name) < 0 ||
	    fg_alert_set_string(&a.name_id, b->name_id ? b->name_id : b->name) < 0 ||
	    fg_alert_set_string(&a.gateway, in->gateway) < 0 ||
	    fg_alert_set_string(&a.info, b->info) < 0) {
		fg_alert_clear(&a);
		return -ENOMEM;
	}
	a.severity = b->severity;
	if (ev->serial[0])
		snprintf(a.serial, sizeof(a.serial), "%s", ev->serial);
	else if (b->serial)
		snprintf(a.serial, sizeof(a.serial), "%s", b->serial);
	if (ev->has_address) {
		a.has_address = true;
		memcpy(a.address, ev->address, 6);
	} else if (b->has_address) {
		a.has_address = true;
		memcpy(a.address, b->address, 6);
	}
	a.gesture = ev->gesture;
	a.event_counter = ev->event_counter;
	a.press_usec = press_usec;
	a.age_usec = ev->age_usec;
	a.created_usec = in->now_realtime_usec;
	a.queued = ev->queued;
	a.battery_mv = ev->battery_mv;
	(void)bs;
	*ret = a;
	return 0;
}

int fg_mapping_handle(struct fg_mapping *m, const struct fg_mapping_input *in,
		      enum fg_mapping_outcome *ret_outcome, struct fg_alert *ret_alert)
{
	const struct fg_button_config *b = in->button;
	const struct fg_button_event *ev = in->event;
	fg_gesture_mask bit;
	enum fg_mapping_outcome o;
	struct button_state *bs;
	struct fg_alert a = {};
	uint64_t press;
	bool on, off;
	int r;

	if (ev->gesture < 0 || ev->gesture >= _FG_GESTURE_MAX)
		return -EINVAL;
	bit = FG_GESTURE_BIT(ev->gesture);
	on = b->on & bit;
	off = b->off & bit;
	if (!on && !off) {
		*ret_outcome = (b->test & bit) ? FG_MAPPING_TEST : FG_MAPPING_IGNORED;
		return 0;
	}

	bs = find_or_add(m, b->name);
	if (!bs)
		return -ENOMEM;
	press = in->now_realtime_usec > ev->age_usec ? in->now_realtime_usec - ev->age_usec : 0;
	if (seen_before(bs, ev->event_counter, ev->gesture, press)) {
		*ret_outcome = FG_MAPPING_DUPLICATE;
		return 0;
	}

	/* In both sets the gesture toggles. */
	if (on && off) {
		on = !bs->open;
		off = bs->open;
	}
	if (on) {
		if (!bs->open)
			o = FG_MAPPING_OPEN;
		else if (b->while_open == FG_WHILE_OPEN_APPEND)
			o = FG_MAPPING_APPEND;
		else
			o = FG_MAPPING_SUPPRESSED;
	} else {
		o = bs->open ? FG_MAPPING_CLOSE : FG_MAPPING_CLOSE_IDLE;
	}

	if (fg_mapping_outcome_emits(o)) {
		r = build_alert(in, bs, on ? FG_ALERT_ON : FG_ALERT_OFF, press, &a);
		if (r < 0)
			return r;
	}
	switch (o) {
	case FG_MAPPING_OPEN:
		bs->open = true;
		snprintf(bs->incident_id, sizeof(bs->incident_id), "%s", a.id);
		bs->opened_usec = press;
		bs->appended = 0;
		break;
	case FG_MAPPING_APPEND:
	case FG_MAPPING_SUPPRESSED:
		bs->appended++;
		a.appended = true;
		break;
	case FG_MAPPING_CLOSE:
		a.was_open = true;
		bs->open = false;
		break;
	case FG_MAPPING_CLOSE_IDLE:
	case FG_MAPPING_IGNORED:
	case FG_MAPPING_DUPLICATE:
	case FG_MAPPING_TEST:
	case _FG_MAPPING_OUTCOME_MAX:
		break;
	}
	if (fg_mapping_outcome_emits(o) && o != FG_MAPPING_CLOSE_IDLE)
		snprintf(a.incident_id, sizeof(a.incident_id), "%s", bs->incident_id);
	if (o == FG_MAPPING_CLOSE)
		bs->incident_id[0] = '\0';
	remember(bs, ev->event_counter, ev->gesture, press);

	*ret_outcome = o;
	if (fg_mapping_outcome_emits(o))
		*ret_alert = a;
	return 0;
}

bool fg_mapping_is_open(const struct fg_mapping *m, const char *button)
{
	const struct button_state *bs = find(m, button);

	return bs && bs->open;
}

size_t fg_mapping_n_buttons(const struct fg_mapping *m)
{
	return m->n_buttons;
}

void fg_mapping_get(const struct fg_mapping *m, size_t i, struct fg_button_alert_state *ret)
{
	const struct button_state *bs = &m->buttons[i];

	*ret = (struct fg_button_alert_state){
		.button = bs->name,
		.open = bs->open,
		.opened_usec = bs->opened_usec,
		.appended = bs->appended,
	};
	snprintf(ret->incident_id, sizeof(ret->incident_id), "%s", bs->incident_id);
}

static void serialize_button(struct fg_strbuf *b, const struct button_state *bs)
{
	fg_strbuf_printf(b, "button %s %d %s %" PRIu64 " %u\n", bs->name, bs->open,
			 bs->incident_id[0] ? bs->incident_id : "-", bs->opened_usec, bs->appended);
	/* oldest first, so loading replays the ring in order */
	for (size_t k = 0; k < bs->n_seen; k++) {
		size_t idx = (bs->next_seen + FG_MAPPING_SEEN - bs->n_seen + k) % FG_MAPPING_SEEN;
		const struct seen *s = &bs->seen[idx];

		fg_strbuf_printf(b, "seen %" PRIu32 " %s %" PRIu64 "\n", s->counter,
				 fg_gesture_to_string(s->gesture), s->press_usec);
	}
}

int fg_mapping_serialize(const struct fg_mapping *m, char **ret, size_t *ret_len)
{
	struct fg_strbuf b = {};

	fg_strbuf_puts(&b, "flicgate-alerts 1\n");
	for (size_t i = 0; i < m->n_buttons; i++)
		serialize_button(&b, &m->buttons[i]);
	fg_strbuf_puts(&b, "end\n");
	return fg_strbuf_steal(&b, ret, ret_len);
}

int fg_mapping_serialize_button(const struct fg_mapping *m, const char *button, char **ret,
				size_t *ret_len)
{
	const struct button_state *bs = find(m, button);
	struct fg_strbuf b = {};

	if (!bs)
		return -ENOENT;
	fg_strbuf_puts(&b, "flicgate-alerts 1\n");
	serialize_button(&b, bs);
	fg_strbuf_puts(&b, "end\n");
	return fg_strbuf_steal(&b, ret, ret_len);
}

static int parse(struct fg_mapping *m, const char *text, size_t len, bool merge)
{
	static const char header[] = "flicgate-alerts 1\n";
	struct fg_mapping n = {};
	struct button_state *cur = NULL;
	const char *p = text, *end = text + len;
	bool ended = false;

	if (len < sizeof(header) - 1 || memcmp(text, header, sizeof(header) - 1) != 0)
		return -EBADMSG;
	p += sizeof(header) - 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char line[256], name[128], inc[FG_ALERT_ID_MAX + 8], g[32];
		unsigned long long v1, v2;
		unsigned open, appended;
		int used = 0;

		if (!nl || (size_t)(nl - p) >= sizeof(line) || memchr(p, '\0', (size_t)(nl - p)))
			goto bad;
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		p = nl + 1;
		if (strcmp(line, "end") == 0) {
			ended = true;
			break;
		}
		if (sscanf(line, "button %127s %u %47s %llu %u%n", name, &open, inc, &v1,
			   &appended, &used) == 5 && line[used] == '\0') {
			if (open > 1 || !fg_name_is_valid(name) || find(&n, name) ||
			    strlen(inc) >= FG_ALERT_ID_MAX)
				goto bad;
			cur = find_or_add(&n, name);
			if (!cur)
				goto oom;
			cur->open = open;
			if (strcmp(inc, "-") != 0)
				strcpy(cur->incident_id, inc);
			cur->opened_usec = v1;
			cur->appended = appended;
		} else if (sscanf(line, "seen %llu %31s %llu%n", &v1, g, &v2, &used) == 3 &&
			   line[used] == '\0') {
			enum fg_gesture ge = fg_gesture_from_string(g);

			if (!cur || v1 > UINT32_MAX || ge == _FG_GESTURE_INVALID)
				goto bad;
			remember(cur, (uint32_t)v1, ge, v2);
		} else {
			goto bad;
		}
	}
	if (!ended || p != end)
		goto bad;
	if (merge) {
		for (size_t i = 0; i < n.n_buttons; i++) {
			struct button_state *b = find_or_add(m, n.buttons[i].name);
			char *name;

			if (!b)
				goto oom;
			name = b->name;
			free(n.buttons[i].name);
			n.buttons[i].name = NULL;
			*b = n.buttons[i];
			b->name = name;
		}
		free(n.buttons);
		return 0;
	}
	clear_buttons(m->buttons, m->n_buttons);
	*m = n;
	return 0;
bad:
	clear_buttons(n.buttons, n.n_buttons);
	return -EBADMSG;
oom:
	clear_buttons(n.buttons, n.n_buttons);
	return -ENOMEM;
}

int fg_mapping_load(struct fg_mapping *m, const char *text, size_t len)
{
	return parse(m, text, len, false);
}

int fg_mapping_merge(struct fg_mapping *m, const char *text, size_t len)
{
	return parse(m, text, len, true);
}
