#!/usr/bin/env python3
"""rirmeter's operator modes, `-r FILE...` and `-i IFACE...` (TAP).

    batch.py RIRMETER RIRDB DATA_DIR SCRIPTS_DIR [files|interfaces]

-r: on every kind of capture the tests generate (scripts/gen-pcap.py's
mixed, malformed, jumbo and benchmark shapes, split captures, and
gen-flows.py's flow export under --flows), the JSON totals equal those of
the net_pcap path on the same file, which tests/dataplane.py checks
against the reference lookup.  The same frames as big-endian pcap,
nanosecond pcap, pcapng, gzip (and zstd where the zstd tool is) give the
same totals; a pcapng with three interfaces of two link types and three
timestamp resolutions (one with an if_tsoffset) counts the other link type
as linktype.N and puts
each frame in the capture-time interval its timestamp says, and simple
packet blocks (no timestamp) in the interval of the time before them;
several files
over several threads equal one file; a truncated file is named, counted
and the rest reported (exit 1); a file that is not a capture exits 2.  A
snapshot whose one statistics file has records missing (used, no complete
file of its registry given) names that file in rirmeter_snapshot_info.

-i: rirmeter on one end of a veth pair in a network namespace of the
test's own, with one and two workers: every frame sent is received and
attributed as the reference lookup says; without --threads, one worker per
CPU, but under net_af_xdp no more than the RX queues it binds.  Skipped (as
a skip) where namespaces cannot be made.

`-i` runs in real time, where a busy machine drops frames, so it can be
run on its own (`interfaces`), apart from the capture files (`files`,
which may share the machine); without either, both.
"""
import gzip
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

from tap import EAL, Veth, build_snapshot, check, diff, expected_totals, finish, gen_pcap, \
    read_pcap, skip, totals_of, write_pcap

RIRMETER, RIRDB, DATA, SCRIPTS = sys.argv[1:5]
FLOWS = ['--flows', 'netflow:2055,ipfix:4739,sflow:6343']


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def via_pcap(tmp, name, pcaps, opts):
    """JSON totals of the net_pcap path (one port per file, one worker)."""
    js = os.path.join(tmp, name + '.pcap.jsonl')
    vdevs = []
    for i, p in enumerate(pcaps):
        vdevs += ['--vdev', 'net_pcap%d,rx_pcap=%s' % (i, p)]
    p = run([RIRMETER] + EAL + ['--lcores', '0@0,1@1'] + vdevs + ['--'] + opts +
            ['--json', js, '--interval', '0', '--quiet', '--top', '100000'])
    return p, totals_of(js)[0] if p.returncode == 0 else {}


def via_r(tmp, name, files, opts, threads=1):
    """-r: exit status, stderr, totals and every JSON line."""
    js = os.path.join(tmp, name + '.r.jsonl')
    p = run([RIRMETER, '-r'] + files + ['--threads', str(threads), '--json', js, '--quiet',
                                        '--top', '100000'] + opts)
    got, lines = totals_of(js) if os.path.exists(js) else ({}, [])
    return p, got, lines


def pcap_bytes(frames, big=False, nano=False, ts=None):
    """A classic pcap of frames in either byte order and resolution."""
    e = '>' if big else '<'
    out = [struct.pack(e + 'IHHiIII', 0xa1b23c4d if nano else 0xa1b2c3d4, 2, 4, 0, 0, 65535,
                       1)]
    for i, f in enumerate(frames):
        sec, frac = ts[i] if ts else (1700000000 + i // 1000, i % 1000)
        out.append(struct.pack(e + 'IIII', sec, frac, len(f), len(f)) + f)
    return b''.join(out)


def block(kind, body):
    """A little-endian pcapng block."""
    body += b'\0' * (-len(body) % 4)
    return struct.pack('<II', kind, len(body) + 12) + body + struct.pack('<I', len(body) + 12)


def idb(linktype, tsresol=None, tsoffset=None):
    """An interface; if_tsresol and if_tsoffset (seconds) when given."""
    opts = b''
    if tsresol is not None:
        opts += struct.pack('<HHB3x', 9, 1, tsresol)
    if tsoffset is not None:
        opts += struct.pack('<HHq', 14, 8, tsoffset)
    if opts:
        opts += struct.pack('<HH', 0, 0)
    return block(1, struct.pack('<HHI', linktype, 0, 0) + opts)


def epb(iface, t, frame):
    return block(6, struct.pack('<IIIII', iface, t >> 32, t & 0xffffffff, len(frame),
                                len(frame)) + frame)


def shb():
    return block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))


def same_as_pcap_path(tmp, snap, name, pcaps, extra=(), r_files=None, threads=1):
    opts = ['--db', snap] + list(extra)
    p, want = via_pcap(tmp, name, pcaps, opts)
    q, got, _ = via_r(tmp, name, r_files or pcaps, opts, threads)
    check('-r %s (%d thread%s): totals equal the net_pcap path\'s' %
          (name, threads, '' if threads == 1 else 's'),
          p.returncode == 0 and q.returncode == 0 and want and got == want,
          'net_pcap exit %d, -r exit %d\n%s%s\n%s' % (p.returncode, q.returncode, p.stderr,
                                                       q.stderr, diff(got, want)))
    return want


def capture_cases(tmp, snap):
    gen = os.path.join(tmp, 'gen')
    pcaps = {
        'mixed': gen_pcap(SCRIPTS, gen + '.mixed.pcap', 4000, 7),
        'jumbo': gen_pcap(SCRIPTS, gen + '.jumbo.pcap', 1000, 7, '--kinds', 'jumbo'),
    }
    for shape in ('v4-64', 'v6-78', 'imix'):
        pcaps[shape] = gen_pcap(SCRIPTS, gen + '.%s.pcap' % shape, 4096, 1, '--shape', shape)
    for name, path in pcaps.items():
        same_as_pcap_path(tmp, snap, name, [path])
    gen_pcap(SCRIPTS, gen + '.part.pcap', 4000, 7, '--split', '2')
    parts = [gen + '.part.pcap.0', gen + '.part.pcap.1']
    want = same_as_pcap_path(tmp, snap, 'split', parts, threads=2)
    # Several files over several threads equal one file.
    q, got, _ = via_r(tmp, 'split3', parts, ['--db', snap], threads=3)
    _, one, _ = via_r(tmp, 'one', [pcaps['mixed']], ['--db', snap])
    check('-r two files over 3 threads equals one file over 1', q.returncode == 0 and got == one
          and got == want, q.stderr + diff(got, one))
    flows = os.path.join(tmp, 'flows.pcap')
    p = run([sys.executable, os.path.join(SCRIPTS, 'gen-flows.py'), '--out', flows,
             '--datagrams', '3000', '--seed', '5'])
    check('flow export capture generates', p.returncode == 0, p.stderr)
    same_as_pcap_path(tmp, snap, 'flows', [flows], FLOWS)
    return pcaps, one


def format_cases(tmp, snap, pcaps, one):
    frames = read_pcap(pcaps['mixed'])
    files = {}
    for name, kw in (('big-endian', {'big': True}), ('nanosecond', {'nano': True}),
                     ('nanosecond big-endian', {'big': True, 'nano': True})):
        files[name] = os.path.join(tmp, name.replace(' ', '-') + '.pcap')
        open(files[name], 'wb').write(pcap_bytes(frames, **kw))
    files['pcapng'] = os.path.join(tmp, 'f.pcapng')
    open(files['pcapng'], 'wb').write(shb() + idb(1) + b''.join(
        epb(0, 1700000000000000 + i, f) for i, f in enumerate(frames)))
    files['gzip'] = os.path.join(tmp, 'mixed.pcap.gz')
    with gzip.open(files['gzip'], 'wb') as g:
        g.write(open(pcaps['mixed'], 'rb').read())
    # Zeros after the gzip stream pad the file, as gzip -d takes them.
    files['gzip zero-padded'] = os.path.join(tmp, 'padded.pcap.gz')
    open(files['gzip zero-padded'], 'wb').write(
        gzip.compress(open(pcaps['mixed'], 'rb').read()) + bytes(4096))
    files['gzip pcapng'] = files['pcapng'] + '.gz'
    with gzip.open(files['gzip pcapng'], 'wb') as g:
        g.write(open(files['pcapng'], 'rb').read())
    if shutil.which('zstd'):
        files['zstd'] = os.path.join(tmp, 'mixed.pcap.zst')
        run(['zstd', '-q', '-f', pcaps['mixed'], '-o', files['zstd']])
    else:
        skip('-r zstd: same totals', 'no zstd tool')
    for name, path in files.items():
        q, got, _ = via_r(tmp, name.replace(' ', '-'), [path], ['--db', snap], threads=2)
        check('-r %s: same totals as the pcap' % name, q.returncode == 0 and got == one,
              q.stderr + diff(got, one))


def pcapng_interfaces_case(tmp, snap, pcaps):
    """Three interfaces: Ethernet in nanoseconds, raw IP (101) in the
    default microseconds, Ethernet in 2^-20 s whose timestamps are an hour
    behind (if_tsoffset 3600).  Two groups of frames, 1.5 s apart in
    capture time, each on both Ethernet interfaces."""
    frames = read_pcap(pcaps['v4-64'])[:400]
    t0 = 1700000000
    blocks = [shb(), idb(1, 9), idb(101), idb(1, 0x80 | 20, 3600)]
    times = []
    for i, f in enumerate(frames):
        at = t0 + (0.25 if i < 200 else 1.75) + i * 1e-6  # seconds
        times.append(at)
        if i % 2:
            blocks.append(epb(0, int(round(at * 1e9)), f))
        else:
            blocks.append(epb(2, int(round((at - 3600) * (1 << 20))), f))
        if i % 10 == 0:  # raw IP: the frame without its Ethernet header
            blocks.append(epb(1, int(round(at * 1e6)), f[14:]))
    path = os.path.join(tmp, 'ifaces.pcapng')
    open(path, 'wb').write(b''.join(blocks))
    plain = os.path.join(tmp, 'ifaces-eth.pcap')
    write_pcap(plain, frames)
    q, got, lines = via_r(tmp, 'ifaces', [path], ['--db', snap, '--interval', '1'], threads=2)
    _, want, _ = via_r(tmp, 'ifaces-eth', [plain], ['--db', snap])
    other = {k: v for k, v in got.items() if k[2].startswith('linktype.')}
    rest = {k: v for k, v in got.items() if not k[2].startswith('linktype.')}
    raw = sum(len(f) - 14 for f in frames[::10])
    check('pcapng, 3 interfaces: Ethernet frames counted as the plain capture',
          q.returncode == 0 and rest == want, q.stderr + diff(rest, want))
    check('pcapng, 3 interfaces: link type 101 counted as linktype.101, not received',
          other == {('health', None, 'linktype.101'): (40, raw)}, str(other))
    recv = [(l['ts'], l['packets']) for l in lines
            if l['scope'] == 'health' and l['key'] == 'received' and l['interval'] != 'total']
    first = t0 + 0.25
    want_iv = [(first + 1, 200), (times[-1], 200)]
    ok = len(recv) == 2 and all(
        abs(ts_of(a[0]) - b[0]) < 2e-3 and a[1] == b[1] for a, b in zip(recv, want_iv))
    check('--interval 1 on capture time: each resolution and offset read right, '
          'ts = interval end',
          ok, 'got %s, want %s' % (recv, want_iv))


def spb(frame):
    """A simple packet block: no interface, no timestamp."""
    return block(3, struct.pack('<I', len(frame)) + frame)


def pcapng_simple_packets_case(tmp, snap, pcaps):
    """Simple packet blocks have no time: under --interval each falls in
    the interval of the last time before it, those before any time in the
    first interval, never in one of 1970; a file of them alone writes the
    totals and says why no interval."""
    frames = read_pcap(pcaps['v4-64'])[:280]
    t0 = 1700000000
    blocks = [shb(), idb(1, 9)] + [spb(f) for f in frames[:50]]
    times = []
    for i, f in enumerate(frames[50:]):
        if 100 <= i < 130:
            blocks.append(spb(f))
            continue
        at = t0 + (0.25 if i < 100 else 1.75) + i * 1e-6
        times.append(at)
        blocks.append(epb(0, int(round(at * 1e9)), f))
    path = os.path.join(tmp, 'spb.pcapng')
    open(path, 'wb').write(b''.join(blocks))
    q, got, lines = via_r(tmp, 'spb', [path], ['--db', snap, '--interval', '1'])
    recv = [(ts_of(l['ts']), l['packets']) for l in lines
            if l['scope'] == 'health' and l['key'] == 'received' and l['interval'] != 'total']
    want = [(t0 + 1.25, 180), (times[-1], 100)]
    ok = q.returncode == 0 and len(recv) == 2 and all(
        abs(a[0] - b[0]) < 2e-3 and a[1] == b[1] for a, b in zip(recv, want))
    check('pcapng simple packet blocks under --interval 1: in the interval of the time '
          'before them (the first ones in the first), none in 1970',
          ok, 'got %s, want %s\n%s' % (recv, want, q.stderr))
    only = os.path.join(tmp, 'spb-only.pcapng')
    open(only, 'wb').write(b''.join([shb(), idb(1, 9)] + [spb(f) for f in frames]))
    q, got, lines = via_r(tmp, 'spb-only', [only], ['--db', snap, '--interval', '1'])
    ivs = [l for l in lines if l['interval'] != 'total']
    check('pcapng of simple packet blocks only under --interval: no interval, the totals, '
          'and why',
          q.returncode == 0 and not ivs and
          got.get(('health', None, 'received'), (0,))[0] == len(frames) and
          'no frame had a capture time' in q.stderr,
          '%d interval lines\n%s' % (len(ivs), q.stderr))


def ts_of(ts):
    """A JSON line's ts (RFC 3339 text or seconds) as seconds."""
    if isinstance(ts, (int, float)):
        return float(ts)
    from datetime import datetime
    return datetime.fromisoformat(ts.replace('Z', '+00:00')).timestamp()


def bad_input_cases(tmp, snap, pcaps, one):
    data = open(pcaps['mixed'], 'rb').read()
    frames = read_pcap(pcaps['mixed'])
    cut = os.path.join(tmp, 'cut.pcap')
    # Cut in the middle of the 1000th record: 999 whole records remain.
    offset = 24 + sum(16 + len(f) for f in frames[:999]) + 16 + 5
    open(cut, 'wb').write(data[:offset])
    other = gen_pcap(SCRIPTS, os.path.join(tmp, 'other.pcap'), 500, 3)
    q, got, _ = via_r(tmp, 'cut', [cut, other], ['--db', snap], threads=2)
    received = got.get(('health', None, 'received'), (0,))[0]
    check('a truncated file: exit 1, named, counted; the rest reported',
          q.returncode == 1 and 'cut.pcap: truncated' in q.stderr and
          got.get(('health', None, 'capture_truncated')) == (1, None) and received == 1499,
          'exit %d, received %d\n%s' % (q.returncode, received, q.stderr))
    for name, content in (('text', b'hello, not a capture\n' * 10), ('empty', b''),
                          ('short header', data[:10]),
                          ('gzip of text', gzip.compress(b'not a capture either'))):
        path = os.path.join(tmp, name.replace(' ', '-') + '.bin')
        open(path, 'wb').write(content)
        js = os.path.join(tmp, name.replace(' ', '-') + '.jsonl')
        q = run([RIRMETER, '-r', pcaps['mixed'], path, '--db', snap, '--json', js])
        check('-r %s: exit 2, the file named, nothing written' % name,
              q.returncode == 2 and path in q.stderr and not os.path.getsize(js),
              'exit %d: %s' % (q.returncode, q.stderr))
    for args, msg in ((['-r', pcaps['mixed'], '-i', 'lo'], 'not both'),
                      (['-r', pcaps['mixed'], '--queues', '2'], 'are for ports'),
                      (['-r', pcaps['mixed'], '--clickhouse', 'http://127.0.0.1:1/'],
                       "--clickhouse sends a live run's intervals"),
                      (['-r', pcaps['mixed'], '--tunnels', 'middle'], '--tunnels'),
                      (['-r', pcaps['mixed'], '--threads', '0'], '--threads: 0 is out of range'),
                      (['-r', pcaps['mixed'], '--threads', '2x'], 'is not a whole number')):
        q = run([RIRMETER] + args + ['--db', snap])
        check('%s: exit 2 with "%s"' % (' '.join(args[2:]), msg),
              q.returncode == 2 and msg in q.stderr, q.stderr)


def fragment(frame):
    """Whether frame is an IPv4 fragment (behind any VLAN tags)."""
    off = 12
    while frame[off:off + 2] in (b'\x81\x00', b'\x88\xa8'):
        off += 4
    return frame[off:off + 2] == b'\x08\x00' and \
        struct.unpack('>H', frame[off + 8:off + 10])[0] & 0x3fff != 0


def xdp_env(env=None):
    """The environment with env added, for rirmeter -i: under
    LeakSanitizer, libxdp's own leak suppressed (lsan-libxdp.supp says
    which)."""
    env = dict(os.environ, **(env or {}))
    supp = 'suppressions=' + os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          'lsan-libxdp.supp')
    env['LSAN_OPTIONS'] = ':'.join(filter(None, [env.get('LSAN_OPTIONS'), supp]))
    return env


def live(veth, tmp, snap, name, frames, workers, env=None):
    """rirmeter -i on the veth's receiving end while frames are sent: its
    exit status, stderr and non-zero totals."""
    js = os.path.join(tmp, name + '.jsonl')
    env = xdp_env(env)
    p = veth.run([RIRMETER, '-i', veth.rx, '--threads', str(workers), '--db', snap, '--json',
                  js, '--interval', '0.5', '--quiet', '--top', '100000'],
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for _ in range(600):  # an interval written: the workers are polling
        if os.path.exists(js) and os.path.getsize(js) > 0:
            break
        time.sleep(0.05)
    veth.send(frames, chunk=200)
    for _ in range(100):  # until every frame is counted, or 10 s
        if sum(json.loads(l)['packets'] for l in open(js)
               if '"received"' in l and '"health"' in l) >= len(frames):
            break
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    return p.returncode, err, {k: v for k, v in totals_of(js)[0].items() if v[0]}


def default_workers_case(veth, snap):
    """Without --threads, -i starts a worker per CPU, but under net_af_xdp
    no more than the RX queues it binds (the veth has one), and says so;
    net_af_packet makes a queue per worker and keeps one per CPU."""
    cpus = os.cpu_count() or 1
    if cpus < 2:
        skip('-i without --threads: one worker per RX queue under net_af_xdp',
             'one CPU: nothing to bound')
        return
    for env, name in (({}, 'net_af_xdp'), ({'RIRMETER_NO_AF_XDP': '1'}, 'net_af_packet')):
        p = veth.run([RIRMETER, '-i', veth.rx, '--db', snap, '--duration', '1', '--quiet'],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                     env=xdp_env(env))
        _, err = p.communicate(timeout=120)
        if name == 'net_af_xdp' and 'trying net_af_packet' in err:
            skip('-i without --threads under net_af_xdp: one worker per RX queue',
                 'net_af_xdp did not start here')
            continue
        bound = name == 'net_af_xdp'
        said = ('-i: 1 worker, not one per CPU (%d): net_af_xdp binds 1 RX queue on %s'
                % (cpus, veth.rx))
        workers = 1 if bound else cpus
        check('-i without --threads under %s: %d worker%s%s' %
              (name, workers, '' if workers == 1 else 's',
               ', one per RX queue, and says why' if bound else ', one per CPU'),
              p.returncode == 0 and 'with %d worker%s;' % (workers, '' if workers == 1 else 's')
              in err and (said in err) == bound, 'exit %d\n%s' % (p.returncode, err))


def no_xdp_case(veth, snap):
    """An interface that net_af_xdp opens but cannot bind a queue on (no
    XDP there: the namespace's lo on this kernel): -i starts again through
    net_af_packet, as when net_af_xdp cannot open it at all, instead of
    failing at the queue's setup; the first start wrote nothing (one CSV
    header on stdout, not one from each start)."""
    subprocess.run(['ip', '-n', veth.ns, 'link', 'set', 'lo', 'up'], check=True)
    p = veth.run([RIRMETER, '-i', 'lo', '--db', snap, '--duration', '1', '--quiet',
                  '--csv', '-'],
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=xdp_env())
    out, err = p.communicate(timeout=120)
    how = ('net_af_packet after net_af_xdp failed' if 'trying net_af_packet' in err
           else 'net_af_xdp bound it')
    lines = out.splitlines()
    check('-i on an interface without XDP (lo): runs (%s), one CSV header' % how,
          p.returncode == 0 and ' packets in ' in err and lines and
          lines.count(lines[0]) == 1, 'exit %d\n%s\n%s' % (p.returncode, err, out))


def interface_cases(tmp, snap):
    pcap = os.path.join(tmp, 'live.pcap')
    manifest = os.path.join(tmp, 'live.jsonl')
    gen_pcap(SCRIPTS, pcap, 10000, 13, '--kinds', 'clean', '--manifest', manifest)
    want, _ = expected_totals(RIRDB, snap, manifest)
    want = {k: v for k, v in want.items() if v[0]}
    frames = read_pcap(pcap)
    try:
        veth = Veth('rmb')
    except (OSError, subprocess.CalledProcessError) as e:
        for w in (1, 2):
            skip('-i on a veth, %d worker(s): received = sent' % w,
                 'cannot make a network namespace: %s' % e)
        return
    try:
        for workers in (1, 2):
            rc, err, got = live(veth, tmp, snap, 'live%d' % workers, frames, workers)
            n = got.get(('health', None, 'received'), (0,))[0]
            check('-i on a veth, %d worker(s): received = sent (%d of %d)' %
                  (workers, n, len(frames)), rc == 0 and n == len(frames),
                  'exit %d\n%s' % (rc, err))
            check('-i on a veth, %d worker(s): attributed as the reference lookup says' %
                  workers, got == want, diff(got, want))
        p = veth.run([RIRMETER, '-i', 'rmnosuch0', '--db', snap], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
        _, err = p.communicate(timeout=120)
        check('-i on an interface that does not exist: exit 1, said so',
              p.returncode == 1 and 'cannot open every interface' in err, err)
        default_workers_case(veth, snap)
        no_xdp_case(veth, snap)
        # Where AF_XDP is not there: net_af_packet, two queues by fanout.
        # Its fanout defragments, so whole datagrams only.
        whole = [f for f in frames if not fragment(f)]
        rc, err, got = live(veth, tmp, snap, 'packet', whole, 2, {'RIRMETER_NO_AF_XDP': '1'})
        n = got.get(('health', None, 'received'), (0,))[0]
        check('-i through net_af_packet, 2 workers: received = sent (%d of %d)' %
              (n, len(whole)), rc == 0 and n == len(whole), 'exit %d\n%s' % (rc, err))
    finally:
        veth.close()


def incomplete_input_case(tmp, pcaps):
    """A statistics file with records missing, used for want of a complete one of its
    registry, is still named in rirmeter_snapshot_info's inputs label."""
    lacnic = os.path.join(DATA, 'rir', 'delegated-lacnic-20140627')
    lines = open(lacnic).read().splitlines(True)
    cut = os.path.join(tmp, 'lacnic-cut')
    open(cut, 'w').write(''.join(lines[:100]))  # the header counts thousands
    snap = os.path.join(tmp, 'cut.snap')
    p = run([RIRDB, 'build', '-q', '-o', snap, cut])
    check('a file cut short, given alone, builds', p.returncode == 0, p.stderr)
    serial = lines[0].split('|')[2]
    prom = os.path.join(tmp, 'cut.prom')
    q, _, _ = via_r(tmp, 'cut', [pcaps['mixed']], ['--db', snap, '--prom', prom])
    info = [l for l in open(prom) if l.startswith('rirmeter_snapshot_info')] \
        if q.returncode == 0 else []
    check('-r: inputs label names a file used with records missing',
          len(info) == 1 and 'inputs="lacnic:%s"' % serial in info[0], q.stderr + str(info))


def main():
    part = sys.argv[5] if len(sys.argv) > 5 else 'all'
    if part not in ('all', 'files', 'interfaces'):
        print('batch.py: the part is files or interfaces, not %r' % part, file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix='rirmeter-batch-')
    snap = build_snapshot(RIRDB, DATA, os.path.join(tmp, 'r.snap'))
    if part != 'interfaces':
        pcaps, one = capture_cases(tmp, snap)
        format_cases(tmp, snap, pcaps, one)
        pcapng_interfaces_case(tmp, snap, pcaps)
        pcapng_simple_packets_case(tmp, snap, pcaps)
        bad_input_cases(tmp, snap, pcaps, one)
        incomplete_input_case(tmp, pcaps)
    if part != 'files' and os.geteuid() != 0:
        for w in (1, 2):
            skip('-i on a veth, %d worker(s): received = sent' % w, 'needs root')
    elif part != 'files':
        interface_cases(tmp, snap)
    shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
