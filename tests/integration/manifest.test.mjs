// Issue 12, first step: commissioning manifests through the REST API.  A CSV
// and a JSON manifest are stored, listed, read back with their secrets
// (operator only), replaced and deleted; a manifest with errors is refused
// as a whole with every error numbered by row, and nothing is stored; the
// body limit answers 413 and other media types 415.  Every response is
// checked against openapi.yaml by the harness.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './harness.mjs';

const KEY = 'f465e43ff23d3f1b9dc7dfc04da8758184dbc966204796eccf0d6cf5e16500cc' +
  '0201d048bcbbd899eeefc424164e33c201c2b010ca6b4d43a8a155cad8ecb279';
const CSV = [
  'uuid,name,zone,auth,auth_value,auth_action,auth_size,profile,notes',
  '00112233-4455-6677-8899-aabbccddeeff,"Lamp, hall",L1,none,,,,all,',
  '00112233445566778899aabbccddee01,Door,L1,static,000102030405060708090a0b0c0d0e0f,,,,"by the ""main"" door"',
  '00112233445566778899aabbccddee02,Switch,L2,output,,blink,4,none,',
  `00112233445566778899aabbccddee03,Sensor,L2,oob_public_key,${KEY},,,,`,
].join('\r\n') + '\r\n';

describe('manifests', () => {
  let w, op, viewer;
  const csv = (raw) => ({ token: op, raw, headers: { 'Content-Type': 'text/csv' } });

  before(async () => {
    w = await startWorld({ scenario: 'small.json' });
    ({ operator: op, viewer } = w.tokens);
  });
  after(async () => {
    if (w) await w.close();
  });

  test('a CSV manifest is stored, listed and read back with its secrets', async () => {
    const m = await w.ok('POST', '/api/v1/manifests', csv(CSV), [201]);
    assert.equal(m.format, 'csv');
    assert.equal(m.rows, 4);
    const list = await w.ok('GET', '/api/v1/manifests', { token: viewer });
    assert.ok(list.items.some((x) => x.id === m.id && x.rows === 4));
    const denied = await w.api('GET', `/api/v1/manifests/${m.id}`, { token: viewer });
    assert.equal(denied.status, 403, 'rows hold device secrets: not for a viewer');
    const got = await w.ok('GET', `/api/v1/manifests/${m.id}`, { token: op });
    assert.equal(got.devices.length, 4);
    assert.deepEqual(got.devices[0], {
      uuid: '00112233445566778899aabbccddeeff', name: 'Lamp, hall', zone: 'L1',
      auth: { method: 'none' }, profile: 'all',
    });
    assert.deepEqual(got.devices[1].auth, { method: 'static', static_oob: '000102030405060708090a0b0c0d0e0f' });
    assert.equal(got.devices[1].notes, 'by the "main" door');
    assert.deepEqual(got.devices[2].auth, { method: 'output', action: 'blink', size: 4 });
    assert.deepEqual(got.devices[3].auth, { method: 'oob_public_key', public_key: KEY });
  });

  test('every error of a bad manifest is listed by row; nothing is stored', async () => {
    const before = (await w.ok('GET', '/api/v1/manifests', { token: viewer })).items.length;
    const bad = [
      'uuid,name,auth,auth_value,profile',
      ',no uuid,none,,',
      '00112233445566778899aabbccddeeff,a,none,,',
      '00112233445566778899aabbccddeeff,dup,none,,',
      '00112233445566778899aabbccddee03,hex,static,zz,',
      '00112233445566778899aabbccddee04,key,oob_public_key,0011,',
      '00112233445566778899aabbccddee05,p,none,,office',
    ].join('\n');
    const r = await w.api('POST', '/api/v1/manifests', csv(bad));
    assert.equal(r.status, 422);
    assert.equal(r.contentType, 'application/problem+json');
    assert.deepEqual(r.body.errors.map((e) => [e.row, e.line, e.field]), [
      [1, 2, 'uuid'], [3, 4, 'uuid'], [4, 5, 'auth_value'], [5, 6, 'auth_value'], [6, 7, 'profile'],
    ]);
    assert.match(r.body.errors[1].message, /duplicate uuid: also on row 2/);
    assert.match(r.body.errors[3].message, /64 octets/);
    assert.match(r.body.detail, /5 errors/);
    assert.equal((await w.ok('GET', '/api/v1/manifests', { token: viewer })).items.length, before);
  });

  test('JSON manifests, replace and delete', async () => {
    const doc = { devices: [{ uuid: '00112233445566778899aabbccddee10', name: 'j', auth: { method: 'input', action: 'push', size: 2 } }] };
    const m = await w.ok('POST', '/api/v1/manifests', { token: op, body: doc }, [201]);
    assert.equal(m.format, 'json');
    const wrong = await w.api('PUT', `/api/v1/manifests/${m.id}`, { token: op, body: { devices: [{ name: 'x' }] } });
    assert.equal(wrong.status, 422);
    assert.deepEqual(wrong.body.errors, [{ row: 1, field: 'uuid', message: 'missing uuid' }]);
    const again = await w.ok('GET', `/api/v1/manifests/${m.id}`, { token: op });
    assert.equal(again.devices[0].name, 'j', 'a refused PUT changed nothing');
    const put = await w.ok('PUT', `/api/v1/manifests/${m.id}`, csv(CSV));
    assert.equal(put.rows, 4);
    assert.equal(put.format, 'csv');
    await w.ok('DELETE', `/api/v1/manifests/${m.id}`, { token: op });
    assert.equal((await w.api('GET', `/api/v1/manifests/${m.id}`, { token: op })).status, 404);
    assert.equal((await w.api('DELETE', `/api/v1/manifests/${m.id}`, { token: op })).status, 404);
    assert.equal((await w.api('PUT', '/api/v1/manifests/999999', csv(CSV))).status, 404);
  });

  test('limits and media types', async () => {
    const big = 'uuid\n' + '0'.repeat(4 * 1024 * 1024);
    assert.equal((await w.api('POST', '/api/v1/manifests', csv(big))).status, 413);
    const xml = await w.api('POST', '/api/v1/manifests', { token: op, raw: '<x/>', headers: { 'Content-Type': 'application/xml' } });
    assert.equal(xml.status, 415);
    const viewerPost = await w.api('POST', '/api/v1/manifests', { ...csv(CSV), token: viewer });
    assert.equal(viewerPost.status, 403);
    const tooMany = 'uuid\n' + Array.from({ length: 10001 }, (_, i) => i.toString(16).padStart(32, '0')).join('\n');
    const r = await w.api('POST', '/api/v1/manifests', csv(tooMany));
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.errors.map((e) => [e.row, e.message]), [[0, 'more than 10000 rows']]);
  });
});
