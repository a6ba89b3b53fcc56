// Group commit for SQLite: small writes that arrive while the event loop is busy are run together in one
// transaction on knex's single connection, so a burst of N autocommitted inserts costs one commit instead of N.
// Each write runs inside its own savepoint: one that throws is rolled back alone and rejects only its caller.
// A caller's promise settles after the commit, so "resolved" still means "on disk as far as SQLite promises".
import type { Database } from 'better-sqlite3';
import type { Knex } from 'knex';

/** A synchronous write on the raw better-sqlite3 connection. */
export type SqliteWrite<T> = (db: Database) => T;

interface Pending {
  readonly write: SqliteWrite<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** Knex's pool, as far as this needs it (not in knex's public types). */
interface KnexPoolClient {
  acquireConnection(): Promise<Database>;
  releaseConnection(conn: Database): Promise<unknown>;
}

export class SqliteGroupCommit {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly deps: { knex: Knex },
    /** Most writes in one transaction; the rest wait for the next one. */
    private readonly maxBatch = 256,
  ) {}

  run<T>(write: SqliteWrite<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ write, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the current I/O phase: every request whose body completed in it joins this batch.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.maxBatch);
    const client = this.deps.knex.client as unknown as KnexPoolClient;
    let conn: Database | undefined;
    try {
      conn = await client.acquireConnection();
      const db = conn;
      const outcomes = db.transaction(() =>
        batch.map((p) => {
          try {
            return { ok: true as const, value: db.transaction(() => p.write(db))() };
          } catch (err) {
            return { ok: false as const, err };
          }
        }),
      )();
      outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.err)));
    } catch (err) {
      // The connection could not be had or the commit failed: nothing of this batch is written.
      for (const p of batch) p.reject(err);
    } finally {
      if (conn) await client.releaseConnection(conn);
      if (this.pending.length > 0) setImmediate(() => void this.flush());
      else this.scheduled = false;
    }
  }
}
