#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The kernel's GPIO character device through gpio-sim (built out of tree
for Debian's kernel): a chip labelled like the Raspberry Pi's, seen and
driven with the libgpiod tools of the guest's release, the simulator
seeing what the tools drive and the tools seeing what the simulator pulls."""
import time

import fgvm
from fgvm import check, log

sim = fgvm.GpioSim("tools", "pinctrl-bcm2711", 28, {17: "GPIO17", 23: "GPIO23"})
log("chip", sim.chip, "at", sim.sysfs)
rc, out = fgvm.run(["gpiodetect"])
check(rc == 0 and "pinctrl-bcm2711" in out and "(28 lines)" in out, "gpiodetect: " + out.strip())
v2 = fgvm.gpiod_tools_v2()
log("libgpiod tools", "2.x" if v2 else "1.x", fgvm.run(["gpioset", "--version"])[1].splitlines()[0])
info = sim.info()
check('"GPIO17"' in info.get(17, "") and '"GPIO23"' in info.get(23, ""),
      "gpioinfo lists the line names: %s / %s" % (info.get(17), info.get(23)))


def gpioset(line, value):
    """Holds @line at @value (a process, as a consumer would) until killed."""
    if v2:
        argv = ["gpioset", "--chip", sim.chip, "%d=%d" % (line, value)]
    else:
        argv = ["gpioset", "--mode=signal", sim.chip, "%d=%d" % (line, value)]
    return fgvm.Proc("gpioset-%d-%d" % (line, value), argv)


def gpioget(line):
    argv = ["gpioget", "--numeric", "--chip", sim.chip, str(line)] if v2 else ["gpioget", sim.chip, str(line)]
    rc, out = fgvm.run(argv)
    return out.strip() if rc == 0 else "error: " + out.strip()


for val in (1, 0):
    p = gpioset(17, val)
    ok = fgvm.wait_for(lambda: sim.value(17) == val, 5)
    check(ok, "gpioset 17=%d: the simulator sees %d" % (val, sim.value(17)))
    p.stop()

for up in (True, False):
    sim.pull(23, up)
    got = gpioget(23)
    check(got == ("1" if up else "0"), "simulator pulls line 23 %s: gpioget reads %s" % ("up" if up else "down", got))

# edges from the simulator's interrupt source
if v2:
    argv = ["gpiomon", "--chip", sim.chip, "--num-events=2", "--format=%e", "23"]
else:
    argv = ["gpiomon", "--num-events=2", "--format=%e", sim.chip, "23"]
mon = fgvm.Proc("gpiomon", argv)
time.sleep(0.5)
sim.pull(23, True)
time.sleep(0.1)
sim.pull(23, False)
fgvm.wait_for(lambda: not mon.running(), 5)
events = mon.output().split()
# %e: libgpiod 1.6 prints 1/0 for rising/falling, 2.x prints 1/2
check(events == (["1", "2"] if v2 else ["1", "0"]), "gpiomon sees a rising then a falling edge: %s" % events)
sim.close()
check(not fgvm.os.path.exists(sim.dev), "the chip goes away when the simulator is taken down")
fgvm.finish()
