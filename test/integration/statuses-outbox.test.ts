// Commit statuses end to end below HTTP: the real saga log, deploy lifecycle, scheduler and pipeline runner, wired to
// the status outbox as the composition root does (wireStatusOutbox), against the forge simulator, on each store.
import { expect } from 'chai';
import type { Knex } from 'knex';
import type { AppSpec } from '../../src/apps/infraspec-schema.js';
import { statusConfigFromEnv } from '../../src/config/status-settings.js';
import { createStatusClients } from '../../src/integrations/forge-status/create-status-clients.js';
import { DeployHistory } from '../../src/deploys/deploy-history.js';
import { DeployLifecycle } from '../../src/deploys/deploy-lifecycle.js';
import { DeployScheduler } from '../../src/deploys/deploy-scheduler.js';
import { SagaLog } from '../../src/events/saga-log.js';
import { runPipeline } from '../../src/pipeline/run-pipeline.js';
import { done, type Step, type StepName } from '../../src/pipeline/step.js';
import { wireStatusOutbox, type WiredStatusOutbox } from '../../src/statuses/wire-status-outbox.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import type { ForgeName } from '../../src/webhooks/forge-adapter.js';
import { ForgeSimulator, type ReceivedStatus } from '../support/forge-simulator.js';
import { memoryLogger } from '../support/memory-logger.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/services.js';
import { expectSubsequence } from '../support/subsequence.js';

const TOKEN = 'forge-token-for-the-simulator';
const PUBLIC_URL = 'https://norn.example.test';

/** One running receiver's worth of the parts: a restart builds a new one on the same store. */
interface Receiver {
  readonly sagaLog: SagaLog;
  readonly lifecycle: DeployLifecycle;
  readonly statuses: WiredStatusOutbox;
  readonly scheduler: DeployScheduler;
  stop(): Promise<void>;
}

const pass = (name: StepName): Step => ({ name, run: async () => done() });
const failing = (name: StepName): Step => ({
  name,
  run: async () => {
    throw new Error('docker build exited 1');
  },
});

/** A clone that lasts until the forge shows the deploy as pending: proves statuses flow while a deploy runs. */
const cloneSeenAtForge = (sim: ForgeSimulator): Step => ({
  name: 'clone',
  run: async ({ commitSha, signal }) => {
    while (!sim.statusesFor(commitSha).some((s) => s.state === 'pending')) {
      if (signal.aborted) throw signal.reason;
      await new Promise((res) => setTimeout(res, 20));
    }
    return done();
  },
});

async function startReceiver(knex: Knex, isPostgres: boolean, sim: ForgeSimulator, logLines: string[], opts: { runScheduler: boolean }): Promise<Receiver> {
  const { log, lines } = memoryLogger();
  const sagaLog = new SagaLog({ knex });
  const settings = statusConfigFromEnv({
    NORN_GITHUB_TOKEN: TOKEN,
    NORN_GITHUB_API_URL: sim.url,
    NORN_GITEA_URL: sim.url,
    NORN_GITEA_TOKEN: TOKEN,
    NORN_STATUS_POLL_INTERVAL_MS: '50',
    NORN_STATUS_RETRY_BASE_MS: '20',
  });
  const statuses = wireStatusOutbox({
    knex,
    sagaLog,
    log,
    config: { publicUrl: PUBLIC_URL, statuses: settings },
    clients: createStatusClients(settings, { log: log.child({ component: 'status-outbox' }), fetch }),
  });
  const lifecycle = new DeployLifecycle({ knex, sagaLog, isPostgres, log });
  const scheduler = new DeployScheduler(
    { maxConcurrent: 2, leaseMs: 30_000, pollIntervalMs: 50 },
    {
      lifecycle,
      history: new DeployHistory({ knex }),
      log,
      execute: async (deploy, signal) => {
        await lifecycle.start(deploy);
        const outcome = await runPipeline(
          { run: deploy, spec: {} as AppSpec, specDir: '/nonexistent', steps: [deploy.app === 'shop' ? cloneSeenAtForge(sim) : pass('clone'), deploy.app === 'broken' ? failing('build') : pass('build')], cleanup: pass('cleanup'), signal },
          { report: lifecycle.reporter(deploy), log, timeoutMs: () => 10_000 },
        );
        await lifecycle.finish(deploy, outcome);
      },
    },
  );
  await statuses.start();
  if (opts.runScheduler) await scheduler.start();
  return {
    sagaLog,
    lifecycle,
    statuses,
    scheduler,
    async stop() {
      await scheduler.stop();
      await statuses.stop();
      logLines.push(...lines);
    },
  };
}

async function push(r: Receiver, knex: Knex, d: { app: string; sha: string; forge: ForgeName }): Promise<string> {
  const { deploy, events } = await knex.transaction((trx) =>
    r.lifecycle.queueIn(trx, { app: d.app, kind: 'deploy', ref: 'refs/heads/main', commitSha: d.sha, trigger: 'push', deliveryId: null, forge: d.forge, repoFullName: 'acme/shop', cloneUrl: 'https://x.test/acme/shop.git', prNumber: null }),
  );
  r.sagaLog.announce(events);
  r.scheduler.wake();
  return deploy.id;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

const shown = (statuses: readonly ReceivedStatus[]) => statuses.map((s) => `${s.state} ${s.description}`);

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe(`commit statuses from a real pipeline (${storeKind})`, function () {
    this.timeout(60_000);
    let store: Store;
    let scratch: ScratchDatabase | undefined;
    let sim: ForgeSimulator;
    let logLines: string[];
    let receivers: Receiver[];

    beforeEach(async () => {
      scratch = storeKind === 'postgres' ? await createScratchDatabase('norn_statuses') : undefined;
      store = await createStore({ databaseUrl: scratch?.url, sqliteFile: ':memory:' });
      sim = await ForgeSimulator.start({ token: TOKEN });
      logLines = [];
      receivers = [];
    });
    afterEach(async () => {
      for (const r of receivers) await r.stop();
      const events = JSON.stringify(await store.knex('saga_events').select());
      expect(events).to.not.contain(TOKEN);
      expect(logLines.join('\n')).to.not.contain(TOKEN);
      await sim.close();
      await store.close();
      await scratch?.drop();
    });

    const start = async (runScheduler = true) => {
      const r = await startReceiver(store.knex, store.client === 'postgres', sim, logLines, { runScheduler });
      receivers.push(r);
      return r;
    };

    it('a successful GitHub deploy ends in success, after pendings in step order, each recorded in the saga', async () => {
      const r = await start();
      const sha = 'a1'.repeat(20);
      const sagaId = await push(r, store.knex, { app: 'shop', sha, forge: 'github' });
      const final = await waitFor('the final status', () => sim.statusesFor(sha).find((s) => s.state !== 'pending'));
      expect(final).to.include({ state: 'success', context: 'norn/deploy/shop', targetUrl: `${PUBLIC_URL}/sagas/${sagaId}` });
      expect(final.description).to.match(/^deployed in \d+\.\ds$/);
      const seen = shown(sim.statusesFor(sha));
      expect(seen.at(-1)).to.equal(`success ${final.description}`);
      expect(seen.length).to.be.at.least(2);
      expect(seen.slice(0, -1).every((s) => s.startsWith('pending '))).to.equal(true);
      // Stale pendings may be skipped while earlier ones are in flight; what is sent keeps the pipeline's order.
      expectSubsequence(['pending queued', 'pending clone 1/9', 'pending build 2/9', 'pending cleanup 9/9'], seen.slice(0, -1));
      await r.statuses.outbox.idle();
      const reported = (await r.sagaLog.forSaga(sagaId)).filter((e) => e.action === 'status.reported');
      expect(reported.map((e) => `${e.metadata.state === 'running' ? 'pending' : e.metadata.state} ${e.metadata.description}`)).to.deep.equal(seen);
    });

    it('a failing Gitea deploy ends in failure naming the step', async () => {
      const r = await start();
      const sha = 'b2'.repeat(20);
      await push(r, store.knex, { app: 'broken', sha, forge: 'gitea' });
      const final = await waitFor('the final status', () => sim.statusesFor(sha).find((s) => s.state !== 'pending'));
      expect(final).to.include({ forge: 'gitea', state: 'failure', description: 'build failed: docker build exited 1', context: 'norn/deploy/broken' });
    });

    it('statuses written while no receiver delivers are delivered after a restart, final state last', async () => {
      const down = await start(false);
      await down.statuses.stop(); // the outbox is down; the deploy still runs and writes its statuses
      await down.scheduler.start();
      const sha = 'c3'.repeat(20);
      const sagaId = await push(down, store.knex, { app: 'offline', sha, forge: 'github' });
      await down.scheduler.idle();
      await down.stop();
      expect(sim.requests).to.deep.equal([]);

      const up = await start(); // a new process: new saga log, new outbox, same store
      const final = await waitFor('the final status', () => sim.statusesFor(sha).find((s) => s.state === 'success'));
      expect(final.targetUrl).to.equal(`${PUBLIC_URL}/sagas/${sagaId}`);
      await up.statuses.outbox.idle();
      expect(shown(sim.statusesFor(sha))).to.deep.equal([`success ${final.description}`]);
    });
  });
}
