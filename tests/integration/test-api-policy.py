#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Who may do what, with real parts.

1. A real dbus-daemon configured like the system bus (default deny for
   method calls) that includes conf/io.github.flicgate1.conf unchanged:
   only the daemon's user (and root) may own the name; root, the daemon's
   user and members of group "flicgate" may call methods; "nobody" may read
   status but every changing call is refused by the bus.
2. A permissive bus (anyone may call anything): the daemon's own check
   (GetConnectionCredentials) still refuses "nobody" with
   Error.NotAuthorized and still lets a member of "flicgate" in.

Runs as root in a private mount namespace (unshare) where /etc/passwd and
/etc/group are bind-mounted copies with a "flicgate" user and group added;
callers switch uid with setpriv. Nothing outside the namespace changes."""
import grp
import os
import pwd
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import SRCDIR, Daemon, PrivateBus, TempDir, check, finish, skip, wait_for
from fgapi import ERR, NAME, NOBODY, ctl, daemon_as

if os.geteuid() != 0:
    skip("needs root: callers run as 'nobody' (setpriv) and /etc/group is replaced in a private mount namespace")
for tool in ("setpriv", "unshare", "mount", "busctl"):
    if not shutil.which(tool):
        skip("%s is not installed (util-linux, systemd)" % tool)

if os.environ.get("FG_POLICY_NS") != "1":
    env = dict(os.environ, FG_POLICY_NS="1")
    os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable,
                           os.path.abspath(__file__)], env)


def free_id(getter, start):
    i = start
    while True:
        try:
            getter(i)
            i -= 1
        except KeyError:
            return i


FG_GID = free_id(grp.getgrgid, 64999)
FG_UID = free_id(pwd.getpwuid, 64998)
FG_USER = ["setpriv", "--reuid=%d" % FG_UID, "--regid=%d" % FG_GID, "--clear-groups"]
MEMBER = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--groups=%d" % FG_GID]

SYSTEM_LIKE = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%(socket)s</listen>
  <auth>EXTERNAL</auth>
  <!-- as Debian's /usr/share/dbus-1/system.conf: deny by default -->
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>%(policy)s</include>
</busconfig>
"""

INI = """[gateway]
name = policy
state_dir = %(state)s
[webhook sink]
url = http://127.0.0.1:9/POSTAlert/KEY/Flic
[button reception]
address = 80:E4:DA:70:12:34
"""


def fake_account_files(tmp):
    """/etc/passwd and /etc/group with a flicgate user and group, bind-mounted."""
    with open("/etc/group") as f:
        group = f.read()
    with open("/etc/passwd") as f:
        passwd = f.read()
    group = "".join(l + "\n" for l in group.splitlines() if not l.startswith("flicgate:"))
    passwd = "".join(l + "\n" for l in passwd.splitlines() if not l.startswith("flicgate:"))
    g = tmp.file("group", group + "flicgate:x:%d:\n" % FG_GID, 0o644)
    p = tmp.file("passwd", passwd + "flicgate:x:%d:%d::/nonexistent:/usr/sbin/nologin\n" % (FG_UID, FG_GID), 0o644)
    subprocess.run(["mount", "--bind", g, "/etc/group"], check=True)
    subprocess.run(["mount", "--bind", p, "/etc/passwd"], check=True)


PY_RELOAD = """
import dbus, sys
bus = dbus.bus.BusConnection(sys.argv[1])
try:
    bus.get_object("io.github.flicgate1", "/io/github/flicgate1/gateway", introspect=False).Reload(
        dbus_interface="io.github.flicgate1.Gateway")
    print("ok")
except dbus.exceptions.DBusException as e:
    print(e.get_dbus_name())
"""


def py_reload(bus, prefix):
    """Reload called by python-dbus started through @prefix; "ok" or the error name."""
    p = subprocess.run(list(prefix) + ["/usr/bin/python3", "-c", PY_RELOAD, bus.address],
                       capture_output=True, text=True, timeout=20)
    return p.stdout.strip() or p.stderr.strip()[-200:]


def busctl(bus, member, *args, prefix=()):
    p = subprocess.run(list(prefix) + ["busctl", "--address=" + bus.address, "call", NAME,
                                       "/io/github/flicgate1/gateway", "io.github.flicgate1.Gateway",
                                       member] + list(args), capture_output=True, text=True, timeout=20)
    return p


with TempDir() as tmp:
    os.chmod(tmp.path, 0o755)	# other uids must reach the bus socket
    fake_account_files(tmp)
    check(grp.getgrnam("flicgate").gr_gid == FG_GID, "the namespace has a flicgate group (gid %d)" % FG_GID)

    state = os.path.join(tmp.path, "state")
    os.mkdir(state, 0o700)
    os.chown(state, FG_UID, FG_GID)
    ini = tmp.file("flicgate.ini", INI % {"state": state}, 0o600)
    os.chown(ini, FG_UID, FG_GID)
    policy = os.path.join(SRCDIR, "conf", "io.github.flicgate1.conf")

    # ---------------------------------------------------------------- 1. bus policy
    sock = os.path.join(tmp.path, "bus.sock")
    bus = PrivateBus(tmp, config=SYSTEM_LIKE % {"socket": sock, "policy": policy})
    daemons = []
    try:
        # nobody may not own the name (a config file nobody can read)
        nostate = os.path.join(tmp.path, "nostate")
        os.mkdir(nostate, 0o700)
        os.chown(nostate, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
        nob_ini = tmp.file("nobody.ini", INI % {"state": nostate}, 0o644)
        intruder = daemon_as(tmp, bus, nob_ini, NOBODY, "as-nobody")
        rc = intruder.proc.wait(20)
        check(rc == 1 and "Cannot own io.github.flicgate1" in intruder.output(),
              "'nobody' cannot own io.github.flicgate1 (%r)" % intruder.output().strip()[-160:])
        intruder.close()

        # the daemon's user owns it
        d = daemon_as(tmp, bus, ini, FG_USER, "as-flicgate")
        daemons.append(d)
        check(wait_for(lambda: bus.name_owner(NAME)), "user flicgate owns io.github.flicgate1")

        # nobody: status yes, changes no (refused by the bus, not the daemon)
        p = ctl(bus, "status", prefix=NOBODY)
        check(p.returncode == 0 and "Gateway:    policy" in p.stdout, "nobody may read the status")
        p = ctl(bus, "buttons", "reception", prefix=NOBODY)
        check(p.returncode == 0 and "80:E4:DA:70:12:34" in p.stdout, "nobody may list and find buttons")
        for cmd in (["reload"], ["pair"], ["log"], ["ack"], ["test"], ["unpair", "reception"],
                    ["export", os.path.join(tmp.path, "x")]):
            p = ctl(bus, *cmd, prefix=NOBODY)
            check(p.returncode == 4 and "not authorised" in p.stderr,
                  "nobody: flicgatectl %s is refused with exit 4 (%d %r)" % (cmd[0], p.returncode, p.stderr.strip()))
        p = busctl(bus, "Reload", prefix=NOBODY)
        check(p.returncode != 0 and "Access denied" in p.stderr or "AccessDenied" in p.stderr,
              "nobody: busctl call Reload is denied by the bus (%s)" % p.stderr.strip())
        check("Refused" not in d.output(), "the bus refused it: the daemon never saw those calls")

        # members of group flicgate, the daemon's user and root may
        p = ctl(bus, "reload", prefix=MEMBER)
        check(p.returncode == 0, "a member of group flicgate may reload (%s)" % p.stderr.strip())
        p = ctl(bus, "reload", prefix=FG_USER)
        check(p.returncode == 0, "the daemon's own user may reload (%s)" % p.stderr.strip())
        p = ctl(bus, "reload")
        check(p.returncode == 0, "root may reload (%s)" % p.stderr.strip())
        # a member opens a window and follows it: the policy lets the signals through
        p = ctl(bus, "pair", "--timeout", "5", prefix=MEMBER)
        check(p.returncode == 7 and "Scanning for a button" in p.stdout
              and "closed before a button was paired" in p.stdout,
              "a member may pair; the window's signals reach it (exit %d, %r)" % (p.returncode, p.stdout))
        p = ctl(bus, "export", "-", prefix=MEMBER)
        check(p.returncode == 0 and p.stdout.startswith("flicgate-pairings 1\n"),
              "a member may export (%d %r)" % (p.returncode, p.stderr.strip()))
    finally:
        for d in daemons:
            d.close()
        bus.close()

    # ---------------------------------------------------------------- 2. the daemon's own check
    os.chown(ini, 0, 0)
    tmp2 = os.path.join(tmp.path, "open")
    os.mkdir(tmp2, 0o755)

    class Sub:
        path = tmp2

        def file(self, name, text, mode=0o600):
            return tmp.file(os.path.join("open", name), text, mode)

    bus = PrivateBus(Sub())
    d = Daemon(Sub(), bus, ini)
    try:
        check(wait_for(lambda: bus.name_owner(NAME)), "root's flicgated owns the name on a permissive bus")
        p = busctl(bus, "Reload", prefix=NOBODY)
        check(p.returncode != 0 and "Only root and members of group 'flicgate'" in p.stderr,
              "permissive bus: the daemon itself refuses nobody (%s)" % p.stderr.strip())
        p = ctl(bus, "reload", prefix=NOBODY)
        check(p.returncode == 4 and "not authorised" in p.stderr, "flicgatectl exits 4 on Error.NotAuthorized")
        p = ctl(bus, "--json=short", "reload", prefix=NOBODY)
        check('"name":"' + ERR + 'NotAuthorized"' in p.stdout, "--json carries the error name")
        check(wait_for(lambda: "Refused io.github.flicgate1.Gateway.Reload from uid 65534" in d.output()),
              "the refusal is logged with the uid")
        p = ctl(bus, "reload", prefix=MEMBER)
        check(p.returncode == 0, "the daemon lets a member of group flicgate in (%s)" % p.stderr.strip())
        p = ctl(bus, "status", prefix=NOBODY)
        check(p.returncode == 0, "reading status needs no privilege")
        # the uid that counts is the effective one the bus recorded, not
        # /proc's real uid (python-dbus as the caller: a sanitized
        # flicgatectl cannot run with split uids)
        for ids, want in ((["--ruid=0", "--euid=nobody"], ERR + "NotAuthorized"), (["--ruid=nobody", "--euid=0"], "ok")):
            got = py_reload(bus, ["setpriv"] + ids)
            check(got == want, "%s: %s (%s)" % (" ".join(ids), want, got))
    finally:
        d.close()
        bus.close()

finish()
