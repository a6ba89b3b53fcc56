// A rollback's `snapshot` step: before --restore-snapshot replaces the database with the snapshot taken before the
// migrations, dump what it holds now (a `pre-restore` snapshot), so the data written since can still be recovered.
// Always taken, whatever `snapshots.preRestore` says: a rollback's restore is never undone otherwise. Retention
// does not run here, so neither this dump nor the snapshot about to be restored is pruned by it.
import path from 'node:path';
import type { RollbackOrder } from '../rollback-order.js';
import { takeSnapshot, type TakeSnapshotDeps } from '../../snapshots/take-snapshot.js';
import { done, skipped, type Step } from '../step.js';

export function rollbackSafetySnapshotStep(order: RollbackOrder, deps: TakeSnapshotDeps): Step {
  return {
    name: 'snapshot',
    async run({ app, sagaId, signal, report }) {
      if (!order.restore) return skipped('no snapshot to restore: the database is left as it is');
      const { database } = order.restore;
      const safety = await takeSnapshot({ app, database, commitSha: null, sagaId, kind: 'pre-restore', signal }, deps);
      report(`safety snapshot ${safety.ts} of ${database} before the restore (${safety.size} bytes)`, {
        action: 'snapshot.created',
        metadata: {
          kind: 'pre-restore',
          snapshotId: safety.id,
          database,
          ts: safety.ts,
          path: safety.path,
          size: safety.size
        },
      });
      return done({ safetySnapshotTs: safety.ts }, `safety snapshot ${path.basename(safety.path)} (${safety.size} bytes)`);
    },
  };
}
