#!/usr/bin/env python3
"""The nir scope end to end, on a snapshot with real NIRs (TAP).

    nir.py RIRDB DATA_DIR [RIRMETER]

The bundled APNIC file is a standard one (no holder ids), so the test
writes a small extended APNIC file whose records carry the account ids of
data/nir-ids.csv (JPNIC, KRNIC, CNNIC) and one of no NIR, and names one
holder with a holder CSV.  The same addresses then go through rirmeter (a
capture on a net_pcap vdev) and `rirdb scan`: their nir totals must equal
what the test's own table says, and what `rirdb lookup --reference` says
where the lookup names NIRs (its nir column); every other scope must equal
the reference lookup too, and the named holder's rows carry its name.
With --ipfix-export, flow records between the same addresses (NetFlow v5,
IPFIX, sFlow) go out enriched: tshark reads each record's NIR elements
(9, 10) and the nir aggregates back, and they must say the same.
"""
import collections
import ipaddress
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from tap import EAL, attribute, check, check_promtool, data_inputs, diff, failures, finish, \
    flow_frame, ipfix_datagram, scope_totals, sflow_datagram, skip, totals_of, tshark_flows, \
    v5_datagram, write_pcap

RIRDB, DATA = sys.argv[1:3]
RIRMETER = sys.argv[3] if len(sys.argv) > 3 else None

JP, KR, CN, NONE = 'A91A7381', 'A9149F3E', 'A9162E3D', 'A91872ED'
RECORDS = [('JP', 'ipv4', '1.0.16.0', '4096', JP), ('KR', 'ipv4', '1.11.0.0', '65536', KR),
           ('CN', 'ipv4', '1.0.1.0', '256', CN), ('AU', 'ipv4', '1.0.0.0', '256', NONE),
           ('JP', 'ipv6', '2001:200::', '35', JP)]
NAME = '\u65e5\u672c Network "JP" \\ Ltd'
# Each address with the NIR key the test's own table gives it.
ADDRS = {'1.0.16.5': 'apnic:jpnic', '1.0.31.250': 'apnic:jpnic', '1.11.3.4': 'apnic:krnic',
         '1.0.1.7': 'apnic:cnnic', '1.0.0.9': 'apnic:', '2001:200::1': 'apnic:jpnic',
         '193.0.6.139': 'ripencc:', '41.0.0.1': 'afrinic:', '10.1.2.3': 'iana:',
         '2001:db8::1': 'iana:'}


def frame(src, dst, pad):
    """An Ethernet frame of UDP from src to dst (both IPv4 or both IPv6)."""
    udp = struct.pack('>HHHH', 1000, 2000, 8 + pad, 0) + bytes(pad)
    if ':' in src:
        ip = struct.pack('>IHBB', 6 << 28, len(udp), 17, 64) + \
            ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
        return b'\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd' + ip + udp
    s = bytes(int(x) for x in src.split('.'))
    d = bytes(int(x) for x in dst.split('.'))
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, s, d)
    return b'\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00' + ip + udp


def traffic():
    """(src, dst, packets, bytes) items and their frames: each address to
    the next of its family, a few times, of a few lengths."""
    v4 = [a for a in ADDRS if ':' not in a]
    v6 = [a for a in ADDRS if ':' in a]
    items, frames = [], []
    for fam in (v4, v6):
        for i, a in enumerate(fam):
            b = fam[(i + 1) % len(fam)]
            for k in range(1 + i % 3):
                fr = frame(a, b, 18 + 10 * k)
                frames.append(fr)
                items.append((a, b, 1, len(fr)))
    return items, frames


def own_nir_totals(items):
    t = collections.defaultdict(lambda: [0, 0])
    for src, dst, pk, by in items:
        for d, a in (('src', src), ('dst', dst)):
            t[('nir', d, ADDRS[a])][0] += pk
            t[('nir', d, ADDRS[a])][1] += by
    return {k: tuple(v) for k, v in t.items()}


def flow_records():
    """Flow records (src, dst, packets, bytes, 0, 0) between the addresses,
    each to every other of its family, and their datagrams as frames:
    NetFlow v5 (IPv4), IPFIX and sFlow (both families; sFlow's packets are
    its sampling rate, 2, of frames of 100 bytes)."""
    recs, samples = [], []
    for fam in ([a for a in ADDRS if ':' not in a], [a for a in ADDRS if ':' in a]):
        for i, a in enumerate(fam):
            for k, b in enumerate(fam):
                if a != b:
                    recs.append((a, b, 1 + i, 100 * (1 + i) + k, 0, 0))
                    samples.append((a, b, 2, 200, 0, 0))
    v4 = [r for r in recs if ':' not in r[0]]
    frames = [flow_frame(v5_datagram(v4, 0), 2055), flow_frame(ipfix_datagram(recs, 0), 4739),
              flow_frame(sflow_datagram(samples, 0), 6343)]
    return v4 + recs + samples, frames


def ipfix_checks(tmp, snap, frames, items, who, names_nirs):
    """rirmeter re-exports flow records between the addresses, with traffic
    between them, as IPFIX: each record's NIR elements (9, 10, under its
    registry, 1, 2), and the nir aggregates of the run (template 260), as
    the test's own table and the reference lookup say."""
    recs, flow_frames = flow_records()
    pcap, out = os.path.join(tmp, 'f.pcap'), os.path.join(tmp, 'ipfix.pcap')
    write_pcap(pcap, frames + flow_frames)
    p = subprocess.run([RIRMETER] + EAL + [
        '--lcores', '0@0,1@1', '--vdev', 'net_pcap0,rx_pcap=' + pcap, '--vdev',
        'net_pcap1,tx_pcap=' + out, '--', '--db', snap, '--flows',
        'netflow:2055,ipfix:4739,sflow:6343', '--ipfix-export', '1:127.0.0.1:4739',
        '--interval', '0', '--quiet'], capture_output=True, text=True, timeout=120)
    check('rirmeter --ipfix-export: exit 0', p.returncode == 0, p.stderr)
    everything = tshark_flows(out, 4739, aggregates=True) if os.path.exists(out) else []
    got = [r for r in everything if 'pie.8' not in r]

    def own(a):
        return tuple(ADDRS[a].split(':'))

    def ref(a):
        return tuple(who[a][3].split(':'))
    bad, seen = [], set()
    for r in got:
        s, d = r.get('srcaddr') or r.get('srcaddrv6'), r.get('dstaddr') or r.get('dstaddrv6')
        have = (r.get('pie.1'), r.get('pie.9', ''), r.get('pie.2'), r.get('pie.10', ''))
        seen |= {have[1], have[3]}
        if s not in ADDRS or d not in ADDRS or have != own(s) + own(d) or \
                (names_nirs and have != ref(s) + ref(d)):
            bad.append('%s -> %s: %s' % (s, d, have))
    check('--ipfix-export: every record (v5, IPFIX, sFlow) carries the NIR of each end '
          '(elements 9, 10) beside its registry, as the test\'s table%s says (%d records)'
          % (' and rirdb lookup --reference' if names_nirs else '', len(got)),
          len(got) == len(recs) and not bad and {'jpnic', 'krnic', 'cnnic', ''} <= seen,
          '%d of %d records; %s' % (len(got), len(recs), '\n'.join(bad[:10])))
    agg = collections.defaultdict(lambda: [0, 0])
    for a in everything:
        if a.get('pie.8') == 'nir':
            d = 'src' if a.get('pie.1') else 'dst'
            key = '%s:%s' % (a.get('pie.1') or a.get('pie.2'), a.get('pie.9', '') or
                             a.get('pie.10', ''))
            agg[('nir', d, key)][0] += int(a['packets'])
            agg[('nir', d, key)][1] += int(a['octets'])
    agg = {k: tuple(v) for k, v in agg.items()}
    both = items + [r[:4] for r in recs]
    want = own_nir_totals(both)
    check('--ipfix-export: the nir aggregates (template 260) equal the test\'s own table '
          'for traffic and records together', agg == want, diff(agg, want))
    if names_nirs:
        ref_t = only(scope_totals(RIRDB, snap, both), ('nir',))
        check('--ipfix-export: the nir aggregates equal rirdb lookup --reference',
              agg == ref_t, diff(agg, ref_t))


def only(t, scopes):
    return {k: tuple(v) for k, v in t.items() if k[0] in scopes and v[0]}


def main():
    tmp = tempfile.mkdtemp(prefix='rirmeter-nir-')
    ext = os.path.join(tmp, 'delegated-apnic-extended-20240101')
    with open(ext, 'w') as f:
        f.write('2.3|apnic|20240101|%d|19830613|20240101|+1000\n' % len(RECORDS))
        for cc, fam, start, n, hid in RECORDS:
            f.write('apnic|%s|%s|%s|%s|20110412|allocated|%s\n' % (cc, fam, start, n, hid))
    names = os.path.join(tmp, 'names.csv')
    with open(names, 'w', encoding='utf-8') as f:
        f.write('registry,holder_id,name\napnic,%s,"%s"\n' % (JP, NAME.replace('"', '""')))
    snap = os.path.join(tmp, 'r.snap')
    p = subprocess.run([RIRDB, 'build', '-q', '-o', snap] + data_inputs(DATA) +
                       [ext, os.path.join(DATA, 'nir-ids.csv'), names],
                       capture_output=True, text=True)
    check('snapshot with NIR ids and a holder name builds', p.returncode == 0, p.stderr)

    items, frames = traffic()
    own = own_nir_totals(items)
    lookup = subprocess.run([RIRDB, 'lookup', '-d', snap, '--reference', '--format', 'json'],
                            input='1.0.16.5\n', capture_output=True, text=True).stdout
    names_nirs = '"nir"' in lookup
    want = {k: tuple(v) for k, v in scope_totals(RIRDB, snap, items).items()}
    who = attribute(RIRDB, snap, list(ADDRS))

    def nir_checks(what, got):
        g = only(got, ('nir',))
        check('%s: nir totals equal the test\'s own table (JPNIC, KRNIC, CNNIC, none)' % what,
              g == own and {'apnic:jpnic', 'apnic:krnic', 'apnic:cnnic', 'apnic:'} <=
              {k[2] for k in g}, diff(g, own))
        w = only(want, ('nir',))
        if names_nirs:
            check('%s: nir totals equal rirdb lookup --reference' % what, g == w, diff(g, w))
        else:
            skip('%s: nir totals equal rirdb lookup --reference' % what,
                 'this rirdb lookup has no nir column')
        s = ('rir', 'country', 'holder')
        check('%s: rir, country and holder totals equal rirdb lookup --reference' % what,
              only(got, s) == only(want, s), diff(only(got, s), only(want, s)))

    # rirdb scan: the same addresses as text, counted once per occurrence.
    text = ''.join('%s > %s\n' % (a, b) for a, b, _, _ in items)
    p = subprocess.run([RIRDB, 'scan', '-d', snap, '--json', '-', '--quiet'], input=text,
                       capture_output=True, text=True)
    scan = [json.loads(l) for l in p.stdout.splitlines()]
    occ = collections.Counter(a for a, b, _, _ in items) + collections.Counter(
        b for a, b, _, _ in items)
    own_scan = collections.Counter()
    want_scan = collections.Counter()
    for a, n in occ.items():
        own_scan[ADDRS[a]] += n
        want_scan[who[a][3]] += n
    g = {r['key']: r['count'] for r in scan if r['scope'] == 'nir' and r['count']}
    check('rirdb scan: exit 0', p.returncode == 0, p.stderr)
    check('rirdb scan: nir counts equal the test\'s own table', g == dict(own_scan),
          (g, dict(own_scan)))
    if names_nirs:
        check('rirdb scan: nir counts equal rirdb lookup --reference', g == dict(want_scan),
              (g, dict(want_scan)))
    else:
        skip('rirdb scan: nir counts equal rirdb lookup --reference',
             'this rirdb lookup has no nir column')
    named = [r for r in scan if r['scope'] == 'holder' and r['key'] == 'apnic:' + JP]
    check('rirdb scan: the named holder\'s line carries its name',
          len(named) == 1 and named[0].get('name') == NAME, named)
    p = subprocess.run([RIRDB, 'scan', '-d', snap, '--annotate', '--quiet'],
                       input='a 1.0.16.5 b 1.11.3.4 c 193.0.6.139\n', capture_output=True,
                       text=True)
    check('rirdb scan --annotate: nir= after the cc of an address under a NIR only',
          p.stdout == 'a 1.0.16.5 b 1.11.3.4 c 193.0.6.139 addr=1.0.16.5 rir=apnic cc=JP '
          'nir=jpnic holder=apnic:%s addr=1.11.3.4 rir=apnic cc=KR nir=krnic holder=apnic:%s '
          'addr=193.0.6.139 rir=ripencc cc=NL holder=none\n' % (JP, KR), p.stdout + p.stderr)

    if not RIRMETER:
        skip('rirmeter nir totals', 'no rirmeter in this build')
        return finish()
    pcap = os.path.join(tmp, 'c.pcap')
    write_pcap(pcap, frames)
    js, prom = os.path.join(tmp, 'o.jsonl'), os.path.join(tmp, 'o.prom')
    p = subprocess.run([RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev',
                                           'net_pcap0,rx_pcap=' + pcap, '--', '--db', snap,
                                           '--json', js, '--prom', prom, '--quiet',
                                           '--interval', '0', '--top', '1000'],
                       capture_output=True, text=True, timeout=120)
    check('rirmeter exits 0', p.returncode == 0, p.stderr)
    got, lines = totals_of(js) if p.returncode == 0 else ({}, [])
    nir_checks('rirmeter', got)
    named = [l for l in lines if l['interval'] == 'total' and l['scope'] == 'holder' and
             l['key'] == 'apnic:' + JP]
    check('rirmeter: the named holder\'s rows carry its name, the key its id',
          len(named) == 2 and all(l.get('name') == NAME for l in named), named)
    text = open(prom, encoding='utf-8').read() if os.path.exists(prom) else ''
    check('rirmeter Prometheus: the nir family with its NIRs',
          'rirmeter_nir_packets_total{direction="src",rir="apnic",nir="jpnic"}' in text and
          'rirmeter_nir_packets_total{direction="src",rir="apnic",nir=""}' in text, text[:300])
    esc = NAME.replace('\\', '\\\\').replace('"', '\\"')
    check('rirmeter Prometheus: the holder series has its id and the escaped name',
          'holder="apnic:%s",name="%s"}' % (JP, esc) in text, text[:300])
    check_promtool('promtool check metrics accepts the textfile', text)
    if shutil.which('tshark'):
        ipfix_checks(tmp, snap, frames, items, who, names_nirs)
    else:
        skip('rirmeter --ipfix-export: NIR elements and aggregates', 'needs tshark')
    if failures() == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
