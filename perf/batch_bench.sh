#!/usr/bin/env bash
# rirmeter -r on capture files: Mpps per core, next to the net_pcap path,
# and whole-process time next to Debian's pmacctd.
#
#   perf/batch_bench.sh [FRAMES] [ROUNDS]          (defaults 1000000 and 5)
#
# Captures: FRAMES frames of 64-byte IPv4 and of IMIX (scripts/gen-pcap.py
# --shape v4-64 / imix, addresses drawn from the bundled registry data),
# read once before timing so that they are in the page cache, in two
# kinds: "distinct", every frame drawn anew (2 x FRAMES addresses: most
# lookups miss the CPU caches), and "rep4096", 4096 frames repeated to
# FRAMES (the addresses of perf/dataplane_bench.sh's replay, whose lookups
# stay in cache).
#
# 1. Attribution rate.  Per shape and per round, in this order: the
#    net_pcap path (rirmeter with EAL, one worker, the file through
#    `--vdev net_pcap0,rx_pcap=FILE`; its own packets over run time), then
#    `rirmeter -r FILE` with 1 and 2 threads.  -r prints its rate over the
#    threads' wall-clock time and over their CPU time; "per core" is the
#    latter (packets / CPU seconds), which other load on a shared machine
#    stretches less than the wall clock.  Ratios are within each round.
# 2. Whole process.  `rirmeter -r IMIX --db SNAP --json FILE` against
#    `pmacctd -f CONF` reading the same file (pcap_savefile), aggregating
#    by src_net,dst_net through a networks_file of every delegation of the
#    bundled statistics files (IPv4 ranges split into prefixes), the print
#    plugin writing CSV at exit, plugin_pipe_size 128 MiB and
#    plugin_buffer_size 1 MiB.  pmacctd sleeps 2 s before it reads a
#    savefile (its start-up); its time is given with and without those 2 s.
# Medians over ROUNDS.  Needs pmacct (pmacctd).
set -eu
frames=${1:-1000000}
rounds=${2:-5}
build=${BUILD:-build}
rirmeter=$build/dataplane/dpdk/rirmeter
snap=$build/rirmeter.snap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f "$snap" ] || "$build"/rirdb/rirdb build -q -o "$snap" data/rir/delegated-* data/iana/*.csv
command -v pmacctd >/dev/null || { echo "needs pmacctd (apt-get install pmacct)" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now() { date +%s.%N; }

for shape in v4-64 imix; do
	python3 scripts/gen-pcap.py --shape "$shape" --packets "$frames" --seed 1 \
		--out "$tmp/$shape-distinct.pcap"
	python3 scripts/gen-pcap.py --shape "$shape" --packets 4096 --seed 1 --out "$tmp/$shape.4096.pcap"
	{ cat "$tmp/$shape.4096.pcap"; for _ in $(seq $((frames / 4096 - 1))); do
		tail -c +25 "$tmp/$shape.4096.pcap"; done; } >"$tmp/$shape-rep4096.pcap"
	cat "$tmp/$shape-distinct.pcap" "$tmp/$shape-rep4096.pcap" >/dev/null
done

# -r's summary: "... in T s: W Mpps, G GB/s with N threads; per core (C s of CPU) M Mpps, B GB/s"
r_rate() { # shape threads -> "wall_mpps core_mpps core_gbps"
	"$rirmeter" -r "$tmp/$1.pcap" --threads "$2" --db "$snap" --quiet 2>&1 |
		sed -n 's/.*: \([0-9.]*\) Mpps, [0-9.]* GB\/s with.*CPU) \([0-9.]*\) Mpps, \([0-9.]*\) GB\/s/\1 \2 \3/p'
}
pcap_rate() { # shape -> Mpps of the net_pcap path, one worker
	"$rirmeter" --no-huge --no-pci --no-shconf --no-telemetry -m 1024 --log-level=error --lcores 0@0,1@1 \
		--vdev "net_pcap0,rx_pcap=$tmp/$1.pcap" -- --db "$snap" --quiet --interval 0 2>&1 |
		sed -n 's/.*: \([0-9.]*\) Mpps with.*/\1/p'
}

echo "== attribution rate, $frames frames, median of $rounds rounds"
printf '%-15s %10s | %-7s %10s %10s %12s %10s\n' capture "net_pcap" threads "-r wall" "-r /core" \
	"GB/s /core" "/net_pcap"
for shape in v4-64-distinct v4-64-rep4096 imix-distinct imix-rep4096; do
	for threads in 1 2; do
		: >"$tmp/rows"
		for _ in $(seq "$rounds"); do
			p=$(pcap_rate "$shape")
			read -r wall core gbps <<<"$(r_rate "$shape" "$threads")"
			echo "$p $wall $core $gbps $(awk -v a="$core" -v b="$p" 'BEGIN{printf "%.2f", a/b}')" >>"$tmp/rows"
		done
		col() { awk -v c="$1" '{print $c}' "$tmp/rows" | median; }
		printf '%-15s %10s | %-7s %10s %10s %12s %9sx\n' "$shape" "$(col 1)" "$threads" "$(col 2)" \
			"$(col 3)" "$(col 4)" "$(col 5)"
	done
done

# The networks of every delegation, for pmacctd.
python3 - "$tmp/networks.txt" <<'EOF'
import glob, ipaddress, sys
out = set()
for name in sorted(glob.glob('data/rir/delegated-*')):
    for line in open(name):
        p = line.rstrip('\n').split('|')
        if len(p) < 7 or p[0].startswith('#') or p[5] == 'summary' or p[1] == '*':
            continue
        if p[2] == 'ipv4':
            first = ipaddress.IPv4Address(p[3])
            out.update(str(n) for n in ipaddress.summarize_address_range(first, first + int(p[4]) - 1))
        elif p[2] == 'ipv6':
            out.add('%s/%s' % (p[3], p[4]))
with open(sys.argv[1], 'w') as f:
    f.write('\n'.join(sorted(out)) + '\n')
EOF
cat >"$tmp/pmacctd.conf" <<EOF
pcap_savefile: $tmp/imix-distinct.pcap
networks_file: $tmp/networks.txt
aggregate: src_net, dst_net
plugins: print
print_output: csv
print_output_file: $tmp/pmacct.csv
print_refresh_time: 3600
plugin_pipe_size: 134217728
plugin_buffer_size: 1048576
EOF

echo "== whole process on $frames IMIX frames distinct ($(du -m "$tmp/imix-distinct.pcap" | cut -f1) MB; $(wc -l <"$tmp/networks.txt") networks for pmacctd), median of $rounds rounds"
: >"$tmp/whole"
for _ in $(seq "$rounds"); do
	rm -f "$tmp/r.jsonl"
	t0=$(now)
	"$rirmeter" -r "$tmp/imix-distinct.pcap" --db "$snap" --json "$tmp/r.jsonl" --quiet 2>/dev/null
	t1=$(now)
	pmacctd -f "$tmp/pmacctd.conf" >/dev/null 2>&1
	t2=$(now)
	echo "$t0 $t1 $t2" | awk '{r=$2-$1; p=$3-$2; printf "%.3f %.3f %.3f %.1f %.1f\n", r, p, p-2, p/r, (p-2)/r}' >>"$tmp/whole"
done
col() { awk -v c="$1" '{print $c}' "$tmp/whole" | median; }
printf 'rirmeter -r: %s s   pmacctd: %s s (%s s without its 2 s start-up)   ratio %sx (%sx)\n' \
	"$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)"
[ -s "$tmp/pmacct.csv" ] || echo "warning: pmacctd wrote no CSV" >&2
