# SPDX-License-Identifier: MIT
"""Shared parts of the delivery tests: the loopback sink and the pipeline driver."""
import json
import os
import signal
import struct
import subprocess
import time
import zlib

from fgtest import BUILD, wait_for


class Sink:
    """build/flicsink on a free loopback port, recording to a file."""

    def __init__(self, tmp, extra=()):
        self.log = os.path.join(tmp, "sink.jsonl")
        portfile = os.path.join(tmp, "sink.port")
        self.proc = subprocess.Popen([os.path.join(BUILD, "flicsink"), "--port-file", portfile,
                                      "--log", self.log, *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(lambda: os.path.exists(portfile), 10):
            raise RuntimeError("flicsink did not start")
        with open(portfile) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d" % self.port

    def control(self, path, body=""):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        c.request("POST", path, body)
        status = c.getresponse().status
        c.close()
        return status

    def requests(self):
        out = []
        if os.path.exists(self.log):
            with open(self.log) as f:
                for line in f:
                    if line.endswith("\n"):
                        out.append(json.loads(line))
        return out

    def accepted_keys(self):
        """Idempotency keys of the requests answered 2xx, in arrival order."""
        return [r["headers"].get("idempotency-key") for r in self.requests()
                if 200 <= r["status"] < 300]

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)


def write_config(tmp, state_dir, url, buttons=4, extra=""):
    text = ["[gateway]", "name = test-gw", "state_dir = %s" % state_dir, "log_level = info", extra,
            "[webhook main]", "preset = alertops", "url = %s/alertops" % url, "rate_limit = 1000/s", ""]
    for b in range(buttons):
        text += ["[button b%d]" % b, "serial = BG30-A%05d" % b, "on = click",
                 "off = double_click", ""]
    path = os.path.join(tmp, "flicgate.ini")
    with open(path, "w") as f:
        f.write("\n".join(text))
    return path


class Driver:
    """tests/tools/pipeline-driver: the real pipeline fed synthetic presses."""

    def __init__(self, tmp, config, events, start, ack, interval_ms=1, drain=False, log=None):
        args = [os.path.join(BUILD, "tests", "tools", "pipeline-driver"), "--config", config,
                "--events", str(events), "--start", str(start), "--ack", ack,
                "--interval-ms", str(interval_ms)]
        if drain:
            args.append("--exit-when-drained")
        self.out = open(log or os.path.join(tmp, "driver.log"), "a")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None

    def close(self):
        if self.proc.poll() is None:
            self.kill9()
        self.out.close()


def acked(ack):
    if not os.path.exists(ack):
        return []
    with open(ack) as f:
        return [l.strip() for l in f if l.endswith("\n")]


def order_ok(keys):
    """Per button, the first acceptance of each key comes in counter order."""
    seen, last = set(), {}
    for k in keys:
        if k in seen:
            continue
        seen.add(k)
        serial, counter, _ = k.split(":")
        if int(counter) < last.get(serial, 0):
            return False
        last[serial] = int(counter)
    return True


SLOT = 4096


def journal_records(data):
    """(offset, slots, seq, target, text) of each record in journal bytes
    @data, found the way the daemon finds them (docs/alerts.md): a slot
    holds a record if magic, version, lengths and CRC-32 agree."""
    out = []
    i = 1
    while i * SLOT < len(data):
        off = i * SLOT
        head = data[off:off + 32]
        step = 1
        if len(head) == 32 and head[:4] == b"FGSR":
            version, tlen, length, crc, seq, reserved = struct.unpack("<HHIIQQ", head[4:])
            end = off + 32 + length
            if (version == 1 and reserved == 0 and 0 < tlen <= length and end <= len(data)
                    and zlib.crc32(data[off + 16:end], zlib.crc32(data[off:off + 12])) == crc):
                payload = data[off + 32:end]
                step = (32 + length + SLOT - 1) // SLOT
                out.append((off, step, seq, payload[:tlen].decode(), payload[tlen:].decode()))
        i += step
    return out


def spool_records(state_dir):
    """The alerts queued in a state dir's spool, as (seq, target, text):
    the journal's records (journal_records) but its state records, and the
    files of the older one-file-per-alert layout."""
    spool = os.path.join(state_dir, "spool")
    path = os.path.join(spool, "journal")
    data = open(path, "rb").read() if os.path.exists(path) else b""
    # "@key": a state record (counter, alert state), not an alert
    out = [(seq, target, text) for _, _, seq, target, text in journal_records(data)
           if not target.startswith("@")]
    for d in os.listdir(spool) if os.path.isdir(spool) else []:
        if d.startswith("t-"):
            for f in os.listdir(os.path.join(spool, d)):
                if f.endswith(".alert"):
                    with open(os.path.join(spool, d, f)) as fh:
                        out.append((int(f[:16], 16), d[2:], fh.read()))
    return sorted(out)


def sparse_journal(state_dir, size, move=1):
    """Make the journal a sparse file of @size bytes (truncate -s): the
    last @move records are moved from where they were to the very end,
    past the hole, the others stay before it. Returns the keys of the
    records (idempotency keys) before and after the hole."""
    path = os.path.join(state_dir, "spool", "journal")
    with open(path, "rb") as f:
        data = f.read()
    recs = [r for r in journal_records(data) if not r[3].startswith("@")]  # alerts, not states
    tail = recs[len(recs) - move:] if move else []
    key = lambda text: [l[4:] for l in text.splitlines() if l.startswith("key=")][0]
    os.truncate(path, size)
    at = size
    with open(path, "r+b") as f:
        for off, step, _, _, _ in reversed(tail):
            at -= step * SLOT
            f.seek(at)
            f.write(data[off:off + step * SLOT])
            f.seek(off)
            f.write(bytes(step * SLOT))
        f.flush()
        os.fsync(f.fileno())
    return ([key(r[4]) for r in recs[:len(recs) - len(tail)]], [key(r[4]) for r in tail])
