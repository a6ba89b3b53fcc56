// What a projector (the commit-status outbox, the PostgreSQL relay) can count on, on both stores: it runs in the
// transaction of every append holding an event it wants, sees only those events, and takes the event down with it
// when it fails. An event nobody projects (a build's progress line, most of the log) is one autocommitted insert,
// which on SQLite shares its commit with the others of the same moment.
import { expect } from 'chai';
import type { SagaAction } from '../../src/events/saga-actions.js';
import type { NewSagaEvent, SagaEvent } from '../../src/events/saga-event.js';
import { SagaLog } from '../../src/events/saga-log.js';
import type { Store } from '../../src/store/create-store.js';
import { withPostgresStore, withSqliteStore } from '../support/scratch-store.js';

const event = (action: SagaAction, message: string): NewSagaEvent => ({ sagaId: 'saga-1', app: 'shop', source: 'test', category: 'deploy', action, message, metadata: {} });

async function projectorContract(store: Store): Promise<void> {
  const sagaLog = new SagaLog({ knex: store.knex });
  const projected: SagaEvent[][] = [];
  let refuse = false;
  sagaLog.addProjector(
    async (trx, events) => {
      projected.push([...events]);
      await trx('saga_events').where({ seq: events[0]!.seq }).first();
      if (refuse) throw new Error('the outbox is full');
    },
    (e) => e.action === 'deploy.complete',
  );
  const announced: number[] = [];
  sagaLog.subscribe((events) => announced.push(...events.map((e) => e.seq)));
  const statements: string[] = [];
  store.knex.on('query', (q: { sql: string }) => statements.push(q.sql.trim().split(/\s+/)[0]!.toLowerCase()));

  const line = await sagaLog.append(event('step.progress', 'Step 3/7 : RUN npm ci'));
  // On SQLite the insert goes straight to the driver, past knex; on PostgreSQL it is the insert that takes the lock.
  expect(statements, 'a progress line').to.deep.equal(store.client === 'postgres' ? ['with'] : []);
  expect(projected, 'the projector saw an event it does not want').to.deep.equal([]);

  statements.length = 0;
  const done = await sagaLog.append(event('deploy.complete', 'deployed'));
  expect(statements[0], 'a projected event opens a transaction').to.match(/^(begin|begin;)$/);
  expect(projected.map((batch) => batch.map((e) => e.seq))).to.deep.equal([[done.seq]]);

  refuse = true;
  const failing = sagaLog.append(event('deploy.complete', 'deployed again'));
  await failing.then(
    () => expect.fail('an append whose projector failed resolved'),
    (err: Error) => expect(err.message).to.equal('the outbox is full'),
  );
  refuse = false;

  // Inside a caller's transaction each projector still gets only what it wants, and the rest is stored with it.
  projected.length = 0;
  const both = await store.knex.transaction((trx) => sagaLog.appendIn(trx, [event('step.progress', 'pushing'), event('deploy.complete', 'deployed')]));
  expect(projected.map((batch) => batch.map((e) => e.message))).to.deep.equal([['deployed']]);

  const stored = (await sagaLog.forSaga('saga-1')).map((e) => e.message);
  expect(stored).to.deep.equal(['Step 3/7 : RUN npm ci', 'deployed', 'pushing', 'deployed']);
  expect(announced, 'announced: the two appends that committed').to.deep.equal([line.seq, done.seq]);
  expect(both).to.have.length(2);

  // A burst of output lines appended at once: each stored and announced once. On SQLite's one connection, in the
  // order they were reported; PostgreSQL's appends run side by side (its live stream restores seq order:
  // commit-order.ts).
  announced.length = 0;
  const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => sagaLog.append({ ...event('step.progress', `line ${i}`), sagaId: 'saga-2' })));
  const seqs = burst.map((e) => e.seq);
  expect(new Set(seqs).size).to.equal(50);
  expect([...announced].sort((a, b) => a - b)).to.deep.equal([...seqs].sort((a, b) => a - b));
  const storedBurst = (await sagaLog.forSaga('saga-2')).map((e) => e.message);
  if (store.client === 'sqlite') {
    expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));
    expect(announced).to.deep.equal(seqs);
    expect(storedBurst).to.deep.equal(burst.map((_, i) => `line ${i}`));
  } else {
    expect([...storedBurst].sort()).to.deep.equal(burst.map((_, i) => `line ${i}`).sort());
  }
}

describe('saga log projectors', function () {
  this.timeout(30_000);

  it('on SQLite: run in the transaction of the events they want only, and a progress line is one insert', () => withSqliteStore(projectorContract));

  it('on PostgreSQL: the same, the lone insert still taking its seq lock', () => withPostgresStore('norn_projectors', projectorContract));
});
