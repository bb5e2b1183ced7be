// Scan view: unprovisioned devices seen by the gateway and its Remote Provisioning Servers,
// searched, filtered and sorted on the page; a device's authentication settings (a static
// OOB value, an OOB public key, output/input action and size) live in an expandable detail
// row under it, so the table fits a 1,280 px window without scrolling sideways.

import { api } from './api.js';
import {
  $, el, hex4, addr, uuidText, timeEl, showError, busy, poll, oobInfoText, sortable, compareBy,
  matches, debounce,
} from './ui.js';

// uuid -> {data, row, detail, sel, name, method, toggle, ...controls}
const scanRows = new Map();
let scanning = false;
let scanEndsAt = 0;
let stopScanPoll = () => {};
let countdown = 0;
let isCurrent = () => false;
let onSessions = () => {};

const OUTPUT_ACTIONS = ['numeric', 'alphanumeric', 'blink', 'beep', 'vibrate'];
const INPUT_ACTIONS = ['numeric', 'alphanumeric', 'push', 'twist'];
const HEX_OOB = /^([0-9a-fA-F]{32}|[0-9a-fA-F]{64})$/;
const HEX_KEY = /^[0-9a-fA-F]{128}$/;
// Methods whose settings are typed in the row's detail.
const HAS_SETTINGS = new Set(['static', 'output', 'input', 'oob_public_key']);

// isCurrent(): the scan view is on screen; onSessions(list): sessions the page started.
export function initScan(opts) {
  isCurrent = opts.isCurrent;
  onSessions = opts.onSessions;
}

export function setScanning(on, endsAt) {
  scanning = on;
  if (endsAt) scanEndsAt = endsAt;
  $('scan-start').disabled = on;
  $('scan-stop').disabled = !on;
  clearInterval(countdown);
  if (on) {
    const tick = () => {
      const left = Math.max(0, Math.round((scanEndsAt - Date.now()) / 1000));
      $('scan-status').textContent = scanEndsAt ? `Scanning… ${left} s left` : 'Scanning…';
    };
    tick();
    countdown = setInterval(tick, 1000);
    if (isCurrent()) startScanPoll();
  } else {
    $('scan-status').textContent = `Not scanning · ${scanRows.size} device${scanRows.size === 1 ? '' : 's'} seen`;
  }
}

function startScanPoll() {
  stopScanPoll();
  stopScanPoll = poll(loadScanResults, 2000, () => scanning && isCurrent());
}

function option(value, text, selected) {
  return el('option', { value, selected: !!selected }, text || value);
}

// A UUID that may break after its dashes (a hyphen before a digit is no break opportunity).
function uuidCode(uuid) {
  const parts = uuidText(uuid).split('-');
  return el('code', { class: 'uuid' }, parts.flatMap((p, i) => (i ? ['-', el('wbr'), p] : [p])));
}

function hexField(r, key, label, placeholder) {
  const errId = `${key}-err-${r.data.uuid}`;
  const input = el('input', {
    type: 'text', class: 'hex', autocomplete: 'off', spellcheck: 'false',
    'aria-label': label, 'aria-describedby': errId, placeholder,
  });
  const err = el('span', { id: errId, class: 'field-error' });
  input.addEventListener('input', () => validateRow(r, false));
  return [input, err];
}

function actionSize(list, what, label) {
  const action = el('select', { 'aria-label': `${what} action for device ${label}` }, list.map((a) => option(a)));
  const size = el('input', {
    type: 'number', min: '1', max: '8', value: '4', class: 'size', inputmode: 'numeric',
    'aria-label': `${what} size for device ${label}`,
  });
  return [action, size];
}

function setExpanded(r, open) {
  r.toggle.setAttribute('aria-expanded', String(open));
  r.detail.hidden = !open || r.row.hidden;
}

function buildScanRow(uuid) {
  const label = uuidText(uuid);
  const r = { data: { uuid } };
  r.sel = el('input', {
    type: 'checkbox', id: `sel-${uuid}`, 'aria-label': `Select device ${label}`,
    onchange: updateSelection,
  });
  r.via = el('td', { class: 'via', dataset: { label: 'Heard by' } });
  r.oob = el('td', { dataset: { label: 'OOB information' } });
  r.seen = el('td', { dataset: { label: 'Last seen' } });
  r.name = el('input', {
    type: 'text', maxlength: '64', autocomplete: 'off', 'aria-label': `Name for device ${label}`,
    placeholder: 'optional', oninput: () => applyView(),
  });
  r.method = el('select', { 'aria-label': `Authentication for device ${label}` },
    option('none', 'No OOB'), option('static', 'Static OOB'),
    option('output', 'Output OOB (device shows)'), option('input', 'Input OOB (device takes)'),
    option('oob_public_key', 'OOB public key'),
    option('certificate', 'Certificate (device proves who it is)'));
  [r.staticOob, r.staticErr] = hexField(r, 'oob', `Static OOB for device ${label} (32 or 64 hex digits)`, '32 or 64 hex digits');
  [r.publicKey, r.keyErr] = hexField(r, 'key', `OOB public key for device ${label} (128 hex digits)`, 'X and Y: 128 hex digits');
  [r.outAction, r.outSize] = actionSize(OUTPUT_ACTIONS, 'Output', label);
  [r.inAction, r.inSize] = actionSize(INPUT_ACTIONS, 'Input', label);
  const times = () => el('span', { 'aria-hidden': 'true' }, '×');
  r.groups = {
    static: el('div', { class: 'auth-params' }, el('span', { class: 'muted' }, 'Static OOB value'), r.staticOob, r.staticErr),
    output: el('div', { class: 'auth-params' }, el('span', { class: 'muted' }, 'The device shows'), r.outAction, times(), r.outSize),
    input: el('div', { class: 'auth-params' }, el('span', { class: 'muted' }, 'The device takes'), r.inAction, times(), r.inSize),
    oob_public_key: el('div', { class: 'auth-params' }, el('span', { class: 'muted' }, 'Public key (from the box or label)'), r.publicKey, r.keyErr),
  };
  const detailId = `auth-detail-${uuid}`;
  r.toggle = el('button', {
    type: 'button', class: 'secondary small-button', 'aria-expanded': 'false', 'aria-controls': detailId,
    'aria-label': `Authentication settings for device ${label}`,
    onclick: () => setExpanded(r, r.toggle.getAttribute('aria-expanded') !== 'true'),
  }, 'Settings');
  const showGroup = () => {
    for (const [m, g] of Object.entries(r.groups)) g.hidden = m !== r.method.value;
    r.toggle.hidden = !HAS_SETTINGS.has(r.method.value);
    setExpanded(r, HAS_SETTINGS.has(r.method.value));
  };
  r.method.addEventListener('change', () => {
    r.methodChosen = true;
    showGroup();
    validateRow(r, false);
  });
  r.row = el('tr', { dataset: { uuid } },
    el('td', { class: 'sel' }, r.sel, el('label', { for: r.sel.id, class: 'card-only' }, 'Select')),
    el('td', { class: 'wide', dataset: { label: 'Device UUID' } }, uuidCode(uuid)),
    r.via, r.oob, r.seen,
    el('td', { class: 'name wide', dataset: { label: 'Name' } }, r.name),
    el('td', { dataset: { label: 'Authentication' }, class: 'auth wide' }, el('div', { class: 'row nowrap-row' }, r.method, r.toggle)));
  r.detail = el('tr', { class: 'detail', id: detailId, hidden: true },
    el('td', { colspan: '7', class: 'full' }, ...Object.values(r.groups)));
  showGroup();
  return r;
}

// Returns the first invalid control of a row's authentication, or null.
// `strict` also flags an empty static OOB or public key field (on submit).
function validateRow(r, strict) {
  let bad = null;
  const check = (input, err, method, re, need) => {
    const v = input.value.trim();
    let msg = '';
    if (r.method.value === method && (v || strict) && !re.test(v)) {
      msg = `Needs ${need} hex digits (has ${v.replace(/[^0-9a-fA-F]/g, '').length}${/[^0-9a-fA-F]/.test(v) ? ', and other characters' : ''}).`;
      bad = bad || input;
    }
    err.textContent = msg;
    input.setCustomValidity(msg);
    if (msg) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };
  check(r.staticOob, r.staticErr, 'static', HEX_OOB, '32 or 64');
  check(r.publicKey, r.keyErr, 'oob_public_key', HEX_KEY, '128');
  for (const size of [r.outSize, r.inSize]) {
    const n = Number(size.value);
    const ok = Number.isInteger(n) && n >= 1 && n <= 8;
    if (!ok) size.setAttribute('aria-invalid', 'true');
    else size.removeAttribute('aria-invalid');
    if (!ok && !bad && r.groups[r.method.value]?.contains(size)) bad = size;
  }
  return bad;
}

export function upsertScanResult(d, fromEvent) {
  let r = scanRows.get(d.uuid);
  if (!r) {
    r = buildScanRow(d.uuid);
    scanRows.set(d.uuid, r);
    $('scan-rows').append(r.row, r.detail);
  }
  r.data = { ...r.data, ...d };
  // Who heard it, loudest first: the gateway itself (via 0) or a Remote Provisioning Server.
  const heard = [...(r.data.seen_by || [])].sort((a, b) => b.rssi - a.rssi);
  if (!heard.length && r.data.rssi !== undefined) heard.push({ via: 0, rssi: r.data.rssi });
  r.via.replaceChildren(...(heard.length ? heard.map((h) => el('span', { class: 'heard' },
    h.via === 0 ? 'gateway' : `server ${addr(h.via)}`, el('span', { class: 'muted small' }, ` ${h.rssi} dBm`)))
    : ['—']));
  r.best = heard.length ? heard[0].rssi : null;
  r.heardText = heard.map((h) => (h.via === 0 ? 'gateway' : `server ${addr(h.via)}`)).join(' ');
  const info = r.data.oob_info ?? 0;
  r.oob.replaceChildren(el('span', { title: hex4(info) }, oobInfoText(info)));
  // A device that advertises a certificate (OOB Information bits 7/8) is proposed for
  // certificate-based provisioning, once, until someone picks another method.
  if ((info & 0x180) && !r.methodChosen && r.method.value === 'none') {
    r.method.value = 'certificate';
    r.method.dispatchEvent(new Event('change'));
    r.methodChosen = true;
  }
  if (r.data.uri_hash) r.oob.append(el('span', { class: 'muted small' }, ` · URI hash ${r.data.uri_hash}`));
  r.seen.replaceChildren(timeEl(r.data.last_seen, true));
  $('scan-empty').hidden = scanRows.size > 0;
  applyViewSoon();
  if (fromEvent && !scanning) setScanning(true);
}

// ---- search, filter and sort (on the page: the gateway sends every result at once)

const SHOW = {
  all: () => true,
  selected: (r) => r.sel.checked,
  unselected: (r) => !r.sel.checked,
  gateway: (r) => (r.data.seen_by || []).some((h) => h.via === 0),
  remote: (r) => (r.data.seen_by || []).length > 0 && (r.data.seen_by || []).every((h) => h.via !== 0),
};

function sortValue(r, key) {
  switch (key) {
    case 'uuid': return BigInt(`0x${r.data.uuid}`);
    case 'heard': return r.best;
    case 'oob': return r.data.oob_info ?? 0;
    case 'seen': return r.data.last_seen || null;
    case 'name': return r.name.value.trim();
    case 'auth': return r.method.value;
    default: return null;
  }
}

let sortState = { key: null, dir: 1 };

function applyView() {
  const words = $('scan-search').value.trim();
  const show = SHOW[$('scan-show').value] || SHOW.all;
  let shown = 0;
  const rows = [...scanRows.values()];
  for (const r of rows) {
    const visible = show(r) && matches(words, uuidText(r.data.uuid), r.data.uuid, r.name.value, r.heardText);
    r.row.hidden = !visible;
    setExpanded(r, r.toggle.getAttribute('aria-expanded') === 'true');
    if (visible) shown += 1;
  }
  if (sortState.key) rows.sort(compareBy(sortValue, sortState.key, sortState.dir));
  const body = $('scan-rows');
  const order = rows.flatMap((r) => [r.row, r.detail]);
  const same = order.length === body.children.length && order.every((tr, i) => body.children[i] === tr);
  // Moving a row takes the focus out of a field being typed in: wait for the next update.
  if (!same && !body.contains(document.activeElement)) body.append(...order);
  $('scan-shown').textContent = scanRows.size ? `Showing ${shown} of ${scanRows.size} device${scanRows.size === 1 ? '' : 's'}.` : '';
}
const applyViewSoon = debounce(applyView, 50);

sortState = sortable($('scan-table'), () => applyView());
$('scan-search').addEventListener('input', () => applyView());
$('scan-show').addEventListener('change', () => applyView());

export async function loadScanResults() {
  try {
    const res = await api('GET', '/api/v1/scans/results');
    showError('scan-error', null);
    for (const d of res.items) upsertScanResult(d, false);
    if (res.scanning !== scanning) setScanning(res.scanning);
    else if (!scanning) setScanning(false);
  } catch (err) {
    showError('scan-error', err);
    throw err;
  }
}

function selectedRows() {
  return [...scanRows.values()].filter((r) => r.sel.checked);
}

function updateSelection() {
  const n = selectedRows().length;
  $('prov-submit').disabled = n === 0;
  $('prov-submit').textContent = n ? `Provision ${n} selected device${n === 1 ? '' : 's'}` : 'Provision selected';
  const visible = [...scanRows.values()].filter((r) => !r.row.hidden);
  const on = visible.filter((r) => r.sel.checked).length;
  const all = $('scan-all');
  all.checked = on > 0 && on === visible.length;
  all.indeterminate = on > 0 && on < visible.length;
}

// "Select all" selects the devices the search and filter show.
$('scan-all').addEventListener('change', (ev) => {
  for (const r of scanRows.values()) if (!r.row.hidden) r.sel.checked = ev.target.checked;
  updateSelection();
});

// A field of whole seconds from min to max: its value, or null after saying what is wrong.
function seconds(id, errorId, min, max, what) {
  const n = Number($(id).value || 0);
  if (!Number.isInteger(n) || n < min || n > max) {
    showError(errorId, `${what} is a whole number of seconds from ${min} to ${max}.`);
    $(id).setAttribute('aria-invalid', 'true');
    $(id).focus();
    return null;
  }
  $(id).removeAttribute('aria-invalid');
  return n;
}

$('scan-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  showError('scan-error', null);
  const dur = seconds('scan-duration', 'scan-error', 1, 600, 'The duration');
  if (dur === null) return;
  try {
    const body = { duration_s: dur, ...($('scan-remote').checked ? { remote: true } : {}) };
    const s = await busy($('scan-start'), () => api('POST', '/api/v1/scans', body));
    // A new scan starts with an empty result list on the gateway.
    for (const r of [...scanRows.values()]) {
      if (!r.sel.checked) {
        r.row.remove();
        r.detail.remove();
        scanRows.delete(r.data.uuid);
      }
    }
    updateSelection();
    const start = Date.parse(s.started_at);
    setScanning(true, (Number.isNaN(start) ? Date.now() : start) + s.duration_s * 1000);
  } catch (err) {
    showError('scan-error', err);
  }
});

$('scan-stop').addEventListener('click', async (ev) => {
  try {
    await busy(ev.target, () => api('DELETE', '/api/v1/scans/current'));
    setScanning(false);
  } catch (err) {
    showError('scan-error', err);
  }
});

export function enterScan() {
  loadScanResults().then(() => { if (scanning) startScanPoll(); }).catch(() => {});
  return () => stopScanPoll();
}

function authOf(r) {
  const auth = { method: r.method.value };
  if (auth.method === 'static') auth.static_oob = r.staticOob.value.trim().toLowerCase();
  if (auth.method === 'oob_public_key') auth.public_key = r.publicKey.value.trim().toLowerCase();
  if (auth.method === 'output') Object.assign(auth, { action: r.outAction.value, size: Number(r.outSize.value) });
  if (auth.method === 'input') Object.assign(auth, { action: r.inAction.value, size: Number(r.inSize.value) });
  return auth;
}

$('prov-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  showError('prov-error', null);
  const rows = selectedRows();
  if (!rows.length) return;
  if (rows.length > 32) {
    showError('prov-error', `At most 32 devices per request (${rows.length} selected); a manifest commissions any number.`);
    return;
  }
  const invalid = rows.map((r) => [r, validateRow(r, true)]).filter(([, bad]) => bad);
  if (invalid.length) {
    showError('prov-error', `Check the authentication of ${invalid.length} device${invalid.length === 1 ? '' : 's'}.`);
    const [r, bad] = invalid[0];
    r.row.hidden = false;
    setExpanded(r, true);
    bad.focus();
    return;
  }
  const attention = seconds('prov-attention', 'prov-error', 0, 255, 'The attention timer');
  if (attention === null) return;
  const devices = rows.map((r) => {
    const d = { uuid: r.data.uuid, auth: authOf(r) };
    const name = r.name.value.trim();
    if (name) d.name = name;
    return d;
  });
  try {
    const res = await busy($('prov-submit'), () => api('POST', '/api/v1/provisioning', {
      devices, algorithm: $('prov-algorithm').value, ...(attention ? { attention_s: attention } : {}),
    }));
    onSessions(res.sessions);
    for (const r of rows) r.sel.checked = false;
    updateSelection();
    location.hash = '#provisioning';
  } catch (err) {
    showError('prov-error', err);
  }
});
