#!/usr/bin/env python3
"""rirdb fetch against a local HTTP server on 127.0.0.1 (TAP).

    fetch.py RIRDB DATA_DIR

The server serves fixture copies of the bundled registry files under
behaviours chosen by the first path component: ok, badmd5 (a wrong
published checksum), trunc (a body cut short), missing (a 404), stall (the
body stops arriving).  Every failure must be reported by source, exit 1,
and leave the snapshot in use exactly as it was.

Hostile servers, for afrinic's file: loop (redirects to itself), endless
(a body without a length that never ends), huge (claims a terabyte), toftp
(redirects the http:// the operator named to ftp://, a scheme not named;
a listener counts whether anything connected), slow (a body trickling in
just fast enough to dodge the stall timeout), and, from an https server
with a certificate of its own (openssl; --ca-file), downgrade (redirects
to http:// on the plain server, which must never be asked).  Each must fail within its
limit (5 redirects, --max-size, --max-time), without retrying what a retry
would meet again, and replace nothing.

--names adds the holder-name sources (gzip RPSL dumps, asn.txt, NIC.br's
file), each optional: served with a published .md5 for AFRINIC, APNIC and
LACNIC and none for RIPE's dumps (taken unchecked, with a notice); in mode
namesbad NIC.br's file is missing and AFRINIC's dump does not match its
.md5, and both must be named while the others are still fetched, the
snapshot still replaced, their previous copies kept, and the exit status 1.
"""
import gzip
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import socket
import ssl
import tempfile
import threading
import time

from tap import check, finish

RIRDB, DATA = sys.argv[1:3]


def fixtures(root):
    rir = os.path.join(DATA, 'rir')
    copies = {
        'delegated-afrinic-extended-latest': os.path.join(rir, 'delegated-afrinic-extended-20230323'),
        'delegated-apnic-extended-latest': os.path.join(rir, 'delegated-apnic-20140701'),
        'delegated-lacnic-extended-latest': os.path.join(rir, 'delegated-lacnic-20140627'),
        'delegated-ripencc-extended-latest': os.path.join(rir, 'delegated-ripencc-20140630'),
        'ipv4-address-space.csv': os.path.join(DATA, 'iana', 'ipv4-address-space.csv'),
        'ipv6-unicast-address-assignments.csv':
            os.path.join(DATA, 'iana', 'ipv6-unicast-address-assignments.csv'),
    }
    for name, src in copies.items():
        shutil.copy(src, os.path.join(root, name))
    with open(os.path.join(root, 'delegated-arin-extended-latest'), 'w') as f:
        f.write('2.3|arin|20140701|1|19830101|20140701|-0500\n'
                'arin|*|ipv4|*|1|summary\n'
                'arin|US|ipv4|8.0.0.0|16777216|19921201|allocated|a1b2c3\n')
    for i, name in enumerate(sorted(os.listdir(root))):
        if not name.startswith('delegated-'):
            continue
        digest = hashlib.md5(open(os.path.join(root, name), 'rb').read()).hexdigest()
        with open(os.path.join(root, name + '.md5'), 'w') as f:
            # Both layouts the registries use.
            f.write('MD5 (%s) = %s\n' % (name, digest) if i % 2 else '%s  %s\n' % (digest, name))


AFRINIC = 'delegated-afrinic-extended-latest'
HITS = {}           # (mode, name) -> requests seen

# --names: file -> source name, and whether a .md5 is published beside it.
NAME_FILES = {
    'ripe.db.inetnum.gz': ('ripe-inetnum', False),
    'ripe.db.inet6num.gz': ('ripe-inet6num', False),
    'ripe.db.aut-num.gz': ('ripe-aut-num', False),
    'ripe.db.organisation.gz': ('ripe-organisation', False),
    'apnic.db.inetnum.gz': ('apnic-inetnum', True),
    'apnic.db.inet6num.gz': ('apnic-inet6num', True),
    'apnic.db.aut-num.gz': ('apnic-aut-num', True),
    'apnic.db.organisation.gz': ('apnic-organisation', True),
    'afrinic.db.gz': ('afrinic-db', True),
    'lacnic.db.gz': ('lacnic-db', True),
    'asn.txt': ('asnames', False),
    'nicbr-asn-blk-latest.txt': ('nicbr', False),
}


def name_fixtures(root):
    for name, (_, md5) in NAME_FILES.items():
        if name == 'asn.txt':
            # AS3741 is in the AFRINIC extended file served, with a holder id.
            body = b'3741 IS - Example AS name from asn.txt, ZA\n'
        elif name.startswith('nicbr'):
            body = b'AS28571|Example Rede Ltda|00.000.000/0001-00|200.160.0.0/20\n'
        else:
            src = name.split('.')[0].upper()
            body = gzip.compress(('organisation: ORG-EX1-%s\norg-name: Example of %s\n'
                                  'source: %s\n\n' % (src, name, src)).encode())
        with open(os.path.join(root, name), 'wb') as f:
            f.write(body)
        if md5:
            with open(os.path.join(root, name + '.md5'), 'w') as f:
                f.write('%s  %s\n' % (hashlib.md5(body).hexdigest(), name))


def handler_for(root, ftp_port, plain=None):
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def endless(self, length=None, chunk=65536, pause=0.0):
            self.send_response(200)
            if length is not None:
                self.send_header('Content-Length', str(length))
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b'x' * chunk)
                    if pause:
                        self.wfile.flush()
                        time.sleep(pause)
            except OSError:
                pass
            self.close_connection = True

        def hostile(self, mode, name):
            """True when afrinic's file got a hostile answer."""
            if name != AFRINIC:
                return False
            if mode == 'loop':
                self.send_response(302)
                self.send_header('Location', self.path)
                self.send_header('Content-Length', '0')
                self.end_headers()
            elif mode == 'downgrade':
                self.send_response(302)
                self.send_header('Location', '%s/fromtls/%s' % (plain, name))
                self.send_header('Content-Length', '0')
                self.end_headers()
            elif mode == 'toftp':
                self.send_response(302)
                self.send_header('Location', 'ftp://127.0.0.1:%d/%s' % (ftp_port, name))
                self.send_header('Content-Length', '0')
                self.end_headers()
            elif mode == 'endless':
                self.endless()
            elif mode == 'huge':
                self.endless(length=10 ** 12)
            elif mode == 'slow':
                self.endless(length=10 ** 6, chunk=1, pause=0.3)
            else:
                return False
            return True

        def do_GET(self):
            parts = self.path.strip('/').split('/', 1)
            mode, name = (parts + [''])[:2]
            HITS[(mode, name)] = HITS.get((mode, name), 0) + 1
            if self.hostile(mode, name):
                return
            path = os.path.join(root, os.path.basename(name))
            if not os.path.isfile(path) or (mode == 'missing' and 'arin' in name) or \
                    (mode == 'namesbad' and name == 'nicbr-asn-blk-latest.txt'):
                self.send_error(404)
                return
            body = open(path, 'rb').read()
            if mode == 'shrink' and name == 'delegated-lacnic-extended-latest':
                # Cut short once; the resumed request then finds the file
                # changed under it (416), and must start over.
                if HITS[(mode, name)] == 1:
                    self.send_response(200)
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[:len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if self.headers.get('Range'):
                    self.send_response(416)
                    self.send_header('Content-Range', 'bytes */%d' % len(body))
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
            if mode == 'namesunbuildable' and name == 'asn.txt':
                body = b'this is not an AS names file\n'
            if mode == 'namesbad' and name == 'afrinic.db.gz':
                body = gzip.compress(b'organisation: ORG-CHANGED\n')  # not what the .md5 says
            if mode == 'badmd5' and name == 'delegated-afrinic-extended-latest.md5':
                body = b'0123456789abcdef0123456789abcdef  ' + name.encode() + b'\n'
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            if mode == 'trunc' and name == 'delegated-lacnic-extended-latest':
                self.wfile.write(body[:len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if mode == 'stall' and name == 'delegated-apnic-extended-latest':
                self.wfile.write(body[:100])
                self.wfile.flush()
                time.sleep(20)
                return
            self.wfile.write(body)
    return H


def check_hostile(fetch, snap, work, ftp):
    before = open(snap, 'rb').read()
    data = os.path.join(work, AFRINIC)
    data_before = open(data, 'rb').read()
    cases = [('loop', [], 'afrinic: more than 5 redirects', 10),
             ('endless', ['--max-size', '8000000'], 'afrinic: larger than --max-size (8000000 bytes)', 20),
             ('huge', [], 'afrinic: larger than --max-size (536870912 bytes)', 10),
             ('toftp', [], 'afrinic: scheme refused (allowed: https,http', 10),
             ('slow', ['--max-time', '4'], 'afrinic: --max-time of 4 s reached', 10)]
    for mode, extra, msg, limit in cases:
        t0 = time.time()
        p = fetch(mode, *extra)
        took = time.time() - t0
        check('%s: exit 1 within %d s, afrinic named (%s)' % (mode, limit, msg),
              p.returncode == 1 and msg in p.stderr and 'left as it was' in p.stderr
              and took < limit, (p.returncode, took, p.stderr))
        check('%s: the snapshot and the data files are untouched' % mode,
              open(snap, 'rb').read() == before and open(data, 'rb').read() == data_before)
    # --retries 1: a retry would have doubled these; 6 = the request and 5 redirects
    hits = HITS.get(('loop', AFRINIC), 0)
    check('loop: at most 6 requests, no retry', 0 < hits <= 6, hits)
    check('toftp: asked once, not retried', HITS.get(('toftp', AFRINIC)) == 1,
          HITS.get(('toftp', AFRINIC)))
    try:
        c, _ = ftp.accept()
        c.close()
        check('toftp: nothing connected to the ftp:// the redirect named', False, 'connected')
    except (BlockingIOError, socket.timeout):
        check('toftp: nothing connected to the ftp:// the redirect named', True)


def check_https(tmp, serve, ftp, base, snap, work, special):
    """https with a CA of the test's own: never downgraded to http."""
    cert, key = os.path.join(tmp, 'cert.pem'), os.path.join(tmp, 'key.pem')
    p = subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
                        '-keyout', key, '-out', cert], capture_output=True, text=True)
    if p.returncode:
        check('a test certificate (openssl req)', False, p.stderr)
        return
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                          handler_for(serve, ftp.getsockname()[1], base))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tls = 'https://127.0.0.1:%d' % srv.server_address[1]

    def fetch(mode, *extra):
        args = [RIRDB, 'fetch', '--dir', work, '--base-url', tls + '/' + mode, '--timeout', '2',
                '--retries', '1', '--retry-delay', '0.1', '--ca-file', cert]
        for s in special:
            args += ['--with', s]
        return subprocess.run(args + list(extra), capture_output=True, text=True, timeout=120)

    before = open(snap, 'rb').read()
    p = fetch('downgrade')
    check('downgrade: an https source redirected to http:// fails, afrinic named',
          p.returncode == 1 and 'afrinic: scheme refused (allowed: https;' in p.stderr
          and 'left as it was' in p.stderr, p.stderr)
    check('downgrade: the http:// server was never asked', ('fromtls', AFRINIC) not in HITS,
          HITS.get(('fromtls', AFRINIC)))
    check('downgrade: the snapshot in use is untouched', open(snap, 'rb').read() == before)
    p = fetch('ok')
    check('the same https server without the redirect: exit 0 (so https itself works)',
          p.returncode == 0, p.stderr)
    srv.shutdown()


def check_names(fetch, work, serve, snap):
    p = fetch('ok', '--names')
    check('--names from a good server: exit 0', p.returncode == 0, p.stderr)
    same = [n for n in NAME_FILES if os.path.isfile(os.path.join(work, n)) and
            open(os.path.join(work, n), 'rb').read() == open(os.path.join(serve, n), 'rb').read()]
    check('--names: every name source saved as published (the dumps still gzip)',
          len(same) == len(NAME_FILES) and
          open(os.path.join(work, 'afrinic.db.gz'), 'rb').read(2) == b'\x1f\x8b',
          sorted(set(NAME_FILES) - set(same)))
    check('--names: the published .md5 files kept beside their dumps',
          all(os.path.isfile(os.path.join(work, n + '.md5')) == md5
              for n, (_, md5) in NAME_FILES.items()), sorted(os.listdir(work)))
    unchecked = [src for n, (src, md5) in NAME_FILES.items()
                 if '%s: ok, unchecked (no %s.md5 published)' % (src, n) in p.stderr]
    check('--names: a dump without a published .md5 is taken unchecked, and said so',
          sorted(unchecked) == sorted(src for n, (src, md5) in NAME_FILES.items()
                                      if not md5 and n.endswith('.gz')), p.stderr)
    check('--names: asn.txt and NIC.br\'s file: no .md5 asked for',
          ('ok', 'asn.txt.md5') not in HITS and ('ok', 'nicbr-asn-blk-latest.txt.md5') not in HITS,
          [k for k in HITS if k[1].endswith('.md5')])
    check('--names: no partial files are left',
          not [f for f in os.listdir(work) if f.endswith('.part')], os.listdir(work))
    look = subprocess.run([RIRDB, 'lookup', '-d', snap, '--format', 'json', 'AS3741'],
                          capture_output=True, text=True)
    row = json.loads(look.stdout.splitlines()[0]) if look.stdout else {}
    check('--names: the snapshot fetch builds names holders from the name sources',
          row.get('holder') == 'Example AS name from asn.txt' and
          row.get('holder_source') == 'asname', look.stdout + look.stderr)

    before = {n: open(os.path.join(work, n), 'rb').read() for n in NAME_FILES}
    snap_before = os.stat(snap).st_ino  # replaced by a rename: a new inode
    p = fetch('namesbad', '--names')
    check('--names, a missing source and a checksum mismatch: exit 1, both named',
          p.returncode == 1 and 'nicbr: HTTP 404' in p.stderr and
          'afrinic-db: MD5 mismatch' in p.stderr and '2 name sources failed' in p.stderr,
          p.stderr)
    check('--names: the other sources are still fetched',
          all('%s: ok' % src in p.stderr for n, (src, _) in NAME_FILES.items()
              if src not in ('nicbr', 'afrinic-db')), p.stderr)
    check('--names: a failing name source does not stop the snapshot',
          'updated' in p.stderr and 'left as it was' not in p.stderr and
          os.stat(snap).st_ino != snap_before, p.stderr)
    check('--names: the failed sources keep their previous copies',
          all(open(os.path.join(work, n), 'rb').read() == before[n]
              for n in ('afrinic.db.gz', 'nicbr-asn-blk-latest.txt')) and
          not [f for f in os.listdir(work) if f.endswith('.part')], sorted(os.listdir(work)))
    before = {n: open(os.path.join(work, n), 'rb').read() for n in NAME_FILES}
    p = fetch('namesunbuildable', '--names')
    check('--names, a fetched dump that does not build: the snapshot without names, exit 1',
          p.returncode == 1 and 'built without them' in p.stderr and 'updated' in p.stderr
          and 'nothing replaced' not in p.stderr, p.stderr)
    check('--names, a fetched dump that does not build: the previous copies kept',
          all(open(os.path.join(work, n), 'rb').read() == before[n] for n in NAME_FILES) and
          not [f for f in os.listdir(work) if f.endswith('.part')], sorted(os.listdir(work)))
    asked = HITS.get(('namesbad', 'afrinic.db.gz'))
    p = fetch('namesbad')
    check('without --names the name sources are not asked for',
          p.returncode == 0 and HITS.get(('namesbad', 'afrinic.db.gz')) == asked, p.stderr)


def main():
    tmp = tempfile.mkdtemp(prefix='rirdb-fetch-')
    serve = os.path.join(tmp, 'serve')
    os.mkdir(serve)
    fixtures(serve)
    name_fixtures(serve)
    ftp = socket.socket()
    ftp.bind(('127.0.0.1', 0))
    ftp.listen(8)
    ftp.settimeout(0)
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                          handler_for(serve, ftp.getsockname()[1]))
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = 'http://127.0.0.1:%d' % srv.server_address[1]
    work = os.path.join(tmp, 'var')
    snap = os.path.join(work, 'rirmeter.snap')
    special = [os.path.join(DATA, 'iana', f) for f in sorted(os.listdir(os.path.join(DATA, 'iana')))
               if 'special' in f]

    def fetch(mode, *extra):
        args = [RIRDB, 'fetch', '--dir', work, '--base-url', base + '/' + mode, '--timeout', '2',
                '--retries', '1', '--retry-delay', '0.1']
        for s in special:
            args += ['--with', s]
        return subprocess.run(args + list(extra), capture_output=True, text=True, timeout=120)

    p = fetch('ok')
    check('fetch from a good server: exit 0', p.returncode == 0, p.stderr)
    check('the snapshot is in place', os.path.isfile(snap), os.listdir(work) if os.path.isdir(work) else '')
    info = subprocess.run([RIRDB, 'info', '-d', snap], capture_output=True, text=True)
    check('the new snapshot validates and records the fetched files by their final names',
          info.returncode == 0 and os.path.join(work, 'delegated-arin-extended-latest') in info.stdout
          and '.part' not in info.stdout, info.stdout + info.stderr)
    check('no partial files are left', not [f for f in os.listdir(work) if f.endswith('.part')],
          os.listdir(work))
    p = fetch('ok')
    check('a second fetch keeps the previous good copies',
          p.returncode == 0 and os.path.isfile(os.path.join(work, 'delegated-ripencc-extended-latest.prev')),
          p.stderr)

    # Symlinks planted at the download and snapshot temporary names (a
    # local user who can write the directory, or a stale link) are removed,
    # never written through: their target is unchanged.
    victim = os.path.join(tmp, 'victim')
    with open(victim, 'w') as f:
        f.write('precious\n')
    planted = [os.path.join(work, n) for n in
               ('delegated-ripencc-extended-latest.part', 'delegated-ripencc-extended-latest.md5.part',
                'ipv4-address-space.csv.part', 'rirmeter.snap.new')]
    for link in planted:
        os.symlink(victim, link)
    p = fetch('ok')
    check('fetch with symlinks planted at .part and .new names: exit 0', p.returncode == 0, p.stderr)
    check('the planted links\' target is unchanged', open(victim).read() == 'precious\n')
    check('no planted link is left in place of a file',
          not [l for l in planted + [snap] if os.path.islink(l)], os.listdir(work))

    before = open(snap, 'rb').read()
    cases = [('badmd5', 'afrinic: MD5 mismatch'),
             ('trunc', 'lacnic:'),
             ('missing', 'arin: HTTP 404'),
             ('stall', 'apnic:')]
    for mode, msg in cases:
        t0 = time.time()
        p = fetch(mode)
        took = time.time() - t0
        check('%s: exit 1, the source named (%s)' % (mode, msg),
              p.returncode == 1 and msg in p.stderr and 'left as it was' in p.stderr, p.stderr)
        check('%s: the snapshot in use is untouched' % mode, open(snap, 'rb').read() == before)
        if mode == 'stall':
            check('stall: gives up after the timeouts, not never', took < 30, took)
    p = fetch('shrink', '--retries', '2')
    check('shrink: a resumed download answered 416 starts over: exit 0',
          p.returncode == 0 and HITS.get(('shrink', 'delegated-lacnic-extended-latest')) == 3,
          (p.stderr, HITS.get(('shrink', 'delegated-lacnic-extended-latest'))))
    check_names(fetch, work, serve, snap)
    check_hostile(fetch, snap, work, ftp)
    check_https(tmp, serve, ftp, base, snap, work, special)
    p = subprocess.run([RIRDB, 'fetch', '--dir', work, '--url', 'bogus=http://x/'],
                       capture_output=True, text=True)
    check('unknown source in --url: exit 2 with the list of names',
          p.returncode == 2 and 'afrinic, apnic' in p.stderr, p.stderr)
    srv.shutdown()
    return finish()


if __name__ == '__main__':
    sys.exit(main())
