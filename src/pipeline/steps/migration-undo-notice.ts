// What an automatic rollback (a failed health gate that left or put the previous version back) must say when this
// deploy ran migrations: the previous version now runs against the migrated database, and only the snapshot taken
// before the migrations undoes them. The notice leads the step's error, so a commit status (140 characters on
// GitHub) still carries the exact restore command after trimming.
import { restoreCommand } from '../../snapshots/restore-command.js';
import { snapshotTimestamp } from '../../snapshots/take-snapshot.js';
import type { StepContext } from '../step.js';

export interface MigrationUndoNotice {
  /** Leads the error: `the database keeps this deploy's migrations: …`. */
  readonly text: string;
  /** For the step's detail and the `deploy.rollback` event. */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Undefined when this deploy changed nothing in the database (no migration applied, no migration command run). */
export function migrationUndoNotice(ctx: Pick<StepContext, 'app' | 'outputs'>): MigrationUndoNotice | undefined {
  const files = Array.isArray(ctx.outputs.migrationsApplied) ? ctx.outputs.migrationsApplied.filter((f): f is string => typeof f === 'string') : [];
  const command = typeof ctx.outputs.migrationCommand === 'string' ? ctx.outputs.migrationCommand : undefined;
  if (files.length === 0 && !command) return undefined;
  const migrations = { migrationsApplied: files, ...(command ? { migrationCommand: command } : {}) };
  const snapshot = ctx.outputs.snapshot;
  if (!snapshot) {
    return { text: "the database keeps this deploy's migrations, and no snapshot was taken before them", detail: migrations };
  }
  // The snapshot step names the snapshot's own timestamp; it can be a second later than takenAt when that was taken.
  const ts = typeof ctx.outputs.snapshotTs === 'string' ? ctx.outputs.snapshotTs : snapshotTimestamp(new Date(snapshot.takenAt));
  const restore = restoreCommand(ctx.app, ts);
  return {
    text: `the database keeps this deploy's migrations: \`${restore}\` restores the snapshot taken before them`,
    detail: { ...migrations, snapshot: snapshot.path, snapshotTs: ts, restoreCommand: restore },
  };
}
