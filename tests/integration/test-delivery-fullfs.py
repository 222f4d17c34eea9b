#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A state directory on a tiny tmpfs fills up during a target outage while
presses keep coming, and the pipeline is killed with SIGKILL several
times. A press the journal cannot take is never acknowledged (the button
keeps it and sends it again), the spool alarm shows, and the alert is still
tried from memory. Once space and the target are back, every press is
delivered: 0 lost, and a press delivered twice carries the same
idempotency key. Needs root (mount -t tmpfs)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import TempDir, check, finish, mount_tmpfs  # noqa: E402
from delivery import Sink, Driver, write_config, acked, order_ok  # noqa: E402

EVENTS = 200
BUTTONS = 4
KILLS = 3


def press_keys():
    """The idempotency key of every press the driver makes (see pipeline-driver.c)."""
    keys = []
    for i in range(EVENTS):
        b, j = i % BUTTONS, i // BUTTONS
        keys.append("BG30-A%05d:%d:%s" % (b, j + 1, "double_click" if j % 2 else "click"))
    return keys


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    os.mkdir(state)
    mount_tmpfs(state, "40k")
    sink = Sink(tmp.path)
    d = None
    try:
        config = write_config(tmp.path, state, sink.url, buttons=BUTTONS)
        ack = os.path.join(tmp.path, "acks")
        log = os.path.join(tmp.path, "driver.log")
        out = lambda: open(log).read() if os.path.exists(log) else ""
        sink.control("/_sink/mode", "status 503")   # outage: nothing drains
        # presses keep coming on a full disk; the driver dies now and then
        for i in range(KILLS):
            d = Driver(tmp.path, config, EVENTS, len(acked(ack)), ack, interval_ms=2, log=log)
            time.sleep(1.5)
            d.kill9()
            d.close()
            d = None
        text = out()
        held = len(acked(ack))
        print("info: %d of %d presses acknowledged while the disk was full" % (held, EVENTS))
        df = subprocess.run(["df", "-k", state], capture_output=True, text=True).stdout
        print(df)
        check("Spool alarm" in text, "spool alarm logged")
        check("EVENT spool-full" in text, "spool-full event raised for LEDs and status")
        check("NOT-ACKED" in text, "presses the journal could not take were not acknowledged")
        check(held < EVENTS, "not every press acknowledged on a full disk (%d of %d)" % (held, EVENTS))
        check(len(sink.requests()) > 0, "alerts held in memory were still tried at once")

        # space and target back
        r = subprocess.run(["mount", "-o", "remount,size=8m", state], capture_output=True, text=True)
        check(r.returncode == 0, "tmpfs grown (%s)" % r.stderr.strip())
        sink.control("/_sink/clear")
        d = Driver(tmp.path, config, EVENTS, len(acked(ack)), ack, interval_ms=2, drain=True, log=log)
        rc = d.wait(120)
        d.close()
        d = None
        check(rc == 0, "driver drained everything and exited (rc %s)" % rc)
        text = out()
        check("lost=0" in text.splitlines()[-1] if text else False, "no alert lost")
        keys = acked(ack)
        want = press_keys()
        got = sink.accepted_keys()
        check(len(keys) == EVENTS, "every press acknowledged in the end (%d of %d)" % (len(keys), EVENTS))
        missing = sorted(set(want) - set(got))
        check(not missing, "every press delivered: 0 lost (%d missing: %s)" % (len(missing), missing[:5]))
        unknown = sorted(set(got) - set(want))
        check(not unknown, "every delivery carries a press's own key, duplicates the same one (%s)"
              % unknown[:5])
        print("info: %d requests accepted for %d presses" % (len(got), len(set(got))))
        check(order_ok(got), "per button in order")
    finally:
        if d:
            d.close()
        sink.close()
        subprocess.run(["umount", state])
finish()
