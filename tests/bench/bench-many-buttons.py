#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Many buttons on a controller with few links: 48 emulated Flic 2
buttons on flicsim with its default link limit (--max-links 8, a
Raspberry Pi's built-in controller), flicgated with its defaults (link
budget 7, idle_disconnect 1 min), build/flicsink as the target.

Set-up: the buttons are paired four at a time (pairing = listed, public
mode), then the gateway is left alone for idle_disconnect and then some,
so that the run starts from a gateway in service. Then every button is
pressed (a click, which opens an alert) in a random order, round after
round (one round a minute), over several minutes; half of the press
groups are bursts of 2 to 5 buttons within 100 ms, the others one button
alone. Most buttons
sleep when pressed (no link: the press wakes the button, the controller
connects at its advertisement, the gateway quick-verifies and the press
arrives queued), the recently pressed ones are still linked.

Prints presses made, delivered, lost and duplicated; press -> request at
the sink p50/p90/p99/max for presses of a linked button and of a
sleeping one (latency = the sink's receive time minus the button's own
timestamp of the release, both CLOCK_MONOTONIC); the most links the
simulated controller held at once and the Create Connections it refused.
Exits 1 if a press was lost (or a button never paired), 0 otherwise;
nothing here asserts on speed (docs/benchmarks.md records the results).

Knobs: FG_BENCH_MINUTES (length of the pressing, default 3),
FG_BENCH_BUTTONS (48), FG_BENCH_SEED (random order, default 15),
FG_BENCH_LOGS=DIR (keep the simulator's and the daemon's logs there, the
daemon's at debug level)."""
import os
import random
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from bluezhelp import BusRef, Sink, addr, config, serial  # noqa: E402
from fgtest import Daemon, TempDir, wait_for  # noqa: E402
from flicsimtest import Sim, pump  # noqa: E402

MINUTES = float(os.environ.get("FG_BENCH_MINUTES", "3"))
N = int(os.environ.get("FG_BENCH_BUTTONS", "48"))
SEED = int(os.environ.get("FG_BENCH_SEED", "15"))
LOGS = os.environ.get("FG_BENCH_LOGS")
PAIR_GROUP = 4
SETTLE_S = 65
DRAIN_S = 150


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def sink_requests(sink):
    """[(idempotency key, receive time µs)] of the alert requests, in order."""
    # not the gateway's own alerts (the clock, ...)
    return [(b.get("flic_idempotencyKey"), t_us) for b, t_us in sink.timed_alerts()
            if not b.get("flic_supervision")]


def schedule(rng, n, minutes):
    """[(offset s, [button index])]: round after round, each button once per
    round in a random order, in groups of 1 (singles) or 2-5 (bursts within
    100 ms), the groups spread evenly with jitter over the run."""
    rounds = max(1, int(round(minutes)))
    per_round = minutes * 60.0 / rounds
    plan = []
    for r in range(rounds):
        order = list(range(n))
        rng.shuffle(order)
        groups = []
        while order:
            k = 1 if rng.random() < 0.5 else rng.randint(2, 5)
            groups.append(order[:k])
            order = order[k:]
        step = per_round / len(groups)
        for g, members in enumerate(groups):
            plan.append((r * per_round + (g + rng.uniform(0.1, 0.9)) * step, members))
    return plan


def run():
    rng = random.Random(SEED)
    addrs = [addr(i) for i in range(1, N + 1)]
    with TempDir(prefix="fgbench-many-") as tmp:
        sink = Sink(tmp)
        sections = "".join("[button b%02d]\naddress = %s\non = click\noff = double_click\n" % (i, a)
                           for i, a in enumerate(addrs, 1))
        cfg = tmp.file("flicgate.ini", config(os.path.join(tmp.path, "state"), pairing="listed",
                                              buttons=sections,
                                              webhook=sink.url + "/POSTAlert/00000000-bench/Flic")
                       .replace("rate_limit = 1000", "rate_limit = 100000"))
        try:
            with Sim([], tmp=tmp) as sim:
                for i, a in enumerate(addrs, 1):
                    sim.add(a, name="b%02d" % i, serial=serial(i))
                d = Daemon(tmp, BusRef(sim.bus_daemon.address), cfg, extra_args=["--log-level", "debug" if LOGS else "notice"])
                # Set-up as an installer goes round: a few buttons at a time
                # in public mode (pairing = listed), again for one whose
                # public mode ran out before the gateway had a link for it.
                t0 = time.monotonic()

                def paired(a):
                    return sim.state(a)["Pairings"] > 0

                for k in range(0, N, PAIR_GROUP):
                    group = addrs[k:k + PAIR_GROUP]
                    for attempt in range(3):
                        for a in group:
                            if not paired(a) and not sim.state(a)["PublicMode"]:
                                sim.ctl.SetPublicMode(a, True)
                        if wait_for(lambda: all(paired(a) for a in group), 30, 0.2):
                            break
                n_paired = sum(1 for a in addrs if paired(a))
                print("setup: %d of %d buttons paired in %.0f s" % (n_paired, N, time.monotonic() - t0))
                if n_paired < N:
                    d.stop()
                    d.close()
                    return 1
                for a in addrs:
                    sim.ctl.SetPublicMode(a, False)
                # A gateway in service, not one that has just paired 48
                # buttons: the buttons it hung up to pair the others have
                # their pending connects held off for idle_disconnect (1 min).
                print("settling for %d s (idle_disconnect and then some)" % SETTLE_S)
                pump(SETTLE_S)
                seen = len(sim.events)
                presses = []	# (address, linked when pressed)
                plan = schedule(rng, N, MINUTES)
                t_start = time.monotonic()
                for off, members in plan:
                    while time.monotonic() - t_start < off:
                        pump(min(0.05, max(0.0, off - (time.monotonic() - t_start))))
                    for j, i in enumerate(members):
                        a = addrs[i]
                        linked = bool(sim.state(a)["Linked"])
                        end = time.monotonic() + 10
                        while True:
                            try:
                                sim.ctl.Press(a, "click")
                                break
                            except Exception as e:
                                if "Busy" not in str(e) or time.monotonic() > end:
                                    raise
                                pump(0.02)
                        presses.append((a, linked))
                        if j + 1 < len(members):
                            time.sleep(rng.uniform(0.0, 0.1 / len(members)))
                made = len(presses)
                # drain: every press's request, or DRAIN_S of nothing more (a
                # sleeping button may wait well over a minute for a link,
                # docs/benchmarks.md)
                last, stable_since = -1, time.monotonic()
                while time.monotonic() - stable_since < DRAIN_S:
                    pump(0.5)
                    n = len(set(k for k, _ in sink_requests(sink)))
                    if n >= made:
                        break
                    if n != last:
                        last, stable_since = n, time.monotonic()
                pump(3.0)	# a late duplicate would arrive now
                status = {str(k): v for k, v in sim.ctl.GetStatus().items()}
                d.stop()
                d.close()
                if LOGS:
                    os.makedirs(LOGS, exist_ok=True)
                    for f in (d.log_path, sim.log_path, sink.log_path):
                        shutil.copy(f, LOGS)
        finally:
            sink.close()

        reqs = sink_requests(sink)
        first = {}
        for k, t in reqs:
            first.setdefault(k, t)
        dup = len(reqs) - len(first)
        # the n-th press of a button is its n-th released click (its counter order)
        ev = {}
        for (a, counter, event, queued, ticks, ev_usec, sent_usec) in sim.events[seen:]:
            if event.startswith("up"):
                ev.setdefault(a, {})[counter] = ev_usec
        by_button = {}
        for a, linked in presses:
            by_button.setdefault(a, []).append(linked)
        lat = {True: [], False: []}
        delivered = lost = 0
        for i, a in enumerate(addrs, 1):
            counters = sorted(ev.get(a, {}))
            mine = by_button.get(a, [])
            for nth, linked in enumerate(mine):
                c = counters[nth] if nth < len(counters) else None
                key = "%s:%d:click" % (serial(i), c) if c is not None else None
                if key in first:
                    delivered += 1
                    lat[linked].append((first[key] - ev[a][c]) / 1000.0)
                else:
                    lost += 1
        ours = set("%s:%d:click" % (serial(i), c) for i, a in enumerate(addrs, 1) for c in ev.get(a, {}))
        extra = len([k for k in first if k not in ours])

        print()
        print("%d buttons, flicsim --max-links %s (peak %s links held, %s Create Connections refused), "
              "gateway defaults, %.1f min of presses, seed %d" % (
                  N, status.get("MaxLinks"), status.get("PeakLinks"), status.get("LinkRefusals"),
                  MINUTES, SEED))
        print("presses made %d, delivered %d, lost %d, duplicated %d, unexpected %d" % (
            made, delivered, lost, dup, extra))
        print("%-34s %5s %9s %9s %9s %9s" % ("press -> request at the sink", "n", "p50", "p90", "p99", "max"))
        for linked, name in ((True, "button linked when pressed"), (False, "button asleep when pressed")):
            xs = lat[linked]
            if xs:
                print("%-34s %5d %7.1f ms %7.1f ms %7.1f ms %7.1f ms" % (
                    name, len(xs), pct(xs, 50), pct(xs, 90), pct(xs, 99), max(xs)))
            else:
                print("%-34s %5d" % (name, 0))
        return 1 if lost or extra else 0


sys.exit(run())
