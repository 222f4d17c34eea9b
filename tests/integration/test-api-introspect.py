#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The D-Bus interface is written once, in daemon/control/io.github.flicgate1.xml
(installed in /usr/share/dbus-1/interfaces/): the real flicgated on a private
bus introspects every kind of object it exports (the root, the gateway, a
configured button, a paired-by-address-only path is the same fallback
vtable) and each interface must be exactly the file's, both ways: no
method, argument, property, signal or annotation missing, none extra, same
names, types, directions and access. The standard org.freedesktop.DBus.*
interfaces are left out."""
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import SRCDIR, Daemon, PrivateBus, TempDir, check, finish, wait_for
from fgapi import BT_IFACE, GATEWAY, GW_IFACE, ROOT, Client

XML = os.path.join(SRCDIR, "daemon", "control", "io.github.flicgate1.xml")

INI = """[gateway]
name = ward-3
state_dir = %(state)s
[webhook sink]
url = http://127.0.0.1:9/x
[button reception]
address = 80:E4:DA:70:12:34
"""


def annotations(el):
    return sorted((a.get("name"), a.get("value")) for a in el.findall("annotation"))


def interfaces(text):
    """{interface: {member key: description}} of a node's XML, standard ones left out."""
    out = {}
    for iface in ET.fromstring(text).findall("interface"):
        name = iface.get("name")
        if name.startswith("org.freedesktop.DBus."):
            continue
        members = {}
        for m in iface.findall("method"):
            members["method " + m.get("name")] = (
                [(a.get("name"), a.get("type"), a.get("direction", "in")) for a in m.findall("arg")],
                annotations(m))
        for s in iface.findall("signal"):
            members["signal " + s.get("name")] = (
                [(a.get("name"), a.get("type")) for a in s.findall("arg")], annotations(s))
        for p in iface.findall("property"):
            members["property " + p.get("name")] = (p.get("type"), p.get("access"), annotations(p))
        members["annotations"] = annotations(iface)
        out[name] = members
    return out


def compare(path, iface, served, defined):
    missing = sorted(set(defined) - set(served))
    extra = sorted(set(served) - set(defined))
    differ = sorted(k for k in set(served) & set(defined) if served[k] != defined[k])
    check(not missing, "%s %s: nothing of the XML missing %s" % (path, iface, missing))
    check(not extra, "%s %s: nothing served beyond the XML %s" % (path, iface, extra))
    for k in differ:
        check(False, "%s %s: %s is %s, the XML says %s" % (path, iface, k, served[k], defined[k]))
    if not differ:
        check(True, "%s %s: every member's signature, direction and access as in the XML"
              % (path, iface))


defined = interfaces(open(XML).read())
check(sorted(defined) == sorted([GW_IFACE, BT_IFACE]),
      "the XML defines the Gateway and the Button (%s)" % sorted(defined))

with TempDir() as tmp:
    ini = tmp.file("flicgate.ini", INI % {"state": os.path.join(tmp.path, "state")})
    bus = PrivateBus(tmp)
    d = Daemon(tmp, bus, ini)
    c = None
    try:
        check(wait_for(lambda: bus.name_owner("io.github.flicgate1")), "the daemon owns its name")
        c = Client(bus.address)
        button = ROOT + "/button/reception"
        expect = {ROOT: [], GATEWAY: [GW_IFACE], button: [BT_IFACE]}
        seen = set()
        for path, ifaces in expect.items():
            served = interfaces(str(c.introspect(path)))
            check(sorted(served) == sorted(ifaces),
                  "%s serves %s (%s)" % (path, ifaces or "only the standard interfaces", sorted(served)))
            for iface in ifaces:
                if iface in served:
                    compare(path, iface, served[iface], defined[iface])
                    seen.add(iface)
        check(seen == set(defined), "every interface of the XML is served somewhere")
        rc = d.stop()
        check(rc == 0, "it stops cleanly (exit %s)" % rc)
    finally:
        if c:
            c.close()
        d.close()
        bus.close()

finish()
