// The previous owner is locked out, on the air (issue 11's first "Done when"), on office.json's 60
// devices moved into the gateway's range (as bench/keyref.mjs does, to keep the wall time down;
// ONAIR_SCENARIO=small.json for a quick run).  Before a change of ownership the test records every
// key the old owner had from the admin CDB export (NetKeys, AppKeys, every DevKey), and starts
// build/airclient: a mesh node on meshsim's air holding exactly those keys.  It first proves that
// the keys work (lights answer, Config answers, traffic decrypts), then after the change of
// ownership it cannot switch any light (no device's OnOff state changes, no Status comes back),
// gets no answer to any Config message, and opens none of the Network PDUs sent after phase 3,
// while a second client holding the new keys does all of that; the inventory holds no old key.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { startWorld, waitFor, buildDir } from './harness.mjs';

const SCENARIO = process.env.ONAIR_SCENARIO || 'office.json';
const JOB_TIMEOUT = 900000;
const ANSWER_MS = 3000;

/** Every device within a few metres of the gateway's port, on its floor. */
function inRange(sc) {
  const p = sc.ports.native.position;
  sc.devices.forEach((d, i) => {
    d.position = { x: p.x + 1 + (i % 8) * 0.5, y: p.y + Math.floor(i / 8) * 0.5, z: p.z };
  });
}

/** The keys an owner holds, from an admin CDB export. */
function keysOf(cdb) {
  return {
    iv: cdb.ivIndex ?? 0,
    net: cdb.netKeys.find((k) => k.index === 0).key.toLowerCase(),
    app: cdb.appKeys.filter((k) => k.boundNetKey === 0).map((k) => ({ index: k.index, key: k.key.toLowerCase() })),
    dev: cdb.nodes.filter((n) => n.deviceKey && !n.excluded)
      .map((n) => ({ addr: parseInt(n.unicastAddress, 16), key: n.deviceKey.toLowerCase() })),
  };
}

/** build/airclient on w's air with keys k at unicast src: send(line) -> its JSON answer. */
async function airclient(w, k, src, name) {
  const pos = w.scenario.ports.native.position;
  const args = [w.airSock, path.join(w.dir, `${name}.sock`), `${pos.x - 1},${pos.y},${pos.z}`,
    `0x${src.toString(16)}`, String(k.iv), k.net,
    ...k.app.map((a) => `app=${a.index}:${a.key}`),
    ...k.dev.map((d) => `dev=${d.addr.toString(16)}:${d.key}`)];
  const p = spawn(path.join(buildDir, 'airclient'), args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`airclient ${name} exited`);
    return JSON.parse(value);
  };
  assert.deepEqual(await next(), { ready: true });
  return {
    send: async (line) => { p.stdin.write(`${line}\n`); return next(); },
    close: () => { p.stdin.end('quit\n'); },
  };
}

describe(`the old owner is locked out on the air (${SCENARIO})`, () => {
  let w, admin, op, viewer, addr, oldKeys, oldCli;

  /** Each device's OnOff state, by name (meshsim's view). */
  const lights = async () => Object.fromEntries(await Promise.all(Object.keys(addr)
    .map(async (n) => [n, await w.dev(n, 'onoff')])));

  /** Sniff ms on each client while meshgw switches every light (gateway traffic on the air). */
  async function sniffDuring(clients, ms) {
    const pending = clients.map((c) => c.send(`sniff ${ms}`));
    for (const on of [true, false]) {
      await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: 0xffff, on, ack: false } });
    }
    return Promise.all(pending);
  }

  before(async () => {
    w = await startWorld({ scenario: SCENARIO, debug: false, editScenario: inRange });
    ({ admin, operator: op, viewer } = w.tokens);
    addr = {};
    const names = w.scenario.devices.map((d) => d.name);
    for (let i = 0; i < names.length; i += 32) {
      const { done } = await w.provision(names.slice(i, i + 32), { timeout: 600000 });
      for (const s of done) addr[s.name] = s.address;
    }
    assert.equal(Object.keys(addr).length, names.length, 'every device provisioned');
  });

  after(async () => {
    oldCli?.close();
    if (w) await w.close();
  });

  test('the recorded keys work on the air before the change', async () => {
    oldKeys = keysOf(await w.ok('GET', '/api/v1/cdb', { token: admin }));
    assert.equal(oldKeys.dev.length, Object.keys(addr).length, 'a DevKey for every node');
    oldCli = await airclient(w, oldKeys, 0x7f00, 'old');
    const n = Object.keys(addr).length;
    const on = await oldCli.send(`onoff ffff 1 ${oldKeys.app[0].index} ${ANSWER_MS}`);
    assert.ok(on.answers > 0, `lights answer the old keys before the change: ${JSON.stringify(on)}`);
    const cfg = await oldCli.send(`config ${ANSWER_MS}`);
    assert.equal(cfg.asked, n);
    assert.ok(cfg.answers > n / 2, `Config answers under the old DevKeys: ${JSON.stringify(cfg)}`);
    const [s] = await sniffDuring([oldCli], 4000);
    assert.ok(s.decrypted > 0, `the old NetKey opens the traffic: ${JSON.stringify(s)}`);
  });

  test('after a change of ownership the old keys switch nothing, get no answer, decrypt nothing', async () => {
    const r = await w.ok('POST', '/api/v1/network/ownership-change', { token: admin }, [202]);
    const j = await waitFor(async () => {
      const x = await w.ok('GET', `/api/v1/jobs/${r.job}`, { token: viewer });
      return ['done', 'cancelled'].includes(x.state) && x;
    }, { timeout: JOB_TIMEOUT, interval: 500, what: `ownership job ${r.job}` });
    assert.equal(j.state, 'done');
    assert.equal(j.counts.done, j.total, JSON.stringify(j.targets.map((t) => [t.name, t.state, t.error])));
    const newKeys = keysOf(await w.ok('GET', '/api/v1/cdb', { token: admin }));
    assert.notEqual(newKeys.net, oldKeys.net);
    await w.phase0(Object.keys(addr), { timeout: 120000 });

    // Switch every light off with the new keys, then try to switch them on with the old ones.
    const newCli = await airclient(w, newKeys, 0x7f10, 'new');
    try {
      const off = await newCli.send(`onoff ffff 0 ${newKeys.app[0].index} ${ANSWER_MS}`);
      assert.ok(off.answers > 0, `the new keys switch lights: ${JSON.stringify(off)}`);
      const was = await lights();
      for (const a of oldKeys.app) {
        const x = await oldCli.send(`onoff ffff 1 ${a.index} ${ANSWER_MS}`);
        assert.equal(x.answers, 0, `no light answers AppKey ${a.index}'s old key`);
      }
      assert.deepEqual(await lights(), was, 'no light switched by the old keys');
      const oc = await oldCli.send(`config ${ANSWER_MS}`);
      assert.equal(oc.answers, 0, 'no Config answer under the old keys');
      const nc = await newCli.send(`config ${ANSWER_MS}`);
      assert.ok(nc.answers > Object.keys(addr).length / 2, `Config answers under the new keys: ${JSON.stringify(nc)}`);

      // Traffic after phase 3: the old NetKey opens none of it, the new one does.
      const [o, n] = await sniffDuring([oldCli, newCli], 4000);
      assert.ok(o.heard > 0, 'the old owner hears the network');
      assert.equal(o.decrypted, 0, `the old NetKey opens nothing: ${JSON.stringify(o)}`);
      assert.ok(n.decrypted > 0, `the new NetKey does: ${JSON.stringify(n)}`);
    } finally {
      newCli.close();
    }

    // The inventory (its full export) holds none of the old NetKeys and AppKeys, nor the DevKeys
    // that were rotated.
    const text = JSON.stringify(await w.ok('GET', '/api/v1/cdb', { token: admin })).toLowerCase();
    for (const k of [oldKeys.net, ...oldKeys.app.map((a) => a.key)]) assert.ok(!text.includes(k), 'an old key is left');
    const rotated = new Set(j.targets.find((t) => t.name === 'device keys')?.result?.rotated ?? []);
    for (const d of oldKeys.dev.filter((x) => rotated.has(x.addr))) assert.ok(!text.includes(d.key), `0x${d.addr.toString(16)}'s old DevKey is left`);
  });
});
