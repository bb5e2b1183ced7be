// Key Refresh phases carried by beacons, through meshgw's REST API on small.json.  Mesh Profile
// §3.10.4.1 (Table 3.52): a node in phase 1 that hears a beacon secured with the new NetKey goes
// to phase 2 when its Key Refresh flag is set, and to phase 3 then Normal operation when it is
// clear.  So a node that had its NetKey Update but was off for the whole of phases 2 and 3 (it
// confirms neither Key Refresh Phase Set) catches up from the beacons of its neighbours and of
// the gateway once powered on.  Run twice: with Secure Network beacons (the default), and with
// Mesh Private beacons only (Mesh 1.1 §3.10.4: every device "private_beacon" with "beacon" off,
// meshgw `beacons = private`), where nothing else on the air can carry the phase.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, waitFor } from './harness.mjs';

const JOB_TIMEOUT = 120000;

const modes = [
  { name: 'Secure Network beacons', gwConf: {}, edit: () => {} },
  {
    name: 'Mesh Private beacons only',
    gwConf: { beacons: 'private' },
    edit: (s) => {
      for (const d of s.devices) Object.assign(d, { beacon: false, private_beacon: true });
    },
  },
];

for (const mode of modes) {
  describe(`a node that missed phases 2 and 3, with ${mode.name}`, () => {
    const addr = {};
    let w, admin, op;

    const job = (id) => w.ok('GET', `/api/v1/jobs/${id}`, { token: w.tokens.viewer });

    before(async () => {
      w = await startWorld({ scenario: 'small.json', gwConf: mode.gwConf, editScenario: mode.edit });
      ({ admin, operator: op } = w.tokens);
      Object.assign(addr, await w.provisionAll());
    });

    after(async () => {
      if (w) await w.close();
    });

    test('catches up from a beacon after power-on and answers under the new keys', async () => {
      const late = 'switch-output';
      const blocker = 'light-noob';
      const old = (await w.netkey(late)).fp;
      // The blocker holds the job in phase 1 until the late node has its new keys.
      assert.equal(await w.dev(blocker, 'power off'), 'ok');
      const r = await w.ok('POST', '/api/v1/keys/net/0/refresh', { token: admin }, [202]);
      await waitFor(async () => {
        const j = await job(r.job);
        const t = (name) => j.targets.find((x) => x.node === addr[name]);
        return t(late).state === 'done' && t(blocker).state === 'pending' && t(blocker).attempts >= 1;
      }, { timeout: JOB_TIMEOUT, what: `${late} through phase 1 while ${blocker} is off` });
      const mid = await w.netkey(late);
      assert.equal(mid.phase, 1, `${late} is in phase 1`);
      assert.equal(mid.fp, old, 'phase 1 transmits with the old NetKey');
      // The late node goes off; the blocker comes back: phase 1 ends, phases 2 and 3 run.
      assert.equal(await w.dev(late, 'power off'), 'ok');
      assert.equal(await w.dev(blocker, 'power on'), 'ok');
      const j = await waitFor(async () => {
        const x = await job(r.job);
        return x.state === 'done' && x;
      }, { timeout: JOB_TIMEOUT, what: `job ${r.job} done` });
      const driver = j.targets.find((x) => x.result && x.result.phase === 0);
      assert.deepEqual(driver.result.unconfirmed, [addr[late]], 'only the late node did not confirm');
      assert.deepEqual(driver.result.left_out, []);
      const fps = await w.phase0(Object.keys(addr).filter((n) => n !== late));
      assert.equal(fps.size, 1);
      const [fp] = fps;
      assert.notEqual(fp, old, 'the others transmit with a new NetKey');
      // Powered on, its flash holds phase 1 and both keys; a beacon on the new key ends it.
      assert.equal(await w.dev(late, 'power on'), 'ok');
      assert.equal((await w.netkey(late)).phase, 1, `${late} comes back in phase 1`);
      const caught = await w.phase0([late], { timeout: 60000 });
      assert.deepEqual([...caught], [fp], `${late} transmits with the new NetKey after a beacon`);
      const c = await w.ok('POST', `/api/v1/nodes/${addr[late]}/config`, { token: op, body: { op: 'default_ttl_get' } });
      assert.equal(c.op, 'default_ttl_get', `${late} answers Config under the new keys`);
      const on = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: addr['light-static16'], on: true } });
      assert.equal(on.present, true);
    });
  });
}
