/* SPDX-License-Identifier: MIT */
/* The generic target's body templates: ${placeholder} expansion, and their
 * check when the configuration is loaded. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "delivery/template.h"
#include "lib/timeutil.h"

struct placeholder {
	const char *name;
	const char *doc;
	void (*put)(struct fg_strbuf *b, const struct fg_alert *a);
};

static void put_bool(struct fg_strbuf *b, bool v)
{
	fg_strbuf_puts(b, v ? "true" : "false");
}

static void put_u64(struct fg_strbuf *b, uint64_t v)
{
	fg_strbuf_printf(b, "%" PRIu64, v);
}

static void p_alert_id(struct fg_strbuf *b, const struct fg_alert *a) { fg_strbuf_put_json(b, a->id); }
static void p_incident_id(struct fg_strbuf *b, const struct fg_alert *a) { fg_strbuf_put_json(b, a->incident_id); }
static void p_key(struct fg_strbuf *b, const struct fg_alert *a) { fg_strbuf_put_json(b, a->idempotency_key); }
static void p_state(struct fg_strbuf *b, const struct fg_alert *a) { fg_strbuf_puts(b, fg_alert_state_to_string(a->state)); }
static void p_button(struct fg_strbuf *b, const struct fg_alert *a) { fg_strbuf_put_json(b, a->button); }
static void p_name_id(struct fg_strbuf *b, const struct fg_alert *a)
{
	char nid[FG_ALERT_NAME_ID_BUF];

	fg_strbuf_put_json(b, fg_alert_target_name_id(a, nid, sizeof(nid)));
}
static void p_info(struct fg_strbuf *b, const struct fg_alert *a) { fg_strbuf_put_json(b, a->info); }
static void p_gateway(struct fg_strbuf *b, const struct fg_alert *a) { fg_strbuf_put_json(b, a->gateway); }
static void p_severity(struct fg_strbuf *b, const struct fg_alert *a) { fg_strbuf_puts(b, fg_severity_to_string(a->severity)); }
static void p_serial(struct fg_strbuf *b, const struct fg_alert *a) { fg_strbuf_put_json(b, a->serial); }
static void p_gesture(struct fg_strbuf *b, const struct fg_alert *a) { fg_strbuf_puts(b, fg_gesture_to_string(a->gesture)); }
static void p_counter(struct fg_strbuf *b, const struct fg_alert *a) { put_u64(b, a->event_counter); }
static void p_epoch(struct fg_strbuf *b, const struct fg_alert *a) { put_u64(b, a->press_usec / 1000000); }
static void p_age_s(struct fg_strbuf *b, const struct fg_alert *a) { put_u64(b, a->age_usec / 1000000); }
static void p_queued(struct fg_strbuf *b, const struct fg_alert *a) { put_bool(b, a->queued); }
static void p_battery(struct fg_strbuf *b, const struct fg_alert *a) { put_u64(b, a->battery_mv); }
static void p_appended(struct fg_strbuf *b, const struct fg_alert *a) { put_bool(b, a->appended); }
static void p_test(struct fg_strbuf *b, const struct fg_alert *a) { put_bool(b, a->test); }
static void p_supervision(struct fg_strbuf *b, const struct fg_alert *a) { put_bool(b, a->supervision); }

static void p_address(struct fg_strbuf *b, const struct fg_alert *a)
{
	char s[18];

	if (a->has_address) {
		fg_format_address(a->address, s);
		fg_strbuf_puts(b, s);
	}
}

static void p_press_time(struct fg_strbuf *b, const struct fg_alert *a)
{
	char s[FG_RFC3339_BUF];

	fg_strbuf_puts(b, fg_format_rfc3339(a->press_usec, s, sizeof(s)));
}

static void p_age_text(struct fg_strbuf *b, const struct fg_alert *a)
{
	char s[FG_AGE_TEXT_BUF];

	fg_strbuf_put_json(b, fg_alert_age_text(a, s, sizeof(s)));
}

static const struct placeholder placeholders[] = {
	{ "state", "\"On\" or \"Off\"", p_state },
	{ "name_id", "the button's flic_nameId (with \"-test\" for a test alert)", p_name_id },
	{ "button", "the [button NAME] section name", p_button },
	{ "info", "the button's info text", p_info },
	{ "severity", "critical, error, warning or info", p_severity },
	{ "gateway", "the gateway name", p_gateway },
	{ "serial", "the button's serial number (may be empty)", p_serial },
	{ "address", "the button's Bluetooth address AA:BB:… (may be empty)", p_address },
	{ "gesture", "click, double_click, hold, …", p_gesture },
	{ "event_counter", "the button's event counter (number)", p_counter },
	{ "press_time", "press time per the button, RFC 3339 UTC", p_press_time },
	{ "press_epoch", "press time, Unix seconds (number)", p_epoch },
	{ "age_s", "seconds between the press and its arrival (number)", p_age_s },
	{ "age_text", "\"pressed 40 s ago\", empty for a fresh press", p_age_text },
	{ "queued", "true if the button had queued the press (bare true/false)", p_queued },
	{ "battery_mv", "battery voltage in mV, 0 if unknown (number)", p_battery },
	{ "appended", "true for an On while the incident was already open", p_appended },
	{ "test", "true for a test alert", p_test },
	{ "supervision", "true for a supervision alert (battery, not seen, gateway)", p_supervision },
	{ "alert_id", "unique id of this alert", p_alert_id },
	{ "incident_id", "id of the On that opened the incident", p_incident_id },
	{ "idempotency_key", "serial:counter:gesture, stable across replays", p_key },
};

const char *const fg_template_names[] = {
	"state", "name_id", "button", "info", "severity", "gateway", "serial",
	"address", "gesture", "event_counter", "press_time", "press_epoch",
	"age_s", "age_text", "queued", "battery_mv", "appended", "test",
	"supervision", "alert_id", "incident_id", "idempotency_key", NULL,
};

static const struct placeholder *lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++)
		if (strlen(placeholders[i].name) == len &&
		    memcmp(placeholders[i].name, name, len) == 0)
			return &placeholders[i];
	return NULL;
}

const char *fg_template_describe(const char *name)
{
	const struct placeholder *p = lookup(name, strlen(name));

	return p ? p->doc : NULL;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static void set_msg(char **ret, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_msg(char **ret, const char *fmt, ...)
{
	va_list ap;

	if (!ret)
		return;
	va_start(ap, fmt);
	if (vasprintf(ret, fmt, ap) < 0)
		*ret = NULL;
	va_end(ap);
}

/*
 * Walk @tpl once; with @a == NULL only check it. On error *ret_message
 * (if not NULL) says what and where.
 */
static int walk(const char *tpl, const struct fg_alert *a, struct fg_strbuf *out,
		char **ret_message)
{
	const char *run = tpl, *s = tpl;

	while (*s) {
		const char *name, *close;
		const struct placeholder *p;
		size_t col = (size_t)(s - tpl) + 1;

		if (*s != '$') {
			s++;
			continue;
		}
		if (s[1] == '$') {
			if (out) {
				fg_strbuf_putn(out, run, (size_t)(s - run) + 1);
			}
			s += 2;
			run = s;
			continue;
		}
		if (s[1] != '{') {
			s++;
			continue;
		}
		name = s + 2;
		for (close = name; *close && name_char(*close); close++)
			;
		if (*close != '}') {
			if (!*close)
				set_msg(ret_message, "unterminated \"${\" at column %zu", col);
			else
				set_msg(ret_message,
					"invalid character '%c' in placeholder at column %zu "
					"(names are letters, digits and '_')",
					*close, (size_t)(close - tpl) + 1);
			return -EINVAL;
		}
		if (close == name) {
			set_msg(ret_message, "empty placeholder \"${}\" at column %zu", col);
			return -EINVAL;
		}
		p = lookup(name, (size_t)(close - name));
		if (!p) {
			set_msg(ret_message, "unknown placeholder \"${%.*s}\" at column %zu",
				(int)(close - name), name, col);
			return -EINVAL;
		}
		if (out) {
			fg_strbuf_putn(out, run, (size_t)(s - run));
			p->put(out, a);
		}
		s = close + 1;
		run = s;
	}
	if (out)
		fg_strbuf_putn(out, run, (size_t)(s - run));
	return 0;
}

static const struct fg_alert sample = {
	.id = "0123456789abcdef0123456789abcdef",
	.incident_id = "0123456789abcdef0123456789abcdef",
	.idempotency_key = "BG30-C12345:41:click",
	.state = FG_ALERT_ON,
	.button = (char *)"room-12",
	.name_id = (char *)"Room 12 \"bed\" \\ side",
	.gateway = (char *)"carehome-gw",
	.info = (char *)"line one\nline two \"quoted\"",
	.severity = FG_SEVERITY_CRITICAL,
	.serial = "BG30-C12345",
	.has_address = true,
	.address = { 0x80, 0xe4, 0xda, 0x70, 0x12, 0x34 },
	.gesture = FG_GESTURE_CLICK,
	.event_counter = 41,
	.press_usec = UINT64_C(1764000000000000),
	.age_usec = 40 * UINT64_C(1000000),
	.created_usec = UINT64_C(1764000040000000),
	.queued = true,
	.battery_mv = 3010,
};

const struct fg_alert *fg_template_sample_alert(void)
{
	return &sample;
}

int fg_template_render(const char *tpl, const struct fg_alert *a, char **ret,
		       size_t *ret_len)
{
	struct fg_strbuf b = {};
	int r;

	r = walk(tpl, a, &b, NULL);
	if (r < 0) {
		fg_strbuf_done(&b);
		return r;
	}
	return fg_strbuf_steal(&b, ret, ret_len);
}

int fg_template_validate(const char *tpl, char **ret_message)
{
	char *msg = NULL, *out = NULL;
	size_t len, i;
	int r;

	r = walk(tpl, NULL, NULL, &msg);
	if (r < 0) {
		if (!msg)
			return -ENOMEM;
		*ret_message = msg;
		return r;
	}
	for (i = 0; tpl[i] == ' ' || tpl[i] == '\t' || tpl[i] == '\n' || tpl[i] == '\r'; i++)
		;
	if (tpl[i] != '{' && tpl[i] != '[')
		return 0;
	r = fg_template_render(tpl, &sample, &out, &len);
	if (r < 0)
		return r;
	if (!fg_json_is_valid(out, len)) {
		free(out);
		msg = strdup("looks like JSON but is not valid JSON once rendered "
			     "(placeholders insert escaped text without quotes: "
			     "write \"${info}\")");
		if (!msg)
			return -ENOMEM;
		*ret_message = msg;
		return -EINVAL;
	}
	free(out);
	return 0;
}

/* A strict RFC 8259 syntax check; depth-limited so it cannot be overflowed. */
struct json {
	const char *p, *end;
	unsigned depth;
};

static void ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool lit(struct json *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool str(struct json *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return false;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			for (int k = 0; k < 4; k++, j->p++)
				if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
					return false;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return false;
		}
	}
	return false;
}

static bool digits(struct json *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool num(struct json *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digits(j))
			return false;
	}
	return true;
}

static bool value(struct json *j);

static bool container(struct json *j, char close, bool object)
{
	if (++j->depth > 64)
		return false;
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		ws(j);
		if (object) {
			if (!str(j))
				return false;
			ws(j);
			if (j->p >= j->end || *j->p != ':')
				return false;
			j->p++;
		}
		if (!value(j))
			return false;
		ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p != close)
			return false;
		j->p++;
		j->depth--;
		return true;
	}
}

static bool value(struct json *j)
{
	ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		return container(j, '}', true);
	case '[':
		return container(j, ']', false);
	case '"':
		return str(j);
	case 't':
		return lit(j, "true");
	case 'f':
		return lit(j, "false");
	case 'n':
		return lit(j, "null");
	default:
		return num(j);
	}
}

bool fg_json_is_valid(const char *s, size_t len)
{
	struct json j = { .p = s, .end = s + len };

	if (!value(&j))
		return false;
	ws(&j);
	return j.p == j.end;
}
