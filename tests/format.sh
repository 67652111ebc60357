#!/usr/bin/env bash
# format.sh SRCDIR - the C sources follow the committed .clang-format (TAP).
cd "$1" || exit 1
files=$(find common lookup loaders scan dataplane rirdb tests perf -name '*.[ch]' 2>/dev/null | sort)
n=0
bad=0
for f in $files; do
	n=$((n + 1))
	if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "ok $n - $f"
	else
		bad=1
		echo "not ok $n - $f (run 'make format')"
	fi
done
echo "1..$n"
exit $bad
