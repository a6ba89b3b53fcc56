// A rollback's `migrate` step: with --restore-snapshot, put the database back to the snapshot taken before the
// migrations being rolled back, under the migrations' advisory lock (no deploy can migrate meanwhile), and recorded
// in `snapshot_restores` like every restore. Under the lock it checks once more that no migration ran on top of
// that snapshot other than the ones it undoes (another receiver, or one applied by hand): then it refuses rather
// than guess, and changes nothing.
import type { ClientConfig } from 'pg';
import type pg from 'pg';
import type { RollbackOrder } from '../rollback-order.js';
import { StepFailedError } from '../../errors.js';
import { withMigrationLock } from '../migrations/apply-migrations.js';
import type { SnapshotRestorer } from '../../snapshots/restore-snapshot.js';
import type { SnapshotStore } from '../../snapshots/snapshot-store.js';
import { done, skipped, type Step } from '../step.js';
import { restoreCommand } from '../../snapshots/restore-command.js';

export interface RollbackRestoreDeps {
  readonly postgres: SnapshotRestorer & { clientConfig(database: string): ClientConfig };
  readonly snapshots: Pick<SnapshotStore, 'findByTimestamp' | 'startRestore' | 'finishRestore' | 'setRestoreSafetySnapshot'>;
  readonly clock: () => Date;
}

export function rollbackRestoreStep(order: RollbackOrder, deps: RollbackRestoreDeps): Step {
  return {
    name: 'migrate',
    async run({ app, outputs, signal, report }) {
      const r = order.restore;
      if (!r) return skipped('no --restore-snapshot: no migration is undone');
      const snapshot = await deps.snapshots.findByTimestamp(app, r.ts);
      if (!snapshot) throw new StepFailedError('migrate', `snapshot ${r.ts} is no longer kept (retention removed it since the rollback was planned); nothing was restored`);
      const safetyTs = typeof outputs.safetySnapshotTs === 'string' ? outputs.safetySnapshotTs : undefined;
      const safety = safetyTs ? await deps.snapshots.findByTimestamp(app, safetyTs) : undefined;

      await withMigrationLock(deps.postgres.clientConfig(r.database), signal, async (client) => {
        const others = await migrationsOnTop(client, r.createdAt, r.files);
        if (others.length > 0) {
          throw new StepFailedError(
            'migrate',
            `refusing to restore snapshot ${r.ts}: ${others.join(', ')} ${others.length === 1 ? 'was' : 'were'} applied on top of it besides the migrations of saga ${r.migratingSagaId}, and restoring would undo ${others.length === 1 ? 'it' : 'them'} too; nothing was restored (restore by hand with ${restoreCommand(app, r.ts)} if that is what you want)`,
            { snapshotTs: r.ts, migrationsOnTop: others },
          );
        }
        const started = await deps.snapshots.startRestore({ app, snapshotId: snapshot.id, at: deps.clock() });
        if (safety) await deps.snapshots.setRestoreSafetySnapshot(started.id, safety.id);
        try {
          await deps.postgres.restore(r.database, snapshot.path, { signal });
        } catch (err) {
          await deps.snapshots.finishRestore(started.id, { status: 'failed', error: err instanceof Error ? err.message : String(err), at: deps.clock() });
          throw err;
        }
        await deps.snapshots.finishRestore(started.id, { status: 'succeeded', at: deps.clock() });
      });
      const undone = r.files.length > 0 ? r.files.join(', ') : 'the migration command\'s changes';
      report(`restored ${r.database} from snapshot ${r.ts}: undid ${undone} of saga ${r.migratingSagaId}${safetyTs ? ` (the data before the restore is in snapshot ${safetyTs})` : ''}`, {
        action: 'snapshot.restored',
        metadata: {
          database: r.database,
          ts: r.ts,
          path: snapshot.path,
          undid: r.files,
          migratingSagaId: r.migratingSagaId,
          safetySnapshotTs: safetyTs ?? null
        },
      });
      return done({ restoredSnapshotTs: r.ts }, `restored ${r.database} from snapshot ${r.ts}`);
    },
  };
}

/**
 * Migration files recorded after the snapshot was taken that are not the ones this restore undoes. A database
 * without the record table (a migration command, or no SQL migration ever) has none to show.
 */
async function migrationsOnTop(client: pg.Client, snapshotCreatedAt: string, undoing: readonly string[]): Promise<string[]> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('public.norn_schema_migrations')::text AS t");
  if (!exists.rows[0]?.t) return [];
  const rows = await client.query<{ file: string }>('SELECT file FROM public.norn_schema_migrations WHERE applied_at > $1 ORDER BY applied_at, file', [snapshotCreatedAt]);
  return rows.rows.map((row) => row.file).filter((f) => !undoing.includes(f));
}
