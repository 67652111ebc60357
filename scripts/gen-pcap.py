#!/usr/bin/env python3
"""Generate a pcap of frames whose addresses come from the bundled registry data.

    gen-pcap.py --out FILE [--packets N] [--seed S] [--split K] [--manifest FILE]
                [--kinds all|clean|jumbo|tunnels|transition] [--nat64 PREFIX/LEN]

Frames: IPv4 and IPv6, plain, behind 802.1Q, QinQ (802.1ad) and MPLS label
stacks, IPv4 with options, IPv4 fragments, non-IP (ARP, MPLS pseudowire),
and (with --kinds all) every malformed case the dataplane counts.  With
--split K the frames go round-robin to K files FILE.0 .. FILE.K-1 (one per
port).  --manifest writes one JSON object per frame (class, reason, src,
dst, len) so that a test can compute the expected totals on its own.
--kinds jumbo makes a capture of 2-9 KB IPv4 and IPv6 frames only (more
than one mbuf each).  --kinds tunnels makes tunnelled frames (below); --kinds transition IPv6
frames between 6to4, Teredo and NAT64 addresses (the well-known prefixes,
and --nat64's) and plain ones, whose manifest lines add `src4` and `dst4`:
the IPv4 address each end carries (Teredo: the client's), or null.
Deterministic for a given seed.

Tunnels: GRE (with and without checksum, key, sequence; carrying IP or
Ethernet), ERSPAN types I, II and III, IP-in-IP (4in4, 6in4, 4in6, 6in6),
VXLAN, Geneve (with options), GTP-U (with extension headers; echo
messages, which carry no IP), nested once (VLAN + GRE + IPv6, GTP-U inside
VXLAN, GRE inside IP-in-IP) and five deep (too many); each also with its
payload cut at a random byte (the outer lengths kept true, so the cut is
inside the tunnel), and with malformed inner packets.  Each manifest line
then also has `tunnels` (the kinds crossed, outermost first) and `inner`
(the innermost packet: class, src, dst, reason), what the dataplane must
find; the reason for a cut comes from the layers' order: inside a header
it is `truncated`, past a header whose length field covers the cut it is
that field's reason.
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


def ipv4(src, dst, payload, options=b'', frag=0, total=None, ihl=None, version=4, proto=17):
    hl = 20 + len(options)
    ihl = hl // 4 if ihl is None else ihl
    total = hl + len(payload) if total is None else total
    h = struct.pack('!BBHHHBBH4s4s', (version << 4) | ihl, 0, total, 0x1234, frag, 64, proto, 0,
                    src.to_bytes(4, 'big'), dst.to_bytes(4, 'big')) + options
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def ipv6(src, dst, payload, plen=None, version=6, proto=17):
    plen = len(payload) if plen is None else plen
    return struct.pack('!IHBB16s16s', version << 28, plen, proto, 64,
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


# ---------------------------------------------------------------------------
# Tunnels.  A packet inside the outer IP header is a list of layers, each
# (header bytes, reason, kind, kind_from, fallback): reason is what a cut
# after the header and before the end gives (the header has a length
# field covering the rest), kind the tunnel counted once the parser has
# kind_from bytes of the header (fallback before that, or nothing).

def layer(hdr, reason=None, kind=None, kind_from=0, fallback=None):
    return {'hdr': hdr, 'reason': reason, 'kind': kind, 'kind_from': kind_from,
            'fallback': fallback}


def flat(layers):
    return b''.join(l['hdr'] for l in layers)


def cut_result(layers, cut):
    """(tunnels crossed, reason) when the layers are cut to `cut` bytes."""
    total, off, kinds = len(flat(layers)), 0, []
    for l in layers:
        if l['kind']:
            k = l['kind'] if cut >= off + l['kind_from'] else l['fallback']
            if k:
                kinds.append(k)
        if cut < off + len(l['hdr']):
            return kinds, 'truncated'
        off += len(l['hdr'])
        if l['reason'] and cut < total:
            return kinds, l['reason']
    return kinds, None


def ip_layers(fam, s, d, body_layers, proto=17, kind=None, **kw):
    """An IP header (length over body_layers) and the body."""
    body = flat(body_layers)
    if fam == 4:
        h = ipv4(s, d, body, proto=proto, **kw)[:len(ipv4(s, d, b'', proto=proto, **kw))]
        return [layer(h, 'ipv4_length', kind)] + body_layers
    h = ipv6(s, d, body, proto=proto, **kw)[:40]
    return [layer(h, 'ipv6_length', kind)] + body_layers


def data_layer(rng):
    return [layer(udp(rng.randrange(0, 60)))]


def eth_layers(ethertype, body_layers, tags=()):
    hdr = b'\x02\x00\x00\x00\x00\x03' + b'\x02\x00\x00\x00\x00\x04'
    for tpid, vid in tags:
        hdr += struct.pack('!HH', tpid, vid)
    return [layer(hdr + struct.pack('!H', ethertype))] + body_layers


def gre_layers(ptype, body_layers, c=False, k=False, sq=False, kind='gre', version=0):
    flags = (0x8000 if c else 0) | (0x2000 if k else 0) | (0x1000 if sq else 0) | version
    h = struct.pack('!HH', flags, ptype)
    if c:
        h += b'\0\0\0\0'
    if k:
        h += struct.pack('!I', 0xabcdef)
    if sq:
        h += struct.pack('!I', 7)
    return [layer(h, None, kind, 4 if kind != 'gre' else 0, 'gre')] + body_layers


def udp_hdr(dport, n):
    return struct.pack('!HHHH', 50000, dport, 8 + n, 0)


def gtpu_layers(body_layers, exts=0, msg=0xff, bad_ext=False):
    """GTP-U with `exts` PDU session containers (extension type 0x85)."""
    opt = b''
    ext_bytes = b''
    for i in range(exts):
        nxt = 0x85 if i + 1 < exts else 0
        ext_bytes += bytes([0 if bad_ext else 1, 0x10 | i]) + b'\0' + bytes([nxt])
    flags = 0x30
    if exts:
        flags |= 0x04
        opt = b'\0\0\0\x85'
    elif msg != 0xff:
        flags |= 0x02  # a sequence number, as echo requests carry
        opt = b'\0\x01\0\0'
    body = flat(body_layers)
    h = struct.pack('!BBHI', flags, msg, len(opt) + len(ext_bytes) + len(body), 0x1234) + opt \
        + ext_bytes
    return [layer(h, 'tunnel_header')] + body_layers


def vxlan_hdr(flags=0x08):
    return bytes([flags, 0, 0, 0, 0, 0x12, 0x34, 0])


def geneve_hdr(ptype, nopt, version=0):
    opts = b''.join(struct.pack('!HBB', 0x0102, 0x80, 1) + b'\xaa\xbb\xcc\xdd'
                    for _ in range(nopt))  # 8-byte options: class, type, length 1 word
    return bytes([(version << 6) | (len(opts) // 4), 0]) + struct.pack('!H', ptype) + \
        b'\0\x56\x78\0' + opts


def erspan2_hdr(version=1):
    return struct.pack('!HHI', (version << 12) | 10, 0x0042, 0)


def erspan3_hdr(o=False):
    return struct.pack('!HHIHBB', (2 << 12) | 10, 0x0042, 12345, 0, 0, 1 if o else 0) + \
        (b'\x01\x02\x03\x04\x05\x06\x07\x08' if o else b'')


TUNNEL_KINDS = ['gre4', 'gre6', 'gre_key_seq', 'gre_csum', 'gre_eth', 'erspan1', 'erspan2',
                'erspan3', 'erspan3_o', 'ipip', '6in4', '4in6', '6in6', 'vxlan', 'vxlan6',
                'geneve', 'geneve_ip', 'gtpu', 'gtpu6', 'gtpu_ext', 'vlan_gre_v6',
                'gtpu_in_vxlan', 'gre_in_ipip']
TUNNEL_ODD = ['deep', 'gtpu_echo', 'gre_arp', 'gre_v1', 'vxlan_no_i', 'gtpu_ext0', 'geneve_v1',
              'erspan_badver', 'gtpu_len', 'inner_ihl', 'inner_version', 'inner_total']


def inner_packet(rng, v4, v6, fam):
    a = pick(rng, v4, 32) if fam == 4 else pick(rng, v6, 128)
    b = pick(rng, v4, 32) if fam == 4 else pick(rng, v6, 128)
    return a, b, ip_layers(fam, a, b, data_layer(rng))


def tunnel_frame(kind, rng, v4, v6, gw4, gw6):
    """(frame bytes, manifest dict) of one tunnel kind; cut: payload cut at random."""
    fam_in = 6 if kind in ('gre6', '6in4', '6in6', 'vxlan6', 'gtpu6', 'vlan_gre_v6') else 4
    fam_out = 6 if kind in ('gre6', '4in6', '6in6') else 4
    s_in, d_in, pkt = inner_packet(rng, v4, v6, fam_in)
    et_in = 0x0800 if fam_in == 4 else 0x86DD
    tags, dport, proto = (), None, 47
    inner = {'class': 'ipv%d' % fam_in, 'src': str(ipaddress.ip_address(s_in)),
             'dst': str(ipaddress.ip_address(d_in))}
    expect = None  # (tunnels, reason) when not what the layers say
    if kind in ('gre4', 'gre6'):
        body = gre_layers(et_in, pkt)
    elif kind == 'gre_key_seq':
        body = gre_layers(et_in, pkt, k=True, sq=True)
    elif kind == 'gre_csum':
        body = gre_layers(et_in, pkt, c=True, k=rng.random() < 0.5)
    elif kind == 'gre_eth':
        body = gre_layers(0x6558, eth_layers(et_in, pkt), k=True)
    elif kind == 'erspan1':
        body = gre_layers(0x88BE, eth_layers(et_in, pkt), kind='erspan')
    elif kind == 'erspan2':
        body = gre_layers(0x88BE, [layer(erspan2_hdr())] +
                          eth_layers(et_in, pkt, [(0x8100, 20)]), sq=True, kind='erspan')
    elif kind in ('erspan3', 'erspan3_o'):
        body = gre_layers(0x22EB, [layer(erspan3_hdr(kind == 'erspan3_o'))] +
                          eth_layers(et_in, pkt), sq=True, kind='erspan')
    elif kind in ('ipip', '6in4', '4in6', '6in6'):
        pkt[0]['kind'] = kind
        body, proto = pkt, 4 if fam_in == 4 else 41
    elif kind in ('vxlan', 'vxlan6'):
        body, dport = [layer(vxlan_hdr(), None, 'vxlan')] + eth_layers(et_in, pkt), 4789
    elif kind == 'geneve':
        body = [layer(geneve_hdr(0x6558, rng.randrange(0, 3)), None, 'geneve')] + \
            eth_layers(et_in, pkt)
        dport = 6081
    elif kind == 'geneve_ip':
        body, dport = [layer(geneve_hdr(et_in, 1), None, 'geneve')] + pkt, 6081
    elif kind in ('gtpu', 'gtpu6', 'gtpu_ext'):
        body = gtpu_layers(pkt, exts=rng.randrange(1, 3) if kind == 'gtpu_ext' else 0)
        body[0]['kind'] = 'gtpu'
        dport = 2152
    elif kind == 'vlan_gre_v6':
        body, tags = gre_layers(0x86DD, pkt, k=True), [(0x8100, 33)]
    elif kind == 'gtpu_in_vxlan':
        g = gtpu_layers(pkt)
        u = layer(udp_hdr(2152, len(flat(g))), 'tunnel_header', 'gtpu', 8)
        mid = ip_layers(4, gw4[2], gw4[3], [u] + g)
        body, dport = [layer(vxlan_hdr(), None, 'vxlan')] + eth_layers(0x0800, mid), 4789
    elif kind == 'gre_in_ipip':
        mid = ip_layers(4, gw4[2], gw4[3], gre_layers(et_in, pkt), proto=47, kind='ipip')
        body, proto = mid, 4
    elif kind == 'deep':  # five IP-in-IP levels: the fifth is one too many
        body = pkt
        for i in range(5):
            body = ip_layers(4, gw4[i % 4], gw4[(i + 1) % 4], body, proto=4, kind='ipip')
        body, proto = body, 4
        inner = {'class': 'malformed', 'reason': 'too_many_tunnels'}
        expect = ['ipip'] * 4
    elif kind == 'gtpu_echo':
        body = gtpu_layers([layer(b'\x0e\x00')], msg=1)
        body[0]['kind'], dport = 'gtpu', 2152
        inner = {'class': 'non_ip'}
    elif kind == 'gre_arp':
        body = gre_layers(0x0806, [layer(bytes(28))])
        inner = {'class': 'non_ip'}
    elif kind in ('gre_v1', 'vxlan_no_i', 'gtpu_ext0', 'geneve_v1', 'erspan_badver',
                  'gtpu_len'):
        if kind == 'gre_v1':
            body = gre_layers(0x880B, [layer(bytes(20))], k=True, version=1)
        elif kind == 'vxlan_no_i':
            body, dport = [layer(vxlan_hdr(0), None, 'vxlan')] + eth_layers(et_in, pkt), 4789
        elif kind == 'gtpu_ext0':
            body, dport = gtpu_layers(pkt, exts=1, bad_ext=True), 2152
            body[0]['kind'] = 'gtpu'
        elif kind == 'geneve_v1':
            body, dport = [layer(geneve_hdr(et_in, 0, 1), None, 'geneve')] + pkt, 6081
        elif kind == 'erspan_badver':
            body = gre_layers(0x88BE, [layer(erspan2_hdr(3))] + eth_layers(et_in, pkt),
                              sq=True, kind='erspan')
        else:  # a G-PDU whose length runs past its UDP datagram
            body, dport = gtpu_layers(pkt), 2152
            body[0]['kind'] = 'gtpu'
            h = body[0]['hdr']
            body[0]['hdr'] = h[:2] + struct.pack('!H', struct.unpack('!H', h[2:4])[0] + 9) + h[4:]
        inner = {'class': 'malformed', 'reason': 'tunnel_header'}
    elif kind in ('inner_ihl', 'inner_version', 'inner_total'):
        body = gre_layers(0x0800, [])
        if kind == 'inner_ihl':
            bad, why = ipv4(s_in, d_in, udp(10), ihl=4), 'ipv4_ihl'
        elif kind == 'inner_version':
            bad, why = ipv4(s_in, d_in, udp(10), version=6), 'ip_version'
        else:
            bad, why = ipv4(s_in, d_in, udp(10), total=200), 'ipv4_length'
        body += [layer(bad)]
        inner = {'class': 'malformed', 'reason': why}
    else:
        raise ValueError(kind)
    return body, proto, dport, tags, fam_out, inner, expect


def tunnel_frames(rng, v4, v6, n):
    """n frames: every kind, clean and cut, then at random; with plain frames."""
    gw4 = [pick(rng, v4, 32) for _ in range(4)]
    gw6 = [pick(rng, v6, 128) for _ in range(2)]
    kinds = [(k, False) for k in TUNNEL_KINDS + TUNNEL_ODD] + [(k, True) for k in TUNNEL_KINDS]
    out = []
    for i in range(n):
        if i < len(kinds):
            kind, cut = kinds[i]
        elif rng.random() < 0.1:
            out.append(frame_for(rng.choice(['plain4', 'plain6', 'vlan4']), rng, v4, v6))
            continue
        else:
            kind = rng.choice(TUNNEL_KINDS + TUNNEL_ODD)
            cut = kind in TUNNEL_KINDS and rng.random() < 0.3
        body, proto, dport, tags, fam_out, inner, expect = \
            tunnel_frame(kind, rng, v4, v6, gw4, gw6)
        payload = flat(body)
        tunnels, reason = cut_result(body, len(payload))
        if cut:
            keep = rng.randrange(0, len(payload))
            tunnels, reason = cut_result(body, keep)
            payload = payload[:keep]
            inner = {'class': 'malformed', 'reason': reason}
        elif expect is not None:
            tunnels = expect
        elif inner['class'] != 'malformed':
            assert reason is None, (kind, reason)
        if dport:
            payload = udp_hdr(dport, len(payload)) + payload
            proto = 17
        if fam_out == 4:
            s, d = gw4[0], gw4[1]
            ip = ipv4(s, d, payload, proto=proto)
        else:
            s, d = gw6[0], gw6[1]
            ip = ipv6(s, d, payload, proto=proto)
        fr = eth(0x0800 if fam_out == 4 else 0x86DD, ip, tags)
        m = {'class': 'ipv%d' % fam_out, 'src': str(ipaddress.ip_address(s)),
             'dst': str(ipaddress.ip_address(d)), 'tunnels': tunnels, 'inner': inner,
             'kind': kind + ('_cut' if cut else ''), 'check': not cut and kind in TUNNEL_KINDS}
        out.append((fr, m))
    return out


# ---------------------------------------------------------------------------
# Transition addresses (RFC 3056, RFC 4380, RFC 6052)

def embed_nat64(prefix, plen, v4):
    """The RFC 6052 address of v4 under prefix/plen: the IPv4's bytes after
    the prefix, skipping byte 8 (the u octet, zero)."""
    b = bytearray(prefix.to_bytes(16, 'big'))
    i = plen // 8
    for octet in v4.to_bytes(4, 'big'):
        if i == 8:
            i += 1
        b[i] = octet
        i += 1
    return int.from_bytes(bytes(b), 'big')


def transition_addr(rng, v4, v6, nat64):
    """(IPv6 address, the IPv4 it stands for or None, kind)."""
    ip4 = pick(rng, v4, 32) if rng.random() < 0.9 else special_v4(rng)
    kind = rng.choice(['6to4', 'teredo', 'nat64', 'nat64_local', 'plain'] +
                      (['operator'] if nat64 else []))
    if kind == '6to4':
        return (0x2002 << 112) | (ip4 << 80) | rng.getrandbits(80), ip4, kind
    if kind == 'teredo':
        server = pick(rng, v4, 32)
        return ((0x20010000 << 96) | (server << 64) | (rng.getrandbits(32) << 32) |
                (ip4 ^ 0xffffffff)), ip4, kind
    if kind == 'nat64':
        return embed_nat64(0x0064ff9b << 96, 96, ip4), ip4, kind
    if kind == 'nat64_local':
        return embed_nat64(0x0064ff9b0001 << 80, 48, ip4) | rng.getrandbits(32), ip4, kind
    if kind == 'operator':
        net = ipaddress.IPv6Network(nat64)
        a = embed_nat64(int(net.network_address), net.prefixlen, ip4)
        if net.prefixlen < 96:  # the suffix after the IPv4 is free
            a |= rng.getrandbits(max(0, 128 - net.prefixlen - 40)) if net.prefixlen > 56 else 0
        return a, ip4, kind
    return pick(rng, v6, 128), None, kind


def transition_frames(rng, v4, v6, n, nat64):
    out = []
    for _ in range(n):
        s, s4, _ = transition_addr(rng, v4, v6, nat64)
        d, d4, _ = transition_addr(rng, v4, v6, nat64)
        fr = eth(0x86DD, ipv6(s, d, udp(rng.randrange(0, 100))))
        a4 = lambda x: None if x is None else str(ipaddress.IPv4Address(x))
        out.append((fr, {'class': 'ipv6', 'src': str(ipaddress.IPv6Address(s)),
                         'dst': str(ipaddress.IPv6Address(d)), 'src4': a4(s4),
                         'dst4': a4(d4)}))
    return out


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
    ap.add_argument('--nat64', help='an operator NAT64 prefix for --kinds transition')
    ap.add_argument('--kinds', choices=['all', 'clean', 'jumbo', 'tunnels', 'transition'],
                    default='all',
                    help='clean: no malformed frames; jumbo: only jumbo frames; tunnels: '
                    'tunnelled frames')
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
    if a.kinds in ('tunnels', 'transition'):
        made = tunnel_frames(rng, v4, v6, a.packets) if a.kinds == 'tunnels' else \
            transition_frames(rng, v4, v6, a.packets, a.nat64)
        for fr, m in made:
            m['len'] = len(fr)
            frames.append(fr)
            manifest.append(m)
    kinds = IP_KINDS * 8 + OTHER_KINDS + (BAD_KINDS if a.kinds == 'all' else [])
    if a.kinds == 'jumbo':  # apart: net_pcap's infinite_rx refuses chained mbufs
        kinds = JUMBO_KINDS
    for i in range(a.packets if a.kinds not in ('tunnels', 'transition') else 0):
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
