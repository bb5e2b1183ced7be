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
function memberText(m, names) {
  if (typeof m === 'number') return names.get(m) ? `${names.get(m)} (${addr(m)})` : addr(m);
  const a = m.address ?? m.node;
  const who = m.name || names.get(m.node ?? a);
  const parts = [who, Number.isInteger(a) ? addr(a) : null, Number.isInteger(m.element) ? `element ${m.element}` : null];
  return parts.filter(Boolean).join(' · ') || JSON.stringify(m);
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

// -30 dBm (close) gives a 4 px line, -100 dBm (the edge of reach) 1 px.
const edgeWidth = (rssi) => Math.max(1, Math.min(4, 1 + ((rssi + 100) * 3) / 70)).toFixed(1);

const RING_GAP = 90; // px between rings
const SPACING = 46; // px at least between neighbours on a ring

// Hops from the gateway: a server provisioned by the gateway itself is 1 hop away, one
// provisioned through server S one more than S (parents: server -> the via of its session,
// 0 for the gateway; a server without a known session counts as 1 hop).  An unprovisioned
// device is one hop beyond the nearest receiver that heard it.
function hopsOf(servers, results, parents) {
  const hop = new Map([[0, 0]]);
  const serverHop = (s, seen = new Set()) => {
    if (hop.has(s)) return hop.get(s);
    const via = parents.get(s);
    const h = via === undefined || via === null || seen.has(via) ? 1 : serverHop(via, seen.add(s)) + 1;
    hop.set(s, h);
    return h;
  };
  for (const s of servers) serverHop(s);
  for (const d of results) hop.set(d.uuid, 1 + Math.min(...(d.seen_by || []).map((h) => serverHop(h.via))));
  return hop;
}

// Pushes angles (sorted, on a circle) apart until neighbours are at least minSep apart;
// the ring is sized so that this is possible.
function spread(angles, minSep) {
  const n = angles.length;
  for (let round = 0; round < 100 && n > 1; round += 1) {
    let moved = false;
    for (let i = 0; i < n; i += 1) {
      const j = (i + 1) % n;
      const gap = j ? angles[j] - angles[i] : angles[0] + 2 * Math.PI - angles[i];
      if (gap < minSep - 1e-9) {
        const d = (minSep - gap) / 2;
        angles[i] -= d;
        angles[j] += d;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return angles;
}

// The layout, by hand: a radial tree around the gateway.  Each server and device hangs
// from what reached it (a server: the one it was provisioned through; a device: its
// nearest receiver, the loudest of those), at the ring of its hop, inside a wedge of its
// parent's angle sized by how many it carries, so a branch (a chain of servers down a
// corridor) stays together; then each ring is spread so that no two dots touch.
function layout(servers, results, parents, c) {
  const hop = hopsOf(servers, results, parents);
  const drawn = new Set(servers);
  const children = new Map([[0, []]]);
  for (const s of servers) children.set(s, []);
  for (const s of servers) {
    const p = drawn.has(parents.get(s)) ? parents.get(s) : 0;
    children.get(p).push(s);
  }
  for (const d of results) {
    const best = [...(d.seen_by || [])].sort((x, y) => hop.get(x.via) - hop.get(y.via) || y.rssi - x.rssi)[0];
    children.get(best && drawn.has(best.via) ? best.via : 0).push(d.uuid);
  }
  const weight = new Map();
  const weigh = (k) => {
    const w = Math.max(1, (children.get(k) || []).reduce((sum, x) => sum + weigh(x), 0));
    weight.set(k, w);
    return w;
  };
  weigh(0);
  const want = new Map();
  const place = (k, from, to) => {
    let a = from;
    for (const x of children.get(k) || []) {
      const span = ((to - from) * weight.get(x)) / weight.get(k);
      want.set(x, a + span / 2);
      place(x, a, a + span);
      a += span;
    }
  };
  place(0, -Math.PI / 2, (3 * Math.PI) / 2);

  const pos = new Map([[0, { x: c, y: c }]]);
  const keys = [...want.keys()];
  const maxHop = Math.max(0, ...keys.map((k) => hop.get(k)));
  const radii = [];
  let r = 0;
  for (let h = 1; h <= maxHop; h += 1) {
    const ring = keys.filter((k) => hop.get(k) === h).sort((x, y) => want.get(x) - want.get(y));
    r = Math.max(r + RING_GAP, (ring.length * SPACING) / (2 * Math.PI));
    radii.push(r);
    const angles = spread(ring.map((k) => want.get(k)), SPACING / r);
    ring.forEach((k, i) => pos.set(k, { x: c + r * Math.cos(angles[i]), y: c + r * Math.sin(angles[i]) }));
  }
  return { pos, radii };
}

// Every server drawn, with the servers that provisioned them (a server that heard no device
// in this scan still carries the ones behind it).
function withAncestors(servers, parents) {
  const all = new Set(servers);
  for (const s of servers) {
    for (let v = parents.get(s); v && !all.has(v); v = parents.get(v)) all.add(v);
  }
  return [...all].sort((a, b) => a - b);
}

// results: GET /api/v1/scans/results items; names: address -> node name; parents: server
// address -> the via of the session that provisioned it.
export function drawTopology(results, names, parents = new Map()) {
  const servers = withAncestors([...new Set(results.flatMap((d) => (d.seen_by || []).map((h) => h.via)).filter((v) => v !== 0))],
    parents);
  const direct = results.filter((d) => (d.seen_by || []).some((h) => h.via === 0));
  const remote = results.length - direct.length;
  const loudest = (d) => [...(d.seen_by || [])].sort((a, b) => b.rssi - a.rssi)[0];
  // The size is known once the rings are: lay out around 0 first, then shift.
  const { pos: at0, radii } = layout(servers, results, parents, 0);
  const margin = 80;
  const size = 2 * ((radii[radii.length - 1] || 0) + margin);
  const c = size / 2;
  const pos = new Map([...at0].map(([k, p]) => [k, { x: p.x + c, y: p.y + c }]));

  const rings = svg('g', { class: 'rings' }, ...radii.map((r) => svg('circle', { cx: c, cy: c, r })));
  const edges = svg('g', { class: 'edges' });
  for (const s of servers) {
    const p = pos.get(s);
    const via = parents.get(s) ?? 0;
    const q = pos.get(via) || pos.get(0);
    edges.append(svg('line', { x1: q.x, y1: q.y, x2: p.x, y2: p.y, class: 'member' },
      svg('title', {}, `server ${addr(s)} was provisioned through ${via ? `server ${addr(via)}` : 'the gateway'}`)));
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
    + (servers.length ? `, ${remote} only through the ${plural(servers.length, 'Remote Provisioning Server')} shown.`
      : '; no Remote Provisioning Server reported any.');
  // Drawn at its own size (so labels keep their size), narrower only when the window is.
  const pic = svg('svg', {
    viewBox: `0 0 ${size} ${size}`, width: size, height: size, role: 'img', 'aria-label': summary, class: 'topology-svg',
  }, rings, edges, dots);
  return { pic, summary };
}

async function loadTopology(nodes) {
  showError('topology-error', null);
  try {
    const [res, sessions] = await Promise.all([api('GET', '/api/v1/scans/results'), api('GET', '/api/v1/provisioning')]);
    const names = new Map(nodes.map((n) => [n.address, n.name]));
    // Which server (or the gateway, via 0) provisioned each node, from the sessions kept.
    const parents = new Map(sessions.items.filter((x) => x.state === 'done' && Number.isInteger(x.address))
      .map((x) => [x.address, x.via || 0]));
    const { pic, summary } = drawTopology(res.items, names, parents);
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
