#!/usr/bin/env python3
"""Soak test: rirmeter under hostile input and snapshot swaps, for minutes.

    perf/soak.py [--seconds S] [--reload-every S] [--build DIR]     (make soak)

rirmeter replays from memory (net_pcap infinite_rx) a capture that mixes
ordinary traffic with every malformed frame the parser counts
(scripts/gen-pcap.py) and flow export datagrams of every protocol, a fifth
of them hostile (scripts/gen-flows.py), and a spoofed flood (5,000
sources sending NetFlow v9 headers that carry nothing, issue #26), with
--flows on, for S seconds (default 600).  Meanwhile the snapshot at --db is replaced every few
seconds, alternating between two different snapshots (one with an operator
label), the way `rirdb fetch` renames a new file into place.

It passes when: rirmeter exits 0 (its own balance check at exit); the
totals it wrote balance (received = attributed + non-IP + malformed + flow
datagrams + not flow, summed over snapshots); every reload succeeded and
none failed; every export interval saw packets (no worker stalled for an
interval) and the longest pass of the worker's poll loop stayed under
--max-stall-ms; the flow decoders counted records and hostile drops; the
real exporters' records kept arriving in every interval while the flood
was kept out of a full exporter table (exporters_full); and
resident memory stayed flat: the lowest RSS of the last quarter of the run
is within 10% + 16 MiB of the lowest of the second quarter (lowest, because
a swap holds two snapshots for a moment).  The last run is reported in
perf/README.md.
"""
import argparse
import json
import os
import socket
import struct
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
from tap import EAL, data_inputs, read_pcap, write_pcap  # noqa: E402


def rss_kib(pid):
    try:
        for line in open('/proc/%d/status' % pid):
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def merge(out, *pcaps):
    """The frames of pcaps, interleaved, into out; how many."""
    recs = [read_pcap(p) for p in pcaps]
    frames = [r[i] for i in range(max(map(len, recs))) for r in recs if i < len(r)]
    write_pcap(out, frames)
    return len(frames)


def spoofed_flood(out, n=5000, port=2055):
    """n sources (10.x.y.z), one NetFlow v9 header each, no sets: they never
    leave probation, so the real exporters keep their slots."""
    frames = []
    for i in range(n):
        v9 = struct.pack('>HHIIII', 9, 0, 1000, 1700000000, 0, 0)
        udp = struct.pack('>HHHH', 40000, port, 8 + len(v9), 0) + v9
        ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                         bytes([10, i >> 16 & 255, i >> 8 & 255, i & 255]),
                         socket.inet_aton('192.0.2.1'))
        frames.append(b'\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00' + ip + udp)
    write_pcap(out, frames)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seconds', type=float, default=600)
    ap.add_argument('--reload-every', type=float, default=3)
    ap.add_argument('--interval', type=float, default=10)
    ap.add_argument('--max-stall-ms', type=float, default=100)
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    a = ap.parse_args()
    rirdb = os.path.join(a.build, 'rirdb', 'rirdb')
    rirmeter = os.path.join(a.build, 'dataplane', 'dpdk', 'rirmeter')
    tmp = tempfile.mkdtemp(prefix='rirmeter-soak-')
    data = os.path.join(ROOT, 'data')
    snaps = [os.path.join(tmp, 'a.snap'), os.path.join(tmp, 'b.snap')]
    labels = os.path.join(tmp, 'labels.csv')
    with open(labels, 'w') as f:
        f.write('prefix,label\n193.0.0.0/21,soak\n2001:67c:2e8::/48,soak6\n')
    for out, extra in ((snaps[0], []), (snaps[1], [labels])):
        subprocess.run([rirdb, 'build', '-q', '-o', out] + extra + data_inputs(data),
                       check=True, capture_output=True)
    db = os.path.join(tmp, 'live.snap')
    shutil.copy(snaps[0], db)
    traffic, flows, flood, both = (os.path.join(tmp, n) for n in ('t.pcap', 'f.pcap',
                                                                    'flood.pcap', 'soak.pcap'))
    subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'gen-pcap.py'), '--out',
                    traffic, '--packets', '3000', '--seed', '21'], check=True)
    subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'gen-flows.py'), '--out',
                    flows, '--datagrams', '1000', '--seed', '22'], check=True)
    spoofed_flood(flood)
    frames = merge(both, traffic, flows, flood)
    js = os.path.join(tmp, 'soak.jsonl')
    cmd = [rirmeter] + EAL + ['--lcores', '0@0,1@1', '--vdev',
                              'net_pcap0,rx_pcap=%s,infinite_rx=1' % both, '--',
                              '--db', db, '--flows', 'netflow:2055,ipfix:4739,sflow:6343',
                              '--duration', str(a.seconds), '--interval', str(a.interval),
                              '--json', js, '--mbufs', str(max(16384, 4 * frames)), '--quiet']
    print('soak: %d frames, %.0f s, a swap every %.1f s' % (frames, a.seconds, a.reload_every),
          flush=True)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    start = time.time()
    rss, swaps, k = [], 0, 0
    next_swap = start + a.reload_every
    while p.poll() is None:
        time.sleep(0.5)
        now = time.time()
        r = rss_kib(p.pid)
        if r:
            rss.append((now - start, r))
        if now >= next_swap and now - start < a.seconds - 2 * a.reload_every:
            k ^= 1
            shutil.copy(snaps[k], db + '.tmp')
            os.replace(db + '.tmp', db)
            swaps += 1
            next_swap += a.reload_every
    out, err = p.communicate()
    lines = [json.loads(l) for l in open(js)]
    total = {}
    for l in lines:
        if l['interval'] == 'total' and l['scope'] == 'health':
            total[l['key']] = total.get(l['key'], 0) + l['packets']
    intervals, records = {}, {}
    for l in lines:
        if l['interval'] != 'total' and l['scope'] == 'health' and l['key'] == 'received':
            intervals[l['ts']] = intervals.get(l['ts'], 0) + l['packets']
        if l['interval'] != 'total' and l['scope'] == 'health' and l['key'] == 'flow_records':
            records[l['ts']] = records.get(l['ts'], 0) + l['packets']
    stall_us = float(err.split('longest poll loop ')[1].split(' us')[0]) \
        if 'longest poll loop ' in err else -1
    q = len(rss) // 4
    low2 = min(r for _, r in rss[q:2 * q]) if q else 0
    low4 = min(r for _, r in rss[3 * q:]) if q else 0
    flow_bad = sum(v for key, v in total.items() if 'malformed.' in key and
                   key.startswith('flow/'))
    results = [
        ('rirmeter exits 0 (its balance check)', p.returncode == 0, err[-2000:]),
        ('totals balance over all snapshots',
         total.get('received', -1) == sum(total.get(x, 0) for x in (
             'attributed', 'non_ip', 'malformed', 'flow_datagrams', 'not_flow')), str(total)),
        ('every swap reloaded, none failed',
         total.get('reload.ok', 0) >= swaps - 1 and total.get('reload.failed', 1) == 0,
         '%d swaps, ok %s, failed %s' % (swaps, total.get('reload.ok'),
                                         total.get('reload.failed'))),
        ('every interval saw packets', len(intervals) >= a.seconds / a.interval - 1 and
         all(v > 0 for v in intervals.values()), str(sorted(intervals.items()))[:500]),
        ('longest worker pass under %.0f ms' % a.max_stall_ms,
         0 <= stall_us < a.max_stall_ms * 1000, '%.0f us' % stall_us),
        ('flow records counted, hostile datagrams dropped by reason',
         total.get('flow_records', 0) > 0 and flow_bad > 0 and total.get('malformed', 0) > 0,
         'records %s, flow drops %d' % (total.get('flow_records'), flow_bad)),
        ('the real exporters\' records arrive in every interval; the flood is kept out',
         set(records) == set(intervals) and all(v > 0 for v in records.values()) and
         total.get('flow/exporters_full', 0) > 0,
         'exporters_full %s; records per interval %s' % (
             total.get('flow/exporters_full'), str(sorted(records.items()))[:400])),
        ('resident memory flat', q > 0 and low4 <= low2 * 1.10 + 16384,
         'lowest RSS, 2nd quarter %d KiB, last quarter %d KiB' % (low2, low4)),
    ]
    secs = max(1e-9, time.time() - start)
    print('soak: %.0f s, %d swaps, %.2f M frames/s, %d flow records, longest worker pass '
          '%.0f us, RSS %d -> %d KiB (lowest of 2nd and last quarter), peak %d KiB' %
          (secs, swaps, total.get('received', 0) / secs / 1e6, total.get('flow_records', 0),
           stall_us, low2, low4, max((r for _, r in rss), default=0)))
    failed = 0
    for name, ok, detail in results:
        print('%s - %s' % ('ok' if ok else 'FAILED', name))
        if not ok:
            failed += 1
            print('    ' + str(detail).replace('\n', '\n    '))
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
