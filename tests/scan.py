#!/usr/bin/env python3
"""`rirdb scan` end to end (TAP).

    scan.py RIRDB DATA_DIR

Writes web-server, syslog, Zeek and JSON log lines around addresses drawn
from the bundled registry files (IPv4, IPv6, IPv4-mapped, in brackets, with
ports and zones) and decoys that are not addresses (versions, MACs, times,
hex words).  The counts per rir, country and holder that `rirdb scan`
reports, for the plain file, its gzip copy and standard input, must equal
the attribution `rirdb lookup --reference` gives the addresses written,
with --distinct, in JSON and CSV; bad inputs fail clearly.
"""
import collections
import csv
import gzip
import io
import ipaddress
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

from tap import build_snapshot, check, data_inputs, failures, finish
from tap import on_terminal as tap_on_terminal

RIRDB, DATA = sys.argv[1:3]


def delegations():
    v4, v6 = [], []
    for path in data_inputs(DATA):
        if '/rir/' not in path:
            continue
        with open(path, errors='replace') as f:
            for line in f:
                p = line.split('|')
                if len(p) < 7 or p[1] in ('*', '') or p[2] not in ('ipv4', 'ipv6'):
                    continue
                try:
                    (v4 if p[2] == 'ipv4' else v6).append((p[3], int(p[4])))
                except ValueError:
                    continue
    return v4, v6


def addresses(rng, n):
    """(text as written, address as looked up) pairs."""
    v4, v6 = delegations()
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.6:
            start, size = rng.choice(v4)
            a = str(ipaddress.IPv4Address(int(ipaddress.IPv4Address(start)) +
                                          rng.randrange(size)))
            out.append((a, a))
        elif kind < 0.9:
            start, plen = rng.choice(v6)
            base = int(ipaddress.IPv6Address(start))
            a = str(ipaddress.IPv6Address(base + rng.randrange(1 << min(64, 128 - plen))))
            out.append((a, a))
        elif kind < 0.95:
            start, size = rng.choice(v4)
            a = str(ipaddress.IPv4Address(int(ipaddress.IPv4Address(start)) +
                                          rng.randrange(size)))
            out.append(('::ffff:' + a, a))
        else:
            a = rng.choice(['10.1.2.3', '192.168.0.1', '127.0.0.1', '::1', 'fe80::1'])
            out.append((a, a))
    return out


TEMPLATES = [
    '{a} - - [28/Nov/2026:18:00:00 +0000] "GET /v1.2.3.4.5/x HTTP/1.1" 200 512 "-" '
    '"Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36"',
    'Nov 28 18:00:00 gw sshd[4242]: Failed password for root from {a} port 22 ssh2',
    '1764352800.123456\tCkq3\t{a}\t5353\t{a2}\t53\tudp\tdns\t00:11:22:33:44:55',
    '{{"ts":"2026-11-28T18:00:00Z","src":"{a}","dst":"{a2}","build":"deadbeef:cafe"}}',
    'conn [{a6}]:443 at 12:34:56.789 ok.',
]


def write_log(rng, addrs, path):
    written = []
    with open(path, 'w', newline='') as f:
        i = 0
        while i < len(addrs):
            t = rng.choice(TEMPLATES)
            text, look = addrs[i]
            if '{a6}' in t:
                if ':' not in text:
                    t = TEMPLATES[1]
                line = t.format(a=text, a6=text)
                written.append(look)
                i += 1
            elif '{a2}' in t and i + 1 < len(addrs):
                line = t.format(a=text, a2=addrs[i + 1][0])
                written += [look, addrs[i + 1][1]]
                i += 2
            else:
                line = t.format(a=text, a2='-')
                written.append(look)
                i += 1
            f.write(line + ('\r\n' if rng.random() < 0.3 else '\n'))
    return written


SCOPES = ('rir', 'country', 'nir', 'holder')


def expected(snap, looked_up):
    p = subprocess.run([RIRDB, 'lookup', '-d', snap, '--reference', '--format', 'json'],
                       input='\n'.join(looked_up) + '\n', capture_output=True, text=True)
    counts = {s: collections.Counter() for s in SCOPES}
    seen = {s: collections.defaultdict(set) for s in counts}
    for q, line in zip(looked_up, p.stdout.splitlines()):
        r = json.loads(line)
        h = r['holder_id'] or r['holder']
        keys = {'rir': r['rir'], 'country': '%s:%s' % (r['rir'], r['cc'] or 'ZZ'),
                'nir': '%s:%s' % (r['rir'], r.get('nir') or ''),
                'holder': 'none' if not h else h if h.startswith('local:')
                else '%s:%s' % (r['rir'], h)}
        norm = str(ipaddress.ip_address(q))
        for s, k in keys.items():
            counts[s][k] += 1
            seen[s][k].add(norm)
    return counts, {s: {k: len(v) for k, v in d.items()} for s, d in seen.items()}


def got_json(text):
    counts = {s: collections.Counter() for s in SCOPES}
    distinct = {s: {} for s in counts}
    for line in text.splitlines():
        r = json.loads(line)
        if r['count']:
            counts[r['scope']][r['key']] += r['count']
            distinct[r['scope']][r['key']] = r.get('distinct')
    return counts, distinct


def run(args, **kw):
    return subprocess.run([RIRDB, 'scan'] + args, capture_output=True, text=True,
                          timeout=300, **kw)


def on_terminal(args):
    """stderr+stdout of rirdb scan ARGS run on a pseudo-terminal."""
    return tap_on_terminal([RIRDB, 'scan'] + args)


def check_names(tmp):
    """Holder lines carry the name a holder CSV gave (JSON only; CSV keeps
    its columns); the key stays the id."""
    names = os.path.join(tmp, 'holders.csv')
    with open(names, 'w', encoding='utf-8') as f:
        f.write('registry,holder_id,name\nafrinic,F364712F,"Caf\u00e9 ""Q"" \\ Net"\n')
    snap = os.path.join(tmp, 'named.snap')
    p = subprocess.run([RIRDB, 'build', '-q', '-o', snap] + data_inputs(DATA) + [names],
                       capture_output=True, text=True)
    check('a snapshot with a holder CSV builds', p.returncode == 0, p.stderr)
    text = '41.0.0.1 41.0.0.2 193.0.6.139\n'
    p = run(['-d', snap, '--json', '-', '--quiet'], input=text)
    rows = {r['key']: r for r in map(json.loads, p.stdout.splitlines()) if r['scope'] == 'holder'}
    check('scan JSON: the named holder\'s line has its name, the others none',
          rows.get('afrinic:F364712F', {}).get('name') == 'Caf\u00e9 "Q" \\ Net' and
          rows['afrinic:F364712F']['count'] == 2 and
          all('name' not in r for k, r in rows.items() if k != 'afrinic:F364712F'), rows)
    p = run(['-d', snap, '--quiet'], input=text)
    named = [l for l in p.stdout.splitlines() if l.startswith('holder ')]
    check('scan table: the name at the end of the named holder\'s line only',
          any(l.split()[1] == 'afrinic:F364712F' and l.endswith('  Caf\u00e9 "Q" \\ Net')
              for l in named) and
          all(len(l.split()) == 3 for l in named if 'F364712F' not in l), named)
    p = run(['-d', snap, '--csv', '-', '--quiet'], input=text)
    head = p.stdout.splitlines()[0] if p.stdout else ''
    check('scan CSV: the columns of before, no name',
          head == 'ts,interval,snapshot,scope,key,count' and 'Caf' not in p.stdout, p.stdout)


def check_distinct_families(tmp, snap):
    """--distinct keeps an IPv4 address apart from every IPv6 address, also
    from ::5a00:a.b.c.d, whose 16 bytes once matched the IPv4's key; in one
    stream and across threads (the sets merged)."""
    line = b'1.2.3.4 ::5a00:102:304 5.6.7.8 ::5a00:506:708\n'
    path = os.path.join(tmp, 'families.log')
    with open(path, 'wb') as f:
        f.write(line * ((3 << 20) // len(line)))
    for name, args in (('one stream', ['--threads', '1']), ('threads', ['--threads', '2'])):
        p = run(['-d', snap, '--json', '-', '--distinct', '--quiet'] + args + [path])
        rirs = [json.loads(l) for l in p.stdout.splitlines()]
        rirs = [r for r in rirs if r['scope'] == 'rir']
        check('--distinct (%s): 1.2.3.4 and ::5a00:102:304 are two addresses' % name,
              p.returncode == 0 and sum(r['distinct'] for r in rirs) == 4, p.stdout + p.stderr)


def check_hostile_file_names(tmp, snap):
    """File names are third-party text too (a log directory others write
    into): messages and progress show them as display text, as rirdb
    build's do, never a terminal escape."""
    evil = os.path.join(tmp, 'x\x1b]0;pwned\x07\x1b[2J.log')
    with open(evil, 'w') as f:
        f.write('193.0.6.139\n' * 200000)
    missing = evil + '.missing'
    p = subprocess.run([RIRDB, 'scan', '-d', snap, '--quiet', missing], capture_output=True)
    check('a missing input with escapes in its name: named as display text',
          p.returncode == 1 and b'\x1b' not in p.stderr and
          b'x\\x1b]0;pwned\\x07\\x1b[2J.log.missing: ' in p.stderr, p.stderr)
    for name, extra in (('one stream', ['--threads', '1']), ('threads', ['--threads', '2'])):
        out = on_terminal(['-d', snap, '--json', os.devnull] + extra + [evil])
        check('progress (%s) shows such a name as display text' % name,
              b'MB/s' in out and b'\x1b]0;' not in out and b'\x1b[2J' not in out and
              b'x\\x1b]0;pwned' in out, out[:300])


def main():
    tmp = tempfile.mkdtemp(prefix='rirmeter-scan-')
    snap = build_snapshot(RIRDB, DATA, os.path.join(tmp, 'r.snap'))
    rng = random.Random(11)
    log = os.path.join(tmp, 'access.log')
    looked = write_log(rng, addresses(rng, 20000), log)
    want, want_distinct = expected(snap, looked)
    with open(log, 'rb') as f, gzip.open(log + '.gz', 'wb') as g:
        g.write(f.read())

    p = run(['-d', snap, '--json', '-', '--distinct', '--top', '100000', '--quiet', log])
    got, got_distinct = got_json(p.stdout)
    check('plain file: exit 0, nothing on stderr', p.returncode == 0 and not p.stderr, p.stderr)
    for s in SCOPES:
        check('plain file: %s counts = reference attribution of the %d addresses written'
              % (s, len(looked)), got[s] == want[s],
              (sorted((got[s] - want[s]).items())[:5], sorted((want[s] - got[s]).items())[:5]))
        check('plain file: %s distinct = distinct addresses written' % s,
              got_distinct[s] == want_distinct[s])

    p = run(['-d', snap, '--json', '-', '--top', '100000', '--quiet', log + '.gz'])
    check('gzip input gives the same counts', got_json(p.stdout)[0] == got, p.stderr)
    with open(log, 'rb') as f:
        p = subprocess.run([RIRDB, 'scan', '-d', snap, '--json', '-', '--top', '100000',
                            '--quiet'], stdin=f, capture_output=True, timeout=300)
    check('standard input gives the same counts',
          got_json(p.stdout.decode())[0] == got, p.stderr)

    csv_path = os.path.join(tmp, 'o.csv')
    p = run(['-d', snap, '--csv', csv_path, '--json', os.path.join(tmp, 'o.jsonl'),
             '--quiet', log])
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(tmp, 'o.jsonl')) as f:
        jl = [json.loads(l) for l in f]
    check('CSV rows = JSON lines', [(r['scope'], r['key'], int(r['count'])) for r in rows] ==
          [(r['scope'], r['key'], r['count']) for r in jl] and len(rows) > 10)
    holders = [r for r in jl if r['scope'] == 'holder']
    check('default --top 20: 20 holders and other, summing to all addresses',
          len(holders) == 21 and holders[-1]['key'] == 'other' and
          sum(r['count'] for r in holders) == len(looked), len(holders))
    check('JSON fields are ts, interval "total", snapshot, scope, key, count',
          all(set(r) == {'ts', 'interval', 'snapshot', 'scope', 'key', 'count'} and
              r['interval'] == 'total' for r in jl))

    p = run(['-d', snap, log])
    table = p.stdout.splitlines()
    check('a table on standard output by default, with a summary on stderr',
          p.returncode == 0 and table[0].split() == ['scope', 'key', 'count', 'name'] and
          any(l.split()[:2] == ['rir', 'ripencc'] for l in table) and
          ' addresses' in p.stderr and '\r' not in p.stderr, p.stderr)

    p = subprocess.run([RIRDB, 'scan', '-d', snap, '--annotate', '--quiet', log],
                       capture_output=True, timeout=300)
    with open(log, 'rb') as f:
        original = f.read().splitlines(keepends=True)
    out = p.stdout.splitlines(keepends=True)
    kept, notes = True, []
    for o, i in zip(out, original):
        body = i.rstrip(b'\r\n')
        if not o.startswith(body) or not o.endswith(i[len(body):]):
            kept = False
        for part in o[len(body):].decode().split(' addr=')[1:]:
            f = part.split()
            notes.append((f[0], f[1][4:], f[2][3:]))
    check('--annotate: every line kept, with its line ending',
          p.returncode == 0 and len(out) == len(original) and kept, p.stderr)
    ref = subprocess.run([RIRDB, 'lookup', '-d', snap, '--reference', '--format', 'json'],
                         input='\n'.join(looked) + '\n', capture_output=True, text=True)
    want_notes = [(str(ipaddress.ip_address(r['addr'])), r['rir'], r['cc'] or 'ZZ')
                  for r in map(json.loads, ref.stdout.splitlines())]
    check('--annotate: addr, rir and cc of every address, in order, = reference',
          notes == want_notes, (len(notes), len(want_notes),
                                [(a, b) for a, b in zip(notes, want_notes) if a != b][:3]))
    p = run(['-d', snap, '--annotate', '--json', '-', log])
    check('--annotate with --json: usage error', p.returncode == 2, p.stderr)

    big = os.path.join(tmp, 'big.log')
    with open(log, 'rb') as f, open(big, 'wb') as o:
        data = f.read()
        reps = (8 << 20) // len(data) + 1
        o.write(data * reps)
    runs = {}
    for th in ('1', '2', '3'):
        p = run(['-d', snap, '--json', '-', '--distinct', '--top', '100000', '--quiet',
                 '--threads', th, big])
        runs[th] = got_json(p.stdout) if p.returncode == 0 else p.stderr
    check('--threads 2 and 3 on a %d MiB file = one thread (counts and distinct)'
          % (os.path.getsize(big) >> 20), runs['1'] == runs['2'] == runs['3'])
    check('split file: counts = %d copies of the reference' % reps,
          runs['1'][0]['rir'] == collections.Counter(
              {k: v * reps for k, v in want['rir'].items()}) and
          runs['1'][1]['rir'] == want_distinct['rir'])
    for name, path, extra in (('one stream', log, []), ('threads', big, ['--threads', '2'])):
        out = on_terminal(['-d', snap, '--json', os.devnull] + extra + [path])
        check('progress on a terminal (%s)' % name, b'MB/s' in out and b'\r' in out, out[:300])
        out = on_terminal(['-d', snap, '--json', os.devnull, '--quiet'] + extra + [path])
        check('no progress with --quiet (%s)' % name, b'MB/s' not in out, out[:300])
    p = run(['-d', snap, '--threads', '0', big])
    check('--threads 0: usage error', p.returncode == 2 and '--threads' in p.stderr, p.stderr)

    p = run(['-d', snap, '--quiet', log, os.path.join(tmp, 'missing.log')])
    check('a missing input: exit 1, named, the others still counted',
          p.returncode == 1 and 'missing.log' in p.stderr and 'ripencc' in p.stdout, p.stderr)
    bad_gz = os.path.join(tmp, 'bad.gz')
    with open(log + '.gz', 'rb') as f:
        data = f.read()
    with open(bad_gz, 'wb') as f:
        f.write(data[:len(data) // 2])
    p = run(['-d', snap, '--quiet', bad_gz])
    check('a truncated gzip file: exit 1 with the file named',
          p.returncode == 1 and 'bad.gz' in p.stderr, p.stderr)
    p = run([log])
    check('no -d: usage error, exit 2', p.returncode == 2, p.stderr)
    p = run(['-d', snap, '--top', 'x', log])
    check('bad --top: exit 2', p.returncode == 2 and '--top' in p.stderr, p.stderr)
    p = run(['-d', log, log])
    check('not a snapshot: exit 1', p.returncode == 1 and log in p.stderr, p.stderr)
    check_names(tmp)
    check_distinct_families(tmp, snap)
    check_hostile_file_names(tmp, snap)
    if failures() == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
