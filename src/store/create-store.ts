// The knex factory: a SQLite file by default, PostgreSQL when a database URL is given. Runs the migrations.
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from 'pino';
import { migrationSource } from './migrations/index.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';

export type StoreClient = 'sqlite' | 'postgres';

export interface StoreConfig {
  /** PostgreSQL URL; when absent the SQLite file at `sqliteFile` is used. */
  readonly databaseUrl?: string;
  /** SQLite file path, or ':memory:' for tests. */
  readonly sqliteFile: string;
  /**
   * SQLite file only: a worker thread checkpoints the WAL instead of the commits of the service's own connection
   * (see sqlite-checkpointer.ts). The service sets it; tools and most tests leave SQLite's default.
   */
  readonly backgroundCheckpoints?: boolean;
}

/** Which engine a knex instance talks to, for the few statements that differ between them. */
export function storeClientOf(knex: Knex): StoreClient {
  return knex.client.dialect === 'postgresql' ? 'postgres' : 'sqlite';
}

export interface Store {
  readonly knex: Knex;
  readonly client: StoreClient;
  close(): Promise<void>;
}

/** How often the checkpoint worker copies SQLite's WAL back into the database file. */
const CHECKPOINT_INTERVAL_MS = 250;

/** `log` takes what the checkpoint worker reports; it is needed only with `backgroundCheckpoints`. */
export async function createStore(config: StoreConfig, deps: { log?: Pick<Logger, 'warn' | 'error'> } = {}): Promise<Store> {
  const client: StoreClient = config.databaseUrl ? 'postgres' : 'sqlite';
  const background = client === 'sqlite' && config.sqliteFile !== ':memory:' && config.backgroundCheckpoints === true;
  if (background && !deps.log) throw new Error('createStore: backgroundCheckpoints needs a log for what the checkpoint worker reports');
  const knex = client === 'postgres' ? postgresKnex(config.databaseUrl!) : sqliteKnex(config.sqliteFile, { checkpointInBackground: background });
  await knex.migrate.latest({ migrationSource });
  const checkpointer = background
    ? SqliteCheckpointer.start(
        { file: config.sqliteFile, intervalMs: CHECKPOINT_INTERVAL_MS, restoreAutoCheckpoint: () => knex.raw('pragma wal_autocheckpoint = 1000').then(() => undefined) },
        { log: deps.log! },
      )
    : undefined;
  return {
    knex,
    client,
    async close() {
      await checkpointer?.stop();
      await knex.destroy();
    },
  };
}

function postgresKnex(url: string): Knex {
  return knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 10 } });
}

function sqliteKnex(file: string, opts: { checkpointInBackground: boolean }): Knex {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    // One connection: SQLite serializes writers anyway, and ':memory:' must be one database.
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        conn.pragma('journal_mode = WAL');
        conn.pragma('synchronous = NORMAL');
        if (opts.checkpointInBackground) {
          conn.pragma('wal_autocheckpoint = 0');
          // Once a checkpoint has caught up, the WAL file is cut back to this size rather than kept at its peak.
          conn.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
        }
        conn.pragma('busy_timeout = 5000');
        conn.pragma('foreign_keys = ON');
        done(null, conn);
      },
    },
  });
}
