#!/usr/bin/env bash
# cli.sh RIRDB DATA_DIR README - the rirdb command line as an operator uses it (TAP).
set -u
rirdb=$1
data=$2
readme=$3
. "$(dirname "$0")/tap.sh"

inputs=("$data"/rir/delegated-* "$data"/iana/*.csv)
snap=$tmp/r.snap

"$rirdb" build -o "$snap" "${inputs[@]}" 2>"$tmp/build.err"; rc=$?
check "build from the bundled data" test "$rc" = 0
check "build reports the superseded AFRINIC file" grep -q "superseded by the newer afrinic file" "$tmp/build.err"

# SOURCE_DATE_EPOCH sets the build time; a malformed one is refused naming
# the variable, never read as 1970.
SOURCE_DATE_EPOCH=1700000000 "$rirdb" build -q -o "$tmp/sde.snap" "$data"/rir/delegated-lacnic-20140627
check "SOURCE_DATE_EPOCH sets the build time" \
	bash -c "'$rirdb' info -d '$tmp/sde.snap' | grep -q '^built  *2023-11-14T22:13:20Z'"
for v in 17x -1 1e9 253402300800; do
	refuses "SOURCE_DATE_EPOCH='$v' refused" "rirdb build: SOURCE_DATE_EPOCH: " \
		env SOURCE_DATE_EPOCH="$v" "$rirdb" build -q -o "$tmp/sde.snap" "$data"/rir/delegated-lacnic-20140627
done

# Temporary files are unguessable and created exclusively: links planted at
# the names an older writer used (PATH.tmp.PID, PATH.tmp) are never written
# through, and a link at PATH itself is replaced, not followed.
echo "precious" >"$tmp/victim"
out=$tmp/linked.snap
for pid in $(seq $$ $(($$ + 40))); do ln -sf "$tmp/victim" "$out.tmp.$pid"; done
ln -sf "$tmp/victim" "$out.tmp"
"$rirdb" build -o "$out" --quiet "${inputs[@]}" 2>/dev/null; rc=$?
check "build -o beside planted temp-name links succeeds" test "$rc" = 0
check "build -o: the planted links' target is unchanged" test "$(cat "$tmp/victim")" = precious
check "build -o: the links are left as they were" test -L "$out.tmp" -a -L "$out.tmp.$$"
ln -sf "$tmp/victim" "$tmp/at.snap"
"$rirdb" build -o "$tmp/at.snap" --quiet "${inputs[@]}" 2>/dev/null
check "build -o over a symlink replaces the link, not its target" \
	bash -c "test ! -L '$tmp/at.snap' && test \"\$(cat '$tmp/victim')\" = precious"
echo '{"ts":"2026-01-01T00:00:00.000Z","interval":"total","snapshot":"00000000","scope":"rir","dir":"src","key":"ripencc","packets":1,"bytes":60}' >"$tmp/one.jsonl"
ln -sf "$tmp/victim" "$tmp/page.html"
"$rirdb" report -o "$tmp/page.html" "$tmp/one.jsonl" 2>/dev/null; rc=$?
check "report -o over a symlink replaces the link, not its target" \
	bash -c "test $rc = 0 && test ! -L '$tmp/page.html' && grep -qi '<html' '$tmp/page.html' && test \"\$(cat '$tmp/victim')\" = precious"
# An input that opens but cannot be read (a directory: EISDIR) is an
# input error, not an empty file.
mkdir -p "$tmp/notafile"
"$rirdb" report -o "$tmp/page2.html" "$tmp/one.jsonl" "$tmp/notafile" 2>"$tmp/e"; rc=$?
check "report: an unreadable input exits 1 and is named with the reason" \
	test "$rc" = 1 -a -n "$(grep "rirdb report: $tmp/notafile: Is a directory" "$tmp/e")"
# Keys and names in the lines are third-party text: the page shows them as
# display text (output.h), no control character in the HTML.
printf '%s\n' '{"ts":"2026-01-01T00:00:00.000Z","interval":"total","snapshot":"00000000","scope":"holder","dir":"src","key":"ripencc:O\u001b]0;k\u0007","packets":1,"bytes":60,"name":"Evil\u001b[2J <b>"}' >"$tmp/ctl.jsonl"
"$rirdb" report -o "$tmp/ctl.html" "$tmp/ctl.jsonl" 2>"$tmp/e"; rc=$?
check "report: control characters in keys and names are display text in the page" python3 -c '
import re, sys
page = open(sys.argv[1], "rb").read()
sys.exit(not (sys.argv[2] == "0" and not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", page) and
              b"ripencc:O\\x1b]0;k\\x07" in page and b"Evil\\x1b[2J &lt;b&gt;" in page))' \
	"$tmp/ctl.html" "$rc"
# File names are third-party text (output.h): named as display text, never
# a terminal escape, as rirdb build names them.
evil=$tmp/$'x\e]0;pwned\a'.jsonl
printf 'not json\n' >"$evil"
"$rirdb" report -o "$tmp/page3.html" "$evil" "$evil.missing" 2>"$tmp/e"; rc=$?
check "report: file names with escapes in messages are display text" \
	test "$rc" = 1 -a -z "$(grep -c $'\e' "$tmp/e" | grep -v '^0$')" \
	-a -n "$(grep -F 'x\x1b]0;pwned\x07.jsonl:1: ' "$tmp/e")" \
	-a -n "$(grep -F 'x\x1b]0;pwned\x07.jsonl.missing: No such file' "$tmp/e")"

"$rirdb" lookup -d "$snap" 193.0.6.139 not-an-address 2001:67c:2e8::1 AS3333 >"$tmp/l.csv" 2>"$tmp/l.err"
rc=$?
check "lookup exits 1 after a bad address" test "$rc" = 1
check "lookup CSV header" test "$(head -1 "$tmp/l.csv")" = "addr,rir,cc,status,nir,holder,holder_id,holder_asns,holder_source,block,range,date,source,via,embedded,teredo_server,error"
check "lookup answers IPv4" grep -qx '193.0.6.139,ripencc,NL,allocated,,,,,,193.0.0.0/20,193.0.0.0-193.0.15.255,1993-09-01,.*delegated-ripencc-20140630:18367,,,,' "$tmp/l.csv"
check "bad address gives an error row" grep -qx 'not-an-address,,,,,,,,,,,,,,,,not an IPv4 or IPv6 address' "$tmp/l.csv"
check "lookup goes on after a bad address" grep -q '^2001:67c:2e8::1,ripencc,NL,assigned,' "$tmp/l.csv"
check "lookup answers AS numbers" grep -q '^AS3333,ripencc,EU,allocated,' "$tmp/l.csv"
check "lookup counts bad queries on stderr" grep -q '1 bad query' "$tmp/l.err"
# Queries from standard input that cannot be read (a directory: EISDIR)
# are a failed run, not an empty list.
"$rirdb" lookup -d "$snap" <"$tmp/notafile" >/dev/null 2>"$tmp/e"; rc=$?
check "lookup: unreadable standard input exits 1 with the reason" \
	test "$rc" = 1 -a -n "$(grep 'rirdb lookup: standard input: Is a directory' "$tmp/e")"

printf '# comment\n\n  41.0.0.1  \r\n8.8.8.8\n' | "$rirdb" lookup -d "$snap" >"$tmp/s.csv"
check "stdin: one per line, blanks and comments skipped" test "$(wc -l <"$tmp/s.csv")" = 3
check "stdin: holder id and its AS numbers from the extended file" grep -q '^41.0.0.1,afrinic,ZA,allocated,,F364712F,F364712F,AS29975 AS36994 AS37311,,' "$tmp/s.csv"

# holder_asns, for every AFRINIC holder with an IPv4 record: the AS numbers
# the extended file gives the same holder id, counted here from the file.
check "holder_asns: every holder's AS numbers, as the extended file lists them" python3 -c '
import csv, subprocess, sys
asns, first = {}, {}
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("|")
    if len(f) < 8 or not f[7] or f[6] not in ("allocated", "assigned"):
        continue
    if f[2] == "asn":
        asns.setdefault(f[7], []).extend(range(int(f[3]), int(f[3]) + int(f[4])))
    elif f[2] == "ipv4":
        first.setdefault(f[7], f[3])
holders = sorted(first)
q = "".join(first[h] + "\n" for h in holders)
out = subprocess.run([sys.argv[1], "lookup", "-d", sys.argv[3]], input=q, capture_output=True,
                     text=True, check=True).stdout
rows = {r["addr"]: r for r in csv.DictReader(out.splitlines())}
bad = []
for h in holders:
    want = " ".join("AS%d" % n for n in sorted(asns.get(h, [])))
    r = rows[first[h]]
    if r["holder_id"] != h or r["holder_asns"] != want:
        bad.append((h, r["holder_id"], r["holder_asns"], want))
assert sum(1 for h in holders if asns.get(h)) > 100, "too few holders with AS numbers"
assert not bad, bad[:5]
' "$rirdb" "$data/rir/delegated-afrinic-extended-20230323" "$snap"

# More than 32 AS numbers (an AS range of one record among them): the first
# 32, then "+N more"; the name from a holder CSV shows as the holder.
cat >"$tmp/many.txt" <<'EOT'
2.3|afrinic|1|45|19830705|20230323|+0000
afrinic|ZA|asn|64500|1|20100101|allocated|HMANY
afrinic|ZA|asn|65000|40|20100101|allocated|HMANY
afrinic|ZA|ipv4|10.9.0.0|256|20100101|assigned|HMANY
afrinic|ZA|ipv4|10.9.1.0|256|20100101|assigned|HNOAS
EOT
# ... and 40 records of one AS number each: the count runs over all of them.
seq 64600 64639 | awk '{ print "afrinic|ZA|asn|" $1 "|1|20100101|assigned|HSPLIT" }' >>"$tmp/many.txt"
echo 'afrinic|ZA|ipv4|10.9.2.0|256|20100101|assigned|HSPLIT' >>"$tmp/many.txt"
printf 'registry,holder_id,name\nafrinic,HMANY,Many Systems Ltd\n' >"$tmp/many-names.csv"
"$rirdb" build -q -o "$tmp/many.snap" "$tmp/many.txt" "$tmp/many-names.csv" 2>"$tmp/e"
check "the fixture builds without a message" test ! -s "$tmp/e"
"$rirdb" lookup -d "$tmp/many.snap" 10.9.0.1 10.9.1.1 AS65010 >"$tmp/many.csv"
want_many="AS64500 $(seq -f 'AS%g' 65000 65030 | tr '\n' ' ')+9 more"
check "holder_asns: 32 AS numbers, then +N more" \
	grep -qx "10.9.0.1,afrinic,ZA,assigned,,Many Systems Ltd,HMANY,$want_many,csv,.*" "$tmp/many.csv"
check "holder_asns: the same for one of the holder's AS numbers" \
	grep -q "^AS65010,afrinic,ZA,allocated,,Many Systems Ltd,HMANY,$want_many," "$tmp/many.csv"
"$rirdb" lookup -d "$tmp/many.snap" 10.9.2.1 >"$tmp/split.csv"
check "holder_asns: 32 of 40 one-number records, then +8 more" \
	grep -q "^10.9.2.1,afrinic,ZA,assigned,,HSPLIT,HSPLIT,$(seq -f 'AS%g' 64600 64631 | tr '\n' ' ')+8 more,," "$tmp/split.csv"
check "holder_asns: empty for a holder without AS numbers, its id as the holder" \
	grep -q '^10.9.1.1,afrinic,ZA,assigned,,HNOAS,HNOAS,,,' "$tmp/many.csv"
"$rirdb" lookup -d "$tmp/many.snap" --format json 10.9.0.1 >"$tmp/many.jsonl"
check "holder_asns, nir and holder_source in JSON" python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["holder"] == "Many Systems Ltd" and r["holder_id"] == "HMANY", r
assert r["holder_asns"].split()[:2] == ["AS64500", "AS65000"] and r["holder_asns"].endswith(" +9 more"), r
assert r["nir"] == "" and r["holder_source"] == "csv", r
' "$tmp/many.jsonl"

"$rirdb" lookup -d "$snap" --asn 3333 4608 >"$tmp/a.csv"
check "--asn takes plain numbers" grep -q '^4608,apnic,AU,allocated' "$tmp/a.csv"

"$rirdb" lookup -d "$snap" --format json 10.1.2.3 bogus >"$tmp/j.jsonl"
check "JSON Lines parse and carry the fields" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows[0]["rir"] == "iana" and rows[0]["holder"] == "Private-Use", rows[0]
assert rows[0]["status"] == "special" and rows[0]["block"] == "10.0.0.0/8", rows[0]
assert rows[1] == {"addr": "bogus", "error": "not an IPv4 or IPv6 address"}, rows[1]
' "$tmp/j.jsonl"

# NIRs and every name source: APNIC holders under JPNIC (named through its
# AS number in asn.txt) and KRNIC (named by the CSV) by data/nir-ids.csv, one
# named by an RPSL dump (gzip), one unnamed; a LACNIC holder whose /20 NIC.br
# lists (named by NIC.br's file, NIR space in that block only).
cat >"$tmp/apnic.txt" <<'EOT'
2.3|apnic|1|7|19830705|20230323|+1000
apnic|JP|ipv4|10.20.0.0|1024|20100101|allocated|A91A7381
apnic|JP|ipv6|2001:db8::|32|20100101|allocated|A91A7381
apnic|JP|asn|64600|2|20100101|allocated|A91A7381
apnic|KR|ipv4|10.21.0.0|256|20100101|assigned|A9149F3E
apnic|AU|ipv4|10.22.0.0|256|20100101|assigned|AUHOLDER
apnic|AU|ipv4|10.23.0.0|256|20100101|available|
apnic|NZ|ipv4|10.24.0.0|512|20100101|allocated|NZHOLDER
EOT
printf '2.3|lacnic|1|2|19830705|20230323|-0300\nlacnic|BR|ipv4|10.30.0.0|65536|20100101|allocated|77\nlacnic|BR|asn|64700|1|20100101|allocated|77\n' >"$tmp/lacnic.txt"
printf 'inetnum: 10.22.0.0 - 10.22.0.255\norg: ORG-AU1-AP\nsource: APNIC\n\norganisation: ORG-AU1-AP\norg-name: Example AU Pty\nsource: APNIC\n' |
	gzip >"$tmp/apnic.db.inetnum.gz"
echo '64600 JPNIC-AS-JP - Japan Network Information Center, JP' >"$tmp/asn.txt"
echo 'AS64700|Nucleo Exemplo|00.000.000/0001-00|10.30.0.0/20|' >"$tmp/nicbr-asn-blk-latest.txt"
printf 'registry,holder_id,name\napnic,A9149F3E,Korea Example\n' >"$tmp/kr-names.csv"
"$rirdb" build -q -o "$tmp/nir.snap" "$tmp/apnic.txt" "$tmp/lacnic.txt" "$tmp/apnic.db.inetnum.gz" \
	"$tmp/asn.txt" "$tmp/nicbr-asn-blk-latest.txt" "$tmp/kr-names.csv" "$data/nir-ids.csv" 2>"$tmp/e"
"$rirdb" lookup -d "$tmp/nir.snap" 10.20.0.1 2001:db8::1 10.21.0.1 10.22.0.1 10.24.0.1 10.30.1.1 \
	10.30.16.1 AS64700 | cut -d, -f1,5-9 >"$tmp/nir.csv"
check "lookup: nir, holder, holder_asns and holder_source from every name source" diff - "$tmp/nir.csv" <<'EOT'
addr,nir,holder,holder_id,holder_asns,holder_source
10.20.0.1,jpnic,Japan Network Information Center,A91A7381,AS64600 AS64601,asname
2001:db8::1,jpnic,Japan Network Information Center,A91A7381,AS64600 AS64601,asname
10.21.0.1,krnic,Korea Example,A9149F3E,,csv
10.22.0.1,,Example AU Pty,AUHOLDER,,rpsl
10.24.0.1,,NZHOLDER,NZHOLDER,,
10.30.1.1,nicbr,Nucleo Exemplo,77,AS64700,nicbr
10.30.16.1,,Nucleo Exemplo,77,AS64700,nicbr
AS64700,,Nucleo Exemplo,77,AS64700,nicbr
EOT
# By hand from the files above: 5 holders, the NZ one unnamed (512 of the
# 67584 delegated addresses); JPNIC 1024 addresses, a /32 (65536 /48s), 2
# AS numbers; KRNIC 256; NIC.br the /20 (4096).
"$rirdb" info -d "$tmp/nir.snap" | sed -n '/^holders/,$p' >"$tmp/nir.info"
check "info: holders by name source, named space and per-NIR counts" diff - "$tmp/nir.info" <<'EOT'
holders    5 among delegated records, 4 named (80.0%): csv 1, rpsl 1, nicbr 1, asname 1
named      67072 of 67584 delegated IPv4 addresses (99.2%)
           65536 of 65536 delegated IPv6 /48s (100.0%)
           3 of 3 delegated AS numbers (100.0%)

  nir        holders    named     ipv4 addrs            ipv6 /48s        asns
  jpnic            1        1           1024                65536           2
  krnic            1        1            256                    0           0
  cnnic            0        0              0                    0           0
  twnic            0        0              0                    0           0
  idnic            0        0              0                    0           0
  vnnic            0        0              0                    0           0
  irinn            0        0              0                    0           0
  nicbr            1        1           4096                    0           0
EOT

"$rirdb" info -d "$snap" >"$tmp/info"
check "info lists inputs with serials" grep -q 'stats .*ripencc .*1404165599 .*delegated-ripencc-20140630' "$tmp/info"
check "info marks the superseded file" grep -q 'delegated-afrinic-20140630 (superseded)' "$tmp/info"
check "info counts per registry" grep -qE '^ +ripencc +[0-9]+ +[0-9]+' "$tmp/info"
# A newer file cut short (its header counts more records than it has) is
# set aside for the complete older one, and info says why, not "superseded".
{ sed -n '1s/|20140627|/|20140727|/p' "$data/rir/delegated-lacnic-20140627"; sed -n '2,100p' "$data/rir/delegated-lacnic-20140627"; } >"$tmp/lacnic-cut"
"$rirdb" build -q -o "$tmp/cut.snap" "$data/rir/delegated-lacnic-20140627" "$tmp/lacnic-cut" 2>"$tmp/e"
"$rirdb" info -d "$tmp/cut.snap" >"$tmp/cut.info"
check "info says a newer file cut short was set aside, and why" \
	grep -q 'lacnic-cut (set aside: records missing)$' "$tmp/cut.info"
check "info leaves the complete file used unmarked" grep -q 'delegated-lacnic-20140627$' "$tmp/cut.info"
# Given alone, the file cut short is used all the same (the build says so
# in a notice), and info marks it: the registry's data is incomplete.
"$rirdb" build -q -o "$tmp/cut-alone.snap" "$tmp/lacnic-cut" 2>"$tmp/e"
"$rirdb" info -d "$tmp/cut-alone.snap" >"$tmp/cut-alone.info"
check "info marks a file used with records missing" \
	grep -qE '^  stats +lacnic .*lacnic-cut \(records missing\)$' "$tmp/cut-alone.info"
# A file refused at its header (a lenient build goes on without it) is
# listed as refused, with none of the header's serial and dates.
printf '2|lacnic|20140729|1|19870101|20140231|-0300\n' >"$tmp/lacnic-bad"
"$rirdb" build -q --lenient -o "$tmp/bad-hdr.snap" "$data/rir/delegated-lacnic-20140627" "$tmp/lacnic-bad" 2>"$tmp/e"
"$rirdb" info -d "$tmp/bad-hdr.snap" >"$tmp/bad-hdr.info"
check "info lists a file refused at its header as such, claiming none of its dates" \
	grep -qE '^  stats +- +- +- +- +0  .*lacnic-bad \(refused at its header\)$' "$tmp/bad-hdr.info"
# A NAT64 address inside a label within the operator's prefix is taken as
# the IPv4 it carries by scan (the dataplane's path) as by lookup.
printf 'prefix,label\n2a00:1000:64:c100::/64,lab\n' >"$tmp/nat64-labels.csv"
"$rirdb" build -q -o "$tmp/nat64.snap" "$data/rir/delegated-ripencc-20140630" \
	"$data"/iana/*.csv "$tmp/nat64-labels.csv" 2>"$tmp/e"
printf '2a00:1000:64:c100:6:8b00::\n2a00:1000:64:c200:6:8b00::\n' >"$tmp/nat64-addrs"
"$rirdb" scan -d "$tmp/nat64.snap" --nat64 2a00:1000:64::/48 --annotate "$tmp/nat64-addrs" \
	>"$tmp/nat64-scan" 2>"$tmp/e"
check "scan: a NAT64 address inside a label in the prefix is its IPv4's, as lookup says" \
	test "$(grep -c 'via=nat64' "$tmp/nat64-scan")" = 2 -a \
	-n "$(grep -x '2a00:1000:64:c100:6:8b00:: .* cc=NL .*via=nat64' "$tmp/nat64-scan")"
if [ -w /dev/full ]; then
	"$rirdb" info -d "$snap" >/dev/full 2>"$tmp/e"; rc=$?
	check "info to a full disk: exit 1, the write error named" \
		test "$rc" = 1 -a -n "$(grep 'rirdb info: write error: No space left' "$tmp/e")"
	"$rirdb" diff "$snap" "$snap" >/dev/full 2>"$tmp/e"; rc=$?
	check "diff to a full disk: exit 1, the write error named" \
		test "$rc" = 1 -a -n "$(grep 'rirdb diff: write error: No space left' "$tmp/e")"
	"$rirdb" clickhouse-schema >/dev/full 2>"$tmp/e"; rc=$?
	check "clickhouse-schema to a full disk: exit 1, the write error named" \
		test "$rc" = 1 -a -n "$(grep 'rirdb clickhouse-schema: write error: No space left' "$tmp/e")"
fi

# Named holders and named space, against a count made here from the inputs:
# the extended AFRINIC file and a CSV naming every third holder id.
afr=$data/rir/delegated-afrinic-extended-20230323
awk -F'|' 'NF >= 8 && $8 != "" && ($7 == "allocated" || $7 == "assigned") { print $8 }' "$afr" |
	sort -u | awk 'BEGIN { print "registry,holder_id,name" } NR % 3 == 1 { print "afrinic," $1 ",Org " $1 }' >"$tmp/afr-names.csv"
"$rirdb" build -q -o "$tmp/afr.snap" "$afr" "$tmp/afr-names.csv" 2>"$tmp/e"
"$rirdb" info -d "$tmp/afr.snap" >"$tmp/afr.info"
check "info: holders, named holders and named space as counted from the inputs" python3 -c '
import re, sys
named = {l.split(",")[1] for l in list(open(sys.argv[2]))[1:]}
holders, space, named_space = set(), [0, 0, 0], [0, 0, 0]
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("|")
    if len(f) < 7 or f[1] == "*" or f[6] not in ("allocated", "assigned"):
        continue
    n = int(f[4])
    fam, size = {"ipv4": (0, n), "ipv6": (1, 2.0 ** (48 - n)), "asn": (2, n)}[f[2]]
    space[fam] += size
    if len(f) >= 8 and f[7]:
        holders.add(f[7])
        if f[7] in named:
            named_space[fam] += size
out = open(sys.argv[3]).read()
n_named = len(named & holders)
want = "holders    %d among delegated records, %d named (%.1f%%): csv %d, rpsl 0, nicbr 0, asname 0" % (
    len(holders), n_named, 100.0 * n_named / len(holders), n_named)
assert want in out, (want, out)
for fam, unit in enumerate(["IPv4 addresses", "IPv6 /48s", "AS numbers"]):
    want = "%.0f of %.0f delegated %s (%.1f%%)" % (named_space[fam], space[fam], unit,
                                                   100.0 * named_space[fam] / space[fam])
    assert want in out, (want, out)
assert re.search(r"^  nicbr +0 +0 +0 +0 +0$", out, re.M), out
' "$afr" "$tmp/afr-names.csv" "$tmp/afr.info"

head -c 1000 "$snap" >"$tmp/trunc.snap"
"$rirdb" lookup -d "$tmp/trunc.snap" 1.1.1.1 >/dev/null 2>"$tmp/e"; rc=$?
check "truncated snapshot refused" test "$rc" = 1
check "truncated snapshot: clear message" grep -q "trunc.snap: truncated" "$tmp/e"

cp "$snap" "$tmp/bad.snap"
printf 'X' | dd of="$tmp/bad.snap" bs=1 seek=5000 conv=notrunc 2>/dev/null
"$rirdb" info -d "$tmp/bad.snap" >/dev/null 2>"$tmp/e"; rc=$?
check "corrupted snapshot refused" test "$rc" = 1
check "corrupted snapshot: checksum message" grep -q "checksum mismatch" "$tmp/e"

cp "$snap" "$tmp/v.snap"
printf '\x09' | dd of="$tmp/v.snap" bs=1 seek=8 conv=notrunc 2>/dev/null
"$rirdb" info -d "$tmp/v.snap" >/dev/null 2>"$tmp/e"
check "wrong-version snapshot refused with its version" grep -q "snapshot format version 9" "$tmp/e"

printf '2|ripencc|1|2|19830705|20140630|+0200\nripencc|DE|ipv4|10.0.0.0|256|20100101|allocated\nripencc|DE|ipv4|10.0.1.0|abc|20100101|allocated\n' >"$tmp/bad.txt"
"$rirdb" build -o "$tmp/x.snap" "$tmp/bad.txt" 2>"$tmp/e"; rc=$?
check "strict build fails on a malformed line" test "$rc" = 1
check "strict build names file and line" grep -q "bad.txt:3: IPv4 count is not a positive number" "$tmp/e"
check "strict build writes nothing" test ! -e "$tmp/x.snap"
"$rirdb" build --lenient -o "$tmp/x.snap" "$tmp/bad.txt" 2>"$tmp/e"; rc=$?
check "lenient build succeeds" test "$rc" = 0
check "lenient build reports how many it skipped" grep -q "1 skipped" "$tmp/e"

"$rirdb" build -o "$tmp/y.snap" "$tmp/missing-file" 2>"$tmp/e"; rc=$?
check "missing input: exit 1 and a reason" bash -c "test $rc = 1 && grep -q 'missing-file: cannot open' '$tmp/e'"
echo "just text" >"$tmp/junk"
"$rirdb" build -o "$tmp/y.snap" "$tmp/junk" 2>"$tmp/e"; rc=$?
check "unrecognized input format refused" bash -c "test $rc = 1 && grep -q 'junk: unrecognized format' '$tmp/e'"

"$rirdb" lookup 1.1.1.1 >/dev/null 2>&1; rc=$?
check "lookup without -d is a usage error" test "$rc" = 2
"$rirdb" frobnicate >/dev/null 2>&1; rc=$?
check "unknown command is a usage error" test "$rc" = 2
"$rirdb" lookup -d "$snap" --format xml 1.1.1.1 >/dev/null 2>&1; rc=$?
check "unknown format is a usage error" test "$rc" = 2

# Progress: on a terminal only, and never with --quiet.
"$rirdb" build -o "$tmp/p.snap" "${inputs[@]}" 2>"$tmp/p.err"
check "no progress when stderr is not a terminal" bash -c "! grep -q 'records/s' '$tmp/p.err'"
check "progress (MB/s and records/s) on a terminal" python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
from tap import on_terminal
out = on_terminal([sys.argv[2], "build", "-o", sys.argv[3]] + sys.argv[4:])
assert b"records/s" in out and b"MB/s" in out, out[:300]
' "$(dirname "$0")" "$rirdb" "$tmp/p2.snap" "${inputs[@]}"

# rirdb diff: one change of each kind between two small snapshots.
cat >"$tmp/old.txt" <<'EOT'
2.3|ripencc|1|5|19830705|20140630|+0200
ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated|H0
ripencc|FR|ipv4|10.0.1.0|256|20100101|allocated|H0
ripencc|NL|ipv4|10.0.3.0|256|20100101|allocated|H1
ripencc|GB|ipv4|10.0.4.0|512|20100101|allocated|H0
ripencc|GB|asn|64000|10|20100101|allocated|H0
EOT
cat >"$tmp/new.txt" <<'EOT'
2.3|ripencc|2|5|19830705|20140701|+0200
ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated|H0
ripencc|IT|ipv4|10.0.1.0|256|20100101|allocated|H0
ripencc|NL|ipv4|10.0.3.0|256|20100101|allocated|H2
ripencc|GB|ipv4|10.0.8.0|256|20100101|allocated|H0
ripencc|GB|asn|64000|10|20100101|allocated|H0
EOT
printf '2.3|arin|1|1|19830705|20140702|-0500\narin|US|ipv4|10.0.0.0|256|20140701|allocated|A1\n' >"$tmp/arin.txt"
"$rirdb" build -q -o "$tmp/d-old.snap" "$tmp/old.txt" 2>/dev/null
"$rirdb" build -q -o "$tmp/d-new.snap" "$tmp/new.txt" "$tmp/arin.txt" 2>"$tmp/e"
"$rirdb" diff --format json "$tmp/d-old.snap" "$tmp/d-new.snap" >"$tmp/diff.jsonl"; rc=$?
check "diff exits 0" test "$rc" = 0
check "diff finds exactly one change of each kind" python3 -c '
import json, sys
got = sorted((r["family"], r["change"], r["from"], r["to"], r["blocks"], r["size"])
             for r in map(json.loads, open(sys.argv[1])))
want = sorted([("ipv4", "moved", "ripencc", "arin", 1, 256),
               ("ipv4", "country", "ripencc", "ripencc", 1, 256),
               ("ipv4", "holder", "ripencc", "ripencc", 1, 256),
               ("ipv4", "removed", "ripencc", "unknown", 1, 512),
               ("ipv4", "added", "unknown", "ripencc", 1, 256)])
assert got == want, got
' "$tmp/diff.jsonl"
"$rirdb" diff --details "$tmp/d-old.snap" "$tmp/d-new.snap" >"$tmp/details.jsonl"
check "diff --details names the moved block and both sides" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
m = [r for r in rows if r["change"] == "moved"]
assert len(m) == 1 and m[0]["first"] == "10.0.0.0" and m[0]["last"] == "10.0.0.255", m
assert m[0]["old"]["rir"] == "ripencc" and m[0]["new"]["rir"] == "arin", m
assert m[0]["new"]["holder"] == "A1" and m[0]["old"]["cc"] == "DE", m
' "$tmp/details.jsonl"
# Names beside the holders: the key stays the id, the name comes beside it.
printf 'registry,holder_id,name\nripencc,H2,"Caf\xc3\xa9 ""Two"" Ltd"\n' >"$tmp/d-names.csv"
"$rirdb" build -q -o "$tmp/d-named.snap" "$tmp/new.txt" "$tmp/arin.txt" "$tmp/d-names.csv" 2>/dev/null
"$rirdb" diff --details "$tmp/d-old.snap" "$tmp/d-named.snap" >"$tmp/named.jsonl"
check "diff --details gives each side's holder key and name" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
h = [r for r in rows if r["change"] == "holder"]
assert len(h) == 1, rows
assert h[0]["old"]["holder_key"] == "ripencc:H1" and h[0]["old"]["name"] == "", h
assert h[0]["new"]["holder_key"] == "ripencc:H2", h
assert h[0]["new"]["name"] == "Caf\u00e9 \"Two\" Ltd", h
' "$tmp/named.jsonl"
"$rirdb" diff "$tmp/d-old.snap" "$tmp/d-old.snap" >"$tmp/same.txt"
check "diff of a snapshot with itself lists nothing" test "$(wc -l <"$tmp/same.txt")" = 1
"$rirdb" diff "$tmp/d-old.snap" "$tmp/trunc.snap" >/dev/null 2>"$tmp/e"; rc=$?
check "diff refuses a bad snapshot" bash -c "test $rc = 1 && grep -q truncated '$tmp/e'"

# Numeric options, one policy (common/options.h): the whole string is the
# number, in range; anything else exits 2 naming the option.
bad_values() { # bad_values PROG OPT MAX_PLUS_ONE COMMAND...: the option is added last
	local prog=$1 opt=$2 over=$3; shift 3
	refuses "$prog $opt: fraction" "$prog: $opt: '2.5' is not a whole number" "$@" "$opt" 2.5
	refuses "$prog $opt: trailing garbage" "$prog: $opt: '3x' is not a whole number" "$@" "$opt" 3x
	refuses "$prog $opt: empty" "$prog: $opt: '' is not a whole number" "$@" "$opt" ""
	refuses "$prog $opt: negative" "$prog: $opt: '-1' is not a whole number" "$@" "$opt" -1
	refuses "$prog $opt: space" "$prog: $opt: ' 3' is not a whole number" "$@" "$opt" " 3"
	refuses "$prog $opt: out of range" "$prog: $opt: $over is out of range" "$@" "$opt" "$over"
}
fetch=("$rirdb" fetch --dir "$tmp/fetch" --base-url "file://$tmp/no-such-mirror" --quiet)
bad_values "rirdb fetch" --timeout 86401 "${fetch[@]}"
refuses "rirdb fetch --timeout: zero is out of range" "rirdb fetch: --timeout: 0 is out of range 1..86400" "${fetch[@]}" --timeout 0
refuses "rirdb fetch --timeout: words" "rirdb fetch: --timeout: 'abc' is not a whole number" "${fetch[@]}" --timeout abc
bad_values "rirdb fetch" --retries 101 "${fetch[@]}"
refuses "rirdb fetch --retries: 2^64 is out of range" "rirdb fetch: --retries: 18446744073709551616 is out of range 0..100" "${fetch[@]}" --retries 18446744073709551616
for v in 3x "" -1 " 1" nan inf 1e1 0x10; do
	refuses "rirdb fetch --retry-delay '$v' refused" "rirdb fetch: --retry-delay: '$v' is not a non-negative number" "${fetch[@]}" --retry-delay "$v"
done
refuses "rirdb fetch --retry-delay: out of range" "rirdb fetch: --retry-delay: 3601 is out of range 0..3600" "${fetch[@]}" --retry-delay 3601
bad_values "rirdb fetch" --max-size 1099511627777 "${fetch[@]}"
refuses "rirdb fetch --max-size: zero is out of range" "rirdb fetch: --max-size: 0 is out of range 1..1099511627776" "${fetch[@]}" --max-size 0
bad_values "rirdb fetch" --max-time 86401 "${fetch[@]}"
# Valid values pass the options: the run then fails on the missing mirror (1, not 2).
"${fetch[@]}" --timeout 5 --retries 0 --retry-delay 0.5 --max-size 1000 --max-time 60 >/dev/null 2>"$tmp/e"; rc=$?
check "rirdb fetch: valid --timeout, --retries, --retry-delay (fractional), --max-size, --max-time accepted" \
	bash -c "test $rc = 1 && ! grep -q -- '--' '$tmp/e'"

bad_values "rirdb scan" --top 100001 "$rirdb" scan -d "$snap" "$tmp/junk"
bad_values "rirdb scan" --threads 257 "$rirdb" scan -d "$snap" "$tmp/junk"
refuses "rirdb scan --threads: zero is out of range" "rirdb scan: --threads: 0 is out of range 1..256" "$rirdb" scan -d "$snap" --threads 0 "$tmp/junk"
echo "src 193.0.6.139 dst 8.8.8.8" >"$tmp/one.log"
"$rirdb" scan -d "$snap" --top 1 --threads 2 --json - "$tmp/one.log" >"$tmp/scan.jsonl" 2>"$tmp/e"; rc=$?
check "rirdb scan: valid --top and --threads accepted" test "$rc" = 0
check "rirdb scan: with them, the counts are written" grep -q '"scope":"holder"' "$tmp/scan.jsonl"

# The usage's synopsis is README's "## rirdb" block, and the man page's.
"$rirdb" --help >"$tmp/usage"
synopsis_is_readme "$tmp/usage" "$readme" rirdb
synopsis_is_man "$tmp/usage" "$(dirname "$readme")/docs/man/rirdb.1"
# And each subcommand's --help gives README's line for it, whitespace aside
# (the usage a subcommand prints is the README's, as rirdb's own is).
check "each subcommand's --help has README's synopsis of it" python3 -c '
import subprocess, sys
rirdb, readme = sys.argv[1:3]
block = open(readme).read().split("## rirdb\n", 1)[1].split("```\n")[1]
lines = []
for l in block.splitlines():
    if l.startswith("rirdb "):
        lines.append(l)
    else:
        lines[-1] += " " + l
bad = []
for l in lines:
    out = subprocess.run([rirdb, l.split()[1], "--help"], capture_output=True, text=True)
    if out.returncode != 0 or " ".join(l.split()) not in " ".join(out.stdout.split()):
        bad.append(l)
print("\n".join(bad))
sys.exit(1 if bad else 0)' "$rirdb" "$readme"

tap_end
