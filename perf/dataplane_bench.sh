#!/usr/bin/env bash
# Packets per second of rirmeter per worker core, next to the I/O ceiling.
#
#   perf/dataplane_bench.sh [SECONDS] [ROUNDS]      (SHAPES="v6-78" for one shape)
#
# Snapshot: $BUILD/rirmeter.snap, built from the bundled data when missing;
# LOCATED=0 or LOCATED=1 builds one for the run instead, without or with
# the located layer (Debian's location.db), which costs IPv6 frames about a
# third of their rate (perf/README.md).  The first line says which.
#
# Source: net_pcap with infinite_rx=1, which preloads a capture (4096
# frames, addresses drawn from the bundled registry data) and replays it
# from memory.  For each shape (64-byte IPv4, 78-byte IPv6, IMIX) and for
# one and two workers, each round runs, on the same vdev and lcores:
# dpdk-testpmd in io-forwarding mode (the I/O ceiling; net_pcap without a
# TX file drops what is sent; package dpdk-dev), rirmeter --io-only
# (receive and free, nothing else), and rirmeter attributing both addresses
# of every frame.  testpmd's rate is the median of its per-second Rx-pps
# after the first second; rirmeter's is packets over its run time.  Medians
# over ROUNDS, ratios within each round.  Two workers on this 2-core
# machine share a core with the mostly idle main lcore.
set -eu
secs=${1:-3}
rounds=${2:-3}
build=${BUILD:-build}
snap=$build/rirmeter.snap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
locdb=/usr/share/libloc-location/location.db
case "${LOCATED:-}" in
0) snap=$tmp/rirmeter.snap
   "$build"/rirdb/rirdb build -q -o "$snap" data/rir/delegated-* data/iana/*.csv 2>/dev/null ;;
1) [ -f "$locdb" ] || { echo "LOCATED=1 needs $locdb (libloc-database)" >&2; exit 1; }
   snap=$tmp/rirmeter.snap
   "$build"/rirdb/rirdb build -q -o "$snap" data/rir/delegated-* data/iana/*.csv "$locdb" 2>/dev/null ;;
*) [ -f "$snap" ] || "$build"/rirdb/rirdb build -q -o "$snap" data/rir/delegated-* data/iana/*.csv ;;
esac
layer=no
"$build"/rirdb/rirdb info -d "$snap" | grep -q '^located ' && layer=yes
echo "snapshot $snap, located layer: $layer"

run() { # shape workers mode
	local vdev="net_pcap0,rx_pcap=$tmp/$1.pcap,infinite_rx=1" lcores="0@0,1@1"
	if [ "$2" = 2 ]; then
		vdev="net_pcap0,rx_pcap=$tmp/$1.pcap,rx_pcap=$tmp/$1.b.pcap,infinite_rx=1"
		lcores="0@0,1@1,2@0"
	fi
	"$build"/dataplane/dpdk/rirmeter --no-huge --no-pci --no-shconf --no-telemetry -m 1024 --log-level=error \
		--lcores "$lcores" --vdev "$vdev" -- --db "$snap" --duration "$secs" --quiet \
		--mbufs 32768 $3 2>&1 | sed -n 's/.*: \([0-9.]*\) Mpps.*/\1/p'
}

testpmd() { # shape workers
	local vdev="net_pcap0,rx_pcap=$tmp/$1.pcap,infinite_rx=1" lcores="0@0,1@1"
	if [ "$2" = 2 ]; then
		vdev="net_pcap0,rx_pcap=$tmp/$1.pcap,rx_pcap=$tmp/$1.b.pcap,infinite_rx=1"
		lcores="0@0,1@1,2@0"
	fi
	# Its start-up (EAL memory on --no-huge pages) took 1 s on one machine
	# and 5 s on another: the timeout leaves 8 s for it, and only the
	# seconds that forwarded count (the first of them is partial).
	timeout -s INT $((secs + 8)) dpdk-testpmd --no-huge --no-pci --no-shconf --no-telemetry -m 1024 \
		--log-level=error --lcores "$lcores" --vdev "$vdev" -- --forward-mode=io \
		--auto-start --stats-period 1 --total-num-mbufs 32768 --nb-cores "$2" \
		--rxq "$2" --txq "$2" </dev/null 2>/dev/null |
		sed -n 's/.*Rx-pps: *\([1-9][0-9]*\).*/\1/p' | tail -n +2 | median |
		awk '{printf "%.3f\n", $1 / 1e6}'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

command -v dpdk-testpmd >/dev/null || { echo "needs dpdk-testpmd (apt-get install dpdk-dev)" >&2; exit 1; }
printf '%-7s %7s %13s %12s %12s %10s %10s\n' shape workers "testpmd io" "io-only" "attribute" \
	"/testpmd" "/io-only"

for shape in ${SHAPES:-v4-64 v6-78 imix}; do
	python3 scripts/gen-pcap.py --shape "$shape" --packets 4096 --seed 1 --out "$tmp/$shape.pcap"
	python3 scripts/gen-pcap.py --shape "$shape" --packets 4096 --seed 2 --out "$tmp/$shape.b.pcap"
	for workers in 1 2; do
		for f in tp io at rtp rio; do : >"$tmp/$f"; done
		for _ in $(seq "$rounds"); do
			tp=$(testpmd "$shape" "$workers")
			io=$(run "$shape" "$workers" --io-only)
			at=$(run "$shape" "$workers" "")
			echo "$tp" >>"$tmp/tp"
			echo "$io" >>"$tmp/io"
			echo "$at" >>"$tmp/at"
			awk -v a="$at" -v b="$tp" 'BEGIN {print a / b}' >>"$tmp/rtp"
			awk -v a="$at" -v b="$io" 'BEGIN {print a / b}' >>"$tmp/rio"
		done
		printf '%-7s %7s %13.2f %12.2f %12.2f %9.2fx %9.2fx\n' "$shape" "$workers" \
			"$(median <"$tmp/tp")" "$(median <"$tmp/io")" "$(median <"$tmp/at")" \
			"$(median <"$tmp/rtp")" "$(median <"$tmp/rio")"
	done
done
