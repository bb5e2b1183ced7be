// Benchmark (figures only, no thresholds): commissioning a whole scenario through meshgw's HTTP
// API, in its real layout (devices where the scenario puts them, behind chained Remote
// Provisioning Servers), by each available method side by side, each in its own meshsim +
// meshgw:
//
//   one at a time  POST /api/v1/provisioning with one device, waited for, then the next
//   parallel       the same devices, every server ring in one POST, then every other device
//                  in one POST (meshgw queues what exceeds its session limit)
//   commission     the commission job: a CSV manifest of every scenario device (uuid, name,
//                  auth, auth_value) uploaded, POST /api/v1/manifests/{id}/commission, the job
//                  polled (GET /api/v1/jobs/{id}) until every reachable device is done or the
//                  job ends; the job scans and chooses paths by itself
//
// Devices with Output or Input OOB get none in every method (a bulk job has no technician at
// each device, as in tests/integration/commission.test.mjs); static OOB values stay.
//
// Servers go first in both REST modes, ring by ring (harness serverWaves(): a server can only
// be provisioned through a server that is already a node); each other device goes through the
// provisioned server that hears it best, or over the gateway's own PB-ADV when the port hears
// it (a "local link"). Scenario devices relay as the scenario says.
//
// Printed per method: devices provisioned and configured (session "done"), RPR servers among
// them, local links, wall time and virtual time (meshsim's clock: `ctl stats` time_us),
// devices/hour on each, and the packets put on the air meanwhile per device (all, and network
// PDUs alone); then the nodes that put the most network packets on the air.
//
//   BUILD_DIR=build node bench/commission.mjs [scenario ...]   (default office.json)
//   BENCH_MODES=one,parallel,commission  to choose methods (default: all three)
//   BENCH_GW='key = value; ...'  extra meshgw.conf lines for every method
//   BENCH_TIME_SCALE=2  meshsim's clock faster than real time (default 1)
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, airModel, serverWaves, addBridges, root } from '../tests/integration/harness.mjs';

const SCENARIOS = process.argv.slice(2).length ? process.argv.slice(2) : ['office.json'];
const LONG = 3600000;
const haveCommission = fs.readFileSync(path.join(root, 'openapi.yaml'), 'utf8')
  .includes('/api/v1/manifests/{id}/commission');
const MODES = (process.env.BENCH_MODES || 'one,parallel,commission').split(',')
  .filter((m) => m !== 'commission' || haveCommission);
const GW_CONF = Object.fromEntries((process.env.BENCH_GW || '').split(';').map((kv) => kv.split('='))
  .filter((kv) => kv.length === 2).map(([k, v]) => [k.trim(), v.trim()]));

async function stats(w) {
  return JSON.parse(await w.ctl('stats'));
}

/**
 * The provisioning plan: server rings, then every other device with the server that hears it
 * best among the servers, or null for the gateway's own PB-ADV. Devices nobody hears are left.
 */
function planOf(sc) {
  const air = airModel(sc);
  const waves = serverWaves(sc, air);
  const servers = new Set(waves.flat().map((x) => x.name));
  const rest = [];
  for (const d of sc.devices) {
    if (servers.has(d.name)) continue;
    if (air.inRange('port', d.name)) {
      rest.push({ name: d.name, via: null });
      continue;
    }
    const heard = [...servers].filter((s) => air.inRange(s, d.name))
      .sort((a, b) => air.dbm(b, d.name) - air.dbm(a, d.name));
    if (heard.length) rest.push({ name: d.name, via: heard[0] });
  }
  return { waves, rest, unreachable: sc.devices.length - servers.size - rest.length };
}

/**
 * POSTs one batch ({name, via}) and waits for every session to end; addr: name -> address of
 * the done ones, failed: name -> error. A device behind a server that failed is left out.
 */
async function batch(w, addr, failed, list) {
  const devs = list.filter((x) => !x.via || addr[x.via]).map((x) => ({
    uuid: w.device(x.name).uuid, name: x.name, auth: w.authFor(x.name), ...(x.via ? { server: addr[x.via] } : {}),
  }));
  for (const x of list) if (x.via && !addr[x.via]) failed[x.name] = `server ${x.via} failed`;
  const sessions = [];
  // One request takes at most 32 devices: the batch goes as several, all posted before waiting.
  for (let i = 0; i < devs.length; i += 32) {
    const body = { devices: devs.slice(i, i + 32) };
    sessions.push(...(await w.ok('POST', '/api/v1/provisioning', { token: w.tokens.operator, body }, [202])).sessions);
  }
  await Promise.all(sessions.map(async (sess) => {
    try {
      addr[sess.name] = (await w.completeSession(sess, { timeout: LONG })).address;
    } catch (e) {
      failed[sess.name] = e.message;
    }
  }));
}

async function runRest(w, plan, oneAtATime) {
  const addr = {};
  const failed = {};
  const groups = [...plan.waves, plan.rest].filter((g) => g.length);
  for (const g of groups) {
    if (oneAtATime) {
      for (const x of g) await batch(w, addr, failed, [x]);
    } else {
      await batch(w, addr, failed, g);
    }
  }
  for (const [n, e] of Object.entries(failed)) console.log(`#   failed: ${n}: ${e}`);
  return { n: Object.keys(addr).length, failed: Object.keys(failed).length };
}

/** The manifest of every scenario device: CSV, the auth each one's box states. */
function manifestCsv(devices) {
  const rows = ['uuid,name,auth,auth_value'];
  for (const d of devices) {
    const st = d.oob && d.oob.static;
    rows.push([d.uuid, d.name, st ? 'static' : 'none', st || ''].join(','));
  }
  return rows.join('\r\n') + '\r\n';
}

/**
 * The commission job over a manifest of every device; waits until the devices the plan
 * reaches are all done (or failed), or the job ends (a device never heard holds the job for
 * its hear timeout, which is not the job's speed).
 */
async function runCommission(w, plan) {
  const reachable = plan.waves.flat().length + plan.rest.length;
  const m = await w.ok('POST', '/api/v1/manifests', {
    token: w.tokens.operator, raw: manifestCsv(w.scenario.devices), headers: { 'Content-Type': 'text/csv' },
  }, [201]);
  const { job } = await w.ok('POST', `/api/v1/manifests/${m.id}/commission`,
    { token: w.tokens.operator, body: {} }, [202]);
  let j;
  for (;;) {
    j = await w.ok('GET', `/api/v1/jobs/${job}`, { token: w.tokens.viewer });
    if (j.state === 'done' || j.state === 'cancelled' || j.counts.done + j.counts.failed >= reachable) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const rep = await w.ok('GET', `/api/v1/jobs/${job}/report`, { token: w.tokens.viewer });
  const bad = rep.items.filter((i) => i.result !== 'provisioned');
  for (const i of bad) console.log(`#   ${i.result}: ${i.name}: ${i.error}`);
  return { n: j.counts.done, failed: j.counts.failed };
}

async function measure(scenario, mode) {
  let plan;
  const w = await startWorld({
    scenario,
    gwConf: GW_CONF,
    editScenario: (s) => {
      s.air = { ...s.air, time_scale: Number(process.env.BENCH_TIME_SCALE || 1) };
      addBridges(s);
      for (const d of s.devices) if (d.oob && (d.oob.output || d.oob.input)) delete d.oob;
      plan = planOf(s);
    },
  });
  try {
    const a = await stats(w);
    const t0 = performance.now();
    const { n, failed } = mode === 'commission' ? await runCommission(w, plan) : await runRest(w, plan, mode === 'one');
    const wall = (performance.now() - t0) / 1000;
    const b = await stats(w);
    const virt = (b.time_us - a.time_us) / 1e6;
    const pk = (k) => b.total[k].packets - a.total[k].packets;
    const top = b.participants.map((p, i) => ({
      name: p.name, net: p.airtime.network.packets - (a.participants[i]?.airtime.network.packets ?? 0),
    })).sort((x, y) => y.net - x.net).slice(0, 5);
    const port = top.length && b.participants.find((p) => p.name.startsWith('native:'));
    console.log(`#   ${mode}: most network packets: ${top.map((t) => `${t.name} ${t.net}`).join(', ')}; ` +
      `the gateway's own: ${port ? port.airtime.network.packets - (a.participants.find((p) => p.name.startsWith('native:'))?.airtime.network.packets ?? 0) : '?'}; ` +
      `classes: ${['pb_adv', 'network', 'beacon', 'other'].map((k) => `${k} ${pk(k)}`).join(', ')}`);
    return {
      mode, n, failed, servers: plan.waves.flat().length, local: plan.waves[0].length + plan.rest.filter((x) => !x.via).length,
      unreachable: plan.unreachable, wall, virt,
      per_dev_all: pk('all') / n, per_dev_net: pk('network') / n,
    };
  } finally {
    await w.close();
  }
}

const names = { one: 'one at a time', parallel: 'parallel', commission: 'commission job' };
for (const sc of SCENARIOS) {
  console.log(`\n${sc}: real layout; methods: ${MODES.map((m) => names[m]).join(', ')}` +
    (haveCommission ? '' : ' (no commission route in this build)'));
  console.log('method          devices  failed  servers  local  unreached   wall_s   virt_s  dev/h_wall  dev/h_virt  pkts/dev  net_pkts/dev');
  const rows = [];
  for (const m of MODES) {
    const r = await measure(sc, m);
    rows.push(r);
    console.log(`${names[m].padEnd(15)} ${String(r.n).padStart(7)}  ${String(r.failed).padStart(6)}  ${String(r.servers).padStart(7)}  ` +
      `${String(r.local).padStart(5)}  ${String(r.unreachable).padStart(9)}  ${r.wall.toFixed(1).padStart(7)}  ` +
      `${r.virt.toFixed(1).padStart(7)}  ${(r.n / (r.wall / 3600)).toFixed(0).padStart(10)}  ` +
      `${(r.n / (r.virt / 3600)).toFixed(0).padStart(10)}  ${r.per_dev_all.toFixed(0).padStart(8)}  ` +
      `${r.per_dev_net.toFixed(0).padStart(12)}`);
  }
  const base = rows.find((r) => r.mode === 'one');
  for (const r of rows) {
    if (r !== base && base) console.log(`${names[r.mode]}: ${(base.virt / r.virt).toFixed(2)}x over one at a time (virtual time)`);
  }
}
