/* SPDX-License-Identifier: MIT */
/*
 * The option table's shape, inside daemon/config/ only: the parser
 * (config.c, config-value.c, config-check.c) and the generators
 * (config-doc.c) all walk the one table in config-options.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

enum section_kind {
	SEC_GATEWAY,
	SEC_BLUETOOTH,
	SEC_WEBHOOK,
	SEC_BUTTON,
	SEC_GPIO,
	SEC_ESCALATION,
	SEC_HEALTH,
	SEC_SYSTEM,
	_SEC_MAX,
};

struct fg_config_section {
	const char *name;
	bool named;		/* [kind NAME], may repeat with distinct names */
	const char *doc;
};
extern const struct fg_config_section fg_config_sections[_SEC_MAX];

enum opt_type {
	T_STRING,
	T_NAME_TEXT,	/* single-line free text, printable */
	T_BOOL,
	T_UINT,
	T_DURATION,
	T_ENUM,
	T_LOGLEVEL,
	T_PATH,
	T_URL,
	T_ADDRESS,
	T_SERIAL,
	T_GESTURES,
	T_WEBHOOKS,	/* list of [webhook] names, resolved after parsing */
	T_HEADER,	/* "Name: value", may repeat */
	T_KEYS,		/* hex Ed25519 public keys, list, may repeat */
	T_RATE,		/* "2/s", "1/5s", "30/min", bare number = per second */
	T_LINE,		/* GPIO line: offset or name */
};

enum {
	F_SECRET = 1 << 0,	/* masked in every printout */
	F_REQUIRED = 1 << 1,
	F_REPEAT = 1 << 2,	/* may be given several times; values accumulate */
	F_MULTILINE = 1 << 3,	/* may continue on indented lines (joined by \n) */
	F_AUTO = 1 << 4,	/* T_UINT: "auto" is also accepted, stored as 0 */
};

struct fg_config_option {
	enum section_kind section;
	const char *key;
	enum opt_type type;
	const char *def;		/* default as written in the file; NULL = unset */
	const char *example;		/* value shown in the example if it differs */
	const char *doc;
	size_t offset;			/* into the section's struct */
	unsigned flags;
	uint64_t min, max;		/* T_UINT: value; T_DURATION: usec */
	const char *const *names;	/* T_ENUM */
	/*
	 * Extra check after the type's own, by the module that uses the
	 * value (templates, patterns): NULL or a message into @msg.
	 */
	const char *(*validate)(const char *value, char *msg, size_t size);
};

/* Rows in fg_config_options[]; config-options.c checks it at compile time. */
#define FG_CONFIG_N_OPTIONS 93
extern const struct fg_config_option fg_config_options[];

/* T_ENUM choices kept as text in the struct (not as an enum value). */
extern const char *const fg_config_method_names[];

/* The struct a fixed section fills; NULL for [webhook] and [button]. */
void *fg_config_section_obj(struct fg_config *c, enum section_kind k);
/* "a, b, c" from a NULL-terminated list, into @buf; returns @buf. */
const char *fg_config_enum_list(const char *const *names, char *buf, size_t size);

/* config-system.c: the [system] checks (each returns NULL or @msg). */
const char *fg_config_validate_hostname(const char *v, char *msg, size_t size);
const char *fg_config_validate_timezone(const char *v, char *msg, size_t size);
const char *fg_config_validate_country(const char *v, char *msg, size_t size);
const char *fg_config_validate_passphrase(const char *v, char *msg, size_t size);
const char *fg_config_validate_ssh_key(const char *v, char *msg, size_t size);
const char *fg_config_validate_password_hash(const char *v, char *msg, size_t size);
const char *fg_config_validate_password(const char *v, char *msg, size_t size);
bool fg_config_is_country_code(const char *v);
