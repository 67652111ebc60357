#!/usr/bin/env python3
"""gen-rpsl.py - a RIPE-shaped extended statistics file and whois dumps to
go with it, of any size, for perf/rpsl_bench.sh (and tests that want a large
dump).

    gen-rpsl.py --dir DIR --allocations N --objects M [--gzip]

writes DIR/delegated-ripencc-extended (N IPv4 allocations of /21, one
holder id per 4 allocations, one AS per holder), DIR/ripe.db.inetnum (M
inetnum objects: the N allocations, each with an object of exactly its range
whose org: names its holder's organisation, and the rest customers'
assignments inside them, as real dumps are mostly), DIR/ripe.db.organisation
(one organisation per holder) and prints, on stdout, the expected counts:
holders, named holders. Objects carry the attributes RIPE's do (netname,
descr, country, admin-c, tech-c, status, mnt-by, created, last-modified,
source with "# Filtered"), so bytes per object are realistic (~330).
"""
import argparse
import gzip
import os
import sys


def ip(v):
    return '%d.%d.%d.%d' % (v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255)


BASE = 0x50000000  # 80.0.0.0: allocations of /21 upwards from here
ALLOC = 2048


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--allocations', type=int, default=100000)
    ap.add_argument('--objects', type=int, default=5000000)
    ap.add_argument('--gzip', action='store_true')
    a = ap.parse_args()
    n = a.allocations
    if n * ALLOC > 0x40000000:
        sys.exit('too many allocations for the space used')
    os.makedirs(a.dir, exist_ok=True)
    opener = (lambda p: gzip.open(p + '.gz', 'wt', compresslevel=1)) if a.gzip else \
        (lambda p: open(p, 'w'))
    holders = (n + 3) // 4
    with open(os.path.join(a.dir, 'delegated-ripencc-extended'), 'w') as f:
        f.write('2.3|ripencc|1700000000|%d|19830705|20230323|+0100\n' % (n + holders))
        for i in range(n):
            f.write('ripencc|NL|ipv4|%s|%d|20100101|allocated|uuid-%08x\n'
                    % (ip(BASE + i * ALLOC), ALLOC, i // 4))
        for h in range(holders):
            f.write('ripencc|NL|asn|%d|1|20100101|allocated|uuid-%08x\n' % (100000 + h, h))
    per_alloc = max(0, a.objects - n) // n if n else 0
    extra = max(0, a.objects - n) - per_alloc * n
    tail = ('country:        NL\nadmin-c:        DUMY-RIPE\ntech-c:         DUMY-RIPE\n'
            'mnt-by:         EXAMPLE-MNT\ncreated:        2010-01-01T00:00:00Z\n'
            'last-modified:  2020-01-01T00:00:00Z\nsource:         RIPE # Filtered\n\n')
    with opener(os.path.join(a.dir, 'ripe.db.inetnum')) as f:
        f.write('#\n# The contents of this file are subject to\n# the RIPE Database Terms\n#\n\n')
        buf = []
        for i in range(n):
            lo = BASE + i * ALLOC
            buf.append('inetnum:        %s - %s\nnetname:        NET-%d\n'
                       'descr:          allocation %d\norg:            ORG-H%d-RIPE\n'
                       'status:         ALLOCATED PA\n%s'
                       % (ip(lo), ip(lo + ALLOC - 1), i, i, i // 4, tail))
            k = per_alloc + (1 if i < extra else 0)
            size = max(1, ALLOC // max(1, k))
            for j in range(k):
                s = lo + (j * size) % ALLOC
                buf.append('inetnum:        %s - %s\nnetname:        CUST-%d-%d\n'
                           'descr:          customer\nstatus:         ASSIGNED PA\n%s'
                           % (ip(s), ip(s + size - 1), i, j, tail))
            if len(buf) > 10000:
                f.write(''.join(buf))
                buf = []
        f.write(''.join(buf))
    with opener(os.path.join(a.dir, 'ripe.db.organisation')) as f:
        for h in range(holders):
            f.write('organisation:   ORG-H%d-RIPE\norg-name:       Holder %d B.V.\n'
                    'org-type:       LIR\n%s' % (h, h, tail))
    print('holders %d named %d' % (holders, holders))


if __name__ == '__main__':
    main()
