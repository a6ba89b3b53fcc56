// Dumps an app's database into the snapshots dir and records it. Shared by the pipeline's snapshot step and by the
// safety snapshot a restore can take first.
import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '../errors.js';
import type { NewSnapshot, Snapshot, SnapshotKind, SnapshotStore } from './snapshot-store.js';

/** What takes a dump; PostgresAdmin in production. Writes `destPath` whole or not at all. */
export interface SnapshotDumper {
  dump(database: string, destPath: string, options?: { signal?: AbortSignal }): Promise<{ size: number }>;
}

export interface TakeSnapshotDeps {
  /** Root of the snapshot files; each app gets a subdirectory. */
  readonly snapshotsDir: string;
  readonly postgres: SnapshotDumper;
  readonly snapshots: SnapshotStore;
  readonly clock: () => Date;
}

export interface TakeSnapshotInput {
  readonly app: string;
  readonly database: string;
  readonly commitSha: string | null;
  readonly sagaId: string | null;
  readonly kind: SnapshotKind;
  readonly signal?: AbortSignal;
}

/** UTC `YYYYMMDDTHHMMSSZ`: sortable, and safe in file names and URLs. */
export function snapshotTimestamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The snapshot's id within its app is its second; two snapshots in one second (a pre-restore safety snapshot right
 * after a deploy's) take the next free second rather than fail.
 */
export async function freeTimestamp(app: string, now: Date, snapshots: SnapshotStore): Promise<string> {
  const taken = new Set((await snapshots.listByApp(app, { includeDeleted: true })).map((s) => s.ts));
  let at = now.getTime();
  while (taken.has(snapshotTimestamp(new Date(at)))) at += 1000;
  return snapshotTimestamp(new Date(at));
}

/**
 * Where the snapshot of `app`'s `database` taken at `ts` is kept: `<snapshots dir>/<app>/<app>-<database>-<label>-<ts>.dump`,
 * `label` being the commit (12 characters) or what made it. The app name becomes a directory and part of a file
 * name, so it must be one safe path segment.
 */
export function snapshotFile(snapshotsDir: string, s: { app: string; database: string; label: string; ts: string }): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s.app)) throw new InvalidInputError('app', `invalid app name ${s.app}`);
  return path.join(snapshotsDir, s.app, `${s.app}-${s.database}-${s.label}-${s.ts}.dump`);
}

export async function takeSnapshot(input: TakeSnapshotInput, deps: TakeSnapshotDeps): Promise<Snapshot> {
  snapshotFile(deps.snapshotsDir, { app: input.app, database: input.database, label: '', ts: '' });
  const now = deps.clock();
  const ts = await freeTimestamp(input.app, now, deps.snapshots);
  const label = input.commitSha ? input.commitSha.slice(0, 12) : input.kind === 'pre-restore' ? 'prerestore' : input.kind;
  const file = snapshotFile(deps.snapshotsDir, { app: input.app, database: input.database, label, ts });
  const { size } = await deps.postgres.dump(input.database, file, { signal: input.signal });
  const record: NewSnapshot = {
    app: input.app,
    database: input.database,
    commitSha: input.commitSha,
    sagaId: input.sagaId,
    kind: input.kind,
    size,
    path: file,
    ts,
    createdAt: now.toISOString(),
  };
  try {
    return await deps.snapshots.record(record);
  } catch (err) {
    // An unrecorded file would never be listed, restored or pruned.
    await fs.rm(file, { force: true });
    throw err;
  }
}
