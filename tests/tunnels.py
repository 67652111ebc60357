#!/usr/bin/env python3
"""rirmeter through tunnels, on generated captures (TAP).

    tunnels.py RIRMETER RIRDB DATA_DIR SCRIPTS_DIR

scripts/gen-pcap.py --kinds tunnels writes every encapsulation rirmeter
follows (GRE, ERSPAN I/II/III, IP-in-IP, VXLAN, Geneve, GTP-U), nested,
cut inside the tunnel, and carrying malformed or non-IP packets, with a
manifest of what each frame holds.  Checked here:

- tshark's dissection (an independent reading of what the generator
  wrote): every well-formed tunnel frame dissects into the tunnel's
  protocols, and its innermost IP header has the manifest's addresses;
- rirmeter --tunnels outer, inner and both: the attribution scopes equal
  the reference lookup (`rirdb lookup --reference`) of the outermost,
  innermost, and both (inner_* scopes) addresses the generator placed;
  health balances; the tunnel scope counts every kind crossed and what the
  tunnels carried that is not IP (non_ip, malformed.REASON) as the
  manifest says;
- a bad --tunnels value is a usage error.
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

from tap import (EAL, build_snapshot, check, check_refused, diff, finish, gen_pcap,
                 scope_totals, skip, totals_of)

RIRMETER, RIRDB, DATA, SCRIPTS = sys.argv[1:5]
ATTRIBUTION = ('rir', 'country', 'holder', 'rir_pair')

# The tunnel kinds as tshark names their protocols (frame.protocols).
TSHARK_PROTO = {'gre': 'gre', 'erspan': 'erspan', 'vxlan': 'vxlan', 'geneve': 'geneve',
                'gtpu': 'gtp', 'ipip': 'ip', '6in4': 'ipv6', '4in6': 'ip', '6in6': 'ipv6'}


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def rirmeter(pcap, opts):
    return run([RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev',
                                   'net_pcap0,rx_pcap=%s' % pcap, '--'] + opts)


def tshark_check(pcap, frames):
    """Compare tshark's innermost IP addresses and protocol stack with the
    manifest, for the well-formed tunnel frames."""
    p = run(['tshark', '-r', pcap, '-n', '-T', 'fields', '-E', 'occurrence=a', '-E',
             'separator=\t', '-e', 'frame.protocols', '-e', 'ip.src', '-e', 'ip.dst', '-e',
             'ipv6.src', '-e', 'ipv6.dst'])
    if not check('tshark reads the capture', p.returncode == 0, p.stderr):
        return
    rows = p.stdout.splitlines()
    check('tshark sees every frame', len(rows) == len(frames), '%d rows' % len(rows))
    bad, checked = [], collections.Counter()
    for i, (row, f) in enumerate(zip(rows, frames)):
        if not f.get('check'):
            continue
        cols = (row.split('\t') + [''] * 5)[:5]
        protos = cols[0].split(':')
        fams = [x for x in protos if x in ('ip', 'ipv6')]
        want_fam = 'ip' if f['inner']['class'] == 'ipv4' else 'ipv6'
        src, dst = (cols[1], cols[2]) if want_fam == 'ip' else (cols[3], cols[4])
        got = (fams[-1] if fams else None, src.split(',')[-1], dst.split(',')[-1])
        want = (want_fam, f['inner']['src'], f['inner']['dst'])
        kinds_ok = all(TSHARK_PROTO[k] in protos for k in f['tunnels'])
        # Each tunnel adds an IP header to the stack: one more than the kinds
        # with an IP header of their own (none do but IP-in-IP's).
        if got != want or not kinds_ok or len(fams) < 2:
            bad.append('frame %d %s: tshark %s %s, manifest %s %s' %
                       (i + 1, f['kind'], got, cols[0], want, f['tunnels']))
        checked[f['kind']] += 1
    check('tshark: innermost addresses and tunnel protocols as generated (%d frames, %d kinds)'
          % (sum(checked.values()), len(checked)), not bad, '\n'.join(bad))


def expected(snap, frames, mode):
    """The totals rirmeter must print for --tunnels mode, keyed (scope, dir, key)."""
    def inner_ip(f):
        return f.get('inner', f)  # an untunnelled frame is its own innermost packet
    outer = [f for f in frames if f['class'] in ('ipv4', 'ipv6')]
    inside = [inner_ip(f) | {'len': f['len']} for f in outer]
    if mode == 'outer':
        att = outer
    else:
        att = [i for i in inside if i['class'] in ('ipv4', 'ipv6')]
    t = scope_totals(RIRDB, snap, [(f['src'], f['dst'], 1, f['len']) for f in att])
    if mode == 'both':
        t = scope_totals(RIRDB, snap, [(f['src'], f['dst'], 1, f['len']) for f in outer])
        ti = scope_totals(RIRDB, snap, [(f['src'], f['dst'], 1, f['len']) for f in att])
        for (scope, d, key), v in ti.items():
            t[('inner_' + scope, d, key)] = v
    t = {k: tuple(v) for k, v in t.items()}
    t[('health', None, 'received')] = (len(frames), sum(f['len'] for f in frames))
    tun = collections.defaultdict(lambda: [0, 0])
    for f in outer:
        for k in f.get('tunnels', []):
            tun[('tunnel', None, k)][0] += 1
            tun[('tunnel', None, k)][1] += f['len']
        i = f.get('inner')
        if f.get('tunnels') and i['class'] != 'ipv4' and i['class'] != 'ipv6':
            key = 'non_ip' if i['class'] == 'non_ip' else 'malformed.' + i['reason']
            tun[('tunnel', None, key)][0] += 1
            tun[('tunnel', None, key)][1] += f['len']
    t.update({k: tuple(v) for k, v in tun.items()})
    return t


def prom_of(path):
    """The tunnel and inner_rir samples of a Prometheus textfile."""
    out = {}
    for line in open(path):
        if line.startswith(('rirmeter_tunnel_', 'rirmeter_inner_rir_packets',
                            'rirmeter_inner_rir_bytes')):
            name, value = line.rsplit(' ', 1)
            out[name] = int(value)
    return out


def prom_want(got):
    """The same samples as rirmeter's JSON totals say they must be."""
    out = {}
    for (scope, d, key), (pk, by) in got.items():
        if scope == 'tunnel' and (key == 'non_ip' or key.startswith('malformed.')):
            out['rirmeter_tunnel_unattributable_packets_total{reason="%s"}' %
                key.replace('malformed.', '')] = pk
        elif scope == 'tunnel':
            out['rirmeter_tunnel_packets_total{kind="%s"}' % key] = pk
        elif scope == 'inner_rir':
            for unit, v in (('packets', pk), ('bytes', by)):
                out['rirmeter_inner_rir_%s_total{direction="%s",rir="%s"}' % (unit, d, key)] = v
    return out


def main():
    tmp = tempfile.mkdtemp(prefix='rirmeter-tun-')
    snap = build_snapshot(RIRDB, DATA, os.path.join(tmp, 'r.snap'))
    manifest = os.path.join(tmp, 't.jsonl')
    pcap = gen_pcap(SCRIPTS, os.path.join(tmp, 't.pcap'), 3000, 5, '--kinds', 'tunnels',
                    '--manifest', manifest)
    frames = [json.loads(l) for l in open(manifest)]
    kinds = collections.Counter(k for f in frames for k in f.get('tunnels', []))
    check('every kind of tunnel is in the capture',
          all(kinds[k] for k in TSHARK_PROTO), str(kinds))
    reasons = collections.Counter(f['inner'].get('reason', f['inner']['class'])
                                  for f in frames if 'inner' in f)
    check('inner packets: IP, non-IP, truncated, and every malformed reason',
          all(reasons[r] for r in ('ipv4', 'ipv6', 'non_ip', 'truncated', 'ipv4_length',
                                   'ipv6_length', 'ipv4_ihl', 'ip_version', 'tunnel_header',
                                   'too_many_tunnels')), str(reasons))
    if shutil.which('tshark'):
        tshark_check(pcap, frames)
    else:
        skip('tshark dissection', 'tshark not installed')

    for mode in ('outer', 'inner', 'both'):
        js, prom = os.path.join(tmp, mode + '.jsonl'), os.path.join(tmp, mode + '.prom')
        p = rirmeter(pcap, ['--db', snap, '--json', js, '--prom', prom, '--top', '100000',
                            '--interval', '0', '--quiet', '--tunnels', mode])
        check('--tunnels %s: exit 0' % mode, p.returncode == 0, p.stdout + p.stderr)
        got, _ = totals_of(js)
        want = expected(snap, frames, mode)
        scopes = ATTRIBUTION + (tuple('inner_' + s for s in ATTRIBUTION) if mode == 'both' else ())
        for scope in list(scopes) + ['tunnel']:
            g = {k: v for k, v in got.items() if k[0] == scope}
            w = {k: v for k, v in want.items() if k[0] == scope}
            check('--tunnels %s: %s totals equal the reference' % (mode, scope), g == w,
                  diff(g, w))
        h = {k[2]: v for k, v in got.items() if k[0] == 'health'}
        check('--tunnels %s: received as generated, and the balance holds' % mode,
              h['received'] == want[('health', None, 'received')] and h['received'][0] ==
              h['attributed'][0] + h['non_ip'][0] + h['malformed'][0], str(h))
        check('--tunnels %s: Prometheus equals JSON for the tunnel and inner scopes' % mode,
              prom_of(prom) == prom_want(got), diff(prom_of(prom), prom_want(got)))
        # -r shares the workers' burst loop (dataplane/burst.h): the same
        # totals, read from the file by two threads without EAL.
        jr = os.path.join(tmp, mode + '-r.jsonl')
        p = run([RIRMETER, '-r', pcap, '--threads', '2', '--db', snap, '--json', jr,
                 '--top', '100000', '--quiet', '--tunnels', mode])
        check('-r --tunnels %s: exit 0' % mode, p.returncode == 0, p.stdout + p.stderr)
        gr, _ = totals_of(jr)
        same = list(scopes) + ['tunnel']
        g = {k: v for k, v in gr.items() if k[0] in same}
        w = {k: v for k, v in got.items() if k[0] in same}
        check('-r --tunnels %s: every attribution and tunnel total equals the live one' % mode,
              g == w, diff(g, w))
        if mode == 'inner':
            bad = collections.Counter(f['inner']['reason'] for f in frames
                                      if f.get('inner', {}).get('class') == 'malformed')
            g = {k: v[0] for k, v in h.items() if k.startswith('malformed.') and v[0]}
            check('--tunnels inner: malformed inner packets are malformed frames, by reason',
                  g == {'malformed.' + r: n for r, n in bad.items()}, diff(g, bad))
    if not any(k[0] == 'tunnel' for k in totals_of(os.path.join(tmp, 'outer.jsonl'))[0]):
        check('the tunnel scope is written', False)
    p = rirmeter(pcap, ['--db', snap, '--tunnels', 'middle'])
    check_refused('--tunnels middle: exit 2, named', p, '--tunnels')
    shutil.rmtree(tmp)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
