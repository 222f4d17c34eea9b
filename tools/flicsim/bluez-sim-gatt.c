/* SPDX-License-Identifier: MIT */
/* The Flic service's characteristics and descriptors as a BlueZ GATT client
 * shows them: WriteValue, StartNotify and the AcquireWrite/AcquireNotify
 * socket paths, and the button's notifications going out through them. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bluez-sim-internal.h"
#include "lib/bus-props.h"
#include "lib/log.h"

static int on_write_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct dev *d = userdata;
	uint8_t buf[512];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			d->values_written++;
			d->bz->stats.writes++;
			/* Out of range, the write never reaches the button. */
			if (fs_button_in_range(d->btn) &&
			    fs_button_att_write(d->btn, buf, (size_t)n) == -EMSGSIZE)
				log_warning("%s: dropping a %zd-byte write over the ATT MTU",
					    fs_button_address(d->btn), n);
			if (d->write_fd != fd)
				return 0;	/* the write ended the link */
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		break;
	}
	log_debug("%s: AcquireWrite fd closed by the client", fs_button_address(d->btn));
	bz_close_write_fd(d, true);
	return 0;
}

static int on_notify_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct dev *d = userdata;
	uint8_t buf[16];

	if (!(revents & (EPOLLHUP | EPOLLERR)) && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) != 0)
		return 0;
	log_debug("%s: AcquireNotify fd closed by the client", fs_button_address(d->btn));
	bz_close_notify_fd(d, true);
	return 0;
}

static int acquire(struct dev *d, sd_bus_message *m, bool notify)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return sd_bus_reply_method_errorf(m, E_FAILED, "%s", strerror(errno));
	r = sd_event_add_io(d->bz->event, notify ? &d->notify_io : &d->write_io, sv[0],
			    EPOLLIN, notify ? on_notify_io : on_write_io, d);
	if (r < 0) {
		close(sv[0]);
		close(sv[1]);
		return sd_bus_reply_method_errorf(m, E_FAILED, "%s", strerror(-r));
	}
	if (notify)
		d->notify_fd = sv[0];
	else
		d->write_fd = sv[0];
	r = sd_bus_reply_method_return(m, "hq", sv[1], d->bz->cfg.mtu);
	close(sv[1]);
	if (notify)
		bz_emit_changed(d->bz, d->gatt_notify, IFACE_CHAR, "NotifyAcquired", "Notifying", NULL);
	else
		bz_emit_changed(d->bz, d->gatt_write, IFACE_CHAR, "WriteAcquired", NULL);
	log_debug("%s: %s acquired (fd, MTU %u)", fs_button_address(d->btn),
		  notify ? "notify" : "write", d->bz->cfg.mtu);
	return r;
}

int fs_bluez_notify(struct fs_bluez *bz, struct fs_button *btn, const uint8_t *att, size_t len)
{
	struct dev *d = bz_find_dev_by_button(bz, btn);

	if (!d || !d->connected || !d->gatt_exported)
		return -ENOTCONN;
	if (!fs_button_in_range(btn))
		return -EHOSTUNREACH;	/* lost until the link times out */
	if (d->notify_fd >= 0) {
		if (send(d->notify_fd, att, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			return -errno == -EAGAIN ? -ENOBUFS : -errno;
	} else if (sd_bus_track_count(d->notify_track) > 0) {
		memcpy(d->value, att, len);
		d->value_len = len;
		bz_emit_changed(bz, d->gatt_notify, IFACE_CHAR, "Value", NULL);
	} else {
		return -ENOTCONN;
	}
	d->values_notified++;
	bz->stats.notifications++;
	return 0;
}

static int skip_options(sd_bus_message *m)
{
	int r = sd_bus_message_skip(m, "a{sv}");

	return r < 0 ? -EINVAL : 0;
}

static int on_notify_track_empty(sd_bus_track *t, void *userdata)
{
	struct dev *d = userdata;

	d->notify_track = sd_bus_track_unref(d->notify_track);
	bz_emit_changed(d->bz, d->gatt_notify, IFACE_CHAR, "Notifying", NULL);
	return 0;
}

/* WriteValue's options: "type" (a pointer into the message) at @base. */
static int read_write_type(sd_bus_message *m, void *base, void *userdata)
{
	return sd_bus_message_read_basic(m, 's', base);
}

static const struct fg_bus_prop write_options[] = {
	FG_BUS_PROP_FN("type", "s", read_write_type, 0),
	{}
};

int bz_char_method(struct dev *d, bool notify, sd_bus_message *m, const char *member)
{
	const char *sender = sd_bus_message_get_sender(m);
	int r;

	if (strcmp(member, "ReadValue") == 0) {
		if (skip_options(m) < 0)
			return bz_err(m, E_INVALIDARGS, "Invalid arguments in method call");
		return bz_err(m, E_NOTPERMITTED, "Read not permitted");
	}
	if (strcmp(member, "WriteValue") == 0) {
		const void *val;
		size_t len;
		const char *type = NULL;

		r = sd_bus_message_read_array(m, 'y', &val, &len);
		if (r < 0)
			return bz_err(m, E_INVALIDARGS, "Invalid arguments in method call");
		r = fg_bus_props_read(m, write_options, FG_BUS_PROPS_STRICT, NULL, &type, NULL, NULL);
		if (r < 0)
			return bz_err(m, E_INVALIDARGS, "Invalid arguments in method call");
		if (notify)
			return bz_err(m, E_NOTPERMITTED, "Write not permitted");
		if (d->write_fd >= 0)
			return bz_err(m, E_NOTPERMITTED, "Write acquired");
		/* Only write-without-response: "request" and "reliable" are refused. */
		if (type && strcmp(type, "command") != 0)
			return bz_err(m, E_NOTSUPPORTED, "Operation is not supported");
		if (len > (size_t)d->bz->cfg.mtu - 3)
			return bz_err(m, E_FAILED, "Failed to initiate write");
		d->values_written++;
		d->bz->stats.writes++;
		r = bz_reply_ok(m);
		if (fs_button_in_range(d->btn))
			fs_button_att_write(d->btn, val, len);
		return r;
	}
	if (strcmp(member, "AcquireWrite") == 0) {
		if (skip_options(m) < 0)
			return bz_err(m, E_INVALIDARGS, "Invalid arguments in method call");
		if (notify)
			return bz_err(m, E_NOTSUPPORTED, "Operation is not supported");
		if (d->write_fd >= 0)
			return bz_err(m, E_NOTPERMITTED, "Write acquired");
		return acquire(d, m, false);
	}
	if (strcmp(member, "AcquireNotify") == 0) {
		if (skip_options(m) < 0)
			return bz_err(m, E_INVALIDARGS, "Invalid arguments in method call");
		if (!notify)
			return bz_err(m, E_NOTSUPPORTED, "Operation is not supported");
		if (d->notify_fd >= 0)
			return bz_err(m, E_NOTPERMITTED, "Notify acquired");
		if (sd_bus_track_count(d->notify_track) > 0)
			return bz_err(m, E_INPROGRESS, "In Progress");
		return acquire(d, m, true);
	}
	if (strcmp(member, "StartNotify") == 0) {
		bool was;

		if (!notify)
			return bz_err(m, E_NOTSUPPORTED, "Operation is not supported");
		if (d->notify_fd >= 0)
			return bz_err(m, E_NOTPERMITTED, "Notify acquired");
		was = sd_bus_track_count(d->notify_track) > 0;
		if (!d->notify_track &&
		    sd_bus_track_new(d->bz->bus, &d->notify_track, on_notify_track_empty, d) < 0)
			return bz_err(m, E_FAILED, "Out of memory");
		if (sd_bus_track_count_name(d->notify_track, sender) > 0)
			return bz_reply_ok(m);	/* already notifying for this client */
		if (sd_bus_track_add_name(d->notify_track, sender) < 0)
			return bz_err(m, E_FAILED, "Failed to subscribe");
		r = bz_reply_ok(m);
		if (!was)
			bz_emit_changed(d->bz, d->gatt_notify, IFACE_CHAR, "Notifying", NULL);
		log_debug("%s: notifications on for %s", fs_button_address(d->btn), sender);
		return r;
	}
	if (strcmp(member, "StopNotify") == 0) {
		if (!notify)
			return bz_err(m, E_NOTSUPPORTED, "Operation is not supported");
		if (sd_bus_track_count_name(d->notify_track, sender) <= 0)
			return bz_err(m, E_FAILED, "No notify session started");
		sd_bus_track_remove_name(d->notify_track, sender);
		return bz_reply_ok(m);
	}
	if (strcmp(member, "Confirm") == 0)
		return bz_reply_ok(m);
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s", member);
}

/* Service Changed: indications can be switched on; the button never sends one. */
int bz_svc_changed_method(struct dev *d, sd_bus_message *m, const char *member)
{
	bool on;
	int r;

	if (strcmp(member, "ReadValue") == 0)
		return bz_err(m, E_NOTPERMITTED, "Read not permitted");
	if (strcmp(member, "WriteValue") == 0)
		return bz_err(m, E_NOTPERMITTED, "Write not permitted");
	if (strcmp(member, "AcquireWrite") == 0 || strcmp(member, "AcquireNotify") == 0)
		return bz_err(m, E_NOTSUPPORTED, "Operation is not supported");
	if (strcmp(member, "StartNotify") == 0 || strcmp(member, "StopNotify") == 0) {
		on = member[2] == 'a';
		if (!on && !d->sc_indicating)
			return bz_err(m, E_FAILED, "No notify session started");
		r = bz_reply_ok(m);
		if (d->sc_indicating != on) {
			d->sc_indicating = on;
			bz_emit_changed(d->bz, d->gatt_sc, IFACE_CHAR, "Notifying", NULL);
		}
		return r;
	}
	if (strcmp(member, "Confirm") == 0)
		return bz_reply_ok(m);
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s", member);
}

int bz_desc_method(struct dev *d, sd_bus_message *m, const char *member)
{
	if (strcmp(member, "ReadValue") == 0) {
		__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
		uint8_t ccc[2] = { bz_notifying(d), 0 };
		int r;

		if (skip_options(m) < 0)
			return bz_err(m, E_INVALIDARGS, "Invalid arguments in method call");
		r = sd_bus_message_new_method_return(m, &reply);
		if (r >= 0)
			r = sd_bus_message_append_array(reply, 'y', ccc, 2);
		return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
	}
	if (strcmp(member, "WriteValue") == 0)
		/* BlueZ keeps the CCC to itself: StartNotify/StopNotify. */
		return bz_err(m, E_NOTPERMITTED, "Write not permitted");
	return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD,
					  "Unknown method %s", member);
}
