#!/usr/bin/env python3
"""The Prometheus endpoint with a real Prometheus server scraping it (TAP).

    prometheus.py RIRMETER RIRDB DATA_DIR SCRIPTS_DIR

rirmeter attributes a generated capture and serves /metrics on 127.0.0.1;
Debian's prometheus, started here with a 1 s scrape interval, scrapes it;
the per-registry and per-NIR totals Prometheus reports over its HTTP API
must equal rirmeter's own JSON totals, and `promtool check metrics` must
accept the endpoint's text.  The snapshot names every AFRINIC holder, with
quotes, backslashes and multi-byte characters at the 64-byte cut: each
holder series keeps its id in `holder` and carries the name, cut between
characters and escaped, in `name`.  Without the prometheus package the server checks are
reported as skipped, not passed.

Then a flood: 1,100 idle TCP connections from 127.0.0.2 (the whole 127/8
is loopback, and may connect to a listener on 127.0.0.1) must not lock a
scraper on 127.0.0.1 out: its scrapes answer within a second, all but the
per-address limit (16) of the idle ones are closed at once, and the rest
when the idle timeout (5 s) passes.
"""
import csv
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from tap import EAL, check, check_promtool, data_inputs, finish, gen_pcap, skip

RIRMETER, RIRDB, DATA, SCRIPTS = sys.argv[1:5]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def still_open(socks):
    """How many of the non-blocking sockets the server has not closed."""
    n = 0
    for s in socks:
        try:
            if s.recv(1) != b'':
                n += 1
        except BlockingIOError:
            n += 1          # connected, nothing to read: held open
        except OSError:
            pass            # reset, or never connected
    return n


def check_flood(eal, pcap, snap, tmp):
    n = 1100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (n + 200, hard if hard == resource.RLIM_INFINITY else max(hard, n + 200)))
    port = free_port()
    err = open(os.path.join(tmp, 'flood.err'), 'w+')
    # Stopped by a signal once the checks are done; the --duration only
    # bounds a run whose test went wrong.
    started = time.time()
    proc = subprocess.Popen([RIRMETER] + eal + ['--vdev', 'net_pcap0,rx_pcap=' + pcap, '--',
                            '--db', snap, '--duration', '120', '--quiet', '--interval', '0',
                            '--prom-listen', '127.0.0.1:%d' % port],
                            stdout=subprocess.DEVNULL, stderr=err)
    url = 'http://127.0.0.1:%d/metrics' % port
    for _ in range(50):
        time.sleep(0.2)
        try:
            get(url)
            break
        except OSError:
            pass
    idle = []
    for _ in range(n):
        s = socket.socket()
        s.bind(('127.0.0.2', 0))
        s.setblocking(False)
        s.connect_ex(('127.0.0.1', port))
        idle.append(s)
    time.sleep(0.5)
    took, answers = [], []
    for _ in range(3):
        t0 = time.time()
        try:
            status, text = get(url, timeout=2)
            answers.append(status == 200 and 'rirmeter_received_packets_total' in text)
        except OSError as e:
            answers.append(repr(e))
        took.append(round(time.time() - t0, 3))
    check('%d idle connections from 127.0.0.2: scrapes from 127.0.0.1 answer within 1 s' % n,
          answers == [True] * 3 and max(took) < 1, (answers, took))
    deadline, left = time.time() + 3, n
    while time.time() < deadline and left > 16:
        time.sleep(0.2)
        left = still_open(idle)
    check('all but 16 of them are closed as they arrive (per-address limit)', left <= 16, left)
    deadline = time.time() + 9
    while time.time() < deadline and left:
        time.sleep(0.5)
        left = still_open(idle)
    check('the idle rest are closed after the 5 s timeout', left == 0, left)
    for s in idle:
        s.close()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    ran = time.time() - started
    err.seek(0)
    log = err.read()
    # A line a second, and 10 more for the start and the end.
    check('the flood ran out in the log, a line a second at most (%d lines in %.0f s), and '
          'rirmeter exits 0' % (log.count('\n'), ran),
          proc.returncode == 0 and log.count('\n') < ran + 10, log[-2000:])


NAME_MAX = 64  # bytes of a holder's name in its label (formats.h)


def hostile_name(i):
    """Names that need escaping, or whose 64-byte cut falls inside a
    character or right after one."""
    return ['Holder "%d" \\ Ltd' % i,
            'a' * 63 + '\u00e9 %d' % i,            # the cut would split the é
            'b' * 62 + '\u00e9%d' % i,             # the é ends at 64: kept
            '\u65e5\u672c' * 12 + str(i)][i % 4]  # 3-byte characters


def name_label(name):
    """What the name label should hold: the first 64 bytes, cut between
    characters (the exposition escapes; the API gives the value back)."""
    return name.encode()[:NAME_MAX].decode('utf-8', 'ignore')


def holder_csv(path):
    """A registry,holder_id,name file naming every holder of the extended
    AFRINIC file (its 8th field); the names by key."""
    names = {}
    ext = os.path.join(DATA, 'rir', 'delegated-afrinic-extended-20230323')
    for line in open(ext):
        f = line.rstrip('\n').split('|')
        if len(f) >= 8 and f[0] == 'afrinic' and f[7] and 'afrinic:' + f[7] not in names:
            names['afrinic:' + f[7]] = hostile_name(len(names))
    with open(path, 'w', newline='', encoding='utf-8') as o:
        w = csv.writer(o)
        w.writerow(['registry', 'holder_id', 'name'])
        for k, n in names.items():
            w.writerow(['afrinic', k.split(':', 1)[1], n])
    return names


def api(pport, query):
    """The samples of an instant query, as (labels, value)."""
    q = 'http://127.0.0.1:%d/api/v1/query?query=%s' % (pport, urllib.parse.quote(query))
    _, body = get(q)
    return [(r['metric'], int(float(r['value'][1]))) for r in json.loads(body)['data']['result']]


def main():
    tmp = tempfile.mkdtemp(prefix='rirmeter-prom-')
    snap = os.path.join(tmp, 'r.snap')
    names = holder_csv(os.path.join(tmp, 'holders.csv'))
    p = subprocess.run([RIRDB, 'build', '-q', '-o', snap] + data_inputs(DATA) +
                       [os.path.join(tmp, 'holders.csv')], capture_output=True, text=True)
    check('snapshot with %d named holders builds' % len(names), p.returncode == 0, p.stderr)
    pcap = gen_pcap(SCRIPTS, os.path.join(tmp, 'c.pcap'), 3000, 5)
    port = free_port()
    out = os.path.join(tmp, 'o.jsonl')
    eal = EAL + ['--lcores', '0@0,1@1']
    # It serves until Prometheus has scraped it, then is stopped by a
    # signal; the --duration only bounds a run whose test went wrong.
    proc = subprocess.Popen([RIRMETER] + eal + ['--vdev', 'net_pcap0,rx_pcap=' + pcap, '--',
                            '--db', snap, '--json', out, '--duration', '120', '--quiet',
                            '--interval', '0', '--top', '100000', '--prom-listen', str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = 'http://127.0.0.1:%d/metrics' % port
    text = ''
    for _ in range(50):
        time.sleep(0.2)
        try:
            status, text = get(url)
            if 'rirmeter_received_packets_total 3000' in text:
                break
        except OSError:
            pass
    check('/metrics is served on loopback and reaches the final count',
          'rirmeter_received_packets_total 3000' in text, text[:500])
    # Holder names are UTF-8: a text/plain without a charset is US-ASCII
    # to any client that follows RFC 6657 (curl, browsers, proxies).
    with urllib.request.urlopen(url, timeout=5) as r:
        ctype = r.headers.get('Content-Type', '')
    check('/metrics is text/plain version 0.0.4 in UTF-8, as the exposition format says',
          ctype.replace(' ', '').split(';') == ['text/plain', 'version=0.0.4', 'charset=utf-8'],
          ctype)
    check('/metrics has the nir family and named holder series',
          '# TYPE rirmeter_nir_packets_total counter' in text and
          'rirmeter_holder_packets_total{direction="src",holder="afrinic:' in text and
          ',name="Holder \\"' in text, text[:500])
    try:
        get('http://127.0.0.1:%d/other' % port)
        check('other paths: 404', False, 'got 200')
    except urllib.error.HTTPError as e:
        check('other paths: 404', e.code == 404, e.code)
    # RFC 9110 15.5.6: a 405 must say which methods the resource takes.
    try:
        urllib.request.urlopen(urllib.request.Request(url, data=b'x', method='POST'),
                               timeout=5)
        check('POST: 405 with an Allow header naming GET and HEAD', False, 'got 200')
    except urllib.error.HTTPError as e:
        allow = e.headers.get('Allow') or ''
        check('POST: 405 with an Allow header naming GET and HEAD',
              e.code == 405 and {m.strip() for m in allow.split(',')} == {'GET', 'HEAD'},
              (e.code, allow))

    check_promtool('promtool check metrics accepts the endpoint', text)

    server = shutil.which('prometheus')
    got, nirs, holders = {}, {}, {}
    if server:
        pport = free_port()
        cfg = os.path.join(tmp, 'prometheus.yml')
        with open(cfg, 'w') as f:
            f.write('global:\n  scrape_interval: 1s\nscrape_configs:\n'
                    '  - job_name: rirmeter\n    static_configs:\n'
                    '      - targets: ["127.0.0.1:%d"]\n' % port)
        prom = subprocess.Popen([server, '--config.file=' + cfg,
                                 '--storage.tsdb.path=' + os.path.join(tmp, 'tsdb'),
                                 '--web.listen-address=127.0.0.1:%d' % pport],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            time.sleep(0.5)
            try:
                got = {(m['direction'], m['rir']): v
                       for m, v in api(pport, 'rirmeter_rir_packets_total')}
                if sum(got.values()) > 0:  # final: /metrics had every packet above
                    nirs = {(m['direction'], '%s:%s' % (m['rir'], m.get('nir', ''))): v
                            for m, v in api(pport, 'rirmeter_nir_packets_total')}
                    holders = {(m['direction'], m['holder']): (v, m.get('name', ''))
                               for m, v in api(pport, 'rirmeter_holder_packets_total')}
                    break
            except (OSError, ValueError, KeyError):
                pass
        prom.terminate()
        prom.wait(timeout=30)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    want, want_nirs, want_holders, json_names = {}, {}, {}, {}
    for line in open(out, encoding='utf-8'):
        r = json.loads(line)
        if r['interval'] != 'total':
            continue
        k = (r.get('dir'), r['key'])
        if r['scope'] == 'rir':
            want[k] = want.get(k, 0) + r['packets']
        elif r['scope'] == 'nir':
            want_nirs[k] = r['packets']
        elif r['scope'] == 'holder' and r['packets']:
            want_holders[k] = (r['packets'], name_label(r.get('name', '')))
            json_names[r['key']] = r.get('name')
    named = {k: n for k, n in json_names.items() if k in names}
    check('JSON holder lines carry the full names of the holder CSV (%d named)' % len(named),
          len(named) >= 4 and all(n == names[k] for k, n in named.items()) and
          all(n is None for k, n in json_names.items() if k not in names),
          [(k, n, names.get(k)) for k, n in json_names.items() if n != names.get(k)][:5])
    check('rirmeter exits 0', proc.returncode == 0, proc.stderr.read() if proc.stderr else '')
    if server:
        check('Prometheus scraped the per-registry totals rirmeter wrote', got == want,
              'prometheus %s\njson %s' % (sorted(got.items()), sorted(want.items())))
        check('Prometheus scraped the per-NIR totals rirmeter wrote', nirs == want_nirs,
              'prometheus %s\njson %s' % (sorted(nirs.items()), sorted(want_nirs.items())))
        check('Prometheus holder series: keyed by id, name cut to 64 bytes between characters',
              holders == want_holders,
              [(k, holders.get(k), v) for k, v in want_holders.items() if holders.get(k) != v][:5])
    else:
        for what in ('per-registry', 'per-NIR'):
            skip('Prometheus scraped the %s totals rirmeter wrote' % what,
                 'the prometheus package is not installed')
        skip('Prometheus holder series: keyed by id, name cut to 64 bytes between characters',
             'the prometheus package is not installed')

    check_flood(eal, pcap, snap, tmp)
    p = subprocess.run([RIRMETER] + eal + ['--vdev', 'net_pcap0,rx_pcap=' + pcap, '--', '--db',
                       snap, '--prom-listen', '127.0.0.1:99999'], capture_output=True, text=True)
    check('a bad --prom-listen is a usage error (2) with a reason', p.returncode == 2 and
          'rirmeter: --prom-listen: port 99999 is out of range 1..65535' in p.stderr, p.stderr)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
