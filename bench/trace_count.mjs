// Counts the gateway's own traffic from a meshgw -d log (gateway/core.c node_traced() lines):
// lower transport PDUs it originated by kind (unsegmented access, segment, Segment
// Acknowledgment, other control) and access messages sent and received by opcode, each also
// per device (divided by the devices given, default: the nodes the log says were configured).
//
//   node bench/trace_count.mjs /tmp/meshgw-integ-XXXX/meshgw-1.err [devices]
import fs from 'node:fs';

const NAMES = {
  '0x0000': 'AppKey Add', '0x0002': 'Composition Data Status', '0x8003': 'AppKey Status',
  '0x8008': 'Composition Data Get', '0x800d': 'Default TTL Set', '0x800e': 'Default TTL Status',
  '0x8027': 'Relay Set', '0x8028': 'Relay Status', '0x803d': 'Model App Bind', '0x803e': 'Model App Status',
  '0x8019': 'Model Publication Status', '0x801b': 'Model Subscription Add', '0x801f': 'Model Subscription Status',
  '0x0003': 'Model Publication Set', '0x804f': 'RPR Scan Capabilities Get', '0x8050': 'RPR Scan Capabilities Status',
  '0x8051': 'RPR Scan Get', '0x8052': 'RPR Scan Start', '0x8053': 'RPR Scan Stop', '0x8054': 'RPR Scan Status',
  '0x8055': 'RPR Scan Report', '0x8059': 'RPR Link Open', '0x805a': 'RPR Link Close', '0x805b': 'RPR Link Status',
  '0x805c': 'RPR Link Report', '0x805d': 'RPR PDU Send', '0x805e': 'RPR PDU Outbound Report', '0x805f': 'RPR PDU Report',
};
const [file, devArg] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');
const n = Number(devArg) || new Set([...text.matchAll(/node (0x[0-9a-f]+) configured/g)].map((m) => m[1])).size || 1;
const kinds = new Map();
const ops = new Map();
for (const m of text.matchAll(/ trace (\S+) 0x[0-9a-f]+>0x[0-9a-f]+ op (0x[0-9a-f]+)/g)) {
  const key = m[1].startsWith('acc-') ? `${m[1]} ${m[2]}` : m[1];
  const map = m[1].startsWith('acc-') ? ops : kinds;
  map.set(key, (map.get(key) || 0) + 1);
}
const line = (k, v) => console.log(`${k.padEnd(48)} ${String(v).padStart(6)} ${(v / n).toFixed(2).padStart(7)}`);
console.log(`${n} devices; kind / total / per device`);
for (const [k, v] of [...kinds].sort()) line(`PDU ${k}`, v);
line('PDU all', [...kinds.values()].reduce((a, b) => a + b, 0));
for (const [k, v] of [...ops].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
  const [dir, op] = k.split(' ');
  line(`${dir} ${NAMES[op] || op}`, v);
}
line('messages sent', [...ops].filter(([k]) => k.startsWith('acc-tx')).reduce((a, [, v]) => a + v, 0));
line('messages received', [...ops].filter(([k]) => k.startsWith('acc-rx')).reduce((a, [, v]) => a + v, 0));
