/* SPDX-License-Identifier: MIT */
/* Error messages of one load, each "file:line: section.key: what is wrong". */
#include <stdarg.h>
#include <stdio.h>

#include "config/config-parser.h"
#include "lib/strv.h"

void fg_config_errors_clear(struct fg_config_errors *e)
{
	if (!e)
		return;
	e->messages = fg_strv_free(e->messages);
	e->n = 0;
}

void fg_config_add_error(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[768], full[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(full, sizeof(full), "%s:%u: %s", p->filename, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", p->filename, msg);
	p->n_errors++;
	if (p->errors && fg_strv_push(&p->errors->messages, full) == 0)
		p->errors->n++;
}

