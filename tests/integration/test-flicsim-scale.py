#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""64 emulated buttons from a --buttons file: all discovered, connected at
once, paired through full verify, and one click each delivered with the
right counters. Prints (does not assert) the simulator's own event-to-write
delay, which benchmarks use through the ButtonEventSent signal."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from flicsimtest import (FlicClient, ProtocolError, Sim, TempDir, check, dev_path, finish,  # noqa: E402
                         wait_pump)

N = 64
addrs = ["80:E4:DA:71:%02X:%02X" % (i // 256, i % 256) for i in range(N)]

with TempDir(prefix="flicsim-scale-") as tmp:
    lines = ["# name address serial options", "# comments and blank lines are fine", ""]
    for i, a in enumerate(addrs):
        lines.append("b%02d %s BG30-S%04d public_mode=1 public_mode_s=600 click_ms=30 double_click_ms=150"
                     " battery_mv=%d" % (i, a, i, 2600 + i))
    path = tmp.file("buttons.txt", "\n".join(lines) + "\n")
    # 64 links at once: a controller without the link limit (--max-links is
    # tested in test-flicsim-links.py).
    with Sim(["--buttons", path, "--connect-ms", "2", "--scan-interval-ms", "100",
              "--max-links", str(N)], tmp=tmp) as sim:
        check(int(sim.ctl.Get("io.github.flicgate.Sim1", "ButtonCount",
                              dbus_interface="org.freedesktop.DBus.Properties")) == N,
              "%d buttons loaded from the --buttons file" % N)
        adapter = sim.obj("/org/bluez/hci0", "org.bluez.Adapter1")
        adapter.StartDiscovery()
        check(wait_pump(lambda: sum(dev_path(a) in sim.managed() for a in addrs) == N, 20),
              "all %d are discovered" % N)
        adapter.StopDiscovery()

        # Connect to all of them at once, as a gateway after a restart would.
        done, failed = [], []
        for a in addrs:
            sim.obj(dev_path(a), "org.bluez.Device1").Connect(
                reply_handler=lambda a=a: done.append(a),
                error_handler=lambda e, a=a: failed.append((a, e.get_dbus_name())), timeout=30)
        check(wait_pump(lambda: len(done) + len(failed) == N, 30) and not failed,
              "%d concurrent Connect calls succeed (%d failed)" % (N, len(failed)))

        clients, paired = {}, 0
        for i, a in enumerate(addrs):
            c = FlicClient(sim, a)
            try:
                c.connect(bluez_connect=False)
                pid, key, info = c.full_verify()
                c.init_events()
                paired += info["serial"] == "BG30-S%04d" % i and abs(info["battery_mv"] - (2600 + i)) <= 4
                clients[a] = c
            except (ProtocolError, Exception) as e:  # report, keep going
                print("%s: %s" % (a, e))
        check(paired == N, "all %d pair through full verify with their own serial and battery" % paired)

        sim.events.clear()
        for a in addrs:
            sim.ctl.Press(a, "click")
        good = 0
        for a, c in clients.items():
            pk = c.read_events(3, timeout=10)
            good += [p[0] for p in pk] == [1, 3, 4]
        check(good == N, "every button delivers down/up/timeout with counters 1, 3, 4 (%d/%d)" % (good, N))
        check(wait_pump(lambda: len(sim.events) >= 3 * N, 10), "%d ButtonEventSent signals" % (3 * N))
        delays = sorted(e[6] - e[5] for e in sim.events)
        if delays:
            print("event -> notification write: median %d us, max %d us over %d events" %
                  (delays[len(delays) // 2], delays[-1], len(delays)))
        st = {str(k): v for k, v in sim.ctl.GetStatus().items()}
        check(int(st["Connected"]) == N and int(st["Devices"]) == N, "GetStatus: %d devices, all connected" % N)
        for c in clients.values():
            c.disconnect()
        check(wait_pump(lambda: int({str(k): v for k, v in sim.ctl.GetStatus().items()}["Connected"]) == 0, 10),
              "all disconnected")

finish()
