// Step 5: apply the SQL migrations from the checkout's `migrations` dir to the app's database (see
// pipeline/migrations/apply-migrations.ts for the once-only, checksummed, locked apply). A failure names the
// file, PostgreSQL's message, and the snapshot step 4 took, so the operator knows what to restore.
// When `migrations` is not a directory of the checkout it is a command (Norn's code reads it so): see
// migrate-command.ts.
import type { ClientConfig } from 'pg';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { prebuiltImage } from '../../apps/infraspec-schema.js';
import { InvalidInputError, StepFailedError } from '../../errors.js';
import type { DockerEngine } from '../../integrations/docker/docker-engine.js';
import { applyMigrations, MigrationChangedError, MigrationFailedError } from '../migrations/apply-migrations.js';
import { listMigrationFiles, resolveMigrationsDir } from '../migrations/migration-files.js';
import { snapshotTimestamp } from '../../snapshots/take-snapshot.js';
import { done, skipped, type Step, type StepContext } from '../step.js';
import { runMigrationCommand, type MigrationCommandConfig } from './migrate-command.js';

export interface MigrateStepDeps {
  readonly postgres: { clientConfig(database: string): ClientConfig };
  /** Runs a `migrations` command; without it only directories of SQL files are supported. */
  readonly docker?: Pick<DockerEngine, 'run'>;
  readonly command?: MigrationCommandConfig;
}

export function migrateStep(deps: MigrateStepDeps): Step {
  return {
    name: 'migrate',
    async run(ctx) {
      const { spec, outputs, signal, report } = ctx;
      const dir = spec.migrations;
      if (!dir) return skipped('no migrations declared');
      const database = spec.infrastructure?.postgres?.database;
      if (!database) throw new StepFailedError('migrate', `migrations (${dir}) declared but no infrastructure.postgres.database to apply them to`);
      if (!outputs.workDir) throw new StepFailedError('migrate', 'no checkout to read migrations from');
      if (!(await isDirectoryIn(outputs.workDir, dir))) {
        if (!deps.docker || !deps.command) throw new StepFailedError('migrate', `migrations "${dir}" is not a directory in the checkout, and this receiver runs no migration commands`);
        const image = outputs.imageTag ?? prebuiltImage(spec);
        const connection = deps.postgres.clientConfig(database);
        const notADirectory = !/\s/.test(dir.trim());
        try {
          await runMigrationCommand(ctx, { command: dir, image, database, connection, notADirectory }, deps.command, deps.docker);
        } catch (err) {
          if (err instanceof StepFailedError) throw withRestoreHint(ctx, err);
          throw err;
        }
        report(`migration command ran against ${database}`, { action: 'migration.command', metadata: { database, command: dir } });
        return done({ migrationCommand: dir }, `migration command succeeded against ${database}`);
      }

      let files;
      try {
        files = await listMigrationFiles(outputs.workDir, await resolveMigrationsDir(outputs.workDir, dir));
      } catch (err) {
        if (err instanceof InvalidInputError) throw new StepFailedError('migrate', err.message, { migrations: dir }, { cause: err });
        throw err;
      }

      try {
        const result = await applyMigrations(
          { connection: deps.postgres.clientConfig(database), migrations: files },
          {
            signal,
            onApplied: (m, durationMs) =>
              report(`migration ${m.file} applied (${durationMs} ms)`, { action: 'migration.applied', metadata: { database, file: m.file, checksum: m.checksum, durationMs } }),
          },
        );
        const message =
          result.applied.length > 0
            ? `applied ${result.applied.length} migration(s) to ${database}: ${result.applied.join(', ')}`
            : `${database} up to date (${result.alreadyApplied} migration(s) already applied)`;
        return done({ migrationsApplied: [...result.applied] }, message);
      } catch (err) {
        if (err instanceof MigrationFailedError || err instanceof MigrationChangedError) throw failure(ctx, database, err);
        throw err;
      }
    },
  };
}

/** True when `value` names a directory inside the checkout (a command such as `make migrate` never does). */
async function isDirectoryIn(workDir: string, value: string): Promise<boolean> {
  const trimmed = value.trim();
  if (/\s/.test(trimmed) || trimmed.startsWith('/')) return false;
  const full = path.resolve(workDir, trimmed);
  if (full !== workDir && !full.startsWith(workDir + path.sep)) return false;
  return stat(full).then((s) => s.isDirectory(), () => false);
}

function withRestoreHint(ctx: StepContext, err: StepFailedError): StepFailedError {
  const snapshot = ctx.outputs.snapshot;
  if (!snapshot) return err;
  const hint = `; snapshot taken before migrating: ${snapshot.path} (restore: norn snapshots ${ctx.app} restore ${snapshotTsOf(ctx)})`;
  return new StepFailedError('migrate', `${err.message}${hint}`, { ...err.detail, snapshot: snapshot.path, snapshotTakenAt: snapshot.takenAt }, { cause: err });
}

function failure(ctx: StepContext, database: string, err: MigrationFailedError | MigrationChangedError): StepFailedError {
  const snapshot = ctx.outputs.snapshot;
  const restoreHint = snapshot
    ? `; snapshot taken before migrating: ${snapshot.path} (restore: norn snapshots ${ctx.app} restore ${snapshotTsOf(ctx)})`
    : '';
  const detail: Record<string, unknown> = { database, file: err.file, snapshot: snapshot?.path, snapshotTakenAt: snapshot?.takenAt };
  if (err instanceof MigrationFailedError) Object.assign(detail, { pgMessage: err.pgMessage, pgCode: err.pgCode, line: err.line });
  const advice = err instanceof MigrationChangedError ? ' (restore the file and add a new migration instead)' : '';
  return new StepFailedError('migrate', `${err.message}${advice}${restoreHint}`, detail, { cause: err });
}

/** The snapshot's id as `norn snapshots` lists it: the snapshot step's own, else derived from when it was taken. */
function snapshotTsOf(ctx: StepContext): string {
  if (typeof ctx.outputs.snapshotTs === 'string') return ctx.outputs.snapshotTs;
  return snapshotTimestamp(new Date(ctx.outputs.snapshot!.takenAt));
}
