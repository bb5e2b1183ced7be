#!/usr/bin/env bash
# HTTP integration tests: meshsim + meshgw driven through the REST API, every
# response validated against openapi.yaml (tests/integration/README.md).
# Builds nothing: expects meshgw and meshsim in $BUILD_DIR (default build/,
# as scripts/test.sh leaves it).  Exits with node --test's status.
#
#   tests/integration/run.sh
#   BUILD_DIR=build-asan tests/integration/run.sh
#   KEEP_TMP=1 tests/integration/run.sh    keep logs and state under $TMPDIR/meshgw-integ-*
#   IT_BEARERS=sim tests/integration/run.sh     only the first pass
#
# The first pass runs every test on meshgw's direct sim bearer (hci.test.mjs sets up
# its own virtual controllers).  Then the full commissioning flow (gateway.test.mjs,
# rpr.test.mjs) runs again through meshgw's HCI bearer on meshsim's virtual
# controller, once as a legacy-only 4.2 controller and once with extended advertising.
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
bearers=${IT_BEARERS:-sim hci-legacy hci-ext}
for b in $bearers; do
	echo "== integration tests, bearer $b"
	if [ "$b" = sim ]; then
		IT_BEARER=sim node --test tests/integration/
	else
		IT_BEARER=$b node --test tests/integration/gateway.test.mjs tests/integration/rpr.test.mjs
	fi
done
