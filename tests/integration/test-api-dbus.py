#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The control API of the real flicgated on a private bus, seen by an
independent client (python-dbus): the object tree through ObjectManager,
Gateway and Button properties from flicgate.ini, GetButton by name, address
and serial, the error names of the one error table, what the button layer
answers while bluetoothd is not running (a pairing window opens, is Busy
for a second caller, closes on request and times out; unpair of a button
never paired; an empty export and its import; a file that is no export), a
test alert delivered to the loopback sink (Delivery signals,
RecentDeliveries, Targets), Reload (good, broken) with InterfacesAdded /
InterfacesRemoved / PropertiesChanged, and introspection with argument
names. Pairing with buttons: test-ctl-bluez.py."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import Daemon, PrivateBus, TempDir, check, finish, wait_for
import dbus
from delivery import Sink
from fgapi import (BT_IFACE, ERR, GATEWAY, GW_IFACE, ROOT, Client, version)

U = dbus.UInt32

INI = """[gateway]
name = ward-3
state_dir = %(state)s
[bluetooth]
pairing = listed
[webhook sink]
url = %(url)s/POSTAlert/SECRETKEY/Flic
[button reception]
address = 80:E4:DA:70:12:34
serial = BG30-C12345
[button bed-1]
serial = BG30-D00001
"""

with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp.path)
    ini = tmp.file("flicgate.ini", INI % {"state": state, "url": sink.url})
    bus = PrivateBus(tmp)
    d = Daemon(tmp, bus, ini)
    c = None
    try:
        check(wait_for(lambda: bus.name_owner("io.github.flicgate1")), "the daemon owns its name")
        c = Client(bus.address)

        # ---- the object tree
        objs = c.managed()
        paths = sorted(str(p) for p in objs)
        check(paths == [ROOT + "/button/bed_2d1", ROOT + "/button/reception", GATEWAY],
              "ObjectManager lists the gateway and one object per button (%s)" % paths)
        rec = objs.get(ROOT + "/button/reception", {}).get(BT_IFACE, {})
        check(str(rec.get("Name")) == "reception" and str(rec.get("Address")) == "80:E4:DA:70:12:34"
              and str(rec.get("Serial")) == "BG30-C12345" and bool(rec.get("Configured"))
              and not bool(rec.get("Paired")) and not bool(rec.get("Connected")),
              "a button's properties come from its [button] section")
        bed = objs.get(ROOT + "/button/bed_2d1", {}).get(BT_IFACE, {})
        check(str(bed.get("Address")) == "" and str(bed.get("Id")) == "bed-1",
              "unknown values are empty; the id is the section name")
        check(rec.get("RSSI") == 0 and rec.get("BatteryMillivolts") == 0 and rec.get("LastSeen") == 0
              and rec.get("FirmwareVersion") == 0 and str(rec.get("LastEvent")) == ""
              and rec.get("LastEventTime") == 0, "no radio data while bluetoothd is not running")

        g = c.props(GATEWAY, GW_IFACE)
        check(str(g["Version"]) == version(), "Version is flicgated's (%s)" % g["Version"])
        check(str(g["Name"]) == "ward-3" and str(g["ConfigPath"]) == ini, "Name and ConfigPath")
        check(list(g["Features"]) == ["bluetooth", "delivery", "feedback", "pairing-store"],
              "Features: every subsystem (%s)" % list(g["Features"]))
        check(g["Buttons"] == 2 and g["ConnectedButtons"] == 0 and list(g["OpenAlerts"]) == [],
              "button counters")
        check(str(g["PairingPolicy"]) == "listed" and not g["PairingWindowOpen"]
              and g["PairingWindowEnd"] == 0, "pairing policy from [bluetooth]")
        check(g["SpoolDepth"] == 0 and [tuple(t) for t in g["Targets"]] == [("sink", "healthy", 0, 0, 0, 0, "")],
              "Targets from the pipeline")
        check(str(g["AdapterState"]) == "no-bluetoothd" and str(g["Adapter"]) == "",
              "nobody owns org.bluez: AdapterState no-bluetoothd, no adapter (%r)" % str(g["AdapterState"]))
        check(str(rec.get("AlertState")) == "closed", "AlertState from the pipeline's mapping")
        check(g["StartTime"] > 1_600_000_000_000_000, "StartTime is a CLOCK_REALTIME µs value")

        # ---- GetButton
        for q, want in (("reception", "reception"), ("80-e4-da-70-12-34", "reception"),
                        ("bg30-d00001", "bed_2d1"), ("bed-1", "bed_2d1")):
            r, err = c.call(GATEWAY, GW_IFACE, "GetButton", q)
            check(err is None and str(r) == ROOT + "/button/" + want, "GetButton(%r) -> %s" % (q, r))
        r, err = c.call(GATEWAY, GW_IFACE, "GetButton", "nope")
        check(err and err[0] == ERR + "UnknownButton" and "nope" in err[1],
              "GetButton of an unknown button: Error.UnknownButton (%s)" % (err,))
        r, err = c.call(ROOT + "/button/nope", BT_IFACE, "Unpair")
        check(err and err[0] == "org.freedesktop.DBus.Error.UnknownObject",
              "a path that is no button is an unknown object (%s)" % (err,))

        # ---- the button layer without a radio: windows, unpair, export, import
        c.reset()
        t0 = time.time()
        r, err = c.call(GATEWAY, GW_IFACE, "OpenPairingWindow", U(30), "")
        check(err is None, "OpenPairingWindow works without bluetoothd (%s)" % (err,))
        s = c.wait_signal(lambda s: s[1] == "PairingProgress")
        check(s is not None and [str(x) for x in s[3]] == ["scanning", "", "", ""],
              "PairingProgress scanning (%s)" % (s and list(s[3])))
        g = c.props(GATEWAY, GW_IFACE)
        check(g["PairingWindowOpen"] and abs(g["PairingWindowEnd"] / 1e6 - (t0 + 30)) < 3,
              "PairingWindowOpen, PairingWindowEnd about 30 s from now")
        s = c.wait_signal(lambda s: s[1] == "PropertiesChanged" and s[2] == GATEWAY
                          and "PairingWindowOpen" in s[3][1] and s[3][1]["PairingWindowOpen"])
        check(s is not None and s[3][1]["PairingWindowEnd"] == g["PairingWindowEnd"],
              "PropertiesChanged announces the window with the same end")
        r, err = c.call(GATEWAY, GW_IFACE, "OpenPairingWindow", U(30), "")
        check(err and err[0] == ERR + "Busy" and "already open" in err[1], "a second window: Error.Busy (%s)" % (err,))
        check(c.props(GATEWAY, GW_IFACE)["PairingWindowEnd"] == g["PairingWindowEnd"],
              "...and the open one runs on unchanged")
        c.reset()
        r, err = c.call(GATEWAY, GW_IFACE, "ClosePairingWindow")
        check(err is None, "ClosePairingWindow (%s)" % (err,))
        s = c.wait_signal(lambda s: s[1] == "PairingProgress")
        check(s is not None and [str(x) for x in s[3]] == ["closed", "", "", "closed on request"],
              "PairingProgress closed (%s)" % (s and list(s[3])))
        g = c.props(GATEWAY, GW_IFACE)
        check(not g["PairingWindowOpen"] and g["PairingWindowEnd"] == 0, "the window is closed")
        c.reset()
        r, err = c.call(GATEWAY, GW_IFACE, "ClosePairingWindow")
        c.reset()
        check(err is None and not [x for x in c.signals if x[1] == "PairingProgress"],
              "ClosePairingWindow without a window: a no-op, no signal (%s)" % (err,))
        r, err = c.call(GATEWAY, GW_IFACE, "OpenPairingWindow", U(5), "bed-9")
        check(err is None, "a named 5 s window")
        s = c.wait_signal(lambda s: s[1] == "PairingProgress" and str(s[3][0]) == "timeout", 10)
        check(s is not None and [str(x) for x in s[3]] == ["timeout", "", "", ""], "...times out by itself")
        check(not c.props(GATEWAY, GW_IFACE)["PairingWindowOpen"], "...and is closed")

        r, err = c.call(ROOT + "/button/reception", BT_IFACE, "Unpair")
        check(err and err[0] == ERR + "NotPaired" and "reception" in err[1],
              "Unpair of a button never paired: Error.NotPaired (%s)" % (err,))
        r, err = c.call(ROOT + "/button/bed_2d1", BT_IFACE, "Unpair")
        check(err and err[0] == ERR + "NotPaired", "...also one known by serial only")
        r, err = c.call(GATEWAY, GW_IFACE, "ExportPairings")
        doc = str(r[0]) if r else ""
        check(err is None and r[1] == 0 and doc.startswith("flicgate-pairings 1\n")
              and "--- pairing" not in doc and doc.splitlines()[-1].startswith("--- sha256 "),
              "ExportPairings: a sealed document without buttons (%s)" % (err,))
        r, err = c.call(GATEWAY, GW_IFACE, "ImportPairings", doc, True)
        check(err is None and r == 0, "...which imports: 0 buttons (%s)" % (err,))
        r, err = c.call(GATEWAY, GW_IFACE, "ImportPairings", "x", False)
        check(err and err[0] == ERR + "BadPairingFile" and "line 1" in err[1] and "nothing was imported" in err[1],
              "ImportPairings of something else: Error.BadPairingFile naming line 1 (%s)" % (err,))
        edited = doc.replace("of 0 Flic 2 buttons", "of 9 Flic 2 buttons")
        r, err = c.call(GATEWAY, GW_IFACE, "ImportPairings", edited, False)
        check(edited != doc and err and err[0] == ERR + "BadPairingFile" and "SHA-256" in err[1],
              "...and of an edited export: the seal does not match (%s)" % (err,))
        r, err = c.call(GATEWAY, GW_IFACE, "Acknowledge")
        check(err is None and isinstance(r, dbus.Boolean), "Acknowledge reaches the LEDs and buzzer (%s)" % (err,))

        # arguments are checked first
        r, err = c.call(GATEWAY, GW_IFACE, "OpenPairingWindow", U(2), "")
        check(err and err[0] == ERR + "InvalidArgument", "a 2 s window is refused: InvalidArgument")
        r, err = c.call(GATEWAY, GW_IFACE, "OpenPairingWindow", U(0), "bad name!")
        check(err and err[0] == ERR + "InvalidArgument", "a bad name is refused: InvalidArgument")
        r, err = c.call(GATEWAY, GW_IFACE, "OpenPairingWindow", U(0), "reception")
        check(err and err[0] == ERR + "NameTaken", "a taken name is refused: NameTaken")
        r, err = c.call(GATEWAY, GW_IFACE, "SendTestAlert", "nope", "")
        check(err and err[0] == ERR + "UnknownButton", "a test alert for an unknown button")

        # ---- a test alert through the real pipeline to the loopback sink
        r, err = c.call(GATEWAY, GW_IFACE, "RecentDeliveries", U(0))
        check(err is None and list(r) == [], "RecentDeliveries: none yet")
        c.reset()
        r, err = c.call(GATEWAY, GW_IFACE, "SendTestAlert", "BG30-C12345", "sink")
        check(err is None, "SendTestAlert for the button with serial BG30-C12345 (%s)" % (err,))
        s = c.wait_signal(lambda s: s[1] == "Delivery" and s[3][4] == "off")
        ds = [x[3] for x in c.signals if x[1] == "Delivery"]
        check(len(ds) == 2 and [str(d[4]) for d in ds] == ["on", "off"] and all(
              d[5] and str(d[2]) == "reception" and str(d[3]) == "sink" and str(d[6]) == "delivered"
              and 200 <= d[7] < 300 and d[10] == 1 for d in ds),
              "two Delivery signals (on, off), marked test, delivered (%s)" % [tuple(d) for d in ds])
        check(len(sink.requests()) == 2, "the sink got both")
        r, err = c.call(GATEWAY, GW_IFACE, "RecentDeliveries", U(0))
        check(err is None and [str(x[4]) for x in r] == ["off", "on"] and str(r[0][1]) == str(ds[1][1]),
              "RecentDeliveries lists them, newest first")
        t = c.props(GATEWAY, GW_IFACE)["Targets"]
        check(t[0][3] == 2 and t[0][2] == 0 and c.props(GATEWAY, GW_IFACE)["SpoolDepth"] == 0,
              "Targets counts them delivered; the spool is empty again")
        check(str(c.props(ROOT + "/button/reception", BT_IFACE)["AlertState"]) == "closed",
              "a test alert leaves the button's alert state alone")
        r, err = c.call(GATEWAY, GW_IFACE, "SendTestAlert", "", "nowhere")
        check(err and err[0] == ERR + "UnknownTarget", "a test alert to an unknown target: UnknownTarget")

        # ---- rename: flicgate.ini is the source of truth
        r, err = c.call(ROOT + "/button/reception", BT_IFACE, "Rename", "front-desk")
        check(err and err[0] == ERR + "Configured" and "[button reception]" in err[1] and ini in err[1]
              and "flicgatectl reload" in err[1], "renaming a configured button points to the INI")
        r, err = c.call(ROOT + "/button/reception", BT_IFACE, "Rename", "x y")
        check(err and err[0] == ERR + "InvalidArgument", "an invalid new name: InvalidArgument")
        r, err = c.call(ROOT + "/button/reception", BT_IFACE, "Rename", "bed-1")
        check(err and err[0] == ERR + "NameTaken", "another button's name: NameTaken")

        # ---- introspection carries argument names
        xml = str(c.introspect(GATEWAY))
        check('<arg type="u" name="timeout_sec" direction="in"/>' in xml
              and '<arg type="s" name="stage"/>' in xml and 'name="PairingProgress"' in xml,
              "introspection names the arguments")

        # ---- Reload over D-Bus: a button added, one removed
        with open(ini, "a") as f:
            f.write("[button bed-2]\naddress = 80:E4:DA:70:00:02\n")
        r, err = c.call(GATEWAY, GW_IFACE, "Reload")
        check(err is None, "Reload succeeds (%s)" % (err,))
        s = c.wait_signal(lambda s: s[1] == "InterfacesAdded" and str(s[3][0]) == ROOT + "/button/bed_2d2")
        check(s is not None and BT_IFACE in s[3][1] and str(s[3][1][BT_IFACE]["Address"]) == "80:E4:DA:70:00:02",
              "InterfacesAdded for the new button, with its properties")
        s = c.wait_signal(lambda s: s[1] == "PropertiesChanged" and s[2] == GATEWAY and "Buttons" in s[3][1])
        check(s is not None and s[3][1]["Buttons"] == 3, "the gateway's Buttons changes to 3")
        check(c.props(GATEWAY, GW_IFACE)["Buttons"] == 3, "Buttons reads 3")

        text = open(ini).read().replace("[button bed-1]\nserial = BG30-D00001\n", "")
        with open(ini, "w") as f:
            f.write(text)
        c.signals.clear()
        d.signal(signal.SIGHUP)
        s = c.wait_signal(lambda s: s[1] == "InterfacesRemoved" and str(s[3][0]) == ROOT + "/button/bed_2d1")
        check(s is not None and BT_IFACE in [str(x) for x in s[3][1]],
              "SIGHUP reload: InterfacesRemoved for the button gone from the file")
        check(ROOT + "/button/bed_2d1" not in [str(p) for p in c.managed()], "and it is gone from the tree")

        # a broken file is refused with every error, the running config stays
        with open(ini, "a") as f:
            f.write("[button bad]\naddress = nonsense\nfoo = 1\n")
        r, err = c.call(GATEWAY, GW_IFACE, "Reload")
        check(err and err[0] == ERR + "ConfigRejected" and "2 errors" in err[1]
              and "flicgate.ini:14: button.address" in err[1] and "flicgate.ini:15: button.foo" in err[1],
              "a broken file: Error.ConfigRejected listing file:line errors (%s)" % (err and err[1]))
        check(c.props(GATEWAY, GW_IFACE)["Buttons"] == 2, "the running configuration is kept")
        check(d.proc.poll() is None, "the daemon keeps running")
        rc = d.stop()
        check(rc == 0, "it stops cleanly (exit %s; sanitizers report through it)" % rc)
    finally:
        if c:
            c.close()
        d.close()
        bus.close()
        sink.close()
    check("SECRETKEY" not in d.output(), "the webhook key never reaches the log")

finish()
