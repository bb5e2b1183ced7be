// Security properties of meshgw, through HTTP and the command line: bearer
// tokens and roles, malformed input refused with nothing changed, the
// configuration check and SIGHUP reload, and no key material in the debug log
// or in the database file (keys are encrypted at rest).
// Every HTTP response is validated against openapi.yaml by the harness.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { startWorld, waitFor } from './harness.mjs';

/** Asserts an application/problem+json answer with this status and a non-empty detail. */
function assertProblem(r, status, what) {
  assert.equal(r.status, status, `${what}: status (body ${r.text.slice(0, 300)})`);
  assert.equal(r.contentType, 'application/problem+json', `${what}: content type`);
  assert.equal(r.body.status, status, `${what}: problem status`);
  assert.ok(typeof r.body.detail === 'string' && r.body.detail.length > 0, `${what}: detail`);
}

/** Sends raw bytes to 127.0.0.1:port and resolves with all the server sends until it closes. */
function rawRequest(port, data) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ host: '127.0.0.1', port }, () => sock.write(data));
    let got = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => { got += d; });
    sock.on('end', () => resolve(got));
    sock.on('error', (e) => (got ? resolve(got) : reject(e)));
  });
}

describe('meshgw security', () => {
  let w;
  let viewer;
  let op;
  let admin;
  const addr = {};

  const provisionBody = (name, auth, extra = {}) => ({
    devices: [{ uuid: w.device(name).uuid, name, auth }],
    ...extra,
  });

  async function provision(names) {
    const body = {
      devices: names.map((n) => {
        const d = w.device(n);
        return { uuid: d.uuid, name: n, auth: d.oob?.static ? { method: 'static', static_oob: d.oob.static } : { method: 'none' } };
      }),
    };
    const r = await w.ok('POST', '/api/v1/provisioning', { token: op, body }, [202]);
    for (const s of r.sessions) {
      const fin = await waitFor(async () => {
        const x = await w.ok('GET', `/api/v1/provisioning/${s.id}`, { token: viewer });
        if (x.state === 'failed' || x.state === 'cancelled') {
          throw Object.assign(new Error(`${x.name}: ${x.state}: ${x.error}`), { fatal: true });
        }
        return x.state === 'done' && x;
      }, { what: `provisioning of ${s.name}` });
      addr[fin.name] = fin.address;
    }
  }

  /** Everything a refused request must leave alone, as seen through the API and on the devices. */
  async function snapshot() {
    return {
      nodes: await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer }),
      excluded: await w.ok('GET', '/api/v1/nodes?excluded=true', { token: viewer }),
      details: await Promise.all(Object.values(addr).map((a) => w.ok('GET', `/api/v1/nodes/${a}`, { token: viewer }))),
      sessions: await w.ok('GET', '/api/v1/provisioning', { token: viewer }),
      operations: await w.ok('GET', '/api/v1/operations?limit=1000', { token: viewer }),
      network: await w.ok('GET', '/api/v1/network', { token: viewer }),
      netkeys: await w.ok('GET', '/api/v1/keys/net', { token: viewer }),
      appkeys: await w.ok('GET', '/api/v1/keys/app', { token: viewer }),
      tokens: await w.ok('GET', '/api/v1/tokens', { token: admin }),
      scanning: (await w.ok('GET', '/api/v1/scans/results', { token: viewer })).scanning,
      lights: await Promise.all(['light-noob', 'light-static16'].map((n) => w.dev(n, 'onoff'))),
    };
  }

  before(async () => {
    w = await startWorld({ scenario: 'small.json', debug: true });
    ({ viewer, operator: op, admin } = w.tokens);
    // Provisioned and configured nodes, so that keys have been in use when the log is checked.
    await provision(['light-noob', 'light-static16']);
  });

  after(async () => {
    if (w) await w.close();
  });

  // Every endpoint but /healthz needs a bearer token: none, an unknown one or another scheme is 401.
  test('no or bad token: 401 problem+json', async () => {
    const a = addr['light-noob'];
    const reqs = [
      ['GET', '/api/v1/network'],
      ['GET', '/api/v1/nodes'],
      ['GET', `/api/v1/nodes/${a}`],
      ['GET', '/api/v1/keys/net?export=true'],
      ['GET', '/api/v1/tokens'],
      ['POST', '/api/v1/onoff', { address: a, on: true }],
      ['POST', '/api/v1/provisioning', provisionBody('switch-output', { method: 'none' })],
      ['DELETE', `/api/v1/nodes/${a}`],
    ];
    const before = await snapshot();
    for (const [m, p, body] of reqs) {
      assertProblem(await w.api(m, p, { body }), 401, `${m} ${p} without a token`);
      assertProblem(await w.api(m, p, { body, token: 'mgw_notatoken0000000000000000000000' }), 401,
        `${m} ${p} with an unknown token`);
      assertProblem(await w.api(m, p, { body, headers: { Authorization: `Basic ${Buffer.from(`x:${admin}`).toString('base64')}` } }),
        401, `${m} ${p} with Basic auth`);
    }
    assert.deepEqual(await snapshot(), before);
    const h = await w.api('GET', '/healthz');
    assert.equal(h.status, 200);
  });

  // Viewers read; operators provision and configure; admins manage keys and tokens.
  test('insufficient role on a write: 403 problem+json', async () => {
    const a = addr['light-noob'];
    const viewerWrites = [
      ['POST', '/api/v1/scans', { duration_s: 5 }],
      ['POST', '/api/v1/provisioning', provisionBody('switch-output', { method: 'none' })],
      ['POST', '/api/v1/onoff', { address: a, on: true }],
      ['PATCH', `/api/v1/nodes/${a}`, { name: 'renamed' }],
      ['DELETE', `/api/v1/nodes/${a}`],
      ['POST', `/api/v1/nodes/${a}/config`, { op: 'node_reset' }],
      ['POST', '/api/v1/keys/app', { net_index: 0 }],
      ['POST', '/api/v1/tokens', { name: 'sneaky', role: 'admin' }],
      ['GET', '/api/v1/keys/net?export=true'],
      ['GET', '/api/v1/tokens'],
    ];
    const operatorAdminOnly = [
      ['POST', '/api/v1/keys/net', {}],
      ['POST', '/api/v1/keys/app', { net_index: 0 }],
      ['POST', '/api/v1/tokens', { name: 'sneaky', role: 'admin' }],
      ['DELETE', '/api/v1/tokens/it-admin'],
      ['GET', '/api/v1/keys/net?export=true'],
      ['GET', '/api/v1/keys/app?export=true'],
    ];
    const before = await snapshot();
    for (const [m, p, body] of viewerWrites) {
      assertProblem(await w.api(m, p, { token: viewer, body }), 403, `viewer ${m} ${p}`);
    }
    for (const [m, p, body] of operatorAdminOnly) {
      assertProblem(await w.api(m, p, { token: op, body }), 403, `operator ${m} ${p}`);
    }
    assert.deepEqual(await snapshot(), before);
  });

  // Each request below is a valid one with exactly one defect; each is refused with 400 (413 for
  // the over-size bodies, 415 for a wrong media type) and changes nothing.  The undamaged requests
  // are accepted at the end, so the defect alone caused the refusal.
  test('malformed input: 400 problem+json, nothing changed', async () => {
    const a = addr['light-static16'];
    const s32 = w.device('sensor-static32');
    const good = provisionBody('sensor-static32', { method: 'static', static_oob: s32.oob.static });
    const withDev = (patch) => ({ devices: [{ ...good.devices[0], ...patch }] });
    const withAuth = (patch) => withDev({ auth: { ...good.devices[0].auth, ...patch } });
    const P = '/api/v1/provisioning';
    const cases = [
      // malformed JSON
      ['POST', P, { raw: '{"devices":[' }],
      ['POST', P, { raw: JSON.stringify(good) + ' x' }],
      ['POST', P, { raw: "{'devices': []}" }],
      ['POST', P, { raw: '' }],
      ['POST', '/api/v1/onoff', { raw: `{"address":${a},"on":true,}` }],
      // wrong types
      ['POST', P, { body: { devices: 'sensor-static32' } }],
      ['POST', P, { body: withDev({ uuid: 12345 }) }],
      ['POST', P, { body: withDev({ name: ['x'] }) }],
      ['POST', P, { body: withAuth({ method: true }) }],
      ['POST', P, { body: { ...good, algorithm: 1 } }],
      ['POST', '/api/v1/onoff', { body: { address: String(a), on: true } }],
      ['POST', '/api/v1/onoff', { body: { address: a, on: 'yes' } }],
      ['POST', '/api/v1/onoff', { body: { address: a + 0.5, on: true } }],
      ['POST', '/api/v1/onoff', { raw: JSON.stringify([{ address: a, on: true }]) }],
      ['PATCH', `/api/v1/nodes/${a}`, { body: { name: 42 } }],
      ['POST', '/api/v1/scans', { body: { duration_s: '5' } }],
      ['POST', `/api/v1/nodes/${a}/config`, { body: { op: 'default_ttl_set', ttl: 'high' } }],
      // out of range / unknown enum values
      ['POST', '/api/v1/onoff', { body: { address: 0, on: true } }],
      ['POST', '/api/v1/onoff', { body: { address: 0x10000, on: true } }],
      ['POST', P, { body: { ...good, algorithm: 'rot13' } }],
      ['POST', P, { body: withAuth({ method: 'telepathy' }) }],
      ['POST', `/api/v1/nodes/${a}/config`, { body: { op: 'self_destruct' } }],
      ['POST', P, { body: { devices: [] } }],
      // unknown fields
      ['POST', P, { body: { ...good, priority: 1 } }],
      ['POST', P, { body: withDev({ colour: 'red' }) }],
      ['POST', P, { body: withAuth({ pin: '1234' }) }],
      ['POST', '/api/v1/onoff', { body: { address: a, on: true, force: true } }],
      ['PATCH', `/api/v1/nodes/${a}`, { body: { name: 'x', excluded: true } }],
      ['POST', `/api/v1/nodes/${a}/config`, { body: { op: 'default_ttl_set', ttl: 5, node: 3 } }],
      // missing required fields
      ['POST', P, { body: withDev({ uuid: undefined }) }],
      ['POST', '/api/v1/onoff', { body: { address: a } }],
      // bad UUIDs
      ['POST', P, { body: withDev({ uuid: 'not-a-uuid' }) }],
      ['POST', P, { body: withDev({ uuid: s32.uuid.slice(0, 31) }) }],
      ['POST', P, { body: withDev({ uuid: s32.uuid + '0' }) }],
      ['POST', P, { body: withDev({ uuid: 'zz' + s32.uuid.slice(2) }) }],
      ['POST', P, { body: withDev({ uuid: '' }) }],
      // static OOB of the wrong length or not hex
      ['POST', P, { body: withAuth({ static_oob: s32.oob.static.slice(0, 30) }) }],
      ['POST', P, { body: withAuth({ static_oob: s32.oob.static.slice(0, 34) }) }],
      ['POST', P, { body: withAuth({ static_oob: s32.oob.static.slice(0, 48) }) }],
      ['POST', P, { body: withAuth({ static_oob: s32.oob.static + '00' }) }],
      ['POST', P, { body: withAuth({ static_oob: s32.oob.static.slice(0, 63) }) }],
      ['POST', P, { body: withAuth({ static_oob: 'g'.repeat(32) }) }],
      ['POST', P, { body: withAuth({ static_oob: undefined }) }],
      // bad path and query parameters
      ['GET', '/api/v1/nodes/0xzzzz', {}],
      ['GET', '/api/v1/nodes/70000', {}],
      ['GET', `/api/v1/nodes/${a}/composition/256`, {}],
      ['GET', '/api/v1/nodes?limit=abc', {}],
      ['GET', '/api/v1/nodes?limit=0', {}],
      ['GET', '/api/v1/nodes?offset=-1', {}],
      ['GET', '/api/v1/nodes?colour=red', {}],
      ['GET', '/api/v1/keys/net?export=maybe', {}],
    ];
    const before = await snapshot();
    for (const [m, p, opts] of cases) {
      const r = await w.api(m, p, { token: op, ...opts });
      assertProblem(r, 400, `${m} ${p} ${opts.raw ?? JSON.stringify(opts.body)}`);
    }
    // Over the body size limit (64 KiB): with a Content-Length, and chunked without one.
    const big = JSON.stringify({ ...good, devices: [{ ...good.devices[0], name: 'x'.repeat(70 * 1024) }] });
    const over = await w.api('POST', P, { token: op, raw: big });
    assertProblem(over, 413, 'over-size body');
    assert.match(over.body.detail, /over the limit of 65536 bytes/);
    // 10 MB announced by Content-Length: answered 413 naming the limit from the headers alone,
    // before the body is sent (as curl sees it; the server then closes the connection).
    const huge = await rawRequest(w.port, `POST ${P} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${op}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n{"devices":[`);
    assert.match(huge, /^HTTP\/1\.1 413 /, `10 MB body: ${huge.slice(0, 300)}`);
    assert.match(huge, /content-type: application\/problem\+json/i);
    assert.match(huge, /over the limit of 65536 bytes/);
    const chunks = [big.slice(0, 40000), big.slice(40000)];
    const stream = new ReadableStream({
      pull(c) {
        if (chunks.length) c.enqueue(new TextEncoder().encode(chunks.shift()));
        else c.close();
      },
    });
    const chunked = await fetch(w.base + P, {
      method: 'POST', body: stream, duplex: 'half',
      headers: { Authorization: `Bearer ${op}`, 'Content-Type': 'application/json' },
    });
    assert.equal(chunked.status, 413, 'chunked over-size body');
    assert.equal((chunked.headers.get('content-type') || '').split(';')[0], 'application/problem+json');
    await chunked.text();
    // Not JSON at all.
    assertProblem(await w.api('POST', P, { token: op, raw: JSON.stringify(good), headers: { 'Content-Type': 'text/plain' } }),
      415, 'text/plain body');
    assert.deepEqual(await snapshot(), before);

    // The undamaged requests are accepted.
    const renamed = await w.ok('PATCH', `/api/v1/nodes/${a}`, { token: op, body: { name: 'renamed-light' } });
    assert.equal(renamed.name, 'renamed-light');
    const on = await w.ok('POST', '/api/v1/onoff', { token: op, body: { address: a, on: true } });
    assert.equal(on.present, true);
    await provision(['sensor-static32']);
  });

  // `meshgw -n` checks a configuration and says why a bad one is bad, exiting non-zero.
  test('configuration check (-n)', async () => {
    const ok = await w.meshgw(['-n', '-f', w.confPath]);
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout.trim(), 'configuration OK');
    const bad = {
      'unknown key': [w.confText() + 'colour = red\n', /line \d+: unknown key/],
      'bad port': [w.confText({ listen: '127.0.0.1:99999' }), /line \d+/],
      'bad algorithm': [w.confText({ algorithm: 'rot13' }), /line \d+/],
      'bad boolean': [w.confText({ allow_no_oob: 'perhaps' }), /line \d+/],
      'bad range': [w.confText({ unicast_range: '0x7000-0x0100' }), /line \d+/],
      'no equals sign': [w.confText() + 'max_sessions 4\n', /line \d+/],
    };
    for (const [what, [text, re]] of Object.entries(bad)) {
      const f = path.join(w.dir, 'bad.conf');
      writeFileSync(f, text);
      const r = await w.meshgw(['-n', '-f', f]);
      assert.notEqual(r.code, 0, `${what}: exit status`);
      assert.doesNotMatch(r.stdout, /configuration OK/, what);
      assert.match(r.stderr, re, `${what}: says why`);
    }
    const missing = await w.meshgw(['-n', '-f', path.join(w.dir, 'no-such.conf')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no-such\.conf/);
  });

  // SIGHUP with a bad file keeps the running configuration; with a good one it applies it.
  test('SIGHUP reload: bad refused, good applied', async () => {
    const logLen = () => w.gw.log().length;
    const waitLog = async (from, re, what) =>
      waitFor(() => re.test(w.gw.log().slice(from)), { what, timeout: 10000 });
    const refusal = (r) => r.status === 403 && /No OOB/i.test(r.body.detail);
    const noOob = provisionBody('switch-output', { method: 'none' });

    // A bad file that would also forbid No OOB: refused as a whole.
    let mark = logLen();
    w.writeConf({ allow_no_oob: 'no' }, { raw: w.confText({ allow_no_oob: 'no' }) + 'colour = red\n' });
    w.gw.proc.kill('SIGHUP');
    await waitLog(mark, /refused/, 'the refusal in the log');
    assert.ok(w.gw.running);
    assert.equal((await w.api('GET', '/healthz')).status, 200);

    // A good file forbidding No OOB: applied.
    mark = logLen();
    w.writeConf({ allow_no_oob: 'no' });
    w.gw.proc.kill('SIGHUP');
    await waitLog(mark, /reloaded/, 'the reload in the log');
    const before = await w.ok('GET', '/api/v1/provisioning', { token: viewer });
    const r = await w.api('POST', '/api/v1/provisioning', { token: op, body: noOob });
    assert.ok(refusal(r), `No OOB after the reload: ${r.status} ${r.text}`);
    assertProblem(r, 403, 'No OOB refused by policy');
    assert.deepEqual(await w.ok('GET', '/api/v1/provisioning', { token: viewer }), before);

    // Back to the original file; No OOB is accepted again.
    mark = logLen();
    w.writeConf();
    w.gw.proc.kill('SIGHUP');
    await waitLog(mark, /reloaded/, 'the second reload in the log');
    await provision(['switch-output']);
    assert.ok(w.gw.running);

    // A new listen address is not applied by SIGHUP: the log says so, naming the key, and the
    // API keeps answering where it listens.
    mark = logLen();
    w.writeConf({ listen: `127.0.0.1:${w.port + 1}` });
    w.gw.proc.kill('SIGHUP');
    await waitLog(mark, /listen changed: takes effect at the next start/, 'the listen notice in the log');
    const after = w.gw.log().slice(mark);
    assert.match(after, /configuration reloaded: algorithm, allow_no_oob, bind_profile and max_sessions/);
    assert.doesNotMatch(after, /(state_dir|bearer|web_root|database) changed/, 'only listen changed');
    assert.equal((await w.api('GET', '/healthz')).status, 200);
    w.writeConf();
  });

  // The database and the -wal and -shm files SQLite creates beside it are owner-only, whatever
  // the umask (the harness runs meshgw with the usual 022).
  test('database files are 0600', async () => {
    assert.ok(w.gw.running);
    for (const f of ['meshgw.db', 'meshgw.db-wal', 'meshgw.db-shm']) {
      const mode = statSync(path.join(w.stateDir, f)).mode & 0o777;
      assert.equal(mode.toString(8), '600', `${f} mode`);
    }
  });

  // Keys (NetKeys, AppKeys, tokens) never reach the debug log, and the database holds them
  // only encrypted: neither their bytes nor their hex appear in any database file.
  test('no key material in the debug log or the database', async () => {
    // More keys, one of them sent to a node (Config AppKey Add).
    const nk = await w.ok('POST', '/api/v1/keys/net', { token: admin, body: {} }, [201]);
    const ak = await w.ok('POST', '/api/v1/keys/app', { token: admin, body: { net_index: 0 } }, [201]);
    const add = await w.ok('POST', `/api/v1/nodes/${addr['light-noob']}/config`,
      { token: op, body: { op: 'appkey_add', app_index: ak.index } });
    assert.equal(add.status, 0, `AppKey Add status ${add.status_name}`);
    const bind = await w.ok('POST', `/api/v1/nodes/${addr['light-noob']}/config`,
      { token: op, body: { op: 'bind', element: 0, model: 0x1000, app_index: ak.index } });
    assert.equal(bind.status, 0);

    const net = await w.ok('GET', '/api/v1/keys/net?export=true', { token: admin });
    const app = await w.ok('GET', '/api/v1/keys/app?export=true', { token: admin });
    assert.ok(net.items.some((k) => k.index === nk.index));
    assert.ok(app.items.some((k) => k.index === ak.index));
    const keys = [...net.items, ...app.items].map((k) => k.key);
    assert.equal(keys.length, 4);
    for (const k of keys) assert.match(k, /^[0-9a-f]{32}$/);
    // Without export (even for an admin) no key material is returned; nodes never show a DevKey.
    const plain = await w.ok('GET', '/api/v1/keys/app', { token: admin });
    assert.ok(plain.items.every((k) => !('key' in k)));
    const node = await w.api('GET', `/api/v1/nodes/${addr['light-noob']}`, { token: admin });
    // Only the non-secret fingerprint (4 octets of s1(DevKey)) may name the DevKey.
    assert.doesNotMatch(node.text.replace(/"devkey_fingerprint":"[0-9a-f]{8}"/, ''), /dev_?key/i);
    assert.doesNotMatch(node.text.replace(/"uuid":"[0-9a-f]{32}"/, ''), /[0-9a-f]{32}/i);

    const st = await w.stopGw();
    assert.equal(st.code, 0);
    const secrets = [...keys, ...Object.values(w.tokens)];
    const logs = readdirSync(w.dir).filter((f) => /^meshgw-\d+\.(err|out)$/.test(f));
    assert.ok(logs.length >= 2);
    const log = logs.map((f) => readFileSync(path.join(w.dir, f), 'utf8')).join('\n');
    assert.ok(log.length > 0);
    for (const s of secrets) {
      for (const v of [s, s.toUpperCase()]) {
        assert.equal(log.includes(v), false, `a secret appears in meshgw's log: ${v.slice(0, 6)}…`);
      }
    }
    const dbFiles = readdirSync(w.stateDir).filter((f) => f !== 'master.key' && statSync(path.join(w.stateDir, f)).isFile());
    assert.ok(dbFiles.some((f) => f.endsWith('.db')), `database file in ${dbFiles}`);
    for (const f of dbFiles) {
      const data = readFileSync(path.join(w.stateDir, f));
      for (const k of keys) {
        const raw = Buffer.from(k, 'hex');
        assert.equal(data.indexOf(raw), -1, `${f} holds a key in the clear`);
        assert.equal(data.indexOf(k), -1, `${f} holds a key as hex`);
        assert.equal(data.indexOf(k.toUpperCase()), -1, `${f} holds a key as HEX`);
      }
      for (const t of Object.values(w.tokens)) assert.equal(data.indexOf(t), -1, `${f} holds a token in the clear`);
    }
    assert.equal(statSync(path.join(w.stateDir, 'master.key')).mode & 0o777, 0o600);
  });

  // The gateway holds at most 16 AppKeys (each bound to its OnOff Client): one more is refused
  // at once with 507 and a detail naming the cause (not "No space left on device"), and nothing
  // is stored.
  test('a full AppKey table: 507 naming the cause, nothing stored', async () => {
    if (!w.gw.running) await w.startGw();
    const list = async () => (await w.ok('GET', '/api/v1/keys/app', { token: admin })).items;
    for (let n = (await list()).length; n < 16; n++) {
      await w.ok('POST', '/api/v1/keys/app', { token: admin, body: { net_index: 0 } }, [201]);
    }
    assert.equal((await list()).length, 16);
    const r = await w.api('POST', '/api/v1/keys/app', { token: admin, body: { net_index: 0 } });
    assertProblem(r, 507, 'AppKey 17');
    assert.match(r.body.detail, /the AppKey table is full \(16 AppKeys, the gateway's limit\)/);
    assert.doesNotMatch(r.body.detail, /No space left on device/);
    assert.equal((await list()).length, 16);
  });

  // Another installation's master key on this state directory: meshgw refuses to start and says
  // the key is the wrong one for this database, naming the key file (not "Permission denied").
  test('wrong master key: refused at start, saying so', async () => {
    if (w.gw.running) assert.equal((await w.stopGw()).code, 0);
    const keyPath = path.join(w.stateDir, 'master.key');
    const good = readFileSync(keyPath);
    writeFileSync(keyPath, randomBytes(32), { mode: 0o600 });
    try {
      const r = await w.meshgw(['-f', w.confPath]);
      assert.notEqual(r.code, 0, 'exit status');
      assert.match(r.stderr, /master key does not open the inventory: wrong master key for this database/);
      assert.ok(r.stderr.includes(`(${keyPath})`), `names the key file: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /Permission denied|Key was rejected/);
    } finally {
      writeFileSync(keyPath, good, { mode: 0o600 });
    }
  });
});
