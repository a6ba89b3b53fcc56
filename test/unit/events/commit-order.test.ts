// CommitOrder's bookkeeping with a log stand-in: repeats are dropped, events from before start pass through,
// a gap is waited out only as long as its state allows, and a jump in seq does not stall the stream.
import { expect } from 'chai';
import { CommitOrder } from '../../../src/events/commit-order.js';
import type { SagaEvent } from '../../../src/events/saga-event.js';
import type { SeqState } from '../../../src/events/saga-log.js';
import { memoryLogger } from '../../support/memory-logger.js';

const event = (seq: number): SagaEvent => ({ id: `e${seq}`, sagaId: 's', seq, timestamp: '2026-01-01T00:00:00Z', source: 't', app: 'a', category: 'c', action: 'step.progress', message: `m${seq}`, metadata: {} });

/** A saga log whose seq states the test sets; what it announces goes to CommitOrder's subscription. */
class LogStandIn {
  states = new Map<number, SeqState>();
  committed = new Map<number, SagaEvent>();
  listener?: (events: readonly SagaEvent[]) => void;
  constructor(private readonly last: number) {}
  lastSeq = async () => this.last;
  seqStates = async (seqs: readonly number[]) => new Map(seqs.map((s) => [s, this.committed.has(s) ? 'committed' : (this.states.get(s) ?? 'absent')] as const));
  bySeqs = async (seqs: readonly number[]) => seqs.flatMap((s) => (this.committed.has(s) ? [this.committed.get(s)!] : []));
  subscribe = (l: (events: readonly SagaEvent[]) => void) => {
    this.listener = l;
    return () => undefined;
  };
}

describe('CommitOrder', () => {
  let log: LogStandIn;
  let order: CommitOrder;
  let out: number[];
  let clock: number;

  const start = async (last = 10) => {
    log = new LogStandIn(last);
    clock = 0;
    order = new CommitOrder({ graceMs: 100, maxHoldMs: 1000, pollMs: 5 }, { sagaLog: log, log: memoryLogger().log, now: () => clock });
    await order.start();
    out = [];
    order.subscribe((events) => out.push(...events.map((e) => e.seq)));
  };
  /** Moves the stand-in clock in 50 ms steps until `done`; gives the stand-in time it took (real time is slack). */
  const passTimeUntil = async (done: () => boolean) => {
    const from = clock;
    while (!done()) {
      if (clock - from > 10_000) throw new Error('not done after 10 s of stand-in time');
      clock += 50;
      await new Promise((r) => setTimeout(r, 10));
    }
    return clock - from;
  };
  afterEach(() => order.stop());

  it('sends events in seq order whatever order they arrive in, and drops repeats', async () => {
    await start();
    order.accept([event(13)]);
    order.accept([event(11)]);
    expect(out).to.deep.equal([11]);
    order.accept([event(12), event(11)]);
    order.accept([event(13)]);
    expect(out).to.deep.equal([11, 12, 13]);
    expect(order.horizon).to.equal(13);
  });

  it('passes on an event from before start that arrives late, once', async () => {
    await start(10);
    order.accept([event(9)]);
    order.accept([event(11)]);
    expect(out).to.deep.equal([9, 11]);
  });

  it('waits out an open transaction up to maxHoldMs, an absent seq only for the grace period', async () => {
    await start(10);
    log.states.set(11, 'in-flight');
    order.accept([event(12)]);
    expect(await passTimeUntil(() => out.length === 1)).to.be.at.least(1000);
    expect(out).to.deep.equal([12]);

    log.states.set(13, 'absent');
    order.accept([event(14)]);
    const waited = await passTimeUntil(() => out.length === 2);
    expect(waited).to.be.at.least(100).and.below(1000);
    expect(out).to.deep.equal([12, 14]);
  });

  it('reads a committed event it was never told about', async () => {
    await start(10);
    log.committed.set(11, event(11));
    order.accept([event(12)]);
    await passTimeUntil(() => out.length === 2);
    expect(out).to.deep.equal([11, 12]);
  });

  it('takes a jump of more than 10,000 seqs whole instead of checking each one', async () => {
    await start(10);
    order.accept([event(50_000)]);
    await passTimeUntil(() => out.length === 1);
    expect(out).to.deep.equal([50_000]);
  });
});
