#!/usr/bin/env bash
# Lints openapi.yaml with Redocly CLI, checks that it and api/routes.c list the
# same routes, and runs the response validator's self-test.  Installs the
# pinned npm devDependencies (package-lock.json) first when node_modules is
# missing.  Exits non-zero on any error.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules/@redocly/cli ] || [ ! -d node_modules/ajv ]; then
	npm ci --no-audit --no-fund
fi
npx --no-install redocly lint openapi.yaml
node tests/integration/lib/check-routes.mjs
node --test tests/integration/lib/
