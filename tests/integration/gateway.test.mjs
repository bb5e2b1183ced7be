// The issue 5 "Done when" flow, end to end and only through meshgw's REST API
// (meshsim's control socket stands in for the person at the device: it reads
// what a device displays and types what the gateway shows): scan, provision
// the five devices of sim/scenarios/small.json with every authentication
// method and both algorithms (four in one request), read their composition,
// toggle a light, remove a node, check that its address is never handed out
// again, restart meshgw and find the inventory and the network intact.
// Every response body is validated against openapi.yaml by the harness.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, waitFor, num, expectedComposition } from './harness.mjs';

describe('meshgw + meshsim (small.json) through the REST API', () => {
  let w;
  let op; // operator token
  let viewer;
  const sess = {}; // device name -> session
  const addr = {}; // device name -> unicast address
  let removed; // {name, address, elements}

  const dev = (name) => w.device(name);
  const session = (id) => w.ok('GET', `/api/v1/provisioning/${id}`, { token: viewer });

  async function scanUntilSeen(uuids) {
    await w.ok('POST', '/api/v1/scans', { token: op, body: { duration_s: 120 } }, [202]);
    const items = await waitFor(async () => {
      const r = await w.ok('GET', '/api/v1/scans/results', { token: viewer });
      const seen = new Set(r.items.map((i) => i.uuid));
      return uuids.every((u) => seen.has(u)) && r.items;
    }, { what: `beacons of ${uuids.join(', ')}` });
    await w.ok('DELETE', '/api/v1/scans/current', { token: op });
    return items;
  }

  async function waitSession(id, states) {
    return waitFor(async () => {
      const s = await session(id);
      if (['failed', 'cancelled'].includes(s.state) && !states.includes(s.state)) {
        throw Object.assign(new Error(`session ${id} ${s.state}: ${s.error}`), { fatal: true });
      }
      return states.includes(s.state) && s;
    }, { what: `session ${id} in ${states.join('/')}` });
  }

  async function waitDone(id) {
    const s = await waitSession(id, ['done']);
    assert.equal(typeof s.address, 'number', `session ${id} done without an address`);
    return s;
  }

  before(async () => {
    w = await startWorld({ scenario: 'small.json' });
    op = w.tokens.operator;
    viewer = w.tokens.viewer;
  });

  after(async () => {
    if (w) await w.close();
  });

  // A fresh gateway created a network: primary NetKey 0 and one AppKey bound to it, no nodes.
  test('network created on first start', async () => {
    const n = await w.ok('GET', '/api/v1/network', { token: viewer });
    assert.match(n.mesh_uuid, /^[0-9a-f]{32}$/);
    assert.deepEqual(n.net_keys.map((k) => k.index), [0]);
    assert.deepEqual(n.app_keys.map((k) => [k.index, k.net_index]), [[0, 0]]);
    assert.equal(n.nodes, 0);
  });

  // The scan reports the unprovisioned beacons of all five devices, with their OOB information.
  test('scan finds the five devices', async () => {
    const uuids = w.scenario.devices.map((d) => d.uuid);
    assert.equal(uuids.length, 5);
    const items = await scanUntilSeen(uuids);
    for (const d of w.scenario.devices) {
      const it = items.find((i) => i.uuid === d.uuid);
      assert.equal(it.oob_info, d.oob?.info ? num(d.oob.info) : 0, `${d.name} oob_info`);
      assert.equal(it.uri_hash === null, !d.uri, `${d.name} uri_hash present iff the device has a URI`);
    }
  });

  // Four devices in one request, concurrently: No OOB and Output OOB (the devices only offer CMAC),
  // Static OOB 16 octets and Input OOB (they offer HMAC too; "auto" prefers it).  The Output OOB
  // value is read off the device and typed back; the Input OOB value shown by the gateway is typed
  // on the device.
  test('provision four devices at once (No OOB, Static 16, Output, Input)', async () => {
    const out = dev('switch-output').oob.output;
    const inp = dev('panel-input').oob.input;
    assert.ok(out.actions.includes('numeric') && inp.actions.includes('numeric'));
    assert.deepEqual(dev('light-noob').algorithms, ['cmac']);
    assert.deepEqual(dev('switch-output').algorithms, ['cmac']);
    const body = {
      algorithm: 'auto',
      devices: [
        { uuid: dev('light-noob').uuid, name: 'light-noob', auth: { method: 'none' } },
        { uuid: dev('light-static16').uuid, name: 'light-static16',
          auth: { method: 'static', static_oob: dev('light-static16').oob.static } },
        { uuid: dev('switch-output').uuid, name: 'switch-output',
          auth: { method: 'output', action: 'numeric', size: out.size } },
        { uuid: dev('panel-input').uuid, name: 'panel-input',
          auth: { method: 'input', action: 'numeric', size: inp.size } },
      ],
    };
    assert.equal(dev('light-static16').oob.static.length, 32);
    const r = await w.ok('POST', '/api/v1/provisioning', { token: op, body }, [202]);
    assert.equal(r.sessions.length, 4);
    for (const [i, s] of r.sessions.entries()) {
      assert.equal(s.uuid, body.devices[i].uuid);
      assert.equal(s.auth_method, body.devices[i].auth.method);
      sess[body.devices[i].name] = s;
    }
    assert.equal(new Set(r.sessions.map((s) => s.id)).size, 4);

    const outputDone = (async () => {
      const id = sess['switch-output'].id;
      await waitSession(id, ['waiting_oob']);
      const value = await waitFor(async () => {
        const shown = JSON.parse(await w.ctl('oob')).filter((e) => e.name === 'switch-output');
        const m = shown.length && /(\d+)\s*$/.exec(shown[shown.length - 1].text);
        return m && m[1];
      }, { what: 'switch-output to display its Output OOB number' });
      assert.equal(value.length <= out.size, true);
      const s = await w.ok('POST', `/api/v1/provisioning/${id}/oob`, { token: op, body: { value } });
      assert.equal(s.id, id);
      return waitDone(id);
    })();
    const inputDone = (async () => {
      const id = sess['panel-input'].id;
      const s = await waitFor(async () => {
        const x = await session(id);
        return x.input_oob_value !== null && x;
      }, { what: 'the Input OOB value from the gateway' });
      assert.equal(s.state, 'waiting_oob');
      assert.match(s.input_oob_value, new RegExp(`^[0-9]{1,${inp.size}}$`));
      // The person types the value on the device once it waits for input.
      await waitFor(async () => (await w.dev('panel-input', 'input', s.input_oob_value)) === 'ok',
        { what: 'panel-input to accept the typed value' });
      return waitDone(id);
    })();
    const done = await Promise.all([
      waitDone(sess['light-noob'].id),
      waitDone(sess['light-static16'].id),
      outputDone,
      inputDone,
    ]);
    for (const s of done) addr[s.name] = s.address;
    assert.equal(new Set(Object.values(addr)).size, 4, 'four distinct addresses');
    for (const name of Object.keys(addr)) {
      assert.match(await w.dev(name, 'status'), new RegExp(`^provisioned addr 0x${addr[name].toString(16).padStart(4, '0')}( |$)`));
    }
  });

  // Static OOB with 32 octets needs BTM_ECDH_P256_HMAC_SHA256_AES_CCM; the request forces HMAC.
  test('provision the fifth device: Static OOB 32 octets, algorithm hmac', async () => {
    const d = dev('sensor-static32');
    assert.equal(d.oob.static.length, 64);
    assert.ok(d.algorithms.includes('hmac'));
    const r = await w.ok('POST', '/api/v1/provisioning', {
      token: op,
      body: { algorithm: 'hmac', devices: [{ uuid: d.uuid, name: d.name, auth: { method: 'static', static_oob: d.oob.static } }] },
    }, [202]);
    const s = await waitDone(r.sessions[0].id);
    addr[d.name] = s.address;
  });

  // The inventory holds the five nodes with the names, UUIDs and element counts of the devices,
  // and every node's element range is disjoint from the others'.
  test('inventory lists the five nodes', async () => {
    const r = await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer });
    assert.equal(r.total, 5);
    const ranges = [];
    for (const d of w.scenario.devices) {
      const n = r.items.find((x) => x.uuid === d.uuid);
      assert.ok(n, `${d.name} in the inventory`);
      assert.equal(n.name, d.name);
      assert.equal(n.address, addr[d.name]);
      assert.equal(n.elements, d.composition.elements.length);
      assert.equal(n.excluded, false);
      ranges.push([n.address, n.address + n.elements - 1]);
    }
    ranges.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i][0] > ranges[i - 1][1], 'overlapping element ranges');
  });

  // Paging: pages of 2 by the after cursor walk the same nodes in the same order as one big
  // page, each page's next_after is its last address, and the last page says there is no more.
  test('node list pages by cursor and by offset agree', async () => {
    const all = (await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer })).items;
    assert.equal(all.length, 5);
    assert.deepEqual(all.map((n) => n.address), all.map((n) => n.address).sort((a, b) => a - b));
    const walked = [];
    let after = 0;
    for (let i = 0; i < 4; i++) {
      const p = await w.ok('GET', `/api/v1/nodes?limit=2&after=${after}`, { token: viewer });
      assert.equal(p.total, 5, 'total counts every page');
      walked.push(...p.items);
      const byOffset = await w.ok('GET', `/api/v1/nodes?limit=2&offset=${2 * i}`, { token: viewer });
      assert.deepEqual(byOffset.items, p.items, `page ${i}: offset and cursor agree`);
      if (p.next_after === null) break;
      assert.equal(p.next_after, p.items[p.items.length - 1].address);
      after = p.next_after;
    }
    assert.deepEqual(walked, all);
    const last = await w.ok('GET', `/api/v1/nodes?after=${all[4].address}`, { token: viewer });
    assert.deepEqual(last.items, []);
    assert.equal(last.next_after, null);
    const bad = await w.api('GET', '/api/v1/nodes?after=32768', { token: viewer });
    assert.equal(bad.status, 400);
  });

  // Composition Data page 0 of every node, as the inventory stored it during configuration, equals
  // what the scenario declares for the device; page 128 exists exactly for panel-input.
  test('composition page 0 of each node (and 128 where the device has it)', async () => {
    for (const d of w.scenario.devices) {
      const a = addr[d.name];
      const c = await w.ok('GET', `/api/v1/nodes/${a}/composition/0`, { token: viewer });
      const { page, raw, features, ...rest } = c;
      assert.equal(page, 0);
      assert.match(raw, /^([0-9a-f]{2})+$/);
      assert.equal(raw.slice(0, 4), num(d.composition.cid).toString(16).padStart(4, '0').replace(/(..)(..)/, '$2$1'),
        'raw page starts with CID little-endian');
      assert.equal(features & 1, d.composition.features.relay ? 1 : 0);
      assert.deepEqual(rest, expectedComposition(d.composition), `${d.name} page 0`);
      const n = await w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer });
      assert.deepEqual(n.pages, d.composition_128 ? [0, 128] : [0]);
      // Page 128 is asked first (prov_cfg.c): a node without it answers with page 0 (§4.4.1.2.1),
      // so one Composition Data Status came from it, not one per page (meshgw -d trace lines).
      const statuses = w.gw.log().split('\n').filter((l) => l.includes(
        ` trace acc-rx 0x${a.toString(16).padStart(4, '0')}>`) && l.endsWith(' op 0x0002')).length;
      assert.equal(statuses, d.composition_128 ? 2 : 1, `${d.name}: Composition Data Status messages`);
      assert.deepEqual(n.app_keys, [0]);
      // Every Generic OnOff Server got the default AppKey bound (bind_profile = all).
      const onoffElems = d.composition.elements.flatMap((e, i) => (e.models.map(num).includes(0x1000) ? [i] : []));
      assert.deepEqual(n.bindings.filter((b) => b.model === 0x1000).map((b) => [b.element, b.app_index]),
        onoffElems.map((i) => [i, 0]), `${d.name} OnOff bindings`);
      if (d.composition_128) {
        const c128 = await w.ok('GET', `/api/v1/nodes/${a}/composition/128`, { token: viewer });
        const { page: p128, raw: r128, features: f128, ...rest128 } = c128;
        assert.equal(p128, 128);
        assert.ok(r128.length > 0 && f128 >= 0);
        assert.deepEqual(rest128, expectedComposition(d.composition_128), `${d.name} page 128`);
      }
    }
    const none = await w.api('GET', `/api/v1/nodes/${addr['light-noob']}/composition/128`, { token: viewer });
    assert.equal(none.status, 404);
  });

  // Generic OnOff Set (acknowledged) switches the light; Get reads it back; the device agrees.
  test('toggle a light and read its state', async () => {
    const a = addr['light-static16'];
    assert.equal(await w.dev('light-static16', 'onoff'), '0:off 1:off');
    let r = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: a, on: true } });
    assert.deepEqual(r, { address: a, present: true });
    r = await w.ok('GET', `/api/v1/onoff/${a}`, { token: viewer });
    assert.deepEqual(r, { address: a, present: true });
    assert.equal(await w.dev('light-static16', 'onoff'), '0:on 1:off');
    // The second element is a separate light.
    r = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: a + 1, on: true } });
    assert.equal(r.present, true);
    assert.equal(await w.dev('light-static16', 'onoff'), '0:on 1:on');
    r = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: a, on: false } });
    assert.equal(r.present, false);
    r = await w.ok('GET', `/api/v1/onoff/${a}`, { token: viewer });
    assert.equal(r.present, false);
    assert.equal(await w.dev('light-static16', 'onoff'), '0:off 1:on');
  });

  // A node whose composition has no Generic OnOff Server on that element is refused at once
  // with 409 naming the element; an address no node has is 404 at once (no 10 s wait for an
  // answer that cannot come).
  test('OnOff to a node without the server, or to no node: answered at once', async () => {
    const s = addr['sensor-static32'];
    assert.ok(s, 'sensor-static32 is provisioned');
    const t0 = Date.now();
    let r = await w.api('POST', '/api/v1/onoff', { token: op, body: { address: s, on: true } });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.contentType, 'application/problem+json');
    assert.equal(r.body.detail, `node 0x${s.toString(16).padStart(4, '0')} element 0 has no Generic OnOff Server`);
    r = await w.api('GET', `/api/v1/onoff/${s}`, { token: viewer });
    assert.equal(r.status, 409, r.text);
    r = await w.api('GET', '/api/v1/onoff/999', { token: viewer });
    assert.equal(r.status, 404, r.text);
    assert.equal(r.body.detail, 'no node has address 0x03e7');
    r = await w.api('POST', '/api/v1/onoff', { token: op, body: { address: 999, on: true, ack: false } });
    assert.equal(r.status, 404, r.text);
    // The node timeout is 10 s; all four together took far less.
    assert.ok(Date.now() - t0 < 5000, `answered in ${Date.now() - t0} ms`);
  });

  // DELETE is a long operation: Node Reset, then the node is excluded; the device forgets the
  // network and beacons as unprovisioned again.
  test('remove a node', async () => {
    const d = dev('light-noob');
    removed = { name: d.name, uuid: d.uuid, address: addr[d.name], elements: d.composition.elements.length };
    const o = await w.ok('DELETE', `/api/v1/nodes/${removed.address}`, { token: op }, [202]);
    assert.equal(o.type, 'remove');
    const fin = await waitFor(async () => {
      const x = await w.ok('GET', `/api/v1/operations/${o.id}`, { token: viewer });
      if (x.state === 'failed') throw Object.assign(new Error(`removal failed: ${x.error}`), { fatal: true });
      return x.state === 'done' && x;
    }, { what: `operation ${o.id}` });
    assert.equal(fin.progress, 100);
    assert.equal(await w.dev('light-noob', 'status'), 'unprovisioned addr 0x0000');
    const live = await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer });
    assert.equal(live.items.some((n) => n.address === removed.address), false);
    const ex = await w.ok('GET', '/api/v1/nodes?excluded=true', { token: viewer });
    const n = ex.items.find((x) => x.address === removed.address);
    assert.ok(n && n.excluded === true && n.uuid === removed.uuid);
    await scanUntilSeen([removed.uuid]);
  });

  // The gateway's algorithm policy is enforced: the device offers CMAC only, "hmac" must fail.
  test('algorithm hmac refuses a CMAC-only device', async () => {
    const r = await w.ok('POST', '/api/v1/provisioning', {
      token: op,
      body: { algorithm: 'hmac', devices: [{ uuid: removed.uuid, name: 'refused', auth: { method: 'none' } }] },
    }, [202]);
    const s = await waitSession(r.sessions[0].id, ['failed']);
    assert.ok(s.error && s.error.length > 0);
    assert.equal(s.address, null);
    const nodes = await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer });
    assert.equal(nodes.total, 4);
  });

  // A removed node's addresses go on the exclusion list: provisioning the same device again gives
  // it a new address, and no other new node gets one of the removed addresses either.
  test('the removed address is never handed out again', async () => {
    const again = await w.ok('POST', '/api/v1/provisioning', {
      token: op, body: { devices: [{ uuid: removed.uuid, name: 'light-noob-2', auth: { method: 'none' } }] },
    }, [202]);
    const s = await waitDone(again.sessions[0].id);
    addr['light-noob'] = s.address;
    const lo = removed.address;
    const hi = removed.address + removed.elements - 1;
    const nodes = await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer });
    assert.equal(nodes.total, 5);
    for (const n of nodes.items) {
      const nhi = n.address + n.elements - 1;
      assert.ok(nhi < lo || n.address > hi, `node ${n.name} 0x${n.address.toString(16)} reuses removed 0x${lo.toString(16)}..0x${hi.toString(16)}`);
    }
    assert.notEqual(s.address, removed.address);
    assert.match(await w.dev('light-noob', 'status'), new RegExp(`^provisioned addr 0x${s.address.toString(16).padStart(4, '0')}( |$)`));
  });

  // SIGTERM stops meshgw cleanly (exit 0 within 2 s, issue 5); with the same state directory the
  // restarted daemon has the same network and inventory, and the nodes still answer.
  test('restart meshgw: inventory intact, network still works', async () => {
    const nodesBefore = await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer });
    const exBefore = await w.ok('GET', '/api/v1/nodes?excluded=true', { token: viewer });
    const netBefore = await w.ok('GET', '/api/v1/network', { token: viewer });
    const detailBefore = await w.ok('GET', `/api/v1/nodes/${addr['panel-input']}`, { token: viewer });
    const st = await w.stopGw();
    assert.deepEqual([st.code, st.signal], [0, null], 'exit status after SIGTERM');
    assert.ok(st.ms <= 2000, `meshgw took ${st.ms} ms to exit after SIGTERM`);
    await w.startGw();
    assert.deepEqual(await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer }), nodesBefore);
    assert.deepEqual(await w.ok('GET', '/api/v1/nodes?excluded=true', { token: viewer }), exBefore);
    assert.deepEqual(await w.ok('GET', '/api/v1/network', { token: viewer }), netBefore);
    assert.deepEqual(await w.ok('GET', `/api/v1/nodes/${addr['panel-input']}`, { token: viewer }), detailBefore);
    const a = addr['light-static16'];
    let r = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: a, on: true } });
    assert.equal(r.present, true);
    assert.equal(await w.dev('light-static16', 'onoff'), '0:on 1:on');
    // The re-provisioned light answers too (sequence numbers and keys survived the restart).
    const b = addr['light-noob'];
    r = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: b, on: true } });
    assert.equal(r.present, true);
    r = await w.ok('GET', `/api/v1/onoff/${b}`, { token: viewer });
    assert.equal(r.present, true);
    assert.equal(await w.dev('light-noob', 'onoff'), '0:on 1:off');
  });
});
