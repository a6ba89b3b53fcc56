// Without NORN_POSTGRES_URL, the snapshot step reaches the server through the libpq environment (PGHOST, PGPORT,
// PGUSER, PGPASSWORD), as Norn's pg_dump does: the configuration built from those variables dumps a real database.
import fs from 'node:fs/promises';
import { expect } from 'chai';
import { loadConfig } from '../../src/config/load-config.js';
import { snapshotStep } from '../../src/pipeline/steps/snapshot.js';
import { testDatabaseUrl } from '../support/services.js';
import { appSpec, dbFixture, type DbFixture, stepContext } from './db-support.js';

describe('snapshot step with the libpq environment (PostgreSQL)', () => {
  let db: DbFixture;

  beforeEach(async () => {
    const server = new URL(testDatabaseUrl());
    const config = loadConfig({
      PGHOST: server.hostname,
      PGPORT: server.port || '5432',
      PGUSER: decodeURIComponent(server.username),
      PGPASSWORD: decodeURIComponent(server.password),
    });
    expect(config.postgresUrl, 'NORN_POSTGRES_URL from PG* variables').to.be.a('string');
    db = await dbFixture('db_libpq', { adminUrl: config.postgresUrl! });
    await db.query('CREATE TABLE notes (id int)');
  });
  afterEach(async () => db.close());

  it('dumps the app database', async () => {
    const spec = appSpec('notes', { infrastructure: { postgres: { database: db.database } } });
    const { ctx } = stepContext(spec);
    const result = await snapshotStep({ snapshotsDir: db.snapshotsDir }, { postgres: db.admin, snapshots: db.snapshots, clock: db.clock }).run(ctx);
    expect(result).to.deep.include({ status: 'complete' });
    const file = result.status === 'complete' ? (result.outputs.snapshot as { path: string }).path : '';
    expect((await fs.stat(file)).size).to.be.greaterThan(0);
  });
});
