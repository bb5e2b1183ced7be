#!/usr/bin/env bash
# Builds the LD_PRELOAD library for bluetooth-meshd (tests/interop/preload.c)
# with meshgw's own crypto (mesh/crypto_openssl.c and the leaf it forwards to,
# crypto/sec_openssl.c: the OpenSSL users).
#
#   tests/interop/build.sh [OUT.so]     default: $MESHGW_INTEROP_DIR/meshd_preload.so
#                                       or build-interop/meshd_preload.so
# Prints the path of the library.  Rebuilds only when a source is newer.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-${MESHGW_INTEROP_DIR:-$root/build-interop}/meshd_preload.so}
mkdir -p "$(dirname "$out")"
srcs=("$root/tests/interop/preload.c" "$root/mesh/crypto_openssl.c" "$root/crypto/sec_openssl.c")
stale=0
[ -f "$out" ] || stale=1
for s in "${srcs[@]}" "$root/mesh/crypto.h" "$root/crypto/sec.h"; do
	[ "$s" -nt "$out" ] && stale=1
done
if [ "$stale" = 1 ]; then
	# Hidden visibility: only the socket and ell entry points are exported, so
	# mesh_crypto_* and sec_* cannot clash with anything in the daemon.
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -fPIC -shared \
		-fvisibility=hidden -I"$root" -o "$out.tmp" "${srcs[@]}" -lcrypto -ldl
	mv "$out.tmp" "$out"
fi
echo "$out"
