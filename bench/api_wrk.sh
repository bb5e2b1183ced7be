#!/usr/bin/env bash
# REST API figures with 10,000 nodes in the inventory (issues 5 and 15):
# requests per second and p50/p99 latency of GET /api/v1/nodes/{addr} and of
# 100-node pages (first page; the last one by offset and by cursor), measured
# with wrk, side by side for the two read paths of the same build in the same
# run: http_read_path = loop (every request, token check included, crosses the
# event-loop thread) and direct (tokens checked from memory, the reads served
# on the HTTP threads from read-only SQLite handles).  Also meshgw's resident
# memory, and a check that both paths answer byte for byte the same.
# Then, on the last path: the same wrk runs again while SLOW sockets (a
# bounded slowloris: one header line every 3 s, never the end of the
# headers) hold connections open, printed beside the plain run; and meshgw's
# resident memory with STREAMS event-stream clients connected (one viewer
# token; the conf's stream caps are raised for it, the defaults printed).
#
#   bench/api_wrk.sh                     BUILD_DIR=build NODES=10000 DURATION=5
#   THREADS=2 CONNECTIONS=50 PATHS="loop direct" SLOW=500 STREAMS=1000 bench/api_wrk.sh
#   GW_CONF="http_threads = 2" bench/api_wrk.sh    (lines added to meshgw's conf)
#   HTTP_THREADS_AB="4 auto"     GET one node again on the last path for each
#                                http_threads value, side by side ("" to skip;
#                                4 was the default before auto, one per CPU)
#
# The load generators are Node (bench/api_load.mjs, from the integration
# tests' tests/integration/lib/load.mjs); the slow sockets and streams come
# from 127.0.0.2..21 (Linux routes all of 127/8 to lo).
#
# The set-up (inventory, token, URLs) is bench/api_setup.sh's; meshgw is
# started once per read path.  wrk comes from scripts/deps.sh bench.  The
# machine's load average is printed with the figures: on a shared machine
# latency follows the other processes, and bench/api_instr.sh counts
# instructions per request instead, which do not.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
NODES=${NODES:-10000}
DURATION=${DURATION:-5}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
PATHS=${PATHS:-loop direct}
PAGE=${PAGE:-100}
SLOW=${SLOW:-500}
STREAMS=${STREAMS:-1000}
GW_CONF=${GW_CONF:-}
HTTP_THREADS_AB=${HTTP_THREADS_AB-4 auto}
# The caps on event streams raised for the RSS run (defaults: gateway/conf.h).
STREAM_CAP=$((STREAMS + 64))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

command -v wrk >/dev/null 2>&1 || scripts/deps.sh bench
for t in meshgw meshsim bench_make_inventory; do
	if [ ! -x "$BUILD_DIR/$t" ]; then
		cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
		cmake --build "$BUILD_DIR" -j "$(nproc)" --target meshgw meshsim bench_make_inventory >/dev/null
		break
	fi
done

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
. bench/api_setup.sh

# One wrk run: "requests/s p50 p99 non-2xx".
run() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "$auth" "$1")
	echo "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
		"$(awk '$1 == "50%" {print $2}' <<<"$out")" \
		"$(awk '$1 == "99%" {print $2}' <<<"$out")" \
		"$(awk '/Non-2xx/ {print $NF; f=1} END {if (!f) print 0}' <<<"$out")"
}
# load KIND ARGS...: bench/api_load.mjs in the background, once its load is in place.
load() {
	# Removed first: the background job truncates it only once it runs.
	rm -f "$tmp/load.out"
	node bench/api_load.mjs "$@" >"$tmp/load.out" 2>&1 &
	load_pid=$!
	for _ in $(seq 600); do
		[ -s "$tmp/load.out" ] && break
		kill -0 "$load_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/load.out"
}
unload() {
	kill -TERM "$load_pid" 2>/dev/null || true
	wait "$load_pid" 2>/dev/null || true
	load_pid=""
}

declare -A res
for p in $PATHS; do
	conf "$p"
	start_gw
	echo "http_read_path = $p: RSS after start $(rss VmRSS)"
	for i in "${!urls[@]}"; do
		curl -sf -H "$auth" "${urls[$i]}" >"$tmp/body.$p.$i"
		res[$p.$i]=$(run "${urls[$i]}")
	done
	echo "http_read_path = $p: RSS after the runs $(rss VmRSS) (peak $(rss VmHWM))"
	stop_gw
done

# The last path again, under a slowloris, then with event streams connected.
p=${PATHS##* }
conf "$p"
start_gw
echo "http_read_path = $p, $SLOW slow sockets: $(load slow "$port" "$SLOW")"
for i in "${!urls[@]}"; do
	res[slow.$i]=$(run "${urls[$i]}")
done
echo "  healthz after the runs: $(curl -s -m 5 -o /dev/null -w '%{http_code} in %{time_total} s' "$base/healthz")"
unload
rss_before=$(rss VmRSS)
echo "http_read_path = $p: RSS $rss_before before the event streams" \
	"(caps raised for this run to http_max_streams = $STREAM_CAP, http_max_streams_per_token = $STREAM_CAP;" \
	"defaults 1024 and 64)"
echo "  $STREAMS event streams of one viewer token: $(load streams "$port" "$STREAMS" "$token")"
echo "  RSS with them connected: $(rss VmRSS) (was $rss_before), peak $(rss VmHWM)"
unload
stop_gw

# GET one node for each worker-thread count, twice each, alternating (the
# tail follows the threads that share the cores with wrk).
declare -A ab
for round in 1 2; do
	for t in $HTTP_THREADS_AB; do
		save=$GW_CONF
		GW_CONF="$GW_CONF
http_threads = $t"
		conf "$p"
		GW_CONF=$save
		start_gw
		ab[$t.$round]=$(run "${urls[0]}")
		stop_gw
	done
done

echo
echo "meshgw with $total nodes in the inventory (wrk: $THREADS threads, $CONNECTIONS connections, ${DURATION}s per URL;" \
	"$p+slow: the same with $SLOW slow sockets open; load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-40s' "request"
for c in $PATHS "$p+slow"; do printf ' | %-11s %8s %8s %8s %7s' "$c" "req/s" "p50" "p99" "non-2xx"; done
echo
for i in "${!urls[@]}"; do
	printf '%-40s' "${labels[$i]}"
	for c in $PATHS slow; do
		read -r rps p50 p99 bad <<<"${res[$c.$i]}"
		printf ' | %-11s %8s %8s %8s %7s' "" "$rps" "$p50" "$p99" "$bad"
	done
	echo
done
if [ -n "$HTTP_THREADS_AB" ]; then
	echo "${labels[0]} on $p by http_threads ($(nproc) CPUs), two alternating runs each:"
	for t in $HTTP_THREADS_AB; do
		for round in 1 2; do
			read -r rps p50 p99 bad <<<"${ab[$t.$round]}"
			printf '  http_threads = %-5s run %d: %9s req/s  p50 %8s  p99 %8s  non-2xx %s\n' \
				"$t" "$round" "$rps" "$p50" "$p99" "$bad"
		done
	done
fi
echo "goals (issue 15): GET one node >= 20,000 req/s with p99 < 5 ms; a $PAGE-node page p99 < 20 ms at any depth"
# Both paths build their answers with the same code: the bodies must be identical.
read -r -a names <<<"$PATHS"
if [ "${#names[@]}" -ge 2 ]; then
	for i in "${!urls[@]}"; do
		cmp -s "$tmp/body.${names[0]}.$i" "$tmp/body.${names[1]}.$i" || {
			echo "bench: ${names[0]} and ${names[1]} answer ${labels[$i]} differently" >&2
			exit 1
		}
	done
	echo "${names[0]} and ${names[1]} answered every URL above with the same bytes"
fi
