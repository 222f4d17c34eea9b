/* SPDX-License-Identifier: MIT */
/* flicsim: the command line, and the setup and teardown of the simulator
 * (the radio, the control interface, the buttons of --buttons). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "button-proto.h"
#include "control.h"
#include "periph.h"
#include "sim.h"
#include "lib/log.h"

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
	       "  --max-links N          LE links the controller holds at once; one more is\n"
	       "                         refused with 0x0d as a real controller does (8)\n"
	       "  --accept-list N        the controller's filter accept list size (8)\n"
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
	if (fs_parse_u32(arg, max, ret) < 0) {
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
		OPT_ADAPTER, OPT_VERSION, OPT_PERIPHERAL, OPT_STEADY, OPT_MAX_LINKS, OPT_ACCEPT_LIST,
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
		{ "max-links", required_argument, NULL, OPT_MAX_LINKS },
		{ "accept-list", required_argument, NULL, OPT_ACCEPT_LIST },
		{ "adapter-address", required_argument, NULL, OPT_ADAPTER },
		{ "bluez-version", required_argument, NULL, OPT_VERSION },
		{ "steady", no_argument, NULL, OPT_STEADY },
		{ "peripheral", required_argument, NULL, OPT_PERIPHERAL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fs_sim sim = {};
	struct fs_control *control = NULL;
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
		case OPT_MAX_LINKS:
			if (parse_opt_u32("max-links", optarg, 4096, &cfg.max_links) < 0)
				return 2;
			if (cfg.max_links == 0) {
				log_error("--max-links: at least 1");
				return 2;
			}
			break;
		case OPT_ACCEPT_LIST:
			if (parse_opt_u32("accept-list", optarg, 255, &cfg.accept_list) < 0)
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
	r = fs_control_new(&sim, cfg.bus_kind, cfg.bus_address, &control);
	if (r < 0) {
		log_error_errno(r, "Cannot own " FS_CONTROL_NAME ": %m");
		goto finish;
	}
	fs_sim_set_event_sent(&sim, fs_control_event_sent, control);
	if (buttons_file) {
		r = fs_sim_load_buttons(&sim, buttons_file);
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
	fs_sim_remove_all(&sim);
	fs_sim_set_event_sent(&sim, NULL, NULL);
	control = fs_control_free(control);
	sim.bluez = fs_bluez_free(sim.bluez);
	sim.periph = fs_periph_free(sim.periph);
	sd_event_unref(sim.event);
	return r < 0 ? 1 : 0;
}
