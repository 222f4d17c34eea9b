#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""flicgated on a real system bus with the project's D-Bus policy installed,
run as flicgated.service runs it (user flicgate, a notify socket): READY,
the bus name and who may own and call it, reload, clean stop."""
import signal

import fgvm
from fgvm import check, log, wait_for

CONFIG = """[gateway]
name = vm-daemon
[webhook sink]
url = http://127.0.0.1:9/POSTAlert/SECRETKEY123/Flic
[button reception]
address = 80:E4:DA:70:12:34
"""
NAME = "io.github.flicgate1"

rc, out = fgvm.run(["/usr/sbin/flicgated", "--version"])
check(rc == 0 and out.startswith("flicgated "), "flicgated runs against the guest's libraries: " + out.strip())

# a second, unprivileged user in group flicgate, as an operator would be
rc, out = fgvm.run(["useradd", "--system", "--no-create-home", "--groups", "flicgate", "alice"])
check(rc == 0, "user alice, a member of group flicgate " + out.strip())
fgvm.install_config(CONFIG)

# before the daemon: nobody but root and flicgate may own the name
rc, out = fgvm.dbus_send("org.freedesktop.DBus", "/org/freedesktop/DBus",
                         "org.freedesktop.DBus.RequestName", "string:" + NAME, "uint32:4", user="nobody")
check(rc != 0 and "AccessDenied" in out, "the policy keeps user nobody from owning %s" % NAME)

d = fgvm.Flicgated(["-v"])
check(d.wait_ready(), "flicgated as user flicgate reaches READY=1 on the system bus")
uid = wait_for(lambda: fgvm.name_owner_uid(NAME), 10)
check(uid == fgvm.pwd.getpwnam("flicgate").pw_uid, "%s is owned by user flicgate (uid %s)" % (NAME, uid))

# the policy: anyone may look, only root and group flicgate may call
rc, out = fgvm.dbus_send(NAME, "/", "org.freedesktop.DBus.Introspectable.Introspect", user="nobody")
check("AccessDenied" not in out, "user nobody may introspect: " + out.strip().splitlines()[-1][:100])
rc, out = fgvm.dbus_send(NAME, "/", "org.freedesktop.DBus.Peer.Ping", user="nobody")
check(rc == 0, "user nobody may ping")
probe = NAME + ".Gateway1.NoSuchMethod"
rc, out = fgvm.dbus_send(NAME, "/io/github/flicgate1", probe, user="nobody")
check(rc != 0 and "AccessDenied" in out, "user nobody may not call methods: " + out.strip().splitlines()[-1])
for who in ("alice", "root"):
    rc, out = fgvm.dbus_send(NAME, "/io/github/flicgate1", probe, user=who if who != "root" else None)
    check(rc != 0 and "AccessDenied" not in out and "Unknown" in out,
          "%s's call reaches the daemon (%s)" % (who, out.strip().splitlines()[-1]))

# the daemon's own user could not take over a name that is not its own
rc, out = fgvm.dbus_send("org.freedesktop.DBus", "/org/freedesktop/DBus",
                         "org.freedesktop.DBus.RequestName", "string:org.bluez", "uint32:4", user="flicgate")
check(rc != 0 and "AccessDenied" in out, "user flicgate may not own org.bluez")

# a second instance is refused while the first holds the name
d2 = fgvm.Flicgated(name="second")
try:
    rc2 = d2.proc.wait(30)
except fgvm.subprocess.TimeoutExpired:
    rc2 = None
check(rc2 == 1 and "Cannot own " + NAME in d2.output(), "a second instance is refused (exit %s)" % rc2)

# reload on SIGHUP: RELOADING=1, then READY=1 again
ready_before = d.notify.count("READY=1")
d.send(signal.SIGHUP)
check(wait_for(lambda: d.notify.seen("RELOADING=1"), 20), "SIGHUP: RELOADING=1")
check(wait_for(lambda: d.notify.count("READY=1") > ready_before, 20), "SIGHUP: READY=1 after the reload")
check(d.wait_log("Configuration reloaded"), "SIGHUP: the configuration is reloaded")

log("stopping flicgated")
rc = d.stop()
check(rc == 0, "SIGTERM: flicgated exits 0 (got %s)" % rc)
check("STOPPING=1" in d.notify.messages, "SIGTERM: STOPPING=1 was sent")
check(wait_for(lambda: fgvm.name_owner_uid(NAME) is None, 10), "%s is released" % NAME)
fgvm.finish()
