// Keeps the `keep` newest live snapshots of an app and removes the rest: the file is deleted, the row is kept with
// deleted_at set. Every snapshot of the app counts, pre-restore safety snapshots included.
import fs from 'node:fs/promises';
import { errorMessage } from '../errors.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';

export interface RetentionResult {
  readonly deleted: readonly Snapshot[];
  /** Snapshots whose file could not be removed; they stay live and are retried after the next snapshot. */
  readonly failed: readonly { readonly snapshot: Snapshot; readonly error: string }[];
}

export async function applyRetention(
  input: { app: string; keep: number },
  deps: { snapshots: SnapshotStore; clock: () => Date },
): Promise<RetentionResult> {
  // At least one: retention runs right after a snapshot and must never remove the one just taken.
  const keep = Math.max(1, Math.floor(input.keep));
  const expired = (await deps.snapshots.listByApp(input.app)).slice(keep);
  const deleted: Snapshot[] = [];
  const failed: { snapshot: Snapshot; error: string }[] = [];
  for (const snapshot of expired) {
    try {
      await fs.rm(snapshot.path, { force: true });
      deleted.push(snapshot);
    } catch (err) {
      failed.push({ snapshot, error: errorMessage(err) });
    }
  }
  await deps.snapshots.markDeleted(
    deleted.map((s) => s.id),
    deps.clock(),
  );
  return { deleted, failed };
}
