// The status outbox on a real store (SQLite in memory, real migrations), the real saga log, deploy lifecycle and
// projector, and the real GitHub and Gitea clients talking to the forge simulator. Deploys are driven through the
// lifecycle the way the scheduler and the pipeline runner do.
import { expect } from 'chai';
import { DeployLifecycle } from '../../../src/deploys/deploy-lifecycle.js';
import type { DeployRecord } from '../../../src/deploys/deploy-record.js';
import { SagaLog } from '../../../src/events/saga-log.js';
import { GiteaStatusClient } from '../../../src/integrations/gitea/gitea-status-client.js';
import { GitHubStatusClient } from '../../../src/integrations/github/github-status-client.js';
import type { StatusClient } from '../../../src/integrations/forge-status/status-client.js';
import { StatusOutbox, type StatusOutboxConfig } from '../../../src/statuses/status-outbox.js';
import { projectStatuses } from '../../../src/statuses/status-projector.js';
import type { StepName } from '../../../src/pipeline/step.js';
import { createStore, type Store } from '../../../src/store/create-store.js';
import type { ForgeName } from '../../../src/webhooks/forge-adapter.js';
import { ForgeSimulator } from '../../support/forge-simulator.js';
import { memoryLogger } from '../../support/memory-logger.js';

export const TOKEN = 'ghp_simulated0123456789';
export const PUBLIC_URL = 'https://norn.example.test';

export interface Harness {
  readonly store: Store;
  readonly sagaLog: SagaLog;
  readonly lifecycle: DeployLifecycle;
  readonly sim: ForgeSimulator;
  readonly logLines: string[];
  /** A new deliverer on the same store (a restart is a new one). */
  newOutbox(): StatusOutbox;
  close(): Promise<void>;
}

export async function startHarness(opts: { clientToken?: string; repos?: string[]; config?: Partial<StatusOutboxConfig> } = {}): Promise<Harness> {
  const store = await createStore({ sqliteFile: ':memory:' });
  const sagaLog = new SagaLog({ knex: store.knex });
  const sim = await ForgeSimulator.start({ token: TOKEN, repos: opts.repos });
  const { log, lines } = memoryLogger();
  const lifecycle = new DeployLifecycle({ knex: store.knex, sagaLog, isPostgres: false, log });
  const token = opts.clientToken ?? TOKEN;
  const clients: Record<string, StatusClient> = {
    github: new GitHubStatusClient({ token, apiUrl: sim.url, timeoutMs: 2000, minWriteIntervalMs: 0 }, { log }),
    gitea: new GiteaStatusClient({ url: sim.url, token, timeoutMs: 2000 }, { fetch }),
  };
  projectStatuses(sagaLog, { publicUrl: PUBLIC_URL, forges: new Set(Object.keys(clients)) });
  const config: StatusOutboxConfig = { pollIntervalMs: 50, retryBaseMs: 20, retryMaxMs: 100, giveUpAfterMs: 3600_000, requestTimeoutMs: 2000, ...opts.config };
  const outboxes: StatusOutbox[] = [];
  return {
    store,
    sagaLog,
    lifecycle,
    sim,
    logLines: lines,
    newOutbox() {
      const o = new StatusOutbox(config, { knex: store.knex, sagaLog, log, clients });
      outboxes.push(o);
      return o;
    },
    async close() {
      for (const o of outboxes) await o.stop();
      await sim.close();
      await store.close();
    },
  };
}

export interface DeployInput {
  readonly sha: string;
  readonly app?: string;
  readonly forge?: ForgeName | null;
  readonly repo?: string | null;
  readonly kind?: 'deploy' | 'preflight';
  readonly trigger?: 'push' | 'manual';
}

/** Queues a deploy as the webhook receiver does (deploy.queued in the delivery's transaction); returns its saga id. */
export async function enqueue(h: Harness, d: DeployInput): Promise<string> {
  const forge = d.forge === undefined ? 'github' : d.forge;
  const claimed = await h.store.knex.transaction((trx) =>
    h.lifecycle.queueIn(trx, {
      app: d.app ?? 'shop',
      kind: d.kind ?? 'deploy',
      ref: 'refs/heads/main',
      commitSha: d.sha,
      trigger: d.trigger ?? 'push',
      deliveryId: null,
      forge,
      repoFullName: d.repo === undefined ? (forge ? 'acme/shop' : null) : d.repo,
      cloneUrl: 'https://forge.example.test/acme/shop.git',
      prNumber: d.kind === 'preflight' ? 7 : null,
    }),
  );
  h.sagaLog.announce(claimed.events);
  return claimed.deploy.id;
}

export async function claim(h: Harness): Promise<DeployRecord> {
  const claimed = await h.lifecycle.claimNext('test-worker', 60_000);
  if (!claimed) throw new Error('nothing to claim');
  return claimed;
}

/** step.start as the pipeline runner reports it. */
export async function startStep(h: Harness, d: DeployRecord, step: StepName): Promise<void> {
  await h.lifecycle.reporter(d).stepStarted(step);
}

export async function succeed(h: Harness, d: DeployRecord): Promise<void> {
  await h.lifecycle.finish(d, { status: 'succeeded', outputs: {}, durationMs: 4200 });
}

export async function fail(h: Harness, d: DeployRecord, step: StepName, error: string): Promise<void> {
  await h.lifecycle.finish(d, { status: 'failed', step, error, outputs: {}, durationMs: 1000 });
}

/** Waits until the simulator accepted `n` statuses. */
export async function received(h: Harness, n: number, timeoutMs = 5000): Promise<void> {
  await until(() => `${n} statuses at the forge (got ${JSON.stringify(h.sim.received.map((s) => `${s.state} ${s.description}`))})`, () => h.sim.received.length >= n, timeoutMs);
}

export async function until(what: string | (() => string), check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function sagaActions(h: Harness, sagaId: string, prefix = 'status.'): Promise<{ action: string; message: string; metadata: Record<string, unknown> }[]> {
  return (await h.sagaLog.forSaga(sagaId)).filter((e) => e.action.startsWith(prefix)).map((e) => ({ action: e.action, message: e.message, metadata: { ...e.metadata } }));
}

/** No token in any saga event or log line: checked after every outbox test. */
export async function expectNoToken(h: Harness, ...tokens: string[]): Promise<void> {
  const events = JSON.stringify(await h.sagaLog.recent({ limit: 100_000 }));
  const rows = JSON.stringify(await h.store.knex('status_outbox'));
  for (const t of [TOKEN, ...tokens]) {
    expect(events, 'a token in the saga log').to.not.contain(t);
    expect(rows, 'a token in the outbox').to.not.contain(t);
    expect(h.logLines.join('\n'), 'a token in the logs').to.not.contain(t);
  }
}
