// Validates HTTP responses against openapi.yaml with Ajv (JSON Schema 2020-12,
// the dialect of OpenAPI 3.1).  Used by the integration test: every response
// it receives goes through validateResponse().
//
//   import { validateResponse } from './lib/openapi.mjs';
//   const r = validateResponse('GET', '/api/v1/nodes/{address}', 200, body);
//   if (!r.valid) throw new Error(r.errors.join('\n'));
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import yaml from 'js-yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function loadSpec(file = path.join(root, 'openapi.yaml')) {
  return yaml.load(readFileSync(file, 'utf8'));
}

const spec = loadSpec();
// strict: false because OpenAPI adds keywords (description in odd places, etc.)
// that are not JSON Schema vocabulary errors worth failing a test for.
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
// The whole document is one schema resource so that '#/components/...' refs resolve.
ajv.addSchema({ $id: 'openapi.json', components: spec.components });

const cache = new Map();

function resolveRef(obj) {
  while (obj && obj.$ref) {
    const parts = obj.$ref.replace(/^#\//, '').split('/');
    obj = parts.reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return obj;
}

// Rewrites '#/components/...' refs to point into the registered resource.
function rebase(schema) {
  return JSON.parse(JSON.stringify(schema), (k, v) =>
    k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi.json${v}` : v);
}

/**
 * Validates one response.  method: 'GET'...; pathTemplate: as in openapi.yaml
 * ('/api/v1/nodes/{address}'); status: the HTTP status; body: parsed JSON.
 * contentType defaults to application/json for 2xx and
 * application/problem+json otherwise.
 * Returns { valid: boolean, errors: string[] }.
 */
export function validateResponse(method, pathTemplate, status, body, contentType) {
  const item = spec.paths[pathTemplate];
  if (!item) return { valid: false, errors: [`no path ${pathTemplate} in openapi.yaml`] };
  const op = item[method.toLowerCase()];
  if (!op) return { valid: false, errors: [`no ${method} ${pathTemplate} in openapi.yaml`] };
  const resp = resolveRef(op.responses[String(status)] ?? op.responses.default);
  if (!resp) {
    return { valid: false, errors: [`${method} ${pathTemplate}: status ${status} not described`] };
  }
  const ct = contentType ?? (status < 300 ? 'application/json' : 'application/problem+json');
  const media = resp.content?.[ct];
  if (!media) {
    return { valid: false, errors: [`${method} ${pathTemplate} ${status}: no ${ct} content`] };
  }
  const key = `${method} ${pathTemplate} ${status} ${ct}`;
  let validate = cache.get(key);
  if (!validate) {
    validate = ajv.compile(rebase(media.schema ?? {}));
    cache.set(key, validate);
  }
  const valid = validate(body);
  return {
    valid,
    errors: valid ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`),
  };
}
