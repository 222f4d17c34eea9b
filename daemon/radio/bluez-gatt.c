/* SPDX-License-Identifier: MIT */
/*
 * The Flic 2 GATT characteristics and the packet channel over them:
 * AcquireWrite/AcquireNotify fds on the event loop, or WriteValue and
 * StartNotify + PropertiesChanged when BlueZ refuses the fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "radio/bluez-private.h"
#include "lib/bus-props.h"
#include "lib/log.h"

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

void bluez_channel_close(struct device *d)
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

	log_info("Bluetooth: %s: packet channel failed: %s", bluez_fmt_addr(d->address, a), strerror(-error));
	bluez_channel_close(d);
	d->gatt = GATT_FAILED;
	d->bz->channel_changed(d, error);
}

static void deliver(struct device *d, const uint8_t *data, size_t len)
{
	d->bz->stats.notifications++;
	if (d->bz->ops->notification)
		d->bz->ops->notification(d->bz, d->address, data, len, d->bz->userdata);
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
		  bluez_fmt_addr(d->address, a), d->mtu, d->write_by_call ? "WriteValue" : "fd",
		  d->notify_by_signal ? "StartNotify" : "fd");
	d->bz->channel_changed(d, 0);
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
		log_info("Bluetooth: %s: StartNotify failed: %s", bluez_fmt_addr(d->address, a), e->message);
		channel_failed(d, bluez_reply_errno(e) == -ENODEV ? -ENOENT : -EIO);
		return 0;
	}
	d->notify_by_signal = true;
	d->notify_ok = true;
	maybe_channel_ready(d);
	return 0;
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
		log_debug("Bluetooth: %s: %s refused (%s), using %s", bluez_fmt_addr(d->address, a), what,
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
		log_warning_errno(r, "Bluetooth: %s: bad %s reply: %m", bluez_fmt_addr(d->address, a), what);
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
void bluez_channel_setup(struct device *d)
{
	char a[18];
	int r;

	if (!d->wanted || !d->connected || !d->resolved || d->gatt != GATT_NONE || d->bz->loading)
		return;
	if (!d->write_path || !d->notify_path) {
		log_info("Bluetooth: %s: services resolved but the Flic 2 characteristics are missing",
			 bluez_fmt_addr(d->address, a));
		d->gatt = GATT_FAILED;
		d->bz->channel_changed(d, -ENOENT);
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
	log_warning_errno(r, "Bluetooth: %s: cannot set up the packet channel: %m", bluez_fmt_addr(d->address, a));
	channel_failed(d, -EIO);
}

int fg_bluez_write(struct fg_bluez *bz, const uint8_t address[6], const uint8_t *data, size_t len)
{
	struct device *d = bluez_device_by_address(bz, address);
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

static int read_value(sd_bus_message *m, void *base, void *userdata)
{
	struct device *d = base;
	const void *p;
	size_t n;
	int r;

	r = sd_bus_message_read_array(m, 'y', &p, &n);
	if (r < 0)
		return r;
	if (n > 0)
		deliver(d, p, n);
	/* the callback may have closed the channel: stop here */
	return -ECANCELED;
}

static const struct fg_bus_prop char_value_props[] = {
	FG_BUS_PROP_FN("Value", "ay", read_value, 0),
	{ 0 },
};

int bluez_on_char_value(struct device *d, sd_bus_message *m)
{
	int r = fg_bus_props_read(m, char_value_props, 0, NULL, d, NULL, NULL);

	return r == -ECANCELED ? 0 : r;
}

enum {
	FLAG_WRITE_CMD = 1 << 0,	/* "write-without-response" */
	FLAG_NOTIFY = 1 << 1,		/* "notify" or "indicate" */
};

/* A GattCharacteristic1 as add_char() needs it. */
struct char_props {
	char *uuid;
	unsigned flags;			/* FLAG_* */
	uint16_t mtu;
};

static int read_char_flags(sd_bus_message *m, void *base, void *userdata)
{
	struct char_props *c = base;
	const char *s;
	unsigned f = 0;
	int r;

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
	if (r < 0)
		return r;
	c->flags = f;
	return 0;
}

static const struct fg_bus_prop char_props[] = {
	FG_BUS_PROP("UUID", "s", struct char_props, uuid, 0),
	FG_BUS_PROP_FN("Flags", "as", read_char_flags, 0),
	FG_BUS_PROP("MTU", "q", struct char_props, mtu, 0),
	{ 0 },
};

/* GattCharacteristic1 appeared under a device: keep the two we use. */
int bluez_add_char(struct fg_bluez *bz, const char *path, sd_bus_message *m)
{
	struct device *d = bluez_device_owning(bz, path);
	/* without a Flags property, assume what a Flic 2 offers */
	struct char_props c = { .flags = FLAG_WRITE_CMD | FLAG_NOTIFY };
	const char *uuid;
	char **slot;
	unsigned flags;
	unsigned mtu;
	int r;

	if (!d)
		return sd_bus_message_skip(m, "a{sv}");
	r = fg_bus_props_read(m, char_props, 0, NULL, &c, NULL, NULL);
	uuid = c.uuid;
	flags = c.flags;
	mtu = c.mtu;
	if (r < 0 || !uuid) {
		fg_bus_props_clear(char_props, &c);
		return r;
	}
	if (strcasecmp(uuid, FG_FLIC2_WRITE_UUID) == 0) {
		slot = &d->write_path;
		d->write_cmd = flags & FLAG_WRITE_CMD;
	} else if (strcasecmp(uuid, FG_FLIC2_NOTIFY_UUID) == 0) {
		slot = &d->notify_path;
		d->can_notify = flags & FLAG_NOTIFY;
	} else {
		fg_bus_props_clear(char_props, &c);
		return 0;
	}
	fg_bus_props_clear(char_props, &c);
	free(*slot);
	*slot = strdup(path);
	if (!*slot)
		return -ENOMEM;
	if (mtu)
		d->char_mtu = mtu;
	/*
	 * BlueZ may announce ServicesResolved before the characteristics'
	 * objects reach us: a set-up refused for want of them is tried again
	 * once both are there, on the same link.
	 */
	if (d->gatt == GATT_FAILED && d->connected && d->write_path && d->notify_path)
		d->gatt = GATT_NONE;
	bluez_channel_setup(d);
	return 0;
}

void bluez_remove_char(struct fg_bluez *bz, const char *path)
{
	struct device *d = bluez_device_owning(bz, path);
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
