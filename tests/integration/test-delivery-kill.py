#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kill -9 of the running pipeline at random moments during a burst of
presses; after a restart every acknowledged press reaches the target at
least once, with its idempotency key, and per button in order."""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import TempDir, check, finish, BUILD  # noqa: E402
from delivery import Sink, Driver, write_config, acked, order_ok, spool_records  # noqa: E402

EVENTS = 240
KILLS = 12

if not os.path.exists(os.path.join(BUILD, "tests", "tools", "pipeline-driver")):
    print("FAIL pipeline-driver not built (make test-build)")
    sys.exit(1)

seed = int(os.environ.get("FG_SEED", str(int(time.time()))))
rng = random.Random(seed)
print("seed %d (FG_SEED=%d reproduces the kill times)" % (seed, seed))

with TempDir() as tmp:
    sink = Sink(tmp.path)
    state = os.path.join(tmp.path, "state")
    config = write_config(tmp.path, state, sink.url, buttons=4)
    ack = os.path.join(tmp.path, "acks")
    kills = 0
    try:
        for i in range(KILLS):
            # a slow or failing target now and then, so kills land mid-transfer and mid-retry
            mode = rng.choice(["ok", "slow 15", "status 503", "ok", "reset"])
            sink.control("/_sink/clear")
            sink.control("/_sink/mode", "count=%d %s" % (rng.randint(1, 20), mode))
            start = len(acked(ack))
            if start >= EVENTS and i > KILLS // 2:
                break
            d = Driver(tmp.path, config, EVENTS, start, ack, interval_ms=rng.choice([0, 1, 3]))
            time.sleep(rng.uniform(0.02, 0.4))
            d.kill9()
            d.close()
            kills += 1
        sink.control("/_sink/clear")
        d = Driver(tmp.path, config, EVENTS, len(acked(ack)), ack, drain=True)
        rc = d.wait(120)
        d.close()
        check(rc == 0, "final run drains the spool and exits (rc %s)" % rc)
        keys = acked(ack)
        got = sink.accepted_keys()
        missing = sorted(set(keys) - set(got))
        check(len(keys) == EVENTS, "all %d presses acknowledged over %d kills (%d)" % (EVENTS, kills, len(keys)))
        check(not missing, "every acknowledged press was accepted by the target (%d missing: %s)"
              % (len(missing), missing[:5]))
        check(all(k for k in got), "every request carried an Idempotency-Key")
        check(order_ok(got), "per button, first deliveries are in press order")
        dup = len(got) - len(set(got))
        print("info: %d requests accepted for %d presses (%d re-deliveries after kills)"
              % (len(got), len(set(got)), dup))
        check(not spool_records(state), "spool queue empty at the end")
    finally:
        sink.close()
        with open(os.path.join(tmp.path, "driver.log")) as f:
            tail = f.read()[-3000:]
        print(tail)
finish()
