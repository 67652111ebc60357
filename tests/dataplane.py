#!/usr/bin/env python3
"""End-to-end tests of rirmeter on generated captures through net_pcap (TAP).

    dataplane.py RIRMETER RIRDB DATA_DIR SCRIPTS_DIR

The expected totals are computed here, independently of the dataplane: the
generator's manifest says what each frame is, and `rirdb lookup --reference`
(the binary search over the range lists, not the lookup tables) attributes
every address.  rirmeter's JSON totals must equal them exactly; its CSV and
Prometheus outputs must equal its JSON; the same capture split across two
ports and two worker lcores must give the same totals; bad options must
give a clear message and a non-zero exit, never a crash.
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

from tap import EAL, REASONS, RIRS, check, data_inputs, diff, expected_totals, finish, totals_of

RIRMETER, RIRDB, DATA, SCRIPTS = sys.argv[1:5]


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def rirmeter(lcores, pcaps, opts):
    """Run with lcores mapped onto CPU 0-1 (--lcores), so that three lcores
    (main and two workers) also run on a two-core machine."""
    vdevs = []
    for i, p in enumerate(pcaps):
        vdevs += ['--vdev', 'net_pcap%d,rx_pcap=%s' % (i, p)]
    mapping = ','.join('%s@%d' % (lc, int(lc) % 2) for lc in lcores.split(','))
    return run([RIRMETER] + EAL + ['--lcores', mapping] + vdevs + ['--'] + opts)


# ---------------------------------------------------------------------------

def main():
    tmp = tempfile.mkdtemp(prefix='rirmeter-e2e-')
    snap = os.path.join(tmp, 'r.snap')
    p = run([RIRDB, 'build', '-q', '-o', snap] + data_inputs(DATA))
    check('snapshot builds', p.returncode == 0, p.stderr)
    pcap, manifest = os.path.join(tmp, 'all.pcap'), os.path.join(tmp, 'all.jsonl')
    gen = [sys.executable, os.path.join(SCRIPTS, 'gen-pcap.py'), '--packets', '4000',
           '--seed', '7']
    p = run(gen + ['--out', pcap, '--manifest', manifest])
    p2 = run(gen + ['--out', os.path.join(tmp, 'part.pcap'), '--split', '2'])
    check('captures generate', p.returncode == 0 and p2.returncode == 0, p.stderr + p2.stderr)
    want, frames = expected_totals(RIRDB, snap, manifest)
    kinds = collections.Counter(f.get('reason', f['class']) for f in frames)
    check('capture holds every class and malformed case',
          all(kinds[k] for k in ['ipv4', 'ipv6', 'non_ip'] + REASONS[:6]), str(kinds))

    js, csv, prom = (os.path.join(tmp, x) for x in ('o.jsonl', 'o.csv', 'o.prom'))
    p = rirmeter('0,1', [pcap], ['--db', snap, '--json', js, '--csv', csv, '--prom', prom,
                                 '--top', '100000', '--interval', '0.002'])
    check('one port, one worker: exit 0', p.returncode == 0, p.stderr)
    check('stops by itself after the last packet and prints the balance',
          'received %d = attributed' % len(frames) in p.stdout, p.stdout + p.stderr)
    got, lines = totals_of(js)
    for scope in ('rir', 'country', 'nir', 'holder', 'rir_pair', 'health'):
        g = {k: v for k, v in got.items() if k[0] == scope}
        w = {k: v for k, v in want.items() if k[0] == scope}
        check('JSON %s totals equal the reference' % scope, g == w, diff(g, w))
    ports = [l for l in lines if l['interval'] == 'total' and l['key'].startswith('port.0.rx')]
    check('port counter matches', ports and ports[0]['packets'] == len(frames), str(ports))

    ts = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$')
    shape_ok = True
    for l in lines:
        want_keys = {'ts', 'interval', 'snapshot', 'scope', 'key', 'packets'}
        if l['scope'] not in ('rir_pair', 'health'):
            want_keys.add('dir')
        if not (l['scope'] == 'health' and l['key'].startswith(('port.', 'reload.'))):
            want_keys.add('bytes')
        if l['scope'] == 'holder' and l.get('name'):  # only holders, only named ones
            want_keys.add('name')
        if set(l) != want_keys or not ts.match(l['ts']) or not (
                l['interval'] == 'total' or isinstance(l['interval'], (int, float))):
            shape_ok = False
            bad_line = l
            break
    check('every JSON line has exactly the documented fields', shape_ok,
          '' if shape_ok else json.dumps(bad_line))

    sums = collections.defaultdict(lambda: [0, 0])
    for l in lines:
        if l['interval'] != 'total' and l['scope'] in ('rir', 'rir_pair'):
            s = sums[(l['scope'], l.get('dir'), l['key'])]
            s[0] += l['packets']
            s[1] += l['bytes']
    tot = {k: v for k, v in got.items() if k[0] in ('rir', 'rir_pair') and v[0]}
    check('interval lines add up to the totals',
          {k: tuple(v) for k, v in sums.items() if v[0]} == tot, diff(sums, tot))

    rows = [r.split(',') for r in open(csv).read().splitlines()]
    check('CSV header', rows[0] == ['ts', 'interval', 'snapshot', 'scope', 'dir', 'key', 'packets',
                                    'bytes'], str(rows[0]))
    csv_tot = {}
    import csv as csvmod
    for r in csvmod.reader(open(csv)):
        if r[1] == 'total' and not r[5].startswith(('port.', 'reload.')):
            csv_tot[(r[3], r[4] or None, r[5])] = (int(r[6]), int(r[7]) if r[7] else None)
    check('CSV totals equal JSON totals', csv_tot == got, diff(csv_tot, got))

    metrics = {}
    for line in open(prom):
        if line.startswith('#'):
            continue
        name, value = line.rsplit(' ', 1)
        metrics[name] = int(value)
    prom_ok, prom_bad = True, []
    for (scope, d, key), (pk, by) in got.items():
        if scope == 'rir':
            names = ['rirmeter_rir_%s_total{direction="%s",rir="%s"}' % (u, d, key)
                     for u in ('packets', 'bytes')]
        elif scope == 'rir_pair':
            a, b = key.split('>')
            names = ['rirmeter_rir_pair_%s_total{src_rir="%s",dst_rir="%s"}' % (u, a, b)
                     for u in ('packets', 'bytes')]
        elif scope in ('country', 'nir'):
            a, b = key.split(':')
            names = ['rirmeter_%s_%s_total{direction="%s",rir="%s",%s="%s"}'
                     % (scope, u, d, a, scope, b) for u in ('packets', 'bytes')]
        elif scope == 'health' and key in ('received', 'attributed', 'non_ip'):
            names = ['rirmeter_%s_%s_total' % (key, u) for u in ('packets', 'bytes')]
        elif scope == 'health' and key.startswith('malformed.'):
            names = ['rirmeter_malformed_packets_total{reason="%s"}' % key[10:], None]
        else:
            continue
        for nm, v in zip(names, (pk, by)):
            if nm and metrics.get(nm) != v:
                prom_ok = False
                prom_bad.append('%s = %s, JSON %s' % (nm, metrics.get(nm), v))
    check('Prometheus textfile equals JSON totals', prom_ok, '\n'.join(prom_bad))
    conv = re.compile(r'^rirmeter_[a-z_]+_(total|info)(\{.*\})?$')
    check('Prometheus metrics follow the conventions', all(conv.match(m) for m in metrics),
          '\n'.join(m for m in metrics if not conv.match(m)))
    info = [m for m in metrics if m.startswith('rirmeter_snapshot_info')]
    snaps = {l['snapshot'] for l in lines}
    check('one snapshot named everywhere, and in rirmeter_snapshot_info',
          len(snaps) == 1 and len(info) == 1 and 'snapshot="%s"' % snaps.pop() in info[0],
          str(info))

    # Two ports, two workers: the same totals.
    parts = [os.path.join(tmp, 'part.pcap.%d' % k) for k in range(2)]
    js2 = os.path.join(tmp, 'two.jsonl')
    p = rirmeter('0,1,2', parts, ['--db', snap, '--json', js2, '--top', '100000',
                                  '--interval', '0'])
    check('two ports, two workers: exit 0', p.returncode == 0, p.stderr)
    got2, lines2 = totals_of(js2)
    check('two ports, two workers: same totals as one', got2 == got, diff(got2, got))
    rx = sum(l['packets'] for l in lines2 if l['interval'] == 'total'
             and re.match(r'port\.\d+\.rx$', l['key']))
    check('two ports: port counters add up', rx == len(frames), rx)

    # Jumbo frames arrive as chains of mbufs: counted whole, attributed as
    # the reference says, and every segment back in the pool (3000 frames of
    # 2-5 segments through the smallest pool allowed would run it dry, and
    # lose frames, if any stayed behind).
    jumbo, jm, jjs = (os.path.join(tmp, x) for x in ('jumbo.pcap', 'jumbo.jsonl', 'j.jsonl'))
    p = run(gen[:2] + ['--packets', '3000', '--seed', '7', '--kinds', 'jumbo', '--out', jumbo,
                      '--manifest', jm])
    jwant, jframes = expected_totals(RIRDB, snap, jm)
    check('jumbo capture: IPv4 and IPv6 frames longer than one mbuf',
          p.returncode == 0 and all(any(f['len'] > 2048 and f['class'] == c for f in jframes)
                                    for c in ('ipv4', 'ipv6')), p.stderr)
    p = rirmeter('0,1', [jumbo], ['--db', snap, '--mbufs', '1024', '--interval', '0',
                                  '--json', jjs, '--top', '100000'])
    jgot, _ = totals_of(jjs) if p.returncode == 0 else ({}, [])
    check('jumbo frames through a 1024-mbuf pool: every one received and attributed',
          'received 3000 = attributed 3000 ' in p.stdout, p.stdout + p.stderr)
    check('jumbo frames: totals equal the reference', jgot == jwant, diff(jgot, jwant))

    # Appending across restarts (a service restarted on failure must not
    # erase what it collected): two runs on one JSON and one CSV path keep
    # both runs' lines; a line cut short by a crash is completed first; the
    # CSV has one header.
    ajs, acsv = os.path.join(tmp, 'again.jsonl'), os.path.join(tmp, 'again.csv')
    runs_ok = True
    for i in range(2):
        p = rirmeter('0,1', [pcap], ['--db', snap, '--json', ajs, '--csv', acsv, '--interval', '0',
                                     '--quiet'])
        runs_ok = runs_ok and p.returncode == 0
        if i == 0:
            one_json, one_csv = open(ajs).read(), open(acsv).read()
            with open(ajs, 'a') as f:
                f.write('{"cut":')  # the last line of a crashed run
    text = open(ajs).read()
    check('two runs on one --json path: exit 0, both runs\' lines kept in order',
          runs_ok and text.startswith(one_json + '{"cut":\n')
          and len(text) > 1.9 * len(one_json), text[-300:])
    totals = [l for l in text.splitlines() if '"interval":"total"' in l and '"key":"received"' in l]
    check('two runs on one --json path: two "total" received lines', len(totals) == 2, str(totals))
    ctext = open(acsv).read()
    check('two runs on one --csv path: both runs\' rows, exactly one header',
          ctext.startswith(one_csv) and len(ctext.splitlines()) == 2 * len(one_csv.splitlines()) - 1
          and ctext.count('ts,interval,snapshot,') == 1, ctext[:200])

    # Bounded holder cardinality.
    js3 = os.path.join(tmp, 'top.jsonl')
    p = rirmeter('0,1', [pcap], ['--db', snap, '--json', js3, '--top', '3', '--interval', '0',
                                 '--quiet'])
    hl = [json.loads(l) for l in open(js3)]
    hl = [l for l in hl if l['scope'] == 'holder' and l['interval'] == 'total']
    per_dir = collections.Counter(l['dir'] for l in hl)
    attributed = want[('health', None, 'attributed')][0]
    check('--top 3 keeps three holders and "other" per direction',
          p.returncode == 0 and per_dir == {'src': 4, 'dst': 4}
          and any(l['key'] == 'other' for l in hl), str(hl))
    check('--top 3: holder lines still add up to every attributed packet',
          all(sum(l['packets'] for l in hl if l['dir'] == d) == attributed
              for d in ('src', 'dst')), str(hl))

    # Bad options and bad input: a clear message, a non-zero exit, no crash.
    corrupt = os.path.join(tmp, 'corrupt.snap')
    with open(snap, 'rb') as f:
        b = bytearray(f.read())
    b[len(b) // 2] ^= 0xff
    with open(corrupt, 'wb') as f:
        f.write(b)
    cases = [
        ('missing --db', ['0,1'], [pcap], [], 2, '--db FILE is required'),
        ('corrupt --db', ['0,1'], [pcap], ['--db', corrupt], 1, 'checksum mismatch'),
        ('missing snapshot', ['0,1'], [pcap], ['--db', tmp + '/nope.snap'], 1, 'cannot open'),
        ('unwritable --json', ['0,1'], [pcap], ['--db', snap, '--json', '/nonexistent/x.json'],
         1, 'cannot write'),
        ('unwritable --prom', ['0,1'], [pcap], ['--db', snap, '--prom', '/nonexistent/x.prom'],
         1, 'cannot write'),
        ('unknown option', ['0,1'], [pcap], ['--db', snap, '--frobnicate'], 2, 'usage'),
        ('bad number', ['0,1'], [pcap], ['--db', snap, '--interval', 'soon'], 2,
         "--interval: 'soon' is not a non-negative number"),
        ('no ports', ['0,1'], [], ['--db', snap], 1, 'no ports'),
        ('one lcore', ['0'], [pcap], ['--db', snap], 1, 'at least two lcores'),
    ]
    for name, (lc,), pcaps, opts, code, msg in cases:
        p = rirmeter(lc, pcaps, opts)
        check('%s: exit %d with "%s"' % (name, code, msg),
              p.returncode == code and msg in p.stderr,
              'exit %d\n%s' % (p.returncode, p.stderr))
    p = rirmeter('0,1', [tmp + '/missing.pcap'], ['--db', snap])
    check('missing capture file: non-zero exit, no crash', 0 < p.returncode < 128,
          'exit %d\n%s' % (p.returncode, p.stderr))
    p = run([RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev', 'net_bogus0', '--',
                                '--db', snap])
    check('unknown port driver: exit 2, EAL says why',
          p.returncode == 2 and 'EAL initialisation failed' in p.stderr,
          'exit %d\n%s' % (p.returncode, p.stderr))

    return finish()


if __name__ == '__main__':
    sys.exit(main())
