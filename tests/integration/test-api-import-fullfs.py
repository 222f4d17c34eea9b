#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ImportPairings and Rename when the state directory fills up (a tiny
tmpfs): an import whose files do not all fit is undone, the store holds
exactly what it held before and the API shows the same buttons; a rename
whose name cannot be written is refused and changes nothing; with room
again the same import succeeds. No radio is needed: the real flicgated
runs without bluetoothd. Needs root (mount -t tmpfs)."""
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import Daemon, PrivateBus, TempDir, check, finish, skip, wait_for  # noqa: E402
from fgapi import BT_IFACE, ERR, GATEWAY, GW_IFACE, NAME, ROOT, Client  # noqa: E402

INI = """[gateway]
name = full
state_dir = %(state)s
[webhook w]
url = http://127.0.0.1:9/
[button reception]
address = 80:E4:DA:70:00:09
"""


def record(last, key):
    return ("version=1\naddress=80:E4:DA:70:00:%02X\npairing_id=%d\npairing_key=%s\n"
            "uuid=5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\nserial=BG30-T%05d\nname=466c69632032\n"
            "firmware=10\nbattery_mv=3000\nidentity_key=%s\n") % (last, 1000 + last, ("%02x" % key) * 16, last, "e9" * 32)


def export(buttons):
    """A sealed export: (last address byte, key byte, name or '-')."""
    body = "flicgate-pairings 1\n"
    for last, key, name in buttons:
        body += "--- pairing 80:E4:DA:70:00:%02X %s\n" % (last, name) + record(last, key)
        body += "--- dedup\nversion=1\nboot_id=3\nevent_count=%d\n--- end\n" % (10 + last)
    return body + "--- sha256 " + hashlib.sha256(body.encode()).hexdigest() + "\n"


def path(last):
    a = "80:E4:DA:70:00:%02X" % last
    return ROOT + "/button/" + "".join(ch if ch.isalnum() and not (i == 0 and ch.isdigit()) else "_%02x" % ord(ch)
                                       for i, ch in enumerate(a))


def files(state):
    """The pairing store's files (the spool's journal changes on its own: counters, alarms)."""
    out = {}
    for root, _, names in os.walk(state):
        if os.path.relpath(root, state).startswith("spool"):
            continue
        for n in names:
            if n != "filler":
                p = os.path.join(root, n)
                out[os.path.relpath(p, state)] = open(p, "rb").read()
    return out


def buttons(c):
    return sorted((str(v[BT_IFACE]["Id"]), str(v[BT_IFACE]["Name"]), bool(v[BT_IFACE]["Paired"]))
                  for k, v in c.managed().items() if BT_IFACE in v)


def fill(state, leave_pages):
    """Fill the tmpfs but @leave_pages pages."""
    f = os.path.join(state, "filler")
    if os.path.exists(f):
        os.unlink(f)
    st = os.statvfs(state)
    size = st.f_bavail * st.f_frsize - leave_pages * st.f_frsize
    with open(f, "wb") as fh:
        fh.write(b"\0" * max(0, size))
        fh.flush()
        os.fsync(fh.fileno())
    return os.statvfs(state).f_bavail


with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    os.mkdir(state)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k,mode=0700", "tmpfs", state],
                       capture_output=True, text=True)
    if r.returncode != 0:
        skip("cannot mount a size-limited tmpfs (needs root or CAP_SYS_ADMIN): %s"
             % (r.stderr.strip() or "mount failed"))
    ini = tmp.file("flicgate.ini", INI % {"state": state})
    bus = PrivateBus(tmp)
    d = Daemon(tmp, bus, ini, extra_args=["-v"])
    c = None
    try:
        check(wait_for(lambda: bus.name_owner(NAME)), "flicgated is up, without bluetoothd")
        c = Client(bus.address)
        first = export([(1, 0x11, "lobby"), (2, 0x22, "-")])
        r, err = c.call(GATEWAY, GW_IFACE, "ImportPairings", first, False)
        check(err is None and r == 2, "a first import of two buttons (%s)" % (err,))
        before = files(state)
        seen = buttons(c)
        check(seen == [("80:E4:DA:70:00:01", "lobby", True), ("80:E4:DA:70:00:02", "flic-BG30-T00002", True),
                       ("reception", "reception", False)], "the API lists them (%s)" % seen)

        # room for the names file and for replacing two buttons, not for a third
        free = fill(state, 1)
        check(free == 1, "the tmpfs has one page left (%d)" % free)
        second = export([(1, 0x33, "hall"), (2, 0x44, "ward"), (3, 0x55, "spare-c")])
        r, err = c.call(GATEWAY, GW_IFACE, "ImportPairings", second, False)
        check(err and err[0] == ERR + "Failed" and "nothing was imported" in err[1]
              and "No space left" in err[1], "the import that does not fit fails (%s)" % (err,))
        # the third button's files are the ones that do not fit: the first two were written, then undone
        check(d.wait_log("Button 80:E4:DA:70:00:03: cannot store its imported pairing, nothing is imported"),
              "...at the third button, after two were written (the log)")
        check(files(state) == before, "every file is as it was: records, counters, names")
        check(buttons(c) == seen, "the API shows the same buttons, names and pairings")
        r, err = c.call(GATEWAY, GW_IFACE, "ExportPairings")
        check(err is None and r[1] == 2 and "pairing_key=" + "11" * 16 in str(r[0])
              and "pairing_key=" + "33" * 16 not in str(r[0]), "the old keys are the ones in use")

        # a rename whose name cannot be written changes nothing
        fill(state, 0)
        r, err = c.call(path(1), BT_IFACE, "Rename", "front")
        check(err and err[0] == ERR + "Failed" and "No space left" in err[1], "rename on a full disk fails (%s)" % (err,))
        check(buttons(c) == seen and files(state) == before, "...and the button keeps its name, on disk too")

        # room again: the same import goes through
        os.unlink(os.path.join(state, "filler"))
        r, err = c.call(GATEWAY, GW_IFACE, "ImportPairings", second, False)
        check(err is None and r == 3, "with room, the same import succeeds (%s)" % (err,))
        check(buttons(c) == [("80:E4:DA:70:00:01", "hall", True), ("80:E4:DA:70:00:02", "ward", True),
                             ("80:E4:DA:70:00:03", "spare-c", True), ("reception", "reception", False)],
              "the API shows the imported names (%s)" % buttons(c))
        names = open(os.path.join(state, "button-names")).read()
        check("80:E4:DA:70:00:01 hall\n" in names and "80:E4:DA:70:00:03 spare-c\n" in names
              and "lobby" not in names, "the names file is the export's")
        ev = open(os.path.join(state, "pairings", "80E4DA700003.events")).read()
        check("event_count=13" in ev, "the counter came with the record")
        # names compare without case, as lookups do
        r, err = c.call(GATEWAY, GW_IFACE, "ImportPairings", export([(4, 0x66, "RECEPTION")]), False)
        check(err and err[0] == ERR + "NameTaken" and "[button reception]" in err[1],
              "a name that is a section's in another case: NameTaken (%s)" % (err,))
        r, err = c.call(GATEWAY, GW_IFACE, "ImportPairings", export([(4, 0x66, "Hall")]), False)
        check(err and err[0] == ERR + "NameTaken" and "80:E4:DA:70:00:01" in err[1],
              "...or another button's (%s)" % (err,))
        # an empty export with replace: every pairing goes, names too
        r, err = c.call(GATEWAY, GW_IFACE, "ImportPairings", export([]), True)
        check(err is None and r == 0, "import --replace of an empty export (%s)" % (err,))
        check(buttons(c) == [("reception", "reception", False)], "only the configured button is left, unpaired")
        check(sorted(os.listdir(os.path.join(state, "pairings"))) == [], "no pairing file is left")
        check(open(os.path.join(state, "button-names")).read().count("\n") == 1, "the names file holds its comment only")
        rc = d.stop()
        check(rc == 0, "flicgated stops cleanly (%s)" % rc)
        check("33" * 16 not in d.output() and "11" * 16 not in d.output(), "no pairing key in the log")
    finally:
        if c:
            c.close()
        d.close()
        bus.close()
        subprocess.run(["umount", state])

finish()
