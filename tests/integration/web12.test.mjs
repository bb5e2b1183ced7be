// The commissioning page's manifest, list and zone views in Debian's Chromium against meshgw
// and meshsim (small.json), nothing mocked: a manifest uploaded by the file picker and by
// drag and drop (its bad row's error shown by row, a good one listed and stored), the scan
// table at 1,280 px without sideways scrolling even with a device's authentication settings
// open, search/filter/sort changing the rows of the scan and node lists, and the zones view
// with its picture of who hears whom.  Endpoints that other branches add (the bulk
// commission job, zones) are detected through openapi.yaml; where one is missing, the test
// checks what the page shows for the gateway's answer and reports the rest as skipped.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startWorld, root, waitFor } from './harness.mjs';
import { connectedPage, problems } from '../web/browser.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const spec = readFileSync(path.join(root, 'openapi.yaml'), 'utf8');
const hasRoute = (p) => spec.includes(`\n  ${p}:`);
// The browser logs every 4xx answer as a console error: the bad manifest's 422 is expected
// (browser.mjs already lets pass the 404s of routes this build's openapi.yaml lacks).
const unexpected = () => problems.filter((p) => !/Failed to load resource: .* status of 422\b/.test(p));
const dashed = (u) => `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`;

describe('manifests, lists and zones on the page (small.json)', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  let w;
  let browser;
  let page;
  let devices;
  let manifestId;

  before(async () => {
    w = await startWorld({ scenario: 'small.json' });
    devices = w.scenario.devices;
    ({ browser, page } = await connectedPage(w));
  });
  after(async () => {
    await browser?.close();
    await w?.close();
  });

  test('manifest: a bad row is shown by row and nothing stored; good files listed (picker and drop)', async () => {
    const [a, b, c] = devices;
    await page.getByRole('link', { name: 'Manifests' }).click();
    await page.locator('#manifests-empty:not([hidden])').waitFor();

    // Row 2 has a static OOB value that is not hex: the page lists that row's error.
    const bad = `uuid,name,zone,auth,auth_value\n${a.uuid},${a.name},floor-1,none,\n${b.uuid},${b.name},floor-1,static,xyz\n`;
    await page.getByLabel('Choose a manifest file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    const row2 = page.locator('#manifest-error-rows tr[data-row="2"]');
    await row2.waitFor();
    assert.match(await row2.textContent(), /auth_value/, 'the error names the field');
    assert.equal(await page.locator('#manifest-error-rows tr').count(), 1, 'only row 2 is wrong');
    assert.match(await row2.locator('td').nth(1).textContent(), /^3$/, 'row 2 starts on line 3 of the file');
    assert.match(await page.locator('#manifest-upload-error').textContent(), /bad\.csv was not stored/);
    await page.screenshot({ path: path.join(w.dir, 'manifest-errors.png'), fullPage: true });
    assert.equal((await w.ok('GET', '/api/v1/manifests', { token: w.tokens.viewer })).items.length, 0, 'nothing stored');

    // A good CSV through the file picker: stored, listed and opened.
    // b and c: the devices no other test provisions (the commission test at the end does).
    const good = `uuid,name,zone,auth,auth_value\n${b.uuid},${b.name},floor-1,static,${b.oob.static}\n${dashed(c.uuid)},${c.name},floor-2,static,${c.oob.static}\n`;
    await page.getByLabel('Choose a manifest file').setInputFiles({ name: 'floor.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await page.locator('#manifest-upload-status', { hasText: 'floor.csv: 2 devices stored' }).waitFor();
    assert.ok(await page.locator('#manifest-errors').isHidden(), 'no errors left on screen');
    await page.locator('#manifest-device-rows tr').nth(1).waitFor();
    assert.match(await page.locator('#manifest-device-rows').textContent(), new RegExp(`${c.name}.*floor-2`));

    // A good JSON document dropped on the drop zone.
    const doc = JSON.stringify({ devices: [{ uuid: a.uuid, name: a.name, zone: 'floor-1', auth: { method: 'none' } }] });
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
      document.getElementById('manifest-drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, doc);
    await page.locator('#manifest-upload-status', { hasText: 'dropped.json: 1 device stored' }).waitFor();
    await waitFor(async () => (await page.locator('#manifest-rows tr').count()) === 2, { what: 'both manifests listed' });
    const stored = (await w.ok('GET', '/api/v1/manifests', { token: w.tokens.viewer })).items;
    assert.deepEqual(stored.map((m) => [m.format, m.rows]), [['csv', 2], ['json', 1]]);

    // Delete the JSON one from the page.
    await page.getByRole('button', { name: `Delete manifest ${stored[1].id}` }).click();
    await page.locator('#confirm-manifest').getByRole('button', { name: 'Delete' }).click();
    await waitFor(async () => (await page.locator('#manifest-rows tr').count()) === 1, { what: 'the deleted manifest leaves the list' });
    assert.equal((await w.ok('GET', '/api/v1/manifests', { token: w.tokens.viewer })).items.length, 1);
    await page.screenshot({ path: path.join(w.dir, 'manifests.png'), fullPage: true });
    assert.deepEqual(unexpected(), [], 'no console error or page exception');
    manifestId = stored[0].id;
  });

  test('scan table: fits 1,280 px with settings open; search, filter and sort change the rows', async () => {
    await page.getByRole('link', { name: 'Scan' }).click();
    await page.getByLabel('Duration (s)').fill('60');
    await page.getByRole('button', { name: 'Start scan' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('#scan-rows tr:not(.detail)').length >= n, devices.length);
    await page.getByRole('button', { name: 'Stop' }).click();

    // The widest content a row can have: a 64-character name, a static OOB value of 64 hex
    // digits and an OOB public key of 128, their settings open under the rows.
    const [u0, u1, u2] = devices.map((d) => dashed(d.uuid));
    await page.getByLabel(`Name for device ${u0}`).fill('n'.repeat(64));
    await page.getByLabel(`Authentication for device ${u0}`).selectOption('static');
    await page.getByLabel(`Static OOB for device ${u0} (32 or 64 hex digits)`).fill('ab'.repeat(32));
    await page.getByLabel(`Authentication for device ${u1}`).selectOption('oob_public_key');
    await page.getByLabel(`OOB public key for device ${u1} (128 hex digits)`).fill('cd'.repeat(64));
    await page.getByLabel(`Authentication for device ${u2}`).selectOption('output');
    const sizes = await page.evaluate(() => {
      const wrap = document.getElementById('scan-wrap');
      const doc = document.scrollingElement;
      return { wrap: [wrap.scrollWidth, wrap.clientWidth], doc: [doc.scrollWidth, doc.clientWidth] };
    });
    assert.ok(sizes.wrap[0] <= sizes.wrap[1], `the scan table scrolls sideways: ${sizes.wrap}`);
    assert.ok(sizes.doc[0] <= sizes.doc[1], `the page scrolls sideways: ${sizes.doc}`);
    await page.screenshot({ path: path.join(w.dir, 'scan-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.screenshot({ path: path.join(w.dir, 'scan-768.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    // Settings close and open again from the row.
    const toggle = page.getByRole('button', { name: `Authentication settings for device ${u0}` });
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.ok(await page.getByLabel(`Static OOB for device ${u0} (32 or 64 hex digits)`).isHidden());
    await toggle.click();
    assert.ok(await page.getByLabel(`Static OOB for device ${u0} (32 or 64 hex digits)`).isVisible());

    const visible = () => page.locator('#scan-rows tr:not(.detail):visible').evaluateAll((trs) => trs.map((tr) => tr.dataset.uuid));
    // Search by part of a UUID, then by a typed name.
    const one = devices[3].uuid;
    await page.getByLabel('Search (UUID, name, heard by)').fill(dashed(one).slice(0, 13));
    assert.deepEqual(await visible(), [one]);
    await page.getByLabel('Search (UUID, name, heard by)').fill('nnnnnnnn');
    assert.deepEqual(await visible(), [devices[0].uuid]);
    await page.getByLabel('Search (UUID, name, heard by)').fill('');
    assert.equal((await visible()).length, devices.length);

    // Filter: only the selected device.
    await page.getByLabel(`Select device ${dashed(devices[4].uuid)}`).check();
    await page.getByLabel('Show').first().selectOption('selected');
    assert.deepEqual(await visible(), [devices[4].uuid]);
    await page.locator('#scan-show').selectOption('all');

    // Sort by UUID, both ways; the header says which.
    const header = page.locator('#scan-table th[data-sort="uuid"]');
    const sorted = devices.map((d) => d.uuid).sort();
    await header.getByRole('button').click();
    assert.equal(await header.getAttribute('aria-sort'), 'ascending');
    assert.deepEqual(await visible(), sorted);
    await header.getByRole('button').click();
    assert.equal(await header.getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await visible(), [...sorted].reverse());

    // The selected device provisioned with an Attention Duration: the job asked for it.
    await page.getByLabel(`Authentication for device ${dashed(devices[4].uuid)}`).selectOption('none');
    await page.getByLabel(`Name for device ${dashed(devices[4].uuid)}`).fill('panel-from-page');
    await page.getByLabel('Attention timer in seconds (the device identifies itself)').fill('7');
    await page.getByRole('button', { name: 'Provision 1 selected device' }).click();
    await page.locator('#view-provisioning:not([hidden])').waitFor();
    const job = (await w.ok('GET', '/api/v1/jobs?limit=1', { token: w.tokens.viewer })).items[0];
    assert.equal(job.kind, 'provision');
    assert.equal(job.params.attention_s, 7, 'the Attention Duration typed on the page');
    assert.deepEqual(unexpected(), [], 'no console error or page exception');
  });

  test('node list: search by name, UUID and address; sort by column', async () => {
    const names = [devices[0].name, devices[3].name];
    // Provision what is not a node yet (an earlier run of a test may have).
    const have = (await w.ok('GET', '/api/v1/nodes', { token: w.tokens.viewer })).items.map((n) => n.name);
    const { done } = await w.provision(names.filter((n) => !have.includes(n)));
    // The session started from the scan page ends first, so the list does not change under the test.
    await waitFor(async () => (await w.ok('GET', '/api/v1/provisioning', { token: w.tokens.viewer })).items
      .some((x) => x.uuid === devices[4].uuid && ['done', 'failed', 'cancelled'].includes(x.state)), { what: 'the page\'s session over' });
    await page.getByRole('link', { name: 'Nodes' }).click();
    const rowNames = () => page.locator('#nodes-rows tr td:nth-child(2)').allTextContents();
    // The device provisioned from the scan page may be there too.
    await waitFor(async () => (await rowNames()).filter((n) => names.includes(n)).length === 2,
      { what: 'both nodes listed' });
    const listed = await rowNames();
    await page.getByLabel('Search (name, UUID, zone, address)').fill(devices[3].uuid.slice(0, 10));
    assert.deepEqual(await rowNames(), [devices[3].name]);
    await page.getByLabel('Search (name, UUID, zone, address)').fill(names[0]);
    assert.deepEqual(await rowNames(), [names[0]]);
    const a = done.find((s) => s.name === names[1]).address;
    await page.getByLabel('Search (name, UUID, zone, address)').fill(`0x${a.toString(16).padStart(4, '0')}`);
    assert.deepEqual(await rowNames(), [names[1]]);
    await page.getByLabel('Search (name, UUID, zone, address)').fill('');
    const header = page.locator('#nodes-table th[data-sort="name"]');
    const byName = [...listed].sort((x, y) => x.localeCompare(y, undefined, { numeric: true, sensitivity: 'base' }));
    await header.getByRole('button').click();
    assert.deepEqual(await rowNames(), byName);
    await header.getByRole('button').click();
    assert.equal(await header.getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await rowNames(), [...byName].reverse());
    assert.deepEqual(unexpected(), [], 'no console error or page exception');
  });

  test('zones view: the picture of who hears whom, from the scan', async () => {
    await page.getByRole('link', { name: 'Zones' }).click();
    const results = (await w.ok('GET', '/api/v1/scans/results', { token: w.tokens.viewer })).items;
    await page.locator('#topology-svg svg .gateway').waitFor();
    assert.equal(await page.locator('#topology-svg svg .device').count(), results.length, 'one dot per device of the last scan');
    const heard = results.reduce((n, d) => n + d.seen_by.length, 0);
    assert.equal(await page.locator('#topology-svg svg line.hears').count(), heard, 'one line per receiver that heard a device');
    assert.match(await page.locator('#topology-caption').textContent(), new RegExp(`^${results.length} devices in the last scan`));
    await page.screenshot({ path: path.join(w.dir, 'zones.png'), fullPage: true });

    // The layout with servers (small.json has none): server 0x0020 was provisioned through
    // 0x0010, so the rings are 1: 0x0010 and the device the gateway hears; 2: 0x0020 and a
    // device 0x0010 hears; 3: a device only 0x0020 hears.  Nothing is drawn on another.
    const drawn = await page.evaluate(async () => {
      const { drawTopology } = await import('/zones.js');
      const at = (via, rssi) => ({ via, rssi, last_seen: '2026-01-01T00:00:00Z' });
      const results = [
        { uuid: 'a1'.repeat(16), seen_by: [at(0x10, -60), at(0x20, -70)] },
        { uuid: 'b2'.repeat(16), seen_by: [at(0x20, -50)] },
        { uuid: 'c3'.repeat(16), seen_by: [at(0, -40), at(0x10, -80)] },
      ];
      const { pic, summary } = drawTopology(results, new Map([[0x10, 'hall']]), new Map([[0x10, 0], [0x20, 0x10]]));
      const centre = (g) => {
        const s = g.querySelector('circle, rect');
        return s.tagName === 'rect' ? [Number(s.getAttribute('x')) + 9, Number(s.getAttribute('y')) + 9]
          : [Number(s.getAttribute('cx')), Number(s.getAttribute('cy'))];
      };
      const [gx, gy] = centre(pic.querySelector('.gateway'));
      const dist = (g) => Math.round(Math.hypot(centre(g)[0] - gx, centre(g)[1] - gy));
      const points = [...pic.querySelectorAll('.device, .server, .gateway')].map(centre);
      let closest = Infinity;
      for (let i = 0; i < points.length; i += 1) {
        for (let j = i + 1; j < points.length; j += 1) {
          closest = Math.min(closest, Math.hypot(points[i][0] - points[j][0], points[i][1] - points[j][1]));
        }
      }
      return {
        summary,
        servers: [...pic.querySelectorAll('.server text')].map((t) => t.textContent),
        ring: Object.fromEntries([...pic.querySelectorAll('.device, .server')].map((g) => [g.dataset.uuid?.slice(0, 2) || g.dataset.address, dist(g)])),
        rings: [...pic.querySelectorAll('.rings circle')].map((r) => Math.round(Number(r.getAttribute('r')))),
        hears: pic.querySelectorAll('line.hears').length,
        member: pic.querySelectorAll('line.member').length,
        closest,
      };
    });
    assert.deepEqual(drawn.servers, ['hall 0x0010', 'server 0x0020']);
    const [r1, r2, r3] = drawn.rings;
    assert.equal(drawn.rings.length, 3, 'three hops');
    assert.deepEqual(drawn.ring, { 16: r1, 32: r2, a1: r2, b2: r3, c3: r1 }, 'each on the ring of its hop');
    assert.equal(drawn.hears, 5, 'one line per receiver of each device');
    assert.equal(drawn.member, 2, 'each server tied to what provisioned it');
    assert.ok(drawn.closest > 40, `no two dots closer than 40 px (closest ${drawn.closest})`);
    assert.match(drawn.summary, /^3 devices in the last scan: the gateway hears 1, 2 only through the 2 Remote Provisioning Servers shown\.$/);
    assert.deepEqual(unexpected(), [], 'no console error or page exception');
  });

  test('zones view: create and rename a zone, move a node into it', async (t) => {
    await page.getByRole('link', { name: 'Zones' }).click();
    if (!hasRoute('/api/v1/zones')) {
      const r = await w.api('GET', '/api/v1/zones', { token: w.tokens.viewer, validate: false });
      assert.equal(r.status, 404);
      await page.locator('#zones-error', { hasText: 'Zones:' }).waitFor();
      assert.deepEqual(unexpected(), [], 'no console error or page exception');
      t.skip('GET/POST/PATCH /api/v1/zones and PUT /api/v1/nodes/{address}/zone are not in this build (branch zones): create, rename and move not checked');
      return;
    }
    await page.getByLabel('New zone name').fill('floor-9');
    await page.getByRole('button', { name: 'Create zone' }).click();
    await page.locator('#zones-list .zone h3', { hasText: 'floor-9' }).waitFor();
    const z = (await w.ok('GET', '/api/v1/zones', { token: w.tokens.viewer })).items.find((x) => x.name === 'floor-9');
    assert.ok(z, 'the zone exists on the gateway');
    const card = page.locator(`#zones-list .zone[data-id="${z.id}"]`);
    await card.getByLabel('New name for zone floor-9').fill('floor-9b');
    await card.getByRole('button', { name: 'Rename' }).click();
    await page.locator('#zones-list .zone h3', { hasText: 'floor-9b' }).waitFor();
    const n = (await w.ok('GET', '/api/v1/nodes', { token: w.tokens.viewer })).items[0];
    await page.getByRole('combobox', { name: 'Node', exact: true }).selectOption(String(n.address));
    await page.getByLabel('Move to zone').selectOption(String(z.id));
    await page.getByRole('button', { name: 'Move node' }).click();
    await page.locator('#zones-status', { hasText: 'moved to zone' }).waitFor();
    const after = (await w.ok('GET', '/api/v1/zones', { token: w.tokens.viewer })).items.find((x) => x.id === z.id);
    assert.equal(after.name, 'floor-9b');
    assert.ok(JSON.stringify(after.nodes).includes(String(n.address)), 'the node is in the zone');
    assert.deepEqual(unexpected(), [], 'no console error or page exception');
  });

  test('commission a manifest from the page: progress, devices, report', async (t) => {
    // The gateway's answer, whatever it is, is what the page shows.
    const id = manifestId;
    assert.ok(id, 'the manifest of the first test');
    await page.getByRole('link', { name: 'Manifests' }).click();
    await page.getByRole('button', { name: `Commission manifest ${id}` }).click();
    if (!hasRoute('/api/v1/manifests/{id}/commission')) {
      await page.locator('#manifests-error', { hasText: `Commissioning manifest ${id}` }).waitFor();
      const r = await w.api('POST', `/api/v1/manifests/${id}/commission`, { token: w.tokens.operator, validate: false });
      assert.equal(r.status, 404);
      assert.ok((await page.locator('#manifests-error').textContent()).includes(r.body?.detail || r.body?.title || 'Not Found'),
        'the page shows the problem+json detail');
      t.skip('POST /api/v1/manifests/{id}/commission is not in this build (branch bulk): progress, per-device states and the report download not checked');
      return;
    }
    await page.locator('#run:not([hidden])').waitFor();
    await page.locator('#run-rows tr').first().waitFor();
    assert.match(await page.locator('#run-report-csv').getAttribute('href'), /\/report\?format=csv$/);
    // The job ends with both rows provisioned, and the page's rows say so.
    const job = (await w.ok('GET', '/api/v1/jobs', { token: w.tokens.viewer })).items.find((j) => j.kind === 'commission');
    assert.ok(job, 'the page started a commission job');
    await waitFor(async () => (await w.ok('GET', `/api/v1/jobs/${job.id}`, { token: w.tokens.viewer })).state === 'done',
      { what: 'the commission job done', timeout: 120000 });
    const report = await w.ok('GET', `/api/v1/jobs/${job.id}/report`, { token: w.tokens.viewer });
    assert.deepEqual(report.items.map((x) => x.result), ['provisioned', 'provisioned']);
    await waitFor(async () => (await page.locator('#run-rows tr[data-state="done"]').count()) === 2,
      { what: 'both devices shown done on the page' });
  });

});
