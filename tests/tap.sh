# tap.sh - what the shell tests share (sourced, not run): a scratch
# directory removed at exit, TAP counting, and the checks they make.
#
#   ok NAME / not_ok NAME [DETAIL...]   one test line (details as comments)
#   check NAME COMMAND...               passes when the command succeeds
#   refuses NAME MESSAGE COMMAND...     passes when the command exits 2 (a
#                                       usage error) with MESSAGE on stderr
#   synopsis_is_readme USAGE README SECTION
#                                       the usage text's synopsis (up to its
#                                       first empty line) is README's first
#                                       code block under "## SECTION",
#                                       whitespace aside
#   tap_end                             the plan line; exit 1 after a failure
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() {
	local name=$1; shift
	if "$@" >"$tmp/out" 2>"$tmp/err"; then ok "$name"; else not_ok "$name" "$(head -c 600 "$tmp/out")" "$(head -c 600 "$tmp/err")"; fi
}
refuses() {
	local name=$1 msg=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
	if [ "$rc" = 2 ] && grep -qF -- "$msg" "$tmp/err"; then ok "$name"
	else not_ok "$name" "exit $rc, wanted 2 and: $msg" "$(head -c 600 "$tmp/err")"; fi
}
synopsis_is_readme() {
	sed -n '1,/^$/p' "$1" | sed 's/^usage: //' | tr -s ' \n' ' ' | sed 's/ $//' >"$tmp/u"
	awk -v h="## $3" '$0 == h { f = 1 } f && /^```$/ { if (b) exit; b = 1; next } b' "$2" |
		tr -s ' \n' ' ' | sed 's/ $//' >"$tmp/r"
	if [ -s "$tmp/r" ] && cmp -s "$tmp/u" "$tmp/r"; then ok "usage synopsis matches README ($3)"
	else not_ok "usage synopsis matches README ($3)" "usage:  $(cat "$tmp/u")" "README: $(cat "$tmp/r")"; fi
}
tap_end() {
	echo "1..$n"
	exit $((fails > 0))
}
