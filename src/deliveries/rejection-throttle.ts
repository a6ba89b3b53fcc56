// Refused deliveries are recorded so an operator can see why a forge's webhook fails, but a flood of them must
// not grow the ledger without end (20,000 unsigned requests were 16 MB of rows and a 190 MB WAL spike). Per
// sending address, the first `perMinute` refusals in a minute are recorded one by one; the rest of that minute
// are answered 429 and counted, and become one aggregate row when the minute is over.

export interface ThrottleConfig {
  /** NORN_REJECTED_PER_MINUTE. */
  readonly perMinute: number;
  readonly windowMs?: number;
  /** Addresses tracked at once; the oldest window is closed early beyond it, so memory stays bounded. */
  readonly maxSources?: number;
}

/** Refusals of one address in one window that were counted, not recorded one by one. */
export interface RejectionAggregate {
  readonly source: string;
  readonly count: number;
  readonly firstAt: string;
  readonly lastAt: string;
  readonly lastReason: string;
  /** How many of them would have been answered with each status (401, 400…). */
  readonly statuses: Readonly<Record<string, number>>;
}

export type Admission = { readonly record: true } | { readonly record: false; readonly retryAfterSeconds: number };

interface Window {
  start: number;
  rejected: number;
  suppressed: number;
  firstSuppressedAt: number;
  lastSuppressedAt: number;
  lastReason: string;
  statuses: Record<string, number>;
}

export class RejectionThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly ended: RejectionAggregate[] = [];
  private readonly windowMs: number;
  private readonly maxSources: number;

  constructor(private readonly config: ThrottleConfig) {
    this.windowMs = config.windowMs ?? 60_000;
    this.maxSources = config.maxSources ?? 10_000;
  }

  /** Counts one refusal from `source`: record it, or (over the limit) answer 429 and leave it to the aggregate. */
  admit(source: string, status: number, reason: string, now = Date.now()): Admission {
    const window = this.windowOf(source, now);
    window.rejected++;
    if (window.rejected <= this.config.perMinute) return { record: true };
    this.aggregate(window, status, reason, now);
    return { record: false, retryAfterSeconds: Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000)) };
  }

  /**
   * Counts a refusal that is never recorded one by one (the receiver was too busy to read it: recording each would
   * add writes under exactly that load), into the aggregate of its address, without using up the address's limit.
   */
  count(source: string, status: number, reason: string, now = Date.now()): void {
    this.aggregate(this.windowOf(source, now), status, reason, now);
  }

  private windowOf(source: string, now: number): Window {
    let window = this.windows.get(source);
    if (window && now - window.start >= this.windowMs) {
      this.close(source, window);
      window = undefined;
    }
    if (!window) {
      if (this.windows.size >= this.maxSources) {
        const [oldest, oldestWindow] = this.windows.entries().next().value!;
        this.close(oldest, oldestWindow);
      }
      window = { start: now, rejected: 0, suppressed: 0, firstSuppressedAt: 0, lastSuppressedAt: 0, lastReason: '', statuses: {} };
      this.windows.set(source, window);
    }
    return window;
  }

  private aggregate(window: Window, status: number, reason: string, now: number): void {
    if (window.suppressed === 0) window.firstSuppressedAt = now;
    window.suppressed++;
    window.lastSuppressedAt = now;
    window.lastReason = reason;
    window.statuses[status] = (window.statuses[status] ?? 0) + 1;
  }

  /** Aggregates of the windows that are over (all of them with `all`, at shutdown), each handed out once. */
  drain(now = Date.now(), all = false): RejectionAggregate[] {
    for (const [source, window] of this.windows) if (all || now - window.start >= this.windowMs) this.close(source, window);
    return this.ended.splice(0);
  }

  private close(source: string, w: Window): void {
    this.windows.delete(source);
    if (w.suppressed === 0) return;
    this.ended.push({
      source,
      count: w.suppressed,
      firstAt: new Date(w.firstSuppressedAt).toISOString(),
      lastAt: new Date(w.lastSuppressedAt).toISOString(),
      lastReason: w.lastReason,
      statuses: w.statuses,
    });
  }
}
