#!/usr/bin/env bash
# install.sh BUILD_DIR SRC_DIR RIRMETER RIRDB - what `meson install` lays
# down, and manuals that render cleanly and document every option (TAP).
set -u
build=$1 src=$2 rirmeter=$3 rirdb=$4
. "$(dirname "$0")/tap.sh"

meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/log" 2>&1
check "meson install succeeds" test $? = 0
for f in bin/rirmeter bin/rirdb share/man/man1/rirmeter.1 share/man/man1/rirdb.1 \
	lib/systemd/system/rirmeter.service lib/systemd/system/rirdb-fetch.service \
	lib/systemd/system/rirdb-fetch.timer share/doc/rirmeter/rirmeter.conf.example \
	share/rirmeter/iana-ipv4-special-registry.csv share/rirmeter/iana-ipv6-special-registry.csv; do
	found=$(find "$tmp/root" -path "*/$f" | head -1)
	check "installs $f" test -n "$found"
done

for page in rirmeter rirdb; do
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$src/docs/man/$page.1" 2>&1 >/dev/null)
	if [ -z "$warn" ]; then ok "man -l renders $page(1) without warnings"; else not_ok "man $page" "$warn"; fi
done
# Every long option the programs accept is in their manual.
opts() { grep -oE -- '--[a-z][a-z0-9-]+' | sort -u; }
"$rirmeter" --no-huge --no-pci --no-shconf --no-telemetry -m 64 --log-level=error -l 0 -- --help 2>/dev/null | opts >"$tmp/rm.opts"
{ "$rirdb" --help; "$rirdb" fetch --help; "$rirdb" diff --help; "$rirdb" report --help; "$rirdb" scan --help; } 2>/dev/null | opts >"$tmp/db.opts"
for pair in "rirmeter:$tmp/rm.opts" "rirdb:$tmp/db.opts"; do
	page=${pair%%:*} list=${pair#*:}
	text=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$src/docs/man/$page.1" 2>/dev/null)
	missing=""
	while read -r o; do
		grep -q -- "$o" <<<"$text" || missing="$missing $o"
	done <"$list"
	if [ -s "$list" ] && [ -z "$missing" ]; then ok "$page(1) documents all $(wc -l <"$list") options"; else not_ok "$page(1) lacks:$missing"; fi
done
# The units are valid (systemd-analyze verify, where systemd is installed),
# with the programs' paths pointed at this build's.
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$tmp/units"
	for u in rirmeter.service rirdb-fetch.service rirdb-fetch.timer; do
		sed -e "s#/usr/bin/rirmeter#$(realpath "$rirmeter")#" -e "s#/usr/bin/rirdb#$(realpath "$rirdb")#" \
			"$src/docs/systemd/$u" >"$tmp/units/$u"
	done
	(cd "$tmp/units" && systemd-analyze verify --man=no ./rirmeter.service ./rirdb-fetch.service \
		./rirdb-fetch.timer) >"$tmp/verify" 2>&1
	check "systemd-analyze verify accepts the units" bash -c "test $? = 0 && ! test -s '$tmp/verify'"
	for u in rirmeter.service rirdb-fetch.service; do
		score=$(systemd-analyze security --offline=yes "$tmp/units/$u" 2>/dev/null |
			sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		check "$u: sandboxed (exposure ${score:-?} < 6, systemd-analyze security)" \
			awk -v s="${score:-10}" 'BEGIN { exit !(s < 6) }'
	done
else
	ok "# SKIP systemd-analyze not installed: units not verified"
fi
tap_end
