#!/bin/bash
# Runs inside the bookworm root that scripts/test-deb.sh boots with systemd-nspawn, as the
# one unit the boot starts (meshgw-pkgtest.service, systemd as PID 1): `systemctl start
# meshgw` on the installed package and what an administrator would then look at.  Prints
# one line per check; exits non-zero at the first failure (the unit's FailureAction=
# passes the status to systemd-nspawn).  No curl in the root: HTTP/1.0 over bash's /dev/tcp.
set -uo pipefail
export SYSTEMD_PAGER='' SYSTEMD_COLORS=0

fail() {
	echo "FAIL: $*"
	systemctl status --no-pager meshgw 2>&1 | head -20
	journalctl -b --no-pager -o short-monotonic -u meshgw | tail -30
	exit 1
}

# GET PATH: the body (headers stripped) on stdout; fails unless the status is 200.
get() {
	local status
	# (get runs in a subshell: its stderr is dropped while meshgw is not yet listening)
	exec 2>/dev/null 3<>/dev/tcp/127.0.0.1/8080 || return 1
	printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3
	IFS=' ' read -r _ status _ <&3 || return 1
	[ "$status" = 200 ] || return 1
	sed '1,/^\r$/d' <&3
	exec 3<&-
}

conf_bearer=$(sed -n 's/^bearer *= *//p' /etc/meshgw/meshgw.conf)
echo "packaged bearer: $conf_bearer"

systemctl start meshgw || fail "systemctl start meshgw"
echo "ok systemctl start meshgw"
for _ in $(seq 100); do
	health=$(get /healthz) && break
	systemctl -q is-active meshgw || fail "meshgw exited after its start"
	sleep 0.1
done
[ -n "${health:-}" ] || fail "no /healthz answer in 10 s"
echo "healthz: $health"
[ "$(systemctl is-active meshgw)" = active ] || fail "is-active: $(systemctl is-active meshgw)"
echo "ok systemctl is-active meshgw: active"
grep -q '"status": *"ok"' <<<"$health" || fail "healthz status"
# The packaged hci:0 on a machine without that controller (this one has no AF_BLUETOOTH,
# or no hci0): the service runs, and says why the radio is down.
if grep -q '"bearer": *true' <<<"$health"; then
	echo "ok bearer ready"
else
	grep -Eq '"state": *"(down-reopening|failed|starting)"' <<<"$health" ||
		fail "bearer not ready, and no state says so"
	grep -Eq '"reason": *"[^"]+' <<<"$health" || fail "bearer down without a reason"
	echo "ok bearer down, with its reason, while the service is active"
	# One line in the journal says why and what to do ("hci:0: failed: ...").
	lines=$(journalctl -b --no-pager -o cat -u meshgw | grep -F "$conf_bearer: ")
	echo "$lines"
	[ "$(grep -c . <<<"$lines")" -eq 1 ] || fail "expected one log line about $conf_bearer"
	echo "ok one log line about $conf_bearer"
fi
get / | cmp -s - /usr/share/meshgw/web/index.html || fail "GET / is not web/index.html"
echo "ok GET / serves /usr/share/meshgw/web/index.html"

# The sandbox, read off the running process rather than the unit file.
pid=$(systemctl show -p MainPID --value meshgw)
[ "${pid:-0}" -gt 0 ] || fail "no MainPID"
status=/proc/$pid/status
field() { sed -n "s/^$1:[[:space:]]*//p" "$status"; }
[ "$(field Seccomp)" = 2 ] || fail "Seccomp: $(field Seccomp) (SystemCallFilter= not applied)"
[ "$(field NoNewPrivs)" = 1 ] || fail "NoNewPrivs: $(field NoNewPrivs)"
# CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN (bits 13 and 12), given to the process.
[ "$(field CapBnd)" = 0000000000003000 ] || fail "CapBnd: $(field CapBnd)"
[ "$(field CapEff)" = 0000000000003000 ] || fail "CapEff: $(field CapEff)"
uid=$(field Uid | cut -f1)
[ "$uid" = "$(id -u meshgw)" ] || fail "runs as uid $uid"
# ProtectSystem=strict: / read-only for it; StateDirectory= writable.
opts() { awk -v m="$1" '$5 == m { print $6 }' "/proc/$pid/mountinfo" | tail -1; }
[[ ,$(opts /), == *,ro,* ]] || fail "/ is $(opts /) for meshgw"
[[ ,$(opts /var/lib/meshgw), == *,rw,* ]] || fail "/var/lib/meshgw is $(opts /var/lib/meshgw)"
for p in NoNewPrivileges ProtectSystem SystemCallFilter RestrictAddressFamilies \
	MemoryDenyWriteExecute PrivateTmp; do
	v=$(systemctl show -p "$p" --value meshgw)
	[ -n "$v" ] && [ "$v" != no ] || fail "$p=$v"
done
echo "ok sandbox in effect: Seccomp 2, NoNewPrivs 1, CapBnd/CapEff 0x3000, uid meshgw, / ro," \
	"/var/lib/meshgw rw"

for f in /var/lib/meshgw/meshgw.db /var/lib/meshgw/master.key; do
	s=$(stat -c '%U:%G %a' "$f") || fail "$f missing"
	[ "$s" = "meshgw:meshgw 600" ] || fail "$f is $s"
	echo "ok $f $s"
done

systemctl stop meshgw || fail "systemctl stop meshgw"
result=$(systemctl show -p Result --value meshgw)
code=$(systemctl show -p ExecMainStatus --value meshgw)
state=$(systemctl is-active meshgw)
[ "$result" = success ] && [ "$code" = 0 ] && [ "$state" = inactive ] ||
	fail "after stop: Result=$result ExecMainStatus=$code $state"
echo "ok systemctl stop meshgw: Result=success, exit status 0, inactive"
echo "pkgtest: all checks passed"
