#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Connecting while an LE discovery runs, with the real button layer
(buttons-driver) against flicsim emulating the kernel: a Device1.Connect()
to a device already reported in the current discovery window is held until
the window ends or the discovery stops (docs/bluez.md, "Connecting while
discovering"). The windows here are far longer than [bluetooth]
connect_timeout plus the one window flicgated allows, so an attempt the
kernel holds can only fail: pairing, a reconnect after a link that never
got its services, and a link whose Connected=true is never signalled must
all go through because flicgated pauses its own discovery for a foreground
connect. Then another program's discovery, which flicgated cannot pause:
the attempt gets one window more and succeeds. Last, a radio whose
repeated reports change nothing (flicsim --steady, as btvirt): a button
already in public mode when a pairing window opens pairs, because the
window starts a fresh discovery session. And discovery only while needed
(docs/bluez.md, "Discovery only when needed"): none with the gateway idle
and every paired button known to BlueZ; a pairing window starts one and
closing it stops it; a paired button whose device object BlueZ dropped
starts one until it is found again; a sleeping button's press reconnects
it through its pending connect with no discovery at all."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, Driver, addr, config, press, sanitizer_clean, serial  # noqa: E402
import fgtest  # noqa: E402
from fgtest import TempDir, check, finish  # noqa: E402
from flicsimtest import FLIC_SERVICE, Sim, dbus, dev_path  # noqa: E402

A, B, C = addr(1), addr(2), addr(3)
ADAPTER = "/org/bluez/hci0"


def wait(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def status(sim):
    return {str(k): v for k, v in sim.ctl.GetStatus().items()}


def show_logs_if_failed(drv, sim):
    """The logs' tails, when something above failed: they say why."""
    if fgtest._failures:
        for name, text in (("buttons-driver", drv.log()), ("flicsim", sim.output())):
            print("--- %s, last 40 lines" % name)
            print("\n".join(text.splitlines()[-40:]))


def pair_public(sim, drv, a, timeout):
    """Put button @a in public mode; (paired within @timeout, seconds taken)."""
    t0 = time.monotonic()
    m = drv.mark()
    sim.ctl.SetPublicMode(a, True)
    return drv.pairing("paired", a, m, timeout), time.monotonic() - t0


def state(drv, a):
    b = drv.button(a)
    return b and b["state"]


with TempDir() as tmp:
    state_dir = os.path.join(tmp.path, "state")
    # 1. our own discovery: a 60 s window, connect_timeout 3 s
    cfg = tmp.file("flicgate.ini", config(state_dir, pairing="listed", connect_timeout="3s",
                                          buttons="[button a]\naddress = %s\n" % A))
    with Sim(["--connect-ms", "5", "--scan-interval-ms", "50", "--supervision-ms", "300",
              "--discovery-window-ms", "60000"], tmp=tmp) as sim:
        sim.add(A, name="a", serial=serial(1), public_mode=False, **FAST)
        drv = Driver(tmp, sim.bus_daemon.address, cfg)
        try:
            check(drv.wait(lambda l: l == "RADIO ready hci0", 10), "the driver finds hci0 ready")
            check(wait(lambda: sim.prop(ADAPTER, "org.bluez.Adapter1", "Discovering"), 5), "it discovers")
            # the button shows up in public mode: reported at once, in this window
            ok, took = pair_public(sim, drv, A, 8)
            check(ok, "a button reported in this window pairs (%.1f s)" % took)
            st = status(sim)
            check(st["ConnectsHeld"] == 0 and st["WindowWaits"] == 0,
                  "no Connect() was held: our discovery was paused first (held %d)" % st["ConnectsHeld"])
            check(wait(lambda: not sim.prop(ADAPTER, "org.bluez.Adapter1", "Discovering"), 5),
                  "once the listed button is paired nothing needs a discovery: it stops")

            # 2. a link whose services never resolve is dropped at the deadline;
            # the button still advertises (reported in this window): reconnect
            m = drv.mark()
            sim.ctl.SetInRange(A, False)
            check(wait(lambda: state(drv, A) != "ready", 5), "out of range: the link is lost")
            sim.ctl.InjectFault(A, "no_resolve", 1)
            sim.ctl.SetInRange(A, True)
            check(drv.wait(lambda l: "packet channel is not ready (services not resolved)" in l, 10, m) or
                  "packet channel is not ready (services not resolved)" in drv.log(),
                  "a link without services is dropped at connect_timeout")
            t0 = time.monotonic()
            check(wait(lambda: state(drv, A) == "ready", 8), "it reconnects through its pending connect (%.1f s)" %
                  (time.monotonic() - t0))
            st = status(sim)
            check(st["ConnectsHeld"] == 0, "no Connect() was held (%d)" % st["ConnectsHeld"])
            m = drv.mark()
            press(sim, A, "click")
            check(drv.wait(lambda l: l.startswith("EVENT a single_click "), 5, m), "and its click arrives")

            # 3. the link comes up but no signal says Connected=true (bluetoothd 5.66 once)
            sim.ctl.SetInRange(A, False)
            check(wait(lambda: state(drv, A) != "ready", 5), "out of range again")
            sim.ctl.InjectFault(A, "silent_connect", 1)
            m = drv.mark()
            press(sim, A, "click")
            sim.ctl.SetInRange(A, True)
            check(wait(lambda: state(drv, A) == "ready", 8), "a link up without its signal is used")
            check(drv.wait(lambda l: l.startswith("EVENT a single_click "), 5, m), "the queued click arrives")
            check(int(sim.state(A)["FaultsApplied"]) >= 2, "both faults were applied")
        finally:
            rc = drv.close()
        check(rc == 0, "buttons-driver exits cleanly (rc %s)" % rc)
        show_logs_if_failed(drv, sim)
        check(sanitizer_clean(drv.log()), "no sanitizer report")

    # 4. another program's discovery keeps the kernel holding our Connect():
    # connect_timeout 1 s, a 10 s window; one window more is allowed
    cfg = tmp.file("flicgate2.ini", config(state_dir + "2", pairing="listed", connect_timeout="1s",
                                           buttons="[button b]\naddress = %s\n" % B))
    with Sim(["--connect-ms", "5", "--scan-interval-ms", "50", "--discovery-window-ms", "10000"],
             tmp=tmp) as sim:
        sim.add(B, name="b", serial=serial(2), public_mode=False, **FAST)
        adapter = sim.obj(ADAPTER, "org.bluez.Adapter1")
        adapter.SetDiscoveryFilter({"UUIDs": dbus.Array([FLIC_SERVICE], signature="s"), "Transport": "le"})
        adapter.StartDiscovery()
        drv = Driver(tmp, sim.bus_daemon.address, cfg, name="driver2")
        try:
            check(drv.wait(lambda l: l == "RADIO ready hci0", 10), "second driver ready")
            ok, took = pair_public(sim, drv, B, 15)
            check(ok, "paired despite another program's discovery (%.1f s)" % took)
            st = status(sim)
            check(st["ConnectsHeld"] == 1 and st["WindowWaits"] == 1,
                  "its Connect() was held once, until the window ended (%d, %d)" %
                  (st["ConnectsHeld"], st["WindowWaits"]))
            check("allowing one more discovery window" in drv.log(), "flicgated allowed one window more")
            check(sim.prop(ADAPTER, "org.bluez.Adapter1", "Discovering"), "the other discovery still runs")
        finally:
            rc = drv.close()
        check(rc == 0, "second buttons-driver exits cleanly (rc %s)" % rc)
        show_logs_if_failed(drv, sim)
        check(sanitizer_clean(drv.log()), "no sanitizer report (second driver)")

    # 5. a radio without noise (btvirt's): a button already in public mode
    # when the window opens is announced once, refused; the window must
    # make bluetoothd announce it again (a fresh discovery session)
    cfg = tmp.file("flicgate3.ini", config(state_dir + "3", pairing="window", connect_timeout="3s"))
    with Sim(["--connect-ms", "5", "--scan-interval-ms", "50", "--steady"], tmp=tmp) as sim:
        sim.add(C, name="c", serial=serial(3), public_mode=True, **FAST)
        drv = Driver(tmp, sim.bus_daemon.address, cfg, name="driver3")
        try:
            check(drv.wait(lambda l: l == "RADIO ready hci0", 10), "third driver ready")
            # no window under "window": nothing may be paired, nothing is looked for
            time.sleep(1.5)
            check(not sim.prop(ADAPTER, "org.bluez.Adapter1", "Discovering"), "no discovery without a window")
            check(not drv.pairing("refused", C, 0, 0), "so a button in public mode is not even heard")
            m = drv.mark()
            check(drv.cmd("window 30") == "OK window", "a pairing window opens")
            check(drv.pairing("paired", C, m, 5), "the button already in public mode pairs in it")
            check(wait(lambda: not sim.prop(ADAPTER, "org.bluez.Adapter1", "Discovering"), 5),
                  "the window closed with its one attempt: the discovery stops")
        finally:
            rc = drv.close()
        check(rc == 0, "third buttons-driver exits cleanly (rc %s)" % rc)
        show_logs_if_failed(drv, sim)
        check(sanitizer_clean(drv.log()), "no sanitizer report (third driver)")
    # 6. discovery only while needed: pairing = window (listed buttons wait
    # for a window too), two paired buttons
    D, E = addr(4), addr(5)
    cfg = tmp.file("flicgate4.ini", config(state_dir + "4", pairing="window", connect_timeout="3s",
                                           buttons="[button d]\naddress = %s\n[button e]\naddress = %s\n" % (D, E)))
    with Sim(["--connect-ms", "5", "--scan-interval-ms", "50", "--supervision-ms", "300"], tmp=tmp) as sim:
        sim.add(D, name="d", serial=serial(4), public_mode=False, **FAST)
        sim.add(E, name="e", serial=serial(5), public_mode=False, **FAST)
        drv = Driver(tmp, sim.bus_daemon.address, cfg, name="driver4")
        discovering = lambda: bool(sim.prop(ADAPTER, "org.bluez.Adapter1", "Discovering"))  # noqa: E731
        seen = []

        def never_discovering(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                if discovering():
                    seen.append(time.monotonic())
                    return False
                time.sleep(0.05)
            return True

        try:
            check(drv.wait(lambda l: l == "RADIO ready hci0", 10), "fourth driver ready")
            check(never_discovering(1.5), "idle, nothing paired, no window: no discovery")
            for x, name in ((D, "d"), (E, "e")):
                m = drv.mark()
                check(drv.cmd("window 30") == "OK window", "a window opens for %s" % name)
                check(wait(discovering, 5), "the window starts a discovery")
                ok, took = pair_public(sim, drv, x, 8)
                check(ok, "%s pairs in it (%.1f s)" % (x, took))
                sim.ctl.SetPublicMode(x, False)
                check(wait(lambda: not discovering(), 5), "its one attempt closed the window: discovery stops")
            check(wait(lambda: state(drv, D) == "ready" and state(drv, E) == "ready", 10), "both linked")
            check(never_discovering(2.0), "idle with every paired button known to BlueZ: no discovery")

            check(drv.cmd("window 30") == "OK window", "a window opens again")
            check(wait(discovering, 5), "it starts a discovery")
            check(drv.cmd("close") == "OK close", "it is closed by hand")
            check(wait(lambda: not discovering(), 5), "closing it stops the discovery")

            # BlueZ drops a paired button's device object: only a scan brings it back
            sim.ctl.SetInRange(D, False)
            check(wait(lambda: state(drv, D) != "ready", 5), "d leaves: its link is lost")
            sim.obj(ADAPTER, "org.bluez.Adapter1").RemoveDevice(dev_path(D))
            check(wait(discovering, 5), "a paired button without a device object starts a discovery")
            sim.ctl.SetInRange(D, True)
            m = drv.mark()
            press(sim, D, "click")
            check(wait(lambda: state(drv, D) == "ready", 10), "its advertisement brings it back and it links")
            check(drv.wait(lambda l: l.startswith("EVENT d single_click "), 5, m), "with its press")
            check(wait(lambda: not discovering(), 5), "found again: the discovery stops")

            # a button without a link comes back through its pending connect
            # alone, with the press made while it was away: no discovery needed
            watcher = threading.Thread(target=never_discovering, args=(6.0,))
            watcher.start()
            sim.ctl.SetInRange(E, False)
            check(wait(lambda: state(drv, E) != "ready", 5), "e leaves: its link is lost")
            m = drv.mark()
            press(sim, E, "click")
            t0 = time.monotonic()
            sim.ctl.SetInRange(E, True)
            check(drv.wait(lambda l: l.startswith("EVENT e single_click "), 10, m),
                  "back in range, the press made while away is delivered (%.2f s)" % (time.monotonic() - t0))
            watcher.join()
            check(not seen, "without any discovery of ours")
            check(status(sim)["ConnectsHeld"] == 0, "no Connect() was held by a discovery window")
        finally:
            rc = drv.close()
        check(rc == 0, "fourth buttons-driver exits cleanly (rc %s)" % rc)
        show_logs_if_failed(drv, sim)
        check(sanitizer_clean(drv.log()), "no sanitizer report (fourth driver)")
finish()
