// `norn snapshots <app> take`: the same dump as the pipeline's snapshot step, on demand. It is taken under the
// migrations' advisory lock of the app's database, so no migration (of a deploy on this or another receiver) runs
// halfway through the dump, and it is refused while a deploy of the app is in its migrate step: the operator asked
// for the data as it is, not as a running migration leaves it. Retention is not applied here (a manual snapshot
// must not push out the one a deploy took before migrating); the next deploy's snapshot step counts it.
import { InvalidInputError } from '../errors.js';
import type { Snapshot } from './snapshot-store.js';
import { takeSnapshot, type TakeSnapshotDeps } from './take-snapshot.js';

export interface ManualSnapshotDeps extends TakeSnapshotDeps {
  /** Runs `work` while holding the migrations' advisory lock on `database` (apply-migrations.ts withMigrationLock). */
  withMigrationLock<T>(database: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T>;
  /** The step the app's running deploy is in, or undefined when none runs. */
  runningDeployStep(app: string): Promise<string | undefined>;
}

export interface ManualSnapshotInput {
  readonly app: string;
  readonly database: string;
  /** The commit deployed now, recorded on the snapshot when known. */
  readonly commitSha: string | null;
  /** The operation's saga. */
  readonly sagaId: string;
  readonly signal?: AbortSignal;
}

export async function takeManualSnapshot(input: ManualSnapshotInput, deps: ManualSnapshotDeps): Promise<Snapshot> {
  await refuseWhileMigrating(input.app, deps);
  return deps.withMigrationLock(input.database, input.signal, async () => {
    // Holding the lock, no migration runs now; a deploy that reached migrate meanwhile waits for this dump.
    return takeSnapshot({ app: input.app, database: input.database, commitSha: input.commitSha, sagaId: input.sagaId, kind: 'manual', signal: input.signal }, deps);
  });
}

async function refuseWhileMigrating(app: string, deps: Pick<ManualSnapshotDeps, 'runningDeployStep'>): Promise<void> {
  const step = await deps.runningDeployStep(app);
  if (step === 'migrate') {
    throw new InvalidInputError('app', `a deploy of ${app} is migrating its database; take the snapshot when it has finished (norn status ${app})`, 409);
  }
}
