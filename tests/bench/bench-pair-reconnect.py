#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Pairing and reconnect times through everything real (flicsim with the
kernel's discovery window modelled, --discovery-window-ms at its default
10240, flicgated, flicgatectl, build/flicsink on loopback).

pairing: a button already in public mode; `flicgatectl pair` is started;
the time until flicgated logs the button paired.
reconnect: a paired button out of range (its link lost) is pressed; it comes
back in range; the time from then until the alert reaches the sink.

Knobs: FG_BENCH_ROUNDS (buttons paired and reconnects made, default 5).
Prints numbers only; nothing here asserts on speed (docs/benchmarks.md
records the results)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from bluezhelp import BusRef, Sink, addr, config, serial  # noqa: E402
from fgapi import CTL  # noqa: E402
from fgtest import Daemon, TempDir, wait_for  # noqa: E402
from flicsimtest import Sim  # noqa: E402

ROUNDS = int(os.environ.get("FG_BENCH_ROUNDS", "5"))
FAST = dict(click_ms=20, hold_ms=300, double_click_ms=100)


def report(name, xs):
    xs = sorted(xs)
    if not xs:
        print("%-12s no samples" % name)
        return
    print("%-12s n=%d  min %6.2f s  median %6.2f s  max %6.2f s  (%s)" %
          (name, len(xs), xs[0], xs[len(xs) // 2], xs[-1], " ".join("%.2f" % x for x in xs)))


def run():
    addrs = [addr(i) for i in range(1, ROUNDS + 1)]
    pair_s, reconnect_s = [], []
    with TempDir(prefix="fgbench-") as tmp:
        state = os.path.join(tmp.path, "state")
        sink = Sink(tmp)
        sections = "".join("[button b%02d]\naddress = %s\non = click\noff = double_click\n" % (i, a)
                           for i, a in enumerate(addrs, 1))
        cfg = tmp.file("flicgate.ini", config(state, pairing="window", buttons=sections,
                                              webhook=sink.url + "/POSTAlert/00000000-bench/Flic"))
        try:
            with Sim([], tmp=tmp) as sim:
                bus = BusRef(sim.bus_daemon.address)
                d = Daemon(tmp, bus, cfg)
                if not wait_for(lambda: "adapter hci0 is ready" in d.output(), 10):
                    print("bench: the daemon did not find hci0", file=sys.stderr)
                    return
                for i, a in enumerate(addrs, 1):
                    sim.add(a, name="b%d" % i, serial=serial(i), public_mode=True, **FAST)
                    time.sleep(0.5)
                    n = d.output().count(" paired: ")
                    t0 = time.monotonic()
                    p = subprocess.Popen([CTL, "--bus", bus.address, "pair", "--timeout", "60"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    ok = wait_for(lambda: d.output().count(" paired: ") > n, 60, interval=0.005)
                    took = time.monotonic() - t0
                    p.wait(timeout=30)
                    if ok:
                        pair_s.append(took)
                    sim.ctl.SetPublicMode(a, False)
                for a in addrs:
                    wait_for(lambda: sim.state(a)["Session"] == "established", 30)
                    sim.ctl.SetInRange(a, False)
                    wait_for(lambda: not sim.state(a)["Linked"], 10)
                    time.sleep(0.5)
                    sim.ctl.Press(a, "click")
                    time.sleep(0.3)
                    n = len(sink.button_alerts())
                    t0 = time.monotonic()
                    sim.ctl.SetInRange(a, True)
                    if wait_for(lambda: len(sink.button_alerts()) > n, 60, interval=0.005):
                        reconnect_s.append(time.monotonic() - t0)
                d.stop()
                d.close()
        finally:
            sink.close()
    report("pairing", pair_s)
    report("reconnect", reconnect_s)


run()
