#!/usr/bin/env bash
# Interop smoke test: an unmodified bluetooth-meshd joins meshsim's BlueZ port
# through tests/interop/run_meshd.sh, and its Unprovisioned Device beacon with
# the chosen UUID is observed by a client on meshsim's native port
# (tests/interop/native_listen.py), and counted in `meshsim stats`.
#
#   MESHSIM=path/to/meshsim tests/interop/test_meshd_beacon.sh [WORKDIR]
# Exit 0 pass, 1 fail, 77 skip (reason on stderr).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
meshsim=${MESHSIM:-$here/../../build/meshsim}
[ -x "$meshsim" ] || { echo "test_meshd_beacon: SKIP: no meshsim binary at $meshsim" >&2; exit 77; }
[ -x /usr/libexec/bluetooth/bluetooth-meshd ] || {
	echo "test_meshd_beacon: SKIP: bluetooth-meshd not installed (Debian bluez-meshd; scripts/deps.sh test)" >&2
	exit 77
}
command -v cc >/dev/null || { echo "test_meshd_beacon: SKIP: no C compiler for the preload library" >&2; exit 77; }
dir=${1:-$(mktemp -d /tmp/meshd-beacon.XXXXXX)}
mkdir -p "$dir"
uuid=5f3a9c2e7b1d4e8fa1c3d5e7f9b2c4d6 # RFC 4122 version 4

pids=()
cleanup() {
	local rc=$?
	trap - EXIT
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
	if [ "$rc" != 0 ]; then
		for f in meshsim.log meshd/meshd.log meshd/join.log listen.log run_meshd.log; do
			[ -f "$dir/$f" ] && { echo "--- $f"; tail -20 "$dir/$f"; }
		done >&2
	fi
	exit "$rc"
}
trap cleanup EXIT

"$meshsim" --ctl "$dir/ctl" --port "$dir/native.sock@0,0,1" \
	--bluez-port "$dir/bz.sock@3,0,1" --stats-out "$dir/stats.json" -d \
	>"$dir/meshsim.log" 2>&1 &
pids+=($!)
end=$((SECONDS + 10))
until [ -S "$dir/ctl" ] && [ -S "$dir/native.sock" ]; do
	((SECONDS < end)) || { echo "meshsim did not start" >&2; exit 1; }
	sleep 0.05
done

/usr/bin/python3 "$here/native_listen.py" --port "$dir/native.sock" --me "$dir/listen.sock" \
	--uuid "$uuid" --timeout 60 >"$dir/listen.log" 2>&1 &
listen_pid=$!
pids+=("$listen_pid")

MESHD_PEER="$dir/bz.sock" MESHD_DIR="$dir/meshd" MESHD_UUID="$uuid" MESHD_TIMEOUT=120 \
	"$here/run_meshd.sh" >"$dir/run_meshd.log" 2>&1 &
pids+=($!)

if ! wait "$listen_pid"; then
	echo "test_meshd_beacon: FAIL: no Unprovisioned Device beacon for $uuid on the native port" >&2
	exit 1
fi
cat "$dir/listen.log"
grep -q "JOIN-REQUESTED $uuid" "$dir/meshd/join.log" || {
	echo "test_meshd_beacon: FAIL: join.py did not report the Join" >&2
	exit 1
}
# The beacon was counted as the BlueZ participant's beacon airtime.
"$meshsim" stats --ctl "$dir/ctl" >"$dir/stats-live.json"
/usr/bin/python3 - "$dir/stats-live.json" "$dir/bz.sock" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
p = [x for x in st["participants"] if x["name"] == "bluez:" + sys.argv[2]]
assert p, "no bluez participant in stats"
n = p[0]["airtime"]["beacon"]["packets"]
assert n >= 1, "no beacon packets from the bluez participant"
print("bluez participant beacon packets:", n)
PY
echo "test_meshd_beacon: PASS"
