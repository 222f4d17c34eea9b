/* SPDX-License-Identifier: MIT */
/* flicgated: the command line, start-up in order (config, log, manager), the loop, and the ordered unwind. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "manager.h"

static void help(void)
{
	printf("Usage: flicgated [OPTIONS]\n"
	       "\n"
	       "Flic 2 button gateway: presses become alerts in the incident system.\n"
	       "\n"
	       "  -c, --config PATH        configuration file (default: " FG_CONFIG_SEARCH_PATH_1 ",\n"
	       "                           then " FG_CONFIG_SEARCH_PATH_2 ")\n"
	       "      --check-config       validate, print the effective configuration\n"
	       "                           (secrets masked) and exit; non-zero on errors\n"
	       "  -v, --verbose            log at debug level\n"
	       "      --log-level LEVEL    err, warning, notice, info or debug (overrides the file)\n"
	       "      --bus ADDRESS        D-Bus address to use instead of the system bus\n"
	       "      --user               use the user's session bus (development)\n"
	       "      --dump-config-example  print the documented example flicgate.ini\n"
	       "      --dump-config-man    print flicgate.ini(5) in troff\n"
	       "  -h, --help               this text\n"
	       "      --version            print the version\n"
	       "\n"
	       "Signals: SIGHUP reloads the configuration; SIGTERM/SIGINT stop.\n"
	       "See flicgated(8) and flicgate.ini(5).\n");
}

enum {
	ARG_CHECK = 0x100,
	ARG_LOG_LEVEL,
	ARG_BUS,
	ARG_USER,
	ARG_DUMP_EXAMPLE,
	ARG_DUMP_MAN,
	ARG_VERSION,
	ARG_PRINT_SYSTEM,
};

/* One shell assignment; the parser already refused control characters. */
static void print_shell_var(const char *name, const char *value)
{
	printf("%s='", name);
	for (const char *p = value ? value : ""; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	}
	fputs("'\n", stdout);
}

/*
 * Hidden mode for the SD-card image's boot-time applier (image/rootfs/):
 * the [system] values of a file that passed full validation, as lines a
 * POSIX shell can eval. Unset keys print as empty strings.
 */
static void print_system_config(const struct fg_config *c)
{
	const struct fg_system_config *s = &c->system;

	print_shell_var("FG_HOSTNAME", s->hostname);
	print_shell_var("FG_TIMEZONE", s->timezone);
	print_shell_var("FG_WIFI_COUNTRY", s->wifi_country);
	print_shell_var("FG_WIFI_SSID", s->wifi_ssid);
	print_shell_var("FG_WIFI_PASSPHRASE", s->wifi_passphrase);
	print_shell_var("FG_SSH_AUTHORIZED_KEY", s->ssh_authorized_key);
	print_shell_var("FG_ADMIN_PASSWORD", s->admin_password);
	print_shell_var("FG_ADMIN_PASSWORD_HASH", s->admin_password_hash);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, ARG_CHECK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log-level", required_argument, NULL, ARG_LOG_LEVEL },
		{ "bus", required_argument, NULL, ARG_BUS },
		{ "user", no_argument, NULL, ARG_USER },
		{ "dump-config-example", no_argument, NULL, ARG_DUMP_EXAMPLE },
		{ "dump-config-man", no_argument, NULL, ARG_DUMP_MAN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{ "print-system-config", no_argument, NULL, ARG_PRINT_SYSTEM },
		{}
	};
	struct fg_manager_options opts = { .log_level = -1 };
	struct fg_config_errors errors = { 0 };
	struct fg_config *config = NULL;
	struct fg_manager *m = NULL;
	bool check = false, print_system = false;
	char *msg;
	int c, r;

	fg_log_set_ident("flicgated");
	fg_log_open();

	while ((c = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts.config_path = optarg;
			break;
		case ARG_CHECK:
			check = true;
			break;
		case 'v':
			opts.log_level = LOG_DEBUG;
			break;
		case ARG_LOG_LEVEL:
			opts.log_level = fg_log_level_from_string(optarg);
			if (opts.log_level < 0) {
				fprintf(stderr, "flicgated: --log-level: '%s' is not one of err, warning, notice, info, debug\n",
					optarg);
				return 2;
			}
			break;
		case ARG_BUS:
			opts.bus_address = optarg;
			break;
		case ARG_USER:
			opts.user_bus = true;
			break;
		case ARG_DUMP_EXAMPLE:
			fg_config_write_example(stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		case ARG_DUMP_MAN:
			fg_config_write_man(stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		case 'h':
			help();
			return 0;
		case ARG_PRINT_SYSTEM:
			print_system = true;
			break;
		case ARG_VERSION:
			printf("flicgated %s\n", FG_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'flicgated --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flicgated: unexpected argument '%s'; try --help\n", argv[optind]);
		return 2;
	}
	if (opts.log_level >= 0)
		fg_log_set_level(opts.log_level);

	if (print_system) {
		/*
		 * [system] is applied whatever else is wrong (the network must
		 * come up so that the operator can fix the rest): every error
		 * goes to stderr, every valid [system] value to stdout.
		 */
		r = fg_config_load_partial(opts.config_path, &errors, &config);
		FG_STRV_FOREACH(msg, errors.messages)
			fprintf(stderr, "%s\n", msg);
		fg_config_errors_clear(&errors);
		if (!config)
			return 1;
		print_system_config(config);
		fg_config_unref(config);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	r = fg_config_load(opts.config_path, &errors, &config);
	if (r == -ENOENT && !opts.config_path) {
		fprintf(stderr, "flicgated: no configuration: neither %s nor %s exists\n",
			FG_CONFIG_SEARCH_PATH_1, FG_CONFIG_SEARCH_PATH_2);
		return 1;
	}
	if (r < 0) {
		FG_STRV_FOREACH(msg, errors.messages)
			fprintf(stderr, "%s\n", msg);
		fprintf(stderr, "flicgated: %zu error%s in the configuration\n", errors.n,
			errors.n == 1 ? "" : "s");
		fg_config_errors_clear(&errors);
		return 1;
	}
	fg_config_errors_clear(&errors);

	if (check) {
		char **warnings = NULL;

		fg_config_print(config, stdout);
		if (fg_config_warnings(config, &warnings) < 0) {
			fg_config_unref(config);
			return 1;
		}
		FG_STRV_FOREACH(msg, warnings) {
			printf("# warning: %s\n", msg);
			fprintf(stderr, "%s: warning: %s\n", config->path, msg);
		}
		fg_config_unref(config);
		printf("# configuration OK%s\n", warnings ? ", with the warnings above" : "");
		fg_strv_free(warnings);
		return fflush(stdout) == 0 ? 0 : 1;
	}

	r = fg_manager_new(&opts, config, &m);
	if (r < 0)
		return 1;
	r = fg_manager_run(m);
	fg_manager_free(m);
	return r;
}
