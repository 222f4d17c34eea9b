#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The emulated button's side of the Flic 2 protocol, driven by the small
independent Python client in flicsimtest.py over the simulated BlueZ: full
verify with the TEST identity, quick verify, events with the button's own
counters and timestamps, acks, queued events, battery, name, factory reset,
"not genuine" and "not in public mode" refusals, bad MACs both ways, packet
faults and the auto-disconnect that saves battery."""
import hashlib
import hmac
import os
import select
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from flicsimtest import (FlicClient, ProtocolError, Sim, check, dbus_error, dev_path,  # noqa: E402
                         find_variant, finish, wait_pump, TEST_KEY, X25519PrivateKey, X25519PublicKey)

A = "80:E4:DA:70:00:01"
FAST = dict(click_ms=50, hold_ms=300, double_click_ms=200)


def discover(sim, addr):
    ad = sim.obj("/org/bluez/hci0", "org.bluez.Adapter1")
    ad.StartDiscovery()
    ok = wait_pump(lambda: dev_path(addr) in sim.managed(), 10)
    ad.StopDiscovery()
    return ok


def items_of(packets):
    return [(it[1], it[2], it[3]) for _, its in packets for it in its]


def counters_of(packets):
    """Rebuilds each item's counter from the packet counter (last item) backwards."""
    out = []
    for counter, its in packets:
        cs = [counter]
        for it in reversed(its[:-1]):
            prev = cs[0] - 1
            enc = it[1]
            want = 3 if enc & 8 else {1: 1, 3: 2, 2: 0}.get(enc & 3, 3)
            while prev % 4 != want:
                prev -= 1
            cs.insert(0, prev)
        out += cs
    return out


with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"]) as sim:
    sim.add(A, name="kitchen", serial="BG30-A00001", public_mode=True, battery_mv=2950,
            firmware=11, **FAST)
    check(discover(sim, A), "a button in public mode is discovered")

    c = FlicClient(sim, A)
    c.connect()
    check(c.mtu == 23, "AcquireWrite/AcquireNotify report ATT MTU 23")
    try:
        pid, pkey, info = c.full_verify()
        paired = True
    except ProtocolError as e:
        paired = False
        print("full verify failed: %s" % e)
    check(paired, "full verify with the TEST identity succeeds (118-byte response fragmented at MTU 23)")
    if not paired:
        sys.exit(1)
    st = sim.state(A)
    check(info["variant"] == int(st["Variant"]), "the signature variant found by the client is the button's")
    check(info["name"] == "kitchen" and info["serial"] == "BG30-A00001" and info["firmware"] == 11,
          "FullVerifyResponse2 carries name, serial and firmware")
    check(abs(info["battery_mv"] - 2950) <= 4, "FullVerifyResponse2 battery level is 2950 mV (%d)" % info["battery_mv"])
    check(info["public_mode_flag"], "FullVerifyResponse1 says the button is in public mode")
    check(st["Session"] == "established" and st["SessionKind"] == "full" and st["Pairings"] == 1,
          "the button stores the pairing and has a full-verify session")
    check(not st["PublicMode"], "public mode ends with the pairing")

    ie = c.init_events(event_count=0, boot_id=0)
    check(ie["boot_changed"] and ie["boot_id"] == int(st["BootId"]) and not ie["has_queued"],
          "InitButtonEvents: new boot id reported, nothing queued")
    boot = ie["boot_id"]

    # click: down(1), up with click pending(3), single-click timeout(4)
    sim.events.clear()
    sim.ctl.Press(A, "click")
    pk = c.read_events(3)
    check(items_of(pk) == [(1, False, False), (8, False, False), (2, False, False)],
          "click: down, up, single-click timeout, live (%r)" % items_of(pk))
    check([p[0] for p in pk] == [1, 3, 4], "click counters 1, 3, 4 (down, up, timeout residues)")
    ticks = [p[1][0][0] for p in pk]
    check(ticks[0] < ticks[1] < ticks[2], "button timestamps increase")
    check(45 <= (ticks[1] - ticks[0]) * 1000 // 32768 < 1000, "the press length in button ticks is at least click_ms (50 ms)")
    wait_pump(lambda: len(sim.events) >= 3, 5)
    check([e[1] for e in sim.events[:3]] == [1, 3, 4] and all(e[6] >= e[5] for e in sim.events[:3]),
          "ButtonEventSent signals carry counters and sent >= event time")
    c.ack(4)
    check(wait_pump(lambda: sim.state(A)["QueuedEvents"] == 0, 5), "ack 4 empties the button's queue")

    sim.ctl.Press(A, "double_click")
    pk = c.read_events(4)
    check(items_of(pk) == [(1, False, False), (8, False, False), (1, False, False), (11, False, False)]
          and [p[0] for p in pk] == [5, 7, 9, 11],
          "double click: down 5, up 7, down 9, up-double 11 (%r)" % [(p[0], p[1][0][1]) for p in pk])
    c.ack(11)
    sim.ctl.Press(A, "hold")
    pk = c.read_events(3)
    check([(p[0], p[1][0][1]) for p in pk] == [(13, 1), (14, 3), (15, 14)],
          "hold: down 13, hold 14, up-after-hold 15")
    c.ack(15)

    # battery, firmware, name
    sim.ctl.SetBattery(A, 2800)
    r = c.request(20, want=20)
    check(r is not None and abs((struct.unpack("<H", r[1:3])[0] * 3600 + 512) // 1024 - 2800) <= 4,
          "GetBatteryLevel answers 2800 mV")
    r = c.request(8, want=5)
    check(r is not None and struct.unpack("<I", r[1:5])[0] == 11, "GetFirmwareVersion answers 11")
    r = c.request(10, (1234567 | 1 << 47).to_bytes(6, "little") + b"hallway", want=17)
    check(r is not None and r[7:] == b"hallway", "SetName stores the name")
    r = c.request(11, want=16)
    check(r is not None and r[7:] == b"hallway" and int.from_bytes(r[1:7], "little") == 1234567,
          "GetName returns the name and its timestamp")

    # queued events across a reconnect, delivered after quick verify
    c.disconnect()
    check(wait_pump(lambda: not sim.state(A)["Linked"], 5), "Disconnect drops the link")
    check(sim.state(A)["Advertising"] == "private", "a paired button that lost its link advertises")
    sim.events.clear()
    sim.ctl.Press(A, "click")
    wait_pump(lambda: sim.state(A)["EventCount"] == 20, 5)
    check(sim.state(A)["QueuedEvents"] == 3, "a click while disconnected is queued (3 events)")
    c = FlicClient(sim, A)
    c.connect()
    check(not c.quick_verify(0x12345678, os.urandom(16)), "quick verify with an unknown pairing: negative response")
    check(c.quick_verify(pid, pkey), "quick verify with the stored pairing succeeds")
    check(sim.state(A)["SessionKind"] == "quick", "the button has a quick-verify session")
    ie = c.init_events(event_count=15, boot_id=boot)
    check(not ie["boot_changed"] and ie["has_queued"] and ie["event_count"] == 20,
          "InitButtonEvents: same boot, queued events pending, button count 20")
    pk = c.read_events(3)
    check(len(pk) == 1 and counters_of(pk) == [17, 19, 20] and items_of(pk) ==
          [(1, True, False), (8, True, False), (2, True, True)],
          "queued gesture arrives as one notification, was_queued set, last flagged (%r)" % (pk,))
    wait_pump(lambda: len(sim.events) >= 3, 5)
    check([e[3] for e in sim.events[:3]] == [True] * 3, "ButtonEventSent marks queued events")
    c.ack(20)
    # the same init again must not replay what was acknowledged
    c.disconnect()
    c = FlicClient(sim, A)
    c.connect()
    c.quick_verify(pid, pkey, flags=0x40)
    ie = c.init_events(event_count=20, boot_id=boot)
    check(not ie["has_queued"], "nothing is replayed after an ack (quick verify with flags 0x40)")
    # a second logical connection on this link: the one slot is taken
    tmp_id = 0x5107A4E5
    c.send(bytes([5]) + os.urandom(7) + bytes([0]) + struct.pack("<II", tmp_id, pid), conn_id=0)
    hdr, r = c.recv()
    check(r is not None and r[0] == 2 and hdr & 0x1f == 0 and struct.pack("<I", tmp_id) in r[1:],
          "a second QuickVerifyRequest on the link: NoLogicalConnectionSlotsInd naming its tmp_id (%r)" % (r,))
    check(int(sim.state(A)["NoSlotsRefused"]) == 1 and sim.state(A)["Session"] == "established",
          "counted; the established session stays")

    # faults on what the button sends
    sim.ctl.InjectFault(A, "bad_mac", 1)
    try:
        c.request(20, want=20)
        bad = False
    except ProtocolError:
        bad = True
    check(bad, "bad_mac fault: the client sees a wrong MAC")
    c.disconnect()
    c = FlicClient(sim, A)
    c.connect()
    c.quick_verify(pid, pkey)
    c.init_events(event_count=20, boot_id=boot)
    sim.ctl.InjectFault(A, "drop", 1)
    check(c.request(20, want=20, timeout=0.5) is None, "drop fault: the battery answer is lost")
    c.rx += 1  # the lost packet used up one counter value
    sim.ctl.InjectFault(A, "duplicate", 1)
    c.send(bytes([20]), signed=True)
    h1, p1 = c.recv()
    h2, p2 = c.recv()
    check(p1 is not None and p1 == p2, "duplicate fault: the same notification twice")
    c.rx += 1
    sim.ctl.InjectFault(A, "reorder", 1)
    c.send(bytes([20]), signed=True)
    c.send(bytes([8]), signed=True)
    h1, p1 = c.recv()
    h2, p2 = c.recv()
    check(p1 is not None and p2 is not None and p1[0] == 5 and p2[0] == 20,
          "reorder fault: the firmware answer overtakes the battery answer")
    c.rx += 2
    sim.ctl.InjectFault(A, "corrupt", 1)
    try:
        c.request(20, want=20)
        bad = False
    except ProtocolError:
        bad = True
    check(bad, "corrupt fault: the client's MAC check catches it")
    check(int(sim.state(A)["FaultsApplied"]) == 5, "five faults applied")

    # a bad MAC from the client ends the verified session
    c.send(bytes([20]) + b"\0\0\0\0\0")
    hdr, p = c.recv()
    check(p is not None and p[0] == 9 and p[1] == 1, "a bad client MAC: DisconnectedVerifiedLinkInd(invalid signature)")
    check(sim.state(A)["Session"] == "none", "the button drops the session")

    # TestIfReallyUnpaired, then factory reset
    def test_unpaired(cl, pairing_id, pairing_key):
        tmp_id = 77
        cl.send(bytes([0]) + struct.pack("<I", tmp_id), conn_id=0)
        hdr, r1 = cl.recv()
        cl.conn_id = hdr & 0x1f
        pub, brand = r1[76:108], r1[108:116]
        variant = find_variant(TEST_KEY, r1[5:69], r1[69:76] + pub)
        priv = X25519PrivateKey.generate()
        fvs = hashlib.sha256(priv.exchange(X25519PublicKey.from_public_bytes(pub)) + bytes([variant]) +
                             brand + bytes(8) + b"\0").digest()
        pairing = struct.pack("<I", pairing_id) + pairing_key
        token = hmac.new(fvs, b"PT" + pairing, hashlib.sha256).digest()[:16]
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        mypub = priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        cl.send(bytes([4]) + mypub + bytes(8) + struct.pack("<I", pairing_id) + token)
        hdr, r = cl.recv()
        if r is None or r[0] != 4:
            return "no answer"
        if r[1:17] == hmac.new(fvs, b"NE" + token, hashlib.sha256).digest()[:16]:
            return "unpaired"
        if r[1:17] == hmac.new(fvs, b"EX" + pairing[:16], hashlib.sha256).digest()[:16]:
            return "exists"
        return "garbage"

    check(test_unpaired(c, pid, pkey) == "exists", "TestIfReallyUnpaired: the pairing exists")
    sim.ctl.FactoryReset(A)
    check(wait_pump(lambda: not sim.state(A)["Linked"], 5), "factory reset drops the link")
    st = sim.state(A)
    check(st["Pairings"] == 0 and st["EventCount"] == 0 and int(st["BootId"]) != boot,
          "factory reset forgets pairings, counters and boot id")
    sim.ctl.Press(A, "click")
    wait_pump(lambda: sim.state(A)["Advertising"] == "private", 5)
    c = FlicClient(sim, A)
    c.connect()
    check(not c.quick_verify(pid, pkey), "after a factory reset quick verify gets a negative response")
    check(test_unpaired(c, pid, pkey) == "unpaired", "and TestIfReallyUnpaired says unpaired")
    # not in public mode: the verifier is right but the button refuses
    try:
        c.full_verify()
        why = "paired"
    except ProtocolError as e:
        why = str(e)
    check(why == "FullVerifyFail reason 1", "full verify outside public mode: FullVerifyFail(not in public mode)")
    # pairing as pyflic does it, with flags 0x80 in the derivation
    sim.ctl.SetPublicMode(A, True)
    try:
        pid2, pkey2, info2 = c.full_verify(flags=0x80)
        ok = True
    except ProtocolError:
        ok = False
    check(ok and sim.state(A)["Pairings"] == 1, "full verify with client flags 0x80 also pairs")
    # bad_address: a valid certificate of another button
    sim.ctl.SetPublicMode(A, True)
    sim.ctl.InjectFault(A, "bad_address", 1)
    try:
        c.full_verify()
        why = "paired"
    except ProtocolError as e:
        why = str(e)
    check(why == "address in the certificate is 80:e4:da:70:00:00",
          "bad_address fault: the certificate names another address (%s)" % why)
    sim.ctl.SetPublicMode(A, False)
    c.disconnect()

    # auto-disconnect to save battery
    c = FlicClient(sim, A)
    c.connect()
    c.quick_verify(pid2, pkey2)
    c.init_events(auto_disconnect=1)
    check(wait_pump(lambda: not sim.state(A)["Linked"], 5), "auto-disconnect after 1 s idle drops the link")
    check(sim.state(A)["Advertising"] == "none", "and the button stays quiet until pressed")
    conn = sim.prop(dev_path(A), "org.bluez.Device1", "Connected")
    check(not conn, "Device1.Connected is false")
    c.disconnect()

    # not genuine: the certificate does not verify with the TEST key
    B = "80:E4:DA:70:00:02"
    sim.add(B, public_mode=True, genuine=False, **FAST)
    check(discover(sim, B), "a second button is discovered")
    c = FlicClient(sim, B)
    c.connect()
    try:
        c.full_verify()
        why = "paired"
    except ProtocolError as e:
        why = str(e)
    check(why.startswith("not genuine"), "an unknown-key button is rejected as not genuine")
    c.disconnect()

# garbage from a client: the button must survive it (and SAN=1 must stay quiet)
with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"]) as sim:
    import random
    rnd = random.Random(4)
    sim.add(A, public_mode=True, **FAST)
    check(discover(sim, A), "discovered (garbage run)")
    c = FlicClient(sim, A)
    c.connect()
    pid, pkey, info = c.full_verify()
    c.init_events()
    for i in range(600):
        n = rnd.randint(1, 20)
        att = bytes(rnd.getrandbits(8) for _ in range(n))
        if i % 3 == 0:	# well-formed headers with random opcodes and bodies
            att = bytes([rnd.choice([0, 1, 0x81, 0x21])]) + bytes([rnd.randint(0, 30)]) + att[2:]
        while True:  # the fd is non-blocking, as BlueZ's is
            try:
                c.wfd.send(att)
                break
            except BlockingIOError:
                select.select([], [c.wfd], [], 1.0)
    wait_pump(lambda: False, 0.5)
    while c.recv_att(0.05) is not None:
        pass
    check(sim.proc.poll() is None, "600 random ATT writes do not kill the simulator")
    c.disconnect()
    c = FlicClient(sim, A)
    c.connect()
    check(c.quick_verify(pid, pkey), "the button still answers a proper quick verify afterwards")
    c.disconnect()

# the WriteValue / StartNotify path and a bigger MTU
with Sim(["--mtu", "140", "--connect-ms", "5", "--scan-interval-ms", "50"]) as sim:
    sim.add(A, public_mode=True, **FAST)
    check(discover(sim, A), "discovered (MTU 140 run)")
    c = FlicClient(sim, A, use_fds=False)
    c.connect()
    check(c.mtu == 140, "the MTU property says 140")
    try:
        pid, pkey, info = c.full_verify()
        ok = True
    except ProtocolError as e:
        ok = False
        print(e)
    check(ok, "full verify over WriteValue + PropertiesChanged(Value), unfragmented")
    c.init_events()
    sim.ctl.Press(A, "click")
    pk = c.read_events(3)
    check([p[0] for p in pk] == [1, 3, 4], "events arrive as Value changes")
    err = dbus_error(c.wchar.WriteValue, bytes(138), {"type": "command"})
    check(err == "org.bluez.Error.Failed", "a write longer than MTU-3 fails with org.bluez.Error.Failed")
    c.disconnect()

    # a button that pings: answered pings keep the session, a missed one ends it
    P = "80:E4:DA:70:00:05"
    sim.add(P, public_mode=True, ping_interval_s=1, **FAST)
    check(discover(sim, P), "a pinging button is discovered")
    c = FlicClient(sim, P)
    c.connect()
    c.full_verify()
    c.init_events()
    r = c.recv_signed(timeout=3)
    check(r is not None and r[0] == 15, "the button sends PingRequest")
    c.send(bytes([14]), signed=True)
    r = c.recv_signed(timeout=3)
    check(r is not None and r[0] == 15 and sim.state(P)["Session"] == "established",
          "after a PingResponse the session stays and the next ping comes")
    r = c.recv_signed(timeout=3)
    check(r is not None and r[0] == 9 and r[1] == 0, "an unanswered ping: DisconnectedVerifiedLinkInd(ping timeout)")
    check(sim.state(P)["Session"] == "none", "and the session is gone")
    c.disconnect()

finish()
