// How snapshots read in the CLI: the table of an app's snapshots, and what a restore did.
import type { RestoreSnapshotResult, Snapshot } from './ops-api-types.js';
import { formatBytes, textTable } from './text-table.js';

export function snapshotTable(app: string, snapshots: readonly Snapshot[]): string[] {
  if (snapshots.length === 0) return [`no snapshots of ${app}`];
  const rows = snapshots.map((s) => [s.ts, s.commitSha?.slice(0, 12) ?? '-', formatBytes(s.size), `${s.path}${s.kind === 'deploy' ? '' : `  (${s.kind})`}`]);
  return textTable(['TIMESTAMP', 'COMMIT', 'SIZE', 'FILE'], rows, { alignRight: [2] });
}

export function restoreLines(app: string, result: RestoreSnapshotResult): string[] {
  const { snapshot: s, safetySnapshot: safety, restore } = result;
  const lines = [`restored ${app}'s database ${s.database} from snapshot ${s.ts} (commit ${s.commitSha?.slice(0, 12) ?? 'unknown'}, ${formatBytes(s.size)})`];
  if (safety) lines.push(`  safety snapshot of the data it replaced: ${safety.ts} (${safety.path})`);
  lines.push(`  restore ${restore.id} ${restore.status}${restore.finishedAt ? ` at ${restore.finishedAt}` : ''}`);
  return lines;
}

/** What a restore will do, for the confirmation question ("This will …"). */
export function restoreAction(app: string, ts: string, snapshot: Snapshot | undefined, preRestore: boolean): string {
  const target = snapshot
    ? `replace the data in database ${snapshot.database} of ${app} with snapshot ${ts} (commit ${snapshot.commitSha?.slice(0, 12) ?? 'unknown'}, taken ${snapshot.createdAt})`
    : `replace the data in ${app}'s database with snapshot ${ts}`;
  return preRestore ? `${target}, after taking a safety snapshot of the current data` : target;
}
