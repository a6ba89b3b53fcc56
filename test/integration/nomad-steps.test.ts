// The submit and healthy steps against the Nomad simulator (test/support/nomad-simulator.ts), in every scenario
// the simulator can act out.
import { expect } from 'chai';
import { pino } from 'pino';
import { type AppSpec, infraspecSchema } from '../../src/apps/infraspec-schema.js';
import { StepFailedError, UpstreamError } from '../../src/errors.js';
import { NomadClient } from '../../src/integrations/nomad/nomad-client.js';
import { healthyStep, type HealthyConfig } from '../../src/runtime/nomad/healthy.js';
import type { LoadSecrets } from '../../src/apps/app-secrets.js';
import { submitJobs, submitStep } from '../../src/runtime/nomad/submit.js';
import type { StepProgressAction } from '../../src/events/saga-actions.js';
import type { StepContext, StepOutputs, StepResult } from '../../src/pipeline/step.js';
import { NomadSimulator } from '../support/nomad-simulator.js';

const GOOD = 'reg/shop:good';
const BAD = 'reg/shop:bad';

interface Report {
  message: string;
  action?: StepProgressAction;
  metadata?: Readonly<Record<string, unknown>>;
}

function appSpec(raw: Record<string, unknown> = {}): AppSpec {
  return infraspecSchema.parse({
    name: 'shop',
    image: GOOD,
    processes: { web: { port: 8080, health: { path: '/healthz' } }, nightly: { schedule: '0 3 * * *', command: 'true' } },
    ...raw,
  });
}

function context(spec: AppSpec, outputs: StepOutputs = {}) {
  const reports: Report[] = [];
  const ctx: StepContext = {
    sagaId: 'saga-1',
    app: spec.name,
    spec,
    specDir: '/apps/shop',
    ref: 'refs/heads/main',
    commitSha: 'a'.repeat(40),
    cloneUrl: 'https://example.com/shop.git',
    signal: new AbortController().signal,
    outputs,
    report: (message, progress) => reports.push({ message, ...progress }),
  };
  return { ctx, reports };
}

const HEALTHY: HealthyConfig = { deadlineMs: 8000, blockingWaitMs: 1000, retryDelayMs: 10, maxRetries: 2 };

describe('submit and healthy steps against the Nomad simulator', function () {
  this.timeout(20_000);
  let sim: NomadSimulator;
  let nomad: NomadClient;
  let secrets: Record<string, string>;
  let lastGood: string | undefined;
  const loadSecrets: LoadSecrets = async () => ({ env: secrets, skipped: [] });

  beforeEach(async () => {
    // stepMs: pretend work (scheduling, image pull) takes long enough to see an allocation before it runs.
    sim = await NomadSimulator.start({ timeFactor: 0.001, stepMs: 30 });
    nomad = new NomadClient({ address: sim.url }, { fetch, log: pino({ level: 'silent' }) });
    secrets = { API_KEY: 'k-very-secret' };
    lastGood = undefined;
  });
  afterEach(() => sim.close());

  const submit = () => submitStep({}, { nomad, loadSecrets });
  const healthy = (config: Partial<HealthyConfig> = {}) =>
    healthyStep({ ...HEALTHY, ...config }, {
      nomad,
      lastGoodImage: async () => lastGood,
      resubmit: (ctx, image) => submitJobs({}, { nomad, loadSecrets }, ctx, image, 'rollback'),
    });

  /** Runs submit then healthy as the runner would: outputs of one are the context of the next. */
  async function deploy(spec: AppSpec, image: string, config: Partial<HealthyConfig> = {}) {
    const s = context(spec, { imageTag: image });
    const submitted = await submit().run(s.ctx);
    if (submitted.status !== 'complete') throw new Error('submit skipped');
    const h = context(spec, { imageTag: image, ...submitted.outputs });
    let result: StepResult | undefined;
    let error: unknown;
    try {
      result = await healthy(config).run(h.ctx);
    } catch (err) {
      error = err;
    }
    return { submitted, result, error, reports: [...s.reports, ...h.reports] };
  }

  const progress = (reports: Report[]) => reports.filter((r) => r.action === 'alloc.progress').map((r) => r.metadata!.phase);
  const failure = (error: unknown) => {
    expect(error, 'the healthy step should have failed').to.be.instanceOf(StepFailedError);
    return error as StepFailedError;
  };

  it('passes a healthy deployment and reports placed, running and healthy', async () => {
    const { submitted, result, reports } = await deploy(appSpec(), GOOD);
    expect(submitted.status === 'complete' && submitted.outputs).to.deep.include({ jobId: 'shop', imageTag: GOOD, taskGroups: ['web'] });
    expect(result?.status).to.equal('complete');
    expect(progress(reports)).to.deep.equal(['placed', 'running', 'healthy']);
    const sub = reports.find((r) => r.action === 'nomad.submitted')!;
    expect(sub.metadata).to.deep.include({ jobId: 'shop', image: GOOD, periodicJobs: [{ jobId: 'shop-nightly', jobModifyIndex: sim.job('shop-nightly')!.JobModifyIndex }] });
    expect(sub.metadata!.evalId).to.be.a('string').with.length.greaterThan(0);
    expect(sim.deployments('shop').map((d) => d.Status)).to.deep.equal(['successful']);
  });

  it('puts secrets into the job but never into reports or outputs', async () => {
    const { submitted, reports } = await deploy(appSpec(), GOOD);
    expect(sim.job('shop')!.TaskGroups[0]!.Tasks[0]!.Env).to.include({ API_KEY: 'k-very-secret' });
    expect(JSON.stringify(reports)).not.to.include('k-very-secret');
    expect(JSON.stringify(submitted)).not.to.include('k-very-secret');
  });

  it('registers nothing when the secrets cannot be loaded', async () => {
    const failing: LoadSecrets = async () => {
      throw new Error('secrets.enc.yaml: MAC mismatch');
    };
    const { ctx } = context(appSpec(), { imageTag: GOOD });
    const err = await submitStep({}, { nomad, loadSecrets: failing }).run(ctx).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error).with.property('message').that.includes('MAC');
    expect(sim.requests.filter((r) => r.method !== 'GET')).to.deep.equal([]);
  });

  it('records Nomad warnings from registration', async () => {
    sim.setWarnings('shop', ['Group "web" has a deprecated field']);
    const { submitted, reports } = await deploy(appSpec(), GOOD);
    expect(submitted.status === 'complete' && submitted.outputs.warnings).to.deep.equal(['shop: Group "web" has a deprecated field']);
    expect(reports.map((r) => r.message)).to.include('Nomad warning: shop: Group "web" has a deprecated field');
  });

  it('fails a crashing task, naming the task group and the exit', async () => {
    sim.setScenario({ image: BAD }, 'crash');
    const { error, reports } = await deploy(appSpec(), BAD);
    const err = failure(error);
    expect(err.message).to.include('task group "web"').and.include('Exit Code: 1').and.include('failed');
    expect(err.detail).to.include({ taskGroup: 'web', timedOut: false });
    expect(progress(reports)).to.include('unhealthy');
  });

  it('fails when the health check never passes', async () => {
    sim.setScenario({ image: BAD }, 'never-healthy');
    const err = failure((await deploy(appSpec(), BAD)).error);
    expect(err.message).to.include('task group "web"').and.include('Services not healthy by deadline: shop-web');
  });

  it('fails at the progress deadline when nothing starts', async () => {
    sim.setScenario({ image: BAD }, 'progress-deadline');
    const err = failure((await deploy(appSpec(), BAD)).error);
    expect(err.message).to.include('Failed due to progress deadline').and.include('Task not running by healthy_deadline').and.include('Driver: Downloading image');
  });

  it('fails at its own deadline, saying the deployment was still running', async () => {
    sim.setScenario({ image: BAD }, 'progress-deadline');
    const err = failure((await deploy(appSpec(), BAD, { deadlineMs: 150 })).error);
    expect(err.message).to.include('still running at the deadline').and.include('task group "web"');
    expect(err.detail).to.include({ timedOut: true });
  });

  it('fails a placement failure with the reason', async () => {
    sim.setScenario({ image: BAD }, 'placement-failure');
    const err = failure((await deploy(appSpec(), BAD)).error);
    expect(err.message).to.include('task group "web" could not be placed').and.include('memory');
  });

  it('fails submit with Nomad\'s validation error and status', async () => {
    sim.setScenario({ jobId: 'shop' }, 'validation-error');
    const { ctx } = context(appSpec(), { imageTag: GOOD });
    const err = await submit().run(ctx).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamError).with.property('status', 500);
    expect((err as UpstreamError).upstreamMessage).to.match(/^1 error occurred:\n\t\* Task group web validation failed/);
  });

  it('reports a Nomad auto-revert as a failed deploy and leaves the reverted job alone', async () => {
    expect((await deploy(appSpec(), GOOD)).result?.status).to.equal('complete');
    sim.setScenario({ image: BAD }, 'crash');
    lastGood = GOOD;
    const { error, reports } = await deploy(appSpec(), BAD);
    const err = failure(error);
    expect(err.message).to.include('Nomad rolled back');
    expect(err.detail).to.include({ revertedJobVersion: 2 });
    expect(reports.some((r) => r.action === 'deploy.rollback')).to.equal(false);
    expect(sim.job('shop')!.TaskGroups[0]!.Tasks[0]!.Config.image).to.equal(GOOD);
  });

  it('passes an unchanged job without a new deployment once its allocations are healthy', async () => {
    await deploy(appSpec(), GOOD);
    const again = await deploy(appSpec(), GOOD);
    expect(again.result?.status).to.equal('complete');
    expect(again.result?.status === 'complete' && again.result.message).to.include('unchanged');
    expect(sim.deployments('shop')).to.have.length(1);
    expect(sim.jobVersions('shop')).to.have.length(1);
  });

  it('follows the running deployment when the same job is registered again before it finished', async () => {
    const first = context(appSpec(), { imageTag: GOOD });
    const submitted = await submit().run(first.ctx);
    await submit().run(context(appSpec(), { imageTag: GOOD }).ctx);
    const h = context(appSpec(), { imageTag: GOOD, ...(submitted.status === 'complete' ? submitted.outputs : {}) });
    expect((await healthy().run(h.ctx)).status).to.equal('complete');
    expect(sim.deployments('shop').map((d) => d.Status)).to.deep.equal(['successful']);
  });

  it('re-registers the last good image when Nomad did not revert (deployPolicy.autoRollback)', async () => {
    sim.setScenario({ image: BAD }, 'crash');
    lastGood = GOOD;
    const { error, reports } = await deploy(appSpec(), BAD);
    const err = failure(error);
    expect(err.message).to.include(`rolled back to ${GOOD}`);
    expect(err.detail).to.include({ rolledBackTo: GOOD, rollbackHealthy: true });
    const rollback = reports.find((r) => r.action === 'nomad.submitted' && r.metadata?.reason === 'rollback');
    expect(rollback?.metadata).to.include({ image: GOOD });
    expect(sim.job('shop')!.TaskGroups[0]!.Tasks[0]!.Config.image).to.equal(GOOD);
    expect(sim.job('shop-nightly')!.TaskGroups[0]!.Tasks[0]!.Config.image).to.equal(GOOD);
  });

  it('does not roll back when deployPolicy.autoRollback is false', async () => {
    sim.setScenario({ image: BAD }, 'crash');
    lastGood = GOOD;
    const { error } = await deploy(appSpec({ deployPolicy: { autoRollback: false } }), BAD);
    expect(failure(error).detail).not.to.have.property('rolledBackTo');
    expect(sim.job('shop')!.TaskGroups[0]!.Tasks[0]!.Config.image).to.equal(BAD);
  });

  it('promotes healthy canaries after evaluateAfter', async () => {
    const canary = appSpec({ processes: { web: { port: 8080, health: { path: '/healthz' }, canary: { count: 1, evaluateAfter: '100ms' } } } });
    await deploy(canary, GOOD);
    const { result, reports } = await deploy(canary, 'reg/shop:v2');
    expect(result?.status).to.equal('complete');
    expect(reports.map((r) => r.message).join('\n')).to.match(/canaries of "web" healthy, 0\.1s \(evaluateAfter\) after they were placed: promoting/);
    const canaryLines = reports.filter((r) => String(r.action).startsWith('canary.')).map((r) => r.action);
    expect([canaryLines[0], canaryLines.at(-1)]).to.deep.equal(['canary.placed', 'canary.promoted']);
    expect(sim.deployments('shop').at(-1)!.TaskGroups.web).to.include({ Promoted: true, DesiredCanaries: 1 });
    const running = sim.allocations('shop').filter((a) => a.DesiredStatus === 'run');
    expect(running.map((a) => a.JobVersion)).to.deep.equal([1]);
  });

  it('fails an unhealthy canary and rolls back to the last good image', async () => {
    const canary = appSpec({ processes: { web: { port: 8080, health: { path: '/healthz' }, canary: { count: 1, evaluateAfter: '100ms' } } } });
    await deploy(canary, GOOD);
    sim.setScenario({ image: BAD }, 'never-healthy');
    lastGood = GOOD;
    const err = failure((await deploy(canary, BAD)).error);
    expect(err.message).to.include('Deployment marked as failed').and.include('task group "web"');
    expect(err.detail).to.include({ rolledBackTo: GOOD });
  });

  /** Starts a canary deploy of `image` and resolves once its canaries wait for promotion. */
  async function canaryWaiting(image: string, evaluateAfter: string) {
    const spec = appSpec({ processes: { web: { port: 8080, health: { path: '/healthz' }, canary: { count: 1, evaluateAfter } } } });
    await deploy(spec, GOOD);
    lastGood = GOOD;
    const s = context(spec, { imageTag: image });
    const submitted = await submit().run(s.ctx);
    if (submitted.status !== 'complete') throw new Error('submit skipped');
    const h = context(spec, { imageTag: image, ...submitted.outputs });
    const running = healthy({ deadlineMs: 15_000 }).run(h.ctx).then(
      (result) => ({ result, error: undefined as unknown }),
      (error: unknown) => ({ result: undefined, error }),
    );
    const started = Date.now();
    while (!h.reports.some((r) => r.action === 'canary.waiting')) {
      if (Date.now() - started > 10_000) throw new Error(`the canaries never waited for promotion: ${h.reports.map((r) => r.message).join('; ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { running, reports: h.reports, deployment: sim.deployments('shop').at(-1)! };
  }

  it('waits for promotion, saying for what and until when, and goes on when an operator promotes', async () => {
    const { running, reports, deployment } = await canaryWaiting('reg/shop:v2', '1h');
    const waiting = reports.find((r) => r.action === 'canary.waiting')!;
    expect(waiting.message).to.contain('norn promote shop').and.contain('norn canary fail shop').and.contain('(evaluateAfter 15s)');
    expect(reports.find((r) => r.action === 'canary.window-capped')?.message).to.contain('evaluateAfter 1h is longer than the health deadline');
    expect(sim.allocations('shop').filter((a) => a.DesiredStatus === 'run').map((a) => a.JobVersion).sort()).to.deep.equal([0, 1]);
    await nomad.promoteDeployment(deployment.ID);
    const { result } = await running;
    expect(result?.status).to.equal('complete');
    expect(reports.find((r) => r.action === 'canary.promoted')?.metadata).to.include({ by: 'operator' });
    expect(sim.allocations('shop').filter((a) => a.DesiredStatus === 'run').map((a) => a.JobVersion)).to.deep.equal([1]);
  });

  it('fails the deploy when an operator fails the canaries: they stop, the old version keeps running, and it rolls back', async () => {
    const { running, reports, deployment } = await canaryWaiting(BAD, '1h');
    await nomad.failDeployment(deployment.ID);
    const err = failure((await running).error);
    expect(err.message).to.contain('failed: canaries failed by an operator (norn canary fail)');
    expect(err.detail).to.include({ rolledBackTo: GOOD, rollbackHealthy: true });
    expect(reports.find((r) => r.action === 'canary.failed')?.metadata).to.include({ by: 'operator' });
    const canary = sim.allocations('shop').find((a) => a.DeploymentID === deployment.ID)!;
    expect(canary.DesiredStatus).to.equal('stop');
    expect(sim.job('shop')!.TaskGroups[0]!.Tasks[0]!.Config.image).to.equal(GOOD);
  });

  it('fails canaries still not healthy at the deadline, so no deployment is left waiting', async () => {
    // Nomad's own healthy_deadline (5m) scaled to 3s, past the step's deadline: the step's deadline comes first.
    await sim.close();
    sim = await NomadSimulator.start({ timeFactor: 0.01, stepMs: 30 });
    nomad = new NomadClient({ address: sim.url }, { fetch, log: pino({ level: 'silent' }) });
    const canary = appSpec({ processes: { web: { port: 8080, health: { path: '/healthz' }, canary: { count: 1, evaluateAfter: '100ms' } } } });
    await deploy(canary, GOOD);
    sim.setScenario({ image: BAD }, 'progress-deadline');
    const { error, reports } = await deploy(canary, BAD, { deadlineMs: 1500 });
    const err = failure(error);
    expect(err.message).to.contain('still running at the deadline');
    expect(reports.find((r) => r.action === 'canary.failed')?.metadata).to.include({ by: 'deadline' });
    const last = sim.deployments('shop').at(-1)!;
    expect(last.Status).to.equal('failed');
    expect(sim.allocations('shop').filter((a) => a.DeploymentID === last.ID).map((a) => a.DesiredStatus)).to.deep.equal(['stop']);
  });

  it('skips healthy for an app without service processes, after registering its periodic jobs', async () => {
    const spec = appSpec({ processes: { nightly: { schedule: '@daily' } } });
    const { submitted, result } = await deploy(spec, GOOD);
    expect(submitted.status === 'complete' && submitted.outputs).to.deep.include({ evalId: '', taskGroups: [] });
    expect(result).to.deep.equal({ status: 'skipped', reason: 'the service job has no task groups' });
    expect(sim.job('shop')).to.equal(undefined);
    expect(sim.job('shop-nightly')!.Periodic).to.include({ Spec: '@daily' });
  });
});
