#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A target that answers 401 (a wrong key in its URL): `status` names the
reason in the ERROR column, `status --json` and the D-Bus Targets property
carry it, the alarm <gateway>-<target>-rejected opens (and is in the audit
trail); a new alert is still tried at once (the sink sees it within
seconds, not after a 10-minute hold); a reload with the fixed URL delivers
everything that waited at once and the alarm closes."""
import csv
import io
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from delivery import Sink  # noqa: E402
from fgapi import GATEWAY, GW_IFACE, Client, ctl, ctl_json  # noqa: E402
from fgtest import Daemon, PrivateBus, TempDir, check, finish, wait_for  # noqa: E402

CONFIG = """[gateway]
name = test-gw
state_dir = %(state)s
[webhook main]
preset = alertops
url = %(url)s/alertops/%(key)s
rate_limit = 1000/s
[button b0]
serial = BG30-A00000
[button b1]
serial = BG30-A00001
[health]
require_time_sync = no
"""


def target(bus):
    p, j = ctl_json(bus, "status")
    if not j or not j.get("delivery"):
        return {}, []
    return j["delivery"]["targets"][0], j["supervision"]["alarms"]


def requests_at(sink, key_path):
    """(alert id, button serial, answered status) of what the sink received on @key_path."""
    out = []
    for r in sink.requests():
        if r.get("path") == "/alertops/" + key_path:
            try:
                b = json.loads(r["body"])
            except ValueError:
                continue
            out.append((b.get("flic_alertId"), b.get("flic_serial"), r["status"]))
    return out


def keys_at(sink, key_path):
    return [(k, s) for k, _, s in requests_at(sink, key_path)]


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp.path)
    sink.control("/_sink/mode", "path=/alertops/BADKEY status 401")
    cfg = tmp.file("flicgate.ini", CONFIG % {"state": state, "url": sink.url, "key": "BADKEY"})
    bus = PrivateBus(tmp)
    d = Daemon(tmp, bus, cfg, extra_args=["-v"])
    client = None
    try:
        check(wait_for(lambda: ctl(bus, "status").returncode == 0, 10), "the daemon answers on the bus")
        # ---- one alert, answered 401
        p = ctl(bus, "test", "b0")
        check(p.returncode == 0, "test alert of b0 queued: %s" % p.stderr)
        check(wait_for(lambda: any(s == 401 for _, s in keys_at(sink, "BADKEY")), 10),
              "the sink answered the first alert 401")
        reason = "HTTP 401 Unauthorized: check the key in url/routing_key"
        check(wait_for(lambda: reason in (target(bus)[0].get("last_error") or ""), 10),
              "status --json names the reason: %s" % (target(bus)[0],))
        t, alarms = target(bus)
        check(t.get("health") != "healthy" and t.get("last_status") == 401,
              "the target is marked refusing us: %s" % t)
        check(wait_for(lambda: "test-gw-main-rejected" in target(bus)[1], 10),
              "the alarm test-gw-main-rejected is open: %s" % (target(bus)[1],))
        text = ctl(bus, "status").stdout
        print(text)
        row = [l for l in text.splitlines() if l.strip().startswith("main ")]
        check(row and reason in row[0], "the ERROR column of `status` shows the reason: %s" % row)
        check("test-gw-main-rejected" in text, "`status` lists the alarm")
        client = Client(bus.address)
        props = client.props(GATEWAY, GW_IFACE)
        tgt = [tuple(x) for x in props["Targets"]]
        check(tgt and str(tgt[0][0]) == "main" and reason in str(tgt[0][6]),
              "the D-Bus Targets property carries the reason: %s" % tgt)
        check(any("test-gw-main-rejected" == str(a) for a in props["Alarms"]), "the D-Bus Alarms property lists it")
        check(d.wait_log("Supervision: test-gw-main-rejected opens"), "the alarm is logged")
        p = ctl(bus, "log", "--since", "10min ago", "--csv")
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        opened = [r for r in rows if r["event"] == "supervision-open" and "test-gw-main-rejected" in r["detail"]]
        check(opened and reason in opened[0]["detail"], "the audit trail records the alarm with the reason: %s"
              % [r["detail"] for r in rows if r["event"].startswith("supervision")])

        # ---- a new alert is still tried at once, not held for 10 minutes
        check(not any(serial == "BG30-A00001" for _, serial, _ in requests_at(sink, "BADKEY")),
              "nothing of b1 was sent yet")
        p = ctl(bus, "test", "b1")
        check(p.returncode == 0, "test alert of b1 queued")
        check(wait_for(lambda: any(serial == "BG30-A00001" for _, serial, _ in requests_at(sink, "BADKEY")), 5),
              "b1's new alert reaches the sink within seconds: %s" % requests_at(sink, "BADKEY"))
        depth = target(bus)[0].get("queued", 0)
        check(depth >= 2, "the refused alerts are kept (%d queued)" % depth)

        # ---- the key is fixed: a reload delivers everything at once
        with open(cfg, "w") as f:
            f.write(CONFIG % {"state": state, "url": sink.url, "key": "GOODKEY"})
        p = ctl(bus, "reload")
        check(p.returncode == 0, "reload: %s" % p.stderr)
        check(wait_for(lambda: target(bus)[0].get("queued") == 0, 10),
              "everything that waited is delivered after the reload: %s" % (target(bus)[0],))
        good = {k for k, s in keys_at(sink, "GOODKEY") if 200 <= s < 300}
        bad = {k for k, _ in keys_at(sink, "BADKEY")}
        check(bad and bad <= good, "each refused alert was delivered with the fixed key: %s of %s"
              % (sorted(good), sorted(bad)))
        check(wait_for(lambda: "test-gw-main-rejected" not in target(bus)[1], 10),
              "the alarm closes: %s" % (target(bus)[1],))
        t = target(bus)[0]
        check(t.get("health") == "healthy" and not t.get("last_error"), "the target is healthy again: %s" % t)
        check(d.wait_log("Supervision: test-gw-main-rejected closes"), "the close is logged")

        # ---- the same with SIGHUP (systemctl reload): a bad key again, then fixed
        with open(cfg, "w") as f:
            f.write(CONFIG % {"state": state, "url": sink.url, "key": "BADKEY"})
        n = d.output().count("Configuration reloaded from")
        d.signal(signal.SIGHUP)
        check(wait_for(lambda: d.output().count("Configuration reloaded from") > n, 10), "SIGHUP reloads")
        check(ctl(bus, "test", "b0").returncode == 0, "another test alert of b0")
        check(wait_for(lambda: "test-gw-main-rejected" in target(bus)[1], 10), "the alarm opens again")
        with open(cfg, "w") as f:
            f.write(CONFIG % {"state": state, "url": sink.url, "key": "GOODKEY"})
        d.signal(signal.SIGHUP)
        check(wait_for(lambda: target(bus)[0].get("queued") == 0 and "test-gw-main-rejected" not in target(bus)[1],
                       10), "after SIGHUP with the fixed key all is delivered and the alarm closed: %s"
              % (target(bus),))
        rc = d.stop()
        check(rc == 0, "daemon stops cleanly (rc %s)" % rc)
    finally:
        if client:
            client.close()
        d.close()
        bus.close()
        sink.close()
finish()
