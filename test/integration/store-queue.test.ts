// The store on both engines: the saga log's order and replay, the queue's lanes (one running per app, newest
// queued wins, older ones superseded), leases and recovery of deploys a dead process left running.
import { expect } from 'chai';
import type { DeployHistory } from '../../src/deploys/deploy-history.js';
import type { DeployLifecycle, NewDeploy } from '../../src/deploys/deploy-lifecycle.js';
import type { DeployRecord } from '../../src/deploys/deploy-record.js';
import { DeployScheduler } from '../../src/deploys/deploy-scheduler.js';
import type { SagaLog } from '../../src/events/saga-log.js';
import type { SagaEvent } from '../../src/events/saga-event.js';
import { deployInput, openDeployQueueStore, type DeployQueueStore } from '../support/deploy-queue-store.js';
import { memoryLogger } from '../support/memory-logger.js';

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`store and queue (${engine})`, function () {
    let queue: DeployQueueStore | undefined;
    let sagaLog: SagaLog;
    let lifecycle: DeployLifecycle;
    let history: DeployHistory;

    beforeEach(async () => {
      queue = await openDeployQueueStore(engine, 'norn_store');
      ({ sagaLog, lifecycle, history } = queue);
    });
    afterEach(async () => {
      await queue?.close();
      queue = undefined;
    });

    const enqueue = (i: NewDeploy) => lifecycle.queue(i);

    it('keeps the saga log in append order and replays exactly what came after a sequence number', async () => {
      const seen: SagaEvent[] = [];
      sagaLog.subscribe((events) => seen.push(...events));
      for (let i = 0; i < 20; i++) {
        await sagaLog.append({ sagaId: `s${i % 3}`, app: i % 2 ? 'a' : 'b', source: 'test', category: 'c', action: 'step.progress', message: `m${i}`, metadata: { i } });
      }
      const all = await sagaLog.recent({ limit: 100 });
      expect(all.map((e) => e.message)).to.deep.equal(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(seen.map((e) => e.seq)).to.deep.equal(all.map((e) => e.seq));
      const cut = all[9]!.seq;
      expect((await sagaLog.since(cut, { limit: 100 })).map((e) => e.message)).to.deep.equal(all.slice(10).map((e) => e.message));
      expect((await sagaLog.since(cut, { app: 'a', limit: 100 })).every((e) => e.app === 'a')).to.equal(true);
      expect((await sagaLog.forSaga('s1')).map((e) => e.metadata.i)).to.deep.equal([1, 4, 7, 10, 13, 16, 19]);
    });

    it('runs the newest queued deploy of an app and supersedes the older ones, recording why', async () => {
      const a = await enqueue(deployInput('shop', 'a'));
      const b = await enqueue(deployInput('shop', 'b'));
      const c = await enqueue(deployInput('shop', 'c'));
      const claimed = await lifecycle.claimNext('worker-1', 30_000);
      expect(claimed?.id).to.equal(c.id);
      for (const old of [a, b]) {
        const d = await history.get(old.id);
        expect(d?.status).to.equal('superseded');
        const events = await sagaLog.forSaga(old.id);
        expect(events.map((e) => e.action)).to.deep.equal(['deploy.queued', 'deploy.superseded']);
        expect(events[1]!.message).to.contain(c.id);
      }
    });

    it('never runs two deploys of one app at once, but runs other apps and preflight lanes alongside', async () => {
      await enqueue(deployInput('shop', 'a'));
      const first = await lifecycle.claimNext('w', 30_000);
      const later = await enqueue(deployInput('shop', 'b'));
      const other = await enqueue(deployInput('blog', 'c'));
      const preflight = await enqueue(deployInput('shop', 'd', { kind: 'preflight', prNumber: 7 }));
      const claims = [await lifecycle.claimNext('w', 30_000), await lifecycle.claimNext('w', 30_000), await lifecycle.claimNext('w', 30_000)];
      expect(first).to.not.equal(undefined);
      expect(claims.map((c) => c?.id).filter(Boolean).sort()).to.deep.equal([other.id, preflight.id].sort());
      expect((await history.get(later.id))?.status).to.equal('queued');
      await lifecycle.finish(first!, { status: 'succeeded', outputs: {}, durationMs: 1 });
      expect((await lifecycle.claimNext('w', 30_000))?.id).to.equal(later.id);
    });

    it('takes the last good image from deploys only: a later preflight that passed built an image nothing runs', async () => {
      const done = async (deploy: DeployRecord | undefined, imageTag: string) => lifecycle.finish(deploy!, { status: 'succeeded', outputs: { imageTag }, durationMs: 1 });
      await enqueue(deployInput('shop', 'a'));
      await done(await lifecycle.claimNext('w', 30_000), 'reg/shop:aaaa');
      await enqueue(deployInput('shop', 'b', { kind: 'preflight', trigger: 'manual', forge: null, repoFullName: null }));
      await done(await lifecycle.claimNext('w', 30_000), 'shop:bbbb');
      expect(await history.lastSucceededImage('shop')).to.equal('reg/shop:aaaa');
    });

    it('claims each deploy once when workers race for it', async () => {
      for (const app of ['a1', 'a2', 'a3', 'a4']) await enqueue(deployInput(app, 'e'));
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => lifecycle.claimNext(`w${i}`, 30_000)));
      const ids = results.filter(Boolean).map((r) => r!.id);
      expect(new Set(ids).size).to.equal(ids.length);
      const counts = await history.countByStatus();
      expect(counts.running).to.equal(4);
    });

    it('on stop, lets a claim already in flight finish and aborts that deploy before returning', async () => {
      const d = await enqueue(deployInput('shop', 'a'));
      let claimStarted!: () => void;
      const claiming = new Promise<void>((r) => (claimStarted = r));
      // A lifecycle whose claim is slow, so stop() lands while the scheduling pass is waiting for it.
      const slowLifecycle = Object.create(lifecycle) as DeployLifecycle;
      slowLifecycle.claimNext = async (owner, leaseMs) => {
        claimStarted();
        await new Promise((r) => setTimeout(r, 100));
        return lifecycle.claimNext(owner, leaseMs);
      };
      const ran: string[] = [];
      const scheduler = new DeployScheduler(
        { maxConcurrent: 1, leaseMs: 30_000, pollIntervalMs: 60_000 },
        {
          lifecycle: slowLifecycle,
          history,
          log: memoryLogger().log,
          execute: async (deploy, signal) => {
            ran.push(deploy.id);
            await new Promise((r) => (signal.aborted ? r(undefined) : signal.addEventListener('abort', r)));
            await lifecycle.finish(deploy, { status: 'interrupted', step: 'clone', error: String(signal.reason), outputs: {}, durationMs: 1 });
          },
        },
      );
      await scheduler.start();
      await claiming;
      await scheduler.stop();
      expect(ran).to.deep.equal([d.id]);
      expect((await history.get(d.id))?.status).to.equal('interrupted');
    });

    it('ends as interrupted, with an event, a deploy whose process died mid-run', async () => {
      const d = await enqueue(deployInput('shop', 'f'));
      // A lease held by a process on this host that no longer exists.
      const claimed = await lifecycle.claimNext(`${(await import('node:os')).hostname()}:999999:dead`, 30_000);
      await lifecycle.reporter(claimed!).stepStarted('clone');
      const { log } = memoryLogger();
      const interrupted: string[] = [];
      const scheduler = new DeployScheduler(
        { maxConcurrent: 2, leaseMs: 30_000, pollIntervalMs: 50 },
        { lifecycle, history, log, execute: async () => undefined, onInterrupted: async (x) => void interrupted.push(x.id) },
      );
      await scheduler.start();
      await scheduler.stop();
      expect((await history.get(d.id))?.status).to.equal('interrupted');
      const last = (await sagaLog.forSaga(d.id)).at(-1)!;
      expect(last.action).to.equal('deploy.interrupted');
      expect(last.message).to.contain('during clone');
      expect(interrupted).to.deep.equal([d.id]);
    });

    it('interrupts a deploy whose lease ran out, even when its owner is elsewhere', async () => {
      const d = await enqueue(deployInput('shop', '1'));
      await lifecycle.claimNext('another-host:1:x', 1);
      await new Promise((r) => setTimeout(r, 20));
      const abandoned = await history.abandoned(() => false);
      expect(abandoned.map((x) => x.id)).to.deep.equal([d.id]);
    });
  });
}
