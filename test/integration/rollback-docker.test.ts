// `norn rollback` end to end on the real parts: pushes build on the real Docker engine, push to the real registry,
// migrate a real PostgreSQL database and run as containers (Docker runtime, host networking); only the forge's
// status API is simulated. A rollback brings back the earlier image without building, restores the snapshot taken
// before the migrations it undoes when asked, refuses to guess when migrations ran on top, and an automatic
// rollback after a migration names the snapshot and the restore command in the saga and the commit status.
import fs from 'node:fs';
import { expect } from 'chai';
import pg from 'pg';
import { rollbackCommandWith } from '../../src/cli/rollback-command.js';
import { statusCommand } from '../../src/cli/app-commands.js';
import { captureIo } from '../fakes/capture-io.js';
import { readSaga } from '../support/deploy-pushes.js';
import { startDockerAppService, type DockerAppService } from '../support/docker-app-service.js';
import { answerAt, webAppFiles, webAppSpec } from '../support/docker-runtime-app.js';
import { nonce } from '../support/docker-fixture.js';
import { ForgeSimulator } from '../support/forge-simulator.js';
import { createScratchDatabase, registryUrl, requireDocker, requirePostgres, requireRegistry, testDatabaseUrl, type ScratchDatabase } from '../support/services.js';
import { eventually, type TestService } from '../support/test-service.js';

interface SagaAnswer {
  saga: { status: string; error: string | null; imageTag: string | null; kind: string; commitSha: string };
  events: { action: string; message: string; metadata: Record<string, unknown> }[];
}

interface PlanAnswer {
  dryRun: boolean;
  sagaId?: string;
  plan: {
    current: { sagaId: string; image: string };
    target: { sagaId: string; image: string; commitSha: string };
    image: { status: string };
    database: { migrated: boolean; restorable: boolean; summary: string; restoreCommand: string | null; snapshot: { ts: string } | null; runs: { sagaId: string; files: string[] }[] };
  };
}

describe('norn rollback on the Docker runtime, with PostgreSQL migrations', function () {
  this.timeout(420_000);
  const app = `rbd-${nonce()}`;
  let rig: DockerAppService | undefined;
  let db: ScratchDatabase;
  let forge: ForgeSimulator;
  let svc: TestService;
  const releases: { sha: string; sagaId: string }[] = [];

  const push = (version: string, migrations: Record<string, string>, opts: { brokenHealth?: boolean } = {}) => rig!.push({ ...webAppFiles(version, opts), ...migrations });
  const saga = (id: string) => readSaga<SagaAnswer>(svc, id);
  const ended = (id: string) => rig!.ended<SagaAnswer>(id, 200_000);
  const rollback = (body: Record<string, unknown>) => svc.api(`/api/apps/${app}/rollback`, { method: 'POST', body: JSON.stringify(body) });
  const servingVersion = async () => {
    const instances = (await (await svc.api(`/api/apps/${app}/instances`)).json()) as { address: string | null }[];
    expect(instances, 'one instance serving').to.have.length(1);
    return answerAt(instances[0]!.address!);
  };
  const tables = async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const t = await client.query<{ name: string }>("select table_name as name from information_schema.tables where table_schema = 'public' order by 1");
      return t.rows.map((r) => r.name);
    } finally {
      await client.end();
    }
  };
  const cli = (args: string[]) => {
    const c = captureIo();
    const person = { isInteractive: false, ask: async () => '' };
    return rollbackCommandWith({ confirmer: person })(args, { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, c.io).then((code) => ({ code, out: c.out(), err: c.err() }));
  };

  before(async () => {
    await requireDocker();
    await requireRegistry();
    await requirePostgres();
    db = await createScratchDatabase('rbdb');
    forge = await ForgeSimulator.start({ token: 'forge-token' });
    rig = await startDockerAppService(app, {
      gate: { minHealthySeconds: 2, healthyDeadlineSeconds: 20 },
      env: {
        NORN_REGISTRY_URL: registryUrl(),
        NORN_POSTGRES_URL: testDatabaseUrl(),
        NORN_APP_POSTGRES_URL: testDatabaseUrl(),
        NORN_GITHUB_API_URL: forge.url,
        NORN_GITHUB_TOKEN: 'forge-token',
        NORN_STATUS_POLL_INTERVAL_MS: '50',
      },
      spec: (repoUrl) => webAppSpec(app, repoUrl, { infrastructure: { postgres: { database: new URL(db.url).pathname.slice(1) } }, migrations: 'db/migrations', snapshots: { keep: 10 } }),
    });
    svc = rig.svc;
    // Three releases, each with one more migration (each taking the snapshot before its own).
    const migrations: Record<string, string> = {};
    for (const [version, table] of [['v1', 'items'], ['v2', 'notes'], ['v3', 'tags']] as const) {
      migrations[`db/migrations/000${releases.length + 1}_${table}.sql`] = `create table ${table} (id int primary key);\n`;
      const release = await push(version, migrations);
      const s = await ended(release.sagaId);
      expect(s.saga.status, `${version}: ${s.saga.error}`).to.equal('succeeded');
      releases.push(release);
    }
    expect(await servingVersion()).to.equal('v3');
  });

  after(async () => {
    await rig?.close();
    await forge?.close();
    await db?.drop();
  });

  it('answers a dry run with the previous deploy, its image in the registry, and the snapshot taken before the migrations since', async () => {
    const res = await rollback({ dryRun: true });
    expect(res.status).to.equal(200);
    const { plan } = (await res.json()) as PlanAnswer;
    const [, v2, v3] = releases;
    expect(plan.current).to.include({ sagaId: v3!.sagaId, image: `${registryUrl()}/${app}:${v3!.sha.slice(0, 12)}` });
    expect(plan.target).to.include({ sagaId: v2!.sagaId, image: `${registryUrl()}/${app}:${v2!.sha.slice(0, 12)}`, commitSha: v2!.sha });
    expect(plan.image.status).to.be.oneOf(['engine', 'registry']);
    expect(plan.database).to.include({ migrated: true, restorable: true });
    expect(plan.database.runs).to.deep.equal([{ ...plan.database.runs[0], sagaId: v3!.sagaId, files: ['0003_tags.sql'] }]);
    expect(plan.database.restoreCommand).to.equal(`norn snapshots ${app} restore ${plan.database.snapshot!.ts} --yes`);
    // Nothing was queued.
    const deploys = (await (await svc.api(`/api/deploys?app=${app}`)).json()) as { deploys: unknown[] };
    expect(deploys.deploys).to.have.length(3);
  });

  it('refuses arbitrary images, unconfirmed restores and a restore under later migrations, each naming the field', async () => {
    const arbitrary = await rollback({ to: `${registryUrl()}/someone-else:latest`, dryRun: true });
    expect(arbitrary.status).to.equal(400);
    expect(await arbitrary.json()).to.deep.include({ field: 'to' });

    const unconfirmed = await rollback({ restoreSnapshot: true });
    expect(unconfirmed.status).to.equal(400);
    expect(await unconfirmed.json()).to.deep.include({ field: 'confirm' });

    // Back to v1: v2 and v3 both migrated, so v2's snapshot has v3's migration on top of it.
    const onTop = await rollback({ to: releases[0]!.sagaId.slice(0, 8), restoreSnapshot: true, dryRun: true });
    expect(onTop.status).to.equal(409);
    const body = (await onTop.json()) as { error: string; field: string };
    expect(body.field).to.equal('restoreSnapshot');
    expect(body.error).to.contain('later migrations ran on top of snapshot').and.contain('0003_tags.sql').and.contain('does not guess');

    const cliRefusal = await cli([app, '--to', 'nginx:latest', '--yes']);
    expect(cliRefusal.code).to.equal(1);
    expect(cliRefusal.err).to.contain('to: nginx:latest is neither a saga nor an image');
    const noTerminal = await cli([app]);
    expect(noTerminal.code, noTerminal.err).to.equal(1);
    expect(noTerminal.out).to.contain('! database: migrations ran since that version');
    expect(noTerminal.err).to.contain('no terminal to confirm on, so repeat with --yes');
    expect((await tables()).sort()).to.deep.equal(['items', 'norn_schema_migrations', 'notes', 'tags']);
  });

  it('rolls back to v2 without building, restoring the snapshot under the migrations\' lock, and reports the status on v2\'s commit', async () => {
    const run = await cli([app, '--restore-snapshot', '--yes']);
    expect(run.code, `${run.out}\n${run.err}`).to.equal(0);
    expect(run.out).to.contain(`rollback of ${app}`).and.contain('the rollback restores snapshot');
    const sagaId = /rollback of \S+ queued: saga (\S+)/.exec(run.err)![1]!;
    const s = await saga(sagaId);
    const [, v2] = releases;
    expect(s.saga).to.include({ status: 'succeeded', kind: 'rollback', commitSha: v2!.sha, imageTag: `${registryUrl()}/${app}:${v2!.sha.slice(0, 12)}` });
    const steps = s.events.filter((e) => e.action === 'step.complete' || e.action === 'step.skipped').map((e) => `${e.metadata.step}:${e.action.slice(5)}`);
    expect(steps).to.deep.equal(['snapshot:complete', 'migrate:complete', 'submit:complete', 'healthy:complete', 'forge:skipped', 'cleanup:complete']);
    const restored = s.events.find((e) => e.action === 'snapshot.restored')!;
    expect(restored.metadata.undid).to.deep.equal(['0003_tags.sql']);

    expect(await servingVersion()).to.equal('v2');
    expect((await tables()).sort()).to.deep.equal(['items', 'norn_schema_migrations', 'notes']);
    const { snapshots } = (await (await svc.api(`/api/apps/${app}/snapshots`)).json()) as { snapshots: { kind: string; path: string }[] };
    const safety = snapshots.filter((x) => x.kind === 'pre-restore');
    expect(safety, 'a safety snapshot of the data the restore replaced').to.have.length(1);
    expect(fs.existsSync(safety[0]!.path)).to.equal(true);

    const statuses = await eventually('the rollback\'s success status on v2\'s commit', async () => {
      const got = forge.statusesFor(v2!.sha, `norn/rollback/${app}`);
      return got.at(-1)?.state === 'success' ? got : undefined;
    });
    expect(statuses.at(-1)!.description).to.match(/^deployed again by a rollback in /);

    const status = captureIo();
    expect(await statusCommand([app], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, status.io)).to.equal(0);
    expect(status.out()).to.contain(`(rollback, manual)  ${sagaId}`).and.contain(`deployed by saga ${sagaId}`);
  });

  it('after a failed health gate following a migration, names the pre-migrate snapshot and the restore command in the saga and the commit status', async () => {
    const broken = await push('v4', { 'db/migrations/0004_audit.sql': 'create table audit (id int primary key);\n' }, { brokenHealth: true });
    const s = await ended(broken.sagaId);
    expect(s.saga.status).to.equal('failed');
    const created = s.events.find((e) => e.action === 'snapshot.created')!;
    const command = `norn snapshots ${app} restore ${String(created.metadata.ts)} --yes`;
    expect(s.saga.error).to.match(/^healthy: the database keeps this deploy's migrations: `norn snapshots /).and.contain(command).and.contain('the previous version keeps serving');
    const notice = s.events.find((e) => e.action === 'deploy.rollback')!;
    expect(notice.metadata).to.include({ restoreCommand: command, snapshotTs: created.metadata.ts });
    // The rollback's restore took 0003 away again, so this push applied it a second time, then 0004.
    expect(notice.metadata.migrationsApplied).to.deep.equal(['0003_tags.sql', '0004_audit.sql']);
    const failure = await eventually('the failure status', async () => forge.statusesFor(broken.sha, `norn/deploy/${app}`).find((x) => x.state === 'failure'));
    expect(failure.description).to.contain(command);
    expect(await servingVersion()).to.equal('v2');

    // The next rollback counts that failed deploy's migration: with v2's still in place, it refuses to guess.
    const res = await rollback({ dryRun: true });
    const { plan } = (await res.json()) as PlanAnswer;
    expect(plan.target.sagaId).to.equal(releases[0]!.sagaId);
    expect(plan.database.runs.map((r) => r.sagaId)).to.deep.equal([releases[1]!.sagaId, broken.sagaId]);
    expect(plan.database.restorable).to.equal(false);
  });
});
