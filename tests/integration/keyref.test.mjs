// Key Refresh of a subnet as a job (POST /api/v1/keys/net/{index}/refresh), end to end through
// meshgw's REST API on small.json; meshsim's control socket reads each device's NetKey phase and
// the fingerprint of the key it transmits with (`status`: "netkey index:phase:fingerprint").
// After each refresh every node is back in phase 0 on one new key, still answers Config messages
// and switches Generic OnOff through the gateway.  meshgw is then killed at each write-ahead
// point of the procedure (MESHGW_CRASH_AT) and once at a random instant: after a restart the
// job finishes alone.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, waitFor } from './harness.mjs';

const JOB_TIMEOUT = 120000;

describe('Key Refresh of NetKey 0 on small.json', () => {
  let w;
  let admin;
  let op;
  const addr = {};
  let lastFp = null;
  let jobMs = 1000; // how long a refresh took without a kill (measured below)

  /** {phase, fp} of NetKey 0 on a device. */
  async function netkeyOf(name) {
    const k = await w.netkey(name, 0);
    assert.ok(k, `${name}: no NetKey 0`);
    return k;
  }

  const exportKey = async () => (await w.ok('GET', '/api/v1/keys/net?export=true', { token: admin }))
    .items.find((k) => k.index === 0);

  async function waitJob(id) {
    return waitFor(async () => {
      const j = await w.ok('GET', `/api/v1/jobs/${id}`, { token: w.tokens.viewer });
      if (j.state === 'done' && j.counts.failed + j.counts.cancelled > 0) {
        throw Object.assign(new Error(`job ${id} ended with failures: ${JSON.stringify(j.targets)}`), { fatal: true });
      }
      return j.state === 'done' && j;
    }, { timeout: JOB_TIMEOUT, what: `key_refresh job ${id} done` });
  }

  /** Every node in phase 0 on one key that differs from the previous one; Config and OnOff work. */
  async function checkRefreshed(before) {
    const k = await exportKey();
    assert.equal(k.phase, 0, 'the inventory is back in phase 0');
    assert.notEqual(k.key, before.key, 'the NetKey changed');
    const fps = new Set();
    for (const name of Object.keys(addr)) {
      const s = await waitFor(async () => {
        const x = await netkeyOf(name);
        return x.phase === 0 && x;
      }, { what: `${name} back in phase 0` });
      fps.add(s.fp);
    }
    assert.equal(fps.size, 1, `every node holds the same NetKey: ${[...fps]}`);
    const [fp] = fps;
    assert.notEqual(fp, lastFp, 'the nodes hold a new NetKey');
    lastFp = fp;
    // The hand-over file (Mesh CDB, admin) carries the new keys alone: no old key is left.
    const cdb = await w.ok('GET', '/api/v1/cdb', { token: admin });
    const ck = cdb.netKeys.find((x) => x.index === 0);
    assert.equal(ck.key.toLowerCase(), k.key.toLowerCase(), 'the CDB export holds the new NetKey');
    assert.equal(ck.phase, 0);
    assert.equal(ck.oldKey, undefined, 'no old NetKey in the CDB export');
    const ak = (await w.ok('GET', '/api/v1/keys/app?export=true', { token: admin })).items.find((x) => x.index === 0);
    const cak = cdb.appKeys.find((x) => x.index === 0);
    assert.equal(cak.key.toLowerCase(), ak.key.toLowerCase(), 'the CDB export holds the new AppKey');
    assert.equal(cak.oldKey, undefined, 'no old AppKey in the CDB export');
    for (const [name, a] of Object.entries(addr)) {
      const r = await w.ok('POST', `/api/v1/nodes/${a}/config`, { token: op, body: { op: 'default_ttl_get' } });
      assert.equal(r.op, 'default_ttl_get', `${name} answers Config messages`);
    }
    const light = addr['light-static16'];
    for (const on of [true, false]) {
      const r = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: light, on } });
      assert.equal(r.present, on);
      assert.equal((await w.dev('light-static16', 'onoff')).split(' ')[0], `0:${on ? 'on' : 'off'}`);
    }
  }

  async function refresh() {
    const r = await w.ok('POST', '/api/v1/keys/net/0/refresh', { token: admin }, [202]);
    assert.equal(r.net_index, 0);
    assert.equal(r.phase, 1);
    assert.deepEqual(r.app_indexes, [0]);
    assert.equal(r.targets, Object.keys(addr).length);
    return r;
  }

  async function restart(env) {
    if (env) process.env.MESHGW_CRASH_AT = env;
    else delete process.env.MESHGW_CRASH_AT;
    await w.startGw();
    delete process.env.MESHGW_CRASH_AT;
  }

  before(async () => {
    w = await startWorld({ scenario: 'small.json' });
    admin = w.tokens.admin;
    op = w.tokens.operator;
    const { done } = await w.provision(w.scenario.devices.map((d) => d.name), { timeout: 180000 });
    for (const s of done) addr[s.name] = s.address;
    for (const name of Object.keys(addr)) lastFp = (await netkeyOf(name)).fp;
  });

  after(async () => {
    delete process.env.MESHGW_CRASH_AT;
    if (w) await w.close();
  });

  test('only an admin starts a refresh; unknown or malformed NetKey indexes are refused', async () => {
    assert.equal((await w.api('POST', '/api/v1/keys/net/0/refresh', { token: op })).status, 403);
    assert.equal((await w.api('POST', '/api/v1/keys/net/7/refresh', { token: admin })).status, 404);
    assert.equal((await w.api('POST', '/api/v1/keys/net/4096/refresh', { token: admin })).status, 400);
  });

  test('a refresh runs to done: every node is on the new keys in phase 0', async () => {
    const before = await exportKey();
    assert.equal(before.phase, 0);
    const t0 = Date.now();
    const r = await refresh();
    // A second refresh while this one runs is refused.
    assert.equal((await w.api('POST', '/api/v1/keys/net/0/refresh', { token: admin })).status, 409);
    const j = await waitJob(r.job);
    jobMs = Date.now() - t0;
    assert.equal(j.kind, 'key_refresh');
    assert.deepEqual(j.params, { net_index: 0, app_indexes: [0] });
    assert.equal(j.counts.done, Object.keys(addr).length);
    const driver = j.targets.find((t) => t.result && t.result.phase === 0);
    assert.ok(driver, 'one target drove phases 2 and 3');
    assert.deepEqual(driver.result.unconfirmed, [], 'every node confirmed phases 2 and 3');
    await checkRefreshed(before);
  });

  // Each write-ahead point: the new keys sealed (inside the request), NetKey Update, an AppKey
  // Update, phase 2 and phase 3 committed.  meshgw dies there and resumes the refresh.
  for (const point of ['keyref.sealed', 'keyref.netkey:2', 'keyref.appkey:3', 'keyref.phase2', 'keyref.phase3']) {
    test(`killed at ${point}: the refresh resumes and finishes`, async () => {
      const before = await exportKey();
      await w.stopGw();
      await restart(point);
      let job = null;
      try {
        const r = await w.api('POST', '/api/v1/keys/net/0/refresh', { token: admin });
        if (r.status === 202) job = r.body.job;
      } catch {
        // Killed inside the request: no answer (the exit is checked next).
      }
      const ex = await w.gw.exited;
      assert.equal(ex.signal, 'SIGKILL', `meshgw died at ${point}`);
      await restart(null);
      if (job === null) {
        // Killed inside the request: the job exists when its targets had started (it resumed);
        // killed before, the NetKey is in phase 1 and a new request goes on with it.
        const jobs = await w.ok('GET', '/api/v1/jobs?kind=key_refresh', { token: w.tokens.viewer });
        job = jobs.items.find((j) => j.state === 'running')?.id ?? null;
      }
      if (job === null) {
        assert.equal((await exportKey()).phase, 1);
        job = (await refresh()).job;
      }
      await waitJob(job);
      await checkRefreshed(before);
    });
  }

  test('killed at a random instant during a refresh: it finishes after the restart', async () => {
    const before = await exportKey();
    const r = await refresh();
    // The instant is random on purpose (a kill anywhere must be survivable), within the time a
    // refresh took above; it is logged.
    const delay = Math.floor(Math.random() * jobMs);
    console.log(`# SIGKILL after ${delay} ms`);
    await new Promise((res) => setTimeout(res, delay));
    w.gw.kill();
    await w.gw.exited;
    await restart(null);
    await waitJob(r.job);
    await checkRefreshed(before);
  });
});
