#!/usr/bin/python3
"""The source tree keeps the shape docs/architecture.md promises.

1. No .c or .h file in daemon/ or tools/ is longer than 800 lines.
2. Every .c there opens with a comment saying what it is for (after an
   optional SPDX line).
3. No circle between files: from the objects the build made, file A depends
   on file B when A uses a global symbol B defines; within the daemon and
   within each tool, that graph has no cycle.
4. A domain's pure files never use a symbol of the manager or of another
   domain's adapter (arrows go from adapters and the manager down to pure
   code, never back up).
"""
import os
import re
import subprocess
import sys

SRC = os.environ.get("FG_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("FG_BUILD", os.path.join(SRC, "build"))
MAX_LINES = 800
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def sources(top, exts):
    for d, _, files in os.walk(os.path.join(SRC, top)):
        for f in sorted(files):
            if f.endswith(exts):
                yield os.path.relpath(os.path.join(d, f), SRC)


# 1. and 2.
n_files = 0
for path in list(sources("daemon", (".c", ".h"))) + list(sources("tools", (".c", ".h"))):
    n_files += 1
    with open(os.path.join(SRC, path), encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > MAX_LINES:
        fail(f"{path}: {len(lines)} lines (at most {MAX_LINES}: split it by concern)")
    if path.endswith(".c"):
        body = [l for l in lines if "SPDX-License-Identifier" not in l]
        if not body or not body[0].lstrip().startswith(("/*", "//")):
            fail(f"{path}: does not open with a comment saying what it is for")

# 3. symbol graph per program
def nm(obj, *args):
    out = subprocess.run(["nm", *args, obj], capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def graph(objs):
    defined, used = {}, {}
    for src, obj in objs.items():
        used[src] = set()
        for line in nm(obj, "--defined-only", "-g"):
            parts = line.split()
            if len(parts) == 3 and parts[1] not in ("U", "w", "v"):
                defined.setdefault(parts[2], src)
        for line in nm(obj, "-u"):
            used[src].add(line.split()[-1])
    edges = {src: set() for src in objs}
    for src, syms in used.items():
        for s in syms:
            dst = defined.get(s)
            if dst and dst != src:
                edges[src].add(dst)
    return edges


def cycles(edges):
    """Tarjan's strongly connected components of size > 1."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def objects(top):
    objs = {}
    for src in sources(top, (".c",)):
        obj = os.path.join(BUILD, "obj", src[:-2] + ".o")
        if os.path.exists(obj):
            objs[src] = obj
        else:
            fail(f"{obj} not built (make test-build first)")
    return objs


programs = {"daemon": {**objects("daemon")}}
for tool in sorted(os.listdir(os.path.join(SRC, "tools"))):
    if os.path.isdir(os.path.join(SRC, "tools", tool)):
        programs[f"tools/{tool}"] = objects(f"tools/{tool}")

for name, objs in programs.items():
    if not objs:
        continue
    edges = graph(objs)
    for comp in cycles(edges):
        ties = []
        for a in comp:
            for b in sorted(edges[a]):
                if b in comp:
                    ties.append(f"{a} -> {b}")
        fail(f"{name}: circle between {', '.join(comp)} ({'; '.join(ties)})")

# 4. pure files point down only
pure = subprocess.run(["make", "-s", "--no-print-directory", "-C", SRC, "print-pure"],
                      capture_output=True, text=True, check=True).stdout.split()
edges = graph(programs["daemon"])
for src in pure:
    for dst in sorted(edges.get(src, ())):
        if dst not in pure and not dst.startswith("daemon/lib/"):
            fail(f"{src} (pure) uses {dst}: pure code may use pure code and lib/ only")

print(f"test-layout: {n_files} files, {sum(len(o) for o in programs.values())} objects, "
      f"{len(pure)} pure")
if failures:
    print(f"test-layout: {len(failures)} problems")
    sys.exit(1)
print("test-layout: ok")
