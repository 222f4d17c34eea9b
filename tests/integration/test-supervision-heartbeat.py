#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Gateway supervision against the loopback sink: the heartbeat arrives at
its interval with the gateway's state in its body and its URL never in the
log; no bluetoothd raises <gateway>-bluetooth; with the sink down the
heartbeats fail, are logged with backoff and never spooled, every target
failing for targets_failing_after raises <gateway>-delivery and the buzzer
(the fallback alarm), and with the sink back everything resumes and the
alarm closes; the audit trail exports as CSV and JSON."""
import csv
import io
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from delivery import Sink  # noqa: E402
from fgapi import ctl, ctl_json  # noqa: E402
from fgtest import Daemon, PrivateBus, TempDir, check, finish, wait_for  # noqa: E402

SECRET = "0f1e2d3c-secret-ping-uuid"


def bodies(sink, prefix):
    out = []
    for r in sink.requests():
        # what the sink accepted (one it hung up on while "down" is recorded too)
        if r.get("path", "").startswith(prefix) and 200 <= r.get("status", 0) < 300:
            try:
                out.append((r, json.loads(r["body"])))
            except ValueError:
                out.append((r, None))
    return out


def supervision(sink, name_id):
    return [b["flic_state"] for _, b in bodies(sink, "/alertops") if b and b.get("flic_nameId") == name_id]


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp.path)
    cfg = tmp.file("flicgate.ini", """[gateway]
name = test-gw
state_dir = %(state)s
[webhook main]
preset = alertops
url = %(url)s/alertops
rate_limit = 1000/s
[button reception]
serial = BG30-A00001
[health]
heartbeat_url = %(url)s/ping/%(secret)s
heartbeat_interval = 10s
require_time_sync = no
bluetoothd_gone_after = 5s
targets_failing_after = 30s
[gpio]
backend = log
""" % dict(state=state, url=sink.url, secret=SECRET))
    bus = PrivateBus(tmp)
    d = Daemon(tmp, bus, cfg)
    try:
        # ---- the heartbeat
        check(wait_for(lambda: len(bodies(sink, "/ping/")) >= 1, 10), "the first heartbeat comes at start")
        r, b = bodies(sink, "/ping/")[0]
        check(r["method"] == "POST" and r["headers"].get("content-type") == "application/json",
              "POST, application/json")
        check(b is not None and b.get("gateway") == "test-gw" and b.get("version") and "uptime_s" in b,
              "body: gateway, version, uptime")
        check(b and b["bluetooth"]["state"] == "no-bluetoothd" and b["buttons"]["configured"] == 1,
              "body: adapter state and buttons: %r" % ((b or {}).get("bluetooth"),))
        check(b and b["spool"]["depth"] == 0 and b["targets"] == [{"name": "main", "health": "healthy", "queued": 0}],
              "body: spool and targets' health")
        check(b and b["open_alerts"] == [] and "alarms" in b, "body: open alerts and alarms")

        # ---- no bluetoothd: its alarm, to the sink, in status and in the next heartbeat
        check(wait_for(lambda: supervision(sink, "test-gw-bluetooth") == ["On"], 15),
              "no bluetoothd for 5 s: test-gw-bluetooth On at the target")
        sup = [b for _, b in bodies(sink, "/alertops") if b.get("flic_nameId") == "test-gw-bluetooth"]
        check(sup and sup[0].get("flic_supervision") is True and sup[0].get("flic_gesture") == "",
              "marked as a supervision alert, no gesture")
        st = ctl_json(bus, "status")[1]
        check(st and st["supervision"]["alarms"] == ["test-gw-bluetooth"], "status shows the alarm")
        check(wait_for(lambda: len(bodies(sink, "/ping/")) >= 2, 15), "the second heartbeat")
        beats = bodies(sink, "/ping/")
        gap = beats[1][1]["uptime_s"] - beats[0][1]["uptime_s"]
        check(gap >= 9, "at the interval, not faster (%s s apart)" % gap)
        check("test-gw-bluetooth" in beats[1][1]["alarms"], "the heartbeat lists the open alarm")
        check(SECRET not in d.output(), "the heartbeat URL's secret is never logged")
        check("Heartbeat to %s/…(redacted) every 10 s" % sink.url.replace("http://", "http://") in d.output()
              or "Heartbeat to http://127.0.0.1:%d/" % sink.port in d.output(), "the heartbeat is logged, masked")

        # ---- the sink goes down: heartbeats fail, are not spooled; every target fails
        n_beats = len(beats)
        t_down = time.monotonic()
        check(sink.control("/_sink/mode", "count=1 down 50") == 200, "sink down for 50 s from the next request")
        p = ctl(bus, "test")
        rc, out = p.returncode, p.stdout
        check(rc == 0, "a test alert is queued while the sink is down")
        check(d.wait_log("(1 in a row)", 15), "a failed heartbeat is logged")
        check(wait_for(lambda: "(2 in a row)" in d.output(), 15), "the second failure is logged too")
        check(d.wait_log("test-gw-delivery opens", 40), "every target failing for 30 s: test-gw-delivery opens")
        check(wait_for(lambda: "(targets_failing)" in "\n".join(l for l in d.output().splitlines() if "BUZZER" in l), 5),
              "the buzzer is the fallback alarm (GPIO log: BUZZER … (targets_failing))")
        spool = os.listdir(os.path.join(state, "spool"))
        check(all(not x.startswith("t-") or x == "t-main" for x in spool),
              "nothing spooled for the heartbeat (spool queues: %s)" % spool)
        st = ctl_json(bus, "status")[1]
        check(st and st["delivery"]["spool_depth"] == 3,
              "spooled: the test alert's On and Off and the delivery alarm (%s)" % (st and st["delivery"],))
        check(sorted(st["supervision"]["alarms"]) == ["test-gw-bluetooth", "test-gw-delivery"],
              "status: both alarms")
        check("(3 in a row)" not in d.output() or "(4 in a row)" in d.output(),
              "failures are logged with backoff (1, 2, 4, …), not each one")

        # ---- back: heartbeats resume, the alerts go out, the alarm closes
        time.sleep(max(0, 51 - (time.monotonic() - t_down)))
        p = ctl(bus, "reload")
        rc, out = p.returncode, p.stdout
        check(rc == 0, "reload: retry now")
        check(d.wait_log("works again after", 20), "the heartbeat works again (logged once)")
        check(wait_for(lambda: len(bodies(sink, "/ping/")) > n_beats, 15), "heartbeats arrive again")
        check(wait_for(lambda: supervision(sink, "test-gw-delivery") == ["On", "Off"], 20),
              "test-gw-delivery: On (kept on disk while nothing got out), then Off: %s"
              % supervision(sink, "test-gw-delivery"))
        test_alerts = [b["flic_state"] for _, b in bodies(sink, "/alertops") if b.get("flic_test")]
        check(test_alerts == ["On", "Off"], "the test alert is delivered: %s" % test_alerts)
        buzz = [l for l in d.output().splitlines() if "BUZZER" in l]
        check(buzz and "(targets_failing)" not in buzz[-1], "the buzzer stops: %s" % (buzz[-1:] or None))

        # ---- the audit trail
        p = ctl(bus, "log", "--since", "10min ago", "--csv")
        rc, out = p.returncode, p.stdout
        check(rc == 0, "log --since --csv")
        rows = list(csv.reader(io.StringIO(out)))
        check(rows and rows[0] == ["time", "event", "button", "alert_id", "target", "latency_ms",
                                    "since_press_s", "detail"], "CSV header")
        recs = [dict(zip(rows[0], r)) for r in rows[1:]]
        opened = [r["detail"].split(":")[0] for r in recs if r["event"] == "supervision-open"]
        closed = [r["detail"].split(":")[0] for r in recs if r["event"] == "supervision-close"]
        check(opened == ["test-gw-bluetooth", "test-gw-delivery"] and closed == ["test-gw-delivery"],
              "supervision opens and closes are in the trail: %s / %s" % (opened, closed))
        dl = [r for r in recs if r["event"] == "delivered" and r["button"] == "test-gw-delivery"]
        check(len(dl) == 2 and all(r["target"] == "main" for r in dl), "the delivery alarm's deliveries")
        check(len({r["alert_id"] for r in dl}) == 1, "On and Off share the incident id in the trail")
        p = ctl(bus, "--json", "log", "--since", "10min ago")
        rc, out = p.returncode, p.stdout
        j = json.loads(out) if rc == 0 else {}
        check(len(j.get("records", [])) == len(recs) and j.get("truncated") is False,
              "JSON export: the same %d records" % len(recs))
        p = ctl(bus, "log", "--since", "1h ago", "--until", "30min ago", "--csv")
        rc, out = p.returncode, p.stdout
        check(rc == 0 and out.count("\n") == 1, "nothing in another time range (header only): %r" % out)
        p = ctl(bus, "log", "--since", "yesterday-ish")
        rc, out = p.returncode, p.stdout
        check(rc == 2, "a bad TIME is a usage error")
    finally:
        rc = d.stop()
        check(rc == 0, "clean stop (%s)" % rc)
        d.close()
        sink.close()
        bus.close()
    check(not os.path.exists(os.path.join(state, "running")), "a clean stop removes the running marker")
    check(os.path.exists(os.path.join(state, "health.state")), "health.state is written")

finish()
