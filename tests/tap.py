"""Shared by the Python tests: TAP output and the fixtures they all build.

Each test prints numbered `ok` / `not ok` lines with the details of a
failure as `#` comments, counts a skip as a skip (never as a pass) and
ends with its plan; `finish()` returns the exit status.  The fixtures are
the bundled registry data and the EAL arguments that let DPDK run on a
shared machine without huge pages or PCI devices; flow export datagrams
(NetFlow v5, IPFIX, sFlow) are built here, and rirmeter's IPFIX export is
read back through tshark.
"""
import collections
import ctypes
import glob
import ipaddress
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

REASONS = ['truncated', 'ipv4_ihl', 'ipv4_length', 'ip_version', 'ipv6_length', 'too_many_tags',
           'tunnel_header', 'too_many_tunnels']
RIRS = ['unknown', 'iana', 'afrinic', 'apnic', 'arin', 'lacnic', 'ripencc']
EAL = ['--no-huge', '--no-pci', '--no-shconf', '--no-telemetry', '-m', '256', '--log-level=error']

_count = 0
_failed = 0


def check(name, ok, detail=''):
    global _count, _failed
    _count += 1
    print('%sok %d - %s' % ('' if ok else 'not ', _count, name), flush=True)
    if not ok:
        _failed += 1
        for line in str(detail).splitlines()[:20]:
            print('# ' + line)
    return ok


def check_refused(name, p, option):
    """A usage error: exit 2, and stderr names the option."""
    return check(name, p.returncode == 2 and option in p.stderr, p.stderr)


def skip(name, why):
    global _count
    _count += 1
    print('ok %d - %s # SKIP %s' % (_count, name, why), flush=True)


def failures():
    return _failed


def finish():
    print('1..%d' % _count)
    return 1 if _failed else 0


def data_inputs(data):
    """The bundled registry files and IANA registries, in a stable order."""
    return sorted(glob.glob(os.path.join(data, 'rir', 'delegated-*'))) + \
        sorted(glob.glob(os.path.join(data, 'iana', '*.csv')))


def build_snapshot(rirdb, data, out):
    subprocess.run([rirdb, 'build', '-q', '-o', out] + data_inputs(data), check=True,
                   capture_output=True)
    return out


def gen_pcap(scripts, out, packets, seed, *extra):
    """A capture of frames addressed from the bundled data (scripts/gen-pcap.py)."""
    subprocess.run([sys.executable, os.path.join(scripts, 'gen-pcap.py'), '--out', out,
                    '--packets', str(packets), '--seed', str(seed)] + list(extra), check=True)
    return out


def attribute(rirdb, snap, addrs):
    """Registry, country key, holder key and NIR key of each address, by the
    reference lookup (`rirdb lookup --reference`: binary search over the
    range lists, not the lookup tables rirmeter uses).  The NIR key is
    "registry:" (no NIR) where the lookup names none."""
    p = subprocess.run([rirdb, 'lookup', '-d', snap, '--reference', '--format', 'json'],
                       input='\n'.join(addrs) + '\n', capture_output=True, text=True,
                       timeout=120)
    out = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        hid, name = r['holder_id'], r['holder']
        if hid:
            holder = hid if hid.startswith('local:') else '%s:%s' % (r['rir'], hid)
        elif name:
            holder = '%s:%s' % (r['rir'], name)
        else:
            holder = 'none'
        out[r['addr']] = (r['rir'], '%s:%s' % (r['rir'], r['cc'] or 'ZZ'), holder,
                          '%s:%s' % (r['rir'], r.get('nir') or ''))
    return out


def scope_totals(rirdb, snap, items):
    """What rirmeter should report for items (src, dst, packets, bytes): the
    rir, country, nir, holder and rir_pair totals, keyed (scope, dir, key)."""
    who = attribute(rirdb, snap, sorted({i[0] for i in items} | {i[1] for i in items}))
    t = collections.defaultdict(lambda: [0, 0])
    for src, dst, pk, by in items:
        for d, a in (('src', src), ('dst', dst)):
            rir, country, holder, nir = who[a]
            for scope, key in (('rir', rir), ('country', country), ('nir', nir),
                               ('holder', holder)):
                t[(scope, d, key)][0] += pk
                t[(scope, d, key)][1] += by
        pair = ('rir_pair', None, '%s>%s' % (who[src][0], who[dst][0]))
        t[pair][0] += pk
        t[pair][1] += by
    for rir in RIRS:
        for d in ('src', 'dst'):
            t[('rir', d, rir)]  # every registry has a line, zero or not
    return t


def totals_of(json_path):
    """rirmeter's total lines, keyed (scope, dir, key), without the port and
    reload counters; and every line."""
    out, lines = {}, []
    for line in open(json_path):
        r = json.loads(line)
        lines.append(r)
        if r['interval'] != 'total':
            continue
        if r['scope'] == 'health' and r['key'].startswith(('port.', 'reload.')):
            continue
        out[(r['scope'], r.get('dir'), r['key'])] = (r['packets'], r.get('bytes'))
    return out, lines


def diff(got, want):
    keys = sorted(set(got) | set(want), key=str)
    return '\n'.join('%s: got %s want %s' % (k, got.get(k), want.get(k))
                     for k in keys if got.get(k) != want.get(k))


def read_pcap(path):
    """The frames of a pcap file (either byte order), as bytes."""
    with open(path, 'rb') as f:
        d = f.read()
    magic = struct.unpack('<I', d[:4])[0]
    end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off, out = 24, []
    while off + 16 <= len(d):
        _, _, incl, _ = struct.unpack(end + 'IIII', d[off:off + 16])
        out.append(d[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


# Flow export datagrams, built here, and the IPFIX rirmeter sends, decoded.

def v5_datagram(records, seq):
    """A NetFlow v5 datagram of records (src, dst, pkts, bytes, src_as, dst_as)."""
    h = struct.pack('!HHIIIIBBH', 5, len(records), 1000, 1700000000, 0, seq, 0, 0, 0)
    body = b''
    for src, dst, pk, by, sa, da in records:
        body += (ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed +
                 bytes(4) + struct.pack('!HHIIIIHHBBBBHHBBH', 0, 0, pk, by, 10, 20, 1, 2, 0,
                                        0, 6, 0, sa, da, 24, 24, 0))
    return h + body


def ipfix_datagram(records, seq):
    """An IPFIX message: a template (8, 12, 2, 1, 16, 17 of 4 bytes each;
    27, 28 for IPv6) and its records (src, dst, pkts, bytes, src_as,
    dst_as)."""
    sets = b''
    for tid, (sa, da, alen) in ((256, (8, 12, 4)), (257, (27, 28, 16))):
        fields = struct.pack('!HHHHHHHHHHHH', sa, alen, da, alen, 2, 4, 1, 4, 16, 4, 17, 4)
        sets += struct.pack('!HHHH', 2, 8 + len(fields), tid, 6) + fields
    for tid, v6 in ((256, False), (257, True)):
        body = b''
        for src, dst, pk, by, s_as, d_as in records:
            if (':' in src) != v6:
                continue
            body += (ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed +
                     struct.pack('!IIII', pk, by, s_as, d_as))
        if body:
            sets += struct.pack('!HH', tid, 4 + len(body)) + body
    return struct.pack('!HHIII', 10, 16 + len(sets), 1700000000, seq, 1) + sets


def sflow_datagram(records, seq):
    """An sFlow v5 datagram, one flow sample per record (src, dst, pkts,
    bytes, src_as, dst_as; pkts is the sampling rate, bytes/pkts the
    sampled frame's length): a raw header record (Ethernet/IPv4 or IPv6),
    and an extended gateway record (router AS 64999, src_as, a path of two
    segments whose last AS is dst_as; no path when dst_as is 0)."""
    samples = b''
    for src, dst, rate, by, s_as, d_as in records:
        v6 = ':' in src
        length = by // rate
        if v6:
            ip = struct.pack('!IHBB', 6 << 28, length - 54, 17, 64) + \
                ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed
            eth = b'\x00' * 12 + b'\x86\xdd'
        else:
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, length - 14, 0, 0, 64, 17, 0,
                             ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
            eth = b'\x00' * 12 + b'\x08\x00'
        hdr = eth + ip + bytes(8)
        hdr += bytes(-len(hdr) % 4)
        raw = struct.pack('!IIII', 1, length, 0, len(hdr)) + hdr
        path = struct.pack('!I', 0) if not d_as else \
            struct.pack('!IIIIIII', 2, 2, 1, 64999, 2, 1, d_as)
        gw = struct.pack('!I4sIII', 1, bytes([192, 0, 2, 1]), 64999, s_as, 64998) + path + \
            struct.pack('!II', 0, 100)
        recs = struct.pack('!II', 1, len(raw)) + raw + struct.pack('!II', 1003, len(gw)) + gw
        sample = struct.pack('!IIIIIIII', seq, 1, rate, 0, 0, 1, 2, 2) + recs
        samples += struct.pack('!II', 1, len(sample)) + sample
    return struct.pack('!II4sIIII', 5, 1, bytes([192, 0, 2, 9]), 0, seq, 1000,
                       len(records)) + samples


def flow_frame(payload, dport):
    """An Ethernet/IPv4/UDP frame from 127.0.0.2 carrying payload."""
    udp = struct.pack('!HHHH', 40000, dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([127, 0, 0, 2]), bytes([127, 0, 0, 1]))
    return b'\x00' * 12 + b'\x08\x00' + ip + udp


def tshark_flows(pcap, port, aggregates=False):
    """Every data record tshark decodes in pcap (NetFlow/IPFIX to port), as
    dicts of field name -> shown value; enterprise elements as 'pie.N' -> text."""
    p = subprocess.run(['tshark', '-r', pcap, '-d', 'udp.port==%d,cflow' % port, '-T', 'pdml'],
                       capture_output=True, text=True, timeout=120)
    recs = []
    for flow in ET.fromstring(p.stdout).iter('field'):
        if flow.get('name') != '' or not flow.get('show', '').startswith(('Flow ', 'pdu ')):
            continue
        r = {}
        for f in flow.iter('field'):
            name, show = f.get('name', ''), f.get('show', '')
            if name == 'cflow.enterprise_private_entry':
                t = f.get('showname', '').split(' Type ')[1].split(':')[0]
                r['pie.' + t] = bytes.fromhex(f.get('value', '')).decode()
            elif name.startswith('cflow.') and name not in r:
                r[name[6:]] = show
        if 'srcaddr' in r or 'srcaddrv6' in r or (aggregates and 'pie.8' in r):
            recs.append(r)
    return recs


def check_promtool(name, text):
    """`promtool check metrics` accepts the exposition text (a check named
    name), or a skip when promtool is not installed."""
    promtool = shutil.which('promtool')
    if not promtool:
        skip(name, 'promtool not installed')
        return
    p = subprocess.run([promtool, 'check', 'metrics'], input=text, capture_output=True,
                       text=True)
    check(name, p.returncode == 0, p.stdout + p.stderr)


def write_pcap(path, frames, spacing=None):
    """Ethernet frames into a pcap file: a thousand a second, a microsecond
    apart within it; or each spacing seconds after the last."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            sec, us = (i // 1000, i % 1000) if spacing is None else \
                divmod(round(i * spacing * 1e6), 1000000)
            f.write(struct.pack('<IIII', 1700000000 + sec, us, len(fr), len(fr)))
            f.write(fr)


def on_terminal(argv):
    """Everything argv writes when its output is a pseudo-terminal (progress
    lines only appear there)."""
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out = b''
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its side
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out


def expected_totals(rirdb, snap, manifest):
    """The totals a capture from gen-pcap.py must give, computed from its
    manifest (what each frame is) and the reference lookup (`rirdb lookup
    --reference`, not the lookup tables); and the manifest's frames."""
    frames = [json.loads(l) for l in open(manifest)]
    ips = [f for f in frames if f['class'] in ('ipv4', 'ipv6')]
    t = scope_totals(rirdb, snap, [(f['src'], f['dst'], 1, f['len']) for f in ips])

    def health(key, fs):
        t[('health', None, key)] = [len(fs), sum(f['len'] for f in fs)]
    health('received', frames)
    health('attributed', ips)
    health('non_ip', [f for f in frames if f['class'] == 'non_ip'])
    bad = [f for f in frames if f['class'] == 'malformed']
    health('malformed', bad)
    for r in REASONS:
        health('malformed.' + r, [f for f in bad if f['reason'] == r])
    return {k: tuple(v) for k, v in t.items()}, frames


# ---------------------------------------------------------------------------
# A veth pair in a network namespace of the test's own

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    """This (single-threaded) process into the network namespace of fd."""
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'setns')


class StderrReader:
    """The stderr of running process p (text, a pipe), read by a thread as
    it comes, so that a test can wait for a message; stdout, when also a
    pipe, drained beside it."""

    def __init__(self, p):
        self.p = p
        self.lines, self.cond = [], threading.Condition()
        self.threads = [threading.Thread(target=self._read, daemon=True)]
        if p.stdout:
            self.threads.append(threading.Thread(target=p.stdout.read, daemon=True))
        for t in self.threads:
            t.start()

    def _read(self):
        for line in self.p.stderr:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def said(self, what, count=1, timeout=60):
        """True once count lines of stderr have what in them; false after
        timeout seconds."""
        end = time.monotonic() + timeout
        with self.cond:
            while sum(what in line for line in self.lines) < count:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def wait(self, timeout):
        """The exit status and all of stderr, once p has ended."""
        self.p.wait(timeout=timeout)
        for t in self.threads:
            t.join(timeout=10)
        return self.p.returncode, ''.join(self.lines)


class Veth:
    """A veth pair inside a network namespace of the test's own: frames
    written to one end (AF_PACKET) arrive at the other, where rirmeter,
    started in the namespace, reads them (net_pcap rx_iface, or -i).  No
    address anywhere and IPv6 off, so the kernel sends nothing of its own;
    the host's interfaces are never touched.  The sending socket is made
    inside the namespace and keeps to it after this process has gone back.
    Each end has `queues` RX and TX queues.  Raises OSError (or CalledProcessError) where namespaces cannot be made."""

    def __init__(self, prefix='rm', queues=1):
        n = os.getpid() % 100000
        self.ns = '%sns%d' % (prefix, n)
        self.tx, self.rx = '%st%d' % (prefix, n), '%sr%d' % (prefix, n)
        subprocess.run(['ip', 'netns', 'add', self.ns], check=True, capture_output=True)
        ip = ['ip', '-n', self.ns]
        q = ['numtxqueues', str(queues), 'numrxqueues', str(queues)]
        subprocess.run(ip + ['link', 'add', self.tx] + q + ['type', 'veth', 'peer', 'name',
                                                          self.rx] + q, check=True)
        for d in (self.tx, self.rx):
            subprocess.run(['ip', 'netns', 'exec', self.ns, 'sysctl', '-q', '-w',
                            'net.ipv6.conf.%s.disable_ipv6=1' % d], check=True)
            subprocess.run(ip + ['link', 'set', d, 'up'], check=True)
        home = os.open('/proc/self/ns/net', os.O_RDONLY)
        there = os.open('/run/netns/' + self.ns, os.O_RDONLY)
        try:
            setns(there)
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            self.sock.bind((self.tx, 0))
        finally:
            setns(home)
            os.close(home)
            os.close(there)

    def run(self, cmd, **kw):
        """cmd started inside the namespace (ip netns exec execs it: the
        pid is the command's own, so signals reach it)."""
        return subprocess.Popen(['ip', 'netns', 'exec', self.ns] + cmd, **kw)

    def send(self, frames, pace=0.0, chunk=0):
        """frames written to the sending end; pace seconds after each, or
        20 ms after every chunk of them."""
        for i, f in enumerate(frames):
            self.sock.send(f)
            if pace:
                time.sleep(pace)
            if chunk and i % chunk == chunk - 1:
                time.sleep(0.02)

    def close(self):
        self.sock.close()
        subprocess.run(['ip', 'netns', 'del', self.ns])
