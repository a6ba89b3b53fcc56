// Restores an app's database from one of its snapshots (`norn snapshots <app> restore <ts>` and
// POST /api/apps/:app/snapshots/:ts/restore). It replaces live data, so it refuses unless confirmed, and refuses
// while a deploy of the app runs (that deploy may be snapshotting or migrating the same database).
// Every attempt past those checks is recorded in `snapshot_restores` with its outcome.
import fs from 'node:fs/promises';
import { errorMessage, InvalidInputError, NotFoundError } from '../errors.js';
import type { Snapshot, SnapshotRestore } from './snapshot-store.js';
import { takeSnapshot, type SnapshotDumper, type TakeSnapshotDeps } from './take-snapshot.js';

/** A restore the caller may not run now: 400 without confirmation, 409 while a deploy of the app runs. */
export class RestoreRefusedError extends InvalidInputError {
  constructor(field: string, reason: string, status: 400 | 409) {
    super(field, reason, status);
    this.name = 'RestoreRefusedError';
  }
}

export interface SnapshotRestorer {
  restore(database: string, archivePath: string, options?: { signal?: AbortSignal }): Promise<void>;
}

export interface RestoreSnapshotInput {
  readonly app: string;
  /** The snapshot's timestamp, YYYYMMDDTHHMMSSZ as listed. */
  readonly ts: string;
  /** Must be true: the API's `confirm=true`, the CLI's confirmation. */
  readonly confirm: boolean;
  /** Take a safety snapshot of the current data first (callers default it from spec.snapshots.preRestore). */
  readonly preRestore?: boolean;
  /** The commit currently deployed, recorded on the safety snapshot when known. */
  readonly currentCommitSha?: string;
  readonly signal?: AbortSignal;
}

export interface RestoreSnapshotDeps extends TakeSnapshotDeps {
  readonly postgres: SnapshotDumper & SnapshotRestorer;
  isDeployRunning(app: string): Promise<boolean>;
}

export interface RestoreSnapshotResult {
  readonly restore: SnapshotRestore;
  readonly snapshot: Snapshot;
  readonly safetySnapshot?: Snapshot;
}

export async function restoreSnapshot(input: RestoreSnapshotInput, deps: RestoreSnapshotDeps): Promise<RestoreSnapshotResult> {
  if (input.confirm !== true) {
    throw new RestoreRefusedError('confirm', 'a restore replaces the data in the database; repeat with confirm=true', 400);
  }
  const snapshot = await deps.snapshots.findByTimestamp(input.app, input.ts);
  if (!snapshot) throw new NotFoundError('snapshot', `${input.app}/${input.ts}`);
  if (await deps.isDeployRunning(input.app)) {
    throw new RestoreRefusedError('app', `a deploy of ${input.app} is running; restore when it has finished`, 409);
  }
  await fs.access(snapshot.path).catch(() => {
    throw new NotFoundError('snapshot file', snapshot.path);
  });

  const started = await deps.snapshots.startRestore({ app: input.app, snapshotId: snapshot.id, at: deps.clock() });
  let safetySnapshot: Snapshot | undefined;
  try {
    if (input.preRestore) {
      safetySnapshot = await takeSnapshot(
        {
          app: input.app,
          database: snapshot.database,
          commitSha: input.currentCommitSha ?? null,
          sagaId: null,
          kind: 'pre-restore',
          signal: input.signal,
        },
        deps,
      );
      await deps.snapshots.setRestoreSafetySnapshot(started.id, safetySnapshot.id);
    }
    await deps.postgres.restore(snapshot.database, snapshot.path, { signal: input.signal });
  } catch (err) {
    await deps.snapshots.finishRestore(started.id, { status: 'failed', error: errorMessage(err), at: deps.clock() });
    throw err;
  }
  const finishedAt = deps.clock();
  await deps.snapshots.finishRestore(started.id, { status: 'succeeded', at: finishedAt });
  const restore: SnapshotRestore = {
    ...started,
    safetySnapshotId: safetySnapshot?.id ?? null,
    status: 'succeeded',
    finishedAt: finishedAt.toISOString(),
  };
  return { restore, snapshot, safetySnapshot };
}
