// Issue 12's page test: sim/scenarios/office.json (60 devices on 3 floors, chained Remote
// Provisioning Servers) commissioned from one CSV manifest through the page in Debian's
// Chromium, nothing mocked.  The technician's path: a manifest with mistakes picked with the
// file picker shows its errors by row and is not stored; the corrected file is; "Commission"
// starts the job; the progress bar and every device's row follow it to the end; the CSV report
// downloads with one record per device.  Then the zones through the REST API and meshsim:
// pressing a switch of a zone switches every light of its zone and no other, zone by zone.
//
// COMMISSION_TIME_SCALE (default 2) runs meshsim's clock faster than real time, as in
// commission.test.mjs; every wait is on the gateway's or the page's state, bounded.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startWorld, waitFor } from './harness.mjs';
import { profileOf, zoneOf, officeScenario, OFFICE_GW_CONF, manifestCsv, checkReportCsv, csvCell } from './lib/office.mjs';
import { connectedPage, problems } from '../web/browser.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIME_SCALE = Number(process.env.COMMISSION_TIME_SCALE ?? 2);
const JOB_TIMEOUT_MS = 600000;
// The browser logs the bad manifest's 422 as a console error: expected.
const unexpected = () => problems.filter((p) => !/Failed to load resource: .* status of 422\b/.test(p));

describe('office.json commissioned from a manifest through the page', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  let w;
  let browser;
  let page;
  let devices;
  let report; // the JSON report of the job
  const addrOf = {}; // device name -> primary address

  before(async () => {
    w = await startWorld({ scenario: 'office.json', editScenario: officeScenario(TIME_SCALE), gwConf: OFFICE_GW_CONF });
    devices = w.scenario.devices;
    ({ browser, page } = await connectedPage(w));
  });
  after(async () => {
    await browser?.close();
    await w?.close();
  });

  test('upload with the file picker: errors by row, then the corrected file; commission; report', async () => {
    const t0 = Date.now();
    await page.getByRole('link', { name: 'Manifests' }).click();
    await page.locator('#manifests-empty:not([hidden])').waitFor();
    const good = manifestCsv(devices);

    // Two mistakes a technician makes: a UUID typed twice (rows 7 and 12) and a static OOB
    // value with a letter that is not hex (row 20).  Rows count from 1 after the header.
    const lines = good.split('\r\n');
    lines[12] = lines[7];
    const d20 = devices[19];
    lines[20] = [d20.uuid, d20.name, zoneOf(d20.name), profileOf(d20.name), 'static', 'zz'.repeat(16)].map(csvCell).join(',');
    await page.getByLabel('Choose a manifest file').setInputFiles({ name: 'office-draft.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\r\n')) });
    await page.locator('#manifest-error-rows tr[data-row="20"]').waitFor();
    const errRows = await page.locator('#manifest-error-rows tr').evaluateAll((trs) => trs.map((tr) => [Number(tr.dataset.row), tr.textContent]));
    assert.deepEqual(errRows.map(([r]) => r), [12, 20], 'the duplicate and the bad hex, by row');
    assert.match(errRows[0][1], /uuid/i);
    assert.match(errRows[1][1], /auth_value/);
    assert.match(await page.locator('#manifest-upload-error').textContent(), /office-draft\.csv was not stored/);
    assert.equal((await w.ok('GET', '/api/v1/manifests', { token: w.tokens.viewer })).items.length, 0, 'nothing stored');

    // The corrected file: stored, listed, its rows shown.
    await page.getByLabel('Choose a manifest file').setInputFiles({ name: 'office.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await page.locator('#manifest-upload-status', { hasText: `office.csv: ${devices.length} devices stored` }).waitFor();
    assert.ok(await page.locator('#manifest-errors').isHidden(), 'no errors left on screen');
    await waitFor(async () => (await page.locator('#manifest-device-rows tr').count()) === devices.length,
      { what: 'every manifest row on the page' });
    const [m] = (await w.ok('GET', '/api/v1/manifests', { token: w.tokens.viewer })).items;
    assert.deepEqual([m.format, m.rows], ['csv', devices.length]);

    // Start the job from the page and follow it there.
    await page.getByRole('button', { name: `Commission manifest ${m.id}` }).click();
    await page.locator('#run:not([hidden])').waitFor();
    const job = (await w.ok('GET', '/api/v1/jobs', { token: w.tokens.viewer })).items.find((j) => j.kind === 'commission');
    assert.ok(job, 'the page started a commission job');
    assert.equal(Number(job.params.manifest), m.id);
    await waitFor(async () => (await page.locator('#run-rows tr').count()) === devices.length, { what: 'a row per device' });
    // The bar moves while the job runs: seen part-way, then full.
    const bar = page.locator('#run-bar');
    await waitFor(async () => {
      const [v, max] = [Number(await bar.getAttribute('value')), Number(await bar.getAttribute('max'))];
      return v > 0 && v < max;
    }, { timeout: JOB_TIMEOUT_MS, interval: 200, what: 'the progress bar part-way' });
    await waitFor(async () => (await w.ok('GET', `/api/v1/jobs/${job.id}`, { token: w.tokens.viewer })).state === 'done',
      { timeout: JOB_TIMEOUT_MS, interval: 2000, what: 'the commission job done' });
    const rep = await w.ok('GET', `/api/v1/jobs/${job.id}/report`, { token: w.tokens.viewer });
    assert.deepEqual(rep.items.filter((i) => i.result !== 'provisioned').map((i) => `${i.name}: ${i.result} ${i.error}`), []);
    report = rep;
    const pageStates = () => page.locator('#run-rows tr').evaluateAll((trs) => trs.reduce((o, tr) => {
      o[tr.dataset.state] = (o[tr.dataset.state] || 0) + 1;
      return o;
    }, {}));
    let states;
    await waitFor(async () => (states = await pageStates()).done === devices.length,
      { what: 'every device shown done on the page' }).catch((e) => {
      throw new Error(`${e.message}; the page's rows: ${JSON.stringify(states)}`);
    });
    assert.equal(await bar.getAttribute('value'), String(devices.length));
    assert.equal(await bar.getAttribute('max'), String(devices.length));
    assert.match(await page.locator('#run-label').textContent(),
      new RegExp(`^${devices.length} of ${devices.length} devices finished: ${devices.length} commissioned, 0 failed`));
    // Each row: the device's name, zone and address as the report has them.
    for (const it of report.items) addrOf[it.name] = it.address;
    const shown = await page.locator('#run-rows tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    for (const it of report.items) {
      const row = shown.find((r) => r[0] === it.name);
      assert.ok(row, `${it.name} has a row`);
      assert.equal(row[1], it.zone);
      assert.equal(row[6], `0x${it.address.toString(16).padStart(4, '0').toUpperCase()}`);
    }

    // The CSV report downloads from the page: its bytes are the gateway's report.
    const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#run-report-csv').click()]);
    assert.equal(dl.suggestedFilename(), `meshgw-commission-job-${job.id}.csv`);
    const bytes = readFileSync(await dl.path());
    const text = bytes.toString('utf8');
    assert.ok(!text.startsWith('\ufeff'), 'no byte order mark');
    const rows = checkReportCsv(text, report);
    assert.equal(rows.length, devices.length + 1, 'a header and a record per device');
    assert.deepEqual(rows.slice(1).map((r) => r[1]).sort(), devices.map((d) => d.name).sort());
    const direct = await w.api('GET', `/api/v1/jobs/${job.id}/report?format=csv`, { token: w.tokens.viewer, validate: false });
    assert.equal(direct.status, 200);
    assert.ok(bytes.equals(Buffer.from(direct.text, 'utf8')), 'the download is the report, byte for byte');
    await page.screenshot({ path: path.join(w.dir, 'commission-done.png'), fullPage: true });
    assert.deepEqual(unexpected(), [], 'no console error or page exception');
    console.log(`# web13: ${devices.length} devices commissioned from the page in ${((Date.now() - t0) / 1000).toFixed(1)} s wall (meshsim time x${TIME_SCALE})`);
  });

  test('every zone: a switch switches its zone\'s lights and no other; the node list shows zones', async () => {
    assert.ok(report, 'the job of the first test');
    const lights = devices.filter((d) => profileOf(d.name) === 'light');
    const zones = [...new Set(devices.map((d) => zoneOf(d.name)))].sort();
    const { items: zl } = await w.ok('GET', '/api/v1/zones', { token: w.tokens.viewer });
    assert.deepEqual(zl.map((z) => z.name).sort(), zones);
    for (const z of zl) {
      assert.deepEqual(z.pending, [], `${z.name}: no move pending`);
      const want = devices.filter((d) => zoneOf(d.name) === z.name).map((d) => addrOf[d.name]).sort((a, b) => a - b);
      assert.deepEqual(z.nodes, want, `${z.name}: its nodes`);
    }
    // The node list carries each node's zone (the page no longer joins it from /zones).
    const { items: nodes } = await w.ok('GET', '/api/v1/nodes?limit=1000', { token: w.tokens.viewer });
    const byGroup = Object.fromEntries(zl.map((z) => [z.name, z]));
    for (const n of nodes) {
      const z = byGroup[zoneOf(n.name)];
      assert.deepEqual(n.zone, { id: z.id, name: z.name, group: z.group, pending: false }, `${n.name}'s zone`);
    }
    await page.getByRole('link', { name: 'Nodes' }).click();
    await page.getByLabel('Search (name, UUID, zone, address)').fill('floor 2, "east"');
    const east2 = devices.filter((d) => zoneOf(d.name) === 'floor 2, "east"').map((d) => d.name).sort();
    await waitFor(async () => JSON.stringify((await page.locator('#nodes-rows tr td:nth-child(2)').allTextContents()).sort())
      === JSON.stringify(east2), { what: 'the node list searched by zone' });

    // meshsim's view of every light, element by element: {name: [bool]}.
    const states = async () => Object.fromEntries(await Promise.all(lights.map(async (d) =>
      [d.name, (await w.dev(d.name, 'onoff')).split(' ').map((x) => x.endsWith(':on'))])));
    const lit = (s) => Object.keys(s).filter((n) => s[n].every(Boolean)).sort();
    const partly = (s) => Object.keys(s).filter((n) => s[n].some(Boolean) && !s[n].every(Boolean));
    // Zones with a switch and lights; the lights of the others must stay dark throughout.
    const pressable = zones.filter((z) => devices.some((d) => profileOf(d.name) === 'switch' && zoneOf(d.name) === z)
      && lights.some((d) => zoneOf(d.name) === z));
    assert.ok(pressable.length >= 3, `zones with a switch and lights: ${pressable.join('; ')}`);
    for (const zone of pressable) {
      const sw = devices.find((d) => profileOf(d.name) === 'switch' && zoneOf(d.name) === zone);
      const mine = lights.filter((d) => zoneOf(d.name) === zone).map((d) => d.name).sort();
      // A press is one unacknowledged message, and meshsim's air loses up to 5 % of receptions
      // at the edge of range (office.json's air.edge_loss); the stack does not repeat
      // publications (Publish Retransmit is stored, not acted on), so a light may miss one
      // press as it would in a building, and the technician presses again: up to 3 presses,
      // each given 15 s.  A light outside the zone, or one the zone never reaches, still fails.
      const press = async (v) => {
        for (let k = 1; ; k++) {
          const pressed = await w.dev(sw.name, 'press', v ? 'on' : 'off');
          assert.match(pressed, new RegExp(`^ok ${v ? 'on' : 'off'} to 0x${byGroup[zone].group.toString(16)} tid \\d+$`), pressed);
          try {
            return await waitFor(async () => {
              const s = await states();
              return (v ? lit(s).length >= mine.length && mine.every((n) => s[n].every(Boolean))
                : lit(s).length === 0 && partly(s).length === 0) && s;
            }, { timeout: 15000, interval: 250, what: `the lights of ${zone} ${v ? 'on' : 'off'} (press ${k})` });
          } catch (e) {
            if (k === 3) throw e;
            console.log(`# web13: ${zone}: press ${k} ${v ? 'on' : 'off'} missed a light; pressing again`);
          }
        }
      };
      const s = await press(true);
      assert.deepEqual(lit(s), mine, `${sw.name} lit exactly ${zone}'s lights`);
      assert.deepEqual(partly(s), []);
      // Through the REST API too: the gateway asks one of them.
      const one = addrOf[mine[0]];
      assert.equal((await w.ok('GET', `/api/v1/onoff/${one}`, { token: w.tokens.viewer })).present, true);
      await press(false);
    }
    assert.deepEqual(unexpected(), [], 'no console error or page exception');
  });
});
