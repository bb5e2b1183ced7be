// OOB public key end to end (issue 12): a meshsim device whose Capabilities
// offer an OOB public key (scenario oob.public_key with its fixed private
// key) is provisioned with {"method": "oob_public_key", "public_key": hex},
// even on a gateway that refuses No OOB (the key authenticates the device);
// another device's key fails with Confirmation Failed, named; a key given
// for a device that offers none is refused naming the missing capability.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import { startWorld } from './harness.mjs';

/** X||Y of the P-256 public key of a private key, as 128 hex digits. */
function publicOf(privHex) {
  const e = createECDH('prime256v1');
  e.setPrivateKey(Buffer.from(privHex, 'hex'));
  return e.getPublicKey('hex', 'uncompressed').slice(2);
}

const PRIV = '529aa0670d72cd6497502ed473502b037e8803b5c60829a5a3caa219505530ba';
const OTHER = '3f49f6d4a3c55f3874c9b3e3d2103f504aff607beb40b7995899b8a6cd3c1abd';

describe('OOB public key', () => {
  let w;

  before(async () => {
    w = await startWorld({
      scenario: 'small.json',
      gwConf: { allow_no_oob: 'no' },
      editScenario: (s) => {
        s.devices.find((x) => x.name === 'light-noob').oob = { public_key: true, private_key: PRIV };
      },
    });
  });
  after(async () => {
    if (w) await w.close();
  });

  const start = (name, auth) => w.ok('POST', '/api/v1/provisioning', {
    token: w.tokens.operator, body: { devices: [{ uuid: w.device(name).uuid, name, auth }] },
  }, [202]);

  test('the wrong key fails with Confirmation Failed', async () => {
    const r = await start('light-noob', { method: 'oob_public_key', public_key: publicOf(OTHER) });
    assert.equal(r.sessions[0].auth_method, 'oob_public_key');
    const s = await w.waitSession(r.sessions[0].id, ['failed']);
    assert.match(s.error, /Confirmation Failed/);
  });

  test('the device is provisioned with its key although No OOB is refused', async () => {
    const refused = await w.api('POST', '/api/v1/provisioning', {
      token: w.tokens.operator, body: { devices: [{ uuid: w.device('light-noob').uuid, auth: { method: 'none' } }] },
    });
    assert.equal(refused.status, 403);
    const r = await start('light-noob', { method: 'oob_public_key', public_key: publicOf(PRIV) });
    const s = await w.completeSession(r.sessions[0]);
    assert.equal(s.state, 'done');
    assert.equal(s.auth_method, 'oob_public_key');
    const node = await w.ok('GET', `/api/v1/nodes/${s.address}`, { token: w.tokens.viewer });
    assert.equal(node.uuid, w.device('light-noob').uuid.replace(/-/g, '').toLowerCase());
  });

  test('a key for a device that offers none is refused, naming it', async () => {
    const r = await start('sensor-static32', { method: 'oob_public_key', public_key: publicOf(PRIV) });
    const s = await w.waitSession(r.sessions[0].id, ['failed']);
    assert.match(s.error, /do not offer .*an OOB public key/);
  });

  test('a key that is not a P-256 point is refused at once', async () => {
    const r = await w.api('POST', '/api/v1/provisioning', {
      token: w.tokens.operator,
      body: { devices: [{ uuid: w.device('light-static16').uuid, auth: { method: 'oob_public_key', public_key: '00'.repeat(64) } }] },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /public_key: not a P-256 public key/);
  });
});
