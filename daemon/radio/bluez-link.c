/* SPDX-License-Identifier: MIT */
/*
 * Links: Connect/Disconnect, the attempt's deadline (and our discovery
 * paused for a foreground connect), and link changes told to the owner.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "radio/bluez-private.h"
#include "lib/log.h"
#include "lib/macro.h"

static const char *const link_names[_FG_BLUEZ_LINK_MAX] = {
	[FG_BLUEZ_LINK_DOWN] = "down",
	[FG_BLUEZ_LINK_CONNECTED] = "connected",
	[FG_BLUEZ_LINK_READY] = "ready",
};

FG_DEFINE_STRING_TABLE_TO(static, link, enum fg_bluez_link, link_names)

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
				bluez_fmt_addr(d->address, a));
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
		bluez_discovery_update(d->bz);
}

/*
 * The link is up: discovery may run again, and the packet channel gets
 * [bluetooth] connect_timeout to be ready (services resolved, the Flic
 * characteristics found, Acquire* answered), whoever made the link.
 */
static void attempt_link_up(struct device *d)
{
	bool was_foreground = d->foreground;
	uint64_t now = bluez_now_usec(d->bz);

	d->foreground = false;
	d->extended = false;
	if (d->wanted && d->gatt != GATT_READY) {
		d->attempt_start = now;
		d->attempt_timeout = d->bz->config->bluetooth.connect_timeout_usec;
		attempt_arm(d, now + d->attempt_timeout);
	} else {
		d->attempt_timer = sd_event_source_disable_unref(d->attempt_timer);
	}
	if (was_foreground)
		bluez_discovery_update(d->bz);
}

/*
 * We are about to end a live link: the button stays where it is and goes
 * on advertising, so our discovery reports it in this window at once and
 * the kernel would hold the next connect until the window ends.
 */
static void note_drop(struct device *d)
{
	if (d->connected)
		d->dropped_at = bluez_now_usec(d->bz);
}

/* Give up on a device's link: cancel inside bluetoothd, tell the owner DOWN. */
static void attempt_abandon(struct device *d, int error)
{
	note_drop(d);
	d->connect_slot = sd_bus_slot_unref(d->connect_slot);
	bluez_channel_close(d);
	/* also cancels a connection attempt still pending in bluetoothd and the kernel */
	(void)sd_bus_call_method_async(d->bz->bus, NULL, BLUEZ_NAME, d->path, IFACE_DEVICE,
				       "Disconnect", NULL, NULL, "");
	bluez_device_report(d, FG_BLUEZ_LINK_DOWN, error);
}

static int on_attempt_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct device *d = userdata;
	struct fg_bluez *bz = d->bz;
	char a[18], t[FG_DURATION_BUF];

	d->attempt_timer = sd_event_source_disable_unref(d->attempt_timer);
	bluez_fmt_addr(d->address, a);
	fg_format_duration(bluez_now_usec(bz) - d->attempt_start, t, sizeof(t));
	if (!d->connected) {
		if (fg_scan_extend_connect(d->foreground, d->extended, bz->adapter && bz->adapter->discovering)) {
			/*
			 * Someone's discovery still runs (another program's, or
			 * ours not stopped yet): the kernel may be holding the
			 * connection until its scan window ends.
			 */
			d->extended = true;
			log_info("Bluetooth: %s: not connected after %s while a discovery runs on %s: "
				 "allowing one more discovery window (10.24 s)", a, t, bz->adapter->name);
			attempt_arm(d, d->attempt_start + d->attempt_timeout + FG_SCAN_WINDOW_USEC);
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

void bluez_device_report(struct device *d, enum fg_bluez_link l, int error)
{
	char a[18];

	d->reported = l;
	log_debug("Bluetooth: %s: link %s%s%s", bluez_fmt_addr(d->address, a), link_to_string(l),
		  error ? ": " : "", error ? strerror(-error) : "");
	if (l == FG_BLUEZ_LINK_DOWN) {
		d->wanted = false;
		attempt_end(d);
	}
	if (d->bz->ops->link_changed)
		d->bz->ops->link_changed(d->bz, d->address, l, error,
					 l == FG_BLUEZ_LINK_READY ? d->mtu : 0, d->bz->userdata);
}

/*
 * Report the link state derived from the device's properties, once per
 * change. @error qualifies the report (why DOWN, why GATT failed); a
 * failed channel is news even though the link stays CONNECTED.
 */
void bluez_device_sync_link(struct device *d, int error)
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
	bluez_device_report(d, l, error);
}

/*
 * The packet channel became ready (the attempt is over) or failed (the
 * owner hears it on a link that stays CONNECTED).
 */
void bluez_link_channel_changed(struct device *d, int error)
{
	if (d->gatt == GATT_READY)
		attempt_end(d);
	bluez_device_sync_link(d, error);
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
				  bluez_fmt_addr(d->address, a));
			d->connected = true;
			bluez_device_changed(d, CH_CONNECTED);
		}
		return 0;
	}
	r = bluez_reply_errno(e);
	if (r == -EALREADY || r == -EINPROGRESS)
		return 0;
	d->bz->stats.connect_failures++;
	log_info("Bluetooth: %s: connect failed: %s", bluez_fmt_addr(d->address, a), e->message);
	if (r == -ETIMEDOUT) {
		/* cancel the attempt still pending inside bluetoothd/the kernel */
		(void)sd_bus_call_method_async(d->bz->bus, NULL, BLUEZ_NAME, d->path, IFACE_DEVICE,
					       "Disconnect", NULL, NULL, "");
	} else if (r != -ENODEV && r != -ENETDOWN) {
		r = -ECONNREFUSED;
	}
	/* DOWN even though it was never up: the attempt is over */
	if (!d->connected)
		bluez_device_report(d, FG_BLUEZ_LINK_DOWN, r);
	return 0;
}

/* React to what changed on a device (after adding it or a PropertiesChanged). */
void bluez_device_changed(struct device *d, unsigned changed)
{
	if ((changed & CH_RESOLVED) && d->resolved && !d->connected) {
		/* services resolve on a live link only: a Connected signal went missing */
		d->connected = true;
		changed |= CH_CONNECTED;
	}
	if (changed & CH_CONNECTED) {
		if (!d->connected) {
			bluez_channel_close(d);
			d->resolved = false;
		} else if (d->foreground || d->wanted) {
			attempt_link_up(d);
		}
		if (bluez_device_is_flic(d) || d->wanted)
			bluez_device_sync_link(d, 0);
	}
	if ((changed & CH_RESOLVED) && !d->resolved && d->gatt != GATT_NONE && d->connected) {
		/*
		 * BlueZ clears ServicesResolved just before Connected when a
		 * link drops, and also on Service Changed. Close quietly:
		 * the Connected change reports the first case, and in the
		 * second the channel is set up again once services are
		 * resolved (READY is reported anew).
		 */
		bluez_channel_close(d);
	}
	if (changed & CH_ADV)
		bluez_report_adv(d);
	bluez_channel_setup(d);
}

int fg_bluez_connect(struct fg_bluez *bz, const uint8_t address[6], uint64_t timeout_usec)
{
	struct device *d;
	sd_bus_message *m = NULL;
	int r;

	if (bluez_compute_state(bz) != FG_BLUEZ_READY)
		return -ENETDOWN;
	d = bluez_device_by_address(bz, address);
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
		bluez_channel_setup(d);
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
	if (fg_scan_connect_foreground(timeout_usec, d->dropped_at,
				       bz->discovery_active || (bz->adapter && bz->adapter->discovering),
				       bluez_now_usec(bz))) {
		char a[18];

		log_debug("Bluetooth: %s: we ended its link within a discovery window: connecting in the foreground",
			  bluez_fmt_addr(d->address, a));
		timeout_usec = bz->config->bluetooth.connect_timeout_usec;
	}
	d->dropped_at = 0;
	if (timeout_usec) {
		/* while it is in flight, our discovery would hold it back: pause it first */
		d->foreground = true;
		bluez_discovery_update(bz);
	}
	r = sd_bus_message_new_method_call(bz->bus, &m, BLUEZ_NAME, d->path, IFACE_DEVICE, "Connect");
	if (r >= 0)
		r = sd_bus_call_async(bz->bus, &d->connect_slot, m, on_connect_reply, d,
				      timeout_usec ? timeout_usec + FG_SCAN_WINDOW_USEC + CALL_TIMEOUT_USEC :
				      CALL_TIMEOUT_USEC);
	sd_bus_message_unref(m);
	if (r < 0) {
		attempt_end(d);
		return r;
	}
	d->wanted = true;
	bz->stats.connects++;
	if (timeout_usec) {
		d->attempt_start = bluez_now_usec(bz);
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
	if (e && bluez_reply_errno(e) != -ENODEV)
		log_debug("Bluetooth: %s: Disconnect: %s", bluez_fmt_addr(d->address, a), e->message);
	return 0;
}

int fg_bluez_disconnect(struct fg_bluez *bz, const uint8_t address[6])
{
	struct device *d = bluez_device_by_address(bz, address);

	if (!d)
		return -ENODEV;
	d->wanted = false;
	note_drop(d);
	d->connect_slot = sd_bus_slot_unref(d->connect_slot);
	bluez_channel_close(d);
	attempt_end(d);
	if (d->disconnect_slot)
		return 0;
	/* also cancels a connection attempt that is still pending */
	return sd_bus_call_method_async(bz->bus, &d->disconnect_slot, BLUEZ_NAME, d->path,
					IFACE_DEVICE, "Disconnect", on_disconnect_reply, d, "");
}

static int on_remove_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	const sd_bus_error *e = sd_bus_message_get_error(reply);

	if (e && bluez_reply_errno(e) != -ENODEV)
		log_info("Bluetooth: RemoveDevice failed: %s", e->message);
	return 0;
}

int fg_bluez_remove_device(struct fg_bluez *bz, const uint8_t address[6])
{
	struct device *d = bluez_device_by_address(bz, address);

	if (!d)
		return -ENODEV;
	if (!bz->adapter)
		return -ENETDOWN;
	d->wanted = false;
	bluez_channel_close(d);
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
		log_debug("Bluetooth: %s: cannot set Trusted: %s", bluez_fmt_addr(d->address, a), e->message);
	return 0;
}

int fg_bluez_set_trusted(struct fg_bluez *bz, const uint8_t address[6], bool trusted)
{
	struct device *d = bluez_device_by_address(bz, address);

	if (!d)
		return -ENODEV;
	if (d->trusted == trusted || d->trust_slot)
		return 0;
	return sd_bus_call_method_async(bz->bus, &d->trust_slot, BLUEZ_NAME, d->path, IFACE_PROPS, "Set",
					on_trust_reply, d, "ssv", IFACE_DEVICE, "Trusted", "b", (int)trusted);
}
