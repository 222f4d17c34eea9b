#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Start-up time: from starting flicgated to its READY=1 (sd_notify), with
the spool journal in the shapes that used to cost time: none, a few
records, a sparse 4 GiB journal (truncate -s 4G, records before and after
the hole), and a 256 MiB journal of written zeros (no holes: what the scan
must read). The records are made by the real pipeline (pipeline-driver)
while the target is down; each scenario is started FG_BENCH_RUNS times
(default 5) and the median and max printed, with the alerts the daemon
then delivered. FG_BENCH_FLICGATED runs another flicgated binary (an
older build, for a before/after). Prints numbers only."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from fgtest import BUILD, NotifySocket, PrivateBus, TempDir, wait_for  # noqa: E402
from delivery import Sink, Driver, write_config, acked, sparse_journal  # noqa: E402

RUNS = int(os.environ.get("FG_BENCH_RUNS", "5"))
DAEMON = os.environ.get("FG_BENCH_FLICGATED", os.path.join(BUILD, "flicgated"))
GIB = 1 << 30


def ready_ms(tmp, bus, config, sink, want):
    """Start the daemon, return (ms to READY=1, alerts delivered)."""
    notify = NotifySocket(tmp)
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    env.pop("JOURNAL_STREAM", None)
    log = open(os.path.join(tmp.path, "daemon.log"), "a")
    t0 = time.monotonic()
    p = subprocess.Popen([DAEMON, "--bus", bus.address, "-c", config], stdout=log,
                         stderr=subprocess.STDOUT, env=env)
    while "READY=1" not in notify.drain() and p.poll() is None and time.monotonic() - t0 < 120:
        time.sleep(0.0005)
    ms = (time.monotonic() - t0) * 1000
    wait_for(lambda: len(set(sink.accepted_keys())) >= want, 30)
    got = len(set(sink.accepted_keys()))
    p.terminate()
    p.wait(30)
    log.close()
    notify.close()
    os.unlink(notify.path)
    return ms, got


def scenario(name, shape, presses=3):
    times, delivered = [], []
    for _ in range(RUNS):
        with TempDir() as tmp:
            sink = Sink(tmp.path)
            bus = PrivateBus(tmp)
            state = os.path.join(tmp.path, "state")
            config = write_config(tmp.path, state, sink.url, buttons=2)
            try:
                if presses:
                    sink.control("/_sink/mode", "status 503")
                    ack = os.path.join(tmp.path, "acks")
                    d = Driver(tmp.path, config, presses, 0, ack, interval_ms=5)
                    wait_for(lambda: len(acked(ack)) == presses, 20)
                    time.sleep(0.3)
                    d.kill9()
                    d.close()
                    sink.control("/_sink/clear")
                shape(state)
                ms, got = ready_ms(tmp, bus, config, sink, presses)
                times.append(ms)
                delivered.append(got)
            finally:
                bus.close()
                sink.close()
    times.sort()
    print("%-34s READY median %8.1f ms  max %8.1f ms  delivered %s of %d" %
          (name, times[len(times) // 2], times[-1], delivered, presses))


def zeros(size):
    def shape(state):
        path = os.path.join(state, "spool", "journal")
        with open(path, "r+b") as f:
            f.seek(0, 2)
            chunk = bytes(1 << 20)
            while f.tell() < size:
                f.write(chunk)
    return shape


print("flicgated: %s, %d runs each" % (DAEMON, RUNS))
scenario("no journal", lambda state: None, presses=0)
scenario("3 records", lambda state: None)
scenario("sparse 4 GiB, 2 before + 1 after", lambda state: sparse_journal(state, 4 * GIB))
scenario("sparse 4 GiB, 3 before the hole", lambda state: sparse_journal(state, 4 * GIB, move=0))
scenario("256 MiB of written zeros", zeros(256 << 20))
