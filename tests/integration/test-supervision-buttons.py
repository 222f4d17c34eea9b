#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Button supervision with the simulator and the real daemon: a button out
of range for longer than offline_after raises <button>-offline once and its
return closes it once (a connected button is never "not seen"); two low
battery readings raise <button>-battery, a reading inside the hysteresis
does not close it, one above does; a [button] test gesture and any gesture
in a test-press window page nobody but leave an audit record and the
button's last test; the state survives a restart; the audit trail exports
press, delivered and closed with the response interval."""
import csv
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, BusRef, Sink, addr, config, press, sanitizer_clean, serial  # noqa: E402
from fgapi import ctl, ctl_json  # noqa: E402
from fgtest import Daemon, TempDir, check, finish, wait_for  # noqa: E402
from flicsimtest import Sim  # noqa: E402

A = addr(1)


def states(sink, name_id):
    return [b["flic_state"] for b in sink.alerts() if b.get("flic_nameId") == name_id]


def pages(sink):
    return [(b["flic_state"], b["flic_gesture"]) for b in sink.alerts()
            if b.get("flic_nameId") == "reception" and not b.get("flic_test")]


def reconnect(sim, d, mark):
    """Out of range and back at once: a new session, so a new battery reading."""
    n = d.output().count("connected and verified")
    sim.ctl.SetInRange(A, False)
    wait_for(lambda: "Button reception: disconnected" in d.output()[mark:], 10)
    sim.ctl.SetInRange(A, True)
    return wait_for(lambda: d.output().count("connected and verified") > n, 15)


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp)
    cfg = tmp.file("flicgate.ini", config(
        state, pairing="listed", webhook=sink.url + "/POSTAlert/00000000-test/Flic",
        extra="""[health]
require_time_sync = no
low_battery_mv = 2600
battery_hysteresis_mv = 100
test_webhook = sink
[gpio]
backend = log
""", buttons="""[button reception]
address = %s
on = single_click
off = double_click
test = hold
offline_after = 4s
""" % A))
    try:
        with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"], tmp=tmp) as sim:
            sim.add(A, name="a", serial=serial(1), public_mode=True, **FAST)
            bus = BusRef(sim.bus_daemon.address)
            d = Daemon(tmp, bus, cfg, extra_args=["-v"])
            check(d.wait_log("connected and verified", 15), "the button pairs and connects")

            # ---- connected: seen, never "not seen", however long it is quiet
            time.sleep(6)
            check(states(sink, "reception-offline") == [], "a connected, quiet button is not 'not seen' (6 s > 4 s)")

            # ---- out of range past offline_after, then back
            mark = len(d.output())
            sim.ctl.SetInRange(A, False)
            check(wait_for(lambda: states(sink, "reception-offline") == ["On"], 15),
                  "out of range for 4 s: reception-offline On at the target")
            check(wait_for(lambda: any("(not_seen)" in l for l in d.output()[mark:].splitlines() if "LED status" in l), 5),
                  "the status LED shows not_seen")
            p, j = ctl_json(bus, "buttons", "reception")
            check(j and j["not_seen"] is True, "buttons shows it not seen")
            time.sleep(2)
            check(states(sink, "reception-offline") == ["On"], "once, not on every tick")
            # a level of its own, so we can tell when this session's reading is in
            sim.ctl.SetBattery(A, 2800)
            sim.ctl.SetInRange(A, True)
            check(wait_for(lambda: states(sink, "reception-offline") == ["On", "Off"], 20),
                  "back in range: reception-offline Off, once: %s" % states(sink, "reception-offline"))

            def battery_mv():
                j = ctl_json(bus, "buttons", "reception")[1]
                return (j or {}).get("battery_mv", 0)
            # the Off goes out when the button is seen; its session (and reading) may come later
            check(wait_for(lambda: 2750 <= battery_mv() <= 2850, 15),
                  "the session after it has read the battery (%r)" % battery_mv())

            # ---- battery: two low readings open, hysteresis, recovery
            mark = len(d.output())
            sim.ctl.SetBattery(A, 2400)
            check(reconnect(sim, d, mark), "reconnect 1 (battery read)")
            time.sleep(1.0)
            check(states(sink, "reception-battery") == [], "one low reading is not an alarm")
            mark = len(d.output())
            check(reconnect(sim, d, mark), "reconnect 2 (battery read)")
            check(wait_for(lambda: states(sink, "reception-battery") == ["On"], 10),
                  "a second low reading: reception-battery On")
            body = [b for b in sink.alerts() if b.get("flic_nameId") == "reception-battery"][0]
            check(" mV " in body["info"] and "low" in body["info"] and body["flic_supervision"] is True,
                  "info says the voltage: %s" % body["info"])
            # the request may reach the sink before the LED is set (same loop iteration)
            check(wait_for(lambda: any("(low_battery)" in l for l in d.output().splitlines()
                                       if "LED status" in l), 5),
                  "the status LED shows low_battery")
            p, j = ctl_json(bus, "buttons", "reception")
            check(j and j["battery_low"] is True and 2350 <= j["battery_mv"] <= 2450 and 0 <= j["battery_percent"] <= 10,
                  "buttons: battery about 2400 mV, a few %%, low (%r)" % ((j or {}).get("battery_mv"),))
            mark = len(d.output())
            sim.ctl.SetBattery(A, 2650)
            check(reconnect(sim, d, mark), "reconnect 3")
            time.sleep(1.0)
            check(states(sink, "reception-battery") == ["On"], "2650 mV is inside the hysteresis: still open")
            mark = len(d.output())
            sim.ctl.SetBattery(A, 2950)
            check(reconnect(sim, d, mark), "reconnect 4")
            check(wait_for(lambda: states(sink, "reception-battery") == ["On", "Off"], 10),
                  "2950 mV: reception-battery Off")

            # ---- test presses page nobody
            n_pages = len(pages(sink))
            press(sim, A, "hold")
            check(d.wait_log("Button reception: routine test press (hold, test gesture)", 10),
                  "the test gesture is a routine test")
            check(wait_for(lambda: [b["flic_state"] for b in sink.alerts() if b.get("flic_test")] == ["On", "Off"], 10),
                  "[health] test_webhook is told: a test alert (an AlertOps target gets On and Off)")
            p = ctl(bus, "test-press", "--timeout", "30", "reception")
            check(p.returncode == 0 and "Test window open until" in p.stdout, "test-press opens a window")
            p, st = ctl_json(bus, "status")
            check(st and st["supervision"]["test_window"]["open"] is True and
                  st["supervision"]["test_window"]["button"] == "reception", "status shows the window")
            press(sim, A, "click")
            check(d.wait_log("routine test press (single_click, test window)", 10), "a click in the window is a test")
            p = ctl(bus, "test-press", "--close")
            check(p.returncode == 0, "test-press --close")
            time.sleep(1.0)
            check(len(pages(sink)) == n_pages, "nobody was paged by the tests")
            p, j = ctl_json(bus, "buttons", "reception")
            check(j and j["last_test"], "buttons shows the last test: %s" % (j and j["last_test"]))

            # ---- a real press afterwards, for the response interval
            press(sim, A, "click")
            check(wait_for(lambda: pages(sink)[n_pages:] == [("On", "single_click")], 10), "after the window a click pages")
            time.sleep(0.5)
            press(sim, A, "double_click")
            check(wait_for(lambda: pages(sink)[n_pages:] == [("On", "single_click"), ("Off", "double_click")], 10),
                  "and a double click closes")

            # ---- the audit trail
            time.sleep(0.5)
            p = ctl(bus, "log", "--since", "10min ago", "--csv")
            rows = list(csv.DictReader(io.StringIO(p.stdout)))
            ev = [r["event"] for r in rows]
            check(ev.count("test") >= 4, "test records: the gesture, window opened, the click, window closed (%d)"
                  % ev.count("test"))
            opened = [r["detail"].split(":")[0] for r in rows if r["event"] == "supervision-open"]
            # (a slow machine may take longer than offline_after to reconnect in the battery part)
            first = [x for i, x in enumerate(opened) if x not in opened[:i]]
            check(first == ["reception-offline", "reception-battery"], "supervision opens: %s" % opened)
            press_rows = [r for r in rows if r["event"] == "press" and r["button"] == "reception"]
            check(len(press_rows) == 1, "one press opened an alert")
            inc = press_rows[0]["alert_id"] if press_rows else "?"
            dl = [r for r in rows if r["event"] == "delivered" and r["alert_id"] == inc]
            cl = [r for r in rows if r["event"] == "closed" and r["alert_id"] == inc]
            check(len(dl) == 2 and len(cl) == 1, "press -> delivered (On, Off) -> closed share the incident id")
            check(dl and float(dl[0]["latency_ms"]) > 0 and float(dl[0]["since_press_s"]) >= 0 and
                  cl and float(cl[0]["since_press_s"]) > 0,
                  "latency and the response interval (press to close %s s)" % (cl and cl[0]["since_press_s"]))

            # ---- restart: the state is kept
            rc = d.stop()
            check(rc == 0 and sanitizer_clean(d.output()), "clean stop")
            d.close()
            with open(os.path.join(state, "health.state")) as f:
                text = f.read()
            check("button reception seen_at " in text and " mv 29" in text and "extra reception" in text,
                  "health.state keeps last seen, battery and the extras")
            sim.ctl.SetInRange(A, False)
            n0 = len(states(sink, "reception-offline"))
            check(n0 % 2 == 0, "every offline On was closed before the restart (%d)" % n0)
            d = Daemon(tmp, bus, cfg, extra_args=["-v"], name="second")
            check(wait_for(lambda: "running" in d.output(), 10), "restarted")
            p, j = ctl_json(bus, "buttons", "reception")
            check(j and j["last_seen"] and 2900 <= j["battery_mv"] <= 3000 and j["last_test"],
                  "after a restart, before the button is back: last seen, battery and last test are known")
            check(wait_for(lambda: states(sink, "reception-offline")[n0:] == ["On"], 15),
                  "still away after the restart: offline again, counted from the stored last seen")
            sim.ctl.SetInRange(A, True)
            check(wait_for(lambda: states(sink, "reception-offline")[n0:] == ["On", "Off"], 20),
                  "and back")
            rc = d.stop()
            check(rc == 0 and sanitizer_clean(d.output()), "clean stop")
            d.close()
    finally:
        sink.close()

finish()
