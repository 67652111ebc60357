#!/usr/bin/env python3
"""Packet rate and worker stalls while snapshots are swapped under load.

    perf/reload_bench.py [--build DIR] [--rounds N] [--seconds S]

rirmeter on one worker replays 64-byte IPv4 frames from memory (net_pcap
infinite_rx) with --interval 0.1.  Each round runs twice, alternating: once
with the full bundled snapshot and a smaller one renamed over --db every
0.5 s, once without any swap.  It reports the median rate of the 0.1 s
intervals with and without a swap, the lowest interval, and the longest
pass of the worker's poll loop (what any stall would show as) with and
without swaps.  Medians over rounds.
"""
import argparse
import datetime
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict

ap = argparse.ArgumentParser()
ap.add_argument('--build', default='build')
ap.add_argument('--rounds', type=int, default=3)
ap.add_argument('--seconds', type=float, default=6)
a = ap.parse_args()
rirmeter = os.path.join(a.build, 'dataplane', 'dpdk', 'rirmeter')
rirdb = os.path.join(a.build, 'rirdb', 'rirdb')
tmp = tempfile.mkdtemp(prefix='rirmeter-reload-bench-')
iana = sorted(glob.glob('data/iana/*.csv'))
big, small = os.path.join(tmp, 'big.snap'), os.path.join(tmp, 'small.snap')
subprocess.run([rirdb, 'build', '-q', '-o', big] + sorted(glob.glob('data/rir/delegated-*')) + iana,
               check=True, capture_output=True)
subprocess.run([rirdb, 'build', '-q', '-o', small, 'data/rir/delegated-ripencc-20140630',
                'data/rir/delegated-apnic-20140701'] + iana, check=True, capture_output=True)
pcap = os.path.join(tmp, 'v4.pcap')
subprocess.run(['python3', 'scripts/gen-pcap.py', '--shape', 'v4-64', '--packets', '4096',
                '--out', pcap], check=True)
live = os.path.join(tmp, 'live.snap')


def epoch(ts):
    return datetime.datetime.strptime(ts, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=datetime.timezone.utc).timestamp()


def run(swapping):
    shutil.copy(big, live)
    out = os.path.join(tmp, 'o.jsonl')
    if os.path.exists(out):
        os.remove(out)  # rirmeter appends
    p = subprocess.Popen([rirmeter, '--no-huge', '--no-pci', '--no-shconf', '--no-telemetry',
                          '-m', '1024', '--log-level=error', '--lcores', '0@0,1@1', '--vdev',
                          'net_pcap0,rx_pcap=%s,infinite_rx=1' % pcap, '--', '--db', live,
                          '--json', out, '--interval', '0.1', '--duration', str(a.seconds),
                          '--quiet', '--mbufs', '16384'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    swaps = []
    end = time.time() + a.seconds - 1.5
    k = 0
    while swapping and time.time() < end:
        shutil.copy(small if k % 2 == 0 else big, live + '.tmp')
        swaps.append(time.time())
        os.rename(live + '.tmp', live)
        k += 1
        time.sleep(0.5)
    _, err = p.communicate()
    m = re.search(r'longest poll loop ([0-9.]+) us, ended at ([0-9.]+)', err)
    loop, loop_at = float(m.group(1)), float(m.group(2))
    near = min((abs(loop_at - s) for s in swaps), default=float('nan'))
    print('  %s: longest loop %.0f us, %.3f s from the nearest swap' %
          ('swaps' if swapping else 'steady', loop, near), flush=True)
    by = defaultdict(lambda: [0, 0.0])
    for line in open(out):
        r = json.loads(line)
        if r['interval'] != 'total' and r['scope'] == 'health' and r['key'] == 'received':
            by[r['ts']][0] += r['packets']
            by[r['ts']][1] = r['interval']
    with_swap, without = [], []
    for ts, (pk, length) in sorted(by.items())[3:-1]:
        e = epoch(ts)
        hit = any(e - length - 0.3 <= s <= e for s in swaps)
        (with_swap if hit else without).append(pk / length / 1e6)
    return with_swap, without, loop, err.count('reloaded')


res = defaultdict(list)
for _ in range(a.rounds):
    ws, wo, loop_s, n = run(True)
    _, steady, loop_n, _ = run(False)
    res['swap_median'].append(statistics.median(ws))
    res['swap_low'].append(min(ws))
    res['steady_median'].append(statistics.median(steady))
    res['loop_swaps_us'].append(loop_s)
    res['loop_steady_us'].append(loop_n)
    res['reloads'].append(n)
for k, v in res.items():
    print('%-15s median %10.2f   all %s' % (k, statistics.median(v),
                                             ' '.join('%.2f' % x for x in v)))
shutil.rmtree(tmp)
