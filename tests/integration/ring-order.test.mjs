// Issue 12, ring by ring: when more devices are heard than sessions are free, a commission
// job starts the nearest ring first (heard by the gateway, then through the servers nearest
// it), whatever the manifest's order.  office.json, one session: the manifest lists two
// devices that only the server f0-sensor-01-01 hears first, then that server, then the
// three other devices the gateway hears (all heard by a scan before the job).  The server
// is provisioned first (the first of its ring in the manifest) and starts scanning; the two
// far devices are heard through it while three near ones still wait: those go first.  In the manifest's order the far two would
// take the session as soon as they were heard.
//
// The order is read from the addresses: the gateway hands them out in provisioning order.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, waitFor, scanUntil, airModel, isServer } from './harness.mjs';
import { officeScenario, OFFICE_GW_CONF, manifestCsv } from './lib/office.mjs';

const SERVER = 'f0-sensor-01-01';
const worlds = [];
after(async () => { for (const w of worlds) await w.close(); });

describe('commission: ring by ring', () => {
  test('with one session, the devices the gateway hears go before those only a server hears', async () => {
    const w = await startWorld({
      scenario: 'office.json',
      editScenario: officeScenario(2),
      gwConf: { ...OFFICE_GW_CONF, max_sessions: 1 },
    });
    worlds.push(w);
    const air = airModel(w.scenario);
    const near = w.scenario.devices.filter((d) => air.inRange('port', d.name) && !isServer(d));
    const far = w.scenario.devices.filter((d) => !isServer(d) && !air.inRange('port', d.name) &&
      air.inRange(SERVER, d.name));
    assert.ok(air.inRange('port', SERVER) && isServer(w.device(SERVER)), 'the scenario changed: pick another server');
    assert.ok(near.length >= 2 && far.length >= 2, `near ${near.length}, far ${far.length}`);
    const listed = [...far, w.device(SERVER), ...near];
    // Every near device heard before the job (the job starts from the stored scan results):
    // the server, first of its ring in the manifest, is then provisioned first.
    const nearUuids = [SERVER, ...near.map((d) => d.name)].map((n) => w.device(n).uuid);
    await scanUntil(w, { duration_s: 30 }, (items) => nearUuids.every((u) => items.some((i) => i.uuid === u)),
      { what: 'the near ring heard' });
    const op = w.tokens.operator;
    const m = await w.ok('POST', '/api/v1/manifests',
      { token: op, raw: manifestCsv(listed), headers: { 'Content-Type': 'text/csv' } }, [201]);
    const { job } = await w.ok('POST', `/api/v1/manifests/${m.id}/commission`,
      { token: op, body: { hear_timeout_s: 300 } }, [202]);
    await waitFor(async () => (await w.ok('GET', `/api/v1/jobs/${job}`, { token: w.tokens.viewer })).state === 'done',
      { timeout: 600000, interval: 2000, what: `job ${job} done` });
    const rep = await w.ok('GET', `/api/v1/jobs/${job}/report`, { token: w.tokens.viewer });
    const notDone = rep.items.filter((i) => i.result !== 'provisioned');
    assert.deepEqual(notDone.map((i) => `${i.name}: ${i.result} ${i.error}`), []);
    const order = [...rep.items].sort((a, b) => a.address - b.address).map((i) => i.name);
    const srv = rep.items.find((i) => i.name === SERVER);
    assert.equal(order[0], SERVER, `provisioning order ${order.join(', ')}`);
    assert.deepEqual(new Set(order.slice(1, 1 + near.length)), new Set(near.map((d) => d.name)),
      `near ring first: provisioning order ${order.join(', ')}`);
    for (const d of far) {
      assert.equal(rep.items.find((i) => i.name === d.name).path, srv.address, `${d.name} through ${SERVER}`);
    }
  });
});
