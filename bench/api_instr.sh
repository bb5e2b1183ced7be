#!/usr/bin/env bash
# Instructions per request of meshgw's REST reads, counted by valgrind's
# callgrind (issue 15): unlike requests per second, the count does not depend
# on what else runs on the machine, so it compares two builds reliably.
# meshgw runs under callgrind with NODES nodes in its inventory; once it is
# ready the counters are zeroed, REQS requests of one URL are sent on one
# kept-alive connection, and the counters are dumped: the count covers the
# daemon's every thread (HTTP threads, event loop) for those requests only.
#
#   bench/api_instr.sh          BUILD_DIR=build NODES=10000 REQS=200 PATHS="loop direct"
#
# Columns: instructions per request for each URL and read path.  The set-up
# (inventory, token, URLs) is bench/api_setup.sh's.  The first request of
# each run is not counted (it opens the thread's read handle and prepares the
# statements); other HTTP threads still prepare theirs within the count.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
NODES=${NODES:-10000}
REQS=${REQS:-200}
PATHS=${PATHS:-loop direct}
PAGE=${PAGE:-100}
command -v valgrind >/dev/null || { echo "bench: valgrind is needed" >&2; exit 1; }

. bench/api_setup.sh

declare -A res
for p in $PATHS; do
	conf "$p"
	for i in "${!urls[@]}"; do
		out="$tmp/cg.$p.$i"
		start_gw valgrind --tool=callgrind --callgrind-out-file="$out.%p" --dump-instr=no \
			--collect-atstart=yes
		# Warm: the first request opens the thread's handle and prepares the statements.
		curl -sf -o /dev/null -H "$auth" "${urls[$i]}"
		callgrind_control -z "$gw_pid" >/dev/null 2>&1
		args=()
		for _ in $(seq "$REQS"); do args+=("${urls[$i]}" -o /dev/null); done
		curl -sf -H "$auth" "${args[@]}"
		callgrind_control -d "$gw_pid" >/dev/null 2>&1
		stop_gw
		# The dump after the zeroing is the one with the requests: the largest part number.
		f=$(ls "$out".*.* | awk -F. '{print $NF, $0}' | sort -n | tail -1 | cut -d' ' -f2-)
		ir=$(awk '/^summary:/ {print $2}' "$f")
		res[$p.$i]=$((ir / REQS))
		[ -n "${KEEP:-}" ] && cp "$f" "$KEEP.$p.$i"
		rm -f "$out".*
	done
done
printf '%-44s' "instructions per request ($NODES nodes, $REQS requests)"
for p in $PATHS; do printf ' %12s' "$p"; done
echo
for i in "${!urls[@]}"; do
	printf '%-44s' "${labels[$i]}"
	for p in $PATHS; do printf ' %12s' "${res[$p.$i]}"; done
	echo
done
