// The README's REST walk-through ("Trying the REST API") against the demo's scenario,
// sim/scenarios/office.json, and scripts/demo.sh, read as text (no daemon is started): the
// devices it provisions exist with the OOB values it gives, its names match the demo's, the
// remote scan follows the provisioning of a Remote Provisioning Server, the refresh goes to a
// node that is such a server and comes before any removal of it, meshsim's control commands
// name the demo's socket, and the two provisioning answers (sessions / items) are documented
// as openapi.yaml has them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpec } from './lib/openapi.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const demo = readFileSync(path.join(root, 'scripts/demo.sh'), 'utf8');
const office = JSON.parse(readFileSync(path.join(root, 'sim/scenarios/office.json'), 'utf8'));
const byUuid = Object.fromEntries(office.devices.map((d) => [d.uuid, d]));

/** The walk-through: the first sh block after the "Trying the REST API" heading. */
function walkThrough() {
  const at = readme.indexOf('## Trying the REST API');
  assert.ok(at >= 0, 'README has "Trying the REST API"');
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(m, 'a sh block follows');
  return m[1].split('\n');
}

/** name -> uuid of every device the block provisions (one {"uuid", "name"} per device). */
function provisioned(text) {
  const out = {};
  for (const m of text.matchAll(/"uuid": "([0-9a-f]{32})", "name": "([^"]+)"/g)) out[m[2]] = m[1];
  return out;
}

describe('README walk-through', () => {
  const lines = walkThrough();
  const block = lines.join('\n');
  const names = provisioned(block);
  const lineOf = (re, what) => {
    const i = lines.findIndex((l) => re.test(l));
    assert.ok(i >= 0, `the walk-through has ${what}`);
    return i;
  };
  // Shell variable -> the node name it is looked up by (X=$(curl ... "?name=NAME" ...)).
  const vars = {};
  for (const m of block.matchAll(/^([A-Z])=\$\(curl [^\n]*\?name=([^"&]+)"/gm)) vars[m[1]] = m[2];

  test('the devices exist in office.json with the authentication given', () => {
    assert.ok(Object.keys(names).length >= 3);
    for (const [name, uuid] of Object.entries(names)) {
      const d = byUuid[uuid];
      assert.ok(d, `${name}: ${uuid} is an office.json device`);
      const auth = new RegExp(`"uuid": "${uuid}", "name": "${name}",\\s*"auth": \\{([^}]*)\\}`).exec(block)[1];
      if (/"static"/.test(auth)) assert.match(auth, new RegExp(`"static_oob": "${d.oob.static}"`), `${name} static OOB`);
      if (/"output"/.test(auth)) assert.ok(d.oob?.output, `${name} has Output OOB`);
      if (/"none"/.test(auth)) assert.ok(!d.oob?.static, `${name} needs no static OOB`);
    }
  });

  test('the same names as the demo prints (light-1, not lamp-1)', () => {
    assert.doesNotMatch(readme, /lamp-1/);
    const demoNames = provisioned(demo.replace(/\\"/g, '"'));
    for (const [name, uuid] of Object.entries(demoNames)) {
      assert.equal(names[name], uuid, `${name} is the same device in the README and the demo`);
    }
  });

  test('remote scan after a server is provisioned; refresh on a server, before any removal', () => {
    const servers = Object.entries(names).filter(([, u]) => byUuid[u].rpr_server).map(([n]) => n);
    assert.ok(servers.length >= 1, 'the walk-through provisions a Remote Provisioning Server');
    const serverLine = lineOf(new RegExp(`"name": "${servers[0]}"`), `the provisioning of ${servers[0]}`);
    const scan = lineOf(/"remote": true/, 'a remote scan');
    assert.ok(serverLine < scan, 'the server is provisioned before the remote scan');
    const refresh = lineOf(/\/nodes\/\$[A-Z]\/refresh/, 'a refresh');
    const rv = /\/nodes\/\$([A-Z])\/refresh/.exec(lines[refresh])[1];
    assert.ok(vars[rv], `$${rv} is looked up by name`);
    assert.ok(byUuid[names[vars[rv]]].rpr_server, `the refreshed node ${vars[rv]} is an RPR server`);
    assert.ok(lineOf(new RegExp(`^${rv}=`), `$${rv}`) < refresh);
    for (let i = 0; i < lines.length; i++) {
      const del = /-X DELETE \$U\/nodes\/(\S+)/.exec(lines[i]);
      if (del) assert.ok(del[1] !== `$${rv}` || i > refresh, 'the refreshed node is not removed before');
    }
  });

  test("meshsim's control commands name the socket (--ctl)", () => {
    for (const l of readme.split('\n')) {
      if (/meshsim (ctl|stats)\b/.test(l)) assert.match(l, /meshsim (ctl|stats) (\[)?--ctl/, l);
    }
    assert.match(readme, /--ctl ~\/\.local\/state\/meshgw-demo\/meshsim\.ctl/);
  });

  test('POST /provisioning answers sessions, GET items, as documented', () => {
    const spec = loadSpec();
    const op = spec.paths['/api/v1/provisioning'];
    assert.deepEqual(op.post.responses['202'].content['application/json'].schema.required, ['sessions']);
    assert.deepEqual(op.get.responses['200'].content['application/json'].schema.required, ['items']);
    assert.match(readme, /`POST \/provisioning` answers `202 \{"sessions": \[\.\.\.\]\}`/);
    assert.match(readme, /`GET \/provisioning` answers `200 \{"items": \[\.\.\.\]\}`/);
    assert.match(op.post.description ?? '', /GET .*items/);
    assert.match(op.get.description ?? '', /POST .*sessions/);
  });
});
