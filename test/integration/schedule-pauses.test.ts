// The Docker schedule runner against the store's pauses, on SQLite and on a real PostgreSQL (real migrations): a
// paused schedule does not run when due, the others of the app still do, and a resumed one runs again. The runtime
// is a recording fake.
import { expect } from 'chai';
import { infraspecSchema } from '../../src/apps/infraspec-schema.js';
import type { LoadedApp } from '../../src/apps/load-app-specs.js';
import { SagaLog } from '../../src/events/saga-log.js';
import type { OneOffRun, Runtime, RuntimeSource } from '../../src/pipeline/runtime.js';
import { ProcessRuns } from '../../src/runs/process-runs.js';
import { ScheduleClaims } from '../../src/runs/schedule-claims.js';
import { SchedulePauses } from '../../src/runs/schedule-pauses.js';
import { ScheduleRunner } from '../../src/runs/schedule-runner.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { memoryLogger } from '../support/memory-logger.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/services.js';

for (const engine of ['sqlite', 'postgres'] as const) describe(`ScheduleRunner and paused schedules (${engine})`, () => {
  let store: Store;
  let scratch: ScratchDatabase | undefined;
  let started: string[];
  let runner: ScheduleRunner;
  let pauses: SchedulePauses;

  const app: LoadedApp = {
    name: 'shop',
    dir: '/nonexistent/shop',
    file: '/nonexistent/shop/infraspec.yaml',
    warnings: [],
    spec: infraspecSchema.parse({
      name: 'shop',
      image: 'reg/shop:1',
      processes: { nightly: { schedule: '0 3 * * *', command: 'n' }, report: { schedule: '0 3 * * *', command: 'r' } },
    }),
  };
  const due = new Date('2026-12-07T03:00:00Z');

  beforeEach(async () => {
    scratch = engine === 'postgres' ? await createScratchDatabase('norn_pauses') : undefined;
    store = await createStore(scratch ? { databaseUrl: scratch.url, sqliteFile: '' } : { sqliteFile: ':memory:' });
    started = [];
    const runtime = {
      name: 'docker',
      runOnce: async (run: OneOffRun) => {
        started.push(run.process);
        return { exitCode: 0, timedOut: false, logTail: '', durationMs: 1 };
      },
    } as unknown as Runtime;
    const source: RuntimeSource = { current: async () => runtime, require: async () => runtime };
    const { log } = memoryLogger();
    const sagaLog = new SagaLog({ knex: store.knex });
    const runs = new ProcessRuns({ runtime: source, sagaLog, currentImage: async () => undefined, log });
    pauses = new SchedulePauses({ knex: store.knex });
    const claims = new ScheduleClaims({ staleAfterMs: 60_000, keepMs: 3600_000 }, { knex: store.knex, now: () => due });
    runner = new ScheduleRunner({ catalog: { list: () => ({ apps: [app], errors: [] }) }, runtime: source, runs, pauses, claims, log });
  });
  afterEach(async () => {
    await runner.stop();
    await store.close();
    await scratch?.drop();
  });

  it('skips a paused schedule when it is due and runs the others', async () => {
    expect(await pauses.pause('shop', 'nightly', { sagaId: 'saga-1', at: due })).to.equal(true);
    await runner.runDue(due);
    await runner.stop();
    expect(started).to.deep.equal(['report']);
  });

  it('runs it again once resumed; a second pause or resume changes nothing', async () => {
    await pauses.pause('shop', 'nightly', { sagaId: 'saga-1', at: due });
    expect(await pauses.pause('shop', 'nightly', { sagaId: 'saga-2', at: due })).to.equal(false);
    expect((await pauses.find('shop', 'nightly'))?.sagaId).to.equal('saga-1');
    expect(await pauses.resume('shop', 'nightly')).to.equal(true);
    expect(await pauses.resume('shop', 'nightly')).to.equal(false);
    await runner.runDue(due);
    await runner.stop();
    expect(started.sort()).to.deep.equal(['nightly', 'report']);
  });
});
