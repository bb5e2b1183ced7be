// meshgw configured for a controller that is not there (the packaged default is bearer = hci:0,
// and a box may boot before its dongle, or have none yet): the daemon starts anyway, says once
// in its log why the radio is down and what to do, reports the bearer down in /healthz and
// /metrics, refuses radio operations with 503 problem+json naming the cause, and keeps trying
// to open the controller, bringing the bearer up without a restart when it appears.
//
// The user channel of a real hciN cannot be made to appear here (no AF_BLUETOOTH on the test
// machines), so "appears later" uses meshsim's virtual controller behind a pty that is
// unplugged while meshgw starts (bearer = uart:PATH, the same driver and retry loop).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, waitFor } from './harness.mjs';
import { parsePrometheusText, sampleValue } from './lib/promtext.mjs';

/** The state gauge from /metrics: {state: value}. */
async function scrapeGauge(w) {
  const res = await fetch(`${w.base}/metrics`, { headers: { Authorization: `Bearer ${w.tokens.viewer}` } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const f = parsePrometheusText(text);
  return Object.fromEntries(['starting', 'ready', 'down-reopening', 'failed']
    .map((state) => [state, sampleValue(f, 'meshgw_bearer_state', { state })]));
}

/** The gauge once it shows state (the collector refreshes it every few seconds). */
const bearerGauge = (w, state) => waitFor(async () => {
  const g = await scrapeGauge(w);
  return g[state] === 1 && g;
}, { timeout: 15000, what: `meshgw_bearer_state{state="${state}"} 1` });

/** POST /api/v1/scans and POST /api/v1/provisioning while the bearer is down: 503 naming it. */
async function radioRefused(w, bearerName) {
  const cause = new RegExp(`radio is not ready \\(bearer ${bearerName.replace(/[/.]/g, '\\$&')} (down-reopening|failed): \\S`);
  const scan = await w.api('POST', '/api/v1/scans', { token: w.tokens.operator, body: { duration_s: 5 } });
  assert.equal(scan.status, 503, `scan: ${scan.status} ${scan.text}`);
  assert.equal(scan.headers.get('content-type'), 'application/problem+json');
  assert.match(scan.body.detail, cause);
  const name = 'light-noob';
  const prov = await w.api('POST', '/api/v1/provisioning', {
    token: w.tokens.operator,
    body: { devices: [{ uuid: w.device(name).uuid, name, auth: w.authFor(name) }] },
  });
  assert.equal(prov.status, 503, `provisioning: ${prov.status} ${prov.text}`);
  assert.match(prov.body.detail, cause);
  return scan.body.detail;
}

/** meshgw's warning lines about the bearer named so. */
const bearerWarnings = (w, name) => w.gw.log().split('\n').filter((l) => l.includes(`warning: ${name}: `));

describe('a controller that never appears (hci:63)', () => {
  let w;
  before(async () => {
    // hci63: no AF_BLUETOOTH here (failed), or no such controller where there is (down).
    w = await startWorld({ bearer: 'sim', gwConf: { bearer: 'hci:63' }, waitBearer: false });
  });
  after(async () => {
    if (w) await w.close();
  });

  test('meshgw runs, /healthz and /metrics say the bearer is down and why', async () => {
    const h = (await w.ok('GET', '/healthz'));
    assert.equal(h.status, 'ok');
    assert.equal(h.bearer, false);
    const st = h.bearer_state;
    assert.equal(st.kind, 'hci');
    assert.equal(st.name, 'hci:63');
    assert.ok(['down-reopening', 'failed'].includes(st.state), st.state);
    // The cause and the remedy: no Bluetooth in the kernel, no hci63, or no capability.
    assert.match(st.reason, /no Bluetooth support \(AF_BLUETOOTH\): load it|no controller hci63: plug it in|needs CAP_NET_(RAW|ADMIN)/);
    const g = await bearerGauge(w, st.state);
    assert.equal(g.ready, 0);
    assert.equal(Object.values(g).reduce((a, b) => a + b, 0), 1, 'one state at a time');
  });

  test('scan and provisioning are refused with 503 naming the cause', async () => {
    const detail = await radioRefused(w, 'hci:63');
    console.log(`# ${detail}`);
  });

  test('one log line names the cause, the remedy and the retry', async () => {
    const lines = bearerWarnings(w, 'hci:63');
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /hci:63: (failed|down-reopening): .+: .+; retrying every 10 s at most, the bearer comes up by itself$/);
    assert.equal(w.gw.running, true);
  });
});

describe('a controller that appears after meshgw started', () => {
  let w;
  before(async () => {
    w = await startWorld({ bearer: 'hci-ext' });
  });
  after(async () => {
    if (w) await w.close();
  });

  test('no controller at start: bearer down, radio refused; plugged in: up without a restart', async () => {
    const r = await w.stopGw();
    assert.equal(r.code, 0);
    // Unplugged: the pty closes and its symlink goes, until `plug`.
    assert.match(await w.ctl('hci', 0, 'hangup'), /^ok/);
    await w.startGw({ waitBearer: false });
    const name = `uart:${w.hciPath}`;
    const h = await w.ok('GET', '/healthz');
    assert.equal(h.bearer, false);
    assert.equal(h.bearer_state.name, name);
    assert.ok(['starting', 'down-reopening'].includes(h.bearer_state.state), h.bearer_state.state);
    await waitFor(async () => (await w.ok('GET', '/healthz')).bearer_state.state === 'down-reopening',
      { timeout: 10000, what: 'the first open to fail' });
    const down = await w.ok('GET', '/healthz');
    assert.match(down.bearer_state.reason, /^no serial port .*hci0 \(unplugged\?\)$/);
    await bearerGauge(w, 'down-reopening');
    await radioRefused(w, name);

    const pid = w.gw.pid;
    assert.match(await w.ctl('hci', 0, 'plug'), /^ok/);
    // The driver's backoff is at most 10 s: the controller is found within that and set up.
    const up = await waitFor(async () => {
      const x = await w.ok('GET', '/healthz');
      return x.bearer && x;
    }, { timeout: 30000, what: 'the bearer up once the controller is plugged in' });
    assert.equal(up.bearer_state.state, 'ready');
    assert.equal(up.bearer_state.controller.advertising, 'extended');
    assert.equal(w.gw.pid, pid, 'the same meshgw process');
    assert.equal(w.gw.running, true);
    const g = await bearerGauge(w, 'ready');
    assert.equal(g['down-reopening'], 0);
    assert.equal(bearerWarnings(w, name).length, 1, 'one warning while it was missing');

    // The radio works: a scan is accepted and a device provisioned through the controller.
    await w.ok('POST', '/api/v1/scans', { token: w.tokens.operator, body: { duration_s: 5 } }, [202]);
    const { done } = await w.provision(['light-noob']);
    assert.equal(done.length, 1);
    assert.equal(typeof done[0].address, 'number');
  });
});
