#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The button layer holds its own reference to the configuration: a reload
whose trusted keys cannot be allocated still switches it whole, and the
owner dropping its old configuration right after (as the manager does)
leaves nothing pointing into freed memory (names, policy, windows)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, Driver, addr, config, sanitizer_clean, serial  # noqa: E402
from fgtest import TempDir, check, finish  # noqa: E402
from flicsimtest import Sim  # noqa: E402

B = addr(1)

with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    cfg_path = os.path.join(tmp.path, "flicgate.ini")

    def write_config(**kw):
        with open(cfg_path, "w") as f:
            f.write(config(state, **kw))

    write_config(pairing="window", buttons="[button desk]\naddress = %s\n" % B)
    # freed memory is overwritten: a read of the old configuration shows
    env = dict(os.environ, MALLOC_PERTURB_="165")
    with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"], tmp=tmp) as sim:
        sim.add(B, name="b1", serial=serial(1), public_mode=False, **FAST)
        drv = Driver(tmp, sim.bus_daemon.address, cfg_path, env=env)
        try:
            check(drv.wait(lambda l: l == "RADIO ready hci0", 10), "the driver finds hci0 ready")
            b = drv.button(B)
            check(b and b["name"] == "desk" and b["configured"] == "1", "the configured button is listed")

            write_config(pairing="locked", buttons="[button front-desk]\naddress = %s\n" % B)
            line = drv.cmd("reload-nomem")
            check(line == "ERR reload-nomem ENOMEM", "the failed key allocation is reported (%s)" % line)
            b = drv.button(B)
            check(b and b["name"] == "front-desk" and b["configured"] == "1",
                  "the reload switched the names anyway (%s)" % (b and b["name"]))
            line = drv.cmd("window 30 desk")
            check(line and line.startswith("ERR window EPERM"),
                  "the reload switched the policy anyway: locked (%s)" % line)

            write_config(pairing="window", buttons="[button desk]\naddress = %s\n" % B)
            check(drv.cmd("reload") == "OK reload", "a later reload works")
            b = drv.button(B)
            check(b and b["name"] == "desk", "and renames the button back")
            check(drv.cmd("window 30 spare") == "OK window", "a window opens under the reloaded policy")
            check(drv.cmd("close") == "OK close", "and closes")
        finally:
            rc = drv.close()
        log = drv.log()
        check(rc == 0 and sanitizer_clean(log), "the driver exits cleanly (%s)" % rc)
        check("keeping the old keys" in log, "the key failure is logged")

finish()
