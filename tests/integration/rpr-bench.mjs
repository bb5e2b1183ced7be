// Benchmark (figures only, no thresholds): one remote provisioning through
// meshgw's HTTP API at 1, 2 and 3 radio hops from the gateway's port, in
// sim/scenarios/office.json at its own time scale (1.0: real time).  For each
// it prints the time from POST /provisioning to the end of the provisioning
// protocol (session "configuring"), to the end of the automatic configuration
// (session "done"), and the packets and bytes put on the air meanwhile
// (`meshsim ctl stats` before and after), by class.  Unprovisioned Device
// beacons of the other devices go on all the time; they are shown apart.
//
//   BUILD_DIR=build node tests/integration/rpr-bench.mjs [runs per hop count, default 1]
//
// Hops are counted as in harness.mjs airModel(): radio hops from the port to
// the device.  A first row provisions a 1-hop device over the gateway's own
// PB-ADV for comparison.  1 hop: a device the gateway hears itself, provisioned through
// the Remote Provisioning Server next to the gateway anyway (PB-Remote forced
// by "server"); 2 hops: a device out of the gateway's range behind that
// server; 3 hops: a device behind a server that is itself 2 hops away.
import { startWorld, airModel, serverWaves, waitFor, hex4 } from './harness.mjs';

const runs = Math.max(1, parseInt(process.argv[2] || '1', 10));

const w = await startWorld({ scenario: 'office.json' });
const op = w.tokens.operator;
const air = airModel(w.scenario);
const addr = {};

async function stats() {
  const s = JSON.parse(await w.ctl('stats'));
  return s.total;
}

function diff(a, b) {
  const out = {};
  for (const k of ['pb_adv', 'network', 'beacon', 'other', 'all']) {
    out[k] = { packets: b[k].packets - a[k].packets, bytes: b[k].bytes - a[k].bytes };
  }
  return out;
}

/** Provisions one device and measures it; server: a name or null (local PB-ADV). */
async function measured(name, server) {
  const before = await stats();
  const t0 = performance.now();
  const body = {
    devices: [{ uuid: w.device(name).uuid, name, auth: w.authFor(name), ...(server ? { server: addr[server] } : {}) }],
  };
  const r = await w.ok('POST', '/api/v1/provisioning', { token: op, body }, [202]);
  const sess = r.sessions[0];
  let tProv = null;
  const driver = w.completeSession(sess, { timeout: 300000 });
  // Poll the state meanwhile to time the end of the provisioning protocol.
  await waitFor(async () => {
    const s = await w.session(sess.id);
    if (tProv === null && ['configuring', 'done'].includes(s.state)) tProv = performance.now();
    return s.state === 'done' || s.state === 'failed';
  }, { timeout: 300000, interval: 20, what: `${name} done` });
  const done = await driver;
  const tDone = performance.now();
  const after = await stats();
  addr[name] = done.address;
  return { prov_ms: tProv - t0, total_ms: tDone - t0, air: diff(before, after), via: done.via };
}

async function relayOn(name) {
  const r = await w.ok('POST', `/api/v1/nodes/${addr[name]}/config`, { token: op, body: { op: 'relay_set', enabled: true } });
  if (r.status !== 0) throw new Error(`relay_set ${name}: ${JSON.stringify(r)}`);
}

/** Unprovisioned non-server devices with No OOB or Static OOB (no person in the loop), by filter. */
const chosen = new Set();
function pick(filter, n) {
  const out = [];
  for (const d of w.scenario.devices) {
    if (out.length === n) break;
    if (d.rpr_server || d.name in addr || chosen.has(d.name)) continue;
    if (!['none', 'static'].includes(w.authFor(d.name).method)) continue;
    if (filter(d.name)) {
      out.push(d.name);
      chosen.add(d.name);
    }
  }
  if (out.length < n) throw new Error('not enough devices for the benchmark');
  return out;
}

try {
  // Setup (not measured): the server next to the gateway, and one on the floor above it.
  const waves = serverWaves(w.scenario);
  const s1 = waves[0][0].name;
  await w.provision([s1]);
  addr[s1] = (await w.ok('GET', '/api/v1/nodes?limit=1000', { token: w.tokens.viewer })).items
    .find((n) => n.uuid === w.device(s1).uuid).address;
  await relayOn(s1);
  const s2 = waves[1].find((x) => x.via === s1 && air.hops[x.name] === 2).name;
  const r2 = await w.provision([{ name: s2, server: addr[s1] }]);
  addr[s2] = r2.done[0].address;
  await relayOn(s2);

  const cases = [
    // Baseline: the gateway's own PB-ADV, no server in between.
    { hops: 1, server: null, devs: pick((n) => air.hops[n] === 1, runs) },
    { hops: 1, server: s1, devs: pick((n) => air.hops[n] === 1 && air.inRange(s1, n), runs) },
    { hops: 2, server: s1, devs: pick((n) => air.hops[n] === 2 && air.inRange(s1, n) && !air.inRange('port', n), runs) },
    { hops: 3, server: s2, devs: pick((n) => air.hops[n] === 3 && air.inRange(s2, n), runs) },
  ];
  console.log('remote provisioning through meshgw HTTP, office.json, time scale ' +
    `${w.scenario.air.time_scale ?? 1}, ${runs} run(s) per hop count`);
  console.log('(nodes: nodes in the network before the run; every relay among them repeats network PDUs)');
  console.log('hops  device            server (hops)               auth   nodes  prov_ms  total_ms  pb_adv pkts/bytes  network pkts/bytes  beacon pkts  all pkts');
  for (const c of cases) {
    for (const name of c.devs) {
      const nodes = Object.keys(addr).length;
      const m = await measured(name, c.server);
      const a = m.air;
      const via = c.server ? `${c.server} ${hex4(m.via)} (${air.hops[c.server]})` : '(local PB-ADV)';
      console.log(`${String(c.hops).padEnd(5)} ${name.padEnd(17)} ${via.padEnd(27)} ` +
        `${w.authFor(name).method.padEnd(6)} ${String(nodes).padStart(5)}  ${m.prov_ms.toFixed(0).padStart(7)}  ${m.total_ms.toFixed(0).padStart(8)}  ` +
        `${`${a.pb_adv.packets}/${a.pb_adv.bytes}`.padStart(18)}  ${`${a.network.packets}/${a.network.bytes}`.padStart(18)}  ` +
        `${String(a.beacon.packets).padStart(11)}  ${String(a.all.packets).padStart(8)}`);
    }
  }
} finally {
  await w.close();
}
