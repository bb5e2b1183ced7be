#!/usr/bin/env bash
# BlueZ interop through the daemon (issue 5, "BlueZ interop"): meshgw
# provisions an unmodified bluetooth-meshd on meshsim's air using only its
# REST API, and stores the daemon's Composition Data page 0.
#
# Starts meshsim (native port for meshgw, BlueZ port for the daemon), meshgw
# on a private state directory and TCP port, and then, once per round, the
# daemon through tests/interop/run_meshd.sh with a fresh storage directory
# and its own RFC 4122 UUID:
#   round 1: Static OOB (the daemon's agent answers PromptStatic), then DELETE of the
#            node: the daemon must reset itself (its storage deleted)
#   round 2: No OOB, then a Key Refresh of NetKey 0 driven by meshgw
# Each round, with curl only: POST /api/v1/scans, poll /api/v1/scans/results
# until the daemon's UUID appears, POST /api/v1/provisioning, poll
# /api/v1/provisioning/{id} until done (failed fails the test with the
# session's error), then GET /api/v1/nodes/{address}/composition/0 must hold
# the layout join.py registered.  The daemon's join.log must say
# JOIN-COMPLETE.  The provisioning time (seconds, PB-ADV packets from
# `meshsim stats`) is printed as a figure, not asserted.
#
# After round 2 the daemon stays up and an admin starts a Key Refresh of NetKey 0
# (POST /api/v1/keys/net/0/refresh): the job must finish with the daemon's target done;
# then the daemon's own storage (node.json) must hold exactly the new NetKey and AppKey that
# meshgw exports, with no old key left and its Key Refresh phase back to 0, and the daemon
# must answer a Config message, which meshgw can only secure and read with the new NetKey.
#
#   MESHSIM=build/meshsim MESHGW=build/meshgw tests/interop/test_meshgw_meshd.sh [WORKDIR]
# Exit 0 pass, 1 fail, 77 skip (reason on stderr).  The work directory keeps
# every log; it is removed after a pass unless it was given.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
meshsim=${MESHSIM:-$root/build/meshsim}
meshgw=${MESHGW:-$root/build/meshgw}
py=/usr/bin/python3
name=test_meshgw_meshd

skip() {
	echo "$name: SKIP: $*" >&2
	exit 77
}
fail() {
	echo "$name: FAIL: $*" >&2
	exit 1
}
[ -x "$meshsim" ] || skip "no meshsim binary at $meshsim"
[ -x "$meshgw" ] || skip "no meshgw binary at $meshgw"
[ -x /usr/libexec/bluetooth/bluetooth-meshd ] ||
	skip "bluetooth-meshd not installed (Debian bluez-meshd; scripts/deps.sh test)"
"$py" -c 'import dbus, gi' 2>/dev/null || skip "python3-dbus/python3-gi not installed (scripts/deps.sh test)"
command -v curl >/dev/null || skip "curl not installed"
command -v cc >/dev/null || skip "no C compiler for the preload library"

keep=${1:+1}
dir=${1:-$(mktemp -d /tmp/meshgw-meshd.XXXXXX)}
mkdir -p "$dir"
sim_pid="" gw_pid="" meshd_pid="" last_addr=""

stop_pid() {
	local p=$1
	[ -n "$p" ] || return 0
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pid "$meshd_pid"
	stop_pid "$gw_pid"
	stop_pid "$sim_pid"
	if [ "$rc" != 0 ]; then
		for f in meshsim.log meshgw.log meshd-*/meshd.log meshd-*/join.log run_meshd-*.log; do
			for g in "$dir"/$f; do
				[ -f "$g" ] && { echo "--- $g"; tail -25 "$g"; }
			done
		done >&2
		# The machine's state too: a full disk or a starved CPU explains a lot.
		{
			echo "--- load average: $(cat /proc/loadavg 2>/dev/null)"
			df -h "$dir" 2>/dev/null | tail -1 | sed 's/^/--- disk: /'
		} >&2
		echo "$name: logs kept in $dir" >&2
	elif [ -z "$keep" ]; then
		rm -rf "$dir"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_for SECONDS COMMAND...: readiness of what we started, states the
# REST API reports.
# shellcheck source=tests/interop/lib.sh
. "$here/lib.sh"

# JSON field extraction with Debian's python3 (no jq needed): json_get EXPR
# evaluates EXPR with `d` bound to the JSON document on stdin.
json_get() {
	"$py" -c 'import json, sys; d = json.load(sys.stdin); v = eval(sys.argv[1]); print("" if v is None else v)' "$1"
}

# --- meshsim and meshgw ---------------------------------------------------
"$meshsim" --ctl "$dir/ctl" --port "$dir/native.sock@0,0,1" \
	--bluez-port "$dir/bz.sock@3,0,1" --stats-out "$dir/stats.json" -d \
	>"$dir/meshsim.log" 2>&1 &
sim_pid=$!
wait_for 10 test -S "$dir/native.sock" -a -S "$dir/bz.sock" -a -S "$dir/ctl" ||
	fail "meshsim did not bind its sockets"

# A TCP port that was free a moment ago.
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
cat >"$dir/meshgw.conf" <<EOF
state_dir = $dir/state
listen = 127.0.0.1:$port
bearer = sim:$dir/native.sock
web_root = $root/web
EOF
mkdir -p "$dir/state"
"$meshgw" -f "$dir/meshgw.conf" -n >/dev/null || fail "meshgw refuses the configuration"
token=$("$meshgw" -f "$dir/meshgw.conf" token create --role operator --name interop 2>>"$dir/meshgw.log") ||
	fail "meshgw token create failed"
[ -n "$token" ] || fail "meshgw token create printed nothing"
admin=$("$meshgw" -f "$dir/meshgw.conf" token create --role admin --name interop-admin 2>>"$dir/meshgw.log") ||
	fail "meshgw token create (admin) failed"
"$meshgw" -d -f "$dir/meshgw.conf" >>"$dir/meshgw.log" 2>&1 &
gw_pid=$!
healthy() {
	kill -0 "$gw_pid" 2>/dev/null || fail "meshgw exited"
	curl -sf "$base/healthz" >/dev/null
}
wait_for 20 healthy || fail "meshgw did not answer /healthz"

# One request: api METHOD PATH [JSON BODY]; the body lands in $dir/body, the
# status code in $status.
auth=(-H "Authorization: Bearer $token")
api() {
	local args=(-s -o "$dir/body" -w '%{http_code}' -X "$1" "${auth[@]}" --max-time 30)
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data "$3")
	status=$(curl "${args[@]}" "$base$2") || status=000
}
expect() {
	local want=$1 what=$2
	[ "$status" = "$want" ] || fail "$what: HTTP $status (expected $want): $(head -c 600 "$dir/body")"
}

# PB-ADV packets a participant has put on the air (meshsim stats).
pb_packets() {
	"$meshsim" stats --ctl "$dir/ctl" | "$py" -c '
import json, sys
st = json.load(sys.stdin)
print(sum(p["airtime"]["pb_adv"]["packets"] for p in st["participants"]
          if p["name"].startswith(sys.argv[1])))' "$1"
}

# --- one round --------------------------------------------------------------
# round N UUID AUTH_JSON [STATIC_OOB [keep]]: with keep the daemon stays up afterwards.
round() {
	local n=$1 uuid=$2 auth_json=$3 oob=${4:-} keep_meshd=${5:-}
	local mdir="$dir/meshd-$n" sid addr state t0 t_prov="" gw0 bz0

	MESHD_PEER="$dir/bz.sock" MESHD_DIR="$mdir" MESHD_UUID="$uuid" MESHD_STATIC_OOB="$oob" \
		MESHD_CID=0x05f1 MESHD_PID=0x4d47 MESHD_VID=0x0105 MESHD_TIMEOUT=300 \
		"$here/run_meshd.sh" >"$dir/run_meshd-$n.log" 2>&1 &
	meshd_pid=$!

	# A scan may still run from the previous round: stop it (404 when none).
	api DELETE /api/v1/scans/current
	api POST /api/v1/scans '{"duration_s": 60}'
	expect 202 "POST /api/v1/scans"
	seen() {
		if ! kill -0 "$meshd_pid" 2>/dev/null; then
			wait "$meshd_pid" && rc=0 || rc=$?
			[ "$rc" = 77 ] && skip "$(tail -1 "$dir/run_meshd-$n.log")"
			fail "run_meshd.sh exited ($rc): $(tail -1 "$dir/run_meshd-$n.log")"
		fi
		# join.py reports a refused or failed Join (or its own timeout) at once.
		local bad
		bad=$(grep -m1 -E '^(JOIN-ERROR|JOIN-FAILED|TIMEOUT)' "$mdir/join.log" 2>/dev/null) &&
			fail "round $n: the daemon's Join did not start: $bad"
		api GET /api/v1/scans/results
		[ "$status" = 200 ] || fail "GET /api/v1/scans/results: HTTP $status: $(head -c 600 "$dir/body")"
		json_get "any(i['uuid'] == '$uuid' for i in d['items'])" <"$dir/body" | grep -qx True
	}
	wait_for 40 seen || fail "round $n: the daemon's UUID $uuid never appeared in the scan results"
	echo "round $n: scan found $uuid"

	gw0=$(pb_packets native:)
	bz0=$(pb_packets bluez:)
	t0=$(date +%s.%N)
	api POST /api/v1/provisioning "{\"devices\": [{\"uuid\": \"$uuid\", \"auth\": $auth_json}]}"
	expect 202 "POST /api/v1/provisioning"
	sid=$(json_get "d['sessions'][0]['id']" <"$dir/body")
	[ -n "$sid" ] || fail "no session id in $(cat "$dir/body")"
	finished() {
		api GET "/api/v1/provisioning/$sid"
		[ "$status" = 200 ] || fail "GET /api/v1/provisioning/$sid: HTTP $status: $(head -c 600 "$dir/body")"
		state=$(json_get "d['state']" <"$dir/body")
		# Provisioning proper ends where the session starts configuring the node.
		if [ -z "$t_prov" ] && { [ "$state" = configuring ] || [ "$state" = "done" ]; }; then
			t_prov=$(date +%s.%N)
			echo "round $n: PB-ADV provisioning took $(
				"$py" -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$t_prov"
			) s; PB-ADV packets: meshgw $(($(pb_packets native:) - gw0)), bluetooth-meshd $(($(pb_packets bluez:) - bz0))"
		fi
		case "$state" in
		done) return 0 ;;
		failed | cancelled) fail "round $n: session $sid $state: $(json_get "d['error']" <"$dir/body")" ;;
		*) return 1 ;;
		esac
	}
	# 60 s of provisioning timeout plus the automatic configuration, each
	# reply of the daemon costing about 1 s of its TX pacing.
	wait_for 150 finished || fail "round $n: session $sid still '$state' after 150 s: $(cat "$dir/body")"
	addr=$(json_get "d['address']" <"$dir/body")
	last_addr=$addr
	echo "round $n: session $sid done in $(
		"$py" -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$(date +%s.%N)"
	) s (with configuration), node address $addr"

	grep -q "JOIN-COMPLETE" "$mdir/join.log" ||
		wait_for 10 grep -q "JOIN-COMPLETE" "$mdir/join.log" ||
		fail "round $n: no JOIN-COMPLETE in join.log"
	[ -z "$oob" ] || grep -q "PROMPT-STATIC" "$mdir/join.log" ||
		fail "round $n: the daemon never asked its agent for the static OOB value"

	api GET "/api/v1/nodes/$addr/composition/0"
	expect 200 "GET /api/v1/nodes/$addr/composition/0"
	"$py" - "$dir/body" <<'PY' || fail "round $n: stored page 0 does not match join.py's application"
import json, sys
c = json.load(open(sys.argv[1]))
sig = [m["id"] for m in c["elements"][0]["models"] if not m["vendor"]]
print("stored page 0: cid=%#06x pid=%#06x vid=%#06x crpl=%#06x elements=%d sig models=%s raw=%s" % (
    c["cid"], c["pid"], c["vid"], c["crpl"], len(c["elements"]), [hex(s) for s in sig], c["raw"]))
assert c["page"] == 0, c["page"]
assert (c["cid"], c["pid"], c["vid"], c["crpl"]) == (0x05f1, 0x4d47, 0x0105, 0x7fff), c
assert len(c["elements"]) == 1, "join.py registers one element"
assert c["elements"][0]["location"] == 0x0100, c["elements"][0]
assert 0x0000 in sig, "no Configuration Server"
assert 0x1000 in sig, "no Generic OnOff Server (join.py's model)"
assert not any(m["vendor"] for m in c["elements"][0]["models"]), "unexpected vendor model"
# raw is the page as received: its header must agree with the parsed fields.
raw = bytes.fromhex(c["raw"])
assert len(raw) >= 14 and int.from_bytes(raw[0:2], "little") == c["cid"], c["raw"]
PY

	# The automatic configuration reached the daemon: AppKey Add and Model
	# App Bind of its OnOff server were acknowledged (the inventory records
	# a binding only on a success status).
	api GET "/api/v1/nodes/$addr"
	expect 200 "GET /api/v1/nodes/$addr"
	"$py" - "$dir/body" <<'PY' || fail "round $n: the daemon was not configured"
import json, sys
n = json.load(open(sys.argv[1]))
print("node:", {k: n[k] for k in ("address", "uuid", "elements", "state", "app_keys", "bindings", "pages")})
assert n["app_keys"], "no AppKey on the node"
assert any(b["element"] == 0 and b["model"] == 0x1000 for b in n["bindings"]), n["bindings"]
PY

	[ -n "$keep_meshd" ] && return 0
	stop_pid "$meshd_pid"
	meshd_pid=""
}

# remove_round N UUID ADDR: DELETE the daemon's node. The daemon must reset: it deletes its
# node storage. Its Node Reset Status is built but, in 5.66 with --io unit, the daemon leaves
# at once after the reset and the status never leaves its 500 ms transmit queue; so the
# removal finishes on meshgw's timeout with reset_acknowledged false, which is reported.
remove_round() {
	local n=$1 uuid=$2 addr=$3 op state
	api DELETE "/api/v1/nodes/$addr"
	expect 202 "DELETE /api/v1/nodes/$addr"
	op=$(json_get "d['id']" <"$dir/body")
	removed() {
		api GET "/api/v1/operations/$op"
		[ "$status" = 200 ] || fail "GET /api/v1/operations/$op: HTTP $status: $(head -c 600 "$dir/body")"
		state=$(json_get "d['state']" <"$dir/body")
		[ "$state" != running ] && [ "$state" != pending ]
	}
	wait_for 120 removed || fail "round $n: removal $op still '$state' after 120 s"
	"$py" - "$dir/body" <<'PY' || fail "round $n: the removal did not succeed"
import json, sys
o = json.load(open(sys.argv[1]))
print("removal:", o["state"], o["result"], o["error"])
assert o["state"] == "done", o
PY
	[ ! -e "$dir/meshd-$n/storage/$uuid/node.json" ] ||
		fail "round $n: bluetooth-meshd did not reset (its node.json is still there)"
	api GET "/api/v1/nodes/$addr"
	expect 200 "GET /api/v1/nodes/$addr after the removal"
	json_get "d['excluded']" <"$dir/body" | grep -qx True || fail "round $n: node $addr not excluded: $(cat "$dir/body")"
	echo "round $n: bluetooth-meshd reset itself on Node Reset (storage deleted); node $addr removed"
	stop_pid "$meshd_pid"
	meshd_pid=""
}

# kr_round N UUID ADDR: Key Refresh of NetKey 0 with the daemon of round N as its node.
kr_round() {
	local n=$1 uuid=$2 addr=$3 job state t0
	local node_json="$dir/meshd-$n/storage/$uuid/node.json"

	t0=$(date +%s.%N)
	auth=(-H "Authorization: Bearer $admin")
	api POST /api/v1/keys/net/0/refresh
	expect 202 "POST /api/v1/keys/net/0/refresh"
	job=$(json_get "d['job']" <"$dir/body")
	kr_done() {
		api GET "/api/v1/jobs/$job"
		[ "$status" = 200 ] || fail "GET /api/v1/jobs/$job: HTTP $status: $(head -c 600 "$dir/body")"
		state=$(json_get "d['state']" <"$dir/body")
		[ "$state" = done ] || [ "$state" = cancelled ]
	}
	wait_for 240 kr_done || fail "Key Refresh job $job still '$state' after 240 s: $(head -c 1500 "$dir/body")"
	"$py" - "$dir/body" "$addr" <<'PY' || fail "Key Refresh job $job: the daemon's target did not finish"
import json, sys
j = json.load(open(sys.argv[1]))
t = [x for x in j["targets"] if x["node"] == int(sys.argv[2])]
print("key_refresh job:", j["state"], j["counts"], [(x["node"], x["state"], x["attempts"], x["error"]) for x in j["targets"]])
assert j["state"] == "done" and len(t) == 1 and t[0]["state"] == "done", t
PY
	echo "round $n: Key Refresh of NetKey 0 done in $(
		"$py" -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$(date +%s.%N)"
	) s"
	api GET "/api/v1/keys/net?export=true"
	expect 200 "GET /api/v1/keys/net?export=true"
	cp "$dir/body" "$dir/netkeys.json"
	api GET "/api/v1/keys/app?export=true"
	expect 200 "GET /api/v1/keys/app?export=true"
	cp "$dir/body" "$dir/appkeys.json"
	auth=(-H "Authorization: Bearer $token")
	# The daemon writes its storage when it changes keys; the file may lag the status by a moment.
	meshd_has_new_keys() {
		"$py" - "$node_json" "$dir/netkeys.json" "$dir/appkeys.json" "$dir/netkeys-before.json" <<'PY'
import json, sys
node = json.load(open(sys.argv[1]))
nk = next(k for k in json.load(open(sys.argv[2]))["items"] if k["index"] == 0)
ak = next(k for k in json.load(open(sys.argv[3]))["items"] if k["index"] == 0)
old = next(k for k in json.load(open(sys.argv[4]))["items"] if k["index"] == 0)
dn = next(k for k in node["netKeys"] if k["index"] == 0)
da = next(k for k in node["appKeys"] if k["index"] == 0)
ok = (nk["phase"] == 0 and nk["key"] != old["key"] and dn["key"] == nk["key"] and dn.get("keyRefresh", 0) == 0
      and "oldKey" not in dn and da["key"] == ak["key"] and "oldKey" not in da)
sys.exit(0 if ok else 1)
PY
	}
	wait_for 20 meshd_has_new_keys ||
		fail "round $n: the daemon's node.json does not hold meshgw's new keys alone: $(cat "$node_json")"
	echo "round $n: bluetooth-meshd stores the new NetKey and AppKey, no old key, phase 0"
	api POST "/api/v1/nodes/$addr/config" '{"op": "relay_get"}'
	expect 200 "Config Relay Get to the daemon under the new NetKey"
	echo "round $n: the daemon answers Config Relay Get under the new NetKey: $(cat "$dir/body")"
	stop_pid "$meshd_pid"
	meshd_pid=""
}

round 1 8e2f4a17c3b94d6ea5f01c7b9d3e2a48 \
	'{"method": "static", "static_oob": "5a1e33c09d7f4b28e61a90c4d7b35f82"}' \
	5a1e33c09d7f4b28e61a90c4d7b35f82 keep
remove_round 1 8e2f4a17c3b94d6ea5f01c7b9d3e2a48 "$last_addr"
auth=(-H "Authorization: Bearer $admin")
api GET "/api/v1/keys/net?export=true"
expect 200 "GET /api/v1/keys/net?export=true"
cp "$dir/body" "$dir/netkeys-before.json"
auth=(-H "Authorization: Bearer $token")
round 2 c41d7e9a0b3f4e65972d18a6f0c5b3e1 '{"method": "none"}' "" keep
kr_round 2 c41d7e9a0b3f4e65972d18a6f0c5b3e1 "$last_addr"

# SIGTERM stops meshgw cleanly: exit 0 (under ASan also no leak report),
# within the 2 s the daemon promises (a watchdog kills it after 10 s).
kill "$gw_pid"
(
	end=$((SECONDS + 10))
	while ((SECONDS < end)); do
		kill -0 "$gw_pid" 2>/dev/null || exit 0
		sleep 0.1
	done
	kill -KILL "$gw_pid" 2>/dev/null
) >/dev/null 2>&1 &
watchdog=$!
gw_rc=0
wait "$gw_pid" || gw_rc=$?
gw_pid=""
kill "$watchdog" 2>/dev/null || true
wait "$watchdog" 2>/dev/null || true
[ "$gw_rc" = 0 ] || fail "meshgw exited with status $gw_rc on SIGTERM (137: still running after 10 s)"
echo "$name: PASS"
