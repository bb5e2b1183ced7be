// sim/scenarios/office.json as the commission tests use it (commission.test.mjs through REST,
// web13.test.mjs through the page): the scenario's edits, the profiles and zones of its
// devices, the CSV manifest, and a reader for the CSV report.
import assert from 'node:assert/strict';
import { addBridges } from '../harness.mjs';

export const profileOf = (name) => (name.includes('-light-') ? 'light' : name.includes('-switch-') ? 'switch' : 'none');
// Zones: each floor's west and east halves; quotes and a comma for the CSV's sake.
export const zoneOf = (name) => `floor ${name.slice(1, 2)}, "${Number(name.split('-')[2]) < 5 ? 'west' : 'east'}"`;

// The gateway's configuration for the profiles above.
export const OFFICE_GW_CONF = {
  'profile.light': 'appkeys 0; models 0x1000',
  'profile.switch': 'appkeys 0; models 0x1001',
  max_sessions: 16,
};

/**
 * The test's copy of the scenario, meshsim's clock timeScale times real time:
 *   - addBridges() (harness): the servers that no nearer server hears get a bridge, as in
 *     rpr.test.mjs, so that every device can be reached ring by ring;
 *   - devices with Output/Input OOB get none (a bulk job has no technician at each device;
 *     static OOB values stay and travel sealed in the manifest).
 */
export function officeScenario(timeScale) {
  return (s) => {
    s.air = { ...s.air, time_scale: timeScale };
    const promoted = addBridges(s);
    if (promoted.length) console.log(`# bridges promoted to servers: ${promoted.join(', ')}`);
    for (const d of s.devices) {
      if (d.oob && (d.oob.output || d.oob.input)) delete d.oob;
    }
  };
}

export const csvCell = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The CSV manifest of devices (name, zone, profile, static OOB), then extra rows as given. */
export function manifestCsv(devices, extra = []) {
  const rows = ['uuid,name,zone,profile,auth,auth_value'];
  for (const d of devices) {
    const st = d.oob && d.oob.static;
    rows.push([d.uuid, d.name, zoneOf(d.name), profileOf(d.name), st ? 'static' : 'none', st || '']
      .map(csvCell).join(','));
  }
  for (const r of extra) rows.push(r.map(csvCell).join(','));
  return rows.join('\r\n') + '\r\n';
}

/** RFC 4180 records of text (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text) {
  const out = [];
  let row = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (q) {
      if (ch === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (ch === '"') q = false; else f += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') { row.push(f); f = ''; } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(f); out.push(row); row = []; f = ''; i++;
    } else f += ch;
  }
  assert.equal(row.length + f.length, 0, 'the CSV ends with CRLF');
  return out;
}

export const REPORT_CSV_HEADER = ['uuid', 'name', 'zone', 'address', 'path', 'attempts', 'time_s', 'result', 'error'];

/** Checks the CSV report's records against the JSON report's items, row by row. */
export function checkReportCsv(text, rep) {
  const rows = parseCsv(text);
  assert.deepEqual(rows[0], REPORT_CSV_HEADER);
  assert.equal(rows.length, rep.items.length + 1);
  rep.items.forEach((it, i) => {
    const r = rows[i + 1];
    assert.equal(r[0], it.uuid);
    assert.equal(r[1], it.name ?? '');
    assert.equal(r[2], it.zone ?? '');
    assert.equal(r[3], it.address === null ? '' : `0x${it.address.toString(16).padStart(4, '0')}`);
    assert.equal(r[4], it.path === null ? '' : it.path === 'local' ? 'local' : `0x${it.path.toString(16).padStart(4, '0')}`);
    assert.equal(Number(r[5]), it.attempts);
    assert.equal(r[7], it.result);
  });
  return rows;
}
