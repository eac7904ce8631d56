#!/usr/bin/env python3
# What the bytes of nestbox-launch are: the unstripped binary's function and
# object symbols (nm -C -S), one per address (LTO leaves aliases), summed by
# namespace/component.   Usage: bench/size_breakdown.py BUILD/launcher/nestbox-launch
import collections
import re
import subprocess
import sys

out = subprocess.run(["nm", "-C", "-S", "--size-sort", sys.argv[1]], capture_output=True, text=True, check=True).stdout
seen = set()
size = collections.Counter()
count = collections.Counter()
for line in out.splitlines():
    p = line.split(" ", 3)
    if len(p) < 4 or p[2] not in "tTwWrRdDbB" or p[0] in seen:
        continue
    seen.add(p[0])
    name = p[3]
    m = re.match(r"(nestbox::[a-z_]+)", name)
    if m:
        k = m.group(1)
    elif re.match(r"(std::|__gnu|__cxx|operator |typeinfo|vtable for (std|__cxx)|void std)", name):
        k = "libstdc++ (static: string, containers, function, RTTI)"
    elif re.match(r"\(anonymous namespace\)::|main$", name):
        k = "launcher/main.cc (command line, run/boot/status/list)"
    else:
        k = "other"
    k += " [code]" if p[2] in "tTwW" else " [data]"
    size[k] += int(p[1], 16)
    count[k] += 1
total = sum(size.values())
for k, v in sorted(size.items(), key=lambda x: -x[1]):
    print(f"{v:8d} {100 * v / total:5.1f}% {count[k]:5d}  {k}")
print(f"{total:8d} total in symbols")
