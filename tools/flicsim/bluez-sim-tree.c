/* SPDX-License-Identifier: MIT */
/* The object tree as a whole: ObjectManager.GetManagedObjects and the
 * Introspect XML of every node. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluez-sim-internal.h"
#include "lib/log.h"
#include "lib/macro.h"

struct walk {
	struct fs_bluez *bz;
	sd_bus_message *m;
	const char *prefix;
	char **children;
	size_t n_children;
};

typedef int (*walk_fn)(struct walk *w, const char *path);

/* Calls @fn for every exported object below "/". */
static int walk_objects(struct fs_bluez *bz, struct walk *w, walk_fn fn)
{
	int r;

	if (!bz->running)
		return 0;
	r = fn(w, "/org/bluez");
	if (r < 0 || !bz->present)
		return r;
	r = fn(w, ADAPTER_PATH);
	for (size_t i = 0; r >= 0 && i < bz->n_devs; i++) {
		struct dev *d = bz->devs[i];

		if (!d->exported)
			continue;
		r = fn(w, d->path);
		if (r >= 0 && d->gatt_exported) {
			r = fn(w, d->gatt_svc1801);
			if (r >= 0)
				r = fn(w, d->gatt_sc);
			if (r >= 0)
				r = fn(w, d->gatt_sc_ccc);
			if (r >= 0)
				r = fn(w, d->gatt_service);
			if (r >= 0)
				r = fn(w, d->gatt_write);
			if (r >= 0)
				r = fn(w, d->gatt_notify);
			if (r >= 0)
				r = fn(w, d->gatt_ccc);
		}
	}
	return r;
}

static int managed_one(struct walk *w, const char *path)
{
	struct bz_obj o = bz_lookup(w->bz, path);
	int r;

	r = sd_bus_message_open_container(w->m, 'e', "oa{sa{sv}}");
	if (r >= 0)
		r = sd_bus_message_append(w->m, "o", path);
	if (r >= 0)
		r = bz_append_ifaces(w->bz, &o, w->m);
	if (r >= 0)
		r = sd_bus_message_close_container(w->m);
	return r;
}

int bz_get_managed_objects(struct fs_bluez *bz, sd_bus_message *m)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
	struct walk w = { .bz = bz };
	int r;

	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{oa{sa{sv}}}");
	w.m = reply;
	if (r >= 0)
		r = walk_objects(bz, &w, managed_one);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int child_one(struct walk *w, const char *path)
{
	size_t n = strlen(w->prefix);
	const char *rest, *slash;
	char *name;

	if (strcmp(w->prefix, "/") == 0)
		n = 0;
	if (strncmp(path, w->prefix, n) != 0 || path[n] != '/')
		return 0;
	rest = path + n + 1;
	slash = strchr(rest, '/');
	name = strndup(rest, slash ? (size_t)(slash - rest) : strlen(rest));
	if (!name)
		return -ENOMEM;
	for (size_t i = 0; i < w->n_children; i++)
		if (strcmp(w->children[i], name) == 0) {
			free(name);
			return 0;
		}
	w->children = realloc(w->children, (w->n_children + 1) * sizeof(char *));
	if (!w->children) {
		free(name);
		return -ENOMEM;
	}
	w->children[w->n_children++] = name;
	return 0;
}

/* The Introspect XML of each object kind's own interface. */
static const char xml_object_manager[] =
	" <interface name=\"org.freedesktop.DBus.ObjectManager\">\n"
	"  <method name=\"GetManagedObjects\"><arg name=\"objects\" type=\"a{oa{sa{sv}}}\" direction=\"out\"/></method>\n"
	"  <signal name=\"InterfacesAdded\"><arg name=\"object\" type=\"o\"/><arg name=\"interfaces\" type=\"a{sa{sv}}\"/></signal>\n"
	"  <signal name=\"InterfacesRemoved\"><arg name=\"object\" type=\"o\"/><arg name=\"interfaces\" type=\"as\"/></signal>\n"
	" </interface>\n";

static const char xml_agent_manager[] =
	" <interface name=\"org.bluez.AgentManager1\">\n"
	"  <method name=\"RegisterAgent\"><arg name=\"agent\" type=\"o\" direction=\"in\"/><arg name=\"capability\" type=\"s\" direction=\"in\"/></method>\n"
	"  <method name=\"UnregisterAgent\"><arg name=\"agent\" type=\"o\" direction=\"in\"/></method>\n"
	"  <method name=\"RequestDefaultAgent\"><arg name=\"agent\" type=\"o\" direction=\"in\"/></method>\n"
	" </interface>\n";

static const char xml_adapter[] =
	" <interface name=\"org.bluez.Adapter1\">\n"
	"  <method name=\"StartDiscovery\"/>\n"
	"  <method name=\"SetDiscoveryFilter\"><arg name=\"properties\" type=\"a{sv}\" direction=\"in\"/></method>\n"
	"  <method name=\"StopDiscovery\"/>\n"
	"  <method name=\"RemoveDevice\"><arg name=\"device\" type=\"o\" direction=\"in\"/></method>\n"
	"  <method name=\"GetDiscoveryFilters\"><arg name=\"filters\" type=\"as\" direction=\"out\"/></method>\n"
	"  <property name=\"Address\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"AddressType\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"Name\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"Alias\" type=\"s\" access=\"readwrite\"/>\n"
	"  <property name=\"Class\" type=\"u\" access=\"read\"/>\n"
	"  <property name=\"Powered\" type=\"b\" access=\"readwrite\"/>\n"
	"  <property name=\"PowerState\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"Discoverable\" type=\"b\" access=\"readwrite\"/>\n"
	"  <property name=\"DiscoverableTimeout\" type=\"u\" access=\"readwrite\"/>\n"
	"  <property name=\"Pairable\" type=\"b\" access=\"readwrite\"/>\n"
	"  <property name=\"PairableTimeout\" type=\"u\" access=\"readwrite\"/>\n"
	"  <property name=\"Discovering\" type=\"b\" access=\"read\"/>\n"
	"  <property name=\"UUIDs\" type=\"as\" access=\"read\"/>\n"
	"  <property name=\"Modalias\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"Roles\" type=\"as\" access=\"read\"/>\n"
	" </interface>\n";

static const char xml_device[] =
	" <interface name=\"org.bluez.Device1\">\n"
	"  <method name=\"Disconnect\"/>\n"
	"  <method name=\"Connect\"/>\n"
	"  <method name=\"ConnectProfile\"><arg name=\"UUID\" type=\"s\" direction=\"in\"/></method>\n"
	"  <method name=\"DisconnectProfile\"><arg name=\"UUID\" type=\"s\" direction=\"in\"/></method>\n"
	"  <method name=\"Pair\"/>\n"
	"  <method name=\"CancelPairing\"/>\n"
	"  <signal name=\"Disconnected\"><arg name=\"name\" type=\"s\"/><arg name=\"message\" type=\"s\"/></signal>\n"
	"  <property name=\"Address\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"AddressType\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"Name\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"Alias\" type=\"s\" access=\"readwrite\"/>\n"
	"  <property name=\"Paired\" type=\"b\" access=\"read\"/>\n"
	"  <property name=\"Bonded\" type=\"b\" access=\"read\"/>\n"
	"  <property name=\"Trusted\" type=\"b\" access=\"readwrite\"/>\n"
	"  <property name=\"Blocked\" type=\"b\" access=\"readwrite\"/>\n"
	"  <property name=\"LegacyPairing\" type=\"b\" access=\"read\"/>\n"
	"  <property name=\"RSSI\" type=\"n\" access=\"read\"/>\n"
	"  <property name=\"Connected\" type=\"b\" access=\"read\"/>\n"
	"  <property name=\"UUIDs\" type=\"as\" access=\"read\"/>\n"
	"  <property name=\"Adapter\" type=\"o\" access=\"read\"/>\n"
	"  <property name=\"ManufacturerData\" type=\"a{qv}\" access=\"read\"/>\n"
	"  <property name=\"ServicesResolved\" type=\"b\" access=\"read\"/>\n"
	"  <property name=\"AdvertisingFlags\" type=\"ay\" access=\"read\"/>\n"
	" </interface>\n";

static const char xml_service[] =
	" <interface name=\"org.bluez.GattService1\">\n"
	"  <property name=\"UUID\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"Device\" type=\"o\" access=\"read\"/>\n"
	"  <property name=\"Primary\" type=\"b\" access=\"read\"/>\n"
	"  <property name=\"Includes\" type=\"ao\" access=\"read\"/>\n"
	"  <property name=\"Handle\" type=\"q\" access=\"read\"/>\n"
	" </interface>\n";

static const char xml_characteristic[] =
	" <interface name=\"org.bluez.GattCharacteristic1\">\n"
	"  <method name=\"ReadValue\"><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/><arg name=\"value\" type=\"ay\" direction=\"out\"/></method>\n"
	"  <method name=\"WriteValue\"><arg name=\"value\" type=\"ay\" direction=\"in\"/><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/></method>\n"
	"  <method name=\"AcquireWrite\"><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/><arg name=\"fd\" type=\"h\" direction=\"out\"/><arg name=\"mtu\" type=\"q\" direction=\"out\"/></method>\n"
	"  <method name=\"AcquireNotify\"><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/><arg name=\"fd\" type=\"h\" direction=\"out\"/><arg name=\"mtu\" type=\"q\" direction=\"out\"/></method>\n"
	"  <method name=\"StartNotify\"/>\n"
	"  <method name=\"StopNotify\"/>\n"
	"  <method name=\"Confirm\"/>\n"
	"  <property name=\"UUID\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"Service\" type=\"o\" access=\"read\"/>\n"
	"  <property name=\"Value\" type=\"ay\" access=\"read\"/>\n"
	"  <property name=\"Notifying\" type=\"b\" access=\"read\"/>\n"
	"  <property name=\"Flags\" type=\"as\" access=\"read\"/>\n"
	"  <property name=\"WriteAcquired\" type=\"b\" access=\"read\"/>\n"
	"  <property name=\"NotifyAcquired\" type=\"b\" access=\"read\"/>\n"
	"  <property name=\"Handle\" type=\"q\" access=\"read\"/>\n"
	"  <property name=\"MTU\" type=\"q\" access=\"read\"/>\n"
	" </interface>\n";

static const char xml_descriptor[] =
	" <interface name=\"org.bluez.GattDescriptor1\">\n"
	"  <method name=\"ReadValue\"><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/><arg name=\"value\" type=\"ay\" direction=\"out\"/></method>\n"
	"  <method name=\"WriteValue\"><arg name=\"value\" type=\"ay\" direction=\"in\"/><arg name=\"options\" type=\"a{sv}\" direction=\"in\"/></method>\n"
	"  <property name=\"UUID\" type=\"s\" access=\"read\"/>\n"
	"  <property name=\"Characteristic\" type=\"o\" access=\"read\"/>\n"
	"  <property name=\"Value\" type=\"ay\" access=\"read\"/>\n"
	"  <property name=\"Handle\" type=\"q\" access=\"read\"/>\n"
	" </interface>\n";

static const char *const iface_xmls[] = {
	[OBJ_ROOT] = xml_object_manager,
	[OBJ_BLUEZ] = xml_agent_manager,
	[OBJ_ADAPTER] = xml_adapter,
	[OBJ_DEVICE] = xml_device,
	[OBJ_SERVICE] = xml_service,
	[OBJ_CHAR_WRITE] = xml_characteristic,
	[OBJ_CHAR_NOTIFY] = xml_characteristic,
	[OBJ_DESC] = xml_descriptor,
	[OBJ_GATT_SERVICE] = xml_service,
	[OBJ_SVC_CHANGED] = xml_characteristic,
	[OBJ_SVC_CHANGED_CCC] = xml_descriptor,
};

FG_DEFINE_STRING_TABLE_TO(static, iface_xml, enum obj_kind, iface_xmls)

int bz_introspect(struct fs_bluez *bz, struct bz_obj *o, const char *path, sd_bus_message *m)
{
	struct walk w = { .bz = bz, .prefix = path };
	char *xml = NULL;
	size_t size = 0;
	FILE *f;
	int r;

	r = walk_objects(bz, &w, child_one);
	if (r < 0)
		goto out;
	if (strcmp(path, "/") == 0 && bz->running && w.n_children == 0)
		child_one(&w, "/org");
	f = open_memstream(&xml, &size);
	if (!f) {
		r = -ENOMEM;
		goto out;
	}
	fputs("<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
	      "\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n"
	      " <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
	      "  <method name=\"Introspect\"><arg name=\"xml\" type=\"s\" direction=\"out\"/></method>\n"
	      " </interface>\n", f);
	if (o->kind != OBJ_ROOT && o->kind != OBJ_NONE)
		fputs(" <interface name=\"org.freedesktop.DBus.Properties\">\n"
		      "  <method name=\"Get\"><arg name=\"interface\" type=\"s\" direction=\"in\"/><arg name=\"name\" type=\"s\" direction=\"in\"/><arg name=\"value\" type=\"v\" direction=\"out\"/></method>\n"
		      "  <method name=\"Set\"><arg name=\"interface\" type=\"s\" direction=\"in\"/><arg name=\"name\" type=\"s\" direction=\"in\"/><arg name=\"value\" type=\"v\" direction=\"in\"/></method>\n"
		      "  <method name=\"GetAll\"><arg name=\"interface\" type=\"s\" direction=\"in\"/><arg name=\"properties\" type=\"a{sv}\" direction=\"out\"/></method>\n"
		      "  <signal name=\"PropertiesChanged\"><arg name=\"interface\" type=\"s\"/><arg name=\"changed_properties\" type=\"a{sv}\"/><arg name=\"invalidated_properties\" type=\"as\"/></signal>\n"
		      " </interface>\n", f);
	fputs(iface_xml_to_string(o->kind) ?: "", f);
	for (size_t i = 0; i < w.n_children; i++)
		fprintf(f, " <node name=\"%s\"/>\n", w.children[i]);
	fputs("</node>\n", f);
	fclose(f);
	r = sd_bus_reply_method_return(m, "s", xml);
out:
	for (size_t i = 0; i < w.n_children; i++)
		free(w.children[i]);
	free(w.children);
	free(xml);
	return r;
}
