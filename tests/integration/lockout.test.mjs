// Nodes that lose the network's keys, through meshgw's REST API on small.json: a Key Refresh
// with one node powered off throughout finishes without it (POST /api/v1/jobs/{id}/finish-without:
// the node is excluded and the others go on to the new keys).  meshsim's `status` shows each
// device's NetKey as index:phase:fingerprint of the key it transmits with, so the test follows the
// keys from outside.  A removal (DELETE /api/v1/nodes/{address}) then refreshes the keys of the
// node's subnets: a device that was off the air during its Node Reset keeps the old NetKey while
// the others move on; with remove_key_refresh = collect two removals share one refresh.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, waitFor } from './harness.mjs';

const JOB_TIMEOUT = 120000;

describe('locking nodes out of a subnet on small.json', () => {
  const addr = {};
  let w, admin, op;

  const job = (id) => w.ok('GET', `/api/v1/jobs/${id}`, { token: w.tokens.viewer });

  const waitDone = (id) => waitFor(async () => {
    const j = await job(id);
    return j.state === 'done' && j;
  }, { timeout: JOB_TIMEOUT, what: `job ${id} done` });

  /** Every named node in phase 0 on one NetKey other than old; each answers Config. */
  async function onNewKey(names, old) {
    const fps = new Set();
    for (const name of names) {
      const s = await waitFor(async () => {
        const x = await w.netkey(name);
        return x.phase === 0 && x;
      }, { what: `${name} back in phase 0` });
      fps.add(s.fp);
    }
    assert.equal(fps.size, 1, `the nodes hold one NetKey: ${[...fps]}`);
    const [fp] = fps;
    assert.notEqual(fp, old, 'the nodes hold a new NetKey');
    for (const name of names) {
      const r = await w.ok('POST', `/api/v1/nodes/${addr[name]}/config`,
        { token: op, body: { op: 'default_ttl_get' } });
      assert.equal(r.op, 'default_ttl_get', `${name} answers Config messages`);
    }
    return fp;
  }

  async function onoffWorks() {
    const light = addr['light-static16'];
    for (const on of [true, false]) {
      const r = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: light, on } });
      assert.equal(r.present, on);
      assert.equal((await w.dev('light-static16', 'onoff')).split(' ')[0], `0:${on ? 'on' : 'off'}`);
    }
  }

  before(async () => {
    w = await startWorld({ scenario: 'small.json' });
    ({ admin, operator: op } = w.tokens);
    Object.assign(addr, await w.provisionAll());
  });

  after(async () => {
    if (w) await w.close();
  });

  test('a Key Refresh with a node powered off finishes without it', async () => {
    const off = 'sensor-static32';
    const old = (await w.netkey(off)).fp;
    assert.equal(await w.dev(off, 'power off'), 'ok');
    const r = await w.ok('POST', '/api/v1/keys/net/0/refresh', { token: admin }, [202]);
    // The node does not answer: its target is tried again, the job waits (no give-up).
    const waiting = await waitFor(async () => {
      const j = await job(r.job);
      const t = j.targets.find((x) => x.node === addr[off]);
      const others = j.targets.filter((x) => x.node !== addr[off]);
      return t.state === 'pending' && t.attempts >= 1 && /no answer/.test(t.error ?? '') &&
        others.every((x) => x.state === 'done') && j;
    }, { timeout: JOB_TIMEOUT, what: `${off}'s target waiting for a retry` });
    assert.equal(waiting.state, 'running');
    // Only an admin decides; a body naming no target of the job is refused.
    assert.equal((await w.api('POST', `/api/v1/jobs/${r.job}/finish-without`, { token: op })).status, 403);
    const none = await w.api('POST', `/api/v1/jobs/${r.job}/finish-without`,
      { token: admin, body: { addresses: [0x7000] } });
    assert.equal(none.status, 409);
    const fin = await w.ok('POST', `/api/v1/jobs/${r.job}/finish-without`,
      { token: admin, body: { addresses: [addr[off]] } });
    assert.equal(fin.id, r.job);
    const j = await waitDone(r.job);
    const left = j.targets.find((x) => x.node === addr[off]);
    assert.equal(left.state, 'failed');
    assert.equal(left.step, -1);
    assert.match(left.error, /^left out by it-admin: NetKey Update: no answer/);
    const driver = j.targets.find((x) => x.result && x.result.phase === 0);
    assert.ok(driver, 'a target drove phases 2 and 3');
    assert.deepEqual(driver.result.left_out, [addr[off]]);
    assert.equal(j.counts.done, Object.keys(addr).length - 1);
    // Excluded and out of the inventory.
    const nodes = await w.ok('GET', '/api/v1/nodes', { token: w.tokens.viewer });
    assert.ok(!nodes.items.some((n) => n.address === addr[off]), `${off} left the inventory`);
    // The others are on the new keys; the powered-off node kept the old one.
    const rest = Object.keys(addr).filter((n) => n !== off);
    const fp = await onNewKey(rest, old);
    await onoffWorks();
    assert.equal(await w.dev(off, 'power on'), 'ok');
    const k = await w.netkey(off);
    assert.equal(k.fp, old, `${off} keeps the old NetKey`);
    assert.notEqual(k.fp, fp);
    // A finished job takes no decision any more.
    assert.equal((await w.api('POST', `/api/v1/jobs/${r.job}/finish-without`, { token: admin })).status, 409);
    delete addr[off];
  });

  test('a removed node that missed its Node Reset is locked out by the Key Refresh that follows', async () => {
    const gone = 'panel-input';
    const old = (await w.netkey(gone)).fp;
    assert.equal(await w.dev(gone, 'power off'), 'ok');
    // meshgw dies once the node is removed and the refresh is committed as the next step, before
    // it starts: the removal resumes there after the restart (no second Node Reset).
    await w.stopGw();
    process.env.MESHGW_CRASH_AT = 'remove.keys';
    try {
      await w.startGw();
    } finally {
      delete process.env.MESHGW_CRASH_AT;
    }
    const del = await w.ok('DELETE', `/api/v1/nodes/${addr[gone]}`, { token: op }, [202]);
    assert.equal((await w.gw.exited).signal, 'SIGKILL', 'meshgw died at remove.keys');
    await w.startGw();
    const rj = await waitDone(del.job);
    assert.equal(rj.counts.done, 1, JSON.stringify(rj.targets));
    assert.deepEqual(rj.params.net_indexes, [0]);
    const t = rj.targets[0];
    assert.equal(t.attempts, 1, 'the Node Reset was not sent again');
    assert.equal(t.result.reset_acknowledged, false);
    assert.equal(t.result.key_refresh.length, 1);
    assert.equal(t.result.key_refresh[0].net_index, 0);
    const kr = await waitDone(t.result.key_refresh[0].job);
    assert.equal(kr.kind, 'key_refresh');
    assert.match(kr.created_by, /^removal job \d+$/);
    assert.ok(!kr.targets.some((x) => x.node === addr[gone]), 'the removed node is no target');
    assert.equal(kr.counts.done, kr.total);
    const rest = Object.keys(addr).filter((n) => n !== gone);
    const fp = await onNewKey(rest, old);
    await onoffWorks();
    assert.equal(await w.dev(gone, 'power on'), 'ok');
    assert.equal((await w.netkey(gone)).fp, old, `${gone} holds only the old NetKey`);
    assert.notEqual(old, fp);
    delete addr[gone];
  });

  test('remove_key_refresh = collect: two removals share one Key Refresh', async () => {
    await w.stopGw();
    w.writeConf({ remove_key_refresh: 'collect' });
    await w.startGw();
    const old = (await w.netkey('light-static16')).fp;
    // switch-output is off the air: its Node Reset goes unanswered for a while, and light-noob's
    // removal, over at once, waits for it instead of starting a refresh of its own.
    assert.equal(await w.dev('switch-output', 'power off'), 'ok');
    const started = [];
    for (const name of ['switch-output', 'light-noob']) {
      started.push(await w.ok('DELETE', `/api/v1/nodes/${addr[name]}`, { token: op }, [202]));
    }
    const jobs = await Promise.all(started.map((r) => waitDone(r.job)));
    const krs = jobs.map((j) => j.targets[0].result.key_refresh[0].job);
    assert.equal(krs[0], krs[1], `one refresh for both removals: ${krs}`);
    assert.deepEqual(jobs.map((j) => j.targets[0].result.reset_acknowledged), [false, true]);
    await waitDone(krs[0]);
    assert.equal(await w.netkey('light-noob'), null, 'light-noob was reset');
    delete addr['light-noob'];
    delete addr['switch-output'];
    const fp = await onNewKey(Object.keys(addr), old);
    await onoffWorks();
    assert.equal(await w.dev('switch-output', 'power on'), 'ok');
    assert.equal((await w.netkey('switch-output')).fp, old, 'switch-output holds only the old NetKey');
    assert.notEqual(fp, old);
  });
});
