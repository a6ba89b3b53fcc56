// Step 4 (snapshot) against a real PostgreSQL: the dump, its file name and record, retention, failures that must
// leave no file, and the admin password staying off every command line.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pg from 'pg';
import { CommandError, InvalidInputError } from '../../src/errors.js';
import type { CommandRunner } from '../../src/integrations/process/run-command.js';
import { migrateStep } from '../../src/pipeline/steps/migrate.js';
import { snapshotStep } from '../../src/pipeline/steps/snapshot.js';
import { testDatabaseUrl } from '../support/services.js';
import { adminFor, appSpec, dbFixture, recordingRunner, stepContext, type DbFixture, type Report } from './db-support.js';

const run = promisify(execFile);

describe('snapshot step (PostgreSQL)', () => {
  let db: DbFixture;

  beforeEach(async () => {
    db = await dbFixture('db_snapshot');
    await db.query('CREATE TABLE orders (id int PRIMARY KEY, item text)');
    await db.query("INSERT INTO orders VALUES (1, 'apple'), (2, 'pear')");
  });
  afterEach(async () => db.close());

  const stepFor = (fx: DbFixture) =>
    snapshotStep({ snapshotsDir: fx.snapshotsDir }, { postgres: fx.admin, snapshots: fx.snapshots, clock: fx.clock });

  it('dumps the database to <dir>/<app>/<app>-<db>-<sha12>-<UTC ts>.dump, records it and reports snapshot.created', async () => {
    const spec = appSpec('shop', { infrastructure: { postgres: { database: db.database } } });
    const { ctx, reports } = stepContext(spec);

    const result = await stepFor(db).run(ctx);

    const expected = path.join(db.snapshotsDir, 'shop', `shop-${db.database}-0123456789ab-20240501T120000Z.dump`);
    expect(result).to.deep.include({ status: 'complete' });
    expect(result.status === 'complete' && result.outputs.snapshot).to.deep.equal({
      path: expected,
      takenAt: '2024-05-01T12:00:00.000Z',
    });
    const { size } = await fs.stat(expected);
    const [row] = await db.snapshots.listByApp('shop');
    expect(row).to.deep.include({ app: 'shop', database: db.database, commitSha: ctx.commitSha, sagaId: ctx.sagaId, size, path: expected, ts: '20240501T120000Z', kind: 'deploy' });
    expect(reports).to.have.length(1);
    expect(reports[0]!.message).to.equal(`snapshot ${path.basename(expected)} (${size} bytes)`);
    expect(reports[0]!.action).to.equal('snapshot.created');
    expect(reports[0]!.metadata).to.include({ path: expected, size, database: db.database });
    // The archive holds the table's rows.
    const { stdout } = await run('pg_restore', ['--list', expected]);
    expect(stdout).to.match(/TABLE DATA public orders/);
    expect(await fs.readdir(path.dirname(expected))).to.deep.equal([path.basename(expected)]);
  });

  it('keeps only snapshots.keep newest per app after each snapshot, deleting files and marking rows', async () => {
    const spec = appSpec('shop', { infrastructure: { postgres: { database: db.database } }, snapshots: { keep: 2 } });
    const other = appSpec('blog', { infrastructure: { postgres: { database: db.database } }, snapshots: { keep: 2 } });
    const step = stepFor(db);
    await step.run(stepContext(other).ctx);
    const taken: string[] = [];
    let lastReports: Report[] = [];
    for (let i = 0; i < 4; i++) {
      db.advance(60_000);
      const { ctx, reports } = stepContext(spec);
      const result = await step.run(ctx);
      if (result.status === 'complete') taken.push(result.outputs.snapshot!.path);
      lastReports = reports;
    }

    expect(taken).to.have.length(4);
    const files = (await fs.readdir(path.join(db.snapshotsDir, 'shop'))).sort();
    expect(files).to.deep.equal(taken.slice(2).map((p) => path.basename(p)));
    const live = await db.snapshots.listByApp('shop');
    expect(live.map((s) => s.path)).to.deep.equal([taken[3], taken[2]]);
    const all = await db.snapshots.listByApp('shop', { includeDeleted: true });
    expect(all.filter((s) => s.deletedAt !== null).map((s) => s.path).sort()).to.deep.equal(taken.slice(0, 2).sort());
    expect(lastReports[1]!.action).to.equal('snapshot.deleted');
    expect(lastReports[1]!.metadata).to.include({ keep: 2 });
    expect(lastReports[1]!.message).to.contain(path.basename(taken[1]!));
    // Another app's snapshots are not counted against this one.
    expect(await db.snapshots.listByApp('blog')).to.have.length(1);
  });

  it('fails when pg_dump fails and leaves no file or record behind', async () => {
    const spec = appSpec('shop', { infrastructure: { postgres: { database: 'no_such_database_norn' } } });

    const err = await stepFor(db).run(stepContext(spec).ctx).catch((e: unknown) => e);

    expect(err).to.be.instanceOf(CommandError);
    expect((err as CommandError).stderrTail).to.contain('no_such_database_norn');
    expect(await fs.readdir(path.join(db.snapshotsDir, 'shop'))).to.deep.equal([]);
    expect(await db.snapshots.listByApp('shop', { includeDeleted: true })).to.deep.equal([]);
  });

  it('fails on a partial archive (pg_dump exiting 0 with a truncated file) and leaves no file behind', async () => {
    // A runner standing in for a pg_dump that wrote only part of its archive.
    const truncating: CommandRunner = async (argv) => {
      const file = argv.find((a) => a.startsWith('--file='))!.slice('--file='.length);
      await fs.writeFile(file, 'PGD');
      return { exitCode: 0, stdout: '', stderrTail: '', timedOut: false };
    };
    const step = snapshotStep(
      { snapshotsDir: db.snapshotsDir },
      { postgres: adminFor(testDatabaseUrl(), truncating), snapshots: db.snapshots, clock: db.clock },
    );
    const spec = appSpec('shop', { infrastructure: { postgres: { database: db.database } } });

    const err = await step.run(stepContext(spec).ctx).catch((e: unknown) => e);

    expect(err).to.be.instanceOf(CommandError);
    expect((err as Error).message).to.contain('incomplete archive');
    expect(await fs.readdir(path.join(db.snapshotsDir, 'shop'))).to.deep.equal([]);
    expect(await db.snapshots.listByApp('shop')).to.deep.equal([]);
  });

  it('refuses a database name libpq would read as a connection string', async () => {
    const spec = appSpec('shop', { infrastructure: { postgres: { database: 'host=elsewhere dbname=x' } } });
    const err = await stepFor(db).run(stepContext(spec).ctx).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidInputError);
    expect(db.runs).to.have.length(0);
  });

  it('skips both snapshot and migrate for an app without postgres', async () => {
    const spec = appSpec('static-site', { migrations: 'db/migrations' });
    const { ctx, reports } = stepContext(spec, { outputs: { workDir: db.snapshotsDir } });

    expect(await stepFor(db).run(ctx)).to.deep.equal({ status: 'skipped', reason: 'no postgres declared' });
    const noMigrations = appSpec('static-site');
    expect(await migrateStep({ postgres: db.admin }).run(stepContext(noMigrations).ctx)).to.deep.equal({
      status: 'skipped',
      reason: 'no migrations declared',
    });
    expect(reports).to.deep.equal([]);
    expect(db.runs).to.have.length(0);
    expect(await fs.readdir(db.snapshotsDir)).to.deep.equal([]);
  });
});

describe('snapshot step: the admin password', () => {
  // A role of our own whose password is distinctive (and holds the characters a passfile must escape), so "not in
  // argv" is a meaningful check.
  const role = `norn_pw_${randomBytes(4).toString('hex')}`;
  const password = `S3cr3t:${randomBytes(6).toString('hex')}\\pw`;
  let db: DbFixture;

  before(async () => {
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD '${password.replace(/'/g, "''")}'`);
    } finally {
      await admin.end();
    }
  });
  after(async () => {
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await admin.end();
    }
  });
  beforeEach(async () => {
    const url = new URL(testDatabaseUrl());
    url.username = role;
    url.password = encodeURIComponent(password);
    db = await dbFixture('db_snapshot_pw', { adminUrl: url.href });
    await db.query('CREATE TABLE t (id int)');
  });
  afterEach(async () => db.close());

  it('reaches pg_dump through a 0600 passfile, never argv, and the passfile is removed', async () => {
    const spec = appSpec('shop', { infrastructure: { postgres: { database: db.database } } });
    const step = snapshotStep({ snapshotsDir: db.snapshotsDir }, { postgres: db.admin, snapshots: db.snapshots, clock: db.clock });

    const result = await step.run(stepContext(spec).ctx);

    expect(result.status).to.equal('complete');
    expect(db.runs).to.have.length(1);
    const [recorded] = db.runs;
    expect(recorded!.argv[0]).to.equal('pg_dump');
    expect(recorded!.argv.join(' ')).not.to.contain(password);
    expect(recorded!.argv.join(' ')).not.to.contain(password.split(':')[1]!);
    expect(recorded!.env.PGPASSWORD).to.equal(undefined);
    expect(recorded!.env.PGUSER).to.equal(role);
    expect(recorded!.passfile!.mode).to.equal(0o600);
    expect(recorded!.passfile!.content).to.contain(password.replace(/[\\:]/g, (c) => `\\${c}`));
    await fs.access(recorded!.env.PGPASSFILE!).then(
      () => expect.fail('passfile left behind'),
      () => undefined,
    );
  });

  it('fails with a wrong password (authentication is really enforced) without echoing the password', async () => {
    const url = new URL(testDatabaseUrl());
    url.username = role;
    url.password = 'wrong-Pa55word';
    const { runner, runs } = recordingRunner();
    const step = snapshotStep({ snapshotsDir: db.snapshotsDir }, { postgres: adminFor(url.href, runner), snapshots: db.snapshots, clock: db.clock });
    const spec = appSpec('shop', { infrastructure: { postgres: { database: db.database } } });

    const err = await step.run(stepContext(spec).ctx).catch((e: unknown) => e);

    expect(err).to.be.instanceOf(CommandError);
    expect((err as Error).message).to.match(/password authentication failed/);
    expect((err as Error).message).not.to.contain('wrong-Pa55word');
    expect(runs[0]!.argv.join(' ')).not.to.contain('wrong-Pa55word');
    expect(await fs.readdir(path.join(db.snapshotsDir, 'shop'))).to.deep.equal([]);
  });
});
