#!/usr/bin/env bash
# Instructions per packet of the worker lcore, from valgrind's callgrind:
# stable on a noisy machine, unlike times.
#
#   perf/dataplane_instructions.sh [SECONDS]
#   SNAP=FILE perf/dataplane_instructions.sh     # another snapshot: one with
#                                                # a located layer (rirdb build
#                                                # ... location.db), say
#
# Counts only inside rm_worker_main (--toggle-collect), which includes the
# PMD's receive path, for rirmeter --io-only (the I/O cost) and for full
# attribution, on the benchmark captures replayed by net_pcap infinite_rx.
# The difference is what parsing, two lookups and counting cost per frame.
set -eu
secs=${1:-6}
build=${BUILD:-build}
snap=${SNAP:-$build/rirmeter.snap}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f "$snap" ] || "$build"/rirdb/rirdb build -q -o "$snap" data/rir/delegated-* data/iana/*.csv
printf '%-7s %14s %14s %10s\n' shape "io-only Ir/pkt" "attrib Ir/pkt" "added"
for shape in v4-64 v6-78 imix; do
	python3 scripts/gen-pcap.py --shape "$shape" --packets 4096 --seed 1 --out "$tmp/$shape.pcap"
	per=()
	for mode in --io-only ""; do
		out=$(valgrind --tool=callgrind --toggle-collect=rm_worker_main \
			--callgrind-out-file="$tmp/cg.out" "$build"/dataplane/dpdk/rirmeter --no-huge \
			--no-pci --no-shconf --no-telemetry -m 1024 --log-level=error --lcores 0@0,1@1 \
			--vdev "net_pcap0,rx_pcap=$tmp/$shape.pcap,infinite_rx=1" -- --db "$snap" \
			--quiet --interval 0 --duration "$secs" --mbufs 16384 $mode 2>&1)
		pk=$(echo "$out" | sed -n 's/^rirmeter: \([0-9]*\) packets.*/\1/p')
		ir=$(echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
		per+=("$(awk -v i="$ir" -v p="$pk" 'BEGIN {printf "%.0f", i / p}')")
	done
	printf '%-7s %14s %14s %10s\n' "$shape" "${per[0]}" "${per[1]}" $((per[1] - per[0]))
done
