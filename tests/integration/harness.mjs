// Test harness for the HTTP integration tests: starts meshsim and meshgw on
// private sockets, ports and state directories, talks to meshgw over HTTP
// (validating every response against openapi.yaml) and to meshsim over its
// control socket (acting as the person standing at a device).
//
// Readiness and progress are observed by polling with a deadline, never by
// fixed sleeps: a slow machine only makes the test slower, not flaky.
//
//   const w = await startWorld({ scenario: 'small.json' });
//   const r = await w.api('GET', '/api/v1/nodes', { token: w.tokens.viewer });
//   await w.close();
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadSpec, validateResponse } from './lib/openapi.mjs';

const execFileP = promisify(execFile);

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const buildDir = path.resolve(root, process.env.BUILD_DIR || 'build');
export const meshgwBin = path.join(buildDir, 'meshgw');
export const meshsimBin = path.join(buildDir, 'meshsim');

// Generous ceilings: they bound a hung run, they are not performance claims.
export const START_TIMEOUT_MS = 20000;

/*
 * The gateway's radio in these tests: "sim" (meshgw's direct bearer on meshsim's native
 * port), or meshgw's HCI bearer (`bearer = uart:PATH`) on meshsim's virtual controller
 * (sim/PORTS.md, "HCI port") as a legacy-only 4.2 controller ("hci-legacy") or a 5.x
 * controller with extended advertising sets ("hci-ext").  IT_BEARER picks the default;
 * startWorld({bearer}) overrides it.
 */
export const BEARERS = ['sim', 'hci-legacy', 'hci-ext'];
export const defaultBearer = process.env.IT_BEARER || 'sim';
if (!BEARERS.includes(defaultBearer)) throw new Error(`IT_BEARER=${defaultBearer}: expected one of ${BEARERS.join(', ')}`);
export const STEP_TIMEOUT_MS = 60000;

/** Polls fn() until it returns a truthy value (returned) or the deadline passes (throws). */
export async function waitFor(fn, { timeout = STEP_TIMEOUT_MS, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      // A wrong response shape or a failed session does not improve by waiting.
      if (e.fatal) throw e;
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${why})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A TCP port that was free a moment ago (the kernel picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// openapi.yaml path templates as regular expressions, literal paths first, so
// that every request can be validated without the test naming its template.
const templates = Object.keys(loadSpec().paths)
  .map((t) => ({
    t,
    re: new RegExp('^' + t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
    params: (t.match(/\{/g) || []).length,
  }))
  .sort((a, b) => a.params - b.params);

export function templateFor(urlPath) {
  const p = urlPath.split('?')[0];
  const m = templates.find((x) => x.re.test(p));
  return m ? m.t : null;
}

/**
 * meshsim's propagation model (sim/air.c) for a parsed scenario: log-distance
 * path loss with a penalty per floor; a transmission is heard when its
 * strength is at least what a same-floor receiver gets at range_m.  Names are
 * device names, and "port" is the native port (the gateway's radio).
 * Returns {names, dbm(a, b), inRange(a, b), hops} where hops maps every name
 * to its radio-hop distance from the port (BFS over in-range pairs; 1 = the
 * gateway hears it directly).
 */
export function airModel(scenario) {
  const a = { range_m: 30, floor_height_m: 3, floor_loss_db: 12, path_loss_exponent: 2.5, rssi_1m_dbm: -40, ...scenario.air };
  const pos = { port: scenario.ports.native.position };
  for (const d of scenario.devices) pos[d.name] = d.position;
  const floorOf = (z) => Math.floor(z / a.floor_height_m + 1e-9);
  const dbm = (x, y) => {
    const p = pos[x];
    const q = pos[y];
    const d = Math.max(0.1, Math.hypot(p.x - q.x, p.y - q.y, p.z - q.z));
    return a.rssi_1m_dbm - 10 * a.path_loss_exponent * Math.log10(d) - Math.abs(floorOf(p.z) - floorOf(q.z)) * a.floor_loss_db;
  };
  const sens = a.rssi_1m_dbm - 10 * a.path_loss_exponent * Math.log10(a.range_m);
  const inRange = (x, y) => x !== y && dbm(x, y) >= sens;
  const names = Object.keys(pos);
  const hops = { port: 0 };
  let frontier = ['port'];
  while (frontier.length) {
    const next = [];
    for (const x of frontier) {
      for (const y of names) {
        if (!(y in hops) && inRange(x, y)) {
          hops[y] = hops[x] + 1;
          next.push(y);
        }
      }
    }
    frontier = next;
  }
  return { names: names.filter((n) => n !== 'port'), dbm, inRange, hops };
}

/** One child process with stdout and stderr captured to files in dir. */
class Child {
  constructor(name, bin, args, dir, env) {
    this.name = name;
    this.out = path.join(dir, `${name}.out`);
    this.err = path.join(dir, `${name}.err`);
    const o = openSync(this.out, 'a');
    const e = openSync(this.err, 'a');
    this.proc = spawn(bin, args, { stdio: ['ignore', o, e], ...(env ? { env: { ...process.env, ...env } } : {}) });
    closeSync(o);
    closeSync(e);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        resolve(this.exit);
      });
    });
  }

  get pid() {
    return this.proc.pid;
  }

  get running() {
    return !this.exit;
  }

  log() {
    return readFileSync(this.err, 'utf8');
  }

  describe() {
    return `${this.name} (pid ${this.pid}) ${this.exit ? `exited ${JSON.stringify(this.exit)}` : 'running'}; ` +
      `last stderr lines (${this.err}):\n${tail(this.err)}`;
  }

  /** Sends sig and resolves with {code, signal, ms} when the process has exited (or after timeout: SIGKILL). */
  async stop(sig = 'SIGTERM', timeout = 10000) {
    if (this.exit) return { ...this.exit, ms: 0 };
    const t0 = Date.now();
    this.proc.kill(sig);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeout);
    const ex = await this.exited;
    clearTimeout(timer);
    return { ...ex, ms: ex.at - t0 };
  }

  kill() {
    if (!this.exit) this.proc.kill('SIGKILL');
  }
}

const live = new Set();
process.on('exit', () => {
  for (const c of live) c.kill();
});

/**
 * Starts meshsim with a copy of sim/scenarios/<scenario> whose native port
 * lives in a private directory (and whose devices load no saved state), then
 * meshgw on it.  Options: gwConf (extra "key = value" lines), debug (meshgw
 * -d, default true), editScenario (a function that may change the parsed
 * copy of the scenario before meshsim reads it), waitBearer (default true: wait until the
 * bearer is ready; false: until /healthz answers).  Returns the world object described below.
 */
export async function startWorld({ scenario = 'small.json', gwConf = {}, debug = true, editScenario,
  bearer = defaultBearer, hci = {}, waitBearer = true } = {}) {
  if (!BEARERS.includes(bearer)) throw new Error(`bearer ${bearer}: expected one of ${BEARERS.join(', ')}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'meshgw-integ-'));
  const w = new World(dir, scenario, gwConf, debug, editScenario, bearer, hci);
  try {
    await w.startSim();
    w.port = await freePort();
    w.writeConf();
    for (const role of ['viewer', 'operator', 'admin']) {
      w.tokens[role] = await w.tokenCreate(role, `it-${role}`);
    }
    await w.startGw({ waitBearer });
  } catch (e) {
    await w.close();
    throw e;
  }
  return w;
}

class World {
  constructor(dir, scenario, gwConf, debug, editScenario, bearer, hci) {
    this.dir = dir;
    this.bearer = bearer;
    this.hciPath = path.join(dir, 'hci0');
    this.debug = debug;
    this.airSock = path.join(dir, 'air.sock');
    this.ctlSock = path.join(dir, 'ctl.sock');
    this.stateDir = path.join(dir, 'state');
    this.confPath = path.join(dir, 'meshgw.conf');
    this.gwConf = gwConf;
    this.tokens = {};
    this.gwRuns = 0;
    const s = JSON.parse(readFileSync(path.join(root, 'sim/scenarios', scenario), 'utf8'));
    s.ports.native.path = this.airSock;
    for (const d of s.devices) delete d.state_file;
    if (bearer !== 'sim') {
      // The virtual controller stands where the gateway's native port stood: the same radio.
      s.ports.hci = [{
        path: this.hciPath,
        position: { ...s.ports.native.position },
        profile: bearer === 'hci-legacy' ? 'legacy' : 'extended',
        ...(bearer === 'hci-ext' ? { adv_sets: 4 } : {}),
        ...hci,
      }];
    }
    if (editScenario) editScenario(s);
    this.scenario = s;
    // As a package would create /var/lib/meshgw: `meshgw token create` needs the directory.
    mkdirSync(this.stateDir, { mode: 0o700 });
    this.scenarioPath = path.join(dir, scenario);
    writeFileSync(this.scenarioPath, JSON.stringify(s, null, 1));
  }

  /** The scenario device with this name (as written in the scenario file). */
  device(name) {
    const d = this.scenario.devices.find((x) => x.name === name);
    if (!d) throw new Error(`no device ${name} in the scenario`);
    return d;
  }

  async startSim() {
    for (const b of [meshsimBin, meshgwBin]) {
      if (!existsSync(b)) throw new Error(`${b} missing: build first (scripts/test.sh) or set BUILD_DIR`);
    }
    this.sim = new Child('meshsim', meshsimBin, ['-s', this.scenarioPath, '--ctl', this.ctlSock], this.dir);
    live.add(this.sim);
    const list = await waitFor(async () => {
      if (!this.sim.running) throw new Error(this.sim.describe());
      return JSON.parse(await this.ctl('list'));
    }, { timeout: START_TIMEOUT_MS, what: 'meshsim control socket' });
    this.simIds = Object.fromEntries(list.devices.map((d) => [d.name, d.id]));
  }

  /** One meshsim control command; resolves with the reply (throws on "error: "). */
  async ctl(...args) {
    const { stdout } = await execFileP(meshsimBin, ['ctl', '--ctl', this.ctlSock, ...args.map(String)],
      { timeout: 10000 });
    if (stdout.startsWith('error: ')) throw new Error(`meshsim ctl ${args.join(' ')}: ${stdout.trim()}`);
    return stdout;
  }

  /** `meshsim ctl dev N ...` for the device of that name. */
  async dev(name, ...args) {
    if (!(name in this.simIds)) throw new Error(`meshsim hosts no device ${name}`);
    return (await this.ctl('dev', this.simIds[name], ...args)).trim();
  }

  /**
   * {phase, fp} of NetKey index on a device, from its status line ("netkey index:phase:fp",
   * the fingerprint of the key it transmits with); null when it holds no such NetKey.
   */
  async netkey(name, index = 0) {
    const s = await this.dev(name, 'status');
    const m = new RegExp(` netkey ${index}:([0-2]):([0-9a-f]{8})`).exec(s);
    return m ? { phase: Number(m[1]), fp: m[2] } : null;
  }

  /** Waits until every named device is in phase 0 on NetKey index; the set of their fingerprints. */
  async phase0(names, { index = 0, timeout } = {}) {
    const fps = new Set();
    for (const name of names) {
      const k = await waitFor(async () => {
        const x = await this.netkey(name, index);
        return x && x.phase === 0 && x;
      }, { timeout, what: `${name} in phase 0` });
      fps.add(k.fp);
    }
    return fps;
  }

  confText(extra = {}) {
    const kv = {
      state_dir: this.stateDir,
      listen: `127.0.0.1:${this.port}`,
      bearer: this.bearer === 'sim' ? `sim:${this.airSock}` : `uart:${this.hciPath}`,
      web_root: path.join(root, 'web'),
      max_sessions: 8,
      ...this.gwConf,
      ...extra,
    };
    return Object.entries(kv).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n';
  }

  writeConf(extra = {}, { raw } = {}) {
    writeFileSync(this.confPath, raw ?? this.confText(extra));
  }

  /** Runs meshgw with args (no daemon); resolves with {code, stdout, stderr}. */
  async meshgw(args) {
    try {
      const { stdout, stderr } = await execFileP(meshgwBin, args, { timeout: 20000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      if (typeof e.code !== 'number') throw e;
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  async tokenCreate(role, name) {
    const r = await this.meshgw(['-f', this.confPath, 'token', 'create', '--role', role, '--name', name]);
    if (r.code !== 0) throw new Error(`token create ${role}: exit ${r.code}: ${r.stderr}`);
    const tok = r.stdout.trim();
    if (!tok || tok.includes('\n')) throw new Error(`token create printed ${JSON.stringify(r.stdout)}`);
    return tok;
  }

  /**
   * Starts meshgw (again, same state dir) and waits until /healthz says the bearer is attached
   * (waitBearer false: until /healthz answers, whatever the bearer).
   * env: extra environment variables for this run only (e.g. MESHGW_CRASH_AT).
   */
  async startGw({ env, waitBearer = true } = {}) {
    this.base = `http://127.0.0.1:${this.port}`;
    const args = ['-f', this.confPath];
    if (this.debug) args.unshift('-d');
    this.gwRuns++;
    this.gw = new Child(`meshgw-${this.gwRuns}`, meshgwBin, args, this.dir, env);
    live.add(this.gw);
    const gw = this.gw;
    await waitFor(async () => {
      // A meshgw that exited will not answer later: fail now, quoting its log.
      if (!gw.running) throw Object.assign(new Error(gw.describe()), { fatal: true });
      const r = await this.api('GET', '/healthz');
      return r.status === 200 && (r.body.bearer === true || !waitBearer);
    }, { timeout: START_TIMEOUT_MS, what: `meshgw /healthz${waitBearer ? ' with the bearer attached' : ''}` });
  }

  /** SIGTERM to meshgw; resolves with {code, signal, ms}. */
  async stopGw() {
    const r = await this.gw.stop('SIGTERM');
    live.delete(this.gw);
    return r;
  }

  /** SIGKILL to meshgw (a crash: nothing is flushed or closed); resolves with {code, signal, ms} once it has exited. */
  async killGw() {
    const r = await this.gw.stop('SIGKILL');
    live.delete(this.gw);
    return r;
  }

  /**
   * Waits until meshgw exits by itself (e.g. MESHGW_CRASH_AT made it SIGKILL itself);
   * resolves with {code, signal, at}, or with null after timeout ms (it is still running).
   */
  async gwExited({ timeout = STEP_TIMEOUT_MS } = {}) {
    let timer;
    const ex = await Promise.race([
      this.gw.exited,
      new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeout); }),
    ]);
    clearTimeout(timer);
    if (ex) live.delete(this.gw);
    return ex;
  }

  /**
   * meshgw again on the same state directory after a stop or a crash (SIGKILL first if it
   * still runs), waiting for /healthz with the bearer attached.  env as for startGw().
   */
  async restartGw({ env } = {}) {
    if (this.gw && this.gw.running) await this.killGw();
    await this.startGw({ env });
  }

  /**
   * One HTTP request.  opts: token, body (JSON-encoded unless raw is given),
   * raw (a string body sent as is), headers, validate (default true: the
   * response must match openapi.yaml, else this throws).  Resolves with
   * {status, headers, body, text}.
   */
  async api(method, urlPath, { token, body, raw, headers = {}, validate = true } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    let data;
    if (raw !== undefined) data = raw;
    else if (body !== undefined) data = JSON.stringify(body);
    if (data !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
      h['Content-Type'] = 'application/json';
    }
    const res = await fetch(this.base + urlPath, { method, headers: h, body: data });
    const text = await res.text();
    const ct = (res.headers.get('content-type') || '').split(';')[0].trim();
    let parsed = null;
    if (/json$/.test(ct) && text.length) parsed = JSON.parse(text);
    const out = { status: res.status, headers: res.headers, body: parsed, text, contentType: ct };
    if (validate) {
      const tmpl = templateFor(urlPath);
      const v = tmpl
        // A text body (GET /metrics) is checked as the string it is.
        ? validateResponse(method, tmpl, res.status, parsed === null && ct.startsWith('text/') ? text : parsed,
          ct || undefined)
        : { valid: false, errors: [`no path in openapi.yaml matches ${urlPath}`] };
      if (!v.valid) {
        const e = new Error(`response does not match openapi.yaml: ${method} ${urlPath} (${tmpl}) -> ` +
          `${res.status} ${ct}\n  body: ${text.slice(0, 2000)}\n  errors:\n    ${v.errors.join('\n    ')}`);
        e.response = out;
        e.fatal = true;
        throw e;
      }
    }
    return out;
  }

  /** Like api() but throws unless the status is one of expected. */
  async ok(method, urlPath, opts = {}, expected = [200]) {
    const r = await this.api(method, urlPath, opts);
    if (!expected.includes(r.status)) {
      throw new Error(`${method} ${urlPath}${opts.body ? ' ' + JSON.stringify(opts.body) : ''} -> ` +
        `${r.status} (expected ${expected.join('/')}): ${r.text.slice(0, 1000)}`);
    }
    return r.body;
  }

  /**
   * Subscribes to GET /api/v1/events (viewer) and collects the events as
   * {id, type, data}.  Resolves once the stream is open (200,
   * text/event-stream) with {events, close()}; close() ends the stream and
   * resolves when reading has stopped.  A read error is kept in events.error.
   */
  async events() {
    const ac = new AbortController();
    const res = await fetch(`${this.base}/api/v1/events`,
      { headers: { Authorization: `Bearer ${this.tokens.viewer}` }, signal: ac.signal });
    const ct = (res.headers.get('content-type') || '').split(';')[0].trim();
    if (res.status !== 200 || ct !== 'text/event-stream') {
      ac.abort();
      throw new Error(`GET /api/v1/events -> ${res.status} ${ct}`);
    }
    const events = [];
    const reading = (async () => {
      const dec = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = {};
          for (const line of buf.slice(0, i).split('\n')) {
            const m = /^(id|event|data):\s?(.*)$/.exec(line);
            if (m && m[1] === 'id') ev.id = Number(m[2]);
            if (m && m[1] === 'event') ev.type = m[2];
            if (m && m[1] === 'data') ev.data = JSON.parse(m[2]);
          }
          buf = buf.slice(i + 2);
          if (ev.type) events.push(ev);
        }
      }
    })().catch((e) => {
      if (e.name !== 'AbortError') events.error = e;
    });
    return {
      events,
      close: async () => {
        ac.abort();
        await reading;
      },
    };
  }

  /** GET /api/v1/provisioning/{id} (viewer). */
  session(id) {
    return this.ok('GET', `/api/v1/provisioning/${id}`, { token: this.tokens.viewer });
  }

  /**
   * Polls session id until its state is one of states.  A session that ends
   * failed or cancelled when that is not expected throws at once, quoting its
   * error.  Resolves with the session.
   */
  async waitSession(id, states, { timeout = STEP_TIMEOUT_MS, interval = 100 } = {}) {
    return waitFor(async () => {
      const s = await this.session(id);
      if (['done', 'failed', 'cancelled'].includes(s.state) && !states.includes(s.state)) {
        throw Object.assign(new Error(`session ${id} (${s.name}) ${s.state}: ${s.error}`), { fatal: true });
      }
      return states.includes(s.state) && s;
    }, { timeout, interval, what: `session ${id} in ${states.join('/')}` });
  }

  /** Polls operation id until it is done (resolved) or failed/cancelled (throws unless allowed). */
  async waitOp(id, { timeout = STEP_TIMEOUT_MS, states = ['done'] } = {}) {
    return waitFor(async () => {
      const o = await this.ok('GET', `/api/v1/operations/${id}`, { token: this.tokens.viewer });
      if (['done', 'failed', 'cancelled'].includes(o.state) && !states.includes(o.state)) {
        throw Object.assign(new Error(`operation ${id} (${o.type}) ${o.state}: ${o.error}`), { fatal: true });
      }
      return states.includes(o.state) && o;
    }, { timeout, what: `operation ${id} in ${states.join('/')}` });
  }

  /**
   * The "auth" member of a provisioning request for a scenario device: its
   * Static OOB, else numeric Output or Input OOB, else none.
   */
  authFor(name) {
    const o = this.device(name).oob || {};
    const pick = (x) => ({ action: x.actions.includes('numeric') ? 'numeric' : x.actions[0], size: x.size });
    if (o.static) return { method: 'static', static_oob: o.static };
    if (o.output) return { method: 'output', ...pick(o.output) };
    if (o.input) return { method: 'input', ...pick(o.input) };
    return { method: 'none' };
  }

  /** Waits until the device displays an Output OOB value (`meshsim ctl oob`) and resolves with it. */
  outputOob(name, { timeout = STEP_TIMEOUT_MS } = {}) {
    return waitFor(async () => {
      const shown = JSON.parse(await this.ctl('oob')).filter((e) => e.name === name);
      const m = shown.length && /(\w+)\s*$/.exec(shown[shown.length - 1].text);
      return m && m[1];
    }, { timeout, what: `${name} to display its Output OOB value` });
  }

  /**
   * Acts as the person at the device for one session until it is done: reads
   * an Output OOB value off the device (`meshsim ctl oob`) and posts it, or
   * types the gateway's Input OOB value on the device.  Resolves with the
   * finished session (throws if it fails).
   */
  async completeSession(sess, { timeout = STEP_TIMEOUT_MS } = {}) {
    const op = this.tokens.operator;
    if (sess.auth_method === 'output') {
      await this.waitSession(sess.id, ['waiting_oob', 'configuring', 'done'], { timeout });
      const value = await this.outputOob(sess.name, { timeout });
      await this.ok('POST', `/api/v1/provisioning/${sess.id}/oob`, { token: op, body: { value } });
    } else if (sess.auth_method === 'input') {
      const s = await waitFor(async () => {
        const x = await this.session(sess.id);
        if (x.state === 'failed') throw Object.assign(new Error(`session ${sess.id} failed: ${x.error}`), { fatal: true });
        return x.input_oob_value !== null && x;
      }, { timeout, what: `the Input OOB value for ${sess.name}` });
      await waitFor(async () => (await this.dev(sess.name, 'input', s.input_oob_value)) === 'ok',
        { timeout, what: `${sess.name} to accept the typed value` });
    }
    const done = await this.waitSession(sess.id, ['done'], { timeout });
    if (typeof done.address !== 'number') throw new Error(`session ${sess.id} done without an address`);
    return done;
  }

  /**
   * POST /api/v1/provisioning for scenario devices by name (each with
   * authFor(name), name = the device name, and server when given as
   * {name, server}), then completes every session.  Resolves with
   * {created, done}: the sessions as first returned and as finished.
   */
  async provision(devs, { algorithm = 'auto', timeout = STEP_TIMEOUT_MS } = {}) {
    const list = devs.map((d) => (typeof d === 'string' ? { name: d } : d));
    const body = {
      algorithm,
      devices: list.map((d) => ({
        uuid: this.device(d.name).uuid, name: d.name, auth: this.authFor(d.name),
        ...(d.server ? { server: d.server } : {}),
      })),
    };
    const r = await this.ok('POST', '/api/v1/provisioning', { token: this.tokens.operator, body }, [202]);
    const done = await Promise.all(r.sessions.map((s) => this.completeSession(s, { timeout })));
    return { created: r.sessions, done };
  }

  /** Provisions every device of the scenario; {name: primary address}. */
  async provisionAll({ timeout = 180000 } = {}) {
    const { done } = await this.provision(this.scenario.devices.map((d) => d.name), { timeout });
    return Object.fromEntries(done.map((s) => [s.name, s.address]));
  }

  /**
   * Stops meshgw then meshsim with SIGTERM.  A meshgw that was still running must exit 0 on
   * it: a crash at shutdown (a signal such as SIGSEGV, or the SIGKILL that ends a hang after
   * 5 s) or a non-zero status fails the test, with the last lines of its log; the directory is
   * then kept for the post-mortem.
   */
  async close({ keep = !!process.env.KEEP_TMP } = {}) {
    let bad = null;
    for (const c of [this.gw, this.sim]) {
      if (c) {
        const wasRunning = c.running;
        const ex = await c.stop('SIGTERM', 5000);
        live.delete(c);
        if (c === this.gw && wasRunning && (ex.code !== 0 || ex.signal)) bad = c;
      }
    }
    if (bad) throw new Error(`meshgw did not exit cleanly on SIGTERM: ${bad.describe()}\n(kept ${this.dir})`);
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

// --- Remote Provisioning helpers (rpr.test.mjs, rpr-bench.mjs) -------------
// The RPR-server bootstrap plan for a scenario (which servers can be reached,
// in which order and through whom), remote scanning through meshgw's API and
// parsing of `meshsim ctl dev N status`.

export const RPR_SERVER_MODEL = 0x0004;
export const hex4 = (a) => `0x${a.toString(16).padStart(4, '0')}`;
/** A scenario number: "0x..." strings are hex. */
export const num = (v) => (typeof v === 'string' ? parseInt(v, 16) : v);

export const isServer = (d) => d.rpr_server === true;

/**
 * A server can only be provisioned remotely through a server that already is
 * a node and hears it.  Starting from the servers the port hears, this walks
 * outwards; when some server cannot be reached that way, the scenario (the
 * test's private copy) gets a "bridge": a device in range of a reachable server
 * and of an unreachable one becomes a server too (Remote Provisioning Server
 * model added to element 0, as sim/scenarios/gen.py does).  Returns the names
 * of the devices promoted (empty when the scenario needs none).
 */
export function addBridges(s) {
  const promoted = [];
  for (;;) {
    const air = airModel(s);
    const reach = reachableServers(s, air);
    const missing = s.devices.filter((d) => isServer(d) && !reach.has(d.name));
    if (!missing.length) return promoted;
    let best = null;
    for (const d of s.devices) {
      if (isServer(d) || !air.names.includes(d.name)) continue;
      const from = [...reach].filter((r) => air.inRange(r, d.name));
      const gain = missing.filter((m) => air.inRange(d.name, m.name)).length;
      if (!from.length || !gain) continue;
      if (!best || gain > best.gain || (gain === best.gain && d.name < best.d.name)) best = { d, gain };
    }
    if (!best) throw new Error(`no bridge reaches ${missing.map((m) => m.name).join(', ')}`);
    best.d.rpr_server = true;
    best.d.composition.elements[0].models.splice(2, 0, hex4(RPR_SERVER_MODEL));
    promoted.push(best.d.name);
  }
}

/** Servers reachable by the bootstrap: heard by the port, or by a reachable server. */
export function reachableServers(s, air = airModel(s)) {
  const reach = new Set();
  let grew = true;
  while (grew) {
    grew = false;
    for (const d of s.devices) {
      if (!isServer(d) || reach.has(d.name)) continue;
      if (air.inRange('port', d.name) || [...reach].some((r) => air.inRange(r, d.name))) {
        reach.add(d.name);
        grew = true;
      }
    }
  }
  return reach;
}

/**
 * The bootstrap in waves: wave 0 the servers the port hears (local PB-ADV),
 * then every server heard by a server of an earlier wave, with `via` the
 * earlier server it hears best.  [[{name, via|null}]]
 */
export function serverWaves(s, air = airModel(s)) {
  const waves = [];
  const done = new Set();
  const first = s.devices.filter((d) => isServer(d) && air.inRange('port', d.name));
  waves.push(first.map((d) => ({ name: d.name, via: null })));
  first.forEach((d) => done.add(d.name));
  for (;;) {
    const wave = [];
    for (const d of s.devices) {
      if (!isServer(d) || done.has(d.name)) continue;
      const heard = [...done].filter((r) => air.inRange(r, d.name));
      if (heard.length) {
        heard.sort((a, b) => air.dbm(b, d.name) - air.dbm(a, d.name));
        wave.push({ name: d.name, via: heard[0] });
      }
    }
    if (!wave.length) return waves;
    wave.forEach((x) => done.add(x.name));
    waves.push(wave);
  }
}

/**
 * Runs scans until pred(items) is truthy and resolves with the items.  Each
 * attempt lasts `attempt_ms`: a server reports only its first few devices
 * (ScannedItemsLimit), so a fresh scan, which starts at another point of the
 * devices' beacon cycles, can report others.  scan: the POST /scans body.
 */
export async function scanUntil(w, scan, pred, { timeout = 180000, attemptMs = 15000, what = 'scan results' } = {}) {
  const op = w.tokens.operator;
  const deadline = Date.now() + timeout;
  let last = [];
  try {
    while (Date.now() < deadline) {
      const started = await w.ok('POST', '/api/v1/scans', { token: op, body: scan }, [202]);
      try {
        return await waitFor(async () => {
          const r = await w.ok('GET', '/api/v1/scans/results', { token: w.tokens.viewer });
          last = r.items;
          return pred(r.items, started) && r.items;
        }, { timeout: Math.min(attemptMs, Math.max(1, deadline - Date.now())), interval: 250, what });
      } catch (e) {
        if (e.fatal) throw e;
      }
    }
  } finally {
    await w.api('DELETE', '/api/v1/scans/current', { token: op });
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}; last results: ` +
    JSON.stringify(last.map((i) => ({ uuid: i.uuid, seen_by: i.seen_by.map((b) => [b.via, b.rssi]) }))));
}

/** The scan item of a device (by uuid) or undefined. */
export const itemOf = (items, uuid) => items.find((i) => i.uuid === uuid);

/** The seen_by entry with the best RSSI; ties are ambiguous and return null. */
export function bestVia(item) {
  const by = [...item.seen_by].sort((a, b) => b.rssi - a.rssi);
  if (by.length > 1 && by[0].rssi === by[1].rssi) return null;
  return by[0];
}

/** Parses `meshsim ctl dev N status`: {provisioned, addr, devkey|null}. */
export function parseStatus(text) {
  const m = /^(provisioned|unprovisioned) addr 0x([0-9a-f]{4})(?: devkey ([0-9a-f]{8}))?/.exec(text);
  if (!m) throw new Error(`unexpected device status "${text}"`);
  return { provisioned: m[1] === 'provisioned', addr: parseInt(m[2], 16), devkey: m[3] || null, text };
}

/** The Composition Data page that a scenario composition declares, in the API's shape (without page, raw, features). */
export function expectedComposition(c) {
  return {
    cid: num(c.cid),
    pid: num(c.pid),
    vid: num(c.vid),
    crpl: c.crpl,
    elements: c.elements.map((e, index) => ({
      index,
      location: num(e.location),
      models: [
        ...e.models.map((m) => ({ id: num(m), vendor: false, company: null })),
        ...(e.vendor_models || []).map((m) => ({ id: num(m.id), vendor: true, company: num(m.cid) })),
      ],
    })),
  };
}

/** Hex of a scenario composition as Composition Data page bytes (Mesh Profile §4.2.1.1). */
export function compositionBytes(c) {
  const le = (v) => [v & 0xff, (v >> 8) & 0xff];
  const f = c.features || {};
  const feat = (f.relay ? 1 : 0) | (f.proxy ? 2 : 0) | (f.friend ? 4 : 0) | (f.low_power ? 8 : 0);
  const out = [...le(num(c.cid)), ...le(num(c.pid)), ...le(num(c.vid)), ...le(c.crpl), ...le(feat)];
  for (const e of c.elements) {
    const v = e.vendor_models || [];
    out.push(...le(num(e.location)), e.models.length, v.length);
    for (const m of e.models) out.push(...le(num(m)));
    for (const m of v) out.push(...le(num(m.cid)), ...le(num(m.id)));
  }
  return Buffer.from(out).toString('hex');
}

// --- Hand-over (cdb.test.mjs, rpr.test.mjs) ----------------------------------

/** Stops meshgw and starts it on a new, empty state directory (new tokens too). */
export async function wipeState(w, tag) {
  await w.stopGw();
  w.stateDir = path.join(w.dir, `state-${tag}`);
  mkdirSync(w.stateDir, { mode: 0o700 });
  w.writeConf();
  for (const role of ['viewer', 'operator', 'admin']) w.tokens[role] = await w.tokenCreate(role, `it-${role}`);
  await w.startGw();
}

/** The inventory's nodes (excluded ones with excluded = true). */
export async function nodesOf(w, excluded = false) {
  const r = await w.ok('GET', `/api/v1/nodes?limit=1000&excluded=${excluded}`, { token: w.tokens.viewer });
  return r.items;
}

const keyFingerprint = (hex) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex').slice(0, 16);

/**
 * What the inventory says, through the API, without times and raw pages (not in a CDB):
 * {nodes, details (by address), keys: {net, app} with key fingerprints instead of keys}.
 */
export async function inventorySnapshot(w) {
  const nodes = await nodesOf(w);
  const details = {};
  for (const n of nodes) {
    const d = await w.ok('GET', `/api/v1/nodes/${n.address}`, { token: w.tokens.viewer });
    for (const k of ['created_at', 'updated_at', 'pages']) delete d[k];
    details[n.address] = d;
  }
  const keys = {};
  for (const kind of ['net', 'app']) {
    const r = await w.ok('GET', `/api/v1/keys/${kind}?export=true`, { token: w.tokens.admin });
    keys[kind] = r.items.map(({ key, ...rest }) => ({ ...rest, fingerprint: keyFingerprint(key) }));
  }
  return { nodes: nodes.map(({ created_at, updated_at, ...rest }) => rest), details, keys };
}
