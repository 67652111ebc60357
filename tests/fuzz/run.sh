#!/usr/bin/env bash
# One fuzz harness as a TAP test:
#
#   run.sh HARNESS SEEDS_DIR REGRESSIONS_DIR      (FUZZ_SECONDS, default 10)
#
# 1. every committed seed and every regression input (a crash once found,
#    minimized) runs once and must pass;
# 2. the harness fuzzes for FUZZ_SECONDS from the seeds (inputs up to 4096
#    bytes from the start: -len_control=0), into a scratch
#    corpus (the committed seeds are not changed); a finding fails the test
#    and its input is kept in $FUZZ_ARTIFACTS (default /tmp) to be minimized
#    (HARNESS -minimize_crash=1 -runs=10000 INPUT) and committed under
#    REGRESSIONS_DIR.  The last line of libFuzzer's report (executions per
#    second, coverage) goes into the TAP output.
set -u
h=$1 seeds=$2 regressions=$3
secs=${FUZZ_SECONDS:-10}
name=$(basename "$h")
art=${FUZZ_ARTIFACTS:-/tmp}/$name-artifacts
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$art"
n=0 failed=0
report() { # ok name detail
	n=$((n + 1))
	if [ "$1" = 1 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
	[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
	return 0
}
inputs=$(find "$seeds" "$regressions" -type f 2>/dev/null | sort)
if [ -n "$inputs" ]; then
	# shellcheck disable=SC2086
	out=$("$h" -runs=0 $inputs 2>&1)
	rc=$?
	report $((rc == 0)) "$name: $(echo "$inputs" | wc -l) seeds and regressions pass" \
		"$([ $rc = 0 ] || echo "$out" | tail -30)"
fi
out=$("$h" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$art/" \
	-timeout=10 -rss_limit_mb=4096 -len_control=0 "$scratch" "$seeds" 2>&1)
rc=$?
stats=$(echo "$out" | grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' | tr '\n' ' ')
cov=$(echo "$out" | grep -E '^#[0-9]+' | tail -1 | sed 's/^#[0-9]*[[:space:]]*[A-Z]*[[:space:]]*//')
report $((rc == 0)) "$name: ${secs}s of fuzzing without a finding" \
	"$([ $rc = 0 ] && echo "$cov $stats" || echo "$out" | grep -v '^#' | tail -40)"
echo "1..$n"
exit $failed
