#!/usr/bin/env bash
# Flow records per second per core: rirmeter's collector next to nfacctd.
#
#   perf/flow_bench.sh [SECONDS] [ROUNDS] [REPLAYS]      (as root)
#
# The datagrams are real: softflowd (Debian) reads a generated capture
# (20000 IMIX frames, addresses from the bundled registry data, so nearly
# every frame is a flow of its own) and exports NetFlow v5, v9 and IPFIX to
# loopback, where tcpdump captures them.  Each round then measures, for
# each version, on the same capture:
#
#   rirmeter  net_pcap infinite_rx=1 replays the capture from memory to one
#             worker lcore for SECONDS; records/s = flow_records / run time.
#             The same with --io-only gives the I/O ceiling (receive, free).
#   nfacctd   pmacct's collector reads the same capture (pcap_savefile,
#             replayed REPLAYS times) and attributes both addresses of each
#             record through a networks file holding every delegation of
#             the same registry files (one line per CIDR prefix, its origin
#             AS encoding registry and country), aggregated by src_as,
#             dst_as into its print plugin.  Its start and purge take
#             seconds, so its rate is the records it attributed beyond one
#             replay over the difference between a REPLAYS run and a
#             1-replay run (its plugin lags behind its core, and what the
#             plugin has not read when the core exits is lost: only what
#             reached the output counts).  Its plugin buffers are set large
#             (without them it manages ~30k records/s).  nfacctd is two
#             processes (core and plugin), so its rate is per two cores
#             here, not one.
#
#   export    rirmeter as above with --flows-only --ipfix-export to a
#             net_null port: every record re-exported as enriched IPFIX;
#             its cost is 1 - (rate with export / rate without), per round.
#
# Medians over ROUNDS of the rates and of the per-round ratios.
set -eu
secs=${1:-3}
rounds=${2:-3}
replays=${3:-1000}
build=${BUILD:-build}
snap=$build/rirmeter.snap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for t in softflowd tcpdump nfacctd; do
	command -v $t >/dev/null || { echo "needs $t (apt-get install softflowd tcpdump pmacct)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "needs root (tcpdump on lo)" >&2; exit 1; }
[ -f "$snap" ] || "$build"/rirdb/rirdb build -q -o "$snap" data/rir/delegated-* data/iana/*.csv

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# --- the datagrams ---------------------------------------------------------
python3 scripts/gen-pcap.py --shape imix --packets 20000 --seed 5 --out "$tmp/traffic.pcap"
port=9995
for v in 5 9 10; do
	tcpdump -i lo -n -U --immediate-mode -B 65536 -s 0 -w "$tmp/v$v.pcap" \
		"udp and dst port $port" 2>"$tmp/td.err" &
	td=$!
	for _ in $(seq 100); do grep -q 'listening on' "$tmp/td.err" && break; sleep 0.05; done
	softflowd -d -c none -p "$tmp/sf.pid" -r "$tmp/traffic.pcap" -n 127.0.0.1:$port -v $v \
		>/dev/null 2>&1
	sleep 0.3
	kill -INT $td
	wait $td || true
	grep -q '^0 packets dropped by kernel' "$tmp/td.err" || { cat "$tmp/td.err"; exit 1; }
done

# --- nfacctd's networks file: every delegation, AS = registry*1000 + country
python3 - data/rir/delegated-* >"$tmp/networks.lst" <<'EOF'
import ipaddress, sys
rirs = ['afrinic', 'apnic', 'arin', 'lacnic', 'ripencc']
countries = {}
for path in sys.argv[1:]:
    for line in open(path, errors='replace'):
        f = line.strip().split('|')
        if len(f) < 7 or f[1] in ('*', '') or f[2] not in ('ipv4', 'ipv6') or \
                f[6] not in ('allocated', 'assigned') or f[0] not in rirs:
            continue
        asn = (rirs.index(f[0]) + 1) * 1000 + countries.setdefault(f[1], len(countries) + 1)
        if f[2] == 'ipv4':
            first = ipaddress.IPv4Address(f[3])
            nets = ipaddress.summarize_address_range(first, first + int(f[4]) - 1)
        else:
            nets = [ipaddress.IPv6Network('%s/%s' % (f[3], f[4]), strict=False)]
        for n in nets:
            print('%d,%s' % (asn, n))
print('0,0.0.0.0/0')
print('0,::/0')
EOF

nfacctd_conf() { # capture replays
	cat <<EOF
daemonize: false
pcap_savefile: $1
pcap_savefile_replay: $2
plugins: print[agg]
aggregate[agg]: src_as,dst_as
networks_file: $tmp/networks.lst
nfacctd_net: file
nfacctd_as: file
print_output[agg]: csv
print_output_file[agg]: $tmp/nf.csv
print_refresh_time[agg]: 600
plugin_buffer_size[agg]: 1024000
plugin_pipe_size[agg]: 1024000000
EOF
}

nfacctd_secs() { # capture replays -> wall seconds
	nfacctd_conf "$1" "$2" >"$tmp/nf.conf"
	local t0 t1
	t0=$(date +%s.%N)
	nfacctd -f "$tmp/nf.conf" >/dev/null 2>&1
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
}

rirmeter() { # capture proto extra rx-args [eal...] -> "records seconds" (flow_records)
	local cap=$1 proto=$2 extra=$3 rxargs=$4
	shift 4
	rm -f "$tmp/rm.jsonl" # rirmeter appends
	"$build"/dataplane/dpdk/rirmeter --no-huge --no-pci --no-shconf --no-telemetry -m 1024 --log-level=error \
		--lcores 0@0,1@1 --vdev "net_pcap0,rx_pcap=$cap$rxargs" "$@" -- --db "$snap" \
		--flows "$proto:$port" --quiet --interval 0 --mbufs 32768 --json "$tmp/rm.jsonl" $extra \
		2>"$tmp/rm.err" >/dev/null
	local recs secs_run
	recs=$(sed -n 's/.*"key":"flow_records","packets":\([0-9]*\).*/\1/p' "$tmp/rm.jsonl" | tail -1)
	secs_run=$(sed -n 's/.* packets in \([0-9.]*\) s.*/\1/p' "$tmp/rm.err")
	echo "${recs:-0} $secs_run"
}

printf '%-7s %9s %14s %14s %14s %12s %10s %15s %12s\n' export records "rirmeter Mr/s" \
	"io-only Mdg/s" "nfacctd Mr/s" "rirmeter/nf" "ns/record" "+export Mr/s" "export cost"
for v in 5 9 10; do
	proto=netflow
	[ $v = 10 ] && proto=ipfix
	cap=$tmp/v$v.pcap
	read -r per_capture _ < <(rirmeter "$cap" $proto "" "")
	# Packets the records carry, to check that nfacctd did the same work.
	pkts=$(grep '"interval":"total".*"scope":"rir","dir":"src"' "$tmp/rm.jsonl" |
		sed -n 's/.*"packets":\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s}')
	for f in rm io nf ratio nfdone ex cost; do : >"$tmp/$f"; done
	for _ in $(seq "$rounds"); do
		read -r recs s < <(rirmeter "$cap" $proto "--duration $secs" ",infinite_rx=1")
		awk -v r="$recs" -v s="$s" 'BEGIN {print r / s / 1e6}' >>"$tmp/rm"
		# The same with every record re-exported as enriched IPFIX (to net_null).
		read -r xrecs xs < <(rirmeter "$cap" $proto "--duration $secs --flows-only \
			--ipfix-export 1:127.0.0.1:4739" ",infinite_rx=1" --vdev net_null1,no-rx=1)
		awk -v r="$xrecs" -v s="$xs" 'BEGIN {print r / s / 1e6}' >>"$tmp/ex"
		paste -d' ' <(tail -1 "$tmp/ex") <(tail -1 "$tmp/rm") |
			awk '{print 100 * (1 - $1 / $2)}' >>"$tmp/cost"
		"$build"/dataplane/dpdk/rirmeter --no-huge --no-pci --no-shconf --no-telemetry -m 1024 --log-level=error \
			--lcores 0@0,1@1 --vdev "net_pcap0,rx_pcap=$cap,infinite_rx=1" -- --db "$snap" \
			--quiet --interval 0 --mbufs 32768 --duration "$secs" --io-only 2>&1 |
			sed -n 's/.*: \([0-9.]*\) Mpps.*/\1/p' >>"$tmp/io"
		one=$(nfacctd_secs "$cap" 1)
		many=$(nfacctd_secs "$cap" "$replays")
		nf_pkts=$(awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "PACKETS") c = i}
			NR > 1 {s += $c} END {print s}' "$tmp/nf.csv")
		# Its print plugin is the slower half: when the core reaches the end of
		# the capture and exits, what the plugin has not read yet is lost.  So
		# count the replays it attributed (by the packets the records carry).
		done_replays=$(awk -v a="$nf_pkts" -v b="$pkts" 'BEGIN {print a / b}')
		echo "$done_replays $replays" >>"$tmp/nfdone"
		awk -v n="$done_replays" -v r="$per_capture" -v a="$one" -v b="$many" \
			'BEGIN {print (n - 1) * r / (b - a) / 1e6}' >>"$tmp/nf"
		paste -d' ' <(tail -1 "$tmp/rm") <(tail -1 "$tmp/nf") | awk '{print $1 / $2}' >>"$tmp/ratio"
	done
	m=$(median <"$tmp/rm")
	printf '%-7s %9s %14.2f %14.3f %14.2f %11.1fx %10.1f %15.2f %11.1f%%\n' "v$v" \
		"$per_capture" "$m" "$(median <"$tmp/io")" "$(median <"$tmp/nf")" \
		"$(median <"$tmp/ratio")" "$(awk -v m="$m" 'BEGIN {print 1e3 / m}')" \
		"$(median <"$tmp/ex")" "$(median <"$tmp/cost")"
	awk '{d += $1; n += $2} END {printf "        nfacctd attributed %.0f%% of the replayed records before exiting\n", 100 * d / n}' "$tmp/nfdone"
done
