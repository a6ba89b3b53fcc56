// A rollback's restore step against a real PostgreSQL: it waits for the migrations' advisory lock, refuses (and
// changes nothing) when a migration it was not told about ran on top of the snapshot, and otherwise puts the
// database back to the snapshot, recorded like every restore.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { StepFailedError } from '../../src/errors.js';
import { applyMigrations, withMigrationLock } from '../../src/pipeline/migrations/apply-migrations.js';
import type { MigrationFile } from '../../src/pipeline/migrations/migration-files.js';
import type { RollbackOrder } from '../../src/pipeline/rollback-order.js';
import { rollbackRestoreStep } from '../../src/pipeline/steps/rollback-restore.js';
import { takeSnapshot } from '../../src/snapshots/take-snapshot.js';
import { appSpec, dbFixture, stepContext, type DbFixture } from './db-support.js';

const migration = (file: string, sql: string): MigrationFile => ({
  file,
  version: file.split('_')[0]!,
  name: file,
  sql,
  checksum: createHash('sha256').update(sql).digest('hex'),
});

describe('rollback restore step (PostgreSQL)', () => {
  let db: DbFixture;
  let order: RollbackOrder;
  const tables = async () =>
    (await db.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).map((r) => r.name);
  const step = () => rollbackRestoreStep(order, { postgres: db.admin, snapshots: db.snapshots, clock: db.clock });
  const spec = () => appSpec('shop', { infrastructure: { postgres: { database: db.database } } });

  beforeEach(async () => {
    db = await dbFixture('rb_restore');
    const connection = db.admin.clientConfig(db.database);
    await applyMigrations({ connection, migrations: [migration('0001_items.sql', 'CREATE TABLE items (id int);')] });
    const snapshot = await takeSnapshot({ app: 'shop', database: db.database, commitSha: null, sagaId: 'deploy-2', kind: 'deploy' }, { snapshotsDir: db.snapshotsDir, postgres: db.admin, snapshots: db.snapshots, clock: db.clock });
    // applied_at is the server's clock: compare with when the dump really happened, not the fixture's clock.
    const takenAt = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    await applyMigrations({ connection, migrations: [migration('0001_items.sql', 'CREATE TABLE items (id int);'), migration('0002_notes.sql', 'CREATE TABLE notes (id int);')] });
    order = {
      image: 'reg/shop:1',
      targetSagaId: 'deploy-1',
      restoresSagaId: 'deploy-1',
      fromImage: 'reg/shop:2',
      fromSagaId: 'deploy-2',
      restore: { ts: snapshot.ts, path: snapshot.path, database: db.database, createdAt: takenAt, migratingSagaId: 'deploy-2', files: ['0002_notes.sql'] },
    };
  });
  afterEach(async () => db.close());

  it('refuses without changing anything when a migration it was not told about ran on top of the snapshot', async () => {
    const connection = db.admin.clientConfig(db.database);
    await applyMigrations({ connection, migrations: [migration('0003_tags.sql', 'CREATE TABLE tags (id int);')] });
    const err = await step().run(stepContext(spec()).ctx).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(StepFailedError);
    expect((err as StepFailedError).message).to.contain('refusing to restore snapshot').and.contain('0003_tags.sql').and.contain(`norn snapshots shop restore ${order.restore!.ts} --yes`);
    expect(await tables()).to.deep.equal(['items', 'norn_schema_migrations', 'notes', 'tags']);
    expect(await db.snapshots.listRestores('shop')).to.deep.equal([]);
  });

  it('waits for the migrations\' lock, then restores the snapshot and records the restore', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = withMigrationLock(db.admin.clientConfig(db.database), undefined, async () => {
      locked();
      await held;
    });
    await isLocked;
    const { ctx, reports } = stepContext(spec());
    const running = step().run(ctx);
    await new Promise((r) => setTimeout(r, 500));
    expect(await tables(), 'nothing restored while another runner holds the lock').to.include('notes');
    expect(await db.snapshots.listRestores('shop')).to.deep.equal([]);
    release();
    await holder;
    const result = await running;
    expect(result.status).to.equal('complete');
    expect(await tables()).to.deep.equal(['items', 'norn_schema_migrations']);
    expect((await db.query<{ file: string }>('SELECT file FROM norn_schema_migrations')).map((r) => r.file)).to.deep.equal(['0001_items.sql']);
    const [restore] = await db.snapshots.listRestores('shop');
    expect(restore).to.include({ status: 'succeeded' });
    expect(reports.find((r) => r.action === 'snapshot.restored')?.metadata).to.deep.include({ ts: order.restore!.ts, undid: ['0002_notes.sql'] });
  });

  it('skips without --restore-snapshot, and fails when the snapshot is no longer kept', async () => {
    const without = await rollbackRestoreStep({ ...order, restore: null }, { postgres: db.admin, snapshots: db.snapshots, clock: db.clock }).run(stepContext(spec()).ctx);
    expect(without).to.deep.include({ status: 'skipped' });
    const [snapshot] = await db.snapshots.listByApp('shop');
    await db.snapshots.markDeleted([snapshot!.id], new Date());
    const err = await step().run(stepContext(spec()).ctx).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.contain('is no longer kept');
    expect(await tables()).to.include('notes');
  });
});
