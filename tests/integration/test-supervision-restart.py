#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The watchdog and the restart report: WATCHDOG=1 comes from the event loop
(it stops while the loop is stopped with SIGSTOP and resumes with SIGCONT,
so systemd's WatchdogSec= restarts a hung loop); after kill -9 the next
start reports the abnormal end (log line, audit record, <gateway>-restarted
On then Off at the target); a clean stop is not reported."""
import csv
import io
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from delivery import Sink  # noqa: E402
from fgapi import ctl  # noqa: E402
from fgtest import Daemon, NotifySocket, PrivateBus, TempDir, check, finish, wait_for  # noqa: E402


def restarted(sink):
    out = []
    for r in sink.requests():
        if r.get("path") == "/alertops" and 200 <= r.get("status", 0) < 300:
            b = json.loads(r["body"])
            if b.get("flic_nameId") == "test-gw-restarted":
                out.append(b["flic_state"])
    return out


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp.path)
    cfg = tmp.file("flicgate.ini", """[gateway]
name = test-gw
state_dir = %s
[webhook main]
preset = alertops
url = %s/alertops
rate_limit = 1000/s
[button reception]
serial = BG30-A00001
[health]
require_time_sync = no
""" % (state, sink.url))
    bus = PrivateBus(tmp)
    notify = NotifySocket(tmp)
    env = {"WATCHDOG_USEC": "1000000"}
    d = Daemon(tmp, bus, cfg, notify=notify, env=env)
    try:
        # ---- the watchdog pings come from the loop
        check(wait_for(lambda: notify.seen("READY=1"), 10), "READY=1")
        check(os.path.exists(os.path.join(state, "running")), "the running marker exists while the loop runs")
        n0 = notify.count("WATCHDOG=1")
        time.sleep(3.0)
        n1 = notify.count("WATCHDOG=1")
        check(n1 - n0 >= 2, "WATCHDOG=1 keeps coming while the loop runs (%d in 3 s)" % (n1 - n0))
        d.signal(signal.SIGSTOP)
        time.sleep(0.3)
        n2 = notify.count("WATCHDOG=1")
        time.sleep(3.0)
        n3 = notify.count("WATCHDOG=1")
        check(n3 == n2, "a stopped loop sends none: systemd would kill and restart it (%d)" % (n3 - n2))
        d.signal(signal.SIGCONT)
        check(wait_for(lambda: notify.count("WATCHDOG=1") > n3, 3), "the pings resume with the loop")

        # ---- kill -9: the next start reports it
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d.close()
        check(os.path.exists(os.path.join(state, "running")), "kill -9 leaves the marker behind")
        d = Daemon(tmp, bus, cfg, name="second")
        check(d.wait_log("restarted after an abnormal end of flicgated", 10), "the restart is logged")
        check(wait_for(lambda: restarted(sink) == ["On", "Off"], 10),
              "test-gw-restarted On then Off at the target: %s" % restarted(sink))
        p = ctl(bus, "log", "--since", "10min ago", "--csv")
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        sup = [r for r in rows if r["event"].startswith("supervision") and "restarted" in r["detail"]]
        check([r["event"] for r in sup] == ["supervision-open", "supervision-close"],
              "the audit trail has it: %s" % [r["event"] for r in sup])
        rc = d.stop()
        check(rc == 0, "clean stop")
        d.close()
        check(not os.path.exists(os.path.join(state, "running")), "a clean stop removes the marker")

        # ---- a clean stop is not a crash
        d = Daemon(tmp, bus, cfg, name="third")
        check(wait_for(lambda: "running" in d.output(), 10), "third start runs")
        time.sleep(1.0)
        check("abnormal end" not in d.output(), "after a clean stop nothing is reported")
        check(restarted(sink) == ["On", "Off"], "and nothing is sent")
    finally:
        d.close()
        notify.close()
        sink.close()
        bus.close()

finish()
