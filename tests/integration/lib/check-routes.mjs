// Checks that every route in api/routes.c is described in openapi.yaml with
// the same method, and that openapi.yaml describes no route the C table lacks.
// Run from the repository root: node tests/integration/lib/check-routes.mjs
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import yaml from 'js-yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const src = readFileSync(path.join(root, 'api/routes.c'), 'utf8');
const spec = yaml.load(readFileSync(path.join(root, 'openapi.yaml'), 'utf8'));

const fromC = new Set();
for (const m of src.matchAll(/\{"(GET|POST|PATCH|DELETE|PUT)",\s*"([^"]+)"/g)) {
  fromC.add(`${m[1]} ${m[2]}`);
}
const fromSpec = new Set();
for (const [p, item] of Object.entries(spec.paths)) {
  for (const method of ['get', 'post', 'patch', 'delete', 'put']) {
    if (item[method]) fromSpec.add(`${method.toUpperCase()} ${p}`);
  }
}
let bad = 0;
for (const r of fromC) {
  if (!fromSpec.has(r)) { console.error(`openapi.yaml lacks ${r} (api/routes.c)`); bad++; }
}
for (const r of fromSpec) {
  if (!fromC.has(r)) { console.error(`api/routes.c lacks ${r} (openapi.yaml)`); bad++; }
}
if (fromC.size === 0) { console.error('no routes parsed from api/routes.c'); bad++; }
if (bad) process.exit(1);
console.log(`routes: ${fromC.size} routes in api/routes.c, all described in openapi.yaml`);
