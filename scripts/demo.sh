#!/usr/bin/env bash
# The one-command demo (README): installs what is missing, builds meshgw and
# meshsim (release build in build/), starts meshsim with the 60-device office
# of sim/scenarios/office.json and meshgw on it, creates an operator token and
# prints the URL, the token and curl examples.  Stays in the foreground;
# Ctrl-C stops both cleanly.
#
# meshgw reaches the air the way it reaches a real radio: through its HCI bearer
# (`bearer = uart:PATH`) on meshsim's virtual LE controller, a pty speaking H4
# (sim/PORTS.md, "HCI port"), a 5.x controller with 4 extended advertising sets.
#
#   scripts/demo.sh
#   BEARER=legacy scripts/demo.sh      the virtual controller as a legacy-only 4.2 controller
#   BEARER=sim scripts/demo.sh         meshgw's direct bearer on meshsim's native port
#   PORT=8081 scripts/demo.sh          another HTTP port
#   KEEP_STATE=1 scripts/demo.sh       keep the previous run's network (the
#                                      simulated devices still start unprovisioned)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
port=${PORT:-8080}
scenario=sim/scenarios/office.json
# office.json's native port: the gateway joins the air there, at the port's position.
air_sock=/tmp/meshsim.sock
air_pos=0,5,1
bearer=${BEARER:-ext}
case "$bearer" in
ext | legacy | sim) ;;
*)
	echo "demo: BEARER=$bearer: expected ext, legacy or sim" >&2
	exit 2
	;;
esac

scripts/deps.sh demo

b=${BUILD_DIR:-build}
echo "demo: building (release) in $b/"
cmake -S . -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$b" -j "$(nproc)" --target meshgw meshsim >/dev/null

state_home=${XDG_STATE_HOME:-${HOME:-/nonexistent}/.local/state}
if mkdir -p "$state_home" 2>/dev/null && [ -w "$state_home" ]; then
	dir=$state_home/meshgw-demo
else
	dir=${TMPDIR:-/tmp}/meshgw-demo-$(id -u)
fi
if [ -z "${KEEP_STATE:-}" ]; then
	rm -rf "$dir"
fi
mkdir -p -m 700 "$dir/state"
hci=$dir/hci0
if [ "$bearer" = sim ]; then
	bearer_line="bearer = sim:$air_sock"
	sim_args=()
	radio=$air_sock
else
	profile=ext:4
	[ "$bearer" = legacy ] && profile=legacy
	bearer_line="bearer = uart:$hci"
	# The virtual controller stands at the native port's position: the same radio.
	sim_args=(--hci-port "$hci@$air_pos,$profile")
	radio=$hci
fi

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "demo: 127.0.0.1:$port is in use (another demo?); try PORT=8081 $0" >&2
	exit 1
fi

cat >"$dir/meshgw.conf" <<EOF
# Written by scripts/demo.sh; keys are described in gateway/conf.h.
state_dir = $dir/state
listen = 127.0.0.1:$port
$bearer_line
position = $air_pos
web_root = $root/web
max_sessions = 8
EOF
"$b"/meshgw -n -f "$dir/meshgw.conf" >/dev/null

sim_pid="" gw_pid=""
stop() {
	trap - INT TERM EXIT
	echo
	echo "demo: stopping"
	if [ -n "$gw_pid" ] && kill -TERM "$gw_pid" 2>/dev/null; then
		wait "$gw_pid" 2>/dev/null || true
	fi
	if [ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null; then
		wait "$sim_pid" 2>/dev/null || true
	fi
	echo "demo: stopped (logs and state in $dir)"
}
trap stop EXIT
trap 'exit 0' INT TERM HUP

# The children run in their own sessions, so that Ctrl-C reaches only this
# script, which then stops meshgw first (Link Close, inventory flushed) and
# meshsim second.

setsid "$b"/meshsim -s "$scenario" --ctl "$dir/meshsim.ctl" "${sim_args[@]}" 2>"$dir/meshsim.log" &
sim_pid=$!
for _ in $(seq 100); do
	[ -e "$radio" ] && break
	kill -0 "$sim_pid" 2>/dev/null || { cat "$dir/meshsim.log" >&2; exit 1; }
	sleep 0.1
done

setsid "$b"/meshgw -d -f "$dir/meshgw.conf" 2>"$dir/meshgw.log" &
gw_pid=$!
ready=""
for _ in $(seq 200); do
	if curl -sf "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"bearer":true'; then
		ready=1
		break
	fi
	kill -0 "$gw_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$ready" ]; then
	echo "demo: meshgw did not come up; its log:" >&2
	cat "$dir/meshgw.log" >&2
	exit 1
fi

token=$("$b"/meshgw -f "$dir/meshgw.conf" token create --role operator --name "demo-$(date +%H%M%S)" 2>/dev/null)

# Two devices near the gateway port in office.json (f0-light-00-01 with a 16-octet
# static OOB value, f0-switch-01-00 without OOB).
cat <<EOF

  meshgw demo: meshsim with $scenario (60 devices on 3 floors) and meshgw on it
  Radio:      $bearer_line$( [ "$bearer" = sim ] || echo " (meshsim's virtual controller, $profile)")

  Web page:   http://127.0.0.1:$port/
  Token:      $token   (operator)
  Logs:       $dir/meshgw.log, $dir/meshsim.log
  Devices:    $b/meshsim ctl --ctl $dir/meshsim.ctl list | oob | dev N onoff$( [ "$bearer" = sim ] || printf '\n  Controller: %s' "$b/meshsim ctl --ctl $dir/meshsim.ctl hci 0 status   (the virtual controller)")

  Try it:

  TOKEN=$token
  H="Authorization: Bearer \$TOKEN"; J="Content-Type: application/json"
  U=http://127.0.0.1:$port/api/v1

  # scan for unprovisioned devices for 20 s, then look at what was seen
  curl -s -H "\$H" -H "\$J" -X POST -d '{"duration_s": 20}' \$U/scans
  curl -s -H "\$H" \$U/scans/results

  # provision two devices at once (they are configured automatically afterwards)
  curl -s -H "\$H" -H "\$J" -X POST \$U/provisioning -d '{"devices": [
    {"uuid": "e7d534bbd4de4294a5f71f8051cf7e5d", "name": "light-1",
     "auth": {"method": "static", "static_oob": "05f491384bc83d8b4610f03820b5e641"}},
    {"uuid": "d386a51808064eb897142cda63b0508f", "name": "switch-1", "auth": {"method": "none"}}]}'
  curl -s -H "\$H" \$U/provisioning          # wait for "state": "done"; note light-1's "address"

  # configure: read the inventory, the composition, and ask the node for its relay state
  A=\$(curl -s -H "\$H" "\$U/nodes?name=light-1" | sed -n 's/.*"address":\([0-9]*\).*/\1/p')
  curl -s -H "\$H" \$U/nodes/\$A
  curl -s -H "\$H" \$U/nodes/\$A/composition/0
  curl -s -H "\$H" -H "\$J" -X POST -d '{"op": "relay_get"}' \$U/nodes/\$A/config

  # toggle the light and read its state
  curl -s -H "\$H" -H "\$J" -X POST -d "{\"address\": \$A, \"on\": true}" \$U/onoff
  curl -s -H "\$H" \$U/onoff/\$A

  Ctrl-C stops meshgw and meshsim.
EOF

# Stay in the foreground until Ctrl-C or until one of the two exits.
set +e
wait -n "$sim_pid" "$gw_pid"
echo "demo: a process exited on its own; see $dir/meshgw.log and $dir/meshsim.log" >&2
exit 1
