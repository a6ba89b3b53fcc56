// Step 5 (migrate) against a real PostgreSQL: order, once-only, failures that keep earlier files applied and name
// the snapshot, edited history, concurrent runners, and migrations dirs that try to leave the checkout.
// db-migrate-command.test.ts covers `migrations` given as a command.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { StepFailedError } from '../../src/errors.js';
import type { AppSpec } from '../../src/apps/infraspec-schema.js';
import { migrateStep } from '../../src/pipeline/steps/migrate.js';
import type { StepResult } from '../../src/pipeline/step.js';
import { appSpec, dbFixture, stepContext, type DbFixture } from './db-support.js';

describe('migrate step (PostgreSQL)', () => {
  let db: DbFixture;
  let workDir: string;
  let spec: AppSpec;
  const snapshot = { path: '/var/lib/norn/snapshots/shop/shop-db-0123456789ab-20240501T120000Z.dump', takenAt: '2024-05-01T12:00:00.000Z' };

  const write = async (files: Record<string, string>) => {
    const dir = path.join(workDir, 'db', 'migrations');
    await fs.mkdir(dir, { recursive: true });
    for (const [name, sql] of Object.entries(files)) await fs.writeFile(path.join(dir, name), sql);
  };
  const migrate = async (s: AppSpec = spec) => {
    const { ctx, reports } = stepContext(s, { outputs: { workDir, snapshot } });
    const result = await migrateStep({ postgres: db.admin }).run(ctx);
    return { result, reports };
  };
  const failure = async (s: AppSpec = spec) => {
    const err = await migrate(s).then(
      () => expect.fail('migrate should have failed'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StepFailedError);
    return err as StepFailedError;
  };
  const recorded = async () =>
    (await db.query<{ file: string }>('SELECT file FROM norn_schema_migrations ORDER BY applied_at, file')).map((r) => r.file);
  const message = (r: StepResult) => (r.status === 'complete' ? r.message : r.reason);

  beforeEach(async () => {
    db = await dbFixture('db_migrate');
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'norn-checkout-'));
    spec = appSpec('shop', { migrations: 'db/migrations', infrastructure: { postgres: { database: db.database } } });
  });
  afterEach(async () => {
    await db.close();
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('applies files in numeric order (not text order), golang-migrate .up.sql included, .down.sql ignored', async () => {
    await write({
      '10_add_total.sql': 'ALTER TABLE orders ADD COLUMN total int;',
      '2_create_orders.up.sql': "CREATE TABLE orders (id int PRIMARY KEY, item text);\nINSERT INTO orders VALUES (1, 'apple');",
      '2_create_orders.down.sql': 'DROP TABLE orders;',
      '0011_fill_total.sql': 'UPDATE orders SET total = 5;',
      'README.md': 'not a migration',
    });

    const { result, reports } = await migrate();

    expect(result.status).to.equal('complete');
    expect(result.status === 'complete' && result.outputs.migrationsApplied).to.deep.equal([
      '2_create_orders.up.sql',
      '10_add_total.sql',
      '0011_fill_total.sql',
    ]);
    expect(await db.query('SELECT item, total FROM orders')).to.deep.equal([{ item: 'apple', total: 5 }]);
    expect(reports.map((r) => r.metadata?.file)).to.deep.equal(['2_create_orders.up.sql', '10_add_total.sql', '0011_fill_total.sql']);
    expect(reports[0]!.action).to.equal('migration.applied');
    expect(reports[0]!.metadata).to.include({ database: db.database });
    const rows = await db.query<{ file: string; version: string; name: string; checksum: string }>(
      "SELECT file, version, name, checksum FROM norn_schema_migrations WHERE file = '10_add_total.sql'",
    );
    expect(rows[0]).to.include({ version: '10', name: 'add_total' });
    expect(rows[0]!.checksum).to.match(/^[0-9a-f]{64}$/);
  });

  it('applies nothing on a re-run, and only the new file after one is added', async () => {
    await write({ '0001_create.sql': 'CREATE TABLE t (id int);', '0002_seed.sql': 'INSERT INTO t VALUES (1);' });
    await migrate();

    const again = await migrate();
    expect(again.reports).to.deep.equal([]);
    expect(message(again.result)).to.contain('up to date (2 migration(s) already applied)');
    expect(await db.query('SELECT count(*)::int AS n FROM t')).to.deep.equal([{ n: 1 }]);

    await write({ '0003_more.sql': 'INSERT INTO t VALUES (2);' });
    const third = await migrate();
    expect(third.result.status === 'complete' && third.result.outputs.migrationsApplied).to.deep.equal(['0003_more.sql']);
    expect(await db.query('SELECT count(*)::int AS n FROM t')).to.deep.equal([{ n: 2 }]);
  });

  it('fails on a bad file with its name, PostgreSQL message and the snapshot; earlier files stay applied', async () => {
    await write({
      '0001_create.sql': 'CREATE TABLE t (id int);',
      '0002_broken.sql': 'CREATE TABLE half (id int);\nINSERT INTO missing_table VALUES (1);',
      '0003_after.sql': 'CREATE TABLE after_broken (id int);',
    });

    const err = await failure();

    expect(err.step).to.equal('migrate');
    expect(err.message).to.contain('0002_broken.sql');
    expect(err.message).to.contain('relation "missing_table" does not exist');
    expect(err.message).to.contain(snapshot.path);
    expect(err.message).to.contain('norn snapshots shop restore 20240501T120000Z');
    expect(err.detail).to.include({ file: '0002_broken.sql', pgCode: '42P01', line: 2, snapshot: snapshot.path, database: db.database });
    expect(await recorded()).to.deep.equal(['0001_create.sql']);
    const tables = (await db.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).map((r) => r.t);
    // 0002 rolled back as a whole (no `half`), 0003 never ran.
    expect(tables).to.deep.equal(['norn_schema_migrations', 't']);
  });

  it('fails naming an applied file that was changed, and applies nothing else', async () => {
    await write({ '0001_create.sql': 'CREATE TABLE t (id int);' });
    await migrate();
    await write({ '0001_create.sql': 'CREATE TABLE t (id bigint);', '0002_next.sql': 'CREATE TABLE next (id int);' });

    const err = await failure();

    expect(err.message).to.contain('0001_create.sql');
    expect(err.message).to.contain('changed after it was applied');
    expect(err.detail).to.include({ file: '0001_create.sql' });
    expect(await recorded()).to.deep.equal(['0001_create.sql']);
  });

  it('two runners at once apply each migration exactly once', async () => {
    await write({
      '0001_create.sql': 'CREATE TABLE hits (n int);',
      '0002_slow.sql': 'SELECT pg_sleep(0.3);\nINSERT INTO hits VALUES (2);',
      '0003_more.sql': 'INSERT INTO hits VALUES (3);',
    });

    const [a, b] = await Promise.all([migrate(), migrate()]);

    expect(a.result.status).to.equal('complete');
    expect(b.result.status).to.equal('complete');
    const applied = [a, b].flatMap((r) => (r.result.status === 'complete' ? (r.result.outputs.migrationsApplied as string[]) : []));
    expect(applied.sort()).to.deep.equal(['0001_create.sql', '0002_slow.sql', '0003_more.sql']);
    expect(await db.query('SELECT n FROM hits ORDER BY n')).to.deep.equal([{ n: 2 }, { n: 3 }]);
    expect(await recorded()).to.deep.equal(['0001_create.sql', '0002_slow.sql', '0003_more.sql']);
  });

  it('stops a running migration when the step is aborted, records nothing and releases the lock', async () => {
    await write({ '0001_slow.sql': 'CREATE TABLE slow (id int);\nSELECT pg_sleep(10);' });
    const controller = new AbortController();
    const reason = new Error('deploy cancelled');
    setTimeout(() => controller.abort(reason), 300);
    const started = Date.now();

    const { ctx } = stepContext(spec, { outputs: { workDir }, signal: controller.signal });
    const err = await migrateStep({ postgres: db.admin }).run(ctx).catch((e: unknown) => e);

    expect(err).to.equal(reason);
    expect(Date.now() - started).to.be.below(5000);
    expect(await recorded()).to.deep.equal([]);
    expect(await db.query("SELECT 1 FROM pg_tables WHERE tablename = 'slow'")).to.deep.equal([]);
    await write({ '0001_slow.sql': 'CREATE TABLE slow (id int);' });
    expect((await migrate()).result.status).to.equal('complete');
    expect(await recorded()).to.deep.equal(['0001_slow.sql']);
  });

  it('refuses a migrations dir outside the checkout: "..", an absolute path, a symlink out', async () => {
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'norn-outside-'));
    try {
      await fs.writeFile(path.join(outside, '0001_evil.sql'), 'CREATE TABLE evil (id int);');
      // The schema already rejects ".."; the step must not rely on that. Neither is ever read as a directory: a
      // value that is not a directory inside the checkout is a command (run in the image, never on the host).
      for (const migrations of ['../' + path.basename(outside), outside]) {
        const err = await failure({ ...spec, migrations });
        expect(err.message).to.contain('is not a directory in the checkout');
      }
      await fs.symlink(outside, path.join(workDir, 'linked'));
      const err = await failure({ ...spec, migrations: 'linked' });
      expect(err.message).to.contain('outside the repository');

      await write({});
      await fs.symlink(path.join(outside, '0001_evil.sql'), path.join(workDir, 'db', 'migrations', '0001_evil.sql'));
      const fileErr = await failure();
      expect(fileErr.message).to.contain('0001_evil.sql resolves outside the repository');
      expect(await db.query("SELECT 1 FROM pg_tables WHERE tablename = 'evil'")).to.deep.equal([]);
    } finally {
      await fs.rm(outside, { recursive: true, force: true });
    }
  });

  it('fails when the migrations dir is missing from the checkout and no command runner is given', async () => {
    const err = await failure();
    expect(err.message).to.contain('migrations "db/migrations" is not a directory in the checkout, and this receiver runs no migration commands');
  });

  it('fails when migrations are declared without a postgres database', async () => {
    await write({ '0001_create.sql': 'CREATE TABLE t (id int);' });
    const err = await failure(appSpec('shop', { migrations: 'db/migrations' }));
    expect(err.message).to.contain('no infrastructure.postgres.database');
  });
});
