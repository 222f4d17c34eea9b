# SPDX-License-Identifier: MIT
"""Shared parts for flicgate's integration tests (standard library only).

Real parts, no mocks: a private dbus-daemon, the real flicgated binary, a
notify socket standing in for systemd. Every helper cleans up after itself
(use them as context managers or call close()).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRCDIR = os.environ.get("FG_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("FG_BUILD", os.path.join(SRCDIR, "build"))

_failures = 0


def skip(reason):
    """Exit with 77: the runner reports the test as skipped, with @reason."""
    print("SKIP: " + reason, flush=True)
    sys.exit(77)


def check(cond, what):
    """Record one assertion; the test keeps going so every failure shows."""
    global _failures
    if cond:
        print("ok   " + what, flush=True)
    else:
        _failures += 1
        print("FAIL " + what, flush=True)
    return cond


def mount_tmpfs(path, size):
    """A size-limited tmpfs at @path (a full state disk); skips the test where
    it cannot be mounted (needs root or CAP_SYS_ADMIN). Unmount with umount."""
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        skip("cannot mount a size-limited tmpfs (needs root or CAP_SYS_ADMIN): %s"
             % (r.stderr.strip() or "mount failed"))


def finish():
    print("%s: %d failure(s)" % (os.path.basename(sys.argv[0]), _failures), flush=True)
    sys.exit(1 if _failures else 0)


def wait_for(pred, timeout=10.0, interval=0.02):
    """Waits for @pred() to be true. Tests may wait; the daemon never polls."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


class TempDir:
    def __init__(self, prefix="fgtest-"):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def file(self, name, text, mode=0o600):
        p = os.path.join(self.path, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%(socket)s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    <allow user="*"/>
  </policy>
%(extra)s
</busconfig>
"""


class PrivateBus:
    """A dbus-daemon of our own; @extra is spliced into its configuration."""

    def __init__(self, tmp, extra="", config=None):
        dd = shutil.which("dbus-daemon")
        if not dd:
            skip("dbus-daemon is not installed (make deps installs it)")
        self.socket = os.path.join(tmp.path, "bus.sock")
        cfg = tmp.file("bus.conf", config if config else BUS_CONFIG % {"socket": self.socket, "extra": extra},
                       0o644)
        self.proc = subprocess.Popen([dd, "--config-file=" + cfg, "--nofork", "--print-address=1"],
                                     stdout=subprocess.PIPE, text=True)
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            raise RuntimeError("dbus-daemon did not start")

    def call(self, dest, path, iface_member, *args, timeout=5):
        """dbus-send --print-reply; returns (rc, output)."""
        cmd = ["dbus-send", "--bus=" + self.address, "--print-reply", "--reply-timeout=%d" % (timeout * 1000),
               "--dest=" + dest, path, iface_member] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 5)
        return p.returncode, p.stdout + p.stderr

    def name_owner(self, name):
        rc, out = self.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus.GetNameOwner", "string:" + name)
        return rc == 0

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


class NotifySocket:
    """Receives sd_notify() datagrams like systemd would."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp.path, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.messages = []

    def drain(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return self.messages
            self.messages.extend(data.decode(errors="replace").split("\n"))

    def seen(self, line):
        return line in self.drain()

    def count(self, line):
        return self.drain().count(line)

    def close(self):
        self.sock.close()


class Daemon:
    """flicgated on a private bus; stderr goes to a log file we can search."""

    def __init__(self, tmp, bus, config_path, notify=None, extra_args=(), env=None, name="flicgated"):
        self.log_path = os.path.join(tmp.path, name + ".log")
        self.log = open(self.log_path, "w")
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        e.pop("NOTIFY_SOCKET", None)
        if notify:
            e["NOTIFY_SOCKET"] = notify.path
        if env:
            e.update(env)
        self.proc = subprocess.Popen([os.path.join(BUILD, "flicgated"), "--bus", bus.address,
                                      "-c", config_path] + list(extra_args),
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, fragment, timeout=10.0):
        return wait_for(lambda: fragment in self.output(), timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self):
        self.stop()
        self.log.close()
