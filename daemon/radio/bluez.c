/* SPDX-License-Identifier: MIT */
/*
 * BlueZ adapter: sd-bus <-> the button layer. See bluez.h and docs/bluez.md.
 *
 * State is a mirror of the org.bluez objects we care about (adapters,
 * devices under the chosen adapter, the Flic 2 characteristics under those
 * devices), refreshed from GetManagedObjects whenever org.bluez gets a new
 * owner and kept current from InterfacesAdded/Removed and
 * PropertiesChanged. Signals from anybody but the current owner are
 * ignored: after a bluetoothd restart the old instance's last words may
 * still be queued.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "radio/bluez.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define BLUEZ_NAME		"org.bluez"
#define IFACE_ADAPTER		"org.bluez.Adapter1"
#define IFACE_DEVICE		"org.bluez.Device1"
#define IFACE_CHAR		"org.bluez.GattCharacteristic1"
#define IFACE_PROPS		"org.freedesktop.DBus.Properties"
#define IFACE_OM		"org.freedesktop.DBus.ObjectManager"

/* D-Bus timeout for the short BlueZ calls (power, discovery, GATT setup) */
#define CALL_TIMEOUT_USEC	(25 * FG_USEC_PER_SEC)
/* Retry StartDiscovery after a failure or after discovery stopped under us */
#define DISCOVERY_RETRY_USEC	(2 * FG_USEC_PER_SEC)
/* A notification is at most one ATT payload; BlueZ caps the MTU at 517 */
#define NOTIFY_BUF		600
/* Packets queued on a write fd that is momentarily full */
#define WRITE_QUEUE_MAX		64
/*
 * The kernel's LE discovery window (DISCOV_LE_TIMEOUT, 10.24 s). While an
 * LE discovery runs, a connection asked for after the device's first
 * advertising report of the window waits until the scan is restarted: the
 * controller's duplicate filter hides the device's further reports, and
 * only a report makes the kernel send LE Create Connection. We pause our
 * own discovery for a foreground connect; when another program keeps
 * discovery running, an attempt is allowed one window more (docs/bluez.md).
 */
#define DISCOVERY_WINDOW_USEC	(10240 * FG_USEC_PER_MSEC)

#define FG_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

struct adapter {
	struct adapter *next;
	char *path;			/* /org/bluez/hci0 */
	const char *name;		/* "hci0", points into path */
	bool powered;
	bool discovering;
};

struct packet {
	struct packet *next;
	size_t len;
	uint8_t data[];
};

enum gatt_state {
	GATT_NONE,		/* nothing set up */
	GATT_SETUP,		/* Acquire or Start calls in flight */
	GATT_READY,
	GATT_FAILED,		/* reported; waits for the owner to disconnect */
};

struct device {
	struct device *next;
	struct fg_bluez *bz;
	char *path;
	uint8_t address[6];
	char *name;
	bool has_rssi;
	int rssi;
	uint8_t *mfr;			/* FG_FLIC2_COMPANY_ID payload */
	size_t mfr_len;
	bool flic_service;		/* UUIDs contains the Flic 2 service */
	bool twist_service;		/* UUIDs contains the Flic Twist service */
	/* AdvertisingData (BlueZ with it enabled): the last advertisement's AD structures */
	struct {
		uint8_t type;
		uint8_t len;
		uint8_t data[31];
	} ad[8];
	size_t n_ad;
	bool ad_fresh;			/* came with the change being handled */
	bool connected;
	bool resolved;			/* ServicesResolved */
	bool trusted;
	sd_bus_slot *trust_slot;

	/* what the owner asked for and what it was told */
	bool wanted;
	enum fg_bluez_link reported;
	sd_bus_slot *connect_slot;
	sd_bus_slot *disconnect_slot;

	/*
	 * The attempt's deadline: until the link is up for a foreground
	 * connect (@foreground), then from link up until the packet channel
	 * is ready, whoever asked. Nothing we wait for goes without one.
	 */
	sd_event_source *attempt_timer;
	bool foreground;		/* a bounded connect, link not up yet: discovery paused */
	bool extended;			/* given one more discovery window */
	uint64_t attempt_start;		/* CLOCK_MONOTONIC */
	uint64_t attempt_timeout;
	uint64_t dropped_at;		/* we ended a live link then; 0: no */

	/* the Flic 2 characteristics, once exported */
	char *write_path;
	char *notify_path;
	bool write_cmd;			/* "write-without-response" offered */
	bool can_notify;
	unsigned char_mtu;		/* GattCharacteristic1.MTU, 0 if absent */

	/* packet channel */
	enum gatt_state gatt;
	sd_bus_slot *notify_slot;
	sd_bus_slot *write_slot;
	bool notify_ok, write_ok;
	bool notify_by_signal;		/* StartNotify: Value PropertiesChanged */
	bool write_by_call;		/* WriteValue calls */
	int notify_fd, write_fd;
	sd_event_source *notify_io;
	sd_event_source *write_io;
	unsigned mtu;
	struct packet *wq_head, *wq_tail;
	size_t wq_len;
};

struct fg_bluez {
	sd_event *event;
	sd_bus *bus;
	const struct fg_bluetooth_config *cfg;
	const struct fg_bluez_ops *ops;
	void *userdata;

	/* signal subscriptions */
	sd_bus_slot *owner_match;
	sd_bus_slot *added_match;
	sd_bus_slot *removed_match;
	sd_bus_slot *props_match;

	/* org.bluez */
	char *owner;			/* unique name of bluetoothd; NULL: not running */
	bool had_owner;			/* it ran before: a new owner is a restart */
	sd_bus_slot *sync_slot;		/* GetManagedObjects in flight */
	bool synced;
	bool loading;			/* walking a snapshot: characteristics come last */

	struct adapter *adapters;
	struct adapter *adapter;	/* the chosen one, or NULL */
	struct device *devices;		/* under the chosen adapter */

	/* adapter power and discovery */
	sd_bus_slot *power_slot;
	bool power_warned;
	sd_bus_slot *discovery_slot;
	bool discovery_active;		/* our StartDiscovery succeeded (and no StopDiscovery since) */
	bool discovery_paused;		/* stopped by us while a foreground connect is in flight */
	bool rescan;			/* stop and start our session once: fg_bluez_rescan() */
	sd_event_source *discovery_timer;
	bool filter_wide;		/* the filter installed (or being installed) is the wide one */

	/* addresses the owner wants to reach (paired buttons) */
	uint8_t (*watch)[6];
	size_t n_watch;

	enum fg_bluez_state state;
	char *reported_adapter;
	struct fg_bluez_stats stats;
};

/* What a Device1 change touched (device_changed). */
enum {
	CH_ADV = 1 << 0,	/* RSSI, manufacturer or service data: an advertisement */
	CH_CONNECTED = 1 << 1,
	CH_RESOLVED = 1 << 2,
	CH_UUIDS = 1 << 3,
};

static const char *const state_names[_FG_BLUEZ_STATE_MAX] = {
	[FG_BLUEZ_NO_SERVICE] = "no-bluetoothd",
	[FG_BLUEZ_NO_ADAPTER] = "no-adapter",
	[FG_BLUEZ_POWERED_OFF] = "powered-off",
	[FG_BLUEZ_READY] = "ready",
};

static const char *const link_names[_FG_BLUEZ_LINK_MAX] = {
	[FG_BLUEZ_LINK_DOWN] = "down",
	[FG_BLUEZ_LINK_CONNECTED] = "connected",
	[FG_BLUEZ_LINK_READY] = "ready",
};

const char *fg_bluez_state_to_string(enum fg_bluez_state s)
{
	return s < _FG_BLUEZ_STATE_MAX ? state_names[s] : NULL;
}

const char *fg_bluez_link_to_string(enum fg_bluez_link l)
{
	return l < _FG_BLUEZ_LINK_MAX ? link_names[l] : NULL;
}

static void device_sync_link(struct device *d, int error);
static void device_report(struct device *d, enum fg_bluez_link l, int error);
static void attempt_end(struct device *d);
static void device_changed(struct device *d, unsigned changed);
static void report_presence(struct device *d, bool present);
static void discovery_update(struct fg_bluez *bz);
static void discovery_retry_later(struct fg_bluez *bz);
static int call_set_filter(struct fg_bluez *bz);
static void filter_update(struct fg_bluez *bz);
static void select_adapter(struct fg_bluez *bz);
static int start_sync(struct fg_bluez *bz);

/* ---- small helpers ---------------------------------------------------- */

static bool path_is_under(const char *path, const char *parent)
{
	size_t n = strlen(parent);

	return strncmp(path, parent, n) == 0 && path[n] == '/';
}

static int dup_fd(int fd)
{
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	return r < 0 ? -errno : r;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static const char *fmt_addr(const uint8_t a[6], char buf[18])
{
	fg_format_address(a, buf);
	return buf;
}

/* The first error of a BlueZ reply as -errno; the message is logged by callers. */
static int reply_errno(const sd_bus_error *e)
{
	if (!e || !sd_bus_error_is_set(e))
		return 0;
	if (sd_bus_error_has_name(e, "org.bluez.Error.InProgress"))
		return -EINPROGRESS;
	if (sd_bus_error_has_name(e, "org.bluez.Error.AlreadyConnected") ||
	    sd_bus_error_has_name(e, "org.bluez.Error.AlreadyExists"))
		return -EALREADY;
	if (sd_bus_error_has_name(e, "org.bluez.Error.NotReady"))
		return -ENETDOWN;
	if (sd_bus_error_has_name(e, "org.bluez.Error.NotSupported") ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_METHOD) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NOT_SUPPORTED))
		return -EOPNOTSUPP;
	if (sd_bus_error_has_name(e, "org.bluez.Error.NotPermitted") ||
	    sd_bus_error_has_name(e, "org.bluez.Error.NotAuthorized"))
		return -EPERM;
	if (sd_bus_error_has_name(e, "org.bluez.Error.DoesNotExist") ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_INTERFACE))
		return -ENODEV;
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT))
		return -ETIMEDOUT;
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_DISCONNECTED))
		return -ENETDOWN;
	if (sd_bus_error_has_name(e, "org.bluez.Error.Failed"))
		return -ECONNREFUSED;
	return -EIO;
}

/* A message from bluetoothd as we know it (drops stale signals). */
static bool from_bluez(struct fg_bluez *bz, sd_bus_message *m)
{
	const char *sender = sd_bus_message_get_sender(m);

	return bz->owner && sender && strcmp(sender, bz->owner) == 0;
}

/* Read a variant holding "ay" into a new buffer. */
static int read_variant_bytes(sd_bus_message *m, uint8_t **ret, size_t *ret_len)
{
	const void *p;
	size_t n;
	uint8_t *copy = NULL;
	int r;

	r = sd_bus_message_enter_container(m, 'v', "ay");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	r = sd_bus_message_read_array(m, 'y', &p, &n);
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	if (n > 0) {
		copy = malloc(n);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, p, n);
	}
	*ret = copy;
	*ret_len = n;
	return 0;
}

static int read_variant_basic(sd_bus_message *m, char type, void *ret)
{
	char sig[2] = { type, 0 };
	int r;

	r = sd_bus_message_enter_container(m, 'v', sig);
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	r = sd_bus_message_read_basic(m, type, ret);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/*
 * A property with an unexpected type is skipped rather than failing the
 * whole message: one odd property from a future BlueZ must not blind us.
 */
static int read_variant_basic_or_skip(sd_bus_message *m, char type, void *ret, bool *ret_ok)
{
	char sig[2] = { type, 0 };
	int r;

	r = sd_bus_message_verify_type(m, 'v', sig);
	if (r < 0)
		return r;
	if (r == 0) {
		*ret_ok = false;
		return sd_bus_message_skip(m, "v");
	}
	*ret_ok = true;
	return read_variant_basic(m, type, ret);
}

/* ---- state reporting ---------------------------------------------------- */

static enum fg_bluez_state compute_state(const struct fg_bluez *bz)
{
	if (!bz->owner)
		return FG_BLUEZ_NO_SERVICE;
	if (!bz->adapter)
		return FG_BLUEZ_NO_ADAPTER;
	if (!bz->adapter->powered)
		return FG_BLUEZ_POWERED_OFF;
	return FG_BLUEZ_READY;
}

static void report_state(struct fg_bluez *bz)
{
	enum fg_bluez_state s = compute_state(bz);
	const char *name = bz->adapter ? bz->adapter->name : NULL;

	if (s == bz->state && !!name == !!bz->reported_adapter &&
	    (!name || strcmp(name, bz->reported_adapter) == 0))
		return;
	bz->state = s;
	free(bz->reported_adapter);
	bz->reported_adapter = name ? strdup(name) : NULL;
	switch (s) {
	case FG_BLUEZ_NO_SERVICE:
		log_warning("Bluetooth: bluetoothd is not running (nobody owns org.bluez)");
		break;
	case FG_BLUEZ_NO_ADAPTER:
		log_warning("Bluetooth: no adapter%s%s", strcmp(bz->cfg->adapter, "auto") ? " named " : "",
			    strcmp(bz->cfg->adapter, "auto") ? bz->cfg->adapter : "");
		break;
	case FG_BLUEZ_POWERED_OFF:
		log_warning("Bluetooth: adapter %s is powered off", name);
		break;
	case FG_BLUEZ_READY:
		log_notice("Bluetooth: adapter %s is ready", name);
		break;
	case _FG_BLUEZ_STATE_MAX:
		break;
	}
	if (bz->ops->state_changed)
		bz->ops->state_changed(bz->userdata, s, name);
}

/* ---- packet channel ----------------------------------------------------- */

static void wq_clear(struct device *d)
{
	while (d->wq_head) {
		struct packet *p = d->wq_head;

		d->wq_head = p->next;
		free(p);
	}
	d->wq_tail = NULL;
	d->wq_len = 0;
}

static void channel_close(struct device *d)
{
	d->notify_slot = sd_bus_slot_unref(d->notify_slot);
	d->write_slot = sd_bus_slot_unref(d->write_slot);
	d->notify_io = sd_event_source_disable_unref(d->notify_io);
	d->write_io = sd_event_source_disable_unref(d->write_io);
	if (d->notify_fd >= 0)
		close(d->notify_fd);
	if (d->write_fd >= 0)
		close(d->write_fd);
	d->notify_fd = d->write_fd = -1;
	wq_clear(d);
	d->notify_ok = d->write_ok = false;
	d->notify_by_signal = d->write_by_call = false;
	d->mtu = 0;
	d->gatt = GATT_NONE;
}

/* The channel broke under a live link: tell the owner, who decides. */
static void channel_failed(struct device *d, int error)
{
	char a[18];

	log_info("Bluetooth: %s: packet channel failed: %s", fmt_addr(d->address, a), strerror(-error));
	channel_close(d);
	d->gatt = GATT_FAILED;
	device_sync_link(d, error);
}

static void deliver(struct device *d, const uint8_t *data, size_t len)
{
	d->bz->stats.notifications++;
	if (d->bz->ops->notification)
		d->bz->ops->notification(d->bz->userdata, d->address, data, len);
}

static int on_notify_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct device *d = userdata;
	uint8_t buf[NOTIFY_BUF];

	/*
	 * One datagram per notification (BlueZ uses SOCK_SEQPACKET). Drain
	 * what is there; the callback may close the channel under us.
	 */
	for (int i = 0; i < 64 && d->notify_fd == fd; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			deliver(d, buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		/* 0 bytes or an error: BlueZ closed its end (link gone or released) */
		channel_failed(d, -EPIPE);
		return 0;
	}
	if (d->notify_fd == fd && (revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN))
		channel_failed(d, -EPIPE);
	return 0;
}

static int write_flush(struct device *d)
{
	while (d->wq_head) {
		struct packet *p = d->wq_head;
		ssize_t n = send(d->write_fd, p->data, p->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return sd_event_source_set_enabled(d->write_io, SD_EVENT_ON);
			return -errno;
		}
		d->wq_head = p->next;
		if (!d->wq_head)
			d->wq_tail = NULL;
		d->wq_len--;
		free(p);
	}
	return sd_event_source_set_enabled(d->write_io, SD_EVENT_OFF);
}

static int on_write_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct device *d = userdata;
	int r;

	if (revents & (EPOLLHUP | EPOLLERR)) {
		channel_failed(d, -EPIPE);
		return 0;
	}
	r = write_flush(d);
	if (r < 0)
		channel_failed(d, r);
	return 0;
}

static void maybe_channel_ready(struct device *d)
{
	char a[18];

	if (d->gatt != GATT_SETUP || !d->notify_ok || !d->write_ok)
		return;
	if (!d->mtu)
		d->mtu = d->char_mtu ? d->char_mtu : FG_BLUEZ_DEFAULT_MTU;
	d->gatt = GATT_READY;
	if (d->notify_fd >= 0 && d->write_fd >= 0)
		d->bz->stats.fd_channels++;
	else
		d->bz->stats.fallback_channels++;
	log_debug("Bluetooth: %s: packet channel ready (mtu %u, write %s, notify %s)",
		  fmt_addr(d->address, a), d->mtu, d->write_by_call ? "WriteValue" : "fd",
		  d->notify_by_signal ? "StartNotify" : "fd");
	attempt_end(d);
	device_sync_link(d, 0);
}

static void take_mtu(struct device *d, uint16_t mtu)
{
	/* both Acquire replies carry the link's ATT MTU; keep the smaller */
	if (mtu >= FG_BLUEZ_DEFAULT_MTU && (!d->mtu || mtu < d->mtu))
		d->mtu = mtu;
}

static int on_start_notify(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct device *d = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	char a[18];

	d->notify_slot = sd_bus_slot_unref(d->notify_slot);
	if (e) {
		log_info("Bluetooth: %s: StartNotify failed: %s", fmt_addr(d->address, a), e->message);
		channel_failed(d, reply_errno(e) == -ENODEV ? -ENOENT : -EIO);
		return 0;
	}
	d->notify_by_signal = true;
	d->notify_ok = true;
	maybe_channel_ready(d);
	return 0;
}

/* An Acquire* reply: our own non-blocking copy of its fd, and the ATT MTU. */
static int take_acquired_fd(sd_bus_message *reply, int *ret_fd, uint16_t *ret_mtu)
{
	uint16_t mtu;
	int fd, r;

	r = sd_bus_message_read(reply, "hq", &fd, &mtu);
	if (r < 0)
		return r;
	fd = dup_fd(fd);
	if (fd < 0)
		return fd;
	r = set_nonblock(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	*ret_mtu = mtu;
	return 0;
}

static int start_notify_fallback(struct device *d)
{
	return sd_bus_call_method_async(d->bz->bus, &d->notify_slot, BLUEZ_NAME, d->notify_path,
					IFACE_CHAR, "StartNotify", on_start_notify, d, "");
}

/*
 * An AcquireNotify (@notify) or AcquireWrite reply. Refusals fall back to
 * method calls: NotSupported (old BlueZ, or no fd for this characteristic)
 * and NotPermitted/InProgress (another client already has notifications
 * on) still allow StartNotify; a refused write fd leaves WriteValue.
 */
static void on_acquired(struct device *d, sd_bus_message *reply, bool notify)
{
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	const char *what = notify ? "AcquireNotify" : "AcquireWrite";
	sd_event_source **io = notify ? &d->notify_io : &d->write_io;
	char a[18];
	uint16_t mtu;
	int fd, r;

	if (e) {
		log_debug("Bluetooth: %s: %s refused (%s), using %s", fmt_addr(d->address, a), what,
			  e->message, notify ? "StartNotify" : "WriteValue");
		if (notify) {
			r = start_notify_fallback(d);
			if (r < 0)
				channel_failed(d, r);
			return;
		}
		d->write_by_call = true;
		d->write_ok = true;
		maybe_channel_ready(d);
		return;
	}
	r = take_acquired_fd(reply, &fd, &mtu);
	if (r < 0) {
		log_warning_errno(r, "Bluetooth: %s: bad %s reply: %m", fmt_addr(d->address, a), what);
		channel_failed(d, -EIO);
		return;
	}
	if (notify)
		d->notify_fd = fd;
	else
		d->write_fd = fd;
	r = sd_event_add_io(d->bz->event, io, fd, notify ? EPOLLIN : EPOLLOUT,
			    notify ? on_notify_io : on_write_io, d);
	/* the write side listens for EPOLLOUT only while packets wait */
	if (r >= 0 && !notify)
		r = sd_event_source_set_enabled(*io, SD_EVENT_OFF);
	if (r < 0) {
		channel_failed(d, r);
		return;
	}
	take_mtu(d, mtu);
	if (notify)
		d->notify_ok = true;
	else
		d->write_ok = true;
	maybe_channel_ready(d);
}

static int on_acquire_notify(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct device *d = userdata;

	d->notify_slot = sd_bus_slot_unref(d->notify_slot);
	on_acquired(d, reply, true);
	return 0;
}

static int on_acquire_write(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct device *d = userdata;

	d->write_slot = sd_bus_slot_unref(d->write_slot);
	on_acquired(d, reply, false);
	return 0;
}

static int call_acquire(struct device *d, const char *path, const char *method,
			sd_bus_message_handler_t cb, sd_bus_slot **slot)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(d->bz->bus, &m, BLUEZ_NAME, path, IFACE_CHAR, method);
	if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 0);
	if (r >= 0)
		r = sd_bus_call_async(d->bz->bus, slot, m, cb, d, CALL_TIMEOUT_USEC);
	sd_bus_message_unref(m);
	return r;
}

/*
 * Connected, services resolved, owner wants the link: build the channel.
 * Without the Flic 2 characteristics the device is not (or no longer
 * looks like) a Flic: a stale GATT cache, or an impostor.
 */
static void channel_setup(struct device *d)
{
	char a[18];
	int r;

	if (!d->wanted || !d->connected || !d->resolved || d->gatt != GATT_NONE || d->bz->loading)
		return;
	if (!d->write_path || !d->notify_path) {
		log_info("Bluetooth: %s: services resolved but the Flic 2 characteristics are missing",
			 fmt_addr(d->address, a));
		d->gatt = GATT_FAILED;
		device_sync_link(d, -ENOENT);
		return;
	}
	d->gatt = GATT_SETUP;
	d->mtu = 0;
	if (d->can_notify)
		r = call_acquire(d, d->notify_path, "AcquireNotify", on_acquire_notify, &d->notify_slot);
	else
		r = start_notify_fallback(d);
	if (r < 0)
		goto fail;
	if (d->write_cmd) {
		r = call_acquire(d, d->write_path, "AcquireWrite", on_acquire_write, &d->write_slot);
		if (r < 0)
			goto fail;
	} else {
		d->write_by_call = true;
		d->write_ok = true;
	}
	return;
fail:
	log_warning_errno(r, "Bluetooth: %s: cannot set up the packet channel: %m", fmt_addr(d->address, a));
	channel_failed(d, -EIO);
}

/* ---- links ------------------------------------------------------------------ */

static uint64_t now_usec(const struct fg_bluez *bz)
{
	uint64_t t;

	if (sd_event_now(bz->event, CLOCK_MONOTONIC, &t) < 0)
		t = fg_now_monotonic();
	return t;
}

static bool foreground_pending(const struct fg_bluez *bz)
{
	for (struct device *d = bz->devices; d; d = d->next)
		if (d->foreground)
			return true;
	return false;
}

static int on_attempt_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void attempt_arm(struct device *d, uint64_t when)
{
	char a[18];
	int r;

	d->attempt_timer = sd_event_source_disable_unref(d->attempt_timer);
	r = sd_event_add_time(d->bz->event, &d->attempt_timer, CLOCK_MONOTONIC, when, 0,
			      on_attempt_timer, d);
	if (r < 0)
		log_error_errno(r, "Bluetooth: %s: cannot arm the connect deadline: %m",
				fmt_addr(d->address, a));
}

/*
 * The attempt is over (channel ready, link down, given up): no deadline,
 * and no more reason to keep our discovery paused.
 */
static void attempt_end(struct device *d)
{
	bool was_foreground = d->foreground;

	d->attempt_timer = sd_event_source_disable_unref(d->attempt_timer);
	d->foreground = false;
	d->extended = false;
	if (was_foreground)
		discovery_update(d->bz);
}

/*
 * The link is up: discovery may run again, and the packet channel gets
 * [bluetooth] connect_timeout to be ready (services resolved, the Flic
 * characteristics found, Acquire* answered), whoever made the link.
 */
static void attempt_link_up(struct device *d)
{
	bool was_foreground = d->foreground;
	uint64_t now = now_usec(d->bz);

	d->foreground = false;
	d->extended = false;
	if (d->wanted && d->gatt != GATT_READY) {
		d->attempt_start = now;
		d->attempt_timeout = d->bz->cfg->connect_timeout_usec;
		attempt_arm(d, now + d->attempt_timeout);
	} else {
		d->attempt_timer = sd_event_source_disable_unref(d->attempt_timer);
	}
	if (was_foreground)
		discovery_update(d->bz);
}

/*
 * We are about to end a live link: the button stays where it is and goes
 * on advertising, so our discovery reports it in this window at once and
 * the kernel would hold the next connect until the window ends.
 */
static void note_drop(struct device *d)
{
	if (d->connected)
		d->dropped_at = now_usec(d->bz);
}

/* Give up on a device's link: cancel inside bluetoothd, tell the owner DOWN. */
static void attempt_abandon(struct device *d, int error)
{
	note_drop(d);
	d->connect_slot = sd_bus_slot_unref(d->connect_slot);
	channel_close(d);
	/* also cancels a connection attempt still pending in bluetoothd and the kernel */
	(void)sd_bus_call_method_async(d->bz->bus, NULL, BLUEZ_NAME, d->path, IFACE_DEVICE,
				       "Disconnect", NULL, NULL, "");
	device_report(d, FG_BLUEZ_LINK_DOWN, error);
}

static int on_attempt_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct device *d = userdata;
	struct fg_bluez *bz = d->bz;
	char a[18], t[FG_DURATION_BUF];

	d->attempt_timer = sd_event_source_disable_unref(d->attempt_timer);
	fmt_addr(d->address, a);
	fg_format_duration(now_usec(bz) - d->attempt_start, t, sizeof(t));
	if (!d->connected) {
		if (d->foreground && !d->extended && bz->adapter && bz->adapter->discovering) {
			/*
			 * Someone's discovery still runs (another program's, or
			 * ours not stopped yet): the kernel may be holding the
			 * connection until its scan window ends.
			 */
			d->extended = true;
			log_info("Bluetooth: %s: not connected after %s while a discovery runs on %s: "
				 "allowing one more discovery window (10.24 s)", a, t, bz->adapter->name);
			attempt_arm(d, d->attempt_start + d->attempt_timeout + DISCOVERY_WINDOW_USEC);
			return 0;
		}
		bz->stats.connect_failures++;
		log_info("Bluetooth: %s: connect timed out after %s", a, t);
	} else {
		log_info("Bluetooth: %s: link up for %s but the packet channel is not ready%s: dropping it",
			 a, t, d->resolved ? "" : " (services not resolved)");
	}
	attempt_abandon(d, -ETIMEDOUT);
	return 0;
}

static void device_report(struct device *d, enum fg_bluez_link l, int error)
{
	char a[18];

	d->reported = l;
	log_debug("Bluetooth: %s: link %s%s%s", fmt_addr(d->address, a), link_names[l],
		  error ? ": " : "", error ? strerror(-error) : "");
	if (l == FG_BLUEZ_LINK_DOWN) {
		d->wanted = false;
		attempt_end(d);
	}
	if (d->bz->ops->link_changed)
		d->bz->ops->link_changed(d->bz->userdata, d->address, l, error,
					 l == FG_BLUEZ_LINK_READY ? d->mtu : 0);
}

/*
 * Report the link state derived from the device's properties, once per
 * change. @error qualifies the report (why DOWN, why GATT failed); a
 * failed channel is news even though the link stays CONNECTED.
 */
static void device_sync_link(struct device *d, int error)
{
	enum fg_bluez_link l;

	if (!d->connected)
		l = FG_BLUEZ_LINK_DOWN;
	else if (d->gatt == GATT_READY)
		l = FG_BLUEZ_LINK_READY;
	else
		l = FG_BLUEZ_LINK_CONNECTED;
	if (l == d->reported && !(error && l == FG_BLUEZ_LINK_CONNECTED))
		return;
	device_report(d, l, error);
}

static int on_connect_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct device *d = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	char a[18];
	int r;

	d->connect_slot = sd_bus_slot_unref(d->connect_slot);
	if (!e) {
		/*
		 * bluetoothd answers Connect() once the link is up and ATT
		 * attached to it. The Connected property normally said so
		 * already, but bluetoothd 5.66 was seen not to signal it
		 * (docs/bluez.md): the reply is enough.
		 */
		if (!d->connected) {
			log_debug("Bluetooth: %s: Connect() answered before a Connected signal: connected",
				  fmt_addr(d->address, a));
			d->connected = true;
			device_changed(d, CH_CONNECTED);
		}
		return 0;
	}
	r = reply_errno(e);
	if (r == -EALREADY || r == -EINPROGRESS)
		return 0;
	d->bz->stats.connect_failures++;
	log_info("Bluetooth: %s: connect failed: %s", fmt_addr(d->address, a), e->message);
	if (r == -ETIMEDOUT) {
		/* cancel the attempt still pending inside bluetoothd/the kernel */
		(void)sd_bus_call_method_async(d->bz->bus, NULL, BLUEZ_NAME, d->path, IFACE_DEVICE,
					       "Disconnect", NULL, NULL, "");
	} else if (r != -ENODEV && r != -ENETDOWN) {
		r = -ECONNREFUSED;
	}
	/* DOWN even though it was never up: the attempt is over */
	if (!d->connected)
		device_report(d, FG_BLUEZ_LINK_DOWN, r);
	return 0;
}

static struct device *device_by_address(const struct fg_bluez *bz, const uint8_t a[6])
{
	for (struct device *d = bz->devices; d; d = d->next)
		if (memcmp(d->address, a, 6) == 0)
			return d;
	return NULL;
}

static struct device *device_by_path(const struct fg_bluez *bz, const char *path)
{
	for (struct device *d = bz->devices; d; d = d->next)
		if (strcmp(d->path, path) == 0)
			return d;
	return NULL;
}

static struct device *device_owning(const struct fg_bluez *bz, const char *path)
{
	for (struct device *d = bz->devices; d; d = d->next)
		if (path_is_under(path, d->path))
			return d;
	return NULL;
}

int fg_bluez_watch(struct fg_bluez *bz, const uint8_t address[6], bool on)
{
	size_t i;

	for (i = 0; i < bz->n_watch; i++)
		if (memcmp(bz->watch[i], address, 6) == 0)
			break;
	if (on && i == bz->n_watch) {
		uint8_t (*w)[6] = realloc(bz->watch, (bz->n_watch + 1) * sizeof(*w));

		if (!w)
			return -ENOMEM;
		bz->watch = w;
		memcpy(bz->watch[bz->n_watch++], address, 6);
	} else if (!on && i < bz->n_watch) {
		memmove(bz->watch[i], bz->watch[i + 1], (bz->n_watch - i - 1) * sizeof(*bz->watch));
		bz->n_watch--;
	}
	filter_update(bz);
	return 0;
}

bool fg_bluez_has_device(const struct fg_bluez *bz, const uint8_t address[6])
{
	return device_by_address(bz, address) != NULL;
}

int fg_bluez_connect(struct fg_bluez *bz, const uint8_t address[6], uint64_t timeout_usec)
{
	struct device *d;
	sd_bus_message *m = NULL;
	int r;

	if (compute_state(bz) != FG_BLUEZ_READY)
		return -ENETDOWN;
	d = device_by_address(bz, address);
	if (!d)
		return -ENODEV;
	if (d->connect_slot)
		return -EALREADY;
	if (d->connected) {
		/* up already (made before we started, or by someone else) */
		if (d->wanted && d->gatt != GATT_NONE)
			return -EALREADY;
		d->wanted = true;
		if (d->gatt == GATT_FAILED)
			return -EALREADY;
		attempt_link_up(d);
		channel_setup(d);
		return 0;
	}
	/*
	 * A bounded attempt is bounded by our own timer (on_attempt_timer),
	 * which may allow one discovery window more: the call's own timeout
	 * only backs it up. An unbounded one waits in bluetoothd and the
	 * kernel until the button shows up or bluetoothd gives up.
	 *
	 * Within a discovery window of our dropping its live link the button
	 * is still advertising and already reported: the first attempt after
	 * the drop is a bounded one too, so that our discovery pauses for it.
	 */
	if (!timeout_usec && d->dropped_at && now_usec(bz) < d->dropped_at + DISCOVERY_WINDOW_USEC) {
		char a[18];

		log_debug("Bluetooth: %s: we ended its link within a discovery window: connecting in the foreground",
			  fmt_addr(d->address, a));
		timeout_usec = bz->cfg->connect_timeout_usec;
	}
	d->dropped_at = 0;
	if (timeout_usec) {
		/* while it is in flight, our discovery would hold it back: pause it first */
		d->foreground = true;
		discovery_update(bz);
	}
	r = sd_bus_message_new_method_call(bz->bus, &m, BLUEZ_NAME, d->path, IFACE_DEVICE, "Connect");
	if (r >= 0)
		r = sd_bus_call_async(bz->bus, &d->connect_slot, m, on_connect_reply, d,
				      timeout_usec ? timeout_usec + DISCOVERY_WINDOW_USEC + CALL_TIMEOUT_USEC :
				      CALL_TIMEOUT_USEC);
	sd_bus_message_unref(m);
	if (r < 0) {
		attempt_end(d);
		return r;
	}
	d->wanted = true;
	bz->stats.connects++;
	if (timeout_usec) {
		d->attempt_start = now_usec(bz);
		d->attempt_timeout = timeout_usec;
		d->extended = false;
		attempt_arm(d, d->attempt_start + timeout_usec);
	}
	return 0;
}

static int on_disconnect_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct device *d = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	char a[18];

	d->disconnect_slot = sd_bus_slot_unref(d->disconnect_slot);
	if (e && reply_errno(e) != -ENODEV)
		log_debug("Bluetooth: %s: Disconnect: %s", fmt_addr(d->address, a), e->message);
	return 0;
}

int fg_bluez_disconnect(struct fg_bluez *bz, const uint8_t address[6])
{
	struct device *d = device_by_address(bz, address);

	if (!d)
		return -ENODEV;
	d->wanted = false;
	note_drop(d);
	d->connect_slot = sd_bus_slot_unref(d->connect_slot);
	channel_close(d);
	attempt_end(d);
	if (d->disconnect_slot)
		return 0;
	/* also cancels a connection attempt that is still pending */
	return sd_bus_call_method_async(bz->bus, &d->disconnect_slot, BLUEZ_NAME, d->path,
					IFACE_DEVICE, "Disconnect", on_disconnect_reply, d, "");
}

int fg_bluez_write(struct fg_bluez *bz, const uint8_t address[6], const uint8_t *data, size_t len)
{
	struct device *d = device_by_address(bz, address);
	struct packet *p;
	sd_bus_message *m = NULL;
	int r;

	if (!d || d->gatt != GATT_READY)
		return -ENOTCONN;
	if (len == 0 || len + 3 > d->mtu)
		return -EMSGSIZE;
	bz->stats.writes++;

	if (d->write_by_call) {
		r = sd_bus_message_new_method_call(bz->bus, &m, BLUEZ_NAME, d->write_path, IFACE_CHAR,
						   "WriteValue");
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', data, len);
		if (r >= 0)
			r = sd_bus_message_append(m, "a{sv}", 1, "type", "s", "command");
		/* write without response: nobody waits for BlueZ's reply either */
		if (r >= 0)
			r = sd_bus_message_set_expect_reply(m, false);
		if (r >= 0)
			r = sd_bus_send(bz->bus, m, NULL);
		sd_bus_message_unref(m);
		return r < 0 ? r : 0;
	}

	if (!d->wq_head) {
		ssize_t n = send(d->write_fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n >= 0)
			return 0;
		/*
		 * A broken channel is reported from the event loop (the
		 * notify fd hangs up too), never from inside this call:
		 * the caller is in the middle of draining its engine.
		 */
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	if (d->wq_len >= WRITE_QUEUE_MAX)
		return -ENOBUFS;
	p = malloc(sizeof(*p) + len);
	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->len = len;
	memcpy(p->data, data, len);
	if (d->wq_tail)
		d->wq_tail->next = p;
	else
		d->wq_head = p;
	d->wq_tail = p;
	d->wq_len++;
	return sd_event_source_set_enabled(d->write_io, SD_EVENT_ON);
}

static int on_remove_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	const sd_bus_error *e = sd_bus_message_get_error(reply);

	if (e && reply_errno(e) != -ENODEV)
		log_info("Bluetooth: RemoveDevice failed: %s", e->message);
	return 0;
}

int fg_bluez_remove_device(struct fg_bluez *bz, const uint8_t address[6])
{
	struct device *d = device_by_address(bz, address);

	if (!d)
		return -ENODEV;
	if (!bz->adapter)
		return -ENETDOWN;
	d->wanted = false;
	channel_close(d);
	/* the InterfacesRemoved signal that follows drops our record */
	return sd_bus_call_method_async(bz->bus, NULL, BLUEZ_NAME, bz->adapter->path, IFACE_ADAPTER,
					"RemoveDevice", on_remove_reply, NULL, "o", d->path);
}

static int on_trust_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct device *d = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	char a[18];

	d->trust_slot = sd_bus_slot_unref(d->trust_slot);
	if (e)
		log_debug("Bluetooth: %s: cannot set Trusted: %s", fmt_addr(d->address, a), e->message);
	return 0;
}

int fg_bluez_set_trusted(struct fg_bluez *bz, const uint8_t address[6], bool trusted)
{
	struct device *d = device_by_address(bz, address);

	if (!d)
		return -ENODEV;
	if (d->trusted == trusted || d->trust_slot)
		return 0;
	return sd_bus_call_method_async(bz->bus, &d->trust_slot, BLUEZ_NAME, d->path, IFACE_PROPS, "Set",
					on_trust_reply, d, "ssv", IFACE_DEVICE, "Trusted", "b", (int)trusted);
}

/* ---- devices -------------------------------------------------------------- */

static struct device *device_free(struct device *d)
{
	if (!d)
		return NULL;
	channel_close(d);
	sd_event_source_disable_unref(d->attempt_timer);
	sd_bus_slot_unref(d->connect_slot);
	sd_bus_slot_unref(d->disconnect_slot);
	sd_bus_slot_unref(d->trust_slot);
	free(d->path);
	free(d->name);
	free(d->mfr);
	free(d->write_path);
	free(d->notify_path);
	free(d);
	return NULL;
}

/* The object went away (or everything did): close, report, forget. */
static void device_drop(struct fg_bluez *bz, struct device *d, int error)
{
	struct device **pp;

	for (pp = &bz->devices; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	channel_close(d);
	d->connected = false;
	/* an attempt still pending ends here too: say so even if never up */
	if (d->connect_slot)
		device_report(d, FG_BLUEZ_LINK_DOWN, error);
	else
		device_sync_link(d, error);
	d->connect_slot = sd_bus_slot_unref(d->connect_slot);
	report_presence(d, false);
	device_free(d);
	filter_update(bz);
}

static void drop_all_devices(struct fg_bluez *bz, int error)
{
	while (bz->devices)
		device_drop(bz, bz->devices, error);
}

static int parse_mfr(struct device *d, sd_bus_message *m)
{
	bool found = false;
	int r;

	r = sd_bus_message_enter_container(m, 'v', "a{qv}");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	r = sd_bus_message_enter_container(m, 'a', "{qv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "qv")) > 0) {
		uint16_t id;

		r = sd_bus_message_read_basic(m, 'q', &id);
		if (r < 0)
			return r;
		if (id == FG_FLIC2_COMPANY_ID && sd_bus_message_verify_type(m, 'v', "ay") > 0) {
			free(d->mfr);
			d->mfr = NULL;
			r = read_variant_bytes(m, &d->mfr, &d->mfr_len);
			if (r < 0)
				return r;
			found = true;
		} else {
			r = sd_bus_message_skip(m, "v");
			if (r < 0)
				return r;
		}
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	if (!found) {
		free(d->mfr);
		d->mfr = NULL;
		d->mfr_len = 0;
	}
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* A boolean property into *field; @flag into *changed when it changed. */
static int read_bool_prop(sd_bus_message *m, bool *field, unsigned *changed, unsigned flag)
{
	bool ok;
	int v, r;

	r = read_variant_basic_or_skip(m, 'b', &v, &ok);
	if (r >= 0 && ok && *field != !!v) {
		*field = v;
		*changed |= flag;
	}
	return r;
}

/* UUIDs: does it name the Flic 2 and/or the Twist service? 1, or -errno. */
static int read_uuids(sd_bus_message *m, bool *ret_flic, bool *ret_twist)
{
	const char *u;
	bool flic = false, twist = false;
	int r;

	r = sd_bus_message_enter_container(m, 'v', "as");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	r = sd_bus_message_enter_container(m, 'a', "s");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read_basic(m, 's', &u)) > 0) {
		flic = flic || strcasecmp(u, FG_FLIC2_SERVICE_UUID) == 0;
		twist = twist || strcasecmp(u, FG_FLIC_TWIST_SERVICE_UUID) == 0;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	*ret_flic = flic;
	*ret_twist = twist;
	return 1;
}

/* AdvertisingData a{yv}: AD type -> bytes of the last advertisement. */
static int parse_ad(struct device *d, sd_bus_message *m)
{
	int r;

	d->n_ad = 0;
	r = sd_bus_message_enter_container(m, 'v', "a{yv}");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	r = sd_bus_message_enter_container(m, 'a', "{yv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "yv")) > 0) {
		uint8_t type;
		const void *p;
		size_t n;

		r = sd_bus_message_read_basic(m, 'y', &type);
		if (r < 0)
			return r;
		if (sd_bus_message_verify_type(m, 'v', "ay") > 0) {
			r = sd_bus_message_enter_container(m, 'v', "ay");
			if (r >= 0)
				r = sd_bus_message_read_array(m, 'y', &p, &n);
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
			if (r < 0)
				return r;
			/* an advertisement holds 31 bytes: anything longer is not one */
			if (d->n_ad < FG_ELEMENTSOF(d->ad) && n <= sizeof(d->ad[0].data)) {
				d->ad[d->n_ad].type = type;
				d->ad[d->n_ad].len = (uint8_t)n;
				memcpy(d->ad[d->n_ad].data, p, n);
				d->n_ad++;
			}
		} else {
			r = sd_bus_message_skip(m, "v");
			if (r < 0)
				return r;
		}
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	d->ad_fresh = true;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* Apply an a{sv} of Device1 properties; ORs CH_* into *changed. */
static int parse_device_props(struct device *d, sd_bus_message *m, unsigned *changed)
{
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key;
		bool ok = true;

		r = sd_bus_message_read_basic(m, 's', &key);
		if (r < 0)
			return r;
		if (strcmp(key, "RSSI") == 0) {
			int16_t v;

			r = read_variant_basic_or_skip(m, 'n', &v, &ok);
			if (r >= 0 && ok) {
				d->has_rssi = true;
				d->rssi = v;
				*changed |= CH_ADV;
			}
		} else if (strcmp(key, "ManufacturerData") == 0) {
			r = sd_bus_message_verify_type(m, 'v', "a{qv}");
			if (r > 0) {
				r = parse_mfr(d, m);
				*changed |= CH_ADV;
			} else if (r == 0) {
				r = sd_bus_message_skip(m, "v");
			}
		} else if (strcmp(key, "ServiceData") == 0) {
			*changed |= CH_ADV;
			r = sd_bus_message_skip(m, "v");
		} else if (strcmp(key, "Connected") == 0) {
			r = read_bool_prop(m, &d->connected, changed, CH_CONNECTED);
		} else if (strcmp(key, "ServicesResolved") == 0) {
			r = read_bool_prop(m, &d->resolved, changed, CH_RESOLVED);
		} else if (strcmp(key, "UUIDs") == 0) {
			bool flic = false, twist = false, got = false;

			r = sd_bus_message_verify_type(m, 'v', "as");
			if (r > 0)
				got = (r = read_uuids(m, &flic, &twist)) > 0;
			else if (r == 0)
				r = sd_bus_message_skip(m, "v");
			if (got && (flic != d->flic_service || twist != d->twist_service)) {
				d->flic_service = flic;
				d->twist_service = twist;
				*changed |= CH_UUIDS;
			}
		} else if (strcmp(key, "AdvertisingData") == 0) {
			r = sd_bus_message_verify_type(m, 'v', "a{yv}");
			if (r > 0) {
				r = parse_ad(d, m);
				*changed |= CH_ADV;
			} else if (r == 0) {
				r = sd_bus_message_skip(m, "v");
			}
		} else if (strcmp(key, "Trusted") == 0) {
			r = read_bool_prop(m, &d->trusted, changed, 0);
		} else if (strcmp(key, "Name") == 0) {
			const char *s;

			r = read_variant_basic_or_skip(m, 's', &s, &ok);
			if (r >= 0 && ok && (!d->name || strcmp(d->name, s))) {
				free(d->name);
				d->name = strdup(s);
			}
		} else if (strcmp(key, "Address") == 0) {
			const char *s;

			r = read_variant_basic_or_skip(m, 's', &s, &ok);
			if (r >= 0 && ok)
				(void)fg_parse_address(s, d->address);
		} else {
			r = sd_bus_message_skip(m, "v");
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static bool is_watched(const struct fg_bluez *bz, const uint8_t a[6])
{
	for (size_t i = 0; i < bz->n_watch; i++)
		if (memcmp(bz->watch[i], a, 6) == 0)
			return true;
	return false;
}

static bool device_is_flic(const struct device *d)
{
	return d->flic_service || d->mfr || d->write_path || is_watched(d->bz, d->address);
}

static void report_presence(struct device *d, bool present)
{
	if (device_is_flic(d) && d->bz->ops->device_present)
		d->bz->ops->device_present(d->bz->userdata, d->address, present);
}

static void report_adv(struct device *d)
{
	struct fg_bluez_adv adv = {
		.has_rssi = d->has_rssi,
		.rssi = d->rssi,
		.connected = d->connected,
	};

	if (!device_is_flic(d) || !d->bz->ops->advertisement)
		return;
	memcpy(adv.address, d->address, 6);
	if (d->ad_fresh) {
		struct fg_flic2_ad ad[FG_ELEMENTSOF(d->ad)];

		for (size_t i = 0; i < d->n_ad; i++)
			ad[i] = (struct fg_flic2_ad){ d->ad[i].type, d->ad[i].data, d->ad[i].len };
		/*
		 * BlueZ exposes only the AD types it deems safe there; if the
		 * Flic ones are not among them, the properties must do.
		 */
		adv.from_ad = fg_flic2_adv_parse_ad(ad, d->n_ad, &adv.info) >= 0 &&
			      adv.info.kind != FG_FLIC2_ADV_OTHER;
	}
	if (!adv.from_ad) {
		const char *uuids[2];
		size_t n_uuids = 0;
		struct fg_flic2_adv_mfr mfr = { FG_FLIC2_COMPANY_ID, d->mfr, d->mfr_len };
		struct fg_flic2_adv_input in = {
			.uuids = uuids,
			.mfr = d->mfr ? &mfr : NULL,
			.n_mfr = d->mfr ? 1 : 0,
			.name = d->name,
		};

		if (d->flic_service)
			uuids[n_uuids++] = FG_FLIC2_SERVICE_UUID;
		if (d->twist_service)
			uuids[n_uuids++] = FG_FLIC_TWIST_SERVICE_UUID;
		in.n_uuids = n_uuids;
		(void)fg_flic2_adv_parse(&in, &adv.info);
	}
	d->ad_fresh = false;
	d->bz->ops->advertisement(d->bz->userdata, &adv);
}

/* React to what changed on a device (after adding it or a PropertiesChanged). */
static void device_changed(struct device *d, unsigned changed)
{
	if ((changed & CH_RESOLVED) && d->resolved && !d->connected) {
		/* services resolve on a live link only: a Connected signal went missing */
		d->connected = true;
		changed |= CH_CONNECTED;
	}
	if (changed & CH_CONNECTED) {
		if (!d->connected) {
			channel_close(d);
			d->resolved = false;
		} else if (d->foreground || d->wanted) {
			attempt_link_up(d);
		}
		if (device_is_flic(d) || d->wanted)
			device_sync_link(d, 0);
	}
	if ((changed & CH_RESOLVED) && !d->resolved && d->gatt != GATT_NONE && d->connected) {
		/*
		 * BlueZ clears ServicesResolved just before Connected when a
		 * link drops, and also on Service Changed. Close quietly:
		 * the Connected change reports the first case, and in the
		 * second the channel is set up again once services are
		 * resolved (READY is reported anew).
		 */
		channel_close(d);
	}
	if (changed & CH_ADV)
		report_adv(d);
	channel_setup(d);
}

/* ".../dev_80_E4_DA_70_12_34": the Address property says the same, first */
static void address_from_path(const char *path, uint8_t ret[6])
{
	const char *p = strrchr(path, '/');
	char buf[18];

	if (!p || strncmp(p, "/dev_", 5) != 0 || strlen(p + 5) != 17)
		return;
	memcpy(buf, p + 5, 18);
	for (int i = 2; i < 17; i += 3)
		buf[i] = ':';
	(void)fg_parse_address(buf, ret);
}

static struct device *device_new(struct fg_bluez *bz, const char *path)
{
	struct device *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->path = strdup(path);
	if (!d->path) {
		free(d);
		return NULL;
	}
	d->bz = bz;
	d->notify_fd = d->write_fd = -1;
	d->reported = FG_BLUEZ_LINK_DOWN;
	address_from_path(path, d->address);
	return d;
}

/* Device1 appeared (InterfacesAdded or the GetManagedObjects snapshot). */
static int add_device(struct fg_bluez *bz, const char *path, sd_bus_message *m)
{
	struct device *d = device_by_path(bz, path);
	unsigned changed = 0;
	bool fresh = false;
	int r;

	if (!bz->adapter || !path_is_under(path, bz->adapter->path))
		return sd_bus_message_skip(m, "a{sv}");
	if (!d) {
		d = device_new(bz, path);
		if (!d)
			return -ENOMEM;
		fresh = true;
	}
	r = parse_device_props(d, m, &changed);
	if (r < 0) {
		if (fresh)
			device_free(d);
		return r;
	}
	if (fresh) {
		d->next = bz->devices;
		bz->devices = d;
		filter_update(bz);
		/* a device object is created by an advertisement, but only RSSI proves one */
		if (!d->has_rssi)
			changed &= ~CH_ADV;
		changed |= d->connected ? CH_CONNECTED : 0;
		changed |= d->resolved ? CH_RESOLVED : 0;
		report_presence(d, true);
	}
	device_changed(d, changed);
	return 0;
}

enum {
	FLAG_WRITE_CMD = 1 << 0,	/* "write-without-response" */
	FLAG_NOTIFY = 1 << 1,		/* "notify" or "indicate" */
};

static int read_char_flags(sd_bus_message *m, unsigned *ret)
{
	const char *s;
	unsigned f = 0;
	int r;

	r = sd_bus_message_enter_container(m, 'v', "as");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	r = sd_bus_message_enter_container(m, 'a', "s");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read_basic(m, 's', &s)) > 0) {
		if (strcmp(s, "write-without-response") == 0)
			f |= FLAG_WRITE_CMD;
		else if (strcmp(s, "notify") == 0 || strcmp(s, "indicate") == 0)
			f |= FLAG_NOTIFY;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	*ret = f;
	return 0;
}

/* GattCharacteristic1 appeared under a device: keep the two we use. */
static int add_char(struct fg_bluez *bz, const char *path, sd_bus_message *m)
{
	struct device *d = device_owning(bz, path);
	char *uuid = NULL, **slot;
	/* without a Flags property, assume what a Flic 2 offers */
	unsigned flags = FLAG_WRITE_CMD | FLAG_NOTIFY, mtu = 0;
	int r;

	if (!d)
		return sd_bus_message_skip(m, "a{sv}");
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *s;
		bool ok;

		r = sd_bus_message_read_basic(m, 's', &key);
		if (r < 0)
			break;
		if (strcmp(key, "UUID") == 0) {
			r = read_variant_basic_or_skip(m, 's', &s, &ok);
			if (r >= 0 && ok) {
				free(uuid);
				uuid = strdup(s);
				if (!uuid)
					r = -ENOMEM;
			}
		} else if (strcmp(key, "Flags") == 0 && sd_bus_message_verify_type(m, 'v', "as") > 0) {
			r = read_char_flags(m, &flags);
		} else if (strcmp(key, "MTU") == 0) {
			uint16_t v;

			r = read_variant_basic_or_skip(m, 'q', &v, &ok);
			if (r >= 0 && ok)
				mtu = v;
		} else {
			r = sd_bus_message_skip(m, "v");
		}
		if (r < 0)
			break;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			break;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0 || !uuid) {
		free(uuid);
		return r;
	}
	if (strcasecmp(uuid, FG_FLIC2_WRITE_UUID) == 0) {
		slot = &d->write_path;
		d->write_cmd = flags & FLAG_WRITE_CMD;
	} else if (strcasecmp(uuid, FG_FLIC2_NOTIFY_UUID) == 0) {
		slot = &d->notify_path;
		d->can_notify = flags & FLAG_NOTIFY;
	} else {
		free(uuid);
		return 0;
	}
	free(uuid);
	free(*slot);
	*slot = strdup(path);
	if (!*slot)
		return -ENOMEM;
	if (mtu)
		d->char_mtu = mtu;
	channel_setup(d);
	return 0;
}

static void remove_char(struct fg_bluez *bz, const char *path)
{
	struct device *d = device_owning(bz, path);
	bool used;

	if (!d)
		return;
	used = (d->write_path && strcmp(d->write_path, path) == 0) ||
	       (d->notify_path && strcmp(d->notify_path, path) == 0);
	if (!used)
		return;
	if (d->write_path && strcmp(d->write_path, path) == 0) {
		free(d->write_path);
		d->write_path = NULL;
	} else {
		free(d->notify_path);
		d->notify_path = NULL;
	}
	if (d->gatt != GATT_NONE && d->gatt != GATT_FAILED && d->connected)
		channel_failed(d, -ENOENT);
}

/* ---- adapters --------------------------------------------------------------- */

static struct adapter *adapter_by_path(const struct fg_bluez *bz, const char *path)
{
	for (struct adapter *a = bz->adapters; a; a = a->next)
		if (strcmp(a->path, path) == 0)
			return a;
	return NULL;
}

static int parse_adapter_props(struct adapter *a, sd_bus_message *m, bool *ret_power_changed,
			       bool *ret_disc_changed)
{
	unsigned changed = 0;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key;

		r = sd_bus_message_read_basic(m, 's', &key);
		if (r < 0)
			return r;
		if (strcmp(key, "Powered") == 0)
			r = read_bool_prop(m, &a->powered, &changed, 1);
		else if (strcmp(key, "Discovering") == 0)
			r = read_bool_prop(m, &a->discovering, &changed, 2);
		else
			r = sd_bus_message_skip(m, "v");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	*ret_power_changed = changed & 1;
	*ret_disc_changed = changed & 2;
	return sd_bus_message_exit_container(m);
}

static int add_adapter(struct fg_bluez *bz, const char *path, sd_bus_message *m)
{
	struct adapter *a = adapter_by_path(bz, path);
	bool pc = false, dc = false;
	const char *slash;

	if (a)
		return parse_adapter_props(a, m, &pc, &dc);
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->path = strdup(path);
	if (!a->path) {
		free(a);
		return -ENOMEM;
	}
	slash = strrchr(a->path, '/');
	a->name = slash ? slash + 1 : a->path;
	a->next = bz->adapters;
	bz->adapters = a;
	return parse_adapter_props(a, m, &pc, &dc);
}

static void adapters_free(struct fg_bluez *bz)
{
	while (bz->adapters) {
		struct adapter *a = bz->adapters;

		bz->adapters = a->next;
		free(a->path);
		free(a);
	}
	bz->adapter = NULL;
}

/* "hci10" sorts after "hci9" */
static int adapter_cmp(const struct adapter *a, const struct adapter *b)
{
	size_t la = strlen(a->name), lb = strlen(b->name);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a->name, b->name);
}

static struct adapter *pick_adapter(const struct fg_bluez *bz)
{
	struct adapter *best = NULL;

	for (struct adapter *a = bz->adapters; a; a = a->next) {
		if (strcmp(bz->cfg->adapter, "auto") != 0) {
			if (strcmp(a->name, bz->cfg->adapter) == 0)
				return a;
			continue;
		}
		if (!best || adapter_cmp(a, best) < 0)
			best = a;
	}
	return best;
}

static int on_power_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);

	bz->power_slot = sd_bus_slot_unref(bz->power_slot);
	if (e && !bz->power_warned) {
		bz->power_warned = true;
		log_warning("Bluetooth: cannot power on %s: %s", bz->adapter ? bz->adapter->name : "the adapter",
			    e->message);
	}
	return 0;
}

static void power_update(struct fg_bluez *bz)
{
	int r;

	if (!bz->adapter || bz->adapter->powered || !bz->cfg->power_on || bz->power_slot ||
	    bz->power_warned)
		return;
	log_info("Bluetooth: powering on %s", bz->adapter->name);
	r = sd_bus_call_method_async(bz->bus, &bz->power_slot, BLUEZ_NAME, bz->adapter->path, IFACE_PROPS,
				     "Set", on_power_reply, bz, "ssv", IFACE_ADAPTER, "Powered", "b", 1);
	if (r < 0)
		log_warning_errno(r, "Bluetooth: cannot ask to power on %s: %m", bz->adapter->name);
}

/* Make the chosen adapter match the configuration; resync if it changes. */
static void select_adapter(struct fg_bluez *bz)
{
	struct adapter *a = pick_adapter(bz);

	if (a == bz->adapter) {
		power_update(bz);
		discovery_update(bz);
		report_state(bz);
		return;
	}
	/* leaving the old adapter: its devices and our discovery go with it */
	drop_all_devices(bz, -ENETDOWN);
	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	bz->power_slot = sd_bus_slot_unref(bz->power_slot);
	bz->discovery_active = false;
	bz->discovery_paused = false;
	bz->power_warned = false;
	bz->adapter = a;
	if (a) {
		bz->stats.adapter_changes++;
		log_info("Bluetooth: using adapter %s", a->name);
		/* its devices are in the snapshot we need to (re)read */
		if (bz->synced) {
			report_state(bz);
			(void)start_sync(bz);
			return;
		}
	}
	power_update(bz);
	discovery_update(bz);
	report_state(bz);
}

/* ---- discovery --------------------------------------------------------------- */

static int on_recheck_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int r;

	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	if (e && reply_errno(e) == -EINPROGRESS) {
		/* our session is alive: it was a restart inside BlueZ */
		discovery_update(bz);
		return 0;
	}
	if (e) {
		log_warning("Bluetooth: StartDiscovery failed: %s", e->message);
		bz->discovery_active = false;
		discovery_retry_later(bz);
		return 0;
	}
	/*
	 * It started a new session: the old one (and its filter) was gone.
	 * Put the filter back on the running session.
	 */
	log_info("Bluetooth: discovery session was lost, restarted it");
	r = call_set_filter(bz);
	if (r < 0)
		log_warning_errno(r, "Bluetooth: cannot call SetDiscoveryFilter: %m");
	return 0;
}

static int on_discovery_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fg_bluez *bz = userdata;
	int r;

	if (!bz->adapter || !bz->adapter->powered || bz->discovery_slot)
		return 0;
	if (!bz->discovery_active || foreground_pending(bz)) {
		discovery_update(bz);
		return 0;
	}
	/* re-check: is our session still there? */
	r = sd_bus_call_method_async(bz->bus, &bz->discovery_slot, BLUEZ_NAME, bz->adapter->path,
				     IFACE_ADAPTER, "StartDiscovery", on_recheck_reply, bz, "");
	if (r < 0) {
		bz->discovery_active = false;
		discovery_retry_later(bz);
	}
	return 0;
}

static void discovery_retry_later(struct fg_bluez *bz)
{
	int r;

	bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
	r = sd_event_add_time_relative(bz->event, &bz->discovery_timer, CLOCK_MONOTONIC,
				       DISCOVERY_RETRY_USEC, 0, on_discovery_timer, bz);
	if (r < 0)
		log_warning_errno(r, "Bluetooth: cannot arm the discovery retry timer: %m");
}

static int on_start_discovery(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);

	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	/* InProgress: our session is still there */
	if (e && reply_errno(e) != -EINPROGRESS) {
		log_warning("Bluetooth: StartDiscovery failed: %s", e->message);
		discovery_retry_later(bz);
		return 0;
	}
	if (!bz->discovery_active && !bz->discovery_paused)
		log_info("Bluetooth: scanning for Flic 2 buttons on %s", bz->adapter ? bz->adapter->name : "?");
	else if (bz->discovery_paused)
		log_debug("Bluetooth: discovery resumed");
	bz->discovery_active = true;
	bz->discovery_paused = false;
	filter_update(bz);
	/* a foreground connect may have started meanwhile */
	discovery_update(bz);
	return 0;
}

static int on_stop_discovery(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);

	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	/* "No discovery started": it was gone already, which is what we wanted */
	if (e)
		log_debug("Bluetooth: StopDiscovery: %s", e->message);
	/* the connect may be over already */
	discovery_update(bz);
	return 0;
}

static int on_set_filter(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int r;

	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	if (e) {
		log_warning("Bluetooth: SetDiscoveryFilter failed: %s", e->message);
		bz->discovery_active = false;
		discovery_retry_later(bz);
		return 0;
	}
	if (!bz->adapter)
		return 0;
	if (bz->discovery_active) {
		/* a filter change on the running session; another may be due */
		filter_update(bz);
		/* or a pause */
		discovery_update(bz);
		return 0;
	}
	if (foreground_pending(bz))
		return 0;	/* paused meanwhile: started when the connect is over */
	r = sd_bus_call_method_async(bz->bus, &bz->discovery_slot, BLUEZ_NAME, bz->adapter->path,
				     IFACE_ADAPTER, "StartDiscovery", on_start_discovery, bz, "");
	if (r < 0) {
		log_warning_errno(r, "Bluetooth: cannot call StartDiscovery: %m");
		discovery_retry_later(bz);
	}
	return 0;
}

/*
 * A watched address without a device object: BlueZ forgot a paired button
 * (removed by someone, or never stored). Its own advertisements do not
 * carry the Flic service UUID, so the usual filter would hide it forever.
 */
static bool needs_wide_filter(const struct fg_bluez *bz)
{
	for (size_t i = 0; i < bz->n_watch; i++)
		if (!device_by_address(bz, bz->watch[i]))
			return true;
	return false;
}

/*
 * Normally: LE only, only devices advertising the Flic 2 service (buttons
 * in public mode), and every advertisement reported (DuplicateData) so
 * that repeated ones are seen even when nothing in them changed. Paired
 * buttons are reached through their kept device objects (buttons.c). While
 * one of those objects is missing: every LE advertisement, duplicates
 * folded, until it is back. The filter belongs to our D-Bus connection
 * and dies with our discovery session.
 */
static int call_set_filter(struct fg_bluez *bz)
{
	sd_bus_message *m = NULL;
	int r;

	bool wide = needs_wide_filter(bz);

	r = sd_bus_message_new_method_call(bz->bus, &m, BLUEZ_NAME, bz->adapter->path, IFACE_ADAPTER,
					   "SetDiscoveryFilter");
	if (r >= 0 && !wide)
		r = sd_bus_message_append(m, "a{sv}", 3,
					  "UUIDs", "as", 1, FG_FLIC2_SERVICE_UUID,
					  "Transport", "s", "le",
					  "DuplicateData", "b", 1);
	else if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 2,
					  "Transport", "s", "le",
					  "DuplicateData", "b", 0);
	if (r >= 0)
		r = sd_bus_call_async(bz->bus, &bz->discovery_slot, m, on_set_filter, bz, CALL_TIMEOUT_USEC);
	sd_bus_message_unref(m);
	if (r >= 0 && wide)
		log_info("Bluetooth: a paired button has no BlueZ device: scanning for every LE advertisement until it shows");
	if (r >= 0)
		bz->filter_wide = wide;
	return r;
}

/* Switch the running session's filter when the need for the wide one changed. */
static void filter_update(struct fg_bluez *bz)
{
	int r;

	if (!bz->adapter || !bz->discovery_active || bz->discovery_slot || bz->loading ||
	    needs_wide_filter(bz) == bz->filter_wide)
		return;
	if (bz->filter_wide)
		log_info("Bluetooth: every paired button is known to BlueZ again: scanning for the Flic service only");
	r = call_set_filter(bz);
	if (r < 0)
		log_warning_errno(r, "Bluetooth: cannot call SetDiscoveryFilter: %m");
}

/*
 * Pause our discovery while a foreground connect is in flight: during an
 * LE discovery the kernel acts on a pending connection only at an
 * advertising report, and the controller's duplicate filter shows each
 * device once per scan window, so a connect asked for in reaction to that
 * one report would wait for the next window (docs/bluez.md). Without our
 * session (if it was the only one) the kernel scans passively for the
 * devices it has pending connections to and connects at once.
 */
static void discovery_pause(struct fg_bluez *bz, const char *why)
{
	int r;

	bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
	r = sd_bus_call_method_async(bz->bus, &bz->discovery_slot, BLUEZ_NAME, bz->adapter->path,
				     IFACE_ADAPTER, "StopDiscovery", on_stop_discovery, bz, "");
	if (r < 0) {
		log_warning_errno(r, "Bluetooth: cannot call StopDiscovery: %m");
		return;
	}
	log_debug("Bluetooth: discovery paused %s", why);
	/* BlueZ drops a session's filter with it: set again on resume */
	bz->discovery_active = false;
	bz->discovery_paused = true;
}

static void discovery_update(struct fg_bluez *bz)
{
	int r;

	if (!bz->adapter || !bz->adapter->powered) {
		bz->discovery_active = false;
		bz->discovery_paused = false;
		bz->rescan = false;
		bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
		bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
		return;
	}
	/* one call at a time; each reply calls this again */
	if (bz->discovery_slot || bz->loading)
		return;
	if (foreground_pending(bz)) {
		/* stopping anyway: the restart after the connect is the rescan */
		bz->rescan = false;
		if (bz->discovery_active)
			discovery_pause(bz, "while connecting");
		return;
	}
	if (bz->rescan && bz->discovery_active) {
		bz->rescan = false;
		discovery_pause(bz, "to hear every device afresh");
		return;
	}
	if (bz->discovery_active ||
	    (bz->discovery_timer && sd_event_source_get_enabled(bz->discovery_timer, NULL) > 0))
		return;
	r = call_set_filter(bz);
	if (r < 0) {
		log_warning_errno(r, "Bluetooth: cannot call SetDiscoveryFilter: %m");
		discovery_retry_later(bz);
	}
}

/*
 * bluetoothd tells of an advertisement only through a property change: a
 * device whose advertisement and RSSI stay the same (a button put in
 * public mode before the pairing window opened, a radio with a steady
 * RSSI) is heard but not announced again. A discovery session that ends
 * forgets the RSSI of what it found, so the next one announces every
 * device in range: stop ours and start it again (if ours is the only
 * session: another program's keeps the RSSI, and its own announcements).
 */
void fg_bluez_rescan(struct fg_bluez *bz)
{
	if (!bz->discovery_active && !bz->discovery_slot)
		return;
	bz->rescan = true;
	discovery_update(bz);
}

/* ---- signals and the snapshot ------------------------------------------------- */

/*
 * Walk an "a{sa{sv}}" (one object's interfaces). Pass 0 adapters, pass 1
 * devices, pass 2 characteristics: a device must be known before its
 * characteristics, an adapter before its devices, whatever order BlueZ
 * lists them in.
 */
static int add_object(struct fg_bluez *bz, const char *path, sd_bus_message *m, int pass)
{
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
	if (r < 0)
		return r;
	for (;;) {
		const char *iface;

		r = sd_bus_message_enter_container(m, 'e', "sa{sv}");
		if (r <= 0)
			break;
		r = sd_bus_message_read_basic(m, 's', &iface);
		if (r < 0)
			return r;
		if (pass == 0 && strcmp(iface, IFACE_ADAPTER) == 0)
			r = add_adapter(bz, path, m);
		else if (pass == 1 && strcmp(iface, IFACE_DEVICE) == 0)
			r = add_device(bz, path, m);
		else if (pass == 2 && strcmp(iface, IFACE_CHAR) == 0)
			r = add_char(bz, path, m);
		else
			r = sd_bus_message_skip(m, "a{sv}");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int walk_objects(struct fg_bluez *bz, sd_bus_message *m, int pass)
{
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		const char *path;

		r = sd_bus_message_read_basic(m, 'o', &path);
		if (r < 0)
			return r;
		r = add_object(bz, path, m, pass);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int on_managed_objects(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	const char *sender = sd_bus_message_get_sender(reply);
	int r;

	bz->sync_slot = sd_bus_slot_unref(bz->sync_slot);
	if (e) {
		if (reply_errno(e) == -ENETDOWN) {
			/* not running: NameOwnerChanged will tell us when it is */
			free(bz->owner);
			bz->owner = NULL;
		} else {
			log_warning("Bluetooth: GetManagedObjects failed: %s", e->message);
		}
		report_state(bz);
		return 0;
	}
	if (sender && (!bz->owner || strcmp(sender, bz->owner) != 0)) {
		char *o = strdup(sender);

		if (!o)
			return log_error_errno(-ENOMEM, "Bluetooth: out of memory"), 0;
		free(bz->owner);
		bz->owner = o;
		bz->had_owner = true;
	}

	/* the snapshot replaces what we had: forget devices, keep links reported by re-adding */
	drop_all_devices(bz, -ENETDOWN);
	adapters_free(bz);
	bz->synced = true;

	r = walk_objects(bz, reply, 0);
	if (r < 0)
		goto bad;
	bz->adapter = pick_adapter(bz);
	if (bz->adapter)
		log_info("Bluetooth: using adapter %s", bz->adapter->name);
	/* the adapter's state first: the owner may act on the links reported next */
	power_update(bz);
	report_state(bz);
	bz->loading = true;
	for (int pass = 1; pass <= 2; pass++) {
		r = sd_bus_message_rewind(reply, true);
		if (r >= 0)
			r = walk_objects(bz, reply, pass);
		if (r < 0)
			break;
	}
	bz->loading = false;
	if (r < 0)
		goto bad;
	/* links the owner already asked for, now that characteristics are known */
	for (struct device *d = bz->devices; d; d = d->next)
		channel_setup(d);
	/* after the devices: whether the wide filter is needed depends on them */
	discovery_update(bz);
	return 0;
bad:
	log_warning_errno(r, "Bluetooth: cannot parse GetManagedObjects: %m");
	report_state(bz);
	return 0;
}

static int start_sync(struct fg_bluez *bz)
{
	sd_bus_message *m = NULL;
	int r;

	bz->sync_slot = sd_bus_slot_unref(bz->sync_slot);
	r = sd_bus_message_new_method_call(bz->bus, &m, BLUEZ_NAME, "/", IFACE_OM, "GetManagedObjects");
	/* never start bluetoothd by asking: the system decides whether it runs */
	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, false);
	if (r >= 0)
		r = sd_bus_call_async(bz->bus, &bz->sync_slot, m, on_managed_objects, bz, CALL_TIMEOUT_USEC);
	sd_bus_message_unref(m);
	if (r < 0)
		log_warning_errno(r, "Bluetooth: cannot call GetManagedObjects: %m");
	return r;
}

static void bluez_gone(struct fg_bluez *bz)
{
	drop_all_devices(bz, -ENETDOWN);
	adapters_free(bz);
	bz->sync_slot = sd_bus_slot_unref(bz->sync_slot);
	bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
	bz->power_slot = sd_bus_slot_unref(bz->power_slot);
	bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
	bz->discovery_active = false;
	bz->discovery_paused = false;
	bz->filter_wide = false;
	bz->power_warned = false;
	bz->synced = false;
	free(bz->owner);
	bz->owner = NULL;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const char *name, *old, *new;
	int r;

	r = sd_bus_message_read(m, "sss", &name, &old, &new);
	if (r < 0 || strcmp(name, BLUEZ_NAME) != 0)
		return 0;
	if (bz->owner && (!*new || strcmp(bz->owner, new) != 0)) {
		log_warning("Bluetooth: bluetoothd %s", *new ? "was replaced" : "went away");
		bluez_gone(bz);
	}
	if (*new && !bz->owner) {
		bz->owner = strdup(new);
		if (!bz->owner)
			return log_error_errno(-ENOMEM, "Bluetooth: out of memory"), 0;
		if (bz->had_owner)
			bz->stats.bluetoothd_restarts++;
		log_notice("Bluetooth: bluetoothd is %s", bz->had_owner ? "back" : "up");
		bz->had_owner = true;
		/* its state is reported once the snapshot is read */
		(void)start_sync(bz);
		return 0;
	}
	report_state(bz);
	return 0;
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const char *path;
	bool known;
	int r;

	if (!from_bluez(bz, m) || !bz->synced)
		return 0;
	r = sd_bus_message_read_basic(m, 'o', &path);
	if (r < 0)
		goto bad;
	known = adapter_by_path(bz, path) != NULL;
	/* one object, but still: adapter first, then device, then characteristic */
	for (int pass = 0; pass <= 2; pass++) {
		if (pass > 0) {
			r = sd_bus_message_rewind(m, true);
			if (r >= 0)
				r = sd_bus_message_read_basic(m, 'o', &path);
			if (r < 0)
				goto bad;
		}
		r = add_object(bz, path, m, pass);
		if (r < 0)
			goto bad;
		if (pass == 0 && !known && adapter_by_path(bz, path)) {
			log_info("Bluetooth: adapter %s appeared", adapter_by_path(bz, path)->name);
			select_adapter(bz);
		}
	}
	return 0;
bad:
	log_debug_errno(r, "Bluetooth: ignoring a malformed InterfacesAdded: %m");
	return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const char *path, *iface;
	int r;

	if (!from_bluez(bz, m) || !bz->synced)
		return 0;
	r = sd_bus_message_read_basic(m, 'o', &path);
	if (r < 0)
		return 0;
	r = sd_bus_message_enter_container(m, 'a', "s");
	if (r < 0)
		return 0;
	while (sd_bus_message_read_basic(m, 's', &iface) > 0) {
		if (strcmp(iface, IFACE_DEVICE) == 0) {
			struct device *d = device_by_path(bz, path);

			if (d)
				device_drop(bz, d, -ENODEV);
		} else if (strcmp(iface, IFACE_CHAR) == 0) {
			remove_char(bz, path);
		} else if (strcmp(iface, IFACE_ADAPTER) == 0) {
			struct adapter *a = adapter_by_path(bz, path), **pp;

			if (!a)
				continue;
			log_warning("Bluetooth: adapter %s went away", a->name);
			for (pp = &bz->adapters; *pp; pp = &(*pp)->next)
				if (*pp == a) {
					*pp = a->next;
					break;
				}
			if (bz->adapter == a) {
				drop_all_devices(bz, -ENETDOWN);
				bz->adapter = NULL;
				bz->discovery_slot = sd_bus_slot_unref(bz->discovery_slot);
				bz->power_slot = sd_bus_slot_unref(bz->power_slot);
				bz->discovery_timer = sd_event_source_disable_unref(bz->discovery_timer);
				bz->discovery_active = false;
				bz->discovery_paused = false;
			}
			free(a->path);
			free(a);
			select_adapter(bz);
		}
	}
	return 0;
}

static int on_char_value(struct device *d, sd_bus_message *m)
{
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key;

		r = sd_bus_message_read_basic(m, 's', &key);
		if (r < 0)
			return r;
		if (strcmp(key, "Value") == 0 && sd_bus_message_verify_type(m, 'v', "ay") > 0) {
			uint8_t *buf = NULL;
			size_t n = 0;

			r = read_variant_bytes(m, &buf, &n);
			if (r < 0)
				return r;
			if (n > 0)
				deliver(d, buf, n);
			free(buf);
			/* the callback may have closed the channel; stop here */
			return 0;
		}
		r = sd_bus_message_skip(m, "v");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	return r;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_bluez *bz = userdata;
	const char *path = sd_bus_message_get_path(m), *iface, *inv;
	int r;

	if (!from_bluez(bz, m) || !bz->synced || !path)
		return 0;
	r = sd_bus_message_read_basic(m, 's', &iface);
	if (r < 0)
		return 0;

	if (strcmp(iface, IFACE_DEVICE) == 0) {
		struct device *d = device_by_path(bz, path);
		unsigned changed = 0;

		if (!d)
			return 0;
		r = parse_device_props(d, m, &changed);
		if (r >= 0 && sd_bus_message_enter_container(m, 'a', "s") > 0) {
			while (sd_bus_message_read_basic(m, 's', &inv) > 0) {
				if (strcmp(inv, "RSSI") == 0) {
					d->has_rssi = false;
				} else if (strcmp(inv, "ManufacturerData") == 0) {
					free(d->mfr);
					d->mfr = NULL;
					d->mfr_len = 0;
				}
			}
		}
		if (r < 0)
			log_debug_errno(r, "Bluetooth: ignoring a malformed PropertiesChanged: %m");
		device_changed(d, changed);
	} else if (strcmp(iface, IFACE_CHAR) == 0) {
		struct device *d = device_owning(bz, path);

		if (d && d->gatt == GATT_READY && d->notify_by_signal && d->notify_path &&
		    strcmp(d->notify_path, path) == 0)
			(void)on_char_value(d, m);
	} else if (strcmp(iface, IFACE_ADAPTER) == 0) {
		struct adapter *a = adapter_by_path(bz, path);
		bool pc = false, dc = false;

		if (!a)
			return 0;
		r = parse_adapter_props(a, m, &pc, &dc);
		if (r < 0 || a != bz->adapter)
			return 0;
		if (pc && !a->powered) {
			/* power off ends every link and every discovery session */
			bz->discovery_active = false;
			bz->discovery_paused = false;
			bz->power_warned = false;
			log_warning("Bluetooth: adapter %s was powered off", a->name);
		}
		if (dc && !a->discovering && bz->discovery_active && a->powered) {
			/*
			 * Discovering dropped while powered: BlueZ restarts
			 * scanning briefly when filters change, or our
			 * session is gone. Ask again shortly; InProgress
			 * tells us it was the former.
			 */
			log_debug("Bluetooth: discovery stopped on %s, re-checking", a->name);
			discovery_retry_later(bz);
		}
		power_update(bz);
		discovery_update(bz);
		report_state(bz);
	}
	return 0;
}

/* ---- lifecycle --------------------------------------------------------------------- */

int fg_bluez_new(sd_event *event, sd_bus *bus, const struct fg_bluetooth_config *cfg,
		 const struct fg_bluez_ops *ops, void *userdata, struct fg_bluez **ret)
{
	struct fg_bluez *bz;
	int r;

	bz = calloc(1, sizeof(*bz));
	if (!bz)
		return -ENOMEM;
	bz->event = sd_event_ref(event);
	bz->bus = sd_bus_ref(bus);
	bz->cfg = cfg;
	bz->ops = ops;
	bz->userdata = userdata;
	/* force the first report */
	bz->state = _FG_BLUEZ_STATE_MAX;

	r = sd_bus_match_signal_async(bus, &bz->owner_match, "org.freedesktop.DBus", "/org/freedesktop/DBus",
				      "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed,
				      NULL, bz);
	if (r >= 0)
		r = sd_bus_match_signal_async(bus, &bz->added_match, BLUEZ_NAME, NULL, IFACE_OM,
					      "InterfacesAdded", on_interfaces_added, NULL, bz);
	if (r >= 0)
		r = sd_bus_match_signal_async(bus, &bz->removed_match, BLUEZ_NAME, NULL, IFACE_OM,
					      "InterfacesRemoved", on_interfaces_removed, NULL, bz);
	if (r >= 0)
		r = sd_bus_match_signal_async(bus, &bz->props_match, BLUEZ_NAME, NULL, IFACE_PROPS,
					      "PropertiesChanged", on_properties_changed, NULL, bz);
	if (r < 0) {
		log_error_errno(r, "Failed to subscribe to BlueZ signals: %m");
		fg_bluez_free(bz);
		return r;
	}
	/*
	 * The AddMatch calls above are queued before this one, and the bus
	 * handles one connection's messages in order: nothing emitted after
	 * the snapshot is missed.
	 */
	r = start_sync(bz);
	if (r < 0) {
		fg_bluez_free(bz);
		return r;
	}
	*ret = bz;
	return 0;
}

struct fg_bluez *fg_bluez_free(struct fg_bluez *bz)
{
	if (!bz)
		return NULL;
	while (bz->devices) {
		struct device *d = bz->devices;

		bz->devices = d->next;
		device_free(d);
	}
	adapters_free(bz);
	sd_bus_slot_unref(bz->owner_match);
	sd_bus_slot_unref(bz->added_match);
	sd_bus_slot_unref(bz->removed_match);
	sd_bus_slot_unref(bz->props_match);
	sd_bus_slot_unref(bz->sync_slot);
	sd_bus_slot_unref(bz->power_slot);
	sd_bus_slot_unref(bz->discovery_slot);
	sd_event_source_disable_unref(bz->discovery_timer);
	free(bz->owner);
	free(bz->reported_adapter);
	free(bz->watch);
	sd_bus_unref(bz->bus);
	sd_event_unref(bz->event);
	free(bz);
	return NULL;
}

int fg_bluez_set_config(struct fg_bluez *bz, const struct fg_bluetooth_config *cfg)
{
	bz->cfg = cfg;
	bz->power_warned = false;
	if (bz->synced)
		select_adapter(bz);
	return 0;
}

enum fg_bluez_state fg_bluez_get_state(const struct fg_bluez *bz)
{
	return compute_state(bz);
}

const char *fg_bluez_adapter_name(const struct fg_bluez *bz)
{
	return bz->adapter ? bz->adapter->name : NULL;
}

void fg_bluez_get_stats(const struct fg_bluez *bz, struct fg_bluez_stats *ret)
{
	*ret = bz->stats;
}
