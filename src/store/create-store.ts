// The knex factory: a SQLite file by default, PostgreSQL when a database URL is given. Runs the migrations.
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { migrationSource } from './migrations/index.js';

export type StoreClient = 'sqlite' | 'postgres';

export interface StoreConfig {
  /** PostgreSQL URL; when absent the SQLite file at `sqliteFile` is used. */
  readonly databaseUrl?: string;
  /** SQLite file path, or ':memory:' for tests. */
  readonly sqliteFile: string;
}

export interface Store {
  readonly knex: Knex;
  readonly client: StoreClient;
  close(): Promise<void>;
}

export async function createStore(config: StoreConfig): Promise<Store> {
  const client: StoreClient = config.databaseUrl ? 'postgres' : 'sqlite';
  const knex = client === 'postgres' ? postgresKnex(config.databaseUrl!) : sqliteKnex(config.sqliteFile);
  await knex.migrate.latest({ migrationSource });
  return { knex, client, close: () => knex.destroy() };
}

function postgresKnex(url: string): Knex {
  return knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 10 } });
}

function sqliteKnex(file: string): Knex {
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
        conn.pragma('busy_timeout = 5000');
        conn.pragma('foreign_keys = ON');
        done(null, conn);
      },
    },
  });
}
