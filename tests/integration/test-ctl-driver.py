#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Every flicgatectl command with every subsystem present, against the real
API module inside api-driver: status and buttons with radio and delivery
data, pair with live progress (saved, failed, timeout, closed elsewhere,
Ctrl-C, daemon gone), unpair, rename, test, ack, log, export (mode 0600,
the warning, --force, stdout) and import (merge, --replace, bad files)."""
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import PrivateBus, TempDir, check, finish, wait_for
from fgapi import CTL, Driver, ctl, ctl_json, golden

T0 = 1795000000000000          # 2026-11-18T11:06:40Z, fixed so that output is stable
# "2min ago" whenever the test runs (the table's column width depends on it)
SEEN = int(time.time() * 1000000) - 150 * 1000000
SUBST = ((r"\(\d+[a-z]+( \d+[a-z]+)? ago\)", "(AGO)"), (r"Started:    \S+", "Started:    TIME"),
         (r"Version:    \S+", "Version:    VERSION"),
         (r"Last seen:   \S+", "Last seen:   TIME"))


def popen_ctl(bus, *args):
    return subprocess.Popen([CTL, "--bus", bus.address] + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


with TempDir() as tmp:
    bus = PrivateBus(tmp)
    drv = Driver(bus, os.path.join(tmp.path, "driver.log"))
    try:
        drv.cmd("button reception configured=1 address=80:E4:DA:70:12:34 serial=BG30-C12345 paired=1 "
                "connected=1 rssi=-61 battery=2950 firmware=10 last_event=click last_event_time=%d "
                "last_seen=%d" % (T0, SEEN))
        drv.cmd("button bed-1 configured=1 serial=BG30-D00001 alert=open battery=2510")
        drv.cmd("target alertops healthy 0 12 0 200")
        drv.cmd("target pager failing 3 0 1 503 HTTP 503 Service Unavailable")
        drv.cmd("gateway spool_depth=3 dead_letters=1")

        # ---- status and buttons with everything present
        p = ctl(bus, "status")
        check(p.returncode == 0, "status: exit 0")
        golden("status-full.txt", p.stdout, SUBST)
        p, j = ctl_json(bus, "status")
        check(j and j["bluetooth"] == {"adapter": "hci0", "state": "ready"} and j["connected_buttons"] == 1
              and j["open_alerts"] == ["bed-1"] and j["delivery"]["spool_depth"] == 3
              and j["delivery"]["dead_letters"] == 1 and j["delivery"]["targets"][1] == {
                  "name": "pager", "health": "failing", "queued": 3, "delivered": 0, "dead": 1,
                  "last_status": 503, "last_error": "HTTP 503 Service Unavailable"},
              "status --json with adapter, alerts, spool and targets")
        p = ctl(bus, "buttons")
        golden("buttons-full.txt", p.stdout, SUBST)
        p = ctl(bus, "buttons", "reception")
        golden("button-reception-full.txt", p.stdout, SUBST)
        p, j = ctl_json(bus, "buttons", "reception")
        check(j and j["rssi"] == -61 and j["battery_mv"] == 2950 and j["firmware"] == 10 and j["connected"] is True
              and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", j["last_seen"]) and j["last_event"] == "click"
              and j["last_event_time"] == "2026-11-18T11:06:40.000Z" and j["paired"] is True,
              "buttons NAME --json: radio data, RFC 3339 times")

        # ---- pair: the whole way, text
        for step in ("found 80:E4:DA:70:00:07 RSSI -58", "verifying", "paired - BG30-P10000", "saved"):
            drv.cmd("plan " + step)
        p = ctl(bus, "pair", "--timeout", "60", "--name", "bed-7")
        check(p.returncode == 0 and drv.called("open_pairing 60 bed-7"), "pair: exit 0 once saved")
        golden("pair-saved.txt", p.stdout)
        p = ctl(bus, "buttons", "bed-7")
        check(p.returncode == 0 and "80:E4:DA:70:00:07" in p.stdout and "Paired:      yes" in p.stdout,
              "the paired button is listed with its address")

        # pair --json: JSON Lines
        p = ctl(bus, "--json", "pair")
        lines = [json.loads(l) for l in p.stdout.splitlines()]
        check(p.returncode == 0 and [l["stage"] for l in lines] == ["scanning", "found", "verifying", "paired", "saved"]
              and lines[1]["address"] == "80:E4:DA:70:00:07" and lines[1]["message"] == "RSSI -58"
              and lines[0]["address"] is None and lines[-1]["button"] == "button-1",
              "pair --json: one JSON object per stage (%s)" % p.stdout)

        # failure, timeout, closed by someone else
        drv.cmd("plan clear")
        drv.cmd("plan found 80:E4:DA:70:00:08")
        drv.cmd("plan failed - the button's certificate is not signed by Flic")
        p = ctl(bus, "pair")
        check(p.returncode == 1 and "Pairing failed (the button's certificate is not signed by Flic)" in p.stdout,
              "pair: exit 1 when it fails, with the reason")
        drv.cmd("plan clear")
        start = time.monotonic()
        p = ctl(bus, "pair", "--timeout", "5")
        check(p.returncode == 7 and "closed before a button was paired" in p.stdout
              and time.monotonic() - start >= 4.5, "pair: exit 7 when the window runs out")
        n = len(drv.drain())
        q = popen_ctl(bus, "pair")
        check(wait_for(lambda: "open_pairing 0 -" in drv.drain()[n:]), "a window is open")
        p = ctl(bus, "pair")
        check(p.returncode == 1 and "already open" in p.stderr, "a second pair while one runs: Busy, exit 1")
        subprocess.run(["busctl", "--address=" + bus.address, "call", "io.github.flicgate1",
                        "/io/github/flicgate1/gateway", "io.github.flicgate1.Gateway", "ClosePairingWindow"],
                       check=True, capture_output=True)
        out, err = q.communicate(timeout=10)
        check(q.returncode == 7 and "The pairing window was closed (closed on request)." in out,
              "pair: exit 7 when the window is closed elsewhere (%d %r %r %s)" % (q.returncode, out, err, drv.drain()[n:]))

        # Ctrl-C closes the window it opened
        n = len(drv.drain())
        q = popen_ctl(bus, "pair")
        check(wait_for(lambda: "open_pairing 0 -" in drv.drain()[n:]), "another window is open")
        check(q.stdout.readline().startswith("Pairing window open") and
              q.stdout.readline().startswith("Scanning"), "pair says so and follows the window")
        q.send_signal(signal.SIGINT)
        out, err = q.communicate(timeout=10)
        check(q.returncode == 7 and "interrupted; the pairing window is closed" in err
              and wait_for(lambda: drv.drain()[-1] == "close_pairing"),
              "Ctrl-C: the window is closed, exit 7 (%s %r %s)" % (q.returncode, err, drv.drain()[-3:]))

        drv.cmd("gateway policy=locked")
        p = ctl(bus, "pair")
        check(p.returncode == 1 and "locked" in p.stderr, "pairing = locked: exit 1 with the reason")
        drv.cmd("gateway policy=window")

        # ---- unpair, rename
        p, j = ctl_json(bus, "unpair", "80:E4:DA:70:00:07")
        check(p.returncode == 0 and j == {"ok": True, "button": "80:E4:DA:70:00:07"}
              and drv.called("unpair bed-7"), "unpair by address, --json")
        p = ctl(bus, "buttons", "bed-7")
        check(p.returncode == 5, "an unconfigured button is gone once unpaired")
        p = ctl(bus, "unpair", "bed-1")
        check(p.returncode == 1 and "not paired" in p.stderr, "unpair of an unpaired button: exit 1")
        p = ctl(bus, "rename", "button-1", "bed-8")
        check(p.returncode == 0 and p.stdout == "Renamed button-1 to bed-8.\n" and drv.called("rename button-1 bed-8"),
              "rename of a paired, unconfigured button")
        p = ctl(bus, "buttons", "--names")
        check("bed-8" in p.stdout.split() and "button-1" not in p.stdout.split(), "the new name shows")
        p = ctl(bus, "rename", "bed-8", "reception")
        check(p.returncode == 1 and "already" in p.stderr, "rename to a taken name: exit 1")
        p = ctl(bus, "rename", "reception", "desk")
        check(p.returncode == 1 and "flicgate.ini" in p.stderr, "rename of a configured button: exit 1")

        # ---- test, ack, log
        p = ctl(bus, "test")
        check(p.returncode == 0 and drv.called("test_alert - -") and "Test alert queued;" in p.stdout,
              "test: the synthetic button to every target")
        p = ctl(bus, "test", "BG30-C12345", "--target", "pager")
        check(p.returncode == 0 and drv.called("test_alert reception pager"), "test BUTTON --target NAME")
        p = ctl(bus, "test", "--target", "nowhere")
        check(p.returncode == 5 and "nowhere" in p.stderr, "test to an unknown target: exit 5")
        p = ctl(bus, "ack")
        check(p.returncode == 0 and p.stdout == "Silenced.\n", "ack with an open alert: Silenced.")
        p, j = ctl_json(bus, "ack")
        check(j == {"silenced": True}, "ack --json")
        drv.cmd("delivery a-17 bed-1 alertops on 0 delivered 202 45000 1")
        drv.cmd("delivery a-18 bed-1 pager on 0 retry 503 2000000 2 HTTP 503 Service Unavailable")
        p = ctl(bus, "log")
        check(p.returncode == 0, "log: exit 0")
        golden("log.txt", p.stdout, ((r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "TIME"),))
        p, j = ctl_json(bus, "log", "-n", "3")
        check(p.returncode == 0 and len(j) == 3 and j[0]["alert_id"] == "a-18" and j[0]["http_status"] == 503
              and j[0]["latency_ms"] == 2000 and j[0]["error"] == "HTTP 503 Service Unavailable"
              and j[2]["test"] is True and j[1]["error"] is None, "log --json -n 3: newest first")

        # ---- export
        exp = os.path.join(tmp.path, "pairings.txt")
        p = ctl(bus, "export", exp)
        mode = stat.S_IMODE(os.stat(exp).st_mode)
        check(p.returncode == 0 and mode == 0o600, "export writes the file with mode 0600 (%o)" % mode)
        check("Wrote 2 pairing records to %s (mode 0600)." % exp in p.stdout and "keep it secret" in p.stdout,
              "export warns on stdout that the file holds keys")
        with open(exp) as f:
            doc = f.read()
        check(doc.count("key=SECRET") == 2 and "pairing 80:E4:DA:70:12:34 BG30-C12345 reception" in doc,
              "the file holds the daemon's document")
        p = ctl(bus, "export", exp)
        check(p.returncode == 1 and "use --force" in p.stderr, "export will not overwrite without --force")
        os.chmod(exp, 0o644)
        p = ctl(bus, "export", "--force", exp)
        check(p.returncode == 0 and stat.S_IMODE(os.stat(exp).st_mode) == 0o600,
              "--force overwrites and puts the mode back to 0600")
        os.symlink(os.path.join(tmp.path, "elsewhere"), os.path.join(tmp.path, "link"))
        p = ctl(bus, "export", "--force", os.path.join(tmp.path, "link"))
        check(p.returncode == 1 and not os.path.exists(os.path.join(tmp.path, "elsewhere")),
              "export does not follow a symlink")
        p = ctl(bus, "export", "-")
        check(p.returncode == 0 and p.stdout == doc and "keep it secret" in p.stderr,
              "export - : the document on stdout, the warning on stderr")
        p, j = ctl_json(bus, "export", os.path.join(tmp.path, "p2.txt"))
        check(j and j["count"] == 2 and j["mode"] == "0600" and "secret" in j["warning"], "export --json")

        # ---- import
        p = ctl(bus, "import", exp)
        check(p.returncode == 0 and p.stdout == "Imported 2 pairing records.\n" and drv.called("import merge"),
              "import: merged")
        extra = tmp.file("extra.txt", doc + "pairing 80:E4:DA:70:00:09 BG30-Q12345 bed-9 key=SECRET99\n")
        p, j = ctl_json(bus, "import", "--replace", extra)
        check(j == {"count": 3, "replaced": True} and drv.called("import replace"), "import --replace --json")
        p = ctl(bus, "buttons", "bed-9")
        check(p.returncode == 0 and "80:E4:DA:70:00:09" in p.stdout, "an imported button is known at once")
        loose = tmp.file("loose.txt", doc, 0o644)
        p = ctl(bus, "import", loose)
        check(p.returncode == 0 and "can be read by other users" in p.stderr, "import warns about a readable file")
        bad = tmp.file("bad.txt", "pairing nonsense\n")
        p = ctl(bus, "import", bad)
        check(p.returncode == 1 and "line 1: not a pairing record" in p.stderr, "a bad file: exit 1 with the line")
        binary = os.path.join(tmp.path, "bin.txt")
        with open(binary, "wb") as f:
            f.write(b"pairing\0x\n")
        p = ctl(bus, "import", binary)
        check(p.returncode == 1 and "not a pairing export" in p.stderr, "a binary file is refused")
        p = ctl(bus, "import", os.path.join(tmp.path, "missing.txt"))
        check(p.returncode == 1 and "cannot read" in p.stderr, "a missing file: exit 1")
        p = ctl(bus, "import", "-", stdin=doc)
        check(p.returncode == 0 and "Imported 2" in p.stdout, "import - reads stdin")

        # ---- the daemon goes away while pair waits
        drv.cmd("plan clear")
        n = len(drv.drain())
        q = popen_ctl(bus, "pair")
        check(wait_for(lambda: "open_pairing 0 -" in drv.drain()[n:]), "a last window is open")
        check(q.stdout.readline().startswith("Pairing window open") and
              q.stdout.readline().startswith("Scanning"), "pair follows it")
        rc = drv.close()
        check(rc == 0, "api-driver ends cleanly (exit %s)" % rc)
        out, err = q.communicate(timeout=10)
        check(q.returncode == 3 and "flicgated stopped" in err,
              "pair: exit 3 when the daemon goes away (%s %r)" % (q.returncode, err))
    finally:
        drv.close()
        bus.close()

finish()
