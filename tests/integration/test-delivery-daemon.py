#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""flicgated itself: alerts spooled before a crash are delivered when the
daemon starts, the alert that was open is shown on the LEDs ([gpio]
backend = log), and the AlertOps-style sink ends with the incident open."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import Daemon, PrivateBus, TempDir, check, finish, wait_for  # noqa: E402
from delivery import Sink, Driver, write_config, acked, spool_records  # noqa: E402

with TempDir() as tmp:
    sink = Sink(tmp.path, extra=("--alertops", "--incidents", os.path.join(tmp.path, "incidents.txt")))
    state = os.path.join(tmp.path, "state")
    config = write_config(tmp.path, state, sink.url, buttons=2)
    with open(config, "a") as f:
        f.write("[gpio]\nbackend = log\n")
    ack = os.path.join(tmp.path, "acks")
    bus = None
    d = None
    try:
        # 1. target down; b0 On, b1 On, b0 Off; then a crash
        sink.control("/_sink/mode", "status 503")
        drv = Driver(tmp.path, config, 3, 0, ack, interval_ms=5)
        check(wait_for(lambda: len(acked(ack)) == 3, 10), "three presses acknowledged while the target is down")
        time.sleep(0.3)   # the alert state is written after the (failing) sends
        drv.kill9()
        drv.close()
        queued = spool_records(state)
        check(len(queued) == 3, "three alerts wait in the spool (%d)" % len(queued))

        # 2. target back; the daemon starts and delivers them in order
        sink.control("/_sink/clear")
        bus = PrivateBus(tmp)
        d = Daemon(tmp, bus, config, extra_args=["-v"])
        check(d.wait_log("Spool: 3 alerts waiting"), "the daemon replays the spool at start-up")
        check(wait_for(lambda: len(sink.accepted_keys()) >= 3, 15), "all three delivered")
        got = sink.accepted_keys()
        check(sorted(got) == ["BG30-A00000:1:click", "BG30-A00000:2:double_click", "BG30-A00001:1:click"]
              and got.index("BG30-A00000:1:click") < got.index("BG30-A00000:2:double_click"),
              "each once, b0's On before its Off: %s" % got)
        check(d.wait_log("Delivered On alert"), "journal line per delivery")
        check("SECRET" not in d.output() and "/alertops" not in d.output(), "the URL path is masked in the log")
        incidents = open(os.path.join(tmp.path, "incidents.txt")).read()
        print(incidents)
        check("Mapped Opened" in incidents and "Mapped Closed" in incidents,
              "the AlertOps mimic opened and closed the incidents")
        check(d.wait_log("LED alert_led: on (delivered)"), "b1's alert, open before the crash and now delivered, "
              "lights the alert LED")
        print("\n".join(l for l in d.output().splitlines() if "LED" in l or "BUZZER" in l))
        rc = d.stop()
        check(rc == 0, "daemon stops cleanly (rc %s)" % rc)
        check(not spool_records(state), "spool empty afterwards")
    finally:
        if d:
            d.close()
        if bus:
            bus.close()
        sink.close()
finish()
