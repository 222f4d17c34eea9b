#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""flicsim's org.bluez against BlueZ's D-Bus API: the ObjectManager shape,
Adapter1 discovery and filters, Device1 Connect/Disconnect and its
properties, the Flic GATT service with the fd-based paths, BlueZ's error
names, link loss, Powered off, RemoveDevice, a bluetoothd restart and an
adapter that goes away and comes back."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from flicsimtest import (FLIC_NOTIFY, FLIC_SERVICE, FLIC_WRITE, Sim, check, dbus, dbus_error,  # noqa: E402
                         dev_path, finish, pump, wait_pump)

A = "80:E4:DA:70:00:01"	# public mode
B = "80:E4:DA:70:00:02"	# paired earlier, advertising privately
C = "80:E4:DA:70:00:03"	# out of range
OPTS = {}
NONE = dbus.Dictionary({}, signature="sv")


class Recorder:
    def __init__(self, bus):
        self.added, self.removed, self.changed, self.disconnected = [], [], [], []
        bus.add_signal_receiver(lambda n, m, path=None: self.disconnected.append((str(path), str(n))),
                                "Disconnected", "org.bluez.Device1", path_keyword="path")
        bus.add_signal_receiver(lambda p, i: self.added.append((str(p), i)), "InterfacesAdded",
                                "org.freedesktop.DBus.ObjectManager")
        bus.add_signal_receiver(lambda p, i: self.removed.append((str(p), [str(x) for x in i])),
                                "InterfacesRemoved", "org.freedesktop.DBus.ObjectManager")
        bus.add_signal_receiver(lambda i, c, inv, path=None: self.changed.append((str(path), str(i), dict(c),
                                                                              [str(x) for x in inv])),
                                "PropertiesChanged", "org.freedesktop.DBus.Properties", path_keyword="path")

    def props_changed(self, path, name):
        return [c for c in self.changed if c[0] == path and name in c[2]]

    def invalidated(self, path, name):
        return [c for c in self.changed if c[0] == path and name in c[3]]


args = ["--connect-ms", "5", "--scan-interval-ms", "50", "--connect-timeout-ms", "1500",
        "--supervision-ms", "100", "--temporary-timeout-s", "2", "--bluez-version", "5.82"]
with Sim(args) as sim:
    rec = Recorder(sim.bus)
    sim.add(A, public_mode=True)
    sim.add(B, pairing_id=7, pairing_key="00" * 16)
    sim.add(C, public_mode=True, in_range=False)

    objs = sim.managed()
    check(set(str(p) for p in objs) == {"/org/bluez", "/org/bluez/hci0"},
          "GetManagedObjects before discovery: /org/bluez and hci0 only")
    hci = objs["/org/bluez/hci0"]
    check(set(hci) == {"org.freedesktop.DBus.Introspectable", "org.bluez.Adapter1",
                       "org.freedesktop.DBus.Properties"}, "hci0 has Adapter1 plus the standard interfaces")
    ad = hci["org.bluez.Adapter1"]
    check(ad["Powered"] is not None and bool(ad["Powered"]) and not bool(ad["Discovering"]) and
          ad["Address"].count(":") == 5 and ad["AddressType"] == "public",
          "Adapter1: powered, not discovering, an address")
    check("org.bluez.AgentManager1" in objs["/org/bluez"], "/org/bluez has AgentManager1")

    adapter = sim.obj("/org/bluez/hci0", "org.bluez.Adapter1")
    check(set(adapter.GetDiscoveryFilters()) >= {"UUIDs", "RSSI", "Transport", "DuplicateData", "Pattern"},
          "GetDiscoveryFilters lists the filter keys")
    check(dbus_error(adapter.SetDiscoveryFilter, {"Bogus": dbus.Boolean(True)}) ==
          "org.bluez.Error.InvalidArguments", "SetDiscoveryFilter with an unknown key: InvalidArguments")
    check(dbus_error(adapter.StopDiscovery) == "org.bluez.Error.Failed",
          "StopDiscovery without a discovery: org.bluez.Error.Failed")
    adapter.SetDiscoveryFilter({"UUIDs": dbus.Array([FLIC_SERVICE], signature="s"),
                                "Transport": "le", "DuplicateData": dbus.Boolean(True)})
    adapter.StartDiscovery()
    check(dbus_error(adapter.StartDiscovery) == "org.bluez.Error.InProgress",
          "StartDiscovery twice: org.bluez.Error.InProgress")
    check(wait_pump(lambda: any(p == dev_path(A) for p, _ in rec.added), 5),
          "InterfacesAdded for the public-mode button")
    dev_if = [i for p, i in rec.added if p == dev_path(A)][0]["org.bluez.Device1"]
    check(FLIC_SERVICE in [str(u) for u in dev_if["UUIDs"]], "its UUIDs carry the Flic service")
    mfr = dev_if["ManufacturerData"]
    check(0x030f in mfr and bytes(mfr[0x030f])[0] == 2 and len(mfr[0x030f]) == 5,
          "ManufacturerData has company 0x030f, type 2, 5 bytes")
    check("RSSI" in dev_if and dev_if["AddressType"] == "public" and dev_if["Address"] == A and
          str(dev_if["Adapter"]) == "/org/bluez/hci0" and not dev_if["Connected"],
          "Device1: RSSI, public address, adapter, not connected")
    check(wait_pump(lambda: len(rec.props_changed(dev_path(A), "ManufacturerData")) >= 2, 5),
          "DuplicateData: ManufacturerData is reported again and again")
    adapter.SetDiscoveryFilter({"UUIDs": dbus.Array([FLIC_SERVICE], signature="s"),
                                "DuplicateData": dbus.Boolean(False)})
    pump(0.2)
    n = len(rec.props_changed(dev_path(A), "ManufacturerData")) + len(rec.props_changed(dev_path(A), "RSSI"))
    pump(0.5)
    check(len(rec.props_changed(dev_path(A), "ManufacturerData")) + len(rec.props_changed(dev_path(A), "RSSI")) == n,
          "DuplicateData false: an unchanged advertisement is not reported again")
    check(dev_path(B) not in sim.managed(), "the UUID filter hides a privately advertising button")
    check(dev_path(C) not in sim.managed(), "an out-of-range button is never seen")

    # a second client without a filter sees everything; its leaving stops its session
    other = dbus.bus.BusConnection(sim.bus_daemon.address)
    other_ad = dbus.Interface(other.get_object("org.bluez", "/org/bluez/hci0"), "org.bluez.Adapter1")
    check(dbus_error(other_ad.StopDiscovery) == "org.bluez.Error.Failed",
          "StopDiscovery by a client that did not start one: Failed")
    other_ad.StartDiscovery()
    check(wait_pump(lambda: dev_path(B) in sim.managed(), 5), "an unfiltered client finds the private button")
    b_props = sim.props(dev_path(B), "org.bluez.Device1")
    check(FLIC_SERVICE not in [str(u) for u in b_props["UUIDs"]] and "Name" not in b_props,
          "a private advertisement has no service UUID and no name")
    # Trusted keeps it from expiring as a temporary device (it is removed below)
    sim.obj(dev_path(B), "org.freedesktop.DBus.Properties").Set("org.bluez.Device1", "Trusted", dbus.Boolean(True))
    check(bool(sim.prop(dev_path(B), "org.bluez.Device1", "Trusted")), "Trusted can be set")
    other.close()
    adapter.StopDiscovery()
    check(wait_pump(lambda: not sim.prop("/org/bluez/hci0", "org.bluez.Adapter1", "Discovering"), 5),
          "Discovering goes false when the last client stops or leaves")
    check(wait_pump(lambda: rec.invalidated(dev_path(A), "RSSI"), 5),
          "RSSI is invalidated when discovery ends")
    check(dbus_error(sim.prop, dev_path(A), "org.bluez.Device1", "RSSI") == "org.freedesktop.DBus.Error.InvalidArgs",
          "Get of an absent property: org.freedesktop.DBus.Error.InvalidArgs")
    check(dbus_error(sim.obj(dev_path(A), "org.freedesktop.DBus.Properties").Set, "org.bluez.Device1",
                     "Address", "x") == "org.freedesktop.DBus.Error.PropertyReadOnly",
          "Set of a read-only property: PropertyReadOnly")

    # connect and the GATT service
    dev = sim.obj(dev_path(A), "org.bluez.Device1")
    dev.Connect()
    p = sim.props(dev_path(A), "org.bluez.Device1")
    # as bluetoothd: the reply comes once the link is up and ATT attached, before services resolve
    check(p["Connected"], "Connect returns with Connected")
    check(wait_pump(lambda: bool(sim.prop(dev_path(A), "org.bluez.Device1", "ServicesResolved")), 5),
          "ServicesResolved follows")
    check(dbus_error(dev.Connect) == "org.bluez.Error.AlreadyConnected", "Connect again: AlreadyConnected")
    svc = dev_path(A) + "/service000c"
    objs = sim.managed()
    check(str(objs[svc]["org.bluez.GattService1"]["UUID"]) == FLIC_SERVICE and
          bool(objs[svc]["org.bluez.GattService1"]["Primary"]), "service000c is the primary Flic service")
    services = sorted(str(o["org.bluez.GattService1"]["UUID"]) for path, o in objs.items()
                      if str(path).startswith(dev_path(A) + "/") and "org.bluez.GattService1" in o)
    check(services == ["00001801-0000-1000-8000-00805f9b34fb", FLIC_SERVICE],
          "two primary services as on a real button: Generic Attribute and Flic")
    check([str(u) for u in sim.prop(dev_path(A), "org.bluez.Device1", "UUIDs")] ==
          ["00001801-0000-1000-8000-00805f9b34fb", FLIC_SERVICE], "Device1.UUIDs lists both once resolved")
    sc = sim.obj(dev_path(A) + "/service0008/char0009", "org.bluez.GattCharacteristic1")
    sc.StartNotify()
    check(bool(sim.prop(dev_path(A) + "/service0008/char0009", "org.bluez.GattCharacteristic1", "Notifying")),
          "Service Changed indications can be enabled")
    wc = objs[svc + "/char000d"]["org.bluez.GattCharacteristic1"]
    nc = objs[svc + "/char000f"]["org.bluez.GattCharacteristic1"]
    check(wc["UUID"] == FLIC_WRITE and list(wc["Flags"]) == ["write-without-response"],
          "char000d: write characteristic, write-without-response")
    check(nc["UUID"] == FLIC_NOTIFY and list(nc["Flags"]) == ["notify"] and not nc["Notifying"],
          "char000f: notify characteristic, not notifying")
    check(str(objs[svc + "/char000f/desc0011"]["org.bluez.GattDescriptor1"]["UUID"]).startswith("00002902"),
          "desc0011 is the CCC descriptor")
    wch = sim.obj(svc + "/char000d", "org.bluez.GattCharacteristic1")
    nch = sim.obj(svc + "/char000f", "org.bluez.GattCharacteristic1")
    check(dbus_error(wch.ReadValue, NONE) == "org.bluez.Error.NotPermitted", "ReadValue: NotPermitted")
    check(dbus_error(wch.WriteValue, b"\x00", {"type": "request"}) == "org.bluez.Error.NotSupported",
          "WriteValue type=request on a write-without-response characteristic: NotSupported")
    check(dbus_error(sim.obj(svc + "/char000f/desc0011", "org.bluez.GattDescriptor1").WriteValue,
                     b"\x01\x00", NONE) == "org.bluez.Error.NotPermitted", "writing the CCC: NotPermitted")
    check(dbus_error(nch.StopNotify) == "org.bluez.Error.Failed", "StopNotify without StartNotify: Failed")
    fd, mtu = wch.AcquireWrite(NONE)
    wsock = socket.socket(fileno=fd.take())
    check(int(mtu) == 23 and wsock.type == socket.SOCK_SEQPACKET, "AcquireWrite: a SOCK_SEQPACKET fd and MTU 23")
    check(wait_pump(lambda: bool(sim.prop(svc + "/char000d", "org.bluez.GattCharacteristic1", "WriteAcquired")), 3),
          "WriteAcquired is true")
    check(dbus_error(wch.AcquireWrite, NONE) == "org.bluez.Error.NotPermitted", "AcquireWrite twice: NotPermitted")
    check(dbus_error(wch.WriteValue, b"\x00", {"type": "command"}) == "org.bluez.Error.NotPermitted",
          "WriteValue while the write is acquired: NotPermitted")
    fd, mtu = nch.AcquireNotify(NONE)
    nsock = socket.socket(fileno=fd.take())
    check(bool(sim.prop(svc + "/char000f", "org.bluez.GattCharacteristic1", "NotifyAcquired")) and
          bool(sim.prop(svc + "/char000f", "org.bluez.GattCharacteristic1", "Notifying")),
          "AcquireNotify: NotifyAcquired and Notifying")
    check(dbus_error(nch.StartNotify) == "org.bluez.Error.NotPermitted", "StartNotify after AcquireNotify: NotPermitted")
    # a FullVerifyRequest1 through the fd is answered through the other fd
    wsock.send(bytes([0x00, 0x00, 1, 2, 3, 4]))
    nsock.settimeout(3)
    first = nsock.recv(100)
    check(first[0] & 0x80 and first[0] & 0x1f == 1 and first[1] == 0 and first[2:6] == bytes([1, 2, 3, 4]),
          "the button answers through the notify fd (fragmented, newly assigned connection id)")
    wsock.close()
    check(wait_pump(lambda: not sim.prop(svc + "/char000d", "org.bluez.GattCharacteristic1", "WriteAcquired"), 3),
          "closing the write fd releases it")
    nsock.close()
    check(wait_pump(lambda: not sim.prop(svc + "/char000f", "org.bluez.GattCharacteristic1", "NotifyAcquired"), 3),
          "closing the notify fd releases it")
    nch.StartNotify()
    check(bool(sim.prop(svc + "/char000f", "org.bluez.GattCharacteristic1", "Notifying")), "StartNotify: Notifying")
    nch.StopNotify()
    check(wait_pump(lambda: not sim.prop(svc + "/char000f", "org.bluez.GattCharacteristic1", "Notifying"), 3),
          "StopNotify: not notifying")

    # link loss
    rec.removed.clear()
    sim.ctl.SetInRange(A, False)
    check(wait_pump(lambda: not sim.prop(dev_path(A), "org.bluez.Device1", "Connected"), 3),
          "out of range: Connected goes false after the supervision timeout")
    check(wait_pump(lambda: (svc, ["org.freedesktop.DBus.Introspectable", "org.bluez.GattService1",
                                   "org.freedesktop.DBus.Properties"]) in rec.removed, 3),
          "the GATT service is removed")
    check(not sim.prop(dev_path(A), "org.bluez.Device1", "ServicesResolved"), "ServicesResolved is false")
    check(wait_pump(lambda: (dev_path(A), "org.bluez.Reason.Timeout") in rec.disconnected, 3),
          "5.82: Device1.Disconnected(org.bluez.Reason.Timeout) on link loss")
    check("Bonded" in sim.props(dev_path(A), "org.bluez.Device1"), "--bluez-version 5.82 has Bonded")
    err = None
    try:
        dev.Connect(timeout=5)
    except dbus.exceptions.DBusException as e:
        err = (e.get_dbus_name(), e.get_dbus_message())
    check(err == ("org.bluez.Error.Failed", "le-connection-abort-by-local"),
          "Connect out of range: org.bluez.Error.Failed le-connection-abort-by-local (%r)" % (err,))
    check(dbus_error(dev.Disconnect) == "org.bluez.Error.NotConnected", "Disconnect when not connected: NotConnected")

    # a pending Connect completes when the button comes back into range
    reply = []
    dev.Connect(reply_handler=lambda: reply.append("ok"), error_handler=lambda e: reply.append(e.get_dbus_name()),
                timeout=5)
    pump(0.1)
    check(dbus_error(dev.Connect) == "org.bluez.Error.InProgress", "a second Connect while one is pending: InProgress")
    sim.ctl.SetInRange(A, True)
    check(wait_pump(lambda: reply, 3) and reply == ["ok"], "the pending Connect succeeds once the button is in range")

    # Powered off
    props = sim.obj("/org/bluez/hci0", "org.freedesktop.DBus.Properties")
    check(dbus_error(props.Set, "org.bluez.Adapter1", "Powered", "yes") == "org.freedesktop.DBus.Error.InvalidArgs",
          "Powered with the wrong type: InvalidArgs")
    props.Set("org.bluez.Adapter1", "Powered", dbus.Boolean(False))
    check(not sim.prop(dev_path(A), "org.bluez.Device1", "Connected"), "Powered off disconnects")
    check(dbus_error(adapter.StartDiscovery) == "org.bluez.Error.NotReady", "StartDiscovery powered off: NotReady")
    check(dbus_error(dev.Connect) == "org.bluez.Error.NotReady", "Connect powered off: NotReady")
    props.Set("org.bluez.Adapter1", "Powered", dbus.Boolean(True))
    check(bool(sim.prop("/org/bluez/hci0", "org.bluez.Adapter1", "Powered")), "Powered on again")

    # RemoveDevice
    check(dbus_error(adapter.RemoveDevice, dbus.ObjectPath("/org/bluez/hci0/dev_00_00_00_00_00_00")) ==
          "org.bluez.Error.DoesNotExist", "RemoveDevice of an unknown device: DoesNotExist")
    adapter.RemoveDevice(dbus.ObjectPath(dev_path(B)))
    check(dev_path(B) not in sim.managed(), "RemoveDevice removes the object")

    # bluetoothd restart: the name goes away, stored devices come back
    dev.Connect()
    rec.added.clear()
    sim.ctl.RestartBluez(dbus.UInt32(400))
    check(not sim.bus.name_has_owner("org.bluez"), "RestartBluez: org.bluez has no owner")
    check(dbus_error(dev.Connect) in ("org.freedesktop.DBus.Error.ServiceUnknown",
                                      "org.freedesktop.DBus.Error.NameHasNoOwner"),
          "calls fail while bluetoothd is down")
    check(wait_pump(lambda: not sim.state(A)["Linked"], 2), "the button's link is gone")
    check(wait_pump(lambda: sim.bus.name_has_owner("org.bluez"), 5), "org.bluez comes back")
    check(wait_pump(lambda: any(p == "/org/bluez/hci0" for p, _ in rec.added), 3), "InterfacesAdded for hci0 again")
    objs = sim.managed()
    check(dev_path(A) in objs and "RSSI" not in objs[dev_path(A)]["org.bluez.Device1"] and
          not objs[dev_path(A)]["org.bluez.Device1"]["Connected"],
          "the connected-before (stored) device is back, disconnected, without RSSI")
    check(sim.state(A)["Advertising"] != "none", "the button is connectable again")
    dev = sim.obj(dev_path(A), "org.bluez.Device1")
    dev.Connect()
    check(wait_pump(lambda: bool(sim.prop(dev_path(A), "org.bluez.Device1", "ServicesResolved")), 5),
          "and can be connected again")

    # adapter removed and re-added
    rec.removed.clear()
    rec.added.clear()
    sim.ctl.RemoveAdapter()
    check(wait_pump(lambda: any(p == "/org/bluez/hci0" for p, _ in rec.removed) and
                    any(p == dev_path(A) for p, _ in rec.removed), 3),
          "RemoveAdapter: InterfacesRemoved for the device and hci0")
    check(set(str(p) for p in sim.managed()) == {"/org/bluez"}, "only /org/bluez is left")
    check(dbus_error(sim.ctl.RemoveAdapter) == "io.github.flicgate.Sim1.Error.Failed", "removing it twice fails")
    sim.ctl.AddAdapter()
    check(wait_pump(lambda: any(p == "/org/bluez/hci0" for p, _ in rec.added), 3), "AddAdapter: hci0 is back")
    check(dev_path(A) in sim.managed(), "with its stored device")

    # temporary devices go away when unseen (a new proxy: the old one follows the old owner)
    adapter = sim.obj("/org/bluez/hci0", "org.bluez.Adapter1")
    adapter.StartDiscovery()
    sim.ctl.SetPublicMode(C, True)
    sim.ctl.SetInRange(C, True)
    check(wait_pump(lambda: dev_path(C) in sim.managed(), 3), "a new temporary device")
    adapter.StopDiscovery()
    sim.ctl.SetInRange(C, False)
    check(wait_pump(lambda: dev_path(C) not in sim.managed(), 5), "it is removed after --temporary-timeout-s")

    # slow_connect: the next Connect is held back by the button's slow_connect_ms
    D = "80:E4:DA:70:00:04"
    sim.add(D, public_mode=True, slow_connect_ms=450)  # below --connect-timeout-ms
    adapter.StartDiscovery()
    check(wait_pump(lambda: dev_path(D) in sim.managed(), 3), "a button for slow_connect")
    adapter.StopDiscovery()
    sim.ctl.InjectFault(D, "slow_connect", dbus.UInt32(1))
    reply = []
    t0 = time.monotonic()
    sim.obj(dev_path(D), "org.bluez.Device1").Connect(
        reply_handler=lambda: reply.append(time.monotonic()), error_handler=lambda e: reply.append(e.get_dbus_name()),
        timeout=10)
    check(wait_pump(lambda: reply, 5) and isinstance(reply[0], float),
          "slow_connect: the Connect succeeds (%r)" % reply)
    check(reply and isinstance(reply[0], float) and reply[0] - t0 >= 0.45,
          "slow_connect: not before slow_connect_ms (450 ms) have passed")
    sim.ctl.RemoveButton(D)
    check(wait_pump(lambda: dev_path(D) not in sim.managed(), 3), "RemoveButton takes its device object away")

    # the control interface itself
    check(sorted(str(a) for a in sim.ctl.ListButtons()) == [A, B, C], "ListButtons")
    check(dbus_error(sim.ctl.Press, A, "triple") == "org.freedesktop.DBus.Error.InvalidArgs", "unknown gesture")
    check(dbus_error(sim.ctl.GetButton, "11:22:33:44:55:66") == "io.github.flicgate.Sim1.Error.NoSuchButton",
          "unknown button: NoSuchButton")
    check(dbus_error(sim.ctl.InjectFault, "*", "explode", 1) == "org.freedesktop.DBus.Error.InvalidArgs",
          "unknown fault kind")
    st = {str(k): v for k, v in sim.ctl.GetStatus().items()}
    check(st["Running"] and st["Restarts"] == 1 and st["Connects"] >= 3, "GetStatus counters")

# The kernel during an LE discovery: a Connect() to a device the controller
# already reported in this scan window waits for the window's end, or for
# the discovery to stop (then the kernel scans passively and connects).
WINDOW = 1.5
with Sim(["--connect-ms", "5", "--scan-interval-ms", "50", "--discovery-window-ms", str(int(WINDOW * 1000))]) as sim:
    def status():
        return {str(k): v for k, v in sim.ctl.GetStatus().items()}

    def connect(path):
        out = []
        sim.obj(path, "org.bluez.Device1").Connect(
            reply_handler=lambda: out.append(time.monotonic()),
            error_handler=lambda e: out.append(e.get_dbus_name()), timeout=30)
        return out

    sim.add(A, public_mode=True)
    adapter = sim.obj("/org/bluez/hci0", "org.bluez.Adapter1")
    adapter.SetDiscoveryFilter({"UUIDs": dbus.Array([FLIC_SERVICE], signature="s"), "Transport": "le"})
    adapter.StartDiscovery()
    check(wait_pump(lambda: dev_path(A) in sim.managed(), 5), "window: the button is reported")
    t0 = time.monotonic()
    reply = connect(dev_path(A))
    pump(0.3)
    check(not reply and not sim.prop(dev_path(A), "org.bluez.Device1", "Connected") and status()["ConnectsHeld"] == 1,
          "a Connect() while discovering, to a device reported in this window, is held (%r)" % reply)
    check(wait_pump(lambda: reply, WINDOW + 3) and isinstance(reply[0], float), "it goes on when the window ends")
    check(status()["WindowWaits"] == 1 and reply and isinstance(reply[0], float) and reply[0] - t0 < WINDOW + 1,
          "once, within one window (%.2f s)" % ((reply[0] - t0) if reply and isinstance(reply[0], float) else -1))
    sim.obj(dev_path(A), "org.bluez.Device1").Disconnect()
    check(wait_pump(lambda: status()["ConnectsHeld"] == 1 and sim.state(A)["Advertising"] != "none", 3) and
          wait_pump(lambda: not sim.prop(dev_path(A), "org.bluez.Device1", "Connected"), 3), "disconnected")
    pump(0.2)
    reply = connect(dev_path(A))
    check(wait_pump(lambda: status()["ConnectsHeld"] == 2, 2) and not reply, "held again while discovering")
    t0 = time.monotonic()
    adapter.StopDiscovery()
    check(wait_pump(lambda: reply, 3) and isinstance(reply[0], float), "StopDiscovery releases it")
    check(status()["WindowWaits"] == 1, "without waiting for the window")
    sim.obj(dev_path(A), "org.bluez.Device1").Disconnect()
    check(wait_pump(lambda: not sim.prop(dev_path(A), "org.bluez.Device1", "Connected"), 3), "disconnected again")
    reply = connect(dev_path(A))
    check(wait_pump(lambda: reply, 3) and isinstance(reply[0], float) and status()["ConnectsHeld"] == 2,
          "without a discovery nothing is held")

finish()
