#!/usr/bin/env python3
"""rirmeter as a flow collector, fed by real exporters (TAP).

    flows.py RIRMETER RIRDB DATA_DIR SCRIPTS_DIR [offline|live]

softflowd (Debian) reads a generated capture and exports NetFlow v5, v9
and IPFIX to a loopback port; tcpdump captures those datagrams; rirmeter
reads the capture through net_pcap with --flows.  The expected totals are
computed here from the input capture itself (each IP packet's addresses,
attributed by the reference lookup, and its IP length, which is what
softflowd counts as octets on plain Ethernet).  For sFlow, pmacct's
sfprobe is the agent; it samples most packets but not all (it never
samples QinQ, loses IPv6 over MPLS and the last few frames of a file), so
the expected totals come from decoding its datagrams here, independently
of rirmeter's decoder.  Hand-built
datagrams check the drops a collector must count (fragments, over IPv4 and
IPv6 alike; bad UDP lengths) and that flow export and traffic mix on one
port, with and without --flows-only.  A spoofed flood (100,000 sources, valid NetFlow v9
headers) sent ahead of softflowd's datagrams through a veth pair, in real
time, checks --flows-allow (the flood denied, softflowd attributed
exactly, the list re-read on SIGHUP) and, without a list, --flows-idle
(after the flood has been idle that long, softflowd attributed exactly).

The flood runs in real time, where a busy machine loses frames, and a
snapshot swap under --ipfix-export must land within a run of fixed
length: both can be run on their own (`live`: softflowd's v9 export they
replay, then those cases), apart from the rest (`offline`: capture files,
which may share the machine); without either, everything.
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import tap
from tap import EAL, attribute, check, diff, finish, gen_pcap, build_snapshot, read_pcap, \
    scope_totals, skip, totals_of, tshark_flows, write_pcap

RIRMETER, RIRDB, DATA, SCRIPTS = sys.argv[1:5]
SCOPES = ('rir', 'country', 'nir', 'holder', 'rir_pair')


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


# ---------------------------------------------------------------------------
# pcap files and frames

def ntop(b):
    return socket.inet_ntop(socket.AF_INET if len(b) == 4 else socket.AF_INET6, b)


def ip_of(frame):
    """(src, dst, ip_length, l4_offset, protocol) of an Ethernet frame with any
    802.1Q/802.1ad tags and MPLS labels, or None when it is not IP."""
    off, et = 14, struct.unpack('>H', frame[12:14])[0]
    while et in (0x8100, 0x88a8, 0x9100):
        et = struct.unpack('>H', frame[off + 2:off + 4])[0]
        off += 4
    if et in (0x8847, 0x8848):
        while True:
            bottom = frame[off + 2] & 1
            off += 4
            if bottom:
                break
        et = {4: 0x0800, 6: 0x86dd}.get(frame[off] >> 4)
    if et == 0x0800:
        ihl = (frame[off] & 15) * 4
        return (ntop(frame[off + 12:off + 16]), ntop(frame[off + 16:off + 20]),
                struct.unpack('>H', frame[off + 2:off + 4])[0], off + ihl, frame[off + 9])
    if et == 0x86dd:
        return (ntop(frame[off + 8:off + 24]), ntop(frame[off + 24:off + 40]),
                40 + struct.unpack('>H', frame[off + 4:off + 6])[0], off + 40, frame[off + 6])
    return None


def udp_payloads(path):
    """The UDP payloads of a loopback capture of export datagrams."""
    out = []
    for fr in read_pcap(path):
        ip = ip_of(fr)
        if ip and ip[4] == 17:
            out.append(fr[ip[3] + 8:])
    return out


def sflow_items(payloads):
    """(src, dst, packets, bytes) of every flow sample with a raw Ethernet
    header, decoded here: bytes are (frame_length - stripped) * rate."""
    items = []
    for p in payloads:
        at = 8 + (4 if struct.unpack('>I', p[4:8])[0] == 1 else 16)
        n = struct.unpack('>I', p[at + 12:at + 16])[0]
        at += 16
        for _ in range(n):
            kind, length = struct.unpack('>II', p[at:at + 8])
            body, at = p[at + 8:at + 8 + length], at + 8 + length
            if kind not in (1, 3):
                continue
            rate = struct.unpack('>I', body[8:12] if kind == 1 else body[12:16])[0]
            q = 32 if kind == 1 else 44
            for _ in range(struct.unpack('>I', body[q - 4:q])[0]):
                fmt, rl = struct.unpack('>II', body[q:q + 8])
                rec, q = body[q + 8:q + 8 + rl], q + 8 + rl
                if fmt != 1 or struct.unpack('>I', rec[:4])[0] != 1:
                    continue
                frame_len, stripped, hlen = struct.unpack('>III', rec[4:16])
                ip = ip_of(rec[16:16 + hlen])
                if ip:
                    items.append((ip[0], ip[1], rate, (frame_len - stripped) * rate))
    return items


# ---------------------------------------------------------------------------
# Exporters and capture

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Capture:
    """tcpdump on lo for UDP datagrams to one port, started before the
    exporter sends and stopped after it has finished, with no kernel drops."""

    def __init__(self, port, out):
        self.out, self.err = out, out + '.err'
        self.p = subprocess.Popen(['tcpdump', '-i', 'lo', '-n', '-U', '--immediate-mode',
                                   '-B', '65536', '-s', '0', '-w', out,
                                   'udp and dst port %d' % port],
                                  stdout=subprocess.DEVNULL, stderr=open(self.err, 'w'))
        for _ in range(200):
            if 'listening on' in open(self.err).read():
                return
            time.sleep(0.05)
        raise RuntimeError('tcpdump did not start: ' + open(self.err).read())

    def stop(self):
        # The last datagrams cross lo and are written (-U: each as it is
        # read): the file has not grown for 0.3 s.
        last, since = -1, time.time()
        for _ in range(600):
            size = os.path.getsize(self.out) if os.path.exists(self.out) else 0
            if size != last:
                last, since = size, time.time()
            elif time.time() - since >= 0.3:
                break
            time.sleep(0.05)
        self.p.send_signal(signal.SIGINT)
        self.p.wait(timeout=30)
        err = open(self.err).read()
        return '\n0 packets dropped by kernel' in '\n' + err, err


def rirmeter(pcap, opts):
    return run([RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev',
                                   'net_pcap0,rx_pcap=%s' % pcap, '--'] + opts)


def flow_totals(js):
    got, _ = totals_of(js)
    return {k: v for k, v in got.items() if k[0] in SCOPES and v[0]}, got


def nonzero(t):
    return {k: tuple(v) for k, v in t.items() if v[0]}


# ---------------------------------------------------------------------------

def softflowd_cases(tmp, snap, traffic, versions=(5, 9, 10)):
    items4, items6 = [], []
    for fr in read_pcap(traffic):
        ip = ip_of(fr)
        if ip:
            (items4 if ':' not in ip[0] else items6).append((ip[0], ip[1], 1, ip[2]))
    captures, records = {}, {}
    for version in versions:
        proto = 'ipfix' if version == 10 else 'netflow'
        port = free_port()
        out = os.path.join(tmp, 'softflowd-v%d.pcap' % version)
        cap = Capture(port, out)
        p = run(['softflowd', '-d', '-c', 'none', '-p', os.path.join(tmp, 'sf.pid'),
                 '-r', traffic, '-n', '127.0.0.1:%d' % port, '-v', str(version)])
        ok, err = cap.stop()
        check('softflowd v%d exports and tcpdump captures without drops' % version,
              p.returncode == 0 and ok and os.path.getsize(out) > 24,
              p.stdout + p.stderr + err)
        js = os.path.join(tmp, 'sf-v%d.jsonl' % version)
        prom = os.path.join(tmp, 'sf-v%d.prom' % version)
        r = rirmeter(out, ['--db', snap, '--flows', '%s:%d' % (proto, port), '--json', js,
                           '--prom', prom, '--interval', '0', '--top', '100000', '--quiet'])
        check('rirmeter reads the v%d export: exit 0' % version, r.returncode == 0, r.stderr)
        got, allrows = flow_totals(js)
        # NetFlow v5 has no IPv6; softflowd leaves those flows out.
        want = nonzero(scope_totals(RIRDB, snap, items4 + (items6 if version != 5 else [])))
        check('v%d: per-registry, country, NIR, holder and pair totals equal the capture\'s' %
              version, got == want, diff(got, want))
        kind = {5: 'netflow5', 9: 'netflow9', 10: 'ipfix'}[version]
        pre = 'flow/%s/127.0.0.1/0/' % kind
        h = {k[2]: v[0] for k, v in allrows.items() if k[0] == 'health'}
        n_dgrams = len(read_pcap(out))
        check('v%d: every datagram decoded, none lost, no template missing' % version,
              h.get(pre + 'datagrams') == n_dgrams and h.get('flow_datagrams') == n_dgrams
              and h.get(pre + 'lost', 0) == 0 and h.get(pre + 'no_template', 0) == 0
              and not any(k.startswith('flow/malformed') or '/malformed.' in k for k in h),
              str(h))
        metrics = dict(l.rsplit(' ', 1) for l in open(prom) if not l.startswith('#'))
        m = 'rirmeter_flow_exporter_%%s_total{protocol="%s",exporter="127.0.0.1",domain="0"}' % kind
        check('v%d: Prometheus exporter counters equal the JSON ones' % version,
              int(metrics.get(m % 'records', -1)) == h.get(pre + 'records') and
              int(metrics.get(m % 'datagrams', -1)) == n_dgrams and
              int(metrics.get('rirmeter_flow_records_total', -1)) == h.get('flow_records'),
              '\n'.join(k for k in metrics if 'flow' in k))
        if shutil.which('promtool'):
            p = run(['promtool', 'check', 'metrics'], input=open(prom).read())
            check('v%d: promtool accepts the textfile' % version, p.returncode == 0,
                  p.stdout + p.stderr)
        captures[version] = (out, port)
        records[version] = h.get(pre + 'records')
    return captures, items4, items6, records


def sflow_case(tmp, snap, traffic):
    port = free_port()
    out = os.path.join(tmp, 'sflow.pcap')
    conf = os.path.join(tmp, 'sfprobe.conf')
    with open(conf, 'w') as f:
        f.write('daemonize: false\npcap_savefile: %s\nplugins: sfprobe\n'
                'sfprobe_receiver: 127.0.0.1:%d\nsfprobe_agentip: 127.0.0.1\n'
                'sampling_rate: 1\n' % (traffic, port))
    cap = Capture(port, out)
    p = run(['pmacctd', '-f', conf])
    ok, err = cap.stop()
    check('pmacct sfprobe exports sFlow and tcpdump captures without drops',
          p.returncode == 0 and ok and os.path.getsize(out) > 24, p.stdout + p.stderr + err)
    js = os.path.join(tmp, 'sflow.jsonl')
    r = rirmeter(out, ['--db', snap, '--flows', 'sflow:%d' % port, '--json', js,
                       '--interval', '0', '--top', '100000', '--quiet'])
    check('rirmeter reads the sFlow export: exit 0', r.returncode == 0, r.stderr)
    items = sflow_items(udp_payloads(out))
    got, allrows = flow_totals(js)
    want = nonzero(scope_totals(RIRDB, snap, items))
    check('sFlow: totals equal the samples decoded independently', got == want,
          diff(got, want))
    n_ip = sum(1 for fr in read_pcap(traffic) if ip_of(fr))
    # sfprobe drops a few packets at the end of the file: most, not all.
    check('sFlow: most of the capture\'s packets arrive as samples',
          0.7 * n_ip <= len(items) <= n_ip, '%d samples of %d packets' % (len(items), n_ip))
    h = {k[2]: v[0] for k, v in allrows.items() if k[0] == 'health'}
    check('sFlow: exporter is the agent address, no losses',
          h.get('flow/sflow/127.0.0.1/0/records') == len(items)
          and h.get('flow/sflow/127.0.0.1/0/lost', 0) == 0, str(h))


def udp_frame(src, dst, dport, payload, frag=0, udp_len=None):
    udp = struct.pack('>HHHH', 40000, dport, udp_len or 8 + len(payload), 0) + payload
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, frag, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return b'\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00' + ip + udp


def udp6_fragment(src, dst, dport, payload, offset=0):
    """A UDP datagram over IPv6 as a fragment at offset (bytes, a multiple
    of 8) with more to follow, the fragment header behind a destination
    options header; a later fragment's payload starts as the first's does,
    with what looks like a UDP header."""
    udp = struct.pack('>HHHH', 40000, dport, 8 + len(payload), 0) + payload
    ext = bytes([44, 0, 1, 4, 0, 0, 0, 0]) + struct.pack('>BBHI', 17, 0, offset | 1, 7)
    ip = struct.pack('>IHBB', 0x60000000, len(ext) + len(udp), 60, 64) + \
        socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
    return b'\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x86\xdd' + ip + ext + udp


def mixed_and_hostile(tmp, snap, traffic, captures, items4, items6):
    """Traffic and v9 export on one port; then drops that must be counted."""
    v9, port = captures[9]
    frames = read_pcap(traffic) + read_pcap(v9)
    mixed = os.path.join(tmp, 'mixed.pcap')
    write_pcap(mixed, frames)
    js = os.path.join(tmp, 'mixed.jsonl')
    r = rirmeter(mixed, ['--db', snap, '--flows', 'netflow:%d' % port, '--json', js,
                         '--interval', '0', '--top', '100000', '--quiet'])
    got, allrows = flow_totals(js)
    flows = scope_totals(RIRDB, snap, items4 + items6)
    # The traffic itself counts once more, by its frame lengths.
    want = scope_totals(RIRDB, snap, [ip_of(fr)[:2] + (1, len(fr))
                                      for fr in read_pcap(traffic) if ip_of(fr)])
    for k, v in flows.items():
        want[k][0] += v[0]
        want[k][1] += v[1]
    check('traffic and flow export on one port: both counted', r.returncode == 0 and
          got == nonzero(want), r.stderr + diff(got, nonzero(want)))
    js = os.path.join(tmp, 'only.jsonl')
    r = rirmeter(mixed, ['--db', snap, '--flows', 'netflow:%d' % port, '--flows-only',
                         '--json', js, '--interval', '0', '--top', '100000'])
    got, allrows = flow_totals(js)
    h = {k[2]: v[0] for k, v in allrows.items() if k[0] == 'health'}
    check('--flows-only: only the records count; traffic is not_flow; balance holds',
          r.returncode == 0 and got == nonzero(flows) and
          h.get('not_flow') == len(items4) + len(items6) and ' + not flow ' in r.stdout,
          r.stdout + r.stderr + diff(got, nonzero(flows)))

    good = udp_payloads(v9)[0]
    hostile = [
        udp_frame('192.0.2.9', '192.0.2.1', port, good, frag=0x2000),  # first fragment
        udp6_fragment('2001:db8::9', '2001:db8::1', port, good),  # the same over IPv6
        udp_frame('192.0.2.9', '192.0.2.1', port, good, udp_len=len(good) + 100),
        udp_frame('192.0.2.9', '192.0.2.1', port, good, udp_len=4),
        udp_frame('192.0.2.9', '192.0.2.1', port, good[:10]),
        udp_frame('192.0.2.9', '192.0.2.1', port, b'\0\x07' + good[2:]),
        udp_frame('192.0.2.9', '192.0.2.1', port, good[:len(good) // 2]),
    ]
    # A later fragment has no UDP header (what its payload starts with is
    # not one): traffic, not_flow under --flows-only, over IPv6 as over IPv4.
    later = [udp_frame('192.0.2.9', '192.0.2.1', port, good[:64], frag=0x2002),
             udp6_fragment('2001:db8::9', '2001:db8::1', port, good[:64], offset=16)]
    bad = os.path.join(tmp, 'hostile.pcap')
    write_pcap(bad, hostile + later + [udp_frame('192.0.2.9', '192.0.2.1', port, good)])
    js = os.path.join(tmp, 'hostile.jsonl')
    r = rirmeter(bad, ['--db', snap, '--flows', 'netflow:%d' % port, '--flows-only',
                       '--json', js, '--interval', '0', '--quiet'])
    _, allrows = flow_totals(js)
    h = {k[2]: v[0] for k, v in allrows.items() if k[0] == 'health'}
    pre = 'flow/netflow9/192.0.2.9/0/'
    want_h = {'flow/malformed.fragment': 2, 'flow/malformed.udp': 2, 'flow/malformed.short': 1,
              'flow/malformed.version': 1, pre + 'malformed.set': 1, 'flow_datagrams': 8,
              'not_flow': 2}
    check('hostile datagrams: counted by reason (fragments over IPv4 and IPv6 alike), '
          'exit 0, the good one still decoded',
          r.returncode == 0 and all(h.get(k) == v for k, v in want_h.items())
          and h.get(pre + 'records', 0) > 0, r.stderr + str(h))


# ---------------------------------------------------------------------------
# Spoofed floods: --flows-allow and --flows-idle, in real time over a veth

class Veth(tap.Veth):
    """tap.Veth, whose sends end with filler (traffic to a port that is not
    a flow port, not_flow under --flows-only): libpcap hands the capture
    over in blocks, and the filler pushes out the block the last frames are
    in."""

    def send(self, frames, pace=0.0, chunk=0):
        super().send(frames, pace, chunk)
        super().send([udp_frame('192.0.2.77', '192.0.2.1', 9, bytes(1400))] * 400)
        time.sleep(0.5)


def flood_frames(port, n=100000):
    """n one-datagram sources (10.x.y.z) with valid v9 headers, no sets."""
    out = []
    for i in range(n):
        v9 = struct.pack('>HHIIII', 9, 0, 1000, 1700000000, 0, 0)
        src = '10.%d.%d.%d' % (i >> 16 & 255, i >> 8 & 255, i & 255)
        out.append(udp_frame(src, '192.0.2.1', port, v9))
    return out


class Live:
    """rirmeter on the veth's receiving end until stop(); its stderr read
    as it comes.  Intervals of 0.5 s: what settle() and the start wait for
    is an interval line, so shorter intervals shorten every wait."""

    def __init__(self, veth, tmp, name, opts):
        self.js = os.path.join(tmp, name + '.jsonl')
        self.prom = os.path.join(tmp, name + '.prom')
        self.p = veth.run(
            [RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev',
                                'net_pcap0,rx_iface=%s' % veth.rx, '--'] + opts +
            ['--json', self.js, '--prom', self.prom, '--interval', '0.5', '--top', '100000',
             '--quiet'], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.stderr = tap.StderrReader(self.p)
        for _ in range(600):  # an interval written: the workers are polling
            if os.path.exists(self.js) and os.path.getsize(self.js) > 0:
                break
            time.sleep(0.05)

    def said(self, what, count=1, timeout=60):
        """Wait until count lines of stderr have what in them, or timeout
        seconds."""
        return self.stderr.said(what, count, timeout)

    def received(self):
        n = 0
        for line in open(self.js):
            if '"received"' in line:
                r = json.loads(line)
                if r['scope'] == 'health' and r['key'] == 'received' and \
                        r['interval'] != 'total':
                    n += r['packets']
        return n

    def settle(self, quiet=1.0):
        """Wait until the worker has read everything sent so far: frames
        received (per the interval lines) stop growing for quiet seconds
        (by default two intervals)."""
        last, since = -1, time.time()
        for _ in range(600):
            n = self.received()
            if n != last:
                last, since = n, time.time()
            elif time.time() - since >= quiet:
                return
            time.sleep(0.1)

    def stop(self):
        self.settle()
        self.p.send_signal(signal.SIGINT)
        return self.stderr.wait(60)


def flood_cases(tmp, snap, captures, items4, items6, v9_records):
    v9, port = captures[9]
    real = read_pcap(v9)
    flood = flood_frames(port)
    want = nonzero(scope_totals(RIRDB, snap, items4 + items6))
    pre = 'flow/netflow9/127.0.0.1/0/'
    veth = Veth('rmf')
    try:
        # 1. An allow-list: the flood is denied, softflowd is attributed.
        # Frames can be lost between the veth and the capture on a loaded
        # machine (the flood fills the kernel's queues): an attempt that
        # lost any of softflowd's datagrams is run again, up to 3 times.
        for attempt in range(3):
            live = Live(veth, tmp, 'allow', ['--db', snap, '--flows', 'netflow:%d' % port,
                                              '--flows-only', '--flows-allow',
                                              '127.0.0.0/8,2001:db8::/32'])
            veth.send(flood, chunk=2000)
            live.settle()
            veth.send(real, pace=0.0005)
            rc, err = live.stop()
            got, rows = flow_totals(live.js)
            h = {k[2]: v[0] for k, v in rows.items() if k[0] == 'health'}
            if h.get(pre + 'datagrams') == len(real):
                break
        check('--flows-allow: a flood of 100,000 spoofed sources is denied, softflowd\'s '
              'records are attributed exactly (attempt %d)' % (attempt + 1),
              rc == 0 and got == want and
              h.get('flow/denied') == h.get('flow_datagrams', 0) - len(real) > 0 and
              h.get(pre + 'datagrams') == len(real) and
              not any(k.startswith('flow/netflow9/10.') for k in h),
              'sent %d; ' % len(real) + err + str({k: v for k, v in h.items() if 'flow' in k and
                                                  'denied_from' not in k}) +
              diff(got, want))
        check('--flows-allow: the top denied sources are in health',
              any(k.startswith('flow/denied_from/10.') for k in h), str(h))
        metrics = dict(l.rsplit(' ', 1) for l in open(live.prom) if not l.startswith('#'))
        check('--flows-allow: rirmeter_flow_denied_total equals the JSON count',
              int(metrics.get('rirmeter_flow_denied_total', -1)) == h.get('flow/denied'),
              str({k: v for k, v in metrics.items() if 'denied' in k}))
        if shutil.which('promtool'):
            p = run(['promtool', 'check', 'metrics'], input=open(live.prom).read())
            check('--flows-allow: promtool accepts the textfile', p.returncode == 0,
                  p.stdout + p.stderr)

        # 2. No list, --flows-idle 1: after the flood has been idle for 1 s
        # its exporters are released and softflowd is accepted.
        for attempt in range(3):
            live = Live(veth, tmp, 'idle', ['--db', snap, '--flows', 'netflow:%d' % port,
                                             '--flows-only', '--flows-idle', '1'])
            veth.send(flood, chunk=2000)
            live.settle(1.5)  # more than --flows-idle with nothing received
            veth.send(real, pace=0.0005)
            rc, err = live.stop()
            got, rows = flow_totals(live.js)
            h = {k[2]: v[0] for k, v in rows.items() if k[0] == 'health'}
            if got == want:  # else a datagram was lost on the way: again
                break
        # softflowd itself is aged out before the end: its rows are in
        # flow/released/ by then.
        check('--flows-idle 1: after a flood of 100,000 spoofed sources, softflowd\'s '
              'records are attributed exactly (attempt %d)' % (attempt + 1),
              rc == 0 and got == want and
              h.get('flow/released/no_template', 0) == 0 and
              h.get('flow/released/records', 0) + h.get(pre + 'records', 0) ==
              h.get('flow_records') and h.get('flow/aged', 0) >= 1024 and
              h.get('flow/exporters_full', 0) > 0,
              'sent %d; ' % len(real) + err + diff(got, want) + str(
                  {k: v for k, v in h.items() if 'flow' in k and '/10.' not in k}))

        # 3. --flows-allow @FILE, re-read on SIGHUP; a bad file is refused.
        # As above, an attempt that lost any of softflowd's datagrams (they
        # arrive denied or accepted, one way or the other) runs again.
        allow = os.path.join(tmp, 'allow.txt')
        for attempt in range(3):
            with open(allow, 'w') as f:
                f.write('# lab exporters\n192.0.2.0/24\n')
            live = Live(veth, tmp, 'hup%d' % attempt,
                        ['--db', snap, '--flows', 'netflow:%d' % port, '--flows-only',
                         '--flows-allow', '@' + allow])
            veth.send(real, pace=0.0005)
            live.settle(1.0)
            with open(allow, 'w') as f:
                f.write('192.0.2.0/24\n127.0.0.0/8  # softflowd\n')
            live.p.send_signal(signal.SIGHUP)
            live.said('--flows-allow reloaded')  # the new list is in use
            # Frames sent right after a swap were lost (the worker's first
            # passes over the new generation are long: 48 ms): a second more.
            time.sleep(1)
            veth.send(real, pace=0.0005)
            live.settle(1.0)
            with open(allow, 'w') as f:
                f.write('127.0.0.0/8\n127.0.0.1/8\n')
            live.p.send_signal(signal.SIGHUP)
            live.said('--flows-allow reload refused')
            time.sleep(1)  # as above: the snapshot was swapped too
            veth.send(real[:1])  # the old list still allows it
            rc, err = live.stop()
            rows = totals_of(live.js)[0]
            h = {k[2]: v[0] for k, v in rows.items() if k[0] == 'health'}
            if h.get('flow/denied', 0) + h.get(pre + 'datagrams', 0) == 2 * len(real) + 1:
                break
        check('--flows-allow @FILE: denied, then allowed after SIGHUP; a bad file on '
              'reload is refused with FILE:LINE, counted, the old list kept (attempt %d)' %
              (attempt + 1),
              rc == 0 and h.get('flow/denied') == len(real) and
              h.get(pre + 'records', 0) >= v9_records and
              h.get(pre + 'datagrams') == len(real) + 1 and
              h.get('flow/allow_reload_failed') == 1 and
              '%s:2: host bits' % allow in err, err + str(
                  {k: v for k, v in h.items() if 'flow' in k}))
    finally:
        veth.close()

    # Bad lists: exit 2 with the reason.
    bad = os.path.join(tmp, 'bad-allow.txt')
    with open(bad, 'w') as f:
        f.write('192.0.2.0/24\n\n10.0.0.1/33\n')
    for arg, msg in (('@' + bad, '%s:3: bad prefix length' % bad),
                     ('192.0.2.0/24,nonsense', "--flows-allow: 'nonsense': not an IPv4"),
                     ('@' + bad + '.missing', bad + '.missing: No such file')):
        r = rirmeter(v9, ['--db', snap, '--flows', 'netflow:%d' % port, '--flows-allow', arg])
        check('--flows-allow %s: exit 2 with "%s"' % (os.path.basename(arg), msg),
              r.returncode == 2 and msg in r.stderr, r.stderr)


# ---------------------------------------------------------------------------
# --ipfix-export

def original_fields(r):
    return (r.get('srcaddr') or r.get('srcaddrv6'), r.get('dstaddr') or r.get('dstaddrv6'),
            r.get('srcport'), r.get('dstport'), r.get('protocol'), r.get('packets'),
            r.get('octets'))


# What re-export adds after each record as received (besides pie.N).
ADDED = {'exporter_addr', 'od_id', 'sys_init_time', 'sampling_interval', 'string_len_short',
         'string_len_long'}


def as_received(r):
    """A decoded record's fields, less what re-export adds: hashable.  (tshark
    breaks TCP flags into bits in IPFIX only: the byte itself is compared.)"""
    return tuple(sorted((k, v) for k, v in r.items() if k not in ADDED and
                        not k.startswith(('pie.', 'tcpflags.'))))


def udp_queue(port):
    """Bytes waiting to be read on the UDP socket bound to 127.0.0.1:port
    (/proc/net/udp), or None while none is bound there."""
    want = '%08X:%04X' % (struct.unpack('=I', socket.inet_aton('127.0.0.1'))[0], port)
    with open('/proc/net/udp') as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want:
                return int(fields[4].split(':')[1], 16)
    return None


def nfcapd_flows(tmp, name, pcap):
    """Debian's nfcapd receives the datagrams of pcap on loopback; returns
    nfdump's summary (dict) and its flows as lines (times, addresses, ports,
    protocol, packets, bytes), sorted."""
    nf = os.path.join(tmp, name)
    os.makedirs(nf)
    nport = free_port()
    d = subprocess.Popen(['nfcapd', '-w', nf, '-p', str(nport), '-b', '127.0.0.1',
                          '-B', '8000000'], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(600):  # bound, its buffer set: what is sent now waits there
        if udp_queue(nport) is not None:
            break
        time.sleep(0.05)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for payload in udp_payloads(pcap):
        sock.sendto(payload, ('127.0.0.1', nport))
        time.sleep(0.0005)
    for _ in range(600):  # every datagram read by nfcapd (or it is gone)
        if not udp_queue(nport):
            break
        time.sleep(0.05)
    d.send_signal(signal.SIGTERM)
    d.wait(timeout=30)
    info = run(['nfdump', '-R', nf, '-I']).stdout
    lines = run(['nfdump', '-R', nf, '-q', '-o',
                 'fmt:%ts %te %sa %da %sp %dp %pr %pkt %byt']).stdout.splitlines()
    return dict(l.split(': ', 1) for l in info.splitlines() if ': ' in l), sorted(lines)


def export_case(tmp, snap, captures):
    """Re-export softflowd's records with enrichment; decode with tshark and nfcapd."""
    for version in (5, 9, 10):
        cap, port = captures[version]
        out = os.path.join(tmp, 'export-v%d.pcap' % version)
        js = os.path.join(tmp, 'export-v%d.jsonl' % version)
        proto = 'ipfix' if version == 10 else 'netflow'
        r = run([RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev',
                                    'net_pcap0,rx_pcap=%s' % cap, '--vdev',
                                    'net_pcap1,tx_pcap=%s' % out, '--', '--db', snap,
                                    '--flows', '%s:%d' % (proto, port), '--ipfix-export',
                                    '1:127.0.0.1:4739', '--ipfix-mtu', '1400', '--json', js,
                                    '--interval', '0', '--quiet'])
        check('v%d re-exported as IPFIX to a net_pcap TX file: exit 0' % version,
              r.returncode == 0 and os.path.exists(out), r.stderr)
        if r.returncode:
            continue
        src, got = tshark_flows(cap, port), tshark_flows(out, 4739)
        a, b = sorted(map(as_received, src)), sorted(map(as_received, got))
        check('v%d: every record re-exported with every field as received (%d fields)'
              % (version, len(a[0]) if a else 0),
              a == b and len(got) > 1000 and all(len(r) > 10 for r in a),
              '%d in, %d out; first differences: %s' % (len(src), len(got), [
                  (x, y) for x, y in zip(a, b) if x != y][:2]))
        who = attribute(RIRDB, snap, sorted({g[k] for g in got for k in (
            'srcaddr', 'dstaddr', 'srcaddrv6', 'dstaddrv6') if k in g}))

        def expected(addr):
            rir, country, holder, _ = who[addr]
            raw = '' if holder == 'none' else holder if holder.startswith('local:') \
                else holder.split(':', 1)[1]
            return rir, country.split(':')[1], raw
        bad = []
        for g in got:
            s, d = original_fields(g)[:2]
            want = expected(s) + expected(d)
            have = (g.get('pie.1'), g.get('pie.3'), g.get('pie.5', ''), g.get('pie.2'),
                    g.get('pie.4'), g.get('pie.6', ''))
            if have != want or g.get('exporter_addr') != '127.0.0.1' or g.get('od_id') != '0':
                bad.append('%s -> %s: %s, want %s' % (s, d, have, want))
        check('v%d: registry, country and holder of both ends equal the reference lookup, '
              'exporter and domain preserved' % version, not bad, '\n'.join(bad[:10]))
        frames = read_pcap(out)
        h = {k[2]: v[0] for k, v in totals_of(js)[0].items() if k[0] == 'health'}
        everything = tshark_flows(out, 4739, aggregates=True)
        agg = {}
        for a in everything:
            if 'pie.8' not in a:
                continue
            key = {'rir_pair': lambda: '%s>%s' % (a.get('pie.1'), a.get('pie.2')),
                   'rir': lambda: a.get('pie.1') or a.get('pie.2')}.get(a['pie.8'])
            if key:
                d = None if a['pie.8'] == 'rir_pair' else 'src' if a.get('pie.1') else 'dst'
                agg[(a['pie.8'], d, key())] = (int(a['packets']), int(a['octets']))
        tot = {k: v for k, v in totals_of(js)[0].items() if k[0] in ('rir', 'rir_pair') and
               v[0]}
        check('v%d: per-run aggregates (rir, rir_pair) equal the JSON totals' % version,
              agg == tot, diff(agg, tot))
        check('v%d: messages within the MTU, counted, none dropped' % version,
              all(len(f) - 14 <= 1400 for f in frames) and h.get('ipfix_export/frames') ==
              len(frames) and h.get('ipfix_export/dropped') == 0 and
              h.get('ipfix_export/records') == len(got) and
              h.get('ipfix_export/aggregates') == len(everything) - len(got), str(h))
        if not shutil.which('nfcapd'):
            skip('v%d: nfcapd accepts the export' % version, 'needs nfdump')
            continue
        stat, nf_out = nfcapd_flows(tmp, 'nfcapd-v%d' % version, out)
        # It takes the aggregates (template 260) as flows without addresses.
        pk = sum(int(g['packets']) for g in everything)
        by = sum(int(g['octets']) for g in everything)
        check('v%d: nfcapd accepts every message; its totals agree' % version,
              stat.get('Flows') == str(len(everything)) and stat.get('Packets') == str(pk) and
              stat.get('Bytes') == str(by), str(stat))
        _, nf_in = nfcapd_flows(tmp, 'nfcapd-in-v%d' % version, cap)
        mine = [l for l in nf_out if ' 0.0.0.0 ' not in l]
        check('v%d: nfdump sees the re-exported records as it sees the originals '
              '(times, addresses, ports, protocol, counts)' % version,
              mine == nf_in and len(nf_in) > 1000,
              '%d vs %d; %s' % (len(mine), len(nf_in),
                                [(x, y) for x, y in zip(mine, nf_in) if x != y][:2]))


def export_two_destinations_case(tmp, snap, captures):
    """Two destinations on two ports: each gets every message, framed for it
    (the message is built in one mbuf; the other destination gets a copy)."""
    cap, port = captures[9]
    outs = [os.path.join(tmp, 'two-%d.pcap' % i) for i in (1, 2)]
    r = run([RIRMETER] + EAL + ['--lcores', '0@0,1@1', '--vdev', 'net_pcap0,rx_pcap=%s' % cap,
                                '--vdev', 'net_pcap1,tx_pcap=%s' % outs[0], '--vdev',
                                'net_pcap2,tx_pcap=%s' % outs[1], '--', '--db', snap,
                                '--flows', 'netflow:%d' % port, '--flows-only',
                                '--ipfix-export', '1:127.0.0.1:4739,2:127.0.0.2:4740',
                                '--interval', '0', '--quiet'])
    a, b = (read_pcap(o) if os.path.exists(o) else [] for o in outs)

    def checksum_ok(f):
        words = struct.unpack('!10H', f[14:34])
        total = sum(words)
        while total > 0xffff:
            total = (total & 0xffff) + (total >> 16)
        return total == 0xffff

    def framed(frames, ip, udp):
        return all(f[30:34] == bytes(ip) and struct.unpack('!H', f[36:38])[0] == udp and
                   struct.unpack('!H', f[16:18])[0] == len(f) - 14 and
                   struct.unpack('!H', f[38:40])[0] == len(f) - 34 and checksum_ok(f)
                   for f in frames)
    check('two destinations: each gets every message with the same IPFIX bytes, framed '
          'for it (address, port, lengths, IPv4 checksum)',
          r.returncode == 0 and len(a) == len(b) > 10 and
          all(x[42:] == y[42:] for x, y in zip(a, b)) and framed(a, (127, 0, 0, 1), 4739) and
          framed(b, (127, 0, 0, 2), 4740), r.stderr + ' %d and %d frames' % (len(a), len(b)))


def export_swap_case(tmp, snap, captures):
    """A snapshot swap under export sends the templates again."""
    cap, port = captures[9]
    live, out = os.path.join(tmp, 'live.snap'), os.path.join(tmp, 'swap.pcap')
    shutil.copy(snap, live)
    js = os.path.join(tmp, 'swap.jsonl')
    p = subprocess.Popen([RIRMETER] + EAL + [
        '--lcores', '0@0,1@1', '--vdev', 'net_pcap0,rx_pcap=%s,infinite_rx=1' % cap,
        '--vdev', 'net_pcap1,tx_pcap=%s' % out, '--', '--db', live, '--flows',
        'netflow:%d' % port, '--flows-only', '--ipfix-export', '1:127.0.0.1:4739',
        '--duration', '4', '--interval', '0', '--json', js, '--mbufs', '16384', '--quiet'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    shutil.copy(snap, live + '.tmp')
    os.replace(live + '.tmp', live)
    _, err = p.communicate(timeout=60)
    h = {k[2]: v[0] for k, v in totals_of(js)[0].items() if k[0] == 'health'}
    check('a snapshot swap sends the templates again (once at start, once after)',
          p.returncode == 0 and 'reloaded' in err and h.get('ipfix_export/templates') == 2,
          err + str({k: v for k, v in h.items() if 'export' in k or 'reload' in k}))


def bad_option_cases(snap, traffic):
    for bad, msg in ((['--flows', 'netflow'], 'is not PROTO:PORT'),
                     (['--flows', 'ipfix:99999'], '--flows: port 99999 is out of range 1..65535'),
                     (['--flows-only'], '--flows-only needs --flows'),
                     (['--flows-idle', '0'], '--flows-idle: 0 is out of range'),
                     (['--flows-allow', '10.0.0.0/8'], '--flows-allow and --flows-idle need')):
        r = rirmeter(traffic, ['--db', snap] + bad)
        check('%s: exit 2 with "%s"' % (' '.join(bad), msg),
              r.returncode == 2 and msg in r.stderr, r.stderr)


def main():
    part = sys.argv[5] if len(sys.argv) > 5 else 'all'
    if part not in ('all', 'offline', 'live'):
        print('flows.py: the part is offline or live, not %r' % part, file=sys.stderr)
        return 2
    offline, live = part != 'live', part != 'offline'
    tmp = tempfile.mkdtemp(prefix='rirmeter-flows-')
    snap = build_snapshot(RIRDB, DATA, os.path.join(tmp, 'r.snap'))
    # Plain Ethernet (IMIX sizes): softflowd's octets are then the IP lengths.
    traffic = gen_pcap(SCRIPTS, os.path.join(tmp, 'traffic.pcap'), 3000, 11, '--shape', 'imix')
    missing = [t for t in ('softflowd', 'tcpdump') if not shutil.which(t)]
    if missing or os.geteuid() != 0:
        why = 'needs root and ' + ' '.join(missing or ['tcpdump'])
        names = (['softflowd NetFlow v5/v9/IPFIX', 'traffic and flows mixed'] if offline else
                 []) + (['--flows-allow and --flows-idle under a flood'] if live else [])
        for name in names:
            skip(name, why)
    else:
        # The live part replays softflowd's v9 export only.
        captures, items4, items6, records = softflowd_cases(
            tmp, snap, traffic, (5, 9, 10) if offline else (9,))
        if offline:
            mixed_and_hostile(tmp, snap, traffic, captures, items4, items6)
        if live:
            flood_cases(tmp, snap, captures, items4, items6, records[9])
            export_swap_case(tmp, snap, captures)
        if offline and shutil.which('tshark'):
            export_case(tmp, snap, captures)
            export_two_destinations_case(tmp, snap, captures)
        elif offline:
            skip('--ipfix-export decoded by tshark', 'needs tshark')
    if offline:
        if not shutil.which('pmacctd') or missing or os.geteuid() != 0:
            skip('sFlow from pmacct sfprobe', 'needs root, tcpdump and pmacctd')
        else:
            sflow_case(tmp, snap, traffic)
        bad_option_cases(snap, traffic)
    shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
