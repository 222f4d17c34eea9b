#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A fresh install with nothing configured is not silent: with no [webhook]
and no [button], `flicgated --check-config` warns about both (and still
says the file is valid), the daemon logs both at start, `flicgatectl
status` (text and --json) shows them, and `flicgatectl test` refuses with
a clear message and a non-zero exit instead of "Test alert queued"."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import BUILD, Daemon, PrivateBus, TempDir, check, finish, wait_for  # noqa: E402
from fgapi import NAME, ctl, ctl_json  # noqa: E402

INI = """[gateway]
name = fresh
state_dir = %s
[gpio]
backend = log
"""

with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    ini = tmp.file("flicgate.ini", INI % state)
    p = subprocess.run([os.path.join(BUILD, "flicgated"), "--check-config", "--config", ini],
                       capture_output=True, text=True)
    check(p.returncode == 0, "--check-config: the file itself is valid (exit 0)")
    check("warning: no [webhook NAME] section" in p.stderr and "warning: no [button NAME] section" in p.stderr,
          "--check-config warns: no target, no button (%r)" % p.stderr)
    check("# configuration OK, with the warnings above" in p.stdout, "and does not just say OK (%r)" % p.stdout[-200:])

    bus = PrivateBus(tmp)
    d = Daemon(tmp, bus, ini)
    try:
        check(wait_for(lambda: bus.name_owner(NAME)), "flicgated is up")
        check(d.wait_log("no [webhook NAME] section", 5) and d.wait_log("no [button NAME] section", 5),
              "the log warns at start")
        p = ctl(bus, "status")
        check(p.returncode == 0 and "Warning:    no [webhook] target configured" in p.stdout
              and "Warning:    no button" in p.stdout, "status shows both warnings (%r)" % p.stdout)
        p, j = ctl_json(bus, "status")
        check(j and len(j["warnings"]) == 2, "status --json: warnings (%s)" % (j and j.get("warnings")))
        # human output in local time, --utc for UTC; JSON always UTC
        p = ctl(bus, "status", env={"TZ": "Europe/Stockholm"})
        check(re.search(r"Started:    \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0[12]:00 ", p.stdout),
              "status shows local time with its offset (%r)" % p.stdout.splitlines()[3:4])
        p = ctl(bus, "--utc", "status", env={"TZ": "Europe/Stockholm"})
        check(re.search(r"Started:    \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ", p.stdout),
              "--utc: UTC (%r)" % p.stdout.splitlines()[3:4])
        p, j = ctl_json(bus, "status", env={"TZ": "Europe/Stockholm"})
        check(j and j["start_time"].endswith("Z"), "--json: UTC whatever the zone")
        p = ctl(bus, "test")
        check(p.returncode != 0 and "Test alert queued" not in p.stdout
              and "No target" in p.stderr and "[webhook NAME]" in p.stderr,
              "test with no target: non-zero exit and why (%d %r %r)" % (p.returncode, p.stdout, p.stderr))
    finally:
        rc = d.stop()
    check(rc == 0, "the daemon exits cleanly")

finish()
