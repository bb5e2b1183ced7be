// Benchmark (figures only, no thresholds), issue 12: a building commissioned from one manifest
// in one commission job, against the same devices one at a time, and how the job scales with
// the Remote Provisioning Servers it has and the gateway's local links.  Each run is its own
// meshsim + meshgw (tests/integration/harness.mjs) on a copy of the scenario in its real layout
// (addBridges(): servers no nearer server hears get a bridge; Output/Input OOB removed, static
// OOB values travel in the manifest).
//
// Runs, in this order:
//   full        every device of the scenario in one job, max_sessions = BENCH_SESSIONS
//   subset      the BENCH_SUBSET devices in one job, same settings (the baseline's pair)
//   one         the same subset one device at a time: one commission job per device,
//               waited for, then the next (servers first, ring by ring: lib/commission_job.mjs
//               runOneAtATime()).  Not one job with max_sessions = 1: a commission device
//               gives its slot back when its link closes, so that job configures a device
//               while the next one's link opens
//   scaling     the subset job for each BENCH_SERVERS x BENCH_LINKS variant
// One at a time is measured on the subset only; for the full scenario it is extrapolated from
// the subset's time per device and printed as such ("extrapolated"), never as a measurement.
//
// Printed per run: devices provisioned (report result "provisioned": provisioned, configured by
// its profile and put in its zone), nodes whose configuration completed (inventory state
// "configured"), failed, never heard; wall and virtual seconds (meshsim's clock, `ctl stats`
// time_us) from the commission request to the poll that saw the last device end (precision:
// BENCH_POLL_MS); devices/hour on both; packets on air per provisioned device (all, network).
// Virtual time is the monotonic clock times the scenario's time scale: meshgw runs in real
// time, so with BENCH_TIME_SCALE = 2 the air and the devices go twice as fast as the gateway.
//
//   BUILD_DIR=build node bench/building.mjs
//
// Bounded: every run is cancelled at its timeout, so the defaults take at most
// BENCH_FULL_TIMEOUT_S + (2 + 3 x 2) x BENCH_TIMEOUT_S plus about 30 s per run (1 h 55 min);
// on the 2-core machine this was written on, a run took: full about 7 min, subset 1 min,
// one at a time 1.5 min (first:40) to 25 min (every:25), scaling 1-2.5 min each.
// Measured on 2026-12-07 (main e5fc5c3 and after, nothing else running unless said):
//   full: 1000 of 1000 provisioned, configured and in their zone, 0 failed, 403.7 s
//   (8,917 devices/hour), 8,914 network packets per device; before that day's fixes the
//   full run stalled at about 580 devices (the relay plan stopped at 10 hops);
//   subset first:40: 44.6 s parallel, 83.7 s one at a time (1.88x; that baseline was REST
//   one device at a time, which reaches these near devices, before the one-job-per-device
//   baseline; beside CI with it: 42.6 s against 100.6 s, 2.36x);
//   subset every:25 (90 devices with the servers on their paths), one job per device:
//   1463.2 s, 16.3 s per device (a CI run used the same 2 cores for all but its first minutes);
//   scaling (first:40, beside CI): servers all 44.6 / 38.5 s (1 / 8 local links), half
//   79.2 / 95.6 s, quarter 93.4 / 87.5 s.
//
// Environment (defaults in brackets):
//   BENCH_SCENARIO    [building.json]  scenario under sim/scenarios/
//   BENCH_RUNS        [full,subset,one,scaling]  which runs, comma-separated
//   BENCH_SUBSET      [first:40]       first:N (scenario order) | floor:F | every:N (every
//                                      N-th device: a sample of every floor and ring) | all;
//                                      plus the servers on the path to them (printed)
//   BENCH_SESSIONS    [16]             max_sessions of the parallel runs (1..32)
//   BENCH_LINKS       [8]              max_local_links of the runs outside the scaling table
//   BENCH_SERVERS     [all,half,quarter]  scaling: servers kept (every one, every 2nd, every
//                                      4th in scenario order; bridges then re-added so that
//                                      every kept server can be reached, or, when no single
//                                      bridge can, the unreachable kept servers demoted too)
//   BENCH_LINKS_SCALE [1,8]            scaling: max_local_links values
//   BENCH_SESSIONS_SCALE []            scaling: extra subset runs at these max_sessions (all
//                                      servers, BENCH_LINKS), e.g. 4,8,32
//   BENCH_TIME_SCALE  [1]              meshsim --time-scale
//   BENCH_HEAR_S      [120]            the job's hear_timeout_s (subset runs)
//   BENCH_FULL_HEAR_S [1800]           the same for the full run: its hear timeout counts from
//                                      the job's start, and the far rings of a building are
//                                      heard only once the servers before them are nodes
//   BENCH_TIMEOUT_S   [600]            a subset run is cancelled after this many wall seconds
//   BENCH_FULL_TIMEOUT_S [1800]        the same for the full run
//   BENCH_POLL_MS     [2000]           job polling interval
//   BENCH_VERBOSE     [0]              1: print the job's counts as they change
//   BENCH_GW_DEBUG    [0]              1: meshgw -d (its log, meshgw-1.err in the world's
//                                      directory; KEEP_TMP=1 keeps that directory)
import { startWorld, addBridges, airModel, serverWaves, reachableServers, isServer, RPR_SERVER_MODEL, hex4 } from '../tests/integration/harness.mjs';
import { PROFILES, commissionable, runJob, runOneAtATime, resultCounts } from './lib/commission_job.mjs';
import { loadavg } from 'node:os';

const env = (k, d) => process.env[k] ?? d;
const SCENARIO = env('BENCH_SCENARIO', 'building.json');
const RUNS = env('BENCH_RUNS', 'full,subset,one,scaling').split(',').filter(Boolean);
const SUBSET = env('BENCH_SUBSET', 'first:40');
const SESSIONS = Number(env('BENCH_SESSIONS', 16));
const LINKS = Number(env('BENCH_LINKS', 8));
const SERVERS = env('BENCH_SERVERS', 'all,half,quarter').split(',').filter(Boolean);
const LINKS_SCALE = env('BENCH_LINKS_SCALE', '1,8').split(',').filter(Boolean).map(Number);
const SESSIONS_SCALE = env('BENCH_SESSIONS_SCALE', '').split(',').filter(Boolean).map(Number);
const TIME_SCALE = Number(env('BENCH_TIME_SCALE', 1));
const HEAR_S = Number(env('BENCH_HEAR_S', 120));
const FULL_HEAR_S = Number(env('BENCH_FULL_HEAR_S', 1800));
const TIMEOUT_S = Number(env('BENCH_TIMEOUT_S', 600));
const FULL_TIMEOUT_S = Number(env('BENCH_FULL_TIMEOUT_S', 1800));
const POLL_MS = Number(env('BENCH_POLL_MS', 2000));
const VERBOSE = env('BENCH_VERBOSE', '0') === '1';
const KEEP = { all: 1, half: 2, quarter: 4 };

for (const v of SERVERS) if (!KEEP[v]) throw new Error(`BENCH_SERVERS: ${v}: expected all, half or quarter`);

/**
 * The subset's devices of scenario s, and the servers a job needs to reach them: a device the
 * port does not hear comes through a server, which must be commissioned before (and so on
 * down to the port): those servers join the manifest (counted in `added`).  Order: the
 * scenario's.  Returns {devices, added}.
 */
function subsetOf(s) {
  const [how, arg] = SUBSET.split(':');
  let chosen;
  if (how === 'all') chosen = s.devices;
  else if (how === 'first' && Number(arg) > 0) chosen = s.devices.slice(0, Number(arg));
  else if (how === 'floor' && /^\d+$/.test(arg)) chosen = s.devices.filter((d) => d.name.startsWith(`f${arg}-`));
  else if (how === 'every' && Number(arg) > 0) chosen = s.devices.filter((d, i) => i % Number(arg) === 0);
  else throw new Error(`BENCH_SUBSET: ${SUBSET}: expected first:N, floor:F, every:N or all`);
  const air = airModel(s);
  const via = Object.fromEntries(serverWaves(s, air).flat().map((x) => [x.name, x.via]));
  const want = new Set(chosen.map((d) => d.name));
  const need = (name) => {
    for (let v = via[name]; v && !want.has(v); v = via[v]) want.add(v);
  };
  for (const d of chosen) {
    if (d.name in via) {
      need(d.name);
    } else if (!air.inRange('port', d.name)) {
      const heard = Object.keys(via).filter((x) => air.inRange(x, d.name))
        .sort((a, b) => air.dbm(b, d.name) - air.dbm(a, d.name));
      if (heard.length) {
        want.add(heard[0]);
        need(heard[0]);
      }
    }
  }
  return { devices: s.devices.filter((d) => want.has(d.name)), added: want.size - chosen.length };
}

const demote = (d) => {
  d.rpr_server = false;
  d.composition.elements[0].models = d.composition.elements[0].models.filter((m) => m !== hex4(RPR_SERVER_MODEL));
};

/**
 * Demote all servers but every keep-th (scenario order), then re-chain with bridges; a kept
 * server that no bridge can reach is demoted too (its devices may then go unheard: counted).
 */
function thinServers(s, keep) {
  let i = 0;
  for (const d of s.devices) {
    if (isServer(d) && i++ % keep !== 0) demote(d);
  }
  try {
    addBridges(s);
  } catch {
    const reach = reachableServers(s);
    for (const d of s.devices) if (isServer(d) && !reach.has(d.name)) demote(d);
  }
}

/**
 * One run: a fresh world on the edited scenario, one job over the chosen devices.
 * which: 'all' or 'subset'.
 */
async function measure(label, { which, sessions, links, keep = 1, hearS = HEAR_S, timeoutS = TIMEOUT_S, one = false }) {
  let info;
  const w = await startWorld({
    scenario: SCENARIO,
    debug: env('BENCH_GW_DEBUG', '0') === '1',
    gwConf: { ...PROFILES, max_sessions: sessions, max_local_links: links },
    editScenario: (s) => {
      s.air = { ...s.air, time_scale: TIME_SCALE };
      const before = new Set(s.devices.filter(isServer).map((d) => d.name));
      thinServers(s, keep);
      const bridges = s.devices.filter((d) => isServer(d) && !before.has(d.name));
      commissionable(s);
      const air = airModel(s);
      info = {
        servers: s.devices.filter(isServer).length,
        bridges: bridges.length,
        local: s.devices.filter((d) => air.inRange('port', d.name)).length,
      };
    },
  });
  try {
    const { devices, added } = which === 'all' ? { devices: w.scenario.devices, added: 0 } : subsetOf(w.scenario);
    if (added) console.log(`#   ${label}: ${added} servers added to the subset's manifest (the path to its devices)`);
    const t0 = Date.now();
    const air = airModel(w.scenario);
    const r = one
      ? await runOneAtATime(w, devices, serverWaves(w.scenario, air), { hearS })
      : await runJob(w, devices, {
        hearS, pollMs: POLL_MS, timeoutMs: timeoutS * 1000,
        log: VERBOSE ? (m) => console.log(`#   ${label}: ${m}`) : undefined,
      });
    const c = resultCounts(r.items);
    const row = { label, n: devices.length, sessions, links, timeoutS, ...info, ...r, ...c, total_s: (Date.now() - t0) / 1000 };
    printRow(row);
    // The machine is shared: the wall figures mean little without the load they ran under.
    console.log(`#   ${label}: load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')} (1, 5, 15 min)`);
    const ts = r.items.filter((x) => x.result === 'provisioned').map((x) => x.time_s).sort((a, b) => a - b);
    const q = (f) => (ts.length ? ts[Math.min(ts.length - 1, Math.floor(f * ts.length))].toFixed(1) : '-');
    const paths = r.items.filter((x) => x.result === 'provisioned' && x.path !== 'local').length;
    console.log(`#   ${label}: per device (the report's time_s, from when it was first heard) median ${q(0.5)} s, ` +
      `p90 ${q(0.9)} s, max ${q(1)} s; ${paths} through servers; ${r.items.reduce((a, x) => a + x.attempts, 0)} attempts`);
    for (const i of r.items.filter((x) => x.result === 'failed')) console.log(`#   ${label}: failed ${i.name}: ${i.error}`);
    return row;
  } finally {
    await w.close();
  }
}

const HEAD = 'run                   devs  sess links srv(br) local   prov  conf  fail unheard   wall_s   virt_s  dev/h_wall  dev/h_virt  pkts/dev  net/dev';
const perHour = (n, s) => (s > 0 ? (n * 3600 / s).toFixed(0) : '-');
function printRow(r) {
  const p = r.provisioned || 1;
  console.log(`${r.label.padEnd(20)} ${String(r.n).padStart(5)}  ${String(r.sessions).padStart(4)} ${String(r.links).padStart(5)} ` +
    `${`${r.servers}(${r.bridges})`.padStart(7)} ${String(r.local).padStart(5)}  ${String(r.provisioned).padStart(5)} ` +
    `${String(r.configured).padStart(5)} ${String(r.failed).padStart(5)} ${String(r.never_heard).padStart(7)}  ` +
    `${r.wall_s.toFixed(1).padStart(7)}  ${r.virt_s.toFixed(1).padStart(7)}  ${perHour(r.provisioned, r.wall_s).padStart(10)}  ` +
    `${perHour(r.provisioned, r.virt_s).padStart(10)}  ${(r.pkts_all / p).toFixed(0).padStart(8)}  ${(r.pkts_net / p).toFixed(0).padStart(7)}` +
    `${r.timedOut ? `  TIMED OUT after ${r.timeoutS} s (cancelled; figures to the last device that ended)` : ''}`);
}

// Interrupted: exit so that the harness's exit handler stops the worlds' meshsim and meshgw.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

console.log(`${SCENARIO}: real layout, time scale ${TIME_SCALE}, hear timeout ${HEAR_S} s (full run ${FULL_HEAR_S} s), subset ${SUBSET}, runs ${RUNS.join(',')}`);
console.log('(sess = max_sessions, links = max_local_links, srv(br) = servers (bridges added), local = devices the port hears;');
console.log(' times from the commission request to the last device that ended, polled every ' + `${POLL_MS} ms)`);
console.log(HEAD);
const started = Date.now();
const rows = {};
if (RUNS.includes('full')) rows.full = await measure('full, parallel', { which: 'all', sessions: SESSIONS, links: LINKS, hearS: FULL_HEAR_S, timeoutS: FULL_TIMEOUT_S });
if (RUNS.includes('subset')) rows.subset = await measure('subset, parallel', { which: 'subset', sessions: SESSIONS, links: LINKS });
if (RUNS.includes('one')) rows.one = await measure('subset, one at a time', { which: 'subset', sessions: 1, links: LINKS, one: true });
const scaling = [];
if (RUNS.includes('scaling')) {
  for (const v of SERVERS) {
    for (const links of LINKS_SCALE) {
      scaling.push(await measure(`servers ${v}, links ${links}`, { which: 'subset', sessions: SESSIONS, links, keep: KEEP[v] }));
    }
  }
  for (const sessions of SESSIONS_SCALE) {
    scaling.push(await measure(`sessions ${sessions}`, { which: 'subset', sessions, links: LINKS }));
  }
}

console.log('');
const { subset, one, full } = rows;
if (subset && one) {
  console.log(`subset (${subset.n} devices): parallel ${(one.virt_s / subset.virt_s).toFixed(2)}x over one at a time in virtual time ` +
    `(${(one.wall_s / subset.wall_s).toFixed(2)}x wall), measured`);
}
if (full && one && one.provisioned) {
  const perDev = one.virt_s / one.provisioned;
  const est = perDev * full.provisioned;
  console.log(`full (${full.provisioned} provisioned): one at a time EXTRAPOLATED from the subset's ${perDev.toFixed(2)} virtual s per device: ` +
    `~${est.toFixed(0)} virtual s, so parallel ~${(est / full.virt_s).toFixed(1)}x (an estimate: farther devices take longer one at a time)`);
}
console.log(`bench wall time: ${((Date.now() - started) / 1000).toFixed(0)} s`);
