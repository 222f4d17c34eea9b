#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A state directory on a tiny tmpfs fills up during an outage: the spool
raises its alarm (log + event), keeps what it cannot write in memory, and
once the target is back every acknowledged press is delivered: an alarm,
not a loss. Needs root (mount -t tmpfs)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import TempDir, check, finish, skip, wait_for  # noqa: E402
from delivery import Sink, Driver, write_config, acked, order_ok  # noqa: E402

EVENTS = 60

with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    os.mkdir(state)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40k,mode=0700", "tmpfs", state],
                       capture_output=True, text=True)
    if r.returncode != 0:
        skip("cannot mount a size-limited tmpfs (needs root or CAP_SYS_ADMIN): %s"
             % (r.stderr.strip() or "mount failed"))
    sink = Sink(tmp.path)
    d = None
    try:
        config = write_config(tmp.path, state, sink.url, buttons=3)
        ack = os.path.join(tmp.path, "acks")
        log = os.path.join(tmp.path, "driver.log")
        sink.control("/_sink/mode", "status 503")   # outage: nothing drains
        d = Driver(tmp.path, config, EVENTS, 0, ack, interval_ms=2, drain=True, log=log)
        check(wait_for(lambda: len(acked(ack)) == EVENTS, 30),
              "all %d presses acknowledged although the disk filled up" % EVENTS)
        out = lambda: open(log).read()
        check(wait_for(lambda: "Spool alarm" in out(), 10), "spool alarm logged")
        check("EVENT spool-full" in out(), "spool-full event raised for LEDs and status")
        check("held in memory only" in out(), "alerts that did not fit are held in memory, and said so")
        df = subprocess.run(["df", "-k", state], capture_output=True, text=True).stdout
        print(df)
        sink.control("/_sink/clear")                # target back
        rc = d.wait(90)
        check(rc == 0, "driver drained everything and exited (rc %s)" % rc)
        text = out()
        check("lost=0" in text, "no alert lost")
        check("Spool alarm cleared" in text, "alarm cleared once drained")
        keys = acked(ack)
        got = sink.accepted_keys()
        missing = sorted(set(keys) - set(got))
        check(not missing, "every acknowledged press accepted by the target (%d missing)" % len(missing))
        check(order_ok(got), "per button in order")
    finally:
        if d:
            d.close()
        sink.close()
        subprocess.run(["umount", state])
finish()
