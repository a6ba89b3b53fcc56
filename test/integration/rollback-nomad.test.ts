// `norn rollback` on the Nomad runtime, against the Nomad simulator: the service re-registers the earlier image
// without building, a rollback of a rollback goes one further back, a rollback whose image does not come up ends
// failed with Nomad back on what ran before, and an automatic rollback after a migration names the snapshot taken
// before it and the exact restore command.
import { expect } from 'chai';
import { pino } from 'pino';
import { type AppSpec, infraspecSchema } from '../../src/apps/infraspec-schema.js';
import { statusCommand } from '../../src/cli/app-commands.js';
import { rollbackCommandWith } from '../../src/cli/rollback-command.js';
import { StepFailedError } from '../../src/errors.js';
import { NomadClient } from '../../src/integrations/nomad/nomad-client.js';
import { healthyStep } from '../../src/runtime/nomad/healthy.js';
import { submitJobs, submitStep } from '../../src/runtime/nomad/submit.js';
import type { StepContext, StepOutputs } from '../../src/pipeline/step.js';
import { captureIo } from '../fakes/capture-io.js';
import { nonce, rawDocker } from '../support/docker-fixture.js';
import { NomadSimulator } from '../support/nomad-simulator.js';
import { deployReleases, releaseImage, releaseSpec, removeReleaseImages, tagReleaseImages } from '../support/image-releases.js';
import { dockerHost, requireDocker, requirePostgres } from '../support/services.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { frameSteps, lastFrame } from '../support/tty-frame.js';

interface SagaAnswer {
  saga: { status: string; error: string | null; imageTag: string | null; kind: string; steps: string[] };
  events: { action: string; message: string; metadata: Record<string, unknown> }[];
}

// The receiver's own store decides nothing here, but the rollback's order travels in its saga: both engines.
for (const store of ['sqlite', 'postgres'] as const) {
  describe(`norn rollback on the Nomad runtime (simulator, ${store} store)`, function () {
    this.timeout(120_000);
    const app = `rbn-${nonce()}`;
    const image = (n: number) => releaseImage(app, n);
    let svc: TestService;
    const deploys: string[] = [];

    const saga = async (id: string) => (await (await svc.api(`/api/sagas/${id}`)).json()) as SagaAnswer;
    const jobImage = () => svc.nomad.job(app)!.TaskGroups[0]!.Tasks[0]!.Config.image;
    const cli = async (args: string[], opts: { isTTY?: boolean } = {}) => {
      const c = captureIo(opts);
      const code = await rollbackCommandWith({ confirmer: { isInteractive: false, ask: async () => '' } })(args, { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, c.io);
      const sagaId = /queued: saga (\S+)/.exec(c.err())?.[1];
      return { code, out: c.out(), err: c.err(), sagaId };
    };

    before(async () => {
      await requireDocker();
      // The images exist on the engine the receiver asks (the simulator runs nothing itself).
      await tagReleaseImages(app, [1, 2]);
      if (store === 'postgres') await requirePostgres();
      svc = await startTestService({ store, env: { DOCKER_HOST: dockerHost() }, specs: { [app]: releaseSpec(app, 1) } });
      deploys.push(...(await deployReleases(svc, app, [1, 2])));
      expect(jobImage()).to.equal(image(2));
    });

    after(async () => {
      await svc?.close();
      await removeReleaseImages(app, [1, 2]);
    });

    it('asks on a terminal for the app name, shows the plan first, and queues nothing unless it is typed', async () => {
      const questions: string[] = [];
      const c = captureIo();
      const person = { isInteractive: true, ask: async (q: string) => (questions.push(q), 'not-the-app') };
      const code = await rollbackCommandWith({ confirmer: person })([app], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, c.io);
      expect(code).to.equal(1);
      expect(c.out()).to.contain(`back:  ${image(1)}`);
      expect(questions[0]).to.contain(`This will run ${image(1)}`).and.contain(`in place of ${image(2)}`).and.contain(`Type the app name (${app})`);
      expect(c.err()).to.contain('not confirmed').and.contain('nothing was done');
      const { deploys: listed } = (await (await svc.api(`/api/deploys?app=${app}`)).json()) as { deploys: unknown[] };
      expect(listed).to.have.length(2);
    });

    it('re-registers the previous image without building, as a deploy of kind rollback that norn status shows', async () => {
      const run = await cli([app, '--yes'], { isTTY: true });
      expect(run.code, run.err).to.equal(0);
      expect(run.out).to.contain(`now:   ${image(2)}`).and.contain(`back:  ${image(1)}`).and.contain('image: on the Docker engine');
      expect(run.out).to.contain('database: no migration ran since');
      const s = await saga(run.sagaId!);
      expect(s.saga).to.include({ status: 'succeeded', kind: 'rollback', imageTag: image(1) });
      // The API lists the rollback's own steps, and the terminal shows exactly those: no clone, build or test.
      expect(s.saga.steps).to.deep.equal(['snapshot', 'migrate', 'submit', 'healthy', 'forge', 'cleanup']);
      const frame = lastFrame(run.out);
      expect(frameSteps(frame), frame.join('\n')).to.deep.equal(s.saga.steps);
      expect(frame.some((l) => /^✓ rolled back in /.test(l)), frame.join('\n')).to.equal(true);
      const listed = (await (await svc.api(`/api/deploys?app=${app}`)).json()) as { deploys: { sagaId: string; kind: string; steps: string[] }[] };
      expect(listed.deploys.find((d) => d.sagaId === run.sagaId)?.steps).to.deep.equal(s.saga.steps);
      expect(listed.deploys.find((d) => d.kind === 'deploy')?.steps).to.deep.equal(['clone', 'build', 'test', 'snapshot', 'migrate', 'submit', 'healthy', 'forge', 'cleanup']);
      const steps = s.events.filter((e) => e.action.startsWith('step.') && e.action !== 'step.start' && e.action !== 'step.progress').map((e) => `${e.metadata.step}:${e.action.slice(5)}`);
      expect(steps).to.deep.equal(['snapshot:skipped', 'migrate:skipped', 'submit:complete', 'healthy:complete', 'forge:skipped', 'cleanup:complete']);
      expect(s.events.map((e) => e.action)).to.include.members(['rollback.planned', 'nomad.submitted']);
      expect(jobImage()).to.equal(image(1));

      const status = captureIo();
      expect(await statusCommand([app], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, status.io)).to.equal(0);
      expect(status.out()).to.contain(`${image(1)} (deployed by saga ${run.sagaId}`).and.contain('(rollback, manual)');
    });

    it('goes back to a chosen saga, and a rollback whose image does not come up fails and leaves what ran before', async () => {
      const forward = await cli([app, '--to', deploys[1]!, '--yes']);
      expect(forward.code, forward.err).to.equal(0);
      expect(jobImage()).to.equal(image(2));

      // What runs is a rollback to deploy 2, so the previous version is deploy 1's image, which now crashes.
      svc.nomad.setScenario({ image: image(1) }, 'crash');
      const run = await cli([app, '--yes']);
      expect(run.code).to.equal(1);
      const s = await saga(run.sagaId!);
      expect(s.saga.status).to.equal('failed');
      expect(s.saga.error).to.match(/^healthy: /);
      expect(jobImage()).to.equal(image(2));
    });

    it('refuses malformed requests with the field at fault, and unknown apps with 404', async () => {
      const post = (path: string, body: unknown) => svc.api(path, { method: 'POST', body: JSON.stringify(body) });
      for (const [body, field] of [[{ restoreSnapshot: 'yes' }, 'restoreSnapshot'], [{ dryRun: 1 }, 'dryRun'], [{ to: 5, dryRun: true }, 'to'], [{ to: 'a b', dryRun: true }, 'to']] as const) {
        const res = await post(`/api/apps/${app}/rollback`, body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(((await res.json()) as { field: string }).field).to.equal(field);
      }
      expect((await post('/api/apps/no-such-app/rollback', { dryRun: true })).status).to.equal(404);
      expect((await post(`/api/apps/${app}/rollback`, ['not', 'an', 'object'])).status).to.equal(400);
    });

    it('refuses an image that no longer exists, naming the field and what to do', async () => {
      await rawDocker().getImage(image(1)).remove();
      const res = await svc.api(`/api/apps/${app}/rollback`, { method: 'POST', body: JSON.stringify({ to: deploys[0], dryRun: true }) });
      expect(res.status).to.equal(409);
      const body = (await res.json()) as { error: string; field: string };
      expect(body.field).to.equal('to');
      expect(body.error).to.contain(`the image ${image(1)} of saga ${deploys[0]} no longer exists`).and.contain('pick another deploy with --to');
    });
  });
}

describe('automatic rollback after a migration names the snapshot to restore (Nomad simulator)', function () {
  this.timeout(20_000);
  const GOOD = 'reg/shop:good';
  const BAD = 'reg/shop:bad';
  let sim: NomadSimulator;
  let nomad: NomadClient;

  beforeEach(async () => {
    sim = await NomadSimulator.start({ timeFactor: 0.001, stepMs: 20 });
    nomad = new NomadClient({ address: sim.url }, { fetch, log: pino({ level: 'silent' }) });
  });
  afterEach(() => sim.close());

  const spec: AppSpec = infraspecSchema.parse({ name: 'shop', image: GOOD, processes: { web: { port: 8080, health: { path: '/healthz' } } } });
  const loadSecrets = async () => undefined;
  const migrated: StepOutputs = { migrationsApplied: ['0002_notes.sql'], snapshot: { path: '/data/snapshots/shop/shop-db-x.dump', takenAt: '2026-12-07T00:10:00.000Z' }, snapshotTs: '20261207T001001Z' };

  async function deploy(imageTag: string, outputs: StepOutputs = {}) {
    const reports: { message: string; metadata?: Record<string, unknown> }[] = [];
    const ctx = (more: StepOutputs): StepContext => ({
      sagaId: 's',
      app: 'shop',
      spec,
      specDir: '/apps/shop',
      ref: 'refs/heads/main',
      commitSha: 'a'.repeat(40),
      cloneUrl: '',
      signal: new AbortController().signal,
      outputs: { imageTag, ...outputs, ...more },
      report: (message, progress) => reports.push({ message, metadata: progress && { action: progress.action, ...progress.metadata } }),
    });
    const submitted = await submitStep({}, { nomad, loadSecrets }).run(ctx({}));
    const healthy = healthyStep({ deadlineMs: 8000, blockingWaitMs: 1000, retryDelayMs: 10, maxRetries: 2 }, {
      nomad,
      lastGoodImage: async () => GOOD,
      resubmit: (c, img) => submitJobs({}, { nomad, loadSecrets }, c, img, 'rollback'),
    });
    const error = await healthy.run(ctx(submitted.status === 'complete' ? submitted.outputs : {})).then(() => undefined, (e: unknown) => e);
    return { error: error as StepFailedError | undefined, reports };
  }

  it('when Norn re-registers the last good image', async () => {
    sim.setScenario({ image: BAD }, 'crash');
    const { error, reports } = await deploy(BAD, migrated);
    expect(error).to.be.instanceOf(StepFailedError);
    expect(error!.message).to.match(/^the database keeps this deploy's migrations: `norn snapshots shop restore 20261207T001001Z --yes` restores the snapshot taken before them; /);
    expect(error!.message).to.contain(`rolled back to ${GOOD}`);
    expect(error!.detail).to.include({ restoreCommand: 'norn snapshots shop restore 20261207T001001Z --yes', snapshot: migrated.snapshot!.path, rolledBackTo: GOOD });
    const rollback = reports.find((r) => r.metadata?.action === 'deploy.rollback')!;
    expect(rollback.message).to.contain('norn snapshots shop restore 20261207T001001Z --yes');
    expect(rollback.metadata).to.include({ snapshotTs: '20261207T001001Z', image: GOOD });
  });

  it('when Nomad reverts by itself', async () => {
    expect((await deploy(GOOD)).error).to.equal(undefined);
    sim.setScenario({ image: BAD }, 'crash');
    const { error, reports } = await deploy(BAD, migrated);
    expect(error!.message).to.contain('`norn snapshots shop restore 20261207T001001Z --yes`').and.contain('Nomad rolled back');
    expect(reports.find((r) => r.metadata?.action === 'deploy.rollback')?.metadata).to.include({ by: 'nomad', restoreCommand: 'norn snapshots shop restore 20261207T001001Z --yes' });
  });

  it('says nothing of the kind when the deploy ran no migration', async () => {
    sim.setScenario({ image: BAD }, 'crash');
    const { error } = await deploy(BAD, { migrationsApplied: [], snapshot: migrated.snapshot });
    expect(error!.message).not.to.contain('norn snapshots');
  });
});
