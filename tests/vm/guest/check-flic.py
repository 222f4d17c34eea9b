#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The whole gateway over the real Bluetooth stack: the guest's bluetoothd
with two linked btvirt controllers. On hci0 an emulated Flic 2 button
(flicsim --peripheral: a GATT server and LE advertiser through bluetoothd's
own GattManager1 and LEAdvertisingManager1); on hci1 flicgated, which must
find the button, pair with it in a window opened by `flicgatectl pair`,
turn its presses into alerts posted to a sink on the guest's loopback,
show them on gpio-sim LEDs and buzzer (open, escalate, acknowledge,
close), reconnect after the button drops the link, and come back after
bluetoothd restarts. What the gateway knows is read from its D-Bus API
(io.github.flicgate1) on the system bus, not from its log."""
import json
import os
import time

import dbus

import fgvm
from fgvm import check, log, require, wait_for

SIM = "io.github.flicgate.Sim1"
FG, FG_GATEWAY = "io.github.flicgate1", "/io/github/flicgate1/gateway"
SIM_PATH = "/io/github/flicgate/sim"
STATUS, ALERT, BUZZER, ACK = 17, 27, 22, 23
LEVEL1, LEVEL2 = 6, 12	# seconds an alert is open before escalation levels 1 and 2

CONFIG = """[gateway]
name = vm-flic
[bluetooth]
adapter = hci1
pairing = window
%(ct)s
trusted_key = %(key)s
[webhook alertops]
url = %(sink)s/POSTAlert/00000000-vm/Flic
[button reception]
address = %(button)s
on = single_click, hold
off = double_click
[gpio]
backend = gpiod
chip = pinctrl-bcm2711
status_led = 17
alert_led = 27
buzzer = 22
ack_input = 23
level2_pattern = buzzer: beep 1x 100ms every 1s
[escalation]
level1_after = %(l1)ds
level2_after = %(l2)ds
level3_after = 0
"""

# --- the radio: two controllers, one bluetoothd ------------------------------
# every message on the system bus, for the post-mortem (run-guest copies the logs out)
fgvm.Proc("dbus-monitor", ["stdbuf", "-oL", "dbus-monitor", "--system"])
fgvm.start_btvirt(2)
btd = fgvm.start_bluetoothd()
adapters = wait_for(lambda: len(fgvm.bluez_adapters()) >= 2 and fgvm.bluez_adapters(), 60) or {}
require(len(adapters) == 2, "bluetoothd has two adapters: %s" % sorted(adapters))
button = str(adapters.get("/org/bluez/hci0", {}).get("Address", "00:00:00:00:00:00"))
gateway = str(adapters.get("/org/bluez/hci1", {}).get("Address", ""))
log("button on hci0 %s, gateway on hci1 %s" % (button, gateway))

# --- the sink on the guest's loopback -----------------------------------------
port_file = os.path.join(fgvm.DIR, "sink.port")
requests = os.path.join(fgvm.DIR, "sink.jsonl")
sink = fgvm.Proc("flicsink", ["/usr/libexec/flicgate/flicsink", "--listen", "127.0.0.1:0",
                              "--port-file", port_file, "--log", requests, "--alertops"])
require(wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(), 10),
      "flicsink listens on the guest's loopback")
sink_url = "http://127.0.0.1:%s" % open(port_file).read().strip()


def alerts():
    """(button, state, gesture, queued) per request the sink got on the alert
    path for the button (not the gateway's own supervision alerts)."""
    out = []
    try:
        lines = open(requests).read().splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        try:
            r = json.loads(line)
            if not r.get("path", "").startswith("/POSTAlert/"):
                continue
            b = json.loads(r["body"])
        except (ValueError, KeyError):
            continue
        if b.get("flic_nameId") == "reception":
            out.append((b.get("flic_nameId"), b.get("flic_state"), b.get("flic_gesture"), b.get("flic_queued")))
    return out


# --- the button: flicsim as a peripheral on hci0 ---------------------------------
sim = fgvm.Proc("flicsim", ["/usr/libexec/flicgate/flicsim", "--system", "--peripheral", "hci0", "-v"])
bus = dbus.SystemBus()
require(wait_for(lambda: bus.name_has_owner(SIM), 15), "flicsim --peripheral hci0 is up")
ctl = dbus.Interface(bus.get_object(SIM, SIM_PATH), SIM)
test_key = str(dbus.Interface(bus.get_object(SIM, SIM_PATH), "org.freedesktop.DBus.Properties").Get(SIM, "TestIdentityKey"))
ctl.AddButton("reception", button, "BG30-VM0001", dbus.Dictionary({"public_mode": dbus.Boolean(True),
                                                                    "public_mode_s": dbus.UInt32(300)},
                                                                   signature="sv"))
require(sim.wait_log("GATT service registered", 20), "the button's GATT service is registered with bluetoothd")
require(sim.wait_log("advertising: public", 20), "the button advertises in public mode")


def sim_state():
    return {str(k): v for k, v in ctl.GetButton(button).items()}


def press(gesture, settle=1.0):
    end = time.monotonic() + 10
    while True:
        try:
            ctl.Press(button, gesture)
            break
        except dbus.exceptions.DBusException as e:
            if "Busy" not in e.get_dbus_name() or time.monotonic() > end:
                raise
            time.sleep(0.05)
    time.sleep(settle)


# --- the gateway --------------------------------------------------------------------
gpio = fgvm.GpioSim("gw", "pinctrl-bcm2711", 28)
# The production default connect_timeout, unless the kernel command line
# says otherwise (fgvm.connect_timeout=30s: to look past the discovery
# window finding, docs/testing.md).
ct = [w.split("=", 1)[1] for w in open("/proc/cmdline").read().split() if w.startswith("fgvm.connect_timeout=")]
fgvm.install_config(CONFIG % dict(ct="connect_timeout = " + ct[0] if ct else "", key=test_key, sink=sink_url, button=button, l1=LEVEL1, l2=LEVEL2))
d = fgvm.Flicgated(["-v"])
require(d.wait_ready(), "flicgated reaches READY=1")
# the operator's way: a pairing window, followed live (PairingProgress)
rc, out = fgvm.run(["flicgatectl", "pair", "--timeout", "120"], timeout=150)
log("flicgatectl pair (exit %d):" % rc, " | ".join(out.strip().splitlines()[-6:]))
paired = rc == 0
if not paired:
    # what bluetoothd says about the button's device object on the gateway's side
    om = dbus.Interface(bus.get_object("org.bluez", "/"), "org.freedesktop.DBus.ObjectManager")
    for path, ifs in om.GetManagedObjects().items():
        if "org.bluez.Device1" in ifs:
            dev = ifs["org.bluez.Device1"]
            log(path, {k: str(dev[k]) for k in ("Connected", "ServicesResolved", "Paired", "Trusted") if k in dev})
require(paired, "flicgatectl pair: the gateway discovers the button in public mode and pairs")
api = dbus.Interface(bus.get_object(FG, FG_GATEWAY), FG + ".Gateway")
button_path = api.GetButton("reception")


def fg_button(name):
    """One property of the gateway's Button object for the button."""
    return dbus.Interface(bus.get_object(FG, button_path), "org.freedesktop.DBus.Properties").Get(FG + ".Button", name)


def fg_gateway(name):
    return dbus.Interface(bus.get_object(FG, FG_GATEWAY), "org.freedesktop.DBus.Properties").Get(FG + ".Gateway", name)


def connected():
    try:
        return bool(fg_button("Connected"))
    except dbus.exceptions.DBusException:
        return False


check(fg_button("Paired") and fg_button("Configured") and str(fg_button("Address")) == button,
      "the API shows it paired, as [button reception]")
require(wait_for(connected, 30), "the session is verified (Button.Connected)")
check(os.path.exists("/var/lib/flicgate") and any(os.scandir("/var/lib/flicgate")),
      "the pairing is stored under /var/lib/flicgate")
ctl.SetPublicMode(button, False)

# a click opens an alert: the sink gets it, the alert LED shows it
t_open = time.monotonic()
press("click")
require(wait_for(lambda: ("reception", "On", "single_click", False) in alerts(), 20),
      "a click becomes an On alert at the sink: %s" % alerts())
check(wait_for(lambda: gpio.value(ALERT) == 1, 5), "the alert LED is on")
time.sleep(0.5)
steady = gpio.sample(ALERT, 1.5)
check(len(steady) == 1 and steady[0][1] == 1, "delivered: the alert LED is steady on (%s)" %
      [v for _, v in steady])
check(gpio.value(BUZZER) == 0, "no buzzer before escalation")

# escalation: level 1 blinks the alert LED fast, level 2 chirps the buzzer
time.sleep(max(0, LEVEL1 + 0.5 - (time.monotonic() - t_open)))
blink = gpio.sample(ALERT, 2.0)
check(len(blink) >= 5, "level 1: the alert LED blinks (%d changes in 2 s)" % (len(blink) - 1))
time.sleep(max(0, LEVEL2 + 0.5 - (time.monotonic() - t_open)))
beeps = [t for t, v in gpio.sample(BUZZER, 2.5) if v == 1]
check(len(beeps) >= 2, "level 2: the buzzer chirps (%d chirps in 2.5 s)" % len(beeps))

# the acknowledge button silences the buzzer, the LED keeps showing
gpio.pull(ACK, False)
time.sleep(0.3)
gpio.pull(ACK, True)
check(d.wait_log("Local acknowledge: buzzer silenced", 10), "the acknowledge button silences the buzzer")
time.sleep(0.3)
quiet = gpio.sample(BUZZER, 2.5)
check(all(v == 0 for _, v in quiet), "the buzzer stays silent after the acknowledge")
check(len(gpio.sample(ALERT, 1.5)) >= 3, "the alert LED still blinks")

# a double click closes it
press("double_click")
check(wait_for(lambda: ("reception", "Off", "double_click", False) in alerts(), 20),
      "a double click becomes an Off alert")
check(wait_for(lambda: all(v == 0 for _, v in gpio.sample(ALERT, 1.0)), 10),
      "closed: the alert LED goes dark")
out = open(sink.log_path).read()
check("Mapped Opened" in out and "Mapped Closed" in out, "the AlertOps-like sink opened and closed an incident")

# the button drops the link (out of range), presses queue in it, then it is back
ctl.SetInRange(button, False)
check(wait_for(lambda: not connected(), 20), "the link drop is seen by the gateway (Button.Connected false)")
n = len(alerts())
press("click")
time.sleep(1.5)
check(len(alerts()) == n, "nothing arrives while the button is away")
ctl.SetInRange(button, True)
require(wait_for(connected, 60), "the gateway reconnects when the button advertises again")
check(wait_for(lambda: ("reception", "On", "single_click", True) in alerts(), 30),
      "the press made while away arrives, marked queued")

# bluetoothd restarts under the gateway. The button is away meanwhile:
# both ends of the link are this one bluetoothd, and a restart with the
# link up leaves the button's btvirt controller advertising with no host,
# which the gateway's controller then connects to (a link nobody serves;
# docs/testing.md, pitfalls). A real button's radio is its own.
ctl.SetInRange(button, False)
check(wait_for(lambda: not connected(), 20), "the button is away before the restart")
log("restarting bluetoothd")
rc = btd.stop()
# Debian 12's kernel (6.1) sometimes hits a BUG when bluetoothd closes the
# socket of an LE connect still pending (the gateway's, for the button
# that is away): "list_del corruption" in hci_chan_del, bluetoothd killed
# (docs/testing.md, finding 4). Not the gateway's doing; what the gateway
# does next is still checked below. Any other exit status fails.
_, dmesg = fgvm.run(["dmesg"])
kernel_bug = rc != 0 and "list_del corruption" in dmesg and "hci_chan_del" in dmesg
if kernel_bug:
    log("KNOWN KERNEL BUG at bluetoothd's exit (list_del corruption in hci_chan_del): bluetoothd exit %s" % rc)
check(rc == 0 or kernel_bug, "bluetoothd stops (exit %s%s)" % (rc, ", the known kernel bug" if kernel_bug else ""))
check(wait_for(lambda: fg_gateway("AdapterState") == "no-bluetoothd", 10),
      "the gateway sees bluetoothd gone (AdapterState %s)" % fg_gateway("AdapterState"))
# pressed while bluetoothd is down: the button keeps it
press("double_click", settle=0.5)
log("button's controller reset: %s" % " / ".join(fgvm.reset_controller(0).split()[-6:]))
btd = fgvm.start_bluetoothd("bluetoothd-2")
require(btd is not None, "bluetoothd is back")
check(wait_for(lambda: sim.output().count("GATT service registered") >= 2, 30),
      "the button registers again with the new bluetoothd")
check(wait_for(lambda: fg_gateway("AdapterState") == "ready", 30), "the adapter is ready again")
ctl.SetInRange(button, True)
check(wait_for(connected, 60), "the gateway reconnects through the new bluetoothd")
check(wait_for(lambda: alerts()[-1:] and alerts()[-1] == ("reception", "Off", "double_click", True), 30),
      "and the press made while bluetoothd was down arrives, queued: %s" % alerts()[-1:])
press("click")
check(wait_for(lambda: alerts()[-1:] and alerts()[-1][:3] == ("reception", "On", "single_click"), 20),
      "presses keep working after the restart")

rc, out = fgvm.run(["flicgatectl", "status"])
check(rc == 0 and "reception" in out, "flicgatectl status lists the button (exit %d)" % rc)
st = sim_state()
log("button state", {k: str(v) for k, v in st.items()})
rc = d.stop()
check(rc == 0, "flicgated stops cleanly (exit %s)" % rc)
check(sim.stop() == 0, "flicsim stops cleanly")
gpio.close()
fgvm.finish()
