// Benchmark (figures only, no thresholds): meshgw's HTTP front end under the loads of
// issue 15, for two builds side by side (e.g. before and after the event-driven front end):
//   - 500 sockets sending headers slowly (one line every 3 s): /healthz and an authenticated
//     GET probed while they are open;
//   - 500 event streams (8 viewer tokens): how many open, the probes meanwhile, and after
//     closing them how long until /healthz answers again;
//   - 100 clients x 20 GETs on kept-alive connections: answers by status, connection
//     errors (resets), latency p50/p99.
// Probes give up after 3 s (counted as unanswered).  Clients come from 20 loopback
// addresses (127.0.0.2..21).  Needs about 1,200 descriptors (`ulimit -n`).
//
//   BUILD_DIR=build OLD_BUILD_DIR=build-old node bench/http_load.mjs
//   (OLD_BUILD_DIR unset: only BUILD_DIR is measured)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const N = 500;
const PER_TOKEN = 64;
const PROBE_TIMEOUT_MS = 3000;

async function measureOne() {
  const { startWorld } = await import('../tests/integration/harness.mjs');
  const { burst, eventStreams, probe, slowSockets } = await import('../tests/integration/lib/load.mjs');
  const w = await startWorld();
  const out = {};
  try {
    const viewers = [];
    for (let i = 0; i * PER_TOKEN < N; i++) {
      const r = await w.ok('POST', '/api/v1/tokens',
        { token: w.tokens.admin, body: { name: `bench-${i}`, role: 'viewer' } }, [201]);
      viewers.push(r.token);
    }
    const probes = async (n) => {
      const ms = [];
      let answered = 0;
      for (let i = 0; i < n; i++) {
        for (const [p, token] of [['/healthz'], ['/api/v1/network', w.tokens.viewer]]) {
          const r = await probe(w.port, p, { token, timeoutMs: PROBE_TIMEOUT_MS });
          if (r.status === 200) {
            answered++;
            ms.push(r.ms);
          }
        }
      }
      return { answered: `${answered}/${2 * n}`, max_ms: ms.length ? Math.max(...ms) : null };
    };

    const slow = await slowSockets(w.port, N, { firstAddr: 0, addrs: 10 });
    out.slow = { connected: slow.connected, probes: await probes(5), dropped: slow.closed };
    slow.close();

    const es = await eventStreams(w.port, N, (i) => viewers[Math.floor(i / PER_TOKEN)], { firstAddr: 10, addrs: 10 });
    out.streams = { opened: es.byStatus[200] || 0, probes: await probes(5) };
    es.close();
    const t0 = performance.now();
    let free = null;
    while (performance.now() - t0 < 60000) {
      const r = await probe(w.port, '/healthz', { timeoutMs: 1000 });
      if (r.status === 200) {
        free = performance.now() - t0;
        break;
      }
    }
    out.streams.free_after_close_ms = free;

    const b = await burst(w.port, '/api/v1/network', { clients: 100, perClient: 20, token: w.tokens.viewer });
    out.burst = b;
  } finally {
    await w.close();
  }
  return out;
}

function runBuild(dir) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one'],
    { env: { ...process.env, BUILD_DIR: dir }, encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !line) throw new Error(`${dir}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(line);
}

const fmt = (v) => (v === null || v === undefined ? '-'
  : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v));

if (process.argv[2] === '--one') {
  console.log(JSON.stringify(await measureOne()));
} else {
  const builds = [process.env.OLD_BUILD_DIR, process.env.BUILD_DIR || 'build'].filter(Boolean);
  const res = builds.map((d) => [d, runBuild(d)]);
  const rows = [
    ['500 slow sockets: connected', (o) => o.slow.connected],
    ['  probes answered', (o) => o.slow.probes.answered],
    ['  probe max ms', (o) => o.slow.probes.max_ms],
    ['  slow sockets dropped', (o) => o.slow.dropped],
    ['500 event streams: opened', (o) => o.streams.opened],
    ['  probes answered', (o) => o.streams.probes.answered],
    ['  probe max ms', (o) => o.streams.probes.max_ms],
    ['  /healthz after close, ms', (o) => o.streams.free_after_close_ms],
    ['100 x 20 GETs: 200', (o) => o.burst.statuses[200] || 0],
    ['  503', (o) => o.burst.statuses[503] || 0],
    ['  connection errors', (o) => JSON.stringify(o.burst.errors)],
    ['  p50 / p99 ms', (o) => `${fmt(o.burst.p50)} / ${fmt(o.burst.p99)}`],
    ['  wall time ms', (o) => o.burst.ms],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length)) + 2;
  console.log(''.padEnd(w0) + res.map(([d]) => d.padEnd(24)).join(''));
  for (const [name, f] of rows) {
    console.log(name.padEnd(w0) + res.map(([, o]) => fmt(f(o)).padEnd(24)).join(''));
  }
}
