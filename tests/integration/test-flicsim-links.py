#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The controller flicsim models (docs/simulator.md, "The controller"): at
most --max-links LE links, one more refused with the error bluetoothd
really returns for HCI status 0x0d; one LE Create Connection at a time;
the accept list; sleeping buttons advertising on their advertising
intervals; SetAdvParametersRequest decoded strictly, answered and used;
the button's own auto-disconnect and a press queued while it sleeps."""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from flicsimtest import FlicClient, Sim, check, dev_path, finish, wait_pump  # noqa: E402

import dbus  # noqa: E402

FAST = dict(click_ms=50, hold_ms=300, double_click_ms=200)
ADDRS = ["80:E4:DA:72:00:%02X" % i for i in range(1, 6)]
USEC = 1000000


def status(sim):
    return {str(k): v for k, v in sim.ctl.GetStatus().items()}


def discover(sim, addrs):
    ad = sim.obj("/org/bluez/hci0", "org.bluez.Adapter1")
    ad.StartDiscovery()
    ok = wait_pump(lambda: all(dev_path(a) in sim.managed() for a in addrs), 10)
    ad.StopDiscovery()
    return ok


def connect_async(sim, addrs):
    """Device1.Connect on each; returns {addr: None (ok) | (name, message)}."""
    res = {}
    for a in addrs:
        sim.obj(dev_path(a), "org.bluez.Device1").Connect(
            reply_handler=lambda a=a: res.__setitem__(a, None),
            error_handler=lambda e, a=a: res.__setitem__(a, (e.get_dbus_name(), e.get_dbus_message())),
            timeout=60)
    return res


def set_adv_params(active, i0, i1, timeout, short=1, long=0, others=0):
    return bytes([27, active, others, short, long]) + struct.pack("<HHI", i0, i1, timeout)


# --- 1. the link limit and its error --------------------------------------------------
with Sim(["--max-links", "2", "--connect-ms", "5", "--scan-interval-ms", "50"]) as sim:
    a, b, c = ADDRS[:3]
    for x in (a, b, c):
        sim.add(x, public_mode=True, public_mode_s=600, **FAST)
    check(discover(sim, [a, b, c]), "three buttons discovered")
    st = status(sim)
    check(st["MaxLinks"] == 2 and st["Links"] == 0, "GetStatus: MaxLinks 2, no link yet")

    res = connect_async(sim, [a, b])
    check(wait_pump(lambda: len(res) == 2, 10) and res == {a: None, b: None}, "two links fit")
    st = status(sim)
    check(st["Links"] == 2 and st["PeakLinks"] == 2, "Links 2, PeakLinks 2")
    res = connect_async(sim, [c])
    check(wait_pump(lambda: c in res, 10), "the third Connect() is answered")
    check(res.get(c) == ("org.bluez.Error.Failed", "le-connection-abort-by-local"),
          "a link beyond the controller's is refused as bluetoothd does for 0x0d: "
          "org.bluez.Error.Failed \"le-connection-abort-by-local\" (got %r)" % (res.get(c),))
    sc = sim.state(c)
    check(sc["AdvHeardUsec"] >= sc["AdvFirstEventUsec"] > 0,
          "the refusal came at an advertisement of the button (Create Connection), not at once")
    st = status(sim)
    check(st["LinkRefusals"] == 1 and st["Links"] == 2 and st["PendingConnects"] == 0,
          "LinkRefusals 1, still 2 links, no pending connection kept")
    wait_pump(lambda: False, 0.5)
    check(not sim.prop(dev_path(c), "org.bluez.Device1", "Connected") and not sim.state(c)["Linked"],
          "the refused button is not connected later behind the client's back")
    check(not sim.state(c)["LinkedSinceUsec"] and sim.state(a)["LinkedSinceUsec"] > 0,
          "GetButton: LinkedSinceUsec only for a linked button")

    sim.obj(dev_path(a), "org.bluez.Device1").Disconnect()
    check(status(sim)["Links"] == 1, "Disconnect frees a slot")
    res = connect_async(sim, [c])
    check(wait_pump(lambda: c in res, 10) and res[c] is None, "the freed slot lets the refused button in")
    st = status(sim)
    check(st["Links"] == 2 and st["PeakLinks"] == 2 and st["LinkRefusals"] == 1,
          "Links 2, peak 2, one refusal in all (%r)" % ({k: st[k] for k in ("Links", "PeakLinks", "LinkRefusals")},))

# --- 2. one Create Connection at a time, the accept list -----------------------------
with Sim(["--max-links", "8", "--accept-list", "2", "--connect-ms", "200",
          "--scan-interval-ms", "50"]) as sim:
    addrs = ADDRS[:4]
    for x in addrs:
        sim.add(x, public_mode=True, public_mode_s=600, **FAST)
    check(discover(sim, addrs), "four buttons discovered")
    for x in addrs:
        sim.ctl.SetPublicMode(x, False)
    check(all(sim.state(x)["Advertising"] == "none" for x in addrs), "all four asleep")
    res = connect_async(sim, addrs)
    check(wait_pump(lambda: status(sim)["PendingConnects"] == 4, 5), "four pending connections")
    st = status(sim)
    check(st["AcceptListBypassed"] and st["AcceptListFallbacks"] == 1,
          "4 pending > accept list of 2: the kernel scans without the list")
    for x in addrs:
        sim.ctl.Press(x, "click")
    check(wait_pump(lambda: len(res) == 4, 20) and all(v is None for v in res.values()),
          "four buttons pressed at once all connect")
    since = sorted(int(sim.state(x)["LinkedSinceUsec"]) for x in addrs)
    gaps = [since[i + 1] - since[i] for i in range(3)]
    check(all(g >= 199000 for g in gaps),
          "they connect one after another, each taking the 200 ms set-up (gaps %s µs)" % gaps)
    st = status(sim)
    check(st["PeakLinks"] == 4 and not st["AcceptListBypassed"] and st["PendingConnects"] == 0,
          "peak 4 links; nothing pending, the accept list is used again")

# --- 3. advertising parameters ----------------------------------------------------------
with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"]) as sim:
    a = ADDRS[0]
    sim.add(a, public_mode=True, **FAST)
    check(discover(sim, [a]), "discovered (adv parameters)")
    s = sim.state(a)
    check(not s["AdvParamsSet"] and (s["AdvInterval0"], s["AdvInterval1"], s["AdvTimeoutSeconds"]) ==
          (160, 1600, 30), "out of the box: 160/1600 x 0.625 ms, 30 s after a lost link")
    cl = FlicClient(sim, a)
    cl.connect()
    pid, pkey, _ = cl.full_verify()
    cl.init_events()

    r = cl.request(27, set_adv_params(1, 1600, 16000, 60)[1:], want=25, timeout=3)
    check(r == bytes([25]), "SetAdvParametersRequest answered with a signed SetAdvParametersResponse (25)")
    s = sim.state(a)
    check(s["AdvParamsSet"] and (s["AdvInterval0"], s["AdvInterval1"], s["AdvTimeoutSeconds"]) ==
          (1600, 16000, 60) and s["AdvShortRange"] and not s["AdvLongRange"] and s["AdvParamsAccepted"] == 1,
          "GetButton shows what the client set")

    cl.send(bytes([27]) + set_adv_params(1, 160, 12800, 86400)[1:12], signed=True)
    check(cl.recv_signed(1.0) is None, "a short SetAdvParametersRequest is not answered")
    cl.send(set_adv_params(1, 16, 12800, 86400), signed=True)
    check(cl.recv_signed(1.0) is None, "an interval under 20 ms is not answered")
    cl.send(set_adv_params(1, 160, 16385, 86400), signed=True)
    check(cl.recv_signed(1.0) is None, "an interval over 10.24 s is not answered")
    s = sim.state(a)
    check(s["AdvParamsRejected"] == 3 and s["AdvInterval0"] == 1600 and s["Session"] == "established",
          "three refused, the stored parameters and the session unchanged")

    # a lost link: the button advertises on the intervals the client set
    cl.disconnect()
    check(wait_pump(lambda: sim.state(a)["Advertising"] == "private", 3), "advertising after the lost link")
    time.sleep(1.6)
    cl = FlicClient(sim, a)
    cl.connect()
    s = sim.state(a)
    first, heard = int(s["AdvFirstEventUsec"]), int(s["AdvHeardUsec"])
    k = round((heard - first) / USEC)
    check(0 <= first - int(s["AdvStartUsec"]) < USEC, "the first advert within one 1 s interval of the start")
    check(k >= 1 and 0 <= heard - first - k * USEC <= k * 10000,
          "the connect waited for an advertising event on the 1 s grid (event %d, %d µs after the first)"
          % (k, heard - first))
    cl.quick_verify(pid, pkey)
    cl.init_events()
    r = cl.request(27, set_adv_params(1, 32, 32, 1)[1:], want=25, timeout=3)
    check(r == bytes([25]), "new parameters: 20 ms, for 1 s")
    cl.disconnect()
    check(wait_pump(lambda: sim.state(a)["Advertising"] == "private", 3), "advertising again")
    check(wait_pump(lambda: sim.state(a)["Advertising"] == "none", 4),
          "and quiet once the 1 s timeout of the parameters has passed")
    cl = FlicClient(sim, a)
    sim.ctl.Press(a, "click")
    cl.connect()
    cl.quick_verify(pid, pkey)
    cl.init_events()
    r = cl.request(27, set_adv_params(0, 0, 0, 0)[1:], want=25, timeout=3)
    s = sim.state(a)
    check(r == bytes([25]) and not s["AdvParamsSet"] and s["AdvInterval0"] == 160,
          "is_active = 0 removes them: defaults again")
    r = cl.request(27, set_adv_params(1, 160, 12800, 86400)[1:], want=25, timeout=3)
    check(r == bytes([25]), "the C module's parameters (160/12800, 86400 s) are accepted")
    sim.ctl.FactoryReset(a)
    check(not sim.state(a)["AdvParamsSet"], "a new boot (factory reset) forgets them")

# --- 4. the button's own auto-disconnect and a press while it sleeps ---------------------
with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"]) as sim:
    a = ADDRS[1]
    sim.add(a, public_mode=True, **FAST)
    check(discover(sim, [a]), "discovered (sleep)")
    cl = FlicClient(sim, a)
    cl.connect()
    pid, pkey, _ = cl.full_verify()
    init = cl.init_events(auto_disconnect=1)
    check(wait_pump(lambda: not sim.state(a)["Linked"], 5), "idle for 1 s: the button drops the link itself")
    check(sim.state(a)["Advertising"] == "none", "and sleeps (no advertising)")
    cl.disconnect()
    cl = FlicClient(sim, a)
    res = connect_async(sim, [a])
    wait_pump(lambda: False, 0.3)
    check(not res and status(sim)["PendingConnects"] == 1, "a pending connect waits for the sleeping button")
    sim.ctl.Press(a, "click")
    check(wait_pump(lambda: a in res, 5) and res[a] is None, "a press wakes it and the pending connect completes")
    s = sim.state(a)
    check(s["AdvHeardUsec"] >= s["AdvFirstEventUsec"] >= s["AdvStartUsec"] > 0,
          "connected at an advertisement after the press, not at the press")
    cl.connect(bluez_connect=False)
    cl.quick_verify(pid, pkey)
    cl.init_events(event_count=init["event_count"], boot_id=init["boot_id"])
    got = [it for _, its in cl.read_events(3, timeout=5) for it in its]
    # the down happened asleep; up and the click timeout may come live, or
    # queued too, depending on when the link is up
    nq = sum(e[2] for e in got)
    check([e[1] for e in got] == [1, 8, 2] and nq >= 1 and all(e[2] for e in got[:nq])
          and got[nq - 1][3], "the press made while asleep arrives, what happened asleep marked queued, "
          "the last of those queued-last (%r)" % (got,))

finish()
