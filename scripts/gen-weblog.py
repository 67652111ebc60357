#!/usr/bin/env python3
"""Generate a web-server access log (combined format) for rirdb scan benchmarks.

Client addresses are drawn from the bundled registry files (80% IPv4, 20%
IPv6), uniformly inside delegated blocks; each line also carries the
decoys real logs have (a Chrome/120.0.0.0 user agent, a versioned path, a
timestamp).  A block of distinct lines is generated once and repeated up to
the requested size, so a gigabyte takes seconds.
"""
import argparse
import glob
import ipaddress
import os
import random

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument('--out', required=True)
ap.add_argument('--mib', type=int, default=1024)
ap.add_argument('--data', default=os.path.join(os.path.dirname(__file__), '..', 'data'))
ap.add_argument('--seed', type=int, default=1)
args = ap.parse_args()

v4, v6 = [], []
for path in sorted(glob.glob(os.path.join(args.data, 'rir', 'delegated-*'))):
    with open(path, errors='replace') as f:
        for line in f:
            p = line.split('|')
            if len(p) >= 7 and p[1] not in ('*', '') and p[2] in ('ipv4', 'ipv6'):
                (v4 if p[2] == 'ipv4' else v6).append((p[3], int(p[4])))
rng = random.Random(args.seed)
lines = []
for i in range(50000):
    if rng.random() < 0.8:
        start, size = rng.choice(v4)
        a = ipaddress.IPv4Address(int(ipaddress.IPv4Address(start)) + rng.randrange(size))
    else:
        start, plen = rng.choice(v6)
        a = ipaddress.IPv6Address(int(ipaddress.IPv6Address(start)) +
                                  rng.getrandbits(min(64, 128 - plen)))
    lines.append('%s - - [28/Nov/2026:%02d:%02d:%02d +0000] "GET /static/app.v%d.js HTTP/1.1" '
                 '200 %d "https://example.com/page?id=%d" "Mozilla/5.0 (X11; Linux x86_64) '
                 'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"\n'
                 % (a, i // 3600 % 24, i // 60 % 60, i % 60, i % 97, rng.randrange(100000), i))
block = ''.join(lines).encode()
want = args.mib << 20
with open(args.out, 'wb') as f:
    written = 0
    while written < want:
        chunk = block[:want - written]
        if len(chunk) < len(block):  # whole lines only
            chunk = chunk[:chunk.rfind(b'\n') + 1] or block
        f.write(chunk)
        written += len(chunk)
