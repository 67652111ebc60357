"""Shared by the Python tests: TAP output and the fixtures they all build.

Each test prints numbered `ok` / `not ok` lines with the details of a
failure as `#` comments, counts a skip as a skip (never as a pass) and
ends with its plan; `finish()` returns the exit status.  The fixtures are
the bundled registry data and the EAL arguments that let DPDK run on a
shared machine without huge pages or PCI devices.
"""
import glob
import os
import subprocess
import sys

EAL = ['--no-huge', '--no-pci', '--no-shconf', '-m', '256', '--log-level=error']

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
