// Zones (issue 12): a zone's switches switch its lights and no others.  On
// sim/scenarios/small.json plus a second switch: two zones through the REST
// API, a light and a switch put into each (the gateway subscribes the lights'
// OnOff Servers to the zone's group and points the switch's OnOff Client's
// publication at it), then a press of a simulated switch (`meshsim ctl dev N
// press`) must switch exactly its zone's lights, read back through GET
// /api/v1/onoff.  Moving a light to the other zone moves it with its switch.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, waitFor } from './harness.mjs';

describe('zones: switches switch their zone\'s lights (small.json)', () => {
  let w;
  let op;
  let viewer;
  let addr; // device name -> primary address
  const zone = {}; // zone name -> zone

  // Both elements of each light are OnOff Servers; both follow the zone.
  const lights = ['light-noob', 'light-static16'];
  const onoff = async (a) => (await w.ok('GET', `/api/v1/onoff/${a}`, { token: viewer })).present;
  const lightIs = async (name) => [await onoff(addr[name]), await onoff(addr[name] + 1)];

  async function press(sw, how) {
    const r = await w.dev(sw, 'press', how);
    assert.match(r, new RegExp(`^ok ${how} to 0x[0-9a-f]{4} tid \\d+$`), r);
    return r;
  }

  // Waits until every light has the state wanted ({name: bool}), element by element.
  async function expectLights(want) {
    await waitFor(async () => {
      for (const [name, on] of Object.entries(want)) {
        const got = await lightIs(name);
        if (got[0] !== on || got[1] !== on) return false;
      }
      return true;
    }, { what: `lights ${JSON.stringify(want)}` });
  }

  async function move(name, z) {
    return w.ok('PUT', `/api/v1/nodes/${addr[name]}/zone`, { token: op, body: { zone: z ? z.id : null } });
  }

  before(async () => {
    w = await startWorld({
      scenario: 'small.json',
      editScenario: (s) => {
        // A second wall switch next to the first, without OOB.
        const sw = structuredClone(s.devices.find((d) => d.name === 'switch-output'));
        sw.name = 'switch-2';
        sw.uuid = '5a1fcb3e6b2d4f0c8e7d9a0b1c2d3e4f';
        sw.position = { ...sw.position, x: sw.position.x - 1.0 };
        delete sw.oob;
        s.devices.push(sw);
      },
    });
    op = w.tokens.operator;
    viewer = w.tokens.viewer;
    const { done } = await w.provision([...lights, 'switch-output', 'switch-2'], { timeout: 180000 });
    addr = Object.fromEntries(done.map((s) => [s.name, s.address]));
  });

  after(async () => {
    if (w) await w.close();
  });

  test('zones get distinct group addresses from group_range; names are unique', async () => {
    for (const name of ['hall', 'office']) {
      zone[name] = await w.ok('POST', '/api/v1/zones', { token: op, body: { name } }, [201]);
      assert.equal(zone[name].name, name);
      assert.deepEqual(zone[name].nodes, []);
    }
    assert.ok(zone.hall.group >= 0xc000 && zone.hall.group <= 0xcfff, `group ${zone.hall.group}`);
    assert.notEqual(zone.hall.group, zone.office.group);
    const dup = await w.api('POST', '/api/v1/zones', { token: op, body: { name: 'hall' } });
    assert.equal(dup.status, 409);
    assert.match(dup.body.detail, /hall/);
    const none = await w.api('PUT', `/api/v1/nodes/${addr['switch-2']}/zone`, { token: op, body: { zone: 999 } });
    assert.equal(none.status, 404);
    assert.match(none.body.detail, /no zone 999/);
    const noNode = await w.api('PUT', '/api/v1/nodes/0x0777/zone', { token: op, body: { zone: zone.hall.id } });
    assert.equal(noNode.status, 404);
    assert.match(noNode.body.detail, /no node at 0x0777/);
  });

  test('a light and a switch in each zone; the zones list them', async () => {
    for (const [name, z] of [['light-noob', 'hall'], ['switch-output', 'hall'],
      ['light-static16', 'office'], ['switch-2', 'office']]) {
      const r = await move(name, zone[z]);
      assert.deepEqual(r, { address: addr[name], zone: { id: zone[z].id, name: z, group: zone[z].group, pending: false } });
    }
    const hall = await w.ok('GET', `/api/v1/zones/${zone.hall.id}`, { token: viewer });
    assert.deepEqual(hall.nodes, [addr['light-noob'], addr['switch-output']].sort((a, b) => a - b));
    assert.deepEqual(hall.lights, [addr['light-noob']]);
    assert.deepEqual(hall.switches, [addr['switch-output']]);
    assert.deepEqual(hall.pending, []);
    const { items } = await w.ok('GET', '/api/v1/zones', { token: viewer });
    assert.deepEqual(items.map((z) => z.name), ['hall', 'office']);
    assert.deepEqual(items[1].lights, [addr['light-static16']]);
    const node = await w.ok('GET', `/api/v1/nodes/${addr['light-noob']}`, { token: viewer });
    assert.equal(node.zone.id, zone.hall.id);
    // The subscriptions the node confirmed are in the inventory: both elements, the hall group.
    assert.deepEqual(node.subscriptions.map((s) => [s.element, s.address]),
      [[0, zone.hall.group], [1, zone.hall.group]]);
    const busy = await w.api('DELETE', `/api/v1/zones/${zone.hall.id}`, { token: op });
    assert.equal(busy.status, 409);
    assert.match(busy.body.detail, /has nodes/);
  });

  test('pressing a switch switches exactly its zone\'s lights', async () => {
    await expectLights({ 'light-noob': false, 'light-static16': false });
    await press('switch-output', 'on');
    await expectLights({ 'light-noob': true });
    assert.deepEqual(await lightIs('light-static16'), [false, false], 'the office stays dark');
    await press('switch-2', 'on');
    await expectLights({ 'light-static16': true });
    await press('switch-output', 'off');
    await expectLights({ 'light-noob': false });
    assert.deepEqual(await lightIs('light-static16'), [true, true], 'the office stays lit');
    await press('switch-2', 'off');
    await expectLights({ 'light-noob': false, 'light-static16': false });
  });

  test('a light moved to the other zone follows that zone\'s switch only', async () => {
    await move('light-static16', zone.hall);
    const node = await w.ok('GET', `/api/v1/nodes/${addr['light-static16']}`, { token: viewer });
    assert.deepEqual(node.subscriptions.map((s) => [s.element, s.address]),
      [[0, zone.hall.group], [1, zone.hall.group]], 'the office group was deleted');
    await press('switch-output', 'on');
    await expectLights({ 'light-noob': true, 'light-static16': true });
    // The office switch reaches no light now.  The Get goes out after the press: it is the sync point.
    await press('switch-2', 'off');
    assert.deepEqual(await lightIs('light-static16'), [true, true], 'the office switch no longer reaches it');
    await press('switch-output', 'off');
    await expectLights({ 'light-noob': false, 'light-static16': false });
    const office = await w.ok('GET', `/api/v1/zones/${zone.office.id}`, { token: viewer });
    assert.deepEqual(office.lights, []);
    assert.deepEqual(office.switches, [addr['switch-2']]);
  });

  test('a node that does not answer: 504 naming it, the move stays pending, the same request finishes it', async () => {
    const a = addr['light-noob'];
    const hex = `0x${a.toString(16).padStart(4, '0')}`;
    assert.equal(await w.dev('light-noob', 'power off'), 'ok');
    const r = await w.api('PUT', `/api/v1/nodes/${a}/zone`, { token: op, body: { zone: zone.office.id } });
    assert.equal(r.status, 504, r.text);
    assert.match(r.body.detail, new RegExp(`node ${hex}: Model Subscription (Delete|Add) on element 0x`));
    let node = await w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer });
    assert.deepEqual(node.zone, { id: zone.office.id, name: 'office', group: zone.office.group, pending: true });
    const office = await w.ok('GET', `/api/v1/zones/${zone.office.id}`, { token: viewer });
    assert.deepEqual(office.pending, [a]);
    assert.equal(await w.dev('light-noob', 'power on'), 'ok');
    await move('light-noob', zone.office);
    node = await w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer });
    assert.equal(node.zone.pending, false);
    assert.deepEqual(node.subscriptions.map((s) => [s.element, s.address]),
      [[0, zone.office.group], [1, zone.office.group]], 'the hall group went, the office group came');
    await press('switch-2', 'on');
    await expectLights({ 'light-noob': true });
    await press('switch-2', 'off');
    await expectLights({ 'light-noob': false });
    await move('light-noob', zone.hall);
  });

  test('leaving every zone clears a switch\'s publication; an empty zone can be deleted', async () => {
    const r = await move('switch-2', null);
    assert.deepEqual(r, { address: addr['switch-2'], zone: null });
    // meshsim ctl exits 1 on an error reply, which it prints.
    await assert.rejects(w.dev('switch-2', 'press', 'on'), (e) => /no publication/.test(e.stdout));
    const del = await w.ok('DELETE', `/api/v1/zones/${zone.office.id}`, { token: op });
    assert.deepEqual(del, { id: zone.office.id, deleted: true });
    const gone = await w.api('GET', `/api/v1/zones/${zone.office.id}`, { token: viewer });
    assert.equal(gone.status, 404);
    const renamed = await w.ok('PATCH', `/api/v1/zones/${zone.hall.id}`, { token: op, body: { name: 'hall 1' } });
    assert.equal(renamed.name, 'hall 1');
    assert.equal(renamed.group, zone.hall.group);
  });

  test('a move cut short by SIGKILL is finished after the restart, without a new request', async () => {
    const lab = await w.ok('POST', '/api/v1/zones', { token: op, body: { name: 'lab' } }, [201]);
    zone.lab = lab;
    const a = addr['light-static16'];
    // The light cannot acknowledge anything: the move stays pending until meshgw dies.
    assert.equal(await w.dev('light-static16', 'power off'), 'ok');
    const put = w.api('PUT', `/api/v1/nodes/${a}/zone`, { token: op, body: { zone: lab.id } }).catch((e) => e);
    await waitFor(async () => {
      const n = await w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer });
      return n.zone && n.zone.id === lab.id && n.zone.pending;
    }, { interval: 50, what: 'the move written ahead (pending)' });
    const k = await w.killGw();
    assert.equal(k.signal, 'SIGKILL');
    const cut = await put;
    assert.ok(cut instanceof Error || cut.status >= 500, 'the request did not complete');
    assert.equal(await w.dev('light-static16', 'power on'), 'ok');
    await w.restartGw();
    // No PUT: the gateway finishes the move by itself.
    await waitFor(async () => (await w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer })).zone.pending === false,
      { what: 'the move finished after the restart' });
    const node = await w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer });
    assert.deepEqual(node.zone, { id: lab.id, name: 'lab', group: lab.group, pending: false });
    assert.deepEqual(node.subscriptions.map((s) => [s.element, s.address]),
      [[0, lab.group], [1, lab.group]], 'the hall group went, the lab group came');
    assert.deepEqual((await w.ok('GET', `/api/v1/zones/${lab.id}`, { token: viewer })).pending, []);
    // The list says the same as the node (one builder for both).
    const listed = (await w.ok('GET', '/api/v1/nodes', { token: viewer })).items.find((n) => n.address === a);
    assert.deepEqual(listed.zone, node.zone);
    await move('switch-2', lab);
    await press('switch-2', 'on');
    await expectLights({ 'light-static16': true });
    assert.deepEqual(await lightIs('light-noob'), [false, false], 'the hall stays dark');
    await press('switch-2', 'off');
    await expectLights({ 'light-static16': false });
  });

  const cfg = (name, body) => w.ok('POST', `/api/v1/nodes/${addr[name]}/config`, { token: op, body });
  const bindings = async (name, model) => (await w.ok('GET', `/api/v1/nodes/${addr[name]}`, { token: viewer }))
    .bindings.filter((b) => b.model === model).map((b) => [b.element, b.app_index]).sort();

  test('AppKeys: a switch bound to another AppKey publishes with the lights\' one; a light without the switch\'s key is refused', async () => {
    const ak = await w.ok('POST', '/api/v1/keys/app', { token: w.tokens.admin, body: { net_index: 0 } }, [201]);
    const k = ak.index;
    assert.notEqual(k, 0);
    // switch-2's OnOff Client: bound to the new AppKey only.  The lab's light is bound to 0.
    assert.equal((await cfg('switch-2', { op: 'appkey_add', app_index: k })).status, 0);
    assert.equal((await cfg('switch-2', { op: 'bind', element: 0, model: 0x1001, app_index: k })).status, 0);
    assert.equal((await cfg('switch-2', { op: 'unbind', element: 0, model: 0x1001, app_index: 0 })).status, 0);
    assert.deepEqual(await bindings('switch-2', 0x1001), [[0, k]]);
    // Reconciled: the switch holds AppKey 0, so it is bound to it and publishes with it.
    await move('switch-2', zone.lab);
    assert.deepEqual(await bindings('switch-2', 0x1001), [[0, 0], [0, k]]);
    await press('switch-2', 'on');
    await expectLights({ 'light-static16': true });
    await press('switch-2', 'off');
    await expectLights({ 'light-static16': false });

    // switch-output publishes with the new AppKey only, in a zone of its own.
    const annex = await w.ok('POST', '/api/v1/zones', { token: op, body: { name: 'annex' } }, [201]);
    assert.equal((await cfg('switch-output', { op: 'appkey_add', app_index: k })).status, 0);
    assert.equal((await cfg('switch-output', { op: 'bind', element: 0, model: 0x1001, app_index: k })).status, 0);
    assert.equal((await cfg('switch-output', { op: 'unbind', element: 0, model: 0x1001, app_index: 0 })).status, 0);
    await move('switch-output', annex);
    // light-noob has no such AppKey: refused before any message, naming the key, the
    // switch's element and the zone; the light stays where it was.
    const before = await w.ok('GET', `/api/v1/nodes/${addr['light-noob']}`, { token: viewer });
    const r = await w.api('PUT', `/api/v1/nodes/${addr['light-noob']}/zone`, { token: op, body: { zone: annex.id } });
    assert.equal(r.status, 409, r.text);
    const sw = `0x${addr['switch-output'].toString(16).padStart(4, '0')}`;
    assert.match(r.body.detail, new RegExp(`has no AppKey index ${k}, which switch element ${sw} of zone 'annex' publishes with`));
    const after = await w.ok('GET', `/api/v1/nodes/${addr['light-noob']}`, { token: viewer });
    assert.deepEqual(after.zone, before.zone, 'not moved, nothing pending');
    // Once the light holds the AppKey, the move binds it and the switch reaches the light.
    assert.equal((await cfg('light-noob', { op: 'appkey_add', app_index: k })).status, 0);
    await move('light-noob', annex);
    assert.deepEqual(await bindings('light-noob', 0x1000), [[0, 0], [0, k], [1, 0], [1, k]]);
    await press('switch-output', 'on');
    await expectLights({ 'light-noob': true });
    assert.deepEqual(await lightIs('light-static16'), [false, false], 'the lab stays dark');
    await press('switch-output', 'off');
    await expectLights({ 'light-noob': false });

    // A switch without any AppKey of the zone's lights: refused, naming it.
    assert.equal((await cfg('switch-output', { op: 'appkey_delete', app_index: 0 })).status, 0);
    const r2 = await w.api('PUT', `/api/v1/nodes/${addr['switch-output']}/zone`, { token: op, body: { zone: zone.lab.id } });
    assert.equal(r2.status, 409, r2.text);
    assert.match(r2.body.detail, new RegExp(`node ${sw}: its switch \\(element ${sw}\\) has none of the AppKeys the lights of zone 'lab' are bound to \\(AppKey index 0\\)`));
  });

  test('a node silent at the time of its move: the gateway finishes the move by itself later', async () => {
    const a = addr['light-noob'];
    assert.equal(await w.dev('light-noob', 'power off'), 'ok');
    const t0 = Date.now();
    const r = await w.api('PUT', `/api/v1/nodes/${a}/zone`, { token: op, body: { zone: zone.lab.id } });
    assert.equal(r.status, 504, r.text);
    assert.equal(await w.dev('light-noob', 'power on'), 'ok');
    // No second request: the retry timer (30 s after the timeout) resumes it.
    await waitFor(async () => (await w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer })).zone.pending === false,
      { timeout: 90000, interval: 500, what: 'the move finished by the gateway' });
    console.log(`# finished ${((Date.now() - t0) / 1000).toFixed(1)} s after the request`);
    const node = await w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer });
    assert.equal(node.zone.id, zone.lab.id);
    assert.deepEqual(node.subscriptions.map((s) => [s.element, s.address]),
      [[0, zone.lab.group], [1, zone.lab.group]]);
    await press('switch-2', 'on');
    await expectLights({ 'light-noob': true, 'light-static16': true });
    await press('switch-2', 'off');
    await expectLights({ 'light-noob': false, 'light-static16': false });
  });
});
