// The deploy lifecycle on a real SQLite file with real migrations: every transition changes the deploys row and
// appends its event together or not at all, and announces the event only once another connection can see both.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { DeployHistory } from '../../../src/deploys/deploy-history.js';
import { DeployLifecycle, type NewDeploy } from '../../../src/deploys/deploy-lifecycle.js';
import type { DeployRecord } from '../../../src/deploys/deploy-record.js';
import type { SagaAction } from '../../../src/events/saga-actions.js';
import type { SagaEvent } from '../../../src/events/saga-event.js';
import { SagaLog } from '../../../src/events/saga-log.js';
import { createStore, type Store } from '../../../src/store/create-store.js';
import { memoryLogger } from '../../support/memory-logger.js';

const input = (sha: string, extra: Partial<NewDeploy> = {}): NewDeploy => ({
  app: 'shop',
  kind: 'deploy',
  ref: 'refs/heads/main',
  commitSha: sha.repeat(40),
  trigger: 'push',
  deliveryId: null,
  forge: 'github',
  repoFullName: 'acme/shop',
  cloneUrl: 'https://forge.example.test/acme/shop.git',
  prNumber: null,
  ...extra,
});

/** What another connection sees of a deploy when an event is announced. */
interface Sighting {
  readonly action: SagaAction;
  readonly status: string | undefined;
  readonly currentStep: string | null | undefined;
  readonly eventVisible: boolean;
}

describe('deploy lifecycle', () => {
  let dir: string;
  let store: Store;
  let reader: Store;
  let sagaLog: SagaLog;
  let lifecycle: DeployLifecycle;
  let history: DeployHistory;
  /** Actions whose append fails inside the transaction (a projector throwing), to prove the row goes with it. */
  let failOn: Set<SagaAction>;
  let sightings: Promise<Sighting>[];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-lifecycle-'));
    const file = path.join(dir, 'norn.sqlite');
    store = await createStore({ sqliteFile: file });
    reader = await createStore({ sqliteFile: file });
    sagaLog = new SagaLog({ knex: store.knex });
    failOn = new Set();
    sagaLog.addProjector(async (_trx, events) => {
      const bad = events.find((e) => failOn.has(e.action));
      if (bad) throw new Error(`projector refused ${bad.action}`);
    });
    sightings = [];
    sagaLog.subscribe((events) => {
      for (const e of events) sightings.push(sight(e));
    });
    lifecycle = new DeployLifecycle({ knex: store.knex, sagaLog, isPostgres: false, log: memoryLogger().log });
    history = new DeployHistory({ knex: store.knex });
  });
  afterEach(async () => {
    await reader.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Reads, through the second connection, the deploy and the event as committed at the moment of announcing. */
  async function sight(e: SagaEvent): Promise<Sighting> {
    const row = await reader.knex('deploys').where({ id: e.sagaId }).first('status', 'current_step');
    const event = await reader.knex('saga_events').where({ seq: e.seq }).first('seq');
    return { action: e.action, status: row?.status, currentStep: row?.current_step, eventVisible: event !== undefined };
  }

  const actions = async (id: string) => (await sagaLog.forSaga(id)).map((e) => e.action);

  async function running(sha = 'a'): Promise<DeployRecord> {
    await lifecycle.queue(input(sha));
    return (await lifecycle.claimNext('worker-1', 60_000))!;
  }

  it('queues a deploy: its row and its deploy.queued event, announced once both are committed', async () => {
    const d = await lifecycle.queue(input('a'));
    expect((await history.get(d.id))?.status).to.equal('queued');
    const [queued] = await sagaLog.forSaga(d.id);
    expect(queued).to.deep.include({ action: 'deploy.queued', source: 'receiver' });
    expect(queued!.metadata).to.deep.equal({ ref: 'refs/heads/main', commitSha: 'a'.repeat(40), trigger: 'push', kind: 'deploy', prNumber: null, forge: 'github', repoFullName: 'acme/shop' });
    expect(await Promise.all(sightings)).to.deep.equal([{ action: 'deploy.queued', status: 'queued', currentStep: null, eventVisible: true }]);
  });

  it('queues nothing and announces nothing when its event cannot be appended', async () => {
    failOn.add('deploy.queued');
    let error: unknown;
    await lifecycle.queue(input('a')).catch((err: unknown) => (error = err));
    expect(String(error)).to.contain('projector refused deploy.queued');
    expect(await history.list({ limit: 10 })).to.deep.equal([]);
    expect(await sagaLog.recent({ limit: 10 })).to.deep.equal([]);
    expect(sightings).to.have.length(0);
  });

  it('claims the newest queued deploy and supersedes the older ones in the same commit', async () => {
    const a = await lifecycle.queue(input('a'));
    const b = await lifecycle.queue(input('b'));
    const c = await lifecycle.queue(input('c'));
    sightings = [];
    const claimed = await lifecycle.claimNext('worker-1', 60_000);
    expect(claimed).to.deep.include({ id: c.id, status: 'running', leaseOwner: 'worker-1' });
    for (const old of [a, b]) {
      expect(await history.get(old.id)).to.deep.include({ status: 'superseded', error: `superseded by ${c.id}` });
      expect(await actions(old.id)).to.deep.equal(['deploy.queued', 'deploy.superseded']);
    }
    // Both supersedes were announced after the claim committed: the new deploy already ran when they were seen.
    const seen = await Promise.all(sightings);
    expect(seen.map((s) => [s.action, s.status, s.eventVisible])).to.deep.equal([
      ['deploy.superseded', 'superseded', true],
      ['deploy.superseded', 'superseded', true],
    ]);
    expect((await history.get(c.id))?.status).to.equal('running');
  });

  it('leaves a whole lane queued when a supersede cannot be recorded', async () => {
    const a = await lifecycle.queue(input('a'));
    const b = await lifecycle.queue(input('b'));
    failOn.add('deploy.superseded');
    let error: unknown;
    await lifecycle.claimNext('worker-1', 60_000).catch((err: unknown) => (error = err));
    expect(String(error)).to.contain('projector refused deploy.superseded');
    expect((await history.get(a.id))?.status).to.equal('queued');
    expect((await history.get(b.id))?.status).to.equal('queued');
    expect(await actions(a.id)).to.deep.equal(['deploy.queued']);
  });

  it('moves the current step with step.start, in order with the progress reported around it', async () => {
    const d = await running();
    await lifecycle.start(d);
    const report = lifecycle.reporter(d);
    await report.stepStarted('clone');
    report.progress('clone', 'checked out', { action: 'step.progress' });
    report.stepEnded('clone', { status: 'complete', durationMs: 5 });
    await report.stepStarted('build');
    report.progress('build', 'pushed r/shop:1', { metadata: { digest: 'sha256:1' } });
    await report.settled();
    expect(await actions(d.id)).to.deep.equal(['deploy.queued', 'deploy.start', 'step.start', 'step.progress', 'step.complete', 'step.start', 'step.progress']);
    expect((await history.get(d.id))?.currentStep).to.equal('build');
    const seen = await Promise.all(sightings);
    const starts = seen.filter((s) => s.action === 'step.start');
    expect(starts.map((s) => s.currentStep)).to.deep.equal(['clone', 'build']);
    const pushed = (await sagaLog.forSaga(d.id)).at(-1)!;
    expect(pushed.metadata).to.deep.equal({ digest: 'sha256:1', step: 'build' });
  });

  it('numbers each step among the steps its run has: a preflight\'s submit is 4/5, a deploy\'s 6/9', async () => {
    const preflight = await running();
    const report = lifecycle.reporter(preflight, ['clone', 'build', 'test', 'submit', 'cleanup']);
    await report.stepStarted('submit');
    report.stepEnded('submit', { status: 'complete', durationMs: 5 });
    await report.settled();
    const [started, ended] = (await sagaLog.forSaga(preflight.id)).filter((e) => e.category === 'step');
    expect(started!.metadata).to.include({ step: 'submit', index: 4, total: 5 });
    expect(ended!.metadata).to.include({ step: 'submit', index: 4, total: 5 });
    // A reporter told no steps numbers among a deploy's nine.
    await lifecycle.reporter(preflight).stepStarted('submit');
    expect((await sagaLog.forSaga(preflight.id)).at(-1)!.metadata).to.include({ step: 'submit', index: 6, total: 9 });
  });

  it('keeps the current step where it was when its step.start cannot be recorded, and says so to the runner', async () => {
    const d = await running();
    const report = lifecycle.reporter(d);
    await report.stepStarted('clone');
    failOn.add('step.start');
    let error: unknown;
    await report.stepStarted('build').catch((err: unknown) => (error = err));
    expect(String(error)).to.contain('projector refused step.start');
    expect((await history.get(d.id))?.currentStep).to.equal('clone');
  });

  it('finishes a deploy with its outcome once: the record and the last event agree', async () => {
    const d = await running();
    const outcome = { status: 'failed', step: 'submit', error: 'nomad: no answer', outputs: { imageTag: 'r/shop:1' }, durationMs: 1200 } as const;
    expect(await lifecycle.finish(d, outcome)).to.equal(true);
    expect(await history.get(d.id)).to.deep.include({ status: 'failed', error: 'submit: nomad: no answer', imageTag: 'r/shop:1', leaseOwner: null });
    const last = (await sagaLog.forSaga(d.id)).at(-1)!;
    expect(last).to.deep.include({ action: 'deploy.failed', message: 'submit failed: nomad: no answer' });
    expect(await lifecycle.finish(d, { status: 'succeeded', outputs: {}, durationMs: 1 })).to.equal(false);
    expect((await history.get(d.id))?.status).to.equal('failed');
    expect((await actions(d.id)).filter((a) => a.startsWith('deploy.')).slice(-1)).to.deep.equal(['deploy.failed']);
    expect((await Promise.all(sightings)).at(-1)).to.deep.equal({ action: 'deploy.failed', status: 'failed', currentStep: null, eventVisible: true });
  });

  it('keeps a deploy running when its final event cannot be recorded', async () => {
    const d = await running();
    failOn.add('deploy.complete');
    let error: unknown;
    await lifecycle.finish(d, { status: 'succeeded', outputs: {}, durationMs: 1 }).catch((err: unknown) => (error = err));
    expect(String(error)).to.contain('projector refused deploy.complete');
    expect((await history.get(d.id))?.status).to.equal('running');
  });

  it('fails a deploy that could not start, with no step to name', async () => {
    const d = await running();
    expect(await lifecycle.failUnstarted(d, 'app shop is no longer in the apps dir')).to.equal(true);
    expect(await history.get(d.id)).to.deep.include({ status: 'failed', error: 'app shop is no longer in the apps dir' });
    const last = (await sagaLog.forSaga(d.id)).at(-1)!;
    expect(last).to.deep.include({ action: 'deploy.failed', source: 'scheduler', message: 'app shop is no longer in the apps dir' });
    expect(last.metadata).to.deep.equal({ step: null });
  });

  it('interrupts a deploy a dead process left running, naming the step it was in, once', async () => {
    const d = await running();
    await lifecycle.reporter(d).stepStarted('migrate');
    const record = (await history.get(d.id))!;
    expect(await lifecycle.interrupt(record)).to.equal(true);
    expect(await lifecycle.interrupt(record)).to.equal(false);
    expect(await history.get(d.id)).to.deep.include({ status: 'interrupted', error: 'the process running it stopped' });
    const ends = (await sagaLog.forSaga(d.id)).filter((e) => e.action === 'deploy.interrupted');
    expect(ends).to.have.length(1);
    expect(ends[0]!.message).to.equal('interrupted during migrate: the process running this deploy stopped');
    expect(ends[0]!.metadata).to.deep.equal({ step: 'migrate', leaseOwner: 'worker-1' });
  });
});
