// Running a claimed deploy: the pipeline of its kind on its app's current spec, ended through the lifecycle; a
// deploy whose app left the apps dir ends failed without running anything.
import { expect } from 'chai';
import type { LoadedApp } from '../../../src/apps/load-app-specs.js';
import type { AppSpec } from '../../../src/apps/infraspec-schema.js';
import { deployExecution, runStepsOf } from '../../../src/deploys/deploy-execution.js';
import { DeployHistory } from '../../../src/deploys/deploy-history.js';
import { DeployLifecycle, type NewDeploy } from '../../../src/deploys/deploy-lifecycle.js';
import { SagaLog } from '../../../src/events/saga-log.js';
import type { DeployPipeline } from '../../../src/pipeline/deploy-pipeline.js';
import { done, type StepName } from '../../../src/pipeline/step.js';
import { createStore, type Store } from '../../../src/store/create-store.js';
import { memoryLogger } from '../../support/memory-logger.js';

const shop: LoadedApp = {
  name: 'shop',
  dir: '/apps/shop',
  file: '/apps/shop/infraspec.yaml',
  spec: { name: 'shop' } as unknown as AppSpec,
  warnings: [{ path: 'processes.web.scale', reason: 'not acted on by this receiver' }],
};

describe('deploy execution', () => {
  let store: Store;
  let sagaLog: SagaLog;
  let lifecycle: DeployLifecycle;
  let history: DeployHistory;
  let ran: string[];
  beforeEach(async () => {
    store = await createStore({ sqliteFile: ':memory:' });
    sagaLog = new SagaLog({ knex: store.knex });
    lifecycle = new DeployLifecycle({ knex: store.knex, sagaLog, isPostgres: false, log: memoryLogger().log });
    history = new DeployHistory({ knex: store.knex });
    ran = [];
  });
  afterEach(() => store.close());

  const pipeline = (label: string, names: StepName[]): DeployPipeline => ({
    steps: names.map((name) => ({ name, run: async () => (ran.push(`${label} ${name}`), done()) })),
    cleanup: { name: 'cleanup', run: async () => (ran.push(`${label} cleanup`), done()) },
    timeoutMs: () => 5_000,
  });
  const execute = (apps: LoadedApp[]) =>
    deployExecution({
      catalog: { get: (name) => apps.find((a) => a.name === name) },
      lifecycle,
      pipelines: { deploy: pipeline('deploy', ['clone', 'build']), preflight: pipeline('preflight', ['clone']), rollback: pipeline('rollback', ['submit']) },
      log: memoryLogger().log,
    });

  async function claimed(extra: Partial<NewDeploy> = {}) {
    await lifecycle.queue({ app: 'shop', kind: 'deploy', ref: 'refs/heads/main', commitSha: 'a'.repeat(40), trigger: 'push', deliveryId: null, forge: null, repoFullName: null, cloneUrl: 'x', prNumber: null, ...extra });
    return (await lifecycle.claimNext('worker', 60_000))!;
  }

  it('runs the pipeline of the deploy kind and ends the deploy with its outcome, spec warnings first', async () => {
    const d = await claimed({ kind: 'preflight', prNumber: 7 });
    await execute([shop])(d, new AbortController().signal);
    expect(ran).to.deep.equal(['preflight clone', 'preflight cleanup']);
    expect((await history.get(d.id))?.status).to.equal('succeeded');
    const events = await sagaLog.forSaga(d.id);
    expect(events.map((e) => e.action)).to.deep.equal(['deploy.queued', 'deploy.start', 'spec.warnings', 'step.start', 'step.complete', 'step.start', 'step.complete', 'deploy.complete']);
    expect(events[2]!.message).to.equal('spec of shop: 1 warning(s): processes.web.scale: not acted on by this receiver');
  });

  it('ends failed, naming why and running nothing, a deploy whose app is no longer in the apps dir', async () => {
    const d = await claimed();
    await execute([])(d, new AbortController().signal);
    expect(ran).to.deep.equal([]);
    expect(await history.get(d.id)).to.deep.include({ status: 'failed', error: 'app shop is no longer in the apps dir (or its spec is invalid)' });
    expect((await sagaLog.forSaga(d.id)).map((e) => e.action)).to.deep.equal(['deploy.queued', 'deploy.failed']);
  });

  it('lists a run\'s steps from the pipeline its kind runs, cleanup last, and none for a run that cannot run', async () => {
    const builtPerRun = async (d: { id: string }) => (d.id === 'no-order' ? 'this rollback has no rollback.planned event' : pipeline('rollback', ['snapshot', 'submit']));
    const stepsOf = runStepsOf({ deploy: pipeline('deploy', ['clone', 'build']), preflight: pipeline('preflight', ['clone']), rollback: builtPerRun });
    const [deploy, preflight] = [await claimed(), await claimed({ kind: 'preflight', prNumber: 7 })];
    expect(await stepsOf(deploy)).to.deep.equal(['clone', 'build', 'cleanup']);
    expect(await stepsOf(preflight)).to.deep.equal(['clone', 'cleanup']);
    expect(await stepsOf({ ...deploy, kind: 'rollback' })).to.deep.equal(['snapshot', 'submit', 'cleanup']);
    expect(await stepsOf({ ...deploy, id: 'no-order', kind: 'rollback' })).to.deep.equal([]);
    expect(ran, 'listing steps runs none').to.deep.equal([]);
  });
});
