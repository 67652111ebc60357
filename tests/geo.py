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


def lookup(snap, addrs):
    p = subprocess.run([RIRDB, 'lookup', '-d', snap], input='\n'.join(addrs) + '\n',
                       capture_output=True, text=True, timeout=600)
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
    check_mmdb(tmp, inputs, addrs, want)
    info = subprocess.run([RIRDB, 'info', '-d', geo], capture_output=True, text=True).stdout
    check('rirdb info shows the database\'s provenance (vendor, date, file)',
          any('location' in l and 'IPFire Project' in l and DB in l and '2022-10-29' in l
              for l in info.splitlines()), info[-1500:])
    shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
