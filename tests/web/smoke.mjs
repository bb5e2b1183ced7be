#!/usr/bin/env node
// Smoke test of the commissioning page in Debian's Chromium (headless, over
// the Chrome DevTools Protocol through playwright-core).  It starts nothing:
// point it at a running meshgw whose web_root is web/.
//
//   BASE_URL=http://127.0.0.1:18090 TOKEN=... node tests/web/smoke.mjs out.png
//
// Enters the token, checks the network summary, runs a 15 s scan, waits for a
// device in the results table and saves a full-page screenshot to the path
// given as argument (or $SCREENSHOT, default ./smoke.png).  Exits non-zero on
// any console error or uncaught page exception, or when a step fails.
// Optional: CHROMIUM (default /usr/bin/chromium), VIEWPORT (default 1280x800).

import { run, step } from './browser.mjs';

const BASE_URL = process.env.BASE_URL;
const TOKEN = process.env.TOKEN;
const SHOT = process.argv[2] || process.env.SCREENSHOT || 'smoke.png';
const [W, H] = (process.env.VIEWPORT || '1280x800').split('x').map(Number);

if (!BASE_URL || !TOKEN) {
  console.error('usage: BASE_URL=http://host:port TOKEN=... node tests/web/smoke.mjs [screenshot.png]');
  process.exit(2);
}

await run(W, H, async (page) => {
  page.setDefaultTimeout(20000);

  step('open the page');
  await page.goto(new URL('/', BASE_URL).href);
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Connect' }).click();

  step('network summary');
  await page.locator('#network-summary dt').first().waitFor();
  const meshUuid = await page.locator('#network-summary dd').first().textContent();
  if (!/^[0-9a-f-]{36}$/.test(meshUuid.trim())) throw new Error(`odd mesh UUID "${meshUuid}"`);

  step('the token stays out of the URL and localStorage');
  if (page.url().includes(TOKEN)) throw new Error('the token is in the URL');
  const stored = await page.evaluate(() => ({
    local: localStorage.length,
    session: sessionStorage.getItem('meshgw.token') !== null,
  }));
  if (stored.local !== 0 || !stored.session) throw new Error(`token storage: ${JSON.stringify(stored)}`);

  step('scan');
  await page.getByRole('link', { name: 'Scan' }).click();
  await page.getByLabel('Duration (s)').fill('15');
  await page.getByRole('button', { name: 'Start scan' }).click();
  await page.locator('#scan-status', { hasText: /^Scanning/ }).waitFor();
  await page.locator('#scan-rows tr').first().waitFor();
  const n = await page.locator('#scan-rows tr').count();
  step(`${n} device(s) in the results table`);

  step('live updates connected');
  await page.locator('#live[data-state="live"]').waitFor();

  await page.screenshot({ path: SHOT, fullPage: true });
  step(`screenshot ${SHOT}`);
});
