// Shared by the page's browser scripts: launches Debian's Chromium headless
// through playwright-core, records console errors and page exceptions, and
// ends the run with a verdict line and exit status.

import { chromium } from 'playwright-core';
import { templateFor } from '../integration/harness.mjs';

export const problems = [];

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A new page whose console errors and uncaught exceptions count as failures.
export async function watchedPage(browser, width, height) {
  const page = await browser.newPage({ viewport: { width, height } });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = msg.location()?.url || '';
    // The page asks for parts of the API that some builds lack (zones, the bulk job) and
    // says so on screen; a 404 for a path openapi.yaml does not define is such an answer.
    if (/status of 404\b/.test(msg.text()) && /^https?:/.test(url) && !templateFor(new URL(url).pathname)) return;
    problems.push(`console error: ${msg.text()}${url ? ` (${url})` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`page exception: ${err.message}`));
  return page;
}

// page opens world w's page and connects with w's operator token.
export async function connect(page, w) {
  await page.goto(new URL('/', w.base).href);
  await page.getByLabel('API token').fill(w.tokens.operator);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.locator('#network-summary dt').first().waitFor();
}

// A browser with world w's page at 1,280 x 800, connected: {browser, page}.  Steps wait up
// to a minute.
export async function connectedPage(w) {
  const browser = await launch();
  const page = await watchedPage(browser, 1280, 800);
  page.setDefaultTimeout(60000);
  await connect(page, w);
  return { browser, page };
}

export const step = (what) => console.log(`- ${what}`);

// Runs body(page) and exits: 0 when it passed with a clean console, else 1.
export async function run(width, height, body) {
  const browser = await launch();
  let failed = false;
  try {
    await body(await watchedPage(browser, width, height));
  } catch (err) {
    failed = true;
    console.error(`FAILED: ${err.message}`);
  } finally {
    await browser.close();
  }
  for (const p of problems) console.error(p);
  if (failed || problems.length) {
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log('1 passed, 0 failed');
}
