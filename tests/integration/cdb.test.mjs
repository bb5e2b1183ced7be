// Issue 14: hand-over as a Mesh Configuration Database (Mesh CDB 1.0.1), only
// through meshgw's REST API.  A network commissioned in meshsim's small.json is
// exported, the gateway is wiped (stopped, a new state directory) and the
// document imported: every node answers OnOff and Config again and the
// inventory is the same, field by field.  Each fixture of tests/cdb/fixtures
// (nRF Mesh 1.0.1, a BlueZ export, a 1.0.0 file), whose nodes are provisioned
// meshsim devices (state files written from the fixture), is imported and
// controlled, and meshgw then provisions a new device into its own range,
// clear of the fixture's provisioners.  Malformed and inconsistent documents
// are refused with the JSON pointer of the defect and change nothing.  Every
// export is validated against tests/cdb/cdb-schema.json (draft-04, Ajv).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { startWorld, waitFor, root, wipeState as wipe, inventorySnapshot as inventory, nodesOf } from './harness.mjs';
import { launch, watchedPage, problems } from '../web/browser.mjs';

const schema = JSON.parse(readFileSync(path.join(root, 'tests/cdb/cdb-schema.json'), 'utf8'));
const ajv = new Ajv04({ allErrors: true, strict: false });
addFormats(ajv);
const validateCdb = ajv.compile(schema);
const fixture = (name) => JSON.parse(readFileSync(path.join(root, 'tests/cdb/fixtures', name), 'utf8'));

function assertSchema(doc, what) {
  if (!validateCdb(doc)) {
    assert.fail(`${what} does not match tests/cdb/cdb-schema.json:\n  ${ajv.errorsText(validateCdb.errors, { separator: '\n  ' })}`);
  }
}

const hex4 = (s) => parseInt(s, 16);
const uuidHex = (u) => u.replace(/-/g, '').toLowerCase();

/** The meshsim state of a fixture's node, as PORTS.md "Device state" describes it. */
function simState(doc, node) {
  const netKey = (i) => doc.netKeys.find((k) => k.index === i);
  const appKey = (i) => doc.appKeys.find((k) => k.index === i);
  const models = [];
  for (const e of node.elements) {
    for (const m of e.models) {
      if (!m.bind.length && !m.subscribe.length) continue;
      const vendor = m.modelId.length === 8;
      models.push({
        element: e.index,
        id: hex4(vendor ? m.modelId.slice(4) : m.modelId),
        ...(vendor ? { cid: hex4(m.modelId.slice(0, 4)) } : {}),
        bind: m.bind,
        subs: m.subscribe.map((a) => ({ addr: hex4(a) })),
      });
    }
  }
  return {
    provisioned: true, addr: hex4(node.unicastAddress), elements: node.elements.length,
    dev_key: node.deviceKey.toLowerCase(), iv_index: doc.ivIndex ?? 0, iv_update: false, seq: 0,
    net_keys: node.netKeys.map((k) => ({ index: k.index, phase: 0, key: netKey(k.index).key.toLowerCase() })),
    app_keys: node.appKeys.map((k) => ({ index: k.index, net_index: appKey(k.index).boundNetKey, key: appKey(k.index).key.toLowerCase() })),
    default_ttl: node.defaultTTL ?? 5, relay: false, relay_retransmit: 0, beacon: true, net_transmit: 0,
    heartbeat: { pub: { dst: 0, count_log: 0, period_log: 0, ttl: 0, features: 0, net_index: 0 },
      sub: { src: 0, dst: 0, period_log: 0 } },
    models,
  };
}

/** editScenario for startWorld: every device that is a node of doc starts provisioned as it says. */
function provisionedBy(doc, dir) {
  return (s) => {
    for (const d of s.devices) {
      const node = doc.nodes.find((n) => !n.excluded && uuidHex(n.UUID) === d.uuid);
      if (!node) continue;
      const file = path.join(dir, `state-${d.name}.json`);
      writeFileSync(file, JSON.stringify({ meshsim_state: 1, devices: { [d.uuid]: simState(doc, node) } }), { mode: 0o600 });
      d.state_file = file;
    }
  };
}

/** OnOff Set then Get on an element address: the node answered with an AppKey. */
async function switchLight(w, address) {
  for (const on of [true, false]) {
    const r = await w.ok('POST', '/api/v1/onoff', { token: w.tokens.operator, body: { address, on } });
    assert.equal(r.present, on, `OnOff Set ${on} on 0x${address.toString(16)}`);
    const g = await w.ok('GET', `/api/v1/onoff/${address}`, { token: w.tokens.viewer });
    assert.equal(g.present, on);
  }
}

/** A Config Client request: the node answered under its DevKey. */
async function configure(w, address) {
  const r = await w.ok('POST', `/api/v1/nodes/${address}/config`, { token: w.tokens.operator, body: { op: 'default_ttl_get' } });
  assert.equal(r.op, 'default_ttl_get');
  return r;
}


function overlaps(a, b) {
  return a.low <= b.high && b.low <= a.high;
}

describe('Mesh CDB hand-over (small.json)', () => {
  let w;

  before(async () => {
    w = await startWorld({ scenario: 'small.json' });
  });

  after(async () => {
    if (w) await w.close();
  });

  test('export, wipe, import: the same network, controllable at once', async () => {
    const admin = () => w.tokens.admin;
    const names = ['light-noob', 'light-static16', 'sensor-static32'];
    const { done } = await w.provision(names);
    const addr = Object.fromEntries(done.map((s) => [s.name, s.address]));
    await waitFor(async () => (await nodesOf(w)).every((n) => n.state === 'configured'),
      { what: 'every node configured' });

    // A subscription and a publication, set through the API, so that both travel too.
    const light = addr['light-noob'];
    for (const body of [
      { op: 'subscription_add', element: 0, model: 0x1000, address: 0xc001 },
      { op: 'publication_set', element: 0, model: 0x1000, address: 0xc002, app_index: 0, ttl: 5,
        period: 0x41, retransmit: { count: 1, interval_ms: 100 } },
    ]) {
      const r = await w.ok('POST', `/api/v1/nodes/${light}/config`, { token: w.tokens.operator, body });
      assert.equal(r.status, 0, `${body.op}: ${JSON.stringify(r)}`);
      assert.equal(r.address, body.address, `${body.op}: the body's address, not the node's`);
    }
    // A removed node: its addresses go onto the exclusion list.
    // The removal then refreshes the subnet's keys (remove_key_refresh = immediate): the export
    // below must carry the keys the nodes hold once that is over.
    const rm = await w.ok('DELETE', `/api/v1/nodes/${addr['sensor-static32']}`, { token: w.tokens.operator }, [202]);
    await w.waitOp(rm.id);
    const jobDone = (id) => waitFor(async () => {
      const j = await w.ok('GET', `/api/v1/jobs/${id}`, { token: w.tokens.viewer });
      return j.state === 'done' && j;
    }, { timeout: 120000, what: `job ${id} done` });
    for (const kr of (await jobDone(rm.job)).targets[0].result.key_refresh) await jobDone(kr.job);

    // Full export (admin) and partial export (viewer), both valid against the schema.
    const ttlRead = (await configure(w, light)).value;
    const full = await w.ok('GET', '/api/v1/cdb', { token: admin() });
    assertSchema(full, 'the full export');
    assert.equal(full.version, '1.0.1');
    assert.equal(full.partial, false);
    assert.equal(full.nodes.length, 2);
    for (const n of full.nodes) assert.match(n.deviceKey, /^[0-9A-F]{32}$/);
    const lightNode = full.nodes.find((n) => hex4(n.unicastAddress) === light);
    const m = lightNode.elements[0].models.find((x) => x.modelId === '1000');
    assert.deepEqual(m.bind, [0], 'the automatic configuration bound the OnOff Server');
    assert.deepEqual(m.subscribe, ['C001']);
    // period 0x41: 1 step of 1 s; retransmit: 1 retransmission every 100 ms.
    assert.deepEqual(m.publish, { address: 'C002', index: 0, ttl: 5, period: { numberOfSteps: 1, resolution: 1000 },
      credentials: 0, retransmit: { count: 1, interval: 100 } });
    assert.equal(lightNode.configComplete, true);
    assert.equal(lightNode.security, 'insecure', 'light-noob was provisioned without OOB');
    assert.equal(full.nodes.find((n) => hex4(n.unicastAddress) === addr['light-static16']).security, 'secure');
    assert.deepEqual(lightNode.elements.map((e) => e.location), ['0100', '0101']);
    assert.deepEqual(full.networkExclusions.map((e) => e.addresses).flat(), [addr['sensor-static32'].toString(16).padStart(4, '0').toUpperCase()]);
    const partialRes = await w.api('GET', '/api/v1/cdb?partial=true', { token: w.tokens.viewer });
    assert.equal(partialRes.status, 200);
    assertSchema(partialRes.body, 'the partial export');
    assert.equal(partialRes.body.partial, true);
    assert.doesNotMatch(partialRes.text, /[0-9a-fA-F]{32}/, 'no 32-hex-digit key in the partial export');
    const denied = await w.api('GET', '/api/v1/cdb', { token: w.tokens.viewer });
    assert.equal(denied.status, 403);
    // A state read from a node is exported once known, and only then.
    assert.equal(lightNode.defaultTTL, ttlRead);
    assert.equal(full.nodes.find((n) => hex4(n.unicastAddress) === addr['light-static16']).defaultTTL, undefined);
    // The export is audited and logged, never with a key in the log.
    const log = w.gw.log();
    assert.match(log, /network exported with keys \(Mesh CDB\) by/);
    for (const k of [...full.netKeys, ...full.appKeys].map((x) => x.key).concat(full.nodes.map((n) => n.deviceKey))) {
      assert.ok(!log.toLowerCase().includes(k.toLowerCase()), 'a key in the log');
    }

    const before = await inventory(w);

    await wipe(w, 'b');
    const fresh = await w.ok('GET', '/api/v1/network', { token: w.tokens.viewer });
    assert.notEqual(fresh.mesh_uuid, uuidHex(full.meshUUID));
    const self = encodeURIComponent(full.provisioners[0].UUID);

    // A dry run says what would change and changes nothing.
    const dry = await w.ok('POST', `/api/v1/cdb?dry_run=true&provisioner=${self}`, { token: admin(), body: full });
    assert.equal(dry.dry_run, true);
    assert.equal(dry.mode, 'take-over');
    assert.equal(dry.nodes.added, 2);
    assert.equal((await nodesOf(w)).length, 0);
    assert.equal((await w.ok('GET', '/api/v1/network', { token: w.tokens.viewer })).mesh_uuid, fresh.mesh_uuid);

    // Refusals: each names the defect, and nothing changes.
    const cases = [
      { what: 'broken JSON', raw: '{"version": ', status: 400, detail: /malformed JSON/ },
      { what: 'an array', raw: '[]', status: 400, detail: /the document must be a JSON object/ },
      { what: 'text/plain', raw: JSON.stringify(full), headers: { 'Content-Type': 'text/plain' }, status: 415, detail: /application\/json/ },
      { what: 'short address', edit: (d) => { d.nodes[1].unicastAddress = '12'; }, status: 400, detail: /^\/nodes\/1\/unicastAddress: must be 4 hex digits/ },
      { what: 'version', edit: (d) => { d.version = '2.0.0'; }, status: 400, detail: /^\/version: must be "1\.0\.0" or "1\.0\.1"/ },
      { what: 'no DevKey', edit: (d) => { delete d.nodes[0].deviceKey; }, status: 400, detail: /^\/nodes\/0\/deviceKey: required member missing/ },
      { what: 'bad key', edit: (d) => { d.appKeys[0].key = 'xyz'; }, status: 400, detail: /^\/appKeys\/0\/key: must be 32 hex digits/ },
      // (Both lights have two elements: the same address collides however meshgw placed them.)
      { what: 'overlapping elements', edit: (d) => { d.nodes[1].unicastAddress = d.nodes[0].unicastAddress; }, status: 422, detail: /^\/nodes\/[01]\/unicastAddress: elements .* overlap \/nodes\/[01] / },
      { what: 'AppKey on a missing NetKey', edit: (d) => { d.appKeys[0].boundNetKey = 7; }, status: 422, detail: /^\/appKeys\/0\/boundNetKey: no NetKey 7/ },
      { what: 'duplicate UUID', edit: (d) => { d.nodes[1].UUID = d.nodes[0].UUID; }, status: 422, detail: /^\/nodes\/1\/UUID: the same device is \/nodes\/0/ },
      { what: 'node key index missing', edit: (d) => { d.nodes[0].appKeys.push({ index: 9, updated: false }); }, status: 422, detail: /^\/nodes\/0\/appKeys\/\d+: no AppKey 9/ },
      { what: 'overlapping provisioners', edit: (d) => { d.provisioners.push({ ...d.provisioners[0], UUID: '00000000-0000-4000-8000-000000000001' }); }, status: 422, detail: /^\/provisioners\/1\/allocatedUnicastRange\/0: .* overlaps \/provisioners\/0/ },
      { what: 'partial', edit: (d) => { d.partial = true; }, status: 400, detail: /^\/partial: a partial document carries no keys/ },
      { what: 'unknown provisioner', query: '?provisioner=00000000000040008000000000000002', status: 400, detail: /provisioner: the document has no provisioner/ },
      { what: 'over 4 MiB', raw: JSON.stringify({ ...full, padding: 'x'.repeat(4 * 1024 * 1024) }), status: 413, detail: /over the limit of 4194304 bytes/ },
      { what: 'a viewer', token: w.tokens.viewer, status: 403, detail: /admin/ },
    ];
    for (const c of cases) {
      const doc = structuredClone(full);
      if (c.edit) c.edit(doc);
      const r = await w.api('POST', `/api/v1/cdb${c.query ?? `?provisioner=${self}`}`, {
        token: c.token ?? admin(), headers: c.headers ?? {}, ...(c.raw !== undefined ? { raw: c.raw } : { body: doc }),
      });
      assert.equal(r.status, c.status, `${c.what}: ${r.status} ${r.text.slice(0, 300)}`);
      assert.equal(r.contentType, 'application/problem+json', c.what);
      assert.match(r.body.detail, c.detail, c.what);
    }
    assert.equal((await nodesOf(w)).length, 0, 'the refusals changed nothing');
    assert.equal((await w.ok('GET', '/api/v1/network', { token: w.tokens.viewer })).mesh_uuid, fresh.mesh_uuid);

    // The import: meshgw continues as the exported provisioner.
    const res = await w.ok('POST', `/api/v1/cdb?provisioner=${self}`, { token: admin(), body: full });
    assert.equal(res.mode, 'take-over');
    assert.equal(res.nodes.added, 2);
    assert.equal(res.restart_required, false);
    assert.equal(res.adopted, true);
    const net = await w.ok('GET', '/api/v1/network', { token: w.tokens.viewer });
    assert.equal(net.mesh_uuid, uuidHex(full.meshUUID));
    assert.equal(net.address, res.address);
    assert.ok(!full.nodes.some((n) => hex4(n.unicastAddress) <= res.address && res.address < hex4(n.unicastAddress) + n.elements.length),
      'the gateway took no node address');
    assert.notEqual(res.address, full.provisioners[0].unicastAddress && hex4(full.provisioners[0].unicastAddress),
      'nor the address of the provisioner it replaces');

    // The re-export right after the import: the same nodes, keys and exclusions.
    const again = await w.ok('GET', '/api/v1/cdb', { token: admin() });
    assertSchema(again, 'the export after the import');
    assert.deepEqual(again.nodes, full.nodes, 'nodes, elements, models, bindings, subscriptions, publications');
    assert.deepEqual(again.netKeys.map(({ timestamp, ...k }) => k), full.netKeys.map(({ timestamp, ...k }) => k));
    assert.deepEqual(again.appKeys, full.appKeys);
    const excl = (d) => d.networkExclusions.flatMap((e) => e.addresses.map((a) => `${e.ivIndex}:${a}`)).sort();
    const replaced = `0:${full.provisioners[0].unicastAddress}`;
    assert.deepEqual(excl(again), [...excl(full), replaced].sort(),
      'the exclusions, plus the replaced provisioner\'s own address');

    // Controllable (OnOff, with the imported AppKey) and configurable (Config, DevKey) at once.
    await switchLight(w, addr['light-noob']);
    await switchLight(w, addr['light-static16'] + 1);
    await configure(w, addr['light-noob']);
    await configure(w, addr['light-static16']);

    // The same inventory, field by field.
    const afterInv = await inventory(w);
    assert.deepEqual(afterInv.nodes, before.nodes);
    assert.deepEqual(afterInv.details, before.details);
    assert.deepEqual(afterInv.keys, before.keys);
    const ttl16 = again.nodes.find((n) => hex4(n.unicastAddress) === addr['light-static16']);
    assert.equal(ttl16.defaultTTL, undefined);
    const learnt = (await w.ok('GET', '/api/v1/cdb', { token: admin() })).nodes
      .find((n) => hex4(n.unicastAddress) === addr['light-static16']);
    assert.equal(typeof learnt.defaultTTL, 'number', 'the Default TTL read after the import is exported');

    // A new device gets an address no node, exclusion or old provisioner has.
    const { done: more } = await w.provision(['sensor-static32']);
    const a = more[0].address;
    assert.ok(a >= res.unicast_range.low && a <= res.unicast_range.high);
    assert.ok(!excl(again).some((x) => hex4(x.split(':')[1]) === a));
    assert.ok(!full.nodes.some((n) => hex4(n.unicastAddress) <= a && a < hex4(n.unicastAddress) + n.elements.length));
    await waitFor(async () => (await nodesOf(w)).length === 3, { what: 'three nodes' });

    // Merge: the same network from another provisioner (same meshUUID and keys) with a node
    // of its own: that node is added, the known ones are left alone, and meshgw's range
    // moves out of the newcomer's.
    const other = structuredClone(again);
    const phone = { low: 0x7000, high: 0x70ff };
    // (The phone's tool made room for itself: meshgw's entry no longer reaches 0x7000.)
    other.provisioners[0].allocatedUnicastRange = [{ lowAddress: '0001', highAddress: '6FFF' }];
    other.provisioners.push({ provisionerName: 'phone', UUID: '6A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9',
      allocatedUnicastRange: [{ lowAddress: '7000', highAddress: '70FF' }], allocatedGroupRange: [], allocatedSceneRange: [] });
    other.nodes.push({ ...structuredClone(other.nodes[0]), UUID: '0F1E2D3C-4B5A-4697-8877-665544332211',
      name: 'phone lamp', unicastAddress: '7001', deviceKey: '00112233445566778899AABBCCDDEEFF' });
    const merged = await w.ok('POST', '/api/v1/cdb', { token: admin(), body: other });
    assert.equal(merged.mode, 'merge');
    assert.deepEqual(merged.nodes, { added: 1, unchanged: 2, excluded: 0 });
    assert.equal(merged.provisioners_added, 1);
    assert.ok(!overlaps(merged.unicast_range, phone), `${JSON.stringify(merged.unicast_range)} clear of the phone's range`);
    assert.equal((await nodesOf(w)).length, 4);
    // The same document again: nothing new; a different DevKey for the phone's node: 409.
    const twice = await w.ok('POST', '/api/v1/cdb', { token: admin(), body: other });
    assert.deepEqual(twice.nodes, { added: 0, unchanged: 3, excluded: 0 });
    other.nodes.at(-1).deviceKey = 'FFEEDDCCBBAA99887766554433221100';
    const clash = await w.api('POST', '/api/v1/cdb', { token: admin(), body: other });
    assert.equal(clash.status, 409);
    assert.match(clash.body.detail, /^\/nodes\/2: this UUID is node 0x7001 in the inventory/);
  });
});

const fixtures = [
  { file: 'nrf-mesh-1.0.1.json', light: 'light-noob', lightElement: 1, ttl: 5, fresh: 'sensor-static32' },
  { file: 'bluez-export-db.json', light: 'light-static16', lightElement: 0, ttl: 7, fresh: 'light-noob' },
  { file: 'cdb-1.0.0.json', light: 'panel-input', lightElement: 1, ttl: 5, fresh: 'light-static16' },
];

for (const fx of fixtures) {
  describe(`import of ${fx.file}`, () => {
    let w;
    const doc = fixture(fx.file);

    before(async () => {
      // State files go next to the scenario copy, in the world's private directory.
      w = await startWorld({ scenario: 'small.json', editScenario: (s) => provisionedBy(doc, path.dirname(s.ports.native.path))(s) });
    });

    after(async () => {
      if (w) await w.close();
    });

    test('imports, controls the nodes, provisions into its own range', async () => {
      const admin = w.tokens.admin;
      const dry = await w.ok('POST', '/api/v1/cdb?dry_run=true', { token: admin, body: doc });
      assert.equal(dry.mode, 'take-over');
      const res = await w.ok('POST', '/api/v1/cdb', { token: admin, body: doc });
      assert.deepEqual({ ...res, dry_run: true }, dry, 'the dry run said what the import did');
      assert.equal(res.restart_required, false);
      const active = doc.nodes.filter((n) => !n.excluded);
      assert.equal(res.nodes.added, active.length);
      // The gateway's ranges avoid every provisioner of the document.
      for (const p of doc.provisioners) {
        for (const r of p.allocatedUnicastRange) {
          assert.ok(!overlaps(res.unicast_range, { low: hex4(r.lowAddress), high: hex4(r.highAddress) }),
            `unicast range ${JSON.stringify(res.unicast_range)} overlaps ${p.provisionerName}`);
        }
        for (const r of p.allocatedGroupRange) {
          assert.ok(!overlaps(res.group_range, { low: hex4(r.lowAddress), high: hex4(r.highAddress) }));
        }
      }
      const nodes = await nodesOf(w);
      assert.deepEqual(nodes.map((n) => n.uuid).sort(), active.map((n) => uuidHex(n.UUID)).sort());

      // The fixture's light answers OnOff and Config.
      const node = active.find((n) => uuidHex(n.UUID) === w.device(fx.light).uuid);
      const base = hex4(node.unicastAddress);
      await switchLight(w, base + fx.lightElement);
      const ttl = await configure(w, base);
      assert.equal(ttl.value, fx.ttl);

      // A new device goes into meshgw's own range.
      const { done } = await w.provision([fx.fresh]);
      const a = done[0].address;
      assert.ok(a >= res.unicast_range.low && a <= res.unicast_range.high, `0x${a.toString(16)} in meshgw's range`);
      for (const p of doc.provisioners) {
        for (const r of p.allocatedUnicastRange) assert.ok(a < hex4(r.lowAddress) || a > hex4(r.highAddress));
      }

      // The export keeps what the fixture said (groups, scenes, exclusions, provisioners).
      const out = await w.ok('GET', '/api/v1/cdb', { token: admin });
      assertSchema(out, `the export after importing ${fx.file}`);
      assert.equal(out.meshUUID, (doc.meshUUID.length === 32 ? doc.meshUUID.replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5') : doc.meshUUID).toUpperCase());
      const norm = (g) => ({ name: g.name, address: g.address.toUpperCase(), parentAddress: (g.parentAddress ?? '0000').toUpperCase() });
      assert.deepEqual(out.groups.map(norm), (doc.groups ?? []).map(norm));
      assert.deepEqual(out.scenes.map((s) => s.number), doc.scenes.map((s) => s.number.toUpperCase()));
      const outExcl = out.networkExclusions.flatMap((e) => e.addresses.map(hex4));
      for (const e of doc.networkExclusions ?? []) for (const x of e.addresses) assert.ok(outExcl.includes(hex4(x)));
      for (const n of doc.nodes.filter((x) => x.excluded)) assert.ok(outExcl.includes(hex4(n.unicastAddress)), 'an excluded node\'s address');
      for (const p of doc.provisioners) {
        assert.ok(out.provisioners.some((q) => uuidHex(q.UUID) === uuidHex(p.UUID)), `provisioner ${p.provisionerName} kept`);
      }
      for (const n of active) {
        const o = out.nodes.find((x) => uuidHex(x.UUID) === uuidHex(n.UUID));
        assert.equal(o.deviceKey, n.deviceKey.toUpperCase());
        assert.equal(o.elements.length, n.elements.length);
        if (n.defaultTTL !== undefined) assert.equal(o.defaultTTL, n.defaultTTL);
        // Models with their bindings, subscriptions and publications, as the fixture said.
        const models = (x) => x.elements.map((e) => e.models.map((md) => ({
          modelId: md.modelId.toUpperCase(), bind: md.bind, subscribe: md.subscribe.map((a) => a.toUpperCase()),
          publish: md.publish && { ...md.publish, address: md.publish.address.toUpperCase(),
            period: typeof md.publish.period === 'number' ? md.publish.period
              : md.publish.period.numberOfSteps * md.publish.period.resolution },
        })));
        assert.deepEqual(models(o), models(n), `models of ${n.name ?? n.UUID}`);
      }
    });
  });
}

// The page: "Export for hand-over" downloads the document; "Import a network" previews
// (dry run) and then imports a file, here the nRF Mesh fixture, whose light then answers.
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
describe('hand-over on the page (Chromium)', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  let w;
  let browser;
  const file = path.join(root, 'tests/cdb/fixtures/nrf-mesh-1.0.1.json');
  const doc = fixture('nrf-mesh-1.0.1.json');

  before(async () => {
    w = await startWorld({ scenario: 'small.json', editScenario: (s) => provisionedBy(doc, path.dirname(s.ports.native.path))(s) });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await w?.close();
  });

  test('export for hand-over, then import a network with a preview', async () => {
    const page = await watchedPage(browser, 1280, 900);
    page.setDefaultTimeout(30000);
    await page.goto(new URL('/', w.base).href);
    await page.getByLabel('API token').fill(w.tokens.admin);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.locator('#network-summary dt').first().waitFor();

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export for hand-over' }).click(),
    ]);
    const saved = path.join(w.dir, download.suggestedFilename());
    await download.saveAs(saved);
    const exported = JSON.parse(readFileSync(saved, 'utf8'));
    assertSchema(exported, 'the file the page saved');
    assert.match(exported.netKeys[0].key, /^[0-9A-F]{32}$/);
    await page.locator('#cdb-export-status', { hasText: 'Saved' }).waitFor();

    await page.setInputFiles('#cdb-file', file);
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.locator('#cdb-import-result', { hasText: 'Take over this network' }).waitFor();
    assert.match(await page.locator('#cdb-import-result').textContent(), /3 added/);
    assert.equal((await w.ok('GET', '/api/v1/nodes', { token: w.tokens.viewer })).items.length, 0, 'a preview changes nothing');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await waitFor(async () => (await page.locator('#network-summary').textContent()).toLowerCase()
      .includes(doc.meshUUID.toLowerCase()), { what: 'the network summary showing the imported mesh UUID' });
    const light = doc.nodes.find((n) => uuidHex(n.UUID) === w.device('light-noob').uuid);
    await switchLight(w, hex4(light.unicastAddress));
    await page.screenshot({ path: path.join(w.dir, 'cdb-import.png'), fullPage: true });
    assert.deepEqual(problems, [], 'no console error or page exception');
    await page.close();
  });
});
