// The `snapshots` and `snapshot_restores` tables: what dumps exist for an app, which were removed by retention,
// and what each restore did. Files themselves are handled by take-snapshot.ts and apply-retention.ts.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

/** `deploy`: pipeline step 4; `pre-restore`: before a restore; `manual`: `norn snapshots <app> take`; `import`: an uploaded file. */
export type SnapshotKind = 'deploy' | 'pre-restore' | 'manual' | 'import';

export interface Snapshot {
  readonly id: string;
  readonly app: string;
  readonly database: string;
  readonly commitSha: string | null;
  readonly sagaId: string | null;
  readonly kind: SnapshotKind;
  readonly size: number;
  readonly path: string;
  /** UTC YYYYMMDDTHHMMSSZ; identifies the snapshot within its app. */
  readonly ts: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly deletedAt: string | null;
}

export type NewSnapshot = Omit<Snapshot, 'id' | 'deletedAt'>;

export type RestoreStatus = 'running' | 'succeeded' | 'failed';

export interface SnapshotRestore {
  readonly id: string;
  readonly app: string;
  readonly snapshotId: string;
  readonly safetySnapshotId: string | null;
  readonly status: RestoreStatus;
  readonly error: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

interface SnapshotRow {
  id: string;
  app: string;
  database: string;
  commit_sha: string | null;
  saga_id: string | null;
  kind: string;
  size: number | string;
  path: string;
  ts: string;
  created_at: string;
  deleted_at: string | null;
}

interface RestoreRow {
  id: string;
  app: string;
  snapshot_id: string;
  safety_snapshot_id: string | null;
  status: string;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export class SnapshotStore {
  constructor(private readonly deps: { knex: Knex }) {}

  async record(input: NewSnapshot): Promise<Snapshot> {
    const snapshot: Snapshot = { ...input, id: randomUUID(), deletedAt: null };
    await this.deps.knex('snapshots').insert(toRow(snapshot));
    return snapshot;
  }

  /** The app's snapshots, newest first; deleted ones only when asked. */
  async listByApp(app: string, options: { includeDeleted?: boolean } = {}): Promise<Snapshot[]> {
    const query = this.deps.knex<SnapshotRow>('snapshots').where({ app }).orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'ts', order: 'desc' },
    ]);
    if (!options.includeDeleted) query.whereNull('deleted_at');
    return (await query).map(fromRow);
  }

  /** The live (not deleted) snapshot of `app` taken at `ts` (YYYYMMDDTHHMMSSZ). */
  async findByTimestamp(app: string, ts: string): Promise<Snapshot | undefined> {
    const row = await this.deps.knex<SnapshotRow>('snapshots').where({ app, ts }).whereNull('deleted_at').first();
    return row ? fromRow(row) : undefined;
  }

  async markDeleted(ids: readonly string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.deps.knex('snapshots').whereIn('id', ids).whereNull('deleted_at').update({ deleted_at: at.toISOString() });
  }

  async startRestore(input: { app: string; snapshotId: string; at: Date }): Promise<SnapshotRestore> {
    const restore: SnapshotRestore = {
      id: randomUUID(),
      app: input.app,
      snapshotId: input.snapshotId,
      safetySnapshotId: null,
      status: 'running',
      error: null,
      startedAt: input.at.toISOString(),
      finishedAt: null,
    };
    await this.deps.knex('snapshot_restores').insert({
      id: restore.id,
      app: restore.app,
      snapshot_id: restore.snapshotId,
      status: restore.status,
      started_at: restore.startedAt,
    });
    return restore;
  }

  async setRestoreSafetySnapshot(restoreId: string, safetySnapshotId: string): Promise<void> {
    await this.deps.knex('snapshot_restores').where({ id: restoreId }).update({ safety_snapshot_id: safetySnapshotId });
  }

  async finishRestore(restoreId: string, outcome: { status: 'succeeded' | 'failed'; error?: string; at: Date }): Promise<void> {
    await this.deps.knex('snapshot_restores').where({ id: restoreId }).update({
      status: outcome.status,
      error: outcome.error ?? null,
      finished_at: outcome.at.toISOString(),
    });
  }

  /** The app's restores, newest first. */
  async listRestores(app: string): Promise<SnapshotRestore[]> {
    const rows = await this.deps.knex<RestoreRow>('snapshot_restores').where({ app }).orderBy('started_at', 'desc');
    return rows.map((r) => ({
      id: r.id,
      app: r.app,
      snapshotId: r.snapshot_id,
      safetySnapshotId: r.safety_snapshot_id,
      status: r.status as RestoreStatus,
      error: r.error,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    }));
  }
}

function toRow(s: Snapshot): SnapshotRow {
  return {
    id: s.id,
    app: s.app,
    database: s.database,
    commit_sha: s.commitSha,
    saga_id: s.sagaId,
    kind: s.kind,
    size: s.size,
    path: s.path,
    ts: s.ts,
    created_at: s.createdAt,
    deleted_at: s.deletedAt,
  };
}

function fromRow(r: SnapshotRow): Snapshot {
  return {
    id: r.id,
    app: r.app,
    database: r.database,
    commitSha: r.commit_sha,
    sagaId: r.saga_id,
    kind: r.kind as SnapshotKind,
    // PostgreSQL returns bigint as a string.
    size: Number(r.size),
    path: r.path,
    ts: r.ts,
    createdAt: r.created_at,
    deletedAt: r.deleted_at,
  };
}
