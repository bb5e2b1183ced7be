// Two HTTP limits answered rather than reset (issue 15): a client address over
// http_max_per_ip gets 503 with Retry-After (libmicrohttpd alone would close the
// connection at accept), and a request body still trickling in http_io_timeout_s after
// the headers gets 408 and the connection closes.  Loopback only, a few sockets, every
// wait bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startWorld, waitFor } from './harness.mjs';
import { loopback } from './lib/load.mjs';

const PER_IP = 8;
const IO_TIMEOUT_S = 4;

let w;
const open = [];

before(async () => {
  w = await startWorld({ gwConf: { http_max_per_ip: PER_IP, http_io_timeout_s: IO_TIMEOUT_S } });
});

after(async () => {
  for (const s of open) s.destroy();
  if (w) await w.close();
});

/** A connected socket from localAddress, collecting what it reads; resolves once connected. */
function connect(localAddress) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: w.port, localAddress });
    s.data = '';
    s.closedAt = null;
    s.on('data', (d) => { s.data += d.toString('latin1'); });
    s.on('close', () => { s.closedAt = Date.now(); });
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('error', reject);
    open.push(s);
  });
}

/** GET path on a new connection from localAddress; resolves with {status, headers, body} or null if closed unanswered. */
async function get(localAddress, path) {
  const s = await connect(localAddress);
  s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  await waitFor(() => s.closedAt !== null, { timeout: 5000, what: `the answer to GET ${path}` });
  const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(s.data);
  if (!m) return null;
  const headers = Object.fromEntries(m[2].split('\r\n').map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
  }));
  return { status: Number(m[1]), headers, body: m[3] };
}

test('a client address over http_max_per_ip gets 503 with Retry-After, others are served', async () => {
  const busyAddr = loopback(30);
  const idle = [];
  for (let i = 0; i < PER_IP; i++) idle.push(await connect(busyAddr));
  // The gateway counts a connection when it accepts it: retry until the idle ones are in.
  const r = await waitFor(async () => {
    const x = await get(busyAddr, '/healthz');
    return x && x.status === 503 && x;
  }, { timeout: 5000, what: `503 for connection ${PER_IP + 1} from ${busyAddr}` });
  assert.equal(r.headers['retry-after'], '1');
  assert.equal(r.headers['content-type'], 'application/problem+json');
  const p = JSON.parse(r.body);
  assert.equal(p.status, 503);
  assert.match(p.detail, new RegExp(`max_per_ip ${PER_IP}`));
  // The idle connections were not dropped to make room, and another address is served.
  assert.ok(idle.every((s) => s.closedAt === null), 'an idle connection was closed');
  assert.equal((await get(loopback(31), '/healthz'))?.status, 200);
  // Once the address's connections close, it is served again.
  for (const s of idle) s.destroy();
  await waitFor(async () => (await get(busyAddr, '/healthz'))?.status === 200,
    { timeout: 5000, what: `${busyAddr} served again after its connections closed` });
});

test('a body still arriving http_io_timeout_s after the headers is answered 408 and cut', async () => {
  const s = await connect(loopback(32));
  const body = JSON.stringify({ duration_s: 1 }).padEnd(200, ' ');
  s.write('POST /api/v1/scans HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
    `Authorization: Bearer ${w.tokens.operator}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n\r\n`);
  const t0 = Date.now();
  let i = 0;
  // One byte every 500 ms: each within the idle timeout, the whole far beyond the deadline.
  const timer = setInterval(() => {
    if (s.closedAt === null && i < body.length) s.write(body[i++]);
  }, 500);
  try {
    await waitFor(() => s.data.includes('\r\n\r\n') && s.closedAt !== null,
      { timeout: (IO_TIMEOUT_S + 6) * 1000, what: 'the 408 and the close' });
  } finally {
    clearInterval(timer);
  }
  const ms = Date.now() - t0;
  assert.match(s.data, /^HTTP\/1\.1 408 /);
  assert.match(s.data, /http_io_timeout_s/);
  assert.ok(ms >= IO_TIMEOUT_S * 1000 - 100, `answered after ${ms} ms, before the deadline`);
  assert.ok(ms < (IO_TIMEOUT_S + 2) * 1000, `answered after ${ms} ms`);
  assert.ok(i < body.length, 'the whole body was sent');
});
