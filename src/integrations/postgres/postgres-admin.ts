// pg_dump and pg_restore against the operator's PostgreSQL, run as child processes. The admin password is written
// to a temporary passfile (mode 0600, removed afterwards) named by PGPASSFILE, so it is never on a command line,
// in an error or in a log.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg, { type ClientConfig } from 'pg';
import { CommandError } from '../../errors.js';
import { commandFailed, type CommandRunner } from '../process/run-command.js';
import {
  assertDatabaseName,
  clientConfig,
  libpqEnvironment,
  parseAdminUrl,
  passfileLine,
  type PostgresTarget,
} from './connection-target.js';

export interface PostgresAdminConfig {
  /** NORN_POSTGRES_URL: an admin role on the server holding the apps' databases. */
  readonly adminUrl: string;
  readonly pgDump?: string;
  readonly pgRestore?: string;
  readonly psql?: string;
  /** Base environment for the tools (PATH, LANG); any PG* variables in it are dropped. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly dumpTimeoutMs?: number;
  readonly restoreTimeoutMs?: number;
}

export interface DumpOptions {
  readonly signal?: AbortSignal;
}

/**
 * Run before a restore's SQL, in its transaction: drops every schema but PostgreSQL's own, and makes `public`
 * again as PostgreSQL 15 creates it (owned by the database owner, usable by everyone).
 */
const RESET_SCHEMAS_SQL = `
DO $reset$
DECLARE s record;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s.nspname);
  END LOOP;
END
$reset$;
CREATE SCHEMA public AUTHORIZATION pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;
COMMENT ON SCHEMA public IS 'standard public schema';
`;

/** The first bytes of every custom-format (`-Fc`) archive. */
const ARCHIVE_MAGIC = 'PGDMP';

export class PostgresAdmin {
  private readonly target: PostgresTarget;

  constructor(
    private readonly config: PostgresAdminConfig,
    private readonly deps: { runner: CommandRunner },
  ) {
    this.target = parseAdminUrl(config.adminUrl);
  }

  /** host:port/database of the admin URL, without user or password: safe to show. */
  get address(): string {
    return `${this.target.host}:${this.target.port}${this.target.url.pathname || '/'}`;
  }

  /** Connects with the admin URL and asks the server's version: the "is it there, does it let us in" probe. */
  async serverVersion(timeoutMs: number): Promise<string> {
    const client = new pg.Client({ connectionString: this.target.url.href, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
    client.on('error', () => undefined); // a dropped connection after the answer is not this probe's concern
    try {
      await client.connect();
      const { rows } = await client.query<{ server_version: string }>('show server_version');
      return rows[0]?.server_version ?? 'unknown';
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Dumps `database` to `destPath` (custom format). The dump is written under a temporary name beside the
   * destination and renamed only once pg_dump succeeded and the archive looks whole, so a failed or interrupted
   * dump leaves no file behind. Never overwrites an existing file.
   */
  async dump(database: string, destPath: string, options: DumpOptions = {}): Promise<{ size: number }> {
    assertDatabaseName(database);
    await fs.mkdir(path.dirname(destPath), { recursive: true });
    const temp = path.join(path.dirname(destPath), `.${path.basename(destPath)}.${randomBytes(6).toString('hex')}.partial`);
    const argv = [this.config.pgDump ?? 'pg_dump', '--format=custom', '--no-password', `--file=${temp}`, `--dbname=${database}`];
    try {
      const result = await this.run(argv, options.signal, this.config.dumpTimeoutMs);
      if (result.exitCode !== 0) throw commandFailed(argv, result);
      const size = await verifyArchive(argv, temp);
      // link + unlink rather than rename: link fails when the destination exists instead of replacing it.
      await fs.link(temp, destPath);
      return { size };
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  /**
   * Restores an archive into `database` as it was when dumped: every schema in the database is dropped (so tables
   * and views created after the dump go too, and a migration that created them runs cleanly again), `public` is
   * made again with PostgreSQL's defaults, and the archive's objects and data are recreated, all in one
   * transaction, so a failure leaves the database as it was. pg_restore turns the archive into SQL in a private
   * temp dir (it needs room for the uncompressed data), and psql runs it after the reset with ON_ERROR_STOP.
   */
  async restore(database: string, archivePath: string, options: DumpOptions = {}): Promise<void> {
    assertDatabaseName(database);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'norn-restore-'));
    try {
      const script = path.join(dir, 'restore.sql');
      const render = [this.config.pgRestore ?? 'pg_restore', '--exit-on-error', `--file=${script}`, archivePath];
      const rendered = await this.run(render, options.signal, this.config.restoreTimeoutMs);
      if (rendered.exitCode !== 0) throw commandFailed(render, rendered);
      const reset = path.join(dir, 'reset.sql');
      await fs.writeFile(reset, RESET_SCHEMAS_SQL, { mode: 0o600 });
      const apply = [
        this.config.psql ?? 'psql',
        '--no-psqlrc',
        '--single-transaction',
        '--set=ON_ERROR_STOP=1',
        '--quiet',
        '--no-password',
        `--dbname=${database}`,
        `--file=${reset}`,
        `--file=${script}`,
      ];
      const applied = await this.run(apply, options.signal, this.config.restoreTimeoutMs);
      if (applied.exitCode !== 0) throw commandFailed(apply, applied);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * The table of contents of an archive (`pg_restore --list`): it succeeds only for a whole archive pg_restore can
   * read, so it checks an uploaded file before it is offered for restore. Throws a CommandError with pg_restore's
   * own words otherwise.
   */
  async listArchive(archivePath: string, options: DumpOptions = {}): Promise<string> {
    const argv = [this.config.pgRestore ?? 'pg_restore', '--list', archivePath];
    const result = await this.run(argv, options.signal, this.config.restoreTimeoutMs);
    if (result.exitCode !== 0) throw commandFailed(argv, result);
    return result.stdout;
  }

  /** A pg driver config for `database` with the admin credentials (carries the password: never log it). */
  clientConfig(database: string): ClientConfig {
    return clientConfig(this.target, database);
  }

  private async run(argv: string[], signal: AbortSignal | undefined, timeoutMs: number | undefined) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'norn-pgpass-'));
    try {
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(this.config.env ?? {})) {
        if (value !== undefined && !key.startsWith('PG')) env[key] = value;
      }
      Object.assign(env, libpqEnvironment(this.target));
      if (this.target.password !== undefined) {
        const passfile = path.join(dir, 'pgpass');
        await fs.writeFile(passfile, passfileLine(this.target), { mode: 0o600 });
        env.PGPASSFILE = passfile;
      }
      return await this.deps.runner(argv, { env, signal, timeoutMs });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}

/** Size of a finished archive; throws when it is empty or not a custom-format archive (a partial write). */
async function verifyArchive(argv: readonly string[], file: string): Promise<number> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(ARCHIVE_MAGIC.length);
    await handle.read(head, 0, head.length, 0);
    if (size === 0 || head.toString('latin1') !== ARCHIVE_MAGIC) {
      throw new CommandError(argv, 0, `pg_dump wrote an incomplete archive (${size} bytes)`);
    }
    await handle.sync();
    return size;
  } finally {
    await handle.close();
  }
}
