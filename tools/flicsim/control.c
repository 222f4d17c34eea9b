/* SPDX-License-Identifier: MIT */
/* io.github.flicgate.Sim1: the simulator's control interface (add and
 * remove buttons, press them, move them, inject faults, restart the fake
 * bluetoothd) and the ButtonEventSent signal. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "button-proto.h"
#include "control.h"
#include "periph.h"
#include "lib/bus-props.h"
#include "lib/log.h"
#include "lib/macro.h"

#define E_NO_SUCH_BUTTON FS_CONTROL_IFACE ".Error.NoSuchButton"
#define E_EXISTS	 FS_CONTROL_IFACE ".Error.Exists"
#define E_BUSY		 FS_CONTROL_IFACE ".Error.Busy"
#define E_FAILED	 FS_CONTROL_IFACE ".Error.Failed"

struct fs_control {
	struct fs_sim *sim;
	sd_bus *bus;
	sd_bus_slot *slot;
};

static const char *const event_names[] = {
	[FS_EVT_DOWN] = "down",
	[FS_EVT_HOLD] = "hold",
	[FS_EVT_HOLD_SECOND] = "hold_second_press",
	[FS_EVT_SINGLE_TIMEOUT] = "single_click_timeout",
	[FS_EVT_UP_CLICK] = "up",
	[FS_EVT_UP_SINGLE] = "up_single_click",
	[FS_EVT_UP_DOUBLE] = "up_double_click",
	[FS_EVT_UP_AFTER_HOLD] = "up_after_hold",
	[FS_EVT_UP_DOUBLE_HOLD] = "up_double_click_hold",
};

FG_DEFINE_STRING_TABLE_TO(static, event_encoding, uint8_t, event_names)

static const char *event_name(uint8_t enc)
{
	const char *s = event_encoding_to_string(enc);

	return s ? s : "unknown";
}

void fs_control_event_sent(struct fs_button *b, const struct fs_event_item *ev,
			   bool queued, uint64_t sent_usec, void *userdata)
{
	struct fs_control *c = userdata;

	if (!c)
		return;
	sd_bus_emit_signal(c->bus, FS_CONTROL_PATH, FS_CONTROL_IFACE, "ButtonEventSent",
			   "susbttt", fs_button_address(b), ev->counter, event_name(ev->encoded),
			   (int)queued, ev->ticks, ev->mono_usec, sent_usec);
}

static struct fs_button *button_arg(struct fs_control *c, sd_bus_message *m,
				    sd_bus_error *error)
{
	struct fs_button *b;
	const char *a;

	if (sd_bus_message_read(m, "s", &a) < 0) {
		sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected an address");
		return NULL;
	}
	b = fs_sim_find_button(c->sim, a);
	if (!b)
		sd_bus_error_setf(error, E_NO_SUCH_BUTTON, "No emulated button %s", a);
	return b;
}

/* Reads a variant holding any integer, string or boolean as text. */
static int read_variant_text(sd_bus_message *m, char *buf, size_t size)
{
	const char *contents, *s;
	char type;
	int r;

	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, 'v', contents);
	if (r < 0)
		return r;
	switch (contents[0]) {
	case 's': {
		r = sd_bus_message_read(m, "s", &s);
		snprintf(buf, size, "%s", s);
		break;
	}
	case 'b': {
		int v;

		r = sd_bus_message_read(m, "b", &v);
		snprintf(buf, size, "%d", v);
		break;
	}
	case 'y': {
		uint8_t v;

		r = sd_bus_message_read(m, "y", &v);
		snprintf(buf, size, "%u", v);
		break;
	}
	case 'n': {
		int16_t v;

		r = sd_bus_message_read(m, "n", &v);
		snprintf(buf, size, "%d", v);
		break;
	}
	case 'q': {
		uint16_t v;

		r = sd_bus_message_read(m, "q", &v);
		snprintf(buf, size, "%u", v);
		break;
	}
	case 'i': {
		int32_t v;

		r = sd_bus_message_read(m, "i", &v);
		snprintf(buf, size, "%" PRIi32, v);
		break;
	}
	case 'u': {
		uint32_t v;

		r = sd_bus_message_read(m, "u", &v);
		snprintf(buf, size, "%" PRIu32, v);
		break;
	}
	case 'x': {
		int64_t v;

		r = sd_bus_message_read(m, "x", &v);
		snprintf(buf, size, "%" PRIi64, v);
		break;
	}
	case 't': {
		uint64_t v;

		r = sd_bus_message_read(m, "t", &v);
		snprintf(buf, size, "%" PRIu64, v);
		break;
	}
	default:
		return -EINVAL;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* AddButton's options: every one goes to fs_button_config_set() as text
 * (@base the config); a bad one sets @userdata, the sd_bus_error. */
static int add_button_option(sd_bus_message *m, const char *key, void *base, void *userdata)
{
	sd_bus_error *error = userdata;
	char value[128];
	int r;

	r = read_variant_text(m, value, sizeof(value));
	if (r < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "Option %s: unsupported type", key);
	r = fs_button_config_set(base, key, value);
	if (r == -ENOENT)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "Unknown option '%s'", key);
	if (r < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "Bad value for %s: '%s'", key, value);
	return 0;
}

static const struct fg_bus_prop no_props[] = { {} };

static int method_add_button(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	struct fs_button_config cfg;
	const char *name, *address, *serial;
	struct fs_button *b;
	int r;

	r = sd_bus_message_read(m, "sss", &name, &address, &serial);
	if (r < 0)
		return r;
	fs_button_config_init(&cfg);
	cfg.latency_ms = c->sim->latency_ms;
	if (fs_parse_address(address, cfg.addr) < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Bad address '%s'", address);
	if (fs_sim_find_button(c->sim, address))
		return sd_bus_error_setf(error, E_EXISTS, "Button %s exists", address);
	if (strlen(name) > 23 || strlen(serial) > 11)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"Name is at most 23 bytes, serial at most 11");
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	snprintf(cfg.serial, sizeof(cfg.serial), "%s", serial);

	r = fg_bus_props_read(m, no_props, 0, add_button_option, &cfg, NULL, error);
	if (r < 0)
		return r;
	r = fs_sim_add_button(c->sim, &cfg, &b);
	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "Cannot add the button: %m");
	return sd_bus_reply_method_return(m, NULL);
}

static int method_remove_button(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	struct fs_button *b = button_arg(c, m, error);

	if (!b)
		return -EINVAL;
	fs_sim_remove_button(c->sim, b);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_bool(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	struct fs_button *b = button_arg(c, m, error);
	const char *member = sd_bus_message_get_member(m);
	int v, r;

	if (!b)
		return -EINVAL;
	r = sd_bus_message_read(m, "b", &v);
	if (r < 0)
		return r;
	if (strcmp(member, "SetPublicMode") == 0)
		fs_button_set_public_mode(b, v);
	else
		fs_button_set_in_range(b, v);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_press(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	struct fs_button *b = button_arg(c, m, error);
	const char *gesture;
	int r;

	if (!b)
		return -EINVAL;
	r = sd_bus_message_read(m, "s", &gesture);
	if (r < 0)
		return r;
	r = fs_button_press(b, gesture);
	if (r == -EINVAL)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "Unknown gesture '%s' (click, double_click, hold, down, up)",
					 gesture);
	if (r == -EBUSY)
		return sd_bus_error_set(error, E_BUSY, "A gesture is still being played");
	if (r == -EALREADY)
		return sd_bus_error_setf(error, E_BUSY, "The button is %s",
					 strcmp(gesture, "up") == 0 ? "not pressed" : "already pressed");
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_rssi(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	struct fs_button *b = button_arg(c, m, error);
	int16_t v;
	int r;

	if (!b)
		return -EINVAL;
	r = sd_bus_message_read(m, "n", &v);
	if (r < 0)
		return r;
	fs_button_set_rssi(b, v);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_battery(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	struct fs_button *b = button_arg(c, m, error);
	uint16_t v;
	int r;

	if (!b)
		return -EINVAL;
	r = sd_bus_message_read(m, "q", &v);
	if (r < 0)
		return r;
	fs_button_set_battery(b, v);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_factory_reset(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	struct fs_button *b = button_arg(c, m, error);

	if (!b)
		return -EINVAL;
	fs_button_factory_reset(b);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_inject_fault(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	const char *target, *kind;
	uint32_t count;
	int k, r;

	r = sd_bus_message_read(m, "ssu", &target, &kind, &count);
	if (r < 0)
		return r;
	k = fs_fault_from_string(kind);
	if (k < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "Unknown fault '%s' (drop, corrupt, duplicate, reorder, "
					 "bad_mac, slow_connect, bad_address, silent_connect, no_resolve)", kind);
	if (strcmp(target, "*") == 0) {
		for (size_t i = 0; i < c->sim->n_buttons; i++)
			fs_button_inject_fault(c->sim->buttons[i], k, count);
	} else {
		struct fs_button *b = fs_sim_find_button(c->sim, target);

		if (!b)
			return sd_bus_error_setf(error, E_NO_SUCH_BUTTON, "No emulated button %s", target);
		fs_button_inject_fault(b, k, count);
	}
	return sd_bus_reply_method_return(m, NULL);
}

static int method_clear_faults(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	const char *target;
	int r;

	r = sd_bus_message_read(m, "s", &target);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->sim->n_buttons; i++) {
		struct fs_button *b = c->sim->buttons[i];

		if (strcmp(target, "*") == 0 || strcasecmp(target, fs_button_address(b)) == 0)
			fs_button_clear_faults(b);
	}
	return sd_bus_reply_method_return(m, NULL);
}

static int method_restart_bluez(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	uint32_t delay;
	int r;

	r = sd_bus_message_read(m, "u", &delay);
	if (r < 0)
		return r;
	if (!c->sim->bluez)
		return sd_bus_error_set(error, E_FAILED, "Peripheral mode: restart the real bluetoothd");
	r = fs_bluez_restart(c->sim->bluez, delay);
	if (r == -EALREADY)
		return sd_bus_error_set(error, E_BUSY, "bluetoothd is already down");
	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "Restart failed: %m");
	return sd_bus_reply_method_return(m, NULL);
}

static int method_adapter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	bool add = strcmp(sd_bus_message_get_member(m), "AddAdapter") == 0;
	int r;

	if (!c->sim->bluez)
		return sd_bus_error_set(error, E_FAILED, "Peripheral mode: no simulated adapter");
	r = add ? fs_bluez_add_adapter(c->sim->bluez) : fs_bluez_remove_adapter(c->sim->bluez);
	if (r == -EEXIST)
		return sd_bus_error_set(error, E_FAILED, "The adapter is present");
	if (r == -ENODEV)
		return sd_bus_error_set(error, E_FAILED,
					add ? "bluetoothd is down" : "No adapter to remove");
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(m, NULL);
}

static int method_list_buttons(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "s");
	for (size_t i = 0; r >= 0 && i < c->sim->n_buttons; i++)
		r = sd_bus_message_append(reply, "s", fs_button_address(c->sim->buttons[i]));
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int method_get_button(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
	struct fs_button *b = button_arg(c, m, error);
	int r;

	if (!b)
		return -EINVAL;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = fs_button_append_state(b, reply);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int method_get_status(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fs_control *c = userdata;
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = c->sim->bluez ? fs_bluez_append_state(c->sim->bluez, reply) :
				    fs_periph_append_state(c->sim->periph, reply);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int prop_button_count(sd_bus *bus, const char *path, const char *iface,
			     const char *prop, sd_bus_message *reply, void *userdata,
			     sd_bus_error *error)
{
	struct fs_control *c = userdata;

	return sd_bus_message_append(reply, "u", (uint32_t)c->sim->n_buttons);
}

static int prop_bluez_running(sd_bus *bus, const char *path, const char *iface,
			      const char *prop, sd_bus_message *reply, void *userdata,
			      sd_bus_error *error)
{
	struct fs_control *c = userdata;

	return sd_bus_message_append(reply, "b", (int)(c->sim->bluez ? fs_bluez_running(c->sim->bluez) :
						       fs_periph_bluez_running(c->sim->periph)));
}

static int prop_test_key(sd_bus *bus, const char *path, const char *iface,
			 const char *prop, sd_bus_message *reply, void *userdata,
			 sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", fs_test_identity_public_hex);
}

static const sd_bus_vtable control_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_NAMES("AddButton", "sssa{sv}",
				 SD_BUS_PARAM(name) SD_BUS_PARAM(address) SD_BUS_PARAM(serial)
				 SD_BUS_PARAM(options), "", , method_add_button,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("RemoveButton", "s", SD_BUS_PARAM(address), "", ,
				 method_remove_button, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("SetPublicMode", "sb", SD_BUS_PARAM(address) SD_BUS_PARAM(on),
				 "", , method_set_bool, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Press", "ss", SD_BUS_PARAM(address) SD_BUS_PARAM(gesture),
				 "", , method_press, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("SetInRange", "sb", SD_BUS_PARAM(address) SD_BUS_PARAM(in_range),
				 "", , method_set_bool, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("SetRssi", "sn", SD_BUS_PARAM(address) SD_BUS_PARAM(rssi),
				 "", , method_set_rssi, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("SetBattery", "sq", SD_BUS_PARAM(address) SD_BUS_PARAM(millivolt),
				 "", , method_set_battery, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("FactoryReset", "s", SD_BUS_PARAM(address), "", ,
				 method_factory_reset, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("InjectFault", "ssu",
				 SD_BUS_PARAM(address) SD_BUS_PARAM(kind) SD_BUS_PARAM(count),
				 "", , method_inject_fault, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ClearFaults", "s", SD_BUS_PARAM(address), "", ,
				 method_clear_faults, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("RestartBluez", "u", SD_BUS_PARAM(delay_ms), "", ,
				 method_restart_bluez, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("RemoveAdapter", "", "", method_adapter, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("AddAdapter", "", "", method_adapter, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ListButtons", "", , "as", SD_BUS_PARAM(addresses),
				 method_list_buttons, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("GetButton", "s", SD_BUS_PARAM(address), "a{sv}",
				 SD_BUS_PARAM(state), method_get_button, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("GetStatus", "", , "a{sv}", SD_BUS_PARAM(status),
				 method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("ButtonCount", "u", prop_button_count, 0, 0),
	SD_BUS_PROPERTY("BluezRunning", "b", prop_bluez_running, 0, 0),
	SD_BUS_PROPERTY("TestIdentityKey", "s", prop_test_key, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_SIGNAL_WITH_NAMES("ButtonEventSent", "susbttt",
				 SD_BUS_PARAM(address) SD_BUS_PARAM(counter) SD_BUS_PARAM(event)
				 SD_BUS_PARAM(queued) SD_BUS_PARAM(button_ticks)
				 SD_BUS_PARAM(event_usec) SD_BUS_PARAM(sent_usec), 0),
	SD_BUS_VTABLE_END,
};

int fs_control_new(struct fs_sim *sim, enum fs_bus_kind kind, const char *address,
		   struct fs_control **ret)
{
	struct fs_control *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->sim = sim;
	r = fs_bus_open(kind, address, &c->bus);
	if (r < 0)
		goto fail;
	r = sd_bus_attach_event(c->bus, sim->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		goto fail;
	r = sd_bus_add_object_vtable(c->bus, &c->slot, FS_CONTROL_PATH, FS_CONTROL_IFACE,
				     control_vtable, c);
	if (r < 0)
		goto fail;
	r = sd_bus_request_name(c->bus, FS_CONTROL_NAME, 0);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	fs_control_free(c);
	return r;
}

struct fs_control *fs_control_free(struct fs_control *c)
{
	if (!c)
		return NULL;
	sd_bus_slot_unref(c->slot);
	sd_bus_flush_close_unref(c->bus);
	free(c);
	return NULL;
}
