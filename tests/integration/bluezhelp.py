# SPDX-License-Identifier: MIT
"""Shared parts of the BlueZ adapter tests (tests/integration/test-bluez-*.py).

Real parts only: a private dbus-daemon with build/flicsim owning org.bluez
(flicsimtest.Sim), and either the real flicgated (with build/flicsink as the
webhook target) or build/tests/tools/buttons-driver, which runs the same
button layer and lets a test open pairing windows and read status the way
the control API will.
"""
import os
import subprocess
import threading
import time

from fgtest import BUILD, wait_for  # noqa: F401
from flicsimtest import TEST_KEY

FAST = dict(click_ms=40, hold_ms=300, double_click_ms=150)


def addr(i):
    """Address of emulated button number @i (1-based)."""
    return "80:E4:DA:70:%02X:%02X" % (i >> 8, i & 0xFF)


def serial(i):
    return "BG30-T%05d" % i


def config(state, pairing="window", buttons="", extra="", webhook="http://127.0.0.1:9/POSTAlert/KEY/Flic",
           connect_timeout="10s"):
    return """[gateway]
name = bluez-test
state_dir = %(state)s
[bluetooth]
pairing = %(pairing)s
connect_timeout = %(ct)s
trusted_key = %(key)s
%(extra)s
[webhook sink]
url = %(webhook)s
rate_limit = 1000
%(buttons)s
""" % dict(state=state, pairing=pairing, key=TEST_KEY.hex(), extra=extra, webhook=webhook, buttons=buttons,
           ct=connect_timeout)


class Driver:
    """build/tests/tools/buttons-driver on the simulator's bus."""

    def __init__(self, tmp, bus_address, config_path, name="driver", env=None):
        exe = os.path.join(BUILD, "tests", "tools", "buttons-driver")
        self.log_path = os.path.join(tmp.path, name + ".log")
        self.err = open(self.log_path, "w")
        self.proc = subprocess.Popen([exe, "--config", config_path, "--bus", bus_address],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, bufsize=1, env=env)
        self.lines = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.wait(lambda l: l == "READY", 10):
            raise RuntimeError("buttons-driver did not start:\n" + self.log())

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def wait(self, pred, timeout=10.0, start=0):
        """First line (from index @start) matching @pred, or None."""
        end = time.monotonic() + timeout
        while True:
            for line in self.snapshot()[start:]:
                if pred(line):
                    return line
            if time.monotonic() >= end or self.proc.poll() is not None:
                return None
            time.sleep(0.01)

    def mark(self):
        return len(self.snapshot())

    def cmd(self, text, timeout=10.0):
        """Sends a command; returns its "OK …" / "ERR …" line."""
        m = self.mark()
        word = text.split()[0]
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self.wait(lambda l: l.startswith("OK " + word) or l.startswith("ERR " + word), timeout, m)

    def buttons(self):
        m = self.mark()
        self.cmd("list")
        out = {}
        for line in self.snapshot()[m:]:
            if line.startswith("BUTTON "):
                f = line.split()
                d = dict(kv.split("=", 1) for kv in f[4:])
                d["name"], d["state"], d["address"] = f[1], f[2], f[3]
                out[f[3]] = d
            if line == "END list":
                break
        return out

    def button(self, address):
        return self.buttons().get(address)

    def stats(self):
        m = self.mark()
        self.cmd("stats")
        line = self.wait(lambda l: l.startswith("STATS "), 5, m)
        return {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])} if line else {}

    def events(self, start=0):
        """EVENT lines as (button, gesture, counter, queued, age_ms)."""
        out = []
        for line in self.snapshot()[start:]:
            if line.startswith("EVENT "):
                f = line.split()
                out.append((f[1], f[2], int(f[3]), f[4] == "1", int(f[5])))
        return out

    def pairing(self, step, address=None, start=0, timeout=10.0):
        def match(line):
            f = line.split(" ", 4)
            return len(f) >= 4 and f[0] == "PAIRING" and f[1] == step and (address is None or f[2] == address)
        return self.wait(match, timeout, start)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        self.err.close()
        return self.proc.returncode

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.reader.join(5)
        self.err.close()


class BusRef:
    """What fgtest.Daemon needs from a bus: its address."""

    def __init__(self, address):
        self.address = address


class Sink:
    """build/flicsink on a loopback port; requests are JSON lines in a file."""

    def __init__(self, tmp, alertops=True, name="sink"):
        import json  # noqa: F401
        self.port_file = os.path.join(tmp.path, name + ".port")
        self.log_path = os.path.join(tmp.path, name + ".jsonl")
        self.out_path = os.path.join(tmp.path, name + ".out")
        self.out = open(self.out_path, "w")
        args = [os.path.join(BUILD, "flicsink"), "--listen", "127.0.0.1:0", "--port-file", self.port_file,
                "--log", self.log_path]
        if alertops:
            args.append("--alertops")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT)
        if not wait_for(lambda: os.path.exists(self.port_file) and open(self.port_file).read().strip(), 10):
            raise RuntimeError("flicsink did not start")
        self.port = int(open(self.port_file).read().strip())
        self.url = "http://127.0.0.1:%d" % self.port

    def requests(self):
        import json
        if not os.path.exists(self.log_path):
            return []
        out = []
        with open(self.log_path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        return out

    def alerts(self, accepted=True):
        """The JSON bodies of the alerts sent to POST /POSTAlert/…: those the
        sink accepted (2xx), or all of them (@accepted False)."""
        import json
        out = []
        for r in self.requests():
            if r.get("path", "").startswith("/POSTAlert/") and (not accepted or 200 <= r.get("status", 0) < 300):
                try:
                    out.append(json.loads(r["body"]))
                except ValueError:
                    pass
        return out

    def timed_alerts(self):
        """(JSON body, receive time in µs, CLOCK_MONOTONIC) of every request
        to POST /POSTAlert/…, in the order the sink got them."""
        import json
        out = []
        for r in self.requests():
            if r.get("path", "").startswith("/POSTAlert/"):
                try:
                    out.append((json.loads(r["body"]), int(r["t_us"])))
                except ValueError:
                    pass
        return out

    def button_alerts(self):
        """The button alerts (not supervision's) among alerts(accepted=False)."""
        return [b for b in self.alerts(accepted=False) if not b.get("flic_supervision")]

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def press(sim, address, gesture, timeout=10.0, settle=0.35):
    """Sim1.Press, waiting while the button is still playing a gesture, then
    @settle seconds so that the next press is a gesture of its own (two
    clicks inside the double-click time are a double click)."""
    import dbus
    end = time.monotonic() + timeout
    while True:
        try:
            sim.ctl.Press(address, gesture)
            break
        except dbus.exceptions.DBusException as e:
            if "Busy" not in e.get_dbus_name() or time.monotonic() >= end:
                raise
            time.sleep(0.02)
    time.sleep(settle)


def sanitizer_clean(text):
    """No AddressSanitizer/LeakSanitizer/UBSan report in a log (SAN=1 builds)."""
    return not any(s in text for s in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"))
