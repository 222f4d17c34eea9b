#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""What BlueZ and the radio do to a gateway over months, through the
simulator, with the real button layer (buttons-driver): link loss and a
button coming back with queued presses, corrupted and forged packets
(rejected and counted), a consumer that cannot take an event (the button
keeps it, it comes again once), a slow connect that times out, bluetoothd
restarting, the adapter unplugged and plugged back, BlueZ forgetting a
paired device, and the StartNotify fallback when the notify fd is taken."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, Driver, addr, config, press, sanitizer_clean, serial  # noqa: E402
from fgtest import TempDir, check, finish, wait_for  # noqa: E402
from flicsimtest import Sim, dev_path  # noqa: E402

A, B = addr(1), addr(2)
NOTIFY_UUID = "00420002-8f59-4420-870d-84f3b617e493"


def ready(drv, *addrs, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        bs = drv.buttons()
        if all(bs.get(a, {}).get("state") == "ready" for a in addrs):
            return True
        time.sleep(0.05)
    return False


def singles(drv, start, name):
    return [e for e in drv.events(start) if e[0] == name and e[1] == "single_click"]


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    cfg = tmp.file("flicgate.ini", config(state, pairing="listed", connect_timeout="2s", buttons="""[button a]
address = %s
[button b]
address = %s
""" % (A, B)))
    with Sim(["--connect-ms", "5", "--scan-interval-ms", "50", "--supervision-ms", "300"], tmp=tmp) as sim:
        sim.add(A, name="a", serial=serial(1), public_mode=True, **FAST)
        sim.add(B, name="b", serial=serial(2), public_mode=True, **FAST)
        drv = Driver(tmp, sim.bus_daemon.address, cfg)
        try:
            check(ready(drv, A, B), "both buttons paired and ready")
            s0 = drv.stats()
            check(s0["fd_channels"] >= 2, "packet channels use AcquireWrite/AcquireNotify fds (%d)" % s0["fd_channels"])

            # link loss: a verified session ending is normal, presses queue and come once
            m = drv.mark()
            sim.ctl.SetInRange(A, False)
            check(drv.wait(lambda l: False, 0) is None and ready(drv, B, timeout=1), "B unaffected")
            end = time.monotonic() + 5
            while time.monotonic() < end and drv.button(A)["state"] == "ready":
                time.sleep(0.05)
            b = drv.button(A)
            check(b["state"] in ("asleep", "connecting"), "A's link loss is seen (%s)" % b["state"])
            press(sim, A, "click")
            press(sim, A, "click")
            sim.ctl.SetInRange(A, True)
            check(ready(drv, A), "A reconnects when back in range")
            time.sleep(0.5)
            ev = singles(drv, m, "a")
            check(len(ev) == 2 and all(e[3] for e in ev), "both presses made while away arrive once, queued (%s)" % ev)
            check("connect failed" not in drv.log() and "link lost before" not in drv.log(),
                  "losing a verified link is not logged as a failure")

            # corrupted and forged packets: rejected, counted, the session survives or is rebuilt
            m = drv.mark()
            r0 = int(drv.button(A)["rejected"])
            sim.ctl.InjectFault(A, "corrupt", 1)
            press(sim, A, "click")
            sim.ctl.InjectFault(A, "bad_mac", 1)
            press(sim, A, "click")
            time.sleep(1.0)
            r1 = int(drv.button(A)["rejected"])
            check(r1 >= r0 + 2, "a corrupted and a forged packet are rejected and counted (%d -> %d)" % (r0, r1))
            check(drv.stats()["rejected"] >= 2, "...also in the totals")
            check("rejected a packet" in drv.log(), "...and logged")
            # three forged packets in a row end the session; it is rebuilt and nothing is lost
            m = drv.mark()
            sim.ctl.InjectFault(A, "bad_mac", 3)
            press(sim, A, "click")
            press(sim, A, "click")
            check(ready(drv, A), "after repeated forgeries the session is rebuilt")
            press(sim, A, "click")
            end = time.monotonic() + 10
            while time.monotonic() < end and len(singles(drv, m, "a")) < 3:
                time.sleep(0.05)
            check(len(singles(drv, m, "a")) == 3,
                  "presses whose packets were forged arrive after the rebuild, once each (%s)" % singles(drv, m, "a"))

            # a consumer that cannot take an event: the button keeps it, it comes again once
            m = drv.mark()
            drv.cmd("fail 1")
            press(sim, B, "click")
            check(drv.wait(lambda l: l.startswith("REFUSED-EVENT b "), 5, m), "the consumer refuses an event")
            end = time.monotonic() + 10
            while time.monotonic() < end and not singles(drv, m, "b"):
                time.sleep(0.05)
            ev = singles(drv, m, "b")
            check(len(ev) == 1, "the refused press is delivered again once (%s)" % ev)
            check(drv.stats()["held"] >= 1, "held events are counted")

            # a connect that takes longer than connect_timeout fails, then succeeds
            sim.ctl.SetInRange(B, False)
            end = time.monotonic() + 5
            while time.monotonic() < end and drv.button(B)["state"] == "ready":
                time.sleep(0.05)
            m = drv.mark()
            sim.ctl.InjectFault(B, "slow_connect", 1)
            sim.ctl.SetInRange(B, True)
            press(sim, B, "click")
            check(ready(drv, B, timeout=20), "B connects after a slow connect attempt")
            time.sleep(0.5)
            check(len(singles(drv, m, "b")) == 1, "the press made meanwhile arrives once")

            # bluetoothd restarts: everything is dropped and rebuilt
            m = drv.mark()
            sim.ctl.RestartBluez(500)
            check(drv.wait(lambda l: l == "RADIO no-bluetoothd -", 5, m), "bluetoothd going away is reported")
            check(drv.wait(lambda l: l == "RADIO ready hci0", 10, m), "...and coming back")
            check(ready(drv, A, B), "both buttons are verified again after the restart")
            m = drv.mark()
            press(sim, A, "click")
            check(drv.wait(lambda l: l.startswith("EVENT a single_click"), 5, m), "presses work after the restart")
            check(drv.stats()["restarts"] == 1, "the restart is counted")

            # the adapter unplugged and plugged back
            m = drv.mark()
            sim.ctl.RemoveAdapter()
            check(drv.wait(lambda l: l == "RADIO no-adapter -", 5, m), "a removed adapter is reported")
            time.sleep(0.5)
            sim.ctl.AddAdapter()
            check(drv.wait(lambda l: l == "RADIO ready hci0", 10, m), "...and its return")
            check(ready(drv, A, B), "both buttons are verified again on the returned adapter")
            m = drv.mark()
            press(sim, B, "click")
            check(drv.wait(lambda l: l.startswith("EVENT b single_click"), 5, m), "presses work on the returned adapter")

            # BlueZ forgets a paired device: a wide discovery runs until it shows up again
            m = drv.mark()
            sim.obj("/org/bluez/hci0", "org.bluez.Adapter1").RemoveDevice(dev_path(A))
            check(drv.wait(lambda l: False, 0) is None, "")
            end = time.monotonic() + 10
            while time.monotonic() < end and "scanning for every LE advertisement" not in drv.log():
                time.sleep(0.05)
            check("scanning for every LE advertisement" in drv.log(), "a paired button without a device widens discovery")
            press(sim, A, "click")
            check(ready(drv, A), "its next advertisement brings it back")
            check(drv.wait(lambda l: l.startswith("EVENT a single_click"), 10, m), "...with the press")
            check(wait_for(lambda: "discovery stopped on hci0" in drv.log(), 5),
                  "once it is known again nothing needs a discovery: it stops")
            check(not sim.prop("/org/bluez/hci0", "org.bluez.Adapter1", "Discovering"), "the adapter no longer discovers")
        finally:
            rc = drv.close()
        check(rc == 0 and sanitizer_clean(drv.log()), "the driver exits cleanly (%s)" % rc)

        # another client holds notifications: AcquireNotify is refused, StartNotify serves
        check(sim.state(A)["Linked"], "the link stays with bluetoothd while the gateway is away")
        chars = [p for p, ifs in sim.managed().items()
                 if "org.bluez.GattCharacteristic1" in ifs and str(p).startswith(dev_path(A))
                 and str(ifs["org.bluez.GattCharacteristic1"]["UUID"]) == NOTIFY_UUID]
        check(len(chars) == 1, "the notify characteristic is exported")
        sim.obj(chars[0], "org.bluez.GattCharacteristic1").StartNotify()
        drv = Driver(tmp, sim.bus_daemon.address, cfg, name="driver2")
        try:
            check(ready(drv, A, B), "both verified with one channel on the StartNotify fallback")
            check(drv.stats()["fallback_channels"] >= 1, "the fallback is counted")
            m = drv.mark()
            press(sim, A, "click")
            check(drv.wait(lambda l: l.startswith("EVENT a single_click"), 5, m), "presses arrive through Value signals")
        finally:
            rc = drv.close()
        check(rc == 0 and sanitizer_clean(drv.log()), "the second driver exits cleanly (%s)" % rc)

finish()
