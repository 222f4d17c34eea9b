/* SPDX-License-Identifier: MIT */
/*
 * Cross-checks once the whole file is read: webhook references resolved to
 * indexes, required keys, and rules that span several keys or sections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config-parser.h"
#include "lib/strv.h"

static int resolve_refs(struct parser *p, char **names, unsigned line, const char *where,
			size_t **ret, size_t *ret_n)
{
	struct fg_config *c = p->config;
	size_t *idx = NULL, n = 0;
	char *name;

	if (!names) {
		/* default: every webhook */
		if (c->n_webhooks) {
			idx = calloc(c->n_webhooks, sizeof(*idx));
			if (!idx)
				abort();
			for (size_t i = 0; i < c->n_webhooks; i++)
				idx[i] = i;
			n = c->n_webhooks;
		}
		*ret = idx;
		*ret_n = n;
		return 0;
	}
	idx = calloc(fg_strv_length(names) + 1, sizeof(*idx));
	if (!idx)
		abort();
	FG_STRV_FOREACH(name, names) {
		size_t i;

		for (i = 0; i < c->n_webhooks; i++)
			if (strcmp(c->webhooks[i].name, name) == 0)
				break;
		if (i == c->n_webhooks) {
			fg_config_add_error(p, line, "%s.webhook: no [webhook %s] in this file", where, name);
			continue;
		}
		for (size_t j = 0; j < n; j++)
			if (idx[j] == i) {
				fg_config_add_error(p, line, "%s.webhook: '%s' is listed twice", where, name);
				i = SIZE_MAX;
				break;
			}
		if (i != SIZE_MAX)
			idx[n++] = i;
	}
	*ret = idx;
	*ret_n = n;
	return 0;
}

/*
 * Was @key given in the section whose seen-row is @seen? The check runs
 * even after errors (so one pass lists every error): a key that was given
 * but refused has been reported already and is not "missing" as well.
 */
static bool given(const unsigned *seen, enum section_kind section, const char *key)
{
	for (size_t k = 0; k < FG_CONFIG_N_OPTIONS; k++)
		if (fg_config_options[k].section == section && strcmp(fg_config_options[k].key, key) == 0)
			return seen[k] != 0;
	return false;
}

void fg_config_check(struct parser *p)
{
	struct fg_config *c = p->config;

	for (size_t i = 0; i < c->n_webhooks; i++) {
		struct fg_webhook_config *w = &c->webhooks[i];

		for (size_t k = 0; k < FG_CONFIG_N_OPTIONS; k++)
			if (fg_config_options[k].section == SEC_WEBHOOK && (fg_config_options[k].flags & F_REQUIRED) &&
			    !p->webhook_seen[i][k])
				fg_config_add_error(p, w->line, "[webhook %s]: %s is missing", w->name, fg_config_options[k].key);
		if (w->preset == FG_PRESET_PAGERDUTY && !w->routing_key &&
		    !given(p->webhook_seen[i], SEC_WEBHOOK, "routing_key"))
			fg_config_add_error(p, w->line, "[webhook %s]: preset pagerduty needs routing_key (the integration key)",
				  w->name);
		if (w->preset == FG_PRESET_GENERIC && !w->body && !given(p->webhook_seen[i], SEC_WEBHOOK, "body"))
			fg_config_add_error(p, w->line, "[webhook %s]: preset generic needs a body template", w->name);
		if (w->preset != FG_PRESET_GENERIC && w->body)
			fg_config_add_error(p, w->line, "[webhook %s]: body is only used by preset generic (this one is %s)",
				  w->name, fg_preset_to_string(w->preset));
	}

	for (size_t i = 0; i < c->n_buttons; i++) {
		struct fg_button_config *b = &c->buttons[i];
		char where[96];

		snprintf(where, sizeof(where), "button %s", b->name);
		if (!b->has_address && !b->serial && !given(p->button_seen[i], SEC_BUTTON, "address") &&
		    !given(p->button_seen[i], SEC_BUTTON, "serial"))
			fg_config_add_error(p, b->line, "[button %s]: give its address, its serial or both", b->name);
		if (!b->name_id)
			fg_config_replace_str(&b->name_id, b->name);
		if (b->on & b->off)
			fg_config_add_error(p, b->line, "[button %s]: a gesture cannot both open (on) and close (off) an alert",
				  b->name);
		if (b->test & (b->on | b->off))
			fg_config_add_error(p, b->line, "[button %s]: a test gesture cannot also open or close an alert",
				  b->name);
		if (!b->on)
			fg_config_add_error(p, b->line, "[button %s]: on is empty: this button could never raise an alert",
				  b->name);
		for (size_t j = 0; j < i; j++) {
			const struct fg_button_config *o = &c->buttons[j];

			if (b->has_address && o->has_address && memcmp(b->address, o->address, 6) == 0)
				fg_config_add_error(p, b->line, "[button %s]: same address as [button %s] (line %u)",
					  b->name, o->name, o->line);
			if (b->serial && o->serial && strcmp(b->serial, o->serial) == 0)
				fg_config_add_error(p, b->line, "[button %s]: same serial as [button %s] (line %u)",
					  b->name, o->name, o->line);
		}
		resolve_refs(p, p->webhook_refs[i], p->webhook_ref_line[i] ? p->webhook_ref_line[i] : b->line,
			     where, &b->webhooks, &b->n_webhooks);
		if (b->n_webhooks == 0 && !p->webhook_refs[i])
			fg_config_add_error(p, b->line, "[button %s]: no [webhook] is configured, so its alerts could go nowhere",
				  b->name);
	}
	resolve_refs(p, p->health_refs, p->health_ref_line ? p->health_ref_line : p->fixed_line[SEC_HEALTH],
		     "health", &c->health.webhooks, &c->health.n_webhooks);
	/* unlike webhook, none by default: a test press is nobody's business unless asked */
	if (p->health_test_refs)
		resolve_refs(p, p->health_test_refs, p->fixed_line[SEC_HEALTH], "health",
			     &c->health.test_webhooks, &c->health.n_test_webhooks);

	if (c->system.admin_password && *c->system.admin_password && c->system.admin_password_hash)
		fg_config_add_error(p, p->fixed_line[SEC_SYSTEM],
				    "system: give admin_password or admin_password_hash, not both");
	if (c->gpio.backend == FG_GPIO_GPIOD) {
		if (!c->gpio.chip && !given(p->fixed_seen[SEC_GPIO], SEC_GPIO, "chip"))
			fg_config_add_error(p, p->fixed_line[SEC_GPIO], "gpio.chip: backend gpiod needs a chip label or path");
		if (!c->gpio.status_led.line && !c->gpio.alert_led.line && !c->gpio.buzzer.line &&
		    !c->gpio.ack_line)
			fg_config_add_error(p, p->fixed_line[SEC_GPIO],
				  "gpio: backend gpiod with no line configured (set status_led, alert_led, buzzer or ack_input)");
	}
	{
		const char *lines[] = { c->gpio.status_led.line, c->gpio.alert_led.line,
					c->gpio.buzzer.line, c->gpio.ack_line };
		const char *lnames[] = { "status_led", "alert_led", "buzzer", "ack_input" };

		for (int i = 0; i < 4; i++)
			for (int j = 0; j < i; j++)
				if (lines[i] && lines[j] && strcmp(lines[i], lines[j]) == 0)
					fg_config_add_error(p, p->fixed_line[SEC_GPIO],
						  "gpio.%s: line %s is already used by %s", lnames[i],
						  lines[i], lnames[j]);
	}

	{
		uint64_t prev = 0;

		for (int i = 0; i < FG_ESCALATION_LEVELS; i++) {
			uint64_t t = c->escalation.level_after_usec[i];

			if (t == 0)
				continue;
			if (t <= prev)
				fg_config_add_error(p, p->fixed_line[SEC_ESCALATION],
					  "escalation.level%d_after: must be later than the level before it", i + 1);
			prev = t;
		}
	}
}
