// `migrations` as a command (Norn's code reads it so), against the real Docker engine and a real PostgreSQL: the
// command runs in a container of the deploy's image with DATABASE_URL, under the advisory lock the SQL-file
// migrations take, and its output never shows the password. The image carries the host's psql and its libraries.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { StepFailedError } from '../../src/errors.js';
import { createDockerClient } from '../../src/integrations/docker/create-docker-client.js';
import { buildStep } from '../../src/pipeline/steps/build.js';
import { migrateStep } from '../../src/pipeline/steps/migrate.js';
import { BASE_IMAGE, appSpec as dockerAppSpec, rawDocker, stepContext as dockerContext, nonce, writeApp } from '../support/docker-fixture.js';
import { dockerHost, requireDocker } from '../support/services.js';
import { appSpec, dbFixture, stepContext, type DbFixture } from './db-support.js';

const PSQL = '/usr/lib/postgresql/15/bin/psql';
/** The advisory lock key apply-migrations.ts holds (first 8 bytes of sha256("norn:sql-migrations")). */
const LOCK_KEY = '4920650422204314084';

/** An image holding psql and the shared libraries it loads, copied from this machine. */
async function buildPsqlImage(): Promise<{ tag: string; remove(): Promise<void> }> {
  const libs = execFileSync('ldd', [PSQL], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
  const app = await writeApp({ Dockerfile: `FROM ${BASE_IMAGE}\nCOPY root/ /\n` });
  for (const file of [PSQL, ...libs]) {
    const target = path.join(app.dir, 'root', file === PSQL ? '/bin/psql' : file);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(file, target);
    await fs.chmod(target, 0o755);
  }
  const ctx = dockerContext(dockerAppSpec({ name: `psql-${nonce()}`, build: {} }), { workDir: app.dir });
  const result = await buildStep({}, { docker: createDockerClient({ dockerHost: dockerHost() }) }).run(ctx);
  await app.remove();
  if (result.status !== 'complete') throw new Error('could not build the psql image');
  const tag = String(result.outputs.imageTag);
  return { tag, remove: () => rawDocker().getImage(tag).remove({ force: true }).then(() => undefined) };
}

describe('migrate step with a migrations command (real Docker engine and PostgreSQL)', function () {
  this.timeout(120_000);
  let db: DbFixture;
  let workDir: string;
  let image: { tag: string; remove(): Promise<void> };
  const snapshot = { path: '/var/lib/norn/snapshots/shop/shop-db-x.dump', takenAt: '2024-05-01T12:00:00.000Z' };

  before(async () => {
    await requireDocker();
    image = await buildPsqlImage();
  });
  after(() => image?.remove());
  beforeEach(async () => {
    db = await dbFixture('db_migcmd');
    workDir = await fs.mkdtemp(path.join('/tmp', 'norn-migcmd-'));
  });
  afterEach(async () => {
    await db.close();
    await fs.rm(workDir, { recursive: true, force: true });
  });

  const run = (migrations: string) => {
    const spec = appSpec('shop', { migrations, infrastructure: { postgres: { database: db.database } } });
    const { ctx, reports } = stepContext(spec, { outputs: { workDir, snapshot, imageTag: image.tag } });
    const step = migrateStep({ postgres: db.admin, docker: createDockerClient({ dockerHost: dockerHost() }), command: { timeoutMs: 30_000, networkMode: 'host', reportIntervalMs: 20 } });
    return { result: step.run(ctx), reports };
  };

  it('runs the command in the image with DATABASE_URL, and masks the password in its output', async () => {
    const { result, reports } = run('psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "CREATE TABLE made_by_command (id int)" && echo "$DATABASE_URL"');
    expect(await result).to.deep.include({ status: 'complete' });
    expect(await db.query("SELECT 1 AS one FROM pg_tables WHERE tablename = 'made_by_command'")).to.deep.equal([{ one: 1 }]);
    const text = reports.map((r) => r.message).join('\n');
    expect(text).to.include('CREATE TABLE').and.to.include(`/${db.database}`);
    const password = decodeURIComponent(new URL(String(db.admin.clientConfig(db.database).connectionString)).password);
    if (password) {
      expect(text).to.not.include(password);
      expect(text).to.include(':***@');
    }
  });

  it('waits for the migrations advisory lock another runner holds', async () => {
    const holder = new pg.Client({ connectionString: db.scratch.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
      const { result } = run('psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "CREATE TABLE after_lock (id int)"');
      let settled = false;
      void result.finally(() => (settled = true)).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 2000));
      expect(settled, 'the command ran while another runner held the lock').to.equal(false);
      expect(await db.query("SELECT 1 FROM pg_tables WHERE tablename = 'after_lock'")).to.deep.equal([]);
      await holder.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
      expect(await result).to.deep.include({ status: 'complete' });
      expect(await db.query("SELECT 1 AS one FROM pg_tables WHERE tablename = 'after_lock'")).to.deep.equal([{ one: 1 }]);
    } finally {
      await holder.end();
    }
  });

  it('fails with the exit code, the output tail and the snapshot to restore when the command fails', async () => {
    const err = (await run('psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "SELECT * FROM missing_table"').result.then(
      () => expect.fail('should have failed'),
      (e: unknown) => e,
    )) as StepFailedError;
    expect(err).to.be.instanceOf(StepFailedError);
    expect(err.message).to.match(/^migration command exited with code \d+; snapshot taken before migrating: .*shop-db-x\.dump \(restore: norn snapshots shop restore /);
    expect(String(err.detail?.tail)).to.include('missing_table');
  });

  it('says a directory that is not in the checkout ran as a command and was not found', async () => {
    const err = (await run('db/migratons').result.then(
      () => expect.fail('should have failed'),
      (e: unknown) => e,
    )) as StepFailedError;
    expect(err.message).to.match(/^migration command not found in .+ \(exit code 127\): "db\/migratons" is not a directory in the checkout, so it ran as a command/);
  });
});
