// Benchmark (figures only, no thresholds): a Key Refresh of NetKey 0 through meshgw's HTTP API
// (POST /api/v1/keys/net/0/refresh, the key_refresh job) as the network grows, on
// sim/scenarios/office.json's 60 devices moved into the gateway's range (on one floor, within
// a few metres of its port) at the scenario's own time scale (1.0: virtual time = wall time).
// Side by side in one run, each in its own meshsim + meshgw:
//   parallel   meshgw as configured by default for jobs (max_sessions = 8)
//   one by one max_sessions = 1: one node at a time, the baseline
// At 10, 30 and 60 nodes (provisioned in between, not timed) it prints the time from the POST
// to the job's end, per node, and the packets put on the air meanwhile (`meshsim ctl stats`
// before and after): all of them, and network PDUs alone. 56 of office.json's 60 devices relay,
// so every Config message is relayed by all of them: the packets grow with the square of the
// node count.
//
//   BUILD_DIR=build node bench/keyref.mjs [sizes, default 10,30,60]
import { startWorld, waitFor } from '../tests/integration/harness.mjs';

const SIZES = (process.argv[2] || '10,30,60').split(',').map(Number);
const MODES = [['parallel', 8], ['one by one', 1]];

/** office.json with every device within a few metres of the gateway's port, on its floor. */
function inRange(sc) {
  const p = sc.ports.native.position;
  sc.devices.forEach((d, i) => {
    d.position = { x: p.x + 1 + (i % 8) * 0.5, y: p.y + Math.floor(i / 8) * 0.5, z: p.z };
  });
}

async function stats(w) {
  return JSON.parse(await w.ctl('stats')).total;
}

async function refresh(w) {
  const before = await stats(w);
  const t0 = performance.now();
  const r = await w.ok('POST', '/api/v1/keys/net/0/refresh', { token: w.tokens.admin }, [202]);
  const j = await waitFor(async () => {
    const x = await w.ok('GET', `/api/v1/jobs/${r.job}`, { token: w.tokens.viewer });
    return ['done', 'cancelled'].includes(x.state) && x;
  }, { timeout: 900000, interval: 50, what: `key_refresh job ${r.job}` });
  const ms = performance.now() - t0;
  const after = await stats(w);
  return {
    ms,
    targets: j.total,
    failed: j.counts.failed,
    all: after.all.packets - before.all.packets,
    network: after.network.packets - before.network.packets,
  };
}

const results = {};
for (const [mode, sessions] of MODES) {
  const w = await startWorld({ scenario: 'office.json', debug: false, editScenario: inRange, gwConf: { max_sessions: sessions } });
  try {
    const names = w.scenario.devices.map((d) => d.name);
    let have = 0;
    for (const n of SIZES) {
      while (have < n) {
        const batch = names.slice(have, Math.min(n, have + 32));
        await w.provision(batch, { timeout: 600000 });
        have += batch.length;
      }
      results[`${mode}:${n}`] = await refresh(w);
      process.stderr.write(`${mode}, ${n} nodes: ${JSON.stringify(results[`${mode}:${n}`])}\n`);
    }
  } finally {
    await w.close();
  }
}

const f1 = (x) => x.toFixed(1);
console.log('Key Refresh of NetKey 0, office.json devices in the gateway\'s range (time scale 1.0)');
console.log('nodes | mode       | time s | ms/node | packets on air | network PDUs | per node | failed');
for (const n of SIZES) {
  for (const [mode] of MODES) {
    const r = results[`${mode}:${n}`];
    console.log(`${String(n).padStart(5)} | ${mode.padEnd(10)} | ${f1(r.ms / 1000).padStart(6)} | ${String(Math.round(r.ms / r.targets)).padStart(7)} | ${String(r.all).padStart(14)} | ${String(r.network).padStart(12)} | ${String(Math.round(r.all / r.targets)).padStart(8)} | ${r.failed}`);
  }
  const p = results[`parallel:${n}`];
  const s = results[`one by one:${n}`];
  console.log(`${String(n).padStart(5)} | speed-up ${f1(s.ms / p.ms)}x`);
}
