#!/usr/bin/env bash
# HTTP integration tests: meshsim + meshgw driven through the REST API, every
# response validated against openapi.yaml (tests/integration/README.md).
# Builds nothing: expects meshgw and meshsim in $BUILD_DIR (default build/,
# as scripts/test.sh leaves it).  Exits with node --test's status.
#
#   tests/integration/run.sh
#   BUILD_DIR=build-asan tests/integration/run.sh
#   KEEP_TMP=1 tests/integration/run.sh    keep logs and state under $TMPDIR/meshgw-integ-*
set -euo pipefail
cd "$(dirname "$0")/../.."
export BUILD_DIR=${BUILD_DIR:-build}
for b in meshgw meshsim; do
	if [ ! -x "$BUILD_DIR/$b" ]; then
		echo "integration: $BUILD_DIR/$b missing; build first (scripts/test.sh or cmake --build $BUILD_DIR)" >&2
		exit 2
	fi
done
if [ ! -d node_modules ]; then
	npm ci --no-audit --no-fund
fi
exec node --test tests/integration/
