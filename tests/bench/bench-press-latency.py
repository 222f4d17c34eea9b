#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Press in the simulator -> request at the sink, through everything real:
the simulated bluetoothd and button (flicsim), the BlueZ adapter and the
Flic 2 engine in flicgated, the alert pipeline (spool with fsync, state
save) and libcurl to build/flicsink on loopback.

Latency of one press = the sink's receive time of the request minus the
moment the button registered the release that makes the alert (the
simulator's ButtonEventSent event_usec; both are CLOCK_MONOTONIC on this
machine). Buttons map "click" to On, which fires at release, so no
double-click wait is measured. Prints p50/p90/p99/max, lost (pressed,
never at the sink) and duplicated for 1 button pressed one at a time, for
48 buttons pressed within the same 100 ms (rounds), and for 64 buttons
pressed in rounds (each round presses all 64, one after the other, then
waits for their 64 requests).

These measure the disk path with every button linked: where the
simulator and the daemon know a controller link limit (flicsim
--max-links, [bluetooth] max_links), it is raised to the number of
buttons, so no press waits for a link.

Knobs: FG_BENCH_PRESSES (presses per scenario, default 200),
FG_BENCH_STATE_DIR (where the state dir lives: default /var/tmp, a disk
here; point it at the disk you care about). Prints numbers only; nothing
here asserts on speed (docs/benchmarks.md records the results)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from bluezhelp import BusRef, Sink, addr, config, serial  # noqa: E402
from fgtest import BUILD, Daemon, TempDir, wait_for  # noqa: E402
from flicsimtest import Sim, pump  # noqa: E402

PRESSES = int(os.environ.get("FG_BENCH_PRESSES", "200"))
FAST = dict(click_ms=20, hold_ms=300, double_click_ms=100)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def knows(exe, word):
    """Does this build's program know @word (an option, a config key)?"""
    try:
        with open(os.path.join(BUILD, exe), "rb") as f:
            return word.encode() in f.read()
    except OSError:
        return False


def link_limits(n):
    """Simulator arguments and config lines that let all @n buttons be linked."""
    sim = ["--max-links", str(n)] if knows("flicsim", "--max-links") else []
    conf = "max_links = %d\n" % n if knows("flicgated", "max_links") else ""
    return sim, conf


def sink_times(sink, dups=None):
    """idempotency key -> sink receive time (µs, CLOCK_MONOTONIC); @dups counts repeats."""
    out = {}
    for b, t_us in sink.timed_alerts():
        k = b.get("flic_idempotencyKey")
        if k in out and dups is not None:
            dups.append(k)
        out.setdefault(k, t_us)
    return out


def scenario(n, rounds, spread_ms=0):
    base = os.environ.get("FG_BENCH_STATE_DIR", "/var/tmp")
    with TempDir(prefix="fgbench-") as tmp:
        state = os.path.join(base or tmp.path, "state-%d-%d" % (n, os.getpid()))
        sink = Sink(tmp)
        addrs = [addr(i) for i in range(1, n + 1)]
        sections = "".join("[button b%02d]\naddress = %s\non = click\noff = double_click\n" % (i, a)
                           for i, a in enumerate(addrs, 1))
        sim_args, conf = link_limits(n)
        cfg = tmp.file("flicgate.ini", config(state, pairing="listed", buttons=sections,
                                              webhook=sink.url + "/POSTAlert/00000000-bench/Flic",
                                              extra=conf).replace("rate_limit = 1000", "rate_limit = 100000"))
        lat = []
        pressed = 0
        dups = []
        try:
            # every button linked: no link limit here (press latency of
            # linked buttons; the limit is bench-many-buttons' subject)
            with Sim(["--connect-ms", "5", "--scan-interval-ms", "100", "--mtu", "65"] + sim_args,
                     tmp=tmp) as sim:
                for i, a in enumerate(addrs, 1):
                    sim.add(a, name="b%d" % i, serial=serial(i), public_mode=True, **FAST)
                d = Daemon(tmp, BusRef(sim.bus_daemon.address), cfg, extra_args=["--log-level", "notice"])
                if not wait_for(lambda: len(d.output().splitlines()) and
                                all(sim.state(a)["Session"] == "established" for a in addrs), 60):
                    print("bench: buttons did not all connect", file=sys.stderr)
                    return None
                time.sleep(0.5)
                # warm up: the sink connection, the spool directories
                for a in addrs[:min(n, 4)]:
                    sim.ctl.Press(a, "click")
                time.sleep(1.0)
                pump()
                seen = len(sim.events)
                for _ in range(rounds):
                    t0 = time.monotonic()
                    for i, a in enumerate(addrs):
                        if spread_ms:
                            time.sleep(max(0.0, t0 + i * spread_ms / 1000.0 / n - time.monotonic()))
                        sim.ctl.Press(a, "click")
                    want = len(sink_times(sink)) + n
                    wait_for(lambda: len(sink_times(sink)) >= want, 20, interval=0.005)
                    time.sleep(0.13)	# the button's double-click window
                pump(0.5)
                times = sink_times(sink, dups)
                for (a, counter, event, queued, ticks, ev_usec, sent_usec) in sim.events[seen:]:
                    if not event.startswith("up"):
                        continue
                    key = "%s:%d:click" % (serial(addrs.index(a) + 1), counter)
                    pressed += 1
                    if key in times:
                        lat.append((times[key] - ev_usec) / 1000.0)
                d.stop()
                d.close()
        finally:
            sink.close()
        return lat, pressed - len(lat), len(dups)


def report(name, res):
    if not res or not res[0]:
        print("%-32s no samples" % name)
        return
    lat, lost, dup = res
    print("%-32s n=%-5d p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %6.2f ms  lost %d  duplicated %d"
          % (name, len(lat), pct(lat, 50), pct(lat, 90), pct(lat, 99), max(lat), lost, dup))


report("1 button, one at a time", scenario(1, PRESSES))
report("48 buttons within 100 ms", scenario(48, max(1, PRESSES // 48), spread_ms=100))
report("64 buttons, rounds of 64", scenario(64, max(1, PRESSES // 64)))
