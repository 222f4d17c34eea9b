#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Pairing through the simulated BlueZ with the real button layer
(buttons-driver): not even heard outside a window (no discovery runs),
paired inside one, one button per window, a named window names it,
renaming, a button that is not in public mode is never paired, a window
times out, a forged button fails the identity check and closes its window, the "listed" and "locked" policies,
unpairing, and pairings that survive a restart (quick verify, names kept)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, Driver, addr, config, sanitizer_clean, serial  # noqa: E402
from fgtest import TempDir, check, finish  # noqa: E402
from flicsimtest import Sim, dev_path  # noqa: E402

A, B, C, D, E, F, G = (addr(i) for i in range(1, 8))

with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    cfg_path = os.path.join(tmp.path, "flicgate.ini")

    def write_config(**kw):
        with open(cfg_path, "w") as f:
            f.write(config(state, **kw))

    write_config(pairing="window", buttons="[button reception]\naddress = %s\ninfo = Front desk\n" % B)
    with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"], tmp=tmp) as sim:
        for i, a in enumerate((A, B, C, D, E, F, G), 1):
            sim.add(a, name="b%d" % i, serial=serial(i), public_mode=False, genuine=(a != D), **FAST)
        drv = Driver(tmp, sim.bus_daemon.address, cfg_path)
        try:
            check(drv.wait(lambda l: l == "RADIO ready hci0", 10), "the driver finds hci0 ready")

            # 1. no window: nothing may be paired, so nobody scans (docs/bluez.md,
            # "Discovery only when needed"): a button in public mode is not heard
            m = drv.mark()
            sim.ctl.SetPublicMode(A, True)
            check(not drv.pairing("refused", A, m, 2), "no window: a public-mode button is not even heard")
            check(not sim.prop("/org/bluez/hci0", "org.bluez.Adapter1", "Discovering"), "no discovery runs")
            check(int(sim.state(A)["Pairings"]) == 0, "the button holds no pairing")

            # 2. a window pairs it; an unconfigured button gets a generated name
            m = drv.mark()
            check(drv.cmd("window 30") == "OK window", "open a 30 s pairing window")
            check(drv.pairing("window-opened", None, m, 5), "window-opened reported")
            check(drv.pairing("found", A, m, 5), "found reported")
            check(drv.pairing("paired", A, m, 10), "paired inside the window")
            line = drv.pairing("window-closed", None, m, 5)
            check(line and "paired" in line, "the window closes after its one pairing (%s)" % line)
            b = drv.button(A)
            check(b and b["name"] == "flic-" + serial(1) and b["paired"] == "1" and b["configured"] == "0",
                  "unconfigured paired button is called flic-<serial> (%s)" % (b and b["name"]))
            check(drv.button(A)["state"] == "ready", "the pairing session stays up (ready)")
            check(os.path.exists(os.path.join(state, "pairings", A.replace(":", "") + ".pairing")),
                  "the pairing is stored in state_dir/pairings")
            st = os.stat(os.path.join(state, "pairings", A.replace(":", "") + ".pairing"))
            check(st.st_mode & 0o777 == 0o600, "the pairing file is mode 0600")
            check(sim.prop(dev_path(A), "org.bluez.Device1", "Trusted"), "the paired device is marked Trusted in BlueZ")

            # its presses open no alert (no section names it) but are counted
            m = drv.mark()
            sim.ctl.Press(A, "click")
            time.sleep(1.0)
            check(not drv.events(m), "an unconfigured button's press reaches no target")
            check(drv.stats()["unconfigured"] >= 1, "...and is counted as unconfigured")
            check("not in the configuration" in drv.log(), "...and logged")

            # 3. a button never put in public mode is never paired, window or not
            m = drv.mark()
            sim.ctl.Press(C, "click")
            time.sleep(2.0)
            check(not drv.pairing("found", C, m, 0), "a private-mode button is not picked up")
            check(int(sim.state(C)["Pairings"]) == 0, "...and holds no pairing")

            # 4. a forged button (certificate by an unknown key) fails the identity check
            m = drv.mark()
            drv.cmd("window 30")
            sim.ctl.SetPublicMode(D, True)
            line = drv.pairing("failed", D, m, 10)
            check(line and "not-genuine" in line, "a forged button fails: %s" % line)
            line = drv.pairing("window-closed", None, m, 5)
            check(line and "failed" in line, "...and its window closes (%s)" % line)
            b = drv.button(D)
            check(b is None or b["paired"] == "0", "...and is not paired")
            sim.ctl.SetPublicMode(D, False)

            # 5. a named window names the next button and closes after one pairing
            check(drv.cmd("window 30 reception").startswith("ERR window EEXIST"),
                  "a window cannot hand out a configured button's name")
            m = drv.mark()
            check(drv.cmd("window 30 lobby") == "OK window", "open a window for 'lobby'")
            sim.ctl.SetPublicMode(G, True)
            check(drv.pairing("paired", G, m, 10), "G paired in the named window")
            check(drv.pairing("window-closed", None, m, 5), "the named window closes after pairing")
            b = drv.button(G)
            check(b and b["name"] == "lobby" and b["configured"] == "0", "G is called 'lobby' (%s)" % (b and b["name"]))
            check(drv.cmd("window 30 lobby").startswith("ERR window EEXIST"), "a second button cannot take the name")
            check(drv.cmd("rename lobby hall") == "OK rename", "rename an unconfigured paired button")
            check(drv.button(G)["name"] == "hall", "...it is now 'hall'")
            check(drv.cmd("rename hall reception").startswith("ERR rename EEXIST"), "a section's name cannot be taken")

            # a configured button paired in a window maps to its section; one per window
            m = drv.mark()
            drv.cmd("window 30")
            sim.ctl.SetPublicMode(B, True)
            check(drv.pairing("paired", B, m, 10), "B paired")
            check(drv.pairing("window-closed", None, m, 5), "the window closed after B")
            check(drv.cmd("rename reception x").startswith("ERR rename EPERM"), "a configured button is renamed in its section")
            b = drv.button(B)
            check(b and b["name"] == "reception" and b["configured"] == "1", "B is [button reception]")
            m = drv.mark()
            sim.ctl.Press(B, "click")
            check(drv.wait(lambda l: l.startswith("EVENT reception click "), 5, m),
                  "B's click reaches the consumer as 'reception'")

            # 6. a window times out
            m = drv.mark()
            check(drv.cmd("window 1") == "OK window", "open a 1 s window")
            line = drv.pairing("window-closed", None, m, 5)
            check(line and "timeout" in line, "the window closes by itself (%s)" % line)
            check(drv.stats()["window_left"] == 0, "no time left in a closed window")
        finally:
            rc = drv.close()
        check(rc == 0 and sanitizer_clean(drv.log()), "the driver exits cleanly (%s)" % rc)
        check("cannot save" not in drv.log() and "cannot remove" not in drv.log(), "every state file was written")

        # 7. restart: both pairings come back, quick verify, names kept
        drv = Driver(tmp, sim.bus_daemon.address, cfg_path, name="driver2")
        try:
            check(drv.wait(lambda l: l == "RADIO ready hci0", 10), "restart: radio ready")
            end = time.monotonic() + 10
            while time.monotonic() < end:
                bs = drv.buttons()
                if all(bs.get(x, {}).get("state") == "ready" for x in (A, B, G)):
                    break
                time.sleep(0.1)
            bs = drv.buttons()
            check(bs.get(B, {}).get("name") == "reception" and bs[B]["state"] == "ready",
                  "restart: B is 'reception' and verified again")
            check(bs.get(G, {}).get("name") == "hall" and bs[G]["state"] == "ready",
                  "restart: G is still 'hall' (names are stored)")
            check(bs.get(A, {}).get("state") == "ready", "restart: A verified again")
            check(sim.state(B)["SessionKind"] == "quick", "restart: reconnection used quick verify")

            # 8. unpair A: record gone, BlueZ device removed, status forgets it
            check(drv.cmd("unpair " + A) == "OK unpair", "unpair A by address")
            check(not os.path.exists(os.path.join(state, "pairings", A.replace(":", "") + ".pairing")), "A's pairing file is deleted")
            time.sleep(0.5)
            check(dev_path(A) not in sim.managed(), "A's BlueZ device is removed")
            check(drv.button(A) is None, "A is no longer listed")
            check(drv.cmd("unpair " + A).startswith("ERR unpair ENOENT"), "unpairing twice is ENOENT")
        finally:
            rc = drv.close()
        check(rc == 0 and sanitizer_clean(drv.log()), "the second driver exits cleanly (%s)" % rc)

        # 9. listed: a configured address pairs without a window, others do not
        write_config(pairing="listed", buttons="[button ward]\naddress = %s\n" % E)
        drv = Driver(tmp, sim.bus_daemon.address, cfg_path, name="driver3")
        try:
            check(drv.wait(lambda l: l == "RADIO ready hci0", 10), "listed: radio ready")
            b = drv.button(E)
            check(b and b["state"] == "unpaired" and b["configured"] == "1", "a listed, unpaired button is in status")
            m = drv.mark()
            sim.ctl.SetPublicMode(E, True)
            sim.ctl.SetPublicMode(F, True)
            check(drv.pairing("paired", E, m, 10), "listed: E pairs without a window")
            check(drv.pairing("refused", F, m, 5), "listed: F (not listed) is refused")
            check(drv.stats()["refused"] >= 1, "refusals are counted")
            sim.ctl.SetPublicMode(F, False)

            # 10. locked: no window can be opened
            write_config(pairing="locked", buttons="[button ward]\naddress = %s\n" % E)
            check(drv.cmd("reload") == "OK reload", "reload with pairing = locked")
            check(drv.cmd("window 30").startswith("ERR window EPERM"), "locked: windows are refused")
            m = drv.mark()
            sim.ctl.SetPublicMode(F, True)
            time.sleep(1.0)
            check(not sim.prop("/org/bluez/hci0", "org.bluez.Adapter1", "Discovering"), "locked: no discovery at all")
            check(not drv.pairing("paired", F, m, 1) and int(sim.state(F)["Pairings"]) == 0,
                  "locked: a public-mode button is not paired")
        finally:
            rc = drv.close()
        check(rc == 0 and sanitizer_clean(drv.log()), "the third driver exits cleanly (%s)" % rc)

finish()
