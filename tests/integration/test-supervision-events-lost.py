#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Presses a button drops are never lost silently: with the simulator and the
real daemon, a button out of range is clicked more times than it hands back
on reconnect (InitButtonEvents asks for at most 31 queued gestures, the
protocol's limit); the gap in its event counter becomes a critical
<button>-events-lost alert naming the button and the count, and a record in
the audit trail; the presses it did keep arrive once each."""
import csv
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, BusRef, Sink, addr, config, press, sanitizer_clean, serial  # noqa: E402
from fgapi import ctl  # noqa: E402
from fgtest import Daemon, TempDir, check, finish, wait_for  # noqa: E402
from flicsimtest import Sim  # noqa: E402

A = addr(1)
KEPT = 31       # max_queued_packets the gateway asks for on a reconnect
PRESSES = KEPT + 3


def lost(sink):
    return [b for b in sink.alerts() if b.get("flic_nameId") == "reception-events-lost"]


def pages(sink):
    return [b for b in sink.alerts() if b.get("flic_nameId") == "reception" and b.get("flic_state") == "On"]


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp)
    cfg = tmp.file("flicgate.ini", config(
        state, pairing="listed", webhook=sink.url + "/POSTAlert/00000000-test/Flic",
        extra="""[health]
require_time_sync = no
[gpio]
backend = log
""", buttons="""[button reception]
address = %s
on = single_click
""" % A))
    try:
        with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"], tmp=tmp) as sim:
            sim.add(A, name="a", serial=serial(1), public_mode=True, **FAST)
            bus = BusRef(sim.bus_daemon.address)
            d = Daemon(tmp, bus, cfg, extra_args=["-v"])
            check(d.wait_log("connected and verified", 15), "the button pairs and connects")
            press(sim, A, "click")
            check(wait_for(lambda: len(pages(sink)) == 1, 10), "a live press pages")
            check(lost(sink) == [], "no loss so far")

            mark = len(d.output())
            sim.ctl.SetInRange(A, False)
            check(wait_for(lambda: "Button reception: disconnected" in d.output()[mark:], 10),
                  "the button goes out of range")
            for _ in range(PRESSES):
                press(sim, A, "click", settle=0.25)
            sim.ctl.SetInRange(A, True)
            check(wait_for(lambda: len(lost(sink)) == 1, 20), "back in range: one events-lost alert")
            body = lost(sink)[0] if lost(sink) else {}
            check(body.get("flic_state") == "On" and body.get("flic_supervision") is True,
                  "a supervision alert, On (%s)" % body.get("flic_state"))
            info = body.get("info", "")
            check(info.startswith("reception: %d presses lost by the button" % (PRESSES - KEPT)),
                  "it names the button and the count: %s" % info)
            check(wait_for(lambda: len(pages(sink)) == 1 + KEPT, 20),
                  "the %d presses the button kept arrive once each (%d)" % (KEPT, len(pages(sink)) - 1))
            time.sleep(1.0)
            check(len(lost(sink)) == 1 and len(pages(sink)) == 1 + KEPT, "nothing twice")
            check("%d presses lost by the button" % (PRESSES - KEPT) in d.output(), "and logged")

            p = ctl(bus, "log", "--since", "10min ago", "--csv")
            rows = list(csv.DictReader(io.StringIO(p.stdout)))
            rec = [r for r in rows if r["event"] == "supervision-open" and r["button"] == "reception"
                   and r["detail"].startswith("reception-events-lost:")]
            check(len(rec) == 1 and ("%d presses lost" % (PRESSES - KEPT)) in rec[0]["detail"],
                  "the audit trail records it: %s" % [r["detail"] for r in rec])

            rc = d.stop()
            check(rc == 0 and sanitizer_clean(d.output()), "clean stop")
            d.close()
    finally:
        sink.close()

finish()
