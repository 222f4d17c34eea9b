/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "button-proto.h"
#include "control.h"
#include "flicsim.h"
#include "periph.h"
#include "lib/log.h"

static struct fs_sim sim;

/* --- glue between the buttons and the fake bluetoothd ---------------------------------- */

static int op_notify(void *userdata, struct fs_button *b, const uint8_t *att, size_t len)
{
	if (sim.periph)
		return fs_periph_notify(sim.periph, b, att, len);
	return fs_bluez_notify(sim.bluez, b, att, len);
}

static void op_terminate(void *userdata, struct fs_button *b)
{
	if (sim.periph)
		fs_periph_terminate_link(sim.periph, b);
	else
		fs_bluez_terminate_link(sim.bluez, b);
}

static void op_adv_changed(void *userdata, struct fs_button *b)
{
	if (sim.periph)
		fs_periph_button_changed(sim.periph, b);
	else if (sim.bluez)
		fs_bluez_button_changed(sim.bluez, b);
}

static void op_event_sent(void *userdata, struct fs_button *b, const struct fs_event_item *ev,
			  bool queued, uint64_t sent_usec)
{
	fs_control_event_sent(sim.control, b, ev, queued, sent_usec);
}

static const struct fs_button_ops button_ops = {
	.notify = op_notify,
	.terminate_link = op_terminate,
	.adv_changed = op_adv_changed,
	.event_sent = op_event_sent,
};

int fs_parse_address(const char *s, uint8_t ret[6])
{
	unsigned v[6];
	char tail;

	if (!s || strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		ret[i] = (uint8_t)v[i];
	return 0;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *ret)
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

static int parse_hex(const char *s, uint8_t *ret, size_t n)
{
	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		ret[i] = (uint8_t)v;
	}
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

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(key, nums[i].key) != 0)
			continue;
		if (parse_u32(value, nums[i].max, &v) < 0)
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
		return parse_hex(value, c->pairing_key, 16);
	}
	if (!strcmp(key, "uuid"))
		return parse_hex(value, c->uuid, 16);
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

/*
 * --buttons FILE: one button per line,
 *   NAME ADDRESS [SERIAL] [key=value ...]
 * '#' starts a comment. NAME may be "-" for the default.
 */
static int load_buttons(const char *path)
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
		c.latency_ms = sim.latency_ms;
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
		r = fs_sim_add_button(&sim, &c, NULL);
		if (r < 0) {
			log_error_errno(r, "%s:%u: cannot add the button: %m", path, lineno);
			goto out;
		}
	}
out:
	fclose(f);
	return r;
}

static void help(void)
{
	printf("Usage: flicsim [OPTIONS]\n"
	       "A BlueZ simulator with emulated Flic 2 buttons (see docs/simulator.md).\n\n"
	       "  --address ADDR         connect to this D-Bus address (unix:path=...)\n"
	       "  --session | --system   or to the session / system bus (default: session)\n"
	       "  --buttons FILE         buttons to create: NAME ADDRESS [SERIAL] [key=value..]\n"
	       "  --mtu N                ATT MTU of every link (default 23)\n"
	       "  --latency-ms N         button -> client notification delay (default 0)\n"
	       "  --connect-ms N         link set-up time (default 30)\n"
	       "  --connect-timeout-ms N Connect() with no advertising button fails after N\n"
	       "                         (default 20000)\n"
	       "  --supervision-ms N     link loss noticed N ms after leaving range (1000)\n"
	       "  --scan-interval-ms N   advertising report interval per button (500)\n"
	       "  --discovery-window-ms N  the kernel's LE discovery window: a Connect() to a device\n"
	       "                         already reported in it waits for its end (10240; 0: off)\n"
	       "  --temporary-timeout-s N unseen temporary devices removed after N s (30)\n"
	       "  --adapter-address A    hci0's address\n"
	       "  --bluez-version V      5.66 (default) or 5.82 (adds Bonded, Disconnected)\n"
	       "  --steady               a radio without noise: RSSI never moves, a button in public\n"
	       "                         mode is announced once per discovery session\n"
	       "  --peripheral hciN      no fake bluetoothd: put one button on the air through\n"
	       "                         the real bluetoothd's adapter hciN (GATT server and\n"
	       "                         advertising; the real-kernel test lane)\n"
	       "  -v, --verbose          log every protocol step\n"
	       "  -h, --help\n");
}

static int parse_opt_u32(const char *name, const char *arg, uint32_t max, uint32_t *ret)
{
	if (parse_u32(arg, max, ret) < 0) {
		log_error("--%s: bad value '%s'", name, arg);
		return -EINVAL;
	}
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	log_info("Got signal %d, exiting", (int)si->ssi_signo);
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

int main(int argc, char **argv)
{
	enum {
		OPT_ADDRESS = 0x100, OPT_SESSION, OPT_SYSTEM, OPT_BUTTONS, OPT_MTU, OPT_LATENCY,
		OPT_CONNECT_MS, OPT_CONNECT_TIMEOUT, OPT_SUPERVISION, OPT_SCAN, OPT_WINDOW, OPT_TEMP,
		OPT_ADAPTER, OPT_VERSION, OPT_PERIPHERAL, OPT_STEADY,
	};
	static const struct option options[] = {
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "session", no_argument, NULL, OPT_SESSION },
		{ "system", no_argument, NULL, OPT_SYSTEM },
		{ "buttons", required_argument, NULL, OPT_BUTTONS },
		{ "mtu", required_argument, NULL, OPT_MTU },
		{ "latency-ms", required_argument, NULL, OPT_LATENCY },
		{ "connect-ms", required_argument, NULL, OPT_CONNECT_MS },
		{ "connect-timeout-ms", required_argument, NULL, OPT_CONNECT_TIMEOUT },
		{ "supervision-ms", required_argument, NULL, OPT_SUPERVISION },
		{ "scan-interval-ms", required_argument, NULL, OPT_SCAN },
		{ "discovery-window-ms", required_argument, NULL, OPT_WINDOW },
		{ "temporary-timeout-s", required_argument, NULL, OPT_TEMP },
		{ "adapter-address", required_argument, NULL, OPT_ADAPTER },
		{ "bluez-version", required_argument, NULL, OPT_VERSION },
		{ "steady", no_argument, NULL, OPT_STEADY },
		{ "peripheral", required_argument, NULL, OPT_PERIPHERAL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fs_bluez_config cfg;
	const char *buttons_file = NULL, *peripheral = NULL;
	uint32_t v;
	uint8_t a[6];
	int c, r;

	fg_log_set_ident("flicsim");
	fg_log_open();
	fs_bluez_config_init(&cfg);
	while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
		switch (c) {
		case OPT_ADDRESS:
			cfg.bus_kind = FS_BUS_ADDRESS;
			cfg.bus_address = optarg;
			break;
		case OPT_SESSION:
			cfg.bus_kind = FS_BUS_SESSION;
			break;
		case OPT_SYSTEM:
			cfg.bus_kind = FS_BUS_SYSTEM;
			break;
		case OPT_BUTTONS:
			buttons_file = optarg;
			break;
		case OPT_MTU:
			if (parse_opt_u32("mtu", optarg, 517, &v) < 0 || v < 23) {
				log_error("--mtu: between 23 and 517");
				return 2;
			}
			cfg.mtu = (uint16_t)v;
			break;
		case OPT_LATENCY:
			if (parse_opt_u32("latency-ms", optarg, 60000, &sim.latency_ms) < 0)
				return 2;
			break;
		case OPT_CONNECT_MS:
			if (parse_opt_u32("connect-ms", optarg, 600000, &cfg.connect_ms) < 0)
				return 2;
			break;
		case OPT_CONNECT_TIMEOUT:
			if (parse_opt_u32("connect-timeout-ms", optarg, 600000, &cfg.connect_timeout_ms) < 0)
				return 2;
			break;
		case OPT_SUPERVISION:
			if (parse_opt_u32("supervision-ms", optarg, 600000, &cfg.supervision_ms) < 0)
				return 2;
			break;
		case OPT_SCAN:
			if (parse_opt_u32("scan-interval-ms", optarg, 600000, &cfg.scan_interval_ms) < 0 ||
			    cfg.scan_interval_ms == 0) {
				log_error("--scan-interval-ms: at least 1");
				return 2;
			}
			break;
		case OPT_WINDOW:
			if (parse_opt_u32("discovery-window-ms", optarg, 600000, &cfg.discovery_window_ms) < 0)
				return 2;
			break;
		case OPT_TEMP:
			if (parse_opt_u32("temporary-timeout-s", optarg, 86400, &cfg.temporary_timeout_s) < 0)
				return 2;
			break;
		case OPT_ADAPTER:
			if (fs_parse_address(optarg, a) < 0) {
				log_error("--adapter-address: bad address '%s'", optarg);
				return 2;
			}
			snprintf(cfg.adapter_address, sizeof(cfg.adapter_address), "%s", optarg);
			for (char *p = cfg.adapter_address; *p; p++)
				if (*p >= 'a' && *p <= 'f')
					*p -= 'a' - 'A';
			break;
		case OPT_VERSION:
			if (strcmp(optarg, "5.66") == 0)
				cfg.modern = false;
			else if (strcmp(optarg, "5.82") == 0)
				cfg.modern = true;
			else {
				log_error("--bluez-version: 5.66 or 5.82");
				return 2;
			}
			break;
		case OPT_STEADY:
			cfg.steady = true;
			break;
		case OPT_PERIPHERAL:
			peripheral = optarg;
			break;
		case 'v':
			fg_log_set_level(LOG_DEBUG);
			break;
		case 'h':
			help();
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		log_error("Unexpected argument '%s'", argv[optind]);
		return 2;
	}

	r = sd_event_default(&sim.event);
	if (r < 0) {
		log_error_errno(r, "Failed to create the event loop: %m");
		return 1;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sd_event_add_signal(sim.event, NULL, SIGTERM, on_signal, NULL);
	sd_event_add_signal(sim.event, NULL, SIGINT, on_signal, NULL);

	if (peripheral)
		r = fs_periph_new(sim.event, cfg.bus_kind, cfg.bus_address, peripheral, &sim.periph);
	else
		r = fs_bluez_new(sim.event, &cfg, &sim.bluez);
	if (r < 0)
		goto finish;
	r = fs_control_new(&sim, cfg.bus_kind, cfg.bus_address, &sim.control);
	if (r < 0) {
		log_error_errno(r, "Cannot own " FS_CONTROL_NAME ": %m");
		goto finish;
	}
	if (buttons_file) {
		r = load_buttons(buttons_file);
		if (r < 0)
			goto finish;
	}
	if (peripheral)
		log_info("flicsim ready: peripheral on %s, %zu buttons, test identity %.8s…",
			 peripheral, sim.n_buttons, fs_test_identity_public_hex);
	else
		log_info("flicsim ready: org.bluez with hci0 %s, ATT MTU %u, %zu buttons, test identity %.8s…",
			 cfg.adapter_address, cfg.mtu, sim.n_buttons, fs_test_identity_public_hex);
	r = sd_event_loop(sim.event);

finish:
	while (sim.n_buttons)
		fs_sim_remove_button(&sim, sim.buttons[sim.n_buttons - 1]);
	free(sim.buttons);
	sim.control = fs_control_free(sim.control);
	sim.bluez = fs_bluez_free(sim.bluez);
	sim.periph = fs_periph_free(sim.periph);
	sd_event_unref(sim.event);
	return r < 0 ? 1 : 0;
}
