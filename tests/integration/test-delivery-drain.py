#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Drain while running: the target fails (503) for a minute while 500
alerts of 16 buttons queue up, each retried and backing off; when it
answers again, everything that waited goes out at once, without a
restart: all 500 within 20 s of its return (each alert waiting out a
backoff of its own, up to a minute by then, cannot do that), each once.
While it failed, fewer requests than alerts reached it."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from delivery import Sink  # noqa: E402
from fgapi import GATEWAY, GW_IFACE, Client, ctl_json  # noqa: E402
from fgtest import Daemon, PrivateBus, TempDir, check, finish, wait_for  # noqa: E402

BUTTONS = 16
ALERTS = 500
OUTAGE_S = 60

with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp.path)
    sink.control("/_sink/mode", "status 503")
    buttons = "".join("[button b%02d]\nserial = BG30-D%05d\n" % (i, i) for i in range(BUTTONS))
    cfg = tmp.file("flicgate.ini", """[gateway]
name = test-gw
state_dir = %s
spool_max = 5000
[webhook main]
preset = alertops
url = %s/alertops
rate_limit = 1000/s
%s[health]
require_time_sync = no
""" % (state, sink.url, buttons))
    bus = PrivateBus(tmp)
    d = Daemon(tmp, bus, cfg)
    client = None

    def queued():
        p, j = ctl_json(bus, "status")
        return j["delivery"]["targets"][0]["queued"] if j and j.get("delivery") else -1

    try:
        check(wait_for(lambda: queued() >= 0, 10), "the daemon answers on the bus")
        client = Client(bus.address)
        start = time.monotonic()
        for i in range(ALERTS):
            r, err = client.call(GATEWAY, GW_IFACE, "SendTestAlert", "b%02d" % (i % BUTTONS), "main")
            if err:
                check(False, "SendTestAlert %d: %s" % (i, err))
                break
        check(wait_for(lambda: queued() >= ALERTS, 30), "%d test alerts (On and Off each) wait for the "
              "failing target (%d queued)" % (ALERTS, queued()))
        # the outage goes on: each button's alert backs off further
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - start)))
        reqs = sink.requests()
        print("requests during the outage: %d" % len(reqs))
        check(0 < len(reqs) < ALERTS, "the failing target was probed, not sent every alert (%d requests)"
              % len(reqs))

        # ---- the target answers again; the daemon keeps running
        sink.control("/_sink/clear")
        back = time.monotonic()
        ok = wait_for(lambda: queued() == 0, 20, interval=0.2)
        took = time.monotonic() - back
        left = queued()
        print("drained in %.1f s after the target's return (%d left)" % (took, left))
        check(ok, "every waiting alert delivered within 20 s of the target's return, no restart (%d left)"
              % left)
        accepted = [r for r in sink.requests() if 200 <= r["status"] < 300]
        bodies = [json.loads(r["body"]) for r in accepted]
        tests = [b for b in bodies if b.get("flic_test")]
        ids = {b["flic_alertId"] for b in tests}
        keys = [b["flic_idempotencyKey"] for b in tests]
        check(len(ids) == ALERTS and len(keys) == len(set(keys)),
              "all %d test alerts accepted (a test alert is an On and its Off), each once "
              "(%d alerts, %d requests, %d distinct)" % (ALERTS, len(ids), len(keys), len(set(keys))))
        check(d.proc.poll() is None, "the daemon kept running")
        rc = d.stop()
        check(rc == 0, "daemon stops cleanly (rc %s)" % rc)
    finally:
        if client:
            client.close()
        d.close()
        bus.close()
        sink.close()
finish()
