/* SPDX-License-Identifier: MIT */
/*
 * flicgatectl: the command table, --help and the bash completion made from
 * it, the options, and the bus connection; each command is in its own file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "ctl.h"
#include "control/flicgate-dbus.h"
#include "lib/timeutil.h"

/*
 * The one table of commands. --help, --bash-completion (which generates
 * tools/flicgatectl/flicgatectl.bash) and the tests that check the man
 * page all read it.
 */
static const struct command commands[] = {
	{ "status", "", 0, 0, 0, NULL, cmd_status,
	  "Gateway, adapter, buttons, alerts, targets" },
	{ "buttons", "[--names] [BUTTON]", 0, 1, OPT_NAMES, "button", cmd_buttons,
	  "List the buttons, or show one in detail" },
	{ "pair", "[--timeout S] [--name NAME]", 0, 0, OPT_TIMEOUT | OPT_NAME, NULL, cmd_pair,
	  "Pair one button, showing the progress" },
	{ "unpair", "BUTTON", 1, 1, 0, "button", cmd_unpair,
	  "Forget a button's pairing" },
	{ "rename", "BUTTON NAME", 2, 2, 0, "button", cmd_rename,
	  "Name a paired button not in flicgate.ini" },
	{ "test", "[BUTTON] [--target NAME]", 0, 1, OPT_TARGET, "button", cmd_test,
	  "Send a test alert (marked as a test)" },
	{ "ack", "", 0, 0, 0, NULL, cmd_ack,
	  "Silence the buzzer for what is on now" },
	{ "log", "[-n N] [--since TIME [--until TIME] [--csv]]", 0, 0,
	  OPT_LINES | OPT_SINCE | OPT_CSV, NULL, cmd_log,
	  "Deliveries; --since: the audit trail" },
	{ "test-press", "[--timeout S] [BUTTON] | --close", 0, 1, OPT_TIMEOUT | OPT_CLOSE, "button",
	  cmd_test_press, "Presses are routine tests for a while" },
	{ "reload", "", 0, 0, 0, NULL, cmd_reload,
	  "Re-read flicgate.ini (broken: refused)" },
	{ "export", "[--force] FILE", 1, 1, OPT_FORCE, "file", cmd_export,
	  "Save the pairing records (secret!) to FILE" },
	{ "import", "[--replace] FILE", 1, 1, OPT_REPLACE, "file", cmd_import,
	  "Load pairing records, e.g. on a hot spare" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Every option, with the command option bit it needs (0: global). */
enum {
	ARG_VERSION = 0x100,
	ARG_JSON,
	ARG_BUS,
	ARG_USER,
	ARG_SYSTEM,
	ARG_TIMEOUT,
	ARG_NAME,
	ARG_TARGET,
	ARG_REPLACE,
	ARG_NAMES,
	ARG_FORCE,
	ARG_BASH_COMPLETION,
	ARG_SINCE,
	ARG_UNTIL,
	ARG_CSV,
	ARG_UTC,
	ARG_CLOSE,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, ARG_VERSION },
	{ "json", optional_argument, NULL, ARG_JSON },
	{ "bus", required_argument, NULL, ARG_BUS },
	{ "user", no_argument, NULL, ARG_USER },
	{ "system", no_argument, NULL, ARG_SYSTEM },
	{ "timeout", required_argument, NULL, ARG_TIMEOUT },
	{ "name", required_argument, NULL, ARG_NAME },
	{ "target", required_argument, NULL, ARG_TARGET },
	{ "replace", no_argument, NULL, ARG_REPLACE },
	{ "names", no_argument, NULL, ARG_NAMES },
	{ "lines", required_argument, NULL, 'n' },
	{ "force", no_argument, NULL, ARG_FORCE },
	{ "since", required_argument, NULL, ARG_SINCE },
	{ "until", required_argument, NULL, ARG_UNTIL },
	{ "csv", no_argument, NULL, ARG_CSV },
	{ "utc", no_argument, NULL, ARG_UTC },
	{ "close", no_argument, NULL, ARG_CLOSE },
	{ "bash-completion", no_argument, NULL, ARG_BASH_COMPLETION },
	{}
};

static const struct {
	const char *text;
	unsigned option;	/* OPT_* or 0 for global options */
} option_help[] = {
	{ "      --json[=pretty|short]  machine-readable output (pretty on a terminal)", 0 },
	{ "      --utc                  times in UTC, not local time (JSON: always UTC)", 0 },
	{ "      --bus ADDRESS          talk to flicgated on this D-Bus address", 0 },
	{ "      --user                 use the user's session bus (development)", 0 },
	{ "      --system               use the system bus (the default)", 0 },
	{ "  -h, --help                 this text", 0 },
	{ "      --version              print the version", 0 },
	{ "      --timeout S            pair, test-press: window length, s (5..3600)", OPT_TIMEOUT },
	{ "      --name NAME            pair: name for the paired button", OPT_NAME },
	{ "      --target NAME          test: send to this [webhook NAME] only", OPT_TARGET },
	{ "      --names                buttons: print only the names, one per line", OPT_NAMES },
	{ "  -n, --lines N              log: at most N attempts (default 20, 0: all kept)", OPT_LINES },
	{ "      --replace              import: drop stored pairings not in FILE", OPT_REPLACE },
	{ "      --force                export: overwrite an existing FILE", OPT_FORCE },
	{ "      --since TIME           log: the audit trail from TIME ('2h ago', @EPOCH)", OPT_SINCE },
	{ "      --until TIME           log: ... up to TIME (default: now)", OPT_SINCE },
	{ "      --csv                  log: the audit trail as CSV (RFC 4180)", OPT_CSV },
	{ "      --close                test-press: close the open test window", OPT_CLOSE },
};

static void help(void)
{
	printf("Usage: flicgatectl [OPTIONS] COMMAND [ARGS]\n"
	       "\n"
	       "Control flicgated, the Flic 2 button gateway, over D-Bus.\n"
	       "\n"
	       "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char syn[64];

		snprintf(syn, sizeof(syn), "%s%s%s", commands[i].name, commands[i].args[0] ? " " : "",
			 commands[i].args);
		if (strlen(syn) <= 31)
			printf("  %-31s %s\n", syn, commands[i].help);
		else
			printf("  %s\n  %-31s %s\n", syn, "", commands[i].help);
	}
	printf("\nOptions:\n");
	for (size_t i = 0; i < sizeof(option_help) / sizeof(option_help[0]); i++)
		printf("%s\n", option_help[i].text);
	printf("\n"
	       "BUTTON is a button's name, Bluetooth address or serial number.\n"
	       "Exit status: 0 ok, 1 failed, 2 usage, 3 flicgated not running, 4 not authorised,\n"
	       "5 unknown button or target, 6 not available in this build, 7 nothing paired.\n"
	       "See flicgatectl(1).\n");
}

/*
 * The bash completion, generated from the table so that it cannot drift:
 * tools/flicgatectl/flicgatectl.bash is this output (make docs rewrites it,
 * a test compares them).
 */
static void bash_completion(void)
{
	printf("# bash completion for flicgatectl -*- shell-script -*-\n"
	       "# Generated by 'flicgatectl --bash-completion' from its command table; do not edit.\n"
	       "\n"
	       "_flicgatectl()\n"
	       "{\n"
	       "\tlocal cur prev words cword\n"
	       "\t_init_completion || return\n"
	       "\n"
	       "\tlocal global='--json --json=pretty --json=short --bus --user --system --help --version'\n"
	       "\tlocal commands='");
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("%s%s", i ? " " : "", commands[i].name);
	printf("'\n"
	       "\n"
	       "\tcase $prev in\n"
	       "\t--bus|--timeout|--name|--target|--lines|-n|--since|--until)\n"
	       "\t\treturn ;;\n"
	       "\tesac\n"
	       "\n"
	       "\t# the command is the first word that is not an option or its argument\n"
	       "\tlocal i cmd= bus=() nargs=0\n"
	       "\tfor ((i = 1; i < cword; i++)); do\n"
	       "\t\tcase ${words[i]} in\n"
	       "\t\t--bus) bus=(--bus \"${words[i + 1]}\"); ((i++)) ;;\n"
	       "\t\t--bus=*) bus=(\"${words[i]}\") ;;\n"
	       "\t\t--user|--system) bus=(\"${words[i]}\") ;;\n"
	       "\t\t--timeout|--name|--target|--lines|-n|--since|--until) ((i++)) ;;\n"
	       "\t\t-*) ;;\n"
	       "\t\t*) if [[ -z $cmd ]]; then cmd=${words[i]}; else ((nargs++)); fi ;;\n"
	       "\t\tesac\n"
	       "\tdone\n"
	       "\n"
	       "\tif [[ -z $cmd ]]; then\n"
	       "\t\tif [[ $cur == -* ]]; then\n"
	       "\t\t\tCOMPREPLY=($(compgen -W \"$global\" -- \"$cur\"))\n"
	       "\t\telse\n"
	       "\t\t\tCOMPREPLY=($(compgen -W \"$commands\" -- \"$cur\"))\n"
	       "\t\tfi\n"
	       "\t\treturn\n"
	       "\tfi\n"
	       "\n"
	       "\tlocal opts= what=\n"
	       "\tcase $cmd in\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];

		bool first = true;

		printf("\t%s)\n\t\topts='", c->name);
		for (size_t k = 0; k < sizeof(option_help) / sizeof(option_help[0]); k++) {
			const char *t = option_help[k].text, *dd, *end;

			if (!(option_help[k].option & c->options))
				continue;
			dd = strstr(t, "--");
			end = strchr(dd, ' ');
			printf("%s%.*s", first ? "" : " ", (int)(end - dd), dd);
			first = false;
		}
		printf("'\n");
		/* only the first argument names something we can list */
		if (c->complete)
			printf("\t\t((nargs == 0)) && what=%s\n", c->complete);
		printf("\t\t;;\n");
	}
	printf("\tesac\n"
	       "\n"
	       "\tif [[ $cur == -* ]]; then\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$opts $global\" -- \"$cur\"))\n"
	       "\telif [[ $what == button ]]; then\n"
	       "\t\tlocal names\n"
	       "\t\tnames=$(flicgatectl \"${bus[@]}\" buttons --names 2>/dev/null)\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$names\" -- \"$cur\"))\n"
	       "\telif [[ $what == file ]]; then\n"
	       "\t\t_filedir\n"
	       "\tfi\n"
	       "} &&\n"
	       "\tcomplete -F _flicgatectl flicgatectl\n");
}

/* ---- the bus ----------------------------------------------------------------- */

static int connect_bus(struct ctl *c, const char *address, bool user)
{
	int r;

	if (address) {
		r = sd_bus_new(&c->bus);
		if (r >= 0)
			r = sd_bus_set_address(c->bus, address);
		if (r >= 0)
			r = sd_bus_set_bus_client(c->bus, true);
		if (r >= 0)
			r = sd_bus_start(c->bus);
		c->bus_desc = "given bus";
	} else if (user) {
		r = sd_bus_open_user(&c->bus);
		c->bus_desc = "user bus";
	} else {
		r = sd_bus_open_system(&c->bus);
		c->bus_desc = "system bus";
	}
	if (r < 0) {
		c->bus = sd_bus_unref(c->bus);
		return ctl_fail(c, EXIT_NOT_RUNNING, "cannot connect to the %s: %s", c->bus_desc,
				strerror(-r));
	}
	/* a D-Bus call does not wait for an interactive polkit agent here */
	(void)sd_bus_set_allow_interactive_authorization(c->bus, false);
	return 0;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int parse_uint(const char *s, unsigned max, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/*
 * TIME for --since/--until: "now", "@UNIX_SECONDS", "DURATION ago" or
 * "-DURATION" (flicgate durations: 2h, 30min, 1d), or a date and time in
 * local time "YYYY-MM-DD[ HH:MM[:SS]]" ('T' also separates; a trailing
 * 'Z' means UTC).
 */
static int parse_time(const char *s, uint64_t now, uint64_t *ret)
{
	struct tm tm = { .tm_isdst = -1 };
	char buf[64], *end;
	const char *rest;
	uint64_t d;
	size_t len = strlen(s);
	bool utc = false;
	time_t t;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	if (strcmp(s, "now") == 0) {
		*ret = now;
		return 0;
	}
	if (s[0] == '@') {
		unsigned long long v;

		errno = 0;
		v = strtoull(s + 1, &end, 10);
		if (errno || end == s + 1 || *end || v > UINT64_MAX / FG_USEC_PER_SEC)
			return -EINVAL;
		*ret = v * FG_USEC_PER_SEC;
		return 0;
	}
	if (s[0] == '-' || (len > 4 && strcmp(s + len - 4, " ago") == 0)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(s[0] == '-' ? len - 1 : len - 4),
			 s[0] == '-' ? s + 1 : s);
		if (fg_parse_duration(buf, &d) < 0 || d > now)
			return -EINVAL;
		*ret = now - d;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	if (buf[len - 1] == 'Z') {
		utc = true;
		buf[len - 1] = '\0';
	}
	rest = strptime(buf, "%Y-%m-%d", &tm);
	if (!rest)
		return -EINVAL;
	if (*rest == ' ' || *rest == 'T') {
		const char *r2 = strptime(rest + 1, "%H:%M:%S", &tm);

		if (!r2)
			r2 = strptime(rest + 1, "%H:%M", &tm);
		rest = r2;
	}
	if (!rest || *rest)
		return -EINVAL;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1 || t < 0)
		return -EINVAL;
	*ret = (uint64_t)t * FG_USEC_PER_SEC;
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl c = { .lines = 20 };
	const struct command *cmd;
	const char *address = NULL;
	bool user = false;
	unsigned seen = 0;	/* OPT_* given */
	bool until_given = false;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "hn:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			help();
			return EXIT_OK;
		case ARG_VERSION:
			printf("flicgatectl %s\n", FG_VERSION);
			return EXIT_OK;
		case ARG_BASH_COMPLETION:
			bash_completion();
			return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_;
		case ARG_JSON:
			c.json = true;
			if (!optarg)
				c.json_pretty = isatty(STDOUT_FILENO);
			else if (strcmp(optarg, "pretty") == 0)
				c.json_pretty = true;
			else if (strcmp(optarg, "short") == 0)
				c.json_pretty = false;
			else
				return ctl_fail(&c, EXIT_USAGE, "--json takes pretty or short, not '%s'", optarg);
			break;
		case ARG_BUS:
			address = optarg;
			user = false;
			break;
		case ARG_USER:
			user = true;
			address = NULL;
			break;
		case ARG_SYSTEM:
			user = false;
			address = NULL;
			break;
		case ARG_TIMEOUT:
			if (parse_uint(optarg, 3600, &c.timeout_sec) < 0 || c.timeout_sec < 5)
				return ctl_fail(&c, EXIT_USAGE, "--timeout takes seconds from 5 to 3600, not '%s'",
						optarg);
			seen |= OPT_TIMEOUT;
			break;
		case ARG_NAME:
			c.name = optarg;
			seen |= OPT_NAME;
			break;
		case ARG_TARGET:
			c.target = optarg;
			seen |= OPT_TARGET;
			break;
		case ARG_REPLACE:
			c.replace = true;
			seen |= OPT_REPLACE;
			break;
		case ARG_NAMES:
			c.names = true;
			seen |= OPT_NAMES;
			break;
		case 'n':
			if (parse_uint(optarg, 1000000, &c.lines) < 0)
				return ctl_fail(&c, EXIT_USAGE, "--lines takes a number, not '%s'", optarg);
			seen |= OPT_LINES;
			break;
		case ARG_FORCE:
			c.force = true;
			seen |= OPT_FORCE;
			break;
		case ARG_SINCE:
		case ARG_UNTIL: {
			uint64_t *dst = opt == ARG_SINCE ? &c.since_usec : &c.until_usec;

			if (parse_time(optarg, fg_now_realtime(), dst) < 0)
				return ctl_fail(&c, EXIT_USAGE,
						"%s: '%s' is not a time (2h ago, -30min, 2026-11-24 08:00, 2026-11-24T07:00Z, @1764000000, now)",
						opt == ARG_SINCE ? "--since" : "--until", optarg);
			if (opt == ARG_SINCE)
				c.has_since = true;
			else
				until_given = true;
			seen |= OPT_SINCE;
			break;
		}
		case ARG_UTC:
			fmt_set_utc(true);
			break;
		case ARG_CSV:
			c.csv = true;
			seen |= OPT_CSV;
			break;
		case ARG_CLOSE:
			c.close = true;
			seen |= OPT_CLOSE;
			break;
		default:
			fprintf(stderr, "Try 'flicgatectl --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (until_given && !c.has_since)
		return ctl_fail(&c, EXIT_USAGE, "--until needs --since");
	if (!until_given)
		c.until_usec = fg_now_realtime();
	if (c.has_since && c.until_usec < c.since_usec)
		return ctl_fail(&c, EXIT_USAGE, "--until is before --since");
	if (optind >= argc)
		return ctl_fail(&c, EXIT_USAGE, "no command given; try 'flicgatectl --help'");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return ctl_fail(&c, EXIT_USAGE, "unknown command '%s'; try 'flicgatectl --help'", argv[optind]);
	if (seen & ~cmd->options)
		return ctl_fail(&c, EXIT_USAGE, "an option given does not apply to '%s' (usage: flicgatectl %s %s)",
				cmd->name, cmd->name, cmd->args);
	optind++;
	if (argc - optind < cmd->min_args || argc - optind > cmd->max_args)
		return ctl_fail(&c, EXIT_USAGE, "usage: flicgatectl %s %s", cmd->name, cmd->args);

	r = connect_bus(&c, address, user);
	if (r != 0)
		return r;
	r = cmd->run(&c, argv + optind, argc - optind);
	sd_bus_flush_close_unref(c.bus);
	if (fflush(stdout) != 0 && r == EXIT_OK) {
		fprintf(stderr, "flicgatectl: cannot write the output: %s\n", strerror(errno));
		return EXIT_FAILURE_;
	}
	return r;
}
