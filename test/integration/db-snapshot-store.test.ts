// The snapshots tables through the store, on both backends the store supports (SQLite and PostgreSQL).
import { expect } from 'chai';
import { SnapshotStore, type NewSnapshot } from '../../src/snapshots/snapshot-store.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/services.js';

const base: NewSnapshot = {
  app: 'shop',
  database: 'shop',
  commitSha: '0123456789abcdef0123456789abcdef01234567',
  sagaId: null,
  kind: 'deploy',
  size: 5_000_000_000,
  path: '/snapshots/shop/a.dump',
  ts: '20240501T120000Z',
  createdAt: '2024-05-01T12:00:00.000Z',
};

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`SnapshotStore (${backend})`, () => {
    let store: Store;
    let scratch: ScratchDatabase | undefined;
    let snapshots: SnapshotStore;

    beforeEach(async () => {
      scratch = backend === 'postgres' ? await createScratchDatabase('db_snapshot_store') : undefined;
      store = await createStore({ databaseUrl: scratch?.url, sqliteFile: ':memory:' });
      snapshots = new SnapshotStore({ knex: store.knex });
    });
    afterEach(async () => {
      await store.close();
      await scratch?.drop();
    });

    it('lists an app newest first, sizes as numbers, and hides deleted snapshots from list and lookup', async () => {
      const older = await snapshots.record(base);
      const newer = await snapshots.record({ ...base, path: '/snapshots/shop/b.dump', ts: '20240501T130000Z', createdAt: '2024-05-01T13:00:00.000Z' });
      await snapshots.record({ ...base, app: 'blog' });

      expect((await snapshots.listByApp('shop')).map((s) => s.id)).to.deep.equal([newer.id, older.id]);
      expect((await snapshots.findByTimestamp('shop', '20240501T120000Z'))?.size).to.equal(5_000_000_000);

      await snapshots.markDeleted([older.id], new Date('2024-05-02T00:00:00Z'));
      expect((await snapshots.listByApp('shop')).map((s) => s.id)).to.deep.equal([newer.id]);
      expect(await snapshots.findByTimestamp('shop', older.ts)).to.equal(undefined);
      const all = await snapshots.listByApp('shop', { includeDeleted: true });
      expect(all.find((s) => s.id === older.id)?.deletedAt).to.equal('2024-05-02T00:00:00.000Z');
    });

    it('records a restore from start to outcome', async () => {
      const snap = await snapshots.record(base);
      const safety = await snapshots.record({ ...base, kind: 'pre-restore', commitSha: null, ts: '20240501T140000Z' });
      const started = await snapshots.startRestore({ app: 'shop', snapshotId: snap.id, at: new Date('2024-05-01T14:00:00Z') });
      await snapshots.setRestoreSafetySnapshot(started.id, safety.id);
      await snapshots.finishRestore(started.id, { status: 'failed', error: 'pg_restore exited 1', at: new Date('2024-05-01T14:01:00Z') });

      expect(await snapshots.listRestores('shop')).to.deep.equal([
        {
          id: started.id,
          app: 'shop',
          snapshotId: snap.id,
          safetySnapshotId: safety.id,
          status: 'failed',
          error: 'pg_restore exited 1',
          startedAt: '2024-05-01T14:00:00.000Z',
          finishedAt: '2024-05-01T14:01:00.000Z',
        },
      ]);
    });
  });
}
