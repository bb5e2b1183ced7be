// Certificate-based provisioning (Mesh Protocol v1.1 §5.4.2.1, issue 13) end to end through
// meshgw's REST API: meshsim devices carry X.509 chains made at test time (build/certgen, from
// tests/util/certgen.c: no key is committed), serve them as provisioning records and use the
// certified key pair as their OOB public key; meshgw trusts the manufacturer root named by
// cbp_trust.  Every response is validated against openapi.yaml by the harness.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startWorld, waitFor, scanUntil, itemOf, buildDir, parseStatus, airModel } from './harness.mjs';

const certgen = path.join(buildDir, 'certgen');
const DAY = 86400;

// The devices of the test's copy of small.json: the template is its No OOB light.
const DEVICES = {
  'cert-ok': 'c0000000000000000000000000000001',
  'cert-expired': 'c0000000000000000000000000000002',
  'cert-other': 'c0000000000000000000000000000003',
  'cert-unknown': 'c0000000000000000000000000000004',
  'cert-prefer': 'c0000000000000000000000000000005',
  'cert-far': 'c0000000000000000000000000000006',
};
const SERVER_UUID = 'c00000000000000000000000000000f0';

describe('certificate-based provisioning through the REST API', () => {
  let w;
  let op;
  let viewer;
  let admin;
  let pki;
  const file = (n) => path.join(pki, n);

  /** One certificate and key: certgen CERT KEY CN [args]. */
  const make = (name, cn, ...args) => execFileSync(certgen, [file(`${name}.pem`), file(`${name}.key`), cn, ...args]);
  /** A chain file: the device certificate, then the intermediate. */
  const chain = (dev) => {
    const out = file(`${dev}.chain.pem`);
    appendFileSync(out, readFileSync(file(`${dev}.pem`)));
    appendFileSync(out, readFileSync(file(dev === 'cert-unknown' ? 'rogue-inter.pem' : 'inter.pem')));
    return out;
  };

  const start = (name, auth) => w.ok('POST', '/api/v1/provisioning',
    { token: op, body: { devices: [{ uuid: DEVICES[name] ?? w.device(name).uuid, name, auth }] } }, [202]);

  /** Every node row (active and excluded) of the inventory. */
  const allNodes = async () => [
    ...(await w.ok('GET', '/api/v1/nodes?limit=1000', { token: viewer })).items,
    ...(await w.ok('GET', '/api/v1/nodes?limit=1000&excluded=true', { token: viewer })).items,
  ];

  /** A session that must fail: its error names the reason, and no node exists for the device. */
  async function refused(name, auth, reason) {
    const r = await start(name, auth);
    const s = await w.waitSession(r.sessions[0].id, ['failed']);
    assert.match(s.error, reason, `${name}: ${s.error}`);
    assert.equal(s.address, null);
    assert.equal(s.certificate, null);
    assert.equal(s.attempts, 1, `${name}: a refused certificate is not retried`);
    const uuid = DEVICES[name] ?? w.device(name).uuid;
    assert.ok(!(await allNodes()).some((n) => n.uuid === uuid), `${name}: no node left behind`);
    return s;
  }

  before(async () => {
    pki = mkdtempSync(path.join(tmpdir(), 'meshgw-cbp-pki-'));
    const now = ['--from', String(-DAY), '--to', String(365 * DAY)];
    make('root', 'Maker Root CA', '--ca', '--to', String(3650 * DAY));
    make('inter', 'Maker Devices CA', '--ca', '--issuer', file('root.pem'), file('root.key'));
    make('rogue-root', 'Rogue Root CA', '--ca');
    make('rogue-inter', 'Rogue Devices CA', '--ca', '--issuer', file('rogue-root.pem'), file('rogue-root.key'));
    const byInter = ['--issuer', file('inter.pem'), file('inter.key')];
    make('cert-ok', DEVICES['cert-ok'], ...byInter, ...now);
    make('cert-prefer', DEVICES['cert-prefer'], ...byInter, ...now);
    make('cert-far', DEVICES['cert-far'], ...byInter, ...now);
    make('cert-expired', DEVICES['cert-expired'], ...byInter, '--from', String(-400 * DAY), '--to', String(-30 * DAY));
    make('cert-other', DEVICES['cert-ok'], ...byInter, ...now); // names cert-ok's UUID
    make('cert-unknown', DEVICES['cert-unknown'], '--issuer', file('rogue-inter.pem'), file('rogue-inter.key'), ...now);
    appendFileSync(file('trust.pem'), readFileSync(file('root.pem')));

    w = await startWorld({
      gwConf: { cbp_trust: file('trust.pem') },
      editScenario: (s) => {
        const tpl = s.devices.find((d) => d.name === 'light-noob');
        let x = 3;
        for (const [name, uuid] of Object.entries(DEVICES)) {
          const d = JSON.parse(JSON.stringify(tpl));
          // cert-far is out of the gateway's range (30 m) and 25 m from the RPR server.
          const position = name === 'cert-far' ? { x: 45, y: 5, z: 1 } : { x: x++, y: -1, z: 1 };
          Object.assign(d, { name, uuid, position });
          d.certificate = { chain: chain(name), key: file(`${name}.key`) };
          s.devices.push(d);
        }
        const srv = JSON.parse(JSON.stringify(tpl));
        Object.assign(srv, { name: 'rpr-srv', uuid: SERVER_UUID, position: { x: 20, y: 5, z: 1 }, rpr_server: true });
        srv.composition.elements = [{ location: '0x0100', models: ['0x0000', '0x0002', '0x0004'] }];
        s.devices.push(srv);
      },
    });
    op = w.tokens.operator;
    viewer = w.tokens.viewer;
    admin = w.tokens.admin;
  });

  after(async () => {
    if (w) await w.close();
    if (pki) rmSync(pki, { recursive: true, force: true });
  });

  test('GET /api/v1/trust lists the manufacturer root (admin only)', async () => {
    const t = await w.ok('GET', '/api/v1/trust', { token: admin });
    assert.equal(t.configured, true);
    assert.equal(t.path, file('trust.pem'));
    assert.equal(t.items.length, 1);
    assert.match(t.items[0].subject, /CN=Maker Root CA/);
    assert.equal(t.items[0].subject, t.items[0].issuer, 'a root is self-signed');
    const fp = execFileSync('openssl', ['x509', '-in', file('root.pem'), '-noout', '-fingerprint', '-sha256'])
      .toString().split('=')[1].trim().replaceAll(':', '').toLowerCase();
    assert.equal(t.items[0].sha256, fp);
    assert.equal((await w.api('GET', '/api/v1/trust', { token: op })).status, 403);
  });

  // The negative cases run first: none may take an address, so the device provisioned after
  // them gets the lowest one of the range (the gateway itself is 0x0001).
  test('an expired certificate is refused with its date', async () => {
    await refused('cert-expired', { method: 'certificate' }, /provisioning failed: certificate expired \d{4}-\d{2}-\d{2}/);
  });

  test('a certificate of another UUID is refused', async () => {
    await refused('cert-other', { method: 'certificate' }, /certificate is for another device/);
  });

  test('a chain to an unknown root is refused', async () => {
    await refused('cert-unknown', { method: 'certificate' }, /not signed by a trusted manufacturer/);
  });

  test('a device without a certificate is refused under require', async () => {
    await refused('light-noob', { method: 'certificate' }, /device does not support certificate-based provisioning/);
  });

  test('auth.method certificate alone provisions the device and shows its certificate', async () => {
    const r = await start('cert-ok', { method: 'certificate' });
    assert.equal(r.sessions[0].auth_method, 'certificate');
    const s = await w.waitSession(r.sessions[0].id, ['done']);
    assert.equal(s.auth_method, 'certificate');
    assert.equal(s.address, 0x0002, 'no refused session kept an address');
    assert.ok(s.certificate, 'the session shows the certificate');
    assert.match(s.certificate.subject, new RegExp(`CN=${DEVICES['cert-ok']}`));
    assert.match(s.certificate.issuer, /CN=Maker Devices CA/);
    const der = execFileSync('openssl', ['x509', '-in', file('cert-ok.pem'), '-noout', '-fingerprint', '-sha256'])
      .toString().split('=')[1].trim().replaceAll(':', '').toLowerCase();
    assert.equal(s.certificate.sha256, der);
    const nb = new Date(s.certificate.not_before).getTime();
    const na = new Date(s.certificate.not_after).getTime();
    assert.ok(nb < Date.now() && na > Date.now() + 300 * DAY * 1000, `${s.certificate.not_before} .. ${s.certificate.not_after}`);
    // The inventory keeps it with the node.
    const n = await w.ok('GET', `/api/v1/nodes/${s.address}`, { token: viewer });
    assert.deepEqual(n.certificate, s.certificate);
    // The device is a node at that address.
    assert.equal(parseStatus(await w.dev('cert-ok', 'status')).addr, s.address);
  });

  test('certificate "prefer" reads the records of a device that advertises them, and only of it', async () => {
    // prefer needs the beacon's OOB Information: the gateway must have heard both devices.
    await scanUntil(w, { duration_s: 30 }, (items) =>
      itemOf(items, DEVICES['cert-prefer']) && itemOf(items, w.device('light-noob').uuid), { timeout: 60000 });
    const items = (await w.ok('GET', '/api/v1/scans/results', { token: viewer })).items;
    assert.equal(itemOf(items, DEVICES['cert-prefer']).oob_info & 0x0180, 0x0180, 'bits 7 and 8 advertised');
    assert.equal(itemOf(items, w.device('light-noob').uuid).oob_info & 0x0180, 0);
    const body = {
      devices: [
        { uuid: DEVICES['cert-prefer'], name: 'cert-prefer', auth: { method: 'none', certificate: 'prefer' } },
        { uuid: w.device('light-noob').uuid, name: 'light-noob', auth: { method: 'none', certificate: 'prefer' } },
      ],
    };
    const r = await w.ok('POST', '/api/v1/provisioning', { token: op, body }, [202]);
    const [withCert, without] = await Promise.all(r.sessions.map((x) => w.waitSession(x.id, ['done'])));
    assert.match(withCert.certificate?.subject ?? '', new RegExp(`CN=${DEVICES['cert-prefer']}`));
    assert.equal(without.certificate, null, 'a device without records is provisioned as before');
    assert.equal((await w.ok('GET', `/api/v1/nodes/${without.address}`, { token: viewer })).certificate, null);
  });

  test('a device out of range is provisioned with its certificate through a Remote Provisioning Server', async () => {
    const air = airModel(w.scenario);
    assert.equal(air.hops['cert-far'], 2, 'the gateway does not hear cert-far; rpr-srv does');
    assert.ok(air.inRange('port', 'rpr-srv') && air.inRange('rpr-srv', 'cert-far'));
    const { done: [server] } = await w.provision(['rpr-srv']);
    const r = await w.ok('POST', '/api/v1/provisioning', {
      token: op,
      body: { devices: [{ uuid: DEVICES['cert-far'], name: 'cert-far', auth: { method: 'certificate' }, server: server.address }] },
    }, [202]);
    const s = await w.waitSession(r.sessions[0].id, ['done'], { timeout: 120000 });
    assert.equal(s.via, server.address);
    assert.equal(s.auth_method, 'certificate');
    assert.match(s.certificate.subject, new RegExp(`CN=${DEVICES['cert-far']}`));
    assert.deepEqual((await w.ok('GET', `/api/v1/nodes/${s.address}`, { token: viewer })).certificate, s.certificate);
    assert.equal(parseStatus(await w.dev('cert-far', 'status')).addr, s.address);
  });

  test('SIGHUP reloads cbp_trust: a file without certificates keeps the running store; the rogue root trusted, its device provisions', async () => {
    // A trust file with no certificate in it: refused, the running store stays.
    let mark = w.gw.log().length;
    appendFileSync(file('empty.pem'), 'no certificates here\n');
    w.writeConf({ cbp_trust: file('empty.pem') });
    w.gw.proc.kill('SIGHUP');
    await waitFor(() => /keeping the running trust store/.test(w.gw.log().slice(mark)), { what: 'the refusal', timeout: 10000 });
    const kept = await w.ok('GET', '/api/v1/trust', { token: admin });
    assert.equal(kept.path, file('trust.pem'));
    assert.equal(kept.items.length, 1);
    // `meshgw -n` loads the trust store as a start would, and names the problem.
    const check = await w.meshgw(['-n', '-f', w.confPath]);
    assert.equal(check.code, 1);
    assert.match(check.stderr, /cbp_trust .*empty\.pem: no PEM certificate found/);
    w.writeConf();
    assert.equal((await w.meshgw(['-n', '-f', w.confPath])).code, 0);

    mark = w.gw.log().length;
    appendFileSync(file('trust.pem'), readFileSync(file('rogue-root.pem')));
    w.gw.proc.kill('SIGHUP');
    await waitFor(() => /configuration reloaded/.test(w.gw.log().slice(mark)), { what: 'the reload', timeout: 10000 });
    const t = await w.ok('GET', '/api/v1/trust', { token: admin });
    assert.deepEqual(t.items.map((i) => i.subject.match(/CN=([^,]+)/)[1]).sort(), ['Maker Root CA', 'Rogue Root CA']);
    const r = await start('cert-unknown', { method: 'certificate' });
    const s = await w.waitSession(r.sessions[0].id, ['done']);
    assert.match(s.certificate.issuer, /CN=Rogue Devices CA/);
  });
});
