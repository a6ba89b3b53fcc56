// `snapshots take` against a real PostgreSQL: it dumps while no migration runs (the migrations' advisory lock), a
// dump asked for during a migration waits for it to end, and it is refused while a deploy of the app migrates.
import { expect } from 'chai';
import pg from 'pg';
import { InvalidInputError } from '../../src/errors.js';
import { withMigrationLock } from '../../src/pipeline/migrations/apply-migrations.js';
import { takeManualSnapshot, type ManualSnapshotDeps } from '../../src/snapshots/manual-snapshot.js';
import { dbFixture, type DbFixture } from './db-support.js';

const SAGA = '00000000-0000-4000-8000-0000000000aa';

describe('manual snapshot (PostgreSQL)', () => {
  let db: DbFixture;
  let step: string | undefined;

  beforeEach(async () => {
    db = await dbFixture('db_manual_snap');
    await db.query('CREATE TABLE orders (id int PRIMARY KEY)');
    step = undefined;
  });
  afterEach(async () => db.close());

  const deps = (): ManualSnapshotDeps => ({
    snapshotsDir: db.snapshotsDir,
    postgres: db.admin,
    snapshots: db.snapshots,
    clock: db.clock,
    withMigrationLock: (database, signal, work) => withMigrationLock(db.admin.clientConfig(database), signal, work),
    runningDeployStep: async () => step,
  });

  it('records a manual snapshot with the deployed commit and the operation saga', async () => {
    const s = await takeManualSnapshot({ app: 'shop', database: db.database, commitSha: 'abcdef0123456789abcdef', sagaId: SAGA }, deps());
    expect(s).to.include({ kind: 'manual', commitSha: 'abcdef0123456789abcdef', sagaId: SAGA, ts: '20240501T120000Z' });
    expect(s.path).to.match(new RegExp(`/shop/shop-${db.database}-abcdef012345-20240501T120000Z\\.dump$`));
    expect((await db.snapshots.listByApp('shop')).map((x) => x.id)).to.deep.equal([s.id]);
  });

  it('waits while a migration holds the lock, and dumps what the migration left', async () => {
    // Another runner (a deploy on another receiver, say) is migrating: it holds the lock and has created a table.
    const migration = new pg.Client(db.admin.clientConfig(db.database));
    await migration.connect();
    let released = false;
    let dumped: Promise<unknown> | undefined;
    try {
      await migration.query('SELECT pg_advisory_lock(4920650422204314084)');
      await migration.query('BEGIN; CREATE TABLE added_by_migration (id int)');
      dumped = takeManualSnapshot({ app: 'shop', database: db.database, commitSha: null, sagaId: SAGA }, deps()).then((s) => {
        expect(released, 'dumped before the migration released its lock').to.equal(true);
        return s;
      });
      // A dump that did not wait would be done well within this (it takes ~100 ms here).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await db.snapshots.listByApp('shop')).to.deep.equal([]);
      await migration.query('COMMIT');
      released = true;
      await migration.query('SELECT pg_advisory_unlock(4920650422204314084)');
    } finally {
      await migration.end();
    }
    await dumped;
    const [s] = await db.snapshots.listByApp('shop');
    expect(s!.path).to.contain('-manual-');
    const toc = await db.admin.listArchive(s!.path);
    expect(toc).to.contain('TABLE public added_by_migration');
  });

  it('is refused while a deploy of the app is in its migrate step, and dumps nothing', async () => {
    step = 'migrate';
    const err = await takeManualSnapshot({ app: 'shop', database: db.database, commitSha: null, sagaId: SAGA }, deps()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(InvalidInputError);
    expect(err).to.include({ status: 409 });
    expect((err as Error).message).to.equal('app: a deploy of shop is migrating its database; take the snapshot when it has finished (norn status shop)');
    expect(await db.snapshots.listByApp('shop')).to.deep.equal([]);
  });

  it('is taken while a deploy is at another step (its own snapshot, say)', async () => {
    step = 'snapshot';
    const s = await takeManualSnapshot({ app: 'shop', database: db.database, commitSha: null, sagaId: SAGA }, deps());
    expect(s.kind).to.equal('manual');
  });
});
