#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""flicgatectl against the real flicgated and emulated Flic 2 buttons
(build/flicsim) with build/flicsink as the webhook target: pair --name with
live progress in text and --json, the signal order an API client sees
(paired, then the Button object, then saved), two buttons in public mode
while one window is open, a forged button failing, a window timing out,
pairing refused when locked; buttons showing connection, battery,
firmware, RSSI and the last gesture after a press; rename of an
unconfigured button and its refusal for a configured one or a taken name;
unpair; export to a 0600 file, no key in the log; the hot spare: a second
daemon with an empty state directory and a BlueZ that never saw the
buttons imports the file, the buttons reconnect with a quick verify (no
pairing again) and their presses reach the sink; a damaged, a cut and a
name-clashing export are refused and change nothing; import --replace."""
import hashlib
import json
import os
import re
import select
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, BusRef, Sink, addr, config, press, sanitizer_clean, serial  # noqa: E402
from fgapi import BT_IFACE, CTL, ERR, GATEWAY, GW_IFACE, NAME, ROOT, Client, ctl, ctl_json  # noqa: E402
from fgtest import Daemon, TempDir, check, finish, wait_for  # noqa: E402
from flicsimtest import Sim, dev_path  # noqa: E402

A, B, C, D, F = addr(1), addr(2), addr(3), addr(4), addr(6)


def path_of(a):
    """The object path of an unconfigured button: its address, escaped as
    sd_bus_path_encode() does (a leading digit too)."""
    return ROOT + "/button/" + "".join(ch if ch.isalnum() and not (i == 0 and ch.isdigit()) else "_%02x" % ord(ch)
                                       for i, ch in enumerate(a))


class Stream:
    """A running flicgatectl whose output is read line by line as it comes
    (raw reads: a buffered reader could hold a line that select() no longer
    sees in the pipe)."""

    def __init__(self, bus, *args):
        self.proc = subprocess.Popen([CTL, "--bus", bus.address] + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.buf = b""
        self.lines = []

    def line(self, timeout=15):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            r, _, _ = select.select([self.proc.stdout], [], [], max(0.0, left))
            if not r:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        self.lines.append(line.decode())
        return self.lines[-1]

    def finish(self, timeout=30):
        out, err = self.proc.communicate(timeout=timeout)
        self.lines += (self.buf + out).decode().splitlines()
        self.buf = b""
        return self.proc.returncode, err.decode()


def alerts(sink):
    return [(b.get("flic_nameId"), b.get("flic_state"), b.get("flic_gesture"), b.get("flic_queued"))
            for b in sink.button_alerts()]


def reseal(doc):
    """A document edited on purpose, with a correct seal: what it says is what fails."""
    body = doc[:doc.index("--- sha256 ")] if "--- sha256 " in doc else doc
    return body + "--- sha256 " + hashlib.sha256(body.encode()).hexdigest() + "\n"


def state_files(state):
    d = os.path.join(state, "pairings")
    out = {}
    for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        with open(os.path.join(d, n), "rb") as f:
            out[n] = f.read()
    names = os.path.join(state, "button-names")
    if os.path.exists(names):
        out["button-names"] = open(names, "rb").read()
    return out


BUTTONS = "[button reception]\naddress = %s\non = single_click\noff = double_click\n" % B

with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    sink = Sink(tmp)
    hook = sink.url + "/POSTAlert/00000000-test/Flic"
    ini = tmp.file("flicgate.ini", config(state, pairing="window", webhook=hook, buttons=BUTTONS))
    with Sim(["--connect-ms", "5", "--scan-interval-ms", "50"], tmp=tmp) as sim:
        sim.add(A, name="a", serial=serial(1), battery_mv=2950, firmware=12, rssi=-61, **FAST)
        sim.add(B, name="b", serial=serial(2), **FAST)
        sim.add(C, name="c", serial=serial(3), **FAST)
        sim.add(D, name="d", serial=serial(4), **FAST)
        sim.add(F, name="f", serial=serial(6), genuine=False, **FAST)
        bus = BusRef(sim.bus_daemon.address)
        d = Daemon(tmp, bus, ini, extra_args=["-v"])
        c = None
        try:
            check(wait_for(lambda: ctl(bus, "status").stdout.startswith("Gateway:"), 10), "flicgated is up")
            check(wait_for(lambda: "Bluetooth:  hci0, ready" in ctl(bus, "status").stdout, 10),
                  "status: Bluetooth hci0, ready")
            c = Client(bus.address)

            # ---- pair --name, text, live: each stage printed as it happens
            c.reset()
            p = Stream(bus, "pair", "--name", "lobby", "--timeout", "60")
            first = [p.line(), p.line()]
            check(first == ["Pairing window open. Hold the button down for about 7 seconds, until it flashes.",
                            "Scanning for a button in pairing mode..."],
                  "pair prints the open window and scanning before any button is there (%s)" % first)
            check(int(sim.state(A)["Pairings"]) == 0, "...A is not paired yet")
            sim.ctl.SetPublicMode(A, True)
            rc, err = p.finish()
            out = p.lines[2:]
            check(rc == 0 and len(out) == 4
                  and re.fullmatch(r"Found %s \(RSSI -\d+ dBm\)" % A, out[0])
                  and out[1] == "Verifying %s..." % A
                  and out[2] == "Paired %s (%s)" % (A, serial(1))
                  and out[3] == "Saved as lobby: it reconnects by itself from now on, also after a reboot.",
                  "found, verifying, paired, saved; exit 0 (%d %s %r)" % (rc, out, err))
            check(int(sim.state(A)["Pairings"]) == 1, "the button holds one pairing")

            # the API client saw: paired, the new Button object, saved
            c.wait_signal(lambda s: s[1] == "PairingProgress" and str(s[3][0]) == "saved")
            seq = [(s[1], str(s[3][0])) for s in c.signals
                   if s[1] == "PairingProgress" or (s[1] == "InterfacesAdded" and str(s[3][0]) == path_of(A))]
            check(seq == [("PairingProgress", "scanning"), ("PairingProgress", "found"),
                          ("PairingProgress", "verifying"), ("PairingProgress", "paired"),
                          ("InterfacesAdded", path_of(A)), ("PairingProgress", "saved")],
                  "signal order: scanning, found, verifying, paired, InterfacesAdded, saved (%s)" % seq)
            saved = [s for s in c.signals if s[1] == "PairingProgress" and str(s[3][0]) == "saved"]
            check(saved and [str(x) for x in saved[0][3]] == ["saved", A, "lobby", ""],
                  "saved carries the address and the name (%s)" % (saved and list(saved[0][3])))
            added = [s for s in c.signals if s[1] == "InterfacesAdded" and str(s[3][0]) == path_of(A)]
            props = added[0][3][1].get(BT_IFACE, {}) if added else {}
            check(str(props.get("Id")) == A and str(props.get("Name")) == "lobby" and bool(props.get("Paired"))
                  and not bool(props.get("Configured")) and str(props.get("Serial")) == serial(1),
                  "InterfacesAdded: id = address, name lobby, paired, not configured (%s)" % dict(props))
            g = c.props(GATEWAY, GW_IFACE)
            check(not g["PairingWindowOpen"] and g["PairingWindowEnd"] == 0 and g["Buttons"] == 2,
                  "the window is closed; 2 buttons known")

            # ---- pair --json: a configured button keeps its section's name
            c.reset()
            p = Stream(bus, "--json=short", "pair", "--timeout", "60")
            first = p.line()
            sim.ctl.SetPublicMode(B, True)
            rc, err = p.finish()
            stages = [json.loads(x) for x in p.lines]
            check(rc == 0 and [s["stage"] for s in stages] == ["scanning", "found", "verifying", "paired", "saved"],
                  "pair --json: one JSON line per stage (%d %s %r)" % (rc, p.lines, err))
            check(stages and stages[-1] == {"stage": "saved", "address": B, "button": "reception", "message": None}
                  and stages[3] == {"stage": "paired", "address": B, "button": None, "message": serial(2)},
                  "the configured button is saved as 'reception' (%s)" % stages[-2:])
            c.wait_signal(lambda s: s[1] == "PairingProgress" and str(s[3][0]) == "saved")
            seq = [(s[1], str(s[3][0]) if s[1] == "PairingProgress" else s[2]) for s in c.signals
                   if s[1] == "PairingProgress" or (s[1] == "PropertiesChanged" and s[2] == ROOT + "/button/reception"
                                                    and bool(s[3][1].get("Paired")))]
            check(seq[:1] == [("PairingProgress", "scanning")] and seq[3:6] == [
                ("PairingProgress", "paired"), ("PropertiesChanged", ROOT + "/button/reception"),
                ("PairingProgress", "saved")], "paired, then reception's Paired property, then saved (%s)" % seq)

            # ---- two buttons in public mode, one window: exactly one pairs
            sim.ctl.SetPublicMode(C, True)
            sim.ctl.SetPublicMode(D, True)
            time.sleep(0.3)
            check(int(sim.state(C)["Pairings"]) + int(sim.state(D)["Pairings"]) == 0,
                  "without a window neither public-mode button pairs")
            p = ctl(bus, "pair", "--timeout", "30")
            m = re.search(r"^Saved as (flic-BG30-T0000[34]):", p.stdout, re.M)
            pairings = (int(sim.state(C)["Pairings"]), int(sim.state(D)["Pairings"]))
            check(p.returncode == 0 and m and sorted(pairings) == [0, 1],
                  "two buttons, one window: one is paired (%s, %s)" % (pairings, p.stdout))
            winner, loser = (C, D) if pairings[0] else (D, C)
            check(m and m.group(1) == "flic-" + serial(3 if winner == C else 4) and p.stdout.count("Found ") == 1,
                  "...the output names only it (%s)" % (m and m.group(1)))
            time.sleep(1.0)
            check(int(sim.state(loser)["Pairings"]) == 0, "...the other stays unpaired after the window")
            p, j = ctl_json(bus, "buttons")
            check(j and sorted(b["id"] for b in j) == sorted(["reception", A, winner]),
                  "the list: reception, lobby and the one paired (%s)" % (j and [b["id"] for b in j]))
            sim.ctl.SetPublicMode(loser, False)
            sim.ctl.SetPublicMode(winner, False)

            # ---- a forged button fails its window; a window with nothing times out
            p = Stream(bus, "pair", "--timeout", "30")
            p.line()
            p.line()
            sim.ctl.SetPublicMode(F, True)
            rc, err = p.finish()
            check(rc == 1 and p.lines[-1].startswith("Pairing failed (not-genuine"),
                  "a forged button: 'Pairing failed (not-genuine…)', exit 1 (%d %s)" % (rc, p.lines[-1:]))
            sim.ctl.SetPublicMode(F, False)
            t0 = time.monotonic()
            p = ctl(bus, "pair", "--timeout", "5")
            check(p.returncode == 7 and p.stdout.endswith("The pairing window closed before a button was paired.\n")
                  and time.monotonic() - t0 > 4.5, "nothing in pairing mode: the window runs its 5 s out, exit 7")

            # ---- a press: connection, battery, firmware, RSSI, last gesture
            check(wait_for(lambda: (ctl_json(bus, "buttons", "lobby")[1] or {}).get("connected") is True, 10),
                  "lobby is connected")
            press(sim, A, "click")
            check(wait_for(lambda: (ctl_json(bus, "buttons", "lobby")[1] or {}).get("last_event") == "single_click",
                           10), "its click shows as last_event single_click")
            p, j = ctl_json(bus, "buttons", "lobby")
            check(j and j["connected"] is True and j["paired"] is True and j["battery_mv"] == 2950
                  and j["firmware"] == 12 and isinstance(j["rssi"], int) and -70 < j["rssi"] < -50
                  and j["last_event_time"] and j["last_seen"] and j["alert_state"] is None
                  and j["id"] == A and j["object"] == path_of(A) and j["serial"] == serial(1),
                  "buttons --json: real radio values (%s)" % j)
            p = ctl(bus, "buttons", "lobby")
            check(p.returncode == 0 and "Connected:   yes\n" in p.stdout and "Battery:     2.95V\n" in p.stdout
                  and "Firmware:    12\n" in p.stdout and re.search(r"^RSSI:        -\d+ dBm$", p.stdout, re.M)
                  and re.search(r"^Last event:  single_click at ", p.stdout, re.M)
                  and "Configured:  no (named in the pairing store)" in p.stdout, "buttons lobby, text (%r)" % p.stdout)
            p = ctl(bus, "buttons")
            row = [x for x in p.stdout.splitlines() if x.startswith("lobby ")]
            check(row and re.search(r"\byes\s+up\s+\S+ ago\s+-\d+\s+2\.95V\s+-$", row[0]),
                  "the table: paired, link up, seen, RSSI, battery (%s)" % row)
            check(not alerts(sink), "an unconfigured button's press sends no alert")
            press(sim, B, "click")
            check(wait_for(lambda: ("reception", "On", "single_click", False) in alerts(sink), 10),
                  "reception's click opens an alert at the sink")
            p, j = ctl_json(bus, "buttons", "reception")
            check(j and j["alert_state"] == "open" and j["last_event"] == "single_click" and j["connected"] is True,
                  "reception: alert open, last event, connected")
            p, j = ctl_json(bus, "status")
            check(j and j["connected_buttons"] == 3 and j["open_alerts"] == ["reception"],
                  "status: 3 connected, reception's alert open (%s)" % j)

            # ---- rename
            c.reset()
            p = ctl(bus, "rename", "lobby", "hall")
            check(p.returncode == 0 and p.stdout == "Renamed lobby to hall.\n", "rename lobby hall: exit 0")
            p, j = ctl_json(bus, "buttons", "hall")
            check(j and j["name"] == "hall" and j["id"] == A and j["object"] == path_of(A),
                  "renamed; its id and object path stay (%s)" % j)
            s = c.wait_signal(lambda s: s[1] == "PropertiesChanged" and s[2] == path_of(A) and "Name" in s[3][1])
            check(s is not None and str(s[3][1]["Name"]) == "hall", "PropertiesChanged carries the new name")
            check(" hall\n" in " " + open(os.path.join(state, "button-names")).read(), "the name is on disk")
            p = ctl(bus, "rename", "reception", "front")
            check(p.returncode == 1 and "[button reception]" in p.stderr, "a configured button: exit 1, edit the INI")
            p = ctl(bus, "rename", "hall", "reception")
            check(p.returncode == 1 and "reception" in p.stderr, "a taken name: exit 1 (%r)" % p.stderr)
            p = ctl(bus, "rename", "hall", "80-E4-DA-70-99-99")
            check(p.returncode in (1, 2) and "not a valid button name" in p.stderr,
                  "a name that reads as an address is refused (%d %r)" % (p.returncode, p.stderr))

            # ---- locked: no window
            with open(ini, "w") as f:
                f.write(config(state, pairing="locked", webhook=hook, buttons=BUTTONS))
            check(ctl(bus, "reload").returncode == 0, "reload with pairing = locked")
            p = ctl(bus, "pair")
            check(p.returncode == 1 and "Pairing is locked" in p.stderr, "pair when locked: exit 1 (%r)" % p.stderr)
            with open(ini, "w") as f:
                f.write(config(state, pairing="window", webhook=hook, buttons=BUTTONS))
            check(ctl(bus, "reload").returncode == 0, "back to pairing = window")

            # ---- unpair
            c.reset()
            p = ctl(bus, "unpair", "hall")
            check(p.returncode == 0 and p.stdout == "Unpaired hall: pair it again to use it.\n", "unpair hall: exit 0")
            s = c.wait_signal(lambda s: s[1] == "InterfacesRemoved" and str(s[3][0]) == path_of(A))
            check(s is not None, "InterfacesRemoved for it")
            check(not os.path.exists(os.path.join(state, "pairings", A.replace(":", "") + ".pairing")),
                  "its pairing file is gone")
            p = ctl(bus, "unpair", "hall")
            check(p.returncode == 5, "it is no longer known: exit 5")

            # ---- export
            exp = os.path.join(tmp.path, "pairings.export")
            p = ctl(bus, "export", exp)
            check(p.returncode == 0 and p.stdout.startswith("Wrote 2 pairing records to %s (mode 0600)." % exp),
                  "export: 2 records (%r)" % p.stdout)
            check(stat.S_IMODE(os.stat(exp).st_mode) == 0o600, "the file is mode 0600")
            doc = open(exp).read()
            keys = re.findall(r"^pairing_key=([0-9a-f]{32})$", doc, re.M)
            check(len(keys) == 2 and doc.count("--- dedup\n") >= 1
                  and "--- pairing %s -\n" % B in doc and "--- pairing %s -\n" % winner in doc,
                  "it holds both records, a counter, no names (%d keys)" % len(keys))
            check(keys and not any(k in d.output() or k.upper() in d.output() for k in keys),
                  "no pairing key in the daemon's log (-v)")
            rc = d.stop()
            check(rc == 0 and sanitizer_clean(d.output()), "the first gateway stops cleanly (%s)" % rc)
            d.close()
            c.close()
            c = None

            # ---- the hot spare: empty state, a BlueZ that never saw the buttons
            adapter = sim.obj("/org/bluez/hci0", "org.bluez.Adapter1")
            for x in (A, B, C, D, F):
                try:
                    adapter.RemoveDevice(dev_path(x))
                except Exception:
                    pass
            time.sleep(0.5)
            check(not sim.state(B)["Linked"] and not sim.state(winner)["Linked"], "no button is linked any more")
            full_before = int(sim.state(B)["FullVerifyOk"])
            spare_state = os.path.join(tmp.path, "spare-state")
            spare_ini = tmp.file("spare.ini", config(spare_state, pairing="locked", webhook=hook, buttons=BUTTONS))
            d = Daemon(tmp, bus, spare_ini, extra_args=["-v"], name="spare")
            check(wait_for(lambda: "hci0, ready" in ctl(bus, "status").stdout, 10), "the spare is up")
            p, j = ctl_json(bus, "buttons")
            check(j and [(b["name"], b["paired"]) for b in j] == [("reception", False)],
                  "the spare knows reception from its INI, unpaired (%s)" % j)
            n0 = len(alerts(sink))
            p = ctl(bus, "import", exp)
            check(p.returncode == 0 and p.stdout == "Imported 2 pairing records.\n",
                  "import (even with pairing = locked): exit 0 (%r %r)" % (p.stdout, p.stderr))
            press(sim, B, "double_click")
            check(wait_for(lambda: ("reception", "Off", "double_click", True) in alerts(sink)[n0:]
                           or ("reception", "Off", "double_click", False) in alerts(sink)[n0:], 30),
                  "reception's press reaches the sink through the spare (%s)" % alerts(sink)[n0:])
            check(sim.state(B)["SessionKind"] == "quick" and int(sim.state(B)["FullVerifyOk"]) == full_before
                  and int(sim.state(B)["Pairings"]) == 1, "a quick verify with the imported key, no pairing again")
            check(" paired:" not in d.output(), "the spare paired nothing")
            press(sim, winner, "click")
            check(wait_for(lambda: (ctl_json(bus, "buttons", winner)[1] or {}).get("connected") is True, 20),
                  "the other imported button connects too")
            p, j = ctl_json(bus, "buttons")
            check(j and sorted((b["id"], b["paired"]) for b in j) == sorted([("reception", True), (winner, True)]),
                  "the spare lists both, paired (%s)" % j)
            check(stat.S_IMODE(os.stat(os.path.join(spare_state, "pairings", B.replace(":", "") + ".pairing")).st_mode)
                  == 0o600, "the imported record is stored 0600")

            # ---- damaged, cut, clashing: refused, nothing changes
            before = state_files(spare_state)
            k = doc.index("pairing_key=") + len("pairing_key=")
            bad = tmp.file("damaged.export", doc[:k] + ("0" if doc[k] != "0" else "1") + doc[k + 1:])
            p, j = ctl_json(bus, "import", bad)
            check(p.returncode == 1 and j["error"]["name"] == ERR + "BadPairingFile" and "SHA-256" in j["error"]["message"]
                  and "nothing was imported" in j["error"]["message"],
                  "one changed key digit: BadPairingFile (%s)" % j)
            cut = tmp.file("cut.export", doc[:doc.index("--- end")])
            p = ctl(bus, "import", cut)
            check(p.returncode == 1 and "cut short" in p.stderr, "a cut file: refused (%r)" % p.stderr)
            clash = tmp.file("clash.export", reseal(doc.replace("--- pairing %s -" % winner,
                                                                "--- pairing %s reception" % winner)))
            p, j = ctl_json(bus, "import", clash)
            check(p.returncode == 1 and j["error"]["name"] == ERR + "NameTaken" and "[button reception]" in j["error"]["message"],
                  "a name that is a section's: NameTaken (%s)" % j)
            check(state_files(spare_state) == before, "the refused imports changed no file")
            p, j = ctl_json(bus, "buttons")
            check(j and all(b["paired"] and b["connected"] for b in j) and len(j) == 2, "...and no button")

            # ---- import --replace: only what the file holds stays paired
            blocks = doc[:doc.index("--- sha256 ")].split("--- pairing ")
            only_b = reseal(blocks[0] + "".join("--- pairing " + x for x in blocks[1:] if x.startswith(B)))
            fb = tmp.file("only-b.export", only_b)
            p = ctl(bus, "import", "--replace", fb)
            check(p.returncode == 0 and p.stdout.startswith("Imported 1 pairing record; stored records not in"),
                  "import --replace with reception only (%r %r)" % (p.stdout, p.stderr))
            p, j = ctl_json(bus, "buttons")
            check(j and [(b["id"], b["paired"]) for b in j] == [("reception", True)], "the other one is gone (%s)" % j)
            check(not os.path.exists(os.path.join(spare_state, "pairings", winner.replace(":", "") + ".pairing")),
                  "its record is deleted")
            check(wait_for(lambda: (ctl_json(bus, "buttons", "reception")[1] or {}).get("connected") is True, 20),
                  "reception is connected again after taking its record anew")
            rc = d.stop()
            check(rc == 0 and sanitizer_clean(d.output()), "the spare stops cleanly (%s)" % rc)
            check(not any(k in d.output() for k in keys), "no pairing key in the spare's log")
        finally:
            if c:
                c.close()
            d.close()
    sink.close()

finish()
