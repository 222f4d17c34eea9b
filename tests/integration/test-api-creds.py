#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Who may call, without blocking, seen from the bus (docs/dbus-api.md).

The real flicgated on a private dbus-daemon, with dbus-monitor watching
every GetConnectionCredentials on the bus: the daemon asks about a
connection once and remembers the verdict, for callers it lets in and for
callers it refuses (refused the same way the second time, logged each
time); many connections calling at once for the first time are all
answered, each asked about once. (Calls on hold, their order, the limit on
them and a failing bus: tests/test-api.c, where the test plays the bus.)"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import Daemon, PrivateBus, TempDir, check, finish, skip, wait_for
from fgapi import ERR, GATEWAY, GW_IFACE, NAME, NOBODY

if not shutil.which("dbus-monitor"):
    skip("dbus-monitor is not installed (dbus-bin)")

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

INI = """[gateway]
name = creds
state_dir = %(state)s
[webhook sink]
url = http://127.0.0.1:9/POSTAlert/KEY/Flic
[button reception]
address = 80:E4:DA:70:12:34
"""

# Two Reloads on one connection as another user: its unique name, then
# each answer ("ok" or the error name and message).
PY_TWICE = """
import dbus, sys
bus = dbus.bus.BusConnection(sys.argv[1])
print(bus.get_unique_name())
gw = bus.get_object("io.github.flicgate1", "/io/github/flicgate1/gateway", introspect=False)
for i in range(2):
    try:
        gw.Reload(dbus_interface="io.github.flicgate1.Gateway")
        print("ok")
    except dbus.exceptions.DBusException as e:
        print(e.get_dbus_name() + " " + e.get_dbus_message())
"""


class Monitor:
    """dbus-monitor on the bus, for the questions the daemon asks it."""

    def __init__(self, tmp, bus):
        self.bus = bus
        self.path = os.path.join(tmp.path, "monitor.log")
        self.out = open(self.path, "w")
        self.proc = subprocess.Popen(["dbus-monitor", "--address", bus.address,
                                      "type='method_call',interface='org.freedesktop.DBus',"
                                      "member='GetConnectionCredentials'"],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        self.marks = 0
        check(self.sync(), "dbus-monitor watches the bus")

    def asked(self):
        """(asking connection, connection asked about) for every question seen."""
        with open(self.path, errors="replace") as f:
            text = f.read()
        return re.findall(r'method call .*?sender=(\S+) -> destination=org\.freedesktop\.DBus .*?'
                          r'member=GetConnectionCredentials\n\s+string "([^"]*)"', text)

    def sync(self):
        """Asks a question of our own, about a name used once, until
        dbus-monitor shows it: it sees the bus's messages in order, so
        everything sent before is in by then."""
        self.marks += 1
        mark = "io.github.flicgate1.test.mark%d" % self.marks

        def seen():
            self.bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus.GetConnectionCredentials", "string:" + mark)
            return any(who == mark for _, who in self.asked())
        return wait_for(seen, 20, 0.2)

    def times(self, asker, about):
        return sum(1 for a, who in self.asked() if a == asker and who == about)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def daemon_unique_name(bus):
    rc, out = bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                       "org.freedesktop.DBus.GetNameOwner", "string:" + NAME)
    m = re.search(r'string "(:[0-9.]+)"', out)
    return m.group(1) if rc == 0 and m else None


def reload_on(conn):
    try:
        conn.get_object(NAME, GATEWAY, introspect=False).Reload(dbus_interface=GW_IFACE)
        return "ok"
    except dbus.exceptions.DBusException as e:
        return e.get_dbus_name()


with TempDir() as tmp:
    os.chmod(tmp.path, 0o755)	# another uid must reach the bus socket
    state = os.path.join(tmp.path, "state")
    ini = tmp.file("flicgate.ini", INI % {"state": state})
    bus = PrivateBus(tmp)
    d = Daemon(tmp, bus, ini)
    mon = None
    try:
        check(wait_for(lambda: bus.name_owner(NAME)), "the daemon owns its name")
        daemon = daemon_unique_name(bus)
        check(daemon is not None, "the daemon's unique name (%s)" % daemon)
        mon = Monitor(tmp, bus)

        # ---- a caller let in: asked about once, however often it calls
        conn = dbus.bus.BusConnection(bus.address)
        me = conn.get_unique_name()
        got = [reload_on(conn) for _ in range(3)]
        check(got == ["ok"] * 3, "root may reload, three times on one connection (%s)" % got)
        mon.sync()
        check(mon.times(daemon, me) == 1,
              "the daemon asked the bus about that connection once (%d)" % mon.times(daemon, me))
        # a new connection is a new caller
        conn2 = dbus.bus.BusConnection(bus.address)
        check(reload_on(conn2) == "ok", "a second connection may reload")
        mon.sync()
        check(mon.times(daemon, conn2.get_unique_name()) == 1, "it is asked about once too")
        conn.close()
        conn2.close()

        # ---- a caller refused: the same answer, from the remembered verdict
        if os.geteuid() == 0:
            p = subprocess.run(NOBODY + ["/usr/bin/python3", "-c", PY_TWICE, bus.address],
                               capture_output=True, text=True, timeout=60)
            lines = p.stdout.splitlines()
            want = ERR + "NotAuthorized Only root and members of group 'flicgate' may call Reload"
            check(len(lines) == 3 and lines[1] == want and lines[2] == want,
                  "nobody is refused twice, the same way (%r %r)" % (lines, p.stderr[-300:]))
            if lines:
                mon.sync()
                check(mon.times(daemon, lines[0]) == 1,
                      "the daemon asked about nobody's connection once (%d)" % mon.times(daemon, lines[0]))
            check(wait_for(lambda: d.output().count(
                "Refused io.github.flicgate1.Gateway.Reload from uid 65534") == 2),
                "both refusals are logged with the uid")
        else:
            print("note: not root, the refused caller ('nobody', setpriv) is left out")

        # ---- many first calls at once, each from its own connection
        loop = dbus.mainloop.glib.DBusGMainLoop()
        conns = [dbus.bus.BusConnection(bus.address, mainloop=loop) for _ in range(24)]
        answers = {}
        for i, c in enumerate(conns):
            c.get_object(NAME, GATEWAY, introspect=False).Reload(
                dbus_interface=GW_IFACE,
                reply_handler=lambda i=i: answers.__setitem__(i, "ok"),
                error_handler=lambda e, i=i: answers.__setitem__(i, e.get_dbus_name()))
        ctx = GLib.MainContext.default()
        end = time.monotonic() + 60
        while len(answers) < len(conns) and time.monotonic() < end:
            ctx.iteration(True)
        check(sorted(answers) == list(range(24)) and set(answers.values()) == {"ok"},
              "24 connections calling at once are all answered, all let in (%s)" % answers)
        mon.sync()
        counts = [mon.times(daemon, c.get_unique_name()) for c in conns]
        check(counts == [1] * 24, "each was asked about once (%s)" % counts)
        for c in conns:
            c.close()
        check(d.proc.poll() is None, "the daemon is still running")
    finally:
        if mon:
            mon.close()
        d.close()
        bus.close()

finish()
