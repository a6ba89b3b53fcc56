// Restoring a snapshot into a real PostgreSQL: data comes back, refusals leave the database alone, the optional
// safety snapshot holds the data as it was before the restore, and every attempt is recorded.
import fs from 'node:fs/promises';
import { expect } from 'chai';
import { CommandError, InvalidInputError, NotFoundError } from '../../src/errors.js';
import { snapshotStep } from '../../src/pipeline/steps/snapshot.js';
import { restoreSnapshot, RestoreRefusedError, type RestoreSnapshotDeps } from '../../src/snapshots/restore-snapshot.js';
import type { Snapshot } from '../../src/snapshots/snapshot-store.js';
import { appSpec, dbFixture, stepContext, type DbFixture } from './db-support.js';

describe('restoreSnapshot (PostgreSQL)', () => {
  let db: DbFixture;
  let snapshot: Snapshot;
  let deployRunning: boolean;
  let askedAbout: string[];

  const deps = (): RestoreSnapshotDeps => ({
    snapshotsDir: db.snapshotsDir,
    postgres: db.admin,
    snapshots: db.snapshots,
    clock: db.clock,
    isDeployRunning: async (app) => {
      askedAbout.push(app);
      return deployRunning;
    },
  });
  const items = async () => (await db.query<{ item: string }>('SELECT item FROM orders ORDER BY id')).map((r) => r.item);

  beforeEach(async () => {
    deployRunning = false;
    askedAbout = [];
    db = await dbFixture('db_restore');
    await db.query('CREATE TABLE orders (id int PRIMARY KEY, item text)');
    await db.query('CREATE TABLE customers (id int PRIMARY KEY, name text)');
    await db.query("INSERT INTO orders VALUES (1, 'apple'), (2, 'pear')");
    await db.query("INSERT INTO customers VALUES (1, 'ada')");
    const spec = appSpec('shop', { infrastructure: { postgres: { database: db.database } } });
    const step = snapshotStep({ snapshotsDir: db.snapshotsDir }, { postgres: db.admin, snapshots: db.snapshots, clock: db.clock });
    await step.run(stepContext(spec).ctx);
    snapshot = (await db.snapshots.listByApp('shop'))[0]!;
    db.advance(60_000);
  });
  afterEach(async () => db.close());

  it('brings deleted rows and a dropped table back, and records the restore as succeeded', async () => {
    await db.query("DELETE FROM orders WHERE item = 'apple'");
    await db.query("INSERT INTO orders VALUES (3, 'plum')");
    await db.query('DROP TABLE customers');

    const result = await restoreSnapshot({ app: 'shop', ts: snapshot.ts, confirm: true }, deps());

    expect(await items()).to.deep.equal(['apple', 'pear']);
    expect(await db.query('SELECT name FROM customers')).to.deep.equal([{ name: 'ada' }]);
    expect(result.snapshot.id).to.equal(snapshot.id);
    expect(result.safetySnapshot).to.equal(undefined);
    const [recorded] = await db.snapshots.listRestores('shop');
    expect(recorded).to.deep.include({ snapshotId: snapshot.id, status: 'succeeded', error: null, safetySnapshotId: null });
    expect(recorded!.finishedAt).to.be.a('string');
    const argv = db.runs.at(-1)!.argv;
    expect(argv.slice(0, 3)).to.deep.equal(['psql', '--no-psqlrc', '--single-transaction']);
  });

  it('leaves nothing created after the snapshot: a later table, view and schema are gone, so a migration can run again', async () => {
    await db.query('CREATE TABLE invoices (id int PRIMARY KEY)');
    await db.query('CREATE VIEW customer_names AS SELECT name FROM customers');
    await db.query('CREATE SCHEMA reporting');
    await db.query('CREATE TABLE reporting.daily (day date)');

    await restoreSnapshot({ app: 'shop', ts: snapshot.ts, confirm: true }, deps());

    const relations = await db.query<{ name: string }>(
      "SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'v') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1",
    );
    expect(relations.map((r) => r.name)).to.deep.equal(['public.customers', 'public.orders']);
    expect(await db.query("SELECT nspname FROM pg_namespace WHERE nspname = 'reporting'")).to.deep.equal([]);
    // What a redeploy's migration would do again after going back in time.
    await db.query('CREATE TABLE invoices (id int PRIMARY KEY)');
    expect(await items()).to.deep.equal(['apple', 'pear']);
  });

  it('refuses without confirmation (400) and leaves the database and the records alone', async () => {
    await db.query('DELETE FROM orders');

    const err = await restoreSnapshot({ app: 'shop', ts: snapshot.ts, confirm: false }, deps()).catch((e: unknown) => e);

    expect(err).to.be.instanceOf(RestoreRefusedError).and.instanceOf(InvalidInputError);
    expect(err).to.include({ field: 'confirm', status: 400 });
    expect(await items()).to.deep.equal([]);
    expect(await db.snapshots.listRestores('shop')).to.deep.equal([]);
  });

  it('refuses with 409 while a deploy of the app is running', async () => {
    deployRunning = true;
    await db.query('DELETE FROM orders');

    const err = await restoreSnapshot({ app: 'shop', ts: snapshot.ts, confirm: true, preRestore: true }, deps()).catch((e: unknown) => e);

    expect(err).to.be.instanceOf(RestoreRefusedError);
    expect(err).to.include({ status: 409 });
    expect((err as Error).message).to.contain('deploy of shop is running');
    expect(askedAbout).to.deep.equal(['shop']);
    expect(await items()).to.deep.equal([]);
    expect(await db.snapshots.listByApp('shop')).to.have.length(1);
  });

  it('takes a safety snapshot of the current data first when asked, and that snapshot restores too', async () => {
    await db.query("UPDATE orders SET item = 'changed'");

    const result = await restoreSnapshot(
      { app: 'shop', ts: snapshot.ts, confirm: true, preRestore: true, currentCommitSha: 'fedcba9876543210fedcba9876543210fedcba98' },
      deps(),
    );

    expect(await items()).to.deep.equal(['apple', 'pear']);
    const safety = result.safetySnapshot!;
    expect(safety).to.deep.include({ kind: 'pre-restore', ts: '20240501T120100Z', commitSha: 'fedcba9876543210fedcba9876543210fedcba98' });
    expect(safety.path).to.match(/shop-.*-fedcba987654-20240501T120100Z\.dump$/);
    expect((await fs.stat(safety.path)).size).to.equal(safety.size);
    expect((await db.snapshots.listRestores('shop'))[0]).to.include({ safetySnapshotId: safety.id, status: 'succeeded' });

    db.advance(60_000);
    await restoreSnapshot({ app: 'shop', ts: safety.ts, confirm: true }, deps());
    expect(await items()).to.deep.equal(['changed', 'changed']);
  });

  it('answers NotFoundError for an unknown timestamp', async () => {
    const err = await restoreSnapshot({ app: 'shop', ts: '20000101T000000Z', confirm: true }, deps()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotFoundError);
  });

  it('records a failed restore and rolls all of it back (one transaction)', async () => {
    // A snapshot naming a role as a table's owner; once the role is gone, the restore fails at that statement,
    // after the schemas were dropped and some tables recreated: without the single transaction, data would be gone.
    await db.query('DROP ROLE IF EXISTS norn_restore_owner');
    await db.query('CREATE ROLE norn_restore_owner');
    await db.query('CREATE TABLE owned (id int)');
    await db.query('ALTER TABLE owned OWNER TO norn_restore_owner');
    const spec = appSpec('shop', { infrastructure: { postgres: { database: db.database } } });
    await snapshotStep({ snapshotsDir: db.snapshotsDir }, { postgres: db.admin, snapshots: db.snapshots, clock: db.clock }).run(stepContext(spec).ctx);
    const withOwner = (await db.snapshots.listByApp('shop')).find((s) => s.id !== snapshot.id)!;
    db.advance(60_000);
    await db.query('DROP TABLE owned');
    await db.query('DROP ROLE norn_restore_owner');
    await db.query("UPDATE orders SET item = 'kept'");
    await db.query("UPDATE customers SET name = 'kept'");

    const err = await restoreSnapshot({ app: 'shop', ts: withOwner.ts, confirm: true }, deps()).catch((e: unknown) => e);

    expect(err).to.be.instanceOf(CommandError);
    expect((err as CommandError).stderrTail).to.contain('norn_restore_owner');
    expect(await items()).to.deep.equal(['kept', 'kept']);
    expect(await db.query('SELECT name FROM customers')).to.deep.equal([{ name: 'kept' }]);
    const [recorded] = await db.snapshots.listRestores('shop');
    expect(recorded).to.include({ status: 'failed' });
    expect(recorded!.error).to.contain('psql');
  });

  it('records a restore from an unreadable archive as failed', async () => {
    await fs.writeFile(snapshot.path, 'not an archive');

    const err = await restoreSnapshot({ app: 'shop', ts: snapshot.ts, confirm: true }, deps()).catch((e: unknown) => e);

    expect(err).to.be.instanceOf(CommandError);
    expect((await db.snapshots.listRestores('shop'))[0]).to.include({ status: 'failed' });
  });
});
