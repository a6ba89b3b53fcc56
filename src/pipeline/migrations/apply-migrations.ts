// Applies SQL migrations to one database: each file once, each in its own transaction together with its record in
// `public.norn_schema_migrations` (file, version, name, sha256 checksum, applied_at). A session advisory lock on a
// dedicated connection serializes runners, so two deploys racing on the same database apply each file once.
//
// Written here rather than taken from a library: postgres-migrations needs gap-free ids and cannot take
// golang-migrate's `.up.sql`/`.down.sql` pairs; node-pg-migrate keeps no checksums (an edited applied file goes
// unnoticed) and needs `-- Up Migration` markers; postgrator needs `NNN.do.sql` names.
import pg from 'pg';
import type { MigrationFile } from './migration-files.js';

/** An already-applied migration file differs from what was applied. Nothing was applied by this run. */
export class MigrationChangedError extends Error {
  constructor(
    readonly file: string,
    readonly recordedChecksum: string,
    readonly currentChecksum: string,
  ) {
    super(`migration ${file} was changed after it was applied (checksum ${currentChecksum.slice(0, 12)}, applied ${recordedChecksum.slice(0, 12)})`);
    this.name = 'MigrationChangedError';
  }
}

/** A migration's SQL failed; it was rolled back, the ones before it stay applied. */
export class MigrationFailedError extends Error {
  constructor(
    readonly file: string,
    /** PostgreSQL's message, e.g. `relation "x" does not exist`. */
    readonly pgMessage: string,
    readonly pgCode: string | undefined,
    /** Line in the file where PostgreSQL placed the error, when it said. */
    readonly line: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(`migration ${file} failed${line ? ` at line ${line}` : ''}: ${pgMessage}`, options);
    this.name = 'MigrationFailedError';
  }
}

export interface ApplyMigrationsOptions {
  /** Aborting cancels the running statement (or the wait for the lock); the call rejects with the reason. */
  readonly signal?: AbortSignal;
  /** Called after each migration committed. */
  readonly onApplied?: (migration: MigrationFile, durationMs: number) => void;
}

export interface ApplyMigrationsResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: number;
}

/** Advisory lock key shared by every runner: the first 8 bytes of sha256("norn:sql-migrations"). */
const LOCK_KEY = '4920650422204314084';
const TABLE = 'public.norn_schema_migrations';

export async function applyMigrations(
  config: { readonly connection: pg.ClientConfig; readonly migrations: readonly MigrationFile[] },
  options: ApplyMigrationsOptions = {},
): Promise<ApplyMigrationsResult> {
  return withMigrationLock(config.connection, options.signal, (client) => applyLocked(client, config.migrations, options));
}

/**
 * Runs `work` while holding the migrations' advisory lock on a dedicated connection of `connection`'s database, so
 * migrations run one deploy at a time, whether SQL files or a command (`migrations: make migrate`). Aborting
 * cancels the statement running on that connection (or the wait for the lock); the call rejects with the reason.
 */
export async function withMigrationLock<T>(
  connection: pg.ClientConfig,
  signal: AbortSignal | undefined,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  signal?.throwIfAborted();
  const client = new pg.Client(connection);
  // Connection-level failures also reject the pending query; without a listener they would crash the process.
  client.on('error', () => undefined);
  await client.connect();
  let cancel: (() => void) | undefined;
  try {
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    cancel = () => void cancelBackend(connection, pid);
    signal?.addEventListener('abort', cancel, { once: true });
    signal?.throwIfAborted();
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      return await work(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    }
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  } finally {
    if (cancel) signal?.removeEventListener('abort', cancel);
    await client.end().catch(() => undefined);
  }
}

async function applyLocked(
  client: pg.Client,
  migrations: readonly MigrationFile[],
  options: ApplyMigrationsOptions,
): Promise<ApplyMigrationsResult> {
  await client.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
    file text PRIMARY KEY, version text NOT NULL, name text NOT NULL, checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())`);
  const rows = (await client.query<{ file: string; checksum: string }>(`SELECT file, checksum FROM ${TABLE}`)).rows;
  const recorded = new Map(rows.map((r) => [r.file, r.checksum]));
  // Check every applied file before applying anything: an edited history is an error, not a partial deploy.
  for (const m of migrations) {
    const checksum = recorded.get(m.file);
    if (checksum !== undefined && checksum !== m.checksum) throw new MigrationChangedError(m.file, checksum, m.checksum);
  }
  const applied: string[] = [];
  for (const m of migrations.filter((x) => !recorded.has(x.file))) {
    options.signal?.throwIfAborted();
    const started = Date.now();
    await client.query('BEGIN');
    try {
      await client.query(m.sql);
      await client.query(`INSERT INTO ${TABLE} (file, version, name, checksum) VALUES ($1, $2, $3, $4)`, [
        m.file,
        m.version,
        m.name,
        m.checksum,
      ]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw toMigrationError(m, err);
    }
    applied.push(m.file);
    options.onApplied?.(m, Date.now() - started);
  }
  return { applied, alreadyApplied: migrations.length - applied.length };
}

function toMigrationError(m: MigrationFile, err: unknown): MigrationFailedError {
  const pgErr = err as Partial<pg.DatabaseError>;
  const position = Number(pgErr.position);
  const line = position > 0 ? m.sql.slice(0, position - 1).split('\n').length : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return new MigrationFailedError(m.file, message, pgErr.code, line, { cause: err });
}

/** Cancels the statement running on backend `pid` from a second, short-lived connection. */
async function cancelBackend(connection: pg.ClientConfig, pid: number): Promise<void> {
  const client = new pg.Client(connection);
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // Best effort: the caller is already giving up on this run.
  } finally {
    await client.end().catch(() => undefined);
  }
}
