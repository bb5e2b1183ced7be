// Self-test of the response validator: valid sample bodies pass, broken ones fail.
// Run: node --test tests/integration/lib/
import test from 'node:test';
import assert from 'node:assert/strict';
import { validateResponse } from './openapi.mjs';

const node = {
  address: 2, uuid: '00112233445566778899aabbccddeeff', name: 'lamp', elements: 2,
  state: 'configured', excluded: false, cid: 0x05f1, pid: 1, vid: 1,
  features: { relay: true, proxy: false, friend: false, low_power: false },
  created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:05Z',
};

const zone = { id: 1, name: 'hall', group: 0xc000, pending: false };

test('a node list page validates', () => {
  const r = validateResponse('GET', '/api/v1/nodes', 200,
    { items: [{ ...node, zone: null }], total: 1, limit: 50, offset: 0, next_after: null });
  assert.deepEqual(r.errors, []);
  assert.equal(r.valid, true);
  const full = validateResponse('GET', '/api/v1/nodes', 200,
    { items: [{ ...node, zone }], total: 3, limit: 1, offset: 0, next_after: 2 });
  assert.deepEqual(full.errors, []);
  assert.equal(validateResponse('GET', '/api/v1/nodes', 200,
    { items: [{ ...node, zone }], total: 3, limit: 1, offset: 0, next_after: 0 }).valid, false, 'cursor 0');
  assert.deepEqual(validateResponse('GET', '/api/v1/nodes', 200,
    { items: [node], total: 1, limit: 50, offset: 0, next_after: null }).errors,
  ["/items/0 must have required property 'zone'"], 'each item has its zone');
});

test('a node detail with nested refs validates; a bad model fails', () => {
  const detail = { ...node, net_keys: [0], app_keys: [0], pages: [0, 128],
    bindings: [{ element: 0, model: 0x1000, app_index: 0 }],
    subscriptions: [{ element: 0, model: { company: 0x05f1, id: 1 }, address: 0xc000 }], certificate: null, zone };
  assert.equal(validateResponse('GET', '/api/v1/nodes/{address}', 200, detail).valid, true);
  const cert = { subject: 'CN=00112233445566778899aabbccddeeff,O=Maker', issuer: 'CN=Maker CA',
    not_before: '2026-01-01T00:00:00Z', not_after: '2036-01-01T00:00:00Z', sha256: 'ab'.repeat(32) };
  assert.equal(validateResponse('GET', '/api/v1/nodes/{address}', 200, { ...detail, certificate: cert }).valid, true);
  assert.equal(validateResponse('GET', '/api/v1/nodes/{address}', 200,
    { ...detail, certificate: { ...cert, sha256: 'AB' } }).valid, false, 'a fingerprint is 64 lower-case hex digits');
  detail.bindings[0].model = 'onoff';
  assert.equal(validateResponse('GET', '/api/v1/nodes/{address}', 200, detail).valid, false);
});

test('a wrong type, a missing member and a bad date fail', () => {
  const item = { ...node, zone: null };
  assert.equal(validateResponse('GET', '/api/v1/nodes', 200,
    { items: [{ ...item, address: '2' }], total: 1, limit: 50, offset: 0 }).valid, false);
  const { uuid, ...noUuid } = item;
  assert.ok(uuid);
  assert.equal(validateResponse('GET', '/api/v1/nodes', 200,
    { items: [noUuid], total: 1, limit: 50, offset: 0 }).valid, false);
  assert.equal(validateResponse('GET', '/api/v1/nodes', 200,
    { items: [{ ...item, created_at: 'yesterday' }], total: 1, limit: 50, offset: 0 }).valid, false);
});

test('problem responses validate against problem+json', () => {
  const p = { type: 'urn:meshgw:problem:bad-request', title: 'Bad request', status: 400,
    detail: 'devices[2].auth.static_oob: expected 32 or 64 hex digits' };
  assert.equal(validateResponse('POST', '/api/v1/provisioning', 400, p).valid, true);
  assert.equal(validateResponse('GET', '/api/v1/network', 401, { ...p, status: 401 }).valid, true);
  const { detail, ...noDetail } = p;
  assert.ok(detail);
  assert.equal(validateResponse('POST', '/api/v1/provisioning', 400, noDetail).valid, false);
});

test('the 202 provisioning answer and the health body validate', () => {
  const session = { id: '1-0', job: 1, index: 0, uuid: node.uuid, name: null, state: 'queued', address: null,
    auth_method: 'none', input_oob_value: null, via: null, procedure: null, error: null, attempts: 0,
    certificate: null, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };
  assert.equal(validateResponse('POST', '/api/v1/provisioning', 202, { job: 1, sessions: [session] }).valid, true);
  const { job, ...noJob } = session;
  assert.ok(job);
  assert.equal(validateResponse('POST', '/api/v1/provisioning', 202, { sessions: [noJob] }).valid, false);
  assert.equal(validateResponse('POST', '/api/v1/provisioning', 202,
    { sessions: [{ ...session, state: 'bogus' }] }).valid, false);
  assert.equal(validateResponse('GET', '/healthz', 200, { status: 'ok', version: '0.1.0', uptime_s: 3 }).valid, true);
  const bs = { kind: 'hci', name: 'hci:0', state: 'down-reopening', reason: 'controller gone: end of file',
    controller: { hci_version: 8, hci_revision: 0, manufacturer: 89, manufacturer_name: 'Nordic Semiconductor ASA',
      advertising: 'legacy', advertising_sets: 1 } };
  const h = { status: 'ok', version: '0.1.0', uptime_s: 3, bearer: false, bearer_state: bs };
  assert.equal(validateResponse('GET', '/healthz', 200, h).valid, true);
  assert.equal(validateResponse('GET', '/healthz', 200, { ...h, bearer_state: { ...bs, state: 'asleep' } }).valid, false);
});

test('undescribed statuses and paths are reported', () => {
  assert.equal(validateResponse('GET', '/api/v1/nodes', 418, {}).valid, false);
  assert.equal(validateResponse('GET', '/api/v1/lights', 200, {}).valid, false);
});
