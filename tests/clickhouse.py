#!/usr/bin/env python3
"""clickhouse.py - rirmeter --clickhouse against Debian's clickhouse-server.

    clickhouse.py RIRMETER RIRDB DATA_DIR SCRIPTS_DIR

Starts clickhouse-server as an ordinary process on 127.0.0.1 with a copy of
its config.xml whose data, tmp and log paths and ports point at a private
directory (no system service), creates the schema from `rirdb
clickhouse-schema`, and checks, against rirmeter's own JSON Lines:
  - per-registry, per-country and per-holder (every scope) totals from SQL
    equal the sums of rirmeter's interval lines; per-registry also its
    total lines;
  - the server stopped in the middle of a run and started again: totals
    still equal, no row stored twice;
  - rirmeter killed with batches in its spool (nothing listening on its
    URL, as with the server down), started again
    with the server up: the spool is replayed first, totals equal; a
    batch replayed that ClickHouse already has is found and not sent again;
  - a full spool counts what it could not keep;
  - a bad URL, a refused connection and a wrong password give a clear
    message and rirmeter keeps counting;
  - the sink's Prometheus metrics equal its health lines; the --cluster
    schema's Distributed tables read what was inserted;
  - with a snapshot of Debian's location.db (names), every holder and asn
    row's name is in the name column; a table made before that column
    still takes every row, without names, and the sink says so once.
Skipped, counted as skipped, when clickhouse-server is not installed.
"""
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import (EAL, StderrReader, build_snapshot, check, data_inputs,  # noqa: E402
                 finish, gen_pcap, skip)

RIRMETER, RIRDB, DATA, SCRIPTS = sys.argv[1:5]
SERVER = shutil.which('clickhouse-server') or '/usr/sbin/clickhouse-server'
CONFIG = '/etc/clickhouse-server/config.xml'
LOCATION_DB = '/usr/share/libloc-location/location.db'


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


# Sockets bound and never listening, held to the end: a connection to
# their port is refused, and no test running beside this one can take it.
REFUSING = []


def refusing_url(db):
    """A URL on 127.0.0.1 that refuses connections for the whole test."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    REFUSING.append(s)
    return 'http://127.0.0.1:%d/?database=%s' % (s.getsockname()[1], db)


class Server:
    """clickhouse-server in dir, on its own ports, started and stopped at will."""

    def __init__(self, d):
        self.dir = d
        os.makedirs(d + '/log', exist_ok=True)
        os.makedirs(d + '/data', exist_ok=True)
        self.config = d + '/config.xml'
        self.proc = None
        self.answered = False  # once it has, a restart keeps its ports
        self.configure()

    def configure(self):
        """Ports picked now and written into the config.  Picked ports are
        free when picked, not when the server binds them: other tests run
        beside this one, so start() picks again if one was taken."""
        d = self.dir
        self.http, self.tcp, self.inter = free_port(), free_port(), free_port()
        text = open(CONFIG).read()
        text = text.replace('/var/log/clickhouse-server/', d + '/log/')
        text = text.replace('/var/lib/clickhouse/', d + '/data/')
        text = re.sub(r'<http_port>\d+</http_port>', '<http_port>%d</http_port>' % self.http,
                      text)
        text = re.sub(r'<tcp_port>\d+</tcp_port>', '<tcp_port>%d</tcp_port>' % self.tcp, text)
        text = re.sub(r'<port>9000</port>', '<port>%d</port>' % self.tcp, text)
        text = re.sub(r'<interserver_http_port>\d+</interserver_http_port>',
                      '<interserver_http_port>%d</interserver_http_port>' % self.inter, text)
        text = re.sub(r'<tcp_port_secure>\d+</tcp_port_secure>', '', text)
        text = re.sub(r'<https_port>\d+</https_port>', '', text)
        text = text.replace('<listen_host>::1</listen_host>', '')
        text = text.replace('<users_config>users.xml</users_config>',
                            '<users_config>/etc/clickhouse-server/users.xml</users_config>')
        with open(self.config, 'w') as f:
            f.write(text)
        self.url = 'http://127.0.0.1:%d/' % self.http

    def port_taken(self):
        """Whether the server said one of its ports was taken: this
        version logs it and runs on without that port."""
        try:
            with open(self.dir + '/log/clickhouse-server.err.log') as f:
                return 'Address already in use' in f.read()
        except OSError:
            return False

    def start(self):
        """Starts the server; true once it answers a query (within 30 s).
        A first start that finds a port taken meanwhile is tried again on
        new ports, up to three times; a restart keeps its ports."""
        for attempt in range(1 if self.answered else 3):
            if attempt:
                with open(self.dir + '/log/clickhouse-server.err.log', 'w'):
                    pass  # the last attempt's complaint read once
                self.configure()
            self.proc = subprocess.Popen([SERVER, '--config-file=' + self.config],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(300):
                time.sleep(0.1)
                if self.proc.poll() is not None or (not self.answered and self.port_taken()):
                    break
                try:
                    if self.query('SELECT 1', timeout=2).strip() == '1':
                        self.answered = True
                        return True
                except OSError:
                    pass
            else:
                return False  # running, but not answering within 30 s
            self.stop()
        return False

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def query(self, sql, params='', timeout=30):
        r = urllib.request.urlopen(self.url + params, data=sql.encode(), timeout=timeout)
        return r.read().decode()


def schema(server, db, drop=None):
    """The schema rirdb prints, into db; drop: a column line left out."""
    text = subprocess.run([RIRDB, 'clickhouse-schema', '--database', db], check=True,
                          capture_output=True, text=True).stdout
    if drop:
        text = '\n'.join(l for l in text.splitlines() if not l.strip().startswith(drop + ' '))
    for stmt in text.split(';'):
        lines = [l for l in stmt.strip().splitlines() if not l.startswith('--')]
        if lines:
            server.query('\n'.join(lines))


def run(eal, pcap, snap, out, url, extra, duration, wait=True):
    args = [RIRMETER] + eal + ['--vdev', 'net_pcap0,rx_pcap=%s,infinite_rx=1' % pcap, '--',
                               '--db', snap, '--json', out, '--interval', '1', '--duration',
                               str(duration), '--mbufs', '4096', '--quiet', '--top', '100000',
                               '--clickhouse', url] + extra
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    STARTED.append(p)
    return p if not wait else ended(p)


# Every rirmeter started, killed at the end if still running: a step that
# raises must not leave one polling both cores beside the other tests.
STARTED = []


def ended(p):
    """The exit status and stderr of a run started with wait=False."""
    o, e = p.communicate(timeout=120)
    return p.returncode, e


class Live(StderrReader):
    """A run of rirmeter (run(..., wait=False)), its stderr read as it
    comes; stop() ends it by SIGINT."""

    def stop(self):
        """SIGINT, then the exit status and all of stderr."""
        self.p.send_signal(signal.SIGINT)
        return self.wait(120)


def wait_for(cond, seconds=60):
    """Polls cond every 0.1 s: true once it holds, false after seconds.
    What a step needs, waited for, instead of a sleep a busy machine
    could outlast."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if cond():
                return True
        except OSError:  # a query the server did not answer: not yet
            pass
        time.sleep(0.1)
    return False


def intervals(path):
    """The interval exports in rirmeter's JSON Lines so far (distinct ts of
    the whole lines that are not totals)."""
    ts = set()
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.endswith('\n'):
                    r = json.loads(line)
                    if r['interval'] != 'total':
                        ts.add(r['ts'])
    return len(ts)


def spooled(spool):
    """The whole batch files in spool (not those being written)."""
    try:
        return sorted(n for n in os.listdir(spool) if '.tmp.' not in n)
    except FileNotFoundError:
        return []


def json_sums(path, lines=None):
    """Sums of rirmeter's interval lines by (scope, dir, key), traffic only;
    and the registry totals of its total lines.  lines: those lines (text)
    instead of path's."""
    sums = collections.Counter()
    totals = collections.Counter()
    health = {}
    for line in lines if lines is not None else open(path):
        r = json.loads(line)
        if r['scope'] == 'health':
            if r['interval'] == 'total':
                health[r['key']] = r['packets']
            continue
        k = (r['scope'], r.get('dir') or '', r['key'])
        if r['interval'] == 'total':
            if r['scope'] == 'rir':
                totals[k] += r['packets']
        else:
            sums[k] += r['packets']
    return sums, totals, health


def killed_lines(path, size, batches):
    """The whole lines of the first size bytes of path, written by a run
    killed there that had spooled batches intervals.  Without the interval
    that was being exported at the kill: its lines may be cut or written
    while its batch was not yet spooled.  The reopened file's newline ends
    a cut line, which is left out."""
    with open(path, 'rb') as f:
        text = f.read(size).decode()
    whole = text.splitlines()
    if not text.endswith('\n'):
        whole = whole[:-1]
    ts = []
    for line in whole:
        t = json.loads(line)['ts']
        if not ts or ts[-1] != t:
            ts.append(t)
    if len(ts) > batches:  # the last interval's batch was not spooled
        whole = [l for l in whole if json.loads(l)['ts'] != ts[-1]]
    with open(path, 'rb') as f:
        f.seek(size)
        rest = f.read().decode().splitlines()
    if rest and not rest[0]:  # the newline that ended a cut line
        rest = rest[1:]
    return whole + rest


def sql_sums(server, db, appliance):
    text = server.query("SELECT scope, dir, key, sum(packets) FROM %s.rirmeter_raw FINAL "
                        "WHERE appliance = '%s' AND scope != 'health' "
                        "GROUP BY scope, dir, key FORMAT TSV" % (db, appliance))
    out = collections.Counter()
    for line in text.splitlines():
        s, d, k, n = line.split('\t')
        out[(s, d, k)] += int(n)
    return out


def batches(server, db, appliance):
    """The batches of appliance stored."""
    return int(server.query("SELECT uniqExact(batch) FROM %s.rirmeter_raw WHERE appliance = '%s'"
                            % (db, appliance)).strip())


def duplicates(server, db, appliance):
    """Rows stored more than once, before any merge (no FINAL)."""
    return int(server.query(
        "SELECT count() - uniqExact(batch, snapshot, scope, dir, key) FROM %s.rirmeter_raw "
        "WHERE appliance = '%s'" % (db, appliance)).strip())


def diff(got, want):
    keys = sorted(set(got) | set(want))
    return '\n'.join('%s: sql %s json %s' % (k, got.get(k), want.get(k))
                     for k in keys if got.get(k, 0) != want.get(k, 0))


def json_names(path):
    """(scope, dir, key) -> name of rirmeter's named lines."""
    out = {}
    for line in open(path):
        r = json.loads(line)
        if r.get('name'):
            out[(r['scope'], r.get('dir') or '', r['key'])] = r['name']
    return out


def names_case(server, db, tmp, eal, pcap):
    """Holder and AS names into the name column; a table without it."""
    if not os.access(LOCATION_DB, os.R_OK):
        skip('names stored', '%s missing (Debian libloc-database)' % LOCATION_DB)
        skip('a table without names', '%s missing' % LOCATION_DB)
        return
    snap = tmp + '/named.snap'
    subprocess.run([RIRDB, 'build', '-q', '-o', snap] + data_inputs(DATA) + [LOCATION_DB],
                   check=True, capture_output=True)
    # The table without the name column (the schema without its line), made
    # before the run: both runs at once.
    schema(server, 'old', drop='name')
    out = tmp + '/n.jsonl'
    pn = run(eal, pcap, snap, out, server.url + '?database=' + db, ['--name', 'n'], 2,
             wait=False)
    po = run(eal, pcap, snap, tmp + '/o.jsonl', server.url + '?database=old', ['--name', 'o'], 2,
             wait=False)
    rc, err = ended(pn)
    want = json_names(out)
    got = {}
    for line in server.query("SELECT DISTINCT scope, dir, key, name FROM %s.rirmeter_raw "
                             "WHERE appliance = 'n' AND name != '' FORMAT JSONEachRow"
                             % db).splitlines():
        r = json.loads(line)
        got[(r['scope'], r['dir'], r['key'])] = r['name']
    scopes = {k[0] for k in want}
    check('names: every holder and asn row\'s name stored, equal to the JSON line\'s '
          '(%d keys)' % len(want),
          rc == 0 and got == want and {'holder', 'asn'} <= scopes and
          'has no column name' not in err,
          '%s\n%s' % (sorted(set(got.items()) ^ set(want.items()))[:10], err[-500:]))
    out = tmp + '/o.jsonl'
    rc, err = ended(po)
    sums, _, health = json_sums(out)
    got = sql_sums(server, 'old', 'o')
    check('a table without the name column: every row stored, names left out, said once',
          rc == 0 and got == sums and len(json_names(out)) > 0 and
          err.count('has no column name') == 1 and
          not any(v for k, v in health.items() if k.startswith('clickhouse.failed.')),
          '%s\n%s\n%s' % (diff(got, sums), err[-500:], health))


def snapshots_case(server):
    """An interval across a reload: one batch holds the retired snapshot's
    rows and the new one's, with equal scope, dir and key; a merge keeps
    both (the sorting key has the snapshot)."""
    schema(server, 'snaps')
    rows = ''.join(
        '{"appliance":"a","batch":"a-1-0","snapshot":"%s","start":1700000000,'
        '"end":1700000001,"scope":"rir","dir":"src","key":"ripencc","packets":%d,'
        '"bytes":%d}\n' % (snap, p, 100 * p) for snap, p in (('0badcafe', 5), ('1badcafe', 7)))
    server.query(rows, '?database=snaps&query=' +
                 urllib.parse.quote('INSERT INTO rirmeter_raw FORMAT JSONEachRow'))
    server.query('OPTIMIZE TABLE snaps.rirmeter_raw FINAL')
    got = server.query('SELECT sum(packets) FROM snaps.rirmeter_raw FINAL').strip()
    check('a batch with two snapshots\' rows of one key: both kept by a merge', got == '12',
          got)


def main():
    if not os.path.exists(SERVER):
        for name in ('totals equal', 'server restarted mid-run', 'spool replayed',
                     'replayed batch not stored twice', 'full spool counted',
                     'bad URL', 'refused connection', 'wrong password'):
            skip(name, 'clickhouse-server not installed')
        return finish()
    tmp = tempfile.mkdtemp(prefix='rirmeter-ch-')
    server = Server(tmp + '/server')
    try:
        snap = build_snapshot(RIRDB, DATA, tmp + '/r.snap')
        pcap = gen_pcap(SCRIPTS, tmp + '/c.pcap', 2000, 11, '--kinds', 'clean')
        eal = EAL + ['-m', '512', '--lcores', '0@0,1@1']
        if not check('clickhouse-server starts on a private directory', server.start()):
            return finish()
        db = 'rirmeter'
        schema(server, db)
        url = server.url + '?database=' + db

        # 1. Totals equal.
        out = tmp + '/a.jsonl'
        prom = tmp + '/a.prom'
        rc, err = run(eal, pcap, snap, out, url,
                      ['--name', 'a', '--spool', tmp + '/sa', '--prom', prom], 3)
        sums, totals, health = json_sums(out)
        got = sql_sums(server, db, 'a')
        rir_sql = {k: v for k, v in got.items() if k[0] == 'rir'}
        check('totals equal: every scope from SQL = the interval lines, registries = the '
              'total lines', rc == 0 and got == sums and rir_sql == dict(totals) and
              len(sums) > 50 and health.get('clickhouse.batches_sent', 0) >= 3,
              '%s\nrc %s %s\n%s' % (diff(got, sums), rc, err[-500:], health))
        check('no row stored twice', duplicates(server, db, 'a') == 0)
        names_case(server, db, tmp, eal, pcap)
        snapshots_case(server)
        text = open(prom).read() if os.path.exists(prom) else ''
        m = re.search(r'^rirmeter_clickhouse_batches_sent_total (\d+)$', text, re.M)
        promtool = shutil.which('promtool')
        valid = subprocess.run([promtool, 'check', 'metrics'], input=text, capture_output=True,
                               text=True).returncode == 0 if promtool else True
        check('Prometheus: the sink\'s metrics, equal to the health lines (promtool: %s)' %
              ('checked' if promtool else 'not installed'),
              m is not None and int(m.group(1)) == health.get('clickhouse.batches_sent') and
              'rirmeter_clickhouse_failures_total{reason="connect"} 0' in text and valid,
              text[-800:])

        # The cluster form: the Distributed tables over a one-shard cluster of
        # this server (the stock config's test_shard_localhost, on our port).
        text = subprocess.run([RIRDB, 'clickhouse-schema', '--database', 'dist', '--cluster',
                               'test_shard_localhost'], capture_output=True, text=True).stdout
        for stmt in text.split(';'):
            lines = [l for l in stmt.strip().splitlines() if not l.startswith('--')]
            if lines:
                server.query('\n'.join(lines))
        rc, err = run(eal, pcap, snap, tmp + '/g.jsonl', server.url + '?database=dist',
                      ['--name', 'g'], 1)
        local = server.query("SELECT sum(packets) FROM dist.rirmeter_raw WHERE scope = 'rir'")
        dist = server.query("SELECT sum(packets) FROM dist.rirmeter_raw_all WHERE scope = 'rir'")
        hourly = server.query("SELECT sum(packets) FROM dist.rirmeter_rir_1h_all")
        check('--cluster: the Distributed tables read what was inserted, rollup included',
              rc == 0 and int(local) > 0 and local == dist == hourly,
              '%s %s %s %s' % (local, dist, hourly, err[-300:]))

        # 2. The server stopped in the middle of a run, started again.  Each
        # step waits for what the next needs (batches stored; the refused
        # connection said; the backlog stored after the restart), then a
        # signal ends the run; its --duration only bounds a run gone wrong.
        out = tmp + '/b.jsonl'
        live = Live(run(eal, pcap, snap, out, url, ['--name', 'b', '--spool', tmp + '/sb'],
                        120, wait=False))
        wait_for(lambda: batches(server, db, 'b') >= 2)
        server.stop()
        live.said('ClickHouse: connect:')
        exported = intervals(out)
        restarted = server.start()
        if restarted:  # the backlog sent and one batch more
            wait_for(lambda: batches(server, db, 'b') > exported)
        rc, err = live.stop()
        sums, totals, health = json_sums(out)
        got = sql_sums(server, db, 'b')
        check('server restarted mid-run: totals equal, failures counted, no duplicates',
              restarted and rc == 0 and got == sums and
              duplicates(server, db, 'b') == 0 and
              health.get('clickhouse.failed.connect', 0) > 0 and
              health.get('clickhouse.pending_batches') == 0,
              '%s\n%s\n%s' % (diff(got, sums), err[-800:], health))

        # 3. rirmeter killed with batches in its spool; started again with the
        # server up.  Nothing listens on the first run's URL: to rirmeter the
        # same refused connection as the server down, without stopping it.
        out = tmp + '/c.jsonl'
        spool = tmp + '/sc'
        down = refusing_url(db)
        p = run(eal, pcap, snap, out, down, ['--name', 'c', '--spool', spool], 120, wait=False)
        wait_for(lambda: len(spooled(spool)) >= 2)  # it may land within an interval
        p.kill()
        p.communicate()
        killed_at = os.path.getsize(out)
        # A batch file cut by the kill is removed when the spool is read.
        left = spooled(spool)
        kept = tmp + '/kept.json'
        if left:
            shutil.copy(os.path.join(spool, left[0]), kept)
        rc, err = run(eal, pcap, snap, out, url, ['--name', 'c', '--spool', spool], 2)
        sums, totals, health = json_sums(out, killed_lines(out, killed_at, len(left)))
        got = sql_sums(server, db, 'c')
        check('spool replayed after a kill: totals equal the lines of both runs',
              len(left) >= 2 and rc == 0 and got == sums and not os.listdir(spool) and
              health.get('clickhouse.replayed') == len(left),
              '%d left; %s\n%s\n%s' % (len(left), diff(got, sums), err[-500:], health))
        # The first replayed batch put back, as if its acknowledgement had been lost.
        shutil.copy(kept, os.path.join(spool, left[0]))
        rc, err = run(eal, pcap, snap, out, url, ['--name', 'c', '--spool', spool], 1)
        sums, _, health = json_sums(out, killed_lines(out, killed_at, len(left)))
        got = sql_sums(server, db, 'c')
        check('a replayed batch that ClickHouse already has is not stored twice',
              rc == 0 and health.get('clickhouse.already_stored') == 1 and
              duplicates(server, db, 'c') == 0 and got == sums,
              '%s\n%s\n%s' % (health, diff(got, sums), err[-500:]))

        # 4. and 5.: the runs that cannot send, at once; most of each of the
        # last two is the 5 s their sink is given at the end to send.
        out = tmp + '/d.jsonl'
        down = refusing_url(db)
        pd = run(eal, pcap, snap, out, down,
                 ['--name', 'd', '--spool', tmp + '/sd', '--spool-max', '65536'], 4, wait=False)
        closed = refusing_url(db)
        pe = run(eal, pcap, snap, tmp + '/e.jsonl', closed, ['--name', 'e'], 2, wait=False)
        auth = tmp + '/auth'
        with open(auth, 'w') as f:
            f.write('default:wrong\n')
        pf = run(eal, pcap, snap, tmp + '/f.jsonl', url,
                 ['--name', 'f', '--clickhouse-auth', auth], 2, wait=False)

        # 4. A full spool counts what it could not keep (nothing listening).
        rc, err = ended(pd)
        _, _, health = json_sums(out)
        check('full spool: batches that do not fit are counted dropped',
              rc == 0 and health.get('clickhouse.dropped_batches', 0) >= 1 and
              health.get('clickhouse.dropped_rows', 0) > 0 and
              health.get('clickhouse.pending_bytes', 1 << 30) <= 65536,
              '%s\n%s' % (health, err[-500:]))

        # 5. Bad URL, refused connection, wrong password.
        p = subprocess.run([RIRMETER] + eal + ['--vdev', 'net_pcap0,rx_pcap=' + pcap, '--',
                           '--db', snap, '--json', tmp + '/bad.jsonl', '--quiet',
                           '--clickhouse', 'ftp://127.0.0.1/'],
                           capture_output=True, text=True, timeout=60)
        check('bad URL: refused at start with a clear message (exit 2)',
              p.returncode == 2 and 'the scheme must be http or https' in p.stderr,
              p.stderr[-500:])
        rc, err = ended(pe)
        _, _, health = json_sums(tmp + '/e.jsonl')
        check('refused connection: a clear message, counting goes on',
              rc == 0 and 'ClickHouse: connect:' in err and
              health.get('received', 0) > 0 and health.get('clickhouse.failed.connect', 0) > 0,
              err[-500:])
        rc, err = ended(pf)
        _, _, health = json_sums(tmp + '/f.jsonl')
        check('wrong password: a clear message, counting goes on',
              rc == 0 and 'ClickHouse: auth:' in err and 'assword' in err and
              health.get('received', 0) > 0 and health.get('clickhouse.failed.auth', 0) > 0,
              err[-500:])
    finally:
        for p in STARTED:
            if p.poll() is None:
                p.kill()
                p.wait()
        server.stop()
        for sock in REFUSING:
            sock.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
