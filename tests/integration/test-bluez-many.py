#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Many buttons on one gateway, the real flicgated, the simulator and the
sink: 2 buttons, then 64 (at ATT MTU 100), all listed in the configuration
and put in public mode at once. Every one pairs, and a round of presses on
all of them reaches the sink once per press, as the right alert."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, BusRef, Sink, addr, config, sanitizer_clean, serial  # noqa: E402
from fgtest import Daemon, TempDir, check, finish, wait_for  # noqa: E402
from flicsimtest import Sim  # noqa: E402


def alerts(sink):
    out = []
    for r in sink.requests():
        if r.get("path", "").startswith("/POSTAlert/"):
            try:
                b = json.loads(r["body"])
            except ValueError:
                continue
            out.append((b.get("flic_nameId"), b.get("flic_state"), b.get("flic_idempotencyKey")))
    return out


def press_all(sim, addrs, gesture):
    """One gesture on every button, as fast as the simulator takes them."""
    for a in addrs:
        sim.ctl.Press(a, gesture)


def run(n, mtu):
    with TempDir() as tmp:
        state = os.path.join(tmp.path, "state")
        sink = Sink(tmp)
        addrs = [addr(i) for i in range(1, n + 1)]
        sections = "".join("[button b%02d]\naddress = %s\non = single_click\noff = double_click\n" % (i, a)
                           for i, a in enumerate(addrs, 1))
        # a link for every button: the link budget is test-bluez-budget.py's
        cfg = tmp.file("flicgate.ini", config(state, pairing="listed", buttons=sections,
                                              extra="max_links = 64",
                                              webhook=sink.url + "/POSTAlert/00000000-test/Flic"))
        try:
            # every button linked at once: a controller without the link
            # limit (that limit is test-flicsim-links.py's)
            with Sim(["--connect-ms", "5", "--scan-interval-ms", "100", "--mtu", str(mtu),
                      "--max-links", str(n)], tmp=tmp) as sim:
                for i, a in enumerate(addrs, 1):
                    sim.add(a, name="b%d" % i, serial=serial(i), public_mode=True, **FAST)
                d = Daemon(tmp, BusRef(sim.bus_daemon.address), cfg)
                t0 = time.monotonic()
                ok = wait_for(lambda: d.output().count("connected and verified") >= n, 30 + n)
                check(ok, "%d buttons: all pair and verify (%d/%d in %.1f s)"
                      % (n, d.output().count("connected and verified"), n, time.monotonic() - t0))
                check(all(int(sim.state(a)["Pairings"]) == 1 for a in addrs), "%d buttons: each holds one pairing" % n)
                check(d.output().count(" paired: ") == n, "%d buttons: each paired once" % n)

                press_all(sim, addrs, "click")
                ok = wait_for(lambda: len(alerts(sink)) >= n, 30)
                time.sleep(1.0)
                got = alerts(sink)
                on = {name for name, st, _ in got if st == "On"}
                check(ok and len(got) == n and on == {"b%02d" % i for i in range(1, n + 1)},
                      "%d buttons: one On per button (%d requests, %d distinct)" % (n, len(got), len(on)))
                time.sleep(0.3)
                press_all(sim, addrs, "double_click")
                ok = wait_for(lambda: len(alerts(sink)) >= 2 * n, 30)
                time.sleep(1.0)
                got = alerts(sink)
                off = [name for name, st, _ in got if st == "Off"]
                check(ok and len(got) == 2 * n and len(set(off)) == n,
                      "%d buttons: one Off per button (%d requests)" % (n, len(got)))
                keys = [k for _, _, k in got]
                check(len(keys) == len(set(keys)), "%d buttons: no request twice" % n)
                check("rejected a packet" not in d.output(), "%d buttons: no packet rejected" % n)
                rc = d.stop()
                check(rc == 0 and sanitizer_clean(d.output()), "%d buttons: clean stop" % n)
                d.close()
        finally:
            sink.close()


run(2, 23)
run(64, 100)
finish()
