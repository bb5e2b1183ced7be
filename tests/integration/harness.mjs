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

/** One child process with stdout and stderr captured to files in dir. */
class Child {
  constructor(name, bin, args, dir) {
    this.name = name;
    this.out = path.join(dir, `${name}.out`);
    this.err = path.join(dir, `${name}.err`);
    const o = openSync(this.out, 'a');
    const e = openSync(this.err, 'a');
    this.proc = spawn(bin, args, { stdio: ['ignore', o, e] });
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
 * -d, default true).  Returns the world object described below.
 */
export async function startWorld({ scenario = 'small.json', gwConf = {}, debug = true } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshgw-integ-'));
  const w = new World(dir, scenario, gwConf, debug);
  try {
    await w.startSim();
    w.port = await freePort();
    w.writeConf();
    for (const role of ['viewer', 'operator', 'admin']) {
      w.tokens[role] = await w.tokenCreate(role, `it-${role}`);
    }
    await w.startGw();
  } catch (e) {
    await w.close();
    throw e;
  }
  return w;
}

class World {
  constructor(dir, scenario, gwConf, debug) {
    this.dir = dir;
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

  confText(extra = {}) {
    const kv = {
      state_dir: this.stateDir,
      listen: `127.0.0.1:${this.port}`,
      bearer: `sim:${this.airSock}`,
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

  /** Starts meshgw (again, same state dir) and waits until /healthz says the bearer is attached. */
  async startGw() {
    this.base = `http://127.0.0.1:${this.port}`;
    const args = ['-f', this.confPath];
    if (this.debug) args.unshift('-d');
    this.gwRuns++;
    this.gw = new Child(`meshgw-${this.gwRuns}`, meshgwBin, args, this.dir);
    live.add(this.gw);
    const gw = this.gw;
    await waitFor(async () => {
      if (!gw.running) throw new Error(gw.describe());
      const r = await this.api('GET', '/healthz');
      return r.status === 200 && r.body.bearer === true;
    }, { timeout: START_TIMEOUT_MS, what: 'meshgw /healthz with the bearer attached' });
  }

  /** SIGTERM to meshgw; resolves with {code, signal, ms}. */
  async stopGw() {
    const r = await this.gw.stop('SIGTERM');
    live.delete(this.gw);
    return r;
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
        ? validateResponse(method, tmpl, res.status, parsed, ct || undefined)
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

  async close({ keep = !!process.env.KEEP_TMP } = {}) {
    for (const c of [this.gw, this.sim]) {
      if (c) {
        await c.stop('SIGTERM', 5000);
        live.delete(c);
      }
    }
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
