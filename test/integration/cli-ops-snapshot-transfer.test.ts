// `norn snapshots <app> take | export | import` against the running service and a real PostgreSQL: a manual dump,
// downloaded byte for byte, uploaded again and restored with the existing restore verb; hostile uploads (wrong
// format, damaged archive, too large, path tricks) refused with a clear error and nothing kept. Each verb is an
// operation saga whose id the CLI prints.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { snapshotsCommandWith } from '../../src/cli/snapshots-command.js';
import { createItemsDatabase, type ItemsDatabase } from '../support/items-database.js';
import { testDatabaseUrl } from '../support/services.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';
import { scriptedPerson } from '../fakes/scripted-person.js';

interface SnapshotRow {
  ts: string;
  kind: string;
  size: number;
  path: string;
  database: string;
}

describe('norn snapshots take, export and import against the running service and PostgreSQL', function () {
  this.timeout(60_000);
  let db: ItemsDatabase;
  let svc: TestService;
  let env: Record<string, string>;
  let work: string;
  let taken: SnapshotRow;

  const list = async () => ((await (await svc.api('/api/apps/shop/snapshots')).json()) as { snapshots: SnapshotRow[] }).snapshots;
  const sagaActions = async (id: string) => ((await (await svc.api(`/api/sagas/${id}`)).json()) as { events: { action: string; metadata: { verb?: string } }[] }).events;
  const snapshotFiles = () => fs.readdirSync(path.join(svc.dataDir, 'snapshots', 'shop')).sort();
  const upload = (body: Buffer | string, query = '', type = 'application/octet-stream') =>
    fetch(`${svc.url}/api/apps/shop/snapshots/import${query}`, { method: 'POST', headers: { ...svc.authHeaders, 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });

  before(async () => {
    db = await createItemsDatabase('norn_cli_xfer');
    const database = db.name;
    svc = await startTestService({
      specs: { shop: { name: 'shop', image: 'norn-base:latest', processes: { web: { port: 8080 } }, infrastructure: { postgres: { database } } } },
      env: { NORN_API_TOKEN: 'ops-token', NORN_POSTGRES_URL: testDatabaseUrl(), NORN_SNAPSHOT_IMPORT_MAX_MB: '1' },
    });
    env = { NORN_URL: svc.url, NORN_API_TOKEN: 'ops-token' };
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-xfer-'));
  });
  after(async () => {
    await svc?.close();
    await db?.drop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('takes a snapshot now, lists it, and prints the saga that recorded it', async () => {
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop', 'take'], env, c.io), c.err()).to.equal(0);
    const [line, sagaLine] = c.lines();
    expect(line).to.match(/^snapshot (\d{8}T\d{6}Z) of norn_cli_xfer_\w+ taken \(\d+(\.\d)? (B|KiB)\): \/.+\/snapshots\/shop\/shop-norn_cli_xfer_\w+-manual-\d{8}T\d{6}Z\.dump$/);
    const sagaId = /^ {2}saga ([0-9a-f-]{36})$/.exec(sagaLine!)![1]!;
    const events = await sagaActions(sagaId);
    expect(events.map((e) => e.action)).to.deep.equal(['operation.start', 'operation.complete']);
    expect(events[0]!.metadata.verb).to.equal('snapshots take');
    taken = (await list())[0]!;
    const listing = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop'], env, listing.io)).to.equal(0);
    expect(listing.lines()[1]).to.match(new RegExp(`^${taken.ts} +- .*-manual-${taken.ts}\\.dump {2}\\(manual\\)$`));
    expect(taken).to.include({ kind: 'manual' });
    expect(line).to.contain(taken.ts);
    expect(fs.readFileSync(taken.path).subarray(0, 5).toString()).to.equal('PGDMP');
  });

  it('exports the dump byte for byte, and never overwrites a file that is there', async () => {
    const file = path.join(work, 'shop.dump');
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop', 'export', taken.ts, '-o', file], env, c.io), c.err()).to.equal(0);
    expect(c.lines()[0]).to.equal(`wrote ${file} (${c.lines()[0]!.split('(')[1]!.split(')')[0]}) from snapshot ${taken.ts} of shop`);
    expect(fs.readFileSync(file).equals(fs.readFileSync(taken.path))).to.equal(true);
    const sagaId = /saga ([0-9a-f-]{36})/.exec(c.out())![1]!;
    expect((await sagaActions(sagaId)).map((e) => e.action)).to.deep.equal(['operation.start', 'operation.complete']);

    fs.writeFileSync(file, 'mine');
    const again = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop', 'export', taken.ts, '-o', file], env, again.io)).to.equal(2);
    expect(again.err()).to.contain(`${file} exists already; pick another name with -o`);
    expect(fs.readFileSync(file, 'utf8')).to.equal('mine');
    expect(fs.existsSync(`${file}.partial`)).to.equal(false);
  });

  it('exports to stdout with -o -', async () => {
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (b: Buffer) => chunks.push(b));
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null), stdout })(['shop', 'export', taken.ts, '-o', '-'], env, c.io), c.err()).to.equal(0);
    expect(Buffer.concat(chunks).equals(fs.readFileSync(taken.path))).to.equal(true);
    expect(c.out()).to.equal('');
  });

  it('does not write the binary dump to a terminal', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null), stdout: tty })(['shop', 'export', taken.ts, '-o', '-'], env, c.io)).to.equal(2);
    expect(c.err()).to.contain('-o - writes the binary dump to stdout, which is a terminal here');
  });

  it('says when the snapshot to export does not exist', async () => {
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop', 'export', '20000101T000000Z', '-o', path.join(work, 'none.dump')], env, c.io)).to.equal(1);
    expect(c.err()).to.equal('norn: snapshot shop/20000101T000000Z not found\n');
    expect(fs.existsSync(path.join(work, 'none.dump'))).to.equal(false);
  });

  it('imports a dump only once confirmed, and the restore verb loads it', async () => {
    const file = path.join(work, 'upload.dump');
    fs.copyFileSync(taken.path, file);
    const before = (await list()).length;

    const refused = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop', 'import', file], env, refused.io)).to.equal(1);
    expect(refused.err()).to.match(/^norn: refused: this would add upload\.dump \(.+\) to shop's snapshots, restorable with norn snapshots shop restore <ts>; .*repeat with --yes\n$/);
    expect((await list()).length).to.equal(before);

    const p = scriptedPerson('shop');
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: p })(['shop', 'import', file], env, c.io), c.err()).to.equal(0);
    expect(p.questions).to.have.length(1);
    const ts = /as snapshot (\d{8}T\d{6}Z)/.exec(c.out())![1]!;
    expect(c.lines()[1]).to.equal(`  restore it with: norn snapshots shop restore ${ts}`);
    const sagaId = /saga ([0-9a-f-]{36})/.exec(c.out())![1]!;
    expect((await sagaActions(sagaId)).map((e) => e.action)).to.deep.equal(['operation.start', 'operation.complete']);
    const imported = (await list()).find((s) => s.ts === ts)!;
    expect(imported).to.include({ kind: 'import' });
    expect(path.basename(imported.path)).to.match(/^shop-norn_cli_xfer_\w+-import-\d{8}T\d{6}Z\.dump$/);

    await db.sql("delete from items; insert into items values ('plum')");
    const restore = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop', 'restore', ts, '--yes'], env, restore.io), restore.err()).to.equal(0);
    expect(await db.items()).to.deep.equal(['apple', 'pear']);
  });

  it('refuses uploads that are not a restorable custom-format dump, says what they are, and keeps nothing', async () => {
    const before = await list();
    const files = snapshotFiles();
    const dump = fs.readFileSync(taken.path);
    const cases: [string, Buffer | string, number, RegExp][] = [
      ['a plain SQL dump', '--\n-- PostgreSQL database dump\n--\nCREATE TABLE items (name text);\n', 422, /^file: is text \(a plain SQL dump, made without -Fc\?\), not a custom-format archive; restores run pg_restore.*pg_dump -Fc/],
      ['a gzip file', zlib.gzipSync(dump), 422, /^file: is gzip-compressed/],
      ['a damaged archive', dump.subarray(0, 64), 422, /^file: starts like a pg_dump custom-format archive but pg_restore cannot read it/],
      ['random bytes', Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 200, 201]), 422, /^file: is not a pg_dump custom-format archive \(it does not start with PGDMP\)/],
      ['an empty body', '', 422, /^file: is empty/],
      ['more than the limit', Buffer.concat([Buffer.from('PGDMP'), Buffer.alloc(1024 * 1024)]), 413, /^file: is larger than the import limit of 1 MiB \(NORN_SNAPSHOT_IMPORT_MAX_MB on the receiver\)/],
    ];
    for (const [what, body, status, message] of cases) {
      const res = await upload(body);
      const answer = (await res.json()) as { error: string; field?: string };
      expect(res.status, what).to.equal(status);
      expect(answer.error, what).to.match(message);
      expect(answer.field, what).to.equal('file');
    }
    const tricks = await upload(dump, `?name=${encodeURIComponent('../../etc/cron.d/x')}`);
    expect(tricks.status).to.equal(400);
    expect(((await tricks.json()) as { error: string }).error).to.match(/^name: must be a plain file name/);
    const json = await upload('{}', '', 'application/json');
    expect(json.status).to.equal(415);
    const form = await upload(dump, '', 'text/plain');
    expect(form.status).to.equal(415);

    expect((await list()).map((s) => s.ts)).to.deep.equal(before.map((s) => s.ts));
    expect(snapshotFiles()).to.deep.equal(files);
  });

  it('records a refused import as a failed operation', async () => {
    const res = await upload('not a dump');
    expect(res.status).to.equal(422);
    const { events } = (await (await svc.api('/api/events?app=shop&limit=5')).json()) as { events: { action: string; message: string; metadata: { verb?: string } }[] };
    const failed = events.filter((e) => e.action === 'operation.failed').at(-1) ?? events.find((e) => e.action === 'operation.failed');
    expect(failed?.metadata.verb).to.equal('snapshots import');
    expect(failed?.message).to.match(/^snapshots import failed: file: is text/);
  });
});
