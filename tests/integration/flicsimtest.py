# SPDX-License-Identifier: MIT
"""Shared parts of the flicsim integration tests.

A private dbus-daemon with build/flicsim on it, python3-dbus proxies for
org.bluez and io.github.flicgate.Sim1, and a small Flic 2 *client* written
here in Python with python3-cryptography. That client is a third, separate
implementation of the protocol (the simulator is the button side, the
daemon is the other client): when it and the simulator agree on every MAC
and key, both read the public sources the same way.
"""
import hashlib
import hmac
import os
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import BUILD, PrivateBus, TempDir, check, finish, skip, wait_for  # noqa: E402,F401

try:
    import dbus
    import dbus.mainloop.glib
    from gi.repository import GLib
except ImportError as e:  # pragma: no cover - reported as a skip
    skip("python3-dbus / python3-gi missing (make deps installs them): %s" % e)
try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.exceptions import InvalidSignature
except ImportError as e:  # pragma: no cover
    skip("python3-cryptography missing (make deps installs it): %s" % e)

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)

TEST_KEY = bytes.fromhex("e99ea68ba047103fb3559a963780fd2d1bfa591b7d79a287f577b07bafef5197")
FLIC_SERVICE = "00420000-8f59-4420-870d-84f3b617e493"
FLIC_WRITE = "00420001-8f59-4420-870d-84f3b617e493"
FLIC_NOTIFY = "00420002-8f59-4420-870d-84f3b617e493"
SIM = "io.github.flicgate.Sim1"
SIM_PATH = "/io/github/flicgate/sim"
ADAPTER = "/org/bluez/hci0"


def dev_path(addr):
    return ADAPTER + "/dev_" + addr.replace(":", "_")


def pump(seconds=0.0):
    """Runs the GLib loop for a while so that signals get delivered."""
    ctx = GLib.MainContext.default()
    end = time.monotonic() + seconds
    while True:
        while ctx.pending():
            ctx.iteration(False)
        if time.monotonic() >= end:
            return
        time.sleep(0.005)


def wait_pump(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pump()
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    pump()
    return pred()


class Sim:
    """dbus-daemon + flicsim. Use as a context manager."""

    def __init__(self, args=(), tmp=None):
        exe = os.path.join(BUILD, "flicsim")
        if not os.access(exe, os.X_OK):
            raise RuntimeError("build/flicsim is missing; run make first")
        self.own_tmp = tmp is None
        self.tmp = tmp or TempDir(prefix="flicsim-")
        self.bus_daemon = PrivateBus(self.tmp)
        self.log_path = os.path.join(self.tmp.path, "flicsim.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([exe, "--address", self.bus_daemon.address, "-v"] + list(args),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.bus = dbus.bus.BusConnection(self.bus_daemon.address)
        if not wait_for(lambda: self.bus.name_has_owner(SIM), 10):
            raise RuntimeError("flicsim did not start:\n" + self.output())
        self.ctl = dbus.Interface(self.bus.get_object(SIM, SIM_PATH), SIM)
        self.events = []
        self.bus.add_signal_receiver(self._on_event, "ButtonEventSent", SIM, path=SIM_PATH)

    def _on_event(self, addr, counter, event, queued, ticks, ev_usec, sent_usec):
        self.events.append((str(addr), int(counter), str(event), bool(queued), int(ticks),
                            int(ev_usec), int(sent_usec)))

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def add(self, addr, name="Flic 2", serial="", **opts):
        o = {}
        for k, v in opts.items():
            if isinstance(v, bool):
                o[k] = dbus.Boolean(v)
            elif isinstance(v, int):
                o[k] = dbus.UInt32(v) if v >= 0 else dbus.Int16(v)
            else:
                o[k] = dbus.String(v)
        self.ctl.AddButton(name, addr, serial, dbus.Dictionary(o, signature="sv"))

    def state(self, addr):
        return {str(k): v for k, v in self.ctl.GetButton(addr).items()}

    def obj(self, path, iface):
        return dbus.Interface(self.bus.get_object("org.bluez", path), iface)

    def props(self, path, iface):
        return self.obj(path, "org.freedesktop.DBus.Properties").GetAll(iface)

    def prop(self, path, iface, name):
        return self.obj(path, "org.freedesktop.DBus.Properties").Get(iface, name)

    def managed(self):
        return self.obj("/", "org.freedesktop.DBus.ObjectManager").GetManagedObjects()

    def close(self):
        try:
            self.bus.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # A clean exit also means no leak reports under SAN=1.
        if not check(self.proc.returncode == 0, "flicsim exits cleanly (rc %s)" % self.proc.returncode):
            sys.stdout.write(self.output()[-4000:])
        self.bus_daemon.close()
        if self.own_tmp:
            self.tmp.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        if a[0] is not None:
            sys.stdout.write("---- flicsim log (tail) ----\n" + self.output()[-6000:])
        self.close()


def dbus_error(fn, *args, **kw):
    """Calls @fn; returns the D-Bus error name or None."""
    try:
        fn(*args, **kw)
    except dbus.exceptions.DBusException as e:
        return e.get_dbus_name()
    return None


# --- the small independent Flic 2 client -------------------------------------------

M32 = 0xffffffff


def _rotl(x, n):
    return ((x << n) | (x >> (32 - n))) & M32


def chaskey_permute(v):
    v = list(v)
    for _ in range(16):
        v[0] = (v[0] + v[1]) & M32
        v[1] = _rotl(v[1], 5) ^ v[0]
        v[0] = _rotl(v[0], 16)
        v[2] = (v[2] + v[3]) & M32
        v[3] = _rotl(v[3], 8) ^ v[2]
        v[0] = (v[0] + v[3]) & M32
        v[3] = _rotl(v[3], 13) ^ v[0]
        v[2] = (v[2] + v[1]) & M32
        v[1] = _rotl(v[1], 7) ^ v[2]
        v[2] = _rotl(v[2], 16)
    return v


def _times2(k):
    n = int.from_bytes(b"".join(struct.pack("<I", w) for w in k), "little")
    n = ((n << 1) ^ (0x87 if n >> 127 else 0)) & ((1 << 128) - 1)
    return list(struct.unpack("<4I", n.to_bytes(16, "little")))


class Chaskey:
    def __init__(self, key):
        self.k = list(struct.unpack("<4I", key))
        self.k1 = _times2(self.k)
        self.k2 = _times2(self.k1)

    def block16(self, data):
        d = struct.unpack("<4I", data)
        v = chaskey_permute([self.k[i] ^ self.k1[i] ^ d[i] for i in range(4)])
        return struct.pack("<4I", *[v[i] ^ self.k1[i] for i in range(4)])

    def mac(self, direction, counter, data):
        v = [self.k[0] ^ (counter & M32), self.k[1] ^ (counter >> 32), self.k[2] ^ direction, self.k[3]]
        v = chaskey_permute(v)
        while len(data) > 16:
            d = struct.unpack("<4I", data[:16])
            v = chaskey_permute([v[i] ^ d[i] for i in range(4)])
            data = data[16:]
        if len(data) == 16:
            last, fin = data, self.k1
        else:
            last, fin = data + b"\x01" + bytes(15 - len(data)), self.k2
        d = struct.unpack("<4I", last)
        v = chaskey_permute([v[i] ^ d[i] ^ fin[i] for i in range(4)])
        return struct.pack("<I", v[0] ^ fin[0]) + bytes([(v[1] ^ fin[1]) & 0xff])


class ProtocolError(Exception):
    pass


def decode_events(payload):
    """ButtonEventNotification body after the opcode -> (counter, [(ticks, enc, queued, last)])."""
    counter = struct.unpack("<I", payload[:4])[0]
    items = []
    body = payload[4:]
    for i in range(0, len(body) - len(body) % 7, 7):
        ticks = int.from_bytes(body[i:i + 6], "little")
        b = body[i + 6]
        items.append((ticks, b & 0x0f, bool(b & 0x10), bool(b & 0x20)))
    return counter, items


def find_variant(trusted_key, sig, msg):
    """The two hidden low bits of S: the value that makes the signature verify."""
    key = Ed25519PublicKey.from_public_bytes(trusted_key)
    for v in range(4):
        s = bytearray(sig)
        s[32] = (s[32] & 0xfc) | v
        try:
            key.verify(bytes(s), msg)
            return v
        except InvalidSignature:
            pass
    return None


class FlicClient:
    """Client side over an AcquireWrite/AcquireNotify pair (or WriteValue)."""

    def __init__(self, sim, addr, use_fds=True):
        self.sim = sim
        self.addr = addr
        self.path = dev_path(addr)
        self.wfd = self.nfd = None
        self.conn_id = 0
        self.keys = None
        self.tx = self.rx = 0
        self.rxbuf = b""
        self.use_fds = use_fds
        self.mtu = 23
        self.values = []          # PropertiesChanged Value path
        self.sig = None

    # link ------------------------------------------------------------------
    def connect(self, timeout=30, bluez_connect=True):
        """Device1.Connect (unless already done) and the two GATT paths."""
        if bluez_connect:
            self.sim.obj(self.path, "org.bluez.Device1").Connect(timeout=timeout)
        svc = self.path + "/service000c"
        self.wchar = self.sim.obj(svc + "/char000d", "org.bluez.GattCharacteristic1")
        self.nchar = self.sim.obj(svc + "/char000f", "org.bluez.GattCharacteristic1")
        if self.use_fds:
            fd, mtu = self.wchar.AcquireWrite(dbus.Dictionary({}, signature="sv"))
            self.wfd = socket.socket(fileno=fd.take())
            fd, mtu2 = self.nchar.AcquireNotify(dbus.Dictionary({}, signature="sv"))
            self.nfd = socket.socket(fileno=fd.take())
            self.mtu = int(mtu)
        else:
            self.mtu = int(self.sim.prop(svc + "/char000d", "org.bluez.GattCharacteristic1", "MTU"))
            self.sig = self.sim.bus.add_signal_receiver(
                self._on_props, "PropertiesChanged", "org.freedesktop.DBus.Properties",
                path=svc + "/char000f")
            self.nchar.StartNotify()

    def _on_props(self, iface, changed, invalidated):
        if "Value" in changed:
            self.values.append(bytes(changed["Value"]))

    def disconnect(self):
        for s in (self.wfd, self.nfd):
            if s:
                s.close()
        self.wfd = self.nfd = None
        if self.sig:
            self.sig.remove()
            self.sig = None
        try:
            self.sim.obj(self.path, "org.bluez.Device1").Disconnect()
        except dbus.exceptions.DBusException:
            pass
        self.keys = None
        self.conn_id = 0

    # framing ------------------------------------------------------------------
    def write_att(self, att):
        if self.use_fds:
            self.wfd.send(att)
        else:
            self.wchar.WriteValue(dbus.ByteArray(att), dbus.Dictionary({"type": "command"}, signature="sv"))

    def send(self, packet, signed=False, conn_id=None):
        if signed:
            packet = packet + self.keys.mac(1, self.tx, packet)
            self.tx += 1
        cid = self.conn_id if conn_id is None else conn_id
        while True:
            if len(packet) + 1 > self.mtu - 3:
                chunk, more = packet[:self.mtu - 4], 0x80
            else:
                chunk, more = packet, 0
            self.write_att(bytes([cid | more]) + chunk)
            packet = packet[len(chunk):]
            if not more:
                return

    def recv_att(self, timeout):
        if self.use_fds:
            r, _, _ = select.select([self.nfd], [], [], timeout)
            if not r:
                return None
            return self.nfd.recv(1024)
        end = time.monotonic() + timeout
        while not self.values and time.monotonic() < end:
            pump(0.005)
        return self.values.pop(0) if self.values else None

    def recv(self, timeout=5.0):
        """One reassembled packet: (header, bytes from opcode on)."""
        end = time.monotonic() + timeout
        buf = b""
        while True:
            att = self.recv_att(max(0.0, end - time.monotonic()))
            if att is None:
                return None, None
            buf += att[1:]
            if not att[0] & 0x80:
                return att[0], buf

    def recv_signed(self, timeout=5.0, check_mac=True):
        hdr, p = self.recv(timeout)
        if p is None:
            return None
        body, mac = p[:-5], p[-5:]
        good = self.keys.mac(0, self.rx, body)
        self.rx += 1
        if check_mac and good != mac:
            raise ProtocolError("bad MAC on opcode %d" % body[0])
        return body

    # handshakes -----------------------------------------------------------------
    def full_verify(self, trusted_key=TEST_KEY, flags=0x00):
        """Returns (pairing_id, pairing_key, info dict). Raises ProtocolError."""
        tmp_id = int.from_bytes(os.urandom(4), "little")
        self.send(bytes([0]) + struct.pack("<I", tmp_id), conn_id=0)
        hdr, r1 = self.recv()
        if r1 is None or r1[0] != 0:
            raise ProtocolError("no FullVerifyResponse1: %r" % (r1,))
        if struct.unpack("<I", r1[1:5])[0] != tmp_id:
            raise ProtocolError("tmp_id mismatch")
        if not hdr & 0x20:
            raise ProtocolError("connection id not newly assigned")
        self.conn_id = hdr & 0x1f
        sig, addr, atype, pub, brand, rflags = r1[5:69], r1[69:75], r1[75], r1[76:108], r1[108:116], r1[116]
        if addr[::-1].hex(":").upper() != self.addr:
            raise ProtocolError("address in the certificate is %s" % addr[::-1].hex(":"))
        variant = find_variant(trusted_key, sig, addr + bytes([atype]) + pub)
        if variant is None:
            raise ProtocolError("not genuine: the certificate does not verify")
        priv = X25519PrivateKey.generate()
        shared = priv.exchange(X25519PublicKey.from_public_bytes(pub))
        crand = os.urandom(8)
        fvs = hashlib.sha256(shared + bytes([variant]) + brand + crand + bytes([flags])).digest()

        def label(lbl):
            return hmac.new(fvs, lbl, hashlib.sha256).digest()
        mypub = priv.public_key().public_bytes_raw() if hasattr(priv.public_key(), "public_bytes_raw") \
            else priv.public_key().public_bytes(encoding=_enc.Raw, format=_fmt.Raw)
        self.send(bytes([2]) + mypub + crand + bytes([flags]) + label(b"AT")[:16])
        self.keys = Chaskey(label(b"SK")[:16])
        self.tx = self.rx = 0
        hdr, r2 = self.recv()
        if r2 is None:
            raise ProtocolError("no answer to FullVerifyRequest2")
        if r2[0] == 3:
            raise ProtocolError("FullVerifyFail reason %d" % r2[1])
        body, mac = r2[:-5], r2[-5:]
        if self.keys.mac(0, self.rx, body) != mac:
            raise ProtocolError("FullVerifyResponse2 MAC does not verify")
        self.rx += 1
        pk = label(b"PK")
        nl = body[18]
        info = {
            "uuid": body[2:18].hex(),
            "name": body[19:19 + nl].decode(),
            "firmware": struct.unpack("<I", body[42:46])[0],
            "battery_mv": (struct.unpack("<H", body[46:48])[0] * 3600 + 512) // 1024,
            "serial": body[48:59].rstrip(b"\0").decode(),
            "variant": variant,
            "public_mode_flag": bool(rflags & 2),
        }
        return struct.unpack("<I", pk[:4])[0], pk[4:20], info

    def quick_verify(self, pairing_id, pairing_key, flags=0x00):
        """True on success, False on a negative response."""
        tmp_id = int.from_bytes(os.urandom(4), "little")
        crand = os.urandom(7)
        self.send(bytes([5]) + crand + bytes([flags]) + struct.pack("<II", tmp_id, pairing_id), conn_id=0)
        hdr, r = self.recv()
        if r is None:
            raise ProtocolError("no answer to QuickVerifyRequest")
        if r[0] == 6:
            if struct.unpack("<I", r[1:5])[0] != tmp_id:
                raise ProtocolError("negative response for another tmp_id")
            return False
        if r[0] != 8 or struct.unpack("<I", r[9:13])[0] != tmp_id:
            raise ProtocolError("unexpected quick verify answer %r" % r)
        self.conn_id = hdr & 0x1f
        sk = Chaskey(pairing_key).block16(crand + bytes([flags]) + r[1:9])
        self.keys = Chaskey(sk)
        self.tx = self.rx = 0
        body, mac = r[:-5], r[-5:]
        if self.keys.mac(0, self.rx, body) != mac:
            raise ProtocolError("QuickVerifyResponse MAC does not verify")
        self.rx += 1
        return True

    def init_events(self, event_count=0, boot_id=0, auto_disconnect=511, max_packets=31, max_age=0xfffff):
        bits = auto_disconnect | max_packets << 9 | max_age << 14
        self.send(bytes([23]) + struct.pack("<II", event_count, boot_id) + bits.to_bytes(5, "little"),
                  signed=True)
        r = self.recv_signed()
        if r is None or r[0] not in (10, 11):
            raise ProtocolError("no InitButtonEventsResponse: %r" % (r,))
        v = int.from_bytes(r[1:7], "little")
        out = {"has_queued": bool(v & 1), "timestamp": v >> 1,
               "event_count": struct.unpack("<I", r[7:11])[0],
               "boot_id": struct.unpack("<I", r[11:15])[0] if r[0] == 10 else boot_id,
               "boot_changed": r[0] == 10}
        return out

    def ack(self, count):
        self.send(bytes([16]) + struct.pack("<I", count), signed=True)

    def request(self, opcode, payload=b"", want=None, timeout=5.0):
        self.send(bytes([opcode]) + payload, signed=True)
        while True:
            r = self.recv_signed(timeout)
            if r is None or want is None or r[0] == want:
                return r

    def read_events(self, n_items, timeout=5.0):
        """ButtonEventNotifications until @n_items items arrived: [(counter, items)]."""
        got, total = [], 0
        end = time.monotonic() + timeout
        while total < n_items:
            r = self.recv_signed(max(0.0, end - time.monotonic()))
            if r is None:
                break
            if r[0] != 12:
                continue
            counter, items = decode_events(r[1:])
            got.append((counter, items))
            total += len(items)
        return got


try:  # cryptography < 40 has no public_bytes_raw()
    from cryptography.hazmat.primitives.serialization import Encoding as _enc, PublicFormat as _fmt
except ImportError:  # pragma: no cover
    pass
