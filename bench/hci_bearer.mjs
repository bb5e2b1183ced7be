// Benchmark (figures only, no thresholds): provisioning through meshgw's HTTP API on its
// three radios, side by side in one run: the direct sim bearer (the baseline: meshgw on
// meshsim's native port), and the HCI bearer (`bearer = uart:PATH`) on meshsim's virtual
// controller as a legacy-only 4.2 controller (one advertising set, multiplexed) and as a
// 5.x controller with 4 extended advertising sets.  For each it provisions one device,
// then 8 devices at once (devices in direct range of the gateway in
// sim/scenarios/office.json, No OOB / Static OOB first, time scale 1: real time), and prints the time from POST
// /provisioning until every session is "done" (provisioned and configured), and the
// packets put on the air meanwhile: by the gateway's radio alone, and in all (`meshsim
// ctl stats` before and after; the other devices' beacons go on all the time).
//
//   BUILD_DIR=build node bench/hci_bearer.mjs [runs, default 1]
//   BENCH_BEARERS=sim,hci-ext ...     a subset of the bearers
import { startWorld, airModel, waitFor } from '../tests/integration/harness.mjs';

const runs = Math.max(1, parseInt(process.argv[2] || '1', 10));
const BEARERS = (process.env.BENCH_BEARERS || 'sim,hci-legacy,hci-ext').split(",");

async function stats(w) {
  return JSON.parse(await w.ctl('stats'));
}

/** Packets the gateway's radio sent: the native participant (sim) or the controller (hci). */
function gwPackets(s, bearer) {
  const want = bearer === 'sim' ? (p) => p.name.startsWith('native:') : (p) => p.name.startsWith('hci:');
  return s.participants.filter(want).reduce((n, p) => n + p.airtime.all.packets, 0);
}

async function measure(w, bearer, names) {
  const before = await stats(w);
  const t0 = performance.now();
  await w.provision(names, { timeout: 300000 });
  const ms = performance.now() - t0;
  const after = await stats(w);
  return {
    ms,
    gw: gwPackets(after, bearer) - gwPackets(before, bearer),
    pb_adv: after.total.pb_adv.packets - before.total.pb_adv.packets,
    all: after.total.all.packets - before.total.all.packets,
  };
}

/*
 * office.json has only 4 devices in the gateway's direct range: the first 9 devices with
 * No OOB or Static OOB (no person in the loop) that are not Remote Provisioning Servers
 * are moved onto a 6 m circle around the gateway, on its floor (names in `gathered`).
 */
let gathered = [];
function gather(s) {
  const p = s.ports.native.position;
  const picked = s.devices.filter((d) => !d.rpr_server && (!d.oob || (!d.oob.output && !d.oob.input))).slice(0, 9);
  if (picked.length < 9) throw new Error('office.json has fewer than 9 No OOB / Static OOB devices');
  picked.forEach((d, i) => {
    const a = (2 * Math.PI * i) / picked.length;
    d.position = { x: p.x + 6 * Math.cos(a), y: p.y + 6 * Math.sin(a), z: p.z };
  });
  gathered = picked.map((d) => d.name);
}

const rows = [];
for (let run = 0; run < runs; run++) {
  for (const bearer of BEARERS) {
    const w = await startWorld({ scenario: 'office.json', bearer, debug: false, editScenario: gather });
    try {
      const air = airModel(w.scenario);
      const near = gathered;
      if (!near.every((n) => air.hops[n] === 1)) throw new Error('a gathered device is out of the gateway\'s range');
      // The gateway has started scanning and sending its beacons: let the radio settle.
      await waitFor(async () => (await w.api('GET', '/healthz')).body.bearer === true, { what: 'bearer ready' });
      const one = await measure(w, bearer, near.slice(0, 1));
      const eight = await measure(w, bearer, near.slice(1, 9));
      const st = (await w.api('GET', '/healthz')).body.bearer_state || {};
      rows.push({ bearer, run, one, eight, ctrl: st.controller ? `${st.controller.advertising} x${st.controller.advertising_sets}` : '-' });
    } finally {
      await w.close();
    }
  }
}

console.log(`provisioning through meshgw HTTP on office.json (time scale 1), ${runs} run(s); baseline: sim bearer`);
console.log('packets: gw = sent by the gateway\'s radio, pb_adv / all = everything on the air meanwhile');
console.log('bearer      run  controller        1 device: ms   gw  pb_adv   all |  8 at once: ms    gw  pb_adv   all');
for (const r of rows) {
  const f = (m, w) => `${m.ms.toFixed(0).padStart(w)} ${String(m.gw).padStart(5)} ${String(m.pb_adv).padStart(7)} ${String(m.all).padStart(5)}`;
  console.log(`${r.bearer.padEnd(11)} ${String(r.run).padStart(3)}  ${r.ctrl.padEnd(16)} ${f(r.one, 13)} | ${f(r.eight, 14)}`);
}
