/* SPDX-License-Identifier: MIT */
/* The control API on D-Bus (api.h): registers the object tree (the
 * ObjectManager, the Gateway, the Buttons) and takes it down again. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "control/api-private.h"
#include "control/flicgate-dbus.h"
#include "lib/strv.h"

/* Every callback is required: the daemon runs every subsystem. */
static bool provider_complete(const struct fg_api_provider *p)
{
	return p && p->get_gateway && p->n_buttons && p->button_at && p->button_by_id &&
	       p->get_target && p->n_deliveries && p->delivery_at && p->reload &&
	       p->open_pairing && p->close_pairing && p->test_alert && p->acknowledge &&
	       p->unpair && p->rename && p->export_pairings && p->import_pairings &&
	       p->get_supervision && p->button_supervision && p->open_test_window &&
	       p->close_test_window && p->export_audit;
}

int fg_api_new(sd_bus *bus, const struct fg_api_provider *provider, gid_t operator_gid,
	       struct fg_api **ret)
{
	struct fg_api *a;
	int r;

	if (!bus || !provider_complete(provider))
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->bus = sd_bus_ref(bus);
	a->p = *provider;
	a->own_uid = geteuid();
	a->operator_gid = operator_gid;

	r = sd_bus_add_object_manager(bus, &a->manager_slot, FG_DBUS_OBJECT_MANAGER_PATH);
	if (r < 0)
		goto failed;
	r = sd_bus_add_object_vtable(bus, &a->gateway_slot, FG_DBUS_MANAGER_PATH,
				     FG_DBUS_MANAGER_IFACE, api_gateway_vtable, a);
	if (r < 0)
		goto failed;
	r = sd_bus_add_fallback_vtable(bus, &a->button_slot, FG_DBUS_BUTTON_PREFIX,
				       FG_DBUS_BUTTON_IFACE, api_button_vtable, api_button_find, a);
	if (r < 0)
		goto failed;
	r = sd_bus_add_node_enumerator(bus, &a->enumerator_slot, FG_DBUS_BUTTON_PREFIX,
				       api_button_enumerate, a);
	if (r < 0)
		goto failed;
	r = api_current_ids(a, &a->known_ids);
	if (r < 0)
		goto failed;
	*ret = a;
	return 0;

failed:
	fg_api_free(a);
	return r;
}

struct fg_api *fg_api_free(struct fg_api *a)
{
	if (!a)
		return NULL;
	/* held calls go unanswered: the daemon is going away with its name */
	api_creds_free(a);
	sd_bus_slot_unref(a->enumerator_slot);
	sd_bus_slot_unref(a->button_slot);
	sd_bus_slot_unref(a->gateway_slot);
	sd_bus_slot_unref(a->manager_slot);
	sd_bus_unref(a->bus);
	fg_strv_free(a->known_ids);
	free(a);
	return NULL;
}

