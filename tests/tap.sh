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
#   synopsis_is_man USAGE MANPAGE       the same synopsis is the man page's
#                                       SYNOPSIS as man shows it (the few
#                                       font macros it uses), whitespace aside
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
usage_synopsis() { # the synopsis of usage text $1 (up to its first empty line) on one line
	sed -n '1,/^$/p' "$1" | sed 's/^usage: //' | tr -s ' \n' ' ' | sed 's/ $//'
}
synopsis_is_readme() {
	usage_synopsis "$1" >"$tmp/u"
	awk -v h="## $3" '$0 == h { f = 1 } f && /^```$/ { if (b) exit; b = 1; next } b' "$2" |
		tr -s ' \n' ' ' | sed 's/ $//' >"$tmp/r"
	if [ -s "$tmp/r" ] && cmp -s "$tmp/u" "$tmp/r"; then ok "usage synopsis matches README ($3)"
	else not_ok "usage synopsis matches README ($3)" "usage:  $(cat "$tmp/u")" "README: $(cat "$tmp/r")"; fi
}
synopsis_is_man() {
	usage_synopsis "$1" >"$tmp/u"
	# The SYNOPSIS section's text: .B and .I join their arguments with a
	# space, .RB, .BR, .IR and .RI alternate fonts, so join them with none;
	# "..." groups an argument; \- is a dash, \fX a font change.
	python3 -c '
import re, sys
words, inside = [], False
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    if line.startswith(".SH"):
        inside = line.split(None, 1)[1:] == ["SYNOPSIS"]
    elif inside and line != ".br":
        m = re.match(r"\.(B|I|RB|BR|IR|RI)\s+(.*)", line)
        a = [q + w for q, w in re.findall(r"\"([^\"]*)\"|(\S+)", m.group(2))] if m else []
        words.append((" " if m.group(1) in ("B", "I") else "").join(a) if m else line)
text = re.sub(r"\\f[BIRP]", "", " ".join(words)).replace("\\-", "-").replace("\\e", "\\")
print(" ".join(text.split()), end="")
' "$2" >"$tmp/m"
	if [ -s "$tmp/m" ] && cmp -s "$tmp/u" "$tmp/m"; then ok "usage synopsis matches the man page ($(basename "$2"))"
	else not_ok "usage synopsis matches the man page ($(basename "$2"))" "usage: $(cat "$tmp/u")" "man:   $(cat "$tmp/m")"; fi
}
tap_end() {
	echo "1..$n"
	exit $((fails > 0))
}
