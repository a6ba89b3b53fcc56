// On PostgreSQL, transactions commit out of seq order. Live clients must still get saga events in seq order and a
// client resuming with since= must not skip one that committed late: the failure this guards against is a
// client that saw seq 10, reconnected with since=10, and never saw seq 9.
import { expect } from 'chai';
import type { Knex } from 'knex';
import { CommitOrder } from '../../src/events/commit-order.js';
import { LiveHub } from '../../src/events/live-hub.js';
import type { SagaEvent } from '../../src/events/saga-event.js';
import { SagaLog } from '../../src/events/saga-log.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { memoryLogger } from '../support/memory-logger.js';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from '../support/services.js';
import { eventually } from '../support/test-service.js';
import { RecordingSocket } from '../fakes/recording-socket.js';

/** A transaction left open after appending one event, to commit or roll back when the test says. */
interface OpenAppend {
  readonly event: SagaEvent;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

async function openAppend(knex: Knex, sagaLog: SagaLog, message: string): Promise<OpenAppend> {
  const trx = await knex.transaction();
  const [event] = await sagaLog.appendIn(trx, [{ sagaId: 's', app: 'shop', source: 'test', category: 'c', action: 'step.progress', message, metadata: {} }]);
  return {
    event: event!,
    async commit() {
      await trx.commit();
      sagaLog.announce([event!]);
    },
    rollback: () => trx.rollback().then(() => undefined),
  };
}

/** Waits until `ok` holds, through the tests' shared polling helper. */
const until = (what: string, ok: () => boolean, ms = 3000) => eventually(what, async () => ok() || undefined, ms);

describe('saga events in commit order on PostgreSQL', function () {
  this.timeout(20_000);
  let scratch: ScratchDatabase;
  let store: Store;
  let sagaLog: SagaLog;
  let order: CommitOrder;
  let out: number[];

  beforeEach(async () => {
    await requirePostgres();
    scratch = await createScratchDatabase('norn_commit_order');
    store = await createStore({ databaseUrl: scratch.url, sqliteFile: ':memory:' });
    sagaLog = new SagaLog({ knex: store.knex });
    order = new CommitOrder({ graceMs: 200, maxHoldMs: 1500, pollMs: 20 }, { sagaLog, log: memoryLogger().log });
    await order.start();
    out = [];
    order.subscribe((events) => out.push(...events.map((e) => e.seq)));
  });
  afterEach(async () => {
    order.stop();
    await store.close();
    await scratch.drop();
  });

  it('holds an event that committed first until the lower seq still open commits, then sends both in seq order', async () => {
    const first = await openAppend(store.knex, sagaLog, 'first');
    const second = await openAppend(store.knex, sagaLog, 'second');
    expect(second.event.seq).to.equal(first.event.seq + 1);
    await second.commit();
    await new Promise((r) => setTimeout(r, 400)); // longer than the grace: an open transaction is never skipped
    expect(out).to.deep.equal([]);
    expect(order.horizon).to.equal(first.event.seq - 1);
    await first.commit();
    expect(out).to.deep.equal([first.event.seq, second.event.seq]);
  });

  it('stops holding events behind a transaction open too long, and sends its event late if it commits', async () => {
    const stuck = await openAppend(store.knex, sagaLog, 'stuck');
    const next = await openAppend(store.knex, sagaLog, 'next');
    await next.commit();
    await until('the event after the stuck one', () => out.length === 1, 5000);
    expect(out).to.deep.equal([next.event.seq]);
    await stuck.commit();
    expect(out).to.deep.equal([next.event.seq, stuck.event.seq]);
  });

  it('skips a seq whose transaction rolled back, after the grace period', async () => {
    const doomed = await openAppend(store.knex, sagaLog, 'doomed');
    const kept = await openAppend(store.knex, sagaLog, 'kept');
    await kept.commit();
    await doomed.rollback();
    await until('the event after the rolled-back seq', () => out.length === 1);
    expect(out).to.deep.equal([kept.event.seq]);
    expect(order.horizon).to.equal(kept.event.seq);
  });

  it('reads a committed event from the log when its announcement never comes (a notice lost with a connection)', async () => {
    const trx = await store.knex.transaction();
    const [silent] = await sagaLog.appendIn(trx, [{ sagaId: 's', app: 'shop', source: 'test', category: 'c', action: 'step.progress', message: 'silent', metadata: {} }]);
    await trx.commit(); // no announce
    const next = await openAppend(store.knex, sagaLog, 'next');
    await next.commit();
    await until('both events', () => out.length === 2);
    expect(out).to.deep.equal([silent!.seq, next.event.seq]);
  });

  it('lets a client that resumes with since= while a lower seq is open get it, and everything after, once', async () => {
    const hub = new LiveHub({ maxBufferedBytes: 1 << 20, maxReplay: 100 }, { sagaLog, log: memoryLogger().log, ordered: order });
    const before = await openAppend(store.knex, sagaLog, 'before');
    await before.commit();
    const open = await openAppend(store.knex, sagaLog, 'open');
    const committedLater = await openAppend(store.knex, sagaLog, 'committed later');
    await committedLater.commit();
    // The client last saw `before` and resumes now: seq open+1 is in the log, seq `open` is not yet.
    const client = new RecordingSocket();
    await hub.add(client, { since: before.event.seq });
    expect(client.seqs).to.deep.equal([]);
    await open.commit();
    const after = await openAppend(store.knex, sagaLog, 'after');
    await after.commit();
    expect(client.seqs).to.deep.equal([open.event.seq, committedLater.event.seq, after.event.seq]);
  });

  it('keeps seq order for many concurrent appenders', async () => {
    const appenders = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 25; i++) await sagaLog.append({ sagaId: `s${w}`, app: 'shop', source: 'test', category: 'c', action: 'step.progress', message: `${w}/${i}`, metadata: {} });
    });
    await Promise.all(appenders);
    await until('all 200 events', () => out.length === 200);
    expect(out).to.deep.equal([...out].sort((a, b) => a - b));
    expect(new Set(out).size).to.equal(200);
  });
});
