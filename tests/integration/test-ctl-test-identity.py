#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""flicgatectl test never touches a live incident: with an AlertOps-like
sink (build/flicsink --alertops keeps incidents by flic_nameId), a real
click opens an incident, `flicgatectl test reception` opens and closes an
incident of its own ("reception-test") and leaves the real one open, and
the real double click then closes the real incident."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, BusRef, Sink, addr, config, press, sanitizer_clean, serial  # noqa: E402
from fgapi import ctl  # noqa: E402
from fgtest import Daemon, TempDir, check, finish, wait_for  # noqa: E402
from flicsimtest import Sim  # noqa: E402

A = addr(1)


def incidents(sink):
    """(what, incident number, flic_nameId) per AlertOps mapping, in order."""
    out = []
    for line in open(sink.out_path).read().splitlines():
        m = re.match(r"alertops: (Mapped \w+).*?incident #(\d+)  (.*?)( - .*)?$", line)
        if m:
            out.append((m.group(1), int(m.group(2)), m.group(3)))
    return out


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp)
    cfg = tmp.file("flicgate.ini", config(
        state, pairing="listed", webhook=sink.url + "/POSTAlert/00000000-test/Flic",
        buttons="[button reception]\naddress = %s\n" % A))
    try:
        with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"], tmp=tmp) as sim:
            sim.add(A, name="a", serial=serial(1), public_mode=True, **FAST)
            bus = BusRef(sim.bus_daemon.address)
            d = Daemon(tmp, bus, cfg, extra_args=["-v"])
            check(d.wait_log("connected and verified", 15), "the button is connected")

            press(sim, A, "click")
            check(wait_for(lambda: ("Mapped Opened", 1, "reception") in incidents(sink), 10),
                  "a real click opens incident #1 (%s)" % incidents(sink))

            p = ctl(bus, "test", "reception")
            check(p.returncode == 0, "flicgatectl test reception: exit 0 (%r)" % p.stderr)
            check(wait_for(lambda: ("Mapped Closed", 2, "reception-test") in incidents(sink), 10),
                  "the test opens and closes an incident of its own (%s)" % incidents(sink))
            check([x for x in incidents(sink) if x[2] == "reception"] == [("Mapped Opened", 1, "reception")],
                  "the real incident is neither appended to nor closed by the test (%s)" % incidents(sink))

            press(sim, A, "double_click")
            check(wait_for(lambda: ("Mapped Closed", 1, "reception") in incidents(sink), 10),
                  "the real double click closes the real incident (%s)" % incidents(sink))
            check("Mapped Ignored" not in open(sink.out_path).read(),
                  "no Off found its incident already gone")
            rc = d.stop()
            check(rc == 0 and sanitizer_clean(d.output()), "the daemon exits cleanly (%s)" % rc)
    finally:
        sink.close()

finish()
