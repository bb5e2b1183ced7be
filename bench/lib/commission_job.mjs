// Shared by the commission benches: a scenario's devices as a manifest, and one commission job
// (POST /api/v1/manifests, then POST /api/v1/manifests/{id}/commission) run to its end and
// measured on meshgw's wall clock and meshsim's virtual clock (`ctl stats` time_us).
//
// A bulk job has no technician at each device: scenario devices with Output or Input OOB lose
// it (commissionable()), static OOB values travel in the manifest.

/** The configuration profiles the manifest rows name (meshgw.conf profile.NAME). */
export const PROFILES = {
  'profile.light': 'appkeys 0; models 0x1000',
  'profile.switch': 'appkeys 0; models 0x1001',
};

export const profileOf = (name) => (name.includes('-light-') ? 'light' : name.includes('-switch-') ? 'switch' : 'none');
/** A zone per floor and half of the floor plan (gen.py names: f<floor>-<kind>-<col>-<row>). */
export const zoneOf = (name) => `floor ${name.slice(1, 2)} ${Number(name.split('-')[2]) < 10 ? 'west' : 'east'}`;

/** Scenario edit: devices keep only the authentication a manifest can carry. */
export function commissionable(s) {
  for (const d of s.devices) {
    if (d.oob && (d.oob.output || d.oob.input)) delete d.oob;
  }
}

const csvCell = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The manifest (CSV, RFC 4180) of these scenario devices, in their order. */
export function manifestCsv(devices) {
  const rows = ['uuid,name,zone,profile,auth,auth_value'];
  for (const d of devices) {
    const st = d.oob && d.oob.static;
    rows.push([d.uuid, d.name, zoneOf(d.name), profileOf(d.name), st ? 'static' : 'none', st || '']
      .map(csvCell).join(','));
  }
  return rows.join('\r\n') + '\r\n';
}

async function simStats(w) {
  const s = JSON.parse(await w.ctl('stats'));
  return { time_us: s.time_us, all: s.total.all.packets, network: s.total.network.packets };
}

/**
 * Uploads the manifest of `devices`, commissions it in one job and polls the job every
 * pollMs until it is done (or timeoutMs passed: then it is cancelled and `timedOut` set).
 * Returns {job, items (the report's), wall_s, virt_s, pkts_all, pkts_net, configured, timedOut}
 * where wall_s/virt_s run from the commission request to the first poll that saw the last
 * device that ended provisioned or failed (not "never heard", whose end is only the hear
 * timeout), and pkts_* are the packets put on the air over that same span.  Precision: one
 * poll interval.
 */
export async function runJob(w, devices, { hearS = 120, pollMs = 2000, timeoutMs = 3600000, log = () => {} } = {}) {
  const op = w.tokens.operator;
  const m = await w.ok('POST', '/api/v1/manifests',
    { token: op, raw: manifestCsv(devices), headers: { 'Content-Type': 'text/csv' } }, [201]);
  const a = await simStats(w);
  const t0 = performance.now();
  const { job } = await w.ok('POST', `/api/v1/manifests/${m.id}/commission`,
    { token: op, body: { hear_timeout_s: hearS } }, [202]);
  let ended = -1;
  let mark = { wall: 0, s: a };
  let timedOut = false;
  for (;;) {
    await new Promise((r) => setTimeout(r, pollMs));
    const j = await w.ok('GET', `/api/v1/jobs/${job}`, { token: w.tokens.viewer });
    let s = null;
    try {
      s = await simStats(w);
    } catch (e) {
      // meshsim too busy to answer within the control client's timeout: the next poll marks.
      log(`job ${job}: meshsim stats: ${e.message.split('\n')[0]}`);
    }
    const wall = (performance.now() - t0) / 1000;
    // Targets that ended other than unheard: a failure to hear ends only at the hear timeout.
    const n = j.targets.filter((t) => t.state === 'done' ||
      (t.state === 'failed' && !(t.error || '').startsWith('never heard'))).length;
    if (s && n !== ended) {
      ended = n;
      mark = { wall, s };
      log(`job ${job} at ${wall.toFixed(0)} s: ${JSON.stringify(j.counts)}`);
    }
    if (j.state === 'done') break;
    if (wall * 1000 > timeoutMs) {
      timedOut = true;
      await w.api('POST', `/api/v1/jobs/${job}/cancel`, { token: op, validate: false });
      break;
    }
  }
  const rep = await w.ok('GET', `/api/v1/jobs/${job}/report`, { token: w.tokens.viewer });
  const nodes = (await w.ok('GET', '/api/v1/nodes?limit=1000', { token: w.tokens.viewer })).items;
  return {
    job,
    items: rep.items,
    wall_s: mark.wall,
    virt_s: (mark.s.time_us - a.time_us) / 1e6,
    pkts_all: mark.s.all - a.all,
    pkts_net: mark.s.network - a.network,
    configured: nodes.filter((x) => x.state === 'configured').length,
    timedOut,
  };
}

/** Counts of the report's results: {provisioned, failed, never_heard, pending, cancelled}. */
export function resultCounts(items) {
  const c = { provisioned: 0, failed: 0, never_heard: 0, pending: 0, cancelled: 0 };
  for (const i of items) c[i.result] = (c[i.result] || 0) + 1;
  return c;
}

/**
 * The same devices one at a time: one commission job per device (a manifest of one row),
 * waited for, then the next: the gateway's own procedure (scan, path, provisioning,
 * configuration by the row's profile, Default TTL, relay and zone steps) without the
 * parallelism of one job over all of them.  Servers first, ring by ring (waves: harness
 * serverWaves() of the scenario, kept to these devices), then the others in scenario order.
 * Jobs are polled every pollMs (the end of each is seen that much late at most).  Returns what
 * runJob() returns over the whole sequence (items: each job's report row).
 *
 * Not REST POST /api/v1/provisioning one device at a time: that configures a node without
 * setting its Default TTL first, and on building.json a node more hops away than its factory
 * Default TTL reaches never gets its Composition Data Status to the gateway (the first try of
 * this baseline failed so from about 8 hops on).
 */
export async function runOneAtATime(w, devices, waves, { hearS = 120, pollMs = 100, timeoutMs = 600000 } = {}) {
  const byName = new Map(devices.map((d) => [d.name, d]));
  const first = waves.flat().map((x) => x.name).filter((n) => byName.has(n));
  const order = [...first, ...devices.map((d) => d.name).filter((n) => !first.includes(n))];
  const items = [];
  let timedOut = false;
  const a = await simStats(w);
  const t0 = performance.now();
  for (const name of order) {
    const r = await runJob(w, [byName.get(name)], { hearS, pollMs, timeoutMs });
    items.push(...r.items);
    timedOut ||= r.timedOut;
  }
  const wall = (performance.now() - t0) / 1000;
  const s = await simStats(w);
  const nodes = (await w.ok('GET', '/api/v1/nodes?limit=1000', { token: w.tokens.viewer })).items;
  return {
    items,
    wall_s: wall,
    virt_s: (s.time_us - a.time_us) / 1e6,
    pkts_all: s.all - a.all,
    pkts_net: s.network - a.network,
    configured: nodes.filter((n) => n.state === 'configured').length,
    timedOut,
  };
}
