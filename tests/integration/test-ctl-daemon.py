#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Every flicgatectl command against the real flicgated on a private bus
without bluetoothd: text output (golden files where stable), --json parsed
by python's json module, and the exit codes: 0 ok, 1 refused (rename of a
configured button, unpair of one never paired, a second pairing window, a
file that is no export, a broken reload), 2 usage, 3 daemon not running, 4
not authorised, 5 unknown button, 7 a pairing window that ended without a
button (timeout, Ctrl-C). Exit 6 (not in this build) needs a build without
a subsystem: test-ctl-driver.py. With buttons: test-ctl-bluez.py."""
import json
import os
import re
import signal
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import Daemon, PrivateBus, TempDir, check, finish, wait_for
from delivery import Sink
from fgapi import CTL, NAME, NOBODY, ctl, ctl_json, golden, version

INI = """[gateway]
name = ward-3
state_dir = %(state)s
[gpio]
backend = log
[webhook alertops]
url = %(url)s/POSTAlert/SECRETKEY/Flic
[button reception]
address = 80:E4:DA:70:12:34
serial = BG30-C12345
[button bed-1]
serial = BG30-D00001
[button bed-2]
address = 80:E4:DA:70:00:02
"""

# what changes from run to run
SUBST = ((r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "TIME"), (r"\(\d+[a-z]+( \d+[a-z]+)? ago\)", "(AGO)"),
         (r"Config:     \S+", "Config:     PATH"), (r"Version:    \S+", "Version:    VERSION"))

with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp.path)
    ini = tmp.file("flicgate.ini", INI % {"state": state, "url": sink.url})
    bus = PrivateBus(tmp)

    # ---- before the daemon runs: exit 3
    p = ctl(bus, "status")
    check(p.returncode == 3 and "flicgated is not running" in p.stderr and NAME in p.stderr,
          "no daemon: exit 3 with a plain message (%r)" % p.stderr)
    p, j = ctl_json(bus, "buttons")
    check(p.returncode == 3 and j and j["error"]["name"] == "org.freedesktop.DBus.Error.ServiceUnknown",
          "no daemon, --json: the error as JSON")
    p = ctl(os.path.join("unix:path=" + tmp.path, "nonexistent.sock"), "status")
    check(p.returncode == 3 and "cannot connect" in p.stderr, "no bus: exit 3 (%r)" % p.stderr)

    d = Daemon(tmp, bus, ini)
    try:
        check(wait_for(lambda: bus.name_owner(NAME)), "flicgated is up")

        # ---- status
        p = ctl(bus, "status")
        check(p.returncode == 0, "status: exit 0")
        golden("status-daemon.txt", p.stdout, SUBST)
        p, j = ctl_json(bus, "status")
        check(p.returncode == 0 and j is not None, "status --json parses")
        if j:
            check(j["name"] == "ward-3" and j["version"] == version() and j["config_path"] == ini
                  and j["buttons"] == 3 and j["features"] == ["bluetooth", "delivery", "feedback", "pairing-store"]
                  and j["bluetooth"] == {"adapter": None, "state": "no-bluetoothd"}
                  and j["delivery"] == {"spool_depth": 0, "spool_alarm": False, "dead_letters": 0, "targets": [
                      {"name": "alertops", "health": "healthy", "queued": 0, "delivered": 0, "dead": 0,
                       "last_status": None, "last_error": None}]}
                  and j["connected_buttons"] == 0
                  and j["pairing"] == {"policy": "window", "window_open": False, "window_end": None}
                  and re.match(r"\d{4}-\d\d-\d\dT", j["start_time"]),
                  "status --json: fields, null for what is unknown (%s)" % j)
        p = ctl(bus, "--json=pretty", "status")
        check(p.returncode == 0 and p.stdout.startswith("{\n  \"name\": \"ward-3\",") and json.loads(p.stdout),
              "--json=pretty is indented and still JSON")

        # ---- buttons
        p = ctl(bus, "buttons")
        check(p.returncode == 0, "buttons: exit 0")
        golden("buttons-daemon.txt", p.stdout)
        p = ctl(bus, "buttons", "--names")
        check(p.stdout == "bed-1\nbed-2\nreception\n", "buttons --names: one name a line, sorted")
        p = ctl(bus, "buttons", "80:e4:da:70:12:34")
        check(p.returncode == 0, "buttons ADDRESS: exit 0")
        golden("button-reception-daemon.txt", p.stdout)
        p, j = ctl_json(bus, "buttons")
        check(p.returncode == 0 and [b["name"] for b in j] == ["bed-1", "bed-2", "reception"]
              and j[0]["address"] is None and j[0]["serial"] == "BG30-D00001" and j[2]["configured"] is True
              and j[2]["connected"] is False and j[2]["paired"] is False and j[2]["rssi"] is None
              and j[2]["battery_mv"] is None and j[2]["firmware"] is None and j[2]["last_event"] is None
              and j[2]["object"] == "/io/github/flicgate1/button/reception",
              "buttons --json: a list with null for unknown values")
        p, j = ctl_json(bus, "buttons", "bg30-d00001")
        check(p.returncode == 0 and j["name"] == "bed-1", "buttons SERIAL --json: one object")
        p = ctl(bus, "buttons", "nope")
        check(p.returncode == 5 and "No button called 'nope'" in p.stderr, "unknown button: exit 5")
        p, j = ctl_json(bus, "buttons", "nope")
        check(p.returncode == 5 and j["error"]["name"] == "io.github.flicgate1.Error.UnknownButton",
              "unknown button, --json: error name")

        # ---- pairing without a radio: the window opens, nothing pairs
        p = ctl(bus, "pair", "--timeout", "5")
        check(p.returncode == 7 and p.stdout == "Pairing window open. Hold the button down for about 7 seconds, until it flashes.\n"
              "Scanning for a button in pairing mode...\n"
              "The pairing window closed before a button was paired.\n",
              "pair --timeout 5: scanning, then the window runs out: exit 7 (%d %r)" % (p.returncode, p.stdout))
        # --json: JSON lines as the stages come; a second window is Busy; Ctrl-C closes it
        first = subprocess.Popen([CTL, "--bus", bus.address, "--json=short", "pair", "--timeout", "60",
                                  "--name", "bed-9"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = first.stdout.readline()
        check(json.loads(line or "null") == {"stage": "scanning", "address": None, "button": None, "message": None},
              "pair --json: the scanning stage as one JSON line (%r)" % line)
        p = ctl(bus, "pair", "--timeout", "5")
        check(p.returncode == 1 and "already open" in p.stderr, "a second pair while one runs: exit 1, Busy (%r)" % p.stderr)
        p, j = ctl_json(bus, "status")
        check(j and j["pairing"]["window_open"] is True and j["pairing"]["window_end"], "status shows the open window")
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=10)
        lines = [json.loads(x) for x in out.splitlines() if x.strip()]
        check(first.returncode == 7 and lines == [{"error": {"name": "not-paired",
                                                              "message": "interrupted; the pairing window is closed"}}]
              and "interrupted" in err, "Ctrl-C: exit 7, the reason as JSON (%d %r %r)" % (first.returncode, out, err))
        p, j = ctl_json(bus, "status")
        check(j and j["pairing"]["window_open"] is False and d.wait_log("Pairing window closed (closed)"),
              "...and flicgatectl closed the window on its way out")

        p = ctl(bus, "unpair", "reception")
        check(p.returncode == 1 and "not paired" in p.stderr, "unpair of a button never paired: exit 1 (%r)" % p.stderr)
        p = ctl(bus, "unpair", "nope")
        check(p.returncode == 5, "unpair of an unknown button: exit 5")

        # ---- export / import without buttons: an empty, sealed document
        out_path = os.path.join(tmp.path, "pairings.txt")
        p = ctl(bus, "export", out_path)
        check(p.returncode == 0 and p.stdout.startswith("Wrote 0 pairing records to %s (mode 0600)." % out_path),
              "export FILE: exit 0 (%r)" % p.stdout)
        check(os.path.exists(out_path) and stat.S_IMODE(os.stat(out_path).st_mode) == 0o600,
              "the export file is mode 0600")
        doc = open(out_path).read() if os.path.exists(out_path) else ""
        check(doc.startswith("flicgate-pairings 1\n") and "--- pairing" not in doc, "an export without buttons")
        p = ctl(bus, "export", out_path)
        check(p.returncode == 1 and "exists; use --force" in p.stderr, "export does not overwrite without --force")
        p, j = ctl_json(bus, "import", out_path)
        check(p.returncode == 0 and j == {"count": 0, "replaced": False}, "import of it: 0 records (%s)" % j)
        exp = tmp.file("import.txt", "# nothing\n")
        p, j = ctl_json(bus, "import", exp)
        check(p.returncode == 1 and j["error"]["name"] == "io.github.flicgate1.Error.BadPairingFile"
              and "line 1" in j["error"]["message"], "import of something else: exit 1, BadPairingFile (%s)" % j)

        # ---- test and log: the real pipeline and the loopback sink
        p = ctl(bus, "log")
        check(p.returncode == 0 and p.stdout == "No deliveries yet.\n", "log before any delivery")
        p = ctl(bus, "test", "reception", "--target", "alertops")
        check(p.returncode == 0 and "Test alert queued for reception to alertops" in p.stdout, "test BUTTON --target")
        check(wait_for(lambda: len(sink.requests()) == 2), "the sink gets the test alert's On and Off")
        p, j = ctl_json(bus, "test")
        check(p.returncode == 0 and j == {"ok": True}, "test (the synthetic button) --json")
        check(wait_for(lambda: len(sink.requests()) == 4), "and that one too")
        check(wait_for(lambda: len(ctl_json(bus, "log")[1] or []) == 4), "log lists four attempts")
        p, j = ctl_json(bus, "log")
        check([(x["button"], x["state"], x["test"], x["result"], x["http_status"]) for x in j] ==
              [("flicgate-test", "off", True, "delivered", 200), ("flicgate-test", "on", True, "delivered", 200),
               ("reception", "off", True, "delivered", 200), ("reception", "on", True, "delivered", 200)],
              "log --json: newest first, every field (%s)" % j)
        p = ctl(bus, "log", "-n", "1")
        check(p.returncode == 0 and len(p.stdout.splitlines()) == 2 and "flicgate-test" in p.stdout
              and "on (test)" not in p.stdout and "off (test)" in p.stdout, "log -n 1: a header and one row")
        p = ctl(bus, "test", "--target", "nowhere")
        check(p.returncode == 5 and "No [webhook nowhere]" in p.stderr, "test to an unknown target: exit 5")
        p = ctl(bus, "test", "nope")
        check(p.returncode == 5, "test for an unknown button: exit 5")
        p, j = ctl_json(bus, "status")
        check(j and j["delivery"]["targets"][0]["delivered"] == 4 and j["delivery"]["targets"][0]["last_status"] == 200,
              "status counts the deliveries")

        # ---- ack: the LEDs and buzzer are wired ([gpio] backend = log here)
        p = ctl(bus, "ack")
        check(p.returncode == 0 and p.stdout in ("Silenced.\n", "Nothing was sounding.\n"), "ack: exit 0")
        p, j = ctl_json(bus, "ack")
        check(p.returncode == 0 and isinstance(j.get("silenced"), bool), "ack --json")
        check(wait_for(lambda: "Acknowledged over D-Bus" in d.output()), "the daemon logs the acknowledge")

        # ---- rename: refused for a configured button, with the way out
        p = ctl(bus, "rename", "reception", "front-desk")
        check(p.returncode == 1 and "[button reception]" in p.stderr and "flicgatectl reload" in p.stderr,
              "rename of a configured button: exit 1, edit the INI (%r)" % p.stderr.strip())
        p = ctl(bus, "rename", "reception", "bad name")
        check(p.returncode == 2 and "not a valid button name" in p.stderr, "an invalid name: exit 2")

        # ---- reload
        with open(ini, "a") as f:
            f.write("[button bed-3]\nserial = BG30-D00003\n")
        p = ctl(bus, "reload")
        check(p.returncode == 0 and p.stdout == "Configuration reloaded.\n", "reload: exit 0")
        p = ctl(bus, "buttons", "--names")
        check("bed-3" in p.stdout.split(), "the reloaded button is listed")
        p, j = ctl_json(bus, "reload")
        check(p.returncode == 0 and j == {"ok": True}, "reload --json")
        with open(ini, "a") as f:
            f.write("[button bed-4]\naddress = zz\n")
        p = ctl(bus, "reload")
        check(p.returncode == 1 and "Configuration rejected" in p.stderr and "flicgate.ini:18: button.address" in p.stderr,
              "a broken file: exit 1 with file:line (%r)" % p.stderr)
        p, j = ctl_json(bus, "reload")
        check(p.returncode == 1 and j["error"]["name"] == "io.github.flicgate1.Error.ConfigRejected"
              and "flicgate.ini:18" in j["error"]["message"], "a broken file, --json")

        # ---- usage errors: exit 2, no bus needed
        for args in ([], ["frobnicate"], ["unpair"], ["rename", "a"], ["status", "extra"],
                     ["pair", "--timeout", "3"], ["pair", "--timeout", "x"], ["status", "--name", "x"],
                     ["--json=yaml", "status"], ["log", "-n", "-1"], ["buttons", "--names", "reception"]):
            p = ctl(bus, *args)
            check(p.returncode == 2 and p.stderr.startswith("flicgatectl:"),
                  "usage error %s: exit 2 (%r)" % (args, p.stderr.strip()))
        p = ctl(bus, "--bogus")
        check(p.returncode == 2 and "Try 'flicgatectl --help'" in p.stderr, "unknown option: exit 2")

        # ---- not authorised (the daemon's own check on this permissive bus)
        if os.geteuid() == 0:
            os.chmod(tmp.path, 0o755)
            p = ctl(bus, "reload", prefix=NOBODY)
            check(p.returncode == 4 and "not authorised" in p.stderr, "nobody: exit 4 (%r)" % p.stderr)
            p = ctl(bus, "status", prefix=NOBODY)
            check(p.returncode == 0, "nobody may read the status")
        else:
            print("note: not root, the uid switch is covered by test-api-policy only")
        rc = d.stop()
        check(rc == 0, "the daemon stops cleanly (exit %s)" % rc)
        d.close()

        # ---- LEDs and buzzer that could not be set up: ack says so
        broken = tmp.file("nogpio.ini", (INI % {"state": state, "url": sink.url}).replace(
            "backend = log\n", "backend = gpiod\nchip = /dev/flicgate-no-such-chip\nstatus_led = 17\n"))
        d = Daemon(tmp, bus, broken, name="nogpio")
        check(wait_for(lambda: bus.name_owner(NAME)), "flicgated runs without its GPIO chip")
        p = ctl(bus, "ack")
        check(p.returncode == 1 and "could not be set up" in p.stderr, "ack: exit 1, the LEDs are not there (%r)" % p.stderr)
        p, j = ctl_json(bus, "status")
        check(j and j["features"] == ["bluetooth", "delivery", "pairing-store"], "no feedback feature without the LEDs")
    finally:
        d.close()
        bus.close()
        sink.close()

finish()
