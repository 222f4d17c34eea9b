/* SPDX-License-Identifier: MIT */
/* What fg_bluez decides about the scanner: adapter choice, discovery steps,
 * connects and the kernel's scan window (scan-policy.h). Pure. */
#include <string.h>

#include "radio/scan-policy.h"

/* "hci10" sorts after "hci9" */
static int adapter_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

bool fg_scan_adapter_prefer(const char *name, const char *best, const char *wanted)
{
	if (strcmp(wanted, "auto") != 0)
		return !best && strcmp(name, wanted) == 0;
	return !best || adapter_cmp(name, best) < 0;
}

bool fg_scan_for_pairing(enum fg_pairing_policy policy, bool window_open, size_t listed_waiting)
{
	switch (policy) {
	case FG_PAIRING_LISTED:
		return window_open || listed_waiting > 0;
	case FG_PAIRING_WINDOW:
		return window_open;
	case FG_PAIRING_LOCKED:
	case _FG_PAIRING_MAX:
		break;
	}
	return false;
}

enum fg_scan_step fg_scan_next(const struct fg_scan_state *s)
{
	if (!s->powered)
		return FG_SCAN_OFF;
	/* one call at a time; each reply asks again */
	if (s->call_busy || s->loading)
		return FG_SCAN_WAIT;
	if (s->foreground)
		return s->active ? FG_SCAN_PAUSE : FG_SCAN_HOLD;
	if (!s->pairing && !s->missing_device)
		return s->active ? FG_SCAN_STOP : FG_SCAN_IDLE;
	if (s->rescan && s->active)
		return FG_SCAN_RESTART;
	if (s->active || s->retry_armed)
		return FG_SCAN_KEEP;
	return FG_SCAN_START;
}

bool fg_scan_connect_foreground(uint64_t timeout_usec, uint64_t dropped_at, bool discovering, uint64_t now)
{
	return !timeout_usec && discovering && dropped_at && now < dropped_at + FG_SCAN_WINDOW_USEC;
}

bool fg_scan_extend_connect(bool foreground, bool extended, bool discovering)
{
	return foreground && !extended && discovering;
}
