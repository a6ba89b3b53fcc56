// An operator's verb leaves one saga that says what was asked and how it ended, and a failure keeps its error.
import { expect } from 'chai';
import type { NewSagaEvent } from '../../../src/events/saga-event.js';
import { recordOperation } from '../../../src/operations/operation-saga.js';

function logStandIn() {
  const events: NewSagaEvent[] = [];
  return { events, append: async (e: NewSagaEvent) => (events.push(e), { ...e, id: String(events.length), seq: events.length, timestamp: '' }) };
}

describe('recordOperation', () => {
  it('records start, progress and completion under one new saga id, and returns the result', async () => {
    const log = logStandIn();
    const { sagaId, result } = await recordOperation(log, { app: 'shop', verb: 'scale', summary: 'scale web to 3', metadata: { process: 'web', count: 3 } }, async (report) => {
      await report('web: 1 → 3 instances');
      return { message: 'web scaled from 1 to 3', result: 3 };
    });
    expect(result).to.equal(3);
    expect(log.events.map((e) => e.action)).to.deep.equal(['operation.start', 'operation.progress', 'operation.complete']);
    expect(new Set(log.events.map((e) => e.sagaId))).to.deep.equal(new Set([sagaId]));
    expect(log.events[0]).to.include({ app: 'shop', category: 'operation', message: 'scale: scale web to 3' });
    expect(log.events[0]!.metadata).to.include({ verb: 'scale', process: 'web', count: 3 });
    expect(log.events[2]!.message).to.equal('web scaled from 1 to 3');
  });

  it('records a failure with its message and rethrows the same error', async () => {
    const log = logStandIn();
    const boom = new Error('the engine refused: no such container');
    let thrown: unknown;
    await recordOperation(log, { app: 'shop', verb: 'restart', summary: 'restart web' }, async () => {
      throw boom;
    }).catch((err: unknown) => (thrown = err));
    expect(thrown).to.equal(boom);
    expect(log.events.map((e) => e.action)).to.deep.equal(['operation.start', 'operation.failed']);
    expect(log.events[1]!.message).to.equal('restart failed: the engine refused: no such container');
  });
});
