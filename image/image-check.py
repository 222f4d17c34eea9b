#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make image-check: boot the built SD-card image under qemu-system-aarch64
-M virt (kernel and initrd taken from the image's boot partition) with a
test flicgate.ini on the FAT partition, log in on the serial console as
"admin" with the password whose hash the test file carries, and check:
first boot applied [system] and scrubbed the secrets, the root partition
grew, flicgated reached READY (saying that Bluetooth is unavailable, which is
right on a virtual machine), flicgatectl status answers, the unit's
systemd-analyze security exposure is at most 2.0. Then power off, change
the host name in the file on the FAT partition, boot again and check that
the change was applied and the Wi-Fi key kept.

An image with a third partition is the read-only variant (make image
READONLY=1): it is also checked that / is a tmpfs overlay over a read-only
root, that the data partition (not the root) grew and holds the state
directories, that the journal is in RAM, and on the second boot that a
file written to /etc on the first boot is gone while the password, the
Wi-Fi key and the SSH host key came back from the data partition.

    image/image-check.py IMAGE.img [--keep DIR]

Times are measured with TCG (no KVM on an x86 host): a real Pi boots in a
fraction of it. The network card is restricted to the guest (no traffic
leaves this machine)."""
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

PASSWORD = "image-check-pw"
SSH_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
           " image-check@host")
MiB = 1 << 20
FAT_OFFSET = 4 * MiB

passed = 0
failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - %s" % what, flush=True)
    else:
        failed += 1
        print("not ok - %s%s" % (what, (": " + detail) if detail else ""), flush=True)


def password_hash():
    out = subprocess.run(["openssl", "passwd", "-6", "-salt", "imagecheckSALT", PASSWORD],
                         check=True, capture_output=True, text=True).stdout.strip()
    return out


def test_ini(hostname, with_secrets):
    s = ["[system]",
         "hostname = %s" % hostname,
         "timezone = Europe/Stockholm",
         "wifi_country = se",
         "wifi_ssid = CheckNet"]
    if with_secrets:
        s += ["wifi_passphrase = check passphrase 123",
              "admin_password_hash = %s" % password_hash()]
    s += ["ssh_authorized_key = %s" % SSH_KEY,
          "",
          "[gateway]",
          "name = image-check",
          "",
          "[webhook sink]",
          "url = http://127.0.0.1:9/POSTAlert/IMAGECHECKSECRET/Flic",
          "",
          "[button reception]",
          "address = 80:E4:DA:70:12:34",
          ""]
    return "\n".join(s)


def mtools(*args, **kw):
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    return subprocess.run(list(args), check=True, env=env, **kw)


class Console:
    """The guest's serial console on qemu's stdio."""

    def __init__(self, cmd, log):
        self.log = open(log, "ab")
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""

    def expect(self, pattern, timeout):
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                before = self.buf[:m.end()]
                self.buf = self.buf[m.end():]
                return before.decode(errors="replace")
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %r within %ds" % (pattern, timeout))
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 1.0))
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    raise EOFError("qemu exited")
                self.log.write(chunk)
                self.log.flush()
                self.buf += chunk

    def send(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def run(self, cmd, timeout=120):
        """Run one shell command, return (status, output)."""
        tag = "FGX%d" % int(time.monotonic() * 1000)
        self.send("echo %s-BEGIN; %s; echo %s-$?-END\n" % (tag, cmd, tag))
        out = self.expect(r"\n%s-(\d+)-END" % tag, timeout).replace("\r", "")
        status = int(re.search(r"%s-(\d+)-END" % tag, out).group(1))
        m = re.search(r"%s-BEGIN\n" % tag, out)
        body = out[m.end():] if m else out
        body = body[:body.rfind("%s-" % tag)]
        return status, body.strip()

    def wait_exit(self, timeout):
        end = time.monotonic() + timeout
        while self.p.poll() is None and time.monotonic() < end:
            try:
                self.expect(r"\x00NEVER", 1)
            except (TimeoutError, EOFError):
                pass
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
            return False
        return True


def boot(img, kernel, initrd, log, smp):
    cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", str(smp),
           "-m", "1024", "-nographic", "-no-reboot",
           "-kernel", kernel, "-initrd", initrd,
           "-append", "root=LABEL=RASPIROOT rootwait console=ttyAMA0,115200 panic=10",
           "-drive", "if=none,format=raw,file=%s,id=d0" % img,
           "-device", "virtio-blk-pci,drive=d0",
           "-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0",
           "-device", "virtio-rng-pci"]
    return Console(cmd, log)


def login(c, timeout):
    c.expect(r"login: ", timeout)
    c.send("admin\n")
    c.expect(r"Password: ", 60)
    c.send(PASSWORD + "\n")
    c.expect(r"\$ ", 120)
    c.send("export PS1='$ ' TERM=dumb; stty -echo cols 200\n")
    c.expect(r"\$ ", 30)
    # Kernel messages on this console (sudo's audit records, printed by
    # the kernel while no audit daemon runs) would land inside the output
    # of the commands below: keep only emergencies on the console.
    c.run("sudo dmesg -n 1", 60)


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    src = args[0]
    keep = args[args.index("--keep") + 1] if "--keep" in args else None
    for tool in ("qemu-system-aarch64", "mcopy", "openssl"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed (apt-get install qemu-system-arm mtools openssl)" % tool)
            return 77
    table = subprocess.run(["sfdisk", "--dump", src], check=True, capture_output=True,
                           text=True).stdout
    readonly = len(re.findall(r"^\S+ : start=", table, re.M)) == 3
    print("# %s image" % ("read-only (overlayroot)" if readonly else "read-write"))
    tmp = keep or tempfile.mkdtemp(prefix="image-check.")
    os.makedirs(tmp, exist_ok=True)
    img = os.path.join(tmp, "test.img")
    log = os.path.join(tmp, "console.log")
    if os.path.exists(log):
        os.unlink(log)
    smp = min(os.cpu_count() or 1, 2)
    t_start = time.monotonic()
    subprocess.run(["cp", "--sparse=always", src, img], check=True)
    orig_size = os.path.getsize(img)
    # A "bigger card": first boot must grow the last partition into it.
    with open(img, "r+b") as f:
        f.truncate(orig_size + 512 * MiB)
    fat = "%s@@%d" % (img, FAT_OFFSET)
    with open(os.path.join(tmp, "flicgate.ini"), "w") as f:
        f.write(test_ini("flicgate-check", True))
    mtools("mcopy", "-o", "-i", fat, os.path.join(tmp, "flicgate.ini"), "::/flicgate.ini")
    listing = mtools("mdir", "-b", "-i", fat, "::/", capture_output=True, text=True).stdout
    names = [os.path.basename(l.strip()) for l in listing.splitlines()]
    vmlinuz = sorted(n for n in names if n.startswith("vmlinuz"))
    initrd = sorted(n for n in names if n.startswith("initrd.img"))
    check("boot partition has a kernel and an initrd", vmlinuz and initrd, " ".join(names))
    if not (vmlinuz and initrd):
        return 1
    kernel = os.path.join(tmp, "vmlinuz")
    initrd_p = os.path.join(tmp, "initrd.img")
    mtools("mcopy", "-o", "-i", fat, "::/" + vmlinuz[-1], kernel)
    mtools("mcopy", "-o", "-i", fat, "::/" + initrd[-1], initrd_p)

    # --- first boot ---
    t0 = time.monotonic()
    c = boot(img, kernel, initrd_p, log, smp)
    try:
        login(c, 1200)
        t_login = time.monotonic() - t0
        check("first boot: admin logs in with the password from [system]", True)
        st, out = c.run("systemctl is-system-running --wait", 600)
        print("# system state: %s" % out)
        st, failed_units = c.run("systemctl --failed --no-legend --plain")
        print("# failed units: %s" % (failed_units or "none"))
        check("system running, no failed unit", out == "running" and not failed_units,
              failed_units)
        st, out = c.run("systemctl is-active flicgated")
        check("flicgated is active (READY received)", out == "active", out)
        st, out = c.run("systemctl show -p StatusText --value flicgated")
        # A virtual machine has no Bluetooth controller, so bluetooth.service
        # does not even start (ConditionPathIsDirectory=/sys/class/bluetooth):
        # the daemon runs and says why no press can arrive.
        check("flicgated reports Bluetooth unavailable (no adapter in a VM)",
              re.search(r"Bluetooth (no-bluetoothd|no-adapter)\b|no Bluetooth adapter", out)
              is not None, out)
        st, ready = c.run("systemctl show -p ActiveEnterTimestampMonotonic --value flicgated")
        st, kstart = c.run("cat /proc/uptime")
        st, out = c.run("command -v flicgatectl && flicgatectl status")
        if st == 0:
            check("flicgatectl status answers", True)
            print("# " + out.replace("\n", "\n# "))
        else:
            st, out = c.run("busctl call io.github.flicgate1 /io/github/flicgate1/gateway "
                            "org.freedesktop.DBus.Peer Ping")
            check("flicgated answers on the bus (no flicgatectl in this build)", st == 0, out)
        st, out = c.run("hostname")
        check("hostname applied", out == "flicgate-check", out)
        st, out = c.run("readlink /etc/localtime")
        check("time zone applied", out.endswith("Europe/Stockholm"), out)
        st, out = c.run("sudo grep -E '^(country|[[:space:]]*psk)=' /var/lib/flicgate-system/wpa_supplicant-wlan0.conf")
        check("Wi-Fi network written with country and derived key",
              "country=SE" in out and re.search(r"psk=[0-9a-f]{64}", out) is not None, out)
        st, out = c.run("cat ~/.ssh/authorized_keys")
        check("SSH key applied", out == SSH_KEY, out)
        st, out = c.run("sudo grep -cE '^(wifi_passphrase|admin_password_hash)' /boot/firmware/flicgate.ini")
        check("secrets scrubbed from the FAT copy", out == "0", out)
        st, out = c.run("sudo ls /var/lib/flicgate-system/ssh/")
        check("SSH host keys generated", "ssh_host_ed25519_key.pub" in out, out)
        st, out = c.run("systemctl is-active ssh")
        check("sshd runs", out == "active", out)
        st, out = c.run("sudo journalctl -b -u flicgate-growfs --no-pager -o cat | grep grew")
        check("root partition grown on first boot", "grew" in out, out)
        st, hostkey1 = c.run("sudo ssh-keygen -lf /var/lib/flicgate-system/ssh/ssh_host_ed25519_key.pub")
        if readonly:
            st, out = c.run("findmnt -no FSTYPE /")
            check("read-only: / is an overlay", out == "overlay", out)
            if out != "overlay":
                st, log = c.run("cat /run/initramfs/overlayroot.log")
                print("# overlayroot.log:\n# " + log.replace("\n", "\n# "))
            st, out = c.run("findmnt -no OPTIONS /media/root-ro")
            check("read-only: the root partition under it is mounted ro",
                  out.split(",")[0] == "ro", out)
            st, out = c.run("findmnt -no SOURCE /var/lib/flicgate; "
                            "findmnt -no SOURCE /var/lib/flicgate-system")
            check("read-only: both state directories are on the data partition",
                  out.count("vda3") == 2, out)
            st, out = c.run("df -m --output=size /srv/flicgate-data | tail -1")
            check("read-only: the data partition grew (at least the card's extra 512 MiB)",
                  out.isdigit() and int(out) >= 500, out)
            st, out = c.run("sudo journalctl --header -n 0 | grep -m1 'File path'")
            check("read-only: the journal is in RAM", "/run/log/journal" in out, out)
            st, out = c.run("sudo touch /etc/image-check-volatile")
            check("read-only: / accepts writes (into RAM)", st == 0, out)
        st, out = c.run("findmnt -no OPTIONS /boot/firmware")
        check("boot partition mounted by label with the flicgate group", "gid=" in out, out)
        st, out = c.run("sudo systemd-analyze security flicgated.service --no-pager | tail -1")
        m = re.search(r"exposure level for flicgated.service: ([0-9.]+)", out)
        check("systemd-analyze security exposure <= 2.0", m is not None and float(m.group(1)) <= 2.0, out)
        exposure = m.group(1) if m else "?"
        st, out = c.run("systemd-analyze time")
        print("# " + out.replace("\n", "\n# "))
        st, df = c.run("df -m / /boot/firmware | tail -2")
        print("# " + df.replace("\n", "\n# "))
        c.send("sudo poweroff\n")
        c.wait_exit(300)
    except (TimeoutError, EOFError) as e:
        check("first boot", False, str(e))
        c.p.kill()
        print("# console log: %s" % log)
        return 1

    ready_s = int(ready) / 1e6 if ready.isdigit() else -1
    print("# first boot: login prompt after %.0fs (TCG, %d vCPU); flicgated READY %.1fs after the kernel started"
          % (t_login, smp, ready_s))

    # --- second boot with a changed [system] ---
    with open(os.path.join(tmp, "flicgate.ini"), "w") as f:
        f.write(test_ini("flicgate-check2", False))
    mtools("mcopy", "-o", "-i", fat, os.path.join(tmp, "flicgate.ini"), "::/flicgate.ini")
    t1 = time.monotonic()
    c = boot(img, kernel, initrd_p, log, smp)
    try:
        login(c, 1200)
        t_login2 = time.monotonic() - t1
        check("second boot: the password still works", True)
        st, state = c.run("systemctl is-system-running --wait", 600)
        st, failed_units = c.run("systemctl --failed --no-legend --plain")
        check("second boot: system running, no failed unit",
              state == "running" and not failed_units, "%s %s" % (state, failed_units))
        st, out = c.run("hostname")
        check("changed hostname applied on a later boot", out == "flicgate-check2", out)
        st, out = c.run("sudo grep -cE '^[[:space:]]*psk=[0-9a-f]{64}' /var/lib/flicgate-system/wpa_supplicant-wlan0.conf")
        check("Wi-Fi key kept when the passphrase is gone from the file", out == "1", out)
        st, out = c.run("systemctl is-active flicgated")
        check("flicgated active on the second boot", out == "active", out)
        st, hostkey2 = c.run("sudo ssh-keygen -lf /var/lib/flicgate-system/ssh/ssh_host_ed25519_key.pub")
        check("SSH host key unchanged on the second boot", hostkey1 and hostkey2 == hostkey1,
              "%s / %s" % (hostkey1, hostkey2))
        if readonly:
            st, out = c.run("test -e /etc/image-check-volatile")
            check("read-only: the file written to /etc on the first boot is gone", st == 1)
            st, out = c.run("readlink /etc/localtime")
            check("read-only: time zone applied again to the reset root",
                  out.endswith("Europe/Stockholm"), out)
        st, ready2 = c.run("systemctl show -p ActiveEnterTimestampMonotonic --value flicgated")
        c.send("sudo poweroff\n")
        c.wait_exit(300)
    except (TimeoutError, EOFError) as e:
        check("second boot", False, str(e))
        c.p.kill()
        print("# console log: %s" % log)
        return 1
    ready2_s = int(ready2) / 1e6 if ready2.isdigit() else -1
    print("# second boot: login prompt after %.0fs; flicgated READY %.1fs after the kernel started"
          % (t_login2, ready2_s))
    print("# image %d MiB; systemd-analyze security exposure %s; whole check %.0fs"
          % (orig_size // MiB, exposure, time.monotonic() - t_start))
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
