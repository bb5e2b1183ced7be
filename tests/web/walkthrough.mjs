#!/usr/bin/env node
// End-to-end walkthrough of the commissioning page against meshgw and
// meshsim, as a person on a tablet would do it: scan, provision every device
// of the scenario with its own authentication method (the Output OOB value
// is read from meshsim's control socket as if from the device's display; the
// Input OOB value shown by the page is typed into the device through that
// socket), switch a light, rename a node, optionally remove it, and save a
// screenshot of every view.  It starts nothing and it changes the network.
//
//   BASE_URL=http://127.0.0.1:18090 TOKEN=... SIM_CTL=/tmp/sim.ctl \
//   SCENARIO=sim/scenarios/small.json SHOTS=/tmp/shots [REMOVE=1] \
//   node tests/web/walkthrough.mjs
//
// Exits non-zero on a console error, an uncaught page exception or a step
// that fails.

import { readFileSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { problems, run, step } from './browser.mjs';

const { BASE_URL, TOKEN, SIM_CTL, SCENARIO } = process.env;
const SHOTS = process.env.SHOTS || '.';
if (!BASE_URL || !TOKEN || !SIM_CTL || !SCENARIO) {
  console.error('needs BASE_URL, TOKEN, SIM_CTL and SCENARIO (see the header)');
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

function simCtl(line) {
  return new Promise((resolve, reject) => {
    const s = createConnection(SIM_CTL);
    let out = '';
    s.on('connect', () => s.write(`${line}\n`));
    s.on('data', (d) => { out += d; });
    s.on('end', () => (out.startsWith('error:') ? reject(new Error(out.trim())) : resolve(out.trim())));
    s.on('error', reject);
  });
}

// The authentication a person would pick from the device's label/manual.
function authFor(dev) {
  const o = dev.oob || {};
  if (o.static) return { method: 'static', static_oob: o.static };
  const pick = (actions) => (actions.includes('numeric') ? 'numeric' : actions[0]);
  if (o.output) return { method: 'output', action: pick(o.output.actions), size: o.output.size };
  if (o.input) return { method: 'input', action: pick(o.input.actions), size: o.input.size };
  return { method: 'none' };
}

const scenario = JSON.parse(readFileSync(SCENARIO, 'utf8'));
const devices = scenario.devices.filter((d) => !d.kind || d.kind === 'node');
const simList = JSON.parse(await simCtl('list')).devices;

await run(1280, 800, async (page) => {
  page.setDefaultTimeout(30000);
  const shot = async (name, fullPage = true) => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
    step(`screenshot ${join(SHOTS, `${name}.png`)}`);
  };

  step('login');
  await page.goto(new URL('/', BASE_URL).href);
  await shot('01-login');
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.locator('#network-summary dt').first().waitFor();
  await shot('02-network');

  step(`scan until the ${devices.length} devices are seen`);
  await page.getByRole('link', { name: 'Scan' }).click();
  await page.getByLabel('Duration (s)').fill('60');
  await page.getByRole('button', { name: 'Start scan' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('#scan-rows tr:not(.detail)').length >= n,
    devices.length, { timeout: 60000 });

  step('choose the authentication of each device');
  for (const d of devices) {
    const label = `${d.uuid.slice(0, 8)}-${d.uuid.slice(8, 12)}-${d.uuid.slice(12, 16)}-${d.uuid.slice(16, 20)}-${d.uuid.slice(20)}`;
    const auth = authFor(d);
    await page.getByLabel(`Select device ${label}`).check();
    await page.getByLabel(`Name for device ${label}`).fill(d.name);
    await page.getByLabel(`Authentication for device ${label}`).selectOption(auth.method);
    if (auth.method === 'static') {
      // First a wrong value, to see the validation message, then the right one.
      await page.getByLabel(`Static OOB for device ${label} (32 or 64 hex digits)`).fill(auth.static_oob.slice(1));
      await page.getByLabel(`Static OOB for device ${label} (32 or 64 hex digits)`).fill(auth.static_oob);
    }
    if (auth.method === 'output') {
      await page.getByLabel(`Output action for device ${label}`).selectOption(auth.action);
      await page.getByLabel(`Output size for device ${label}`).fill(String(auth.size));
    }
    if (auth.method === 'input') {
      await page.getByLabel(`Input action for device ${label}`).selectOption(auth.action);
      await page.getByLabel(`Input size for device ${label}`).fill(String(auth.size));
    }
  }
  await shot('03-scan-selected');
  await page.setViewportSize({ width: 768, height: 1024 });
  await shot('04-scan-tablet-portrait');
  await page.setViewportSize({ width: 1280, height: 800 });

  step('provision them with one request');
  await page.getByRole('button', { name: /^Provision \d+ selected/ }).click();
  await page.locator('#view-provisioning:not([hidden])').waitFor();

  // Play the person at the devices until every session is over.
  const answered = new Set();
  const deadline = Date.now() + 180000;
  let shotOob = false;
  for (;;) {
    const states = await page.locator('#sessions li').evaluateAll((lis) => lis.map((li) => li.dataset.state));
    if (states.length >= devices.length && states.every((s) => ['done', 'failed', 'cancelled'].includes(s))) break;
    if (Date.now() > deadline) throw new Error(`sessions still running: ${states.join(', ')}`);
    const waiting = await page.locator('#sessions li[data-state="waiting_oob"] h3').allTextContents();
    for (const title of waiting.map((t) => t.trim())) {
      if (answered.has(title)) continue;
      // Located by name, not position: cards change state while we work.
      const li = page.locator('#sessions li').filter({ has: page.getByRole('heading', { name: title, exact: true }) });
      const dev = devices.find((d) => d.name === title);
      if (!shotOob) { await shot('05-provisioning-oob'); shotOob = true; }
      const shown = li.locator('.oob-value');
      if (await shown.isVisible()) {
        const value = (await shown.textContent()).trim();
        await shot('05b-provisioning-input-oob');
        const id = simList.find((x) => x.uuid === dev.uuid).id;
        step(`type ${value} on ${title} (Input OOB)`);
        await simCtl(`dev ${id} input ${value}`);
        answered.add(title);
      } else if (await li.locator('.oob-form').isVisible()) {
        const shownByDevice = JSON.parse(await simCtl('oob')).filter((o) => o.name === title).pop();
        if (!shownByDevice) continue;
        // meshsim describes the display ("shows number 4309"); the value is the last word.
        const value = String(shownByDevice.text).trim().split(/\s+/).pop();
        step(`enter ${value} shown by ${title} (Output OOB)`);
        // The card shows what the device offered (its Provisioning Capabilities).
        const offers = await li.locator('dt', { hasText: 'Device offers' }).locator('xpath=following-sibling::dd').textContent();
        if (!/output OOB \(.*; up to \d\)/.test(offers)) problems.push(`${title}: capabilities not shown (${offers})`);
        await li.getByLabel('Value the device shows').fill(value);
        await li.getByRole('button', { name: 'Send' }).click();
        answered.add(title);
      }
    }
    await page.waitForTimeout(500);
  }
  await shot('06-provisioning-done');
  const failedSessions = await page.locator('#sessions li[data-state="failed"] h3').allTextContents();
  if (failedSessions.length) problems.push(`sessions failed: ${failedSessions.join(', ')}`);

  step('nodes');
  await page.getByRole('link', { name: 'Nodes' }).click();
  await page.locator('#nodes-rows tr').first().waitFor();
  await shot('07-nodes');
  await page.setViewportSize({ width: 768, height: 1024 });
  await shot('08-nodes-tablet-portrait');
  await page.setViewportSize({ width: 1280, height: 800 });

  step('filter by name');
  await page.getByLabel('Search (name, UUID, zone, address)').fill('light');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForFunction(() => [...document.querySelectorAll('#nodes-rows tr')].every((tr) => tr.textContent.includes('light')));
  const light = devices.find((d) => d.name.includes('light'));
  await page.getByRole('row', { name: new RegExp(light.name) }).getByRole('link').click();
  await page.locator('#composition h4').first().waitFor();

  step('switch the light on, read it back, switch it off');
  const sw = page.getByRole('switch').first();
  await page.locator('.light-state').first().filter({ hasText: /^(on|off)$/ }).waitFor();
  await sw.click();
  await page.locator('.light-state').first().filter({ hasText: /^on$/ }).waitFor();
  await page.getByRole('button', { name: 'Read state' }).first().click();
  await page.locator('.light-state').first().filter({ hasText: /^on$/ }).waitFor();
  await shot('09-node-light-on');
  await sw.click();
  await page.locator('.light-state').first().filter({ hasText: /^off$/ }).waitFor();

  step('rename');
  await page.getByLabel('Name', { exact: true }).fill(`${light.name}-renamed`);
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.locator('#rename-status', { hasText: 'Renamed' }).waitFor();

  if (process.env.REMOVE) {
    step('remove the node');
    await page.getByRole('button', { name: 'Remove node…' }).click();
    await shot('10-remove-confirm', false);
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await page.locator('#remove-status', { hasText: /removed|failed/ }).waitFor({ timeout: 60000 });
    await shot('11-removed');
    step('operations');
    await page.getByRole('link', { name: 'Operations' }).click();
    await page.locator('#ops-rows tr').first().waitFor();
    await shot('12-operations');
  }
});
