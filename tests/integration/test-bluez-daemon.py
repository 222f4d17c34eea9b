#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The real flicgated against the simulated BlueZ and the loopback sink:
each gesture becomes the right alert (a single click opens, hold appends
while open, double click closes), presses made while the button is out of
range arrive queued and exactly once, a restart reconnects with a quick
verify on the link bluetoothd kept, and after kill -9 no press is lost (a
press caught between spooling and acknowledging may be sent again, with
the same idempotency key, never as a new alert)."""
import json
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
    """(nameId, state, gesture, queued, idempotency key) per button alert request;
    supervision's own alerts (the restart report) are checked below."""
    return [(b.get("flic_nameId"), b.get("flic_state"), b.get("flic_gesture"), b.get("flic_queued"),
             b.get("flic_idempotencyKey")) for b in sink.button_alerts()]


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp)
    cfg = tmp.file("flicgate.ini", config(
        state, pairing="listed", webhook=sink.url + "/POSTAlert/00000000-test/Flic",
        buttons="""[button reception]
address = %s
on = single_click, hold
off = double_click
[button ward]
address = %s
""" % (A, B)))
    try:
        with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"], tmp=tmp) as sim:
            sim.add(A, name="a", serial=serial(1), public_mode=True, **FAST)
            sim.add(B, name="b", serial=serial(2), public_mode=True, **FAST)
            bus = BusRef(sim.bus_daemon.address)
            d = Daemon(tmp, bus, cfg, extra_args=["-v"])
            check(d.wait_log("Button reception paired", 10) and d.wait_log("Button ward paired", 10),
                  "listed buttons in public mode pair at start")
            check(wait_for(lambda: d.output().count("connected and verified") >= 2, 10), "both sessions verified")

            # gestures -> alerts
            press(sim, A, "click")
            check(wait_for(lambda: ("reception", "On", "single_click", False) in [x[:4] for x in alerts(sink)], 10),
                  "a single click opens an alert (On, single_click)")
            press(sim, A, "hold")
            check(wait_for(lambda: ("reception", "On", "hold", False) in [x[:4] for x in alerts(sink)], 10),
                  "hold while open sends On again (appended)")
            press(sim, A, "double_click")
            check(wait_for(lambda: ("reception", "Off", "double_click", False) in [x[:4] for x in alerts(sink)], 10),
                  "double click closes it (Off)")
            press(sim, B, "click")
            check(wait_for(lambda: ("ward", "On", "single_click", False) in [x[:4] for x in alerts(sink)], 10),
                  "another button's click opens its own alert (default on = single_click)")
            incidents = open(sink.out_path).read()
            check("Mapped Opened" in incidents and "Mapped Appended" in incidents and "Mapped Closed" in incidents,
                  "the AlertOps-like sink opened, appended and closed an incident")

            # out of range: presses queue in the button, arrive once when it is back
            n0 = len(alerts(sink))
            sim.ctl.SetInRange(A, False)
            check(d.wait_log("Button reception: disconnected", 10), "leaving range drops the link (logged, normal)")
            time.sleep(0.3)
            n0 = len(alerts(sink))
            press(sim, A, "click")
            time.sleep(0.4)
            press(sim, A, "double_click")
            time.sleep(1.0)
            if not check(len(alerts(sink)) == n0, "nothing arrives while the button is away"):
                print(d.output()[-4000:])
                print(sim.output()[-4000:])
            sim.ctl.SetInRange(A, True)
            check(wait_for(lambda: len(alerts(sink)) >= n0 + 2, 25), "the queued presses arrive when it is back")
            new = alerts(sink)[n0:]
            check([x[:4] for x in new] == [("reception", "On", "single_click", True),
                                           ("reception", "Off", "double_click", True)],
                  "in order, marked queued: %s" % [x[:4] for x in new])
            time.sleep(1.0)
            keys = [x[4] for x in alerts(sink)]
            check(len(keys) == len(set(keys)), "no request is sent twice (idempotency keys unique)")

            # a clean restart: the link stays with bluetoothd, quick verify, at once
            rc = d.stop()
            check(rc == 0 and sanitizer_clean(d.output()), "SIGTERM: exit 0")
            d.close()
            check(sim.state(A)["Linked"], "the BLE link survives the daemon's stop")
            t0 = time.monotonic()
            d = Daemon(tmp, bus, cfg, extra_args=["-v"], name="second")
            check(wait_for(lambda: d.output().count("connected and verified") >= 2, 10), "restart: both verified again")
            dt = time.monotonic() - t0
            check(dt < 5, "restart: sessions back in %.2f s without a press" % dt)
            check("Button reception paired" not in d.output(), "restart: no pairing again")
            check(sim.state(A)["SessionKind"] == "quick", "restart: quick verify")
            n1 = len(alerts(sink))
            press(sim, B, "double_click")
            check(wait_for(lambda: len(alerts(sink)) > n1 and alerts(sink)[-1][:3] == ("ward", "Off", "double_click"), 10),
                  "restart: presses still work")
            check(sanitizer_clean(d.output()), "restart: no sanitizer report")

            # kill -9 while presses are in flight, then start again
            n2 = len(alerts(sink))
            press(sim, A, "click", settle=0.05)
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            d.close()
            time.sleep(0.4)	# past the double-click time: a gesture of its own
            press(sim, A, "double_click")
            d = Daemon(tmp, bus, cfg, extra_args=["-v"], name="third")
            check(wait_for(lambda: len(alerts(sink)) >= n2 + 2, 40), "after kill -9: both presses arrive")
            time.sleep(1.5)
            got = alerts(sink)[n2:]
            kinds = []
            for x in got:
                if x[:3] not in kinds:
                    kinds.append(x[:3])
            check(kinds == [("reception", "On", "single_click"), ("reception", "Off", "double_click")],
                  "after kill -9: the single click and the double click, in order: %s" % [x[:3] for x in got])
            if kinds != [("reception", "On", "single_click"), ("reception", "Off", "double_click")]:
                print("\n".join(l for l in d.output().splitlines() if "reception" in l))
                print("\n".join(l for l in sim.output().splitlines()[-80:] if "00:01" in l))
            by_key = {}
            for x in got:
                by_key.setdefault(x[4], set()).add(x[:3])
            check(len(by_key) == 2 and all(len(v) == 1 for v in by_key.values()),
                  "after kill -9: a repeat is the same alert under the same idempotency key (%d requests, %d keys)"
                  % (len(got), len(by_key)))
            restarted = [json.loads(r["body"]).get("flic_state") for r in sink.requests()
                         if '"flic_nameId":"bluez-test-restarted"' in r.get("body", "")]
            check(restarted == ["On", "Off"], "after kill -9: the restart is reported (bluez-test-restarted On, Off): %s"
                  % restarted)
            rc = d.stop()
            check(rc == 0 and sanitizer_clean(d.output()), "after kill -9: the new instance stops cleanly (%s)" % rc)
            d.close()
    finally:
        sink.close()

finish()
