// Hands saga events on in seq order on PostgreSQL, where concurrent transactions commit out of seq order. Without
// it, a client could get seq 10 before seq 9, remember 10, reconnect with since=10 and never see 9. Events are
// released only when every lower seq has been released or is known never to come (see SagaLog.seqStates): a gap
// whose transaction is still open holds later events back until it ends; a rolled-back seq is skipped after a
// short grace; a committed event whose notice has not arrived (say, a relay connection that dropped it) is read
// from the log. `horizon` is the highest seq released, the point up to which a `since=` replay is complete.
// A transaction that stays open too long (a receiver cut off from the network mid-append, which PostgreSQL may
// not notice for hours) must not stall every live stream: after `maxHoldMs` its seq is passed over, and its event,
// if it ever commits, is sent late and out of order.
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { SagaEvent } from './saga-event.js';
import type { SagaLog, SeqState } from './saga-log.js';

export interface CommitOrderConfig {
  /** How long an absent seq (no row, no lock) is waited for before it counts as rolled back. */
  readonly graceMs: number;
  /** How long a seq whose transaction is still open may hold later events back. */
  readonly maxHoldMs: number;
  /** How often open gaps are looked at again. */
  readonly pollMs: number;
}

type Listener = (events: readonly SagaEvent[]) => void;

/** Seqs below this are released one by one; a larger jump (a restored database, a sequence reset) is taken whole. */
const MAX_GAP = 10_000;

export class CommitOrder {
  private released = 0;
  /** Seqs at or below this were committed before start; one arriving late is passed on once, out of order. */
  private startSeq = 0;
  private readonly held = new Map<number, SagaEvent>();
  /** When each missing seq was first found missing (absent or in flight). */
  private readonly missingSince = new Map<number, number>();
  /** Seqs given up as rolled back: if one arrives after all, it is still passed on (late beats never). */
  private readonly skipped = new Set<number>();
  /** Absent seqs given up on and not yet passed by the horizon. */
  private readonly rolledBack = new Set<number>();
  private readonly listeners = new Set<Listener>();
  private timer?: NodeJS.Timeout;
  private checking = false;
  private stopped = false;

  constructor(
    private readonly config: CommitOrderConfig,
    private readonly deps: { sagaLog: Pick<SagaLog, 'lastSeq' | 'seqStates' | 'bySeqs' | 'subscribe'>; log: Pick<Logger, 'warn'>; now?: () => number },
  ) {}

  /** Starts after the last committed seq and takes the local log's announcements from then on. */
  async start(): Promise<void> {
    this.startSeq = this.released = await this.deps.sagaLog.lastSeq();
    this.deps.sagaLog.subscribe((events) => this.accept(events));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The highest seq released: every event up to it has been handed on or will never exist. */
  get horizon(): number {
    return this.released;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes committed events from anywhere (this receiver's appends, another receiver's relay), in any order. */
  accept(events: readonly SagaEvent[]): void {
    const late: SagaEvent[] = [];
    for (const e of events) {
      if (e.seq > this.released) this.held.set(e.seq, e);
      else if (this.skipped.delete(e.seq) || e.seq <= this.startSeq) late.push(e);
      // Anything else at or below the horizon was released already: a repeat, dropped.
    }
    if (late.length > 0) {
      this.deps.log.warn({ seqs: late.map((e) => e.seq) }, 'saga events arrived after later ones were sent; passing them on out of order');
      this.emit(late);
    }
    this.release();
  }

  private release(): void {
    const out: SagaEvent[] = [];
    for (;;) {
      const next = this.released + 1;
      const event = this.held.get(next);
      if (event) {
        this.held.delete(next);
        this.rolledBack.delete(next);
        this.skipped.delete(next);
        out.push(event);
      } else if (!this.rolledBack.delete(next)) break;
      this.missingSince.delete(next);
      this.released = next;
    }
    if (out.length > 0) this.emit(out);
    if (this.held.size > 0) this.schedule();
  }

  private emit(events: readonly SagaEvent[]): void {
    for (const l of this.listeners) l(events);
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.checkGaps();
    }, this.config.pollMs);
    this.timer.unref();
  }

  /** Looks up what became of the seqs between the horizon and the lowest held event. */
  private async checkGaps(): Promise<void> {
    if (this.checking || this.held.size === 0) return;
    this.checking = true;
    try {
      let lowest = Infinity;
      for (const seq of this.held.keys()) lowest = Math.min(lowest, seq);
      if (lowest - this.released > MAX_GAP) {
        this.deps.log.warn({ from: this.released, to: lowest }, 'saga seq jumped; releasing from the new position');
        this.released = lowest - 1;
        this.missingSince.clear();
        this.rolledBack.clear();
        return;
      }
      const missing: number[] = [];
      for (let s = this.released + 1; s < lowest; s++) missing.push(s);
      const states = await this.deps.sagaLog.seqStates(missing);
      await this.settle(missing, states);
    } catch (err) {
      this.deps.log.warn({ err: errorMessage(err) }, 'could not look up a gap in the saga log; retrying');
    } finally {
      this.checking = false;
      this.release();
    }
  }

  private async settle(missing: readonly number[], states: ReadonlyMap<number, SeqState>): Promise<void> {
    const now = this.deps.now?.() ?? Date.now();
    const committed = missing.filter((s) => states.get(s) === 'committed');
    if (committed.length > 0) for (const e of await this.deps.sagaLog.bySeqs(committed)) if (e.seq > this.released) this.held.set(e.seq, e);
    for (const s of missing) {
      const state = states.get(s);
      if (state === 'committed' || this.held.has(s)) {
        this.missingSince.delete(s);
        continue;
      }
      const since = this.missingSince.get(s);
      if (since === undefined) {
        this.missingSince.set(s, now);
        continue;
      }
      if (now - since < (state === 'absent' ? this.config.graceMs : this.config.maxHoldMs)) continue;
      // Rolled back, or open for too long. Remembered: if it commits after all, it is still passed on, late.
      if (state !== 'absent') this.deps.log.warn({ seq: s, heldMs: now - since }, 'a saga append has been open too long; sending later events without it');
      this.missingSince.delete(s);
      this.rolledBack.add(s);
      this.skipped.add(s);
      if (this.skipped.size > MAX_GAP) this.skipped.delete(this.skipped.values().next().value!);
    }
  }
}
