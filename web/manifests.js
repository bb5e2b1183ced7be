// Manifests view: a technician's device list (CSV or JSON) uploaded by file picker or drag
// and drop, its validation errors by row, the stored manifests, and "Commission" — one bulk
// job over the manifest, followed live (progress, every device's state and path) with its
// report for download.

import { api, apiText, apiBlob } from './api.js';
import {
  $, el, addr, uuidText, timeEl, showError, busy, badge, saveBlob, upsertTargetRow, AUTH_TEXT, pathText,
} from './ui.js';

const MAX_BYTES = 4 * 1024 * 1024; // openapi.yaml: 4 MiB of body
const JOB_FINAL = new Set(['done', 'cancelled']);

let isCurrent = () => false;
let opened = null; // {id, manifest} on screen
let run = null; // {id, job, targets: {index: target}} of the commission job on screen

export function initManifests(opts) {
  isCurrent = opts.isCurrent;
}

// ---- upload

// The media type from the file's name, else its type, else its first character.
function mediaType(file, text) {
  if (/\.csv$/i.test(file.name)) return 'text/csv';
  if (/\.json$/i.test(file.name)) return 'application/json';
  if (file.type === 'text/csv' || file.type === 'application/json') return file.type;
  return text.trimStart().startsWith('{') ? 'application/json' : 'text/csv';
}

function showRowErrors(errors) {
  $('manifest-errors').hidden = errors.length === 0;
  $('manifest-error-rows').replaceChildren(...errors.map((e) => el('tr', { dataset: { row: e.row } },
    el('td', { dataset: { label: 'Row' } }, e.row === 0 ? 'whole file' : String(e.row)),
    el('td', { dataset: { label: 'Line' } }, e.line ? String(e.line) : '—'),
    el('td', { dataset: { label: 'Field' } }, e.field ? el('code', {}, e.field) : '—'),
    el('td', { class: 'wide', dataset: { label: 'Problem' } }, e.message))));
  $('manifest-errors-caption').textContent = `${errors.length} problem${errors.length === 1 ? '' : 's'}, by row. `
    + 'Row 1 is the first device (in a CSV file the record after the header); row 0 is the whole file.';
}

async function upload(file) {
  showError('manifest-upload-error', null);
  showRowErrors([]);
  $('manifest-upload-status').textContent = '';
  if (!file) return;
  if (file.size > MAX_BYTES) {
    showError('manifest-upload-error', new Error(`${file.name} is over the 4 MiB the gateway accepts.`));
    return;
  }
  const text = await file.text();
  const type = mediaType(file, text);
  $('manifest-upload-status').textContent = `Checking ${file.name}…`;
  try {
    const m = await apiText('POST', '/api/v1/manifests', type, text);
    $('manifest-upload-status').textContent = `${file.name}: ${m.rows} device${m.rows === 1 ? '' : 's'} stored as manifest ${m.id}.`;
    await loadManifests();
    await openManifest(m.id);
  } catch (err) {
    $('manifest-upload-status').textContent = '';
    showError('manifest-upload-error', err.errors?.length ? new Error(`${file.name} was not stored: ${err.detail}`) : err);
    showRowErrors(err.errors || []);
  }
}

$('manifest-file').addEventListener('change', async (ev) => {
  await upload(ev.target.files[0]);
  ev.target.value = '';
});

const drop = $('manifest-drop');
for (const t of ['dragenter', 'dragover']) {
  drop.addEventListener(t, (ev) => {
    ev.preventDefault();
    drop.classList.add('over');
  });
}
for (const t of ['dragleave', 'drop']) drop.addEventListener(t, () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  const files = ev.dataTransfer?.files;
  if (files && files.length) upload(files[0]);
});

// ---- list, open, delete

async function loadManifests() {
  try {
    const res = await api('GET', '/api/v1/manifests');
    showError('manifests-error', null);
    $('manifests-empty').hidden = res.items.length > 0;
    $('manifest-rows').replaceChildren(...res.items.map((m) => el('tr', { dataset: { id: m.id } },
      el('td', { dataset: { label: 'Manifest' } }, `Manifest ${m.id}`),
      el('td', { dataset: { label: 'Format' } }, m.format.toUpperCase()),
      el('td', { dataset: { label: 'Devices' } }, String(m.rows)),
      el('td', { dataset: { label: 'Uploaded by' } }, m.created_by),
      el('td', { dataset: { label: 'Updated' } }, timeEl(m.updated_at)),
      el('td', { dataset: { label: 'Actions' }, class: 'actions' },
        el('button', { type: 'button', class: 'secondary', 'aria-label': `Open manifest ${m.id}`, onclick: () => openManifest(m.id) }, 'Open'),
        el('button', { type: 'button', 'aria-label': `Commission manifest ${m.id}`, onclick: (ev) => busy(ev.target, () => commission(m.id)) }, 'Commission'),
        el('button', { type: 'button', class: 'danger', 'aria-label': `Delete manifest ${m.id}`, onclick: () => confirmDelete(m) }, 'Delete')))));
  } catch (err) {
    showError('manifests-error', err);
  }
}

function authText(a) {
  const m = a?.method || 'none';
  if (m === 'static' || m === 'oob_public_key') return `${AUTH_TEXT[m]} (on file)`;
  if (m === 'output' || m === 'input') return `${AUTH_TEXT[m]}: ${a.action} × ${a.size}`;
  return AUTH_TEXT[m] || m;
}

async function openManifest(id) {
  showError('manifest-error', null);
  try {
    const m = await api('GET', `/api/v1/manifests/${id}`);
    opened = { id, manifest: m };
    $('manifest-detail').hidden = false;
    $('manifest-h').textContent = `Manifest ${m.id}: ${m.rows} device${m.rows === 1 ? '' : 's'}`;
    // Secrets (static OOB values, public keys) stay off the screen: the method says enough.
    $('manifest-device-rows').replaceChildren(...m.devices.map((d, i) => el('tr', {},
      el('td', { dataset: { label: 'Row' } }, String(i + 1)),
      el('td', { class: 'wide', dataset: { label: 'Device UUID' } }, el('code', {}, uuidText(d.uuid))),
      el('td', { dataset: { label: 'Name' } }, d.name || '—'),
      el('td', { dataset: { label: 'Zone' } }, d.zone || '—'),
      el('td', { dataset: { label: 'Authentication' } }, authText(d.auth)),
      el('td', { dataset: { label: 'Profile' } }, d.profile || '—'),
      el('td', { dataset: { label: 'Notes' } }, d.notes || ''))));
    await findRun(id);
  } catch (err) {
    showError('manifest-error', err);
  }
}

let toDelete = null;

function confirmDelete(m) {
  toDelete = m;
  $('confirm-manifest-text').textContent = `Delete manifest ${m.id} (${m.rows} devices)? Devices already `
    + 'commissioned stay in the network; only the list goes.';
  $('confirm-manifest').returnValue = '';
  $('confirm-manifest').showModal();
}

$('confirm-manifest').addEventListener('close', async () => {
  const m = toDelete;
  toDelete = null;
  if ($('confirm-manifest').returnValue !== 'delete' || !m) return;
  try {
    await api('DELETE', `/api/v1/manifests/${m.id}`);
    $('manifest-upload-status').textContent = `Manifest ${m.id} deleted.`;
    if (opened && opened.id === m.id) {
      opened = null;
      $('manifest-detail').hidden = true;
    }
    await loadManifests();
  } catch (err) {
    showError('manifests-error', err);
  }
});

// ---- the commission job

async function commission(id) {
  showError('manifests-error', null);
  try {
    const r = await api('POST', `/api/v1/manifests/${id}/commission`);
    if (!opened || opened.id !== id) await openManifest(id);
    await followJob(id, r.job);
  } catch (err) {
    showError('manifests-error', new Error(`Commissioning manifest ${id}: ${err.detail || err.message}`));
  }
}

// The newest commission job of this manifest, if any, so reopening the page shows it.
async function findRun(id) {
  run = null;
  $('run').hidden = true;
  try {
    const res = await api('GET', '/api/v1/jobs?limit=100');
    const j = res.items.find((x) => x.kind === 'commission' && x.params && Number(x.params.manifest) === id);
    if (j) await followJob(id, j.id);
  } catch {
    // The jobs list is only a convenience here; the manifest is shown.
  }
}

async function followJob(manifest, jobId) {
  run = { manifest, id: jobId, targets: {}, updated_at: '' };
  $('run').hidden = false;
  $('run-rows').replaceChildren();
  $('run-job').href = `#job/${jobId}`;
  $('run-job').textContent = `Job ${jobId}`;
  for (const f of ['csv', 'json']) {
    $(`run-report-${f}`).href = `/api/v1/jobs/${jobId}/report?format=${f}`;
  }
  const j = await api('GET', `/api/v1/jobs/${jobId}`);
  if (!run || run.id !== jobId) return;
  showRun(j);
  for (const t of j.targets || []) upsertTarget(t, true);
}

function showRun(j) {
  if (j.updated_at && run.updated_at > j.updated_at) return;
  run.updated_at = j.updated_at || run.updated_at;
  const c = j.counts || { done: 0, failed: 0, cancelled: 0, active: 0, pending: 0 };
  const finished = c.done + c.failed + c.cancelled;
  $('run-bar').max = j.total || 1;
  $('run-bar').value = finished;
  $('run-label').textContent = `${finished} of ${j.total} devices finished: ${c.done} commissioned, `
    + `${c.failed} failed, ${c.active} under way, ${c.pending} waiting`
    + (JOB_FINAL.has(j.state) ? ` — job ${j.state}.` : '.');
  $('run-state').replaceChildren(badge(j.state));
}

function targetRow(t) {
  return el('tr', { dataset: { state: t.state } },
    el('td', { dataset: { label: 'Device' } }, t.name || (t.uuid ? uuidText(t.uuid) : `device ${t.index + 1}`)),
    el('td', { dataset: { label: 'Zone' } }, t.zone || '—'),
    el('td', { dataset: { label: 'State' } }, badge(t.state)),
    el('td', { dataset: { label: 'Step' } }, t.phase ? String(t.phase).replaceAll('_', ' ') : '—'),
    el('td', { dataset: { label: 'Path' } }, pathText(t.path ?? t.via)),
    el('td', { dataset: { label: 'Attempts' } }, String(t.attempts ?? 0)),
    el('td', { dataset: { label: 'Address' } }, Number.isInteger(t.address)
      ? el('a', { href: `#node/${t.address}` }, addr(t.address)) : '—'),
    el('td', { class: 'wide', dataset: { label: 'Error' } }, t.error ? el('span', { class: 'error' }, t.error) : ''));
}

function upsertTarget(t, fromSnapshot) {
  upsertTargetRow(run.targets, $('run-rows'), t, fromSnapshot, targetRow);
}

// job.updated and job.target from the event stream (app.js hands them over).
export function manifestsEvent(type, data) {
  if (!run || !isCurrent()) return;
  if (type === 'job.updated' && data.id === run.id) showRun(data);
  if (type === 'job.target' && data.job === run.id) upsertTarget(data, false);
}

// The report needs the token, so its links download through fetch.  errorId: where a
// refusal is shown.
export async function downloadReport(jobId, format, errorId) {
  showError(errorId, null);
  try {
    const blob = await apiBlob(`/api/v1/jobs/${jobId}/report?format=${format}`);
    saveBlob(blob, `meshgw-commission-job-${jobId}.${format}`);
  } catch (err) {
    showError(errorId, err);
  }
}

for (const f of ['csv', 'json']) {
  $(`run-report-${f}`).addEventListener('click', (ev) => {
    ev.preventDefault();
    if (run) downloadReport(run.id, f, 'run-error');
  });
}

export async function enterManifests() {
  await loadManifests();
  if (opened) await openManifest(opened.id);
}

$('manifests-refresh').addEventListener('click', (ev) => busy(ev.target, enterManifests));
