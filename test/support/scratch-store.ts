// Stores that live for one test, for the tests that hold both engines to one contract.
import { createStore, type Store } from '../../src/store/create-store.js';
import { createScratchDatabase } from './services.js';

/** Runs `use` on a migrated store in a new scratch PostgreSQL database, then closes the store and drops the database. */
export async function withPostgresStore(prefix: string, use: (store: Store) => Promise<void>): Promise<void> {
  const scratch = await createScratchDatabase(prefix);
  const store = await createStore({ databaseUrl: scratch.url, sqliteFile: ':memory:' });
  try {
    await use(store);
  } finally {
    await store.close();
    await scratch.drop();
  }
}

/** Runs `use` on a migrated in-memory SQLite store, then closes it. */
export async function withSqliteStore(use: (store: Store) => Promise<void>): Promise<void> {
  const store = await createStore({ sqliteFile: ':memory:' });
  try {
    await use(store);
  } finally {
    await store.close();
  }
}
