// REST API v1 client for the commissioning page: bearer token handling,
// JSON requests, problem+json errors and the Server-Sent Events stream.
//
// The token lives in sessionStorage only: it disappears with the tab, is
// never written to localStorage and never appears in a URL.

const TOKEN_KEY = 'meshgw.token';
const REQUEST_TIMEOUT_MS = 30000;

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// An HTTP error answer.  `detail` is the sentence to show to the user: the
// problem's detail, else its title, else the status line.
export class ApiError extends Error {
  constructor(status, title, detail, errors) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title || '';
    this.detail = this.message;
    // A manifest's 422 lists every bad row: [{row, field, message, line}].
    this.errors = Array.isArray(errors) ? errors : [];
  }
}

async function problemFrom(res) {
  let title = res.statusText;
  let detail = '';
  let errors;
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      const p = await res.json();
      title = p.title || title;
      detail = p.detail || '';
      errors = p.errors;
    } catch {
      // A body that is not JSON after all: the status line has to do.
    }
  }
  return new ApiError(res.status, title, detail, errors);
}

// Listeners told when the gateway answers 401, so the page can ask for a
// token again.
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

function authHeaders() {
  const h = { Accept: 'application/json' };
  const t = getToken();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

// One request.  `body` (an object) is sent as application/json.  Resolves
// to the parsed JSON answer (null for an empty one); rejects with ApiError.
export function api(method, path, body) {
  return body === undefined ? apiText(method, path) : apiText(method, path, 'application/json', JSON.stringify(body));
}

// The same with a body that is already text in its own media type (a CSV manifest).
export async function apiText(method, path, type, text) {
  const res = await request(method, path, type === undefined ? undefined : { type, text });
  const answer = await res.text();
  return answer ? JSON.parse(answer) : null;
}

// A download that needs the token (a link cannot carry the Authorization header):
// resolves to the answer as a Blob.
export async function apiBlob(path) {
  const res = await request('GET', path, undefined, '*/*');
  return res.blob();
}

async function request(method, path, body, accept) {
  const init = { method, headers: authHeaders(), cache: 'no-store' };
  if (accept) init.headers.Accept = accept;
  if (body !== undefined) {
    init.headers['Content-Type'] = body.type;
    init.body = body.text;
  }
  init.signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    const what = e.name === 'TimeoutError' ? 'the gateway did not answer in time'
      : 'the gateway cannot be reached';
    throw new ApiError(0, 'Network error', what);
  }
  if (!res.ok) {
    const err = await problemFrom(res);
    if (res.status === 401) unauthorizedListeners.forEach((fn) => fn(err));
    throw err;
  }
  return res;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Server-Sent Events parser (HTML Living Standard §9.2.6 "Event stream
// interpretation") fed with decoded text chunks.  Calls dispatch(type, data,
// id) per event and onRetry(ms) for a "retry:" field.
export class SseParser {
  constructor(dispatch, onRetry) {
    this.dispatch = dispatch;
    this.onRetry = onRetry || (() => {});
    this.buf = '';
    this.lastEventId = '';
    this.reset();
  }

  reset() {
    this.type = '';
    this.data = '';
  }

  push(chunk) {
    this.buf += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) return;
      // A lone CR at the very end may be the first half of CRLF.
      if (m[0] === '\r' && m.index === this.buf.length - 1) return;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.data !== '') {
        this.dispatch(this.type || 'message', this.data.replace(/\n$/, ''), this.lastEventId);
      }
      this.reset();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data += `${value}\n`;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^[0-9]+$/.test(value)) this.onRetry(Number(value));
  }
}

// The event stream GET /api/v1/events.  EventSource cannot send an
// Authorization header, so this reads the stream with fetch() and a reader,
// reconnecting with Last-Event-ID after a drop.
//   onEvent(type, json)   one event, data already parsed
//   onState(state, text)  "connecting" | "live" | "retrying" | "stopped"
//   onReconnect()         the stream is back after a drop: refresh views
export class EventStream {
  constructor({ onEvent, onState, onReconnect }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.onReconnect = onReconnect;
    this.ctrl = null;
    this.retryMs = 2000;
    this.failures = 0;
    this.lastId = '';
    this.running = false;
    this.timer = 0;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.connect(false);
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    if (this.ctrl) this.ctrl.abort();
    this.ctrl = null;
    this.onState('stopped', 'Live updates off');
  }

  async connect(isRetry) {
    if (!this.running) return;
    this.onState('connecting', 'Connecting…');
    this.ctrl = new AbortController();
    const headers = authHeaders();
    headers.Accept = 'text/event-stream';
    if (this.lastId) headers['Last-Event-ID'] = this.lastId;
    let res;
    try {
      res = await fetch('/api/v1/events', { headers, signal: this.ctrl.signal, cache: 'no-store' });
    } catch {
      this.retry();
      return;
    }
    if (!res.ok) {
      const err = await problemFrom(res);
      if (res.status === 401) {
        unauthorizedListeners.forEach((fn) => fn(err));
        this.stop();
        return;
      }
      this.retry(err.detail);
      return;
    }
    this.failures = 0;
    this.onState('live', 'Live');
    if (isRetry) this.onReconnect();
    const parser = new SseParser((type, data, id) => {
      this.lastId = id;
      let json = null;
      try {
        json = JSON.parse(data);
      } catch {
        return; // Not one of the gateway's events.
      }
      this.onEvent(type, json);
    }, (ms) => { this.retryMs = ms; });
    try {
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } catch {
      // Aborted by stop(), or the connection dropped: handled below.
    }
    this.retry();
  }

  retry(why) {
    if (!this.running) return;
    this.failures += 1;
    // Back off up to 30 s while the gateway stays away.
    const delay = Math.min(this.retryMs * 2 ** Math.min(this.failures - 1, 4), 30000);
    this.onState('retrying', why ? `Reconnecting (${why})` : 'Reconnecting…');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(true), delay);
  }
}
