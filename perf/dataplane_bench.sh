#!/usr/bin/env bash
# Packets per second of rirmeter per worker core, next to the I/O ceiling.
#
#   perf/dataplane_bench.sh [SECONDS] [ROUNDS]
#
# Source: net_pcap with infinite_rx=1, which preloads a capture (4096
# frames, addresses drawn from the bundled registry data) and replays it
# from memory.  For each shape (64-byte IPv4, 78-byte IPv6, IMIX) and for
# one and two workers, it alternates two runs of the same binary on the
# same vdev: --io-only (receive and free: the I/O ceiling, what
# dpdk-testpmd's rxonly mode measures; Debian 12 ships no testpmd) and the
# full attribution of both addresses.  Medians over ROUNDS, ratios within
# the same round.  Two workers on this 2-core machine share a core with the
# mostly idle main lcore.
set -eu
secs=${1:-3}
rounds=${2:-3}
build=${BUILD:-build}
snap=$build/rirmeter.snap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f "$snap" ] || "$build"/loaders/rirdb build -q -o "$snap" data/rir/delegated-* data/iana/*.csv

run() { # shape workers mode
	local vdev="net_pcap0,rx_pcap=$tmp/$1.pcap,infinite_rx=1" lcores="0@0,1@1"
	if [ "$2" = 2 ]; then
		vdev="net_pcap0,rx_pcap=$tmp/$1.pcap,rx_pcap=$tmp/$1.b.pcap,infinite_rx=1"
		lcores="0@0,1@1,2@0"
	fi
	"$build"/dataplane/rirmeter --no-huge --no-pci --no-shconf -m 1024 --log-level=error \
		--lcores "$lcores" --vdev "$vdev" -- --db "$snap" --duration "$secs" --quiet \
		--mbufs 32768 $3 2>&1 | sed -n 's/.*: \([0-9.]*\) Mpps.*/\1/p'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-7s %7s %12s %12s %8s\n' shape workers "io-only Mpps" "attrib Mpps" ratio
for shape in v4-64 v6-78 imix; do
	python3 scripts/gen-pcap.py --shape "$shape" --packets 4096 --seed 1 --out "$tmp/$shape.pcap"
	python3 scripts/gen-pcap.py --shape "$shape" --packets 4096 --seed 2 --out "$tmp/$shape.b.pcap"
	for workers in 1 2; do
		: >"$tmp/io" ; : >"$tmp/at" ; : >"$tmp/ratio"
		for _ in $(seq "$rounds"); do
			io=$(run "$shape" "$workers" --io-only)
			at=$(run "$shape" "$workers" "")
			echo "$io" >>"$tmp/io"
			echo "$at" >>"$tmp/at"
			awk -v a="$at" -v b="$io" 'BEGIN {print a / b}' >>"$tmp/ratio"
		done
		printf '%-7s %7s %12.2f %12.2f %7.2fx\n' "$shape" "$workers" "$(median <"$tmp/io")" \
			"$(median <"$tmp/at")" "$(median <"$tmp/ratio")"
	done
done
