// The runner behind `norn scale` and `norn restart`: the API gets the saga id before the work ends, one verb runs
// per app at a time, and a shutdown aborts what runs and still ends its saga.
import { expect } from 'chai';
import { InvalidInputError } from '../../../src/errors.js';
import type { NewSagaEvent, SagaEvent } from '../../../src/events/saga-event.js';
import { OperationRunner } from '../../../src/operations/operation-runner.js';
import { memoryLogger } from '../../support/memory-logger.js';

function recordingLog() {
  const events: NewSagaEvent[] = [];
  const append = async (e: NewSagaEvent): Promise<SagaEvent> => {
    events.push(e);
    return { ...e, id: String(events.length), seq: events.length, timestamp: new Date().toISOString() };
  };
  return { events, sagaLog: { append } };
}

describe('OperationRunner', () => {
  it('answers with the saga id while the work still runs, and refuses a second verb on the same app until it ends', async () => {
    const { events, sagaLog } = recordingLog();
    const runner = new OperationRunner({ sagaLog, log: memoryLogger().log });
    let finish!: () => void;
    const sagaId = await runner.start({ app: 'shop', verb: 'restart', summary: 'restart web' }, async (report) => {
      await report('restarting web-1');
      await new Promise<void>((resolve) => (finish = resolve));
      return { message: 'restarted 1', result: null };
    });
    expect(sagaId).to.match(/^[0-9a-f-]{36}$/);
    expect(runner.isBusy('shop')).to.equal(true);
    expect(() => runner.start({ app: 'shop', verb: 'scale', summary: 'scale web to 2' }, async () => ({ message: '', result: null })))
      .to.throw(InvalidInputError)
      .with.property('status', 409);
    // Another app is not held up.
    await runner.start({ app: 'blog', verb: 'scale', summary: 'scale web to 2' }, async () => ({ message: 'scaled', result: null }));
    finish();
    await runner.close();
    expect(runner.isBusy('shop')).to.equal(false);
    expect(events.filter((e) => e.sagaId === sagaId).map((e) => e.action)).to.deep.equal(['operation.start', 'operation.progress', 'operation.complete']);
  });

  it('aborts running work on close, and its saga ends failed with the reason', async () => {
    const { events, sagaLog } = recordingLog();
    const runner = new OperationRunner({ sagaLog, log: memoryLogger().log });
    const sagaId = await runner.start({ app: 'shop', verb: 'scale', summary: 'scale web to 3' }, (_report, signal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    await runner.close();
    const end = events.filter((e) => e.sagaId === sagaId).at(-1)!;
    expect(end.action).to.equal('operation.failed');
    // What happened, and what the operator does next.
    expect(end.message).to.equal('scale failed: the receiver shut down while it ran, so it may have stopped part way; check what runs (norn status shop) and run it again');
  });

  it('rejects, starting nothing, when the saga cannot be written', async () => {
    const runner = new OperationRunner({ sagaLog: { append: async (): Promise<SagaEvent> => Promise.reject(new Error('disk full')) }, log: memoryLogger().log });
    let ran = false;
    const err = await runner.start({ app: 'shop', verb: 'restart', summary: 'restart' }, async () => {
      ran = true;
      return { message: '', result: null };
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error).with.property('message').that.matches(/could not be recorded/);
    expect(ran).to.equal(false);
    expect(runner.isBusy('shop')).to.equal(false);
  });
});
