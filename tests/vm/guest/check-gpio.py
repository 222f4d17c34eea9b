#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""flicgated's LEDs, buzzer and acknowledge button on a real GPIO character
device: a gpio-sim chip labelled like the Pi 4's, found by label, lines by
offset and by name, an active-low LED inverted by the kernel, the
acknowledge button's bias and edges, the lines released on exit. The
libgpiod driver is the one of the guest's release (1.6 on bookworm, 2.x on
trixie)."""
import fgvm
from fgvm import check, log, wait_for

STATUS, ALERT, BUZZER, ACK = 17, 27, 22, 23
CONFIG = """[gateway]
name = vm-gpio
[webhook sink]
url = http://127.0.0.1:9/POSTAlert/SECRETKEY123/Flic
[button reception]
address = 80:E4:DA:70:12:34
[gpio]
backend = gpiod
chip = %(chip)s
status_led = GPIO17
alert_led = 27
alert_led_active_low = yes
buzzer = 22
ack_input = 23
"""

sim = fgvm.GpioSim("gw", "pinctrl-bcm2711", 28, {STATUS: "GPIO17", ACK: "GPIO23"})
fgvm.install_config(CONFIG % {"chip": "pinctrl-bcm2711"})
d = fgvm.Flicgated(["-v"])
check(d.wait_ready(), "flicgated with [gpio] backend = gpiod reaches READY=1")


info = sim.info()
for off in (STATUS, ALERT, BUZZER, ACK):
    check("flicgated" in info.get(off, ""), "line %d is held by flicgated: %s" % (off, info.get(off, "").strip()))
for off in (STATUS, ALERT, BUZZER):
    check("output" in info.get(off, ""), "line %d is an output" % off)
check("input" in info.get(ACK, ""), "line %d (acknowledge) is an input" % ACK)

# No Bluetooth adapter in this check: the status LED blinks 1 s at 50 %.
changes = sim.sample(STATUS, 3.5)
edges = len(changes) - 1
high = sum(b[0] - a[0] for a, b in zip(changes, changes[1:]) if a[1] == 1)
span = changes[-1][0] - changes[0][0] if edges > 0 else 0
log("status LED changes", [(round(t - changes[0][0], 2), v) for t, v in changes])
check(5 <= edges <= 9, "status LED blinks (no adapter): %d changes in 3.5 s" % edges)
check(span > 0 and 0.3 < high / span < 0.7, "status LED is on about half the time (%.0f%%)"
      % (100 * high / span if span else 0))
check(sim.value(ALERT) == 1, "alert LED, active low, is off: the kernel drives its line high")
check(sim.value(BUZZER) == 0, "buzzer is off")

# The acknowledge button: the daemon asked for a pull-up, which gpio-sim
# applies to its side of the line; a press pulls it low.
check(sim.value(ACK) == 1, "acknowledge line rests high (the daemon's pull-up bias)")
sim.pull(ACK, False)
wait_for(lambda: False, 0.3)
sim.pull(ACK, True)
check(d.wait_log("Local acknowledge button pressed", 10), "a press on the acknowledge line is seen")
check(d.output().count("Local acknowledge button pressed") == 1, "one press counts once")

rc = d.stop()
check(rc == 0, "flicgated exits 0 on SIGTERM (got %s)" % rc)
info = sim.info()
check(all("flicgated" not in info.get(off, "") for off in (STATUS, ALERT, BUZZER, ACK)),
      "every line is released on exit")

# A chip that is not there: the gateway still runs (alerts matter more than lights).
fgvm.install_config(CONFIG % {"chip": "pinctrl-rp1"})
d2 = fgvm.Flicgated(["-v"], name="flicgated-nochip")
check(d2.wait_ready(), "with a missing chip flicgated still reaches READY=1")
check(d2.wait_log("running without them", 10), "and says it runs without LEDs and buzzer")
check(d2.stop() == 0, "and stops cleanly")
sim.close()
fgvm.finish()
