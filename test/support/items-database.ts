// A scratch PostgreSQL database standing in for an app's own data: a table `items` holding apple and pear, which
// the snapshot tests dump, change and restore.
import pg from 'pg';
import { createScratchDatabase, type ScratchDatabase } from './services.js';

export interface ItemsDatabase extends ScratchDatabase {
  /** The database's name, as an infraspec's infrastructure.postgres.database gives it. */
  readonly name: string;
  sql<R extends pg.QueryResultRow>(text: string): Promise<R[]>;
  /** The names in `items`, sorted. */
  items(): Promise<string[]>;
}

export async function createItemsDatabase(prefix: string): Promise<ItemsDatabase> {
  const scratch = await createScratchDatabase(prefix);
  const sql = async <R extends pg.QueryResultRow>(text: string): Promise<R[]> => {
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      return (await client.query<R>(text)).rows;
    } finally {
      await client.end();
    }
  };
  try {
    await sql("create table items (name text); insert into items values ('apple'), ('pear')");
  } catch (err) {
    await scratch.drop();
    throw err;
  }
  return {
    url: scratch.url,
    name: new URL(scratch.url).pathname.slice(1),
    drop: () => scratch.drop(),
    sql,
    items: async () => (await sql<{ name: string }>('select name from items order by name')).map((r) => r.name),
  };
}
