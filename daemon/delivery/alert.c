/* SPDX-License-Identifier: MIT */
/* The alert record: names of its states, and its text form (fg_alert_serialize,
 * fg_alert_parse) kept in spool records and dead letters. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/alert.h"
#include "lib/macro.h"
#include "lib/hex.h"
#include "lib/strbuf.h"

static const char *const alert_state_table[] = {
	[FG_ALERT_ON] = "On",
	[FG_ALERT_OFF] = "Off",
};
FG_DEFINE_STRING_TABLE_TO(, fg_alert_state, enum fg_alert_state, alert_state_table)

void fg_alert_clear(struct fg_alert *a)
{
	if (!a)
		return;
	free(a->button);
	free(a->name_id);
	free(a->gateway);
	free(a->info);
	memset(a, 0, sizeof(*a));
}

int fg_alert_set_string(char **field, const char *s)
{
	char *c = strdup(s ? s : "");

	if (!c)
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

int fg_alert_copy(const struct fg_alert *a, struct fg_alert *ret)
{
	struct fg_alert c = *a;

	c.button = c.name_id = c.gateway = c.info = NULL;
	if (fg_alert_set_string(&c.button, a->button) < 0 ||
	    fg_alert_set_string(&c.name_id, a->name_id) < 0 ||
	    fg_alert_set_string(&c.gateway, a->gateway) < 0 ||
	    fg_alert_set_string(&c.info, a->info) < 0) {
		fg_alert_clear(&c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

const char *fg_alert_target_name_id(const struct fg_alert *a, char *buf, size_t size)
{
	const char *n = a->name_id ? a->name_id : "";

	if (!a->test)
		return n;
	snprintf(buf, size, "%s" FG_ALERT_TEST_SUFFIX, n);
	return buf;
}

const char *fg_alert_age_text(const struct fg_alert *a, char *buf, size_t size)
{
	uint64_t s = a->age_usec / 1000000;

	/* Below two seconds the radio path alone explains the delay. */
	if (s < 2)
		snprintf(buf, size, "%s", "");
	else if (s < 120)
		snprintf(buf, size, "pressed %" PRIu64 " s ago", s);
	else if (s < 2 * 3600)
		snprintf(buf, size, "pressed %" PRIu64 " min ago", s / 60);
	else
		snprintf(buf, size, "pressed %" PRIu64 " h ago", s / 3600);
	return buf;
}

static void sb_put_escaped(struct fg_strbuf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[5];

		if (c >= 0x20 && c != 0x7f && c != '\\')
			continue;
		fg_strbuf_putn(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '\\':
			fg_strbuf_puts(b, "\\\\");
			break;
		case '\n':
			fg_strbuf_puts(b, "\\n");
			break;
		case '\r':
			fg_strbuf_puts(b, "\\r");
			break;
		case '\t':
			fg_strbuf_puts(b, "\\t");
			break;
		default:
			snprintf(e, sizeof(e), "\\x%02x", c);
			fg_strbuf_puts(b, e);
		}
	}
	fg_strbuf_putn(b, run, (size_t)(s - run));
}

static void sb_field(struct fg_strbuf *b, const char *key, const char *value)
{
	fg_strbuf_puts(b, key);
	fg_strbuf_puts(b, "=");
	sb_put_escaped(b, value ? value : "");
	fg_strbuf_puts(b, "\n");
}

static void sb_field_u64(struct fg_strbuf *b, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	sb_field(b, key, num);
}

int fg_alert_serialize(const struct fg_alert *a, char **ret_text, size_t *ret_len)
{
	struct fg_strbuf b = {};
	char addr[18] = "";

	if (a->has_address)
		fg_format_address(a->address, addr);

	fg_strbuf_puts(&b, "flicgate-alert 1\n");
	sb_field(&b, "id", a->id);
	sb_field(&b, "incident", a->incident_id);
	sb_field(&b, "key", a->idempotency_key);
	sb_field(&b, "state", fg_alert_state_to_string(a->state));
	sb_field_u64(&b, "appended", a->appended);
	sb_field_u64(&b, "was_open", a->was_open);
	sb_field_u64(&b, "test", a->test);
	/* only when set: button alerts keep the record they always had */
	if (a->supervision)
		sb_field_u64(&b, "supervision", a->supervision);
	sb_field(&b, "button", a->button);
	sb_field(&b, "name_id", a->name_id);
	sb_field(&b, "gateway", a->gateway);
	sb_field(&b, "info", a->info);
	sb_field(&b, "severity", fg_severity_to_string(a->severity));
	sb_field(&b, "serial", a->serial);
	sb_field(&b, "address", addr);
	sb_field(&b, "gesture", fg_gesture_to_string(a->gesture));
	sb_field_u64(&b, "counter", a->event_counter);
	sb_field_u64(&b, "press_usec", a->press_usec);
	sb_field_u64(&b, "age_usec", a->age_usec);
	sb_field_u64(&b, "created_usec", a->created_usec);
	sb_field_u64(&b, "queued", a->queued);
	sb_field_u64(&b, "battery_mv", a->battery_mv);
	fg_strbuf_puts(&b, "end\n");
	return fg_strbuf_steal(&b, ret_text, ret_len);
}

/* Unescape [s, s+n) into a new string; -EBADMSG on a bad escape or NUL. */
static int unescape(const char *s, size_t n, char **ret)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			goto bad;
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		if (++i >= n)
			goto bad;
		switch (s[i]) {
		case '\\':
			*o++ = '\\';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'x': {
			uint8_t byte;

			if (i + 2 >= n || fg_unhex(s + i + 1, 2, &byte, 1) < 0 || byte == 0)
				goto bad;
			*o++ = (char)byte;
			i += 2;
			break;
		}
		default:
			goto bad;
		}
	}
	*o = '\0';
	*ret = out;
	return 0;
bad:
	free(out);
	return -EBADMSG;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return -EBADMSG;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EBADMSG;
		if (v > (UINT64_MAX - 9) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int copy_fixed(char *dst, size_t size, const char *s)
{
	if (strlen(s) >= size)
		return -EBADMSG;
	strcpy(dst, s);
	return 0;
}

enum {
	SEEN_ID = 1 << 0,
	SEEN_KEY = 1 << 1,
	SEEN_STATE = 1 << 2,
	SEEN_BUTTON = 1 << 3,
	SEEN_NAME_ID = 1 << 4,
	SEEN_GATEWAY = 1 << 5,
	SEEN_GESTURE = 1 << 6,
	SEEN_REQUIRED = (1 << 7) - 1,
};

static int parse_field(struct fg_alert *a, const char *key, const char *v,
		       unsigned *seen)
{
	uint64_t u;
	int r;

#define FLAG(name, member)						\
	if (strcmp(key, name) == 0) {					\
		r = parse_u64(v, 1, &u);				\
		if (r < 0)						\
			return r;					\
		a->member = u;						\
		return 0;						\
	}
#define NUMBER(name, member, max)					\
	if (strcmp(key, name) == 0) {					\
		r = parse_u64(v, (max), &u);				\
		if (r < 0)						\
			return r;					\
		a->member = u;						\
		return 0;						\
	}
#define STRING(name, member, flag)					\
	if (strcmp(key, name) == 0) {					\
		*seen |= (flag);					\
		return fg_alert_set_string(&a->member, v);		\
	}

	if (strcmp(key, "id") == 0) {
		*seen |= SEEN_ID;
		return copy_fixed(a->id, sizeof(a->id), v);
	}
	if (strcmp(key, "incident") == 0)
		return copy_fixed(a->incident_id, sizeof(a->incident_id), v);
	if (strcmp(key, "key") == 0) {
		*seen |= SEEN_KEY;
		return copy_fixed(a->idempotency_key, sizeof(a->idempotency_key), v);
	}
	if (strcmp(key, "serial") == 0)
		return copy_fixed(a->serial, sizeof(a->serial), v);
	if (strcmp(key, "state") == 0) {
		if (strcmp(v, "On") == 0)
			a->state = FG_ALERT_ON;
		else if (strcmp(v, "Off") == 0)
			a->state = FG_ALERT_OFF;
		else
			return -EBADMSG;
		*seen |= SEEN_STATE;
		return 0;
	}
	if (strcmp(key, "severity") == 0) {
		for (int s = 0; s < _FG_SEVERITY_MAX; s++)
			if (strcmp(v, fg_severity_to_string(s)) == 0) {
				a->severity = s;
				return 0;
			}
		return -EBADMSG;
	}
	if (strcmp(key, "gesture") == 0) {
		enum fg_gesture g = fg_gesture_from_string(v);

		if (g == _FG_GESTURE_INVALID)
			return -EBADMSG;
		a->gesture = g;
		*seen |= SEEN_GESTURE;
		return 0;
	}
	if (strcmp(key, "address") == 0) {
		if (!*v) {
			a->has_address = false;
			return 0;
		}
		if (fg_parse_address(v, a->address) < 0)
			return -EBADMSG;
		a->has_address = true;
		return 0;
	}
	FLAG("appended", appended)
	FLAG("was_open", was_open)
	FLAG("test", test)
	FLAG("supervision", supervision)
	FLAG("queued", queued)
	NUMBER("counter", event_counter, UINT32_MAX)
	NUMBER("press_usec", press_usec, UINT64_MAX)
	NUMBER("age_usec", age_usec, UINT64_MAX)
	NUMBER("created_usec", created_usec, UINT64_MAX)
	NUMBER("battery_mv", battery_mv, 100000)
	STRING("button", button, SEEN_BUTTON)
	STRING("name_id", name_id, SEEN_NAME_ID)
	STRING("gateway", gateway, SEEN_GATEWAY)
	STRING("info", info, 0)
#undef FLAG
#undef NUMBER
#undef STRING
	/* A newer writer may add fields; an older reader skips them. */
	return 0;
}

int fg_alert_parse(const char *text, size_t len, struct fg_alert *ret)
{
	static const char header[] = "flicgate-alert 1\n";
	struct fg_alert a = {};
	const char *p = text, *end = text + len;
	unsigned seen = 0;
	bool ended = false;
	int r;

	if (len < sizeof(header) - 1 || memcmp(text, header, sizeof(header) - 1) != 0)
		return -EBADMSG;
	p += sizeof(header) - 1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq;
		char key[32], *value = NULL;

		if (!nl) {
			r = -EBADMSG;	/* truncated line */
			goto fail;
		}
		if (nl - p == 3 && memcmp(p, "end", 3) == 0) {
			ended = true;
			p = nl + 1;
			break;
		}
		eq = memchr(p, '=', (size_t)(nl - p));
		if (!eq || eq == p || (size_t)(eq - p) >= sizeof(key)) {
			r = -EBADMSG;
			goto fail;
		}
		memcpy(key, p, (size_t)(eq - p));
		key[eq - p] = '\0';
		r = unescape(eq + 1, (size_t)(nl - eq - 1), &value);
		if (r < 0)
			goto fail;
		r = parse_field(&a, key, value, &seen);
		free(value);
		if (r < 0)
			goto fail;
		p = nl + 1;
	}
	if (!ended || p != end || (seen & SEEN_REQUIRED) != SEEN_REQUIRED) {
		r = -EBADMSG;
		goto fail;
	}
	if (!a.info && fg_alert_set_string(&a.info, "") < 0) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = a;
	return 0;
fail:
	fg_alert_clear(&a);
	return r;
}
