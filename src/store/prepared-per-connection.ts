// A statement prepared once on each better-sqlite3 connection it runs on, rather than once per run: for the writes
// that go to the driver directly (sqlite-group-commit.ts). Keyed weakly, so a closed connection takes its statement.
import type { Database, Statement } from 'better-sqlite3';

export function preparedPerConnection(sql: string): (db: Database) => Statement {
  const statements = new WeakMap<Database, Statement>();
  return (db) => {
    let statement = statements.get(db);
    if (!statement) statements.set(db, (statement = db.prepare(sql)));
    return statement;
  };
}
