/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * D-Bus names of the control API, shared by flicgated and flicgatectl.
 * Versioned: an incompatible change gets new names ending in 2.
 * Documented in docs/dbus-api.md.
 */
#define FG_DBUS_NAME		"io.github.flicgate1"
#define FG_DBUS_ROOT_PATH	"/io/github/flicgate1"
#define FG_DBUS_MANAGER_PATH	"/io/github/flicgate1/gateway"
#define FG_DBUS_BUTTON_PREFIX	"/io/github/flicgate1/button"
#define FG_DBUS_MANAGER_IFACE	"io.github.flicgate1.Gateway"
#define FG_DBUS_BUTTON_IFACE	"io.github.flicgate1.Button"

/* org.freedesktop.DBus.ObjectManager lives on the root path. */
#define FG_DBUS_OBJECT_MANAGER_PATH FG_DBUS_ROOT_PATH

/*
 * Callers of methods that change something must be root, the daemon's own
 * user or a member of this group (the bus policy says the same).
 */
#define FG_DBUS_OPERATOR_GROUP	"flicgate"

/* ---- io.github.flicgate1.Gateway ------------------------------------ */

/* properties */
#define FG_DBUS_GW_VERSION		"Version"
#define FG_DBUS_GW_NAME			"Name"
#define FG_DBUS_GW_CONFIG_PATH		"ConfigPath"
#define FG_DBUS_GW_START_TIME		"StartTime"
#define FG_DBUS_GW_FEATURES		"Features"
#define FG_DBUS_GW_ADAPTER		"Adapter"
#define FG_DBUS_GW_ADAPTER_STATE	"AdapterState"
#define FG_DBUS_GW_PAIRING_POLICY	"PairingPolicy"
#define FG_DBUS_GW_PAIRING_OPEN		"PairingWindowOpen"
#define FG_DBUS_GW_PAIRING_END		"PairingWindowEnd"
#define FG_DBUS_GW_BUTTONS		"Buttons"
#define FG_DBUS_GW_CONNECTED		"ConnectedButtons"
#define FG_DBUS_GW_OPEN_ALERTS		"OpenAlerts"
#define FG_DBUS_GW_SPOOL_DEPTH		"SpoolDepth"
#define FG_DBUS_GW_SPOOL_ALARM		"SpoolAlarm"
#define FG_DBUS_GW_DEAD_LETTERS		"DeadLetters"
#define FG_DBUS_GW_TARGETS		"Targets"
#define FG_DBUS_GW_TEST_WINDOW_OPEN	"TestWindowOpen"
#define FG_DBUS_GW_TEST_WINDOW_END	"TestWindowEnd"
#define FG_DBUS_GW_TEST_WINDOW_BUTTON	"TestWindowButton"
#define FG_DBUS_GW_ALARMS		"Alarms"
#define FG_DBUS_GW_LINKS_USED		"LinksUsed"
#define FG_DBUS_GW_LINK_BUDGET		"LinkBudget"
#define FG_DBUS_GW_SLEEPING		"SleepingButtons"

/* methods */
#define FG_DBUS_GW_GET_BUTTON		"GetButton"
#define FG_DBUS_GW_OPEN_PAIRING		"OpenPairingWindow"
#define FG_DBUS_GW_CLOSE_PAIRING	"ClosePairingWindow"
#define FG_DBUS_GW_TEST_ALERT		"SendTestAlert"
#define FG_DBUS_GW_ACKNOWLEDGE		"Acknowledge"
#define FG_DBUS_GW_RELOAD		"Reload"
#define FG_DBUS_GW_RECENT_DELIVERIES	"RecentDeliveries"
#define FG_DBUS_GW_EXPORT_PAIRINGS	"ExportPairings"
#define FG_DBUS_GW_IMPORT_PAIRINGS	"ImportPairings"
#define FG_DBUS_GW_OPEN_TEST_WINDOW	"OpenTestWindow"
#define FG_DBUS_GW_CLOSE_TEST_WINDOW	"CloseTestWindow"
#define FG_DBUS_GW_EXPORT_AUDIT		"ExportAudit"

/* signals */
#define FG_DBUS_GW_PAIRING_PROGRESS	"PairingProgress"
#define FG_DBUS_GW_DELIVERY		"Delivery"

/* Targets: name, health, queued, delivered, dead letters, last HTTP status, last error */
#define FG_DBUS_TARGET_SIG		"(sstttis)"
/*
 * One delivery attempt: time (CLOCK_REALTIME µs), alert id, button, target,
 * alert state, test, result, HTTP status, error, latency (µs), attempt.
 */
#define FG_DBUS_DELIVERY_FIELDS		"tssssbsistu"
#define FG_DBUS_DELIVERY_SIG		"(" FG_DBUS_DELIVERY_FIELDS ")"

/*
 * One audit record: time (CLOCK_REALTIME µs), event, button, alert id,
 * target, latency (µs), time since its press (µs, 0 unknown), detail.
 */
#define FG_DBUS_AUDIT_FIELDS		"tsssstts"
#define FG_DBUS_AUDIT_SIG		"(" FG_DBUS_AUDIT_FIELDS ")"
/* ExportAudit answers at most this many records per call (then truncated = true). */
#define FG_DBUS_AUDIT_MAX		100000

/* Values of PairingProgress's first argument. The last four end a window. */
#define FG_DBUS_PAIRING_SCANNING	"scanning"
#define FG_DBUS_PAIRING_FOUND		"found"
#define FG_DBUS_PAIRING_VERIFYING	"verifying"
#define FG_DBUS_PAIRING_PAIRED		"paired"
#define FG_DBUS_PAIRING_SAVED		"saved"
#define FG_DBUS_PAIRING_FAILED		"failed"
#define FG_DBUS_PAIRING_TIMEOUT		"timeout"
#define FG_DBUS_PAIRING_CLOSED		"closed"

/* ---- io.github.flicgate1.Button ------------------------------------- */

/* properties */
#define FG_DBUS_BT_ID			"Id"
#define FG_DBUS_BT_NAME			"Name"
#define FG_DBUS_BT_SERIAL		"Serial"
#define FG_DBUS_BT_ADDRESS		"Address"
#define FG_DBUS_BT_CONFIGURED		"Configured"
#define FG_DBUS_BT_PAIRED		"Paired"
#define FG_DBUS_BT_CONNECTED		"Connected"
#define FG_DBUS_BT_LAST_SEEN		"LastSeen"
#define FG_DBUS_BT_RSSI			"RSSI"
#define FG_DBUS_BT_BATTERY		"BatteryMillivolts"
#define FG_DBUS_BT_FIRMWARE		"FirmwareVersion"
#define FG_DBUS_BT_LAST_EVENT		"LastEvent"
#define FG_DBUS_BT_LAST_EVENT_TIME	"LastEventTime"
#define FG_DBUS_BT_ALERT_STATE		"AlertState"
#define FG_DBUS_BT_BATTERY_PERCENT	"BatteryPercent"
#define FG_DBUS_BT_BATTERY_LOW		"BatteryLow"
#define FG_DBUS_BT_NOT_SEEN		"NotSeen"
#define FG_DBUS_BT_LAST_TEST		"LastTestTime"
#define FG_DBUS_BT_KEEP_LINKED		"KeepLinked"
#define FG_DBUS_BT_SLEEPING		"Sleeping"

/* methods */
#define FG_DBUS_BT_UNPAIR		"Unpair"
#define FG_DBUS_BT_RENAME		"Rename"

/* ---- errors (one table in daemon/control/api-errors.c) ------------------- */

#define FG_DBUS_ERROR_PREFIX		"io.github.flicgate1.Error."
#define FG_DBUS_ERROR_FAILED		FG_DBUS_ERROR_PREFIX "Failed"
#define FG_DBUS_ERROR_NOT_AVAILABLE	FG_DBUS_ERROR_PREFIX "NotAvailable"
#define FG_DBUS_ERROR_NOT_AUTHORIZED	FG_DBUS_ERROR_PREFIX "NotAuthorized"
#define FG_DBUS_ERROR_INVALID_ARGUMENT	FG_DBUS_ERROR_PREFIX "InvalidArgument"
#define FG_DBUS_ERROR_UNKNOWN_BUTTON	FG_DBUS_ERROR_PREFIX "UnknownButton"
#define FG_DBUS_ERROR_UNKNOWN_TARGET	FG_DBUS_ERROR_PREFIX "UnknownTarget"
#define FG_DBUS_ERROR_BUSY		FG_DBUS_ERROR_PREFIX "Busy"
#define FG_DBUS_ERROR_PAIRING_LOCKED	FG_DBUS_ERROR_PREFIX "PairingLocked"
#define FG_DBUS_ERROR_NOT_PAIRED	FG_DBUS_ERROR_PREFIX "NotPaired"
#define FG_DBUS_ERROR_CONFIGURED	FG_DBUS_ERROR_PREFIX "Configured"
#define FG_DBUS_ERROR_NAME_TAKEN	FG_DBUS_ERROR_PREFIX "NameTaken"
#define FG_DBUS_ERROR_CONFIG_REJECTED	FG_DBUS_ERROR_PREFIX "ConfigRejected"
#define FG_DBUS_ERROR_BAD_PAIRING_FILE	FG_DBUS_ERROR_PREFIX "BadPairingFile"
