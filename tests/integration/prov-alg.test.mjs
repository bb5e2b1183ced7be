// Provisioning requests, issue 12's fixes: "algorithm": "cmac" is honoured
// (CMAC only, never silently HMAC), a device whose Capabilities lack what was
// asked fails with a message naming it, and the Attention Duration is taken
// per request.  meshsim small.json: light-noob offers CMAC only,
// light-static16 offers CMAC and HMAC.  A session shows the device's
// Capabilities while its attempt runs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './harness.mjs';

describe('provisioning algorithm and capabilities', () => {
  let w;

  before(async () => {
    w = await startWorld({ scenario: 'small.json' });
  });
  after(async () => {
    if (w) await w.close();
  });

  const start = (name, extra) => w.ok('POST', '/api/v1/provisioning', {
    token: w.tokens.operator,
    body: { devices: [{ uuid: w.device(name).uuid, name, auth: w.authFor(name) }], ...extra },
  }, [202]);

  test('hmac asked of a CMAC-only device fails naming the algorithm', async () => {
    const r = await start('light-noob', { algorithm: 'hmac' });
    const s = await w.waitSession(r.sessions[0].id, ['failed']);
    assert.match(s.error, /Capabilities do not offer algorithm HMAC-SHA256, No OOB/);
  });

  test('cmac with an Attention Duration provisions a device that offers both', async () => {
    const r = await start('light-static16', { algorithm: 'cmac', attention_s: 7 });
    const s = await w.completeSession(r.sessions[0]);
    assert.equal(s.state, 'done');
    const job = await w.ok('GET', `/api/v1/jobs/${r.sessions[0].job}`, { token: w.tokens.viewer });
    assert.deepEqual(job.params, { algorithm: 'cmac', attention_s: 7 });
  });

  test("the device's Capabilities are shown with the session while it waits for the OOB value", async () => {
    const r = await start('switch-output', {});
    assert.equal(r.sessions[0].capabilities, null, 'not known before the device answered');
    const s = await w.waitSession(r.sessions[0].id, ['waiting_oob']);
    assert.deepEqual(s.capabilities, {
      elements: 1, algorithms: ['cmac'], public_key_oob: false, static_oob: false, only_oob: false,
      output: { size: 4, actions: ['blink', 'numeric'] }, input: null,
    });
    const done = await w.completeSession(r.sessions[0]);
    assert.equal(done.capabilities, null, 'not kept once the attempt ended');
  });

  test('attention_s out of range is refused', async () => {
    const r = await w.api('POST', '/api/v1/provisioning', {
      token: w.tokens.operator,
      body: { devices: [{ uuid: w.device('light-noob').uuid, auth: { method: 'none' } }], attention_s: 256 },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /attention_s/);
  });
});
