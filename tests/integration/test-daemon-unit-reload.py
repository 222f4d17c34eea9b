#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The shipped unit's ExecReload= works without procps: its command
(conf/flicgated.service, run here against a private bus) makes the running
flicgated take a changed configuration, and fails (non-zero, the reason on
stderr) for a broken one, which the daemon refuses while keeping the old.
It needs nothing but busctl, which comes with systemd itself."""
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import SRCDIR, Daemon, PrivateBus, TempDir, check, finish, wait_for  # noqa: E402
from fgapi import NAME, ctl_json  # noqa: E402

INI = """[gateway]
name = %s
state_dir = %s
[gpio]
backend = log
"""

unit = open(os.path.join(SRCDIR, "conf", "flicgated.service")).read()
reload_lines = [l.split("=", 1)[1] for l in unit.splitlines() if l.startswith("ExecReload=")]
check(len(reload_lines) == 1, "one ExecReload= line")
argv = shlex.split(reload_lines[0])
check("/bin/kill" not in argv[0] and os.path.basename(argv[0]) == "busctl",
      "ExecReload= runs busctl, which systemd ships (%s)" % argv[0])
check("$MAINPID" not in reload_lines[0], "and needs no PID")

with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    ini = tmp.file("flicgate.ini", INI % ("before", state))
    bus = PrivateBus(tmp)
    d = Daemon(tmp, bus, ini)
    try:
        check(wait_for(lambda: bus.name_owner(NAME)), "flicgated is up")
        cmd = [argv[0], "--address=" + bus.address] + argv[1:]

        with open(ini, "w") as f:
            f.write(INI % ("after", state))
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, "the reload command succeeds (%r)" % p.stderr)
        _, j = ctl_json(bus, "status")
        check(j and j["name"] == "after", "the changed configuration is in use (%s)" % (j and j["name"]))

        with open(ini, "w") as f:
            f.write(INI % ("broken", state) + "[webhook x]\nurl = not a url\nbogus = 1\n")
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and "bogus" in p.stderr,
              "a broken file: the reload command fails and says why (%d %r)" % (p.returncode, p.stderr))
        _, j = ctl_json(bus, "status")
        check(j and j["name"] == "after", "and the previous configuration stays")
    finally:
        rc = d.stop()
    check(rc == 0, "the daemon exits cleanly")

finish()
