#!/usr/bin/env python3
"""geo.py - the located layer (loaders/geo.c) against libloc itself.

    geo.py RIRDB DATA_DIR

Builds a snapshot with Debian's location.db and checks, for 10,000
addresses across the IPv4 and IPv6 space (half inside networks the database
lists, picked at random, half uniform), that `rirdb lookup`'s geo_cc and
origin_asn equal what libloc's own Python bindings (Debian python3-location,
run by /usr/bin/python3) answer: an independent check of the layer.  Also:
the registry columns are unchanged by the layer, and a snapshot without it
prints no located columns.  Skipped, counted, without the database.
"""
import csv
import io
import ipaddress
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, data_inputs, finish, skip  # noqa: E402

RIRDB, DATA = sys.argv[1:3]
DB = '/usr/share/libloc-location/location.db'
SYS_PY = '/usr/bin/python3'

# Run by Debian's python (the bindings live in its dist-packages): the
# networks to sample from, then the answer for each address on stdin.
LIBLOC = r'''
import random, sys, location
db = location.Database(sys.argv[1])
if sys.argv[2] == 'sample':
    rnd = random.Random(int(sys.argv[3]))
    nets = list(db.networks)
    for n in rnd.sample(nets, int(sys.argv[4])):
        print(n.first_address, n.last_address)
else:
    for line in sys.stdin:
        a = line.strip()
        n = db.lookup(a)
        cc = n.country_code if n and n.country_code else ''
        asn = n.asn if n and n.asn else 0
        print('%s %s %s' % (a, cc, asn))
'''


def libloc(*args, stdin=None):
    p = subprocess.run([SYS_PY, '-c', LIBLOC, DB] + list(args), input=stdin,
                       capture_output=True, text=True, timeout=600)
    if p.returncode:
        raise RuntimeError(p.stderr)
    return p.stdout


def lookup(snap, addrs):
    p = subprocess.run([RIRDB, 'lookup', '-d', snap], input='\n'.join(addrs) + '\n',
                       capture_output=True, text=True, timeout=600)
    return list(csv.DictReader(io.StringIO(p.stdout)))


def main():
    if not os.path.exists(DB) or not os.path.exists(SYS_PY):
        skip('located layer equals libloc', 'no Debian location.db or python3-location')
        return finish()
    tmp = tempfile.mkdtemp(prefix='rirmeter-geo-')
    plain, geo = os.path.join(tmp, 'p.snap'), os.path.join(tmp, 'g.snap')
    inputs = data_inputs(DATA)
    subprocess.run([RIRDB, 'build', '-q', '-o', plain] + inputs, check=True)
    subprocess.run([RIRDB, 'build', '-q', '-o', geo] + inputs + [DB], check=True)

    rnd = random.Random(7)
    addrs = []
    for line in libloc('sample', '7', '5000').splitlines():
        lo, hi = (int(ipaddress.ip_address(x)) for x in line.split())
        ip = ipaddress.ip_address(rnd.randint(lo, hi))
        addrs.append(str(ip))
    for _ in range(2500):
        addrs.append(str(ipaddress.IPv4Address(rnd.getrandbits(32))))
    for _ in range(2500):
        addrs.append(str(ipaddress.IPv6Address((1 << 125) | rnd.getrandbits(125))))
    want = {}
    for line in libloc('lookup', stdin='\n'.join(addrs) + '\n').splitlines():
        a, cc, asn = (line.split() + ['', ''])[:3] if len(line.split()) == 3 else \
            (line.split()[0], '', line.split()[-1])
        ok_cc = cc if len(cc) == 2 and cc.isalpha() and cc.isupper() else ''
        want[a] = (ok_cc, 'AS%s' % asn if asn != '0' else '')
    rows = lookup(geo, addrs)
    got = {r['addr']: (r['geo_cc'], r['origin_asn']) for r in rows}
    bad = [(a, got.get(a), want.get(a)) for a in addrs if got.get(a) != want.get(a)]
    v6 = sum(':' in a for a in addrs)
    known = sum(1 for a in addrs if want.get(a, ('', ''))[0])
    check('geo_cc and origin_asn equal libloc for %d addresses (%d IPv6, %d with a '
          'country)' % (len(addrs), v6, known),
          len(rows) == len(addrs) and not bad and known > 4000,
          '\n'.join('%s: rirdb %s libloc %s' % b for b in bad[:20]))

    base = lookup(plain, addrs)
    # location.db also names holders (through their AS numbers): the
    # registry's own columns are what must not move.
    cols = ('addr', 'rir', 'cc', 'status', 'nir', 'holder_id', 'block', 'range', 'date', 'source')
    strip = [tuple(r[k] for k in cols) for r in rows]
    diff = [(a, b) for a, b in zip(strip, [tuple(r[k] for k in cols) for r in base]) if a != b]
    check('the located layer leaves the registry columns as they were; none without it',
          len(base) == len(rows) and not diff and 'geo_cc' not in (base[0] if base else {}),
          '%s' % diff[:5])
    info = subprocess.run([RIRDB, 'info', '-d', geo], capture_output=True, text=True).stdout
    check('rirdb info shows the database\'s provenance (vendor, date, file)',
          any('location' in l and 'IPFire Project' in l and DB in l and '2022-10-29' in l
              for l in info.splitlines()), info[-1500:])
    return finish()


if __name__ == '__main__':
    sys.exit(main())
