// Group commit for SQLite: small writes that arrive while the event loop is busy are run together in one
// transaction on knex's single connection, so a burst of N autocommitted inserts costs one commit instead of N.
// The writes of a batch first run back to back in one transaction. If one throws, that transaction is rolled back
// whole and the batch runs again with each write in its own savepoint, so the one that throws is rolled back alone
// and rejects only its caller. A write may therefore run twice, and must do nothing but write to the database.
// A caller's promise settles after the commit, so "resolved" still means "on disk as far as SQLite promises".
import type { Database } from 'better-sqlite3';
import type { Knex } from 'knex';
import { TickBatcher, type BatchOutcome } from './tick-batcher.js';

/** A synchronous write on the raw better-sqlite3 connection. */
export type SqliteWrite<T> = (db: Database) => T;

/** Knex's pool, as far as this needs it (not in knex's public types). */
interface KnexPoolClient {
  acquireConnection(): Promise<Database>;
  releaseConnection(conn: Database): Promise<unknown>;
}

/** better-sqlite3 transaction functions, built once per connection rather than once per commit. */
interface Transactions {
  /** Runs one write as the whole transaction: a lone write needs no savepoint of its own. */
  readonly alone: (write: SqliteWrite<unknown>) => unknown;
  /** Runs several writes in one transaction; throws (having rolled it back) when one of them throws. */
  readonly together: (writes: readonly SqliteWrite<unknown>[]) => BatchOutcome<unknown>[];
  /** Runs several writes in one transaction, each in a savepoint, so one that throws fails alone. */
  readonly eachInSavepoint: (writes: readonly SqliteWrite<unknown>[]) => BatchOutcome<unknown>[];
}

export class SqliteGroupCommit {
  private readonly batcher: TickBatcher<SqliteWrite<unknown>, unknown>;
  private readonly transactions = new WeakMap<Database, Transactions>();

  constructor(private readonly deps: { knex: Knex }) {
    this.batcher = new TickBatcher((writes) => this.commit(writes));
  }

  run<T>(write: SqliteWrite<T>): Promise<T> {
    return this.batcher.run(write) as Promise<T>;
  }

  /** Waits for knex's connection (a knex transaction holds it until it ends), then runs all writes in one transaction. */
  private async commit(writes: readonly SqliteWrite<unknown>[]): Promise<BatchOutcome<unknown>[]> {
    const client = this.deps.knex.client as unknown as KnexPoolClient;
    const db = await client.acquireConnection();
    try {
      const transactions = this.transactionsOf(db);
      if (writes.length === 1) {
        try {
          return [{ ok: true, value: transactions.alone(writes[0]!) }];
        } catch (err) {
          return [{ ok: false, err }];
        }
      }
      try {
        return transactions.together(writes);
      } catch {
        // Savepoints cost two statements a write: paid only by a batch that holds a failing write.
        return transactions.eachInSavepoint(writes);
      }
    } finally {
      await client.releaseConnection(db);
    }
  }

  private transactionsOf(db: Database): Transactions {
    let found = this.transactions.get(db);
    if (!found) {
      // Called inside `together`'s transaction, a better-sqlite3 transaction function runs as a savepoint.
      const savepoint = db.transaction((write: SqliteWrite<unknown>) => write(db));
      found = {
        alone: savepoint,
        together: db.transaction((writes: readonly SqliteWrite<unknown>[]) => writes.map((write): BatchOutcome<unknown> => ({ ok: true, value: write(db) }))),
        eachInSavepoint: db.transaction((writes: readonly SqliteWrite<unknown>[]) =>
          writes.map((write): BatchOutcome<unknown> => {
            try {
              return { ok: true, value: savepoint(write) };
            } catch (err) {
              return { ok: false, err };
            }
          }),
        ),
      };
      this.transactions.set(db, found);
    }
    return found;
  }
}
