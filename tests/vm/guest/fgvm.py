# SPDX-License-Identifier: MIT
"""Helpers for the checks that run inside the test guest.

The guest is a real machine as far as flicgate can tell: Debian's kernel,
the system bus, bluetoothd, gpio-sim chips. These helpers start and stop
those parts the way systemd and udev would on a gateway, keep every log in
the check's scratch directory ($FGVM_DIR) and print the logs' tails when a
check fails, so a red CI run explains itself from the console alone.

Assertions, waiting and the notify socket come from the integration
tests' fgtest.py (copied into the guest next to this file).
"""
import grp
import os
import pwd
import signal
import subprocess
import sys
import time

import fgtest
from fgtest import NotifySocket, check, wait_for  # noqa: F401 (re-exported)

DIR = os.environ.get("FGVM_DIR", "/tmp/fgvm/manual")
VERBOSE = os.environ.get("FGVM_VERBOSE") == "1"
RELEASE = open("/vmtest/release").read().strip()
os.makedirs(DIR, exist_ok=True)
os.chmod(DIR, 0o755)

T0 = time.monotonic()
_procs = []


def log(*args):
    print("[%6.2fs]" % (time.monotonic() - T0), *args, flush=True)


def write(path, text, mode=0o644, owner=None):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if owner:
        os.chown(path, pwd.getpwnam(owner[0]).pw_uid if owner[0] else -1,
                 grp.getgrnam(owner[1]).gr_gid if owner[1] else -1)
    return path


def read(path):
    with open(path) as f:
        return f.read().strip()


class Proc:
    """A background process whose stdout+stderr go to $FGVM_DIR/<name>.log."""

    def __init__(self, name, argv, user=None, groups=(), env=None):
        self.name = name
        self.log_path = os.path.join(DIR, name + ".log")
        self.log = open(self.log_path, "a")
        e = dict(os.environ)
        e.update(env or {})
        kw = {}
        if user:
            pw = pwd.getpwnam(user)
            # like systemd's User= + SupplementaryGroups=: never keep root's groups
            kw = dict(user=pw.pw_uid, group=pw.pw_gid,
                      extra_groups=[grp.getgrnam(g).gr_gid for g in groups])
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=e,
                                     stdin=subprocess.DEVNULL, **kw)
        _procs.append(self)

    @property
    def pid(self):
        return self.proc.pid

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, fragment, timeout=20.0):
        return wait_for(lambda: fragment in self.output(), timeout, 0.05)

    def running(self):
        return self.proc.poll() is None

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stops the process; returns its exit status (negative: killed by a signal)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log("%s did not stop within %ds: killing it" % (self.name, timeout))
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def run(argv, user=None, timeout=30, check_rc=False):
    """Runs a command to completion; returns (rc, stdout+stderr)."""
    kw = {}
    if user:
        pw = pwd.getpwnam(user)
        kw = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=os.getgrouplist(user, pw.pw_gid))
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    if check_rc and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), p.returncode, p.stdout))
    return p.returncode, p.stdout


def dbus_send(dest, path, member, *args, user=None, timeout=10):
    """dbus-send on the system bus, optionally as another user; returns (rc, output)."""
    return run(["dbus-send", "--system", "--print-reply", "--reply-timeout=%d" % (timeout * 1000),
                "--dest=" + dest, path, member] + list(args), user=user, timeout=timeout + 5)


def name_owner_uid(name):
    """Unix uid of the connection that owns @name on the system bus, or None."""
    rc, out = dbus_send("org.freedesktop.DBus", "/org/freedesktop/DBus",
                        "org.freedesktop.DBus.GetConnectionUnixUser", "string:" + name)
    if rc != 0:
        return None
    return int(out.split()[-1])


_sims = []


def _cleanup():
    """Stops what the check started and takes its GPIO chips down, so that
    nothing leaks into the next check, whatever way this one ends."""
    for p in _procs:
        p.stop()
    for sim in list(_sims):
        try:
            sim.close()
        except OSError as e:
            print("cannot take gpio-sim chip %s down: %s" % (sim.dir, e))


def _dump_logs():
    _cleanup()
    keep = 100000 if VERBOSE else 60
    for p in _procs:
        lines = p.output().splitlines()
        print("--- %s (%s), last %d of %d lines" % (p.name, p.log_path, min(keep, len(lines)), len(lines)))
        for line in lines[-keep:]:
            print("    " + line)


def _excepthook(kind, value, tb):
    """A check that dies of an exception still shows what its processes said."""
    import traceback
    traceback.print_exception(kind, value, tb)
    _dump_logs()
    print("%s: died of %s" % (os.path.basename(sys.argv[0]), kind.__name__), flush=True)
    os._exit(1)


sys.excepthook = _excepthook


def require(cond, what):
    """check() for a step the rest depends on: on failure end the check now."""
    if not check(cond, what):
        print("(the steps after this one depend on it: stopping here)", flush=True)
        finish()
    return cond


def finish():
    """Ends the check: on failure (or fgvm.verbose) prints each log's tail."""
    failed = fgtest._failures > 0
    _cleanup()
    if failed or VERBOSE:
        _dump_logs()
    fgtest.finish()


# --- the gateway daemon ---------------------------------------------------------

CONFIG_PATH = "/etc/flicgate/flicgate.ini"


def install_config(text):
    """/etc/flicgate/flicgate.ini as a package would install it: root:flicgate 0640."""
    os.makedirs(os.path.dirname(CONFIG_PATH), exist_ok=True)
    return write(CONFIG_PATH, text, 0o640, ("root", "flicgate"))


class Flicgated(Proc):
    """flicgated on the real system bus, as flicgated.service runs it: user
    flicgate, supplementary groups bluetooth and gpio, a notify socket."""

    def __init__(self, args=(), name="flicgated", env=None):
        self.notify = NotifySocket(_NotifyDir())
        os.chmod(self.notify.path, 0o666)
        e = {"NOTIFY_SOCKET": self.notify.path}
        e.update(env or {})
        super().__init__(name, ["/usr/sbin/flicgated", "-c", CONFIG_PATH] + list(args),
                         user="flicgate", groups=("bluetooth", "gpio"), env=e)

    def wait_ready(self, timeout=30):
        return wait_for(lambda: self.notify.seen("READY=1") or not self.running(), timeout, 0.05) \
            and self.running()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        rc = super().stop(sig, timeout)
        if self.notify.sock.fileno() >= 0:
            self.notify.drain()
            self.notify.close()
        return rc


class _NotifyDir:
    def __init__(self):
        self.path = os.path.join(DIR, "notify-%d" % len(_procs))
        os.makedirs(self.path, exist_ok=True)
        os.chmod(self.path, 0o755)


# --- Bluetooth: virtual controllers and the real bluetoothd ----------------

def controllers():
    try:
        return sorted(os.listdir("/sys/class/bluetooth"))
    except FileNotFoundError:
        return []


def btmgmt(*args):
    """btmgmt ARGS (the kernel's management interface, no bluetoothd needed); its output."""
    # btmgmt quits at the end of its input, before the answer arrives: give
    # it an input that stays open until it is done
    r, w = os.pipe()
    p = subprocess.Popen(["btmgmt"] + list(args), stdin=r, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    os.close(r)
    try:
        out, _ = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    finally:
        os.close(w)
    return out


def mgmt_indexes():
    """Controllers the kernel's management interface lists (set up, configured)."""
    out = btmgmt("info")
    return sorted(set(ln.split(":")[0] for ln in out.splitlines() if ln.startswith("hci")))


def reset_controller(index):
    """Between two bluetoothd: make controller @index stop advertising for
    good. When the old bluetoothd goes, the kernel re-enables the button's
    advertising after the link drops and then closes the controller
    without disabling it; the emulator keeps advertising, the kernel keeps
    its "advertising now" flag (and enables it again at the next
    power-on), and the emulator lets the other controller connect to a
    controller no host serves yet: a link nobody answers on
    (docs/testing.md, pitfalls). Drop the instances, power on (HCI Reset),
    switch advertising on and off so that the kernel disables it and clears
    its flag, power off."""
    i = str(index)
    return "".join(btmgmt("--index", i, *cmd) for cmd in (
        ("clr-adv",), ("power", "on"), ("advertising", "on"), ("advertising", "off"), ("power", "off")))


def start_btvirt(n=2, attempts=3):
    """n linked LE controllers from BlueZ's emulator over /dev/vhci.

    Waits until the management interface lists them, not just sysfs: a
    controller still in its set-up is left out of the index list that
    bluetoothd reads at start. Under TCG a controller sometimes never
    leaves its set-up; then the emulator is started again (logged)."""
    run(["modprobe", "-a", "hci_vhci"], check_rc=True)
    if not any(p.name == "btmon" for p in _procs):
        Proc("btmon", ["stdbuf", "-oL", "btmon", "-T"])	# every HCI packet, for the post-mortem
    for attempt in range(1, attempts + 1):
        before = len(mgmt_indexes())
        p = Proc("btvirt" if attempt == 1 else "btvirt-%d" % attempt, ["btvirt", "-L", "-l%d" % n])
        ok = wait_for(lambda: len(mgmt_indexes()) >= before + n, 20, 0.2)
        if ok:
            return p
        log("btvirt attempt %d: sysfs %s, btmgmt lists %s: starting it again"
            % (attempt, controllers(), mgmt_indexes()))
        p.stop()
        wait_for(lambda: len(mgmt_indexes()) <= before, 10, 0.2)
    return None


def bluetoothd_one_att_bearer(path="/etc/bluetooth/main.conf"):
    """[GATT] Channels = 1: no Enhanced ATT. Both ends of the lane's link
    are this bluetoothd, which offers EATT, so it would spread the
    gateway's write commands over several ATT bearers, and the button side
    handles each bearer's queue on its own: the writes reach the button out
    of order, and the Flic 2 protocol's signed packets carry a counter, so
    the button sees a bad MAC and ends the session. A real Flic 2 has no
    EATT: one bearer, order kept (docs/bluez.md, main.conf)."""
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        lines = []
    lines = [ln for ln in lines if not ln.strip().replace(" ", "").startswith("Channels=")]
    if "[GATT]" in (ln.strip() for ln in lines):
        i = [ln.strip() for ln in lines].index("[GATT]")
        lines.insert(i + 1, "Channels = 1")
    else:
        lines += ["[GATT]", "Channels = 1"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def start_bluetoothd(name="bluetoothd"):
    """The guest's own bluetoothd, debug logging on; waits until it owns org.bluez."""
    bluetoothd_one_att_bearer()
    p = Proc(name, ["/usr/libexec/bluetooth/bluetoothd", "--nodetach", "--debug"])
    ok = wait_for(lambda: name_owner_uid("org.bluez") is not None or not p.running(), 20, 0.05)
    return p if ok and p.running() else None


def bluez_adapters():
    """{path: Adapter1 properties} from bluetoothd's ObjectManager."""
    import dbus
    bus = dbus.SystemBus()
    om = dbus.Interface(bus.get_object("org.bluez", "/"), "org.freedesktop.DBus.ObjectManager")
    return {str(p): ifs["org.bluez.Adapter1"] for p, ifs in om.GetManagedObjects().items()
            if "org.bluez.Adapter1" in ifs}


# --- GPIO: a simulated chip through configfs -----------------------------------

def gpiod_tools_v2():
    """True if the guest's gpiod tools are libgpiod 2.x (trixie), whose
    command lines and output differ from 1.6's (bookworm)."""
    rc, out = run(["gpioset", "--version"])
    return out.split("\n")[0].split()[-1].lstrip("v").startswith("2.")


class GpioSim:
    """A gpio-sim chip with one bank, made live through configfs.

    @label is what gpiodetect shows (so a chip can stand in for the Pi's
    pinctrl-bcm2711); @names maps offsets to line names. The character
    device gets group gpio, mode 0660, as 60-flicgate-gpio.rules gives real
    chips on a gateway (no udev here)."""

    CONFIGFS = "/sys/kernel/config/gpio-sim"

    def __init__(self, name, label, num_lines, names=None):
        run(["modprobe", "gpio-sim"], check_rc=True)
        self.dir = os.path.join(self.CONFIGFS, name)
        bank = os.path.join(self.dir, "bank0")
        os.mkdir(self.dir)
        os.mkdir(bank)
        write(os.path.join(bank, "num_lines"), "%d\n" % num_lines)
        write(os.path.join(bank, "label"), label + "\n")
        for off, lname in (names or {}).items():
            d = os.path.join(bank, "line%d" % off)
            os.mkdir(d)
            write(os.path.join(d, "name"), lname + "\n")
        write(os.path.join(self.dir, "live"), "1\n")
        self.chip = read(os.path.join(bank, "chip_name"))
        self.dev = "/dev/" + self.chip
        self.sysfs = "/sys/devices/platform/%s/%s" % (read(os.path.join(self.dir, "dev_name")), self.chip)
        os.chown(self.dev, 0, grp.getgrnam("gpio").gr_gid)
        os.chmod(self.dev, 0o660)
        _sims.append(self)

    def info(self):
        """{offset: gpioinfo's line for it} (consumer, direction, flags)."""
        argv = ["gpioinfo", "-c", self.chip] if gpiod_tools_v2() else ["gpioinfo", self.chip]
        rc, out = run(argv)
        lines = {}
        for ln in out.splitlines():
            f = ln.split()
            if len(f) >= 2 and f[0] == "line":
                lines[int(f[1].rstrip(":"))] = ln.strip()
        return lines

    def value(self, off):
        """The level the consumer drives (or the pull, for an input)."""
        return int(read("%s/sim_gpio%d/value" % (self.sysfs, off)))

    def pull(self, off, up):
        """What the outside world does to the line: a button, a jumper."""
        write("%s/sim_gpio%d/pull" % (self.sysfs, off), "pull-up\n" if up else "pull-down\n")

    def sample(self, off, secs, interval=0.01):
        """[(t, value)] for every change of line @off seen during @secs."""
        out = []
        end = time.monotonic() + secs
        last = None
        while time.monotonic() < end:
            v = self.value(off)
            if v != last:
                out.append((time.monotonic(), v))
                last = v
            time.sleep(interval)
        return out

    def close(self):
        if self not in _sims:
            return
        _sims.remove(self)
        write(os.path.join(self.dir, "live"), "0\n")
        for d in sorted(os.listdir(os.path.join(self.dir, "bank0"))):
            if d.startswith("line"):
                os.rmdir(os.path.join(self.dir, "bank0", d))
        os.rmdir(os.path.join(self.dir, "bank0"))
        os.rmdir(self.dir)
