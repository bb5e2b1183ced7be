#!/usr/bin/env bash
# Installs the Debian packages meshgw needs to build and test, if missing.
# Usage: scripts/deps.sh [build|test|demo|bench|deb]
set -euo pipefail
what=${1:-test}
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev libssl-dev libsqlite3-dev
	libjansson-dev libmicrohttpd-dev libbluetooth-dev)
# The Debian package's build, its check and a clean bookworm root to install it in
# (scripts/test-deb.sh).
deb=(debhelper dpkg-dev pkgconf ccache lintian mmdebstrap iproute2 systemd-container)
case "$what" in
test)
	pkgs+=(libcriterion-dev clang-format curl sqlite3 bluez-meshd bluez-test-scripts dbus-daemon
		python3-dbus python3-gi chromium "${deb[@]}")
	# Node.js runs the OpenAPI lint and the HTTP integration tests; a machine
	# that already has node and npm (from any source) keeps them.
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
	;;
demo) pkgs+=(curl) ;;
bench) pkgs+=(curl wrk python3) ;;
deb) pkgs+=(curl "${deb[@]}") ;;
esac
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "deps: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
