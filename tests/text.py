#!/usr/bin/env python3
"""Text that crosses trust boundaries, through every output (TAP).

    text.py RIRDB [RIRMETER]

Labels, holder names, holder ids, IANA names, serials and file names are
third-party text.  A build takes labels, holder ids and names only as valid
UTF-8 of 1-200 bytes, and no registry holder id starting "local:" (the
labels' keys); a malformed line is `FILE:LINE: reason`, skipped with
--lenient.  What a build takes reaches the outputs as follows, checked
here with escape sequences (ESC]0;...BEL, ESC[2J), newlines, C1 controls,
bidirectional overrides and isolates (U+202E, U+2066: "Trojan Source"),
two long labels that share a 190-byte prefix of two-byte characters, and
spreadsheet formulas:

  - rirdb lookup CSV, rirdb scan --csv, rirmeter --csv: no control byte
    or bidirectional control (shown escaped), valid UTF-8, cells starting
    =, +, -, @ prefixed with a single quote;
  - rirdb lookup --format json, rirdb scan --json, rirmeter --json: every
    line a strict JSON object, the text itself preserved;
  - rirdb info, the scan table, scan --annotate, build diagnostics: no
    control byte, one annotated line per input line;
  - rirmeter's Prometheus textfile: `promtool check metrics` accepts it,
    and the two long labels stay two series.
"""
import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from tap import EAL, check, finish, skip, write_pcap

RIRDB = sys.argv[1]
RIRMETER = sys.argv[2] if len(sys.argv) > 2 else None

ESC_TITLE = b'\x1b]0;pwned\x07'
ESC_CLEAR = b'\x1b[2J'
C1_CSI = b'\xc2\x9b'  # U+009B, a CSI for terminals that take C1 controls
BIDI = '\u202e\u2066'.encode()  # right-to-left override, left-to-right isolate
LONG_A = 'é' * 95 + 'A' * 10  # 200 bytes; the two differ only after 190
LONG_B = 'é' * 95 + 'B' * 10

STATS = (b'2|ripencc|1' + ESC_TITLE + b'|6|19830705|20140630|+0200\n'
         b'ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated|ORG1\n'
         b'ripencc|NL|ipv4|10.0.1.0|256|20100101|allocated|ORG2\n'
         b'ripencc|FR|ipv4|10.0.2.0|256|20100101|allocated|ORG3\n'
         b'ripencc|BE|ipv4|10.0.3.0|256|20100101|allocated|ORG4\n'
         b'ripencc|LU|ipv4|10.0.4.0|256|20100101|allocated|ORG5\n'
         b'ripencc|AT|ipv4|10.0.5.0|256|20100101|allocated|ORG6\n')
NAMES = ('registry,holder_id,name\n'
         'ripencc,ORG1,"=HYPERLINK(""http://x/"",""click"")"\n'
         'ripencc,ORG3,-2+3\n'
         'ripencc,ORG4,@SUM(1+1)\n'
         'ripencc,ORG5,+cmd\n').encode() + \
    b'ripencc,ORG2,"Evil' + ESC_TITLE + ESC_CLEAR + b'\nline2' + C1_CSI + BIDI + b'"\n'
LABELS = ('prefix,label\n10.0.6.0/24,%s\n10.0.7.0/24,%s\n10.0.8.0/24,=cmd|x\n'
          % (LONG_A, LONG_B)).encode() + b'10.0.9.0/24,lab' + C1_CSI + b'el\n'
SPECIAL = (b'Address Block,Name,RFC,Allocation Date\n'
           b'10.0.10.0/24,"Evil\nname' + ESC_CLEAR + BIDI + b'",[RFC1],2000-01\n')
ADDRS = ['10.0.%d.1' % i for i in range(11)]


def run(argv, data=None):
    return subprocess.run(argv, input=data, capture_output=True, timeout=120)


def clean(out):
    """'' when out is valid UTF-8 without a control character other than a
    line break, and without a bidirectional embedding, override or isolate
    (which would reorder the line as shown); else what is wrong."""
    try:
        text = out.decode('utf-8')
    except UnicodeDecodeError as e:
        return 'not UTF-8: %s' % e
    bad = sorted({'%04x' % ord(c) for c in text
                  if c != '\n' and (ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f or
                                    0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069)})
    return 'control characters %s' % bad if bad else ''


def json_lines(out):
    """Every line of out parsed by a strict JSON parser (bytes in, as UTF-8);
    the objects, or the error."""
    try:
        return [json.loads(line) for line in out.splitlines()], ''
    except ValueError as e:
        return None, str(e)


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, 'wb') as f:
        f.write(data)
    return path


def refused(tmp, name, data, why, others):
    """A build of data (with others) fails naming name:2 and why; --lenient
    builds, skipping the line."""
    path = write(tmp, name, data)
    out = os.path.join(tmp, 'refused.snap')
    p = run([RIRDB, 'build', '-q', '-o', out] + others + [path])
    err = p.stderr.decode(errors='replace')
    check('build refuses %s' % why, p.returncode == 1 and ('%s:2: ' % path) in err and
          why in err, err)
    p = run([RIRDB, 'build', '-q', '--lenient', '-o', out] + others + [path])
    err = p.stderr.decode(errors='replace')
    check('--lenient skips the line with %s' % why,
          p.returncode == 0 and '(skipped)' in err, err)
    return out


def build_checks(tmp, stats):
    long_label = ('prefix,label\n10.0.6.0/24,%s\n' % ('é' * 100 + 'x')).encode()
    refused(tmp, 'bad-label.csv', b'prefix,label\n10.0.6.0/24,caf\xc3\n',
            'label is not valid UTF-8', [stats])
    refused(tmp, 'long-label.csv', long_label, 'label must be 1-200 bytes', [stats])
    refused(tmp, 'bad-name.csv', b'registry,holder_id,name\nripencc,ORG1,\xff\xfe\n',
            'holder name is not valid UTF-8', [stats])
    refused(tmp, 'bad-id.txt', b'2|arin|1|1|19830705|20140630|-0500\n'
            b'arin|US|ipv4|10.1.0.0|256|20100101|allocated|A\xed\xa0\x80\n',
            'holder id is not valid UTF-8', [])

    bad_cc = write(tmp, 'bad-cc.txt', b'2|ripencc|1|1|19830705|20140630|+0200\n'
                   b'ripencc|D' + ESC_CLEAR + b'|ipv4|10.3.0.0|256|20100101|allocated\n')
    p = run([RIRDB, 'build', '-q', '-o', os.path.join(tmp, 'x.snap'), bad_cc])
    check('build diagnostics quote the input as display text',
          p.returncode == 1 and clean(p.stderr) == '' and b"country code 'D\\x1b[2J'" in p.stderr,
          p.stderr)

    # A registry holder id "local:office" would share the key of the label
    # "office": refused, so the label stays the operator's alone.
    labels = write(tmp, 'office.csv', b'prefix,label\n10.2.1.0/24,office\n')
    snap = refused(tmp, 'local-id.txt', b'2|arin|1|1|19830705|20140630|-0500\n'
                   b'arin|US|ipv4|10.2.0.0|256|20100101|allocated|local:office\n',
                   "holder id 'local:office' starts with 'local:'", [labels])
    p = run([RIRDB, 'scan', '-d', snap, '--json', '-'], b'10.2.0.1 10.2.1.1\n')
    recs, _ = json_lines(p.stdout)
    office = [r for r in recs or [] if r['scope'] == 'holder' and r['key'] == 'local:office']
    check('a registry id "local:office" does not count as the label "office"',
          len(office) == 1 and office[0]['count'] == 1, p.stdout.decode(errors='replace'))


# Queries are echoed in the addr column of their error rows: text from
# outside too.
BAD_QUERIES = [b'\xff\x1b[2J', b'=1+2']


def lookup_checks(snap):
    queries = b'\n'.join([a.encode() for a in ADDRS] + BAD_QUERIES) + b'\n'
    p = run([RIRDB, 'lookup', '-d', snap], queries)
    check('lookup CSV: exit 1 for the bad queries', p.returncode == 1, p.stderr)
    check('lookup CSV: valid UTF-8, no control character', clean(p.stdout) == '',
          clean(p.stdout))
    rows = list(csv.DictReader(io.StringIO(p.stdout.decode(errors='replace'))))
    check('lookup CSV: one row per query, bad ones escaped',
          len(rows) == len(ADDRS) + 2 and rows[-2]['addr'] == '\\xff\\x1b[2J' and
          rows[-1]['addr'] == "'=1+2", p.stdout)
    holder = {r['addr']: r['holder'] for r in rows}
    want = {'10.0.0.1': '\'=HYPERLINK("http://x/","click")', '10.0.2.1': "'-2+3",
            '10.0.3.1': "'@SUM(1+1)", '10.0.4.1': "'+cmd"}
    check('lookup CSV: formula cells start with a single quote',
          all(holder.get(a) == v for a, v in want.items()),
          {a: holder.get(a) for a in want})
    check('lookup CSV: control characters shown as \\xNN, bidi controls as \\uNNNN',
          holder.get('10.0.1.1') ==
          'Evil\\x1b]0;pwned\\x07\\x1b[2J\\x0aline2\\x9b\\u202e\\u2066',
          holder.get('10.0.1.1'))
    check('lookup CSV: plain cells unchanged', holder.get('10.0.5.1') == 'ORG6' and
          rows[0]['range'] == '10.0.0.0-10.0.0.255', rows[:1])

    p = run([RIRDB, 'lookup', '-d', snap, '--format', 'json'], queries)
    recs, err = json_lines(p.stdout)
    check('lookup JSON: a strict parser takes every line', recs is not None and
          len(recs) == len(ADDRS) + 2 and recs[-2]['addr'] == '\ufffd\x1b[2J', err)
    by = {r['addr']: r for r in recs or []}
    check('lookup JSON: the text itself is kept',
          by.get('10.0.1.1', {}).get('holder') ==
          (b'Evil' + ESC_TITLE + ESC_CLEAR + b'\nline2' + C1_CSI + BIDI).decode() and
          by.get('10.0.6.1', {}).get('holder') == 'local:' + LONG_A,
          [by.get('10.0.1.1'), by.get('10.0.6.1')])
    check('lookup JSON: no raw control byte', clean(p.stdout) == '', clean(p.stdout))


def scan_checks(snap):
    lines = ''.join('line %d from %s and 10.0.10.7 to end\n' % (i, a)
                    for i, a in enumerate(ADDRS)).encode()
    p = run([RIRDB, 'scan', '-d', snap, '--annotate'], lines)
    out = p.stdout.splitlines()
    check('scan --annotate: one line per input line', p.returncode == 0 and
          len(out) == len(ADDRS), p.stdout.decode(errors='replace'))
    check('scan --annotate: no control character', clean(p.stdout) == '', clean(p.stdout))
    check('scan --annotate: the IANA name with a newline stays on its line',
          all(b'holder="iana:Evil\\\\x0aname\\\\x1b[2J\\\\u202e\\\\u2066"' in line
              for line in out), out[:1])

    p = run([RIRDB, 'scan', '-d', snap], lines)
    check('scan table: no control character', p.returncode == 0 and clean(p.stdout) == '',
          clean(p.stdout) or p.stderr)
    check('scan table: the two long labels are two rows',
          p.stdout.decode(errors='replace').count('local:' + 'é' * 95) == 2, p.stdout)

    p = run([RIRDB, 'scan', '-d', snap, '--csv', '-'], lines)
    check('scan --csv: no control character', p.returncode == 0 and clean(p.stdout) == '',
          clean(p.stdout))
    rows = list(csv.DictReader(io.StringIO(p.stdout.decode(errors='replace'))))
    check('scan --csv: counts are plain numbers', rows and
          all(r['count'].isdigit() for r in rows), rows[:3])
    p = run([RIRDB, 'scan', '-d', snap, '--json', '-'], lines)
    recs, err = json_lines(p.stdout)
    keys = {r['key'] for r in recs or [] if r['scope'] == 'holder'}
    check('scan --json: strict JSON, the long labels two keys', recs is not None and
          {'local:' + LONG_A, 'local:' + LONG_B} <= keys, err or sorted(keys))


def info_checks(snap):
    p = run([RIRDB, 'info', '-d', snap])
    check('info: no control character (serial and file name escaped)',
          p.returncode == 0 and clean(p.stdout) == '', clean(p.stdout) or p.stderr)
    check('info: the serial shown escaped', b'1\\x1b]0;pwned\\x07' in p.stdout, p.stdout)


def frame(src, dst):
    s = bytes(int(x) for x in src.split('.'))
    d = bytes(int(x) for x in dst.split('.'))
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 28, 1, 0, 64, 17, 0, s, d)
    return b'\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00' + ip + \
        struct.pack('>HHHH', 1000, 2000, 8, 0) + bytes(18)


def rirmeter_checks(tmp, snap):
    if not RIRMETER:
        for what in ('JSON Lines', 'CSV', 'Prometheus textfile'):
            skip('rirmeter %s' % what, 'no rirmeter in this build')
        return
    pcap = os.path.join(tmp, 'c.pcap')
    write_pcap(pcap, [frame(a, ADDRS[(i + 1) % len(ADDRS)]) for i, a in enumerate(ADDRS)])
    js, cs, prom = (os.path.join(tmp, n) for n in ('o.jsonl', 'o.csv', 'o.prom'))
    p = run([RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev', 'net_pcap0,rx_pcap=' + pcap,
                               '--', '--db', snap, '--json', js, '--csv', cs, '--prom', prom,
                               '--quiet', '--top', '50'])
    check('rirmeter exits 0', p.returncode == 0, p.stderr.decode(errors='replace'))
    data = open(js, 'rb').read() if os.path.exists(js) else b''
    recs, err = json_lines(data)
    keys = {r['key'] for r in recs or [] if r['scope'] == 'holder'}
    check('rirmeter JSON Lines: strict JSON, the long labels two keys, names kept',
          recs is not None and {'local:' + LONG_A, 'local:' + LONG_B} <= keys and
          'iana:Evil\nname\x1b[2J\u202e\u2066' in keys, err or sorted(keys))
    data = open(cs, 'rb').read() if os.path.exists(cs) else b''
    check('rirmeter CSV: valid UTF-8, no control character', data and clean(data) == '',
          clean(data))
    rows = list(csv.DictReader(io.StringIO(data.decode(errors='replace'))))
    check('rirmeter CSV: one row per key, numbers plain',
          rows and all(r['packets'].isdigit() for r in rows) and
          any(r['key'] == 'local:=cmd|x' for r in rows), rows[:3])
    text = open(prom, 'rb').read() if os.path.exists(prom) else b''
    check('Prometheus textfile: valid UTF-8, the long labels two series',
          clean(text) == '' and text.decode().count('holder="local:' + 'é' * 95) >= 4,
          clean(text) or text[:400])
    promtool = shutil.which('promtool')
    if promtool:
        p = run([promtool, 'check', 'metrics'], text)
        check('promtool check metrics accepts the textfile', p.returncode == 0,
              (p.stdout + p.stderr).decode(errors='replace'))
    else:
        skip('promtool check metrics accepts the textfile', 'promtool not installed')


def main():
    tmp = tempfile.mkdtemp(prefix='rirmeter-text-')
    try:
        stats = write(tmp, 'stats\x1b[2J.txt', STATS)
        inputs = [stats, write(tmp, 'names.csv', NAMES), write(tmp, 'labels.csv', LABELS),
                  write(tmp, 'special.csv', SPECIAL)]
        snap = os.path.join(tmp, 'r.snap')
        p = run([RIRDB, 'build', '-q', '-o', snap] + inputs)
        if not check('build takes valid UTF-8 with controls, formulas and long labels',
                     p.returncode == 0, p.stderr.decode(errors='replace')):
            return finish()
        build_checks(tmp, stats)
        lookup_checks(snap)
        scan_checks(snap)
        info_checks(snap)
        rirmeter_checks(tmp, snap)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
