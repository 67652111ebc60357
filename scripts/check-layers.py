#!/usr/bin/env python3
"""check-layers.py SRCDIR [--list] [--stamp FILE] - the folders are layers.

The source folders form one dependency order (the top-level meson.build
builds them in it):

    common < lookup < loaders < scan < dataplane < dataplane/dpdk < rirdb

and a file may include only headers from its own folder and from folders
before it.  Every `#include "NAME"` of every .c and .h in those folders is
resolved (NAME relative to the including file when it has a '/', else by
header name, which must be unique across the folders) and checked; tests/
and perf/ come last and may include anything.  Exit 1 with one
`FILE:LINE: reason` per violation, so that `meson setup` (run_command) and
every build (a custom target on the same sources) fail on one.

--list prints the checked files (the build's dependency list); --stamp
FILE writes FILE after a clean check.
"""
import os
import re
import sys

LAYERS = ["common", "lookup", "loaders", "scan", "dataplane", "dataplane/dpdk", "rirdb"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(root, path):
    """The layer a file belongs to (its folder), or None outside them."""
    d = os.path.relpath(os.path.dirname(path), root)
    return d if d in LAYERS else None


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    root = os.path.abspath(args[0])
    files = []
    for layer in LAYERS:
        d = os.path.join(root, layer)
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                files.append(os.path.join(d, name))
    if "--list" in args:
        print("\n".join(files))
        return 0
    headers = {}
    errors = []
    for f in files:
        if f.endswith(".h"):
            name = os.path.basename(f)
            if name in headers:
                errors.append(f"{os.path.relpath(f, root)}:1: header name also used by "
                              f"{os.path.relpath(headers[name], root)}")
            headers[name] = f
    for f in files:
        mine = LAYERS.index(layer_of(root, f))
        with open(f, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                if "/" in inc:
                    target = os.path.normpath(os.path.join(os.path.dirname(f), inc))
                else:
                    target = headers.get(inc)
                where = f"{os.path.relpath(f, root)}:{n}"
                if not target or not os.path.exists(target):
                    errors.append(f'{where}: "{inc}" is not a header of the source folders')
                    continue
                theirs = layer_of(root, target)
                if theirs is None:
                    errors.append(f'{where}: "{inc}" is outside the layered folders')
                elif LAYERS.index(theirs) > mine:
                    errors.append(f'{where}: "{inc}" is in {theirs}/, which is built after '
                                  f'{layer_of(root, f)}/ (order: {" < ".join(LAYERS)})')
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        return 1
    if "--stamp" in args:
        with open(args[args.index("--stamp") + 1], "w") as fh:
            fh.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
