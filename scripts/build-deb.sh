#!/usr/bin/env bash
# build-deb.sh OUTDIR - build the Debian packages (debian/) from a copy of
# the working tree (tracked and untracked files, not ignored ones) in
# OUTDIR/src, so the tree stays clean; dpkg-buildpackage leaves
# rirmeter_*.deb, rirdb_*.deb, the .buildinfo and the .changes in OUTDIR.
# Without the project's tests (nocheck, -Dtests=disabled in debian/rules);
# DEB_BUILD_OPTIONS from the environment are kept (parallel= defaults to
# the number of cores).
set -eu
out=${1:?usage: build-deb.sh OUTDIR}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
rm -rf "$out/src" "$out"/rirmeter_* "$out"/rirdb_* "$out"/rirmeter-dbgsym_* "$out"/rirdb-dbgsym_*
mkdir -p "$out/src/rirmeter-$version"
(cd "$src" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
	[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
	tar -c --null -T - -f -) | tar -x -C "$out/src/rirmeter-$version"
opts=${DEB_BUILD_OPTIONS:-}
case " $opts " in *" nocheck "*) ;; *) opts="$opts nocheck" ;; esac
case " $opts " in *" parallel="*) ;; *) opts="$opts parallel=$(nproc)" ;; esac
cd "$out/src/rirmeter-$version"
DEB_BUILD_OPTIONS="${opts# }" dpkg-buildpackage -b -us -uc
mv ../*.deb ../*.buildinfo ../*.changes "$out"/
rm -rf "$out/src"
ls "$out"/*.deb
