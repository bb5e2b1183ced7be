// Benchmark (figures only, no thresholds): a Key Refresh of NetKey 0 (POST
// /api/v1/keys/net/0/refresh, the key_refresh job) and a change of ownership (POST
// /api/v1/network/ownership-change: a Key Refresh of every subnet, then a Device Key Refresh of
// every node with a Remote Provisioning Server) through meshgw's HTTP API as the network grows, on
// a scenario's devices moved into the gateway's range (on one floor, within a few metres of its
// port) at the scenario's own time scale.  Default sim/scenarios/office.json (60 devices).
// Side by side in one run, each in its own meshsim + meshgw (BENCH_MODES picks, e.g. parallel):
//   parallel   meshgw as configured by default for jobs (max_sessions = 8)
//   one by one max_sessions = 1: one node at a time, the baseline
// At each size (provisioned in between, not timed) it prints, per operation, the wall time from
// the POST to the job's end, the virtual time meshsim's clock advanced meanwhile (`stats`
// time_us: at time scale 1.0 the two differ by how far meshsim fell behind real time), per node,
// and the packets put on the air meanwhile (`meshsim ctl stats` before and after): all of them,
// and network PDUs alone. 56 of office.json's 60 devices relay, so every Config message is
// relayed by all of them: the packets grow with the square of the node count.
//
//   BUILD_DIR=build node bench/keyref.mjs [sizes, default 10,30,60] [scenario, default office.json]
import { startWorld, waitFor } from '../tests/integration/harness.mjs';

const SIZES = (process.argv[2] || '10,30,60').split(',').map(Number);
const SCENARIO = process.argv[3] || 'office.json';
const MODES = [['parallel', 8], ['one by one', 1]]
  .filter(([m]) => !process.env.BENCH_MODES || process.env.BENCH_MODES.split(',').includes(m.replace(/ /g, '')));
const OPS = [['key refresh', '/api/v1/keys/net/0/refresh'], ['ownership', '/api/v1/network/ownership-change']];

/** The scenario with every device within a few metres of the gateway's port, on its floor. */
function inRange(sc) {
  const p = sc.ports.native.position;
  sc.devices.forEach((d, i) => {
    d.position = { x: p.x + 1 + (i % 8) * 0.5, y: p.y + Math.floor(i / 8) * 0.5, z: p.z };
  });
}

async function stats(w) {
  return JSON.parse(await w.ctl('stats'));
}

/** One operation, timed from the POST to its job's end; packets from meshsim's statistics. */
async function run(w, url) {
  const before = await stats(w);
  const t0 = performance.now();
  const r = await w.ok('POST', url, { token: w.tokens.admin }, [202]);
  const j = await waitFor(async () => {
    const x = await w.ok('GET', `/api/v1/jobs/${r.job}`, { token: w.tokens.viewer });
    return ['done', 'cancelled'].includes(x.state) && x;
  }, { timeout: 3600000, interval: 50, what: `job ${r.job}` });
  const ms = performance.now() - t0;
  const after = await stats(w);
  // An ownership job's targets are its parts: count the nodes its children reached.
  let nodes = j.total;
  let failed = j.counts.failed;
  if (j.kind === 'ownership') {
    nodes = 0;
    failed = 0;
    for (const t of j.targets.filter((x) => x.result?.job)) {
      const c = await w.ok('GET', `/api/v1/jobs/${t.result.job}`, { token: w.tokens.viewer });
      nodes += c.total;
      failed += c.counts.failed;
    }
    failed += j.counts.failed;
  }
  return {
    ms,
    virtual_ms: (after.time_us - before.time_us) / 1000,
    targets: nodes,
    failed,
    all: after.total.all.packets - before.total.all.packets,
    network: after.total.network.packets - before.total.network.packets,
  };
}

const results = {};
for (const [mode, sessions] of MODES) {
  const w = await startWorld({ scenario: SCENARIO, debug: false, editScenario: inRange, gwConf: { max_sessions: sessions } });
  try {
    const names = w.scenario.devices.map((d) => d.name);
    let have = 0;
    for (const n of SIZES) {
      while (have < n) {
        const batch = names.slice(have, Math.min(n, have + 32));
        await w.provision(batch, { timeout: 600000 });
        have += batch.length;
      }
      for (const [op, url] of OPS) {
        results[`${mode}:${op}:${n}`] = await run(w, url);
        process.stderr.write(`${mode}, ${op}, ${n} nodes: ${JSON.stringify(results[`${mode}:${op}:${n}`])}\n`);
      }
    }
  } finally {
    await w.close();
  }
}

const f1 = (x) => x.toFixed(1);
console.log(`Key Refresh of NetKey 0 and change of ownership, ${SCENARIO} devices in the gateway's range`);
console.log('nodes | mode       | operation   | wall s | virtual s | ms/node | packets on air | network PDUs | per node | node jobs | failed');
for (const n of SIZES) {
  for (const [op] of OPS) {
    for (const [mode] of MODES) {
      const r = results[`${mode}:${op}:${n}`];
      console.log(`${String(n).padStart(5)} | ${mode.padEnd(10)} | ${op.padEnd(11)} | ${f1(r.ms / 1000).padStart(6)} | ${f1(r.virtual_ms / 1000).padStart(9)} | ${String(Math.round(r.ms / n)).padStart(7)} | ${String(r.all).padStart(14)} | ${String(r.network).padStart(12)} | ${String(Math.round(r.all / n)).padStart(8)} | ${String(r.targets).padStart(9)} | ${r.failed}`);
    }
    const p = results[`parallel:${op}:${n}`];
    const s = results[`one by one:${op}:${n}`];
    if (p && s) console.log(`${String(n).padStart(5)} | ${op}: speed-up ${f1(s.ms / p.ms)}x`);
  }
}
