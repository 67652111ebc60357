#!/usr/bin/env python3
"""geo.py - the located layer (loaders/geo.c) against libloc itself.

    geo.py RIRDB DATA_DIR

Builds a snapshot with Debian's location.db and checks, for 10,000
addresses across the IPv4 and IPv6 space (half inside networks the database
lists, picked at random, half uniform), that `rirdb lookup`'s geo_cc and
origin_asn equal what libloc's own Python bindings (Debian python3-location,
run by /usr/bin/python3) answer: an independent check of the layer.  Also:
the registry columns are unchanged by the layer, and a snapshot without it
prints no located columns.  `rirdb scan`'s located scopes (geo_country,
country_located, asn, origin; --distinct; split across threads) add up to
what `rirdb lookup --reference` answers per address, 6to4 addresses located
as the IPv4 they carry; lookup's origin equals a recomputation from the AS
numbers' delegations (AFRINIC's extended file: the only one with holder
ids); a scan without the layer writes none of this.  Skipped, counted,
without the database.
"""
import collections
import csv
import io
import ipaddress
import json
import os
import random
import re
import shutil
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


def lookup(snap, addrs, *opts):
    p = subprocess.run([RIRDB, 'lookup', '-d', snap] + list(opts),
                       input='\n'.join(addrs) + '\n', capture_output=True, text=True, timeout=600)
    return list(csv.DictReader(io.StringIO(p.stdout)))


# MaxMind DB files in both layouts, written with Debian's
# libmaxmind-db-writer-perl: GeoLite2's country.iso_code and
# autonomous_system_number, DB-IP's top-level country_code and asn.
WRITER = r'''
use strict; use warnings;
use MaxMind::DB::Writer::Tree;
my %t = (country => 'map', iso_code => 'utf8_string', autonomous_system_number => 'uint32',
         country_code => 'utf8_string', asn => 'uint32');
sub tree { MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 24,
    database_type => $_[0], languages => ['en'], description => {en => 'rirmeter test'},
    map_key_type_callback => sub { $t{ $_[0] } }, remove_reserved_networks => 0,
    alias_ipv6_to_ipv4 => $_[0] =~ /Country/ ? 1 : 0) }
my ($dir) = @ARGV;
my %f = (
  'geolite-country.mmdb' => ['GeoLite2-Country', ['193.0.0.0/21', {country => {iso_code => 'DE'}}],
                            ['2001:67c:2e8::/48', {country => {iso_code => 'FR'}}],
                            ['41.0.0.0/12', {country => {iso_code => 'KE'}}]],
  'geolite-asn.mmdb' => ['GeoLite2-ASN', ['193.0.4.0/22', {autonomous_system_number => 64500}],
                        ['2c0f:f000::/36', {autonomous_system_number => 64501}]],
  'dbip.mmdb' => ['dbip-country-lite', ['1.1.1.0/24', {country_code => 'JP', asn => 64502}],
                  ['8.8.0.0/16', {country_code => 'SE'}]],
);
for my $name (keys %f) {
  my ($type, @nets) = @{ $f{$name} };
  my $tr = tree($type);
  $tr->insert_network($_->[0], $_->[1]) for @nets;
  open my $fh, '>:raw', "$dir/$name" or die; $tr->write_tree($fh); close $fh;
}
'''


def mmdb_value(path, addr, *keys):
    p = subprocess.run(['mmdblookup', '--file', path, '--ip', addr] + list(keys),
                       capture_output=True, text=True)
    for tok in p.stdout.split():
        if tok.startswith('"') and tok.endswith('"'):
            return tok.strip('"')
        if tok.isdigit():
            return tok
    return None


def check_mmdb(tmp, inputs, addrs, libloc_want):
    name = 'MaxMind DB files in both layouts override libloc field by field (mmdblookup)'
    if subprocess.run(['perl', '-MMaxMind::DB::Writer::Tree', '-e', '1'],
                      capture_output=True).returncode or not shutil.which('mmdblookup'):
        skip(name, 'libmaxmind-db-writer-perl or mmdb-bin not installed')
        return
    subprocess.run(['perl', '-e', WRITER, tmp], check=True)
    files = [os.path.join(tmp, f) for f in ('geolite-country.mmdb', 'geolite-asn.mmdb',
                                             'dbip.mmdb')]
    snap = os.path.join(tmp, 'm.snap')
    subprocess.run([RIRDB, 'build', '-q', '-o', snap] + inputs + [DB] + files, check=True)
    probe = ['193.0.0.1', '193.0.6.139', '193.0.8.1', '2001:67c:2e8::1', '2001:67c:2e9::1',
             '41.0.0.1', '41.16.0.1', '2c0f:f000::1', '1.1.1.1', '1.1.2.1', '8.8.8.8',
             '9.9.9.9', '2002:c100:1::1'] + addrs[:40]
    extra = libloc('lookup', stdin='\n'.join(probe) + '\n')
    base = dict(libloc_want)
    for line in extra.splitlines():
        f = line.split()
        cc = f[1] if len(f) == 3 else ''
        base[f[0]] = (cc if len(cc) == 2 and cc.isalpha() else '', 'AS%s' % f[-1] if f[-1] != '0' else '')
    want = {}
    for a in probe:
        cc, asn = base[a]
        for path in files:  # every file's fields, in the order given
            c = mmdb_value(path, a, 'country', 'iso_code') or mmdb_value(path, a, 'country_code')
            n = mmdb_value(path, a, 'autonomous_system_number') or mmdb_value(path, a, 'asn')
            cc = c if c is not None else cc
            asn = 'AS' + n if n is not None else asn
        want[a] = (cc, asn)
    got = {r['addr']: (r['geo_cc'], r['origin_asn']) for r in lookup(snap, probe)}
    bad = [(a, got.get(a), want[a]) for a in probe if got.get(a) != want[a]]
    check(name, not bad and got['193.0.6.139'] == ('DE', 'AS64500') and
          got['1.1.1.1'] == ('JP', 'AS64502'),
          '\n'.join('%s: rirdb %s want %s' % b for b in bad[:20]))
    cut = os.path.join(tmp, 'cut.mmdb')
    with open(files[0], 'rb') as f, open(cut, 'wb') as g:
        body = f.read()
        g.write(body[:len(body) // 3] + body[-1500:])  # the metadata kept, the tree cut
    p = subprocess.run([RIRDB, 'build', '-q', '-o', os.path.join(tmp, 'x.snap')] + inputs +
                       [cut], capture_output=True, text=True)
    check('a damaged MaxMind DB: named with the reason, the build fails',
          p.returncode != 0 and cut + ':' in p.stderr and 'unrecognized' not in p.stderr,
          p.stderr[-500:])


LOCATED = ('geo_country', 'country_located', 'asn', 'origin')
TOP = 5


def afrinic_addrs(data, rnd, n):
    """n addresses inside random blocks of AFRINIC's extended file (holder ids)."""
    blocks = []
    with open(os.path.join(data, 'rir', 'delegated-afrinic-extended-20230323')) as f:
        for line in f:
            r = line.rstrip('\n').split('|')
            if len(r) >= 8 and r[2] in ('ipv4', 'ipv6') and r[7] and r[1] != '*':
                blocks.append(r)
    out = []
    for r in rnd.sample(blocks, n):
        lo = int(ipaddress.ip_address(r[3]))
        size = int(r[4]) if r[2] == 'ipv4' else 1 << (128 - int(r[4]))
        out.append(str(ipaddress.ip_address(lo + rnd.randrange(size))))
    return out


def six_to_four(v4):
    a = int(ipaddress.IPv4Address(v4))
    return str(ipaddress.IPv6Address((0x2002 << 112) | (a << 80) | 1))


def located_keys(row):
    """The four located keys of a `rirdb lookup` row."""
    reg, loc = row['cc'] or 'ZZ', row['geo_cc'] or 'ZZ'
    return {'geo_country': loc, 'country_located': '%s>%s' % (reg, loc),
            'asn': row['origin_asn'] or 'none', 'origin': row['origin']}


def fold(counts, distinct, top):
    """Top N keys by count (then key), the rest as "other", as scan cuts holders."""
    keys = sorted(counts, key=lambda k: (-counts[k], k))
    c = {k: counts[k] for k in keys[:top]}
    d = {k: distinct[k] for k in keys[:top]}
    if len(keys) > top:
        c['other'] = sum(counts[k] for k in keys[top:])
        d['other'] = sum(distinct[k] for k in keys[top:])
    return c, d


def expected_scopes(geo, text_addrs):
    """What scan must count per located scope: (count, distinct) per key, from
    `rirdb lookup --reference` of each address (a 6to4 one's embedded IPv4)."""
    uniq = sorted(set(text_addrs))
    rows = {r['addr']: r for r in lookup(geo, uniq, '--reference')}
    where = {a: rows[a]['embedded'] if rows[a]['via'] else a for a in uniq}
    inner = sorted(set(where.values()) - set(rows))
    rows.update({r['addr']: r for r in lookup(geo, inner, '--reference')})
    keys = {a: located_keys(rows[where[a]]) for a in uniq}
    want = {}
    for scope in LOCATED:
        counts, distinct = collections.Counter(), collections.Counter()
        for a in text_addrs:
            counts[keys[a][scope]] += 1
        for a in uniq:
            distinct[keys[a][scope]] += 1
        if scope in ('country_located', 'asn'):
            counts, distinct = fold(counts, distinct, TOP)
        for k in counts:
            want[(scope, k)] = (counts[k], distinct[k])
    return want


def scan_json(snap, path, *opts):
    p = subprocess.run([RIRDB, 'scan', '-q', '-d', snap, '--json', '-', '--top', str(TOP)] +
                       list(opts) + [path], capture_output=True, text=True, timeout=600)
    return [json.loads(l) for l in p.stdout.splitlines()], p


def check_scan(tmp, plain, geo, data, addrs, rnd):
    """rirdb scan's located scopes against per-address lookups."""
    afr = afrinic_addrs(data, rnd, 1500)
    v4 = [a for a in addrs + afr if '.' in a]
    tunnels = [six_to_four(a) for a in rnd.sample(v4, 300)]
    base = addrs[:1500] + addrs[5000:6000] + addrs[7500:8500] + afr + tunnels
    # Some addresses more than once (count and distinct differ), in a text
    # file of over 2 MiB (split across two threads) with addresses in both
    # parts, some in both.
    text_addrs = base + rnd.sample(base, 2000)
    rnd.shuffle(text_addrs)
    path = os.path.join(tmp, 'scan.log')
    with open(path, 'w') as f:
        for i, a in enumerate(text_addrs):
            f.write('%d seen %s here %s\n' % (i, a, 'x' * 400))
    text_addrs = [str(ipaddress.ip_address(a)) for a in text_addrs]
    want = expected_scopes(geo, text_addrs)
    runs = {}
    for name, opts in (('count', ['--threads', '1']),
                       ('distinct', ['--threads', '1', '--distinct']),
                       ('threads', ['--threads', '2', '--distinct'])):
        recs, _ = scan_json(geo, path, *opts)
        runs[name] = {(r['scope'], r['key']): (r['count'], r.get('distinct'))
                      for r in recs if r['scope'] in LOCATED}
        runs[name + '-all'] = recs
    got = runs['distinct']
    bad = sorted(set(got) ^ set(want)) + sorted(k for k in want if got.get(k) != want[k])
    origins = {k for s, k in got if s == 'origin'}
    check('rirdb scan --distinct: geo_country, country_located, asn and origin equal rirdb '
          'lookup --reference per address (%d addresses, %d distinct, %d 6to4; top %d, then '
          'other)' % (len(text_addrs), len(set(text_addrs)), len(tunnels), TOP),
          not bad and {'holder', 'other', 'unknown'} <= origins and
          ('country_located', 'other') in got and ('asn', 'other') in got,
          '\n'.join('%s: scan %s want %s' % (k, got.get(k), want.get(k)) for k in bad[:20]))
    # An AS's row named as rirmeter names it: the holder its registry
    # delegated the AS to, where that holder has a name.
    named = {r['key']: r.get('name', '') for r in runs['distinct-all']
             if r['scope'] == 'asn' and r['key'].startswith('AS')}
    by_as = {r['addr']: r for r in lookup(geo, sorted(named), '--asn')}
    registries = ('afrinic', 'apnic', 'arin', 'lacnic', 'ripencc')
    want_names = {k: by_as[k]['holder'] if by_as[k]['rir'] in registries and
                  by_as[k]['holder_id'] else '' for k in named}
    check('rirdb scan: asn rows carry the AS holder\'s name (%d named)' %
          sum(1 for v in named.values() if v),
          named == want_names and any(named.values()),
          str([(k, named[k], want_names[k]) for k in named if named[k] != want_names[k]][:5]))
    counts = {k: c for k, (c, _) in runs['count'].items()}
    check('rirdb scan: the same counts without --distinct, and split across two threads',
          counts == {k: c for k, (c, _) in want.items()} and runs['threads'] == got and
          all(sum(c for (s, _), c in counts.items() if s == scope) == len(text_addrs)
              for scope in LOCATED), '%s' % sorted(set(counts.items()) ^
                                                  {(k, c) for k, (c, _) in want.items()})[:10])
    # Without the layer: none of it, the other scopes as with the layer, and
    # the table as it always was (an 8-character scope column).
    precs, _ = scan_json(plain, path, '--threads', '2', '--distinct')
    # (location.db also names holders, through their AS numbers: names aside.)
    drop = ('ts', 'snapshot', 'name')
    strip = [{k: v for k, v in r.items() if k not in drop} for r in precs]
    other = [{k: v for k, v in r.items() if k not in drop}
             for r in runs['threads-all'] if r['scope'] not in LOCATED]
    table = subprocess.run([RIRDB, 'scan', '-q', '-d', plain, '--top', str(TOP), path],
                           capture_output=True, text=True).stdout.splitlines()
    plain_recs, _ = scan_json(plain, path)
    render = ['%-8s %-40s %14s  name' % ('scope', 'key', 'count')] + \
        [('%-8s %-40s %14d' % (r['scope'], r['key'], r['count']) +
          ('  ' + r['name'] if r.get('name') else '')) for r in plain_recs]
    diff = [(a, b) for a, b in zip(strip, other) if a != b] or \
        [(a, b) for a, b in zip(table, render) if a != b]
    check('rirdb scan without the layer: no located scope, the others as with it, the table '
          'as before', not diff and len(strip) == len(other) and len(table) == len(render) and
          not any(r['scope'] in LOCATED for r in precs) and len(precs) > 20,
          '%s' % diff[:4])
    return afr, tunnels


def check_origin(geo, afr, tunnels, addrs):
    """lookup's origin: holder when the registry delegated the origin AS to the
    block's own holder (same registry and holder id), as recomputed here from
    `rirdb lookup --asn` (a 6to4 address: its IPv4's AS, as the scopes count
    it); and --annotate's origin= as lookup's."""
    sample = afr + addrs[:500] + tunnels[:50]
    rows = lookup(geo, sample, '--reference')
    # A transition address's origin compares its IPv4's AS (the row's
    # origin_asn stays the address's as written).
    carried = {r['addr']: r for r in lookup(geo, sorted({r['embedded'] for r in rows
                                                          if r['embedded']}), '--reference')}

    def origin_asn(r):
        return carried[r['embedded']]['origin_asn'] if r['embedded'] else r['origin_asn']
    asns = sorted({origin_asn(r) for r in rows if origin_asn(r)})
    by_asn = {r['addr']: r for r in lookup(geo, asns, '--asn')}
    registries = ('afrinic', 'apnic', 'arin', 'lacnic', 'ripencc')

    def holder(r):
        hid = r['holder_id']
        return (r['rir'], hid) if r['rir'] in registries and hid and \
            not hid.startswith('local:') else None

    bad, seen = [], collections.Counter()
    for r in rows:
        a = by_asn.get(origin_asn(r))
        h, g = holder(r), holder(a) if a else None
        want = 'unknown' if not h or not g else 'holder' if h == g else 'other'
        seen[want] += 1
        if r['embedded']:
            seen['transition ' + want] += 1
        if r['origin'] != want:
            bad.append((r['addr'], origin_asn(r), r['origin'], want))
    asn_rows = lookup(geo, asns[:20], '--asn')
    check('rirdb lookup: origin is holder, other or unknown as recomputed from the AS '
          'numbers\' delegations (%s); empty for --asn' % dict(seen),
          not bad and seen['holder'] > 50 and seen['other'] > 5 and
          seen['transition holder'] > 0 and
          all(r['origin'] == '' for r in asn_rows),
          '\n'.join('%s %s: rirdb %s want %s' % b for b in bad[:20]))
    text = ''.join('seen %s here\n' % a for a in sample)
    p = subprocess.run([RIRDB, 'scan', '-d', geo, '--annotate'], input=text,
                       capture_output=True, text=True)
    notes = re.findall(r'addr=(\S+) .*? asn=\S+ origin=(\S+)', p.stdout)
    check('rirdb scan --annotate: origin= after asn=, as lookup\'s origin',
          notes == [(str(ipaddress.ip_address(r['addr'])), r['origin']) for r in rows],
          p.stdout[:600] + p.stderr)


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
    # rirdb scan --annotate: geo= and asn= after the holder, as lookup says.
    text = ''.join('seen %s here\n' % a for a in addrs[:300])
    p = subprocess.run([RIRDB, 'scan', '-d', geo, '--annotate'], input=text,
                       capture_output=True, text=True)
    notes = re.findall(r'addr=(\S+) .*? geo=(\S+) asn=(\S+)', p.stdout)
    exp = [(a, want[a][0] or 'ZZ', want[a][1] or 'none') for a in addrs[:300]]
    plain_out = subprocess.run([RIRDB, 'scan', '-d', plain, '--annotate'], input=text,
                               capture_output=True, text=True).stdout
    check('rirdb scan --annotate appends geo= and asn= as libloc answers; not without the '
          'layer', [(str(ipaddress.ip_address(a)), g, n) for a, g, n in notes] ==
          [(str(ipaddress.ip_address(a)), g, n) for a, g, n in exp] and
          ' geo=' not in plain_out and plain_out.count('addr=') == 300,
          p.stdout[:600] + p.stderr)
    afr, tunnels = check_scan(tmp, plain, geo, DATA, addrs, rnd)
    check_origin(geo, afr, tunnels, addrs)
    check_mmdb(tmp, inputs, addrs, want)
    info = subprocess.run([RIRDB, 'info', '-d', geo], capture_output=True, text=True).stdout
    check('rirdb info shows the database\'s provenance (vendor, date, file)',
          any('location' in l and 'IPFire Project' in l and DB in l and '2022-10-29' in l
              for l in info.splitlines()), info[-1500:])
    shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
