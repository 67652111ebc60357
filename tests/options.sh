#!/usr/bin/env bash
# options.sh RIRMETER RIRDB DATA_DIR README - rirmeter's numeric options (TAP).
#
# One policy for every numeric value (common/options.h): the whole string is
# the number, in range; a fraction, trailing garbage, an empty string, a sign
# or a value out of range exits 2 naming the option.  rirmeter reads its
# options after rte_eal_init, so every run gets EAL arguments; a bad value
# stops it before any port is set up.  (Unit cases of the parser itself are
# in test_options.c; here, each option once per kind of bad value.)  Also: the usage's synopsis is the
# README's, word for word.
set -u
rirmeter=$1
rirdb=$2
data=$3
readme=$4
. "$(dirname "$0")/tap.sh"
eal=(--no-huge --no-pci --no-shconf --no-telemetry -m 512 --log-level=error --lcores 0@0,1@1 --vdev net_null0)

opt_refused() { # opt_refused NAME MESSAGE OPTION...: rirmeter exits 2 with MESSAGE
	local name=$1 msg=$2; shift 2
	refuses "$name" "$msg" timeout 120 "$rirmeter" "${eal[@]}" -- --db "$tmp/none.snap" "$@"
}
whole() { # whole OPT OUT_OF_RANGE [OPTION...]: the bad values of a whole-number option
	local opt=$1 over=$2; shift 2
	for v in 2.5 3x "" -1; do
		opt_refused "$opt '$v' refused" "rirmeter: $opt: '$v' is not a whole number" "$@" "$opt" "$v"
	done
	opt_refused "$opt $over refused" "rirmeter: $opt: $over is out of range" "$@" "$opt" "$over"
}
decimal() { # decimal OPT OUT_OF_RANGE: the bad values of an option in seconds
	local opt=$1 over=$2
	for v in 3x "" -1 nan; do
		opt_refused "$opt '$v' refused" "rirmeter: $opt: '$v' is not a non-negative number" "$opt" "$v"
	done
	opt_refused "$opt $over refused" "rirmeter: $opt: $over is out of range" "$opt" "$over"
}

decimal --interval 86401
decimal --duration 1000000001
decimal --ipfix-refresh 86401
opt_refused "--ipfix-refresh 0.5 refused" "rirmeter: --ipfix-refresh: 0.5 is out of range 1..86400" --ipfix-refresh 0.5
whole --top 100001
# What strtod used to take: space, hexadecimal, exponents, infinity.
for v in " 3" 0x10 1e2; do
	opt_refused "--top '$v' refused" "rirmeter: --top: '$v' is not a whole number" --top "$v"
done
for v in " 3" 1e2 inf; do
	opt_refused "--interval '$v' refused" "rirmeter: --interval: '$v' is not a non-negative number" --interval "$v"
done
whole --burst 65
opt_refused "--burst 0 refused" "rirmeter: --burst: 0 is out of range 1..64" --burst 0
whole --queues 65
whole --mbufs 16777217
opt_refused "--mbufs 1023 refused" "rirmeter: --mbufs: 1023 is out of range 1024..16777216" --mbufs 1023
whole --ipfix-pen 4294967296
opt_refused "--ipfix-pen 0 refused" "rirmeter: --ipfix-pen: 0 is out of range" --ipfix-pen 0
whole --ipfix-domain 4294967041
whole --ipfix-mtu 9217
opt_refused "--ipfix-mtu 575 refused" "rirmeter: --ipfix-mtu: 575 is out of range 576..9216" --ipfix-mtu 575

# Numbers inside option specs.
opt_refused "--prom-listen port with garbage" "rirmeter: --prom-listen: port '9100x' is not a whole number" --prom-listen 127.0.0.1:9100x
opt_refused "--prom-listen port out of range" "rirmeter: --prom-listen: port 65536 is out of range 1..65535" --prom-listen 65536
opt_refused "--prom-listen empty port" "rirmeter: --prom-listen: port '' is not a whole number" --prom-listen '[::1]:'
# fe80::1:9100 is fe80::1 port 9100 or fe80::1:9100 with no port: IPv6 in brackets only.
for v in fe80::1:9100 ::1 ::1:9100; do
	opt_refused "--prom-listen $v refused" \
		"rirmeter: --prom-listen: '$v': an IPv6 address goes in brackets, [ADDR]:PORT" --prom-listen "$v"
done
# Bracketed IPv6, IPv4 and a bare port get past the options: the run stops
# at the missing snapshot (exit 1), not at --prom-listen (exit 2).
for v in '[::1]:9100' '[fe80::1]:9100' 127.0.0.1:9100 9100; do
	timeout 120 "$rirmeter" "${eal[@]}" -- --db "$tmp/none.snap" --prom-listen "$v" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 1 ] && ! grep -q -- --prom-listen "$tmp/err"; then ok "--prom-listen $v accepted"
	else not_ok "--prom-listen $v accepted" "exit $rc" "$(head -c 600 "$tmp/err")"; fi
done
for v in 2055.0 +2055 -1 "" 2055x; do
	opt_refused "--flows port '$v' refused" "rirmeter: --flows: port '$v' is not a whole number" --flows "netflow:$v"
done
opt_refused "--flows port out of range" "rirmeter: --flows: port 65536 is out of range 1..65535" --flows netflow:65536
opt_refused "--ipfix-export UDP port with garbage" "rirmeter: --ipfix-export: UDP port '4739x' is not a whole number" \
	--flows netflow:2055 --ipfix-export 0:127.0.0.1:4739x
opt_refused "--ipfix-export DPDK port fraction" "rirmeter: --ipfix-export: DPDK port '0.5' is not a whole number" \
	--flows netflow:2055 --ipfix-export 0.5:127.0.0.1:4739
opt_refused "--ipfix-export UDP port out of range" "rirmeter: --ipfix-export: UDP port 0 is out of range 1..65535" \
	--flows netflow:2055 --ipfix-export 0:127.0.0.1:0

# Valid values, fractional seconds included, run as before.
"$rirdb" build -q -o "$tmp/r.snap" "$data"/rir/delegated-* "$data"/iana/*.csv 2>/dev/null
timeout 240 "$rirmeter" "${eal[@]}" -- --db "$tmp/r.snap" --json "$tmp/o.jsonl" --quiet \
	--duration 0.5 --interval 0.25 --top 3 --burst 16 --queues 1 --mbufs 2048 \
	--flows netflow:2055 --ipfix-export 0:127.0.0.1:4739 --ipfix-pen 32473 \
	--ipfix-domain 7 --ipfix-mtu 1400 --ipfix-refresh 1.5 >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" = 0 ] && grep -q '"interval":"total"' "$tmp/o.jsonl"; then
	ok "valid values accepted (--duration 0.5 --interval 0.25 --top 3 --burst 16 ...)"
else not_ok "valid values accepted" "exit $rc" "$(head -c 600 "$tmp/err")"; fi

# The usage's synopsis is README's "## rirmeter" block, and the man page's.
timeout 120 "$rirmeter" "${eal[@]}" -- --help >"$tmp/usage" 2>/dev/null
synopsis_is_readme "$tmp/usage" "$readme" rirmeter
synopsis_is_man "$tmp/usage" "$(dirname "$readme")/docs/man/rirmeter.1"

tap_end
