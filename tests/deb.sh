#!/usr/bin/env bash
# deb.sh BUILD_DIR SRC_DIR - the Debian packages (TAP): build them (`make
# deb`'s script, into BUILD_DIR/deb), check them with lintian, install them
# with apt-get, run postinst again as an upgrade does (a readable snapshot
# kept, one of another format version rebuilt), run the installed programs
# as the rirmeter user, verify the installed units, purge, and check that
# nothing is left.  Root only
# (installs packages); skipped otherwise.  It installs and purges the
# packages rirmeter and rirdb on this machine: a copy installed before is
# replaced and then purged too.
set -u
build=$1 src=$2
. "$(dirname "$0")/tap.sh"

if [ "$(id -u)" != 0 ]; then
	ok "# SKIP not root: the packages are not built and installed"
	tap_end
fi
out=$(realpath "$build")/deb
export DEBIAN_FRONTEND=noninteractive

"$src/scripts/build-deb.sh" "$out" >"$tmp/build.log" 2>&1
rc=$?
if [ $rc = 0 ] && ls "$out"/rirmeter_*.deb "$out"/rirdb_*.deb >/dev/null 2>&1; then
	ok "dpkg-buildpackage builds the packages"
else
	not_ok "dpkg-buildpackage builds the packages (exit $rc)" "$(tail -20 "$tmp/build.log")"
	tap_end
fi

# lintian: no error; every warning is in this list with the reason it stays
# (none today).  Info and pedantic tags are not counted.
allowed_warnings=(
)
lintian --fail-on none "$out"/rirmeter_*.changes >"$tmp/lintian" 2>/dev/null
errors=$(grep '^E:' "$tmp/lintian")
check "lintian: no errors" test -z "$errors"
[ -z "$errors" ] || sed 's/^/# /' <<<"$errors"
unexplained=""
while read -r line; do
	[ -n "$line" ] || continue
	tag=$(awk '{print $3}' <<<"$line")
	listed=0
	for w in "${allowed_warnings[@]}"; do [ "$w" = "$tag" ] && listed=1; done
	[ $listed = 1 ] || unexplained="$unexplained
$line"
done < <(grep '^W:' "$tmp/lintian")
if [ -z "$unexplained" ]; then ok "lintian: every warning explained"; else not_ok "lintian: unexplained warnings" "$unexplained"; fi

apt-get install -y -q "$out"/rirmeter_*.deb "$out"/rirdb_*.deb >"$tmp/apt.log" 2>&1
rc=$?
if [ $rc = 0 ]; then
	ok "apt-get installs rirmeter and rirdb"
else
	not_ok "apt-get installs rirmeter and rirdb (exit $rc)" "$(tail -20 "$tmp/apt.log")"
	apt-get purge -y -q rirmeter rirdb >/dev/null 2>&1
	tap_end
fi
dpkg -L rirmeter rirdb 2>/dev/null | sort -u >"$tmp/files"
check "the rirmeter user exists" getent passwd rirmeter
check "the fetch timer is enabled" test -L /etc/systemd/system/timers.target.wants/rirdb-fetch.timer
check "/var/lib/rirmeter is the rirmeter user's" test "$(stat -c %U:%G /var/lib/rirmeter 2>/dev/null)" = rirmeter:rirmeter
check "postinst built the first snapshot" test -s /var/lib/rirmeter/rirmeter.snap
check "the snapshot is the rirmeter user's" test "$(stat -c %U /var/lib/rirmeter/rirmeter.snap 2>/dev/null)" = rirmeter
check "/etc/default/rirmeter is a conffile" grep -qx /etc/default/rirmeter /var/lib/dpkg/info/rirmeter.conffiles
for f in /usr/bin/rirmeter /usr/bin/rirdb /usr/share/man/man1/rirmeter.1.gz /usr/share/man/man1/rirdb.1.gz \
	/lib/systemd/system/rirmeter.service /lib/systemd/system/rirdb-fetch.service \
	/lib/systemd/system/rirdb-fetch.timer /usr/share/rirmeter/iana-ipv4-special-registry.csv \
	/usr/share/rirmeter/ipv4-address-space.csv; do
	check "installs $f" grep -qx "$f" "$tmp/files"
done

as_user() { runuser -u rirmeter -- "$@"; }
snap=/var/lib/rirmeter/rirmeter.snap
as_user /usr/bin/rirdb lookup -d "$snap" 193.0.6.139 AS3333 >"$tmp/lookup" 2>&1
check "installed rirdb lookup, as rirmeter, attributes from the packaged data" \
	bash -c "test $? = 0 && grep -q '^193.0.6.139,ripencc,NL,' '$tmp/lookup' && grep -q '^AS3333,ripencc,' '$tmp/lookup'"

# An upgrade runs postinst again: a snapshot this rirdb reads stays as it
# is; one it cannot (another format version) is rebuilt.
crc() { /usr/bin/rirdb info -d "$snap" 2>/dev/null | sed -n 's/.*crc32c \([0-9a-f]*\).*/\1/p'; }
before=$(crc)
/var/lib/dpkg/info/rirdb.postinst configure 0 >"$tmp/reconf.log" 2>&1
check "postinst again keeps a readable snapshot" bash -c "test -n '$before' && test '$(crc)' = '$before'"
printf '\x06' | dd of="$snap" bs=1 seek=8 conv=notrunc 2>/dev/null
check "a snapshot of another format version is refused" bash -c "! /usr/bin/rirdb info -d '$snap' 2>/dev/null"
/var/lib/dpkg/info/rirdb.postinst configure 0 >"$tmp/reconf.log" 2>&1
check "postinst rebuilds a snapshot of another format version" \
	bash -c "test $? = 0 && /usr/bin/rirdb info -d '$snap' >/dev/null && grep -q 'not readable by this version' '$tmp/reconf.log' && test \"\$(stat -c %U '$snap')\" = rirmeter"

work=$(as_user mktemp -d)
python3 "$src/scripts/gen-pcap.py" --out "$tmp/cap.pcap" --packets 2000 --kinds clean >/dev/null 2>&1
install -o rirmeter -m 0644 "$tmp/cap.pcap" "$work/cap.pcap"
as_user /usr/bin/rirmeter --no-huge --no-pci --no-shconf --no-telemetry -m 512 --log-level=error --lcores 0@0,1@1 \
	--vdev "net_pcap0,rx_pcap=$work/cap.pcap" -- --db "$snap" --json "$work/out.jsonl" --interval 0 \
	>"$tmp/rm.log" 2>&1
rc=$?
check "installed rirmeter, as rirmeter, attributes the capture (exit $rc)" \
	bash -c "test $rc = 0 && grep -q 'received 2000 = attributed' '$tmp/rm.log' && test -s '$work/out.jsonl'"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/rm.log" | head -20
rm -rf "$work"

if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify --man=no /lib/systemd/system/rirmeter.service \
		/lib/systemd/system/rirdb-fetch.service /lib/systemd/system/rirdb-fetch.timer >"$tmp/verify" 2>&1
	check "systemd-analyze verify accepts the installed units" bash -c "test $? = 0 && ! test -s '$tmp/verify'"
	[ -s "$tmp/verify" ] && sed 's/^/# /' "$tmp/verify"
else
	ok "# SKIP systemd-analyze not installed: installed units not verified"
fi

# remove keeps the state and the user; purge (below) removes them.
apt-get remove -y -q rirmeter rirdb >"$tmp/remove.log" 2>&1
check "apt-get remove keeps the snapshot and the user" \
	bash -c "test $? = 0 && test -s /var/lib/rirmeter/rirmeter.snap && getent passwd rirmeter"

apt-get purge -y -q rirmeter rirdb >"$tmp/purge.log" 2>&1
check "apt-get purge removes both packages" bash -c "test $? = 0 && ! dpkg -s rirmeter >/dev/null 2>&1 && ! dpkg -s rirdb >/dev/null 2>&1"
left=""
while read -r f; do
	[ -d "$f" ] && continue # shared directories (/usr/bin, /lib/systemd/...) stay
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done <"$tmp/files"
check "no file of the packages is left${left:+:$left}" test -z "$left"
check "/var/lib/rirmeter is gone" test ! -e /var/lib/rirmeter
check "the rirmeter user is gone" bash -c "! getent passwd rirmeter && ! getent group rirmeter"
check "/etc/default/rirmeter is gone" test ! -e /etc/default/rirmeter
# The timer's enablement (deb-systemd-helper's symlinks and state) too.
left=$(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
	/var/lib/systemd/deb-systemd-helper-masked -name '*rirdb*' -o -name '*rirmeter*' 2>/dev/null)
check "no unit enablement is left${left:+: $left}" test -z "$left"
tap_end
