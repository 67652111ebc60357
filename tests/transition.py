#!/usr/bin/env python3
"""6to4, Teredo and NAT64 addresses, attributed as the IPv4 they carry (TAP).

    transition.py RIRMETER RIRDB DATA_DIR SCRIPTS_DIR

- thousands of generated 6to4, Teredo and NAT64 (64:ff9b::/96) addresses:
  the IPv4 that `rirdb lookup` reads out of each (`via`, `embedded`,
  `teredo_server`) equals what Debian's `ipv6calc --showinfo -m` prints,
  and their attribution equals the reference lookup of that IPv4; the
  local-use 64:ff9b:1::/48 and an operator's prefix (--nat64) against the
  generator's own IPv4s; RFC 6052's table of 192.0.2.33 under every prefix
  length;
- a snapshot built with `rirdb build --nat64` carries the prefix: lookup
  and rirmeter read it without the option;
- rirmeter on a capture between such addresses: the scopes equal the
  reference lookup of the embedded IPv4s (plain addresses as themselves),
  health via.HOW counts each address carried so;
- the flow path: IPFIX records and sFlow raw headers between such
  addresses, the same.
"""
import collections
import importlib.util
import ipaddress
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

from tap import (EAL, build_snapshot, check, check_refused, data_inputs, diff, finish, gen_pcap,
                 scope_totals, skip, totals_of, write_pcap)

RIRMETER, RIRDB, DATA, SCRIPTS = sys.argv[1:5]
OPERATOR = '2001:db8:64::/96'
ATTRIBUTION = ('rir', 'country', 'holder', 'rir_pair')


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(SCRIPTS, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def lookup(snap, addrs, *opts):
    """`rirdb lookup --reference --format json` of addrs, by address."""
    p = run([RIRDB, 'lookup', '-d', snap, '--reference', '--format', 'json'] + list(opts),
            input='\n'.join(addrs) + '\n')
    return {r['addr']: r for r in map(json.loads, p.stdout.splitlines())}


def many_prefixes(tmp):
    """A snapshot holding the most NAT64 prefixes there may be (16): a
    prefix given again with --nat64 is held once; one more stops every
    reader (exit 1, as other faults of the snapshot it reads) instead of
    one of them being left out."""
    full = ['2001:db8:1%02x::/96' % i for i in range(16)]
    snap16 = os.path.join(tmp, 'nat64-16.snap')
    p = run([RIRDB, 'build', '-q', '-o', snap16, '--nat64', ','.join(full)] + data_inputs(DATA))
    check('rirdb build --nat64 with 16 prefixes', p.returncode == 0, p.stderr)
    addrs = [x.replace('::/96', '::c000:221') for x in full]  # 192.0.2.33 in each
    g = lookup(snap16, addrs, '--nat64', full[3])
    check('16 prefixes in the snapshot, one of them again as --nat64: every one held',
          all(g[a]['via'] == 'nat64' and g[a]['embedded'] == '192.0.2.33' for a in addrs),
          str([g.get(a) for a in addrs][:2]))
    extra = '2001:db8:200::/96'
    why = 'more than 16'
    p = run([RIRDB, 'lookup', '-d', snap16, '--nat64', extra, addrs[0]])
    check('rirdb lookup: 16 prefixes in the snapshot and one more as --nat64: exit 1, said',
          p.returncode == 1 and why in p.stderr, p.stderr)
    text = os.path.join(tmp, 'addrs.txt')
    with open(text, 'w') as f:
        f.write('\n'.join(addrs) + '\n')
    p = run([RIRDB, 'scan', '-d', snap16, '--nat64', extra, text])
    check('rirdb scan: 16 prefixes in the snapshot and one more as --nat64: exit 1, said',
          p.returncode == 1 and why in p.stderr, p.stderr)
    p = run([RIRMETER] + EAL + ['--vdev', 'net_null0', '--', '--db', snap16, '--nat64', extra,
                                '--duration', '1'])
    check('rirmeter: 16 prefixes in the snapshot and one more as --nat64: exit 1, said',
          p.returncode == 1 and why in p.stderr, p.stderr)


def ipv6calc(addrs):
    """ipv6calc's reading of each address: (kind, client IPv4, server IPv4)."""
    p = run(['ipv6calc', '--showinfo', '-m'], input='\n'.join(addrs) + '\n')
    out, cur = {}, None
    kinds = {'6TO4': '6to4', 'TEREDO-CLIENT': 'teredo', 'NAT64': 'nat64'}
    for line in p.stdout.splitlines():
        if line.startswith('IPV6='):
            cur = str(ipaddress.IPv6Address(line[5:]))
            out[cur] = ['', '', '']
        elif line.startswith('IPV4_SOURCE[') and cur:
            v4, kind = line[12:].split(']=')
            if kind == 'TEREDO-SERVER':
                out[cur][2] = v4
            elif kind in kinds:
                out[cur][0], out[cur][1] = kinds[kind], v4
    return {k: tuple(v) for k, v in out.items()}


def lookup_checks(snap, gp):
    rng = random.Random(11)
    v4, v6 = gp.load_blocks()
    made = [gp.transition_addr(rng, v4, v6, OPERATOR) for _ in range(4000)]
    addrs = [str(ipaddress.IPv6Address(a)) for a, _, _ in made]
    got = lookup(snap, addrs, '--nat64', OPERATOR)
    check('rirdb lookup answers every address', len(got) == len(set(addrs)),
          '%d of %d' % (len(got), len(set(addrs))))
    known = [a for a, (_, _, k) in zip(addrs, made) if k in ('6to4', 'teredo', 'nat64')]
    if shutil.which('ipv6calc'):
        calc = ipv6calc(known)
        bad = ['%s: ipv6calc %s, rirdb %s' % (a, calc.get(a), (
            got[a]['via'], got[a]['embedded'], got[a]['teredo_server']))
            for a in known if calc.get(a) != (got[a]['via'], got[a]['embedded'],
                                              got[a]['teredo_server'])]
        check('%d 6to4, Teredo and NAT64 addresses: via, embedded and teredo_server as '
              'ipv6calc --showinfo -m reads them' % len(known), not bad, '\n'.join(bad))
    else:
        skip('ipv6calc agrees', 'ipv6calc not installed (Debian package ipv6calc)')
    bad = []
    for a, (_, ip4, kind) in zip(addrs, made):
        want = ('' if ip4 is None else 'nat64' if kind.startswith(('nat64', 'operator'))
                else kind, '' if ip4 is None else str(ipaddress.IPv4Address(ip4)))
        if (got[a]['via'], got[a]['embedded']) != want:
            bad.append('%s (%s): got %s want %s' % (a, kind, (got[a]['via'],
                                                          got[a]['embedded']), want))
    check('every kind, 64:ff9b:1::/48 and --nat64 %s included: the generator\'s IPv4'
          % OPERATOR, not bad, '\n'.join(bad))
    embedded = sorted({r['embedded'] for r in got.values() if r['embedded']})
    ref = lookup(snap, embedded)
    keys = ('rir', 'cc', 'status', 'holder', 'holder_id', 'block', 'range', 'source')
    bad = [a for a, r in got.items() if r['embedded'] and
           tuple(r[k] for k in keys) != tuple(ref[r['embedded']][k] for k in keys)]
    check('attributed exactly as the reference lookup of the embedded IPv4 (%d distinct)'
          % len(embedded), not bad, '\n'.join(bad[:10]))
    special = [a for a, r in got.items() if r['via'] and r['rir'] == 'iana']
    check('an embedded special IPv4 stays special (%d)' % len(special), special)
    # RFC 6052 section 2.4: 192.0.2.33 under each prefix length.
    table = [('2001:db8::/32', '2001:db8:c000:221::'), ('2001:db8:100::/40',
                                                       '2001:db8:1c0:2:21::'),
             ('2001:db8:122::/48', '2001:db8:122:c000:2:2100::'),
             ('2001:db8:122:300::/56', '2001:db8:122:3c0:0:221::'),
             ('2001:db8:122:344::/64', '2001:db8:122:344:c0:2:2100:0'),
             ('2001:db8:122:344::/96', '2001:db8:122:344::c000:221')]
    bad = []
    for prefix, addr in table:
        r = lookup(snap, [addr], '--nat64', prefix)[addr]
        if (r['via'], r['embedded']) != ('nat64', '192.0.2.33'):
            bad.append('%s %s: %s %s' % (prefix, addr, r['via'], r['embedded']))
    check('RFC 6052 2.4: 192.0.2.33 under a prefix of every length', not bad, '\n'.join(bad))
    scan_checks(snap, addrs, got, made)
    p = run([RIRDB, 'lookup', '-d', snap, '--nat64', '2001:db8::/33', '::1'])
    check_refused('--nat64 of a length RFC 6052 has not: exit 2, named', p, '--nat64')


def scan_checks(snap, addrs, got, made):
    """rirdb scan over a text of the addresses, split across two threads:
    each counts (and counts distinct) as the IPv4 it carries, and in via."""
    text = os.path.join(os.path.dirname(snap), 'addrs.log')
    reps = 15  # over 2 MiB: cut across the threads
    with open(text, 'w') as f:
        for _ in range(reps):
            for a in addrs:
                f.write('client %s - GET /x\n' % a)
    p = run([RIRDB, 'scan', '-d', snap, '--json', '-', '--distinct', '--threads', '2',
             '--quiet', '--nat64', OPERATOR, text])
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    g = {(r['scope'], r['key']): (r['count'], r['distinct']) for r in recs
         if r['scope'] in ('rir', 'via') and r['count']}
    w = collections.defaultdict(lambda: [0, set()])
    for a in addrs:
        for key in (('rir', got[a]['rir']),) + ((('via', got[a]['via']),) if got[a]['via']
                                                  else ()):
            w[key][0] += reps
            w[key][1].add(a)
    w = {k: (v[0], len(v[1])) for k, v in w.items()}
    check('rirdb scan (two threads, --distinct): rir and via as the embedded IPv4s', g == w,
          diff(g, w))


def want_totals(snap, items):
    """Totals for items (src, dst, src4, dst4, packets, bytes): each end as
    its embedded IPv4 when it has one; and the via counts."""
    t = scope_totals(RIRDB, snap, [(s4 or s, d4 or d, pk, by) for s, d, s4, d4, pk, by in items])
    return {k: tuple(v) for k, v in t.items()}


def via_of(snap, items):
    got = lookup(snap, sorted({x for i in items for x in i[:2]}), '--nat64', OPERATOR)
    v = collections.defaultdict(lambda: [0, 0])
    for s, d, _, _, pk, by in items:
        for a in (s, d):
            if got[a]['via']:
                v['via.' + got[a]['via']][0] += pk
                v['via.' + got[a]['via']][1] += by
    return {k: tuple(x) for k, x in v.items()}


def compare(name, js, snap, items, prom=None):
    got, _ = totals_of(js)
    want = want_totals(snap, items)
    for scope in ATTRIBUTION:
        g = {k: v for k, v in got.items() if k[0] == scope}
        w = {k: v for k, v in want.items() if k[0] == scope}
        check('%s: %s totals equal the reference lookup of the embedded IPv4s' % (name, scope),
              g == w, diff(g, w))
    g = {k[2]: v for k, v in got.items() if k[0] == 'health' and k[2].startswith('via.')}
    w = via_of(snap, items)
    check('%s: health via.HOW counts every address carried so' % name, g == w, diff(g, w))
    if prom:
        p = {}
        for line in open(prom):
            if line.startswith('rirmeter_transition_addresses_total{'):
                k, v = line.rsplit(' ', 1)
                p['via.' + k.split('"')[1]] = int(v)
        check('%s: Prometheus rirmeter_transition_addresses_total as JSON' % name,
              p == {k: v[0] for k, v in w.items()}, diff(p, w))


def flow_datagrams(gp, gf, rng):
    """IPFIX records and sFlow raw headers between transition addresses:
    (frames, items)."""
    v4, v6 = gp.load_blocks()
    frames, items = [], []
    a4 = lambda x: None if x is None else str(ipaddress.IPv4Address(x))
    for seq in range(40):
        recs, data = [], b''
        for _ in range(10):
            (s, s4, _), (d, d4, _) = (gp.transition_addr(rng, v4, v6, OPERATOR)
                                      for _ in range(2))
            pk, by = rng.randrange(1, 50), rng.randrange(100, 90000)
            data += s.to_bytes(16, 'big') + d.to_bytes(16, 'big') + struct.pack('!QQ', pk, by)
            items.append((str(ipaddress.IPv6Address(s)), str(ipaddress.IPv6Address(d)),
                          a4(s4), a4(d4), pk, by))
        t = struct.pack('!HH', 301, 4) + struct.pack('!8H', 27, 16, 28, 16, 2, 8, 1, 8)
        body = struct.pack('!HH', 2, 4 + len(t)) + t + struct.pack('!HH', 301, 4 + len(data)) + \
            data
        h = struct.pack('!HHIII', 10, 16 + len(body), 1700000000, seq * 10, 3)
        frames.append(gf.frame(0xC0000210, 4739, h + body))
    for seq in range(40):
        (s, s4, _), (d, d4, _) = (gp.transition_addr(rng, v4, v6, OPERATOR) for _ in range(2))
        hdr = gp.eth(0x86DD, gp.ipv6(s, d, gp.udp(980)))[:96]  # a 1042-byte frame
        rec = struct.pack('!IIII', 1, 1046, 4, len(hdr)) + hdr
        body = struct.pack('!8I', 1, 3, 512, 0, 0, 1, 2, 1) + struct.pack('!II', 1, len(rec)) + rec
        sample = struct.pack('!II', 1, len(body)) + body
        h = struct.pack('!II', 5, 1) + bytes([192, 0, 2, 17]) + struct.pack('!IIII', 0, seq,
                                                                           5000, 1)
        frames.append(gf.frame(0xC0000211, 6343, h + sample))
        items.append((str(ipaddress.IPv6Address(s)), str(ipaddress.IPv6Address(d)), a4(s4),
                      a4(d4), 512, 512 * 1042))
    return frames, items


def main():
    tmp = tempfile.mkdtemp(prefix='rirmeter-transition-')
    snap = build_snapshot(RIRDB, DATA, os.path.join(tmp, 'r.snap'))
    gp, gf = load('genpcap', 'gen-pcap.py'), load('genflows', 'gen-flows.py')
    lookup_checks(snap, gp)

    manifest = os.path.join(tmp, 't.jsonl')
    pcap = gen_pcap(SCRIPTS, os.path.join(tmp, 't.pcap'), 3000, 9, '--kinds', 'transition',
                    '--nat64', OPERATOR, '--manifest', manifest)
    frames = [json.loads(l) for l in open(manifest)]
    items = [(f['src'], f['dst'], f['src4'], f['dst4'], 1, f['len']) for f in frames]
    # The operator's prefix from the snapshot this time, not from an option.
    snap64 = os.path.join(tmp, 'nat64.snap')
    p = run([RIRDB, 'build', '-q', '-o', snap64, '--nat64', OPERATOR] +
            [x for x in data_inputs(DATA)])
    check('rirdb build --nat64 %s' % OPERATOR, p.returncode == 0, p.stderr)
    p = run([RIRDB, 'info', '-d', snap64])
    check('rirdb info shows the snapshot\'s NAT64 prefix',
          ('nat64      %s' % OPERATOR) in p.stdout.splitlines(), p.stdout[:600])
    ops = sorted({x for f in frames for x in (f['src'], f['dst']) if x.startswith('2001:db8:64:')})
    g = lookup(snap64, ops)
    check('rirdb lookup reads the snapshot\'s NAT64 prefix (%d addresses)' % len(ops),
          ops and all(g[a]['via'] == 'nat64' for a in ops), str(ops[:3]))
    many_prefixes(tmp)
    js = os.path.join(tmp, 'frames.jsonl')
    p = run([RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev', 'net_pcap0,rx_pcap=' + pcap,
                                '--', '--db', snap64, '--json', js, '--top', '100000',
                                '--interval', '0', '--quiet', '--prom', js + '.prom'])
    check('rirmeter on transition addresses, the NAT64 prefix in the snapshot: exit 0',
          p.returncode == 0, p.stderr)
    compare('frames', js, snap, items, js + '.prom')
    # -r attributes through the same generations and burst loop: the
    # prefix given as --nat64 this time, the snapshot without it.
    jr = os.path.join(tmp, 'frames-r.jsonl')
    p = run([RIRMETER, '-r', pcap, '--threads', '2', '--db', snap, '--nat64', OPERATOR,
             '--json', jr, '--top', '100000', '--quiet', '--prom', jr + '.prom'])
    check('rirmeter -r on transition addresses, --nat64 %s: exit 0' % OPERATOR,
          p.returncode == 0, p.stderr)
    compare('-r frames', jr, snap, items, jr + '.prom')

    fr, items = flow_datagrams(gp, gf, random.Random(12))
    fpcap, fjs = os.path.join(tmp, 'flows.pcap'), os.path.join(tmp, 'flows.jsonl')
    write_pcap(fpcap, fr)
    p = run([RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev', 'net_pcap0,rx_pcap=' + fpcap,
                                '--', '--db', snap, '--json', fjs, '--top', '100000',
                                '--interval', '0', '--quiet', '--nat64', OPERATOR, '--flows',
                                'ipfix:4739,sflow:6343', '--flows-only'])
    check('rirmeter --flows on IPFIX and sFlow between transition addresses: exit 0',
          p.returncode == 0, p.stderr)
    compare('IPFIX and sFlow', fjs, snap, items)
    p = run([RIRMETER] + EAL + ['--vdev', 'net_null0', '--', '--db', snap, '--nat64', 'x/96'])
    check_refused('rirmeter --nat64 x/96: exit 2, named', p, '--nat64')
    shutil.rmtree(tmp)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
