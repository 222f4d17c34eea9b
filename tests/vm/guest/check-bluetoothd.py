#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The Bluetooth stack the gateway runs on, for real: the kernel's
hci_vhci, two linked LE controllers from BlueZ's btvirt, the guest's own
bluetoothd seeing both and powering them on."""
import fgvm
from fgvm import check, log, wait_for

import dbus

bt = fgvm.start_btvirt(2)
check(bt is not None, "btvirt made two controllers: %s" % fgvm.controllers())
btd = fgvm.start_bluetoothd()
check(btd is not None, "bluetoothd owns org.bluez on the system bus")
if btd:
    adapters = wait_for(lambda: len(fgvm.bluez_adapters()) >= 2 and fgvm.bluez_adapters(), 60)
    check(adapters and len(adapters) == 2, "bluetoothd lists two adapters: %s" % sorted(adapters or {}))
    bus = dbus.SystemBus()
    addrs = set()
    for path in sorted(adapters or {}):
        props = dbus.Interface(bus.get_object("org.bluez", path), "org.freedesktop.DBus.Properties")
        props.Set("org.bluez.Adapter1", "Powered", dbus.Boolean(True))
        on = wait_for(lambda: bool(props.Get("org.bluez.Adapter1", "Powered")), 10)
        addr = str(props.Get("org.bluez.Adapter1", "Address"))
        addrs.add(addr)
        check(on, "%s (%s) powers on" % (path, addr))
        uuids = [str(u) for u in props.Get("org.bluez.Adapter1", "UUIDs")]
        log(path, "roles", [str(r) for r in props.Get("org.bluez.Adapter1", "Roles")], "uuids", len(uuids))
    check(len(addrs) == 2, "the two controllers have distinct addresses")
    mgr = [p for p, ifs in dbus.Interface(bus.get_object("org.bluez", "/"),
                                          "org.freedesktop.DBus.ObjectManager").GetManagedObjects().items()
           if "org.bluez.LEAdvertisingManager1" in ifs and "org.bluez.GattManager1" in ifs]
    check(len(mgr) == 2, "both adapters offer GattManager1 and LEAdvertisingManager1 (peripheral role)")
fgvm.finish()
