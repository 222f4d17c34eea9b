#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Restart recovery with links up (docs/bluez.md, "Restart with links up"):
flicgated is killed with -9 while its buttons are linked; bluetoothd keeps
the LE links and the buttons keep their old logical connection, which
nobody answers any more. A press made while the daemon is down is
delivered once the new instance re-verifies the button, which it does as
soon as it finds the link up, not after [bluetooth] connect_timeout:
nothing lost, nothing doubled. The time from restart to delivery is
logged, not asserted."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, BusRef, Sink, addr, config, press, sanitizer_clean, serial  # noqa: E402
from fgtest import Daemon, TempDir, check, finish, wait_for  # noqa: E402
from flicsimtest import Sim  # noqa: E402

A, B = addr(1), addr(2)


def alerts(sink):
    """(nameId, gesture, queued, idempotency key) per button alert request."""
    return [(b.get("flic_nameId"), b.get("flic_gesture"), b.get("flic_queued"), b.get("flic_idempotencyKey"))
            for b in sink.button_alerts()]


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp)
    # a connect_timeout far longer than the wait below: recovery must not wait for it
    cfg = tmp.file("flicgate.ini", config(
        state, pairing="listed", connect_timeout="60s", webhook=sink.url + "/POSTAlert/00000000-test/Flic",
        buttons="""[button reception]
address = %s
on = single_click
off = double_click
[button ward]
address = %s
on = single_click
off = double_click
""" % (A, B)))
    d = None
    try:
        with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"], tmp=tmp) as sim:
            sim.add(A, name="a", serial=serial(1), public_mode=True, **FAST)
            sim.add(B, name="b", serial=serial(2), public_mode=True, **FAST)
            bus = BusRef(sim.bus_daemon.address)
            d = Daemon(tmp, bus, cfg, extra_args=["-v"])
            check(wait_for(lambda: d.output().count("connected and verified") >= 2, 15), "both paired and verified")
            for x in (A, B):
                sim.ctl.SetPublicMode(x, False)
            press(sim, A, "click")
            check(wait_for(lambda: ("reception", "single_click", False) in [x[:3] for x in alerts(sink)], 10),
                  "a live press arrives")

            for round_ in range(1, 4):
                n0 = len(alerts(sink))
                d.proc.send_signal(signal.SIGKILL)
                d.proc.wait()
                d.close()
                check(sim.state(A)["Linked"] and sim.state(B)["Linked"],
                      "round %d: the links stay up with bluetoothd after kill -9" % round_)
                press(sim, A, "click")
                press(sim, B, "double_click")
                t0 = time.monotonic()
                d = Daemon(tmp, bus, cfg, extra_args=["-v"], name="restart%d" % round_)
                want = {("reception", "single_click"), ("ward", "double_click")}
                ok = wait_for(lambda: want <= {x[:2] for x in alerts(sink)[n0:]}, 30)
                took = time.monotonic() - t0
                check(ok, "round %d: both presses made while the daemon was down are delivered" % round_)
                print("# round %d: restart to both presses delivered: %.2f s" % (round_, took))
                time.sleep(1.0)
                got = alerts(sink)[n0:]
                keys = {}
                for x in got:
                    keys.setdefault(x[3], set()).add(x[:2])
                check(len(keys) == 2 and all(len(v) == 1 for v in keys.values()),
                      "round %d: nothing doubled: one alert each (%s)" % (round_, [x[:3] for x in got]))
                check(all(x[2] for x in got), "round %d: both marked queued" % round_)
                check("Button reception paired" not in d.output(), "round %d: no pairing again" % round_)
                check(int(sim.state(A)["NoSlotsRefused"]) >= round_,
                      "round %d: the button refused a second logical connection; the link was made afresh" % round_)
                if not ok:
                    print("\n".join(d.output().splitlines()[-60:]))
                    print("\n".join(sim.output().splitlines()[-60:]))
            # and it keeps working live
            n1 = len(alerts(sink))
            press(sim, B, "click")
            check(wait_for(lambda: ("ward", "single_click", False) in [x[:3] for x in alerts(sink)[n1:]], 10),
                  "after the restarts a live press arrives")
            rc = d.stop()
            check(rc == 0 and sanitizer_clean(d.output()), "the last instance stops cleanly (%s)" % rc)
            d.close()
            d = None
    finally:
        if d:
            d.close()
        sink.close()

finish()
