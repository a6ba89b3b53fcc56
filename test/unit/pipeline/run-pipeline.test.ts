// The runner: order, outputs handed on, time limits, the first failure stopping the run, cleanup always. It reports
// through the real deploy lifecycle on SQLite, which ends the deploy with the outcome the runner returns.
import { expect } from 'chai';
import { DeployHistory } from '../../../src/deploys/deploy-history.js';
import { DeployLifecycle } from '../../../src/deploys/deploy-lifecycle.js';
import { SagaLog } from '../../../src/events/saga-log.js';
import { runPipeline } from '../../../src/pipeline/run-pipeline.js';
import { done, skipped, type Step, type StepName } from '../../../src/pipeline/step.js';
import { createStore, type Store } from '../../../src/store/create-store.js';
import type { AppSpec } from '../../../src/apps/infraspec-schema.js';
import { memoryLogger } from '../../support/memory-logger.js';

const spec = { name: 'shop' } as unknown as AppSpec;

describe('runPipeline', () => {
  let store: Store;
  let sagaLog: SagaLog;
  let lifecycle: DeployLifecycle;
  let history: DeployHistory;
  beforeEach(async () => {
    store = await createStore({ sqliteFile: ':memory:' });
    sagaLog = new SagaLog({ knex: store.knex });
    lifecycle = new DeployLifecycle({ knex: store.knex, sagaLog, isPostgres: false, log: memoryLogger().log });
    history = new DeployHistory({ knex: store.knex });
  });
  afterEach(() => store.close());

  async function claimed() {
    await lifecycle.queue({ app: 'shop', kind: 'deploy', ref: 'refs/heads/main', commitSha: 'a'.repeat(40), trigger: 'manual', deliveryId: null, forge: null, repoFullName: null, cloneUrl: 'x', prNumber: null });
    return (await lifecycle.claimNext('me', 60_000))!;
  }

  const step = (name: StepName, run: Step['run']): Step => ({ name, run });
  const run = async (steps: Step[], cleanup: Step, timeouts: Partial<Record<StepName, number>> = {}) => {
    const deploy = await claimed();
    const { log } = memoryLogger();
    await lifecycle.start(deploy);
    const outcome = await runPipeline(
      { run: deploy, spec, specDir: '/tmp', steps, cleanup, signal: new AbortController().signal },
      { report: lifecycle.reporter(deploy), log, timeoutMs: (s) => timeouts[s] ?? 5_000 },
    );
    await lifecycle.finish(deploy, outcome);
    return { outcome, deploy, events: await sagaLog.forSaga(deploy.id), record: await history.get(deploy.id) };
  };

  it('hands each step the outputs of the ones before and records skipped steps with their reason', async () => {
    let seenWorkDir: unknown;
    const { outcome, events, record } = await run(
      [
        step('clone', async () => done({ workDir: '/w' })),
        step('build', async () => skipped('no build section')),
        step('test', async (ctx) => {
          seenWorkDir = ctx.outputs.workDir;
          ctx.report('tests passed', { action: 'migration.applied' });
          return done({ imageTag: 'img:1' });
        }),
      ],
      step('cleanup', async () => done()),
    );
    expect(outcome.status).to.equal('succeeded');
    expect(seenWorkDir).to.equal('/w');
    expect(record?.status).to.equal('succeeded');
    expect(record?.imageTag).to.equal('img:1');
    const skippedEvent = events.find((e) => e.action === 'step.skipped')!;
    expect(skippedEvent.message).to.contain('no build section');
    expect(skippedEvent.metadata).to.include({ step: 'build', index: 2, total: 9 });
    expect(events.some((e) => e.action === 'migration.applied' && e.message === 'tests passed')).to.equal(true);
    expect(events.at(-1)!.action).to.equal('deploy.complete');
  });

  it('ends a deploy that is live but not routed as succeeded, saying so in its last event', async () => {
    const { outcome, events } = await run(
      [step('healthy', async () => done()), step('forge', async () => done({ notRouted: 'no cloudflared config at /x.yml (NORN_CLOUDFLARED_CONFIG)' }))],
      step('cleanup', async () => done()),
    );
    expect(outcome.status).to.equal('succeeded');
    const last = events.at(-1)!;
    expect(last.action).to.equal('deploy.complete');
    expect(last.message).to.match(/^deploy of shop succeeded in [\d.]+s \(live, not routed: no cloudflared config at \/x\.yml \(NORN_CLOUDFLARED_CONFIG\)\)$/);
    expect(last.metadata).to.include({ notRouted: 'no cloudflared config at /x.yml (NORN_CLOUDFLARED_CONFIG)' });
  });

  it('keeps the image a failed deploy built, so status can show it was never deployed', async () => {
    const { record } = await run(
      [step('build', async () => done({ imageTag: 'img:2' })), step('submit', async () => { throw new Error('nomad: register job failed: no answer'); })],
      step('cleanup', async () => done()),
    );
    expect(record).to.include({ status: 'failed', imageTag: 'img:2' });
  });

  it('stops at the first failure, runs cleanup anyway, and ends failed naming the step', async () => {
    const ran: string[] = [];
    const { outcome, events, record } = await run(
      [
        step('clone', async () => (ran.push('clone'), done({ workDir: '/w' }))),
        step('build', async () => {
          ran.push('build');
          throw new Error('RUN exited 2');
        }),
        step('test', async () => (ran.push('test'), done())),
      ],
      step('cleanup', async (ctx) => (ran.push(`cleanup ${String(ctx.outputs.workDir)}`), done())),
    );
    expect(ran).to.deep.equal(['clone', 'build', 'cleanup /w']);
    expect(outcome).to.include({ status: 'failed', step: 'build' });
    expect(record?.status).to.equal('failed');
    expect(record?.error).to.equal('build: RUN exited 2');
    const failed = events.find((e) => e.action === 'deploy.failed')!;
    expect(failed.metadata.step).to.equal('build');
  });

  it('fails a step that runs past its time limit, even one that ignores the abort signal', async () => {
    const { outcome, events } = await run(
      [step('test', () => new Promise(() => undefined))],
      step('cleanup', async () => done()),
      { test: 100 },
    );
    expect(outcome).to.include({ status: 'failed', step: 'test' });
    const failed = events.find((e) => e.action === 'step.failed')!;
    expect(failed.message).to.contain('timed out');
    expect(events.some((e) => e.action === 'step.complete' && e.metadata.step === 'cleanup')).to.equal(true);
  });
});
