/* SPDX-License-Identifier: MIT */
/* Fault injection on one button: faults pending per kind, added through the
 * control API and taken, one at a time, where the button or the fake
 * bluetoothd would misbehave. */
#include <errno.h>
#include <string.h>

#include "button-internal.h"
#include "lib/log.h"
#include "lib/macro.h"

static const char *const fault_names[_FS_FAULT_MAX] = {
	[FS_FAULT_DROP] = "drop",
	[FS_FAULT_CORRUPT] = "corrupt",
	[FS_FAULT_DUPLICATE] = "duplicate",
	[FS_FAULT_REORDER] = "reorder",
	[FS_FAULT_BAD_MAC] = "bad_mac",
	[FS_FAULT_SLOW_CONNECT] = "slow_connect",
	[FS_FAULT_BAD_ADDRESS] = "bad_address",
	[FS_FAULT_SILENT_CONNECT] = "silent_connect",
	[FS_FAULT_NO_RESOLVE] = "no_resolve",
};

FG_DEFINE_STRING_TABLE(, fs_fault, enum fs_fault, fault_names)

void fs_button_inject_fault(struct fs_button *b, enum fs_fault kind, uint32_t count)
{
	if (kind >= _FS_FAULT_MAX)
		return;
	b->faults[kind] += count;
	log_info("%s: %u %s fault(s) pending", b->address, b->faults[kind],
		 fs_fault_to_string(kind));
}

void fs_button_clear_faults(struct fs_button *b)
{
	memset(b->faults, 0, sizeof(b->faults));
}

bool fs_button_take_fault(struct fs_button *b, enum fs_fault kind)
{
	if (kind >= _FS_FAULT_MAX || b->faults[kind] == 0)
		return false;
	b->faults[kind]--;
	b->stats.faults_applied++;
	return true;
}
