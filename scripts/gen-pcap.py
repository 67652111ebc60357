#!/usr/bin/env python3
"""Generate a pcap of frames whose addresses come from the bundled registry data.

    gen-pcap.py --out FILE [--packets N] [--seed S] [--split K] [--manifest FILE]
                [--kinds all|clean|jumbo]

Frames: IPv4 and IPv6, plain, behind 802.1Q, QinQ (802.1ad) and MPLS label
stacks, IPv4 with options, IPv4 fragments, non-IP (ARP, MPLS pseudowire),
and (with --kinds all) every malformed case the dataplane counts.  With
--split K the frames go round-robin to K files FILE.0 .. FILE.K-1 (one per
port).  --manifest writes one JSON object per frame (class, reason, src,
dst, len) so that a test can compute the expected totals on its own.
--kinds jumbo makes a capture of 2-9 KB IPv4 and IPv6 frames only (more
than one mbuf each).  Deterministic for a given seed.
"""
import argparse
import ipaddress
import json
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data', 'rir')


def load_blocks():
    """(family, first, count) of every delegated record, from the bundled files."""
    v4, v6 = [], []
    for name in sorted(os.listdir(DATA)):
        with open(os.path.join(DATA, name)) as f:
            for line in f:
                p = line.rstrip('\n').split('|')
                if len(p) < 7 or p[0].startswith('#') or p[5] == 'summary' or p[1] == '*':
                    continue
                if p[6] not in ('allocated', 'assigned'):
                    continue
                if p[2] == 'ipv4':
                    v4.append((int(ipaddress.IPv4Address(p[3])), int(p[4])))
                elif p[2] == 'ipv6':
                    v6.append((int(ipaddress.IPv6Address(p[3])), 1 << (128 - int(p[4]))))
    return v4, v6


def pick(rng, blocks, bits):
    first, count = rng.choice(blocks)
    return first + rng.randrange(count)


def special_v4(rng):
    return rng.choice([0x0A000001, 0xC0A80101, 0x7F000001, 0xE0000001, 0x64400001,
                       rng.getrandbits(32)])


def special_v6(rng):
    return rng.choice([1, 0xFE800000000000000000000000000001, 0xFF020000000000000000000000000001,
                       (0x20010DB8 << 96) | 5, rng.getrandbits(128)])


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ipv4(src, dst, payload, options=b'', frag=0, total=None, ihl=None, version=4):
    hl = 20 + len(options)
    ihl = hl // 4 if ihl is None else ihl
    total = hl + len(payload) if total is None else total
    h = struct.pack('!BBHHHBBH4s4s', (version << 4) | ihl, 0, total, 0x1234, frag, 64, 17, 0,
                    src.to_bytes(4, 'big'), dst.to_bytes(4, 'big')) + options
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def ipv6(src, dst, payload, plen=None, version=6):
    plen = len(payload) if plen is None else plen
    return struct.pack('!IHBB16s16s', version << 28, plen, 17, 64,
                       src.to_bytes(16, 'big'), dst.to_bytes(16, 'big')) + payload


def udp(n):
    return struct.pack('!HHHH', 40000, 53, 8 + n, 0) + bytes(n)


def eth(ethertype, body, tags=()):
    hdr = b'\x02\x00\x00\x00\x00\x01' + b'\x02\x00\x00\x00\x00\x02'
    for tpid, vid in tags:
        hdr += struct.pack('!HH', tpid, vid)
    frame = hdr + struct.pack('!H', ethertype) + body
    return frame + bytes(max(0, 60 - len(frame)))  # Ethernet minimum, padded


def mpls(labels, body):
    out = b''
    for i, lab in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        out += struct.pack('!I', (lab << 12) | (bos << 8) | 64)
    return out + body


def frame_for(kind, rng, v4, v6):
    """Returns (frame bytes, manifest dict)."""
    fam = 6 if kind.endswith('6') else 4
    if fam == 4:
        s = pick(rng, v4, 32) if rng.random() < 0.85 else special_v4(rng)
        d = pick(rng, v4, 32) if rng.random() < 0.85 else special_v4(rng)
        pl = udp(rng.randrange(0, 200))
    else:
        s = pick(rng, v6, 128) if rng.random() < 0.85 else special_v6(rng)
        d = pick(rng, v6, 128) if rng.random() < 0.85 else special_v6(rng)
        pl = udp(rng.randrange(0, 200))
    if kind.startswith('jumbo'):  # longer than one 2 KiB mbuf: a chain of segments
        pl = udp(rng.randrange(2100, 9000))
    ip = ipv4(s, d, pl) if fam == 4 else ipv6(s, d, pl)
    et = 0x0800 if fam == 4 else 0x86DD
    addr = ipaddress.IPv4Address if fam == 4 else ipaddress.IPv6Address
    ok = {'class': 'ipv%d' % fam, 'src': str(addr(s)), 'dst': str(addr(d))}
    if kind in ('plain4', 'plain6', 'jumbo4', 'jumbo6'):
        return eth(et, ip), ok
    if kind in ('vlan4', 'vlan6'):
        return eth(et, ip, [(0x8100, rng.randrange(1, 4095))]), ok
    if kind in ('qinq4', 'qinq6'):
        return eth(et, ip, [(0x88A8, 100), (0x8100, rng.randrange(1, 4095))]), ok
    if kind in ('mpls4', 'mpls6'):
        return eth(0x8847, mpls([rng.randrange(16, 1 << 20) for _ in range(rng.randrange(1, 4))],
                                ip)), ok
    if kind == 'vlanmpls4':
        return eth(0x8847, mpls([1000, 2000], ip), [(0x8100, 7)]), ok
    if kind == 'options4':
        return eth(et, ipv4(s, d, pl, options=b'\x01\x01\x01\x00' * rng.randrange(1, 10))), ok
    if kind == 'frag4':
        return eth(et, ipv4(s, d, pl, frag=rng.choice([0x2000, 0x2010, 0x0020]))), ok
    raise ValueError(kind)


def other_frame(kind, rng, v4):
    s, d = pick(rng, v4, 32), pick(rng, v4, 32)
    if kind == 'arp':
        return eth(0x0806, bytes(28)), {'class': 'non_ip'}
    if kind == 'pseudowire':
        return eth(0x8847, mpls([17], bytes(4) + eth(0x0800, ipv4(s, d, udp(10))))), \
            {'class': 'non_ip'}
    bad = {'class': 'malformed'}
    if kind == 'bad_truncated_eth':
        return b'\x02\x00\x00\x00\x00\x01\x02\x00', dict(bad, reason='truncated')
    if kind == 'bad_truncated_ip':
        return eth(0x0800, ipv4(s, d, b'')[:12])[:26], dict(bad, reason='truncated')
    if kind == 'bad_truncated_vlan':
        return (b'\x02' * 12) + b'\x81\x00\x00', dict(bad, reason='truncated')
    if kind == 'bad_ihl':
        return eth(0x0800, ipv4(s, d, udp(10), ihl=4)), dict(bad, reason='ipv4_ihl')
    if kind == 'bad_total':
        return eth(0x0800, ipv4(s, d, udp(10), total=1400)), dict(bad, reason='ipv4_length')
    if kind == 'bad_version':
        return eth(0x0800, ipv4(s, d, udp(10), version=6)), dict(bad, reason='ip_version')
    if kind == 'bad_v6_version':
        return eth(0x86DD, ipv6(1, 2, udp(10), version=4)), dict(bad, reason='ip_version')
    if kind == 'bad_plen':
        return eth(0x86DD, ipv6(1, 2, udp(10), plen=3000)), dict(bad, reason='ipv6_length')
    if kind == 'bad_tags':
        return eth(0x0800, ipv4(s, d, udp(10)), [(0x8100, 1)] * 9), \
            dict(bad, reason='too_many_tags')
    raise ValueError(kind)


IP_KINDS = ['plain4', 'plain6', 'vlan4', 'vlan6', 'qinq4', 'qinq6', 'mpls4', 'mpls6',
            'vlanmpls4', 'options4', 'frag4']
JUMBO_KINDS = ['jumbo4', 'jumbo6']
OTHER_KINDS = ['arp', 'pseudowire']
BAD_KINDS = ['bad_truncated_eth', 'bad_truncated_ip', 'bad_truncated_vlan', 'bad_ihl',
             'bad_total', 'bad_version', 'bad_v6_version', 'bad_plen', 'bad_tags']


def bench_frame(shape, rng, v4, v6):
    """One frame of benchmark traffic; sizes exclude the 4-byte FCS."""
    if shape == 'imix':
        size = rng.choice([60] * 7 + [566] * 4 + [1514])
        six = rng.random() < 0.2 and size > 60
    else:
        size, six = (60, False) if shape == 'v4-64' else (74, True)
    if six:
        ip = ipv6(pick(rng, v6, 128), pick(rng, v6, 128), udp(max(0, size - 14 - 48)))
        return eth(0x86DD, ip)
    ip = ipv4(pick(rng, v4, 32), pick(rng, v4, 32), udp(max(0, size - 14 - 28)))
    return eth(0x0800, ip)


def write_pcap(path, frames):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack('<IIII', 1700000000 + i // 1000, (i % 1000) * 1000, len(fr),
                                len(fr)))
            f.write(fr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--packets', type=int, default=5000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--split', type=int, default=0)
    ap.add_argument('--manifest')
    ap.add_argument('--kinds', choices=['all', 'clean', 'jumbo'], default='all',
                    help='clean: no malformed frames; jumbo: only jumbo frames')
    ap.add_argument('--shape', choices=['mixed', 'v4-64', 'v6-78', 'imix'], default='mixed',
                    help='benchmark traffic: minimum-size IPv4, 78-byte IPv6, or IMIX '
                    '(7:4:1 of 64, 570, 1518 bytes, one in five IPv6)')
    a = ap.parse_args()
    rng = random.Random(a.seed)
    v4, v6 = load_blocks()
    if not v4 or not v6:
        sys.exit('gen-pcap: no registry records found under ' + DATA)
    if a.shape != 'mixed':
        write_pcap(a.out, [bench_frame(a.shape, rng, v4, v6) for _ in range(a.packets)])
        return
    frames, manifest = [], []
    kinds = IP_KINDS * 8 + OTHER_KINDS + (BAD_KINDS if a.kinds == 'all' else [])
    if a.kinds == 'jumbo':  # apart: net_pcap's infinite_rx refuses chained mbufs
        kinds = JUMBO_KINDS
    for i in range(a.packets):
        # Every kind at least once, then at random.
        kind = kinds[i] if i < len(kinds) and a.packets >= len(kinds) else rng.choice(kinds)
        if kind in IP_KINDS or kind in JUMBO_KINDS:
            fr, m = frame_for(kind, rng, v4, v6)
        else:
            fr, m = other_frame(kind, rng, v4)
        m['len'] = len(fr)
        frames.append(fr)
        manifest.append(m)
    if a.split:
        for k in range(a.split):
            write_pcap('%s.%d' % (a.out, k), frames[k::a.split])
    else:
        write_pcap(a.out, frames)
    if a.manifest:
        with open(a.manifest, 'w') as f:
            for m in manifest:
                f.write(json.dumps(m) + '\n')


if __name__ == '__main__':
    main()
