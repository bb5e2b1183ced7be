// GET /metrics (issue 15): scraped and parsed with a strict Prometheus text-format parser
// (lib/promtext.mjs), on the API listener and on metrics_listen, with values that follow
// real actions: a 404, an event stream opened, a device provisioned.  And the request log:
// one line per request at -v, with the route template, never a token or a query string.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, startWorld, waitFor } from './harness.mjs';
import { parsePrometheusText, sampleValue } from './lib/promtext.mjs';

let w;
let metricsPort;
const SECRET_QUERY = 'secretquery0123456789';

before(async () => {
  metricsPort = await freePort();
  w = await startWorld({ gwConf: { metrics_listen: `127.0.0.1:${metricsPort}` } });
});

after(async () => {
  if (w) await w.close();
});

async function scrape(base = w.base, token = w.tokens.viewer) {
  const res = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(text);
}

const v = (f, name, labels) => sampleValue(f, name, labels) ?? 0;

test('/metrics needs a token and is valid exposition text with the documented families', async () => {
  const anon = await w.api('GET', '/metrics');
  assert.equal(anon.status, 401);
  const f = await scrape();
  for (const [name, type] of [
    ['meshgw_http_requests_total', 'counter'],
    ['meshgw_http_request_duration_seconds', 'histogram'],
    ['meshgw_http_connections', 'gauge'],
    ['meshgw_event_stream_clients', 'gauge'],
    ['meshgw_build_info', 'gauge'],
    ['meshgw_bearer_packets_sent_total', 'counter'],
    ['meshgw_bearer_packets_received_total', 'counter'],
    ['meshgw_bearer_state', 'gauge'],
    ['meshgw_provisioning_sessions', 'gauge'],
    ['meshgw_jobs', 'gauge'],
    ['meshgw_jobs_ended_total', 'counter'],
    ['meshgw_job_targets_ended_total', 'counter'],
    ['meshgw_nodes', 'gauge'],
  ]) {
    assert.equal(f.get(name)?.type, type, `${name} is a ${type}`);
  }
  assert.equal(sampleValue(f, 'meshgw_build_info'), 1);
  // The 401 above was answered before routing: under "none", never under its path.
  assert.ok(v(f, 'meshgw_http_requests_total', { route: 'none', code: '401' }) >= 1);
  for (const s of f.get('meshgw_http_requests_total').samples) {
    assert.ok(s.labels.route === 'none' || s.labels.route === 'web' || s.labels.route.startsWith('/'),
      `route label ${s.labels.route}`);
  }
  // The bearer is attached (healthz said so): "ready" within a refresh.
  await waitFor(async () => v(await scrape(), 'meshgw_bearer_state', { state: 'ready' }) === 1,
    { timeout: 5000, what: 'meshgw_bearer_state{state="ready"} 1' });
});

test('a 404, an event stream and a provisioning show in the figures', async () => {
  const before0 = await scrape();
  const r = await w.api('GET', '/api/v1/no-such-thing', { token: w.tokens.viewer, validate: false });
  assert.equal(r.status, 404);
  const n = await w.api('GET', '/api/v1/nodes/0x7000', { token: w.tokens.viewer });
  assert.equal(n.status, 404);
  const es = await w.events();
  try {
    const f = await scrape();
    assert.equal(v(f, 'meshgw_http_requests_total', { route: 'none', method: '*', code: '404' }),
      v(before0, 'meshgw_http_requests_total', { route: 'none', method: '*', code: '404' }) + 1);
    // The template, not the raw path /api/v1/nodes/0x7000.
    assert.equal(v(f, 'meshgw_http_requests_total', { route: '/api/v1/nodes/{address}', method: 'GET', code: '404' }),
      v(before0, 'meshgw_http_requests_total', { route: '/api/v1/nodes/{address}', method: 'GET', code: '404' }) + 1);
    assert.equal(v(f, 'meshgw_http_request_duration_seconds_count', { route: '/api/v1/nodes/{address}', method: 'GET' }),
      v(before0, 'meshgw_http_request_duration_seconds_count', { route: '/api/v1/nodes/{address}', method: 'GET' }) + 1);
    assert.equal(v(f, 'meshgw_event_stream_clients'), v(before0, 'meshgw_event_stream_clients') + 1);
  } finally {
    await es.close();
  }
  await waitFor(async () => v(await scrape(), 'meshgw_event_stream_clients') === v(before0, 'meshgw_event_stream_clients'),
    { timeout: 5000, what: 'the closed stream to leave the gauge' });

  await w.provision(['light-noob']);
  const f = await waitFor(async () => {
    const x = await scrape();
    return v(x, 'meshgw_nodes') === v(before0, 'meshgw_nodes') + 1 && x;
  }, { timeout: 5000, what: 'meshgw_nodes to count the new node' });
  assert.equal(v(f, 'meshgw_http_requests_total', { route: '/api/v1/provisioning', method: 'POST', code: '202' }),
    v(before0, 'meshgw_http_requests_total', { route: '/api/v1/provisioning', method: 'POST', code: '202' }) + 1);
  // PB-ADV went both ways, and the configuration after it was mesh messages.
  for (const name of ['meshgw_bearer_packets_sent_total', 'meshgw_bearer_packets_received_total']) {
    for (const ad of ['pb_adv', 'mesh_message']) {
      assert.ok(v(f, name, { ad_type: ad }) > v(before0, name, { ad_type: ad }), `${name}{ad_type="${ad}"} grew`);
    }
  }
  // The provisioning job finished: no session or running job is left.
  const idle = await waitFor(async () => {
    const x = await scrape();
    return v(x, 'meshgw_jobs', { kind: 'provision', state: 'running' }) === 0 && x;
  }, { timeout: 5000, what: 'the provisioning job to end' });
  for (const s of idle.get('meshgw_provisioning_sessions').samples) assert.equal(s.value, 0, JSON.stringify(s));
  for (const name of ['meshgw_jobs_ended_total', 'meshgw_job_targets_ended_total']) {
    assert.equal(v(idle, name, { kind: 'provision', state: 'done' }), v(before0, name, { kind: 'provision', state: 'done' }) + 1, name);
    assert.equal(v(idle, name, { kind: 'provision', state: 'cancelled' }), 0, name);
  }
});

test('metrics_listen serves /metrics alone, with the same token check', async () => {
  const base = `http://127.0.0.1:${metricsPort}`;
  const f = await scrape(base);
  assert.equal(sampleValue(f, 'meshgw_build_info'), 1);
  const anon = await fetch(`${base}/metrics`);
  assert.equal(anon.status, 401);
  const other = await fetch(`${base}/api/v1/network`, { headers: { Authorization: `Bearer ${w.tokens.viewer}` } });
  assert.equal(other.status, 404);
  assert.equal((await fetch(`${base}/healthz`)).status, 404);
});

test('one log line per request with the route template; no token and no query string in the log', async () => {
  // A token in the Authorization header, a refused one, and a query string with a secret.
  await w.api('GET', '/api/v1/network', { token: w.tokens.admin });
  await w.api('GET', '/api/v1/network', { token: 'f'.repeat(64) });
  await w.api('GET', `/api/v1/nodes?limit=1&token=${SECRET_QUERY}`, { token: w.tokens.viewer, validate: false });
  await w.api('GET', '/api/v1/nodes/0x7001', { token: w.tokens.operator });
  const log = await waitFor(() => {
    const l = w.gw.log();
    return /http GET \/api\/v1\/nodes\/\{address\} 404 \d+\.\d{3} ms 127\.0\.0\.1/.test(l) && l;
  }, { timeout: 5000, what: 'the request log line of GET /api/v1/nodes/0x7001' });
  assert.match(log, /http GET \/api\/v1\/network 200 \d+\.\d{3} ms 127\.0\.0\.1/);
  assert.match(log, /http GET none 401 /);
  assert.match(log, /http GET \/api\/v1\/nodes (200|400) /);
  for (const [role, token] of Object.entries(w.tokens)) {
    assert.ok(!log.includes(token), `the ${role} token is in the log`);
  }
  assert.ok(!log.includes('f'.repeat(64)), 'the refused token is in the log');
  assert.ok(!log.includes(SECRET_QUERY), 'the query string is in the log');
  assert.ok(!log.includes('0x7001'), 'the raw path is in the log');
});

test('under systemd (stderr is the JOURNAL_STREAM) lines carry a <N> priority and no timestamp', async () => {
  // The harness appends meshgw's stderr to this file: created first, it is the stream named.
  const err = path.join(w.dir, `meshgw-${w.gwRuns + 1}.err`);
  writeFileSync(err, '');
  const st = statSync(err, { bigint: true });
  await w.restartGw({ env: { JOURNAL_STREAM: `${st.dev}:${st.ino}` } });
  await w.api('GET', '/api/v1/network', { token: w.tokens.viewer });
  const lines = await waitFor(() => {
    const l = w.gw.log().split('\n').filter(Boolean);
    return l.some((x) => x.startsWith('<6>http GET /api/v1/network 200 ')) && l;
  }, { timeout: 5000, what: 'the request log line in journal form' });
  for (const l of lines) assert.match(l, /^<[2-7]>[^<]/, `journal line: ${l}`);
  assert.ok(!lines.some((l) => /^<\d>\d{2}:\d{2}:\d{2}/.test(l)), 'no timestamps');
});
