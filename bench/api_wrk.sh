#!/usr/bin/env bash
# REST API figures with 10,000 nodes in the inventory (issues 5 and 15):
# requests per second and p50/p99 latency of GET /api/v1/nodes/{addr} and of
# 100-node pages (first page; the last one by offset and by cursor), measured
# with wrk, side by side for the two read paths of the same build in the same
# run: http_read_path = loop (every request, token check included, crosses the
# event-loop thread) and direct (tokens checked from memory, the reads served
# on the HTTP threads from read-only SQLite handles).  Also meshgw's resident
# memory, and a check that both paths answer byte for byte the same.
#
#   bench/api_wrk.sh                     BUILD_DIR=build NODES=10000 DURATION=5
#   THREADS=2 CONNECTIONS=50 PATHS="loop direct" bench/api_wrk.sh
#
# meshgw creates its network on a first start; bench_make_inventory
# (bench/make_inventory.c) then adds the nodes through the storage API, and
# meshgw is started again on that state directory, once per read path.
# meshgw joins an empty simulated air (meshsim without a scenario), so only
# the API is measured.  wrk comes from scripts/deps.sh bench.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
NODES=${NODES:-10000}
DURATION=${DURATION:-5}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
PATHS=${PATHS:-loop direct}
PAGE=${PAGE:-100}

command -v wrk >/dev/null 2>&1 || scripts/deps.sh bench
for t in meshgw meshsim bench_make_inventory; do
	if [ ! -x "$BUILD_DIR/$t" ]; then
		cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
		cmake --build "$BUILD_DIR" -j "$(nproc)" --target meshgw meshsim bench_make_inventory >/dev/null
		break
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/meshgw-bench.XXXXXX")
sim_pid="" gw_pid=""
cleanup() {
	for p in $gw_pid $sim_pid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -m 700 "$tmp/state"
# conf PATH: the configuration with http_read_path = PATH (default direct).
conf() {
	cat >"$tmp/meshgw.conf" <<EOF
state_dir = $tmp/state
listen = 127.0.0.1:$port
bearer = sim:$tmp/air.sock
web_root = $PWD/web
http_read_path = ${1:-direct}
EOF
}
conf
base=http://127.0.0.1:$port

"$BUILD_DIR/meshsim" --port "$tmp/air.sock" --ctl "$tmp/ctl.sock" 2>"$tmp/meshsim.log" &
sim_pid=$!

# Waits (at most 20 s) until meshgw answers /healthz with the bearer attached.
wait_ready() {
	for _ in $(seq 200); do
		curl -sf "$base/healthz" 2>/dev/null | grep -q '"bearer":true' && return 0
		kill -0 "$gw_pid" 2>/dev/null || { cat "$tmp/meshgw.log"; return 1; }
		sleep 0.1
	done
	echo "bench: meshgw not ready" >&2
	cat "$tmp/meshgw.log" >&2
	return 1
}
start_gw() {
	"$BUILD_DIR/meshgw" -f "$tmp/meshgw.conf" 2>>"$tmp/meshgw.log" &
	gw_pid=$!
	wait_ready
}
stop_gw() {
	kill -TERM "$gw_pid"
	wait "$gw_pid" || true
	gw_pid=""
}

# The poll loops above wait for the sockets, they do not time anything.
for _ in $(seq 100); do [ -S "$tmp/air.sock" ] && break; sleep 0.1; done
start_gw
stop_gw
"$BUILD_DIR/bench_make_inventory" "$tmp/state" "$NODES"
token=$("$BUILD_DIR/meshgw" -f "$tmp/meshgw.conf" token create --role viewer --name bench 2>/dev/null)
auth="Authorization: Bearer $token"
rss() { awk -v k="$1:" '$1 == k {print $2 " kB"}' "/proc/$gw_pid/status"; }

# The URLs, from the first path's answers: a node in the middle, the first
# page, the last page by offset and by cursor (after = the node before it).
cursor_at() {
	curl -sf -H "$auth" "$base/api/v1/nodes?limit=1&offset=$(($1 - 1))" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["address"])'
}
conf "${PATHS%% *}"
start_gw
total=$(curl -sf -H "$auth" "$base/api/v1/nodes?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
addr=$(curl -sf -H "$auth" "$base/api/v1/nodes?limit=1&offset=$((total / 2))" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["address"])')
last=$((total - PAGE))
after=$(cursor_at "$last")
stop_gw
labels=("GET /api/v1/nodes/$addr" "GET /api/v1/nodes?limit=$PAGE"
	"GET /api/v1/nodes?limit=$PAGE&offset=$last" "GET /api/v1/nodes?limit=$PAGE&after=$after")
urls=("$base/api/v1/nodes/$addr" "$base/api/v1/nodes?limit=$PAGE"
	"$base/api/v1/nodes?limit=$PAGE&offset=$last" "$base/api/v1/nodes?limit=$PAGE&after=$after")

# One wrk run: "requests/s p50 p99 non-2xx".
run() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "$auth" "$1")
	echo "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
		"$(awk '$1 == "50%" {print $2}' <<<"$out")" \
		"$(awk '$1 == "99%" {print $2}' <<<"$out")" \
		"$(awk '/Non-2xx/ {print $NF; f=1} END {if (!f) print 0}' <<<"$out")"
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

echo
echo "meshgw with $total nodes in the inventory (wrk: $THREADS threads, $CONNECTIONS connections, ${DURATION}s per URL)"
printf '%-40s' "request"
for p in $PATHS; do printf ' | %-6s %9s %9s %9s %7s' "$p" "req/s" "p50" "p99" "non-2xx"; done
echo
for i in "${!urls[@]}"; do
	printf '%-40s' "${labels[$i]}"
	for p in $PATHS; do
		read -r rps p50 p99 bad <<<"${res[$p.$i]}"
		printf ' | %-6s %9s %9s %9s %7s' "" "$rps" "$p50" "$p99" "$bad"
	done
	echo
done
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
