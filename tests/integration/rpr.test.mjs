// Issue 6 "Done when", end to end through meshgw's REST API only (meshsim's
// control socket acts on and reads the simulated devices): Remote
// Provisioning across relay hops in sim/scenarios/office.json, the three Node
// Provisioning Protocol Interface procedures (Device Key, Node Address and
// Node Composition Refresh) and links that break half-way.  Every response
// body is validated against openapi.yaml by the harness.
//
// The network is built the way an installer would: the RPR servers the
// gateway hears are provisioned over PB-ADV, then every further server through
// one that already is a node and hears it, and each server is made a relay
// (Config Relay Set) so that the gateway's messages reach the next ring.
// office.json's servers at x = 27, 45 and 57 m are heard by no server nearer
// the gateway, so the test's private copy of the scenario promotes "bridge"
// devices to servers where that is needed (addBridges(), logged below).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorld, waitFor, airModel, addBridges, serverWaves, scanUntil, itemOf, bestVia, parseStatus,
  RPR_SERVER_MODEL, hex4, compositionBytes, expectedComposition, num, defaultBearer,
  wipeState, inventorySnapshot, nodesOf,
} from './harness.mjs';

// Generous ceilings for steps that cross several relay hops in real time.
const LONG = 300000;
const DKR_NODES = 10;
// The broken-link cases wait out PB-Remote's protocol timeouts (about 100 s together) and
// do not depend on the gateway's radio: they run on the sim bearer pass only.
const brokenLinkSkip = defaultBearer !== 'sim' && `PB-Remote timeouts, run on the sim bearer pass (this pass: ${defaultBearer})`;

describe('Remote Provisioning in office.json through the REST API', () => {
  let w;
  let op;
  let viewer;
  let air;
  let bridges = [];
  const addr = {}; // device name -> primary address (as the inventory has it)
  const servers = []; // provisioned RPR server names, in order
  const handedOut = []; // every address range a session finished with: [name, low, high]
  let movedFrom = null; // {low, high} of the Node Address Refresh
  let composedName = null; // the server of the Node Composition Refresh

  const dev = (name) => w.device(name);
  const elements = (name) => dev(name).composition.elements.length;
  const node = (a) => w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer });
  const status = async (name) => parseStatus(await w.dev(name, 'status'));
  const allNodes = async () => [
    ...(await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer })).items,
    ...(await w.ok('GET', '/api/v1/nodes?limit=1000&excluded=true', { token: viewer })).items,
  ];
  const provisioned = (name) => name in addr;
  const nameOfUuid = (uuid) => w.scenario.devices.find((d) => d.uuid === uuid)?.name;

  function record(sessions) {
    for (const s of sessions) {
      addr[s.name] = s.address;
      handedOut.push([s.name, s.address, s.address + elements(s.name) - 1]);
    }
  }

  /** The provisioned servers that hear a device, nearest (strongest) first. */
  function serversHearing(name) {
    return servers.filter((s) => air.inRange(s, name)).sort((a, b) => air.dbm(b, name) - air.dbm(a, name));
  }

  /** Scans through `through` (server names) until every device of names is reported by want[name]. */
  async function scanFor(names, want, body) {
    return scanUntil(w, body, (items) => names.every((n) => {
      const it = itemOf(items, dev(n).uuid);
      return it && it.seen_by.some((b) => b.via === addr[want[n]]);
    }), { timeout: LONG, what: `${names.join(', ')} reported by ${names.map((n) => want[n]).join(', ')}` });
  }

  /** Config Relay Set on a server whose relay is off, so that it carries the next ring's traffic. */
  async function makeRelay(name) {
    const r = await w.ok('POST', `/api/v1/nodes/${addr[name]}/config`,
      { token: op, body: { op: 'relay_set', enabled: true } });
    assert.equal(r.status, 0, `relay_set on ${name}: ${JSON.stringify(r)}`);
  }

  async function addServers(wave) {
    const { created, done } = await w.provision(
      wave.map((x) => ({ name: x.name, ...(x.via ? { server: addr[x.via] } : {}) })), { timeout: LONG });
    for (const [i, s] of created.entries()) {
      assert.equal(s.via, wave[i].via ? addr[wave[i].via] : null, `${s.name}: session via`);
    }
    record(done);
    for (const x of wave) {
      servers.push(x.name);
      const c = await w.ok('GET', `/api/v1/nodes/${addr[x.name]}/composition/0`, { token: viewer });
      assert.ok(c.elements[0].models.some((m) => !m.vendor && m.id === RPR_SERVER_MODEL),
        `${x.name}: page 0 lists the Remote Provisioning Server`);
      await makeRelay(x.name);
    }
    return done;
  }

  before(async () => {
    w = await startWorld({ scenario: 'office.json', editScenario: (s) => { bridges = addBridges(s); } });
    op = w.tokens.operator;
    viewer = w.tokens.viewer;
    air = airModel(w.scenario);
    if (bridges.length) console.log(`# office.json: promoted to RPR servers in the test's copy: ${bridges.join(', ')}`);
  });

  after(async () => {
    if (w) await w.close();
  });

  // The servers in the gateway's own radio range are found by a local scan (seen_by via 0) and
  // provisioned over PB-ADV (session via null); page 0 of each lists the RPR Server model.
  test('RPR servers the gateway hears are provisioned locally', async () => {
    const [wave0] = serverWaves(w.scenario);
    assert.ok(wave0.length >= 1, 'the gateway hears at least one RPR server');
    const items = await scanUntil(w, { duration_s: 60 }, (its) =>
      wave0.every((x) => itemOf(its, dev(x.name).uuid)?.seen_by.some((b) => b.via === 0)),
    { timeout: LONG, what: 'local beacons of the servers in range' });
    for (const x of wave0) assert.ok(itemOf(items, dev(x.name).uuid).seen_by.some((b) => b.via === 0));
    await addServers(wave0);
    for (const x of wave0) assert.equal((await status(x.name)).addr, addr[x.name]);
  });

  // Each further server is reported by a remote scan through the server that hears it, and is
  // provisioned through that server (PB-Remote): the session's via is the server.
  test(`remote servers, ring by ring, until ${DKR_NODES} servers are nodes`, async () => {
    const waves = serverWaves(w.scenario).slice(1);
    for (const wave of waves) {
      if (servers.length >= DKR_NODES) break;
      const want = Object.fromEntries(wave.map((x) => [x.name, x.via]));
      const vias = [...new Set(wave.map((x) => addr[x.via]))];
      const r = await scanFor(wave.map((x) => x.name), want, { duration_s: 60, servers: vias });
      for (const x of wave) {
        assert.equal(itemOf(r, dev(x.name).uuid).seen_by.some((b) => b.via === 0), air.inRange('port', x.name));
      }
      await addServers(wave);
    }
    assert.ok(servers.length >= DKR_NODES, `only ${servers.length} servers reachable`);
    for (const s of servers) assert.equal((await status(s)).addr, addr[s], `${s} address on the device`);
  });

  // A light 3 radio hops from the gateway's port, out of its range, is found by a remote scan
  // through all servers (not among the gateway's own sightings) and provisioned through the
  // server that hears it best; then it is configured and its light answers.
  test('a device 3 hops away: remote scan, provisioned through the nearest server', async () => {
    const cands = w.scenario.devices.filter((d) => !d.rpr_server && !provisioned(d.name) &&
      air.hops[d.name] === 3 && !air.inRange('port', d.name) && d.name.includes('light') &&
      serversHearing(d.name).length > 0 &&
      (serversHearing(d.name).length === 1 ||
        air.dbm(serversHearing(d.name)[0], d.name) - air.dbm(serversHearing(d.name)[1], d.name) >= 1));
    assert.ok(cands.length, 'a light 3 hops away heard by a provisioned server');
    const target = cands[0].name;
    const nearest = serversHearing(target)[0];
    console.log(`# 3-hop target ${target} through ${nearest} (${hex4(addr[nearest])})`);
    const items = await scanFor([target], { [target]: nearest }, { duration_s: 60, remote: true });
    const it = itemOf(items, dev(target).uuid);
    assert.equal(it.seen_by.some((b) => b.via === 0), false, 'the gateway itself does not hear it');
    assert.equal(bestVia(it)?.via, addr[nearest], `best RSSI through ${nearest}: ${JSON.stringify(it.seen_by)}`);

    const { created, done } = await w.provision([target], { timeout: LONG });
    assert.equal(created[0].via, addr[nearest]);
    assert.equal(done[0].via, addr[nearest]);
    record(done);
    const a = addr[target];
    assert.equal((await status(target)).addr, a);
    const c = await w.ok('GET', `/api/v1/nodes/${a}/composition/0`, { token: viewer });
    const { page, raw, features, ...rest } = c;
    assert.equal(page, 0);
    assert.equal(raw, compositionBytes(dev(target).composition));
    assert.deepEqual(rest, expectedComposition(dev(target).composition));
    assert.ok(features >= 0);
    let r = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: a, on: true } });
    assert.deepEqual(r, { address: a, present: true });
    assert.match(await w.dev(target, 'onoff'), /^0:on/);
    r = await w.ok('GET', `/api/v1/onoff/${a}`, { token: viewer });
    assert.equal(r.present, true);
    r = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: a, on: false } });
    assert.equal(r.present, false);
    assert.match(await w.dev(target, 'onoff'), /^0:off/);
  });

  // Four devices out of the gateway's range, each heard best by a different server, provisioned
  // by one request without naming servers: every session goes through its own server.
  test('four remote devices at once through different servers', async () => {
    const pick = [];
    const used = new Set();
    for (const d of w.scenario.devices) {
      if (pick.length === 4) break;
      if (d.rpr_server || provisioned(d.name) || air.inRange('port', d.name)) continue;
      const h = serversHearing(d.name);
      if (!h.length || used.has(h[0])) continue;
      if (h.length > 1 && air.dbm(h[0], d.name) - air.dbm(h[1], d.name) < 1) continue;
      used.add(h[0]);
      pick.push({ name: d.name, via: h[0] });
    }
    assert.equal(pick.length, 4, 'four devices with four different nearest servers');
    console.log(`# four at once: ${pick.map((p) => `${p.name} via ${p.via}`).join(', ')}`);
    const want = Object.fromEntries(pick.map((p) => [p.name, p.via]));
    const items = await scanFor(pick.map((p) => p.name), want, { duration_s: 60, remote: true });
    for (const p of pick) {
      const it = itemOf(items, dev(p.name).uuid);
      assert.equal(bestVia(it)?.via, addr[p.via], `${p.name} best through ${p.via}: ${JSON.stringify(it.seen_by)}`);
    }
    // Meanwhile, count how many of the four are under way at the same moment.
    let watching = true;
    let most = 0;
    const watcher = (async () => {
      const names = new Set(pick.map((p) => p.name));
      while (watching) {
        const l = await w.ok('GET', '/api/v1/provisioning', { token: viewer });
        const busy = l.items.filter((x) => names.has(x.name) && ['linking', 'provisioning', 'waiting_oob'].includes(x.state));
        most = Math.max(most, busy.length);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let created;
    let done;
    try {
      ({ created, done } = await w.provision(pick.map((p) => p.name), { timeout: LONG }));
    } finally {
      watching = false;
      await watcher;
    }
    console.log(`# at most ${most} of the four sessions were provisioning at the same time`);
    assert.ok(most >= 2, 'the sessions through different servers run at the same time');
    assert.deepEqual(created.map((s) => s.via), pick.map((p) => addr[p.via]));
    assert.equal(new Set(created.map((s) => s.via)).size, 4, 'four different servers');
    record(done);
    for (const p of pick) assert.equal((await status(p.name)).addr, addr[p.name]);
    assert.equal(new Set(done.map((s) => s.address)).size, 4);
  });

  // Device Key Refresh on ten nodes at once: each operation completes through the node's own
  // server; the fingerprint in the inventory changes and equals the one of the key the device
  // now holds; Config requests (keyed with the DevKey) still get answers.
  test(`Device Key Refresh on ${DKR_NODES} nodes`, async () => {
    const names = servers.slice(0, DKR_NODES);
    const before = {};
    for (const n of names) {
      const d = await node(addr[n]);
      assert.match(d.devkey_fingerprint ?? '', /^[0-9a-f]{8}$/, `${n}: devkey_fingerprint`);
      const st = await status(n);
      assert.equal(st.devkey, d.devkey_fingerprint, `${n}: the device's key is the inventory's`);
      before[n] = d.devkey_fingerprint;
    }
    const stream = await w.events();
    const ops = {};
    for (const n of names) {
      ops[n] = await w.ok('POST', `/api/v1/nodes/${addr[n]}/refresh`,
        { token: op, body: { procedure: 'device_key' } }, [202]);
      assert.equal(typeof ops[n].session, 'string');
    }
    try {
      await Promise.all(names.map((n) => w.waitOp(ops[n].id, { timeout: LONG })));
    } finally {
      await stream.close();
    }
    assert.equal(stream.events.error, undefined, `event stream: ${stream.events.error}`);
    assert.equal(stream.events.some((e) => e.type === 'overflow'), false, 'no events lost');
    for (const n of names) {
      // Progress on the event stream: the refresh session's states, ending in done.
      const states = stream.events.filter((e) => e.type === 'provisioning.updated' && e.data.id === ops[n].session)
        .map((e) => { assert.equal(e.data.procedure, 'device_key'); return e.data.state; });
      assert.ok(states.length >= 2 && states.at(-1) === 'done' && states.includes('configuring'),
        `${n}: session events ${states.join(' -> ')}`);
    }
    for (const n of names) {
      const s = await w.session(ops[n].session);
      assert.equal(s.state, 'done');
      assert.equal(s.procedure, 'device_key');
      assert.equal(s.via, addr[n], `${n}: refreshed through its own server`);
      assert.equal(s.address, addr[n], `${n}: address kept`);
      const d = await node(addr[n]);
      assert.notEqual(d.devkey_fingerprint, before[n], `${n}: DevKey changed`);
      const st = await status(n);
      assert.equal(st.devkey, d.devkey_fingerprint, `${n}: the device holds the inventory's new key`);
      // No candidate pending: the device switched to the new key and dropped the old one.
      assert.doesNotMatch(st.text, /candidate/, `${n}: ${st.text}`);
      assert.equal(st.addr, addr[n]);
      const r = await w.ok('POST', `/api/v1/nodes/${addr[n]}/config`, { token: op, body: { op: 'relay_get' } });
      assert.equal(r.status, 0, `${n}: relay_get under the new DevKey`);
    }
  });

  // Node Address Refresh: the node moves to a new primary address (and a new DevKey); the
  // inventory has it there only; it answers Config and OnOff at the new address; the old one is
  // no longer a node.
  test('Node Address Refresh', async () => {
    const name = servers.slice().reverse().find((n) => n.includes('light'));
    assert.ok(name, 'a light that is an RPR server');
    const old = addr[name];
    const was = await node(old);
    const o = await w.ok('POST', `/api/v1/nodes/${old}/refresh`, { token: op, body: { procedure: 'address' } }, [202]);
    await w.waitOp(o.id, { timeout: LONG });
    const s = await w.session(o.session);
    assert.equal(s.procedure, 'address');
    assert.equal(s.via, old);
    const nu = s.address;
    assert.equal(typeof nu, 'number');
    assert.notEqual(nu, old, 'a new address');
    movedFrom = { name, low: old, high: old + was.elements - 1 };
    addr[name] = nu;
    handedOut.push([name, nu, nu + was.elements - 1]);
    console.log(`# ${name}: ${hex4(old)} -> ${hex4(nu)}`);

    const d = await node(nu);
    assert.equal(d.uuid, was.uuid);
    assert.equal(d.name, was.name);
    assert.equal(d.elements, was.elements);
    assert.notEqual(d.devkey_fingerprint, was.devkey_fingerprint, 'the DevKey changes too');
    const gone = await w.api('GET', `/api/v1/nodes/${old}`, { token: viewer });
    assert.ok(gone.status === 404 || (gone.status === 200 && gone.body.excluded === true),
      `old address: ${gone.status} ${gone.text.slice(0, 200)}`);
    const live = (await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer })).items;
    assert.equal(live.filter((n) => n.uuid === was.uuid).length, 1);
    assert.equal(live.some((n) => n.address <= movedFrom.high && n.address + n.elements - 1 >= movedFrom.low), false);

    const st = await status(name);
    assert.equal(st.addr, nu);
    assert.equal(st.devkey, d.devkey_fingerprint);
    const r = await w.ok('POST', `/api/v1/nodes/${nu}/config`, { token: op, body: { op: 'relay_get' } });
    assert.equal(r.status, 0);
    let x = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: nu, on: true } });
    assert.equal(x.present, true);
    assert.match(await w.dev(name, 'onoff'), /^0:on/);
    x = await w.ok('GET', `/api/v1/onoff/${nu}`, { token: viewer });
    assert.equal(x.present, true);
  });

  // Node Composition Refresh: the device gets a new page 128 (another PID and a Sensor Server on
  // its primary element, as when a sensor is plugged in); after the refresh the stored page 0 is
  // exactly that page, the node shows the new PID, the new model is bound to the AppKey and the
  // DevKey changed.
  test('Node Composition Refresh', async () => {
    // A server at the edge of the network: its DevKey and models change, nobody's route does.
    const name = servers.slice().reverse().find((n) => n !== movedFrom?.name);
    composedName = name;
    const a = addr[name];
    const c0 = await w.ok('GET', `/api/v1/nodes/${a}/composition/0`, { token: viewer });
    const was = await node(a);
    const comp = structuredClone(dev(name).composition);
    comp.pid = hex4((num(comp.pid) + 0x100) & 0xffff);
    comp.elements[0].models.push('0x1100');
    const page128 = compositionBytes(comp);
    assert.notEqual(page128, c0.raw);
    assert.equal(await w.dev(name, 'comp128', page128), 'ok');

    const o = await w.ok('POST', `/api/v1/nodes/${a}/refresh`, { token: op, body: { procedure: 'composition' } }, [202]);
    await w.waitOp(o.id, { timeout: LONG });
    const s = await w.session(o.session);
    assert.equal(s.procedure, 'composition');
    assert.equal(s.address, a, 'the address is kept');
    const n0 = await w.ok('GET', `/api/v1/nodes/${a}/composition/0`, { token: viewer });
    assert.equal(n0.raw, page128, 'stored page 0 is the former page 128');
    const { page, raw, features, ...rest } = n0;
    assert.deepEqual(rest, expectedComposition(comp));
    const d = await node(a);
    assert.equal(d.pid, num(comp.pid));
    assert.notEqual(d.devkey_fingerprint, was.devkey_fingerprint, 'the DevKey changes too');
    assert.equal((await status(name)).devkey, d.devkey_fingerprint);
    assert.ok(d.bindings.some((b) => b.element === 0 && b.model === 0x1100 && b.app_index === 0),
      `Sensor Server bound: ${JSON.stringify(d.bindings)}`);
    for (const b of was.bindings) {
      assert.ok(d.bindings.some((x) => x.element === b.element && JSON.stringify(x.model) === JSON.stringify(b.model)),
        `binding ${JSON.stringify(b)} kept`);
    }
    const r = await w.ok('POST', `/api/v1/nodes/${a}/config`, { token: op, body: { op: 'composition_get', page: 0 } });
    assert.equal(r.status, 0);
  });

  // A new composition with one more element (a second light channel fitted): a Composition
  // Refresh cannot take it (the address range would grow into the next node's) and is refused
  // with the reason, leaving the node as it was; an Address Refresh takes it: the node moves to a
  // new range of the new size, page 0 is the former page 128 and the new element is configured.
  test('Node Address Refresh with a change of element count', async () => {
    const name = servers.slice().reverse()
      .find((n) => n.includes('light') && n !== movedFrom?.name && n !== composedName);
    assert.ok(name, 'another light that is an RPR server');
    const old = addr[name];
    const was = await node(old);
    const c0 = await w.ok('GET', `/api/v1/nodes/${old}/composition/0`, { token: viewer });
    const comp = structuredClone(dev(name).composition);
    comp.vid = hex4((num(comp.vid) + 1) & 0xffff);
    comp.elements.push({ location: hex4(0x0100 + comp.elements.length), models: ['0x1000'] });
    const page128 = compositionBytes(comp);
    assert.equal(await w.dev(name, 'comp128', page128), 'ok');

    const bad = await w.ok('POST', `/api/v1/nodes/${old}/refresh`, { token: op, body: { procedure: 'composition' } }, [202]);
    const f = await w.waitOp(bad.id, { timeout: LONG, states: ['failed'] });
    assert.match(f.error, /elements instead of/, f.error);
    const same = await node(old);
    assert.equal(same.elements, was.elements);
    assert.equal(same.devkey_fingerprint, was.devkey_fingerprint, 'DevKey unchanged');
    assert.equal((await w.ok('GET', `/api/v1/nodes/${old}/composition/0`, { token: viewer })).raw, c0.raw);
    let st = await status(name);
    assert.equal(st.addr, old);
    assert.equal(st.devkey, was.devkey_fingerprint);
    assert.equal((await w.ok('POST', `/api/v1/nodes/${old}/config`, { token: op, body: { op: 'relay_get' } })).status, 0);

    const o = await w.ok('POST', `/api/v1/nodes/${old}/refresh`, { token: op, body: { procedure: 'address' } }, [202]);
    await w.waitOp(o.id, { timeout: LONG });
    const s = await w.session(o.session);
    const nu = s.address;
    assert.notEqual(nu, old, 'a new address');
    const n = comp.elements.length;
    assert.equal(n, was.elements + 1);
    // The new range is fresh: above everything handed out so far, the old range excluded.
    assert.equal(nu, nextFree(), 'the next free range');
    addr[name] = nu;
    handedOut.push([name, nu, nu + n - 1]);
    console.log(`# ${name}: ${hex4(old)} -> ${hex4(nu)}, ${was.elements} -> ${n} elements`);

    const d = await node(nu);
    assert.equal(d.uuid, was.uuid);
    assert.equal(d.elements, n, 'the inventory has the new element count');
    assert.equal(d.vid, num(comp.vid));
    assert.notEqual(d.devkey_fingerprint, was.devkey_fingerprint, 'the DevKey changes too');
    const n0 = await w.ok('GET', `/api/v1/nodes/${nu}/composition/0`, { token: viewer });
    assert.equal(n0.raw, page128, 'stored page 0 is the former page 128');
    const { page, raw, features, ...rest } = n0;
    assert.deepEqual(rest, expectedComposition(comp));
    assert.ok(d.bindings.some((b) => b.element === n - 1 && b.model === 0x1000 && b.app_index === 0),
      `the new element's OnOff Server is bound: ${JSON.stringify(d.bindings)}`);
    const gone = await w.api('GET', `/api/v1/nodes/${old}`, { token: viewer });
    assert.ok(gone.status === 404 || (gone.status === 200 && gone.body.excluded === true),
      `old address: ${gone.status} ${gone.text.slice(0, 200)}`);

    st = await status(name);
    assert.equal(st.addr, nu);
    assert.equal(st.devkey, d.devkey_fingerprint);
    assert.equal((await w.ok('POST', `/api/v1/nodes/${nu}/config`, { token: op, body: { op: 'relay_get' } })).status, 0);
    // The new element answers at its own address.
    const last = nu + n - 1;
    let x = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: last, on: true } });
    assert.equal(x.present, true);
    x = await w.ok('GET', `/api/v1/onoff/${last}`, { token: viewer });
    assert.equal(x.present, true);
  });

  /**
   * A device for a broken-link case: unprovisioned, out of the gateway's range, heard by a
   * provisioned server (not `avoid`), with the given authentication method.
   */
  function brokenLinkCandidate(method, avoid = []) {
    for (const d of w.scenario.devices) {
      if (d.rpr_server || provisioned(d.name) || air.inRange('port', d.name) || avoid.includes(d.name)) continue;
      if (w.authFor(d.name).method !== method) continue;
      const h = serversHearing(d.name).filter((x) => !avoid.includes(x));
      if (h.length) return { name: d.name, server: h[0] };
    }
    return null;
  }

  /** The next free address is the top of everything handed out: what a new session must get. */
  const nextFree = () => Math.max(...handedOut.map((x) => x[2])) + 1;

  /** After a broken link: no node with that UUID, and the next provisioning gets the reserved address. */
  async function assertCleanFailure(s, name, expectAddr, avoid) {
    assert.equal(s.state, 'failed');
    assert.ok(typeof s.error === 'string' && s.error.length > 0, 'a clear error');
    // The error names the server the session went through, whichever end went silent.
    assert.ok(s.error.includes(hex4(s.via)), `the server ${hex4(s.via)} named: ${s.error}`);
    assert.equal(s.address, null);
    console.log(`# ${name}: failed with "${s.error}"`);
    const nodes = await allNodes();
    assert.equal(nodes.some((n) => n.uuid === dev(name).uuid), false, 'no node with that UUID');
    const next = brokenLinkCandidate('static', avoid) || brokenLinkCandidate('none', avoid);
    assert.ok(next, 'a device to provision next');
    const { done } = await w.provision([{ name: next.name, server: addr[next.server] }], { timeout: LONG });
    record(done);
    assert.equal(done[0].address, expectAddr, 'the reserved address was released and handed out next');
  }

  // The server is switched off while the device waits for its Output OOB value to be entered:
  // the session fails with an error, nothing is stored, the reserved address is free again.
  test('broken link: the server disappears mid-provisioning', { skip: brokenLinkSkip }, async () => {
    const c = brokenLinkCandidate('output');
    assert.ok(c, 'an Output OOB device behind a server');
    const expectAddr = nextFree();
    const r = await w.ok('POST', '/api/v1/provisioning', {
      token: op,
      body: { devices: [{ uuid: dev(c.name).uuid, name: c.name, auth: w.authFor(c.name), server: addr[c.server] }] },
    }, [202]);
    const id = r.sessions[0].id;
    assert.equal(r.sessions[0].via, addr[c.server]);
    await w.waitSession(id, ['waiting_oob'], { timeout: LONG });
    assert.equal(await w.dev(c.server, 'power', 'off'), 'ok');
    try {
      const value = await w.outputOob(c.name);
      // The person enters the value; the gateway's next PDU has no server to go through.
      const x = await w.api('POST', `/api/v1/provisioning/${id}/oob`, { token: op, body: { value } });
      assert.ok([200, 409].includes(x.status), `oob: ${x.status} ${x.text}`);
      const s = await w.waitSession(id, ['failed'], { timeout: LONG });
      assert.equal((await status(c.name)).provisioned, false);
      await w.dev(c.server, 'power', 'on');
      await assertCleanFailure(s, c.name, expectAddr, [c.name, c.server]);
    } finally {
      await w.dev(c.server, 'power', 'on');
    }
  });

  // The device itself is switched off while the gateway waits for it (Input OOB, the value not
  // typed): the session fails, nothing is stored, the reserved address is free again.
  test('broken link: the device disappears mid-provisioning', { skip: brokenLinkSkip }, async () => {
    const c = brokenLinkCandidate('input');
    assert.ok(c, 'an Input OOB device behind a server');
    const expectAddr = nextFree();
    const r = await w.ok('POST', '/api/v1/provisioning', {
      token: op,
      body: { devices: [{ uuid: dev(c.name).uuid, name: c.name, auth: w.authFor(c.name), server: addr[c.server] }] },
    }, [202]);
    const id = r.sessions[0].id;
    assert.equal(r.sessions[0].via, addr[c.server]);
    await waitFor(async () => (await w.session(id)).input_oob_value !== null,
      { timeout: LONG, what: 'the Input OOB value' });
    assert.equal(await w.dev(c.name, 'power', 'off'), 'ok');
    try {
      const s = await w.waitSession(id, ['failed'], { timeout: LONG });
      await assertCleanFailure(s, c.name, expectAddr, [c.name]);
    } finally {
      await w.dev(c.name, 'power', 'on');
    }
    assert.equal((await status(c.name)).provisioned, false);
  });

  // Addresses handed out after the Node Address Refresh never reuse its old range, and the old
  // primary address is still not a node.
  test('the old address of the refreshed node is never handed out again', async () => {
    assert.ok(movedFrom, 'Node Address Refresh ran');
    const since = () => handedOut.slice(handedOut.findIndex((x) => x[0] === movedFrom.name && x[1] === addr[movedFrom.name]));
    // Without the broken-link cases (which provision a device each), provision here instead.
    while (brokenLinkSkip && since().length < 3) {
      const next = brokenLinkCandidate('static') || brokenLinkCandidate('none');
      assert.ok(next, 'a device to provision next');
      const { done } = await w.provision([{ name: next.name, server: addr[next.server] }], { timeout: LONG });
      record(done);
    }
    const later = since();
    assert.ok(later.length >= 3, 'provisionings after the refresh');
    for (const [n, lo, hi] of later) {
      assert.ok(hi < movedFrom.low || lo > movedFrom.high, `${n} ${hex4(lo)}..${hex4(hi)} reuses ${hex4(movedFrom.low)}`);
    }
    for (const n of await allNodes()) {
      if (n.address >= movedFrom.low && n.address <= movedFrom.high) {
        assert.equal(n.excluded, true, `${nameOfUuid(n.uuid)} active at the old address`);
      }
    }
  });

  // Hand-over of the whole building (issue 14): the network built above (RPR servers in
  // rings, relays, refreshed nodes, exclusions) exported as a Mesh CDB, the inventory wiped
  // (a new gateway), the document imported: the same inventory field by field, and every
  // node answers Config under its DevKey again, across the relays.
  test('hand-over: export the building, wipe, import, every node configurable again', async () => {
    const admin = () => w.tokens.admin;
    const full = await w.ok('GET', '/api/v1/cdb', { token: admin() });
    const before = await inventorySnapshot(w);
    assert.ok(before.nodes.length >= 15, `the servers and devices of three floors: ${before.nodes.length} nodes`);
    assert.equal(full.nodes.length, before.nodes.length);

    await wipeState(w, 'handover');
    assert.equal((await nodesOf(w)).length, 0);
    const self = encodeURIComponent(full.provisioners[0].UUID);
    const res = await w.ok('POST', `/api/v1/cdb?provisioner=${self}`, { token: admin(), body: full });
    assert.equal(res.mode, 'take-over');
    assert.equal(res.nodes.added, full.nodes.length);
    assert.equal(res.restart_required, false);

    const after = await inventorySnapshot(w);
    assert.deepEqual(after.nodes, before.nodes, 'nodes');
    assert.deepEqual(after.details, before.details, 'node details: elements, models, keys, bindings');
    assert.deepEqual(after.keys, before.keys, 'NetKeys and AppKeys');
    for (const n of after.nodes) {
      const r = await w.ok('POST', `/api/v1/nodes/${n.address}/config`, { token: w.tokens.operator, body: { op: 'relay_get' } });
      assert.equal(r.status, 0, `${nameOfUuid(n.uuid)} (${hex4(n.address)}) answers Config Relay Get`);
    }
    // Controllable too: every bound Generic OnOff Server answers with the imported AppKey.
    let lights = 0;
    for (const n of after.nodes) {
      for (const b of after.details[n.address].bindings.filter((x) => x.model === 0x1000)) {
        const a = n.address + b.element;
        const r = await w.ok('POST', '/api/v1/onoff', { token: w.tokens.operator, body: { address: a, on: true } });
        assert.deepEqual(r, { address: a, present: true }, `${nameOfUuid(n.uuid)} element ${b.element} OnOff`);
        lights++;
      }
    }
    assert.ok(lights > 0, 'lights among the imported nodes');
    console.log(`# hand-over: ${after.nodes.length} nodes exported, imported into an empty gateway, ` +
      `all answer Config, ${lights} OnOff servers answer`);
  });
});
