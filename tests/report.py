#!/usr/bin/env python3
"""`rirdb report` on rirmeter's own JSON Lines, rendered by Chromium (TAP).

    report.py RIRMETER RIRDB DATA_DIR SCRIPTS_DIR

rirmeter replays a generated capture in a loop for a few intervals and
writes JSON Lines; `rirdb report` turns them into HTML.  The page must be
self-contained (no script, no external reference), carry one stacked area
per registry with one point per interval, a matrix whose cells equal the
rir_pair totals, and top tables whose rows equal the largest country and
holder totals, in order.  Headless Chromium then renders it at 1280 and
800 px: a probe script, added to a copy of the page only, measures the
layout (charts side by side when wide, stacked when narrow, nothing wider
than the window) and any console message of the page itself fails the
test.  Bad input lines (not JSON, counts that are nan, negative, fractions
or beyond 64 bits, a \\u escape cut short) must be named with a reason and
make the exit status 1.

The located layer's sections (issue #25) come from hand-written lines of
known numbers: each direction's registered x located matrix equals the
sums of its country_located rows (top countries, the rest in "other"),
its diagonal outlined; the mismatch share leaves ZZ out; the top origin
ASes are ranked with "none" and "other" after them; the origin split and
the located countries table; hostile keys escaped; the same layout probe.
A page from lines without those scopes has none of the sections.
"""
import collections
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

from tap import EAL, build_snapshot, check, failures, finish, gen_pcap, skip

RIRMETER, RIRDB, DATA, SCRIPTS = sys.argv[1:5]
RIRS = ['unknown', 'iana', 'afrinic', 'apnic', 'arin', 'lacnic', 'ripencc']
LOCATED_SCOPES = ('country_located', 'geo_country', 'asn', 'origin')
LOCATED_IDS = {'mismatch', 'located-src', 'located-dst', 'located', 'asns', 'origin'}


class Page(html.parser.HTMLParser):
    """Collects what the checks need: element ids, paths, cells, rows."""

    def __init__(self):
        super().__init__()
        self.ids = set()
        self.tags = collections.Counter()
        self.paths = collections.defaultdict(list)   # svg id -> [(class, d)]
        self.cells = collections.defaultdict(dict)   # svg id -> {(row, col): bytes}
        self.marked = collections.defaultdict(set)   # svg id -> {(row, col)} outlined
        self.rows = collections.defaultdict(list)    # table id -> [(key, bytes, pkts)]
        self.refs = []                               # src= / href= values
        self.svg = None
        self.table = None
        self.row = None
        self.cell_text = None

    def feed(self, data):
        self.text = getattr(self, 'text', '') + data  # the page as read
        super().feed(data)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        if 'id' in a:
            self.ids.add(a['id'])
        for k in ('src', 'href', 'xlink:href'):
            if k in a:
                self.refs.append(a[k])
        if tag == 'svg' and 'id' in a:
            self.svg = a['id']
        elif tag == 'path' and self.svg:
            self.paths[self.svg].append((a.get('class', ''), a.get('d', '')))
        elif tag == 'rect' and 'cell' in a.get('class', '').split():
            # registry matrix: data-src/-dst; located ones: data-reg/-loc
            at = (a.get('data-src', a.get('data-reg')), a.get('data-dst', a.get('data-loc')))
            self.cells[self.svg][at] = int(a['data-bytes'])
            if 'same' in a['class'].split():
                self.marked[self.svg].add(at)
        elif tag == 'table':
            self.table = a.get('id')
        elif tag == 'tr' and 'data-packets' in a:
            self.row = [None, int(a.get('data-bytes', -1)), int(a['data-packets'])]
        if self.cell_text is not None:  # <td> has no end tag on the page
            self.row[0] = self.cell_text
            self.cell_text = None
        if tag == 'td' and self.row is not None and self.row[0] is None:
            self.cell_text = ''

    def handle_endtag(self, tag):
        if tag == 'svg':
            self.svg = None
        elif tag == 'tr' and self.row is not None:
            if self.cell_text is not None:
                self.row[0] = self.cell_text
                self.cell_text = None
            self.rows[self.table].append(tuple(self.row))
            self.row = None

    def handle_data(self, data):
        if self.cell_text is not None:
            self.cell_text += data


def parse(path):
    p = Page()
    with open(path) as f:
        p.feed(f.read())
    return p


def totals(lines, scope, field='bytes'):
    out = {}
    for r in lines:
        if r['interval'] == 'total' and r['scope'] == scope:
            out[r['key']] = out.get(r['key'], 0) + r[field]
    return out


def check_content(page, lines):
    check('page has the share charts, matrix and tables',
          {'share-src', 'share-dst', 'matrix', 'countries', 'holders',
           'health'} <= page.ids, sorted(page.ids))
    check('page has no script and references nothing',
          page.tags['script'] == 0 and not page.refs, page.refs)
    stamps = sorted({r['ts'] for r in lines if r['interval'] != 'total'})
    for chart in ('share-src', 'share-dst'):
        paths = page.paths[chart]
        classes = [c for c, _ in paths]
        check('%s: one stacked area per registry' % chart,
              classes == ['area rir-' + r for r in RIRS], classes)
        # upper edge: one point per interval, then the lower edge back
        points = [len(re.findall(r'[ML]', d)) for _, d in paths]
        check('%s: one point per interval on each edge (%d intervals)' % (chart, len(stamps)),
              len(stamps) >= 3 and all(p == 2 * len(stamps) for p in points), points)
        # the top of the stack is 0 (full share) wherever there was traffic
        top = paths[-1][1].split(' L')[:len(stamps)]
        ys = [float(p.lstrip('M').split()[1]) for p in top]
        check('%s: the registries stack to 100%%' % chart, all(abs(y) < 0.05 for y in ys), ys)
    want = {}
    for k, b in totals(lines, 'rir_pair').items():
        s, d = k.split('>')
        want[(s, d)] = want.get((s, d), 0) + b
    got = {k: v for k, v in page.cells['matrix'].items() if v}
    check('matrix cells equal the rir_pair totals', len(page.cells['matrix']) == len(RIRS) ** 2 and
          got == {k: v for k, v in want.items() if v}, (got, want))
    for table, scope in (('countries', 'country'), ('holders', 'holder')):
        t = totals(lines, scope)
        best = sorted(t.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
        rows = [(k, b) for k, b, _ in page.rows[table]]
        check('%s: top 15 by bytes, in order, exact' % table,
              rows == best and len(rows) == min(15, len(t)), (rows[:3], best[:3]))
    health = totals(lines, 'health', 'packets')
    rows = {k: p for k, _, p in page.rows['health']}
    check('health table: every counter, exact packets', rows == health and
          'received' in rows and 'port.0.rx' in rows, (rows, health))
    if not any(r['scope'] in LOCATED_SCOPES for r in lines):
        check_no_located(page, 'rirmeter lines without the located scopes')


def png_size(path):
    with open(path, 'rb') as f:
        head = f.read(24)
    if head[:8] != b'\x89PNG\r\n\x1a\n':
        return None
    return struct.unpack('>II', head[16:24])


def probe_script(ids):
    # the boxes of ids, null for an id the page lacks
    return ('<script>\nfunction box(id){var e=document.getElementById(id);if(!e)return null;\n'
            ' var r=e.getBoundingClientRect();\n'
            ' return [Math.round(r.left),Math.round(r.top),Math.round(r.right),'
            'Math.round(r.bottom)];}\n'
            "var p=document.createElement('pre');p.id='probe';\n"
            'var o={width:innerWidth,scroll:document.documentElement.scrollWidth};\n'
            + ''.join("o['%s']=box('%s');\n" % (i, i) for i in ids) +
            'p.textContent=JSON.stringify(o);\ndocument.body.appendChild(p);\n</script>')


def render(chromium, page, tmp, width, ids):
    """Screenshot, then the layout probe; returns (png, probe, page console)."""
    stem = '%s-%d' % (os.path.splitext(os.path.basename(page))[0], width)
    png = os.path.join(tmp, 'shot-%s.png' % stem)
    common = [chromium, '--headless', '--no-sandbox', '--disable-gpu',
              '--disable-background-networking', '--disable-component-update',
              '--disable-sync', '--no-first-run', '--enable-logging=stderr', '--v=0',
              '--user-data-dir=' + os.path.join(tmp, 'profile-%s' % stem),
              '--window-size=%d,1600' % width]
    shot = subprocess.run(common + ['--screenshot=' + png, 'file://' + page],
                          capture_output=True, text=True, timeout=120)
    probe_page = os.path.join(tmp, 'probe-%s.html' % stem)
    with open(page) as f, open(probe_page, 'w') as o:
        o.write(f.read().replace('</body>', probe_script(ids) + '</body>'))
    dump = subprocess.run(common + ['--dump-dom', 'file://' + probe_page],
                          capture_output=True, text=True, timeout=120)
    console = [l for l in (shot.stderr + dump.stderr).splitlines() if ':CONSOLE' in l]
    m = re.search(r'<pre id="probe">(.*?)</pre>', dump.stdout, re.S)
    probe = json.loads(html.unescape(m.group(1))) if m else None
    return png, probe, console, shot.stderr + dump.stderr


def check_render(page, tmp, what, pairs, ids, min_height=100):
    """Each pair of ids side by side at 1280 px and stacked at 800 px,
    each of them and of ids of a readable size (wider than 200 px, higher
    than min_height), nothing wider than the window, no console message."""
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    if not chromium:
        for w in (1280, 800):
            skip('%s: renders at %d px' % (what, w), 'chromium is not installed')
        return
    sized = [i for p in pairs for i in p] + ids
    for width in (1280, 800):
        png, probe, console, err = render(chromium, page, tmp, width, sized)
        size = png_size(png) if os.path.exists(png) else None
        name = '%s, %d px' % (what, width)
        check('%s: screenshot written' % name,
              size == (width, 1600) and os.path.getsize(png) > 20000, (size, err[-2000:]))
        check('%s: no console message from the page' % name, not console, '\n'.join(console))
        if probe is None:
            check('%s: layout probe ran' % name, False, err[-2000:])
            continue
        check('%s: nothing wider than the window' % name,
              probe['scroll'] <= probe['width'], probe)
        for a_id, b_id in pairs:
            a, b = probe[a_id], probe[b_id]
            if width >= 1000:
                ok = a and b and abs(a[1] - b[1]) <= 2 and a[2] <= b[0]
                check('%s: %s and %s side by side' % (name, a_id, b_id), ok, probe)
            else:
                ok = a and b and b[1] >= a[3] and abs(a[0] - b[0]) <= 2
                check('%s: %s and %s stacked' % (name, a_id, b_id), ok, probe)
        visible = all(probe[k] and probe[k][2] - probe[k][0] > 200 and
                      probe[k][3] - probe[k][1] > min_height for k in sized)
        check('%s: charts and tables have a readable size' % name, visible, probe)


def check_bad_input(tmp, good):
    bad = os.path.join(tmp, 'bad.jsonl')
    with open(good) as f:
        first = f.readline()
    with open(bad, 'w') as f:
        f.write(first + '\n{"scope": oops}\n' + first)
    out = os.path.join(tmp, 'bad.html')
    r = subprocess.run([RIRDB, 'report', '-o', out, bad], capture_output=True, text=True)
    check('bad line: exit 1 and named by file:line',
          r.returncode == 1 and '%s:3:' % bad in r.stderr, (r.returncode, r.stderr))
    with open(out) as f:
        text = f.read()
    check('bad line: page written and says one line was left out',
          '2 lines from 1 file; 1 line not understood and left out' in text, text[:600])
    # Counts must be whole numbers of 0..2^64-1: nan and negative numbers
    # used to become garbage counts; a \u cut short read past the line.
    rec = json.loads(first)
    garbage = ['"packets": nan', '"packets": -5', '"bytes": 2.5', '"bytes": 18446744073709551616']
    with open(bad, 'w') as f:
        f.write(first)
        for g in garbage:
            f.write(first.replace('"packets":%d' % rec['packets'], g.replace(' ', ''))
                    if 'packets' in g else
                    first.replace('"bytes":%d' % rec['bytes'], g.replace(' ', '')))
        f.write('{"scope":"rir","key":"' + 'a' * 90 + '\\u00')
    r = subprocess.run([RIRDB, 'report', '-o', out, bad], capture_output=True, text=True)
    want = ['%s:2: packets: not a string or a JSON number' % bad,
            "%s:3: packets: '-5' is not a whole number" % bad,
            "%s:4: bytes: '2.5' is not a whole number" % bad,
            '%s:5: bytes: 18446744073709551616 is out of range' % bad,
            '%s:6: bad string value' % bad]
    check('bad counts and a short \\u escape: exit 1, each named file:line: reason',
          r.returncode == 1 and all(w in r.stderr for w in want), (r.returncode, r.stderr))
    with open(out) as f:
        text = f.read()
    check('bad counts: left out, the good line kept',
          '1 line from 1 file; 5 lines not understood and left out' in text, text[:600])
    r = subprocess.run([RIRDB, 'report', '-o', out, os.path.join(tmp, 'missing.jsonl')],
                       capture_output=True, text=True)
    check('missing input: exit 1 with the file named',
          r.returncode == 1 and 'missing.jsonl' in r.stderr, r.stderr)
    r = subprocess.run([RIRDB, 'report', good], capture_output=True, text=True)
    check('no -o: usage error, exit 2', r.returncode == 2, r.stderr)


def check_names_and_nirs(tmp):
    """Holders' names (from the lines' "name") beside their keys, and the
    NIR table, from hand-written total lines."""
    def line(scope, key, b, name=None):
        r = {'ts': '2024-05-01T00:00:00Z', 'interval': 'total', 'snapshot': 's',
             'scope': scope, 'dir': 'src', 'key': key, 'packets': 1, 'bytes': b}
        if name is not None:
            r['name'] = name
        return json.dumps(r, ensure_ascii=False) + '\n'
    src = os.path.join(tmp, 'names.jsonl')
    with open(src, 'w', encoding='utf-8') as f:
        f.write(line('holder', 'afrinic:F364712F', 300, 'Caf\u00e9 <b>&amp; "Co"'))
        f.write(line('holder', 'apnic:A91A', 200, '\u65e5\u672c Example'))
        f.write(line('holder', 'ripencc:ORG-X', 100))  # an older line: no name
        f.write(line('nir', 'apnic:jpnic', 200))
        f.write(line('nir', 'apnic:', 50))
        f.write(line('nir', 'lacnic:nicbr', 70))
    out = os.path.join(tmp, 'names.html')
    r = subprocess.run([RIRDB, 'report', '-o', out, src], capture_output=True, text=True)
    check('names and NIRs: exit 0', r.returncode == 0, r.stderr)
    with open(out, encoding='utf-8') as f:
        text = f.read()
    holders = re.search(r'<table id=holders>(.*?)</table>', text, re.S)
    rows = re.findall(r'<tr data-bytes=\d+ data-packets=\d+><td>([^<]*)<td class=name>([^<]*)<td',
                      holders.group(1) if holders else '')
    got = [(html.unescape(k), html.unescape(n)) for k, n in rows]
    check('holders table: each name beside its key, escaped, "" for a line without one',
          got == [('afrinic:F364712F', 'Caf\u00e9 <b>&amp; "Co"'),
                  ('apnic:A91A', '\u65e5\u672c Example'), ('ripencc:ORG-X', '')], got)
    page = Page()
    page.feed(text)
    check('NIR table: every NIR key by bytes',
          [(k, b) for k, b, _ in page.rows['nirs']] ==
          [('apnic:jpnic', 200), ('lacnic:nicbr', 70), ('apnic:', 50)], page.rows['nirs'])
    check_no_located(page, 'hand-written lines without the located scopes')


def check_no_located(page, what):
    """Input without the located layer's scopes: none of its sections."""
    found = LOCATED_IDS & page.ids
    check('%s: no located section' % what, not found and not page.cells.get('located-src'),
          sorted(found))
    check('%s: the countries table plain "Top countries"' % what,
          '<h2>Top countries</h2><table id=countries>' in page.text, '')


def located_lines():
    """Hand-written lines of the located scopes with known numbers: the
    pairs of each direction, the lines, and (source) rirmeter's "other"."""
    def line(scope, d, key, b, interval='total', ts='2026-12-01T00:00:00Z'):
        return json.dumps({'ts': ts, 'interval': interval, 'snapshot': 's', 'scope': scope,
                           'dir': d, 'key': key, 'packets': b // 10, 'bytes': b},
                          ensure_ascii=False) + '\n'
    # source: 15 registered countries, so that the matrix folds 3 into
    # "other"; each mostly at home, some next door; a hostile key whose
    # first '>' splits it into '<i' and '&"x>DE'
    regs = ['NL', 'DE', 'US', 'FR', 'GB', 'JP', 'BR', 'ZA', 'IN', 'AU', 'CA', 'SE', 'NO',
            'FI', 'ZZ']
    src = {}
    for i, r in enumerate(regs):
        src[r + '>' + r] = 10000 - 500 * i
        src[r + '>' + regs[(i + 1) % len(regs)]] = 1000 + 37 * i
    src['NL>ZZ'] = 777
    src['<i>&"x>DE'] = 20011
    dst = {'US>US': 5000, 'US>NL': 1200, 'ZZ>US': 300, 'CA>CA': 700, 'NL>NL': 2500,
           'NL>CA': 90}
    out = []
    for k, b in src.items():  # source from two intervals, summed
        out.append(line('country_located', 'src', k, b - b // 3, '10', '2026-12-01T00:00:00Z'))
        out.append(line('country_located', 'src', k, b // 3, '10', '2026-12-01T00:00:10Z'))
    out.append(line('country_located', 'src', 'other', 900, '10'))
    for k, b in dst.items():  # destination from total lines ...
        out.append(line('country_located', 'dst', k, b))
    out.append(line('country_located', 'dst', 'other', 40))
    # ... which win over its interval lines
    out.append(line('country_located', 'dst', 'FR>FR', 99999, '10'))
    asn = {('src', 'AS3333'): 9000, ('dst', 'AS3333'): 1000, ('src', 'AS1'): 8000,
           ('src', 'none'): 20000, ('dst', 'none'): 5, ('src', 'other'): 7000,
           ('dst', 'AS<i>&"x'): 8500}
    for n in range(16):  # more ASes than the table's 15
        asn[('src', 'AS%d' % (64496 + n))] = 100 + n
    for (d, k), b in asn.items():
        out.append(line('asn', d, k, b))
    for d, k, b in (('src', 'holder', 800), ('src', 'other', 150), ('src', 'unknown', 50),
                    ('dst', 'holder', 1600), ('dst', 'other', 300)):
        out.append(line('origin', d, k, b))
    for d, k, b in (('dst', 'DE', 500), ('dst', 'ZZ', 10), ('dst', 'X"&<Y>', 5),
                    ('src', 'DE', 100), ('src', 'FR', 300)):
        out.append(line('geo_country', d, k, b))
    out.append(line('country', 'src', 'NL', 4000))
    out.append(line('country', 'src', 'DE', 3000))
    return src, dst, asn, out


def located_matrix(pairs):
    """What the page should draw from pairs: cells {(reg, loc): bytes},
    the outlined cells, and the bytes in no cell."""
    placed = {k: b for k, b in pairs.items() if re.fullmatch(r'[^>]+>.+', k)}
    rows, cols = collections.Counter(), collections.Counter()
    for k, b in placed.items():
        r, c = k.split('>', 1)
        rows[r] += b
        cols[c] += b

    def side(tot):
        order = sorted(tot, key=lambda k: (-tot[k], k))
        return (order, set(order)) if len(order) <= 13 else \
            (order[:12] + ['other'], set(order[:12]))
    (rn, rkeep), (cn, ckeep) = side(rows), side(cols)
    cells = {(r, c): 0 for r in rn for c in cn}
    for k, b in placed.items():
        r, c = k.split('>', 1)
        cells[(r if r in rkeep else 'other', c if c in ckeep else 'other')] += b
    marked = {(r, c) for r, c in cells if r == c and r in rkeep and r != 'ZZ'}
    return cells, marked, sum(pairs.values()) - sum(placed.values())


def check_located(tmp):
    """The located layer's sections from hand-written lines: the matrices
    equal the sums of the country_located rows, the diagonal outlined,
    the mismatch share, the origin ASes and split, hostile keys escaped,
    and the layout in Chromium."""
    src, dst, asn, lines = located_lines()
    path = os.path.join(tmp, 'located.jsonl')
    with open(path, 'w', encoding='utf-8') as f:
        f.writelines(lines)
    out = os.path.join(tmp, 'located.html')
    r = subprocess.run([RIRDB, 'report', '-o', out, path], capture_output=True, text=True)
    check('located: exit 0', r.returncode == 0, r.stderr)
    with open(out, encoding='utf-8') as f:
        text = f.read()
    page = Page()
    page.feed(text)
    check('located: every section', LOCATED_IDS <= page.ids, sorted(page.ids))
    for d, pairs in (('src', src), ('dst', dst)):
        cells, marked, unplaced = located_matrix(pairs)
        got = page.cells['located-' + d]
        check('located %s: cells equal the sums of the country_located rows, '
              'top countries and "other"' % d, got == cells,
              sorted(set(got.items()) ^ set(cells.items())))
        check('located %s: the diagonal outlined, not ZZ>ZZ or other' % d,
              page.marked['located-' + d] == marked, (page.marked['located-' + d], marked))
    check('located src: rirmeter\'s "other" named as in no cell',
          '900 B in rows of no pair of countries (rirmeter\'s "other"' in text, text[:0])
    known = differ = 0
    for pairs in (src, dst):
        for k, b in pairs.items():
            m = re.fullmatch(r'([^>]+)>(.+)', k)
            if m and 'ZZ' not in m.groups():
                known += b
                differ += b if m.group(1) != m.group(2) else 0
    m = re.search(r'<strong id=mismatch data-known=(\d+) data-differ=(\d+)>([^<]*)</strong>',
                  text)
    check('located: mismatch share of the known bytes, ZZ left out',
          m and (int(m.group(1)), int(m.group(2)), m.group(3)) ==
          (known, differ, '%.1f%%' % (100 * differ / known)), (m and m.groups(), known, differ))
    ases = collections.Counter()
    for (_, k), b in asn.items():
        ases[k] += b
    ranked = sorted((k for k in ases if k not in ('none', 'other')),
                    key=lambda k: (-ases[k], k))[:15]
    want = [(k, ases[k], ases[k] // 10 if k != 'AS3333' else 1000) for k in ranked]
    want += [('none', 20005, 2000), ('other', 7000, 700)]
    check('located: top 15 origin ASes by bytes, then none and other, unranked',
          page.rows['asns'] == want, (page.rows['asns'], want))
    origin = re.findall(r'<tr data-src=(\d+) data-dst=(\d+)><td>([^<]*)<td>[^<]*'
                        r'<td class=num>[^<]*<td class=num>([^<]*)<td class=num>[^<]*'
                        r'<td class=num>([^<]*)</tr>', text)
    check('located: origin split per direction, holder, other, unknown, with shares',
          origin == [('800', '1600', 'holder', '80.0%', '84.2%'),
                     ('150', '300', 'other', '15.0%', '15.8%'),
                     ('50', '0', 'unknown', '5.0%', '0.0%')], origin)
    check('located: top located countries beside the registered ones',
          page.rows['located'] == [('DE', 600, 60), ('FR', 300, 30), ('ZZ', 10, 1),
                                   ('X"&<Y>', 5, 0)] and
          text.index('<table id=countries>') < text.index('<table id=located>') <
          text.index('<table id=nirs>'), page.rows['located'])
    check('located: the registered countries\' table says so beside the located one',
          '<h2>Top registered countries</h2><table id=countries>' in text and
          '<h2>Top countries</h2>' not in text, text[:0])
    check('located: the health table counts addresses (asn_source), not packets',
          '<table id=health>\n<tr><th>counter<th>count<th>bytes</tr>' in text, text[:0])
    check('located: hostile keys escaped in text and attributes',
          '<i>' not in text and '<Y>' not in text and
          ('<i', '&"x>DE') in page.cells['located-src'] and
          'AS<i>&"x' in [k for k, _, _ in page.rows['asns']], text.count('<i'))
    # nothing known on both sides: no share of nothing
    with open(path, 'w', encoding='utf-8') as f:
        f.writelines(l for l in lines if '"ZZ>' in l or '"other"' in l)
    r = subprocess.run([RIRDB, 'report', '-o', out + '.zz', path], capture_output=True,
                       text=True)
    with open(out + '.zz', encoding='utf-8') as f:
        zz = f.read()
    check('located: no bytes known on both sides, no share given',
          r.returncode == 0 and '<strong id=mismatch data-known=0 data-differ=0>&ndash;'
          '</strong> no bytes have both' in zz, r.stderr)
    check_render(out, tmp, 'located page',
                 [('located-src', 'located-dst'), ('countries', 'located'), ('asns', 'origin')],
                 [], 60)  # tables of two to four rows


def check_long_run(tmp):
    """A day's worth of intervals is merged into at most 600 columns."""
    path = os.path.join(tmp, 'long.jsonl')
    n_int, shares = 1500, {}
    with open(path, 'w') as f:
        for i in range(n_int):
            ts = '2026-11-28T%02d:%02d:%02dZ' % (i // 3600, i // 60 % 60, i % 60)
            for d in ('src', 'dst'):
                for k, rir in enumerate(RIRS):
                    b = (i % 7 + 1) * (k + 1) * 1000 if rir != 'iana' else 0
                    if i < 3:
                        shares[(d, rir)] = shares.get((d, rir), 0) + b
                    f.write(json.dumps({'ts': ts, 'interval': 1.0, 'snapshot': 'x',
                                        'scope': 'rir', 'dir': d, 'key': rir,
                                        'packets': b // 100, 'bytes': b}) + '\n')
    out = os.path.join(tmp, 'long.html')
    r = subprocess.run([RIRDB, 'report', '-o', out, path], capture_output=True, text=True)
    page = parse(out)
    with open(out) as f:
        text = f.read()
    check('long run: exit 0, summary says 3 intervals to a column',
          r.returncode == 0 and '1500 intervals, drawn 3 to a column' in text, r.stderr)
    points = [len(re.findall(r'[ML]', d)) for _, d in page.paths['share-src']]
    check('long run: 500 columns drawn', points == [1000] * len(RIRS), points)
    # the first column's stack, from its upper edges, against the first 3 intervals
    total = sum(shares[('src', r)] for r in RIRS)
    cum, want, got = 0, [], []
    for k, rir in enumerate(RIRS):
        cum += shares[('src', rir)]
        want.append(round(220 * (1 - cum / total), 1))
        got.append(float(page.paths['share-src'][k][1].split(' L')[0].lstrip('M').split()[1]))
    check('long run: first column is the share of the first 3 intervals',
          all(abs(a - b) < 0.11 for a, b in zip(got, want)), (got, want))
    check('long run: page stays small', os.path.getsize(out) < 200000, os.path.getsize(out))


def main():
    tmp = tempfile.mkdtemp(prefix='rirmeter-report-')
    snap = os.path.join(tmp, 'r.snap')
    build_snapshot(RIRDB, DATA, snap)
    pcap = gen_pcap(SCRIPTS, os.path.join(tmp, 'c.pcap'), 2000, 9)
    jsonl = os.path.join(tmp, 'o.jsonl')
    vdev = 'net_pcap0,rx_pcap=%s,infinite_rx=1' % pcap
    r = subprocess.run([RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev', vdev, '--',
                       '--db', snap, '--json', jsonl, '--duration', '2', '--quiet',
                       '--interval', '0.4'], capture_output=True, text=True, timeout=120)
    check('rirmeter wrote JSON Lines', r.returncode == 0 and os.path.getsize(jsonl) > 0,
          r.stderr)
    with open(jsonl) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    page = os.path.join(tmp, 'report.html')
    r = subprocess.run([RIRDB, 'report', '-o', page, jsonl], capture_output=True, text=True)
    check('rirdb report exits 0', r.returncode == 0, r.stderr)
    check_content(parse(page), lines)
    check_render(page, tmp, 'rirmeter page', [('share-src', 'share-dst')],
                 ['matrix', 'countries', 'holders'])
    check_bad_input(tmp, jsonl)
    check_names_and_nirs(tmp)
    check_located(tmp)
    check_long_run(tmp)
    if failures() == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
