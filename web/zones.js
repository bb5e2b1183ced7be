// Zones view: every zone with its group address, lights (Generic OnOff Servers subscribed to
// the group) and switches (Generic OnOff Clients publishing to it); create and rename zones,
// move a node to another zone; and a picture of who hears whom in the last scan (the
// gateway, Remote Provisioning Servers and unprovisioned devices) drawn in SVG by hand.

import { api } from './api.js';
import {
  $, el, addr, showError, busy,
} from './ui.js';

let zones = [];
let isCurrent = () => false;

export function initZones(opts) {
  isCurrent = opts.isCurrent;
}

// A member of a zone as the API lists it: an address, or an object with an address or node
// (and maybe a name and element).
function memberAddress(m) {
  if (typeof m === 'number') return m;
  if (m && typeof m === 'object') return m.node ?? m.address ?? null;
  return null;
}

function memberText(m, names) {
  if (typeof m === 'number') return names.get(m) ? `${names.get(m)} (${addr(m)})` : addr(m);
  const a = m.address ?? m.node;
  const who = m.name || names.get(m.node ?? a);
  const parts = [who, Number.isInteger(a) ? addr(a) : null, Number.isInteger(m.element) ? `element ${m.element}` : null];
  return parts.filter(Boolean).join(' · ') || JSON.stringify(m);
}

// address -> zone name, for the node list; empty when the gateway has no zones.
export async function zoneNames() {
  const map = new Map();
  try {
    const res = await api('GET', '/api/v1/zones');
    for (const z of res.items) {
      for (const m of [...(z.nodes || []), ...(z.lights || []), ...(z.switches || [])]) {
        const a = memberAddress(m);
        if (Number.isInteger(a) && !map.has(a)) map.set(a, z.name);
      }
    }
  } catch {
    // No zones API (or no right to it): the list shows no zones.
  }
  return map;
}

async function allNodes() {
  const res = await api('GET', '/api/v1/nodes?limit=1000&excluded=false');
  return res.items;
}

function memberList(title, items, names) {
  return el('div', {},
    el('h4', {}, `${title} (${items.length})`),
    items.length ? el('ul', { class: 'plain' }, items.map((m) => el('li', {}, memberText(m, names))))
      : el('p', { class: 'muted' }, 'none'));
}

function zoneCard(z, names) {
  const inputId = `zone-rename-${z.id}`;
  const input = el('input', { id: inputId, maxlength: '64', autocomplete: 'off', value: z.name });
  const status = el('p', { class: 'status', role: 'status' });
  const form = el('form', { class: 'row', novalidate: true },
    el('label', { for: inputId, class: 'sr-only' }, `New name for zone ${z.name}`),
    input, el('button', { type: 'submit', class: 'secondary' }, 'Rename'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = input.value.trim();
    if (!name) {
      status.textContent = 'A zone needs a name.';
      return;
    }
    try {
      await busy(ev.submitter, () => api('PATCH', `/api/v1/zones/${z.id}`, { name }));
      $('zones-status').textContent = `Zone “${z.name}” renamed to “${name}”.`;
      await loadZones();
    } catch (err) {
      status.textContent = err.detail;
    }
  });
  return el('li', { class: 'card zone', dataset: { id: z.id } },
    el('h3', {}, `Zone ${z.name}`),
    el('p', { class: 'muted' }, `Group address ${Number.isInteger(z.group) ? addr(z.group) : '—'}`),
    memberList('Lights', z.lights || [], names),
    memberList('Switches', z.switches || [], names),
    memberList('Nodes', z.nodes || [], names),
    form, status);
}

async function loadZones() {
  showError('zones-error', null);
  let nodes = [];
  try {
    nodes = await allNodes();
  } catch (err) {
    showError('zones-error', err);
  }
  const names = new Map(nodes.map((n) => [n.address, n.name]));
  $('move-node').replaceChildren(...nodes.map((n) => el('option', { value: n.address },
    `${n.name || 'unnamed'} (${addr(n.address)})`)));
  try {
    zones = (await api('GET', '/api/v1/zones')).items;
  } catch (err) {
    zones = [];
    showError('zones-error', new Error(`Zones: ${err.detail}`));
  }
  $('zones-empty').hidden = zones.length > 0;
  $('zones-list').replaceChildren(...zones.map((z) => zoneCard(z, names)));
  $('move-zone').replaceChildren(...zones.map((z) => el('option', { value: z.id }, z.name)));
  return nodes;
}

$('zone-create').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('zone-name').value.trim();
  if (!name) {
    showError('zones-error', new Error('Type the new zone’s name.'));
    $('zone-name').focus();
    return;
  }
  try {
    const z = await busy(ev.submitter, () => api('POST', '/api/v1/zones', { name }));
    $('zone-name').value = '';
    $('zones-status').textContent = `Zone “${z.name}” created${Number.isInteger(z.group) ? ` with group address ${addr(z.group)}` : ''}.`;
    await loadZones();
  } catch (err) {
    showError('zones-error', err);
  }
});

$('zone-move').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const address = Number($('move-node').value);
  const zone = Number($('move-zone').value);
  if (!address || !zone) return;
  try {
    await busy(ev.submitter, () => api('PUT', `/api/v1/nodes/${address}/zone`, { zone }));
    const z = zones.find((x) => x.id === zone);
    $('zones-status').textContent = `Node ${addr(address)} moved to zone “${z ? z.name : zone}”: its subscriptions and publications follow.`;
    await loadZones();
  } catch (err) {
    showError('zones-error', err);
  }
});

// ---- who hears whom (SVG, hand-made layout)

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// Places n points evenly on a circle, starting at the top.
function ring(n, r, cx, cy, phase = 0) {
  return Array.from({ length: n }, (_, i) => {
    const a = -Math.PI / 2 + phase + (2 * Math.PI * i) / Math.max(n, 1);
    return { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a), a };
  });
}

// -30 dBm (close) gives a 4 px line, -100 dBm (the edge of reach) 1 px.
const edgeWidth = (rssi) => Math.max(1, Math.min(4, 1 + ((rssi + 100) * 3) / 70)).toFixed(1);

export function drawTopology(results, names) {
  const servers = [...new Set(results.flatMap((d) => (d.seen_by || []).map((h) => h.via)).filter((v) => v !== 0))]
    .sort((a, b) => a - b);
  const direct = results.filter((d) => (d.seen_by || []).some((h) => h.via === 0));
  const remote = results.filter((d) => !(d.seen_by || []).some((h) => h.via === 0));
  const loudest = (d) => [...(d.seen_by || [])].sort((a, b) => b.rssi - a.rssi)[0];
  const r1 = 70 + Math.min(direct.length, 40) * 3;
  const r2 = r1 + 90;
  const r3 = r2 + 80 + Math.min(remote.length, 100);
  const size = 2 * (servers.length || remote.length ? r3 : r1) + 160;
  const c = size / 2;
  const pos = new Map([[0, { x: c, y: c }]]);
  ring(servers.length, r2, c, c).forEach((p, i) => pos.set(servers[i], p));
  ring(direct.length, r1, c, c, 0.2).forEach((p, i) => pos.set(direct[i].uuid, p));
  // Devices only servers hear: in the order of their loudest server around the ring, so
  // each sits near the server that hears it best.
  const serverIndex = new Map(servers.map((s, i) => [s, i]));
  const outer = [...remote].sort((a, b) => serverIndex.get(loudest(a).via) - serverIndex.get(loudest(b).via));
  ring(outer.length, r3, c, c).forEach((p, i) => pos.set(outer[i].uuid, p));

  const edges = svg('g', { class: 'edges' });
  for (const s of servers) {
    const p = pos.get(s);
    edges.append(svg('line', { x1: c, y1: c, x2: p.x, y2: p.y, class: 'member' },
      svg('title', {}, `server ${addr(s)} is a node of the network`)));
  }
  for (const d of results) {
    const q = pos.get(d.uuid);
    for (const h of d.seen_by || []) {
      const p = pos.get(h.via);
      if (!p) continue;
      edges.append(svg('line', {
        x1: p.x, y1: p.y, x2: q.x, y2: q.y, class: 'hears', 'stroke-width': edgeWidth(h.rssi),
      }, svg('title', {}, `${h.via === 0 ? 'gateway' : `server ${addr(h.via)}`} hears ${d.uuid.slice(0, 8)}… at ${h.rssi} dBm`)));
    }
  }
  const dots = svg('g', { class: 'dots' });
  for (const d of results) {
    const q = pos.get(d.uuid);
    const best = loudest(d);
    dots.append(svg('g', { class: 'device', 'data-uuid': d.uuid },
      svg('circle', { cx: q.x, cy: q.y, r: 6 }),
      svg('title', {}, `device ${d.uuid}${best ? `, loudest ${best.rssi} dBm` : ''}`),
      svg('text', { x: q.x, y: q.y + 18, 'text-anchor': 'middle' }, d.uuid.slice(0, 8))));
  }
  for (const s of servers) {
    const p = pos.get(s);
    const label = names.get(s) ? `${names.get(s)} ${addr(s)}` : `server ${addr(s)}`;
    dots.append(svg('g', { class: 'server', 'data-address': s },
      svg('rect', { x: p.x - 9, y: p.y - 9, width: 18, height: 18, rx: 3 }),
      svg('title', {}, `Remote Provisioning Server ${label}`),
      svg('text', { x: p.x, y: p.y - 14, 'text-anchor': 'middle' }, label)));
  }
  dots.append(svg('g', { class: 'gateway' },
    svg('circle', { cx: c, cy: c, r: 14 }),
    svg('title', {}, 'the gateway'),
    svg('text', { x: c, y: c + 30, 'text-anchor': 'middle' }, 'gateway')));
  const plural = (n, what) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const summary = `${plural(results.length, 'device')} in the last scan: the gateway hears ${direct.length}`
    + (servers.length ? `; ${plural(servers.length, 'Remote Provisioning Server')} report devices, ${remote.length} heard only through a server.`
      : '; no Remote Provisioning Server reported any.');
  // Drawn at its own size (so labels keep their size), narrower only when the window is.
  const pic = svg('svg', {
    viewBox: `0 0 ${size} ${size}`, width: size, height: size, role: 'img', 'aria-label': summary, class: 'topology-svg',
  }, edges, dots);
  return { pic, summary };
}

async function loadTopology(nodes) {
  showError('topology-error', null);
  try {
    const res = await api('GET', '/api/v1/scans/results');
    const names = new Map(nodes.map((n) => [n.address, n.name]));
    const { pic, summary } = drawTopology(res.items, names);
    $('topology-svg').replaceChildren(pic);
    $('topology-caption').textContent = res.items.length ? summary
      : 'No devices in the last scan: run a scan to draw the picture.';
  } catch (err) {
    showError('topology-error', err);
  }
}

export async function enterZones() {
  $('zones-status').textContent = '';
  const nodes = await loadZones();
  if (isCurrent()) await loadTopology(nodes);
}

$('zones-refresh').addEventListener('click', (ev) => busy(ev.target, enterZones));
