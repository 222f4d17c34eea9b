/* SPDX-License-Identifier: MIT */
/* The simulator as a whole: the list of emulated buttons and their glue to
 * the radio, the button options (shared by --buttons and AddButton) and
 * the --buttons file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "periph.h"
#include "sim.h"
#include "lib/btaddr.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/macro.h"

/* --- glue between the buttons and the radio ------------------------------------------- */

static int op_notify(struct fs_button *b, const uint8_t *att, size_t len, void *userdata)
{
	struct fs_sim *sim = userdata;

	if (sim->periph)
		return fs_periph_notify(sim->periph, b, att, len);
	return fs_bluez_notify(sim->bluez, b, att, len);
}

static void op_terminate(struct fs_button *b, void *userdata)
{
	struct fs_sim *sim = userdata;

	if (sim->periph)
		fs_periph_terminate_link(sim->periph, b);
	else
		fs_bluez_terminate_link(sim->bluez, b);
}

static void op_adv_changed(struct fs_button *b, void *userdata)
{
	struct fs_sim *sim = userdata;

	if (sim->periph)
		fs_periph_button_changed(sim->periph, b);
	else if (sim->bluez)
		fs_bluez_button_changed(sim->bluez, b);
}

static void op_event_sent(struct fs_button *b, const struct fs_event_item *ev, bool queued,
			  uint64_t sent_usec, void *userdata)
{
	struct fs_sim *sim = userdata;

	if (sim->event_sent)
		sim->event_sent(b, ev, queued, sent_usec, sim->event_sent_userdata);
}

static const struct fs_button_ops button_ops = {
	.notify = op_notify,
	.terminate_link = op_terminate,
	.adv_changed = op_adv_changed,
	.event_sent = op_event_sent,
};

void fs_sim_set_event_sent(struct fs_sim *sim, fs_sim_event_sent_cb cb, void *userdata)
{
	sim->event_sent = cb;
	sim->event_sent_userdata = userdata;
}

int fs_parse_address(const char *s, uint8_t ret[6])
{
	/* only the ':' form: buttons are found by their address as text */
	if (!s || strlen(s) != 17 || s[2] != ':')
		return -EINVAL;
	return fg_parse_address(s, ret);
}

int fs_parse_u32(const char *s, uint32_t max, uint32_t *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
		*ret = true;
	else if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") ||
		 !strcasecmp(s, "off"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

int fs_button_config_set(struct fs_button_config *c, const char *key, const char *value)
{
	static const struct {
		const char *key;
		size_t offset;
		uint32_t max;
	} nums[] = {
		{ "battery_mv", offsetof(struct fs_button_config, battery_mv), 3600 },
		{ "firmware", offsetof(struct fs_button_config, firmware), UINT32_MAX },
		{ "click_ms", offsetof(struct fs_button_config, click_ms), 60000 },
		{ "hold_ms", offsetof(struct fs_button_config, hold_ms), 60000 },
		{ "double_click_ms", offsetof(struct fs_button_config, double_click_ms), 60000 },
		{ "public_mode_s", offsetof(struct fs_button_config, public_mode_s), 86400 },
		{ "adv_after_press_s", offsetof(struct fs_button_config, adv_after_press_s), 86400 },
		{ "slow_connect_ms", offsetof(struct fs_button_config, slow_connect_ms), 600000 },
		{ "ping_interval_s", offsetof(struct fs_button_config, ping_interval_s), 86400 },
		{ "latency_ms", offsetof(struct fs_button_config, latency_ms), 60000 },
		{ "pairing_id", offsetof(struct fs_button_config, pairing_id), UINT32_MAX },
	};
	uint32_t v;
	bool b;

	for (size_t i = 0; i < FG_ELEMENTSOF(nums); i++) {
		if (strcmp(key, nums[i].key) != 0)
			continue;
		if (fs_parse_u32(value, nums[i].max, &v) < 0)
			return -EINVAL;
		if (nums[i].max <= UINT16_MAX && strcmp(key, "battery_mv") == 0)
			c->battery_mv = (uint16_t)v;
		else
			memcpy((char *)c + nums[i].offset, &v, sizeof(v));
		if (strcmp(key, "pairing_id") == 0)
			c->has_pairing = true;
		return 0;
	}
	if (!strcmp(key, "public_mode") || !strcmp(key, "genuine") || !strcmp(key, "in_range")) {
		if (parse_bool(value, &b) < 0)
			return -EINVAL;
		if (key[0] == 'p')
			c->public_mode = b;
		else if (key[0] == 'g')
			c->genuine = b;
		else
			c->in_range = b;
		return 0;
	}
	if (!strcmp(key, "rssi")) {
		long r = strtol(value, NULL, 10);

		if (r > 20 || r < -127)
			return -EINVAL;
		c->rssi = (int16_t)r;
		return 0;
	}
	if (!strcmp(key, "pairing_key")) {
		c->has_pairing = true;
		return fg_unhex(value, strlen(value), c->pairing_key, 16);
	}
	if (!strcmp(key, "uuid"))
		return fg_unhex(value, strlen(value), c->uuid, 16);
	return -ENOENT;
}

/* --- the button list ------------------------------------------------------------------- */

struct fs_button *fs_sim_find_button(struct fs_sim *s, const char *address)
{
	for (size_t i = 0; i < s->n_buttons; i++)
		if (strcasecmp(fs_button_address(s->buttons[i]), address) == 0)
			return s->buttons[i];
	return NULL;
}

int fs_sim_add_button(struct fs_sim *s, const struct fs_button_config *cfg,
		      struct fs_button **ret_button)
{
	struct fs_button_config c = *cfg;
	struct fs_button **l, *b;
	static const uint8_t zero[16];
	int r;

	if (!c.name[0])
		snprintf(c.name, sizeof(c.name), "Flic 2");
	if (!c.serial[0])
		snprintf(c.serial, sizeof(c.serial), "BG30-%02X%02X%02X", c.addr[3], c.addr[4],
			 c.addr[5]);
	if (memcmp(c.uuid, zero, 16) == 0) {
		/* A stable per-button UUID, like the one burnt into a real button. */
		unsigned int n = 16;
		uint8_t h[32];

		EVP_Digest(c.addr, 6, h, &n, EVP_sha256(), NULL);
		memcpy(c.uuid, h, 16);
	}
	l = realloc(s->buttons, (s->n_buttons + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	s->buttons = l;
	r = fs_button_new(s->event, &c, &button_ops, s, &b);
	if (r < 0)
		return r;
	r = s->periph ? fs_periph_add_button(s->periph, b) : fs_bluez_add_button(s->bluez, b);
	if (r < 0) {
		fs_button_free(b);
		return r;
	}
	s->buttons[s->n_buttons++] = b;
	log_info("%s: emulated button \"%s\" %s added (%s, %s)", fs_button_address(b), c.name,
		 c.serial, c.genuine ? "test identity" : "unknown identity",
		 c.has_pairing ? "with a stored pairing" : "unpaired");
	if (s->periph)
		fs_periph_button_changed(s->periph, b);
	else
		fs_bluez_button_changed(s->bluez, b);
	if (ret_button)
		*ret_button = b;
	return 0;
}

int fs_sim_remove_button(struct fs_sim *s, struct fs_button *btn)
{
	for (size_t i = 0; i < s->n_buttons; i++)
		if (s->buttons[i] == btn) {
			log_info("%s: emulated button removed", fs_button_address(btn));
			if (s->periph)
				fs_periph_remove_button(s->periph, btn);
			else
				fs_bluez_remove_button(s->bluez, btn);
			fs_button_free(btn);
			memmove(s->buttons + i, s->buttons + i + 1,
				(s->n_buttons - i - 1) * sizeof(*s->buttons));
			s->n_buttons--;
			return 0;
		}
	return -ENOENT;
}

void fs_sim_remove_all(struct fs_sim *s)
{
	while (s->n_buttons)
		fs_sim_remove_button(s, s->buttons[s->n_buttons - 1]);
	s->buttons = (free(s->buttons), NULL);
}

int fs_sim_load_buttons(struct fs_sim *sim, const char *path)
{
	char line[1024];
	unsigned lineno = 0;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f)
		return log_error_errno(errno, "Cannot open %s: %m", path);
	while (fgets(line, sizeof(line), f)) {
		struct fs_button_config c;
		char *save = NULL, *tok, *hash;
		int field = 0;

		lineno++;
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		fs_button_config_init(&c);
		c.latency_ms = sim->latency_ms;
		for (tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
			char *eq = strchr(tok, '=');

			if (eq) {
				*eq = 0;
				r = fs_button_config_set(&c, tok, eq + 1);
				if (r < 0) {
					log_error("%s:%u: %s: %s", path, lineno, tok,
						  r == -ENOENT ? "unknown option" : "bad value");
					r = -EINVAL;
					goto out;
				}
			} else if (field == 0) {
				if (strcmp(tok, "-") != 0)
					snprintf(c.name, sizeof(c.name), "%s", tok);
				field++;
			} else if (field == 1) {
				if (fs_parse_address(tok, c.addr) < 0) {
					log_error("%s:%u: bad address '%s'", path, lineno, tok);
					r = -EINVAL;
					goto out;
				}
				field++;
			} else if (field == 2) {
				snprintf(c.serial, sizeof(c.serial), "%s", tok);
				field++;
			} else {
				log_error("%s:%u: unexpected '%s'", path, lineno, tok);
				r = -EINVAL;
				goto out;
			}
		}
		if (field == 0)
			continue;
		if (field < 2) {
			log_error("%s:%u: expected NAME ADDRESS [SERIAL] [key=value...]", path, lineno);
			r = -EINVAL;
			goto out;
		}
		r = fs_sim_add_button(sim, &c, NULL);
		if (r < 0) {
			log_error_errno(r, "%s:%u: cannot add the button: %m", path, lineno);
			goto out;
		}
	}
out:
	fclose(f);
	return r;
}
