#!/usr/bin/env bash
# same-output.sh OLD_BUILD NEW_BUILD [WORKDIR] - do two builds behave alike?
#
# For refactors that must not change behaviour: both builds attribute the
# same generated inputs and their outputs are compared byte for byte, with
# only what differs by nature masked (timestamps, the snapshot's build time
# and checksum).  Inputs: captures of every kind gen-pcap.py makes (all
# kinds, clean, jumbo, each frame shape), flow export datagrams with
# hostile ones (gen-flows.py), a million addresses drawn from the bundled
# registry data and a text log for `rirdb scan`.  Prints one line per
# comparison and exits 1 when any differs.
set -u
old=$(cd "$1" && pwd) new=$(cd "$2" && pwd)
tool() { # BUILD NAME: the program wherever that build's layout put it
	find "$1" -type f -name "$2" -perm -u+x -not -path '*.p/*' | head -1
}
w=${3:-$(mktemp -d)}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
data=$(ls "$root"/data/rir/delegated-* "$root"/data/iana/*.csv)
eal=(--no-huge --no-pci --no-shconf -m 512 --log-level=error --lcores 0@0,1@1)
bad=0
mkdir -p "$w"

"$(tool "$old" rirdb)" build -q -o "$w/old.snap" $data || exit 1
"$(tool "$new" rirdb)" build -q -o "$w/new.snap" $data || exit 1
same() { # name file1 file2
	if cmp -s "$2" "$3"; then echo "same    $1"; else echo "DIFFERS $1 ($2 $3)"; bad=1; fi
}
"$(tool "$old" rirdb)" info -d "$w/old.snap" | grep -v -i 'built\|checksum\|crc' | sed "s#$w/old.snap#SNAP#" >"$w/old.info"
"$(tool "$new" rirdb)" info -d "$w/new.snap" | grep -v -i 'built\|checksum\|crc' | sed "s#$w/new.snap#SNAP#" >"$w/new.info"
same "rirdb info" "$w/old.info" "$w/new.info"

python3 "$here/gen-pcap.py" --out "$w/all.pcap" --packets 20000 --seed 3 --kinds all >/dev/null
python3 "$here/gen-pcap.py" --out "$w/clean.pcap" --packets 20000 --seed 4 --kinds clean >/dev/null
python3 "$here/gen-pcap.py" --out "$w/jumbo.pcap" --packets 3000 --seed 7 --kinds jumbo >/dev/null
for shape in v4-64 v6-78 imix; do
	python3 "$here/gen-pcap.py" --out "$w/$shape.pcap" --packets 20000 --seed 5 --kinds clean \
		--shape $shape >/dev/null
done
python3 "$here/gen-flows.py" --out "$w/flows.pcap" --datagrams 3000 --seed 9 >/dev/null

mask() { # JSON Lines and CSV without their timestamps
	sed -E 's/"ts":"[^"]*"//; s/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^,]*,//' "$1"
}
for cap in all clean jumbo v4-64 v6-78 imix flows; do
	extra=()
	[ $cap = flows ] && extra=(--flows netflow:2055,ipfix:4739,sflow:6343)
	for b in old new; do
		bin=$old
		[ $b = new ] && bin=$new
		"$(tool "$bin" rirmeter)" "${eal[@]}" --vdev "net_pcap0,rx_pcap=$w/$cap.pcap" -- \
			--db "$w/old.snap" --json "$w/$cap.$b.jsonl" --csv "$w/$cap.$b.csv" \
			--interval 0 "${extra[@]}" >"$w/$cap.$b.table" 2>&1
		sed -i -E 's/^(rirmeter: [0-9]+ packets in ).*/\1(timing)/' "$w/$cap.$b.table"
		mask "$w/$cap.$b.jsonl" >"$w/$cap.$b.jsonl.m"
		mask "$w/$cap.$b.csv" >"$w/$cap.$b.csv.m"
	done
	same "rirmeter $cap.pcap JSON Lines" "$w/$cap.old.jsonl.m" "$w/$cap.new.jsonl.m"
	same "rirmeter $cap.pcap CSV" "$w/$cap.old.csv.m" "$w/$cap.new.csv.m"
	same "rirmeter $cap.pcap table" "$w/$cap.old.table" "$w/$cap.new.table"
done

# A million addresses: every registry block's first and last address, and
# random ones inside, IPv4 and IPv6, plus AS numbers.
python3 - "$w/addrs.txt" "$w/asns.txt" $data <<'PY'
import ipaddress, random, sys
rnd = random.Random(11)
out, asns, files = sys.argv[1], sys.argv[2], sys.argv[3:]
a, n = [], []
for f in files:
    if '/rir/' not in f:
        continue
    for line in open(f, errors='replace'):
        p = line.split('|')
        if len(p) < 7 or p[0].startswith('#') or p[5] == 'summary':
            continue
        if p[2] == 'ipv4':
            s = int(ipaddress.IPv4Address(p[3])); c = int(p[4])
            for v in (s, s + c - 1, s + rnd.randrange(c)):
                a.append(str(ipaddress.IPv4Address(v % 2**32)))
        elif p[2] == 'ipv6':
            s = int(ipaddress.IPv6Address(p[3])); c = 2 ** (128 - int(p[4]))
            for v in (s, s + c - 1, s + rnd.randrange(c)):
                a.append(str(ipaddress.IPv6Address(v % 2**128)))
        elif p[2] == 'asn':
            n.append(p[3])
while len(a) < 1000000:
    if rnd.random() < 0.5:
        a.append(str(ipaddress.IPv4Address(rnd.getrandbits(32))))
    else:
        a.append(str(ipaddress.IPv6Address(rnd.getrandbits(128))))
rnd.shuffle(a)
open(out, 'w').write('\n'.join(a[:1000000]) + '\n')
open(asns, 'w').write('\n'.join(n) + '\n')
PY
for b in old new; do
	bin=$old
	[ $b = new ] && bin=$new
	"$(tool "$bin" rirdb)" lookup -d "$w/old.snap" <"$w/addrs.txt" >"$w/lookup.$b.csv"
	"$(tool "$bin" rirdb)" lookup -d "$w/old.snap" --format json <"$w/addrs.txt" >"$w/lookup.$b.json"
	"$(tool "$bin" rirdb)" lookup -d "$w/old.snap" --asn <"$w/asns.txt" >"$w/asn.$b.csv"
	"$(tool "$bin" rirdb)" scan -d "$w/old.snap" --quiet --json - --threads 1 "$w/addrs.txt" |
		sed -E 's/"ts":"[^"]*"//' >"$w/scan.$b.jsonl"
	"$(tool "$bin" rirdb)" scan -d "$w/old.snap" --annotate --quiet "$w/addrs.txt" >"$w/annotate.$b"
done
same "rirdb lookup, 1M addresses (csv)" "$w/lookup.old.csv" "$w/lookup.new.csv"
same "rirdb lookup, 1M addresses (json)" "$w/lookup.old.json" "$w/lookup.new.json"
same "rirdb lookup --asn" "$w/asn.old.csv" "$w/asn.new.csv"
same "rirdb scan --json" "$w/scan.old.jsonl" "$w/scan.new.jsonl"
same "rirdb scan --annotate" "$w/annotate.old" "$w/annotate.new"
exit $bad
