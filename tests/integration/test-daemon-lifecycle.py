#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""flicgated's skeleton with real parts: --check-config, start-up on a private
bus with sd_notify READY, owning its bus name, SIGHUP reload that keeps the old
configuration when the new one is broken, the watchdog, clean SIGTERM, and a
second instance refused."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import (BUILD, Daemon, NotifySocket, PrivateBus, TempDir, check,
                    finish, wait_for)

GOOD = """[gateway]
name = lifecycle
state_dir = %(state)s
[webhook sink]
url = http://127.0.0.1:9/POSTAlert/SECRETKEY123/Flic
[button reception]
address = 80:E4:DA:70:12:34
"""

with TempDir() as tmp:
    state = os.path.join(tmp.path, "state")
    good = tmp.file("good.ini", GOOD % {"state": state})
    bad = tmp.file("bad.ini", "[gateway]\nname = x\nnmae = y\n[button b]\naddress = nope\n")

    # --check-config
    p = subprocess.run([os.path.join(BUILD, "flicgated"), "--check-config", "-c", good],
                       capture_output=True, text=True)
    check(p.returncode == 0, "--check-config accepts a good file")
    check("SECRETKEY123" not in p.stdout and "127.0.0.1:9/…(redacted)" in p.stdout,
          "--check-config masks the webhook key")
    check("[button reception]" in p.stdout, "--check-config prints the effective config")
    p = subprocess.run([os.path.join(BUILD, "flicgated"), "--check-config", "-c", bad],
                       capture_output=True, text=True)
    check(p.returncode == 1, "--check-config rejects a bad file with exit 1")
    check("bad.ini:3: gateway.nmae: unknown key (did you mean 'name'?)" in p.stderr,
          "errors carry file:line: section.key")
    check("bad.ini:5: button.address" in p.stderr and "bad.ini:4: [button b]: no [webhook]" in p.stderr
          and "3 errors" in p.stderr, "all errors are reported at once, the cross-checks too (%r)" % p.stderr)
    p = subprocess.run([os.path.join(BUILD, "flicgated"), "--check-config", "-c", tmp.path + "/none.ini"],
                       capture_output=True, text=True)
    check(p.returncode == 1 and "cannot read" in p.stderr, "a missing file is an error")

    bus = PrivateBus(tmp)
    notify = NotifySocket(tmp)
    try:
        env = {"WATCHDOG_USEC": "400000"}
        d = Daemon(tmp, bus, good, notify, env=env, extra_args=["-v"])
        # WATCHDOG_PID unset: sd_watchdog_enabled() accepts any process
        check(wait_for(lambda: notify.seen("READY=1")), "sends READY=1")
        check(wait_for(lambda: bus.name_owner("io.github.flicgate1")), "owns io.github.flicgate1")
        check(os.path.isdir(state) and (os.stat(state).st_mode & 0o777) == 0o700,
              "creates the state directory with mode 0700")
        check(wait_for(lambda: notify.count("WATCHDOG=1") >= 2, timeout=3), "pings the watchdog")

        # a broken file on SIGHUP: rejected, still running, old config kept
        os.rename(good, good + ".orig")
        os.link(bad, good)
        d.signal(signal.SIGHUP)
        check(d.wait_log("Configuration rejected, keeping the running one"), "SIGHUP with a broken file is rejected")
        check("good.ini:3: gateway.nmae" in d.output(), "the reload logs each error with file:line")
        check(d.proc.poll() is None, "the daemon keeps running after a rejected reload")
        check(wait_for(lambda: notify.seen("RELOADING=1")), "notifies RELOADING=1")

        # a good file on SIGHUP: swapped in
        os.unlink(good)
        os.rename(good + ".orig", good)
        with open(good, "a") as f:
            f.write("[button second]\nserial = BG30-C12345\n")
        d.signal(signal.SIGHUP)
        check(d.wait_log("Configuration reloaded from"), "SIGHUP with a good file reloads")

        # a second instance cannot take the name
        d2 = Daemon(tmp, bus, good, name="second")
        rc2 = d2.proc.wait(10)
        check(rc2 == 1 and "Cannot own io.github.flicgate1" in d2.output(), "a second instance is refused")
        d2.close()

        rc = d.stop()
        check(rc == 0, "SIGTERM stops it with exit 0 (got %s)" % rc)
        check(notify.seen("STOPPING=1"), "notifies STOPPING=1")
        check("Received Terminated, shutting down" in d.output(), "logs the shutdown")
        d.close()
    finally:
        notify.close()
        bus.close()

finish()
