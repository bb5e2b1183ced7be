// Change of ownership as one job (POST /api/v1/network/ownership-change) through meshgw's REST
// API on small.json, two of whose devices are made Remote Provisioning Servers in the test's
// copy: every NetKey and AppKey gets new key material (inventory export, and meshsim's NetKey
// fingerprints), the servers get a new DevKey (meshsim holds the inventory's new one and answers
// Config under it), the other nodes are listed as not rotatable in place and keep theirs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, waitFor, hex4, RPR_SERVER_MODEL } from './harness.mjs';

const JOB_TIMEOUT = 180000;
const SERVERS = ['light-static16', 'switch-output'];

describe('change of ownership on small.json with two RPR servers', () => {
  let w, admin, op, viewer;
  const addr = {};

  const job = (id) => w.ok('GET', `/api/v1/jobs/${id}`, { token: viewer });
  const waitDone = (id) => waitFor(async () => {
    const j = await job(id);
    return j.state === 'done' && j;
  }, { timeout: JOB_TIMEOUT, what: `job ${id} done` });

  /** Key material by index: {net: {idx: key}, app: {idx: key}} (admin export). */
  async function keys() {
    const net = await w.ok('GET', '/api/v1/keys/net?export=true', { token: admin });
    const app = await w.ok('GET', '/api/v1/keys/app?export=true', { token: admin });
    return {
      net: Object.fromEntries(net.items.map((k) => [k.index, k.key])),
      app: Object.fromEntries(app.items.map((k) => [k.index, k.key])),
    };
  }

  const devkeyOf = async (name) =>
    (await w.ok('GET', `/api/v1/nodes/${addr[name]}`, { token: viewer })).devkey_fingerprint;
  const simDevkey = async (name) => / devkey ([0-9a-f]{8})/.exec(await w.dev(name, 'status'))[1];

  /** The network as it is: key material, NetKey 0's fingerprint on a node, each node's DevKey. */
  async function snapshot() {
    const dk = {};
    for (const name of Object.keys(addr)) {
      dk[name] = await devkeyOf(name);
      assert.equal(await simDevkey(name), dk[name], `${name}: the device holds the inventory's DevKey`);
    }
    return { before: await keys(), fp0: (await w.netkey('light-noob')).fp, dk };
  }

  /** Every key replaced since the snapshot, the servers' DevKeys too; every node still works. */
  async function changed(before, fp0, dk) {
    // New key material for every index.
    const after = await keys();
    for (const kind of ['net', 'app']) {
      assert.deepEqual(Object.keys(after[kind]), Object.keys(before[kind]));
      for (const [i, k] of Object.entries(after[kind])) assert.notEqual(k, before[kind][i], `${kind} key ${i} changed`);
    }
    const fps = new Set();
    for (const name of Object.keys(addr)) {
      const k = await waitFor(async () => {
        const x = await w.netkey(name);
        return x.phase === 0 && x;
      }, { what: `${name} in phase 0` });
      fps.add(k.fp);
    }
    assert.equal(fps.size, 1);
    assert.notEqual([...fps][0], fp0, 'the nodes transmit with a new NetKey');

    // DevKeys: new on the servers (the device holds the inventory's), unchanged elsewhere.
    for (const name of Object.keys(addr)) {
      const now = await devkeyOf(name);
      if (SERVERS.includes(name)) assert.notEqual(now, dk[name], `${name}: new DevKey`);
      else assert.equal(now, dk[name], `${name}: DevKey kept`);
      assert.equal(await simDevkey(name), now, `${name}: the device uses the inventory's DevKey`);
      const c = await w.ok('POST', `/api/v1/nodes/${addr[name]}/config`, { token: op, body: { op: 'default_ttl_get' } });
      assert.equal(c.op, 'default_ttl_get', `${name} answers Config messages`);
    }
    const light = addr['light-static16'];
    const on = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: light, on: true } });
    assert.equal(on.present, true);
  }

  /** The Key Refresh ownership job own started, once every node but off has its new keys. */
  const refreshWaitingFor = (own, off) => waitFor(async () => {
    const kids = (await w.ok('GET', '/api/v1/jobs?kind=key_refresh&limit=1000', { token: viewer })).items
      .filter((x) => x.created_by === `ownership job ${own}`);
    if (kids.length !== 1) return false;
    const j = await job(kids[0].id);
    const t = j.targets.find((x) => x.node === addr[off]);
    return t && t.state === 'pending' && t.attempts >= 1 &&
      j.targets.every((x) => x === t || x.state === 'done') && j;
  }, { timeout: JOB_TIMEOUT, what: `the Key Refresh waiting for ${off}` });

  before(async () => {
    w = await startWorld({
      scenario: 'small.json',
      editScenario: (s) => {
        for (const d of s.devices.filter((x) => SERVERS.includes(x.name))) {
          d.rpr_server = true;
          d.composition.elements[0].models.splice(2, 0, hex4(RPR_SERVER_MODEL));
        }
      },
    });
    ({ admin, operator: op, viewer } = w.tokens);
    Object.assign(addr, await w.provisionAll());
  });

  after(async () => {
    if (w) await w.close();
  });

  test('every key is replaced; RPR servers get a new DevKey, the others are listed', async () => {
    // A second AppKey on NetKey 0: it is refreshed with the subnet.
    await w.ok('POST', '/api/v1/keys/app', { token: admin, body: { net_index: 0 } }, [201]);
    const { before, fp0, dk } = await snapshot();
    assert.deepEqual(Object.keys(before.app).sort(), ['0', '1']);

    assert.equal((await w.api('POST', '/api/v1/network/ownership-change', { token: op })).status, 403);
    const ev = await w.events();
    const r = await w.ok('POST', '/api/v1/network/ownership-change', { token: admin }, [202]);
    assert.deepEqual(r.net_indexes, [0]);
    assert.deepEqual(r.device_key, SERVERS.map((n) => addr[n]).sort((a, b) => a - b));
    const others = Object.keys(addr).filter((n) => !SERVERS.includes(n));
    assert.deepEqual(r.not_rotated.map((x) => x.address).sort((a, b) => a - b),
      others.map((n) => addr[n]).sort((a, b) => a - b));
    for (const x of r.not_rotated) assert.match(x.reason, /cannot be rotated in place/);
    assert.equal(r.targets, 2);
    assert.equal((await w.api('POST', '/api/v1/network/ownership-change', { token: admin })).status, 409);

    const j = await waitDone(r.job);
    await ev.close();
    assert.equal(j.kind, 'ownership');
    assert.equal(j.counts.done, 2, JSON.stringify(j.targets));
    const [subnet, devkeys] = j.targets;
    assert.equal(subnet.name, 'NetKey 0');
    assert.equal(subnet.result.net_index, 0);
    assert.deepEqual(subnet.result.left_out, []);
    assert.equal(devkeys.name, 'device keys');
    assert.deepEqual([...devkeys.result.rotated].sort((a, b) => a - b), r.device_key);
    assert.deepEqual(devkeys.result.not_rotated, r.not_rotated);
    // The parts ran as jobs of the existing kinds, created by this job, with per-node events.
    const kr = await job(subnet.result.job);
    const nppi = await job(devkeys.result.job);
    assert.equal(kr.kind, 'key_refresh');
    assert.equal(nppi.kind, 'refresh');
    for (const x of [kr, nppi]) assert.equal(x.created_by, `ownership job ${r.job}`);
    for (const [x, n] of [[kr, Object.keys(addr).length], [nppi, SERVERS.length]]) {
      const nodes = new Set(ev.events.filter((e) => e.type === 'job.target' && e.data.job === x.id)
        .map((e) => e.data.node));
      assert.equal(nodes.size, n, `job.target events for every node of job ${x.id}`);
    }

    await changed(before, fp0, dk);
  });

  // meshgw killed where the job commits before it acts (the first target's and the device keys'
  // job creation), inside the Key Refresh it started (new keys sealed) and inside the Device Key
  // Refresh (Provisioning Data sent): after a restart the same job finishes, every key new again.
  for (const point of ['ownership.child', 'keyref.sealed', 'ownership.child:2', 'refresh.data']) {
    test(`killed at ${point}: the change of ownership resumes and finishes`, async () => {
      const { before, fp0, dk } = await snapshot();
      await w.stopGw();
      process.env.MESHGW_CRASH_AT = point;
      try {
        await w.startGw();
      } finally {
        delete process.env.MESHGW_CRASH_AT;
      }
      let id = null;
      try {
        const r = await w.api('POST', '/api/v1/network/ownership-change', { token: admin });
        if (r.status === 202) id = r.body.job;
      } catch {
        // Killed inside the request (the first target starts there): no answer.
      }
      const ex = await w.gw.exited;
      assert.equal(ex.signal, 'SIGKILL', `meshgw died at ${point}`);
      await w.startGw();
      if (id === null) {
        const list = await w.ok('GET', '/api/v1/jobs?kind=ownership', { token: viewer });
        id = list.items.find((x) => x.state === 'running')?.id ?? null;
        assert.ok(id, 'the job was created before the kill and resumed');
      }
      const j = await waitDone(id);
      assert.equal(j.counts.done, 2, JSON.stringify(j.targets));
      // One job per part, however often its target started.
      const kids = (await w.ok('GET', '/api/v1/jobs?limit=1000', { token: viewer })).items
        .filter((x) => x.created_by === `ownership job ${id}`);
      assert.deepEqual(kids.map((x) => x.kind).sort(), ['key_refresh', 'refresh']);
      await changed(before, fp0, dk);
    });
  }

  // Last: it leaves NetKey 0 in phase 1.  A node off the air holds the subnet's Key Refresh in
  // phase 1; the hand-over export taken then is a valid CDB of a network in phase 1 (every key with
  // its oldKey); cancelling the change of ownership cancels the Key Refresh it started.
  test('cancelled in phase 1: the CDB export holds old and new keys; the Key Refresh is cancelled too', async () => {
    const off = 'sensor-static32';
    const before = await keys();
    assert.equal(await w.dev(off, 'power off'), 'ok');
    const r = await w.ok('POST', '/api/v1/network/ownership-change', { token: admin }, [202]);
    const kr = await refreshWaitingFor(r.job, off);
    assert.equal(kr.state, 'running');

    // The export during phase 1: NetKey with its new key, oldKey and phase 1; AppKeys with oldKey.
    const now = await keys();
    const cdb = await w.ok('GET', '/api/v1/cdb', { token: admin });
    const nk = cdb.netKeys.find((x) => x.index === 0);
    assert.equal(nk.phase, 1);
    assert.equal(nk.oldKey.toLowerCase(), before.net[0].toLowerCase(), 'oldKey is the key before the refresh');
    assert.notEqual(nk.key.toLowerCase(), nk.oldKey.toLowerCase(), 'key is the new NetKey');
    assert.equal(nk.key.toLowerCase(), now.net[0].toLowerCase());
    for (const ak of cdb.appKeys.filter((x) => x.boundNetKey === 0)) {
      assert.equal(ak.oldKey.toLowerCase(), before.app[ak.index].toLowerCase(), `AppKey ${ak.index}: oldKey`);
      assert.notEqual(ak.key.toLowerCase(), ak.oldKey.toLowerCase(), `AppKey ${ak.index}: a new key`);
    }
    // It is accepted as it is by an import check (dry run against this very network).
    const self = cdb.provisioners?.[0]?.UUID;
    const dry = await w.api('POST', `/api/v1/cdb?dry_run=true${self ? `&provisioner=${self}` : ''}`,
      { token: admin, body: cdb });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));

    // Cancelling the ownership job cancels the Key Refresh it started (its phase 1 stops there).
    const c = await w.ok('POST', `/api/v1/jobs/${r.job}/cancel`, { token: admin });
    assert.ok(['cancelling', 'cancelled'].includes(c.state), c.state);
    const ended = await waitFor(async () => {
      const [p, k] = [await job(r.job), await job(kr.id)];
      return p.state === 'cancelled' && k.state === 'cancelled' && [p, k];
    }, { timeout: JOB_TIMEOUT, what: 'the ownership job and its Key Refresh cancelled' });
    const [p, k] = ended;
    assert.ok(p.targets.every((x) => x.state === 'cancelled' || x.state === 'failed'), JSON.stringify(p.targets));
    assert.equal(k.targets.find((x) => x.node === addr[off]).state, 'cancelled');
    // Nothing of it runs any more: no Device Key Refresh was started.
    const kids = (await w.ok('GET', '/api/v1/jobs?limit=1000', { token: viewer })).items
      .filter((x) => x.created_by === `ownership job ${r.job}`);
    assert.deepEqual(kids.map((x) => `${x.kind}:${x.state}`), ['key_refresh:cancelled']);
  });

  // meshgw killed once the cancel's intent is committed, before it reached the Key Refresh: the
  // restart cancels the Key Refresh (the job kind's hook runs again for a job still cancelling).
  test('killed while cancelling: the restart cancels the Key Refresh too', async () => {
    const off = 'sensor-static32';
    const r = await w.ok('POST', '/api/v1/network/ownership-change', { token: admin }, [202]);
    const kr = await refreshWaitingFor(r.job, off);
    await w.stopGw();
    process.env.MESHGW_CRASH_AT = 'jobs.cancel';
    try {
      await w.startGw();
    } finally {
      delete process.env.MESHGW_CRASH_AT;
    }
    try {
      await w.api('POST', `/api/v1/jobs/${r.job}/cancel`, { token: admin });
    } catch {
      // Killed inside the request: no answer.
    }
    assert.equal((await w.gw.exited).signal, 'SIGKILL', 'meshgw died at jobs.cancel');
    await w.startGw();
    await waitFor(async () => {
      const [p, k] = [await job(r.job), await job(kr.id)];
      return p.state === 'cancelled' && k.state === 'cancelled';
    }, { timeout: JOB_TIMEOUT, what: 'the ownership job and its Key Refresh cancelled after the restart' });
    assert.equal(await w.dev(off, 'power on'), 'ok');
  });
});
