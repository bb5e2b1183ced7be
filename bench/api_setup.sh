# Shared by bench/api_wrk.sh and bench/api_instr.sh (sourced from the tree's
# root): a meshgw with NODES nodes next to an empty meshsim air, a viewer
# token, and the URLs both measure.  Uses BUILD_DIR, NODES, PAGE, PATHS and
# optionally GW_CONF (lines added to the conf), STREAM_CAP, STATE_SAVE (a
# directory to keep the inventory in) and STATE_FROM (start from one kept
# so, instead of making one: two builds on the same inventory); provides conf
# PATH, start_gw, stop_gw, rss, $auth, $token, $port, $base, $total and the
# arrays urls and labels (a node in the middle, the first page, the last page
# by offset and by cursor).  Processes in $load_pid are stopped on exit too.
#
# meshgw creates its network on a first start; bench_make_inventory
# (bench/make_inventory.c) then adds the nodes through the storage API, and
# meshgw is started again on that state directory.  meshgw joins an empty
# simulated air (meshsim without a scenario), so only the API is measured.
# shellcheck shell=bash
tmp=$(mktemp -d "${TMPDIR:-/tmp}/meshgw-bench.XXXXXX")
load_pid=""
sim_pid="" gw_pid=""
cleanup() {
	for p in $load_pid $gw_pid $sim_pid; do
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
http_max_streams = ${STREAM_CAP:-1024}
http_max_streams_per_token = ${STREAM_CAP:-64}
${GW_CONF:-}
EOF
}
conf
base=http://127.0.0.1:$port

"$BUILD_DIR/meshsim" --port "$tmp/air.sock" --ctl "$tmp/ctl.sock" 2>"$tmp/meshsim.log" &
sim_pid=$!

# Waits (at most 60 s: valgrind starts slowly) until meshgw answers /healthz
# with the bearer attached.
wait_ready() {
	for _ in $(seq 600); do
		curl -sf "$base/healthz" 2>/dev/null | grep -q '"bearer":true' && return 0
		kill -0 "$gw_pid" 2>/dev/null || { cat "$tmp/meshgw.log"; return 1; }
		sleep 0.1
	done
	echo "bench: meshgw not ready" >&2
	cat "$tmp/meshgw.log" >&2
	return 1
}
# start_gw [WRAPPER ARGS...]: meshgw, under a wrapper (valgrind) if given.
start_gw() {
	"$@" "$BUILD_DIR/meshgw" -f "$tmp/meshgw.conf" 2>>"$tmp/meshgw.log" &
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
if [ -n "${STATE_FROM:-}" ]; then
	# An inventory saved by an earlier run (STATE_SAVE): two builds measured on the same one.
	cp -a "$STATE_FROM/." "$tmp/state/"
else
	start_gw
	stop_gw
	"$BUILD_DIR/bench_make_inventory" "$tmp/state" "$NODES"
	if [ -n "${STATE_SAVE:-}" ]; then
		mkdir -p "$STATE_SAVE"
		cp -a "$tmp/state/." "$STATE_SAVE/"
	fi
fi
token=$("$BUILD_DIR/meshgw" -f "$tmp/meshgw.conf" token create --role viewer --name "bench-$$" 2>/dev/null)
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

