/* SPDX-License-Identifier: MIT */
/* What a valid configuration still gets wrong for a new install: nothing to
 * send to, nothing that presses. Said by --check-config, the log and status. */
#include <errno.h>
#include <stdlib.h>

#include "config/config.h"
#include "lib/strv.h"

int fg_config_warnings(const struct fg_config *c, char ***ret)
{
	char **w = NULL;
	int r = 0;

	if (c->n_webhooks == 0)
		r = fg_strv_push(&w, "no [webhook NAME] section: alerts and test alerts reach nobody "
				     "(docs/alerts.md)");
	if (r >= 0 && c->n_buttons == 0)
		r = fg_strv_push(&w, "no [button NAME] section: no button sends an alert; list each "
				     "button and pair it with 'flicgatectl pair --name NAME'");
	if (r < 0) {
		fg_strv_free(w);
		return r;
	}
	*ret = w;
	return 0;
}
