#!/usr/bin/env bash
# REST API figures with 10,000 nodes in the inventory (issue 5): requests per
# second and p50/p99 latency of GET /api/v1/nodes/{addr} and of a paged node
# list, measured with wrk, and meshgw's resident memory.  Figures only.
#
#   bench/api_wrk.sh                     BUILD_DIR=build NODES=10000 DURATION=5
#   THREADS=2 CONNECTIONS=16 bench/api_wrk.sh
#
# meshgw creates its network on a first start; bench_make_inventory
# (bench/make_inventory.c) then adds the nodes through the storage API, and
# meshgw is started again on that state directory.  meshgw joins an empty
# simulated air (meshsim without a scenario), so only the API is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
NODES=${NODES:-10000}
DURATION=${DURATION:-5}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}

if ! command -v wrk >/dev/null 2>&1; then
	echo "bench: installing wrk"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null ||
		{ $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
fi
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
cat >"$tmp/meshgw.conf" <<EOF
state_dir = $tmp/state
listen = 127.0.0.1:$port
bearer = sim:$tmp/air.sock
web_root = $PWD/web
EOF
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
start_gw

auth="Authorization: Bearer $token"
total=$(curl -sf -H "$auth" "$base/api/v1/nodes?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
addr=$(curl -sf -H "$auth" "$base/api/v1/nodes?limit=1&offset=$((NODES / 2))" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["address"])')
rss() { awk -v k="$1:" '$1 == k {print $2 " kB"}' "/proc/$gw_pid/status"; }

echo
echo "meshgw with $total nodes in the inventory (wrk: $THREADS threads, $CONNECTIONS connections, ${DURATION}s per URL)"
echo "RSS after start: $(rss VmRSS)"
printf '%-44s %12s %10s %10s %8s\n' "request" "requests/s" "p50" "p99" "non-2xx"
run() {
	local label=$1 url=$2 out
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "$auth" "$url")
	printf '%-44s %12s %10s %10s %8s\n' "$label" \
		"$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
		"$(awk '$1 == "50%" {print $2}' <<<"$out")" \
		"$(awk '$1 == "99%" {print $2}' <<<"$out")" \
		"$(awk '/Non-2xx/ {print $NF; f=1} END {if (!f) print 0}' <<<"$out")"
}
run "GET /api/v1/nodes/$addr" "$base/api/v1/nodes/$addr"
# Paged lists: the first page, then two depths by offset and by cursor (after = the
# address of the node just before the page).
cursor_at() {
	curl -sf -H "$auth" "$base/api/v1/nodes?limit=1&offset=$(($1 - 1))" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["address"])'
}
run "GET /api/v1/nodes?limit=50" "$base/api/v1/nodes?limit=50"
for depth in $((NODES / 2)) $((NODES - 50)); do
	run "GET /api/v1/nodes?limit=50&offset=$depth" "$base/api/v1/nodes?limit=50&offset=$depth"
	after=$(cursor_at "$depth")
	run "GET /api/v1/nodes?limit=50&after=$after" "$base/api/v1/nodes?limit=50&after=$after"
done
echo "RSS after the runs: $(rss VmRSS) (peak $(rss VmHWM))"
