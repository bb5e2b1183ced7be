// The inventory's care: `meshgw backup FILE` beside the running daemon, `meshgw restore FILE`
// (refused while the daemon runs, the replaced file kept aside), and the integrity check at
// start: quick_check always, integrity_check with --integrity-check; a damaged inventory makes
// meshgw refuse to start, saying how to restore.  The sqlite3 CLI (scripts/deps.sh test) reads
// and damages the files.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, openSync, writeSync, closeSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startWorld, waitFor } from './harness.mjs';

const execFileP = promisify(execFile);

async function sql(db, text) {
  const { stdout } = await execFileP('sqlite3', ['-batch', db, text], { timeout: 20000 });
  return stdout.trim();
}

const modeOf = (f) => (statSync(f).mode & 0o777).toString(8);

/**
 * Damage the root page of table nodes as a torn write or a bad sector would: its first octet
 * (the b-tree page type, 2, 5, 10 or 13) becomes 0x07.  The database must be closed.
 */
async function damageNodes(file) {
  const page = Number(await sql(file, `SELECT rootpage FROM sqlite_schema WHERE name = 'nodes'`));
  const size = Number(await sql(file, 'PRAGMA page_size'));
  assert.ok(page > 1 && size >= 512);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([0x07]), 0, 1, (page - 1) * size);
  closeSync(fd);
}

describe('meshgw inventory: backup, restore, integrity at start', () => {
  let w;
  let db;
  let bak;
  let addr;

  const asides = () => readdirSync(w.stateDir).filter((f) => f.includes('.replaced-'));
  const appIndexes = async () =>
    (await w.ok('GET', '/api/v1/keys/app', { token: w.tokens.admin })).items.map((k) => k.index).sort();

  before(async () => {
    w = await startWorld({ scenario: 'small.json', debug: true });
    db = path.join(w.stateDir, 'meshgw.db');
    bak = path.join(w.dir, 'meshgw-backup.db');
    const d = w.device('light-noob');
    const r = await w.ok('POST', '/api/v1/provisioning', {
      token: w.tokens.operator,
      body: { devices: [{ uuid: d.uuid, name: 'light-noob', auth: { method: 'none' } }] },
    }, [202]);
    const fin = await waitFor(async () => {
      const x = await w.ok('GET', `/api/v1/provisioning/${r.sessions[0].id}`, { token: w.tokens.viewer });
      if (x.state === 'failed' || x.state === 'cancelled') {
        throw Object.assign(new Error(`${x.state}: ${x.error}`), { fatal: true });
      }
      return x.state === 'done' && x;
    }, { what: 'provisioning of light-noob' });
    addr = fin.address;
  });

  after(async () => {
    if (w) await w.close();
  });

  // The daemon keeps running and writing; the copy is one checked file, owner-only.
  test('backup beside the running daemon: one 0600 file holding the inventory', async () => {
    const r = await w.meshgw(['-f', w.confPath, 'backup', bak]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /backup of .*meshgw\.db written to .*meshgw-backup\.db/);
    assert.equal(modeOf(bak), '600');
    assert.equal(existsSync(`${bak}-wal`), false, 'one self-contained file');
    assert.equal(await sql(bak, 'PRAGMA integrity_check'), 'ok');
    assert.equal(await sql(bak, 'PRAGMA journal_mode'), 'delete');
    assert.equal(await sql(bak, `SELECT count(*) FROM nodes WHERE name = 'light-noob'`), '1');
    assert.ok(w.gw.running);
    assert.equal((await w.api('GET', '/healthz')).status, 200);
  });

  test('restore is refused while meshgw runs on the inventory, and changes nothing', async () => {
    const ino = statSync(db).ino;
    const r = await w.meshgw(['-f', w.confPath, 'restore', bak]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /restore: .*meshgw\.db is open in a running meshgw .*stop it first/);
    assert.equal(statSync(db).ino, ino);
    assert.deepEqual(asides(), []);
    assert.equal((await w.api('GET', '/healthz')).status, 200);
  });

  // A key made after the backup is gone after the restore; it stays in the file set aside; the
  // restored node still answers (its keys came back with it, sealed under the same master key).
  test('restore after a change: the backup comes back, the replaced file is kept aside', async () => {
    const before = await appIndexes();
    const k = await w.ok('POST', '/api/v1/keys/app', { token: w.tokens.admin, body: { net_index: 0 } }, [201]);
    assert.equal((await w.stopGw()).code, 0);
    const r = await w.meshgw(['-f', w.confPath, 'restore', bak]);
    assert.equal(r.code, 0, r.stderr);
    const m = /restored from .*meshgw-backup\.db; the replaced database is kept as (\S+)\n/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.deepEqual(asides(), [path.basename(m[1])]);
    assert.equal(modeOf(m[1]), '600');
    assert.equal(await sql(m[1], `SELECT count(*) FROM appkeys WHERE idx = ${k.index}`), '1');
    assert.equal(modeOf(db), '600');
    await w.startGw();
    assert.deepEqual(await appIndexes(), before);
    const on = await w.ok('POST', '/api/v1/onoff', { token: w.tokens.operator, body: { address: addr, on: true } });
    assert.equal(on.present, true);
    assert.match(await w.dev('light-noob', 'onoff'), /^0:on /);
  });

  // An index that no longer matches its table: quick_check (every start) does not compare
  // indexes, integrity_check (--integrity-check) does and refuses to start.
  test('--integrity-check compares indexes; the default quick_check does not', async () => {
    assert.equal((await w.stopGw()).code, 0);
    await sql(db, 'CREATE TABLE t (a INTEGER, b INTEGER); CREATE INDEX t_a ON t (a);'
      + 'INSERT INTO t VALUES (1, 20), (2, 10); PRAGMA writable_schema = ON;'
      + `UPDATE sqlite_schema SET sql = 'CREATE INDEX t_a ON t (b)' WHERE name = 't_a';`);
    const r = await w.meshgw(['--integrity-check', '-f', w.confPath]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /database is corrupt .*\(integrity_check: .*t_a/);
    assert.match(r.stderr, /cannot start: the inventory is damaged/);
    await w.startGw();
    assert.match(w.gw.log(), /inventory .*meshgw\.db: quick_check passed/);
  });

  // A damaged table page (what a torn write or a bad sector leaves): refused at start with the
  // way back named; the backup restores, the damaged file is kept aside.
  test('a damaged inventory: meshgw refuses to start and says how to restore', async () => {
    assert.equal((await w.stopGw()).code, 0);
    await damageNodes(db);
    const r = await w.meshgw(['-f', w.confPath]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /inventory .*meshgw\.db: database is corrupt/);
    assert.match(r.stderr, /restore the last backup \(made with `meshgw backup FILE`\): `meshgw restore FILE`/);
    assert.match(r.stderr, /cannot start: the inventory is damaged/);
    const n = asides().length;
    const rs = await w.meshgw(['-f', w.confPath, 'restore', bak]);
    assert.equal(rs.code, 0, rs.stderr);
    assert.equal(asides().length, n + 1);
    await w.startGw();
    const node = await w.ok('GET', `/api/v1/nodes/${addr}`, { token: w.tokens.viewer });
    assert.equal(node.name, 'light-noob');
  });

  // A damaged backup is refused before anything is replaced.
  test('restore refuses a damaged backup', async () => {
    assert.equal((await w.stopGw()).code, 0);
    const bad = path.join(w.dir, 'bad-backup.db');
    assert.equal((await w.meshgw(['-f', w.confPath, 'backup', bad])).code, 0);
    await damageNodes(bad);
    const ino = statSync(db).ino;
    const n = asides().length;
    const r = await w.meshgw(['-f', w.confPath, 'restore', bad]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /restore: .*bad-backup\.db fails its integrity check/);
    assert.equal(statSync(db).ino, ino);
    assert.equal(asides().length, n);
    await w.startGw();
  });
});
