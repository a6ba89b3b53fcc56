// Step 4: dump the app's PostgreSQL database before anything (migrate, submit) can change it, then prune old
// snapshots. Retention always applies: the `snapshots.keep` newest of the app are kept after each snapshot
// (`retentionEnabled` is accepted from Norn v2 but does not switch it off: unbounded dumps fill the disk).
import path from 'node:path';
import { applyRetention } from '../../snapshots/apply-retention.js';
import type { SnapshotStore } from '../../snapshots/snapshot-store.js';
import { takeSnapshot, type SnapshotDumper } from '../../snapshots/take-snapshot.js';
import { done, skipped, type Step } from '../step.js';

export function snapshotStep(
  config: { snapshotsDir: string },
  deps: { postgres: SnapshotDumper; snapshots: SnapshotStore; clock: () => Date },
): Step {
  return {
    name: 'snapshot',
    async run({ app, spec, commitSha, sagaId, signal, report }) {
      const database = spec.infrastructure?.postgres?.database;
      if (!database) return skipped('no postgres declared');

      const snapshot = await takeSnapshot(
        { app, database, commitSha, sagaId, kind: 'deploy', signal },
        { snapshotsDir: config.snapshotsDir, ...deps },
      );
      const summary = `snapshot ${path.basename(snapshot.path)} (${snapshot.size} bytes)`;
      report(summary, {
        action: 'snapshot.created',
        metadata: {
          snapshotId: snapshot.id,
          database,
          commitSha,
          ts: snapshot.ts,
          path: snapshot.path,
          size: snapshot.size,
        },
      });

      const keep = spec.snapshots?.keep ?? 3;
      const retention = await applyRetention({ app, keep }, deps);
      if (retention.deleted.length > 0) {
        const names = retention.deleted.map((s) => path.basename(s.path));
        report(`retention: removed ${names.length} snapshot(s) beyond the newest ${keep}: ${names.join(', ')}`, {
          action: 'snapshot.deleted',
          metadata: {
            keep,
            snapshots: retention.deleted.map((s) => ({ id: s.id, ts: s.ts, path: s.path })),
          },
        });
      }
      for (const { snapshot: s, error } of retention.failed) {
        report(`retention: could not remove ${path.basename(s.path)}: ${error}`, { action: 'snapshot.retention_failed', metadata: { path: s.path } });
      }
      // snapshotTs: the id `norn snapshots <app> restore` takes (a second later than takenAt when that one was taken).
      return done({ snapshot: { path: snapshot.path, takenAt: snapshot.createdAt }, snapshotTs: snapshot.ts }, summary);
    },
  };
}
