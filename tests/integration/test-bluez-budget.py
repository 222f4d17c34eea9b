#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The link budget, the real flicgated against the simulator's controller
(`--max-links`) and the sink.

1. Ten paired buttons on a controller that holds 4 links, `max_links = 4`,
   one of them `keep_linked`: presses in random order with bursts. Every
   press reaches the sink exactly once (by button and event counter), the
   controller never holds more than 4 links, presses a sleeping button
   queued arrive marked queued, LinksUsed/SleepingButtons add up, and the
   keep_linked button stays linked throughout.
2. `max_links` above what the controller holds and every linked button
   keep_linked: a third button is refused and cannot get a link; its
   `<name>-link` alarm opens after `link_starved_after` and closes once a
   reload frees a slot for it."""
import json
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bluezhelp import FAST, BusRef, Sink, addr, press, sanitizer_clean, serial  # noqa: E402
from fgtest import Daemon, TempDir, check, finish, wait_for  # noqa: E402
from flicsimtest import TEST_KEY, Sim, pump  # noqa: E402

GW = ("io.github.flicgate1", "/io/github/flicgate1/gateway", "io.github.flicgate1.Gateway")
SIM_ARGS = ["--connect-ms", "5", "--scan-interval-ms", "100"]
BODY = '{"button":"${button}","counter":${event_counter},"gesture":"${gesture}","queued":${queued}}'


def key(i):
    return ("%02x" % (0x30 + i)) * 16


def record(i):
    return ("version=1\naddress=%s\npairing_id=%d\npairing_key=%s\n"
            "uuid=5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\nserial=%s\nname=466c69632032\n"
            "firmware=10\nbattery_mv=3000\nidentity_key=%s\n") % (addr(i), 1000 + i, key(i), serial(i), "e9" * 32)


def write_pairings(state, n):
    """The gateway starts with @n pairings, as the buttons do (no pairing run)."""
    d = os.path.join(state, "pairings")
    os.makedirs(d, mode=0o700)
    os.chmod(state, 0o700)
    for i in range(1, n + 1):
        p = os.path.join(d, addr(i).replace(":", "") + ".pairing")
        with open(p, "w") as f:
            f.write(record(i))
        os.chmod(p, 0o600)


def config(state, hook, n, extra="", health="", keep=()):
    buttons = "".join("[button b%02d]\naddress = %s\non = single_click\noff =\n%s" %
                      (i, addr(i), "keep_linked = yes\n" if i in keep else "") for i in range(1, n + 1))
    return """[gateway]
name = budget-test
state_dir = %s
[bluetooth]
pairing = locked
connect_timeout = 10s
trusted_key = %s
%s
[webhook sink]
preset = generic
url = %s
rate_limit = 1000
body = %s
[health]
require_time_sync = no
%s
%s""" % (state, TEST_KEY.hex(), extra, hook, BODY, health, buttons)


def deliveries(sink):
    out = []
    for r in sink.requests():
        try:
            b = json.loads(r.get("body", ""))
        except ValueError:
            continue
        # presses only: supervision alerts ("b05-link") have the same body
        if "counter" in b and "-" not in b["button"]:
            out.append((b["button"], int(b["counter"]), bool(b["queued"])))
    return out


def gateway(sim, prop):
    return sim.bus.get_object(GW[0], GW[1]).Get(GW[2], prop, dbus_interface="org.freedesktop.DBus.Properties")


def sim_status(sim):
    return {str(k): v for k, v in sim.ctl.GetStatus().items()}


def add_buttons(sim, n):
    for i in range(1, n + 1):
        sim.add(addr(i), name="b%d" % i, serial=serial(i), pairing_id=1000 + i, pairing_key=key(i), **FAST)


def gateway_dirs(tmp, n):
    """The state directory with @n pairings, and a sink."""
    state = os.path.join(tmp.path, "state")
    write_pairings(state, n)
    return state, Sink(tmp, alertops=False)


def run_presses():
    n = 10
    with TempDir() as tmp:
        state, sink = gateway_dirs(tmp, n)
        cfg = tmp.file("flicgate.ini", config(state, sink.url + "/hook", n,
                                              extra="max_links = 4\nidle_disconnect = 40s", keep=(1,)))
        try:
            with Sim(SIM_ARGS + ["--max-links", "4"], tmp=tmp) as sim:
                add_buttons(sim, n)
                d = Daemon(tmp, BusRef(sim.bus_daemon.address), cfg)
                keep = addr(1)
                check(wait_for(lambda: sim.state(keep)["Linked"], 30), "the keep_linked button links")
                keep_links = int(sim.state(keep)["Links"])
                # the buttons advertise to reconnect after the start: let that settle
                wait_for(lambda: False, 35)
                used = int(gateway(sim, "LinksUsed"))
                asleep = int(gateway(sim, "SleepingButtons"))
                check(int(gateway(sim, "LinkBudget")) == 4 and used <= 4 and used + asleep == n,
                      "LinkBudget 4, LinksUsed %d, SleepingButtons %d: they add up to %d" % (used, asleep, n))

                rng = random.Random(15)
                made = {}
                linked_throughout = True
                order = []
                for _ in range(5):
                    # a burst: several buttons at once, then a pause
                    burst = rng.sample(range(1, n + 1), rng.randint(2, 5))
                    order += [burst, None]
                    order += [[rng.randint(1, n)], None]
                for step in order:
                    if step is None:
                        time.sleep(rng.uniform(0.5, 3.0))
                        linked_throughout = linked_throughout and bool(sim.state(keep)["Linked"])
                        continue
                    for i in step:
                        press(sim, addr(i), "click", settle=0.05)
                        made["b%02d" % i] = made.get("b%02d" % i, 0) + 1
                total = sum(made.values())
                ok = wait_for(lambda: len(deliveries(sink)) >= total, 120, interval=0.2)
                time.sleep(2.0)
                got = deliveries(sink)
                by = {}
                for b, c, q in got:
                    by.setdefault(b, []).append(c)
                check(ok and len(got) == total, "every press delivered: %d made, %d delivered" % (total, len(got)))
                check(all(len(set(v)) == len(v) for v in by.values()),
                      "no press delivered twice (by button and event counter)")
                check({b: len(v) for b, v in by.items()} == made,
                      "each button's presses, no more, no fewer (%s vs %s)" % (
                          {b: len(v) for b, v in sorted(by.items())}, dict(sorted(made.items()))))
                # the simulator says which presses it queued: the sink must say the same
                pump(0.5)
                sent = {}
                for a, c, ev, q, *_ in sim.events:
                    sent[(a, c)] = q
                marks = [(q, sent.get((addr(int(b[1:])), c))) for b, c, q in got]
                check(any(q for q, _ in marks), "some presses were queued by sleeping buttons (%d of %d)"
                      % (sum(1 for q, _ in marks if q), len(marks)))
                check(all(q == s for q, s in marks), "each press marked queued exactly when the button queued it (%s)"
                      % [m for m in marks if m[0] != m[1]][:5])
                st = sim_status(sim)
                check(int(st["PeakLinks"]) <= 4, "the controller never held more than 4 links (peak %d, %d refused)"
                      % (int(st["PeakLinks"]), int(st["LinkRefusals"])))
                check(linked_throughout and sim.state(keep)["Linked"] and int(sim.state(keep)["Links"]) == keep_links,
                      "the keep_linked button stayed linked throughout (%d link(s))" % int(sim.state(keep)["Links"]))
                used = int(gateway(sim, "LinksUsed"))
                asleep = int(gateway(sim, "SleepingButtons"))
                check(used <= 4 and used + asleep == n and used == int(st["Links"]),
                      "afterwards: LinksUsed %d (the controller: %d), SleepingButtons %d" % (used, int(st["Links"]), asleep))
                check("rejected a packet" not in d.output(), "no packet rejected")
                check("-link" not in d.output(), "no button was starved of a link")
                rc = d.stop()
                check(rc == 0 and sanitizer_clean(d.output()), "clean stop")
                d.close()
        finally:
            sink.close()


def run_starved():
    n = 3
    with TempDir() as tmp:
        state, sink = gateway_dirs(tmp, n)
        text = lambda keep: config(state, sink.url + "/hook", n, extra="max_links = 8",  # noqa: E731
                                   health="link_starved_after = 2s", keep=keep)
        cfg = tmp.file("flicgate.ini", text((1, 2, 3)))
        try:
            # the controller holds 2, the gateway thinks 8: the third is refused
            with Sim(SIM_ARGS + ["--max-links", "2"], tmp=tmp) as sim:
                add_buttons(sim, n)
                d = Daemon(tmp, BusRef(sim.bus_daemon.address), cfg)
                check(wait_for(lambda: sum(bool(sim.state(addr(i))["Linked"]) for i in (1, 2, 3)) == 2, 30),
                      "two buttons link")
                out = [a for a in (addr(1), addr(2), addr(3)) if not sim.state(a)["Linked"]]
                check(len(out) == 1, "one is left out (%s)" % out)
                name = "b%02d" % (int(out[0][-2:], 16))
                press(sim, out[0], "click")
                alarm = name + "-link"
                check(wait_for(lambda: alarm in [str(x) for x in gateway(sim, "Alarms")], 20),
                      "its link alarm opens (%s)" % [str(x) for x in gateway(sim, "Alarms")])
                check(int(sim_status(sim)["LinkRefusals"]) >= 1, "the controller refused it")
                # one of the linked ones is no longer keep_linked: the budget frees its slot
                linked = [i for i in (1, 2, 3) if addr(i) != out[0]]
                with open(cfg, "w") as f:
                    f.write(text((linked[1], int(out[0][-2:], 16))))
                d.signal(signal.SIGHUP)
                press(sim, out[0], "click")
                check(wait_for(lambda: sim.state(out[0])["Linked"], 30), "a reload frees a slot: it links")
                check(wait_for(lambda: alarm not in [str(x) for x in gateway(sim, "Alarms")], 10),
                      "its link alarm closes")
                check(wait_for(lambda: sorted(c for b, c, q in deliveries(sink) if b == name) != [], 20),
                      "its presses arrive")
                check(int(sim_status(sim)["PeakLinks"]) <= 2, "never more links than the controller holds")
                rc = d.stop()
                check(rc == 0 and sanitizer_clean(d.output()), "clean stop")
                d.close()
        finally:
            sink.close()


run_presses()
run_starved()
finish()
