#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""
Generate tests/test-flic2-transcript.h: byte-exact Flic 2 transcripts
(pairing, reconnect, re-pair needed) computed by a second, independent
implementation of both sides of the protocol.

Independence from daemon/core: this script is written in another language,
uses another crypto library (python3-cryptography for X25519/Ed25519,
hashlib/hmac for SHA-256/HMAC), implements Chaskey from the paper's round
function, and computes the packet MAC through the textbook construction over
counter||dir||0||data instead of the engine's direct state initialisation.
The C test replays the transcripts through the engine and compares every
byte it writes and every action it emits.

Run: /usr/bin/python3 tests/flic2-vectors.py > tests/test-flic2-transcript.h
The randomness is fixed, so the output is stable.
"""

import hashlib
import hmac
import struct
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

MASK = 0xFFFFFFFF


# --- Chaskey (Mouha et al.), textbook form -----------------------------------

def rotl(x, b):
    return ((x << b) | (x >> (32 - b))) & MASK


def permute(v, rounds=16):
    v0, v1, v2, v3 = v
    for _ in range(rounds):
        v0 = (v0 + v1) & MASK
        v1 = rotl(v1, 5) ^ v0
        v0 = rotl(v0, 16)
        v2 = (v2 + v3) & MASK
        v3 = rotl(v3, 8) ^ v2
        v0 = (v0 + v3) & MASK
        v3 = rotl(v3, 13) ^ v0
        v2 = (v2 + v1) & MASK
        v1 = rotl(v1, 7) ^ v2
        v2 = rotl(v2, 16)
    return [v0, v1, v2, v3]


def times2(k):
    n = int.from_bytes(b"".join(struct.pack("<I", w) for w in k), "little")
    n <<= 1
    if n >> 128:
        n = (n ^ 0x87) & ((1 << 128) - 1)
    return list(struct.unpack("<4I", n.to_bytes(16, "little")))


def chaskey(key, msg, rounds=16):
    k = list(struct.unpack("<4I", key))
    k1 = times2(k)
    k2 = times2(k1)
    blocks = [msg[i:i + 16] for i in range(0, len(msg), 16)] or [b""]
    v = list(k)
    for b in blocks[:-1]:
        v = permute([a ^ w for a, w in zip(v, struct.unpack("<4I", b))], rounds)
    last = blocks[-1]
    if len(last) == 16:
        lk = k1
    else:
        last = last + b"\x01" + b"\x00" * (15 - len(last))
        lk = k2
    v = [a ^ w ^ l for a, w, l in zip(v, struct.unpack("<4I", last), lk)]
    v = permute(v, rounds)
    return b"".join(struct.pack("<I", a ^ l) for a, l in zip(v, lk))


def packet_mac(key, counter, direction, data):
    assert data
    prefix = struct.pack("<QII", counter, direction, 0)
    return chaskey(key, prefix + data)[:5]


# --- framing -----------------------------------------------------------------

def fragments(header, pkt, mtu):
    chunk = mtu - 4
    out = []
    for i in range(0, len(pkt), chunk):
        part = pkt[i:i + chunk]
        more = i + chunk < len(pkt)
        out.append(bytes([header | (0x80 if more else 0)]) + part)
    return out


# --- helpers -----------------------------------------------------------------

def raw_pub(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def hm(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


def le48(v):
    return struct.pack("<Q", v)[:6]


class Session:
    """One verified session: both directions' counters and the key."""

    def __init__(self, key):
        self.key = key
        self.tx = 0     # client -> button
        self.rx = 0     # button -> client

    def to_button(self, body):
        mac = packet_mac(self.key, self.tx, 1, body)
        self.tx += 1
        return body + mac

    def from_button(self, body):
        mac = packet_mac(self.key, self.rx, 0, body)
        self.rx += 1
        return body + mac


out = []


def emit(name, data):
    if isinstance(data, (bytes, bytearray)):
        out.append('#define %s "%s"' % (name, data.hex()))
    else:
        out.append("#define %s %s" % (name, data))


def emit_frags(name, frags):
    """A NULL-terminated array of the notifications/writes of one packet."""
    out.append("static const char *const %s[] = {" % name)
    for f in frags:
        out.append('\t"%s",' % f.hex())
    out.append("\tNULL,\n};")


# --- the actors ----------------------------------------------------------------

TEST_SEED = bytes.fromhex("1ea780d41136521b088967c433d135849f1dfb0cb52dac953130297b9f29360d")
identity = ed25519.Ed25519PrivateKey.from_private_bytes(TEST_SEED)
ADDRESS = bytes.fromhex("80e4da712345")          # as printed, big endian
WIRE_ADDRESS = ADDRESS[::-1]

emit("T_ADDRESS", ADDRESS)
emit("T_TEST_KEY", raw_pub(identity))


def button_full_verify_response1(tmp_id, button_priv, button_random, flags, tweak_bits):
    pub = raw_pub(button_priv)
    cert = WIRE_ADDRESS + b"\x00" + pub
    sig = bytearray(identity.sign(cert))
    variant = sig[32] & 3
    # a button transmits S with its two lowest bits replaced
    sig[32] = (sig[32] & 0xFC) | tweak_bits
    body = bytes([0]) + struct.pack("<I", tmp_id) + bytes(sig) + cert + button_random + bytes([flags])
    assert len(body) == 117
    return body, variant


def full_verify_secret(client_priv, button_pub, variant, button_random, client_random):
    shared = client_priv.exchange(x25519.X25519PublicKey.from_public_bytes(button_pub))
    return hashlib.sha256(shared + bytes([variant]) + button_random + client_random + b"\x00").digest()


# ============================================================================
# Transcript A: pairing (full verify) at MTU 23, then events, ping, battery.
# ============================================================================
MTU_A = 23
rng_a = bytes(range(0x10, 0x14))                      # tmp id
client_priv_bytes = bytes((0x60 + i) & 0xFF for i in range(32))
client_random = bytes.fromhex("c1c2c3c4c5c6c7c8")
rng_a += client_priv_bytes + client_random
emit("T_A_MTU", MTU_A)
emit("T_A_RNG", rng_a)
tmp_id = struct.unpack("<I", rng_a[:4])[0]

# client: FullVerifyRequest1, no connection id yet
fv1 = bytes([0]) + struct.pack("<I", tmp_id)
emit_frags("T_A_W_FV1", fragments(0x00, fv1, MTU_A))

# button: assigns connection id 5
CONN_A = 5
button_priv = x25519.X25519PrivateKey.from_private_bytes(bytes((0xA0 + i) & 0xFF for i in range(32)))
button_random = bytes.fromhex("b1b2b3b4b5b6b7b8")
rsp1, variant = button_full_verify_response1(tmp_id, button_priv, button_random,
                                             0x02, 0)   # public mode
emit("T_A_VARIANT", variant)
assert variant != 0, "the transmitted bits must differ from the variant"

emit_frags("T_A_R_FV1", fragments(0x20 | CONN_A, rsp1, MTU_A))

client_priv = x25519.X25519PrivateKey.from_private_bytes(client_priv_bytes)
fvs = full_verify_secret(client_priv, raw_pub(button_priv), variant, button_random, client_random)
emit("T_A_FVS", fvs)
verifier = hm(fvs, b"AT")[:16]
fv2 = bytes([2]) + raw_pub(client_priv) + client_random + b"\x00" + verifier
assert len(fv2) == 58
emit_frags("T_A_W_FV2", fragments(CONN_A, fv2, MTU_A))

sess = Session(hm(fvs, b"SK")[:16])
pk = hm(fvs, b"PK")
pairing_id = struct.unpack("<I", pk[:4])[0]
pairing_key = pk[4:20]
emit("T_A_PAIRING_ID", "0x%08xu" % pairing_id)
emit("T_A_PAIRING_KEY", pairing_key)

uuid = bytes.fromhex("00112233445566778899aabbccddeeff")
name = "Kitchen".encode()
serial = b"BG30-C12345"
battery_level = 905
firmware = 10
fv2rsp = (bytes([1, 0x01]) + uuid + bytes([len(name)]) + name.ljust(23, b"\x00") +
          struct.pack("<IH", firmware, battery_level) + serial)
assert len(fv2rsp) == 59
emit_frags("T_A_R_FV2", fragments(CONN_A, sess.from_button(fv2rsp), MTU_A))
emit("T_A_UUID", uuid)
emit("T_A_BATTERY_MV", (battery_level * 3600 + 512) // 1024)

# client: InitButtonEventsLightRequest, fresh pairing: nothing queued wanted
bits = 511 | (0 << 9) | (0xFFFFF << 14)
init = bytes([23]) + struct.pack("<II", 0, 0) + bits.to_bytes(5, "little")
emit_frags("T_A_W_INIT", fragments(CONN_A, sess.to_button(init), MTU_A))

BOOT = 0x1BADB002
T0 = 0x123456789
rsp = bytes([10]) + le48(T0 << 1 | 0) + struct.pack("<II", 100, BOOT)
emit("T_BOOT_ID", "0x%08xu" % BOOT)
emit_frags("T_A_R_INIT", fragments(CONN_A, sess.from_button(rsp), MTU_A))

# client: connection parameters once the (empty) queue is drained
cp = bytes([12]) + struct.pack("<HHHH", 80, 90, 17, 800)
emit_frags("T_A_W_CONNPARAMS", fragments(CONN_A, sess.to_button(cp), MTU_A))

# client: firmware 10 >= 6, first session of this boot: advertising settings
# (SetAdvParametersRequest as flic2lib-c-module sends it, with the Android library's slow interval: active, not removing other
# pairings' settings, 1M PHY, no coded PHY, intervals 160 and 1636 x 0.625 ms,
# timeout 86400 s); the button answers with the bare opcode 25
adv = bytes([27, 1, 0, 1, 0]) + struct.pack("<HHI", 160, 1636, 86400)
assert len(adv) == 13
emit_frags("T_A_W_ADV", fragments(CONN_A, sess.to_button(adv), MTU_A))
emit_frags("T_A_R_ADV", fragments(CONN_A, sess.from_button(bytes([25])), MTU_A))

# button: a live press: down (101) and up with click pending (103)
def item(ts, code, queued=False, last=False):
    return le48(ts) + bytes([code | (0x10 if queued else 0) | (0x20 if last else 0)])

ev1 = bytes([12]) + struct.pack("<I", 103) + item(T0 + 65536, 1) + item(T0 + 65536 + 3277, 8)
emit_frags("T_A_R_EV1", fragments(CONN_A, sess.from_button(ev1), MTU_A))
# button: single-click timeout (104): decisive, so it is acknowledged
ev2 = bytes([12]) + struct.pack("<I", 104) + item(T0 + 65536 + 3277 + 16384, 2)
emit_frags("T_A_R_EV2", fragments(CONN_A, sess.from_button(ev2), MTU_A))
ack = bytes([16]) + struct.pack("<I", 104)
emit_frags("T_A_W_ACK", fragments(CONN_A, sess.to_button(ack), MTU_A))

# button: ping; client: ping response
emit_frags("T_A_R_PING", fragments(CONN_A, sess.from_button(bytes([15])), MTU_A))
emit_frags("T_A_W_PONG", fragments(CONN_A, sess.to_button(bytes([14])), MTU_A))

# adapter asks for the battery
emit_frags("T_A_W_BATTERY", fragments(CONN_A, sess.to_button(bytes([20])), MTU_A))
emit_frags("T_A_R_BATTERY", fragments(CONN_A, sess.from_button(bytes([20]) + struct.pack("<H", 900)), MTU_A))
emit("T_A_BATTERY2_MV", (900 * 3600 + 512) // 1024)

# ============================================================================
# Transcript B: reconnect (quick verify) at MTU 64 with queued events.
# ============================================================================
MTU_B = 64
qv_random = bytes.fromhex("d1d2d3d4d5d6d7")
rng_b = qv_random + bytes.fromhex("e1e2e3e4")
emit("T_B_MTU", MTU_B)
emit("T_B_RNG", rng_b)
tmp_b = struct.unpack("<I", rng_b[7:11])[0]
qv = bytes([5]) + qv_random + b"\x00" + struct.pack("<II", tmp_b, pairing_id)
emit_frags("T_B_W_QV", fragments(0, qv, MTU_B))

CONN_B = 7
button_random_b = bytes.fromhex("f1f2f3f4f5f6f7f8")
session_key = chaskey(pairing_key, qv_random + b"\x00" + button_random_b)
emit("T_B_SESSION_KEY", session_key)
sess = Session(session_key)
qvrsp = bytes([8]) + button_random_b + struct.pack("<I", tmp_b) + b"\x00"
emit_frags("T_B_R_QV", fragments(0x20 | CONN_B, sess.from_button(qvrsp), MTU_B))

bits = 511 | (31 << 9) | (0xFFFFF << 14)
init = bytes([23]) + struct.pack("<II", 104, BOOT) + bits.to_bytes(5, "little")
emit_frags("T_B_W_INIT", fragments(CONN_B, sess.to_button(init), MTU_B))

T1 = T0 + 32768 * 3600        # an hour later on the button clock
rsp = bytes([11]) + le48(T1 << 1 | 1) + struct.pack("<I", 111)
emit_frags("T_B_R_INIT", fragments(CONN_B, sess.from_button(rsp), MTU_B))

# queued: an old single-click timeout (104, already reported), a hold press
# (down 105, hold 106, up after hold 107) and a press decided as single
# click at release (down 109, up 111): the last one marks the end of queue
ts = T1 - 32768 * 600         # ten minutes before the reconnect
ev = (bytes([12]) + struct.pack("<I", 111) +
      item(ts - 32768 * 60, 2, True) +
      item(ts, 1, True) + item(ts + 32768, 3, True) + item(ts + 49152, 12, True) +
      item(ts + 98304, 1, True) + item(ts + 98304 + 4000, 10, True, True))
emit("T_B_EV_TS", "UINT64_C(0x%x)" % ts)
emit_frags("T_B_R_EV", fragments(CONN_B, sess.from_button(ev), MTU_B))
ack = bytes([16]) + struct.pack("<I", 111)
emit_frags("T_B_W_ACK", fragments(CONN_B, sess.to_button(ack), MTU_B))
cp = bytes([12]) + struct.pack("<HHHH", 80, 90, 17, 800)
emit_frags("T_B_W_CONNPARAMS", fragments(CONN_B, sess.to_button(cp), MTU_B))
emit_frags("T_B_W_BATTERY", fragments(CONN_B, sess.to_button(bytes([20])), MTU_B))
emit_frags("T_B_W_FIRMWARE", fragments(CONN_B, sess.to_button(bytes([8])), MTU_B))

battery_rsp = sess.from_button(bytes([20]) + struct.pack("<H", 1000))
emit_frags("T_B_R_BATTERY", fragments(CONN_B, battery_rsp, MTU_B))
emit("T_B_BATTERY_MV", (1000 * 3600 + 512) // 1024)
emit_frags("T_B_W_NAME", fragments(CONN_B, sess.to_button(bytes([11])), MTU_B))
emit_frags("T_B_R_FIRMWARE", fragments(CONN_B, sess.from_button(bytes([5]) + struct.pack("<I", 11)), MTU_B))
new_name = "Kitchen \u2615".encode()
emit("T_B_NAME", new_name)
emit_frags("T_B_R_NAME", fragments(CONN_B, sess.from_button(bytes([16]) + le48(1700000000000) + new_name), MTU_B))

# a replay of the old battery response (its counter is behind) and a forgery
emit_frags("T_B_R_REPLAY", fragments(CONN_B, battery_rsp, MTU_B))
forged = bytearray(bytes([15]) + packet_mac(session_key, sess.rx, 0, bytes([15])))
forged[-1] ^= 0x01
emit_frags("T_B_R_FORGED", fragments(CONN_B, bytes(forged), MTU_B))
# then a genuine ping still goes through: the counter did not move
emit_frags("T_B_R_PING", fragments(CONN_B, sess.from_button(bytes([15])), MTU_B))
emit_frags("T_B_W_PONG", fragments(CONN_B, sess.to_button(bytes([14])), MTU_B))

# ============================================================================
# Transcript C: the button was factory reset; quick verify is refused and
# the test-if-really-unpaired exchange proves it. MTU 23.
# ============================================================================
MTU_C = 23
qv_random_c = bytes.fromhex("a1a2a3a4a5a6a7")
tmp_c_bytes = bytes.fromhex("0badcafe")
client_priv_c_bytes = bytes((0x33 * i + 7) & 0xFF for i in range(32))
client_random_c = bytes.fromhex("9192939495969798")
rng_c = qv_random_c + tmp_c_bytes + client_priv_c_bytes + client_random_c
emit("T_C_MTU", MTU_C)
emit("T_C_RNG", rng_c)
tmp_c = struct.unpack("<I", tmp_c_bytes)[0]
qv = bytes([5]) + qv_random_c + b"\x00" + struct.pack("<II", tmp_c, pairing_id)
emit_frags("T_C_W_QV", fragments(0, qv, MTU_C))
emit_frags("T_C_R_QVNEG", fragments(0, bytes([6]) + struct.pack("<I", tmp_c), MTU_C))
fv1 = bytes([0]) + struct.pack("<I", tmp_c)
emit_frags("T_C_W_FV1", fragments(0, fv1, MTU_C))

CONN_C = 9
button_priv_c = x25519.X25519PrivateKey.from_private_bytes(bytes((0x11 * i + 3) & 0xFF for i in range(32)))
button_random_c = bytes.fromhex("8182838485868788")
rsp1, variant_c = button_full_verify_response1(tmp_c, button_priv_c, button_random_c,
                                               0x00, 3)  # private mode
emit("T_C_VARIANT", variant_c)
assert variant_c != 3, "the transmitted bits must differ from the variant"
emit_frags("T_C_R_FV1", fragments(0x20 | CONN_C, rsp1, MTU_C))
client_priv_c = x25519.X25519PrivateKey.from_private_bytes(client_priv_c_bytes)
fvs_c = full_verify_secret(client_priv_c, raw_pub(button_priv_c), variant_c,
                           button_random_c, client_random_c)
token = hm(fvs_c, b"PT" + struct.pack("<I", pairing_id) + pairing_key)[:16]
test = bytes([4]) + raw_pub(client_priv_c) + client_random_c + struct.pack("<I", pairing_id) + token
assert len(test) == 61
emit_frags("T_C_W_TEST", fragments(CONN_C, test, MTU_C))
result_ne = hm(fvs_c, b"NE" + token)[:16]
result_ex = hm(fvs_c, b"EX" + token)[:16]
emit_frags("T_C_R_TEST_NE", fragments(CONN_C, bytes([4]) + result_ne, MTU_C))
emit_frags("T_C_R_TEST_EX", fragments(CONN_C, bytes([4]) + result_ex, MTU_C))

print("/* SPDX-License-Identifier: MIT */")
print("/* Generated by tests/flic2-vectors.py; do not edit. */")
print("#pragma once")
print()
print("\n".join(out))
