#!/usr/bin/env bash
# Runs an unmodified BlueZ bluetooth-meshd as an unprovisioned device on a
# meshsim BlueZ port (../shared/peers/bluez.md), and stays alive as its
# parent: the daemon sets PR_SET_PDEATHSIG and dies with this script.
#
# Steps: a private allow-all dbus-daemon (tests/interop/dbus.conf); the
# daemon with the LD_PRELOAD library (tests/interop/build.sh) in unit mode;
# then tests/interop/join.py, which calls Network1.Join(uuid).
#
# Environment (inputs):
#   MESHD_PEER         required: meshsim's --bluez-port socket path
#   MESHD_DIR          work directory (default: a new mktemp -d); holds
#                        bus          the private D-Bus socket
#                        meshd.sock   the daemon's unit socket (MESH_UNIT_PATH)
#                        storage/     fresh --storage, so the device is unprovisioned
#                        meshd.log    daemon output (--debug)
#                        join.log     join.py output: JOIN-COMPLETE / JOIN-FAILED ...
#                        dbus.log     dbus-daemon output
#                        ready        written once the daemon is on the bus
#   MESHD_UUID         Device UUID, 32 hex digits, RFC 4122 (default below)
#   MESHD_STATIC_OOB   16 octets of hex: offer Static OOB with this value
#   MESHD_CAPS         agent capabilities, space separated (default: static-oob
#                      when MESHD_STATIC_OOB is set, else none = No OOB)
#   MESHD_CID, MESHD_PID, MESHD_VID
#                      Company, Product and Version IDs of the application
#                      (Composition Data page 0; join.py's defaults otherwise)
#   MESHD_TIMEOUT      seconds before everything is stopped (default 600)
#   MESHD_EXIT_ON_JOIN 1: exit when join.py exits, with its status
#   MESHD_PRELOAD      prebuilt preload library (default: build it)
#   MESHD_BIN          daemon (default /usr/libexec/bluetooth/bluetooth-meshd)
#
# Exit status: 77 when the daemon or python3-dbus is missing (skip), 1 on a
# setup failure, join.py's status with MESHD_EXIT_ON_JOIN=1, 0 after SIGTERM,
# 124 on MESHD_TIMEOUT.  Children are always stopped on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
meshd=${MESHD_BIN:-/usr/libexec/bluetooth/bluetooth-meshd}
py=/usr/bin/python3
timeout_s=${MESHD_TIMEOUT:-600}
uuid=${MESHD_UUID:-d6c1b2a0f3e44c5d8e9fa0b1c2d3e4f5}

skip() {
	echo "run_meshd: SKIP: $*" >&2
	exit 77
}
[ -x "$meshd" ] || skip "$meshd not installed (Debian package bluez-meshd)"
command -v dbus-daemon >/dev/null || skip "dbus-daemon not installed"
"$py" -c 'import dbus, gi' 2>/dev/null || skip "python3-dbus/python3-gi not installed"
[ -n "${MESHD_PEER:-}" ] || {
	echo "run_meshd: MESHD_PEER (meshsim's bluez port path) is required" >&2
	exit 1
}

dir=${MESHD_DIR:-$(mktemp -d /tmp/meshd.XXXXXX)}
mkdir -p "$dir"
rm -rf "$dir/storage" "$dir/ready" "$dir/bus" "$dir/meshd.sock"
mkdir -p "$dir/storage"
preload=${MESHD_PRELOAD:-$("$here/build.sh" "$dir/meshd_preload.so")}

pids=()
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# shellcheck source=tests/interop/lib.sh
. "$here/lib.sh"

dbus-daemon --config-file="$here/dbus.conf" --address="unix:path=$dir/bus" --nofork \
	--nopidfile >"$dir/dbus.log" 2>&1 &
pids+=($!)
wait_for 10 test -S "$dir/bus" || {
	echo "run_meshd: dbus-daemon did not start (see $dir/dbus.log)" >&2
	exit 1
}
export DBUS_SESSION_BUS_ADDRESS="unix:path=$dir/bus"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/bus"

LD_PRELOAD="$preload" MESH_UNIT_PATH="$dir/meshd.sock" MESH_PEER_PATH="$MESHD_PEER" \
	"$meshd" --io "unit:$dir/meshd.sock" --storage "$dir/storage" --nodetach --debug \
	>"$dir/meshd.log" 2>&1 &
pids+=($!)
meshd_pid=$!

on_bus() {
	kill -0 "$meshd_pid" 2>/dev/null || return 2
	dbus-send --bus="$DBUS_SESSION_BUS_ADDRESS" --print-reply --dest=org.freedesktop.DBus \
		/org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.bluez.mesh \
		2>/dev/null | grep -q 'boolean true'
}
if ! wait_for 20 on_bus; then
	echo "run_meshd: bluetooth-meshd did not reach the bus (see $dir/meshd.log):" >&2
	tail -5 "$dir/meshd.log" >&2
	exit 1
fi
echo "$meshd_pid" >"$dir/ready"

join_args=(--uuid "$uuid" --timeout "$timeout_s")
[ -n "${MESHD_STATIC_OOB:-}" ] && join_args+=(--static-oob "$MESHD_STATIC_OOB")
[ -n "${MESHD_CID:-}" ] && join_args+=(--cid "$MESHD_CID")
[ -n "${MESHD_PID:-}" ] && join_args+=(--pid "$MESHD_PID")
[ -n "${MESHD_VID:-}" ] && join_args+=(--vid "$MESHD_VID")
if [ -n "${MESHD_CAPS+x}" ]; then
	# shellcheck disable=SC2206
	join_args+=(--caps ${MESHD_CAPS})
fi
"$py" "$here/join.py" "${join_args[@]}" >"$dir/join.log" 2>&1 &
join_pid=$!
pids+=("$join_pid")

end=$((SECONDS + timeout_s))
while ((SECONDS < end)); do
	if ! kill -0 "$meshd_pid" 2>/dev/null; then
		echo "run_meshd: bluetooth-meshd exited (see $dir/meshd.log)" >&2
		exit 1
	fi
	if [ "${MESHD_EXIT_ON_JOIN:-0}" = 1 ] && ! kill -0 "$join_pid" 2>/dev/null; then
		wait "$join_pid" && exit 0 || exit $?
	fi
	# Waking every 200 ms keeps signals (TERM from the test) handled promptly.
	sleep 0.2
done
echo "run_meshd: MESHD_TIMEOUT ($timeout_s s) reached" >&2
exit 124
