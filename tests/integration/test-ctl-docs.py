#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""flicgatectl's help, bash completion, man page and the D-Bus API document
cannot drift from the code: --help is compared with a golden file, the
installed completion with what the command table generates, the man page
must describe every command, option and exit code, docs/dbus-api.md every
name in flicgate-dbus.h, docs/bluez.md the pairing export's markers, and
the completion is run in bash against a real
daemon (commands, options, button names)."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import BUILD, SRCDIR, Daemon, PrivateBus, TempDir, check, finish, skip, wait_for
from fgapi import CTL, NAME, golden

help_text = subprocess.run([CTL, "--help"], capture_output=True, text=True).stdout
golden("help.txt", help_text)
check(all(len(l) <= 80 for l in help_text.splitlines()), "--help fits 80 columns")
commands = re.findall(r"^  ([a-z][a-z-]*)\b", help_text.split("Options:")[0].split("Commands:")[1], re.M)
check(len(commands) == 12, "--help lists the 12 commands (%s)" % commands)

# ---- completion file == generated
gen = subprocess.run([CTL, "--bash-completion"], capture_output=True, text=True).stdout
with open(os.path.join(SRCDIR, "tools", "flicgatectl", "flicgatectl.bash")) as f:
    check(f.read() == gen, "tools/flicgatectl/flicgatectl.bash is what the table generates (make docs)")
check(subprocess.run(["bash", "-n"], input=gen, text=True).returncode == 0, "the completion is valid bash")

# ---- man page
with open(os.path.join(SRCDIR, "docs", "flicgatectl.1")) as f:
    man = f.read()
section = man.split(".SH COMMANDS")[1].split(".SH OPTIONS")[0]
for c in commands:
    check(re.search(r"^\\fB%s\\fR" % c, section, re.M), "flicgatectl(1) describes '%s'" % c)
for opt in sorted(set(re.findall(r"--([a-z-]+)", help_text))):
    check("\\-\\-" + opt.replace("-", "\\-") in man, "flicgatectl(1) mentions --%s" % opt)
codes = re.findall(r"^\.B (\d)$", man.split(".SH EXIT STATUS")[1].split(".SH")[0], re.M)
check(codes == [str(i) for i in range(8)], "flicgatectl(1) documents exit codes 0-7")
with open(os.path.join(SRCDIR, "tools", "flicgatectl", "ctl.h")) as f:
    ctl_h = f.read()
check(re.findall(r"EXIT_\w+ = (\d)", ctl_h) == [str(i) for i in range(8)], "ctl.h has the same 0-7")
if shutil.which("man"):
    p = subprocess.run(["man", "--warnings", "-l", os.path.join(SRCDIR, "docs", "flicgatectl.1")],
                       capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80", PAGER="cat"))
    check(p.returncode == 0 and not p.stderr.strip(), "flicgatectl(1) renders without warnings (%s)" % p.stderr)

# ---- every D-Bus name is documented
with open(os.path.join(SRCDIR, "daemon", "control", "flicgate-dbus.h")) as f:
    header = f.read()
with open(os.path.join(SRCDIR, "docs", "dbus-api.md")) as f:
    doc = f.read()
names = re.findall(r'#define FG_DBUS_(?!ERROR_PREFIX|OPERATOR|PAIRING_)\w+\s+"([^"]+)"', header)
names += ["io.github.flicgate1.Error." + n for n in re.findall(r'FG_DBUS_ERROR_PREFIX "(\w+)"', header)]
names += re.findall(r'#define FG_DBUS_PAIRING_\w+\s+"([^"]+)"', header)
check(len(names) > 60, "the header names %d things" % len(names))
for n in names:
    if n.startswith("(") or re.match(r"^[tsbiu]+$", n):
        continue	# signatures
    check("`%s`" % n in doc, "docs/dbus-api.md documents `%s`" % n)

# ---- the pairing export format in docs/bluez.md is the one the code writes
with open(os.path.join(SRCDIR, "daemon", "radio", "pairing-export.c")) as f:
    code = f.read()
with open(os.path.join(SRCDIR, "docs", "bluez.md")) as f:
    bluez_md = f.read()
markers = re.findall(r'#define (?:HEADER|M_\w+)\s+"([^"]+?)(?:\\n)?"', code)
check(len(markers) == 5, "pairing-export.c has its 5 markers (%s)" % markers)
for m in markers:
    check(m.strip() in bluez_md, "docs/bluez.md shows the export's '%s'" % m.strip())

# ---- the completion at work, against a real daemon
if not os.path.exists("/usr/share/bash-completion/bash_completion"):
    print("note: bash-completion is not installed; _init_completion and _filedir are stubbed")
STUB = r'''
_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; }
_filedir() { COMPREPLY=(FILES); }
complete() { :; }
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
_flicgatectl
echo "${COMPREPLY[*]}"
'''


def complete(*words, env=None):
    p = subprocess.run(["bash", "-c", STUB, "stub", os.path.join(SRCDIR, "tools", "flicgatectl", "flicgatectl.bash")]
                       + list(words), capture_output=True, text=True, env=env)
    return p.stdout.strip()


env = dict(os.environ, PATH=BUILD + ":" + os.environ["PATH"])
check(complete("flicgatectl", "st") == "status", "completes a command")
check(complete("flicgatectl", "--js") == "--json --json=pretty --json=short", "completes global options")
check(complete("flicgatectl", "pair", "--") .split()[:2] == ["--timeout", "--name"], "completes a command's options")
check(complete("flicgatectl", "export", "") == "FILES", "export completes file names")
check(complete("flicgatectl", "pair", "--name", "") == "", "no completion for a new name")

with TempDir() as tmp:
    ini = tmp.file("flicgate.ini", "[gateway]\nstate_dir = %s/state\n[webhook w]\nurl = http://127.0.0.1:9/\n"
                   "[button reception]\nserial = BG30-C12345\n[button bed-1]\nserial = BG30-D00001\n" % tmp.path)
    bus = PrivateBus(tmp)
    d = Daemon(tmp, bus, ini)
    try:
        check(wait_for(lambda: bus.name_owner(NAME)), "a daemon to complete against")
        check(complete("flicgatectl", "--bus", bus.address, "unpair", "re", env=env) == "reception",
              "completes button names from the daemon on the same bus")
        check(complete("flicgatectl", "--bus", bus.address, "buttons", "", env=env) == "bed-1 reception",
              "lists every button")
        check(complete("flicgatectl", "--bus", bus.address, "rename", "bed-1", "", env=env) == "",
              "the new name of rename is not completed")
    finally:
        d.close()
        bus.close()

finish()
