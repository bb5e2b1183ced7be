// meshgw commissioning page: the helpers every view uses (DOM building, text for
// addresses, UUIDs, times, certificates and model names, busy buttons, polling, paged
// lists).  Gateway data is only ever inserted as text, never as markup.

import { ApiError, getToken } from './api.js';

export const $ = (id) => document.getElementById(id);

// el('td', {class: 'x', dataset: {a: 1}, onclick: fn}, 'text', childNode...)
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export const hex4 = (n) => `0x${Number(n).toString(16).toUpperCase().padStart(4, '0')}`;
export const addr = (n) => (n === null || n === undefined ? '—' : hex4(n));
export const uuidText = (u) => (u && u.length === 32
  ? `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}` : u || '');

// timeOnly: for moments of the last minutes, where the date is noise.
export function timeEl(iso, timeOnly) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return el('time', { datetime: iso, title: d.toLocaleString() }, timeOnly ? d.toLocaleTimeString() : d.toLocaleString());
}

export function showError(id, err) {
  const p = $(id);
  p.textContent = err ? (err instanceof ApiError ? err.detail : String(err.message || err)) : '';
}

export function dlRows(dl, rows) {
  dl.replaceChildren();
  for (const [k, v, cls] of rows) {
    dl.append(el('div', { class: cls }, el('dt', {}, k), el('dd', {}, v)));
  }
}

// A running request leaves its button disabled so a double tap sends one.
export async function busy(button, fn) {
  if (button) button.disabled = true;
  try {
    return await fn();
  } finally {
    if (button) button.disabled = false;
  }
}

// Calls fn now and then every `ms` while keep() is true and the page is
// logged in; at most one call runs at a time.
export function poll(fn, ms, keep) {
  let timer = 0;
  let stopped = false;
  const run = async () => {
    if (stopped || !getToken() || !keep()) return;
    try {
      await fn();
    } catch {
      // fn shows its own error; polling goes on.
    }
    if (!stopped && keep()) timer = setTimeout(run, ms);
  };
  run();
  return () => { stopped = true; clearTimeout(timer); };
}

// Coalesces bursts of events into one refresh.
export function debounce(fn, ms) {
  let t = 0;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

// A paged list view whose elements are named <prefix>-empty, -page, -prev, -next, -refresh:
// wires its buttons to load() and, after each load, shows(items) the empty note, the range
// and the button states.
export function pagedList(prefix, page, load) {
  $(`${prefix}-refresh`).addEventListener('click', (ev) => busy(ev.target, load));
  $(`${prefix}-prev`).addEventListener('click', () => {
    page.offset = Math.max(0, page.offset - page.limit);
    load();
  });
  $(`${prefix}-next`).addEventListener('click', () => {
    page.offset += page.limit;
    load();
  });
  return (items) => {
    $(`${prefix}-empty`).hidden = items.length > 0;
    $(`${prefix}-page`).textContent = items.length ? `${page.offset + 1}–${page.offset + items.length}` : '';
    $(`${prefix}-prev`).disabled = page.offset === 0;
    $(`${prefix}-next`).disabled = items.length < page.limit;
  };
}

// Mesh Profile §3.9.2 Table 3.54 (OOB Information bits of the beacon).
const OOB_INFO_BITS = [
  'Other', 'URI', '2D code', 'Bar code', 'NFC', 'Number', 'String', 'Certificate',
  'Records', null, null, 'On box', 'Inside box', 'On paper', 'Inside manual', 'On device',
];

// An RFC 2253 distinguished name for people: its common name, with the organisation after it.
function dnName(dn) {
  const parts = Object.fromEntries(String(dn || '').split(/,(?=[A-Za-z]+=)/).map((p) => {
    const i = p.indexOf('=');
    return [p.slice(0, i).trim().toUpperCase(), p.slice(i + 1).trim()];
  }));
  if (parts.CN && parts.O && parts.O !== parts.CN) return `${parts.CN} (${parts.O})`;
  return parts.CN || parts.O || dn || '';
}

// "verified by <issuer>", with the certificate's details in the tooltip and a fingerprint.
export function certText(c) {
  const until = new Date(c.not_after);
  return el('span', {
    class: 'cert',
    title: `Subject: ${c.subject}\nIssuer: ${c.issuer}\nValid ${c.not_before} – ${c.not_after}\nSHA-256 ${c.sha256}`,
  }, `verified by ${dnName(c.issuer)}`, el('span', { class: 'muted' },
    ` · valid until ${Number.isNaN(until.getTime()) ? c.not_after : until.toLocaleDateString()} · SHA-256 ${c.sha256.slice(0, 16)}…`));
}

export function oobInfoText(v) {
  const names = OOB_INFO_BITS.filter((n, i) => n && (v & (1 << i)));
  return names.length ? names.join(', ') : 'None';
}

// SIG model names for the ones a commissioning tablet is likely to meet
// (Mesh Profile §4.4, Mesh Model §7.3).
const SIG_MODELS = {
  0x0000: 'Configuration Server',
  0x0001: 'Configuration Client',
  0x0002: 'Health Server',
  0x0003: 'Health Client',
  0x0004: 'Remote Provisioning Server',
  0x0005: 'Remote Provisioning Client',
  0x1000: 'Generic OnOff Server',
  0x1001: 'Generic OnOff Client',
  0x1002: 'Generic Level Server',
  0x1003: 'Generic Level Client',
  0x1004: 'Generic Default Transition Time Server',
  0x1005: 'Generic Default Transition Time Client',
  0x1006: 'Generic Power OnOff Server',
  0x1007: 'Generic Power OnOff Setup Server',
  0x1008: 'Generic Power OnOff Client',
  0x1100: 'Sensor Server',
  0x1101: 'Sensor Setup Server',
  0x1102: 'Sensor Client',
  0x1300: 'Light Lightness Server',
  0x1301: 'Light Lightness Setup Server',
  0x1302: 'Light Lightness Client',
};
export const ONOFF_SERVER = 0x1000;
export const RPR_SERVER = 0x0004;

// model: an integer (SIG) or {company, id} (vendor), as in bindings;
// or {id, vendor, company} as in composition.
export function modelText(m) {
  if (typeof m === 'number') return `${hex4(m)} ${SIG_MODELS[m] || ''}`.trim();
  if (m.vendor === false) return modelText(m.id);
  return `${hex4(m.company)}:${hex4(m.id)} (vendor)`;
}

// The path a commissioned device took: the gateway (0) or a Remote Provisioning Server's
// address; a path the gateway words itself is shown as it is.
export function pathText(p) {
  if (p === null || p === undefined || p === '') return '—';
  if (p === 0) return 'gateway';
  if (typeof p === 'number') return `server ${addr(p)}`;
  return String(p);
}

// A device's Provisioning Capabilities (Mesh Profile §5.4.1.2) in words.
export function capabilitiesText(c) {
  const alg = { cmac: 'CMAC-AES128', hmac: 'HMAC-SHA256' };
  const parts = [`${c.elements} element${c.elements === 1 ? '' : 's'}`,
    `algorithm ${c.algorithms.map((a) => alg[a] || a).join(' or ') || 'none'}`];
  if (c.public_key_oob) parts.push('OOB public key');
  if (c.static_oob) parts.push('static OOB');
  if (c.output) parts.push(`output OOB (${c.output.actions.join(', ')}; up to ${c.output.size})`);
  if (c.input) parts.push(`input OOB (${c.input.actions.join(', ')}; up to ${c.input.size})`);
  if (c.only_oob) parts.push('OOB authentication only');
  return parts.join(' · ');
}

// Authentication methods (Mesh Profile §5.4.2.4) as people call them.
export const AUTH_TEXT = {
  none: 'No OOB',
  static: 'Static OOB',
  output: 'Output OOB',
  input: 'Input OOB',
  oob_public_key: 'OOB public key',
  certificate: 'Certificate',
};

export const FINAL_STATES = new Set(['done', 'failed', 'cancelled']);

export function badge(stateName) {
  return el('span', { class: `badge s-${stateName}` }, stateName.replace('_', ' '));
}

// Sorting a table by a column: every <th data-sort="key"> gets a button; a click sorts by
// that column (a second click reverses), the header says so with aria-sort, and
// onSort(key, dir) re-orders the rows (dir 1 ascending, -1 descending).
export function sortable(table, onSort) {
  const state = { key: null, dir: 1 };
  const heads = [...table.querySelectorAll('th[data-sort]')];
  for (const th of heads) {
    const b = el('button', { type: 'button', class: 'th-sort' }, ...th.childNodes);
    th.replaceChildren(b);
    b.addEventListener('click', () => {
      state.dir = state.key === th.dataset.sort ? -state.dir : 1;
      state.key = th.dataset.sort;
      for (const h of heads) {
        if (h === th) h.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
        else h.removeAttribute('aria-sort');
      }
      onSort(state.key, state.dir);
    });
  }
  return state;
}

// Compares two values of a column: numbers (and BigInts: a UUID is a 128-bit number) as
// numbers, missing ones last, text by locale with digits as numbers ("light-9" before
// "light-10").
export function compareBy(valueOf, key, dir) {
  return (a, b) => {
    const x = valueOf(a, key);
    const y = valueOf(b, key);
    const xm = x === null || x === undefined || x === '';
    const ym = y === null || y === undefined || y === '';
    if (xm || ym) return xm === ym ? 0 : (xm ? 1 : -1);
    if (typeof x !== 'string' && typeof x === typeof y) return ((x > y) - (x < y)) * dir;
    return String(x).localeCompare(String(y), undefined, { numeric: true, sensitivity: 'base' }) * dir;
  };
}

// Does any of the texts contain the search words (all of them, any case)?
export function matches(words, ...texts) {
  const hay = texts.filter((t) => t !== null && t !== undefined).join(' ').toLowerCase();
  return String(words).toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w));
}

// Saves a Blob as a file through a temporary link, as the hand-over export always did.
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// A job's target rows: events and the GET snapshot race, and an event that arrived while the
// snapshot was on its way is newer than the snapshot's row, so the later updated_at wins (a
// tie goes to the event).  Puts target t into targets (by index) and its row into tbody in
// index order; returns false when t is older than what is shown.
export function upsertTargetRow(targets, tbody, t, fromSnapshot, row) {
  const had = targets[t.index];
  if (had && (had.updated_at > t.updated_at || (fromSnapshot && had.updated_at === t.updated_at))) return false;
  targets[t.index] = t;
  const tr = row(t);
  tr.dataset.index = t.index;
  const old = tbody.querySelector(`tr[data-index="${t.index}"]`);
  if (old) old.replaceWith(tr);
  else tbody.insertBefore(tr, [...tbody.children].find((r) => Number(r.dataset.index) > t.index) || null);
  return true;
}
