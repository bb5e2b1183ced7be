// Benchmark (figures only, no thresholds): do a zone's switch presses reach its lights after
// the commission job has planned the relays?  sim/scenarios/office.json as the integration
// tests use it (tests/integration/lib/office.mjs: a zone per floor half, lights and switches
// by name), commissioned by one job from a CSV manifest with zones; then every zone's switches
// are pressed on and off, BENCH_ROUNDS times each, and every light of the zone is read back
// from meshsim.
//
// Printed per build, side by side (BENCH_BUILDS: build directories, the first is the one under
// test, the others its baselines; default BUILD_DIR or build/): the job's wall and virtual
// time, network packets per device during the job, the nodes that relay when it ends (meshsim's
// saved state), and the presses: lights that missed a press within BENCH_PRESS_MS of wall
// time (then the switch is pressed again until they follow, not counted), by distance.
//
//   node bench/zones.mjs
//   BENCH_BUILDS="build /tmp/base/build" BENCH_ROUNDS=10 node bench/zones.mjs
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.BENCH_ROUNDS || 8);
const PRESS_MS = Number(process.env.BENCH_PRESS_MS || 3000);
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE || 2);
const self = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(self), '..');

async function one() {
  const { startWorld, waitFor } = await import('../tests/integration/harness.mjs');
  const { profileOf, zoneOf, officeScenario, OFFICE_GW_CONF, manifestCsv } = await import('../tests/integration/lib/office.mjs');
  const w = await startWorld({ scenario: 'office.json', editScenario: officeScenario(TIME_SCALE), gwConf: OFFICE_GW_CONF });
  try {
    const devices = w.scenario.devices;
    const stats = async () => JSON.parse(await w.ctl('stats'));
    const a = await stats();
    const t0 = performance.now();
    const m = await w.ok('POST', '/api/v1/manifests', { token: w.tokens.operator, raw: manifestCsv(devices), headers: { 'Content-Type': 'text/csv' } }, [201]);
    const { job } = await w.ok('POST', `/api/v1/manifests/${m.id}/commission`, { token: w.tokens.operator, body: {} }, [202]);
    const j = await waitFor(async () => {
      const x = await w.ok('GET', `/api/v1/jobs/${job}`, { token: w.tokens.viewer });
      return x.state === 'done' && x;
    }, { timeout: 900000, interval: 1000, what: `job ${job} done` });
    const wall = (performance.now() - t0) / 1000;
    const b = await stats();
    const saved = path.join(w.dir, 'after-job.json');
    await w.ctl(`save ${saved}`);
    const state = JSON.parse(fs.readFileSync(saved, 'utf8'));
    const relayOf = (o) => {
      if (!o || typeof o !== 'object') return undefined;
      if (typeof o.relay === 'boolean') return o.relay;
      for (const v of Object.values(o)) {
        const r = relayOf(v);
        if (r !== undefined) return r;
      }
      return undefined;
    };
    const relays = Object.values(state.devices || {}).filter((st) => relayOf(st) === true).length;
    fs.rmSync(saved, { force: true }); // the devices' keys

    const lights = devices.filter((d) => profileOf(d.name) === 'light');
    const zones = [...new Set(devices.map((d) => zoneOf(d.name)))].sort();
    const onoff = async () => Object.fromEntries(await Promise.all(lights.map(async (d) =>
      [d.name, (await w.dev(d.name, 'onoff')).split(' ').map((x) => x.endsWith(':on'))])));
    let presses = 0;
    let deliveries = 0;
    let missed = 0;
    const missedBy = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const zone of zones) {
        const mine = lights.filter((d) => zoneOf(d.name) === zone).map((d) => d.name);
        for (const sw of devices.filter((d) => profileOf(d.name) === 'switch' && zoneOf(d.name) === zone)) {
          if (!mine.length) continue;
          for (const v of [true, false]) {
            const follows = (s) => mine.filter((n) => s[n].every((x) => x === v));
            await w.dev(sw.name, 'press', v ? 'on' : 'off');
            presses++;
            deliveries += mine.length;
            let s = await onoff();
            const t = performance.now();
            while (follows(s).length < mine.length && performance.now() - t < PRESS_MS) {
              await new Promise((res) => setTimeout(res, 50));
              s = await onoff();
            }
            const late = mine.filter((n) => !s[n].every((x) => x === v));
            missed += late.length;
            for (const n of late) missedBy[`${sw.name}->${n}`] = (missedBy[`${sw.name}->${n}`] || 0) + 1;
            for (let k = 0; k < 20 && late.length && follows(s).length < mine.length; k++) {
              await w.dev(sw.name, 'press', v ? 'on' : 'off');
              await new Promise((res) => setTimeout(res, 300));
              s = await onoff();
            }
          }
        }
      }
    }
    return {
      done: j.counts.done, failed: j.counts.failed ?? 0, wall, virt: (b.time_us - a.time_us) / 1e6,
      net_per_dev: (b.total.network.packets - a.total.network.packets) / devices.length,
      relays, devices: devices.length, presses, deliveries, missed,
      worst: Object.entries(missedBy).sort((x, y) => y[1] - x[1]).slice(0, 3).map(([k, n]) => `${k} ${n}`),
    };
  } finally {
    await w.close();
  }
}

if (process.argv[2] === '--one') {
  const r = await one();
  console.log(`RESULT ${JSON.stringify(r)}`);
} else {
  const builds = (process.env.BENCH_BUILDS || process.env.BUILD_DIR || 'build').split(/\s+/).filter(Boolean);
  console.log(`office.json, zones by floor half; ${ROUNDS} rounds of on and off per switch; a light is late after ${PRESS_MS} ms; meshsim time x${TIME_SCALE}`);
  console.log('build                          done failed  job_wall_s  job_virt_s  net_pkts/dev  relays  presses  deliveries  missed');
  for (const b of builds) {
    const p = spawnSync(process.execPath, [self, '--one'], {
      cwd: root, env: { ...process.env, BUILD_DIR: path.resolve(root, b) }, encoding: 'utf8', maxBuffer: 1 << 26,
    });
    const line = (p.stdout || '').split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) {
      console.log(`${b}: failed (exit ${p.status}): ${(p.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
      continue;
    }
    const r = JSON.parse(line.slice(7));
    console.log(`${b.slice(-30).padEnd(30)} ${String(r.done).padStart(5)} ${String(r.failed).padStart(6)}  ` +
      `${r.wall.toFixed(1).padStart(10)}  ${r.virt.toFixed(1).padStart(10)}  ${r.net_per_dev.toFixed(0).padStart(12)}  ` +
      `${String(r.relays).padStart(6)}  ${String(r.presses).padStart(7)}  ${String(r.deliveries).padStart(10)}  ${String(r.missed).padStart(6)}` +
      (r.worst.length ? `   most missed: ${r.worst.join(', ')}` : ''));
  }
}
