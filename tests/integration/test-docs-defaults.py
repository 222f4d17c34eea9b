#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The documentation states the same defaults as the option table: every
`key = value` written in a paragraph (or table row) of README.md or
docs/*.md that speaks of a default must be that key's default in
conf/flicgate.ini, which is generated from daemon/config/config-options.c
(test-config checks that). docs/alerts.md once said `on = click` while the
table said `single_click, hold`."""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import SRCDIR, check, finish  # noqa: E402


def table_defaults():
    """{key: set of defaults over every section}, from the generated example."""
    out = {}
    default = None
    for line in open(os.path.join(SRCDIR, "conf", "flicgate.ini")):
        m = re.match(r"^# \(.*?, default (.*)\)$", line.rstrip("\n"))
        if m:
            default = m.group(1)
            continue
        m = re.match(r"^#(\w+) = ", line)
        if m and default is not None:
            out.setdefault(m.group(1), set()).add(default)
        if not line.startswith("# ("):
            default = None if not m else default
    return out


def norm(v):
    return re.sub(r"\s*,\s*", ", ", v.strip().strip('"')).lower()


def called_default(chunk, i):
    """Does the clause the value stands in call it a default? The clause runs
    back to the last '.', ';', ':', '(' or ')'; after a '(' the sentence
    before it counts too ("Defaults live in the table (`on = …`, …)")."""
    j = max(chunk.rfind(c, 0, i) for c in ".;:()")
    clause = chunk[j + 1:i]
    if j >= 0 and chunk[j] == "(":
        clause = chunk[chunk.rfind(". ", 0, j) + 1:i]
    return re.search(r"\bdefault", clause, re.I) is not None


defaults = table_defaults()
check(len(defaults) > 40 and defaults.get("on") == {"single_click, hold"},
      "the option table's defaults are read (%d keys, on = %s)" % (len(defaults), defaults.get("on")))

files = [os.path.join(SRCDIR, "README.md")] + sorted(glob.glob(os.path.join(SRCDIR, "docs", "*.md")))
seen = 0
wrong = []
for path in files:
    text = open(path).read()
    # paragraphs, and each table row on its own
    chunks = []
    for para in re.split(r"\n\s*\n", text):
        if para.lstrip().startswith("|"):
            chunks += para.splitlines()
        else:
            chunks.append(para)
    for chunk in chunks:
        if not re.search(r"\bdefault", chunk, re.I):
            continue
        for m in re.finditer(r"`(\w+) = ([^`\n]+)`", chunk):
            key, value = m.group(1), m.group(2)
            if key not in defaults or not called_default(chunk, m.start()):
                continue
            seen += 1
            if norm(value) not in {norm(d) for d in defaults[key]}:
                wrong.append("%s: `%s = %s` but the default is %s" % (
                    os.path.relpath(path, SRCDIR), key, value, " or ".join(sorted(defaults[key]))))
check(seen >= 3, "the docs state defaults this test can compare (%d)" % seen)
check(not wrong, "every default the docs state is the table's:\n  " + "\n  ".join(wrong))

finish()
