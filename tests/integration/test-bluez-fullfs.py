#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The real flicgated and a simulated button, the state directory on a tiny
tmpfs that fills up during a target outage: a press the journal cannot
take is not acknowledged to the button (the button keeps it), the spool
alarm shows, and the alert is still tried at once. Through two kill -9s
the button keeps the press; once there is room and the target answers,
it is delivered, under its one idempotency key. Needs root (mount -t tmpfs)."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, BusRef, addr, config, press, sanitizer_clean, serial  # noqa: E402
from delivery import Sink  # noqa: E402
from fgtest import Daemon, TempDir, check, finish, mount_tmpfs, wait_for  # noqa: E402
from flicsimtest import Sim  # noqa: E402

A = addr(1)


def presses(sink, ok_only):
    """Idempotency keys of the button's alert requests (answered 2xx if @ok_only)."""
    bodies = [(r.get("status", 0), json.loads(r["body"])) for r in sink.requests()
              if r.get("path", "").startswith("/POSTAlert/") and r.get("body", "").startswith("{")]
    return [b.get("flic_idempotencyKey") for status, b in bodies
            if not b.get("flic_supervision") and (200 <= status < 300 or not ok_only)]


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    os.mkdir(state)
    mount_tmpfs(state, "256k")
    sink = Sink(tmp.path, extra=("--alertops",))
    cfg = tmp.file("flicgate.ini", config(
        state, pairing="listed", webhook=sink.url + "/POSTAlert/00000000-test/Flic",
        buttons="[button reception]\naddress = %s\non = single_click\noff = double_click\n" % A))
    d = None
    try:
        with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"], tmp=tmp) as sim:
            sim.add(A, name="a", serial=serial(1), public_mode=True, **FAST)
            bus = BusRef(sim.bus_daemon.address)
            d = Daemon(tmp, bus, cfg, extra_args=["-v"])
            check(d.wait_log("Button reception paired", 15) and d.wait_log("connected and verified", 15),
                  "paired and verified")
            time.sleep(0.5)
            # the target is down and the disk fills up: the journal cannot grow any more
            sink.control("/_sink/mode", "status 503")
            fd = os.open(os.path.join(state, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while os.write(fd, b"\0" * 4096) > 0:
                    pass
            except OSError:
                pass
            os.close(fd)
            # presses keep coming; the journal's free slots run out
            clicks = 0
            for _ in range(8):
                press(sim, A, "click")
                clicks += 1
                if d.wait_log("not acknowledged", 1.0):
                    break
            check(d.wait_log("not acknowledged", 20), "a press the journal cannot take is not acknowledged")
            check(d.wait_log("Spool alarm", 5), "the spool alarm shows")
            check(wait_for(lambda: len(presses(sink, False)) > 0, 10), "its alert is still tried at once")
            # two kill -9s while the disk stays full, a press while the daemon is down
            for name in ("second", "third"):
                d.proc.send_signal(signal.SIGKILL)
                d.proc.wait()
                d.close()
                press(sim, A, "click")
                clicks += 1
                d = Daemon(tmp, bus, cfg, extra_args=["-v"], name=name)
                check(d.wait_log("connected and verified", 20), "%s run: the button connects again" % name)
                time.sleep(1.0)
            # room again, target back, one more kill -9 before it all drains
            os.unlink(os.path.join(state, "filler"))
            r = subprocess.run(["mount", "-o", "remount,size=8m", state], capture_output=True, text=True)
            check(r.returncode == 0, "tmpfs grown (%s)" % r.stderr.strip())
            sink.control("/_sink/clear")
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            d.close()
            d = Daemon(tmp, bus, cfg, extra_args=["-v"], name="fourth")
            press(sim, A, "click")
            clicks += 1
            clicked = lambda: {k for k in presses(sink, True) if k.endswith(":single_click")}
            check(wait_for(lambda: len(clicked()) >= clicks, 60),
                  "every press is delivered: %d of %d, 0 lost" % (len(clicked()), clicks))
            time.sleep(1.0)
            ok = presses(sink, True)
            check(len(clicked()) == clicks, "no more alerts than presses (%d keys for %d)" % (len(clicked()), clicks))
            check(all(k and k.startswith(serial(1) + ":") for k in ok),
                  "every delivery carries its press's key, a repeat the same one (%d requests, %d keys)"
                  % (len(ok), len(set(ok))))
            tried = set(presses(sink, False))
            check(tried <= set(ok), "every alert tried during the outage was delivered in the end")
            rc = d.stop()
            check(rc == 0 and sanitizer_clean(d.output()), "the last instance stops cleanly (%s)" % rc)
            d.close()
            d = None
    finally:
        if d:
            d.close()
        sink.close()
        subprocess.run(["umount", state])
finish()
