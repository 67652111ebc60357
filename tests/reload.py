#!/usr/bin/env python3
"""Snapshot reload under load (TAP).

    reload.py RIRMETER RIRDB

rirmeter replays a capture from memory (net_pcap infinite_rx) while the
test swaps the file at --db: snapshots A (the block is RIPE NCC's) and B
(the same block moved to ARIN) by atomic rename, once a corrupt file, and
once a SIGHUP.  Every line names its snapshot: lines of A may only count
ripencc, lines of B only arin; the corrupt file is refused and counted;
and every frame the port delivered is counted exactly once across all the
snapshots (received = port rx, and the balance holds at exit).
"""
import collections
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

from tap import check, finish

RIRMETER, RIRDB = sys.argv[1:3]


def frames(count):
    rng = random.Random(3)
    out = []
    for i in range(count):
        if i % 4 == 3:
            src = bytes([0x20, 0x01, 0x0d, 0xb8]) + rng.randbytes(12)
            dst = bytes([0x20, 0x01, 0x0d, 0xb8]) + rng.randbytes(12)
            ip = struct.pack('!IHBB', 6 << 28, 8, 17, 64) + src + dst + bytes(8)
            et = 0x86DD
        else:
            src = bytes([100, 1]) + rng.randbytes(2)
            dst = bytes([100, 1]) + rng.randbytes(2)
            ip = struct.pack('!BBHHHBBH', 0x45, 0, 28, 0, 0, 64, 17, 0) + src + dst + bytes(8)
            et = 0x0800
        f = b'\x02\0\0\0\0\x01\x02\0\0\0\0\x02' + struct.pack('!H', et) + ip
        out.append(f + bytes(max(0, 60 - len(f))))
    return out


def write_pcap(path, frs):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for fr in frs:
            f.write(struct.pack('<IIII', 0, 0, len(fr), len(fr)) + fr)


def main():
    tmp = tempfile.mkdtemp(prefix='rirmeter-reload-')
    a_txt, b_txt = os.path.join(tmp, 'a.txt'), os.path.join(tmp, 'b.txt')
    with open(a_txt, 'w') as f:
        f.write('2.3|ripencc|1|2|19830705|20140630|+0200\n'
                'ripencc|DE|ipv4|100.1.0.0|65536|20100101|allocated|R1\n'
                'ripencc|DE|ipv6|2001:db8::|32|20100101|allocated|R1\n')
    with open(b_txt, 'w') as f:
        # More attributions than A, so that counters of different sizes meet.
        f.write('2.3|arin|1|62|19830705|20150101|-0500\n'
                'arin|US|ipv4|100.1.0.0|65536|20100101|allocated|A1\n'
                'arin|US|ipv6|2001:db8::|32|20100101|allocated|A1\n')
        for k in range(60):
            f.write('arin|%s%s|ipv4|101.0.%d.0|256|20100101|allocated|H%d\n'
                    % (chr(65 + k // 26), chr(65 + k % 26), k, k))
    snaps = {}
    for name, txt in (('A', a_txt), ('B', b_txt)):
        snaps[name] = os.path.join(tmp, name + '.snap')
        p = subprocess.run([RIRDB, 'build', '-q', '-o', snaps[name], txt], capture_output=True,
                           text=True)
        check('snapshot %s builds' % name, p.returncode == 0, p.stderr)
    corrupt = os.path.join(tmp, 'corrupt.snap')
    with open(snaps['A'], 'rb') as f:
        b = bytearray(f.read())
    b[len(b) // 3] ^= 0x55
    with open(corrupt, 'wb') as f:
        f.write(b)
    pcap = os.path.join(tmp, 'loop.pcap')
    write_pcap(pcap, frames(2048))

    db = os.path.join(tmp, 'live.snap')
    shutil.copy(snaps['A'], db)

    def swap(src):
        shutil.copy(src, db + '.tmp')
        os.rename(db + '.tmp', db)  # atomic: what `rirdb fetch` does

    out = os.path.join(tmp, 'out.jsonl')
    proc = subprocess.Popen(
        [RIRMETER, '--no-huge', '--no-pci', '--no-shconf', '--no-telemetry', '-m', '512',
         '--log-level=error',
         '--lcores', '0@0,1@1', '--vdev', 'net_pcap0,rx_pcap=%s,infinite_rx=1' % pcap, '--',
         '--db', db, '--json', out, '--interval', '0.25', '--duration', '120', '--quiet',
         '--mbufs', '8192'],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    said = []  # stderr's lines so far

    def read_stderr():
        for line in proc.stderr:
            said.append(line)
    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()

    def await_line(word, before):
        """Until stderr has more lines with word than before (a reload
        takes up to a second on a loaded machine: a swap before it ends
        would be taken together with the next one)."""
        end = time.monotonic() + 30
        while sum(word in l for l in said) <= before and time.monotonic() < end:
            time.sleep(0.05)

    time.sleep(0.8)
    for step in ['B', 'A', 'B', 'corrupt', 'A', 'hup-B']:
        word = 'reload refused' if step == 'corrupt' else 'reloaded'
        before = sum(word in l for l in said)
        if step == 'corrupt':
            swap(corrupt)
        elif step == 'hup-B':
            shutil.copy(snaps['B'], db)  # in place, then a signal
            proc.send_signal(signal.SIGHUP)
        else:
            swap(snaps[step])
        await_line(word, before)
        time.sleep(0.3)  # traffic counted under each snapshot
    proc.send_signal(signal.SIGINT)  # stops as at the end of --duration
    proc.wait(timeout=60)
    reader.join(timeout=10)
    se = ''.join(said)
    check('runs to the end with balanced counts (exit 0)', proc.returncode == 0, se)
    check('the corrupt file is refused and the old snapshot keeps serving',
          se.count('reload refused') >= 1, se)
    check('every good swap is taken', se.count('reloaded') >= 5, se)

    lines = [json.loads(l) for l in open(out)]
    totals = [l for l in lines if l['interval'] == 'total']
    rir = collections.defaultdict(set)
    for l in totals:
        if l['scope'] == 'rir' and l['packets']:
            rir[l['snapshot']].add(l['key'])
    kinds = sorted(tuple(sorted(v)) for v in rir.values())
    check('each snapshot attributes to its own registry only, both appear',
          ('arin',) in kinds and ('ripencc',) in kinds and all(len(k) == 1 for k in kinds),
          dict(rir))

    def health(key, which):
        return sum(l['packets'] for l in which if l['scope'] == 'health' and l['key'] == key)
    received = health('received', totals)
    port_rx = sum(l['packets'] for l in totals if l['key'] == 'port.0.rx')
    check('nothing lost or counted twice: received over all snapshots = port rx',
          received == port_rx and received > 10000, '%d vs %d' % (received, port_rx))
    check('received = attributed (all frames are IP here)',
          received == health('attributed', totals), received)
    intervals = [l for l in lines if l['interval'] != 'total']
    check('interval lines add up to the totals across swaps',
          health('received', intervals) == received,
          '%d vs %d' % (health('received', intervals), received))
    check('reloads are counted as health lines',
          health('reload.ok', totals) >= 5 and health('reload.failed', totals) >= 1,
          [l for l in totals if l['key'].startswith('reload.')])
    return finish()


if __name__ == '__main__':
    sys.exit(main())
