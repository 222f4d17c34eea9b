/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Shared inside the fake bluetoothd only (bluez-sim*.c): BlueZ's names, the
 * emulated GATT database's handles, the state of the adapter, its devices
 * and its discovery clients, and the functions the files call each other by.
 * The files, lowest first:
 *   bluez-sim-props.c      the object tree: lookup, properties, signals
 *   bluez-sim-device.c     Device1 and GATT objects appearing and going away
 *   bluez-sim-link.c       the controller's link model: Connect, loss, Disconnect
 *   bluez-sim-gatt.c       the Flic characteristics: writes, notifications, fds
 *   bluez-sim-discovery.c  discovery sessions, filters, advertising reports
 *   bluez-sim-adapter.c    Adapter1: power, presence, its methods
 *   bluez-sim-tree.c       GetManagedObjects and Introspect
 *   bluez-sim.c            life cycle, restarts, Properties, method dispatch
 * Each calls only files above it in this list.
 */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bluez-sim.h"
#include "button-proto.h"
#include "lib/timeutil.h"

#define BLUEZ_NAME	"org.bluez"
#define ADAPTER_PATH	"/org/bluez/hci0"
#define IFACE_ADAPTER	"org.bluez.Adapter1"
#define IFACE_DEVICE	"org.bluez.Device1"
#define IFACE_SERVICE	"org.bluez.GattService1"
#define IFACE_CHAR	"org.bluez.GattCharacteristic1"
#define IFACE_DESC	"org.bluez.GattDescriptor1"
#define IFACE_AGENTMGR	"org.bluez.AgentManager1"
#define IFACE_PROPS	"org.freedesktop.DBus.Properties"
#define IFACE_INTRO	"org.freedesktop.DBus.Introspectable"
#define IFACE_OM	"org.freedesktop.DBus.ObjectManager"

#define FLIC_SERVICE_UUID "00420000-8f59-4420-870d-84f3b617e493"
#define FLIC_WRITE_UUID   "00420001-8f59-4420-870d-84f3b617e493"
#define FLIC_NOTIFY_UUID  "00420002-8f59-4420-870d-84f3b617e493"
#define CCC_UUID          "00002902-0000-1000-8000-00805f9b34fb"
#define GATT_SVC_UUID     "00001801-0000-1000-8000-00805f9b34fb"
#define SVC_CHANGED_UUID  "00002a05-0000-1000-8000-00805f9b34fb"
#define FLIC_COMPANY_ID   0x030f

/* ATT handles of the emulated GATT database; paths are named after them.
 * GAP (0x0001..) is used by bluetoothd itself and not exported; the Generic
 * Attribute service with Service Changed is, as on real devices. */
#define H_GATT_SVC	0x0008
#define H_SVC_CHANGED	0x0009
#define H_SVC_CHANGED_CCC 0x000b
#define H_SERVICE	0x000c
#define H_WRITE		0x000d
#define H_NOTIFY	0x000f
#define H_CCC		0x0011

/* BlueZ's error names and texts (src/error.c). */
#define E_FAILED	"org.bluez.Error.Failed"
#define E_INPROGRESS	"org.bluez.Error.InProgress"
#define E_NOTCONNECTED	"org.bluez.Error.NotConnected"
#define E_ALREADYCONN	"org.bluez.Error.AlreadyConnected"
#define E_NOTPERMITTED	"org.bluez.Error.NotPermitted"
#define E_NOTSUPPORTED	"org.bluez.Error.NotSupported"
#define E_INVALIDARGS	"org.bluez.Error.InvalidArguments"
#define E_DOESNOTEXIST	"org.bluez.Error.DoesNotExist"
#define E_NOTREADY	"org.bluez.Error.NotReady"
#define E_NOTAUTHORIZED	"org.bluez.Error.NotAuthorized"
#define LE_ABORT_LOCAL	"le-connection-abort-by-local"

/*
 * The kernel's passive scan while an LE connection is pending
 * (hci_alloc_dev: le_scan_int_connect = le_scan_window_connect = 0x0060,
 * 0.625 ms units): 60 ms windows every 60 ms, i.e. continuous.
 */
#define SCAN_CONNECT_INTERVAL_USEC	(0x0060 * 625)
#define SCAN_CONNECT_WINDOW_USEC	(0x0060 * 625)

enum obj_kind {
	OBJ_NONE,
	OBJ_ROOT,
	OBJ_BLUEZ,
	OBJ_ADAPTER,
	OBJ_DEVICE,
	OBJ_SERVICE,
	OBJ_CHAR_WRITE,
	OBJ_CHAR_NOTIFY,
	OBJ_DESC,
	OBJ_GATT_SERVICE,	/* 0x1801 */
	OBJ_SVC_CHANGED,	/* 0x2a05 */
	OBJ_SVC_CHANGED_CCC,
};

struct dev {
	struct fs_bluez *bz;
	struct fs_button *btn;
	char path[64];
	char gatt_service[80], gatt_write[96], gatt_notify[96], gatt_ccc[112];
	char gatt_svc1801[80], gatt_sc[96], gatt_sc_ccc[112];
	bool sc_indicating;	/* StartNotify on Service Changed */

	bool exported;		/* the Device1 object exists */
	bool temporary;		/* not stored: forgotten when unseen */
	bool trusted, blocked;
	bool seen_public;	/* UUIDs has the Flic service */
	bool has_rssi;
	int16_t rssi;
	bool has_mfr;
	uint8_t mfr[5];
	unsigned jitter;
	char alias[32];		/* set through Alias; empty: derived */
	char dashed[18];	/* AA-BB-CC-DD-EE-FF, BlueZ's last-resort alias */

	bool connecting, connected, resolved, gatt_exported;
	/*
	 * The kernel's view during an LE discovery: reported once in this
	 * scan window (the controller's duplicate filter hides the rest), a
	 * Connect() waiting for the device's next report.
	 */
	bool window_seen, held;
	sd_bus_message *connect_msg;
	sd_event_source *connect_timer, *connect_timeout, *resolve_timer;
	sd_event_source *loss_timer, *temp_timer;
	bool connect_scheduled;	/* connect_timer runs: advert to hear, or set-up */
	uint64_t heard_usec;	/* the advert that started this Create Connection */

	/* GATT client state */
	sd_bus_track *notify_track;
	int write_fd, notify_fd;
	sd_event_source *write_io, *notify_io;
	uint8_t value[FS_MAX_PACKET + 1];
	size_t value_len;
	uint64_t values_written, values_notified;
};

struct dclient {
	struct dclient *next;
	struct fs_bluez *bz;
	char *sender;
	sd_bus_track *track;
	bool discovering;
	bool has_filter;
	char **uuids;
	size_t n_uuids;
	bool has_rssi;
	int16_t rssi;
	char transport[8];
	bool duplicate;
	char *pattern;
};

struct fs_bluez {
	sd_event *event;
	struct fs_bluez_config cfg;
	sd_bus *bus;
	bool running, present, powered, discovering;
	char alias[64];
	sd_event_source *scan_timer, *restart_timer, *window_timer;
	struct dclient *clients;
	struct dev **devs;
	size_t n_devs;
	/* The controller: the one LE Create Connection in progress (it holds a
	 * link slot while it runs), and what the accept list holds. */
	struct dev *initiator;
	bool accept_list_bypassed;
	uint32_t peak_links;
	struct {
		uint64_t restarts, connects, connect_failures, writes, notifications;
		uint64_t reports, held, window_waits;
		uint64_t refused, accept_list_fallbacks;
	} stats;
};
/* An object path resolved: what it is, and for device objects which one. */
struct bz_obj {
	enum obj_kind kind;
	struct dev *dev;
	const char *path;
};

enum drop_reason {
	DROP_LOCAL,	/* Disconnect(), power off, RemoveDevice */
	DROP_REMOTE,	/* the button hung up */
	DROP_TIMEOUT,	/* supervision timeout: out of range */
	DROP_SILENT,	/* bluetoothd died: nobody is told */
};

/* --- small helpers ----------------------------------------------------------- */

static inline int arm(struct fs_bluez *bz, sd_event_source **s, uint64_t usec,
		      sd_event_time_handler_t cb, void *userdata)
{
	*s = sd_event_source_disable_unref(*s);
	return sd_event_add_time_relative(bz->event, s, CLOCK_MONOTONIC, usec,
					  FG_USEC_PER_MSEC / 2, cb, userdata);
}

static inline void disarm(sd_event_source **s)
{
	*s = sd_event_source_disable_unref(*s);
}

static inline int bz_reply_ok(sd_bus_message *m)
{
	return sd_bus_reply_method_return(m, NULL);
}

/* A BlueZ error reply: @name and its fixed text, as src/error.c has them. */
static inline int bz_err(sd_bus_message *m, const char *name, const char *text)
{
	return sd_bus_reply_method_errorf(m, name, "%s", text);
}

/* --- bluez-sim-props.c: the object tree ---------------------------------------
 * Property functions append every present property as {sv} (only == NULL),
 * or the variant of property @only (1, or -ENOENT when unknown or absent);
 * with m == NULL they only tell whether @only is present. */
int bz_append_strv(sd_bus_message *m, const char *const *v, size_t n);
/* The notify characteristic has a subscriber (StartNotify or AcquireNotify). */
bool bz_notifying(struct dev *d);
struct dev *bz_find_dev_by_button(struct fs_bluez *bz, struct fs_button *btn);
/* OBJ_NONE for a path that is not exported now. */
struct bz_obj bz_lookup(struct fs_bluez *bz, const char *path);
/* The BlueZ interface of an object kind; NULL for "/" and unknown. */
const char *bz_obj_iface_to_string(enum obj_kind k);
int bz_props_of(struct fs_bluez *bz, struct bz_obj *o, sd_bus_message *m, const char *only);
/* a{sa{sv}} of an object, the standard interfaces included as BlueZ does. */
int bz_append_ifaces(struct fs_bluez *bz, struct bz_obj *o, sd_bus_message *m);
/* Signals; nothing is sent while bluetoothd is down. */
int bz_emit_added(struct fs_bluez *bz, const char *path);
int bz_emit_removed(struct fs_bluez *bz, const char *path, const char *iface);
/* PropertiesChanged of the NULL-terminated names; absent ones are invalidated. */
int bz_emit_changed(struct fs_bluez *bz, const char *path, const char *iface, ...)
	__attribute__((sentinel));

/* --- bluez-sim-device.c: objects appearing and going away ------------------- */
void bz_gatt_export(struct dev *d);
void bz_gatt_unexport(struct dev *d);
void bz_close_write_fd(struct dev *d, bool announce);
void bz_close_notify_fd(struct dev *d, bool announce);
void bz_dev_export(struct dev *d);
void bz_dev_unexport(struct dev *d);
/* (Re)starts the timer that forgets a temporary device nobody hears. */
void bz_touch_temporary(struct dev *d);

/* --- bluez-sim-link.c: the controller's link model ---------------------------- */
void bz_link_down(struct dev *d, enum drop_reason why);
/* Links holding a controller slot: up, or being created. */
uint32_t bz_links_in_use(struct fs_bluez *bz);
/* Pending connections the kernel has (Connect() waiting for the button). */
uint32_t bz_pending_connects(struct fs_bluez *bz);
void bz_drop_all_links(struct fs_bluez *bz, enum drop_reason why);
/* Powered, the button in range and advertising. */
bool bz_connectable(struct dev *d);
/* Starts the link set-up of a pending Connect() when the button can be heard
 * and no discovery window holds it. */
void bz_schedule_connect(struct dev *d);
/* Device1 methods; replies to @m. */
int bz_device_method(struct dev *d, sd_bus_message *m, const char *member);

/* --- bluez-sim-gatt.c: the characteristics and descriptors' methods --------- */
int bz_char_method(struct dev *d, bool notify, sd_bus_message *m, const char *member);
int bz_svc_changed_method(struct dev *d, sd_bus_message *m, const char *member);
int bz_desc_method(struct dev *d, sd_bus_message *m, const char *member);

/* --- bluez-sim-discovery.c: discovery sessions ------------------------------ */
/* A client by bus name; created when @create. NULL when absent or out of memory. */
struct dclient *bz_dclient_get(struct fs_bluez *bz, const char *sender, bool create);
void bz_dclient_remove(struct fs_bluez *bz, struct dclient *c);
void bz_clear_clients(struct fs_bluez *bz);
/* Starts or stops scanning after a client's discovery changed. */
void bz_update_discovering(struct fs_bluez *bz);
/* SetDiscoveryFilter's argument into @c. 0, or -EINVAL / -ENOMEM. */
int bz_parse_filter(struct dclient *c, sd_bus_message *m);

/* --- bluez-sim-adapter.c: Adapter1 ------------------------------------------- */
void bz_set_powered(struct fs_bluez *bz, bool on);
void bz_export_adapter(struct fs_bluez *bz);
/* @silent: bluetoothd died, nobody is told. */
void bz_unexport_adapter(struct fs_bluez *bz, bool silent);
int bz_adapter_method(struct fs_bluez *bz, sd_bus_message *m, const char *member);

/* --- bluez-sim-tree.c: the tree as a whole ----------------------------------- */
int bz_get_managed_objects(struct fs_bluez *bz, sd_bus_message *m);
int bz_introspect(struct fs_bluez *bz, struct bz_obj *o, const char *path, sd_bus_message *m);
