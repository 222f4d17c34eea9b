#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The API module's signals and derived properties, with the real
daemon/control/api.c inside api-driver (a scripted provider stands in for the
BlueZ adapter, the pipeline and the GPIO code until they are wired):
PairingProgress in order from scanning to saved, InterfacesAdded for the
paired button, the pairing window properties, PropertiesChanged for a
button's state, OpenAlerts and ConnectedButtons derived from the buttons,
Delivery signals and RecentDeliveries, Targets, and the error table for
provider failures (Busy, PairingLocked, NotPaired, UnknownTarget, …)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dbus
from fgtest import PrivateBus, TempDir, check, finish
from fgapi import BT_IFACE, ERR, GATEWAY, GW_IFACE, ROOT, Client, Driver

U = dbus.UInt32

with TempDir() as tmp:
    bus = PrivateBus(tmp)
    drv = Driver(bus, os.path.join(tmp.path, "driver.log"))
    c = Client(bus.address)
    try:
        drv.cmd("button reception configured=1 address=80:E4:DA:70:12:34 serial=BG30-C12345")
        drv.cmd("target alertops healthy 0 12 0 200")
        g = c.props(GATEWAY, GW_IFACE)
        check(sorted(str(f) for f in g["Features"]) == ["bluetooth", "delivery", "feedback", "pairing-store"],
              "Features lists the subsystems the provider has")
        check([tuple(t) for t in g["Targets"]] == [("alertops", "healthy", 0, 12, 0, 200, "")],
              "Targets: (name, health, queued, delivered, dead, last status, error)")

        # ---- a pairing window from scanning to saved
        for step in ("found 80:E4:DA:70:00:07", "verifying", "paired - BG30-P10001", "saved"):
            drv.cmd("plan " + step)
        c.reset()
        r, err = c.call(GATEWAY, GW_IFACE, "OpenPairingWindow", U(30), "bed-7")
        check(err is None and drv.called("open_pairing 30 bed-7"),
              "OpenPairingWindow passes the timeout and the name (%s)" % (err,))
        s = c.wait_signal(lambda s: s[1] == "PairingProgress" and s[3][0] == "saved")
        stages = [str(x[3][0]) for x in c.signals if x[1] == "PairingProgress"]
        check(stages == ["scanning", "found", "verifying", "paired", "saved"],
              "PairingProgress: scanning, found, verifying, paired, saved (%s)" % stages)
        check(s and str(s[3][1]) == "80:E4:DA:70:00:07" and str(s[3][2]) == "bed-7",
              "saved carries the address and the button's name")
        added = [x for x in c.signals if x[1] == "InterfacesAdded"]
        check(len(added) == 1 and str(added[0][3][0]) == ROOT + "/button/bed_2d7"
              and bool(added[0][3][1][BT_IFACE]["Paired"]), "InterfacesAdded for the paired button")
        opened = [x for x in c.signals if x[1] == "PropertiesChanged" and x[2] == GATEWAY
                  and "PairingWindowOpen" in x[3][1]]
        check(len(opened) >= 2 and bool(opened[0][3][1]["PairingWindowOpen"])
              and opened[0][3][1]["PairingWindowEnd"] > 0 and not bool(opened[-1][3][1]["PairingWindowOpen"]),
              "PairingWindowOpen goes true then false, with its end time")
        check(added and stages.index("saved") >= 0 and c.signals.index(added[0]) <
              [i for i, x in enumerate(c.signals) if x[1] == "PairingProgress" and x[3][0] == "saved"][0],
              "the button object exists before 'saved' is announced")

        # ---- errors from the provider reach the caller by name
        drv.cmd("plan clear")
        r, err = c.call(GATEWAY, GW_IFACE, "OpenPairingWindow", U(0), "")
        r, err = c.call(GATEWAY, GW_IFACE, "OpenPairingWindow", U(0), "")
        check(err and err[0] == ERR + "Busy", "a second window: Error.Busy (%s)" % (err,))
        r, err = c.call(GATEWAY, GW_IFACE, "ClosePairingWindow")
        s = c.wait_signal(lambda s: s[1] == "PairingProgress" and s[3][0] == "closed")
        check(err is None and s is not None, "ClosePairingWindow ends it with 'closed'")
        drv.cmd("gateway policy=locked")
        r, err = c.call(GATEWAY, GW_IFACE, "OpenPairingWindow", U(0), "")
        check(err and err[0] == ERR + "PairingLocked", "pairing = locked: Error.PairingLocked")
        drv.cmd("gateway policy=window")
        drv.cmd("fail reload ConfigRejected x.ini:3: gateway.nmae: unknown key")
        r, err = c.call(GATEWAY, GW_IFACE, "Reload")
        check(err == (ERR + "ConfigRejected", "x.ini:3: gateway.nmae: unknown key"),
              "a provider's error code and message pass through (%s)" % (err,))
        drv.cmd("fail unpair Failed disk full")
        r, err = c.call(ROOT + "/button/bed_2d7", BT_IFACE, "Unpair")
        check(err == (ERR + "Failed", "disk full"), "Error.Failed with the provider's text")
        r, err = c.call(ROOT + "/button/reception", BT_IFACE, "Unpair")
        check(err and err[0] == ERR + "NotPaired", "unpairing an unpaired button: Error.NotPaired")
        r, err = c.call(GATEWAY, GW_IFACE, "SendTestAlert", "", "nowhere")
        check(err and err[0] == ERR + "UnknownTarget", "a test alert to an unknown target")

        # ---- a button's state: PropertiesChanged with the new values
        c.reset()
        drv.cmd("button reception connected=1 rssi=-61 battery=2950 firmware=10 last_event=click "
                "last_event_time=1795000000000000 alert=open last_seen=1795000000000000")
        s = c.wait_signal(lambda s: s[1] == "PropertiesChanged" and s[2] == ROOT + "/button/reception")
        check(s and s[3][0] == BT_IFACE and s[3][1]["RSSI"] == -61 and s[3][1]["BatteryMillivolts"] == 2950
              and str(s[3][1]["AlertState"]) == "open" and str(s[3][1]["LastEvent"]) == "click",
              "PropertiesChanged carries the button's new values")
        s = c.wait_signal(lambda s: s[1] == "PropertiesChanged" and s[2] == GATEWAY
                          and list(s[3][1].get("OpenAlerts", [])))
        check(s and [str(x) for x in s[3][1]["OpenAlerts"]] == ["reception"] and s[3][1]["ConnectedButtons"] == 2,
              "the gateway's OpenAlerts and ConnectedButtons follow")

        # ---- deliveries
        c.reset()
        drv.cmd("delivery a-17 reception alertops on 0 delivered 202 45000 1")
        drv.cmd("delivery a-18 reception alertops off 0 retry 503 2000000 2 Service Unavailable")
        s = c.wait_signal(lambda s: s[1] == "Delivery" and s[3][1] == "a-18")
        check(s and tuple(s[3][1:]) == ("a-18", "reception", "alertops", "off", False, "retry", 503,
                                        "Service Unavailable", 2000000, 2),
              "Delivery signal with every field (%s)" % (s and s[3][1:],))
        r, err = c.call(GATEWAY, GW_IFACE, "RecentDeliveries", U(0))
        check(err is None and [str(x[1]) for x in r] == ["a-18", "a-17"], "RecentDeliveries, newest first")
        r, err = c.call(GATEWAY, GW_IFACE, "RecentDeliveries", U(1))
        check(err is None and len(r) == 1, "RecentDeliveries(max) limits the answer")

        r, err = c.call(GATEWAY, GW_IFACE, "Acknowledge")
        check(err is None and bool(r) is True, "Acknowledge says whether anything was silenced")
        r, err = c.call(GATEWAY, GW_IFACE, "SendTestAlert", "BG30-C12345", "alertops")
        check(err is None and drv.called("test_alert reception alertops"),
              "SendTestAlert resolves the button (by serial) to its id")

        # ---- the button set changes
        c.reset()
        drv.cmd("remove bed-7")
        s = c.wait_signal(lambda s: s[1] == "InterfacesRemoved")
        check(s and str(s[3][0]) == ROOT + "/button/bed_2d7", "InterfacesRemoved when a button goes")
        check(c.props(GATEWAY, GW_IFACE)["Buttons"] == 1, "Buttons follows")
        rc = drv.close()
        check(rc == 0, "api-driver ends cleanly (exit %s; sanitizers report through it)" % rc)
    finally:
        c.close()
        drv.close()
        bus.close()

finish()
