// The commissioning page in Debian's Chromium, against meshgw and meshsim (small.json):
// tests/web/walkthrough.mjs plays the technician (scan, provision every device with its own
// authentication, answer the Output/Input OOB prompts, switch a light, rename it, remove it)
// and fails on any console error or page exception; afterwards the REST API must show
// exactly what the page did.  Needs /usr/bin/chromium (scripts/deps.sh test installs it);
// without it the test is reported as skipped, never as passed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startWorld, root, parseStatus } from './harness.mjs';

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
