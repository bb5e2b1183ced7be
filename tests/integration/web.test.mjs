// The commissioning page in Debian's Chromium, against meshgw and meshsim (small.json):
// tests/web/walkthrough.mjs plays the technician (scan, provision every device with its own
// authentication, answer the Output/Input OOB prompts, switch a light, rename it, remove it)
// and fails on any console error or page exception; afterwards the REST API must show
// exactly what the page did.  Needs /usr/bin/chromium (scripts/deps.sh test installs it);
// without it the test is reported as skipped, never as passed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startWorld, root, parseStatus, hex4, waitFor, buildDir } from './harness.mjs';
import { launch, watchedPage, connect, problems } from '../web/browser.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WALK_TIMEOUT_MS = 8 * 60 * 1000;

/** Runs the walkthrough to its end; resolves with {code, out}. */
function walkthrough(env) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, 'tests/web/walkthrough.mjs')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); }, WALK_TIMEOUT_MS);
    p.on('error', reject);
    p.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out }); });
  });
}

describe('the commissioning page in Chromium (small.json)', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  let w;

  before(async () => { w = await startWorld({ scenario: 'small.json' }); });
  after(async () => { await w?.close(); });

  test('walkthrough: scan, provision all, OOB, light, rename, remove', async () => {
    const r = await walkthrough({
      BASE_URL: w.base,
      TOKEN: w.tokens.operator,
      SIM_CTL: w.ctlSock,
      SCENARIO: w.scenarioPath,
      SHOTS: path.join(w.dir, 'shots'),
      REMOVE: '1',
      CHROMIUM,
    });
    for (const line of r.out.trim().split('\n')) console.log(line);
    assert.equal(r.code, 0, `walkthrough exit ${r.code ?? r.signal}`);
    assert.match(r.out, /1 passed, 0 failed/);

    // What the page did, as the inventory and the devices have it.
    const viewer = w.tokens.viewer;
    const devices = w.scenario.devices.filter((d) => !d.kind || d.kind === 'node');
    const light = devices.find((d) => d.name.includes('light'));
    const all = (await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer })).items;
    const removed = (await w.ok('GET', '/api/v1/nodes?limit=1000&excluded=true', { token: viewer })).items;
    for (const d of devices) {
      if (d.uuid === light.uuid) continue;
      const n = all.find((x) => x.uuid === d.uuid);
      assert.ok(n, `${d.name} provisioned through the page`);
      assert.equal(n.name, d.name, 'the name typed on the page');
      assert.equal(n.state, 'configured');
    }
    assert.equal(all.length, devices.length - 1);
    const gone = removed.find((x) => x.uuid === light.uuid);
    assert.ok(gone, `${light.name} removed through the page`);
    assert.equal(gone.name, `${light.name}-renamed`, 'renamed on the page before removal');
    const st = parseStatus(await w.dev(light.name, 'status'));
    assert.equal(st.provisioned, false, `${light.name} reset by the removal: ${st.text}`);
  });
});

// Remote Provisioning on the page: a light of small.json made a Remote Provisioning Server and
// provisioned; a scan with "Also through Remote Provisioning Servers" shows devices heard by
// that server; on the node's page "Rotate device key" gives it a new DevKey (the inventory and
// the device agree) and "Move to a new address" takes the page to the node at its new address.
describe('Remote Provisioning on the page (small.json with one RPR server)', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  let w;
  let browser;
  let name;

  before(async () => {
    w = await startWorld({
      scenario: 'small.json',
      editScenario: (sc) => {
        const d = sc.devices.find((x) => x.name.includes('light'));
        d.rpr_server = true;
        if (!d.composition.elements[0].models.includes('0x0004')) d.composition.elements[0].models.push('0x0004');
      },
    });
    name = w.scenario.devices.find((x) => x.rpr_server).name;
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await w?.close();
  });

  test('remote scan, device key rotation and address move from the node page', async () => {
    const viewer = w.tokens.viewer;
    const { done } = await w.provision([name]);
    const a = done[0].address;
    const server = hex4(a);
    const page = await watchedPage(browser, 1280, 800);
    page.setDefaultTimeout(60000);
    await connect(page, w);

    // Remote scan: some unprovisioned device is listed as heard by the server.
    await page.getByRole('link', { name: 'Scan' }).click();
    await page.getByLabel('Duration (s)').fill('30');
    await page.getByLabel('Also through Remote Provisioning Servers').check();
    await page.getByRole('button', { name: 'Start scan' }).click();
    await page.waitForFunction((srv) => [...document.querySelectorAll('#scan-rows td.via')]
      .some((td) => td.textContent.includes(`server ${srv}`)), server);
    await page.getByRole('button', { name: 'Stop' }).click();

    // Device key rotation from the node's page.
    const before = await w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer });
    await page.evaluate((x) => { location.hash = `#node/${x}`; }, a);
    await page.locator('#composition h4').first().waitFor();
    await page.getByRole('button', { name: 'Rotate device key' }).click();
    await page.locator('#nppi-status', { hasText: /done\.|failed/ }).waitFor();
    assert.match(await page.locator('#nppi-status').textContent(), /Device key rotation: done\./);
    const rotated = await w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer });
    assert.notEqual(rotated.devkey_fingerprint, before.devkey_fingerprint, 'a new DevKey');
    assert.equal(parseStatus(await w.dev(name, 'status')).devkey, rotated.devkey_fingerprint,
      'the device holds the key the inventory has');

    // Move to a new address: the page follows the node.
    await page.getByRole('button', { name: 'Move to a new address' }).click();
    await page.locator('#nppi-status', { hasText: /now at|failed/ }).waitFor();
    const text = await page.locator('#nppi-status').textContent();
    const m = /now at (0x[0-9a-f]{4})/.exec(text);
    assert.ok(m, `the page says where the node went: ${text}`);
    const nu = parseInt(m[1], 16);
    assert.notEqual(nu, a);
    await waitFor(async () => (await page.locator('#node-h').textContent()).includes(m[1]),
      { what: `the node page of ${m[1]}` });
    const moved = await w.ok('GET', `/api/v1/nodes/${nu}`, { token: viewer });
    assert.equal(moved.uuid, before.uuid);
    assert.equal(parseStatus(await w.dev(name, 'status')).addr, nu);
    await page.screenshot({ path: path.join(w.dir, 'node-after-move.png'), fullPage: true });
    assert.deepEqual(problems, [], 'no console error or page exception');
    await page.close();
  });
});

// Key Refresh from the page: on the network view an admin starts the refresh of NetKey index 0;
// the page follows the job to its end on the job view (event stream, no reload), and the
// jobs list shows it. Afterwards every device transmits with one new NetKey, and the gateway's
// inventory is back in phase 0 with a key that differs from the old one.
describe('Key Refresh on the page (small.json)', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  let w;
  let browser;

  before(async () => {
    w = await startWorld({ scenario: 'small.json' });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await w?.close();
  });

  const netkeyFp = async (name) => {
    const m = / netkey 0:([0-2]):([0-9a-f]{8})/.exec(await w.dev(name, 'status'));
    assert.ok(m, `${name} reports NetKey 0`);
    return { phase: Number(m[1]), fp: m[2] };
  };

  /** Logs in as admin, starts the refresh of NetKey index 0 on the network view: the page and the job. */
  async function startRefreshOnPage(admin) {
    const page = await watchedPage(browser, 1280, 800);
    page.setDefaultTimeout(60000);
    await page.goto(new URL('/', w.base).href);
    await page.getByLabel('API token').fill(admin);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('button', { name: 'Refresh the keys of NetKey index 0' }).click();
    await page.getByRole('button', { name: 'Start Key Refresh' }).click();
    await page.waitForFunction(() => /^#job\/\d+$/.test(location.hash));
    return { page, id: Number((await page.evaluate(() => location.hash)).split('/')[1]) };
  }

  test('refresh the keys of NetKey index 0 and watch the job', async () => {
    const admin = w.tokens.admin;
    const names = w.scenario.devices.filter((d) => (!d.kind || d.kind === 'node') && !d.oob?.output && !d.oob?.input)
      .slice(0, 3).map((d) => d.name);
    await w.provision(names);
    const oldKey = (await w.ok('GET', '/api/v1/keys/net?export=true', { token: admin })).items.find((k) => k.index === 0).key;
    const oldFp = (await netkeyFp(names[0])).fp;

    const { page, id } = await startRefreshOnPage(admin);
    await page.locator('#job-progress-label', { hasText: 'job done' }).waitFor({ timeout: 120000 });
    assert.equal(await page.locator('#job-h').textContent(), `Job ${id}: Key Refresh of NetKey index 0`);
    const states = await page.locator('#job-rows tr td[data-label="State"]').allTextContents();
    assert.equal(states.length, names.length, 'one row per node that holds the NetKey');
    assert.deepEqual(states, names.map(() => 'done'));
    const steps = await page.locator('#job-rows tr td[data-label="Step"]').allTextContents();
    assert.ok(steps.includes('phase 3 (old keys revoked)'), `one node drove the refresh to phase 3: ${steps}`);
    await page.screenshot({ path: path.join(w.dir, 'job-key-refresh.png'), fullPage: true });

    // The jobs list has it, finished.
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    const row = page.locator('#jobs-rows tr', { hasText: `Job ${id}` });
    await row.waitFor();
    assert.match(await row.textContent(), /Key Refresh of NetKey index 0.*done/);

    // What the page did, as the gateway and the devices have it.
    const j = await w.ok('GET', `/api/v1/jobs/${id}`, { token: w.tokens.viewer });
    assert.equal(j.kind, 'key_refresh');
    assert.equal(j.state, 'done');
    assert.equal(j.counts.done, names.length);
    const k = (await w.ok('GET', '/api/v1/keys/net?export=true', { token: admin })).items.find((x) => x.index === 0);
    assert.equal(k.phase, 0);
    assert.notEqual(k.key, oldKey, 'a new NetKey in the inventory');
    const fps = new Set();
    for (const name of names) {
      const s = await waitFor(async () => {
        const x = await netkeyFp(name);
        return x.phase === 0 && x;
      }, { what: `${name} back in phase 0` });
      fps.add(s.fp);
    }
    assert.equal(fps.size, 1, 'every device on one NetKey');
    assert.notEqual([...fps][0], oldFp, 'a NetKey the devices did not have before');
    assert.deepEqual(problems, [], 'no console error or page exception');
    await page.close();
  });

  // A node powered off during a refresh: the page shows it waiting, the admin finishes without it
  // (it leaves the inventory); then a change of ownership started and followed on the page.
  test('leave out an unreachable node, then change of ownership', async () => {
    const admin = w.tokens.admin;
    const viewer = w.tokens.viewer;
    const nodes = (await w.ok('GET', '/api/v1/nodes?limit=100', { token: viewer })).items;
    assert.ok(nodes.length >= 3, 'the nodes of the first test');
    const off = nodes[nodes.length - 1];
    assert.equal(await w.dev(off.name, 'power off'), 'ok');

    const { page, id } = await startRefreshOnPage(admin);
    // The silent node's row shows why it waits; the others are done.
    const row = page.locator('#job-rows tr', { hasText: off.name });
    await row.locator('td[data-label="Result or error"] .error').waitFor({ timeout: 120000 });
    await page.getByRole('button', { name: 'Finish without the unfinished nodes' }).click();
    assert.match(await page.locator('#confirm-kr-text').textContent(), new RegExp(off.name));
    await page.getByRole('button', { name: 'Finish without them' }).click();
    await page.locator('#job-progress-label', { hasText: 'job done' }).waitFor({ timeout: 120000 });
    assert.match(await row.textContent(), /failed.*left out by/);
    await page.screenshot({ path: path.join(w.dir, 'job-left-out.png'), fullPage: true });
    const j = await w.ok('GET', `/api/v1/jobs/${id}`, { token: viewer });
    assert.equal(j.counts.failed, 1);
    assert.equal(j.counts.done, nodes.length - 1);
    const gone = await w.ok('GET', `/api/v1/nodes/${off.address}`, { token: viewer });
    assert.equal(gone.excluded, true, 'the left-out node is out of the inventory');
    assert.equal(await w.dev(off.name, 'power on'), 'ok');

    // Change of ownership from the network view.
    const before = (await w.ok('GET', '/api/v1/keys/net?export=true', { token: admin })).items.find((k) => k.index === 0).key;
    await page.getByRole('link', { name: 'Network' }).click();
    await page.getByRole('button', { name: 'Change of ownership' }).click();
    await page.getByRole('button', { name: 'Start change of ownership' }).click();
    await page.waitForFunction((old) => /^#job\/\d+$/.test(location.hash) && location.hash !== `#job/${old}`, id);
    const oid = Number((await page.evaluate(() => location.hash)).split('/')[1]);
    await page.locator('#job-progress-label', { hasText: 'job done' }).waitFor({ timeout: 180000 });
    assert.equal(await page.locator('#job-h').textContent(), `Job ${oid}: Change of ownership`);
    const kept = await page.locator('#job-summary', { hasText: 'Device key cannot be rotated in place' }).textContent();
    for (const n of nodes.slice(0, -1)) assert.match(kept, new RegExp(`0x${n.address.toString(16).toUpperCase().padStart(4, '0')}`));
    // Each part links to the job it ran.
    const links = await page.locator('#job-rows a[href^="#job/"]').count();
    assert.ok(links >= 1, 'the parts link to their jobs');
    await page.screenshot({ path: path.join(w.dir, 'job-ownership.png'), fullPage: true });
    const o = await w.ok('GET', `/api/v1/jobs/${oid}`, { token: viewer });
    assert.equal(o.kind, 'ownership');
    assert.equal(o.state, 'done');
    assert.equal(o.counts.failed, 0, JSON.stringify(o.targets));
    const after = (await w.ok('GET', '/api/v1/keys/net?export=true', { token: admin })).items.find((k) => k.index === 0);
    assert.notEqual(after.key, before, 'the change of ownership gave NetKey 0 new key material');
    assert.equal(after.phase, 0);
    assert.deepEqual(problems, [], 'no console error or page exception');
    await page.close();
  });
});

// Certificate-based provisioning on the page: a device whose beacon advertises a certificate is
// proposed for it in the scan table; provisioned so, with no other input, its session and its
// node page say who verified it. The test PKI is made at run time (build/certgen).
describe('Certificate-based provisioning on the page', { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, () => {
  const UUID = 'c00000000000000000000000000000a1';
  const DAY = 86400;
  let w;
  let browser;
  let pki;

  before(async () => {
    pki = mkdtempSync(path.join(tmpdir(), 'meshgw-web-pki-'));
    const f = (n) => path.join(pki, n);
    const make = (name, cn, ...args) => execFileSync(path.join(buildDir, 'certgen'), [f(`${name}.pem`), f(`${name}.key`), cn, ...args]);
    make('root', 'Lamp Maker Root CA', '--ca', '--to', String(3650 * DAY));
    make('inter', 'Lamp Maker Devices CA', '--ca', '--issuer', f('root.pem'), f('root.key'));
    make('dev', UUID, '--issuer', f('inter.pem'), f('inter.key'), '--from', String(-DAY), '--to', String(365 * DAY));
    writeFileSync(f('chain.pem'), Buffer.concat([readFileSync(f('dev.pem')), readFileSync(f('inter.pem'))]));
    w = await startWorld({
      scenario: 'small.json',
      gwConf: { cbp_trust: f('root.pem') },
      editScenario: (sc) => {
        const d = JSON.parse(JSON.stringify(sc.devices.find((x) => x.name === 'light-noob')));
        Object.assign(d, { name: 'lamp-cert', uuid: UUID, position: { x: 2, y: -1, z: 1 } });
        d.certificate = { chain: f('chain.pem'), key: f('dev.key') };
        sc.devices.push(d);
      },
    });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await w?.close();
    if (pki) rmSync(pki, { recursive: true, force: true });
  });

  test('proposed, provisioned and shown as verified by its manufacturer', async () => {
    const label = `${UUID.slice(0, 8)}-${UUID.slice(8, 12)}-${UUID.slice(12, 16)}-${UUID.slice(16, 20)}-${UUID.slice(20)}`;
    const page = await watchedPage(browser, 1280, 800);
    page.setDefaultTimeout(60000);
    await page.goto(new URL('/', w.base).href);
    await page.getByLabel('API token').fill(w.tokens.operator);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('link', { name: 'Scan' }).click();
    await page.getByLabel('Duration (s)').fill('30');
    await page.getByRole('button', { name: 'Start scan' }).click();
    const method = page.getByLabel(`Authentication for device ${label}`);
    await method.waitFor();
    await waitFor(async () => (await method.inputValue()) === 'certificate', { what: 'certificate proposed for the device' });
    await page.getByLabel(`Select device ${label}`).check();
    await page.getByLabel(`Name for device ${label}`).fill('lamp-cert');
    await page.getByRole('button', { name: /^Provision \d+ selected/ }).click();
    await page.locator('#view-provisioning:not([hidden])').waitFor();
    const card = page.locator('#sessions li').filter({ has: page.getByRole('heading', { name: 'lamp-cert', exact: true }) });
    await card.and(page.locator('[data-state="done"]')).waitFor({ timeout: 120000 });
    assert.match(await card.textContent(), /Device certificate\s*verified by Lamp Maker Devices CA/);
    await page.screenshot({ path: path.join(w.dir, 'session-certificate.png'), fullPage: true });

    const s = (await w.ok('GET', '/api/v1/provisioning', { token: w.tokens.viewer })).items.find((x) => x.uuid === UUID);
    assert.equal(s.state, 'done');
    assert.equal(s.auth_method, 'certificate', 'provisioned with its certificate, no other OOB input');
    await page.evaluate((a) => { location.hash = `#node/${a}`; }, s.address);
    await page.locator('#node-info', { hasText: 'verified by Lamp Maker Devices CA' }).waitFor();
    const n = await w.ok('GET', `/api/v1/nodes/${s.address}`, { token: w.tokens.viewer });
    assert.match(await page.locator('#node-info').textContent(), new RegExp(`SHA-256 ${n.certificate.sha256.slice(0, 16)}`));
    assert.deepEqual(problems, [], 'no console error or page exception');
    await page.close();
  });
});
