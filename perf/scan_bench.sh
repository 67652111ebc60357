#!/bin/bash
# scan_bench.sh - rirdb scan (one thread, and one per CPU) against grep -oE
# and ipv6logstats (Debian ipv6calc), same file, same run, interleaved
# rounds; medians of MB/s.
#
#   perf/scan_bench.sh [MIB] [ROUNDS]      (default 1024 MiB, 3 rounds)
#
# The log comes from scripts/gen-weblog.py (combined format, addresses from
# the bundled registry files).  Each contender reads the file from the page
# cache, which is touched (cat > /dev/null) right before each pass.  grep
# runs on the first 64 MiB only: it is ~100x slower.  ipv6logstats refuses
# to run as root, so it runs as nobody.  Output: one line per contender and
# round, then the medians and ratios.
set -euo pipefail
mib=${1:-1024} rounds=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
work=$(mktemp -d /tmp/rirmeter-scanbench.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
command -v ipv6logstats >/dev/null || { echo "apt-get install ipv6calc" >&2; exit 2; }
[ -s "$build/rirmeter.snap" ] || "$build/rirdb/rirdb" build -q -o "$build/rirmeter.snap" \
	"$root"/data/rir/delegated-* "$root"/data/iana/*.csv
python3 "$root/scripts/gen-weblog.py" --out "$work/web.log" --mib "$mib"
head -c $((64 << 20)) "$work/web.log" >"$work/web64.log"
chmod 644 "$work"/*.log
bytes=$(stat -c %s "$work/web.log")
bytes64=$(stat -c %s "$work/web64.log")
re='([0-9]{1,3}\.){3}[0-9]{1,3}|([0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}'

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
mbps() { echo "scale=1; $1 / 1000000 / $2" | bc -l; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
echo "# $(date -u +%Y-%m-%d) $cpu; $((bytes >> 20)) MiB log, $rounds rounds"
for r in $(seq "$rounds"); do
	cat "$work/web.log" >/dev/null
	t=$(secs "$build/rirdb/rirdb" scan -d "$build/rirmeter.snap" --threads 1 --quiet --json /dev/null "$work/web.log")
	echo "round $r rirdb-scan $(mbps "$bytes" "$t") MB/s"
	cat "$work/web.log" >/dev/null
	t=$(secs "$build/rirdb/rirdb" scan -d "$build/rirmeter.snap" --threads "$(nproc)" --quiet --json /dev/null "$work/web.log")
	echo "round $r rirdb-scan-all-cpus $(mbps "$bytes" "$t") MB/s"
	cat "$work/web.log" >/dev/null
	t=$(secs su nobody -s /bin/sh -c "ipv6logstats -q < '$work/web.log'")
	echo "round $r ipv6logstats $(mbps "$bytes" "$t") MB/s"
	cat "$work/web64.log" >/dev/null
	# into a pipe: GNU grep stops at the first match when writing to /dev/null
	t=$(secs sh -c "grep -oE '$re' '$work/web64.log' | wc -l")
	echo "round $r grep-oE $(mbps "$bytes64" "$t") MB/s"
done | tee "$work/rounds"
median() { grep " $1 " "$work/rounds" | awk '{print $4}' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
s=$(median rirdb-scan) a=$(median rirdb-scan-all-cpus) i=$(median ipv6logstats) g=$(median grep-oE)
echo "median MB/s: rirdb scan $s (1 thread), $a ($(nproc) threads), ipv6logstats $i, grep -oE $g"
echo "ratios: rirdb scan / ipv6logstats $(echo "scale=1; $s / $i" | bc -l)x, / grep -oE $(echo "scale=0; $s / $g" | bc -l)x"
