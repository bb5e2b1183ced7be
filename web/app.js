// meshgw commissioning page: views over the REST API v1 (see api.js).
// Plain DOM, no framework.  Data from the gateway is only ever inserted as
// text (textContent / value), never as markup.

import {
  api, query, EventStream, getToken, setToken, clearToken, onUnauthorized,
} from './api.js';
import {
  $, el, hex4, addr, uuidText, timeEl, showError, dlRows, busy, poll, debounce, pagedList,
  certText, saveBlob, ONOFF_SERVER, RPR_SERVER, modelText, FINAL_STATES, badge, sortable, compareBy,
  matches, upsertTargetRow, AUTH_TEXT, pathText, capabilitiesText,
} from './ui.js';
import {
  initScan, enterScan, setScanning, upsertScanResult,
} from './scan.js';
import {
  initManifests, enterManifests, manifestsEvent, downloadReport,
} from './manifests.js';
import { initZones, enterZones } from './zones.js';

// ---------------------------------------------------------------- routing

const VIEWS = ['login', 'network', 'manifests', 'scan', 'provisioning', 'nodes', 'node', 'zones', 'jobs', 'job',
  'operations'];
let current = null;
let leaveView = () => {};

// refresh: reload the current view's data only (after a reconnect), without
// moving the focus.
function route(refresh) {
  const [name, arg] = (location.hash.slice(1) || 'network').split('/');
  const loggedIn = !!getToken();
  const view = !loggedIn ? 'login' : (VIEWS.includes(name) && name !== 'login' ? name : 'network');
  leaveView();
  leaveView = () => {};
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== view;
  $('nav').hidden = !loggedIn;
  $('logout').hidden = !loggedIn;
  for (const a of document.querySelectorAll('[data-nav]')) {
    const parent = { node: 'nodes', job: 'jobs' }[view];
    const on = a.dataset.nav === view || a.dataset.nav === parent;
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const first = current === null;
  current = view;
  if (view === 'login') {
    $('token').focus();
    return;
  }
  document.title = `${$(`view-${view}`).querySelector('h2').textContent} · meshgw`;
  // Move focus to the new view's heading so keyboard and screen-reader
  // users land on what changed (not on the first load).
  if (!first && refresh !== true) $(`view-${view}`).querySelector('h2').focus();
  const enter = {
    network: enterNetwork,
    manifests: enterManifests,
    scan: enterScan,
    provisioning: enterProvisioning,
    nodes: enterNodes,
    node: () => enterNode(Number(arg)),
    zones: enterZones,
    jobs: enterJobs,
    job: () => enterJob(Number(arg)),
    operations: enterOperations,
  }[view];
  const leave = enter();
  leaveView = typeof leave === 'function' ? leave : () => {};
}

// ---------------------------------------------------------------- login

const stream = new EventStream({
  onEvent: (type, data) => handleEvent(type, data),
  onState: (s, text) => {
    $('live').dataset.state = s;
    $('live').textContent = text;
  },
  onReconnect: () => refreshCurrent(),
});

function refreshCurrent() {
  if (current && current !== 'login') route(true);
}

function login(token) {
  setToken(token);
  stream.start();
}

function logout(message) {
  clearToken();
  stream.stop();
  sessions.clear();
  $('sessions').replaceChildren();
  updateAttention();
  $('login-error').textContent = message || '';
  if (location.hash !== '#network') location.hash = '#network';
  route();
}

onUnauthorized((err) => {
  if (getToken()) logout(`The gateway refused the token: ${err.detail}`);
});

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const token = $('token').value.trim();
  if (!token) {
    $('login-error').textContent = 'Enter a token.';
    $('token').setAttribute('aria-invalid', 'true');
    $('token').focus();
    return;
  }
  $('token').removeAttribute('aria-invalid');
  setToken(token);
  try {
    await busy(ev.submitter, () => api('GET', '/api/v1/network'));
  } catch (err) {
    clearToken();
    $('login-error').textContent = err.status === 401
      ? `The gateway refused the token: ${err.detail}` : err.detail;
    $('token').setAttribute('aria-invalid', 'true');
    $('token').focus();
    return;
  }
  $('token').value = '';
  $('login-error').textContent = '';
  login(token);
  loadSessions().catch(() => {});
  route();
});

$('logout').addEventListener('click', () => logout('Token forgotten.'));

// ---------------------------------------------------------------- events

const onNodesChanged = debounce(() => {
  if (current === 'nodes') loadNodes();
}, 300);
const onJobsChanged = debounce(() => {
  if (current === 'jobs') loadJobs();
}, 300);
const onOpsChanged = debounce(() => {
  if (current === 'operations') loadOperations();
}, 300);

function handleEvent(type, data) {
  switch (type) {
    case 'scan.result':
      upsertScanResult({ ...data, last_seen: new Date().toISOString() }, true);
      break;
    case 'scan.stopped':
      setScanning(false);
      break;
    case 'provisioning.updated':
      upsertSession(data);
      break;
    case 'node.added':
    case 'node.updated':
    case 'node.removed':
      onNodesChanged();
      break;
    case 'operation.updated':
      onOpsChanged();
      if (removal && String(removal.id) === String(data.id)) refreshRemoval();
      break;
    case 'job.updated':
      manifestsEvent(type, data);
      onJobsChanged();
      if (job && job.id === data.id && !(job.updated_at > data.updated_at)) showJob({ ...job, ...data });
      break;
    case 'job.target':
      manifestsEvent(type, data);
      if (job && job.id === data.job) upsertJobTarget(data);
      break;
    case 'overflow':
      // Events were dropped: what is on screen may be stale.
      refreshCurrent();
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------- (a) network

async function loadNetwork() {
  showError('network-error', null);
  try {
    const n = await api('GET', '/api/v1/network');
    dlRows($('network-summary'), [
      ['Mesh UUID', el('code', {}, uuidText(n.mesh_uuid)), 'full'],
      ['IV Index', `${n.iv_index}${n.iv_update ? ' (IV Update in progress)' : ''}`],
      ['Gateway address', addr(n.address)],
      ['Unicast range', `${addr(n.unicast_range.low)} – ${addr(n.unicast_range.high)}`],
      ['Group range', `${addr(n.group_range.low)} – ${addr(n.group_range.high)}`],
      ['NetKeys', n.net_keys.map((k) => `NetKey index ${k.index}${k.phase ? ` (Key Refresh phase ${k.phase})` : ''}`).join(', ') || 'none'],
      ['AppKeys', n.app_keys.map((k) => `AppKey index ${k.index} (on NetKey index ${k.net_index})`).join(', ') || 'none'],
      ['Nodes', String(n.nodes)],
    ]);
    showKeys(n);
  } catch (err) {
    showError('network-error', err);
  }
  try {
    const h = await api('GET', '/healthz');
    $('health').textContent = `Gateway ${h.version}, running for ${formatDuration(h.uptime_s)}.`;
  } catch {
    $('health').textContent = '';
  }
}

function formatDuration(s) {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min`;
  return `${s} s`;
}

// Key Refresh phases (Mesh Profile 3.11.4): 0 normal operation, 1 new keys distributed,
// 2 new keys in use, 3 old keys revoked.
const KR_PHASE_TEXT = ['Normal operation', 'Phase 1: distributing the new keys',
  'Phase 2: using the new keys', 'Phase 3: revoking the old keys'];

function showKeys(n) {
  showError('keys-error', null);
  $('key-rows').replaceChildren(...n.net_keys.map((k) => {
    const apps = n.app_keys.filter((a) => a.net_index === k.index).map((a) => `AppKey index ${a.index}`);
    const label = `NetKey index ${k.index}`;
    return el('tr', {},
      el('td', { dataset: { label: 'NetKey' } }, label),
      el('td', { dataset: { label: 'Key Refresh phase' } }, KR_PHASE_TEXT[k.phase || 0] || `Phase ${k.phase}`),
      el('td', { dataset: { label: 'AppKeys' } }, apps.join(', ') || 'none'),
      el('td', { dataset: { label: 'Actions' } }, el('button', {
        type: 'button',
        class: 'secondary',
        'aria-label': `Refresh the keys of ${label}`,
        onclick: () => confirmKeyRefresh(k.index, apps),
      }, 'Refresh keys')));
  }));
}

// One confirmation dialog for the key procedures: title, text, the button's label, and what
// to do on yes (an async function; its error goes to errorId).
let confirmed = null;

function confirmKeys(title, text, label, errorId, action) {
  $('confirm-kr-h').textContent = title;
  $('confirm-kr-text').textContent = text;
  $('confirm-kr-go').textContent = label;
  confirmed = { errorId, action };
  $('confirm-kr').returnValue = '';
  $('confirm-kr').showModal();
}

$('confirm-kr').addEventListener('close', async () => {
  const c = confirmed;
  confirmed = null;
  if ($('confirm-kr').returnValue !== 'go' || !c) return;
  showError(c.errorId, null);
  try {
    await c.action();
  } catch (err) {
    showError(c.errorId, err);
  }
});

function confirmKeyRefresh(index, apps) {
  confirmKeys('Refresh the keys?', `NetKey index ${index}${apps.length ? ` and ${apps.join(', ')}` : ''} `
    + 'get new key material on every node that holds them; the old keys are then revoked. '
    + 'Nodes that cannot be reached keep the old keys and are listed in the job.', 'Start Key Refresh', 'keys-error',
  async () => {
    const r = await api('POST', `/api/v1/keys/net/${index}/refresh`);
    location.hash = `#job/${r.job}`;
  });
}

$('ownership-start').addEventListener('click', () => {
  confirmKeys('Change of ownership?', 'Every NetKey and AppKey of the network is replaced on every node, '
    + 'then every node with a Remote Provisioning Server gets a new device key. Whoever kept the old keys '
    + 'can no longer listen or control. Nodes that cannot be reached must be waited for or left out.',
  'Start change of ownership', 'keys-error', async () => {
    const r = await api('POST', '/api/v1/network/ownership-change');
    location.hash = `#job/${r.job}`;
  });
});

function enterNetwork() {
  loadNetwork();
}
$('network-refresh').addEventListener('click', (ev) => busy(ev.target, loadNetwork));

// Hand-over: export (a file to download) and import (preview, then apply).
async function exportCdb(partial) {
  showError('cdb-export-error', null);
  $('cdb-export-status').textContent = '';
  try {
    const doc = await api('GET', `/api/v1/cdb${partial ? '?partial=true' : ''}`);
    const stamp = new Date().toISOString().slice(0, 10);
    const name = `meshgw-${(doc.meshName || 'network').replace(/[^A-Za-z0-9_-]+/g, '_')}-${stamp}${partial ? '-partial' : ''}.json`;
    saveBlob(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }), name);
    $('cdb-export-status').textContent = `Saved ${name}: ${doc.nodes.length} node(s), ` +
      `${doc.netKeys.length} NetKey(s), ${doc.appKeys.length} AppKey(s)${partial ? ', no keys' : ''}.`;
  } catch (err) {
    showError('cdb-export-error', err);
  }
}

let cdbDoc = null; // the parsed file, waiting for its import

function importSummary(r) {
  const rows = [
    ['What', r.mode === 'take-over' ? 'Take over this network (it replaces the gateway\'s empty one)'
      : 'Merge into the gateway\'s network (same mesh UUID)', 'full'],
    ['Nodes', `${r.nodes.added} added, ${r.nodes.unchanged} already known, ${r.nodes.excluded} excluded`],
    ['Keys', `${r.net_keys_added} NetKey(s), ${r.app_keys_added} AppKey(s) added`],
    ['Other provisioners', String(r.provisioners_added)],
    ['Groups / scenes', `${r.groups_added} / ${r.scenes_added}`],
    ['Excluded addresses', String(r.exclusions_added)],
    ['Gateway address', `${addr(r.address)}${r.address_changed ? ' (moves)' : ''}`],
    ['Gateway unicast range', `${addr(r.unicast_range.low)} – ${addr(r.unicast_range.high)}`],
    ['Gateway group range', `${addr(r.group_range.low)} – ${addr(r.group_range.high)}`],
    ['IV Index', String(r.iv_index)],
  ];
  if (r.restart_required) rows.push(['Note', 'Restart meshgw to use the imported keys.', 'full']);
  dlRows($('cdb-import-result'), rows);
  $('cdb-import-result').hidden = false;
}

async function readCdbFile() {
  cdbDoc = null;
  $('cdb-preview').disabled = true;
  $('cdb-apply').disabled = true;
  $('cdb-import-result').hidden = true;
  showError('cdb-import-error', null);
  const f = $('cdb-file').files[0];
  if (!f) return;
  if (f.size > 4 * 1024 * 1024) {
    showError('cdb-import-error', new Error('The file is over the 4 MiB the gateway accepts.'));
    return;
  }
  try {
    cdbDoc = JSON.parse(await f.text());
    $('cdb-preview').disabled = false;
  } catch (e) {
    showError('cdb-import-error', new Error(`Not a JSON file: ${e.message}`));
  }
}

async function importCdb(dryRun) {
  showError('cdb-import-error', null);
  try {
    const r = await api('POST', `/api/v1/cdb${dryRun ? '?dry_run=true' : ''}`, cdbDoc);
    importSummary(r);
    $('cdb-apply').disabled = !dryRun;
    if (!dryRun) {
      $('cdb-file').value = '';
      $('cdb-preview').disabled = true;
      cdbDoc = null;
      loadNetwork();
    }
  } catch (err) {
    $('cdb-apply').disabled = true;
    showError('cdb-import-error', err);
  }
}

$('cdb-export').addEventListener('click', (ev) => busy(ev.target, () => exportCdb(false)));
$('cdb-export-partial').addEventListener('click', (ev) => busy(ev.target, () => exportCdb(true)));
$('cdb-file').addEventListener('change', readCdbFile);
$('cdb-preview').addEventListener('click', (ev) => busy(ev.target, () => importCdb(true)));
// Import is enabled only by a successful preview: the preview is the confirmation.
$('cdb-apply').addEventListener('click', (ev) => busy(ev.target, () => importCdb(false)));

// ---------------------------------------------------------------- (c) provisioning

initManifests({ isCurrent: () => current === 'manifests' });
initZones({ isCurrent: () => current === 'zones' });
initScan({
  isCurrent: () => current === 'scan',
  onSessions: (list) => { for (const s of list) upsertSession(s); },
});

// id -> {data, li, ...controls}
const sessions = new Map();
let stopSessionPoll = () => {};

function buildSession(id) {
  const s = { data: { id } };
  s.title = el('h3', {});
  s.badge = el('span', {});
  s.info = el('dl', { class: 'summary compact' });
  s.error = el('p', { class: 'error' });
  s.inputValue = el('strong', { class: 'oob-value' });
  s.inputBox = el('div', { class: 'oob-show', role: 'status' },
    el('span', {}, 'Enter this on the device:'), s.inputValue);
  const inId = `oob-in-${id}`;
  s.oobInput = el('input', {
    id: inId, maxlength: '8', autocomplete: 'off', spellcheck: 'false', required: true,
    autocapitalize: 'off', class: 'oob-entry',
  });
  s.oobStatus = el('p', { class: 'status', role: 'status' });
  s.oobForm = el('form', { class: 'oob-form', novalidate: true },
    el('label', { for: inId }, 'Value the device shows'),
    el('div', { class: 'row' }, s.oobInput, el('button', { type: 'submit' }, 'Send')),
    s.oobStatus);
  s.oobForm.addEventListener('submit', (ev) => submitOob(ev, s));
  s.cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
  s.cancel.addEventListener('click', () => cancelSession(s));
  s.li = el('li', { class: 'card session' },
    el('div', { class: 'session-head' }, s.title, s.badge),
    s.info, s.inputBox, s.oobForm, s.error,
    el('div', { class: 'row end' }, s.cancel));
  return s;
}

async function submitOob(ev, s) {
  ev.preventDefault();
  const value = s.oobInput.value.trim();
  if (!value || value.length > 8) {
    s.oobStatus.textContent = 'Type the 1 to 8 characters the device shows.';
    s.oobInput.setAttribute('aria-invalid', 'true');
    s.oobInput.focus();
    return;
  }
  s.oobInput.removeAttribute('aria-invalid');
  try {
    const res = await busy(ev.submitter, () => api('POST', `/api/v1/provisioning/${encodeURIComponent(s.data.id)}/oob`, { value }));
    s.oobStatus.textContent = 'Sent.';
    s.oobInput.value = '';
    upsertSession(res);
  } catch (err) {
    s.oobStatus.textContent = err.detail;
  }
}

async function cancelSession(s) {
  try {
    const res = await busy(s.cancel, () => api('DELETE', `/api/v1/provisioning/${encodeURIComponent(s.data.id)}`));
    upsertSession(res);
  } catch (err) {
    s.error.textContent = err.detail;
  }
}

function upsertSession(d) {
  let s = sessions.get(d.id);
  if (!s) {
    s = buildSession(d.id);
    sessions.set(d.id, s);
  }
  s.data = { ...s.data, ...d };
  const x = s.data;
  // The gateway knows them only while an attempt runs: the card keeps the last ones seen.
  if (x.capabilities) s.caps = x.capabilities;
  const final = FINAL_STATES.has(x.state);
  s.title.textContent = x.name || uuidText(x.uuid);
  s.badge.replaceChildren(badge(x.state));
  dlRows(s.info, [
    ...(x.name ? [['UUID', el('code', {}, uuidText(x.uuid)), 'full']] : []),
    ['Address', addr(x.address)],
    ['Authentication', AUTH_TEXT[x.auth_method] || x.auth_method],
    ...(s.caps ? [['Device offers', capabilitiesText(s.caps), 'full']] : []),
    ...(x.certificate ? [['Device certificate', certText(x.certificate), 'full']] : []),
    ['Updated', timeEl(x.updated_at)],
  ]);
  s.inputValue.textContent = x.input_oob_value || '';
  s.inputBox.hidden = !(x.auth_method === 'input' && x.input_oob_value && !final);
  const wantOob = x.auth_method === 'output' && x.state === 'waiting_oob';
  if (wantOob && s.oobForm.hidden !== false) s.oobStatus.textContent = '';
  s.oobForm.hidden = !wantOob;
  s.error.textContent = x.error || '';
  s.error.hidden = !x.error;
  s.cancel.hidden = final;
  s.li.dataset.state = x.state;
  renderSessions();
}

const renderSessions = debounce(() => {
  const list = $('sessions');
  const sorted = [...sessions.values()].sort((a, b) => (b.data.created_at || '').localeCompare(a.data.created_at || '')
    || String(b.data.id).localeCompare(String(a.data.id), undefined, { numeric: true }));
  // Re-append only when the order changed, so a field being typed in keeps focus.
  const same = sorted.length === list.children.length && sorted.every((s, i) => list.children[i] === s.li);
  if (!same) list.replaceChildren(...sorted.map((s) => s.li));
  $('sessions-empty').hidden = sessions.size > 0;
  updateAttention();
}, 0);

function updateAttention() {
  const n = [...sessions.values()].filter((s) => s.data.state === 'waiting_oob').length;
  const a = $('attention');
  a.hidden = n === 0;
  a.textContent = n ? `${n} waiting` : '';
}

async function loadSessions() {
  try {
    const res = await api('GET', '/api/v1/provisioning');
    showError('sessions-error', null);
    for (const d of res.items) upsertSession(d);
    renderSessions();
  } catch (err) {
    showError('sessions-error', err);
    throw err;
  }
}

function anyActive() {
  return [...sessions.values()].some((s) => !FINAL_STATES.has(s.data.state));
}

function enterProvisioning() {
  // Events carry every change; the slow poll covers a stream that is down.
  stopSessionPoll = poll(loadSessions, 5000, () => current === 'provisioning' && (anyActive() || sessions.size === 0));
  return () => stopSessionPoll();
}
$('prov-refresh').addEventListener('click', (ev) => busy(ev.target, () => loadSessions().catch(() => {})));

// ---------------------------------------------------------------- (d) nodes

const nodesPage = { offset: 0, total: 0 };
let nodesShown = []; // [{n, zone, tr}] of the page loaded

const productText = (n) => (n.cid === null ? '—'
  : `Company ID ${hex4(n.cid)} · Product ID ${hex4(n.pid)} · Version ID ${hex4(n.vid)}`);

function nodeSortValue(x, key) {
  if (key === 'address' || key === 'elements') return x.n[key];
  if (key === 'zone') return x.zone;
  if (key === 'product') return x.n.cid === null ? null : productText(x.n);
  if (key === 'uuid') return BigInt(`0x${x.n.uuid}`);
  return x.n[key];
}

// Search and sort act on the page loaded (a floor fits one page of 100).
function showNodes() {
  const words = $('f-search').value.trim();
  const rows = nodesShown.filter((x) => matches(words, x.n.name, x.n.uuid, uuidText(x.n.uuid), x.zone,
    addr(x.n.address), String(x.n.address)));
  if (nodesSort.key) rows.sort(compareBy(nodeSortValue, nodesSort.key, nodesSort.dir));
  $('nodes-rows').replaceChildren(...rows.map((x) => x.tr));
  const from = nodesShown.length ? nodesPage.offset + 1 : 0;
  const to = nodesPage.offset + nodesShown.length;
  $('nodes-page').textContent = `${from}–${to} of ${nodesPage.total}`;
  $('nodes-caption').textContent = `Nodes ${from}–${to} of ${nodesPage.total}`
    + (rows.length !== nodesShown.length ? `, ${rows.length} matching the search` : '');
}

async function loadNodes() {
  const limit = Number($('f-limit').value);
  const q = query({
    limit, offset: nodesPage.offset, state: $('f-state').value, excluded: $('f-excluded').value,
  });
  try {
    const res = await api('GET', `/api/v1/nodes${q}`);
    showError('nodes-error', null);
    nodesPage.total = res.total;
    nodesShown = res.items.map((n) => {
      // The gateway gives each node its zone; a move not confirmed by the node yet says so.
      const zone = n.zone ? n.zone.name : null;
      return {
        n,
        zone,
        tr: el('tr', {},
          // A removed node keeps its record but is no longer addressable.
          el('td', { dataset: { label: 'Address' } }, n.excluded ? addr(n.address) : el('a', { href: `#node/${n.address}` }, addr(n.address))),
          el('td', { dataset: { label: 'Name' } }, n.name || el('span', { class: 'muted' }, 'unnamed')),
          el('td', { dataset: { label: 'Zone' } }, zone || el('span', { class: 'muted' }, 'none'),
            n.zone && n.zone.pending ? el('span', { class: 'muted' }, ' (moving)') : ''),
          el('td', { dataset: { label: 'State' } }, badge(n.state), n.excluded ? ' removed' : ''),
          el('td', { dataset: { label: 'Elements' } }, String(n.elements)),
          el('td', { class: 'wide', dataset: { label: 'Product' } }, productText(n)),
          el('td', { class: 'wide', dataset: { label: 'UUID' } }, el('code', {}, uuidText(n.uuid)))),
      };
    });
    showNodes();
    $('nodes-prev').disabled = res.offset === 0;
    $('nodes-next').disabled = res.offset + res.items.length >= res.total;
  } catch (err) {
    showError('nodes-error', err);
  }
}

function enterNodes() {
  loadNodes();
}

const nodesSort = sortable($('nodes-table'), showNodes);
$('f-search').addEventListener('input', showNodes);
$('nodes-filter').addEventListener('submit', (ev) => {
  ev.preventDefault();
  nodesPage.offset = 0;
  loadNodes();
});
for (const id of ['f-state', 'f-excluded', 'f-limit']) {
  $(id).addEventListener('change', () => { nodesPage.offset = 0; loadNodes(); });
}
$('nodes-prev').addEventListener('click', () => {
  nodesPage.offset = Math.max(0, nodesPage.offset - Number($('f-limit').value));
  loadNodes();
});
$('nodes-next').addEventListener('click', () => {
  nodesPage.offset += Number($('f-limit').value);
  loadNodes();
});

// ---------------------------------------------------------------- (d) node detail

let node = null;
let removal = null; // {id, address} of the removal being shown
let refreshing = null; // {id, session, procedure, address} of the refresh being shown
let nppiNote = ''; // what the next node view says about a refresh that moved the node here

async function enterNode(address) {
  node = null;
  removal = null;
  $('remove-progress').hidden = true;
  $('node-remove').disabled = false;
  $('rename-status').textContent = '';
  if (!refreshing) {
    $('nppi-progress').hidden = true;
    $('nppi-status').textContent = nppiNote;
    nppiNote = '';
  }
  if (!Number.isInteger(address) || address < 1) {
    showError('node-error', 'No such node address.');
    $('node-body').hidden = true;
    return;
  }
  $('node-h').textContent = `Node ${addr(address)}`;
  await loadNode(address);
}

async function loadNode(address) {
  showError('node-error', null);
  let n;
  try {
    n = await api('GET', `/api/v1/nodes/${address}`);
  } catch (err) {
    showError('node-error', err);
    $('node-body').hidden = true;
    return;
  }
  node = n;
  $('node-body').hidden = false;
  $('node-h').textContent = `Node ${addr(n.address)}${n.name ? ` · ${n.name}` : ''}`;
  const f = n.features || {};
  dlRows($('node-info'), [
    ['Address', `${addr(n.address)} (${n.address})`],
    ['UUID', el('code', {}, uuidText(n.uuid))],
    ['State', badge(n.state)],
    ['Elements', String(n.elements)],
    ['Product', productText(n)],
    ['Features', ['relay', 'proxy', 'friend', 'low_power'].filter((k) => f[k]).map((k) => k.replace('_', ' ')).join(', ') || 'none'],
    ['NetKeys', n.net_keys.map((i) => `NetKey index ${i}`).join(', ') || 'none'],
    ['AppKeys', n.app_keys.map((i) => `AppKey index ${i}`).join(', ') || 'none'],
    ['Device certificate', n.certificate ? certText(n.certificate) : 'none'],
    ['Added', timeEl(n.created_at)],
  ]);
  if (document.activeElement !== $('rename')) $('rename').value = n.name || '';

  $('bindings').replaceChildren(n.bindings.length
    ? el('ul', { class: 'plain' }, n.bindings.map((b) => el('li', {},
      `Element ${b.element} · ${modelText(b.model)} · AppKey index ${b.app_index}`)))
    : el('p', { class: 'muted' }, 'No bindings.'));
  $('subscriptions').replaceChildren(n.subscriptions.length
    ? el('ul', { class: 'plain' }, n.subscriptions.map((s) => el('li', {},
      `Element ${s.element} · ${modelText(s.model)} · subscribed to ${addr(s.address)}`)))
    : el('p', { class: 'muted' }, 'No subscriptions.'));

  let comp = null;
  if (n.pages.includes(0)) {
    try {
      comp = await api('GET', `/api/v1/nodes/${n.address}/composition/0`);
    } catch (err) {
      $('composition').replaceChildren(el('p', { class: 'error' }, err.detail));
    }
  } else {
    $('composition').replaceChildren(el('p', { class: 'muted' }, 'Composition Data page 0 is not stored yet.'));
  }
  if (comp) renderComposition(n, comp);
  renderLights(n, comp);
  const hasRpr = !!comp && comp.elements.some((e) => e.models.some((m) => !m.vendor && m.id === RPR_SERVER));
  $('nppi-none').hidden = hasRpr;
  $('nppi-buttons').hidden = !hasRpr;
  for (const b of $('nppi-buttons').querySelectorAll('button')) b.disabled = !!refreshing || n.excluded;
}

function renderComposition(n, c) {
  const parts = [el('p', { class: 'muted' },
    `Replay protection list size (CRPL) ${c.crpl} · Features ${hex4(c.features)} · ${c.elements.length} element${c.elements.length === 1 ? '' : 's'}`)];
  for (const e of c.elements) {
    parts.push(el('h4', {}, `Element ${e.index} · address ${addr(n.address + e.index)} · location ${hex4(e.location)}`));
    parts.push(el('ul', { class: 'plain models' }, e.models.map((m) => el('li', {}, modelText(m)))));
  }
  $('composition').replaceChildren(...parts);
}

// Element addresses with a Generic OnOff Server: from the composition, else
// from the bindings.
function onoffElements(n, comp) {
  if (comp) {
    return comp.elements
      .filter((e) => e.models.some((m) => !m.vendor && m.id === ONOFF_SERVER))
      .map((e) => e.index);
  }
  return [...new Set(n.bindings.filter((b) => b.model === ONOFF_SERVER).map((b) => b.element))];
}

function renderLights(n, comp) {
  const elems = onoffElements(n, comp);
  const box = $('lights');
  if (!elems.length) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No Generic OnOff Server on this node.'));
    return;
  }
  box.replaceChildren(...elems.map((i) => lightControl(n.address + i, i)));
}

function lightControl(address, index) {
  const labelId = `light-${address}`;
  const state = el('span', { class: 'light-state' }, 'unknown');
  const sw = el('button', {
    type: 'button', role: 'switch', class: 'switch', 'aria-checked': 'false',
    'aria-labelledby': labelId,
  }, el('span', { class: 'knob', 'aria-hidden': 'true' }));
  const read = el('button', { type: 'button', class: 'secondary' }, 'Read state');
  const msg = el('p', { class: 'status', role: 'status' });
  let present = null;
  const show = (p) => {
    present = p;
    sw.setAttribute('aria-checked', p ? 'true' : 'false');
    state.textContent = p === null ? 'unknown' : (p ? 'on' : 'off');
    state.dataset.on = p === null ? '' : String(p);
  };
  const doRead = async () => {
    msg.textContent = 'Reading…';
    try {
      const r = await busy(read, () => api('GET', `/api/v1/onoff/${address}`));
      show(r.present);
      msg.textContent = '';
    } catch (err) {
      msg.textContent = err.detail;
    }
  };
  sw.addEventListener('click', async () => {
    const want = !present;
    msg.textContent = want ? 'Switching on…' : 'Switching off…';
    try {
      const r = await busy(sw, () => api('POST', '/api/v1/onoff', { address, on: want }));
      show(r.present === null ? want : r.present);
      msg.textContent = '';
    } catch (err) {
      msg.textContent = err.detail;
    }
  });
  read.addEventListener('click', doRead);
  doRead();
  return el('div', { class: 'light' },
    el('div', { class: 'row' },
      el('span', { id: labelId, class: 'light-label' }, `Element ${index} (address ${addr(address)})`),
      sw, state, read),
    msg);
}

// ---- re-provisioning in place (NPPI through the node's own RPR server)

const PROCEDURE_TEXT = {
  device_key: 'Device key rotation',
  address: 'Move to a new address',
  composition: 'Composition refresh',
};

function showRefresh(op) {
  const what = PROCEDURE_TEXT[refreshing.procedure];
  $('nppi-bar').value = op.state === 'done' ? 100 : op.progress;
  $('nppi-label').textContent = `${what} (operation ${op.id}): ${op.progress} %`;
  if (op.state === 'running') $('nppi-status').textContent = 'Re-provisioning through the node\'s server…';
  else if (op.state === 'done') $('nppi-status').textContent = `${what}: done.`;
  else $('nppi-status').textContent = `${what} failed: ${op.error || 'unknown error'}`;
}

async function finishRefresh(op) {
  const r = refreshing;
  refreshing = null;
  let address = r.address;
  if (op.state === 'done' && r.procedure === 'address') {
    try {
      const s = await api('GET', `/api/v1/provisioning/${encodeURIComponent(r.session)}`);
      if (Number.isInteger(s.address)) address = s.address;
    } catch {
      // The node list still finds it; stay here.
    }
  }
  if (address !== r.address) {
    nppiNote = `${PROCEDURE_TEXT[r.procedure]}: done, the node is now at ${addr(address)} (was ${addr(r.address)}).`;
    $('nppi-status').textContent = nppiNote;
    location.hash = `#node/${address}`;
  } else if (node && node.address === r.address) {
    await loadNode(r.address);
  }
}

$('nppi-buttons').addEventListener('click', async (ev) => {
  const procedure = ev.target.closest('button')?.dataset.procedure;
  if (!procedure || !node || refreshing) return;
  const address = node.address;
  const buttons = [...$('nppi-buttons').querySelectorAll('button')];
  for (const b of buttons) b.disabled = true;
  $('nppi-progress').hidden = false;
  $('nppi-bar').value = 0;
  $('nppi-status').textContent = `${PROCEDURE_TEXT[procedure]}: starting…`;
  try {
    const op = await api('POST', `/api/v1/nodes/${address}/refresh`, { procedure });
    refreshing = { id: op.id, session: op.session, procedure, address };
    showRefresh(op);
  } catch (err) {
    $('nppi-status').textContent = `${PROCEDURE_TEXT[procedure]}: ${err.detail}`;
    for (const b of buttons) b.disabled = false;
    return;
  }
  const id = refreshing.id;
  let over = false;
  poll(async () => {
    if (!refreshing || refreshing.id !== id) return;
    const op = await api('GET', `/api/v1/operations/${encodeURIComponent(id)}`);
    showRefresh(op);
    if (op.state !== 'running') {
      over = true;
      await finishRefresh(op);
    }
  }, 1000, () => !over);
});

$('node-refresh').addEventListener('click', (ev) => {
  if (node) busy(ev.target, () => loadNode(node.address));
});

$('rename-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!node) return;
  const name = $('rename').value.trim();
  try {
    const n = await busy(ev.submitter, () => api('PATCH', `/api/v1/nodes/${node.address}`, { name }));
    $('rename-status').textContent = `Renamed to “${n.name || ''}”.`;
    await loadNode(node.address);
  } catch (err) {
    $('rename-status').textContent = err.detail;
  }
});

$('node-remove').addEventListener('click', () => {
  if (!node) return;
  $('confirm-text').textContent = `Remove node ${addr(node.address)}${node.name ? ` (${node.name})` : ''}? `
    + 'It is reset to the unprovisioned state and leaves the network.';
  $('confirm-remove').returnValue = '';
  $('confirm-remove').showModal();
});

$('confirm-remove').addEventListener('close', async () => {
  if ($('confirm-remove').returnValue !== 'remove' || !node) {
    $('node-remove').focus();
    return;
  }
  const address = node.address;
  $('node-remove').disabled = true;
  $('remove-progress').hidden = false;
  $('remove-status').textContent = 'Sending Node Reset…';
  try {
    const op = await api('DELETE', `/api/v1/nodes/${address}`);
    removal = { id: op.id, address };
    showRemoval(op);
    pollRemoval();
  } catch (err) {
    $('remove-status').textContent = err.detail;
    $('node-remove').disabled = false;
  }
});

function showRemoval(op) {
  $('remove-bar').value = op.progress;
  $('remove-label').textContent = `Removal (operation ${op.id}): ${op.progress} %`;
  if (op.state === 'running') $('remove-status').textContent = 'Waiting for the node…';
  else if (op.state === 'done') {
    $('remove-bar').value = 100;
    $('remove-status').replaceChildren(`Node ${addr(removal.address)} removed. `, el('a', { href: '#nodes' }, 'Back to nodes'));
  } else $('remove-status').textContent = `Removal failed: ${op.error || 'unknown error'}`;
}

async function refreshRemoval() {
  if (!removal) return null;
  try {
    const op = await api('GET', `/api/v1/operations/${encodeURIComponent(removal.id)}`);
    if (removal) showRemoval(op);
    return op;
  } catch (err) {
    $('remove-status').textContent = err.detail;
    return null;
  }
}

function pollRemoval() {
  const id = removal.id;
  let done = false;
  poll(async () => {
    const op = await refreshRemoval();
    if (op && op.state !== 'running') done = true;
  }, 1000, () => !done && removal && removal.id === id);
}

// ---------------------------------------------------------------- (e) jobs

const KIND_TEXT = {
  provision: 'Provisioning',
  refresh: 'Device key refresh',
  remove: 'Node removal',
  key_refresh: 'Key Refresh',
  ownership: 'Change of ownership',
  commission: 'Commissioning from a manifest',
};
// Kinds whose unfinished targets can be left out (POST /api/v1/jobs/{id}/finish-without).
const FINISH_WITHOUT = new Set(['key_refresh']);
const JOB_FINAL = new Set(['done', 'cancelled']);
const jobsPage = { offset: 0, limit: 50 };

function jobWhat(j) {
  const what = KIND_TEXT[j.kind] || j.kind;
  if (j.kind === 'key_refresh' && j.params && j.params.net_index !== undefined) {
    return `${what} of NetKey index ${j.params.net_index}`;
  }
  if (j.kind === 'commission' && j.params && j.params.manifest !== undefined) return `${what} ${j.params.manifest}`;
  return what;
}

async function loadJobs() {
  try {
    const q = { ...jobsPage };
    if ($('jobs-unfinished').checked) q.unfinished = true;
    const res = await api('GET', `/api/v1/jobs${query(q)}`);
    showError('jobs-error', null);
    $('jobs-rows').replaceChildren(...res.items.map((j) => {
      const finished = j.counts.done + j.counts.failed + j.counts.cancelled;
      return el('tr', {},
        el('td', { dataset: { label: 'Job' } }, el('a', { href: `#job/${j.id}` }, `Job ${j.id}`)),
        el('td', { dataset: { label: 'What' } }, jobWhat(j)),
        el('td', { dataset: { label: 'State' } }, badge(j.state)),
        el('td', { dataset: { label: 'Progress' } },
          el('progress', { max: j.total || 1, value: finished, 'aria-label': `Progress of job ${j.id}` }),
          ` ${finished} of ${j.total}`),
        el('td', { dataset: { label: 'Failed devices' } }, String(j.counts.failed)),
        el('td', { dataset: { label: 'Started by' } }, j.created_by),
        el('td', { dataset: { label: 'Updated' } }, timeEl(j.updated_at)));
    }));
    showJobsPage(res.items);
  } catch (err) {
    showError('jobs-error', err);
  }
}

function enterJobs() {
  loadJobs();
}
const showJobsPage = pagedList('jobs', jobsPage, loadJobs);
$('jobs-unfinished').addEventListener('change', () => {
  jobsPage.offset = 0;
  loadJobs();
});

let job = null; // the job on screen: its summary and {index: target}

function targetDevice(t) {
  const who = t.name || (t.uuid ? uuidText(t.uuid) : null);
  const at = t.address ?? t.node;
  const parts = [];
  if (who) parts.push(who);
  if (at !== null && at !== undefined) parts.push(el('a', { href: `#node/${at}` }, addr(at)));
  if (typeof t.via === 'number') parts.push(` via ${addr(t.via)}`);
  if (t.zone) parts.push(`· zone ${t.zone}`);
  if (t.path !== undefined && t.path !== null) parts.push(`· path ${pathText(t.path)}`);
  return parts.length ? parts.flatMap((p, i) => (i ? [' ', p] : [p])) : `target ${t.index}`;
}

function targetRow(t) {
  return el('tr', { dataset: { index: t.index } },
    el('td', { dataset: { label: '#' } }, String(t.index + 1)),
    el('td', { dataset: { label: 'Device' } }, targetDevice(t)),
    el('td', { dataset: { label: 'State' } }, badge(t.state)),
    el('td', { dataset: { label: 'Step' } }, t.phase ? t.phase.replaceAll('_', ' ') : '—'),
    el('td', { dataset: { label: 'Attempts' } }, String(t.attempts)),
    el('td', { dataset: { label: 'Next attempt at' } }, t.next_attempt_at ? timeEl(t.next_attempt_at, true) : '—'),
    el('td', { dataset: { label: 'Result or error' }, class: 'result wide' },
      t.error ? el('span', { class: 'error' }, t.error) : targetResult(t.result)));
}

// What a finished target reports, in words: the job it ran, nodes left out or not rotated.
function targetResult(r) {
  if (!r || typeof r !== 'object') return '—';
  const parts = [];
  if (typeof r.job === 'number') parts.push(el('a', { href: `#job/${r.job}` }, `job ${r.job}`));
  if (Array.isArray(r.left_out) && r.left_out.length) parts.push(`left out: ${r.left_out.map(addr).join(', ')}`);
  if (Array.isArray(r.unconfirmed) && r.unconfirmed.length) parts.push(`not confirmed: ${r.unconfirmed.map(addr).join(', ')}`);
  if (Array.isArray(r.rotated)) parts.push(`new device key: ${r.rotated.map(addr).join(', ') || 'none'}`);
  if (Array.isArray(r.not_rotated) && r.not_rotated.length) {
    parts.push(`device key kept: ${r.not_rotated.map((x) => addr(x.address)).join(', ')}`);
  }
  if (r.note) parts.push(r.note);
  if (typeof r.address === 'number' && !parts.length) parts.push(addr(r.address));
  return parts.length ? parts.flatMap((p, i) => (i ? ['; ', p] : [p])) : '—';
}

function upsertJobTarget(t, fromSnapshot) {
  upsertTargetRow(job.targets, $('job-rows'), t, fromSnapshot, targetRow);
}

function showJob(j) {
  const { targets: _, ...summary } = j;
  job = { ...job, ...summary };
  const finished = j.counts.done + j.counts.failed + j.counts.cancelled;
  $('job-h').textContent = `Job ${j.id}: ${jobWhat(j)}`;
  dlRows($('job-summary'), [
    ['State', badge(j.state)],
    ['Devices', `${j.total}: ${j.counts.done} done, ${j.counts.active} under way, ${j.counts.pending} waiting, `
      + `${j.counts.failed} failed, ${j.counts.cancelled} cancelled`, 'full'],
    ['Started by', j.created_by],
    ['Started', timeEl(j.created_at)],
    ['Finished', j.finished_at ? timeEl(j.finished_at) : '—'],
    ...(j.params && Array.isArray(j.params.not_rotated) && j.params.not_rotated.length
      ? [['Device key cannot be rotated in place (no Remote Provisioning Server)',
        j.params.not_rotated.map((x) => addr(x.address)).join(', '), 'full']] : []),
    ...(j.error ? [['Note', el('span', { class: 'error' }, j.error), 'full']] : []),
  ]);
  $('job-bar').max = j.total || 1;
  $('job-bar').value = finished;
  $('job-progress-label').textContent = `${finished} of ${j.total} devices finished`
    + (JOB_FINAL.has(j.state) ? ` — job ${j.state}.` : '.');
  $('job-pause').hidden = j.state !== 'running';
  $('job-resume').hidden = j.state !== 'paused';
  $('job-cancel').hidden = JOB_FINAL.has(j.state) || j.state === 'cancelling';
  $('job-report').hidden = j.kind !== 'commission';
  $('job-finish-without').hidden = !FINISH_WITHOUT.has(j.kind) || JOB_FINAL.has(j.state)
    || j.state === 'cancelling' || j.counts.pending + j.counts.active === 0;
}

async function loadJob(id) {
  try {
    const j = await api('GET', `/api/v1/jobs/${id}`);
    if (current !== 'job' || !job || job.id !== id) return;
    showError('job-error', null);
    if (!job.updated_at || job.updated_at <= j.updated_at) showJob(j);
    for (const t of j.targets) upsertJobTarget(t, true);
  } catch (err) {
    showError('job-error', err);
  }
}

function enterJob(id) {
  job = { id, targets: {} };
  $('job-h').textContent = `Job ${id}`;
  $('job-summary').replaceChildren();
  $('job-rows').replaceChildren();
  $('job-action-status').textContent = '';
  // Nothing of the job shown before may stay on screen until this one is loaded.
  $('job-progress-label').textContent = 'Loading…';
  $('job-bar').value = 0;
  for (const b of ['job-pause', 'job-resume', 'job-cancel', 'job-finish-without', 'job-report']) $(b).hidden = true;
  loadJob(id);
  return () => { job = null; };
}

$('job-finish-without').addEventListener('click', () => {
  if (!job) return;
  const id = job.id;
  const waiting = Object.values(job.targets).filter((t) => t.state === 'pending' || t.state === 'active');
  confirmKeys('Finish without the unfinished nodes?', `${waiting.length} node(s) have not confirmed the new keys: `
    + `${waiting.map((t) => t.name || addr(t.node)).join(', ')}. They are removed from the inventory and keep `
    + 'the old keys, so they cannot take part in the refreshed network; the others go on to phases 2 and 3.',
  'Finish without them', 'job-error', async () => {
    const j = await api('POST', `/api/v1/jobs/${id}/finish-without`);
    $('job-action-status').textContent = 'Finishing without the unfinished nodes.';
    if (job && job.id === id) showJob(j);
  });
});

for (const f of ['csv', 'json']) {
  $(`job-report-${f}`).addEventListener('click', (ev) => {
    ev.preventDefault();
    if (job) downloadReport(job.id, f, 'job-error');
  });
}

for (const [button, verb, done] of [['job-pause', 'pause', 'Paused: attempts under way finish, no new one starts.'],
  ['job-resume', 'resume', 'Resumed.'], ['job-cancel', 'cancel', 'Cancel requested.']]) {
  $(button).addEventListener('click', async (ev) => {
    if (!job) return;
    const id = job.id;
    try {
      const j = await busy(ev.target, () => api('POST', `/api/v1/jobs/${id}/${verb}`));
      $('job-action-status').textContent = done;
      if (job && job.id === id) showJob(j);
    } catch (err) {
      $('job-action-status').textContent = err.detail;
    }
  });
}

// ---------------------------------------------------------------- (f) operations

const opsPage = { offset: 0, limit: 50 };

async function loadOperations() {
  try {
    const res = await api('GET', `/api/v1/operations${query(opsPage)}`);
    showError('ops-error', null);
    $('ops-rows').replaceChildren(...res.items.map((o) => el('tr', {},
      el('td', { dataset: { label: 'Operation' } }, String(o.id)),
      el('td', { dataset: { label: 'Type' } }, o.type),
      el('td', { dataset: { label: 'Node or target' } }, typeof o.target === 'number'
        ? el('a', { href: `#node/${o.target}` }, addr(o.target)) : (o.target ?? '—')),
      el('td', { dataset: { label: 'State' } }, badge(o.state)),
      el('td', { dataset: { label: 'Progress' } },
        el('progress', { max: 100, value: o.progress, 'aria-label': `Progress of operation ${o.id}` }),
        ` ${o.progress} %`),
      el('td', { dataset: { label: 'Result' }, class: 'result wide' },
        o.error ? el('span', { class: 'error' }, o.error) : (o.result === null ? '—' : el('code', {}, JSON.stringify(o.result)))),
      el('td', { dataset: { label: 'Updated' } }, timeEl(o.updated_at)))));
    showOpsPage(res.items);
  } catch (err) {
    showError('ops-error', err);
  }
}

function enterOperations() {
  loadOperations();
}
const showOpsPage = pagedList('ops', opsPage, loadOperations);

// ---------------------------------------------------------------- start

window.addEventListener('hashchange', () => route());
if (getToken()) stream.start();
// Sessions feed the "waiting" count in the navigation from any view.
if (getToken()) loadSessions().catch(() => {});
route();
