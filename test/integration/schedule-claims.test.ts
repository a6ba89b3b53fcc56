// Two receivers sharing one store, each with its own Docker schedule runner (as behind one address on one Docker
// host), on a SQLite file and on a real PostgreSQL: a due minute's run starts once, a run still going on one of them
// is not doubled by the other, and a claim its receiver never closed stops holding the schedule back after the run
// deadline. The runtime is a recording fake whose runs end when the test says.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { infraspecSchema } from '../../src/apps/infraspec-schema.js';
import type { LoadedApp } from '../../src/apps/load-app-specs.js';
import { SagaLog } from '../../src/events/saga-log.js';
import type { OneOffOutcome, OneOffRun, Runtime, RuntimeSource } from '../../src/pipeline/runtime.js';
import { ProcessRuns } from '../../src/runs/process-runs.js';
import { ScheduleClaims } from '../../src/runs/schedule-claims.js';
import { SchedulePauses } from '../../src/runs/schedule-pauses.js';
import { ScheduleRunner } from '../../src/runs/schedule-runner.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { memoryLogger } from '../support/memory-logger.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/services.js';

const STALE_AFTER_MS = 20 * 60_000;

const app: LoadedApp = {
  name: 'shop',
  dir: '/nonexistent/shop',
  file: '/nonexistent/shop/infraspec.yaml',
  warnings: [],
  spec: infraspecSchema.parse({ name: 'shop', image: 'reg/shop:1', processes: { every: { schedule: '* * * * *', command: 'n' } } }),
};

interface Receiver {
  readonly name: string;
  readonly store: Store;
  readonly runner: ScheduleRunner;
  readonly started: string[];
  readonly logLines: string[];
  /** Ends every run this receiver started that is still going. */
  finishRuns(): void;
}

for (const engine of ['sqlite', 'postgres'] as const) describe(`scheduled runs across receivers sharing a store (${engine})`, () => {
  let scratch: ScratchDatabase | undefined;
  let dir: string;
  let receivers: Receiver[];
  let clock: Date;

  const startReceiver = async (name: string): Promise<Receiver> => {
    const store = await createStore(scratch ? { databaseUrl: scratch.url, sqliteFile: '' } : { sqliteFile: path.join(dir, 'norn.sqlite') });
    const started: string[] = [];
    const pending: ((outcome: OneOffOutcome) => void)[] = [];
    const runtime = {
      name: 'docker',
      runOnce: (run: OneOffRun) => {
        started.push(run.process);
        return new Promise<OneOffOutcome>((resolve) => pending.push(resolve));
      },
    } as unknown as Runtime;
    const source: RuntimeSource = { current: async () => runtime, require: async () => runtime };
    const { log, lines } = memoryLogger();
    const runs = new ProcessRuns({ runtime: source, sagaLog: new SagaLog({ knex: store.knex }), currentImage: async () => undefined, log });
    const claims = new ScheduleClaims({ staleAfterMs: STALE_AFTER_MS, keepMs: 24 * 3600_000, receiver: name }, { knex: store.knex, now: () => clock });
    const runner = new ScheduleRunner({ catalog: { list: () => ({ apps: [app], errors: [] }) }, runtime: source, runs, pauses: new SchedulePauses({ knex: store.knex }), claims, log });
    return {
      name,
      store,
      runner,
      started,
      logLines: lines,
      finishRuns: () => pending.splice(0).forEach((end) => end({ exitCode: 0, timedOut: false, logTail: '', durationMs: 1 })),
    };
  };
  const minute = (m: number) => new Date(Date.UTC(2026, 11, 7, 3, m));
  /** Runs every receiver's pass for minute `m` at once, as their timers would. */
  const passAt = async (m: number) => {
    clock = minute(m);
    await Promise.all(receivers.map((r) => r.runner.runDue(minute(m))));
  };
  /** Every receiver's pass has decided its claims when it resolves; the winner's run starts a moment later. */
  const startedRuns = async (count: number) => {
    for (let i = 0; i < 100 && receivers.flatMap((r) => r.started).length < count; i++) await new Promise((r) => setTimeout(r, 20));
    return receivers.flatMap((r) => r.started);
  };
  const settle = async () => {
    for (const r of receivers) r.finishRuns();
    // The claim is closed when the run's promise settles, after the run's saga is recorded.
    for (let i = 0; i < 50; i++) {
      const open = await receivers[0]!.store.knex('schedule_claims').whereNull('ended_at').count({ n: '*' }).first();
      if (Number(open?.n) === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the scheduled runs did not close their claims');
  };

  beforeEach(async () => {
    scratch = engine === 'postgres' ? await createScratchDatabase('norn_claims') : undefined;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-claims-'));
    receivers = [];
    receivers.push(await startReceiver('receiver-a'));
    receivers.push(await startReceiver('receiver-b'));
  });
  afterEach(async () => {
    // A run a pass started may reach the runtime only after the test ended: keep ending runs until the runners stop.
    const ending = setInterval(() => receivers.forEach((r) => r.finishRuns()), 20);
    await Promise.all(receivers.map((r) => r.runner.stop()));
    clearInterval(ending);
    for (const r of receivers) await r.store.close();
    await scratch?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts a due run on one receiver only, and the other says which receiver has it', async () => {
    await passAt(0);
    expect(await startedRuns(1)).to.deep.equal(['every']);
    const idle = receivers.find((r) => r.started.length === 0)!;
    const busy = receivers.find((r) => r.started.length === 1)!;
    expect(idle.logLines.some((l) => l.includes('left to the receiver that claimed it') && l.includes(busy.name))).to.equal(true);
    await settle();
    await passAt(1);
    expect(await startedRuns(2)).to.deep.equal(['every', 'every']);
  });

  it('does not start the next minute\'s run on any receiver while the last one is still going on another', async () => {
    await passAt(0);
    expect(await startedRuns(1)).to.deep.equal(['every']);
    const busy = receivers.find((r) => r.started.length === 1)!;
    const other = receivers.find((r) => r !== busy)!;
    await passAt(1);
    expect(await startedRuns(2)).to.deep.equal(['every']);
    expect(other.logLines.some((l) => l.includes('still running on another receiver') && l.includes(busy.name))).to.equal(true);
    await settle();
    await passAt(2);
    expect(await startedRuns(2)).to.deep.equal(['every', 'every']);
  });

  it('runs again once a claim whose receiver died is older than the run deadline', async () => {
    // A receiver that died mid-run: its claim was never closed.
    await receivers[0]!.store.knex('schedule_claims').insert({ app: 'shop', process: 'every', due_at: minute(0).toISOString(), receiver: 'gone:1', claim_id: 'c-gone', claimed_at: minute(0).toISOString(), ended_at: null });
    await passAt(1);
    expect(await startedRuns(1)).to.deep.equal([]);
    clock = new Date(minute(0).getTime() + STALE_AFTER_MS + 60_000);
    await Promise.all(receivers.map((r) => r.runner.runDue(clock)));
    expect(await startedRuns(1)).to.deep.equal(['every']);
  });

  it('forgets claims older than it keeps', async () => {
    await passAt(0);
    await startedRuns(1);
    await settle();
    clock = new Date(minute(0).getTime() + 25 * 3600_000);
    await Promise.all(receivers.map((r) => r.runner.runDue(clock)));
    const rows = await receivers[0]!.store.knex('schedule_claims').select('due_at');
    expect(rows.map((r: { due_at: string }) => r.due_at)).to.deep.equal([clock.toISOString()]);
  });
});
