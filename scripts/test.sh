#!/usr/bin/env bash
# The one test command (README): installs what is missing, builds, runs every
# test plain and under ASan+UBSan, checks the Debian package in a clean root,
# replays the fuzz corpora and fuzzes each target for a short while.  Exits
# non-zero on any failure.
#
#   scripts/test.sh            everything (FUZZ_SECONDS=60 per target)
#   QUICK=1 scripts/test.sh    plain build and tests only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-60}

scripts/deps.sh test

step() { printf '\n==== %s ====\n' "$*"; }

step "format check"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
if [ -n "$files" ]; then
	clang-format --dry-run -Werror $files
fi

step "build (plain)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

step "tests (plain)"
(cd build && ctest --output-on-failure -j "$jobs")

step "OpenAPI lint and route parity"
scripts/lint-openapi.sh

step "web page: event-stream parser"
node --test tests/web/sse_parser.test.mjs

if [ -x tests/integration/run.sh ]; then
	step "HTTP integration tests (meshsim + meshgw, responses validated against openapi.yaml)"
	BUILD_DIR=build tests/integration/run.sh
fi

if [ -n "${QUICK:-}" ]; then
	exit 0
fi

step "Debian package: build, lintian, install and start in a clean bookworm root"
scripts/test-deb.sh

step "build (ASan+UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMESHGW_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"

step "tests (ASan+UBSan)"
(cd build-asan && ctest --output-on-failure -j "$jobs")

step "fuzz targets (libFuzzer, ${fuzz_seconds}s each)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMESHGW_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$jobs"
mkdir -p build-fuzz/artifacts
for bin in build-fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin#build-fuzz/fuzz_}
	seed=$root/fuzz/corpus/$name
	work=build-fuzz/corpus/$name
	mkdir -p "$work"
	echo "-- fuzz $name: replay seeds, then ${fuzz_seconds}s"
	if [ -d "$seed" ]; then
		"$bin" -runs=0 "$seed" >/dev/null 2>&1 || { echo "seed replay failed: $name"; "$bin" -runs=0 "$seed"; exit 1; }
	fi
	"$bin" -max_total_time="$fuzz_seconds" -print_final_stats=0 \
		-artifact_prefix=build-fuzz/artifacts/"$name"- "$work" ${seed:+$( [ -d "$seed" ] && echo "$seed")} \
		2>build-fuzz/$name.log || { tail -50 build-fuzz/$name.log; echo "fuzz $name: FINDING"; exit 1; }
	grep -E '^#[0-9]+.*DONE' build-fuzz/$name.log | tail -1 || true
done

step "all tests passed"
