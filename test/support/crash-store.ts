// Reading a receiver's SQLite store from outside it, read-only: what a killed receiver left running, and how
// many rows a table holds while the receiver goes on writing (WAL lets a reader in beside the writer).
import fs from 'node:fs';
import knexFactory, { type Knex } from 'knex';

async function withStore<T>(sqliteFile: string, read: (knex: Knex) => Promise<T>): Promise<T> {
  const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: sqliteFile, options: { readonly: true } }, useNullAsDefault: true });
  try {
    return await read(knex);
  } finally {
    await knex.destroy();
  }
}

/** Ids of the deploys marked running in a (dead) receiver's SQLite file: the ones its death cut. */
export async function runningDeployIds(sqliteFile: string): Promise<string[]> {
  if (!fs.existsSync(sqliteFile)) return []; // killed before it created its store
  return withStore(sqliteFile, async (knex) => (await knex('deploys').where({ status: 'running' }).select('id')).map((r: { id: string }) => r.id));
}

export async function countRows(sqliteFile: string, table: 'deliveries' | 'deploys'): Promise<number> {
  return withStore(sqliteFile, async (knex) => Number((await knex(table).count({ n: '*' }).first())?.n ?? 0));
}
