// Load generators for meshgw's HTTP front end (http_load.test.mjs, bench/http_load.mjs):
// slow header senders, event streams and bursts of requests on raw loopback sockets.
// Clients can be spread over several loopback source addresses (127.0.0.2 and up) so that
// the gateway's per-address connection limit sees many clients, as it would on a network.
// Nothing here asserts: every helper counts what happened and the caller decides.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

/** The i-th extra loopback source address (127.0.0.2, 127.0.0.3, ...). */
export const loopback = (i) => `127.0.0.${2 + i}`;

/** This process's soft limit on open descriptors (as the shell reports it). */
export function fdLimit() {
  const v = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return v === 'unlimited' ? Infinity : parseInt(v, 10);
}

/**
 * Opens n sockets that send a request line and then one header line every intervalMs,
 * never the blank line that would end the headers (a bounded slowloris).  Source
 * addresses cycle through `addrs` loopback addresses from loopback(firstAddr).
 * Resolves once every socket has connected or failed, with counters and close().
 */
export async function slowSockets(port, n, { firstAddr = 0, addrs = 10, intervalMs = 3000 } = {}) {
  const st = { socks: [], connected: 0, failed: 0, closed: 0, answered: 0 };
  await Promise.all(Array.from({ length: n }, (_, i) => new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: loopback(firstAddr + (i % addrs)) });
    let up = false;
    s.on('connect', () => {
      up = true;
      st.connected++;
      s.write('GET /healthz HTTP/1.1\r\nHost: meshgw\r\n');
      resolve();
    });
    s.on('data', () => { st.answered++; });
    s.on('error', () => {});
    s.on('close', () => {
      if (up) st.closed++;
      else st.failed++;
      resolve();
    });
    st.socks.push(s);
  })));
  let k = 0;
  const timer = setInterval(() => {
    k++;
    for (const s of st.socks) if (!s.destroyed) s.write(`X-Slow-${k}: 1\r\n`);
  }, intervalMs);
  st.close = () => {
    clearInterval(timer);
    for (const s of st.socks) s.destroy();
  };
  return st;
}

/**
 * One event stream on a raw socket.  Resolves once the response head and the first
 * bytes of the body have arrived (status 200 and ": connected"), the answer was not
 * 200 (status set, text holds the answer), or the socket closed first (status 0).
 * until(needle, timeoutMs) resolves true once needle has arrived, false at the deadline.
 */
export function eventStream(port, token, { localAddress, timeoutMs = 10000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    const es = { sock: s, status: 0, text: '', closed: false, waiters: [] };
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(es);
      }
    };
    const timer = setTimeout(settle, timeoutMs);
    es.until = (needle, ms = 10000) => {
      if (es.text.includes(needle)) return Promise.resolve(true);
      if (es.closed) return Promise.resolve(false);
      return new Promise((res) => {
        const w = { needle, res, t: setTimeout(() => { es.waiters = es.waiters.filter((x) => x !== w); res(false); }, ms) };
        es.waiters.push(w);
      });
    };
    es.close = () => s.destroy();
    s.on('connect', () => {
      s.write(`GET /api/v1/events HTTP/1.1\r\nHost: meshgw\r\nAccept: text/event-stream\r\n` +
        `Authorization: Bearer ${token}\r\n\r\n`);
    });
    s.setEncoding('utf8');
    s.on('data', (d) => {
      // Keep a bounded tail: an event stream runs for as long as the test.
      es.text = (es.text + d).slice(-16384);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(es.text);
      if (m) es.status = Number(m[1]);
      if (es.status && (es.status !== 200 || es.text.includes(': connected'))) settle();
      es.waiters = es.waiters.filter((w) => {
        if (!es.text.includes(w.needle)) return true;
        clearTimeout(w.t);
        w.res(true);
        return false;
      });
    });
    s.on('error', () => {});
    s.on('close', () => {
      es.closed = true;
      for (const w of es.waiters) {
        clearTimeout(w.t);
        w.res(false);
      }
      es.waiters = [];
      settle();
    });
  });
}

/**
 * n event streams, stream i with tokenOf(i) from loopback(firstAddr + i % addrs).
 * Resolves with the streams and counts by status (0: closed without an answer).
 */
export async function eventStreams(port, n, tokenOf, { firstAddr = 10, addrs = 10 } = {}) {
  const streams = await Promise.all(Array.from({ length: n },
    (_, i) => eventStream(port, tokenOf(i), { localAddress: loopback(firstAddr + (i % addrs)) })));
  const byStatus = {};
  for (const s of streams) byStatus[s.status] = (byStatus[s.status] || 0) + 1;
  return { streams, byStatus, close: () => streams.forEach((s) => s.close()) };
}

/**
 * One GET on a fresh connection from 127.0.0.1.  Resolves with {status, ms} or
 * {error, ms} (error: the socket error's code, or 'timeout' after timeoutMs).
 */
export function probe(port, urlPath, { token, timeoutMs = 5000, agent = false } = {}) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0 }));
      res.on('error', (e) => resolve({ error: e.code || e.message, ms: performance.now() - t0 }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (e) => resolve({ error: e.code || e.message, ms: performance.now() - t0 }));
  });
}

/**
 * `clients` clients at once, each sending `perClient` GETs one after another on its own
 * kept-alive connection.  Resolves with counts by status and by error code, the
 * latencies' p50/p99/max, and the wall time.
 */
export async function burst(port, urlPath, { clients = 100, perClient = 20, token } = {}) {
  const statuses = {};
  const errors = {};
  const lat = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < perClient; i++) {
      const r = await probe(port, urlPath, { token, agent, timeoutMs: 30000 });
      if (r.error) errors[r.error] = (errors[r.error] || 0) + 1;
      else statuses[r.status] = (statuses[r.status] || 0) + 1;
      lat.push(r.ms);
    }
    agent.destroy();
  }));
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { statuses, errors, p50: pct(0.5), p99: pct(0.99), max: lat[lat.length - 1], ms: performance.now() - t0 };
}
