#!/usr/bin/env python3
"""Generate a pcap of flow export datagrams, valid and hostile.

    gen-flows.py --out FILE [--datagrams N] [--seed S] [--hostile FRACTION]

Datagrams go to UDP port 2055 (NetFlow v5 and v9), 4739 (IPFIX) and 6343
(sFlow v5) from a few exporters over IPv4 and IPv6, with records whose
addresses come from the bundled registry data (as gen-pcap.py draws them):
v5 records, v9 and IPFIX templates (IPv4 and IPv6, an IPFIX one with a
variable-length field) followed by data, an options template with a
sampling interval, sFlow flow samples with raw Ethernet headers and counter
samples.  A FRACTION of them (default 0.2) is hostile: truncated, bytes
flipped, lengths that point outside the datagram, IP fragments, wrong UDP
lengths, random bytes.  Deterministic for a given seed.  The soak test
replays it with ordinary traffic (perf/soak.sh).
"""
import argparse
import importlib.util
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('genpcap', os.path.join(HERE, 'gen-pcap.py'))
gp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gp)

PORTS = {'netflow': 2055, 'ipfix': 4739, 'sflow': 6343}


def udp_to(port, payload, length=None):
    return struct.pack('!HHHH', 50000, port, 8 + len(payload) if length is None else length,
                       0) + payload


def frame(exporter, port, payload, frag=0, udp_length=None):
    body = udp_to(port, payload, udp_length)
    if exporter < 1 << 32:
        return gp.eth(0x0800, gp.ipv4(exporter, 0xC0000201, body, frag=frag))
    return gp.eth(0x86DD, gp.ipv6(exporter, (0x20010DB8 << 96) | 1, body))


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.v4, self.v6 = gp.load_blocks()
        self.seq = {}

    def a4(self):
        return gp.pick(self.rng, self.v4, 32).to_bytes(4, 'big')

    def a6(self):
        return gp.pick(self.rng, self.v6, 128).to_bytes(16, 'big')

    def next_seq(self, key, step):
        s = self.seq.get(key, 0)
        self.seq[key] = s + step
        return s

    def v5(self, exporter):
        n = self.rng.randrange(1, 31)
        h = struct.pack('!HHIIIIBBH', 5, n, 1000, 1700000000, 0,
                        self.next_seq(('v5', exporter), n), 0, 1, 0)
        recs = b''.join(self.a4() + self.a4() + bytes(8) +
                        struct.pack('!II', self.rng.randrange(1, 100),
                                    self.rng.randrange(64, 150000)) + bytes(24)
                        for _ in range(n))
        return h + recs

    def v9(self, exporter):
        h = struct.pack('!HHIIII', 9, 0, 1000, 1700000000, self.next_seq(('v9', exporter), 1), 7)
        t4 = struct.pack('!HH', 256, 4) + struct.pack('!8H', 8, 4, 12, 4, 2, 4, 1, 4)
        t6 = struct.pack('!HH', 257, 4) + struct.pack('!8H', 27, 16, 28, 16, 2, 4, 1, 8)
        opt = struct.pack('!HHH', 258, 4, 4) + struct.pack('!4H', 1, 4, 34, 4)
        sets = [struct.pack('!HH', 0, 4 + len(t4 + t6)) + t4 + t6,
                struct.pack('!HH', 1, 4 + len(opt) + 2) + opt + bytes(2),
                struct.pack('!HH', 258, 12) + struct.pack('!II', 0, 10)]
        d4 = b''.join(self.a4() + self.a4() + struct.pack('!II', 1, 100) for _ in range(10))
        d6 = b''.join(self.a6() + self.a6() + struct.pack('!IQ', 1, 1200) for _ in range(5))
        sets += [struct.pack('!HH', 256, 4 + len(d4)) + d4, struct.pack('!HH', 257, 4 + len(d6)) + d6]
        return h + b''.join(sets)

    def ipfix(self, exporter):
        t = struct.pack('!HH', 300, 5) + struct.pack('!10H', 8, 4, 12, 4, 82, 65535, 2, 8, 1, 8)
        recs = []
        for _ in range(8):
            name = b'eth%d' % self.rng.randrange(100)
            recs.append(self.a4() + self.a4() + bytes([len(name)]) + name +
                        struct.pack('!QQ', 2, 3000))
        data = b''.join(recs)
        body = struct.pack('!HH', 2, 4 + len(t)) + t + struct.pack('!HH', 300, 4 + len(data)) + data
        h = struct.pack('!HHIII', 10, 16 + len(body), 1700000000,
                        self.next_seq(('ipfix', exporter), len(recs)), 3)
        return h + body

    def sflow(self, exporter):
        samples = []
        for _ in range(self.rng.randrange(1, 6)):
            hdr = gp.eth(0x0800, gp.ipv4(int.from_bytes(self.a4(), 'big'),
                                         int.from_bytes(self.a4(), 'big'), gp.udp(1000)))[:64]
            rec = struct.pack('!IIII', 1, 1046, 4, len(hdr)) + hdr
            body = struct.pack('!8I', 1, 3, 512, 0, 0, 1, 2, 1) + struct.pack('!II', 1, len(rec)) + rec
            samples.append(struct.pack('!II', 1, len(body)) + body)
        samples.append(struct.pack('!II', 2, 8) + bytes(8))  # a counter sample, skipped
        agent = exporter.to_bytes(4, 'big')
        h = struct.pack('!II', 5, 1) + agent + struct.pack('!IIII', 0,
                                                           self.next_seq(('sflow', exporter), 1),
                                                           5000, len(samples))
        return h + b''.join(samples)

    def hostile(self, port, good):
        r, k = self.rng, self.rng.randrange(6)
        if k == 0:
            return good[:r.randrange(len(good))], {}
        if k == 1:
            b = bytearray(good)
            for _ in range(r.randrange(1, 8)):
                b[r.randrange(len(b))] = r.randrange(256)
            return bytes(b), {}
        if k == 2:  # a length field (set, count, sample) pointing far away
            b = bytearray(good)
            at = r.choice([2, 22, 24, 26, 28]) if len(b) > 30 else 0
            b[at:at + 2] = b'\xff\xf0'
            return bytes(b), {}
        if k == 3:
            return good, {'frag': 0x2000}
        if k == 4:
            return good, {'udp_length': len(good) + 8 + r.randrange(1, 500)}
        return bytes(r.getrandbits(8) for _ in range(r.randrange(1, 300))), {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--datagrams', type=int, default=2000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--hostile', type=float, default=0.2)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    g = Gen(rng)
    exporters4 = [0xC0000201 + i for i in range(4)]
    exporter6 = (0x20010DB8 << 96) | 0x99
    kinds = [('netflow', g.v5), ('netflow', g.v9), ('ipfix', g.ipfix), ('sflow', g.sflow)]
    frames = []
    for i in range(a.datagrams):
        proto, make = kinds[i % len(kinds)]
        exporter = rng.choice(exporters4)
        payload = make(exporter)
        port = PORTS[proto]
        if rng.random() < a.hostile:
            payload, opts = g.hostile(port, payload)
            frames.append(frame(exporter, port, payload, **opts))
        else:
            src = exporter6 if proto != 'sflow' and i % 7 == 0 else exporter
            frames.append(frame(src, port, payload))
    gp.write_pcap(a.out, frames)


if __name__ == '__main__':
    main()
