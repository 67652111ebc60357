#!/usr/bin/env python3
"""rirmeter's located scopes against the reference lookup (TAP).

    located.py RIRMETER RIRDB DATA_DIR SCRIPTS_DIR

A snapshot of the bundled registry files and Debian's location.db (the
located layer), and one of the registry files alone.  Generated captures
(clean frames, and frames with 6to4, Teredo and NAT64 addresses) go
through `rirmeter -r` and the DPDK dataplane (net_pcap vdevs): their
geo_country, country_located, asn and origin
totals must equal what this test computes for each frame's addresses
from `rirdb lookup --reference` (binary searches over the range lists,
not rirmeter's tables): the located country and origin AS of the address
(of the IPv4 a transition address carries), its registered country, and
origin "holder" when the AS's delegation has the block's registry and
holder id, "other" when it has another holder's, "unknown" otherwise.
--top folds country_located and asn into the top N plus "other".  Flow
records (NetFlow v5, IPFIX with elements 16/17, sFlow with extended
gateway records) with and without their
own AS numbers: the asn scope takes the record's AS where it is not 0,
the database's elsewhere, and health counts both.  Without the layer, the
output is what it was: no located scope, every other row the same; and
so it is with the layer under --no-located.
"""
import collections
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

from tap import EAL, check, check_promtool, data_inputs, diff, failures, finish, flow_frame, \
    gen_pcap, ipfix_datagram, sflow_datagram, skip, v5_datagram, write_pcap

RIRMETER, RIRDB, DATA, SCRIPTS = sys.argv[1:5]
LOCATION_DB = '/usr/share/libloc-location/location.db'
LOCATED = ('geo_country', 'country_located', 'asn', 'origin')
RIRS = ('afrinic', 'apnic', 'arin', 'lacnic', 'ripencc')


def lookup(snap, keys, asn=False):
    p = subprocess.run([RIRDB, 'lookup', '-d', snap, '--reference', '--format', 'json'] +
                       (['--asn'] if asn else []), input='\n'.join(keys) + '\n',
                       capture_output=True, text=True, timeout=300, check=True)
    return {r['addr']: r for r in map(json.loads, p.stdout.splitlines())}


def holder_of(r):
    """(registry, holder id) of a lookup row when it is a registry's holder."""
    if r['rir'] in RIRS and r['holder_id'] and not r['holder_id'].startswith('local:'):
        return (r['rir'], r['holder_id'])
    return None


class Reference:
    """The located keys of addresses, from the reference lookup."""

    def __init__(self, snap):
        self.snap, self.rows, self.as_rows = snap, {}, {}

    def want(self, addrs):
        new = sorted(set(a for a in addrs if a and a not in self.rows))
        if new:
            self.rows.update(lookup(self.snap, new))
        asns = sorted({r['origin_asn'] for r in self.rows.values() if r['origin_asn']} -
                      set(self.as_rows))
        if asns:
            self.as_rows.update(lookup(self.snap, asns, asn=True))

    def keys(self, addr, located_as=None):
        """(geo_country, country_located, asn, origin) of addr; located_as:
        the address located instead (a transition address's IPv4)."""
        r, g = self.rows[addr], self.rows[located_as or addr]
        cc, geo, asn = r['cc'] or 'ZZ', g['geo_cc'] or 'ZZ', g['origin_asn']
        origin = 'unknown'
        if asn and holder_of(r) and holder_of(self.as_rows[asn]):
            origin = 'holder' if holder_of(r) == holder_of(self.as_rows[asn]) else 'other'
        return geo, '%s>%s' % (cc, geo), asn or 'none', origin


def totals(lines, scopes=None):
    t = collections.defaultdict(lambda: [0, 0])
    for r in lines:
        if r.get('interval') != 'total' or (scopes and r['scope'] not in scopes):
            continue
        k = t[(r['scope'], r.get('dir'), r['key'])]
        k[0] += r['packets']
        k[1] += r.get('bytes', 0)
    return {k: tuple(v) for k, v in t.items()}


def run(snap, captures, *extra):
    p = subprocess.run([RIRMETER, '--db', snap, '-r'] + captures +
                       ['--json', '-', '--quiet'] + list(extra),
                       capture_output=True, text=True, timeout=300)
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.startswith('{')]
    return p.returncode, lines, p.stderr


def expected(ref, items):
    """Located totals of items (src, dst, src located as, dst located as,
    packets, bytes)."""
    t = collections.defaultdict(lambda: [0, 0])
    for src, dst, s4, d4, pk, by in items:
        for d, a, a4 in (('src', src, s4), ('dst', dst, d4)):
            for scope, key in zip(LOCATED, ref.keys(a, a4)):
                t[(scope, d, key)][0] += pk
                t[(scope, d, key)][1] += by
    return {k: tuple(v) for k, v in t.items()}


def fold(t, top):
    """country_located and asn cut to the top N by bytes, the rest other,
    as rirmeter's --top does (ties by key)."""
    out = {k: v for k, v in t.items() if k[0] not in ('country_located', 'asn')}
    groups = collections.defaultdict(list)
    for k, v in t.items():
        if k[0] in ('country_located', 'asn'):
            groups[k[:2]].append((k[2], v))
    for (scope, d), rows in groups.items():
        rows.sort(key=lambda kv: (-kv[1][1], kv[0]))
        for key, v in rows[:top]:
            out[(scope, d, key)] = v
        if len(rows) > top:
            rest = rows[top:]
            out[(scope, d, 'other')] = (sum(v[0] for _, v in rest), sum(v[1] for _, v in rest))
    return out


def main():
    if not os.access(LOCATION_DB, os.R_OK):
        skip('located scopes', '%s missing (Debian libloc-database)' % LOCATION_DB)
        return finish()
    tmp = tempfile.mkdtemp(prefix='rirmeter-located-')
    try:
        geo, plain = os.path.join(tmp, 'g.snap'), os.path.join(tmp, 'p.snap')
        inputs = data_inputs(DATA)
        subprocess.run([RIRDB, 'build', '-q', '-o', geo] + inputs + [LOCATION_DB], check=True,
                       capture_output=True)
        subprocess.run([RIRDB, 'build', '-q', '-o', plain] + inputs, check=True,
                       capture_output=True)
        ref = Reference(geo)

        # Frames: clean ones, and transition addresses located as their IPv4.
        caps, items = [], []
        for kind, n, seed in (('clean', 20000, 31), ('transition', 3000, 32)):
            cap, man = os.path.join(tmp, kind + '.pcap'), os.path.join(tmp, kind + '.json')
            gen_pcap(SCRIPTS, cap, n, seed, '--kinds', kind, '--manifest', man)
            caps.append(cap)
            for f in map(json.loads, open(man)):
                if f['class'] in ('ipv4', 'ipv6'):
                    items.append((f['src'], f['dst'], f.get('src4'), f.get('dst4'), 1,
                                  f['len']))
        ref.want([a for i in items for a in i[:4]])
        want = expected(ref, items)
        rc, lines, err = run(geo, caps, '--top', '100000')
        got = totals(lines, LOCATED)
        check('geo_country, country_located, asn and origin totals equal the reference '
              'lookup for %d frames (%d keys)' % (len(items), len(want)),
              rc == 0 and got == want, err + diff(got, want))
        # The live dataplane (DPDK, net_pcap vdevs, two workers' lcores):
        # the same burst loop, fed by mbufs; and its Prometheus text.
        prom = os.path.join(tmp, 'm.prom')
        p = subprocess.run([RIRMETER] + EAL + ['-m', '512', '--lcores', '0@0,1@1,2@1'] +
                           sum([['--vdev', 'net_pcap%d,rx_pcap=%s' % (i, c)]
                                for i, c in enumerate(caps)], []) +
                           ['--', '--db', geo, '--json', '-', '--prom', prom, '--quiet',
                            '--interval', '0', '--top', '100000', '--mbufs', '8192'],
                           capture_output=True, text=True, timeout=300)
        live = totals([json.loads(l) for l in p.stdout.splitlines() if l.startswith('{')],
                      LOCATED)
        check('the DPDK dataplane counts the same located totals',
              p.returncode == 0 and live == want, p.stderr[-2000:] + diff(live, want))
        text = open(prom).read() if os.path.exists(prom) else ''
        check_promtool('Prometheus: located families pass promtool', text)
        check('Prometheus: rirmeter_country_located_bytes_total has registered and located '
              'labels; geo_country, asn and origin families present',
              all('rirmeter_%s_bytes_total{' % f in text
                  for f in ('geo_country', 'asn', 'origin')) and
              re.search(r'rirmeter_country_located_bytes_total\{direction="src",'
                        r'registered="[A-Z]{2}",located="[A-Z]{2}"\} \d+', text), text[:300])
        # An AS's row carries the name of the holder its registry delegated
        # it to (rirdb lookup --asn: holder, where the row has a holder id).
        named = {r['key']: r.get('name', '') for r in lines
                 if r['scope'] == 'asn' and r['key'].startswith('AS')}
        by_as = lookup(geo, sorted(named), asn=True)
        want_names = {k: (by_as[k]['holder'] if holder_of(by_as[k]) else '') for k in named}
        check('asn rows carry the AS holder\'s name (%d of %d named)' %
              (sum(1 for v in named.values() if v), len(named)),
              named == want_names and any(named.values()),
              str([(k, named[k], want_names[k]) for k in named
                   if named[k] != want_names[k]][:10]))
        origins = {k[2] for k in want if k[0] == 'origin'}
        check('the capture has each origin (holder, other, unknown)',
              origins == {'holder', 'other', 'unknown'}, str(origins))
        rc, lines5, err = run(geo, caps, '--top', '5')
        got5, want5 = totals(lines5, LOCATED), fold(want, 5)
        check('--top 5 folds country_located and asn into five keys and other',
              rc == 0 and got5 == want5 and ('asn', 'src', 'other') in got5,
              err + diff(got5, want5))

        # Without the layer: the same rows but the located ones.
        plain_prom = os.path.join(tmp, 'plain.prom')
        rc, plain_lines, err = run(plain, caps, '--top', '100000', '--prom', plain_prom)
        ptext = open(plain_prom).read() if os.path.exists(plain_prom) else ''
        check('a snapshot without the layer: no located family in the Prometheus text',
              rc == 0 and 'rirmeter_rir_packets_total' in ptext and
              not re.search(r'rirmeter_(geo_country|country_located|asn|origin)_', ptext),
              ptext[:300])
        others = totals(lines, [s for s in {r['scope'] for r in lines} if s not in LOCATED])
        check('a snapshot without the layer: no located scope, every other total the same',
              rc == 0 and totals(plain_lines) == others and
              not any(r['scope'] in LOCATED for r in plain_lines),
              err + diff(totals(plain_lines), others))

        # rirmeter's own lines into rirdb report: the located sections.
        jsonl = os.path.join(tmp, 'lines.jsonl')
        with open(jsonl, 'w') as f:
            f.writelines(json.dumps(r) + '\n' for r in lines5)
        page = os.path.join(tmp, 'page.html')
        p = subprocess.run([RIRDB, 'report', '-o', page, jsonl], capture_output=True, text=True)
        html = open(page).read() if os.path.exists(page) else ''
        check('rirdb report on these lines: both located matrices, the mismatch headline '
              '(saying that pairs beyond --top 5 are not in its share), the top origin ASes '
              'and the origin split',
              p.returncode == 0 and all('id=' + i in html for i in
                                        ('located-src', 'located-dst', 'mismatch',
                                         'mismatch-folded', 'asns', 'origin')), p.stderr)

        rc, off_lines, err = run(geo, caps, '--top', '100000', '--no-located')
        check('--no-located: the layer ignored, every other total the same',
              rc == 0 and totals(off_lines) == others, err + diff(totals(off_lines), others))

        # Flow records with and without their own AS numbers.
        addrs = sorted({i[0] for i in items if ':' not in i[0] and not i[2]})[:200]
        addrs6 = sorted({i[0] for i in items if ':' in i[0] and not i[2]})[:100]
        recs = []
        for k, a in enumerate(addrs):
            b = addrs[(k * 7 + 3) % len(addrs)]
            recs.append((a, b, k + 1, 100 * (k + 1), 64500 + k % 5 if k % 3 else 0,
                         65000 if k % 4 == 0 else 0))
        recs6 = [(a, addrs6[(k * 5 + 1) % len(addrs6)], 2, 300, 0 if k % 2 else 4200000000,
                  64496) for k, a in enumerate(addrs6)]
        # sFlow: the rate as packets, frames of 60-byte (IPv4) and 100-byte
        # (IPv6) lengths, AS numbers from extended gateway records.
        srecs = [(a, addrs[(k * 11 + 5) % len(addrs)], 4, 240, 64510 + k % 3 if k % 2 else 0,
                  65010 if k % 3 == 0 else 0) for k, a in enumerate(addrs[:60])] + \
            [(a, addrs6[(k * 3 + 2) % len(addrs6)], 2, 200, 0 if k % 2 else 64777, 0)
             for k, a in enumerate(addrs6[:30])]
        frames = [flow_frame(v5_datagram(recs[i:i + 30], i), 2055) for i in range(0, len(recs), 30)]
        frames += [flow_frame(sflow_datagram(srecs[i:i + 8], i), 6343)
                   for i in range(0, len(srecs), 8)]
        frames += [flow_frame(ipfix_datagram(recs[i:i + 20] + recs6[i // 2:i // 2 + 10], i), 4739)
                   for i in range(0, len(recs), 20)]
        flows = os.path.join(tmp, 'flows.pcap')
        write_pcap(flows, frames, spacing=1.0)
        v4_in_ipfix = [r for i in range(0, len(recs), 20) for r in recs[i:i + 20]]
        v6_in_ipfix = [r for i in range(0, len(recs), 20) for r in recs6[i // 2:i // 2 + 10]]
        all_recs = recs + v4_in_ipfix + v6_in_ipfix + srecs
        ref.want([a for r in all_recs for a in r[:2]])
        want = collections.defaultdict(lambda: [0, 0])
        from_record = from_db = 0
        for src, dst, pk, by, s_as, d_as in all_recs:
            for d, a, own in (('src', src, s_as), ('dst', dst, d_as)):
                keys = list(ref.keys(a))
                if own:
                    keys[2] = 'AS%d' % own
                    from_record += 1
                else:
                    from_db += 1
                for scope, key in zip(LOCATED, keys):
                    want[(scope, d, key)][0] += pk
                    want[(scope, d, key)][1] += by
        want = {k: tuple(v) for k, v in want.items()}
        rc, fl, err = run(geo, [flows], '--flows', 'netflow:2055,ipfix:4739,sflow:6343',
                          '--flows-only',
                          '--top', '100000')
        got = totals(fl, LOCATED)
        health = {r['key']: r['packets'] for r in fl
                  if r['scope'] == 'health' and r.get('interval') == 'total'}
        check('flow records: the asn scope takes a record\'s own AS where not 0 (v5, IPFIX '
              '16/17, sFlow extended gateway; IPv4 and IPv6), the database\'s elsewhere; the '
              'other located scopes the database\'s', rc == 0 and got == want,
              err + diff(got, want))
        # The same datagrams to the DPDK dataplane's flow collector.
        p = subprocess.run([RIRMETER] + EAL + ['-m', '512', '--lcores', '0@0,1@1', '--vdev',
                                               'net_pcap0,rx_pcap=' + flows, '--', '--db', geo,
                                               '--json', '-', '--quiet', '--interval', '0',
                                               '--top', '100000', '--flows',
                                               'netflow:2055,ipfix:4739,sflow:6343',
                                               '--flows-only'],
                           capture_output=True, text=True, timeout=300)
        live = totals([json.loads(l) for l in p.stdout.splitlines() if l.startswith('{')],
                      LOCATED)
        check('the DPDK dataplane counts the flow records\' located totals the same',
              p.returncode == 0 and live == want, p.stderr[-2000:] + diff(live, want))

        # Intervals of capture time (a datagram a second): their sum is the
        # total, records' own AS numbers included.
        rc, fi, err = run(geo, [flows], '--flows', 'netflow:2055,ipfix:4739,sflow:6343',
                          '--flows-only',
                          '--top', '100000', '--interval', '3')
        summed = collections.defaultdict(lambda: [0, 0])
        n_intervals = len({r['ts'] for r in fi if r.get('interval') != 'total'})
        for r in fi:
            if r.get('interval') != 'total' and r['scope'] in LOCATED:
                summed[(r['scope'], r.get('dir'), r['key'])][0] += r['packets']
                summed[(r['scope'], r.get('dir'), r['key'])][1] += r['bytes']
        summed = {k: tuple(v) for k, v in summed.items()}
        check('%d intervals of 3 s of capture time sum to the total' % n_intervals,
              rc == 0 and n_intervals >= 4 and summed == want, err + diff(summed, want))
        check('health counts the records\' addresses by where their AS came from '
              '(%d record, %d database)' % (from_record, from_db),
              health.get('asn_source.record') == from_record and
              health.get('asn_source.database') == from_db,
              str({k: v for k, v in health.items() if k.startswith('asn')}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
