#!/usr/bin/env bash
# Builds the Debian package (debian/) from the tree and writes it to build/deb/: the daemon
# only (DEB_BUILD_OPTIONS=nocheck: the tests run in scripts/test.sh).  dpkg-buildpackage works
# on a copy of the tree's files (tracked and new, not ignored ones) in build/deb/src, so it
# writes nothing into the tree and its ../*.deb land in build/deb.  Prints the .deb's path.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh deb >&2
out=build/deb
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
src=$out/src/meshgw-$version
rm -rf "$out/src" "$out"/meshgw_*.deb
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar -c --null -T - | tar -x -C "$src"
# The copy is new each time; ccache (build/deb/ccache, or in $MESHGW_DEB_CACHE) keeps the compilations of the last
# build, so a run compiles only what changed (CMake takes the launcher from the environment).
export CMAKE_C_COMPILER_LAUNCHER=ccache CCACHE_DIR=${MESHGW_DEB_CACHE:-$PWD/$out}/ccache
export CCACHE_MAXSIZE=500M
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=${DEB_JOBS:-2}" \
	dpkg-buildpackage -b -us -uc -Pnocheck >../build.log 2>&1) ||
	{ tail -40 "$out/src/build.log" >&2; echo "build-deb: dpkg-buildpackage failed" >&2; exit 1; }
mv "$out"/src/meshgw_"$version"_*.deb "$out"/
ls "$out"/meshgw_"$version"_*.deb
