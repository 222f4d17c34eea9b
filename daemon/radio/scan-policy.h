/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "lib/timeutil.h"

/*
 * The decisions behind fg_bluez's use of the radio's scanner, apart from
 * the D-Bus calls that carry them out (bluez-adapter.c, bluez-link.c):
 * which adapter to use, what our discovery session does next, and when a
 * connect has to reckon with the kernel's scan window. Pure: state in,
 * decision out.
 */

/*
 * The kernel's LE discovery window (DISCOV_LE_TIMEOUT, 10.24 s). While an
 * LE discovery runs, a connection asked for after the device's first
 * advertising report of the window waits until the scan is restarted: the
 * controller's duplicate filter hides the device's further reports, and
 * only a report makes the kernel send LE Create Connection. We pause our
 * own discovery for a foreground connect; when another program keeps
 * discovery running, an attempt is allowed one window more (docs/bluez.md).
 */
#define FG_SCAN_WINDOW_USEC	(10240 * FG_USEC_PER_MSEC)

/*
 * Walking the adapters BlueZ has in its order: should @name replace @best
 * (NULL: none chosen yet) for [bluetooth] adapter = @wanted? The named one,
 * the first seen; for "auto" the lowest in hciN order ("hci10" after
 * "hci9"), the first seen on a tie.
 */
bool fg_scan_adapter_prefer(const char *name, const char *best, const char *wanted);

/*
 * Does pairing need our LE discovery? Only a discovery reports a button in
 * public mode: while a pairing window is open, and under "listed" while a
 * [button] section names an address without a good pairing (@listed_waiting:
 * how many), which may be paired at any time. Under "window" with no window
 * open and under "locked" nothing may be paired, so nothing is looked for.
 */
bool fg_scan_for_pairing(enum fg_pairing_policy policy, bool window_open, size_t listed_waiting);

/*
 * What our discovery session stands at (fg_scan_next()). It runs only while
 * something needs it (@pairing, @missing_device): a scan that never stops
 * confuses some controllers (the Raspberry Pi's Cypress chips: buttons then
 * need several clicks to connect, docs/bluez.md), and a paired button that
 * has a device object comes back through its pending Device1.Connect()
 * alone: the kernel's passive scan for pending connections does the rest.
 */
struct fg_scan_state {
	bool powered;		/* an adapter is chosen and powered */
	bool pairing;		/* fg_scan_for_pairing() said so */
	bool missing_device;	/* a paired button has no device object: only a scan makes one */
	bool call_busy;		/* one of our discovery calls is in flight */
	bool loading;		/* a GetManagedObjects snapshot is being read */
	bool foreground;	/* a foreground connect is in flight */
	bool rescan;		/* fg_bluez_rescan() asked for a fresh session */
	bool active;		/* our StartDiscovery succeeded, no StopDiscovery since */
	bool retry_armed;	/* the retry timer will start it */
};

enum fg_scan_step {
	FG_SCAN_OFF,		/* no powered adapter: forget the session and its calls */
	FG_SCAN_WAIT,		/* a call or the snapshot is under way: its end asks again */
	FG_SCAN_HOLD,		/* stay paused for the connect (a rescan is moot) */
	FG_SCAN_PAUSE,		/* stop ours for the connect in flight */
	FG_SCAN_RESTART,	/* stop ours to start afresh: the rescan */
	FG_SCAN_STOP,		/* stop ours: nothing needs it */
	FG_SCAN_IDLE,		/* not running, not needed: no retry, no rescan */
	FG_SCAN_KEEP,		/* running, or the retry timer will start it */
	FG_SCAN_START,		/* set the filter, then StartDiscovery */
};

/*
 * The next step for our discovery session. It runs only while needed
 * (see struct fg_scan_state). A foreground connect pauses it
 * (docs/bluez.md: during an LE discovery the kernel acts on a pending
 * connection only at an advertising report); the restart after the
 * connect stands for a rescan asked for meanwhile.
 */
enum fg_scan_step fg_scan_next(const struct fg_scan_state *s);

/*
 * A connect asked for without a deadline (@timeout_usec 0) at @now: is it
 * to be bounded, in the foreground, all the same? Yes while a discovery
 * runs on the adapter (@discovering) within a discovery window of our
 * dropping the device's live link (@dropped_at, 0: never): the button is
 * still advertising and already reported in this window. Without a
 * discovery the kernel's passive scan connects at its next advertisement.
 */
bool fg_scan_connect_foreground(uint64_t timeout_usec, uint64_t dropped_at, bool discovering, uint64_t now);

/*
 * A foreground connect reached its deadline without a link: allow it one
 * discovery window more? Once only (@extended), and only while a discovery
 * runs on the adapter (@discovering: another program's, or ours not
 * stopped yet), which may hold the connection until its window ends.
 */
bool fg_scan_extend_connect(bool foreground, bool extended, bool discovering);
