# SPDX-License-Identifier: MIT
"""Helpers for the control API and flicgatectl tests (test-api-*, test-ctl-*).

Real parts only: the real flicgated or the real API module inside
build/tests/tools/api-driver (a scripted provider standing in for the
subsystems that are not wired yet), a private dbus-daemon, the real
flicgatectl binary, python-dbus as an independent client.
"""
import json
import os
import re
import select
import subprocess
import time

from fgtest import BUILD, SRCDIR, Daemon, check, wait_for

NAME = "io.github.flicgate1"
ROOT = "/io/github/flicgate1"
GATEWAY = ROOT + "/gateway"
GW_IFACE = "io.github.flicgate1.Gateway"
BT_IFACE = "io.github.flicgate1.Button"
ERR = "io.github.flicgate1.Error."
CTL = os.path.join(BUILD, "flicgatectl")
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def ctl(bus, *args, prefix=(), stdin=None, timeout=30, env=None):
    """Runs flicgatectl against @bus (a PrivateBus or an address)."""
    address = bus if isinstance(bus, str) else bus.address
    # human output is in local time: the golden files are written in UTC
    e = dict(os.environ, TZ="UTC")
    if env:
        e.update(env)
    return subprocess.run(list(prefix) + [CTL, "--bus", address] + list(args), capture_output=True,
                          text=True, input=stdin, timeout=timeout, env=e)


def ctl_json(bus, *args, **kw):
    """flicgatectl --json=short …; returns (process, parsed JSON or None)."""
    p = ctl(bus, "--json=short", *args, **kw)
    try:
        return p, json.loads(p.stdout)
    except ValueError:
        print("not JSON: %r (stderr %r)" % (p.stdout, p.stderr))
        return p, None


def golden(name, text, subst=()):
    """Compares @text with tests/integration/golden/@name after the regex
    substitutions in @subst; FG_UPDATE_GOLDEN=1 rewrites the file."""
    for pattern, repl in subst:
        text = re.sub(pattern, repl, text)
    path = os.path.join(SRCDIR, "tests", "integration", "golden", name)
    if os.environ.get("FG_UPDATE_GOLDEN") == "1":
        with open(path, "w") as f:
            f.write(text)
    try:
        with open(path) as f:
            want = f.read()
    except FileNotFoundError:
        want = None
    ok = check(text == want, "output matches golden/%s" % name)
    if not ok:
        print("---- got\n%s---- want\n%s----" % (text, want))
    return ok


class Driver:
    """build/tests/tools/api-driver: the real API with a scripted provider."""

    def __init__(self, bus, log_path):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([os.path.join(BUILD, "tests", "tools", "api-driver"), "--bus",
                                      bus.address], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log)
        self.buf = b""
        self.calls = []
        line = self._line(10)
        if line != "READY":
            raise RuntimeError("api-driver did not start: %r" % line)

    def _line(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = max(0.0, end - time.monotonic())
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def drain(self):
        """Collects CALL lines that arrived meanwhile; returns all so far."""
        while True:
            line = self._line(0)
            if line is None:
                return self.calls
            if line.startswith("CALL "):
                self.calls.append(line[5:])

    def cmd(self, text):
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()
        while True:
            line = self._line(10)
            if line is None:
                raise RuntimeError("api-driver gave no answer to %r" % text)
            if line.startswith("CALL "):
                self.calls.append(line[5:])
                continue
            if line != "OK":
                raise RuntimeError("api-driver: %r -> %s" % (text, line))
            return

    def called(self, call, timeout=5):
        return wait_for(lambda: call in self.drain(), timeout)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        return self.proc.returncode


class Client:
    """An independent D-Bus client (python-dbus) that records our signals."""

    def __init__(self, address):
        import dbus
        import dbus.mainloop.glib
        from gi.repository import GLib
        self.dbus = dbus
        self.GLib = GLib
        self.bus = dbus.bus.BusConnection(address, mainloop=dbus.mainloop.glib.DBusGMainLoop())
        self.signals = []
        self.bus.add_signal_receiver(self._on_signal, sender_keyword="sender", path_keyword="path",
                                     member_keyword="member", interface_keyword="iface",
                                     bus_name=NAME)

    def _on_signal(self, *args, sender=None, path=None, member=None, iface=None):
        self.signals.append((iface, member, str(path), args))

    def pump(self, seconds=0.0):
        end = time.monotonic() + seconds
        ctx = self.GLib.MainContext.default()
        while True:
            while ctx.iteration(False):
                pass
            if time.monotonic() >= end:
                return
            time.sleep(0.01)

    def reset(self):
        """Forgets the signals so far. A round trip to the service first: the
        bus keeps one sender's messages in order, so everything it emitted
        before is in by then."""
        self.obj(ROOT).Ping(dbus_interface="org.freedesktop.DBus.Peer")
        self.pump()
        self.signals.clear()

    def wait_signal(self, pred, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump()
            for s in self.signals:
                if pred(s):
                    return s
            time.sleep(0.01)
        return None

    def obj(self, path):
        return self.bus.get_object(NAME, path, introspect=False)

    def call(self, path, iface, member, *args):
        """Returns (result, None) or (None, error name, message)."""
        try:
            return self.obj(path).get_dbus_method(member, iface)(*args), None
        except self.dbus.exceptions.DBusException as e:
            return None, (e.get_dbus_name(), e.get_dbus_message())

    def props(self, path, iface):
        return self.obj(path).GetAll(iface, dbus_interface="org.freedesktop.DBus.Properties")

    def managed(self):
        return self.obj(ROOT).GetManagedObjects(dbus_interface="org.freedesktop.DBus.ObjectManager")

    def introspect(self, path):
        return self.obj(path).Introspect(dbus_interface="org.freedesktop.DBus.Introspectable")

    def close(self):
        self.bus.close()


def version():
    p = subprocess.run([os.path.join(BUILD, "flicgated"), "--version"], capture_output=True, text=True)
    return p.stdout.split()[-1]


def daemon_as(tmp, bus, config_path, prefix, name):
    """flicgated started through @prefix (e.g. setpriv as another user)."""
    d = Daemon.__new__(Daemon)
    d.log_path = os.path.join(tmp.path, name + ".log")
    d.log = open(d.log_path, "w")
    e = dict(os.environ)
    e.pop("NOTIFY_SOCKET", None)
    e.pop("JOURNAL_STREAM", None)
    d.proc = subprocess.Popen(list(prefix) + [os.path.join(BUILD, "flicgated"), "--bus", bus.address,
                                              "-c", config_path],
                              stdout=d.log, stderr=subprocess.STDOUT, env=e)
    return d
