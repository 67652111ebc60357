#!/bin/sh
# rpsl_bench.sh - how fast `rirdb build` reads RPSL whois dumps, and its
# peak memory with a large one (issue: >= 150 MB/s per core, <= 1 GB).
#
#   perf/rpsl_bench.sh [BUILD] [OBJECTS] [ROUNDS]
#
# Generates (scripts/gen-rpsl.py, once, in $BUILD/rpsl-bench) a RIPE-shaped
# extended file of 100,000 /21 allocations and an inetnum dump of OBJECTS
# objects (default 5,000,000: each allocation's own object and customers'
# assignments inside, ~330 bytes each), plain and gzip'd, and times, rounds
# interleaved: the build without the dump, with the plain dump, with the
# gzip'd one.  The dump's rate is its (uncompressed) bytes over the time it
# adds to the build; medians of ROUNDS (default 5).  Peak RSS from
# /usr/bin/time.  The files are read once before timing (page cache).
set -eu
build=${1:-build}
objects=${2:-5000000}
rounds=${3:-5}
rirdb=$build/rirdb/rirdb
dir=$build/rpsl-bench
here=$(dirname "$0")
if [ ! -s "$dir/ripe.db.inetnum" ] || [ "$(cat "$dir/objects" 2>/dev/null)" != "$objects" ]; then
	rm -rf "$dir"
	python3 "$here/../scripts/gen-rpsl.py" --dir "$dir" --allocations 100000 \
		--objects "$objects" >/dev/null
	gzip -1 -k "$dir/ripe.db.inetnum"
	echo "$objects" >"$dir/objects"
fi
stats=$dir/delegated-ripencc-extended
orgs=$dir/ripe.db.organisation
bytes=$(stat -c %s "$dir/ripe.db.inetnum")
cat "$dir"/* >/dev/null

run() { # label, files...: "seconds peak_kib"
	/usr/bin/time -f "%e %M" -o "$dir/time" "$rirdb" build -q -o "$dir/out.snap" "$@"
	cat "$dir/time"
}
: >"$dir/results"
i=0
while [ $i -lt "$rounds" ]; do
	echo "base $(run "$stats" "$orgs")" >>"$dir/results"
	echo "plain $(run "$stats" "$orgs" "$dir/ripe.db.inetnum")" >>"$dir/results"
	echo "gzip $(run "$stats" "$orgs" "$dir/ripe.db.inetnum.gz")" >>"$dir/results"
	i=$((i + 1))
done
python3 - "$dir/results" "$bytes" "$objects" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
nbytes, objects = int(sys.argv[2]), int(sys.argv[3])
t = {k: statistics.median(float(r[1]) for r in rows if r[0] == k) for k in ('base', 'plain', 'gzip')}
rss = {k: max(int(r[2]) for r in rows if r[0] == k) for k in ('base', 'plain', 'gzip')}
print('dump: %d objects, %.0f MB uncompressed' % (objects, nbytes / 1e6))
print('%-6s %8s %12s %10s' % ('build', 'median s', 'dump MB/s', 'peak MiB'))
for k in ('base', 'plain', 'gzip'):
    rate = '' if k == 'base' else '%.0f' % (nbytes / 1e6 / max(1e-9, t[k] - t['base']))
    print('%-6s %8.2f %12s %10.0f' % (k, t[k], rate, rss[k] / 1024))
EOF
